#!/usr/bin/env bash
# Benchmark of the imei type against bigint and a text domain, in one run.
#   N=2000000 ROUNDS=3 bench/imei.sh      (needs PGHOST etc.; scripts/bench sets them)
# Measures, best of ROUNDS, interleaved:
#   COPY of N IMEIs into imei PRIMARY KEY / bigint PRIMARY KEY / text domain
#   (regex + SQL Luhn) PRIMARY KEY; text -> imei vs text -> bigint casts;
#   LOOKUPS indexed lookups (one executor run each, as a prepared query) in
#   the imei and the bigint key; index sizes.  Prints times and ratios;
#   asserts nothing.
set -euo pipefail
N=${N:-2000000}
ROUNDS=${ROUNDS:-3}
LOOKUPS=${LOOKUPS:-200000}
DB=bench_imei
FILE=/tmp/imei_bench_$$.txt
trap 'rm -f "$FILE"' EXIT

dropdb --if-exists "$DB" >/dev/null
createdb "$DB"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

q <<SQL
CREATE EXTENSION imei_registry;
-- What a schema without the type would do: a checked text domain.
CREATE FUNCTION luhn_ok(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS \$\$
    SELECT sum(CASE WHEN (15 - i) % 2 = 1
                    THEN (substr(s, i, 1)::int * 2) / 10 + (substr(s, i, 1)::int * 2) % 10
                    ELSE substr(s, i, 1)::int END) % 10 = 0
    FROM generate_series(1, 15) AS i
\$\$;
CREATE DOMAIN imei_text AS text CHECK (VALUE ~ '^[0-9]{15}\$' AND luhn_ok(VALUE));
CREATE TABLE t_imei   (imei imei_registry.imei PRIMARY KEY);
CREATE TABLE t_bigint (imei bigint PRIMARY KEY);
CREATE TABLE t_text   (imei imei_text PRIMARY KEY);
CREATE TABLE src (t text);
-- N distinct valid IMEIs in scattered order (7919 is prime to 10^8).
COPY (SELECT imei_registry.imei_from_body((35000000000000 + (g::bigint * 7919) % 100000000)::text)
      FROM generate_series(1, $N) AS g) TO '$FILE';
COPY src FROM '$FILE';
SQL
chmod 0644 "$FILE" 2>/dev/null || true

# ms NAME SQL: run SQL once, print its wall time in ms (psql \timing).
ms() {
    q -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}
best() { sort -n | head -1; }

declare -A times
for variant in imei bigint text; do times[$variant]=""; done
for ((r = 1; r <= ROUNDS; r++)); do
    for variant in imei bigint text; do
        q -c "TRUNCATE t_$variant" -c "CHECKPOINT"
        times[$variant]+="$(ms "COPY t_$variant FROM '$FILE'")"$'\n'
    done
done
copy_imei=$(printf '%s' "${times[imei]}" | best)
copy_bigint=$(printf '%s' "${times[bigint]}" | best)
copy_text=$(printf '%s' "${times[text]}" | best)

cast_imei=""; cast_bigint=""
for ((r = 1; r <= ROUNDS; r++)); do
    cast_imei+="$(ms 'SELECT count(t::imei_registry.imei) FROM src')"$'\n'
    cast_bigint+="$(ms 'SELECT count(t::bigint) FROM src')"$'\n'
done
cast_imei=$(printf '%s' "$cast_imei" | best)
cast_bigint=$(printf '%s' "$cast_bigint" | best)

# An indexed lookup per PL/pgSQL loop iteration: a cached plan, one executor
# run each, which looks the "=" operator's function up (src/int64_ops.c).
# The keys come from the table itself, read the same way for both.
lookup_sql() {
    printf 'DO $$ DECLARE k %s; BEGIN FOR k IN SELECT imei FROM %s LIMIT %d LOOP PERFORM 1 FROM %s WHERE imei = k; END LOOP; END $$' \
        "$2" "$1" "$LOOKUPS" "$1"
}
q -c "VACUUM ANALYZE t_imei" -c "VACUUM ANALYZE t_bigint"
look_imei=""; look_bigint=""
for ((r = 1; r <= ROUNDS; r++)); do
    look_imei+="$(ms "$(lookup_sql t_imei imei_registry.imei)")"$'\n'
    look_bigint+="$(ms "$(lookup_sql t_bigint bigint)")"$'\n'
done
look_imei=$(printf '%s' "$look_imei" | best)
look_bigint=$(printf '%s' "$look_bigint" | best)

read -r idx_imei idx_bigint idx_text < <(q -F ' ' -c "SELECT pg_relation_size('t_imei_pkey'),
    pg_relation_size('t_bigint_pkey'), pg_relation_size('t_text_pkey')")

awk -v n="$N" -v ci="$copy_imei" -v cb="$copy_bigint" -v ct="$copy_text" \
    -v xi="$cast_imei" -v xb="$cast_bigint" -v lk="$LOOKUPS" -v li="$look_imei" -v lb="$look_bigint" \
    -v ii="$idx_imei" -v ib="$idx_bigint" -v it="$idx_text" 'BEGIN {
    printf "imei benchmark, N = %d IMEIs, best of rounds\n", n
    printf "COPY into PRIMARY KEY:  imei %.0f ms   bigint %.0f ms   text domain %.0f ms\n", ci, cb, ct
    printf "  imei / bigint      = %.2f   (target <= 1.10)\n", ci / cb
    printf "  text domain / imei = %.2f   (target >= 3)\n", ct / ci
    printf "cast text -> imei %.0f ms, text -> bigint %.0f ms: ratio %.2f\n", xi, xb, xi / xb
    printf "  imei casts per second: %.0f\n", n / (xi / 1000)
    printf "indexed lookups (%d): imei %.0f ms, bigint %.0f ms: ratio %.2f   (target <= 1.10)\n", lk, li, lb, li / lb
    printf "primary key size: imei %d, bigint %d, text domain %d bytes (imei / bigint = %.2f)\n", ii, ib, it, ii / ib
}'
dropdb "$DB"
