-- (made by create_registry(); the rest: sql/1.0/130_sightings.sql)
-- msisdn 0: the report gave none (E.164 numbers never start with 0, and a
-- key column cannot be NULL).  days: bit d - 1 is day d of the month.
-- operator needs no foreign key: operators are never deleted and their
-- codes never change (operators_guard), and only the loaders and
-- report_connection() write here, after checking it.  Half of each page is
-- kept free (fillfactor) so that a day's bit is set by a HOT update, with
-- no new index entry, for every row of a page.
CREATE TABLE imei_registry.sightings (
    imei     imei_registry.imei NOT NULL,
    imsi     bigint NOT NULL CHECK (imsi BETWEEN 200000 AND 999999999999999),
    msisdn   bigint NOT NULL DEFAULT 0
             CHECK (msisdn = 0 OR msisdn BETWEEN 1000000 AND 999999999999999),
    month    date NOT NULL CHECK (pg_catalog.date_part('day', month) = 1),
    days     integer NOT NULL CHECK (days > 0),
    operator text NOT NULL,
    PRIMARY KEY (imei, imsi, msisdn, month, operator)
) WITH (fillfactor = 50);
COMMENT ON TABLE imei_registry.sightings IS
    'who used an IMEI: one row per (imei, imsi, msisdn, month, operator), days a bitmask of the local days seen (bit d-1: day d); msisdn 0 when not reported';

-- The policy and the grants: 195_sightings_roles.sql.
ALTER TABLE imei_registry.sightings ENABLE ROW LEVEL SECURITY;
