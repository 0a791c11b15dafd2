#!/usr/bin/env bash
# Grey-period expiry at scale: DUE expired grey IMEIs among TOTAL.
#
# Builds one database, clones it (CREATE DATABASE ... TEMPLATE) so that both
# measurements start from the same pages, then in the same run times
#   baseline   one single-statement UPDATE of the due rows through the
#              registry's transition trigger, and
#   procedure  CALL imei_registry.expire_grey_period(BATCH),
# and prints the ratio, the longest batch transaction, the plan of the batch
# query, and the scans it made (index, never the whole table).
#
#   TOTAL=5000000 DUE=1000000 BATCH=10000 bench/grey.sh
# Uses the cluster of the libpq environment (PGHOST, PGPORT, PGUSER), with
# imei_registry installed; creates and drops databases imei_grey_bench_*.
set -euo pipefail

TOTAL=${TOTAL:-5000000}
DUE=${DUE:-1000000}
BATCH=${BATCH:-10000}
DB=imei_grey_bench
psql="psql -X -q -v ON_ERROR_STOP=1"

now_ms() { date +%s%3N; }

cleanup() {
    for d in "$DB" "${DB}_baseline" "${DB}_procedure"; do
        dropdb --if-exists "$d" 2>/dev/null || true
    done
}
trap cleanup EXIT
cleanup

echo "grey expiry bench: $DUE due grey IMEIs among $TOTAL, batch $BATCH"
createdb "$DB"
t0=$(now_ms)
# Data set: a quarter of the rest grey with a last day to come, the others
# white.  Loaded with session_replication_role = replica (no triggers): the
# load is set-up, not what is measured.  Due rows have last days spread over
# the last 30 days.
$psql -d "$DB" <<SQL
CREATE EXTENSION imei_registry;
SELECT imei_registry.create_registry();
SET session_replication_role = replica;
INSERT INTO imei_registry.registry
       (imei, status, reason, first_seen_at, grey_last_day, grey_period_days)
SELECT imei_registry.imei_from_body((35000000000000 + g)::text),
       s.status, s.reason, pg_catalog.now() - interval '40 days',
       CASE s.status WHEN 'grey' THEN
            CASE WHEN g <= $DUE
                 THEN imei_registry.local_date(pg_catalog.now()) - 1 - (g % 30)::int
                 ELSE imei_registry.local_date(pg_catalog.now()) + (g % 30)::int END
       END,
       CASE s.status WHEN 'grey' THEN 30 END
  FROM pg_catalog.generate_series(1, $TOTAL) AS g
 CROSS JOIN LATERAL (SELECT CASE WHEN g <= $DUE OR g % 4 = 0 THEN 'grey' ELSE 'white' END::imei_registry.status AS status) AS st
 CROSS JOIN LATERAL (SELECT st.status, CASE st.status WHEN 'grey' THEN 'unverified' ELSE 'lawful_import' END AS reason) AS s
 ORDER BY pg_catalog.random();
RESET session_replication_role;
VACUUM (ANALYZE) imei_registry.registry;
SQL
echo "loaded in $(( ($(now_ms) - t0) / 1000 )) s: $($psql -At -d "$DB" -c "SELECT pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size('imei_registry.registry'))")"
createdb -T "$DB" "${DB}_baseline"
createdb -T "$DB" "${DB}_procedure"

due_sql="SELECT count(*) FROM imei_registry.registry WHERE status = 'grey' AND grey_last_day < imei_registry.local_date(now())"
[ "$($psql -At -d "${DB}_procedure" -c "$due_sql")" = "$DUE" ] || { echo "due rows != $DUE"; exit 1; }

warm() { $psql -d "$1" -c "SELECT count(*) FROM imei_registry.registry" >/dev/null; }

echo
echo "plan of one batch (the procedure's UPDATE, with its LIMIT):"
$psql -d "${DB}_procedure" <<SQL
EXPLAIN (COSTS OFF)
UPDATE imei_registry.registry AS r
   SET status = 'black', reason = 'grey_expired'
 WHERE r.imei OPERATOR(pg_catalog.=) ANY (ARRAY(
        SELECT d.imei FROM imei_registry.registry AS d
         WHERE d.status = 'grey' AND d.grey_last_day < imei_registry.local_date(now())
         ORDER BY d.grey_last_day
         LIMIT $BATCH FOR UPDATE OF d SKIP LOCKED));
SQL

warm "${DB}_baseline"
t0=$(now_ms)
$psql -d "${DB}_baseline" <<'SQL'
UPDATE imei_registry.registry
   SET status = 'black', reason = 'grey_expired'
 WHERE status = 'grey' AND grey_last_day < imei_registry.local_date(now());
SQL
base_ms=$(( $(now_ms) - t0 ))

warm "${DB}_procedure"
scans="SELECT seq_scan, idx_scan FROM pg_catalog.pg_stat_user_tables WHERE relid = 'imei_registry.registry'::regclass"
due_idx="SELECT idx_scan FROM pg_catalog.pg_stat_user_indexes WHERE indexrelid = 'imei_registry.registry_grey_due'::regclass"
read -r seq0 _ <<<"$($psql -At -F ' ' -d "${DB}_procedure" -c "$scans")"
idx0=$($psql -At -d "${DB}_procedure" -c "$due_idx")
t0=$(now_ms)
$psql -d "${DB}_procedure" -c "CALL imei_registry.expire_grey_period($BATCH)"
proc_ms=$(( $(now_ms) - t0 ))
sleep 1  # statistics are sent when the session ends
read -r seq1 _ <<<"$($psql -At -F ' ' -d "${DB}_procedure" -c "$scans")"
idx1=$($psql -At -d "${DB}_procedure" -c "$due_idx")

check="SELECT (SELECT count(*) FROM imei_registry.registry WHERE reason = 'grey_expired')
           || ' black, ' || (SELECT count(*) FROM imei_registry.history WHERE reason = 'grey_expired')
           || ' history rows, ' || ($due_sql) || ' still due'"
echo
echo "baseline:  $($psql -At -d "${DB}_baseline" -c "$check")"
echo "procedure: $($psql -At -d "${DB}_procedure" -c "$check")"
$psql -d "${DB}_procedure" -c "SELECT expired, batches, round(max_batch_ms::numeric, 1) AS max_batch_ms, finished_at - started_at AS run_time FROM imei_registry.grey_expiry_runs"
echo "procedure scans of registry: $((seq1 - seq0)) sequential, $((idx1 - idx0)) of index registry_grey_due"
echo
echo "single UPDATE:        $base_ms ms"
echo "expire_grey_period:   $proc_ms ms"
awk -v p="$proc_ms" -v b="$base_ms" 'BEGIN { printf "ratio procedure/UPDATE: %.2f (target <= 2)\n", p / b }'
