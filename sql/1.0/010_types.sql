-- The imei and imeisv types: an int64 holding the digits, laid out like
-- int8 (8 bytes, pass-by-value), so int8's own functions compare and hash it.

CREATE TYPE imei_registry.imei;
CREATE TYPE imei_registry.imeisv;

CREATE FUNCTION imei_registry.imei_in(cstring) RETURNS imei_registry.imei
    AS 'MODULE_PATHNAME', 'imei_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.imei_out(imei_registry.imei) RETURNS cstring
    AS 'MODULE_PATHNAME', 'imei_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.imei_recv(internal) RETURNS imei_registry.imei
    AS 'MODULE_PATHNAME', 'imei_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.imei_send(imei_registry.imei) RETURNS bytea
    AS 'MODULE_PATHNAME', 'imei_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE imei_registry.imei (
    INPUT = imei_registry.imei_in,
    OUTPUT = imei_registry.imei_out,
    RECEIVE = imei_registry.imei_recv,
    SEND = imei_registry.imei_send,
    LIKE = pg_catalog.int8
);
COMMENT ON TYPE imei_registry.imei IS
    'International Mobile Equipment Identity: 15 digits, Luhn check digit verified';

CREATE FUNCTION imei_registry.imeisv_in(cstring) RETURNS imei_registry.imeisv
    AS 'MODULE_PATHNAME', 'imeisv_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.imeisv_out(imei_registry.imeisv) RETURNS cstring
    AS 'MODULE_PATHNAME', 'imeisv_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.imeisv_recv(internal) RETURNS imei_registry.imeisv
    AS 'MODULE_PATHNAME', 'imeisv_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.imeisv_send(imei_registry.imeisv) RETURNS bytea
    AS 'MODULE_PATHNAME', 'imeisv_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE imei_registry.imeisv (
    INPUT = imei_registry.imeisv_in,
    OUTPUT = imei_registry.imeisv_out,
    RECEIVE = imei_registry.imeisv_recv,
    SEND = imei_registry.imeisv_send,
    LIKE = pg_catalog.int8
);
COMMENT ON TYPE imei_registry.imeisv IS
    'IMEI with software version: 16 digits (TAC, serial, 2-digit SVN), no check digit';
