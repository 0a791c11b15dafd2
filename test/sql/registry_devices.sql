-- registry.device_id names a row of imei_registry.devices without a foreign
-- key (src/devices.c): the transition trigger checks a new or changed
-- device_id (23503 naming the IMEI and the device), and devices_guard keeps
-- a named device: its device_id never changes (23000), it is not deleted
-- (23503), the table is not truncated (42501).  The concurrent cases:
-- test/specs/registry_devices_concurrent.spec.
-- IMEIs of this file: TAC 86000031; devices: ids -31001 and below.
SET search_path = imei_registry, public;
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.t(n int) RETURNS imei_registry.imei
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('86000031' || lpad(n::text, 6, '0')) $$;
-- a statement's outcome: 'ok', or the SQLSTATE and message of its refusal
CREATE FUNCTION pg_temp.outcome(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

INSERT INTO devices (device_id, model) OVERRIDING SYSTEM VALUE
VALUES (-31001, 'Named'), (-31002, 'Unnamed');

-- a known device: a new row and a change of device_id
INSERT INTO registry (imei, status, reason, first_seen_at, device_id)
VALUES (pg_temp.t(1), 'grey', 'unverified', now(), -31001);
INSERT INTO registry (imei, status, reason, first_seen_at)
VALUES (pg_temp.t(2), 'grey', 'unverified', now());
UPDATE registry SET device_id = -31001 WHERE imei = pg_temp.t(2);
SELECT imei, device_id FROM registry
WHERE imei IN (pg_temp.t(1), pg_temp.t(2)) ORDER BY imei;

-- an unknown device: refused, naming the IMEI and the device
SELECT pg_temp.outcome($$
    INSERT INTO registry (imei, status, reason, first_seen_at, device_id)
    VALUES (pg_temp.t(3), 'grey', 'unverified', now(), -31999)$$) AS unknown_insert;
SELECT pg_temp.outcome($$
    UPDATE registry SET device_id = -31999 WHERE imei = pg_temp.t(2)$$) AS unknown_update;
\set VERBOSITY default
UPDATE registry SET device_id = -31999 WHERE imei = pg_temp.t(2);
\set VERBOSITY terse
SELECT count(*) AS refused_rows FROM registry WHERE device_id = -31999 OR imei = pg_temp.t(3);
-- a device_id kept (another column changes) is not looked up again; NULL
-- names nothing
UPDATE registry SET note = 'kept' WHERE imei = pg_temp.t(2);
UPDATE registry SET device_id = NULL WHERE imei = pg_temp.t(2);

-- the key of a device never changes (an identity: only to DEFAULT)
SELECT pg_temp.outcome($$
    UPDATE devices SET device_id = DEFAULT WHERE device_id = -31001$$) AS key_update;
SELECT pg_temp.outcome($$
    UPDATE devices SET model = 'Named again' WHERE device_id = -31001$$) AS model_update;
-- TRUNCATE is refused (also CASCADE: the trigger fires first)
SELECT pg_temp.outcome('TRUNCATE devices') AS truncate;
SELECT pg_temp.outcome('TRUNCATE devices CASCADE') AS truncate_cascade;
-- a device that a registry row names is not deleted; one none names is
SELECT pg_temp.outcome('DELETE FROM devices WHERE device_id = -31001') AS delete_named;
SELECT pg_temp.outcome('DELETE FROM devices WHERE device_id = -31002') AS delete_unnamed;
SELECT device_id, model FROM devices WHERE device_id IN (-31001, -31002);
-- in every mode: the guard fires ALWAYS
SET session_replication_role = replica;
SELECT pg_temp.outcome('DELETE FROM devices WHERE device_id = -31001') AS delete_named_replica;
RESET session_replication_role;
-- a device that the registry no longer names may go
UPDATE registry SET device_id = NULL WHERE imei = pg_temp.t(1);
BEGIN;
SELECT pg_temp.outcome('DELETE FROM devices WHERE device_id = -31001') AS delete_no_longer_named;
ROLLBACK;

-- What the foreign key allowed and the check does not: one statement that
-- inserts a device and a registry row naming it.  The statement does not
-- see its own new device: insert the device in an earlier statement (as
-- register_import and decide_application do).
SELECT pg_temp.outcome($$
    WITH d AS (INSERT INTO devices (device_id, model) OVERRIDING SYSTEM VALUE
               VALUES (-31003, 'Same statement') RETURNING device_id)
    INSERT INTO registry (imei, status, reason, first_seen_at, device_id)
    SELECT pg_temp.t(4), 'grey', 'unverified', now(), d.device_id FROM d$$) AS same_statement;
SELECT count(*) AS same_statement_rows FROM registry WHERE imei = pg_temp.t(4);
-- in a transaction: the device of an earlier statement is found
BEGIN;
INSERT INTO devices (device_id, model) OVERRIDING SYSTEM VALUE
VALUES (-31004, 'Earlier statement');
INSERT INTO registry (imei, status, reason, first_seen_at, device_id)
VALUES (pg_temp.t(4), 'grey', 'unverified', now(), -31004);
COMMIT;
SELECT r.imei, d.model FROM registry r JOIN devices d USING (device_id)
WHERE r.imei = pg_temp.t(4);
-- a device a rolled-back transaction inserted is gone
BEGIN;
INSERT INTO devices (device_id, model) OVERRIDING SYSTEM VALUE
VALUES (-31005, 'Rolled back');
ROLLBACK;
SELECT pg_temp.outcome($$
    UPDATE registry SET device_id = -31005 WHERE imei = pg_temp.t(4)$$) AS rolled_back_device;
-- under repeatable read the transaction's snapshot decides
BEGIN ISOLATION LEVEL REPEATABLE READ;
UPDATE registry SET device_id = -31001 WHERE imei = pg_temp.t(1);
SELECT device_id FROM registry WHERE imei = pg_temp.t(1);
ROLLBACK;

-- One statement that names a device and deletes it, in either order (a
-- data-modifying WITH): each check sees what the statement did before it.
-- The delete after the reference finds the registry row (23503); the
-- reference after the delete finds the device gone (23503), also a device
-- that this transaction inserted.
INSERT INTO devices (device_id, model) OVERRIDING SYSTEM VALUE
VALUES (-31006, 'Named, then deleted'), (-31007, 'Deleted, then named');
INSERT INTO registry (imei, status, reason, first_seen_at)
VALUES (pg_temp.t(6), 'grey', 'unverified', now());
SELECT pg_temp.outcome($$
    WITH u AS (UPDATE registry SET device_id = -31006
               WHERE imei = pg_temp.t(6) RETURNING 1)
    DELETE FROM devices WHERE device_id = -31006
    AND EXISTS (SELECT FROM u)$$) AS named_then_deleted;
-- the register names no device that is not there
SELECT r.imei, r.device_id FROM registry r
WHERE r.device_id IS NOT NULL
AND NOT EXISTS (SELECT FROM devices d WHERE d.device_id = r.device_id);
SELECT pg_temp.outcome($$
    WITH d AS (DELETE FROM devices WHERE device_id = -31007 RETURNING 1)
    UPDATE registry SET device_id = -31007
    WHERE imei = pg_temp.t(6) AND EXISTS (SELECT FROM d)$$) AS deleted_then_named;
BEGIN;
INSERT INTO devices (device_id, model) OVERRIDING SYSTEM VALUE
VALUES (-31008, 'Inserted, deleted, then named');
SELECT pg_temp.outcome($$
    WITH d AS (DELETE FROM devices WHERE device_id = -31008 RETURNING 1)
    UPDATE registry SET device_id = -31008
    WHERE imei = pg_temp.t(6) AND EXISTS (SELECT FROM d)$$) AS own_deleted_then_named;
-- the register names no device that is not there
SELECT r.imei, r.device_id FROM registry r
WHERE r.device_id IS NOT NULL
AND NOT EXISTS (SELECT FROM devices d WHERE d.device_id = r.device_id);
-- deleted by an earlier statement of this transaction, then named
DELETE FROM devices WHERE device_id = -31007;
SELECT pg_temp.outcome($$
    UPDATE registry SET device_id = -31007 WHERE imei = pg_temp.t(6)$$) AS deleted_earlier;
-- deleted and inserted again with the same id: the new row counts
INSERT INTO devices (device_id, model) OVERRIDING SYSTEM VALUE
VALUES (-31007, 'Inserted again');
UPDATE registry SET device_id = -31007 WHERE imei = pg_temp.t(6);
COMMIT;
-- a device inserted by a subtransaction rolled back is gone
BEGIN;
SAVEPOINT s;
INSERT INTO devices (device_id, model) OVERRIDING SYSTEM VALUE
VALUES (-31009, 'Savepoint rolled back');
ROLLBACK TO SAVEPOINT s;
SELECT pg_temp.outcome($$
    UPDATE registry SET device_id = -31009 WHERE imei = pg_temp.t(6)$$) AS savepoint_device;
COMMIT;
SELECT r.imei, d.device_id, d.model FROM registry r JOIN devices d USING (device_id)
WHERE r.imei = pg_temp.t(6);

-- A device found once is not looked up again in the transaction (the
-- second IMEI of a device): what it found must stay true.  Named in a
-- subtransaction that inserted it and rolled back: gone, refused.
INSERT INTO registry (imei, status, reason, first_seen_at)
VALUES (pg_temp.t(7), 'grey', 'unverified', now()), (pg_temp.t(8), 'grey', 'unverified', now());
BEGIN;
SAVEPOINT s;
INSERT INTO devices (device_id, model) OVERRIDING SYSTEM VALUE
VALUES (-31010, 'Found, then rolled back');
UPDATE registry SET device_id = -31010 WHERE imei = pg_temp.t(7);
ROLLBACK TO SAVEPOINT s;
SELECT pg_temp.outcome($$
    UPDATE registry SET device_id = -31010 WHERE imei = pg_temp.t(8)$$) AS found_then_rolled_back;
-- found, then no longer named and deleted by the transaction: refused
INSERT INTO devices (device_id, model) OVERRIDING SYSTEM VALUE
VALUES (-31011, 'Found, then deleted');
UPDATE registry SET device_id = -31011 WHERE imei = pg_temp.t(7);
UPDATE registry SET device_id = NULL WHERE imei = pg_temp.t(7);
DELETE FROM devices WHERE device_id = -31011;
SELECT pg_temp.outcome($$
    UPDATE registry SET device_id = -31011 WHERE imei = pg_temp.t(8)$$) AS found_then_deleted;
-- found in a subtransaction rolled back, the device still there: found again
SAVEPOINT s2;
UPDATE registry SET device_id = -31004 WHERE imei = pg_temp.t(7);
ROLLBACK TO SAVEPOINT s2;
UPDATE registry SET device_id = -31004 WHERE imei = pg_temp.t(8);
COMMIT;
SELECT r.imei, r.device_id FROM registry r
WHERE r.imei IN (pg_temp.t(7), pg_temp.t(8)) ORDER BY r.imei;

-- A site's own BEFORE triggers on devices fire after the extension's
-- checks could: the checks fire AFTER (as a foreign key's), on the row
-- written and what the statement did.  One that names in the registry the
-- device being deleted (after devices_key_kept by name), and one that sets
-- NEW.device_id in an UPDATE of the model (which does not name device_id):
-- both refused, and the register names no device that is not there.
INSERT INTO devices (device_id, model) OVERRIDING SYSTEM VALUE
VALUES (-31012, 'Named by a site trigger'), (-31013, 'Key changed by a site trigger');
INSERT INTO registry (imei, status, reason, first_seen_at)
VALUES (pg_temp.t(9), 'grey', 'unverified', now());
CREATE FUNCTION pg_temp.site_names_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE imei_registry.registry SET device_id = OLD.device_id
    WHERE imei = pg_temp.t(9);
    RETURN OLD;
END $$;
CREATE TRIGGER devices_log BEFORE DELETE ON devices
    FOR EACH ROW EXECUTE FUNCTION pg_temp.site_names_deleted();
SELECT pg_temp.outcome('DELETE FROM devices WHERE device_id = -31012') AS site_names_deleted;
DROP TRIGGER devices_log ON devices;
UPDATE registry SET device_id = -31013 WHERE imei = pg_temp.t(9);
CREATE FUNCTION pg_temp.site_sets_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.device_id := NEW.device_id - 1000;
    RETURN NEW;
END $$;
CREATE TRIGGER devices_model BEFORE UPDATE ON devices
    FOR EACH ROW EXECUTE FUNCTION pg_temp.site_sets_key();
SELECT pg_temp.outcome($$
    UPDATE devices SET model = 'Renamed' WHERE device_id = -31013$$) AS site_sets_key;
DROP TRIGGER devices_model ON devices;
SELECT r.imei, r.device_id FROM registry r
WHERE r.device_id IS NOT NULL
AND NOT EXISTS (SELECT FROM devices d WHERE d.device_id = r.device_id);
SELECT device_id, model FROM devices WHERE device_id IN (-31012, -31013) ORDER BY device_id;

-- the guard works only on devices
CREATE TABLE public.not_devices (device_id bigint);
CREATE TRIGGER g AFTER DELETE ON public.not_devices
    FOR EACH ROW EXECUTE FUNCTION imei_registry.devices_guard();
INSERT INTO public.not_devices VALUES (1);
SELECT pg_temp.outcome('DELETE FROM public.not_devices') AS other_table;
CREATE TRIGGER s BEFORE DELETE ON public.not_devices
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.devices_guard();
DROP TRIGGER g ON public.not_devices;
SELECT pg_temp.outcome('DELETE FROM public.not_devices') AS statement_trigger;
DROP TABLE public.not_devices;
