/*
 * relcheck.h
 *		Is this relation the extension's own, of the shape its C reads?
 *		(relcheck.c)  Every trigger function and every C reader of a table
 *		asks here first.
 */
#ifndef IMEI_REGISTRY_RELCHECK_H
#define IMEI_REGISTRY_RELCHECK_H

#include "postgres.h"

#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/inval.h"
#include "utils/relcache.h"

/* The extension's tables that C reads */
typedef enum ExtRelation
{
	EXT_REGISTRY,
	EXT_HISTORY,
	EXT_PAIR_HISTORY,
	EXT_DEVICES,
	EXT_UPLOAD_CONNECTIONS,
	EXT_UPLOAD_TAC,
	EXT_UPLOAD_BLOCKLIST,
	EXT_UPLOAD_DEVICES,
	EXT_UPLOAD_SIGHTINGS,
	EXT_SIGHTINGS,
	EXT_NRELATIONS
} ExtRelation;

#define EXT_FIRST_UPLOAD	EXT_UPLOAD_CONNECTIONS
#define EXT_LAST_UPLOAD		EXT_UPLOAD_SIGHTINGS

/*
 * The columns of the registry that C reads, in the order of the array that
 * ext_columns() returns for it; each is found by name and its type checked.
 */
enum
{
	REG_IMEI,
	REG_STATUS,
	REG_REASON,
	REG_REASON_BASE,
	REG_SINCE,
	REG_GREY_LAST_DAY,
	REG_APPLICATION_ID,
	REG_IMPORT_ID,
	REG_NOTE,
	REG_GREY_PERIOD_DAYS,
	REG_FIRST_SEEN_AT,
	REG_FIRST_OPERATOR,
	REG_DEVICE_ID,
	REG_NCOLUMNS
};

/* ... of the sightings (all of them, in order) */
enum
{
	SIGHT_IMEI,
	SIGHT_IMSI,
	SIGHT_MSISDN,
	SIGHT_MONTH,
	SIGHT_DAYS,
	SIGHT_OPERATOR,
	SIGHT_NCOLUMNS
};

/* ... of the devices */
enum
{
	DEV_DEVICE_ID,
	DEV_NCOLUMNS
};

/* ... and of the feed tables, history and pair_history */
enum
{
	HIST_XID,
	HIST_NCOLUMNS
};

/* The name of an extension table, without the schema ("registry") */
extern const char *ext_relation_name(ExtRelation which);

/* The OID of an extension table; InvalidOid if the extension is not here */
extern Oid	ext_relation_oid(ExtRelation which);

/*
 * A data table is missing (create_registry() not called yet, or the table
 * dropped): 42P01 naming it, with the hint.  name without the schema.
 */
extern void ext_missing_table(const char *name) pg_attribute_noreturn();

/*
 * Does Citus distribute this relation (pg_catalog.pg_dist_partition lists
 * it)?  Its rows are then on the workers' shards, not in this node's heap.
 */
extern bool ext_relation_distributed(Oid relid);

/* Is imei_registry.registry distributed?  false without the table. */
extern bool ext_registry_distributed(void);

/*
 * The relation the C reads the small data table relid through on this node:
 * relid itself, or on Citus the local placement of a reference table (its
 * shard id in *shardid, else 0); 0A000 for a reference table not placed
 * here.
 */
extern Oid	ext_local_data_relation(Oid relid, int64 *shardid);

/*
 * CacheRegisterRelcacheCallback() for the extension: all of its callbacks
 * take one of PostgreSQL's few slots
 */
extern void ext_register_relcache_callback(RelcacheCallbackFunction func, Datum arg);

/* relid's relation (table or index) on the shard shardid, or InvalidOid */
extern Oid	ext_shard_sibling(Oid relid, int64 shardid);

/*
 * On a Citus node: the table whose shard rel is (pg_dist_shard), else
 * InvalidOid
 */
extern Oid	ext_shard_logical(Relation rel);

/* This node's group in the Citus cluster (pg_dist_local_group), or -1 */
extern int32 ext_local_group(void);

/*
 * Does imei_registry.feed_shards list the history shard shardid on this
 * node's group (its rows' xids are this node's)?
 */
extern bool ext_feed_placement_listed(int64 shardid);

/* Is rel the data table imei_registry.name, or a Citus shard of it? */
extern bool ext_is_named_table(Relation rel, const char *name);

/* Is rel the extension's table which (or a shard of it)? */
extern bool ext_is_relation(Relation rel, ExtRelation which);

/*
 * The attribute numbers of which's columns in rel, after checking that rel
 * is that table and that each column has the type the C reads.  The upload
 * targets must have exactly their columns, all text, in order.  Raises
 * SQLSTATE 39P01 (trigger_protocol_violated) otherwise, naming caller.
 * The result is kept until the relation changes.
 */
extern const AttrNumber *ext_columns(Relation rel, ExtRelation which,
									 const char *caller);

/* The same for a function that reads the table (not a trigger): SQLSTATE 55000 */
extern const AttrNumber *ext_table_columns(Relation rel, ExtRelation which,
										   const char *caller);

/* Which upload target rel is, checked as ext_columns() does */
extern ExtRelation ext_upload_target(Relation rel, const char *caller);

/*
 * The trigger guards, as core's triggers have them: fired by the trigger
 * manager, for one of the events (a mask of TRIG_*), BEFORE or AFTER, FOR
 * EACH ROW or STATEMENT.  39P01 otherwise.
 */
#define TRIG_INSERT		(1 << TRIGGER_EVENT_INSERT)
#define TRIG_DELETE		(1 << TRIGGER_EVENT_DELETE)
#define TRIG_UPDATE		(1 << TRIGGER_EVENT_UPDATE)
#define TRIG_TRUNCATE	(1 << TRIGGER_EVENT_TRUNCATE)

extern TriggerData *trigger_data(FunctionCallInfo fcinfo, const char *caller);
extern void trigger_require(TriggerData *trigdata, const char *caller,
							int events, bool before, bool row);

#endif							/* IMEI_REGISTRY_RELCHECK_H */
