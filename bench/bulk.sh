#!/usr/bin/env bash
# Bulk loads and report_connection() against plain COPY and against their
# floor, in one run, on the cluster that the PG environment (PGHOST, PGPORT,
# PGUSER) names.  Creates and drops its own two databases.
#
#   BENCH_LINES=N         operator report lines (default 1000000): new IMEIs,
#                         then a daily report of as many lines, 95 % known
#   BENCH_DEVICE_LINES=N  dual-SIM device lines (default 200000)
#   BENCH_SECONDS=N       per pgbench run (default 10)
#
# The block list: BENCH_LINES lines, half of them known white IMEIs.
# Each load is timed beside:
#   * plain: the same file COPYed into a table with a bigint primary key;
#   * floor: the rows the load wrote (exported from the registry after it)
#     COPYed straight into the same tables of a second database with the
#     extension, indexes and constraints as shipped (foreign keys included),
#     DISABLE TRIGGER USER: what the writes alone cost.
# and prints load / plain and load / floor, with the backend's peak private
# memory (RssAnon).  report_connection() of a new and of a known IMEI is
# timed beside a plain single-row INSERT of a new IMEI into the registry
# through its triggers (pgbench -M prepared, 1 and 2 clients; two
# alternating runs of each), check_imei() beside a primary-key lookup.  Run it with scripts/bench bulk (about four minutes at the defaults).
set -euo pipefail
LINES=${BENCH_LINES:-1000000}
DEVICE_LINES=${BENCH_DEVICE_LINES:-200000}
PGB_SECONDS=${BENCH_SECONDS:-10}
DB=imei_bulk_bench
FDB=imei_bulk_floor
work=$(mktemp -d /tmp/imei_bulk_bench.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"; dropdb --if-exists "$DB" >/dev/null 2>&1 || true;
      dropdb --if-exists "$FDB" >/dev/null 2>&1 || true' EXIT

. "$(dirname "$0")/lib/loads.sh"
. "$(dirname "$0")/lib/check.sh"

# floor_sql NAME TABLE COLUMNS QUERY: exports what a load wrote (QUERY, in
# $DB) and prints a script that COPYs it into TABLE of $FDB, user triggers off
floor_sql() {
    export_rows "$1" "$4"
    floor_copy "$1" "$2" "$3"
}

setup_db() {
    dropdb --if-exists "$1" >/dev/null 2>&1
    createdb "$1"
    psql_in "$1" <<'SQL'
CREATE EXTENSION imei_registry;
SELECT imei_registry.create_registry();
INSERT INTO imei_registry.operators VALUES ('kcell', 'Kcell'), ('beeline', 'Beeline'), ('tele2', 'Tele2');
INSERT INTO imei_registry.applications (id, applicant_kind, applicant_id, method, mci_tenge)
    OVERRIDING SYSTEM VALUE VALUES (1, 'legal_entity', '990340000027', 'commercial_import', 3932);
SQL
}
setup_db "$DB"
setup_db "$FDB"
psql_db <<'SQL'
CREATE TABLE plain_connections (operator text, imei bigint PRIMARY KEY, connected_at timestamptz);
CREATE TABLE plain_daily (operator text, imei bigint PRIMARY KEY, connected_at timestamptz);
CREATE TABLE plain_devices (application_id bigint, model text, imei_1 bigint PRIMARY KEY,
                            imei_2 bigint, imei_3 bigint, imei_4 bigint);
SQL

connections_csv "$LINES" > "$work/connections.csv"
daily_csv "$LINES" > "$work/daily.csv"
/usr/bin/python3 "$(dirname "$0")/lib/device_lines.py" "$DEVICE_LINES" > "$work/devices.csv"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "files: connections $LINES lines, daily $LINES lines (95 % known), devices $DEVICE_LINES lines"

last_import() {
    psql_db -At -c "SELECT import_id FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1"
}
report_import() {
    psql_db -At -c "SELECT '  import ' || import_id || ': ' || rows_read || ' read, ' || rows_loaded
        || ' loaded, ' || rows_rejected || ' rejected, ' || rows_already_present || ' already present'
        FROM imei_registry.imports WHERE import_id = $1"
}

# line TITLE LOAD_S LOAD_KB PLAIN_S FLOOR_S [TARGET]
line() {
    printf '%-40s load %7.2f s  plain %6.2f s  floor %6.2f s  load/plain %5.2f  load/floor %5.2f  floor/plain %5.2f  peak RssAnon %6d kB\n' \
        "$1" "$2" "$4" "$5" "$(echo "$2 / $4" | bc -l)" "$(echo "$2 / $5" | bc -l)" \
        "$(echo "$5 / $4" | bc -l)" "$3"
}
results=()

# 1. new IMEIs -> grey, with history
copy_sql "$work/connections.csv" plain_connections > "$work/plain.sql"
copy_sql "$work/connections.csv" imei_registry.upload_connections > "$work/load.sql"
read -r plain_s _ < <(timed "$DB" "$work/plain.sql")
read -r load_s load_kb < <(timed "$DB" "$work/load.sql")
id=$(last_import); report_import "$id"
{ floor_sql reg_new imei_registry.registry "$REG_COLS" \
      "SELECT $REG_COLS FROM imei_registry.registry WHERE import_id = $id"
  floor_sql hist_new imei_registry.history "$HIST_COLS" \
      "SELECT $HIST_COLS FROM imei_registry.history WHERE import_id = $id"; } > "$work/floor.sql"
read -r floor_s _ < <(timed "$FDB" "$work/floor.sql")
results+=("$(line "upload_connections, new IMEIs:" "$load_s" "$load_kb" "$plain_s" "$floor_s")")
echo "${results[-1]}"

# 2. the daily report, 95 % known
copy_sql "$work/daily.csv" plain_daily > "$work/plain.sql"
copy_sql "$work/daily.csv" imei_registry.upload_connections > "$work/load.sql"
read -r plain_s _ < <(timed "$DB" "$work/plain.sql")
read -r load_s load_kb < <(timed "$DB" "$work/load.sql")
id=$(last_import); report_import "$id"
{ floor_sql reg_daily imei_registry.registry "$REG_COLS" \
      "SELECT $REG_COLS FROM imei_registry.registry WHERE import_id = $id"
  floor_sql hist_daily imei_registry.history "$HIST_COLS" \
      "SELECT $HIST_COLS FROM imei_registry.history WHERE import_id = $id"; } > "$work/floor.sql"
read -r floor_s _ < <(timed "$FDB" "$work/floor.sql")
results+=("$(line "upload_connections, daily, 95 % known:" "$load_s" "$load_kb" "$plain_s" "$floor_s")")
echo "${results[-1]}"

# 3. a second load of the same daily report: everything already present
read -r load2_s load2_kb < <(timed "$DB" "$work/load.sql")
id=$(last_import); report_import "$id"
results+=("$(printf '%-40s load %7.2f s  (load/plain %.2f)  peak RssAnon %6d kB' \
    "the same daily report again:" "$load2_s" "$(echo "$load2_s / $plain_s" | bc -l)" "$load2_kb")")
echo "${results[-1]}"

# 4. devices of one application
copy_sql "$work/devices.csv" plain_devices > "$work/plain.sql"
copy_sql "$work/devices.csv" imei_registry.upload_devices > "$work/load.sql"
read -r plain_s _ < <(timed "$DB" "$work/plain.sql")
read -r load_s load_kb < <(timed "$DB" "$work/load.sql")
id=$(last_import); report_import "$id"
{ floor_sql dev imei_registry.application_devices 'application_id, device_ord, model' \
      "SELECT application_id, device_ord, model FROM imei_registry.application_devices"
  floor_sql devimei imei_registry.application_imeis 'application_id, device_ord, ord, imei_text, imei, import_id' \
      "SELECT application_id, device_ord, ord, imei_text, imei, import_id FROM imei_registry.application_imeis WHERE import_id = $id"
} > "$work/floor.sql"
read -r floor_s _ < <(timed "$FDB" "$work/floor.sql")
results+=("$(line "upload_devices, dual-SIM:" "$load_s" "$load_kb" "$plain_s" "$floor_s")")
echo "${results[-1]}"

# 5. a block list, half of its lines known white IMEIs (made white here, as
# set-up, with the triggers off: in both databases), half new ones
half=$((LINES / 2))
for db in "$DB" "$FDB"; do
    known_white_sql "$half" | psql_in "$db"
done
psql_db -c "CREATE TABLE plain_blocklist (imei bigint PRIMARY KEY, listed_on date, reason text)"
psql_db -c "\\copy ($(blocklist_query "$half")) to '$work/blocklist.csv' with (format csv, header true)"
copy_sql "$work/blocklist.csv" plain_blocklist > "$work/plain.sql"
copy_sql "$work/blocklist.csv" imei_registry.upload_blocklist > "$work/load.sql"
read -r plain_s _ < <(timed "$DB" "$work/plain.sql")
read -r load_s load_kb < <(timed "$DB" "$work/load.sql")
id=$(last_import); report_import "$id"
# the floor: the same status change of the known rows (one UPDATE, as the
# load wrote them), the new rows and every history row COPYed, triggers off
read -r bl_reason bl_note < <(psql_db -At -F ' ' -c "SELECT reason, replace(note, ' ', '~')
    FROM imei_registry.registry WHERE import_id = $id LIMIT 1")
{ printf 'BEGIN;\nALTER TABLE imei_registry.registry DISABLE TRIGGER USER;\n'
  blocklist_floor_update "$bl_reason" "${bl_note//\~/ }" "$id" "$half"
  printf 'ALTER TABLE imei_registry.registry ENABLE TRIGGER USER;\nCOMMIT;\n'
  floor_sql reg_block imei_registry.registry "$REG_COLS" \
      "SELECT $REG_COLS FROM imei_registry.registry WHERE import_id = $id
       AND imei OPERATOR(pg_catalog.>=) imei_registry.imei_from_body('38000000000001')"
  floor_sql hist_block imei_registry.history "$HIST_COLS" \
      "SELECT $HIST_COLS FROM imei_registry.history WHERE import_id = $id"; } > "$work/floor.sql"
read -r floor_s _ < <(timed "$FDB" "$work/floor.sql")
results+=("$(line "upload_blocklist, half known white:" "$load_s" "$load_kb" "$plain_s" "$floor_s")")
echo "${results[-1]}"

# 6. report_connection() and check_imei() by pgbench, -M prepared
# The baseline is a plain single-row INSERT (no ON CONFLICT arbiter, which
# costs about 14,000 instructions more); a new IMEI each, drawn from 10^13
# bodies (4... for the INSERT, 5... for the reports, none of them the
# loads'), so that two draws of one run hardly ever meet (about 1 in 500
# runs of 10 s) -- a duplicate would end that pgbench client.
cat > "$work/insert.sql" <<'SQL'
\set n random(0, 9999999999999)
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at, first_operator)
VALUES (imei_registry.imei_from_body((40000000000000 + :n)::text), 'grey', 'unverified', now(), 'kcell');
SQL
cat > "$work/rc_new.sql" <<'SQL'
\set n random(0, 9999999999999)
SELECT imei_registry.report_connection(imei_registry.imei_from_body((50000000000000 + :n)::text), 'kcell', now());
SQL
cat > "$work/rc_known.sql" <<SQL
\\set n random(1, $LINES)
SELECT imei_registry.report_connection(imei_registry.imei_from_body((35000000000000 + :n)::text), 'kcell', now());
SQL
psql_db -c 'VACUUM ANALYZE imei_registry.registry' -c CHECKPOINT
tps() {
    pgbench -n -M prepared -c "$1" -j "$1" -T "$PGB_SECONDS" -f "$2" "$DB" 2>/dev/null |
        sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
# as check_vs_pk measures (bench/lib/check.sh): a warm-up, then two
# alternating runs of each, the ratio of the means; each run's tps printed
for c in 1 2; do
    tps "$c" "$work/insert.sql" >/dev/null
    ins1=$(tps "$c" "$work/insert.sql"); new1=$(tps "$c" "$work/rc_new.sql"); known1=$(tps "$c" "$work/rc_known.sql")
    ins2=$(tps "$c" "$work/insert.sql"); new2=$(tps "$c" "$work/rc_new.sql"); known2=$(tps "$c" "$work/rc_known.sql")
    ins=$(echo "($ins1 + $ins2) / 2" | bc -l); new=$(echo "($new1 + $new2) / 2" | bc -l)
    known=$(echo "($known1 + $known2) / 2" | bc -l)
    results+=("$(printf 'report_connection, %d client(s): INSERT %7.0f tps (%.0f, %.0f)  new IMEI %7.0f tps (%.0f, %.0f; cost %.2f x, target <= 1.50)  known IMEI %7.0f tps (%.0f, %.0f; cost %.2f x)' \
        "$c" "$ins" "$ins1" "$ins2" "$new" "$new1" "$new2" "$(echo "$ins / $new" | bc -l)" \
        "$known" "$known1" "$known2" "$(echo "$ins / $known" | bc -l)")")
    echo "${results[-1]}"
done
# the rows of the daily report: grey, all past their last day (connected in
# April-May 2026), so check_imei() also asks for each whether a pending
# application holds it
results+=("$(check_vs_pk "$DB" 35000000000000 "$LINES" 2 "$PGB_SECONDS")")
echo "${results[-1]}"

echo
echo "summary ($LINES / $DEVICE_LINES lines; load average now $(cut -d' ' -f1-3 /proc/loadavg)):"
printf '%s\n' "${results[@]}"
