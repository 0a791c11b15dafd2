-- A historical operator dump spanning March 2025 (test/data/
-- operator_dump_2025_03.csv), loaded long after: devices in the networks
-- before the rules (imei_registry.rules_start, the end of 25 March in
-- Almaty) are white, grandfathered; the others are grey from their earliest
-- connection, wherever it is in the file, and past their last day now, so
-- the check answers black until the expiry writes it.  IMEIs of TAC 35990060.
SET client_min_messages = warning;
SET TimeZone = 'UTC';
INSERT INTO imei_registry.operators (code, name)
VALUES ('beeline', 'Beeline'), ('kcell', 'Kcell'), ('tele2', 'Tele2')
ON CONFLICT DO NOTHING;
\copy imei_registry.upload_connections from 'test/data/operator_dump_2025_03.csv' with (format csv, header true)
SELECT rows_read, rows_loaded, rows_rejected, rows_already_present
  FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1;
SELECT r.imei, r.status, r.reason, r.first_operator,
       r.first_seen_at AT TIME ZONE 'Asia/Almaty' AS first_seen_almaty, r.grey_last_day
  FROM imei_registry.registry r
 WHERE imei_registry.imei_tac(r.imei) = '35990060' ORDER BY r.imei;
-- the moves within the file are in the history
SELECT h.imei, h.from_status, h.to_status, h.reason, h.first_operator, h.grey_last_day
  FROM imei_registry.history h
 WHERE imei_registry.imei_tac(h.imei) = '35990060' ORDER BY h.imei, h.id;
-- what the check says now, before the expiry has run
SELECT r.imei, c.status, c.reason, c.days_left,
       c.since = (r.grey_last_day + 1 + time '00:00') AT TIME ZONE 'Asia/Almaty' AS since_end_of_period
  FROM imei_registry.registry r, imei_registry.check_imei(r.imei) c
 WHERE imei_registry.imei_tac(r.imei) = '35990060' ORDER BY r.imei;
CALL imei_registry.expire_grey_period();
SELECT r.imei, r.status, r.reason, c.status = r.status AND c.reason = r.reason AS check_agrees
  FROM imei_registry.registry r, imei_registry.check_imei(r.imei) c
 WHERE imei_registry.imei_tac(r.imei) = '35990060' ORDER BY r.imei;
-- a report arriving now of an earlier connection before the rules still
-- makes an expired one white
SELECT imei_registry.report_connection('359900600000085', 'tele2', '2025-03-25 12:00+05');
SELECT status, reason FROM imei_registry.registry WHERE imei = '359900600000085';
