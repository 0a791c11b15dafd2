#!/usr/bin/env bash
# upload_devices against its floor in instructions, which do not depend on
# the machine's load: callgrind of single-user backends (postgres --single)
# on a scratch cluster of its own (bench/lib/callgrind.sh).
#
#   bench/devices_callgrind.sh [LINES]   (default 20000 dual-SIM lines)
#
# Run it as a user that may run postgres (as root it runs as postgres),
# with the extension
# installed in the PostgreSQL that PG_BIN names (default: pg_config
# --bindir).  Prints, net of a backend's start (a "SELECT 1"), the
# instructions of: the load into a fresh application; the same load after
# two uploads of the file that were rolled back; the floor (the rows the
# load wrote COPYed into the same tables of a fresh database, user triggers
# off, one transaction per table, as bench/bulk.sh builds it).
set -euo pipefail
LINES=${1:-20000}
PG_BIN=${PG_BIN:-$(pg_config --bindir)}
. "$(dirname "$0")/lib/callgrind.sh"
/usr/bin/python3 "$(dirname "$0")/lib/device_lines.py" "$LINES" > "$work/devices.csv"
printf '%s\n' "CREATE DATABASE t" | single postgres
printf '%s\n' "CREATE EXTENSION imei_registry" "SELECT imei_registry.create_registry()" \
    "INSERT INTO imei_registry.applications (id, applicant_kind, applicant_id, method, mci_tenge) OVERRIDING SYSTEM VALUE VALUES (1, 'legal_entity', '990340000027', 'commercial_import', 3932)" |
    single t
printf '%s\n' "CREATE DATABASE fresh TEMPLATE t" "CREATE DATABASE rolled TEMPLATE t" "CREATE DATABASE floor TEMPLATE t" |
    single postgres
load="COPY imei_registry.upload_devices FROM '$work/devices.csv' WITH (format csv, header true)"
empty=$(cg fresh empty "SELECT 1")
fresh=$(cg fresh fresh "$load")
printf '%s\n' "BEGIN" "$load" "ROLLBACK" "BEGIN" "$load" "ROLLBACK" | single rolled
rolled=$(cg rolled rolled "$load")
printf '%s\n' "COPY (SELECT application_id, device_ord, model FROM imei_registry.application_devices) TO '$work/dev.csv' WITH (format csv)" \
    "COPY (SELECT application_id, device_ord, ord, imei_text, imei, import_id FROM imei_registry.application_imeis) TO '$work/imeis.csv' WITH (format csv)" |
    single fresh
floor_table() {
    printf '%s\n' "BEGIN" "ALTER TABLE $1 DISABLE TRIGGER USER" "COPY $1 ($2) FROM '$3' WITH (format csv)" \
        "ALTER TABLE $1 ENABLE TRIGGER USER" "COMMIT"
}
mapfile -t floor_sql < <(floor_table imei_registry.application_devices 'application_id, device_ord, model' "$work/dev.csv"
    floor_table imei_registry.application_imeis 'application_id, device_ord, ord, imei_text, imei, import_id' "$work/imeis.csv")
floor=$(cg floor floor "${floor_sql[@]}")
m() { echo $((($1 - empty) / 1000000)); }
x() { echo "scale=2; ($1 - $empty) / ($floor - $empty)" | bc; }
echo "upload_devices, $LINES dual-SIM lines, instructions net of a backend's start ($((empty / 1000000)) M):"
echo "  floor:                               $(m "$floor") M"
echo "  load into a fresh application:       $(m "$fresh") M ($(x "$fresh") x floor)"
echo "  after two rolled-back uploads of it: $(m "$rolled") M ($(x "$rolled") x floor)"
