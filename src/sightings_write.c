/*
 * sightings_write.c
 *		The day bits of operators' reports written straight into
 *		imei_registry.sightings: one primary-key probe per report, a heap
 *		update of the days only when the day is new, and the new rows
 *		through the multi-insert path, as COPY writes them.
 *
 * record_sightings() (130_sightings.sql), the one writer of sightings,
 * behind report_connection() and upload_sightings, calls this for a table
 * as the extension made it: a local heap table with no trigger, no forced
 * row security, its six columns.  For each report:
 *
 *   - a row whose days already have the report's day: nothing (the probe
 *     only; a bit once set is never cleared by a writer, so a newer
 *     version of the row has it too);
 *   - a row without that day: the days updated in place of the version
 *     probed.  No indexed column changes, so the update is HOT whenever the
 *     page has room (the table keeps half of each page free).  A version
 *     updated meanwhile by another session is locked in its latest version
 *     and read again, as the executor's UPDATE does in READ COMMITTED;
 *   - no row: inserted with the others of the call in one heap
 *     multi-insert, CHECK constraints and every index entry enforced.
 *     Another session may insert the same key meanwhile: the primary key
 *     then waits for it and refuses the duplicate (23505), the new rows'
 *     subtransaction is rolled back and they are probed again, so that the
 *     other session's row gets the day as ON CONFLICT DO UPDATE would give
 *     it.  Under REPEATABLE READ or SERIALIZABLE a row that the
 *     transaction cannot see is a serialization failure (40001), as for
 *     ON CONFLICT DO UPDATE.
 *
 * Anything else (a site's trigger, a column added, a distributed table)
 * takes record_sightings()'s INSERT ... ON CONFLICT DO UPDATE.
 */
#include "compat.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "grey.h"
#include "imei.h"
#include "relcheck.h"
#include "sightings_write.h"
#include "subxact.h"

/* what heap_update says of the indexes: which entries the new version needs */
#if PG_VERSION_NUM >= 160000
typedef TU_UpdateIndexes UpdateIndexes;
#define update_needs_indexes(u)	((u) != TU_None)
#define update_only_summarizing(u)	((u) == TU_Summarizing)
#else
typedef bool UpdateIndexes;
#define update_needs_indexes(u)	(u)
#define update_only_summarizing(u)	false
#endif

/* The primary key's columns, in its order */
static const int pkey_columns[] = {
	SIGHT_IMEI, SIGHT_IMSI, SIGHT_MSISDN, SIGHT_MONTH, SIGHT_OPERATOR
};

#define NKEYS lengthof(pkey_columns)

/* One report: its key, its day's bit, and where it came in the call */
typedef struct Sighting
{
	Imei		imei;
	int64		imsi;
	int64		msisdn;
	DateADT		month;
	Datum		operator;		/* text */
	int32		bit;
	int			pos;
} Sighting;

/* What one call works with */
typedef struct Writer
{
	Relation	rel;
	Relation	pkey;
	const AttrNumber *att;
	EState	   *estate;
	ResultRelInfo *rri;
	CommandId	cid;
	Oid			collation[NKEYS];
	RegProcedure eqproc[NKEYS];
	TupleTableSlot *found;		/* the probe's */
	TupleTableSlot *locked;		/* a latest version, locked */
	TupleTableSlot *newslot;	/* an updated row */
	int			days_off;		/* days' offset in a tuple without NULLs; -1: none */
} Writer;

static int
text_cmp(Datum a, Datum b)
{
	text	   *ta = DatumGetTextPP(a);
	text	   *tb = DatumGetTextPP(b);
	int			la = VARSIZE_ANY_EXHDR(ta);
	int			lb = VARSIZE_ANY_EXHDR(tb);
	int			c = memcmp(VARDATA_ANY(ta), VARDATA_ANY(tb), Min(la, lb));

	return c != 0 ? c : (la > lb) - (la < lb);
}

/* The reports in key order (any total order: it finds the repeats) */
static int
sighting_cmp(const void *pa, const void *pb)
{
	const Sighting *a = pa;
	const Sighting *b = pb;

	if (a->imei != b->imei)
		return a->imei < b->imei ? -1 : 1;
	if (a->imsi != b->imsi)
		return a->imsi < b->imsi ? -1 : 1;
	if (a->msisdn != b->msisdn)
		return a->msisdn < b->msisdn ? -1 : 1;
	if (a->month != b->month)
		return a->month < b->month ? -1 : 1;
	return text_cmp(a->operator, b->operator);
}

/*
 * Is sightings as the extension made it: a local heap table with its six
 * columns only, no trigger, row security not forced on its owner, its
 * primary key the btree on (imei, imsi, msisdn, month, operator)?
 */
static Relation
usable_pkey(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Oid			pkeyid;
	Relation	idx;
	int			natts = 0;
	int			i;

	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_rel->relam != HEAP_TABLE_AM_OID ||
		rel->trigdesc != NULL ||
		ext_relation_distributed(RelationGetRelid(rel)) ||
		check_enable_rls(RelationGetRelid(rel), InvalidOid, true) == RLS_ENABLED)
		return NULL;
	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			natts++;
	if (natts != SIGHT_NCOLUMNS)
		return NULL;
	pkeyid = get_relname_relid("sightings_pkey", RelationGetNamespace(rel));
	if (!OidIsValid(pkeyid))
		return NULL;
	idx = index_open(pkeyid, RowExclusiveLock);
	if (idx->rd_index->indrelid != RelationGetRelid(rel) || !idx->rd_index->indisprimary ||
		!idx->rd_index->indimmediate || idx->rd_rel->relam != BTREE_AM_OID ||
		idx->rd_index->indnkeyatts != NKEYS)
	{
		index_close(idx, RowExclusiveLock);
		return NULL;
	}
	return idx;
}

static void
writer_begin(Writer *w, Relation rel, Relation pkey)
{
	int			k;

	w->rel = rel;
	w->pkey = pkey;
	w->att = ext_table_columns(rel, EXT_SIGHTINGS, "record_sightings");
	for (k = 0; k < NKEYS; k++)
	{
		if (pkey->rd_index->indkey.values[k] != w->att[pkey_columns[k]])
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("index \"%s\" is not the primary key on imei_registry.sightings (imei, imsi, msisdn, month, operator) that record_sightings() writes",
							RelationGetRelationName(pkey))));
		w->collation[k] = pkey->rd_indcollation[k];
	}
	w->eqproc[0] = F_INT8EQ;	/* imei: an int8 */
	w->eqproc[1] = F_INT8EQ;
	w->eqproc[2] = F_INT8EQ;
	w->eqproc[3] = F_DATE_EQ;
	w->eqproc[4] = F_TEXTEQ;

	w->estate = CreateExecutorState();
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, rel, 0, NULL, 0);
	ExecOpenIndices(w->rri, false);
	w->found = table_slot_create(rel, &w->estate->es_tupleTable);
	w->locked = table_slot_create(rel, &w->estate->es_tupleTable);
	w->newslot = table_slot_create(rel, &w->estate->es_tupleTable);

	/*
	 * The columns before days are fixed-width (dropped ones too keep their
	 * width), so a tuple without NULLs has days at a fixed offset: an update
	 * copies the tuple and sets its days there instead of forming it again.
	 */
	w->days_off = 0;
	for (k = 0; k < w->att[SIGHT_DAYS]; k++)
	{
		Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(rel), k);

		if (attr->attlen <= 0)
		{
			w->days_off = -1;
			break;
		}
		w->days_off = att_align_nominal(w->days_off, attr->attalign);
		if (k < w->att[SIGHT_DAYS] - 1)
			w->days_off += attr->attlen;
	}
}

static void
writer_end(Writer *w)
{
	ExecCloseIndices(w->rri);
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	FreeExecutorState(w->estate);
}

/* A statement of its own, as SPI runs one: it sees this transaction's rows */
static void
statement_begin(Writer *w)
{
	CommandCounterIncrement();
	PushCopiedSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	w->cid = GetCurrentCommandId(true);
	w->estate->es_output_cid = w->cid;
	w->estate->es_snapshot = GetActiveSnapshot();
}

static void
serialization_failure(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not serialize access due to concurrent update of imei_registry.sightings")));
}

/*
 * Set s's day in the row version in slot, found by the probe: true if it
 * was written, false if the row already had the day.  *gone: the row was
 * deleted meanwhile (the caller inserts it).
 */
static bool
set_day(Writer *w, const Sighting *s, TupleTableSlot *slot, bool *gone)
{
	AttrNumber	att_days = w->att[SIGHT_DAYS];
	ItemPointerData tid;

	*gone = false;
	for (;;)
	{
		bool		isnull;
		int32		days = DatumGetInt32(slot_getattr(slot, att_days, &isnull));
		TM_Result	result;
		TM_FailureData tmfd;
		LockTupleMode lockmode;
		UpdateIndexes update_indexes;

		if (!isnull && (days & s->bit) != 0)
			return false;

		tid = slot->tts_tid;
		ExecClearTuple(w->newslot);
		if (!isnull && w->days_off >= 0)
		{
			HeapTuple	old = ExecFetchSlotHeapTuple(slot, false, NULL);

			if (!HeapTupleHasNulls(old) &&
				HeapTupleHeaderGetNatts(old->t_data) >= att_days)
			{
				HeapTuple	copy = heap_copytuple(old);
				char	   *p = (char *) copy->t_data + copy->t_data->t_hoff + w->days_off;
				int32		newdays = days | s->bit;

				memcpy(p, &newdays, sizeof(int32));
				ExecForceStoreHeapTuple(copy, w->newslot, true);
			}
		}
		if (TTS_EMPTY(w->newslot))
		{
			slot_getallattrs(slot);
			memcpy(w->newslot->tts_values, slot->tts_values,
				   slot->tts_tupleDescriptor->natts * sizeof(Datum));
			memcpy(w->newslot->tts_isnull, slot->tts_isnull,
				   slot->tts_tupleDescriptor->natts * sizeof(bool));
			w->newslot->tts_values[att_days - 1] = Int32GetDatum((isnull ? 0 : days) | s->bit);
			w->newslot->tts_isnull[att_days - 1] = false;
			ExecStoreVirtualTuple(w->newslot);
		}
		if (w->rel->rd_att->constr)
			ExecConstraints(w->rri, w->newslot, w->estate);

		result = table_tuple_update(w->rel, &tid, w->newslot, w->cid,
									GetActiveSnapshot(), InvalidSnapshot, true,
									&tmfd, &lockmode, &update_indexes);
		switch (result)
		{
			case TM_Ok:
				if (update_needs_indexes(update_indexes) && w->rri->ri_NumIndices > 0)
					list_free(exec_index_tuples(w->rri, w->newslot, w->estate, true,
												update_only_summarizing(update_indexes)));
				return true;
			case TM_SelfModified:
				/* not reached: a call's keys are distinct, earlier commands' visible */
				elog(ERROR, "sightings row updated by this command already");
				break;
			case TM_Updated:
				if (IsolationUsesXactSnapshot())
					serialization_failure();
				/* its latest version, locked: the day may be there now */
				result = table_tuple_lock(w->rel, &tmfd.ctid, GetActiveSnapshot(),
										  w->locked, w->cid, lockmode, LockWaitBlock,
										  TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &tmfd);
				if (result == TM_Ok)
				{
					slot = w->locked;
					continue;
				}
				if (result != TM_Deleted)
					elog(ERROR, "unexpected result %d locking a sightings row", (int) result);
				/* FALLTHROUGH */
			case TM_Deleted:
				if (IsolationUsesXactSnapshot())
					serialization_failure();
				*gone = true;
				return false;
			default:
				elog(ERROR, "unexpected result %d updating a sightings row", (int) result);
		}
	}
}

/*
 * Probe each report's row and set its day; the reports without a row are
 * returned in *fresh, *nfresh of them.
 */
static void
probe_and_update(Writer *w, Sighting *todo, int n, bool *changed,
				 Sighting *fresh, int *nfresh)
{
	ScanKeyData keys[NKEYS];
	IndexScanDesc scan;
	int			i;
	int			k;

	/* the keys' functions looked up once (int8eq for imei: no catalog) */
	for (k = 0; k < NKEYS; k++)
		ScanKeyEntryInitialize(&keys[k], 0, k + 1, BTEqualStrategyNumber,
							   InvalidOid, w->collation[k], w->eqproc[k], (Datum) 0);
	*nfresh = 0;
	scan = index_beginscan(w->rel, w->pkey, GetActiveSnapshot(), NKEYS, 0);
	for (i = 0; i < n; i++)
	{
		Sighting   *s = &todo[i];
		bool		gone = false;

		keys[0].sk_argument = ImeiGetDatum(s->imei);
		keys[1].sk_argument = Int64GetDatum(s->imsi);
		keys[2].sk_argument = Int64GetDatum(s->msisdn);
		keys[3].sk_argument = DateADTGetDatum(s->month);
		keys[4].sk_argument = s->operator;
		index_rescan(scan, keys, NKEYS, NULL, 0);
		if (!index_getnext_slot(scan, ForwardScanDirection, w->found))
			fresh[(*nfresh)++] = *s;
		else if (set_day(w, s, w->found, &gone))
			changed[s->pos] = true;
		else if (gone)
			fresh[(*nfresh)++] = *s;
	}
	index_endscan(scan);
}

/* The heap multi-insert of the new rows' slots and their index entries */
typedef struct InsertRun
{
	Writer	   *w;
	TupleTableSlot **slots;
	int			n;
} InsertRun;

static void
insert_slots(void *arg)
{
	InsertRun  *run = arg;
	Writer	   *w = run->w;
	BulkInsertState bistate = GetBulkInsertState();

	table_multi_insert(w->rel, run->slots, run->n, w->cid, 0, bistate);
	FreeBulkInsertState(bistate);
	for (int i = 0; i < run->n; i++)
		if (w->rri->ri_NumIndices > 0)
			list_free(insert_index_tuples(w->rri, run->slots[i], w->estate));
}

/*
 * Insert the new rows in one multi-insert, in a subtransaction: false,
 * with nothing written, if another session inserted one of them meanwhile.
 */
static bool
insert_new(Writer *w, const Sighting *rows, int n)
{
	TupleDesc	desc = RelationGetDescr(w->rel);
	TupleTableSlot **slots = palloc(n * sizeof(TupleTableSlot *));
	InsertRun	run;
	bool		ok;
	int			i;

	for (i = 0; i < n; i++)
	{
		TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, table_slot_callbacks(w->rel));

		ExecClearTuple(slot);
		memset(slot->tts_isnull, false, desc->natts * sizeof(bool));
		slot->tts_values[w->att[SIGHT_IMEI] - 1] = ImeiGetDatum(rows[i].imei);
		slot->tts_values[w->att[SIGHT_IMSI] - 1] = Int64GetDatum(rows[i].imsi);
		slot->tts_values[w->att[SIGHT_MSISDN] - 1] = Int64GetDatum(rows[i].msisdn);
		slot->tts_values[w->att[SIGHT_MONTH] - 1] = DateADTGetDatum(rows[i].month);
		slot->tts_values[w->att[SIGHT_DAYS] - 1] = Int32GetDatum(rows[i].bit);
		slot->tts_values[w->att[SIGHT_OPERATOR] - 1] = rows[i].operator;
		ExecStoreVirtualTuple(slot);
		if (w->rel->rd_att->constr)
			ExecConstraints(w->rri, slot, w->estate);
		slots[i] = slot;
	}

	run.w = w;
	run.slots = slots;
	run.n = n;
	ok = subxact_run(insert_slots, &run, ERRCODE_UNIQUE_VIOLATION,
					 RelationGetRelationName(w->pkey), NULL);
	for (i = 0; i < n; i++)
		ExecDropSingleTupleTableSlot(slots[i]);
	pfree(slots);
	return ok;
}

bool
sightings_write(int n, const Imei *imeis, const int64 *imsis, const int64 *msisdns,
				const Datum *operators, const TimestampTz *ats, bool *changed)
{
	Oid			relid = ext_relation_oid(EXT_SIGHTINGS);
	Relation	rel;
	Relation	pkey;
	Writer		w;
	Sighting   *todo;
	Sighting   *fresh;
	int			ntodo = n;
	int			i;

	if (!OidIsValid(relid))
		return false;
	rel = table_open(relid, RowExclusiveLock);
	pkey = usable_pkey(rel);
	if (pkey == NULL)
	{
		table_close(rel, RowExclusiveLock);
		return false;
	}
	/* the executor's checks, which this path does not go through */
	PreventCommandIfReadOnly("an insert into imei_registry.sightings");
	if (pg_class_aclmask(relid, GetUserId(), ACL_SELECT | ACL_INSERT | ACL_UPDATE,
						 ACLMASK_ALL) != (ACL_SELECT | ACL_INSERT | ACL_UPDATE))
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(rel));
	CheckCmdReplicaIdentity(rel, CMD_UPDATE);
	writer_begin(&w, rel, pkey);

	todo = palloc(n * sizeof(Sighting));
	fresh = palloc(n * sizeof(Sighting));
	for (i = 0; i < n; i++)
	{
		DateADT		day = almaty_local_date(ats[i]);
		int			y,
					m,
					d;

		j2date(day + POSTGRES_EPOCH_JDATE, &y, &m, &d);
		todo[i].imei = imeis[i];
		todo[i].imsi = imsis[i];
		todo[i].msisdn = msisdns[i];
		todo[i].month = date2j(y, m, 1) - POSTGRES_EPOCH_JDATE;
		todo[i].operator = operators[i];
		todo[i].bit = (int32) ((uint32) 1 << (d - 1));
		todo[i].pos = i;
		changed[i] = false;
	}
	qsort(todo, n, sizeof(Sighting), sighting_cmp);
	for (i = 1; i < n; i++)
		if (sighting_cmp(&todo[i - 1], &todo[i]) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_CARDINALITY_VIOLATION),
					 errmsg("record_sightings() got the sighting of IMEI %lld, IMSI %lld twice in one call",
							(long long) todo[i].imei, (long long) todo[i].imsi),
					 errhint("A call sets each (imei, imsi, msisdn, month, operator) once.")));

	/* until every new row is in: another session's are probed again */
	while (ntodo > 0)
	{
		int			nfresh;

		statement_begin(&w);
		probe_and_update(&w, todo, ntodo, changed, fresh, &nfresh);
		if (nfresh > 0 && insert_new(&w, fresh, nfresh))
		{
			for (i = 0; i < nfresh; i++)
				changed[fresh[i].pos] = true;
			nfresh = 0;
		}
		else if (nfresh > 0 && IsolationUsesXactSnapshot())
			serialization_failure();
		PopActiveSnapshot();
		memcpy(todo, fresh, nfresh * sizeof(Sighting));
		ntodo = nfresh;
	}

	writer_end(&w);
	index_close(pkey, NoLock);
	table_close(rel, NoLock);
	pfree(todo);
	pfree(fresh);
	return true;
}

PG_FUNCTION_INFO_V1(sightings_write_direct);

/*
 * sightings_write_direct(imeis, imsis, msisdns, operators, connected_at)
 * -> bigint[]: record_sightings() on this path, the positions (from 1) of
 * the reports that set a new day or added a row; NULL when the table is
 * not one this path writes.  msisdns[i] NULL: none (0).
 */
Datum
sightings_write_direct(PG_FUNCTION_ARGS)
{
	ArrayType  *arrays[5];
	Datum	   *elems[5];
	bool	   *nulls[5];
	int			counts[5];
	static const Oid types[5] = {InvalidOid, INT8OID, INT8OID, TEXTOID, TIMESTAMPTZOID};
	Imei	   *imeis;
	int64	   *imsis;
	int64	   *msisdns;
	TimestampTz *ats;
	bool	   *changed;
	Datum	   *out;
	int			nout = 0;
	int			n;
	int			a;
	int			i;

	for (a = 0; a < 5; a++)
	{
		int16		typlen;
		bool		typbyval;
		char		typalign;
		Oid			type;

		if (PG_ARGISNULL(a))
			PG_RETURN_NULL();
		arrays[a] = PG_GETARG_ARRAYTYPE_P(a);
		type = OidIsValid(types[a]) ? types[a] : ARR_ELEMTYPE(arrays[a]);
		get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
		/* the first an imei[] (or imeisv[]): an int8 */
		if (ARR_ELEMTYPE(arrays[a]) != type || (a == 0 && (typlen != 8 || !typbyval)))
			elog(ERROR, "sightings_write_direct(): argument %d has the wrong type", a + 1);
		deconstruct_array(arrays[a], type, typlen, typbyval, typalign,
						  &elems[a], &nulls[a], &counts[a]);
		if (counts[a] != counts[0])
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("record_sightings() needs arrays of the same length")));
	}
	n = counts[0];
	imeis = palloc(Max(n, 1) * sizeof(Imei));
	imsis = palloc(Max(n, 1) * sizeof(int64));
	msisdns = palloc(Max(n, 1) * sizeof(int64));
	ats = palloc(Max(n, 1) * sizeof(TimestampTz));
	changed = palloc(Max(n, 1) * sizeof(bool));
	for (i = 0; i < n; i++)
	{
		if (nulls[0][i] || nulls[1][i] || nulls[3][i] || nulls[4][i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("record_sightings() needs an IMEI, an IMSI, an operator and a time for each report")));
		imeis[i] = DatumGetImei(elems[0][i]);
		imsis[i] = DatumGetInt64(elems[1][i]);
		msisdns[i] = nulls[2][i] ? 0 : DatumGetInt64(elems[2][i]);
		ats[i] = DatumGetTimestampTz(elems[4][i]);
	}
	if (!sightings_write(n, imeis, imsis, msisdns, elems[3], ats, changed))
		PG_RETURN_NULL();
	out = palloc(Max(n, 1) * sizeof(Datum));
	for (i = 0; i < n; i++)
		if (changed[i])
			out[nout++] = Int64GetDatum(i + 1);
	PG_RETURN_ARRAYTYPE_P(construct_array(out, nout, INT8OID, sizeof(int64),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
