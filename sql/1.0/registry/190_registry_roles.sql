-- (made by create_registry(); the rest: sql/1.0/190_registry_roles.sql)
-- Only the admin writes tables directly, through the same triggers; the
-- history is written by the trigger as the table owner, so nobody gets
-- INSERT on it.
GRANT SELECT, INSERT, UPDATE ON imei_registry.registry, imei_registry.devices,
    imei_registry.operators, imei_registry.imports TO imei_registry_admin;
GRANT SELECT, INSERT ON imei_registry.reasons TO imei_registry_admin;
GRANT SELECT ON imei_registry.history TO imei_registry_admin;
-- The admin binds roles to operators.
GRANT SELECT, INSERT, UPDATE, DELETE ON imei_registry.operator_roles TO imei_registry_admin;
