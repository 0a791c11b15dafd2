-- record_sightings(), the one writer of sightings: written straight into
-- the table (src/sightings_write.c) and, for a table it does not write
-- (here: one with a site's trigger), by INSERT ... ON CONFLICT DO UPDATE,
-- with the same answers.  IMEIs of TAC 35991802 belong to this file.
SET client_min_messages = warning;
SET timezone = 'UTC';
SET search_path = imei_registry, public;

INSERT INTO operators VALUES ('sw_kcell', 'Kcell'), ('sw_tele2', 'Tele2');
CREATE FUNCTION pg_temp.t(n int) RETURNS imei
    LANGUAGE sql AS $$ SELECT imei_from_body('35991802' || lpad(n::text, 6, '0')) $$;
-- a call: reports of devices n, each seen by IMSI 401 02 n and MSISDN 7702 n
-- (none for odd n) on the operators at the times; the positions changed
CREATE FUNCTION pg_temp.rec(ns int[], ops text[], ats timestamptz[]) RETURNS bigint[]
LANGUAGE sql AS $$
SELECT coalesce(array_agg(r.ord ORDER BY r.ord), '{}')
  FROM record_sightings(ARRAY(SELECT pg_temp.t(n) FROM unnest(ns) n),
                        ARRAY(SELECT 401020000000000 + n FROM unnest(ns) n),
                        ARRAY(SELECT CASE WHEN n % 2 = 0 THEN 77020000000 + n END FROM unnest(ns) n),
                        ops, ats) AS r $$;
CREATE VIEW pg_temp.rows AS
SELECT imei, imsi, msisdn, month, sighting_days(month, days) AS days, operator
  FROM sightings WHERE imei_tac(imei) = '35991802' ORDER BY imei, imsi, month, operator;

-- the writer's own path: the table as the extension made it
SELECT sightings_write_direct('{}', '{}', '{}', '{}', '{}') IS NOT NULL AS direct;
-- new rows; 19:00 UTC on 30 November is 1 December in Almaty: a new
-- month's row.  Then a known day (no change), new days (HOT updates) and
-- a new operator (a new row)
SELECT pg_temp.rec('{1,2,3}', '{sw_kcell,sw_kcell,sw_kcell}',
                   '{2026-11-02 10:00+05,2026-11-02 10:00+05,2026-11-30 23:30+05}');
SELECT pg_temp.rec('{3}', '{sw_kcell}', '{2026-11-30 19:00+00}');
BEGIN;
SELECT n_tup_ins AS ins0, n_tup_upd AS upd0, n_tup_hot_upd AS hot0
  FROM pg_stat_xact_user_tables WHERE relid = 'sightings'::regclass \gset
SELECT pg_temp.rec('{1,2,3}', '{sw_kcell,sw_tele2,sw_kcell}',
                   '{2026-11-02 20:00+05,2026-11-05 10:00+05,2026-12-01 09:00+05}');
SELECT pg_temp.rec('{1}', '{sw_kcell}', '{2026-11-30 00:00+05}');
SELECT pg_temp.rec('{2}', '{sw_kcell}', '{2026-11-03 10:00+05}');
-- in this transaction: one row added, two days set, both HOT
SELECT n_tup_ins - :ins0 AS added, n_tup_upd - :upd0 AS updated, n_tup_hot_upd - :hot0 AS hot
  FROM pg_stat_xact_user_tables WHERE relid = 'sightings'::regclass;
COMMIT;
SELECT * FROM pg_temp.rows;
-- the CHECKs hold; the same key twice in a call is refused
SELECT record_sightings(ARRAY[pg_temp.t(4)], '{12345}', '{NULL}', '{sw_kcell}', '{2026-11-02 10:00+05}');
SELECT record_sightings(ARRAY[pg_temp.t(4), pg_temp.t(4)], '{401020000000004,401020000000004}',
                        '{NULL,NULL}', '{sw_kcell,sw_kcell}', '{2026-11-02 10:00+05,2026-11-09 10:00+05}');
SELECT record_sightings(ARRAY[pg_temp.t(4)], '{401020000000004}', '{}', '{sw_kcell}', '{2026-11-02 10:00+05}');
-- internal: nobody but the owner calls it
SELECT has_function_privilege('public', 'sightings_write_direct(imei[], bigint[], bigint[], text[], timestamptz[])', 'EXECUTE') AS public_may;

-- a site's trigger on the table: the executor's path, the same answers
CREATE FUNCTION pg_temp.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER site_noop BEFORE INSERT OR UPDATE ON sightings
    FOR EACH ROW EXECUTE FUNCTION pg_temp.noop();
SELECT sightings_write_direct('{}', '{}', '{}', '{}', '{}') IS NULL AS by_executor;
SELECT pg_temp.rec('{5,6}', '{sw_kcell,sw_kcell}', '{2026-11-02 10:00+05,2026-11-02 10:00+05}');
SELECT pg_temp.rec('{5,6,1}', '{sw_kcell,sw_kcell,sw_kcell}',
                   '{2026-11-02 11:00+05,2026-11-03 10:00+05,2026-11-02 12:00+05}');
SELECT * FROM pg_temp.rows WHERE imei IN (pg_temp.t(1), pg_temp.t(5), pg_temp.t(6));
DROP TRIGGER site_noop ON sightings;
SELECT sightings_write_direct('{}', '{}', '{}', '{}', '{}') IS NOT NULL AS direct_again;
