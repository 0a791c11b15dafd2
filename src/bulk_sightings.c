/*
 * bulk_sightings.c
 *		imei_registry.upload_sightings: operators' reports with the
 *		subscriber, a COPY target like upload_connections (bulk.c) with two
 *		more columns, imsi and msisdn.
 *
 * A row is a report (operator, imei, connected_at) checked as
 * upload_connections checks it, then its subscriber here.  A row without
 * an IMSI, or with a home network's (imei_registry.home_mccs), is a
 * connection as upload_connections loads it; every row with an IMSI sets
 * its local day in sightings (record_sightings(), 130_sightings.sql, the
 * one writer, shared with report_connection()).  A visitor's row touches
 * nothing else.  The row is loaded if either changed something, already
 * present if neither did.
 *
 * The target's routine is at the end of this file; the check of the first
 * three columns and the connections of a batch are upload_connections'
 * (bulk_connections.c).
 */
#include "compat.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "bulk_connections.h"
#include "bulk_sightings.h"
#include "sightings_write.h"
#include "subscriber.h"

bool
sightings_parse_subscriber(RowResult *r, HeapTuple tuple, TupleDesc desc,
						   Subscriber *sub)
{
	char	   *imsi_s = bulk_column(tuple, desc, 4);
	char	   *msisdn_s = bulk_column(tuple, desc, 5);
	char	   *why;

	sub->has_imsi = false;
	sub->home = true;
	sub->imsi = 0;
	sub->msisdn = 0;
	if (imsi_s == NULL)
	{
		if (msisdn_s != NULL)
		{
			bulk_reject(r, "missing_value",
						"imsi is empty, msisdn is \"%s\": an MSISDN is stored with its IMSI", msisdn_s);
			return false;
		}
		return true;			/* a home connection, no sighting */
	}
	if ((why = subscriber_parse_imsi(imsi_s, &sub->imsi)) != NULL)
	{
		bulk_reject(r, "bad_imsi", "%s", why);
		return false;
	}
	if (msisdn_s != NULL &&
		(why = subscriber_parse_msisdn(msisdn_s, &sub->msisdn)) != NULL)
	{
		bulk_reject(r, "bad_msisdn", "%s", why);
		return false;
	}
	sub->has_imsi = true;
	sub->home = imsi_is_home_value(sub->imsi);
	return true;
}

static Oid	plan_imei_type = InvalidOid;
static SPIPlanPtr plan_sightings = NULL;

static Datum
int8_array(const Datum *elems, const bool *nulls, int n, Oid type)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	return PointerGetDatum(construct_md_array((Datum *) elems, (bool *) nulls, 1, dims, lbs,
											  type, sizeof(int64), FLOAT8PASSBYVAL,
											  TYPALIGN_DOUBLE));
}

void
sightings_record(Oid imei_type, int n, const Imei *imeis, const Subscriber *subs,
				 const Datum *operators, const TimestampTz *ats, bool *changed)
{
	Datum	   *d_imei = palloc(n * sizeof(Datum));
	Datum	   *d_imsi = palloc(n * sizeof(Datum));
	Datum	   *d_msisdn = palloc(n * sizeof(Datum));
	Datum	   *d_at = palloc(n * sizeof(Datum));
	int64	   *imsis = palloc(n * sizeof(int64));
	int64	   *msisdns = palloc(n * sizeof(int64));
	int			dims[1] = {n};
	int			lbs[1] = {1};
	Datum		v[5];
	int			rc;
	uint64		i;

	/* record_sightings()'s own path, straight from here (sightings_write.c) */
	for (i = 0; i < (uint64) n; i++)
	{
		imsis[i] = subs[i].imsi;
		msisdns[i] = subs[i].msisdn;	/* 0: none */
	}
	if (sightings_write(n, imeis, imsis, msisdns, operators, ats, changed))
		return;

	if (plan_sightings == NULL || plan_imei_type != imei_type)
	{
		Oid			a[] = {get_array_type(imei_type), INT8ARRAYOID, INT8ARRAYOID,
			TEXTARRAYOID, TIMESTAMPTZARRAYOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("SELECT ord FROM imei_registry.record_sightings($1, $2, $3, $4, $5)",
						   5, a);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the sightings statement: %s",
				 SPI_result_code_string(SPI_result));
		if (plan_sightings != NULL)
			SPI_freeplan(plan_sightings);
		plan_sightings = plan;
		plan_imei_type = imei_type;
	}
	for (i = 0; i < (uint64) n; i++)
	{
		d_imei[i] = ImeiGetDatum(imeis[i]);
		d_imsi[i] = Int64GetDatum(subs[i].imsi);
		d_msisdn[i] = Int64GetDatum(subs[i].msisdn);	/* 0: none */
		d_at[i] = TimestampTzGetDatum(ats[i]);
		changed[i] = false;
	}
	v[0] = int8_array(d_imei, NULL, n, imei_type);
	v[1] = int8_array(d_imsi, NULL, n, INT8OID);
	v[2] = int8_array(d_msisdn, NULL, n, INT8OID);
	v[3] = PointerGetDatum(construct_md_array((Datum *) operators, NULL, 1, dims, lbs,
											  TEXTOID, -1, false, TYPALIGN_INT));
	v[4] = int8_array(d_at, NULL, n, TIMESTAMPTZOID);
	rc = SPI_execute_plan(plan_sightings, v, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		ord = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
													  SPI_tuptable->tupdesc, 1, &isnull));

		if (ord < 1 || ord > n)
			elog(ERROR, "record_sightings() returned position %lld of %d",
				 (long long) ord, n);
		changed[ord - 1] = true;
	}
}

/* ---- the target ---- */

/* A row of upload_sightings in the batch */
typedef struct SightingRow
{
	ReportRow	report;			/* first: a connection to report_flush() */
	Subscriber	sub;
} SightingRow;

/*
 * operator, imei, connected_at, imsi, msisdn: checked as upload_connections
 * checks its columns, the subscriber between the time and the operator.
 */
static void
load_sighting(BulkLoad *load, RowResult *r, HeapTuple tuple, TupleDesc desc)
{
	ReportValues v;
	Subscriber	sub;
	SightingRow *row;

	if (!report_parse(r, tuple, desc, &v) ||
		!sightings_parse_subscriber(r, tuple, desc, &sub))
		return;
	row = (SightingRow *) report_queue(load, r, tuple, desc, &v);
	if (row != NULL)
		row->sub = sub;
}

/*
 * A batch of upload_sightings: the sightings of the rows with an IMSI in
 * one statement (sightings_record()), then the home subscribers' rows and
 * those without an IMSI as connections.  A visitor's row is loaded if its
 * sighting set a new day, else already present.  No IMEI twice in a batch,
 * so no sighting's key either.
 */
static void
flush_sightings(BulkLoad *load)
{
	int			n = load->nbatch;
	Imei	   *imeis = palloc(n * sizeof(Imei));
	Subscriber *subs = palloc(n * sizeof(Subscriber));
	Datum	   *ops = palloc(n * sizeof(Datum));
	TimestampTz *ats = palloc(n * sizeof(TimestampTz));
	bool	   *changed = palloc(n * sizeof(bool));
	SightingRow **with_imsi = palloc(n * sizeof(SightingRow *));
	ReportRow **home = palloc(n * sizeof(ReportRow *));
	SightingRow **sorted = (SightingRow **) report_sorted_batch(load);
	int			m = 0;
	int			h = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		SightingRow *row = sorted[i];

		row->report.sighted = false;
		if (!row->sub.has_imsi)
			continue;
		with_imsi[m] = row;
		imeis[m] = row->report.imei;
		subs[m] = row->sub;
		ops[m] = row->report.operator;
		ats[m] = row->report.at;
		m++;
	}
	if (m > 0)
	{
		bulk_spi_ensure();
		sightings_record(bulk_imei_type(), m, imeis, subs, ops, ats, changed);
		for (i = 0; i < m; i++)
			with_imsi[i]->report.sighted = changed[i];
	}
	for (i = 0; i < n; i++)
	{
		SightingRow *row = sorted[i];

		if (row->sub.home)
			home[h++] = &row->report;
		else
			report_settle(load, &row->report,
						  row->report.sighted ? ROW_LOADED : ROW_PRESENT);
	}
	report_flush(load, home, h);
}

const BulkTargetRoutine bulk_sightings_target = {
	.name = "upload_sightings",
	.relation = EXT_UPLOAD_SIGHTINGS,
	.ncolumns = 5,
	.row_size = sizeof(SightingRow),
	.keep_raw = false,			/* a report is never rejected once valid */
	.begin = report_begin,
	.load_row = load_sighting,
	.flush = flush_sightings
};
