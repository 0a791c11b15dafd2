#!/usr/bin/env bash
# signed_fixture.bash DIR: the test PKI of pki.bash in DIR, application
# documents, and their detached signatures, each also as DIR/NAME.hex (one
# line of hex digits, for psql's backquotes and decode(..., 'hex')).  Used
# by test/sql/signatures.sql; quiet unless something fails.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/pki.bash"
dir=$1
rm -rf "$dir"
make_pki "$dir"
cd "$dir"

# Exactly these bytes are signed: LF line ends, no newline at the end.
printf '%s\n%s\n%s' \
    '{"applicant": {"kind": "individual", "id": "901123300258"},' \
    ' "method": "official_retailer",' \
    ' "devices": [{"model": "iPhone 15", "imeis": ["356868000041426"]}]}' >individual.json
sed '1s/$/\r/' individual.json >individual_crlf.json    # one LF turned into CRLF
printf '%s' "$(sed 's/356868000041426/356868000041434/' individual.json)" >individual_changed.json
printf '%s\n%s\n%s' \
    '{"applicant": {"kind": "legal_entity", "id": "990940003030"},' \
    ' "method": "commercial_import",' \
    ' "documents": [{"type": "goods_declaration", "number": "GD-21", "holder_id": "990940003030"}], "devices": [{"model": "Dual One", "imeis": ["860001000000007", "860001000000015"]}]}' >legal.json
printf '{"applicant": {"kind": "individual", "id": "901123300258"}, "method": ' >broken.json
printf '{"applicant": {"kind": "individual", "id": "901123300258"}, "colour": "red"}' >unknown_key.json

for s in person person_rsa person2 business expired future revoked encipher stranger; do
    sign . "$s" individual.json >"individual.$s.sig"
done
for s in business person centre; do
    sign . "$s" legal.json >"legal.$s.sig"
done
sign . person broken.json >broken.person.sig
sign . person unknown_key.json >unknown_key.person.sig
openssl cms -sign -binary -in individual.json -signer person.pem -inkey person.key \
    -outform PEM >individual.person_pem.sig
openssl cms -sign -binary -nodetach -in individual.json -signer person.pem -inkey person.key \
    -outform DER >individual.attached.sig

for f in *.json *.sig crl.der; do hex <"$f" >"$f.hex"; done
