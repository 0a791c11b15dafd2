-- Applications for verification of lawful import (see docs/applications.md).
-- submit_application() checks the shape of the JSON document and stores it
-- in the tables below; decide_application() gathers the facts, applies the
-- rules (C, src/documents.c) and, on approval, moves the IMEIs to white
-- through the registry's transition trigger, all in one transaction.

-- The words of an application (applicant kinds, methods, document types,
-- and the types that are never evidence) and the fee rule live in C
-- (src/vocabulary.c), with the rules that use them; the constraints below
-- and submit_application() read them from there.
CREATE FUNCTION imei_registry.application_vocabulary(name text) RETURNS text[]
    AS 'MODULE_PATHNAME', 'application_vocabulary'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.application_vocabulary(text) IS
    'the words of an application: applicant_kind, method, document_type or never_evidence';
-- Businesses pay 1 MCI per device, individuals nothing.
CREATE FUNCTION imei_registry.fee_mci_per_device(applicant_kind text) RETURNS integer
    AS 'MODULE_PATHNAME', 'application_fee_mci_per_device'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.fee_mci_per_device(text) IS
    'the fee in MCI that an applicant of this kind pays per device';

-- The monthly calculation index (MCI) per year; the DBA adds each new year.
CREATE TABLE imei_registry.mci (
    year  integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 2999),
    tenge numeric(12, 2) NOT NULL CHECK (tenge > 0)
);
INSERT INTO imei_registry.mci (year, tenge) VALUES (2025, 3932);
SELECT pg_catalog.pg_extension_config_dump('imei_registry.mci', 'WHERE year <> 2025');

-- Type Allocation Codes: brand, model, and SIM slots counting eSIM.
CREATE TABLE imei_registry.tac (
    tac         text PRIMARY KEY CHECK (tac ~ '^[0-9]{8}$'),
    brand       text,
    model       text NOT NULL,
    device_type text,
    sim_slots   integer NOT NULL CHECK (sim_slots BETWEEN 1 AND 8)
);
SELECT pg_catalog.pg_extension_config_dump('imei_registry.tac', '');

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
    mci_tenge         numeric(12, 2),       -- MCI in force on submission (businesses)
    decided_at        timestamptz,
    decided_by        text,
    fee_mci           integer,
    fee_tenge         numeric(14, 2),
    decision          jsonb,                -- what decide_application() returned
    CHECK ((state = 'submitted') = (decided_at IS NULL)),
    -- who pays has the MCI of the submission
    CHECK (imei_registry.fee_mci_per_device(applicant_kind) = 0 OR mci_tenge IS NOT NULL)
);
CREATE INDEX applications_state ON imei_registry.applications (state, submitted_at);
CREATE INDEX applications_applicant ON imei_registry.applications (applicant_id);

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

SELECT pg_catalog.pg_extension_config_dump('imei_registry.applications', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.applications_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.application_documents', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.application_devices', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.application_imeis', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.application_replacements', '');

-- ---- the rules (C) ----

CREATE FUNCTION imei_registry.application_reasons(
        applicant_kind text, applicant_id text, method text, import_date date,
        exporting_country text, delivery_service text, doc_types text[],
        doc_holders text[], n_devices integer, n_replacements integer)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'application_reasons'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.application_reasons(text, text, text, date, text, text, text[], text[], integer, integer) IS
    'rules on applicant, method and documents: a jsonb array of reasons, NULL if none';
CREATE FUNCTION imei_registry.application_device_reasons(
        device_ord integer, model text, n_imeis integer, sim_slots integer,
        n_white integer, method text)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'application_device_reasons'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.application_device_reasons(integer, text, integer, integer, integer, text) IS
    'rules on one device (all IMEIs of a multi-SIM device): reasons or NULL';
CREATE FUNCTION imei_registry.application_imei_reasons(
        imei_text text, duplicate boolean, status text, status_reason text,
        expected_model text, model_declared boolean, tac_model text, method text)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'application_imei_reasons'
    LANGUAGE C STABLE PARALLEL SAFE;    -- reads a site's reason codes
COMMENT ON FUNCTION imei_registry.application_imei_reasons(text, boolean, text, text, text, boolean, text, text) IS
    'rules on one IMEI as typed: valid, once, eligible, of the device''s model: reasons or NULL';
CREATE FUNCTION imei_registry.application_replacement_reasons(
        replacement_ord integer, old_imei_text text, new_imei_text text,
        old_status text, new_declared boolean, old_duplicate boolean)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'application_replacement_reasons'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.application_replacement_reasons(integer, text, text, text, boolean, boolean) IS
    'rules on one board replacement (old IMEI white and replaced once, new IMEI declared): reasons or NULL';

-- ---- the JSON document ----

-- Raise the error of a malformed application, naming the key.
CREATE FUNCTION imei_registry.application_shape_error(key text, problem text)
    RETURNS void LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'invalid_parameter_value',
        MESSAGE = format('invalid application: key "%s" %s', key, problem),
        HINT = 'See docs/applications.md for the shape of an application.';
END $$;

-- A date value: a JSON string YYYY-MM-DD, or NULL when absent or null.
CREATE FUNCTION imei_registry.application_date(value jsonb, key text)
    RETURNS date LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL OR jsonb_typeof(value) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(value) = 'string' AND value #>> '{}' ~ '^\d{4}-\d{2}-\d{2}$' THEN
        BEGIN
            RETURN (value #>> '{}')::date;      -- refuses 2025-02-30
        EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
            NULL;
        END;
    END IF;
    PERFORM imei_registry.application_shape_error(key, 'must be a date written YYYY-MM-DD');
END $$;

CREATE FUNCTION imei_registry.submit_application(application jsonb)
    RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
    SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    kinds   constant text[] := imei_registry.application_vocabulary('applicant_kind');
    methods constant text[] := imei_registry.application_vocabulary('method');
    doctypes constant text[] := imei_registry.application_vocabulary('document_type');
    applicant jsonb := application -> 'applicant';
    method  text := application ->> 'method';
    bad     text;
    problem text;
    app_id  bigint;
    mci     numeric;
    local_year integer := extract(year FROM pg_catalog.now() AT TIME ZONE 'Asia/Almaty');
BEGIN
    IF application IS NULL OR jsonb_typeof(application) <> 'object' THEN
        PERFORM imei_registry.application_shape_error('(document)', 'must be a JSON object');
    END IF;
    SELECT k INTO bad FROM jsonb_object_keys(application) k
    WHERE k <> ALL (ARRAY['applicant', 'method', 'import_date', 'exporting_country',
                          'delivery_service', 'documents', 'devices', 'replacements'])
    ORDER BY k LIMIT 1;
    IF bad IS NOT NULL THEN
        PERFORM imei_registry.application_shape_error(bad, 'is unknown');
    END IF;

    -- applicant {kind, id}
    IF jsonb_typeof(applicant) IS DISTINCT FROM 'object' THEN
        PERFORM imei_registry.application_shape_error('applicant', 'must be an object {kind, id}');
    END IF;
    SELECT k INTO bad FROM jsonb_object_keys(applicant) k
    WHERE k <> ALL (ARRAY['kind', 'id']) ORDER BY k LIMIT 1;
    IF bad IS NOT NULL THEN
        PERFORM imei_registry.application_shape_error('applicant.' || bad, 'is unknown');
    END IF;
    IF jsonb_typeof(applicant -> 'kind') IS DISTINCT FROM 'string'
       OR NOT (applicant ->> 'kind') = ANY (kinds) THEN
        PERFORM imei_registry.application_shape_error('applicant.kind',
            'must be one of ' || array_to_string(kinds, ', '));
    END IF;
    IF jsonb_typeof(applicant -> 'id') IS DISTINCT FROM 'string' THEN
        PERFORM imei_registry.application_shape_error('applicant.id',
            'must be a string (the IIN or BIN, 12 digits)');
    END IF;

    IF jsonb_typeof(application -> 'method') IS DISTINCT FROM 'string'
       OR NOT method = ANY (methods) THEN
        PERFORM imei_registry.application_shape_error('method',
            'must be one of ' || array_to_string(methods, ', '));
    END IF;
    IF jsonb_typeof(application -> 'exporting_country') NOT IN ('null', 'string')
       OR (application ->> 'exporting_country') !~ '^[A-Z]{2}$' THEN
        PERFORM imei_registry.application_shape_error('exporting_country',
            'must be an ISO 3166-1 alpha-2 code such as "CN"');
    END IF;
    IF jsonb_typeof(application -> 'delivery_service') NOT IN ('null', 'string')
       OR btrim(application ->> 'delivery_service') = '' THEN
        PERFORM imei_registry.application_shape_error('delivery_service', 'must be a non-empty string');
    END IF;
    PERFORM imei_registry.application_date(application -> 'import_date', 'import_date');

    -- documents [{type, number, holder_id, issued_on}]
    IF jsonb_typeof(application -> 'documents') NOT IN ('null', 'array') THEN
        PERFORM imei_registry.application_shape_error('documents', 'must be an array');
    END IF;
    SELECT format('documents[%s]', n - 1) || CASE
               WHEN jsonb_typeof(v) <> 'object' THEN ''
               WHEN k IS NOT NULL THEN '.' || k
               WHEN NOT coalesce(v ->> 'type' = ANY (doctypes), false) THEN '.type'
               ELSE '.' || s END,
           CASE
               WHEN jsonb_typeof(v) <> 'object' THEN 'must be an object'
               WHEN k IS NOT NULL THEN 'is unknown'
               WHEN NOT coalesce(v ->> 'type' = ANY (doctypes), false)
                   THEN 'must be one of ' || array_to_string(doctypes, ', ')
               ELSE 'must be a string' END
    INTO bad, problem
    FROM jsonb_array_elements(CASE jsonb_typeof(application -> 'documents')
                              WHEN 'array' THEN application -> 'documents' END)
         WITH ORDINALITY AS d(v, n)
    LEFT JOIN LATERAL (SELECT k FROM jsonb_object_keys(CASE jsonb_typeof(v) WHEN 'object' THEN v END) k
                       WHERE k <> ALL (ARRAY['type', 'number', 'holder_id', 'issued_on'])
                       ORDER BY k LIMIT 1) uk ON true
    LEFT JOIN LATERAL (SELECT s FROM unnest(ARRAY['type', 'number', 'holder_id']) s
                       WHERE jsonb_typeof(v) = 'object'
                         AND jsonb_typeof(v -> s) NOT IN ('null', 'string')
                       LIMIT 1) ns ON true
    WHERE jsonb_typeof(v) <> 'object' OR k IS NOT NULL OR s IS NOT NULL
       OR NOT coalesce(v ->> 'type' = ANY (doctypes), false)
    ORDER BY n LIMIT 1;
    IF bad IS NOT NULL THEN
        PERFORM imei_registry.application_shape_error(bad, problem);
    END IF;
    PERFORM imei_registry.application_date(v -> 'issued_on', format('documents[%s].issued_on', n - 1))
    FROM jsonb_array_elements(CASE jsonb_typeof(application -> 'documents')
                              WHEN 'array' THEN application -> 'documents' END)
         WITH ORDINALITY AS d(v, n);

    -- devices [{model, imeis: [text]}]
    IF jsonb_typeof(application -> 'devices') NOT IN ('null', 'array') THEN
        PERFORM imei_registry.application_shape_error('devices', 'must be an array');
    END IF;
    SELECT format('devices[%s]', n - 1) || CASE
               WHEN jsonb_typeof(v) <> 'object' THEN ''
               WHEN k IS NOT NULL THEN '.' || k
               WHEN jsonb_typeof(v -> 'model') NOT IN ('null', 'string') THEN '.model'
               ELSE '.imeis' END,
           CASE
               WHEN jsonb_typeof(v) <> 'object' THEN 'must be an object'
               WHEN k IS NOT NULL THEN 'is unknown'
               WHEN jsonb_typeof(v -> 'model') NOT IN ('null', 'string') THEN 'must be a string'
               ELSE 'must be an array of IMEIs' END
    INTO bad, problem
    FROM jsonb_array_elements(CASE jsonb_typeof(application -> 'devices')
                              WHEN 'array' THEN application -> 'devices' END)
         WITH ORDINALITY AS d(v, n)
    LEFT JOIN LATERAL (SELECT k FROM jsonb_object_keys(CASE jsonb_typeof(v) WHEN 'object' THEN v END) k
                       WHERE k <> ALL (ARRAY['model', 'imeis']) ORDER BY k LIMIT 1) uk ON true
    WHERE jsonb_typeof(v) <> 'object' OR k IS NOT NULL
       OR jsonb_typeof(v -> 'model') NOT IN ('null', 'string')
       OR jsonb_typeof(v -> 'imeis') IS DISTINCT FROM 'array'
    ORDER BY n LIMIT 1;
    IF bad IS NULL THEN
        SELECT format('devices[%s].imeis[%s]', n - 1, m - 1),
               'must be a string (an IMEI as typed, 15 digits)'
        INTO bad, problem
        FROM jsonb_array_elements(CASE jsonb_typeof(application -> 'devices')
                                  WHEN 'array' THEN application -> 'devices' END)
             WITH ORDINALITY AS d(v, n),
             jsonb_array_elements(v -> 'imeis') WITH ORDINALITY AS i(e, m)
        WHERE jsonb_typeof(e) <> 'string'
        ORDER BY n, m LIMIT 1;
    END IF;
    IF bad IS NOT NULL THEN
        PERFORM imei_registry.application_shape_error(bad, problem);
    END IF;

    -- replacements [{old_imei, new_imei}], board replacement only
    IF application ? 'replacements' AND jsonb_typeof(application -> 'replacements') <> 'null' THEN
        IF method <> 'board_replacement' THEN
            PERFORM imei_registry.application_shape_error('replacements',
                'is only for method board_replacement');
        END IF;
        IF jsonb_typeof(application -> 'replacements') <> 'array' THEN
            PERFORM imei_registry.application_shape_error('replacements', 'must be an array');
        END IF;
        SELECT format('replacements[%s]', n - 1) || CASE
                   WHEN jsonb_typeof(v) <> 'object' THEN ''
                   WHEN k IS NOT NULL THEN '.' || k
                   WHEN jsonb_typeof(v -> 'old_imei') IS DISTINCT FROM 'string' THEN '.old_imei'
                   ELSE '.new_imei' END,
               CASE
                   WHEN jsonb_typeof(v) <> 'object' THEN 'must be an object'
                   WHEN k IS NOT NULL THEN 'is unknown'
                   ELSE 'must be a string (an IMEI as typed)' END
        INTO bad, problem
        FROM jsonb_array_elements(application -> 'replacements') WITH ORDINALITY AS d(v, n)
        LEFT JOIN LATERAL (SELECT k FROM jsonb_object_keys(CASE jsonb_typeof(v) WHEN 'object' THEN v END) k
                           WHERE k <> ALL (ARRAY['old_imei', 'new_imei']) ORDER BY k LIMIT 1) uk ON true
        WHERE jsonb_typeof(v) <> 'object' OR k IS NOT NULL
           OR jsonb_typeof(v -> 'old_imei') IS DISTINCT FROM 'string'
           OR jsonb_typeof(v -> 'new_imei') IS DISTINCT FROM 'string'
        ORDER BY n LIMIT 1;
        IF bad IS NOT NULL THEN
            PERFORM imei_registry.application_shape_error(bad, problem);
        END IF;
    END IF;

    -- Who pays a fee pays by the MCI in force on the (local) submission date.
    IF imei_registry.fee_mci_per_device(applicant ->> 'kind') > 0 THEN
        SELECT m.tenge INTO mci FROM imei_registry.mci m WHERE m.year = local_year;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no MCI for year %', local_year USING
                ERRCODE = 'object_not_in_prerequisite_state',
                DETAIL = format('An applicant of kind %s pays %s MCI per device at the MCI in force on the submission date.',
                                applicant ->> 'kind',
                                imei_registry.fee_mci_per_device(applicant ->> 'kind')),
                HINT = format('Add it: INSERT INTO imei_registry.mci (year, tenge) VALUES (%s, ...);', local_year);
        END IF;
    END IF;

    INSERT INTO imei_registry.applications
        (applicant_kind, applicant_id, method, import_date, exporting_country,
         delivery_service, mci_tenge)
    VALUES (applicant ->> 'kind', applicant ->> 'id', method,
            imei_registry.application_date(application -> 'import_date', 'import_date'),
            application ->> 'exporting_country', application ->> 'delivery_service', mci)
    RETURNING id INTO app_id;

    INSERT INTO imei_registry.application_documents
        (application_id, ord, type, number, holder_id, issued_on)
    SELECT app_id, n, v ->> 'type', v ->> 'number', v ->> 'holder_id',
           imei_registry.application_date(v -> 'issued_on', 'issued_on')
    FROM jsonb_array_elements(CASE jsonb_typeof(application -> 'documents')
                              WHEN 'array' THEN application -> 'documents' END)
         WITH ORDINALITY AS d(v, n);

    INSERT INTO imei_registry.application_devices (application_id, device_ord, model)
    SELECT app_id, n, v ->> 'model'
    FROM jsonb_array_elements(CASE jsonb_typeof(application -> 'devices')
                              WHEN 'array' THEN application -> 'devices' END)
         WITH ORDINALITY AS d(v, n);

    INSERT INTO imei_registry.application_imeis (application_id, device_ord, ord, imei_text, imei)
    SELECT app_id, n, m, e #>> '{}',
           CASE WHEN imei_registry.imei_is_valid(e #>> '{}')
                THEN (e #>> '{}')::imei_registry.imei END
    FROM jsonb_array_elements(CASE jsonb_typeof(application -> 'devices')
                              WHEN 'array' THEN application -> 'devices' END)
         WITH ORDINALITY AS d(v, n),
         jsonb_array_elements(v -> 'imeis') WITH ORDINALITY AS i(e, m);

    INSERT INTO imei_registry.application_replacements
        (application_id, ord, old_imei_text, new_imei_text, old_imei, new_imei)
    SELECT app_id, n, v ->> 'old_imei', v ->> 'new_imei',
           CASE WHEN imei_registry.imei_is_valid(v ->> 'old_imei')
                THEN (v ->> 'old_imei')::imei_registry.imei END,
           CASE WHEN imei_registry.imei_is_valid(v ->> 'new_imei')
                THEN (v ->> 'new_imei')::imei_registry.imei END
    FROM jsonb_array_elements(CASE jsonb_typeof(application -> 'replacements')
                              WHEN 'array' THEN application -> 'replacements' END)
         WITH ORDINALITY AS d(v, n);

    RETURN app_id;
END $$;
COMMENT ON FUNCTION imei_registry.submit_application(jsonb) IS
    'store an application for verification of lawful import; a malformed document raises 22023 naming the key';

-- ---- the decision ----

CREATE FUNCTION imei_registry.decide_application(id bigint)
    RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
    SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    app        imei_registry.applications;
    n_devices  integer;
    reasons    jsonb;
    rejects    boolean;
    fee        integer;
    result     jsonb;
    expected   bigint;
    done       bigint;
    n          bigint;
    -- reasons that inform but do not reject
    notices    constant text[] := ARRAY['imei_already_white', 'imei_not_in_register'];
BEGIN
    SELECT * INTO app FROM imei_registry.applications a
    WHERE a.id = decide_application.id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'application % does not exist', id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF app.state <> 'submitted' THEN
        RAISE EXCEPTION 'application % is already %', id, app.state
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It was decided at %s.', app.decided_at);
    END IF;

    SELECT count(*) INTO n_devices FROM imei_registry.application_devices d
    WHERE d.application_id = app.id;

    -- Every fact the rules need, gathered set-wise; the rules are C.
    WITH facts AS (
        SELECT ai.device_ord, ai.ord, ai.imei_text, ai.imei,
               r.status::text AS status, r.reason AS status_reason,
               t.model AS tac_model, t.sim_slots,
               ai.imei IS NOT NULL AND row_number() OVER
                   (PARTITION BY ai.imei ORDER BY ai.device_ord, ai.ord) > 1 AS duplicate
        FROM imei_registry.application_imeis ai
        LEFT JOIN imei_registry.registry r ON r.imei OPERATOR(pg_catalog.=) ai.imei
        LEFT JOIN imei_registry.tac t ON t.tac = imei_registry.imei_tac(ai.imei)
        WHERE ai.application_id = app.id
    ), devices AS (
        SELECT d.device_ord, d.model,
               (count(i.imei_text) FILTER (WHERE NOT i.duplicate))::integer AS n_imeis,
               max(i.sim_slots) AS sim_slots,
               coalesce(d.model, min(i.tac_model)) AS expected_model,
               (count(*) FILTER (WHERE i.status = 'white'))::integer AS n_white
        FROM imei_registry.application_devices d
        LEFT JOIN facts i USING (device_ord)
        WHERE d.application_id = app.id
        GROUP BY d.device_ord, d.model
    ), all_reasons AS (
        SELECT 0 AS part, 0 AS k1, 0 AS k2, x.n AS k3, x.reason
        FROM jsonb_array_elements(imei_registry.application_reasons(
                 app.applicant_kind, app.applicant_id, app.method, app.import_date,
                 app.exporting_country, app.delivery_service,
                 ARRAY(SELECT doc.type FROM imei_registry.application_documents doc
                       WHERE doc.application_id = app.id ORDER BY doc.ord),
                 ARRAY(SELECT doc.holder_id FROM imei_registry.application_documents doc
                       WHERE doc.application_id = app.id ORDER BY doc.ord),
                 n_devices,
                 (SELECT count(*)::integer FROM imei_registry.application_replacements rp
                  WHERE rp.application_id = app.id)))
             WITH ORDINALITY AS x(reason, n)
        UNION ALL
        SELECT 1, d.device_ord, 0, x.n, x.reason
        FROM devices d,
             jsonb_array_elements(imei_registry.application_device_reasons(
                 d.device_ord, d.model, d.n_imeis, d.sim_slots, d.n_white, app.method))
             WITH ORDINALITY AS x(reason, n)
        UNION ALL
        SELECT 1, i.device_ord, i.ord, x.n, x.reason
        FROM facts i JOIN devices d USING (device_ord),
             jsonb_array_elements(imei_registry.application_imei_reasons(
                 i.imei_text, i.duplicate, i.status, i.status_reason,
                 d.expected_model, d.model IS NOT NULL, i.tac_model, app.method))
             WITH ORDINALITY AS x(reason, n)
        UNION ALL
        SELECT 2, rp.ord, 0, x.n, x.reason
        FROM (SELECT rp.*, rp.old_imei IS NOT NULL AND row_number() OVER
                         (PARTITION BY rp.old_imei ORDER BY rp.ord) > 1 AS old_duplicate
              FROM imei_registry.application_replacements rp
              WHERE rp.application_id = app.id) rp
        LEFT JOIN imei_registry.registry r ON r.imei OPERATOR(pg_catalog.=) rp.old_imei,
             jsonb_array_elements(imei_registry.application_replacement_reasons(
                 rp.ord, rp.old_imei_text, rp.new_imei_text, r.status::text,
                 EXISTS (SELECT FROM imei_registry.application_imeis ai
                         WHERE ai.application_id = app.id
                           AND ai.imei OPERATOR(pg_catalog.=) rp.new_imei),
                 rp.old_duplicate))
             WITH ORDINALITY AS x(reason, n)
    )
    SELECT coalesce(jsonb_agg(reason ORDER BY part, k1, k2, k3), '[]'),
           coalesce(bool_or(NOT reason ->> 'code' = ANY (notices)), false),
           (SELECT count(*) FROM facts f WHERE f.status <> 'white')
    INTO reasons, rejects, expected
    FROM all_reasons;

    fee := imei_registry.fee_mci_per_device(app.applicant_kind) * n_devices;
    result := jsonb_build_object(
        'decision', CASE WHEN rejects THEN 'rejected' ELSE 'approved' END,
        'reasons', reasons,
        'fee', jsonb_build_object('mci', fee,
                                  'tenge', fee * coalesce(app.mci_tenge, 0)));

    -- The decision first: the registry's transition trigger accepts
    -- application_approved only from an application approved in this
    -- transaction that lists the IMEI.
    UPDATE imei_registry.applications a
    SET state = CASE WHEN rejects THEN 'rejected' ELSE 'approved' END,
        decided_at = pg_catalog.now(), decided_by = SESSION_USER,
        fee_mci = fee, fee_tenge = (result #>> '{fee,tenge}')::numeric,
        decision = result
    WHERE a.id = app.id;

    IF NOT rejects THEN
        -- Approved: every IMEI is valid, listed once, and white, or one the
        -- rules let an application make white (transition_allowed: grey,
        -- or black only for an expired grey period), or not in the
        -- register (left so: the rules start an IMEI white only by an
        -- importer's registration).  Those turn white, and a board
        -- replacement's old IMEIs turn black.  The registry's transition
        -- trigger checks each change and writes its history row.  If a
        -- concurrent change made an IMEI ineligible since the facts were
        -- read, fewer rows change than are due and the decision fails.
        UPDATE imei_registry.registry r
        SET status = 'white', reason = 'application_approved', grey_last_day = NULL,
            application_id = app.id, import_id = NULL,
            note = CASE WHEN app.method = 'board_replacement' THEN
                       (SELECT 'replaces ' || string_agg(rp.old_imei_text, ', ' ORDER BY rp.ord)
                        FROM imei_registry.application_replacements rp
                        WHERE rp.application_id = app.id
                          AND rp.new_imei OPERATOR(pg_catalog.=) ai.imei) END
        FROM imei_registry.application_imeis ai
        WHERE ai.application_id = app.id
          AND r.imei OPERATOR(pg_catalog.=) ai.imei
          AND imei_registry.transition_allowed(r.status, 'white', 'application_approved',
                                               r.reason);
        GET DIAGNOSTICS done = ROW_COUNT;

        IF app.method = 'board_replacement' THEN
            UPDATE imei_registry.registry r
            SET status = 'black', reason = 'replaced', application_id = app.id,
                import_id = NULL, note = 'replaced by ' || rp.new_imei_text
            FROM imei_registry.application_replacements rp
            WHERE rp.application_id = app.id
              AND r.imei OPERATOR(pg_catalog.=) rp.old_imei
              AND imei_registry.transition_allowed(r.status, 'black', 'replaced', r.reason);
            GET DIAGNOSTICS n = ROW_COUNT;
            done := done + n;
            expected := expected + (SELECT count(*) FROM imei_registry.application_replacements rp
                                    WHERE rp.application_id = app.id);
        END IF;

        IF done <> expected THEN
            RAISE EXCEPTION 'the register changed while application % was being decided', id
                USING ERRCODE = 'serialization_failure',
                      DETAIL = format('%s status changes were due, %s were made.', expected, done),
                      HINT = 'Decide the application again.';
        END IF;
    END IF;

    RETURN result;
END $$;
COMMENT ON FUNCTION imei_registry.decide_application(bigint) IS
    'apply every rule to a submitted application; on approval move its IMEIs to white (history via the registry trigger)';
