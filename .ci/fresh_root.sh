#!/usr/bin/env bash
# A new user's machine, for CI: a brand-new Debian root made by
# `debootstrap --variant=minbase` (plus git, as the user needs to clone),
# a git clone of the commit under test in /root, and one of the README's
# two commands run there as root.
#
#   .ci/fresh_root.sh SUITE test   scripts/test (PostgreSQL: whatever SUITE ships)
#   .ci/fresh_root.sh SUITE try    scripts/try, check the database is up, stop it
#   .ci/fresh_root.sh SUITE package  scripts/package: build the Debian package,
#                                  apt install it, pg_regress against it
#
# SUITE is a Debian suite (bookworm, trixie).  Nothing of the host's software
# goes into the root: only the base root, the clone (as a git bundle) and the
# host's downloaded .deb files (/var/cache/apt/archives, bind-mounted so that
# warm runs download nothing).  Each base root is cached as a tarball in
# $IMEI_CI_CACHE (default /var/cache/imei_registry-ci); delete it to rebuild.
# Must run as root.  Exits with the command's status.
set -euo pipefail
suite=${1:?usage: $0 SUITE test|try|package}
what=${2:?usage: $0 SUITE test|try|package}
case $what in test|try|package) ;; *) echo "$0: unknown command $what" >&2; exit 2;; esac
[ "$(id -u)" -eq 0 ] || { echo "$0: debootstrap, mount and chroot need root" >&2; exit 2; }
cd "$(dirname "$0")/.."

cache=${IMEI_CI_CACHE:-/var/cache/imei_registry-ci}
mirror=${IMEI_CI_MIRROR:-http://deb.debian.org/debian}
archives=/var/cache/apt/archives
base=$cache/$suite-minbase.tar.gz
# The commit under test: the one in $IMEI_CI_BUNDLE (a git bundle of HEAD
# that .ci/run makes once, so that every stage tests the same commit), else
# HEAD now.
bundle=${IMEI_CI_BUNDLE:-}

log() { printf '[%s %s] %s\n' "$suite" "$what" "$*" >&2; }

# The base root: bootstrapped once, then reused.  Built aside and renamed,
# so an interrupted build leaves no half tarball.
if [ ! -f "$base" ]; then
    log "bootstrapping a $suite minbase root (cached in $base)"
    mkdir -p "$cache"
    build=$(mktemp -d "$cache/build.XXXXXX")
    trap 'rm -rf --one-file-system "$build"' EXIT
    debootstrap --variant=minbase --include=git --cache-dir="$archives" \
        "$suite" "$build/root" "$mirror" >"$build/debootstrap.log" 2>&1 \
        || { tail -n 30 "$build/debootstrap.log" >&2; exit 1; }
    tar -C "$build/root" --numeric-owner -czf "$build/base.tar.gz" .
    mv "$build/base.tar.gz" "$base"
    rm -rf --one-file-system "$build"
    trap - EXIT
fi

root=$(mktemp -d /var/tmp/imei_registry-ci.XXXXXX)
mounts=()

# Stop whatever still runs in the root (a cluster first, cleanly), unmount
# in reverse order, and delete the root only when nothing is mounted in it.
cleanup() {
    local rc=$? pid m i
    for m in "$root"/tmp/*/data/postmaster.pid; do
        [ -f "$m" ] || continue
        chroot "$root" /usr/sbin/runuser -u postgres -- sh -c \
            'cd / && /usr/lib/postgresql/*/bin/pg_ctl -D "$1" -m fast -w stop' sh \
            "$(dirname "${m#"$root"}")" >/dev/null 2>&1 || true
    done
    for pid in /proc/[0-9]*; do
        [ "$(readlink "$pid/root" 2>/dev/null)" = "$root" ] || continue
        log "killing leftover process ${pid#/proc/}: $(tr '\0' ' ' <"$pid/cmdline" 2>/dev/null)"
        kill -KILL "${pid#/proc/}" 2>/dev/null || true
    done
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" || true
    done
    if grep -q " $root/" /proc/mounts; then
        log "still mounted under $root: not deleting it"
        rc=1
    else
        rm -rf --one-file-system "$root"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "unpacking the base root into $root"
tar -C "$root" --numeric-owner -xzf "$base"

mnt() {   # mnt TARGET MOUNT-ARGS...: mount and remember for cleanup
    local target=$root$1
    shift
    mount "$@" "$target"
    mounts+=("$target")
}
mnt /proc -t proc proc
mnt /dev --bind /dev
mnt /dev/pts -t devpts devpts -o newinstance,ptmxmode=0666
mnt /dev/shm -t tmpfs shm -o mode=1777
mnt /var/cache/apt/archives --bind "$archives"
# The chroot shares the host's network: it only needs a resolver.
cp /etc/resolv.conf "$root/etc/resolv.conf"
# No init system in a chroot: packages must not start services (Debian's
# postgresql package would start a cluster on port 5432 of the host's network).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
# Where this workplace reaches the npm registry through a TLS proxy, the
# host names the proxy's CA in NODE_EXTRA_CA_CERTS: the root gets that
# trust (a certificate, not software), or npm ci cannot fetch anything.
extra_ca=
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    cp "$NODE_EXTRA_CA_CERTS" "$root/etc/imei_registry-ci-extra-ca.crt"
    extra_ca=/etc/imei_registry-ci-extra-ca.crt
fi

if [ -n "$bundle" ]; then
    cp "$bundle" "$root/root/imei_registry.bundle"
else
    git bundle create -q "$root/root/imei_registry.bundle" HEAD
fi
commit=$(git bundle list-heads "$root/root/imei_registry.bundle" HEAD | cut -d' ' -f1)

# What a new user types, as root, in a clean environment.
case $what in
    test)
        run='scripts/test'
        ;;
    package)
        run='scripts/package'
        ;;
    try)
        run='scripts/try
             psql -X -At -h /tmp/imei_registry_try -U postgres -d imei \
                  -c "SELECT count(*) FROM imei_registry.registry" >/tmp/rows
             echo "database up: $(cat /tmp/rows) registry rows"
             [ "$(cat /tmp/rows)" -gt 0 ]
             scripts/try stop
             ! [ -e /tmp/imei_registry_try ]'
        ;;
esac
log "running $what at ${commit:0:7} in the root"
# In the background, so that a signal runs cleanup at once (bash runs traps
# only between commands, and wait is one).
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    ${FUZZ_SECONDS:+FUZZ_SECONDS=$FUZZ_SECONDS} ${PG_MAJOR:+PG_MAJOR=$PG_MAJOR} \
    ${CI:+CI=$CI} ${extra_ca:+NODE_EXTRA_CA_CERTS=$extra_ca npm_config_cafile=$extra_ca} \
    bash -euc "cd /root
        git -c init.defaultBranch=main -c advice.detachedHead=false clone -q imei_registry.bundle imei_registry
        cd imei_registry
        git -c advice.detachedHead=false checkout -q $commit
        $run" &
wait $!
