-- The layout (docs/registry.md, "Layout"): CREATE EXTENSION makes no table
-- that holds a site's rows; imei_registry.create_registry() (built from
-- sql/create_registry.sql.in and sql/1.0/registry/, at the end of this
-- script) makes them, as ordinary tables.  The members that stay tables
-- are the COPY targets upload_* (they never hold a row) and
-- import_reject_reasons (the shipped reject codes; a site adds none).

-- The data tables: the ordinary tables of the extension's schema (what
-- create_registry() made, or a restore brought back).
CREATE FUNCTION imei_registry.registry_tables() RETURNS SETOF regclass
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT c.oid::regclass
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace OPERATOR(pg_catalog.=) 'imei_registry'::regnamespace
   AND c.relkind OPERATOR(pg_catalog.=) 'r'
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                    WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
                      AND d.objid OPERATOR(pg_catalog.=) c.oid
                      AND d.deptype OPERATOR(pg_catalog.=) 'e')
 ORDER BY c.relname
$$;
COMMENT ON FUNCTION imei_registry.registry_tables() IS
    'the data tables: the tables of the extension''s schema that are not its members (made by create_registry())';

-- Internal (src/layout.c): a data table depends on the extension, so that
-- DROP EXTENSION is refused while it exists and drops it whole with
-- CASCADE.
CREATE FUNCTION imei_registry.registry_table_depend(tbl regclass) RETURNS boolean
    AS 'MODULE_PATHNAME', 'registry_table_depend'
    LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION imei_registry.registry_table_depend(regclass) FROM PUBLIC;

-- The Citus step of create_registry(distributed => true)
-- (docs/scale-out.md, "Citus"), in create_registry()'s transaction, on the
-- coordinator: the tables whose rows are per IMEI are distributed by imei,
-- co-located with the registry (a registry row, its history, sightings and
-- pairs on one shard group, so the history trigger writes on its own
-- node); every other data table is a reference table (a copy on every
-- node), since the shards' triggers read operators, reasons, imports and
-- applications where they run.  Citus refuses a subquery in a row security
-- policy: the policies of sightings, subscriber_pairs and import_rejects
-- are made again here with the same rule through a function (on a single
-- node they keep their subqueries, evaluated once per statement).  The
-- foreign key of import_rejects to the member import_reject_reasons (a
-- local table on every node, which a reference table cannot reference)
-- becomes a CHECK of the same codes, all shipped.
CREATE FUNCTION imei_registry.distributed_tables() RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT unnest(ARRAY['registry', 'history', 'sightings', 'subscriber_pairs']) $$;
COMMENT ON FUNCTION imei_registry.distributed_tables() IS
    'on Citus: the data tables distributed by imei, co-located with registry (the others are reference tables)';

-- An import the caller sees (imports' own policy applies: SECURITY INVOKER).
-- PL/pgSQL: Citus cannot run a LANGUAGE sql function with parameters.
CREATE FUNCTION imei_registry.import_visible(import_id bigint) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
BEGIN
    RETURN EXISTS (SELECT FROM imei_registry.imports i
                    WHERE i.import_id OPERATOR(pg_catalog.=) import_visible.import_id);
END
$$;
GRANT EXECUTE ON FUNCTION imei_registry.import_visible(bigint)
    TO imei_registry_operator, imei_registry_portal;

CREATE FUNCTION imei_registry.distribute_registry() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, imei_registry, pg_temp
-- the registry's guards are triggers, which Citus distributes only so
SET citus.enable_unsafe_triggers = on
AS $$
DECLARE
    t text;
    codes text;
    sp record;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'imei_registry cannot distribute its tables: the extension citus is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Call imei_registry.create_registry() without distributed => true, or CREATE EXTENSION citus first; see docs/scale-out.md, "Citus".';
    END IF;
    IF pg_catalog.to_regclass('imei_registry.registry') IS NULL THEN
        RAISE EXCEPTION 'imei_registry has no tables to distribute in this database'
            USING ERRCODE = 'undefined_table',
                  HINT = 'Call imei_registry.create_registry(distributed => true).';
    END IF;
    IF imei_registry.registry_distributed() THEN
        RAISE EXCEPTION 'the tables of imei_registry are distributed already'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF NOT pg_catalog.citus_is_coordinator() THEN
        RAISE EXCEPTION 'imei_registry distributes its tables only on the Citus coordinator'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    -- the policies, with functions instead of subqueries (the same rules:
    -- my_operators() is the operators for which operator_is_mine(); granted
    -- on every node with citus by the extension's script, here too for a
    -- coordinator that had the extension before citus)
    GRANT EXECUTE ON FUNCTION imei_registry.operator_is_mine(text) TO imei_registry_operator;
    DROP POLICY own_network ON imei_registry.sightings;
    CREATE POLICY own_network ON imei_registry.sightings FOR SELECT
        TO imei_registry_operator USING (imei_registry.operator_is_mine(operator));
    DROP POLICY own_subscribers ON imei_registry.subscriber_pairs;
    CREATE POLICY own_subscribers ON imei_registry.subscriber_pairs FOR SELECT
        TO imei_registry_operator USING (imei_registry.operator_is_mine(operator));
    DROP POLICY own_rejects ON imei_registry.import_rejects;
    CREATE POLICY own_rejects ON imei_registry.import_rejects FOR SELECT
        TO imei_registry_operator, imei_registry_portal
        USING (imei_registry.import_visible(import_id));
    SELECT string_agg(pg_catalog.quote_literal(code), ', ' ORDER BY code) INTO codes
      FROM imei_registry.import_reject_reasons;
    ALTER TABLE imei_registry.import_rejects DROP CONSTRAINT import_rejects_reason_fkey;
    EXECUTE format('ALTER TABLE imei_registry.import_rejects ADD CONSTRAINT import_rejects_reason_known CHECK (reason IN (%s))', codes);

    -- The history shards whose rows carry the xids of the node (group)
    -- that holds them (the sharded feed, changes_sharded()): those made
    -- here, listed below; a shard that a move brings to another group is
    -- listed there by rebase_feeds() once its rows are stamped again
    -- (src/history_insert.c refuses to write one not listed).  A reference
    -- table: read on every node.
    CREATE TABLE imei_registry.feed_shards (
        shardid bigint NOT NULL,
        groupid integer NOT NULL,
        PRIMARY KEY (shardid, groupid)
    );
    COMMENT ON TABLE imei_registry.feed_shards IS
        'on Citus: the history shards, on the group that holds them, whose rows carry that node''s xids (the sharded feed reads only those)';
    PERFORM imei_registry.registry_table_depend('imei_registry.feed_shards');

    -- reference tables, each after the tables it references
    FOR t IN
        WITH RECURSIVE tabs AS (
            SELECT c.oid, c.relname FROM imei_registry.registry_tables() r(oid)
              JOIN pg_catalog.pg_class c ON c.oid = r.oid
             WHERE c.relname NOT IN (SELECT imei_registry.distributed_tables())
        ), depth AS (
            SELECT oid, 0 AS d FROM tabs
            UNION ALL
            SELECT f.conrelid, depth.d + 1
              FROM depth JOIN pg_catalog.pg_constraint f
                ON f.contype = 'f' AND f.confrelid = depth.oid AND f.conrelid <> f.confrelid
        )
        SELECT tabs.relname FROM tabs JOIN depth USING (oid)
         GROUP BY tabs.relname ORDER BY max(depth.d), tabs.relname
    LOOP
        PERFORM pg_catalog.create_reference_table(format('imei_registry.%I', t)::regclass);
    END LOOP;
    -- the per-IMEI tables, co-located with the registry
    PERFORM pg_catalog.create_distributed_table('imei_registry.registry', 'imei');
    FOR t IN SELECT d FROM imei_registry.distributed_tables() d WHERE d <> 'registry' LOOP
        PERFORM pg_catalog.create_distributed_table(format('imei_registry.%I', t)::regclass, 'imei',
                                                colocate_with => 'imei_registry.registry');
    END LOOP;
    FOR sp IN SELECT p.shardid, p.groupid
                FROM pg_catalog.pg_dist_placement p
                JOIN pg_catalog.pg_dist_shard d ON d.shardid = p.shardid
               WHERE d.logicalrelid = 'imei_registry.history'::regclass
    LOOP
        INSERT INTO imei_registry.feed_shards (shardid, groupid) VALUES (sp.shardid, sp.groupid);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION imei_registry.distribute_registry() FROM PUBLIC;

-- ---- After a restore ----
-- The feeds (changes(), exceptions()) order rows by (xid, id), xid the
-- writing transaction.  A restored dump brings the xids of the old
-- cluster, which mean nothing here: higher than this cluster's, its rows
-- would be held back, lower, they would sort before rows written since.
-- restore_registry() gives every restored row an xid of this cluster in
-- the same order, so that a reader resumes after its last id and gets
-- exactly the rows after it: the rows are grouped, in (xid, id) order, into
-- runs that are in id order too (a run ends where a transaction wrote a
-- lower id than one before it, i.e. committed out of id order), and each
-- run gets the xid of a transaction of its own, in order.  A run is first
-- marked with a placeholder xid above any real one (held back by the
-- horizon meanwhile), then stamped; so a run cut short is resumed by
-- calling it again.

-- The placeholder of run 0: 2^63 (an xid8 this cluster never reaches).
CREATE FUNCTION imei_registry.feed_rebase_base() RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT 9223372036854775808::numeric $$;

-- The append-only guard of a feed table (history or pair_history, or a
-- Citus shard of the history on this node, history_<shard id>, for
-- rebase_feeds()), named after it; anything else is refused.
CREATE FUNCTION imei_registry.feed_rebase_guard(tbl text) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tbl ~ '^history_[1-9][0-9]{0,17}$'
       AND pg_catalog.to_regclass(format('imei_registry.%I', tbl)) IS NOT NULL THEN
        IF imei_registry.feed_shard(format('imei_registry.%I', tbl)::regclass) > 0 THEN
            RETURN 'history_append_only_' || substr(tbl, 9);
        END IF;
    END IF;
    IF tbl NOT IN ('history', 'pair_history') THEN
        RAISE EXCEPTION '"%" is not a feed table', tbl
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The feed tables are history and pair_history.';
    END IF;
    RETURN tbl || '_append_only';
END
$$;

-- Mark the runs of one feed table.  The append-only guard is disabled for
-- this transaction's UPDATE only (ALTER TABLE is transactional and locks
-- out every other writer meanwhile).
CREATE FUNCTION imei_registry.feed_rebase_mark(tbl text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    guard text := imei_registry.feed_rebase_guard(tbl);
    n bigint;
BEGIN
    EXECUTE format('ALTER TABLE imei_registry.%I DISABLE TRIGGER %I', tbl, guard);
    EXECUTE format($q$
        WITH x AS (
            SELECT h.xid, min(h.id) AS lo, max(h.id) AS hi
              FROM imei_registry.%1$I h GROUP BY h.xid
        ), b AS (
            SELECT x.xid, x.lo < max(x.hi) OVER (ORDER BY x.xid ROWS BETWEEN
                                   UNBOUNDED PRECEDING AND 1 PRECEDING) AS brk
              FROM x
        ), r AS (
            SELECT b.xid, count(*) FILTER (WHERE b.brk) OVER (ORDER BY b.xid) AS run
              FROM b
        )
        UPDATE imei_registry.%1$I h
           SET xid = ((imei_registry.feed_rebase_base() + r.run)::text)::xid8
          FROM r WHERE h.xid = r.xid$q$, tbl);
    GET DIAGNOSTICS n = ROW_COUNT;
    EXECUTE format('ALTER TABLE imei_registry.%I ENABLE ALWAYS TRIGGER %I', tbl, guard);
    RETURN n;
END
$$;

-- Stamp the first marked run of one feed table with this transaction's
-- xid; false when none is left.
CREATE FUNCTION imei_registry.feed_rebase_stamp(tbl text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    guard text := imei_registry.feed_rebase_guard(tbl);
    first xid8;
BEGIN
    EXECUTE format('SELECT min(h.xid) FROM imei_registry.%I h WHERE h.xid >= $1', tbl)
        INTO first USING (imei_registry.feed_rebase_base()::text)::xid8;
    IF first IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('ALTER TABLE imei_registry.%I DISABLE TRIGGER %I', tbl, guard);
    EXECUTE format('UPDATE imei_registry.%I h SET xid = pg_catalog.pg_current_xact_id() WHERE h.xid = $1', tbl)
        USING first;
    EXECUTE format('ALTER TABLE imei_registry.%I ENABLE ALWAYS TRIGGER %I', tbl, guard);
    RETURN true;
END
$$;

-- Run once after restoring a dump (docs/registry.md, "Dump and restore"),
-- before the feeds are read and before writes: links the data tables to
-- the extension again (pg_dump does not keep that) and re-bases the feeds.
-- A procedure, each run its own transaction: CALL it outside a transaction
-- block.  Harmless on a registry that was not restored (the order is kept).
CREATE PROCEDURE imei_registry.restore_registry()
LANGUAGE plpgsql
AS $$
DECLARE
    t regclass;
    more boolean;
BEGIN
    IF pg_catalog.to_regclass('imei_registry.registry') IS NULL THEN
        RAISE EXCEPTION 'imei_registry has no tables in this database to restore'
            USING ERRCODE = 'undefined_table',
                  HINT = 'Restore a dump first, or make new tables with SELECT imei_registry.create_registry().';
    END IF;
    -- On Citus a dump of the coordinator holds no rows of the shards, and
    -- the re-stamping of the feeds' positions is per node: refused rather
    -- than half done (docs/scale-out.md).
    IF imei_registry.registry_distributed() THEN
        RAISE EXCEPTION 'restore_registry() does not run where the registry is distributed (Citus)'
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'It re-stamps the feeds'' positions of one node''s history; on Citus the rows are on the workers'' shards.',
                  HINT = 'Back up and restore a Citus cluster node by node (each node''s own backup); see docs/scale-out.md.';
    END IF;
    FOR t IN SELECT * FROM imei_registry.registry_tables() LOOP
        PERFORM imei_registry.registry_table_depend(t);
    END LOOP;
    PERFORM imei_registry.feed_rebase_mark('history');
    PERFORM imei_registry.feed_rebase_mark('pair_history');
    COMMIT;
    LOOP
        more := imei_registry.feed_rebase_stamp('history');
        more := imei_registry.feed_rebase_stamp('pair_history') OR more;
        EXIT WHEN NOT more;
        COMMIT;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE imei_registry.restore_registry() IS
    'after restoring a dump: re-bases the feeds'' positions (xids of the old cluster) and links the tables to the extension';
-- ---- After a shard move (Citus) ----
-- citus_move_shard_placement() copies a history shard's rows to the target
-- node with the xids of the node they came from, which mean nothing there
-- (docs/scale-out.md, "The sharded feed").  rebase_feeds() gives them xids
-- of their new node in the same order, as restore_registry() does for a
-- restored dump: each placement that feed_shards does not list is marked
-- and stamped run by run, on its node (run_command_on_shards(): each call
-- a transaction of its own there), then listed.  Until then the history
-- trigger refuses to write it (55000) and changes_sharded() to read it: a
-- reader resumes across the move with its position (ids move with the
-- rows), neither skipping nor repeating.  A shard moved again meanwhile
-- is marked again on its next node (order kept: stamped runs sort before
-- marked ones).

-- On the node of a history shard: mark the runs of it unless feed_shards
-- lists it on this node's group; this node's group (-1: listed, nothing to
-- do).
CREATE FUNCTION imei_registry.feed_shard_mark(shard regclass) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
BEGIN
    IF imei_registry.feed_shard(shard) = 0 THEN
        RAISE EXCEPTION 'feed_shard_mark() re-bases a shard of imei_registry.history, not the table'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF imei_registry.feed_shard_ready(shard) THEN
        RETURN -1;
    END IF;
    PERFORM imei_registry.feed_rebase_mark(
        (SELECT c.relname::text FROM pg_catalog.pg_class c WHERE c.oid = shard));
    RETURN imei_registry.feed_node_group();
END
$$;

-- On the node of a history shard: stamp the first marked run of it; -2 if
-- one was stamped, -1 if feed_shards lists it here, else this node's group
-- (every run stamped).
CREATE FUNCTION imei_registry.feed_shard_stamp(shard regclass) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
BEGIN
    IF imei_registry.feed_shard_ready(shard) THEN
        RETURN -1;
    END IF;
    IF imei_registry.feed_rebase_stamp(
           (SELECT c.relname::text FROM pg_catalog.pg_class c WHERE c.oid = shard)) THEN
        RETURN -2;
    END IF;
    RETURN imei_registry.feed_node_group();
END
$$;

-- Run on the coordinator after moving shards (or from pg_cron); harmless
-- when nothing moved.  A procedure: CALL it outside a transaction block
-- (no SET clause, which would forbid its COMMITs: every name qualified).
-- The entries of groups that no longer hold their shard are removed first
-- and committed, so that a shard marked later is listed nowhere until it
-- is stamped.
CREATE PROCEDURE imei_registry.rebase_feeds()
LANGUAGE plpgsql
AS $$
DECLARE
    marked jsonb := '{}';
    c record;
BEGIN
    IF NOT imei_registry.registry_distributed() THEN
        RAISE EXCEPTION 'rebase_feeds() re-bases the shards of a distributed registry'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'On one node, after restoring a dump: CALL imei_registry.restore_registry().';
    END IF;
    IF NOT pg_catalog.citus_is_coordinator() THEN
        RAISE EXCEPTION 'rebase_feeds() runs on the Citus coordinator'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    FOR c IN SELECT f.shardid, f.groupid FROM imei_registry.feed_shards f LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_placement p
                        WHERE p.shardid OPERATOR(pg_catalog.=) c.shardid
                          AND p.groupid OPERATOR(pg_catalog.=) c.groupid) THEN
            DELETE FROM imei_registry.feed_shards f
             WHERE f.shardid OPERATOR(pg_catalog.=) c.shardid
               AND f.groupid OPERATOR(pg_catalog.=) c.groupid;
        END IF;
    END LOOP;
    COMMIT;
    FOR c IN SELECT r.shardid, r.success, r.result
               FROM pg_catalog.run_command_on_shards('imei_registry.history',
                        'SELECT imei_registry.feed_shard_mark(''%s'')') r
    LOOP
        IF NOT c.success THEN
            RAISE EXCEPTION 'rebase_feeds() could not mark shard % of imei_registry.history: %', c.shardid, c.result;
        END IF;
        IF c.result::integer OPERATOR(pg_catalog.>=) 0 THEN
            marked := marked OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(c.shardid::text, c.result::integer);
        END IF;
    END LOOP;
    WHILE marked OPERATOR(pg_catalog.<>) '{}' LOOP
        FOR c IN SELECT r.shardid, r.success, r.result
                   FROM pg_catalog.run_command_on_shards('imei_registry.history',
                            'SELECT imei_registry.feed_shard_stamp(''%s'')') r
                  WHERE marked OPERATOR(pg_catalog.?) r.shardid::text
        LOOP
            IF NOT c.success THEN
                RAISE EXCEPTION 'rebase_feeds() could not stamp shard % of imei_registry.history: %', c.shardid, c.result;
            END IF;
            IF c.result::integer OPERATOR(pg_catalog.=) -2 THEN
                CONTINUE;                   -- a run stamped: more may follow
            ELSIF c.result::integer OPERATOR(pg_catalog.=) -1 THEN
                marked := marked OPERATOR(pg_catalog.-) c.shardid::text;   -- listed meanwhile
            ELSIF c.result::integer OPERATOR(pg_catalog.=) (marked OPERATOR(pg_catalog.->>) c.shardid::text)::integer THEN
                -- every run stamped, on the group where it was marked
                INSERT INTO imei_registry.feed_shards (shardid, groupid)
                VALUES (c.shardid, c.result::integer);
                marked := marked OPERATOR(pg_catalog.-) c.shardid::text;
            ELSE
                RAISE EXCEPTION 'shard % of imei_registry.history moved while rebase_feeds() re-based it', c.shardid
                    USING ERRCODE = 'object_not_in_prerequisite_state',
                          HINT = 'CALL imei_registry.rebase_feeds() again: it marks the shard again where it is now.';
            END IF;
        END LOOP;
        COMMIT;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE imei_registry.rebase_feeds() IS
    'on Citus, after shard moves: stamps the moved history shards'' rows with their new node''s xids, in their order, so that changes_sharded() resumes across the move';
REVOKE ALL ON FUNCTION imei_registry.feed_shard_mark(regclass),
    imei_registry.feed_shard_stamp(regclass) FROM PUBLIC;
REVOKE ALL ON PROCEDURE imei_registry.rebase_feeds() FROM PUBLIC;

REVOKE ALL ON FUNCTION imei_registry.feed_rebase_base(),
    imei_registry.feed_rebase_guard(text),
    imei_registry.feed_rebase_mark(text),
    imei_registry.feed_rebase_stamp(text) FROM PUBLIC;
REVOKE ALL ON PROCEDURE imei_registry.restore_registry() FROM PUBLIC;
