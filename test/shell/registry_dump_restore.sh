#!/usr/bin/env bash
# Registry data survives pg_dump / pg_restore into a fresh database: every
# registry, history, operator, operator binding, device, import, application
# and site-added reason row, the identity sequences, and no duplicate of the
# reasons the extension ships.  The restore is the one command of
# docs/registry.md, PGOPTIONS='-c session_replication_role=replica'
# pg_restore --single-transaction --exit-on-error: the rows are reloaded as
# they were, not re-checked as new changes (a black IMEI is not a valid *new*
# IMEI), and history.xid is re-stamped with the restoring transaction so the
# change feed keeps working.  A restore without those options fails and
# loads neither registry nor history.
set -euo pipefail
src=registry_dump_src
dst=registry_dump_dst
bad=registry_dump_bad
dump=$(mktemp /tmp/registry_dump.XXXXXX)
trap 'rm -f "$dump"; for d in "$src" "$dst" "$bad"; do dropdb --if-exists "$d" 2>/dev/null; done' EXIT
fail() { echo "registry_dump_restore: $*" >&2; exit 1; }
q() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

for d in "$src" "$dst" "$bad"; do dropdb --if-exists "$d" 2>/dev/null; done
createdb "$src"
q "$src" >/dev/null <<'SQL'
CREATE EXTENSION imei_registry;
SELECT imei_registry.create_registry();
SET search_path = imei_registry;
INSERT INTO operators VALUES ('dump_op', 'Dump test operator');
INSERT INTO operator_roles VALUES ('dump_op', 'dump_op_login');
INSERT INTO reasons (code, status, description, base)
VALUES ('site_blocked', 'black', 'a code this site added', 'gsma_blocked');
INSERT INTO devices (model) VALUES ('dump phone');
SELECT report_connection(imei_from_body('86000005' || lpad(g::text, 6, '0')), 'dump_op',
                         '2025-05-01 10:00+00')
FROM generate_series(1, 20) g;
SELECT count(*) FROM register_import(ARRAY(SELECT imei_from_body('86000005' || lpad(g::text, 6, '0'))
                                           FROM generate_series(21, 30) g), 'dump importer');
UPDATE registry SET status = 'black', reason = 'grey_expired'
WHERE imei BETWEEN imei_from_body('86000005000001') AND imei_from_body('86000005000005');
BEGIN;
INSERT INTO applications (applicant_kind, applicant_id, method, state, decided_at, decided_by)
VALUES ('individual', '000000000000', 'parcel', 'approved', now(), 'dump test');
INSERT INTO application_devices VALUES ((SELECT max(id) FROM applications), 1, NULL);
INSERT INTO application_imeis (application_id, device_ord, ord, imei_text, imei)
VALUES ((SELECT max(id) FROM applications), 1, 1, '860000050000016', '860000050000016');
UPDATE registry SET status = 'white', reason = 'application_approved',
       application_id = (SELECT max(id) FROM applications)
WHERE imei = imei_from_body('86000005000001');
COMMIT;
SELECT block(imei_from_body('86000005000021'), 'counterfeit', 'lab report 7');
SELECT reinstate(imei_from_body('86000005000021'), 'lab report withdrawn');
SELECT block(imei_from_body('86000005000023'), 'site_blocked', 'blocked by the site''s code');
UPDATE registry SET device_id = (SELECT max(device_id) FROM devices)
WHERE imei = imei_from_body('86000005000022');
SQL

pg_dump -Fc -f "$dump" "$src"

# Without the options: the restore fails, and neither table is loaded (the
# registry takes no COPY and history no rows but its trigger's).
createdb "$bad"
if pg_restore -d "$bad" "$dump" 2>/dev/null; then
    fail "a restore without session_replication_role = replica succeeded"
fi
[ "$(q "$bad" -c "SELECT (SELECT count(*) FROM imei_registry.registry) || ' ' || (SELECT count(*) FROM imei_registry.history)")" = "0 0" ] \
    || fail "a restore without the options loaded registry or history rows"

# The documented command.
createdb "$dst"
PGOPTIONS='-c session_replication_role=replica' pg_restore --single-transaction --exit-on-error \
    -d "$dst" "$dump" || fail "pg_restore failed"

# Same rows in every table (history without xid, which is per cluster).
for t in "registry ORDER BY imei" "history ORDER BY id" "operators ORDER BY code" \
         "operator_roles ORDER BY operator, role" "applications ORDER BY id" \
         "reasons ORDER BY code" "devices ORDER BY device_id" "imports ORDER BY import_id"; do
    cols='*'
    [ "${t%% *}" = history ] && cols='id, imei, from_status, to_status, reason, actor, changed_at, application_id, import_id, note, first_seen_at, first_operator, grey_last_day'
    a=$(q "$src" -c "SELECT $cols FROM imei_registry.$t")
    b=$(q "$dst" -c "SELECT $cols FROM imei_registry.$t")
    [ -n "$a" ] || fail "no rows in ${t%% *} of the source"
    [ "$a" = "$b" ] || fail "table ${t%% *} differs after restore"
done
[ "$(q "$dst" -c "SELECT count(*) FROM imei_registry.reasons")" = 11 ] \
    || fail "reasons: expected the 10 shipped codes and 1 site code once each"
[ "$(q "$dst" -c "SELECT count(*) FROM imei_registry.reasons WHERE code = 'site_blocked' AND NOT shipped")" = 1 ] \
    || fail "the site's reason code was not restored"

# The restored register works: sequences continue, the rules hold, the feed
# returns every row (old ones first, re-stamped), and the new change after.
out=$(q "$dst" <<'SQL'
SET search_path = imei_registry;
CREATE TEMP TABLE devices_before AS SELECT count(*) AS n, max(device_id) AS m FROM devices;
INSERT INTO devices (model) VALUES ('after restore');
SELECT (SELECT count(*) FROM devices) = n + 1 AND (SELECT max(device_id) FROM devices) > m
FROM devices_before;
SELECT report_connection(imei_from_body('86000005000099'), 'dump_op');
SELECT (SELECT max(id) FROM history) > (SELECT count(*) FROM history) - 1;
SELECT count(*) = (SELECT count(*) FROM history) FROM changes(0, 100000);
SELECT imei = imei_from_body('86000005000099')
FROM changes(0, 100000) WITH ORDINALITY c ORDER BY ordinality DESC LIMIT 1;
-- the site's code, restored, takes the transitions of its base
SELECT reason_base = 'gsma_blocked' FROM registry WHERE imei = imei_from_body('86000005000023');
SELECT block(imei_from_body('86000005000024'), 'site_blocked') = 'black';
SELECT reason_base = 'gsma_blocked' FROM registry WHERE imei = imei_from_body('86000005000024');
SQL
) || fail "the restored register does not work: $out"
[ "$(echo "$out" | sort -u)" = "grey
t" ] || fail "unexpected results after restore: $out"
err=$(q "$dst" -c "UPDATE imei_registry.registry SET status = 'white', reason = 'application_approved'
                   WHERE imei OPERATOR(pg_catalog.=) imei_registry.imei_from_body('86000005000021')" 2>&1) && \
    fail "a forbidden change passed after restore"
case $err in *"cannot change from white to white"*|*"cannot change its reason"*) ;; *) fail "unexpected error: $err" ;; esac
echo "registry_dump_restore: ok"
