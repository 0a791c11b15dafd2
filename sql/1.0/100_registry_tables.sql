-- The register: every known IMEI has one row in imei_registry.registry with
-- its status; every change of status appends to imei_registry.history.
-- Rows are keyed by imei so that the big tables can be distributed by it
-- (Citus); reasons and operators are small lookup tables.

CREATE TYPE imei_registry.status AS ENUM ('white', 'grey', 'black');

-- Status reasons are stable codes: a contract for clients and operators.
-- Add codes as needed; never rename one.  Rows shipped by the extension have
-- shipped = true and stay out of pg_dump (CREATE EXTENSION makes them);
-- codes a site adds itself are dumped.
CREATE TABLE imei_registry.reasons (
    code        text PRIMARY KEY,
    status      imei_registry.status NOT NULL,  -- the status it leads to
    description text NOT NULL,
    shipped     boolean NOT NULL DEFAULT false
);
INSERT INTO imei_registry.reasons (code, status, description, shipped) VALUES
    ('unverified',           'grey',  'seen in a network without proof of lawful import', true),
    ('lawful_import',        'white', 'registered by its importer as officially imported', true),
    ('grandfathered',        'white', 'in the networks before the rules began (24-25 March 2025)', true),
    ('application_approved', 'white', 'lawful import proven by an approved application', true),
    ('grey_expired',         'black', 'grey period ended without an approved application', true),
    ('gsma_blocked',         'black', 'matches the GSMA block list', true),
    ('counterfeit',          'black', 'found counterfeit or altered', true),
    ('replaced',             'black', 'old IMEI of a board replacement by a service centre', true),
    ('reinstated',           'white', 'explicit registry decision with a recorded reason', true);

CREATE TABLE imei_registry.operators (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]*$'),
    name text NOT NULL
);

-- Who may report and load as each operator: the roles (logins or groups)
-- bound to it.  The caller is the session user, who must be a member of a
-- role bound to the operator a report or a loaded row names, or of
-- imei_registry_admin.  Roles are kept by name, not OID: the bindings then
-- survive pg_dump/pg_restore into a cluster whose roles were recreated by
-- name (pg_dumpall --globals-only).  A dropped role's bindings bind nobody
-- until a role of that name is created again: remove them with the role.
-- Maintained by the admin.
CREATE TABLE imei_registry.operator_roles (
    operator text NOT NULL REFERENCES imei_registry.operators ON UPDATE CASCADE,
    role     name NOT NULL,
    PRIMARY KEY (operator, role)
);

-- A device with all its IMEIs (multi-SIM, eSIM slots): registry rows point
-- to it through device_id.
CREATE TABLE imei_registry.devices (
    device_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model      text,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- An importer's registration of officially imported devices
-- (imei_registry.register_import); registry rows and history point to it.
CREATE TABLE imei_registry.imports (
    import_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    importer   text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    note       text,
    -- the operator of an operator's load (upload_connections): the one
    -- operator every loaded row names; NULL for other imports
    operator   text REFERENCES imei_registry.operators
);

-- One row per IMEI.  A status change is an UPDATE of status and reason (and
-- the cause: application_id, import_id, note); the transition trigger checks
-- it against the rules, stamps since, and writes the history row.
CREATE TABLE imei_registry.registry (
    imei            imei_registry.imei PRIMARY KEY,
    status          imei_registry.status NOT NULL,
    reason          text NOT NULL,
    since           timestamptz NOT NULL DEFAULT now(),
    first_seen_at   timestamptz,
    first_operator  text REFERENCES imei_registry.operators,
    grey_last_day   date,           -- last local day of the grey period
    device_id       bigint REFERENCES imei_registry.devices,
    -- the cause of the latest change, copied into its history row
    application_id  bigint,
    import_id       bigint,
    note            text,
    CHECK ((status = 'grey') = (grey_last_day IS NOT NULL))
    -- registry_reason_status (110_registry_triggers.sql): the reason leads
    -- to the status, even with the trigger disabled
);
-- Expiry finds due grey rows without scanning the register.
CREATE INDEX registry_grey_due ON imei_registry.registry (grey_last_day)
    WHERE status = 'grey';
CREATE INDEX registry_device ON imei_registry.registry (device_id)
    WHERE device_id IS NOT NULL;

-- Append-only: the history trigger refuses UPDATE, DELETE and TRUNCATE.
-- xid is the writing transaction (stamped by the trigger, never by the
-- client); the change feed orders by (xid, id), see imei_registry.changes().
CREATE TABLE imei_registry.history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    imei            imei_registry.imei NOT NULL,
    from_status     imei_registry.status,      -- NULL when first registered
    to_status       imei_registry.status NOT NULL,
    reason          text NOT NULL,
    actor           text NOT NULL,
    changed_at      timestamptz NOT NULL,
    application_id  bigint,
    import_id       bigint,
    note            text,
    xid             xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id()
);
CREATE INDEX history_imei ON imei_registry.history (imei, id);
CREATE INDEX history_feed ON imei_registry.history (xid, id);

-- pg_dump keeps users' data (CREATE EXTENSION makes the rest).
SELECT pg_catalog.pg_extension_config_dump('imei_registry.reasons', 'WHERE NOT shipped');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.operators', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.operator_roles', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.devices', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.devices_device_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.imports', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.imports_import_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.registry', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.history', '');
SELECT pg_catalog.pg_extension_config_dump('imei_registry.history_id_seq', '');
