-- An operator reads its own imports and their rejects, not others': the
-- imports it loaded (the session user ran the COPY) or that name an
-- operator bound to its login (imei_registry.operator_roles, as on every
-- write path); the admin reads all.  Row-level security on the two tables
-- says so; the extension's own C and functions read and write them as
-- their owner, whom it does not restrict.

-- PL/pgSQL, not SQL: Citus cannot run a LANGUAGE sql function with
-- parameters.
CREATE FUNCTION imei_registry.import_is_mine(importer text, operator text)
    RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
BEGIN
    RETURN pg_catalog.pg_has_role(SESSION_USER, 'imei_registry_admin', 'MEMBER')
        OR import_is_mine.importer OPERATOR(pg_catalog.=) SESSION_USER
        OR coalesce(imei_registry.operator_is_mine(import_is_mine.operator), false);
END
$$;
COMMENT ON FUNCTION imei_registry.import_is_mine(text, text) IS
    'may the session user read this import (loaded by it, for an operator bound to it, or the admin)?';
REVOKE EXECUTE ON FUNCTION imei_registry.import_is_mine(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION imei_registry.import_is_mine(text, text)
    TO imei_registry_operator, imei_registry_portal, imei_registry_admin;

-- The reject codes are the extension's (imports and import_rejects, made by
-- create_registry(): sql/1.0/registry/420_bulk_own_imports.sql).
GRANT SELECT ON imei_registry.import_reject_reasons
    TO imei_registry_operator, imei_registry_portal;
