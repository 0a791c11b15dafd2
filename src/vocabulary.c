/*
 * vocabulary.c
 *		The words of an application (applicant kinds, methods, document
 *		types, the types that are never evidence, the reasons that are
 *		notices, the countries) and the fee rule, and the SQL functions
 *		through which the tables' constraints, submit_application() and
 *		decide_application() read them.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "vocabulary.h"

const char *const applicant_kinds[] = {
	"individual", "sole_proprietor", "legal_entity", "service_centre", NULL
};

const char *const methods[] = {
	"accompanied_baggage", "parcel", "gift", "official_retailer",
	"commercial_import", "board_replacement", "additional_imei", NULL
};

const char *const doc_types[] = {
	"border_crossing_certificate", "passenger_customs_declaration",
	"tracking_number", "goods_declaration", "service_order",
	"warranty_card", "cash_receipt", "photo", NULL
};

StaticAssertDecl(lengthof(doc_types) == N_DOC_TYPES + 1,
				 "doc_types must name every DocType");

/*
 * The reasons of a decision that inform but do not reject.  Every other
 * reason code (documents.c) rejects.
 */
const char *const notices[] = {
	"imei_already_white", "imei_not_in_register", "sim_slots_unchecked", NULL
};

/*
 * ISO 3166-1 alpha-2: the 249 officially assigned codes (Debian's
 * iso-codes 4.15, iso_3166-1.json), sorted.  Exceptionally or transitionally
 * reserved codes (UK, EU, XK, ...) are not countries of export on a customs
 * document.
 */
const char *const countries[] = {
	"AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT",
	"AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI",
	"BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY",
	"BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
	"CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
	"DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK",
	"FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL",
	"GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
	"HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR",
	"IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
	"KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS",
	"LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
	"ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW",
	"MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP",
	"NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
	"PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
	"SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM",
	"SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF",
	"TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
	"TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
	"VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
	NULL
};

#define N_COUNTRIES (lengthof(countries) - 1)
StaticAssertDecl(lengthof(countries) == 249 + 1, "ISO 3166-1 assigns 249 codes");

/* The country of the registry itself: never a country of export. */
const char *const home_country = "KZ";

static int
cmp_country(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

bool
country_is_assigned(const char *code)
{
	return code != NULL &&
		bsearch(&code, countries, N_COUNTRIES, sizeof(char *), cmp_country) != NULL;
}

bool
reason_is_notice(const char *code)
{
	int			i;

	for (i = 0; notices[i]; i++)
		if (code && strcmp(notices[i], code) == 0)
			return true;
	return false;
}

int
vocabulary_lookup(const char *const *names, const char *name)
{
	int			i;

	for (i = 0; names[i]; i++)
		if (name && strcmp(names[i], name) == 0)
			return i;
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("unknown value \"%s\"", name ? name : "(null)"));
	return -1;					/* keep compiler quiet */
}

bool
applicant_is_business(ApplicantKind kind)
{
	return kind != APPLICANT_INDIVIDUAL;
}

bool
applicant_has_iin(ApplicantKind kind)
{
	return kind == APPLICANT_INDIVIDUAL || kind == APPLICANT_SOLE_PROPRIETOR;
}

/*
 * The fee: businesses pay 1 MCI (monthly calculation index) per device,
 * individuals importing for personal use nothing.
 */
int
fee_mci_per_device(ApplicantKind kind)
{
	return applicant_is_business(kind) ? 1 : 0;
}

/* A warranty card, a cash receipt, a photo: never proof of lawful import. */
bool
doc_never_evidence(DocType type)
{
	return type == DOC_WARRANTY_CARD || type == DOC_CASH_RECEIPT ||
		type == DOC_PHOTO;
}

PG_FUNCTION_INFO_V1(application_vocabulary);
PG_FUNCTION_INFO_V1(application_fee_mci_per_device);
PG_FUNCTION_INFO_V1(application_fee_counts_device);

/*
 * application_vocabulary(name text) -> text[]: the words of one vocabulary,
 * applicant_kind, method, document_type, never_evidence, notice or country.
 */
Datum
application_vocabulary(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Datum		words[N_COUNTRIES + 1];
	int			n = 0;
	int			i;

	if (strcmp(name, "applicant_kind") == 0)
		for (i = 0; applicant_kinds[i]; i++)
			words[n++] = CStringGetTextDatum(applicant_kinds[i]);
	else if (strcmp(name, "method") == 0)
		for (i = 0; methods[i]; i++)
			words[n++] = CStringGetTextDatum(methods[i]);
	else if (strcmp(name, "document_type") == 0)
		for (i = 0; doc_types[i]; i++)
			words[n++] = CStringGetTextDatum(doc_types[i]);
	else if (strcmp(name, "never_evidence") == 0)
	{
		for (i = 0; doc_types[i]; i++)
			if (doc_never_evidence((DocType) i))
				words[n++] = CStringGetTextDatum(doc_types[i]);
	}
	else if (strcmp(name, "notice") == 0)
		for (i = 0; notices[i]; i++)
			words[n++] = CStringGetTextDatum(notices[i]);
	else if (strcmp(name, "country") == 0)
		for (i = 0; countries[i]; i++)
			words[n++] = CStringGetTextDatum(countries[i]);
	else
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("unknown vocabulary \"%s\"", name),
				errhint("The vocabularies are applicant_kind, method, document_type, never_evidence, notice and country."));
	PG_RETURN_ARRAYTYPE_P(construct_array(words, n, TEXTOID, -1, false,
										  TYPALIGN_INT));
}

/* fee_mci_per_device(applicant_kind text) -> integer */
Datum
application_fee_mci_per_device(PG_FUNCTION_ARGS)
{
	ApplicantKind kind = vocabulary_lookup(applicant_kinds,
										   text_to_cstring(PG_GETARG_TEXT_PP(0)));

	PG_RETURN_INT32(fee_mci_per_device(kind));
}

/*
 * Does the fee
 * count a device of which the application enters imeis IMEIs, white of
 * them white in the register already?  Each device that still needs
 * verification: all but one whose IMEIs are all white (an official
 * retailer's, say); a device entered without IMEIs counts.
 */
bool
fee_counts_device(int imeis, int white)
{
	return imeis == 0 || white < imeis;
}

/* fee_counts_device(imeis integer, white integer) -> boolean */
Datum
application_fee_counts_device(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(fee_counts_device(PG_GETARG_INT32(0), PG_GETARG_INT32(1)));
}
