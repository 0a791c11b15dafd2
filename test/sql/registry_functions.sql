-- The registry's functions: report_connection, register_import,
-- check_imei, block, reinstate, changes.  IMEIs of this file: TAC 86000002.
SET search_path = imei_registry, public;
SET timezone = 'UTC';

CREATE FUNCTION pg_temp.t(n int) RETURNS imei_registry.imei
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('86000002' || lpad(n::text, 6, '0')) $$;
INSERT INTO operators (code, name) VALUES ('reg_test_op', 'Registry test operator');

-- The grey period: 30 days from the local (Asia/Almaty, UTC+5) date of the
-- first connection.  22:00 UTC on 1 May is already 2 May in Almaty.
SELECT grey_last_day('2025-05-01 18:59:59+00') AS before_local_midnight,
       grey_last_day('2025-05-01 19:00:00+00') AS after_local_midnight,
       local_date('2025-05-01 19:00:00+00') AS local_day;

-- report_connection: a new IMEI becomes grey, with its first connection.
SELECT report_connection(pg_temp.t(1), 'reg_test_op', '2025-05-01 22:00+00');
SELECT status, reason, first_seen_at, first_operator, grey_last_day
FROM registry WHERE imei = pg_temp.t(1);
-- a known IMEI keeps its status and its first connection
SELECT report_connection(pg_temp.t(1), 'reg_test_op', '2025-05-20 10:00+00');
SELECT first_seen_at, grey_last_day FROM registry WHERE imei = pg_temp.t(1);
SELECT count(*) AS history_rows FROM history WHERE imei = pg_temp.t(1);
-- the IMEISV a network reports: same IMEI
SELECT report_connection(('86000002' || '000001' || '42')::imeisv, 'reg_test_op');
SELECT report_connection(('86000002' || '000002' || '07')::imeisv, 'reg_test_op', '2025-06-10 12:00+00');
SELECT imei, status, grey_last_day FROM registry WHERE imei = pg_temp.t(2);
-- an unknown operator is refused, known IMEI or not
\set VERBOSITY default
SELECT report_connection(pg_temp.t(3), 'no_such_op');
SELECT report_connection(pg_temp.t(1), 'no_such_op');
\set VERBOSITY terse
SELECT count(*) AS not_added FROM registry WHERE imei = pg_temp.t(3);

-- register_import: new IMEIs start white; known ones keep their status.
SELECT import_id IS NOT NULL AS has_import, imei, status, registered
FROM register_import(ARRAY[pg_temp.t(10), pg_temp.t(11), pg_temp.t(11), pg_temp.t(1)],
                     'ACME Import LLP', 'invoice 5');
SELECT r.status, r.reason, i.importer, i.note, h.import_id = r.import_id AS history_has_import
FROM registry r JOIN imports i USING (import_id)
JOIN history h ON h.imei = r.imei
WHERE r.imei = pg_temp.t(10);
-- a device first seen in a network after its import keeps white
SELECT report_connection(pg_temp.t(10), 'reg_test_op', '2025-07-01 08:00+00');
SELECT status, first_seen_at, first_operator FROM registry WHERE imei = pg_temp.t(10);
SELECT * FROM register_import(ARRAY[NULL::imei], 'x');
SELECT * FROM register_import(ARRAY[pg_temp.t(12)], ' ');

-- check_imei: one row, also for an IMEI the register does not know.
SELECT status, reason, since = (SELECT since FROM registry WHERE imei = pg_temp.t(10)) AS since_ok,
       grey_last_day, days_left
FROM check_imei(pg_temp.t(10));
SELECT status, reason, grey_last_day,
       days_left = grey_last_day - local_date(now()) AS days_left_ok
FROM check_imei(pg_temp.t(1));
SELECT * FROM check_imei(pg_temp.t(99));
SELECT count(*) FROM check_imei(pg_temp.t(99));
-- its locks on the registry and its key stay until the end of the
-- transaction, as a query's: a second check finds them held
BEGIN;
SELECT status FROM check_imei(pg_temp.t(10));
SELECT (check_imei(pg_temp.t(10))).status;
SELECT c.relname, l.mode, l.granted FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND c.relname IN ('registry', 'registry_pkey')
 ORDER BY 1;
COMMIT;

-- block and reinstate: registry decisions.
SELECT block(pg_temp.t(10), 'gsma_blocked', 'GSMA list of 2025-07-02');
SELECT block(pg_temp.t(20), 'counterfeit');    -- not yet in the register
SELECT status, reason, note FROM registry WHERE imei IN (pg_temp.t(10), pg_temp.t(20)) ORDER BY imei;
\set VERBOSITY default
SELECT block(pg_temp.t(1), 'lawful_import');
SELECT block(pg_temp.t(21), 'grey_expired');   -- new IMEIs are not expired
SELECT reinstate(pg_temp.t(10), '');
SELECT reinstate(pg_temp.t(1), 'no reason to');
SELECT reinstate(pg_temp.t(22), 'unknown');
\set VERBOSITY terse
SELECT reinstate(pg_temp.t(10), 'GSMA listing withdrawn on 2025-07-05');
SELECT from_status, to_status, reason, note, import_id IS NOT NULL AS has_import FROM history
WHERE imei = pg_temp.t(10) ORDER BY id;

-- changes: the feed, resumable after the last id seen.  The feed returns a
-- row once no older transaction of the cluster is still running; wait for
-- that (another job of the cluster may hold one for a moment).
CREATE FUNCTION pg_temp.feed_caught_up() RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    mine xid8 := (SELECT max(xid) FROM imei_registry.history);
BEGIN
    FOR i IN 1 .. 600 LOOP
        IF pg_snapshot_xmin(pg_current_snapshot()) > mine THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN false;
END $$;
SELECT pg_temp.feed_caught_up();
CREATE TEMP TABLE seen AS SELECT * FROM changes(0, 1000000) WHERE imei_tac(imei) = '86000002';
SELECT imei, from_status, to_status, reason FROM seen ORDER BY id;
SELECT max(id) AS last FROM changes(0, 1000000) \gset
SELECT count(*) AS nothing_new FROM changes(:last, 10);
SELECT block(pg_temp.t(11), 'counterfeit');
SELECT pg_temp.feed_caught_up();
SELECT imei, from_status, to_status, reason FROM changes(:last, 10);
-- paging: max_rows rows at a time, each page resumes after the last
SELECT count(*) = 3 AS three FROM changes(0, 3);
\set VERBOSITY default
SELECT * FROM changes(-1, 10);
SELECT * FROM changes(0, 0);
SELECT * FROM changes(999999999, 10);
\set VERBOSITY terse

-- A black IMEI whose only fault was an expired grey period can still be
-- blocked for good: block() changes its reason (with a history row), and
-- then no application can make it white.
INSERT INTO registry (imei, status, reason, first_seen_at)
VALUES (pg_temp.t(40), 'grey', 'unverified', '2025-05-01 12:00+05');
UPDATE registry SET status = 'black', reason = 'grey_expired' WHERE imei = pg_temp.t(40);
SELECT block(pg_temp.t(40), 'gsma_blocked', 'GSMA list of 2025-11-01');
SELECT status, reason, note FROM registry WHERE imei = pg_temp.t(40);
SELECT from_status, to_status, reason, note FROM history
WHERE imei = pg_temp.t(40) ORDER BY id;
UPDATE registry SET status = 'white', reason = 'application_approved' WHERE imei = pg_temp.t(40);
-- Blocked already: the same block again changes nothing and adds no history.
SELECT block(pg_temp.t(40), 'gsma_blocked', 'GSMA list of 2025-11-01');
SELECT count(*) AS history_rows FROM history WHERE imei = pg_temp.t(40);
-- A cause set again to the value it had is set, not stale: a reinstatement
-- whose written reason repeats the block's note keeps it.
SELECT block(pg_temp.t(41), 'counterfeit', 'court order 5');
SELECT reinstate(pg_temp.t(41), 'court order 5');
SELECT status, reason, note FROM registry WHERE imei = pg_temp.t(41);

-- A report of a new IMEI answers the status its row was written with (the
-- rules' entry for a first connection, through the transition trigger):
-- grey in the rules, white grandfathered before imei_registry.rules_start,
-- each with its history row.
SELECT report_connection(pg_temp.t(50), 'reg_test_op', '2025-06-01 10:00+05');
SELECT report_connection(pg_temp.t(51), 'reg_test_op', '2024-06-01 10:00+05');
SELECT imei_snr(r.imei) AS serial, r.status, r.reason, h.from_status, h.to_status, h.reason AS history_reason
  FROM registry r JOIN history h USING (imei)
 WHERE r.imei IN (pg_temp.t(50), pg_temp.t(51)) ORDER BY r.imei, h.id;

-- Cleanup: registry rows are never deleted; the tables go with the extension.
SET client_min_messages = warning;
\i test/fixtures/fresh_registry.sql
RESET client_min_messages;
