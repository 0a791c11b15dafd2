#!/usr/bin/env bash
# Registry data survives pg_dump / pg_restore into a new cluster
# (docs/registry.md, "Dump and restore"): the data tables are ordinary
# tables (create_registry()), so pg_dump creates their triggers after their
# rows, and any restore loads them -- a plain pg_restore, and the replica
# mode, single-transaction command of earlier versions alike.  Then
# CALL imei_registry.restore_registry() re-bases the feeds: the source's
# xids are this test's cluster's, far above those of the new cluster, so
# before it the feed holds every restored row back; after it:
#   * every registry, history, operator, binding, device, import,
#     application and reason row is there once (shipped codes not twice),
#     the identity sequences continue, the triggers are enabled as before;
#   * changes(0) returns the source's feed in the same order, including two
#     transactions that committed out of id order, and a reader that had
#     read up to the first of them resumes with exactly the rest: nothing
#     delivered twice, nothing skipped; a change made after the restore
#     comes after them;
#   * exceptions(), the operators' feed of pairs, likewise;
#   * restore_registry() again changes nothing in that order; the tables
#     depend on the extension again (DROP EXTENSION refused);
#   * the rules hold on the restored rows.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
name=registry_dump_restore
src=registry_dump_src
fail() { echo "$name: $*" >&2; exit 1; }
# the suite's cluster (the source) and a new one (the restores)
here=$PGHOST
base=$(mktemp -d /tmp/imei_dump.XXXXXX)
chmod 0755 "$base"
dump=$base/registry.dump
cleanup() {
    stop_cluster "$base/new"
    dropdb -h "$here" --if-exists "$src" 2>/dev/null
    rm -rf "$base"
}
trap cleanup EXIT
q() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -h "$here" -d "$db" "$@"; }
qn() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -h "$base/new" -d "$db" "$@"; }

dropdb -h "$here" --if-exists "$src" 2>/dev/null
createdb -h "$here" "$src"
# xids of the source well above those a new cluster starts with
q "$src" -c "DO \$\$ BEGIN
    WHILE pg_catalog.pg_current_xact_id()::text::bigint < 30000 LOOP COMMIT; END LOOP;
END \$\$"
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
-- the operator's feed of pairs (exceptions()), re-based like the history's
INSERT INTO operator_networks VALUES ('40177', 'dump_op');
SELECT pair_subscriber(imei_from_body('86000005000023'), '401770000000001');
SELECT pair_subscriber(imei_from_body('86000005000023'), '401770000000002');
SELECT unpair_subscriber(imei_from_body('86000005000023'), '401770000000001');
SQL

# Two transactions that commit out of id order: t1 takes its xid first,
# t2 writes a history row and commits, then t1 writes its row (a higher id)
# and commits.  The feed gives t1's row (lower xid) first, then t2's.
fifo=$base/t1
mkfifo "$fifo"
PGAPPNAME=dump_t1 psql -X -q -At -v ON_ERROR_STOP=1 -h "$here" -d "$src" <"$fifo" >/dev/null &
t1=$!
exec 3>"$fifo"
echo "BEGIN; SELECT pg_catalog.pg_current_xact_id();" >&3
for _ in $(seq 100); do
    [ "$(q "$src" -c "SELECT count(*) FROM pg_stat_activity
                      WHERE application_name = 'dump_t1' AND backend_xid IS NOT NULL
                        AND state = 'idle in transaction'")" = 1 ] && break
    sleep 0.1
done
q "$src" -c "SELECT imei_registry.block(imei_registry.imei_from_body('86000005000025'), 'counterfeit')" >/dev/null
echo "SELECT imei_registry.block(imei_registry.imei_from_body('86000005000026'), 'counterfeit'); COMMIT;" >&3
exec 3>&-
wait "$t1" || fail "the out-of-order transaction failed"
t1_id=$(q "$src" -c "SELECT max(id) FROM imei_registry.history WHERE imei = imei_registry.imei_from_body('86000005000026')")
t2_id=$(q "$src" -c "SELECT max(id) FROM imei_registry.history WHERE imei = imei_registry.imei_from_body('86000005000025')")
[ "$t1_id" -gt "$t2_id" ] || fail "the test's transactions did not commit out of id order"
feed_src=$(q "$src" -c "SELECT id FROM imei_registry.changes(0, 100000)")
pairs_src=$(q "$src" -c "SELECT id FROM imei_registry.exceptions('dump_op', 0, 1000)")
[ "$(echo "$pairs_src" | wc -l)" = 3 ] || fail "the source's exceptions() feed: $pairs_src"
# the feed as the source serves it: t1's row before t2's
[ "$(echo "$feed_src" | grep -n -x -e "$t1_id" -e "$t2_id" | cut -d: -f2 | tr '\n' ' ')" = "$t1_id $t2_id " ] \
    || fail "the source's feed does not give the later id first"
# a reader that read up to t1's row
rest_src=$(echo "$feed_src" | sed "1,/^$t1_id\$/d")
triggers="SELECT tgrelid::regclass || ' ' || tgname || ' ' || tgenabled::text FROM pg_trigger
          WHERE NOT tgisinternal AND tgrelid IN (SELECT * FROM imei_registry.registry_tables())
          ORDER BY 1"
triggers_src=$(q "$src" -c "$triggers")

pg_dump -h "$here" -Fc -f "$dump" "$src"

CLUSTER_CONF="shared_buffers = 32MB" start_cluster "$base/new" >/dev/null 2>&1
export PGHOST=$here
qn postgres -c "CREATE ROLE dump_op_login"

# restored DB: the same rows, the feed re-based; COMMAND restores into DB
check_restore() {
    local db=$1 t a b cols out err
    shift
    createdb -h "$base/new" "$db"
    "$@" -d "$db" "$dump" || fail "$db: the restore failed"
    # before restore_registry(): the old cluster's xids, in this cluster's future
    [ "$(qn "$db" -c "SELECT min(xid) > pg_current_xact_id() FROM imei_registry.history")" = t ] \
        || fail "$db: the restored xids are not above the new cluster's (the test proves nothing)"
    [ "$(qn "$db" -c "SELECT count(*) FROM imei_registry.changes(0, 100000)")" = 0 ] \
        || fail "$db: the feed served rows before restore_registry()"
    [ "$(qn "$db" -c "SELECT count(*) FROM imei_registry.exceptions('dump_op', 0, 1000)")" = 0 ] \
        || fail "$db: exceptions() served rows before restore_registry()"
    qn "$db" -c "CALL imei_registry.restore_registry()" || fail "$db: restore_registry() failed"
    [ "$(qn "$db" -c "SELECT (SELECT count(*) FROM imei_registry.history WHERE xid >= pg_current_xact_id())
                           + (SELECT count(*) FROM imei_registry.pair_history WHERE xid >= pg_current_xact_id())")" = 0 ] \
        || fail "$db: feed rows left with xids of the old cluster"
    [ "$(qn "$db" -c "SELECT id FROM imei_registry.exceptions('dump_op', 0, 1000)")" = "$pairs_src" ] \
        || fail "$db: exceptions() after restore is not the source's feed"
    [ "$(qn "$db" -c "SELECT id FROM imei_registry.exceptions('dump_op', $(echo "$pairs_src" | head -n 1), 1000)")" = "$(echo "$pairs_src" | tail -n +2)" ] \
        || fail "$db: a reader of exceptions() resuming after its first row does not get exactly the rest"

    # Same rows in every table (history without xid, which is per cluster).
    for t in "registry ORDER BY imei" "history ORDER BY id" "operators ORDER BY code" \
             "operator_roles ORDER BY operator, role" "applications ORDER BY id" \
             "reasons ORDER BY code" "devices ORDER BY device_id" "imports ORDER BY import_id"; do
        cols='*'
        [ "${t%% *}" = history ] && cols='id, imei, from_status, to_status, reason, actor, changed_at, application_id, import_id, note, first_seen_at, first_operator, grey_last_day'
        a=$(q "$src" -c "SELECT $cols FROM imei_registry.$t")
        b=$(qn "$db" -c "SELECT $cols FROM imei_registry.$t")
        [ -n "$a" ] || fail "no rows in ${t%% *} of the source"
        [ "$a" = "$b" ] || fail "$db: table ${t%% *} differs after restore"
    done
    [ "$(qn "$db" -c "SELECT count(*) FROM imei_registry.reasons")" = 11 ] \
        || fail "$db: reasons: expected the 10 shipped codes and 1 site code once each"
    [ "$(qn "$db" -c "SELECT count(*) FROM imei_registry.reasons WHERE code = 'site_blocked' AND NOT shipped")" = 1 ] \
        || fail "$db: the site's reason code was not restored"
    [ "$(qn "$db" -c "$triggers")" = "$triggers_src" ] || fail "$db: the triggers differ after restore"

    # The feed: the source's order; the reader resumes with exactly the rest.
    [ "$(qn "$db" -c "SELECT id FROM imei_registry.changes(0, 100000)")" = "$feed_src" ] \
        || fail "$db: changes(0) after restore is not the source's feed"
    [ "$(qn "$db" -c "SELECT id FROM imei_registry.changes($t1_id, 100000)")" = "$rest_src" ] \
        || fail "$db: a reader resuming after $t1_id does not get exactly the rest"
    qn "$db" -c "CALL imei_registry.restore_registry()"
    [ "$(qn "$db" -c "SELECT id FROM imei_registry.changes(0, 100000)")" = "$feed_src" ] \
        || fail "$db: restore_registry() again changed the feed"
    err=$(qn "$db" -c "DROP EXTENSION imei_registry" 2>&1) && fail "$db: DROP EXTENSION dropped the restored tables"
    case $err in *"table imei_registry.registry depends on extension imei_registry"*) ;;
        *) fail "$db: unexpected error: $err" ;; esac

    # The restored register works: sequences continue, the rules hold, a
    # new change comes after the restored ones.
    out=$(qn "$db" <<'SQL'
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
    ) || fail "$db: the restored register does not work: $out"
    [ "$(echo "$out" | sort -u)" = "grey
t" ] || fail "$db: unexpected results after restore: $out"
    [ "$(qn "$db" -c "SELECT imei = imei_registry.imei_from_body('86000005000099')
                      FROM imei_registry.changes($(echo "$feed_src" | tail -n 1), 1)")" = t ] \
        || fail "$db: the change after the restore is not the next after the restored feed"
    err=$(qn "$db" -c "UPDATE imei_registry.registry SET status = 'white', reason = 'application_approved'
                       WHERE imei OPERATOR(pg_catalog.=) imei_registry.imei_from_body('86000005000021')" 2>&1) && \
        fail "$db: a forbidden change passed after restore"
    case $err in *"cannot change from white to white"*|*"cannot change its reason"*) ;;
        *) fail "$db: unexpected error: $err" ;; esac
    if qn "$db" -c "UPDATE imei_registry.history SET note = 'forged'" 2>/dev/null; then
        fail "$db: history took an UPDATE after restore_registry()"
    fi
}

check_restore plain pg_restore -h "$base/new" --exit-on-error
check_restore replica env PGOPTIONS='-c session_replication_role=replica' \
    pg_restore -h "$base/new" --single-transaction --exit-on-error
echo "$name: ok"
