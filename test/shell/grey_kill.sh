#!/usr/bin/env bash
# Killing a run of the grey expiry mid-run loses nothing and leaves no half
# batch: what it committed is whole batches, each with its history rows and
# counted in its grey_expiry_runs row (finished_at stays NULL); a rerun moves
# the rest.  The kill comes after a short sleep; if the run had already
# finished, the same invariants are checked (no timing assertions).
set -euo pipefail
. "$(dirname "$0")/lib/due_grey.bash"
fail() { echo "grey_kill: $*" >&2; exit 1; }
due=30000
batch=100
due_grey_database imei_grey_kill 01990421 "$due"

PGAPPNAME=grey_kill_victim "${psql[@]}" -c "CALL imei_registry.expire_grey_period($batch)" 2>/dev/null &
victim=$!
sleep 0.3
killed=$("${psql[@]}" -c "SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity WHERE application_name = 'grey_kill_victim'")
wait "$victim" && victim_rc=0 || victim_rc=$?

# after the kill: whole batches only, history and the run's counts agree
read -r black history expired finished <<<"$("${psql[@]}" -F ' ' -c "
SELECT (SELECT count(*) FROM imei_registry.registry WHERE status = 'black'),
       (SELECT count(*) FROM imei_registry.history WHERE reason = 'grey_expired'),
       (SELECT expired FROM imei_registry.grey_expiry_runs),
       (SELECT finished_at IS NOT NULL FROM imei_registry.grey_expiry_runs)")"
[ "$black" = "$history" ] || fail "$black black rows but $history history rows"
[ "$black" = "$expired" ] || fail "$black black rows but the run counted $expired"
if [ "$finished" = t ]; then
    [ "$black" = "$due" ] || fail "run finished with $black of $due moved"
    echo "grey_kill: the run finished before the kill ($killed backend terminated, exit $victim_rc)"
else
    [ $((black % batch)) = 0 ] || fail "$black moved: not whole batches of $batch"
    echo "grey_kill: killed after $black of $due (whole batches of $batch), run left unfinished"
fi

"${psql[@]}" -c "CALL imei_registry.expire_grey_period($batch)" 2>/dev/null
read -r black history grey <<<"$("${psql[@]}" -F ' ' -c "
SELECT (SELECT count(*) FROM imei_registry.registry WHERE status = 'black'),
       (SELECT count(DISTINCT imei) FROM imei_registry.history WHERE reason = 'grey_expired'),
       (SELECT count(*) FROM imei_registry.registry WHERE status = 'grey')")"
[ "$black $history $grey" = "$due $due 0" ] || fail "after the rerun: $black black, $history history, $grey grey"
echo "grey_kill: the rerun moved the rest: $due black, one history row each"
