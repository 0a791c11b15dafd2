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

-- Cleanup: the tables go with the extension.
SET client_min_messages = warning;
\i test/fixtures/fresh_registry.sql
RESET client_min_messages;
