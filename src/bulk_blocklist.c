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
 *
 * Where the registry is distributed (Citus) a batch reads its known rows
 * without locks in one statement, decides each row by the same rules, and
 * writes its new IMEIs in one INSERT and its known ones in one UPDATE
 * guarded by the status and reason it read (flush_distributed); a row
 * another session changed meanwhile goes alone, decided again.
 */
#include "compat.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "access/table.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "utils/rel.h"

#include "bulk_target.h"
#include "registry.h"
#include "registry_insert.h"
#include "rules.h"
#include "subxact.h"

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

/*
 * The position of imei among n rows in IMEI order, which must hold it
 * (what names the statement that returned it, for the error)
 */
static int
position_of(BlocklistRow *const *rows, int n, Imei imei, const char *what)
{
	int			lo = 0;
	int			hi = n - 1;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (rows[mid]->imei < imei)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (n == 0 || rows[lo]->imei != imei)
		elog(ERROR, "block-list batch: IMEI %015lld %s but not in the batch",
			 (long long) imei, what);
	return lo;
}

/* What the read of a batch found of a row */
typedef struct KnownRow
{
	bool		known;
	RegStatus	status;
	char	   *reason;
	bool		mine;			/* this import changed it last */
	Datum		status_value;	/* on Citus: the status as read (an enum OID) */
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
 * The known rows of the batch (in IMEI order), by one statement over its
 * IMEIs (imeis): what each is, as read.  The statement returns imei,
 * status as text, reason, import_id, and on Citus the status itself.
 * Returns the type of that status column (InvalidOid: not read).
 */
static Oid
read_known(BulkLoad *load, SPIPlanPtr plan, BlocklistRow *const *batch,
		   Datum imeis, KnownRow *known)
{
	Datum		v[1] = {imeis};
	Oid			status_type = InvalidOid;
	uint64		k;

	bulk_exec(plan, v, NULL);
	if (SPI_processed > 0 && SPI_tuptable->tupdesc->natts >= 5)
		status_type = SPI_gettypeid(SPI_tuptable->tupdesc, 5);
	for (k = 0; k < SPI_processed; k++)
	{
		HeapTuple	tup = SPI_tuptable->vals[k];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Imei		imei = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		Datum		import_id = SPI_getbinval(tup, desc, 4, &isnull);
		bool		no_import = isnull;
		int			lo = position_of(batch, load->nbatch, imei, "read");

		known[lo].known = true;
		known[lo].status = rules_status_named(SPI_getvalue(tup, desc, 2));
		known[lo].reason = SPI_getvalue(tup, desc, 3);
		known[lo].mine = !no_import && DatumGetInt64(import_id) == load->import_id;
		if (OidIsValid(status_type))
			known[lo].status_value = SPI_getbinval(tup, desc, 5, &isnull);
	}
	return status_type;
}

/*
 * Where each row of the batch goes, by the rules (rules.c): a duplicate,
 * blocked already, or a change that nothing can refuse (insert_certain,
 * update_certain: registry_only_rules) and that the rules allow without a
 * condition on its cause, or else one that may be refused.  True if any
 * may be.
 */
static bool
choose_paths(BulkLoad *load, const KnownRow *known, BlocklistPath *path)
{
	bool		insert_certain = registry_only_rules(TRIGGER_TYPE_INSERT);
	bool		update_certain = registry_only_rules(TRIGGER_TYPE_UPDATE);
	bool		any_refusable = false;
	int			i;

	for (i = 0; i < load->nbatch; i++)
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
	return any_refusable;
}

/* ---- on Citus ---- */

/*
 * The known rows of a batch where the registry is distributed: read, not
 * locked (Citus locks no rows of several shards), in one statement in
 * which each shard probes its own.  A custom plan: Citus prunes the shards
 * by the batch's IMEIs.
 */
static SPIPlanPtr
plan_read_batch(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {bulk_imei_array_type()};

		bulk_plan_prepare_custom(&plan, "SELECT r.imei, r.status::pg_catalog.text, r.reason,"
								 " r.import_id, r.status"
								 " FROM imei_registry.registry r"
								 " WHERE r.imei OPERATOR(pg_catalog.=) ANY ($1)", 1, a);
	}
	return plan.plan;
}

/*
 * New IMEIs of a batch (imeis, notes, import_id, reasons) in one INSERT,
 * which Citus sends to their shards; one inserted meanwhile by another
 * session is not (ON CONFLICT DO NOTHING) and is not returned.
 */
static SPIPlanPtr
plan_insert_distributed(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {bulk_imei_array_type(), TEXTARRAYOID, INT8OID, TEXTARRAYOID};

		bulk_plan_prepare_custom(&plan, "INSERT INTO imei_registry.registry AS r"
								 " (imei, status, reason, import_id, note)"
								 " SELECT u.imei, 'black', u.reason, $3, u.note"
								 " FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
								 "  pg_catalog.unnest($4)) AS u(imei, note, reason)"
								 " ORDER BY u.imei"
								 " ON CONFLICT (imei) DO NOTHING"
								 " RETURNING r.imei", 4, a);
	}
	return plan.plan;
}

/*
 * Known rows of a batch (imeis, notes, import_id, reasons) in one UPDATE,
 * each only if its status and reason are still those the read found
 * ($5, $6): a row changed meanwhile is left alone and not returned.  (Citus
 * runs no STABLE rule function of the row's columns in a distributed
 * UPDATE: the rules were asked of the values read.)
 */
static SPIPlanPtr
plan_update_distributed(Oid status_array_type)
{
	static BulkPlan plan;
	static Oid	prepared_for = InvalidOid;

	if (!bulk_plan_ready(&plan) || prepared_for != status_array_type)
	{
		Oid			a[] = {bulk_imei_array_type(), TEXTARRAYOID, INT8OID, TEXTARRAYOID,
		status_array_type, TEXTARRAYOID};

		bulk_plan_prepare_custom(&plan, "UPDATE imei_registry.registry r"
								 " SET status = 'black', reason = u.reason,"
								 "  grey_last_day = NULL, application_id = NULL,"
								 "  import_id = $3, note = u.note"
								 " FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
								 "  pg_catalog.unnest($4), pg_catalog.unnest($5),"
								 "  pg_catalog.unnest($6)) AS u(imei, note, reason, status, old_reason)"
								 " WHERE r.imei OPERATOR(pg_catalog.=) ANY ($1)"
								 "  AND r.imei OPERATOR(pg_catalog.=) u.imei"
								 "  AND r.status OPERATOR(pg_catalog.=) u.status"
								 "  AND r.reason OPERATOR(pg_catalog.=) u.old_reason"
								 " RETURNING r.imei", 6, a);
		prepared_for = status_array_type;
	}
	return plan.plan;
}

/* The rows of a batch for one distributed write, in IMEI order */
typedef struct DistributedRows
{
	int			n;
	BlocklistRow **rows;
	Datum	   *imeis;
	Datum	   *notes;
	Datum	   *reasons;
	Datum	   *statuses;		/* the update's: as read */
	Datum	   *old_reasons;
	bool	   *written;		/* returned by the write */
} DistributedRows;

typedef struct DistributedWrite
{
	BulkLoad   *load;
	DistributedRows ins;
	DistributedRows upd;
	Oid			status_type;
	SPIPlanPtr	insert_plan;	/* prepared before the subtransaction */
	SPIPlanPtr	update_plan;
} DistributedWrite;

static void
distributed_rows_init(DistributedRows *d, int n)
{
	d->n = 0;
	d->rows = palloc(n * sizeof(BlocklistRow *));
	d->imeis = palloc(n * sizeof(Datum));
	d->notes = palloc(n * sizeof(Datum));
	d->reasons = palloc(n * sizeof(Datum));
	d->statuses = palloc(n * sizeof(Datum));
	d->old_reasons = palloc(n * sizeof(Datum));
	d->written = palloc0(n * sizeof(bool));
}

static void
distributed_rows_add(DistributedRows *d, BlocklistRow *row, const KnownRow *known)
{
	d->rows[d->n] = row;
	d->imeis[d->n] = ImeiGetDatum(row->imei);
	d->notes[d->n] = row->note;
	d->reasons[d->n] = row->reason;
	if (known->known)
	{
		d->statuses[d->n] = known->status_value;
		d->old_reasons[d->n] = CStringGetTextDatum(known->reason);
	}
	d->n++;
}

/* Mark the rows whose IMEIs the write returned (d is in IMEI order) */
static void
mark_written(DistributedRows *d)
{
	uint64		k;

	for (k = 0; k < SPI_processed; k++)
	{
		bool		isnull;
		Imei		imei = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[k],
													   SPI_tuptable->tupdesc, 1, &isnull));

		d->written[position_of(d->rows, d->n, imei, "written")] = true;
	}
}

/* Both writes of a batch: its new IMEIs, then its known ones */
static void
write_distributed(void *arg)
{
	DistributedWrite *w = arg;
	Datum		v[6];

	v[2] = Int64GetDatum(w->load->import_id);
	if (w->ins.n > 0)
	{
		v[0] = bulk_array(bulk_imei_type(), w->ins.imeis, NULL, w->ins.n);
		v[1] = bulk_array(TEXTOID, w->ins.notes, NULL, w->ins.n);
		v[3] = bulk_array(TEXTOID, w->ins.reasons, NULL, w->ins.n);
		bulk_exec(w->insert_plan, v, NULL);
		mark_written(&w->ins);
	}
	if (w->upd.n > 0)
	{
		v[0] = bulk_array(bulk_imei_type(), w->upd.imeis, NULL, w->upd.n);
		v[1] = bulk_array(TEXTOID, w->upd.notes, NULL, w->upd.n);
		v[3] = bulk_array(TEXTOID, w->upd.reasons, NULL, w->upd.n);
		v[4] = PointerGetDatum(construct_array(w->upd.statuses, w->upd.n, w->status_type,
											   sizeof(Oid), true, TYPALIGN_INT));
		v[5] = bulk_array(TEXTOID, w->upd.old_reasons, NULL, w->upd.n);
		bulk_exec(w->update_plan, v, NULL);
		mark_written(&w->upd);
	}
}

/*
 * The batch's changes where the registry is distributed (Citus), as read
 * and decided by flush_blocklist: its new IMEIs in one INSERT and its
 * known ones in one UPDATE that changes a row only if its status and
 * reason are still those read; the shards' triggers check each change
 * against the rules again and write its history row.  When a row may be
 * refused, both run in one subtransaction, and if the registry refuses
 * any change (IR001) the rows go one by one (apply_blocklist_row, each
 * statement routed to its shard), each refusal a rejected row.  A row
 * that another session inserted or changed meanwhile goes one by one too,
 * decided again on its row as it now is, locked.
 */
static void
flush_distributed(BulkLoad *load, const KnownRow *known, const BlocklistPath *path,
				  bool any_refusable, Oid status_type)
{
	DistributedWrite w;
	char	   *refusal;
	int			i;

	w.load = load;
	w.status_type = status_type;
	distributed_rows_init(&w.ins, load->nbatch);
	distributed_rows_init(&w.upd, load->nbatch);
	for (i = 0; i < load->nbatch; i++)
	{
		BlocklistRow *row = (BlocklistRow *) bulk_batch_row(load, i);

		if (path[i] == BLOCK_DUPLICATE || path[i] == BLOCK_PRESENT)
			continue;
		distributed_rows_add(known[i].known ? &w.upd : &w.ins, row, &known[i]);
	}
	if (w.ins.n + w.upd.n == 0)
		return;
	w.insert_plan = w.ins.n > 0 ? plan_insert_distributed() : NULL;
	w.update_plan = w.upd.n > 0 ?
		plan_update_distributed(get_array_type(status_type)) : NULL;

	if (!any_refusable)
		write_distributed(&w);
	else
	{
		bulk_spi_ensure();		/* the connection outlives the subtransaction */
		if (!subxact_run(write_distributed, &w, ERRCODE_IR_TRANSITION_FORBIDDEN,
						 NULL, &refusal))
		{
			for (i = 0; i < w.ins.n; i++)
				apply_blocklist_row(load, w.ins.rows[i]);
			for (i = 0; i < w.upd.n; i++)
				apply_blocklist_row(load, w.upd.rows[i]);
			return;
		}
	}
	for (i = 0; i < w.ins.n; i++)
		if (w.ins.written[i])
			bulk_settle(load, &w.ins.rows[i]->base, ROW_LOADED);
		else
			apply_blocklist_row(load, w.ins.rows[i]);	/* inserted meanwhile */
	for (i = 0; i < w.upd.n; i++)
		if (w.upd.written[i])
			bulk_settle(load, &w.upd.rows[i]->base, ROW_LOADED);
		else
			apply_blocklist_row(load, w.upd.rows[i]);	/* changed meanwhile */
}

/* ---- a batch ---- */

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
 * (flush_blocklist_statement).  Where the registry is distributed the
 * known rows are read without a lock, and flush_distributed writes them.
 */
static void
flush_blocklist(BulkLoad *load)
{
	int			n = load->nbatch;
	KnownRow   *known = palloc0(n * sizeof(KnownRow));
	BlocklistPath *path = palloc(n * sizeof(BlocklistPath));
	BlocklistRow **batch = palloc(n * sizeof(BlocklistRow *));
	BlocklistRow **rows = palloc(n * sizeof(BlocklistRow *));
	RegistryNewRow *fresh = palloc(n * sizeof(RegistryNewRow));
	Datum	   *imeis = palloc(n * sizeof(Datum));
	Datum	   *notes = palloc(n * sizeof(Datum));
	Datum	   *reasons = palloc(n * sizeof(Datum));
	Datum		v[4];
	Oid			status_type;
	bool		any_refusable;
	int			m;
	int			i;

	qsort(load->batch, n, sizeof(BlocklistRow), blocklist_imei_cmp);

	for (i = 0; i < n; i++)
	{
		batch[i] = (BlocklistRow *) bulk_batch_row(load, i);
		imeis[i] = ImeiGetDatum(batch[i]->imei);
	}
	status_type = read_known(load, load->registry_distributed ? plan_read_batch() :
							 plan_lock_batch(), batch,
							 bulk_array(bulk_imei_type(), imeis, NULL, n), known);
	any_refusable = choose_paths(load, known, path);

	if (load->registry_distributed)
		flush_distributed(load, known, path, any_refusable, status_type);

	/* a row that may be refused takes the batch with it: one statement, as one */
	else if (any_refusable)
	{
		for (i = 0, m = 0; i < n; i++)
			if (path[i] != BLOCK_DUPLICATE && path[i] != BLOCK_PRESENT)
				rows[m++] = (BlocklistRow *) bulk_batch_row(load, i);
		flush_blocklist_statement(load, rows, m);
	}
	else
	{
		/* new IMEIs, unless another session has one of them */
		for (i = 0, m = 0; i < n; i++)
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
			bulk_spi_ensure();	/* the registry's triggers run as its owner */
			if (registry_insert_rows(m, fresh, load->import_id, NULL))
				for (i = 0; i < m; i++)
					bulk_settle(load, &rows[i]->base, ROW_LOADED);
			else
				flush_blocklist_statement(load, rows, m);
		}

		/* known IMEIs, locked above */
		for (i = 0, m = 0; i < n; i++)
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
