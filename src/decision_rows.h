/*
 * decision_rows.h
 *		The rows a decision writes, imei_registry.decision_row
 *		(decision_rows.c), as decision_facts.c makes them and
 *		decision_rows_placed() gives them their devices.
 */
#ifndef IMEI_REGISTRY_DECISION_ROWS_H
#define IMEI_REGISTRY_DECISION_ROWS_H

#include "postgres.h"

#include "access/tupdesc.h"

/* The attribute of decision_row by name (and type, unless InvalidOid), or an error */
extern int	decision_row_attribute(TupleDesc desc, const char *name, Oid type);

#endif
