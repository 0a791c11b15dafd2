/*
 * history_insert.c
 *		The history rows of a registry statement through the executor's
 *		multi-insert path, as COPY writes them: no INSERT statement, no plan.
 *
 * registry_history (transitions.c) computes each history row, as it always
 * has, and hands it here: its columns are stored as given, the others get
 * their defaults (id from its identity, xid the writing transaction), the
 * history's statement trigger runs (history_from_registry_only, which lets
 * only the history trigger write), then the NOT NULL checks, one heap
 * multi-insert per batch, and the index entries, unique key included.
 *
 * Only for the history as the extension made it: a local heap table with
 * no row trigger that fires on INSERT in this mode and no AFTER INSERT
 * trigger; otherwise (a site's own trigger, a distributed table)
 * history_writer_begin() says no and the caller takes the INSERT statement.
 * The defaults and the checks are planned once per backend and made again
 * after any relcache invalidation of the history.
 */
#include "compat.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "history_insert.h"
#include "registry.h"
#include "relcheck.h"

/* rows per heap multi-insert */
#define HISTORY_BATCH 1000

/* The history's columns the trigger fills, in HistoryColumn order */
static const char *const filled[HC_NCOLUMNS] = {
	"imei", "from_status", "to_status", "reason", "actor", "changed_at",
	"application_id", "import_id", "note", "first_seen_at", "first_operator",
	"grey_last_day"
};

/* What this backend knows of the history: see history_shape() */
typedef struct HistoryShape
{
	Oid			relid;			/* InvalidOid: not known (or forgotten) */
	bool		usable;			/* has the columns the writer fills */
	MemoryContext context;
	AttrNumber	atts[HC_NCOLUMNS];
	int			ndefaults;
	AttrNumber *default_atts;	/* the other columns that have a default */
	ExprState **defaults;
	ExprState **checks;			/* its CHECK constraints, if any */
} HistoryShape;

static HistoryShape shape;

struct HistoryWriter
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	CommandId	cid;
	BulkInsertState bistate;
	TupleTableSlot *slots[HISTORY_BATCH];
	int			nslots;
	int			nmade;			/* slots made so far (they are reused) */
};

static void
forget_shape(Datum arg, Oid relid)
{
	/* freed at the next use: a writer may be using it right now */
	if (!OidIsValid(relid) || relid == shape.relid)
		shape.relid = InvalidOid;
}

/*
 * Is the history as the extension made it, for this writer: a local heap
 * table, our columns, no generated column, and no trigger of its that this
 * path would have to run but its BEFORE INSERT statement trigger?  Row
 * triggers are looked at as they fire now (history_stamp_xid fires only in
 * replica mode, where the registry's history trigger does not).
 */
static bool
history_usable(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_rel->relam != HEAP_TABLE_AM_OID)
		return false;
	/*
	 * Citus keeps a distributed table's rows elsewhere: its executor's path.
	 * A shard of the history (the one co-located with the registry shard
	 * that fired) is a local heap table, written here.
	 */
	if (!OidIsValid(ext_shard_logical(rel)) &&
		OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE)))
		return false;
	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped && TupleDescAttr(desc, i)->attgenerated)
			return false;
	if (td == NULL)
		return true;
	if (td->trig_insert_after_row || td->trig_insert_instead_row ||
		td->trig_insert_after_statement || td->trig_insert_new_table)
		return false;
	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (!TRIGGER_FOR_ROW(t->tgtype) || !TRIGGER_FOR_INSERT(t->tgtype))
			continue;
		/* would it fire now (commands/trigger.c's TriggerEnabled)? */
		if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA ?
			(t->tgenabled == TRIGGER_FIRES_ON_REPLICA ||
			 t->tgenabled == TRIGGER_FIRES_ALWAYS) :
			(t->tgenabled == TRIGGER_FIRES_ON_ORIGIN ||
			 t->tgenabled == TRIGGER_FIRES_ALWAYS))
			return false;
	}
	return true;
}

/* The shape of rel (the history), made again if rel is not the one known */
static HistoryShape *
history_shape(Relation rel)
{
	static bool callback_registered = false;
	TupleDesc	desc = RelationGetDescr(rel);
	TupleConstr *constr = desc->constr;
	MemoryContext old;
	int			i;
	int			c;

	if (shape.relid == RelationGetRelid(rel))
		return &shape;
	if (!callback_registered)
	{
		ext_register_relcache_callback(forget_shape, (Datum) 0);
		callback_registered = true;
	}
	if (shape.context != NULL)
		MemoryContextDelete(shape.context);
	memset(&shape, 0, sizeof(shape));
	shape.context = AllocSetContextCreate(CacheMemoryContext,
										  "imei_registry history shape",
										  ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(shape.context);
	shape.usable = true;
	for (c = 0; c < HC_NCOLUMNS && shape.usable; c++)
	{
		shape.atts[c] = InvalidAttrNumber;
		for (i = 0; i < desc->natts; i++)
			if (!TupleDescAttr(desc, i)->attisdropped &&
				strcmp(NameStr(TupleDescAttr(desc, i)->attname), filled[c]) == 0)
				shape.atts[c] = i + 1;
		if (shape.atts[c] == InvalidAttrNumber)
			shape.usable = false;
	}
	if (shape.usable)
	{
		/*
		 * A Citus shard has no identity of its own: id takes the default of
		 * the node's table of the same name (its sequence gives each node
		 * its own range of ids), by column name.
		 */
		Oid			logical = ext_shard_logical(rel);
		Relation	lrel = OidIsValid(logical) ? table_open(logical, AccessShareLock) : NULL;

		shape.default_atts = palloc(desc->natts * sizeof(AttrNumber));
		shape.defaults = palloc(desc->natts * sizeof(ExprState *));
		for (i = 0; i < desc->natts; i++)
		{
			Node	   *def;
			bool		is_filled = false;

			if (TupleDescAttr(desc, i)->attisdropped)
				continue;
			for (c = 0; c < HC_NCOLUMNS; c++)
				if (shape.atts[c] == i + 1)
					is_filled = true;
			if (is_filled)
				continue;
			def = build_column_default(rel, i + 1);
			if (def == NULL && lrel != NULL)
			{
				AttrNumber	la;

				for (la = 1; la <= RelationGetDescr(lrel)->natts; la++)
					if (!TupleDescAttr(RelationGetDescr(lrel), la - 1)->attisdropped &&
						strcmp(NameStr(TupleDescAttr(RelationGetDescr(lrel), la - 1)->attname),
							   NameStr(TupleDescAttr(desc, i)->attname)) == 0)
						def = build_column_default(lrel, la);
			}
			if (def == NULL)
				continue;
			shape.default_atts[shape.ndefaults] = i + 1;
			shape.defaults[shape.ndefaults] =
				ExecInitExpr(expression_planner((Expr *) def), NULL);
			shape.ndefaults++;
		}
		if (lrel != NULL)
			table_close(lrel, AccessShareLock);
		if (constr != NULL && constr->num_check > 0)
		{
			shape.checks = palloc(constr->num_check * sizeof(ExprState *));
			for (i = 0; i < constr->num_check; i++)
				shape.checks[i] =
					ExecInitExpr(expression_planner((Expr *) stringToNode(constr->check[i].ccbin)),
								 NULL);
		}
	}
	MemoryContextSwitchTo(old);
	shape.relid = RelationGetRelid(rel);
	return &shape;
}

/*
 * The history shard co-located with the registry shard regshard (logical
 * the registry): the shard of the history whose hash range starts where
 * regshard's does (pg_dist_shard.shardminvalue), which Citus places on the
 * same node.  Not here: an error, never a history row lost or sent away.
 */
static Oid
colocated_history_shard(Relation regshard)
{
	Oid			dist = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
	Oid			history = ext_relation_oid(EXT_HISTORY);
	const char *name = RelationGetRelationName(regshard);
	int64		regid = strtoi64(strrchr(name, '_') + 1, NULL, 10);
	char	   *regmin = NULL;
	int64		histid = -1;
	Relation	cat;
	TupleDesc	desc;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			relid;
	AttrNumber	att_min = InvalidAttrNumber;
	int			i;

	cat = table_open(dist, AccessShareLock);
	desc = RelationGetDescr(cat);
	/* found by name: Citus's upgrades dropped a column before it */
	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), "shardminvalue") == 0 &&
			TupleDescAttr(desc, i)->atttypid == TEXTOID)
			att_min = i + 1;
	if (att_min == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_catalog.pg_dist_shard is not the table of Citus that imei_registry reads")));
	/* two passes over a small catalog: the registry shard's range, its peer */
	scan = systable_beginscan(cat, InvalidOid, false, NULL, 0, NULL);
	while ((tup = systable_getnext(scan)) != NULL)
	{
		bool		isnull;

		if (DatumGetInt64(heap_getattr(tup, 2, desc, &isnull)) == regid)
		{
			Datum		d = heap_getattr(tup, att_min, desc, &isnull);

			if (!isnull)
				regmin = TextDatumGetCString(d);
		}
	}
	systable_endscan(scan);
	scan = systable_beginscan(cat, InvalidOid, false, NULL, 0, NULL);
	while (regmin != NULL && (tup = systable_getnext(scan)) != NULL)
	{
		bool		isnull;
		bool		minnull;
		Datum		d;

		if (DatumGetObjectId(heap_getattr(tup, 1, desc, &isnull)) != history)
			continue;
		d = heap_getattr(tup, att_min, desc, &minnull);
		if (!minnull && strcmp(TextDatumGetCString(d), regmin) == 0)
			histid = DatumGetInt64(heap_getattr(tup, 2, desc, &isnull));
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	relid = histid < 0 ? InvalidOid :
		get_relname_relid(psprintf("%s_" INT64_FORMAT, ext_relation_name(EXT_HISTORY), histid),
						  RelationGetNamespace(regshard));
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the history shard co-located with \"%s\" is not on this node", name),
				 errhint("imei_registry.history must be distributed by imei, co-located with imei_registry.registry.")));
	return relid;
}

HistoryWriter *
history_writer_open(Relation registry)
{
	Oid			relid;
	Relation	rel;
	HistoryWriter *w;

	/*
	 * On a Citus node, a registry shard writes its co-located history shard,
	 * if the feed can order the rows written here after those it holds: a
	 * placement a shard move made holds rows with the xids of the node they
	 * came from until rebase_feeds() stamps them again with this node's (in
	 * their order) and lists the placement in feed_shards.  A row written
	 * here before that could not be ordered against them: refused.
	 */
	if (OidIsValid(ext_shard_logical(registry)))
	{
		const char *hname;
		int64		histid;

		relid = colocated_history_shard(registry);
		hname = get_rel_name(relid);
		histid = strtoi64(strrchr(hname, '_') + 1, NULL, 10);
		if (!ext_feed_placement_listed(histid))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("history shard \"%s\" on this node is not re-based for the feed", hname),
					 errdetail("A shard move copied its rows with the transaction ids of the node they came from; changes_sharded() could not order a row written here after them."),
					 errhint("Run CALL imei_registry.rebase_feeds() on the coordinator after moving shards.")));
	}
	else
		relid = ext_relation_oid(EXT_HISTORY);
	if (!OidIsValid(relid))
		return NULL;
	rel = table_open(relid, RowExclusiveLock);
	(void) ext_columns(rel, EXT_HISTORY, "registry_history");
	/* its triggers as they fire now; its columns as known */
	if (!history_usable(rel) || !history_shape(rel)->usable)
	{
		if (OidIsValid(ext_shard_logical(rel)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("history shard \"%s\" is not as imei_registry made it", RelationGetRelationName(rel)),
					 errdetail("A trigger of its own or a changed column keeps the history trigger from writing it.")));
		table_close(rel, RowExclusiveLock);
		return NULL;
	}
	w = palloc0(sizeof(HistoryWriter));
	w->rel = rel;
	return w;
}

/* Before the first row: the insert's statement, its trigger fired */
static void
history_writer_start(HistoryWriter *w)
{
	/* a statement of its own, as SPI runs one */
	CommandCounterIncrement();
	w->cid = GetCurrentCommandId(true);
	w->estate = CreateExecutorState();
	w->estate->es_output_cid = w->cid;
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, w->rel, 0, NULL, 0);
	ExecOpenIndices(w->rri, false);
	w->rri->ri_ConstraintExprs = shape.checks;
	/* a ring of buffers, as COPY, for full batches (none for a few rows) */
	w->bistate = NULL;

	/* history_from_registry_only: the caller says that it is writing */
	ExecBSInsertTriggers(w->estate, w->rri);
}

static void
history_writer_flush(HistoryWriter *w)
{
	int			i;

	if (w->nslots == 0)
		return;
	if (w->bistate == NULL && w->nslots == HISTORY_BATCH)
		w->bistate = GetBulkInsertState();
	table_multi_insert(w->rel, w->slots, w->nslots, w->cid, 0, w->bistate);
	for (i = 0; i < w->nslots; i++)
	{
		if (w->rri->ri_NumIndices > 0)
			list_free(insert_index_tuples(w->rri, w->slots[i], w->estate));
	}
	w->nslots = 0;
}

void
history_writer_add(HistoryWriter *w, const Datum *values, const bool *nulls)
{
	TupleDesc	desc = RelationGetDescr(w->rel);
	ExprContext *econtext;
	TupleTableSlot *slot;
	MemoryContext old;
	int			c;

	if (w->estate == NULL)
		history_writer_start(w);
	econtext = GetPerTupleExprContext(w->estate);
	ResetPerTupleExprContext(w->estate);
	if (w->nslots == w->nmade)
		w->slots[w->nmade++] = table_slot_create(w->rel, &w->estate->es_tupleTable);
	slot = w->slots[w->nslots];
	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, desc->natts * sizeof(bool));
	for (c = 0; c < HC_NCOLUMNS; c++)
	{
		slot->tts_values[shape.atts[c] - 1] = values[c];
		slot->tts_isnull[shape.atts[c] - 1] = nulls[c];
	}
	old = MemoryContextSwitchTo(GetPerTupleMemoryContext(w->estate));
	for (c = 0; c < shape.ndefaults; c++)
	{
		AttrNumber	att = shape.default_atts[c];

		slot->tts_values[att - 1] = ExecEvalExpr(shape.defaults[c], econtext,
												 &slot->tts_isnull[att - 1]);
	}
	MemoryContextSwitchTo(old);
	ExecStoreVirtualTuple(slot);
	/* the slot's own copy: the values given may go with the caller's row */
	ExecMaterializeSlot(slot);
	if (desc->constr)
		ExecConstraints(w->rri, slot, w->estate);
	if (++w->nslots == HISTORY_BATCH)
		history_writer_flush(w);
}

void
history_writer_end(HistoryWriter *w)
{
	if (w->estate != NULL)
	{
		history_writer_flush(w);
		if (w->bistate)
			FreeBulkInsertState(w->bistate);
		ExecCloseIndices(w->rri);
		ExecResetTupleTable(w->estate->es_tupleTable, false);
		FreeExecutorState(w->estate);
	}
	table_close(w->rel, NoLock);
	pfree(w);
}
