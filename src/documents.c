/*
 * documents.c
 *		The rules of an application for verification of lawful import.
 *
 * Every rule of the registration rules lives here, as pure functions of the
 * facts of one application: its applicant and documents, each device, each
 * IMEI (with its registry status and TAC-table entry), each board
 * replacement.  decide_application() asks them for the applicant and the
 * replacements (SQL), and decision_facts() (decision_facts.c) applies the
 * device and IMEI rules, device_rules() and imei_rules(), to each of them.
 *
 * Each SQL function returns a jsonb array of reasons (NULL for none), {"code", "message"} and,
 * for a reason about one IMEI, "imei" as the applicant typed it.  Codes are
 * stable (a contract for clients); messages are sentences for applicants.
 */
#include "compat.h"

#include <ctype.h>

#include "documents.h"
#include "imei_parse.h"
#include "kzid_parse.h"
#include "rules.h"
#include "vocabulary.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"

void
reasons_init(Reasons *r)
{
	initStringInfo(&r->buf);
	appendStringInfoChar(&r->buf, '[');
	r->count = 0;
}

/* Append one reason; message is a finished sentence. */
static void
add_reason(Reasons *r, const char *code, const char *imei, const char *message)
{
	if (r->count++ > 0)
		appendStringInfoChar(&r->buf, ',');
	appendStringInfoString(&r->buf, "{\"code\":");
	escape_json(&r->buf, code);
	appendStringInfoString(&r->buf, ",\"message\":");
	escape_json(&r->buf, message);
	if (imei)
	{
		appendStringInfoString(&r->buf, ",\"imei\":");
		escape_json(&r->buf, imei);
	}
	appendStringInfoChar(&r->buf, '}');
}

Datum
reasons_jsonb(Reasons *r)
{
	Assert(r->count > 0);
	appendStringInfoChar(&r->buf, ']');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(r->buf.data));
}

/* The reasons as a jsonb array, or SQL NULL when there are none. */
static Datum
reasons_finish(FunctionCallInfo fcinfo, Reasons *r)
{
	if (r->count == 0)
		PG_RETURN_NULL();
	return reasons_jsonb(r);
}

/* A nullable text argument as a C string, NULL if SQL NULL. */
static char *
arg_cstring(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* A text argument the rule cannot do without. */
static char *
required_cstring(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument %s must not be null", name));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

static int32
required_int32(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument %s must not be null", name));
	return PG_GETARG_INT32(n);
}

static bool
streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* A date as the applicant writes it, YYYY-MM-DD, whatever the DateStyle. */
static char *
iso_date(DateADT d)
{
	int			y;
	int			m;
	int			day;

	if (DATE_NOT_FINITE(d))
		return pstrdup(DATE_IS_NOBEGIN(d) ? "-infinity" : "infinity");
	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
	return psprintf("%04d-%02d-%02d", y, m, day);
}

/* Empty or only blanks: a value not given. */
static bool
blank(const char *s)
{
	if (s == NULL)
		return true;
	for (; *s; s++)
		if (!isspace((unsigned char) *s))
			return false;
	return true;
}

/*
 * The number an IIN or BIN as typed stands for (blanks around it ignored,
 * as the types do); false if it is neither.
 */
static bool
kzid_value(const char *id, uint64 *value)
{
	KzidParse	p;

	if (id == NULL)
		return false;
	if (kzid_parse(id, strlen(id), KZID_IIN, &p) != KZID_OK &&
		kzid_parse(id, strlen(id), KZID_BIN, &p) != KZID_OK)
		return false;
	*value = p.value;
	return true;
}

/*
 * Do two identifiers as typed name the same IIN/BIN?  Compared as values:
 * " 901123300258" is 901123300258.  Text that is neither is compared as
 * typed.
 */
static bool
same_kzid(const char *a, const char *b)
{
	uint64		va;
	uint64		vb;

	if (kzid_value(a, &va) && kzid_value(b, &vb))
		return va == vb;
	return streq(a, b);
}

/*
 * A model name for comparison, of one or two parts: lower case, without
 * white space, into buf when it fits (the decision compares one for each
 * IMEI), else allocated.
 */
static char *
model_key(const char *first, const char *second, char *buf, size_t size)
{
	size_t		len = strlen(first) + (second ? strlen(second) : 0);
	char	   *out = len < size ? buf : palloc(len + 1);
	char	   *o = out;
	const char *part;
	int			n;

	for (n = 0, part = first; n < 2 && part; n++, part = second)
		for (; *part; part++)
		{
			unsigned char c = (unsigned char) *part;

			if (isspace(c))
				continue;
			*o++ = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') :
				IS_HIGHBIT_SET(c) ? pg_tolower(c) : c;
		}
	*o = '\0';
	return out;
}

/*
 * Does the TAC table's brand + model agree with a model?  A declared model
 * agrees when the TAC's brand and model contain it ("Duo", "Acme Duo" and
 * "acme  duo" are all Acme's "Duo"); the model of a device's other IMEIs
 * (itself brand + model from the TAC table) must be the same.  Case and
 * spacing are ignored.
 */
static bool
model_agrees(const char *tac_brand, const char *tac_model,
			 const char *expected, bool declared)
{
	char		tac_buf[128];
	char		want_buf[128];
	char	   *tac = model_key(tac_brand ? tac_brand : "", tac_model,
								tac_buf, sizeof(tac_buf));
	char	   *want = model_key(expected, NULL, want_buf, sizeof(want_buf));

	return declared ? strstr(tac, want) != NULL : strcmp(tac, want) == 0;
}

/* ---- applicants ---- */

/*
 * Individuals and sole proprietors are identified by an IIN, legal entities
 * and service centres by a BIN.
 */
static void
check_applicant(Reasons *r, ApplicantKind kind, const char *id)
{
	KzidParse	p;
	bool		wants_iin = applicant_has_iin(kind);
	KzidKind	wanted = wants_iin ? KZID_IIN : KZID_BIN;
	KzidKind	other = wants_iin ? KZID_BIN : KZID_IIN;

	if (kzid_parse(id, strlen(id), wanted, &p) == KZID_OK)
		return;
	if (kzid_parse(id, strlen(id), other, &p) == KZID_OK)
	{
		add_reason(r, "applicant_kind_mismatch", NULL,
				   psprintf("An applicant of kind %s is identified by %s, but \"%s\" is %s.",
							applicant_kinds[kind],
							wants_iin ? "an IIN" : "a BIN", id,
							wants_iin ? "a BIN" : "an IIN"));
		return;
	}
	(void) kzid_parse(id, strlen(id), wanted, &p);
	add_reason(r, "applicant_id_invalid", NULL,
			   p.status == KZID_BAD_CHECK_DIGIT ?
			   psprintf("The applicant's identifier \"%s\" is not a valid %s: its check digit should be %d.",
						id, wants_iin ? "IIN" : "BIN", p.check_expected) :
			   psprintf("The applicant's identifier \"%s\" is not a valid %s (12 digits with a check digit).",
						id, wants_iin ? "IIN" : "BIN"));
}

/* ---- methods and documents ---- */

#define DOC_BIT(t)	(1u << (t))

/* The documents that are evidence for each way a device arrives. */
#define EVIDENCE_BAGGAGE	(DOC_BIT(DOC_BORDER_CROSSING_CERTIFICATE) | \
							 DOC_BIT(DOC_PASSENGER_CUSTOMS_DECLARATION))
#define EVIDENCE_PARCEL		(DOC_BIT(DOC_PASSENGER_CUSTOMS_DECLARATION) | \
							 DOC_BIT(DOC_TRACKING_NUMBER))

/* A warranty card, ...: the reason code warranty_card_not_evidence, ... */
static void
check_never_evidence(Reasons *r, DocType type, int docno)
{
	char	   *what;
	char	   *c;

	if (!doc_never_evidence(type))
		return;
	what = psprintf("a %s", doc_types[type]);
	for (c = what; *c; c++)
		if (*c == '_')
			*c = ' ';
	add_reason(r, psprintf("%s_not_evidence", doc_types[type]), NULL,
			   psprintf("Document %d is %s, which never proves lawful import: attach a document of the import itself.",
						docno, what));
}

/* "a border_crossing_certificate or a passenger_customs_declaration" */
static char *
describe_evidence(uint32 evidence)
{
	StringInfoData buf;
	int			t;
	bool		first = true;

	initStringInfo(&buf);
	for (t = 0; t < N_DOC_TYPES; t++)
	{
		if (!(evidence & DOC_BIT(t)) || doc_never_evidence((DocType) t))
			continue;
		appendStringInfo(&buf, "%s%s", first ? "a " : " or a ", doc_types[t]);
		first = false;
	}
	return buf.data;
}

/*
 * application_reasons(kind, applicant_id, method, import_date,
 *		exporting_country, delivery_service, doc_types text[],
 *		doc_holders text[], doc_numbers text[], n_devices, n_replacements,
 *		service_centre_authorised, submitted_on date) -> jsonb
 *
 * The rules on the applicant, the method and the documents.  A document is
 * evidence only with its number; identifiers are compared as IIN/BIN
 * values; the import date is not after the (local) date of submission; the
 * exporting country is an assigned ISO 3166-1 code other than Kazakhstan.
 */
PG_FUNCTION_INFO_V1(application_reasons);
Datum
application_reasons(PG_FUNCTION_ARGS)
{
	ApplicantKind kind = vocabulary_lookup(applicant_kinds, required_cstring(fcinfo, 0, "applicant_kind"));
	char	   *applicant_id = required_cstring(fcinfo, 1, "applicant_id");
	Method		method = vocabulary_lookup(methods, required_cstring(fcinfo, 2, "method"));
	bool		has_import_date = !PG_ARGISNULL(3);
	bool		has_country = !PG_ARGISNULL(4);
	bool		has_delivery = !PG_ARGISNULL(5);
	char	   *country = arg_cstring(fcinfo, 4);
	int			n_devices = PG_ARGISNULL(9) ? 0 : PG_GETARG_INT32(9);
	int			n_replacements = PG_ARGISNULL(10) ? 0 : PG_GETARG_INT32(10);
	bool		authorised = !PG_ARGISNULL(11) && PG_GETARG_BOOL(11);
	Datum	   *types = NULL;
	Datum	   *holders = NULL;
	bool	   *holder_nulls = NULL;
	Datum	   *numbers = NULL;
	bool	   *number_nulls = NULL;
	int			ndocs = 0;
	int			nholders = 0;
	int			nnumbers = 0;
	uint32		present = 0;
	uint32		evidence = 0;
	bool		needs_date = false;
	bool		needs_country = false;
	bool		needs_delivery = false;
	bool		holder_required = (method == METHOD_GIFT);
	Reasons		r;
	int			i;

	reasons_init(&r);
	if (!PG_ARGISNULL(6))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(6), TEXTOID, -1, false,
						  TYPALIGN_INT, &types, NULL, &ndocs);
	if (!PG_ARGISNULL(7))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(7), TEXTOID, -1, false,
						  TYPALIGN_INT, &holders, &holder_nulls, &nholders);
	if (!PG_ARGISNULL(8))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(8), TEXTOID, -1, false,
						  TYPALIGN_INT, &numbers, &number_nulls, &nnumbers);
	if (nholders != ndocs || nnumbers != ndocs)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("document types, holders and numbers differ in number (%d, %d and %d)",
					   ndocs, nholders, nnumbers));
	for (i = 0; i < ndocs; i++)
		present |= DOC_BIT(vocabulary_lookup(doc_types, TextDatumGetCString(types[i])));

	check_applicant(&r, kind, applicant_id);

	switch (method)
	{
		case METHOD_ACCOMPANIED_BAGGAGE:
			needs_date = needs_country = true;
			evidence = EVIDENCE_BAGGAGE;
			break;
		case METHOD_PARCEL:
			needs_delivery = needs_country = true;
			evidence = EVIDENCE_PARCEL;
			break;
		case METHOD_GIFT:
			/* as its way of arrival: a parcel if anything says so */
			if (has_delivery || (present & DOC_BIT(DOC_TRACKING_NUMBER)))
			{
				needs_delivery = needs_country = true;
				evidence = EVIDENCE_PARCEL;
			}
			else
			{
				needs_date = needs_country = true;
				evidence = EVIDENCE_BAGGAGE;
			}
			break;
		case METHOD_OFFICIAL_RETAILER:
		case METHOD_ADDITIONAL_IMEI:
			break;				/* no documents: the importer verifies */
		case METHOD_COMMERCIAL_IMPORT:
			if (!applicant_is_business(kind))
				add_reason(&r, "commercial_import_not_business", NULL,
						   "Commercial import is for sole proprietors, legal entities and service centres; an individual applies with the way the device arrived.");
			evidence = DOC_BIT(DOC_GOODS_DECLARATION);
			break;
		case METHOD_BOARD_REPLACEMENT:
			if (kind != APPLICANT_SERVICE_CENTRE)
				add_reason(&r, "board_replacement_not_service_centre", NULL,
						   psprintf("Only an authorised service centre applies for a board replacement; the applicant is of kind %s.",
									applicant_kinds[kind]));
			else if (!authorised)
				add_reason(&r, "service_centre_not_authorised", NULL,
						   psprintf("Service centre %s is not an authorised service centre on the date of submission: only a service centre the registry lists replaces a board and its IMEI.",
									applicant_id));
			if (n_replacements == 0)
				add_reason(&r, "missing_replacements", NULL,
						   "A board replacement lists each old IMEI and the new IMEI that replaces it; none was given.");
			evidence = DOC_BIT(DOC_SERVICE_ORDER);
			break;
	}

	if (needs_date && !has_import_date)
		add_reason(&r, "missing_import_date", NULL,
				   psprintf("Method %s needs the date of import.", methods[method]));
	if (needs_country && !has_country)
		add_reason(&r, "missing_exporting_country", NULL,
				   psprintf("Method %s needs the exporting country.", methods[method]));
	if (needs_delivery && !has_delivery)
		add_reason(&r, "missing_delivery_service", NULL,
				   psprintf("Method %s needs the delivery service.", methods[method]));
	if (has_import_date && !PG_ARGISNULL(12) &&
		PG_GETARG_DATEADT(3) > PG_GETARG_DATEADT(12))
		add_reason(&r, "import_date_in_future", NULL,
				   psprintf("The import date %s is after the date of the application: a device is applied for once it has been imported.",
							iso_date(PG_GETARG_DATEADT(3))));
	if (has_country && (!country_is_assigned(country) || streq(country, home_country)))
		add_reason(&r, "exporting_country_invalid", NULL,
				   streq(country, home_country) ?
				   psprintf("The exporting country is %s, Kazakhstan itself: give the country the device was imported from.",
							country) :
				   psprintf("The exporting country \"%s\" is not an ISO 3166-1 country code: give the two-letter code of the country the device was imported from, such as CN.",
							country));
	/* an evidence document without its number proves nothing: said below */
	if (evidence && !(present & evidence))
		add_reason(&r, "missing_evidence", NULL,
				   psprintf("Method %s needs %s as evidence of import; %s.",
							methods[method], describe_evidence(evidence),
							ndocs == 0 ? "no document was given" :
							"none of the documents given is one"));

	for (i = 0; i < ndocs; i++)
	{
		DocType		type = vocabulary_lookup(doc_types, TextDatumGetCString(types[i]));
		char	   *holder = holder_nulls[i] ? NULL :
			TextDatumGetCString(holders[i]);

		check_never_evidence(&r, type, i + 1);
		if ((evidence & DOC_BIT(type)) &&
			(number_nulls[i] || blank(TextDatumGetCString(numbers[i]))))
			add_reason(&r, "document_without_number", NULL,
					   psprintf("Document %d (%s) has no number, so it cannot be checked and proves nothing: give the number printed on it.",
								i + 1, doc_types[type]));
		if (holder && !same_kzid(holder, applicant_id))
			add_reason(&r, "holder_mismatch", NULL,
					   psprintf("Document %d (%s) is issued to %s, not to the applicant %s: the applicant must be the person named on the import document.",
								i + 1, doc_types[type], holder, applicant_id));
		else if (!holder && holder_required && (evidence & DOC_BIT(type)))
			add_reason(&r, "holder_missing", NULL,
					   psprintf("Document %d (%s) names no holder: for a gift, the import document must be issued to the applicant.",
								i + 1, doc_types[type]));
	}

	if (n_devices == 0)
		add_reason(&r, "no_devices", NULL, "The application lists no device.");

	return reasons_finish(fcinfo, &r);
}

/*
 * application_device_reasons(device_no, model, n_imeis, sim_slots, n_white,
 *		method, linked_devices, device_imeis, adding, device_slots, verified)
 *		-> jsonb
 *
 * A device lists all its IMEIs: when the TAC table knows it, as many as it
 * has SIM slots (eSIM included).  For method additional_imei one of them
 * must already be white, and the device it belongs to must be recorded
 * (one device), have room for the IMEIs added (its SIM slots), and have
 * been verified by this applicant, by its importer's registration or by
 * grandfathering: else additional_imei_not_linked.
 */
void
device_rules(Reasons *r, const DeviceFacts *f)
{
	char	   *name = f->model ? psprintf("Device %d (%s)", f->device_no, f->model) :
		psprintf("Device %d", f->device_no);

	if (f->n_imeis == 0)
		add_reason(r, "device_without_imeis", NULL,
				   psprintf("%s lists no IMEI.", name));
	else if (f->slots_known && f->n_imeis < f->sim_slots)
		add_reason(r, "missing_imeis", NULL,
				   psprintf("%s has %d SIM slots (eSIM included) but %d IMEI%s given: declare every IMEI of a multi-SIM device.",
							name, f->sim_slots, f->n_imeis, f->n_imeis == 1 ? " was" : "s were"));
	else if (f->slots_known && f->n_imeis > f->sim_slots)
		add_reason(r, "too_many_imeis", NULL,
				   psprintf("%s has %d SIM slot%s (eSIM included) but %d IMEIs were given.",
							name, f->sim_slots, f->sim_slots == 1 ? "" : "s", f->n_imeis));
	else if (!f->slots_known && f->method != METHOD_ADDITIONAL_IMEI)
		add_reason(r, "sim_slots_unchecked", NULL,
				   psprintf("%s: its SIM slots could not be checked, as the TAC table does not know the device; a multi-SIM device (eSIM included) must list every IMEI.",
							name));
	if (f->method == METHOD_ADDITIONAL_IMEI && f->n_imeis > 0 && f->n_white == 0)
		add_reason(r, "no_verified_imei", NULL,
				   psprintf("%s has no IMEI on the white list: method additional_imei is for a device already verified through another IMEI.",
							name));
	else if (f->method == METHOD_ADDITIONAL_IMEI && f->n_imeis > 0)
	{
		if (f->linked_devices != 1)
			add_reason(r, "additional_imei_not_linked", NULL,
					   f->linked_devices == 0 ?
					   psprintf("%s: its IMEI on the white list belongs to no recorded device, so no IMEI can be linked to it without documents; apply with the documents of the import.",
								name) :
					   psprintf("%s: its IMEIs on the white list belong to %d different devices.",
								name, f->linked_devices));
		else if (!f->verified)
			add_reason(r, "additional_imei_not_linked", NULL,
					   psprintf("%s was verified by another applicant: an IMEI is added without documents only by the applicant who verified the device, or to a device its importer registered.",
								name));
		else if (f->adding > 0 && f->device_slots_known &&
				 f->device_imeis + f->adding > f->device_slots)
			add_reason(r, "additional_imei_not_linked", NULL,
					   psprintf("%s already has %d of its %d IMEIs (SIM slots, eSIM included) in the register: %d more cannot be linked to it.",
								name, f->device_imeis, f->device_slots, f->adding));
	}
}

PG_FUNCTION_INFO_V1(application_device_reasons);
Datum
application_device_reasons(PG_FUNCTION_ARGS)
{
	DeviceFacts f;
	Reasons		r;

	f.device_no = required_int32(fcinfo, 0, "device_ord");
	f.model = arg_cstring(fcinfo, 1);
	f.n_imeis = required_int32(fcinfo, 2, "n_imeis");
	f.slots_known = !PG_ARGISNULL(3);
	f.sim_slots = f.slots_known ? PG_GETARG_INT32(3) : 0;
	f.n_white = required_int32(fcinfo, 4, "n_white");
	f.method = vocabulary_lookup(methods, required_cstring(fcinfo, 5, "method"));
	f.linked_devices = PG_ARGISNULL(6) ? 0 : PG_GETARG_INT32(6);
	f.device_imeis = PG_ARGISNULL(7) ? 0 : PG_GETARG_INT32(7);
	f.adding = PG_ARGISNULL(8) ? 0 : PG_GETARG_INT32(8);
	f.device_slots_known = !PG_ARGISNULL(9);
	f.device_slots = f.device_slots_known ? PG_GETARG_INT32(9) : 0;
	f.verified = !PG_ARGISNULL(10) && PG_GETARG_BOOL(10);
	reasons_init(&r);
	device_rules(&r, &f);
	return reasons_finish(fcinfo, &r);
}

/* Why an IMEI as typed is not one; NULL if it is. */
static char *
imei_problem(const char *typed)
{
	ImeiParse	p;

	switch (imei_parse(typed, strlen(typed), IMEI_DIGITS, &p))
	{
		case IMEI_PARSE_OK:
			return NULL;
		case IMEI_PARSE_BAD_LENGTH:
			return psprintf("an IMEI has 15 digits, this has %d", p.ndigits);
		case IMEI_PARSE_BAD_CHECK_DIGIT:
			return psprintf("its check digit should be %d, not %d (a typo?)",
							p.check_expected, p.check_found);
		case IMEI_PARSE_BAD_CHAR:
		case IMEI_PARSE_BAD_HYPHEN:
		case IMEI_PARSE_BAD_GROUPING:
			break;
	}
	return pstrdup("an IMEI is 15 digits");
}

/*
 * application_imei_reasons(imei_text, duplicate, status, status_reason,
 *		expected_model, model_declared, tac_brand, tac_model, method, entered,
 *		import_date, first_seen_on, other_application) -> jsonb
 *
 * One IMEI as typed: valid, listed once, eligible (not black for a cause an
 * application cannot lift: the registry's rules, rules.c), of the device's
 * model (model_agrees), not imported after it was first seen in a network
 * in Kazakhstan (first_seen_on, its local date), and not proven by another
 * application already (other_application: the approved application that
 * made it white; the first application to prove an IMEI wins, the others
 * are rejected).  A board replacement makes white only the new IMEIs of
 * its replacements (entered; the transition trigger's cause for
 * application_approved): another IMEI of its devices in the register is
 * imei_not_replaced.  Already white, or not yet in the register (an eSIM never used,
 * say) while the approval would not enter it (entered: a commercial
 * import's, a board replacement's new IMEI), is said but not held against
 * the application: these two codes are notices.  A purchase from an
 * official retailer is the importer's word: the importer registered the
 * device, so it is white; any other is not_registered_by_importer.
 */
void
imei_rules(Reasons *r, const ImeiFacts *f)
{
	char	   *problem = imei_problem(f->typed);

	if (problem)
	{
		add_reason(r, "imei_invalid", f->typed,
				   psprintf("\"%s\" is not a valid IMEI: %s. Check it with *#06# and on the packaging.",
							f->typed, problem));
		return;
	}
	if (f->duplicate)
	{
		add_reason(r, "imei_duplicate", f->typed,
				   psprintf("IMEI %s is listed more than once.", f->typed));
		return;
	}
	if (f->status && !streq(f->status, "white") &&
		!rules_allows_change(rules_status_named(f->status), f->status_reason,
							 ST_WHITE, "application_approved"))
		add_reason(r, "imei_not_eligible", f->typed,
				   psprintf("IMEI %s is on the %s list (%s): an application cannot lift that, only a registry decision.",
							f->typed, f->status, f->status_reason ? f->status_reason : "unknown reason"));
	else if (streq(f->status, "white") && f->has_other &&
			 (streq(rules_reason_base(f->status_reason), "application_approved") ||
			  (streq(rules_reason_base(f->status_reason), "lawful_import") &&
			   f->method == METHOD_COMMERCIAL_IMPORT)) &&
			 f->method != METHOD_ADDITIONAL_IMEI)
		add_reason(r, "imei_in_other_application", f->typed,
				   psprintf("IMEI %s was proven by application %lld, which was approved first: an IMEI is verified once, by the first application that proves it.",
							f->typed, (long long) f->other_application));
	else if (streq(f->status, "white") && f->method != METHOD_ADDITIONAL_IMEI)
		add_reason(r, "imei_already_white", f->typed,
				   streq(rules_reason_base(f->status_reason), "lawful_import") ?
				   psprintf("IMEI %s was registered by its importer and is already on the white list: it needs no verification.",
							f->typed) :
				   psprintf("IMEI %s is already on the white list and needs no verification.",
							f->typed));
	else if (f->method == METHOD_BOARD_REPLACEMENT && f->status && !f->entered)
		add_reason(r, "imei_not_replaced", f->typed,
				   psprintf("IMEI %s is %s and the new IMEI of no replacement: a board replacement verifies only the new IMEIs of its replacements. Apply for it by the method of its import, or name the old IMEI it replaces.",
							f->typed, f->status));
	else if (f->method == METHOD_OFFICIAL_RETAILER)
		add_reason(r, "not_registered_by_importer", f->typed,
				   psprintf("IMEI %s has not been registered by an importer, so it was not sold by an official retailer: ask the seller to have the importer register the device, or apply with the documents of how it was imported.",
							f->typed));
	else if (!f->status && !f->entered)
		add_reason(r, "imei_not_in_register", f->typed,
				   psprintf("IMEI %s has not been seen in a network yet, so there is nothing to verify now; once it connects, apply for it (method additional_imei when another IMEI of the device is verified).",
							f->typed));
	if (f->has_import_date && f->has_first_seen &&
		f->import_date > f->first_seen_on)
		add_reason(r, "import_after_first_connection", f->typed,
				   psprintf("IMEI %s was first seen in a network in Kazakhstan on %s, before the import date %s: a device is imported before it connects here.",
							f->typed,
							iso_date(f->first_seen_on), iso_date(f->import_date)));
	if (f->tac_model && f->expected_model &&
		!model_agrees(f->tac_brand, f->tac_model, f->expected_model, f->model_declared))
		add_reason(r, "model_mismatch", f->typed,
				   psprintf("IMEI %s belongs to model \"%s%s%s\" by the TAC table, not to %s \"%s\".",
							f->typed, f->tac_brand ? f->tac_brand : "", f->tac_brand ? " " : "",
							f->tac_model,
							f->model_declared ? "the declared model" :
							"the model of the device's other IMEIs",
							f->expected_model));
	else if (!f->tac_model && f->method == METHOD_ADDITIONAL_IMEI)
		add_reason(r, "tac_unknown", f->typed,
				   psprintf("The TAC of IMEI %s is not in the TAC table, so it cannot be shown to belong to the verified device.",
							f->typed));
}

PG_FUNCTION_INFO_V1(application_imei_reasons);
Datum
application_imei_reasons(PG_FUNCTION_ARGS)
{
	ImeiFacts	f;
	Reasons		r;

	f.typed = required_cstring(fcinfo, 0, "imei_text");
	f.duplicate = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	f.status = arg_cstring(fcinfo, 2);
	f.status_reason = arg_cstring(fcinfo, 3);
	f.expected_model = arg_cstring(fcinfo, 4);
	f.model_declared = !PG_ARGISNULL(5) && PG_GETARG_BOOL(5);
	f.tac_brand = arg_cstring(fcinfo, 6);
	f.tac_model = arg_cstring(fcinfo, 7);
	f.method = vocabulary_lookup(methods, required_cstring(fcinfo, 8, "method"));
	f.entered = !PG_ARGISNULL(9) && PG_GETARG_BOOL(9);
	f.has_import_date = !PG_ARGISNULL(10);
	f.import_date = f.has_import_date ? PG_GETARG_DATEADT(10) : 0;
	f.has_first_seen = !PG_ARGISNULL(11);
	f.first_seen_on = f.has_first_seen ? PG_GETARG_DATEADT(11) : 0;
	f.has_other = !PG_ARGISNULL(12);
	f.other_application = f.has_other ? PG_GETARG_INT64(12) : 0;
	reasons_init(&r);
	imei_rules(&r, &f);
	return reasons_finish(fcinfo, &r);
}

/*
 * application_replacement_reasons(replacement_no, old_text, new_text,
 *		old_status, new_declared, old_duplicate) -> jsonb
 *
 * A board replacement turns a lawful (white) device's old IMEI into the
 * new one, which must be among the devices' IMEIs.  Each old IMEI is
 * replaced once: old_duplicate says an earlier replacement has it.
 */
PG_FUNCTION_INFO_V1(application_replacement_reasons);
Datum
application_replacement_reasons(PG_FUNCTION_ARGS)
{
	int			no = required_int32(fcinfo, 0, "replacement_ord");
	char	   *old_typed = required_cstring(fcinfo, 1, "old_imei_text");
	char	   *new_typed = required_cstring(fcinfo, 2, "new_imei_text");
	char	   *old_status = arg_cstring(fcinfo, 3);
	bool		new_declared = !PG_ARGISNULL(4) && PG_GETARG_BOOL(4);
	bool		old_duplicate = !PG_ARGISNULL(5) && PG_GETARG_BOOL(5);
	char	   *problem;
	Reasons		r;

	reasons_init(&r);
	if ((problem = imei_problem(old_typed)) != NULL)
		add_reason(&r, "imei_invalid", old_typed,
				   psprintf("Old IMEI \"%s\" of replacement %d is not a valid IMEI: %s.",
							old_typed, no, problem));
	else if (old_duplicate)
		add_reason(&r, "replacement_duplicate", old_typed,
				   psprintf("Old IMEI %s of replacement %d is already the old IMEI of an earlier replacement: each old IMEI is replaced once.",
							old_typed, no));
	else if (!streq(old_status, "white"))
		add_reason(&r, "replaced_imei_not_white", old_typed,
				   old_status ?
				   psprintf("Old IMEI %s of replacement %d is %s, not white: only a lawful device's board is replaced.",
							old_typed, no, old_status) :
				   psprintf("Old IMEI %s of replacement %d is not in the register: only a lawful device's board is replaced.",
							old_typed, no));
	if ((problem = imei_problem(new_typed)) != NULL)
		add_reason(&r, "imei_invalid", new_typed,
				   psprintf("New IMEI \"%s\" of replacement %d is not a valid IMEI: %s.",
							new_typed, no, problem));
	else if (!new_declared)
		add_reason(&r, "replacement_not_declared", new_typed,
				   psprintf("New IMEI %s of replacement %d is not among the IMEIs of the devices.",
							new_typed, no));
	return reasons_finish(fcinfo, &r);
}
