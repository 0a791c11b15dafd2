-- Who may do what with applications (roles: 190_registry_roles.sql).
-- submit_application and decide_application are SECURITY DEFINER: the
-- portal submits without table privileges, and the registry decides; the
-- history names the session user as actor.

REVOKE EXECUTE ON FUNCTION
    imei_registry.submit_application(jsonb),
    imei_registry.decide_application(bigint)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION imei_registry.submit_application(jsonb)
    TO imei_registry_portal;
GRANT EXECUTE ON FUNCTION imei_registry.decide_application(bigint)
    TO imei_registry_admin;

-- The TAC table, the MCI and the authorised service centres are public
-- facts; the registry maintains them.
GRANT SELECT ON imei_registry.tac, imei_registry.mci, imei_registry.service_centres
    TO imei_registry_reader;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON imei_registry.tac, imei_registry.mci, imei_registry.service_centres
    TO imei_registry_admin;
GRANT SELECT ON imei_registry.applications, imei_registry.application_documents,
    imei_registry.application_devices, imei_registry.application_imeis,
    imei_registry.application_replacements TO imei_registry_admin;
