/*
 * bulk_devices.c
 *		imei_registry.upload_devices: the devices of a submitted application
 *		(310_applications.sql), one line per device: application_id, model,
 *		imei_1 .. imei_4, the IMEIs in slot order (later ones empty for
 *		fewer SIMs).  The application is decided later, as one, by
 *		decide_application().
 *
 * A batch of devices is appended to their applications in one statement:
 * device_ord after the application's last device, the IMEIs in column
 * order, each with this import's import_id.  The application's last
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
 * A batch of devices, no IMEI twice.  A device with an IMEI that this
 * import already added is a duplicate (an earlier batch); one with an IMEI
 * that the application has from an earlier import is already present, and
 * nothing of it is added.  The others are appended to their application:
 * device_ord after its last device ($7, per row: its application's last
 * device_ord before the batch), the IMEIs in column order.  For each row:
 * duplicate, present.
 */
static SPIPlanPtr
plan_devices(void)
{
	static BulkPlan plan;

	if (!bulk_plan_ready(&plan))
	{
		Oid			t_imeis = bulk_imei_array_type();
		Oid			a[] = {INT8ARRAYOID, TEXTARRAYOID, t_imeis, t_imeis, t_imeis,
			t_imeis, INT8ARRAYOID, INT8OID};

		bulk_plan_prepare(&plan, "WITH u AS ("
						  " SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
						  "  pg_catalog.unnest($3), pg_catalog.unnest($4),"
						  "  pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7))"
						  "  WITH ORDINALITY AS u(application_id, model, i1, i2, i3, i4, last_ord, ord)),"
						  " k AS ("
						  " SELECT u.*, ai.import_id OPERATOR(pg_catalog.=) $8 AS dup,"
						  "  ai.application_id IS NOT NULL AS known"
						  " FROM u LEFT JOIN LATERAL ("
						  "  SELECT ai.application_id, ai.import_id FROM imei_registry.application_imeis ai"
						  "  WHERE ai.imei OPERATOR(pg_catalog.=) ANY (ARRAY[u.i1, u.i2, u.i3, u.i4])"
						  "   AND (ai.application_id OPERATOR(pg_catalog.=) u.application_id"
						  "        OR ai.import_id OPERATOR(pg_catalog.=) $8)"
						  "  ORDER BY ai.import_id OPERATOR(pg_catalog.=) $8 DESC LIMIT 1) ai ON true),"
						  " n AS ("
						  " SELECT k.*,"
						  "  pg_catalog.row_number() OVER (PARTITION BY k.application_id ORDER BY k.ord)"
						  "  AS nth"
						  " FROM k WHERE NOT k.known),"
						  " dev AS ("
						  " INSERT INTO imei_registry.application_devices (application_id, device_ord, model)"
						  " SELECT n.application_id, (n.last_ord OPERATOR(pg_catalog.+) n.nth)::pg_catalog.int4,"
						  "  n.model FROM n),"
						  " imeis AS ("
						  " INSERT INTO imei_registry.application_imeis"
						  "  (application_id, device_ord, ord, imei_text, imei, import_id)"
						  " SELECT n.application_id, (n.last_ord OPERATOR(pg_catalog.+) n.nth)::pg_catalog.int4,"
						  "  i.ord::pg_catalog.int4, i.imei::pg_catalog.text, i.imei, $8"
						  " FROM n, ROWS FROM (pg_catalog.unnest(ARRAY[n.i1, n.i2, n.i3, n.i4]))"
						  "  WITH ORDINALITY AS i(imei, ord)"
						  " WHERE i.imei IS NOT NULL)"
						  " SELECT k.ord, COALESCE(k.dup, false), k.known FROM k",
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

/*
 * Send the waiting device rows to their applications, and settle each:
 * loaded (appended), already present (an IMEI of it is in the application
 * from an earlier import) or a duplicate (this import added it in an
 * earlier batch).
 */
static void
flush_devices(BulkLoad *load)
{
	int			n = load->nbatch;
	Datum	   *apps = palloc(n * sizeof(Datum));
	Datum	   *models = palloc(n * sizeof(Datum));
	bool	   *model_nulls = palloc(n * sizeof(bool));
	Datum	   *last_ords = palloc(n * sizeof(Datum));
	KnownApplication *extra = palloc(n * sizeof(KnownApplication));
	int			nextra = 0;
	Datum	   *imeis[DEVICE_IMEIS];
	bool	   *imei_nulls[DEVICE_IMEIS];
	Datum		v[8];
	SPITupleTable *result;
	int			i;
	int			c;

	for (c = 0; c < DEVICE_IMEIS; c++)
	{
		imeis[c] = palloc(n * sizeof(Datum));
		imei_nulls[c] = palloc(n * sizeof(bool));
	}
	for (i = 0; i < n; i++)
	{
		DeviceRow  *row = (DeviceRow *) bulk_batch_row(load, i);

		if (i == 0 || row->application_id != ((DeviceRow *) bulk_batch_row(load, i - 1))->application_id)
			row->app = batch_application(load, row->application_id, extra, &nextra);
		else
			row->app = ((DeviceRow *) bulk_batch_row(load, i - 1))->app;
		apps[i] = Int64GetDatum(row->application_id);
		last_ords[i] = Int64GetDatum(row->app->last_ord);
		models[i] = row->model;
		model_nulls[i] = (row->model == (Datum) 0);
		for (c = 0; c < DEVICE_IMEIS; c++)
		{
			imeis[c][i] = ImeiGetDatum(c < row->base.nkeys ? row->base.keys[c] : 0);
			imei_nulls[c][i] = (c >= row->base.nkeys);
		}
	}
	v[0] = bulk_array(INT8OID, apps, NULL, n);
	v[1] = bulk_array(TEXTOID, models, model_nulls, n);
	for (c = 0; c < DEVICE_IMEIS; c++)
		v[2 + c] = bulk_array(bulk_imei_type(), imeis[c], imei_nulls[c], n);
	v[6] = bulk_array(INT8OID, last_ords, NULL, n);
	v[7] = Int64GetDatum(load->import_id);
	bulk_exec(plan_devices(), v, NULL);
	result = bulk_batch_result(load, "device");
	for (i = 0; i < n; i++)
	{
		BulkRow    *row = bulk_result_row(load, result, i);

		if (bulk_result_bool(result, i, 2)) /* dup */
			bulk_settle_duplicate(load, row);
		else if (bulk_result_bool(result, i, 3))	/* known */
			bulk_settle(load, row, ROW_PRESENT);
		else
		{
			((DeviceRow *) row)->app->last_ord++;	/* nth of its application */
			bulk_settle(load, row, ROW_LOADED);
		}
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
