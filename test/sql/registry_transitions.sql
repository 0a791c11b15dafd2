-- The registry state machine (src/transitions.c): every allowed change,
-- every forbidden one with SQLSTATE IR001, history, since, same-status
-- updates.  IMEIs of this file: TAC 86000001.
SET search_path = imei_registry, public;

CREATE FUNCTION pg_temp.t(n int) RETURNS imei_registry.imei
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('86000001' || lpad(n::text, 6, '0')) $$;

-- A row in a given state, made only through allowed changes.
CREATE FUNCTION pg_temp.make(n int, state text) RETURNS imei_registry.imei
LANGUAGE plpgsql AS $$
DECLARE
    i imei_registry.imei := pg_temp.t(n);
BEGIN
    CASE state
    WHEN 'grey' THEN
        INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
        VALUES (i, 'grey', 'unverified', '2025-05-02 12:00+05');
    WHEN 'white' THEN
        INSERT INTO imei_registry.registry (imei, status, reason) VALUES (i, 'white', 'lawful_import');
    ELSE  -- black/REASON
        INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
        VALUES (i, 'grey', 'unverified', '2025-05-02 12:00+05');
        UPDATE imei_registry.registry SET status = 'black', reason = split_part(state, '/', 2)
        WHERE imei OPERATOR(pg_catalog.=) i;
    END CASE;
    RETURN i;
END $$;

-- The whole matrix: every start state, every target status, every reason.
-- "ok" or the SQLSTATE of the refusal.
CREATE TEMP TABLE outcome (from_state text, to_status text, reason text, result text);
DO $$
DECLARE
    f text; s text; r text; n int := 0;
    i imei_registry.imei;
BEGIN
    FOREACH f IN ARRAY ARRAY['new', 'grey', 'white', 'black/grey_expired',
                             'black/gsma_blocked', 'black/counterfeit', 'black/replaced'] LOOP
        FOREACH s IN ARRAY ARRAY['white', 'grey', 'black'] LOOP
            FOR r IN SELECT code FROM imei_registry.reasons WHERE shipped ORDER BY code LOOP
                n := n + 1;
                BEGIN
                    IF f = 'new' THEN
                        INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at, note)
                        VALUES (pg_temp.t(n), s::imei_registry.status, r,
                                '2025-05-02 12:00+05', 'a note');
                    ELSE
                        i := pg_temp.make(n, f);
                        UPDATE imei_registry.registry
                           SET status = s::imei_registry.status, reason = r, note = 'a note',
                               grey_last_day = CASE WHEN s = 'grey' THEN date '2025-06-01' END
                         WHERE imei OPERATOR(pg_catalog.=) i;
                    END IF;
                    INSERT INTO outcome VALUES (f, s, r, 'ok');
                EXCEPTION WHEN OTHERS THEN
                    INSERT INTO outcome VALUES (f, s, r, SQLSTATE);
                END;
            END LOOP;
        END LOOP;
    END LOOP;
END $$;

-- Allowed: exactly the rules of docs/design.md.
SELECT from_state, to_status, string_agg(reason, ', ' ORDER BY reason) AS by
FROM outcome WHERE result = 'ok'
GROUP BY 1, 2 ORDER BY 1, 2;
-- Everything else is refused with IR001 (same status, same reason is a
-- no-op UPDATE and is listed as allowed above only if it happened).
SELECT result, count(*) FROM outcome WHERE result <> 'ok' GROUP BY 1;
-- Reasons that do not lead to the target status never pass.
SELECT count(*) AS mismatched_but_ok
FROM outcome o JOIN imei_registry.reasons r ON r.code = o.reason
WHERE o.result = 'ok' AND r.status::text <> o.to_status
  AND NOT (o.from_state = o.to_status);
-- transition_allowed() answers as the trigger does (every change above had
-- a note; black/replaced cannot be made from grey; a no-op UPDATE, same
-- status and same reason, changes nothing and is left out), but for the
-- conditions on the row's dates, which only the trigger knows
-- (test/sql/grey_dates.sql tests them).
SELECT count(*) AS compared,
       count(*) FILTER (WHERE (o.result = 'ok') IS DISTINCT FROM imei_registry.transition_allowed(
           f.status::imei_registry.status, o.to_status::imei_registry.status, o.reason, f.reason))
           AS disagreements
FROM outcome o,
     LATERAL (SELECT CASE WHEN o.from_state = 'new' THEN NULL
                          ELSE split_part(o.from_state, '/', 1) END AS status,
                     CASE o.from_state WHEN 'new' THEN NULL WHEN 'grey' THEN 'unverified'
                          WHEN 'white' THEN 'lawful_import'
                          ELSE split_part(o.from_state, '/', 2) END AS reason) f
WHERE o.from_state <> 'black/replaced'
  AND (f.status, f.reason) IS DISTINCT FROM (o.to_status, o.reason)
  AND NOT EXISTS (SELECT FROM imei_registry.transition_rules() t
                   WHERE t.from_status IS NOT DISTINCT FROM f.status::imei_registry.status
                     AND t.to_status::text = o.to_status AND t.reason = o.reason
                     AND t.conditions && ARRAY['connected_before_rules', 'history_only']);
DELETE FROM imei_registry.registry WHERE imei_tac(imei) = '86000001';

-- The messages, exactly.
\set VERBOSITY default
SELECT pg_temp.make(1001, 'grey') IS NOT NULL AS made;
UPDATE registry SET status = 'white' WHERE imei = pg_temp.t(1001);
UPDATE registry SET status = 'white', reason = 'lawful_import' WHERE imei = pg_temp.t(1001);
UPDATE registry SET status = 'black', reason = 'replaced' WHERE imei = pg_temp.t(1001);
UPDATE registry SET reason = 'grey_expired' WHERE imei = pg_temp.t(1001);
UPDATE registry SET status = 'black', reason = NULL WHERE imei = pg_temp.t(1001);
UPDATE registry SET imei = pg_temp.t(1002) WHERE imei = pg_temp.t(1001);
SELECT pg_temp.make(1003, 'black/counterfeit') IS NOT NULL AS made;
UPDATE registry SET status = 'white', reason = 'application_approved' WHERE imei = pg_temp.t(1003);
UPDATE registry SET status = 'white', reason = 'reinstated' WHERE imei = pg_temp.t(1003);
UPDATE registry SET status = 'white', reason = 'reinstated', note = '  ' WHERE imei = pg_temp.t(1003);
UPDATE registry SET status = 'grey', reason = 'unverified', first_seen_at = '2025-05-02 12:00+05' WHERE imei = pg_temp.t(1003);
INSERT INTO registry (imei, status, reason) VALUES (pg_temp.t(1004), 'black', 'grey_expired');
INSERT INTO registry (imei, status, reason) VALUES (pg_temp.t(1004), 'white', 'reinstated');
INSERT INTO registry (imei, status, reason) VALUES (pg_temp.t(1004), 'white', 'no_such_code');
INSERT INTO registry (imei, status) VALUES (pg_temp.t(1004), 'white');
-- the reason must exist and lead to the status, even without the trigger
\set VERBOSITY terse
ALTER TABLE registry DISABLE TRIGGER registry_transition;
INSERT INTO registry (imei, status, reason) VALUES (pg_temp.t(1004), 'white', 'counterfeit');
INSERT INTO registry (imei, status, reason) VALUES (pg_temp.t(1004), 'white', 'no_such_code');
ALTER TABLE registry ENABLE TRIGGER registry_transition;

-- History: one row per change, in order, with from, to, reason, actor and
-- cause; since and changed_at are the transaction's time.
BEGIN;
SELECT pg_temp.make(1010, 'grey') IS NOT NULL AS made;
UPDATE registry SET status = 'black', reason = 'grey_expired' WHERE imei = pg_temp.t(1010);
UPDATE registry SET status = 'white', reason = 'application_approved', application_id = 77
 WHERE imei = pg_temp.t(1010);
UPDATE registry SET status = 'black', reason = 'gsma_blocked' WHERE imei = pg_temp.t(1010);
UPDATE registry SET status = 'white', reason = 'reinstated', note = 'GSMA listing withdrawn'
 WHERE imei = pg_temp.t(1010);
SELECT from_status, to_status, reason, actor = session_user::text AS actor_ok,
       changed_at = now() AS at_now, application_id, import_id, note, xid = pg_current_xact_id() AS xid_ok
FROM history WHERE imei = pg_temp.t(1010) ORDER BY id;
-- the application id of the approval is not carried into the later block
SELECT status, reason, since = now() AS since_now, grey_last_day, application_id, note
FROM registry WHERE imei = pg_temp.t(1010);
COMMIT;

-- A same-status UPDATE (device_id, first connection, cause columns) changes
-- nothing else: no history, no check, since kept even if set by hand.
INSERT INTO devices (model) VALUES ('registry test phone');
SELECT count(*) AS history_before FROM history WHERE imei = pg_temp.t(1010) \gset
UPDATE registry SET device_id = (SELECT max(device_id) FROM devices),
                    since = '2000-01-01'
 WHERE imei = pg_temp.t(1010);
SELECT device_id IS NOT NULL AS has_device, since > '2020-01-01' AS since_kept, first_seen_at
FROM registry WHERE imei = pg_temp.t(1010);
SELECT count(*) - :history_before AS new_history_rows FROM history WHERE imei = pg_temp.t(1010);
-- since cannot be forged on insert either
INSERT INTO registry (imei, status, reason, since) VALUES (pg_temp.t(1011), 'white', 'lawful_import', '2025-03-24');
SELECT since > '2025-03-25' AS since_stamped FROM registry WHERE imei = pg_temp.t(1011);

-- INSERT ... ON CONFLICT: history only for rows really inserted or updated.
INSERT INTO registry (imei, status, reason, first_seen_at)
VALUES (pg_temp.t(1011), 'grey', 'unverified', '2025-05-02 12:00+05') ON CONFLICT DO NOTHING;
SELECT count(*) AS history_of_1011 FROM history WHERE imei = pg_temp.t(1011);

-- History is append-only, for everybody.
\set VERBOSITY default
UPDATE history SET note = 'x' WHERE imei = pg_temp.t(1010);
DELETE FROM history WHERE imei = pg_temp.t(1010);
TRUNCATE history;
\set VERBOSITY terse
-- xid is the writing transaction: by default in normal operation, and
-- stamped by the trigger for rows applied under replica mode (restore,
-- logical replication) whatever xid they carry.
BEGIN;
INSERT INTO history (imei, to_status, reason, actor, changed_at)
VALUES (pg_temp.t(1012), 'white', 'lawful_import', 'me', now());
SET LOCAL session_replication_role = replica;
INSERT INTO history (imei, to_status, reason, actor, changed_at, xid)
VALUES (pg_temp.t(1013), 'white', 'lawful_import', 'me', now(), '1');
SELECT imei, xid = pg_current_xact_id() AS stamped FROM history
WHERE imei IN (pg_temp.t(1012), pg_temp.t(1013)) ORDER BY imei;
-- append-only holds in replica mode too
DELETE FROM history WHERE imei = pg_temp.t(1012);
ROLLBACK;

-- Statement-level bulk change: every row checked, one history row each.
INSERT INTO registry (imei, status, reason, first_seen_at)
SELECT pg_temp.t(2000 + g), 'grey', 'unverified', '2025-05-02 12:00+05' FROM generate_series(1, 100) g;
UPDATE registry SET status = 'black', reason = 'grey_expired'
WHERE imei BETWEEN pg_temp.t(2001) AND pg_temp.t(2100);
SELECT to_status, reason, count(*) FROM history
WHERE imei BETWEEN pg_temp.t(2001) AND pg_temp.t(2100) GROUP BY 1, 2 ORDER BY 1, 2;
-- one forbidden row fails the whole statement
INSERT INTO registry (imei, status, reason) VALUES (pg_temp.t(2101), 'white', 'lawful_import');
UPDATE registry SET status = 'white', reason = 'application_approved'
WHERE imei BETWEEN pg_temp.t(2001) AND pg_temp.t(2101);
SELECT status, count(*) FROM registry
WHERE imei BETWEEN pg_temp.t(2001) AND pg_temp.t(2101) GROUP BY 1 ORDER BY 1;

-- Cleanup (history stays: it is append-only).
DELETE FROM registry WHERE imei_tac(imei) = '86000001';
