-- The public IIN/BIN vectors (test/data/kz_id_vectors.tsv, see test/data/README.md):
-- every row is checked against the iin or bin type, and the rows where our
-- verdict differs from what that row's source expects are listed.  That list
-- is our documented policy (docs/applications.md, "IIN and BIN"):
--   * strict input: inner spaces are refused (two sources strip them);
--   * both check passes giving 10 is invalid (stella/stdnum maps it to 0);
--   * structure is reported before the check digit, so a row with a wrong
--     month AND a wrong check digit is classed invalid_date/component.
-- psql reads the file (client side, so the server needs no access to it).
\set kz_vectors `cat test/data/kz_id_vectors.tsv`
CREATE TEMP TABLE kz_vectors (input text, kind text, expected text, source text);
INSERT INTO kz_vectors
SELECT split_part(line, E'\t', 1), split_part(line, E'\t', 2),
       split_part(line, E'\t', 3), split_part(line, E'\t', 4)
FROM regexp_split_to_table(:'kz_vectors', E'\n') WITH ORDINALITY AS f(line, n)
WHERE n > 1 AND line <> '';   -- after the header
SELECT kind, expected, count(*) FROM kz_vectors GROUP BY 1, 2 ORDER BY 1, 2;

-- What our types say about an input, in the oracle's words.
CREATE FUNCTION pg_temp.kz_verdict(input text, kind text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    detail text;
BEGIN
    IF kind = 'iin' THEN
        PERFORM input::imei_registry.iin;
    ELSE
        PERFORM input::imei_registry.bin;
    END IF;
    RETURN 'valid';
EXCEPTION WHEN invalid_text_representation THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN CASE
        WHEN msg LIKE 'invalid check digit%' THEN 'invalid_checksum'
        WHEN detail LIKE '%not a digit%' THEN 'invalid_format'
        WHEN detail LIKE '%has 12 digits%' THEN 'invalid_length'
        WHEN detail LIKE 'Digit 7%' THEN 'invalid_century'
        WHEN kind = 'iin' AND detail ~ '^The (month|day)' THEN 'invalid_date'
        ELSE 'invalid_component' END;
END $$;

-- The validators agree with the types on every row, and never raise.
SELECT count(*) AS rows,
       count(*) FILTER (WHERE CASE kind WHEN 'iin' THEN imei_registry.iin_is_valid(input)
                                        ELSE imei_registry.bin_is_valid(input) END
                        <> (pg_temp.kz_verdict(input, kind) = 'valid')) AS validator_disagrees
FROM kz_vectors;

-- Every row on which we differ from its source, with the reason.
SELECT input, kind, expected, pg_temp.kz_verdict(input, kind) AS ours,
       split_part(source, ' ', 1) AS source
FROM kz_vectors
WHERE pg_temp.kz_verdict(input, kind) <> expected
ORDER BY kind, input;

-- Whatever the class, valid vs invalid disagrees only on the documented rows.
SELECT input, kind, expected
FROM kz_vectors
WHERE (expected = 'valid') <> (pg_temp.kz_verdict(input, kind) = 'valid')
ORDER BY kind, input;
