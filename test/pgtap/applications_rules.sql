-- Applications: one scenario per rule (accepted and each rejection), one per
-- common mistake of the registration rules, and the malformed documents.
-- IMEIs use TACs 861001xx, which no other test uses.
-- Unsigned applications: scripts/test turns imei_registry.require_signature
-- off for this test's database (ALTER DATABASE tap SET, as superuser).
BEGIN;
SET LOCAL search_path = public, imei_registry;
SELECT plan(82);

-- ---- fixtures ----
INSERT INTO imei_registry.mci (year, tenge)
VALUES (extract(year FROM now() AT TIME ZONE 'Asia/Almaty')::int, 4325)
ON CONFLICT (year) DO UPDATE SET tenge = excluded.tenge;
INSERT INTO imei_registry.tac (tac, brand, model, device_type, sim_slots) VALUES
    ('86100101', 'Acme', 'Duo',  'smartphone', 2),    -- SIM + eSIM
    ('86100102', 'Acme', 'Solo', 'smartphone', 1),
    ('86100103', 'Acme', 'Duo',  'smartphone', 2);    -- same model, 2nd TAC
INSERT INTO imei_registry.service_centres (bin, name, valid_from) VALUES
    ('940140000385', 'Acme Service', '2025-01-01');

-- the n-th IMEI of a TAC, as text
CREATE FUNCTION pg_temp.imei(tac text, n int) RETURNS text LANGUAGE sql AS
$$ SELECT imei_registry.imei_from_body(tac || lpad(n::text, 6, '0'))::text $$;
-- register IMEIs grey (as a network's first report would)
CREATE FUNCTION pg_temp.grey(VARIADIC imeis text[]) RETURNS void LANGUAGE sql AS $$
    -- connected 40 days ago: past its last day, so that grey_expired may follow
    INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
    SELECT i::imei_registry.imei, 'grey', 'unverified', now() - interval '40 days' FROM unnest(imeis) i
$$;
\i test/fixtures/approved.sql
-- a registry status as a fixture, with the cause its reason needs
CREATE FUNCTION pg_temp.set_status(imei text, status imei_registry.status, reason text)
RETURNS void LANGUAGE sql AS $$
    UPDATE imei_registry.registry r
    SET status = set_status.status, reason = set_status.reason,
        application_id = CASE WHEN set_status.reason = 'application_approved'
                              THEN pg_temp.approved(r.imei) END
    WHERE r.imei OPERATOR(pg_catalog.=) set_status.imei::imei_registry.imei
$$;
CREATE FUNCTION pg_temp.status(imei text) RETURNS text LANGUAGE sql AS $$
    SELECT r.status || '/' || r.reason FROM imei_registry.registry r
    WHERE r.imei OPERATOR(pg_catalog.=) status.imei::imei_registry.imei
$$;
-- submit, pay the fee in full if one is due (a business application is
-- decided only once paid), decide
CREATE FUNCTION pg_temp.pay(id bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    due numeric;
BEGIN
    SELECT r.fee_tenge INTO due FROM imei_registry.request_payment(id) r;
    IF due > 0 THEN
        PERFORM imei_registry.record_payment(id, due, clock_timestamp(), 'test-' || id);
    END IF;
    RETURN id;
END $$;
CREATE FUNCTION pg_temp.decide(doc jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT imei_registry.decide_application(pg_temp.pay(imei_registry.submit_application(doc)))
$$;
CREATE FUNCTION pg_temp.codes(result jsonb) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(r ->> 'code' ORDER BY n), '{}')
    FROM jsonb_array_elements(result -> 'reasons') WITH ORDINALITY AS x(r, n)
$$;
-- A valid application to vary: an individual's accompanied baggage.
CREATE FUNCTION pg_temp.baggage(imeis jsonb, model text DEFAULT 'Duo') RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'applicant', jsonb_build_object('kind', 'individual', 'id', '901123300258'),
        'method', 'accompanied_baggage', 'import_date', '2025-06-01',
        'exporting_country', 'AE',
        'documents', jsonb_build_array(jsonb_build_object(
            'type', 'border_crossing_certificate', 'number', 'BC-1',
            'holder_id', '901123300258', 'issued_on', '2025-06-01')),
        'devices', jsonb_build_array(jsonb_build_object('model', model, 'imeis', imeis)))
$$;

SELECT pg_temp.grey(pg_temp.imei('86100101', n)) FROM generate_series(1, 80) n;
SELECT pg_temp.grey(pg_temp.imei('86100102', n)) FROM generate_series(1, 20) n;

-- ---- accepted, one per method ----
SELECT is(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 1), pg_temp.imei('86100101', 2)))),
          '{"decision": "approved", "reasons": [], "fee": {"mci": 0, "tenge": 0}}',
          'accompanied baggage with a border-crossing certificate: approved, free for an individual');
SELECT is(pg_temp.status(pg_temp.imei('86100101', 1)) || ' ' || pg_temp.status(pg_temp.imei('86100101', 2)),
          'white/application_approved white/application_approved', 'both IMEIs are white');
SELECT is((SELECT r.application_id FROM imei_registry.registry r
           WHERE r.imei = pg_temp.imei('86100101', 1)::imei_registry.imei),
          (SELECT max(id) FROM imei_registry.applications), 'the register names the application');
SELECT is((SELECT state || ' ' || (decided_at IS NOT NULL) FROM imei_registry.applications
           ORDER BY id DESC LIMIT 1), 'approved true', 'state and decision time are stored');

SELECT is(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 3), pg_temp.imei('86100101', 4)))
             || '{"documents": [{"type": "passenger_customs_declaration", "number": "PCD-7"}]}') ->> 'decision',
          'approved', 'accompanied baggage with a passenger customs declaration');
SELECT is(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "individual", "id": "871008401427"}'::jsonb,
              'method', 'parcel', 'exporting_country', 'CN', 'delivery_service', 'China Post',
              'documents', '[{"type": "tracking_number", "number": "RR123456789CN"}]'::jsonb,
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 1)))))) ->> 'decision',
          'approved', 'parcel with a tracking number');
SELECT is(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "individual", "id": "871008401427"}'::jsonb,
              'method', 'parcel', 'exporting_country', 'DE', 'delivery_service', 'DHL',
              'documents', '[{"type": "passenger_customs_declaration", "number": "N-1"}]'::jsonb,
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 2)))))) ->> 'decision',
          'approved', 'parcel with a passenger customs declaration');
SELECT is(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 5), pg_temp.imei('86100101', 6)))
             || '{"method": "gift"}') ->> 'decision',
          'approved', 'gift carried in baggage, the applicant named on the certificate');
SELECT is(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "individual", "id": "871008401427"}'::jsonb,
              'method', 'gift', 'exporting_country', 'TR', 'delivery_service', 'Kazpost',
              'documents', '[{"type": "tracking_number", "number": "LX1", "holder_id": "871008401427"}]'::jsonb,
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 3)))))) ->> 'decision',
          'approved', 'gift by parcel, the applicant named on the tracking record');
SELECT imei_registry.register_import(ARRAY[pg_temp.imei('86100102', 40)]::imei_registry.imei[], 'Acme Distribution');
SELECT is(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "individual", "id": "901123300258"}'::jsonb,
              'method', 'official_retailer',
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 40)))))) ->> 'decision',
          'approved', 'official retailer: no documents needed for a device its importer registered');
SELECT pg_temp.set_status(pg_temp.imei('86100102', 4), 'white', 'application_approved');
SELECT is(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "legal_entity", "id": "990940003030"}'::jsonb,
              'method', 'commercial_import',
              'documents', '[{"type": "goods_declaration", "number": "GD-1", "holder_id": "990940003030"}]'::jsonb,
              'devices', jsonb_build_array(
                  jsonb_build_object('model', 'Duo', 'imeis', jsonb_build_array(pg_temp.imei('86100101', 7), pg_temp.imei('86100101', 8))),
                  jsonb_build_object('model', 'Solo', 'imeis', jsonb_build_array(pg_temp.imei('86100102', 5)))))),
          '{"decision": "approved", "reasons": [], "fee": {"mci": 2, "tenge": 8650.00}}',
          'commercial import by a legal entity: 1 MCI per device');
SELECT is(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "sole_proprietor", "id": "760212350620"}'::jsonb,
              'method', 'commercial_import',
              'documents', '[{"type": "goods_declaration", "number": "GD-2"}]'::jsonb,
              'devices', jsonb_build_array(
                  jsonb_build_object('model', 'Solo', 'imeis', jsonb_build_array(pg_temp.imei('86100102', 6)))))) -> 'fee',
          '{"mci": 1, "tenge": 4325.00}', 'commercial import by a sole proprietor (IIN) pays too');

-- board replacement: the old IMEI (white) is replaced by the new one
SELECT pg_temp.set_status(pg_temp.imei('86100102', 7), 'white', 'application_approved');
SELECT is(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "service_centre", "id": "940140000385"}'::jsonb,
              'method', 'board_replacement',
              'documents', '[{"type": "service_order", "number": "SO-9"}]'::jsonb,
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 8))))  ,
              'replacements', jsonb_build_array(jsonb_build_object(
                  'old_imei', pg_temp.imei('86100102', 7), 'new_imei', pg_temp.imei('86100102', 8))))),
          '{"decision": "approved", "reasons": [], "fee": {"mci": 1, "tenge": 4325.00}}',
          'board replacement by a service centre');
SELECT is(pg_temp.status(pg_temp.imei('86100102', 7)) || ' ' || pg_temp.status(pg_temp.imei('86100102', 8)),
          'black/replaced white/application_approved', 'old IMEI black (replaced), new IMEI white');
SELECT is((SELECT array_agg(r.note ORDER BY r.imei) FROM imei_registry.registry r
           WHERE r.imei IN (pg_temp.imei('86100102', 7)::imei_registry.imei, pg_temp.imei('86100102', 8)::imei_registry.imei)),
          ARRAY['replaced by ' || pg_temp.imei('86100102', 8), 'replaces ' || pg_temp.imei('86100102', 7)],
          'old and new IMEI are linked');

-- additional IMEI: one IMEI verified (its eSIM not yet seen), then the eSIM
-- shows up grey, same model
SELECT pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 9), pg_temp.imei('86100103', 9))));
SELECT pg_temp.grey(pg_temp.imei('86100103', 9));
SELECT is(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "individual", "id": "901123300258"}'::jsonb,
              'method', 'additional_imei',
              'devices', jsonb_build_array(jsonb_build_object('model', 'Duo',
                  'imeis', jsonb_build_array(pg_temp.imei('86100101', 9), pg_temp.imei('86100103', 9)))))),
          '{"decision": "approved", "reasons": [], "fee": {"mci": 0, "tenge": 0}}',
          'additional IMEI of a verified device: no documents');
SELECT is(pg_temp.status(pg_temp.imei('86100103', 9)), 'white/application_approved', 'the additional IMEI is white');

-- black only for an expired grey period: still verifiable
SELECT pg_temp.set_status(pg_temp.imei('86100101', 10), 'black', 'grey_expired');
SELECT pg_temp.set_status(pg_temp.imei('86100101', 11), 'black', 'grey_expired');
SELECT is(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 10), pg_temp.imei('86100101', 11)))) ->> 'decision',
          'approved', 'black after an expired grey period: approved');
SELECT is(pg_temp.status(pg_temp.imei('86100101', 10)), 'white/application_approved', '... and white');

-- never seen in a network: said, left out of the register
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 12), pg_temp.imei('86100101', 901)))))
          || (SELECT decision ->> 'decision' FROM imei_registry.applications ORDER BY id DESC LIMIT 1),
          ARRAY['imei_not_in_register', 'approved'], 'an IMEI not yet in the register (an unused eSIM) is reported, not held against');
SELECT is(pg_temp.status(pg_temp.imei('86100101', 901)) || pg_temp.status(pg_temp.imei('86100101', 12)),
          NULL || 'white/application_approved', '... it stays out of the register; the grey one is white');

-- the history: one row per change, naming the application, written by the trigger
SELECT results_eq(
    format($$SELECT h.from_status::text, h.to_status::text, h.reason, h.application_id
             FROM imei_registry.history h
             WHERE h.imei IN (%L::imei_registry.imei, %L::imei_registry.imei)
             ORDER BY h.imei, h.id$$, pg_temp.imei('86100102', 7), pg_temp.imei('86100102', 8)),
    format($$VALUES (NULL, 'grey', 'unverified', NULL::bigint),
                    ('grey', 'white', 'application_approved', %s),
                    ('white', 'black', 'replaced', %s),
                    (NULL, 'grey', 'unverified', NULL),
                    ('grey', 'white', 'application_approved', %s)$$,
           (SELECT ai.application_id FROM imei_registry.application_imeis ai
             WHERE ai.imei_text = pg_temp.imei('86100102', 7) ORDER BY ai.application_id LIMIT 1),
           (SELECT id FROM imei_registry.applications WHERE method = 'board_replacement' ORDER BY id LIMIT 1),
           (SELECT id FROM imei_registry.applications WHERE method = 'board_replacement' ORDER BY id LIMIT 1)),
    'board replacement history: old white -> black (replaced), new grey -> white, both naming the application');

-- white by an earlier application: that one proved it, this one is rejected
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 1), pg_temp.imei('86100101', 22))))),
          ARRAY['imei_in_other_application'], 'an IMEI that another application proved is reported');
SELECT is((SELECT decision ->> 'decision' FROM imei_registry.applications ORDER BY id DESC LIMIT 1),
          'rejected', '... and the application is rejected');

-- ---- applicant ----
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), pg_temp.imei('86100101', 14)))
             || '{"applicant": {"kind": "individual", "id": "901123300255"}}')),
          ARRAY['applicant_id_invalid', 'holder_mismatch'], 'a typo in the IIN');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), pg_temp.imei('86100101', 14)))
             || '{"applicant": {"kind": "individual", "id": "990940003030"}}')),
          ARRAY['applicant_kind_mismatch', 'holder_mismatch'], 'an individual with a BIN');
SELECT is(pg_temp.codes(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "legal_entity", "id": "760212350620"}'::jsonb,
              'method', 'commercial_import', 'documents', '[{"type": "goods_declaration", "number": "N-1"}]'::jsonb,
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 9))))))),
          ARRAY['applicant_kind_mismatch'], 'a legal entity with an IIN');
SELECT is(pg_temp.codes(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "service_centre", "id": "901123300258"}'::jsonb,
              'method', 'official_retailer',
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 40))))))),
          ARRAY['applicant_kind_mismatch', 'imei_already_white'], 'a service centre with an IIN');

-- ---- evidence per method ----
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), pg_temp.imei('86100101', 14)))
             - 'import_date' - 'exporting_country')),
          ARRAY['missing_import_date', 'missing_exporting_country'], 'baggage without date and country');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), pg_temp.imei('86100101', 14)))
             - 'documents')),
          ARRAY['missing_evidence'], 'common mistake: no supporting documents');
SELECT matches((pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), pg_temp.imei('86100101', 14)))
             - 'documents') -> 'reasons' -> 0 ->> 'message'),
          'border_crossing_certificate or a passenger_customs_declaration',
          'the message names the documents that would do');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), pg_temp.imei('86100101', 14)))
             || '{"documents": [{"type": "goods_declaration", "number": "N-1"}]}')),
          ARRAY['missing_evidence'], 'baggage with a document of another method');
SELECT is(pg_temp.codes(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "individual", "id": "871008401427"}'::jsonb,
              'method', 'parcel', 'documents', '[{"type": "border_crossing_certificate", "number": "N-1"}]'::jsonb,
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 9))))))),
          ARRAY['missing_exporting_country', 'missing_delivery_service', 'missing_evidence'],
          'parcel: delivery service, country and a declaration or tracking number');
SELECT is(pg_temp.codes(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "legal_entity", "id": "990940003030"}'::jsonb,
              'method', 'commercial_import', 'documents', '[{"type": "passenger_customs_declaration", "number": "N-1"}]'::jsonb,
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 9))))))),
          ARRAY['missing_evidence'], 'commercial import needs a goods declaration');
SELECT is(pg_temp.codes(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "individual", "id": "901123300258"}'::jsonb,
              'method', 'commercial_import', 'documents', '[{"type": "goods_declaration", "number": "N-1"}]'::jsonb,
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 9))))))),
          ARRAY['commercial_import_not_business'], 'commercial import is for businesses');

-- ---- never evidence: rejects even beside a valid document ----
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), pg_temp.imei('86100101', 14)))
             || '{"documents": [{"type": "border_crossing_certificate", "number": "N-1"}, {"type": "warranty_card"}]}')),
          ARRAY['warranty_card_not_evidence'], 'common mistake: a warranty card');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), pg_temp.imei('86100101', 14)))
             || '{"documents": [{"type": "cash_receipt"}, {"type": "passenger_customs_declaration", "number": "N-1"}]}')),
          ARRAY['cash_receipt_not_evidence'], 'common mistake: a cash receipt');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), pg_temp.imei('86100101', 14)))
             || '{"documents": [{"type": "photo"}]}')),
          ARRAY['missing_evidence', 'photo_not_evidence'], 'common mistake: only a photo');
SELECT is(pg_temp.codes(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "individual", "id": "901123300258"}'::jsonb,
              'method', 'official_retailer', 'documents', '[{"type": "cash_receipt"}]'::jsonb,
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 40))))))),
          ARRAY['cash_receipt_not_evidence', 'imei_already_white'], 'a receipt rejects even where no document is needed');

-- ---- the applicant is the person on the import document ----
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), pg_temp.imei('86100101', 14)))
             || '{"documents": [{"type": "border_crossing_certificate", "number": "BC-2", "holder_id": "871008401427"}]}')),
          ARRAY['holder_mismatch'], 'common mistake: applicant details differ from the import document');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), pg_temp.imei('86100101', 14)))
             || '{"method": "gift", "documents": [{"type": "border_crossing_certificate", "number": "BC-2", "holder_id": "871008401427"}]}')),
          ARRAY['holder_mismatch'], 'gift applied for by the recipient, not the holder');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), pg_temp.imei('86100101', 14)))
             || '{"method": "gift", "documents": [{"type": "passenger_customs_declaration", "number": "N-1"}]}')),
          ARRAY['holder_missing'], 'gift whose import document names no holder');

-- ---- board replacement ----
SELECT is(pg_temp.codes(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "legal_entity", "id": "990940003030"}'::jsonb,
              'method', 'board_replacement', 'documents', '[{"type": "service_order", "number": "N-1"}]'::jsonb,
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 10)))),
              'replacements', jsonb_build_array(jsonb_build_object(
                  'old_imei', pg_temp.imei('86100102', 4), 'new_imei', pg_temp.imei('86100102', 10)))))),
          ARRAY['board_replacement_not_service_centre'], 'board replacement is for service centres only');
SELECT is(pg_temp.codes(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "service_centre", "id": "940140000385"}'::jsonb,
              'method', 'board_replacement',
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 10))))))),
          ARRAY['missing_replacements', 'missing_evidence', 'imei_not_replaced'],
          'board replacement without replacements or service order (so its grey IMEI replaces nothing)');
SELECT is(pg_temp.codes(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "service_centre", "id": "940140000385"}'::jsonb,
              'method', 'board_replacement', 'documents', '[{"type": "service_order", "number": "N-1"}]'::jsonb,
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 10)))),
              'replacements', jsonb_build_array(
                  jsonb_build_object('old_imei', pg_temp.imei('86100102', 11), 'new_imei', pg_temp.imei('86100102', 10)),
                  jsonb_build_object('old_imei', pg_temp.imei('86100102', 4), 'new_imei', pg_temp.imei('86100102', 12)))))),
          ARRAY['replaced_imei_not_white', 'replacement_not_declared'],
          'the old IMEI must be white, the new one among the devices');
-- the same old IMEI twice: a clear rejection, not a decision that fails
-- with 40001 on every retry
SELECT is(pg_temp.codes(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "service_centre", "id": "940140000385"}'::jsonb,
              'method', 'board_replacement', 'documents', '[{"type": "service_order", "number": "N-1"}]'::jsonb,
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100102', 10)))),
              'replacements', jsonb_build_array(
                  jsonb_build_object('old_imei', pg_temp.imei('86100102', 4), 'new_imei', pg_temp.imei('86100102', 10)),
                  jsonb_build_object('old_imei', pg_temp.imei('86100102', 4), 'new_imei', pg_temp.imei('86100102', 10)))))),
          ARRAY['replacement_duplicate'], 'an old IMEI listed twice is rejected');
SELECT is(pg_temp.status(pg_temp.imei('86100102', 4)), 'white/application_approved',
          '... and the old IMEI stays white');
-- a grey IMEI of the device that no replacement names: a board replacement
-- makes only its new IMEIs white (the transition trigger's rule), so it is
-- rejected, not approved into a decision that fails on every retry
SELECT pg_temp.set_status(pg_temp.imei('86100101', 71), 'white', 'application_approved');
SELECT is(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "service_centre", "id": "940140000385"}'::jsonb,
              'method', 'board_replacement', 'documents', '[{"type": "service_order", "number": "N-2"}]'::jsonb,
              'devices', jsonb_build_array(jsonb_build_object('model', 'Duo',
                             'imeis', jsonb_build_array(pg_temp.imei('86100101', 72), pg_temp.imei('86100101', 73)))),
              'replacements', jsonb_build_array(jsonb_build_object(
                  'old_imei', pg_temp.imei('86100101', 71), 'new_imei', pg_temp.imei('86100101', 72))))) -> 'reasons',
          jsonb_build_array(jsonb_build_object('code', 'imei_not_replaced', 'imei', pg_temp.imei('86100101', 73),
              'message', 'IMEI ' || pg_temp.imei('86100101', 73) || ' is grey and the new IMEI of no replacement: a board replacement verifies only the new IMEIs of its replacements. Apply for it by the method of its import, or name the old IMEI it replaces.')),
          'board replacement: a grey IMEI that no replacement names is rejected');
SELECT is(pg_temp.status(pg_temp.imei('86100101', 71)) || ' ' || pg_temp.status(pg_temp.imei('86100101', 73)),
          'white/application_approved grey/unverified', '... and nothing changes');

-- ---- devices and IMEIs ----
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13))))),
          ARRAY['missing_imeis'], 'common mistake: one IMEI of a dual-SIM device');
SELECT matches(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13)))) -> 'reasons' -> 0 ->> 'message',
          'has 2 SIM slots \(eSIM included\) but 1 IMEI was given', 'the message counts the slots');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100102', 13), pg_temp.imei('86100102', 14)), 'Solo'))),
          ARRAY['too_many_imeis'], 'two IMEIs for a single-SIM model');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage('[]'))),
          ARRAY['device_without_imeis'], 'a device without IMEIs');
SELECT is(pg_temp.codes(pg_temp.decide(jsonb_set(
              pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 15), pg_temp.imei('86100101', 16))),
              '{devices,1}', '{"model": "Duo", "imeis": []}', true))),
          ARRAY['device_without_imeis'], '... also beside a device that lists its IMEIs');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage('[]') - 'devices')),
          ARRAY['no_devices'], 'an application without devices');
SELECT is(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), '861001010000149'))) -> 'reasons',
          jsonb_build_array(jsonb_build_object('code', 'imei_invalid', 'imei', '861001010000149',
              'message', '"861001010000149" is not a valid IMEI: its check digit should be '
                         || right(pg_temp.imei('86100101', 14), 1) || ', not 9 (a typo?). Check it with *#06# and on the packaging.')),
          'common mistake: a typo, reported per IMEI as typed, with the right check digit');
SELECT is(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), '86100101000014'))) -> 'reasons' -> 0 ->> 'message',
          '"86100101000014" is not a valid IMEI: an IMEI has 15 digits, this has 14. Check it with *#06# and on the packaging.',
          'common mistake: wrong IMEI length');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 13), pg_temp.imei('86100101', 13))))),
          ARRAY['missing_imeis', 'imei_duplicate'], 'the same IMEI twice (so the second slot is missing)');
SELECT pg_temp.set_status(pg_temp.imei('86100101', 15), 'black', 'counterfeit');
SELECT pg_temp.set_status(pg_temp.imei('86100101', 16), 'black', 'gsma_blocked');
SELECT is(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 15), pg_temp.imei('86100101', 16)))) -> 'reasons',
          jsonb_build_array(
              jsonb_build_object('code', 'imei_not_eligible', 'imei', pg_temp.imei('86100101', 15),
                  'message', 'IMEI ' || pg_temp.imei('86100101', 15) || ' is on the black list (counterfeit): an application cannot lift that, only a registry decision.'),
              jsonb_build_object('code', 'imei_not_eligible', 'imei', pg_temp.imei('86100101', 16),
                  'message', 'IMEI ' || pg_temp.imei('86100101', 16) || ' is on the black list (gsma_blocked): an application cannot lift that, only a registry decision.')),
          'counterfeit and GSMA-blocked IMEIs are not eligible');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 17), pg_temp.imei('86100102', 17))))),
          ARRAY['model_mismatch'], 'an IMEI of another model in the device');
SELECT is(pg_temp.codes(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "individual", "id": "901123300258"}'::jsonb,
              'method', 'additional_imei',
              'devices', jsonb_build_array(jsonb_build_object('model', 'Duo',
                  'imeis', jsonb_build_array(pg_temp.imei('86100101', 18), pg_temp.imei('86100101', 19))))))),
          ARRAY['no_verified_imei'], 'additional IMEI: one IMEI must already be white');
SELECT pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 20), pg_temp.imei('86100103', 20))));
SELECT pg_temp.grey(pg_temp.imei('86100199', 20));   -- a TAC the table lacks
SELECT is(pg_temp.codes(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "individual", "id": "901123300258"}'::jsonb,
              'method', 'additional_imei',
              'devices', jsonb_build_array(jsonb_build_object('model', 'Duo',
                  'imeis', jsonb_build_array(pg_temp.imei('86100101', 20), pg_temp.imei('86100199', 20))))))),
          ARRAY['tac_unknown'], 'additional IMEI: the TAC table must know both IMEIs');

-- ---- all reasons at once ----
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage(jsonb_build_array(pg_temp.imei('86100101', 21), '86100101000022'))
             - 'import_date' || '{"documents": [{"type": "border_crossing_certificate", "number": "N-1"}, {"type": "photo"}]}')),
          ARRAY['missing_import_date', 'photo_not_evidence', 'imei_invalid'],
          'three mistakes, three reasons');
SELECT is(pg_temp.status(pg_temp.imei('86100101', 21)), 'grey/unverified', 'a rejection changes no status');
SELECT is((SELECT state FROM imei_registry.applications ORDER BY id DESC LIMIT 1), 'rejected',
          'a rejected application is stored as rejected');
SELECT throws_ok(format('SELECT imei_registry.decide_application(%s)', (SELECT max(id) FROM imei_registry.applications)),
          '55000', NULL, 'an application is decided once');

-- ---- malformed documents: errors naming the key ----
SELECT throws_ok($$SELECT imei_registry.submit_application('{"applicant": {"kind": "individual", "id": "901123300258"}, "method": "parcel", "colour": "red"}')$$,
          '22023', 'invalid application: key "colour" is unknown', 'unknown key');
SELECT throws_ok($$SELECT imei_registry.submit_application('{"applicant": {"kind": "person", "id": "901123300258"}, "method": "parcel"}')$$,
          '22023', 'invalid application: key "applicant.kind" must be one of individual, sole_proprietor, legal_entity, service_centre', 'unknown applicant kind');
SELECT throws_ok($$SELECT imei_registry.submit_application('{"applicant": {"kind": "individual", "id": 901123300258}, "method": "parcel"}')$$,
          '22023', 'invalid application: key "applicant.id" must be a string (the IIN or BIN, 12 digits)', 'identifier as a number');
SELECT throws_ok($$SELECT imei_registry.submit_application('{"applicant": {"kind": "individual", "id": "901123300258"}, "method": "smuggling"}')$$,
          '22023', NULL, 'unknown method');
SELECT throws_ok($$SELECT imei_registry.submit_application('{"applicant": {"kind": "individual", "id": "901123300258"}, "method": "parcel", "documents": [{"type": "selfie"}]}')$$,
          '22023', 'invalid application: key "documents[0].type" must be one of border_crossing_certificate, passenger_customs_declaration, tracking_number, goods_declaration, service_order, warranty_card, cash_receipt, photo', 'unknown document type');
SELECT throws_ok($$SELECT imei_registry.submit_application('{"applicant": {"kind": "individual", "id": "901123300258"}, "method": "parcel", "devices": [{"model": "Duo", "imeis": ["861001010000131", 861001010000149]}]}')$$,
          '22023', 'invalid application: key "devices[0].imeis[1]" must be a string (an IMEI as typed, 15 digits)', 'an IMEI as a JSON number');
SELECT throws_ok($$SELECT imei_registry.submit_application('{"applicant": {"kind": "individual", "id": "901123300258"}, "method": "parcel", "import_date": "2025-02-30"}')$$,
          '22023', 'invalid application: key "import_date" must be a date written YYYY-MM-DD', 'an impossible date');
SELECT throws_ok($$SELECT imei_registry.submit_application('{"applicant": {"kind": "individual", "id": "901123300258"}, "method": "parcel", "exporting_country": "China"}')$$,
          '22023', NULL, 'country not ISO 3166-1 alpha-2');
SELECT throws_ok($$SELECT imei_registry.submit_application('{"applicant": {"kind": "individual", "id": "901123300258"}, "method": "parcel", "replacements": []}')$$,
          '22023', 'invalid application: key "replacements" is only for method board_replacement', 'replacements outside a board replacement');

-- ---- the C rule functions refuse a NULL where a fact is required ----
SELECT throws_ok($$SELECT imei_registry.application_imei_reasons(NULL, false, NULL, NULL, NULL, false, NULL, NULL, 'parcel', false, NULL, NULL, NULL)$$,
          '22004', 'argument imei_text must not be null', 'no IMEI text, no rule');
SELECT throws_ok($$SELECT imei_registry.application_reasons('individual', NULL, 'parcel', NULL, NULL, NULL, NULL, NULL, NULL, 1, 0, false, NULL)$$,
          '22004', 'argument applicant_id must not be null', 'no applicant, no rule');

-- ---- fee ----
SELECT is((SELECT tenge FROM imei_registry.mci WHERE year = 2025), 3932.00::numeric, 'MCI 2025 is shipped: 3,932 tenge');
DELETE FROM imei_registry.mci WHERE year = extract(year FROM now() AT TIME ZONE 'Asia/Almaty');
SELECT lives_ok($$SELECT imei_registry.submit_application('{"applicant": {"kind": "legal_entity", "id": "990940003030"}, "method": "commercial_import"}')$$,
          'a business submits in a year without an MCI: the fee is counted later');
SELECT lives_ok($$SELECT imei_registry.submit_application('{"applicant": {"kind": "individual", "id": "901123300258"}, "method": "official_retailer"}')$$,
          'an individual pays nothing and needs no MCI');

-- ---- signatures (the scenarios: test/sql/signatures.sql) ----
SET LOCAL imei_registry.require_signature = on;
SELECT throws_ok($$SELECT imei_registry.submit_application('{"applicant": {"kind": "individual", "id": "901123300258"}, "method": "official_retailer"}')$$,
          'IR109', NULL, 'an unsigned application is refused while imei_registry.require_signature is on');
SELECT throws_ok($$SELECT imei_registry.submit_application('{"applicant": {"kind": "individual", "id": "901123300258"}, "method": "official_retailer"}', '\x3000')$$,
          'IR100', NULL, 'a signature that is no CMS SignedData is refused');
SET LOCAL imei_registry.require_signature = off;

SELECT * FROM finish();
ROLLBACK;
