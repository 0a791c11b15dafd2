-- Named constructors, validators, accessors and casts.
SET search_path = imei_registry, public;

-- imei_is_valid never raises; NULL in, NULL out.
SELECT input, imei_is_valid(input)
FROM (VALUES ('352099001761481'), ('35-209900-176148-1'), ('352099001761482'),
             ('35209900176148'), ('junk'), (''), (NULL)) AS v(input);

-- Check digit of a 14-digit body; the spec's example gives 7.
SELECT imei_check_digit('26053179311383'), imei_check_digit('35-209900-176148');
-- 15 digits: the IMEI's own check digit, verified as the type does.
SELECT imei_check_digit('260531793113837'), imei_check_digit('26-053179-311383-7');
SELECT imei_check_digit('260531793113838');
SELECT imei_check_digit('2605317931138');           -- 13 digits: neither
SELECT imei_from_body('26053179311383'), imei_from_body('00101300123456');
SELECT imei_from_body('2605317931138');

-- Network forms: body, check digit, spare 0, IMEISV.
SELECT input, imei_from_network(input)
FROM (VALUES ('35209900176148'), ('352099001761481'), ('352099001761480'),
             ('3520990017614823'), ('35-209900-176148-23')) AS v(input);
SELECT imei_from_network('352099001761485');       -- neither check digit nor 0
SELECT imei_from_network('3520990017614');         -- 13 digits
SELECT imei_from_network('35209900176148x');

-- Accessors keep leading zeros.
SELECT imei_tac(i), imei_snr(i), imei_rbi(i), imei_check_digit(i)
FROM (VALUES ('352099001761481'::imei), ('001013001234568')) AS v(i);

-- Casts, all explicit.
SELECT '352099001761481'::imei::bigint, 1013001234568::bigint::imei,
       '352099001761481'::imei::text, 'x' || '001013001234568'::imei::text;
SELECT 352099001761482::bigint::imei;              -- bad check digit
SELECT (-1)::bigint::imei;                         -- out of range
SELECT 1000000000000000::bigint::imei;
SELECT 3520990017614823::bigint::imeisv, 10000000000000000::bigint::imeisv;
-- No implicit casts: a bigint does not silently become an imei.
SELECT imei_tac(352099001761481::bigint);
SELECT imei_tac('352099001761481');                -- an unknown literal is fine

-- Truthful markings.
SELECT p.proname, p.provolatile, p.proisstrict, p.proparallel, p.proleakproof
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'imei_registry' AND p.prokind = 'f'
  AND p.proname ~ '^imei|^imeisv'
  AND (p.provolatile <> 'i' OR NOT p.proisstrict OR p.proparallel <> 's')
ORDER BY 1;
