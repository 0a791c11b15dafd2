-- Operators are bound to their logins: imei_registry.operator_roles names the
-- roles (logins or groups) that may report and load as each operator.  The
-- caller is the session user (SET ROLE does not change it); a report for
-- another operator is refused with 42501, a loaded row for another operator
-- is rejected as operator_not_yours, and the admin may act for all.
-- IMEIs of this file: TAC 86000007.
SET search_path = imei_registry, public;
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.t(n int) RETURNS imei_registry.imei
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('86000007' || lpad(n::text, 6, '0')) $$;
GRANT EXECUTE ON FUNCTION pg_temp.t(int) TO PUBLIC;

INSERT INTO operators (code, name) VALUES ('op_a', 'Operator A'), ('op_b', 'Operator B');
CREATE ROLE regress_op_a LOGIN IN ROLE imei_registry_operator;
CREATE ROLE regress_op_b_staff NOLOGIN IN ROLE imei_registry_operator;
CREATE ROLE regress_op_b LOGIN IN ROLE regress_op_b_staff;
CREATE ROLE regress_op_admin LOGIN IN ROLE imei_registry_admin;
CREATE ROLE regress_op_gone LOGIN IN ROLE imei_registry_operator;
-- a login, a group (its members report for it), and a role dropped later
INSERT INTO operator_roles (operator, role) VALUES
    ('op_a', 'regress_op_a'), ('op_b', 'regress_op_b_staff'), ('op_b', 'regress_op_gone');

-- report_connection: for one's own operator only
SET SESSION AUTHORIZATION regress_op_a;
SELECT report_connection(pg_temp.t(1), 'op_a', '2026-01-05 10:00+05');
\set VERBOSITY default
SELECT report_connection(pg_temp.t(2), 'op_b', '2026-01-05 10:00+05');
\set VERBOSITY terse
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_op_b;
SELECT report_connection(pg_temp.t(2), 'op_b', '2026-01-05 10:00+05');
SELECT report_connection(pg_temp.t(3), 'op_a', '2026-01-05 10:00+05');
-- the IMEISV overload is the same call
SELECT report_connection((substr(pg_temp.t(3)::text, 1, 14) || '01')::imei_registry.imeisv, 'op_a');
RESET SESSION AUTHORIZATION;
-- SET ROLE does not make the superuser's session another login's, nor an
-- operator's login another operator's: the session user decides
SET SESSION AUTHORIZATION regress_op_a;
SET ROLE imei_registry_operator;
SELECT report_connection(pg_temp.t(3), 'op_b', '2026-01-05 10:00+05');
RESET ROLE;
RESET SESSION AUTHORIZATION;
-- the admin reports for any operator
SET SESSION AUTHORIZATION regress_op_admin;
SELECT report_connection(pg_temp.t(4), 'op_b', '2026-01-05 10:00+05');
RESET SESSION AUTHORIZATION;
SELECT imei_snr(imei) AS serial, status, first_operator FROM registry
WHERE imei_tac(imei) = '86000007' ORDER BY imei;

-- upload_connections: a row for another operator is rejected, the others load;
-- imports records the operator of an operator's load
SET SESSION AUTHORIZATION regress_op_a;
INSERT INTO upload_connections (operator, imei, connected_at) VALUES
    ('op_a', pg_temp.t(10)::text, '2026-01-06 10:00+05'),
    ('op_b', pg_temp.t(11)::text, '2026-01-06 10:00+05'),
    ('op_a', pg_temp.t(12)::text, '2026-01-06 10:00+05');
RESET SESSION AUTHORIZATION;
SELECT target, operator, rows_read, rows_loaded, rows_rejected FROM imports
ORDER BY import_id DESC LIMIT 1;
SELECT line_number, reason, raw, message FROM import_rejects
WHERE import_id = (SELECT max(import_id) FROM imports) ORDER BY line_number;
-- the admin loads for several operators: no single operator to record
SET SESSION AUTHORIZATION regress_op_admin;
INSERT INTO upload_connections (operator, imei, connected_at) VALUES
    ('op_a', pg_temp.t(13)::text, '2026-01-06 10:00+05'),
    ('op_b', pg_temp.t(14)::text, '2026-01-06 10:00+05');
RESET SESSION AUTHORIZATION;
SELECT target, operator, rows_read, rows_loaded, rows_rejected FROM imports
ORDER BY import_id DESC LIMIT 1;
SELECT imei_snr(imei) AS serial, status, first_operator FROM registry
WHERE imei_tac(imei) = '86000007' AND imei_snr(imei) >= '000010' ORDER BY imei;

-- A dropped role's binding binds nobody; a role that is not bound cannot
-- borrow it.
DROP ROLE regress_op_gone;
CREATE ROLE regress_op_other LOGIN IN ROLE imei_registry_operator;
SET SESSION AUTHORIZATION regress_op_other;
SELECT report_connection(pg_temp.t(20), 'op_b', '2026-01-05 10:00+05');
RESET SESSION AUTHORIZATION;
-- Bindings are the admin's to maintain, and nobody else's to read.
SET SESSION AUTHORIZATION regress_op_a;
INSERT INTO operator_roles VALUES ('op_b', 'regress_op_a');
SELECT count(*) FROM operator_roles;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_op_admin;
INSERT INTO operator_roles VALUES ('op_b', 'regress_op_other');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_op_other;
SELECT report_connection(pg_temp.t(20), 'op_b', '2026-01-05 10:00+05');
RESET SESSION AUTHORIZATION;

-- Operators are never deleted and keep their codes: the registry checks
-- first_operator against them without a foreign key (src/operators.c).
DELETE FROM operators WHERE code = 'op_b';
TRUNCATE operators CASCADE;
UPDATE operators SET code = 'op_c' WHERE code = 'op_b';
UPDATE operators SET name = 'Operator B, renamed' WHERE code = 'op_b';
SELECT code, name FROM operators WHERE code LIKE 'op_%' ORDER BY code;
-- a first operator that is no operator is refused (23503), as a foreign key would
INSERT INTO registry (imei, status, reason, first_seen_at, first_operator)
VALUES (pg_temp.t(30), 'grey', 'unverified', '2026-01-05 10:00+05', 'op_none');
UPDATE registry SET first_seen_at = '2026-01-04 10:00+05', first_operator = 'op_none'
WHERE imei = pg_temp.t(1);
-- an operator added in the same transaction is one; once rolled back, no more
BEGIN;
INSERT INTO operators VALUES ('op_new', 'New');
INSERT INTO registry (imei, status, reason, first_seen_at, first_operator)
VALUES (pg_temp.t(31), 'grey', 'unverified', '2026-01-05 10:00+05', 'op_new');
ROLLBACK;
INSERT INTO registry (imei, status, reason, first_seen_at, first_operator)
VALUES (pg_temp.t(31), 'grey', 'unverified', '2026-01-05 10:00+05', 'op_new');
BEGIN;
SAVEPOINT s;
INSERT INTO operators VALUES ('op_new', 'New');
INSERT INTO registry (imei, status, reason, first_seen_at, first_operator)
VALUES (pg_temp.t(32), 'grey', 'unverified', '2026-01-05 10:00+05', 'op_new');
ROLLBACK TO SAVEPOINT s;
INSERT INTO registry (imei, status, reason, first_seen_at, first_operator)
VALUES (pg_temp.t(32), 'grey', 'unverified', '2026-01-05 10:00+05', 'op_new');
ROLLBACK;
-- committed, it is an operator for good
INSERT INTO operators VALUES ('op_new', 'New');
INSERT INTO registry (imei, status, reason, first_seen_at, first_operator)
VALUES (pg_temp.t(31), 'grey', 'unverified', '2026-01-05 10:00+05', 'op_new');
SELECT imei_snr(imei) AS serial, status, first_operator FROM registry WHERE imei = pg_temp.t(31);
-- report_connection() knows an operator added in its transaction, and no
-- more once that is rolled back (the codes' cache, src/operators.c)
BEGIN;
INSERT INTO operators VALUES ('op_tx', 'In a transaction');
INSERT INTO operator_roles VALUES ('op_tx', 'regress_op_a');
SET LOCAL SESSION AUTHORIZATION regress_op_a;
SELECT report_connection(pg_temp.t(40), 'op_tx', '2026-01-05 10:00+05');
ROLLBACK;
SET SESSION AUTHORIZATION regress_op_a;
SELECT report_connection(pg_temp.t(40), 'op_tx', '2026-01-05 10:00+05');
RESET SESSION AUTHORIZATION;
SELECT count(*) AS not_added FROM registry WHERE imei = pg_temp.t(40);
-- a binding removed in a transaction binds nobody in it
BEGIN;
DELETE FROM operator_roles WHERE operator = 'op_b' AND role = 'regress_op_b_staff';
SET LOCAL SESSION AUTHORIZATION regress_op_b;
SELECT report_connection(pg_temp.t(41), 'op_b', '2026-01-05 10:00+05');
ROLLBACK;
SET SESSION AUTHORIZATION regress_op_b;
SELECT report_connection(pg_temp.t(41), 'op_b', '2026-01-05 10:00+05');
RESET SESSION AUTHORIZATION;
-- operator_is_mine() is the one rule for reports, loads and reads
-- (my_operators(), the sightings' policy): by the session user
SET SESSION AUTHORIZATION regress_op_b;
SELECT my_operators();
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_op_a;
SELECT my_operators();
SET ROLE imei_registry_operator;
SELECT my_operators();
RESET ROLE;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_op_admin;
SELECT my_operators() @> ARRAY['op_a', 'op_b'] AS admin_has_all;
RESET SESSION AUTHORIZATION;
-- a code longer than any the cache keeps is looked up, and unknown
SELECT report_connection(pg_temp.t(42), repeat('x', 100), '2026-01-05 10:00+05');
-- the guard works only on its own table
CREATE TABLE public.not_operators (code text, name text);
CREATE TRIGGER g BEFORE DELETE ON public.not_operators
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.operators_guard();
DELETE FROM public.not_operators;
DROP TABLE public.not_operators;

-- Cleanup: registry rows are never deleted; the tables go with the extension.
\i test/fixtures/fresh_registry.sql
DROP ROLE regress_op_a, regress_op_b, regress_op_b_staff, regress_op_admin, regress_op_other;
RESET client_min_messages;
