-- Sample data and a short tour, run by scripts/try in database "imei" with
-- its default search_path: functions and tables are spelled
-- imei_registry.name; the operators, ORDER BY and min/max need nothing.
\set ECHO queries
CREATE EXTENSION imei_registry;
-- the data tables, once per database (docs/registry.md, "Layout")
SELECT imei_registry.create_registry();

-- The type: typos are caught at the door.
SELECT '35-209900-176148-1'::imei_registry.imei AS printed_form, '001013001234568'::imei_registry.imei AS leading_zeros;
\set ON_ERROR_STOP off
SELECT '352099001761482'::imei_registry.imei AS typo;
SELECT '35209900176148'::imei_registry.imei AS fourteen_digits;
\set ON_ERROR_STOP on
SELECT imei_registry.imei_from_body('35209900176148') AS from_body,
       imei_registry.imei_from_network('3520990017614823') AS from_imeisv,
       imei_registry.imei_tac('352099001761481') AS tac;

-- Operators, a TAC, this year's MCI.
INSERT INTO imei_registry.operators (code, name) VALUES ('beeline', 'Beeline'), ('kcell', 'Kcell'), ('tele2', 'Tele2');
INSERT INTO imei_registry.tac (tac, brand, model, device_type, sim_slots)
VALUES ('35209900', 'Samsung', 'Galaxy A55', 'smartphone', 2);
INSERT INTO imei_registry.mci (year, tenge)
SELECT extract(year FROM now())::int, 3932 ON CONFLICT DO NOTHING;

-- An importer registers officially imported devices: they start white.
SELECT status, count(*) AS imeis
FROM imei_registry.register_import(ARRAY(SELECT imei_registry.imei_from_body((35209900100000 + g)::text)
                                         FROM generate_series(1, 1000) g), 'Sample Importer LLP')
GROUP BY status;

-- Operators report devices seen in their networks: unknown ones turn grey.
SELECT imei_registry.report_connection(imei_registry.imei_from_body((86000000200000 + g)::text), 'beeline')
FROM generate_series(1, 5) g;
SELECT imei_registry.report_connection('352099001761481', 'kcell', now() - interval '40 days');
SELECT imei_registry.report_connection('352099001761499', 'kcell');

-- The public "check before purchase" service.
SELECT * FROM imei_registry.check_imei('352099001761481');
SELECT * FROM imei_registry.check_imei('352099001000013');
SELECT * FROM imei_registry.check_imei('490154203237518');

-- Plain SQL on the register: the primary key serves =, ORDER BY, min/max.
SELECT imei, status, reason FROM imei_registry.registry WHERE imei = '352099001761481';
SELECT min(imei), max(imei), count(*) FROM imei_registry.registry;
EXPLAIN (COSTS OFF) SELECT * FROM imei_registry.registry WHERE imei = '352099001761481';

-- Applications are signed by the applicant (an NCA RK certificate in
-- production).  scripts/try made a demo CA and a certificate for IIN
-- 901123300258 with the openssl command, and signed the two documents
-- (in $TRY_DIR/pki); the database trusts the demo CA.
\set ECHO none
\echo 'INSERT INTO imei_registry.trusted_certificates (certificate, note) VALUES (:root, ...), (:intermediate, ...);'
INSERT INTO imei_registry.trusted_certificates (certificate, note)
VALUES (:'root', 'scripts/try demo root'), (:'intermediate', 'scripts/try demo intermediate');
\set ECHO queries
SELECT subject, note FROM imei_registry.trusted_certificates ORDER BY id;

-- A traveller proves a personal import of a dual-SIM phone: both IMEIs.
-- (The document and its signature are long: psql shows their names.)
\set ECHO none
\echo 'SELECT imei_registry.decide_application(imei_registry.submit_application(:document, :signature));'
\echo :baggage
SELECT imei_registry.decide_application(imei_registry.submit_application(
    convert_from(decode(:'baggage_hex', 'hex'), 'UTF8'), decode(:'baggage_sig', 'hex')));
\set ECHO queries
SELECT signer_subject, signer_issuer, verified_at FROM imei_registry.application_signatures;

-- A cash receipt is never evidence: rejected, with every reason at once.
\set ECHO none
\echo 'SELECT jsonb_pretty(imei_registry.decide_application(imei_registry.submit_application(:document, :signature)));'
\echo :parcel
SELECT jsonb_pretty(imei_registry.decide_application(imei_registry.submit_application(
    convert_from(decode(:'parcel_hex', 'hex'), 'UTF8'), decode(:'parcel_sig', 'hex'))));

-- The same document with one byte changed is refused: the signature no
-- longer matches (SQLSTATE IR101), and nothing is stored.
\echo 'SELECT imei_registry.submit_application(replace(:document, ''R-7'', ''R-8''), :signature);'
\set ON_ERROR_STOP off
SELECT imei_registry.submit_application(
    replace(convert_from(decode(:'parcel_hex', 'hex'), 'UTF8'), 'R-7', 'R-8'), decode(:'parcel_sig', 'hex'));
\set ON_ERROR_STOP on
\set ECHO queries

-- The grey period ends: a device first seen 45 days ago and never verified
-- turns black when the expiry runs (pg_cron would CALL it every hour).
SELECT imei_registry.report_connection(imei_registry.imei_from_body('86000000300000'), 'tele2', now() - interval '45 days');
CALL imei_registry.expire_grey_period();
SELECT * FROM imei_registry.check_imei(imei_registry.imei_from_body('86000000300000'));

-- A GSMA block-list match, loaded by COPY like any feed.
COPY imei_registry.upload_blocklist (imei, listed_on, reason) FROM STDIN (FORMAT csv);
352099001000013,2025-11-01,stolen
860000002000015,2025-11-01,stolen
not-an-imei,2025-11-01,stolen
\.
SELECT target, rows_read, rows_loaded, rows_rejected FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1;
SELECT line_number, reason, message FROM imei_registry.import_rejects;

-- Every change is in the append-only history.
SELECT imei, from_status, to_status, reason, actor FROM imei_registry.history ORDER BY id DESC LIMIT 8;
SELECT status, count(*) FROM imei_registry.registry GROUP BY status ORDER BY status;
