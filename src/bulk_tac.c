/*
 * bulk_tac.c
 *		imei_registry.upload_tac: the GSMA TAC database (tac, brand, model,
 *		device_type, sim_slots) into imei_registry.tac
 *		(310_applications.sql), inserted or updated row by row (the table
 *		has a few hundred thousand rows at most).  A row that changes
 *		nothing is already present.
 */
#include "compat.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "bulk_target.h"

static SPIPlanPtr
plan_tac(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID};

		bulk_plan_prepare(&plan, "INSERT INTO imei_registry.tac AS t"
						  " (tac, brand, model, device_type, sim_slots)"
						  " VALUES ($1, $2, $3, $4, $5)"
						  " ON CONFLICT (tac) DO UPDATE"
						  " SET brand = excluded.brand, model = excluded.model,"
						  "  device_type = excluded.device_type, sim_slots = excluded.sim_slots"
						  " WHERE (t.brand, t.model, t.device_type, t.sim_slots)"
						  "  IS DISTINCT FROM"
						  "  (excluded.brand, excluded.model, excluded.device_type, excluded.sim_slots)",
						  5, a);
	}
	return plan.plan;
}

/* The TACs of the file stay in the seen set: the table does not say which import wrote them */
static void
load_tac(BulkLoad *load, RowResult *r, HeapTuple tuple, TupleDesc desc)
{
	char	   *tac = bulk_column(tuple, desc, 1);
	char	   *brand = bulk_column(tuple, desc, 2);
	char	   *model = bulk_column(tuple, desc, 3);
	char	   *device_type = bulk_column(tuple, desc, 4);
	char	   *slots_s = bulk_column(tuple, desc, 5);
	const char *c;
	char	   *end;
	long		slots;
	Datum		v[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	if (!bulk_require(r, tac, "tac") || !bulk_require(r, model, "model") ||
		!bulk_require(r, slots_s, "sim_slots"))
		return;
	for (c = tac; *c; c++)
		if (*c < '0' || *c > '9')
		{
			bulk_reject(r, "non_digits", "TAC \"%s\" has a character other than a digit", tac);
			return;
		}
	if (strlen(tac) != 8)
	{
		bulk_reject(r, "wrong_length", "TAC \"%s\" has %d digits; a TAC has 8",
					tac, (int) strlen(tac));
		return;
	}
	errno = 0;
	slots = strtol(slots_s, &end, 10);
	if (errno != 0 || *end != '\0' || slots < 1 || slots > 8)
	{
		bulk_reject(r, "bad_value", "sim_slots \"%s\" is not a number of SIM slots from 1 to 8", slots_s);
		return;
	}
	if (bulk_seen_before(load, atoi(tac)))
	{
		bulk_reject(r, "duplicate_in_file", "TAC %s came earlier in this import", tac);
		return;
	}
	v[0] = CStringGetTextDatum(tac);
	v[1] = brand ? CStringGetTextDatum(brand) : (Datum) 0;
	nulls[1] = brand ? ' ' : 'n';
	v[2] = CStringGetTextDatum(model);
	v[3] = device_type ? CStringGetTextDatum(device_type) : (Datum) 0;
	nulls[3] = device_type ? ' ' : 'n';
	v[4] = Int32GetDatum((int32) slots);
	bulk_exec(plan_tac(), v, nulls);
	bulk_remember(load, atoi(tac));
	if (SPI_processed == 0)
		r->outcome = ROW_PRESENT;
}

const BulkTargetRoutine bulk_tac_target = {
	.name = "upload_tac",
	.relation = EXT_UPLOAD_TAC,
	.ncolumns = 5,
	.row_size = 0,				/* no batch: each row is applied at once */
	.keep_raw = false,
	.begin = NULL,
	.load_row = load_tac,
	.flush = NULL
};
