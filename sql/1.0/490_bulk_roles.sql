-- Who may load which feed (roles: 190_registry_roles.sql).  The right to
-- load a file is INSERT on its target (the triggers do the work as the
-- target's owner); the results are the registry's to read.

GRANT INSERT ON imei_registry.upload_connections, imei_registry.upload_sightings
    TO imei_registry_operator;
-- the portal loads the devices of a submitted application for its applicant
GRANT INSERT ON imei_registry.upload_devices TO imei_registry_portal;
GRANT INSERT ON imei_registry.upload_connections, imei_registry.upload_tac,
    imei_registry.upload_blocklist, imei_registry.upload_devices,
    imei_registry.upload_sightings TO imei_registry_admin;
GRANT SELECT ON imei_registry.import_reject_reasons TO imei_registry_admin;
