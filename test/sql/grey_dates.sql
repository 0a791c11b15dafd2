-- The dates of the grey period, whoever writes: the earliest connection
-- wins (single reports and files), plausible times only, the period a row's
-- own fact, the check on and after the last day, devices from before the
-- rules, and the hold of a pending application.  Dates are relative to the
-- server's clock; the zone of Almaty has no daylight saving, so a shift by
-- whole days keeps the local time of day.  IMEIs of this file: TAC 86000025.
SET search_path = imei_registry, public;
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.t(n int) RETURNS imei_registry.imei
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('86000025' || lpad(n::text, 6, '0')) $$;
-- now() minus some days, at 12:00 in Almaty
CREATE FUNCTION pg_temp.ago(days int) RETURNS timestamptz
    LANGUAGE sql AS $$ SELECT (imei_registry.local_date(now()) - days + time '12:00') AT TIME ZONE 'Asia/Almaty' $$;
INSERT INTO operators (code, name) VALUES ('dates_kcell', 'Kcell (dates)'), ('dates_beeline', 'Beeline (dates)');
-- a statement's outcome, its dates and times masked (they move with the clock)
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    m text; d text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
    RETURN regexp_replace(SQLSTATE || ': ' || m || coalesce(E'\n' || nullif(d, ''), ''),
                          '\d{4}-\d\d-\d\d[ 0-9:.+]*|\d\d-\d\d-\d{4}|\w{3} \w{3} \d\d [0-9:.]+ \d{4} UTC',
                          '<time>', 'g');
END $$;
CREATE TEMP VIEW row_of AS
    SELECT r.imei, r.status, r.reason, r.first_operator,
           local_date(now()) - local_date(r.first_seen_at) AS first_seen_days_ago,
           r.grey_last_day - local_date(now()) AS last_day_vs_today, r.grey_period_days
      FROM registry r;
CREATE TEMP VIEW history_of AS
    SELECT h.imei, h.from_status, h.to_status, h.reason, h.first_operator,
           local_date(now()) - local_date(h.first_seen_at) AS first_seen_days_ago,
           h.grey_last_day - local_date(now()) AS last_day_vs_today, h.import_id IS NOT NULL AS by_file
      FROM history h;

-- 1. Earliest connection wins.  Kcell reports day D-5, then Beeline's
-- report of D-20 arrives: the last day is D+10, the row stays unverified,
-- and a history row grey -> grey (earlier_connection) records it.
SELECT report_connection(pg_temp.t(1), 'dates_kcell', pg_temp.ago(5));
SELECT max(id) AS feed_start FROM history \gset
SELECT report_connection(pg_temp.t(1), 'dates_beeline', pg_temp.ago(20));
SELECT * FROM row_of WHERE imei = pg_temp.t(1);
SELECT * FROM history_of WHERE imei = pg_temp.t(1) ORDER BY imei;
-- a later or equal report changes nothing
SELECT report_connection(pg_temp.t(1), 'dates_kcell', pg_temp.ago(10));
SELECT report_connection(pg_temp.t(1), 'dates_kcell', pg_temp.ago(20));
SELECT count(*) AS history_rows FROM history WHERE imei = pg_temp.t(1);
-- the feed delivers the move with the new deadline
SELECT from_status, to_status, reason, grey_last_day - local_date(now()) AS last_day_vs_today
  FROM changes(:feed_start, 10) WHERE imei = pg_temp.t(1);
SELECT (check_imei(pg_temp.t(1))).days_left;

-- In one file, and across files: an earlier line moves the date like any
-- report; a line of the same or a later time is already present.
INSERT INTO upload_connections (operator, imei, connected_at) VALUES
    ('dates_kcell', pg_temp.t(2)::text, pg_temp.ago(5)::text),
    ('dates_beeline', pg_temp.t(2)::text, pg_temp.ago(20)::text),
    ('dates_kcell', pg_temp.t(2)::text, pg_temp.ago(20)::text),
    ('dates_kcell', pg_temp.t(2)::text, pg_temp.ago(7)::text);
SELECT rows_read, rows_loaded, rows_rejected, rows_already_present
  FROM imports ORDER BY import_id DESC LIMIT 1;
SELECT * FROM row_of WHERE imei = pg_temp.t(2);
SELECT * FROM history_of WHERE imei = pg_temp.t(2) ORDER BY imei;
INSERT INTO upload_connections (operator, imei, connected_at) VALUES
    ('dates_kcell', pg_temp.t(2)::text, pg_temp.ago(25)::text),
    ('dates_kcell', pg_temp.t(1)::text, pg_temp.ago(21)::text);
SELECT rows_read, rows_loaded, rows_rejected, rows_already_present
  FROM imports ORDER BY import_id DESC LIMIT 1;
SELECT * FROM row_of WHERE imei IN (pg_temp.t(1), pg_temp.t(2)) ORDER BY imei;

-- 2. Plausible times only: 22023 for a report, bad_date in a file.
\set VERBOSITY default
SELECT report_connection(pg_temp.t(3), 'dates_kcell', 'infinity');
SELECT report_connection(pg_temp.t(3), 'dates_kcell', '-infinity');
SELECT report_connection(pg_temp.t(3), 'dates_kcell', '1990-06-30 12:00+00');
\set VERBOSITY terse
SELECT pg_temp.try($$SELECT imei_registry.report_connection(pg_temp.t(3), 'dates_kcell', now() + interval '1 year')$$);
SELECT pg_temp.try($$SELECT imei_registry.report_connection(pg_temp.t(3), 'dates_kcell', clock_timestamp() + interval '11 minutes')$$);
-- within 10 minutes ahead (a drifting clock) is accepted
SELECT report_connection(pg_temp.t(3), 'dates_kcell', clock_timestamp() + interval '5 minutes');
SELECT report_connection(pg_temp.t(4), 'dates_kcell', '1991-07-01 00:00+00');
INSERT INTO upload_connections (operator, imei, connected_at) VALUES
    ('dates_kcell', pg_temp.t(5)::text, 'infinity'),
    ('dates_kcell', pg_temp.t(5)::text, '1990-01-01 00:00+00'),
    ('dates_kcell', pg_temp.t(5)::text, (now() + interval '1 year')::text);
SELECT line_number, reason,
       regexp_replace(message, '"\w{3} \w{3} \d\d [0-9:.]+ \d{4} UTC"', '<time>') AS message
  FROM import_rejects
 WHERE import_id = (SELECT max(import_id) FROM imports) ORDER BY line_number;
-- whoever writes: the trigger refuses an implausible first connection too
INSERT INTO registry (imei, status, reason, first_seen_at)
VALUES (pg_temp.t(5), 'grey', 'unverified', 'infinity');
SELECT pg_temp.try($$INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
VALUES (pg_temp.t(5), 'grey', 'unverified', now() + interval '1 year')$$);

-- 3. The period is the row's own fact.
SET imei_registry.grey_period_days = 10;
SELECT report_connection(pg_temp.t(6), 'dates_kcell', pg_temp.ago(2));
RESET imei_registry.grey_period_days;
SELECT * FROM row_of WHERE imei = pg_temp.t(6);
-- an earlier connection moves it by the stored length, not the setting's
SELECT report_connection(pg_temp.t(6), 'dates_beeline', pg_temp.ago(4));
SELECT * FROM row_of WHERE imei = pg_temp.t(6);
SELECT q, pg_temp.try(q) FROM (VALUES
    ($$UPDATE imei_registry.registry SET grey_last_day = '2099-01-01' WHERE imei = pg_temp.t(6)$$),
    ($$UPDATE imei_registry.registry SET grey_period_days = 30 WHERE imei = pg_temp.t(6)$$),
    ($$UPDATE imei_registry.registry SET first_seen_at = pg_temp.ago(1) WHERE imei = pg_temp.t(6)$$),
    ($$UPDATE imei_registry.registry SET first_seen_at = NULL WHERE imei = pg_temp.t(6)$$),
    ($$UPDATE imei_registry.registry SET first_operator = 'dates_kcell' WHERE imei = pg_temp.t(6)$$),
    ($$UPDATE imei_registry.registry SET reason = 'earlier_connection' WHERE imei = pg_temp.t(6)$$),
    ($$INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at, grey_last_day)
       VALUES (pg_temp.t(7), 'grey', 'unverified', pg_temp.ago(1), '2099-01-01')$$),
    ($$INSERT INTO imei_registry.registry (imei, status, reason) VALUES (pg_temp.t(7), 'grey', 'unverified')$$),
    -- grey_expired only after the last day: not on day 0, by block() or by hand
    ($$SELECT imei_registry.block(pg_temp.t(6), 'grey_expired')$$),
    ($$UPDATE imei_registry.registry SET status = 'black', reason = 'grey_expired' WHERE imei = pg_temp.t(6)$$)
) v(q);
\set VERBOSITY terse
-- a hand-written earlier connection is a report like any: history and all
UPDATE registry SET first_seen_at = pg_temp.ago(11), first_operator = 'dates_beeline'
 WHERE imei = pg_temp.t(6);
SELECT * FROM row_of WHERE imei = pg_temp.t(6);
SELECT * FROM history_of WHERE imei = pg_temp.t(6) ORDER BY imei;
-- a white row's first connection does not move without a change of status
SELECT status FROM register_import(ARRAY[pg_temp.t(8)], 'dates importer');
SELECT report_connection(pg_temp.t(8), 'dates_kcell', pg_temp.ago(3));
UPDATE registry SET first_seen_at = pg_temp.ago(4) WHERE imei = pg_temp.t(8);

-- 4. The check says what is true now: on the last day grey, days_left 0;
-- the day after black (grey_expired) before the job has run, since the
-- first moment of that day in Almaty.
SELECT report_connection(pg_temp.t(9), 'dates_kcell', pg_temp.ago(30));
SELECT report_connection(pg_temp.t(10), 'dates_kcell', pg_temp.ago(31));
SELECT status, reason, days_left, application_pending FROM check_imei(pg_temp.t(9));
SELECT status, reason, grey_last_day, days_left, application_pending,
       since = (local_date(now()) + time '00:00') AT TIME ZONE 'Asia/Almaty' AS since_today_start
  FROM check_imei(pg_temp.t(10));
SELECT status FROM registry WHERE imei = pg_temp.t(10);
-- the job writes it (and its history row); the check agrees
UPDATE registry SET status = 'black', reason = 'grey_expired' WHERE imei = pg_temp.t(10);
SELECT status, reason, days_left FROM check_imei(pg_temp.t(10));
SELECT from_status, to_status, reason FROM history WHERE imei = pg_temp.t(10) ORDER BY id;

-- 5. Devices from before the rules (imei_registry.rules_start, by default
-- the end of 25 March 2025 in Almaty) are white, grandfathered.
SHOW imei_registry.rules_start;
SELECT report_connection(pg_temp.t(11), 'dates_beeline', '2025-01-15 12:00+05');
SELECT report_connection(pg_temp.t(12), 'dates_beeline', '2025-03-25 23:59:59+05');
SELECT report_connection(pg_temp.t(13), 'dates_beeline', '2025-03-26 00:00+05');
SELECT imei, status, reason FROM registry WHERE imei BETWEEN pg_temp.t(11) AND pg_temp.t(13) ORDER BY imei;
SELECT status, reason, days_left FROM check_imei(pg_temp.t(11));
-- grey, then an earlier connection from before the rules: white
SELECT report_connection(pg_temp.t(1), 'dates_kcell', '2025-03-01 09:00+05');
-- black for grey_expired (the job ran), then such a connection: white
UPDATE registry SET status = 'black', reason = 'grey_expired' WHERE imei = pg_temp.t(13);
SELECT report_connection(pg_temp.t(13), 'dates_kcell', '2025-03-20 09:00+05');
SELECT imei, from_status, to_status, reason, first_operator, first_seen_at, grey_last_day
  FROM history WHERE imei IN (pg_temp.t(1), pg_temp.t(13)) AND reason = 'grandfathered' ORDER BY imei;
-- black for another reason, or white by import: no change
SELECT block(pg_temp.t(14), 'counterfeit');
SELECT report_connection(pg_temp.t(14), 'dates_kcell', '2025-03-20 09:00+05');
SELECT report_connection(pg_temp.t(8), 'dates_kcell', '2025-03-20 09:00+05');
SELECT imei, status, reason FROM registry WHERE imei IN (pg_temp.t(8), pg_temp.t(14)) ORDER BY imei;
-- grandfathered is refused for an IMEI connected after the start, or unseen
INSERT INTO registry (imei, status, reason, first_seen_at)
VALUES (pg_temp.t(15), 'white', 'grandfathered', pg_temp.ago(3));
INSERT INTO registry (imei, status, reason) VALUES (pg_temp.t(15), 'white', 'grandfathered');
UPDATE registry SET status = 'white', reason = 'grandfathered' WHERE imei = pg_temp.t(2);
-- and unverified for one connected before it
INSERT INTO registry (imei, status, reason, first_seen_at)
VALUES (pg_temp.t(15), 'grey', 'unverified', '2025-03-01 00:00+05');
-- a superuser moves the start; nobody else may
SET imei_registry.rules_start = '2025-03-01 00:00+05';
SELECT report_connection(pg_temp.t(16), 'dates_kcell', '2025-03-10 00:00+05');
RESET imei_registry.rules_start;
SET imei_registry.rules_start = 'soon';
CREATE ROLE dates_nobody;
SET ROLE dates_nobody;
SET imei_registry.rules_start = '2025-03-01 00:00+05';
SET imei_registry.application_hold_days = 1;
RESET ROLE;
DROP ROLE dates_nobody;

-- 6. The hold.  A submitted, undecided application that lists the IMEI,
-- submitted by its last day, holds it grey past that day for
-- application_hold_days after submission (default 30).
SHOW imei_registry.application_hold_days;
SELECT report_connection(pg_temp.t(17), 'dates_kcell', pg_temp.ago(35));   -- last day: 5 days ago
SELECT report_connection(pg_temp.t(18), 'dates_kcell', pg_temp.ago(35));
SELECT report_connection(pg_temp.t(19), 'dates_kcell', pg_temp.ago(35));
-- unsigned applications: the setting is off for this session (signed
-- applications: test/sql/signatures.sql)
SET imei_registry.require_signature = off;
CREATE TEMP TABLE apps AS
SELECT n, submit_application(format('{"applicant": {"kind": "individual", "id": "871008401427"},
     "method": "parcel", "exporting_country": "CN", "delivery_service": "China Post",
     "documents": [{"type": "tracking_number", "number": "RR%sCN"}],
     "devices": [{"imeis": ["%s"]}]}', n, pg_temp.t(n))::jsonb) AS id
  FROM generate_series(17, 19) n;
-- 17: submitted 10 days ago, before its last day: held
-- 18: submitted 2 days ago, after its last day: not held
-- 19: submitted 40 days ago (before the period), longer ago than the hold
UPDATE applications a SET submitted_at = pg_temp.ago(CASE x.n WHEN 17 THEN 10 WHEN 18 THEN 2 ELSE 40 END)
  FROM apps x WHERE a.id = x.id;
SELECT n, application_holds(pg_temp.t(n), grey_last_day) AS held,
       (check_imei(pg_temp.t(n))).status, (check_imei(pg_temp.t(n))).days_left,
       (check_imei(pg_temp.t(n))).application_pending
  FROM apps JOIN registry ON imei = pg_temp.t(n) ORDER BY n;
-- the held one cannot be made black by grey_expired; the others can
UPDATE registry SET status = 'black', reason = 'grey_expired' WHERE imei = pg_temp.t(17);
UPDATE registry SET status = 'black', reason = 'grey_expired' WHERE imei IN (pg_temp.t(18), pg_temp.t(19));
-- a shorter hold ends it
SET imei_registry.application_hold_days = 5;
SELECT application_holds(pg_temp.t(17), grey_last_day) AS held FROM registry WHERE imei = pg_temp.t(17);
RESET imei_registry.application_hold_days;
-- the bound: listed by an application submitted on its last day, 30 days
-- ago (20) it is held today, 31 days ago (21) no longer -- and then no
-- application can hold it, so none is looked for (no lock on the IMEIs of
-- applications)
SELECT report_connection(pg_temp.t(20), 'dates_kcell', pg_temp.ago(60));   -- last day: 30 days ago
SELECT report_connection(pg_temp.t(21), 'dates_kcell', pg_temp.ago(61));   -- last day: 31 days ago
INSERT INTO apps
SELECT n, submit_application(format('{"applicant": {"kind": "individual", "id": "871008401427"},
     "method": "parcel", "exporting_country": "CN", "delivery_service": "China Post",
     "documents": [{"type": "tracking_number", "number": "RR%sCN"}],
     "devices": [{"imeis": ["%s"]}]}', n, pg_temp.t(n))::jsonb)
  FROM generate_series(20, 21) n;
UPDATE applications a SET submitted_at = pg_temp.ago(CASE x.n WHEN 20 THEN 30 ELSE 31 END)
  FROM apps x WHERE a.id = x.id AND x.n IN (20, 21);
SELECT n, grey_last_day - local_date(now()) AS last_day_vs_today,
       application_holds(pg_temp.t(n), grey_last_day) AS held
  FROM apps JOIN registry ON imei = pg_temp.t(n) WHERE n IN (20, 21) ORDER BY n;
BEGIN;
SELECT status, reason, days_left, application_pending FROM check_imei(pg_temp.t(20));
SELECT count(*) AS imeis_of_applications_locked FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND c.relname = 'application_imeis';
COMMIT;
BEGIN;
SELECT status, reason, days_left, application_pending FROM check_imei(pg_temp.t(21));
SELECT count(*) AS imeis_of_applications_locked FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND c.relname = 'application_imeis';
COMMIT;
-- a decision ends it
UPDATE applications a SET state = 'rejected', decided_at = now() FROM apps x WHERE a.id = x.id AND x.n = 17;
SELECT (check_imei(pg_temp.t(17))).status;

-- An IMEI is listed by an application from its submission, or, uploaded
-- to it later (upload_devices), from the upload: one uploaded after its
-- last day is not held (22), as an application submitted then would not
-- be; one uploaded by then is (24, its import dated 7 days ago).  The
-- application, submitted 10 days ago, holds its own IMEI (23).
SELECT report_connection(pg_temp.t(22), 'dates_kcell', pg_temp.ago(35));   -- last day: 5 days ago
SELECT report_connection(pg_temp.t(23), 'dates_kcell', pg_temp.ago(35));
SELECT report_connection(pg_temp.t(24), 'dates_kcell', pg_temp.ago(35));
INSERT INTO apps
SELECT 23, submit_application(format('{"applicant": {"kind": "individual", "id": "871008401427"},
     "method": "parcel", "exporting_country": "CN", "delivery_service": "China Post",
     "documents": [{"type": "tracking_number", "number": "RR23CN"}],
     "devices": [{"imeis": ["%s"]}]}', pg_temp.t(23))::jsonb);
UPDATE applications a SET submitted_at = pg_temp.ago(10) FROM apps x WHERE a.id = x.id AND x.n = 23;
INSERT INTO upload_devices SELECT x.id::text, NULL, pg_temp.t(24)::text FROM apps x WHERE x.n = 23;
UPDATE imports SET created_at = pg_temp.ago(7)
 WHERE import_id = (SELECT max(import_id) FROM imports WHERE target = 'upload_devices');
INSERT INTO upload_devices SELECT x.id::text, NULL, pg_temp.t(22)::text FROM apps x WHERE x.n = 23;
SELECT n, application_holds(pg_temp.t(n), grey_last_day) AS held,
       (check_imei(pg_temp.t(n))).status, (check_imei(pg_temp.t(n))).application_pending
  FROM generate_series(22, 24) n JOIN registry ON imei = pg_temp.t(n) ORDER BY n;
SELECT pg_temp.try(format($$UPDATE registry SET status = 'black', reason = 'grey_expired' WHERE imei = %L$$,
                          pg_temp.t(n))) AS grey_expired
  FROM generate_series(22, 24) n ORDER BY n;

-- No cleanup: registry rows are never deleted (TAC 86000025 is this file's).
