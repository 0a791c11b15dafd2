-- Signed applications (docs/applications.md, "Signed applications").
-- submit_application(document text, signature bytea) stores an application
-- only if a detached CMS signature over the document's exact bytes verifies
-- (src/signature.c): by a certificate that chains to a trusted certificate,
-- valid at submission, allowing digital signatures, not revoked, and naming
-- the applicant.  The unsigned submit_application(jsonb) works only where
-- imei_registry.require_signature is off.

-- The trusted certificates (PEM): the NCA RK roots and intermediates in
-- production.  Each row is a trust anchor.  Kept by the admin.
CREATE FUNCTION imei_registry.certificate_subject(pem text) RETURNS text
    AS 'MODULE_PATHNAME', 'certificate_subject'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.certificate_subject(text) IS
    'the subject of a PEM certificate, RFC 2253';
CREATE FUNCTION imei_registry.certificate_fingerprint(pem text) RETURNS text
    AS 'MODULE_PATHNAME', 'certificate_fingerprint'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.certificate_fingerprint(text) IS
    'the SHA-256 fingerprint of a PEM certificate (of its DER), hex';

-- ---- the checks (C) ----

CREATE FUNCTION imei_registry.signature_verify(
        document text, signature bytea, at timestamptz,
        OUT signer_certificate bytea, OUT subject text, OUT serial text,
        OUT issuer text, OUT subject_iin text, OUT subject_bin text)
    AS 'MODULE_PATHNAME', 'signature_verify'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION imei_registry.signature_verify(text, bytea, timestamptz) IS
    'verify a detached CMS signature over the document''s bytes, its certificate at a time: raises IR100-IR106, IR110';
CREATE FUNCTION imei_registry.signature_check_signer(
        applicant_kind text, applicant_id text, subject_iin text, subject_bin text)
    RETURNS void AS 'MODULE_PATHNAME', 'signature_check_signer'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.signature_check_signer(text, text, text, text) IS
    'the certificate''s IIN or BIN is the applicant''s: raises IR107, IR108';
CREATE FUNCTION imei_registry.signature_not_required() RETURNS void
    AS 'MODULE_PATHNAME', 'signature_not_required'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.signature_not_required() IS
    'raises IR109 while imei_registry.require_signature is on';
CREATE FUNCTION imei_registry.crl_entries(
        crl bytea, OUT issuer text, OUT serials text[], OUT revoked_at timestamptz[])
    AS 'MODULE_PATHNAME', 'crl_entries'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION imei_registry.crl_entries(bytea) IS
    'the issuer and revoked serials of a DER or PEM CRL signed by a trusted certificate';

-- ---- submission ----

-- Both store through application_store() (310_applications.sql).

CREATE FUNCTION imei_registry.submit_application(application jsonb)
    RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
    SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
BEGIN
    PERFORM imei_registry.signature_not_required();
    RETURN imei_registry.application_store(application);
END $$;
COMMENT ON FUNCTION imei_registry.submit_application(jsonb) IS
    'store an unsigned application, only where imei_registry.require_signature is off (else IR109)';

CREATE FUNCTION imei_registry.submit_application(document text, signature bytea)
    RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
    SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    content jsonb;
    signer  record;
    app     record;
    app_id  bigint;
    at      constant timestamptz := pg_catalog.now();   -- the submission
BEGIN
    IF document IS NULL OR signature IS NULL THEN
        PERFORM imei_registry.application_shape_error(
            CASE WHEN document IS NULL THEN '(document)' ELSE '(signature)' END, 'must not be null');
    END IF;
    BEGIN
        content := document::jsonb;
    EXCEPTION WHEN invalid_text_representation THEN
        PERFORM imei_registry.application_shape_error('(document)',
            'must be a JSON object (' || SQLERRM || ')');
    END;
    signer := imei_registry.signature_verify(document, signature, at);
    app_id := imei_registry.application_store(content);
    SELECT a.id, a.applicant_kind, a.applicant_id INTO app
    FROM imei_registry.applications a WHERE a.id = app_id;
    PERFORM imei_registry.signature_check_signer(app.applicant_kind, app.applicant_id,
                                                 signer.subject_iin, signer.subject_bin);
    INSERT INTO imei_registry.application_signatures
        (application_id, document, content, signature, signer_certificate,
         signer_subject, signer_serial, signer_issuer, verified_at)
    VALUES (app.id, document, content, signature, signer.signer_certificate,
            signer.subject, signer.serial, signer.issuer, at);
    RETURN app.id;
END $$;
COMMENT ON FUNCTION imei_registry.submit_application(text, bytea) IS
    'store an application signed by its applicant: document is the exact text signed, signature a detached CMS signature (DER) over its bytes; refusals are IR1xx';

-- Check a stored signature again, against today's trusted certificates and
-- revocations, with the certificate's validity at the submission.
CREATE FUNCTION imei_registry.verify_application_signature(id bigint,
        OUT valid boolean, OUT code text, OUT message text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL UNSAFE
    SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    s      record;
    signer record;
BEGIN
    SELECT sg.document, sg.signature, sg.verified_at, a.applicant_kind, a.applicant_id INTO s
    FROM imei_registry.application_signatures sg
    JOIN imei_registry.applications a ON a.id = sg.application_id
    WHERE sg.application_id = verify_application_signature.id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'application % has no signature', verify_application_signature.id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    BEGIN
        signer := imei_registry.signature_verify(s.document, s.signature, s.verified_at);
        PERFORM imei_registry.signature_check_signer(s.applicant_kind, s.applicant_id,
                                                     signer.subject_iin, signer.subject_bin);
    EXCEPTION WHEN OTHERS THEN
        IF left(SQLSTATE, 2) <> 'IR' THEN
            RAISE;
        END IF;
        valid := false;
        code := SQLSTATE;
        message := SQLERRM;
        RETURN;
    END;
    valid := true;
    RETURN;
END $$;
COMMENT ON FUNCTION imei_registry.verify_application_signature(bigint) IS
    'verify an application''s stored signature again: valid, or the SQLSTATE and message of the check that fails';

-- Load a CA's CRL (DER or PEM, signed by a trusted certificate): its
-- revoked serials join revoked_certificates.  Returns how many were new.
CREATE FUNCTION imei_registry.load_crl(crl bytea) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
    SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    e record;
    n integer;
BEGIN
    IF crl IS NULL THEN
        RAISE EXCEPTION 'the CRL must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    e := imei_registry.crl_entries(crl);
    INSERT INTO imei_registry.revoked_certificates (issuer, serial, revoked_at)
    SELECT e.issuer, r.serial, r.revoked_at
    FROM unnest(e.serials, e.revoked_at) AS r(serial, revoked_at)
    ON CONFLICT ON CONSTRAINT revoked_certificates_pkey DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
COMMENT ON FUNCTION imei_registry.load_crl(bytea) IS
    'add the revocations of a CRL (DER or PEM, signed by a trusted certificate); returns how many were new';
