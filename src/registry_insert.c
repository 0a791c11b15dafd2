/*
 * registry_insert.c
 *		New registry rows of a bulk load through the executor's multi-insert
 *		path, as COPY writes them.
 *
 * The rows of a batch of first connections (and the new IMEIs of a block
 * list, registry_insert_rows) go to the registry as COPY's multi-insert
 * writes a table: each through the registry's BEFORE ROW
 * triggers (the transition trigger: the rules, the grey period, the
 * operator), its constraints, one heap multi-insert, its index entries,
 * and its AFTER ROW and statement triggers (the foreign keys, and the
 * history trigger, which writes the history rows from the transition table
 * as for any INSERT).  Nothing is written around the triggers: only the
 * ON CONFLICT arbiter and the per-row executor are skipped.
 *
 * Another session may insert one of the IMEIs meanwhile.  The primary key
 * then waits for it and refuses the duplicate (23505): the batch's
 * subtransaction is rolled back, and registry_insert_new() returns false so
 * that the caller sends the batch to record_connections(), whose ON
 * CONFLICT DO NOTHING answers as for any report.
 *
 * Only for the registry as the extension made it, a local heap table whose
 * only BEFORE ROW INSERT trigger is the transition trigger (which reads
 * nothing of other new rows): otherwise -- a site's own row trigger, a
 * distributed table (Citus) -- registry_insert_usable() says no and the
 * rows take the executor's path.
 */
#include "compat.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "registry_insert.h"
#include "relcheck.h"
#include "rules.h"
#include "subxact.h"

/* the relations the AFTER triggers opened (PostgreSQL 13: its own name) */
#if PG_VERSION_NUM >= 140000
#define close_trigger_relations(estate) ExecCloseResultRelations(estate)
#else
#define close_trigger_relations(estate) ExecCleanUpTriggerState(estate)
#endif

/* The registry's columns this writer fills, by name */
static const char *const filled[] = {
	"imei", "status", "reason", "since", "first_seen_at", "first_operator", "import_id",
	"note"
};

/*
 * Is the registry as the extension made it: a local heap table, no default
 * to evaluate in the columns this writer leaves NULL, and the transition
 * trigger its only BEFORE ROW INSERT trigger?
 */
static bool
registry_usable(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;
	TupleDesc	desc = RelationGetDescr(rel);
	int			nbefore = 0;
	int			i;

	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_rel->relam != HEAP_TABLE_AM_OID)
		return false;
	/* Citus keeps a distributed table's rows elsewhere: its executor's path */
	if (OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE)))
		return false;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);

		bool		is_filled = false;
		int			c;

		if (attr->attisdropped)
			continue;
		for (c = 0; c < lengthof(filled); c++)
			if (strcmp(NameStr(attr->attname), filled[c]) == 0)
				is_filled = true;
		/* a column left NULL must be one whose INSERT would leave it NULL */
		if (!is_filled && (attr->atthasdef || attr->attidentity || attr->attgenerated))
			return false;
	}
	if (td == NULL)
		return false;
	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (TRIGGER_FOR_ROW(t->tgtype) && TRIGGER_FOR_BEFORE(t->tgtype) &&
			TRIGGER_FOR_INSERT(t->tgtype) && t->tgenabled != TRIGGER_DISABLED)
		{
			if (strcmp(t->tgname, "registry_transition") != 0)
				return false;
			nbefore++;
		}
	}
	return nbefore == 1;
}

/*
 * The registry's CHECK constraints, planned once per backend, not at every
 * insert: the executor builds them for each ResultRelInfo (for a report of
 * one IMEI, reading and planning four expressions is a third of its cost).
 * They are the relation's own (rd_att->constr->check, in its order), kept
 * in a context of their own and made again after any relcache invalidation
 * of the registry.  The executor evaluates them as always (ExecConstraints).
 */
static Oid	checks_relid = InvalidOid;
static MemoryContext checks_context = NULL;
static ExprState **checks = NULL;

static void
forget_checks(Datum arg, Oid relid)
{
	/* freed at the next use: an insert may be evaluating them right now */
	if (!OidIsValid(relid) || relid == checks_relid)
		checks_relid = InvalidOid;
}

static ExprState **
registry_checks(Relation rel)
{
	static bool callback_registered = false;
	TupleConstr *constr = rel->rd_att->constr;
	MemoryContext old;
	int			i;

	if (constr == NULL || constr->num_check == 0)
		return NULL;
	if (checks_relid == RelationGetRelid(rel) && checks != NULL)
		return checks;
	if (!callback_registered)
	{
		ext_register_relcache_callback(forget_checks, (Datum) 0);
		callback_registered = true;
	}
	if (checks_context != NULL)
		MemoryContextDelete(checks_context);
	checks = NULL;
	checks_context = AllocSetContextCreate(CacheMemoryContext,
										   "imei_registry registry checks",
										   ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(checks_context);
	checks = palloc(constr->num_check * sizeof(ExprState *));
	for (i = 0; i < constr->num_check; i++)
	{
		Expr	   *e = (Expr *) stringToNode(constr->check[i].ccbin);

		checks[i] = ExecInitExpr(expression_planner(e), NULL);
	}
	MemoryContextSwitchTo(old);
	checks_relid = RelationGetRelid(rel);
	return checks;
}

bool
registry_insert_new(int n, const Imei *imeis, const TimestampTz *at,
					const Datum *operators, int64 import_id, Datum *status)
{
	RegistryNewRow *rows = palloc(n * sizeof(RegistryNewRow));
	bool		ok;
	int			i;

	for (i = 0; i < n; i++)
	{
		const TransitionRule *entry = rules_first_connection(at[i]);

		rows[i].imei = imeis[i];
		rows[i].status = entry->to;
		rows[i].reason = CStringGetTextDatum(entry->reason);
		rows[i].has_first_seen = true;
		rows[i].first_seen_at = at[i];
		rows[i].operator = operators[i];
		rows[i].note = (Datum) 0;
	}
	ok = registry_insert_rows(n, rows, import_id, status);
	pfree(rows);
	return ok;
}

/* The heap multi-insert of a batch's slots and their index entries */
typedef struct InsertRun
{
	Relation	rel;
	ResultRelInfo *rri;
	EState	   *estate;
	TupleTableSlot **slots;
	int			nslots;
	CommandId	cid;
} InsertRun;

static void
insert_slots(void *arg)
{
	InsertRun  *run = arg;

	/* a batch through a ring of buffers, as COPY; one row (a report) not */
	BulkInsertState bistate = run->nslots > 1 ? GetBulkInsertState() : NULL;

	table_multi_insert(run->rel, run->slots, run->nslots, run->cid, 0, bistate);
	if (bistate)
		FreeBulkInsertState(bistate);
	for (int i = 0; i < run->nslots; i++)
	{
		List	   *recheck = NIL;

		if (run->rri->ri_NumIndices > 0)
			recheck = insert_index_tuples(run->rri, run->slots[i], run->estate);
		list_free(recheck);		/* the registry has no deferred index */
	}
}

/*
 * The rows through the triggers, the constraints and the multi-insert;
 * status (if not NULL): of each row, the status it was written with (as
 * the BEFORE ROW trigger left it), 0 for one a trigger kept out.
 */
bool
registry_insert_rows(int n, const RegistryNewRow *rows, int64 import_id, Datum *status)
{
	Oid			relid = ext_relation_oid(EXT_REGISTRY);
	InsertRun	run;
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TransitionCaptureState *capture;
	TupleTableSlot **slots;
	TupleDesc	desc;
	AttrNumber	atts[lengthof(filled)];
	Oid			status_type;
	Datum		status_values[REG_NSTATUS];
	CommandId	cid;
	int			nslots = 0;
	bool		ok;
	int			i;
	int			c;

	if (!OidIsValid(relid))
		return false;
	/* the executor's check, which this path does not go through */
	PreventCommandIfReadOnly("an insert into imei_registry.registry");
	rel = table_open(relid, RowExclusiveLock);
	if (!registry_usable(rel))
	{
		table_close(rel, RowExclusiveLock);
		return false;
	}
	desc = RelationGetDescr(rel);
	for (c = 0; c < lengthof(filled); c++)
	{
		atts[c] = InvalidAttrNumber;
		for (i = 0; i < desc->natts; i++)
			if (!TupleDescAttr(desc, i)->attisdropped &&
				strcmp(NameStr(TupleDescAttr(desc, i)->attname), filled[c]) == 0)
				atts[c] = i + 1;
		if (atts[c] == InvalidAttrNumber)
			elog(ERROR, "imei_registry.registry has no column \"%s\"", filled[c]);
	}
	status_type = TupleDescAttr(desc, atts[1] - 1)->atttypid;
	for (c = 0; c < REG_NSTATUS; c++)
		status_values[c] = DirectFunctionCall2(enum_in,
											   CStringGetDatum(reg_status_names[c]),
											   ObjectIdGetDatum(status_type));

	/* a statement of its own, as SPI runs one */
	CommandCounterIncrement();
	PushCopiedSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	cid = GetCurrentCommandId(true);

	estate = CreateExecutorState();
	estate->es_output_cid = cid;
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 0, NULL, 0);
	ExecOpenIndices(rri, false);
	rri->ri_ConstraintExprs = registry_checks(rel);

	/*
	 * The AFTER triggers' query level and its transition table are opened
	 * outside the subtransaction below (a committed subtransaction that
	 * allocated keeps its memory until the transaction ends); nothing is
	 * queued in them before the rows and their index entries are in.
	 */
	AfterTriggerBeginQuery();
	capture = MakeTransitionCaptureState(rel->trigdesc, relid, CMD_INSERT);
	ExecBSInsertTriggers(estate, rri);

	/* each row through the BEFORE ROW trigger and the constraints */
	slots = palloc(n * sizeof(TupleTableSlot *));
	for (i = 0; i < n; i++)
	{
		TupleTableSlot *slot = table_slot_create(rel, &estate->es_tupleTable);
		const RegistryNewRow *row = &rows[i];

		ExecClearTuple(slot);
		memset(slot->tts_isnull, true, desc->natts * sizeof(bool));
		slot->tts_values[atts[0] - 1] = ImeiGetDatum(row->imei);
		slot->tts_values[atts[1] - 1] = status_values[row->status];
		slot->tts_values[atts[2] - 1] = row->reason;
		/* the trigger stamps since, as the column's default would */
		slot->tts_values[atts[3] - 1] = TimestampTzGetDatum(GetCurrentTimestamp());
		slot->tts_values[atts[4] - 1] = TimestampTzGetDatum(row->first_seen_at);
		slot->tts_values[atts[5] - 1] = row->operator;
		slot->tts_values[atts[6] - 1] = Int64GetDatum(import_id);
		slot->tts_values[atts[7] - 1] = row->note;
		for (c = 0; c < 4; c++)
			slot->tts_isnull[atts[c] - 1] = false;	/* imei, status, reason, since */
		slot->tts_isnull[atts[4] - 1] = !row->has_first_seen;
		slot->tts_isnull[atts[5] - 1] = row->operator == (Datum) 0;
		slot->tts_isnull[atts[6] - 1] = import_id == 0;	/* none: a report */
		slot->tts_isnull[atts[7] - 1] = row->note == (Datum) 0;
		ExecStoreVirtualTuple(slot);

		if (status)
			status[i] = (Datum) 0;
		if (!ExecBRInsertTriggers(estate, rri, slot))
			continue;			/* a trigger kept it out */
		if (rel->rd_att->constr)
			ExecConstraints(rri, slot, estate);
		if (status)
		{
			bool		isnull;

			/* an OID, by value: valid after the slot is gone */
			status[i] = slot_getattr(slot, atts[1], &isnull);
		}
		slots[nslots++] = slot;
	}

	/* the heap and index entries, undone if another session has an IMEI */
	run.rel = rel;
	run.rri = rri;
	run.estate = estate;
	run.slots = slots;
	run.nslots = nslots;
	run.cid = cid;
	ok = subxact_run(insert_slots, &run, ERRCODE_UNIQUE_VIOLATION,
					 "registry_pkey", NULL);

	/* the AFTER triggers: foreign keys, and the history of the new rows */
	if (ok)
	{
		for (i = 0; i < nslots; i++)
			ExecARInsertTriggers(estate, rri, slots[i], NIL, capture);
		ExecASInsertTriggers(estate, rri, capture);
	}
	AfterTriggerEndQuery(estate);

	ExecCloseIndices(rri);
	ExecResetTupleTable(estate->es_tupleTable, false);
	close_trigger_relations(estate);
	FreeExecutorState(estate);
	PopActiveSnapshot();
	table_close(rel, NoLock);
	return ok;
}
