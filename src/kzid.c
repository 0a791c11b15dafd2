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

/* What a kind of number is called: its SQL type and, in prose, its label. */
typedef struct KzidForm
{
	KzidKind	kind;
	const char *name;			/* the SQL type it becomes */
	const char *label;			/* "An IIN" / "A BIN", to start a sentence */
} KzidForm;

static const KzidForm iin_form = {KZID_IIN, "iin", "An IIN"};
static const KzidForm bin_form = {KZID_BIN, "bin", "A BIN"};

/*
 * Report a failed parse of str (soft where escontext allows).  Structure
 * errors are reported before the check digit: a number whose structure is
 * wrong is not the other kind's number with a typo.
 */
static void
report_kzid_error(const KzidForm *form, const char *str, const KzidParse *p,
				  Node *escontext)
{
	const char *name = form->name;
	const char *label = form->label;

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
parse_kzid(const KzidForm *form, const char *str, int64 *result,
		   Node *escontext)
{
	KzidParse	p;

	if (kzid_parse(str, strlen(str), form->kind, &p) != KZID_OK)
	{
		report_kzid_error(form, str, &p, escontext);
		return false;
	}
	*result = (int64) p.value;
	return true;
}

/* A value arriving as a number (binary I/O, bigint cast) is checked too. */
static int64
check_kzid_value(const KzidForm *form, int64 value)
{
	char		buf[KZID_DIGITS + 1];

	if (value < 0 || (uint64) value >= KZID_MODULUS)
		ereport(ERROR,
				errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				errmsg("value %lld is out of range for type %s",
					   (long long) value, form->name),
				errdetail("%s has 12 digits.", form->label));
	kzid_format((uint64) value, buf);
	(void) parse_kzid(form, buf, &value, NULL);
	return value;
}

/*
 * The I/O functions, the bigint cast and the text validator, one each for
 * both kinds: the fmgr entry points below only add the form (which out and
 * send do not need).
 */
static Datum
kzid_in(const KzidForm *form, FunctionCallInfo fcinfo)
{
	int64		result = 0;

	if (!parse_kzid(form, PG_GETARG_CSTRING(0), &result, fcinfo->context))
		return (Datum) 0;		/* soft error reported */
	PG_RETURN_INT64(result);
}

static Datum
kzid_out(const KzidForm *form, FunctionCallInfo fcinfo)
{
	char	   *buf = palloc(KZID_DIGITS + 1);

	kzid_format((uint64) PG_GETARG_INT64(0), buf);
	PG_RETURN_CSTRING(buf);
}

static Datum
kzid_recv(const KzidForm *form, FunctionCallInfo fcinfo)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	PG_RETURN_INT64(check_kzid_value(form, pq_getmsgint64(buf)));
}

static Datum
kzid_send(const KzidForm *form, FunctionCallInfo fcinfo)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, PG_GETARG_INT64(0));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

static Datum
kzid_from_int8(const KzidForm *form, FunctionCallInfo fcinfo)
{
	PG_RETURN_INT64(check_kzid_value(form, PG_GETARG_INT64(0)));
}

static Datum
kzid_is_valid_text(const KzidForm *form, FunctionCallInfo fcinfo)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	KzidParse	p;

	PG_RETURN_BOOL(kzid_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t),
							  form->kind, &p) == KZID_OK);
}

/*
 * KZID_TYPE_FUNCTIONS(iin) defines iin_in, iin_out, iin_recv, iin_send,
 * iin_from_int8 and iin_is_valid_text, each a call of the kzid_ function
 * of the same suffix with iin_form.
 */
#define KZID_FMGR_ENTRY(type, suffix) \
PG_FUNCTION_INFO_V1(type##_##suffix); \
Datum \
type##_##suffix(PG_FUNCTION_ARGS) \
{ \
	return kzid_##suffix(&type##_form, fcinfo); \
}

#define KZID_TYPE_FUNCTIONS(type) \
KZID_FMGR_ENTRY(type, in) \
KZID_FMGR_ENTRY(type, out) \
KZID_FMGR_ENTRY(type, recv) \
KZID_FMGR_ENTRY(type, send) \
KZID_FMGR_ENTRY(type, from_int8) \
KZID_FMGR_ENTRY(type, is_valid_text)

KZID_TYPE_FUNCTIONS(iin)
KZID_TYPE_FUNCTIONS(bin)

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

/* ---- iin accessors ---- */

/* Digit 7: 1-2 the 1800s, 3-4 the 1900s, 5-6 the 2000s. */
static int
iin_first_year(int64 value)
{
	return 1800 + 100 * ((kzid_digit(value, 7) - 1) / 2);
}

PG_FUNCTION_INFO_V1(iin_century);
Datum
iin_century(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(iin_first_year(PG_GETARG_INT64(0)));
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
	int			year = iin_first_year(value) + kzid_two_digits(value, 1);
	int			month = kzid_two_digits(value, 3);
	int			day = kzid_two_digits(value, 5);

	if (day > day_tab[isleap(year)][month - 1])
		PG_RETURN_NULL();
	PG_RETURN_DATEADT(date2j(year, month, day) - POSTGRES_EPOCH_JDATE);
}

/* ---- bin accessors ---- */

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
