#!/usr/bin/env bash
# Signed applications, baseline and feature in the same run:
#  1. the cost of verifying one signature (signature_verify: CMS, chain to
#     the trusted certificates, key usage, revocation lookup), EC P-256 and
#     RSA 2048 signers, against parsing the same document as jsonb;
#  2. submission throughput (pgbench): submit_application(document,
#     signature) against the unsigned submit_application(jsonb) of the same
#     document (the setting off for this database).
# Certificates are made with the openssl command (test/shell/lib/pki.bash);
# the trusted certificates are the test root, its intermediate and
# BENCH_ANCHORS (8) more roots, as a site trusting several CAs would have;
# the revocation list has BENCH_REVOKED (10000) entries.
# Uses the cluster of the PG* environment variables; creates (and drops) its
# own database.  BENCH_SECONDS (10) per pgbench run, BENCH_CLIENTS (2),
# BENCH_VERIFY (2000) verifications per timing.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/shell/lib/pki.bash
DB=${BENCH_DB:-imei_registry_bench_signatures}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-2}
VERIFY=${BENCH_VERIFY:-2000}
ANCHORS=${BENCH_ANCHORS:-8}
REVOKED=${BENCH_REVOKED:-10000}
work=$(mktemp -d /tmp/imei_bench_signatures.XXXXXX)
chmod 0755 "$work"
trap 'rm -rf "$work"; dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

make_pki "$work"
for i in $(seq 1 "$ANCHORS"); do pki_root "$work" "extra$i" "Extra Root $i"; done
printf '%s\n%s\n%s' \
    '{"applicant": {"kind": "individual", "id": "901123300258"},' \
    ' "method": "accompanied_baggage", "import_date": "2025-06-01", "exporting_country": "AE",' \
    ' "documents": [{"type": "border_crossing_certificate", "number": "BC-1", "holder_id": "901123300258"}], "devices": [{"model": "Galaxy A55", "imeis": ["352099001761481", "352099001761499"]}]}' \
    >"$work/doc.json"
# as NCA RK's clients sign: the signer's certificate only (the intermediate
# is trusted); and, for comparison, with the intermediate in the signature
for s in person person_rsa; do
    openssl cms -sign -binary -in "$work/doc.json" -signer "$work/$s.pem" -inkey "$work/$s.key" \
        -outform DER >"$work/$s.sig"
done
sign "$work" person "$work/doc.json" >"$work/chain.sig"
doc=$(hex <"$work/doc.json")
ec=$(hex <"$work/person.sig")
rsa=$(hex <"$work/person_rsa.sig")
chain=$(hex <"$work/chain.sig")

dropdb --if-exists "$DB" >/dev/null
createdb "$DB"
q -c "ALTER DATABASE $DB SET imei_registry.require_signature = off"   # the unsigned baseline
q -c 'CREATE EXTENSION imei_registry' -c 'SELECT imei_registry.create_registry()'
for f in "$work"/root.pem "$work"/intermediate.pem "$work"/extra*.pem; do
    q -v pem="$(cat "$f")" <<<"INSERT INTO imei_registry.trusted_certificates (certificate) VALUES (:'pem');"
done
q <<SQL
INSERT INTO imei_registry.revoked_certificates (issuer, serial, revoked_at)
SELECT 'CN=Test NCA Intermediate,O=Test PKI,C=KZ', upper(to_hex(1000000 + g)), now() - interval '1 day'
FROM generate_series(1, $REVOKED) g;
ANALYZE imei_registry.revoked_certificates;
SQL
echo "trusted certificates: $(q -c 'SELECT count(*) FROM imei_registry.trusted_certificates'), revoked: $REVOKED"

# 1. per verification, the median of three timings of VERIFY calls
per_call() {  # $1 = an expression of d (document text) and s (signature)
    local runs=() i
    for i in 1 2 3; do
        runs+=("$(q -v doc="$doc" -v sig="$2" 2>&1 <<SQL | sed -n 's/^NOTICE: *//p'
CREATE TEMP TABLE fx AS SELECT convert_from(decode(:'doc', 'hex'), 'UTF8') AS d, decode(:'sig', 'hex') AS s;
DO \$\$
DECLARE t0 timestamptz; d text; s bytea;
BEGIN
    SELECT fx.d, fx.s INTO d, s FROM fx;
    t0 := clock_timestamp();
    FOR i IN 1..$VERIFY LOOP
        PERFORM $1;
    END LOOP;
    RAISE NOTICE '%', round(extract(epoch FROM clock_timestamp() - t0) * 1e6 / $VERIFY, 1);
END \$\$;
SQL
)")
    done
    printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p
}
parse=$(per_call "d::jsonb" "$ec")
vec=$(per_call "imei_registry.signature_verify(d, s, now())" "$ec")
vrsa=$(per_call "imei_registry.signature_verify(d, s, now())" "$rsa")
vchain=$(per_call "imei_registry.signature_verify(d, s, now())" "$chain")
printf 'parse the document as jsonb:                 %8.1f us\n' "$parse"
printf 'verify, EC P-256 signer:                     %8.1f us\n' "$vec"
printf 'verify, RSA 2048 signer:                     %8.1f us\n' "$vrsa"
printf 'verify, EC P-256, intermediate in signature: %8.1f us\n' "$vchain"

# 2. submissions per second
cat >"$work/signed.sql" <<'SQL'
SELECT imei_registry.submit_application(convert_from(decode(:doc, 'hex'), 'UTF8'), decode(:sig, 'hex'));
SQL
cat >"$work/unsigned.sql" <<'SQL'
SELECT imei_registry.submit_application(convert_from(decode(:doc, 'hex'), 'UTF8')::jsonb);
SQL
tps() {  # $1 script, $2 signature
    pgbench -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_PER_RUN" \
        -D doc="$doc" -D sig="$2" -f "$1" "$DB" 2>/dev/null |
        sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
echo "pgbench: $CLIENTS clients, ${SECONDS_PER_RUN}s per run, -M prepared"
tps "$work/unsigned.sql" "$ec" >/dev/null   # warm up
u1=$(tps "$work/unsigned.sql" "$ec"); s1=$(tps "$work/signed.sql" "$ec")
u2=$(tps "$work/unsigned.sql" "$ec"); s2=$(tps "$work/signed.sql" "$ec")
u=$(echo "($u1 + $u2) / 2" | bc -l); s=$(echo "($s1 + $s2) / 2" | bc -l)
printf 'unsigned submit_application(jsonb):  %8.0f tps (%s, %s)\n' "$u" "$u1" "$u2"
printf 'signed submit_application(text, bytea), EC: %8.0f tps (%s, %s)\n' "$s" "$s1" "$s2"
printf 'signed / unsigned:                    %8.2f\n' "$(echo "$s / $u" | bc -l)"
