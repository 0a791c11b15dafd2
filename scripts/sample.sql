-- Sample data and a short tour, run by scripts/try in database "imei".
\set ECHO queries
CREATE EXTENSION imei_registry;

-- The type: typos are caught at the door.
SELECT '35-209900-176148-1'::imei AS printed_form, '001013001234568'::imei AS leading_zeros;
\set ON_ERROR_STOP off
SELECT '352099001761482'::imei AS typo;
SELECT '35209900176148'::imei AS fourteen_digits;
\set ON_ERROR_STOP on
SELECT imei_from_body('35209900176148') AS from_body,
       imei_from_network('3520990017614823') AS from_imeisv,
       imei_tac('352099001761481') AS tac;
