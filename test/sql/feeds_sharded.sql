-- The sharded feed on one node (docs/scale-out.md, "The sharded feed"):
-- changes_sharded() serves the history as one shard, 0, with changes()'
-- rows in changes()' order; its position is {"0": the last id}.  On Citus
-- (test/citus/feeds.sh) each history shard is read on its node; changes()
-- then refuses (tested here with Citus's metadata table made by hand, as
-- scale_out_guard does).  IMEIs of this file: TAC 86000041.
SET search_path = imei_registry, public;
INSERT INTO registry (imei, status, reason)
SELECT imei_from_body('86000041' || lpad(g::text, 6, '0')), 'black', 'counterfeit'
  FROM generate_series(1, 5) g;
UPDATE registry SET status = 'white', reason = 'reinstated', note = 'court order'
 WHERE imei = imei_from_body('86000041000002');

-- the same rows in the same order, each with its position
SELECT (SELECT array_agg(c.id ORDER BY c.o) FROM changes(0, 1000000) WITH ORDINALITY c(id, imei, f, t, r, a, ap, im, g, o))
     = (SELECT array_agg(s.id ORDER BY s.o) FROM changes_sharded('{}', 1000000) WITH ORDINALITY s(shard, id, imei, f, t, r, a, ap, im, g, p, o))
       AS same_rows_same_order;
SELECT bool_and(shard = 0 AND position_after = jsonb_build_object('0', id)) AS shard_0_positions
  FROM changes_sharded('{}', 1000000);
-- resumed after a row: what changes() gives after its id
SELECT max(id) - 0 AS before_last FROM (SELECT id FROM changes(0, 1000000) ORDER BY id DESC OFFSET 3) x \gset
SELECT (SELECT array_agg(id) FROM changes(:before_last, 1000))
     = (SELECT array_agg(id) FROM changes_sharded(jsonb_build_object('0', :before_last), 1000)) AS resumed_same;
-- pages of 2 from '{}', resumed with the last row's position: every row once
CREATE FUNCTION pg_temp.pages() RETURNS TABLE (n bigint, ids bigint)
LANGUAGE plpgsql AS $$
DECLARE
    pos jsonb := '{}';
    r record;
    got bigint[] := '{}';
    more boolean := true;
BEGIN
    WHILE more LOOP
        more := false;
        FOR r IN SELECT * FROM imei_registry.changes_sharded(pos, 2) LOOP
            got := got || r.id;
            pos := r.position_after;
            more := true;
        END LOOP;
    END LOOP;
    RETURN QUERY SELECT cardinality(got)::bigint, (SELECT count(DISTINCT x) FROM unnest(got) x);
END
$$;
SELECT p.n = (SELECT count(*) FROM history) AS all_rows, p.n = p.ids AS each_once FROM pg_temp.pages() p;
-- the last row read: nothing after it
SELECT count(*) AS nothing_new
  FROM changes_sharded(jsonb_build_object('0', (SELECT max(id) FROM changes(0, 1000000))), 10);

-- positions refused (22023)
\set VERBOSITY default
SELECT * FROM changes_sharded('[1]');
SELECT * FROM changes_sharded('{"0": -1}');
SELECT * FROM changes_sharded('{"0": 1.5}');
SELECT * FROM changes_sharded('{}', 0);
SELECT * FROM changes_sharded('{"102008": 1}');
SELECT * FROM changes_sharded('{"0": 999999999999}');
-- a NULL: no rows (STRICT, as changes())
SELECT count(*) FROM changes_sharded(NULL);
-- rebase_feeds() is for a distributed registry
CALL rebase_feeds();
\set VERBOSITY terse

-- the internal helpers on one node: the history is shard 0, readable
SELECT feed_shard('imei_registry.history') AS shard, feed_shard_ready('imei_registry.history') AS ready,
       feed_node_group() AS citus_group;
SELECT feed_shard('imei_registry.registry');
-- who may call them: the feed for operators, the rest for nobody
SELECT p.oid::regprocedure AS function,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_may,
       has_function_privilege('imei_registry_operator', p.oid, 'EXECUTE') AS operator_may
  FROM pg_proc p
 WHERE p.pronamespace = 'imei_registry'::regnamespace
   AND p.proname IN ('changes_sharded', 'changes_of_shard', 'feed_shard', 'feed_node_group',
                     'feed_shard_ready', 'feed_shard_mark', 'feed_shard_stamp', 'rebase_feeds')
 ORDER BY 1::text;
-- operator_is_mine() stays internal on one node (granted where citus is)
SELECT has_function_privilege('imei_registry_operator', 'operator_is_mine(text)', 'EXECUTE') AS operator_may;

-- distributed (Citus's metadata made by hand): changes() refuses, with the
-- sharded form in its hint
SET allow_system_table_mods = on;
CREATE TABLE pg_catalog.pg_dist_partition (logicalrelid regclass NOT NULL, partmethod "char" NOT NULL);
RESET allow_system_table_mods;
INSERT INTO pg_catalog.pg_dist_partition VALUES ('imei_registry.registry', 'h');
ALTER TABLE registry SET (fillfactor = 100);
\set VERBOSITY default
SELECT * FROM changes(0, 10);
\set VERBOSITY terse
DROP TABLE pg_catalog.pg_dist_partition;
ALTER TABLE registry RESET (fillfactor);
SELECT count(*) > 0 AS changes_again FROM changes(0, 10);
