/*
 * bulk.c
 *		COPY targets that load CSV files into the registry and never lose a
 *		row: each ends loaded or rejected with its line number and reason.
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
 * Validation is C that reports a reason code instead of raising; only an
 * UPDATE that the registry's rules may refuse runs in a subtransaction.
 *
 * Memory: one batch of rows, and the keys needed for the duplicate-in-file
 * check that the tables cannot answer for (see settle_row); the
 * per-row work runs in a context reset every row.  See docs/bulk.md.
 */
#include "compat.h"

#include "imei.h"
#include "imei_parse.h"
#include "bulk.h"
#include "bulk_check.h"
#include "bulk_sightings.h"
#include "grey.h"
#include "rules.h"
#include "relcheck.h"
#include "registry.h"
#include "registry_insert.h"
#include "registry_probe.h"

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
#include "utils/datetime.h"
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

typedef enum BulkTarget
{
	BULK_CONNECTIONS,
	BULK_TAC,
	BULK_BLOCKLIST,
	BULK_DEVICES,
	BULK_SIGHTINGS				/* bulk_sightings.c */
} BulkTarget;

/* Operators' reports: upload_connections, and upload_sightings with the subscriber */
#define is_report_target(t)	((t) == BULK_CONNECTIONS || (t) == BULK_SIGHTINGS)

/* The target's table name (relcheck.c has them) */
#define target_name(t)	ext_relation_name((ExtRelation) (EXT_FIRST_UPLOAD + (t)))

/* The set of keys (IMEIs, TACs) accepted so far in this import */
typedef struct SeenEntry
{
	int64		key;
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

/* Operators already looked up in this import */
typedef struct KnownOperator
{
	char	   *code;
	bool		exists;
	bool		mine;			/* the session user may load as it */
} KnownOperator;

#define MAX_CACHED_OPERATORS 64

/* Values of the block list's reason column already looked up in this import */
typedef struct KnownReason
{
	char	   *value;
	bool		is_code;		/* a reason code that leads to black */
} KnownReason;

#define MAX_CACHED_REASONS 64

/*
 * Valid rows of upload_connections, upload_blocklist and upload_devices wait
 * here and go to the tables in one statement per batch: one executor start,
 * one plan and one run of the registry's statement triggers for many rows.
 */
#define BULK_BATCH_ROWS 1000

#define DEVICE_IMEIS 4			/* imei_1 .. imei_4 */

typedef struct PendingRow
{
	int64		line;
	Datum		raw;			/* text[]: for a reject (none for connections) */
	/* upload_connections, upload_blocklist */
	Imei		imei;
	TimestampTz at;
	Datum		operator;		/* text */
	Datum		note;			/* text: the block list's line, as a note */
	Datum		reason;			/* text: the block list's registry reason */
	/* upload_sightings */
	Subscriber	sub;
	bool		sighted;		/* its sighting set a new day */
	/* upload_devices */
	int64		application_id;
	Datum		model;			/* text, or 0 for none */
	Imei		imeis[DEVICE_IMEIS];
	int			nimeis;
} PendingRow;

/* Applications already looked up in this import */
typedef struct KnownApplication
{
	int64		id;
	const char *state;			/* NULL: there is no such application */
} KnownApplication;

#define MAX_CACHED_APPLICATIONS 64

/* The import that the current statement is running */
typedef struct BulkImport
{
	bool		active;
	Oid			relid;
	BulkTarget	target;
	int64		import_id;
	bool		atomic;
	int64		nread;
	int64		nloaded;
	int64		nrejected;
	int64		npresent;
	StringInfoData quoted;		/* atomic mode: the first few reasons */
	seen_hash  *seen;
	KnownOperator operators[MAX_CACHED_OPERATORS];
	int			noperators;
	KnownReason reasons[MAX_CACHED_REASONS];
	int			nreasons;
	char	   *load_operator;	/* the one operator of the loaded rows */
	bool		operators_mixed;	/* loaded rows name several */
	KnownApplication applications[MAX_CACHED_APPLICATIONS];
	int			napplications;
	PendingRow	batch[BULK_BATCH_ROWS];
	int			nbatch;
	MemoryContext cxt;			/* lives as long as the import */
	MemoryContext rowcxt;		/* reset for every row */
	MemoryContext batchcxt;		/* reset for every batch */
} BulkImport;

static BulkImport bulk;

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

/*
 * Saved plans, prepared on the first import of a backend, and again when the
 * extension was dropped and created since (a new OID of type imei).
 */
static Oid	plans_imei_type = InvalidOid;
static SPIPlanPtr plan_open;
static SPIPlanPtr plan_close;
static SPIPlanPtr plan_reject;
static SPIPlanPtr plan_operator;
static SPIPlanPtr plan_operator_mine;
static SPIPlanPtr plan_registry_get;
static SPIPlanPtr plan_connections;
static SPIPlanPtr plan_tac;
static SPIPlanPtr plan_black_new;
static SPIPlanPtr plan_black_update;
static SPIPlanPtr plan_blocklist;
static SPIPlanPtr plan_lock_batch;
static SPIPlanPtr plan_application;
static SPIPlanPtr plan_devices;
static SPIPlanPtr *const all_plans[] = {
	&plan_open, &plan_close, &plan_reject, &plan_operator, &plan_operator_mine,
	&plan_registry_get,
	&plan_connections, &plan_tac, &plan_black_new, &plan_black_update,
	&plan_blocklist, &plan_lock_batch, &plan_application, &plan_devices
};

/* ---- set-up ---- */

static void
bulk_xact_callback(XactEvent event, void *arg)
{
	/* an import that failed inside a subtransaction leaves its memory */
	if ((event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		 event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT) &&
		bulk.cxt != NULL)
	{
		bulk.active = false;
		bulk.seen = NULL;
		bulk_spi.open = false;	/* SPI and the user are reset by the abort */
		MemoryContextReset(bulk.cxt);
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
}

static SPIPlanPtr
prepare(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

static void
prepare_plans(void)
{
	Oid			t_imei;
	int			i;

	t_imei = DatumGetObjectId(DirectFunctionCall1(regtypein,
												  CStringGetDatum("imei_registry.imei")));
	if (t_imei == plans_imei_type)
		return;
	for (i = 0; i < lengthof(all_plans); i++)
	{
		if (*all_plans[i] != NULL)
			SPI_freeplan(*all_plans[i]);
		*all_plans[i] = NULL;
	}
	plans_imei_type = t_imei;
	{
		Oid			a[] = {TEXTOID};

		plan_operator = prepare("SELECT 1 FROM imei_registry.operators"
								" WHERE code OPERATOR(pg_catalog.=) $1", 1, a);
		plan_operator_mine = prepare("SELECT imei_registry.operator_is_mine($1)", 1, a);
	}
	{
		Oid			a[] = {TEXTOID, TEXTOID};

		plan_open = prepare("INSERT INTO imei_registry.imports"
							" (importer, created_at, target, rows_read, rows_loaded,"
							"  rows_rejected, rows_already_present)"
							" VALUES ($2, pg_catalog.statement_timestamp(), $1, 0, 0, 0, 0)"
							" RETURNING import_id", 2, a);
	}
	{
		Oid			a[] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, TEXTOID};

		plan_close = prepare("UPDATE imei_registry.imports"
							 " SET finished_at = pg_catalog.clock_timestamp(),"
							 " rows_read = $2, rows_loaded = $3, rows_rejected = $4,"
							 " rows_already_present = $5, operator = $6"
							 " WHERE import_id OPERATOR(pg_catalog.=) $1", 6, a);
	}
	{
		Oid			a[] = {INT8OID, INT8OID, TEXTARRAYOID, TEXTOID, TEXTOID};

		plan_reject = prepare("INSERT INTO imei_registry.import_rejects"
							  " (import_id, line_number, raw, reason, message)"
							  " VALUES ($1, $2, $3, $4, $5)", 5, a);
	}
	{
		Oid			a[] = {t_imei};

		plan_registry_get = prepare("SELECT status::pg_catalog.text, reason, import_id"
									" FROM imei_registry.registry"
									" WHERE imei OPERATOR(pg_catalog.=) $1"
									" FOR UPDATE", 1, a);
	}
	{
		Oid			a[] = {get_array_type(t_imei), TEXTARRAYOID,
			TIMESTAMPTZARRAYOID, INT8OID};

		/*
		 * A batch of connections, no IMEI twice: what report_connection()
		 * does, set-wise, with this import as the cause
		 * (120_registry_functions.sql).  For each row: was it inserted,
		 * did it change a known row.
		 */
		plan_connections = prepare("SELECT ord, inserted, changed"
								   " FROM imei_registry.record_connections($1, $2, $3, $4)",
								   4, a);
	}
	{
		Oid			a[] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID};

		plan_tac = prepare("INSERT INTO imei_registry.tac AS t"
						   " (tac, brand, model, device_type, sim_slots)"
						   " VALUES ($1, $2, $3, $4, $5)"
						   " ON CONFLICT (tac) DO UPDATE"
						   " SET brand = excluded.brand, model = excluded.model,"
						   "  device_type = excluded.device_type, sim_slots = excluded.sim_slots"
						   " WHERE (t.brand, t.model, t.device_type, t.sim_slots)"
						   "  IS DISTINCT FROM"
						   "  (excluded.brand, excluded.model, excluded.device_type, excluded.sim_slots)",
						   5, a);
	}
	{
		Oid			a[] = {t_imei, INT8OID, TEXTOID, TEXTOID};

		plan_black_new = prepare("INSERT INTO imei_registry.registry"
								 " (imei, status, reason, import_id, note)"
								 " VALUES ($1, 'black', $4, $2, $3)", 4, a);
		plan_black_update = prepare("UPDATE imei_registry.registry"
									" SET status = 'black', reason = $4,"
									"  grey_last_day = NULL, application_id = NULL,"
									"  import_id = $2, note = $3"
									" WHERE imei OPERATOR(pg_catalog.=) $1", 4, a);
	}
	{
		Oid			a[] = {get_array_type(t_imei), TEXTARRAYOID, INT8OID, TEXTARRAYOID};

		/*
		 * A batch of block-list matches, no IMEI twice: unknown IMEIs are
		 * inserted black, white and grey ones change to black, and so do
		 * black ones that an application could still make white (the
		 * registry's rules: black only for an expired grey period); other
		 * black ones stay as they are ("blocked").  The reason of each row
		 * is $4 (blocklist_reason).  The UPDATE checks the row again, so a
		 * row changed meanwhile by another session is left alone (and the
		 * row then goes through the one-row path).  For each row: changed, was
		 * it known, which import changed it last, and its status then.
		 */
		/*
		 * The known rows of a batch, locked in IMEI order before the batch
		 * changes them: the order of the locks does not depend on the plan
		 * of the change (a LockRows node above the sort).
		 */
		plan_lock_batch = prepare("SELECT 1 FROM imei_registry.registry r"
								  " WHERE r.imei OPERATOR(pg_catalog.=) ANY ($1)"
								  " ORDER BY r.imei FOR UPDATE", 1, a);
		plan_blocklist = prepare("WITH k AS ("
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
	{
		Oid			a[] = {INT8OID};

		plan_application = prepare("SELECT state FROM imei_registry.applications"
								   " WHERE id OPERATOR(pg_catalog.=) $1"
								   " FOR NO KEY UPDATE", 1, a);
	}
	{
		Oid			t_imeis = get_array_type(t_imei);
		Oid			a[] = {INT8ARRAYOID, TEXTARRAYOID, t_imeis, t_imeis, t_imeis,
			t_imeis, INT8OID};

		/*
		 * A batch of devices, no IMEI twice.  A device with an IMEI that
		 * this import already added is a duplicate (an earlier batch); one
		 * with an IMEI that the application has from an earlier import is
		 * already present, and nothing of it is added.  The others are appended to
		 * their application: device_ord after its last device, the IMEIs in
		 * column order.  For each row: duplicate, present.
		 */
		plan_devices = prepare("WITH u AS ("
							   " SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
							   "  pg_catalog.unnest($3), pg_catalog.unnest($4),"
							   "  pg_catalog.unnest($5), pg_catalog.unnest($6))"
							   "  WITH ORDINALITY AS u(application_id, model, i1, i2, i3, i4, ord)),"
							   " k AS ("
							   " SELECT u.*, ai.import_id OPERATOR(pg_catalog.=) $7 AS dup,"
							   "  ai.application_id IS NOT NULL AS known"
							   " FROM u LEFT JOIN LATERAL ("
							   "  SELECT ai.application_id, ai.import_id FROM imei_registry.application_imeis ai"
							   "  WHERE ai.imei OPERATOR(pg_catalog.=) ANY (ARRAY[u.i1, u.i2, u.i3, u.i4])"
							   "   AND (ai.application_id OPERATOR(pg_catalog.=) u.application_id"
							   "        OR ai.import_id OPERATOR(pg_catalog.=) $7)"
							   "  ORDER BY ai.import_id OPERATOR(pg_catalog.=) $7 DESC LIMIT 1) ai ON true),"
							   " n AS ("
							   " SELECT k.*, (SELECT pg_catalog.max(d.device_ord)"
							   "   FROM imei_registry.application_devices d"
							   "   WHERE d.application_id OPERATOR(pg_catalog.=) k.application_id)"
							   "  AS last_ord,"
							   "  pg_catalog.row_number() OVER (PARTITION BY k.application_id ORDER BY k.ord)"
							   "  AS nth"
							   " FROM k WHERE NOT k.known),"
							   " dev AS ("
							   " INSERT INTO imei_registry.application_devices (application_id, device_ord, model)"
							   " SELECT n.application_id, (COALESCE(n.last_ord, 0) OPERATOR(pg_catalog.+) n.nth)::pg_catalog.int4,"
							   "  n.model FROM n),"
							   " imeis AS ("
							   " INSERT INTO imei_registry.application_imeis"
							   "  (application_id, device_ord, ord, imei_text, imei, import_id)"
							   " SELECT n.application_id, (COALESCE(n.last_ord, 0) OPERATOR(pg_catalog.+) n.nth)::pg_catalog.int4,"
							   "  i.ord::pg_catalog.int4, i.imei::pg_catalog.text, i.imei, $7"
							   " FROM n, ROWS FROM (pg_catalog.unnest(ARRAY[n.i1, n.i2, n.i3, n.i4]))"
							   "  WITH ORDINALITY AS i(imei, ord)"
							   " WHERE i.imei IS NOT NULL)"
							   " SELECT k.ord, COALESCE(k.dup, false), k.known FROM k",
							   7, a);
	}
}

static void
bulk_spi_start(Relation rel)
{
	bulk_spi.open = false;
	bulk_spi.rel = rel;
}

static void
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

static int
exec_plan(SPIPlanPtr plan, Datum *values, const char *nulls)
{
	int			rc;

	bulk_spi_ensure();
	rc = SPI_execute_plan(plan, values, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return rc;
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
current_line(Relation rel)
{
#if PG_VERSION_NUM >= 140000
	ErrorContextCallback *e;

	for (e = error_context_stack; e != NULL; e = e->previous)
	{
		if (e->callback == CopyFromErrorCallback)
		{
			CopyFromState cstate = (CopyFromState) e->arg;

			if (cstate->rel == rel)
				return (int64) cstate->cur_lineno;
			break;
		}
	}
#endif
	return bulk.nread + 1;
}

/* ---- rejects and counts ---- */

/*
 * The raw values of the row as text[], NULL for NULL; with clip, each cut
 * to its first BULK_RAW_CLIP_BYTES (at a character boundary).
 */
static Datum
raw_values_clipped(HeapTuple tuple, TupleDesc desc, bool clip)
{
	int			n = desc->natts;
	Datum	   *elems = palloc(n * sizeof(Datum));
	bool	   *nulls = palloc(n * sizeof(bool));
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int			i;

	for (i = 0; i < n; i++)
	{
		elems[i] = heap_getattr(tuple, i + 1, desc, &nulls[i]);
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

static Datum
raw_values(HeapTuple tuple, TupleDesc desc)
{
	return raw_values_clipped(tuple, desc, false);
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
		Datum		d = heap_getattr(tuple, i + 1, desc, &isnull);

		if (!isnull)
			total += toast_raw_datum_size(d) - VARHDRSZ;
	}
	return total;
}

static void
record_reject(int64 line, Datum raw, const char *reason, const char *message)
{
	bulk.nrejected++;
	if (bulk.atomic)
	{
		if (bulk.nrejected <= BULK_QUOTED_REASONS)
		{
			MemoryContext old = MemoryContextSwitchTo(bulk.cxt);

			appendStringInfo(&bulk.quoted, "%sline %lld: %s: %s",
							 bulk.nrejected > 1 ? "\n" : "",
							 (long long) line, reason, message);
			MemoryContextSwitchTo(old);
		}
		return;
	}
	{
		Datum		v[5];

		v[0] = Int64GetDatum(bulk.import_id);
		v[1] = Int64GetDatum(line);
		v[2] = raw;
		v[3] = CStringGetTextDatum(reason);
		v[4] = CStringGetTextDatum(message);
		exec_plan(plan_reject, v, NULL);
	}
}

static void
count_accepted(RowOutcome outcome)
{
	bulk.nloaded++;
	if (outcome == ROW_PRESENT)
		bulk.npresent++;
}

/* ---- the duplicate-in-file check ---- */

static bool
seen_before(int64 key)
{
	return bulk.seen != NULL && seen_lookup(bulk.seen, key) != NULL;
}

static void
remember(int64 key)
{
	bool		found;

	if (bulk.seen == NULL)
		bulk.seen = seen_create(bulk.cxt, 1024, NULL);
	(void) seen_insert(bulk.seen, key, &found);
}

/*
 * Is there such an operator, and may the session user load as it
 * (imei_registry.operator_is_mine(), the rule report_connection() applies
 * too)?
 */
static bool
operator_exists(const char *code, bool *mine)
{
	int			i;
	bool		exists;
	bool		isnull;
	Datum		v[1];

	for (i = 0; i < bulk.noperators; i++)
		if (strcmp(bulk.operators[i].code, code) == 0)
		{
			*mine = bulk.operators[i].mine;
			return bulk.operators[i].exists;
		}
	v[0] = CStringGetTextDatum(code);
	exec_plan(plan_operator, v, NULL);
	exists = SPI_processed > 0;
	*mine = false;
	if (exists)
	{
		exec_plan(plan_operator_mine, v, NULL);
		*mine = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1, &isnull));
	}
	if (bulk.noperators < MAX_CACHED_OPERATORS)
	{
		bulk.operators[bulk.noperators].code = MemoryContextStrdup(bulk.cxt, code);
		bulk.operators[bulk.noperators].exists = exists;
		bulk.operators[bulk.noperators].mine = *mine;
		bulk.noperators++;
	}
	return exists;
}

/* A loaded row of upload_connections names this operator */
static void
note_load_operator(Datum operator)
{
	char	   *code = TextDatumGetCString(operator);

	if (bulk.load_operator == NULL && !bulk.operators_mixed)
		bulk.load_operator = MemoryContextStrdup(bulk.cxt, code);
	else if (bulk.load_operator != NULL && strcmp(bulk.load_operator, code) != 0)
	{
		bulk.load_operator = NULL;
		bulk.operators_mixed = true;
	}
}

/*
 * The registry row of an IMEI, locked; false if there is none.  *mine is
 * true when this import made its latest change: the IMEI came earlier in
 * this file.
 */
static bool
registry_get(Imei imei, char **status, char **reason, bool *mine)
{
	Datum		v[1];
	bool		isnull;
	Datum		d;

	v[0] = ImeiGetDatum(imei);
	exec_plan(plan_registry_get, v, NULL);
	if (SPI_processed == 0)
		return false;
	*status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	*reason = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	*mine = !isnull && DatumGetInt64(d) == bulk.import_id;
	return true;
}

/*
 * Run a plan that may break the registry rules in a subtransaction.  False,
 * with the rule's message, when the registry refused a transition (IR001);
 * other errors propagate.  Used only where a forbidden transition is
 * possible: changes of existing registry rows, once per batch, and once per
 * row only for the rows of a batch that was refused.
 */
static bool
exec_transition(SPIPlanPtr plan, Datum *values, char **refusal)
{
	MemoryContext oldcxt;
	ResourceOwner oldowner = CurrentResourceOwner;
	bool		ok = true;

	bulk_spi_ensure();			/* the connection outlives the subtransaction */
	oldcxt = CurrentMemoryContext;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		exec_plan(plan, values, NULL);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode != ERRCODE_IR_TRANSITION_FORBIDDEN)
			ReThrowError(edata);
		*refusal = pstrdup(edata->message);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* A row whose IMEI came earlier in this import */
static void
reject_duplicate(RowResult *r, Imei imei)
{
	bulk_reject(r, "duplicate_in_file", "IMEI %015lld came earlier in this import",
				(long long) imei);
}

/*
 * The key of a row of upload_connections or upload_blocklist: if it came
 * earlier in this import, reject the row; otherwise remember it.
 */
static bool
first_in_import(RowResult *r, Imei imei)
{
	if (seen_before(imei))
	{
		reject_duplicate(r, imei);
		return false;
	}
	remember(imei);
	return true;
}

/* ---- batches ---- */

/*
 * A valid row waits for the next batch (bulk_import_row sends a full one):
 * its line and raw values are kept; the caller fills the rest, text with
 * batch_text().
 */
static PendingRow *
queue_row(RowResult *r, Relation rel, HeapTuple tuple, TupleDesc desc)
{
	PendingRow *row = &bulk.batch[bulk.nbatch++];
	MemoryContext old = MemoryContextSwitchTo(bulk.batchcxt);

	row->line = current_line(rel);
	/* a report is never rejected once valid: it needs no raw values */
	row->raw = is_report_target(bulk.target) ? (Datum) 0 : raw_values(tuple, desc);
	MemoryContextSwitchTo(old);
	r->outcome = ROW_PENDING;
	return row;
}

/* A text datum that lives as long as the batch */
static Datum
batch_text(const char *s)
{
	MemoryContext old = MemoryContextSwitchTo(bulk.batchcxt);
	Datum		d = CStringGetTextDatum(s);

	MemoryContextSwitchTo(old);
	return d;
}

/*
 * n values of a column of the batch as a one-dimensional array, NULL where
 * nulls says so (nulls may be NULL): text, or an 8-byte type passed like
 * int8 (imei, int8, timestamptz).
 */
static Datum
batch_array_n(Oid type, Datum *elems, bool *nulls, int n)
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

/* ... of all the rows of the batch */
static Datum
batch_array(Oid type, Datum *elems, bool *nulls)
{
	return batch_array_n(type, elems, nulls, bulk.nbatch);
}

/*
 * A batch of upload_connections or upload_blocklist goes to the registry in
 * IMEI order, whatever the order of the file: two writers that take the
 * locks of the same rows in the same order wait for one another instead of
 * deadlocking (a deadlock would abort the whole COPY).
 */
static int
pending_imei_cmp(const void *a, const void *b)
{
	Imei		x = ((const PendingRow *) a)->imei;
	Imei		y = ((const PendingRow *) b)->imei;

	return (x > y) - (x < y);
}

static void
sort_batch(void)
{
	qsort(bulk.batch, bulk.nbatch, sizeof(PendingRow), pending_imei_cmp);
}

/* The IMEIs of a batch of upload_connections or upload_blocklist */
static Datum
batch_imeis(void)
{
	Datum	   *imeis = palloc(bulk.nbatch * sizeof(Datum));
	int			i;

	for (i = 0; i < bulk.nbatch; i++)
		imeis[i] = ImeiGetDatum(bulk.batch[i].imei);
	return batch_array(plans_imei_type, imeis, NULL);
}

/*
 * The result of the statement that a batch just ran: one row per batch row,
 * its position in the batch first.  The caller keeps it, since recording a
 * reject runs SPI again.
 */
static SPITupleTable *
batch_result(const char *what)
{
	if (SPI_processed != (uint64) bulk.nbatch)
		elog(ERROR, "%s batch of %d rows returned %llu",
			 what, bulk.nbatch, (unsigned long long) SPI_processed);
	return SPI_tuptable;
}

/* The batch row that row i of a batch result answers for */
static PendingRow *
result_row(SPITupleTable *result, uint64 i)
{
	bool		isnull;

	return &bulk.batch[DatumGetInt64(SPI_getbinval(result->vals[i], result->tupdesc,
												   1, &isnull)) - 1];
}

static bool
result_bool(SPITupleTable *result, uint64 i, int column)
{
	bool		isnull;

	return DatumGetBool(SPI_getbinval(result->vals[i], result->tupdesc, column, &isnull));
}

/* Column column of row i is an import_id: is it this import? */
static bool
result_mine(SPITupleTable *result, uint64 i, int column)
{
	bool		isnull;
	Datum		d = SPI_getbinval(result->vals[i], result->tupdesc, column, &isnull);

	return !isnull && DatumGetInt64(d) == bulk.import_id;
}

/*
 * Count a row that waited in a batch.  The keys of rows that changed the
 * tables, or were rejected, leave the seen set: the tables answer for the
 * former (import_id), and a rejected row is nobody's earlier row.  Rows
 * already present keep theirs, so the seen set holds the batch plus the
 * keys that were already known: its memory is bounded by those, not by the
 * file.
 */
static void
settle_row(PendingRow *row, const RowResult *r)
{
	int			c;

	if (is_report_target(bulk.target) && r->outcome != ROW_REJECTED)
		note_load_operator(row->operator);
	if (r->outcome == ROW_PRESENT)
	{
		count_accepted(ROW_PRESENT);
		return;
	}
	if (bulk.target == BULK_DEVICES)
		for (c = 0; c < row->nimeis; c++)
			seen_delete(bulk.seen, row->imeis[c]);
	else
		seen_delete(bulk.seen, row->imei);
	if (r->outcome == ROW_REJECTED)
		record_reject(row->line, row->raw, r->reason, r->message);
	else
		count_accepted(ROW_LOADED);
}

/* settle_row() for a row loaded or already present */
static void
settle(PendingRow *row, RowOutcome outcome)
{
	RowResult	r = {outcome, NULL, NULL};

	settle_row(row, &r);
}

/* settle_row() for a row that this import changed in an earlier batch */
static void
settle_duplicate(PendingRow *row)
{
	RowResult	r = {ROW_REJECTED, NULL, NULL};

	reject_duplicate(&r, bulk.target == BULK_DEVICES ? row->imeis[0] : row->imei);
	settle_row(row, &r);
}

static void flush_batch(void);

/* ---- the targets ---- */

/*
 * Send waiting reports (rows of upload_connections, home rows of
 * upload_sightings) to the registry, and count each: loaded (inserted, or a
 * known IMEI whose first connection it moved earlier or set, or its
 * sighting set a new day) or already present (changed nothing).  The seen set holds the IMEIs
 * of one batch only: a later line of the same IMEI goes to the registry in
 * a later batch, which answers for it like for any report.
 */
static void
flush_reports(PendingRow **batch, int n)
{
	Imei	   *imeis = palloc(n * sizeof(Imei));
	RegistryProbe *probes = palloc(n * sizeof(RegistryProbe));
	PendingRow **rows = palloc(n * sizeof(PendingRow *));
	PendingRow **fresh = palloc(n * sizeof(PendingRow *));
	Imei	   *fresh_imeis = palloc(n * sizeof(Imei));
	TimestampTz *fresh_ats = palloc(n * sizeof(TimestampTz));
	Datum	   *imei_d = palloc(n * sizeof(Datum));
	Datum	   *ops = palloc(n * sizeof(Datum));
	Datum	   *ats = palloc(n * sizeof(Datum));
	Datum		v[4];
	SPITupleTable *result;
	int			m = 0;
	int			nfresh = 0;
	int			i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		imeis[i] = batch[i]->imei;

	/*
	 * A known IMEI with a first connection no later than the report's is
	 * answered by its probe (registry_probe.c): already present.  The
	 * unknown ones go through the multi-insert path (registry_insert.c);
	 * the rest, and all of them if another session inserted one of them
	 * meanwhile, go to the registry as report_connection()'s go, in one
	 * statement.
	 */
	registry_probe_first_seen(imeis, n, probes);
	for (i = 0; i < n; i++)
	{
		PendingRow *row = batch[i];

		if (!probes[i].known)
		{
			fresh[nfresh] = row;
			fresh_imeis[nfresh] = row->imei;
			fresh_ats[nfresh] = row->at;
			ops[nfresh] = row->operator;
			nfresh++;
		}
		else if (registry_report_changes_nothing(&probes[i], row->at))
		{
			settle(row, row->sighted ? ROW_LOADED : ROW_PRESENT);
			seen_delete(bulk.seen, row->imei);
		}
		else
			rows[m++] = row;
	}
	if (nfresh > 0)
	{
		bulk_spi_ensure();		/* the registry's triggers run as its owner */
		if (registry_insert_new(nfresh, fresh_imeis, fresh_ats, ops, bulk.import_id))
		{
			for (i = 0; i < nfresh; i++)
			{
				settle(fresh[i], ROW_LOADED);
				seen_delete(bulk.seen, fresh[i]->imei);
			}
		}
		else
			for (i = 0; i < nfresh; i++)
				rows[m++] = fresh[i];
	}
	if (m == 0)
		return;
	for (i = 0; i < m; i++)
	{
		imei_d[i] = ImeiGetDatum(rows[i]->imei);
		ops[i] = rows[i]->operator;
		ats[i] = TimestampTzGetDatum(rows[i]->at);
	}
	v[0] = batch_array_n(plans_imei_type, imei_d, NULL, m);
	v[1] = batch_array_n(TEXTOID, ops, NULL, m);
	v[2] = batch_array_n(TIMESTAMPTZOID, ats, NULL, m);
	v[3] = Int64GetDatum(bulk.import_id);
	exec_plan(plan_connections, v, NULL);
	if (SPI_processed != (uint64) m)
		elog(ERROR, "connection batch of %d rows returned %llu",
			 m, (unsigned long long) SPI_processed);
	result = SPI_tuptable;
	for (i = 0; i < m; i++)
	{
		bool		isnull;
		PendingRow *row = rows[DatumGetInt64(SPI_getbinval(result->vals[i], result->tupdesc,
														   1, &isnull)) - 1];

		if (result_bool(result, i, 2) || result_bool(result, i, 3) ||	/* inserted, changed */
			row->sighted)
			settle(row, ROW_LOADED);
		else
			settle(row, ROW_PRESENT);
		seen_delete(bulk.seen, row->imei);
	}
}

static void
flush_connections(void)
{
	PendingRow **rows = palloc(bulk.nbatch * sizeof(PendingRow *));
	int			i;

	sort_batch();
	for (i = 0; i < bulk.nbatch; i++)
	{
		rows[i] = &bulk.batch[i];
		rows[i]->sighted = false;
	}
	flush_reports(rows, bulk.nbatch);
}

/*
 * A batch of upload_sightings: the sightings of the rows with an IMSI in
 * one statement (bulk_sightings.c), then the home subscribers' rows and
 * those without an IMSI as connections.  A visitor's row is loaded if its
 * sighting set a new day, else already present.  No IMEI twice in a batch,
 * so no sighting's key either.
 */
static void
flush_sightings(void)
{
	int			n = bulk.nbatch;
	Imei	   *imeis = palloc(n * sizeof(Imei));
	Subscriber *subs = palloc(n * sizeof(Subscriber));
	Datum	   *ops = palloc(n * sizeof(Datum));
	TimestampTz *ats = palloc(n * sizeof(TimestampTz));
	bool	   *changed = palloc(n * sizeof(bool));
	PendingRow **with_imsi = palloc(n * sizeof(PendingRow *));
	PendingRow **home = palloc(n * sizeof(PendingRow *));
	int			m = 0;
	int			h = 0;
	int			i;

	sort_batch();
	for (i = 0; i < n; i++)
	{
		PendingRow *row = &bulk.batch[i];

		row->sighted = false;
		if (!row->sub.has_imsi)
			continue;
		with_imsi[m] = row;
		imeis[m] = row->imei;
		subs[m] = row->sub;
		ops[m] = row->operator;
		ats[m] = row->at;
		m++;
	}
	if (m > 0)
	{
		bulk_spi_ensure();
		sightings_record(plans_imei_type, m, imeis, subs, ops, ats, changed);
		for (i = 0; i < m; i++)
			with_imsi[i]->sighted = changed[i];
	}
	for (i = 0; i < n; i++)
	{
		PendingRow *row = &bulk.batch[i];

		if (row->sub.home)
			home[h++] = row;
		else
		{
			settle(row, row->sighted ? ROW_LOADED : ROW_PRESENT);
			seen_delete(bulk.seen, row->imei);
		}
	}
	flush_reports(home, h);
}

/*
 * operator, imei, connected_at (upload_sightings: and imsi, msisdn): a
 * report like report_connection()'s, the earliest connection winning.  An IMEI twice in a batch first sends the
 * batch, so that each line meets the registry as the earlier lines left it.
 */
static void
load_connection(RowResult *r, Relation rel, HeapTuple tuple, TupleDesc desc)
{
	char	   *operator = bulk_column(tuple, desc, 1);
	char	   *imei_s = bulk_column(tuple, desc, 2);
	char	   *at_s = bulk_column(tuple, desc, 3);
	Imei		imei;
	TimestampTz at;
	PendingRow *row;
	const char *problem;
	bool		mine;
	Subscriber	sub = {false, true, 0, 0};

	if (!bulk_require(r, operator, "operator") || !bulk_require(r, imei_s, "imei") ||
		!bulk_require(r, at_s, "connected_at") ||
		!bulk_parse_imei(r, imei_s, true, &imei) ||
		!bulk_parse_timestamptz(r, at_s, "connected_at", &at))
		return;
	if ((problem = connection_time_problem(at)) != NULL)
	{
		bulk_reject(r, "bad_date", "connected_at \"%s\" is not a plausible time of connection: %s",
					at_s, problem);
		return;
	}
	/* upload_sightings: the subscriber (bulk_sightings.c) */
	if (bulk.target == BULK_SIGHTINGS &&
		!sightings_parse_subscriber(r, tuple, desc, &sub))
		return;
	if (!operator_exists(operator, &mine))
	{
		bulk_reject(r, "unknown_operator", "operator \"%s\" is not in imei_registry.operators", operator);
		return;
	}
	if (!mine)
	{
		bulk_reject(r, "operator_not_yours",
					"login \"%s\" may not load rows of operator \"%s\" (imei_registry.operator_roles)",
					GetUserNameFromId(GetSessionUserId(), false), operator);
		return;
	}
	/* an IMEI waiting in the batch: send the batch first */
	if (seen_before(imei))
		flush_batch();
	remember(imei);

	row = queue_row(r, rel, tuple, desc);
	row->imei = imei;
	row->at = at;
	row->operator = batch_text(operator);
	row->sub = sub;
}

/*
 * Send the waiting device rows to their applications, and count each:
 * loaded (appended), already present (an IMEI of it is in the application
 * from an earlier import) or a duplicate (this import added it in an
 * earlier batch).  As for connections, application_imeis.import_id
 * answers for the appended devices' IMEIs.
 */
static void
flush_devices(void)
{
	int			n = bulk.nbatch;
	Datum	   *apps = palloc(n * sizeof(Datum));
	Datum	   *models = palloc(n * sizeof(Datum));
	bool	   *model_nulls = palloc(n * sizeof(bool));
	Datum	   *imeis[DEVICE_IMEIS];
	bool	   *imei_nulls[DEVICE_IMEIS];
	Datum		v[7];
	SPITupleTable *result;
	int			i;
	int			c;

	for (c = 0; c < DEVICE_IMEIS; c++)
	{
		imeis[c] = palloc(n * sizeof(Datum));
		imei_nulls[c] = palloc(n * sizeof(bool));
	}
	for (i = 0; i < n; i++)
	{
		PendingRow *row = &bulk.batch[i];

		apps[i] = Int64GetDatum(row->application_id);
		models[i] = row->model;
		model_nulls[i] = (row->model == (Datum) 0);
		for (c = 0; c < DEVICE_IMEIS; c++)
		{
			imeis[c][i] = ImeiGetDatum(c < row->nimeis ? row->imeis[c] : 0);
			imei_nulls[c][i] = (c >= row->nimeis);
		}
	}
	v[0] = batch_array(INT8OID, apps, NULL);
	v[1] = batch_array(TEXTOID, models, model_nulls);
	for (c = 0; c < DEVICE_IMEIS; c++)
		v[2 + c] = batch_array(plans_imei_type, imeis[c], imei_nulls[c]);
	v[6] = Int64GetDatum(bulk.import_id);
	exec_plan(plan_devices, v, NULL);
	result = batch_result("device");
	for (i = 0; i < n; i++)
	{
		PendingRow *row = result_row(result, i);

		if (result_bool(result, i, 2))	/* dup */
			settle_duplicate(row);
		else if (result_bool(result, i, 3))	/* known */
			settle(row, ROW_PRESENT);
		else
			settle(row, ROW_LOADED);
	}
}


/* The state of an application, NULL if there is none; locked against a concurrent upload */
static const char *
application_state(int64 id)
{
	int			i;
	const char *state = NULL;
	Datum		v[1];

	for (i = 0; i < bulk.napplications; i++)
		if (bulk.applications[i].id == id)
			return bulk.applications[i].state;
	v[0] = Int64GetDatum(id);
	exec_plan(plan_application, v, NULL);
	if (SPI_processed > 0)
		state = MemoryContextStrdup(bulk.cxt,
									SPI_getvalue(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1));
	if (bulk.napplications < MAX_CACHED_APPLICATIONS)
	{
		bulk.applications[bulk.napplications].id = id;
		bulk.applications[bulk.napplications].state = state;
		bulk.napplications++;
	}
	return state;
}

/*
 * application_id, model, imei_1 .. imei_4: one device of a submitted
 * application, its IMEIs in slot order (later ones empty for fewer SIMs).
 * The application is decided later, as one, by decide_application().
 */
static void
load_device(RowResult *r, Relation rel, HeapTuple tuple, TupleDesc desc)
{
	char	   *app_s = bulk_column(tuple, desc, 1);
	char	   *model = bulk_column(tuple, desc, 2);
	char	   *imei_s[DEVICE_IMEIS];
	Imei		imeis[DEVICE_IMEIS];
	int			nimeis = 0;
	int64		app;
	char	   *end;
	const char *state;
	PendingRow *row;
	int			c;
	int			c2;

	if (!bulk_require(r, app_s, "application_id"))
		return;
	for (c = 0; c < DEVICE_IMEIS; c++)
	{
		imei_s[c] = bulk_column(tuple, desc, 3 + c);
		if (imei_s[c] != NULL)
		{
			if (c > nimeis)
			{
				bulk_reject(r, "missing_value", "imei_%d is empty but imei_%d is not", nimeis + 1, c + 1);
				return;
			}
			nimeis++;
		}
	}
	if (nimeis == 0)
	{
		bulk_reject(r, "missing_value", "imei_1 is empty");
		return;
	}
	errno = 0;
	app = strtoll(app_s, &end, 10);
	if (errno != 0 || *end != '\0' || app <= 0)
	{
		bulk_reject(r, "bad_value", "application_id \"%s\" is not an application number", app_s);
		return;
	}
	for (c = 0; c < nimeis; c++)
	{
		if (!bulk_parse_imei(r, imei_s[c], false, &imeis[c]))
		{
			r->message = psprintf("imei_%d: %s", c + 1, r->message);
			return;
		}
		for (c2 = 0; c2 < c; c2++)
			if (imeis[c2] == imeis[c])
			{
				bulk_reject(r, "duplicate_in_file", "imei_%d repeats imei_%d (%015lld)",
							c + 1, c2 + 1, (long long) imeis[c]);
				return;
			}
	}
	state = application_state(app);
	if (state == NULL)
	{
		bulk_reject(r, "unknown_application", "there is no application %lld", (long long) app);
		return;
	}
	if (strcmp(state, "submitted") != 0)
	{
		bulk_reject(r, "unknown_application", "application %lld is already %s: devices go to a submitted application",
					(long long) app, state);
		return;
	}
	for (c = 0; c < nimeis; c++)
		if (seen_before(imeis[c]))
		{
			reject_duplicate(r, imeis[c]);
			return;
		}
	for (c = 0; c < nimeis; c++)
		remember(imeis[c]);

	row = queue_row(r, rel, tuple, desc);
	row->application_id = app;
	row->model = model ? batch_text(model) : (Datum) 0;
	memcpy(row->imeis, imeis, sizeof(imeis));
	row->nimeis = nimeis;
}

/* tac, brand, model, device_type, sim_slots: insert or update the TAC table */
static void
load_tac(RowResult *r, HeapTuple tuple, TupleDesc desc)
{
	char	   *tac = bulk_column(tuple, desc, 1);
	char	   *brand = bulk_column(tuple, desc, 2);
	char	   *model = bulk_column(tuple, desc, 3);
	char	   *device_type = bulk_column(tuple, desc, 4);
	char	   *slots_s = bulk_column(tuple, desc, 5);
	const char *c;
	char	   *end;
	long		slots;
	Datum		v[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	if (!bulk_require(r, tac, "tac") || !bulk_require(r, model, "model") ||
		!bulk_require(r, slots_s, "sim_slots"))
		return;
	for (c = tac; *c; c++)
		if (*c < '0' || *c > '9')
		{
			bulk_reject(r, "non_digits", "TAC \"%s\" has a character other than a digit", tac);
			return;
		}
	if (strlen(tac) != 8)
	{
		bulk_reject(r, "wrong_length", "TAC \"%s\" has %d digits; a TAC has 8",
					tac, (int) strlen(tac));
		return;
	}
	errno = 0;
	slots = strtol(slots_s, &end, 10);
	if (errno != 0 || *end != '\0' || slots < 1 || slots > 8)
	{
		bulk_reject(r, "bad_value", "sim_slots \"%s\" is not a number of SIM slots from 1 to 8", slots_s);
		return;
	}
	if (seen_before(atoi(tac)))
	{
		bulk_reject(r, "duplicate_in_file", "TAC %s came earlier in this import", tac);
		return;
	}
	v[0] = CStringGetTextDatum(tac);
	v[1] = brand ? CStringGetTextDatum(brand) : (Datum) 0;
	nulls[1] = brand ? ' ' : 'n';
	v[2] = CStringGetTextDatum(model);
	v[3] = device_type ? CStringGetTextDatum(device_type) : (Datum) 0;
	nulls[3] = device_type ? ' ' : 'n';
	v[4] = Int32GetDatum((int32) slots);
	exec_plan(plan_tac, v, nulls);
	remember(atoi(tac));
	if (SPI_processed == 0)
		r->outcome = ROW_PRESENT;
}

/*
 * One block-list row alone: for the rows of a batch that the registry
 * refused as a whole, and for a row that another session changed while its
 * batch ran.
 */
static void
apply_blocklist_row(PendingRow *row)
{
	RowResult	r = {ROW_LOADED, NULL, NULL};
	Datum		v[4];
	char	   *status;
	char	   *reason;
	char	   *refusal;
	bool		mine;

	v[0] = ImeiGetDatum(row->imei);
	v[1] = Int64GetDatum(bulk.import_id);
	v[2] = row->note;
	v[3] = row->reason;
	if (!registry_get(row->imei, &status, &reason, &mine))
		exec_plan(plan_black_new, v, NULL);
	else if (mine)
		reject_duplicate(&r, row->imei);
	else if (strcmp(status, "black") == 0 &&
			 !rules_allows_change(ST_BLACK, reason, ST_WHITE, "application_approved"))
		r.outcome = ROW_PRESENT;	/* blocked already: no application can lift it */
	else if (!exec_transition(plan_black_update, v, &refusal))
		bulk_reject(&r, "forbidden_transition", "%s", refusal);
	settle_row(row, &r);
}

/*
 * Send the waiting block-list rows to the registry in one statement, in one
 * subtransaction.  If the registry refuses any change of the batch (IR001),
 * the batch is undone and its rows go one by one, each refusal a rejected
 * row.  A row is loaded (black now), already present (black already, for
 * a reason that no application can lift), or a duplicate
 * (changed by this import in an earlier batch).
 */
static void
flush_blocklist(void)
{
	int			n = bulk.nbatch;
	Datum	   *notes = palloc(n * sizeof(Datum));
	Datum	   *reasons = palloc(n * sizeof(Datum));
	Datum		v[4];
	char	   *refusal;
	SPITupleTable *result;
	int			i;

	sort_batch();
	for (i = 0; i < n; i++)
	{
		notes[i] = bulk.batch[i].note;
		reasons[i] = bulk.batch[i].reason;
	}
	v[0] = batch_imeis();
	v[1] = batch_array(TEXTOID, notes, NULL);
	v[2] = Int64GetDatum(bulk.import_id);
	v[3] = batch_array(TEXTOID, reasons, NULL);
	exec_plan(plan_lock_batch, v, NULL);
	if (!exec_transition(plan_blocklist, v, &refusal))
	{
		for (i = 0; i < n; i++)
			apply_blocklist_row(&bulk.batch[i]);
		return;
	}
	result = batch_result("block-list");
	for (i = 0; i < n; i++)
	{
		PendingRow *row = result_row(result, i);

		if (result_bool(result, i, 2))	/* changed */
			settle(row, ROW_LOADED);
		else if (result_mine(result, i, 4))
			settle_duplicate(row);
		else if (result_bool(result, i, 3) && result_bool(result, i, 5))
			settle(row, ROW_PRESENT);	/* blocked already */
		else
			apply_blocklist_row(row);	/* changed meanwhile elsewhere */
	}
}

/*
 * The registry reason of a block-list row: its reason column when that is a
 * code that leads to black (a shipped one, or a site's such as "stolen" by
 * its base: rules.c), else gsma_blocked.  Each value is looked up once per
 * import.
 */
static const char *
blocklist_reason(const char *why)
{
	bool		is_code;
	const char *base;
	int			i;

	if (why == NULL)
		return "gsma_blocked";
	for (i = 0; i < bulk.nreasons; i++)
		if (strcmp(bulk.reasons[i].value, why) == 0)
			return bulk.reasons[i].is_code ? why : "gsma_blocked";
	base = rules_reason_base(why);
	is_code = base != NULL && rules_leads_to(base, ST_BLACK);
	if (bulk.nreasons < MAX_CACHED_REASONS)
	{
		bulk.reasons[bulk.nreasons].value = MemoryContextStrdup(bulk.cxt, why);
		bulk.reasons[bulk.nreasons].is_code = is_code;
		bulk.nreasons++;
	}
	return is_code ? why : "gsma_blocked";
}

/* imei, listed_on, reason: a GSMA block-list match goes black */
static void
load_blocklist(RowResult *r, Relation rel, HeapTuple tuple, TupleDesc desc)
{
	char	   *imei_s = bulk_column(tuple, desc, 1);
	char	   *listed_s = bulk_column(tuple, desc, 2);
	char	   *why = bulk_column(tuple, desc, 3);
	char	   *listed_on;
	char	   *note;
	Imei		imei;
	PendingRow *row;

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
	if (!first_in_import(r, imei))
		return;

	row = queue_row(r, rel, tuple, desc);
	row->imei = imei;
	row->note = batch_text(note);
	row->reason = batch_text(blocklist_reason(why));
}

/*
 * Send the waiting rows to the tables in one statement, and count each.
 * The work of a batch lives in its memory context, reset after it.
 */
static void
flush_batch(void)
{
	MemoryContext old;

	if (bulk.nbatch == 0)
		return;
	old = MemoryContextSwitchTo(bulk.batchcxt);
	if (bulk.target == BULK_CONNECTIONS)
		flush_connections();
	else if (bulk.target == BULK_SIGHTINGS)
		flush_sightings();
	else if (bulk.target == BULK_BLOCKLIST)
		flush_blocklist();
	else if (bulk.target == BULK_DEVICES)
		flush_devices();
	MemoryContextSwitchTo(old);
	bulk.nbatch = 0;
	MemoryContextReset(bulk.batchcxt);
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
 * on a table that only has a target's name, and naming that target as the
 * trigger's argument.  Returns the target.
 */
static BulkTarget
target_trigger(FunctionCallInfo fcinfo, const char *name, bool row, bool before)
{
	TriggerData *trigdata = trigger_data(fcinfo, name);
	BulkTarget	target;
	Trigger    *tg;

	StaticAssertStmt(EXT_UPLOAD_TAC - EXT_FIRST_UPLOAD == BULK_TAC &&
					 EXT_UPLOAD_BLOCKLIST - EXT_FIRST_UPLOAD == BULK_BLOCKLIST &&
					 EXT_UPLOAD_DEVICES - EXT_FIRST_UPLOAD == BULK_DEVICES &&
					 EXT_UPLOAD_SIGHTINGS - EXT_FIRST_UPLOAD == BULK_SIGHTINGS,
					 "upload targets out of step");
	trigger_require(trigdata, name, TRIG_INSERT, before, row);
	target = (BulkTarget) (ext_upload_target(trigdata->tg_relation, name) -
						   EXT_FIRST_UPLOAD);

	/*
	 * The trigger's argument chooses the target; the relation must be that
	 * target (above: by OID and shape, never by a name alone).
	 */
	tg = trigdata->tg_trigger;
	if (tg->tgnargs != 1 || strcmp(tg->tgargs[0], target_name(target)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" of function \"%s\" must name its target, \"%s\", as its one argument",
						tg->tgname, name, target_name(target))));
	return target;
}

PG_FUNCTION_INFO_V1(bulk_import_begin);
Datum
bulk_import_begin(PG_FUNCTION_ARGS)
{
	Relation	rel;
	BulkTarget	target;
	Datum		v[2];
	bool		isnull;

	target = target_trigger(fcinfo, "bulk_import_begin", false, true);
	rel = ((TriggerData *) fcinfo->context)->tg_relation;

	if (bulk.cxt == NULL)
		bulk.cxt = AllocSetContextCreate(TopMemoryContext, "imei_registry import",
										 ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(bulk.cxt);	/* also drops what a failed import left */
	bulk.rowcxt = AllocSetContextCreate(bulk.cxt, "imei_registry import row",
										ALLOCSET_DEFAULT_SIZES);
	bulk.batchcxt = AllocSetContextCreate(bulk.cxt, "imei_registry import batch",
										  ALLOCSET_DEFAULT_SIZES);
	bulk.nbatch = 0;
	bulk.active = false;
	bulk.relid = RelationGetRelid(rel);
	bulk.target = target;
	bulk.atomic = bulk_import_atomic;
	bulk.nread = bulk.nloaded = bulk.nrejected = bulk.npresent = 0;
	bulk.seen = NULL;
	bulk.noperators = 0;
	bulk.nreasons = 0;
	bulk.load_operator = NULL;
	bulk.operators_mixed = false;
	bulk.napplications = 0;
	{
		MemoryContext old = MemoryContextSwitchTo(bulk.cxt);

		initStringInfo(&bulk.quoted);
		MemoryContextSwitchTo(old);
	}

	v[0] = CStringGetTextDatum(target_name(bulk.target));
	v[1] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	bulk_spi_start(rel);
	bulk_spi_ensure();
	prepare_plans();
	exec_plan(plan_open, v, NULL);
	bulk.import_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1, &isnull));
	bulk_spi_close();
	bulk.active = true;
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(bulk_import_row);
Datum
bulk_import_row(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	BulkTarget	target;
	Relation	rel;
	HeapTuple	tuple;
	TupleDesc	desc;
	RowResult	r;
	MemoryContext old;
	bool		too_long;

	target = target_trigger(fcinfo, "bulk_import_row", true, true);
	rel = trigdata->tg_relation;
	tuple = trigdata->tg_trigtuple;
	desc = RelationGetDescr(rel);
	if (!bulk.active || bulk.relid != RelationGetRelid(rel) || bulk.target != target)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"bulk_import_row\" fired without an import open for \"%s\"",
						RelationGetRelationName(rel)),
				 errhint("The target's statement trigger bulk_import_begin() opens it.")));

	bulk.nread++;
	r.outcome = ROW_LOADED;
	r.reason = NULL;
	r.message = NULL;

	old = MemoryContextSwitchTo(bulk.rowcxt);
	bulk_spi_start(rel);
	too_long = row_bytes(tuple, desc) > BULK_ROW_MAX_BYTES;
	if (too_long)
		bulk_reject(&r, "too_long", "the row's values are %lld bytes long; a row has at most %d",
					(long long) row_bytes(tuple, desc), BULK_ROW_MAX_BYTES);
	else
	{
		switch (bulk.target)
		{
			case BULK_CONNECTIONS:
			case BULK_SIGHTINGS:
				load_connection(&r, rel, tuple, desc);
				break;
			case BULK_TAC:
				load_tac(&r, tuple, desc);
				break;
			case BULK_BLOCKLIST:
				load_blocklist(&r, rel, tuple, desc);
				break;
			case BULK_DEVICES:
				load_device(&r, rel, tuple, desc);
				break;
		}
	}
	if (r.outcome == ROW_REJECTED)
		record_reject(current_line(rel), raw_values_clipped(tuple, desc, too_long),
					  r.reason, r.message);
	else if (r.outcome != ROW_PENDING)
		count_accepted(r.outcome);
	else if (bulk.nbatch == BULK_BATCH_ROWS)
		flush_batch();
	bulk_spi_close();
	MemoryContextSwitchTo(old);
	MemoryContextReset(bulk.rowcxt);

	return PointerGetDatum(NULL);	/* the target itself never holds a row */
}

PG_FUNCTION_INFO_V1(bulk_import_end);
Datum
bulk_import_end(PG_FUNCTION_ARGS)
{
	BulkTarget	target;
	Relation	rel;
	Datum		v[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	target = target_trigger(fcinfo, "bulk_import_end", false, false);
	rel = ((TriggerData *) fcinfo->context)->tg_relation;
	if (!bulk.active || bulk.relid != RelationGetRelid(rel) || bulk.target != target)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"bulk_import_end\" fired without an import open for \"%s\"",
						RelationGetRelationName(rel)),
				 errhint("The target's statement trigger bulk_import_begin() opens it.")));
	bulk.active = false;

	bulk_spi_start(rel);
	bulk_spi_ensure();
	flush_batch();

	if (bulk.atomic && bulk.nrejected > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%lld of %lld rows of the import into imei_registry.%s are bad; nothing was loaded",
						(long long) bulk.nrejected, (long long) bulk.nread,
						target_name(bulk.target)),
				 errdetail("%s%s", bulk.quoted.data,
						   bulk.nrejected > BULK_QUOTED_REASONS ? "\n..." : ""),
				 errhint("Fix the rows, or set imei_registry.import_atomic to off to load the good rows and keep the bad ones in imei_registry.import_rejects.")));

	v[0] = Int64GetDatum(bulk.import_id);
	v[1] = Int64GetDatum(bulk.nread);
	v[2] = Int64GetDatum(bulk.nloaded);
	v[3] = Int64GetDatum(bulk.nrejected);
	v[4] = Int64GetDatum(bulk.npresent);
	v[5] = bulk.load_operator ? CStringGetTextDatum(bulk.load_operator) : (Datum) 0;
	nulls[5] = bulk.load_operator ? ' ' : 'n';
	exec_plan(plan_close, v, nulls);
	bulk_spi_close();

	ereport(NOTICE,
			(errmsg("import %lld into imei_registry.%s: %lld rows read, %lld loaded (%lld already present), %lld rejected",
					(long long) bulk.import_id, target_name(bulk.target),
					(long long) bulk.nread, (long long) bulk.nloaded,
					(long long) bulk.npresent, (long long) bulk.nrejected)));

	MemoryContextReset(bulk.cxt);
	bulk.seen = NULL;
	return PointerGetDatum(NULL);
}
