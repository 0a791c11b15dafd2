#!/usr/bin/env bash
# Bulk loading against plain COPY, in the same run, on the cluster that the
# PG environment (PGHOST, PGPORT, PGUSER) names.  Creates and drops its own
# database.
#
#   BULK_ROWS=N   operator report lines (default 500000; the issue's figure is 5000000)
#
# For each: the time of a plain COPY of the file into a table with a bigint
# primary key, the time of the COPY into the upload target (unknown IMEIs
# become grey, with history when the registry trigger is installed), their
# ratio, and the peak private memory (RssAnon) of the backend during the load.
set -euo pipefail
ROWS=${BULK_ROWS:-500000}
DB=imei_bulk_bench
work=$(mktemp -d /tmp/imei_bulk_bench.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"; dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT

psql_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

now() { date +%s.%N; }

# time_copy SQL-FILE: runs it in one session, polls the backend's RssAnon;
# prints "seconds peak_kB"
time_copy() {
    local script=$1 pidfile=$work/pid peak=0 t0 t1 pid rss
    rm -f "$pidfile"
    t0=$(now)
    psql_db -c "SELECT pg_backend_pid()" -At -o "$pidfile" -f "$script" >/dev/null &
    local job=$!
    while kill -0 "$job" 2>/dev/null; do
        if [ -s "$pidfile" ]; then
            pid=$(head -1 "$pidfile")
            rss=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
            [ "${rss:-0}" -gt "$peak" ] && peak=$rss
        fi
        sleep 0.2
    done
    wait "$job"
    t1=$(now)
    echo "$(echo "$t1 - $t0" | bc) $peak"
}

dropdb --if-exists "$DB" >/dev/null 2>&1
createdb "$DB"
psql_db <<'SQL'
CREATE EXTENSION imei_registry;
INSERT INTO imei_registry.operators VALUES ('kcell', 'Kcell'), ('beeline', 'Beeline'), ('tele2', 'Tele2');
CREATE TABLE plain_connections (operator text, imei bigint PRIMARY KEY, connected_at timestamptz);
SQL

# Operator report: 14-digit IMEI bodies (a network form), all unknown.
awk -v n="$ROWS" 'BEGIN {
    split("kcell beeline tele2", ops, " ");
    print "operator,imei,connected_at";
    for (i = 1; i <= n; i++)
        printf "%s,35%012d,2026-04-%02d %02d:%02d:00+05\n", ops[i % 3 + 1], i, i % 28 + 1, i % 24, i % 60;
}' > "$work/connections.csv"
echo "connections file: $ROWS lines, $(du -h "$work/connections.csv" | cut -f1)"

cat > "$work/plain.sql" <<SQL
\\copy plain_connections from '$work/connections.csv' with (format csv, header true)
SQL
cat > "$work/upload.sql" <<SQL
SET client_min_messages = warning;
\\copy imei_registry.upload_connections from '$work/connections.csv' with (format csv, header true)
SQL

psql_db -c CHECKPOINT
read -r plain_s plain_kb < <(time_copy "$work/plain.sql")
psql_db -c CHECKPOINT
read -r up_s up_kb < <(time_copy "$work/upload.sql")

psql_db -At <<'SQL'
SELECT 'import: ' || rows_read || ' read, ' || rows_loaded || ' loaded, ' || rows_rejected
       || ' rejected, ' || rows_already_present || ' already present'
  FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1;
SELECT 'registry grey: ' || count(*) FROM imei_registry.registry WHERE status = 'grey';
SELECT 'history rows: ' || count(*) FROM imei_registry.history;
SQL
printf 'plain COPY (bigint PK):       %8.2f s   peak RssAnon %6d kB\n' "$plain_s" "$plain_kb"
printf 'COPY upload_connections:      %8.2f s   peak RssAnon %6d kB\n' "$up_s" "$up_kb"
printf 'ratio upload/plain:           %8.2f (target <= 3)\n' "$(echo "$up_s / $plain_s" | bc -l)"
