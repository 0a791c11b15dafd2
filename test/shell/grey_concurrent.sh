#!/usr/bin/env bash
# Two runs of the grey expiry at once, with small batches: together they move
# every due IMEI exactly once (one history row each), and neither waits for
# the other (SKIP LOCKED).  Whether the runs overlapped is reported, not
# asserted (no timing assertions).
set -euo pipefail
. "$(dirname "$0")/lib/due_grey.bash"
fail() { echo "grey_concurrent: $*" >&2; exit 1; }
due=20000
due_grey_database imei_grey_concurrent 01990420 "$due"

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
