/*
 * registry_insert.h
 *		New registry rows through the multi-insert path (registry_insert.c).
 */
#ifndef IMEI_REGISTRY_REGISTRY_INSERT_H
#define IMEI_REGISTRY_REGISTRY_INSERT_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "imei.h"
#include "rules.h"

/*
 * Insert the first connections of n IMEIs that the registry did not know
 * (operators[i]: text), as import_id (0: none), each by the entry of the
 * rules for a
 * first connection at at[i].  False, with nothing written, when another
 * session inserted one of them meanwhile or the registry is not one this
 * path may write: the caller takes the ON CONFLICT path.  status (if not
 * NULL): of each row, the status it was written with (0: a trigger kept it
 * out).
 */
extern bool registry_insert_new(int n, const Imei *imeis, const TimestampTz *at,
								const Datum *operators, int64 import_id,
								Datum *status);

/*
 * A new registry row of another load (the block list): status and reason
 * (text), and what else it has (0, false: none).  The transition trigger
 * checks it against the rules as for any INSERT.
 */
typedef struct RegistryNewRow
{
	Imei		imei;
	RegStatus	status;
	Datum		reason;			/* text */
	bool		has_first_seen;
	TimestampTz first_seen_at;
	Datum		operator;		/* text, 0: none */
	Datum		note;			/* text, 0: none */
} RegistryNewRow;

/* registry_insert_new() for such rows */
extern bool registry_insert_rows(int n, const RegistryNewRow *rows, int64 import_id,
								 Datum *status);

#endif							/* IMEI_REGISTRY_REGISTRY_INSERT_H */
