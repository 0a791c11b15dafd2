
REVOKE EXECUTE ON FUNCTION
    imei_registry.record_sightings(imei_registry.imei[], bigint[], bigint[], text[], timestamptz[]),
    imei_registry.sightings_write_direct(imei_registry.imei[], bigint[], bigint[], text[], timestamptz[]),
    imei_registry.my_operators()
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION imei_registry.my_operators() TO imei_registry_operator;
