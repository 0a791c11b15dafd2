-- COPY ... (ON_ERROR ignore), PostgreSQL 17 and later: rows whose values
-- each type refuses are skipped and counted, the others are loaded.  Before
-- 17 there is no such option (soft_errors_copy_1.out).
SELECT current_setting('server_version_num')::int < 170000 AS skip_test \gset
\if :skip_test
\quit
\endif
SET search_path = public, imei_registry;

CREATE TEMP TABLE ids (line int, device imei, sv imeisv, person iin, company bin);
COPY ids FROM STDIN (FORMAT csv, ON_ERROR ignore, LOG_VERBOSITY verbose);
1,352099001761481,3520990017614823,901123300258,990940003030
2,490154203237517,3520990017614823,901123300258,990940003030
3,352099001761481,35209900176148,901123300258,990940003030
4,352099001761481,3520990017614823,901123300255,990940003030
5,352099001761481,3520990017614823,901123300258,990940003031
6,35-209900-176148-1,35-209900-176148-23,901123300258,990940003030
\.
SELECT * FROM ids ORDER BY line;

-- Without ON_ERROR the first bad row stops the COPY, as always.
COPY ids FROM STDIN (FORMAT csv);
7,490154203237517,3520990017614823,901123300258,990940003030
\.
SELECT count(*) FROM ids;
