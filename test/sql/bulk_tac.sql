-- upload_tac: the GSMA TAC database into imei_registry.tac: new TACs insert,
-- changed ones update, identical ones are already present.  TACs 3599004x
-- belong to this file.
SET client_min_messages = warning;
INSERT INTO imei_registry.tac (tac, brand, model, device_type, sim_slots) VALUES
    ('35990044', 'Acme', 'Phone 3 (old name)', 'Smartphone', 2),
    ('35990045', 'Acme', 'Phone 4', 'Smartphone', 1);

CREATE TEMP VIEW last_import AS
    SELECT target, rows_read, rows_loaded, rows_rejected, rows_already_present
      FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1;
CREATE TEMP VIEW last_rejects AS
    SELECT line_number, reason, raw, message FROM imei_registry.import_rejects
     WHERE import_id = (SELECT max(import_id) FROM imei_registry.imports)
     ORDER BY line_number;

\copy imei_registry.upload_tac from 'test/data/bulk_tac.csv' with (format csv, header true)
SELECT * FROM last_import;
SELECT * FROM last_rejects;
SELECT * FROM imei_registry.tac WHERE tac LIKE '3599004_' ORDER BY tac;

\copy imei_registry.upload_tac from 'test/data/bulk_tac.csv' with (format csv, header true)
SELECT * FROM last_import;
SELECT line_number, reason FROM last_rejects;

SET imei_registry.import_atomic = on;
\copy imei_registry.upload_tac from 'test/data/bulk_tac.csv' with (format csv, header true)
RESET imei_registry.import_atomic;

DELETE FROM imei_registry.tac WHERE tac LIKE '3599004_';

-- The loader runs with the target owner's rights: a loader's own "="
-- operator on its search_path must not be what it calls.
CREATE ROLE bulk_tac_hijacker;
GRANT imei_registry_admin TO bulk_tac_hijacker;
CREATE SCHEMA bulk_tac_hijack AUTHORIZATION bulk_tac_hijacker;
SET ROLE bulk_tac_hijacker;
CREATE FUNCTION bulk_tac_hijack.eq(text, text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    RAISE WARNING 'hijacked: running as %', current_user;
    RETURN pg_catalog.texteq($1, $2);
END $$;
CREATE OPERATOR bulk_tac_hijack.= (LEFTARG = text, RIGHTARG = text,
                                   FUNCTION = bulk_tac_hijack.eq);
SET search_path = bulk_tac_hijack, pg_catalog, public;
INSERT INTO imei_registry.tac (tac, brand, model, device_type, sim_slots)
    VALUES ('35990049', 'Acme', 'Phone 9', 'Smartphone', 1);
COPY imei_registry.upload_tac FROM STDIN (FORMAT csv, HEADER true);
tac,brand,model,device_type,sim_slots
35990049,Acme,Phone 9 (renamed),Smartphone,1
\.
SELECT model FROM imei_registry.tac WHERE tac OPERATOR(pg_catalog.=) '35990049';
RESET search_path;
RESET ROLE;
DELETE FROM imei_registry.tac WHERE tac = '35990049';
DROP SCHEMA bulk_tac_hijack CASCADE;
DROP OWNED BY bulk_tac_hijacker;
DROP ROLE bulk_tac_hijacker;
