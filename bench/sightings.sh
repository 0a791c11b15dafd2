#!/usr/bin/env bash
# Operators' reports with IMSI and MSISDN (upload_sightings) against plain
# COPY and against their floor, in one run, on the cluster that the PG
# environment (PGHOST, PGPORT, PGUSER) names.  Creates and drops its own two
# databases.
#
#   BENCH_SUBSCRIBERS=N   subscribers (default 300000): the next day's full
#                         report has N lines, 95 % of the (IMEI, IMSI,
#                         MSISDN) known; 2 % are visitors (MCC 250)
#   BENCH_NEW_SUBSCRIBERS=M  of them, the first report's lines that are timed
#                         (default N, at most N): M new subscribers (new
#                         IMEIs, IMSIs, MSISDNs); the other N - M are loaded
#                         after it, untimed, so that the next day finds N
#
# The issue's sizes: BENCH_SUBSCRIBERS=10000000 BENCH_NEW_SUBSCRIBERS=1000000
# (files of about 0.7 GB each in a temporary directory; the run takes about
# 25 times as long as the default's).
#
# Each load is timed beside:
#   * plain: the same file COPYed into a table with a bigint primary key;
#   * floor: what the load wrote, in a second database with the extension in
#     the same state: the sighting rows and day bits written set-wise
#     (INSERT ... SELECT ... ON CONFLICT DO UPDATE from a table holding them,
#     with the shipped indexes and constraints), and the registry and history
#     rows COPYed into the shipped tables, DISABLE TRIGGER USER;
# with the backend's peak private memory (RssAnon), the HOT share of the day
# bits' updates, and the table's bytes per row.  Run it with
# scripts/bench sightings (about two minutes at the default).
set -euo pipefail
N=${BENCH_SUBSCRIBERS:-300000}
M=${BENCH_NEW_SUBSCRIBERS:-$N}
[ "$M" -le "$N" ] || { echo "BENCH_NEW_SUBSCRIBERS ($M) is more than BENCH_SUBSCRIBERS ($N)" >&2; exit 1; }
DB=imei_sightings_bench
FDB=imei_sightings_floor
work=$(mktemp -d /tmp/imei_sightings_bench.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"; dropdb --if-exists "$DB" >/dev/null 2>&1 || true;
      dropdb --if-exists "$FDB" >/dev/null 2>&1 || true' EXIT

. "$(dirname "$0")/lib/loads.sh"

SIGHT_COLS='imei, imsi, msisdn, month, days, operator'

# floor_sightings NAME: the sighting rows and day bits of NAME.csv (loaded
# into a staging table beforehand, untimed) written set-wise
floor_sightings() {
    psql_in "$FDB" -c "TRUNCATE staging" -c "\\copy staging from '$work/$1.csv' with (format csv, header true)"
    cat <<'SQL'
INSERT INTO imei_registry.sightings AS s (imei, imsi, msisdn, month, days, operator)
SELECT imei, imsi, msisdn, month, days, operator FROM staging ORDER BY imei, imsi
ON CONFLICT (imei, imsi, msisdn, month, operator)
DO UPDATE SET days = s.days | excluded.days WHERE s.days & excluded.days = 0;
SQL
}

setup_db() {
    dropdb --if-exists "$1" >/dev/null 2>&1
    createdb "$1"
    psql_in "$1" <<'SQL'
CREATE EXTENSION imei_registry;
SELECT imei_registry.create_registry();
INSERT INTO imei_registry.operators VALUES ('kcell', 'Kcell'), ('beeline', 'Beeline'), ('tele2', 'Tele2');
CREATE UNLOGGED TABLE staging (imei imei_registry.imei, imsi bigint, msisdn bigint, month date,
                               days integer, operator text);
SQL
}
setup_db "$DB"
setup_db "$FDB"
psql_db -c "CREATE TABLE plain_new (operator text, imei bigint PRIMARY KEY, connected_at timestamptz, imsi bigint, msisdn bigint)" \
        -c "CREATE TABLE plain_daily (LIKE plain_new INCLUDING ALL)"

# Subscriber i: IMEI body 35 i (a network form), IMSI 401 0x i or a
# visitor's 250 99 i (1 in 50), MSISDN 7 70x i.  The next day: the same
# lines, but 1 in 20 a new device with a new subscriber.
gen() {
    awk -v n="$N" -v day="$1" -v shift_new="$2" 'BEGIN {
        split("kcell beeline tele2", ops, " ");
        print "operator,imei,connected_at,imsi,msisdn";
        for (i = 1; i <= n; i++) {
            k = (shift_new && i % 20 == 0) ? n + i : i;
            op = i % 3 + 1;
            imsi = (k % 50 == 0) ? sprintf("25099%010d", k) : sprintf("4010%d%010d", op, k);
            printf "%s,35%012d,2026-11-%02d %02d:%02d:00+05,%s,770%d%07d\n",
                   ops[op], k, day, i % 24, i % 60, imsi, op, k;
        }
    }'
}
gen 2 0 | awk -v m="$M" -v new="$work/new.csv" -v rest="$work/rest.csv" \
    'NR == 1 { print > new; print > rest; next } NR <= m + 1 { print > new; next } { print > rest }'
gen 3 1 > "$work/daily.csv"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "files: $M new subscribers (then $((N - M)) more, untimed); the next day's $N lines, 95 % known, 2 % visitors"

last_import() {
    psql_db -At -c "SELECT import_id FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1"
}
report_import() {
    psql_db -At -c "SELECT '  import ' || import_id || ': ' || rows_read || ' read, ' || rows_loaded
        || ' loaded, ' || rows_rejected || ' rejected, ' || rows_already_present || ' already present'
        FROM imei_registry.imports WHERE import_id = $1"
}
line() {
    printf '%-44s load %7.2f s  plain %6.2f s  floor %6.2f s  load/plain %5.2f  load/floor %5.2f  floor/plain %5.2f  peak RssAnon %6d kB\n' \
        "$1" "$2" "$4" "$5" "$(echo "$2 / $4" | bc -l)" "$(echo "$2 / $5" | bc -l)" \
        "$(echo "$5 / $4" | bc -l)" "$3"
}
# (the floor's table vacuumed too, so that both meet the same pages)
sizes() {
    psql_in "$FDB" -c "VACUUM imei_registry.sightings"
    psql_db -At -c "VACUUM imei_registry.sightings" -c "SELECT '  sightings: ' || count(*) || ' rows, heap '
        || pg_relation_size('imei_registry.sightings') || ' B, primary key '
        || pg_relation_size('imei_registry.sightings_pkey') || ' B: '
        || round(pg_relation_size('imei_registry.sightings')::numeric / count(*), 1) || ' + '
        || round(pg_relation_size('imei_registry.sightings_pkey')::numeric / count(*), 1) || ' B a row'
        FROM imei_registry.sightings"
}
results=()

# 1. new subscribers: new IMEIs -> grey with history, new sighting rows
copy_sql "$work/new.csv" plain_new > "$work/plain.sql"
copy_sql "$work/new.csv" imei_registry.upload_sightings > "$work/load.sql"
read -r plain_s _ < <(timed "$DB" "$work/plain.sql")
read -r load_s load_kb < <(timed "$DB" "$work/load.sql")
id=$(last_import); report_import "$id"
export_rows reg1 "SELECT $REG_COLS FROM imei_registry.registry WHERE import_id = $id"
export_rows hist1 "SELECT $HIST_COLS FROM imei_registry.history WHERE import_id = $id"
export_rows sight1 "SELECT $SIGHT_COLS FROM imei_registry.sightings"
{ floor_sightings sight1
  floor_copy reg1 imei_registry.registry "$REG_COLS"
  floor_copy hist1 imei_registry.history "$HIST_COLS"; } > "$work/floor.sql"
read -r floor_s _ < <(timed "$FDB" "$work/floor.sql")
results+=("$(line "upload_sightings, new subscribers:" "$load_s" "$load_kb" "$plain_s" "$floor_s")")
echo "${results[-1]}"
sizes

# the rest of the first report, untimed, in both databases
if [ "$M" -lt "$N" ]; then
    copy_sql "$work/rest.csv" imei_registry.upload_sightings > "$work/load.sql"
    psql_db -f "$work/load.sql" >/dev/null
    id=$(last_import); report_import "$id"
    export_rows reg0 "SELECT $REG_COLS FROM imei_registry.registry WHERE import_id = $id"
    export_rows hist0 "SELECT $HIST_COLS FROM imei_registry.history WHERE import_id = $id"
    export_rows sight0 "SELECT $SIGHT_COLS FROM imei_registry.sightings"
    { printf 'TRUNCATE imei_registry.sightings;\n'
      printf '\\copy imei_registry.sightings (%s) from %s with (format csv, header true)\n' \
          "$SIGHT_COLS" "'$work/sight0.csv'"
      floor_copy reg0 imei_registry.registry "$REG_COLS"
      floor_copy hist0 imei_registry.history "$HIST_COLS"; } > "$work/floor.sql"
    psql_in "$FDB" -f "$work/floor.sql"
    sizes
fi

# 2. the next day's full report, 95 % known
psql_db -c "SELECT pg_stat_reset()" >/dev/null
copy_sql "$work/daily.csv" plain_daily > "$work/plain.sql"
copy_sql "$work/daily.csv" imei_registry.upload_sightings > "$work/load.sql"
read -r plain_s _ < <(timed "$DB" "$work/plain.sql")
read -r load_s load_kb < <(timed "$DB" "$work/load.sql")
id=$(last_import); report_import "$id"
sleep 1
psql_db -At -c "SELECT '  day bits: ' || n_tup_upd || ' updates, ' || n_tup_hot_upd || ' HOT ('
    || round(100.0 * n_tup_hot_upd / greatest(n_tup_upd, 1), 1) || ' %), ' || n_tup_ins || ' rows added'
    FROM pg_stat_user_tables WHERE relid = 'imei_registry.sightings'::regclass"
export_rows reg2 "SELECT $REG_COLS FROM imei_registry.registry WHERE import_id = $id"
export_rows hist2 "SELECT $HIST_COLS FROM imei_registry.history WHERE import_id = $id"
export_rows sight2 "SELECT imei, imsi, msisdn, month, 4, operator FROM imei_registry.sightings WHERE days & 4 <> 0"
{ floor_sightings sight2
  floor_copy reg2 imei_registry.registry "$REG_COLS"
  floor_copy hist2 imei_registry.history "$HIST_COLS"; } > "$work/floor.sql"
read -r floor_s _ < <(timed "$FDB" "$work/floor.sql")
results+=("$(line "upload_sightings, next day, 95 % known:" "$load_s" "$load_kb" "$plain_s" "$floor_s")")
echo "${results[-1]}"
sizes

# 3. the same daily report again: everything already present
read -r load2_s load2_kb < <(timed "$DB" "$work/load.sql")
id=$(last_import); report_import "$id"
results+=("$(printf '%-44s load %7.2f s  (load/plain %.2f)  peak RssAnon %6d kB' \
    "the same daily report again:" "$load2_s" "$(echo "$load2_s / $plain_s" | bc -l)" "$load2_kb")")
echo "${results[-1]}"

echo
echo "summary ($M new subscribers, a daily report of $N; load average now $(cut -d' ' -f1-3 /proc/loadavg)):"
printf '%s\n' "${results[@]}"
