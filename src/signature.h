/*
 * signature.h
 *		Signed applications: the SQLSTATEs of class IR that a refused
 *		signature raises, one per check (signature.c, docs/applications.md).
 */
#ifndef IMEI_REGISTRY_SIGNATURE_H
#define IMEI_REGISTRY_SIGNATURE_H

#include "postgres.h"

#define ERRCODE_IR_SIGNATURE_MALFORMED		MAKE_SQLSTATE('I','R','1','0','0')
#define ERRCODE_IR_SIGNATURE_MISMATCH		MAKE_SQLSTATE('I','R','1','0','1')
#define ERRCODE_IR_CERTIFICATE_UNTRUSTED	MAKE_SQLSTATE('I','R','1','0','2')
#define ERRCODE_IR_CERTIFICATE_EXPIRED		MAKE_SQLSTATE('I','R','1','0','3')
#define ERRCODE_IR_CERTIFICATE_NOT_YET_VALID MAKE_SQLSTATE('I','R','1','0','4')
#define ERRCODE_IR_KEY_USAGE				MAKE_SQLSTATE('I','R','1','0','5')
#define ERRCODE_IR_CERTIFICATE_REVOKED		MAKE_SQLSTATE('I','R','1','0','6')
#define ERRCODE_IR_SIGNER_NOT_APPLICANT		MAKE_SQLSTATE('I','R','1','0','7')
#define ERRCODE_IR_CERTIFICATE_KIND			MAKE_SQLSTATE('I','R','1','0','8')
#define ERRCODE_IR_SIGNATURE_REQUIRED		MAKE_SQLSTATE('I','R','1','0','9')
#define ERRCODE_IR_ALGORITHM_UNSUPPORTED	MAKE_SQLSTATE('I','R','1','1','0')
#define ERRCODE_IR_CRL_UNTRUSTED			MAKE_SQLSTATE('I','R','1','1','1')

#endif							/* IMEI_REGISTRY_SIGNATURE_H */
