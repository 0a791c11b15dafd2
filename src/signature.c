/*
 * signature.c
 *		Signed applications: a detached CMS (PKCS #7) signature over the exact
 *		bytes of the document, by a certificate that chains to a trusted
 *		certificate, valid at submission, allowing digital signatures, not
 *		revoked, and naming the applicant (IIN or BIN as NCA RK writes them).
 *
 * Each check refuses with its own SQLSTATE of class IR (signature.h).  The
 * trusted certificates and the revocations are tables the DBA keeps
 * (320_signatures.sql), read here through SPI.
 *
 * OpenSSL allocates with malloc: every object of one call hangs off a
 * Crypto, freed in PG_FINALLY whether the call returns or raises.
 */
#include "compat.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>		/* before cms.h: it declares PEM_read_bio_CMS */
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "signature.h"
#include "vocabulary.h"

/* OpenSSL 1.1 (Debian 11) has no fetching: the digest tables are static. */
#if OPENSSL_VERSION_NUMBER < 0x30000000L
typedef const EVP_MD FETCHED_MD;
#define EVP_MD_fetch(ctx, name, props)	EVP_get_digestbyname(name)
#define EVP_MD_free(md)					((void) (md))
#else
typedef EVP_MD FETCHED_MD;
#endif

/* Every OpenSSL object of one call, freed together. */
typedef struct Crypto
{
	BIO		   *in;
	BIO		   *content;
	BIO		   *text;
	BIO		   *pem;			/* a trusted certificate's row */
	CMS_ContentInfo *cms;
	STACK_OF(X509) *certs;		/* those the signature carries */
	STACK_OF(X509) *trusted;	/* the trusted certificates, being loaded */
	X509_STORE *store;
	X509_STORE_CTX *ctx;
	X509_CRL   *crl;
	X509	   *cert;
	BIGNUM	   *bn;
	char	   *hex;
	FETCHED_MD *md;
} Crypto;

static void
crypto_free(Crypto *c)
{
	BIO_free(c->in);
	BIO_free(c->content);
	BIO_free(c->text);
	BIO_free(c->pem);
	CMS_ContentInfo_free(c->cms);
	sk_X509_pop_free(c->certs, X509_free);
	sk_X509_pop_free(c->trusted, X509_free);
	X509_STORE_CTX_free(c->ctx);
	X509_STORE_free(c->store);
	X509_CRL_free(c->crl);
	X509_free(c->cert);
	BN_free(c->bn);
	OPENSSL_free(c->hex);
	EVP_MD_free(c->md);
	ERR_clear_error();
}

static void
crypto_oom(void *p)
{
	if (p == NULL)
		ereport(ERROR,
				errcode(ERRCODE_OUT_OF_MEMORY),
				errmsg("out of memory in OpenSSL"));
}

/* The reason OpenSSL gives for its last error, for a DETAIL. */
static const char *
openssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "no reason given";
}

/* ---- names, serials, times as text ---- */

/*
 * A distinguished name as RFC 2253 text: UTF-8 in a UTF-8 database (NCA RK
 * names are Cyrillic), else with non-ASCII bytes escaped.  Used for both
 * the signer's issuer and a CRL's issuer, so that revocations match.
 */
static char *
dn_text(Crypto *c, const X509_NAME *name)
{
	unsigned long flags = XN_FLAG_RFC2253;
	char	   *data;
	long		len;
	char	   *result;

	if (GetDatabaseEncoding() == PG_UTF8)
		flags &= ~ASN1_STRFLGS_ESC_MSB;
	for (;;)
	{
		BIO_free(c->text);
		c->text = BIO_new(BIO_s_mem());
		crypto_oom(c->text);
		if (X509_NAME_print_ex(c->text, name, 0, flags) < 0)
			ereport(ERROR,
					errcode(ERRCODE_IR_SIGNATURE_MALFORMED),
					errmsg("a certificate name cannot be printed"),
					errdetail("OpenSSL: %s.", openssl_reason()));
		len = BIO_get_mem_data(c->text, &data);
		if ((flags & ASN1_STRFLGS_ESC_MSB) ||
			pg_verifymbstr(data, (int) len, true))
			break;
		flags |= ASN1_STRFLGS_ESC_MSB;	/* not valid UTF-8: escape it */
	}
	result = pnstrdup(data, len);
	BIO_free(c->text);
	c->text = NULL;
	return result;
}

/* A serial number in upper-case hex, as CRLs and openssl(1) print it. */
static char *
serial_text(Crypto *c, const ASN1_INTEGER *serial)
{
	char	   *result;

	c->bn = ASN1_INTEGER_to_BN(serial, NULL);
	crypto_oom(c->bn);
	c->hex = BN_bn2hex(c->bn);
	crypto_oom(c->hex);
	result = pstrdup(c->hex);
	OPENSSL_free(c->hex);
	c->hex = NULL;
	BN_free(c->bn);
	c->bn = NULL;
	return result;
}

static TimestampTz
asn1_time_timestamptz(const ASN1_TIME *t)
{
	struct tm	tm;
	struct pg_tm ptm;
	int			tz = 0;
	TimestampTz result;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		ereport(ERROR,
				errcode(ERRCODE_IR_SIGNATURE_MALFORMED),
				errmsg("a certificate or CRL carries a time that cannot be read"));
	memset(&ptm, 0, sizeof(ptm));
	ptm.tm_year = tm.tm_year + 1900;
	ptm.tm_mon = tm.tm_mon + 1;
	ptm.tm_mday = tm.tm_mday;
	ptm.tm_hour = tm.tm_hour;
	ptm.tm_min = tm.tm_min;
	ptm.tm_sec = tm.tm_sec;
	if (tm2timestamp(&ptm, 0, &tz, &result) != 0)
		ereport(ERROR,
				errcode(ERRCODE_IR_SIGNATURE_MALFORMED),
				errmsg("a certificate or CRL carries a time out of range"));
	return result;
}

/* ---- the DBA's tables ---- */

/*
 * A query's plan, prepared once per backend (the plan cache revalidates it
 * when the tables change, an extension re-created included).
 */
static SPIPlanPtr
saved_plan(SPIPlanPtr *plan, const char *query, int nargs, Oid *types)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(query, nargs, types);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", query,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_keepplan failed");
		*plan = p;
	}
	return *plan;
}

static SPIPlanPtr trusted_plan = NULL;
static SPIPlanPtr revoked_plan = NULL;

/* ---- the trusted certificates ---- */

static X509 *
pem_certificate(const char *pem, int len)
{
	BIO		   *bio = BIO_new_mem_buf(pem, len);
	X509	   *cert;

	crypto_oom(bio);
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return cert;
}

/*
 * The trusted certificates of this backend: every row of
 * imei_registry.trusted_certificates, parsed (OpenSSL 3 takes about 0.2 ms
 * to decode one certificate), each a trust anchor (a site may trust an
 * intermediate alone).  Kept across calls while the rows visible to the
 * call have the same fingerprints in the same order (key); rebuilt when
 * they differ.  Allocated by OpenSSL (malloc), never in a memory context.
 */
static struct
{
	char	   *key;
	X509_STORE *store;
	STACK_OF(X509) *certs;
}			trust;

static void
load_trusted(Crypto *c)
{
	StringInfoData key;
	uint64		i;
	char	   *newkey;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_plan(saved_plan(&trusted_plan,
									"SELECT fingerprint, certificate FROM imei_registry.trusted_certificates ORDER BY id",
									0, NULL),
						 NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read imei_registry.trusted_certificates");
	initStringInfo(&key);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *fp = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		appendStringInfo(&key, "%s ", fp ? fp : "-");
	}
	if (trust.key && trust.store && strcmp(trust.key, key.data) == 0)
	{
		SPI_finish();
		return;
	}

	/* build the new set in c (freed if this fails), then keep it */
	c->trusted = sk_X509_new_null();
	crypto_oom(c->trusted);
	c->store = X509_STORE_new();
	crypto_oom(c->store);
	X509_STORE_set_flags(c->store, X509_V_FLAG_PARTIAL_CHAIN);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);
		text	   *pem;
		X509	   *cert;

		if (isnull)
			continue;
		/* every certificate of the row: a bundle is taken too */
		pem = DatumGetTextPP(d);
		c->pem = BIO_new_mem_buf(VARDATA_ANY(pem), VARSIZE_ANY_EXHDR(pem));
		crypto_oom(c->pem);
		while ((cert = PEM_read_bio_X509(c->pem, NULL, NULL, NULL)) != NULL)
		{
			if (!sk_X509_push(c->trusted, cert))
			{
				X509_free(cert);
				crypto_oom(NULL);
			}
			if (X509_STORE_add_cert(c->store, cert) != 1)
				ERR_clear_error();	/* a duplicate */
		}
		ERR_clear_error();		/* the end of the text */
		BIO_free(c->pem);
		c->pem = NULL;
	}
	SPI_finish();
	newkey = strdup(key.data);
	crypto_oom(newkey);

	X509_STORE_free(trust.store);
	sk_X509_pop_free(trust.certs, X509_free);
	free(trust.key);
	trust.store = c->store;
	trust.certs = c->trusted;
	trust.key = newkey;
	c->store = NULL;
	c->trusted = NULL;
}

/* When the DBA's list says this certificate was revoked; false if it does not. */
static bool
revocation_of(const char *issuer, const char *serial, TimestampTz *revoked_at)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(issuer), CStringGetTextDatum(serial)};
	bool		found = false;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_plan(saved_plan(&revoked_plan,
									"SELECT revoked_at FROM imei_registry.revoked_certificates"
									" WHERE issuer OPERATOR(pg_catalog.=) $1"
									" AND serial OPERATOR(pg_catalog.=) $2",
									2, types),
						 values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read imei_registry.revoked_certificates");
	if (SPI_processed > 0)
	{
		bool		isnull;

		*revoked_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 1, &isnull));
		found = true;
	}
	SPI_finish();
	return found;
}

/* ---- the subject: IIN and BIN as NCA RK writes them ---- */

/* "IIN" or "BIN" followed by 12 digits: the digits, else NULL. */
static char *
kz_id_entry(const X509_NAME *name, int nid, const char *prefix)
{
	int			i = -1;

	while ((i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0)
	{
		ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
		const unsigned char *d = ASN1_STRING_get0_data(s);
		int			len = ASN1_STRING_length(s);
		int			k;

		if (len != 15 || memcmp(d, prefix, 3) != 0)
			continue;
		for (k = 3; k < 15; k++)
			if (d[k] < '0' || d[k] > '9')
				break;
		if (k == 15)
			return pnstrdup((const char *) d + 3, 12);
	}
	return NULL;
}

/* ---- algorithms ---- */

/* The dotted OID of an algorithm, and whether it is Kazakhstan's (1.2.398). */
static char *
oid_text(const ASN1_OBJECT *obj)
{
	char		buf[128];

	if (OBJ_obj2txt(buf, sizeof(buf), obj, 1) <= 0)
		return pstrdup("(unknown)");
	return pstrdup(buf);
}

static void
unsupported_algorithm(const char *what, const char *oid)
{
	bool		kz = strncmp(oid, "1.2.398.", 8) == 0;

	ereport(ERROR,
			errcode(ERRCODE_IR_ALGORITHM_UNSUPPORTED),
			errmsg("signature check failed: the %s algorithm %s is not supported", what, oid),
			kz ? errdetail("OIDs under 1.2.398 are Kazakhstan's GOST 34.310 algorithms, which need an OpenSSL provider that Debian's OpenSSL does not ship.") : 0,
			kz ? errhint("See docs/applications.md, \"GOST 34.310\", for how a site adds a provider.") : 0);
}

/*
 * The signer's key and the digest must be ones this OpenSSL (with the
 * providers the site configured) implements; else a clear refusal, rather
 * than a signature "not matching".
 */
static void
check_algorithms(Crypto *c, X509 *signer, CMS_SignerInfo *si)
{
	ASN1_OBJECT *keyalg = NULL;
	X509_ALGOR *digalg = NULL;
	const ASN1_OBJECT *digobj = NULL;

	X509_PUBKEY_get0_param(&keyalg, NULL, NULL, NULL, X509_get_X509_PUBKEY(signer));
	if (X509_get0_pubkey(signer) == NULL)
		unsupported_algorithm("public key", keyalg ? oid_text(keyalg) : "(unknown)");
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &digalg, NULL);
	if (digalg)
		X509_ALGOR_get0(&digobj, NULL, NULL, digalg);
	if (digobj == NULL ||
		OBJ_obj2nid(digobj) == NID_undef ||
		(c->md = EVP_MD_fetch(NULL, OBJ_nid2sn(OBJ_obj2nid(digobj)), NULL)) == NULL)
		unsupported_algorithm("digest", digobj ? oid_text(digobj) : "(unknown)");
	ERR_clear_error();
}

/* ---- the checks ---- */

typedef struct Signer
{
	char	   *subject;
	char	   *issuer;
	char	   *serial;
	char	   *iin;			/* SERIALNUMBER=IIN..., digits, or NULL */
	char	   *bin;			/* OU=BIN..., digits, or NULL */
	bytea	   *der;
} Signer;

static bytea *
certificate_der(X509 *cert)
{
	int			len = i2d_X509(cert, NULL);
	bytea	   *result;
	unsigned char *p;

	if (len <= 0)
		ereport(ERROR,
				errcode(ERRCODE_IR_SIGNATURE_MALFORMED),
				errmsg("the signer's certificate cannot be encoded"));
	result = palloc(VARHDRSZ + len);
	SET_VARSIZE(result, VARHDRSZ + len);
	p = (unsigned char *) VARDATA(result);
	i2d_X509(cert, &p);
	return result;
}

static const char *
which_certificate(Crypto *c, X509 *cert, X509 *signer)
{
	if (cert == NULL || cert == signer)
		return "the signer's certificate";
	return psprintf("the issuing certificate \"%s\"", dn_text(c, X509_get_subject_name(cert)));
}

/*
 * Verify signature over document at time at; fill *s.  Raises the IR error
 * of the first check that fails.
 */
static void
verify(Crypto *c, const char *doc, int doclen, bytea *sig, TimestampTz at, Signer *s)
{
	STACK_OF(CMS_SignerInfo) *sis;
	CMS_SignerInfo *si;
	ASN1_OCTET_STRING **content;
	X509	   *signer = NULL;
	int			i;
	TimestampTz revoked_at;

	ERR_clear_error();
	c->in = BIO_new_mem_buf(VARDATA_ANY(sig), VARSIZE_ANY_EXHDR(sig));
	crypto_oom(c->in);
	/* DER, as it should be; PEM (-----BEGIN CMS-----) is taken too */
	if (VARSIZE_ANY_EXHDR(sig) >= 10 && memcmp(VARDATA_ANY(sig), "-----BEGIN", 10) == 0)
		c->cms = PEM_read_bio_CMS(c->in, NULL, NULL, NULL);
	else
		c->cms = d2i_CMS_bio(c->in, NULL);
	if (c->cms == NULL || OBJ_obj2nid(CMS_get0_type(c->cms)) != NID_pkcs7_signed)
		ereport(ERROR,
				errcode(ERRCODE_IR_SIGNATURE_MALFORMED),
				errmsg("signature check failed: the signature is not a CMS SignedData in DER"),
				errhint("Sign with: openssl cms -sign -binary -outform DER (a detached signature of the document's exact bytes)."));
	content = CMS_get0_content(c->cms);
	if (content && *content)
		ereport(ERROR,
				errcode(ERRCODE_IR_SIGNATURE_MALFORMED),
				errmsg("signature check failed: the signature carries its content; a detached signature is required"),
				errhint("The document is the first argument; the signature must not embed it (openssl cms -sign without -nodetach)."));
	sis = CMS_get0_SignerInfos(c->cms);
	if (sk_CMS_SignerInfo_num(sis) != 1)
		ereport(ERROR,
				errcode(ERRCODE_IR_SIGNATURE_MALFORMED),
				errmsg("signature check failed: the signature has %d signers; exactly one is required",
					   sk_CMS_SignerInfo_num(sis)));
	si = sk_CMS_SignerInfo_value(sis, 0);
	c->certs = CMS_get1_certs(c->cms);
	for (i = 0; c->certs && i < sk_X509_num(c->certs); i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(c->certs, i)) == 0)
			signer = sk_X509_value(c->certs, i);
	if (signer == NULL)
		ereport(ERROR,
				errcode(ERRCODE_IR_SIGNATURE_MALFORMED),
				errmsg("signature check failed: the signature does not carry the signer's certificate"));
	check_algorithms(c, signer, si);

	/* the signature over the exact bytes: no MIME, no line-ending canonical form */
	c->content = BIO_new_mem_buf(doc, doclen);
	crypto_oom(c->content);
	if (CMS_verify(c->cms, NULL, NULL, c->content, NULL,
				   CMS_BINARY | CMS_DETACHED | CMS_NO_SIGNER_CERT_VERIFY) != 1)
		ereport(ERROR,
				errcode(ERRCODE_IR_SIGNATURE_MISMATCH),
				errmsg("signature check failed: the signature does not match the document"),
				errdetail("OpenSSL: %s. The signature covers the document's exact bytes: a changed byte or line ending (LF, CRLF) breaks it.",
						  openssl_reason()));
	ERR_clear_error();

	s->subject = dn_text(c, X509_get_subject_name(signer));
	s->issuer = dn_text(c, X509_get_issuer_name(signer));
	s->serial = serial_text(c, X509_get0_serialNumber(signer));
	s->iin = kz_id_entry(X509_get_subject_name(signer), NID_serialNumber, "IIN");
	s->bin = kz_id_entry(X509_get_subject_name(signer), NID_organizationalUnitName, "BIN");
	s->der = certificate_der(signer);

	/* the chain, at the time of submission (the CMS signing time is the signer's claim) */
	load_trusted(c);
	c->ctx = X509_STORE_CTX_new();
	crypto_oom(c->ctx);
	if (X509_STORE_CTX_init(c->ctx, trust.store, signer, c->certs) != 1)
		crypto_oom(NULL);
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(c->ctx), timestamptz_to_time_t(at));
	if (X509_verify_cert(c->ctx) != 1)
	{
		int			err = X509_STORE_CTX_get_error(c->ctx);
		X509	   *bad = X509_STORE_CTX_get_current_cert(c->ctx);
		const char *which = which_certificate(c, bad, signer);

		switch (err)
		{
			case X509_V_ERR_CERT_HAS_EXPIRED:
				ereport(ERROR,
						errcode(ERRCODE_IR_CERTIFICATE_EXPIRED),
						errmsg("signature check failed: %s expired at %s, before the submission at %s",
							   which,
							   timestamptz_to_str(asn1_time_timestamptz(X509_get0_notAfter(bad))),
							   timestamptz_to_str(at)),
						errdetail("Certificate \"%s\".", s->subject));
				break;
			case X509_V_ERR_CERT_NOT_YET_VALID:
				ereport(ERROR,
						errcode(ERRCODE_IR_CERTIFICATE_NOT_YET_VALID),
						errmsg("signature check failed: %s is not valid until %s, after the submission at %s",
							   which,
							   timestamptz_to_str(asn1_time_timestamptz(X509_get0_notBefore(bad))),
							   timestamptz_to_str(at)),
						errdetail("Certificate \"%s\".", s->subject));
				break;
			default:
				ereport(ERROR,
						errcode(ERRCODE_IR_CERTIFICATE_UNTRUSTED),
						errmsg("signature check failed: the signer's certificate does not chain to a trusted certificate"),
						errdetail("Certificate \"%s\", issued by \"%s\": %s (at %s).",
								  s->subject, s->issuer, X509_verify_cert_error_string(err), which),
						errhint("The trusted certificates are the rows of imei_registry.trusted_certificates."));
		}
	}

	/* absent, key usage does not restrict the key (RFC 5280, 4.2.1.3) */
	if (!(X509_get_key_usage(signer) & KU_DIGITAL_SIGNATURE))
		ereport(ERROR,
				errcode(ERRCODE_IR_KEY_USAGE),
				errmsg("signature check failed: the key usage of the signer's certificate does not allow digital signatures"),
				errdetail("Certificate \"%s\".", s->subject));

	if (revocation_of(s->issuer, s->serial, &revoked_at) && revoked_at <= at)
		ereport(ERROR,
				errcode(ERRCODE_IR_CERTIFICATE_REVOKED),
				errmsg("signature check failed: the signer's certificate was revoked at %s",
					   timestamptz_to_str(revoked_at)),
				errdetail("Certificate \"%s\", serial %s, issued by \"%s\".",
						  s->subject, s->serial, s->issuer));
}

/*
 * signature_verify(document text, signature bytea, at timestamptz,
 *		OUT signer_certificate bytea, OUT subject text, OUT serial text,
 *		OUT issuer text, OUT subject_iin text, OUT subject_bin text)
 *
 * Every check but who signed (signature_check_signer).
 */
PG_FUNCTION_INFO_V1(signature_verify);
Datum
signature_verify(PG_FUNCTION_ARGS)
{
	text	   *doc = PG_GETARG_TEXT_PP(0);
	bytea	   *sig = PG_GETARG_BYTEA_PP(1);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);
	Crypto	   *c = palloc0(sizeof(Crypto));
	Signer		s;
	TupleDesc	desc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "signature_verify must return a composite type");
	PG_TRY();
	{
		verify(c, VARDATA_ANY(doc), VARSIZE_ANY_EXHDR(doc), sig, at, &s);
	}
	PG_FINALLY();
	{
		crypto_free(c);
	}
	PG_END_TRY();

	values[0] = PointerGetDatum(s.der);
	values[1] = CStringGetTextDatum(s.subject);
	values[2] = CStringGetTextDatum(s.serial);
	values[3] = CStringGetTextDatum(s.issuer);
	if (s.iin)
		values[4] = CStringGetTextDatum(s.iin);
	else
		nulls[4] = true;
	if (s.bin)
		values[5] = CStringGetTextDatum(s.bin);
	else
		nulls[5] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * signature_check_signer(applicant_kind, applicant_id, subject_iin, subject_bin)
 *
 * An individual or sole proprietor signs with a personal certificate (no
 * OU=BIN) whose SERIALNUMBER=IIN is the applicant's id; a legal entity or
 * service centre with a business certificate whose OU=BIN is.
 */
PG_FUNCTION_INFO_V1(signature_check_signer);
Datum
signature_check_signer(PG_FUNCTION_ARGS)
{
	ApplicantKind kind;
	char	   *id;
	char	   *iin = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *bin = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("the applicant's kind and id must not be null"));
	kind = vocabulary_lookup(applicant_kinds, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	id = text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (applicant_has_iin(kind))
	{
		if (bin)
			ereport(ERROR,
					errcode(ERRCODE_IR_CERTIFICATE_KIND),
					errmsg("signature check failed: a business certificate (OU=BIN%s) cannot sign the application of an applicant of kind %s",
						   bin, applicant_kinds[kind]),
					errhint("An individual or sole proprietor signs with a personal certificate, which carries no BIN."));
		if (!iin)
			ereport(ERROR,
					errcode(ERRCODE_IR_SIGNER_NOT_APPLICANT),
					errmsg("signature check failed: the signer's certificate carries no IIN (SERIALNUMBER=IIN and 12 digits), so it cannot be applicant %s",
						   id));
		if (strcmp(iin, id) != 0)
			ereport(ERROR,
					errcode(ERRCODE_IR_SIGNER_NOT_APPLICANT),
					errmsg("signature check failed: the certificate is IIN %s's, not the applicant %s's",
						   iin, id));
	}
	else
	{
		if (!bin)
			ereport(ERROR,
					errcode(ERRCODE_IR_CERTIFICATE_KIND),
					errmsg("signature check failed: a personal certificate (no OU=BIN) cannot sign the application of an applicant of kind %s",
						   applicant_kinds[kind]),
					errhint("A legal entity or service centre signs with its employee's business certificate, which carries its BIN (OU=BIN and 12 digits)."));
		if (strcmp(bin, id) != 0)
			ereport(ERROR,
					errcode(ERRCODE_IR_SIGNER_NOT_APPLICANT),
					errmsg("signature check failed: the certificate is BIN %s's, not the applicant %s's",
						   bin, id));
	}
	PG_RETURN_VOID();
}

/*
 * signature_not_required(): the unsigned submit_application(jsonb) works
 * only where imei_registry.require_signature is off.
 */
PG_FUNCTION_INFO_V1(signature_not_required);
Datum
signature_not_required(PG_FUNCTION_ARGS)
{
	if (imei_require_signature)
		ereport(ERROR,
				errcode(ERRCODE_IR_SIGNATURE_REQUIRED),
				errmsg("signature check failed: an unsigned application is refused while imei_registry.require_signature is on"),
				errhint("Submit the document as signed, with submit_application(document text, signature bytea); a superuser may turn the setting off for a test database."));
	PG_RETURN_VOID();
}

/* ---- certificates and CRLs the DBA loads ---- */

static X509 *
pem_argument(Crypto *c, text *pem)
{
	c->cert = pem_certificate(VARDATA_ANY(pem), VARSIZE_ANY_EXHDR(pem));
	if (c->cert == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("not a PEM certificate (-----BEGIN CERTIFICATE-----)"),
				errdetail("OpenSSL: %s.", openssl_reason()));
	return c->cert;
}

/* certificate_subject(pem text) -> text: the subject, RFC 2253 */
PG_FUNCTION_INFO_V1(certificate_subject);
Datum
certificate_subject(PG_FUNCTION_ARGS)
{
	Crypto	   *c = palloc0(sizeof(Crypto));
	char	   *result = NULL;

	PG_TRY();
	{
		result = dn_text(c, X509_get_subject_name(pem_argument(c, PG_GETARG_TEXT_PP(0))));
	}
	PG_FINALLY();
	{
		crypto_free(c);
	}
	PG_END_TRY();
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/* certificate_fingerprint(pem text) -> text: SHA-256 of the DER, hex */
PG_FUNCTION_INFO_V1(certificate_fingerprint);
Datum
certificate_fingerprint(PG_FUNCTION_ARGS)
{
	Crypto	   *c = palloc0(sizeof(Crypto));
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char	   *hex;
	unsigned int i;

	PG_TRY();
	{
		if (X509_digest(pem_argument(c, PG_GETARG_TEXT_PP(0)), EVP_sha256(), md, &len) != 1)
			crypto_oom(NULL);
	}
	PG_FINALLY();
	{
		crypto_free(c);
	}
	PG_END_TRY();
	hex = palloc(2 * len + 1);
	for (i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	PG_RETURN_TEXT_P(cstring_to_text(hex));
}

/*
 * crl_entries(crl bytea, OUT issuer text, OUT serials text[],
 *		OUT revoked_at timestamptz[])
 *
 * A CRL in DER or PEM, whose signature verifies with a trusted certificate
 * of its issuer's name: its issuer and revoked serials.
 */
static void
read_crl(Crypto *c, bytea *raw, char **issuer, ArrayType **serials, ArrayType **times)
{
	const char *data = VARDATA_ANY(raw);
	int			len = VARSIZE_ANY_EXHDR(raw);
	STACK_OF(X509_REVOKED) *revoked;
	const X509_NAME *iname;
	bool		trusted = false;
	int			n;
	int			i;
	Datum	   *sv;
	Datum	   *tv;

	ERR_clear_error();
	c->in = BIO_new_mem_buf(data, len);
	crypto_oom(c->in);
	if (len >= 10 && memcmp(data, "-----BEGIN", 10) == 0)
		c->crl = PEM_read_bio_X509_CRL(c->in, NULL, NULL, NULL);
	else
		c->crl = d2i_X509_CRL_bio(c->in, NULL);
	if (c->crl == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("not a certificate revocation list in DER or PEM"),
				errdetail("OpenSSL: %s.", openssl_reason()));
	iname = X509_CRL_get_issuer(c->crl);
	*issuer = dn_text(c, iname);

	load_trusted(c);
	for (i = 0; i < sk_X509_num(trust.certs) && !trusted; i++)
	{
		X509	   *t = sk_X509_value(trust.certs, i);

		if (X509_NAME_cmp(X509_get_subject_name(t), iname) == 0 &&
			X509_CRL_verify(c->crl, X509_get0_pubkey(t)) == 1)
			trusted = true;
	}
	ERR_clear_error();
	if (!trusted)
		ereport(ERROR,
				errcode(ERRCODE_IR_CRL_UNTRUSTED),
				errmsg("the CRL of \"%s\" is not signed by a trusted certificate", *issuer),
				errhint("Add the issuing CA's certificate to imei_registry.trusted_certificates first."));

	revoked = X509_CRL_get_REVOKED(c->crl);
	n = revoked ? sk_X509_REVOKED_num(revoked) : 0;
	sv = palloc(sizeof(Datum) * Max(n, 1));
	tv = palloc(sizeof(Datum) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		X509_REVOKED *r = sk_X509_REVOKED_value(revoked, i);

		sv[i] = CStringGetTextDatum(serial_text(c, X509_REVOKED_get0_serialNumber(r)));
		tv[i] = TimestampTzGetDatum(asn1_time_timestamptz(X509_REVOKED_get0_revocationDate(r)));
	}
	*serials = construct_array(sv, n, TEXTOID, -1, false, TYPALIGN_INT);
	*times = construct_array(tv, n, TIMESTAMPTZOID, sizeof(TimestampTz),
							 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

PG_FUNCTION_INFO_V1(crl_entries);
Datum
crl_entries(PG_FUNCTION_ARGS)
{
	bytea	   *raw = PG_GETARG_BYTEA_PP(0);
	Crypto	   *c = palloc0(sizeof(Crypto));
	char	   *issuer = NULL;
	ArrayType  *serials = NULL;
	ArrayType  *times = NULL;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "crl_entries must return a composite type");
	PG_TRY();
	{
		read_crl(c, raw, &issuer, &serials, &times);
	}
	PG_FINALLY();
	{
		crypto_free(c);
	}
	PG_END_TRY();
	values[0] = CStringGetTextDatum(issuer);
	values[1] = PointerGetDatum(serials);
	values[2] = PointerGetDatum(times);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
