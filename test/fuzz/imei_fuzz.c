/*
 * imei_fuzz.c
 *		libFuzzer target: src/imei_parse.c against a reference written the
 *		slow, obvious way (split on hyphens, compare layouts as strings, Luhn
 *		over the whole number).  Any disagreement, or a value that does not
 *		survive format -> parse, aborts.
 *
 *	clang -fsanitize=fuzzer,address,undefined -Isrc test/fuzz/imei_fuzz.c src/imei_parse.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imei_parse.h"

/* Accepted layouts per digit count, as in the README. */
static const char *const layouts[] = {
	"14", "2-6-6", "8-6", "6-2-6",
	"15", "2-6-6-1", "8-6-1", "6-2-6-1",
	"16", "2-6-6-2", "8-6-2", "6-2-6-2",
	NULL
};

static int
ref_luhn_ok(const char *digits)
{
	int			sum = 0;
	int			n = (int) strlen(digits);
	int			i;

	/* classic Luhn: from the right, double every second digit */
	for (i = 0; i < n; i++)
	{
		int			d = digits[n - 1 - i] - '0';

		if (i % 2 == 1)
			d = d * 2 > 9 ? d * 2 - 9 : d * 2;
		sum += d;
	}
	return sum % 10 == 0;
}

static ImeiParseStatus
ref_parse(const char *in, size_t len, int want, unsigned long long *value)
{
	size_t		s = 0,
				e = len,
				i;
	char		digits[64];
	char		shape[256];
	int			nd = 0,
				glen = 0,
				k;

	shape[0] = '\0';
	while (s < e && strchr(" \t\n\r\v\f", in[s]) && in[s])
		s++;
	while (e > s && strchr(" \t\n\r\v\f", in[e - 1]) && in[e - 1])
		e--;
	for (i = s; i < e; i++)
	{
		if (in[i] == '-')
		{
			if (i == s || i == e - 1 || in[i - 1] == '-')
				return IMEI_PARSE_BAD_HYPHEN;
			snprintf(shape + strlen(shape), sizeof(shape) - strlen(shape),
					 "%d-", glen);
			glen = 0;
		}
		else if (in[i] >= '0' && in[i] <= '9')
		{
			if (nd < 63)
				digits[nd] = in[i];
			nd++;
			glen++;
		}
		else
			return IMEI_PARSE_BAD_CHAR;
	}
	if (nd != want)
		return IMEI_PARSE_BAD_LENGTH;
	digits[nd] = '\0';
	snprintf(shape + strlen(shape), sizeof(shape) - strlen(shape), "%d", glen);
	for (k = 0; layouts[k]; k++)
		if (strcmp(shape, layouts[k]) == 0)
			break;
	if (!layouts[k])
		return IMEI_PARSE_BAD_GROUPING;
	*value = strtoull(digits, NULL, 10);
	if (want == 15 && !ref_luhn_ok(digits))
		return IMEI_PARSE_BAD_CHECK_DIGIT;
	return IMEI_PARSE_OK;
}

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *in = (const char *) data;
	int			want;

	if (memchr(data, '\0', size))
		return 0;				/* text values never hold NUL */

	for (want = IMEI_BODY_DIGITS; want <= IMEISV_DIGITS; want++)
	{
		ImeiParse	p;
		unsigned long long ref_value = 0;
		ImeiParseStatus ref = ref_parse(in, size, want, &ref_value);
		ImeiParseStatus got = imei_parse(in, size, want, &p);

		if (got != ref)
		{
			fprintf(stderr, "want %d: parser says %d, reference says %d\n",
					want, got, ref);
			abort();
		}
		if (got == IMEI_PARSE_OK)
		{
			char		buf[IMEI_TEXT_MAX + 1];
			ImeiParse	again;

			if (p.digits != ref_value)
				abort();
			imei_format(p.digits, want, buf);
			if (imei_parse(buf, strlen(buf), want, &again) != IMEI_PARSE_OK ||
				again.digits != p.digits)
				abort();
			if (want == IMEI_DIGITS && !imei_is_valid_value(p.digits))
				abort();
		}
	}
	return 0;
}
