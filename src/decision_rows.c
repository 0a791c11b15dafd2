/*
 * decision_rows.c
 *		decision_rows_placed(): the rows a decision writes (arrays of
 *		imei_registry.decision_row) given the devices their device_ord
 *		became, before the writes (310_applications.sql).  In C: the plpgsql
 *		form (an unnest, a row and an array of 20,000 rows, four times, and
 *		the devices laid out by device_ord first) cost more than the rows'
 *		status changes' own check.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "decision_rows.h"

PG_FUNCTION_INFO_V1(decision_rows_placed);

int
decision_row_attribute(TupleDesc desc, const char *name, Oid type)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0 &&
			(type == InvalidOid || att->atttypid == type))
			return i;
	}
	elog(ERROR, "imei_registry.decision_row has no %s of type %s",
		 name, type == InvalidOid ? "any" : format_type_be(type));
	return -1;					/* not reached */
}

/*
 * decision_rows_placed(rows decision_row[], device_ords integer[],
 * device_ids bigint[]): each row with device_id the device_ids[i] of its
 * device_ord = device_ords[i] (NULL if none).  STRICT.
 */
Datum
decision_rows_placed(PG_FUNCTION_ARGS)
{
	ArrayType  *rows = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *ords = PG_GETARG_ARRAYTYPE_P(1);
	ArrayType  *ids = PG_GETARG_ARRAYTYPE_P(2);
	Oid			rowtype = ARR_ELEMTYPE(rows);
	TupleDesc	desc;
	int			att_ord;
	int			att_device;
	Datum	   *ord_values;
	bool	   *ord_nulls;
	Datum	   *id_values;
	bool	   *id_nulls;
	int			n_ords;
	int			n_ids;
	int			max_ord = 0;
	Datum	   *device_of;		/* device_of[ord]: its device_id */
	bool	   *device_known;
	Datum	   *elems;
	bool	   *elem_nulls;
	int			n;
	int			i;
	Datum	   *values;
	bool	   *nulls;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (ARR_ELEMTYPE(ords) != INT4OID || ARR_ELEMTYPE(ids) != INT8OID)
		elog(ERROR, "decision_rows_placed: integer[] and bigint[] are expected");
	deconstruct_array(ords, INT4OID, sizeof(int32), true, TYPALIGN_INT,
					  &ord_values, &ord_nulls, &n_ords);
	deconstruct_array(ids, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &id_values, &id_nulls, &n_ids);
	if (n_ords != n_ids)
		elog(ERROR, "decision_rows_placed: %d device_ords but %d device_ids",
			 n_ords, n_ids);
	for (i = 0; i < n_ords; i++)
		if (!ord_nulls[i] && DatumGetInt32(ord_values[i]) > max_ord)
			max_ord = DatumGetInt32(ord_values[i]);
	device_of = palloc((max_ord + 1) * sizeof(Datum));
	device_known = palloc0((max_ord + 1) * sizeof(bool));
	for (i = 0; i < n_ords; i++)
	{
		int32		ord = DatumGetInt32(ord_values[i]);

		if (ord_nulls[i] || ord < 1 || id_nulls[i])
			continue;
		device_of[ord] = id_values[i];
		device_known[ord] = true;
	}

	desc = lookup_rowtype_tupdesc_copy(rowtype, -1);
	att_ord = decision_row_attribute(desc, "device_ord", INT4OID);
	att_device = decision_row_attribute(desc, "device_id", INT8OID);
	get_typlenbyvalalign(rowtype, &typlen, &typbyval, &typalign);
	deconstruct_array(rows, rowtype, typlen, typbyval, typalign,
					  &elems, &elem_nulls, &n);
	values = palloc(desc->natts * sizeof(Datum));
	nulls = palloc(desc->natts * sizeof(bool));
	for (i = 0; i < n; i++)
	{
		HeapTupleHeader header;
		HeapTupleData tuple;
		int32		ord;

		if (elem_nulls[i])
			continue;
		header = DatumGetHeapTupleHeader(elems[i]);
		tuple.t_len = HeapTupleHeaderGetDatumLength(header);
		ItemPointerSetInvalid(&tuple.t_self);
		tuple.t_tableOid = InvalidOid;
		tuple.t_data = header;
		heap_deform_tuple(&tuple, desc, values, nulls);
		ord = nulls[att_ord] ? 0 : DatumGetInt32(values[att_ord]);
		nulls[att_device] = !(ord >= 1 && ord <= max_ord && device_known[ord]);
		values[att_device] = nulls[att_device] ? (Datum) 0 : device_of[ord];
		elems[i] = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
	}
	PG_RETURN_ARRAYTYPE_P(construct_md_array(elems, elem_nulls, ARR_NDIM(rows),
											 ARR_DIMS(rows), ARR_LBOUND(rows),
											 rowtype, typlen, typbyval, typalign));
}
