/*
 * vocabulary.h
 *		The words of an application and the fee, in one place: the applicant
 *		kinds, the import methods, the document types (and which are never
 *		evidence), and what an applicant pays.  The C rules (documents.c) use
 *		them directly; the SQL reads them through
 *		imei_registry.application_vocabulary() and
 *		imei_registry.fee_mci_per_device() (vocabulary.c).
 */
#ifndef IMEI_REGISTRY_VOCABULARY_H
#define IMEI_REGISTRY_VOCABULARY_H

#include "postgres.h"

typedef enum ApplicantKind
{
	APPLICANT_INDIVIDUAL,
	APPLICANT_SOLE_PROPRIETOR,
	APPLICANT_LEGAL_ENTITY,
	APPLICANT_SERVICE_CENTRE
} ApplicantKind;

typedef enum Method
{
	METHOD_ACCOMPANIED_BAGGAGE,
	METHOD_PARCEL,
	METHOD_GIFT,
	METHOD_OFFICIAL_RETAILER,
	METHOD_COMMERCIAL_IMPORT,
	METHOD_BOARD_REPLACEMENT,
	METHOD_ADDITIONAL_IMEI
} Method;

typedef enum DocType
{
	DOC_BORDER_CROSSING_CERTIFICATE,
	DOC_PASSENGER_CUSTOMS_DECLARATION,
	DOC_TRACKING_NUMBER,
	DOC_GOODS_DECLARATION,
	DOC_SERVICE_ORDER,
	DOC_WARRANTY_CARD,
	DOC_CASH_RECEIPT,
	DOC_PHOTO
} DocType;

#define N_DOC_TYPES (DOC_PHOTO + 1)

/* The names, in enum order, each list ending with NULL */
extern const char *const applicant_kinds[];
extern const char *const methods[];
extern const char *const doc_types[];
extern const char *const notices[];
extern const char *const countries[];	/* ISO 3166-1 alpha-2, sorted */
extern const char *const home_country;

/* The position of name in a list; an error naming it if it is not there */
extern int	vocabulary_lookup(const char *const *names, const char *name);

/* Businesses (every kind but individual) pay the fee and may import commercially. */
extern bool applicant_is_business(ApplicantKind kind);

/* Identified by an IIN (individuals, sole proprietors), else by a BIN */
extern bool applicant_has_iin(ApplicantKind kind);

/* The fee in MCI for each device of an application */
extern int	fee_mci_per_device(ApplicantKind kind);

/* Does the fee count a device of imeis IMEIs entered, white of them white? */
extern bool fee_counts_device(int imeis, int white);

/* An officially assigned ISO 3166-1 alpha-2 code */
extern bool country_is_assigned(const char *code);

/* A reason of a decision that informs but does not reject */
extern bool reason_is_notice(const char *code);

/* Never evidence of import, whatever the method (a warranty card, ...) */
extern bool doc_never_evidence(DocType type);

#endif							/* IMEI_REGISTRY_VOCABULARY_H */
