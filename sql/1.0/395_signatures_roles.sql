-- Who may do what with signatures (roles: 190_registry_roles.sql).  The
-- portal submits signed applications; only the admin keeps the trusted
-- certificates and the revocations, loads CRLs, reads the signatures and
-- verifies them again.  The checks themselves are called only by these
-- SECURITY DEFINER functions.

REVOKE EXECUTE ON FUNCTION
    imei_registry.application_store(jsonb),
    imei_registry.submit_application(text, bytea),
    imei_registry.signature_verify(text, bytea, timestamptz),
    imei_registry.signature_check_signer(text, text, text, text),
    imei_registry.signature_not_required(),
    imei_registry.crl_entries(bytea),
    imei_registry.verify_application_signature(bigint),
    imei_registry.load_crl(bytea)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION imei_registry.submit_application(text, bytea)
    TO imei_registry_portal;
GRANT EXECUTE ON FUNCTION
    imei_registry.verify_application_signature(bigint),
    imei_registry.load_crl(bytea)
TO imei_registry_admin;
