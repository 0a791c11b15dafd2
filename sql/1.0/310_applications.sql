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
    'the words of an application: applicant_kind, method, document_type, never_evidence, notice (reasons that do not reject) or country (ISO 3166-1 alpha-2)';
-- Businesses pay 1 MCI per device, individuals nothing.
CREATE FUNCTION imei_registry.fee_mci_per_device(applicant_kind text) RETURNS integer
    AS 'MODULE_PATHNAME', 'application_fee_mci_per_device'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.fee_mci_per_device(text) IS
    'the fee in MCI that an applicant of this kind pays per device';

-- An IIN or BIN as typed, as its number (NULL if it is neither): how
-- identifiers are compared, so that " 901123300258" is 901123300258.
CREATE FUNCTION imei_registry.kzid_key(id text) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN CASE WHEN imei_registry.iin_is_valid(id) THEN id::imei_registry.iin::bigint
                WHEN imei_registry.bin_is_valid(id) THEN id::imei_registry.bin::bigint END;
END
$$;
COMMENT ON FUNCTION imei_registry.kzid_key(text) IS
    'the number of an IIN or BIN as typed (blanks around it ignored), NULL if it is neither';

-- When the payments of an application first added up to fee_tenge; NULL
-- while they do not (a fee of 0 is paid at once: NULL paid_at is then not
-- asked for).
CREATE FUNCTION imei_registry.application_paid_at(id bigint, fee_tenge numeric)
    RETURNS timestamptz LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT min(p.paid_at)
            FROM (SELECT pay.paid_at,
                         sum(pay.tenge) OVER (ORDER BY pay.paid_at, pay.reference) AS total
                  FROM imei_registry.application_payments pay
                  WHERE pay.application_id OPERATOR(pg_catalog.=) application_paid_at.id) p
            WHERE p.total OPERATOR(pg_catalog.>=) application_paid_at.fee_tenge);
END
$$;

-- Does the fee count a device with this many IMEIs entered, this many of
-- them white already?  The one rule (C), for the payment request and the
-- decision.
CREATE FUNCTION imei_registry.fee_counts_device(imeis integer, white integer) RETURNS boolean
    AS 'MODULE_PATHNAME', 'application_fee_counts_device'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.fee_counts_device(integer, integer) IS
    'does the fee count a device of which the application enters this many IMEIs, this many of them white already (all but a device whose IMEIs are all white)?';

-- How many devices of an application the fee counts now
-- (fee_counts_device()), read at the payment request; the decision counts
-- them from the facts it gathers, by the same function.
CREATE FUNCTION imei_registry.application_fee_devices(id bigint)
    RETURNS integer LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- one join and one aggregate (not a sub-query per device)
    RETURN (SELECT count(*)::integer
            FROM (SELECT FROM imei_registry.application_devices d
                  LEFT JOIN imei_registry.application_imeis ai
                         ON ai.application_id OPERATOR(pg_catalog.=) d.application_id
                        AND ai.device_ord OPERATOR(pg_catalog.=) d.device_ord
                  LEFT JOIN imei_registry.registry r ON r.imei OPERATOR(pg_catalog.=) ai.imei
                  WHERE d.application_id OPERATOR(pg_catalog.=) application_fee_devices.id
                  GROUP BY d.device_ord
                  HAVING imei_registry.fee_counts_device(
                             count(ai.imei_text)::integer,
                             (count(*) FILTER (WHERE ai.imei_text IS NOT NULL
                                                 AND r.status = 'white'))::integer)) charged);
END
$$;

-- The MCI of an application's (local) submission year, from
-- imei_registry.mci; fails if the DBA has not added that year yet.
CREATE FUNCTION imei_registry.application_mci(id bigint, submitted_at timestamptz)
    RETURNS numeric LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    y integer := extract(year FROM imei_registry.local_date(submitted_at));
    t numeric;
BEGIN
    SELECT m.tenge INTO t FROM imei_registry.mci m WHERE m.year = y;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no MCI for year %', y USING
            ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = format('The fee of application %s is counted in MCI of its submission year %s, which imei_registry.mci does not have yet.', id, y),
            HINT = format('Add it: INSERT INTO imei_registry.mci (year, tenge) VALUES (%s, ...);', y);
    END IF;
    RETURN t;
END $$;

-- ---- the rules (C) ----

CREATE FUNCTION imei_registry.application_reasons(
        applicant_kind text, applicant_id text, method text, import_date date,
        exporting_country text, delivery_service text, doc_types text[],
        doc_holders text[], doc_numbers text[], n_devices integer,
        n_replacements integer, service_centre_authorised boolean,
        submitted_on date)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'application_reasons'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.application_reasons(text, text, text, date, text, text, text[], text[], text[], integer, integer, boolean, date) IS
    'rules on applicant, method and documents: a jsonb array of reasons, NULL if none';
-- For additional_imei: linked_devices is how many recorded devices its
-- white IMEIs belong to; device_imeis the IMEIs that device has (a
-- replaced board's aside), adding those the application would link to it,
-- device_slots its SIM slots, verified whether it was verified by this
-- applicant, by its importer's registration or by grandfathering.
CREATE FUNCTION imei_registry.application_device_reasons(
        device_ord integer, model text, n_imeis integer, sim_slots integer,
        n_white integer, method text, linked_devices integer,
        device_imeis integer, adding integer, device_slots integer,
        verified boolean)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'application_device_reasons'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.application_device_reasons(integer, text, integer, integer, integer, text, integer, integer, integer, integer, boolean) IS
    'rules on one device (all IMEIs of a multi-SIM device, what it links to): reasons or NULL';
-- entered: the approval enters the IMEI if it is not in the register (a
-- commercial import's IMEIs, a board replacement's new IMEIs);
-- first_seen_on the local date of its first connection; other_application
-- the application (not this one) that its white status names.
CREATE FUNCTION imei_registry.application_imei_reasons(
        imei_text text, duplicate boolean, status text, status_reason text,
        expected_model text, model_declared boolean, tac_brand text,
        tac_model text, method text, entered boolean, import_date date,
        first_seen_on date, other_application bigint)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'application_imei_reasons'
    LANGUAGE C STABLE PARALLEL SAFE;    -- reads a site's reason codes
COMMENT ON FUNCTION imei_registry.application_imei_reasons(text, boolean, text, text, text, boolean, text, text, text, boolean, date, date, bigint) IS
    'rules on one IMEI as typed: valid, once, eligible, of the device''s model, imported before it connected, not proven by another application, registered by its importer: reasons or NULL';
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

-- Stores an application document after checking its shape: the one store
-- behind both submit_application()s (320_signatures.sql: signed, or
-- unsigned where imei_registry.require_signature is off).  Internal.
CREATE FUNCTION imei_registry.application_store(application jsonb)
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

    -- Who pays a fee pays by the MCI of the (local) submission year: fixed
    -- now when it is known, else at the payment request (request_payment).
    IF imei_registry.fee_mci_per_device(applicant ->> 'kind') > 0 THEN
        SELECT m.tenge INTO mci FROM imei_registry.mci m WHERE m.year = local_year;
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
COMMENT ON FUNCTION imei_registry.application_store(jsonb) IS
    'store an application document (shape checked: 22023 naming the key); called by submit_application()';

-- ---- the decision ----

-- A row the decision changes, as the facts found it: the IMEI, the device
-- it goes to (its device_ord; device_id once the devices are made), its
-- status and reason then (the write changes it only if it is still so)
-- and its note.  The writes take them as arrays, so that on Citus they
-- reach each shard with the statement.
CREATE TYPE imei_registry.decision_row AS (
    imei imei_registry.imei, device_ord integer, status imei_registry.status,
    reason text, note text, device_id bigint);
COMMENT ON TYPE imei_registry.decision_row IS
    'a registry row decide_application() changes, as its facts found it';

-- The rows with their devices (device_id the device_ids[i] of their
-- device_ord = device_ords[i]), before the writes: Citus deparses no array
-- subscript in a distributed write.  In C (src/decision_rows.c).
CREATE FUNCTION imei_registry.decision_rows_placed(
    rows imei_registry.decision_row[], device_ords integer[], device_ids bigint[])
    RETURNS imei_registry.decision_row[]
    AS 'MODULE_PATHNAME', 'decision_rows_placed'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
REVOKE EXECUTE ON FUNCTION imei_registry.decision_rows_placed(imei_registry.decision_row[], integer[], bigint[])
    FROM PUBLIC;

-- The registry's device check (src/devices.c) of the devices a decision's
-- writes name, all at once ahead of them (one look-up each, not one opening
-- of the table each): the transition trigger finds them checked.  On one
-- node only: on Citus the triggers run in the nodes' own sessions.
CREATE FUNCTION imei_registry.devices_hold(device_ids bigint[]) RETURNS void
    AS 'MODULE_PATHNAME', 'devices_hold' LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE EXECUTE ON FUNCTION imei_registry.devices_hold(bigint[]) FROM PUBLIC;

-- The facts of an application's devices and IMEIs, the rules applied to
-- each and the writes an approval makes (src/decision_facts.c): its
-- IMEIs read with their rows in rows_rel (the registry, or on Citus the
-- decision's copy of its rows) in one statement, the rest in one pass.
CREATE FUNCTION imei_registry.decision_facts(
    application_id bigint, method text, applicant_id text, import_date date,
    rows_rel regclass,
    OUT reasons jsonb, OUT expected bigint, OUT n_charged integer,
    OUT dev_ords integer[], OUT dev_known bigint[], OUT dev_models text[],
    OUT dev_slots integer[],
    OUT changes imei_registry.decision_row[], OUT entries imei_registry.decision_row[],
    OUT stays imei_registry.decision_row[], OUT merged bigint[])
    AS 'MODULE_PATHNAME', 'decision_facts' LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE EXECUTE ON FUNCTION imei_registry.decision_facts(bigint, text, text, date, regclass)
    FROM PUBLIC;

-- Without JIT: the planner would compile the reading of an application of
-- 10,000 devices' facts for longer than it runs.
CREATE FUNCTION imei_registry.decide_application(id bigint)
    RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
    SET search_path = pg_catalog, imei_registry, pg_temp
    SET jit = off
AS $$
DECLARE
    app        imei_registry.applications;
    n_devices  integer;
    n_replaced integer;
    n_charged  integer;
    device_reasons jsonb;
    replacement_reasons jsonb;
    reasons    jsonb;
    rejects    boolean;
    fee        integer;
    result     jsonb;
    expected   bigint;
    done       bigint;
    n          bigint;
    commercial boolean;
    replacing  boolean;
    authorised boolean;
    new_import bigint;
    import_note text;
    distributed constant boolean := imei_registry.registry_distributed();
    -- the relation the facts read the register's rows from (below)
    rows_rel   text := 'imei_registry.registry';
    decided    imei_registry.imei[];
    -- the writes, as the facts found their rows
    changes    imei_registry.decision_row[];   -- to white
    entries    imei_registry.decision_row[];   -- new in the register, white
    stays      imei_registry.decision_row[];   -- white already: into their device
    retired    imei_registry.decision_row[];   -- a board replacement's old IMEIs: black
    placed_ords integer[];                     -- the devices: device_ord ...
    placed_ids bigint[];                       -- ... and its device_id
    merged     bigint[];
    old_devices bigint[];
    still_used bigint[];
    dev_ords   integer[];
    dev_known  bigint[];
    dev_models text[];
    dev_slots  integer[];
    fee_paid_at timestamptz;
    -- reasons that inform but do not reject
    notices    constant text[] := imei_registry.application_vocabulary('notice');
BEGIN
    -- On Citus (the registry distributed), over one connection per node to
    -- the end of the transaction, so that the shards' transition triggers
    -- see the approval this transaction writes into the placements of
    -- applications.
    IF distributed THEN
        PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);
    END IF;
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
    commercial := app.method = 'commercial_import';
    replacing := app.method = 'board_replacement';

    SELECT count(*) INTO n_devices FROM imei_registry.application_devices d
    WHERE d.application_id = app.id;
    -- a service centre authorised on the local date of submission
    authorised := EXISTS (
        SELECT FROM imei_registry.service_centres sc
        WHERE sc.bin::bigint = imei_registry.kzid_key(app.applicant_id)
          AND imei_registry.local_date(app.submitted_at)
              BETWEEN sc.valid_from AND coalesce(sc.valid_to, 'infinity'));

    -- The register's rows the facts read: on one node the registry itself.
    -- Citus plans no outer join of the application's IMEIs (a reference
    -- table) with a distributed registry but by fetching all of it: there
    -- its rows of the IMEIs and of the old IMEIs they replace are read
    -- first (one statement, each shard probing its own), and for an
    -- additional IMEI the rows of the devices its white IMEIs belong to.
    IF distributed THEN
        decided := ARRAY(SELECT ai.imei FROM imei_registry.application_imeis ai
                         WHERE ai.application_id = app.id AND ai.imei IS NOT NULL
                         UNION
                         SELECT rp.old_imei FROM imei_registry.application_replacements rp
                         WHERE rp.application_id = app.id AND rp.old_imei IS NOT NULL);
        DROP TABLE IF EXISTS pg_temp.decision_registry;
        CREATE TEMP TABLE decision_registry (
            imei imei_registry.imei PRIMARY KEY, status imei_registry.status NOT NULL,
            reason text NOT NULL, reason_base text, device_id bigint,
            first_seen_at timestamptz, application_id bigint) ON COMMIT DROP;
        INSERT INTO pg_temp.decision_registry
        SELECT r.imei, r.status, r.reason, r.reason_base, r.device_id,
               r.first_seen_at, r.application_id
        FROM imei_registry.registry r
        WHERE r.imei OPERATOR(pg_catalog.=) ANY (decided);
        IF app.method = 'additional_imei' THEN
            INSERT INTO pg_temp.decision_registry
            SELECT r.imei, r.status, r.reason, r.reason_base, r.device_id,
                   r.first_seen_at, r.application_id
            FROM imei_registry.registry r
            WHERE r.device_id = ANY (ARRAY(SELECT DISTINCT d.device_id FROM pg_temp.decision_registry d
                                           WHERE d.status = 'white' AND d.device_id IS NOT NULL))
            ON CONFLICT (imei) DO NOTHING;
        END IF;
        ANALYZE pg_temp.decision_registry;
        rows_rel := 'pg_temp.decision_registry';
    END IF;

    -- The rules (C) on the applicant, the method and the documents; then on
    -- each device and IMEI, with the writes an approval makes, by
    -- decision_facts(); then on each board replacement.  The reasons in
    -- that order, a device's followed by its IMEIs'.
    SELECT count(*) INTO n_replaced FROM imei_registry.application_replacements rp
    WHERE rp.application_id = app.id;
    reasons := coalesce(imei_registry.application_reasons(
        app.applicant_kind, app.applicant_id, app.method, app.import_date,
        app.exporting_country, app.delivery_service,
        ARRAY(SELECT doc.type FROM imei_registry.application_documents doc
              WHERE doc.application_id = app.id ORDER BY doc.ord),
        ARRAY(SELECT doc.holder_id FROM imei_registry.application_documents doc
              WHERE doc.application_id = app.id ORDER BY doc.ord),
        ARRAY(SELECT doc.number FROM imei_registry.application_documents doc
              WHERE doc.application_id = app.id ORDER BY doc.ord),
        n_devices, n_replaced, authorised, imei_registry.local_date(app.submitted_at)), '[]');

    SELECT f.reasons, f.expected, f.n_charged, f.dev_ords, f.dev_known, f.dev_models,
           f.dev_slots, f.changes, f.entries, f.stays, f.merged
    INTO device_reasons, expected, n_charged, dev_ords, dev_known, dev_models,
         dev_slots, changes, entries, stays, merged
    FROM imei_registry.decision_facts(app.id, app.method, app.applicant_id, app.import_date,
                                      rows_rel::regclass) f;
    reasons := reasons || coalesce(device_reasons, '[]');

    IF n_replaced > 0 THEN
        EXECUTE format($replacements$
        SELECT coalesce(jsonb_agg(x.reason ORDER BY rp.ord, x.n), '[]')
        FROM (SELECT rp.*, rp.old_imei IS NOT NULL AND row_number() OVER
                         (PARTITION BY rp.old_imei ORDER BY rp.ord) > 1 AS old_duplicate
              FROM imei_registry.application_replacements rp
              WHERE rp.application_id = $1) rp
        LEFT JOIN %1$s r ON r.imei OPERATOR(pg_catalog.=) rp.old_imei,
             jsonb_array_elements(imei_registry.application_replacement_reasons(
                 rp.ord, rp.old_imei_text, rp.new_imei_text, r.status::text,
                 EXISTS (SELECT FROM imei_registry.application_imeis ai
                         WHERE ai.application_id = $1
                           AND ai.imei OPERATOR(pg_catalog.=) rp.new_imei),
                 rp.old_duplicate))
             WITH ORDINALITY AS x(reason, n)
        $replacements$, rows_rel)
        INTO replacement_reasons
        USING app.id;
        reasons := reasons || replacement_reasons;
    END IF;
    rejects := EXISTS (SELECT FROM jsonb_array_elements(reasons) x(reason)
                       WHERE NOT x.reason ->> 'code' = ANY (notices));

    -- The fee, re-checked: each device that still needs verification, at
    -- the MCI of the submission year (fixed at submission or at the payment
    -- request; a missing year fails here).  A business application is
    -- decided only once its payments add up to it.  n_charged: counted
    -- above, from the facts, by fee_counts_device().
    fee := imei_registry.fee_mci_per_device(app.applicant_kind) * n_charged;
    IF fee > 0 AND app.mci_tenge IS NULL THEN
        app.mci_tenge := imei_registry.application_mci(app.id, app.submitted_at);
        UPDATE imei_registry.applications a SET mci_tenge = app.mci_tenge WHERE a.id = app.id;
    END IF;
    IF fee > 0 THEN
        fee_paid_at := imei_registry.application_paid_at(app.id, fee * app.mci_tenge);
        IF fee_paid_at IS NULL THEN
            RAISE EXCEPTION 'application % is not paid: fee_unpaid', id
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The fee is %s MCI = %s tenge for %s device(s) to verify; paid: %s tenge.',
                                      fee, fee * app.mci_tenge, n_charged,
                                      coalesce((SELECT sum(p.tenge) FROM imei_registry.application_payments p
                                                WHERE p.application_id = app.id), 0)),
                      HINT = 'A business application is decided once its fee is paid: imei_registry.request_payment() and imei_registry.record_payment().';
        END IF;
    END IF;
    result := jsonb_build_object(
        'decision', CASE WHEN rejects THEN 'rejected' ELSE 'approved' END,
        'reasons', reasons,
        'fee', jsonb_build_object('mci', fee,
                                  'tenge', fee * coalesce(app.mci_tenge, 0)));

    -- The decision first: the registry's transition trigger accepts
    -- application_approved and an importer's lawful_import only from an
    -- application approved in this transaction that lists the IMEI.
    UPDATE imei_registry.applications a
    SET state = CASE WHEN rejects THEN 'rejected' ELSE 'approved' END,
        decided_at = pg_catalog.now(), decided_by = SESSION_USER,
        fee_mci = fee, fee_tenge = (result #>> '{fee,tenge}')::numeric,
        decision = result
    WHERE a.id = app.id;
    IF rejects THEN
        RETURN result;
    END IF;

    -- Approved: every IMEI is valid, listed once, and white, or one the
    -- rules let an application make white, or not in the register.  A
    -- commercial import is the importer's registration: it makes an
    -- import, and its IMEIs white by lawful_import (the grey ones too),
    -- entering those never seen in a network.  A board replacement enters
    -- its new IMEIs (white by application_approved, even if never
    -- connected) and makes the old ones black (replaced).  Other IMEIs not
    -- in the register stay out of it.  The registry's transition trigger
    -- checks each change and writes its history row.  Each write changes a
    -- row only if it is as the facts found it: if a concurrent change made
    -- an IMEI ineligible since, fewer rows change than are due and the
    -- decision fails.  (Each row found by its IMEI alone, a key probe per
    -- row or a hash of the IMEIs; its status and reason compared after,
    -- not hashed with it.  No "imei = ANY (the IMEIs)" beside the join: its
    -- planning estimated 20,000 constants one by one.)
    IF commercial THEN
        -- (the note computed first: Citus plans no subquery in the VALUES
        -- of an INSERT)
        import_note := format('commercial import, application %s, goods declaration %s', app.id,
                              (SELECT string_agg(coalesce(doc.number, '?'), ', ' ORDER BY doc.ord)
                               FROM imei_registry.application_documents doc
                               WHERE doc.application_id = app.id AND doc.type = 'goods_declaration'));
        INSERT INTO imei_registry.imports (importer, note)
        VALUES (app.applicant_id, import_note)
        RETURNING import_id INTO new_import;
    END IF;

    -- A board replacement's old IMEIs, as the facts' rows show them: black
    -- (replaced) if the rules let them, into the device of the new IMEI.
    IF replacing THEN
        EXECUTE format($retired$
        SELECT array_agg(ROW(rp.old_imei, ai.device_ord, r.status, r.reason,
                             'replaced by ' || rp.new_imei_text, NULL)::imei_registry.decision_row)
                   FILTER (WHERE r.retires),
               array_agg(r.device_id) FILTER (WHERE r.device_id IS NOT NULL)
        FROM imei_registry.application_replacements rp
        JOIN imei_registry.application_imeis ai
          ON ai.application_id = rp.application_id AND ai.imei OPERATOR(pg_catalog.=) rp.new_imei
        JOIN LATERAL (SELECT o.status, o.reason, o.device_id,
                             imei_registry.transition_allowed(o.status, 'black', 'replaced',
                                                              o.reason) AS retires
                      FROM %1$s o WHERE o.imei OPERATOR(pg_catalog.=) rp.old_imei) r ON true
        WHERE rp.application_id = $1
        $retired$, rows_rel)
        INTO retired, old_devices
        USING app.id;
        merged := merged || old_devices;
        expected := expected + n_replaced;
    END IF;

    -- A device the facts found may have gone since they were read (a
    -- concurrent decision merged it into another and deleted it), or one
    -- this merge deletes be named meanwhile: the device check's 23503 is
    -- then a change of the register, as fewer rows changed than are due
    -- (40001, retry).
    BEGIN
        -- The devices, each with all its IMEIs (gathered with the facts: the
        -- device its IMEIs, or the old IMEIs they replace, already belong to,
        -- else a new one, its model and SIM slots from the TAC table).  Made
        -- first, so that the status changes below point their rows to them
        -- (each row is given its device before the writes, not joined to the
        -- devices); rows whose status does not change are pointed to them
        -- after.
        WITH dev AS (
            SELECT * FROM unnest(dev_ords, dev_known, dev_models, dev_slots)
                AS d(device_ord, known, model, sim_slots)
        ), fresh AS (
            SELECT dev.device_ord,
                   pg_catalog.nextval('imei_registry.devices_device_id_seq') AS device_id,
                   dev.model, dev.sim_slots
            FROM dev WHERE dev.known IS NULL
        ), made AS (
            INSERT INTO imei_registry.devices (device_id, model, sim_slots) OVERRIDING SYSTEM VALUE
            SELECT f.device_id, f.model, f.sim_slots FROM fresh f
        ), completed AS (
            UPDATE imei_registry.devices dv
            SET model = coalesce(dv.model, dev.model), sim_slots = coalesce(dv.sim_slots, dev.sim_slots)
            FROM dev
            WHERE dv.device_id = dev.known AND (dv.model IS NULL OR dv.sim_slots IS NULL)
        ), target AS (
            SELECT dev.device_ord, dev.known AS device_id FROM dev WHERE dev.known IS NOT NULL
            UNION ALL
            SELECT f.device_ord, f.device_id FROM fresh f
        )
        SELECT coalesce(array_agg(t.device_ord), '{}'), coalesce(array_agg(t.device_id), '{}')
        INTO placed_ords, placed_ids
        FROM target t;
        IF NOT distributed THEN
            PERFORM imei_registry.devices_hold(placed_ids);
        END IF;
        changes := imei_registry.decision_rows_placed(changes, placed_ords, placed_ids);
        entries := imei_registry.decision_rows_placed(entries, placed_ords, placed_ids);
        stays := imei_registry.decision_rows_placed(stays, placed_ords, placed_ids);
        retired := imei_registry.decision_rows_placed(retired, placed_ords, placed_ids);

        UPDATE imei_registry.registry r
        SET status = 'white',
            reason = CASE WHEN commercial AND c.status = 'grey'
                          THEN 'lawful_import' ELSE 'application_approved' END,
            grey_last_day = NULL, application_id = app.id,
            import_id = CASE WHEN commercial AND c.status = 'grey' THEN new_import END,
            note = c.note, device_id = c.device_id
        FROM unnest(changes) c
        WHERE r.imei OPERATOR(pg_catalog.=) c.imei
          AND (r.status, r.reason) IS NOT DISTINCT FROM (c.status, c.reason);
        GET DIAGNOSTICS done = ROW_COUNT;

        -- New IMEIs (registry rows are never deleted: one found since the
        -- facts were read is a conflict, and fewer rows change than are due)
        IF entries IS NOT NULL THEN
            INSERT INTO imei_registry.registry AS r
                (imei, status, reason, application_id, import_id, note, device_id)
            SELECT e.imei, 'white',
                   CASE WHEN commercial THEN 'lawful_import' ELSE 'application_approved' END,
                   app.id, new_import, e.note, e.device_id
            FROM unnest(entries) e
            ORDER BY e.imei
            ON CONFLICT (imei) DO NOTHING;
            GET DIAGNOSTICS n = ROW_COUNT;
            done := done + n;
        END IF;

        IF retired IS NOT NULL THEN
            UPDATE imei_registry.registry r
            SET status = 'black', reason = 'replaced', application_id = app.id,
                import_id = NULL, note = c.note, device_id = c.device_id
            FROM unnest(retired) c
            WHERE r.imei OPERATOR(pg_catalog.=) c.imei
              AND (r.status, r.reason) IS NOT DISTINCT FROM (c.status, c.reason);
            GET DIAGNOSTICS n = ROW_COUNT;
            done := done + n;
        END IF;

        IF done <> expected THEN
            RAISE EXCEPTION 'the register changed while application % was being decided', id
                USING ERRCODE = 'serialization_failure',
                      DETAIL = format('%s status changes were due, %s were made.', expected, done),
                      HINT = 'Decide the application again.';
        END IF;

        -- the rows whose status did not change (white already): into their
        -- device.  (A row that turned white since the facts were read made
        -- the decision fail above.)
        IF stays IS NOT NULL THEN
            UPDATE imei_registry.registry r SET device_id = c.device_id
            FROM unnest(stays) c
            WHERE r.imei OPERATOR(pg_catalog.=) c.imei
              AND r.device_id IS DISTINCT FROM c.device_id;
        END IF;

        -- devices left without IMEIs by a merge (the IMEIs named none: none;
        -- the registry asked by device first, as Citus plans no correlated
        -- subquery of a distributed table in a DELETE)
        IF merged IS NOT NULL THEN
            still_used := ARRAY(SELECT DISTINCT r.device_id FROM imei_registry.registry r
                                WHERE r.device_id = ANY (merged));
            DELETE FROM imei_registry.devices dv
            WHERE dv.device_id = ANY (merged) AND NOT dv.device_id = ANY (still_used);
        END IF;
    EXCEPTION WHEN foreign_key_violation THEN
        RAISE EXCEPTION 'the register changed while application % was being decided', id
            USING ERRCODE = 'serialization_failure',
                  DETAIL = SQLERRM,
                  HINT = 'Decide the application again.';
    END;
    RETURN result;
END $$;
COMMENT ON FUNCTION imei_registry.decide_application(bigint) IS
    'apply every rule to a submitted application; on approval move its IMEIs to white (history via the registry trigger) and record its devices';

-- ---- the fee ----

-- The payment request: the fee is counted now (the devices that need
-- verification, after any upload_devices) at the MCI of the submission
-- year, which is fixed now if submission could not (a missing year fails
-- here).  It may be asked again while the application is submitted (after
-- an upload, say); decide_application() counts it once more.
CREATE FUNCTION imei_registry.request_payment(application bigint)
    RETURNS TABLE (fee_mci integer, fee_tenge numeric)
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE ROWS 1
    SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    app imei_registry.applications;
    requested_at timestamptz;
BEGIN
    IF imei_registry.registry_distributed() THEN
        PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);
    END IF;
    SELECT * INTO app FROM imei_registry.applications a
    WHERE a.id = request_payment.application FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'application % does not exist', application
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF app.state <> 'submitted' THEN
        RAISE EXCEPTION 'application % is already %', application, app.state
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'A fee is requested for a submitted application.';
    END IF;
    fee_mci := imei_registry.fee_mci_per_device(app.applicant_kind)
               * imei_registry.application_fee_devices(app.id);
    IF fee_mci > 0 AND app.mci_tenge IS NULL THEN
        app.mci_tenge := imei_registry.application_mci(app.id, app.submitted_at);
    END IF;
    fee_tenge := fee_mci * coalesce(app.mci_tenge, 0);
    -- (the time as a value: Citus refuses a VOLATILE function in an UPDATE
    -- of a reference table)
    requested_at := pg_catalog.clock_timestamp();
    UPDATE imei_registry.applications a
    SET mci_tenge = app.mci_tenge, fee_mci = request_payment.fee_mci,
        fee_tenge = request_payment.fee_tenge,
        payment_requested_at = requested_at
    WHERE a.id = app.id;
    RETURN NEXT;
END $$;
COMMENT ON FUNCTION imei_registry.request_payment(bigint) IS
    'count the fee of a submitted application now (devices needing verification, MCI of the submission year) and store it';

-- A payment of the fee, as the payment service confirmed it to the portal.
-- Returns the fee, what has been paid in all and when the fee was paid in
-- full (NULL while it is not).  A reference is recorded once per
-- application.
CREATE FUNCTION imei_registry.record_payment(
        application bigint, tenge numeric, paid_at timestamptz, reference text)
    RETURNS TABLE (fee_tenge numeric, paid_tenge numeric, fee_paid_at timestamptz)
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE ROWS 1
    SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    app imei_registry.applications;
BEGIN
    -- the fee as requested (counted now if it was not)
    SELECT r.fee_tenge INTO fee_tenge FROM imei_registry.request_payment(application) r;
    SELECT * INTO app FROM imei_registry.applications a WHERE a.id = record_payment.application;
    IF fee_tenge = 0 THEN
        RAISE EXCEPTION 'application % has no fee to pay', application
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('An applicant of kind %s pays %s MCI per device, and %s device(s) need verification.',
                                  app.applicant_kind,
                                  imei_registry.fee_mci_per_device(app.applicant_kind),
                                  imei_registry.application_fee_devices(app.id));
    END IF;
    IF tenge <= 0 THEN
        RAISE EXCEPTION 'invalid payment of % tenge for application %', tenge, application
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A payment is a positive amount of tenge.';
    END IF;
    IF NOT pg_catalog.isfinite(paid_at)
       OR paid_at > pg_catalog.clock_timestamp() + interval '10 minutes'
       OR paid_at < app.submitted_at THEN
        RAISE EXCEPTION 'implausible time of payment % for application %', paid_at, application
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A payment is made after the application''s submission and not in the future.';
    END IF;
    IF btrim(reference) = '' OR length(reference) > 200 THEN
        RAISE EXCEPTION 'invalid payment reference for application %', application
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The reference is the payment service''s, 1 to 200 characters.';
    END IF;
    IF EXISTS (SELECT FROM imei_registry.application_payments p
               WHERE p.application_id = app.id AND p.reference = record_payment.reference) THEN
        RAISE EXCEPTION 'payment % of application % is already recorded', reference, application
            USING ERRCODE = 'unique_violation';
    END IF;
    INSERT INTO imei_registry.application_payments (application_id, reference, tenge, paid_at)
    VALUES (app.id, reference, tenge, paid_at);
    paid_tenge := (SELECT sum(p.tenge) FROM imei_registry.application_payments p
                   WHERE p.application_id = app.id);
    fee_paid_at := imei_registry.application_paid_at(app.id, fee_tenge);
    RETURN NEXT;
END $$;
COMMENT ON FUNCTION imei_registry.record_payment(bigint, numeric, timestamptz, text) IS
    'record a payment of an application''s fee (portal); returns the fee, the total paid and when it was paid in full';

-- ---- self-service ----

-- "My applications": the portal has authenticated the applicant and passes
-- the IIN/BIN (compared as a value).  reasons is the decision's (NULL while
-- submitted); paid_at when the fee was paid in full.
CREATE FUNCTION imei_registry.my_applications(applicant text)
    RETURNS TABLE (id bigint, method text, state text, submitted_at timestamptz,
                   decided_at timestamptz, fee_mci integer, fee_tenge numeric,
                   paid_at timestamptz, reasons jsonb)
    LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER PARALLEL SAFE ROWS 10
    SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
BEGIN
    IF imei_registry.kzid_key(applicant) IS NULL THEN
        RAISE EXCEPTION 'invalid applicant "%"', applicant
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'An applicant is identified by a valid IIN or BIN (12 digits).';
    END IF;
    RETURN QUERY
    SELECT a.id, a.method, a.state, a.submitted_at, a.decided_at, a.fee_mci, a.fee_tenge,
           CASE WHEN a.fee_tenge > 0
                THEN imei_registry.application_paid_at(a.id, a.fee_tenge) END,
           a.decision -> 'reasons'
    FROM imei_registry.applications a
    WHERE imei_registry.kzid_key(a.applicant_id) = imei_registry.kzid_key(applicant)
    ORDER BY a.submitted_at DESC, a.id DESC;
END $$;
COMMENT ON FUNCTION imei_registry.my_applications(text) IS
    'the applications of one applicant (IIN/BIN), newest first, for the portal''s "My applications"';
