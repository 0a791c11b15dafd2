/*
 * layout.c
 *		The data tables' link to the extension (sql/create_registry.sql.in).
 *
 * create_registry() makes the data tables as ordinary tables, not members
 * of the extension: Citus distributes only those, and pg_dump dumps them
 * as any table.  Left at that, DROP EXTENSION ... CASCADE would drop only
 * what of them depends on the extension's objects -- the imei columns, the
 * triggers, the policies -- and leave the tables behind without their key.
 * So each data table also gets a normal dependency on the extension (what
 * a view has on the tables it reads): DROP EXTENSION is refused while the
 * tables exist, and with CASCADE drops them whole.  A normal dependency,
 * not membership: pg_dump still dumps the table and its rows.  pg_dump does
 * not keep such a dependency; restore_registry() records it again.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "compat.h"
#include "relcheck.h"

PG_FUNCTION_INFO_V1(registry_table_depend);

/* Does relid already depend on the extension (as member or not)? */
static bool
depends_on(Oid relid, Oid extoid)
{
	Relation	dep = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(dep, DependDependerIndexId, true, NULL, 2, key);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);

		found = d->refclassid == ExtensionRelationId && d->refobjid == extoid;
	}
	systable_endscan(scan);
	table_close(dep, AccessShareLock);
	return found;
}

/* The extension's schema (get_extension_schema() is static before 16) */
static Oid
extension_schema(Oid extoid)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

/*
 * registry_table_depend(regclass): a table of the extension's schema now
 * depends on the extension; false if it did already.  Only the table's
 * owner (create_registry() and restore_registry() run as it) may.
 */
Datum
registry_table_depend(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Oid			extoid = get_extension_oid("imei_registry", false);
	ObjectAddress table;
	ObjectAddress ext;

	if (get_rel_relkind(relid) != RELKIND_RELATION ||
		get_rel_namespace(relid) != extension_schema(extoid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("relation with OID %u is not a table of the schema of imei_registry",
						relid)));
	if (!rel_ownercheck(relid))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
	if (depends_on(relid, extoid))
		PG_RETURN_BOOL(false);
	ObjectAddressSet(table, RelationRelationId, relid);
	ObjectAddressSet(ext, ExtensionRelationId, extoid);
	recordDependencyOn(&table, &ext, DEPENDENCY_NORMAL);
	PG_RETURN_BOOL(true);
}

PG_FUNCTION_INFO_V1(registry_distributed);

/*
 * registry_distributed() -> boolean: is imei_registry.registry distributed
 * (Citus lists it in pg_dist_partition)?  false without the table.  For the
 * PL/pgSQL that takes another statement on Citus.
 */
Datum
registry_distributed(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(ext_registry_distributed());
}

/*
 * The history shard id of rel: 0 for imei_registry.history itself, the
 * shard id for a Citus shard of it on this node (ext_shard_logical());
 * anything else 22023.
 */
static int64
history_shard_id(Oid relid)
{
	Oid			history = ext_relation_oid(EXT_HISTORY);
	Relation	rel;
	const char *name;
	bool		shard;

	if (!OidIsValid(history))
		ext_missing_table(ext_relation_name(EXT_HISTORY));
	if (relid == history)
		return 0;
	rel = try_relation_open(relid, AccessShareLock);
	shard = rel != NULL && ext_shard_logical(rel) == history;
	if (rel != NULL)
		relation_close(rel, AccessShareLock);
	if (!shard)
	{
		char	   *relname = get_rel_name(relid);

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 relname == NULL ?
				 errmsg("relation with OID %u does not exist", relid) :
				 errmsg("relation \"%s\" is neither imei_registry.history nor a shard of it on this node",
						quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												   relname))));
	}
	name = get_rel_name(relid);
	return strtoi64(strrchr(name, '_') + 1, NULL, 10);
}

PG_FUNCTION_INFO_V1(feed_shard);

/*
 * feed_shard(regclass) -> bigint: the shard id of a history shard of this
 * node, 0 for imei_registry.history itself (22023 for anything else)
 */
Datum
feed_shard(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(history_shard_id(PG_GETARG_OID(0)));
}

PG_FUNCTION_INFO_V1(feed_node_group);

/*
 * feed_node_group() -> integer: this node's group in the Citus cluster
 * (pg_dist_local_group), -1 without Citus
 */
Datum
feed_node_group(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(ext_local_group());
}

PG_FUNCTION_INFO_V1(feed_shard_ready);

/*
 * feed_shard_ready(regclass) -> boolean: may the feed read (and the history
 * trigger write) it?  imei_registry.history itself where it is not
 * distributed (one node: its xids are its own); a shard whose placement on
 * this node feed_shards lists (ext_feed_placement_listed()).  The history
 * writer asks the same (src/history_insert.c).
 */
Datum
feed_shard_ready(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int64		shardid = history_shard_id(relid);

	if (shardid == 0)
		PG_RETURN_BOOL(!ext_relation_distributed(relid));
	PG_RETURN_BOOL(ext_feed_placement_listed(shardid));
}
