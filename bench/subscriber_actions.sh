#!/usr/bin/env bash
# The readers of sightings (docs/operators.md): grey_reminders() of one
# operator with N grey IMEIs due the same day, and suspected_clones() over
# the sightings table that holds them, on the cluster that the PG
# environment names.  Creates and drops its own database.
#
#   BENCH_GREY=N   grey IMEIs of Kcell with 3 days left (default 1000000),
#                  beside N/2 of Beeline with 10 days left; each with its
#                  first home sighting 27 (or 20) days ago, half of them
#                  seen again yesterday, and 1 in 100 used by three SIMs
#
# Prints: the sightings rows, the reminders' time for count(*) and for the
# rows copied to the client, beside the index scan that finds the same
# IMEIs; suspected_clones()'s time and its plan (auto_explain), rows per
# second of the scan.  Run it with scripts/bench subscriber_actions.
set -euo pipefail
N=${BENCH_GREY:-1000000}
DB=imei_actions_bench
[ -n "${BENCH_KEEP:-}" ] || trap 'dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT

psql_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
now() { date +%s.%N; }
# timed SQL: seconds of one statement in its own session
timed() {
    local t0 t1
    t0=$(now)
    psql_db -c "$1" >/dev/null
    t1=$(now)
    echo "$t1 - $t0" | bc
}

dropdb --if-exists "$DB" >/dev/null 2>&1
createdb "$DB"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
psql_db -v n="$N" <<'SQL'
CREATE EXTENSION imei_registry;
SELECT imei_registry.create_registry();
INSERT INTO imei_registry.operators VALUES ('kcell', 'Kcell'), ('beeline', 'Beeline');
-- The register as the reports would have made it, written set-wise with
-- the user triggers off (this bench reads, it does not time writes).  Grey
-- periods from the extension's own function.
CREATE TEMP TABLE g AS
SELECT imei_registry.imei_from_body('35' || lpad(i::text, 12, '0')) AS imei,
       CASE WHEN i <= :n THEN 'kcell' ELSE 'beeline' END AS operator,
       ((imei_registry.local_date(now()) - CASE WHEN i <= :n THEN 27 ELSE 20 END)::timestamp
        + interval '10 hours') AT TIME ZONE 'Asia/Almaty' AS first_seen_at,
       i
  FROM generate_series(1, :n + :n / 2) i;
ALTER TABLE imei_registry.registry DISABLE TRIGGER USER;
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at, first_operator,
                                    grey_last_day, grey_period_days)
SELECT imei, 'grey', 'unverified', first_seen_at, operator,
       imei_registry.grey_last_day(first_seen_at),
       current_setting('imei_registry.grey_period_days')::integer
  FROM g ORDER BY imei;
ALTER TABLE imei_registry.registry ENABLE TRIGGER USER;
-- sightings: the first home day; half seen again yesterday; 1 in 100 by
-- two more SIMs (clones) in the last week
CREATE TEMP TABLE s AS
SELECT g.imei, (CASE WHEN g.operator = 'kcell' THEN 401020000000000 ELSE 401010000000000 END) + g.i * 10 + k AS imsi,
       77000000000 + g.i * 10 + k AS msisdn, g.operator, d
  FROM g,
       LATERAL (VALUES (0, imei_registry.local_date(g.first_seen_at)),
                       (CASE WHEN g.i % 2 = 0 THEN 0 END, imei_registry.local_date(now()) - 1),
                       (CASE WHEN g.i % 100 = 0 THEN 1 END, imei_registry.local_date(now()) - 3),
                       (CASE WHEN g.i % 100 = 0 THEN 2 END, imei_registry.local_date(now()) - 2)) v(k, d)
 WHERE v.k IS NOT NULL;
INSERT INTO imei_registry.sightings (imei, imsi, msisdn, month, days, operator)
SELECT imei, imsi, msisdn, month, bit_or(bit), operator
  FROM (SELECT imei, imsi, msisdn, operator, d - (date_part('day', d)::integer - 1) AS month,
               1 << (date_part('day', d)::integer - 1) AS bit FROM s) x
 GROUP BY imei, imsi, msisdn, month, operator
 ORDER BY imei, imsi;
VACUUM ANALYZE imei_registry.registry;
VACUUM ANALYZE imei_registry.sightings;
SQL
rows=$(psql_db -At -c "SELECT count(*) FROM imei_registry.sightings")
echo "grey IMEIs: $((N + N / 2)) ($N of Kcell with 3 days left); sightings rows: $rows"

# Warm the caches once, then the best of three
psql_db -c "SELECT count(*) FROM imei_registry.grey_reminders('kcell', 3)" >/dev/null
best() {
    local b="" t i
    for i in 1 2 3; do
        t=$(timed "$1")
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
    done
    echo "$b"
}
answered=$(psql_db -At -c "SELECT count(*) FROM imei_registry.grey_reminders('kcell', 3)")
t_count=$(best "SELECT count(*) FROM imei_registry.grey_reminders('kcell', 3)")
t_copy=$(best "\\copy (SELECT * FROM imei_registry.grey_reminders('kcell', 3)) to '/dev/null'")
t_index=$(best "SELECT count(*) FROM imei_registry.registry WHERE status = 'grey' AND grey_last_day = imei_registry.grey_last_day_for(3)")
printf 'grey_reminders(kcell, 3): %s rows; count(*) %.2f s, rows to the client %.2f s (target <= 2 s); the index scan alone %.2f s\n' \
    "$answered" "$t_count" "$t_copy" "$t_index"
# The backend's own CPU time (utime + stime of /proc/self/stat, in ticks),
# serial: what the call costs whatever the machine's other load
cpu=$(psql_db -At <<'SQL'
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE t0 AS SELECT split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint AS ticks
  FROM pg_read_file('/proc/self/stat') s;
SELECT count(*) FROM imei_registry.grey_reminders('kcell', 3) \g /dev/null
SELECT round(((split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint - t0.ticks) / 100.0)::numeric, 2)
  FROM pg_read_file('/proc/self/stat') s, t0;
SQL
)
echo "grey_reminders(kcell, 3), serial: $cpu s of the backend's CPU"

clones=$(psql_db -At -c "SELECT count(*) FROM imei_registry.suspected_clones()")
t_clones=$(best "SELECT count(*) FROM imei_registry.suspected_clones()")
printf 'suspected_clones(): %s IMEIs over %s sightings rows in %.2f s = %.0f rows/s\n' \
    "$clones" "$rows" "$t_clones" "$(echo "$rows / $t_clones" | bc)"
psql_db <<'SQL'
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET auto_explain.log_buffers = on;
SET auto_explain.log_timing = off;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_level = notice;
SET client_min_messages = notice;
SELECT count(*) FROM imei_registry.grey_reminders('kcell', 3);
SELECT count(*) FROM imei_registry.suspected_clones();
SQL
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
