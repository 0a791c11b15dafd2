#!/usr/bin/env bash
# The registry's writers on Citus (docs/scale-out.md, "Citus"), from the
# coordinator of a coordinator and two workers:
#   * every COPY target but upload_connections (test/citus/registry.sh):
#     upload_tac and upload_blocklist (the GSMA lists), upload_devices,
#     upload_sightings, each with one check of its effect; upload_blocklist
#     by batch (two batches of 1,000 lines on both workers' shards, then
#     one with rejects), and meeting a concurrent change of a row it read;
#   * report_connection() with a home IMSI (its sighting recorded), the
#     subscriber actions (grey_reminders(), suspected_clones(),
#     black_in_use()), pair_subscriber() and unpair_subscriber();
#   * pair_history append-only on its placements: UPDATE, DELETE and
#     TRUNCATE refused with 42501 from the coordinator and on the workers;
#   * restore_registry() refused (0A000);
#   * pg_cron on the coordinator runs the grey expiry (when pg_cron is
#     installed for that PostgreSQL; otherwise that check is skipped).
# The cluster: test/citus/cluster.bash (SKIPPED, exit 77, without Citus).
set -euo pipefail
name=citus_loaders
. "$(dirname "$0")/cluster.bash"
cd "$(dirname "$0")/../.."

# ---- the COPY targets, from the coordinator ----
# (upload_connections: test/citus/registry.sh)
q coord <<'SQL' >/dev/null
SET search_path = imei_registry;
INSERT INTO operators VALUES ('citus_op', 'Citus test operator');
INSERT INTO operator_networks (plmn, operator) VALUES ('40177', 'citus_op');
SQL
# copy TARGET LINES...: a COPY (csv) from the coordinator; prints its notice
copy() {
    local target=$1
    shift
    printf '%s\n' "$@" | q coord -c "SET client_min_messages = notice" \
        -c "COPY imei_registry.$target FROM STDIN WITH (FORMAT csv)" 2>&1
}
# upload_tac (the GSMA TAC database): a new TAC and a changed one
q coord -c "INSERT INTO imei_registry.tac VALUES ('86000401', 'Citus', 'Old name', 'smartphone', 1)" >/dev/null
got=$(copy upload_tac '86000400,Citus,Tri,smartphone,3' '86000401,Citus,New name,feature phone,1') ||
    fail "COPY upload_tac on the coordinator: $got"
case $got in *"2 rows read, 2 loaded (0 already present), 0 rejected"*) ;; *) fail "COPY upload_tac: $got" ;; esac
got=$(q coord -c "SELECT string_agg(tac || ':' || model || ':' || sim_slots, ' ' ORDER BY tac) FROM imei_registry.tac WHERE tac LIKE '8600040_'")
[ "$got" = "86000400:Tri:3 86000401:New name:1" ] || fail "the TACs after upload_tac: $got"
echo "$name: COPY upload_tac (GSMA TAC database) on the coordinator: a new TAC inserted, a changed one updated"

# upload_blocklist (GSMA block list): a grey IMEI and a new one go black
# (gsma_blocked), each with its history row; one already black is present
i_grey=$(q coord -c "SELECT imei_registry.imei_from_body('86000402000001')")
i_new=$(q coord -c "SELECT imei_registry.imei_from_body('86000402000002')")
i_black=$(q coord -c "SELECT imei_registry.imei_from_body('86000402000003')")
q coord -c "INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at) VALUES ('$i_grey', 'grey', 'unverified', now())" \
        -c "INSERT INTO imei_registry.registry (imei, status, reason) VALUES ('$i_black', 'black', 'counterfeit')" >/dev/null
got=$(copy upload_blocklist "$i_grey,2026-11-20,stolen" "$i_new,2026-11-20," "$i_black,2026-11-20,lost") ||
    fail "COPY upload_blocklist on the coordinator: $got"
case $got in *"3 rows read, 3 loaded (1 already present), 0 rejected"*) ;; *) fail "COPY upload_blocklist: $got" ;; esac
got=$(q coord -c "SELECT string_agg(r.status || ':' || r.reason || ':' ||
                         (SELECT string_agg(coalesce(h.from_status::text, '-') || '>' || h.to_status, ',' ORDER BY h.id)
                            FROM imei_registry.history h WHERE h.imei = r.imei), ' ' ORDER BY r.imei)
                    FROM imei_registry.registry r WHERE r.imei IN ('$i_grey', '$i_new', '$i_black')")
[ "$got" = "black:gsma_blocked:->grey,grey>black black:gsma_blocked:->black black:counterfeit:->black" ] ||
    fail "the IMEIs after upload_blocklist: $got"
echo "$name: COPY upload_blocklist (GSMA block list) on the coordinator: a grey IMEI and a new one black (gsma_blocked) with their history rows, a black one already present"

# upload_blocklist by batch: 1,000 grey IMEIs and 1,000 new ones (two
# batches, the shards of both workers), then a batch of a line repeated
# from the first batch (duplicate_in_file), a new IMEI by grey_expired (the
# rules refuse it: forbidden_transition), a black one already present and a
# new one.  Each batch of the first two is one read, one INSERT and one
# UPDATE per shard, without subtransactions; it was a routed statement and
# a subtransaction per line (a SAVEPOINT on every connection of the load).
q coord -c "INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
            SELECT imei_registry.imei_from_body('86000407' || lpad(g::text, 6, '0')), 'grey', 'unverified', now()
              FROM generate_series(1, 1000) g" \
        -c "INSERT INTO imei_registry.registry (imei, status, reason)
            VALUES (imei_registry.imei_from_body('86000409000002'), 'black', 'counterfeit')" >/dev/null
q coord -c "COPY (SELECT imei_registry.imei_from_body(CASE WHEN g % 2 = 1 THEN '86000407' ELSE '86000408' END
                                                    || lpad(((g + 1) / 2)::text, 6, '0')) || ',2026-11-21,stolen'
                  FROM generate_series(1, 2000) g) TO STDOUT" >"$base/blocklist.csv"
{ sed -n 1p "$base/blocklist.csv"
  echo "$(q coord -c "SELECT imei_registry.imei_from_body('86000409000001')"),2026-11-21,grey_expired"
  echo "$(q coord -c "SELECT imei_registry.imei_from_body('86000409000002')"),2026-11-21,lost"
  echo "$(q coord -c "SELECT imei_registry.imei_from_body('86000409000003')"),2026-11-21,stolen"; } >>"$base/blocklist.csv"
got=$(q coord -c "SET client_min_messages = notice" -c "SET citus.log_remote_commands = on" \
          -c "\\copy imei_registry.upload_blocklist from '$base/blocklist.csv' with (format csv)" 2>&1) ||
    fail "COPY upload_blocklist of 2,004 lines on the coordinator: $(printf '%s\n' "$got" | grep -v 'issuing\|DETAIL' | head -5)"
case $got in *"2004 rows read, 2002 loaded (1 already present), 2 rejected"*) ;;
    *) fail "COPY upload_blocklist of 2,004 lines: $(printf '%s\n' "$got" | grep 'rows read')" ;; esac
updates=$(printf '%s\n' "$got" | grep -c 'issuing UPDATE imei_registry.registry_' || true)
savepoints=$(printf '%s\n' "$got" | grep -c 'issuing SAVEPOINT' || true)
[ "$updates" -le 64 ] || fail "COPY upload_blocklist: $updates UPDATEs of registry shards for two batches of 32 shards"
[ "$savepoints" -lt 2004 ] || fail "COPY upload_blocklist: $savepoints SAVEPOINTs for 2,004 lines"
id=$(q coord -c "SELECT max(import_id) FROM imei_registry.imports")
got=$(q coord -c "SELECT string_agg(line_number || ':' || reason, ' ' ORDER BY line_number) FROM imei_registry.import_rejects WHERE import_id = $id")
[ "$got" = "2001:duplicate_in_file 2002:forbidden_transition" ] || fail "the rejects of the block list: $got"
got=$(q coord -c "SELECT count(*) FILTER (WHERE status = 'black' AND reason = 'gsma_blocked' AND import_id = $id
                                          AND note = 'GSMA block list 2026-11-21: stolen') || ' ' ||
                         count(*) FILTER (WHERE status = 'black' AND reason = 'counterfeit') || ' ' || count(*)
                    FROM imei_registry.registry WHERE imei::text ~ '^860004(07|08|09)'")
[ "$got" = "2001 1 2002" ] || fail "the IMEIs after the block list (black by it, black present, all): $got"
got=$(q coord -c "SELECT count(*) FILTER (WHERE from_status = 'grey' AND to_status = 'black') || ' ' ||
                         count(*) FILTER (WHERE from_status IS NULL AND to_status = 'black') || ' ' || count(*)
                    FROM imei_registry.history WHERE import_id = $id")
[ "$got" = "1000 1001 2001" ] || fail "the history rows of the block list (grey > black, new black, all): $got"
on_w1=$(shard_pairs_sum w1 "SELECT count(*) FROM %1\$s r JOIN %2\$s h ON h.imei = r.imei WHERE r.import_id = $id AND h.import_id = $id")
on_w2=$(shard_pairs_sum w2 "SELECT count(*) FROM %1\$s r JOIN %2\$s h ON h.imei = r.imei WHERE r.import_id = $id AND h.import_id = $id")
[ "$on_w1" -gt 0 ] && [ "$on_w2" -gt 0 ] || fail "the block list's rows on w1, w2: $on_w1, $on_w2"
got=$((on_w1 + on_w2))
[ "$got" = 2001 ] || fail "history rows beside their registry rows on the workers: $got"
echo "$name: COPY upload_blocklist of 2,004 lines by batch on the coordinator ($updates UPDATEs of registry shards, $savepoints SAVEPOINTs): 1,000 grey and 1,001 new IMEIs black with their history rows on their shards, a duplicate and a refused line rejected, a black one present"

# ... and a row changed by another session between the batch's read and its
# UPDATE: the UPDATE, guarded by the status and reason read, leaves it, and
# the row, decided again as it now is (black, counterfeit), is present
i_raced=$(q coord -c "SELECT imei_registry.imei_from_body('86000409000004')")
q coord -c "INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at) VALUES ('$i_raced', 'grey', 'unverified', now())" >/dev/null
q coord -c "BEGIN" -c "UPDATE imei_registry.registry SET status = 'black', reason = 'counterfeit' WHERE imei = '$i_raced'" \
        -c "SELECT pg_sleep(4)" -c "COMMIT" >/dev/null &
racer=$!
sleep 1.5
got=$(copy upload_blocklist "$i_raced,2026-11-22,stolen") || fail "COPY upload_blocklist meeting a concurrent change: $got"
wait "$racer" || fail "the concurrent change of $i_raced failed"
case $got in *"1 rows read, 1 loaded (1 already present), 0 rejected"*) ;;
    *) fail "COPY upload_blocklist meeting a concurrent change: $got" ;; esac
got=$(q coord -c "SELECT r.status || ':' || r.reason || ':' ||
                         (SELECT string_agg(coalesce(h.from_status::text, '-') || '>' || h.to_status || ':' || h.reason, ',' ORDER BY h.id)
                            FROM imei_registry.history h WHERE h.imei = r.imei)
                    FROM imei_registry.registry r WHERE r.imei = '$i_raced'")
[ "$got" = "black:counterfeit:->grey:unverified,grey>black:counterfeit" ] ||
    fail "an IMEI changed while the block list's batch ran: $got"
echo "$name: COPY upload_blocklist meeting a concurrent change on the coordinator: the batch's UPDATE leaves the changed row, which is then present as it now is"

# upload_devices: two devices added to a submitted application
app2=$(q coord -c "SET imei_registry.require_signature = off" -c "
    SELECT imei_registry.submit_application(jsonb_build_object(
        'applicant', jsonb_build_object('kind', 'individual', 'id', '871008401427'),
        'method', 'parcel', 'exporting_country', 'CN', 'delivery_service', 'China Post',
        'documents', jsonb_build_array(jsonb_build_object('type', 'tracking_number', 'number', 'RR123456785CN')),
        'devices', jsonb_build_array(jsonb_build_object('imeis',
            jsonb_build_array(imei_registry.imei_from_body('86000403000001')::text)))))")
d1=$(q coord -c "SELECT imei_registry.imei_from_body('86000403000002')")
d2=$(q coord -c "SELECT imei_registry.imei_from_body('86000403000003')")
d3=$(q coord -c "SELECT imei_registry.imei_from_body('86000403000004')")
got=$(copy upload_devices "$app2,Phone A,$d1,$d2,," "$app2,Phone B,$d3,,,") ||
    fail "COPY upload_devices on the coordinator: $got"
case $got in *"2 rows read, 2 loaded (0 already present), 0 rejected"*) ;; *) fail "COPY upload_devices: $got" ;; esac
got=$(q coord -c "SELECT string_agg(d.device_ord || ':' || coalesce(d.model, '-') || ':' ||
                         (SELECT string_agg(i.imei_text, ',' ORDER BY i.ord) FROM imei_registry.application_imeis i
                           WHERE i.application_id = d.application_id AND i.device_ord = d.device_ord), ' ' ORDER BY d.device_ord)
                    FROM imei_registry.application_devices d WHERE d.application_id = $app2")
[ "$got" = "1:-:$(q coord -c "SELECT imei_registry.imei_from_body('86000403000001')") 2:Phone A:$d1,$d2 3:Phone B:$d3" ] ||
    fail "the application's devices after upload_devices: $got"
echo "$name: COPY upload_devices on the coordinator: two devices appended to a submitted application, IMEIs in slot order"

# upload_sightings: a home subscriber's report of a new IMEI (grey, and
# its sighting), a visitor's (its sighting only)
s_home=$(q coord -c "SELECT imei_registry.imei_from_body('86000404000001')")
s_visit=$(q coord -c "SELECT imei_registry.imei_from_body('86000404000002')")
at=$(q coord -c "SELECT to_char(now() - interval '2 hours', 'YYYY-MM-DD\"T\"HH24:MI:SSOF')")
got=$(copy upload_sightings "citus_op,$s_home,$at,401770000000001,+77010000001" "citus_op,$s_visit,$at,250990000000002,") ||
    fail "COPY upload_sightings on the coordinator: $got"
case $got in *"2 rows read, 2 loaded (0 already present), 0 rejected"*) ;; *) fail "COPY upload_sightings: $got" ;; esac
got=$(q coord -c "SELECT string_agg(s.imei::text || ':' || s.imsi || ':' || s.msisdn || ':' ||
                         coalesce((SELECT r.status::text FROM imei_registry.registry r WHERE r.imei = s.imei), '-'), ' ' ORDER BY s.imei)
                    FROM imei_registry.sightings s WHERE s.imei IN ('$s_home', '$s_visit')")
[ "$got" = "$s_home:401770000000001:77010000001:grey $s_visit:250990000000002:0:-" ] ||
    fail "after upload_sightings: $got"
echo "$name: COPY upload_sightings on the coordinator: a home subscriber's report makes a new IMEI grey with its sighting, a visitor's is a sighting only"

# ---- report_connection() with an IMSI (record_sightings), from the coordinator ----
r_home=$(q coord -c "SELECT imei_registry.imei_from_body('86000405000001')")
got=$(q coord -c "SELECT imei_registry.report_connection('$r_home', 'citus_op', now() - interval '1 hour', '401770000000011', '+77010000011')") ||
    fail "report_connection() with an IMSI on the coordinator"
[ "$got" = grey ] || fail "report_connection() of a new IMEI with a home IMSI: $got"
got=$(q coord -c "SELECT count(*) FROM imei_registry.sightings WHERE imei = '$r_home' AND imsi = 401770000000011 AND msisdn = 77010000011 AND operator = 'citus_op'")
[ "$got" = 1 ] || fail "report_connection() with an IMSI left $got sightings rows"
echo "$name: report_connection() with a home IMSI from the coordinator: the new IMEI grey, its sighting recorded"

# ---- the subscriber actions, from the coordinator ----
days=$(q coord -c "SELECT grey_last_day - imei_registry.local_date(now()) FROM imei_registry.registry WHERE imei = '$r_home'")
got=$(q coord -c "SELECT string_agg(imei || ':' || imsi || ':' || msisdn || ':' || days_left, ' ')
                    FROM imei_registry.grey_reminders('citus_op', $days) WHERE imei = '$r_home'") ||
    fail "grey_reminders() on the coordinator"
[ "$got" = "$r_home:401770000000011:77010000011:$days" ] || fail "grey_reminders('citus_op', $days): $got"
# a device used by three home SIMs: a suspected clone
c_imei=$(q coord -c "SELECT imei_registry.imei_from_body('86000405000002')")
for k in 21 22 23; do
    q coord -c "SELECT imei_registry.report_connection('$c_imei', 'citus_op', now() - interval '1 hour', '4017700000000$k')" >/dev/null
done
got=$(q coord -c "SELECT imsis || ':' || operators::text FROM imei_registry.suspected_clones(30, 3) WHERE imei = '$c_imei'") ||
    fail "suspected_clones() on the coordinator"
[ "$got" = "3:{citus_op}" ] || fail "suspected_clones(30, 3): $got"
# a black IMEI in use, its subscriber left out once paired with it
q coord -c "SELECT imei_registry.report_connection('$i_new', 'citus_op', now(), '401770000000031')" >/dev/null
got=$(q coord -c "SELECT string_agg(imei || ':' || reason || ':' || imsi, ' ') FROM imei_registry.black_in_use('citus_op', imei_registry.local_date(now()) - 1)
                   WHERE imei = '$i_new'") || fail "black_in_use() on the coordinator"
[ "$got" = "$i_new:gsma_blocked:401770000000031" ] || fail "black_in_use(): $got"
echo "$name: grey_reminders(), suspected_clones() and black_in_use() from the coordinator: the reminder of a grey IMEI with its subscriber, a device of three home SIMs, a black IMEI in use"

# ---- pairing, from the coordinator ----
got=$(q coord -c "SELECT imei_registry.pair_subscriber('$i_new', '401770000000031')" \
              -c "SELECT imei_registry.pair_subscriber('$i_new', '401770000000031')" | tr '\n' ' ') ||
    fail "pair_subscriber() on the coordinator"
[ "$got" = "t f " ] || fail "pair_subscriber() twice: $got"
got=$(q coord -c "SELECT count(*) FROM imei_registry.black_in_use('citus_op', imei_registry.local_date(now()) - 1) WHERE imei = '$i_new'")
[ "$got" = 0 ] || fail "black_in_use() lists the paired owner's IMSI"
got=$(q coord -c "SELECT imei_registry.unpair_subscriber('$i_new', '401770000000031')")
[ "$got" = t ] || fail "unpair_subscriber(): $got"
got=$(q coord -c "SELECT (SELECT string_agg(paired::text || ':' || operator, ' ') FROM imei_registry.subscriber_pairs WHERE imei = '$i_new') || ' ' ||
                         (SELECT string_agg(action, ',' ORDER BY id) FROM imei_registry.pair_history WHERE imei = '$i_new')")
[ "$got" = "false:citus_op added,removed" ] || fail "the pair and its history: $got"
echo "$name: pair_subscriber() and unpair_subscriber() from the coordinator: the pair on its shard, its history added then removed, a paired owner not listed by black_in_use()"

# ---- pair_history append-only on its placements ----
# (the guard fires on the reference table's placement, pair_history_<shardid>:
# it knew only the table's name and refused with 39P01 before).  On a
# worker, straight on the placement, as a superuser whom Citus lets change
# shards by hand.
ph_shard=$(q coord -c "SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'imei_registry.pair_history'::regclass")
for stmt in "UPDATE imei_registry.pair_history SET action = 'added'" "DELETE FROM imei_registry.pair_history" \
            "TRUNCATE imei_registry.pair_history"; do
    op=${stmt%% *}
    err=$(q coord -c "\\set VERBOSITY verbose" -c "$stmt" 2>&1) && fail "$stmt ran on the coordinator"
    case $err in *"42501: $op on imei_registry.pair_history is not allowed"*) ;;
        *) fail "$stmt on the coordinator: $err" ;; esac
    placement_stmt=${stmt/imei_registry.pair_history/imei_registry.pair_history_$ph_shard}
    for n in w1 w2; do
        err=$(q "$n" -c "SET citus.override_table_visibility = off" \
                -c "SET citus.enable_manual_changes_to_shards = on" -c "\\set VERBOSITY verbose" \
                -c "$placement_stmt" 2>&1) && fail "$placement_stmt ran on $n"
        case $err in *"42501: $op on imei_registry.pair_history is not allowed"*) ;;
            *) fail "$placement_stmt on $n: $err" ;; esac
    done
done
got=$(q coord -c "SELECT string_agg(action, ',' ORDER BY id) FROM imei_registry.pair_history WHERE imei = '$i_new'")
[ "$got" = "added,removed" ] || fail "pair_history after the refused writes: $got"
echo "$name: pair_history append-only on Citus: UPDATE, DELETE and TRUNCATE refused with 42501 from the coordinator and on each worker's placement"

# ---- restore_registry(): refused on Citus ----
err=$(q coord -c "\\set VERBOSITY verbose" -c "CALL imei_registry.restore_registry()" 2>&1) &&
    fail "restore_registry() ran on Citus"
case $err in *"0A000: restore_registry() does not run where the registry is distributed (Citus)"*) ;;
    *) fail "restore_registry() on Citus: $err" ;; esac
echo "$name: restore_registry() refused on Citus (0A000, naming itself)"

# ---- the grey expiry by pg_cron on the coordinator ----
# pg_cron in the coordinator's shared_preload_libraries (after citus), its
# database the registry's, background workers; CREATE EXTENSION pg_cron on
# the coordinator only.  Grey IMEIs past their last day, the job every
# minute (pg_cron 1.4 has no seconds schedules: the wait is up to the next
# minute boundary), then its run, the IMEIs black with their history rows.
if [ -e "$("$bin/pg_config" --pkglibdir)/pg_cron.so" ]; then
    cat >>"$base/coord/data/postgresql.conf" <<CONF
shared_preload_libraries = 'citus,pg_cron'
cron.database_name = 'registry'
cron.use_background_workers = on
CONF
    as_cluster_owner "$bin/pg_ctl" -D "$base/coord/data" -l "$base/coord/server.log" -t 120 -w -m fast restart \
        >/dev/null || { cat "$base/coord/server.log" >&2; fail "the coordinator did not restart with pg_cron"; }
    q coord -c "SET citus.enable_ddl_propagation = off" -c "CREATE EXTENSION pg_cron" >/dev/null
    q coord -c "INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
                SELECT imei_registry.imei_from_body('86000406' || lpad(g::text, 6, '0')), 'grey', 'unverified', now() - interval '40 days'
                  FROM generate_series(1, 300) g" >/dev/null
    runs0=$(q coord -c "SELECT count(*) FROM imei_registry.grey_expiry_runs")
    job=$(q coord -c "SELECT imei_registry.schedule_grey_expiry('* * * * *')")
    status=
    for _ in $(seq 1 90); do
        status=$(q coord -c "SELECT string_agg(status, ',') FROM cron.job_run_details WHERE jobid = $job AND status IN ('succeeded', 'failed')")
        [ -n "$status" ] && break
        sleep 1
    done
    q coord -c "SELECT cron.unschedule($job)" >/dev/null
    case $status in
        succeeded*) ;;
        '') fail "no run of the cron job $job finished within 90 s" ;;
        *) fail "the cron job $job: $status: $(q coord -c "SELECT string_agg(return_message, ' ') FROM cron.job_run_details WHERE jobid = $job")" ;;
    esac
    got=$(q coord -c "SELECT count(*) FILTER (WHERE r.status = 'black' AND r.reason = 'grey_expired'
                                                AND EXISTS (SELECT FROM imei_registry.history h WHERE h.imei = r.imei
                                                               AND h.from_status = 'grey' AND h.to_status = 'black'))
                        FROM imei_registry.registry r WHERE r.imei::text LIKE '86000406%'")
    [ "$got" = 300 ] || fail "after the cron run: $got of 300 grey IMEIs past their last day black with their history row"
    got=$(q coord -c "SELECT count(*) - $runs0 FROM imei_registry.grey_expiry_runs WHERE finished_at IS NOT NULL")
    [ "$got" -ge 1 ] || fail "the cron run left no finished row in grey_expiry_runs"
    echo "$name: pg_cron on the coordinator: schedule_grey_expiry() job $job succeeded, 300 grey IMEIs past their last day black (grey_expired) with their history rows on their shards"
else
    echo "$name: pg_cron is not installed for $bin: its check skipped"
fi

echo "$name: passed"
