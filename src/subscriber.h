/*
 * subscriber.h
 *		IMSI (ITU-T E.212) and MSISDN (ITU-T E.164) values of operators'
 *		reports, and which IMSIs are the home networks' (subscriber.c).
 */
#ifndef IMEI_REGISTRY_SUBSCRIBER_H
#define IMEI_REGISTRY_SUBSCRIBER_H

#include "postgres.h"

/*
 * An IMSI: 6 to 15 digits, the 3-digit mobile country code first (E.212
 * country codes start with 2 to 9), then a 2- or 3-digit MNC and the MSIN.
 * Stored as its number: no IMSI starts with 0, so the number keeps every
 * digit.
 */
#define IMSI_MIN_DIGITS		6
#define IMSI_MAX_DIGITS		15

/* An MSISDN: E.164, the country code first (never 0), 7 to 15 digits */
#define MSISDN_MIN_DIGITS	7
#define MSISDN_MAX_DIGITS	15

/*
 * Parse a value as a report carries it (surrounding blanks ignored).  On
 * success *result is the number and the result NULL; otherwise the result
 * is a palloc'd sentence naming the value and the rule, and nothing raises.
 */
extern char *subscriber_parse_imsi(const char *s, int64 *result);
extern char *subscriber_parse_msisdn(const char *s, int64 *result);

/* The mobile country code of a stored IMSI (its first 3 digits) */
extern int	imsi_mcc_of(int64 imsi);

/* Is the IMSI's MCC one of imei_registry.home_mccs? */
extern bool imsi_is_home_value(int64 imsi);

/* Defines imei_registry.home_mccs (called from _PG_init) */
extern void subscriber_init(void);

#endif							/* IMEI_REGISTRY_SUBSCRIBER_H */
