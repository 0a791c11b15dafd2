/*
 * registry_insert.h
 *		New registry rows through the multi-insert path (registry_insert.c).
 */
#ifndef IMEI_REGISTRY_REGISTRY_INSERT_H
#define IMEI_REGISTRY_REGISTRY_INSERT_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "imei.h"

/*
 * Insert the first connections of n IMEIs that the registry did not know
 * (operators[i]: text), as import_id (0: none), each by the entry of the
 * rules for a
 * first connection at at[i].  False, with nothing written, when another
 * session inserted one of them meanwhile or the registry is not one this
 * path may write: the caller takes the ON CONFLICT path.
 */
extern bool registry_insert_new(int n, const Imei *imeis, const TimestampTz *at,
								const Datum *operators, int64 import_id);

#endif							/* IMEI_REGISTRY_REGISTRY_INSERT_H */
