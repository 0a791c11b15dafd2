/*
 * bulk_sightings.h
 *		The upload_sightings target's own part (bulk_sightings.c): the
 *		subscriber columns of a row, and the sightings of a batch.
 */
#ifndef IMEI_REGISTRY_BULK_SIGHTINGS_H
#define IMEI_REGISTRY_BULK_SIGHTINGS_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "datatype/timestamp.h"

#include "bulk_check.h"
#include "imei.h"

/* The subscriber of a report: none, or an IMSI with or without an MSISDN */
typedef struct Subscriber
{
	bool		has_imsi;
	bool		home;			/* no IMSI, or a home network's */
	int64		imsi;
	int64		msisdn;			/* 0: none */
} Subscriber;

/*
 * Columns imsi and msisdn of an upload_sightings row.  Rejects: bad_imsi,
 * bad_msisdn, missing_value (an MSISDN without its IMSI).
 */
extern bool sightings_parse_subscriber(RowResult *r, HeapTuple tuple, TupleDesc desc,
									   Subscriber *sub);

/*
 * The sightings of n reports with an IMSI, by record_sightings()'s writer
 * (sightings_write.c), or by record_sightings() in the caller's SPI
 * connection for a table that writer does not write; no (IMEI, IMSI,
 * MSISDN, operator) twice.  changed[i]: report i set a new day.
 */
extern void sightings_record(Oid imei_type, int n, const Imei *imeis,
							 const Subscriber *subs, const Datum *operators,
							 const TimestampTz *ats, bool *changed);

#endif							/* IMEI_REGISTRY_BULK_SIGHTINGS_H */
