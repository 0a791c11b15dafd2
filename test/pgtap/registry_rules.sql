-- pgTAP: the registry's contract -- tables, triggers, the rules with their
-- SQLSTATE, history, roles and privileges.  IMEIs: TAC 86000006.
BEGIN;
SELECT plan(58);
SET LOCAL search_path = imei_registry, public;

CREATE FUNCTION pg_temp.t(n int) RETURNS imei_registry.imei
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('86000006' || lpad(n::text, 6, '0')) $$;
\i test/fixtures/approved.sql

-- Tables and columns others code against.
SELECT has_table('imei_registry', t, t || ' exists')
FROM unnest(ARRAY['registry', 'history', 'reasons', 'operators', 'devices', 'imports']) t;
SELECT columns_are('imei_registry', 'registry', ARRAY['imei', 'status', 'reason', 'reason_base', 'since',
    'first_seen_at', 'first_operator', 'grey_last_day', 'grey_period_days', 'device_id',
    'application_id', 'import_id', 'note'], 'registry columns');
SELECT columns_are('imei_registry', 'history', ARRAY['id', 'imei', 'from_status', 'to_status',
    'reason', 'actor', 'changed_at', 'application_id', 'import_id', 'note', 'first_seen_at',
    'first_operator', 'grey_last_day', 'xid'], 'history columns');
SELECT enum_has_labels('imei_registry', 'status', ARRAY['white', 'grey', 'black'], 'statuses');
SELECT set_eq($$SELECT code FROM imei_registry.reasons WHERE shipped$$,
    ARRAY['unverified', 'lawful_import', 'grandfathered', 'application_approved', 'grey_expired',
          'gsma_blocked', 'counterfeit', 'replaced', 'reinstated', 'earlier_connection'],
    'the shipped reason codes');
SELECT triggers_are('imei_registry', 'registry',
    ARRAY['registry_transition', 'registry_history_insert', 'registry_history_update',
          'registry_no_delete', 'registry_no_truncate', 'registry_no_copy'], 'registry triggers');
SELECT triggers_are('imei_registry', 'history',
    ARRAY['history_append_only', 'history_no_truncate', 'history_stamp_xid',
          'history_from_registry_only'], 'history triggers');
SELECT is((SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'history_append_only'), 'A',
    'append-only fires always');
SELECT is((SELECT string_agg(tgenabled::text, '' ORDER BY tgname) FROM pg_trigger
           WHERE tgname IN ('registry_no_delete', 'registry_no_truncate')), 'AA',
    'registry rows are never deleted: the guards fire always');

-- The rules.
INSERT INTO operators VALUES ('tap_op', 'pgTAP operator');
SELECT is(report_connection(pg_temp.t(1), 'tap_op', '2025-05-01 10:00+00'), 'grey', 'first connection: grey');
SELECT is((SELECT reason FROM registry WHERE imei = pg_temp.t(1)), 'unverified', 'reason unverified');
SELECT is((SELECT grey_last_day FROM registry WHERE imei = pg_temp.t(1)), date '2025-05-31', 'grey period set');
SELECT is(report_connection(pg_temp.t(1), 'tap_op'), 'grey', 'known IMEI: no change');
SELECT throws_ok($$SELECT imei_registry.report_connection(pg_temp.t(2), 'nobody_op')$$,
    '22023', 'unknown operator "nobody_op"', 'unknown operator refused');
SELECT throws_ok($$UPDATE imei_registry.registry SET status = 'white' WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(1)$$,
    'IR001', NULL, 'a change without a reason fails');
SELECT throws_ok($$UPDATE imei_registry.registry SET status = 'white', reason = 'reinstated', note = 'x'
    WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(1)$$, 'IR001', NULL, 'grey cannot be reinstated');
SELECT lives_ok($$UPDATE imei_registry.registry SET status = 'black', reason = 'grey_expired'
    WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(1)$$, 'grey -> black by grey_expired');
SELECT is((SELECT grey_last_day FROM registry WHERE imei = pg_temp.t(1)), NULL, 'grey_last_day cleared');
SELECT lives_ok($$UPDATE imei_registry.registry SET status = 'white', reason = 'application_approved',
    application_id = pg_temp.approved(imei) WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(1)$$, 'black (grey_expired) -> white by application_approved');
SELECT lives_ok($$SELECT imei_registry.block(pg_temp.t(1), 'gsma_blocked')$$, 'white -> black by gsma_blocked');
SELECT throws_ok($$UPDATE imei_registry.registry SET status = 'white', reason = 'application_approved'
    WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(1)$$, 'IR001',
    'IMEI ' || pg_temp.t(1) || ' cannot change from black to white by reason "application_approved"',
    'GSMA-blocked: no application can whiten it');
SELECT throws_ok($$SELECT imei_registry.reinstate(pg_temp.t(1), '')$$, 'IR001', NULL,
    'reinstate needs a written reason');
SELECT lives_ok($$SELECT imei_registry.reinstate(pg_temp.t(1), 'GSMA entry withdrawn')$$, 'reinstated');
SELECT results_eq(
    $$SELECT from_status::text, to_status::text, reason FROM imei_registry.history
      WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(1) ORDER BY id$$,
    $$VALUES (NULL, 'grey', 'unverified'), ('grey', 'black', 'grey_expired'),
             ('black', 'white', 'application_approved'), ('white', 'black', 'gsma_blocked'),
             ('black', 'white', 'reinstated')$$,
    'history holds every change in order');
SELECT is((SELECT count(*)::int FROM history WHERE imei = pg_temp.t(1) AND actor = session_user::text), 5,
    'actor is the session user');
SELECT lives_ok($$UPDATE imei_registry.registry SET note = 'just a note' WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(1)$$,
    'same-status update');
SELECT is((SELECT count(*)::int FROM history WHERE imei = pg_temp.t(1)), 5, 'same-status update writes no history');
SELECT throws_ok($$UPDATE imei_registry.history SET note = 'x'$$, '42501', NULL, 'history: no UPDATE');
SELECT throws_ok($$DELETE FROM imei_registry.history$$, '42501', NULL, 'history: no DELETE');
SELECT throws_ok($$TRUNCATE imei_registry.history$$, '42501', NULL, 'history: no TRUNCATE');
SELECT throws_ok($$INSERT INTO imei_registry.history (imei, to_status, reason, actor, changed_at)
    VALUES (pg_temp.t(1), 'white', 'grandfathered', 'me', now())$$, '42501', NULL,
    'history: rows only from the registry''s trigger');
SELECT throws_ok($$DELETE FROM imei_registry.registry WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(1)$$,
    '42501', NULL, 'registry: no DELETE');
SELECT throws_ok($$TRUNCATE imei_registry.registry$$, '42501', NULL, 'registry: no TRUNCATE');
SELECT throws_ok($$INSERT INTO imei_registry.registry (imei, status, reason) VALUES (pg_temp.t(5), 'white', 'lawful_import')$$,
    'IR001', NULL, 'lawful_import needs an importer''s registration');
-- the guards fire on their own tables only, and nobody else may call them
CREATE TABLE pg_temp.not_the_registry (x int);
CREATE TRIGGER guard BEFORE DELETE ON pg_temp.not_the_registry
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.registry_guard();
SELECT throws_ok($$DELETE FROM pg_temp.not_the_registry$$, '39P01', NULL,
    'registry_guard refuses to fire on another table');
SELECT function_privs_are('imei_registry', 'registry_guard', '{}'::text[], 'public', '{}'::text[],
    'public may not execute registry_guard');
SELECT throws_ok($$INSERT INTO imei_registry.registry (imei, status, reason) VALUES (pg_temp.t(3), 'black', 'replaced')$$,
    'IR001', NULL, 'a new IMEI cannot start black as replaced');
SELECT is((SELECT count(*)::int FROM check_imei(pg_temp.t(4))), 1, 'check_imei: one row for an unknown IMEI');
SELECT is((SELECT reason FROM check_imei(pg_temp.t(4))), 'not_registered', 'check_imei: not_registered');
SELECT is((SELECT status FROM check_imei(pg_temp.t(1))), 'white', 'check_imei: status');

-- Roles and privileges.
SELECT has_role(r, r || ' exists') FROM unnest(ARRAY['imei_registry_admin', 'imei_registry_operator',
    'imei_registry_portal', 'imei_registry_reader']) r;
SELECT is_member_of('imei_registry_reader', ARRAY['imei_registry_portal', 'imei_registry_operator'],
    'portal and operator can check');
SELECT is_member_of('imei_registry_operator', 'imei_registry_admin', 'the admin is an operator too');
SELECT function_privs_are('imei_registry', 'check_imei', ARRAY['imei_registry.imei'], 'imei_registry_reader',
    ARRAY['EXECUTE'], 'reader may check');
SELECT function_privs_are('imei_registry', 'reinstate', ARRAY['imei_registry.imei', 'text'], 'imei_registry_operator',
    '{}'::text[], 'operator may not reinstate');
SELECT function_privs_are('imei_registry', 'reinstate', ARRAY['imei_registry.imei', 'text'], 'public',
    '{}'::text[], 'public may not reinstate');
SELECT table_privs_are('imei_registry', 'registry', 'imei_registry_reader', '{}'::text[], 'reader: no table access');
SELECT table_privs_are('imei_registry', 'registry', 'imei_registry_operator', '{}'::text[], 'operator: no table access');
SELECT table_privs_are('imei_registry', 'registry', 'imei_registry_admin', ARRAY['SELECT', 'INSERT', 'UPDATE'],
    'admin writes the register directly');
SELECT table_privs_are('imei_registry', 'history', 'imei_registry_admin', ARRAY['SELECT'], 'admin reads history only');

SELECT * FROM finish();
ROLLBACK;
