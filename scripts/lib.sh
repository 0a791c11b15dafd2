# Shared by scripts/try and scripts/test: dependencies, build, a throwaway
# cluster.  Source it; it defines functions and sets nothing else.

# The PostgreSQL major the distribution ships (what package "postgresql"
# depends on), unless PG_MAJOR says otherwise.  A brand-new machine may have
# no package lists yet: then the Debian release decides.
distribution_pg_major() {
    local major codename
    major=$(apt-cache depends postgresql 2>/dev/null |
        sed -n 's/^ *Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n 1)
    if [ -z "$major" ]; then
        codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
        case $codename in
            bullseye) major=13 ;;
            bookworm) major=15 ;;
            trixie) major=17 ;;
            *) major=15 ;;
        esac
    fi
    echo "$major"
}

PG_MAJOR=${PG_MAJOR:-$(distribution_pg_major)}
PGBIN=/usr/lib/postgresql/$PG_MAJOR/bin
# clang links the fuzzer with compiler-rt, which it only recommends:
# libclang-rt-dev names the version of the distribution's clang.  OpenSSL's
# libcrypto verifies signed applications; the tests make their certificates
# with the openssl command.
DEBIAN_PACKAGES="build-essential clang libclang-rt-dev
    postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR
    postgresql-$PG_MAJOR-cron postgresql-$PG_MAJOR-pgtap libtap-parser-sourcehandler-pgtap-perl
    python3 python3-psycopg nodejs default-jdk-headless libpostgresql-jdbc-java
    valgrind libssl-dev openssl"
# Debian's npm, unless the machine's Node.js brought its own (NodeSource's
# nodejs package includes npm and conflicts with Debian's)
command -v npm >/dev/null 2>&1 || DEBIAN_PACKAGES="$DEBIAN_PACKAGES npm"

# Run as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

log() { printf '==> %s\n' "$*" >&2; }

install_deps() {
    log "installing Debian packages"
    as_root apt-get update -qq
    # shellcheck disable=SC2086
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        $DEBIAN_PACKAGES >/dev/null
}

build_and_install() {
    log "building and installing imei_registry"
    make -s PG_CONFIG="$PGBIN/pg_config"
    as_root make -s install PG_CONFIG="$PGBIN/pg_config" >/dev/null
}

# The server refuses to run as root: as root, the cluster belongs to postgres,
# and its commands run from / (postgres may not read the caller's directory,
# e.g. a clone in /root; every path given them is absolute).
as_cluster_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# start_cluster DIR: initdb and start a cluster listening only on a Unix
# socket in DIR, with pg_cron loaded; exports PGHOST, PGPORT, PGUSER.
# CLUSTER_CONF: more postgresql.conf lines; CLUSTER_POSTGRES: the server
# executable to start (a wrapper; default the installed postgres).
start_cluster() {
    local dir=$1
    case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    chmod 0755 "$dir"
    log "starting a throwaway cluster in $dir"
    as_cluster_owner "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust \
        -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = 5432
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 512MB
max_wal_size = 4GB
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
${CLUSTER_CONF:-}
CONF
    as_cluster_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
        ${CLUSTER_POSTGRES:+-p "$CLUSTER_POSTGRES"} -t 300 -w start >/dev/null
    export PGHOST=$dir PGPORT=5432 PGUSER=postgres
}

stop_cluster() {
    local dir=$1
    case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_cluster_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
}
