/*
 * bulk.c
 *		The batch engine of the COPY targets that load CSV files into the
 *		registry and never lose a row: each ends loaded or rejected with its
 *		line number and reason.
 *
 * A target (imei_registry.upload_*) is a table that never holds a row.  Three
 * triggers make a COPY into it one import:
 *
 *	bulk_import_begin	BEFORE INSERT FOR EACH STATEMENT: the imports row and
 *						the counters of this statement;
 *	bulk_import_row		BEFORE INSERT FOR EACH ROW: validate the row and
 *						apply it (or queue it for the next batch), or
 *						record why not; returns NULL;
 *	bulk_import_end		AFTER INSERT FOR EACH STATEMENT: the last batch, the
 *						counts; in atomic mode raise if any row was bad.
 *
 * Statement-level triggers are why the targets are tables and not views
 * with INSTEAD OF triggers: a view has no statement-level INSERT triggers,
 * and its import would have no reliable end.
 *
 * What a row means is its target's (bulk_target.h: a routine per target,
 * in bulk_connections.c, bulk_sightings.c, bulk_devices.c, bulk_tac.c and
 * bulk_blocklist.c); this file runs the load for all of them.  Validation
 * is C that reports a reason code instead of raising; only an UPDATE that
 * the registry's rules may refuse runs in a subtransaction.
 *
 * Memory: one batch of rows, and the keys needed for the duplicate-in-file
 * check that the tables cannot answer for (see bulk_settle); the per-row
 * work runs in a context reset every row.  See docs/bulk.md.
 */
#include "compat.h"

#include "bulk.h"
#include "bulk_target.h"
#include "rules.h"
#include "subxact.h"

#include "access/detoast.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "mb/pg_wchar.h"

#if PG_VERSION_NUM >= 140000
#include "commands/copyfrom_internal.h"
#endif

/*
 * The longest row a target takes: its values together, in bytes.  A longer
 * one is rejected (too_long), and its reject keeps only the first
 * BULK_RAW_CLIP_BYTES of each value, so that import_rejects stays bounded.
 */
#define BULK_ROW_MAX_BYTES	8192
#define BULK_RAW_CLIP_BYTES	256

/* How many bad rows the atomic-mode error quotes */
#define BULK_QUOTED_REASONS	5

static bool bulk_import_atomic = false;

/* The targets, found by their triggers' argument */
static const BulkTargetRoutine *const bulk_targets[] = {
	&bulk_connections_target,
	&bulk_tac_target,
	&bulk_blocklist_target,
	&bulk_devices_target,
	&bulk_sightings_target
};

/* The set of keys (IMEIs, TACs) accepted so far in this import */
typedef struct SeenEntry
{
	int64		key;
	bool		waiting;		/* its row waits in the batch, not settled */
	char		status;			/* simplehash bookkeeping */
} SeenEntry;

static inline uint32
seen_hash_key(int64 key)
{
	uint64		h = (uint64) key;

	/* the splitmix64 finaliser */
	h = (h ^ (h >> 30)) * UINT64CONST(0xbf58476d1ce4e5b9);
	h = (h ^ (h >> 27)) * UINT64CONST(0x94d049bb133111eb);
	return (uint32) (h ^ (h >> 31));
}

#define SH_PREFIX		seen
#define SH_ELEMENT_TYPE	SeenEntry
#define SH_KEY_TYPE		int64
#define SH_KEY			key
#define SH_HASH_KEY(tb, key)	seen_hash_key(key)
#define SH_EQUAL(tb, a, b)		((a) == (b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/*
 * The load that the current statement is running, in its own memory
 * context (a child of TopMemoryContext, kept for the backend and reset
 * after every load).  Imports do not nest.
 */
static MemoryContext load_cxt = NULL;
static BulkLoad *current_load = NULL;

/* The imei type of this load (the extension may have been created again) */
static Oid	load_imei_type = InvalidOid;
static Oid	load_imei_array_type = InvalidOid;

/* The user and GUC state to return to after a piece of work as the owner */
typedef struct SavedUser
{
	Oid			userid;
	int			sec_context;
	int			guc_nestlevel;
} SavedUser;

/*
 * The SPI connection of a trigger call, opened as the target's owner only
 * when the call runs a statement (a lookup not cached yet, a reject, a
 * batch): one per batch, not one per row.  bulk_spi_close() ends it.
 */
static struct
{
	bool		open;
	Relation	rel;
	SavedUser	saved;
} bulk_spi;

static void become_owner(Relation rel, SavedUser *saved);
static void restore_user(const SavedUser *saved);

/* ---- set-up ---- */

static void
bulk_xact_callback(XactEvent event, void *arg)
{
	/* an import that failed inside a subtransaction leaves its memory */
	if ((event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		 event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT) &&
		load_cxt != NULL)
	{
		current_load = NULL;
		bulk_row_end();
		bulk_spi.open = false;	/* SPI and the user are reset by the abort */
		MemoryContextReset(load_cxt);
	}
}

/*
 * A load whose subtransaction aborts (its statement failed inside an
 * exception block, or before ROLLBACK TO SAVEPOINT) is undone with it: its
 * imports row and what it wrote are gone, so its queued rows must never be
 * written and no later statement may continue it.  The loader's own
 * subtransactions (subxact_run) are deeper than the load's and leave it be.
 */
static void
bulk_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && current_load != NULL &&
		current_load->subid == mySubid)
	{
		current_load = NULL;
		bulk_row_end();
		bulk_spi.open = false;	/* SPI and the user are reset by the abort */
		MemoryContextReset(load_cxt);
	}
}

void
bulk_init(void)
{
	DefineCustomBoolVariable("imei_registry.import_atomic",
							 "Makes any bad row abort the whole COPY into an imei_registry.upload_* target.",
							 "Off: bad rows go to imei_registry.import_rejects and good rows load.",
							 &bulk_import_atomic,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	RegisterXactCallback(bulk_xact_callback, NULL);
	RegisterSubXactCallback(bulk_subxact_callback, NULL);
}

/* ---- statements ---- */

Oid
bulk_imei_type(void)
{
	return load_imei_type;
}

Oid
bulk_imei_array_type(void)
{
	return load_imei_array_type;
}

bool
bulk_plan_ready(const BulkPlan *plan)
{
	return plan->plan != NULL && plan->imei_type == load_imei_type;
}

static void
plan_prepare(BulkPlan *plan, const char *sql, int nargs, Oid *argtypes,
			 int cursor_options)
{
	SPIPlanPtr	p;

	bulk_spi_ensure();
	p = SPI_prepare_cursor(sql, nargs, argtypes, cursor_options);
	if (p == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(p) != 0)
		elog(ERROR, "SPI_keepplan failed");
	if (plan->plan != NULL)
		SPI_freeplan(plan->plan);
	plan->plan = p;
	plan->imei_type = load_imei_type;
}

void
bulk_plan_prepare(BulkPlan *plan, const char *sql, int nargs, Oid *argtypes)
{
	plan_prepare(plan, sql, nargs, argtypes, 0);
}

void
bulk_plan_prepare_custom(BulkPlan *plan, const char *sql, int nargs, Oid *argtypes)
{
	plan_prepare(plan, sql, nargs, argtypes, CURSOR_OPT_CUSTOM_PLAN);
}

static void
bulk_spi_start(Relation rel)
{
	bulk_spi.open = false;
	bulk_spi.rel = rel;
}

void
bulk_spi_ensure(void)
{
	if (bulk_spi.open)
		return;
	become_owner(bulk_spi.rel, &bulk_spi.saved);
	SPI_connect();
	bulk_spi.open = true;
}

static void
bulk_spi_close(void)
{
	if (!bulk_spi.open)
		return;
	SPI_finish();
	restore_user(&bulk_spi.saved);
	bulk_spi.open = false;
}

int
bulk_exec(SPIPlanPtr plan, Datum *values, const char *nulls)
{
	int			rc;

	bulk_spi_ensure();
	rc = SPI_execute_plan(plan, values, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return rc;
}

/*
 * Used only where a forbidden transition is possible: changes of existing
 * registry rows, once per batch, and once per row only for the rows of a
 * batch that was refused.
 */
typedef struct PlanRun
{
	SPIPlanPtr	plan;
	Datum	   *values;
} PlanRun;

static void
run_plan(void *arg)
{
	PlanRun    *run = arg;

	bulk_exec(run->plan, run->values, NULL);
}

bool
bulk_exec_transition(SPIPlanPtr plan, Datum *values, char **refusal)
{
	PlanRun		run = {plan, values};

	bulk_spi_ensure();			/* the connection outlives the subtransaction */
	return subxact_run(run_plan, &run, ERRCODE_IR_TRANSITION_FORBIDDEN, NULL,
					   refusal);
}

/* The engine's own statements: the imports row and the rejects */
static SPIPlanPtr
plan_open(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {TEXTOID, TEXTOID};

		bulk_plan_prepare(&plan, "INSERT INTO imei_registry.imports"
						  " (importer, created_at, target, rows_read, rows_loaded,"
						  "  rows_rejected, rows_already_present)"
						  " VALUES ($2, pg_catalog.statement_timestamp(), $1, 0, 0, 0, 0)"
						  " RETURNING import_id", 2, a);
	}
	return plan.plan;
}

static SPIPlanPtr
plan_close(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, TEXTOID,
		TIMESTAMPTZOID};

		/*
		 * the time of the finish as a parameter ($7, clock_timestamp()'s
		 * value): Citus refuses a VOLATILE function in an UPDATE of a
		 * distributed or reference table
		 */
		bulk_plan_prepare(&plan, "UPDATE imei_registry.imports"
						  " SET finished_at = $7,"
						  " rows_read = $2, rows_loaded = $3, rows_rejected = $4,"
						  " rows_already_present = $5, operator = $6"
						  " WHERE import_id OPERATOR(pg_catalog.=) $1", 7, a);
	}
	return plan.plan;
}

static SPIPlanPtr
plan_reject(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {INT8OID, INT8OID, TEXTARRAYOID, TEXTOID, TEXTOID};

		bulk_plan_prepare(&plan, "INSERT INTO imei_registry.import_rejects"
						  " (import_id, line_number, raw, reason, message)"
						  " VALUES ($1, $2, $3, $4, $5)", 5, a);
	}
	return plan.plan;
}

/* ---- the line number ---- */

/*
 * The line of the input that the current row came from, header counted.
 * Under COPY it is COPY's own counter (found through the error context
 * callback that COPY FROM pushes with its state as the argument): the line
 * where the record ends, quoted newlines included.  Otherwise (INSERT, or
 * PostgreSQL 13) it is the row's position plus one, as if a header line
 * came first.
 */
static int64
current_line(BulkLoad *load)
{
#if PG_VERSION_NUM >= 140000
	ErrorContextCallback *e;

	for (e = error_context_stack; e != NULL; e = e->previous)
	{
		if (e->callback == CopyFromErrorCallback)
		{
			CopyFromState cstate = (CopyFromState) e->arg;

			if (cstate->rel == load->rel)
				return (int64) cstate->cur_lineno;
			break;
		}
	}
#endif
	return load->nread + 1;
}

/* ---- rejects and counts ---- */

/*
 * The raw values of the row as text[], NULL for NULL; with clip, each cut
 * to its first BULK_RAW_CLIP_BYTES (at a character boundary).
 */
static Datum
raw_values(HeapTuple tuple, TupleDesc desc, bool clip)
{
	int			n = desc->natts;
	Datum	   *elems = palloc(n * sizeof(Datum));
	bool	   *nulls = palloc(n * sizeof(bool));
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int			i;

	for (i = 0; i < n; i++)
	{
		elems[i] = bulk_row_value(tuple, desc, i + 1, &nulls[i]);
		if (clip && !nulls[i])
		{
			text	   *t = DatumGetTextPP(elems[i]);
			int			len = VARSIZE_ANY_EXHDR(t);

			if (len > BULK_RAW_CLIP_BYTES)
				elems[i] = PointerGetDatum(cstring_to_text_with_len(VARDATA_ANY(t),
																	pg_mbcliplen(VARDATA_ANY(t), len,
																				 BULK_RAW_CLIP_BYTES)));
		}
	}
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
											  TEXTOID, -1, false, TYPALIGN_INT));
}

/* The size of the row's values together, in bytes */
static int64
row_bytes(HeapTuple tuple, TupleDesc desc)
{
	int64		total = 0;
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		bool		isnull;
		Datum		d = bulk_row_value(tuple, desc, i + 1, &isnull);

		if (!isnull)
			total += toast_raw_datum_size(d) - VARHDRSZ;
	}
	return total;
}

static void
record_reject(BulkLoad *load, int64 line, Datum raw, const char *reason,
			  const char *message)
{
	load->nrejected++;
	if (load->atomic)
	{
		if (load->nrejected <= BULK_QUOTED_REASONS)
		{
			MemoryContext old = MemoryContextSwitchTo(load->cxt);

			appendStringInfo(&load->quoted, "%sline %lld: %s: %s",
							 load->nrejected > 1 ? "\n" : "",
							 (long long) line, reason, message);
			MemoryContextSwitchTo(old);
		}
		return;
	}
	{
		Datum		v[5];

		v[0] = Int64GetDatum(load->import_id);
		v[1] = Int64GetDatum(line);
		v[2] = raw;
		v[3] = CStringGetTextDatum(reason);
		v[4] = CStringGetTextDatum(message);
		bulk_exec(plan_reject(), v, NULL);
	}
}

static void
count_accepted(BulkLoad *load, RowOutcome outcome)
{
	load->nloaded++;
	if (outcome == ROW_PRESENT)
		load->npresent++;
}

void
bulk_note_operator(BulkLoad *load, Datum operator)
{
	text	   *t = DatumGetTextPP(operator);
	const char *code = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);

	/* compared in place: this runs for every loaded row */
	if (load->operator == NULL && !load->operators_mixed)
		load->operator = MemoryContextStrdup(load->cxt, text_to_cstring(t));
	else if (load->operator != NULL &&
			 (strlen(load->operator) != len || memcmp(load->operator, code, len) != 0))
	{
		load->operator = NULL;
		load->operators_mixed = true;
	}
}

/* ---- the duplicate-in-file check ---- */

bool
bulk_seen_before(BulkLoad *load, int64 key)
{
	return load->seen != NULL && seen_lookup(load->seen, key) != NULL;
}

/*
 * Was the key in an earlier accepted row of this load?  A row that still
 * waits in the batch is not accepted yet (the rules may refuse it, and a
 * rejected row is nobody's earlier row): the batch is written first, and
 * its rows settled, before the answer.
 */
bool
bulk_accepted_before(BulkLoad *load, int64 key)
{
	SeenEntry  *e = load->seen ? seen_lookup(load->seen, key) : NULL;

	if (e != NULL && e->waiting)
	{
		bulk_flush_batch(load);
		e = seen_lookup(load->seen, key);
	}
	return e != NULL;
}

static void
remember(BulkLoad *load, int64 key, bool waiting)
{
	bool		found;
	SeenEntry  *e;

	if (load->seen == NULL)
		load->seen = seen_create(load->cxt, 1024, NULL);
	e = seen_insert(load->seen, key, &found);
	e->waiting = waiting;
}

void
bulk_remember(BulkLoad *load, int64 key)
{
	remember(load, key, false);
}

void
bulk_reject_duplicate(RowResult *r, Imei imei)
{
	bulk_reject(r, "duplicate_in_file", "IMEI %015lld came earlier in this import",
				(long long) imei);
}

/* ---- batches ---- */

BulkRow *
bulk_queue_row(BulkLoad *load, RowResult *r, HeapTuple tuple, TupleDesc desc,
			   int nkeys, const int64 *keys)
{
	BulkRow    *row = bulk_batch_row(load, load->nbatch);
	MemoryContext old;
	int			k;

	Assert(load->nbatch < BULK_BATCH_ROWS && nkeys <= BULK_ROW_KEYS);
	load->nbatch++;
	memset(row, 0, load->target->row_size);
	row->line = current_line(load);
	if (load->target->keep_raw)
	{
		old = MemoryContextSwitchTo(load->batchcxt);
		row->raw = raw_values(tuple, desc, false);
		MemoryContextSwitchTo(old);
	}
	row->nkeys = nkeys;
	for (k = 0; k < nkeys; k++)
	{
		row->keys[k] = keys[k];
		remember(load, keys[k], true);
	}
	r->outcome = ROW_PENDING;
	return row;
}

Datum
bulk_batch_text(BulkLoad *load, const char *s)
{
	MemoryContext old = MemoryContextSwitchTo(load->batchcxt);
	Datum		d = CStringGetTextDatum(s);

	MemoryContextSwitchTo(old);
	return d;
}

Datum
bulk_array(Oid type, Datum *elems, bool *nulls, int n)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	if (type == TEXTOID)
		return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
												  TEXTOID, -1, false, TYPALIGN_INT));
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, type,
											  sizeof(int64), FLOAT8PASSBYVAL,
											  TYPALIGN_DOUBLE));
}

SPITupleTable *
bulk_batch_result(BulkLoad *load, const char *what)
{
	if (SPI_processed != (uint64) load->nbatch)
		elog(ERROR, "%s batch of %d rows returned %llu",
			 what, load->nbatch, (unsigned long long) SPI_processed);
	return SPI_tuptable;
}

BulkRow *
bulk_result_row(BulkLoad *load, SPITupleTable *result, uint64 i)
{
	bool		isnull;

	return bulk_batch_row(load, DatumGetInt64(SPI_getbinval(result->vals[i], result->tupdesc,
															1, &isnull)) - 1);
}

bool
bulk_result_bool(SPITupleTable *result, uint64 i, int column)
{
	bool		isnull;

	return DatumGetBool(SPI_getbinval(result->vals[i], result->tupdesc, column, &isnull));
}

bool
bulk_result_is_import(BulkLoad *load, SPITupleTable *result, uint64 i, int column)
{
	bool		isnull;
	Datum		d = SPI_getbinval(result->vals[i], result->tupdesc, column, &isnull);

	return !isnull && DatumGetInt64(d) == load->import_id;
}

void
bulk_forget_row(BulkLoad *load, BulkRow *row)
{
	int			k;

	for (k = 0; k < row->nkeys; k++)
		seen_delete(load->seen, row->keys[k]);
}

void
bulk_settle_result(BulkLoad *load, BulkRow *row, const RowResult *r)
{
	int			k;

	if (r->outcome == ROW_PRESENT)
	{
		/* settled: its keys stay, as an accepted row's */
		for (k = 0; k < row->nkeys; k++)
			bulk_remember(load, row->keys[k]);
		count_accepted(load, ROW_PRESENT);
		return;
	}
	bulk_forget_row(load, row);
	if (r->outcome == ROW_REJECTED)
		record_reject(load, row->line, row->raw, r->reason, r->message);
	else
		count_accepted(load, ROW_LOADED);
}

void
bulk_settle(BulkLoad *load, BulkRow *row, RowOutcome outcome)
{
	RowResult	r = {outcome, NULL, NULL};

	bulk_settle_result(load, row, &r);
}

void
bulk_settle_duplicate(BulkLoad *load, BulkRow *row)
{
	RowResult	r = {ROW_REJECTED, NULL, NULL};

	bulk_reject_duplicate(&r, row->keys[0]);
	bulk_settle_result(load, row, &r);
}

/*
 * Send the waiting rows to the tables, and count each.  The work of a
 * batch lives in its memory context, reset after it.
 */
void
bulk_flush_batch(BulkLoad *load)
{
	MemoryContext old;

	if (load->nbatch == 0)
		return;
	old = MemoryContextSwitchTo(load->batchcxt);
	load->target->flush(load);
	MemoryContextSwitchTo(old);
	load->nbatch = 0;
	MemoryContextReset(load->batchcxt);
}

/* ---- the triggers ---- */

/*
 * The work runs as the owner of the target, as PostgreSQL's own foreign-key
 * triggers run as the owner of the table: the right to load a file is
 * INSERT on the target, and the loader needs no rights on the registry.
 * Every name in the statements is schema-qualified, and the search_path is
 * pinned to pg_catalog while the owner's rights are in force (as core does
 * for index builds), so that no operator or function of the caller's can be
 * resolved and run with them.
 *
 * JIT is off for the statements of a load: each is planned for a batch and
 * run once per batch, and its plan's cost grows with the tables it reads (a
 * few rolled-back uploads of upload_devices were enough), past
 * jit_above_cost; compiling it then costs at each batch about 400 M
 * instructions, more than the 1000 rows of the batch cost without it.
 */

static void
become_owner(Relation rel, SavedUser *saved)
{
	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	SetUserIdAndSecContext(rel->rd_rel->relowner,
						   saved->sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_NOFORCE_RLS);
	saved->guc_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	(void) set_config_option("jit", "off",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
}

static void
restore_user(const SavedUser *saved)
{
	AtEOXact_GUC(false, saved->guc_nestlevel);
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
}

/*
 * The guards of the three triggers: fired as the target's triggers are, on
 * one of the extension's targets of the shape it made (relcheck.c), never
 * on a table that only has a target's name.  The trigger's argument
 * chooses the target's routine, and must name the target the relation is.
 */
static const BulkTargetRoutine *
target_trigger(FunctionCallInfo fcinfo, const char *name, bool row, bool before)
{
	TriggerData *trigdata = trigger_data(fcinfo, name);
	const BulkTargetRoutine *target = NULL;
	ExtRelation which;
	Trigger    *tg;
	int			i;

	trigger_require(trigdata, name, TRIG_INSERT, before, row);
	which = ext_upload_target(trigdata->tg_relation, name);

	tg = trigdata->tg_trigger;
	if (tg->tgnargs == 1)
		for (i = 0; i < lengthof(bulk_targets); i++)
			if (strcmp(tg->tgargs[0], bulk_targets[i]->name) == 0)
				target = bulk_targets[i];
	if (target == NULL || target->relation != which)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" of function \"%s\" must name its target, \"%s\", as its one argument",
						tg->tgname, name, ext_relation_name(which))));
	/* relcheck.c checked the columns; the target reads this many */
	if (RelationGetDescr(trigdata->tg_relation)->natts != target->ncolumns)
		elog(ERROR, "target \"%s\" reads %d columns", target->name, target->ncolumns);
	return target;
}

/*
 * The load that a row or end trigger continues.  The row trigger of the
 * load's relation that was checked at its first row is not checked again
 * at every row: the statement holds its lock on the relation, so neither
 * the relation nor its triggers can change under it.
 */
static BulkLoad *
open_load(FunctionCallInfo fcinfo, const char *name, bool row, bool before)
{
	TriggerData *trigdata = trigger_data(fcinfo, name);
	const BulkTargetRoutine *target;
	Relation	rel = trigdata->tg_relation;
	BulkLoad   *load = current_load;

	if (row && load != NULL && load->active && OidIsValid(load->row_trigger) &&
		load->row_trigger == trigdata->tg_trigger->tgoid &&
		load->relid == RelationGetRelid(rel))
	{
		trigger_require(trigdata, name, TRIG_INSERT, before, row);
		load->rel = rel;
		return load;
	}
	target = target_trigger(fcinfo, name, row, before);

	if (load == NULL || !load->active || load->relid != RelationGetRelid(rel) ||
		load->target != target)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" fired without an import open for \"%s\"",
						name, RelationGetRelationName(rel)),
				 errhint("The target's statement trigger bulk_import_begin() opens it.")));
	if (row)
		load->row_trigger = trigdata->tg_trigger->tgoid;
	load->rel = rel;
	return load;
}

PG_FUNCTION_INFO_V1(bulk_import_begin);
Datum
bulk_import_begin(PG_FUNCTION_ARGS)
{
	const BulkTargetRoutine *target;
	Relation	rel;
	BulkLoad   *load;
	MemoryContext old;
	Datum		v[2];
	bool		isnull;

	target = target_trigger(fcinfo, "bulk_import_begin", false, true);
	rel = ((TriggerData *) fcinfo->context)->tg_relation;

	/*
	 * Imports do not nest: a load started from within the rows of another
	 * (a function in its SELECT, a second target in a WITH) would take over
	 * the one load of the backend, and the first statement would go on in
	 * the second's import.
	 */
	if (current_load != NULL && current_load->active)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("an import into imei_registry.%s cannot start while import %lld into imei_registry.%s is running",
						target->name, (long long) current_load->import_id,
						current_load->target->name),
				 errdetail("Imports do not nest: one statement loads one target, and its rows cannot load another."),
				 errhint("Load the files one statement after the other.")));

	if (load_cxt == NULL)
		load_cxt = AllocSetContextCreate(TopMemoryContext, "imei_registry import",
										 ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(load_cxt);	/* also drops what a failed import left */
	current_load = NULL;

	old = MemoryContextSwitchTo(load_cxt);
	load = palloc0(sizeof(BulkLoad));
	load->cxt = load_cxt;
	load->rowcxt = AllocSetContextCreate(load_cxt, "imei_registry import row",
										 ALLOCSET_DEFAULT_SIZES);
	load->batchcxt = AllocSetContextCreate(load_cxt, "imei_registry import batch",
										   ALLOCSET_DEFAULT_SIZES);
	load->target = target;
	load->relid = RelationGetRelid(rel);
	load->rel = rel;
	load->atomic = bulk_import_atomic;
	load->subid = GetCurrentSubTransactionId();
	load->registry_distributed = ext_registry_distributed();
	initStringInfo(&load->quoted);
	if (target->row_size > 0)
		load->batch = palloc(target->row_size * BULK_BATCH_ROWS);
	MemoryContextSwitchTo(old);

	/*
	 * On Citus the load writes the reference table imports (its row, then
	 * its counts) and the shards in one transaction: over one connection
	 * per node, to the end of the transaction, or Citus refuses the
	 * reference table's write after a multi-shard one.
	 */
	if (load->registry_distributed)
		(void) set_config_option("citus.multi_shard_modify_mode", "sequential",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
								 true, 0, false);

	v[0] = CStringGetTextDatum(target->name);
	v[1] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	bulk_spi_start(rel);
	bulk_spi_ensure();
	load_imei_type = DatumGetObjectId(DirectFunctionCall1(regtypein,
														  CStringGetDatum("imei_registry.imei")));
	load_imei_array_type = get_array_type(load_imei_type);
	bulk_exec(plan_open(), v, NULL);
	load->import_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
	bulk_spi_close();

	if (target->begin)
	{
		old = MemoryContextSwitchTo(load_cxt);
		target->begin(load);
		MemoryContextSwitchTo(old);
	}
	load->active = true;
	current_load = load;
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(bulk_import_row);
Datum
bulk_import_row(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	BulkLoad   *load;
	HeapTuple	tuple;
	TupleDesc	desc;
	RowResult	r;
	MemoryContext old;
	bool		too_long;

	load = open_load(fcinfo, "bulk_import_row", true, true);
	tuple = trigdata->tg_trigtuple;
	desc = RelationGetDescr(load->rel);

	load->nread++;
	r.outcome = ROW_LOADED;
	r.reason = NULL;
	r.message = NULL;

	old = MemoryContextSwitchTo(load->rowcxt);
	bulk_spi_start(load->rel);
	bulk_row_begin(tuple, desc);
	too_long = row_bytes(tuple, desc) > BULK_ROW_MAX_BYTES;
	if (too_long)
		bulk_reject(&r, "too_long", "the row's values are %lld bytes long; a row has at most %d",
					(long long) row_bytes(tuple, desc), BULK_ROW_MAX_BYTES);
	else
		load->target->load_row(load, &r, tuple, desc);
	if (r.outcome == ROW_REJECTED)
		record_reject(load, current_line(load), raw_values(tuple, desc, too_long),
					  r.reason, r.message);
	else if (r.outcome != ROW_PENDING)
		count_accepted(load, r.outcome);
	else if (load->nbatch == BULK_BATCH_ROWS)
		bulk_flush_batch(load);
	bulk_row_end();
	bulk_spi_close();
	MemoryContextSwitchTo(old);
	MemoryContextReset(load->rowcxt);

	return PointerGetDatum(NULL);	/* the target itself never holds a row */
}

PG_FUNCTION_INFO_V1(bulk_import_end);
Datum
bulk_import_end(PG_FUNCTION_ARGS)
{
	BulkLoad   *load;
	Datum		v[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};

	load = open_load(fcinfo, "bulk_import_end", false, false);
	load->active = false;

	bulk_spi_start(load->rel);
	bulk_spi_ensure();
	bulk_flush_batch(load);

	if (load->atomic && load->nrejected > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%lld of %lld rows of the import into imei_registry.%s are bad; nothing was loaded",
						(long long) load->nrejected, (long long) load->nread,
						load->target->name),
				 errdetail("%s%s", load->quoted.data,
						   load->nrejected > BULK_QUOTED_REASONS ? "\n..." : ""),
				 errhint("Fix the rows, or set imei_registry.import_atomic to off to load the good rows and keep the bad ones in imei_registry.import_rejects.")));

	v[0] = Int64GetDatum(load->import_id);
	v[1] = Int64GetDatum(load->nread);
	v[2] = Int64GetDatum(load->nloaded);
	v[3] = Int64GetDatum(load->nrejected);
	v[4] = Int64GetDatum(load->npresent);
	v[5] = load->operator ? CStringGetTextDatum(load->operator) : (Datum) 0;
	nulls[5] = load->operator ? ' ' : 'n';
	v[6] = TimestampTzGetDatum(GetCurrentTimestamp());
	bulk_exec(plan_close(), v, nulls);
	bulk_spi_close();

	ereport(NOTICE,
			(errmsg("import %lld into imei_registry.%s: %lld rows read, %lld loaded (%lld already present), %lld rejected",
					(long long) load->import_id, load->target->name,
					(long long) load->nread, (long long) load->nloaded,
					(long long) load->npresent, (long long) load->nrejected)));

	current_load = NULL;
	MemoryContextReset(load_cxt);
	return PointerGetDatum(NULL);
}
