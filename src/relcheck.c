/*
 * relcheck.c
 *		The one place that decides whether a relation is one of the
 *		extension's tables, of the shape the C reads.
 *
 * A trigger function can be attached to any table by whoever may execute
 * it, and a datum read with the wrong type is a crash of the server, not an
 * error.  So every C trigger of the extension (and every C reader of its
 * tables) first asks here: the relation must be the extension's table by
 * OID -- looked up once per backend in the extension's own schema, never
 * by name alone -- and every column the C reads must exist with the type it
 * reads it as.  Otherwise SQLSTATE 39P01 (trigger_protocol_violated), as
 * core's triggers say it.
 *
 * Everything is kept until a relcache invalidation of one of the tables
 * (ALTER TABLE, DROP EXTENSION), then looked up again.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "relcheck.h"

#define EXTENSION_NAME	"imei_registry"

/*
 * The relcache callbacks of the whole extension, called by one callback of
 * PostgreSQL's: it has room for only MAX_RELCACHE_CALLBACKS (10) in a
 * backend, shared with every other library (Citus takes some).
 */
#define EXT_RELCACHE_CALLBACKS	16

static struct
{
	RelcacheCallbackFunction func;
	Datum		arg;
}			ext_callbacks[EXT_RELCACHE_CALLBACKS];
static int	n_ext_callbacks = 0;

static void
ext_relcache_dispatch(Datum arg, Oid relid)
{
	int			i;

	for (i = 0; i < n_ext_callbacks; i++)
		ext_callbacks[i].func(ext_callbacks[i].arg, relid);
}

void
ext_register_relcache_callback(RelcacheCallbackFunction func, Datum arg)
{
	if (n_ext_callbacks >= EXT_RELCACHE_CALLBACKS)
		elog(ERROR, "imei_registry: out of relcache callback slots");
	if (n_ext_callbacks == 0)
		CacheRegisterRelcacheCallback(ext_relcache_dispatch, (Datum) 0);
	ext_callbacks[n_ext_callbacks].func = func;
	ext_callbacks[n_ext_callbacks].arg = arg;
	n_ext_callbacks++;
}

/* The types the C reads columns as */
typedef enum ColType
{
	CT_TEXT,
	CT_INT8,
	CT_INT4,
	CT_TIMESTAMPTZ,
	CT_DATE,
	CT_XID8,
	CT_IMEI,					/* the extension's imei */
	CT_STATUS,					/* the extension's status enum */
	CT_NTYPES
} ColType;

static const char *const ext_type_names[CT_NTYPES] = {
	[CT_IMEI] = "imei", [CT_STATUS] = "status"
};

typedef struct ColumnSpec
{
	const char *name;
	ColType		type;
} ColumnSpec;

#define MAX_SPEC_COLUMNS 13

typedef struct RelationSpec
{
	const char *name;
	bool		exact;			/* these columns only, in this order */
	int			ncols;
	ColumnSpec	cols[MAX_SPEC_COLUMNS];
} RelationSpec;

static const RelationSpec specs[EXT_NRELATIONS] = {
	[EXT_REGISTRY] = {"registry", false, REG_NCOLUMNS, {
			[REG_IMEI] = {"imei", CT_IMEI},
			[REG_STATUS] = {"status", CT_STATUS},
			[REG_REASON] = {"reason", CT_TEXT},
			[REG_REASON_BASE] = {"reason_base", CT_TEXT},
			[REG_SINCE] = {"since", CT_TIMESTAMPTZ},
			[REG_GREY_LAST_DAY] = {"grey_last_day", CT_DATE},
			[REG_APPLICATION_ID] = {"application_id", CT_INT8},
			[REG_IMPORT_ID] = {"import_id", CT_INT8},
			[REG_NOTE] = {"note", CT_TEXT},
			[REG_GREY_PERIOD_DAYS] = {"grey_period_days", CT_INT4},
			[REG_FIRST_SEEN_AT] = {"first_seen_at", CT_TIMESTAMPTZ},
			[REG_FIRST_OPERATOR] = {"first_operator", CT_TEXT},
			[REG_DEVICE_ID] = {"device_id", CT_INT8}}},
	[EXT_HISTORY] = {"history", false, HIST_NCOLUMNS, {
			[HIST_XID] = {"xid", CT_XID8}}},
	[EXT_PAIR_HISTORY] = {"pair_history", false, HIST_NCOLUMNS, {
			[HIST_XID] = {"xid", CT_XID8}}},
	[EXT_DEVICES] = {"devices", false, DEV_NCOLUMNS, {
			[DEV_DEVICE_ID] = {"device_id", CT_INT8}}},
	/* the COPY targets are read by position, every column as text */
	[EXT_UPLOAD_CONNECTIONS] = {"upload_connections", true, 3, {
			{"operator", CT_TEXT}, {"imei", CT_TEXT}, {"connected_at", CT_TEXT}}},
	[EXT_UPLOAD_TAC] = {"upload_tac", true, 5, {
			{"tac", CT_TEXT}, {"brand", CT_TEXT}, {"model", CT_TEXT},
			{"device_type", CT_TEXT}, {"sim_slots", CT_TEXT}}},
	[EXT_UPLOAD_BLOCKLIST] = {"upload_blocklist", true, 3, {
			{"imei", CT_TEXT}, {"listed_on", CT_TEXT}, {"reason", CT_TEXT}}},
	[EXT_UPLOAD_DEVICES] = {"upload_devices", true, 6, {
			{"application_id", CT_TEXT}, {"model", CT_TEXT}, {"imei_1", CT_TEXT},
			{"imei_2", CT_TEXT}, {"imei_3", CT_TEXT}, {"imei_4", CT_TEXT}}},
	[EXT_UPLOAD_SIGHTINGS] = {"upload_sightings", true, 5, {
			{"operator", CT_TEXT}, {"imei", CT_TEXT}, {"connected_at", CT_TEXT},
			{"imsi", CT_TEXT}, {"msisdn", CT_TEXT}}},
	[EXT_SIGHTINGS] = {"sightings", true, SIGHT_NCOLUMNS, {
			[SIGHT_IMEI] = {"imei", CT_IMEI},
			[SIGHT_IMSI] = {"imsi", CT_INT8},
			[SIGHT_MSISDN] = {"msisdn", CT_INT8},
			[SIGHT_MONTH] = {"month", CT_DATE},
			[SIGHT_DAYS] = {"days", CT_INT4},
			[SIGHT_OPERATOR] = {"operator", CT_TEXT}}},
};

/* What this backend knows; InvalidOid: not looked up (or forgotten) */
static Oid	ext_namespace = InvalidOid;
static Oid	type_oids[CT_NTYPES];
typedef struct KnownRelation
{
	Oid			relid;			/* the extension's table */
	Oid			checked;		/* atts hold for this relation */
	AttrNumber	atts[MAX_SPEC_COLUMNS];
} KnownRelation;
static KnownRelation known[EXT_NRELATIONS];

static void
forget_all(Datum arg, Oid relid)
{
	int			i;
	bool		ours = !OidIsValid(relid);

	for (i = 0; i < EXT_NRELATIONS && !ours; i++)
		ours = (relid == known[i].relid || relid == known[i].checked);
	if (!ours)
		return;
	ext_namespace = InvalidOid;
	memset(type_oids, 0, sizeof(type_oids));

	/*
	 * Only what to look up again: the attribute numbers stay.  A caller
	 * holds them across the locks it takes next (its index), and taking a
	 * lock processes invalidations (an ANALYZE's, a GRANT's); while it
	 * holds its lock on the relation they cannot change.
	 */
	for (i = 0; i < EXT_NRELATIONS; i++)
	{
		known[i].relid = InvalidOid;
		known[i].checked = InvalidOid;
	}
}

/* The schema of the extension, from pg_extension; InvalidOid if absent */
static Oid
extension_namespace(void)
{
	static bool callback_registered = false;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;

	if (!callback_registered)
	{
		ext_register_relcache_callback(forget_all, (Datum) 0);
		callback_registered = true;
	}
	if (OidIsValid(ext_namespace))
		return ext_namespace;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(EXTENSION_NAME));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		ext_namespace = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return ext_namespace;
}

static Oid
type_oid(ColType t)
{
	static const Oid builtin[CT_NTYPES] = {
		[CT_TEXT] = TEXTOID, [CT_INT8] = INT8OID,
		[CT_INT4] = INT4OID,
		[CT_TIMESTAMPTZ] = TIMESTAMPTZOID, [CT_DATE] = DATEOID,
		[CT_XID8] = XID8OID
	};

	if (ext_type_names[t] == NULL)
		return builtin[t];
	if (!OidIsValid(type_oids[t]))
		type_oids[t] = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									   CStringGetDatum(ext_type_names[t]),
									   ObjectIdGetDatum(extension_namespace()));
	return type_oids[t];
}

const char *
ext_relation_name(ExtRelation which)
{
	return specs[which].name;
}

Oid
ext_relation_oid(ExtRelation which)
{
	Oid			nsp = extension_namespace();

	if (!OidIsValid(nsp))
		return InvalidOid;
	if (!OidIsValid(known[which].relid))
		known[which].relid = get_relname_relid(specs[which].name, nsp);
	return known[which].relid;
}

void
ext_missing_table(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_TABLE),
			 errmsg("relation \"%s.%s\" does not exist", EXTENSION_NAME, name),
			 errhint("The data tables are made once per database by SELECT %s.create_registry().",
					 EXTENSION_NAME)));
}

/*
 * Citus's pg_catalog.pg_dist_shard (dist), opened for reading once its
 * first columns are checked: logicalrelid (the table) and shardid.
 */
static Relation
open_dist_shard(Oid dist)
{
	Relation	cat = table_open(dist, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(cat);

	if (desc->natts < 2 ||
		strcmp(NameStr(TupleDescAttr(desc, 0)->attname), "logicalrelid") != 0 ||
		(TupleDescAttr(desc, 0)->atttypid != REGCLASSOID &&
		 TupleDescAttr(desc, 0)->atttypid != OIDOID) ||
		strcmp(NameStr(TupleDescAttr(desc, 1)->attname), "shardid") != 0 ||
		TupleDescAttr(desc, 1)->atttypid != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_catalog.pg_dist_shard is not the table of Citus that imei_registry reads"),
				 errdetail("Its first columns are not logicalrelid and shardid.")));
	return cat;
}

/*
 * Citus keeps a distributed (or reference) table's rows in shards: tables
 * of the same schema named after the table with the shard's id appended
 * ("registry_102008"), each listed in pg_catalog.pg_dist_shard (logicalrelid,
 * shardid).  The table rel is a shard of, or InvalidOid: rel's name must
 * end in _<shardid> of a row of pg_dist_shard whose logicalrelid is a table
 * of rel's schema named as rel without the suffix.  A look-alike (a table
 * named so that Citus does not list, or in another schema) is no shard.
 * Read directly, as ext_relation_distributed() reads pg_dist_partition;
 * without Citus there is no such table and nothing is a shard.  The last
 * answer is kept until a relcache invalidation.
 */
static Oid	shard_cache_relid = InvalidOid;
static Oid	shard_cache_logical = InvalidOid;

static void
forget_shard(Datum arg, Oid relid)
{
	shard_cache_relid = InvalidOid;
	shard_cache_logical = InvalidOid;
}

Oid
ext_shard_logical(Relation rel)
{
	static bool callback_registered = false;
	const char *name = RelationGetRelationName(rel);
	const char *p = name + strlen(name);
	Oid			dist;
	Relation	cat;
	TupleDesc	desc;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	int64		shardid;
	Oid			logical = InvalidOid;

	if (!callback_registered)
	{
		ext_register_relcache_callback(forget_shard, (Datum) 0);
		callback_registered = true;
	}
	if (OidIsValid(shard_cache_relid) && shard_cache_relid == RelationGetRelid(rel))
		return shard_cache_logical;
	while (p > name && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (p == name + strlen(name) || p == name || p[-1] != '_' ||
		strlen(p) > 18 || p[0] == '0')
		return InvalidOid;
	dist = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
	if (!OidIsValid(dist))
		return InvalidOid;
	shardid = strtoi64(p, NULL, 10);
	cat = open_dist_shard(dist);
	desc = RelationGetDescr(cat);
	ScanKeyInit(&key, 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(shardid));
	scan = systable_beginscan(cat, InvalidOid, false, NULL, 1, &key);
	while ((tup = systable_getnext(scan)) != NULL)
	{
		bool		isnull;
		Oid			candidate = DatumGetObjectId(heap_getattr(tup, 1, desc, &isnull));
		char	   *cname;

		if (isnull)
			continue;
		cname = get_rel_name(candidate);
		if (cname != NULL &&
			get_rel_namespace(candidate) == RelationGetNamespace(rel) &&
			strlen(cname) == (size_t) (p - 1 - name) &&
			strncmp(cname, name, p - 1 - name) == 0)
			logical = candidate;
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	shard_cache_relid = RelationGetRelid(rel);
	shard_cache_logical = logical;
	return logical;
}

/*
 * The table itself, or on a Citus node a shard of it (ext_shard_logical):
 * found by OID through Citus's metadata, never by its name alone.  The
 * shape is checked for a shard as for the table.
 */
bool
ext_is_relation(Relation rel, ExtRelation which)
{
	Oid			relid = ext_relation_oid(which);

	if (!OidIsValid(relid))
		return false;
	return RelationGetRelid(rel) == relid || ext_shard_logical(rel) == relid;
}

/* Is rel the data table imei_registry.name, or a shard of it? */
bool
ext_is_named_table(Relation rel, const char *name)
{
	Oid			nsp = extension_namespace();
	Oid			relid;

	if (!OidIsValid(nsp) || RelationGetNamespace(rel) != nsp)
		return false;
	relid = get_relname_relid(name, nsp);
	return OidIsValid(relid) &&
		(RelationGetRelid(rel) == relid || ext_shard_logical(rel) == relid);
}

static char *
qualified_name(Relation rel)
{
	return quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
									  RelationGetRelationName(rel));
}

static void
wrong_relation(Relation rel, ExtRelation which, const char *caller)
{
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("function \"%s\" fired on relation \"%s\", which is not %s.%s",
					caller, qualified_name(rel), EXTENSION_NAME,
					specs[which].name),
			 errhint("The triggers of %s work only on the tables it made.",
					 EXTENSION_NAME)));
}

static void
wrong_shape(Relation rel, const char *caller, int sqlerrcode, const char *detail)
{
	ereport(ERROR,
			(errcode(sqlerrcode),
			 errmsg("relation \"%s\" does not have the columns that \"%s\" reads",
					qualified_name(rel), caller),
			 errdetail_internal("%s", detail)));
}

/* Check rel against its spec; fill atts. */
static void
check_shape(Relation rel, const RelationSpec *spec, const char *caller,
			int sqlerrcode, AttrNumber *atts)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	if (spec->exact && desc->natts != spec->ncols)
		wrong_shape(rel, caller, sqlerrcode,
					psprintf("It has %d columns; it should have %d.",
							 desc->natts, spec->ncols));
	for (i = 0; i < spec->ncols; i++)
	{
		const ColumnSpec *c = &spec->cols[i];
		Oid			want = type_oid(c->type);
		Form_pg_attribute attr = NULL;
		int			a;

		if (spec->exact)
		{
			attr = TupleDescAttr(desc, i);
			if (attr->attisdropped || strcmp(NameStr(attr->attname), c->name) != 0)
				wrong_shape(rel, caller, sqlerrcode,
							psprintf("Column %d should be \"%s\".", i + 1, c->name));
		}
		else
		{
			for (a = 0; a < desc->natts; a++)
			{
				Form_pg_attribute candidate = TupleDescAttr(desc, a);

				if (!candidate->attisdropped &&
					strcmp(NameStr(candidate->attname), c->name) == 0)
				{
					attr = candidate;
					break;
				}
			}
			if (attr == NULL)
				wrong_shape(rel, caller, sqlerrcode,
							psprintf("It has no column \"%s\".", c->name));
		}
		if (!OidIsValid(want) || attr->atttypid != want)
			wrong_shape(rel, caller, sqlerrcode,
						psprintf("Column \"%s\" has type %s; it should be %s.",
								 c->name, format_type_be(attr->atttypid),
								 OidIsValid(want) ? format_type_be(want) :
								 ext_type_names[c->type]));
		atts[i] = attr->attnum;
	}
}

static const AttrNumber *
columns(Relation rel, ExtRelation which, const char *caller, int sqlerrcode)
{
	KnownRelation *k = &known[which];

	if (!ext_is_relation(rel, which))
		wrong_relation(rel, which, caller);
	if (k->checked != RelationGetRelid(rel))
	{
		k->checked = InvalidOid;
		check_shape(rel, &specs[which], caller, sqlerrcode, k->atts);
		k->checked = RelationGetRelid(rel);
	}
	return k->atts;
}

const AttrNumber *
ext_columns(Relation rel, ExtRelation which, const char *caller)
{
	return columns(rel, which, caller, ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED);
}

const AttrNumber *
ext_table_columns(Relation rel, ExtRelation which, const char *caller)
{
	return columns(rel, which, caller, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE);
}

ExtRelation
ext_upload_target(Relation rel, const char *caller)
{
	int			t;

	for (t = EXT_FIRST_UPLOAD; t <= EXT_LAST_UPLOAD; t++)
		if (ext_is_relation(rel, (ExtRelation) t))
		{
			(void) ext_columns(rel, (ExtRelation) t, caller);
			return (ExtRelation) t;
		}
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("function \"%s\" fired on relation \"%s\", which is not an upload target of %s",
					caller, qualified_name(rel), EXTENSION_NAME),
			 errhint("The targets are %s.upload_connections, upload_tac, upload_blocklist and upload_devices.",
					 EXTENSION_NAME)));
	return EXT_UPLOAD_CONNECTIONS;	/* keep the compiler quiet */
}

TriggerData *
trigger_data(FunctionCallInfo fcinfo, const char *caller)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by trigger manager",
						caller)));
	return (TriggerData *) fcinfo->context;
}

void
trigger_require(TriggerData *trigdata, const char *caller, int events,
				bool before, bool row)
{
	TriggerEvent ev = trigdata->tg_event;
	static const char *const names[] = {"INSERT", "DELETE", "UPDATE", "TRUNCATE"};
	StringInfoData buf;
	int			e;

	if ((events & (1 << (ev & TRIGGER_EVENT_OPMASK))) &&
		(before ? TRIGGER_FIRED_BEFORE(ev) : TRIGGER_FIRED_AFTER(ev)) &&
		(row ? TRIGGER_FIRED_FOR_ROW(ev) : TRIGGER_FIRED_FOR_STATEMENT(ev)))
		return;

	initStringInfo(&buf);
	for (e = 0; e < lengthof(names); e++)
		if (events & (1 << e))
			appendStringInfo(&buf, "%s%s", buf.len ? " OR " : "", names[e]);
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("function \"%s\" must be fired %s %s FOR EACH %s",
					caller, before ? "BEFORE" : "AFTER", buf.data,
					row ? "ROW" : "STATEMENT")));
}

/*
 * Citus lists every table it distributes in pg_catalog.pg_dist_partition,
 * whose first column, logicalrelid, is the table; without Citus there is
 * no such table.  Read directly (no SQL): a callers' probe must not depend
 * on search_path or plans.
 */
bool
ext_registry_distributed(void)
{
	Oid			relid = ext_relation_oid(EXT_REGISTRY);

	return OidIsValid(relid) && ext_relation_distributed(relid);
}

bool
ext_relation_distributed(Oid relid)
{
	Oid			dist = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
	Relation	rel;
	Form_pg_attribute first;
	ScanKeyData key;
	SysScanDesc scan;
	bool		found;

	if (!OidIsValid(dist))
		return false;
	rel = table_open(dist, AccessShareLock);
	first = TupleDescAttr(RelationGetDescr(rel), 0);
	if (strcmp(NameStr(first->attname), "logicalrelid") != 0 ||
		(first->atttypid != REGCLASSOID && first->atttypid != OIDOID))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_catalog.pg_dist_partition is not the table of Citus that imei_registry reads"),
				 errdetail("Its first column is not logicalrelid.")));
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * The relation through which the C reads the small data table relid on this
 * node.  Without Citus (no pg_catalog.pg_dist_partition: one syscache probe)
 * or for a table Citus does not make a reference table: relid itself, and
 * *shardid 0.  For a reference table (pg_dist_partition.partmethod 'n'),
 * whose own relation on a Citus node is an empty shell: its placement on
 * this node, the relation <table>_<shardid> of the same schema for the one
 * shard pg_dist_shard lists, and *shardid that shard.  A reference table
 * with no placement on this node is refused (0A000): the shell's rows
 * would be a wrong answer.  Catalogs read directly, by column name: no link
 * to Citus.
 */
Oid
ext_local_data_relation(Oid relid, int64 *shardid)
{
	Oid			part = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
	Oid			dist;
	Relation	cat;
	TupleDesc	desc;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	AttrNumber	method_att = InvalidAttrNumber;
	bool		reference = false;
	int64		shard = 0;
	Oid			local;
	int			i;

	*shardid = 0;
	if (!OidIsValid(part))
		return relid;
	cat = table_open(part, AccessShareLock);
	desc = RelationGetDescr(cat);
	for (i = 0; i < desc->natts; i++)
		if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), "partmethod") == 0 &&
			TupleDescAttr(desc, i)->atttypid == CHAROID)
			method_att = i + 1;
	if (strcmp(NameStr(TupleDescAttr(desc, 0)->attname), "logicalrelid") != 0 ||
		(TupleDescAttr(desc, 0)->atttypid != REGCLASSOID &&
		 TupleDescAttr(desc, 0)->atttypid != OIDOID) ||
		method_att == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_catalog.pg_dist_partition is not the table of Citus that imei_registry reads"),
				 errdetail("It has no logicalrelid first and no partmethod of type \"char\".")));
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(cat, InvalidOid, false, NULL, 1, &key);
	if ((tup = systable_getnext(scan)) != NULL)
	{
		bool		isnull;
		Datum		m = heap_getattr(tup, method_att, desc, &isnull);

		reference = !isnull && DatumGetChar(m) == 'n';
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	if (!reference)
		return relid;

	dist = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
	if (OidIsValid(dist))
	{
		cat = open_dist_shard(dist);
		desc = RelationGetDescr(cat);
		ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
		scan = systable_beginscan(cat, InvalidOid, false, NULL, 1, &key);
		if ((tup = systable_getnext(scan)) != NULL)
		{
			bool		isnull;
			Datum		s = heap_getattr(tup, 2, desc, &isnull);

			if (!isnull)
				shard = DatumGetInt64(s);
		}
		systable_endscan(scan);
		table_close(cat, AccessShareLock);
	}
	local = shard > 0 ? ext_shard_sibling(relid, shard) : InvalidOid;
	if (!OidIsValid(local))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the reference table %s has no placement on this node",
						quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												   get_rel_name(relid))),
				 errdetail("imei_registry reads its small tables on the node that asks; on Citus their rows are in the shard placement."),
				 errhint("Add this node to the cluster's metadata (citus_set_coordinator_host() on a coordinator), so that Citus places the reference tables on it.")));
	*shardid = shard;
	return local;
}

/*
 * The relation (a table or an index) named as relid's with "_<shardid>",
 * in its schema: Citus's name for it on a shard.  InvalidOid if none.
 */
Oid
ext_shard_sibling(Oid relid, int64 shardid)
{
	char	   *name = get_rel_name(relid);

	if (name == NULL)
		return InvalidOid;
	return get_relname_relid(psprintf("%s_" INT64_FORMAT, name, shardid),
							 get_rel_namespace(relid));
}

/* The column name of type typid in desc (found by name), or 0 */
static AttrNumber
catalog_column(TupleDesc desc, const char *name, Oid typid)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0 &&
			TupleDescAttr(desc, i)->atttypid == typid)
			return i + 1;
	return InvalidAttrNumber;
}

static void
not_citus_catalog(const char *catalog)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("pg_catalog.%s is not the table of Citus that imei_registry reads", catalog)));
}

/*
 * This node's group in the Citus cluster (pg_catalog.pg_dist_local_group:
 * 0 the coordinator, a worker its own), or -1 without Citus.  A shard's
 * placement is on a group (pg_dist_placement.groupid); a shard move
 * changes it.  Read directly, by column name.
 */
int32
ext_local_group(void)
{
	Oid			local_group = get_relname_relid("pg_dist_local_group", PG_CATALOG_NAMESPACE);
	Relation	cat;
	TupleDesc	desc;
	SysScanDesc scan;
	HeapTuple	tup;
	AttrNumber	att_group;
	int32		group = -1;
	bool		isnull;

	if (!OidIsValid(local_group))
		return -1;
	cat = table_open(local_group, AccessShareLock);
	desc = RelationGetDescr(cat);
	if ((att_group = catalog_column(desc, "groupid", INT4OID)) == InvalidAttrNumber)
		not_citus_catalog("pg_dist_local_group");
	scan = systable_beginscan(cat, InvalidOid, false, NULL, 0, NULL);
	if ((tup = systable_getnext(scan)) != NULL)
	{
		Datum		d = heap_getattr(tup, att_group, desc, &isnull);

		if (!isnull)
			group = DatumGetInt32(d);
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return group;
}

/*
 * Does imei_registry.feed_shards (on Citus a reference table: read in this
 * node's placement) list the history shard shardid on this node's group?
 * The feeds order a shard's rows by the xids of the node that wrote them;
 * a shard that a move (or a split) brought here holds rows with the xids
 * of another node until rebase_feeds() stamps them again and lists it
 * (sql/1.0/900_layout.sql).  The group, not the placement id: Citus gives
 * a moved placement a new id on the coordinator but changes only the group
 * of the old one in the workers' metadata.  A shard moved away and back
 * before rebase_feeds() ran has its old xids again (no row was written
 * meanwhile: refused), so its old entry still holds.  false without the
 * table or Citus.
 */
bool
ext_feed_placement_listed(int64 shardid)
{
	Oid			nsp = extension_namespace();
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("feed_shards", nsp) : InvalidOid;
	int32		group = ext_local_group();
	int64		refshard;
	Relation	rel;
	TupleDesc	desc;
	SysScanDesc scan;
	HeapTuple	tup;
	AttrNumber	att_shard;
	AttrNumber	att_group;
	bool		found = false;

	if (!OidIsValid(relid) || group < 0)
		return false;
	rel = table_open(ext_local_data_relation(relid, &refshard), AccessShareLock);
	desc = RelationGetDescr(rel);
	att_shard = catalog_column(desc, "shardid", INT8OID);
	att_group = catalog_column(desc, "groupid", INT4OID);
	if (att_shard == InvalidAttrNumber || att_group == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation \"%s.feed_shards\" does not have the columns shardid (bigint) and groupid (integer)",
						EXTENSION_NAME)));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (!found && (tup = systable_getnext(scan)) != NULL)
	{
		bool		snull;
		bool		gnull;
		Datum		sd = heap_getattr(tup, att_shard, desc, &snull);
		Datum		gd = heap_getattr(tup, att_group, desc, &gnull);

		found = !snull && !gnull && DatumGetInt64(sd) == shardid &&
			DatumGetInt32(gd) == group;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}
