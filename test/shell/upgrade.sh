#!/usr/bin/env bash
# ALTER EXTENSION imei_registry UPDATE gives exactly what a fresh install of
# the new version gives.  For every installed version with an update path to
# default_version: install it, update, and compare with CREATE EXTENSION of
# default_version in another database:
#   * the members (pg_depend, by identity),
#   * pg_dump --schema-only --binary-upgrade (plain pg_dump prints only
#     CREATE EXTENSION for members; this prints every member's definition),
#     without OIDs, transaction ids and pg_dump's random \restrict key,
#   * the extension's configuration tables by name and filter, and every row
#     the scripts put in them;
#   * the data tables that create_registry() makes (ordinary tables, not
#     members: docs/registry.md, "Layout"): each made by the old version's
#     create_registry() before the update, against the new version's; their
#     definitions (triggers, indexes, policies, grants) are in pg_dump's
#     output, and here their dependency on the extension and every row
#     (the shipped reason codes and MCI years).
# With a single version there is nothing to compare: it says so and passes.
set -euo pipefail
ext=imei_registry
new=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ext.control")
work=$(mktemp -d /tmp/imei_upgrade.XXXXXX)
trap 'rm -rf "$work"; dropdb --if-exists upgrade_old 2>/dev/null; dropdb --if-exists upgrade_new 2>/dev/null' EXIT
fail() { echo "upgrade: $*" >&2; exit 1; }
q() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

mapfile -t sources < <(q postgres -c "
    SELECT source FROM pg_extension_update_paths('$ext')
    WHERE target = '$new' AND path IS NOT NULL ORDER BY source")
[ "$(q postgres -c "SELECT count(*) FROM pg_available_extension_versions
                    WHERE name = '$ext' AND version = '$new'")" = 1 ] \
    || fail "version $new of the control file is not installed"
if [ ${#sources[@]} -eq 0 ]; then
    echo "upgrade: SKIPPED: $new is the only version (nothing to update from)"
    exit 0
fi

# Everything of the extension in database $1, OIDs left out.
describe() {
    local db=$1 t
    echo "-- members"
    q "$db" -c "SELECT pg_describe_object(classid, objid, objsubid)
                FROM pg_depend
                WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
                  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = '$ext')
                ORDER BY 1"
    echo "-- configuration tables"
    q "$db" -c "SELECT extversion, c::regclass, extcondition[i]
                FROM pg_extension, unnest(extconfig) WITH ORDINALITY AS u(c, i)
                WHERE extname = '$ext' ORDER BY c::regclass::text"
    for t in $(q "$db" -c "SELECT c::regclass FROM pg_extension, unnest(extconfig) c
                           WHERE extname = '$ext' AND c::regclass::text NOT LIKE '%_seq'
                           ORDER BY c::regclass::text"); do
        echo "-- rows of $t"
        q "$db" -c "SELECT r::text FROM $t r ORDER BY 1"
    done
    echo "-- data tables (create_registry()) and their dependency on the extension"
    q "$db" -c "SELECT t, d.deptype
                FROM $ext.registry_tables() t
                LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = t
                 AND d.refclassid = 'pg_extension'::regclass
                ORDER BY t::text"
    for t in $(q "$db" -c "SELECT t FROM $ext.registry_tables() t ORDER BY t::text"); do
        echo "-- rows of $t"
        q "$db" -c "SELECT r::text FROM $t r ORDER BY 1"
    done
    echo "-- pg_dump --schema-only --binary-upgrade"
    pg_dump --schema-only --binary-upgrade "$db" |
        grep -v -e 'binary_upgrade_set_next_' -e 'binary_upgrade_create_empty_extension' \
                -e '^-- Dumped ' -e '^\\\(un\)\{0,1\}restrict ' |
        sed -E -e "s/(relfrozenxid|relminmxid) = '[0-9]+'/\1 = 'N'/g" \
               -e "s/^WHERE oid = '[0-9]+';/WHERE oid = 'OID';/"
}

for old in "${sources[@]}"; do
    echo "upgrade: $old -> $new"
    dropdb --if-exists upgrade_old 2>/dev/null
    dropdb --if-exists upgrade_new 2>/dev/null
    createdb upgrade_old
    createdb upgrade_new
    q upgrade_old -c "CREATE EXTENSION $ext VERSION '$old'" \
        -c "SELECT $ext.create_registry()" \
        -c "ALTER EXTENSION $ext UPDATE TO '$new'" >/dev/null || fail "update from $old to $new failed"
    q upgrade_new -c "CREATE EXTENSION $ext VERSION '$new'" \
        -c "SELECT $ext.create_registry()" >/dev/null || fail "fresh install of $new failed"
    describe upgrade_old >"$work/updated"
    describe upgrade_new >"$work/fresh"
    grep -q "^ALTER EXTENSION $ext ADD" "$work/fresh" || fail "pg_dump shows no member of $ext"
    if ! diff -u "$work/fresh" "$work/updated" >"$work/diff"; then
        cat "$work/diff" >&2
        fail "$old updated to $new differs from a fresh install of $new (- fresh, + updated)"
    fi
done
echo "upgrade: every update to $new matches a fresh install"
