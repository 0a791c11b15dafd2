/*
 * imei_parse.c
 *		Parsing and formatting of IMEI / IMEISV digit strings.
 *
 * Accepted spellings (README, "Input forms"): surrounding white space is
 * ignored; the digits are written either in one run, or in hyphen-separated
 * groups that start TAC-SNR as 2-6-6, 8-6 or 6-2-6 (the printed
 * AA-BBBBBB-CCCCCC-D, TAC-serial, and the pre-2004 TAC6-FAC2 layouts),
 * followed by a last group holding the check digit (IMEI) or the software
 * version (IMEISV).  Nothing else is accepted: no spaces inside, no other
 * separators.
 */
#include "imei_parse.h"

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f';
}

/*
 * Luhn check digit of a 14-digit body, per 3GPP TS 23.003 Annex B: counting
 * from the rightmost body digit, every first, third, ... digit is doubled.
 */
int
imei_luhn_digit(uint64_t body)
{
	static const int doubled[10] = {0, 2, 4, 6, 8, 1, 3, 5, 7, 9};
	int			sum = 0;
	int			i;

	for (i = 0; i < IMEI_BODY_DIGITS / 2; i++)
	{
		sum += doubled[body % 10];
		body /= 10;
		sum += (int) (body % 10);
		body /= 10;
	}
	return (10 - sum % 10) % 10;
}

/* Is this 15-digit number an IMEI with a correct check digit? */
int
imei_is_valid_value(uint64_t value)
{
	return value < IMEI_MODULUS &&
		imei_luhn_digit(value / 10) == (int) (value % 10);
}

/*
 * Read digits and hyphens, trimming surrounding white space.  Fills in the
 * digit count, the groups and (for up to 16 digits) their value.  Returns
 * the status: OK, BAD_CHAR or BAD_HYPHEN.
 */
int
imei_scan(const char *str, size_t len, ImeiParse *p)
{
	size_t		start = 0;
	size_t		end = len;
	size_t		i;

	p->status = IMEI_PARSE_OK;
	p->ndigits = 0;
	p->offset = 0;
	p->ngroups = 0;
	p->check_found = p->check_expected = -1;
	p->digits = 0;

	while (start < end && is_space(str[start]))
		start++;
	while (end > start && is_space(str[end - 1]))
		end--;

	for (i = start; i < end; i++)
	{
		char		c = str[i];

		if (c >= '0' && c <= '9')
		{
			if (p->ndigits < IMEISV_DIGITS)
				p->digits = p->digits * 10 + (uint64_t) (c - '0');
			p->ndigits++;
			if (i == start || str[i - 1] == '-')
			{
				if (p->ngroups <= IMEISV_DIGITS)
					p->group_len[p->ngroups] = 0;
				p->ngroups++;
			}
			if (p->ngroups <= IMEISV_DIGITS + 1)
				p->group_len[p->ngroups - 1]++;
		}
		else if (c == '-')
		{
			if (i == start || i + 1 == end || str[i - 1] == '-')
			{
				p->status = IMEI_PARSE_BAD_HYPHEN;
				p->offset = i;
				return p->status;
			}
		}
		else
		{
			p->status = IMEI_PARSE_BAD_CHAR;
			p->offset = i;
			return p->status;
		}
	}
	return p->status;
}

/*
 * Are the hyphen groups one of the accepted layouts for ndigits digits?  One
 * run is always fine; otherwise a TAC-SNR prefix (2-6-6, 8-6 or 6-2-6) and,
 * beyond 14 digits, one last group with the remaining digits.
 */
static int
grouping_is_accepted(const ImeiParse *p)
{
	static const int layouts[][3] = {{2, 6, 6}, {8, 6, 0}, {6, 2, 6}};
	int			l;

	if (p->ngroups == 1)
		return 1;
	for (l = 0; l < 3; l++)
	{
		int			n = layouts[l][2] ? 3 : 2;
		int			g;
		int			tail = p->ndigits - IMEI_BODY_DIGITS;

		if (p->ngroups != n + (tail > 0 ? 1 : 0))
			continue;
		for (g = 0; g < n; g++)
			if (p->group_len[g] != layouts[l][g])
				break;
		if (g == n)
			return 1;
	}
	return 0;
}

/*
 * The common case, a bare run of exactly want_digits digits (what COPY of a
 * clean file delivers), read without the general scan.
 */
static int
parse_bare_digits(const char *str, size_t len, int want_digits, ImeiParse *p)
{
	uint64_t	v = 0;
	size_t		i;

	if (len != (size_t) want_digits)
		return 0;
	for (i = 0; i < len; i++)
	{
		if (str[i] < '0' || str[i] > '9')
			return 0;
		v = v * 10 + (uint64_t) (str[i] - '0');
	}
	p->status = IMEI_PARSE_OK;
	p->ndigits = p->group_len[0] = want_digits;
	p->ngroups = 1;
	p->offset = 0;
	p->check_found = p->check_expected = -1;
	p->digits = v;
	return 1;
}

/*
 * Parse an IMEI body (14), IMEI (15) or IMEISV (16) spelling.  On success
 * p->digits holds the value; for 15 digits the check digit is verified.
 */
int
imei_parse(const char *str, size_t len, int want_digits, ImeiParse *p)
{
	if (!parse_bare_digits(str, len, want_digits, p))
	{
		if (imei_scan(str, len, p) != IMEI_PARSE_OK)
			return p->status;
		if (p->ndigits != want_digits)
			return p->status = IMEI_PARSE_BAD_LENGTH;
		if (!grouping_is_accepted(p))
			return p->status = IMEI_PARSE_BAD_GROUPING;
	}
	if (want_digits == IMEI_DIGITS)
	{
		p->check_found = (int) (p->digits % 10);
		p->check_expected = imei_luhn_digit(p->digits / 10);
		if (p->check_found != p->check_expected)
			return p->status = IMEI_PARSE_BAD_CHECK_DIGIT;
	}
	return p->status;
}

/* Write value as exactly ndigits digits, zero-padded, NUL-terminated. */
void
imei_format(uint64_t value, int ndigits, char *buf)
{
	int			i;

	buf[ndigits] = '\0';
	for (i = ndigits - 1; i >= 0; i--)
	{
		buf[i] = (char) ('0' + value % 10);
		value /= 10;
	}
}
