/*
 * bulk_check.c
 *		The checks of one value of an uploaded row, for bulk.c: each either
 *		yields the value or marks the row rejected with a reason code (an
 *		imei_registry.import_reject_reasons code) and a message.  Nothing
 *		here raises an error or reads a table, so a bad row costs no
 *		subtransaction.
 */
#include "compat.h"

#include "imei.h"
#include "imei_parse.h"
#include "bulk_check.h"

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

/* NULL for a NULL or blank value, else the value without surrounding blanks */
char *
bulk_column(HeapTuple tuple, TupleDesc desc, int attnum)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, attnum, desc, &isnull);
	char	   *s;
	char	   *end;

	if (isnull)
		return NULL;
	s = TextDatumGetCString(d);
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return *s ? s : NULL;
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
	if (DecodeDateTime(field, ftype, nf, &dtype, tm, fsec, tz) != 0)
		return false;
#endif
	return dtype == DTK_DATE;
}

bool
bulk_parse_timestamptz(RowResult *r, const char *s, const char *column,
					   TimestampTz *result)
{
	struct pg_tm tt;
	fsec_t		fsec;
	int			tz = 0;

	if (decode_datetime(s, &tt, &fsec, &tz) &&
		tm2timestamp(&tt, fsec, &tz, result) == 0)
		return true;
	bulk_reject(r, "bad_date", "%s \"%s\" is not a timestamp", column, s);
	return false;
}

/* A date, returned as its ISO text */
bool
bulk_parse_date(RowResult *r, const char *s, const char *column, char **result)
{
	struct pg_tm tt;
	fsec_t		fsec;
	int			tz = 0;

	if (decode_datetime(s, &tt, &fsec, &tz) &&
		IS_VALID_JULIAN(tt.tm_year, tt.tm_mon, tt.tm_mday) && tt.tm_year > 0)
	{
		*result = psprintf("%04d-%02d-%02d", tt.tm_year, tt.tm_mon, tt.tm_mday);
		return true;
	}
	bulk_reject(r, "bad_date", "%s \"%s\" is not a date", column, s);
	return false;
}
