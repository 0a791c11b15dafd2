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
#include "catalog/pg_collation.h"
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
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;
	Snapshot	snapshot;
	bool		found = false;
	List	   *codes = NIL;
	ListCell   *lc;

	if (!OidIsValid(relid))
		ext_missing_table("operators");
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
		CacheRegisterRelcacheCallback(forget_operators, (Datum) 0);
		callback_registered = true;
	}
	if (known_codes != NULL && strlen(code) < OPERATOR_CODE_KEY &&
		hash_search(known_codes, code, HASH_FIND, NULL) != NULL)
		return true;
	return load_codes(code);
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
