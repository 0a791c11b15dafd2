-- The imei and imeisv types.  Both are created by the generated
-- 010_<type>_type.sql parts (template sql/int8_type.sql.in), which sort
-- before this file.

COMMENT ON TYPE imei_registry.imei IS
    'International Mobile Equipment Identity: 15 digits, Luhn check digit verified';
COMMENT ON TYPE imei_registry.imeisv IS
    'IMEI with software version: 16 digits (TAC, serial, 2-digit SVN), no check digit';
