#!/usr/bin/env bash
# The registry on Citus (docs/scale-out.md, "Citus"): a coordinator and two
# workers (Unix sockets only, run as the clusters' owner), then
#   * create_registry(distributed => true) distributes registry, history,
#     sightings and subscriber_pairs by imei, co-located, and makes every
#     other data table a reference table;
#   * 1,000 registered IMEIs (and unknown ones) answer right from the
#     coordinator and from both workers (check_imei()'s router query);
#   * each history row lands on the node of its registry row (the
#     co-located shard), ids unique across the cluster;
#   * a forbidden transition is refused on the shard with IR001;
#   * the C readers of the small reference tables (the operators' codes,
#     operator_is_mine(), a pending application's hold in check_imei())
#     read their placement on each node, not the empty shell;
#   * a look-alike of a shard (a table named as one that Citus does not
#     list, or a real shard's name in another schema) is refused by the
#     triggers' relation check (39P01).
# The cluster: test/citus/cluster.bash (SKIPPED, exit 77, without Citus).
set -euo pipefail
name=citus_registry
. "$(dirname "$0")/cluster.bash"

# ---- the layout ----
got=$(q coord -c "SELECT string_agg(logicalrelid::text || ':' || partmethod::text, ' ' ORDER BY logicalrelid::text)
                    FROM pg_dist_partition WHERE partmethod = 'h'")
[ "$got" = "imei_registry.history:h imei_registry.registry:h imei_registry.sightings:h imei_registry.subscriber_pairs:h" ] ||
    fail "distributed tables: $got"
got=$(q coord -c "SELECT count(DISTINCT colocationid) FROM pg_dist_partition WHERE partmethod = 'h'")
[ "$got" = 1 ] || fail "the distributed tables are not co-located ($got colocation groups)"
got=$(q coord -c "SELECT count(*) FROM imei_registry.registry_tables() t
                   WHERE NOT EXISTS (SELECT FROM pg_dist_partition p WHERE p.logicalrelid = t)
                      OR (t::text NOT IN ('imei_registry.registry', 'imei_registry.history',
                                         'imei_registry.sightings', 'imei_registry.subscriber_pairs')
                          AND NOT EXISTS (SELECT FROM pg_dist_partition p
                                           WHERE p.logicalrelid = t AND p.partmethod = 'n' AND p.repmodel = 't'))")
[ "$got" = 0 ] || fail "$got data tables are neither distributed nor reference tables"
got=$(q coord -c "SELECT count(*) FROM imei_registry.reasons WHERE shipped")
[ "$got" -ge 9 ] || fail "the shipped reasons are not in the reference table ($got)"
echo "$name: create_registry(distributed => true): 4 tables by imei, co-located, the other data tables reference tables"

# ---- 1,000 IMEIs from the coordinator ----
q coord -c "INSERT INTO imei_registry.registry (imei, status, reason, note)
            SELECT imei_registry.imei_from_body((86000024000000 + g)::text), 'black', 'counterfeit', 'citus test'
              FROM generate_series(1, 1000) g" >/dev/null
q coord -c "UPDATE imei_registry.registry SET status = 'white', reason = 'reinstated', note = 'court order'
             WHERE imei = imei_registry.imei_from_body((86000024000000 + 7)::text)" >/dev/null
check_sql="SELECT k || ':' || count(*) FROM (
              SELECT coalesce((c).status::text, '-') || ':' || (c).reason AS k
                FROM (SELECT imei_registry.check_imei(imei_registry.imei_from_body((86000024000000 + g)::text)) c
                        FROM generate_series(1, 1010) g) x) y
            GROUP BY k ORDER BY k"
want=$'-:not_registered:10\nblack:counterfeit:999\nwhite:reinstated:1'
for n in $nodes; do
    got=$(q "$n" -c "$check_sql")
    [ "$got" = "$want" ] || fail "check_imei() on $n: $got"
done
echo "$name: check_imei() of 1,000 registered and 10 unknown IMEIs right on the coordinator and both workers"

# ---- history beside its registry row, unique ids ----
got=$(q coord -c "SELECT count(*), count(DISTINCT id) FROM imei_registry.history" | tr '|' ' ')
[ "$got" = "1001 1001" ] || fail "history rows, distinct ids: $got"
for n in w1 w2; do
    got=$(q "$n" -c "SET citus.override_table_visibility = off" -c "
        SELECT count(*) FROM (
          SELECT r.shardid, (SELECT count(*) FROM pg_class c WHERE c.relname = 'registry_' || r.shardid) AS here_r,
                 (SELECT count(*) FROM pg_class c WHERE c.relname = 'history_' || h.shardid) AS here_h
            FROM pg_dist_shard r JOIN pg_dist_shard h
              ON h.logicalrelid = 'imei_registry.history'::regclass AND h.shardminvalue = r.shardminvalue
           WHERE r.logicalrelid = 'imei_registry.registry'::regclass) s
         WHERE here_r <> here_h")
    [ "$got" = 0 ] || fail "$n: $got registry shards without their history shard"
    # every local history row's IMEI is in the local registry shards
    got=$(shard_pairs_sum "$n" 'SELECT count(*) FROM %2$s h WHERE NOT EXISTS (SELECT FROM %1$s g WHERE g.imei = h.imei)')
    [ "$got" = 0 ] || fail "$n: $got history rows not beside their registry row"
done
echo "$name: 1,001 history rows, each on the node of its registry row, ids unique"

# ---- a forbidden transition, refused on the shard ----
err=$(q coord -c "UPDATE imei_registry.registry SET status = 'grey', reason = 'unverified'
                   WHERE imei = imei_registry.imei_from_body((86000024000000 + 1)::text)" 2>&1) &&
    fail "black -> grey was accepted"
case $err in *"cannot change from black to grey"*) ;; *) fail "black -> grey: $err" ;; esac
got=$(q coord -c "\\set VERBOSITY verbose" -c "UPDATE imei_registry.registry SET status = 'grey', reason = 'unverified'
                   WHERE imei = imei_registry.imei_from_body((86000024000000 + 1)::text)" 2>&1 | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' || true)
[ "$got" = IR001 ] || fail "black -> grey: SQLSTATE $got"
got=$(q coord -c "SELECT count(*) FROM imei_registry.history")
[ "$got" = 1001 ] || fail "a refused change left history rows ($got)"
echo "$name: a forbidden transition refused on the shard (IR001), no history row"

# ---- look-alike shards ----
shard=$(q w1 -c "SET citus.override_table_visibility = off" -c "
    SELECT shardid FROM pg_dist_shard s WHERE logicalrelid = 'imei_registry.registry'::regclass
       AND to_regclass('imei_registry.registry_' || shardid) IS NOT NULL ORDER BY shardid LIMIT 1")
q w1 <<SQL >/dev/null
SET citus.enable_ddl_propagation = off;
SET citus.enable_unsafe_triggers = on;
CREATE TABLE imei_registry.registry_999999 (LIKE imei_registry.registry INCLUDING ALL);
CREATE TRIGGER lookalike BEFORE INSERT ON imei_registry.registry_999999
    FOR EACH ROW EXECUTE FUNCTION imei_registry.registry_transition();
CREATE SCHEMA lookalike;
CREATE TABLE lookalike.registry_$shard (LIKE imei_registry.registry INCLUDING ALL);
CREATE TRIGGER lookalike BEFORE INSERT ON lookalike.registry_$shard
    FOR EACH ROW EXECUTE FUNCTION imei_registry.registry_transition();
SQL
for t in imei_registry.registry_999999 "lookalike.registry_$shard"; do
    got=$(q w1 -c "\\set VERBOSITY verbose" -c "INSERT INTO $t (imei, status, reason)
               VALUES (imei_registry.imei_from_body('86000024009990'), 'black', 'counterfeit')" 2>&1 |
          sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' || true)
    [ "$got" = 39P01 ] || fail "a look-alike shard $t: SQLSTATE '$got', not 39P01"
done
echo "$name: look-alike shards (a name Citus does not list, a shard's name in another schema) refused (39P01)"
# ---- the small tables the C reads: their placement, not the empty shell ----
# (reference tables: on a Citus node the table itself is an empty shell and
# its rows are in the node's placement, <table>_<shardid>)
q coord <<'SQL' >/dev/null
SET search_path = imei_registry;
SET imei_registry.require_signature = off;
INSERT INTO operators VALUES ('citus_op', 'Citus test operator'), ('citus_other', 'Another operator');
CREATE ROLE citus_reporter;
GRANT imei_registry_operator TO citus_reporter;
INSERT INTO operator_roles VALUES ('citus_op', 'citus_reporter');
-- grey past its last day (2 IMEIs); the second held by a pending application
-- submitted within its grey period
INSERT INTO registry (imei, status, reason, first_seen_at)
SELECT imei_from_body('86000024' || lpad(g::text, 6, '0')), 'grey', 'unverified', now() - interval '40 days'
  FROM generate_series(5001, 5002) g;
SELECT submit_application(jsonb_build_object(
    'applicant', jsonb_build_object('kind', 'individual', 'id', '871008401427'),
    'method', 'parcel', 'exporting_country', 'CN', 'delivery_service', 'China Post',
    'documents', jsonb_build_array(jsonb_build_object('type', 'tracking_number', 'number', 'RR123456785CN')),
    'devices', jsonb_build_array(jsonb_build_object('imeis',
        jsonb_build_array(imei_from_body('86000024005002')::text)))));
UPDATE applications SET submitted_at = now() - interval '20 days';
SQL
for n in $nodes; do
    got=$(q "$n" -c "SELECT (c).status || ':' || (c).reason || ':' || (c).application_pending
                       FROM (SELECT imei_registry.check_imei(imei_registry.imei_from_body('86000024' || lpad(g::text, 6, '0'))) c
                               FROM generate_series(5001, 5002) g ORDER BY g) x" | tr '\n' ' ')
    [ "$got" = "black:grey_expired:false grey:unverified:true " ] ||
        fail "check_imei() of grey IMEIs past their last day on $n (the second held by an application): $got"
    got=$(q "$n" -c "SET SESSION AUTHORIZATION citus_reporter" \
            -c "SELECT imei_registry.operator_is_mine('citus_op'), imei_registry.operator_is_mine('citus_other')" | tr '\n' ' ')
    [ "$got" = "t|f " ] || fail "operator_is_mine() on $n: $got"
    q "$n" -c "SELECT imei_registry.check_reporting_operator('citus_other')" >/dev/null ||
        fail "check_reporting_operator() on $n does not find an operator of imei_registry.operators"
    err=$(q "$n" -c "SET SESSION AUTHORIZATION citus_reporter" \
            -c "SELECT imei_registry.check_reporting_operator('citus_other')" 2>&1) &&
        fail "check_reporting_operator() on $n let a role report as another operator"
    case $err in *"permission denied"* | *"may not"* | *"not allowed"*) ;; *) fail "check_reporting_operator() as another operator on $n: $err" ;; esac
done
echo "$name: the small tables read through their placement on every node: a pending application holds a grey IMEI past its last day, operator_is_mine(), the operators' codes"

# ---- the grey period's expiry, from the coordinator ----
# 2,500 grey IMEIs past their last day (and 5002 above, held by its
# application), batches of 1,000: each moved to black with its history row
q coord -c "INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
            SELECT imei_registry.imei_from_body('86000025' || lpad(g::text, 6, '0')), 'grey', 'unverified', now() - interval '40 days'
              FROM generate_series(1, 2500) g" >/dev/null
hist0=$(q coord -c "SELECT count(*) FROM imei_registry.history")
q coord -c "CALL imei_registry.expire_grey_period(1000)" >/dev/null || fail "expire_grey_period() on the coordinator"
got=$(q coord -c "SELECT status || ':' || reason || ':' || count(*) FROM imei_registry.registry
                   WHERE imei::text LIKE '8600002500%' OR imei::text LIKE '86000024005%'
                   GROUP BY status, reason ORDER BY 1" | tr '\n' ' ')
[ "$got" = "black:grey_expired:2501 grey:unverified:1 " ] || fail "after expire_grey_period(): $got"
got=$(q coord -c "SELECT count(*) - $hist0, count(*) FILTER (WHERE to_status = 'black' AND reason = 'grey_expired' AND from_status = 'grey')
                    FROM imei_registry.history" | tr '|' ' ')
[ "$got" = "2501 2501" ] || fail "history rows of the expiry (new, grey -> black grey_expired): $got"
got=$(q coord -c "SELECT count(*) FROM imei_registry.registry r WHERE r.reason = 'grey_expired'
                     AND NOT EXISTS (SELECT FROM imei_registry.history h WHERE h.imei = r.imei AND h.reason = 'grey_expired')")
[ "$got" = 0 ] || fail "$got expired IMEIs without their history row"
got=$(q coord -c "SELECT expired || ':' || (finished_at IS NOT NULL) FROM imei_registry.grey_expiry_runs ORDER BY run_id DESC LIMIT 1")
[ "$got" = "2501:true" ] || fail "grey_expiry_runs: $got"
echo "$name: CALL expire_grey_period(1000) from the coordinator: 2,501 grey IMEIs past their last day moved to black, each with its history row; the one held by an application stays grey"

# ---- an import registered from the coordinator ----
# two new IMEIs and a known one (black): the new ones white (lawful_import)
# with their history row, found by a query routed to their shard; the known
# one keeps its status; one device per new IMEI, none left over
imp="ARRAY[imei_registry.imei_from_body('86000026000001'), imei_registry.imei_from_body('86000026000002'),
           imei_registry.imei_from_body('86000026000002'), imei_registry.imei_from_body((86000024000000 + 1)::text)]"
dev0=$(q coord -c "SELECT count(*) FROM imei_registry.devices")
got=$(q coord -c "SELECT imei::text || ':' || status || ':' || registered FROM imei_registry.register_import($imp, 'citus importer')" | tr '\n' ' ') ||
    fail "register_import() on the coordinator"
[ "$got" = "860000240000017:black:false 860000260000012:white:true 860000260000020:white:true " ] ||
    fail "register_import() on the coordinator: $got"
for b in 86000026000001 86000026000002; do
    got=$(q coord -c "SELECT r.status || ':' || r.reason || ':' || (r.device_id IS NOT NULL) || ':' ||
                             (SELECT count(*) FROM imei_registry.history h
                               WHERE h.imei = imei_registry.imei_from_body('$b') AND h.to_status = 'white'
                                 AND h.reason = 'lawful_import' AND h.from_status IS NULL)
                        FROM imei_registry.registry r WHERE r.imei = imei_registry.imei_from_body('$b')")
    [ "$got" = "white:lawful_import:true:1" ] || fail "imported $b: $got"
done
got=$(q coord -c "SELECT count(*) - $dev0 FROM imei_registry.devices")
[ "$got" = 2 ] || fail "register_import() left $got new devices, not 2"
echo "$name: register_import() from the coordinator: 2 new IMEIs white (lawful_import), each with its history row on its shard and its device; the known one keeps black"

# ---- connections reported from the coordinator ----
# report_connection(): a new IMEI grey with its last day and its history
# row; an earlier connection of it moves its first connection (history
# earlier_connection); a known black IMEI without a first connection gets
# it and stays black.  Then a COPY into upload_connections: two new IMEIs
# and a later connection of a known one (already present).
q coord <<'SQL' >/dev/null || fail "report_connection() on the coordinator"
SET search_path = imei_registry;
SELECT report_connection(imei_from_body('86000027000001'), 'citus_op', now() - interval '1 hour');
SELECT report_connection(imei_from_body('86000027000001'), 'citus_op', now() - interval '2 days');
SELECT report_connection(imei_from_body((86000024000000 + 2)::text), 'citus_op', now() - interval '1 hour');
SQL
got=$(q coord -c "SELECT r.status || ':' || r.reason || ':' || (r.grey_last_day = imei_registry.grey_last_day(r.first_seen_at)) || ':' ||
                         (r.first_seen_at < now() - interval '1 day') || ':' || r.first_operator
                    FROM imei_registry.registry r WHERE r.imei = imei_registry.imei_from_body('86000027000001')")
case $got in grey:unverified:true:true:citus_op) ;; *) fail "report_connection() of a new IMEI, then an earlier connection: $got" ;; esac
got=$(q coord -c "SELECT string_agg(coalesce(h.from_status::text, '-') || '>' || h.to_status || ':' || h.reason, ' ' ORDER BY h.id)
                    FROM imei_registry.history h WHERE h.imei = imei_registry.imei_from_body('86000027000001')")
[ "$got" = "->grey:unverified grey>grey:earlier_connection" ] || fail "history of the reported IMEI: $got"
got=$(q coord -c "SELECT r.status || ':' || r.reason || ':' || (r.first_seen_at IS NOT NULL) || ':' || r.first_operator
                    FROM imei_registry.registry r WHERE r.imei = imei_registry.imei_from_body((86000024000000 + 2)::text)")
[ "$got" = "black:counterfeit:true:citus_op" ] || fail "report_connection() of a known black IMEI: $got"
echo "$name: report_connection() from the coordinator: a new IMEI grey with its last day and history row, an earlier connection moves its first connection (earlier_connection), a known black IMEI gets its first connection"
csv=$(q coord -c "SELECT 'citus_op,' || imei_registry.imei_from_body(b)::text || ',' || to_char(now() - interval '3 hours', 'YYYY-MM-DD\"T\"HH24:MI:SSOF')
                    FROM unnest(ARRAY['86000027000002', '86000027000003', '86000027000001']) b")
got=$(printf '%s\n' "$csv" | q coord -c "SET client_min_messages = notice" -c "COPY imei_registry.upload_connections FROM STDIN WITH (FORMAT csv)" 2>&1) ||
    fail "COPY upload_connections on the coordinator: $got"
case $got in *"3 rows read, 3 loaded (1 already present), 0 rejected"*) ;; *) fail "COPY upload_connections on the coordinator: $got" ;; esac
got=$(q coord -c "SELECT count(*) FILTER (WHERE r.status = 'grey' AND r.grey_last_day IS NOT NULL AND r.import_id IS NOT NULL
                                            AND EXISTS (SELECT FROM imei_registry.history h WHERE h.imei = r.imei AND h.to_status = 'grey'))
                    FROM imei_registry.registry r
                   WHERE r.imei IN (imei_registry.imei_from_body('86000027000002'), imei_registry.imei_from_body('86000027000003'))")
[ "$got" = 2 ] || fail "the IMEIs of the COPY: $got of 2 grey with their last day, import and history row"
got=$(q coord -c "SELECT r.first_seen_at < now() - interval '1 day' FROM imei_registry.registry r WHERE r.imei = imei_registry.imei_from_body('86000027000001')")
[ "$got" = t ] || fail "a later connection in the COPY moved the first connection"
echo "$name: COPY upload_connections on the coordinator: 3 rows, 2 new IMEIs grey with their history rows, a later connection of a known one already present"

# a connection before the start of the rules: a new IMEI white
# (grandfathered), a grey one made white by it, each with its history row.
# imei_registry.rules_start must be the same on the shards (the triggers
# check it there): SET LOCAL, propagated by Citus
got=$(q coord -c "LOAD 'imei_registry'" -c "BEGIN" -c "SET LOCAL citus.propagate_set_commands = 'local'" \
        -c "SET LOCAL imei_registry.rules_start = '2026-11-01 00:00+05'" \
        -c "SELECT imei_registry.report_connection(imei_registry.imei_from_body('86000027000004'), 'citus_op', '2026-10-01 10:00+00')" \
        -c "SELECT imei_registry.report_connection(imei_registry.imei_from_body('86000027000002'), 'citus_op', '2026-10-02 10:00+00')" \
        -c "COMMIT" | tr '\n' ' ') || fail "report_connection() before the rules on the coordinator"
[ "$got" = "white white " ] || fail "report_connection() before the rules: $got"
got=$(q coord -c "SELECT string_agg(r.imei::text || ':' || r.status || ':' || r.reason || ':' ||
                         (SELECT string_agg(coalesce(h.from_status::text, '-') || '>' || h.to_status || ':' || h.reason, ',' ORDER BY h.id)
                            FROM imei_registry.history h WHERE h.imei = r.imei), ' ' ORDER BY r.imei)
                    FROM imei_registry.registry r
                   WHERE r.imei IN (imei_registry.imei_from_body('86000027000004'), imei_registry.imei_from_body('86000027000002'))")
i2=$(q coord -c "SELECT imei_registry.imei_from_body('86000027000002')")
i4=$(q coord -c "SELECT imei_registry.imei_from_body('86000027000004')")
want="$i2:white:grandfathered:->grey:unverified,grey>white:grandfathered $i4:white:grandfathered:->white:grandfathered"
[ "$got" = "$want" ] ||
    fail "grandfathered on Citus: $got"
echo "$name: connections before the rules (rules_start set on the shards too): a new IMEI white grandfathered, a grey one made white, each with its history row"

echo "$name: passed"
