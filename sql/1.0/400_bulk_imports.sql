-- Bulk loading: one row in imports per COPY into an upload_* target, and
-- every rejected input row in import_rejects with its line number and why.

CREATE TABLE imei_registry.imports (
    import_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target               text NOT NULL,          -- upload_connections, ...
    imported_by          name NOT NULL,          -- current_user of the COPY
    started_at           timestamptz NOT NULL,   -- statement start
    finished_at          timestamptz,            -- NULL while it runs
    rows_read            bigint NOT NULL DEFAULT 0,
    rows_loaded          bigint NOT NULL DEFAULT 0,  -- accepted, new or already present
    rows_rejected        bigint NOT NULL DEFAULT 0,
    rows_already_present bigint NOT NULL DEFAULT 0,  -- of rows_loaded: changed nothing
    CHECK (rows_loaded + rows_rejected = rows_read),
    CHECK (rows_already_present BETWEEN 0 AND rows_loaded)
);
COMMENT ON TABLE imei_registry.imports IS
    'one row per COPY (or INSERT statement) into an imei_registry.upload_* target';

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
    ('forbidden_transition', 'the status change is forbidden by the rules (SQLSTATE IR001)');

CREATE TABLE imei_registry.import_rejects (
    import_id   bigint NOT NULL REFERENCES imei_registry.imports ON DELETE CASCADE,
    line_number bigint NOT NULL,    -- physical line in the file, header counted
    raw         text[] NOT NULL,    -- the row's values as read, in column order
    reason      text NOT NULL REFERENCES imei_registry.import_reject_reasons,
    message     text NOT NULL,
    PRIMARY KEY (import_id, line_number)
);

SELECT pg_catalog.pg_extension_config_dump('imei_registry.imports', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.import_rejects', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.imports_import_id_seq', '');
