-- upload_blocklist: GSMA block-list matches go black (gsma_blocked).  Every
-- reason a row can be rejected for, with its line number; the leading zero a
-- spreadsheet drops; a transition the rules forbid (IR001) rejects one row
-- and not the COPY.  IMEIs of TAC 35990041 and 09990041 belong to this file.
SET client_min_messages = warning;
SET timezone = 'UTC';
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at) VALUES
    ('359900410000028', 'grey',  'unverified',   '2026-01-02 12:00+05');
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at) VALUES
    ('359900410000036', 'white', 'grandfathered', '2025-03-01 12:00+05'),
    ('359900410000044', 'black', 'gsma_blocked', NULL),
    ('359900410000051', 'white', 'grandfathered', '2025-03-01 12:00+05');
-- Stand-in for a rule that forbids this one change: the row must be rejected
-- with the rule's message, the rest of the file must load.
CREATE FUNCTION public.bulk_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'transition from % to % is forbidden for %', old.status, new.status, old.imei
        USING ERRCODE = 'IR001';
END $$;
CREATE TRIGGER bulk_test_refuse BEFORE UPDATE ON imei_registry.registry FOR EACH ROW
    WHEN (old.imei OPERATOR(pg_catalog.=) '359900410000051') EXECUTE FUNCTION public.bulk_test_refuse();

CREATE TEMP VIEW last_import AS
    SELECT target, rows_read, rows_loaded, rows_rejected, rows_already_present
      FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1;
CREATE TEMP VIEW last_rejects AS
    SELECT line_number, reason, raw, message FROM imei_registry.import_rejects
     WHERE import_id = (SELECT max(import_id) FROM imei_registry.imports)
     ORDER BY line_number;
CREATE TEMP VIEW my_imeis AS
    SELECT r.imei, r.status, r.reason, r.note, r.grey_last_day,
           r.import_id = (SELECT min(i.import_id) FROM imei_registry.imports i
                           WHERE i.target = 'upload_blocklist') AS by_first_load
      FROM imei_registry.registry r
     WHERE imei_registry.imei_tac(r.imei) IN ('35990041', '09990041') ORDER BY r.imei;

\copy imei_registry.upload_blocklist from 'test/data/bulk_blocklist.csv' with (format csv, header true)
SELECT * FROM last_import;
SELECT * FROM last_rejects;
SELECT * FROM my_imeis;

-- the same file again: nothing new
\copy imei_registry.upload_blocklist from 'test/data/bulk_blocklist.csv' with (format csv, header true)
SELECT * FROM last_import;
SELECT line_number, reason FROM last_rejects;
SELECT * FROM my_imeis;

-- atomic: the forbidden transition alone is enough to abort
SET imei_registry.import_atomic = on;
INSERT INTO imei_registry.upload_blocklist (imei, listed_on, reason)
    VALUES ('359900410000077', '2026-01-12', 'stolen'),
           ('359900410000051', '2026-01-12', 'stolen');
SELECT count(*) AS not_loaded FROM imei_registry.registry WHERE imei OPERATOR(pg_catalog.=) '359900410000077';
RESET imei_registry.import_atomic;

-- errors other than IR001 are not a row's fault: they abort the COPY
CREATE OR REPLACE FUNCTION public.bulk_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'disk on fire';
END $$;
\set VERBOSITY terse
INSERT INTO imei_registry.upload_blocklist (imei, listed_on, reason)
    VALUES ('359900410000051', '2026-01-12', 'stolen');
\set VERBOSITY default

DROP TRIGGER bulk_test_refuse ON imei_registry.registry;
DROP FUNCTION public.bulk_test_refuse();

-- the history is the registry trigger's, with the import as the cause
SELECT h.imei, h.from_status, h.to_status, h.reason, h.note,
       h.import_id = (SELECT min(i.import_id) FROM imei_registry.imports i
                       WHERE i.target = 'upload_blocklist') AS by_first_load
  FROM imei_registry.history h
 WHERE imei_registry.imei_tac(h.imei) IN ('35990041', '09990041')
 ORDER BY h.id;

-- without the stand-in rule the whole batch goes in one statement: the
-- refused IMEI goes black now, the rest is already present
\copy imei_registry.upload_blocklist from 'test/data/bulk_blocklist.csv' with (format csv, header true)
SELECT * FROM last_import;
SELECT line_number, reason FROM last_rejects;
SELECT imei, status, reason FROM imei_registry.registry
 WHERE imei OPERATOR(pg_catalog.=) '359900410000051';

-- A black IMEI whose only fault was an expired grey period is blocked for
-- good by a block-list match (black -> black, reason gsma_blocked, with its
-- history row); one blocked already is present.
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
VALUES ('359900410009003', 'grey', 'unverified', '2025-05-01 12:00+05');
UPDATE imei_registry.registry SET status = 'black', reason = 'grey_expired'
 WHERE imei OPERATOR(pg_catalog.=) '359900410009003';
COPY imei_registry.upload_blocklist FROM STDIN (FORMAT csv, HEADER true);
imei,listed_on,reason
359900410009003,2025-11-01,stolen
359900410000051,2025-11-01,stolen
\.
SELECT * FROM last_import;
SELECT status, reason FROM imei_registry.registry
 WHERE imei OPERATOR(pg_catalog.=) '359900410009003';
SELECT from_status, to_status, reason FROM imei_registry.history
 WHERE imei OPERATOR(pg_catalog.=) '359900410009003' ORDER BY id;
