/*
 * transitions.c
 *		The status state machine of imei_registry.registry and the history
 *		it writes.  (The guard that keeps imei_registry.history append-only
 *		is in registry_guards.c.)
 *
 * Two triggers:
 *
 *	registry_transition		BEFORE INSERT OR UPDATE, FOR EACH ROW on registry:
 *							checks a new row or a change of status against the
 *							rules of rules.c (SQLSTATE IR001 when they forbid
 *							it), stores the base code of a site's reason in
 *							reason_base, stamps since, clears grey_last_day
 *							outside grey.
 *	registry_history		AFTER INSERT and AFTER UPDATE, FOR EACH STATEMENT
 *							on registry, with transition tables: appends the
 *							history rows of the statement in one INSERT, as
 *							the table owner, with saved plans.
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
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "mb/pg_wchar.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/queryenvironment.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "devices.h"
#include "grey.h"
#include "history_insert.h"
#include "guc.h"
#include "imei.h"
#include "operators.h"
#include "relcheck.h"
#include "rules.h"
#include "spi_receiver.h"
#include "registry.h"

bool		registry_writing_history = false;

PG_FUNCTION_INFO_V1(registry_transition);
PG_FUNCTION_INFO_V1(registry_history);

/*
 * The columns of the registry the row trigger reads, after the checks of
 * relcheck.c: rel is the extension's registry and each column has the type
 * read here.
 */
typedef struct RegistryAtts
{
	int			imei;
	int			status;
	int			reason;
	int			reason_base;
	int			since;
	int			grey_last_day;
	int			grey_period_days;
	int			first_seen_at;
	int			first_operator;
	int			device_id;
	int			causes[3];		/* application_id, import_id, note */
} RegistryAtts;

/* The guards of registry_transition, as core's triggers have them */
static TriggerData *
row_trigger_guard(FunctionCallInfo fcinfo, const char *caller)
{
	TriggerData *trigdata = trigger_data(fcinfo, caller);

	trigger_require(trigdata, caller, TRIG_INSERT | TRIG_UPDATE, true, true);
	return trigdata;
}

static const RegistryAtts *
registry_atts(Relation rel, const char *caller)
{
	static RegistryAtts a;
	const AttrNumber *att = ext_columns(rel, EXT_REGISTRY, caller);

	a.imei = att[REG_IMEI];
	a.status = att[REG_STATUS];
	a.reason = att[REG_REASON];
	a.reason_base = att[REG_REASON_BASE];
	a.since = att[REG_SINCE];
	a.grey_last_day = att[REG_GREY_LAST_DAY];
	a.grey_period_days = att[REG_GREY_PERIOD_DAYS];
	a.first_seen_at = att[REG_FIRST_SEEN_AT];
	a.first_operator = att[REG_FIRST_OPERATOR];
	a.device_id = att[REG_DEVICE_ID];
	a.causes[0] = att[REG_APPLICATION_ID];
	a.causes[1] = att[REG_IMPORT_ID];
	a.causes[2] = att[REG_NOTE];
	return &a;
}

/*
 * A registry row as the row trigger reads it: each version deformed once
 * (a look-up of each column by heap_getattr walks the tuple from its start
 * past the text columns).
 */
typedef struct RegRow
{
	HeapTuple	tuple;
	Datum	   *values;
	bool	   *isnull;
} RegRow;

/* (a column added since the row was written reads as its default) */
static void
reg_row_read(RegRow *row, HeapTuple tuple, TupleDesc tupdesc)
{
	row->tuple = tuple;
	row->values = palloc(tupdesc->natts * sizeof(Datum));
	row->isnull = palloc(tupdesc->natts * sizeof(bool));
	heap_deform_tuple(tuple, tupdesc, row->values, row->isnull);
}

static inline Datum
reg_get(const RegRow *row, int attnum, bool *isnull)
{
	*isnull = row->isnull[attnum - 1];
	return row->values[attnum - 1];
}

static char *
text_column(const RegRow *row, int attnum)
{
	bool		isnull;
	Datum		d = reg_get(row, attnum, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * The new version with ncols columns set: heap_modify_tuple_by_cols() from
 * the values already read.
 */
static HeapTuple
reg_row_modified(const RegRow *row, TupleDesc tupdesc, int ncols,
				 const int *cols, const Datum *values, const bool *nulls)
{
	HeapTuple	tuple;
	int			i;

	for (i = 0; i < ncols; i++)
	{
		row->values[cols[i] - 1] = values[i];
		row->isnull[cols[i] - 1] = nulls[i];
	}
	tuple = heap_form_tuple(tupdesc, row->values, row->isnull);
	tuple->t_data->t_ctid = row->tuple->t_data->t_ctid;
	tuple->t_self = row->tuple->t_self;
	tuple->t_tableOid = row->tuple->t_tableOid;
	return tuple;
}

static char *
imei_string(Imei value)
{
	return psprintf("%015" INT64_MODIFIER "d", value);
}

/*
 * Check one change (or a new row: from = ST_NONE) against the rules
 * (rules.c).  Returns the entry that allows it; the causes its conditions
 * name that need a look-up (an import, an application) are checked by
 * check_cause().
 */
/* What a change knows of the row's dates, for the rules' conditions */
typedef struct RowDates
{
	bool		has_first_seen;
	TimestampTz first_seen_at;	/* the new row's */
	bool		has_grey_last_day;
	DateADT		grey_last_day;	/* the old row's */
} RowDates;

static const TransitionRule *
check_transition(Imei imei, RegStatus from, const char *old_reason,
				 const char *old_base, RegStatus to, const char *reason,
				 const char *base, const char *note, const RowDates *dates,
				 bool history_only)
{
	RuleChange	change;

	memset(&change, 0, sizeof(change));
	change.imei = imei;
	change.history_only = history_only;
	change.has_first_seen = dates->has_first_seen;
	change.first_seen_at = dates->first_seen_at;
	change.has_grey_last_day = dates->has_grey_last_day;
	change.grey_last_day = dates->grey_last_day;
	change.from = from;
	change.from_reason = old_reason;
	change.from_base = old_base;
	change.to = to;
	change.reason = reason;
	change.base = base;
	change.note = note;
	change.with_cause = true;
	rules_enforce(imei, &change);
	return rules_entry(from, to, base);
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
static SPIPlanPtr plan_listed = NULL;
static SPIPlanPtr plan_listed_all = NULL;

/*
 * lawful_import rows of one statement usually share their import: the last
 * import found is remembered until the (sub)transaction ends.
 */
static int64 import_found = -1;

/*
 * The rows of one statement that cite an application (a decision's UPDATE
 * of 20,000 IMEIs) share it: its facts are read once per statement, and the
 * IMEIs it lists are read once, as a set, when a second row asks; the first
 * row probes for its own IMEI.  "One statement" is one command id of this
 * transaction: a write in between (a trigger's, say) makes a new one, and
 * the facts are read again.  Kept until the (sub)transaction ends.  The
 * application row is this transaction's own (approved in it), so no other
 * transaction changes it meanwhile.
 */
typedef struct ApplicationFacts
{
	bool		valid;
	int64		id;
	CommandId	cid;
	bool		found;
	char	   *state;
	bool		this_transaction;	/* its row was written by this transaction */
	char	   *method;
	bool		goods_declaration;
	bool		probed;			/* a row of the statement probed for its IMEI */
	HTAB	   *listed;			/* the IMEIs it lists (NULL: not read yet) */
} ApplicationFacts;

static ApplicationFacts app_facts;
static MemoryContext app_facts_context = NULL;

static void
forget_causes_found(void)
{
	import_found = -1;
	app_facts.valid = false;
	app_facts.listed = NULL;
	/* the context is a child of TopTransactionContext: it goes with it */
	app_facts_context = NULL;
}

static void
cause_xact_callback(XactEvent event, void *arg)
{
	forget_causes_found();
}

static void
cause_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		forget_causes_found();
}

static SPIPlanPtr
keep_plan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	p = SPI_prepare(sql, nargs, argtypes);

	if (p == NULL || SPI_keepplan(p) != 0)
		elog(ERROR, "registry_transition: SPI_prepare failed: %s",
			 SPI_result_code_string(SPI_result));
	return p;
}

/*
 * What lists an IMEI in an application: one of its IMEIs, and for a board
 * replacement also the new IMEI of one of its replacements.
 */
#define APPLICATION_LISTS(imei) \
	" EXISTS (SELECT FROM imei_registry.application_replacements rp" \
	"  WHERE rp.application_id OPERATOR(pg_catalog.=) a.id" \
	"  AND rp.new_imei OPERATOR(pg_catalog.=) " imei ")"

static void
prepare_cause_plans(Oid imei_type)
{
	static bool callbacks_registered = false;
	Oid			a1[1] = {INT8OID};
	Oid			a2[2] = {INT8OID, imei_type};
	SPIPlanPtr *plans[] = {&plan_import, &plan_application, &plan_listed,
	&plan_listed_all};
	int			i;

	if (!callbacks_registered)
	{
		RegisterXactCallback(cause_xact_callback, NULL);
		RegisterSubXactCallback(cause_subxact_callback, NULL);
		callbacks_registered = true;
	}
	if (cause_plans_imei_type == imei_type)
		return;
	for (i = 0; i < lengthof(plans); i++)
	{
		if (*plans[i])
			SPI_freeplan(*plans[i]);
		*plans[i] = NULL;
	}
	cause_plans_imei_type = InvalidOid;

	/* an importer's registration: not the imports row of a COPY */
	plan_import = keep_plan("SELECT 1 FROM imei_registry.imports i"
							" WHERE i.import_id OPERATOR(pg_catalog.=) $1"
							" AND i.target IS NULL", 1, a1);

	/* its state, the transaction that wrote it last, its kind */
	plan_application = keep_plan("SELECT a.state, a.xmin, a.method,"
								 " EXISTS (SELECT FROM imei_registry.application_documents d"
								 "  WHERE d.application_id OPERATOR(pg_catalog.=) a.id"
								 "  AND d.type OPERATOR(pg_catalog.=) 'goods_declaration')"
								 " FROM imei_registry.applications a"
								 " WHERE a.id OPERATOR(pg_catalog.=) $1", 1, a1);

	/*
	 * Does it list one IMEI.  The IMEI is looked up through
	 * application_imeis_imei: "+ 0" keeps the planner off the primary key,
	 * whose prefix application_id matches every IMEI of a large application
	 * (one probe, not a scan).
	 */
	plan_listed = keep_plan("SELECT EXISTS (SELECT FROM imei_registry.application_imeis ai"
							"  WHERE ai.imei OPERATOR(pg_catalog.=) $2"
							"  AND (ai.application_id OPERATOR(pg_catalog.+) 0) OPERATOR(pg_catalog.=) a.id)"
							" AND (a.method OPERATOR(pg_catalog.<>) 'board_replacement' OR"
							APPLICATION_LISTS("$2") ")"
							" FROM imei_registry.applications a"
							" WHERE a.id OPERATOR(pg_catalog.=) $1", 2, a2);

	/* every IMEI it lists, as the same condition */
	plan_listed_all = keep_plan("SELECT ai.imei FROM imei_registry.applications a"
								" JOIN imei_registry.application_imeis ai"
								"  ON ai.application_id OPERATOR(pg_catalog.=) a.id"
								" WHERE a.id OPERATOR(pg_catalog.=) $1 AND ai.imei IS NOT NULL"
								" AND (a.method OPERATOR(pg_catalog.<>) 'board_replacement' OR"
								APPLICATION_LISTS("ai.imei") ")", 1, a1);
	cause_plans_imei_type = imei_type;
}

static void
execute_cause_plan(SPIPlanPtr plan, Datum *args)
{
	int			ret = SPI_execute_plan(plan, args, NULL, false, 0);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "registry_transition: SPI_execute_plan failed: %s",
			 SPI_result_code_string(ret));
}

/* The facts of application id for this statement (SPI connected) */
static ApplicationFacts *
application_facts(int64 id)
{
	CommandId	cid = GetCurrentCommandId(false);
	Datum		args[1];
	MemoryContext old;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;

	if (app_facts.valid && app_facts.id == id && app_facts.cid == cid)
		return &app_facts;

	if (app_facts_context == NULL)
		app_facts_context = AllocSetContextCreate(TopTransactionContext,
												  "imei_registry application facts",
												  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(app_facts_context);
	app_facts.valid = false;
	app_facts.probed = false;
	app_facts.listed = NULL;

	args[0] = Int64GetDatum(id);
	execute_cause_plan(plan_application, args);
	old = MemoryContextSwitchTo(app_facts_context);
	app_facts.found = SPI_processed > 0;
	if (app_facts.found)
	{
		tup = SPI_tuptable->vals[0];
		desc = SPI_tuptable->tupdesc;
		app_facts.state = SPI_getvalue(tup, desc, 1);
		app_facts.this_transaction =
			TransactionIdIsCurrentTransactionId(DatumGetTransactionId(SPI_getbinval(tup, desc, 2, &isnull)));
		app_facts.method = SPI_getvalue(tup, desc, 3);
		app_facts.goods_declaration = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
	}
	MemoryContextSwitchTo(old);
	app_facts.id = id;
	app_facts.cid = cid;
	app_facts.valid = true;
	return &app_facts;
}

/*
 * The IMEIs an application lists, read into a hash table as the statement
 * returns them (no result set of as many tuples formed and read back).
 */
typedef struct ListedReceiver
{
	DestReceiver pub;
	HTAB	   *listed;
} ListedReceiver;

static bool
listed_receive(TupleTableSlot *slot, DestReceiver *self)
{
	bool		isnull;
	Datum		value = slot_getattr(slot, 1, &isnull);

	if (!isnull)
	{
		Imei		imei = DatumGetImei(value);

		(void) hash_search(((ListedReceiver *) self)->listed, &imei, HASH_ENTER, NULL);
	}
	return true;
}

/*
 * Does the application list the IMEI: the first row of a statement that
 * asks probes for its own IMEI, the next one reads the set (SPI connected).
 */
static bool
application_lists(ApplicationFacts *facts, Imei imei)
{
	Datum		args[2];
	bool		isnull;
	bool		found;

	args[0] = Int64GetDatum(facts->id);
	if (!facts->probed)
	{
		facts->probed = true;
		args[1] = ImeiGetDatum(imei);
		execute_cause_plan(plan_listed, args);
		return SPI_processed > 0 &&
			DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									   1, &isnull));
	}
	if (facts->listed == NULL)
	{
		HASHCTL		ctl;
		ListedReceiver receiver;
		SPIExecuteOptions options;
		Oid			id_type = INT8OID;
		int			ret;

		ctl.keysize = sizeof(Imei);
		ctl.entrysize = sizeof(Imei);
		ctl.hcxt = app_facts_context;
		receiver.listed = hash_create("imei_registry listed IMEIs", 1024, &ctl,
									  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		spi_receiver_init(&receiver.pub, listed_receive, NULL);
		memset(&options, 0, sizeof(options));
		options.params = spi_const_params(1, &id_type, args);
		options.dest = &receiver.pub;
		ret = SPI_execute_plan_extended(plan_listed_all, &options);
		if (ret < 0)
			elog(ERROR, "registry_transition: SPI_execute_plan_extended failed: %s",
				 SPI_result_code_string(ret));
		facts->listed = receiver.listed;
	}
	(void) hash_search(facts->listed, &imei, HASH_FIND, &found);
	return found;
}

static void
no_cause(Imei imei, RegStatus from, RegStatus to, const char *reason,
		 const char *detail)
{
	if (from == ST_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
				 errmsg("new IMEI %s cannot start %s by reason \"%s\" without its cause",
						imei_string(imei), reg_status_names[to], reason),
				 errdetail_internal("%s", detail)));
	ereport(ERROR,
			(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
			 errmsg("IMEI %s cannot change from %s to %s by reason \"%s\" without its cause",
					imei_string(imei), reg_status_names[from], reg_status_names[to],
					reason),
			 errdetail_internal("%s", detail)));
}

/*
 * The application a change cites (application_id) is approved in this
 * transaction, lists the IMEI, and is of the kind the rule names.  SPI is
 * connected unless the facts have the set of listed IMEIs.
 */
static void
check_application(ApplicationFacts *facts, const TransitionRule *rule,
				  Imei imei, RegStatus from)
{
	const char *reason = rule->reason;
	long long	id = (long long) facts->id;

	if (!facts->found)
		no_cause(imei, from, rule->to, reason,
				 psprintf("There is no application %lld.", id));
	if (strcmp(facts->state, "approved") != 0)
		no_cause(imei, from, rule->to, reason,
				 psprintf("Application %lld is %s, not approved.", id, facts->state));
	if (!facts->this_transaction)
		no_cause(imei, from, rule->to, reason,
				 psprintf("Application %lld was not approved in this transaction: an approval changes its IMEIs when it is decided.",
						  id));
	if (!application_lists(facts, imei))
		no_cause(imei, from, rule->to, reason,
				 strcmp(facts->method, "board_replacement") == 0 ?
				 psprintf("Application %lld does not list IMEI %s as the new IMEI of a board replacement.",
						  id, imei_string(imei)) :
				 psprintf("Application %lld does not list IMEI %s.",
						  id, imei_string(imei)));
	if ((rule->conditions & RULE_COMMERCIAL_IMPORT) &&
		(strcmp(facts->method, "commercial_import") != 0 || !facts->goods_declaration))
		no_cause(imei, from, rule->to, reason,
				 psprintf("Reason \"%s\" makes a grey IMEI white only by a commercial-import application with a goods declaration; application %lld is not one.",
						  reason, id));
	if ((rule->conditions & RULE_BOARD_REPLACEMENT) &&
		strcmp(facts->method, "board_replacement") != 0)
		no_cause(imei, from, rule->to, reason,
				 psprintf("Reason \"%s\" starts a new IMEI white only as the new IMEI of a board replacement; application %lld is a %s.",
						  reason, id, facts->method));
}

/*
 * A reason whose entry names a cause that needs a look-up (RULE_IMPORT,
 * RULE_APPLICATION in rules.c) needs that cause to exist, and to be of the
 * kind the entry names (RULE_COMMERCIAL_IMPORT, RULE_BOARD_REPLACEMENT).  The
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
	Datum		args[1];
	bool		need_import;
	bool		need_application;

	if (rule->conditions & RULE_IMPORT)
	{
		if (c->import_null)
			no_cause(imei, from, rule->to, reason,
					 psprintf("Reason \"%s\" needs import_id: the importer's registration (imei_registry.register_import()).",
							  reason));
	}
	if (rule->conditions & RULE_APPLICATION)
	{
		if (c->application_null)
			no_cause(imei, from, rule->to, reason,
					 (rule->conditions & RULE_COMMERCIAL_IMPORT) ?
					 psprintf("Reason \"%s\" makes a grey IMEI white only by the importer's approved commercial-import application (application_id) and its import (import_id): imei_registry.register_import() leaves a grey IMEI grey.",
							  reason) :
					 psprintf("Reason \"%s\" needs application_id: the application approved by imei_registry.decide_application().",
							  reason));
	}
	need_import = (rule->conditions & RULE_IMPORT) && c->import_id != import_found;
	need_application = (rule->conditions & RULE_APPLICATION) != 0;
	if (!need_import && !need_application)
		return;

	/* a statement's later rows: the facts and the set are at hand */
	if (!need_import && app_facts.valid && app_facts.id == c->application_id &&
		app_facts.cid == GetCurrentCommandId(false) && app_facts.listed != NULL)
	{
		check_application(&app_facts, rule, imei, from);
		return;
	}

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(rel->rd_rel->relowner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "registry_transition: SPI_connect failed");
	prepare_cause_plans(TupleDescAttr(RelationGetDescr(rel), att_imei - 1)->atttypid);

	if (need_import)
	{
		args[0] = Int64GetDatum(c->import_id);
		execute_cause_plan(plan_import, args);
		if (SPI_processed == 0)
			no_cause(imei, from, rule->to, reason,
					 psprintf("Import %lld is not an importer's registration in imei_registry.imports.",
							  (long long) c->import_id));
		import_found = c->import_id;
	}
	if (need_application)
		check_application(application_facts(c->application_id), rule, imei, from);
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);

	/*
	 * The look-ups' own step of the command counter (SPI's, before its
	 * first query in this statement) is no write: the facts stay.
	 */
	if (app_facts.valid)
		app_facts.cid = GetCurrentCommandId(false);
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

static bool
updated(TriggerData *trigdata, int att)
{
	return TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		bms_is_member(att - FirstLowInvalidHeapAttributeNumber,
					  trigdata->tg_updatedcols);
}

static char *
date_text(DateADT d)
{
	return DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(d)));
}

/*
 * The first connection of a row, whoever writes: plausible when it is set
 * or moved; on an UPDATE only earlier, never cleared, and first_operator
 * changes only with it.  Returns whether it moved earlier.
 */
static bool
check_first_seen(Imei imei, const RegRow *oldrow, const RegRow *newrow,
				 const RegistryAtts *a, RowDates *dates)
{
	bool		isnull;
	Datum		d;
	bool		old_seen = false;
	TimestampTz old_at = 0;
	bool		moved = false;
	bool		set;
	const char *problem;

	d = reg_get(newrow, a->first_seen_at, &isnull);
	dates->has_first_seen = !isnull;
	dates->first_seen_at = isnull ? 0 : DatumGetTimestampTz(d);
	if (oldrow != NULL)
	{
		d = reg_get(oldrow, a->first_seen_at, &isnull);
		old_seen = !isnull;
		old_at = isnull ? 0 : DatumGetTimestampTz(d);
	}
	if (old_seen && !dates->has_first_seen)
		ereport(ERROR,
				(errcode(ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION),
				 errmsg("the first connection of IMEI %s cannot be cleared",
						imei_string(imei)),
				 errdetail("It is %s.", timestamptz_to_str(old_at))));
	if (old_seen && dates->first_seen_at > old_at)
		ereport(ERROR,
				(errcode(ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION),
				 errmsg("the first connection of IMEI %s cannot move later",
						imei_string(imei)),
				 errdetail("It is %s; %s is later.", pstrdup(timestamptz_to_str(old_at)),
						   timestamptz_to_str(dates->first_seen_at)),
				 errhint("first_seen_at is the earliest connection any operator reported: it only moves earlier.")));
	moved = old_seen && dates->first_seen_at < old_at;
	set = dates->has_first_seen && !old_seen;
	if ((moved || set) &&
		(problem = connection_time_problem(dates->first_seen_at)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("first connection %s of IMEI %s is not a plausible time",
						timestamptz_to_str(dates->first_seen_at), imei_string(imei)),
				 errdetail("%c%s.", pg_toupper(problem[0]), problem + 1)));
	if (oldrow != NULL && !moved && !set)
	{
		bool		oldnull;
		bool		newnull;
		Datum		o = reg_get(oldrow, a->first_operator, &oldnull);
		Datum		n = reg_get(newrow, a->first_operator, &newnull);

		if (oldnull != newnull ||
			(!oldnull && !DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID, o, n))))
			ereport(ERROR,
					(errcode(ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION),
					 errmsg("the first operator of IMEI %s changes only with its first connection",
							imei_string(imei)),
					 errdetail("first_operator is the operator of the earliest connection, first_seen_at.")));
	}
	return moved;
}

/*
 * The first operator, where a write sets or changes it, is an operator of
 * imei_registry.operators: the check of a foreign key, from the cache of
 * codes that never go away (src/operators.c) instead of a probe per row.
 */
static void
check_first_operator(Imei imei, const RegRow *oldrow, const RegRow *newrow,
					 const RegistryAtts *a)
{
	bool		isnull;
	Datum		d = reg_get(newrow, a->first_operator, &isnull);
	char	   *code;

	if (isnull)
		return;
	if (oldrow != NULL)
	{
		bool		oldnull;
		Datum		o = reg_get(oldrow, a->first_operator, &oldnull);

		if (!oldnull &&
			DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID, o, d)))
			return;				/* checked when it was written */
	}
	code = TextDatumGetCString(d);
	if (!operator_known(code))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("first operator \"%s\" of IMEI %s is not in imei_registry.operators",
						code, imei_string(imei)),
				 errdetail("first_operator is the operator of the first connection.")));
}

/*
 * registry.device_id names a row of imei_registry.devices: a new row's, or
 * a changed one (devices.c; no foreign key).  A device_id kept is not
 * looked up again: devices_guard keeps a named device.
 */
static void
check_device(Imei imei, const RegRow *oldrow, const RegRow *newrow,
			 const RegistryAtts *a)
{
	bool		isnull;
	Datum		d = reg_get(newrow, a->device_id, &isnull);

	if (isnull)
		return;
	if (oldrow != NULL)
	{
		bool		oldnull;
		Datum		o = reg_get(oldrow, a->device_id, &oldnull);

		if (!oldnull && DatumGetInt64(o) == DatumGetInt64(d))
			return;
	}
	device_reference_check(imei, DatumGetInt64(d));
}

/*
 * The grey period of a grey row, its own fact: the length it got when it
 * turned grey (stored in grey_period_days) and the last day, always the
 * local date of first_seen_at plus that length.  A write that sets either
 * to anything else is refused.  Appends the columns to set.
 */
static int
grey_period(Imei imei, TriggerData *trigdata, const RegRow *oldrow,
			const RegRow *newrow, const RegistryAtts *a,
			const RowDates *dates, int *cols, Datum *values, bool *nulls,
			int ncols)
{
	bool		isnull;
	Datum		d;
	int			days;
	DateADT		last;

	if (oldrow != NULL)
		days = DatumGetInt32(reg_get(oldrow, a->grey_period_days, &isnull));
	else
	{
		days = imei_grey_period_days;
		isnull = false;
	}
	if (isnull)
		elog(ERROR, "imei_registry: grey row of IMEI %s has no period length",
			 imei_string(imei));
	d = reg_get(newrow, a->grey_period_days, &isnull);
	if (updated(trigdata, a->grey_period_days) && !isnull && DatumGetInt32(d) != days)
		ereport(ERROR,
				(errcode(ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION),
				 errmsg("the grey period of IMEI %s is %d days, not %d",
						imei_string(imei), days, DatumGetInt32(d)),
				 errdetail("A grey period has the length imei_registry.grey_period_days had when the IMEI turned grey.")));
	if (!dates->has_first_seen)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("grey IMEI %s needs its first connection", imei_string(imei)),
				 errdetail("The grey period starts at first_seen_at.")));
	last = grey_period_last_day(dates->first_seen_at, days);
	d = reg_get(newrow, a->grey_last_day, &isnull);
	if (updated(trigdata, a->grey_last_day) && !isnull && DatumGetDateADT(d) != last)
		ereport(ERROR,
				(errcode(ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION),
				 errmsg("the last day of grey of IMEI %s is %s, not %s",
						imei_string(imei), date_text(last), date_text(DatumGetDateADT(d))),
				 errdetail("The last day is the local date (Asia/Almaty) of first_seen_at, %s, plus %d days.",
						   timestamptz_to_str(dates->first_seen_at), days),
				 errhint("A report of an earlier connection moves it; nothing else does.")));
	cols[ncols] = a->grey_period_days;
	values[ncols] = Int32GetDatum(days);
	nulls[ncols] = false;
	ncols++;
	cols[ncols] = a->grey_last_day;
	values[ncols] = DateADTGetDatum(last);
	nulls[ncols] = false;
	ncols++;
	return ncols;
}

/*
 * registry_transition: BEFORE INSERT OR UPDATE FOR EACH ROW on registry.
 *
 * INSERT: the new status and reason must be a start the rules allow.
 * UPDATE that changes status (or, where a rule allows it, only the reason:
 * black for grey_expired becomes black for gsma_blocked): the change must be
 * allowed; since is stamped, grey_last_day and grey_period_days are cleared
 * when the row leaves grey, and a cause column (application_id, import_id,
 * note) that the UPDATE did not set is cleared, so a history row never
 * inherits the cause of an older change.  reason_base is the base code of a
 * site's reason, NULL for a shipped one (its own base).
 * UPDATE that keeps status and reason: since and reason_base stay (they
 * cannot be set by hand).  A grey row whose first connection moves earlier
 * is the rules' history-only change grey -> grey by earlier_connection (the
 * history trigger writes its row); anything else adds no history.
 * Whoever writes: first_seen_at only moves earlier (check_first_seen), and
 * a grey row's period is its own (grey_period).
 */
Datum
registry_transition(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = row_trigger_guard(fcinfo, "registry_transition");
	Relation	rel = trigdata->tg_relation;
	TupleDesc	tupdesc = RelationGetDescr(rel);
	bool		is_insert = TRIGGER_FIRED_BY_INSERT(trigdata->tg_event);
	HeapTuple	newtuple = is_insert ? trigdata->tg_trigtuple : trigdata->tg_newtuple;
	HeapTuple	oldtuple = is_insert ? NULL : trigdata->tg_trigtuple;
	RegRow		newrow_read;
	RegRow		oldrow_read;
	RegRow	   *newrow = &newrow_read;
	RegRow	   *oldrow = NULL;
	const RegistryAtts *a = registry_atts(rel, "registry_transition");
	int			att_imei = a->imei;
	int			att_status = a->status;
	int			att_reason = a->reason;
	int			att_base = a->reason_base;
	int			att_since = a->since;
	int			att_grey = a->grey_last_day;
	int			att_note = a->causes[2];
	int			cols[9];
	Datum		values[9];
	bool		nulls[9];
	int			ncols = 0;
	bool		isnull;
	Datum		d;
	Imei		imei;
	RegStatus	from = ST_NONE;
	RegStatus	to;
	char	   *reason;
	const char *base;
	char	   *old_reason = NULL;
	char	   *old_base = NULL;
	RowDates	dates;
	bool		moved;
	int			i;

	reg_row_read(newrow, newtuple, tupdesc);
	if (oldtuple != NULL)
	{
		reg_row_read(&oldrow_read, oldtuple, tupdesc);
		oldrow = &oldrow_read;
	}
	d = reg_get(newrow, att_imei, &isnull);
	if (isnull)
		return PointerGetDatum(newtuple);	/* NOT NULL will refuse it */
	imei = DatumGetImei(d);

	d = reg_get(newrow, att_status, &isnull);
	if (isnull)
		return PointerGetDatum(newtuple);	/* NOT NULL will refuse it */
	to = rules_status_of(DatumGetObjectId(d));
	reason = text_column(newrow, att_reason);
	base = rules_reason_base(reason);
	memset(&dates, 0, sizeof(dates));

	if (!is_insert)
	{
		Imei		old_imei = DatumGetImei(reg_get(oldrow, att_imei, &isnull));

		if (old_imei != imei)
			ereport(ERROR,
					(errcode(ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION),
					 errmsg("the IMEI of a registry row cannot change"),
					 errdetail("Row of IMEI %s would become IMEI %s.",
							   imei_string(old_imei), imei_string(imei))));
		from = rules_status_of(DatumGetObjectId(reg_get(oldrow, att_status, &isnull)));
		old_reason = text_column(oldrow, att_reason);
		old_base = text_column(oldrow, att_base);
		if (old_base == NULL)
			old_base = old_reason;	/* a shipped code is its own base */
		d = reg_get(oldrow, att_grey, &isnull);
		dates.has_grey_last_day = !isnull;
		dates.grey_last_day = isnull ? 0 : DatumGetDateADT(d);
	}
	moved = check_first_seen(imei, oldrow, newrow, a, &dates);
	check_first_operator(imei, oldrow, newrow, a);
	check_device(imei, oldrow, newrow, a);

	if (!is_insert)
	{
		if (from == to && reason != NULL && strcmp(reason, old_reason) != 0 &&
			base != NULL && rules_entry(to, to, base) != NULL)
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
								reason ? reason : "", reg_status_names[to]),
						 errdetail("A reason changes only with the status it leads to.")));
			check_note_length(imei, text_column(newrow, att_note));
			/* an earlier first connection: the rules' history-only change */
			if (moved)
				check_transition(imei, from, old_reason, old_base, to,
								 "earlier_connection", "earlier_connection",
								 NULL, &dates, true);
			cols[ncols] = att_since;
			values[ncols] = reg_get(oldrow, att_since, &nulls[ncols]);
			ncols++;
			cols[ncols] = att_base;
			values[ncols] = reg_get(oldrow, att_base, &nulls[ncols]);
			ncols++;
			if (to == ST_GREY)
				ncols = grey_period(imei, trigdata, oldrow, newrow, a,
									&dates, cols, values, nulls, ncols);
			return PointerGetDatum(reg_row_modified(newrow, tupdesc,
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

			(void) reg_get(oldrow, att, &oldnull);
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
		d = reg_get(newrow, a->causes[0], &c.application_null);
		c.application_null |= cleared[0];
		c.application_id = c.application_null ? 0 : DatumGetInt64(d);
		d = reg_get(newrow, a->causes[1], &c.import_null);
		c.import_null |= cleared[1];
		c.import_id = c.import_null ? 0 : DatumGetInt64(d);
		c.note = cleared[2] ? NULL : text_column(newrow, att_note);

		check_note_length(imei, c.note);
		rule = check_transition(imei, from, old_reason, old_base, to, reason,
								base, c.note, &dates, false);
		check_cause(rel, att_imei, rule, imei, from, &c);
	}

	/* when the change is made, not when its transaction began */
	cols[ncols] = att_since;
	values[ncols] = TimestampTzGetDatum(GetCurrentTimestamp());
	nulls[ncols] = false;
	ncols++;
	/* only a site's code needs its base in the row */
	cols[ncols] = att_base;
	nulls[ncols] = strcmp(base, reason) == 0;
	values[ncols] = nulls[ncols] ? (Datum) 0 : CStringGetTextDatum(base);
	ncols++;
	if (to == ST_GREY)
		ncols = grey_period(imei, trigdata, from == ST_GREY ? oldrow : NULL,
							newrow, a, &dates, cols, values, nulls,
							ncols);
	else
	{
		cols[ncols] = att_grey;
		values[ncols] = (Datum) 0;
		nulls[ncols] = true;
		ncols++;
		cols[ncols] = a->grey_period_days;
		values[ncols] = (Datum) 0;
		nulls[ncols] = true;
		ncols++;
	}
	return PointerGetDatum(reg_row_modified(newrow, tupdesc, ncols,
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
 * kept for the registry (history_plan).  It runs as the owner of the registry
 * table: nobody else needs (or gets) INSERT on history.
 *
 * For an UPDATE, the executor captures the old and the new version of each
 * row together, so the two transition tables are read in step (checked: the
 * imei of a row never changes) and the changed rows are handed to the
 * INSERT as one more tuplestore, "changed_rows": no join.  Same-status
 * UPDATEs (device_id, a first connection set) add nothing, but for an
 * earlier first connection of a grey row.
 */
#define HISTORY_INSERT \
	"INSERT INTO imei_registry.history " \
	"(imei, from_status, to_status, reason, actor, changed_at, " \
	"application_id, import_id, note, first_seen_at, first_operator, grey_last_day) "

static const char *const history_sql[2] = {
	/* INSERT: every new row */
	HISTORY_INSERT
	"SELECT n.imei, NULL, n.status, n.reason, $1, n.since, "
	"n.application_id, n.import_id, n.note, n.first_seen_at, n.first_operator, "
	"n.grey_last_day FROM new_rows n",
	/* UPDATE: the rows whose status changed, paired with their old status */
	HISTORY_INSERT
	"SELECT c.imei, c.from_status, c.status, c.reason, $1, c.since, "
	"c.application_id, c.import_id, c.note, c.first_seen_at, c.first_operator, "
	"c.grey_last_day FROM changed_rows c"
};

/*
 * The columns of the history's source rows, as registry_history hands them
 * on: the registry's, then from_status (NULL for a new row).
 */
static const char *const source_cols[] = {"imei", "status", "reason", "since",
	"application_id", "import_id", "note", "first_seen_at", "first_operator",
"grey_last_day"};
static const int source_regcols[lengthof(source_cols)] = {REG_IMEI, REG_STATUS,
	REG_REASON, REG_SINCE, REG_APPLICATION_ID, REG_IMPORT_ID, REG_NOTE,
REG_FIRST_SEEN_AT, REG_FIRST_OPERATOR, REG_GREY_LAST_DAY};

#define NSOURCE (lengthof(source_cols) + 1)

typedef void (*HistorySink) (void *arg, Datum *values, bool *nulls);

/*
 * Hands each row of the statement that needs a history row to sink, as
 * NSOURCE values: for an INSERT every new row; for an UPDATE the new
 * versions of the rows whose status it changed, with their old status as
 * from_status -- and a grey row that kept its status and reason but whose
 * first connection moved earlier, as the history-only change
 * earlier_connection, made now.  Returns how many.
 */
static uint64
history_rows_each(TriggerData *trigdata, HistorySink sink, void *arg)
{
	TupleDesc	reldesc = RelationGetDescr(trigdata->tg_relation);
	const AttrNumber *reg = ext_columns(trigdata->tg_relation, EXT_REGISTRY,
										"registry_history");
	int			atts[lengthof(source_cols)];
	int			att_status = reg[REG_STATUS];
	int			att_reason = reg[REG_REASON];
	int			att_imei = reg[REG_IMEI];
	int			att_seen = reg[REG_FIRST_SEEN_AT];
	bool		is_insert = TRIGGER_FIRED_BY_INSERT(trigdata->tg_event);
	TupleTableSlot *oldslot = NULL;
	TupleTableSlot *newslot;
	uint64		n = 0;
	int			i;

	for (i = 0; i < lengthof(source_cols); i++)
		atts[i] = reg[source_regcols[i]];
	newslot = MakeSingleTupleTableSlot(reldesc, &TTSOpsMinimalTuple);
	tuplestore_rescan(trigdata->tg_newtable);
	if (!is_insert)
	{
		oldslot = MakeSingleTupleTableSlot(reldesc, &TTSOpsMinimalTuple);
		tuplestore_rescan(trigdata->tg_oldtable);
	}
	while (tuplestore_gettupleslot(trigdata->tg_newtable, true, false, newslot))
	{
		Datum		values[NSOURCE];
		bool		nulls[NSOURCE];
		bool		isnull;
		bool		oldnull;
		Datum		oldstatus = (Datum) 0;
		Datum		oldseen;
		bool		earlier = false;

		if (!is_insert)
		{
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
			{
				/* neither status nor reason changed: did the period move? */
				oldseen = slot_getattr(oldslot, att_seen, &oldnull);
				if (!oldnull &&
					DatumGetTimestampTz(slot_getattr(newslot, att_seen, &isnull)) <
					DatumGetTimestampTz(oldseen))
					earlier = true;
				else
					continue;
			}
		}
		for (i = 0; i < lengthof(source_cols); i++)
			values[i] = slot_getattr(newslot, atts[i], &nulls[i]);
		if (earlier)
		{
			values[2] = CStringGetTextDatum("earlier_connection");
			values[3] = TimestampTzGetDatum(GetCurrentTimestamp());
		}
		values[lengthof(source_cols)] = oldstatus;
		nulls[lengthof(source_cols)] = is_insert;
		sink(arg, values, nulls);
		n++;
	}
	if (oldslot)
		ExecDropSingleTupleTableSlot(oldslot);
	ExecDropSingleTupleTableSlot(newslot);
	return n;
}

/* The INSERT statement's source: a tuplestore registered as "changed_rows" */
typedef struct ChangedRows
{
	Tuplestorestate *store;
	TupleDesc	desc;
} ChangedRows;

static void
changed_rows_sink(void *arg, Datum *values, bool *nulls)
{
	ChangedRows *c = arg;

	tuplestore_putvalues(c->store, c->desc, values, nulls);
}

/*
 * The rows of an UPDATE that need a history row (history_rows_each), in a
 * tuplestore registered for SPI as "changed_rows".  Returns it (the caller
 * ends it) and its row count.
 */
static Tuplestorestate *
register_changed_rows(TriggerData *trigdata, uint64 *count)
{
	TupleDesc	reldesc = RelationGetDescr(trigdata->tg_relation);
	const AttrNumber *reg = ext_columns(trigdata->tg_relation, EXT_REGISTRY,
										"registry_history");
	ChangedRows c;
	EphemeralNamedRelation enr;
	uint64		n;
	int			i;
	int			ret;

	c.desc = CreateTemplateTupleDesc(NSOURCE);
	for (i = 0; i < lengthof(source_cols); i++)
		TupleDescInitEntry(c.desc, i + 1, source_cols[i],
						   TupleDescAttr(reldesc, reg[source_regcols[i]] - 1)->atttypid,
						   -1, 0);
	TupleDescInitEntry(c.desc, NSOURCE, "from_status",
					   TupleDescAttr(reldesc, reg[REG_STATUS] - 1)->atttypid, -1, 0);
	c.store = tuplestore_begin_heap(false, false, work_mem);
	n = history_rows_each(trigdata, changed_rows_sink, &c);

	enr = palloc0(sizeof(EphemeralNamedRelationData));
	enr->md.name = "changed_rows";
	enr->md.reliddesc = InvalidOid;
	enr->md.tupdesc = c.desc;
	enr->md.enrtype = ENR_NAMED_TUPLESTORE;
	enr->md.enrtuples = n;
	enr->reldata = c.store;
	ret = SPI_register_relation(enr);
	if (ret != SPI_OK_REL_REGISTER)
		elog(ERROR, "registry_history: SPI_register_relation failed: %s",
			 SPI_result_code_string(ret));
	*count = n;
	return c.store;
}

/* The multi-insert path's sink: the history row of a source row */
typedef struct WriterSink
{
	HistoryWriter *writer;
	Datum		actor;
} WriterSink;

static void
writer_sink(void *arg, Datum *v, bool *isnull)
{
	WriterSink *w = arg;
	/* history column <- source column (source_cols, then from_status) */
	static const int from[HC_NCOLUMNS] = {
		[HC_IMEI] = 0, [HC_FROM_STATUS] = NSOURCE - 1, [HC_TO_STATUS] = 1,
		[HC_REASON] = 2, [HC_ACTOR] = -1, [HC_CHANGED_AT] = 3,
		[HC_APPLICATION_ID] = 4, [HC_IMPORT_ID] = 5, [HC_NOTE] = 6,
		[HC_FIRST_SEEN_AT] = 7, [HC_FIRST_OPERATOR] = 8, [HC_GREY_LAST_DAY] = 9
	};
	Datum		values[HC_NCOLUMNS];
	bool		nulls[HC_NCOLUMNS];
	int			c;

	for (c = 0; c < HC_NCOLUMNS; c++)
	{
		values[c] = from[c] < 0 ? w->actor : v[from[c]];
		nulls[c] = from[c] < 0 ? false : isnull[from[c]];
	}
	history_writer_add(w->writer, values, nulls);
}

/*
 * The plans of registry_history, for one relation: the registry as this
 * backend knows it.  They are forgotten (and made again at the next use)
 * when the registry changes or goes (a relcache invalidation), so that a
 * plan is never used with transition tables of another shape than the one
 * it was made for.  (One relation at a time: were the registry's shards
 * ever to fire this trigger, relcheck.c's ext_is_relation() would accept
 * them, and the plans would need keeping per shard.)
 */
static SPIPlanPtr history_plans[2] = {NULL, NULL};
static Oid	history_plans_relid = InvalidOid;

static void
forget_history_plans(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == history_plans_relid)
		history_plans_relid = InvalidOid;
}

static SPIPlanPtr
history_plan(Relation rel, int which)
{
	static bool callback_registered = false;
	Oid			argtypes[1] = {TEXTOID};
	int			i;

	if (!callback_registered)
	{
		ext_register_relcache_callback(forget_history_plans, (Datum) 0);
		callback_registered = true;
	}
	if (history_plans_relid != RelationGetRelid(rel))
	{
		for (i = 0; i < lengthof(history_plans); i++)
		{
			if (history_plans[i] != NULL)
				SPI_freeplan(history_plans[i]);
			history_plans[i] = NULL;
		}
		history_plans_relid = RelationGetRelid(rel);
	}
	if (history_plans[which] == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(history_sql[which], 1, argtypes);

		if (p == NULL)
			elog(ERROR, "registry_history: SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		history_plans[which] = p;
	}
	return history_plans[which];
}

Datum
registry_history(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "registry_history");
	Relation	rel = trigdata->tg_relation;
	Datum		args[1];
	Tuplestorestate *changed = NULL;
	uint64		nchanged = 0;
	int			which;
	int			ret;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	WriterSink	sink;

	trigger_require(trigdata, "registry_history", TRIG_INSERT | TRIG_UPDATE,
					false, false);
	(void) ext_columns(rel, EXT_REGISTRY, "registry_history");
	which = TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ? 0 : 1;
	if (trigdata->tg_newtable == NULL || (which == 1 && trigdata->tg_oldtable == NULL))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"registry_history\" must be fired with REFERENCING %s",
						which == 0 ? "NEW TABLE AS new_rows"
						: "OLD TABLE AS old_rows NEW TABLE AS new_rows")));
	if (tuplestore_tuple_count(trigdata->tg_newtable) == 0)
		return PointerGetDatum(NULL);

	args[0] = CStringGetTextDatum(actor_name());

	/*
	 * As the table owner, with nothing of the caller's on the search_path
	 * while the plans are made and run (every name in them is qualified).
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(rel->rd_rel->relowner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_NOFORCE_RLS);

	/* the multi-insert path (history_insert.c), when the history allows it */
	sink.writer = history_writer_open(rel);
	if (sink.writer != NULL)
	{
		sink.actor = args[0];
		/* history_insert_guard lets only this writer through */
		registry_writing_history = true;
		PG_TRY();
		{
			(void) history_rows_each(trigdata, writer_sink, &sink);
			history_writer_end(sink.writer);
		}
		PG_FINALLY();
		{
			registry_writing_history = false;
		}
		PG_END_TRY();
		SetUserIdAndSecContext(save_userid, save_sec_context);
		return PointerGetDatum(NULL);
	}

	/* else one INSERT ... SELECT, planned once */
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);

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
		SPIPlanPtr	plan = history_plan(rel, which);

		/* history_insert_guard lets only this INSERT through */
		registry_writing_history = true;
		PG_TRY();
		{
			ret = SPI_execute_plan(plan, args, NULL, false, 0);
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

	AtEOXact_GUC(false, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return PointerGetDatum(NULL);
}
