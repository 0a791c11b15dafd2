-- (made by create_registry(); the rest: sql/1.0/395_signatures_roles.sql)
GRANT SELECT, INSERT, UPDATE, DELETE
    ON imei_registry.trusted_certificates, imei_registry.revoked_certificates
    TO imei_registry_admin;
GRANT SELECT ON imei_registry.application_signatures TO imei_registry_admin;
