-- pgTAP: from sightings to action (issue 19) -- grey reminders, suspected
-- clones, black devices in use, pairing's rules; privacy as each role.
-- IMEIs: TAC 86001900.  Home MCC 401 (Kcell 401 02, Beeline 401 01 here);
-- visitors 250.  Times relative to today in Almaty.  The feed of pairs
-- needs committed transactions: test/pgtap/pairing_feed.sql.
BEGIN;
SELECT plan(45);
SET LOCAL search_path = imei_registry, public;

CREATE FUNCTION pg_temp.t(n int) RETURNS imei_registry.imei
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('86001900' || lpad(n::text, 6, '0')) $$;
GRANT EXECUTE ON FUNCTION pg_temp.t(int) TO PUBLIC;
-- today in Almaty, and a moment of a local day days_ago before it (10:00;
-- today: 00:00, never ahead of the clock)
CREATE FUNCTION pg_temp.today() RETURNS date
    LANGUAGE sql AS $$ SELECT imei_registry.local_date(now()) $$;
GRANT EXECUTE ON FUNCTION pg_temp.today() TO PUBLIC;
CREATE FUNCTION pg_temp.at(days_ago int) RETURNS timestamptz
    LANGUAGE sql AS $$
    SELECT ((pg_temp.today() - days_ago)::timestamp
            + CASE WHEN days_ago = 0 THEN interval '0' ELSE interval '10 hours' END)
           AT TIME ZONE 'Asia/Almaty' $$;
CREATE FUNCTION pg_temp.seen(n int, op text, days_ago int, imsi text, msisdn text DEFAULT NULL)
RETURNS imei_registry.status
    LANGUAGE sql AS $$ SELECT imei_registry.report_connection(pg_temp.t(n), op, pg_temp.at(days_ago), imsi, msisdn) $$;

INSERT INTO operators VALUES ('a19_kcell', 'Kcell'), ('a19_beeline', 'Beeline');
INSERT INTO operator_networks VALUES ('40102', 'a19_kcell'), ('40101', 'a19_beeline');
CREATE ROLE regress_a19_kcell LOGIN IN ROLE imei_registry_operator;
CREATE ROLE regress_a19_beeline LOGIN IN ROLE imei_registry_operator;
CREATE ROLE regress_a19_admin LOGIN IN ROLE imei_registry_admin;
CREATE ROLE regress_a19_reader LOGIN IN ROLE imei_registry_reader;
CREATE ROLE regress_a19_portal LOGIN IN ROLE imei_registry_portal;
INSERT INTO operator_roles VALUES ('a19_kcell', 'regress_a19_kcell'), ('a19_beeline', 'regress_a19_beeline');

-- ---- Reminders ----
-- 1: grey from a Kcell home sighting 27 days ago, seen there again yesterday: 3 days left
SELECT pg_temp.seen(1, 'a19_kcell', 27, '401021000000001', '77021000001');
SELECT pg_temp.seen(1, 'a19_kcell', 1, '401021000000001', '77021000001');
-- 2: grey from Kcell 27 days ago, its latest home sighting on Beeline two
-- days ago; a visitor's SIM on Kcell today does not count
SELECT pg_temp.seen(2, 'a19_kcell', 27, '401021000000002', '77021000002');
SELECT pg_temp.seen(2, 'a19_beeline', 2, '401011000000002', '77011000002');
SELECT pg_temp.seen(2, 'a19_kcell', 0, '250991000000002', '79161000002');
-- 7: 4 days left; 11: a data SIM (no MSISDN)
SELECT pg_temp.seen(7, 'a19_kcell', 26, '401021000000007', '77021000007');
SELECT pg_temp.seen(11, 'a19_kcell', 27, '401021000000011');

SELECT results_eq(
    $$SELECT imei, imsi, msisdn, grey_last_day, days_left FROM grey_reminders('a19_kcell', 3)
       WHERE imei_tac(imei) = '86001900' ORDER BY imei$$,
    $$VALUES (pg_temp.t(1), 401021000000001::bigint, 77021000001::bigint, pg_temp.today() + 3, 3),
             (pg_temp.t(11), 401021000000011::bigint, NULL::bigint, pg_temp.today() + 3, 3)$$,
    'Kcell''s reminders with 3 days left: its subscribers, with the latest sighting''s MSISDN (NULL: none)');
SELECT is((SELECT days_left FROM check_imei(pg_temp.t(1))), 3, 'the days left that check_imei() gives');
SELECT results_eq(
    $$SELECT imei, imsi, msisdn FROM grey_reminders('a19_beeline', 3) WHERE imei_tac(imei) = '86001900' ORDER BY imei$$,
    $$VALUES (pg_temp.t(2), 401011000000002::bigint, 77011000002::bigint)$$,
    'a device last seen at home on Beeline is on Beeline''s list, with the Beeline subscriber, not on Kcell''s');
SELECT results_eq(
    $$SELECT imei FROM grey_reminders('a19_kcell', 4) WHERE imei_tac(imei) = '86001900' ORDER BY imei$$,
    $$VALUES (pg_temp.t(7))$$, 'the right day only: 4 days left is another list');
SELECT is((SELECT count(*)::int FROM grey_reminders('a19_kcell', 2) WHERE imei_tac(imei) = '86001900'), 0,
    'nobody with 2 days left');
-- seen on both networks on its latest day: on both lists
SELECT pg_temp.seen(7, 'a19_beeline', 1, '401011000000007');
SELECT pg_temp.seen(7, 'a19_kcell', 1, '401021000000007', '77021000007');
SELECT is((SELECT count(*)::int FROM grey_reminders('a19_kcell', 4) WHERE imei = pg_temp.t(7))
          + (SELECT count(*)::int FROM grey_reminders('a19_beeline', 4) WHERE imei = pg_temp.t(7)), 2,
    'a device seen at home on two networks on its latest day is on both lists');
SELECT throws_ok($$SELECT * FROM grey_reminders('a19_kcell', -1)$$, '22023', NULL, 'days_left below 0: 22023');
SELECT throws_ok($$SELECT * FROM grey_reminders('a19_tele2', 3)$$, '22023', 'unknown operator "a19_tele2"',
    'an unknown operator: 22023');
SELECT throws_ok($$SELECT * FROM grey_reminders('a19_kcell', NULL)$$, '22004', NULL, 'no days_left: 22004');

-- ---- Suspected clones ----
-- 3: three home SIMs in the window; 4: two SIMs on two networks the same
-- day; 5: two networks on different days; 8: three home SIMs 40 days ago
SELECT pg_temp.seen(3, 'a19_kcell', 5, '401021000000031');
SELECT pg_temp.seen(3, 'a19_kcell', 4, '401021000000032');
SELECT pg_temp.seen(3, 'a19_kcell', 3, '401021000000033');
SELECT pg_temp.seen(4, 'a19_kcell', 2, '401021000000041');
SELECT pg_temp.seen(4, 'a19_beeline', 2, '401011000000042');
SELECT pg_temp.seen(5, 'a19_kcell', 5, '401021000000051');
SELECT pg_temp.seen(5, 'a19_beeline', 4, '401011000000052');
SELECT pg_temp.seen(8, 'a19_kcell', 42, '401021000000081');
SELECT pg_temp.seen(8, 'a19_kcell', 41, '401021000000082');
SELECT pg_temp.seen(8, 'a19_kcell', 40, '401021000000083');
-- 12: two home SIMs and a visitor's: 3 IMSIs, but only 2 home ones
SELECT pg_temp.seen(12, 'a19_kcell', 5, '401021000000121');
SELECT pg_temp.seen(12, 'a19_kcell', 4, '401021000000122');
SELECT pg_temp.seen(12, 'a19_kcell', 3, '250991000000123');

SELECT results_eq(
    $$SELECT imei, imsis, operators, first_seen, last_seen FROM suspected_clones()
       WHERE imei_tac(imei) = '86001900'$$,
    $$VALUES (pg_temp.t(3), 3, ARRAY['a19_kcell'], pg_temp.today() - 5, pg_temp.today() - 3),
             (pg_temp.t(4), 2, ARRAY['a19_beeline', 'a19_kcell'], pg_temp.today() - 2, pg_temp.today() - 2),
             (pg_temp.t(7), 2, ARRAY['a19_beeline', 'a19_kcell'], pg_temp.today() - 26, pg_temp.today() - 1)$$,
    'an IMEI of three home SIMs, and two of two SIMs on two networks the same day');
SELECT results_eq(
    $$SELECT imei FROM suspected_clones(30, 4) WHERE imei_tac(imei) = '86001900'$$,
    $$VALUES (pg_temp.t(4)), (pg_temp.t(7))$$, 'min_imsis 4: only the same-day ones');
SELECT results_eq(
    $$SELECT imei, imsis FROM suspected_clones(60) WHERE imei_tac(imei) = '86001900'$$,
    $$VALUES (pg_temp.t(3), 3), (pg_temp.t(4), 2), (pg_temp.t(7), 2), (pg_temp.t(8), 3)$$,
    'a 60-day window reaches the one of 40 days ago');
SELECT results_eq(
    $$SELECT imei, imsis FROM suspected_clones(30, 2) WHERE imei_tac(imei) = '86001900'$$,
    $$VALUES (pg_temp.t(2), 3), (pg_temp.t(3), 3), (pg_temp.t(4), 2), (pg_temp.t(5), 2), (pg_temp.t(7), 2), (pg_temp.t(12), 3)$$,
    'min_imsis 2: every device of two home SIMs (imsis counts the visitors'' too)');
SELECT results_eq(
    $$SELECT imei FROM suspected_clones(3) WHERE imei_tac(imei) = '86001900'$$,
    $$VALUES (pg_temp.t(4)), (pg_temp.t(7))$$,
    'a 3-day window: two days ago and yesterday are in it, the three SIMs of 3 to 5 days ago not all');
SELECT is((SELECT status::text || '/' || count(*) FROM registry JOIN history h USING (imei)
           WHERE imei = pg_temp.t(3) GROUP BY status), 'grey/1',
    'a suspected clone stays grey: nothing is blocked automatically');
SELECT throws_ok($$SELECT * FROM suspected_clones(30, 1)$$, '22023', 'min_imsis 1 is out of range',
    'min_imsis 1: 22023');
SELECT throws_ok($$SELECT * FROM suspected_clones(0)$$, '22023', 'window_days 0 is out of range',
    'window_days 0: 22023');

-- ---- Black devices still in use ----
-- 9: grey from Kcell 10 days ago, blocked as counterfeit, then reported
-- again today on Kcell (its SIM and another) and Beeline
SELECT pg_temp.seen(9, 'a19_kcell', 10, '401021000000091');
SELECT block(pg_temp.t(9), 'counterfeit');
SELECT pg_temp.seen(9, 'a19_kcell', 0, '401021000000091');
SELECT pg_temp.seen(9, 'a19_kcell', 0, '401021000000092');
SELECT pg_temp.seen(9, 'a19_beeline', 0, '401011000000093');
-- 10: blocked, not seen since
SELECT pg_temp.seen(10, 'a19_kcell', 10, '401021000000101');
SELECT block(pg_temp.t(10), 'counterfeit');

SELECT results_eq(
    $$SELECT imei, reason, black_since, last_seen, imsi FROM black_in_use('a19_kcell', pg_temp.today() - 30)
       WHERE imei_tac(imei) = '86001900'$$,
    $$SELECT pg_temp.t(9), 'counterfeit', (SELECT since FROM registry WHERE imei = pg_temp.t(9)),
             pg_temp.today(), x FROM unnest(ARRAY[401021000000091, 401021000000092]) x$$,
    'a blocked IMEI reported again on Kcell, per IMSI; its sighting before the block does not count');
SELECT results_eq(
    $$SELECT imei, imsi FROM black_in_use('a19_beeline', pg_temp.today() - 30) WHERE imei_tac(imei) = '86001900'$$,
    $$VALUES (pg_temp.t(9), 401011000000093::bigint)$$, 'Beeline''s list: its own sighting');
SELECT is((SELECT count(*)::int FROM black_in_use('a19_kcell', pg_temp.today() + 1) WHERE imei_tac(imei) = '86001900'), 0,
    'since tomorrow: none');

-- ---- Pairing: the rules (the feed: pairing_feed.sql) ----
\i test/fixtures/approved.sql
-- 1 lists 9 and 10; 2, undecided, lists 9; 3, approved after 1, lists 10
CREATE TEMP TABLE apps (k int, id bigint);
INSERT INTO apps VALUES (1, pg_temp.approved(pg_temp.t(9)));
INSERT INTO application_imeis (application_id, device_ord, ord, imei_text, imei)
SELECT id, 1, 2, pg_temp.t(10)::text, pg_temp.t(10) FROM apps WHERE k = 1;
WITH a AS (
    INSERT INTO applications (applicant_kind, applicant_id, method) VALUES ('individual', '901123300258', 'parcel')
    RETURNING id
), d AS (INSERT INTO application_devices SELECT id, 1, NULL FROM a RETURNING application_id)
INSERT INTO application_imeis (application_id, device_ord, ord, imei_text, imei)
SELECT application_id, 1, 1, pg_temp.t(9)::text, pg_temp.t(9) FROM d;
INSERT INTO apps VALUES (2, (SELECT max(id) FROM applications));
INSERT INTO apps VALUES (3, pg_temp.approved(pg_temp.t(10)));
GRANT SELECT ON apps TO PUBLIC;

SELECT is(pair_subscriber(pg_temp.t(9), '401021000000091'), true, 'the admin pairs without an application');
SELECT is(pair_subscriber(pg_temp.t(9), '401021000000091'), false, 'again: already paired');
SELECT results_eq(
    $$SELECT imei, imsi FROM black_in_use('a19_kcell', pg_temp.today() - 30) WHERE imei_tac(imei) = '86001900'$$,
    $$VALUES (pg_temp.t(9), 401021000000092::bigint)$$,
    'the paired owner is not among the black devices in use; the other SIM is');
SELECT throws_ok($$SELECT pair_subscriber(pg_temp.t(9), '250991000000002')$$, '22023',
    'IMSI 250991000000002 belongs to no operator', 'a visitor''s IMSI belongs to no operator: 22023');
SELECT throws_ok($$SELECT pair_subscriber(pg_temp.t(9), '40102x')$$, '22P02', NULL, 'a bad IMSI: 22P02');
SELECT throws_ok($$SELECT pair_subscriber(NULL, '401021000000091')$$, '22004', NULL, 'no IMEI: 22004');

SET SESSION AUTHORIZATION regress_a19_portal;
SELECT throws_ok($$SELECT imei_registry.pair_subscriber(pg_temp.t(9), '401021000000092')$$, '42501', NULL,
    'the portal needs an application');
SELECT throws_ok(format($$SELECT imei_registry.pair_subscriber(pg_temp.t(9), '401021000000092', %s)$$,
                        (SELECT id FROM apps WHERE k = 2)),
    '55000', NULL, 'an undecided application proves nothing: 55000');
SELECT throws_ok(format($$SELECT imei_registry.pair_subscriber(pg_temp.t(1), '401021000000001', %s)$$,
                        (SELECT id FROM apps WHERE k = 1)),
    '42501', NULL, 'an application that does not list the IMEI: 42501');
SELECT throws_ok(format($$SELECT imei_registry.pair_subscriber(pg_temp.t(10), '401021000000101', %s)$$,
                        (SELECT id FROM apps WHERE k = 1)),
    '42501', NULL, 'an IMEI that a newer approved application lists is that applicant''s: 42501');
SELECT is(imei_registry.pair_subscriber(pg_temp.t(10), '401021000000101', (SELECT id FROM apps WHERE k = 3)), true,
    'the owner''s approved application pairs');
SELECT throws_ok($$SELECT imei_registry.unpair_subscriber(pg_temp.t(9), '401021000000091')$$, '42501', NULL,
    'the portal does not remove the admin''s pair');
SELECT throws_ok($$SELECT * FROM imei_registry.subscriber_pairs$$, '42501', NULL, 'the portal reads no pair');
SELECT throws_ok($$SELECT * FROM imei_registry.grey_reminders('a19_kcell', 3)$$, '42501', NULL,
    'nor any reminder');
RESET SESSION AUTHORIZATION;

-- ---- Privacy, as each role ----
SET SESSION AUTHORIZATION regress_a19_kcell;
SELECT is((SELECT count(*)::int FROM imei_registry.grey_reminders('a19_kcell', 3)
           WHERE imei_registry.imei_tac(imei) = '86001900'), 2, 'Kcell reads its reminders');
SELECT throws_ok($$SELECT * FROM imei_registry.grey_reminders('a19_beeline', 3)$$, '42501',
    'login "regress_a19_kcell" may not read the grey reminders of operator "a19_beeline"',
    'not Beeline''s');
SELECT throws_ok($$SELECT * FROM imei_registry.black_in_use('a19_beeline', current_date - 30)$$, '42501', NULL,
    'nor Beeline''s black devices in use');
SELECT throws_ok($$SELECT * FROM imei_registry.suspected_clones()$$, '42501', NULL,
    'suspected clones span every network: the admin''s');
SELECT results_eq($$SELECT imei, imsi FROM imei_registry.subscriber_pairs
                     WHERE paired AND imei_registry.imei_tac(imei) = '86001900' ORDER BY imei$$,
    $$VALUES (pg_temp.t(9), 401021000000091::bigint), (pg_temp.t(10), 401021000000101::bigint)$$,
    'Kcell reads the pairs of its subscribers');
SELECT throws_ok($$SELECT imei_registry.pair_subscriber(pg_temp.t(9), '401021000000092')$$, '42501', NULL,
    'an operator does not pair');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_a19_beeline;
SELECT is((SELECT count(*)::int FROM imei_registry.subscriber_pairs), 0, 'Beeline reads none of Kcell''s pairs');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_a19_reader;
SELECT throws_ok($$SELECT * FROM imei_registry.grey_reminders('a19_kcell', 3)$$, '42501', NULL,
    'a reader reads no reminder');
SELECT throws_ok($$SELECT * FROM imei_registry.exceptions('a19_kcell', 0)$$, '42501', NULL,
    'nor the exceptions');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_a19_admin;
SELECT is((SELECT count(*)::int FROM imei_registry.grey_reminders('a19_beeline', 3)
           WHERE imei_registry.imei_tac(imei) = '86001900'), 1, 'the admin reads every operator''s reminders');
SELECT is((SELECT count(*)::int FROM imei_registry.suspected_clones() WHERE imei_registry.imei_tac(imei) = '86001900'), 4,
    'and the suspected clones (the black one, 9, among them: three home SIMs)');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
