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
 * A batch goes to the registry in one statement in one subtransaction,
 * its known rows locked first in IMEI order.  If the registry refuses any
 * change of the batch (IR001), the batch is undone and its rows go one by
 * one, each refusal a rejected row (forbidden_transition).
 */
#include "compat.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "bulk_target.h"
#include "registry.h"
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
 * them: the order of the locks does not depend on the plan of the change
 * (a LockRows node above the sort).
 */
static SPIPlanPtr
plan_lock_batch(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {bulk_imei_array_type()};

		bulk_plan_prepare(&plan, "SELECT 1 FROM imei_registry.registry r"
						  " WHERE r.imei OPERATOR(pg_catalog.=) ANY ($1)"
						  " ORDER BY r.imei FOR UPDATE", 1, a);
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
	/* earlier in this batch, or black already and seen earlier in this import */
	if (bulk_seen_before(load, imei))
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
		bulk_exec(plan_black_new(), v, NULL);
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
 * Send the waiting rows to the registry, in IMEI order (see
 * report_sort_batch), and settle each: loaded (black now), already present
 * (black already, for a reason that no application can lift), or a
 * duplicate (changed by this import in an earlier batch).
 */
static void
flush_blocklist(BulkLoad *load)
{
	int			n = load->nbatch;
	Datum	   *imeis = palloc(n * sizeof(Datum));
	Datum	   *notes = palloc(n * sizeof(Datum));
	Datum	   *reasons = palloc(n * sizeof(Datum));
	Datum		v[4];
	char	   *refusal;
	SPITupleTable *result;
	int			i;

	qsort(load->batch, n, sizeof(BlocklistRow), blocklist_imei_cmp);
	for (i = 0; i < n; i++)
	{
		BlocklistRow *row = (BlocklistRow *) bulk_batch_row(load, i);

		imeis[i] = ImeiGetDatum(row->imei);
		notes[i] = row->note;
		reasons[i] = row->reason;
	}
	v[0] = bulk_array(bulk_imei_type(), imeis, NULL, n);
	v[1] = bulk_array(TEXTOID, notes, NULL, n);
	v[2] = Int64GetDatum(load->import_id);
	v[3] = bulk_array(TEXTOID, reasons, NULL, n);
	bulk_exec(plan_lock_batch(), v, NULL);
	if (!bulk_exec_transition(plan_blocklist(), v, &refusal))
	{
		for (i = 0; i < n; i++)
			apply_blocklist_row(load, (BlocklistRow *) bulk_batch_row(load, i));
		return;
	}
	result = bulk_batch_result(load, "block-list");
	for (i = 0; i < n; i++)
	{
		BlocklistRow *row = (BlocklistRow *) bulk_result_row(load, result, i);

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
