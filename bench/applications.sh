#!/usr/bin/env bash
# Deciding a business application of 10,000 devices (20,000 IMEIs, all grey)
# against inserting the same 20,000 IMEIs into a plain table, in the same run.
# For reference it also times the bare UPDATE of the same registry rows to
# white (no rules, no application), and the writes alone that approval cannot
# avoid: the same status change with the registry triggers off plus the same
# number of history rows, set-based: the floor, which the decision is
# measured against (decide_per_floor; issue 20's target is <= 1.5).  Beside
# it, the same writes with the devices the approval records (their rows, and
# each IMEI's device_id): decide_per_floor_with_devices.  device_id has no
# foreign key: the registry's transition trigger checks it (src/devices.c),
# so the device check counts on the decision's side, not in this floor.
# Self-contained: creates (and drops) its own database in the cluster that
# the libpq environment (PGHOST, PGPORT, PGUSER) names.
#   DEVICES=10000 RUNS=5 bench/applications.sh
set -euo pipefail
DEVICES=${DEVICES:-10000}
RUNS=${RUNS:-5}
DB=${BENCH_DB:-imei_bench_applications}

dropdb --if-exists "$DB"
createdb "$DB"
trap 'dropdb --if-exists "$DB"' EXIT
psql() { command psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

# The benchmark submits unsigned documents (signed: bench/signatures.sh):
# the setting is off for its own database.
psql -c "ALTER DATABASE $DB SET imei_registry.require_signature = off"
psql <<SQL
CREATE EXTENSION imei_registry;
SELECT imei_registry.create_registry();
SET search_path = public, imei_registry;
INSERT INTO imei_registry.mci
SELECT extract(year FROM now() AT TIME ZONE 'Asia/Almaty'), 4325 ON CONFLICT DO NOTHING;
INSERT INTO imei_registry.tac VALUES ('86000100', 'Bench', 'Dual One', 'smartphone', 2);

-- Two IMEIs per device, TAC 86000100, all grey.
CREATE TABLE src AS
SELECT d, s, imei_from_body('86000100' || lpad((2 * d + s)::text, 6, '0')) AS imei
FROM generate_series(0, $DEVICES - 1) d, generate_series(0, 1) s;
CREATE TABLE app_doc AS
SELECT jsonb_build_object(
    'applicant', jsonb_build_object('kind', 'legal_entity', 'id', '990940003030'),
    'method', 'commercial_import',
    'documents', jsonb_build_array(jsonb_build_object(
        'type', 'goods_declaration', 'number', 'GD-1', 'holder_id', '990940003030')),
    'devices', (SELECT jsonb_agg(jsonb_build_object('model', 'Dual One', 'imeis', imeis) ORDER BY d)
                FROM (SELECT d, jsonb_agg(imei::text ORDER BY s) AS imeis FROM src GROUP BY d) g)
) AS doc;
CREATE TABLE plain (imei imei_registry.imei);
-- The IMEIs connected once (grey), committed: every run starts from here.
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
SELECT imei, 'grey', 'unverified', now() FROM src;
VACUUM ANALYZE imei_registry.registry;

-- One run: time the baseline, the bare status update, the submission and the
-- decision.  The caller rolls the run back.
CREATE FUNCTION bench_run(OUT insert_ms float8, OUT update_ms float8, OUT writes_ms float8, OUT devices_ms float8, OUT submit_ms float8,
                          OUT decide_ms float8, OUT decision text)
LANGUAGE plpgsql AS \$\$
DECLARE
    t timestamptz;
    app bigint;
BEGIN
    t := clock_timestamp();
    INSERT INTO plain SELECT imei FROM src;
    insert_ms := extract(epoch FROM clock_timestamp() - t) * 1000;
    -- For reference: the bare status change of the same rows (what approval
    -- must do at least), rolled back in a subtransaction.
    BEGIN
        -- no rules: the transition trigger (which would ask for the
        -- application) is off; the history trigger stays
        ALTER TABLE imei_registry.registry DISABLE TRIGGER registry_transition;
        t := clock_timestamp();
        UPDATE imei_registry.registry r
        SET status = 'white', reason = 'application_approved', grey_last_day = NULL,
            grey_period_days = NULL
        FROM src WHERE r.imei OPERATOR(pg_catalog.=) src.imei;
        update_ms := extract(epoch FROM clock_timestamp() - t) * 1000;
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'roll back';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    BEGIN
        ALTER TABLE imei_registry.registry DISABLE TRIGGER USER;
        -- history takes rows only from the registry's trigger: off here too
        ALTER TABLE imei_registry.history DISABLE TRIGGER history_from_registry_only;
        t := clock_timestamp();
        UPDATE imei_registry.registry r
        SET status = 'white', reason = 'application_approved', grey_last_day = NULL,
            grey_period_days = NULL
        FROM src WHERE r.imei OPERATOR(pg_catalog.=) src.imei;
        INSERT INTO imei_registry.history (imei, from_status, to_status, reason, actor, changed_at)
        SELECT imei, 'grey', 'white', 'application_approved', current_user, now() FROM src;
        writes_ms := extract(epoch FROM clock_timestamp() - t) * 1000;
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'roll back';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    -- The same writes with the devices an approval records: the device rows
    -- and each IMEI's device_id, as the decision writes them.  The check of
    -- device_id is the transition trigger's (no foreign key), off here with
    -- the other registry triggers: it counts on the decision's side.
    BEGIN
        ALTER TABLE imei_registry.registry DISABLE TRIGGER USER;
        ALTER TABLE imei_registry.history DISABLE TRIGGER history_from_registry_only;
        t := clock_timestamp();
        INSERT INTO imei_registry.devices (device_id, model, sim_slots) OVERRIDING SYSTEM VALUE
        SELECT 1000000000 + d, 'Dual One', 2 FROM generate_series(0, $DEVICES - 1) d;
        UPDATE imei_registry.registry r
        SET status = 'white', reason = 'application_approved', grey_last_day = NULL,
            grey_period_days = NULL, device_id = 1000000000 + src.d
        FROM src WHERE r.imei OPERATOR(pg_catalog.=) src.imei;
        INSERT INTO imei_registry.history (imei, from_status, to_status, reason, actor, changed_at)
        SELECT imei, 'grey', 'white', 'application_approved', current_user, now() FROM src;
        devices_ms := extract(epoch FROM clock_timestamp() - t) * 1000;
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'roll back';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    t := clock_timestamp();
    app := imei_registry.submit_application((SELECT doc FROM app_doc));
    submit_ms := extract(epoch FROM clock_timestamp() - t) * 1000;
    -- the fee is paid before the decision (not timed)
    PERFORM imei_registry.record_payment(app, (SELECT r.fee_tenge FROM imei_registry.request_payment(app) r),
                                         clock_timestamp(), 'BENCH-' || app);
    t := clock_timestamp();
    decision := imei_registry.decide_application(app) ->> 'decision';
    decide_ms := extract(epoch FROM clock_timestamp() - t) * 1000;
END \$\$;
CREATE TABLE results (run int, insert_ms float8, update_ms float8, writes_ms float8, devices_ms float8, submit_ms float8, decide_ms float8, decision text);
SQL

for run in $(seq 1 "$RUNS"); do
    psql -c "BEGIN" -c "CREATE TEMP TABLE r ON COMMIT DROP AS SELECT * FROM bench_run()" \
         -c "SELECT count(*) FROM imei_registry.registry WHERE status = 'white'" -o /dev/null \
         -c "\\copy r TO '/tmp/bench_applications_run.$$'" -c "ROLLBACK"
    psql -c "\\copy results (insert_ms, update_ms, writes_ms, devices_ms, submit_ms, decide_ms, decision) FROM '/tmp/bench_applications_run.$$'"
    psql -c "UPDATE results SET run = $run WHERE run IS NULL"
done
rm -f "/tmp/bench_applications_run.$$"

echo "application of $DEVICES devices ($((2 * DEVICES)) IMEIs), $RUNS runs, milliseconds:"
psql -c "SELECT run, round(insert_ms::numeric, 1) AS insert_plain,
                round(update_ms::numeric, 1) AS bare_status_update, round(writes_ms::numeric, 1) AS writes_only,
                round(devices_ms::numeric, 1) AS writes_with_devices,
                round(submit_ms::numeric, 1) AS submit,
                round(decide_ms::numeric, 1) AS decide, decision,
                round((decide_ms / insert_ms)::numeric, 2) AS decide_ratio
         FROM results ORDER BY run"
psql -c "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY insert_ms)::numeric, 1) AS median_insert_plain_ms,
                round(percentile_cont(0.5) WITHIN GROUP (ORDER BY decide_ms)::numeric, 1) AS median_decide_ms,
                round(percentile_cont(0.5) WITHIN GROUP (ORDER BY update_ms)::numeric, 1) AS median_bare_update_ms,
                round((percentile_cont(0.5) WITHIN GROUP (ORDER BY decide_ms) /
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY insert_ms))::numeric, 2) AS ratio,
                round((percentile_cont(0.5) WITHIN GROUP (ORDER BY update_ms) /
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY insert_ms))::numeric, 2) AS bare_update_ratio,
                round((percentile_cont(0.5) WITHIN GROUP (ORDER BY writes_ms) /
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY insert_ms))::numeric, 2) AS writes_only_ratio,
                round((percentile_cont(0.5) WITHIN GROUP (ORDER BY decide_ms) /
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY writes_ms))::numeric, 2) AS decide_per_floor,
                '<= 1.5' AS floor_target,
                round((percentile_cont(0.5) WITHIN GROUP (ORDER BY decide_ms) /
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY devices_ms))::numeric, 2) AS decide_per_floor_with_devices
         FROM results"
