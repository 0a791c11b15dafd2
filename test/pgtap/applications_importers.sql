-- Applications that must not whiten what must stay grey (issue 16): the
-- importer's registration (commercial import, register_import), the
-- official retailer as the importer's word, authorised service centres, and
-- devices recorded with all their IMEIs (additional_imei linked to them).
-- IMEIs use TACs 86200101-86200104, which no other test uses.
-- Unsigned applications: scripts/test turns imei_registry.require_signature
-- off for this test's database (ALTER DATABASE tap SET, as superuser).
BEGIN;
SET LOCAL search_path = public, imei_registry;
SELECT plan(65);

-- ---- fixtures ----
INSERT INTO imei_registry.mci (year, tenge)
VALUES (extract(year FROM now() AT TIME ZONE 'Asia/Almaty')::int, 4325)
ON CONFLICT (year) DO UPDATE SET tenge = excluded.tenge;
INSERT INTO imei_registry.tac (tac, brand, model, device_type, sim_slots) VALUES
    ('86200101', 'Acme', 'Duo',  'smartphone', 2),    -- SIM + eSIM
    ('86200102', 'Acme', 'Solo', 'smartphone', 1),
    ('86200103', 'Acme', 'Trio', 'smartphone', 3),    -- two SIMs + eSIM
    ('86200104', 'Acme', 'Duo Pro', 'smartphone', 2);  -- contains "Duo" too
INSERT INTO imei_registry.operators (code, name) VALUES ('op16', 'Operator 16')
ON CONFLICT DO NOTHING;

CREATE FUNCTION pg_temp.imei(tac text, n int) RETURNS text LANGUAGE sql AS
$$ SELECT imei_registry.imei_from_body(tac || lpad(n::text, 6, '0'))::text $$;
CREATE FUNCTION pg_temp.connect(VARIADIC imeis text[]) RETURNS void LANGUAGE sql AS $$
    SELECT imei_registry.report_connection(i::imei_registry.imei, 'op16') FROM unnest(imeis) i
$$;
CREATE FUNCTION pg_temp.status(imei text) RETURNS text LANGUAGE sql AS $$
    SELECT r.status || '/' || r.reason FROM imei_registry.registry r
    WHERE r.imei OPERATOR(pg_catalog.=) status.imei::imei_registry.imei
$$;
CREATE FUNCTION pg_temp.device(imei text) RETURNS bigint LANGUAGE sql AS $$
    SELECT r.device_id FROM imei_registry.registry r
    WHERE r.imei OPERATOR(pg_catalog.=) device.imei::imei_registry.imei
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
CREATE FUNCTION pg_temp.commercial(bin text, devices jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'applicant', jsonb_build_object('kind', 'legal_entity', 'id', bin),
        'method', 'commercial_import',
        'documents', jsonb_build_array(jsonb_build_object(
            'type', 'goods_declaration', 'number', 'GD-16', 'holder_id', bin)),
        'devices', devices)
$$;
CREATE FUNCTION pg_temp.retail(kind text, id text, VARIADIC imeis text[]) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'applicant', jsonb_build_object('kind', kind, 'id', id),
        'method', 'official_retailer',
        'devices', jsonb_build_array(jsonb_build_object('imeis', to_jsonb(imeis))))
$$;
CREATE FUNCTION pg_temp.baggage(id text, VARIADIC imeis text[]) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'applicant', jsonb_build_object('kind', 'individual', 'id', id),
        'method', 'accompanied_baggage', 'import_date', '2025-06-01',
        'exporting_country', 'AE',
        'documents', jsonb_build_array(jsonb_build_object(
            'type', 'border_crossing_certificate', 'number', 'BC-16', 'holder_id', id)),
        'devices', jsonb_build_array(jsonb_build_object('imeis', to_jsonb(imeis))))
$$;
CREATE FUNCTION pg_temp.additional(id text, VARIADIC imeis text[]) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'applicant', jsonb_build_object('kind', 'individual', 'id', id),
        'method', 'additional_imei',
        'devices', jsonb_build_array(jsonb_build_object('imeis', to_jsonb(imeis))))
$$;
CREATE FUNCTION pg_temp.replacement(bin text, old text, new text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'applicant', jsonb_build_object('kind', 'service_centre', 'id', bin),
        'method', 'board_replacement',
        'documents', '[{"type": "service_order", "number": "SO-16"}]'::jsonb,
        'devices', jsonb_build_array(jsonb_build_object('imeis', jsonb_build_array(new))),
        'replacements', jsonb_build_array(jsonb_build_object('old_imei', old, 'new_imei', new)))
$$;

-- ---- the rules' table ----
SELECT results_eq(
    $$SELECT from_status::text, to_status::text, reason, conditions FROM imei_registry.transition_rules()
      WHERE (from_status IS NULL AND to_status = 'white') OR (from_status = 'grey' AND to_status = 'white')$$,
    $$VALUES (NULL, 'white', 'lawful_import', '{import}'::text[]),
             (NULL, 'white', 'grandfathered', '{connected_before_rules}'),
             (NULL, 'white', 'application_approved', '{application,board_replacement}'),
             ('grey', 'white', 'application_approved', '{application}'),
             ('grey', 'white', 'lawful_import', '{import,application,commercial_import}'),
             ('grey', 'white', 'grandfathered', '{connected_before_rules}')$$,
    'a new IMEI starts white as a replacement''s new IMEI; grey turns white by lawful_import only from a commercial import');

-- ---- importers register: a commercial import of unsold phones ----
SELECT is(pg_temp.decide(pg_temp.commercial('990940003030', jsonb_build_array(
              jsonb_build_object('model', 'Duo', 'imeis', jsonb_build_array(pg_temp.imei('86200101', 1), pg_temp.imei('86200101', 2))),
              jsonb_build_object('model', 'Duo', 'imeis', jsonb_build_array(pg_temp.imei('86200101', 3), pg_temp.imei('86200101', 4)))))),
          '{"decision": "approved", "reasons": [], "fee": {"mci": 2, "tenge": 8650.00}}',
          'commercial import of phones never connected: approved, no "not in register", 1 MCI per device');
SELECT is(array_agg(pg_temp.status(pg_temp.imei('86200101', n)) ORDER BY n),
          array_fill('white/lawful_import'::text, ARRAY[4]),
          'every listed IMEI enters the register white (lawful_import), connected or not')
FROM generate_series(1, 4) n;
SELECT is((SELECT count(*)::int FROM imei_registry.registry r
           JOIN imei_registry.imports i ON i.import_id = r.import_id
           WHERE r.imei IN (pg_temp.imei('86200101', 1)::imei_registry.imei, pg_temp.imei('86200101', 4)::imei_registry.imei)
             AND r.application_id = (SELECT max(id) FROM imei_registry.applications)
             AND i.importer = '990940003030' AND i.note LIKE '%GD-16%'),
          2, 'each is linked to the application and to the import it made (importer = the BIN)');
SELECT is((SELECT status::text || '/' || reason FROM imei_registry.check_imei(pg_temp.imei('86200101', 3)::imei_registry.imei)),
          'white/lawful_import', 'the check before purchase of an unsold registered device says white');
SELECT results_eq(
    format($$SELECT h.from_status::text, h.to_status::text, h.reason, h.import_id IS NOT NULL
             FROM imei_registry.history h WHERE h.imei = %L::imei_registry.imei ORDER BY h.id$$,
           pg_temp.imei('86200101', 1)),
    $$VALUES (NULL, 'white', 'lawful_import', true)$$,
    'its history: entered white by the importer''s registration');
-- a buyer switches one on
SELECT is(imei_registry.report_connection(pg_temp.imei('86200101', 1)::imei_registry.imei, 'op16')::text,
          'white', 'a buyer''s first connection finds it white');
SELECT is((SELECT status::text || ' ' || (first_seen_at IS NOT NULL) FROM imei_registry.registry
           WHERE imei = pg_temp.imei('86200101', 1)::imei_registry.imei),
          'white true', '... and it stays white, its first connection recorded');
-- the devices
SELECT is((SELECT array_agg(DISTINCT d.model || '/' || d.sim_slots || '/' ||
                  (SELECT count(*) FROM imei_registry.registry r WHERE r.device_id = d.device_id))
           FROM imei_registry.devices d
           WHERE d.device_id IN (SELECT pg_temp.device(pg_temp.imei('86200101', n)) FROM generate_series(1, 4) n)),
          ARRAY['Duo/2/2'], 'two devices recorded, each Duo with its 2 SIM slots and both its IMEIs');
SELECT isnt(pg_temp.device(pg_temp.imei('86200101', 1)), pg_temp.device(pg_temp.imei('86200101', 3)),
            'the two devices are two');

-- grey IMEIs of a commercial import become white by lawful_import
SELECT pg_temp.connect(pg_temp.imei('86200102', 1), pg_temp.imei('86200102', 2));
SELECT is(pg_temp.decide(pg_temp.commercial('990940003030', jsonb_build_array(
              jsonb_build_object('imeis', jsonb_build_array(pg_temp.imei('86200102', 1))),
              jsonb_build_object('imeis', jsonb_build_array(pg_temp.imei('86200102', 2)))))) ->> 'decision',
          'approved', 'a commercial import of phones already seen grey');
SELECT is(pg_temp.status(pg_temp.imei('86200102', 1)) || ' ' || pg_temp.status(pg_temp.imei('86200102', 2)),
          'white/lawful_import white/lawful_import', 'grey -> white by lawful_import');
SELECT results_eq(
    format($$SELECT h.from_status::text, h.to_status::text, h.reason,
                    h.application_id IS NOT NULL AND h.import_id IS NOT NULL
             FROM imei_registry.history h WHERE h.imei = %L::imei_registry.imei ORDER BY h.id$$,
           pg_temp.imei('86200102', 1)),
    $$VALUES (NULL, 'grey', 'unverified', false), ('grey', 'white', 'lawful_import', true)$$,
    'the history names the application and the import');

-- a bare register_import leaves a grey IMEI grey
SELECT pg_temp.connect(pg_temp.imei('86200102', 3));
SELECT is((SELECT status::text || ' ' || registered FROM imei_registry.register_import(
               ARRAY[pg_temp.imei('86200102', 3)]::imei_registry.imei[], 'Acme Distribution')),
          'grey false', 'register_import: a grey IMEI stays grey (it needs an application)');
SELECT throws_ok(format($$UPDATE imei_registry.registry SET status = 'white', reason = 'lawful_import',
                            import_id = (SELECT max(import_id) FROM imei_registry.imports)
                          WHERE imei = %L::imei_registry.imei$$, pg_temp.imei('86200102', 3)),
          'IR001', format('IMEI %s cannot change from grey to white by reason "lawful_import" without its cause', pg_temp.imei('86200102', 3)),
          'grey -> white by lawful_import with only an import: refused');
SELECT throws_ok(format($$UPDATE imei_registry.registry SET status = 'white', reason = 'lawful_import',
                            import_id = (SELECT max(import_id) FROM imei_registry.imports),
                            application_id = (SELECT min(id) FROM imei_registry.applications WHERE state = 'approved')
                          WHERE imei = %L::imei_registry.imei$$, pg_temp.imei('86200102', 3)),
          'IR001', NULL, '... and naming an approved commercial import that does not list it: refused');
SELECT pg_temp.connect(pg_temp.imei('86200102', 4));
SELECT pg_temp.decide(pg_temp.baggage('901123300258', pg_temp.imei('86200102', 4)));
SELECT throws_ok(format($$UPDATE imei_registry.registry SET status = 'white', reason = 'lawful_import',
                            import_id = (SELECT max(import_id) FROM imei_registry.imports),
                            application_id = (SELECT max(id) FROM imei_registry.applications)
                          WHERE imei = %L::imei_registry.imei$$, pg_temp.imei('86200102', 3)),
          'IR001', NULL, 'grey -> white by lawful_import naming a baggage application: refused');
SELECT is(pg_temp.status(pg_temp.imei('86200102', 3)), 'grey/unverified', '... it stays grey');
-- a commercial import without a goods declaration is rejected and whitens nothing
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.commercial('990940003030', jsonb_build_array(
              jsonb_build_object('imeis', jsonb_build_array(pg_temp.imei('86200102', 3)))))
              || '{"documents": [{"type": "cash_receipt"}]}')),
          ARRAY['missing_evidence', 'cash_receipt_not_evidence'], 'commercial import without a goods declaration');
SELECT is(pg_temp.status(pg_temp.imei('86200102', 3)), 'grey/unverified', '... grey still');

-- ---- official retailer = the importer's word ----
SELECT pg_temp.connect(pg_temp.imei('86200102', 10));      -- smuggled: seen grey
SELECT is(pg_temp.decide(pg_temp.retail('individual', '901123300258', pg_temp.imei('86200102', 10))),
          jsonb_build_object('decision', 'rejected', 'fee', '{"mci": 0, "tenge": 0}'::jsonb,
              'reasons', jsonb_build_array(jsonb_build_object(
                  'code', 'not_registered_by_importer', 'imei', pg_temp.imei('86200102', 10),
                  'message', 'IMEI ' || pg_temp.imei('86200102', 10) || ' has not been registered by an importer, so it was not sold by an official retailer: ask the seller to have the importer register the device, or apply with the documents of how it was imported.'))),
          'a smuggled grey phone claimed as bought from an official retailer: rejected, the buyer told what to do');
SELECT is(pg_temp.status(pg_temp.imei('86200102', 10)), 'grey/unverified', '... it stays grey');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.retail('individual', '901123300258', pg_temp.imei('86200102', 11)))),
          ARRAY['not_registered_by_importer'], 'a phone never seen and never registered: rejected too');
SELECT is(pg_temp.status(pg_temp.imei('86200102', 11)), NULL, '... and left out of the register');
SELECT imei_registry.register_import(ARRAY[pg_temp.imei('86200102', 12)]::imei_registry.imei[], 'Acme Distribution');
SELECT is(pg_temp.decide(pg_temp.retail('legal_entity', '990940003030', pg_temp.imei('86200102', 12))),
          jsonb_build_object('decision', 'approved', 'fee', '{"mci": 0, "tenge": 0}'::jsonb,
              'reasons', jsonb_build_array(jsonb_build_object(
                  'code', 'imei_already_white', 'imei', pg_temp.imei('86200102', 12),
                  'message', 'IMEI ' || pg_temp.imei('86200102', 12) || ' was registered by its importer and is already on the white list: it needs no verification.'))),
          'a device its importer registered: approved, said white already, fee 0 even for a business');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.retail('individual', '901123300258', pg_temp.imei('86200101', 1), pg_temp.imei('86200101', 2)))),
          ARRAY['imei_already_white', 'imei_already_white'], 'a device of an approved commercial import: white already');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.retail('individual', '901123300258', pg_temp.imei('86200102', 12))
              || jsonb_build_object('devices', jsonb_build_array(
                     jsonb_build_object('imeis', jsonb_build_array(pg_temp.imei('86200102', 12))),
                     jsonb_build_object('imeis', jsonb_build_array(pg_temp.imei('86200102', 10))))))),
          ARRAY['imei_already_white', 'not_registered_by_importer'], 'one registered, one not: rejected for the one');

-- ---- authorised service centres ----
INSERT INTO imei_registry.service_centres (bin, name, valid_from, valid_to) VALUES
    ('940140000385', 'Acme Service', '2025-01-01', NULL),
    ('050140001238', 'Former Service', '2025-01-01', '2025-03-31');
SELECT pg_temp.connect(pg_temp.imei('86200102', 20));
SELECT pg_temp.decide(pg_temp.baggage('901123300258', pg_temp.imei('86200102', 20)));
SELECT is(pg_temp.status(pg_temp.imei('86200102', 20)), 'white/application_approved', 'a white phone whose board is replaced');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.replacement('990940003030', pg_temp.imei('86200102', 20), pg_temp.imei('86200102', 21)))),
          ARRAY['service_centre_not_authorised'], 'a BIN that is no authorised service centre: rejected');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.replacement('050140001238', pg_temp.imei('86200102', 20), pg_temp.imei('86200102', 21)))),
          ARRAY['service_centre_not_authorised'], 'a service centre whose authorisation ended: rejected');
SELECT is(pg_temp.status(pg_temp.imei('86200102', 20)), 'white/application_approved', '... the stranger''s white IMEI stays white');
SELECT is(pg_temp.decide(pg_temp.replacement('940140000385', pg_temp.imei('86200102', 20), pg_temp.imei('86200102', 21))) ->> 'decision',
          'approved', 'an authorised service centre replaces the board; the new IMEI was never connected');
SELECT is(pg_temp.status(pg_temp.imei('86200102', 20)) || ' ' || pg_temp.status(pg_temp.imei('86200102', 21)),
          'black/replaced white/application_approved', 'old IMEI black (replaced), new IMEI white though never connected');
SELECT is((SELECT status::text FROM imei_registry.check_imei(pg_temp.imei('86200102', 21)::imei_registry.imei)),
          'white', 'the repaired phone comes back white');
SELECT ok(pg_temp.device(pg_temp.imei('86200102', 20)) IS NOT NULL
          AND pg_temp.device(pg_temp.imei('86200102', 20)) = pg_temp.device(pg_temp.imei('86200102', 21)),
          'old and new IMEI belong to one device');
SELECT results_eq(
    format($$SELECT h.from_status::text, h.to_status::text, h.reason, h.note
             FROM imei_registry.history h WHERE h.imei = %L::imei_registry.imei ORDER BY h.id$$,
           pg_temp.imei('86200102', 21)),
    format($$VALUES (NULL, 'white', 'application_approved', %L)$$, 'replaces ' || pg_temp.imei('86200102', 20)),
    'the new IMEI''s history: entered white, naming the IMEI it replaces');
SELECT throws_ok(format($$INSERT INTO imei_registry.registry (imei, status, reason) VALUES (%L, 'white', 'application_approved')$$,
                        pg_temp.imei('86200102', 22)),
          'IR001', format('new IMEI %s cannot start white by reason "application_approved" without its cause', pg_temp.imei('86200102', 22)),
          'a new IMEI does not start white by application_approved on its own');
SELECT throws_ok(format($$INSERT INTO imei_registry.registry (imei, status, reason, application_id) VALUES (%L, 'white', 'application_approved', %s)$$,
                        pg_temp.imei('86200102', 22),
                        (SELECT max(id) FROM imei_registry.applications WHERE method = 'board_replacement' AND state = 'approved')),
          'IR001', NULL, '... nor naming a board replacement whose new IMEI it is not');
SELECT ok(has_table_privilege('imei_registry_reader', 'imei_registry.service_centres', 'SELECT')
          AND has_table_privilege('imei_registry_admin', 'imei_registry.service_centres', 'INSERT')
          AND NOT has_table_privilege('imei_registry_portal', 'imei_registry.service_centres', 'INSERT'),
          'service centres: public, kept by the admin');

-- ---- devices: a flat register_import, one device per IMEI ----
SELECT imei_registry.register_import(ARRAY[pg_temp.imei('86200101', 30), pg_temp.imei('86200101', 31)]::imei_registry.imei[], 'Acme Distribution');
SELECT ok(pg_temp.device(pg_temp.imei('86200101', 30)) IS NOT NULL
          AND pg_temp.device(pg_temp.imei('86200101', 30)) <> pg_temp.device(pg_temp.imei('86200101', 31)),
          'register_import: each IMEI a device of its own');
SELECT is((SELECT model || '/' || sim_slots FROM imei_registry.devices WHERE device_id = pg_temp.device(pg_temp.imei('86200101', 30))),
          'Duo/2', '... model and slots from the TAC table');
-- the eSIM of that device connects grey; the buyer links it
SELECT pg_temp.connect(pg_temp.imei('86200101', 32));
SELECT is(pg_temp.decide(pg_temp.additional('760212350620', pg_temp.imei('86200101', 30), pg_temp.imei('86200101', 32))) ->> 'decision',
          'approved', 'additional_imei for a device its importer registered: approved for any applicant');
SELECT is(pg_temp.status(pg_temp.imei('86200101', 32)), 'white/application_approved', '... the eSIM is white');
SELECT is(pg_temp.device(pg_temp.imei('86200101', 32)), pg_temp.device(pg_temp.imei('86200101', 30)),
          '... and joins the device');
-- the reuse: one white dual-SIM IMEI for further grey IMEIs
SELECT pg_temp.connect(pg_temp.imei('86200101', 33), pg_temp.imei('86200101', 34), pg_temp.imei('86200101', 35));
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.additional('871008401427', pg_temp.imei('86200101', 30), pg_temp.imei('86200101', 33)))),
          ARRAY['additional_imei_not_linked'], 'reuse beyond the slots: refused');
SELECT matches(pg_temp.decide(pg_temp.additional('760212350620', pg_temp.imei('86200101', 30), pg_temp.imei('86200101', 34))) -> 'reasons' -> 0 ->> 'message',
          'already has 2 of its 2 IMEIs', '... for the same applicant too, saying the device is complete');
SELECT is(pg_temp.status(pg_temp.imei('86200101', 33)) || ' ' || pg_temp.status(pg_temp.imei('86200101', 34)),
          'grey/unverified grey/unverified', '... they stay grey');

-- ---- devices: additional_imei across applicants ----
SELECT pg_temp.connect(pg_temp.imei('86200101', 40));
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.baggage('901123300258', pg_temp.imei('86200101', 40), pg_temp.imei('86200101', 41)))),
          ARRAY['imei_not_in_register'], 'a dual-SIM device verified with its eSIM not yet seen');
SELECT pg_temp.connect(pg_temp.imei('86200101', 41), pg_temp.imei('86200101', 42), pg_temp.imei('86200101', 43));
SELECT is(pg_temp.decide(pg_temp.additional('871008401427', pg_temp.imei('86200101', 40), pg_temp.imei('86200101', 42))) -> 'reasons',
          jsonb_build_array(jsonb_build_object('code', 'additional_imei_not_linked',
              'message', 'Device 1 was verified by another applicant: an IMEI is added without documents only by the applicant who verified the device, or to a device its importer registered.')),
          'another applicant cannot link a grey IMEI to a device someone else verified');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.additional('760212350620', pg_temp.imei('86200101', 40), pg_temp.imei('86200101', 43)))),
          ARRAY['additional_imei_not_linked'], '... nor can a third');
SELECT is(pg_temp.status(pg_temp.imei('86200101', 42)) || ' ' || pg_temp.status(pg_temp.imei('86200101', 43)),
          'grey/unverified grey/unverified', '... their IMEIs stay grey');
SELECT is(pg_temp.decide(pg_temp.additional('901123300258', pg_temp.imei('86200101', 40), pg_temp.imei('86200101', 41))) ->> 'decision',
          'approved', 'the applicant who verified the device adds its eSIM');
SELECT is(pg_temp.device(pg_temp.imei('86200101', 41)), pg_temp.device(pg_temp.imei('86200101', 40)), '... into its device');
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.additional('901123300258', pg_temp.imei('86200101', 40), pg_temp.imei('86200101', 42)))),
          ARRAY['additional_imei_not_linked'], '... once: a third IMEI for two slots is refused');
-- a white IMEI of no recorded device (grandfathered, entered by hand)
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at) VALUES (pg_temp.imei('86200101', 50)::imei_registry.imei, 'white', 'grandfathered', '2025-03-01 12:00+05');
SELECT pg_temp.connect(pg_temp.imei('86200101', 51));
SELECT matches(pg_temp.decide(pg_temp.additional('901123300258', pg_temp.imei('86200101', 50), pg_temp.imei('86200101', 51))) -> 'reasons' -> 0 ->> 'message',
          'belongs to no recorded device', 'a white IMEI of no recorded device links nothing');
-- white IMEIs of two recorded devices (a flat register_import) name one device
SELECT imei_registry.register_import(ARRAY[pg_temp.imei('86200101', 52), pg_temp.imei('86200101', 53)]::imei_registry.imei[], 'Acme Distribution');
SELECT is(pg_temp.decide(pg_temp.additional('901123300258', pg_temp.imei('86200101', 52), pg_temp.imei('86200101', 53))) -> 'reasons',
          jsonb_build_array(jsonb_build_object('code', 'additional_imei_not_linked',
              'message', 'Device 1: its IMEIs on the white list belong to 2 different devices.')),
          'white IMEIs of two recorded devices link to neither');

-- ---- devices: a three-slot model through the CSV ----
SELECT pg_temp.connect(pg_temp.imei('86200103', 1), pg_temp.imei('86200103', 2), pg_temp.imei('86200103', 3));
SELECT imei_registry.submit_application(jsonb_build_object(
    'applicant', '{"kind": "individual", "id": "901123300258"}'::jsonb,
    'method', 'accompanied_baggage', 'import_date', '2025-06-01', 'exporting_country', 'AE',
    'documents', '[{"type": "border_crossing_certificate", "number": "BC-3", "holder_id": "901123300258"}]'::jsonb)) AS trio_app \gset
-- the CSV's line, as COPY would load it into the target
INSERT INTO imei_registry.upload_devices (application_id, model, imei_1, imei_2, imei_3)
VALUES (:'trio_app', 'Trio', pg_temp.imei('86200103', 1), pg_temp.imei('86200103', 2), pg_temp.imei('86200103', 3));
SELECT is((SELECT array_agg(imei_text ORDER BY ord) FROM imei_registry.application_imeis WHERE application_id = :trio_app),
          ARRAY[pg_temp.imei('86200103', 1), pg_temp.imei('86200103', 2), pg_temp.imei('86200103', 3)],
          'the CSV gives the device its three IMEIs');
SELECT is(imei_registry.decide_application(:trio_app) ->> 'decision', 'approved', 'the three-slot device is approved');
SELECT is((SELECT d.model || '/' || d.sim_slots || '/' || count(*) FROM imei_registry.registry r
           JOIN imei_registry.devices d USING (device_id)
           WHERE r.imei IN (pg_temp.imei('86200103', 1)::imei_registry.imei, pg_temp.imei('86200103', 2)::imei_registry.imei,
                            pg_temp.imei('86200103', 3)::imei_registry.imei)
           GROUP BY d.device_id, d.model, d.sim_slots),
          'Trio/3/3', 'one device, Trio, 3 slots, all three IMEIs');
SELECT pg_temp.connect(pg_temp.imei('86200103', 4));
SELECT is(pg_temp.codes(pg_temp.decide(pg_temp.additional('901123300258', pg_temp.imei('86200103', 1), pg_temp.imei('86200103', 4)))),
          ARRAY['missing_imeis', 'additional_imei_not_linked'], 'a fourth IMEI for three slots is refused');

-- ---- a later application completes a flat registration's devices ----
SELECT imei_registry.register_import(ARRAY[pg_temp.imei('86200101', 60), pg_temp.imei('86200101', 61)]::imei_registry.imei[], 'Acme Distribution');
SELECT is(pg_temp.decide(pg_temp.commercial('990940003030', jsonb_build_array(
              jsonb_build_object('imeis', jsonb_build_array(pg_temp.imei('86200101', 60), pg_temp.imei('86200101', 61)))))) -> 'fee',
          '{"mci": 0, "tenge": 0}', 'a commercial import of IMEIs white already costs nothing');
SELECT is(pg_temp.device(pg_temp.imei('86200101', 60)), pg_temp.device(pg_temp.imei('86200101', 61)),
          '... and joins them into one device');
SELECT is((SELECT count(*)::int FROM imei_registry.devices d
           WHERE NOT EXISTS (SELECT FROM imei_registry.registry r WHERE r.device_id = d.device_id)),
          0, 'no device is left without IMEIs');

-- ---- a device whose IMEIs' TAC models differ: the first IMEI's ----
SELECT is(pg_temp.decide(pg_temp.commercial('990940003030', jsonb_build_array(
              jsonb_build_object('model', 'Duo', 'imeis', jsonb_build_array(
                  pg_temp.imei('86200104', 70), pg_temp.imei('86200101', 70)))))) ->> 'decision',
          'approved', 'a device declared "Duo" of a Duo Pro and a Duo IMEI: both contain it, approved');
SELECT is((SELECT model || '/' || sim_slots FROM imei_registry.devices
           WHERE device_id = pg_temp.device(pg_temp.imei('86200104', 70))),
          'Duo Pro/2', '... its device record has the TAC model of its first IMEI');

SELECT * FROM finish();
ROLLBACK;
