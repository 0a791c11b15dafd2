/*
 * rules.h
 *		The registry's rules: the one table of allowed changes of status,
 *		and the one place that answers "may this IMEI go from A to B by R".
 *
 * The transition trigger enforces it (transitions.c), the loaders consult
 * it (bulk.c), the application rules consult it (documents.c), and SQL
 * asks imei_registry.transition_allowed(); imei_registry.transition_rules()
 * shows it.  The table is keyed by the codes the extension ships (base
 * codes); a code a site adds to imei_registry.reasons names the base code
 * whose transitions it takes (reasons.base).
 */
#ifndef IMEI_REGISTRY_RULES_H
#define IMEI_REGISTRY_RULES_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/date.h"

#include "imei.h"

/* SQLSTATE of a change the rules forbid */
#define ERRCODE_IR_TRANSITION_FORBIDDEN MAKE_SQLSTATE('I','R','0','0','1')

typedef enum RegStatus
{
	ST_NONE = -1,				/* no row yet: the IMEI is new */
	ST_WHITE,
	ST_GREY,
	ST_BLACK
} RegStatus;

#define REG_NSTATUS 3
extern const char *const reg_status_names[REG_NSTATUS];

/*
 * Named checks that an entry of the table may carry, each evaluated in one
 * place (rules_check).  A row condition needs only the row and the change;
 * a trigger condition needs what only the transition trigger has: the
 * cause of the change (its note, ...), the row's dates, the applications
 * that hold it.  A new condition is a bit here, its name
 * in condition_names[], its test in condition_holds() and its refusal in
 * rules_enforce() (rules.c); what it needs to know goes into RuleChange.
 */
typedef enum RuleCondition
{
	RULE_BLACK_FOR_GREY_EXPIRED = 1 << 0,	/* row: black only for an expired grey period */
	RULE_NOTE = 1 << 1,			/* cause: a note with visible text, the written reason */
	RULE_IMPORT = 1 << 2,		/* cause: import_id, an importer's registration */
	RULE_APPLICATION = 1 << 3,	/* cause: application_id, approved in this
								 * transaction, listing the IMEI */
	RULE_PERIOD_OVER = 1 << 4,	/* dates: the Almaty date is past grey_last_day */
	RULE_NOT_HELD = 1 << 5,		/* no pending application holds the IMEI */
	RULE_CONNECTED_BEFORE_RULES = 1 << 6,	/* first_seen_at before rules_start */
	RULE_CONNECTED_SINCE_RULES = 1 << 7,	/* first_seen_at from rules_start on */
	RULE_HISTORY_ONLY = 1 << 8, /* the row keeps its reason; only history names it */
	RULE_COMMERCIAL_IMPORT = 1 << 9,	/* cause: that application is a
										 * commercial import with a goods
										 * declaration */
	RULE_BOARD_REPLACEMENT = 1 << 10	/* cause: that application is a board
										 * replacement (the IMEI its new one) */
} RuleCondition;

/*
 * RULE_IMPORT, RULE_APPLICATION and what they say of the application
 * (RULE_COMMERCIAL_IMPORT, RULE_BOARD_REPLACEMENT, each only with
 * RULE_APPLICATION) need a look-up in the database, which the trigger makes
 * (check_cause() in transitions.c) for the entry that rules_enforce()
 * returned; rules_check() leaves them to it.  All of these are the
 * trigger's (with_cause): they need the cause or the row's dates.
 */
#define RULE_LOOKUP_CONDITIONS	(RULE_IMPORT | RULE_APPLICATION | \
								 RULE_COMMERCIAL_IMPORT | RULE_BOARD_REPLACEMENT)
#define RULE_CAUSE_CONDITIONS	(RULE_NOTE | RULE_LOOKUP_CONDITIONS | \
								 RULE_PERIOD_OVER | RULE_NOT_HELD | \
								 RULE_CONNECTED_BEFORE_RULES | \
								 RULE_CONNECTED_SINCE_RULES | RULE_HISTORY_ONLY)

typedef struct TransitionRule
{
	RegStatus	from;
	RegStatus	to;
	const char *reason;			/* a base code */
	uint32		conditions;		/* RuleCondition bits, all must hold */
} TransitionRule;

/* One change, as the rules see it. */
typedef struct RuleChange
{
	RegStatus	from;			/* ST_NONE: a new IMEI */
	const char *from_reason;	/* the row's code (NULL for a new IMEI) */
	const char *from_base;		/* its base code */
	RegStatus	to;
	const char *reason;			/* the new code as written, NULL if none */
	const char *base;			/* its base code, NULL if it is no code */
	const char *note;			/* the note as it will be stored */
	bool		with_cause;		/* evaluate trigger conditions (the trigger) */
	/* what the trigger conditions need besides the cause */
	Imei		imei;
	bool		history_only;	/* the row keeps its reason (earlier_connection) */
	bool		has_first_seen;
	TimestampTz first_seen_at;	/* the row's earliest connection, as stored */
	bool		has_grey_last_day;
	DateADT		grey_last_day;	/* the old row's last day of grey */
} RuleChange;

typedef enum RuleVerdict
{
	RULE_ALLOWED,
	RULE_NO_REASON,				/* no reason, or the one of the old status */
	RULE_NO_ENTRY,				/* no entry from, to, by this base code */
	RULE_CONDITION_FAILS		/* an entry, but a condition of it fails */
} RuleVerdict;

/* the status of a value of imei_registry.status */
extern RegStatus rules_status_of(Oid enumval);

/* base codes: the codes the table is keyed by, which the extension ships */
extern bool rules_is_base(const char *code);
extern RegStatus rules_base_status(const char *base);

/*
 * The base code of a reason code: a shipped code is its own; a site's code
 * has the base it was inserted with (imei_registry.reasons.base).  NULL if
 * the code is neither.
 */
extern const char *rules_reason_base(const char *code);

/* Is there an entry from, to, by this base code? */
extern const TransitionRule *rules_entry(RegStatus from, RegStatus to,
										 const char *base);

/* Is there an entry to this status by this base code (from anywhere)? */
extern bool rules_leads_to(const char *base, RegStatus to);

extern RuleVerdict rules_check(const RuleChange *change,
							   const TransitionRule **entry, uint32 *failed);

/* rules_check() == RULE_ALLOWED */
extern bool rules_allow(const RuleChange *change);

/*
 * May a row that is `from` for from_reason (ST_NONE, NULL: a new IMEI)
 * become `to` by reason?  Codes of a site are taken by their base; the
 * conditions on the cause of the change are left to the trigger.  What
 * imei_registry.transition_allowed() answers.
 */
extern bool rules_allows_change(RegStatus from, const char *from_reason,
								RegStatus to, const char *reason);

/* "white", "grey", "black" as a status; ST_NONE for NULL or anything else */
extern RegStatus rules_status_named(const char *name);

/* Is a connection before imei_registry.rules_start (grandfathered)? */
extern bool rules_before_start(TimestampTz connected_at);

/*
 * The entry by which a device first connected at that moment enters the
 * registry: the one from no row whose condition is the time of connection
 * (grey unverified since rules_start, white grandfathered before).
 */
extern const TransitionRule *rules_first_connection(TimestampTz connected_at);

/*
 * Does a submitted, undecided application hold this grey IMEI?  It holds
 * when it was submitted by the last day of the period, through the local
 * date of submission plus imei_registry.application_hold_days.
 */
extern bool rules_application_holds(Imei imei, DateADT grey_last_day);

/* Returns if the change is allowed; else the IR001 error that says why. */
extern void rules_enforce(Imei imei, const RuleChange *change);

#endif							/* IMEI_REGISTRY_RULES_H */
