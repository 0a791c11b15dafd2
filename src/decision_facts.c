/*
 * decision_facts.c
 *		decision_facts(): the facts of an application's devices and IMEIs,
 *		the rules applied to each (documents.c) and the writes an approval
 *		would make, for decide_application() (310_applications.sql).
 *
 * One statement reads each IMEI of the application with its device, its
 * row in the register (the relation given: the registry, or on Citus the
 * copy of its rows the decision made) and its TAC-table entry; the rest is
 * a pass over those rows in the order the applicant listed them.  In SQL
 * (grouped by device, joined back, each device's and IMEI's reasons a
 * function call) the gathering cost half as much again as the status
 * changes it decides.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

#include "decision_rows.h"
#include "documents.h"
#include "imei.h"
#include "rules.h"
#include "spi_receiver.h"
#include "vocabulary.h"

PG_FUNCTION_INFO_V1(decision_facts);

/* reasons, expected, n_charged, the 4 device arrays, changes, entries, stays, merged */
#define N_OUTPUTS 11

/* One IMEI of the application as read (or a device that lists none) */
typedef struct Fact
{
	int32		device_ord;
	const char *declared_model;
	bool		has_imei_text;	/* false: a device without IMEIs */
	int32		ord;
	const char *imei_text;
	bool		valid;			/* imei: the IMEI as a value */
	Imei		imei;
	const char *status;			/* in the register, NULL if not there */
	Datum		status_value;
	const char *status_reason;
	bool		has_device;
	int64		device_id;
	bool		has_first_seen;
	DateADT		first_seen_on;
	bool		has_other;
	int64		other_application;
	const char *tac_brand;
	const char *tac_model;
	bool		has_sim_slots;
	int32		sim_slots;
	bool		has_old_device; /* board replacement: the old IMEI's device */
	int64		old_device_id;
	const char *note;
	bool		entered;
	bool		duplicate;		/* listed before in the application */
} Fact;

/* The statement's columns, in order */
enum
{
	COL_DEVICE_ORD, COL_DECLARED_MODEL, COL_ORD, COL_IMEI_TEXT, COL_IMEI,
	COL_STATUS, COL_REASON, COL_DEVICE_ID, COL_FIRST_SEEN,
	COL_OTHER, COL_TAC_BRAND, COL_TAC_MODEL, COL_SIM_SLOTS, COL_OLD_DEVICE,
	COL_NOTE, COL_ENTERED, N_COLS
};

/* The columns' types; the IMEI's and the status's are the extension's own */
static const Oid col_types[N_COLS] = {
	INT4OID, TEXTOID, INT4OID, TEXTOID, InvalidOid,
	InvalidOid, TEXTOID, INT8OID, DATEOID,
	INT8OID, TEXTOID, TEXTOID, INT4OID, INT8OID,
	TEXTOID, BOOLOID
};

static const char *facts_query =
"SELECT ad.device_ord, ad.model, ai.ord, ai.imei_text, ai.imei,"
"       r.status, r.reason, r.device_id,"
"       imei_registry.local_date(r.first_seen_at),"
"       CASE WHEN r.status = 'white' AND r.application_id <> $1"
"            THEN r.application_id END,"
"       t.brand, t.model, t.sim_slots,"
/* a board replacement's new IMEI: the old IMEIs' device, and its note */
"       CASE WHEN $2 = 'board_replacement' THEN"
"           (SELECT min(ro.device_id)"
"            FROM imei_registry.application_replacements rp"
"            JOIN %1$s ro ON ro.imei OPERATOR(pg_catalog.=) rp.old_imei"
"            WHERE rp.application_id = $1"
"              AND rp.new_imei OPERATOR(pg_catalog.=) ai.imei) END,"
"       CASE WHEN $2 = 'board_replacement' THEN"
"           (SELECT 'replaces ' || string_agg(rp.old_imei_text, ', ' ORDER BY rp.ord)"
"            FROM imei_registry.application_replacements rp"
"            WHERE rp.application_id = $1"
"              AND rp.new_imei OPERATOR(pg_catalog.=) ai.imei) END,"
/* entered by the approval if new: a commercial import's, a new IMEI */
"       $2 = 'commercial_import' OR ($2 = 'board_replacement' AND EXISTS ("
"           SELECT FROM imei_registry.application_replacements rp"
"           WHERE rp.application_id = $1"
"             AND rp.new_imei OPERATOR(pg_catalog.=) ai.imei))"
" FROM imei_registry.application_devices ad"
" LEFT JOIN imei_registry.application_imeis ai"
"   ON ai.application_id = ad.application_id AND ai.device_ord = ad.device_ord"
" LEFT JOIN %1$s r ON r.imei OPERATOR(pg_catalog.=) ai.imei"
" LEFT JOIN imei_registry.tac t ON t.tac = imei_registry.imei_tac(ai.imei)"
" WHERE ad.application_id = $1";

/*
 * additional_imei: the recorded device (linked_device) the white IMEIs of
 * a device belong to: its SIM slots, its IMEIs in the register (a replaced
 * one no longer counts), and whether it was verified by this applicant, by
 * its importer's registration or by grandfathering.
 */
static const char *link_query =
"SELECT dv.sim_slots,"
"       (SELECT count(*) FROM %1$s r"
"        WHERE r.device_id = $1"
"          AND NOT (r.status = 'black'"
"                   AND coalesce(r.reason_base, r.reason) = 'replaced'))::integer,"
"       EXISTS (SELECT FROM %1$s r"
"               LEFT JOIN imei_registry.applications va ON va.id = r.application_id"
"               WHERE r.device_id = $1 AND r.status = 'white'"
"                 AND (coalesce(r.reason_base, r.reason) IN ('lawful_import', 'grandfathered')"
"                      OR imei_registry.kzid_key(va.applicant_id)"
"                         = imei_registry.kzid_key($2)))"
" FROM (SELECT) x LEFT JOIN imei_registry.devices dv ON dv.device_id = $1";

/*
 * The facts as the statement returns them: each row read off its slot
 * into facts (no result set of 20,000 tuples formed and read back).
 */
typedef struct FactReceiver
{
	DestReceiver pub;
	MemoryContext cxt;			/* where the facts live */
	Fact	   *facts;
	int			n;
	int			size;
	Oid			types[N_COLS];	/* the type each column is read as */
} FactReceiver;

static const char *
text_or_null(TupleTableSlot *slot, int col)
{
	return slot->tts_isnull[col] ? NULL : TextDatumGetCString(slot->tts_values[col]);
}

static bool
value_of(TupleTableSlot *slot, int col, Datum *value)
{
	*value = slot->tts_values[col];
	return !slot->tts_isnull[col];
}

static bool
fact_receive(TupleTableSlot *slot, DestReceiver *self)
{
	FactReceiver *fr = (FactReceiver *) self;
	MemoryContext old = MemoryContextSwitchTo(fr->cxt);
	Fact	   *f;
	Datum		d;

	if (fr->n == fr->size)
	{
		fr->size *= 2;
		fr->facts = repalloc(fr->facts, fr->size * sizeof(Fact));
	}
	f = &fr->facts[fr->n++];
	slot_getallattrs(slot);
	f->device_ord = value_of(slot, COL_DEVICE_ORD, &d) ? DatumGetInt32(d) : 0;
	f->declared_model = text_or_null(slot, COL_DECLARED_MODEL);
	f->ord = value_of(slot, COL_ORD, &d) ? DatumGetInt32(d) : 0;
	f->imei_text = text_or_null(slot, COL_IMEI_TEXT);
	f->has_imei_text = f->imei_text != NULL;
	f->valid = value_of(slot, COL_IMEI, &d);
	f->imei = f->valid ? DatumGetImei(d) : 0;
	f->status = NULL;
	f->status_value = (Datum) 0;
	if (value_of(slot, COL_STATUS, &f->status_value))
		f->status = reg_status_names[rules_status_of(DatumGetObjectId(f->status_value))];
	f->status_reason = text_or_null(slot, COL_REASON);
	f->has_device = value_of(slot, COL_DEVICE_ID, &d);
	f->device_id = f->has_device ? DatumGetInt64(d) : 0;
	f->has_first_seen = value_of(slot, COL_FIRST_SEEN, &d);
	f->first_seen_on = f->has_first_seen ? DatumGetDateADT(d) : 0;
	f->has_other = value_of(slot, COL_OTHER, &d);
	f->other_application = f->has_other ? DatumGetInt64(d) : 0;
	f->tac_brand = text_or_null(slot, COL_TAC_BRAND);
	f->tac_model = text_or_null(slot, COL_TAC_MODEL);
	f->has_sim_slots = value_of(slot, COL_SIM_SLOTS, &d);
	f->sim_slots = f->has_sim_slots ? DatumGetInt32(d) : 0;
	f->has_old_device = value_of(slot, COL_OLD_DEVICE, &d);
	f->old_device_id = f->has_old_device ? DatumGetInt64(d) : 0;
	f->note = text_or_null(slot, COL_NOTE);
	f->entered = value_of(slot, COL_ENTERED, &d) && DatumGetBool(d);
	f->duplicate = false;
	MemoryContextSwitchTo(old);
	return true;
}

static void
fact_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	FactReceiver *fr = (FactReceiver *) self;
	int			i;

	if (typeinfo->natts != N_COLS)
		elog(ERROR, "decision_facts: the facts have %d columns, not %d",
			 typeinfo->natts, N_COLS);
	/* rows_rel is the caller's: a column of another type is not read as one */
	for (i = 0; i < N_COLS; i++)
		if (TupleDescAttr(typeinfo, i)->atttypid != fr->types[i])
			ereport(ERROR,
					errcode(ERRCODE_DATATYPE_MISMATCH),
					errmsg("decision_facts: column %d of the facts is of type %s, not %s",
						   i + 1, format_type_be(TupleDescAttr(typeinfo, i)->atttypid),
						   format_type_be(fr->types[i])),
					errhint("rows_rel has the columns of imei_registry.registry, of their types."));
}

/* In the order the applicant listed them: by device, then by IMEI */
static int
fact_listed_cmp(const void *a, const void *b)
{
	const Fact *x = a;
	const Fact *y = b;

	if (x->device_ord != y->device_ord)
		return x->device_ord < y->device_ord ? -1 : 1;
	if (x->ord != y->ord)
		return x->ord < y->ord ? -1 : 1;
	return 0;
}

/* By IMEI, then as listed (the facts' positions) */
static int
fact_imei_cmp(const void *a, const void *b)
{
	const Fact *x = *(Fact *const *) a;
	const Fact *y = *(Fact *const *) b;

	if (x->imei != y->imei)
		return x->imei < y->imei ? -1 : 1;
	return x < y ? -1 : x > y ? 1 : 0;
}

static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* An IMEI listed again after an earlier listing is a duplicate */
static void
mark_duplicates(Fact *facts, int n)
{
	Fact	  **valid = palloc(Max(n, 1) * sizeof(Fact *));
	int			n_valid = 0;
	int			i;

	for (i = 0; i < n; i++)
		if (facts[i].valid)
			valid[n_valid++] = &facts[i];
	qsort(valid, n_valid, sizeof(Fact *), fact_imei_cmp);
	for (i = 1; i < n_valid; i++)
		if (valid[i]->imei == valid[i - 1]->imei)
			valid[i]->duplicate = true;
	pfree(valid);
}

/* An array being built, of one element type */
typedef struct ArrayOut
{
	Datum	   *values;
	bool	   *nulls;
	int			n;
	Oid			type;
} ArrayOut;

static void
array_out_init(ArrayOut *a, Oid type, int capacity)
{
	a->values = palloc(Max(capacity, 1) * sizeof(Datum));
	a->nulls = palloc(Max(capacity, 1) * sizeof(bool));
	a->n = 0;
	a->type = type;
}

static void
array_out_add(ArrayOut *a, Datum value, bool isnull)
{
	a->values[a->n] = value;
	a->nulls[a->n] = isnull;
	a->n++;
}

/* The array, or SQL NULL for none (as array_agg() of no rows) */
static Datum
array_out_finish(ArrayOut *a, bool *isnull)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1];
	int			lbs[1] = {1};

	*isnull = (a->n == 0);
	if (*isnull)
		return (Datum) 0;
	dims[0] = a->n;
	get_typlenbyvalalign(a->type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(a->values, a->nulls, 1, dims, lbs,
											  a->type, typlen, typbyval, typalign));
}

/* The shape of imei_registry.decision_row */
typedef struct RowShape
{
	TupleDesc	desc;
	int			att_imei;
	int			att_device_ord;
	int			att_status;
	int			att_reason;
	int			att_note;
	int			att_device_id;
} RowShape;

static Datum
decision_row(RowShape *shape, const Fact *f, bool with_status, bool with_note)
{
	Datum	   *values = palloc0(shape->desc->natts * sizeof(Datum));
	bool	   *nulls = palloc(shape->desc->natts * sizeof(bool));

	memset(nulls, true, shape->desc->natts * sizeof(bool));
	values[shape->att_imei] = ImeiGetDatum(f->imei);
	nulls[shape->att_imei] = false;
	values[shape->att_device_ord] = Int32GetDatum(f->device_ord);
	nulls[shape->att_device_ord] = false;
	if (with_status && f->status)
	{
		values[shape->att_status] = f->status_value;
		nulls[shape->att_status] = false;
		values[shape->att_reason] = CStringGetTextDatum(f->status_reason);
		nulls[shape->att_reason] = f->status_reason == NULL;
	}
	if (with_note && f->note)
	{
		values[shape->att_note] = CStringGetTextDatum(f->note);
		nulls[shape->att_note] = false;
	}
	return HeapTupleGetDatum(heap_form_tuple(shape->desc, values, nulls));
}

/* The smaller of two strings by the database's collation (as min()) */
static const char *
collated_min(const char *a, const char *b)
{
	if (a == NULL)
		return b;
	return varstr_cmp(b, strlen(b), a, strlen(a), DEFAULT_COLLATION_OID) < 0 ? b : a;
}

/*
 * decision_facts(application_id bigint, method text, applicant_id text,
 *		import_date date, rows_rel regclass) -> record
 *
 * For the devices and IMEIs of an application: their reasons (devices in
 * order, each followed by its IMEIs'), and what an approval writes: the
 * rows that turn white and those entered, the white ones that only join
 * their device, the devices (device_ord, the recorded device it becomes
 * or NULL for a new one, model, SIM slots) and the recorded devices a
 * merge may leave empty.  See decide_application().
 */
Datum
decision_facts(PG_FUNCTION_ARGS)
{
	int64		app_id;
	Method		method;
	char	   *method_name;
	char	   *applicant_id;
	bool		has_import_date = !PG_ARGISNULL(3);
	DateADT		import_date = has_import_date ? PG_GETARG_DATEADT(3) : 0;
	Oid			rows_rel;
	char	   *rows_name;
	TupleDesc	result_desc;
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext old;
	Oid			param_types[2] = {INT8OID, TEXTOID};
	Datum		param_values[2];
	SPIExecuteOptions options;
	FactReceiver receiver;
	Fact	   *facts;
	int			n;
	int			i;
	int			start;
	SPIPlanPtr	link_plan = NULL;
	Reasons		reasons;
	RowShape	shape;
	Oid			rowtype;
	ArrayOut	dev_ords, dev_known, dev_models, dev_slots;
	ArrayOut	changes, entries, stays, merged;
	Fact	  **entered;
	int			n_entered = 0;
	int64	   *devices_seen;
	int			n_devices_seen = 0;
	int64		expected = 0;
	int32		n_charged = 0;
	Datum		values[N_OUTPUTS];
	bool		nulls[N_OUTPUTS];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(4))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("decision_facts: only import_date may be null"));
	app_id = PG_GETARG_INT64(0);
	method_name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	method = vocabulary_lookup(methods, method_name);
	applicant_id = text_to_cstring(PG_GETARG_TEXT_PP(2));
	rows_rel = PG_GETARG_OID(4);
	rows_name = get_rel_name(rows_rel);
	if (rows_name == NULL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_TABLE),
				errmsg("decision_facts: relation %u does not exist", rows_rel));
	rows_name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(rows_rel)),
										   rows_name);
	if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE ||
		result_desc->natts != N_OUTPUTS)
		elog(ERROR, "decision_facts: declared with the wrong result");
	result_desc = BlessTupleDesc(result_desc);
	rowtype = get_element_type(TupleDescAttr(result_desc, 7)->atttypid);
	shape.desc = lookup_rowtype_tupdesc_copy(rowtype, -1);
	shape.att_imei = decision_row_attribute(shape.desc, "imei", InvalidOid);
	shape.att_device_ord = decision_row_attribute(shape.desc, "device_ord", INT4OID);
	shape.att_status = decision_row_attribute(shape.desc, "status", InvalidOid);
	shape.att_reason = decision_row_attribute(shape.desc, "reason", TEXTOID);
	shape.att_note = decision_row_attribute(shape.desc, "note", TEXTOID);
	shape.att_device_id = decision_row_attribute(shape.desc, "device_id", INT8OID);

	SPI_connect();
	param_values[0] = Int64GetDatum(app_id);
	param_values[1] = CStringGetTextDatum(method_name);
	spi_receiver_init(&receiver.pub, fact_receive, fact_startup);
	receiver.cxt = CurrentMemoryContext;	/* SPI's, until SPI_finish() */
	receiver.size = 1024;
	receiver.n = 0;
	receiver.facts = palloc(receiver.size * sizeof(Fact));
	memcpy(receiver.types, col_types, sizeof(col_types));
	receiver.types[COL_IMEI] = TupleDescAttr(shape.desc, shape.att_imei)->atttypid;
	receiver.types[COL_STATUS] = TupleDescAttr(shape.desc, shape.att_status)->atttypid;
	memset(&options, 0, sizeof(options));
	options.params = spi_const_params(2, param_types, param_values);
	options.read_only = false;
	options.dest = &receiver.pub;
	if (SPI_execute_extended(psprintf(facts_query, rows_name), &options) < 0)
		elog(ERROR, "decision_facts: reading the facts failed");
	facts = receiver.facts;
	n = receiver.n;
	qsort(facts, n, sizeof(Fact), fact_listed_cmp);
	mark_duplicates(facts, n);
	if (method == METHOD_ADDITIONAL_IMEI)
	{
		Oid			link_types[2] = {INT8OID, TEXTOID};

		link_plan = SPI_prepare(psprintf(link_query, rows_name), 2, link_types);
		if (link_plan == NULL)
			elog(ERROR, "decision_facts: SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
	}

	/* the outputs outlive SPI */
	old = MemoryContextSwitchTo(outer);
	reasons_init(&reasons);
	array_out_init(&dev_ords, INT4OID, n);
	array_out_init(&dev_known, INT8OID, n);
	array_out_init(&dev_models, TEXTOID, n);
	array_out_init(&dev_slots, INT4OID, n);
	array_out_init(&changes, rowtype, n);
	array_out_init(&entries, rowtype, n);
	array_out_init(&stays, rowtype, n);
	array_out_init(&merged, INT8OID, n);
	entered = palloc(Max(n, 1) * sizeof(Fact *));
	devices_seen = palloc(Max(n, 1) * sizeof(int64));
	MemoryContextSwitchTo(old);

	for (start = 0; start < n; )
	{
		int			end;
		DeviceFacts d = {0};
		const char *declared = facts[start].declared_model;
		const char *tac_names = NULL;
		const char *device_model = NULL;
		int			n_listed = 0;	/* its IMEIs as typed */
		int			n_listed_white = 0;
		int			n_valid = 0;
		bool		has_linked = false;
		int64		linked_device = 0;
		bool		has_known = false;
		int64		known_device = 0;
		int64	   *white_devices;
		int			n_white_devices = 0;

		for (end = start; end < n && facts[end].device_ord == facts[start].device_ord; end++)
			;
		white_devices = palloc((end - start) * sizeof(int64));
		for (i = start; i < end; i++)
		{
			Fact	   *f = &facts[i];

			if (!f->has_imei_text)
				continue;
			n_listed++;
			if (!f->duplicate)
				d.n_imeis++;
			if (f->has_sim_slots && (!d.slots_known || f->sim_slots > d.sim_slots))
			{
				d.slots_known = true;
				d.sim_slots = f->sim_slots;
			}
			if (f->status && strcmp(f->status, "white") == 0)
			{
				d.n_white++;
				n_listed_white++;
				if (f->has_device)
				{
					if (!has_linked || f->device_id < linked_device)
						linked_device = f->device_id;
					has_linked = true;
					white_devices[n_white_devices++] = f->device_id;
				}
			}
			if (f->valid)
				n_valid++;
			if (f->has_device && (!has_known || f->device_id < known_device))
			{
				known_device = f->device_id;
				has_known = true;
			}
			if (f->has_old_device && (!has_known || f->old_device_id < known_device))
			{
				known_device = f->old_device_id;
				has_known = true;
			}
			/* the TAC's model of its first IMEI that has one */
			if (device_model == NULL && f->tac_model)
				device_model = f->tac_model;
			/* without a declared model: the least of its IMEIs' TAC names */
			if (declared == NULL)
				tac_names = collated_min(tac_names,
										 f->tac_model ?
										 (f->tac_brand ? psprintf("%s %s", f->tac_brand, f->tac_model) :
										  f->tac_model) : "");
		}
		if (device_model == NULL)
			device_model = declared;

		d.device_no = facts[start].device_ord;
		d.model = declared;
		d.method = method;
		d.device_slots_known = d.slots_known;
		d.device_slots = d.sim_slots;
		if (method == METHOD_ADDITIONAL_IMEI)
		{
			int			k;

			qsort(white_devices, n_white_devices, sizeof(int64), int64_cmp);
			for (k = 0; k < n_white_devices; k++)
				if (k == 0 || white_devices[k] != white_devices[k - 1])
					d.linked_devices++;
			/* (device_id IS DISTINCT FROM linked_device) */
			for (i = start; i < end; i++)
				if (facts[i].valid && !facts[i].duplicate &&
					(has_linked ?
					 !(facts[i].has_device && facts[i].device_id == linked_device) :
					 facts[i].has_device))
					d.adding++;
			if (has_linked)
			{
				Datum		link_args[2] = {Int64GetDatum(linked_device),
				CStringGetTextDatum(applicant_id)};
				Datum		v;
				HeapTuple	link;
				TupleDesc	link_desc;
				bool		isnull;

				if (SPI_execute_plan(link_plan, link_args, NULL, false, 1) != SPI_OK_SELECT ||
					SPI_processed != 1)
					elog(ERROR, "decision_facts: reading the linked device failed");
				link = SPI_tuptable->vals[0];
				link_desc = SPI_tuptable->tupdesc;

				v = SPI_getbinval(link, link_desc, 1, &isnull);
				if (!isnull)
				{
					d.device_slots_known = true;
					d.device_slots = DatumGetInt32(v);
				}
				v = SPI_getbinval(link, link_desc, 2, &isnull);
				d.device_imeis = isnull ? 0 : DatumGetInt32(v);
				v = SPI_getbinval(link, link_desc, 3, &isnull);
				d.verified = !isnull && DatumGetBool(v);
			}
		}

		old = MemoryContextSwitchTo(outer);
		device_rules(&reasons, &d);
		if (fee_counts_device(n_listed, n_listed_white))
			n_charged++;
		if (n_valid > 0)
		{
			array_out_add(&dev_ords, Int32GetDatum(d.device_no), false);
			array_out_add(&dev_known, Int64GetDatum(known_device), !has_known);
			array_out_add(&dev_models, device_model ? CStringGetTextDatum(device_model) : (Datum) 0,
						  device_model == NULL);
			array_out_add(&dev_slots, Int32GetDatum(d.sim_slots), !d.slots_known);
		}

		for (i = start; i < end; i++)
		{
			Fact	   *f = &facts[i];
			ImeiFacts	im;
			bool		white = f->status && strcmp(f->status, "white") == 0;

			if (!f->has_imei_text)
				continue;
			im.typed = f->imei_text;
			im.duplicate = f->duplicate;
			im.status = f->status;
			im.status_reason = f->status_reason;
			im.expected_model = declared ? declared : tac_names;
			im.model_declared = declared != NULL;
			im.tac_brand = f->tac_brand;
			im.tac_model = f->tac_model;
			im.method = method;
			im.entered = f->entered;
			im.has_import_date = has_import_date;
			im.import_date = import_date;
			im.has_first_seen = f->has_first_seen;
			im.first_seen_on = f->first_seen_on;
			im.has_other = f->has_other;
			im.other_application = f->other_application;
			imei_rules(&reasons, &im);

			/* the writes of an approval */
			if ((f->status && !white) || (!f->status && f->entered && !f->duplicate))
				expected++;
			if (f->status && !white && !f->duplicate &&
				rules_allows_change(rules_status_named(f->status), f->status_reason, ST_WHITE,
									method == METHOD_COMMERCIAL_IMPORT &&
									strcmp(f->status, "grey") == 0 ?
									"lawful_import" : "application_approved"))
			{
				array_out_add(&changes, decision_row(&shape, f, true, true), false);
			}
			if (f->valid && !f->status && f->entered && !f->duplicate)
				entered[n_entered++] = f;
			if (white)
			{
				array_out_add(&stays, decision_row(&shape, f, true, false), false);
			}
			if (f->has_device)
				devices_seen[n_devices_seen++] = f->device_id;
		}
		MemoryContextSwitchTo(old);
		pfree(white_devices);
		start = end;
	}

	old = MemoryContextSwitchTo(outer);
	qsort(entered, n_entered, sizeof(Fact *), fact_imei_cmp);
	for (i = 0; i < n_entered; i++)
		array_out_add(&entries, decision_row(&shape, entered[i], false, true), false);
	qsort(devices_seen, n_devices_seen, sizeof(int64), int64_cmp);
	for (i = 0; i < n_devices_seen; i++)
		if (i == 0 || devices_seen[i] != devices_seen[i - 1])
			array_out_add(&merged, Int64GetDatum(devices_seen[i]), false);

	nulls[0] = reasons.count == 0;
	values[0] = nulls[0] ? (Datum) 0 : reasons_jsonb(&reasons);
	values[1] = Int64GetDatum(expected);
	nulls[1] = false;
	values[2] = Int32GetDatum(n_charged);
	nulls[2] = false;
	values[3] = array_out_finish(&dev_ords, &nulls[3]);
	values[4] = array_out_finish(&dev_known, &nulls[4]);
	values[5] = array_out_finish(&dev_models, &nulls[5]);
	values[6] = array_out_finish(&dev_slots, &nulls[6]);
	values[7] = array_out_finish(&changes, &nulls[7]);
	values[8] = array_out_finish(&entries, &nulls[8]);
	values[9] = array_out_finish(&stays, &nulls[9]);
	values[10] = array_out_finish(&merged, &nulls[10]);
	MemoryContextSwitchTo(old);
	SPI_finish();
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc, values, nulls)));
}
