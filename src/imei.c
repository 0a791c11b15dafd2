/*
 * imei.c
 *		fmgr interface of the imei and imeisv types: text and binary I/O,
 *		validated casts, named constructors and accessors.
 *
 * Both types are an int64 holding the decimal digits, so comparison,
 * hashing and sorting are PostgreSQL's own int8 functions (see the SQL);
 * this file only parses, formats and validates.
 */
#include "compat.h"

#include "imei.h"
#include "imei_parse.h"

#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

/* What a digit string must be: its name in messages and its length. */
typedef struct DigitForm
{
	const char *name;			/* the SQL type it becomes */
	const char *label;			/* what it is called in prose */
	int			ndigits;
} DigitForm;

static const DigitForm imei_form = {"imei", "IMEI", IMEI_DIGITS};
static const DigitForm imeisv_form = {"imeisv", "IMEISV", IMEISV_DIGITS};
static const DigitForm body_form = {"imei", "IMEI body", IMEI_BODY_DIGITS};

/* "2-12-1": the digit groups of the input, for the grouping message. */
static char *
groups_to_string(const ImeiParse *p)
{
	StringInfoData buf;
	int			g;

	initStringInfo(&buf);
	for (g = 0; g < p->ngroups && g <= IMEISV_DIGITS; g++)
		appendStringInfo(&buf, g ? "-%d" : "%d", p->group_len[g]);
	return buf.data;
}

static void
report_length(const DigitForm *form, const char *str, const ImeiParse *p,
			  Node *escontext)
{
	const char *hint = NULL;

	if (form->ndigits == IMEI_DIGITS && p->ndigits == IMEI_BODY_DIGITS)
		hint = "14 digits are an IMEI without its check digit: use imei_registry.imei_from_body() to add it.";
	else if (form->ndigits == IMEI_DIGITS && p->ndigits == IMEISV_DIGITS)
		hint = "16 digits look like an IMEISV: use the imeisv type, or imei_registry.imei_from_network() for its IMEI.";
	else if (form->ndigits == IMEISV_DIGITS && p->ndigits == IMEI_DIGITS)
		hint = "15 digits look like an IMEI: use the imei type.";

	errsave(escontext,
			errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			errmsg("invalid input syntax for type %s: \"%s\"", form->name, str),
			errdetail("An %s has %d digits; found %d.",
					  form->label, form->ndigits, p->ndigits),
			hint ? errhint("%s", hint) : 0);
}

/*
 * Turn a failed parse into an error report (soft where escontext allows).
 */
static void
report_parse_error(const DigitForm *form, const char *str, const ImeiParse *p,
				   Node *escontext)
{
	int			charpos;

	switch (p->status)
	{
		case IMEI_PARSE_BAD_CHAR:
			charpos = pg_mbstrlen_with_len(str, (int) p->offset) + 1;
			errsave(escontext,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type %s: \"%s\"",
						   form->name, str),
					errdetail("Character \"%.*s\" at position %d is not a digit.",
							  pg_mblen(str + p->offset), str + p->offset,
							  charpos));
			break;
		case IMEI_PARSE_BAD_HYPHEN:
			charpos = pg_mbstrlen_with_len(str, (int) p->offset) + 1;
			errsave(escontext,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type %s: \"%s\"",
						   form->name, str),
					errdetail("The hyphen at position %d does not stand between two digits.",
							  charpos));
			break;
		case IMEI_PARSE_BAD_LENGTH:
			report_length(form, str, p, escontext);
			break;
		case IMEI_PARSE_BAD_GROUPING:
			errsave(escontext,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type %s: \"%s\"",
						   form->name, str),
					errdetail("Digit groups %s are not an accepted layout.",
							  groups_to_string(p)),
					errhint("Write the digits in one run, or grouped as AA-BBBBBB-CCCCCC-D, TAC-serial-D or the old 6-2-6-1."));
			break;
		case IMEI_PARSE_BAD_CHECK_DIGIT:
			errsave(escontext,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid check digit for type %s: \"%s\", should be %d",
						   form->name, str, p->check_expected),
					errdetail("The Luhn check digit of the first 14 digits is %d, not %d.",
							  p->check_expected, p->check_found));
			break;
		case IMEI_PARSE_OK:
			break;
	}
}

/* Parse str as form; false (after a soft error report) if it is not one. */
static bool
parse_digits(const DigitForm *form, const char *str, int64 *result,
			 Node *escontext)
{
	ImeiParse	p;

	if (imei_parse(str, strlen(str), form->ndigits, &p) != IMEI_PARSE_OK)
	{
		report_parse_error(form, str, &p, escontext);
		return false;
	}
	*result = (int64) p.digits;
	return true;
}

static Datum
format_digits(int64 value, int ndigits)
{
	char	   *buf = palloc(IMEI_TEXT_MAX + 1);

	imei_format((uint64) value, ndigits, buf);
	return CStringGetDatum(buf);
}

/*
 * A value that arrives as a number (binary I/O, bigint cast) must pass the
 * same checks as its text form: in range, and for imei the check digit.
 */
static int64
check_value(const DigitForm *form, int64 value)
{
	char		buf[IMEI_TEXT_MAX + 1];

	if (value < 0 || (uint64) value >= (form->ndigits == IMEI_DIGITS ?
										IMEI_MODULUS : IMEISV_MODULUS))
		ereport(ERROR,
				errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				errmsg("value %lld is out of range for type %s",
					   (long long) value, form->name),
				errdetail("An %s has at most %d digits.",
						  form->label, form->ndigits));
	imei_format((uint64) value, form->ndigits, buf);
	(void) parse_digits(form, buf, &value, NULL);
	return value;
}

/* ---- imei ---- */

PG_FUNCTION_INFO_V1(imei_in);
Datum
imei_in(PG_FUNCTION_ARGS)
{
	int64		result = 0;

	if (!parse_digits(&imei_form, PG_GETARG_CSTRING(0), &result,
					  fcinfo->context))
		return (Datum) 0;		/* soft error reported */
	PG_RETURN_IMEI(result);
}

PG_FUNCTION_INFO_V1(imei_out);
Datum
imei_out(PG_FUNCTION_ARGS)
{
	return format_digits(PG_GETARG_IMEI(0), IMEI_DIGITS);
}

PG_FUNCTION_INFO_V1(imei_recv);
Datum
imei_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	PG_RETURN_IMEI(check_value(&imei_form, pq_getmsgint64(buf)));
}

PG_FUNCTION_INFO_V1(imei_send);
Datum
imei_send(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, PG_GETARG_INT64(0));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(imei_from_int8);
Datum
imei_from_int8(PG_FUNCTION_ARGS)
{
	PG_RETURN_IMEI(check_value(&imei_form, PG_GETARG_INT64(0)));
}

/* ---- imeisv: same storage, 16 digits, no check digit ---- */

PG_FUNCTION_INFO_V1(imeisv_in);
Datum
imeisv_in(PG_FUNCTION_ARGS)
{
	int64		result = 0;

	if (!parse_digits(&imeisv_form, PG_GETARG_CSTRING(0), &result,
					  fcinfo->context))
		return (Datum) 0;		/* soft error reported */
	PG_RETURN_INT64(result);
}

PG_FUNCTION_INFO_V1(imeisv_out);
Datum
imeisv_out(PG_FUNCTION_ARGS)
{
	return format_digits(PG_GETARG_INT64(0), IMEISV_DIGITS);
}

PG_FUNCTION_INFO_V1(imeisv_recv);
Datum
imeisv_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	PG_RETURN_INT64(check_value(&imeisv_form, pq_getmsgint64(buf)));
}

PG_FUNCTION_INFO_V1(imeisv_send);
Datum
imeisv_send(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, PG_GETARG_INT64(0));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(imeisv_from_int8);
Datum
imeisv_from_int8(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(check_value(&imeisv_form, PG_GETARG_INT64(0)));
}

static Imei
imei_from_body_value(uint64 body)
{
	return (Imei) (body * 10 + (uint64) imei_luhn_digit(body));
}

PG_FUNCTION_INFO_V1(imeisv_to_imei);
Datum
imeisv_to_imei(PG_FUNCTION_ARGS)
{
	PG_RETURN_IMEI(imei_from_body_value((uint64) PG_GETARG_INT64(0) / 100));
}

/* ---- named constructors and validators on text ---- */

static bool
text_parses_as(text *t, int ndigits)
{
	ImeiParse	p;

	return imei_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), ndigits, &p) ==
		IMEI_PARSE_OK;
}

PG_FUNCTION_INFO_V1(imei_is_valid_text);
Datum
imei_is_valid_text(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(text_parses_as(PG_GETARG_TEXT_PP(0), IMEI_DIGITS));
}

PG_FUNCTION_INFO_V1(imeisv_is_valid_text);
Datum
imeisv_is_valid_text(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(text_parses_as(PG_GETARG_TEXT_PP(0), IMEISV_DIGITS));
}

static uint64
body_from_text(text *t)
{
	int64		body = 0;

	(void) parse_digits(&body_form, text_to_cstring(t), &body, NULL);
	return (uint64) body;
}

/*
 * imei_check_digit(text): the check digit of a 14-digit body; of 15 digits,
 * the check digit of the IMEI they spell, verified as the imei type does (a
 * wrong one is its error, naming the digit it should be).  So for every
 * IMEI it is imei_check_digit(text::imei), and an untyped literal, which
 * PostgreSQL resolves to this text overload, gives what the imei one would.
 */
PG_FUNCTION_INFO_V1(imei_check_digit_text);
Datum
imei_check_digit_text(PG_FUNCTION_ARGS)
{
	char	   *str = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ImeiParse	p;
	int64		value = 0;

	if (imei_scan(str, strlen(str), &p) == IMEI_PARSE_OK &&
		p.ndigits == IMEI_DIGITS)
	{
		(void) parse_digits(&imei_form, str, &value, NULL);
		PG_RETURN_INT32((int32) (value % 10));
	}
	(void) parse_digits(&body_form, str, &value, NULL);
	PG_RETURN_INT32(imei_luhn_digit((uint64) value));
}

PG_FUNCTION_INFO_V1(imei_from_body);
Datum
imei_from_body(PG_FUNCTION_ARGS)
{
	PG_RETURN_IMEI(imei_from_body_value(body_from_text(PG_GETARG_TEXT_PP(0))));
}

bool
imei_from_network_cstring(const char *str, Imei *result, Node *escontext)
{
	ImeiParse	p;

	if (imei_scan(str, strlen(str), &p) != IMEI_PARSE_OK)
	{
		report_parse_error(&imei_form, str, &p, escontext);
		return false;
	}
	switch (p.ndigits)
	{
		case IMEI_BODY_DIGITS:
			imei_parse(str, strlen(str), IMEI_BODY_DIGITS, &p);
			break;
		case IMEI_DIGITS:
			/* a spare digit 0 stands where the check digit would be */
			if (imei_parse(str, strlen(str), IMEI_DIGITS, &p) ==
				IMEI_PARSE_BAD_CHECK_DIGIT && p.check_found == 0)
				p.status = IMEI_PARSE_OK;
			p.digits /= 10;
			break;
		case IMEISV_DIGITS:
			imei_parse(str, strlen(str), IMEISV_DIGITS, &p);
			p.digits /= 100;
			break;
		default:
			errsave(escontext,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type imei: \"%s\"", str),
					errdetail("A network-reported IMEI has 14, 15 or 16 digits; found %d.",
							  p.ndigits));
			return false;
	}
	if (p.status != IMEI_PARSE_OK)
	{
		report_parse_error(&imei_form, str, &p, escontext);
		return false;
	}
	*result = imei_from_body_value(p.digits);
	return true;
}

PG_FUNCTION_INFO_V1(imei_from_network);
Datum
imei_from_network(PG_FUNCTION_ARGS)
{
	Imei		result = 0;

	(void) imei_from_network_cstring(text_to_cstring(PG_GETARG_TEXT_PP(0)),
									 &result, NULL);
	PG_RETURN_IMEI(result);
}

/* ---- accessors: digits at a position, as text ---- */

static Datum
digits_text(int64 value, int ndigits, int from, int count)
{
	char		buf[IMEI_TEXT_MAX + 1];

	imei_format((uint64) value, ndigits, buf);
	return PointerGetDatum(cstring_to_text_with_len(buf + from, count));
}

PG_FUNCTION_INFO_V1(imei_tac);
Datum
imei_tac(PG_FUNCTION_ARGS)
{
	return digits_text(PG_GETARG_IMEI(0), IMEI_DIGITS, 0, 8);
}

PG_FUNCTION_INFO_V1(imei_snr);
Datum
imei_snr(PG_FUNCTION_ARGS)
{
	return digits_text(PG_GETARG_IMEI(0), IMEI_DIGITS, 8, 6);
}

PG_FUNCTION_INFO_V1(imei_rbi);
Datum
imei_rbi(PG_FUNCTION_ARGS)
{
	return digits_text(PG_GETARG_IMEI(0), IMEI_DIGITS, 0, 2);
}

PG_FUNCTION_INFO_V1(imei_check_digit);
Datum
imei_check_digit(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32((int32) (PG_GETARG_IMEI(0) % 10));
}

PG_FUNCTION_INFO_V1(imeisv_svn);
Datum
imeisv_svn(PG_FUNCTION_ARGS)
{
	return digits_text(PG_GETARG_INT64(0), IMEISV_DIGITS, 14, 2);
}
