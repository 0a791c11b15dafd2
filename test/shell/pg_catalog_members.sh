#!/usr/bin/env bash
# The operators, operator classes and min/max aggregates that the extension
# creates in pg_catalog are members of it like every other object: pg_dump
# prints only CREATE EXTENSION for them (and the dump restores), DROP
# EXTENSION removes every one, and CREATE EXTENSION makes them again.  The
# data tables that create_registry() makes are not members: pg_dump prints
# them as tables, and DROP EXTENSION is refused while they exist (CASCADE
# drops them with the rest).
set -euo pipefail
db=pg_catalog_members
dump=$(mktemp /tmp/pg_catalog_members.XXXXXX)
trap 'rm -f "$dump"; dropdb --if-exists "$db" 2>/dev/null; dropdb --if-exists "${db}_dst" 2>/dev/null' EXIT
fail() { echo "pg_catalog_members: $*" >&2; exit 1; }
q() { local d=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$d" "$@"; }

# Operators, operator classes, operator families and aggregates in
# pg_catalog, and of those the ones on the extension's types.
catalog="SELECT (SELECT count(*) FROM pg_operator WHERE oprnamespace = 'pg_catalog'::regnamespace)
         || ' ' || (SELECT count(*) FROM pg_opclass WHERE opcnamespace = 'pg_catalog'::regnamespace)
         || ' ' || (SELECT count(*) FROM pg_opfamily WHERE opfnamespace = 'pg_catalog'::regnamespace)
         || ' ' || (SELECT count(*) FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace
                                                AND prokind = 'a')"
ours="SELECT (SELECT count(*) FROM pg_operator WHERE oprnamespace = 'pg_catalog'::regnamespace
              AND oprleft IN (SELECT oid FROM pg_type WHERE typnamespace = 'imei_registry'::regnamespace))
      || ' ' || (SELECT count(*) FROM pg_opclass WHERE opcnamespace = 'pg_catalog'::regnamespace
              AND opcintype IN (SELECT oid FROM pg_type WHERE typnamespace = 'imei_registry'::regnamespace))
      || ' ' || (SELECT count(DISTINCT opcfamily) FROM pg_opclass WHERE opcnamespace = 'pg_catalog'::regnamespace
              AND opcintype IN (SELECT oid FROM pg_type WHERE typnamespace = 'imei_registry'::regnamespace))
      || ' ' || (SELECT count(*) FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace AND prokind = 'a'
              AND proargtypes[0] IN (SELECT oid FROM pg_type WHERE typnamespace = 'imei_registry'::regnamespace))"

dropdb --if-exists "$db" 2>/dev/null; dropdb --if-exists "${db}_dst" 2>/dev/null
createdb "$db"
before=$(q "$db" -c "$catalog")
q "$db" -c 'CREATE EXTENSION imei_registry' -c 'SELECT imei_registry.create_registry()' >/dev/null
# 6 operators, 3 classes (btree, hash, BRIN) and their 3 families, min and
# max, for each of imei, imeisv, iin and bin.
[ "$(q "$db" -c "$ours")" = "24 12 12 8" ] \
    || fail "expected 24 operators, 12 classes, 12 families, 8 aggregates in pg_catalog: $(q "$db" -c "$ours")"
read -r o1 c1 f1 a1 <<<"$before"
read -r o2 c2 f2 a2 <<<"$(q "$db" -c "$catalog")"
[ "$((o2 - o1)) $((c2 - c1)) $((f2 - f1)) $((a2 - a1))" = "24 12 12 8" ] \
    || fail "CREATE EXTENSION added other objects to pg_catalog: $before -> $o2 $c2 $f2 $a2"

pg_dump -s -f "$dump" "$db"
grep -q '^CREATE EXTENSION IF NOT EXISTS imei_registry' "$dump" || fail "no CREATE EXTENSION in the dump"
if grep -nE 'CREATE (OPERATOR|AGGREGATE)|pg_catalog\.(min|max)\(' "$dump"; then
    fail "the dump recreates extension members by hand"
fi
grep -q '^CREATE TABLE imei_registry.registry ' "$dump" || fail "the dump does not create the registry as a table"
if grep -n '^ALTER EXTENSION imei_registry ADD TABLE imei_registry.registry' "$dump"; then
    fail "the registry is a member of the extension"
fi
createdb "${db}_dst"
q "${db}_dst" -f "$dump" >/dev/null || fail "the dump does not restore"
[ "$(q "${db}_dst" -c "SELECT '358476310000013'::imei_registry.imei = '358476310000013'")" = t ] \
    || fail "the restored database has no imei ="

if q "$db" -c 'DROP EXTENSION imei_registry' 2>/dev/null; then
    fail "DROP EXTENSION dropped the extension while its data tables exist"
fi
[ "$(q "$db" -c "SELECT count(*) FROM imei_registry.registry_tables()")" -gt 20 ] \
    || fail "a refused DROP EXTENSION left fewer data tables"
q "$db" -c 'SET client_min_messages = warning' -c 'DROP EXTENSION imei_registry CASCADE'
[ "$(q "$db" -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'imei_registry'::regnamespace")" = 0 ] \
    || fail "DROP EXTENSION ... CASCADE left relations in the schema"
[ "$(q "$db" -c "$catalog")" = "$before" ] \
    || fail "DROP EXTENSION left objects in pg_catalog: $before -> $(q "$db" -c "$catalog")"

q "$db" -c 'CREATE EXTENSION imei_registry'
[ "$(q "$db" -c "$ours")" = "24 12 12 8" ] || fail "CREATE EXTENSION after DROP did not make them again"
echo "pg_catalog_members: ok"
