/*
 * transitions.c
 *		The status state machine of imei_registry.registry, the history it
 *		writes, and the guard that keeps imei_registry.history append-only.
 *
 * Three triggers:
 *
 *	registry_transition		BEFORE INSERT OR UPDATE, FOR EACH ROW on registry:
 *							checks a new row or a change of status against the
 *							rules (SQLSTATE IR001 when they forbid it), stamps
 *							since, clears grey_last_day outside grey.
 *	registry_history		AFTER INSERT and AFTER UPDATE, FOR EACH STATEMENT
 *							on registry, with transition tables: appends the
 *							history rows of the statement in one INSERT, as
 *							the table owner, with saved plans.
 *	history_guard			on history: refuses UPDATE, DELETE and TRUNCATE
 *							(ENABLE ALWAYS), and stamps xid on an INSERT in
 *							replica mode (ENABLE REPLICA: restore, logical
 *							replication).
 *
 * History is written AFTER the row, not BEFORE: a BEFORE INSERT trigger
 * also fires for a row that INSERT ... ON CONFLICT then does not insert.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "mb/pg_wchar.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/queryenvironment.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/xid8.h"

#include "imei.h"
#include "registry.h"

typedef enum RegStatus
{
	ST_NONE = -1,				/* no row yet: the IMEI is new */
	ST_WHITE,
	ST_GREY,
	ST_BLACK
} RegStatus;

static const char *const status_names[] = {"white", "grey", "black"};

typedef enum RegCause
{
	CAUSE_NONE,
	CAUSE_NOTE,
	CAUSE_IMPORT,
	CAUSE_APPLICATION
} RegCause;

/*
 * The rules of DESIGN.md, "The registry rules": each allowed change is one
 * row.  Anything not listed is forbidden.
 */
typedef struct TransitionRule
{
	RegStatus	from;
	RegStatus	to;
	const char *reason;
	const char *old_reason;		/* if set, only from a row with this reason */
	RegCause	cause;			/* the cause the reason names, if any */
} TransitionRule;

/*
 * A reason that names a cause needs that cause (check_cause):
 *	lawful_import			import_id: an importer's registration in imports
 *	application_approved	application_id: an application approved in this
 *							transaction that lists this IMEI (a board
 *							replacement: as a new IMEI)
 *	reinstated				note: the written reason, with visible text
 */

static const TransitionRule rules[] = {
	{ST_NONE, ST_GREY, "unverified", NULL, CAUSE_NONE},
	{ST_NONE, ST_WHITE, "lawful_import", NULL, CAUSE_IMPORT},
	{ST_NONE, ST_WHITE, "grandfathered", NULL, CAUSE_NONE},
	{ST_NONE, ST_BLACK, "gsma_blocked", NULL, CAUSE_NONE},
	{ST_NONE, ST_BLACK, "counterfeit", NULL, CAUSE_NONE},
	{ST_GREY, ST_WHITE, "application_approved", NULL, CAUSE_APPLICATION},
	{ST_GREY, ST_BLACK, "grey_expired", NULL, CAUSE_NONE},
	{ST_GREY, ST_BLACK, "gsma_blocked", NULL, CAUSE_NONE},
	{ST_GREY, ST_BLACK, "counterfeit", NULL, CAUSE_NONE},
	{ST_WHITE, ST_BLACK, "gsma_blocked", NULL, CAUSE_NONE},
	{ST_WHITE, ST_BLACK, "counterfeit", NULL, CAUSE_NONE},
	{ST_WHITE, ST_BLACK, "replaced", NULL, CAUSE_NONE},
	{ST_BLACK, ST_WHITE, "application_approved", "grey_expired", CAUSE_APPLICATION},
	{ST_BLACK, ST_WHITE, "reinstated", NULL, CAUSE_NOTE},
	/* a harder block for a black IMEI: no application can lift it then */
	{ST_BLACK, ST_BLACK, "gsma_blocked", NULL, CAUSE_NONE},
	{ST_BLACK, ST_BLACK, "counterfeit", NULL, CAUSE_NONE},
};

/* Is there a rule from a status to itself by this reason? */
static bool
reason_change_allowed(RegStatus status, const char *reason)
{
	int			i;

	for (i = 0; i < lengthof(rules); i++)
		if (rules[i].from == status && rules[i].to == status &&
			strcmp(rules[i].reason, reason) == 0)
			return true;
	return false;
}

bool		registry_writing_history = false;

PG_FUNCTION_INFO_V1(registry_transition);
PG_FUNCTION_INFO_V1(registry_history);
PG_FUNCTION_INFO_V1(history_guard);
PG_FUNCTION_INFO_V1(reason_leads_to);

/* Guards shared by the row triggers, in the style of contrib/spi. */
static TriggerData *
row_trigger_guard(FunctionCallInfo fcinfo, const char *funcname, bool before)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "%s: not fired by trigger manager", funcname);
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "%s: must be fired for row", funcname);
	if (before && !TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		elog(ERROR, "%s: must be fired before event", funcname);
	if (!before && !TRIGGER_FIRED_AFTER(trigdata->tg_event))
		elog(ERROR, "%s: must be fired after event", funcname);
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) &&
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		elog(ERROR, "%s: must be fired for INSERT or UPDATE", funcname);
	return trigdata;
}

static int
column(TupleDesc tupdesc, const char *name)
{
	int			attnum = SPI_fnumber(tupdesc, name);

	if (attnum <= 0)
		elog(ERROR, "imei_registry: trigger relation has no column \"%s\"", name);
	return attnum;
}

/*
 * Column numbers of the registry, looked up once per backend and forgotten
 * on a relcache invalidation of the table (ALTER TABLE, DROP EXTENSION).
 */
typedef struct RegistryAtts
{
	Oid			relid;
	int			imei;
	int			status;
	int			reason;
	int			since;
	int			grey_last_day;
	int			causes[3];		/* application_id, import_id, note */
} RegistryAtts;

static RegistryAtts registry_atts_cache = {InvalidOid};

static void
forget_registry_atts(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == registry_atts_cache.relid)
		registry_atts_cache.relid = InvalidOid;
}

static const RegistryAtts *
registry_atts(Relation rel)
{
	static bool callback_registered = false;
	RegistryAtts *a = &registry_atts_cache;
	TupleDesc	tupdesc = RelationGetDescr(rel);

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(forget_registry_atts, (Datum) 0);
		callback_registered = true;
	}
	if (a->relid != RelationGetRelid(rel))
	{
		a->relid = InvalidOid;
		a->imei = column(tupdesc, "imei");
		a->status = column(tupdesc, "status");
		a->reason = column(tupdesc, "reason");
		a->since = column(tupdesc, "since");
		a->grey_last_day = column(tupdesc, "grey_last_day");
		a->causes[0] = column(tupdesc, "application_id");
		a->causes[1] = column(tupdesc, "import_id");
		a->causes[2] = column(tupdesc, "note");
		a->relid = RelationGetRelid(rel);
	}
	return a;
}

/*
 * The status of an enum value, from pg_enum; a tiny cache avoids repeats.
 * Any change to pg_enum (the extension dropped and created again in this
 * session) empties it.
 */
static Oid	status_oids[3] = {InvalidOid, InvalidOid, InvalidOid};

static void
forget_status_oids(Datum arg, int cacheid, uint32 hashvalue)
{
	int			i;

	for (i = 0; i < 3; i++)
		status_oids[i] = InvalidOid;
}

static RegStatus
status_of(Oid enumval)
{
	static bool callback_registered = false;
	Oid		   *cache = status_oids;
	HeapTuple	tup;
	const char *label;
	int			i;

	if (!callback_registered)
	{
		CacheRegisterSyscacheCallback(ENUMOID, forget_status_oids, (Datum) 0);
		callback_registered = true;
	}
	for (i = 0; i < 3; i++)
		if (cache[i] == enumval)
			return (RegStatus) i;

	tup = SearchSysCache1(ENUMOID, ObjectIdGetDatum(enumval));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for enum %u", enumval);
	label = NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel);
	for (i = 0; i < 3; i++)
		if (strcmp(label, status_names[i]) == 0)
			break;
	ReleaseSysCache(tup);
	if (i == 3)
		elog(ERROR, "imei_registry: unknown status \"%s\"", label);
	cache[i] = enumval;
	return (RegStatus) i;
}

static char *
text_column(HeapTuple tuple, TupleDesc tupdesc, int attnum)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, attnum, tupdesc, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static char *
imei_string(Imei value)
{
	return psprintf("%015" INT64_MODIFIER "d", value);
}

/* "white by a or b; black by c" for the detail of a refusal */
static char *
allowed_from(RegStatus from)
{
	StringInfoData buf;
	RegStatus	to;
	bool		first_to = true;

	initStringInfo(&buf);
	for (to = ST_WHITE; to <= ST_BLACK; to++)
	{
		int			n = 0;
		int			i;

		for (i = 0; i < lengthof(rules); i++)
		{
			if (rules[i].from != from || rules[i].to != to)
				continue;
			if (n == 0)
				appendStringInfo(&buf, "%s%s by ", first_to ? "" : "; ",
								 status_names[to]);
			else
				appendStringInfoString(&buf, ", ");
			appendStringInfoString(&buf, rules[i].reason);
			n++;
			first_to = false;
		}
	}
	return buf.data;
}

static void
forbid(Imei imei, RegStatus from, RegStatus to, const char *reason)
{
	if (from == ST_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
				 errmsg("new IMEI %s cannot start %s by reason \"%s\"",
						imei_string(imei), status_names[to], reason),
				 errdetail("A new IMEI starts %s.", allowed_from(ST_NONE))));
	ereport(ERROR,
			(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
			 errmsg("IMEI %s cannot change from %s to %s by reason \"%s\"",
					imei_string(imei), status_names[from], status_names[to],
					reason),
			 errdetail("From %s the rules allow: %s.", status_names[from],
					   allowed_from(from))));
}

/*
 * Check one change (or a new row: from = ST_NONE) against the rules.
 * Returns the rule that allows it; its cause is checked by check_cause().
 */
static const TransitionRule *
check_transition(Imei imei, RegStatus from, const char *old_reason,
				 RegStatus to, const char *reason)
{
	int			i;

	if (reason == NULL && from == ST_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
				 errmsg("new IMEI %s cannot start %s without a reason",
						imei_string(imei), status_names[to]),
				 errdetail("A new IMEI starts %s.", allowed_from(ST_NONE))));
	if (reason == NULL || (from != ST_NONE && old_reason != NULL &&
						   strcmp(reason, old_reason) == 0))
		ereport(ERROR,
				(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
				 errmsg("IMEI %s cannot change from %s to %s without a reason",
						imei_string(imei), status_names[from], status_names[to]),
				 reason ? errdetail("The reason \"%s\" is the one of the old status.",
									reason) : 0,
				 errhint("Set reason too; from %s the rules allow: %s.",
						 status_names[from], allowed_from(from))));

	for (i = 0; i < lengthof(rules); i++)
	{
		const TransitionRule *r = &rules[i];

		if (r->from != from || r->to != to || strcmp(r->reason, reason) != 0)
			continue;
		if (r->old_reason && (old_reason == NULL ||
							  strcmp(r->old_reason, old_reason) != 0))
			ereport(ERROR,
					(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
					 errmsg("IMEI %s cannot change from %s to %s by reason \"%s\"",
							imei_string(imei), status_names[from],
							status_names[to], reason),
					 errdetail("Reason \"%s\" applies only to an IMEI that is %s for \"%s\"; this one is %s for \"%s\".",
							   reason, status_names[from], r->old_reason,
							   status_names[from], old_reason ? old_reason : ""),
					 errhint("Only a registry decision, imei_registry.reinstate(), can make it %s.",
							 status_names[to])));
		return r;
	}
	forbid(imei, from, to, reason);
	return NULL;				/* not reached */
}

/*
 * The causes as they will be stored: a cause column is NULL when its isnull
 * is set.
 */
typedef struct StoredCauses
{
	int64		application_id;
	int64		import_id;
	char	   *note;			/* NULL: none */
	bool		application_null;
	bool		import_null;
} StoredCauses;

/*
 * Saved plans of the cause look-ups, prepared for the current OID of type
 * imei (a new one when the extension was dropped and created again).
 */
static Oid	cause_plans_imei_type = InvalidOid;
static SPIPlanPtr plan_import = NULL;
static SPIPlanPtr plan_application = NULL;

/*
 * lawful_import rows of one statement usually share their import: the last
 * import found is remembered until the (sub)transaction ends.
 */
static int64 import_found = -1;

static void
forget_import_found(void)
{
	import_found = -1;
}

static void
cause_xact_callback(XactEvent event, void *arg)
{
	forget_import_found();
}

static void
cause_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		forget_import_found();
}

static void
prepare_cause_plans(Oid imei_type)
{
	static bool callbacks_registered = false;
	Oid			a1[1] = {INT8OID};
	Oid			a2[2] = {INT8OID, imei_type};
	SPIPlanPtr	p;

	if (!callbacks_registered)
	{
		RegisterXactCallback(cause_xact_callback, NULL);
		RegisterSubXactCallback(cause_subxact_callback, NULL);
		callbacks_registered = true;
	}
	if (cause_plans_imei_type == imei_type)
		return;
	if (plan_import)
		SPI_freeplan(plan_import);
	if (plan_application)
		SPI_freeplan(plan_application);
	plan_import = plan_application = NULL;
	cause_plans_imei_type = InvalidOid;

	/* an importer's registration: not the imports row of a COPY */
	p = SPI_prepare("SELECT 1 FROM imei_registry.imports i"
					" WHERE i.import_id OPERATOR(pg_catalog.=) $1"
					" AND i.target IS NULL", 1, a1);
	if (p == NULL || SPI_keepplan(p) != 0)
		elog(ERROR, "registry_transition: SPI_prepare failed: %s",
			 SPI_result_code_string(SPI_result));
	plan_import = p;

	/*
	 * Its state, the transaction that wrote it last, does it list the IMEI.
	 * The IMEI is looked up through application_imeis_imei: "+ 0" keeps the
	 * planner off the primary key, whose prefix application_id matches
	 * every IMEI of a large application (one probe per row, not a scan).
	 */
	p = SPI_prepare("SELECT a.state, a.xmin, a.method,"
					" EXISTS (SELECT FROM imei_registry.application_imeis ai"
					"  WHERE ai.imei OPERATOR(imei_registry.=) $2"
					"  AND (ai.application_id OPERATOR(pg_catalog.+) 0) OPERATOR(pg_catalog.=) a.id)"
					" AND (a.method OPERATOR(pg_catalog.<>) 'board_replacement'"
					"  OR EXISTS (SELECT FROM imei_registry.application_replacements rp"
					"   WHERE rp.application_id OPERATOR(pg_catalog.=) a.id"
					"   AND rp.new_imei OPERATOR(imei_registry.=) $2))"
					" FROM imei_registry.applications a"
					" WHERE a.id OPERATOR(pg_catalog.=) $1", 2, a2);
	if (p == NULL || SPI_keepplan(p) != 0)
		elog(ERROR, "registry_transition: SPI_prepare failed: %s",
			 SPI_result_code_string(SPI_result));
	plan_application = p;
	cause_plans_imei_type = imei_type;
}

static void
no_cause(Imei imei, RegStatus from, RegStatus to, const char *reason,
		 const char *detail)
{
	if (from == ST_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
				 errmsg("new IMEI %s cannot start %s by reason \"%s\" without its cause",
						imei_string(imei), status_names[to], reason),
				 errdetail_internal("%s", detail)));
	ereport(ERROR,
			(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
			 errmsg("IMEI %s cannot change from %s to %s by reason \"%s\" without its cause",
					imei_string(imei), status_names[from], status_names[to],
					reason),
			 errdetail_internal("%s", detail)));
}

/*
 * A reason that names a cause needs that cause (see the rules above).  The
 * look-ups run as the owner of the registry, like the history trigger: the
 * writer needs no rights on imports or applications.
 */
static void
check_cause(Relation rel, int att_imei, const TransitionRule *rule, Imei imei,
			RegStatus from, const StoredCauses *c)
{
	const char *reason = rule->reason;
	Oid			save_userid;
	int			save_sec_context;
	Datum		args[2];
	int			ret;

	switch (rule->cause)
	{
		case CAUSE_NONE:
			return;
		case CAUSE_NOTE:
			if (c->note == NULL || !text_has_visible_char(c->note, strlen(c->note)))
				no_cause(imei, from, rule->to, reason,
						 psprintf("Reason \"%s\" is a registry decision and needs its written reason in note, with visible text (not only white space or invisible characters).",
								  reason));
			return;
		case CAUSE_IMPORT:
			if (c->import_null)
				no_cause(imei, from, rule->to, reason,
						 psprintf("Reason \"%s\" needs import_id: the importer's registration (imei_registry.register_import()).",
								  reason));
			if (c->import_id == import_found)
				return;
			break;
		case CAUSE_APPLICATION:
			if (c->application_null)
				no_cause(imei, from, rule->to, reason,
						 psprintf("Reason \"%s\" needs application_id: the application approved by imei_registry.decide_application().",
								  reason));
			break;
	}

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(rel->rd_rel->relowner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "registry_transition: SPI_connect failed");
	prepare_cause_plans(TupleDescAttr(RelationGetDescr(rel), att_imei - 1)->atttypid);

	if (rule->cause == CAUSE_IMPORT)
	{
		args[0] = Int64GetDatum(c->import_id);
		ret = SPI_execute_plan(plan_import, args, NULL, false, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "registry_transition: SPI_execute_plan failed: %s",
				 SPI_result_code_string(ret));
		if (SPI_processed == 0)
			no_cause(imei, from, rule->to, reason,
					 psprintf("Import %lld is not an importer's registration in imei_registry.imports.",
							  (long long) c->import_id));
		import_found = c->import_id;
	}
	else
	{
		bool		isnull;
		HeapTuple	tup;
		TupleDesc	desc;
		char	   *state;
		TransactionId xmin;
		bool		listed;

		args[0] = Int64GetDatum(c->application_id);
		args[1] = ImeiGetDatum(imei);
		ret = SPI_execute_plan(plan_application, args, NULL, false, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "registry_transition: SPI_execute_plan failed: %s",
				 SPI_result_code_string(ret));
		if (SPI_processed == 0)
			no_cause(imei, from, rule->to, reason,
					 psprintf("There is no application %lld.",
							  (long long) c->application_id));
		tup = SPI_tuptable->vals[0];
		desc = SPI_tuptable->tupdesc;
		state = SPI_getvalue(tup, desc, 1);
		xmin = DatumGetTransactionId(SPI_getbinval(tup, desc, 2, &isnull));
		listed = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
		if (strcmp(state, "approved") != 0 ||
			!TransactionIdIsCurrentTransactionId(xmin))
			no_cause(imei, from, rule->to, reason,
					 strcmp(state, "approved") != 0 ?
					 psprintf("Application %lld is %s, not approved.",
							  (long long) c->application_id, state) :
					 psprintf("Application %lld was not approved in this transaction: an approval changes its IMEIs when it is decided.",
							  (long long) c->application_id));
		if (!listed)
			no_cause(imei, from, rule->to, reason,
					 strcmp(SPI_getvalue(tup, desc, 3), "board_replacement") == 0 ?
					 psprintf("Application %lld does not list IMEI %s as the new IMEI of a board replacement.",
							  (long long) c->application_id, imei_string(imei)) :
					 psprintf("Application %lld does not list IMEI %s.",
							  (long long) c->application_id, imei_string(imei)));
	}
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/* A note longer than the registry keeps: 22001, naming the IMEI and the limit */
static void
check_note_length(Imei imei, const char *note)
{
	int			n;

	if (note == NULL)
		return;
	n = pg_mbstrlen(note);
	if (n > REGISTRY_NOTE_MAX_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("note of IMEI %s is %d characters long; a registry note has at most %d",
						imei_string(imei), n, REGISTRY_NOTE_MAX_CHARS),
				 errdetail("Notes are copied into the append-only history, which keeps them short.")));
}

/*
 * registry_transition: BEFORE INSERT OR UPDATE FOR EACH ROW on registry.
 *
 * INSERT: the new status and reason must be a start the rules allow.
 * UPDATE that changes status (or, where a rule allows it, only the reason:
 * black for grey_expired becomes black for gsma_blocked): the change must be
 * allowed; since is stamped, grey_last_day is cleared when the row leaves
 * grey, and a cause column (application_id, import_id, note) that the UPDATE
 * did not set is cleared, so a history row never inherits the cause of an
 * older change.
 * UPDATE that keeps status and reason: since stays (it cannot be set by
 * hand); nothing else is checked and no history is written.
 */
Datum
registry_transition(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = row_trigger_guard(fcinfo, "registry_transition", true);
	Relation	rel = trigdata->tg_relation;
	TupleDesc	tupdesc = RelationGetDescr(rel);
	bool		is_insert = TRIGGER_FIRED_BY_INSERT(trigdata->tg_event);
	HeapTuple	newtuple = is_insert ? trigdata->tg_trigtuple : trigdata->tg_newtuple;
	HeapTuple	oldtuple = is_insert ? NULL : trigdata->tg_trigtuple;
	const RegistryAtts *a = registry_atts(rel);
	int			att_imei = a->imei;
	int			att_status = a->status;
	int			att_reason = a->reason;
	int			att_since = a->since;
	int			att_grey = a->grey_last_day;
	int			att_note = a->causes[2];
	int			cols[6];
	Datum		values[6];
	bool		nulls[6];
	int			ncols = 0;
	bool		isnull;
	Datum		d;
	Imei		imei;
	RegStatus	from = ST_NONE;
	RegStatus	to;
	char	   *reason;
	char	   *old_reason = NULL;
	int			i;

	d = heap_getattr(newtuple, att_imei, tupdesc, &isnull);
	if (isnull)
		return PointerGetDatum(newtuple);	/* NOT NULL will refuse it */
	imei = DatumGetImei(d);

	d = heap_getattr(newtuple, att_status, tupdesc, &isnull);
	if (isnull)
		return PointerGetDatum(newtuple);	/* NOT NULL will refuse it */
	to = status_of(DatumGetObjectId(d));
	reason = text_column(newtuple, tupdesc, att_reason);

	if (!is_insert)
	{
		Imei		old_imei = DatumGetImei(heap_getattr(oldtuple, att_imei,
														 tupdesc, &isnull));

		if (old_imei != imei)
			ereport(ERROR,
					(errcode(ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION),
					 errmsg("the IMEI of a registry row cannot change"),
					 errdetail("Row of IMEI %s would become IMEI %s.",
							   imei_string(old_imei), imei_string(imei))));
		from = status_of(DatumGetObjectId(heap_getattr(oldtuple, att_status,
													   tupdesc, &isnull)));
		old_reason = text_column(oldtuple, tupdesc, att_reason);

		if (from == to && reason != NULL && strcmp(reason, old_reason) != 0 &&
			reason_change_allowed(to, reason))
		{
			/* a change of reason the rules allow: a transition like any */
		}
		else if (from == to)
		{
			/* no change of status: the reason stays, and so does since */
			if (reason == NULL || strcmp(reason, old_reason) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
						 errmsg("IMEI %s cannot change its reason from \"%s\" to \"%s\" while it stays %s",
								imei_string(imei), old_reason,
								reason ? reason : "", status_names[to]),
						 errdetail("A reason changes only with the status it leads to.")));
			check_note_length(imei, text_column(newtuple, tupdesc, att_note));
			cols[ncols] = att_since;
			values[ncols] = heap_getattr(oldtuple, att_since, tupdesc, &nulls[ncols]);
			ncols++;
			return PointerGetDatum(heap_modify_tuple_by_cols(newtuple, tupdesc,
															 ncols, cols,
															 values, nulls));
		}

		/*
		 * A change of status: causes the UPDATE did not set are stale.  (Not
		 * "unchanged": setting a cause again to the same value is setting it.)
		 */
		for (i = 0; i < lengthof(a->causes); i++)
		{
			int			att = a->causes[i];
			bool		oldnull;

			(void) heap_getattr(oldtuple, att, tupdesc, &oldnull);
			if (!oldnull &&
				!bms_is_member(att - FirstLowInvalidHeapAttributeNumber,
							   trigdata->tg_updatedcols))
			{
				cols[ncols] = att;
				values[ncols] = (Datum) 0;
				nulls[ncols] = true;
				ncols++;
			}
		}
	}

	{
		const TransitionRule *rule;
		StoredCauses c;
		bool		cleared[lengthof(a->causes)] = {false, false, false};
		int			j;

		/* the causes as they will be stored */
		for (i = 0; i < ncols; i++)
			for (j = 0; j < lengthof(a->causes); j++)
				if (cols[i] == a->causes[j])
					cleared[j] = true;
		d = heap_getattr(newtuple, a->causes[0], tupdesc, &c.application_null);
		c.application_null |= cleared[0];
		c.application_id = c.application_null ? 0 : DatumGetInt64(d);
		d = heap_getattr(newtuple, a->causes[1], tupdesc, &c.import_null);
		c.import_null |= cleared[1];
		c.import_id = c.import_null ? 0 : DatumGetInt64(d);
		c.note = cleared[2] ? NULL : text_column(newtuple, tupdesc, att_note);

		check_note_length(imei, c.note);
		rule = check_transition(imei, from, old_reason, to, reason);
		check_cause(rel, att_imei, rule, imei, from, &c);
	}

	/* when the change is made, not when its transaction began */
	cols[ncols] = att_since;
	values[ncols] = TimestampTzGetDatum(GetCurrentTimestamp());
	nulls[ncols] = false;
	ncols++;
	if (to != ST_GREY)
	{
		cols[ncols] = att_grey;
		values[ncols] = (Datum) 0;
		nulls[ncols] = true;
		ncols++;
	}
	return PointerGetDatum(heap_modify_tuple_by_cols(newtuple, tupdesc, ncols,
													 cols, values, nulls));
}

/*
 * Who made the change: the session user, that is the login, not the owner
 * of a SECURITY DEFINER function that made the change on its behalf.
 */
static const char *
actor_name(void)
{
	static Oid	cached_id = InvalidOid;
	static char cached_name[NAMEDATALEN];
	Oid			id = GetSessionUserId();

	if (id != cached_id)
	{
		strlcpy(cached_name, GetUserNameFromId(id, false), NAMEDATALEN);
		cached_id = id;
	}
	return cached_name;
}

/*
 * registry_history: AFTER INSERT and AFTER UPDATE, FOR EACH STATEMENT on
 * registry, with transition tables (new_rows; old_rows for UPDATE).  One
 * INSERT ... SELECT per statement appends the history rows of every row the
 * statement inserted or whose status it changed: a bulk change of 100,000
 * rows is one set-based insert, not 100,000 executor runs.  The plans are
 * kept for the life of the backend.  It runs as the owner of the registry
 * table: nobody else needs (or gets) INSERT on history.
 *
 * For an UPDATE, the executor captures the old and the new version of each
 * row together, so the two transition tables are read in step (checked: the
 * imei of a row never changes) and the changed rows are handed to the
 * INSERT as one more tuplestore, "changed_rows": no join.  Same-status
 * UPDATEs (device_id, first connection) add nothing.
 */
#define HISTORY_INSERT \
	"INSERT INTO imei_registry.history " \
	"(imei, from_status, to_status, reason, actor, changed_at, " \
	"application_id, import_id, note) "

static const char *const history_sql[2] = {
	/* INSERT: every new row */
	HISTORY_INSERT
	"SELECT n.imei, NULL, n.status, n.reason, $1, n.since, "
	"n.application_id, n.import_id, n.note FROM new_rows n",
	/* UPDATE: the rows whose status changed, paired with their old status */
	HISTORY_INSERT
	"SELECT c.imei, c.from_status, c.status, c.reason, $1, c.since, "
	"c.application_id, c.import_id, c.note FROM changed_rows c"
};

/*
 * The new versions of the rows whose status an UPDATE changed, plus their
 * old status as from_status: a tuplestore registered for SPI as
 * "changed_rows".  Returns it (the caller ends it) and its row count.
 */
static Tuplestorestate *
register_changed_rows(TriggerData *trigdata, uint64 *count)
{
	TupleDesc	reldesc = RelationGetDescr(trigdata->tg_relation);
	const char *const cols[] = {"imei", "status", "reason", "since",
	"application_id", "import_id", "note"};
	int			atts[lengthof(cols)];
	int			att_status = column(reldesc, "status");
	int			att_reason = column(reldesc, "reason");
	int			att_imei = column(reldesc, "imei");
	TupleDesc	desc;
	Tuplestorestate *changed;
	TupleTableSlot *oldslot;
	TupleTableSlot *newslot;
	EphemeralNamedRelation enr;
	uint64		n = 0;
	int			i;
	int			ret;

	desc = CreateTemplateTupleDesc(lengthof(cols) + 1);
	for (i = 0; i < lengthof(cols); i++)
	{
		atts[i] = column(reldesc, cols[i]);
		TupleDescInitEntry(desc, i + 1, cols[i],
						   TupleDescAttr(reldesc, atts[i] - 1)->atttypid, -1, 0);
	}
	TupleDescInitEntry(desc, lengthof(cols) + 1, "from_status",
					   TupleDescAttr(reldesc, att_status - 1)->atttypid, -1, 0);

	changed = tuplestore_begin_heap(false, false, work_mem);
	oldslot = MakeSingleTupleTableSlot(reldesc, &TTSOpsMinimalTuple);
	newslot = MakeSingleTupleTableSlot(reldesc, &TTSOpsMinimalTuple);
	tuplestore_rescan(trigdata->tg_oldtable);
	tuplestore_rescan(trigdata->tg_newtable);
	while (tuplestore_gettupleslot(trigdata->tg_newtable, true, false, newslot))
	{
		Datum		values[lengthof(cols) + 1];
		bool		nulls[lengthof(cols) + 1];
		bool		isnull;
		Datum		oldstatus;

		if (!tuplestore_gettupleslot(trigdata->tg_oldtable, true, false, oldslot) ||
			DatumGetImei(slot_getattr(oldslot, att_imei, &isnull)) !=
			DatumGetImei(slot_getattr(newslot, att_imei, &isnull)))
			elog(ERROR, "registry_history: old and new rows out of step");
		oldstatus = slot_getattr(oldslot, att_status, &isnull);
		if (DatumGetObjectId(oldstatus) ==
			DatumGetObjectId(slot_getattr(newslot, att_status, &isnull)) &&
			DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID,
												 slot_getattr(oldslot, att_reason, &isnull),
												 slot_getattr(newslot, att_reason, &isnull))))
			continue;			/* neither status nor reason changed */
		for (i = 0; i < lengthof(cols); i++)
			values[i] = slot_getattr(newslot, atts[i], &nulls[i]);
		values[lengthof(cols)] = oldstatus;
		nulls[lengthof(cols)] = false;
		tuplestore_putvalues(changed, desc, values, nulls);
		n++;
	}
	ExecDropSingleTupleTableSlot(oldslot);
	ExecDropSingleTupleTableSlot(newslot);

	enr = palloc0(sizeof(EphemeralNamedRelationData));
	enr->md.name = "changed_rows";
	enr->md.reliddesc = InvalidOid;
	enr->md.tupdesc = desc;
	enr->md.enrtype = ENR_NAMED_TUPLESTORE;
	enr->md.enrtuples = n;
	enr->reldata = changed;
	ret = SPI_register_relation(enr);
	if (ret != SPI_OK_REL_REGISTER)
		elog(ERROR, "registry_history: SPI_register_relation failed: %s",
			 SPI_result_code_string(ret));
	*count = n;
	return changed;
}

Datum
registry_history(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plans[2] = {NULL, NULL};
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	Tuplestorestate *changed = NULL;
	uint64		nchanged = 0;
	int			which;
	int			ret;
	Oid			save_userid;
	int			save_sec_context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "registry_history: not fired by trigger manager");
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		elog(ERROR, "registry_history: must be fired after statement");
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		which = 0;
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		which = 1;
	else
		elog(ERROR, "registry_history: must be fired for INSERT or UPDATE");
	if (trigdata->tg_newtable == NULL || (which == 1 && trigdata->tg_oldtable == NULL))
		elog(ERROR, "registry_history: the trigger must have REFERENCING %s",
			 which == 0 ? "NEW TABLE AS new_rows"
			 : "OLD TABLE AS old_rows NEW TABLE AS new_rows");
	if (tuplestore_tuple_count(trigdata->tg_newtable) == 0)
		return PointerGetDatum(NULL);

	args[0] = CStringGetTextDatum(actor_name());

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(trigdata->tg_relation->rd_rel->relowner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_NOFORCE_RLS);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "registry_history: SPI_connect failed");
	if (which == 0)
	{
		ret = SPI_register_trigger_data(trigdata);
		if (ret != SPI_OK_TD_REGISTER)
			elog(ERROR, "registry_history: SPI_register_trigger_data failed: %s",
				 SPI_result_code_string(ret));
	}
	else
		changed = register_changed_rows(trigdata, &nchanged);

	/* an UPDATE that kept every status appends nothing */
	if (which == 0 || nchanged > 0)
	{
		if (plans[which] == NULL)
		{
			SPIPlanPtr	p = SPI_prepare(history_sql[which], 1, argtypes);

			if (p == NULL)
				elog(ERROR, "registry_history: SPI_prepare failed: %s",
					 SPI_result_code_string(SPI_result));
			SPI_keepplan(p);
			plans[which] = p;
		}
		/* history_insert_guard lets only this INSERT through */
		registry_writing_history = true;
		PG_TRY();
		{
			ret = SPI_execute_plan(plans[which], args, NULL, false, 0);
		}
		PG_FINALLY();
		{
			registry_writing_history = false;
		}
		PG_END_TRY();
		if (ret != SPI_OK_INSERT)
			elog(ERROR, "registry_history: insert into history failed: %s",
				 SPI_result_code_string(ret));
	}
	if (changed)
		tuplestore_end(changed);
	SPI_finish();

	SetUserIdAndSecContext(save_userid, save_sec_context);
	return PointerGetDatum(NULL);
}

/*
 * history_guard: on history.  BEFORE UPDATE OR DELETE (row) and BEFORE
 * TRUNCATE (statement) it refuses; BEFORE INSERT (row), enabled only in
 * replica mode, it stamps xid with the writing transaction, so rows that a
 * restore or a logical-replication subscriber applies get xids of this
 * cluster and the change feed keeps its order.  (In normal operation the
 * column's DEFAULT does the same without a trigger call per row.)
 */
Datum
history_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	int			att;
	Datum		value;
	bool		isnull = false;
	const char *what;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "history_guard: not fired by trigger manager");
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		elog(ERROR, "history_guard: must be fired before event");

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
			elog(ERROR, "history_guard: INSERT must be fired for row");
		tupdesc = RelationGetDescr(trigdata->tg_relation);
		att = column(tupdesc, "xid");
		value = FullTransactionIdGetDatum(GetTopFullTransactionId());
		return PointerGetDatum(heap_modify_tuple_by_cols(trigdata->tg_trigtuple,
														 tupdesc, 1, &att,
														 &value, &isnull));
	}

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		what = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		what = "DELETE";
	else
		what = "TRUNCATE";
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s of %s is not allowed", what,
					RelationGetRelationName(trigdata->tg_relation)),
			 errdetail("The status history is append-only.")));
	PG_RETURN_NULL();			/* not reached */
}

/*
 * reason_leads_to(reason text, status) -> boolean: does some rule reach this
 * status by this reason?  The registry's CHECK constraint, so that a row
 * written with the trigger disabled still pairs reason and status as the
 * rules do.  (A foreign key to reasons would also do that, but every writer
 * would take a KEY SHARE lock on the same few reasons rows.)
 */
Datum
reason_leads_to(PG_FUNCTION_ARGS)
{
	text	   *reason = PG_GETARG_TEXT_PP(0);
	RegStatus	to = status_of(PG_GETARG_OID(1));
	size_t		len = VARSIZE_ANY_EXHDR(reason);
	int			i;

	for (i = 0; i < lengthof(rules); i++)
		if (rules[i].to == to && strlen(rules[i].reason) == len &&
			memcmp(rules[i].reason, VARDATA_ANY(reason), len) == 0)
			PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(false);
}
