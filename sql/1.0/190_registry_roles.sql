-- Group roles (NOLOGIN).  Roles belong to the cluster, not to the database
-- or the extension: they are created here only if missing, are shared by
-- every database that has the extension, and stay after DROP EXTENSION.
--   imei_registry_reader    the public check
--   imei_registry_portal    applicants' portal: check (+ applications)
--   imei_registry_operator  mobile operators: report connections, change feed, check
--   imei_registry_admin     the registry: every decision, direct table writes
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['imei_registry_reader', 'imei_registry_portal',
                             'imei_registry_operator', 'imei_registry_admin'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;

GRANT imei_registry_reader TO imei_registry_portal, imei_registry_operator;
GRANT imei_registry_portal, imei_registry_operator TO imei_registry_admin;

-- The types and pure functions are for everyone; the register is not.
GRANT USAGE ON SCHEMA imei_registry TO PUBLIC;

REVOKE EXECUTE ON FUNCTION
    imei_registry.record_connections(imei_registry.imei[], text[], timestamptz[], bigint),
    imei_registry.record_connections_routed(imei_registry.imei[], text[], timestamptz[], bigint),
    imei_registry.report_without_statement(imei_registry.imei, text, timestamptz),
    imei_registry.application_holds(imei_registry.imei, date),
    imei_registry.report_connection(imei_registry.imei, text, timestamptz, text, text),
    imei_registry.report_connection(imei_registry.imeisv, text, timestamptz, text, text),
    imei_registry.register_import(imei_registry.imei[], text, text),
    imei_registry.check_imei(imei_registry.imei),
    imei_registry.block(imei_registry.imei, text, text),
    imei_registry.reinstate(imei_registry.imei, text),
    imei_registry.changes(bigint, integer),
    imei_registry.changes_horizon(),
    imei_registry.changes_sharded(jsonb, integer),
    imei_registry.changes_of_shard(regclass, jsonb, integer),
    imei_registry.feed_shard(regclass),
    imei_registry.feed_node_group(),
    imei_registry.feed_shard_ready(regclass),
    imei_registry.feed_horizon(),
    imei_registry.operator_is_mine(text),
    imei_registry.check_reporting_operator(text)
FROM PUBLIC;

-- On a Citus node the row security policies that distribute_registry()
-- makes call operator_is_mine() as the reading operator, on the coordinator
-- and on the workers' shards: granted where citus is in the database (Citus
-- makes this extension on every node it adds, citus there first).  On one
-- node it stays internal.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        GRANT EXECUTE ON FUNCTION imei_registry.operator_is_mine(text) TO imei_registry_operator;
    END IF;
END
$$;

GRANT EXECUTE ON FUNCTION imei_registry.check_imei(imei_registry.imei)
    TO imei_registry_reader;
GRANT EXECUTE ON FUNCTION
    imei_registry.report_connection(imei_registry.imei, text, timestamptz, text, text),
    imei_registry.report_connection(imei_registry.imeisv, text, timestamptz, text, text),
    imei_registry.changes(bigint, integer),
    imei_registry.changes_sharded(jsonb, integer)
TO imei_registry_operator;
GRANT EXECUTE ON FUNCTION
    imei_registry.application_holds(imei_registry.imei, date),
    imei_registry.register_import(imei_registry.imei[], text, text),
    imei_registry.block(imei_registry.imei, text, text),
    imei_registry.reinstate(imei_registry.imei, text)
TO imei_registry_admin;
