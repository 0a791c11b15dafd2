#!/usr/bin/env bash
# docs/registry.md shows the registry's rules as the extension has them: its
# table of transitions is what imei_registry.transition_rules() returns, row
# for row and in order, and its table of reason codes names the shipped codes
# with the status each leads to.  A rule changed in src/rules.c without the
# document (or the other way round) fails here.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=docs_rules
doc=docs/registry.md
trap 'dropdb --if-exists "$db" 2>/dev/null' EXIT
fail() { echo "docs_rules: $*" >&2; exit 1; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
q -c 'CREATE EXTENSION imei_registry' -c 'SELECT imei_registry.create_registry()'

# The rows of the markdown table between <!-- NAME --> and <!-- end NAME -->,
# without its header and separator.
table() {
    sed -n "/^<!-- $1 -->\$/,/^<!-- end $1 -->\$/p" "$doc" | grep '^|' | tail -n +3
}

want=$(q -c "SELECT format('| %s | %s | \`%s\` | %s |', coalesce(from_status::text, '(new)'),
                           to_status, reason,
                           (SELECT string_agg(format('\`%s\`', c), ', ') FROM unnest(conditions) c))
             FROM imei_registry.transition_rules()" | sed 's/  */ /g')
got=$(table transition_rules | sed 's/  */ /g; s/ *$//')
[ -n "$got" ] || fail "no table of transitions between <!-- transition_rules --> markers in $doc"
diff <(echo "$want") <(echo "$got") >&2 || fail "the table of transitions in $doc is not transition_rules() (< function, > document)"

want=$(q -c "SELECT format('%s|%s', code, status) FROM imei_registry.reasons WHERE shipped ORDER BY code")
got=$(table reason_codes | awk -F'|' '{ gsub(/[ `]/, "", $2); gsub(/ /, "", $3); print $2 "|" $3 }' | sort)
diff <(echo "$want") <(echo "$got") >&2 || fail "the reason codes in $doc are not the shipped ones (< extension, > document)"
echo "docs_rules: ok"
