-- (made by create_registry(); the rest: sql/1.0/310_applications.sql)
-- The monthly calculation index (MCI) per year, set by each year's
-- republican budget law.  The extension ships the years it knows (shipped:
-- inserted by create_registry(), dumped with the DBA's); the DBA adds each
-- later year.
CREATE TABLE imei_registry.mci (
    year    integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 2999),
    tenge   numeric(12, 2) NOT NULL CHECK (tenge > 0),
    shipped boolean NOT NULL DEFAULT false
);
INSERT INTO imei_registry.mci (year, tenge, shipped) VALUES
    (2025, 3932, true),     -- law on the republican budget 2025-2027
    (2026, 4325, true);     -- law on the republican budget 2026-2028

-- Type Allocation Codes: brand, model, and SIM slots counting eSIM.
CREATE TABLE imei_registry.tac (
    tac         text PRIMARY KEY CHECK (tac ~ '^[0-9]{8}$'),
    brand       text,
    model       text NOT NULL,
    device_type text,
    sim_slots   integer NOT NULL CHECK (sim_slots BETWEEN 1 AND 8)
);

-- Authorised service centres, kept by the registry: only a BIN authorised
-- on the (local) submission date may apply for a board replacement.  A BIN
-- may have several periods; valid_to NULL: until further notice.
CREATE TABLE imei_registry.service_centres (
    bin        imei_registry.bin NOT NULL,
    name       text NOT NULL CHECK (btrim(name) <> ''),
    valid_from date NOT NULL,
    valid_to   date,                        -- the last day, inclusive
    PRIMARY KEY (bin, valid_from),
    CHECK (valid_to >= valid_from)
);

CREATE TABLE imei_registry.applications (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    applicant_kind    text NOT NULL CHECK (applicant_kind OPERATOR(pg_catalog.=) ANY
                          (imei_registry.application_vocabulary('applicant_kind'))),
    applicant_id      text NOT NULL,        -- as submitted: an IIN or BIN if valid
    method            text NOT NULL CHECK (method OPERATOR(pg_catalog.=) ANY
                          (imei_registry.application_vocabulary('method'))),
    import_date       date,
    exporting_country text CHECK (exporting_country ~ '^[A-Z]{2}$'),
    delivery_service  text,
    state             text NOT NULL DEFAULT 'submitted'
                          CHECK (state IN ('submitted', 'approved', 'rejected')),
    submitted_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    submitted_by      text NOT NULL DEFAULT SESSION_USER,
    -- the MCI of the submission's (local) year: fixed at submission when
    -- imei_registry.mci has that year, else at the payment request
    mci_tenge         numeric(12, 2),
    payment_requested_at timestamptz,
    decided_at        timestamptz,
    decided_by        text,
    fee_mci           integer,              -- at the payment request, then the decision
    fee_tenge         numeric(14, 2),
    decision          jsonb,                -- what decide_application() returned
    CHECK ((state = 'submitted') = (decided_at IS NULL)),
    CHECK ((payment_requested_at IS NULL) OR (fee_mci IS NOT NULL AND fee_tenge IS NOT NULL))
);
CREATE INDEX applications_state ON imei_registry.applications (state, submitted_at);
CREATE INDEX applications_applicant ON imei_registry.applications (imei_registry.kzid_key(applicant_id));

-- Payments of an application's fee, as the portal records them from the
-- payment service; the fee is paid when they add up to it.
CREATE TABLE imei_registry.application_payments (
    application_id bigint NOT NULL REFERENCES imei_registry.applications,
    reference      text NOT NULL CHECK (btrim(reference) <> '' AND length(reference) <= 200),
    tenge          numeric(14, 2) NOT NULL CHECK (tenge > 0),
    paid_at        timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    recorded_by    text NOT NULL DEFAULT SESSION_USER,
    PRIMARY KEY (application_id, reference)
);

CREATE TABLE imei_registry.application_documents (
    application_id bigint NOT NULL REFERENCES imei_registry.applications ON DELETE CASCADE,
    ord            integer NOT NULL,        -- 1-based position in the document
    type           text NOT NULL CHECK (type OPERATOR(pg_catalog.=) ANY
                       (imei_registry.application_vocabulary('document_type'))),
    number         text,
    holder_id      text,
    issued_on      date,
    PRIMARY KEY (application_id, ord)
);

CREATE TABLE imei_registry.application_devices (
    application_id bigint NOT NULL REFERENCES imei_registry.applications ON DELETE CASCADE,
    device_ord     integer NOT NULL,        -- 1-based position
    model          text,
    PRIMARY KEY (application_id, device_ord)
);

-- Every IMEI as typed; imei is NULL when the text is not a valid IMEI.
-- (A bulk upload, upload_devices in 410_bulk_targets.sql, may add rows here
-- while the application is submitted; import_id marks the IMEIs it added, so
-- that a repeat of one later in the same file is a duplicate without keeping
-- the file's IMEIs in memory.)
CREATE TABLE imei_registry.application_imeis (
    application_id bigint NOT NULL,
    device_ord     integer NOT NULL,
    ord            integer NOT NULL,        -- 1-based position within the device
    imei_text      text NOT NULL,
    imei           imei_registry.imei,
    import_id      bigint,                  -- the upload that added it, if one did
    PRIMARY KEY (application_id, device_ord, ord),
    FOREIGN KEY (application_id, device_ord)
        REFERENCES imei_registry.application_devices ON DELETE CASCADE
);
CREATE INDEX application_imeis_imei ON imei_registry.application_imeis (imei);

CREATE TABLE imei_registry.application_replacements (
    application_id bigint NOT NULL REFERENCES imei_registry.applications ON DELETE CASCADE,
    ord            integer NOT NULL,
    old_imei_text  text NOT NULL,
    new_imei_text  text NOT NULL,
    old_imei       imei_registry.imei,
    new_imei       imei_registry.imei,
    PRIMARY KEY (application_id, ord)
);
