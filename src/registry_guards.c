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
 *
 * In replica mode (a restore as docs/registry.md says, a logical-replication
 * subscriber) the two INSERT guards do not fire: the rows are reloaded as
 * they were.  The DELETE and TRUNCATE guard fires in every mode.  Both are
 * statement triggers, so they cost one call per statement, not per row.
 */
#include "postgres.h"

#include "commands/copy.h"
#include "commands/trigger.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "relcheck.h"

#if PG_VERSION_NUM >= 140000
#include "commands/copyfrom_internal.h"
#endif

#include "registry.h"

PG_FUNCTION_INFO_V1(registry_guard);
PG_FUNCTION_INFO_V1(history_insert_guard);

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
