#!/usr/bin/env bash
# Signed applications end to end, in a database of their own, with
# certificates made now by the openssl command (test/shell/lib/pki.bash):
#  * a portal login submits a document it signed on the client side, and the
#    stored text is the signed file byte for byte (including a CRLF it has);
#  * the setting off for this database alone (ALTER DATABASE ... SET, as
#    superuser) lets a new session submit unsigned; back on, IR109;
#  * a certificate whose revocation the registry had not loaded yet is
#    accepted, and verify_application_signature() finds it revoked once the
#    CA's CRL is loaded (revoked before the submission);
#  * memory: 2,000 verifications in one backend, failing and passing, leave
#    its private resident size (RssAnon: shared buffers aside) flat
#    (OpenSSL's objects are freed on every path);
#  * GOST 34.310: skipped, with a message.
set -euo pipefail
. "$(dirname "$0")/lib/pki.bash"
db=imei_signatures
login=sig_portal_login
dir=$(mktemp -d /tmp/imei_signatures.XXXXXX)
chmod 0755 "$dir"
cleanup() {
    dropdb --if-exists "$db" 2>/dev/null || true
    psql -X -q -c "DROP ROLE IF EXISTS $login" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "signatures: $*" >&2; exit 1; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

# (psql interpolates variables in what it reads, not in -c)
submit="SELECT imei_registry.submit_application(convert_from(decode(:'doc', 'hex'), 'UTF8'), decode(:'sig', 'hex'))"

cleanup
make_pki "$dir"
createdb "$db"
q -v root="$(cat "$dir/root.pem")" -v intermediate="$(cat "$dir/intermediate.pem")" <<SQL
CREATE EXTENSION imei_registry;
SELECT imei_registry.create_registry();
CREATE ROLE $login LOGIN IN ROLE imei_registry_portal;
INSERT INTO imei_registry.trusted_certificates (certificate) VALUES (:'root'), (:'intermediate');
SQL

# 1. The portal signs a document with a CRLF in it and submits it.
printf '{"applicant": {"kind": "individual", "id": "901123300258"},\r\n "method": "official_retailer", "devices": [{"imeis": ["356868000041426"]}]}\n' >"$dir/doc.json"
sign "$dir" person "$dir/doc.json" >"$dir/doc.sig"
id=$(q -U "$login" -v doc="$(hex <"$dir/doc.json")" -v sig="$(hex <"$dir/doc.sig")" <<<"$submit")
read -r by stored_md5 <<<"$(q -F ' ' -c "SELECT a.submitted_by, md5(s.document)
    FROM imei_registry.applications a JOIN imei_registry.application_signatures s ON s.application_id = a.id
    WHERE a.id = $id")"
[ "$by" = "$login" ] || fail "submitted by $by, not $login"
[ "$stored_md5" = "$(md5sum <"$dir/doc.json" | cut -d' ' -f1)" ] || fail "the stored document is not the signed file byte for byte"
echo "signatures: application $id signed by the portal's applicant, stored byte for byte"

# 2. The setting, off for this database alone: new sessions see it.
unsigned="SELECT imei_registry.submit_application('{\"applicant\": {\"kind\": \"individual\", \"id\": \"901123300258\"}, \"method\": \"official_retailer\"}')"
err=$(q -U "$login" -c "$unsigned" 2>&1) && fail "unsigned accepted while the setting is on"
grep -q 'require_signature is on' <<<"$err" || fail "unexpected refusal: $err"
q -c "ALTER DATABASE $db SET imei_registry.require_signature = off"
q -U "$login" -c "$unsigned" >/dev/null || fail "unsigned refused with the setting off for the database"
[ "$(psql -X -At -d postgres -c 'SHOW imei_registry.require_signature' 2>/dev/null || echo on)" != off ] ||
    fail "the setting leaked into another database"
q -c "ALTER DATABASE $db RESET imei_registry.require_signature"
q -U "$login" -c "$unsigned" >/dev/null 2>&1 && fail "unsigned accepted after the setting was reset"
echo "signatures: unsigned only while the database's setting is off"

# 3. Revoked before the submission, but its CRL loaded after it.
sign "$dir" revoked "$dir/doc.json" >"$dir/revoked.sig"
rid=$(q -U "$login" -v doc="$(hex <"$dir/doc.json")" -v sig="$(hex <"$dir/revoked.sig")" <<<"$submit")
[ "$(q -c "SELECT valid FROM imei_registry.verify_application_signature($rid)")" = t ] ||
    fail "valid before the CRL is loaded"
[ "$(q -c "SELECT imei_registry.load_crl(pg_read_binary_file('$dir/crl.der'))")" = 1 ] || fail "CRL not loaded"
[ "$(q -c "SELECT code FROM imei_registry.verify_application_signature($rid)")" = IR106 ] ||
    fail "not found revoked after the CRL was loaded"
[ "$(q -c "SELECT code FROM imei_registry.verify_application_signature($id)")" = "" ] ||
    fail "another certificate found revoked"
echo "signatures: application $rid found revoked once the CRL was loaded"

# 4. Memory: resident size of one backend over 2,000 verifications.
sign "$dir" stranger "$dir/doc.json" >"$dir/stranger.sig"
sign "$dir" person2 "$dir/doc.json" >"$dir/person2.sig"
rss=$(q -v doc="$(hex <"$dir/doc.json")" -v good="$(hex <"$dir/doc.sig")" \
        -v stranger="$(hex <"$dir/stranger.sig")" -v person2="$(hex <"$dir/person2.sig")" <<SQL
CREATE TEMP TABLE fx AS
SELECT convert_from(decode(:'doc', 'hex'), 'UTF8') AS doc,
       ARRAY[decode(:'good', 'hex'), decode(:'stranger', 'hex'), decode(:'person2', 'hex')] AS sigs;
CREATE FUNCTION pg_temp.rounds(n int) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE
    d text := (SELECT doc FROM fx);
    sigs bytea[] := (SELECT fx.sigs FROM fx);
BEGIN
    FOR i IN 1..n LOOP
        PERFORM imei_registry.verify_application_signature($id);       -- every check passes
        FOR s IN 1..3 LOOP
            BEGIN
                PERFORM imei_registry.submit_application(
                    CASE s WHEN 1 THEN d || ' ' ELSE d END, sigs[s]);   -- IR101
            EXCEPTION WHEN OTHERS THEN NULL;                           -- IR102, IR107
            END;
        END LOOP;
    END LOOP;
END \$\$;
CREATE FUNCTION pg_temp.rss() RETURNS bigint LANGUAGE sql AS
\$\$ SELECT substring(pg_read_file('/proc/self/status') FROM 'RssAnon:\s+(\d+)')::bigint \$\$;
SELECT pg_temp.rounds(100);
SELECT pg_temp.rss();
SELECT pg_temp.rounds(500);
SELECT pg_temp.rss();
SQL
)
read -r before after <<<"$(echo $rss)"
growth=$((after - before))
[ "$growth" -lt 1024 ] || fail "backend grew by $growth kB over 2,000 verifications ($before -> $after kB)"
echo "signatures: 2,000 verifications, backend private resident size (RssAnon) $before -> $after kB"

echo "signatures: SKIPPED GOST 34.310 (OIDs under 1.2.398): Debian's OpenSSL has no provider for it (docs/applications.md)"
