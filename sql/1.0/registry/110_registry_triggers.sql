-- (made by create_registry(); the rest: sql/1.0/110_registry_triggers.sql)
CREATE TRIGGER registry_transition
    BEFORE INSERT OR UPDATE ON imei_registry.registry
    FOR EACH ROW EXECUTE FUNCTION imei_registry.registry_transition();
COMMENT ON TRIGGER registry_transition ON imei_registry.registry IS
    'checks every new row and change of status against the registry rules (SQLSTATE IR001), stamps since';

-- History: one set-based INSERT per statement from its transition tables
-- (a status kept -- device_id set, say -- adds no row).
CREATE TRIGGER registry_history_insert
    AFTER INSERT ON imei_registry.registry
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.registry_history();
CREATE TRIGGER registry_history_update
    AFTER UPDATE ON imei_registry.registry
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.registry_history();
COMMENT ON TRIGGER registry_history_insert ON imei_registry.registry IS
    'appends the history rows of new IMEIs';
COMMENT ON TRIGGER registry_history_update ON imei_registry.registry IS
    'appends the history rows of changes of status';

-- The guard fires ALWAYS, also under session_replication_role = replica
-- (a logical-replication subscriber, a restore): history stays append-only.
CREATE TRIGGER history_append_only
    BEFORE UPDATE OR DELETE ON imei_registry.history
    FOR EACH ROW EXECUTE FUNCTION imei_registry.history_guard();
CREATE TRIGGER history_no_truncate
    BEFORE TRUNCATE ON imei_registry.history
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.history_guard();
ALTER TABLE imei_registry.history ENABLE ALWAYS TRIGGER history_append_only;
ALTER TABLE imei_registry.history ENABLE ALWAYS TRIGGER history_no_truncate;

-- Registry rows are never deleted (an IMEI changes status, with history):
-- DELETE and TRUNCATE are refused in every mode, like history's.
CREATE TRIGGER registry_no_delete
    BEFORE DELETE ON imei_registry.registry
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.registry_guard();
CREATE TRIGGER registry_no_truncate
    BEFORE TRUNCATE ON imei_registry.registry
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.registry_guard();
ALTER TABLE imei_registry.registry ENABLE ALWAYS TRIGGER registry_no_delete;
ALTER TABLE imei_registry.registry ENABLE ALWAYS TRIGGER registry_no_truncate;

-- Outside replica mode a restore's bulk loads are refused, so that a
-- restore without the documented options loads neither table and fails
-- (docs/registry.md): registry takes no COPY, and history takes rows only
-- from the registry's history trigger.  In replica mode they do not fire.
CREATE TRIGGER registry_no_copy
    BEFORE INSERT ON imei_registry.registry
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.registry_guard();
CREATE TRIGGER history_from_registry_only
    BEFORE INSERT ON imei_registry.history
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.history_insert_guard();

-- history.xid is the writing transaction: its DEFAULT in normal operation.
-- Rows that arrive under session_replication_role = replica -- applied by
-- a logical-replication subscriber, or reloaded by a restore (docs/registry.md)
-- -- carry an xid of another cluster; this trigger, which fires only then,
-- gives them the local one, so the change feed stays in commit order.
CREATE TRIGGER history_stamp_xid
    BEFORE INSERT ON imei_registry.history
    FOR EACH ROW EXECUTE FUNCTION imei_registry.history_guard();
ALTER TABLE imei_registry.history ENABLE REPLICA TRIGGER history_stamp_xid;

-- Operators are never deleted, and a code never changes: registry.first_operator
-- needs no foreign key (src/operators.c).  The transition trigger checks the
-- codes against a cache that these triggers invalidate on every change.
CREATE TRIGGER operators_no_delete
    BEFORE DELETE OR TRUNCATE ON imei_registry.operators
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.operators_guard();
CREATE TRIGGER operators_changed
    BEFORE INSERT OR UPDATE ON imei_registry.operators
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.operators_guard();
CREATE TRIGGER operators_code_kept
    BEFORE UPDATE OF code ON imei_registry.operators
    FOR EACH ROW EXECUTE FUNCTION imei_registry.operators_guard();
ALTER TABLE imei_registry.operators ENABLE ALWAYS TRIGGER operators_no_delete;
ALTER TABLE imei_registry.operators ENABLE ALWAYS TRIGGER operators_changed;
ALTER TABLE imei_registry.operators ENABLE ALWAYS TRIGGER operators_code_kept;
