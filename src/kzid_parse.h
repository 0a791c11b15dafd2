/*
 * kzid_parse.h
 *		Kazakhstan IIN / BIN: parsing and the check digit, in plain C.
 *
 * No PostgreSQL dependency: kzid.c turns a failed parse into an error
 * report, and the core can be tested or fuzzed on its own.
 */
#ifndef KZID_PARSE_H
#define KZID_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define KZID_DIGITS		12
#define KZID_MODULUS	UINT64_C(1000000000000)	/* 10^12 */
#define KZID_NO_CHECK_DIGIT	10		/* both weighted passes give 10 */

typedef enum KzidKind
{
	KZID_IIN,					/* individual identification number */
	KZID_BIN					/* business identification number */
} KzidKind;

typedef enum KzidStatus
{
	KZID_OK = 0,
	KZID_BAD_CHAR,				/* not a digit (after surrounding blanks) */
	KZID_BAD_LENGTH,			/* not 12 digits */
	KZID_BAD_CENTURY,			/* IIN digit 7 not 1-6 */
	KZID_BAD_MONTH,				/* IIN digits 3-4, BIN digits 3-4: not 01-12 */
	KZID_BAD_DAY,				/* IIN digits 5-6: not 01-31 */
	KZID_BAD_ENTITY_TYPE,		/* BIN digit 5 not 4-6 */
	KZID_BAD_ATTRIBUTE,			/* BIN digit 6 not 0-3 */
	KZID_NO_CHECK,				/* both passes give 10: never issued */
	KZID_BAD_CHECK_DIGIT		/* digit 12 is not the computed one */
} KzidStatus;

typedef struct KzidParse
{
	KzidStatus	status;
	int			ndigits;		/* digits found */
	size_t		offset;			/* byte offset of a bad character */
	int			component;		/* value of the bad component */
	int			check_found;
	int			check_expected;
	uint64_t	value;			/* the 12 digits as a number */
} KzidParse;

extern int	kzid_check_digit(const int digits[11]);
extern KzidStatus kzid_parse(const char *str, size_t len, KzidKind kind,
							 KzidParse *p);
extern KzidStatus kzid_validate(uint64_t value, KzidKind kind, KzidParse *p);
extern void kzid_format(uint64_t value, char *buf);

#endif							/* KZID_PARSE_H */
