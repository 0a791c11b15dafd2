/*
 * kzid_parse.c
 *		Kazakhstan IIN / BIN: parsing, structure and the check digit.
 *
 * Both numbers are 12 decimal digits whose last digit is a control digit
 * (Law No. 223 of 12 Jan 2007; Government Resolution No. 406 of 2007):
 *
 *	r = (d1*1 + d2*2 + ... + d11*11) mod 11;
 *	if r = 10:  r = (d1*3 + d2*4 + ... + d9*11 + d10*1 + d11*2) mod 11;
 *	if r = 10 again the prefix has no check digit and is never issued.
 *
 * Sources disagree on that last case (a minority maps it to 0); we follow
 * the majority and the "not used" wording: such a number is invalid.
 *
 * Structure checked besides the check digit (what tells an IIN from a BIN):
 *	IIN  YYMMDD C SSSS K: month 01-12, day 01-31, C (century and sex) 1-6;
 *	BIN  YYMM T A SSSSS K: month 01-12, type T 4-6, attribute A 0-3.
 * Whether the date part is a real calendar date is not checked: since 2013
 * the digits need not match the holder's birth date (see docs).
 */
#include "kzid_parse.h"

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\f' || c == '\v';
}

int
kzid_check_digit(const int d[11])
{
	int			sum = 0;
	int			i;

	for (i = 0; i < 11; i++)
		sum += d[i] * (i + 1);
	if (sum % 11 != 10)
		return sum % 11;
	sum = 0;
	for (i = 0; i < 11; i++)
		sum += d[i] * ((i + 2) % 11 + 1);
	return sum % 11;			/* KZID_NO_CHECK_DIGIT when 10 again */
}

static KzidStatus
fail(KzidParse *p, KzidStatus status, int component)
{
	p->status = status;
	p->component = component;
	return status;
}

KzidStatus
kzid_validate(uint64_t value, KzidKind kind, KzidParse *p)
{
	int			d[KZID_DIGITS];
	int			i;
	int			month;

	p->value = value;
	if (value >= KZID_MODULUS)
		return fail(p, KZID_BAD_LENGTH, 0);
	for (i = KZID_DIGITS - 1; i >= 0; i--)
	{
		d[i] = (int) (value % 10);
		value /= 10;
	}
	month = d[2] * 10 + d[3];
	if (month < 1 || month > 12)
		return fail(p, KZID_BAD_MONTH, month);
	if (kind == KZID_IIN)
	{
		int			day = d[4] * 10 + d[5];

		if (day < 1 || day > 31)
			return fail(p, KZID_BAD_DAY, day);
		if (d[6] < 1 || d[6] > 6)
			return fail(p, KZID_BAD_CENTURY, d[6]);
	}
	else
	{
		if (d[4] < 4 || d[4] > 6)
			return fail(p, KZID_BAD_ENTITY_TYPE, d[4]);
		if (d[5] > 3)
			return fail(p, KZID_BAD_ATTRIBUTE, d[5]);
	}
	p->check_found = d[11];
	p->check_expected = kzid_check_digit(d);
	if (p->check_expected == KZID_NO_CHECK_DIGIT)
		return fail(p, KZID_NO_CHECK, 0);
	if (p->check_expected != p->check_found)
		return fail(p, KZID_BAD_CHECK_DIGIT, 0);
	return fail(p, KZID_OK, 0);
}

/*
 * Strict: blanks around the number are ignored, nothing else but exactly 12
 * ASCII digits is accepted (no inner spaces, no separators).
 */
KzidStatus
kzid_parse(const char *str, size_t len, KzidKind kind, KzidParse *p)
{
	size_t		i = 0;
	uint64_t	value = 0;

	p->ndigits = 0;
	p->offset = 0;
	p->value = 0;
	while (i < len && is_blank(str[i]))
		i++;
	while (len > i && is_blank(str[len - 1]))
		len--;
	for (; i < len; i++)
	{
		if (str[i] < '0' || str[i] > '9')
		{
			p->offset = i;
			return fail(p, KZID_BAD_CHAR, 0);
		}
		if (++p->ndigits <= KZID_DIGITS)
			value = value * 10 + (uint64_t) (str[i] - '0');
	}
	if (p->ndigits != KZID_DIGITS)
		return fail(p, KZID_BAD_LENGTH, 0);
	return kzid_validate(value, kind, p);
}

void
kzid_format(uint64_t value, char *buf)
{
	int			i;

	for (i = KZID_DIGITS - 1; i >= 0; i--)
	{
		buf[i] = (char) ('0' + value % 10);
		value /= 10;
	}
	buf[KZID_DIGITS] = '\0';
}
