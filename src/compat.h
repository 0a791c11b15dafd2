/*
 * compat.h
 *		Shims so that one source compiles on PostgreSQL 13 to 17.
 */
#ifndef IMEI_REGISTRY_COMPAT_H
#define IMEI_REGISTRY_COMPAT_H

#include "postgres.h"

/*
 * The varlena macros (VARDATA_ANY, VARSIZE_ANY_EXHDR, ...) moved out of
 * postgres.h into varatt.h in PostgreSQL 16.
 */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * Soft input errors (pg_input_is_valid) arrived in PostgreSQL 16.  Before
 * that, errsave() is simply ereport(ERROR).
 */
#if PG_VERSION_NUM < 160000
#define errsave(context, ...)	ereport(ERROR, __VA_ARGS__)
#else
#include "nodes/miscnodes.h"
#endif

/*
 * A check hook's *extra: GUC frees it with free() before PostgreSQL 16 and
 * with guc_free() (a pfree in GUC's own memory context) from 16 on, so it
 * must come from the matching allocator.  NULL when out of memory.
 */
#if PG_VERSION_NUM >= 160000
#include "utils/guc.h"
#define guc_extra_malloc(size)	guc_malloc(LOG, (size))
#else
#define guc_extra_malloc(size)	malloc(size)
#endif

#endif							/* IMEI_REGISTRY_COMPAT_H */
