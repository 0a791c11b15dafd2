-- (made by create_registry(); the rest: sql/1.0/100_registry_tables.sql)
-- Status reasons are stable codes: a contract for clients and operators.
-- Never rename one.  The codes the extension ships (shipped = true) are the
-- codes of the rules' table (src/rules.c), inserted by create_registry()
-- (registry/105_registry_rules.sql); a code a site adds names in base the
-- shipped code whose transitions it takes.  pg_dump dumps both, as the rows
-- of an ordinary table.  The trigger reasons_guard checks both.
CREATE TABLE imei_registry.reasons (
    code        text PRIMARY KEY,
    status      imei_registry.status NOT NULL,  -- the status it leads to
    description text NOT NULL,
    shipped     boolean NOT NULL DEFAULT false,
    base        text NOT NULL   -- the shipped code whose transitions it takes
);

-- Operators are never deleted and their codes never change (the trigger
-- operators_guard, 110_registry_triggers.sql): the registry and its history
-- keep the codes.  An operator that stops keeps its row.
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
-- to it through device_id.  Every approval and registration records its
-- devices (model and SIM slots from the TAC table when it knows them); a
-- flat register_import gives each IMEI a device of its own, which a later
-- application completes.  Its ids are drawn 100 at a time by a session (a
-- decision of 10,000 devices read and logged the sequence's page for each):
-- a session's ids are consecutive, the ids of sessions interleave and leave
-- gaps.
CREATE TABLE imei_registry.devices (
    device_id  bigint GENERATED ALWAYS AS IDENTITY (CACHE 100) PRIMARY KEY,
    model      text,
    sim_slots  integer CHECK (sim_slots BETWEEN 1 AND 8),   -- eSIM included
    created_at timestamptz NOT NULL DEFAULT now()
);
-- registry.device_id has no foreign key (one per row costs an approval of
-- many devices a query each): the registry's transition trigger checks a
-- new or changed device_id, locking the device row FOR KEY SHARE as a
-- foreign key would, and devices_guard (src/devices.c) keeps what it names:
-- a device_id never changes (23000), a device that a registry row names is
-- not deleted (23503), no TRUNCATE (42501); in every mode.  Unlike with a
-- foreign key, a single statement cannot insert a device and a registry
-- row naming it (the statement does not see its own new device): insert
-- the device first, as the extension's functions do.  The row checks
-- fire AFTER, as a foreign key's: they see the row that was written, after
-- every BEFORE trigger (a site's own may set NEW.device_id, or name the
-- device it deletes), and what the whole statement did.  The change of
-- device_id is queued only when the key changed (WHEN), so that an UPDATE
-- of the model costs nothing.
CREATE TRIGGER devices_key_kept
    AFTER DELETE ON imei_registry.devices
    FOR EACH ROW EXECUTE FUNCTION imei_registry.devices_guard();
CREATE TRIGGER devices_key_unchanged
    AFTER UPDATE ON imei_registry.devices
    FOR EACH ROW WHEN (OLD.device_id IS DISTINCT FROM NEW.device_id)
    EXECUTE FUNCTION imei_registry.devices_guard();
CREATE TRIGGER devices_no_truncate
    BEFORE TRUNCATE ON imei_registry.devices
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.devices_guard();
ALTER TABLE imei_registry.devices ENABLE ALWAYS TRIGGER devices_key_kept;
ALTER TABLE imei_registry.devices ENABLE ALWAYS TRIGGER devices_key_unchanged;
ALTER TABLE imei_registry.devices ENABLE ALWAYS TRIGGER devices_no_truncate;

-- An import: an importer's registration of officially imported devices
-- (imei_registry.register_import), or one COPY into an upload_* target
-- (400_bulk_imports.sql); registry rows and history point to it.  For a
-- COPY, importer is the user who ran it and created_at when the statement
-- started; the columns from target on are NULL for register_import().
--   rows_read = rows_loaded + rows_rejected, always;
--   rows_already_present counts the loaded rows that changed nothing.
CREATE TABLE imei_registry.imports (
    import_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    importer             text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    note                 text,
    target               text,           -- upload_connections, ...
    finished_at          timestamptz,    -- NULL while it runs
    rows_read            bigint,
    rows_loaded          bigint,         -- accepted: new or already present
    rows_rejected        bigint,
    rows_already_present bigint,         -- of rows_loaded: changed nothing
    CHECK ((target IS NULL) = (rows_read IS NULL)
           AND (rows_read IS NULL) = (rows_loaded IS NULL)
           AND (rows_read IS NULL) = (rows_rejected IS NULL)
           AND (rows_read IS NULL) = (rows_already_present IS NULL)),
    CHECK (rows_loaded + rows_rejected = rows_read),
    CHECK (rows_already_present BETWEEN 0 AND rows_loaded),
    -- the operator of an operator's load (upload_connections): the one
    -- operator every loaded row names; NULL for other imports
    operator             text REFERENCES imei_registry.operators
);
COMMENT ON COLUMN imei_registry.imports.target IS
    'the imei_registry.upload_* table a COPY loaded; NULL for register_import()';

-- One row per IMEI.  A status change is an UPDATE of status and reason (and
-- the cause: application_id, import_id, note); the transition trigger checks
-- it against the rules, stamps since, and writes the history row.
CREATE TABLE imei_registry.registry (
    imei            imei_registry.imei PRIMARY KEY,
    status          imei_registry.status NOT NULL,
    reason          text NOT NULL,
    reason_base     text,           -- a site's reason: the shipped code it takes the transitions of
    since           timestamptz NOT NULL DEFAULT now(),
    first_seen_at   timestamptz,
    -- an operator's code, checked by the transition trigger (src/operators.c:
    -- operators are never deleted, so no foreign key is needed)
    first_operator  text,
    grey_last_day   date,           -- last local day of the grey period
    grey_period_days integer,       -- its length, fixed when the IMEI turned grey
    -- a row of devices, checked by the transition trigger (no foreign key)
    device_id       bigint,
    -- the cause of the latest change, copied into its history row
    application_id  bigint,
    import_id       bigint,
    note            text,
    CHECK ((status = 'grey') = (grey_last_day IS NOT NULL)),
    CHECK ((status = 'grey') = (grey_period_days IS NOT NULL)),
    CHECK ((status = 'grey') <= (first_seen_at IS NOT NULL)),
    CONSTRAINT registry_reason_status
        CHECK (imei_registry.reason_leads_to(coalesce(reason_base, reason), status))
);
-- Expiry finds due grey rows without scanning the register.
CREATE INDEX registry_grey_due ON imei_registry.registry (grey_last_day)
    WHERE status = 'grey';
CREATE INDEX registry_device ON imei_registry.registry (device_id)
    WHERE device_id IS NOT NULL;

-- Append-only: the history trigger refuses UPDATE, DELETE and TRUNCATE.
-- xid is the writing transaction (stamped by the trigger, never by the
-- client); the change feed orders by (xid, id), see imei_registry.changes().
--
-- Keyed (imei, id), the distribution column first, so that it can be
-- co-located with the registry (Citus); id alone stays unique (an identity
-- that nobody sets) and the feed finds a position by it (history_id).
CREATE TABLE imei_registry.history (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    imei            imei_registry.imei NOT NULL,
    from_status     imei_registry.status,      -- NULL when first registered
    to_status       imei_registry.status NOT NULL,
    reason          text NOT NULL,
    actor           text NOT NULL,
    changed_at      timestamptz NOT NULL,
    application_id  bigint,
    import_id       bigint,
    note            text,
    -- the row's first connection and last day of grey after the change
    first_seen_at   timestamptz,
    first_operator  text,
    grey_last_day   date,
    xid             xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    PRIMARY KEY (imei, id)
);
CREATE INDEX history_id ON imei_registry.history (id);
CREATE INDEX history_feed ON imei_registry.history (xid, id);
