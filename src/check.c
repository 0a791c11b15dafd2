/*
 * check.c
 *		imei_registry.check_imei(imei): the public "check before purchase",
 *		the hottest call of the system.
 *
 * One primary-key probe of imei_registry.registry, done directly with the
 * index AM: no SQL, no plan, no search_path (the relation and its index are
 * found by schema-qualified name).  The function reads only the columns it
 * returns, so it needs no privilege on the table: EXECUTE on the function is
 * the gate (granted to imei_registry_reader).
 */
#include "postgres.h"

#include "catalog/pg_am.h"
#include "storage/bufmgr.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "grey.h"
#include "imei.h"
#include "key_probe.h"
#include "relcheck.h"
#include "rules.h"

PG_FUNCTION_INFO_V1(check_imei);

/*
 * The registry (relcheck.c) and its primary key, found once per backend in
 * the extension's schema and forgotten on any relcache invalidation (a DROP
 * EXTENSION, say).  The key is checked to be the btree on the registry's
 * imei that the probe below takes it for.
 */
static Oid	registry_oid = InvalidOid;
static Oid	registry_pkey_oid = InvalidOid;
static bool registry_distributed = false;

/*
 * What the probe reads a row of the registry by, made once its shape is
 * checked (relcheck.c) and forgotten with the OIDs (an ALTER TABLE sends a
 * relcache invalidation): the column numbers, and the row's descriptor cut
 * after the last column the check returns, to deform the row that far only.
 * The callback only forgets; the memory is reset when the shape is made
 * again, at the start of a call, so a call keeps what it took.
 */
#define CHECK_NCOLS 4
static const int check_cols[CHECK_NCOLS] = {
	REG_STATUS, REG_REASON, REG_SINCE, REG_GREY_LAST_DAY
};

typedef struct RegistryShape
{
	Oid			relid;			/* the table it was made of */
	const AttrNumber *att;
	TupleDesc	row;			/* attributes 1 .. the last of check_cols */
	Datum	   *values;			/* a deformed row, row->natts long */
	bool	   *isnull;
} RegistryShape;

static RegistryShape registry_shape = {InvalidOid, NULL, NULL, NULL, NULL};

static void
forget_registry(Datum arg, Oid relid)
{
	registry_oid = InvalidOid;
	registry_pkey_oid = InvalidOid;
	registry_shape.att = NULL;
	registry_shape.row = NULL;
}

static void
find_registry(void)
{
	static bool callback_registered = false;

	if (!callback_registered)
	{
		ext_register_relcache_callback(forget_registry, (Datum) 0);
		callback_registered = true;
	}
	if (!OidIsValid(registry_oid) || !OidIsValid(registry_pkey_oid))
	{
		Oid			relid = ext_relation_oid(EXT_REGISTRY);
		Oid			pkey;

		if (!OidIsValid(relid))
			ext_missing_table("registry");
		/*
		 * A registry that Citus distributes has no rows in this node's
		 * heap: a probe here would answer not_registered for every IMEI.
		 * Its rows are read by a router query (check_router).
		 */
		registry_distributed = ext_relation_distributed(relid);
		pkey = get_relname_relid("registry_pkey", get_rel_namespace(relid));
		if (!OidIsValid(pkey))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("index \"imei_registry.registry_pkey\" does not exist")));
		registry_oid = relid;
		registry_pkey_oid = pkey;
	}
}

/*
 * Is idx the unique btree on rel's imei alone, and rel a heap (the probe
 * reads its page itself)?
 */
static void
check_pkey(Relation rel, Relation idx, AttrNumber att_imei)
{
	if (rel->rd_rel->relam != HEAP_TABLE_AM_OID)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation \"imei_registry.registry\" is not a heap table, which \"check_imei\" reads")));
	if (idx->rd_index->indrelid != RelationGetRelid(rel) ||
		idx->rd_rel->relam != BTREE_AM_OID ||
		idx->rd_index->indnkeyatts != 1 ||
		idx->rd_index->indkey.values[0] != att_imei)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index \"%s\" is not the btree on imei_registry.registry (imei) that \"check_imei\" reads",
						RelationGetRelationName(idx))));
}

/* The blessed result row type, kept per function OID. */
static TupleDesc
result_desc(FunctionCallInfo fcinfo)
{
	static Oid	cached_fn = InvalidOid;
	static TupleDesc cached_desc = NULL;
	TupleDesc	desc;
	MemoryContext old;

	if (cached_fn == fcinfo->flinfo->fn_oid && cached_desc != NULL)
		return cached_desc;
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "check_imei: return type must be a row type");
	old = MemoryContextSwitchTo(TopMemoryContext);
	desc = BlessTupleDesc(CreateTupleDescCopy(desc));
	MemoryContextSwitchTo(old);
	if (cached_desc != NULL)
		FreeTupleDesc(cached_desc);
	cached_desc = desc;
	cached_fn = fcinfo->flinfo->fn_oid;
	return desc;
}

/* The value "black" of the status type */
static Datum
black_datum(Oid status_type)
{
	static Oid	cached_type = InvalidOid;
	static Datum cached = (Datum) 0;

	if (cached_type != status_type)
	{
		cached = DirectFunctionCall2(enum_in, CStringGetDatum("black"),
									 ObjectIdGetDatum(status_type));
		cached_type = status_type;
	}
	return cached;
}

/* A reason the check answers with, made once for the backend */
static text *not_registered = NULL;
static text *grey_expired = NULL;

static Datum
reason_datum(const char *code, text **cached)
{
	if (*cached == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		*cached = cstring_to_text(code);
		MemoryContextSwitchTo(old);
	}
	return PointerGetDatum(*cached);
}

/*
 * The answer of this node's registry: one probe of its primary key, into
 * result and nulls (status, reason, since, grey_last_day, days_left,
 * application_pending), which the caller set to "not registered".  Only a
 * grey row past its last day costs more than the probe: the hold of a
 * pending application (rules_application_holds, two index probes).
 */
static void check_grey(Imei imei, TupleDesc resultdesc, Datum *result,
					   bool *nulls, bool found);

/*
 * On a Citus node where the registry is distributed: one router query
 * (WHERE imei = $1 is one shard, one round trip), planned once per backend.
 * Any failure is an error: never a silent not_registered.
 */
static void
check_router(Imei imei, TupleDesc resultdesc, Datum *result, bool *nulls)
{
	static SPIPlanPtr plan = NULL;
	Datum		arg = Int64GetDatum(imei);
	bool		found;
	int			ret;
	int			i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "check_imei: SPI_connect failed");
	if (plan == NULL)
	{
		Relation	rel = table_open(registry_oid, AccessShareLock);
		const AttrNumber *att = ext_table_columns(rel, EXT_REGISTRY, "check_imei");
		Oid			argtype = TupleDescAttr(RelationGetDescr(rel), att[REG_IMEI] - 1)->atttypid;
		SPIPlanPtr	p;

		table_close(rel, NoLock);
		p = SPI_prepare("SELECT r.status, r.reason, r.since, r.grey_last_day "
						"FROM imei_registry.registry r "
						"WHERE r.imei OPERATOR(pg_catalog.=) $1", 1, &argtype);
		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "check_imei: SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		plan = p;
	}
	ret = SPI_execute_plan(plan, &arg, NULL, true, 2);
	if (ret != SPI_OK_SELECT || SPI_processed > 1)
		elog(ERROR, "check_imei: the router query of imei_registry.registry failed: %s",
			 SPI_result_code_string(ret));
	found = SPI_processed == 1;
	if (found)
	{
		for (i = 0; i < 4; i++)
		{
			Form_pg_attribute attr = TupleDescAttr(SPI_tuptable->tupdesc, i);

			result[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									  i + 1, &nulls[i]);
			if (!nulls[i])
				result[i] = SPI_datumTransfer(result[i], attr->attbyval, attr->attlen);
		}
	}
	SPI_finish();
	check_grey(imei, resultdesc, result, nulls, found);
}

/*
 * The shape of the registry rel (locked), made if forgotten or made of
 * another table (keyed by the table, as relcheck.c's check is).
 */
static RegistryShape
shape_of(Relation rel)
{
	static MemoryContext cxt = NULL;

	if (registry_shape.att == NULL || registry_shape.row == NULL ||
		registry_shape.relid != RelationGetRelid(rel))
	{
		const AttrNumber *att = ext_table_columns(rel, EXT_REGISTRY, "check_imei");
		AttrNumber	last = 0;
		MemoryContext old;
		TupleDesc	row;
		int			i;

		for (i = 0; i < CHECK_NCOLS; i++)
			last = Max(last, att[check_cols[i]]);
		if (cxt == NULL)
			cxt = AllocSetContextCreate(TopMemoryContext, "check_imei row",
										ALLOCSET_SMALL_SIZES);
		registry_shape.att = NULL;
		registry_shape.row = NULL;
		MemoryContextReset(cxt);
		old = MemoryContextSwitchTo(cxt);
		/* with the defaults of columns added since (heap_deform_tuple) */
		row = CreateTupleDescCopyConstr(RelationGetDescr(rel));
		registry_shape.values = palloc(last * sizeof(Datum));
		registry_shape.isnull = palloc(last * sizeof(bool));
		MemoryContextSwitchTo(old);
		row->natts = last;
		registry_shape.relid = RelationGetRelid(rel);
		registry_shape.att = att;
		registry_shape.row = row;
	}
	return registry_shape;
}

/*
 * The columns the check returns (status, reason, since, grey_last_day)
 * into result and nulls.  The row is deformed once, up to the last of
 * them: each heap_getattr() of a column past the first text column walked
 * the row from its start again.  A text points into the page, which the
 * caller keeps pinned until the answer is formed (a pinned page's tuples
 * do not move): no copy of a value read once.
 */
static void
read_row(HeapTuple tuple, const RegistryShape *shape, Datum *result, bool *nulls)
{
	int			i;

	heap_deform_tuple(tuple, shape->row, shape->values, shape->isnull);
	for (i = 0; i < CHECK_NCOLS; i++)
	{
		int			a = shape->att[check_cols[i]] - 1;

		nulls[i] = shape->isnull[a];
		result[i] = shape->values[a];
	}
}

/*
 * The answer of this node's registry (or of the distributed one's router
 * query) into result and nulls; the buffer the row's page is pinned in
 * until the answer is formed (InvalidBuffer if none).
 */
static Buffer
check_local(Imei imei, TupleDesc resultdesc, Datum *result, bool *nulls)
{
	KeyProbe	p;
	RegistryShape shape;
	Oid			relid;
	Oid			pkeyid;
	HeapTupleData tuple;
	bool		found;
	Buffer		pinned = InvalidBuffer;

	/*
	 * Copies: taking the lock processes invalidation messages, and any of
	 * them empties the cache (forget_registry) before the index is opened.
	 */
	find_registry();
	if (registry_distributed)
	{
		check_router(imei, resultdesc, result, nulls);
		return InvalidBuffer;
	}
	relid = registry_oid;
	pkeyid = registry_pkey_oid;
	key_probe_open_table(&p, relid, AccessShareLock);
	shape = shape_of(p.rel);
	key_probe_open_index(&p, pkeyid, AccessShareLock);
	check_pkey(p.rel, p.idx, shape.att[REG_IMEI]);
	key_probe_begin(&p, GetActiveSnapshot(), F_INT8EQ, false);
	key_probe_rescan(&p, ImeiGetDatum(imei));

	/* the row on its page, which stays pinned (read_row) */
	found = key_probe_next_tuple(&p, &tuple, &pinned);
	if (found)
		read_row(&tuple, &shape, result, nulls);

	/*
	 * The locks stay until the end of the transaction, as a query's do:
	 * releasing each here cost about as much as taking it (callgrind).
	 */
	key_probe_close(&p, NoLock, NoLock);
	check_grey(imei, resultdesc, result, nulls, found);
	return pinned;
}

/*
 * A grey row past its last day: held by a pending application, else black
 * grey_expired since the period ended.  days_left of a grey row.
 */
static void
check_grey(Imei imei, TupleDesc resultdesc, Datum *result, bool *nulls, bool found)
{
	if (found && !nulls[3] && !nulls[0] &&
		rules_status_of(DatumGetObjectId(result[0])) == ST_GREY)
	{
		DateADT		last = DatumGetDateADT(result[3]);
		int			left = grey_days_left(last);

		if (left >= 0)
		{
			result[4] = Int32GetDatum(left);
			nulls[4] = false;
		}
		else if (rules_application_holds(imei, last))
		{
			result[4] = Int32GetDatum(0);
			nulls[4] = false;
			result[5] = BoolGetDatum(true);
		}
		else
		{
			/* what the expiry will write: black since the period ended */
			result[0] = black_datum(TupleDescAttr(resultdesc, 0)->atttypid);
			result[1] = reason_datum("grey_expired", &grey_expired);
			result[2] = TimestampTzGetDatum(almaty_day_start(last + 1));
			nulls[2] = false;
			nulls[3] = true;
		}
	}
}

/*
 * check_imei(imei) -> check_result (status, reason, since, grey_last_day,
 * days_left, application_pending): always one row, what is true now.  An
 * IMEI that the register does not know has status NULL and reason
 * 'not_registered'.  A grey IMEI past its last day is black, grey_expired,
 * since the first moment after its last day, even before the expiry job
 * has written it -- unless a pending application holds it: then it is grey,
 * days_left 0, application_pending true.  days_left is never negative.
 */
Datum
check_imei(PG_FUNCTION_ARGS)
{
	Imei		imei = PG_GETARG_IMEI(0);
	TupleDesc	resultdesc = result_desc(fcinfo);
	Datum		result[6];
	bool		nulls[6] = {true, false, true, true, true, false};
	Buffer		pinned;
	HeapTuple	answer;

	result[1] = reason_datum("not_registered", &not_registered);
	result[5] = BoolGetDatum(false);
	pinned = check_local(imei, resultdesc, result, nulls);
	answer = heap_form_tuple(resultdesc, result, nulls);
	if (BufferIsValid(pinned))
		ReleaseBuffer(pinned);
	PG_RETURN_DATUM(HeapTupleGetDatum(answer));
}
