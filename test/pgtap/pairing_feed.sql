-- pgTAP: a paired owner in the exceptions feed and gone after unpairing
-- (issue 19).  The feed returns only what committed transactions wrote
-- (exceptions() waits behind the horizon, as changes() does), so this file
-- runs in autocommit and cleans up its roles at the end; its rows stay in
-- the throwaway database (registry and history rows are never deleted).
-- IMEIs: TAC 86001901.  Kcell 401 77, Beeline 401 78 here.  Commit order
-- against id order: test/specs/exceptions_feed.spec.
SET client_min_messages = warning;
DELETE FROM imei_registry.operator_roles WHERE role IN ('regress_p19_kcell', 'regress_p19_beeline');
DROP ROLE IF EXISTS regress_p19_kcell;
DROP ROLE IF EXISTS regress_p19_beeline;
DROP ROLE IF EXISTS regress_p19_portal;
RESET client_min_messages;
SELECT plan(22);

CREATE FUNCTION pg_temp.t(n int) RETURNS imei_registry.imei
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('86001901' || lpad(n::text, 6, '0')) $$;
GRANT EXECUTE ON FUNCTION pg_temp.t(int) TO PUBLIC;
-- the feed's rows for these IMEIs, as 'IMEI IMSI action', after an id
CREATE FUNCTION pg_temp.feed(op text, after bigint) RETURNS text[]
    LANGUAGE sql AS $$
    SELECT coalesce(array_agg(e.imei || ' ' || e.imsi || ' ' || e.action ORDER BY e.n), '{}')
      FROM imei_registry.exceptions(op, after) WITH ORDINALITY e(id, imei, imsi, action, changed_at, n)
     WHERE imei_registry.imei_tac(e.imei) = '86001901' $$;
GRANT EXECUTE ON FUNCTION pg_temp.feed(text, bigint) TO PUBLIC;
-- the last id of the feed
CREATE FUNCTION pg_temp.last_id(op text) RETURNS bigint
    LANGUAGE sql AS $$ SELECT max(e.id) FROM imei_registry.exceptions(op, 0, 1000000) e $$;
GRANT EXECUTE ON FUNCTION pg_temp.last_id(text) TO PUBLIC;
CREATE TEMP TABLE seen_ids (reader text PRIMARY KEY, id bigint);
GRANT SELECT, INSERT, UPDATE ON seen_ids TO PUBLIC;

INSERT INTO imei_registry.operators VALUES ('p19_kcell', 'Kcell'), ('p19_beeline', 'Beeline');
INSERT INTO imei_registry.operator_networks VALUES ('40177', 'p19_kcell'), ('40178', 'p19_beeline');
CREATE ROLE regress_p19_kcell LOGIN IN ROLE imei_registry_operator;
CREATE ROLE regress_p19_beeline LOGIN IN ROLE imei_registry_operator;
CREATE ROLE regress_p19_portal LOGIN IN ROLE imei_registry_portal;
INSERT INTO imei_registry.operator_roles VALUES ('p19_kcell', 'regress_p19_kcell'),
                                                ('p19_beeline', 'regress_p19_beeline');

-- 1: the owner's phone, first seen at home on Kcell, its IMEI then cloned
-- and blocked; the owner's application was approved
SELECT imei_registry.report_connection(pg_temp.t(1), 'p19_kcell', now() - interval '5 days', '401771000000001');
SELECT imei_registry.block(pg_temp.t(1), 'counterfeit');
\i test/fixtures/approved.sql
CREATE TEMP TABLE owner_app AS SELECT pg_temp.approved(pg_temp.t(1)) AS id;
GRANT SELECT ON owner_app TO PUBLIC;
SELECT is(imei_registry.feed_horizon() IS NOT NULL, true, 'a horizon');

SET SESSION AUTHORIZATION regress_p19_kcell;
INSERT INTO seen_ids VALUES ('kcell', coalesce(pg_temp.last_id('p19_kcell'), 0));
SELECT is(pg_temp.feed('p19_kcell', (SELECT id FROM seen_ids WHERE reader = 'kcell')), '{}', 'no exception yet');
RESET SESSION AUTHORIZATION;

-- the portal pairs the owner's SIM with the approved application
SET SESSION AUTHORIZATION regress_p19_portal;
SELECT is(imei_registry.pair_subscriber(pg_temp.t(1), '401771000000001', (SELECT id FROM owner_app)), true,
    'the portal pairs the owner''s SIM');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_p19_kcell;
SELECT is(pg_temp.feed('p19_kcell', (SELECT id FROM seen_ids WHERE reader = 'kcell')),
    ARRAY[pg_temp.t(1) || ' 401771000000001 added'], 'the paired owner is in Kcell''s feed');
UPDATE seen_ids SET id = pg_temp.last_id('p19_kcell') WHERE reader = 'kcell';
SELECT is(pg_temp.feed('p19_kcell', (SELECT id FROM seen_ids WHERE reader = 'kcell')), '{}',
    'resumed after it: nothing new');
SELECT results_eq($$SELECT imei, imsi FROM imei_registry.subscriber_pairs WHERE paired AND imei = pg_temp.t(1)$$,
    $$VALUES (pg_temp.t(1), 401771000000001::bigint)$$, 'and among its pairs');
SELECT is((SELECT status::text FROM imei_registry.check_imei(pg_temp.t(1))), 'black', 'the IMEI stays black');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_p19_beeline;
SELECT is(pg_temp.feed('p19_beeline', 0), '{}', 'not in Beeline''s feed: the IMSI is Kcell''s');
SELECT throws_ok($$SELECT * FROM imei_registry.exceptions('p19_kcell', 0)$$, '42501', NULL,
    'Beeline does not read Kcell''s feed');
SELECT throws_ok(format('SELECT * FROM imei_registry.exceptions(%L, %s)', 'p19_beeline',
                        (SELECT id FROM seen_ids WHERE reader = 'kcell')),
    '22023', NULL, 'an id of another operator''s feed: 22023');
RESET SESSION AUTHORIZATION;

-- unpairing: the feed says removed, and the pair is gone
SET SESSION AUTHORIZATION regress_p19_portal;
SELECT is(imei_registry.unpair_subscriber(pg_temp.t(1), '401771000000001'), true, 'the portal unpairs');
SELECT is(imei_registry.unpair_subscriber(pg_temp.t(1), '401771000000001'), false, 'again: not paired');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_p19_kcell;
SELECT is(pg_temp.feed('p19_kcell', (SELECT id FROM seen_ids WHERE reader = 'kcell')),
    ARRAY[pg_temp.t(1) || ' 401771000000001 removed'], 'resumed: removed');
SELECT is(pg_temp.feed('p19_kcell', 0),
    ARRAY[pg_temp.t(1) || ' 401771000000001 added', pg_temp.t(1) || ' 401771000000001 removed'],
    'from the start: added, then removed');
SELECT is((SELECT count(*)::int FROM (
              SELECT DISTINCT ON (e.imei, e.imsi) e.action
                FROM imei_registry.exceptions('p19_kcell', 0) WITH ORDINALITY e(id, imei, imsi, action, changed_at, n)
               WHERE e.imei = pg_temp.t(1) ORDER BY e.imei, e.imsi, e.n DESC) x
            WHERE x.action = 'added'), 0,
    'an EIR that applies the feed in order lets the pair through no more');
SELECT is((SELECT count(*)::int FROM imei_registry.subscriber_pairs WHERE paired AND imei = pg_temp.t(1)), 0,
    'gone from the pairs');
SELECT is((SELECT count(*)::int FROM imei_registry.exceptions('p19_kcell', 0, 1)), 1, 'max_rows');
SELECT throws_ok($$SELECT * FROM imei_registry.exceptions('p19_kcell', 0, 0)$$, '22023', NULL, 'max_rows 0: 22023');
SELECT throws_ok($$SELECT * FROM imei_registry.exceptions('p19_kcell', 999999999)$$, '22023',
    'exception 999999999 was never returned by exceptions() to operator "p19_kcell"', 'an unknown id: 22023');
RESET SESSION AUTHORIZATION;

-- the history of pairs is append-only, for its owner too
SELECT throws_ok($$UPDATE imei_registry.pair_history SET action = 'added'$$, '42501', NULL, 'no UPDATE of pair_history');
SELECT throws_ok($$DELETE FROM imei_registry.pair_history$$, '42501', NULL, 'no DELETE');
SELECT throws_ok($$TRUNCATE imei_registry.pair_history$$, '42501', NULL, 'no TRUNCATE');

SELECT * FROM finish();

DELETE FROM imei_registry.operator_roles WHERE role IN ('regress_p19_kcell', 'regress_p19_beeline');
DROP ROLE regress_p19_kcell;
DROP ROLE regress_p19_beeline;
DROP ROLE regress_p19_portal;
