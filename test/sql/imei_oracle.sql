-- Public IMEI test vectors from other projects (test/data/imei_vectors.tsv,
-- see test/data/README.md), checked
-- against our documented input policy (README, "Input forms").  Each row
-- records what its source expects; the rows where we decide otherwise are
-- listed below with the source's own note, and the README says why.
SET search_path = public, imei_registry;

CREATE TABLE oracle (input text, expected text, source text);
-- Split on TAB only and keep blanks: no CSV quoting, no trimming.
\copy oracle FROM 'test/data/imei_vectors.tsv' (FORMAT csv, DELIMITER E'\t', HEADER true, QUOTE E'\x01')

-- Our verdict, in the oracle's vocabulary: what the imei (or, for IMEISV
-- rows, imeisv) type says of the input.
CREATE FUNCTION pg_temp.verdict(input text, as_imeisv boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    detail text;
BEGIN
    IF as_imeisv THEN
        PERFORM input::imei_registry.imeisv;
        RETURN 'imeisv_valid';
    END IF;
    PERFORM input::imei_registry.imei;
    RETURN 'valid';
EXCEPTION WHEN invalid_text_representation THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN CASE
        WHEN msg LIKE 'invalid check digit%' THEN 'invalid_checkdigit'
        WHEN detail LIKE '% digits; found %' THEN 'invalid_length'
        ELSE 'invalid_format' END;
END $$;

CREATE TEMP VIEW judged AS
SELECT input, expected, source,
       pg_temp.verdict(input, expected LIKE 'imeisv%') AS ours
FROM oracle;

-- All rows read, and how many agree.
SELECT count(*) AS vectors,
       count(*) FILTER (WHERE ours = expected
                        OR (expected = 'imeisv_invalid' AND ours <> 'imeisv_valid')) AS agree
FROM judged;

-- Where we depart from a source, and the source's own words.
SELECT input, expected, ours, source
FROM judged
WHERE ours <> expected
  AND NOT (expected = 'imeisv_invalid' AND ours <> 'imeisv_valid')
ORDER BY source, input;

DROP TABLE oracle CASCADE;
