-- Roles: each group role can do its job and nothing else; the SECURITY
-- DEFINER functions cannot be hijacked through the caller's search_path.
-- IMEIs of this file: TAC 86000003.
SET search_path = imei_registry, public;
CREATE FUNCTION pg_temp.t(n int) RETURNS imei_registry.imei
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('86000003' || lpad(n::text, 6, '0')) $$;
INSERT INTO operators (code, name) VALUES ('reg_roles_op', 'Roles test operator');

-- The group roles exist, cannot log in, and nest as documented.
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'imei\_registry\_%' ORDER BY 1;
SELECT r.rolname AS member_of, m.rolname AS member
FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
WHERE r.rolname LIKE 'imei\_registry\_%' AND m.rolname LIKE 'imei\_registry\_%' ORDER BY 1, 2;

CREATE ROLE regress_reg_reader LOGIN IN ROLE imei_registry_reader;
CREATE ROLE regress_reg_portal LOGIN IN ROLE imei_registry_portal;
CREATE ROLE regress_reg_operator LOGIN IN ROLE imei_registry_operator;
CREATE ROLE regress_reg_admin LOGIN IN ROLE imei_registry_admin;
CREATE ROLE regress_reg_nobody LOGIN;
CREATE SCHEMA regress_reg_evil AUTHORIZATION regress_reg_operator;
GRANT USAGE, CREATE ON SCHEMA regress_reg_evil TO PUBLIC;

SELECT report_connection(pg_temp.t(1), 'reg_roles_op', '2025-05-01 10:00+00');
SELECT block(pg_temp.t(2), 'counterfeit');

\i test/fixtures/try_as.sql

CREATE TEMP TABLE jobs (job int, stmt text);
INSERT INTO jobs VALUES
 (1,  $$SELECT * FROM imei_registry.check_imei('860000030000011')$$),
 (2,  $$SELECT imei_registry.report_connection('860000030000037'::imei_registry.imei, 'reg_roles_op')$$),
 (3,  $$SELECT * FROM imei_registry.changes(0, 10)$$),
 (4,  $$SELECT * FROM imei_registry.register_import(ARRAY['860000030000045']::imei_registry.imei[], 'roles test importer')$$),
 (5,  $$SELECT imei_registry.block('860000030000011', 'gsma_blocked')$$),
 (6,  $$SELECT imei_registry.reinstate('860000030000029', 'roles test')$$),
 (7,  $$SELECT count(*) FROM imei_registry.registry$$),
 (8,  $$UPDATE imei_registry.registry SET device_id = NULL WHERE imei_registry.imei_tac(imei) = '86000003'$$),
 (9,  $$INSERT INTO imei_registry.history (imei, to_status, reason, actor, changed_at) VALUES ('860000030000011', 'white', 'lawful_import', 'x', now())$$),
 (10, $$SELECT count(*) FROM imei_registry.history$$),
 (11, $$INSERT INTO imei_registry.operators VALUES ('reg_roles_op2', 'x')$$),
 (12, $$UPDATE imei_registry.history SET note = 'x' WHERE false$$);

-- Each job as each role, undone afterwards (the result travels out in the
-- error that rolls it back), so every role starts from the same state.
CREATE TEMP TABLE outcome (job int, who text, result text);
DO $$
DECLARE
    j record; w text;
BEGIN
    FOR j IN SELECT * FROM jobs ORDER BY job LOOP
        FOREACH w IN ARRAY ARRAY['regress_reg_nobody', 'regress_reg_reader', 'regress_reg_portal',
                                 'regress_reg_operator', 'regress_reg_admin'] LOOP
            BEGIN
                RAISE EXCEPTION USING MESSAGE = pg_temp.try(w, j.stmt);
            EXCEPTION WHEN raise_exception THEN
                INSERT INTO outcome VALUES (j.job, w, SQLERRM);
            END;
        END LOOP;
    END LOOP;
END $$;
SELECT job, replace(who, 'regress_reg_', '') AS who,
       CASE WHEN result = 'ok' THEN 'ok' ELSE left(result, 5) END AS result
FROM outcome ORDER BY job, array_position(ARRAY['regress_reg_nobody', 'regress_reg_reader',
    'regress_reg_portal', 'regress_reg_operator', 'regress_reg_admin'], who);
-- the refusals name the object
SELECT DISTINCT substr(result, 7) AS message FROM outcome WHERE result <> 'ok' ORDER BY 1;

-- The admin's direct UPDATE goes through the rules and writes history as
-- the table owner (the admin has no INSERT on history).  The actor is the
-- session user, the login (here the test's superuser): SET ROLE does not
-- change who is logged in.
BEGIN;
-- (an application approved in this transaction, as decide_application() does)
INSERT INTO applications (applicant_kind, applicant_id, method, state, decided_at, decided_by)
VALUES ('individual', '000000000000', 'parcel', 'approved', now(), 'test') RETURNING id AS app \gset
INSERT INTO application_devices VALUES (:app, 1, NULL);
INSERT INTO application_imeis (application_id, device_ord, ord, imei_text, imei)
VALUES (:app, 1, 1, '860000030000011', '860000030000011');
SET ROLE regress_reg_admin;
UPDATE imei_registry.registry SET status = 'white', reason = 'application_approved', application_id = :app
WHERE imei OPERATOR(pg_catalog.=) '860000030000011';
RESET ROLE;
COMMIT;
SET ROLE regress_reg_admin;
\set VERBOSITY terse
UPDATE imei_registry.registry SET status = 'white', reason = 'application_approved'
WHERE imei OPERATOR(pg_catalog.=) '860000030000029';
\set VERBOSITY default
RESET ROLE;
SELECT from_status, to_status, reason, actor, application_id IS NOT NULL AS has_application
FROM history WHERE imei = pg_temp.t(1) ORDER BY id;

-- Hijack attempts: an operator fills its own schema and pg_temp with
-- look-alikes of what the functions use, and puts them first on its
-- search_path.  The functions still see only the register.
SET ROLE regress_reg_operator;
CREATE TABLE regress_reg_evil.operators (code text, name text);
INSERT INTO regress_reg_evil.operators VALUES ('evil_op', 'look-alike');
CREATE TABLE regress_reg_evil.registry (imei text, status text, reason text, since timestamptz,
                                        grey_last_day date);
INSERT INTO regress_reg_evil.registry VALUES ('860000030000011', 'white', 'lawful_import', now(), NULL);
CREATE FUNCTION regress_reg_evil.grey_last_day(timestamptz) RETURNS date
    LANGUAGE sql AS $$ SELECT date '2099-01-01' $$;
CREATE FUNCTION regress_reg_evil.now() RETURNS timestamptz
    LANGUAGE sql AS $$ SELECT timestamptz '2000-01-01' $$;
CREATE FUNCTION regress_reg_evil.pg_snapshot_xmin(pg_snapshot) RETURNS xid8
    LANGUAGE sql AS $$ SELECT '18446744073709551615'::xid8 $$;
CREATE TEMP TABLE operators (code text, name text);
INSERT INTO operators VALUES ('evil_op', 'look-alike');
SET search_path = pg_temp, regress_reg_evil, imei_registry, pg_catalog;
\set VERBOSITY terse
SELECT imei_registry.report_connection('860000030000052'::imei_registry.imei, 'evil_op');
\set VERBOSITY default
SELECT imei_registry.report_connection('860000030000052'::imei_registry.imei, 'reg_roles_op',
                                       '2025-05-01 10:00+00');
DROP TABLE pg_temp.operators;
RESET ROLE;
SET search_path = imei_registry, public;
SELECT status, grey_last_day, first_operator FROM registry WHERE imei = pg_temp.t(5);
SET ROLE regress_reg_reader;
SET search_path = regress_reg_evil, imei_registry, pg_catalog;
SELECT status, reason FROM imei_registry.check_imei('860000030000011');
RESET ROLE;
SET search_path = imei_registry, public;
-- every SECURITY DEFINER function of the extension has the fixed path
-- (decide_application also sets jit)
SELECT p.oid::regprocedure AS function, p.proconfig
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'imei_registry'
WHERE p.prosecdef
  AND NOT coalesce('search_path=pg_catalog, imei_registry, pg_temp' = ANY (p.proconfig), false)
ORDER BY 1;

-- no function of the extension is LANGUAGE sql with parameters: such a
-- function plans its statement at every call, and Citus cannot run it
SELECT p.oid::regprocedure AS function
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'imei_registry'
JOIN pg_language l ON l.oid = p.prolang
WHERE l.lanname = 'sql' AND p.pronargs > 0
ORDER BY 1;

DROP SCHEMA regress_reg_evil CASCADE;
-- Cleanup: registry rows are never deleted; the tables go with the extension.
SET client_min_messages = warning;
\i test/fixtures/fresh_registry.sql
RESET client_min_messages;
DROP ROLE regress_reg_reader, regress_reg_portal, regress_reg_operator, regress_reg_admin,
          regress_reg_nobody;
