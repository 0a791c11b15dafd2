/*
 * operators.c
 *		The operators' codes that registry.first_operator names, without a
 *		foreign key.
 *
 * A foreign key costs a SELECT ... FOR KEY SHARE through SPI for every
 * registry row that names an operator: most of the price of a first
 * connection.  Operators are never deleted and their codes never change
 * (operators_guard refuses it, in every mode): an operator that stops
 * keeps its row, its code stays in the registry and its history.  So a code
 * once found stays valid, and the transition trigger checks first_operator
 * against a backend's cache of the codes it found (operator_known()).  The
 * cache is emptied by a relcache invalidation of imei_registry.operators,
 * which operators_guard sends for every INSERT or UPDATE of it: at the end
 * of the command here, and when a transaction or subtransaction that added
 * an operator aborts (its invalidations are replayed locally then), so a
 * code of an aborted insert does not stay.
 *
 *	operators_guard		on operators, FOR EACH STATEMENT (ENABLE ALWAYS):
 *						BEFORE DELETE, BEFORE TRUNCATE: refused;
 *						BEFORE INSERT, BEFORE UPDATE: invalidates the cache;
 *						and FOR EACH ROW BEFORE UPDATE: a code never changes.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "catalog/pg_collation.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "operators.h"
#include "relcheck.h"

#ifndef HASH_STRINGS
#define HASH_STRINGS 0			/* PostgreSQL 13: string keys are the default */
#endif

/* The longest code kept (a code is an identifier: much shorter) */
#define OPERATOR_CODE_KEY	64

typedef struct OperatorEntry
{
	char		code[OPERATOR_CODE_KEY];
} OperatorEntry;

static HTAB *known_codes = NULL;
static Oid	operators_relid = InvalidOid;
static bool callback_registered = false;

static void
forget_operators(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == operators_relid)
	{
		if (known_codes != NULL)
			hash_destroy(known_codes);
		known_codes = NULL;
		operators_relid = InvalidOid;
	}
}

static HTAB *
codes_table(void)
{
	if (known_codes == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = OPERATOR_CODE_KEY;
		ctl.entrysize = sizeof(OperatorEntry);
		ctl.hcxt = TopMemoryContext;
		known_codes = hash_create("imei_registry operators", 16, &ctl,
								  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	return known_codes;
}

/*
 * Read every code of imei_registry.operators (a small table) into the cache,
 * with the latest snapshot: a committed operator is found, whenever it was
 * added.  Returns whether code is among them.
 */
static bool
load_codes(const char *code)
{
	Oid			nsp = get_namespace_oid("imei_registry", false);
	Oid			relid = get_relname_relid("operators", nsp);
	int64		shard;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;
	Snapshot	snapshot;
	bool		found = false;
	List	   *codes = NIL;
	ListCell   *lc;

	if (!OidIsValid(relid))
		ext_missing_table("operators");
	relid = ext_local_data_relation(relid, &shard);
	rel = table_open(relid, AccessShareLock);
	if (RelationGetDescr(rel)->natts < 1 ||
		TupleDescAttr(RelationGetDescr(rel), 0)->atttypid != TEXTOID)
		elog(ERROR, "imei_registry.operators has not the shape the extension made");
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, 1, RelationGetDescr(rel), &isnull);

		if (!isnull)
			codes = lappend(codes, TextDatumGetCString(d));
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);

	/* opening the table may have processed invalidations: fill the cache now */
	operators_relid = relid;
	foreach(lc, codes)
	{
		const char *c = lfirst(lc);

		if (strlen(c) < OPERATOR_CODE_KEY)
			(void) hash_search(codes_table(), c, HASH_ENTER, NULL);
		if (strcmp(c, code) == 0)
			found = true;
	}
	list_free_deep(codes);
	return found;
}

bool
operator_known(const char *code)
{
	if (!callback_registered)
	{
		ext_register_relcache_callback(forget_operators, (Datum) 0);
		callback_registered = true;
	}
	if (known_codes != NULL && strlen(code) < OPERATOR_CODE_KEY &&
		hash_search(known_codes, code, HASH_FIND, NULL) != NULL)
		return true;
	return load_codes(code);
}

/*
 * May the session user report and load as this operator?  A member (with
 * or without inheritance) of a role that imei_registry.operator_roles binds
 * to it, or of imei_registry_admin (superusers are members of every role):
 * pg_has_role(session_user, role, 'MEMBER').  A row whose role does not
 * exist (dropped, not yet created again) binds nobody.  The session user,
 * not the current one: SET ROLE and SECURITY DEFINER functions do not
 * change it.  The rows are those of the active snapshot, as a query in a
 * STABLE function reads them.
 */
static bool
operator_mine(text *code)
{
	Oid			session = GetSessionUserId();
	Oid			nsp;
	Oid			relid;
	int64		shard;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		mine = false;

	if (is_member_of_role(session, get_role_oid("imei_registry_admin", false)))
		return true;
	nsp = get_namespace_oid("imei_registry", false);
	relid = get_relname_relid("operator_roles", nsp);
	if (!OidIsValid(relid))
		ext_missing_table("operator_roles");
	relid = ext_local_data_relation(relid, &shard);
	rel = table_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	if (desc->natts < 2 ||
		TupleDescAttr(desc, 0)->atttypid != TEXTOID ||
		TupleDescAttr(desc, 1)->atttypid != NAMEOID)
		elog(ERROR, "imei_registry.operator_roles has not the shape the extension made");
	ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   C_COLLATION_OID, F_TEXTEQ, PointerGetDatum(code));
	scan = systable_beginscan(rel, InvalidOid, false,
							  ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot(),
							  1, &key);
	while (!mine && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		role = heap_getattr(tuple, 2, desc, &isnull);
		Oid			roleid;

		if (isnull)
			continue;
		roleid = get_role_oid(NameStr(*DatumGetName(role)), true);
		if (OidIsValid(roleid) && is_member_of_role(session, roleid))
			mine = true;
	}
	systable_endscan(scan);
	/* the lock stays until the end of the transaction, as a query's */
	table_close(rel, NoLock);
	return mine;
}

PG_FUNCTION_INFO_V1(operator_is_mine);

/* operator_is_mine(operator text) -> boolean: operator_mine() */
Datum
operator_is_mine(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(operator_mine(PG_GETARG_TEXT_PP(0)));
}

PG_FUNCTION_INFO_V1(check_reporting_operator);

/*
 * check_reporting_operator(operator text) -> void: may the session user
 * report connections as this operator?  22023 for a code that
 * imei_registry.operators does not list (operator_known(): the codes, once
 * found, stay), then 42501 unless operator_mine().  For report_connection().
 */
Datum
check_reporting_operator(PG_FUNCTION_ARGS)
{
	text	   *code = PG_GETARG_TEXT_PP(0);
	char	   *s = text_to_cstring(code);

	if (!operator_known(s))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown operator \"%s\"", s),
				 errhint("Operators are listed in imei_registry.operators.")));
	if (!operator_mine(code))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("login \"%s\" may not report connections as operator \"%s\"",
						GetUserNameFromId(GetSessionUserId(), false), s),
				 errdetail("imei_registry.operator_roles binds no role of this login to the operator."),
				 errhint("The registry's admin binds roles to operators in imei_registry.operator_roles.")));
	pfree(s);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(operators_guard);

Datum
operators_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		elog(ERROR, "operators_guard: must be fired by trigger manager, before the change");
	rel = trigdata->tg_relation;
	if (!ext_is_named_table(rel, "operators"))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("operators_guard: fired on \"%s\", not on imei_registry.operators",
						RelationGetRelationName(rel))));

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s of imei_registry.operators is not allowed",
						TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) ? "TRUNCATE" : "DELETE"),
				 errdetail("Operators are never deleted: the registry and its history keep their codes (first_operator).")));

	if (TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
	{
		HeapTuple	oldtuple = trigdata->tg_trigtuple;
		HeapTuple	newtuple = trigdata->tg_newtuple;
		bool		oldnull;
		bool		newnull;
		Datum		o = heap_getattr(oldtuple, 1, RelationGetDescr(rel), &oldnull);
		Datum		n = heap_getattr(newtuple, 1, RelationGetDescr(rel), &newnull);

		if (!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
			elog(ERROR, "operators_guard: fired for each row only BEFORE UPDATE");
		if (oldnull != newnull ||
			(!oldnull && !DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID, o, n))))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("the code of operator \"%s\" cannot change",
							oldnull ? "" : TextDatumGetCString(o)),
					 errdetail("The registry and its history keep operators' codes (first_operator); add the operator under its new code instead.")));
		return PointerGetDatum(newtuple);
	}

	/* an INSERT or UPDATE: every backend's cache of the codes starts again */
	CacheInvalidateRelcacheByRelid(RelationGetRelid(rel));
	return PointerGetDatum(NULL);
}
