# Shared by the benches that count instructions (bench/*_callgrind.sh):
# single-user backends (postgres --single) of a scratch cluster of their
# own, with fsync off, shared_buffers 512MB and jit off (cg_opts; a bench
# may add settings).  Source it after setting PG_BIN: it makes $work
# (removed on exit unless KEEP_WORK is set) with the cluster in $D.
#   single DB           runs the statements of stdin (one per line) in DB;
#                       fails on an error
#   cg_run DB NAME      the same under callgrind: prints the instructions;
#                       the profile is $work/NAME.out, the output
#                       $work/NAME.stdout; fails on an error
#   cg DB NAME STMT...  cg_run of the statements given
#   cg_keep FILE...     copies profiles of $work to $CALLGRIND_KEEP if set
# (postgres refuses to run as root: as root, the bench runs again as the
# clusters' owner, postgres, with the same settings; scripts/bench runs it so)
if [ "$(id -u)" -eq 0 ]; then
    exec runuser -u postgres -m -- bash "$0" "$@"
fi
cg_opts=(-c fsync=off -c shared_buffers=512MB -c jit=off)
work=$(mktemp -d /tmp/imei_callgrind.XXXXXX)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
D=$work/data
"$PG_BIN/initdb" -D "$D" -U postgres -A trust >/dev/null

single() {
    "$PG_BIN/postgres" --single -D "$D" "${cg_opts[@]}" "$1" >"$work/single.log" 2>&1
    if grep -E "ERROR|FATAL" "$work/single.log" >&2; then return 1; fi
}
cg_run() {
    valgrind --tool=callgrind --callgrind-out-file="$work/$2.out" \
        "$PG_BIN/postgres" --single -D "$D" "${cg_opts[@]}" "$1" >"$work/$2.stdout" 2>"$work/$2.log"
    if grep -E "ERROR|FATAL" "$work/$2.stdout" >&2; then return 1; fi
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/$2.log"
}
cg() {
    local db=$1 name=$2
    shift 2
    printf '%s\n' "$@" | cg_run "$db" "$name"
}
cg_keep() {
    local f
    [ -n "${CALLGRIND_KEEP:-}" ] || return 0
    for f in "$@"; do cp "$work/$f" "$CALLGRIND_KEEP"/; done
}
