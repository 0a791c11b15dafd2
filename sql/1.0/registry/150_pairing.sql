-- (made by create_registry(); the rest: sql/1.0/150_pairing.sql)
-- Which operator an IMSI belongs to: its PLMN, the MCC and MNC it starts
-- with (ITU-T E.212), mapped here by the admin, e.g. ('40102', 'kcell').
-- An MNC has 2 or 3 digits, so a PLMN 5 or 6; of two that both start an
-- IMSI, the longer names it (imsi_operator()).
CREATE TABLE imei_registry.operator_networks (
    plmn     text PRIMARY KEY CHECK (plmn ~ '^[2-9][0-9]{4,5}$'),
    operator text NOT NULL REFERENCES imei_registry.operators
);
COMMENT ON TABLE imei_registry.operator_networks IS
    'the PLMNs (MCC + MNC, 5 or 6 digits) of each operator: an IMSI that starts with one belongs to its operator';

-- The pairs, one row per (IMEI, IMSI) ever paired, never deleted: paired
-- says whether it is now.  operator is imsi_operator() when first paired
-- (a feed's rows keep their operator).  xid is the transaction of the
-- latest change: a change is made only by a transaction after it (see
-- pair_change()).
CREATE TABLE imei_registry.subscriber_pairs (
    imei           imei_registry.imei NOT NULL,
    imsi           bigint NOT NULL CHECK (imsi BETWEEN 200000 AND 999999999999999),
    operator       text NOT NULL,
    paired         boolean NOT NULL,
    application_id bigint,          -- the application that proved the owner (NULL: the admin's)
    changed_at     timestamptz NOT NULL,
    changed_by     text NOT NULL,
    xid            xid8 NOT NULL,
    PRIMARY KEY (imei, imsi)
);
COMMENT ON TABLE imei_registry.subscriber_pairs IS
    'pairs of an IMEI and its genuine owner''s IMSI, let through although the IMEI is black; paired: now';
ALTER TABLE imei_registry.subscriber_pairs ENABLE ROW LEVEL SECURITY;

-- Append-only, like history: one row per change, xid the writing
-- transaction (the feed orders by (xid, id)).
CREATE TABLE imei_registry.pair_history (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    imei           imei_registry.imei NOT NULL,
    imsi           bigint NOT NULL,
    operator       text NOT NULL,
    action         text NOT NULL CHECK (action IN ('added', 'removed')),
    changed_at     timestamptz NOT NULL,
    actor          text NOT NULL,
    application_id bigint,
    xid            xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id()
);
CREATE INDEX pair_history_feed ON imei_registry.pair_history (operator, xid, id);
COMMENT ON TABLE imei_registry.pair_history IS
    'every change of a pair (added, removed), append-only; the feed of imei_registry.exceptions()';

CREATE TRIGGER pair_history_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON imei_registry.pair_history
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.pair_history_guard();
CREATE TRIGGER pair_history_stamp_xid
    BEFORE INSERT ON imei_registry.pair_history
    FOR EACH ROW EXECUTE FUNCTION imei_registry.pair_history_guard();
ALTER TABLE imei_registry.pair_history ENABLE ALWAYS TRIGGER pair_history_append_only;
ALTER TABLE imei_registry.pair_history ENABLE REPLICA TRIGGER pair_history_stamp_xid;
