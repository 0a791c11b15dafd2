#!/usr/bin/env bash
# The single calls of issue 20 in instructions, which do not depend on the
# machine's load (bench/bulk.sh times the same calls with pgbench):
#   report_connection() of a new and of a known IMEI against a plain
#   single-row INSERT of a new IMEI into the registry through its triggers;
#   check_imei() against a bare primary-key lookup of the same rows.
# Each call is a prepared statement run N times by one single-user backend
# (postgres --single, callgrind) on a scratch cluster of its own
# (bench/lib/callgrind.sh), one
# transaction per call as pgbench runs it; the cost of a call is the
# difference between runs of LONG and SHORT calls, divided by LONG - SHORT,
# so that the backend's start and the first calls' caches drop out.  The
# known rows are grey IMEIs past their last day (as the daily report's of
# bench/bulk.sh), so check_imei() also asks whether an application holds one.
# A single-user backend prints each row it returns with printf, which costs
# more the wider the row: each SELECT returns one integer instead, the
# length of its row as text (every column computed and put out as a client
# would read it).
#
#   bench/calls_callgrind.sh [ROWS]   (default 100000 known IMEIs)
#
# Run it as a user that may run postgres (as root it runs as postgres),
# with the extension
# installed in the PostgreSQL that PG_BIN names (default: pg_config
# --bindir).  SHORT and LONG (default 500 and 2500) set the run lengths;
# CALLGRIND_KEEP=DIR keeps the profiles there.
set -euo pipefail
ROWS=${1:-100000}
SHORT=${SHORT:-500}
LONG=${LONG:-2500}
PG_BIN=${PG_BIN:-$(pg_config --bindir)}
. "$(dirname "$0")/lib/callgrind.sh"
printf '%s\n' "CREATE DATABASE calls" | single postgres
printf '%s\n' "CREATE EXTENSION imei_registry" "SELECT imei_registry.create_registry()" \
    "INSERT INTO imei_registry.operators VALUES ('kcell', 'Kcell')" \
    "INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at, first_operator) SELECT imei_registry.imei_from_body((35000000000000 + n)::text), 'grey', 'unverified', '2026-04-15 10:00+05', 'kcell' FROM generate_series(1, $ROWS) n" \
    "VACUUM ANALYZE" | single calls

# calls NAME PREPARE ARG-EXPRESSION COUNT: instructions of one backend that
# prepares the statement and executes it COUNT times, the n-th time with the
# argument expression's :n replaced by n
calls() {
    local name=$1 prepare=$2 arg=$3 count=$4 n
    {
        echo "$prepare"
        for n in $(seq 1 "$count"); do
            echo "EXECUTE p(${arg//:n/$n})"
        done
    } | cg_run run "$name"
}
# per_call NAME PREPARE ARG: instructions per call; each run in a fresh copy
# of the database (a new IMEI's insert must find the same registry each time)
per_call() {
    local short long
    printf '%s\n' "CREATE DATABASE run TEMPLATE calls" | single postgres
    short=$(calls "$1-short" "$2" "$3" "$SHORT")
    printf '%s\n' "DROP DATABASE run" "CREATE DATABASE run TEMPLATE calls" | single postgres
    long=$(calls "$1-long" "$2" "$3" "$LONG")
    printf '%s\n' "DROP DATABASE run" | single postgres
    cg_keep "$1-long.out" "$1-short.out"
    echo $(((long - short) / (LONG - SHORT)))
}
# (a new IMEI per call: bodies 4... for the INSERT, 5... for the reports;
# known ones: the rows above, bodies 35...)
insert=$(per_call insert "PREPARE p(bigint) AS INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at, first_operator) VALUES (imei_registry.imei_from_body((40000000000000 + \$1)::text), 'grey', 'unverified', now(), 'kcell')" ":n")
rc_new=$(per_call rc_new "PREPARE p(bigint) AS SELECT length(s::text) FROM (SELECT imei_registry.report_connection(imei_registry.imei_from_body((50000000000000 + \$1)::text), 'kcell', now())) s" ":n")
rc_known=$(per_call rc_known "PREPARE p(bigint) AS SELECT length(s::text) FROM (SELECT imei_registry.report_connection(imei_registry.imei_from_body((35000000000000 + \$1)::text), 'kcell', now())) s" ":n")
pk=$(per_call pk "PREPARE p(bigint) AS SELECT length(s::text) FROM (SELECT status, reason, since, grey_last_day FROM imei_registry.registry WHERE imei OPERATOR(pg_catalog.=) imei_registry.imei_from_body((35000000000000 + \$1)::text)) s" ":n")
check=$(per_call check "PREPARE p(bigint) AS SELECT length(s::text) FROM (SELECT * FROM imei_registry.check_imei(imei_registry.imei_from_body((35000000000000 + \$1)::text))) s" ":n")
r() { echo "scale=2; $1 / $2" | bc; }
echo "single calls, instructions per call (runs of $SHORT and $LONG calls, $ROWS known IMEIs):"
echo "  INSERT of a new IMEI through the triggers: $insert"
echo "  report_connection, new IMEI:               $rc_new ($(r "$rc_new" "$insert") x the INSERT; target <= 1.5)"
echo "  report_connection, known IMEI:             $rc_known ($(r "$rc_known" "$insert") x the INSERT; target <= 1.5)"
echo "  primary-key lookup:                        $pk"
echo "  check_imei:                                $check ($(r "$pk" "$check") x the lookup's speed; target >= 1.0)"
