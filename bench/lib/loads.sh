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
