/*
 * bulk_connections.c
 *		imei_registry.upload_connections: operators' first-connection
 *		reports (operator, imei, connected_at), each like a call of
 *		report_connection(), the earliest connection winning; and the part
 *		of a report that upload_sightings (bulk_sightings.c) shares.
 *
 * A batch of reports goes to the registry in three ways, cheapest first
 * (report_flush): a known IMEI whose first connection is as early or
 * earlier is answered by one probe of the registry's key
 * (registry_probe.c) and goes no further; unknown IMEIs go through the
 * multi-insert path (registry_insert.c), the registry's triggers included;
 * the rest, and all of them if another session inserted one meanwhile, go
 * to record_connections() (120_registry_functions.sql), what
 * report_connection() runs, in one statement with this import as the
 * cause.
 *
 * No IMEI is twice in one batch: a line whose IMEI waits in the batch sends
 * the batch first, so that each line meets the registry as the earlier
 * lines left it.  The seen set holds the IMEIs of one batch only: a later
 * line of the same IMEI meets the registry in a later batch, which answers
 * for it like for any report.
 */
#include "compat.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bulk_connections.h"
#include "grey.h"
#include "registry_insert.h"
#include "registry_probe.h"

/* Operators already looked up in this load */
typedef struct KnownOperator
{
	char	   *code;
	Datum		text;			/* code as text, for the load's rows */
	bool		exists;
	bool		mine;			/* the session user may load as it */
} KnownOperator;

#define MAX_CACHED_OPERATORS 64

typedef struct ReportState
{
	KnownOperator operators[MAX_CACHED_OPERATORS];
	int			noperators;
} ReportState;

void
report_begin(BulkLoad *load)
{
	load->private = palloc0(sizeof(ReportState));
}

/* ---- statements ---- */

static SPIPlanPtr
plan_operator(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {TEXTOID};

		bulk_plan_prepare(&plan, "SELECT 1 FROM imei_registry.operators"
						  " WHERE code OPERATOR(pg_catalog.=) $1", 1, a);
	}
	return plan.plan;
}

static SPIPlanPtr
plan_operator_mine(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {TEXTOID};

		bulk_plan_prepare(&plan, "SELECT imei_registry.operator_is_mine($1)", 1, a);
	}
	return plan.plan;
}

/*
 * A batch of connections, no IMEI twice: what report_connection() does,
 * set-wise, with this import as the cause.  For each row: was it
 * inserted, did it change a known row.
 */
static SPIPlanPtr
plan_connections(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {bulk_imei_array_type(), TEXTARRAYOID,
			TIMESTAMPTZARRAYOID, INT8OID};

		bulk_plan_prepare(&plan, "SELECT ord, inserted, changed"
						  " FROM imei_registry.record_connections($1, $2, $3, $4)",
						  4, a);
	}
	return plan.plan;
}

/* ---- a row ---- */

/*
 * Is there such an operator, and may the session user load as it
 * (imei_registry.operator_is_mine(), the rule report_connection() applies
 * too)?
 */
static bool
operator_exists(BulkLoad *load, const char *code, bool *mine, Datum *text)
{
	ReportState *state = (ReportState *) load->private;
	int			i;
	bool		exists;
	bool		isnull;
	Datum		v[1];

	for (i = 0; i < state->noperators; i++)
		if (strcmp(state->operators[i].code, code) == 0)
		{
			*mine = state->operators[i].mine;
			*text = state->operators[i].text;
			return state->operators[i].exists;
		}
	*text = (Datum) 0;
	v[0] = CStringGetTextDatum(code);
	bulk_exec(plan_operator(), v, NULL);
	exists = SPI_processed > 0;
	*mine = false;
	if (exists)
	{
		bulk_exec(plan_operator_mine(), v, NULL);
		*mine = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1, &isnull));
	}
	if (state->noperators < MAX_CACHED_OPERATORS)
	{
		KnownOperator *k = &state->operators[state->noperators++];

		MemoryContext old = MemoryContextSwitchTo(load->cxt);

		k->code = pstrdup(code);
		k->text = CStringGetTextDatum(code);
		MemoryContextSwitchTo(old);
		*text = k->text;
		k->exists = exists;
		k->mine = *mine;
	}
	return exists;
}

bool
report_parse(RowResult *r, HeapTuple tuple, TupleDesc desc, ReportValues *v)
{
	char	   *imei_s = bulk_column(tuple, desc, 2);
	char	   *at_s = bulk_column(tuple, desc, 3);
	const char *problem;

	v->operator = bulk_column(tuple, desc, 1);
	if (!bulk_require(r, v->operator, "operator") || !bulk_require(r, imei_s, "imei") ||
		!bulk_require(r, at_s, "connected_at") ||
		!bulk_parse_imei(r, imei_s, true, &v->imei) ||
		!bulk_parse_timestamptz(r, at_s, "connected_at", &v->at))
		return false;
	if ((problem = connection_time_problem(v->at)) != NULL)
	{
		bulk_reject(r, "bad_date", "connected_at \"%s\" is not a plausible time of connection: %s",
					at_s, problem);
		return false;
	}
	return true;
}

ReportRow *
report_queue(BulkLoad *load, RowResult *r, HeapTuple tuple, TupleDesc desc,
			 const ReportValues *v)
{
	ReportRow  *row;
	bool		mine;
	Datum		operator;

	if (!operator_exists(load, v->operator, &mine, &operator))
	{
		bulk_reject(r, "unknown_operator", "operator \"%s\" is not in imei_registry.operators",
					v->operator);
		return NULL;
	}
	if (!mine)
	{
		bulk_reject(r, "operator_not_yours",
					"login \"%s\" may not load rows of operator \"%s\" (imei_registry.operator_roles)",
					GetUserNameFromId(GetSessionUserId(), false), v->operator);
		return NULL;
	}
	/* an IMEI waiting in the batch: send the batch first */
	if (bulk_seen_before(load, v->imei))
		bulk_flush_batch(load);

	row = (ReportRow *) bulk_queue_row(load, r, tuple, desc, 1, &v->imei);
	row->imei = v->imei;
	row->at = v->at;
	/* the load's text of a known operator, else one for the batch */
	row->operator = operator ? operator : bulk_batch_text(load, v->operator);
	return row;
}

static void
load_connection(BulkLoad *load, RowResult *r, HeapTuple tuple, TupleDesc desc)
{
	ReportValues v;

	if (report_parse(r, tuple, desc, &v))
		(void) report_queue(load, r, tuple, desc, &v);
}

/* ---- a batch ---- */

void
report_settle(BulkLoad *load, ReportRow *row, RowOutcome outcome)
{
	bulk_note_operator(load, row->operator);
	bulk_settle(load, &row->base, outcome);
	bulk_forget_row(load, &row->base);
}

/*
 * A batch of reports goes to the registry in IMEI order, whatever the order
 * of the file: two writers that take the locks of the same rows in the
 * same order wait for one another instead of deadlocking (a deadlock would
 * abort the whole COPY).
 */
#if PG_VERSION_NUM < 140000
static int
report_imei_cmp(const void *a, const void *b)
{
	Imei		x = (*(ReportRow *const *) a)->imei;
	Imei		y = (*(ReportRow *const *) b)->imei;

	return (x > y) - (x < y);
}
#endif

#if PG_VERSION_NUM >= 140000
/* ... with the comparison inlined (a fifth of the sort's cost was the calls) */
typedef ReportRow *ReportRowPtr;

#define ST_SORT sort_report_rows
#define ST_ELEMENT_TYPE ReportRowPtr
#define ST_COMPARE(a, b) (((*(a))->imei > (*(b))->imei) - ((*(a))->imei < (*(b))->imei))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"
#endif

/* The rows are sorted by pointer: swapping whole rows cost more than the sort */
ReportRow **
report_sorted_batch(BulkLoad *load)
{
	ReportRow **rows = palloc(load->nbatch * sizeof(ReportRow *));

	for (int i = 0; i < load->nbatch; i++)
		rows[i] = (ReportRow *) bulk_batch_row(load, i);
#if PG_VERSION_NUM >= 140000
	sort_report_rows(rows, load->nbatch);
#else
	qsort(rows, load->nbatch, sizeof(ReportRow *), report_imei_cmp);
#endif
	return rows;
}

void
report_flush(BulkLoad *load, ReportRow **batch, int n)
{
	Imei	   *imeis = palloc(n * sizeof(Imei));
	RegistryProbe *probes = palloc(n * sizeof(RegistryProbe));
	ReportRow **rows = palloc(n * sizeof(ReportRow *));
	ReportRow **fresh = palloc(n * sizeof(ReportRow *));
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

	/* known, and the report changes nothing: already present */
	registry_probe_first_seen(imeis, n, probes);
	for (i = 0; i < n; i++)
	{
		ReportRow  *row = batch[i];

		if (!probes[i].known)
		{
			fresh[nfresh] = row;
			fresh_imeis[nfresh] = row->imei;
			fresh_ats[nfresh] = row->at;
			ops[nfresh] = row->operator;
			nfresh++;
		}
		else if (registry_report_changes_nothing(&probes[i], row->at))
			report_settle(load, row, row->sighted ? ROW_LOADED : ROW_PRESENT);
		else
			rows[m++] = row;
	}

	/* unknown: the multi-insert path, unless another session has one */
	if (nfresh > 0)
	{
		bulk_spi_ensure();		/* the registry's triggers run as its owner */
		if (registry_insert_new(nfresh, fresh_imeis, fresh_ats, ops, load->import_id, NULL))
		{
			for (i = 0; i < nfresh; i++)
				report_settle(load, fresh[i], ROW_LOADED);
		}
		else
			for (i = 0; i < nfresh; i++)
				rows[m++] = fresh[i];
	}

	/* the rest: record_connections() */
	if (m == 0)
		return;
	for (i = 0; i < m; i++)
	{
		imei_d[i] = ImeiGetDatum(rows[i]->imei);
		ops[i] = rows[i]->operator;
		ats[i] = TimestampTzGetDatum(rows[i]->at);
	}
	v[0] = bulk_array(bulk_imei_type(), imei_d, NULL, m);
	v[1] = bulk_array(TEXTOID, ops, NULL, m);
	v[2] = bulk_array(TIMESTAMPTZOID, ats, NULL, m);
	v[3] = Int64GetDatum(load->import_id);
	bulk_exec(plan_connections(), v, NULL);
	if (SPI_processed != (uint64) m)
		elog(ERROR, "connection batch of %d rows returned %llu",
			 m, (unsigned long long) SPI_processed);
	result = SPI_tuptable;
	for (i = 0; i < m; i++)
	{
		bool		isnull;
		ReportRow  *row = rows[DatumGetInt64(SPI_getbinval(result->vals[i], result->tupdesc,
														   1, &isnull)) - 1];

		if (bulk_result_bool(result, i, 2) || bulk_result_bool(result, i, 3) ||	/* inserted, changed */
			row->sighted)
			report_settle(load, row, ROW_LOADED);
		else
			report_settle(load, row, ROW_PRESENT);
	}
}

static void
flush_connections(BulkLoad *load)
{
	report_flush(load, report_sorted_batch(load), load->nbatch);
}

const BulkTargetRoutine bulk_connections_target = {
	.name = "upload_connections",
	.relation = EXT_UPLOAD_CONNECTIONS,
	.ncolumns = 3,
	.row_size = sizeof(ReportRow),
	.keep_raw = false,			/* a report is never rejected once valid */
	.begin = report_begin,
	.load_row = load_connection,
	.flush = flush_connections
};
