#!/usr/bin/env bash
# The operators' loads of issue 20 against plain COPY and against their
# floor in instructions, which do not depend on the machine's load
# (bench/bulk.sh times the same loads, of the same files): callgrind of
# single-user backends (postgres --single) on a scratch cluster of its own
# (bench/lib/callgrind.sh).
#
#   bench/loads_callgrind.sh [LINES]   (default 100000)
#
# Runs, each net of a backend's start (a "SELECT 1"):
#   1. upload_connections of LINES new IMEIs (each grey, with history);
#   2. the daily report of LINES lines a month later, 95 % known;
#   3. upload_blocklist of LINES lines, half of them known white IMEIs;
# each beside plain, the same file COPYed into a table with a bigint
# primary key, and its floor, the rows the load wrote COPYed (server-side)
# into the same tables of a second database that has had the same loads'
# rows, user triggers off, indexes and constraints as shipped (for the
# block list: its status change of the known rows as one UPDATE).
# Run it as a user that may run postgres (as root it runs as postgres),
# with the extension installed in the PostgreSQL that PG_BIN names
# (default: pg_config --bindir).  CALLGRIND_KEEP=DIR keeps the profiles.
set -euo pipefail
LINES=${1:-100000}
HALF=$((LINES / 2))
PG_BIN=${PG_BIN:-$(pg_config --bindir)}
. "$(dirname "$0")/lib/callgrind.sh"
. "$(dirname "$0")/lib/loads.sh"
connections_csv "$LINES" > "$work/connections.csv"
daily_csv "$LINES" > "$work/daily.csv"

printf '%s\n' "CREATE DATABASE t" | single postgres
printf '%s\n' "CREATE EXTENSION imei_registry" "SELECT imei_registry.create_registry()" \
    "INSERT INTO imei_registry.operators VALUES ('kcell', 'Kcell'), ('beeline', 'Beeline'), ('tele2', 'Tele2')" \
    "CREATE TABLE plain_connections (operator text, imei bigint PRIMARY KEY, connected_at timestamptz)" \
    "CREATE TABLE plain_daily (operator text, imei bigint PRIMARY KEY, connected_at timestamptz)" \
    "CREATE TABLE plain_blocklist (imei bigint PRIMARY KEY, listed_on date, reason text)" |
    single t
printf '%s\n' "CREATE DATABASE l TEMPLATE t" "CREATE DATABASE f TEMPLATE t" | single postgres
printf '%s\n' "COPY ($(blocklist_query "$HALF")) TO '$work/blocklist.csv' WITH (format csv, header true)" |
    single t

copy_in() { printf '%s' "COPY $1 FROM '$2' WITH (format csv, header true)"; }
last_import() {
    printf '%s\n' "SELECT max(import_id) FROM imei_registry.imports" | single l
    sed -n 's/.*max = "\([0-9]*\)".*/\1/p' "$work/single.log"
}
# export NAME TABLE COLUMNS WHERE: the rows of TABLE the load wrote, from
# l, and the statements that COPY them into f with user triggers off
export_floor() {
    printf '%s\n' "COPY (SELECT $3 FROM $2 WHERE $4) TO '$work/$1.csv' WITH (format csv)" | single l
    printf '%s\n' "ALTER TABLE $2 DISABLE TRIGGER USER" "COPY $2 ($3) FROM '$work/$1.csv' WITH (format csv)" \
        "ALTER TABLE $2 ENABLE TRIGGER USER"
}
empty=$(cg l empty "SELECT 1")
m() { echo $((($1 - empty) / 1000000)); }
x() { echo "scale=2; ($1 - $empty) / ($2 - $empty)" | bc; }
report() {
    printf '%-40s load %6d M  plain %5d M  floor %6d M  load/plain %5.2f  load/floor %5.2f\n' \
        "$1" "$(m "$2")" "$(m "$3")" "$(m "$4")" "$(x "$2" "$3")" "$(x "$2" "$4")"
}
echo "loads of $LINES lines, instructions net of a backend's start ($((empty / 1000000)) M):"

# connections NAME TITLE PLAIN-TABLE FILE: a report of FILE, beside plain
# and its floor (the registry's and history's rows of its import)
connections() {
    local plain load id floor_sql floor
    plain=$(cg l "plain_$1" "$(copy_in "$3" "$4")")
    load=$(cg l "load_$1" "$(copy_in imei_registry.upload_connections "$4")")
    id=$(last_import)
    mapfile -t floor_sql < <(export_floor "reg_$1" imei_registry.registry "$REG_COLS" "import_id = $id"
        export_floor "hist_$1" imei_registry.history "$HIST_COLS" "import_id = $id")
    floor=$(cg f "floor_$1" "BEGIN" "${floor_sql[@]}" "COMMIT")
    report "$2" "$load" "$plain" "$floor"
}
# 1. new IMEIs; 2. the daily report, 95 % known
connections new "upload_connections, new IMEIs:" plain_connections "$work/connections.csv"
connections daily "upload_connections, daily, 95 % known:" plain_daily "$work/daily.csv"

# 3. the block list, half of it known white IMEIs
for db in l f; do known_white_sql "$HALF" | single "$db"; done
plain=$(cg l plain_block "$(copy_in plain_blocklist "$work/blocklist.csv")")
load=$(cg l load_block "$(copy_in imei_registry.upload_blocklist "$work/blocklist.csv")")
id=$(last_import)
printf '%s\n' "SELECT reason, note FROM imei_registry.registry WHERE import_id = $id LIMIT 1" | single l
bl_reason=$(sed -n 's/.*reason = "\(.*\)".*/\1/p' "$work/single.log" | head -1)
bl_note=$(sed -n 's/.*note = "\(.*\)".*/\1/p' "$work/single.log" | head -1)
mapfile -t floor_sql < <(export_floor reg_block imei_registry.registry "$REG_COLS" \
        "import_id = $id AND imei OPERATOR(pg_catalog.>=) imei_registry.imei_from_body('38000000000001')"
    export_floor hist_block imei_registry.history "$HIST_COLS" "import_id = $id")
floor=$(cg f floor_block "BEGIN" "ALTER TABLE imei_registry.registry DISABLE TRIGGER USER" \
    "$(blocklist_floor_update "$bl_reason" "$bl_note" "$id" "$HALF")" \
    "ALTER TABLE imei_registry.registry ENABLE TRIGGER USER" "${floor_sql[@]}" "COMMIT")
report "upload_blocklist, half known white:" "$load" "$plain" "$floor"
cg_keep load_new.out load_daily.out load_block.out
