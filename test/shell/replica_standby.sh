#!/usr/bin/env bash
# A streaming standby answers what the primary says, and writes nothing.
# Starts a primary and a hot standby of its own (pg_basebackup -R, Unix
# sockets only, run as the clusters' owner; docs/scale-out.md), fills the
# register on the primary with every status and cause, waits until the
# standby has replayed the primary's WAL position, and then:
#   * check_imei() of every registered IMEI and of unknown ones, changes()
#     read whole and page by page, and the other read functions and tables
#     answer on the standby exactly what they answer on the primary, each
#     called as the group role it is granted to;
#   * a reader of the feed that resumes on a standby which has not replayed
#     the change it last saw gets the feed's own error, not a skipped row
#     (replay paused, then resumed: the answers agree again);
#   * every write function, the COPY targets and a direct UPDATE fail on the
#     standby with SQLSTATE 25006 (read_only_sql_transaction), and the same
#     calls succeed on the primary (rolled back); a volatile function that
#     a registry role may call and that the test does not know fails the
#     test: each must be listed as a write or as a read here;
#   * after more changes on the primary (expiry, a block, a decision) the
#     standby agrees again;
#   * libpq's target_session_attrs sends prefer-standby to the standby (to
#     the primary once the standby is down) and read-write to the primary.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
name=replica_standby
export PGOPTIONS='-c client_min_messages=warning'
fail() { echo "$name: $*" >&2; exit 1; }

base=$(mktemp -d /tmp/imei_replica.XXXXXX)
primary=$base/primary
standby=$base/standby
cleanup() {
    stop_cluster "$standby"
    stop_cluster "$primary"
    rm -rf "$base"
}
trap cleanup EXIT
chmod 0755 "$base"

CLUSTER_CONF="shared_buffers = 32MB
cron.database_name = 'registry'" start_cluster "$primary" 2>/dev/null
mkdir -p "$standby"
chown postgres: "$standby" 2>/dev/null || true
chmod 0755 "$standby"
as_cluster_owner "$PGBIN/pg_basebackup" -h "$primary" -U postgres -D "$standby/data" \
    -R -X stream --checkpoint=fast
echo "unix_socket_directories = '$standby'" >>"$standby/data/postgresql.conf"
as_cluster_owner "$PGBIN/pg_ctl" -D "$standby/data" -l "$standby/server.log" -t 120 -w start \
    >/dev/null || { cat "$standby/server.log" >&2; fail "the standby did not start"; }

# q HOST ROLE SQL...: psql on the registry database of a cluster as a login
q() {
    local host=$1 role=$2
    shift 2
    psql -X -q -At -v ON_ERROR_STOP=1 -h "$host" -U "$role" -d registry "$@"
}
# wait_replay: until the standby has replayed what the primary has written
# (the insert position: with synchronous_commit = off the write position can
# be behind the last commit)
wait_replay() {
    local lsn i
    lsn=$(q "$primary" postgres -c "SELECT pg_current_wal_insert_lsn()")
    for i in $(seq 1 600); do
        [ "$(q "$standby" postgres -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && return 0
        sleep 0.1
    done
    fail "the standby did not replay $lsn within 60 s"
}

[ "$(psql -X -At -h "$standby" -U postgres -d postgres -c "SELECT pg_is_in_recovery()")" = t ] ||
    fail "the standby is not in recovery"

# a signed application and a CRL, made by openssl (as test/sql/signatures.sql)
bash "$(dirname "$0")/lib/signed_fixture.bash" "$base/pki"
signed_doc=$(cat "$base/pki/individual.json.hex")
signature=$(cat "$base/pki/individual.person.sig.hex")
crl=$(cat "$base/pki/crl.der.hex")

createdb -h "$primary" -U postgres registry
# unsigned applications too, as in the other suites' databases
q "$primary" postgres -c "ALTER DATABASE registry SET imei_registry.require_signature = off"
q "$primary" postgres -v root="$(cat "$base/pki/root.pem")" \
    -v intermediate="$(cat "$base/pki/intermediate.pem")" >/dev/null <<'SQL'
CREATE EXTENSION pg_cron;
CREATE EXTENSION imei_registry;
SELECT imei_registry.create_registry();
SET search_path = imei_registry;
INSERT INTO trusted_certificates (certificate, note)
VALUES (:'root', 'test root'), (:'intermediate', 'test intermediate');
CREATE ROLE replica_reader LOGIN IN ROLE imei_registry_reader;
CREATE ROLE replica_portal LOGIN IN ROLE imei_registry_portal;
CREATE ROLE replica_operator LOGIN IN ROLE imei_registry_operator;
CREATE ROLE replica_admin LOGIN IN ROLE imei_registry_admin;
GRANT USAGE ON SCHEMA cron TO replica_admin;
INSERT INTO operators VALUES ('replica_op', 'Replica test operator');
INSERT INTO operator_roles VALUES ('replica_op', 'replica_operator');
INSERT INTO operator_networks VALUES ('40101', 'replica_op');
-- grey (1-20), white by import (21-30), black and reinstated
SELECT report_connection(imei_from_body('86000230' || lpad(g::text, 6, '0')), 'replica_op',
                         now() - interval '3 days')
FROM generate_series(1, 20) g;
SELECT count(*) FROM register_import(ARRAY(SELECT imei_from_body('86000230' || lpad(g::text, 6, '0'))
                                           FROM generate_series(21, 30) g), 'replica importer');
SELECT block(imei_from_body('86000230000021'), 'counterfeit', 'lab report');
SELECT reinstate(imei_from_body('86000230000021'), 'lab report withdrawn');
SELECT block(imei_from_body('86000230000022'), 'gsma_blocked');
-- grey past its last day (31-33), answered black before the expiry runs;
-- 33 held by a pending application
INSERT INTO registry (imei, status, reason, first_seen_at)
SELECT imei_from_body('86000230' || lpad(g::text, 6, '0')), 'grey', 'unverified',
       now() - interval '40 days'
FROM generate_series(31, 33) g;
SELECT submit_application('{"applicant": {"kind": "individual", "id": "871008401427"},
     "method": "parcel", "exporting_country": "CN", "delivery_service": "China Post",
     "documents": [{"type": "tracking_number", "number": "RR123456785CN"}],
     "devices": [{"imeis": ["860002300000333"]}]}'::jsonb);
-- submitted within the grey period: it holds the IMEI past its last day
UPDATE applications SET submitted_at = now() - interval '20 days';
SQL
[ "$(q "$primary" postgres -c "SELECT (imei_registry.check_imei('860002300000333')).application_pending")" = t ] ||
    fail "setup: IMEI 33 is not held by its application"

# The reads, each as the role it is granted to.  Every line is one query.
reads() {
    cat <<'SQL'
replica_reader|SELECT g, c.* FROM generate_series(1, 40) g, imei_registry.check_imei(imei_registry.imei_from_body('86000230' || lpad(g::text, 6, '0'))) c ORDER BY g
replica_reader|SELECT * FROM imei_registry.check_imei('358476310000013')
replica_operator|SELECT * FROM imei_registry.changes(0, 100000)
replica_operator|SELECT * FROM imei_registry.changes(0, 7)
replica_operator|SELECT * FROM imei_registry.changes(3, 5)
replica_reader|SELECT * FROM imei_registry.transition_rules()
replica_reader|SELECT imei_registry.transition_allowed('grey', 'white', 'application_approved', 'unverified'), imei_registry.transition_allowed('black', 'grey', 'unverified', 'gsma_blocked')
replica_reader|SELECT imei_registry.reason_base('counterfeit'), imei_registry.check_connected_at(now()), imei_registry.connected_before_rules(now())
replica_reader|SELECT imei_registry.local_date('2025-03-01 19:30+00'), imei_registry.grey_last_day('2025-03-01 19:30+00')
replica_reader|SELECT imei_registry.application_vocabulary('method'), imei_registry.fee_mci_per_device('individual')
replica_reader|SELECT * FROM imei_registry.tac ORDER BY 1
replica_reader|SELECT * FROM imei_registry.mci ORDER BY 1
replica_reader|SELECT * FROM imei_registry.service_centres ORDER BY 1
replica_admin|SELECT r.imei, imei_registry.application_holds(r.imei, r.grey_last_day) FROM imei_registry.registry r WHERE r.status = 'grey' ORDER BY r.imei
replica_admin|SELECT * FROM imei_registry.registry ORDER BY imei
replica_admin|SELECT id, imei, from_status, to_status, reason, actor, application_id, import_id, note, xid FROM imei_registry.history ORDER BY id
replica_admin|SELECT id, state, method, applicant_id FROM imei_registry.applications ORDER BY id
replica_admin|SELECT * FROM imei_registry.import_rejects ORDER BY 1
replica_admin|SELECT id, subject, fingerprint, note FROM imei_registry.trusted_certificates ORDER BY id
SQL
}

# compare ROUND: every read answers the same on both servers, once the
# standby has replayed the primary's position (a read that differs is
# asked again for up to 10 s: the standby learns that a transaction ended
# from its commit record, which the position covers, or from the next
# running-transactions record)
compare() {
    local round=$1 role sql a b i n=0
    wait_replay
    while IFS='|' read -r role sql; do
        for i in $(seq 1 50); do
            a=$(q "$primary" "$role" -c "$sql") || fail "$round: on the primary, as $role: $sql"
            b=$(q "$standby" "$role" -c "$sql") || fail "$round: on the standby, as $role: $sql"
            [ "$a" = "$b" ] && break
            sleep 0.2
        done
        [ "$a" = "$b" ] || fail "$round: the standby answers differently, as $role: $sql
primary:
$a
standby:
$b"
        n=$((n + 1))
    done < <(reads)
    echo "$name: $round: $n reads answer the same on the standby"
}
compare "after setup"
# and what they answer is the register's truth, not two equal mistakes
got=$(q "$standby" replica_reader -c "
    SELECT string_agg(g || ':' || coalesce(c.status::text, '-') || ':' || c.reason || ':' ||
                      c.application_pending, ' ' ORDER BY g)
      FROM unnest(ARRAY[1, 21, 22, 31, 33, 41]) g,
           imei_registry.check_imei(imei_registry.imei_from_body('86000230' || lpad(g::text, 6, '0'))) c")
[ "$got" = "1:grey:unverified:false 21:white:reinstated:false 22:black:gsma_blocked:false 31:black:grey_expired:false 33:grey:unverified:true 41:-:not_registered:false" ] ||
    fail "check_imei on the standby: $got"

# The feed page by page on the standby, resumed after the last id it gave,
# is the whole feed of the primary.
feed_pages() {
    local host=$1 after=0 page all=""
    while :; do
        page=$(q "$host" replica_operator -c "SELECT id, imei, to_status, reason FROM imei_registry.changes($after, 4)")
        [ -n "$page" ] || break
        all+=$page$'\n'
        after=$(tail -n 1 <<<"$page" | cut -d'|' -f1)
    done
    printf '%s' "$all"
}
a=$(q "$primary" replica_operator -c "SELECT id, imei, to_status, reason FROM imei_registry.changes(0, 100000)")
b=$(feed_pages "$standby")
[ "$a" = "$b" ] || fail "the standby's feed read by pages differs from the primary's:
$a
--
$b"
[ "$(wc -l <<<"$a")" -ge 30 ] || fail "the feed has too few rows: $(wc -l <<<"$a")"

# Replication lag: replay paused, the primary goes on.  A reader that saw the
# primary's newest change and resumes on the standby gets the feed's error
# (22023, "never returned"), never a feed that skips the rows it lacks.
q "$standby" postgres -c "SELECT pg_wal_replay_pause()" >/dev/null
q "$primary" replica_operator -c "SELECT imei_registry.report_connection('860002300000416', 'replica_op')" >/dev/null
last=$(q "$primary" replica_operator -c "SELECT max(id) FROM imei_registry.changes(0, 100000)")
[ "$(q "$standby" replica_reader -c "SELECT reason FROM imei_registry.check_imei('860002300000416')")" = not_registered ] ||
    fail "the paused standby already knows the new IMEI"
err=$(q "$standby" replica_operator -c "\set VERBOSITY verbose" -c "SELECT * FROM imei_registry.changes($last, 10)" 2>&1) &&
    fail "changes($last) on the lagging standby answered: $err"
case $err in *22023*"was never returned by changes()"*) ;; *) fail "changes($last) on the lagging standby: $err" ;; esac
q "$standby" postgres -c "SELECT pg_wal_replay_resume()" >/dev/null
compare "after a paused replay"
[ "$(q "$standby" replica_operator -c "SELECT count(*) FROM imei_registry.changes($last, 10)")" = 0 ] ||
    fail "changes($last) on the standby after replay: rows after the newest"

# The writes: role|signature|statement.  On the standby each fails with
# 25006; on the primary, in a transaction rolled back, each succeeds
# (except the procedure, which commits: it runs for real below).  A role
# marked ? is a function this version may not have: skipped when it does
# not exist, checked on the standby only when it does.
app=$(q "$primary" postgres -c "SELECT max(id) FROM imei_registry.applications")
writes() {
    cat <<SQL
replica_operator|imei_registry.report_connection(imei_registry.imei,text,timestamp with time zone,text,text)|SELECT imei_registry.report_connection('860002300000507', 'replica_op', now(), '401011234567890', '77011234567')
replica_operator|imei_registry.report_connection(imei_registry.imeisv,text,timestamp with time zone,text,text)|SELECT imei_registry.report_connection('8600023000005012'::imei_registry.imeisv, 'replica_op')
replica_admin|imei_registry.register_import(imei_registry.imei[],text,text)|SELECT * FROM imei_registry.register_import(ARRAY['860002300000515']::imei_registry.imei[], 'replica importer')
replica_admin|imei_registry.block(imei_registry.imei,text,text)|SELECT imei_registry.block(imei_registry.imei_from_body('86000230000019'), 'counterfeit')
replica_admin|imei_registry.reinstate(imei_registry.imei,text)|SELECT imei_registry.reinstate('860002300000226', 'a written reason')
replica_portal|imei_registry.submit_application(jsonb)|SELECT imei_registry.submit_application('{"applicant": {"kind": "individual", "id": "871008401427"}, "method": "parcel", "exporting_country": "CN", "delivery_service": "China Post", "documents": [{"type": "tracking_number", "number": "RR123456785CN"}], "devices": [{"imeis": ["860002300000523"]}]}')
replica_portal|imei_registry.submit_application(text,bytea)|SELECT imei_registry.submit_application(convert_from(decode('$signed_doc', 'hex'), 'UTF8'), decode('$signature', 'hex'))
replica_admin|imei_registry.load_crl(bytea)|SELECT imei_registry.load_crl(decode('$crl', 'hex'))
replica_admin|imei_registry.decide_application(bigint)|SELECT imei_registry.decide_application($app)
replica_admin|imei_registry.schedule_grey_expiry(text)|SELECT imei_registry.schedule_grey_expiry()
replica_admin|imei_registry.expire_grey_period(integer)|CALL imei_registry.expire_grey_period()
replica_admin|imei_registry.pair_subscriber(imei_registry.imei,text,bigint)|SELECT imei_registry.pair_subscriber('860002300000507', '401011234567890')
replica_admin|imei_registry.unpair_subscriber(imei_registry.imei,text)|SELECT imei_registry.unpair_subscriber('860002300000507', '401011234567890')
replica_operator|COPY upload_connections|COPY imei_registry.upload_connections FROM STDIN
replica_operator|COPY upload_sightings|COPY imei_registry.upload_sightings FROM STDIN
replica_admin|COPY upload_blocklist|COPY imei_registry.upload_blocklist FROM STDIN
replica_admin|COPY upload_devices|COPY imei_registry.upload_devices FROM STDIN
replica_admin|COPY upload_tac|COPY imei_registry.upload_tac FROM STDIN
?replica_admin|imei_registry.request_payment(bigint)|SELECT * FROM imei_registry.request_payment($app)
?replica_admin|imei_registry.record_payment(bigint,numeric,timestamp with time zone,text)|SELECT * FROM imei_registry.record_payment($app, 1000, now(), 'replica payment 1')
replica_admin|UPDATE registry|UPDATE imei_registry.registry SET status = 'black', reason = 'counterfeit' WHERE imei = imei_registry.imei_from_body('86000230000019')
SQL
}
# Every volatile function a registry role may call is a write above or a
# read in reads() (volatile for the clock, writing nothing).
known_reads="imei_registry.check_connected_at(timestamp with time zone)"
mapfile -t volatile < <(q "$primary" postgres -c "
    SELECT p.oid::regprocedure FROM pg_proc p
      JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
     WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'imei_registry')
       AND p.provolatile = 'v' AND p.prorettype <> 'trigger'::regtype
       AND EXISTS (SELECT FROM unnest(ARRAY['imei_registry_reader', 'imei_registry_portal',
                                            'imei_registry_operator', 'imei_registry_admin']) r
                   WHERE has_function_privilege(r, p.oid, 'EXECUTE'))
     ORDER BY 1")
listed=$(writes | cut -d'|' -f2)
for f in "${volatile[@]}"; do
    grep -qxF "$f" <<<"$listed" || [ "$f" = "$known_reads" ] ||
        fail "volatile function $f is neither a write nor a read of this test: list it"
done

n=0
while IFS='|' read -r role what sql; do
    optional=false
    if [ "${role#\?}" != "$role" ]; then
        role=${role#\?}
        optional=true
        [ "$(q "$primary" postgres -c "SELECT to_regprocedure('$what') IS NOT NULL")" = t ] || continue
    fi
    err=$(q "$standby" "$role" -c "\set VERBOSITY verbose" -c "$sql" </dev/null 2>&1) &&
        fail "$what succeeded on the standby"
    case $err in
        *"ERROR:  25006: cannot execute "*" in a read-only transaction"*) ;;
        *"ERROR:  25006: cannot execute "*" during recovery"*) ;;
        *) fail "$what on the standby: not 25006: $err" ;;
    esac
    n=$((n + 1))
    "$optional" && continue
    case $what in
        *expire_grey_period*) ;;
        COPY*) printf '' | q "$primary" "$role" -c "BEGIN" -c "$sql" -c "ROLLBACK" >/dev/null ||
            fail "$what fails on the primary" ;;
        *) q "$primary" "$role" -c "BEGIN" -c "$sql" -c "ROLLBACK" >/dev/null ||
            fail "$what fails on the primary" ;;
    esac
done < <(writes)
echo "$name: $n writes fail on the standby with 25006 (and succeed on the primary)"

# More changes on the primary; the standby follows.
q "$primary" replica_admin -c "CALL imei_registry.expire_grey_period()" >/dev/null
q "$primary" replica_admin -c "SELECT imei_registry.decide_application($app)" >/dev/null
q "$primary" replica_admin -c "SELECT imei_registry.block(imei_registry.imei_from_body('86000230000019'), 'counterfeit')" >/dev/null
[ "$(q "$primary" postgres -c "SELECT count(*) FROM imei_registry.history WHERE reason = 'grey_expired'")" = 2 ] ||
    fail "the expiry on the primary did not move the 2 due IMEIs"
compare "after expiry, a decision and a block"

# The connection strings of docs/scale-out.md: libpq picks the standby for
# the check, the primary for writes, and the primary for the check when no
# standby is up.
recovery() {
    psql -X -At -d "host=$primary,$standby port=5432 user=replica_reader dbname=registry target_session_attrs=$1" \
        -c "SELECT pg_is_in_recovery()"
}
[ "$(recovery prefer-standby)" = t ] || fail "prefer-standby did not connect to the standby"
[ "$(recovery read-write)" = f ] || fail "read-write did not connect to the primary"
stop_cluster "$standby"
[ "$(recovery prefer-standby)" = f ] || fail "prefer-standby without a standby did not connect to the primary"
echo "$name: target_session_attrs: the check goes to the standby, writes to the primary"
echo "$name: ok"
