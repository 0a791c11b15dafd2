/*
 * bulk_connections.h
 *		Operators' reports as upload_connections loads them
 *		(bulk_connections.c): the part that upload_sightings (bulk_sightings.c)
 *		shares.
 */
#ifndef IMEI_REGISTRY_BULK_CONNECTIONS_H
#define IMEI_REGISTRY_BULK_CONNECTIONS_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "bulk_target.h"
#include "imei.h"

/* A report waiting in the batch; upload_sightings' row starts with it */
typedef struct ReportRow
{
	BulkRow		base;			/* key: the IMEI */
	Imei		imei;
	TimestampTz at;
	Datum		operator;		/* text */
	bool		sighted;		/* upload_sightings: its sighting set a new day */
} ReportRow;

/* The columns operator, imei, connected_at of a report, checked */
typedef struct ReportValues
{
	char	   *operator;
	Imei		imei;
	TimestampTz at;
} ReportValues;

/* The targets' state of a load: the operators looked up (bulk_connections.c) */
extern void report_begin(BulkLoad *load);

/*
 * Columns 1 to 3 of a report; rejects: missing_value, the IMEI's and the
 * time's (bad_date, also for a time no connection can have).
 */
extern bool report_parse(RowResult *r, HeapTuple tuple, TupleDesc desc, ReportValues *v);

/*
 * The operator of a parsed report (rejects: unknown_operator,
 * operator_not_yours), then the report queued: NULL if rejected.
 */
extern ReportRow *report_queue(BulkLoad *load, RowResult *r, HeapTuple tuple,
							   TupleDesc desc, const ReportValues *v);

/*
 * Send n waiting reports to the registry, and settle each: loaded
 * (inserted, or a known IMEI whose first connection it moved earlier or
 * set, or row->sighted) or already present.
 */
extern void report_flush(BulkLoad *load, ReportRow **rows, int n);

/*
 * The batch's reports sorted by IMEI (the order the registry is written in),
 * as an array of pointers into the batch (a row of upload_sightings starts
 * with its ReportRow).
 */
extern ReportRow **report_sorted_batch(BulkLoad *load);

/* Settle a report: it names its operator, and leaves the seen set */
extern void report_settle(BulkLoad *load, ReportRow *row, RowOutcome outcome);

#endif							/* IMEI_REGISTRY_BULK_CONNECTIONS_H */
