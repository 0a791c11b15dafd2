#!/usr/bin/env bash
# Two runs of the grey expiry at once, with small batches: together they move
# every due IMEI exactly once (one history row each), and neither waits for
# the other (SKIP LOCKED).  Whether the runs overlapped is reported, not
# asserted (no timing assertions).
set -euo pipefail
db=imei_grey_concurrent
psql=(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db")
fail() { echo "grey_concurrent: $*" >&2; exit 1; }
due=20000

dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
trap 'dropdb --if-exists "$db"' EXIT
"${psql[@]}" <<SQL
CREATE EXTENSION imei_registry;
INSERT INTO imei_registry.registry (imei, status, reason, grey_last_day)
SELECT imei_registry.imei_from_body('01990420' || lpad(s::text, 6, '0')), 'grey', 'unverified',
       imei_registry.local_date(now()) - 1 - s % 30
  FROM generate_series(1, $due) AS s;
SQL

"${psql[@]}" -c "CALL imei_registry.expire_grey_period(200)" 2>/dev/null &
a=$!
"${psql[@]}" -c "CALL imei_registry.expire_grey_period(200)" 2>/dev/null &
b=$!
wait "$a" || fail "first run failed"
wait "$b" || fail "second run failed"

got=$("${psql[@]}" <<'SQL'
SELECT sum(expired), count(*) FROM imei_registry.grey_expiry_runs WHERE finished_at IS NOT NULL;
SELECT count(*), count(DISTINCT imei) FROM imei_registry.history WHERE reason = 'grey_expired';
SELECT count(*) FROM imei_registry.registry WHERE status = 'grey';
SQL
)
want="$due|2
$due|$due
0"
[ "$got" = "$want" ] || fail "got
$got
want
$want"
"${psql[@]}" -c "SELECT 'grey_concurrent: runs moved ' || string_agg(expired::text, ' + ' ORDER BY run_id)
                  || CASE WHEN max(started_at) < min(finished_at) THEN ', overlapping' ELSE ', one after the other' END
                  FROM imei_registry.grey_expiry_runs"
