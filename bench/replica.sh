#!/usr/bin/env bash
# check_imei() throughput of a primary and a streaming standby together
# against the primary alone (docs/scale-out.md).  Loads BENCH_ROWS (default
# 1,000,000) registered IMEIs into the cluster of the PG* environment
# variables (the primary), makes a hot standby of it (pg_basebackup -R, a
# Unix socket of its own), and runs pgbench with the same script and
# BENCH_CLIENTS clients (default 2) per server for BENCH_SECONDS (10):
#   1. the primary alone;
#   2. the standby alone (reference);
#   3. both at once, the sum of their tps;
#   4. the primary alone with twice the clients: the same total load as 3.
# Both servers run on this machine, so case 3 measures the contention of two
# servers (and of pgbench) for the same CPUs, not the gain of a second
# machine; 3 against 4 shows what a second server on the same cores adds.  Creates and
# drops its own database; stops and removes its standby.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
DB=${BENCH_DB:-imei_registry_bench_replica}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-2}
ROWS=${BENCH_ROWS:-1000000}
primary=$PGHOST
work=$(mktemp -d /tmp/imei_bench_replica.XXXXXX)
standby=$work/standby
cleanup() {
    stop_cluster "$standby"
    rm -rf "$work"
    PGHOST=$primary dropdb --if-exists "$DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT
chmod 0755 "$work"

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

dropdb --if-exists "$DB" >/dev/null
createdb "$DB"
q -c 'CREATE EXTENSION imei_registry' -c 'SELECT imei_registry.create_registry()'
echo "loading $ROWS IMEIs ..."
q <<SQL
ALTER TABLE imei_registry.registry DISABLE TRIGGER USER;
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
CHECKPOINT;
SQL

echo "making a standby ..."
mkdir -p "$standby"
[ "$(id -u)" -eq 0 ] && chown postgres: "$standby"
chmod 0755 "$standby"
as_cluster_owner "$PGBIN/pg_basebackup" -h "$primary" -U postgres -D "$standby/data" \
    -R -X stream --checkpoint=fast
echo "unix_socket_directories = '$standby'" >>"$standby/data/postgresql.conf"
as_cluster_owner "$PGBIN/pg_ctl" -D "$standby/data" -l "$standby/server.log" -t 300 -w start >/dev/null
lsn=$(q -c "SELECT pg_current_wal_insert_lsn()")
until [ "$(q -h "$standby" -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ]; do sleep 0.2; done

cat >"$work/check.sql" <<SQL
\\set n random(1, $ROWS)
SELECT * FROM imei_registry.check_imei(imei_registry.imei_from_body((35000000000000 + :n)::text));
SQL
tps() {  # tps HOST [CLIENTS]: one pgbench run against one server
    local c=${2:-$CLIENTS}
    pgbench -n -M prepared -h "$1" -c "$c" -j "$c" -T "$SECONDS_PER_RUN" \
        -f "$work/check.sql" "$DB" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
both() {  # the sum of the tps of the two servers, run at once
    local a b
    tps "$primary" >"$work/a" &
    a=$!
    tps "$standby" >"$work/b" &
    b=$!
    wait "$a" "$b"
    echo "$(cat "$work/a") + $(cat "$work/b")" | bc -l
}
echo "pgbench: check_imei(), $CLIENTS clients per server, ${SECONDS_PER_RUN}s per run, -M prepared, $(nproc) cores"
tps "$primary" >/dev/null; tps "$standby" >/dev/null   # warm up
p1=$(tps "$primary"); s1=$(tps "$standby"); b1=$(both); d1=$(tps "$primary" $((2 * CLIENTS)))
p2=$(tps "$primary"); s2=$(tps "$standby"); b2=$(both); d2=$(tps "$primary" $((2 * CLIENTS)))
mean() { echo "($1 + $2) / 2" | bc -l; }
p=$(mean "$p1" "$p2"); s=$(mean "$s1" "$s2"); b=$(mean "$b1" "$b2"); d=$(mean "$d1" "$d2")
printf 'primary alone, %2d clients:          %8.0f tps (%s, %s)\n' "$CLIENTS" "$p" "$p1" "$p2"
printf 'standby alone, %2d clients:          %8.0f tps (%s, %s)\n' "$CLIENTS" "$s" "$s1" "$s2"
printf 'primary + standby, %2d clients each: %8.0f tps (%s, %s)\n' "$CLIENTS" "$b" "$b1" "$b2"
printf 'primary alone, %2d clients:          %8.0f tps (%s, %s)\n' $((2 * CLIENTS)) "$d" "$d1" "$d2"
printf 'primary + standby / primary alone (same clients per server): %.2f\n' "$(echo "$b / $p" | bc -l)"
printf 'primary + standby / primary alone (same clients in all):     %.2f (one machine: contention, not scale-out)\n' \
    "$(echo "$b / $d" | bc -l)"
