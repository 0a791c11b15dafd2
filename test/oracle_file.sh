#!/bin/sh
# Prints the absolute path of a file of the shared test oracle, which lives in
# ../shared/oracle next to the repository checkout (next to the main
# checkout for a git worktree), or in $IMEI_ORACLE_DIR.  Used by regression
# tests through psql's backquote expansion; run from the repository.
name=$1
top=$(git rev-parse --show-toplevel 2>/dev/null)
common=$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null)
for dir in "${IMEI_ORACLE_DIR:-}" "$top/../shared/oracle" \
    "${common:+$(dirname "$common")/../shared/oracle}" "$PWD/../shared/oracle"; do
    if [ -n "$dir" ] && [ -f "$dir/$name" ]; then
        echo "$(cd "$dir" && pwd -P)/$name"
        exit 0
    fi
done
echo "oracle file $name not found (set IMEI_ORACLE_DIR)" >&2
echo "/nonexistent/oracle/$name"
exit 1
