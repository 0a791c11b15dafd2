-- Bulk loading: one row in imports per COPY into an upload_* target, and
-- every rejected input row in import_rejects with its line number and why.

-- imports (100_registry_tables.sql) is the cause that registry rows and
-- history point to.  A COPY into a target is one import: importer is the
-- user who ran it, created_at when the statement started; the columns below
-- are NULL for imports that are not a COPY (register_import).
--   rows_read = rows_loaded + rows_rejected, always;
--   rows_already_present counts the loaded rows that changed nothing.
ALTER TABLE imei_registry.imports
    ADD COLUMN target               text,           -- upload_connections, ...
    ADD COLUMN finished_at          timestamptz,    -- NULL while it runs
    ADD COLUMN rows_read            bigint,
    ADD COLUMN rows_loaded          bigint,         -- accepted: new or already present
    ADD COLUMN rows_rejected        bigint,
    ADD COLUMN rows_already_present bigint,         -- of rows_loaded: changed nothing
    ADD CHECK ((target IS NULL) = (rows_read IS NULL)
               AND (rows_read IS NULL) = (rows_loaded IS NULL)
               AND (rows_read IS NULL) = (rows_rejected IS NULL)
               AND (rows_read IS NULL) = (rows_already_present IS NULL)),
    ADD CHECK (rows_loaded + rows_rejected = rows_read),
    ADD CHECK (rows_already_present BETWEEN 0 AND rows_loaded);
COMMENT ON COLUMN imei_registry.imports.target IS
    'the imei_registry.upload_* table a COPY loaded; NULL for register_import()';

-- Why a row was rejected: stable codes, a contract like the status reasons.
CREATE TABLE imei_registry.import_reject_reasons (
    code        text PRIMARY KEY,
    description text NOT NULL
);
INSERT INTO imei_registry.import_reject_reasons (code, description) VALUES
    ('missing_value',        'a required column is empty'),
    ('non_digits',           'characters other than digits (or an accepted hyphen grouping)'),
    ('wrong_length',         'not the number of digits the column takes'),
    ('bad_check_digit',      'the Luhn check digit does not match'),
    ('leading_zero_lost',    '14 digits that are a valid IMEI with a 0 in front: the leading zero was lost (spreadsheet)'),
    ('duplicate_in_file',    'the same key as an earlier accepted row of the same import'),
    ('bad_date',             'not a date or timestamp'),
    ('bad_value',            'a value out of its range'),
    ('unknown_operator',     'no such operator in imei_registry.operators'),
    ('unknown_application',  'no such application'),
    ('forbidden_transition', 'the status change is forbidden by the rules (SQLSTATE IR001)'),
    ('operator_not_yours',   'the row names an operator that imei_registry.operator_roles does not bind to the loading login'),
    ('too_long',             'the row is over 8192 bytes, or a value would make a registry note over 500 characters');

CREATE TABLE imei_registry.import_rejects (
    import_id   bigint NOT NULL REFERENCES imei_registry.imports ON DELETE CASCADE,
    line_number bigint NOT NULL,    -- physical line in the file, header counted
    raw         text[] NOT NULL,    -- the row's values as read, in column order
                                    -- (a too_long row: each cut to 256 bytes)
    reason      text NOT NULL REFERENCES imei_registry.import_reject_reasons,
    message     text NOT NULL,
    PRIMARY KEY (import_id, line_number)
);

SELECT pg_catalog.pg_extension_config_dump('imei_registry.import_rejects', '');
