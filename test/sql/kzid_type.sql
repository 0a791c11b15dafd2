-- The iin and bin types: accepted input, refusals with their messages,
-- canonical output, casts, operators, accessors.
SET search_path = imei_registry, public;

-- Accepted: 12 digits in one run, blanks around them ignored; output is
-- always 12 digits (leading zeros kept).
SELECT input, input::iin AS iin
FROM (VALUES ('901123300258'), ('  871008401427 '), (E'\t061211600012\n'),
             ('010215500231'), ('830717350867')) AS v(input);
SELECT input, input::bin AS bin
FROM (VALUES ('990940003030'), ('011140004703'), ('000140001813'),
             ('320243026191')) AS v(input);

-- Refused, SQLSTATE 22P02, the message quoting the input and saying why.
\set VERBOSITY default
SELECT '901123300255'::iin;      -- wrong check digit
SELECT '830717350860'::iin;      -- check digit from the second pass is 7
SELECT '000813159890'::iin;      -- both passes give 10: never issued
SELECT '000101100710'::iin;      -- same (one source maps 10 to 0: not us)
SELECT '8805153001'::iin;        -- too short
SELECT '8805153001200'::iin;     -- too long
SELECT ''::iin;                  -- nothing
SELECT '880515 300120'::iin;     -- inner space
SELECT '88051530012A'::iin;      -- a letter
SELECT '88–0515300120'::iin;     -- en dash
SELECT '880515000120'::iin;      -- digit 7 is 0
SELECT '320229980830'::iin;      -- digit 7 is 9, check digit right
SELECT '881301300120'::iin;      -- month 13
SELECT '881200300120'::iin;      -- day 00
SELECT '990940003030'::iin;      -- a BIN is not an IIN
SELECT '990940003031'::bin;      -- wrong check digit
SELECT '940190000385'::bin;      -- entity type 9
SELECT '081144000436'::bin;      -- attribute 4
SELECT '991340026265'::bin;      -- month 13
SELECT '901123300258'::bin;      -- an IIN is not a BIN
SELECT '990 140 004 654'::bin;   -- inner spaces
DO $$
BEGIN
    PERFORM '901123300255'::imei_registry.iin;
EXCEPTION WHEN invalid_text_representation THEN
    RAISE NOTICE 'SQLSTATE %', SQLSTATE;
END $$;

-- The validators never raise.
SELECT v, iin_is_valid(v) AS iin, bin_is_valid(v) AS bin
FROM (VALUES ('901123300258'), ('990940003030'), ('000813159890'), (''),
             ('абвгдеёжзикл'), ('9011233002581234567890'), ('-1')) AS t(v);

-- Casts: bigint both ways, validated; text both ways.
SELECT 61211600012::bigint::iin, '061211600012'::iin::bigint,
       11140004703::bin, '011140004703'::bin::text;
SELECT 61211600013::iin;
SELECT (-1)::bigint::bin;
SELECT 1000000000000::bigint::bin;

-- Operators and aggregates compare the numbers.
SELECT '061211600012'::iin < '901123300258'::iin AS lt,
       ' 901123300258'::iin = '901123300258'::iin AS eq,
       '990940003030'::bin <> '011140004703'::bin AS ne;
SELECT min(v), max(v) FROM (VALUES ('990940003030'::bin), ('011140004703'), ('320243026191')) t(v);

-- Accessors: plausibility only (the digits need not be the holder's data).
SELECT v, iin_century(v), iin_sex(v), iin_birth_date(v)
FROM (VALUES ('901123300258'::iin), ('680503250034'), ('061211600012'),
             ('800416100254')) AS t(v);
-- 30 February spells no date: NULL, not an error.
SELECT v, iin_birth_date(v) FROM (SELECT imei_registry.iin((230230600000 + d)::bigint) v
    FROM generate_series(0, 9) d WHERE iin_is_valid(lpad((230230600000 + d)::text, 12, '0'))) s;
SELECT v, bin_registration_yymm(v), bin_entity_type(v), bin_attribute(v)
FROM (VALUES ('990940003030'::bin), ('070941024691'), ('320243026191'),
             ('320243952485')) AS t(v);

-- Operator classes are complete, and the indexes are used.
SELECT opc.opcname, am.amname, amvalidate(opc.oid)
FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
WHERE opc.opcname IN ('iin_ops', 'bin_ops', 'iin_minmax_ops', 'bin_minmax_ops')
ORDER BY 1, 2;
CREATE TABLE kzid_people (id int, iin iin PRIMARY KEY);
INSERT INTO kzid_people VALUES (1, '901123300258'), (2, '061211600012');
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM kzid_people WHERE iin = '061211600012';
SELECT id FROM kzid_people WHERE iin = '061211600012';
RESET enable_seqscan;

-- Binary COPY round trip.
\set tmpfile '/tmp/kzid_type_copy.bin'
COPY kzid_people TO :'tmpfile' WITH (FORMAT binary);
TRUNCATE kzid_people;
COPY kzid_people FROM :'tmpfile' WITH (FORMAT binary);
SELECT * FROM kzid_people ORDER BY id;
DROP TABLE kzid_people;
