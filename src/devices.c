/*
 * devices.c
 *		registry.device_id names a row of imei_registry.devices, without a
 *		foreign key: a per-row foreign key costs a query, its plan and its
 *		trigger queue for every registry row that an approval points to its
 *		device.  Instead:
 *
 *	device_reference_check	(from registry_transition, for a new or changed
 *							device_id): one look-up in the devices' primary
 *							key and a KEY SHARE lock of the row, as the
 *							foreign key's check query takes it, once per
 *							device and transaction (the devices checked);
 *	devices_guard			on devices (ENABLE ALWAYS): AFTER UPDATE FOR
 *							EACH ROW: a device_id never changes (23000);
 *							AFTER DELETE FOR EACH ROW: a device that a
 *							registry row names stays (23503); BEFORE
 *							TRUNCATE: refused (42501).
 *
 * The row checks fire AFTER, as a foreign key's do: a BEFORE trigger sees
 * the row before the BEFORE triggers that fire after it, so a site's own
 * one could set NEW.device_id (also in an UPDATE that does not name the
 * column) or name in the registry the device being deleted, after the
 * check.
 *
 * Concurrency, as with the foreign key: a DELETE waits for a transaction
 * that holds the row's KEY SHARE lock (it set a registry row's device_id
 * to it) and then its AFTER check, looking with the latest snapshot, finds
 * that transaction's committed registry row.  The other way round, the
 * KEY SHARE lock waits for the deleting transaction and then finds the row
 * gone.
 *
 * Within one statement (a data-modifying WITH) the checks see what the
 * statement did: a delete's, at the end of the statement, finds a registry
 * row that the statement set to the device, a reference finds the device
 * gone when the statement deleted it before.
 *
 * What the foreign key allowed and this does not: one statement that
 * inserts a device and a registry row naming it (a data-modifying WITH):
 * the statement's own snapshot does not see the new device.  The
 * extension's functions insert devices in an earlier statement.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/lockoptions.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "devices.h"
#include "key_probe.h"
#include "relcheck.h"

PG_FUNCTION_INFO_V1(devices_guard);

/*
 * The devices this transaction found and holds: each checked device is
 * locked FOR KEY SHARE until the end of the transaction (or was inserted by
 * it), so nobody else deletes it, and this transaction deletes it only
 * through devices_guard, which forgets it.  An approval names each device
 * once per IMEI: the second IMEI of a device costs no look-up.  Forgotten
 * at the end of the transaction and at any subtransaction's abort (which
 * releases the locks it took and removes the devices it inserted).  At most
 * CHECKED_MAX devices are kept; past that, each reference is looked up.
 */
#define CHECKED_MAX (1 << 20)
static HTAB *checked_devices = NULL;

static void
forget_checked_devices(void)
{
	/* the table is allocated in TopTransactionContext: it goes with it */
	checked_devices = NULL;
}

static void
checked_xact_callback(XactEvent event, void *arg)
{
	forget_checked_devices();
}

static void
checked_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && checked_devices != NULL)
	{
		hash_destroy(checked_devices);
		forget_checked_devices();
	}
}

static bool
device_checked(int64 device_id)
{
	return checked_devices != NULL &&
		hash_search(checked_devices, &device_id, HASH_FIND, NULL) != NULL;
}

static void
remember_checked_device(int64 device_id)
{
	static bool callbacks_registered = false;

	if (!callbacks_registered)
	{
		RegisterXactCallback(checked_xact_callback, NULL);
		RegisterSubXactCallback(checked_subxact_callback, NULL);
		callbacks_registered = true;
	}
	if (checked_devices == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(int64);
		ctl.hcxt = TopTransactionContext;
		checked_devices = hash_create("imei_registry checked devices", 1024, &ctl,
									  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	if (hash_get_num_entries(checked_devices) < CHECKED_MAX)
		(void) hash_search(checked_devices, &device_id, HASH_ENTER, NULL);
}

static void
device_missing(Imei imei, int64 device_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("IMEI %015lld names device %lld, which is not in imei_registry.devices",
					(long long) imei, (long long) device_id),
			 errdetail("registry.device_id is the device_id of a row of imei_registry.devices."),
			 errhint("Insert the device first, in an earlier statement.")));
}

/* The devices' primary key: on device_id alone, or 39P01/55000 */
static Oid
devices_key_index(Relation rel, AttrNumber att)
{
	Oid			indexoid = RelationGetPrimaryKeyIndex(rel);
	HeapTuple	tup;
	Form_pg_index index;
	bool		ok;

	if (!OidIsValid(indexoid))
		ok = false;
	else
	{
		tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for index %u", indexoid);
		index = (Form_pg_index) GETSTRUCT(tup);
		ok = index->indnkeyatts == 1 && index->indkey.values[0] == att;
		ReleaseSysCache(tup);
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("imei_registry.devices has no primary key on device_id")));
	return indexoid;
}

/* The devices' table and key opened for look-ups, as by one query */
typedef struct DeviceLookup
{
	KeyProbe	probe;
	Snapshot	snapshot;
} DeviceLookup;

static void
device_lookup_open(DeviceLookup *dl)
{
	Oid			relid = ext_relation_oid(EXT_DEVICES);
	int64		shard;
	Relation	rel;
	AttrNumber	att;

	if (!OidIsValid(relid))
		ext_missing_table("devices");
	/* on Citus, this node's placement of the reference table, not its shell */
	relid = ext_local_data_relation(relid, &shard);
	/* the table lock of SELECT ... FOR KEY SHARE */
	rel = key_probe_open_table(&dl->probe, relid, RowShareLock);
	att = ext_table_columns(rel, EXT_DEVICES, "registry_transition")[DEV_DEVICE_ID];
	key_probe_open_index(&dl->probe, devices_key_index(rel, att), AccessShareLock);

	/*
	 * As the foreign key's check query: read committed looks with the
	 * latest snapshot, repeatable read and serializable with the
	 * transaction's.
	 */
	dl->snapshot = RegisterSnapshot(IsolationUsesXactSnapshot() ?
									GetTransactionSnapshot() : GetLatestSnapshot());
	key_probe_begin(&dl->probe, dl->snapshot, F_INT8EQ, true);
}

static void
device_lookup_close(DeviceLookup *dl)
{
	/* the table's lock stays until the end of the transaction, as a query's */
	key_probe_close(&dl->probe, AccessShareLock, NoLock);
	UnregisterSnapshot(dl->snapshot);
}

/* Is the device there (and now locked, or this transaction's own)? */
static bool
device_lookup(DeviceLookup *dl, int64 device_id)
{
	Relation	rel = dl->probe.rel;
	Snapshot	snapshot = dl->snapshot;
	TupleTableSlot *slot = dl->probe.slot;
	bool		found;

	found = key_probe_first(&dl->probe, Int64GetDatum(device_id)) != NULL;

	if (found)
	{
		bool		shouldfree;
		HeapTuple	tuple = ExecFetchSlotHeapTuple(slot, false, &shouldfree);
		TransactionId xmin = HeapTupleHeaderGetXmin(tuple->t_data);

		if (shouldfree)
			heap_freetuple(tuple);

		/*
		 * A device this transaction inserted nobody else sees, so nobody
		 * else deletes it: no lock needed.  But this transaction may have
		 * deleted it, also in this very command (a data-modifying WITH),
		 * which the snapshot still shows: it counts only if no command of
		 * this transaction deleted or changed it.
		 */
		if (TransactionIdIsCurrentTransactionId(xmin))
			found = table_tuple_satisfies_snapshot(rel, slot, SnapshotSelf);
		else
		{
			ItemPointerData tid = slot->tts_tid;
			TM_FailureData tmfd;
			TM_Result	res;
			int			flags = TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS;

			/* read committed: the newest version of the row counts */
			if (!IsolationUsesXactSnapshot())
				flags |= TUPLE_LOCK_FLAG_FIND_LAST_VERSION;
			res = table_tuple_lock(rel, &tid, snapshot, slot,
								   GetCurrentCommandId(false),
								   LockTupleKeyShare, LockWaitBlock, flags,
								   &tmfd);
			switch (res)
			{
				case TM_Ok:
					break;
				case TM_SelfModified:
					/* deleted by this transaction, by a later command */
					found = false;
					break;
				case TM_Updated:
					if (IsolationUsesXactSnapshot())
						ereport(ERROR,
								(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
								 errmsg("could not serialize access due to concurrent update")));
					elog(ERROR, "unexpected table_tuple_lock status: %u", res);
					break;
				case TM_Deleted:
					if (IsolationUsesXactSnapshot())
						ereport(ERROR,
								(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
								 errmsg("could not serialize access due to concurrent delete")));
					found = false;
					break;
				default:
					elog(ERROR, "unexpected table_tuple_lock status: %u", res);
			}
		}
	}
	return found;
}

void
device_reference_check(Imei imei, int64 device_id)
{
	DeviceLookup dl;
	bool		found;

	if (device_checked(device_id))
		return;
	device_lookup_open(&dl);
	found = device_lookup(&dl, device_id);
	device_lookup_close(&dl);
	if (!found)
		device_missing(imei, device_id);
	remember_checked_device(device_id);
}

/*
 * devices_hold(device_ids bigint[]): the check of device_reference_check()
 * for many devices at once, ahead of a write that names them all (a
 * decision's status change): one opening of the table for all, and each
 * device found is not looked up again by the row trigger.  A device not
 * found is left to the trigger's check, which names the IMEI.  Internal.
 */
PG_FUNCTION_INFO_V1(devices_hold);

Datum
devices_hold(PG_FUNCTION_ARGS)
{
	ArrayType  *ids;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	DeviceLookup dl;

	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	ids = PG_GETARG_ARRAYTYPE_P(0);
	if (ARR_ELEMTYPE(ids) != INT8OID)
		elog(ERROR, "devices_hold: a bigint[] is expected");
	deconstruct_array(ids, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);
	device_lookup_open(&dl);
	for (i = 0; i < n; i++)
	{
		int64		device_id;

		if (nulls[i])
			continue;
		device_id = DatumGetInt64(elems[i]);
		if (!device_checked(device_id) && device_lookup(&dl, device_id))
			remember_checked_device(device_id);
	}
	device_lookup_close(&dl);
	PG_RETURN_VOID();
}

/* The registry row that names a device: one saved plan */
static SPIPlanPtr named_plan = NULL;

static const char named_sql[] =
"SELECT imei::pg_catalog.text FROM imei_registry.registry"
" WHERE device_id OPERATOR(pg_catalog.=) $1 LIMIT 1";

/*
 * A registry row that names device_id, with the latest snapshot (a row
 * committed by a transaction that locked the device and that this delete
 * waited for counts): 23503 naming it.  As the owner of the tables (who
 * made both), so that whoever may delete a device need not read the
 * registry.
 */
static void
device_unnamed(Relation rel, int64 device_id)
{
	Oid			save_userid;
	int			save_sec_context;
	Datum		args[1];
	int			ret;
	char	   *named = NULL;

	if (!OidIsValid(ext_relation_oid(EXT_REGISTRY)))
		ext_missing_table("registry");
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(rel->rd_rel->relowner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_NOFORCE_RLS);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "devices_guard: SPI_connect failed");
	if (named_plan == NULL)
	{
		Oid			argtypes[1] = {INT8OID};
		SPIPlanPtr	p = SPI_prepare(named_sql, 1, argtypes);

		if (p == NULL)
			elog(ERROR, "devices_guard: SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		named_plan = p;
	}
	args[0] = Int64GetDatum(device_id);
	/*
	 * Not read-only: SPI advances the command counter, so that a registry
	 * row this very command changed before the delete (a data-modifying
	 * WITH) counts, as in the foreign key's check.
	 */
	ret = SPI_execute_snapshot(named_plan, args, NULL, GetLatestSnapshot(),
							   InvalidSnapshot, false, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "devices_guard: SPI_execute_snapshot failed: %s",
			 SPI_result_code_string(ret));
	if (SPI_processed > 0)
		named = MemoryContextStrdup(CurTransactionContext,
									SPI_getvalue(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1));
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	if (named != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("device %lld cannot be deleted: IMEI %s names it",
						(long long) device_id, named),
				 errdetail("registry.device_id names rows of imei_registry.devices; a registry row is never deleted.")));
}

Datum
devices_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "devices_guard");
	Relation	rel = trigdata->tg_relation;
	AttrNumber	att;
	bool		isnull;
	Datum		d;

	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		trigger_require(trigdata, "devices_guard", TRIG_TRUNCATE, true, false);
	else
		trigger_require(trigdata, "devices_guard", TRIG_UPDATE | TRIG_DELETE,
						false, true);
	att = ext_columns(rel, EXT_DEVICES, "devices_guard")[DEV_DEVICE_ID];

	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("TRUNCATE of imei_registry.devices is not allowed"),
				 errdetail("Registry rows name devices (device_id); delete the devices that none names.")));

	d = heap_getattr(trigdata->tg_trigtuple, att, RelationGetDescr(rel), &isnull);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		bool		newnull;
		Datum		n = heap_getattr(trigdata->tg_newtuple, att,
									 RelationGetDescr(rel), &newnull);

		if (isnull != newnull || (!isnull && DatumGetInt64(d) != DatumGetInt64(n)))
			ereport(ERROR,
					(errcode(ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION),
					 errmsg("the device_id of device %lld cannot change",
							isnull ? 0 : (long long) DatumGetInt64(d)),
					 errdetail("Registry rows name devices by device_id.")));
		return PointerGetDatum(NULL);
	}
	if (!isnull)
	{
		int64		device_id = DatumGetInt64(d);

		/*
		 * Deleted by this transaction: look it up if named again.  (A
		 * reference in this statement before this trigger fired may have
		 * found it in the devices checked: the registry row it wrote is
		 * found below.)
		 */
		if (checked_devices != NULL)
			(void) hash_search(checked_devices, &device_id, HASH_REMOVE, NULL);
		device_unnamed(rel, device_id);
	}
	return PointerGetDatum(NULL);
}
