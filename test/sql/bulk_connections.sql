-- upload_connections: operators' first-connection reports.  Every reason a
-- row can be rejected for, the line numbers (header counted, a quoted
-- newline counted), the counts, a second load, atomic mode.
-- IMEIs of TAC 35990040 belong to this file.
SET client_min_messages = warning;
SET timezone = 'UTC';
INSERT INTO imei_registry.operators (code, name)
    VALUES ('kz_test_op', 'Bulk test operator'), ('kz_test_op2', 'Bulk test operator 2');
-- known before the report, connected before the rules: a later connection changes nothing
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
    VALUES ('359900400000053', 'white', 'grandfathered', '2025-03-01 12:00+05');

CREATE TEMP VIEW last_import AS
    SELECT target, importer = current_user AS by_me,
           finished_at >= created_at AS finished,
           rows_read, rows_loaded, rows_rejected, rows_already_present
      FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1;
CREATE TEMP VIEW last_rejects AS
    SELECT line_number, reason, raw, message FROM imei_registry.import_rejects
     WHERE import_id = (SELECT max(import_id) FROM imei_registry.imports)
     ORDER BY line_number;
CREATE TEMP VIEW my_imeis AS
    SELECT r.imei, r.status, r.reason, r.first_seen_at, r.first_operator,
           r.grey_last_day, r.import_id = (SELECT min(i.import_id) FROM imei_registry.imports i
                                             WHERE i.target = 'upload_connections'
                                               AND i.finished_at IS NOT NULL) AS by_first_load
      FROM imei_registry.registry r
     WHERE imei_registry.imei_tac(r.imei) = '35990040' ORDER BY r.imei;

\copy imei_registry.upload_connections from 'test/data/bulk_connections.csv' with (format csv, header true)
SELECT * FROM last_import;
SELECT * FROM last_rejects;
SELECT * FROM my_imeis;

-- the same file again: nothing new, the same rejects
\copy imei_registry.upload_connections from 'test/data/bulk_connections.csv' with (format csv, header true)
SELECT * FROM last_import;
SELECT line_number, reason FROM last_rejects;
SELECT * FROM my_imeis;

-- atomic: any bad row aborts the COPY; it says how many and the first reasons
SET imei_registry.import_atomic = on;
SELECT count(*) AS imports_before FROM imei_registry.imports \gset
\copy imei_registry.upload_connections from 'test/data/bulk_connections.csv' with (format csv, header true)
SELECT count(*) = :imports_before AS no_import_recorded FROM imei_registry.imports;
-- all good: it loads; an INSERT numbers its rows as if a header came first
INSERT INTO imei_registry.upload_connections (operator, imei, connected_at)
    VALUES ('kz_test_op', imei_registry.imei_from_body('35990040000014')::text, '2026-01-09 12:00+05');
SELECT * FROM last_import;
INSERT INTO imei_registry.upload_connections (operator, imei, connected_at)
    VALUES ('kz_test_op', '359900400000137', '2026-01-09 12:00+05'),
           ('kz_test_op', '359900400000138', '2026-01-09 12:00+05');
RESET imei_registry.import_atomic;
INSERT INTO imei_registry.upload_connections (operator, imei, connected_at)
    VALUES ('kz_test_op', '359900400000137', '2026-01-09 12:00+05'),
           ('kz_test_op', '359900400000138', '2026-01-09 12:00+05');
SELECT * FROM last_import;
SELECT line_number, reason, message FROM last_rejects;
-- the target never holds a row
SELECT count(*) FROM imei_registry.upload_connections;
-- the row trigger alone cannot run outside an import
SELECT imei_registry.bulk_import_row();
-- the history is the registry trigger's: one row per new grey IMEI, with
-- the import as its cause; the known white IMEI has none from the report
SELECT h.from_status, h.to_status, h.reason, h.import_id = i.first_import AS by_first_load,
       count(*)
  FROM imei_registry.history h,
       (SELECT min(import_id) AS first_import FROM imei_registry.imports
         WHERE target = 'upload_connections' AND finished_at IS NOT NULL) i
 WHERE imei_registry.imei_tac(h.imei) = '35990040'
 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;

-- an operator loads with INSERT on the target alone: the work runs as the
-- target's owner, the import records who ran it
CREATE ROLE regress_bulk_loader IN ROLE imei_registry_operator;
SET ROLE regress_bulk_loader;
INSERT INTO imei_registry.upload_connections (operator, imei, connected_at)
    VALUES ('kz_test_op', '359900400000152', '2026-01-10 09:00+05');
INSERT INTO imei_registry.registry (imei, status, reason)
    VALUES ('359900400000160', 'white', 'lawful_import');
UPDATE imei_registry.imports SET note = 'mine';   -- it reads its own (row-level security), writes none
RESET ROLE;
SELECT importer, target, rows_loaded FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1;
SELECT status, first_operator FROM imei_registry.registry WHERE imei OPERATOR(pg_catalog.=) '359900400000152';
DROP ROLE regress_bulk_loader;

-- blanks, tabs and a carriage return around a value are not part of it; a
-- value of blanks alone is missing
INSERT INTO imei_registry.upload_connections (operator, imei, connected_at)
    VALUES (E' kz_test_op\t', E'\t 359900400000178  ', E'2026-01-11 09:00+05\r'),
           ('kz_test_op', E' \t ', '2026-01-11 09:00+05'),
           ('   ', '359900400000186', '2026-01-11 09:00+05');
SELECT * FROM last_import;
SELECT line_number, reason, message FROM last_rejects;
SELECT status, first_seen_at, first_operator FROM imei_registry.registry
 WHERE imei OPERATOR(pg_catalog.=) '359900400000178';

-- nearby IMEIs of a batch are read by one range scan of the key, merged
-- with the batch: a known one, an unknown one between known ones, a known
-- one whose row has a newer version (blocked in this transaction) and one
-- whose first connection moves earlier are answered as one probe each
-- would answer them
BEGIN;
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at, first_operator)
SELECT imei_registry.imei_from_body('359900400' || s), 'grey', 'unverified',
       '2026-01-12 09:00+05', 'kz_test_op'
  FROM unnest(ARRAY['00019', '00021', '00022']) s;
SELECT imei_registry.block(imei_registry.imei_from_body('35990040000021'), 'gsma_blocked', 'range scan test');
INSERT INTO imei_registry.upload_connections (operator, imei, connected_at)
SELECT 'kz_test_op', imei_registry.imei_from_body('359900400' || s)::text, at
  FROM (VALUES ('00019', '2026-01-13 09:00+05'), ('00020', '2026-01-13 09:00+05'),
               ('00021', '2026-01-13 09:00+05'), ('00022', '2026-01-11 09:00+05')) v(s, at);
SELECT * FROM last_import;
SELECT imei, status, reason, first_seen_at, grey_last_day FROM imei_registry.registry
 WHERE imei BETWEEN imei_registry.imei_from_body('35990040000019')
                AND imei_registry.imei_from_body('35990040000022')
 ORDER BY imei;
COMMIT;
