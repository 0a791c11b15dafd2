-- Attacks on the COPY targets' triggers (issue 12): they chose their work
-- by the table's name and read its columns as text, so a table of the
-- admin's own named upload_tac, or with other columns, crashed the server.
-- Now they run only on the extension's upload_* tables, of the shape the
-- extension made (SQLSTATE 39P01 otherwise).
CREATE ROLE regress_sec_nobody LOGIN;
CREATE ROLE regress_sec_operator LOGIN IN ROLE imei_registry_operator;
CREATE ROLE regress_sec_admin LOGIN IN ROLE imei_registry_admin;
CREATE SCHEMA regress_sec;
GRANT USAGE, CREATE ON SCHEMA regress_sec TO PUBLIC;

\i test/fixtures/try_as.sql

-- The three triggers on a table of the role's own; as each role.
CREATE FUNCTION regress_sec.bait(tab text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER b BEFORE INSERT ON %1$s FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.bulk_import_begin();'
        'CREATE TRIGGER r BEFORE INSERT ON %1$s FOR EACH ROW EXECUTE FUNCTION imei_registry.bulk_import_row();'
        'CREATE TRIGGER e AFTER INSERT ON %1$s FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.bulk_import_end();',
        tab);
END $$;
GRANT EXECUTE ON FUNCTION regress_sec.bait(text) TO PUBLIC;

-- upload_tac with sim_slots missing and tac an integer
SELECT who, pg_temp.try(who, $$CREATE TABLE regress_sec.upload_tac (tac int, brand text)$$) AS create_table,
       pg_temp.try(who, $$SELECT regress_sec.bait('regress_sec.upload_tac')$$) AS create_triggers,
       pg_temp.try(who, $$INSERT INTO regress_sec.upload_tac VALUES (35209900, 'x')$$) AS insert,
       pg_temp.try(NULL, $$DROP TABLE regress_sec.upload_tac$$) AS drop_table
FROM unnest(ARRAY['regress_sec_nobody', 'regress_sec_operator', 'regress_sec_admin']) AS who;

-- Attached by a superuser to the admin's tables: refused, as each is not
-- the extension's target, whatever its name and columns.
SET ROLE regress_sec_admin;
CREATE TABLE regress_sec.upload_tac (tac int, brand text);
CREATE TABLE regress_sec.upload_blocklist (imei bigint, listed_on date, reason text);
CREATE TABLE regress_sec.upload_devices (application_id bigint, model text, imei_1 int, imei_2 int,
    imei_3 int, imei_4 int);
RESET ROLE;
-- and an exact copy of a target
CREATE TABLE regress_sec.upload_connections (LIKE imei_registry.upload_connections);
ALTER TABLE regress_sec.upload_connections OWNER TO regress_sec_admin;
SELECT regress_sec.bait(t)
FROM unnest(ARRAY['regress_sec.upload_tac', 'regress_sec.upload_connections',
                  'regress_sec.upload_blocklist', 'regress_sec.upload_devices']) AS t;
SELECT pg_temp.try('regress_sec_admin', $$INSERT INTO regress_sec.upload_tac VALUES (35209900, 'x')$$) AS tac,
       pg_temp.try('regress_sec_admin', $$INSERT INTO regress_sec.upload_blocklist VALUES (1, '2025-01-01', 'x')$$) AS blocklist,
       pg_temp.try('regress_sec_admin', $$INSERT INTO regress_sec.upload_devices VALUES (1, 'x', 1, 2, 3, 4)$$) AS devices,
       pg_temp.try('regress_sec_admin', $$INSERT INTO regress_sec.upload_connections VALUES ('x', '35209900176148', '2025-01-01')$$) AS copy;

-- A row trigger of a target on another target: no import is open for it.
BEGIN;
CREATE TRIGGER sec_row BEFORE INSERT ON imei_registry.upload_tac
    FOR EACH ROW EXECUTE FUNCTION imei_registry.bulk_import_row();
ALTER TABLE imei_registry.upload_tac DISABLE TRIGGER import_begin;
SELECT pg_temp.try('regress_sec_admin', $$INSERT INTO imei_registry.upload_tac VALUES ('x')$$) AS row_without_begin;
ROLLBACK;
-- A target's triggers at the wrong level: 39P01.
BEGIN;
-- (named to fire before import_row, which ends the row)
CREATE TRIGGER a_begin_for_row BEFORE INSERT ON imei_registry.upload_tac
    FOR EACH ROW EXECUTE FUNCTION imei_registry.bulk_import_begin();
SELECT pg_temp.try('regress_sec_admin', $$INSERT INTO imei_registry.upload_tac VALUES ('x')$$) AS begin_for_row;
ROLLBACK;

-- A target whose shape was changed by its owner is refused too.
BEGIN;
ALTER TABLE imei_registry.upload_tac ALTER sim_slots TYPE int USING NULL;
SELECT pg_temp.try('regress_sec_admin', $$INSERT INTO imei_registry.upload_tac VALUES ('35209900', 'b', 'm', 'd', 2)$$) AS int_column;
ROLLBACK;
BEGIN;
ALTER TABLE imei_registry.upload_tac DROP COLUMN sim_slots;
SELECT pg_temp.try('regress_sec_admin', $$INSERT INTO imei_registry.upload_tac VALUES ('35209900', 'b', 'm', 'd')$$) AS dropped_column;
ROLLBACK;

-- The real targets still load, for the roles granted them.
SET client_min_messages = warning;
SELECT pg_temp.try('regress_sec_admin', $$INSERT INTO imei_registry.upload_tac VALUES ('86000014', 'b', 'm', 'd', '2')$$) AS admin_tac,
       pg_temp.try('regress_sec_operator', $$INSERT INTO imei_registry.upload_tac VALUES ('86000014', 'b', 'm', 'd', '2')$$) AS operator_tac;
RESET client_min_messages;
SELECT tac, brand, model, sim_slots FROM imei_registry.tac WHERE tac = '86000014';

-- The trigger's argument chooses the target, and must be the target it
-- fires on: one naming another target, or none, is refused.
BEGIN;
DROP TRIGGER import_row ON imei_registry.upload_tac;
CREATE TRIGGER import_row BEFORE INSERT ON imei_registry.upload_tac
    FOR EACH ROW EXECUTE FUNCTION imei_registry.bulk_import_row('upload_connections');
SELECT pg_temp.try('regress_sec_admin', $$INSERT INTO imei_registry.upload_tac VALUES ('86000022', 'b', 'm', 'd', '2')$$) AS other_target;
ROLLBACK;
BEGIN;
DROP TRIGGER import_begin ON imei_registry.upload_tac;
CREATE TRIGGER import_begin BEFORE INSERT ON imei_registry.upload_tac
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.bulk_import_begin();
SELECT pg_temp.try('regress_sec_admin', $$INSERT INTO imei_registry.upload_tac VALUES ('86000022', 'b', 'm', 'd', '2')$$) AS no_target;
ROLLBACK;

DELETE FROM imei_registry.tac WHERE tac = '86000014';
SET client_min_messages = warning;
DROP SCHEMA regress_sec CASCADE;
RESET client_min_messages;
DROP ROLE regress_sec_nobody, regress_sec_operator, regress_sec_admin;
