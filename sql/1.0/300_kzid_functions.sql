-- Validators and accessors of iin and bin.  The accessors read what the
-- digits spell; since 2013 an IIN's digits need not match its holder's
-- birth date or sex, so they are plausibility information only.

CREATE FUNCTION imei_registry.iin_is_valid(text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'iin_is_valid_text'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION imei_registry.iin_is_valid(text) IS
    'true if the text is an IIN the iin type accepts; never raises';
CREATE FUNCTION imei_registry.bin_is_valid(text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'bin_is_valid_text'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION imei_registry.bin_is_valid(text) IS
    'true if the text is a BIN the bin type accepts; never raises';

CREATE FUNCTION imei_registry.iin_century(imei_registry.iin) RETURNS integer
    AS 'MODULE_PATHNAME', 'iin_century' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.iin_century(imei_registry.iin) IS
    'first year of the century that digit 7 names (1800, 1900, 2000); plausibility only';
CREATE FUNCTION imei_registry.iin_sex(imei_registry.iin) RETURNS text
    AS 'MODULE_PATHNAME', 'iin_sex' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.iin_sex(imei_registry.iin) IS
    'male (digit 7 odd) or female (even); plausibility only, never a fact about the holder';
CREATE FUNCTION imei_registry.iin_birth_date(imei_registry.iin) RETURNS date
    AS 'MODULE_PATHNAME', 'iin_birth_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.iin_birth_date(imei_registry.iin) IS
    'the date that digits 1-7 spell, NULL if no calendar date; plausibility only';

CREATE FUNCTION imei_registry.bin_registration_yymm(imei_registry.bin) RETURNS text
    AS 'MODULE_PATHNAME', 'bin_registration_yymm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.bin_registration_yymm(imei_registry.bin) IS
    'year and month of (re-)registration: digits 1-4 as YYMM';
CREATE FUNCTION imei_registry.bin_entity_type(imei_registry.bin) RETURNS text
    AS 'MODULE_PATHNAME', 'bin_entity_type' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.bin_entity_type(imei_registry.bin) IS
    'digit 5: resident_legal_entity (4), non_resident_legal_entity (5), joint_entrepreneurship (6)';
CREATE FUNCTION imei_registry.bin_attribute(imei_registry.bin) RETURNS text
    AS 'MODULE_PATHNAME', 'bin_attribute' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.bin_attribute(imei_registry.bin) IS
    'digit 6: head_unit (0), branch (1), representative_office (2), peasant_farm (3)';
