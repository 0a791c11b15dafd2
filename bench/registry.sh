#!/usr/bin/env bash
# Registry benchmarks, baseline and feature in the same run:
#  1. check_imei(imei) throughput (pgbench) vs a plain primary-key lookup of
#     the same table, on 1,000,000 registered IMEIs (bench/lib/check.sh, as
#     bench/bulk.sh measures it).  Target >= 1.0 (issue 20).
#  2. the transition trigger's cost: a bulk status change of 100,000 rows
#     (white -> black, gsma_blocked) with the trigger vs the same change with
#     the transition trigger disabled.  The same change includes its history
#     rows (every change of status leaves one), so the history trigger runs
#     in both.  Target <= 1.5.  For reference, also the UPDATE with no
#     trigger at all (no rules, no history): what the history rows cost.
# Uses the cluster of the PG* environment variables; creates (and drops) its
# own database.  BENCH_SECONDS (default 10) per pgbench run, BENCH_CLIENTS (2);
# BENCH_ROWS (1000000) and BENCH_CHANGE (100000, at most a third of it) for
# a quick run at a smaller size.
set -euo pipefail
DB=${BENCH_DB:-imei_registry_bench}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-2}
ROWS=${BENCH_ROWS:-1000000}
CHANGE=${BENCH_CHANGE:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"; dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT

q() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
. "$(dirname "$0")/lib/check.sh"

dropdb --if-exists "$DB" >/dev/null
createdb "$DB"
q -c 'CREATE EXTENSION imei_registry' -c 'SELECT imei_registry.create_registry()'
echo "loading $ROWS IMEIs ..."
# The load is set-up, not measured: the triggers would only add history.
q <<SQL
ALTER TABLE imei_registry.registry DISABLE TRIGGER USER;
-- a third each white, grey, black; the bulk change takes the white ones
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at, grey_last_day, grey_period_days)
SELECT imei_registry.imei_from_body((35000000000000 + g)::text),
       (ARRAY['white', 'grey', 'black'])[g % 3 + 1]::imei_registry.status,
       (ARRAY['lawful_import', 'unverified', 'gsma_blocked'])[g % 3 + 1],
       now() - interval '10 days',
       CASE WHEN g % 3 = 1 THEN imei_registry.local_date(now()) + 20 END,
       CASE WHEN g % 3 = 1 THEN 30 END
FROM generate_series(1, $ROWS) g;
ALTER TABLE imei_registry.registry ENABLE TRIGGER USER;
VACUUM ANALYZE imei_registry.registry;
SQL

# the rows: a third each white, grey (within its period), black
check_vs_pk "$DB" 35000000000000 "$ROWS" "$CLIENTS" "$SECONDS_PER_RUN"

# One timed bulk change, rolled back so every variant starts from the same
# table; VACUUM between runs keeps them on equal footing.
bulk() {  # $1 = all | history | none: the triggers that stay enabled
    local toggle=""
    case $1 in
        history) toggle="ALTER TABLE imei_registry.registry DISABLE TRIGGER registry_transition;" ;;
        none) toggle="ALTER TABLE imei_registry.registry DISABLE TRIGGER registry_transition, DISABLE TRIGGER registry_history_update;" ;;
    esac
    q -c 'VACUUM imei_registry.registry' -c 'CHECKPOINT'
    q <<SQL | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
BEGIN;
$toggle
\timing on
UPDATE imei_registry.registry SET status = 'black', reason = 'gsma_blocked'
WHERE status = 'white'
  AND imei OPERATOR(pg_catalog.<=) imei_registry.imei_from_body('$((35000000000000 + 3 * CHANGE))');
\timing off
ROLLBACK;
SQL
}
echo "bulk status change of $CHANGE rows (white -> black, gsma_blocked), median of 5"
bulk all >/dev/null
a=(); h=(); n=()
for i in 1 2 3 4 5; do n+=("$(bulk none)"); h+=("$(bulk history)"); a+=("$(bulk all)"); done
med() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
ma=$(med "${a[@]}"); mh=$(med "${h[@]}"); mn=$(med "${n[@]}")
printf 'no trigger (no rules, no history):   %8.0f ms (%s)\n' "$mn" "${n[*]}"
printf 'history only (transition disabled):  %8.0f ms (%s)\n' "$mh" "${h[*]}"
printf 'transition and history triggers:     %8.0f ms (%s)\n' "$ma" "${a[*]}"
printf 'transition trigger: with / without:  %8.2f    (target <= 1.50)\n' "$(echo "$ma / $mh" | bc -l)"
printf 'all triggers / no trigger:           %8.2f    (reference: the history rows cost the rest)\n' \
    "$(echo "$ma / $mn" | bc -l)"
