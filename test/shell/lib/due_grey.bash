# Sourced by the grey expiry scenarios: a database of their own, dropped on
# exit, holding COUNT grey IMEIs of TAC whose grey period has ended.
#   due_grey_database DB TAC COUNT      (sets up "${psql[@]}" for DB)
due_grey_database() {
    local db=$1 tac=$2 count=$3
    psql=(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db")
    dropdb --if-exists "$db" 2>/dev/null
    createdb "$db"
    trap "dropdb --if-exists '$db'" EXIT
    "${psql[@]}" <<SQL
CREATE EXTENSION imei_registry;
SELECT imei_registry.create_registry();
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
SELECT imei_registry.imei_from_body('$tac' || lpad(s::text, 6, '0')), 'grey', 'unverified',
       (imei_registry.local_date(now()) - 31 - s % 30 + time '00:00') AT TIME ZONE 'Asia/Almaty'
  FROM generate_series(1, $count) AS s;
SQL
}
