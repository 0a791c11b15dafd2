-- The imei type: accepted spellings, refused spellings with their messages,
-- canonical output.

-- Accepted: one run of 15 digits, surrounding white space, and the hyphen
-- layouts 2-6-6-1, 8-6-1 and 6-2-6-1.  Output is always 15 digits.
SELECT input, input::imei_registry.imei AS imei
FROM (VALUES ('352099001761481'),
             ('  352099001761481  '),
             (E'\t352099001761481\n'),
             ('35-209900-176148-1'),
             ('35209900-176148-1'),
             ('352099-00-176148-1'),
             ('001013001234568'),
             ('000000000000000'),
             ('999999999999994')) AS v(input);

-- Refused, each with SQLSTATE 22P02 and a message quoting the input.
\set VERBOSITY default
SELECT '490154203237517'::imei_registry.imei;      -- wrong check digit
SELECT '35-209900-176148-2'::imei_registry.imei;   -- wrong check digit, grouped
SELECT '49015420323751'::imei_registry.imei;       -- 14 digits: a body
SELECT '3568680000414120'::imei_registry.imei;     -- 16 digits: an IMEISV
SELECT '12312313'::imei_registry.imei;             -- too short
SELECT ''::imei_registry.imei;                     -- nothing
SELECT '861812A69402168'::imei_registry.imei;      -- a letter
SELECT '86–181206–940216–8'::imei_registry.imei;   -- en dash, not hyphen
SELECT '86 181206 940216 8'::imei_registry.imei;   -- inner spaces
SELECT '86/181206/940216/8'::imei_registry.imei;   -- slashes
SELECT 'IMEI: 352099001761481'::imei_registry.imei; -- a prefix
SELECT '86--181206-940216-8'::imei_registry.imei;  -- double hyphen
SELECT '-352099001761481'::imei_registry.imei;     -- leading hyphen
SELECT '86-181206-940216-'::imei_registry.imei;    -- trailing hyphen
SELECT '86-181206940216-8'::imei_registry.imei;    -- grouping 2-12-1
SELECT '86-181206-9402168'::imei_registry.imei;    -- grouping 2-6-7
SELECT '35-686800-0041412-0'::imei_registry.imei;  -- 16 digits, bad grouping

-- Every refusal carries SQLSTATE 22P02.
DO $$
BEGIN
    PERFORM '490154203237517'::imei_registry.imei;
EXCEPTION WHEN invalid_text_representation THEN
    RAISE NOTICE 'SQLSTATE %', SQLSTATE;
END $$;

-- The 16-digit imeisv type: same strictness, no check digit.
SELECT input, input::imei_registry.imeisv AS imeisv,
       imei_registry.imeisv_svn(input::imei_registry.imeisv) AS svn,
       input::imei_registry.imeisv::imei_registry.imei AS imei
FROM (VALUES ('3568680000414120'),
             ('35-209900-176148-23'),
             ('35686800-004141-20'),
             ('0010130012345699')) AS v(input);
SELECT '352099001761481'::imei_registry.imeisv;    -- 15 digits: an IMEI
SELECT '35-686800-0041412-0'::imei_registry.imeisv;
SELECT '35686800004141F0'::imei_registry.imeisv;   -- hex filler

-- The operators live in pg_catalog: no search_path needed (search_path.sql).
SELECT '35-209900-176148-1'::imei_registry.imei = '352099001761481';
SET search_path = imei_registry, public;

-- Comparison follows the digits; equal values compare equal however spelled.
SELECT '35-209900-176148-1'::imei_registry.imei = '352099001761481'::imei_registry.imei AS eq,
       '001013001234568'::imei_registry.imei < '352099001761481'::imei_registry.imei AS lt,
       '352099001761481'::imei_registry.imei <> '490154203237518'::imei_registry.imei AS ne,
       '490154203237518'::imei_registry.imei >= '352099001761481'::imei_registry.imei AS ge;
SELECT min(v), max(v)
FROM (VALUES ('352099001761481'::imei_registry.imei),
             ('001013001234568'), ('490154203237518')) AS t(v);
SELECT v FROM (VALUES ('352099001761481'::imei_registry.imei),
                      ('001013001234568'), ('490154203237518')) AS t(v)
ORDER BY v DESC;
