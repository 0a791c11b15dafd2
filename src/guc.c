/*
 * guc.c
 *		_PG_init: defines every configuration parameter of imei_registry.
 *
 * A library has one _PG_init, so every area's GUC is defined here and
 * declared in guc.h.  The parameters exist once the library is loaded: the
 * first call of any of its C functions loads it, and a value set in
 * postgresql.conf, ALTER SYSTEM, ALTER DATABASE or ALTER ROLE before that is
 * kept as a placeholder and applied at load.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "bulk.h"
#include "compat.h"
#include "guc.h"
#include "subscriber.h"

/*
 * The grey period lasts this many local calendar days after the date of
 * first connection.  PGC_SUSET: it is registry policy, so an ordinary user
 * cannot shorten or lengthen it in a session, while a superuser can set it
 * cluster-wide (postgresql.conf, ALTER SYSTEM), per database (ALTER DATABASE)
 * or, for tests, per session.  It is applied when a grey period starts (the
 * last day is stored in registry.grey_last_day), so changing it never moves
 * the deadline of a device that is already grey.
 */
int			imei_grey_period_days = 30;

/*
 * A grey IMEI past its last day stays grey while a submitted, undecided
 * application lists it, through the local date of submission plus this many
 * days, if it was submitted by the last day.  PGC_SUSET, like the period.
 */
int			imei_application_hold_days = 30;

/*
 * The rules apply to devices that entered the networks from this moment on;
 * a device connected before it is white (grandfathered).  The rules date
 * themselves "24-25 March 2025": a device in the networks during those two
 * days was there before the rules applied to it, so the default is the end
 * of 25 March in Almaty, 2025-03-26 00:00+05.  Set with an explicit offset.
 */
#define RULES_START_DEFAULT "2025-03-26 00:00:00+05"

static char *rules_start_string = NULL;
TimestampTz imei_rules_start = 0;

/*
 * Parse without throwing (a check hook must not): the steps of
 * timestamptz_in.  No special values (infinity, now, epoch, ...).
 */
static bool
check_rules_start(char **newval, void **extra, GucSource source)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz = 0;
	TimestampTz t;
#if PG_VERSION_NUM >= 160000
	DateTimeErrorExtra dterr;
#endif

	if (*newval == NULL || strlen(*newval) > MAXDATELEN ||
		ParseDateTime(*newval, workbuf, sizeof(workbuf), field, ftype,
					  MAXDATEFIELDS, &nf) != 0 ||
#if PG_VERSION_NUM >= 160000
		DecodeDateTime(field, ftype, nf, &dtype, &tm, &fsec, &tz, &dterr) != 0 ||
#else
		DecodeDateTime(field, ftype, nf, &dtype, &tm, &fsec, &tz) != 0 ||
#endif
		dtype != DTK_DATE || tm2timestamp(&tm, fsec, &tz, &t) != 0)
	{
		GUC_check_errdetail("imei_registry.rules_start must be a timestamp with an offset, such as \"%s\".",
							RULES_START_DEFAULT);
		return false;
	}
	*extra = guc_extra_malloc(sizeof(TimestampTz));
	if (*extra == NULL)
		return false;
	*((TimestampTz *) *extra) = t;
	return true;
}

static void
assign_rules_start(const char *newval, void *extra)
{
	imei_rules_start = *((TimestampTz *) extra);
}

/*
 * submit_application(jsonb), unsigned, works only where this is off.
 * PGC_SUSET: a portal cannot turn it off for itself; a superuser turns it
 * off for a test database (ALTER DATABASE ... SET).
 */
bool		imei_require_signature = true;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("imei_registry.grey_period_days",
							"Length of the grey period in calendar days (Asia/Almaty).",
							"A device first connected on local date D is grey until the end of D plus this many days.",
							&imei_grey_period_days,
							30,
							1, 3650,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("imei_registry.application_hold_days",
							"Days after its submission that a pending application holds a grey IMEI past its last day.",
							"Counted in local dates (Asia/Almaty): held through the date of submission plus this many days.",
							&imei_application_hold_days,
							30,
							0, 3650,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("imei_registry.rules_start",
							   "The moment from which the registration rules apply to a device.",
							   "A device whose earliest connection is before it is white (grandfathered).",
							   &rules_start_string,
							   RULES_START_DEFAULT,
							   PGC_SUSET,
							   0,
							   check_rules_start, assign_rules_start, NULL);

	DefineCustomBoolVariable("imei_registry.require_signature",
							 "Refuse applications that are not signed.",
							 "When on, only submit_application(document text, signature bytea) stores an application.",
							 &imei_require_signature,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	bulk_init();				/* imei_registry.import_atomic */
	subscriber_init();			/* imei_registry.home_mccs */

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("imei_registry");
#else
	EmitWarningsOnPlaceholders("imei_registry");
#endif
}
