/*
 * imei.h
 *		The imei and imeisv types: an int64 holding the decimal digits.
 */
#ifndef IMEI_REGISTRY_IMEI_H
#define IMEI_REGISTRY_IMEI_H

#include "postgres.h"
#include "fmgr.h"
#include "nodes/nodes.h"

typedef int64 Imei;				/* 15 digits: TAC, serial, check digit */
typedef int64 Imeisv;			/* 16 digits: TAC, serial, software version */

#define DatumGetImei(X)		((Imei) DatumGetInt64(X))
#define ImeiGetDatum(X)		Int64GetDatum(X)
#define PG_GETARG_IMEI(n)	DatumGetImei(PG_GETARG_DATUM(n))
#define PG_RETURN_IMEI(x)	return ImeiGetDatum(x)

/*
 * Parse what networks report (14-digit body, 15 digits with a check digit
 * or a spare 0, or a 16-digit IMEISV) into an IMEI.  Returns false after
 * errsave() into escontext when the input is not such a form.
 */
extern bool imei_from_network_cstring(const char *str, Imei *result,
									  Node *escontext);

#endif							/* IMEI_REGISTRY_IMEI_H */
