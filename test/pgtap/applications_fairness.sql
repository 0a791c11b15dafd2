-- Applications that treat applicants fairly (issue 17): a pending
-- application holds the grey expiry, the first application that proves an
-- IMEI wins, fees that match the work and are paid before the decision,
-- verdicts without false positives, and applicants and operators who see
-- their own.  IMEIs use TACs 86400101-86400199, which no other test uses.
-- Unsigned applications: scripts/test turns imei_registry.require_signature
-- off for this test's database (ALTER DATABASE tap SET, as superuser).
BEGIN;
SET LOCAL search_path = public, imei_registry;
SET LOCAL client_min_messages = warning;
SELECT plan(68);

-- ---- fixtures ----
INSERT INTO imei_registry.tac (tac, brand, model, device_type, sim_slots) VALUES
    ('86400101', 'Acme', 'Duo',  'smartphone', 2),
    ('86400102', 'Acme', 'Solo', 'smartphone', 1),
    ('86400103', 'Acme', 'Duo Pro', 'smartphone', 1);
INSERT INTO imei_registry.operators (code, name) VALUES ('op17a', 'Operator 17 A'), ('op17b', 'Operator 17 B');

CREATE FUNCTION pg_temp.imei(tac text, n int) RETURNS text LANGUAGE sql AS
$$ SELECT imei_registry.imei_from_body(tac || lpad(n::text, 6, '0'))::text $$;
-- grey, first connected so many days ago (as a network's first report)
CREATE FUNCTION pg_temp.grey(days int, VARIADIC imeis text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
    SELECT i::imei_registry.imei, 'grey', 'unverified', now() - make_interval(days => days)
    FROM unnest(imeis) i
$$;
CREATE FUNCTION pg_temp.status(imei text) RETURNS text LANGUAGE sql AS $$
    SELECT r.status || '/' || r.reason FROM imei_registry.registry r
    WHERE r.imei OPERATOR(pg_catalog.=) status.imei::imei_registry.imei
$$;
CREATE FUNCTION pg_temp.codes(result jsonb) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(r ->> 'code' ORDER BY n), '{}')
    FROM jsonb_array_elements(result -> 'reasons') WITH ORDINALITY AS x(r, n)
$$;
-- what the expiry job's batch does (expire_grey_period, which commits and
-- so cannot run inside this test's transaction)
CREATE FUNCTION pg_temp.expiry_run() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    UPDATE imei_registry.registry AS r SET status = 'black', reason = 'grey_expired'
    WHERE r.imei OPERATOR(pg_catalog.=) ANY (ARRAY(
        SELECT d.imei FROM imei_registry.registry AS d
        WHERE d.status = 'grey' AND d.grey_last_day < imei_registry.local_date(now())
          AND NOT imei_registry.application_holds(d.imei, d.grey_last_day)
          AND imei_tac(d.imei) LIKE '864001%'));
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
CREATE FUNCTION pg_temp.baggage(id text, model text, VARIADIC imeis text[]) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'applicant', jsonb_build_object('kind', 'individual', 'id', id),
        'method', 'accompanied_baggage', 'import_date', '2025-06-01',
        'exporting_country', 'AE',
        'documents', jsonb_build_array(jsonb_build_object(
            'type', 'border_crossing_certificate', 'number', 'BC-17', 'holder_id', id)),
        'devices', jsonb_build_array(jsonb_build_object('model', model, 'imeis', to_jsonb(imeis))))
$$;
CREATE FUNCTION pg_temp.commercial(bin text, devices jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'applicant', jsonb_build_object('kind', 'legal_entity', 'id', bin),
        'method', 'commercial_import',
        'documents', jsonb_build_array(jsonb_build_object(
            'type', 'goods_declaration', 'number', 'GD-17', 'holder_id', bin)),
        'devices', devices)
$$;
CREATE FUNCTION pg_temp.decide(doc jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT imei_registry.decide_application(imei_registry.submit_application(doc))
$$;

-- ---- 1. a pending application holds the grey expiry ----
-- first connected 35 days ago: its last day was 5 days ago; the owner
-- applied on day 25 (10 days ago) and the application waits
SELECT pg_temp.grey(35, pg_temp.imei('86400102', 1), pg_temp.imei('86400102', 2), pg_temp.imei('86400102', 3));
CREATE TEMP TABLE held AS
SELECT n, imei_registry.submit_application(pg_temp.baggage('901123300258', 'Solo', pg_temp.imei('86400102', n))) AS id
FROM generate_series(1, 2) n;
UPDATE imei_registry.applications a SET submitted_at = now() - interval '10 days' FROM held h WHERE a.id = h.id;
SELECT is((SELECT c.status || ' ' || c.application_pending
           FROM imei_registry.check_imei(pg_temp.imei('86400102', 1)::imei_registry.imei) c),
          'grey true', 'day 31 with a pending application: the check says grey, application pending');
SELECT is((SELECT c.status || ' ' || c.reason
           FROM imei_registry.check_imei(pg_temp.imei('86400102', 3)::imei_registry.imei) c),
          'black grey_expired', '... without one: black, grey_expired');
SELECT is(pg_temp.expiry_run(), 1::bigint, 'the expiry run moves only the IMEI no application holds');
SELECT is(pg_temp.status(pg_temp.imei('86400102', 1)), 'grey/unverified', '... the held IMEI keeps its service');
SELECT throws_ok(format($$UPDATE imei_registry.registry SET status = 'black', reason = 'grey_expired' WHERE imei = %L$$,
                        pg_temp.imei('86400102', 1)),
                 'IR001', NULL, 'no writer can expire a held IMEI');
-- the hold has its bound: submitted longer ago than application_hold_days
SET LOCAL imei_registry.application_hold_days = 9;
SELECT is((imei_registry.check_imei(pg_temp.imei('86400102', 1)::imei_registry.imei)).status::text,
          'black', 'past application_hold_days after submission the hold ends');
RESET imei_registry.application_hold_days;
-- approval whitens the held IMEI; a rejection after the last day sends the
-- other black at the next run
SELECT is(imei_registry.decide_application((SELECT id FROM held WHERE n = 1)) ->> 'decision', 'approved', 'the held application is approved');
SELECT is(pg_temp.status(pg_temp.imei('86400102', 1)), 'white/application_approved', '... and its IMEI is white, never cut');
UPDATE imei_registry.application_documents SET number = NULL WHERE application_id = (SELECT id FROM held WHERE n = 2);
SELECT is(imei_registry.decide_application((SELECT id FROM held WHERE n = 2)) ->> 'decision', 'rejected', 'the other is rejected');
SELECT is(pg_temp.status(pg_temp.imei('86400102', 2)), 'grey/unverified', '... its IMEI is still grey until the run');
SELECT is(pg_temp.expiry_run(), 1::bigint, 'the next run ...');
SELECT is(pg_temp.status(pg_temp.imei('86400102', 2)), 'black/grey_expired', '... sends it black');
-- an application submitted after the last day holds nothing
SELECT pg_temp.grey(35, pg_temp.imei('86400102', 4));
SELECT imei_registry.submit_application(pg_temp.baggage('901123300258', 'Solo', pg_temp.imei('86400102', 4)));
SELECT is(pg_temp.expiry_run(), 1::bigint, 'an application submitted after the last day does not hold');

-- ---- 2. the same IMEI in two pending applications ----
SELECT pg_temp.grey(5, pg_temp.imei('86400102', 10), pg_temp.imei('86400102', 11));
-- a squatter applies first (his documents name someone else), the owner second
CREATE TEMP TABLE claims AS
SELECT 'squatter'::text AS who, imei_registry.submit_application(
           pg_temp.baggage('871008401427', 'Solo', pg_temp.imei('86400102', 10))
           || '{"documents": [{"type": "border_crossing_certificate", "number": "BC-9", "holder_id": "901123300258"}]}') AS id
UNION ALL
SELECT 'owner', imei_registry.submit_application(pg_temp.baggage('901123300258', 'Solo', pg_temp.imei('86400102', 10)))
UNION ALL
SELECT 'late', imei_registry.submit_application(pg_temp.baggage('760212350620', 'Solo', pg_temp.imei('86400102', 10)));
SELECT is(count(*), 3::bigint, 'three pending applications list the same IMEI: none is refused at submission') FROM claims;
SELECT is(imei_registry.decide_application((SELECT id FROM claims WHERE who = 'squatter')) ->> 'decision', 'rejected',
          'the squatter, who proves nothing, is rejected');
SELECT is(imei_registry.decide_application((SELECT id FROM claims WHERE who = 'owner')) ->> 'decision', 'approved',
          'the owner, first to prove it, is approved');
SELECT is(pg_temp.codes(imei_registry.decide_application((SELECT id FROM claims WHERE who = 'late'))),
          ARRAY['imei_in_other_application'], 'a later application is rejected: imei_in_other_application');
SELECT matches((SELECT decision -> 'reasons' -> 0 ->> 'message' FROM imei_registry.applications
                WHERE id = (SELECT id FROM claims WHERE who = 'late')),
               format('proven by application %s,', (SELECT id FROM claims WHERE who = 'owner')),
               '... naming the approved application');
SELECT is((SELECT r.application_id FROM imei_registry.registry r WHERE r.imei = pg_temp.imei('86400102', 10)::imei_registry.imei),
          (SELECT id FROM claims WHERE who = 'owner'), 'the register names the owner''s application');
-- an IMEI white by its importer is no conflict for an official retailer's buyer
SELECT imei_registry.register_import(ARRAY[pg_temp.imei('86400102', 12)]::imei_registry.imei[], 'Acme Distribution');
SELECT is(pg_temp.codes(pg_temp.decide(jsonb_build_object(
              'applicant', '{"kind": "individual", "id": "901123300258"}'::jsonb, 'method', 'official_retailer',
              'devices', jsonb_build_array(jsonb_build_object('model', 'Solo', 'imeis', jsonb_build_array(pg_temp.imei('86400102', 12))))))),
          ARRAY['imei_already_white'], 'an importer''s registration is the retailer''s word, not a conflict');

-- ---- 3. fees ----
SELECT is(ARRAY(SELECT year || '=' || tenge || '/' || shipped FROM imei_registry.mci WHERE year IN (2025, 2026) ORDER BY year),
          ARRAY['2025=3932.00/true', '2026=4325.00/true'], 'MCI 2025 and 2026 are shipped rows');
-- a year the DBA has not added yet: submission works, the payment request fails
UPDATE imei_registry.mci SET year = 2999 WHERE year = extract(year FROM now() AT TIME ZONE 'Asia/Almaty');
SELECT pg_temp.grey(3, pg_temp.imei('86400101', 1), pg_temp.imei('86400101', 2), pg_temp.imei('86400101', 3),
                    pg_temp.imei('86400101', 4), pg_temp.imei('86400101', 7), pg_temp.imei('86400101', 8));
SELECT imei_registry.register_import(ARRAY[pg_temp.imei('86400101', 5), pg_temp.imei('86400101', 6)]::imei_registry.imei[], 'Acme Distribution');
SELECT imei_registry.submit_application(pg_temp.commercial('990940003030', jsonb_build_array(
           jsonb_build_object('model', 'Duo', 'imeis', jsonb_build_array(pg_temp.imei('86400101', 1), pg_temp.imei('86400101', 2))),
           jsonb_build_object('model', 'Duo', 'imeis', jsonb_build_array(pg_temp.imei('86400101', 3), pg_temp.imei('86400101', 4))),
           jsonb_build_object('model', 'Duo', 'imeis', jsonb_build_array(pg_temp.imei('86400101', 5), pg_temp.imei('86400101', 6))))))
    AS fee_app \gset
SELECT is((SELECT mci_tenge FROM imei_registry.applications WHERE id = :fee_app), NULL,
          'submitted in a year without an MCI: no failure, the MCI is fixed later');
SELECT throws_ok(format('SELECT * FROM imei_registry.request_payment(%s)', :fee_app), '55000', NULL,
                 'the payment request fails while the year has no MCI');
SELECT throws_ok(format('SELECT imei_registry.decide_application(%s)', :fee_app), '55000', NULL,
                 '... and so does the decision');
UPDATE imei_registry.mci SET year = extract(year FROM now() AT TIME ZONE 'Asia/Almaty') WHERE year = 2999;
SELECT is((SELECT row(p.fee_mci, p.fee_tenge)::text FROM imei_registry.request_payment(:fee_app) p),
          '(2,8650.00)', 'the payment request counts the devices to verify: the importer''s white one is free');
SELECT is((SELECT mci_tenge FROM imei_registry.applications WHERE id = :fee_app), 4325.00::numeric,
          '... and fixes the MCI of the submission year');
-- the portal uploads one more device: asked again, the fee counts it
SET LOCAL ROLE imei_registry_portal;
INSERT INTO imei_registry.upload_devices (application_id, model, imei_1, imei_2)
VALUES (:'fee_app', 'Duo', pg_temp.imei('86400101', 7), pg_temp.imei('86400101', 8));
SELECT is((SELECT p.fee_tenge FROM imei_registry.request_payment(:fee_app) p), 12975.00::numeric,
          'the portal loads upload_devices; the fee then counts the added device');
SELECT throws_ok(format('SELECT imei_registry.decide_application(%s)', :fee_app), '42501', NULL,
                 'the portal does not decide');
RESET ROLE;
SELECT throws_ok(format('SELECT imei_registry.decide_application(%s)', :fee_app), '55000',
                 format('application %s is not paid: fee_unpaid', :fee_app), 'unpaid: not decided (fee_unpaid)');
SET LOCAL ROLE imei_registry_portal;
SELECT is((SELECT row(p.fee_tenge, p.paid_tenge, p.fee_paid_at)::text
           FROM imei_registry.record_payment(:fee_app, 10000, now(), 'KASPI-1') p),
          '(12975.00,10000.00,)', 'a part payment is recorded; the fee is not paid yet');
SELECT throws_ok(format($$SELECT imei_registry.record_payment(%s, 10000, now(), 'KASPI-1')$$, :fee_app), '23505', NULL,
                 'a payment reference is recorded once');
SELECT throws_ok(format($$SELECT imei_registry.record_payment(%s, -5, now(), 'KASPI-2')$$, :fee_app), '22023', NULL,
                 'a payment is a positive amount');
SELECT throws_ok(format($$SELECT imei_registry.record_payment(%s, 5, now() + interval '1 day', 'KASPI-2')$$, :fee_app), '22023', NULL,
                 'a payment is not in the future');
SELECT throws_ok(format($$SELECT imei_registry.record_payment(%s, 5, now(), '  ')$$, :fee_app), '22023', NULL,
                 'a payment has a reference');
RESET ROLE;
SELECT throws_ok(format('SELECT imei_registry.decide_application(%s)', :fee_app), '55000', NULL,
                 'partly paid: still not decided');
SET LOCAL ROLE imei_registry_portal;
SELECT is((SELECT p.fee_paid_at IS NOT NULL FROM imei_registry.record_payment(:fee_app, 2975, now(), 'KASPI-2') p),
          true, 'the rest is paid');
RESET ROLE;
SELECT is(imei_registry.decide_application(:fee_app) -> 'fee', '{"mci": 3, "tenge": 12975.00}', 'paid: decided, the fee re-checked');
SELECT is((SELECT state FROM imei_registry.applications WHERE id = :fee_app), 'approved', '... and approved');
SELECT throws_ok($$SELECT imei_registry.record_payment(imei_registry.submit_application(
                     '{"applicant": {"kind": "individual", "id": "901123300258"}, "method": "official_retailer"}'), 100, now(), 'X-1')$$,
                 '55000', NULL, 'an individual has no fee to pay');

-- ---- 4. no false verdicts ----
SELECT pg_temp.grey(3, pg_temp.imei('86400101', 20), pg_temp.imei('86400101', 21));
SELECT pg_temp.grey(3, pg_temp.imei('86400102', 20), pg_temp.imei('86400102', 21), pg_temp.imei('86400102', 22),
                    pg_temp.imei('86400102', 23), pg_temp.imei('86400102', 24));
CREATE FUNCTION pg_temp.try(doc jsonb) RETURNS text[] LANGUAGE sql AS $$
    SELECT pg_temp.codes(imei_registry.decide_application(imei_registry.submit_application(doc)))
$$;
SELECT is(pg_temp.try(pg_temp.baggage('901123300258', 'Acme Duo', pg_temp.imei('86400101', 20), pg_temp.imei('86400101', 21))),
          '{}', 'declared "Acme Duo", the TAC''s brand Acme and model Duo: agrees');
SELECT is(pg_temp.codes(jsonb_build_object('reasons', coalesce(imei_registry.application_imei_reasons(pg_temp.imei('86400102', 20), false, 'grey', 'unverified',
              '  acme   SOLO ', true, 'Acme', 'Solo', 'parcel', false, NULL, NULL, NULL), '[]'))),
          '{}', 'case and spacing are ignored');
SELECT is(pg_temp.try(pg_temp.baggage('901123300258', 'Solo Max', pg_temp.imei('86400102', 20))),
          ARRAY['model_mismatch'], 'a declared model the TAC''s does not contain is a mismatch');
SELECT is(pg_temp.codes(jsonb_build_object('reasons', coalesce(imei_registry.application_imei_reasons(pg_temp.imei('86400103', 1), false, 'grey', 'unverified',
              'Acme Duo', false, 'Acme', 'Duo Pro', 'parcel', false, NULL, NULL, NULL), '[]'))),
          ARRAY['model_mismatch'], 'undeclared: another IMEI''s TAC model must be the same, not merely contain it');
SELECT is(pg_temp.try(pg_temp.baggage('901123300258', 'Solo', pg_temp.imei('86400102', 21))
                      || '{"documents": [{"type": "border_crossing_certificate", "number": "BC-1", "holder_id": " 901123300258"}]}'),
          '{}', 'holder " 901123300258" is the applicant''s IIN: compared as values');
SELECT is(pg_temp.try(pg_temp.baggage('901123300258', 'Solo', pg_temp.imei('86400102', 22))
                      || '{"documents": [{"type": "border_crossing_certificate", "holder_id": "901123300258"}]}'),
          ARRAY['document_without_number'], 'an evidence document without a number proves nothing');
SELECT is(pg_temp.try(pg_temp.baggage('901123300258', 'Solo', pg_temp.imei('86400102', 22))
                      || '{"documents": [{"type": "border_crossing_certificate", "number": " ", "holder_id": "901123300258"}]}'),
          ARRAY['document_without_number'], '... nor one whose number is blank');
SELECT is(pg_temp.try(pg_temp.baggage('901123300258', 'Solo', pg_temp.imei('86400102', 22)) || '{"import_date": "9999-12-31"}'),
          ARRAY['import_date_in_future', 'import_after_first_connection'],
          'an import date after the application: import_date_in_future (and after the first connection)');
SELECT is(pg_temp.try(pg_temp.baggage('901123300258', 'Solo', pg_temp.imei('86400102', 22))
                      || jsonb_build_object('import_date', (imei_registry.local_date(now()) - 1)::text)),
          ARRAY['import_after_first_connection'], 'imported after its first connection in Kazakhstan: import_after_first_connection');
SELECT is(pg_temp.try(pg_temp.baggage('901123300258', 'Solo', pg_temp.imei('86400102', 22)) || '{"exporting_country": "KZ"}'),
          ARRAY['exporting_country_invalid'], 'Kazakhstan is not a country of export');
SELECT is(pg_temp.try(pg_temp.baggage('901123300258', 'Solo', pg_temp.imei('86400102', 22)) || '{"exporting_country": "XX"}'),
          ARRAY['exporting_country_invalid'], 'XX is no ISO 3166-1 country');
SELECT is(pg_temp.try(pg_temp.baggage('901123300258', 'Solo', pg_temp.imei('86400102', 22)) || '{"exporting_country": "CN"}'),
          '{}', 'CN is');
SELECT is(array_length(imei_registry.application_vocabulary('country'), 1), 249, 'the 249 ISO 3166-1 alpha-2 codes are data');
SELECT pg_temp.grey(3, pg_temp.imei('86400199', 1));
SELECT is(imei_registry.decide_application(imei_registry.submit_application(
              pg_temp.baggage('901123300258', 'Mystery Duo', pg_temp.imei('86400199', 1)))) -> 'reasons' -> 0 ->> 'code',
          'sim_slots_unchecked', 'an unknown TAC: a notice that the SIM slots could not be checked');
SELECT is(pg_temp.status(pg_temp.imei('86400199', 1)), 'white/application_approved', '... a notice, not a rejection');

-- ---- 5. self-service ----
SET LOCAL ROLE imei_registry_portal;
SELECT throws_ok('SELECT * FROM imei_registry.applications', '42501', NULL, 'the portal does not read the applications table');
SELECT throws_ok('SELECT * FROM imei_registry.application_documents', '42501', NULL, '... nor the documents');
SELECT is((SELECT array_agg(DISTINCT m.state ORDER BY m.state) FROM imei_registry.my_applications('901123300258') m),
          ARRAY['approved', 'rejected', 'submitted'], 'my_applications: the applicant''s applications, every state');
SELECT is((SELECT count(*) FROM imei_registry.my_applications(' 901123300258')),
          (SELECT count(*) FROM imei_registry.my_applications('901123300258')), '... found by the IIN''s value');
SELECT is((SELECT m.reasons -> 0 ->> 'code' FROM imei_registry.my_applications('760212350620') m),
          'imei_in_other_application', '... with the reasons of the decision');
SELECT is((SELECT row(m.method, m.state, m.fee_mci, m.fee_tenge, m.paid_at IS NOT NULL)::text
           FROM imei_registry.my_applications('990940003030') m),
          '(commercial_import,approved,3,12975.00,t)', '... and the fee and when it was paid');
SELECT is((SELECT count(*) FROM imei_registry.my_applications('940140000385')), 0::bigint, 'nobody else''s');
SELECT throws_ok($$SELECT * FROM imei_registry.my_applications('12345')$$, '22023', NULL, 'an applicant is a valid IIN or BIN');
RESET ROLE;

-- operators read their own imports and rejects
CREATE ROLE i17_login_a LOGIN IN ROLE imei_registry_operator;
CREATE ROLE i17_login_b LOGIN IN ROLE imei_registry_operator;
INSERT INTO imei_registry.operator_roles (operator, role) VALUES ('op17a', 'i17_login_a'), ('op17b', 'i17_login_b');
SET LOCAL SESSION AUTHORIZATION i17_login_a;
INSERT INTO imei_registry.upload_connections (operator, imei, connected_at)
VALUES ('op17a', pg_temp.imei('86400102', 50), now()::text), ('op17a', '86400102000050', 'yesterday-ish');
SELECT is((SELECT row(i.operator, i.rows_read, i.rows_rejected)::text FROM imei_registry.imports i),
          '(op17a,2,1)', 'an operator reads its own import, and only it');
SELECT is((SELECT j.reason FROM imei_registry.import_rejects j), 'bad_date', '... and its rejects');
SELECT (SELECT max(import_id) FROM imei_registry.imports) AS import_a \gset
RESET SESSION AUTHORIZATION;
SELECT cmp_ok((SELECT count(*) FROM imei_registry.imports), '>', 1::bigint, 'the admin reads all imports');
SET LOCAL SESSION AUTHORIZATION i17_login_b;
SELECT is((SELECT count(*) FROM imei_registry.imports WHERE import_id = :import_a), 0::bigint,
          'another operator does not see it');
SELECT is((SELECT count(*) FROM imei_registry.import_rejects WHERE import_id = :import_a), 0::bigint,
          '... nor its rejects');
SELECT throws_ok('UPDATE imei_registry.imports SET note = $$x$$', '42501', NULL, '... and writes none');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
