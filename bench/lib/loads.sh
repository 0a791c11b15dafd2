# Shared by the load benches (bench/bulk.sh, bench/sightings.sh): source it
# after setting DB (the database a load runs in), FDB (where its floor is
# written) and work (a directory the cluster's owner can read).

psql_in() { local db=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
psql_db() { psql_in "$DB" "$@"; }
now() { date +%s.%N; }

# timed DB SQL-FILE: after a checkpoint, runs the file in one session and
# polls the backend's RssAnon; prints "seconds peak_kB"
timed() {
    local db=$1 script=$2 pidfile=$work/pid peak=0 t0 t1 pid rss job
    psql_in "$db" -c CHECKPOINT >/dev/null
    rm -f "$pidfile"
    t0=$(now)
    psql_in "$db" -c "SELECT pg_backend_pid()" -At -o "$pidfile" -f "$script" >/dev/null &
    job=$!
    while kill -0 "$job" 2>/dev/null; do
        if [ -s "$pidfile" ]; then
            pid=$(head -1 "$pidfile")
            rss=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
            [ "${rss:-0}" -gt "$peak" ] && peak=$rss
        fi
        sleep 0.1
    done
    wait "$job"
    t1=$(now)
    echo "$(echo "$t1 - $t0" | bc) $peak"
}

# copy_sql FILE TABLE: a script that \copies a CSV file into TABLE
copy_sql() {
    printf 'SET client_min_messages = warning;\n\\copy %s from %s with (format csv, header true)\n' \
        "$2" "'$1'"
}

# The columns of the registry and of history that a floor copies
REG_COLS='imei, status, reason, reason_base, since, first_seen_at, first_operator, grey_last_day, grey_period_days, device_id, application_id, import_id, note'
HIST_COLS='imei, from_status, to_status, reason, actor, changed_at, application_id, import_id, note, first_seen_at, first_operator, grey_last_day'

# export_rows NAME QUERY: what a load wrote, from $DB, as NAME.csv
export_rows() {
    psql_db -c "\\copy ($2) to '$work/$1.csv' with (format csv, header true)"
}
# floor_copy NAME TABLE COLUMNS: a script part that COPYs NAME.csv into
# TABLE of $FDB, user triggers off
floor_copy() {
    printf 'BEGIN;\nALTER TABLE %s DISABLE TRIGGER USER;\n' "$2"
    printf '\\copy %s (%s) from %s with (format csv, header true)\n' "$2" "$3" "'$work/$1.csv'"
    printf 'ALTER TABLE %s ENABLE TRIGGER USER;\nCOMMIT;\n' "$2"
}

# The files and set-ups of the loads, one definition for every bench that
# runs them (bench/bulk.sh times them, bench/loads_callgrind.sh counts
# their instructions).
# connections_csv N: an operator report, 14-digit IMEI bodies (a network
# form), all unknown
connections_csv() {
    awk -v n="$1" 'BEGIN {
        split("kcell beeline tele2", ops, " ");
        print "operator,imei,connected_at";
        for (i = 1; i <= n; i++)
            printf "%s,35%012d,2026-04-%02d %02d:%02d:00+05\n", ops[i % 3 + 1], i, i % 28 + 1, i % 24, i % 60;
    }'
}
# daily_csv N: the daily report, the same IMEIs a month later, 95 % of
# them known (a line in 20 names a new IMEI)
daily_csv() {
    awk -v n="$1" 'BEGIN {
        split("kcell beeline tele2", ops, " ");
        print "operator,imei,connected_at";
        for (i = 1; i <= n; i++)
            printf "%s,35%012d,2026-05-%02d %02d:%02d:00+05\n", ops[i % 3 + 1],
                   (i % 20 == 0) ? n + i : i, i % 28 + 1, i % 24, i % 60;
    }'
}
# known_white_sql HALF: statements (one a line) that make HALF known white
# IMEIs (37...) with the triggers off: the block list's set-up
known_white_sql() {
    printf '%s\n' "ALTER TABLE imei_registry.registry DISABLE TRIGGER USER;" \
        "INSERT INTO imei_registry.registry (imei, status, reason) SELECT imei_registry.imei_from_body((37000000000000 + g)::text), 'white', 'lawful_import' FROM generate_series(1, $1) g;" \
        "ALTER TABLE imei_registry.registry ENABLE TRIGGER USER;" \
        "VACUUM ANALYZE imei_registry.registry;"
}
# blocklist_query HALF: the block list's lines, alternately a known white
# IMEI and a new one, 2 * HALF in all
blocklist_query() {
    printf '%s' "SELECT imei_registry.imei_from_body(((CASE WHEN g % 2 = 1 THEN 37000000000000 ELSE 38000000000000 END) + (g + 1) / 2)::text)::text AS imei, '2026-11-30' AS listed_on, 'stolen, GSMA' AS reason FROM generate_series(1, $((2 * $1))) g"
}
# blocklist_floor_update REASON NOTE IMPORT HALF: the block list's status
# change of the known rows as one UPDATE (its floor), on one line
blocklist_floor_update() {
    printf "UPDATE imei_registry.registry SET status = 'black', reason = \$q\$%s\$q\$, note = \$q\$%s\$q\$, import_id = %s, since = now() WHERE imei BETWEEN imei_registry.imei_from_body('37000000000001') AND imei_registry.imei_from_body('%s');\n" \
        "$1" "$2" "$3" "$((37000000000000 + $4))"
}
