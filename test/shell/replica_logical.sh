#!/usr/bin/env bash
# Operators' mirrors by logical replication (docs/scale-out.md).  A registry
# cluster (wal_level = logical) publishes, a second cluster subscribes:
#   * the black list of an operator's EIR: history published insert-only
#     (publish = 'insert'), a column list, and a row filter that keeps the
#     changes into or out of black, into a plain table imei_registry.history of a
#     database without the extension; the EIR's black list (the latest such change of each
#     IMEI that leads to black) equals the registry's black IMEIs, through
#     blocks, a reinstatement and the grey expiry.  The filter is on reason
#     (text): PostgreSQL refuses a row filter on a column of a user-defined
#     type such as to_status ("User-defined types are not allowed"), which
#     is checked too.  Its codes come from transition_rules() and reasons,
#     the rules' one table;
#   * a full mirror of registry and history into a database that has the
#     extension: the apply worker runs with session_replication_role =
#     replica, so the registry's own triggers do not fire (rows are not
#     re-checked, since is not re-stamped, no second history row is written)
#     but history_stamp_xid does (history.xid becomes the subscriber's own,
#     so the mirror's changes() is complete and in order); check_imei() and
#     changes() on the mirror answer what the registry answers.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
name=replica_logical
export PGOPTIONS='-c client_min_messages=warning'
fail() { echo "$name: $*" >&2; exit 1; }

base=$(mktemp -d /tmp/imei_logical.XXXXXX)
pub=$base/registry
sub=$base/eir
cleanup() {
    # subscriptions first: their slots are on the publisher
    psql -X -q -h "$sub" -U postgres -d eir -c "DROP SUBSCRIPTION IF EXISTS eir_black_list" >/dev/null 2>&1 || true
    psql -X -q -h "$sub" -U postgres -d mirror -c "DROP SUBSCRIPTION IF EXISTS registry_mirror" >/dev/null 2>&1 || true
    stop_cluster "$sub"
    stop_cluster "$pub"
    rm -rf "$base"
}
trap cleanup EXIT
chmod 0755 "$base"
CLUSTER_CONF="shared_buffers = 32MB
wal_level = logical" start_cluster "$pub" 2>/dev/null
CLUSTER_CONF="shared_buffers = 32MB" start_cluster "$sub" 2>/dev/null

# q HOST DB SQL...
q() {
    local host=$1 db=$2
    shift 2
    psql -X -q -At -v ON_ERROR_STOP=1 -h "$host" -U postgres -d "$db" "$@"
}
# until_equal WHAT CMD1 CMD2: wait (bounded) until both commands print the same
until_equal() {
    local what=$1 a b i
    for i in $(seq 1 300); do
        a=$(eval "$2") && b=$(eval "$3") && [ "$a" = "$b" ] && { echo "$name: $what"; return 0; }
        sleep 0.2
    done
    fail "$what: still different after 60 s
registry:
$a
subscriber:
$b"
}

createdb -h "$pub" -U postgres registry
q "$pub" registry >/dev/null <<'SQL'
CREATE EXTENSION imei_registry;
SELECT imei_registry.create_registry();
SET search_path = imei_registry;
INSERT INTO operators VALUES ('mirror_op', 'Mirror test operator');
INSERT INTO operator_roles VALUES ('mirror_op', 'postgres');
INSERT INTO reasons (code, status, description, base)
VALUES ('site_stolen', 'black', 'a code this site added', 'gsma_blocked');
-- grey 1-20, white 21-30, black 21-24 (22 by the site's code), 21 reinstated
SELECT report_connection(imei_from_body('86000231' || lpad(g::text, 6, '0')), 'mirror_op',
                         now() - interval '3 days')
FROM generate_series(1, 20) g;
SELECT count(*) FROM register_import(ARRAY(SELECT imei_from_body('86000231' || lpad(g::text, 6, '0'))
                                           FROM generate_series(21, 30) g), 'mirror importer');
SELECT block(imei_from_body('86000231000021'), 'counterfeit', 'lab report');
SELECT block(imei_from_body('86000231000022'), 'site_stolen');
SELECT block(imei_from_body('86000231000023'), 'gsma_blocked');
SELECT block(imei_from_body('86000231000024'), 'replaced');
SELECT reinstate(imei_from_body('86000231000021'), 'lab report withdrawn');
-- grey past its last day (31-33): the expiry makes them black later
INSERT INTO registry (imei, status, reason, first_seen_at)
SELECT imei_from_body('86000231' || lpad(g::text, 6, '0')), 'grey', 'unverified',
       now() - interval '40 days'
FROM generate_series(31, 33) g;
SQL

# A row filter on to_status is refused: it is of the extension's type.
err=$(q "$pub" registry -c "CREATE PUBLICATION refused FOR TABLE imei_registry.history
                             WHERE (to_status = 'black') WITH (publish = 'insert')" 2>&1) &&
    fail "a row filter on to_status was accepted"
case $err in *"User-defined types are not allowed"*) ;; *) fail "row filter on to_status: $err" ;; esac

# The black list's publication: the codes of every rule into or out of
# black, and the site's codes that take their transitions.
q "$pub" registry >/dev/null <<'SQL'
SELECT pg_catalog.format(
    'CREATE PUBLICATION black_list FOR TABLE imei_registry.history '
    '(id, imei, from_status, to_status, reason, changed_at) '
    'WHERE (reason IN (%s)) WITH (publish = %L)',
    string_agg(pg_catalog.quote_literal(r.code), ', ' ORDER BY r.code), 'insert')
FROM imei_registry.reasons r
WHERE r.base IN (SELECT t.reason FROM imei_registry.transition_rules() t
                  WHERE 'black' IN (t.from_status, t.to_status))
\gexec
CREATE PUBLICATION registry_mirror FOR TABLE imei_registry.registry, imei_registry.history
    WITH (publish = 'insert, update');
SQL
filter=$(q "$pub" registry -c "SELECT rowfilter FROM pg_publication_tables WHERE pubname = 'black_list'")
for code in counterfeit grey_expired gsma_blocked reinstated replaced site_stolen; do
    case $filter in *"'$code'"*) ;; *) fail "the black list's filter lacks $code: $filter" ;; esac
done
for code in unverified lawful_import earlier_connection; do
    case $filter in *"'$code'"*) fail "the black list's filter has $code: $filter" ;; esac
done

# The operator's EIR: a plain table, no extension; its black list is the
# latest received change of each IMEI, when it leads to black.  Logical
# replication applies to the table of the same schema and name, so the
# plain table is imei_registry.history, with the published columns.
createdb -h "$sub" -U postgres eir
q "$sub" eir >/dev/null <<SQL
CREATE SCHEMA imei_registry;
CREATE TABLE imei_registry.history (
    id          bigint PRIMARY KEY,
    imei        text NOT NULL,
    from_status text,
    to_status   text NOT NULL,
    reason      text NOT NULL,
    changed_at  timestamptz NOT NULL
);
CREATE VIEW black_list AS
SELECT imei, reason, changed_at
  FROM (SELECT DISTINCT ON (imei) * FROM imei_registry.history ORDER BY imei, id DESC) latest
 WHERE to_status = 'black';
CREATE SUBSCRIPTION eir_black_list CONNECTION 'host=$pub port=5432 user=postgres dbname=registry'
    PUBLICATION black_list;
SQL

# The full mirror, into a database with the extension.  Its xids are made
# larger than any of the registry's first, so that a history.xid copied
# as it came would be seen.
createdb -h "$sub" -U postgres mirror
q "$sub" mirror >/dev/null <<'SQL'
CREATE EXTENSION imei_registry;
SELECT imei_registry.create_registry();
DO $$ BEGIN
    FOR i IN 1..2000 LOOP PERFORM pg_catalog.pg_current_xact_id(); COMMIT; END LOOP;
END $$;
SQL
mirror_xid0=$(q "$sub" mirror -c "SELECT pg_current_xact_id()")
[ "$(q "$pub" registry -c "SELECT max(xid) < '$mirror_xid0' FROM imei_registry.history")" = t ] ||
    fail "the registry's xids are not below the mirror's ($mirror_xid0)"
q "$sub" mirror -c "CREATE SUBSCRIPTION registry_mirror
    CONNECTION 'host=$pub port=5432 user=postgres dbname=registry'
    PUBLICATION registry_mirror" >/dev/null

black_of_registry="q '$pub' registry -c \"SELECT imei || '|' || reason FROM imei_registry.registry WHERE status = 'black' ORDER BY imei\""
black_of_eir="q '$sub' eir -c \"SELECT imei || '|' || reason FROM black_list ORDER BY imei\""
registry_rows="q '$pub' registry -c 'SELECT * FROM imei_registry.registry ORDER BY imei'"
mirror_rows="q '$sub' mirror -c 'SELECT * FROM imei_registry.registry ORDER BY imei'"
history_cols="id, imei, from_status, to_status, reason, actor, changed_at, application_id, import_id, note, first_seen_at, first_operator, grey_last_day"
registry_history="q '$pub' registry -c 'SELECT $history_cols FROM imei_registry.history ORDER BY id'"
mirror_history="q '$sub' mirror -c 'SELECT $history_cols FROM imei_registry.history ORDER BY id'"
feed="SELECT * FROM imei_registry.changes(0, 100000)"
checks="SELECT g, c.* FROM generate_series(1, 40) g, imei_registry.check_imei(imei_registry.imei_from_body('86000231' || lpad(g::text, 6, '0'))) c ORDER BY g"

round() {
    local what=$1
    until_equal "$what: the EIR's black list is the registry's" "$black_of_eir" "$black_of_registry"
    until_equal "$what: the mirror's registry rows are the registry's (since not re-stamped)" "$mirror_rows" "$registry_rows"
    until_equal "$what: the mirror's history is the registry's, no row added" "$mirror_history" "$registry_history"
    [ "$(q "$pub" registry -c "$feed")" = "$(q "$sub" mirror -c "$feed")" ] ||
        fail "$what: changes() on the mirror differs"
    [ "$(q "$pub" registry -c "$checks")" = "$(q "$sub" mirror -c "$checks")" ] ||
        fail "$what: check_imei() on the mirror differs"
    [ "$(q "$sub" eir -c "SELECT count(*) FROM imei_registry.history WHERE reason IN ('unverified', 'lawful_import', 'earlier_connection')")" = 0 ] ||
        fail "$what: the EIR received changes its filter leaves out"
    [ "$(q "$sub" mirror -c "SELECT count(*) FROM imei_registry.history WHERE xid < '$mirror_xid0'")" = 0 ] ||
        fail "$what: the mirror kept the registry's xids"
}
round "initial copy"
[ "$(q "$sub" eir -c "SELECT count(*) FROM black_list")" = 3 ] || fail "the EIR's black list should hold 3 IMEIs"

# The changes go on: the grey expiry, a reinstatement leaves the list, a
# block enters it, and a report changes nothing on the EIR's side.
q "$pub" registry >/dev/null <<'SQL'
CALL imei_registry.expire_grey_period();
SELECT imei_registry.reinstate(imei_registry.imei_from_body('86000231000022'), 'found by its owner');
SELECT imei_registry.block(imei_registry.imei_from_body('86000231000025'), 'counterfeit');
SELECT imei_registry.report_connection(imei_registry.imei_from_body('86000231000041'), 'mirror_op');
SQL
round "after expiry, reinstatement, block and report"
got=$(q "$sub" eir -c "SELECT string_agg(right(imei, 3) || ':' || reason, ' ' ORDER BY imei) FROM black_list")
[ "$got" = "232:gsma_blocked 240:replaced 257:counterfeit 315:grey_expired 323:grey_expired 331:grey_expired" ] ||
    fail "the EIR's black list: $got"
echo "$name: ok"
