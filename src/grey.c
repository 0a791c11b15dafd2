/*
 * grey.c
 *		Grey-period deadlines, counted in calendar days of Kazakhstan's civil
 *		calendar (time zone Asia/Almaty) whatever the session's TimeZone.
 *
 * A device first connected on local date D is grey through local date
 * D + imei_registry.grey_period_days (its "last day") and due for black from
 * the first moment of the next local day: a row is due when
 * grey_last_day < local_date(now()), as the expiry and check_imei() test it.
 * Everything works on local dates, never on 24-hour steps from a timestamp,
 * so offset changes of the zone cannot shift a deadline.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "access/xact.h"
#include "grey.h"
#include "guc.h"

#define GREY_TIMEZONE	"Asia/Almaty"

PG_FUNCTION_INFO_V1(imei_local_date);
PG_FUNCTION_INFO_V1(imei_grey_last_day);
PG_FUNCTION_INFO_V1(imei_check_connected_at);
PG_FUNCTION_INFO_V1(imei_grey_last_day_for);

/*
 * The zone, looked up once per backend.  pg_tzset() keeps what it loads for
 * the life of the process, so the pointer stays valid.
 */
static pg_tz *
almaty_tz(void)
{
	static pg_tz *tz = NULL;

	if (tz == NULL)
	{
		tz = pg_tzset(GREY_TIMEZONE);
		if (tz == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("time zone \"%s\" not recognized", GREY_TIMEZONE),
					 errhint("Grey-period deadlines need the time zone database (tzdata) to know %s.",
							 GREY_TIMEZONE)));
	}
	return tz;
}

/* The local date in Almaty of a moment; infinities stay infinite. */
DateADT
almaty_local_date(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tzoff;
	DateADT		result;

	if (TIMESTAMP_IS_NOBEGIN(t))
		DATE_NOBEGIN(result);
	else if (TIMESTAMP_IS_NOEND(t))
		DATE_NOEND(result);
	else if (timestamp2tm(t, &tzoff, &tm, &fsec, NULL, almaty_tz()) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	else
		result = date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
	return result;
}

/*
 * The last day of a grey period that starts at a first connection.  No
 * overflow check: the last timestamp (294276 AD) plus the longest period
 * (3650 days) is far inside the range of date.
 */
DateADT
grey_period_last_day(TimestampTz connected_at, int days)
{
	DateADT		first = almaty_local_date(connected_at);

	if (DATE_NOT_FINITE(first))
		return first;
	return first + days;
}

static DateADT
grey_last_day(TimestampTz connected_at)
{
	return grey_period_last_day(connected_at, imei_grey_period_days);
}

/*
 * Today in Almaty: the local date of the transaction's start, now().  The
 * day is kept with the moments it starts and ends, so that a transaction
 * within it finds it without converting its start (check_imei() of a grey
 * IMEI asks in every call).
 */
DateADT
almaty_today(void)
{
	static TimestampTz day_from = 0;
	static TimestampTz day_until = 0;	/* day_from..day_until: cached_day */
	static DateADT cached_day = 0;
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	if (now < day_from || now >= day_until)
	{
		DateADT		day = almaty_local_date(now);

		day_from = almaty_day_start(day);
		day_until = almaty_day_start(day + 1);
		cached_day = day;
		if (now < day_from || now >= day_until)
			day_until = day_from;	/* not a day of the usual shape: no cache */
	}
	return cached_day;
}

/* Days left of a grey period whose last day is last, today in Almaty */
int
grey_days_left(DateADT last)
{
	return last - almaty_today();
}

/*
 * The first moment of a local date in Almaty.  The last answer is kept:
 * the same day is asked again and again (check_imei() of grey IMEIs past
 * the same last day), and the zone's rules do not change under a backend.
 */
TimestampTz
almaty_day_start(DateADT day)
{
	static bool cached = false;
	static DateADT cached_day;
	static TimestampTz cached_start;
	struct pg_tm tm;
	TimestampTz result;
	int			tz;

	if (cached && day == cached_day)
		return cached_start;

	j2date(day + POSTGRES_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	tz = DetermineTimeZoneOffset(&tm, almaty_tz());
	if (tm2timestamp(&tm, 0, &tz, &result) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date out of range")));
	cached_day = day;
	cached_start = result;
	cached = true;
	return result;
}

/*
 * Is a moment a plausible time of connection?  NULL if so, else why not:
 * more than CONNECTION_MAX_AHEAD ahead of the server's clock (clocks of
 * network elements drift a little; a device cannot connect in the future),
 * or before the first GSM call, 1991-07-01 (in Finland; UTC here).
 */
const char *
connection_time_problem(TimestampTz t)
{
	/* 1991-07-01 00:00 UTC, microseconds since 2000-01-01 */
	const TimestampTz first_gsm_call =
	-((TimestampTz) (date2j(2000, 1, 1) - date2j(1991, 7, 1)) * USECS_PER_DAY);

	if (TIMESTAMP_NOT_FINITE(t))
		return "it is not a finite time";
	if (t < first_gsm_call)
		return "it is before the first GSM call (1991-07-01)";
	if (t > GetCurrentTimestamp() + CONNECTION_MAX_AHEAD)
		return "it is more than 10 minutes ahead of the server's clock";
	return NULL;
}

/* local_date(timestamptz) -> date */
Datum
imei_local_date(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(almaty_local_date(PG_GETARG_TIMESTAMPTZ(0)));
}

/*
 * check_connected_at(connected_at timestamptz) -> void: 22023 unless the
 * time is plausible (connection_time_problem).
 */
Datum
imei_check_connected_at(PG_FUNCTION_ARGS)
{
	TimestampTz t = PG_GETARG_TIMESTAMPTZ(0);
	const char *problem = connection_time_problem(t);

	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("connected_at %s is not a plausible time of connection",
						timestamptz_to_str(t)),
				 errdetail("%c%s.", pg_toupper(problem[0]), problem + 1),
				 errhint("A connection is from 1991-07-01 on and at most 10 minutes ahead of the server's clock.")));
	PG_RETURN_VOID();
}

/* grey_last_day(connected_at timestamptz) -> date */
Datum
imei_grey_last_day(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(grey_last_day(PG_GETARG_TIMESTAMPTZ(0)));
}

/*
 * grey_last_day_for(days_left integer) -> date: the last day of the grey
 * periods that have this many days left today (grey_days_left's inverse),
 * so that a query finds them by the index on grey_last_day.
 */
Datum
imei_grey_last_day_for(PG_FUNCTION_ARGS)
{
	int32		days_left = PG_GETARG_INT32(0);

	if (days_left < 0 || days_left > 3650)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("days_left %d is out of range", days_left),
				 errdetail("A grey IMEI has from 0 days left (its last day) to the length of its grey period, at most 3650 days.")));
	PG_RETURN_DATEADT(almaty_today() + days_left);
}
