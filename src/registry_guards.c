/*
 * registry_guards.c
 *		What the registry and its history refuse, whoever asks:
 *
 *	registry_guard			on registry, FOR EACH STATEMENT:
 *							BEFORE DELETE, BEFORE TRUNCATE (ENABLE ALWAYS):
 *							registry rows are never deleted;
 *							BEFORE INSERT (origin mode only): no COPY into the
 *							registry, which is what a restore without
 *							session_replication_role = replica would do.
 *	history_insert_guard	on history, BEFORE INSERT FOR EACH STATEMENT
 *							(origin mode only): history rows come from the
 *							registry's own history trigger and nowhere else.
 *	history_guard			on history: BEFORE UPDATE OR DELETE FOR EACH ROW
 *							and BEFORE TRUNCATE (ENABLE ALWAYS) refuse;
 *							BEFORE INSERT FOR EACH ROW (ENABLE REPLICA)
 *							stamps xid.
 *	pair_history_guard		on pair_history: BEFORE UPDATE OR DELETE OR
 *							TRUNCATE FOR EACH STATEMENT (ENABLE ALWAYS)
 *							refuses, whether a row would be touched or not;
 *							BEFORE INSERT FOR EACH ROW (ENABLE REPLICA)
 *							stamps xid.
 *
 * In replica mode (a restore as docs/registry.md says, a logical-replication
 * subscriber) the two INSERT guards do not fire: the rows are reloaded as
 * they were; the feed tables' rows then get this cluster's xid instead
 * (stamp_xid), so the feeds keep their order.  The DELETE, UPDATE and
 * TRUNCATE guards fire in every mode.  Each accepts its table or, on a
 * Citus node, a shard or placement of it (relcheck.c).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "access/xact.h"
#include "commands/copy.h"
#include "commands/trigger.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/xid8.h"

#include "relcheck.h"

#if PG_VERSION_NUM >= 140000
#include "commands/copyfrom_internal.h"
#endif

#include "registry.h"

PG_FUNCTION_INFO_V1(registry_guard);
PG_FUNCTION_INFO_V1(history_insert_guard);
PG_FUNCTION_INFO_V1(history_guard);
PG_FUNCTION_INFO_V1(pair_history_guard);

/* Fired BEFORE ... FOR EACH STATEMENT on imei_registry.<relname>, or an error */
static TriggerData *
statement_trigger(FunctionCallInfo fcinfo, const char *funcname,
				  const char *relname)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "%s: not fired by trigger manager", funcname);
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		elog(ERROR, "%s: must be fired before statement", funcname);
	rel = trigdata->tg_relation;
	if (!ext_is_named_table(rel, relname))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s: fired on \"%s\", not on imei_registry.%s",
						funcname, RelationGetRelationName(rel), relname)));
	return trigdata;
}

/*
 * Is this statement a COPY FROM into rel?  COPY FROM pushes an error context
 * callback with its state; an INSERT that a trigger of another COPY runs
 * through SPI finds the state of that other COPY, for another relation.
 * (PostgreSQL 13 keeps that state private: there every INSERT passes.)
 */
static bool
copy_into(Relation rel)
{
#if PG_VERSION_NUM >= 140000
	ErrorContextCallback *e;

	for (e = error_context_stack; e != NULL; e = e->previous)
		if (e->callback == CopyFromErrorCallback)
			return ((CopyFromState) e->arg)->rel == rel;
#endif
	return false;
}

Datum
registry_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = statement_trigger(fcinfo, "registry_guard", "registry");
	const char *relname = RelationGetRelationName(trigdata->tg_relation);

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		if (copy_into(trigdata->tg_relation))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("COPY into %s is not allowed", relname),
					 errdetail("Registry rows are reloaded as they were only in replica mode (a restore); new IMEIs are INSERTed, or loaded through the imei_registry.upload_* targets."),
					 errhint("Restore with PGOPTIONS='-c session_replication_role=replica' pg_restore --single-transaction --exit-on-error.")));
		return PointerGetDatum(NULL);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s of %s is not allowed",
					TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) ? "TRUNCATE" : "DELETE",
					relname),
			 errdetail("Registry rows are never deleted: an IMEI changes status, with its history.")));
	PG_RETURN_NULL();			/* not reached */
}

Datum
history_insert_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = statement_trigger(fcinfo, "history_insert_guard", "history");

	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		elog(ERROR, "history_insert_guard: must be fired for INSERT");
	if (!registry_writing_history)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("INSERT into %s is not allowed",
						RelationGetRelationName(trigdata->tg_relation)),
				 errdetail("History rows are written by the registry's own trigger, for the change they record."),
				 errhint("A restore reloads history in replica mode: PGOPTIONS='-c session_replication_role=replica' pg_restore --single-transaction --exit-on-error.")));
	return PointerGetDatum(NULL);
}

/*
 * The row a feed table's BEFORE INSERT row trigger (enabled only in replica
 * mode) returns: its xid column set to the writing transaction's, so that
 * rows a restore or a logical-replication subscriber applies get xids of
 * this cluster and the feed keeps its order.  (In normal operation the
 * column's DEFAULT does the same without a trigger call per row.)
 */
static Datum
stamp_xid(TriggerData *trigdata, ExtRelation which, const char *caller)
{
	int			att = ext_columns(trigdata->tg_relation, which, caller)[HIST_XID];
	Datum		value = FullTransactionIdGetDatum(GetTopFullTransactionId());
	bool		isnull = false;

	return PointerGetDatum(heap_modify_tuple_by_cols(trigdata->tg_trigtuple,
													 RelationGetDescr(trigdata->tg_relation),
													 1, &att, &value, &isnull));
}

static const char *
event_name(TriggerEvent event)
{
	if (TRIGGER_FIRED_BY_UPDATE(event))
		return "UPDATE";
	if (TRIGGER_FIRED_BY_DELETE(event))
		return "DELETE";
	return "TRUNCATE";
}

Datum
history_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "history_guard");

	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		trigger_require(trigdata, "history_guard", TRIG_TRUNCATE, true, false);
	else
		trigger_require(trigdata, "history_guard",
						TRIG_INSERT | TRIG_UPDATE | TRIG_DELETE, true, true);
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		return stamp_xid(trigdata, EXT_HISTORY, "history_guard");

	(void) ext_columns(trigdata->tg_relation, EXT_HISTORY, "history_guard");
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s of %s is not allowed", event_name(trigdata->tg_event),
					RelationGetRelationName(trigdata->tg_relation)),
			 errdetail("The status history is append-only.")));
	PG_RETURN_NULL();			/* not reached */
}

/*
 * pair_history is a reference table on Citus: the guard fires on its
 * placement on each node (pair_history_<shardid>), which it accepts as it
 * does the table, and names the table in its refusal.
 */
Datum
pair_history_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "pair_history_guard");

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		trigger_require(trigdata, "pair_history_guard", TRIG_INSERT, true, true);
		return stamp_xid(trigdata, EXT_PAIR_HISTORY, "pair_history_guard");
	}
	trigger_require(trigdata, "pair_history_guard",
					TRIG_UPDATE | TRIG_DELETE | TRIG_TRUNCATE, true, false);
	(void) ext_columns(trigdata->tg_relation, EXT_PAIR_HISTORY, "pair_history_guard");
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s on imei_registry.pair_history is not allowed",
					event_name(trigdata->tg_event)),
			 errdetail("The history of pairs is append-only: every change of a pair is a new row.")));
	PG_RETURN_NULL();			/* not reached */
}
