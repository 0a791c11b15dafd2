#!/usr/bin/env bash
# Bulk loading against plain COPY, in the same run, on the cluster that the
# PG environment (PGHOST, PGPORT, PGUSER) names.  Creates and drops its own
# database.
#
#   BULK_ROWS=N          operator report lines (default 500000; the issue's figure is 5000000)
#   BULK_DEVICE_ROWS=N   device lines (default 200000; the issue's figure is 1000000)
#
# For each: the time of a plain COPY of the file into a table with a bigint
# primary key, the time of the COPY into the upload target (unknown IMEIs
# become grey, with history when the registry trigger is installed), their
# ratio, and the peak private memory (RssAnon) of the backend during the load.
# Also the floor: one set-based INSERT ... SELECT of the same rows (other
# IMEIs) straight into the tables, which pays what any loader pays there
# (the registry's transition and history triggers, foreign keys, indexes)
# and nothing for parsing, validation or bookkeeping.  And the writes
# alone: the same rows (registry and history rows; application devices and
# IMEIs), set-based, with every trigger and foreign key of those tables off.
# If the writes alone exceed the target, no loader can meet it.
set -euo pipefail
ROWS=${BULK_ROWS:-500000}
DEVICE_ROWS=${BULK_DEVICE_ROWS:-200000}
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

# timed SQL-FILE: time_copy after a checkpoint, so no run pays for another's
# dirty pages
timed() {
    psql_db -c CHECKPOINT >/dev/null
    time_copy "$1"
}

# without_triggers OUT-FILE TABLE...: the SQL on stdin, in one transaction
# with every trigger (foreign keys included) of the tables disabled
without_triggers() {
    local out=$1 t
    shift
    {
        echo 'BEGIN;'
        for t in "$@"; do echo "ALTER TABLE $t DISABLE TRIGGER ALL;"; done
        cat
        for t in "$@"; do echo "ALTER TABLE $t ENABLE TRIGGER ALL;"; done
        echo 'COMMIT;'
    } > "$out"
}

dropdb --if-exists "$DB" >/dev/null 2>&1
createdb "$DB"
psql_db <<'SQL'
CREATE EXTENSION imei_registry;
INSERT INTO imei_registry.operators VALUES ('kcell', 'Kcell'), ('beeline', 'Beeline'), ('tele2', 'Tele2');
CREATE TABLE plain_connections (operator text, imei bigint PRIMARY KEY, connected_at timestamptz);
CREATE TABLE plain_devices (application_id bigint, model text, imei_1 bigint PRIMARY KEY,
                            imei_2 bigint, imei_3 bigint, imei_4 bigint);
INSERT INTO imei_registry.applications (id, applicant_kind, applicant_id, method, mci_tenge)
    OVERRIDING SYSTEM VALUE VALUES (1, 'legal_entity', '990340000027', 'commercial_import', 3932),
                                   (2, 'legal_entity', '990340000027', 'commercial_import', 3932),
                                   (3, 'legal_entity', '990340000027', 'commercial_import', 3932);
SQL

# Operator report: 14-digit IMEI bodies (a network form), all unknown.
awk -v n="$ROWS" 'BEGIN {
    split("kcell beeline tele2", ops, " ");
    print "operator,imei,connected_at";
    for (i = 1; i <= n; i++)
        printf "%s,35%012d,2026-04-%02d %02d:%02d:00+05\n", ops[i % 3 + 1], i, i % 28 + 1, i % 24, i % 60;
}' > "$work/connections.csv"
echo "connections file: $ROWS lines, $(du -h "$work/connections.csv" | cut -f1)"

# copy_pair CSV PLAIN-TABLE TARGET: the same file by \copy into the plain
# table, then into the upload target, each after a checkpoint; prints
# "plain_s plain_kb upload_s upload_kb".
copy_pair() {
    local csv=$1 plain=$2 target=$3 p u
    printf '\\copy %s from %s with (format csv, header true)\n' "$plain" "'$csv'" > "$work/plain.sql"
    printf 'SET client_min_messages = warning;\n\\copy %s from %s with (format csv, header true)\n' \
        "$target" "'$csv'" > "$work/upload.sql"
    p=$(timed "$work/plain.sql")
    u=$(timed "$work/upload.sql")
    echo "$p $u"
}

read -r plain_s plain_kb up_s up_kb < <(copy_pair "$work/connections.csv" \
    plain_connections imei_registry.upload_connections)

report() {
    psql_db -At <<'SQL'
SELECT 'import: ' || rows_read || ' read, ' || rows_loaded || ' loaded, ' || rows_rejected
       || ' rejected, ' || rows_already_present || ' already present'
  FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1;
SQL
}
report
cat > "$work/floor.sql" <<'SQL'
INSERT INTO imei_registry.registry
    (imei, status, reason, first_seen_at, first_operator, grey_last_day)
SELECT imei_registry.imei_from_body((imei + 10000000000000)::text), 'grey', 'unverified',
       connected_at, operator, imei_registry.grey_last_day(connected_at)
  FROM plain_connections;
SQL
read -r floor_s floor_kb < <(timed "$work/floor.sql")
without_triggers "$work/writes.sql" imei_registry.registry imei_registry.history <<'SQL'
INSERT INTO imei_registry.registry
    (imei, status, reason, first_seen_at, first_operator, grey_last_day, grey_period_days)
SELECT imei_registry.imei_from_body((imei + 20000000000000)::text), 'grey', 'unverified',
       connected_at, operator, imei_registry.grey_last_day(connected_at), 30
  FROM plain_connections;
INSERT INTO imei_registry.history (imei, from_status, to_status, reason, actor, changed_at)
SELECT imei_registry.imei_from_body((imei + 20000000000000)::text), NULL, 'grey', 'unverified',
       current_user, now()
  FROM plain_connections;
SQL
read -r writes_s writes_kb < <(timed "$work/writes.sql")
psql_db -At <<'SQL'
SELECT 'registry grey: ' || count(*) FROM imei_registry.registry WHERE status = 'grey';
SELECT 'history rows: ' || count(*) FROM imei_registry.history;
SQL

# Device list: one application, dual-SIM devices (two 15-digit IMEIs each).
/usr/bin/python3 - "$DEVICE_ROWS" > "$work/devices.csv" <<'PY'
import sys
def luhn(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)
out = sys.stdout
out.write("application_id,model,imei_1,imei_2,imei_3,imei_4\n")
for i in range(int(sys.argv[1])):
    out.write("1,Phone,%s,%s,,\n" % (luhn("86%012d" % (2 * i)), luhn("86%012d" % (2 * i + 1))))
PY
echo "devices file: $DEVICE_ROWS lines, $(du -h "$work/devices.csv" | cut -f1)"
read -r dplain_s dplain_kb dup_s dup_kb < <(copy_pair "$work/devices.csv" \
    plain_devices imei_registry.upload_devices)
report
cat > "$work/floor_devices.sql" <<'SQL'
WITH d AS (
    SELECT row_number() OVER () AS n, p.* FROM plain_devices p
), dev AS (
    INSERT INTO imei_registry.application_devices (application_id, device_ord, model)
    SELECT 2, n, model FROM d
)
INSERT INTO imei_registry.application_imeis (application_id, device_ord, ord, imei_text, imei)
SELECT 2, d.n, i.ord, i.v::text, i.v::text::imei_registry.imei
  FROM d, ROWS FROM (unnest(ARRAY[d.imei_1, d.imei_2, d.imei_3, d.imei_4])) WITH ORDINALITY AS i(v, ord)
 WHERE i.v IS NOT NULL;
SQL
read -r dfloor_s dfloor_kb < <(timed "$work/floor_devices.sql")
# the writes alone: the same rows again (application 3), foreign keys off
sed 's/SELECT 2,/SELECT 3,/' "$work/floor_devices.sql" |
    without_triggers "$work/writes_devices.sql" \
        imei_registry.application_devices imei_registry.application_imeis
read -r dwrites_s dwrites_kb < <(timed "$work/writes_devices.sql")

# summary TITLE TARGET PLAIN_S PLAIN_KB UPLOAD_S UPLOAD_KB FLOOR_S WRITES_S
summary() {
    local title=$1 target=$2 plain_s=$3 plain_kb=$4 up_s=$5 up_kb=$6 floor_s=$7 writes_s=$8
    printf '%s\n' "$title"
    printf '  plain COPY (bigint PK):     %8.2f s   peak RssAnon %7d kB\n' "$plain_s" "$plain_kb"
    printf '  COPY %-22s %8.2f s   peak RssAnon %7d kB\n' "$target:" "$up_s" "$up_kb"
    printf '  ratio:                      %8.2f   (target <= 3)\n' "$(echo "$up_s / $plain_s" | bc -l)"
    printf '  floor, INSERT ... SELECT:   %8.2f s   (ratio %.2f; the upload is %.2f x the floor)\n' \
        "$floor_s" "$(echo "$floor_s / $plain_s" | bc -l)" "$(echo "$up_s / $floor_s" | bc -l)"
    printf '  the writes alone, no trigger: %6.2f s   (ratio %.2f)\n' \
        "$writes_s" "$(echo "$writes_s / $plain_s" | bc -l)"
}
echo
summary "connections: $ROWS lines" upload_connections \
    "$plain_s" "$plain_kb" "$up_s" "$up_kb" "$floor_s" "$writes_s"
summary "devices: $DEVICE_ROWS lines" upload_devices \
    "$dplain_s" "$dplain_kb" "$dup_s" "$dup_kb" "$dfloor_s" "$dwrites_s"
