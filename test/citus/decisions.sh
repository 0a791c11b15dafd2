#!/usr/bin/env bash
# decide_application() on Citus (docs/scale-out.md, "Citus"), from the
# coordinator of a coordinator and two workers, by the same statements as
# on one node (the facts read the register's rows from a table the
# decision fills first, the writes take their rows as arrays):
#   * the examples of docs/applications.md (one per method: a commercial
#     import, a board replacement, an additional IMEI, ..., and an
#     application with three mistakes) answer and write as on one node
#     (test/sql/applications_examples.sql against its expected output);
#   * a commercial import of 10,000 devices (20,000 grey IMEIs on the
#     shards of both workers), its fee requested and paid
#     (request_payment(), record_payment()), approved: every IMEI white by lawful_import
#     with its import, its device and its history row on its shard;
#   * a rejected application changes nothing.
# The cluster: test/citus/cluster.bash (SKIPPED, exit 77, without Citus).
set -euo pipefail
name=citus_decisions
. "$(dirname "$0")/cluster.bash"
cd "$(dirname "$0")/../.."

# ---- decide_application(): the examples, as on one node ----
out=$(mktemp)
"$bin/psql" -X -a -q -h "$base/coord" -p 5432 -U postgres -d registry \
    -f test/sql/applications_examples.sql >"$out" 2>&1 || true
diff -u expected/applications_examples.out "$out" >&2 ||
    { rm -f "$out"; fail "the examples of the applications on Citus differ from one node's (above)"; }
rm -f "$out"
echo "$name: decide_application() from the coordinator: the examples of every method (commercial import, board replacement, additional IMEI, ...) and one with three mistakes decided and written as on one node"

# ---- a commercial import of 10,000 devices, 20,000 IMEIs ----
got=$(paid_commercial_import coord 86000300 10000) ||
    fail "request_payment()/record_payment() on the coordinator"
set -- $got
app=$1
[ "${2:-}" = t ] || fail "the fee of application $app is not paid after record_payment(): ${2:-}"
got=$(q coord -c "SELECT count(DISTINCT p.groupid)
                    FROM imei_registry.registry r
                    JOIN pg_dist_placement p
                      ON p.shardid = get_shard_id_for_distribution_column('imei_registry.registry', r.imei)
                   WHERE r.imei::text LIKE '86000300%'")
[ "$got" = 2 ] || fail "the 20,000 grey IMEIs are on $got workers, not 2"
echo "$name: request_payment() and record_payment() from the coordinator: the fee of 10,000 devices paid"
hist0=$(q coord -c "SELECT count(*) FROM imei_registry.history")
t0=$(date +%s.%N)
got=$(q coord -c "SELECT imei_registry.decide_application($app) ->> 'decision'") || fail "decide_application() of 10,000 devices on the coordinator"
t1=$(date +%s.%N)
[ "$got" = approved ] || fail "the commercial import of 10,000 devices: $got"
got=$(q coord -c "SELECT status || ':' || reason || ':' || count(*) || ':' || count(DISTINCT device_id) || ':' ||
                         count(*) FILTER (WHERE application_id = $app AND import_id IS NOT NULL)
                    FROM imei_registry.registry WHERE imei::text LIKE '86000300%' GROUP BY status, reason")
[ "$got" = "white:lawful_import:20000:10000:20000" ] || fail "after the decision of 10,000 devices: $got"
got=$(q coord -c "SELECT count(*) FROM (SELECT device_id FROM imei_registry.registry
                   WHERE imei::text LIKE '86000300%' GROUP BY device_id
                   HAVING count(*) = 2 AND min(imei::text::bigint / 10) % 2 = 0
                      AND max(imei::text::bigint / 10) = min(imei::text::bigint / 10) + 1) d
                   JOIN imei_registry.devices dv USING (device_id)
                  WHERE dv.model = 'Dual Two' AND dv.sim_slots = 2")
[ "$got" = 10000 ] || fail "$got of 10,000 devices with their two IMEIs, model and slots"
got=$(q coord -c "SELECT count(*) - $hist0, count(*) FILTER (WHERE from_status = 'grey' AND to_status = 'white'
                                                              AND reason = 'lawful_import' AND application_id = $app)
                    FROM imei_registry.history" | tr '|' ' ')
[ "$got" = "20000 20000" ] || fail "history rows of the decision (new, grey -> white lawful_import): $got"
# each history row on its shard: on each worker, the application's rows of
# the local registry shards each have their history row in the co-located
# local history shard
total=0
for n in w1 w2; do
    rows=$(shard_pairs_sum "$n" "SELECT count(*) FROM %1\$s g WHERE g.application_id = $app")
    paired=$(shard_pairs_sum "$n" "SELECT count(*) FROM %1\$s g WHERE g.application_id = $app
                                      AND EXISTS (SELECT FROM %2\$s h WHERE h.imei = g.imei
                                                    AND h.application_id = $app AND h.to_status = 'white')")
    set -- "$rows" "$paired"
    [ "${1:-0}" -gt 0 ] && [ "$1" = "$2" ] || fail "$n: of its ${1:-?} rows of the application, ${2:-?} with their history row on the co-located shard"
    total=$((total + $1))
done
[ "$total" = 20000 ] || fail "the workers hold $total rows of the application, not 20,000"
printf '%s: decide_application() of a commercial import of 10,000 devices (20,000 grey IMEIs on both workers) from the coordinator: approved in %.1f s, every IMEI white (lawful_import) with its import, its device (10,000, two IMEIs each) and its history row on its shard\n' \
    "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"

# ---- a rejected application changes nothing ----
q coord -c "INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
            VALUES (imei_registry.imei_from_body('86000301000001'), 'grey', 'unverified', now())" >/dev/null
before=$(q coord -c "SELECT (SELECT count(*) FROM imei_registry.history) || ':' || (SELECT count(*) FROM imei_registry.devices) || ':' ||
                            (SELECT count(*) FROM imei_registry.imports) || ':' ||
                            (SELECT string_agg(status || '/' || reason, ',') FROM imei_registry.registry WHERE imei::text LIKE '86000301%')")
got=$(q coord -c "SET imei_registry.require_signature = off" -c "
    SELECT d ->> 'decision' || ':' || (SELECT string_agg(r ->> 'code', ',') FROM jsonb_array_elements(d -> 'reasons') r)
      FROM imei_registry.decide_application(imei_registry.submit_application(jsonb_build_object(
        'applicant', jsonb_build_object('kind', 'individual', 'id', '901123300258'),
        'method', 'accompanied_baggage', 'import_date', '2025-06-01', 'exporting_country', 'AE',
        'documents', jsonb_build_array(jsonb_build_object('type', 'photo')),
        'devices', jsonb_build_array(jsonb_build_object('imeis', jsonb_build_array(
            imei_registry.imei_from_body('86000301000001')::text)))))) d")
case $got in rejected:*) ;; *) fail "an application with only a photo: $got" ;; esac
after=$(q coord -c "SELECT (SELECT count(*) FROM imei_registry.history) || ':' || (SELECT count(*) FROM imei_registry.devices) || ':' ||
                           (SELECT count(*) FROM imei_registry.imports) || ':' ||
                           (SELECT string_agg(status || '/' || reason, ',') FROM imei_registry.registry WHERE imei::text LIKE '86000301%')")
[ "$after" = "$before" ] || fail "a rejected application changed history:devices:imports:its IMEI from $before to $after"
echo "$name: a rejected application ($got) from the coordinator changes nothing: no history row, device or import, its IMEI stays grey"

echo "$name: passed"
