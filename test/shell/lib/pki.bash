#!/usr/bin/env bash
# pki.bash DIR: a test PKI made with the openssl command, as NCA RK writes
# its subjects (SERIALNUMBER=IIN + 12 digits; a business certificate also
# OU=BIN + 12 digits), and signing helpers.
#
#   bash test/shell/lib/pki.bash DIR     make DIR/ (quietly) and exit
#   . test/shell/lib/pki.bash            define make_pki, sign, hex
#
# DIR/root.pem, DIR/intermediate.pem   the trusted CA (root and intermediate)
# DIR/other_root.pem                   a CA nobody trusts
# DIR/NAME.pem, DIR/NAME.key           signers, issued by the intermediate:
#   person         IIN 901123300258, digitalSignature + nonRepudiation (EC P-256)
#   person_rsa     the same person, RSA 2048
#   person2        IIN 871008401427
#   business       employee IIN 901123300258 of BIN 990940003030
#   centre         employee IIN 871008401427 of BIN 940140000385 (a service centre)
#   expired        IIN 901123300258, valid two years ago for a year
#   future         IIN 901123300258, valid from next year
#   revoked        IIN 901123300258, revoked (DIR/crl.pem, DIR/crl.der)
#   encipher       IIN 901123300258, keyUsage keyEncipherment only
#   stranger       IIN 901123300258, issued by other_root
set -euo pipefail

pki_cnf() {
    local dir=$1
    cat <<CNF
[ca]
default_ca = ca_default
[ca_default]
dir = $dir
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 365
default_crl_days = 30
policy = policy_any
preserve = yes
unique_subject = no
copy_extensions = none
email_in_dn = no
[policy_any]
countryName = optional
organizationName = optional
organizationalUnitName = optional
surname = optional
givenName = optional
commonName = supplied
serialNumber = optional
[intermediate_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[signer]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[encipher]
basicConstraints = CA:FALSE
keyUsage = critical, keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
}

# ca_dir DIR NAME KEY CERT: an openssl ca working directory for an issuer
pki_ca_dir() {
    local d=$1/$2
    mkdir -p "$d/newcerts"
    : >"$d/index.txt"
    echo 1000 >"$d/serial"
    echo 01 >"$d/crlnumber"
    pki_cnf "$d" >"$d/ca.cnf"
}

pki_key() {   # pki_key FILE [rsa]
    if [ "${2:-}" = rsa ]; then
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
    else
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
    fi
}

pki_root() {   # pki_root DIR NAME CN
    local dir=$1 name=$2 cn=$3
    pki_key "$dir/$name.key"
    openssl req -x509 -new -key "$dir/$name.key" -subj "/C=KZ/O=Test PKI/CN=$cn" -days 3650 \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$dir/$name.pem"
    pki_ca_dir "$dir" "ca_$name"
}

# pki_issue DIR CA NAME SUBJECT EXTENSIONS START END [rsa]
pki_issue() {
    local dir=$1 ca=$2 name=$3 subj=$4 ext=$5 start=$6 end=$7
    pki_key "$dir/$name.key" "${8:-}"
    openssl req -new -utf8 -key "$dir/$name.key" -subj "$subj" -out "$dir/$name.csr"
    openssl ca -batch -notext -config "$dir/ca_$ca/ca.cnf" -cert "$dir/$ca.pem" -keyfile "$dir/$ca.key" \
        -extensions "$ext" -startdate "$start" -enddate "$end" \
        -in "$dir/$name.csr" -out "$dir/$name.pem" 2>/dev/null
    rm -f "$dir/$name.csr"
}

pki_when() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

make_pki() {
    local dir=$1 now past recent soon later far
    mkdir -p "$dir"
    now=$(pki_when 'now - 1 day')
    far=$(pki_when 'now + 5 years')
    past=$(pki_when 'now - 2 years')
    recent=$(pki_when 'now - 1 year')
    soon=$(pki_when 'now + 1 year')
    later=$(pki_when 'now + 3 years')

    pki_root "$dir" root "Test NCA Root"
    pki_root "$dir" other_root "Unknown Root"
    pki_issue "$dir" root intermediate "/C=KZ/O=Test PKI/CN=Test NCA Intermediate" intermediate_ca \
        "$(pki_when 'now - 3 years')" "$(pki_when 'now + 8 years')"
    pki_ca_dir "$dir" ca_intermediate

    pki_issue "$dir" intermediate person "/C=KZ/SN=TESTOV/GN=TEST/CN=TESTOV TEST/serialNumber=IIN901123300258" signer "$now" "$soon"
    pki_issue "$dir" intermediate person_rsa "/C=KZ/SN=TESTOV/GN=TEST/CN=TESTOV TEST/serialNumber=IIN901123300258" signer "$now" "$soon" rsa
    pki_issue "$dir" intermediate person2 "/C=KZ/SN=OTHER/GN=PERSON/CN=OTHER PERSON/serialNumber=IIN871008401427" signer "$now" "$soon"
    pki_issue "$dir" intermediate business "/C=KZ/CN=TESTOV TEST/serialNumber=IIN901123300258/O=TOO Dual One/OU=BIN990940003030" signer "$now" "$soon"
    pki_issue "$dir" intermediate centre "/C=KZ/CN=OTHER PERSON/serialNumber=IIN871008401427/O=TOO Service/OU=BIN940140000385" signer "$now" "$soon"
    pki_issue "$dir" intermediate expired "/C=KZ/CN=TESTOV TEST/serialNumber=IIN901123300258" signer "$past" "$recent"
    pki_issue "$dir" intermediate future "/C=KZ/CN=TESTOV TEST/serialNumber=IIN901123300258" signer "$soon" "$later"
    pki_issue "$dir" intermediate revoked "/C=KZ/CN=TESTOV TEST/serialNumber=IIN901123300258" signer "$now" "$soon"
    pki_issue "$dir" intermediate encipher "/C=KZ/CN=TESTOV TEST/serialNumber=IIN901123300258" encipher "$now" "$soon"
    pki_issue "$dir" other_root stranger "/C=KZ/CN=TESTOV TEST/serialNumber=IIN901123300258" signer "$now" "$far"

    openssl ca -config "$dir/ca_intermediate/ca.cnf" -cert "$dir/intermediate.pem" -keyfile "$dir/intermediate.key" \
        -revoke "$dir/revoked.pem" 2>/dev/null
    openssl ca -gencrl -config "$dir/ca_intermediate/ca.cnf" -cert "$dir/intermediate.pem" -keyfile "$dir/intermediate.key" \
        -out "$dir/crl.pem" 2>/dev/null
    openssl crl -in "$dir/crl.pem" -outform DER -out "$dir/crl.der"
    openssl ca -gencrl -config "$dir/ca_other_root/ca.cnf" -cert "$dir/other_root.pem" -keyfile "$dir/other_root.key" \
        -out "$dir/other_crl.pem" 2>/dev/null
}

# sign DIR SIGNER FILE: a detached CMS signature (DER) of FILE's exact bytes
sign() {
    openssl cms -sign -binary -in "$3" -signer "$1/$2.pem" -inkey "$1/$2.key" \
        -certfile "$1/intermediate.pem" -outform DER
}

# hex: stdin as one line of hex digits (for decode(..., 'hex'))
hex() { od -An -tx1 -v | tr -d ' \n'; }

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    make_pki "$1"
fi
