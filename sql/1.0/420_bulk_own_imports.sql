-- An operator reads its own imports and their rejects, not others': the
-- imports it loaded (the session user ran the COPY) or that name an
-- operator bound to its login (imei_registry.operator_roles, as on every
-- write path); the admin reads all.  The tables stay the admin's.

CREATE FUNCTION imei_registry.import_is_mine(importer text, operator text)
    RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
SELECT pg_catalog.pg_has_role(SESSION_USER, 'imei_registry_admin', 'MEMBER')
    OR $1 OPERATOR(pg_catalog.=) SESSION_USER
    OR coalesce(imei_registry.operator_is_mine($2), false)
$$;
COMMENT ON FUNCTION imei_registry.import_is_mine(text, text) IS
    'may the session user read this import (loaded by it, for an operator bound to it, or the admin)?';

CREATE FUNCTION imei_registry.my_imports()
    RETURNS TABLE (import_id bigint, target text, operator text, importer text,
                   created_at timestamptz, finished_at timestamptz, rows_read bigint,
                   rows_loaded bigint, rows_rejected bigint, rows_already_present bigint)
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
SELECT i.import_id, i.target, i.operator, i.importer, i.created_at, i.finished_at,
       i.rows_read, i.rows_loaded, i.rows_rejected, i.rows_already_present
FROM imei_registry.imports i
WHERE i.target IS NOT NULL
  AND imei_registry.import_is_mine(i.importer, i.operator)
ORDER BY i.import_id
$$;
COMMENT ON FUNCTION imei_registry.my_imports() IS
    'the COPY imports the session user may read: its own loads and those of its operators';

CREATE FUNCTION imei_registry.my_import_rejects(import_id bigint)
    RETURNS TABLE (line_number bigint, raw text[], reason text, message text)
    LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM imei_registry.imports i
                   WHERE i.import_id = my_import_rejects.import_id
                     AND imei_registry.import_is_mine(i.importer, i.operator)) THEN
        RAISE EXCEPTION 'import % is not one of login "%"', import_id, SESSION_USER
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'An operator reads the rejects of its own imports (imei_registry.my_imports()).';
    END IF;
    RETURN QUERY
    SELECT j.line_number, j.raw, j.reason, j.message
    FROM imei_registry.import_rejects j
    WHERE j.import_id = my_import_rejects.import_id
    ORDER BY j.line_number;
END $$;
COMMENT ON FUNCTION imei_registry.my_import_rejects(bigint) IS
    'the rejected rows of one of the session user''s imports, by line';

REVOKE EXECUTE ON FUNCTION imei_registry.import_is_mine(text, text),
    imei_registry.my_imports(), imei_registry.my_import_rejects(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION imei_registry.my_imports(), imei_registry.my_import_rejects(bigint)
    TO imei_registry_operator, imei_registry_portal;
