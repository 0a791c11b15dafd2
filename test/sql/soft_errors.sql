-- Soft input errors (PostgreSQL 16 and later): every type's input function
-- reports a refused value to pg_input_is_valid() and pg_input_error_info()
-- instead of raising, with the same message, detail and SQLSTATE as the
-- hard error.  Before 16 there is nothing to test (soft_errors_1.out).
SELECT current_setting('server_version_num')::int < 160000 AS skip_test \gset
\if :skip_test
\quit
\endif
SET search_path = public, imei_registry;

-- Valid and refused inputs of each type; none of these calls raises.
SELECT type, input, pg_input_is_valid(input, type) AS valid
FROM (VALUES ('imei', '352099001761481'), ('imei', '35-209900-176148-1'),
             ('imei', '490154203237517'), ('imei', '49015420323751'),
             ('imei', ''),
             ('imeisv', '3520990017614823'), ('imeisv', '35-209900-176148-23'),
             ('imeisv', '352099001761481'), ('imeisv', '352099001761482F'),
             ('iin', '901123300258'), ('iin', '901123300255'),
             ('iin', '881315300129'),
             ('bin', '990940003030'), ('bin', '990940003031'),
             ('bin', '99094000303')) AS v(type, input);

-- What each refusal says: the message, detail, hint and SQLSTATE of the
-- hard error, as pg_input_error_info() reports them.
SELECT type, input, e.*
FROM (VALUES ('imei', '490154203237517'), ('imei', '49015420323751'),
             ('imei', '3568680000414120'), ('imei', '86--181206-940216-8'),
             ('imeisv', '352099001761481'), ('imeisv', '352099001761482F'),
             ('iin', '901123300255'), ('iin', '881315300129'),
             ('iin', '880515000120'),
             ('bin', '990940003031'), ('bin', '99094000303'),
             ('bin', '990 140 004 654')) AS v(type, input),
     LATERAL pg_input_error_info(input, type) AS e;

-- The same refusal raised by a cast, for comparison.
\set VERBOSITY default
SELECT '490154203237517'::imei;
SELECT '901123300255'::iin;

-- Arrays and domains over the types get soft errors too.
SELECT pg_input_is_valid('{352099001761481,490154203237517}', 'imei[]') AS array_valid;
CREATE DOMAIN pg_temp.nonzero_imei AS imei CHECK (VALUE <> '000000000000000');
SELECT pg_input_is_valid('490154203237517', 'pg_temp.nonzero_imei') AS bad_check_digit,
       pg_input_is_valid('000000000000000', 'pg_temp.nonzero_imei') AS domain_check;
