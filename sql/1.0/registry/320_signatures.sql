-- (made by create_registry(); the rest: sql/1.0/320_signatures.sql)
CREATE TABLE imei_registry.trusted_certificates (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    certificate text NOT NULL,          -- PEM; a malformed one is refused (22023)
    subject     text GENERATED ALWAYS AS (imei_registry.certificate_subject(certificate)) STORED,
    fingerprint text GENERATED ALWAYS AS (imei_registry.certificate_fingerprint(certificate)) STORED
                UNIQUE,
    note        text,
    added_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    added_by    text NOT NULL DEFAULT SESSION_USER
);

-- Revoked certificates, keyed by issuer (RFC 2253, as certificate_subject
-- prints it) and serial (upper-case hex), loaded from the CAs' CRLs by
-- load_crl().  A certificate revoked at or before the time of the check
-- is refused.
CREATE TABLE imei_registry.revoked_certificates (
    issuer     text NOT NULL,
    serial     text NOT NULL CHECK (serial ~ '^-?[0-9A-F]+$'),
    revoked_at timestamptz NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (issuer, serial)
);

-- What was signed and by whom, with each signed application.
CREATE TABLE imei_registry.application_signatures (
    application_id     bigint PRIMARY KEY
                       REFERENCES imei_registry.applications ON DELETE CASCADE,
    document           text NOT NULL,   -- the signed text, byte for byte
    content            jsonb NOT NULL,  -- document, parsed
    signature          bytea NOT NULL,  -- the detached CMS SignedData, DER
    signer_certificate bytea NOT NULL,  -- DER
    signer_subject     text NOT NULL,
    signer_serial      text NOT NULL,
    signer_issuer      text NOT NULL,
    verified_at        timestamptz NOT NULL  -- the time the certificate was checked at
);
