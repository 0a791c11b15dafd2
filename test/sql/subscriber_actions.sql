-- Reminders, suspected clones, black devices in use, pairing and its feed
-- (issue 19): the messages, each with its SQLSTATE, detail and hint.  IMEIs
-- of TAC 35991901 belong to this file.  The scenarios: test/pgtap/
-- subscriber_actions.sql and pairing_feed.sql.
SET client_min_messages = warning;
SET search_path = imei_registry, public;

-- what a call raises: SQLSTATE, message, detail and hint
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text; hin text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, hin = PG_EXCEPTION_HINT;
    RETURN st || ': ' || msg || coalesce(E'\nDETAIL: ' || nullif(det, ''), '')
                             || coalesce(E'\nHINT: ' || nullif(hin, ''), '');
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.err(text) TO PUBLIC;

INSERT INTO operators VALUES ('r19_kcell', 'Kcell'), ('r19_beeline', 'Beeline');
INSERT INTO operator_networks VALUES ('40102', 'r19_kcell'), ('40101', 'r19_beeline');
CREATE ROLE regress_r19_kcell LOGIN IN ROLE imei_registry_operator;
CREATE ROLE regress_r19_portal LOGIN IN ROLE imei_registry_portal;
INSERT INTO operator_roles VALUES ('r19_kcell', 'regress_r19_kcell');

-- a sightings row's days: bit d - 1 is day d
SELECT sighting_first_day('2026-11-01', 0), sighting_last_day('2026-11-01', 0);
SELECT sighting_first_day('2026-11-01', (1 << 4) | (1 << 29)), sighting_last_day('2026-11-01', (1 << 4) | (1 << 29));
SELECT sighting_days_within('2026-11-01', (1 << 4) | (1 << 29), '2026-11-05', '2026-11-29') = 1 << 4 AS first_only,
       sighting_days_within('2026-11-01', (1 << 4) | (1 << 29), '-infinity', 'infinity') AS both,
       sighting_days_within('2026-11-01', (1 << 4) | (1 << 29), '2026-12-01', 'infinity') AS none;
-- at the end of the date range: the last date, then an error, never an invalid date
SELECT sighting_days('5874897-12-01', 1 << 30), sighting_last_day('5874897-12-01', 1 << 30);
SELECT pg_temp.err($$SELECT sighting_days('5874897-12-31', 1 << 1)$$);
SELECT pg_temp.err($$SELECT sighting_last_day('5874897-12-31', 1 << 1)$$);
SELECT pg_temp.err($$SELECT sighting_first_day('5874897-12-31', 1 << 1)$$);
-- days_left and the last day: check_imei's arithmetic, inverted
SELECT grey_last_day_for(0) = local_date(now()) AS today, grey_last_day_for(30) - grey_last_day_for(0) AS thirty;
SELECT pg_temp.err($$SELECT grey_last_day_for(-1)$$);

-- the readers' arguments
SELECT pg_temp.err($$SELECT * FROM grey_reminders('r19_tele2', 3)$$);
SELECT pg_temp.err($$SELECT * FROM grey_reminders(NULL, 3)$$);
SELECT pg_temp.err($$SELECT * FROM grey_reminders('r19_kcell', NULL)$$);
SELECT pg_temp.err($$SELECT * FROM grey_reminders('r19_kcell', -2)$$);
SELECT pg_temp.err($$SELECT * FROM suspected_clones(0)$$);
SELECT pg_temp.err($$SELECT * FROM suspected_clones(400)$$);
SELECT pg_temp.err($$SELECT * FROM suspected_clones(30, 1)$$);
SELECT pg_temp.err($$SELECT * FROM suspected_clones(NULL)$$);
SELECT pg_temp.err($$SELECT * FROM black_in_use('r19_kcell', NULL)$$);
SELECT pg_temp.err($$SELECT * FROM black_in_use('r19_kcell', 'infinity')$$);
SELECT pg_temp.err($$SELECT * FROM exceptions('r19_kcell', -1)$$);
SELECT pg_temp.err($$SELECT * FROM exceptions('r19_kcell', 0, 0)$$);
SELECT pg_temp.err($$SELECT * FROM exceptions('r19_kcell', 123456789)$$);
SELECT pg_temp.err($$SELECT * FROM exceptions('r19_kcell', NULL)$$);

-- an operator reads only its own
SET SESSION AUTHORIZATION regress_r19_kcell;
SELECT pg_temp.err($$SELECT * FROM imei_registry.grey_reminders('r19_beeline', 3)$$);
SELECT pg_temp.err($$SELECT * FROM imei_registry.black_in_use('r19_beeline', '2026-11-01')$$);
SELECT pg_temp.err($$SELECT * FROM imei_registry.exceptions('r19_beeline', 0)$$);
SELECT pg_temp.err($$SELECT * FROM imei_registry.suspected_clones()$$);
SELECT pg_temp.err($$SELECT imei_registry.pair_subscriber('359919010000014', '401021000000001')$$);
SELECT count(*) FROM imei_registry.grey_reminders('r19_kcell', 3);
RESET SESSION AUTHORIZATION;

-- pairing: the IMSI, the application
SELECT pg_temp.err($$SELECT pair_subscriber('359919010000014', '250991000000001')$$);
SELECT pg_temp.err($$SELECT pair_subscriber('359919010000014', '401-02')$$);
SELECT pg_temp.err($$SELECT pair_subscriber('359919010000014', NULL)$$);
SELECT pg_temp.err($$SELECT unpair_subscriber(NULL, '401021000000001')$$);
SELECT pg_temp.err($$SELECT pair_subscriber('359919010000014', '401021000000001', -5)$$);
INSERT INTO applications (applicant_kind, applicant_id, method, state, decided_at, decided_by)
VALUES ('individual', '901123300258', 'parcel', 'rejected', now(), 'test');
SELECT regexp_replace(pg_temp.err(format($$SELECT pair_subscriber('359919010000014', '401021000000001', %s)$$,
                                         (SELECT max(id) FROM applications))),
                      'application [0-9]+', 'application <id>', 'g') AS err;
UPDATE applications SET state = 'approved' WHERE id = (SELECT max(id) FROM applications);
SELECT regexp_replace(pg_temp.err(format($$SELECT pair_subscriber('359919010000014', '401021000000001', %s)$$,
                                         (SELECT max(id) FROM applications))),
                      'application [0-9]+', 'application <id>', 'g') AS err;
SET SESSION AUTHORIZATION regress_r19_portal;
SELECT pg_temp.err($$SELECT imei_registry.pair_subscriber('359919010000014', '401021000000001')$$);
RESET SESSION AUTHORIZATION;
-- the admin's pair, which the portal does not remove
SELECT pair_subscriber('359919010000014', '401021000000001') AS added,
       pair_subscriber('359919010000014', '401021000000001') AS again;
SELECT imei, imsi, operator, paired, application_id FROM subscriber_pairs;
SET SESSION AUTHORIZATION regress_r19_portal;
SELECT pg_temp.err($$SELECT imei_registry.unpair_subscriber('359919010000014', '401021000000001')$$);
RESET SESSION AUTHORIZATION;
SELECT unpair_subscriber('359919010000014', '401021000000001') AS removed,
       unpair_subscriber('359919010000014', '401021000000001') AS again;
SELECT imei, imsi, operator, action, actor = session_user AS by_me FROM pair_history ORDER BY id;
SELECT pg_temp.err($$UPDATE pair_history SET action = 'added'$$);
SELECT pg_temp.err($$DELETE FROM pair_history$$);
-- refused whether a row would be touched or not, in every mode; in replica
-- mode (a restore, a logical subscriber) a row gets this transaction's xid
SELECT pg_temp.err($$DELETE FROM pair_history WHERE false$$);
SELECT pg_temp.err($$TRUNCATE pair_history$$);
BEGIN;
SET LOCAL session_replication_role = replica;
SELECT pg_temp.err($$UPDATE pair_history SET action = 'added' WHERE false$$);
SELECT pg_temp.err($$TRUNCATE pair_history$$);
INSERT INTO pair_history (id, imei, imsi, operator, action, changed_at, actor, xid)
    OVERRIDING SYSTEM VALUE
    VALUES (1000, '359919010000014', 401021000000001, 'r19_kcell', 'added', now(), 'restore', '1');
SELECT xid = pg_current_xact_id() AS local_xid FROM pair_history WHERE id = 1000;
ROLLBACK;
-- the rule of an IMSI's operator: the longest PLMN that starts it
INSERT INTO operator_networks VALUES ('401021', 'r19_beeline');
SELECT imsi_operator(401021000000001) AS six, imsi_operator(401020000000001) AS five,
       imsi_operator(250991000000001) AS visitor;
SELECT pg_temp.err($$INSERT INTO operator_networks VALUES ('4010', 'r19_kcell')$$);
SELECT pg_temp.err($$INSERT INTO operator_networks VALUES ('40105', 'r19_tele2')$$);

DELETE FROM operator_roles WHERE role = 'regress_r19_kcell';
DROP ROLE regress_r19_kcell;
DROP ROLE regress_r19_portal;
