# check_imei() against a bare primary-key lookup of the same rows, measured
# one way for every bench that reports it (bench/registry.sh, bench/bulk.sh):
# pgbench -M prepared, one warm-up run, then two runs of each, alternating;
# the ratio of the means.  Source it, then
#   check_vs_pk DB FIRST COUNT CLIENTS SECONDS
# where the IMEIs are imei_from_body((FIRST + n)::text) for n in 1..COUNT:
# prints "check_imei, C clients: PK lookup T tps  check_imei T tps  (check/PK R)".
# The ratio depends on the rows: a grey row past its last day also asks
# whether a pending application holds it; say which rows a bench reads.
check_vs_pk() {
    local db=$1 first=$2 count=$3 clients=$4 seconds=$5 dir pk1 pk2 ck1 ck2 pk ck
    dir=$(mktemp -d /tmp/imei_check_bench.XXXXXX)
    chmod 755 "$dir"
    cat >"$dir/pk.sql" <<SQL
\\set n random(1, $count)
SELECT status, reason, since, grey_last_day FROM imei_registry.registry WHERE imei OPERATOR(pg_catalog.=) imei_registry.imei_from_body(($first + :n)::text);
SQL
    cat >"$dir/check.sql" <<SQL
\\set n random(1, $count)
SELECT * FROM imei_registry.check_imei(imei_registry.imei_from_body(($first + :n)::text));
SQL
    _check_tps() {
        pgbench -n -M prepared -c "$clients" -j "$clients" -T "$seconds" -f "$1" "$db" 2>/dev/null |
            sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
    }
    _check_tps "$dir/pk.sql" >/dev/null     # warm up
    pk1=$(_check_tps "$dir/pk.sql"); ck1=$(_check_tps "$dir/check.sql")
    pk2=$(_check_tps "$dir/pk.sql"); ck2=$(_check_tps "$dir/check.sql")
    rm -rf "$dir"
    pk=$(echo "($pk1 + $pk2) / 2" | bc -l); ck=$(echo "($ck1 + $ck2) / 2" | bc -l)
    printf 'check_imei, %d client(s): PK lookup %7.0f tps (%s, %s)  check_imei %7.0f tps (%s, %s)  (check/PK %.2f, target >= 1.00)\n' \
        "$clients" "$pk" "$pk1" "$pk2" "$ck" "$ck1" "$ck2" "$(echo "$ck / $pk" | bc -l)"
}
