-- pgTAP: operators' reports with IMSI and MSISDN (issue 18) -- sightings,
-- visitors, privacy as each role.  IMEIs: TAC 86001800.  Home MCC 401
-- (the default of imei_registry.home_mccs); visitors 250 (Russia), 262.
BEGIN;
SELECT plan(44);
SET LOCAL search_path = imei_registry, public;

CREATE FUNCTION pg_temp.t(n int) RETURNS imei_registry.imei
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('86001800' || lpad(n::text, 6, '0')) $$;
GRANT EXECUTE ON FUNCTION pg_temp.t(int) TO PUBLIC;
-- the days of a device's sightings, as 'imsi/operator: dates'
CREATE FUNCTION pg_temp.seen(i imei_registry.imei) RETURNS text[]
LANGUAGE sql AS $$
SELECT coalesce(array_agg(s.imsi || '/' || s.msisdn || '/' || s.operator || ': '
                          || array_to_string(imei_registry.sighting_days(s.month, s.days), ',')
                          ORDER BY s.imsi, s.operator, s.month), '{}')
  FROM imei_registry.sightings s WHERE s.imei = i $$;
GRANT EXECUTE ON FUNCTION pg_temp.seen(imei_registry.imei) TO PUBLIC;

SELECT has_table('imei_registry', 'sightings', 'sightings exists');
SELECT columns_are('imei_registry', 'sightings',
    ARRAY['imei', 'imsi', 'msisdn', 'month', 'days', 'operator'], 'sightings columns');
SELECT col_is_pk('imei_registry', 'sightings', ARRAY['imei', 'imsi', 'msisdn', 'month', 'operator'],
    'one row per (imei, imsi, msisdn, month, operator), imei first');
SELECT ok(imsi_is_home(401011234567890) AND NOT imsi_is_home(250991234567890), 'a Kazakh IMSI is home, a Russian one a visitor''s');
SELECT is(current_setting('imei_registry.home_mccs'), '401', 'home_mccs defaults to Kazakhstan');
SELECT has_function('imei_registry', 'report_connection',
    ARRAY['imei_registry.imei', 'text', 'timestamp with time zone', 'text', 'text'],
    'report_connection(imei, operator, connected_at, imsi, msisdn)');
SELECT hasnt_function('imei_registry', 'report_connection',
    ARRAY['imei_registry.imei', 'text', 'timestamp with time zone'], 'the 3-argument form is replaced');
SELECT is((SELECT bool_or(proisstrict) FROM pg_proc
           WHERE proname = 'report_connection' AND pronamespace = 'imei_registry'::regnamespace),
    false, 'report_connection is not STRICT');

INSERT INTO operators VALUES ('s18_kcell', 'Kcell'), ('s18_beeline', 'Beeline');

-- A roaming phone: only visitors' IMSIs.  Not registered, never grey.
SELECT is(report_connection(pg_temp.t(1), 's18_kcell', '2026-11-02 10:00+05', '250991234567890', '+79161234567'),
    NULL, 'a visitor''s report returns no status');
SELECT is(report_connection(pg_temp.t(1), 's18_beeline', '2026-11-03 09:00+05', '250991234567890', '79161234567'),
    NULL, 'on another network too');
SELECT is((SELECT reason FROM check_imei(pg_temp.t(1))), 'not_registered', 'check: a roaming phone is not registered');
SELECT is((SELECT count(*)::int FROM registry WHERE imei = pg_temp.t(1)), 0, 'no registry row');
SELECT is((SELECT count(*)::int FROM history WHERE imei = pg_temp.t(1)), 0, 'no history row');
SELECT is(pg_temp.seen(pg_temp.t(1)),
    ARRAY['250991234567890/79161234567/s18_beeline: 2026-11-03', '250991234567890/79161234567/s18_kcell: 2026-11-02'],
    'its sightings are kept, per network, MSISDN without "+"');
SELECT is(report_connection(pg_temp.t(1), 's18_kcell', '2026-11-05 23:30+05', '250991234567890', '79161234567'),
    NULL, 'a later day');
SELECT is(pg_temp.seen(pg_temp.t(1)),
    ARRAY['250991234567890/79161234567/s18_beeline: 2026-11-03', '250991234567890/79161234567/s18_kcell: 2026-11-02,2026-11-05'],
    'a later day is a bit in the same month''s row');
SELECT is((SELECT count(*)::int FROM sightings WHERE imei = pg_temp.t(1)), 2, 'one row per network and month');
SELECT is(report_connection(pg_temp.t(1), 's18_kcell', '2026-12-01 00:10+05', '250991234567890', '79161234567'),
    NULL, 'a new local month (00:10 in Almaty)');
SELECT is((SELECT array_agg(month ORDER BY month) FROM sightings WHERE imei = pg_temp.t(1) AND operator = 's18_kcell'),
    ARRAY[date '2026-11-01', date '2026-12-01'], 'a row per local month');
-- visitors never grandfather: a sighting before the rules
SELECT is(report_connection(pg_temp.t(2), 's18_kcell', '2025-01-10 10:00+05', '262011234567890'), NULL,
    'a visitor before the rules');
SELECT is((SELECT reason FROM check_imei(pg_temp.t(2))), 'not_registered', 'is not grandfathered');

-- It roams first, then takes a home SIM: grey from the home sighting.
SELECT is(report_connection(pg_temp.t(3), 's18_kcell', '2026-10-01 10:00+05', '250991234567891'), NULL, 'roams first');
SELECT is(report_connection(pg_temp.t(3), 's18_beeline', '2026-10-20 10:00+05', '401011234567891', '77011234567'),
    'grey', 'then a home SIM: grey');
SELECT results_eq($$SELECT first_seen_at, first_operator, grey_last_day FROM registry WHERE imei = pg_temp.t(3)$$,
    $$VALUES (timestamptz '2026-10-20 10:00+05', 's18_beeline', date '2026-11-19')$$,
    'its period starts at the home sighting, not the visitor''s');
SELECT is(report_connection(pg_temp.t(3), 's18_kcell', '2026-10-05 10:00+05', '250991234567891'), 'grey',
    'a late report of an earlier visitor''s sighting');
SELECT is((SELECT grey_last_day FROM registry WHERE imei = pg_temp.t(3)), date '2026-11-19', 'moves nothing');
SELECT is(report_connection(pg_temp.t(3), 's18_kcell', '2026-10-10 10:00+05', '401021234567891'), 'grey',
    'a late report of an earlier home sighting');
SELECT results_eq($$SELECT first_seen_at, first_operator, grey_last_day FROM registry WHERE imei = pg_temp.t(3)$$,
    $$VALUES (timestamptz '2026-10-10 10:00+05', 's18_kcell', date '2026-11-09')$$,
    'moves the period to the earliest home sighting');
SELECT is((SELECT count(*)::int FROM history WHERE imei = pg_temp.t(3)), 2, 'grey, then earlier_connection');

-- A report without an IMSI is a home connection and writes no sighting.
SELECT is(report_connection(pg_temp.t(4), 's18_kcell', '2026-11-01 10:00+05'), 'grey', '3 arguments: grey as before');
SELECT is(pg_temp.seen(pg_temp.t(4)), '{}', 'and no sighting row');
SELECT is(report_connection(pg_temp.t(4)::text::imei_registry.imei, 's18_kcell'), 'grey', '2 arguments');
-- another home MCC by the setting
SET LOCAL imei_registry.home_mccs = '401, 250';
SELECT is(report_connection(pg_temp.t(5), 's18_kcell', '2026-11-01 10:00+05', '250991234567895'), 'grey',
    'with 250 a home MCC, its IMSIs start a period');
RESET imei_registry.home_mccs;

-- Privacy, as each role.
CREATE ROLE regress_s18_kcell LOGIN IN ROLE imei_registry_operator;
CREATE ROLE regress_s18_beeline LOGIN IN ROLE imei_registry_operator;
CREATE ROLE regress_s18_admin LOGIN IN ROLE imei_registry_admin;
CREATE ROLE regress_s18_reader LOGIN IN ROLE imei_registry_reader;
CREATE ROLE regress_s18_portal LOGIN IN ROLE imei_registry_portal;
INSERT INTO operator_roles VALUES ('s18_kcell', 'regress_s18_kcell'), ('s18_beeline', 'regress_s18_beeline');

SET SESSION AUTHORIZATION regress_s18_kcell;
SELECT is((SELECT array_agg(DISTINCT operator) FROM imei_registry.sightings), ARRAY['s18_kcell'],
    'an operator reads only its own network''s sightings');
SELECT is((SELECT count(*)::int FROM imei_registry.sightings WHERE imei = pg_temp.t(1)), 2,
    'its two rows of the roaming phone, not Beeline''s');
SELECT is(imei_registry.report_connection(pg_temp.t(6), 's18_kcell', '2026-11-07 10:00+05', '401021234567896', '77021234567'),
    'grey', 'it reports with a subscriber');
SELECT throws_ok($$SELECT imei_registry.report_connection(pg_temp.t(6), 's18_beeline', '2026-11-07 10:00+05', '401011234567896')$$,
    '42501', NULL, 'not as another operator');
SELECT throws_ok($$UPDATE imei_registry.sightings SET days = 1$$, '42501', NULL, 'it writes no sighting directly');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_s18_beeline;
SELECT is((SELECT array_agg(DISTINCT operator) FROM imei_registry.sightings), ARRAY['s18_beeline'],
    'Beeline reads only Beeline''s');
SELECT is((SELECT count(*)::int FROM imei_registry.sightings WHERE imei = pg_temp.t(6)), 0,
    'not Kcell''s sighting of a device it never saw');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_s18_admin;
SELECT is((SELECT array_agg(DISTINCT operator ORDER BY operator) FROM imei_registry.sightings
           WHERE operator LIKE 's18%'), ARRAY['s18_beeline', 's18_kcell'], 'the admin reads all');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_s18_reader;
SELECT throws_ok($$SELECT * FROM imei_registry.sightings$$, '42501', NULL, 'a reader sees no IMSI or MSISDN');
SELECT is((SELECT status FROM imei_registry.check_imei(pg_temp.t(6))), 'grey', 'the check is the reader''s');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_s18_portal;
SELECT throws_ok($$SELECT * FROM imei_registry.sightings$$, '42501', NULL, 'nor does the portal');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
