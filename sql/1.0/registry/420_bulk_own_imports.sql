-- (made by create_registry(); the rest: sql/1.0/420_bulk_own_imports.sql)
ALTER TABLE imei_registry.imports ENABLE ROW LEVEL SECURITY;
ALTER TABLE imei_registry.import_rejects ENABLE ROW LEVEL SECURITY;
CREATE POLICY registry_all ON imei_registry.imports TO imei_registry_admin
    USING (true) WITH CHECK (true);
CREATE POLICY own_imports ON imei_registry.imports FOR SELECT
    TO imei_registry_operator, imei_registry_portal
    USING (imei_registry.import_is_mine(importer, operator));
CREATE POLICY registry_all ON imei_registry.import_rejects TO imei_registry_admin
    USING (true) WITH CHECK (true);
-- the rejects of the imports the caller sees (imports' own policy applies)
CREATE POLICY own_rejects ON imei_registry.import_rejects FOR SELECT
    TO imei_registry_operator, imei_registry_portal
    USING (EXISTS (SELECT FROM imei_registry.imports i
                   WHERE i.import_id OPERATOR(pg_catalog.=) import_rejects.import_id));

GRANT SELECT ON imei_registry.imports, imei_registry.import_rejects
    TO imei_registry_operator, imei_registry_portal;
GRANT SELECT ON imei_registry.import_rejects TO imei_registry_admin;
