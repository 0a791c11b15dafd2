/*
 * compat.h
 *		Shims so that one source compiles on PostgreSQL 13 to 17.
 */
#ifndef IMEI_REGISTRY_COMPAT_H
#define IMEI_REGISTRY_COMPAT_H

#include "postgres.h"

/*
 * Soft input errors (pg_input_is_valid) arrived in PostgreSQL 16.  Before
 * that, errsave() is simply ereport(ERROR).
 */
#if PG_VERSION_NUM < 160000
#define errsave(context, ...)	ereport(ERROR, __VA_ARGS__)
#else
#include "nodes/miscnodes.h"
#endif

/* The varlena macros (VARDATA_ANY, ...) left postgres.h in PostgreSQL 16. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#endif							/* IMEI_REGISTRY_COMPAT_H */
