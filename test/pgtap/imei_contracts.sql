-- Contracts of the imei and imeisv types and their functions: signatures,
-- markings, casts, operators, and the behaviour each promises.
BEGIN;
SELECT plan(48);
SET LOCAL search_path = imei_registry, public;

SELECT has_type('imei_registry', 'imei', 'type imei exists');
SELECT has_type('imei_registry', 'imeisv', 'type imeisv exists');
SELECT is((SELECT typlen::int FROM pg_type WHERE oid = 'imei_registry.imei'::regtype), 8, 'imei is 8 bytes');
SELECT ok((SELECT typbyval FROM pg_type WHERE oid = 'imei_registry.imei'::regtype), 'imei is pass-by-value');

-- Signatures and return types.
SELECT function_returns('imei_registry', 'imei_is_valid', ARRAY['text'], 'boolean');
SELECT function_returns('imei_registry', 'imei_check_digit', ARRAY['text'], 'integer');
SELECT function_returns('imei_registry', 'imei_check_digit', ARRAY['imei'], 'integer');
SELECT function_returns('imei_registry', 'imei_from_body', ARRAY['text'], 'imei');
SELECT function_returns('imei_registry', 'imei_from_network', ARRAY['text'], 'imei');
SELECT function_returns('imei_registry', 'imei_tac', ARRAY['imei'], 'text');
SELECT function_returns('imei_registry', 'imei_snr', ARRAY['imei'], 'text');
SELECT function_returns('imei_registry', 'imei_rbi', ARRAY['imei'], 'text');
SELECT function_returns('imei_registry', 'imeisv_svn', ARRAY['imeisv'], 'text');

-- Markings: pure functions are immutable, strict, parallel safe; the
-- comparison functions leakproof.
SELECT volatility_is('imei_registry', 'imei_from_network', ARRAY['text'], 'immutable');
SELECT is_strict('imei_registry', 'imei_is_valid', ARRAY['text']);
SELECT ok((SELECT bool_and(proleakproof) FROM pg_proc
           WHERE pronamespace = 'imei_registry'::regnamespace
             AND proname IN ('imei_eq', 'imei_ne', 'imei_lt', 'imei_le', 'imei_gt', 'imei_ge', 'imei_cmp')),
          'imei comparison functions are leakproof');
SELECT ok((SELECT bool_and(proparallel = 's') FROM pg_proc
           WHERE pronamespace = 'imei_registry'::regnamespace AND proname ~ '^imei'),
          'every imei function is parallel safe');

-- Casts: all explicit but one, text[] -> imei[] (register_import(ARRAY['...'])),
-- which converts through the imei input.
SELECT has_cast('text', 'imei');
SELECT has_cast('imei', 'text');
SELECT has_cast('imei', 'bigint');
SELECT has_cast('bigint', 'imei');
SELECT has_cast('imeisv', 'imei');
SELECT is((SELECT count(*)::int FROM pg_cast
           WHERE (castsource IN ('imei_registry.imei'::regtype, 'imei_registry.imeisv'::regtype)
               OR casttarget IN ('imei_registry.imei'::regtype, 'imei_registry.imeisv'::regtype))
             AND castcontext <> 'e'), 0, 'no implicit or assignment casts of imei or imeisv');
SELECT is((SELECT array_agg(format('%s -> %s %s %s', castsource::regtype, casttarget::regtype,
                                   castcontext, castmethod))
           FROM pg_cast
           WHERE castcontext <> 'e'
             AND (castsource IN (SELECT oid FROM pg_type WHERE typnamespace = 'imei_registry'::regnamespace)
               OR casttarget IN (SELECT oid FROM pg_type WHERE typnamespace = 'imei_registry'::regnamespace))),
          ARRAY['text[] -> imei[] i i'], 'the one implicit cast: text[] to imei[], by I/O');

-- Type category: imei and imeisv share one of the extension's own, imei
-- preferred, so an untyped literal picks the imei overload.
SELECT is((SELECT array_agg(format('%s %s %s', typname, typcategory, typispreferred) ORDER BY typname)
           FROM pg_type WHERE typnamespace = 'imei_registry'::regnamespace
             AND typname IN ('imei', 'imeisv')),
          ARRAY['imei i t', 'imeisv i f'], 'imei and imeisv: category i, imei preferred');

-- Operators, in pg_catalog, with commutators and negators.
SELECT has_operator('imei', 'pg_catalog', '=', 'imei', 'boolean', 'operator imei = imei');
SELECT has_operator('imei', 'pg_catalog', '<', 'imei', 'boolean', 'operator imei < imei');
SELECT ok((SELECT bool_and(oprcom <> 0 AND oprnegate <> 0) FROM pg_operator
           WHERE oprleft = 'imei_registry.imei'::regtype),
          'every imei operator has a commutator and a negator');
SELECT ok((SELECT oprcanhash AND oprcanmerge FROM pg_operator
           WHERE oprleft = 'imei_registry.imei'::regtype AND oprname = '='),
          'imei = supports hash and merge joins');

-- Behaviour.
SELECT is(imei_is_valid(NULL), NULL, 'imei_is_valid: NULL in, NULL out');
SELECT is(imei_is_valid('not an imei at all'), false, 'imei_is_valid never raises');
SELECT is(imei_check_digit('26053179311383'), 7, 'check digit of the 3GPP example body is 7');
SELECT is(imei_check_digit('260531793113837'), 7, 'check digit of 15 digits: the IMEI''s, verified');
SELECT throws_ok($$SELECT imei_registry.imei_check_digit('260531793113838')$$, '22P02',
    'invalid check digit for type imei: "260531793113838", should be 7',
    'check digit of 15 digits with a wrong last digit: the imei error');
SELECT is(imei_from_body('00101300123456')::text, '001013001234568', 'imei_from_body keeps leading zeros');
SELECT is(imei_from_network('352099001761480')::text, '352099001761481', 'spare digit 0 is replaced by the check digit');
SELECT is(imei_from_network('3520990017614823')::text, '352099001761481', 'an IMEISV maps to its IMEI');
SELECT is(imei_tac('001013001234568'), '00101300', 'TAC keeps leading zeros');
SELECT is(imeisv_svn('3520990017614823'), '23', 'SVN is the last two digits');
SELECT is('352099001761481'::imei::bigint, 352099001761481::bigint, 'imei to bigint is the number');
SELECT is(1013001234568::bigint::imei::text, '001013001234568', 'bigint to imei pads to 15 digits');

SELECT throws_ok($$SELECT '490154203237517'::imei_registry.imei$$, '22P02',
    'invalid check digit for type imei: "490154203237517", should be 8',
    'a wrong check digit names the expected one');
SELECT throws_ok($$SELECT '49015420323751'::imei_registry.imei$$, '22P02',
    'invalid input syntax for type imei: "49015420323751"',
    '14 digits are refused by the type');
SELECT throws_ok($$SELECT 352099001761482::bigint::imei_registry.imei$$, '22P02', NULL,
    'bigint to imei validates the check digit');
SELECT throws_ok($$SELECT (-1)::bigint::imei_registry.imei$$, '22003', NULL,
    'bigint to imei refuses values out of range');
SELECT throws_ok($$SELECT imei_registry.imei_from_body('260531793113837')$$, '22P02', NULL,
    'imei_from_body wants exactly 14 digits');
SELECT throws_ok($$SELECT imei_registry.imei_from_network('352099001761485')$$, '22P02', NULL,
    'imei_from_network refuses a last digit that is neither check digit nor 0');
SELECT ok(max(v) = '490154203237518' AND min(v) = '001013001234568',
          'min and max aggregates')
FROM (VALUES ('352099001761481'::imei), ('001013001234568'), ('490154203237518')) t(v);

SELECT * FROM finish();
ROLLBACK;
