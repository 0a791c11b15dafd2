-- Stored text has limits: a loaded row is at most 8192 bytes (a longer one
-- is rejected as too_long, and its reject keeps the first 256 bytes of each
-- value); a block-list reason must fit a registry note of 500 characters.
-- Rejected rows stay accounted for.  IMEIs of TAC 35990046 belong to this file.
SET client_min_messages = warning;
SET search_path = imei_registry, public;
INSERT INTO operators (code, name) VALUES ('limits_op', 'Limits test operator');
CREATE FUNCTION pg_temp.t(n int) RETURNS text
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('35990046' || lpad(n::text, 6, '0'))::text $$;

INSERT INTO upload_connections (operator, imei, connected_at) VALUES
    ('limits_op', pg_temp.t(1), '2026-01-06 10:00+05'),
    ('limits_op', repeat('3', 9000), '2026-01-06 10:00+05'),
    ('limits_op', pg_temp.t(2), repeat('x', 8100) || 'é' || repeat('y', 100));
SELECT target, rows_read, rows_loaded, rows_rejected FROM imports ORDER BY import_id DESC LIMIT 1;
SELECT line_number, reason, message, array_length(raw, 1) AS values,
       (SELECT array_agg(octet_length(v)) FROM unnest(raw) v) AS bytes_kept
FROM import_rejects WHERE import_id = (SELECT max(import_id) FROM imports) ORDER BY line_number;

INSERT INTO upload_blocklist (imei, listed_on, reason) VALUES
    (pg_temp.t(3), '2026-01-10', repeat('r', 472)),
    (pg_temp.t(4), '2026-01-10', repeat('r', 473)),
    (pg_temp.t(5), '2026-01-10', repeat('ж', 2000));
SELECT target, rows_read, rows_loaded, rows_rejected FROM imports ORDER BY import_id DESC LIMIT 1;
SELECT line_number, reason, message FROM import_rejects
WHERE import_id = (SELECT max(import_id) FROM imports) ORDER BY line_number;
SELECT imei, status, length(note) FROM registry WHERE imei_tac(imei) = '35990046' ORDER BY imei;
SELECT length(note) AS history_note FROM history WHERE imei_tac(imei) = '35990046' AND note IS NOT NULL;

-- Direct writes over the limit are errors (22001), not truncated notes.
SELECT block(pg_temp.t(6)::imei, 'counterfeit', repeat('n', 501));
SELECT block(pg_temp.t(6)::imei, 'counterfeit', repeat('n', 500));
SELECT reinstate(pg_temp.t(6)::imei, repeat('n', 501));

-- Cleanup: registry rows are never deleted; the tables go with the extension.
\i test/fixtures/fresh_registry.sql
RESET client_min_messages;
