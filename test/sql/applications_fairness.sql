-- The messages of issue 17's rules: what an applicant and the registry read
-- when a fee is not paid, an MCI is missing, a payment is wrong, another
-- application proved an IMEI first, and for each false verdict refused.
-- Everything runs in one transaction and is rolled back.  (No CONTEXT
-- lines: they name the line of a PL/pgSQL function, not the rule.)
\set ON_ERROR_ROLLBACK on
\set SHOW_CONTEXT never
BEGIN;
SET LOCAL search_path = public, imei_registry;
SET LOCAL imei_registry.require_signature = off;     -- unsigned applications
ALTER TABLE imei_registry.applications ALTER COLUMN id RESTART WITH 17001;
INSERT INTO imei_registry.tac (tac, brand, model, device_type, sim_slots) VALUES
    ('86400201', 'Acme', 'Duo', 'smartphone', 2),
    ('86400202', 'Acme', 'Solo', 'smartphone', 1);
CREATE FUNCTION pg_temp.imei(tac text, n int) RETURNS text LANGUAGE sql AS
$$ SELECT imei_registry.imei_from_body(tac || lpad(n::text, 6, '0'))::text $$;
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
SELECT pg_temp.imei('86400202', n)::imei_registry.imei, 'grey', 'unverified', '2026-11-20 12:00+05'
FROM generate_series(1, 6) n;
CREATE FUNCTION pg_temp.solo(id text, n int) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'applicant', jsonb_build_object('kind', 'individual', 'id', id),
        'method', 'accompanied_baggage', 'import_date', '2025-06-01', 'exporting_country', 'AE',
        'documents', jsonb_build_array(jsonb_build_object(
            'type', 'border_crossing_certificate', 'number', 'BC-17', 'holder_id', id)),
        'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                       'imeis', jsonb_build_array(pg_temp.imei('86400202', n)))))
$$;
CREATE FUNCTION pg_temp.reasons(doc jsonb) RETURNS TABLE (decision text, code text, message text)
LANGUAGE sql AS $$
    SELECT d ->> 'decision', r ->> 'code', r ->> 'message'
    FROM imei_registry.decide_application(imei_registry.submit_application(doc)) d,
         jsonb_array_elements(d -> 'reasons') r
$$;

-- A business pays before the decision; a year without an MCI fails at the
-- payment request, not at submission.
UPDATE imei_registry.mci SET year = 2999 WHERE year = extract(year FROM now() AT TIME ZONE 'Asia/Almaty');
SELECT imei_registry.submit_application(jsonb_build_object(
    'applicant', '{"kind": "legal_entity", "id": "990940003030"}'::jsonb,
    'method', 'commercial_import',
    'documents', '[{"type": "goods_declaration", "number": "GD-17", "holder_id": "990940003030"}]'::jsonb,
    'devices', jsonb_build_array(jsonb_build_object('model', 'Solo', 'imeis', jsonb_build_array(pg_temp.imei('86400202', 1))),
                                 jsonb_build_object('model', 'Solo', 'imeis', jsonb_build_array(pg_temp.imei('86400202', 2))))));
SELECT * FROM imei_registry.request_payment(17001);
SELECT imei_registry.decide_application(17001);
UPDATE imei_registry.mci SET year = extract(year FROM now() AT TIME ZONE 'Asia/Almaty') WHERE year = 2999;
SELECT * FROM imei_registry.request_payment(17001);
SELECT imei_registry.decide_application(17001);
SELECT fee_tenge, paid_tenge, fee_paid_at IS NOT NULL AS paid
FROM imei_registry.record_payment(17001, 4000, now(), 'KASPI-1');
SELECT imei_registry.record_payment(17001, 4000, now(), 'KASPI-1');
SELECT imei_registry.record_payment(17001, 0, now(), 'KASPI-2');
SELECT imei_registry.record_payment(17001, 10, '2099-01-01 00:00+05', 'KASPI-2');
SELECT imei_registry.record_payment(17001, 10, now(), '');
SELECT imei_registry.decide_application(17001);
SELECT fee_tenge, paid_tenge, fee_paid_at IS NOT NULL AS paid
FROM imei_registry.record_payment(17001, 4650, now(), 'KASPI-2');
SELECT imei_registry.decide_application(17001) -> 'fee' AS fee;
SELECT imei_registry.record_payment(imei_registry.submit_application(pg_temp.solo('901123300258', 3)), 100, now(), 'X');

-- Two applications list the same IMEI: the first that proves it wins.
SELECT imei_registry.submit_application(pg_temp.solo('901123300258', 4)) AS first,
       imei_registry.submit_application(pg_temp.solo('871008401427', 4)) AS second \gset
SELECT :first < :second AS "both submitted";
SELECT imei_registry.decide_application(:first) ->> 'decision' AS first;
SELECT d ->> 'decision' AS second, r ->> 'code' AS code,
       replace(r ->> 'message', :'first', '<first>') AS message
FROM imei_registry.decide_application(:second) d, jsonb_array_elements(d -> 'reasons') r;

-- The verdicts: each refusal says why.
SELECT * FROM pg_temp.reasons(pg_temp.solo('901123300258', 5)
    || '{"documents": [{"type": "border_crossing_certificate", "holder_id": "901123300258"}]}');
SELECT * FROM pg_temp.reasons(pg_temp.solo('901123300258', 5)
    || '{"documents": [{"type": "border_crossing_certificate", "number": "BC-2", "holder_id": "871008401427"}]}');
SELECT * FROM pg_temp.reasons(pg_temp.solo('901123300258', 5) || '{"import_date": "9999-12-31"}');
SELECT * FROM pg_temp.reasons(pg_temp.solo('901123300258', 5) || '{"import_date": "2026-11-25"}');
SELECT * FROM pg_temp.reasons(pg_temp.solo('901123300258', 5) || '{"exporting_country": "KZ"}');
SELECT * FROM pg_temp.reasons(pg_temp.solo('901123300258', 5) || '{"exporting_country": "XX"}');
SELECT * FROM pg_temp.reasons(pg_temp.solo('901123300258', 5)
    || '{"devices": [{"model": "Solo Max", "imeis": ["864002020000056"]}]}');
SELECT * FROM pg_temp.reasons(pg_temp.solo('901123300258', 5)
    || '{"devices": [{"model": "acme  SOLO", "imeis": ["864002020000056"]}]}');
SELECT * FROM pg_temp.reasons(pg_temp.solo('901123300258', 6)
    || '{"devices": [{"model": "Mystery", "imeis": ["864002990000011"]}]}');
-- identifiers compared as IIN values: approved, no reason
SELECT d ->> 'decision' AS decision, d -> 'reasons' AS reasons
FROM imei_registry.decide_application(imei_registry.submit_application(pg_temp.solo('901123300258', 6)
    || '{"documents": [{"type": "border_crossing_certificate", "number": "BC-3", "holder_id": " 901123300258"}]}')) d;

-- "My applications", as the portal sees them.
SET LOCAL ROLE imei_registry_portal;
SELECT method, state, fee_mci, fee_tenge, paid_at IS NOT NULL AS paid,
       ARRAY(SELECT r ->> 'code' FROM jsonb_array_elements(reasons) r) AS reasons
FROM imei_registry.my_applications(' 901123300258') ORDER BY id;
SELECT id, state, fee_mci, fee_tenge, paid_at IS NOT NULL AS paid
FROM imei_registry.my_applications('990940003030');
SELECT * FROM imei_registry.my_applications('990940003031');
SELECT count(*) FROM imei_registry.applications;
RESET ROLE;
ROLLBACK;
