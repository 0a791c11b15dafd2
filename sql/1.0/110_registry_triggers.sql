-- The state machine: C triggers on the registry and on its history
-- (src/transitions.c).  A forbidden change fails with SQLSTATE IR001.

CREATE FUNCTION imei_registry.registry_transition() RETURNS trigger
    AS 'MODULE_PATHNAME', 'registry_transition' LANGUAGE C;
CREATE FUNCTION imei_registry.registry_history() RETURNS trigger
    AS 'MODULE_PATHNAME', 'registry_history' LANGUAGE C;
CREATE FUNCTION imei_registry.history_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'history_guard' LANGUAGE C;
CREATE FUNCTION imei_registry.registry_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'registry_guard' LANGUAGE C;
CREATE FUNCTION imei_registry.history_insert_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'history_insert_guard' LANGUAGE C;
CREATE FUNCTION imei_registry.operators_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'operators_guard' LANGUAGE C;
-- registry.device_id's device stays (src/devices.c)
CREATE FUNCTION imei_registry.devices_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'devices_guard' LANGUAGE C;

-- Nobody attaches them to another table: CREATE TRIGGER needs EXECUTE (a
-- trigger fires without it).  They also refuse any table but their own.
REVOKE EXECUTE ON FUNCTION imei_registry.registry_transition(),
    imei_registry.registry_history(), imei_registry.history_guard(),
    imei_registry.registry_guard(), imei_registry.history_insert_guard(),
    imei_registry.operators_guard(), imei_registry.devices_guard()
    FROM PUBLIC;
