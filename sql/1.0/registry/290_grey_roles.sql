-- (made by create_registry(); the rest: sql/1.0/290_grey_roles.sql)
GRANT SELECT, INSERT, UPDATE ON imei_registry.grey_expiry_runs TO imei_registry_admin;
