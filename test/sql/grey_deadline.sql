-- Grey-period deadline arithmetic (src/grey.c): local dates in Asia/Almaty,
-- whatever the session's TimeZone.
\pset null '(null)'
SET DateStyle = ISO;

-- Almaty has been UTC+5 since 2024-03-01 (tzdata 2024a); UTC+6 before.
SET TimeZone = 'UTC';
SELECT t AS utc, imei_registry.local_date(t) AS local_date
  FROM (VALUES (timestamptz '2025-06-01 00:00:00+00'),
               ('2025-06-01 18:59:59.999999+00'),   -- 23:59:59.999999 in Almaty
               ('2025-06-01 19:00:00+00'),          -- 00:00 the next local day
               ('2025-06-01 23:30:00+00'),          -- 04:30 the next local day
               ('2024-02-01 17:59:59+00'),          -- UTC+6 then: 23:59:59
               ('2024-02-01 18:00:00+00')) AS v(t);

-- The boundary minute, spelled in Almaty time, seen from several sessions.
CREATE TEMP TABLE grey_moments (label text, t timestamptz);
SET TimeZone = 'Asia/Almaty';
INSERT INTO grey_moments VALUES
    ('last minute of June 1', '2025-06-01 23:59:00'),
    ('last microsecond',      '2025-06-01 23:59:59.999999'),
    ('first moment of June 2','2025-06-02 00:00:00'),
    ('first minute of June 2','2025-06-02 00:00:59'),
    ('23:30 UTC on June 1',   '2025-06-01 23:30:00+00');
SET TimeZone = 'America/Los_Angeles';
SELECT label, imei_registry.local_date(t), imei_registry.grey_last_day(t)
  FROM grey_moments ORDER BY t;
-- the same answers whatever the session's zone
CREATE TEMP TABLE grey_answers AS
    SELECT current_setting('TimeZone') AS zone, label, imei_registry.local_date(t) AS d
      FROM grey_moments;
SET TimeZone = 'Pacific/Kiritimati';    -- UTC+14
INSERT INTO grey_answers
    SELECT current_setting('TimeZone'), label, imei_registry.local_date(t) FROM grey_moments;
SET TimeZone = 'Pacific/Pago_Pago';     -- UTC-11
INSERT INTO grey_answers
    SELECT current_setting('TimeZone'), label, imei_registry.local_date(t) FROM grey_moments;
SET TimeZone = 'UTC';
INSERT INTO grey_answers
    SELECT current_setting('TimeZone'), label, imei_registry.local_date(t) FROM grey_moments;
SELECT label, count(DISTINCT zone) AS zones, count(DISTINCT d) AS answers
  FROM grey_answers GROUP BY label ORDER BY label;

-- Last day: local date + imei_registry.grey_period_days (default 30).
SET TimeZone = 'UTC';
SHOW imei_registry.grey_period_days;
SELECT t AS first_connection, imei_registry.grey_last_day(t)
  FROM (VALUES (timestamptz '2025-06-01 18:59+00'),
               ('2025-06-01 19:00+00'),
               ('2024-01-30 12:00+00'),             -- leap year: Feb 29
               ('2025-12-15 20:00+00'),             -- across the new year
               ('infinity'), ('-infinity')) AS v(t);
SET imei_registry.grey_period_days = 10;
SELECT imei_registry.grey_last_day('2025-06-01 23:30+00');
SET imei_registry.grey_period_days = 1;
SELECT imei_registry.grey_last_day('2025-06-01 23:30+00');
RESET imei_registry.grey_period_days;
SELECT imei_registry.grey_last_day('2025-06-01 23:30+00');
SET imei_registry.grey_period_days = 0;
SET imei_registry.grey_period_days = 3651;
-- the last timestamp still has a last day
SELECT imei_registry.grey_last_day('294276-12-31 18:00+00');

-- Due (black) from the first moment after the last day: the expiry's and
-- check_imei()'s test is grey_last_day < local_date(now()); days_left is
-- grey_last_day - local_date(now()).
SET TimeZone = 'Asia/Almaty';
SELECT at, date '2025-07-01' - imei_registry.local_date(at) AS days_left,
       date '2025-07-01' < imei_registry.local_date(at) AS due
  FROM (VALUES (timestamptz '2025-06-01 04:30'),  -- first connection: last day July 1
               ('2025-06-30 23:59:59'),
               ('2025-07-01 00:00'),
               ('2025-07-01 23:59'),
               ('2025-07-01 23:59:59.999999'),
               ('2025-07-02 00:00'),
               ('2025-07-02 00:01'),
               ('2025-08-01 12:00')) AS v(at);
SET TimeZone = 'UTC';
-- 18:59 and 19:00 UTC are 23:59 and 00:00 in Almaty
SELECT date '2025-07-01' < imei_registry.local_date('2025-07-01 18:59:59+00') AS due_at_1859,
       date '2025-07-01' < imei_registry.local_date('2025-07-01 19:00:00+00') AS due_at_1900;
SELECT imei_registry.local_date(NULL);

-- The length is registry policy: ordinary roles cannot change it.
CREATE ROLE grey_deadline_user;
SET ROLE grey_deadline_user;
SET imei_registry.grey_period_days = 5;
RESET ROLE;
DROP ROLE grey_deadline_user;
-- unknown names under the prefix are refused, not kept as placeholders
SET imei_registry.grey_period_dayz = 5;

-- Markings
SELECT p.oid::regprocedure, p.provolatile, p.proparallel, p.proisstrict
  FROM pg_proc AS p
 WHERE p.oid IN ('imei_registry.local_date(timestamptz)'::regprocedure,
                 'imei_registry.grey_last_day(timestamptz)'::regprocedure)
 ORDER BY 1::text;
RESET TimeZone;
RESET DateStyle;
