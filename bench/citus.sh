#!/usr/bin/env bash
# One node against a coordinator and two workers (Citus), in one run, on
# the PostgreSQL of IMEI_CITUS_PGBIN (a PostgreSQL 15 with citus.so and the
# extension installed; default the suite's):
#   * the load of BENCH_LINES (default 1,000,000) operator report lines of
#     new IMEIs, COPY ... upload_connections (as bench/bulk.sh's first
#     load), each IMEI grey with its history row;
#   * check_imei() of random IMEIs of that load, pgbench -M prepared,
#     BENCH_CLIENTS clients (default 2) for BENCH_SECONDS (default 10),
#     against the one node and against the coordinator; then against all
#     three nodes of the cluster at once, as many clients on each (sum);
#   * the load of a block list of BENCH_BLOCK_LINES (default 100,000)
#     lines, COPY ... upload_blocklist, half of them IMEIs of that load
#     (grey), half new ones, each black with its history row;
#   * decide_application() of a paid commercial import of 10,000 devices
#     (20,000 grey IMEIs), on the one node and from the coordinator.
# Prints each figure and the ratios (cluster / one node).  The one node is
# the same PostgreSQL without Citus, create_registry(); the cluster is
# test/citus/cluster.bash's (create_registry(distributed => true), 32
# shards).  On one machine the nodes share its cores: this measures the
# cost of the distributed path, not scale-out.  Self-contained (its
# clusters are made and removed here; Unix sockets only):
#   IMEI_CITUS_PGBIN=/path/to/postgresql/15/bin bench/citus.sh
set -euo pipefail
LINES=${BENCH_LINES:-1000000}
BLOCK_LINES=${BENCH_BLOCK_LINES:-100000}
SECONDS_RUN=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-2}
name=citus_bench
cd "$(dirname "$0")/.."
. test/citus/cluster.bash

# the one node: the same PostgreSQL, no Citus
nodes="$nodes single"
node_start single
q single -c 'CREATE EXTENSION imei_registry' -c 'SELECT imei_registry.create_registry()' >/dev/null
for n in single coord; do
    q "$n" -c "INSERT INTO imei_registry.operators VALUES ('kcell', 'Kcell'), ('beeline', 'Beeline'), ('tele2', 'Tele2')" >/dev/null
done

# the report of new IMEIs (bench/bulk.sh's): 14-digit bodies, all unknown
work=$base/work
mkdir -p "$work"
chmod 0755 "$work"
awk -v n="$LINES" 'BEGIN {
    split("kcell beeline tele2", ops, " ");
    print "operator,imei,connected_at";
    for (i = 1; i <= n; i++)
        printf "%s,35%012d,2026-04-%02d %02d:%02d:00+05\n", ops[i % 3 + 1], i, i % 28 + 1, i % 24, i % 60;
}' >"$work/connections.csv"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $LINES lines; nodes: PostgreSQL $("$bin/pg_config" --version | cut -d' ' -f2), Citus $(q coord -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'")"

# load NODE: the COPY from a client on NODE; prints seconds
load() {
    local t0 t1
    t0=$(date +%s.%N)
    q "$1" -c "\\copy imei_registry.upload_connections from '$work/connections.csv' with (format csv, header true)"
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
load_single=$(load single)
load_cluster=$(load coord)
for n in single coord; do
    got=$(q "$n" -c "SELECT (SELECT count(*) FROM imei_registry.registry WHERE status = 'grey') || ' ' ||
                            (SELECT count(*) FROM imei_registry.history)")
    [ "$got" = "$LINES $LINES" ] || fail "after the load on $n: grey rows, history rows: $got"
done
printf 'COPY upload_connections, %d new IMEIs: one node %.2f s, coordinator + 2 workers %.2f s (%.2f x the time; %.0f against %.0f lines/s)\n' \
    "$LINES" "$load_single" "$load_cluster" "$(awk -v a="$load_single" -v b="$load_cluster" 'BEGIN { print b / a }')" \
    "$(awk -v a="$load_single" -v n="$LINES" 'BEGIN { print n / a }')" \
    "$(awk -v b="$load_cluster" -v n="$LINES" 'BEGIN { print n / b }')"

# check_imei() of random IMEIs of the load (grey past their last day: each
# also asks whether a pending application holds it)
cat >"$work/check.sql" <<SQL
\\set n random(1, $LINES)
SELECT * FROM imei_registry.check_imei(imei_registry.imei_from_body((35000000000000 + :n)::text));
SQL
# tps NODE: pgbench against NODE, the tps
tps() {
    "$bin/pgbench" -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_RUN" -h "$base/$1" -p 5432 \
        -U postgres -f "$work/check.sql" registry 2>/dev/null | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
for n in single coord; do
    q "$n" -c "VACUUM ANALYZE imei_registry.registry" >/dev/null
done
tps single >/dev/null           # warm-up
tps coord >/dev/null
s1=$(tps single); c1=$(tps coord); s2=$(tps single); c2=$(tps coord)
ts=$(awk -v a="$s1" -v b="$s2" 'BEGIN { print (a + b) / 2 }')
tc=$(awk -v a="$c1" -v b="$c2" 'BEGIN { print (a + b) / 2 }')
printf 'check_imei(), pgbench -M prepared -c %d -T %d: one node %.0f tps (%s, %s), the coordinator %.0f tps (%s, %s): ratio %.2f\n' \
    "$CLIENTS" "$SECONDS_RUN" "$ts" "$s1" "$s2" "$tc" "$c1" "$c2" "$(awk -v a="$ts" -v b="$tc" 'BEGIN { print b / a }')"
# all three nodes at once, CLIENTS clients each
for n in coord w1 w2; do
    tps "$n" >"$work/tps.$n" &
done
wait
tall=$(cat "$work/tps.coord" "$work/tps.w1" "$work/tps.w2" | awk '{ s += $1 } END { print s }')
printf 'check_imei(), the same against all three nodes at once (%d clients each): %.0f tps (coordinator %s, w1 %s, w2 %s): ratio %.2f to the one node\n' \
    "$CLIENTS" "$tall" "$(cat "$work/tps.coord")" "$(cat "$work/tps.w1")" "$(cat "$work/tps.w2")" \
    "$(awk -v a="$ts" -v b="$tall" 'BEGIN { print b / a }')"

# the block list: BLOCK_LINES lines, every other one an IMEI of the load
# (grey), the others new; all go black (gsma_blocked) with their history rows
half=$((BLOCK_LINES / 2))
[ "$half" -le "$LINES" ] || fail "BENCH_BLOCK_LINES is more than twice BENCH_LINES"
q single -c "\\copy (SELECT imei_registry.imei_from_body(((CASE WHEN g % 2 = 1 THEN 35000000000000 ELSE 36000000000000 END) + (g + 1) / 2)::text)::text, '2026-11-30', 'stolen, GSMA' FROM generate_series(1, $((2 * half))) g) to '$work/blocklist.csv' with (format csv)"
# block NODE: the COPY from a client on NODE; prints seconds
block() {
    local t0 t1
    t0=$(date +%s.%N)
    q "$1" -c "\\copy imei_registry.upload_blocklist from '$work/blocklist.csv' with (format csv)"
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
block_single=$(block single)
block_cluster=$(block coord)
for n in single coord; do
    got=$(q "$n" -c "SELECT (SELECT count(*) FROM imei_registry.registry WHERE status = 'black' AND reason = 'gsma_blocked') || ' ' ||
                            (SELECT count(*) FROM imei_registry.history WHERE to_status = 'black')")
    [ "$got" = "$((2 * half)) $((2 * half))" ] || fail "after the block list on $n: black rows, their history rows: $got"
done
printf 'COPY upload_blocklist, %d lines (half known grey): one node %.2f s, coordinator + 2 workers %.2f s (%.2f x the time; %.0f against %.0f lines/s)\n' \
    "$((2 * half))" "$block_single" "$block_cluster" "$(awk -v a="$block_single" -v b="$block_cluster" 'BEGIN { print b / a }')" \
    "$(awk -v a="$block_single" -v n="$((2 * half))" 'BEGIN { print n / a }')" \
    "$(awk -v b="$block_cluster" -v n="$((2 * half))" 'BEGIN { print n / b }')"

# decide_application() of 10,000 devices, 20,000 grey IMEIs
# decide NODE APP: the decision from a client on NODE; prints seconds
decide() {
    local t0 t1 got
    t0=$(date +%s.%N)
    got=$(q "$1" -c "SELECT imei_registry.decide_application($2) ->> 'decision'")
    t1=$(date +%s.%N)
    [ "$got" = approved ] || fail "the decision of 10,000 devices on $1: $got"
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
got=$(paid_commercial_import single 86000300 10000)
set -- $got
[ "${2:-}" = t ] || fail "the commercial import on the one node is not paid"
decide_single=$(decide single "$1")
got=$(paid_commercial_import coord 86000300 10000)
set -- $got
[ "${2:-}" = t ] || fail "the commercial import on the coordinator is not paid"
decide_cluster=$(decide coord "$1")
printf 'decide_application(), a commercial import of 10,000 devices (20,000 grey IMEIs): one node %.2f s, coordinator + 2 workers %.2f s (%.2f x the time)\n' \
    "$decide_single" "$decide_cluster" "$(awk -v a="$decide_single" -v b="$decide_cluster" 'BEGIN { print b / a }')"
