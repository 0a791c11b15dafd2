/*
 * documents.h
 *		The rules of an application on one device and on one IMEI
 *		(documents.c), for the SQL functions that state them and for the
 *		decision's gathering of facts (decision_facts.c), which applies
 *		them to every device and IMEI of an application in one pass.
 */
#ifndef IMEI_REGISTRY_DOCUMENTS_H
#define IMEI_REGISTRY_DOCUMENTS_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/date.h"

#include "vocabulary.h"

/* Reasons collected as the text of a JSON array. */
typedef struct Reasons
{
	StringInfoData buf;
	int			count;
} Reasons;

extern void reasons_init(Reasons *r);

/* The reasons as a jsonb array; count must be > 0. */
extern Datum reasons_jsonb(Reasons *r);

/* What the rules know of one device of an application */
typedef struct DeviceFacts
{
	int			device_no;		/* its device_ord */
	const char *model;			/* as declared, or NULL */
	int			n_imeis;		/* its IMEIs listed, duplicates left out */
	bool		slots_known;	/* sim_slots: the TAC table's, if known */
	int			sim_slots;
	int			n_white;		/* of its IMEIs, white already */
	Method		method;
	/* for method additional_imei: the recorded device its white IMEIs are in */
	int			linked_devices; /* how many devices they are in */
	int			device_imeis;	/* that device's IMEIs in the register */
	int			adding;			/* of its IMEIs, not yet in that device */
	bool		device_slots_known;
	int			device_slots;
	bool		verified;		/* by this applicant, its importer, grandfathering */
} DeviceFacts;

/* What the rules know of one IMEI of an application */
typedef struct ImeiFacts
{
	const char *typed;			/* as the applicant typed it */
	bool		duplicate;		/* listed before in the application */
	const char *status;			/* in the register, NULL if not there */
	const char *status_reason;
	const char *expected_model; /* declared, else the TAC's names */
	bool		model_declared;
	const char *tac_brand;		/* the TAC table's, NULL if unknown */
	const char *tac_model;
	Method		method;
	bool		entered;		/* the approval enters it if new */
	bool		has_import_date;
	DateADT		import_date;
	bool		has_first_seen;
	DateADT		first_seen_on;	/* its first connection's local date */
	bool		has_other;
	int64		other_application;	/* the approved one that made it white */
} ImeiFacts;

extern void device_rules(Reasons *r, const DeviceFacts *f);
extern void imei_rules(Reasons *r, const ImeiFacts *f);

#endif
