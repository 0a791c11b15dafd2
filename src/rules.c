/*
 * rules.c
 *		The registry's rules: the one table of allowed changes of status, its
 *		lookup, its conditions and its refusals; the base code of a reason
 *		code; and what SQL sees of them:
 *
 *	transition_rules()		the table, for DBAs, tests and the documentation
 *	transition_allowed()	"may a row go from A to B by R" for SQL callers
 *	reason_base()			the shipped code whose transitions a code takes
 *	reason_leads_to()		the registry's CHECK: a base code leads to a status
 *	reasons_guard			trigger on imei_registry.reasons: a site's code has
 *							a base that leads to its status, or is refused
 *
 * The table is keyed by the codes the extension ships.  A code a site adds
 * names one of them as its base, and the transition trigger stores the base
 * in registry.reason_base, so the CHECK constraint stays a pure function of
 * the row and of this compiled table.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "grey.h"
#include "guc.h"
#include "key_probe.h"
#include "rules.h"
#include "relcheck.h"
#include "registry.h"

const char *const reg_status_names[REG_NSTATUS] = {"white", "grey", "black"};

/*
 * The rules of the registry: each allowed change is one entry, anything not
 * listed is forbidden.  docs/registry.md shows this table, and
 * test/shell/docs_rules.sh checks that it does.
 */
static const TransitionRule rules[] = {
	{ST_NONE, ST_GREY, "unverified", RULE_CONNECTED_SINCE_RULES},
	{ST_NONE, ST_WHITE, "lawful_import", RULE_IMPORT},
	{ST_NONE, ST_WHITE, "grandfathered", RULE_CONNECTED_BEFORE_RULES},
	/* the new IMEI of a board replacement, even if never connected */
	{ST_NONE, ST_WHITE, "application_approved",
	RULE_APPLICATION | RULE_BOARD_REPLACEMENT},
	{ST_NONE, ST_BLACK, "gsma_blocked", 0},
	{ST_NONE, ST_BLACK, "counterfeit", 0},
	{ST_GREY, ST_WHITE, "application_approved", RULE_APPLICATION},
	/* the importer's own application; never by a bare register_import */
	{ST_GREY, ST_WHITE, "lawful_import",
	RULE_IMPORT | RULE_APPLICATION | RULE_COMMERCIAL_IMPORT},
	{ST_GREY, ST_WHITE, "grandfathered", RULE_CONNECTED_BEFORE_RULES},
	{ST_GREY, ST_BLACK, "grey_expired", RULE_PERIOD_OVER | RULE_NOT_HELD},
	{ST_GREY, ST_BLACK, "gsma_blocked", 0},
	{ST_GREY, ST_BLACK, "counterfeit", 0},
	{ST_WHITE, ST_BLACK, "gsma_blocked", 0},
	{ST_WHITE, ST_BLACK, "counterfeit", 0},
	{ST_WHITE, ST_BLACK, "replaced", 0},
	/* a report of an earlier connection moves the period (history only) */
	{ST_GREY, ST_GREY, "earlier_connection", RULE_HISTORY_ONLY | RULE_CONNECTED_SINCE_RULES},
	{ST_BLACK, ST_WHITE, "application_approved",
	RULE_BLACK_FOR_GREY_EXPIRED | RULE_APPLICATION},
	{ST_BLACK, ST_WHITE, "grandfathered",
	RULE_BLACK_FOR_GREY_EXPIRED | RULE_CONNECTED_BEFORE_RULES},
	{ST_BLACK, ST_WHITE, "reinstated", RULE_NOTE},
	/* a harder block for a black IMEI: no application can lift it then */
	{ST_BLACK, ST_BLACK, "gsma_blocked", 0},
	{ST_BLACK, ST_BLACK, "counterfeit", 0},
};

/* The names of the conditions, as transition_rules() shows them. */
static const struct
{
	RuleCondition condition;
	const char *name;
}			condition_names[] = {
	{RULE_BLACK_FOR_GREY_EXPIRED, "black_for_grey_expired"},
	{RULE_NOTE, "note"},
	{RULE_IMPORT, "import"},
	{RULE_APPLICATION, "application"},
	{RULE_PERIOD_OVER, "period_over"},
	{RULE_NOT_HELD, "not_held"},
	{RULE_CONNECTED_BEFORE_RULES, "connected_before_rules"},
	{RULE_CONNECTED_SINCE_RULES, "connected_since_rules"},
	{RULE_HISTORY_ONLY, "history_only"},
	{RULE_COMMERCIAL_IMPORT, "commercial_import"},
	{RULE_BOARD_REPLACEMENT, "board_replacement"},
};

bool
rules_is_base(const char *code)
{
	int			i;

	for (i = 0; i < lengthof(rules); i++)
		if (strcmp(rules[i].reason, code) == 0)
			return true;
	return false;
}

/* The status a base code leads to; ST_NONE if it is no base code. */
RegStatus
rules_base_status(const char *base)
{
	int			i;

	for (i = 0; i < lengthof(rules); i++)
		if (strcmp(rules[i].reason, base) == 0)
			return rules[i].to;
	return ST_NONE;
}

const TransitionRule *
rules_entry(RegStatus from, RegStatus to, const char *base)
{
	int			i;

	for (i = 0; i < lengthof(rules); i++)
		if (rules[i].from == from && rules[i].to == to &&
			strcmp(rules[i].reason, base) == 0)
			return &rules[i];
	return NULL;
}

const TransitionRule *
rules_first_connection(TimestampTz connected_at)
{
	uint32		condition = rules_before_start(connected_at) ?
		RULE_CONNECTED_BEFORE_RULES : RULE_CONNECTED_SINCE_RULES;
	int			i;

	for (i = 0; i < lengthof(rules); i++)
		if (rules[i].from == ST_NONE && rules[i].conditions == condition)
			return &rules[i];
	elog(ERROR, "the rules have no entry for a first connection");
	return NULL;				/* not reached */
}

bool
rules_leads_to(const char *base, RegStatus to)
{
	int			i;

	for (i = 0; i < lengthof(rules); i++)
		if (rules[i].to == to && strcmp(rules[i].reason, base) == 0)
			return true;
	return false;
}

/* "gsma_blocked, counterfeit, ...": the base codes leading to a status (ST_NONE: all) */
static char *
base_codes(RegStatus to)
{
	StringInfoData buf;
	int			i;
	int			j;

	initStringInfo(&buf);
	for (i = 0; i < lengthof(rules); i++)
	{
		if (to != ST_NONE && rules[i].to != to)
			continue;
		for (j = 0; j < i; j++)
			if ((to == ST_NONE || rules[j].to == to) &&
				strcmp(rules[j].reason, rules[i].reason) == 0)
				break;
		if (j < i)
			continue;			/* listed already */
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", rules[i].reason);
	}
	return buf.data;
}

/* The first base code of the table that leads to a status */
static const char *
first_base(RegStatus to)
{
	int			i;

	for (i = 0; i < lengthof(rules); i++)
		if (rules[i].to == to)
			return rules[i].reason;
	return rules[0].reason;
}

/* ---- statuses ---- */

/*
 * The status of an enum value, from pg_enum; a tiny cache avoids repeats.
 * Any change to pg_enum (the extension dropped and created again in this
 * session) empties it.
 */
static Oid	status_oids[REG_NSTATUS] = {InvalidOid, InvalidOid, InvalidOid};

static void
forget_status_oids(Datum arg, int cacheid, uint32 hashvalue)
{
	int			i;

	for (i = 0; i < REG_NSTATUS; i++)
		status_oids[i] = InvalidOid;
}

RegStatus
rules_status_of(Oid enumval)
{
	static bool callback_registered = false;
	HeapTuple	tup;
	const char *label;
	int			i;

	if (!callback_registered)
	{
		CacheRegisterSyscacheCallback(ENUMOID, forget_status_oids, (Datum) 0);
		callback_registered = true;
	}
	for (i = 0; i < REG_NSTATUS; i++)
		if (status_oids[i] == enumval)
			return (RegStatus) i;

	tup = SearchSysCache1(ENUMOID, ObjectIdGetDatum(enumval));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for enum %u", enumval);
	label = NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel);
	for (i = 0; i < REG_NSTATUS; i++)
		if (strcmp(label, reg_status_names[i]) == 0)
			break;
	ReleaseSysCache(tup);
	if (i == REG_NSTATUS)
		elog(ERROR, "imei_registry: unknown status \"%s\"", label);
	status_oids[i] = enumval;
	return (RegStatus) i;
}

static Datum
status_datum(Oid enumtype, RegStatus status)
{
	return DirectFunctionCall2(enum_in, CStringGetDatum(reg_status_names[status]),
							   ObjectIdGetDatum(enumtype));
}

/* ---- the base code of a site's code ---- */

/*
 * A site's codes already looked up, with their bases.  A row of reasons
 * never changes its code or base and is never deleted (reasons_guard), so
 * an entry stays true; it is forgotten on a relcache invalidation of the
 * table (DROP EXTENSION) and when a (sub)transaction aborts, since it may
 * have been read from a row that the abort takes back.  Only codes found
 * are remembered: a code may be added at any time.
 */
typedef struct SiteCode
{
	char	   *code;
	char	   *base;
} SiteCode;

#define MAX_SITE_CODES 64

static SiteCode site_codes[MAX_SITE_CODES];
static int	n_site_codes = 0;
static Oid	reasons_relid = InvalidOid;
static Oid	reasons_owner = InvalidOid;
static SPIPlanPtr base_plan = NULL;

static void
forget_site_codes(void)
{
	int			i;

	for (i = 0; i < n_site_codes; i++)
	{
		pfree(site_codes[i].code);
		pfree(site_codes[i].base);
	}
	n_site_codes = 0;
}

static void
site_codes_relcache(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == reasons_relid)
	{
		forget_site_codes();
		reasons_relid = InvalidOid;
	}
}

static void
site_codes_xact(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		forget_site_codes();
}

static void
site_codes_subxact(SubXactEvent event, SubTransactionId mySubid,
				   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		forget_site_codes();
}

/* imei_registry.reasons and its owner, looked up once */
static void
find_reasons(void)
{
	static bool callbacks_registered = false;
	HeapTuple	tup;

	if (!callbacks_registered)
	{
		ext_register_relcache_callback(site_codes_relcache, (Datum) 0);
		RegisterXactCallback(site_codes_xact, NULL);
		RegisterSubXactCallback(site_codes_subxact, NULL);
		callbacks_registered = true;
	}
	if (OidIsValid(reasons_relid))
		return;
	forget_site_codes();
	reasons_relid = get_relname_relid("reasons",
									  get_namespace_oid("imei_registry", false));
	if (!OidIsValid(reasons_relid))
		ext_missing_table("reasons");
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(reasons_relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", reasons_relid);
	reasons_owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
}

/*
 * The base of a code that is not shipped, from imei_registry.reasons, read
 * as the table's owner (as PostgreSQL's foreign-key checks read the
 * referenced table) with a fully qualified, saved statement.  NULL if the
 * code is not there.
 */
static const char *
site_code_base(const char *code)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			save_userid;
	int			save_sec_context;
	Datum		args[1];
	char	   *base = NULL;
	int			i;

	find_reasons();
	for (i = 0; i < n_site_codes; i++)
		if (strcmp(site_codes[i].code, code) == 0)
			return pstrdup(site_codes[i].base);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(reasons_owner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_NOFORCE_RLS);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "imei_registry: SPI_connect failed");
	if (base_plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};
		SPIPlanPtr	p = SPI_prepare("SELECT r.base FROM imei_registry.reasons r"
									" WHERE r.code OPERATOR(pg_catalog.=) $1",
									1, argtypes);

		if (p == NULL)
			elog(ERROR, "imei_registry: SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		base_plan = p;
	}
	args[0] = CStringGetTextDatum(code);
	if (SPI_execute_plan(base_plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "imei_registry: reading imei_registry.reasons failed");
	if (SPI_processed == 1)
	{
		char	   *found = SPI_getvalue(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1);

		if (found != NULL)
		{
			base = MemoryContextStrdup(cxt, found);
			if (n_site_codes < MAX_SITE_CODES)
			{
				site_codes[n_site_codes].code = MemoryContextStrdup(TopMemoryContext, code);
				site_codes[n_site_codes].base = MemoryContextStrdup(TopMemoryContext, found);
				n_site_codes++;
			}
		}
	}
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return base;
}

const char *
rules_reason_base(const char *code)
{
	int			i;

	if (code == NULL)
		return NULL;
	for (i = 0; i < lengthof(rules); i++)
		if (strcmp(rules[i].reason, code) == 0)
			return rules[i].reason;
	return site_code_base(code);
}

/* ---- the start of the rules ---- */

bool
rules_before_start(TimestampTz connected_at)
{
	return connected_at < imei_rules_start;
}

/* ---- the hold of a pending application ---- */

/*
 * The relations the hold reads, found once per backend in the extension's
 * schema and forgotten on a relcache invalidation of any of them: the IMEIs
 * of applications through their index on imei, and the applications
 * through their primary key.
 */
typedef struct HoldRelations
{
	Oid			imeis;			/* application_imeis */
	Oid			imeis_by_imei;	/* application_imeis_imei */
	AttrNumber	imei_att;
	AttrNumber	application_att;
	AttrNumber	import_att;		/* the upload that added it (NULL: none) */
	Oid			applications;
	Oid			applications_pkey;
	AttrNumber	id_att;			/* its key */
	AttrNumber	state_att;
	AttrNumber	submitted_at_att;
	Oid			imports;
	Oid			imports_pkey;
	AttrNumber	import_id_att;	/* its key */
	AttrNumber	created_at_att;
} HoldRelations;

static HoldRelations hold = {InvalidOid};

static void
forget_applications(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == hold.imeis || relid == hold.imeis_by_imei ||
		relid == hold.applications || relid == hold.applications_pkey ||
		relid == hold.imports || relid == hold.imports_pkey)
		hold.imeis = InvalidOid;
}

/* The attribute number of a column, or an error naming it */
static AttrNumber
hold_column(Oid relid, const char *name, Oid type)
{
	AttrNumber	att = get_attnum(relid, name);

	if (att == InvalidAttrNumber || get_atttype(relid, att) != type)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("imei_registry.%s has no column \"%s\" of the type the grey period's hold reads",
						get_rel_name(relid), name)));
	return att;
}

/* Is idx a btree whose first key is rel's column att? */
static void
hold_index_check(Relation idx, Oid relid, AttrNumber att)
{
	if (idx->rd_index->indrelid != relid || idx->rd_rel->relam != BTREE_AM_OID ||
		idx->rd_index->indkey.values[0] != att)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index \"%s\" is not the btree that the grey period's hold reads",
						RelationGetRelationName(idx))));
}

static void
find_hold_relations(void)
{
	static bool callback_registered = false;
	Oid			ns;
	HoldRelations h;
	const char *missing = NULL;

	if (!callback_registered)
	{
		ext_register_relcache_callback(forget_applications, (Datum) 0);
		callback_registered = true;
	}
	if (OidIsValid(hold.imeis))
		return;
	ns = get_namespace_oid("imei_registry", false);
	h.imeis = get_relname_relid("application_imeis", ns);
	h.imeis_by_imei = get_relname_relid("application_imeis_imei", ns);
	h.applications = get_relname_relid("applications", ns);
	h.applications_pkey = get_relname_relid("applications_pkey", ns);
	h.imports = get_relname_relid("imports", ns);
	h.imports_pkey = get_relname_relid("imports_pkey", ns);
	if (!OidIsValid(h.imeis))
		missing = "application_imeis";
	else if (!OidIsValid(h.imeis_by_imei))
		missing = "application_imeis_imei";
	else if (!OidIsValid(h.applications))
		missing = "applications";
	else if (!OidIsValid(h.applications_pkey))
		missing = "applications_pkey";
	else if (!OidIsValid(h.imports))
		missing = "imports";
	else if (!OidIsValid(h.imports_pkey))
		missing = "imports_pkey";
	if (missing)
		ext_missing_table(missing);
	/* on Citus, reference tables: read their placements on this node */
	{
		int64		shard;

		h.imeis = ext_local_data_relation(h.imeis, &shard);
		if (shard != 0 &&
			!OidIsValid(h.imeis_by_imei = ext_shard_sibling(h.imeis_by_imei, shard)))
			ext_missing_table("application_imeis_imei");
		h.applications = ext_local_data_relation(h.applications, &shard);
		if (shard != 0 &&
			!OidIsValid(h.applications_pkey = ext_shard_sibling(h.applications_pkey, shard)))
			ext_missing_table("applications_pkey");
		h.imports = ext_local_data_relation(h.imports, &shard);
		if (shard != 0 &&
			!OidIsValid(h.imports_pkey = ext_shard_sibling(h.imports_pkey, shard)))
			ext_missing_table("imports_pkey");
	}
	h.imei_att = get_attnum(h.imeis, "imei");
	if (h.imei_att == InvalidAttrNumber)
		elog(ERROR, "imei_registry: imei_registry.application_imeis has no column imei");
	h.application_att = hold_column(h.imeis, "application_id", INT8OID);
	h.import_att = hold_column(h.imeis, "import_id", INT8OID);
	h.import_id_att = hold_column(h.imports, "import_id", INT8OID);
	h.created_at_att = hold_column(h.imports, "created_at", TIMESTAMPTZOID);
	h.id_att = hold_column(h.applications, "id", INT8OID);
	h.state_att = hold_column(h.applications, "state", TEXTOID);
	h.submitted_at_att = hold_column(h.applications, "submitted_at", TIMESTAMPTZOID);
	hold = h;
}

/*
 * One of the hold's probes: a table read by the key of one of its btrees,
 * opened at its first probe (most IMEIs need only the first of them).
 */
typedef struct HoldProbe
{
	Oid			relid;
	Oid			idxid;
	AttrNumber	att;			/* the index's key column in the table */
	KeyProbe	probe;			/* probe.rel NULL until the first probe */
} HoldProbe;

static HoldProbe
hold_probe(Oid relid, Oid idxid, AttrNumber att)
{
	HoldProbe	p = {relid, idxid, att};

	return p;
}

/* The first row of key in p's table that the snapshot sees, or NULL */
static TupleTableSlot *
hold_probe_first(HoldProbe *p, Datum key, Snapshot snapshot)
{
	if (p->probe.rel == NULL)
	{
		key_probe_open_table(&p->probe, p->relid, AccessShareLock);
		hold_index_check(key_probe_open_index(&p->probe, p->idxid, AccessShareLock),
						 p->relid, p->att);
		key_probe_begin(&p->probe, snapshot, F_INT8EQ, true);
	}
	return key_probe_first(&p->probe, key);
}

/*
 * Is a grey IMEI past its last day held by a pending application: one that
 * lists it, is still submitted, was submitted by its last day, and not
 * longer ago than imei_registry.application_hold_days?  An IMEI that an
 * upload added to the application later (upload_devices: its import_id) is
 * listed only from the upload's day, which must be by the last day too, as
 * a submission must.  One probe of the IMEIs of applications by their
 * index (most IMEIs have none), one of the primary key of applications per
 * application found, and one of the imports' for an uploaded IMEI, with
 * the index AM as check_imei() does: no statement, and no right needed on
 * the tables (the check's callers have none).  No probe at all when the
 * last day is more than application_hold_days ago: an application
 * submitted by then holds no longer than that, whichever lists the IMEI.
 */
bool
rules_application_holds(Imei imei, DateADT grey_last_day)
{
	HoldRelations h;
	HoldProbe	listed;
	HoldProbe	apps;
	HoldProbe	imports;
	TupleTableSlot *slot;
	Snapshot	snapshot = GetActiveSnapshot();
	DateADT		today = almaty_today();
	bool		held = false;

	/* submitted_on <= grey_last_day and today <= submitted_on + hold days */
	if (!DATE_NOT_FINITE(grey_last_day) &&
		(int64) today > (int64) grey_last_day + imei_application_hold_days)
		return false;

	find_hold_relations();
	h = hold;					/* a copy: opening may forget it */
	listed = hold_probe(h.imeis, h.imeis_by_imei, h.imei_att);
	apps = hold_probe(h.applications, h.applications_pkey, h.id_att);
	imports = hold_probe(h.imports, h.imports_pkey, h.import_id_att);
	for (slot = hold_probe_first(&listed, ImeiGetDatum(imei), snapshot);
		 !held && slot != NULL;
		 slot = key_probe_next(&listed.probe))
	{
		bool		isnull;
		Datum		app = slot_getattr(slot, h.application_att, &isnull);
		TupleTableSlot *app_slot;
		TupleTableSlot *import_slot;
		Datum		state;
		Datum		at;
		Datum		upload;
		DateADT		submitted_on;

		if (isnull)
			continue;
		app_slot = hold_probe_first(&apps, app, snapshot);
		if (app_slot == NULL)
			continue;
		state = slot_getattr(app_slot, h.state_att, &isnull);
		if (isnull || strcmp(TextDatumGetCString(state), "submitted") != 0)
			continue;
		at = slot_getattr(app_slot, h.submitted_at_att, &isnull);
		if (isnull)
			continue;
		submitted_on = almaty_local_date(DatumGetTimestampTz(at));
		if (submitted_on > grey_last_day ||
			today > submitted_on + imei_application_hold_days)
			continue;
		held = true;

		/* uploaded later: listed from the day of its upload */
		upload = slot_getattr(slot, h.import_att, &isnull);
		if (!isnull)
		{
			import_slot = hold_probe_first(&imports, upload, snapshot);
			held = import_slot != NULL;
			if (held)
			{
				Datum		created = slot_getattr(import_slot, h.created_at_att, &isnull);

				held = !isnull &&
					almaty_local_date(DatumGetTimestampTz(created)) <= grey_last_day;
			}
		}
	}
	/* the locks stay until the end of the transaction, as check_imei()'s */
	key_probe_close(&imports.probe, NoLock, NoLock);
	key_probe_close(&apps.probe, NoLock, NoLock);
	key_probe_close(&listed.probe, NoLock, NoLock);
	return held;
}

/* ---- the check and its refusals ---- */

static bool
condition_holds(RuleCondition condition, const RuleChange *c)
{
	switch (condition)
	{
		case RULE_BLACK_FOR_GREY_EXPIRED:
			return c->from == ST_BLACK && c->from_base != NULL &&
				strcmp(c->from_base, "grey_expired") == 0;
		case RULE_NOTE:
			return c->note != NULL && text_has_visible_char(c->note, strlen(c->note));
		case RULE_IMPORT:
		case RULE_APPLICATION:
		case RULE_COMMERCIAL_IMPORT:
		case RULE_BOARD_REPLACEMENT:
			return true;		/* the trigger looks them up: check_cause() */
		case RULE_PERIOD_OVER:
			return c->has_grey_last_day && c->grey_last_day < almaty_today();
		case RULE_NOT_HELD:
			return !c->has_grey_last_day ||
				!rules_application_holds(c->imei, c->grey_last_day);
		case RULE_CONNECTED_BEFORE_RULES:
			return c->has_first_seen && rules_before_start(c->first_seen_at);
		case RULE_CONNECTED_SINCE_RULES:
			return c->has_first_seen && !rules_before_start(c->first_seen_at);
		case RULE_HISTORY_ONLY:
			return c->history_only;
	}
	return false;
}

RuleVerdict
rules_check(const RuleChange *c, const TransitionRule **entry, uint32 *failed)
{
	const TransitionRule *e;
	int			i;

	*entry = NULL;
	*failed = 0;
	if (c->reason == NULL ||
		(c->from != ST_NONE && c->from_reason != NULL &&
		 strcmp(c->reason, c->from_reason) == 0))
		return RULE_NO_REASON;
	if (c->base == NULL || (e = rules_entry(c->from, c->to, c->base)) == NULL)
		return RULE_NO_ENTRY;
	*entry = e;
	for (i = 0; i < lengthof(condition_names); i++)
	{
		RuleCondition cond = condition_names[i].condition;

		if (!(e->conditions & cond))
			continue;
		if ((cond & RULE_CAUSE_CONDITIONS) && !c->with_cause)
			continue;
		if (!condition_holds(cond, c))
		{
			*failed = cond;
			return RULE_CONDITION_FAILS;
		}
	}
	return RULE_ALLOWED;
}

bool
rules_allow(const RuleChange *c)
{
	const TransitionRule *entry;
	uint32		failed;

	return rules_check(c, &entry, &failed) == RULE_ALLOWED;
}

bool
rules_allows_change(RegStatus from, const char *from_reason, RegStatus to,
					const char *reason)
{
	RuleChange	c;

	memset(&c, 0, sizeof(c));
	c.from = from;
	if (from != ST_NONE && from_reason != NULL)
	{
		c.from_reason = from_reason;
		c.from_base = rules_reason_base(from_reason);
	}
	c.to = to;
	c.reason = reason;
	c.base = rules_reason_base(reason);
	c.with_cause = false;
	return rules_allow(&c);
}

RegStatus
rules_status_named(const char *name)
{
	int			i;

	for (i = 0; name != NULL && i < REG_NSTATUS; i++)
		if (strcmp(name, reg_status_names[i]) == 0)
			return (RegStatus) i;
	return ST_NONE;
}

static char *
imei_string(Imei value)
{
	return psprintf("%015" INT64_MODIFIER "d", value);
}

static char *
date_text(DateADT d)
{
	return DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(d)));
}

/* "white by a or b; black by c" for the detail of a refusal */
static char *
allowed_from(RegStatus from)
{
	StringInfoData buf;
	int			to;
	bool		first_to = true;

	initStringInfo(&buf);
	for (to = ST_WHITE; to <= ST_BLACK; to++)
	{
		int			n = 0;
		int			i;

		for (i = 0; i < lengthof(rules); i++)
		{
			if (rules[i].from != from || rules[i].to != (RegStatus) to)
				continue;
			if (n == 0)
				appendStringInfo(&buf, "%s%s by ", first_to ? "" : "; ",
								 reg_status_names[to]);
			else
				appendStringInfoString(&buf, ", ");
			appendStringInfoString(&buf, rules[i].reason);
			n++;
			first_to = false;
		}
	}
	return buf.data;
}

/* The hint of a refusal by a code that is not shipped, or none. */
static int
errhint_base(const RuleChange *c)
{
	if (c->base == NULL)
		return errhint("\"%s\" is not a code of imei_registry.reasons.", c->reason);
	if (strcmp(c->base, c->reason) != 0)
		return errhint("Reason \"%s\" takes the transitions of \"%s\".",
					   c->reason, c->base);
	return 0;
}

void
rules_enforce(Imei imei, const RuleChange *c)
{
	const TransitionRule *e;
	uint32		failed;
	const char *from = c->from == ST_NONE ? NULL : reg_status_names[c->from];
	const char *to = reg_status_names[c->to];

	switch (rules_check(c, &e, &failed))
	{
		case RULE_ALLOWED:
			return;
		case RULE_NO_REASON:
			if (c->from == ST_NONE)
				ereport(ERROR,
						(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
						 errmsg("new IMEI %s cannot start %s without a reason",
								imei_string(imei), to),
						 errdetail("A new IMEI starts %s.", allowed_from(ST_NONE))));
			ereport(ERROR,
					(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
					 errmsg("IMEI %s cannot change from %s to %s without a reason",
							imei_string(imei), from, to),
					 c->reason ? errdetail("The reason \"%s\" is the one of the old status.",
										   c->reason) : 0,
					 errhint("Set reason too; from %s the rules allow: %s.",
							 from, allowed_from(c->from))));
			break;
		case RULE_NO_ENTRY:
			if (c->from == ST_NONE)
				ereport(ERROR,
						(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
						 errmsg("new IMEI %s cannot start %s by reason \"%s\"",
								imei_string(imei), to, c->reason),
						 errdetail("A new IMEI starts %s.", allowed_from(ST_NONE)),
						 errhint_base(c)));
			ereport(ERROR,
					(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
					 errmsg("IMEI %s cannot change from %s to %s by reason \"%s\"",
							imei_string(imei), from, to, c->reason),
					 errdetail("From %s the rules allow: %s.", from,
							   allowed_from(c->from)),
					 errhint_base(c)));
			break;
		case RULE_CONDITION_FAILS:
			if (failed == RULE_BLACK_FOR_GREY_EXPIRED)
				ereport(ERROR,
						(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
						 errmsg("IMEI %s cannot change from %s to %s by reason \"%s\"",
								imei_string(imei), from, to, c->reason),
						 errdetail("Reason \"%s\" applies only to an IMEI that is %s for \"%s\"; this one is %s for \"%s\".",
								   c->reason, reg_status_names[ST_BLACK], "grey_expired",
								   from, c->from_reason ? c->from_reason : ""),
						 errhint("Only a registry decision, imei_registry.reinstate(), can make it %s.",
								 to)));
			if (failed == RULE_NOTE)
				ereport(ERROR,
						(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
						 errmsg("IMEI %s cannot change from %s to %s by reason \"%s\" without its cause",
								imei_string(imei), from, to, c->reason),
						 errdetail("Reason \"%s\" is a registry decision and needs its written reason in note, with visible text (not only white space or invisible characters).",
								   c->reason)));
			if (failed == RULE_PERIOD_OVER)
				ereport(ERROR,
						(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
						 errmsg("IMEI %s cannot change from %s to %s by reason \"%s\" before its grey period ends",
								imei_string(imei), from, to, c->reason),
						 c->has_grey_last_day ?
						 errdetail("Its last day of grey is %s; today in Asia/Almaty is %s.",
								   date_text(c->grey_last_day), date_text(almaty_today())) : 0));
			if (failed == RULE_NOT_HELD)
				ereport(ERROR,
						(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
						 errmsg("IMEI %s cannot change from %s to %s by reason \"%s\" while a pending application holds it",
								imei_string(imei), from, to, c->reason),
						 errdetail("An application submitted by its last day of grey (%s) lists it and is not decided; it holds for %d days after submission (imei_registry.application_hold_days).",
								   date_text(c->grey_last_day), imei_application_hold_days)));
			if (failed == RULE_CONNECTED_BEFORE_RULES || failed == RULE_CONNECTED_SINCE_RULES)
			{
				const char *start = pstrdup(timestamptz_to_str(imei_rules_start));

				if (!c->has_first_seen)
					ereport(ERROR,
							(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
							 errmsg("IMEI %s cannot %s%s by reason \"%s\" without a first connection",
									imei_string(imei), from ? "change to " : "start ", to,
									c->reason),
							 errdetail("Reason \"%s\" depends on when the device first connected: first_seen_at is needed.",
									   c->reason)));
				ereport(ERROR,
						(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
						 errmsg("IMEI %s cannot %s%s by reason \"%s\": its earliest connection is %s the start of the rules",
								imei_string(imei), from ? "change to " : "start ", to,
								c->reason,
								failed == RULE_CONNECTED_BEFORE_RULES ? "not before" : "before"),
						 errdetail("Its earliest connection is %s; the rules apply from %s (imei_registry.rules_start).",
								   timestamptz_to_str(c->first_seen_at), start),
						 failed == RULE_CONNECTED_SINCE_RULES ?
						 errhint("A device in the networks before the rules is white by reason \"grandfathered\".") : 0));
			}
			if (failed == RULE_HISTORY_ONLY)
				ereport(ERROR,
						(errcode(ERRCODE_IR_TRANSITION_FORBIDDEN),
						 errmsg("IMEI %s cannot take reason \"%s\"", imei_string(imei), c->reason),
						 errdetail("Reason \"%s\" names only history rows: a report of an earlier connection moves first_seen_at, and the row keeps its reason.",
								   c->reason),
						 errhint("Set first_seen_at to the earlier connection instead.")));
			elog(ERROR, "imei_registry: condition %u has no refusal", failed);
			break;
	}
}

/* ---- SQL ---- */

PG_FUNCTION_INFO_V1(reason_leads_to);
PG_FUNCTION_INFO_V1(reason_base);
PG_FUNCTION_INFO_V1(transition_allowed);
PG_FUNCTION_INFO_V1(transition_rules);
PG_FUNCTION_INFO_V1(reasons_guard);
PG_FUNCTION_INFO_V1(application_holds);
PG_FUNCTION_INFO_V1(connected_before_rules);
PG_FUNCTION_INFO_V1(first_connection_status);
PG_FUNCTION_INFO_V1(first_connection_reason);

/* connected_before_rules(timestamptz) -> boolean: rules_before_start() */
Datum
connected_before_rules(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(rules_before_start(PG_GETARG_TIMESTAMPTZ(0)));
}

/*
 * first_connection_status(timestamptz) -> status and
 * first_connection_reason(timestamptz) -> text: the rules' entry for an
 * IMEI first seen at that time (rules_first_connection()), for the
 * statements that insert one.  The status's enum values are looked up once
 * per call site.
 */
Datum
first_connection_status(PG_FUNCTION_ARGS)
{
	const TransitionRule *entry = rules_first_connection(PG_GETARG_TIMESTAMPTZ(0));
	Datum	   *values = fcinfo->flinfo->fn_extra;

	if (values == NULL)
	{
		Oid			status_type = get_fn_expr_rettype(fcinfo->flinfo);
		int			i;

		values = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, REG_NSTATUS * sizeof(Datum));
		for (i = 0; i < REG_NSTATUS; i++)
			values[i] = DirectFunctionCall2(enum_in,
											CStringGetDatum(reg_status_names[i]),
											ObjectIdGetDatum(status_type));
		fcinfo->flinfo->fn_extra = values;
	}
	PG_RETURN_DATUM(values[entry->to]);
}

Datum
first_connection_reason(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(rules_first_connection(PG_GETARG_TIMESTAMPTZ(0))->reason));
}

/* application_holds(imei, grey_last_day date) -> boolean: rules_application_holds() */
Datum
application_holds(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(rules_application_holds(PG_GETARG_IMEI(0), PG_GETARG_DATEADT(1)));
}

/*
 * reason_leads_to(base text, status) -> boolean: does an entry reach this
 * status by this base code?  The registry's CHECK constraint on reason_base,
 * so that a row written with the trigger disabled still pairs reason and
 * status as the rules do.  (A foreign key to reasons would also do that,
 * but every writer would take a KEY SHARE lock on the same few rows.)
 */
Datum
reason_leads_to(PG_FUNCTION_ARGS)
{
	char	   *base = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BOOL(rules_leads_to(base, rules_status_of(PG_GETARG_OID(1))));
}

/* reason_base(code text) -> text: the base code of a code, NULL if it is none */
Datum
reason_base(PG_FUNCTION_ARGS)
{
	const char *base = rules_reason_base(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	if (base == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(base));
}

/*
 * transition_allowed(from_status, to_status, reason, old_reason) -> boolean:
 * may a row that is from_status for old_reason (a new IMEI: from_status
 * NULL) become to_status by reason?  The conditions on the cause of the
 * change (a note) are the trigger's, which has it.  NULL if to_status is.
 */
Datum
transition_allowed(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(2))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(rules_allows_change(PG_ARGISNULL(0) ? ST_NONE :
									   rules_status_of(PG_GETARG_OID(0)),
									   PG_ARGISNULL(3) ? NULL :
									   text_to_cstring(PG_GETARG_TEXT_PP(3)),
									   rules_status_of(PG_GETARG_OID(1)),
									   text_to_cstring(PG_GETARG_TEXT_PP(2))));
}

/* transition_rules() -> SETOF (from_status, to_status, reason, conditions text[]) */
Datum
transition_rules(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	int			i;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		TupleDesc	desc;

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "transition_rules: return type must be a row type");
		funcctx->tuple_desc = BlessTupleDesc(desc);
		funcctx->max_calls = lengthof(rules);
		MemoryContextSwitchTo(old);
	}
	funcctx = SRF_PERCALL_SETUP();
	i = funcctx->call_cntr;
	if (i < funcctx->max_calls)
	{
		const TransitionRule *r = &rules[i];
		Oid			status_type = TupleDescAttr(funcctx->tuple_desc, 1)->atttypid;
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		Datum		conds[lengthof(condition_names)];
		int			n = 0;
		int			k;

		if (r->from == ST_NONE)
			nulls[0] = true;
		else
			values[0] = status_datum(status_type, r->from);
		values[1] = status_datum(status_type, r->to);
		values[2] = CStringGetTextDatum(r->reason);
		for (k = 0; k < lengthof(condition_names); k++)
			if (r->conditions & condition_names[k].condition)
				conds[n++] = CStringGetTextDatum(condition_names[k].name);
		values[3] = PointerGetDatum(construct_array(conds, n, TEXTOID, -1, false,
													TYPALIGN_INT));
		SRF_RETURN_NEXT(funcctx,
						HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc,
														  values, nulls)));
	}
	SRF_RETURN_DONE(funcctx);
}

/*
 * reasons_guard: BEFORE INSERT OR UPDATE OR DELETE, FOR EACH ROW on
 * imei_registry.reasons.
 *
 * A shipped code (CREATE EXTENSION) must be a code of the table; it is its
 * own base, and its status is the one it leads to.  A site's code must name
 * as base a shipped code: it takes that code's transitions everywhere
 * (block(), a plain UPDATE, the loaders), and its status, if given, must be
 * the one the base leads to (if not given, it is).  Codes are stable: an
 * UPDATE may change only the description, and no row is deleted; registry
 * rows and history name them, and the transition trigger remembers them.
 */
Datum
reasons_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	tuple;
	int			att_code;
	int			att_status;
	int			att_base;
	int			att_shipped;
	bool		isnull;
	Datum		d;
	char	   *code;
	char	   *base;
	bool		shipped;
	Oid			status_type;
	RegStatus	status = ST_NONE;
	RegStatus	base_status;
	int			cols[2];
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "reasons_guard: not fired by trigger manager");
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		elog(ERROR, "reasons_guard: must be fired before event, for row");
	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	att_code = SPI_fnumber(desc, "code");
	att_status = SPI_fnumber(desc, "status");
	att_base = SPI_fnumber(desc, "base");
	att_shipped = SPI_fnumber(desc, "shipped");
	if (!ext_is_named_table(rel, "reasons") ||
		att_code <= 0 || att_status <= 0 || att_base <= 0 || att_shipped <= 0)
		elog(ERROR, "reasons_guard: must be fired on imei_registry.reasons");
	status_type = TupleDescAttr(desc, att_status - 1)->atttypid;

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION),
				 errmsg("reason code \"%s\" cannot be removed",
						SPI_getvalue(trigdata->tg_trigtuple, desc, att_code)),
				 errdetail("Reason codes are stable: registry rows and their history name them.")));

	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	code = SPI_getvalue(tuple, desc, att_code);
	if (code == NULL)
		return PointerGetDatum(tuple);	/* NOT NULL refuses it */

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		HeapTuple	old = trigdata->tg_trigtuple;
		int			atts[4] = {att_code, att_status, att_base, att_shipped};
		int			i;

		for (i = 0; i < lengthof(atts); i++)
		{
			char	   *a = SPI_getvalue(old, desc, atts[i]);
			char	   *b = SPI_getvalue(tuple, desc, atts[i]);

			if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
				ereport(ERROR,
						(errcode(ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION),
						 errmsg("reason code \"%s\" cannot change its %s",
								SPI_getvalue(old, desc, att_code),
								NameStr(TupleDescAttr(desc, atts[i] - 1)->attname)),
						 errdetail("Reason codes are stable: only the description of one may change.")));
		}
		return PointerGetDatum(tuple);
	}

	d = heap_getattr(tuple, att_shipped, desc, &isnull);
	shipped = !isnull && DatumGetBool(d);
	base = SPI_getvalue(tuple, desc, att_base);
	d = heap_getattr(tuple, att_status, desc, &isnull);
	if (!isnull)
		status = rules_status_of(DatumGetObjectId(d));

	if (shipped)
	{
		if (!rules_is_base(code))
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("reason code \"%s\" is not a code the extension ships", code),
					 errdetail("The shipped codes are %s.", base_codes(ST_NONE)),
					 errhint("A site's own code has shipped = false and a base.")));
		if (base != NULL && strcmp(base, code) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("shipped reason code \"%s\" cannot have base \"%s\"", code, base),
					 errdetail("A shipped code is its own base.")));
		base = code;
	}
	else if (base == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("reason code \"%s\" needs a base", code),
				 errdetail("A site's code takes the transitions of a code the extension ships, named in base: %s.",
						   base_codes(status)),
				 errhint("For example: INSERT INTO imei_registry.reasons (code, description, base) VALUES ('%s', '...', '%s');",
						 code, first_base(status == ST_NONE ? ST_BLACK : status))));
	else if (!rules_is_base(base))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("base \"%s\" of reason code \"%s\" is not a code the extension ships",
						base, code),
				 errdetail("The base is one of: %s.", base_codes(status))));

	base_status = rules_base_status(base);
	if (status != ST_NONE && status != base_status)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("reason code \"%s\" cannot lead to %s: its base \"%s\" leads to %s",
						code, reg_status_names[status], base,
						reg_status_names[base_status]),
				 errdetail("The codes that lead to %s are: %s.",
						   reg_status_names[status], base_codes(status))));

	cols[0] = att_base;
	values[0] = CStringGetTextDatum(base);
	cols[1] = att_status;
	values[1] = status_datum(status_type, base_status);
	return PointerGetDatum(heap_modify_tuple_by_cols(tuple, desc, 2, cols,
													 values, nulls));
}
