/*
 * vocabulary.c
 *		The words of an application (applicant kinds, methods, document
 *		types, the types that are never evidence) and the fee rule, and the
 *		SQL functions through which the tables' constraints and
 *		submit_application() read them.
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

/*
 * application_vocabulary(name text) -> text[]: the words of one vocabulary,
 * applicant_kind, method, document_type or never_evidence.
 */
Datum
application_vocabulary(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Datum		words[N_DOC_TYPES + 8];
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
	else
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("unknown vocabulary \"%s\"", name),
				errhint("The vocabularies are applicant_kind, method, document_type and never_evidence."));
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
