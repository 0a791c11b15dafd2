-- upload_devices: the devices of a submitted application, one line each.
-- Every reason a row can be rejected for, with its line number; devices
-- appended after the application's own; a second load; atomic mode.
-- IMEIs of TAC 35990043 and 09990043, applications 990001-990009 belong to
-- this file.
SET client_min_messages = warning;
INSERT INTO imei_registry.applications
    (id, applicant_kind, applicant_id, method, mci_tenge, state, decided_at)
    OVERRIDING SYSTEM VALUE VALUES
    (990001, 'legal_entity', '990340000027', 'commercial_import', 3932, 'submitted', NULL),
    (990002, 'legal_entity', '990340000027', 'commercial_import', 3932, 'approved', now()),
    (990003, 'legal_entity', '990340000027', 'commercial_import', 3932, 'submitted', NULL);
-- the application's first device came with the application itself
INSERT INTO imei_registry.application_devices VALUES (990001, 1, 'Phone P');
INSERT INTO imei_registry.application_imeis (application_id, device_ord, ord, imei_text, imei)
    VALUES (990001, 1, 1, '359900430000115', '359900430000115');

CREATE TEMP VIEW last_import AS
    SELECT target, rows_read, rows_loaded, rows_rejected, rows_already_present
      FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1;
CREATE TEMP VIEW last_rejects AS
    SELECT line_number, reason, raw, message FROM imei_registry.import_rejects
     WHERE import_id = (SELECT max(import_id) FROM imei_registry.imports)
     ORDER BY line_number;
CREATE TEMP VIEW my_devices AS
    SELECT d.application_id, d.device_ord, d.model,
           array_agg(i.imei_text ORDER BY i.ord) AS imeis
      FROM imei_registry.application_devices d
      JOIN imei_registry.application_imeis i USING (application_id, device_ord)
     WHERE d.application_id BETWEEN 990001 AND 990009
     GROUP BY 1, 2, 3 ORDER BY 1, 2;

\copy imei_registry.upload_devices from 'test/data/bulk_devices.csv' with (format csv, header true)
SELECT * FROM last_import;
SELECT * FROM last_rejects;
SELECT * FROM my_devices;

-- the same file again: nothing new
\copy imei_registry.upload_devices from 'test/data/bulk_devices.csv' with (format csv, header true)
SELECT * FROM last_import;
SELECT line_number, reason FROM last_rejects;
SELECT count(*) AS devices_unchanged FROM my_devices;

SET imei_registry.import_atomic = on;
\copy imei_registry.upload_devices from 'test/data/bulk_devices.csv' with (format csv, header true)
RESET imei_registry.import_atomic;

-- Each device's device_ord follows its application's last one, read once
-- per load and counted on in memory (src/bulk_devices.c): across batches
-- (1,000 rows each), after rolled-back uploads, past lines already present,
-- in a second load of the same transaction, and for more applications than
-- a load keeps (64).  A device with serial g (IMEI body 35990043 || g) is
-- device g - 600000 of application 990004.
INSERT INTO imei_registry.applications
    (id, applicant_kind, applicant_id, method, mci_tenge)
    OVERRIDING SYSTEM VALUE
    SELECT id, 'legal_entity', '990340000027', 'commercial_import', 3932
    FROM (VALUES (990004)) v(id) UNION ALL
    SELECT id, 'legal_entity', '990340000027', 'commercial_import', 3932
    FROM generate_series(990101, 990170) id;
CREATE TEMP VIEW ords AS
    SELECT d.application_id, count(*) AS devices, max(d.device_ord) AS last_ord,
           bool_and(d.device_ord = substr(i.imei_text, 9, 6)::int - 600000) AS in_file_order
      FROM imei_registry.application_devices d
      JOIN imei_registry.application_imeis i USING (application_id, device_ord)
     WHERE i.ord = 1 AND d.application_id = 990004
     GROUP BY 1;
BEGIN;
INSERT INTO imei_registry.upload_devices (application_id, model, imei_1)
SELECT '990004', 'R', imei_registry.imei_from_body('35990043' || g)::text
  FROM generate_series(600001, 601500) g;
ROLLBACK;
BEGIN;
INSERT INTO imei_registry.upload_devices (application_id, model, imei_1)
SELECT '990004', 'R', imei_registry.imei_from_body('35990043' || g)::text
  FROM generate_series(600001, 601500) g;
ROLLBACK;
INSERT INTO imei_registry.upload_devices (application_id, model, imei_1)
SELECT '990004', 'R', imei_registry.imei_from_body('35990043' || g)::text
  FROM generate_series(600001, 601500) g;
SELECT * FROM ords;
-- lines 601201..601500 are present already and take no device_ord
BEGIN;
INSERT INTO imei_registry.upload_devices (application_id, model, imei_1)
SELECT '990004', 'R', imei_registry.imei_from_body('35990043' || g)::text
  FROM generate_series(601201, 602700) g;
SELECT * FROM last_import;
INSERT INTO imei_registry.upload_devices (application_id, model, imei_1)
SELECT '990004', 'R', imei_registry.imei_from_body('35990043' || g)::text
  FROM generate_series(602701, 602710) g;
COMMIT;
SELECT * FROM ords;
-- 70 applications with a device of their own, 30 more each from lines
-- taking turns among them (2,100 lines, three batches)
INSERT INTO imei_registry.application_devices
    SELECT id, 1, 'Own' FROM generate_series(990101, 990170) id;
INSERT INTO imei_registry.upload_devices (application_id, model, imei_1)
SELECT (990101 + g % 70)::text, 'T', imei_registry.imei_from_body('35990043' || (700000 + g))::text
  FROM generate_series(0, 2099) g;
SELECT * FROM last_import;
SELECT count(*) AS applications,
       bool_and(devices = 31 AND first_ord = 1 AND last_ord = 31 AND in_order) AS each_1_to_31_in_file_order
  FROM (SELECT d.application_id, count(*) AS devices, min(d.device_ord) AS first_ord,
               max(d.device_ord) AS last_ord,
               bool_and(d.device_ord = 1
                        OR d.device_ord = (substr(i.imei_text, 9, 6)::int - 700000) / 70 + 2) AS in_order
          FROM imei_registry.application_devices d
          LEFT JOIN imei_registry.application_imeis i USING (application_id, device_ord)
         WHERE d.application_id BETWEEN 990101 AND 990170
         GROUP BY 1) a;

-- The statements of a load run without JIT (src/bulk.c): a site's trigger
-- on a table the load writes sees jit off, the session's setting back after
SET jit = on;
CREATE FUNCTION public.bulk_devices_jit() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE WARNING 'jit during the load: %', current_setting('jit'); RETURN NULL; END $$;
CREATE TRIGGER bulk_devices_jit AFTER INSERT ON imei_registry.application_devices
    FOR EACH STATEMENT EXECUTE FUNCTION public.bulk_devices_jit();
INSERT INTO imei_registry.upload_devices (application_id, model, imei_1)
VALUES ('990004', 'J', imei_registry.imei_from_body('35990043603001')::text);
SHOW jit;
DROP TRIGGER bulk_devices_jit ON imei_registry.application_devices;
DROP FUNCTION public.bulk_devices_jit();
RESET jit;

-- Cleanup: the tables go with the extension.
SET client_min_messages = warning;
\i test/fixtures/fresh_registry.sql
RESET client_min_messages;
