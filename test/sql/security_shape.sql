-- The C that reads the registry's tables checks their shape first (issue
-- 12): a column changed to another type by the owner (a mistaken ALTER, a
-- half-applied upgrade) is an error naming the column, not a datum read as
-- the wrong type (signal 11).  Each case is undone.
-- IMEIs of this file: TAC 86000015.
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
    VALUES ('860000150000015', 'white', 'grandfathered', '2025-03-01 12:00+05');
-- the shape check_imei() read the row by, kept by this backend from now on:
-- every change below must make it read the table's new shape
SELECT status, reason FROM imei_registry.check_imei('860000150000015');

-- reason as bigint: the check service and the transition trigger
BEGIN;
ALTER TABLE imei_registry.registry DROP CONSTRAINT registry_reason_status;
ALTER TABLE imei_registry.registry ALTER reason TYPE bigint USING length(reason);
SAVEPOINT s;
SELECT status, reason FROM imei_registry.check_imei('860000150000015');
ROLLBACK TO s;
INSERT INTO imei_registry.registry (imei, status, reason) VALUES ('860000150000023', 'white', 13);
ROLLBACK;

-- since as text: read as a timestamp, it was a pointer
BEGIN;
ALTER TABLE imei_registry.registry ALTER since DROP DEFAULT,
    ALTER since TYPE text USING since::text;
SELECT status, since IS NULL AS no_since FROM imei_registry.check_imei('860000150000015');
ROLLBACK;

-- since moved to the end, the row not rewritten: read at its new place, its
-- value for the rows written before it the added column's default
BEGIN;
ALTER TABLE imei_registry.registry RENAME since TO since_before;
ALTER TABLE imei_registry.registry ADD since timestamptz DEFAULT '2020-01-01 00:00+05';
SELECT status, since = '2020-01-01 00:00+05' AS since_moved
  FROM imei_registry.check_imei('860000150000015');
ROLLBACK;
SELECT c.status, c.since = r.since AS since_back
  FROM imei_registry.check_imei('860000150000015') c, imei_registry.registry r
 WHERE r.imei = '860000150000015';

-- history.xid as text, in replica mode (a restore): the guard stamped an
-- xid8 into it
BEGIN;
ALTER TABLE imei_registry.history ALTER xid DROP DEFAULT, ALTER xid TYPE text USING xid::text;
SET LOCAL session_replication_role = replica;
INSERT INTO imei_registry.history (imei, to_status, reason, actor, changed_at, xid)
    VALUES ('860000150000031', 'white', 'lawful_import', 'x', now(), '1');
ROLLBACK;

-- unchanged, all is well
SELECT status, reason FROM imei_registry.check_imei('860000150000015');
-- Cleanup: registry rows are never deleted; the tables go with the extension.
SET client_min_messages = warning;
\i test/fixtures/fresh_registry.sql
RESET client_min_messages;
