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
 */
#include "compat.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

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
