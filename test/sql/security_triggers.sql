-- Attacks on the registry's trigger functions (issue 12): each must end in
-- a clean error, never a crash of the server.  A role may not attach them
-- (EXECUTE is not PUBLIC's); attached anyway (by a superuser), they run
-- only on their own table and shape, else SQLSTATE 39P01 as core's do.
-- IMEIs of this file: TAC 86000012.
SET search_path = imei_registry, public;
CREATE FUNCTION pg_temp.t(n int) RETURNS imei_registry.imei
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('86000012' || lpad(n::text, 6, '0')) $$;

CREATE ROLE regress_sec_nobody LOGIN;
CREATE ROLE regress_sec_operator LOGIN IN ROLE imei_registry_operator;
CREATE ROLE regress_sec_admin LOGIN IN ROLE imei_registry_admin;

\i test/fixtures/try_as.sql

-- No trigger function of the extension is executable by PUBLIC or a group
-- role; CREATE TRIGGER needs EXECUTE, firing does not.
SELECT p.oid::regprocedure AS trigger_function,
       has_function_privilege('regress_sec_nobody', p.oid, 'EXECUTE') AS nobody,
       has_function_privilege('regress_sec_operator', p.oid, 'EXECUTE') AS operator,
       has_function_privilege('regress_sec_admin', p.oid, 'EXECUTE') AS admin
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'imei_registry'
WHERE p.prorettype = 'trigger'::regtype
ORDER BY p.oid::regprocedure::text;

-- Nor are the decision's own C functions (decide_application() runs them,
-- as their owner): a role that calls one is refused.
SELECT p.oid::regprocedure AS decision_function,
       has_function_privilege('regress_sec_nobody', p.oid, 'EXECUTE') AS nobody,
       has_function_privilege('regress_sec_operator', p.oid, 'EXECUTE') AS operator,
       has_function_privilege('regress_sec_admin', p.oid, 'EXECUTE') AS admin
FROM pg_proc p
WHERE p.pronamespace = 'imei_registry'::regnamespace
  AND p.proname IN ('decision_facts', 'decision_rows_placed', 'devices_hold')
ORDER BY p.oid::regprocedure::text;
SELECT pg_temp.try('regress_sec_admin',
    $$SELECT * FROM imei_registry.decision_facts(1, 'gift', '990940003030', NULL, 'pg_catalog.pg_class')$$);
-- (its owner, naming a relation that is not there, gets an error, not a crash)
SELECT * FROM imei_registry.decision_facts(1, 'gift', '990940003030', NULL, 0::regclass);
-- nor, naming one with the registry's columns of other types (a column
-- read as the type it is not; terse: the statement names the temp schema)
\set VERBOSITY terse
CREATE TEMP TABLE not_registry (imei imei_registry.imei, status imei_registry.status,
    reason integer, reason_base text, device_id bigint, first_seen_at timestamptz,
    application_id bigint);
SELECT * FROM imei_registry.decision_facts(1, 'gift', '990940003030', NULL, 'not_registry');
DROP TABLE not_registry;
\set VERBOSITY default

-- Each role tries to attach a trigger function to a table of its own
-- (regress_sec.<what>_<role>), then to fire it; and then the same with the
-- trigger attached by a superuser.  One row per role.
CREATE SCHEMA regress_sec;
GRANT USAGE, CREATE ON SCHEMA regress_sec TO PUBLIC;
CREATE FUNCTION pg_temp.attack(what text, columns text, trig text, fire text)
RETURNS TABLE (who text, create_trigger text, fired text, superuser_trigger text, fired_again text)
LANGUAGE plpgsql AS $$
DECLARE
    tab text;
BEGIN
    FOREACH who IN ARRAY ARRAY['regress_sec_nobody', 'regress_sec_operator', 'regress_sec_admin'] LOOP
        tab := format('regress_sec.%I', what || '_' || who);
        PERFORM pg_temp.try(who, format('CREATE TABLE %s (%s)', tab, columns));
        create_trigger := pg_temp.try(who, format(trig, 'x', tab));
        fired := pg_temp.try(who, format(fire, tab));
        superuser_trigger := pg_temp.try(NULL, format(trig, 'y', tab));
        fired_again := pg_temp.try(who, format(fire, tab));
        RETURN NEXT;
    END LOOP;
END $$;

-- registry_transition on a table with reason bigint: it read the reason as
-- text (signal 11).
SELECT * FROM pg_temp.attack('rt',
    'imei imei_registry.imei, status imei_registry.status, reason bigint, since timestamptz,'
    ' grey_last_day date, application_id bigint, import_id bigint, note text',
    'CREATE TRIGGER %s BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION imei_registry.registry_transition()',
    format($$INSERT INTO %%s VALUES (%L, 'grey', 12345, now(), NULL, NULL, NULL, NULL)$$, pg_temp.t(1)));
-- note bigint, on the UPDATE path
SELECT * FROM pg_temp.attack('rtu',
    'imei imei_registry.imei, status imei_registry.status, reason text, since timestamptz,'
    ' grey_last_day date, application_id bigint, import_id bigint, note bigint',
    'CREATE TRIGGER %s BEFORE UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION imei_registry.registry_transition()',
    format($$WITH d AS (DELETE FROM %1$s) INSERT INTO %1$s VALUES (%2$L, 'grey', 'unverified', now(), NULL, NULL, NULL, 7);
             UPDATE %1$s SET status = 'black', reason = 'counterfeit', note = 8$$, '%1$s', pg_temp.t(1)));

-- An exact copy of the registry's shape is not the registry either: the
-- rules are for the register, and a copy would take them for its own.
CREATE TABLE regress_sec.copy (LIKE imei_registry.registry);
CREATE TRIGGER x BEFORE INSERT OR UPDATE ON regress_sec.copy
    FOR EACH ROW EXECUTE FUNCTION imei_registry.registry_transition();
SELECT pg_temp.try(NULL, format($$INSERT INTO regress_sec.copy (imei, status, reason, first_seen_at)
        VALUES (%L, 'grey', 'unverified', now())$$, pg_temp.t(2))) AS insert;

-- On the registry itself, at the wrong event or level: 39P01 as core's
-- triggers say it (they were internal errors, XX000).
BEGIN;
CREATE TRIGGER sec_after AFTER INSERT ON imei_registry.registry
    FOR EACH ROW EXECUTE FUNCTION imei_registry.registry_transition();
SELECT pg_temp.try(NULL, format($$INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
        VALUES (%L, 'grey', 'unverified', now())$$, pg_temp.t(3))) AS after_row;
ROLLBACK;
BEGIN;
CREATE TRIGGER sec_stmt BEFORE INSERT ON imei_registry.registry
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.registry_transition();
SELECT pg_temp.try(NULL, format($$INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
        VALUES (%L, 'grey', 'unverified', now())$$, pg_temp.t(3))) AS before_statement;
ROLLBACK;
BEGIN;
CREATE TRIGGER sec_delete BEFORE DELETE ON imei_registry.registry
    FOR EACH ROW EXECUTE FUNCTION imei_registry.registry_transition();
-- (the registry's own guard would refuse the DELETE before a row trigger runs)
ALTER TABLE imei_registry.registry DISABLE TRIGGER registry_no_delete;
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
    VALUES (pg_temp.t(3), 'grey', 'unverified', now());
SELECT pg_temp.try(NULL, format($$DELETE FROM imei_registry.registry WHERE imei = %L::imei_registry.imei$$,
        pg_temp.t(3))) AS before_delete;
ROLLBACK;

-- registry_history, UPDATE form, on a table with reason bigint: it compared
-- the reasons as text (signal 11).
SELECT * FROM pg_temp.attack('rh',
    'imei imei_registry.imei, status imei_registry.status, reason bigint, since timestamptz,'
    ' application_id bigint, import_id bigint, note text',
    'CREATE TRIGGER %s AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
    ' FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.registry_history()',
    format($$WITH d AS (DELETE FROM %1$s) INSERT INTO %1$s VALUES (%2$L, 'grey', 1, now(), NULL, NULL, NULL);
             UPDATE %1$s SET reason = 2$$, '%1$s', pg_temp.t(4)));
-- and its INSERT form on a table without the registry's columns
SELECT * FROM pg_temp.attack('rhi', 'imei imei_registry.imei',
    'CREATE TRIGGER %s AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows'
    ' FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.registry_history()',
    format($$INSERT INTO %%s VALUES (%L)$$, pg_temp.t(4)));

-- registry_history fired FOR EACH ROW, or BEFORE, on the registry: 39P01.
BEGIN;
CREATE TRIGGER sec_row AFTER UPDATE ON imei_registry.registry
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH ROW EXECUTE FUNCTION imei_registry.registry_history();
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
    VALUES (pg_temp.t(5), 'grey', 'unverified', now());
SELECT pg_temp.try(NULL, format($$UPDATE imei_registry.registry SET device_id = NULL
        WHERE imei = %L::imei_registry.imei$$, pg_temp.t(5))) AS after_row;
ROLLBACK;

-- history_guard on a table whose xid is text: it stored an xid8 there as
-- text (signal 11).
SELECT * FROM pg_temp.attack('hg', 'id int, xid text',
    'CREATE TRIGGER %s BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION imei_registry.history_guard()',
    $$INSERT INTO %s VALUES (1, 'x')$$);
-- and its refusals are for the history, not for any table
SELECT * FROM pg_temp.attack('hgd', 'id int, xid text',
    'CREATE TRIGGER %s BEFORE DELETE ON %s FOR EACH ROW EXECUTE FUNCTION imei_registry.history_guard()',
    $$WITH i AS (INSERT INTO %1$s VALUES (1, 'x')) SELECT; DELETE FROM %1$s$$);

-- history_guard on the history at the wrong level or time: 39P01.
BEGIN;
-- (named to fire before history's own statement guard)
CREATE TRIGGER a_sec_stmt BEFORE INSERT ON imei_registry.history
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.history_guard();
SELECT pg_temp.try(NULL, $$INSERT INTO imei_registry.history (imei, to_status, reason, actor, changed_at)
        SELECT imei, to_status, reason, actor, changed_at FROM imei_registry.history WHERE false$$) AS before_insert_statement;
ROLLBACK;
BEGIN;
CREATE TRIGGER sec_after AFTER INSERT ON imei_registry.history
    FOR EACH ROW EXECUTE FUNCTION imei_registry.history_guard();
-- (history's own guard would refuse the INSERT before an AFTER trigger runs)
ALTER TABLE imei_registry.history DISABLE TRIGGER history_from_registry_only;
SELECT pg_temp.try(NULL, format($$INSERT INTO imei_registry.history (imei, to_status, reason, actor, changed_at)
        VALUES (%L, 'grey', 'unverified', 'x', now())$$, pg_temp.t(7))) AS after_insert_row;
ROLLBACK;

-- pair_history_guard likewise: its stamp on a table whose xid is text, its
-- refusal on a table that is not pair_history (39P01; it was PL/pgSQL)
SELECT * FROM pg_temp.attack('phg', 'id int, xid text',
    'CREATE TRIGGER %s BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION imei_registry.pair_history_guard()',
    $$INSERT INTO %s VALUES (1, 'x')$$);
SELECT * FROM pg_temp.attack('phgd', 'id int, xid xid8',
    'CREATE TRIGGER %s BEFORE DELETE ON %s FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.pair_history_guard()',
    $$DELETE FROM %s$$);
-- and on pair_history at the wrong level or time: 39P01
BEGIN;
CREATE TRIGGER a_sec_stmt BEFORE INSERT ON imei_registry.pair_history
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.pair_history_guard();
SELECT pg_temp.try(NULL, $$INSERT INTO imei_registry.pair_history (imei, imsi, operator, action, changed_at, actor)
        SELECT imei, imsi, operator, action, changed_at, actor FROM imei_registry.pair_history WHERE false$$) AS before_insert_statement;
ROLLBACK;
BEGIN;
CREATE TRIGGER a_sec_row BEFORE DELETE ON imei_registry.pair_history
    FOR EACH ROW EXECUTE FUNCTION imei_registry.pair_history_guard();
ALTER TABLE imei_registry.pair_history DISABLE TRIGGER pair_history_append_only;
INSERT INTO imei_registry.pair_history (imei, imsi, operator, action, changed_at, actor)
    VALUES (pg_temp.t(8), 401021000000001, 'sec_op', 'added', now(), 'x');
SELECT pg_temp.try(NULL, $$DELETE FROM imei_registry.pair_history$$) AS before_delete_row;
ROLLBACK;

-- The real triggers still fire for the group roles (EXECUTE is checked
-- when a trigger is created, not when it fires), and still refuse.
INSERT INTO imei_registry.operators VALUES ('sec_op', 'Security test operator');
SET ROLE regress_sec_operator;
SELECT imei_registry.report_connection(pg_temp.t(6), 'sec_op', '2025-05-01 10:00+00');
RESET ROLE;
SET ROLE regress_sec_admin;
SELECT imei_registry.block(pg_temp.t(6), 'counterfeit');
SELECT pg_temp.try('regress_sec_admin', format($$UPDATE imei_registry.registry SET status = 'white',
        reason = 'lawful_import' WHERE imei = %L::imei_registry.imei$$, pg_temp.t(6))) AS forbidden;
RESET ROLE;
SELECT from_status, to_status, reason, actor FROM imei_registry.history
WHERE imei = pg_temp.t(6) ORDER BY id;
SELECT pg_temp.try('regress_sec_admin', $$DELETE FROM imei_registry.history$$) AS history_delete;
SELECT pg_temp.try(NULL, $$UPDATE imei_registry.history SET note = 'x' WHERE false$$) AS history_update;
SELECT pg_temp.try(NULL, $$TRUNCATE imei_registry.history$$) AS history_truncate;

SET client_min_messages = warning;
DROP SCHEMA regress_sec CASCADE;
RESET client_min_messages;
-- Cleanup: registry rows are never deleted; the tables go with the extension.
SET client_min_messages = warning;
\i test/fixtures/fresh_registry.sql
RESET client_min_messages;
DROP ROLE regress_sec_nobody, regress_sec_operator, regress_sec_admin;
