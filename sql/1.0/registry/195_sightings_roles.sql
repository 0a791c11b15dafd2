-- (made by create_registry(); the rest: sql/1.0/195_sightings_roles.sql)
-- Who reads sightings (130_sightings.sql).  IMSI and MSISDN are personal
-- data: imei_registry_reader and imei_registry_portal get nothing; an
-- operator's login reads the rows of its own networks (my_operators(): the
-- operators operator_roles binds it to), the admin, a member of
-- imei_registry_operator bound to every operator, all of them.  Nobody
-- writes the table but its writer, record_sightings(), as the owner.
CREATE POLICY own_network ON imei_registry.sightings FOR SELECT
    TO imei_registry_operator
    USING (operator OPERATOR(pg_catalog.=) ANY ((SELECT imei_registry.my_operators())::text[]));

GRANT SELECT ON imei_registry.sightings TO imei_registry_operator;
