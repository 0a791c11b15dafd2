-- Bulk loading: one row in imports (100_registry_tables.sql, with its
-- counts) per COPY into an upload_* target, and every rejected input row in
-- import_rejects with its line number and why.

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
    ('too_long',             'the row is over 8192 bytes, or a value would make a registry note over 500 characters'),
    ('bad_imsi',             'not an IMSI: 6 to 15 digits, a 3-digit MCC (2 to 9 first), a 2- or 3-digit MNC and the MSIN (ITU-T E.212)'),
    ('bad_msisdn',           'not an MSISDN: 7 to 15 E.164 digits, country code first, "+" optional');
