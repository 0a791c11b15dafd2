-- The layout (docs/registry.md, "Layout"): CREATE EXTENSION makes no data
-- table; imei_registry.create_registry() makes them, once, as ordinary
-- tables that depend on the extension.  First of the suite: it leaves the
-- registry made for the tests after it (pg_regress --load-extension made
-- the extension alone).
\set VERBOSITY terse
-- before create_registry(): the functions that read the tables say so,
-- 42P01 naming the table (C: with a hint)
\set VERBOSITY default
SELECT imei_registry.check_imei('352099001761481');
\set VERBOSITY terse
SELECT * FROM imei_registry.changes(0);
SELECT imei_registry.reason_base('stolen');
SELECT imei_registry.reason_base('counterfeit');   -- a shipped code needs no table
SELECT imei_registry.application_holds('352099001761481', current_date);
SELECT imei_registry.report_connection('352099001761481', 'kcell', '2025-05-01 10:00+05');
SELECT imei_registry.register_import(ARRAY['352099001761481']::imei_registry.imei[], 'Acme LLP');
INSERT INTO imei_registry.upload_connections VALUES ('kcell', '352099001761481', '2025-05-01');
SELECT imei_registry.transition_allowed('grey', 'black', 'stolen');
CALL imei_registry.restore_registry();
SELECT count(*) FROM imei_registry.registry_tables();
-- the members that are tables: the COPY targets and the reject codes
SELECT c.relname FROM pg_class c JOIN pg_depend d
    ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'imei_registry')
   AND c.relkind = 'r' ORDER BY 1;
-- EXECUTE is the owner's and the superusers' only
SELECT has_function_privilege('public', 'imei_registry.create_registry(boolean)', 'EXECUTE') AS public_may,
       has_function_privilege('imei_registry_admin', 'imei_registry.create_registry(boolean)', 'EXECUTE') AS admin_may;
CREATE ROLE regress_layout_nobody;
SET ROLE regress_layout_nobody;
SELECT imei_registry.create_registry();
RESET ROLE;
DROP ROLE regress_layout_nobody;
-- the Citus step without Citus: refused (0A000), nothing is made
SELECT imei_registry.create_registry(distributed => true);
SELECT imei_registry.create_registry(NULL);
SELECT count(*) FROM imei_registry.registry_tables();

SELECT imei_registry.create_registry();
-- once: a second call is refused (42P07)
SELECT imei_registry.create_registry();
-- the data tables, owned by the extension's owner, ordinary (not members),
-- each depending on the extension
SELECT t AS data_table,
       pg_get_userbyid(c.relowner) = pg_get_userbyid(e.extowner) AS owned_by_extension_owner,
       EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.refobjid = e.oid AND d.deptype = 'n') AS depends
  FROM imei_registry.registry_tables() t
  JOIN pg_class c ON c.oid = t, pg_extension e
 WHERE e.extname = 'imei_registry';
-- history keyed for co-location: (imei, id), the distribution column first
SELECT pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'imei_registry.history'::regclass AND contype = 'p';
SELECT * FROM imei_registry.check_imei('352099001761481');
-- after a restore (test/shell/registry_dump_restore.sh); on a registry that
-- was not restored it changes nothing
CALL imei_registry.restore_registry();
SELECT count(*) FROM imei_registry.registry_tables();

-- DROP EXTENSION: refused while the tables exist; CASCADE drops them whole
DROP EXTENSION imei_registry;
BEGIN;
SET LOCAL client_min_messages = warning;
DROP EXTENSION imei_registry CASCADE;
SELECT count(*) AS tables_left FROM pg_class WHERE relnamespace = 'imei_registry'::regnamespace;
ROLLBACK;
SELECT count(*) FROM imei_registry.registry_tables();
