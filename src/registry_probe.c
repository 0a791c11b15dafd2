/*
 * registry_probe.c
 *		The first connections of a batch of IMEIs from the primary key of
 *		imei_registry.registry, with the index AM (key_probe.c, as
 *		check_imei does): no statement, no plan.  One probe each, or one
 *		range scan for a run of nearby IMEIs of a sorted batch.
 *
 * A bulk load of reports asks this first: a known IMEI whose first
 * connection is as early as the report's or earlier is answered here
 * (already present), since a first connection is never cleared and only
 * ever moves earlier (the transition trigger) -- what the probe saw cannot
 * turn false.  Only the rest go to record_connections().  The latest
 * snapshot is enough for that: a row it shows, committed or this
 * transaction's, stays known.  A table with no local rows (a distributed
 * one) answers "unknown", and its rows all take the executor's path.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/itup.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/snapmgr.h"

#include "key_probe.h"
#include "registry_insert.h"
#include "registry_probe.h"
#include "relcheck.h"

PG_FUNCTION_INFO_V1(report_without_statement);

/*
 * Nearby IMEIs of a sorted batch (a run: each at most RUN_GAP above the one
 * before it) are read by one range scan of the key, walking its leaf pages,
 * not by a descent from the root for each: the key is unique and IMEIs are
 * integers, so at most RUN_GAP - 1 other live entries lie between two of
 * them, which cost about what a descent does.  Reports of one model's
 * devices come in such runs.
 */
#define RUN_GAP 32

static void
probe_row(TupleTableSlot *slot, AttrNumber att_status, AttrNumber att_first_seen,
		  RegistryProbe *out)
{
	bool		isnull;
	Datum		d;

	out->known = true;
	out->status = slot_getattr(slot, att_status, &isnull);	/* an OID */
	d = slot_getattr(slot, att_first_seen, &isnull);
	out->has_first_seen = !isnull;
	if (!isnull)
		out->first_seen_at = DatumGetTimestampTz(d);
}

void
registry_probe_first_seen(const Imei *imeis, int n, RegistryProbe *out)
{
	Oid			relid = ext_relation_oid(EXT_REGISTRY);
	Oid			pkeyid;
	KeyProbe	p;
	Relation	rel;
	Relation	idx;
	const AttrNumber *att;
	AttrNumber	att_imei;
	AttrNumber	att_status;
	AttrNumber	att_first_seen;
	IndexScanDesc range = NULL;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	int			i;

	if (!OidIsValid(relid))
		ext_missing_table("registry");
	rel = key_probe_open_table(&p, relid, AccessShareLock);
	att = ext_table_columns(rel, EXT_REGISTRY, "upload_connections");
	/* copies: opening the index may process invalidations, which free att */
	att_imei = att[REG_IMEI];
	att_status = att[REG_STATUS];
	att_first_seen = att[REG_FIRST_SEEN_AT];
	pkeyid = get_relname_relid("registry_pkey", RelationGetNamespace(rel));
	if (!OidIsValid(pkeyid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("index \"imei_registry.registry_pkey\" does not exist")));
	idx = key_probe_open_index(&p, pkeyid, AccessShareLock);
	if (idx->rd_index->indrelid != relid ||
		idx->rd_rel->relam != BTREE_AM_OID ||
		idx->rd_index->indnkeyatts != 1 ||
		idx->rd_index->indkey.values[0] != att_imei)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index \"%s\" is not the btree on imei_registry.registry (imei) that a bulk load reads",
						RelationGetRelationName(idx))));

	/* the rows of this import's earlier batches too */
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	key_probe_begin(&p, snapshot, F_INT8EQ, true);
	slot = p.slot;
	memset(out, 0, n * sizeof(RegistryProbe));
	for (i = 0; i < n;)
	{
		int			last = i;

		while (last + 1 < n && imeis[last + 1] > imeis[last] &&
			   imeis[last + 1] - imeis[last] <= RUN_GAP)
			last++;
		if (last == i)
		{
			/* alone: one probe of its key */
			if (key_probe_first(&p, Int64GetDatum(imeis[i])) != NULL)
				probe_row(slot, att_status, att_first_seen, &out[i]);
		}
		else
		{
			/* a run: its entries in order, merged with its IMEIs */
			ScanKeyData bounds[2];
			ItemPointer tid;
			int			k = i;

			if (range == NULL)
			{
				range = index_beginscan(rel, idx, snapshot, 2, 0);
				range->xs_want_itup = true; /* the key of each entry */
			}
			ScanKeyInit(&bounds[0], 1, BTGreaterEqualStrategyNumber, F_INT8GE,
						Int64GetDatum(imeis[i]));
			ScanKeyInit(&bounds[1], 1, BTLessEqualStrategyNumber, F_INT8LE,
						Int64GetDatum(imeis[last]));
			index_rescan(range, bounds, 2, NULL, 0);
			while (k <= last &&
				   (tid = index_getnext_tid(range, ForwardScanDirection)) != NULL)
			{
				bool		isnull;
				Imei		entry = DatumGetInt64(index_getattr(range->xs_itup, 1,
																range->xs_itupdesc,
																&isnull));

				while (k <= last && imeis[k] < entry)
					k++;
				/* a visible row of the entry's chain, unless one was found */
				if (k <= last && imeis[k] == entry && !out[k].known &&
					index_fetch_heap(range, slot))
					probe_row(slot, att_status, att_first_seen, &out[k]);
			}
		}
		i = last + 1;
	}
	if (range != NULL)
		index_endscan(range);
	/* the locks stay until the end of the transaction, as check_imei()'s */
	key_probe_close(&p, NoLock, NoLock);
	UnregisterSnapshot(snapshot);
}

bool
registry_report_changes_nothing(const RegistryProbe *probe, TimestampTz at)
{
	return probe->known && probe->has_first_seen && probe->first_seen_at <= at;
}

/*
 * report_without_statement(imei, operator, connected_at) -> status: what
 * report_connection() can answer without record_connections(): a known IMEI
 * that the report leaves as it is (registry_report_changes_nothing()), by
 * its probe; an unknown one, inserted through the multi-insert path
 * (registry_insert.c) with the rules' entry for its first connection.  NULL
 * when the report is for record_connections(): the first connection of a
 * known IMEI moves, another session inserted the IMEI meanwhile, or the
 * registry is not one the multi-insert path writes.  The caller has checked
 * the operator and the time.
 */
Datum
report_without_statement(PG_FUNCTION_ARGS)
{
	Imei		imei = PG_GETARG_IMEI(0);
	Datum		operator = PG_GETARG_DATUM(1);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);
	RegistryProbe probe;
	Datum		status;

	/* a report is a write, even one that changes nothing (25006) */
	PreventCommandIfReadOnly("report_connection()");
	registry_probe_first_seen(&imei, 1, &probe);
	if (registry_report_changes_nothing(&probe, at))
		PG_RETURN_DATUM(probe.status);
	if (probe.known || !registry_insert_new(1, &imei, &at, &operator, 0, &status))
		PG_RETURN_NULL();
	if (status == (Datum) 0)
		PG_RETURN_NULL();		/* a trigger kept it out */
	/* the row as this statement wrote it: no probe again */
	PG_RETURN_DATUM(status);
}
