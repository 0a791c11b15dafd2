-- The registry state machine (src/transitions.c): every allowed change,
-- every forbidden one with SQLSTATE IR001, history, since, same-status
-- updates.  IMEIs of this file: TAC 86000001.
SET search_path = imei_registry, public;

CREATE FUNCTION pg_temp.t(n int) RETURNS imei_registry.imei
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('86000001' || lpad(n::text, 6, '0')) $$;

-- The causes that reasons name: an importer's registration for
-- lawful_import (with, for a grey IMEI, the importer's commercial import),
-- an application approved in this transaction that lists the IMEI for
-- application_approved (a board replacement, whose new IMEI may be new).
-- A commercial import has its goods declaration, a board replacement lists
-- the IMEI as its new one.
INSERT INTO imei_registry.imports (importer) VALUES ('transitions test importer');
CREATE FUNCTION pg_temp.registration() RETURNS bigint LANGUAGE sql AS
$$ SELECT max(import_id) FROM imei_registry.imports WHERE importer = 'transitions test importer' $$;
\i test/fixtures/approved.sql

CREATE FUNCTION pg_temp.cause(reason text, i imei_registry.imei) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    a bigint;
BEGIN
    IF reason = 'lawful_import' THEN
        RETURN pg_temp.approved(i, 'commercial_import');
    ELSIF reason = 'application_approved' THEN
        a := pg_temp.approved(i, 'board_replacement');
        INSERT INTO imei_registry.application_replacements
            (application_id, ord, old_imei_text, new_imei_text, new_imei)
        VALUES (a, 1, '?', i::text, i);
        RETURN a;
    END IF;
    RETURN NULL;
END $$;

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
        INSERT INTO imei_registry.registry (imei, status, reason, import_id)
        VALUES (i, 'white', 'lawful_import', pg_temp.registration());
    ELSE  -- black/REASON
        INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
        VALUES (i, 'grey', 'unverified', '2025-05-02 12:00+05');
        UPDATE imei_registry.registry SET status = 'black', reason = split_part(state, '/', 2)
        WHERE imei OPERATOR(pg_catalog.=) i;
    END CASE;
    RETURN i;
END $$;

-- The whole matrix: every start state, every target status, every reason,
-- each with the cause its reason names.  "ok" or the SQLSTATE of the refusal.
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
                        INSERT INTO imei_registry.registry
                            (imei, status, reason, first_seen_at, note, import_id, application_id)
                        VALUES (pg_temp.t(n), s::imei_registry.status, r,
                                '2025-05-02 12:00+05', 'a note',
                                CASE WHEN r = 'lawful_import' THEN pg_temp.registration() END,
                                pg_temp.cause(r, pg_temp.t(n)));
                    ELSE
                        i := pg_temp.make(n, f);
                        UPDATE imei_registry.registry
                           SET status = s::imei_registry.status, reason = r, note = 'a note',
                               grey_last_day = CASE WHEN s = 'grey' THEN date '2025-06-01' END,
                               import_id = CASE WHEN r = 'lawful_import' THEN pg_temp.registration() END,
                               application_id = pg_temp.cause(r, i)
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
-- visible text: not only white space, controls or invisible format characters
UPDATE registry SET status = 'white', reason = 'reinstated', note = E'\u200B' WHERE imei = pg_temp.t(1003);
UPDATE registry SET status = 'white', reason = 'reinstated', note = E' \u00A0\t\u2060\uFEFF\u3000\u180E\u00AD\n' WHERE imei = pg_temp.t(1003);
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
-- cause; since and changed_at are when each change was made
-- (clock_timestamp()), not when the transaction began.
BEGIN;
SELECT pg_temp.make(1010, 'grey') IS NOT NULL AS made;
UPDATE registry SET status = 'black', reason = 'grey_expired' WHERE imei = pg_temp.t(1010);
UPDATE registry SET status = 'white', reason = 'application_approved',
       application_id = pg_temp.approved(pg_temp.t(1010))
 WHERE imei = pg_temp.t(1010);
UPDATE registry SET status = 'black', reason = 'gsma_blocked' WHERE imei = pg_temp.t(1010);
UPDATE registry SET status = 'white', reason = 'reinstated', note = 'GSMA listing withdrawn'
 WHERE imei = pg_temp.t(1010);
SELECT from_status, to_status, reason, actor = session_user::text AS actor_ok,
       changed_at > now() AND changed_at < clock_timestamp() AS at_change,
       application_id IS NOT NULL AS has_application, import_id, note,
       xid = pg_current_xact_id() AS xid_ok
FROM history WHERE imei = pg_temp.t(1010) ORDER BY id;
-- the application id of the approval is not carried into the later block
SELECT status, reason, since > now() AS since_after_start, grey_last_day, application_id, note
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
INSERT INTO registry (imei, status, reason, since, first_seen_at) VALUES (pg_temp.t(1011), 'white', 'grandfathered', '2025-03-24', '2025-03-01 12:00+05');
SELECT since > '2025-03-25' AS since_stamped FROM registry WHERE imei = pg_temp.t(1011);

-- INSERT ... ON CONFLICT: history only for rows really inserted or updated.
INSERT INTO registry (imei, status, reason, first_seen_at)
VALUES (pg_temp.t(1011), 'grey', 'unverified', '2025-05-02 12:00+05') ON CONFLICT DO NOTHING;
SELECT count(*) AS history_of_1011 FROM history WHERE imei = pg_temp.t(1011);

-- History is append-only, for everybody, and written only by the registry's
-- trigger (in replica mode too for UPDATE, DELETE, TRUNCATE).
\set VERBOSITY default
UPDATE history SET note = 'x' WHERE imei = pg_temp.t(1010);
DELETE FROM history WHERE imei = pg_temp.t(1010);
TRUNCATE history;
INSERT INTO history (imei, to_status, reason, actor, changed_at)
VALUES (pg_temp.t(1012), 'white', 'lawful_import', 'me', now());
-- Registry rows are never deleted or truncated, in replica mode neither.
DELETE FROM registry WHERE imei = pg_temp.t(1010);
TRUNCATE registry;
\set VERBOSITY terse
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM registry WHERE imei = pg_temp.t(1010);
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
TRUNCATE registry;
ROLLBACK;
-- xid is the writing transaction: by default in normal operation, and
-- stamped by the trigger for rows applied under replica mode (restore,
-- logical replication) whatever xid they carry.
BEGIN;
SELECT pg_temp.make(1012, 'grey') IS NOT NULL AS made;
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
INSERT INTO registry (imei, status, reason, first_seen_at) VALUES (pg_temp.t(2101), 'white', 'grandfathered', '2025-03-01 12:00+05');
UPDATE registry SET status = 'white', reason = 'application_approved',
       application_id = pg_temp.approved(imei)
WHERE imei BETWEEN pg_temp.t(2001) AND pg_temp.t(2101);
SELECT status, count(*) FROM registry
WHERE imei BETWEEN pg_temp.t(2001) AND pg_temp.t(2101) GROUP BY 1 ORDER BY 1;
-- The failed statement took an application id for each row it reached
-- before the forbidden one, a number that depends on the plan and the
-- heap's order: the ids that messages below name start from a fixed value.
SELECT setval(pg_get_serial_sequence('imei_registry.applications', 'id'), 1000) AS restarted;

-- A reason that names a cause needs that cause (IR001).
\set VERBOSITY default
-- lawful_import: an importer's registration
INSERT INTO registry (imei, status, reason) VALUES (pg_temp.t(3001), 'white', 'lawful_import');
INSERT INTO registry (imei, status, reason, import_id) VALUES (pg_temp.t(3001), 'white', 'lawful_import', 999999);
INSERT INTO imports (importer, target, rows_read, rows_loaded, rows_rejected, rows_already_present)
VALUES ('a COPY, not a registration', 'upload_connections', 0, 0, 0, 0);
INSERT INTO registry (imei, status, reason, import_id)
VALUES (pg_temp.t(3001), 'white', 'lawful_import', (SELECT max(import_id) FROM imports));
INSERT INTO registry (imei, status, reason, import_id)
VALUES (pg_temp.t(3001), 'white', 'lawful_import', pg_temp.registration());
SELECT status, reason, import_id = pg_temp.registration() AS cause FROM registry WHERE imei = pg_temp.t(3001);
-- application_approved: an application approved in this transaction that
-- lists the IMEI
SELECT pg_temp.make(3002, 'grey') IS NOT NULL AS made;
UPDATE registry SET status = 'white', reason = 'application_approved' WHERE imei = pg_temp.t(3002);
UPDATE registry SET status = 'white', reason = 'application_approved', application_id = 999999
 WHERE imei = pg_temp.t(3002);
SELECT pg_temp.approved(pg_temp.t(3003)) AS other_app \gset
UPDATE registry SET status = 'white', reason = 'application_approved', application_id = :other_app
 WHERE imei = pg_temp.t(3002);
BEGIN;
SELECT pg_temp.approved(pg_temp.t(3003)) AS other_app \gset
UPDATE registry SET status = 'white', reason = 'application_approved', application_id = :other_app
 WHERE imei = pg_temp.t(3002);
ROLLBACK;
BEGIN;
INSERT INTO applications (applicant_kind, applicant_id, method) VALUES ('individual', '000000000000', 'parcel')
RETURNING id AS submitted_app \gset
INSERT INTO application_devices VALUES (:submitted_app, 1, NULL);
INSERT INTO application_imeis (application_id, device_ord, ord, imei_text, imei)
VALUES (:submitted_app, 1, 1, pg_temp.t(3002)::text, pg_temp.t(3002));
UPDATE registry SET status = 'white', reason = 'application_approved', application_id = :submitted_app
 WHERE imei = pg_temp.t(3002);
ROLLBACK;
-- a board replacement: the IMEI must be a new IMEI of a replacement
BEGIN;
SELECT pg_temp.approved(pg_temp.t(3002), 'board_replacement') AS board_app \gset
UPDATE registry SET status = 'white', reason = 'application_approved', application_id = :board_app
 WHERE imei = pg_temp.t(3002);
ROLLBACK;
-- Many rows citing one application in one statement (a decision's UPDATE):
-- the trigger reads the application once per statement and the IMEIs it
-- lists as a set, and still refuses the row of an IMEI it does not list, in
-- whatever row of the statement; a later statement reads the application
-- again.
BEGIN;
SELECT count(pg_temp.make(n, 'grey')) AS made FROM generate_series(3020, 3024) n;
SELECT pg_temp.approved(pg_temp.t(3020)) AS many_app \gset
INSERT INTO application_imeis (application_id, device_ord, ord, imei_text, imei)
SELECT :many_app, 1, n - 3019, pg_temp.t(n)::text, pg_temp.t(n) FROM generate_series(3021, 3023) n;
SAVEPOINT s;
UPDATE registry SET status = 'white', reason = 'application_approved', application_id = :many_app
 WHERE imei IN (SELECT pg_temp.t(n) FROM generate_series(3020, 3024) n);
ROLLBACK TO s;
UPDATE registry SET status = 'white', reason = 'application_approved', application_id = :many_app
 WHERE imei IN (SELECT pg_temp.t(n) FROM generate_series(3020, 3022) n);
SELECT count(*) AS white FROM registry
 WHERE imei IN (SELECT pg_temp.t(n) FROM generate_series(3020, 3024) n) AND status = 'white';
UPDATE applications SET state = 'rejected' WHERE id = :many_app;
UPDATE registry SET status = 'white', reason = 'application_approved', application_id = :many_app
 WHERE imei = pg_temp.t(3023);
ROLLBACK;
\set VERBOSITY terse
UPDATE registry SET status = 'white', reason = 'application_approved',
       application_id = pg_temp.approved(pg_temp.t(3002))
 WHERE imei = pg_temp.t(3002);
SELECT status, reason FROM registry WHERE imei = pg_temp.t(3002);

-- since is when the change was made: a transaction held open does not
-- backdate it.
BEGIN;
SELECT now() AS xact_start \gset
SELECT pg_sleep(0.2);
SELECT pg_temp.make(3010, 'grey') IS NOT NULL AS made;
SELECT pg_sleep(0.2);
UPDATE registry SET status = 'black', reason = 'grey_expired' WHERE imei = pg_temp.t(3010);
SELECT r.since >= :'xact_start'::timestamptz + interval '0.4 s' AS since_when_made,
       (SELECT array_agg(h.changed_at >= :'xact_start'::timestamptz + interval '0.2 s'
                         ORDER BY h.id) FROM history h WHERE h.imei = pg_temp.t(3010)) AS history_when_made,
       r.since = (SELECT max(h.changed_at) FROM history h WHERE h.imei = pg_temp.t(3010)) AS same_moment
FROM registry r WHERE r.imei = pg_temp.t(3010);
COMMIT;

-- A note is at most 500 characters: history keeps it.
\set VERBOSITY default
SELECT pg_temp.make(3020, 'black/counterfeit') IS NOT NULL AS made;
UPDATE registry SET status = 'white', reason = 'reinstated', note = repeat('x', 501) WHERE imei = pg_temp.t(3020);
UPDATE registry SET note = repeat('é', 501) WHERE imei = pg_temp.t(3020);
\set VERBOSITY terse
UPDATE registry SET status = 'white', reason = 'reinstated', note = repeat('é', 500) WHERE imei = pg_temp.t(3020);
SELECT length(note) FROM history WHERE imei = pg_temp.t(3020) AND reason = 'reinstated';

-- Cleanup: registry rows are never deleted; the tables go with the extension.
SET client_min_messages = warning;
\i test/fixtures/fresh_registry.sql
RESET client_min_messages;
