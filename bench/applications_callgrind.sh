#!/usr/bin/env bash
# Deciding a business application against its floor in instructions, which
# do not depend on the machine's load: callgrind of single-user backends
# (postgres --single) on a scratch cluster of its own (bench/lib/callgrind.sh).  The data are
# bench/applications.sh's: DEVICES devices of two IMEIs each, all grey,
# one commercial import that lists them all.
#
#   bench/applications_callgrind.sh [DEVICES]   (default 10000)
#   (KEEP_WORK=1 keeps the scratch cluster, CALLGRIND_KEEP=DIR the profiles)
#
# Run it as a user that may run postgres (as root it runs as postgres),
# with the extension
# installed in the PostgreSQL that PG_BIN names (default: pg_config
# --bindir).  Prints the instructions of:
#   decision: a backend that submits, pays and decides, less one that only
#             submits and pays;
#   floor:    the writes the approval cannot avoid, one statement each with
#             the triggers off: the IMEIs' status change (with each one's
#             device_id), their history rows and the device rows, less a
#             backend's start;
#   floor without devices: the status change and history rows alone
#             (bench/applications.sh's decide_per_floor).
set -euo pipefail
DEVICES=${1:-10000}
PG_BIN=${PG_BIN:-$(pg_config --bindir)}
. "$(dirname "$0")/lib/callgrind.sh"
cg_opts+=(-c imei_registry.require_signature=off)
printf '%s\n' "CREATE DATABASE t" | single postgres
# (single-user mode ends a statement at a newline: one line each)
printf '%s\n' "CREATE EXTENSION imei_registry" "SELECT imei_registry.create_registry()" \
    "INSERT INTO imei_registry.mci SELECT extract(year FROM now() AT TIME ZONE 'Asia/Almaty'), 4325 ON CONFLICT DO NOTHING" \
    "INSERT INTO imei_registry.tac VALUES ('86000100', 'Bench', 'Dual One', 'smartphone', 2)" \
    "CREATE TABLE src AS SELECT d, s, imei_registry.imei_from_body('86000100' || lpad((2 * d + s)::text, 6, '0')) AS imei FROM generate_series(0, $DEVICES - 1) d, generate_series(0, 1) s" \
    "CREATE TABLE app_doc AS SELECT jsonb_build_object('applicant', jsonb_build_object('kind', 'legal_entity', 'id', '990940003030'), 'method', 'commercial_import', 'documents', jsonb_build_array(jsonb_build_object('type', 'goods_declaration', 'number', 'GD-1', 'holder_id', '990940003030')), 'devices', (SELECT jsonb_agg(jsonb_build_object('model', 'Dual One', 'imeis', imeis) ORDER BY d) FROM (SELECT d, jsonb_agg(imei::text ORDER BY s) AS imeis FROM src GROUP BY d) g)) AS doc" \
    "INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at) SELECT imei, 'grey', 'unverified', now() FROM src" \
    "VACUUM ANALYZE" | single t
printf '%s\n' "CREATE DATABASE paid TEMPLATE t" "CREATE DATABASE decided TEMPLATE t" "CREATE DATABASE floor TEMPLATE t" \
    "CREATE DATABASE floor_plain TEMPLATE t" | single postgres

submit_pay=("SELECT imei_registry.submit_application(doc) FROM app_doc"
            "SELECT imei_registry.record_payment(1, (SELECT r.fee_tenge FROM imei_registry.request_payment(1) r), clock_timestamp(), 'BENCH-1')")
empty=$(cg paid empty "SELECT 1")
paid=$(cg paid paid "${submit_pay[@]}")
decided=$(cg decided decided "${submit_pay[@]}" "SELECT imei_registry.decide_application(1) ->> 'decision'")
grep -q '"approved"' "$work/decided.stdout" || { echo "the application was not approved" >&2; exit 1; }

off="ALTER TABLE imei_registry.registry DISABLE TRIGGER USER"
hoff="ALTER TABLE imei_registry.history DISABLE TRIGGER history_from_registry_only"
history="INSERT INTO imei_registry.history (imei, from_status, to_status, reason, actor, changed_at, application_id) SELECT imei, 'grey', 'white', 'application_approved', current_user, now(), 1 FROM src"
floor=$(cg floor floor "BEGIN" "$off" "$hoff" \
    "INSERT INTO imei_registry.devices (device_id, model, sim_slots) OVERRIDING SYSTEM VALUE SELECT 1000000000 + d, 'Dual One', 2 FROM generate_series(0, $DEVICES - 1) d" \
    "UPDATE imei_registry.registry r SET status = 'white', reason = 'lawful_import', grey_last_day = NULL, grey_period_days = NULL, device_id = 1000000000 + src.d FROM src WHERE r.imei OPERATOR(pg_catalog.=) src.imei" \
    "$history" "COMMIT")
floor_plain=$(cg floor_plain floor_plain "BEGIN" "$off" "$hoff" \
    "UPDATE imei_registry.registry r SET status = 'white', reason = 'lawful_import', grey_last_day = NULL, grey_period_days = NULL FROM src WHERE r.imei OPERATOR(pg_catalog.=) src.imei" \
    "$history" "COMMIT")
m() { echo $(($1 / 1000000)); }
x() { echo "scale=2; $1 / $2" | bc; }
decision=$((decided - paid)) f=$((floor - empty)) fp=$((floor_plain - empty))
echo "deciding $DEVICES devices ($((2 * DEVICES)) grey IMEIs, commercial import), instructions:"
echo "  floor (status, history, devices):  $(m "$f") M"
echo "  floor without devices:             $(m "$fp") M"
echo "  decision:                          $(m "$decision") M ($(x "$decision" "$f") x floor, $(x "$decision" "$fp") x floor without devices)"
echo "  (submission and payment:           $(m $((paid - empty))) M)"
cg_keep decided.out paid.out floor.out
