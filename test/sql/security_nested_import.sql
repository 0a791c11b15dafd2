-- A load (a COPY or INSERT into an upload_* target) lives from its
-- statement's BEFORE trigger to its AFTER trigger.  A role with INSERT on a
-- target could start a second load while one was running (a function in
-- the first statement's rows, or a data-modifying WITH) and let the second
-- fail inside an exception block: the first statement then went on in the
-- second's rolled-back import, a row of the rolled-back statement was
-- written after all, naming an import that does not exist, and the first
-- statement's own rows of before were dropped unread.  Imports do not
-- nest (0A000), and a load undone by its subtransaction is forgotten with
-- it.
\set SHOW_CONTEXT never
CREATE ROLE regress_nest_operator LOGIN IN ROLE imei_registry_operator;
INSERT INTO imei_registry.operators VALUES ('regress_nest', 'Nest test');
INSERT INTO imei_registry.operator_roles VALUES ('regress_nest', 'regress_nest_operator');

-- the attacker's tools: a value that fails on demand, and a load that
-- fails half-way inside an exception block
CREATE FUNCTION pg_temp.fail_at(n int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF n = 2 THEN
        RAISE EXCEPTION 'boom at row %', n;
    END IF;
    RETURN '2026-11-01 10:00+05';
END $$;
CREATE FUNCTION pg_temp.failed_load() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        INSERT INTO imei_registry.upload_connections
        SELECT 'regress_nest', i, pg_temp.fail_at(n)
        FROM (VALUES (1, '352099001761481'), (2, '356868000041418')) v(n, i);
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'inner load: % %', SQLSTATE, SQLERRM;
    END;
    RETURN 'regress_nest';
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.fail_at(int), pg_temp.failed_load() TO PUBLIC;

SET ROLE regress_nest_operator;
-- each row of this load starts another, which fails
INSERT INTO imei_registry.upload_connections
SELECT pg_temp.failed_load(), i, '2026-11-02 10:00+05'
FROM (VALUES ('353910000000003'), ('353910000000011')) v(i);
RESET ROLE;
-- the outer load's two rows, in its own import; nothing of the inner ones
SELECT r.imei, r.status, r.import_id = i.import_id AS its_import
FROM imei_registry.registry r LEFT JOIN imei_registry.imports i ON i.import_id = r.import_id
WHERE r.first_operator = 'regress_nest' ORDER BY r.imei;
SELECT target, rows_read, rows_loaded, rows_rejected, finished_at IS NOT NULL AS finished
FROM imei_registry.imports WHERE importer = 'regress_nest_operator' ORDER BY import_id;
SELECT h.imei, h.to_status, i.import_id IS NOT NULL AS import_exists
FROM imei_registry.history h LEFT JOIN imei_registry.imports i ON i.import_id = h.import_id
WHERE h.imei IN ('352099001761481', '356868000041418', '353910000000003', '353910000000011')
ORDER BY h.imei;

-- two INSERTs into one target in one statement (data-modifying WITH) are
-- one load: its statement triggers fire once
SET ROLE regress_nest_operator;
WITH a AS (INSERT INTO imei_registry.upload_connections VALUES ('regress_nest', '353910000000029', '2026-11-02 10:00+05')),
     b AS (INSERT INTO imei_registry.upload_connections VALUES ('regress_nest', '353910000000037', '2026-11-02 10:00+05'))
SELECT;
RESET ROLE;
SELECT count(*) FROM imei_registry.registry WHERE imei IN ('353910000000029', '353910000000037');
-- two targets in one statement are two loads: refused, nothing written
SET ROLE regress_nest_operator;
WITH a AS (INSERT INTO imei_registry.upload_connections VALUES ('regress_nest', '353910000000078', '2026-11-02 10:00+05')),
     b AS (INSERT INTO imei_registry.upload_sightings VALUES ('regress_nest', '353910000000086', '2026-11-02 10:00+05', '401011234567890', NULL))
SELECT;
RESET ROLE;
SELECT count(*) FROM imei_registry.registry WHERE imei IN ('353910000000078', '353910000000086');

-- a load undone by ROLLBACK TO SAVEPOINT leaves nothing behind: the next
-- load is a load of its own
SET ROLE regress_nest_operator;
BEGIN;
SAVEPOINT s;
INSERT INTO imei_registry.upload_connections
SELECT 'regress_nest', i, pg_temp.fail_at(n)
FROM (VALUES (1, '353910000000045'), (2, '353910000000052')) v(n, i);
ROLLBACK TO SAVEPOINT s;
INSERT INTO imei_registry.upload_connections VALUES ('regress_nest', '353910000000060', '2026-11-02 10:00+05');
COMMIT;
RESET ROLE;
SELECT r.imei, i.rows_read, i.rows_loaded
FROM imei_registry.registry r JOIN imei_registry.imports i ON i.import_id = r.import_id
WHERE r.imei IN ('353910000000045', '353910000000052', '353910000000060');

DROP ROLE regress_nest_operator;
-- Cleanup: registry rows are never deleted; the tables go with the extension.
SET client_min_messages = warning;
\i test/fixtures/fresh_registry.sql
RESET client_min_messages;
