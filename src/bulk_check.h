/*
 * bulk_check.h
 *		Checks of the values of an uploaded row (bulk_check.c).
 */
#ifndef IMEI_REGISTRY_BULK_CHECK_H
#define IMEI_REGISTRY_BULK_CHECK_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "datatype/timestamp.h"

#include "imei.h"

/* What happened to one row */
typedef enum RowOutcome
{
	ROW_LOADED,					/* applied: the registry now says what the row says */
	ROW_PRESENT,				/* accepted, but the registry said so already */
	ROW_REJECTED,
	ROW_PENDING					/* valid, queued for the next batch */
} RowOutcome;

typedef struct RowResult
{
	RowOutcome	outcome;
	const char *reason;			/* import_reject_reasons.code when rejected */
	char	   *message;
} RowResult;


/* Mark the row rejected: reason code and message. */
extern void bulk_reject(RowResult *r, const char *reason, const char *fmt,...) pg_attribute_printf(3, 4);

/* The most columns a target has (upload_devices, upload_sightings: 6) */
#define BULK_MAX_COLUMNS 8

/*
 * The row being checked, taken apart once (the engine brackets each row
 * with these); bulk_row_value() and bulk_column() read it from there, any
 * other tuple by heap_getattr().
 */
extern void bulk_row_begin(HeapTuple tuple, TupleDesc desc);
extern void bulk_row_end(void);
extern Datum bulk_row_value(HeapTuple tuple, TupleDesc desc, int attnum, bool *isnull);

/* A column's value without surrounding blanks; NULL for NULL or blank. */
extern char *bulk_column(HeapTuple tuple, TupleDesc desc, int attnum);

/* false (row rejected: missing_value) when value is NULL */
extern bool bulk_require(RowResult *r, const char *value, const char *column);

/*
 * An IMEI: strict 15 digits, or with network the forms networks report
 * (14-digit body, 15 digits with a check digit or a spare 0, 16-digit
 * IMEISV).  Rejects: non_digits, wrong_length, bad_check_digit,
 * leading_zero_lost.
 */
extern bool bulk_parse_imei(RowResult *r, const char *s, bool network, Imei *result);

/* A timestamp or date (as ISO text); rejects: bad_date. */
extern bool bulk_parse_timestamptz(RowResult *r, const char *s, const char *column,
								   TimestampTz *result);
extern bool bulk_parse_date(RowResult *r, const char *s, const char *column, char **result);

#endif							/* IMEI_REGISTRY_BULK_CHECK_H */
