-- Grey-period expiry: CALL imei_registry.expire_grey_period() moves every
-- grey IMEI whose last day has passed (Asia/Almaty) to black, through the
-- registry's transition trigger, in committed batches.  This file's IMEIs
-- have TAC 01990417.
\pset null '(null)'
\set SHOW_CONTEXT never
SET DateStyle = ISO;

CREATE FUNCTION pg_temp.grey_imei(serial int) RETURNS imei_registry.imei
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT imei_registry.imei_from_body('01990417' || lpad(serial::text, 6, '0')) $$;

\i test/fixtures/approved.sql

-- the procedure follows pg_cron's rules: no SET clause, not SECURITY DEFINER
SELECT p.oid::regprocedure, p.prokind, p.prosecdef, p.proconfig, l.lanname
  FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
 WHERE p.oid IN ('imei_registry.expire_grey_period(integer)'::regprocedure,
                 'imei_registry.schedule_grey_expiry(text)'::regprocedure)
 ORDER BY 1::text;

-- Expire what earlier files may have left due, so the counts below are ours.
SET client_min_messages = warning;
CALL imei_registry.expire_grey_period();
RESET client_min_messages;

-- Grey rows around the boundary: last day yesterday (due), today (its last
-- day: not due) and tomorrow, 40 days ago; one white and one black row.
-- "today" is the local date in Almaty, whatever the session's zone.
SET TimeZone = 'America/Los_Angeles';
CREATE TEMP TABLE grey_today AS SELECT imei_registry.local_date(now()) AS d;
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
SELECT pg_temp.grey_imei(s), 'grey', 'unverified',
       ((SELECT d FROM grey_today) + delta - 30 + time '00:00') AT TIME ZONE 'Asia/Almaty'
  FROM (VALUES (1, -1), (2, -1), (3, -1), (4, -40), (5, 0), (6, 1), (7, 30),
               (8, -1), (9, -1)) AS v(s, delta);
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
VALUES (pg_temp.grey_imei(10), 'white', 'grandfathered', '2025-03-01 12:00+05');

-- the rows due are exactly those whose period has ended now
SELECT imei_registry.imei_snr(imei) AS serial,
       grey_last_day - (SELECT d FROM grey_today) AS last_day_vs_today,
       grey_last_day < imei_registry.local_date(now()) AS due
  FROM imei_registry.registry
 WHERE imei_registry.imei_tac(imei) = '01990417' AND status = 'grey'
 ORDER BY imei;

-- An application approved the same minute, before the expiry: no longer grey,
-- so the expiry leaves it alone.
UPDATE imei_registry.registry SET status = 'white', reason = 'application_approved',
       application_id = pg_temp.approved(imei)
 WHERE imei = pg_temp.grey_imei(8);

-- not in a transaction block: the procedure commits
BEGIN;
CALL imei_registry.expire_grey_period();
ROLLBACK;
CALL imei_registry.expire_grey_period(0);

SET client_min_messages = warning;   -- the NOTICE carries timings
CALL imei_registry.expire_grey_period(2);
RESET client_min_messages;
SELECT imei_registry.imei_snr(imei) AS serial, status, reason,
       grey_last_day - (SELECT d FROM grey_today) AS last_day_vs_today
  FROM imei_registry.registry
 WHERE imei_registry.imei_tac(imei) = '01990417'
 ORDER BY imei;
-- one history row per move, grey to black, written by the trigger
SELECT imei_registry.imei_snr(imei) AS serial, from_status, to_status, reason
  FROM imei_registry.history
 WHERE imei_registry.imei_tac(imei) = '01990417' AND from_status IS NOT NULL
 ORDER BY imei, id;
-- 5 due rows in batches of 2: 3 batches; the run is logged and finished
SELECT batch_size, expired, batches, finished_at IS NOT NULL AS finished,
       max_batch_ms >= 0 AS timed
  FROM imei_registry.grey_expiry_runs ORDER BY run_id DESC LIMIT 1;

-- Idempotent: nothing left to do, nothing changes.
SET client_min_messages = warning;
CALL imei_registry.expire_grey_period();
RESET client_min_messages;
SELECT expired, batches, finished_at IS NOT NULL AS finished
  FROM imei_registry.grey_expiry_runs ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS history_rows FROM imei_registry.history
 WHERE imei_registry.imei_tac(imei) = '01990417' AND reason = 'grey_expired';

-- An application approved the same minute, after the expiry: a device black
-- only because its grey period ended can still be approved.
UPDATE imei_registry.registry SET status = 'white', reason = 'application_approved',
       application_id = pg_temp.approved(imei)
 WHERE imei = pg_temp.grey_imei(9);
SELECT imei_registry.imei_snr(imei) AS serial, from_status, to_status, reason,
       application_id IS NOT NULL AS has_application
  FROM imei_registry.history
 WHERE imei IN (pg_temp.grey_imei(8), pg_temp.grey_imei(9))
 ORDER BY imei, id;

-- From a report to black: a first connection at 23:30 UTC on June 1 is
-- June 2 in Almaty, so with a 10-day period the last day is June 12.
INSERT INTO imei_registry.operators (code, name) VALUES ('grey_test_op', 'grey tests');
SET imei_registry.grey_period_days = 10;
SELECT imei_registry.report_connection(pg_temp.grey_imei(12), 'grey_test_op',
                                       '2025-06-01 23:30+00');
RESET imei_registry.grey_period_days;
SELECT status, reason, first_seen_at AT TIME ZONE 'UTC' AS first_seen_utc, grey_last_day
  FROM imei_registry.registry WHERE imei = pg_temp.grey_imei(12);
SET client_min_messages = warning;
CALL imei_registry.expire_grey_period();
RESET client_min_messages;
SELECT from_status, to_status, reason FROM imei_registry.history
 WHERE imei = pg_temp.grey_imei(12) ORDER BY id;

-- Who may run it: the registry's admin role, not everyone.
CREATE ROLE grey_expiry_admin IN ROLE imei_registry_admin;
CREATE ROLE grey_expiry_nobody;
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
VALUES (pg_temp.grey_imei(11), 'grey', 'unverified',
        ((SELECT d FROM grey_today) - 31 + time '00:00') AT TIME ZONE 'Asia/Almaty');
SET ROLE grey_expiry_nobody;
CALL imei_registry.expire_grey_period();
SET ROLE grey_expiry_admin;
SET client_min_messages = warning;
CALL imei_registry.expire_grey_period();
RESET client_min_messages;
RESET ROLE;
SELECT run_by, expired, finished_at IS NOT NULL AS finished
  FROM imei_registry.grey_expiry_runs ORDER BY run_id DESC LIMIT 1;
SELECT status, reason FROM imei_registry.registry WHERE imei = pg_temp.grey_imei(11);
DROP ROLE grey_expiry_admin;
DROP ROLE grey_expiry_nobody;

-- The caller's search_path decides nothing: an operator ">" for bigint and
-- integer placed before pg_catalog is not the one the procedure runs.
CREATE SCHEMA grey_evil;
CREATE FUNCTION grey_evil.gt(bigint, integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE WARNING 'grey_evil.> ran';
    RETURN $1 OPERATOR(pg_catalog.>) $2;
END $$;
CREATE OPERATOR grey_evil.> (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = grey_evil.gt);
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
VALUES (pg_temp.grey_imei(13), 'grey', 'unverified',
        ((SELECT d FROM grey_today) - 31 + time '00:00') AT TIME ZONE 'Asia/Almaty');
SET search_path = grey_evil, pg_catalog, imei_registry;
SET client_min_messages = warning;
CALL imei_registry.expire_grey_period();
RESET client_min_messages;
SET search_path = public, imei_registry;
SELECT status, reason FROM imei_registry.registry WHERE imei = pg_temp.grey_imei(13);
DROP SCHEMA grey_evil CASCADE;

-- Scheduling: this database is not pg_cron's (the test cluster runs its jobs
-- from database postgres), so the error's hint is the call to run there --
-- for the admin role too, which may not read the superuser-only setting
-- cron.database_name itself.
SELECT imei_registry.schedule_grey_expiry();
CREATE ROLE grey_expiry_admin IN ROLE imei_registry_admin;
SET ROLE grey_expiry_admin;
SELECT imei_registry.schedule_grey_expiry();
RESET ROLE;
DROP ROLE grey_expiry_admin;

RESET TimeZone;
RESET DateStyle;
