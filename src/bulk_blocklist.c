/*
 * bulk_blocklist.c
 *		imei_registry.upload_blocklist: GSMA block-list matches (imei,
 *		listed_on, reason) go black.
 *
 * The registry reason of a row is its reason column when that is a code
 * that leads to black, else gsma_blocked; its note says the list and the
 * date.  Unknown IMEIs are inserted black; white and grey ones change to
 * black, and so do black ones that an application could still make white
 * (the rules: black only for an expired grey period); other black ones
 * stay as they are (already present: no application can lift them).
 *
 * A batch locks its known rows first, in IMEI order.  When nothing can
 * refuse its changes, its new IMEIs go through the multi-insert path and
 * its known ones in one UPDATE (flush_blocklist); otherwise it goes to the
 * registry in one statement in one subtransaction, and if the registry
 * refuses any change of it (IR001), the batch is undone and its rows go
 * one by one, each refusal a rejected row (forbidden_transition).
 */
#include "compat.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "access/table.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "utils/rel.h"

#include "bulk_target.h"
#include "registry.h"
#include "registry_insert.h"
#include "rules.h"

/* A block-list row in the batch; its key is the IMEI */
typedef struct BlocklistRow
{
	BulkRow		base;
	Imei		imei;
	Datum		note;			/* text: the block list's line, as a note */
	Datum		reason;			/* text: the registry reason */
} BlocklistRow;

/* Values of the reason column already looked up in this load */
typedef struct KnownReason
{
	char	   *value;
	bool		is_code;		/* a reason code that leads to black */
} KnownReason;

#define MAX_CACHED_REASONS 64

typedef struct BlocklistState
{
	KnownReason reasons[MAX_CACHED_REASONS];
	int			nreasons;
} BlocklistState;

static void
blocklist_begin(BulkLoad *load)
{
	load->private = palloc0(sizeof(BlocklistState));
}

/* ---- statements ---- */

/* imei, import_id, note, reason: a row of the block list, alone */
static SPIPlanPtr
plan_black_new(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {bulk_imei_type(), INT8OID, TEXTOID, TEXTOID};

		bulk_plan_prepare(&plan, "INSERT INTO imei_registry.registry"
						  " (imei, status, reason, import_id, note)"
						  " VALUES ($1, 'black', $4, $2, $3)", 4, a);
	}
	return plan.plan;
}

static SPIPlanPtr
plan_black_update(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {bulk_imei_type(), INT8OID, TEXTOID, TEXTOID};

		bulk_plan_prepare(&plan, "UPDATE imei_registry.registry"
						  " SET status = 'black', reason = $4,"
						  "  grey_last_day = NULL, application_id = NULL,"
						  "  import_id = $2, note = $3"
						  " WHERE imei OPERATOR(pg_catalog.=) $1", 4, a);
	}
	return plan.plan;
}

static SPIPlanPtr
plan_registry_get(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {bulk_imei_type()};

		bulk_plan_prepare(&plan, "SELECT status::pg_catalog.text, reason, import_id"
						  " FROM imei_registry.registry"
						  " WHERE imei OPERATOR(pg_catalog.=) $1"
						  " FOR UPDATE", 1, a);
	}
	return plan.plan;
}

/*
 * The known rows of a batch, locked in IMEI order before the batch changes
 * them (the order of the locks does not depend on the plan of the change:
 * a LockRows node above the sort), and what they are once locked.
 */
static SPIPlanPtr
plan_lock_batch(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {bulk_imei_array_type()};

		bulk_plan_prepare(&plan, "SELECT r.imei, r.status::pg_catalog.text, r.reason, r.import_id"
						  " FROM imei_registry.registry r"
						  " WHERE r.imei OPERATOR(pg_catalog.=) ANY ($1)"
						  " ORDER BY r.imei FOR UPDATE", 1, a);
	}
	return plan.plan;
}

/*
 * Known rows that this load has locked and that the rules let go black
 * (imeis, notes, import_id, reasons), in one statement: no subtransaction,
 * since nothing can refuse them (see flush_blocklist).
 */
static SPIPlanPtr
plan_black_batch(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {bulk_imei_array_type(), TEXTARRAYOID, INT8OID, TEXTARRAYOID};

		bulk_plan_prepare(&plan, "UPDATE imei_registry.registry r"
						  " SET status = 'black', reason = u.reason,"
						  "  grey_last_day = NULL, application_id = NULL,"
						  "  import_id = $3, note = u.note"
						  " FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
						  "  pg_catalog.unnest($4)) AS u(imei, note, reason)"
						  " WHERE r.imei OPERATOR(pg_catalog.=) u.imei", 4, a);
	}
	return plan.plan;
}

/*
 * A batch of block-list matches, no IMEI twice: imeis, notes, import_id,
 * reasons.  The UPDATE checks the row again, so a row changed meanwhile by
 * another session is left alone (and the row then goes through the
 * one-row path).  For each row: changed, was it known, which import
 * changed it last, and was it blocked already.
 */
static SPIPlanPtr
plan_blocklist(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {bulk_imei_array_type(), TEXTARRAYOID, INT8OID, TEXTARRAYOID};

		bulk_plan_prepare(&plan, "WITH k AS ("
						  " SELECT u.*, r.imei IS NOT NULL AS known, r.import_id,"
						  "  r.status OPERATOR(pg_catalog.=) 'black'"
						  "  AND NOT imei_registry.transition_allowed(r.status, 'white',"
						  "   'application_approved', r.reason) AS blocked"
						  " FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
						  "  pg_catalog.unnest($4))"
						  "  WITH ORDINALITY AS u(imei, note, reason, ord)"
						  " LEFT JOIN imei_registry.registry r"
						  "  ON r.imei OPERATOR(pg_catalog.=) u.imei),"
						  " ins AS ("
						  " INSERT INTO imei_registry.registry"
						  "  (imei, status, reason, import_id, note)"
						  " SELECT k.imei, 'black', k.reason, $3, k.note"
						  " FROM k WHERE NOT k.known ORDER BY k.ord"
						  " ON CONFLICT (imei) DO NOTHING"
						  " RETURNING imei),"
						  " upd AS ("
						  " UPDATE imei_registry.registry r"
						  " SET status = 'black', reason = k.reason,"
						  "  grey_last_day = NULL, application_id = NULL,"
						  "  import_id = $3, note = k.note"
						  " FROM k WHERE k.known AND NOT k.blocked"
						  "  AND r.imei OPERATOR(pg_catalog.=) k.imei"
						  "  AND (r.status OPERATOR(pg_catalog.<>) 'black'"
						  "   OR imei_registry.transition_allowed(r.status, 'white',"
						  "    'application_approved', r.reason))"
						  " RETURNING r.imei)"
						  " SELECT k.ord, ins.imei IS NOT NULL OR upd.imei IS NOT NULL,"
						  "  k.known, k.import_id, k.blocked"
						  " FROM k LEFT JOIN ins ON ins.imei OPERATOR(pg_catalog.=) k.imei"
						  " LEFT JOIN upd ON upd.imei OPERATOR(pg_catalog.=) k.imei",
						  4, a);
	}
	return plan.plan;
}

/* ---- a row ---- */

/*
 * The registry reason of a block-list row: its reason column when that is a
 * code that leads to black (a shipped one, or a site's such as "stolen" by
 * its base: rules.c), else gsma_blocked.  Each value is looked up once per
 * import.
 */
static const char *
blocklist_reason(BulkLoad *load, const char *why)
{
	BlocklistState *state = (BlocklistState *) load->private;
	bool		is_code;
	const char *base;
	int			i;

	if (why == NULL)
		return "gsma_blocked";
	for (i = 0; i < state->nreasons; i++)
		if (strcmp(state->reasons[i].value, why) == 0)
			return state->reasons[i].is_code ? why : "gsma_blocked";
	base = rules_reason_base(why);
	is_code = base != NULL && rules_leads_to(base, ST_BLACK);
	if (state->nreasons < MAX_CACHED_REASONS)
	{
		state->reasons[state->nreasons].value = MemoryContextStrdup(load->cxt, why);
		state->reasons[state->nreasons].is_code = is_code;
		state->nreasons++;
	}
	return is_code ? why : "gsma_blocked";
}

static void
load_blocklist(BulkLoad *load, RowResult *r, HeapTuple tuple, TupleDesc desc)
{
	char	   *imei_s = bulk_column(tuple, desc, 1);
	char	   *listed_s = bulk_column(tuple, desc, 2);
	char	   *why = bulk_column(tuple, desc, 3);
	char	   *listed_on;
	char	   *note;
	Imei		imei;
	BlocklistRow *row;

	if (!bulk_require(r, imei_s, "imei") || !bulk_require(r, listed_s, "listed_on") ||
		!bulk_parse_imei(r, imei_s, false, &imei) ||
		!bulk_parse_date(r, listed_s, "listed_on", &listed_on))
		return;

	note = why ? psprintf("GSMA block list %s: %s", listed_on, why)
		: psprintf("GSMA block list %s", listed_on);
	if (pg_mbstrlen(note) > REGISTRY_NOTE_MAX_CHARS)
	{
		bulk_reject(r, "too_long",
					"reason is %d characters long; with \"GSMA block list %s: \" it must fit a registry note of %d characters",
					pg_mbstrlen(why), listed_on, REGISTRY_NOTE_MAX_CHARS);
		return;
	}
	/*
	 * an earlier line found black already (one that this import changed is
	 * a duplicate at its batch's flush); a line still waiting is settled
	 * first, so that one the rules refuse is nobody's earlier line
	 */
	if (bulk_accepted_before(load, imei))
	{
		bulk_reject_duplicate(r, imei);
		return;
	}

	row = (BlocklistRow *) bulk_queue_row(load, r, tuple, desc, 1, &imei);
	row->imei = imei;
	row->note = bulk_batch_text(load, note);
	row->reason = bulk_batch_text(load, blocklist_reason(load, why));
}

/* ---- a batch ---- */

/*
 * The registry row of an IMEI, locked; false if there is none.  *mine is
 * true when this import made its latest change: the IMEI came earlier in
 * this file.
 */
static bool
registry_get(BulkLoad *load, Imei imei, char **status, char **reason, bool *mine)
{
	Datum		v[1];
	bool		isnull;
	Datum		d;

	v[0] = ImeiGetDatum(imei);
	bulk_exec(plan_registry_get(), v, NULL);
	if (SPI_processed == 0)
		return false;
	*status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	*reason = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	*mine = !isnull && DatumGetInt64(d) == load->import_id;
	return true;
}

/*
 * One block-list row alone: for the rows of a batch that the registry
 * refused as a whole, and for a row that another session changed while its
 * batch ran.
 */
static void
apply_blocklist_row(BulkLoad *load, BlocklistRow *row)
{
	RowResult	r = {ROW_LOADED, NULL, NULL};
	Datum		v[4];
	char	   *status;
	char	   *reason;
	char	   *refusal;
	bool		mine;

	v[0] = ImeiGetDatum(row->imei);
	v[1] = Int64GetDatum(load->import_id);
	v[2] = row->note;
	v[3] = row->reason;
	if (!registry_get(load, row->imei, &status, &reason, &mine))
	{
		/* a reason that leads to black, but not for a new IMEI (grey_expired) */
		if (!bulk_exec_transition(plan_black_new(), v, &refusal))
			bulk_reject(&r, "forbidden_transition", "%s", refusal);
	}
	else if (mine)
		bulk_reject_duplicate(&r, row->imei);
	else if (strcmp(status, "black") == 0 &&
			 !rules_allows_change(ST_BLACK, reason, ST_WHITE, "application_approved"))
		r.outcome = ROW_PRESENT;	/* blocked already: no application can lift it */
	else if (!bulk_exec_transition(plan_black_update(), v, &refusal))
		bulk_reject(&r, "forbidden_transition", "%s", refusal);
	bulk_settle_result(load, &row->base, &r);
}

static int
blocklist_imei_cmp(const void *a, const void *b)
{
	Imei		x = ((const BlocklistRow *) a)->imei;
	Imei		y = ((const BlocklistRow *) b)->imei;

	return (x > y) - (x < y);
}

/*
 * Can nothing but the rules refuse a change of the registry, and do they
 * allow this one without a condition on its cause (which only the trigger
 * evaluates)?  Then it needs no subtransaction.  The registry's triggers
 * that fire on kind (TRIGGER_TYPE_INSERT or _UPDATE) must be the
 * extension's own (a site's trigger may refuse anything) or internal (its
 * foreign keys).
 */
static bool
registry_only_rules(int16 kind)
{
	Oid			relid = ext_relation_oid(EXT_REGISTRY);
	Relation	rel;
	TriggerDesc *td;
	bool		only = true;
	int			i;

	if (!OidIsValid(relid))
		ext_missing_table("registry");
	rel = table_open(relid, AccessShareLock);
	td = rel->trigdesc;

	for (i = 0; td != NULL && i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (t->tgenabled == TRIGGER_DISABLED || t->tgisinternal ||
			!(t->tgtype & kind))
			continue;
		if (strcmp(t->tgname, "registry_transition") != 0 &&
			strcmp(t->tgname, "registry_history_insert") != 0 &&
			strcmp(t->tgname, "registry_history_update") != 0 &&
			strcmp(t->tgname, "registry_no_copy") != 0)
			only = false;
	}
	table_close(rel, AccessShareLock);
	return only;
}

static bool
rules_certain(RegStatus from, const char *from_reason, const char *reason)
{
	const char *base = rules_reason_base(reason);
	const TransitionRule *entry;

	if (base == NULL || !rules_allows_change(from, from_reason, ST_BLACK, reason))
		return false;
	entry = rules_entry(from, ST_BLACK, base);
	return entry != NULL && (entry->conditions & RULE_CAUSE_CONDITIONS) == 0;
}

/*
 * The rows of a batch that may meet a refusal, in one statement in one
 * subtransaction.  If the registry refuses any change of them (IR001),
 * they are undone and go one by one, each refusal a rejected row.
 */
static void
flush_blocklist_statement(BulkLoad *load, BlocklistRow **rows, int n)
{
	Datum	   *imeis = palloc(n * sizeof(Datum));
	Datum	   *notes = palloc(n * sizeof(Datum));
	Datum	   *reasons = palloc(n * sizeof(Datum));
	Datum		v[4];
	char	   *refusal;
	SPITupleTable *result;
	int			i;

	for (i = 0; i < n; i++)
	{
		imeis[i] = ImeiGetDatum(rows[i]->imei);
		notes[i] = rows[i]->note;
		reasons[i] = rows[i]->reason;
	}
	v[0] = bulk_array(bulk_imei_type(), imeis, NULL, n);
	v[1] = bulk_array(TEXTOID, notes, NULL, n);
	v[2] = Int64GetDatum(load->import_id);
	v[3] = bulk_array(TEXTOID, reasons, NULL, n);
	if (!bulk_exec_transition(plan_blocklist(), v, &refusal))
	{
		for (i = 0; i < n; i++)
			apply_blocklist_row(load, rows[i]);
		return;
	}
	if (SPI_processed != (uint64) n)
		elog(ERROR, "block-list batch of %d rows returned %llu",
			 n, (unsigned long long) SPI_processed);
	result = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		BlocklistRow *row = rows[DatumGetInt64(SPI_getbinval(result->vals[i], result->tupdesc,
															 1, &isnull)) - 1];

		if (bulk_result_bool(result, i, 2)) /* changed */
			bulk_settle(load, &row->base, ROW_LOADED);
		else if (bulk_result_is_import(load, result, i, 4))
			bulk_settle_duplicate(load, &row->base);
		else if (bulk_result_bool(result, i, 3) && bulk_result_bool(result, i, 5))
			bulk_settle(load, &row->base, ROW_PRESENT);	/* blocked already */
		else
			apply_blocklist_row(load, row); /* changed meanwhile elsewhere */
	}
}

/* What the lock of a batch found of a row */
typedef struct KnownRow
{
	bool		known;
	RegStatus	status;
	char	   *reason;
	bool		mine;			/* this import changed it last */
} KnownRow;

/* Where a row of a batch goes */
typedef enum BlocklistPath
{
	BLOCK_DUPLICATE,			/* this import changed it in an earlier batch */
	BLOCK_PRESENT,				/* blocked already */
	BLOCK_INSERT,				/* new: the multi-insert path */
	BLOCK_UPDATE,				/* known: one UPDATE of the batch */
	BLOCK_STATEMENT				/* may be refused: flush_blocklist_statement */
} BlocklistPath;

/*
 * Send the waiting rows to the registry, in IMEI order (see
 * report_sorted_batch), and settle each: loaded (black now), already present
 * (black already, for a reason that no application can lift), or a
 * duplicate (changed by this import in an earlier batch).
 *
 * The known rows are locked first, and read as locked: nothing changes
 * them until the load ends.  A change that the rules allow with no
 * condition on its cause cannot be refused when nothing but the rules can
 * refuse (registry_only_rules): the unknown IMEIs then go through the
 * multi-insert path (registry_insert.c), as upload_connections' new ones
 * do, and the known ones in one UPDATE, both without a subtransaction.  A
 * batch with a row that may be refused (and every batch on a registry with
 * a site's trigger) goes to one statement in a subtransaction instead
 * (flush_blocklist_statement).
 */
static void
flush_blocklist(BulkLoad *load)
{
	int			n = load->nbatch;
	KnownRow   *known = palloc0(n * sizeof(KnownRow));
	BlocklistPath *path = palloc(n * sizeof(BlocklistPath));
	BlocklistRow **rows = palloc(n * sizeof(BlocklistRow *));
	RegistryNewRow *fresh = palloc(n * sizeof(RegistryNewRow));
	Datum	   *imeis = palloc(n * sizeof(Datum));
	Datum	   *notes = palloc(n * sizeof(Datum));
	Datum	   *reasons = palloc(n * sizeof(Datum));
	Datum		v[4];
	bool		insert_certain;
	bool		update_certain;
	bool		any_refusable = false;
	int			m;
	uint64		k;
	int			i;

	qsort(load->batch, n, sizeof(BlocklistRow), blocklist_imei_cmp);

	/*
	 * On Citus one row at a time, each statement routed to the IMEI's
	 * shard: Citus locks no rows of several shards (FOR UPDATE), and plans
	 * neither the batch's one statement nor its UPDATE from arrays.
	 */
	if (load->registry_distributed)
	{
		for (i = 0; i < n; i++)
			apply_blocklist_row(load, (BlocklistRow *) bulk_batch_row(load, i));
		return;
	}

	for (i = 0; i < n; i++)
		imeis[i] = ImeiGetDatum(((BlocklistRow *) bulk_batch_row(load, i))->imei);
	v[0] = bulk_array(bulk_imei_type(), imeis, NULL, n);
	bulk_exec(plan_lock_batch(), v, NULL);
	for (k = 0; k < SPI_processed; k++)
	{
		HeapTuple	tup = SPI_tuptable->vals[k];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Imei		imei = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		Datum		import_id = SPI_getbinval(tup, desc, 4, &isnull);
		int			lo = 0;
		int			hi = n - 1;

		/* its row: the batch is in IMEI order */
		while (lo < hi)
		{
			int			mid = (lo + hi) / 2;

			if (((BlocklistRow *) bulk_batch_row(load, mid))->imei < imei)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (((BlocklistRow *) bulk_batch_row(load, lo))->imei != imei)
			elog(ERROR, "block-list batch: IMEI %015lld locked but not in the batch",
				 (long long) imei);
		known[lo].known = true;
		known[lo].status = rules_status_named(SPI_getvalue(tup, desc, 2));
		known[lo].reason = SPI_getvalue(tup, desc, 3);
		known[lo].mine = !isnull && DatumGetInt64(import_id) == load->import_id;
	}

	insert_certain = registry_only_rules(TRIGGER_TYPE_INSERT);
	update_certain = registry_only_rules(TRIGGER_TYPE_UPDATE);
	for (i = 0; i < n; i++)
	{
		BlocklistRow *row = (BlocklistRow *) bulk_batch_row(load, i);
		char	   *reason = TextDatumGetCString(row->reason);

		if (!known[i].known)
			path[i] = insert_certain && rules_certain(ST_NONE, NULL, reason) ?
				BLOCK_INSERT : BLOCK_STATEMENT;
		else if (known[i].mine)
			path[i] = BLOCK_DUPLICATE;
		else if (known[i].status == ST_BLACK &&
				 !rules_allows_change(ST_BLACK, known[i].reason, ST_WHITE,
									  "application_approved"))
			path[i] = BLOCK_PRESENT;
		else
			path[i] = update_certain &&
				rules_certain(known[i].status, known[i].reason, reason) ?
				BLOCK_UPDATE : BLOCK_STATEMENT;
		any_refusable |= (path[i] == BLOCK_STATEMENT);
	}

	/* a row that may be refused takes the batch with it: one statement, as one */
	if (any_refusable)
	{
		for (i = 0, m = 0; i < n; i++)
			if (path[i] != BLOCK_DUPLICATE && path[i] != BLOCK_PRESENT)
				rows[m++] = (BlocklistRow *) bulk_batch_row(load, i);
		flush_blocklist_statement(load, rows, m);
	}

	/* new IMEIs, unless another session has one of them */
	for (i = 0, m = 0; i < n && !any_refusable; i++)
		if (path[i] == BLOCK_INSERT)
		{
			BlocklistRow *row = (BlocklistRow *) bulk_batch_row(load, i);

			rows[m] = row;
			fresh[m].imei = row->imei;
			fresh[m].status = ST_BLACK;
			fresh[m].reason = row->reason;
			fresh[m].has_first_seen = false;
			fresh[m].first_seen_at = 0;
			fresh[m].operator = (Datum) 0;
			fresh[m].note = row->note;
			m++;
		}
	if (m > 0)
	{
		bulk_spi_ensure();		/* the registry's triggers run as its owner */
		if (registry_insert_rows(m, fresh, load->import_id, NULL))
			for (i = 0; i < m; i++)
				bulk_settle(load, &rows[i]->base, ROW_LOADED);
		else
			flush_blocklist_statement(load, rows, m);
	}

	/* known IMEIs, locked above */
	for (i = 0, m = 0; i < n && !any_refusable; i++)
		if (path[i] == BLOCK_UPDATE)
		{
			BlocklistRow *row = (BlocklistRow *) bulk_batch_row(load, i);

			rows[m] = row;
			imeis[m] = ImeiGetDatum(row->imei);
			notes[m] = row->note;
			reasons[m] = row->reason;
			m++;
		}
	if (m > 0)
	{
		v[0] = bulk_array(bulk_imei_type(), imeis, NULL, m);
		v[1] = bulk_array(TEXTOID, notes, NULL, m);
		v[2] = Int64GetDatum(load->import_id);
		v[3] = bulk_array(TEXTOID, reasons, NULL, m);
		bulk_exec(plan_black_batch(), v, NULL);
		if (SPI_processed != (uint64) m)
			elog(ERROR, "block-list batch changed %llu of %d locked rows",
				 (unsigned long long) SPI_processed, m);
		for (i = 0; i < m; i++)
			bulk_settle(load, &rows[i]->base, ROW_LOADED);
	}

	/* the rest: settled without a write */
	for (i = 0; i < n; i++)
	{
		BulkRow    *row = bulk_batch_row(load, i);

		if (path[i] == BLOCK_DUPLICATE)
			bulk_settle_duplicate(load, row);
		else if (path[i] == BLOCK_PRESENT)
			bulk_settle(load, row, ROW_PRESENT);
	}
}

const BulkTargetRoutine bulk_blocklist_target = {
	.name = "upload_blocklist",
	.relation = EXT_UPLOAD_BLOCKLIST,
	.ncolumns = 3,
	.row_size = sizeof(BlocklistRow),
	.keep_raw = true,			/* the registry may refuse a row at its flush */
	.begin = blocklist_begin,
	.load_row = load_blocklist,
	.flush = flush_blocklist
};
