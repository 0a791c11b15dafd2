/*
 * bulk_check.c
 *		The checks of one value of an uploaded row, for bulk.c: each either
 *		yields the value or marks the row rejected with a reason code (an
 *		imei_registry.import_reject_reasons code) and a message.  Nothing
 *		here raises an error or reads a table, so a bad row costs no
 *		subtransaction (but for a time outside the operators' usual
 *		spelling before PostgreSQL 16: see decode_datetime).
 */
#include "compat.h"

#include "imei.h"
#include "imei_parse.h"
#include "bulk_check.h"
#include "subxact.h"

#include "access/htup_details.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

void
bulk_reject(RowResult *r, const char *reason, const char *fmt,...)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	r->outcome = ROW_REJECTED;
	r->reason = reason;
	r->message = buf.data;
}

/*
 * The row that the engine is checking, taken apart once for all its
 * columns (bulk_row_begin) instead of once per column by heap_getattr(),
 * which walks the row from its start to reach a column after a text one.
 */
static struct
{
	HeapTuple	tuple;			/* NULL: none */
	int			natts;
	Datum		values[BULK_MAX_COLUMNS];
	bool		nulls[BULK_MAX_COLUMNS];
} current_row;

void
bulk_row_begin(HeapTuple tuple, TupleDesc desc)
{
	current_row.tuple = NULL;
	if (desc->natts > BULK_MAX_COLUMNS)
		return;
	heap_deform_tuple(tuple, desc, current_row.values, current_row.nulls);
	current_row.natts = desc->natts;
	current_row.tuple = tuple;
}

void
bulk_row_end(void)
{
	current_row.tuple = NULL;
}

Datum
bulk_row_value(HeapTuple tuple, TupleDesc desc, int attnum, bool *isnull)
{
	if (tuple == current_row.tuple && attnum >= 1 && attnum <= current_row.natts)
	{
		*isnull = current_row.nulls[attnum - 1];
		return current_row.values[attnum - 1];
	}
	return heap_getattr(tuple, attnum, desc, isnull);
}

/* NULL for a NULL or blank value, else the value without surrounding blanks */
char *
bulk_column(HeapTuple tuple, TupleDesc desc, int attnum)
{
	bool		isnull;
	Datum		d = bulk_row_value(tuple, desc, attnum, &isnull);
	text	   *t;
	const char *p;
	int			len;
	char	   *s;

	if (isnull)
		return NULL;
	t = DatumGetTextPP(d);
	p = VARDATA_ANY(t);
	len = VARSIZE_ANY_EXHDR(t);
	while (len > 0 && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
		len--;
	if (len == 0)
		return NULL;
	s = palloc(len + 1);
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

bool
bulk_require(RowResult *r, const char *value, const char *column)
{
	if (value != NULL)
		return true;
	bulk_reject(r, "missing_value", "%s is empty", column);
	return false;
}

/*
 * An IMEI as the column takes it: strict 15 digits (device lists, block
 * list), or the forms networks report (14-digit body, 15 digits with a check
 * digit or a spare 0, 16-digit IMEISV).
 */
bool
bulk_parse_imei(RowResult *r, const char *s, bool network, Imei *result)
{
	ImeiParse	p;
	size_t		len = strlen(s);
	uint64		body;

	if (imei_scan(s, len, &p) != IMEI_PARSE_OK)
	{
		bulk_reject(r, "non_digits", "IMEI \"%s\" has a character other than a digit at position %d",
					s, (int) p.offset + 1);
		return false;
	}
	if (network && p.ndigits == IMEI_BODY_DIGITS)
	{
		if (imei_parse(s, len, IMEI_BODY_DIGITS, &p) != IMEI_PARSE_OK)
			goto bad_grouping;
		body = p.digits;
	}
	else if (p.ndigits == IMEI_DIGITS)
	{
		imei_parse(s, len, IMEI_DIGITS, &p);
		if (p.status == IMEI_PARSE_BAD_CHECK_DIGIT && network && p.check_found == 0)
			p.status = IMEI_PARSE_OK;	/* a spare digit */
		if (p.status == IMEI_PARSE_BAD_GROUPING)
			goto bad_grouping;
		if (p.status == IMEI_PARSE_BAD_CHECK_DIGIT)
		{
			bulk_reject(r, "bad_check_digit", "IMEI \"%s\" has check digit %d, should be %d",
						s, p.check_found, p.check_expected);
			return false;
		}
		body = p.digits / 10;
	}
	else if (network && p.ndigits == IMEISV_DIGITS)
	{
		if (imei_parse(s, len, IMEISV_DIGITS, &p) != IMEI_PARSE_OK)
			goto bad_grouping;
		body = p.digits / 100;
	}
	else if (!network && p.ndigits == IMEI_BODY_DIGITS &&
			 imei_is_valid_value(p.digits))
	{
		bulk_reject(r, "leading_zero_lost",
					"IMEI \"%s\" has 14 digits and is a valid IMEI with a 0 in front: its leading zero was lost (store IMEIs as text, not numbers, in spreadsheets)",
					s);
		return false;
	}
	else
	{
		if (network)
			bulk_reject(r, "wrong_length", "IMEI \"%s\" has %d digits; a network reports 14, 15 or 16",
						s, p.ndigits);
		else
			bulk_reject(r, "wrong_length", "IMEI \"%s\" has %d digits; an IMEI has 15",
						s, p.ndigits);
		return false;
	}
	*result = (Imei) (body * 10 + (uint64) imei_luhn_digit(body));
	return true;

bad_grouping:
	bulk_reject(r, "non_digits", "IMEI \"%s\" has hyphens in a layout that is not accepted", s);
	return false;
}

/*
 * Date and time input without throwing: the parsing steps of timestamptz_in
 * and date_in, which report errors by return code.  Special values (now,
 * today, infinity, epoch, ...) are not dates a file may carry.
 */
#if PG_VERSION_NUM < 160000
typedef struct DecodeRun
{
	char	  **field;
	int		   *ftype;
	int			nf;
	int		   *dtype;
	struct pg_tm *tm;
	fsec_t	   *fsec;
	int		   *tz;
	int			result;
} DecodeRun;

static void
decode_step(void *arg)
{
	DecodeRun  *run = arg;

	run->result = DecodeDateTime(run->field, run->ftype, run->nf, run->dtype,
								 run->tm, run->fsec, run->tz);
}
#endif

static bool
decode_datetime(const char *s, struct pg_tm *tm, fsec_t *fsec, int *tz)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	int			i;
#if PG_VERSION_NUM >= 160000
	DateTimeErrorExtra extra;
#endif

	if (strlen(s) > MAXDATELEN)
		return false;
	if (ParseDateTime(s, workbuf, sizeof(workbuf), field, ftype,
					  MAXDATEFIELDS, &nf) != 0)
		return false;
	/* words that mean the moment of loading, not a date of the file */
	for (i = 0; i < nf; i++)
		if (pg_strcasecmp(field[i], "now") == 0 ||
			pg_strcasecmp(field[i], "today") == 0 ||
			pg_strcasecmp(field[i], "tomorrow") == 0 ||
			pg_strcasecmp(field[i], "yesterday") == 0)
			return false;
#if PG_VERSION_NUM >= 160000
	if (DecodeDateTime(field, ftype, nf, &dtype, tm, fsec, tz, &extra) != 0)
		return false;
#else
	{
		DecodeRun	run = {field, ftype, nf, &dtype, tm, fsec, tz, 0};

		/*
		 * Before 16, DecodeDateTime() raises an error for a zone name it does
		 * not know (22023) instead of returning one: caught, so that such a
		 * line is a rejected row and not the end of the load.
		 */
		if (!subxact_run(decode_step, &run, ERRCODE_INVALID_PARAMETER_VALUE,
						 NULL, NULL) || run.result != 0)
			return false;
	}
#endif
	return dtype == DTK_DATE;
}

/* n decimal digits at s, or -1 */
static int
digits(const char *s, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * The spelling operators' files use, read without the general parser:
 * YYYY-MM-DD, a space or T, HH:MM[:SS[.ffffff]], and an explicit offset (Z,
 * +HH, +HHMM or +HH:MM).  Decoding a line's timestamp with ParseDateTime()
 * and DecodeDateTime() was a tenth of a daily load's instructions.  Any
 * other text, and any value this would not take exactly as timestamptz_in
 * takes it (a leap second, 24:00, a zone name, no offset: the session's
 * TimeZone), returns false and goes to the general path, which is the one
 * that decides.
 */
static bool
parse_iso_with_offset(const char *s, struct pg_tm *tm, fsec_t *fsec, int *tz)
{
	const char *p = s;
	int			sign;
	int			oh,
				om = 0;

	memset(tm, 0, sizeof(*tm));
	*fsec = 0;
	if ((tm->tm_year = digits(p, 4)) < 1 || p[4] != '-' ||
		(tm->tm_mon = digits(p + 5, 2)) < 1 || tm->tm_mon > MONTHS_PER_YEAR ||
		p[7] != '-' || (tm->tm_mday = digits(p + 8, 2)) < 1 ||
		tm->tm_mday > day_tab[isleap(tm->tm_year)][tm->tm_mon - 1] ||
		(p[10] != ' ' && p[10] != 'T') ||
		(tm->tm_hour = digits(p + 11, 2)) < 0 || tm->tm_hour > 23 ||
		p[13] != ':' || (tm->tm_min = digits(p + 14, 2)) < 0 || tm->tm_min > 59)
		return false;
	p += 16;
	if (*p == ':')
	{
		if ((tm->tm_sec = digits(p + 1, 2)) < 0 || tm->tm_sec > 59)
			return false;
		p += 3;
		if (*p == '.')
		{
			int			scale = 100000;

			if (p[1] < '0' || p[1] > '9')
				return false;
			for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			{
				if (scale == 0)
					return false;	/* more than microseconds: rounding */
				*fsec += (*p - '0') * scale;
			}
		}
	}
	if (*p == 'Z' && p[1] == '\0')
	{
		*tz = 0;
		return true;
	}
	if (*p != '+' && *p != '-')
		return false;
	sign = (*p == '+') ? -1 : 1;	/* tz counts seconds west of Greenwich */
	if ((oh = digits(p + 1, 2)) < 0 || oh > MAX_TZDISP_HOUR)
		return false;
	p += 3;
	if (*p == ':')
		p++;
	if (*p != '\0' && ((om = digits(p, 2)) < 0 || om > 59 || p[2] != '\0'))
		return false;
	*tz = sign * (oh * SECS_PER_HOUR + om * SECS_PER_MINUTE);
	return true;
}

bool
bulk_parse_timestamptz(RowResult *r, const char *s, const char *column,
					   TimestampTz *result)
{
	struct pg_tm tt;
	fsec_t		fsec;
	int			tz = 0;

	if (parse_iso_with_offset(s, &tt, &fsec, &tz) &&
		tm2timestamp(&tt, fsec, &tz, result) == 0)
		return true;
	if (decode_datetime(s, &tt, &fsec, &tz) &&
		tm2timestamp(&tt, fsec, &tz, result) == 0)
		return true;
	bulk_reject(r, "bad_date", "%s \"%s\" is not a timestamp", column, s);
	return false;
}

/*
 * A date spelled YYYY-MM-DD, as the block lists write it, read without the
 * general parser: before PostgreSQL 16 that runs in a subtransaction
 * (decode_datetime), and on Citus each subtransaction is a SAVEPOINT and
 * its RELEASE sent to every node the load has a connection to, which cost
 * a block list more than its writes.  Any other text returns false and
 * goes to the general path, which decides.
 */
static bool
parse_iso_date(const char *s, struct pg_tm *tm)
{
	memset(tm, 0, sizeof(*tm));
	return (tm->tm_year = digits(s, 4)) >= 1 && s[4] == '-' &&
		(tm->tm_mon = digits(s + 5, 2)) >= 1 && tm->tm_mon <= MONTHS_PER_YEAR &&
		s[7] == '-' && (tm->tm_mday = digits(s + 8, 2)) >= 1 &&
		tm->tm_mday <= day_tab[isleap(tm->tm_year)][tm->tm_mon - 1] &&
		s[10] == '\0';
}

/* A date, returned as its ISO text */
bool
bulk_parse_date(RowResult *r, const char *s, const char *column, char **result)
{
	struct pg_tm tt;
	fsec_t		fsec;
	int			tz = 0;

	if ((parse_iso_date(s, &tt) || decode_datetime(s, &tt, &fsec, &tz)) &&
		IS_VALID_JULIAN(tt.tm_year, tt.tm_mon, tt.tm_mday) && tt.tm_year > 0)
	{
		*result = psprintf("%04d-%02d-%02d", tt.tm_year, tt.tm_mon, tt.tm_mday);
		return true;
	}
	bulk_reject(r, "bad_date", "%s \"%s\" is not a date", column, s);
	return false;
}
