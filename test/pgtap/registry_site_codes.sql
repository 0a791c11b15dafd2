-- pgTAP: one source of the registry's rules.  A reason code a site adds is
-- refused when it is inserted unless it names a shipped base leading to its
-- status; once added it behaves as its base through block(), a plain UPDATE,
-- the block-list feed and the applications, and is refused by all of them
-- where its base is.  transition_rules() is the table the trigger enforces.
-- IMEIs: TAC 86000007.
-- Unsigned applications: scripts/test turns imei_registry.require_signature
-- off for this test's database (ALTER DATABASE tap SET, as superuser).
BEGIN;
SELECT plan(55);
SET LOCAL search_path = imei_registry, public;
SET LOCAL client_min_messages = warning;

CREATE FUNCTION pg_temp.t(n int) RETURNS imei_registry.imei
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('86000007' || lpad(n::text, 6, '0')) $$;
CREATE FUNCTION pg_temp.row_of(n int) RETURNS text LANGUAGE sql AS $$
    SELECT r.status || '/' || r.reason || '/' || coalesce(r.reason_base, '-')
    FROM imei_registry.registry r WHERE r.imei OPERATOR(pg_catalog.=) pg_temp.t(n)
$$;
\i test/fixtures/approved.sql
-- an importer's registration: the cause lawful_import needs, as register_import() makes one
CREATE FUNCTION pg_temp.registration() RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO imei_registry.imports (importer) VALUES ('site codes test') RETURNING import_id
$$;
-- what the block-list feed did with one line
CREATE FUNCTION pg_temp.feed(n int, why text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    INSERT INTO imei_registry.upload_blocklist (imei, listed_on, reason)
    VALUES (pg_temp.t(n)::text, '2026-01-10', why);
    SELECT coalesce(j.reason || ': ' || j.message,
                    CASE WHEN i.rows_already_present = 1 THEN 'present' ELSE 'loaded' END)
      INTO result
      FROM imei_registry.imports i
      LEFT JOIN imei_registry.import_rejects j USING (import_id)
     WHERE i.import_id = (SELECT max(import_id) FROM imei_registry.imports);
    RETURN result;
END $$;

-- ---- the table ----
SELECT set_eq($$SELECT DISTINCT reason FROM imei_registry.transition_rules()$$,
              $$SELECT code FROM imei_registry.reasons WHERE shipped$$,
              'the shipped codes are the codes of the rules');
SELECT set_eq($$SELECT code, status, base FROM imei_registry.reasons WHERE shipped$$,
              $$SELECT DISTINCT reason, to_status, reason AS base FROM imei_registry.transition_rules()$$,
              'a shipped code leads where its rules lead, and is its own base');
SELECT ok(transition_allowed(NULL, 'black', 'gsma_blocked'), 'new -> black by gsma_blocked');
SELECT ok(NOT transition_allowed('grey', 'white', 'reinstated'), 'grey -> white by reinstated: no');
SELECT ok(transition_allowed('black', 'white', 'application_approved', 'grey_expired'),
          'black (grey_expired) -> white by application_approved');
SELECT ok(NOT transition_allowed('black', 'white', 'application_approved', 'counterfeit'),
          'black (counterfeit) -> white by application_approved: no');

-- ---- refused when inserted, with what is missing ----
SELECT throws_ok($$INSERT INTO imei_registry.reasons VALUES ('stolen', 'black', 'reported stolen')$$,
    '23514', 'reason code "stolen" needs a base', 'a site code without base is refused');
SELECT throws_ok($$INSERT INTO imei_registry.reasons (code, status, description, base)
                   VALUES ('stolen', 'black', 'reported stolen', 'no_such_code')$$,
    '23514', 'base "no_such_code" of reason code "stolen" is not a code the extension ships',
    'a base that is not shipped is refused');
SELECT throws_ok($$INSERT INTO imei_registry.reasons (code, status, description, base)
                   VALUES ('stolen', 'white', 'reported stolen', 'gsma_blocked')$$,
    '23514', 'reason code "stolen" cannot lead to white: its base "gsma_blocked" leads to black',
    'a base leading to another status is refused');
SELECT throws_ok($$INSERT INTO imei_registry.reasons (code, status, description, shipped)
                   VALUES ('stolen', 'black', 'reported stolen', true)$$,
    '23514', 'reason code "stolen" is not a code the extension ships', 'a site cannot ship codes');
-- a refused code is no code anywhere
SELECT throws_ok($$SELECT imei_registry.block(pg_temp.t(1), 'stolen')$$, '22023',
    'reason "stolen" does not lead to black', 'block(): not a code');
SELECT lives_ok($$INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at) VALUES (pg_temp.t(2), 'white', 'grandfathered', '2025-03-01 12:00+05')$$,
    'a white IMEI');
SELECT throws_ok($$UPDATE imei_registry.registry SET status = 'black', reason = 'stolen'
                   WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(2)$$, 'IR001',
    'IMEI ' || pg_temp.t(2) || ' cannot change from white to black by reason "stolen"',
    'UPDATE: not a code');
SELECT is(pg_temp.feed(2, 'stolen'), 'loaded', 'block list: "stolen" is a note, not a code ...');
SELECT is(pg_temp.row_of(2), 'black/gsma_blocked/-', '... the IMEI is black by gsma_blocked');

-- ---- accepted: stolen takes the transitions of gsma_blocked ----
SELECT lives_ok($$INSERT INTO imei_registry.reasons (code, status, description, base)
                  VALUES ('stolen', 'black', 'reported stolen to the police', 'gsma_blocked')$$,
    'a site code with a shipped base');
SELECT lives_ok($$INSERT INTO imei_registry.reasons (code, description, base)
                  VALUES ('expired_late', 'grey period ended, reported late', 'grey_expired'),
                         ('imported_by_post', 'registered by the postal importer', 'lawful_import')$$,
    'status may be left out');
SELECT is((SELECT status FROM reasons WHERE code = 'expired_late'), 'black', '... it is the base''s');
SELECT is(reason_base('stolen'), 'gsma_blocked', 'reason_base(site code)');
SELECT is(reason_base('counterfeit'), 'counterfeit', 'reason_base(shipped code)');
SELECT is(reason_base('no_such_code'), NULL, 'reason_base(no code)');
SELECT throws_ok($$UPDATE imei_registry.reasons SET base = 'counterfeit' WHERE code = 'stolen'$$,
    '23000', 'reason code "stolen" cannot change its base', 'a code keeps its base');
SELECT throws_ok($$DELETE FROM imei_registry.reasons WHERE code = 'stolen'$$,
    '23000', 'reason code "stolen" cannot be removed', 'a code is never removed');

-- block()
SELECT lives_ok($$INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at) VALUES (pg_temp.t(10), 'white', 'grandfathered', '2025-03-01 12:00+05')$$,
    'a white IMEI');
SELECT is(imei_registry.block(pg_temp.t(10), 'stolen'), 'black', 'block(white, stolen)');
SELECT is(pg_temp.row_of(10), 'black/stolen/gsma_blocked', '... black by stolen, base stored');
SELECT is(imei_registry.block(pg_temp.t(11), 'stolen'), 'black', 'block(new IMEI, stolen)');
SELECT is((SELECT reason FROM history WHERE imei = pg_temp.t(10) ORDER BY id DESC LIMIT 1), 'stolen',
    'history names the site code');
SELECT throws_ok($$SELECT imei_registry.block(pg_temp.t(12), 'imported_by_post')$$, '22023',
    'reason "imported_by_post" does not lead to black', 'block(): a white code');

-- a plain UPDATE
SELECT lives_ok($$INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
                  VALUES (pg_temp.t(20), 'grey', 'unverified', '2026-01-02 12:00+05'),
                         (pg_temp.t(21), 'grey', 'unverified', '2026-01-02 12:00+05')$$, 'grey IMEIs');
SELECT lives_ok($$UPDATE imei_registry.registry SET status = 'black', reason = 'stolen'
                  WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(20)$$, 'UPDATE grey -> black by stolen');
SELECT throws_ok($$UPDATE imei_registry.registry SET status = 'white', reason = 'application_approved'
                   WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(20)$$, 'IR001',
    'IMEI ' || pg_temp.t(20) || ' cannot change from black to white by reason "application_approved"',
    'no application lifts stolen, as none lifts gsma_blocked');
SELECT lives_ok($$UPDATE imei_registry.registry SET reason_base = 'grey_expired'
                  WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(20)$$, 'reason_base set by hand ...');
SELECT is(pg_temp.row_of(20), 'black/stolen/gsma_blocked', '... is not taken');
SELECT lives_ok($$UPDATE imei_registry.registry SET status = 'black', reason = 'expired_late'
                  WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(21)$$, 'UPDATE grey -> black by expired_late');
SELECT ok(transition_allowed('black', 'white', 'application_approved', 'expired_late'),
    'an application may lift expired_late, as it lifts grey_expired');
SELECT lives_ok($$UPDATE imei_registry.registry SET status = 'white', reason = 'application_approved',
                      application_id = pg_temp.approved(imei)
                  WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(21)$$, '... and the trigger agrees');
SELECT lives_ok($$INSERT INTO imei_registry.registry (imei, status, reason, import_id)
                  VALUES (pg_temp.t(22), 'white', 'imported_by_post', pg_temp.registration())$$,
    'a new IMEI white by a white site code');

-- refused alike everywhere: expired_late, like grey_expired, never blacks a white IMEI
SELECT throws_ok($$SELECT imei_registry.block(pg_temp.t(22), 'expired_late')$$, 'IR001',
    'IMEI ' || pg_temp.t(22) || ' cannot change from white to black by reason "expired_late"',
    'block(white, expired_late) refused by the rules');
SELECT throws_ok($$UPDATE imei_registry.registry SET status = 'black', reason = 'expired_late'
                   WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(22)$$, 'IR001',
    'IMEI ' || pg_temp.t(22) || ' cannot change from white to black by reason "expired_late"',
    'UPDATE refused alike');
SELECT is(pg_temp.feed(22, 'expired_late'),
    'forbidden_transition: IMEI ' || pg_temp.t(22) || ' cannot change from white to black by reason "expired_late"',
    'the block list refuses it alike');

-- the block-list feed
SELECT lives_ok($$INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at) VALUES (pg_temp.t(30), 'white', 'grandfathered', '2025-03-01 12:00+05')$$,
    'a white IMEI');
SELECT is(pg_temp.feed(30, 'stolen'), 'loaded', 'block list, reason stolen: loaded');
SELECT is(pg_temp.row_of(30), 'black/stolen/gsma_blocked', '... black by stolen');
SELECT is(pg_temp.feed(31, 'stolen'), 'loaded', 'block list, a new IMEI');
SELECT is(pg_temp.row_of(31), 'black/stolen/gsma_blocked', '... black by stolen');
SELECT is(pg_temp.feed(20, 'lost'), 'present', 'black by stolen is blocked already, as by gsma_blocked');
SELECT lives_ok($$INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
                  VALUES (pg_temp.t(32), 'grey', 'unverified', '2026-01-02 12:00+05');
                  UPDATE imei_registry.registry SET status = 'black', reason = 'expired_late'
                  WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(32)$$, 'black by expired_late ...');
SELECT is(pg_temp.feed(32, 'stolen'), 'loaded', '... the block list blocks harder, as for grey_expired');
SELECT is(pg_temp.row_of(32), 'black/stolen/gsma_blocked', '... black by stolen');

-- applications: eligible as the base is
CREATE FUNCTION pg_temp.apply(n int) RETURNS jsonb LANGUAGE sql AS $$
    SELECT imei_registry.decide_application(imei_registry.submit_application(jsonb_build_object(
        'applicant', jsonb_build_object('kind', 'individual', 'id', '901123300258'),
        'method', 'accompanied_baggage', 'import_date', '2025-06-01', 'exporting_country', 'AE',
        'documents', jsonb_build_array(jsonb_build_object(
            'type', 'border_crossing_certificate', 'number', 'BC-1', 'holder_id', '901123300258')),
        'devices', jsonb_build_array(jsonb_build_object('imeis', jsonb_build_array(pg_temp.t(n)::text))))))
$$;
SELECT is((SELECT r ->> 'code' FROM jsonb_array_elements(pg_temp.apply(20) -> 'reasons') r
           WHERE r ->> 'imei' IS NOT NULL),
    'imei_not_eligible', 'an application cannot lift black by stolen');
SELECT lives_ok($$INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
                  VALUES (pg_temp.t(33), 'grey', 'unverified', '2026-01-02 12:00+05');
                  UPDATE imei_registry.registry SET status = 'black', reason = 'expired_late'
                  WHERE imei OPERATOR(pg_catalog.=) pg_temp.t(33)$$, 'black by expired_late ...');
SELECT is(pg_temp.apply(33) ->> 'decision', 'approved', '... an application lifts it');
SELECT is(pg_temp.row_of(33), 'white/application_approved/-', '... white');

SELECT ok(NOT has_function_privilege('public', 'imei_registry.reasons_guard()', 'EXECUTE'),
    'the trigger function is not PUBLIC''s');

SELECT * FROM finish();
ROLLBACK;
