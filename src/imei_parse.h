/*
 * imei_parse.h
 *		Parsing and formatting of IMEI / IMEISV digit strings.
 *
 * Plain C with no PostgreSQL dependency, so that the parser can be fuzzed
 * on its own (test/fuzz/).  The fmgr wrappers in imei.c turn a failed parse
 * into an error report.
 */
#ifndef IMEI_PARSE_H
#define IMEI_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define IMEI_BODY_DIGITS	14		/* TAC (8) + serial number (6) */
#define IMEI_DIGITS			15		/* body + Luhn check digit */
#define IMEISV_DIGITS		16		/* body + 2-digit software version */
#define IMEI_TEXT_MAX		(IMEISV_DIGITS + 1)

#define IMEI_MODULUS		UINT64_C(1000000000000000)	/* 10^15 */
#define IMEISV_MODULUS		UINT64_C(10000000000000000) /* 10^16 */

typedef enum ImeiParseStatus
{
	IMEI_PARSE_OK = 0,
	IMEI_PARSE_BAD_CHAR,		/* neither a digit nor a hyphen */
	IMEI_PARSE_BAD_HYPHEN,		/* hyphen first, last, or doubled */
	IMEI_PARSE_BAD_LENGTH,		/* wrong number of digits for the form */
	IMEI_PARSE_BAD_GROUPING,	/* hyphen groups of a shape not accepted */
	IMEI_PARSE_BAD_CHECK_DIGIT	/* Luhn check digit does not match */
} ImeiParseStatus;

typedef struct ImeiParse
{
	ImeiParseStatus status;
	int			ndigits;		/* digits found in the input */
	size_t		offset;			/* byte offset of the bad character or hyphen */
	int			ngroups;		/* hyphen-separated groups */
	int			group_len[IMEISV_DIGITS + 1];	/* digits per group */
	int			check_found;	/* for BAD_CHECK_DIGIT */
	int			check_expected;
	uint64_t	digits;			/* the digits read, as a number (ndigits <= 16) */
} ImeiParse;

extern int	imei_luhn_digit(uint64_t body);
extern int	imei_scan(const char *str, size_t len, ImeiParse *p);
extern int	imei_parse(const char *str, size_t len, int want_digits, ImeiParse *p);
extern int	imei_is_valid_value(uint64_t value);
extern void imei_format(uint64_t value, int ndigits, char *buf);

#endif							/* IMEI_PARSE_H */
