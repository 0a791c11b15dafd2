-- Who calls the readers of sightings and the pairing (140_subscriber_actions.sql,
-- 150_pairing.sql).  IMSI and MSISDN are personal data: an operator's
-- login reads the reminders, black devices in use and the exceptions of
-- its own operators only (check_operator_reader(): 42501 for another's),
-- the admin everyone's; readers and the portal read none of them.  The
-- portal pairs and unpairs for owners (with their approved applications)
-- and is told only whether it did.  Suspected clones span every network:
-- the registry's admin reads them and decides.

REVOKE EXECUTE ON FUNCTION
    imei_registry.check_operator_reader(text, text),
    imei_registry.grey_reminders(text, integer),
    imei_registry.suspected_clones(integer, integer),
    imei_registry.black_in_use(text, date),
    imei_registry.imsi_operator(bigint),
    imei_registry.check_application_owns(bigint, imei_registry.imei),
    imei_registry.pair_change(imei_registry.imei, bigint, boolean, bigint),
    imei_registry.pair_subscriber(imei_registry.imei, text, bigint),
    imei_registry.unpair_subscriber(imei_registry.imei, text),
    imei_registry.exceptions(text, bigint, integer)
FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    imei_registry.grey_reminders(text, integer),
    imei_registry.black_in_use(text, date),
    imei_registry.exceptions(text, bigint, integer)
TO imei_registry_operator;
GRANT EXECUTE ON FUNCTION
    imei_registry.pair_subscriber(imei_registry.imei, text, bigint),
    imei_registry.unpair_subscriber(imei_registry.imei, text)
TO imei_registry_portal;
GRANT EXECUTE ON FUNCTION
    imei_registry.suspected_clones(integer, integer),
    imei_registry.imsi_operator(bigint)
TO imei_registry_admin;
