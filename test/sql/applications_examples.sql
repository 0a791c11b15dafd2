-- The examples of docs/applications.md, one per method, submitted and
-- decided; then one application with several mistakes, to show the whole
-- decision.  Everything runs in one transaction and is rolled back.
BEGIN;
SET LOCAL search_path = public, imei_registry;
-- The examples are unsigned documents: the setting is off for this
-- transaction (signed applications: test/sql/signatures.sql).
SET LOCAL imei_registry.require_signature = off;
INSERT INTO imei_registry.mci (year, tenge)
VALUES (extract(year FROM now() AT TIME ZONE 'Asia/Almaty')::int, 4325)
ON CONFLICT (year) DO UPDATE SET tenge = excluded.tenge;
INSERT INTO imei_registry.tac (tac, brand, model, device_type, sim_slots) VALUES
    ('86100101', 'Acme', 'Duo',  'smartphone', 2),
    ('86100102', 'Acme', 'Solo', 'smartphone', 1),
    ('86100103', 'Acme', 'Duo',  'smartphone', 2);
INSERT INTO imei_registry.service_centres (bin, name, valid_from)
VALUES ('940140000385', 'Acme Service', '2025-01-01');
-- the importers registered the official retailer's phone and the first SIM
-- of the additional-IMEI device ...
SELECT imei, status, registered
FROM imei_registry.register_import(ARRAY['356868000041426', '861001010000095'], 'Acme Distribution');
-- ... the other IMEIs of the examples first connect (grey), but for the
-- commercial import's second phone (unsold) and the new board's IMEI ...
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
SELECT i::imei_registry.imei, 'grey', 'unverified', now()
FROM unnest(ARRAY['352099001761481', '352099001761499', '861812069402168', '861812069402176',
                  '356868000041418', '860001000000007', '860001000000015',
                  '861001030000091', '861001010000012']) i;
-- ... and the old board's IMEI is white already (in the networks before
-- the rules)
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)
VALUES ('861001020000077', 'white', 'grandfathered', '2025-03-01 12:00+05');

CREATE TEMP TABLE examples (method text, doc jsonb);
INSERT INTO examples VALUES
('accompanied_baggage', '{"applicant": {"kind": "individual", "id": "901123300258"},
     "method": "accompanied_baggage", "import_date": "2025-06-01", "exporting_country": "AE",
     "documents": [{"type": "border_crossing_certificate", "number": "BC-1", "holder_id": "901123300258"}],
     "devices": [{"model": "Galaxy A55", "imeis": ["352099001761481", "352099001761499"]}]}'),
('parcel', '{"applicant": {"kind": "individual", "id": "871008401427"},
     "method": "parcel", "exporting_country": "CN", "delivery_service": "China Post",
     "documents": [{"type": "tracking_number", "number": "RR123456789CN"}],
     "devices": [{"model": "Redmi 13", "imeis": ["861812069402168", "861812069402176"]}]}'),
('gift', '{"applicant": {"kind": "individual", "id": "871008401427"},
     "method": "gift", "exporting_country": "TR", "delivery_service": "Kazpost",
     "documents": [{"type": "tracking_number", "number": "LX1", "holder_id": "871008401427"}],
     "devices": [{"imeis": ["356868000041418"]}]}'),
('official_retailer', '{"applicant": {"kind": "individual", "id": "901123300258"},
     "method": "official_retailer",
     "devices": [{"model": "iPhone 15", "imeis": ["356868000041426"]}]}'),
('commercial_import', '{"applicant": {"kind": "legal_entity", "id": "990940003030"},
     "method": "commercial_import",
     "documents": [{"type": "goods_declaration", "number": "GD-50-2025", "holder_id": "990940003030"}],
     "devices": [{"model": "Dual One", "imeis": ["860001000000007", "860001000000015"]},
                 {"model": "Dual One", "imeis": ["860001000000023", "860001000000031"]}]}'),
('board_replacement', '{"applicant": {"kind": "service_centre", "id": "940140000385"},
     "method": "board_replacement",
     "documents": [{"type": "service_order", "number": "SO-9"}],
     "devices": [{"model": "Solo", "imeis": ["861001020000085"]}],
     "replacements": [{"old_imei": "861001020000077", "new_imei": "861001020000085"}]}'),
('additional_imei', '{"applicant": {"kind": "individual", "id": "901123300258"},
     "method": "additional_imei",
     "devices": [{"model": "Duo", "imeis": ["861001010000095", "861001030000091"]}]}');

SELECT e.method, d ->> 'decision' AS decision, d -> 'fee' AS fee, d -> 'reasons' AS reasons
FROM examples e, LATERAL imei_registry.decide_application(imei_registry.submit_application(e.doc)) d
ORDER BY e.method;

-- The register after the approvals, and the history the trigger wrote.
SELECT r.imei, r.status, r.reason, a.method, r.import_id IS NOT NULL AS import, r.note
FROM imei_registry.registry r JOIN imei_registry.applications a ON a.id = r.application_id
ORDER BY r.imei;
-- The devices, each with all its IMEIs.
SELECT d.model, d.sim_slots, array_agg(r.imei::text || ' ' || r.status ORDER BY r.imei) AS imeis
FROM imei_registry.devices d JOIN imei_registry.registry r USING (device_id)
GROUP BY d.device_id, d.model, d.sim_slots
ORDER BY min(r.imei);
SELECT h.imei, h.from_status, h.to_status, h.reason, a.method, h.note
FROM imei_registry.history h JOIN imei_registry.applications a ON a.id = h.application_id
ORDER BY h.imei, h.id;

-- Three mistakes, three reasons: a photo, a missing eSIM IMEI, a typo.
SELECT d ->> 'decision' AS decision, r ->> 'code' AS code, r ->> 'imei' AS imei, r ->> 'message' AS message
FROM imei_registry.decide_application(imei_registry.submit_application(
    '{"applicant": {"kind": "individual", "id": "901123300258"},
      "method": "accompanied_baggage", "import_date": "2025-06-01", "exporting_country": "AE",
      "documents": [{"type": "passenger_customs_declaration"}, {"type": "photo"}],
      "devices": [{"model": "Duo", "imeis": ["861001010000012"]},
                  {"model": "Solo", "imeis": ["861001020000011"]}]}')) d,
     jsonb_array_elements(d -> 'reasons') r;
SELECT state, fee_mci, decided_at IS NOT NULL AS decided FROM imei_registry.applications
ORDER BY id DESC LIMIT 1;
ROLLBACK;
