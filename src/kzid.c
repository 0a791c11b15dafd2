/*
 * kzid.c
 *		fmgr interface of the iin and bin types (Kazakhstan individual and
 *		business identification numbers): text and binary I/O, validated
 *		casts, validators and accessors.
 *
 * Both are an int64 holding the 12 digits, laid out like int8, so the
 * operators and opclasses are PostgreSQL's int8 functions (see the SQL).
 * The digits and the check digit are handled by kzid_parse.c.
 */
#include "compat.h"

#include "kzid_parse.h"

#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"

static const char *
kind_name(KzidKind kind)
{
	return kind == KZID_IIN ? "iin" : "bin";
}

/* "An IIN" / "A BIN", to start a sentence */
static const char *
kind_label(KzidKind kind)
{
	return kind == KZID_IIN ? "An IIN" : "A BIN";
}

/*
 * Report a failed parse of str (soft where escontext allows).  Structure
 * errors are reported before the check digit: a number whose structure is
 * wrong is not the other kind's number with a typo.
 */
static void
report_kzid_error(KzidKind kind, const char *str, const KzidParse *p,
				  Node *escontext)
{
	const char *name = kind_name(kind);
	const char *label = kind_label(kind);

	switch (p->status)
	{
		case KZID_BAD_CHAR:
			errsave(escontext,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type %s: \"%s\"", name, str),
					errdetail("Character \"%.*s\" at position %d is not a digit.",
							  pg_mblen(str + p->offset), str + p->offset,
							  pg_mbstrlen_with_len(str, (int) p->offset) + 1),
					errhint("%s is written as 12 digits in one run, without spaces or separators.",
							label));
			break;
		case KZID_BAD_LENGTH:
			errsave(escontext,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type %s: \"%s\"", name, str),
					errdetail("%s has 12 digits; found %d.", label, p->ndigits));
			break;
		case KZID_BAD_MONTH:
			errsave(escontext,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type %s: \"%s\"", name, str),
					errdetail("The month in digits 3-4 is %02d; it must be 01 to 12.",
							  p->component));
			break;
		case KZID_BAD_DAY:
			errsave(escontext,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type %s: \"%s\"", name, str),
					errdetail("The day in digits 5-6 is %02d; it must be 01 to 31.",
							  p->component),
					p->component >= 40 && p->component < 70 ?
					errhint("Digit 5 is %d: this looks like a BIN.",
							p->component / 10) : 0);
			break;
		case KZID_BAD_CENTURY:
			errsave(escontext,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type %s: \"%s\"", name, str),
					errdetail("Digit 7 (century and sex) is %d; it must be 1 to 6.",
							  p->component));
			break;
		case KZID_BAD_ENTITY_TYPE:
			errsave(escontext,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type %s: \"%s\"", name, str),
					errdetail("Digit 5 (entity type) is %d; it must be 4, 5 or 6.",
							  p->component),
					p->component <= 3 ?
					errhint("Digit 5 is %d: this looks like an IIN.",
							p->component) : 0);
			break;
		case KZID_BAD_ATTRIBUTE:
			errsave(escontext,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type %s: \"%s\"", name, str),
					errdetail("Digit 6 (attribute) is %d; it must be 0 to 3.",
							  p->component));
			break;
		case KZID_NO_CHECK:
			errsave(escontext,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid check digit for type %s: \"%s\"", name, str),
					errdetail("Both weighted sums of the first 11 digits give 10, so no check digit exists and no such number is issued."));
			break;
		case KZID_BAD_CHECK_DIGIT:
			errsave(escontext,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid check digit for type %s: \"%s\", should be %d",
						   name, str, p->check_expected),
					errdetail("The check digit of the first 11 digits is %d, not %d.",
							  p->check_expected, p->check_found));
			break;
		case KZID_OK:
			break;
	}
}

static bool
parse_kzid(KzidKind kind, const char *str, int64 *result, Node *escontext)
{
	KzidParse	p;

	if (kzid_parse(str, strlen(str), kind, &p) != KZID_OK)
	{
		report_kzid_error(kind, str, &p, escontext);
		return false;
	}
	*result = (int64) p.value;
	return true;
}

/* A value arriving as a number (binary I/O, bigint cast) is checked too. */
static int64
check_kzid_value(KzidKind kind, int64 value)
{
	char		buf[KZID_DIGITS + 1];

	if (value < 0 || (uint64) value >= KZID_MODULUS)
		ereport(ERROR,
				errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				errmsg("value %lld is out of range for type %s",
					   (long long) value, kind_name(kind)),
				errdetail("%s has 12 digits.", kind_label(kind)));
	kzid_format((uint64) value, buf);
	(void) parse_kzid(kind, buf, &value, NULL);
	return value;
}

static Datum
kzid_out_datum(int64 value)
{
	char	   *buf = palloc(KZID_DIGITS + 1);

	kzid_format((uint64) value, buf);
	return CStringGetDatum(buf);
}

static bytea *
kzid_send_value(int64 value)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, value);
	return pq_endtypsend(&buf);
}

static bool
kzid_text_is_valid(KzidKind kind, text *t)
{
	KzidParse	p;

	return kzid_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), kind, &p) == KZID_OK;
}

/* digit at position pos (1-based) of a stored number */
static int
kzid_digit(int64 value, int pos)
{
	char		buf[KZID_DIGITS + 1];

	kzid_format((uint64) value, buf);
	return buf[pos - 1] - '0';
}

static int
kzid_two_digits(int64 value, int pos)
{
	return kzid_digit(value, pos) * 10 + kzid_digit(value, pos + 1);
}

/* ---- iin ---- */

PG_FUNCTION_INFO_V1(iin_in);
Datum
iin_in(PG_FUNCTION_ARGS)
{
	int64		result = 0;

	if (!parse_kzid(KZID_IIN, PG_GETARG_CSTRING(0), &result, fcinfo->context))
		return (Datum) 0;		/* soft error reported */
	PG_RETURN_INT64(result);
}

PG_FUNCTION_INFO_V1(iin_out);
Datum
iin_out(PG_FUNCTION_ARGS)
{
	return kzid_out_datum(PG_GETARG_INT64(0));
}

PG_FUNCTION_INFO_V1(iin_recv);
Datum
iin_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	PG_RETURN_INT64(check_kzid_value(KZID_IIN, pq_getmsgint64(buf)));
}

PG_FUNCTION_INFO_V1(iin_send);
Datum
iin_send(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(kzid_send_value(PG_GETARG_INT64(0)));
}

PG_FUNCTION_INFO_V1(iin_from_int8);
Datum
iin_from_int8(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(check_kzid_value(KZID_IIN, PG_GETARG_INT64(0)));
}

PG_FUNCTION_INFO_V1(iin_is_valid_text);
Datum
iin_is_valid_text(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(kzid_text_is_valid(KZID_IIN, PG_GETARG_TEXT_PP(0)));
}

/* Digit 7: 1-2 the 1800s, 3-4 the 1900s, 5-6 the 2000s. */
PG_FUNCTION_INFO_V1(iin_century);
Datum
iin_century(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(1800 + 100 * ((kzid_digit(PG_GETARG_INT64(0), 7) - 1) / 2));
}

/* Digit 7: odd male, even female. */
PG_FUNCTION_INFO_V1(iin_sex);
Datum
iin_sex(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(kzid_digit(PG_GETARG_INT64(0), 7) % 2 ?
									 "male" : "female"));
}

/*
 * The date the digits spell, or NULL when they spell no calendar date
 * (e.g. 31 February).  Plausibility only: it need not be the birth date.
 */
PG_FUNCTION_INFO_V1(iin_birth_date);
Datum
iin_birth_date(PG_FUNCTION_ARGS)
{
	int64		value = PG_GETARG_INT64(0);
	int			year = 1800 + 100 * ((kzid_digit(value, 7) - 1) / 2) +
		kzid_two_digits(value, 1);
	int			month = kzid_two_digits(value, 3);
	int			day = kzid_two_digits(value, 5);

	if (day > day_tab[isleap(year)][month - 1])
		PG_RETURN_NULL();
	PG_RETURN_DATEADT(date2j(year, month, day) - POSTGRES_EPOCH_JDATE);
}

/* ---- bin ---- */

PG_FUNCTION_INFO_V1(bin_in);
Datum
bin_in(PG_FUNCTION_ARGS)
{
	int64		result = 0;

	if (!parse_kzid(KZID_BIN, PG_GETARG_CSTRING(0), &result, fcinfo->context))
		return (Datum) 0;		/* soft error reported */
	PG_RETURN_INT64(result);
}

PG_FUNCTION_INFO_V1(bin_out);
Datum
bin_out(PG_FUNCTION_ARGS)
{
	return kzid_out_datum(PG_GETARG_INT64(0));
}

PG_FUNCTION_INFO_V1(bin_recv);
Datum
bin_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	PG_RETURN_INT64(check_kzid_value(KZID_BIN, pq_getmsgint64(buf)));
}

PG_FUNCTION_INFO_V1(bin_send);
Datum
bin_send(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(kzid_send_value(PG_GETARG_INT64(0)));
}

PG_FUNCTION_INFO_V1(bin_from_int8);
Datum
bin_from_int8(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(check_kzid_value(KZID_BIN, PG_GETARG_INT64(0)));
}

PG_FUNCTION_INFO_V1(bin_is_valid_text);
Datum
bin_is_valid_text(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(kzid_text_is_valid(KZID_BIN, PG_GETARG_TEXT_PP(0)));
}

/* Digits 1-4: year and month of (re-)registration, as 'YYMM'. */
PG_FUNCTION_INFO_V1(bin_registration_yymm);
Datum
bin_registration_yymm(PG_FUNCTION_ARGS)
{
	char		buf[KZID_DIGITS + 1];

	kzid_format((uint64) PG_GETARG_INT64(0), buf);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf, 4));
}

PG_FUNCTION_INFO_V1(bin_entity_type);
Datum
bin_entity_type(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {
		"resident_legal_entity",	/* 4 */
		"non_resident_legal_entity",	/* 5 */
		"joint_entrepreneurship"	/* 6 */
	};

	PG_RETURN_TEXT_P(cstring_to_text(names[kzid_digit(PG_GETARG_INT64(0), 5) - 4]));
}

PG_FUNCTION_INFO_V1(bin_attribute);
Datum
bin_attribute(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {
		"head_unit",			/* 0 */
		"branch",				/* 1 */
		"representative_office",	/* 2 */
		"peasant_farm"			/* 3 */
	};

	PG_RETURN_TEXT_P(cstring_to_text(names[kzid_digit(PG_GETARG_INT64(0), 6)]));
}
