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

#include "guc.h"

#define GREY_TIMEZONE	"Asia/Almaty"

PG_FUNCTION_INFO_V1(imei_local_date);
PG_FUNCTION_INFO_V1(imei_grey_last_day);

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
static DateADT
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
static DateADT
grey_last_day(TimestampTz connected_at)
{
	DateADT		first = almaty_local_date(connected_at);

	if (DATE_NOT_FINITE(first))
		return first;
	return first + imei_grey_period_days;
}

/* local_date(timestamptz) -> date */
Datum
imei_local_date(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(almaty_local_date(PG_GETARG_TIMESTAMPTZ(0)));
}

/* grey_last_day(connected_at timestamptz) -> date */
Datum
imei_grey_last_day(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(grey_last_day(PG_GETARG_TIMESTAMPTZ(0)));
}
