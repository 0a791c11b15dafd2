-- The iin and bin types (Kazakhstan individual / business identification
-- numbers): an int64 holding the 12 digits, laid out like int8.  Created
-- here, before the generated 020_<type>_ops.sql parts that need them; their
-- functions are in 300_kzid_functions.sql.

CREATE TYPE imei_registry.iin;
CREATE TYPE imei_registry.bin;

CREATE FUNCTION imei_registry.iin_in(cstring) RETURNS imei_registry.iin
    AS 'MODULE_PATHNAME', 'iin_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.iin_out(imei_registry.iin) RETURNS cstring
    AS 'MODULE_PATHNAME', 'iin_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.iin_recv(internal) RETURNS imei_registry.iin
    AS 'MODULE_PATHNAME', 'iin_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.iin_send(imei_registry.iin) RETURNS bytea
    AS 'MODULE_PATHNAME', 'iin_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE imei_registry.iin (
    INPUT = imei_registry.iin_in,
    OUTPUT = imei_registry.iin_out,
    RECEIVE = imei_registry.iin_recv,
    SEND = imei_registry.iin_send,
    LIKE = pg_catalog.int8
);
COMMENT ON TYPE imei_registry.iin IS
    'Kazakhstan individual identification number: 12 digits, check digit verified';

CREATE FUNCTION imei_registry.bin_in(cstring) RETURNS imei_registry.bin
    AS 'MODULE_PATHNAME', 'bin_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.bin_out(imei_registry.bin) RETURNS cstring
    AS 'MODULE_PATHNAME', 'bin_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.bin_recv(internal) RETURNS imei_registry.bin
    AS 'MODULE_PATHNAME', 'bin_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.bin_send(imei_registry.bin) RETURNS bytea
    AS 'MODULE_PATHNAME', 'bin_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE imei_registry.bin (
    INPUT = imei_registry.bin_in,
    OUTPUT = imei_registry.bin_out,
    RECEIVE = imei_registry.bin_recv,
    SEND = imei_registry.bin_send,
    LIKE = pg_catalog.int8
);
COMMENT ON TYPE imei_registry.bin IS
    'Kazakhstan business identification number: 12 digits, check digit verified';
