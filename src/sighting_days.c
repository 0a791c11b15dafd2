/*
 * sighting_days.c
 *		Reading a sightings row's days: its month (the first local day of a
 *		month, Asia/Almaty) and the bitmask of the days seen, bit d - 1 for
 *		day d (sql/1.0/130_sightings.sql).  The one reader of that layout:
 *		the dates of a row (sighting_days), and for the set-wise readers
 *		(reminders, clones, black devices in use), which call them once per
 *		row, its first and last day and its days within a range, in a few
 *		instructions and no array.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "port/pg_bitutils.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"

PG_FUNCTION_INFO_V1(sighting_days);
PG_FUNCTION_INFO_V1(sighting_first_day);
PG_FUNCTION_INFO_V1(sighting_last_day);
PG_FUNCTION_INFO_V1(sighting_days_within);

/* The row's days as an unsigned mask of 31 bits */
static uint32
days_mask(int32 days)
{
	return (uint32) days & 0x7FFFFFFFu;
}

/*
 * Day d (0-based) of the row's month.  The table's months are firsts of a
 * month, but the functions take any date: past the end of the date range
 * the answer is an error, as for date + integer, not an invalid date.
 */
static DateADT
day_of(DateADT month, int d)
{
	DateADT		day = month + d;

	if (!IS_VALID_DATE(day))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date out of range: day %d of the month starting %s",
						d + 1,
						DatumGetCString(DirectFunctionCall1(date_out,
															DateADTGetDatum(month))))));
	return day;
}

/* sighting_days(month date, days integer) -> date[]: the days seen, in order */
Datum
sighting_days(PG_FUNCTION_ARGS)
{
	DateADT		month = PG_GETARG_DATEADT(0);
	uint32		mask = days_mask(PG_GETARG_INT32(1));
	Datum		elems[31];
	int			n = 0;

	if (!DATE_NOT_FINITE(month))
		for (int d = 0; d < 31; d++)
			if (mask & ((uint32) 1 << d))
				elems[n++] = DateADTGetDatum(day_of(month, d));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, DATEOID, sizeof(DateADT),
										  true, TYPALIGN_INT));
}

/* sighting_first_day(month date, days integer) -> date: NULL if no day */
Datum
sighting_first_day(PG_FUNCTION_ARGS)
{
	DateADT		month = PG_GETARG_DATEADT(0);
	uint32		mask = days_mask(PG_GETARG_INT32(1));

	if (mask == 0 || DATE_NOT_FINITE(month))
		PG_RETURN_NULL();
	PG_RETURN_DATEADT(day_of(month, pg_rightmost_one_pos32(mask)));
}

/* sighting_last_day(month date, days integer) -> date: NULL if no day */
Datum
sighting_last_day(PG_FUNCTION_ARGS)
{
	DateADT		month = PG_GETARG_DATEADT(0);
	uint32		mask = days_mask(PG_GETARG_INT32(1));

	if (mask == 0 || DATE_NOT_FINITE(month))
		PG_RETURN_NULL();
	PG_RETURN_DATEADT(day_of(month, pg_leftmost_one_pos32(mask)));
}

/*
 * sighting_days_within(month date, days integer, first date, last date)
 * -> integer: the row's days from first to last (inclusive), 0 if none.
 * Either bound may be infinite.
 */
Datum
sighting_days_within(PG_FUNCTION_ARGS)
{
	DateADT		month = PG_GETARG_DATEADT(0);
	uint32		mask = days_mask(PG_GETARG_INT32(1));
	DateADT		first = PG_GETARG_DATEADT(2);
	DateADT		last = PG_GETARG_DATEADT(3);
	int64		lo;
	int64		hi;

	if (DATE_NOT_FINITE(month))
		PG_RETURN_INT32(0);
	/* bit positions of first and last, clamped to the month's 31 bits */
	lo = DATE_IS_NOBEGIN(first) ? 0 : (int64) first - month;
	hi = DATE_IS_NOEND(last) ? 30 : (int64) last - month;
	if (lo < 0)
		lo = 0;
	if (hi > 30)
		hi = 30;
	if (lo > hi)
		PG_RETURN_INT32(0);
	mask &= (0xFFFFFFFFu >> (31 - hi)) & (0xFFFFFFFFu << lo);
	PG_RETURN_INT32((int32) mask);
}
