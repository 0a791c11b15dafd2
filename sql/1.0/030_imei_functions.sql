-- Named constructors, validators and accessors of imei and imeisv.
-- Lax spellings are accepted only here, by name, never by the type's input.

CREATE FUNCTION imei_registry.imei_is_valid(text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'imei_is_valid_text'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION imei_registry.imei_is_valid(text) IS
    'true if the text is an IMEI the imei type accepts; never raises';

CREATE FUNCTION imei_registry.imeisv_is_valid(text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'imeisv_is_valid_text'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION imei_registry.imeisv_is_valid(text) IS
    'true if the text is an IMEISV the imeisv type accepts; never raises';

CREATE FUNCTION imei_registry.imei_check_digit(text) RETURNS integer
    AS 'MODULE_PATHNAME', 'imei_check_digit_text'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.imei_check_digit(text) IS
    'Luhn check digit of a 14-digit IMEI body, or of a 15-digit IMEI after verifying it';

CREATE FUNCTION imei_registry.imei_from_body(text) RETURNS imei_registry.imei
    AS 'MODULE_PATHNAME', 'imei_from_body'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.imei_from_body(text) IS
    'the IMEI of a 14-digit body (TAC + serial), check digit computed';

CREATE FUNCTION imei_registry.imei_from_network(text) RETURNS imei_registry.imei
    AS 'MODULE_PATHNAME', 'imei_from_network'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.imei_from_network(text) IS
    'the IMEI of what a network reports: 14-digit body, 15 digits ending in the check digit or a spare 0, or a 16-digit IMEISV';

CREATE FUNCTION imei_registry.imei_tac(imei_registry.imei) RETURNS text
    AS 'MODULE_PATHNAME', 'imei_tac' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.imei_snr(imei_registry.imei) RETURNS text
    AS 'MODULE_PATHNAME', 'imei_snr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.imei_rbi(imei_registry.imei) RETURNS text
    AS 'MODULE_PATHNAME', 'imei_rbi' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.imei_check_digit(imei_registry.imei) RETURNS integer
    AS 'MODULE_PATHNAME', 'imei_check_digit' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.imei_tac(imei_registry.imei) IS
    'Type Allocation Code: the first 8 digits';
COMMENT ON FUNCTION imei_registry.imei_snr(imei_registry.imei) IS
    'serial number: digits 9 to 14';
COMMENT ON FUNCTION imei_registry.imei_rbi(imei_registry.imei) IS
    'Reporting Body Identifier: the first 2 digits';

-- An IMEISV shares TAC and serial with its IMEI; the accessors take its IMEI.
CREATE FUNCTION imei_registry.imeisv_svn(imei_registry.imeisv) RETURNS text
    AS 'MODULE_PATHNAME', 'imeisv_svn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.imeisv_svn(imei_registry.imeisv) IS
    'software version number: the last 2 digits';
CREATE FUNCTION imei_registry.imei(imei_registry.imeisv) RETURNS imei_registry.imei
    AS 'MODULE_PATHNAME', 'imeisv_to_imei' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.imei(imei_registry.imeisv) IS
    'the IMEI of an IMEISV: same TAC and serial, check digit computed';
CREATE CAST (imei_registry.imeisv AS imei_registry.imei)
    WITH FUNCTION imei_registry.imei(imei_registry.imeisv);

-- The one implicit cast: a list of IMEIs typed as ARRAY['...'] is a text[],
-- and reaches the functions that take imei[] (register_import) through the
-- imei input, element by element, with its errors.  A second overload on
-- text[] instead would make the '{...}' spelling ambiguous (two array
-- types, neither preferred).  text -> imei itself stays explicit, as core's
-- casts from text are: an implicit one would silently change which function
-- or operator a text expression calls.
CREATE CAST (text[] AS imei_registry.imei[]) WITH INOUT AS IMPLICIT;
