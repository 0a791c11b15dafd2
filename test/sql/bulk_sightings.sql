-- upload_sightings: operators' reports with IMSI and MSISDN.  Bad IMSIs and
-- MSISDNs in a file (each with its reason and message), visitors' rows
-- (sightings only), rows without an IMSI (connections only), a phone that
-- roams first and then takes a home SIM, the counts, a second load, atomic
-- mode.  IMEIs of TAC 35991800 belong to this file.
SET client_min_messages = warning;
SET timezone = 'UTC';
INSERT INTO imei_registry.operators (code, name) VALUES ('kz_s_op', 'Sightings test operator');

CREATE TEMP VIEW last_import AS
    SELECT target, operator, rows_read, rows_loaded, rows_rejected, rows_already_present
      FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1;
CREATE TEMP VIEW last_rejects AS
    SELECT line_number, reason, message FROM imei_registry.import_rejects
     WHERE import_id = (SELECT max(import_id) FROM imei_registry.imports)
     ORDER BY line_number;
CREATE TEMP VIEW my_imeis AS
    SELECT imei, status, reason, first_seen_at, first_operator, grey_last_day
      FROM imei_registry.registry
     WHERE imei_registry.imei_tac(imei) = '35991800' ORDER BY imei;
CREATE TEMP VIEW my_sightings AS
    SELECT imei, imsi, msisdn, month, operator,
           imei_registry.sighting_days(month, days) AS days
      FROM imei_registry.sightings
     WHERE imei_registry.imei_tac(imei) = '35991800' ORDER BY imei, imsi, msisdn, month;

\copy imei_registry.upload_sightings from 'test/data/bulk_sightings.csv' with (format csv, header true)
SELECT * FROM last_import;
SELECT * FROM last_rejects;
SELECT * FROM my_imeis;
SELECT * FROM my_sightings;
SELECT reason FROM imei_registry.check_imei('359918000000026');   -- grey: its home SIM
SELECT reason FROM imei_registry.check_imei('359918000000075');   -- a visitor before the rules: not registered

-- the same file again: nothing new, the same rejects
\copy imei_registry.upload_sightings from 'test/data/bulk_sightings.csv' with (format csv, header true)
SELECT * FROM last_import;
SELECT line_number, reason FROM last_rejects;
SELECT count(*) AS sightings FROM my_sightings;

-- atomic: a bad IMSI aborts the COPY
SET imei_registry.import_atomic = on;
SELECT count(*) AS imports_before FROM imei_registry.imports \gset
\copy imei_registry.upload_sightings from 'test/data/bulk_sightings.csv' with (format csv, header true)
SELECT count(*) = :imports_before AS no_import_recorded FROM imei_registry.imports;
INSERT INTO imei_registry.upload_sightings VALUES
    ('kz_s_op', '359918000000083', '2026-11-05 10:00+05', '401771800000008', '77771800008');
SELECT * FROM last_import;
RESET imei_registry.import_atomic;
SELECT * FROM my_sightings WHERE imei = '359918000000083';
-- the target never holds a row
SELECT count(*) FROM imei_registry.upload_sightings;
