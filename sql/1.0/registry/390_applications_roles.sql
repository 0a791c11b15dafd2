-- (made by create_registry(); the rest: sql/1.0/390_applications_roles.sql)
-- The TAC table, the MCI and the authorised service centres are public
-- facts; the registry maintains them.
GRANT SELECT ON imei_registry.tac, imei_registry.mci, imei_registry.service_centres
    TO imei_registry_reader;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON imei_registry.tac, imei_registry.mci, imei_registry.service_centres
    TO imei_registry_admin;
GRANT SELECT ON imei_registry.applications, imei_registry.application_documents,
    imei_registry.application_devices, imei_registry.application_imeis,
    imei_registry.application_replacements, imei_registry.application_payments
    TO imei_registry_admin;
