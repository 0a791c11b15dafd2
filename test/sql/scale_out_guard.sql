-- check_imei() never probes this node's index for a registry that Citus
-- distributes (docs/scale-out.md): its rows are on the workers' shards and
-- this node's index holds none of them; it asks by a query that Citus
-- routes to the shard (test/citus/registry.sh runs it on Citus; here, with no
-- Citus, the query reads the table itself).  Citus is not needed to test it:
-- its metadata table is made here, as Citus makes it, under
-- allow_system_table_mods.
SET search_path = imei_registry, public;
-- IMEIs of this file: TAC 86000009
SELECT imei_from_body('86000009000001') AS known, imei_from_body('86000009000002') AS unknown \gset
INSERT INTO registry (imei, status, reason) VALUES (:'known', 'black', 'counterfeit');
SELECT status, reason FROM check_imei(:'known');

SET allow_system_table_mods = on;
CREATE TABLE pg_catalog.pg_dist_partition (logicalrelid regclass NOT NULL, partmethod "char" NOT NULL);
RESET allow_system_table_mods;
-- Citus installed, the registry not distributed: the probe answers
SELECT status, reason FROM check_imei(:'known');
-- distributed: the router query, never the local probe
INSERT INTO pg_catalog.pg_dist_partition VALUES ('imei_registry.registry', 'h');
-- a relcache invalidation, as create_distributed_table() sends
ALTER TABLE registry SET (fillfactor = 100);
\set VERBOSITY default
SELECT status, reason FROM check_imei(:'known');
SELECT status, reason FROM check_imei(:'unknown');
\set VERBOSITY terse

-- a table of that name that is not Citus's is refused, not trusted
DROP TABLE pg_catalog.pg_dist_partition;
SET allow_system_table_mods = on;
CREATE TABLE pg_catalog.pg_dist_partition (relid oid);
RESET allow_system_table_mods;
ALTER TABLE registry SET (fillfactor = 100);
SELECT status, reason FROM check_imei(:'known');

DROP TABLE pg_catalog.pg_dist_partition;
ALTER TABLE registry RESET (fillfactor);
SELECT status, reason FROM check_imei(:'known');
