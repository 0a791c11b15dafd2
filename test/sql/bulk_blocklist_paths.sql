-- upload_blocklist: the paths of a batch.  When the rules allow every
-- change of a batch without a condition on its cause, its new IMEIs go
-- through the multi-insert path and its known ones in one UPDATE; a batch
-- with a change the rules may refuse goes to one statement, and a refusal
-- rejects that row only.  Either way every change is the transition
-- trigger's, with its history row.  IMEIs of TAC 35990070 belong to this
-- file.
SET client_min_messages = warning;
SET timezone = 'UTC';
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at) VALUES
    ('359900700000027', 'grey',  'unverified',    pg_catalog.now() - interval '2 days'),
    ('359900700000035', 'white', 'grandfathered', '2025-03-01 12:00+05'),
    ('359900700000068', 'grey',  'unverified',    pg_catalog.now() - interval '2 days'),
    ('359900700000076', 'white', 'grandfathered', '2025-03-01 12:00+05');

CREATE TEMP VIEW paths_import AS
    SELECT target, rows_read, rows_loaded, rows_rejected, rows_already_present
      FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1;
CREATE TEMP VIEW paths_rejects AS
    SELECT line_number, reason, message FROM imei_registry.import_rejects
     WHERE import_id = (SELECT max(import_id) FROM imei_registry.imports)
     ORDER BY line_number;
CREATE TEMP VIEW paths_imeis AS
    SELECT r.imei, r.status, r.reason, r.note,
           r.import_id = (SELECT max(i.import_id) FROM imei_registry.imports i) AS by_last_load
      FROM imei_registry.registry r
     WHERE imei_registry.imei_tac(r.imei) = '35990070' ORDER BY r.imei;
CREATE TEMP VIEW paths_history AS
    SELECT h.imei, h.from_status, h.to_status, h.reason, h.note,
           h.import_id = (SELECT max(i.import_id) FROM imei_registry.imports i) AS by_last_load
      FROM imei_registry.history h
     WHERE imei_registry.imei_tac(h.imei) = '35990070' AND h.import_id IS NOT NULL
     ORDER BY h.imei, h.id;

-- every change allowed: two new IMEIs, a grey and a white one go black; a
-- line twice is a duplicate
COPY imei_registry.upload_blocklist FROM STDIN (FORMAT csv, HEADER true);
imei,listed_on,reason
359900700000019,2026-02-01,stolen
359900700000027,2026-02-01,lost
359900700000035,2026-02-01,
359900700000043,2026-02-01,counterfeit
359900700000019,2026-02-02,stolen
\.
SELECT * FROM paths_import;
SELECT * FROM paths_rejects;
SELECT * FROM paths_imeis;
SELECT * FROM paths_history;

-- grey_expired leads to black only from grey, past the grey period: a new
-- IMEI and a white one are refused, a grey one within its period too; the
-- batch's other new IMEI still loads
COPY imei_registry.upload_blocklist FROM STDIN (FORMAT csv, HEADER true);
imei,listed_on,reason
359900700000050,2026-02-03,grey_expired
359900700000068,2026-02-03,grey_expired
359900700000076,2026-02-03,grey_expired
359900700000084,2026-02-03,stolen
\.
SELECT * FROM paths_import;
SELECT * FROM paths_rejects;
SELECT * FROM paths_imeis;
SELECT * FROM paths_history;

-- the same first file again: everything black already is present
COPY imei_registry.upload_blocklist FROM STDIN (FORMAT csv, HEADER true);
imei,listed_on,reason
359900700000019,2026-02-01,stolen
359900700000027,2026-02-01,lost
359900700000035,2026-02-01,
359900700000043,2026-02-01,counterfeit
\.
SELECT * FROM paths_import;

-- a line the rules refuse is nobody's earlier line: the same IMEI on a
-- later line of the same batch is judged on its own, and goes black
-- (docs/bulk.md, "A row is a duplicate only of an earlier accepted row")
COPY imei_registry.upload_blocklist FROM STDIN (FORMAT csv, HEADER true);
imei,listed_on,reason
359900700000068,2026-02-04,grey_expired
359900700000068,2026-02-04,
359900700000068,2026-02-04,counterfeit
\.
SELECT * FROM paths_import;
SELECT * FROM paths_rejects;
SELECT * FROM paths_imeis WHERE imei = '359900700000068';
SELECT * FROM paths_history WHERE imei = '359900700000068';
