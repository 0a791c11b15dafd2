-- The register: every known IMEI has one row in imei_registry.registry with
-- its status; every change of status appends to imei_registry.history.
-- Rows are keyed by imei so that the big tables can be distributed by it
-- (Citus); reasons and operators are small lookup tables.

CREATE TYPE imei_registry.status AS ENUM ('white', 'grey', 'black');

-- Status reasons are stable codes: a contract for clients and operators.
-- Add codes as needed; never rename one.
CREATE TABLE imei_registry.reasons (
    code        text PRIMARY KEY,
    status      imei_registry.status NOT NULL,  -- the status it leads to
    description text NOT NULL
);
INSERT INTO imei_registry.reasons (code, status, description) VALUES
    ('unverified',           'grey',  'seen in a network without proof of lawful import'),
    ('lawful_import',        'white', 'registered by its importer as officially imported'),
    ('grandfathered',        'white', 'in the networks before the rules began (24-25 March 2025)'),
    ('application_approved', 'white', 'lawful import proven by an approved application'),
    ('grey_expired',         'black', 'grey period ended without an approved application'),
    ('gsma_blocked',         'black', 'matches the GSMA block list'),
    ('counterfeit',          'black', 'found counterfeit or altered'),
    ('replaced',             'black', 'old IMEI of a board replacement by a service centre'),
    ('reinstated',           'white', 'explicit registry decision with a recorded reason');

CREATE TABLE imei_registry.operators (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]*$'),
    name text NOT NULL
);

-- A device with all its IMEIs (multi-SIM, eSIM slots): registry rows point
-- to it through device_id.
CREATE TABLE imei_registry.devices (
    device_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model      text,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per IMEI.  A status change is an UPDATE of status and reason (and
-- the cause: application_id, import_id, note); the transition trigger checks
-- it against the rules, stamps since, and writes the history row.
CREATE TABLE imei_registry.registry (
    imei            imei_registry.imei PRIMARY KEY,
    status          imei_registry.status NOT NULL,
    reason          text NOT NULL REFERENCES imei_registry.reasons,
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
);
-- Expiry finds due grey rows without scanning the register.
CREATE INDEX registry_grey_due ON imei_registry.registry (grey_last_day)
    WHERE status = 'grey';

-- Append-only: the history trigger refuses UPDATE, DELETE and TRUNCATE.
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
    note            text
);
CREATE INDEX history_imei ON imei_registry.history (imei, id);
