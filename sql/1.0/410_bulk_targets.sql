-- The COPY targets.  Each is an ordinary table that never holds a row:
--   BEFORE INSERT FOR EACH STATEMENT  opens the import (imports row, counters),
--   BEFORE INSERT FOR EACH ROW        validates and applies one row, returns NULL,
--   AFTER INSERT FOR EACH STATEMENT   closes it (counts; atomic mode raises).
-- Every column is text, so that a bad value reaches the row trigger instead of
-- failing COPY's input conversion.

CREATE FUNCTION imei_registry.bulk_import_begin() RETURNS trigger
    AS 'MODULE_PATHNAME', 'bulk_import_begin' LANGUAGE C;
CREATE FUNCTION imei_registry.bulk_import_row() RETURNS trigger
    AS 'MODULE_PATHNAME', 'bulk_import_row' LANGUAGE C;
CREATE FUNCTION imei_registry.bulk_import_end() RETURNS trigger
    AS 'MODULE_PATHNAME', 'bulk_import_end' LANGUAGE C;
-- For the targets' own triggers only (as 110_registry_triggers.sql).
REVOKE EXECUTE ON FUNCTION imei_registry.bulk_import_begin(),
    imei_registry.bulk_import_row(), imei_registry.bulk_import_end() FROM PUBLIC;

CREATE TABLE imei_registry.upload_connections (
    operator     text,
    imei         text,
    connected_at text
);
COMMENT ON TABLE imei_registry.upload_connections IS
    'COPY target: operators'' first-connection reports; unknown IMEIs become grey';

CREATE TABLE imei_registry.upload_tac (
    tac         text,
    brand       text,
    model       text,
    device_type text,
    sim_slots   text
);
COMMENT ON TABLE imei_registry.upload_tac IS
    'COPY target: the GSMA TAC database into imei_registry.tac (310_applications.sql)';

CREATE TABLE imei_registry.upload_blocklist (
    imei      text,
    listed_on text,
    reason    text
);
COMMENT ON TABLE imei_registry.upload_blocklist IS
    'COPY target: GSMA block-list matches; they go black with reason gsma_blocked';

-- Devices of a submitted application (310_applications.sql), one line per
-- device; decide_application() decides them later, as one application.
-- Added IMEIs carry the import_id of the upload (application_imeis).

CREATE TABLE imei_registry.upload_devices (
    application_id text,
    model          text,
    imei_1         text,
    imei_2         text,
    imei_3         text,
    imei_4         text
);
COMMENT ON TABLE imei_registry.upload_devices IS
    'COPY target: the devices of a submitted application, IMEIs in slot order';

-- Operators' reports with the subscriber (130_sightings.sql): the columns of
-- upload_connections, then the IMSI and the MSISDN, both optional.
CREATE TABLE imei_registry.upload_sightings (
    operator     text,
    imei         text,
    connected_at text,
    imsi         text,
    msisdn       text
);
COMMENT ON TABLE imei_registry.upload_sightings IS
    'COPY target: operators'' reports with IMSI and MSISDN; a home subscriber''s (or no IMSI) is a connection, every IMSI''s day goes to sightings';

-- The three triggers of every target; the argument chooses the target (the
-- relation must be it).
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['upload_connections', 'upload_tac', 'upload_blocklist',
                             'upload_devices', 'upload_sightings'] LOOP
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER import_begin BEFORE INSERT ON imei_registry.%1$I'
            '    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.bulk_import_begin(%1$L);'
            'CREATE TRIGGER import_row BEFORE INSERT ON imei_registry.%1$I'
            '    FOR EACH ROW EXECUTE FUNCTION imei_registry.bulk_import_row(%1$L);'
            'CREATE TRIGGER import_end AFTER INSERT ON imei_registry.%1$I'
            '    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.bulk_import_end(%1$L);', t);
    END LOOP;
END
$$;
