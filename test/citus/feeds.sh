#!/usr/bin/env bash
# The feeds on Citus (docs/scale-out.md, "The sharded feed"): a coordinator
# and two workers (Unix sockets only, run as the clusters' owner), then
#   * changes() refuses a distributed registry (0A000, its hint naming
#     changes_sharded());
#   * changes_sharded(), read in pages of 7 from '{}' and resumed with the
#     position of the last row, returns every committed change exactly once,
#     each shard's rows in their (xid, id) order on the node that holds it;
#   * an open transaction holding an xid on w1 holds back only the rows of
#     w1's shards that it must (those after it); w2's flow on, and all come
#     once it ends;
#   * across shard moves (citus_move_shard_placement from w1 to w2 by
#     logical replication, Citus's default, and back with block_writes): until rebase_feeds() the
#     moved shard is neither read (55000) nor written (55000); after it the
#     reader resumes with its position and gets exactly the rows it had not
#     had, then the new ones;
#   * exceptions() on the coordinator reads its placement of pair_history
#     with the single-node guarantee; on a worker it, and pair_subscriber(),
#     are refused (0A000);
#   * operator_is_mine() is granted to imei_registry_operator on every node
#     by the extension itself.
# The cluster: test/citus/cluster.bash (SKIPPED, exit 77, without Citus).
set -euo pipefail
name=citus_feeds
# a shard move by logical replication (Citus's default where a table has a
# replica identity) needs it
cluster_conf="wal_level = logical"
. "$(dirname "$0")/cluster.bash"

reg="imei_registry"
imei() { q coord -c "SELECT $reg.imei_from_body('86000031' || lpad('$1', 6, '0'))"; }

# ---- changes() refuses, with the way out ----
err=$(q coord -c "\set VERBOSITY verbose" -c "SELECT * FROM $reg.changes(0, 10)" 2>&1) &&
    fail "changes() answered on a distributed registry"
case $err in *"ERROR:  0A000: changes() cannot order the history of a distributed registry"*"HINT:  Read imei_registry.changes_sharded(after jsonb, max_rows)"*) ;;
    *) fail "changes() on a distributed registry: $err" ;; esac
echo "$name: changes() refuses a distributed registry (0A000, hint: changes_sharded())"

# ---- the reader: pages of 7, resumed with the last row's position ----
pos='{}'
got=$base/delivered
: >"$got"
# read_feed: pages until one is empty; the rows appended to $got
read_feed() {
    local page last
    while :; do
        page=$(q coord -c "SELECT shard, id, imei, to_status, position_after
                             FROM $reg.changes_sharded('$pos', 7)")
        [ -n "$page" ] || return 0
        printf '%s\n' "$page" | cut -d'|' -f1-4 >>"$got"
        last=$(printf '%s\n' "$page" | tail -1)
        pos=${last##*|}
    done
}
# check_order: every history row delivered exactly once, each shard's in
# the (xid, id) order of its node
check_order() {
    local want n dup
    dup=$(cut -d'|' -f2 "$got" | sort | uniq -d | wc -l)
    [ "$dup" = 0 ] || fail "$1: $dup ids delivered more than once"
    n=$(wc -l <"$got")
    want=$(q coord -c "SELECT count(*) FROM $reg.history")
    [ "$n" = "$want" ] || fail "$1: $n rows delivered, the history has $want"
    # per shard, the node's (xid, id) order against the order delivered
    local shard
    for shard in $(cut -d'|' -f1 "$got" | sort -u); do
        local node delivered
        delivered=$(awk -F'|' -v s="$shard" '$1 == s { print $2 }' "$got" | paste -sd,)
        node=$(q coord -c "SELECT result FROM run_command_on_shards('$reg.history',
                  \$c\$SELECT string_agg(id::text, ',' ORDER BY xid, id) FROM %s\$c\$)
                            WHERE shardid = $shard")
        [ "$delivered" = "$node" ] || fail "$1: shard $shard delivered out of its (xid, id) order"
    done
}

# ---- every change once, in order, in pages ----
q coord -c "INSERT INTO $reg.registry (imei, status, reason, note)
            SELECT $reg.imei_from_body('86000031' || lpad(g::text, 6, '0')), 'black', 'counterfeit', 'feeds'
              FROM generate_series(1, 300) g" >/dev/null
# 100 more, one transaction each (their ids out of commit order across nodes)
for g in $(seq 1 100); do
    echo "UPDATE $reg.registry SET status = 'white', reason = 'reinstated', note = 'court order'
           WHERE imei = $reg.imei_from_body('86000031' || lpad('$g', 6, '0'));"
done | q coord >/dev/null
read_feed
check_order "first reading"
shards=$(cut -d'|' -f1 "$got" | sort -u | wc -l)
echo "$name: changes_sharded() in pages of 7: $(wc -l <"$got") changes, each once, in each of $shards shards' (xid, id) order; callable as an operator"
# as an operator (SECURITY DEFINER: the shards are read as the owner)
q coord -c "CREATE ROLE feeds_reader LOGIN" -c "GRANT imei_registry_operator TO feeds_reader" >/dev/null
[ "$("$bin/psql" -X -q -At -h "$base/coord" -p 5432 -U feeds_reader -d registry \
      -c "SELECT count(*) FROM $reg.changes_sharded('{}', 3)")" = 3 ] ||
    fail "changes_sharded() as an operator"

# the position is checked: unknown shard, a never-returned id, a bad shape
err=$(q coord -c "SELECT * FROM $reg.changes_sharded('{\"1\": 5}')" 2>&1) && fail "a position of an unknown shard was taken"
case $err in *"position names shards that imei_registry.history does not have: 1"*) ;; *) fail "unknown shard: $err" ;; esac
s1=$(cut -d'|' -f1 "$got" | head -1)
err=$(q coord -c "SELECT * FROM $reg.changes_sharded('{\"$s1\": 12345}')" 2>&1) && fail "a never-returned id was taken"
case $err in *"change 12345 was never returned by changes_sharded() for shard $s1"*) ;; *) fail "never-returned id: $err" ;; esac
err=$(q coord -c "SELECT * FROM $reg.changes_sharded('[1]')" 2>&1) && fail "a position that is not an object was taken"
case $err in *"after must be an object of shard ids"*) ;; *) fail "bad position: $err" ;; esac
echo "$name: positions refused: an unknown shard, an id never returned, not an object (22023)"

# ---- an open transaction on w1 holds back only w1's rows after it ----
# IMEIs by node: the shard of each, and where it is
on_node() {   # on_node NODE N: N IMEIs of 1..300 whose registry shard is on NODE
    q coord -c "SELECT g FROM generate_series(101, 300) g,
                  LATERAL (SELECT nodename FROM citus_shards c
                            WHERE c.shardid = get_shard_id_for_distribution_column('$reg.registry',
                                      $reg.imei_from_body('86000031' || lpad(g::text, 6, '0')))) s
                 WHERE s.nodename = '$base/$1' ORDER BY g LIMIT $2"
}
mapfile -t w1_imeis < <(on_node w1 11)
mapfile -t w2_imeis < <(on_node w2 10)
fifo=$base/open_tx
mkfifo "$fifo"
"$bin/psql" -X -q -At -h "$base/coord" -p 5432 -U postgres -d registry <"$fifo" >/dev/null 2>&1 &
holder=$!
exec 3>"$fifo"
echo "BEGIN; UPDATE $reg.registry SET status = 'white', reason = 'reinstated', note = 'held'
      WHERE imei = $reg.imei_from_body('86000031' || lpad('${w1_imeis[0]}', 6, '0'));" >&3
for _ in $(seq 100); do
    [ "$(q w1 -c "SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND state LIKE 'idle in transaction%'")" -ge 1 ] && break
    sleep 0.1
done
[ "$(q w1 -c "SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND state LIKE 'idle in transaction%'")" -ge 1 ] ||
    fail "the open transaction holds no xid on w1"
for g in "${w1_imeis[@]:1}" "${w2_imeis[@]}"; do
    echo "UPDATE $reg.registry SET status = 'white', reason = 'reinstated', note = 'later'
           WHERE imei = $reg.imei_from_body('86000031' || lpad('$g', 6, '0'));"
done | q coord >/dev/null
before=$(wc -l <"$got")
read_feed
held_w2=$(tail -n +$((before + 1)) "$got" | awk -F'|' '{ print $3 }' | sort)
want_w2=$(for g in "${w2_imeis[@]}"; do imei "$g"; done | sort)
[ "$held_w2" = "$want_w2" ] ||
    fail "with a transaction open on w1, delivered: $(tail -n +$((before + 1)) "$got" | wc -l) rows, not w2's 10"
echo "$name: a transaction open on w1: w2's 10 later changes delivered, w1's 10 held back"
echo "COMMIT;" >&3
exec 3>&-
wait "$holder"
before=$(wc -l <"$got")
read_feed
[ "$(tail -n +$((before + 1)) "$got" | wc -l)" = 11 ] ||
    fail "after the commit: $(tail -n +$((before + 1)) "$got" | wc -l) rows, not w1's 10 and the held one"
check_order "after the open transaction"
echo "$name: its commit: w1's 10 and its own change delivered, every change once, in order"

# ---- shard moves (the rows' xids stay the source node's: re-based) ----
# a shard of w1 with rows, read half-way: the reader's position is inside it
shard=$(for s in $(q coord -c "SELECT shardid FROM citus_shards
                               WHERE table_name = '$reg.history'::regclass AND nodename = '$base/w1'"); do
            echo "$(awk -F'|' -v s="$s" '$1 == s' "$got" | wc -l) $s"
        done | sort -n | tail -1 | cut -d' ' -f2)
regshard=$(q coord -c "SELECT r.shardid FROM pg_dist_shard r JOIN pg_dist_shard h USING (shardminvalue)
                        WHERE h.shardid = $shard AND r.logicalrelid = '$reg.registry'::regclass")
mapfile -t moved_imeis < <(q w1 -c "SET citus.override_table_visibility = off" \
    -c "SELECT imei FROM $reg.registry_$regshard ORDER BY imei LIMIT 6")
[ "${#moved_imeis[@]}" -ge 6 ] || fail "shard $shard has fewer than 6 IMEIs"
upd() {   # upd NODE NOTE IMEI...: a change of each, one transaction each
    local n=$1 note=$2
    shift 2
    for i in "$@"; do
        echo "UPDATE $reg.registry SET status = CASE status WHEN 'white' THEN 'black'::$reg.status ELSE 'white' END,
                     reason = CASE status WHEN 'white' THEN 'counterfeit' ELSE 'reinstated' END,
                     note = '$note' WHERE imei = '$i';"
    done | q "$n" >/dev/null
}
upd coord "before the move" "${moved_imeis[@]}"
# read until the reader is inside the shard's new rows: 3 of its 6
before=$(wc -l <"$got")
while [ "$(tail -n +$((before + 1)) "$got" | awk -F'|' -v s="$shard" '$1 == s' | wc -l)" -lt 3 ]; do
    page=$(q coord -c "SELECT shard, id, imei, to_status, position_after FROM $reg.changes_sharded('$pos', 1)")
    [ -n "$page" ] || fail "the feed ended before the moved shard's rows"
    printf '%s\n' "$page" | cut -d'|' -f1-4 >>"$got"
    pos=${page##*|}
done
# w2's xids far from w1's
for _ in $(seq 40); do q w2 -c "SELECT txid_current()" >/dev/null; done
q coord -c "SELECT citus_move_shard_placement($shard, '$base/w1', 5432, '$base/w2', 5432)" >/dev/null
[ "$(q coord -c "SELECT nodename FROM citus_shards WHERE shardid = $shard")" = "$base/w2" ] ||
    fail "shard $shard did not move to w2"
err=$(q coord -c "\set VERBOSITY verbose" -c "SELECT * FROM $reg.changes_sharded('$pos')" 2>&1) &&
    fail "the moved shard was read before rebase_feeds()"
case $err in *"ERROR:  55000: shard $shard of imei_registry.history is not re-based"*"rebase_feeds()"*) ;;
    *) fail "reading the moved shard before rebase_feeds(): $err" ;; esac
err=$(upd coord "refused" "${moved_imeis[0]}" 2>&1) && fail "the moved shard was written before rebase_feeds()"
case $err in *"is not re-based for the feed"*) ;; *) fail "writing the moved shard before rebase_feeds(): $err" ;; esac
q coord -c "CALL $reg.rebase_feeds()"
[ "$(q coord -c "SELECT groupid FROM $reg.feed_shards WHERE shardid = $shard")" = \
  "$(q coord -c "SELECT groupid FROM pg_dist_placement WHERE shardid = $shard")" ] ||
    fail "rebase_feeds() did not list shard $shard on w2's group"
echo "$name: shard $shard moved to w2 (logical replication): neither read nor written (55000) until CALL rebase_feeds()"
upd coord "after the move" "${moved_imeis[@]}"
read_feed
check_order "after the move to w2"
echo "$name: resumed across the move: the 3 rows not yet read, the 6 written on w2, every change once, in order"

# and back, by block_writes, with rows of both nodes in it
upd coord "before the move back" "${moved_imeis[@]:0:2}"
q coord -c "SELECT citus_move_shard_placement($shard, '$base/w2', 5432, '$base/w1', 5432,
                                             shard_transfer_mode => 'block_writes')" >/dev/null
q coord -c "CALL $reg.rebase_feeds()"
upd coord "after the move back" "${moved_imeis[@]:2:2}"
read_feed
check_order "after the move back to w1"
# a second call changes nothing
q coord -c "CALL $reg.rebase_feeds()"
before=$(wc -l <"$got")
read_feed
[ "$(wc -l <"$got")" = "$before" ] || fail "a second rebase_feeds() made rows come again"
echo "$name: moved back to w1 (block_writes), re-based: every change once, in order ($(wc -l <"$got") in all)"

# ---- exceptions(): the coordinator's placement; refused on a worker ----
q coord <<SQL >/dev/null
INSERT INTO $reg.operators VALUES ('feeds_op', 'Feeds operator');
INSERT INTO $reg.operator_networks VALUES ('40177', 'feeds_op');
SQL
for g in 1 2 3 4 5; do
    q coord -c "SELECT $reg.pair_subscriber($reg.imei_from_body('86000031' || lpad('$g', 6, '0')), '4017712345678$g')" >/dev/null
done
q coord -c "SELECT $reg.unpair_subscriber($reg.imei_from_body('86000031000002'), '40177123456782')" >/dev/null
ex=""
after=0
while :; do
    page=$(q coord -c "SELECT id, action FROM $reg.exceptions('feeds_op', $after, 2)")
    [ -n "$page" ] || break
    ex+="$page"$'\n'
    after=$(printf '%s\n' "$page" | tail -1 | cut -d'|' -f1)
done
want=$(q coord -c "SELECT id || '|' || action FROM $reg.pair_history WHERE operator = 'feeds_op' ORDER BY xid, id")
[ "${ex%$'\n'}" = "$want" ] || fail "exceptions() on the coordinator: ${ex//$'\n'/ } against $want"
for n in w1 w2; do
    err=$(q "$n" -c "\set VERBOSITY verbose" -c "SELECT * FROM $reg.exceptions('feeds_op', 0)" 2>&1) &&
        fail "exceptions() answered on $n"
    case $err in *"ERROR:  0A000: exceptions() of a distributed registry answers on the Citus coordinator only"*) ;;
        *) fail "exceptions() on $n: $err" ;; esac
    err=$(q "$n" -c "SELECT $reg.pair_subscriber($reg.imei_from_body('86000031000009'), '401771234567899')" 2>&1) &&
        fail "pair_subscriber() answered on $n"
    case $err in *"changed on the Citus coordinator only"*) ;; *) fail "pair_subscriber() on $n: $err" ;; esac
done
echo "$name: exceptions() on the coordinator: 6 changes of pairs in pages of 2, in order; refused on the workers (0A000), as pair_subscriber() there"

# ---- operator_is_mine() granted on every node by the extension ----
for n in $nodes; do
    [ "$(q "$n" -c "SELECT has_function_privilege('imei_registry_operator', '$reg.operator_is_mine(text)', 'EXECUTE')")" = t ] ||
        fail "operator_is_mine() is not granted to imei_registry_operator on $n"
done
echo "$name: operator_is_mine() granted to imei_registry_operator on the coordinator and both workers"
echo "$name: PASSED"
