-- (made by create_registry(); the rest: sql/1.0/196_subscriber_actions_roles.sql)
-- The admin maps the operators' networks; operators read the map.
GRANT SELECT, INSERT, UPDATE, DELETE ON imei_registry.operator_networks TO imei_registry_admin;
GRANT SELECT ON imei_registry.operator_networks TO imei_registry_operator;

-- The pairs: an operator's login reads those of its own operators (what
-- its EIR lets through now), the admin all; the history of pairs is the
-- admin's (operators read it through exceptions()).  Only pair_change()
-- writes either, as the owner.
CREATE POLICY own_subscribers ON imei_registry.subscriber_pairs FOR SELECT
    TO imei_registry_operator
    USING (operator OPERATOR(pg_catalog.=) ANY ((SELECT imei_registry.my_operators())::text[]));
GRANT SELECT ON imei_registry.subscriber_pairs TO imei_registry_operator;
GRANT SELECT ON imei_registry.pair_history TO imei_registry_admin;
