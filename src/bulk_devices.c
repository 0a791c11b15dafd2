/*
 * bulk_devices.c
 *		imei_registry.upload_devices: the devices of a submitted application
 *		(310_applications.sql), one line per device: application_id, model,
 *		imei_1 .. imei_4, the IMEIs in slot order (later ones empty for
 *		fewer SIMs).  The application is decided later, as one, by
 *		decide_application().
 *
 * A batch of devices is appended to their applications in two statements:
 * one looks the batch's IMEIs up, sorted, in the IMEI index (a device with
 * one its application or this import already has is not added); one
 * inserts the others, each table's rows from arrays (device_ord after the
 * application's last device, counted here; the IMEIs in column order, each
 * with this import's import_id).  The application's last
 * device_ord is read once per load, when its first batch is written, and
 * counted on in memory: the load locks the application row when it first
 * meets it (FOR NO KEY UPDATE, until the transaction ends), so no other
 * upload adds devices to it meanwhile, and submit_application() adds them
 * only to a new application.  (Read per device, that look-up walked every
 * index entry that rolled-back uploads of the application had left.)
 *
 * The import_id column answers for the IMEIs the import added (a later line
 * with one of them is a duplicate), so they leave the seen set once their
 * batch is written.
 */
#include "compat.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "bulk_target.h"

#define DEVICE_IMEIS 4			/* imei_1 .. imei_4 */

StaticAssertDecl(DEVICE_IMEIS <= BULK_ROW_KEYS, "a device's IMEIs are its keys");

/* A device in the batch: its IMEIs are its keys (base.keys) */
typedef struct DeviceRow
{
	BulkRow		base;
	int64		application_id;
	Datum		model;			/* text, or 0 for none */
	struct KnownApplication *app;	/* at the flush: its application */
} DeviceRow;

/* Applications already looked up in this load */
typedef struct KnownApplication
{
	int64		id;
	const char *state;			/* NULL: there is no such application */
	bool		has_last_ord;	/* last_ord read (at its first flush) */
	int32		last_ord;		/* its last device_ord, 0 for none */
} KnownApplication;

#define MAX_CACHED_APPLICATIONS 64

typedef struct DeviceState
{
	KnownApplication applications[MAX_CACHED_APPLICATIONS];
	int			napplications;
} DeviceState;

static void
devices_begin(BulkLoad *load)
{
	load->private = palloc0(sizeof(DeviceState));
}

/* ---- statements ---- */

static SPIPlanPtr
plan_application(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {INT8OID};

		bulk_plan_prepare(&plan, "SELECT state FROM imei_registry.applications"
						  " WHERE id OPERATOR(pg_catalog.=) $1"
						  " FOR NO KEY UPDATE", 1, a);
	}
	return plan.plan;
}

/* The application's last device_ord: the first live entry of its key, read backwards */
static SPIPlanPtr
plan_last_ord(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {INT8OID};

		bulk_plan_prepare(&plan, "SELECT d.device_ord FROM imei_registry.application_devices d"
						  " WHERE d.application_id OPERATOR(pg_catalog.=) $1"
						  " ORDER BY d.device_ord DESC LIMIT 1", 1, a);
	}
	return plan.plan;
}

/*
 * The IMEIs of a batch that their rows' applications already have, or that
 * this import added: $1 the IMEIs, sorted (one walk of the IMEI index, in
 * its order), $2 the row of each (0-based), $3 its application.  For each
 * row with any: whether one of them came from outside an upload (import_id
 * NULL), whether one came from this import.  (No IMEI is twice in a batch.)
 * One probe of the IMEI index per IMEI, whatever the statistics: the plan
 * is made at the first batch, when application_imeis may be empty, and a
 * join the planner may then pick (a hash of the batch over a scan of the
 * table) costs a scan of all the load has written at every batch.
 */
static SPIPlanPtr
plan_known(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {bulk_imei_array_type(), INT4ARRAYOID, INT8ARRAYOID, INT8OID};

		bulk_plan_prepare(&plan, "SELECT p.nth, pg_catalog.bool_or(k.outside), pg_catalog.bool_or(k.mine)"
						  " FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
						  "  pg_catalog.unnest($3)) AS p(imei, nth, application_id)"
						  " CROSS JOIN LATERAL (SELECT pg_catalog.bool_or(ai.import_id IS NULL) AS outside,"
						  "  pg_catalog.bool_or(ai.import_id OPERATOR(pg_catalog.=) $4) AS mine"
						  "  FROM imei_registry.application_imeis ai"
						  "  WHERE ai.imei OPERATOR(pg_catalog.=) p.imei"
						  "  AND (ai.application_id OPERATOR(pg_catalog.=) p.application_id"
						  "   OR ai.import_id OPERATOR(pg_catalog.=) $4)) k"
						  " WHERE k.outside IS NOT NULL"
						  " GROUP BY p.nth", 4, a);
	}
	return plan.plan;
}

/*
 * The new devices of a batch and their IMEIs, as the rows to insert: $1..$3
 * the devices (application_id, device_ord, model), $4..$7 their IMEIs
 * (application_id, device_ord, ord, imei), $8 this import.
 */
static SPIPlanPtr
plan_devices(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			a[] = {INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID,
			INT8ARRAYOID, INT4ARRAYOID, INT4ARRAYOID, bulk_imei_array_type(), INT8OID};

		bulk_plan_prepare(&plan, "WITH dev AS ("
						  " INSERT INTO imei_registry.application_devices (application_id, device_ord, model)"
						  " SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
						  "  pg_catalog.unnest($3)))"
						  " INSERT INTO imei_registry.application_imeis"
						  "  (application_id, device_ord, ord, imei_text, imei, import_id)"
						  " SELECT i.application_id, i.device_ord, i.ord, i.imei::pg_catalog.text, i.imei, $8"
						  " FROM ROWS FROM (pg_catalog.unnest($4), pg_catalog.unnest($5),"
						  "  pg_catalog.unnest($6), pg_catalog.unnest($7))"
						  "  AS i(application_id, device_ord, ord, imei)",
						  8, a);
	}
	return plan.plan;
}

/* ---- a row ---- */

/* The state of an application, NULL if there is none; locked against a concurrent upload */
static const char *
application_state(BulkLoad *load, int64 id)
{
	DeviceState *ds = (DeviceState *) load->private;
	const char *state = NULL;
	Datum		v[1];
	int			i;

	for (i = 0; i < ds->napplications; i++)
		if (ds->applications[i].id == id)
			return ds->applications[i].state;
	v[0] = Int64GetDatum(id);
	bulk_exec(plan_application(), v, NULL);
	if (SPI_processed > 0)
		state = MemoryContextStrdup(load->cxt,
									SPI_getvalue(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1));
	if (ds->napplications < MAX_CACHED_APPLICATIONS)
	{
		KnownApplication *a = &ds->applications[ds->napplications++];

		a->id = id;
		a->state = state;
		a->has_last_ord = false;
	}
	return state;
}

static void
load_device(BulkLoad *load, RowResult *r, HeapTuple tuple, TupleDesc desc)
{
	char	   *app_s = bulk_column(tuple, desc, 1);
	char	   *model = bulk_column(tuple, desc, 2);
	char	   *imei_s[DEVICE_IMEIS];
	int64		imeis[DEVICE_IMEIS];
	int			nimeis = 0;
	int64		app;
	char	   *end;
	const char *state;
	DeviceRow  *row;
	int			c;
	int			c2;

	if (!bulk_require(r, app_s, "application_id"))
		return;
	for (c = 0; c < DEVICE_IMEIS; c++)
	{
		imei_s[c] = bulk_column(tuple, desc, 3 + c);
		if (imei_s[c] != NULL)
		{
			if (c > nimeis)
			{
				bulk_reject(r, "missing_value", "imei_%d is empty but imei_%d is not", nimeis + 1, c + 1);
				return;
			}
			nimeis++;
		}
	}
	if (nimeis == 0)
	{
		bulk_reject(r, "missing_value", "imei_1 is empty");
		return;
	}
	errno = 0;
	app = strtoll(app_s, &end, 10);
	if (errno != 0 || *end != '\0' || app <= 0)
	{
		bulk_reject(r, "bad_value", "application_id \"%s\" is not an application number", app_s);
		return;
	}
	for (c = 0; c < nimeis; c++)
	{
		Imei		imei;

		if (!bulk_parse_imei(r, imei_s[c], false, &imei))
		{
			r->message = psprintf("imei_%d: %s", c + 1, r->message);
			return;
		}
		imeis[c] = imei;
		for (c2 = 0; c2 < c; c2++)
			if (imeis[c2] == imeis[c])
			{
				bulk_reject(r, "duplicate_in_file", "imei_%d repeats imei_%d (%015lld)",
							c + 1, c2 + 1, (long long) imeis[c]);
				return;
			}
	}
	state = application_state(load, app);
	if (state == NULL)
	{
		bulk_reject(r, "unknown_application", "there is no application %lld", (long long) app);
		return;
	}
	if (strcmp(state, "submitted") != 0)
	{
		bulk_reject(r, "unknown_application", "application %lld is already %s: devices go to a submitted application",
					(long long) app, state);
		return;
	}
	for (c = 0; c < nimeis; c++)
		if (bulk_seen_before(load, imeis[c]))
		{
			bulk_reject_duplicate(r, imeis[c]);
			return;
		}

	row = (DeviceRow *) bulk_queue_row(load, r, tuple, desc, nimeis, imeis);
	row->application_id = app;
	row->model = model ? bulk_batch_text(load, model) : (Datum) 0;
}

/* ---- a batch ---- */

/*
 * The application of a row at its flush, its last device_ord read if it
 * was not yet: from the load's applications, else (when they had no room
 * for it) from this batch's own, made in extra (room for a batch).
 */
static KnownApplication *
batch_application(BulkLoad *load, int64 id, KnownApplication *extra, int *nextra)
{
	DeviceState *ds = (DeviceState *) load->private;
	KnownApplication *a = NULL;
	Datum		v[1];
	bool		isnull;
	int			i;

	for (i = 0; i < ds->napplications && a == NULL; i++)
		if (ds->applications[i].id == id)
			a = &ds->applications[i];
	for (i = 0; i < *nextra && a == NULL; i++)
		if (extra[i].id == id)
			a = &extra[i];
	if (a == NULL)
	{
		a = &extra[(*nextra)++];
		a->id = id;
		a->state = "submitted";	/* load_device() queued its rows */
		a->has_last_ord = false;
	}
	if (!a->has_last_ord)
	{
		v[0] = Int64GetDatum(id);
		bulk_exec(plan_last_ord(), v, NULL);
		a->last_ord = 0;
		if (SPI_processed > 0)
			a->last_ord = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc, 1, &isnull));
		a->has_last_ord = true;
	}
	return a;
}

/* An IMEI of the batch and its row, to look the batch's IMEIs up in index order */
typedef struct BatchImei
{
	Imei		imei;
	int32		nth;
} BatchImei;

static int
batch_imei_cmp(const void *a, const void *b)
{
	Imei		x = ((const BatchImei *) a)->imei;
	Imei		y = ((const BatchImei *) b)->imei;

	return (x > y) - (x < y);
}

/*
 * Send the waiting device rows to their applications, and settle each:
 * loaded (appended), already present (an IMEI of it is in the application
 * from an earlier import) or a duplicate (this import added it in an
 * earlier batch).  One statement finds the rows with known IMEIs, another
 * inserts the others, their device_ord counted on here.
 */
static void
flush_devices(BulkLoad *load)
{
	int			n = load->nbatch;
	int			nimeis = 0;
	BatchImei  *pairs;
	char	   *fate = palloc0(n);	/* 0 new, 1 present, 2 duplicate */
	KnownApplication *extra = palloc(n * sizeof(KnownApplication));
	int			nextra = 0;
	Datum	   *d_apps = palloc(n * sizeof(Datum));
	Datum	   *d_ords = palloc(n * sizeof(Datum));
	Datum	   *d_models = palloc(n * sizeof(Datum));
	bool	   *d_model_nulls = palloc(n * sizeof(bool));
	Datum	   *i_apps;
	Datum	   *i_dev_ords;
	Datum	   *i_ords;
	Datum	   *i_imeis;
	Datum		v[8];
	int			ndev = 0;
	int			nimei_rows = 0;
	int			i;
	int			c;
	uint64		k;

	for (i = 0; i < n; i++)
		nimeis += bulk_batch_row(load, i)->nkeys;
	pairs = palloc(nimeis * sizeof(BatchImei));
	i_apps = palloc(nimeis * sizeof(Datum));
	i_dev_ords = palloc(nimeis * sizeof(Datum));
	i_ords = palloc(nimeis * sizeof(Datum));
	i_imeis = palloc(nimeis * sizeof(Datum));
	nimeis = 0;
	for (i = 0; i < n; i++)
	{
		BulkRow    *row = bulk_batch_row(load, i);

		for (c = 0; c < row->nkeys; c++)
		{
			pairs[nimeis].imei = row->keys[c];
			pairs[nimeis].nth = i;
			nimeis++;
		}
	}
	qsort(pairs, nimeis, sizeof(BatchImei), batch_imei_cmp);
	for (i = 0; i < nimeis; i++)
	{
		i_imeis[i] = ImeiGetDatum(pairs[i].imei);
		i_ords[i] = Int32GetDatum(pairs[i].nth);
		i_apps[i] = Int64GetDatum(((DeviceRow *) bulk_batch_row(load, pairs[i].nth))->application_id);
	}
	v[0] = bulk_array(bulk_imei_type(), i_imeis, NULL, nimeis);
	v[1] = PointerGetDatum(construct_array(i_ords, nimeis, INT4OID, sizeof(int32),
										   true, TYPALIGN_INT));
	v[2] = bulk_array(INT8OID, i_apps, NULL, nimeis);
	v[3] = Int64GetDatum(load->import_id);
	bulk_exec(plan_known(), v, NULL);
	for (k = 0; k < SPI_processed; k++)
	{
		bool		isnull;
		HeapTuple	t = SPI_tuptable->vals[k];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		int32		nth = DatumGetInt32(SPI_getbinval(t, desc, 1, &isnull));
		bool		outside = DatumGetBool(SPI_getbinval(t, desc, 2, &isnull));
		bool		mine = DatumGetBool(SPI_getbinval(t, desc, 3, &isnull));

		/* as when the first match was taken: outside first, then this import's */
		fate[nth] = (!outside && mine) ? 2 : 1;
	}

	nimei_rows = 0;
	for (i = 0; i < n; i++)
	{
		DeviceRow  *row = (DeviceRow *) bulk_batch_row(load, i);

		if (i == 0 || row->application_id != ((DeviceRow *) bulk_batch_row(load, i - 1))->application_id)
			row->app = batch_application(load, row->application_id, extra, &nextra);
		else
			row->app = ((DeviceRow *) bulk_batch_row(load, i - 1))->app;
		if (fate[i] != 0)
			continue;
		row->app->last_ord++;
		d_apps[ndev] = Int64GetDatum(row->application_id);
		d_ords[ndev] = Int32GetDatum(row->app->last_ord);
		d_models[ndev] = row->model;
		d_model_nulls[ndev] = (row->model == (Datum) 0);
		ndev++;
		for (c = 0; c < row->base.nkeys; c++)
		{
			i_apps[nimei_rows] = Int64GetDatum(row->application_id);
			i_dev_ords[nimei_rows] = Int32GetDatum(row->app->last_ord);
			i_ords[nimei_rows] = Int32GetDatum(c + 1);
			i_imeis[nimei_rows] = ImeiGetDatum(row->base.keys[c]);
			nimei_rows++;
		}
	}
	if (ndev > 0)
	{
		v[0] = bulk_array(INT8OID, d_apps, NULL, ndev);
		v[1] = PointerGetDatum(construct_array(d_ords, ndev, INT4OID, sizeof(int32),
											   true, TYPALIGN_INT));
		v[2] = bulk_array(TEXTOID, d_models, d_model_nulls, ndev);
		v[3] = bulk_array(INT8OID, i_apps, NULL, nimei_rows);
		v[4] = PointerGetDatum(construct_array(i_dev_ords, nimei_rows, INT4OID, sizeof(int32),
											   true, TYPALIGN_INT));
		v[5] = PointerGetDatum(construct_array(i_ords, nimei_rows, INT4OID, sizeof(int32),
											   true, TYPALIGN_INT));
		v[6] = bulk_array(bulk_imei_type(), i_imeis, NULL, nimei_rows);
		v[7] = Int64GetDatum(load->import_id);
		bulk_exec(plan_devices(), v, NULL);
	}
	for (i = 0; i < n; i++)
	{
		BulkRow    *row = bulk_batch_row(load, i);

		if (fate[i] == 2)
			bulk_settle_duplicate(load, row);
		else if (fate[i] == 1)
			bulk_settle(load, row, ROW_PRESENT);
		else
			bulk_settle(load, row, ROW_LOADED);
	}
}

const BulkTargetRoutine bulk_devices_target = {
	.name = "upload_devices",
	.relation = EXT_UPLOAD_DEVICES,
	.ncolumns = 6,
	.row_size = sizeof(DeviceRow),
	.keep_raw = true,			/* a duplicate is found at its flush */
	.begin = devices_begin,
	.load_row = load_device,
	.flush = flush_devices
};
