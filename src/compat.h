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
 * The index entries of a tuple written outside the executor's ModifyTable:
 * ExecInsertIndexTuples() read the result relation from the EState and had
 * no update flag before PostgreSQL 14, and gained onlySummarizing (an
 * update that changed only summarizing indexes' columns) in 16.  No
 * deferred uniqueness, no arbiter indexes.  insert_index_tuples() is the
 * common case, a tuple just inserted.  The caller includes
 * executor/executor.h.
 */
#if PG_VERSION_NUM >= 160000
#define exec_index_tuples(rri, slot, estate, update, only_summarizing) \
	ExecInsertIndexTuples((rri), (slot), (estate), (update), false, NULL, NIL, \
						  (only_summarizing))
#elif PG_VERSION_NUM >= 140000
#define exec_index_tuples(rri, slot, estate, update, only_summarizing) \
	ExecInsertIndexTuples((rri), (slot), (estate), (update), false, NULL, NIL)
#else
#define exec_index_tuples(rri, slot, estate, update, only_summarizing) \
	((estate)->es_result_relation_info = (rri), \
	 ExecInsertIndexTuples((slot), (estate), false, NULL, NIL))
#endif
#define insert_index_tuples(rri, slot, estate) \
	exec_index_tuples((rri), (slot), (estate), false, false)

/*
 * Is the current user the owner of a relation (or a superuser)?  The
 * per-catalog ownercheck functions became object_ownercheck() in 16.  The
 * caller includes utils/acl.h.
 */
#if PG_VERSION_NUM >= 160000
#define rel_ownercheck(relid)	object_ownercheck(RelationRelationId, (relid), GetUserId())
#else
#define rel_ownercheck(relid)	pg_class_ownercheck((relid), GetUserId())
#endif

#endif							/* IMEI_REGISTRY_COMPAT_H */
