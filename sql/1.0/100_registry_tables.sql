-- The register: every known IMEI has one row in imei_registry.registry with
-- its status; every change of status appends to imei_registry.history.
-- Rows are keyed by imei so that the big tables can be distributed by it
-- (Citus); reasons and operators are small lookup tables.

CREATE TYPE imei_registry.status AS ENUM ('white', 'grey', 'black');

-- The rules' own pairing of reason and status (src/transitions.c), as the
-- constraint registry_reason_status that holds even when the transition
-- trigger is disabled (restore, replica mode).
CREATE FUNCTION imei_registry.reason_leads_to(reason text, status imei_registry.status)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'reason_leads_to'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
