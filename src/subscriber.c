/*
 * subscriber.c
 *		The subscriber in an operator's report: its IMSI (ITU-T E.212) and
 *		MSISDN (ITU-T E.164), checked without raising, and whether the IMSI
 *		belongs to a home network (imei_registry.home_mccs).
 *
 * Both are stored as numbers (bigint): an IMSI starts with its mobile
 * country code and an MSISDN with its country code, neither of which starts
 * with 0, so the number keeps every digit and 8 bytes hold 15 of them.
 * The loaders (reason codes bad_imsi, bad_msisdn) and report_connection()
 * (SQLSTATE 22P02) use the same two parsers.
 */
#include "compat.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "subscriber.h"

/* Surrounding blanks, as the loaders trim them */
static const char *
trim(const char *s, size_t *len)
{
	const char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
					   end[-1] == '\n'))
		end--;
	*len = end - s;
	return s;
}

/* The digits of s[0..len) as a number; -1 and *bad the offset of a non-digit */
static int64
digits_value(const char *s, size_t len, size_t *bad)
{
	int64		v = 0;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
		{
			*bad = i;
			return -1;
		}
		if (i < 18)
			v = v * 10 + (s[i] - '0');
	}
	return v;
}

char *
subscriber_parse_imsi(const char *input, int64 *result)
{
	size_t		len;
	const char *s = trim(input, &len);
	size_t		bad = 0;
	int64		v;

	if (len == 0)
		return psprintf("IMSI \"%s\" is empty", input);
	v = digits_value(s, len, &bad);
	if (v < 0)
		return psprintf("IMSI \"%s\" has a character other than a digit at position %d",
						input, (int) (s - input + bad) + 1);
	if (len < IMSI_MIN_DIGITS || len > IMSI_MAX_DIGITS)
		return psprintf("IMSI \"%s\" has %d digits; an IMSI has %d to %d: a 3-digit MCC, a 2- or 3-digit MNC and the MSIN (ITU-T E.212)",
						input, (int) len, IMSI_MIN_DIGITS, IMSI_MAX_DIGITS);
	if (s[0] < '2')
		return psprintf("IMSI \"%s\" has mobile country code %.3s, which is no country's: E.212 country codes start with 2 to 9",
						input, s);
	*result = v;
	return NULL;
}

char *
subscriber_parse_msisdn(const char *input, int64 *result)
{
	size_t		len;
	const char *s = trim(input, &len);
	size_t		bad = 0;
	int64		v;

	if (len > 0 && s[0] == '+')
	{
		s++;
		len--;
	}
	if (len == 0)
		return psprintf("MSISDN \"%s\" has no digits", input);
	v = digits_value(s, len, &bad);
	if (v < 0)
		return psprintf("MSISDN \"%s\" has a character other than a digit at position %d: an MSISDN is E.164 digits, country code first, with or without a leading \"+\"",
						input, (int) (s - input + bad) + 1);
	if (s[0] == '0')
		return psprintf("MSISDN \"%s\" starts with 0: an E.164 number starts with its country code (national spellings and international call prefixes are not accepted)",
						input);
	if (len < MSISDN_MIN_DIGITS || len > MSISDN_MAX_DIGITS)
		return psprintf("MSISDN \"%s\" has %d digits; an E.164 number has %d to %d",
						input, (int) len, MSISDN_MIN_DIGITS, MSISDN_MAX_DIGITS);
	*result = v;
	return NULL;
}

int
imsi_mcc_of(int64 imsi)
{
	if (imsi < 100)
		return -1;				/* not an IMSI */
	while (imsi >= 1000)
		imsi /= 10;
	return (int) imsi;
}

/* ---- imei_registry.home_mccs ---- */

#define HOME_MCCS_DEFAULT "401"		/* Kazakhstan */

/* The home MCCs as a set: home[mcc] */
typedef struct HomeMccs
{
	bool		home[1000];
} HomeMccs;

static char *home_mccs_string = NULL;
static const HomeMccs *home_mccs = NULL;

/*
 * A comma-separated list of 3-digit MCCs, blanks around each allowed, at
 * least one.  Parsed without throwing (a check hook must not).
 */
static bool
check_home_mccs(char **newval, void **extra, GucSource source)
{
	HomeMccs	set;
	const char *p = *newval;

	memset(&set, 0, sizeof(set));
	if (p == NULL)
		p = "";
	for (;;)
	{
		int			mcc = 0;
		int			d = 0;

		while (*p == ' ')
			p++;
		while (p[d] >= '0' && p[d] <= '9' && d < 4)
		{
			mcc = mcc * 10 + (p[d] - '0');
			d++;
		}
		if (d != 3 || p[0] < '2')
			break;
		set.home[mcc] = true;
		p += d;
		while (*p == ' ')
			p++;
		if (*p == '\0')
		{
			HomeMccs   *copy = guc_extra_malloc(sizeof(HomeMccs));

			if (copy == NULL)
				return false;
			*copy = set;
			*extra = copy;
			return true;
		}
		if (*p != ',')
			break;
		p++;
	}
	GUC_check_errdetail("imei_registry.home_mccs must list the home networks' mobile country codes, 3 digits each (the first 2 to 9), separated by commas, such as \"%s\".",
						HOME_MCCS_DEFAULT);
	return false;
}

static void
assign_home_mccs(const char *newval, void *extra)
{
	home_mccs = (const HomeMccs *) extra;
}

bool
imsi_is_home_value(int64 imsi)
{
	int			mcc = imsi_mcc_of(imsi);

	return home_mccs != NULL && mcc >= 0 && home_mccs->home[mcc];
}

void
subscriber_init(void)
{
	DefineCustomStringVariable("imei_registry.home_mccs",
							   "Mobile country codes of the home networks, comma-separated.",
							   "A report whose IMSI has another MCC is a visitor's: it starts no grey period.",
							   &home_mccs_string,
							   HOME_MCCS_DEFAULT,
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   check_home_mccs, assign_home_mccs, NULL);
}

/* ---- SQL ---- */

PG_FUNCTION_INFO_V1(subscriber_imsi);
PG_FUNCTION_INFO_V1(subscriber_msisdn);
PG_FUNCTION_INFO_V1(subscriber_imsi_is_home);

/* parse_imsi(text) -> bigint: 22P02 naming the value and the rule */
Datum
subscriber_imsi(PG_FUNCTION_ARGS)
{
	char	   *s = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int64		v;
	char	   *why = subscriber_parse_imsi(s, &v);

	if (why)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				errmsg("%s", why));
	PG_RETURN_INT64(v);
}

/* parse_msisdn(text) -> bigint, without "+" */
Datum
subscriber_msisdn(PG_FUNCTION_ARGS)
{
	char	   *s = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int64		v;
	char	   *why = subscriber_parse_msisdn(s, &v);

	if (why)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				errmsg("%s", why),
				errhint("Spell an MSISDN as its E.164 digits, such as 77011234567 or +77011234567."));
	PG_RETURN_INT64(v);
}

/* imsi_is_home(bigint) -> boolean */
Datum
subscriber_imsi_is_home(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(imsi_is_home_value(PG_GETARG_INT64(0)));
}
