/*
 * key_probe.h
 *		A table read by the key of one of its btrees with the index AM: no
 *		statement, no plan.  The table and the index are opened by OID, one
 *		scan is begun and rescanned for each key, its rows come into a slot
 *		or, for a heap table, as tuples on their pinned pages, and all is
 *		closed.  The caller checks that the index is the one it takes it
 *		for, between the two openings, and owns the snapshot.
 *
 * Inline: check_imei() probes through it at the cost of a bare primary-key
 * lookup (bench/calls_callgrind.sh), which calls across files would not
 * keep; key_probe.c makes the scan key.
 */
#ifndef IMEI_REGISTRY_KEY_PROBE_H
#define IMEI_REGISTRY_KEY_PROBE_H

#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

typedef struct KeyProbe
{
	Relation	rel;			/* NULL: not opened (key_probe_close skips it) */
	Relation	idx;
	IndexScanDesc scan;
	TupleTableSlot *slot;		/* NULL unless key_probe_begin made one */
	ScanKeyData key;			/* equality on the index's first column */
} KeyProbe;

/*
 * The scan key of equality by key_probe_made.sk_func on an index's first
 * column, its argument unset: made once per backend (key_probe.c), and
 * again for another function.
 */
extern ScanKeyData key_probe_made;
extern void key_probe_make_key(RegProcedure eqproc);

/* The table, locked with lockmode; then its index */
static inline Relation
key_probe_open_table(KeyProbe *p, Oid relid, LOCKMODE lockmode)
{
	p->rel = table_open(relid, lockmode);
	return p->rel;
}

static inline Relation
key_probe_open_index(KeyProbe *p, Oid indexid, LOCKMODE lockmode)
{
	p->idx = index_open(indexid, lockmode);
	return p->idx;
}

/*
 * The scan, with the snapshot (the caller's, registered as long as the
 * scan is used) and the key's equality function eqproc (F_INT8EQ for the
 * int8-like keys), and a slot for key_probe_first/next if with_slot.
 */
static inline void
key_probe_begin(KeyProbe *p, Snapshot snapshot, RegProcedure eqproc, bool with_slot)
{
	if (key_probe_made.sk_func.fn_oid != eqproc)
		key_probe_make_key(eqproc);
	p->key = key_probe_made;
	p->scan = index_beginscan(p->rel, p->idx, snapshot, 1, 0);
	p->slot = with_slot ? table_slot_create(p->rel, NULL) : NULL;
}

/* index_rescan() copies the key into the scan: only its argument is set */
static inline void
key_probe_rescan(KeyProbe *p, Datum key)
{
	p->key.sk_argument = key;
	index_rescan(p->scan, &p->key, 1, NULL, 0);
}

/* The next (first) row of the key that the snapshot sees, or NULL */
static inline TupleTableSlot *
key_probe_next(KeyProbe *p)
{
	return index_getnext_slot(p->scan, ForwardScanDirection, p->slot) ? p->slot : NULL;
}

static inline TupleTableSlot *
key_probe_first(KeyProbe *p, Datum key)
{
	key_probe_rescan(p, key);
	return key_probe_next(p);
}

/*
 * The next row the snapshot sees as a HeapTuple, a heap table's only: read
 * on its page (a HOT chain followed) while the page is locked, no tuple
 * slot to make and drop for a row read once.  An entry whose whole chain
 * is dead is marked for the index, as index_fetch_heap() does.  The page
 * of the row found stays pinned in *buffer, which the caller releases: its
 * tuples do not move, so the row is read there after the lock is released,
 * as a slot's buffer tuple is.
 */
static inline bool
key_probe_next_tuple(KeyProbe *p, HeapTuple tuple, Buffer *buffer)
{
	IndexScanDesc scan = p->scan;
	ItemPointer tid;

	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		Buffer		buf = ReadBuffer(p->rel, ItemPointerGetBlockNumber(tid));
		bool		all_dead = false;
		bool		found;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		found = heap_hot_search_buffer(tid, p->rel, buf, scan->xs_snapshot, tuple,
									   &all_dead, true);
		if (!found && !scan->xactStartedInRecovery)
			scan->kill_prior_tuple = all_dead;
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		if (found)
		{
			*buffer = buf;
			return true;
		}
		ReleaseBuffer(buf);
	}
	return false;
}

/*
 * The scan ended and the relations closed, releasing the locks given
 * (NoLock: kept until the end of the transaction, as a query's).
 */
static inline void
key_probe_close(KeyProbe *p, LOCKMODE index_unlock, LOCKMODE table_unlock)
{
	if (p->rel == NULL)
		return;
	if (p->slot != NULL)
		ExecDropSingleTupleTableSlot(p->slot);
	index_endscan(p->scan);
	index_close(p->idx, index_unlock);
	table_close(p->rel, table_unlock);
}

#endif							/* IMEI_REGISTRY_KEY_PROBE_H */
