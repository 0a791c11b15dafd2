# Sourced by the Citus scripts of test/citus (each sets name= first): a
# coordinator and two workers of the PostgreSQL of IMEI_CITUS_PGBIN (default:
# the suite's), Unix sockets only, run as the clusters' owner, each with a
# database "registry" with Citus; the coordinator has the extension and
# create_registry(distributed => true).  Defines q NODE SQL..., fail and
# node_start NODE [CONF] (one more node, without Citus unless CONF says).  Where
# that PostgreSQL has no citus.so or no imei_registry, prints SKIPPED and
# exits 77.  The clusters are stopped and removed on exit.  A script may set
# cluster_conf= (lines for every node's postgresql.conf) before sourcing it.
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
export PGOPTIONS='-c client_min_messages=warning'
fail() { echo "$name: FAILED: $*" >&2; exit 1; }

bin=${IMEI_CITUS_PGBIN:-$PGBIN}
if [ ! -x "$bin/pg_config" ] || [ ! -e "$("$bin/pg_config" --pkglibdir)/citus.so" ]; then
    echo "$name: SKIPPED: Citus is not installed for $bin (set IMEI_CITUS_PGBIN to the bin directory of a PostgreSQL with citus.so)"
    exit 77
fi
if [ ! -e "$("$bin/pg_config" --sharedir)/extension/imei_registry.control" ]; then
    echo "$name: SKIPPED: imei_registry is not installed for $bin (make install PG_CONFIG=$bin/pg_config)"
    exit 77
fi

base=$(mktemp -d /tmp/imei_citus.XXXXXX)
nodes="coord w1 w2"
cleanup() {
    local n
    for n in $nodes; do
        [ -f "$base/$n/data/postmaster.pid" ] &&
            as_cluster_owner "$bin/pg_ctl" -D "$base/$n/data" -m fast -w stop >/dev/null 2>&1
    done
    rm -rf "$base"
}
trap cleanup EXIT
chmod 0755 "$base"
[ "$(id -u)" -eq 0 ] && chown postgres: "$base"

# node_start NODE [CONF]: a cluster in $base/NODE, its socket there, port
# 5432, with the configuration lines CONF; its database "registry" made
node_start() {
    local n=$1
    mkdir -p "$base/$n"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$base/$n"
    as_cluster_owner "$bin/initdb" -D "$base/$n/data" -U postgres --auth=trust \
        -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
    cat >>"$base/$n/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$base/$n'
port = 5432
fsync = off
synchronous_commit = off
shared_buffers = 64MB
${2:-}
CONF
    as_cluster_owner "$bin/pg_ctl" -D "$base/$n/data" -l "$base/$n/server.log" -t 120 -w start \
        >/dev/null || { cat "$base/$n/server.log" >&2; fail "node $n did not start"; }
    "$bin/psql" -X -q -h "$base/$n" -p 5432 -U postgres -d postgres -c 'CREATE DATABASE registry'
}
for n in $nodes; do
    node_start "$n" "shared_preload_libraries = 'citus'
# what a node connects to for itself (a shard move does): its own socket
citus.local_hostname = '$base/$n'
max_worker_processes = 16
${cluster_conf:-}"
done

# q NODE SQL...: psql on the registry database of a node, as postgres
q() {
    local n=$1
    shift
    "$bin/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$base/$n" -p 5432 -U postgres -d registry "$@"
}
for n in $nodes; do
    q "$n" -c 'CREATE EXTENSION citus'
done
q coord <<SQL >/dev/null
SELECT citus_set_coordinator_host('$base/coord', 5432);
SELECT citus_add_node('$base/w1', 5432);
SELECT citus_add_node('$base/w2', 5432);
SQL

q coord -c 'CREATE EXTENSION imei_registry' -c 'SELECT imei_registry.create_registry(distributed => true)' >/dev/null

# shard_pairs_sum NODE QUERY: on NODE, the sum over its registry shards of
# QUERY's count, a format() string in which %1$s is the registry shard and
# %2$s the history shard co-located with it (on the same node)
shard_pairs_sum() {
    q "$1" -c "SET citus.override_table_visibility = off" -c "SET client_min_messages = notice" -c "
        DO \$\$
        DECLARE r record; n bigint; total bigint := 0;
        BEGIN
          FOR r IN SELECT 'imei_registry.' || quote_ident('registry_' || rs.shardid) AS reg,
                          'imei_registry.' || quote_ident('history_' || hs.shardid) AS his
                     FROM pg_dist_shard rs JOIN pg_dist_shard hs
                       ON hs.logicalrelid = 'imei_registry.history'::regclass
                      AND hs.shardminvalue = rs.shardminvalue
                    WHERE rs.logicalrelid = 'imei_registry.registry'::regclass
                      AND to_regclass('imei_registry.registry_' || rs.shardid) IS NOT NULL LOOP
            EXECUTE format(\$q\$$2\$q\$, r.reg, r.his) INTO n;
            total := total + n;
          END LOOP;
          RAISE NOTICE 'total=%', total;
        END \$\$" 2>&1 | sed -n 's/.*total=//p'
}

# paid_commercial_import NODE TAC DEVICES: on NODE, 2 x DEVICES grey IMEIs
# of the TAC (8 digits, made a dual-SIM model) and a commercial import of
# DEVICES devices of two of them each, its fee requested and paid; prints
# the application's id and whether the fee is paid (t)
paid_commercial_import() {
    local n=$1 tac=$2 devices=$3 app
    q "$n" <<SQL >/dev/null
INSERT INTO imei_registry.mci SELECT extract(year FROM now() AT TIME ZONE 'Asia/Almaty'), 4325
ON CONFLICT DO NOTHING;
INSERT INTO imei_registry.tac VALUES ('$tac', 'Citus', 'Dual Two', 'smartphone', 2);
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
SELECT imei_registry.imei_from_body('$tac' || lpad(g::text, 6, '0')), 'grey', 'unverified', now()
  FROM generate_series(0, 2 * $devices - 1) g;
SQL
    app=$(q "$n" -c "SET imei_registry.require_signature = off" -c "
        SELECT imei_registry.submit_application(jsonb_build_object(
            'applicant', jsonb_build_object('kind', 'legal_entity', 'id', '990940003030'),
            'method', 'commercial_import',
            'documents', jsonb_build_array(jsonb_build_object(
                'type', 'goods_declaration', 'number', 'GD-CITUS', 'holder_id', '990940003030')),
            'devices', (SELECT jsonb_agg(jsonb_build_object('model', 'Dual Two', 'imeis', jsonb_build_array(
                            imei_registry.imei_from_body('$tac' || lpad((2 * d)::text, 6, '0'))::text,
                            imei_registry.imei_from_body('$tac' || lpad((2 * d + 1)::text, 6, '0'))::text)) ORDER BY d)
                          FROM generate_series(0, $devices - 1) d)))")
    echo "$app $(q "$n" -c "SELECT fee_paid_at IS NOT NULL FROM imei_registry.record_payment($app,
                    (SELECT r.fee_tenge FROM imei_registry.request_payment($app) r), now(), 'CITUS-$app')")"
}
