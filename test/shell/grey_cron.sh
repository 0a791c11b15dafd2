#!/usr/bin/env bash
# A real pg_cron run of the grey expiry: in pg_cron's database (postgres in
# the test cluster: cron.database_name = 'postgres', background workers on),
# schedule imei_registry.expire_grey_period() every minute, wait (bounded)
# until cron.job_run_details shows a run that succeeded, and check the
# statuses and history it produced.  The job is scheduled by a login of the
# registry's admin role, not a superuser (schedule_grey_expiry() reads the
# superuser-only cron.database_name through cron_database_name()), so the
# job runs with the admin's rights.  pg_cron 1.4 has no seconds schedules,
# so the wait is up to the next minute boundary.
set -euo pipefail
db=postgres
psql=(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db")
fail() { echo "grey_cron: $*" >&2; exit 1; }

cleanup() {
    "${psql[@]}" -c "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'imei_registry_grey_expiry'" \
        >/dev/null 2>&1 || true
    "${psql[@]}" -c "DROP EXTENSION IF EXISTS imei_registry" -c "DROP EXTENSION IF EXISTS pg_cron" \
        -c "DROP ROLE IF EXISTS grey_cron_admin" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"${psql[@]}" <<'SQL'
CREATE EXTENSION pg_cron;
CREATE EXTENSION imei_registry;
SELECT imei_registry.create_registry();
CREATE ROLE grey_cron_admin LOGIN IN ROLE imei_registry_admin;
GRANT USAGE ON SCHEMA cron TO grey_cron_admin;
-- serials 1-3 due (last day before today in Almaty), 4 on its last day
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
SELECT imei_registry.imei_from_body('01990419' || lpad(s::text, 6, '0')),
       'grey', 'unverified', (imei_registry.local_date(now()) - 34 + s + time '00:00') AT TIME ZONE 'Asia/Almaty'
  FROM generate_series(1, 4) AS s;
SQL

job=$("${psql[@]}" -U grey_cron_admin -c "SELECT imei_registry.schedule_grey_expiry('* * * * *')")
again=$("${psql[@]}" -U grey_cron_admin -c "SELECT imei_registry.schedule_grey_expiry('* * * * *')")
[ "$job" = "$again" ] || fail "scheduling twice made two jobs ($job, $again)"
"${psql[@]}" -c "SELECT command, schedule, database, username FROM cron.job WHERE jobid = $job"

status=
for _ in $(seq 1 80); do
    status=$("${psql[@]}" -c "SELECT string_agg(status, ',') FROM cron.job_run_details WHERE jobid = $job AND status IN ('succeeded', 'failed')")
    [ -n "$status" ] && break
    sleep 1
done
"${psql[@]}" -c "SELECT status, return_message FROM cron.job_run_details WHERE jobid = $job"
case "$status" in
    succeeded*) ;;
    '') fail "no run of job $job finished within 80 s" ;;
    *) fail "job $job: $status" ;;
esac

got=$("${psql[@]}" <<'SQL'
SELECT string_agg(imei_registry.imei_snr(imei) || ':' || status || ':' || reason, ' ' ORDER BY imei)
  FROM imei_registry.registry;
SELECT count(*) FROM imei_registry.history
 WHERE from_status = 'grey' AND to_status = 'black' AND reason = 'grey_expired';
SELECT expired || ' by ' || run_by FROM imei_registry.grey_expiry_runs WHERE finished_at IS NOT NULL ORDER BY run_id LIMIT 1;
SQL
)
want="000001:black:grey_expired 000002:black:grey_expired 000003:black:grey_expired 000004:grey:unverified
3
3 by grey_cron_admin"
[ "$got" = "$want" ] || fail "after the cron run: got
$got
want
$want"
echo "grey_cron: job $job succeeded; 3 due IMEIs black with history, 1 on its last day still grey"
