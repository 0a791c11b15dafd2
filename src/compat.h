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

/*
 * The index entries of a tuple just inserted by heap multi-insert (no
 * update, no deferred uniqueness): ExecInsertIndexTuples() read the result
 * relation from the EState before PostgreSQL 14 and gained onlySummarizing
 * in 16.  The caller includes executor/executor.h.
 */
#if PG_VERSION_NUM >= 160000
#define insert_index_tuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL, false)
#elif PG_VERSION_NUM >= 140000
#define insert_index_tuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL)
#else
#define insert_index_tuples(rri, slot, estate) \
	((estate)->es_result_relation_info = (rri), \
	 ExecInsertIndexTuples((slot), (estate), false, NULL, NIL))
#endif

#endif							/* IMEI_REGISTRY_COMPAT_H */
