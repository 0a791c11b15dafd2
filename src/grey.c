/*
 * grey.c
 *		Grey-period deadlines, counted in calendar days of Kazakhstan's civil
 *		calendar (time zone Asia/Almaty) whatever the session's TimeZone.
 *
 * A device first connected on local date D is grey through local date
 * D + imei_registry.grey_period_days (its "last day") and due for black from
 * the first moment of the next local day.  Everything here works on local
 * dates, never on 24-hour steps from a timestamp, so daylight-saving or
 * offset changes of the zone cannot shift a deadline.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "guc.h"

#define GREY_TIMEZONE	"Asia/Almaty"

PG_FUNCTION_INFO_V1(imei_almaty_date);
PG_FUNCTION_INFO_V1(imei_grey_last_day);
PG_FUNCTION_INFO_V1(imei_grey_days_left);
PG_FUNCTION_INFO_V1(imei_grey_period_ended);

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
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("time zone \"%s\" is not available", GREY_TIMEZONE),
					 errhint("Grey-period deadlines need the time zone database (tzdata) to know %s.",
							 GREY_TIMEZONE)));
	}
	return tz;
}

/* The local date in Almaty of a moment; infinities stay infinite. */
static DateADT
almaty_date(TimestampTz t)
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

/* The last day of a grey period that starts at a first connection. */
static DateADT
grey_last_day(TimestampTz first_connection)
{
	DateADT		first = almaty_date(first_connection);
	DateADT		last;

	if (DATE_NOT_FINITE(first))
		return first;
	last = first + imei_grey_period_days;
	if (!IS_VALID_DATE(last))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date out of range"),
				 errdetail("The grey period of %d days starting on the local date of the first connection ends after the last valid date.",
						   imei_grey_period_days)));
	return last;
}

/*
 * Whole local days from the local date of "at" to the last day: the period
 * length on the day of first connection, 0 on the last day, negative once
 * the period has ended.  NULL for an infinite date: no count exists.
 */
static bool
grey_days_left(DateADT last_day, TimestampTz at, int32 *days)
{
	DateADT		today = almaty_date(at);

	if (DATE_NOT_FINITE(last_day) || DATE_NOT_FINITE(today))
		return false;
	*days = last_day - today;
	return true;
}

/* almaty_date(timestamptz) -> date */
Datum
imei_almaty_date(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(almaty_date(PG_GETARG_TIMESTAMPTZ(0)));
}

/* grey_last_day(first_connection timestamptz) -> date */
Datum
imei_grey_last_day(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(grey_last_day(PG_GETARG_TIMESTAMPTZ(0)));
}

/* grey_days_left(last_day date, at timestamptz) -> integer */
Datum
imei_grey_days_left(PG_FUNCTION_ARGS)
{
	int32		days;

	if (!grey_days_left(PG_GETARG_DATEADT(0), PG_GETARG_TIMESTAMPTZ(1), &days))
		PG_RETURN_NULL();
	PG_RETURN_INT32(days);
}

/*
 * grey_period_ended(last_day date, at timestamptz) -> boolean: true from the
 * first moment of the local day after the last day.
 */
Datum
imei_grey_period_ended(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(almaty_date(PG_GETARG_TIMESTAMPTZ(1)) > PG_GETARG_DATEADT(0));
}
