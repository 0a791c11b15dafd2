-- The iin and bin types (Kazakhstan individual / business identification
-- numbers): an int64 holding the 12 digits, laid out like int8.  Both are
-- created by the generated 010_<type>_type.sql parts (template
-- sql/int8_type.sql.in); their functions are in 300_kzid_functions.sql.

COMMENT ON TYPE imei_registry.iin IS
    'Kazakhstan individual identification number: 12 digits, check digit verified';
COMMENT ON TYPE imei_registry.bin IS
    'Kazakhstan business identification number: 12 digits, check digit verified';
