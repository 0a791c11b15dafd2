-- Forged history (issue 12): registry_history kept its plans for the life
-- of the backend, prepared for whichever relation fired it first; a plan
-- made for a bait table read the registry's rows by the bait's column
-- positions.  Each attack runs in a fresh backend (\c), so that none
-- profits from another's poisoned plan.  Each ends with the question that
-- matters: does every history row say what the registry says?
-- IMEIs of this file: TAC 86000013.
CREATE SCHEMA regress_sec;
GRANT USAGE ON SCHEMA regress_sec TO PUBLIC;
CREATE FUNCTION regress_sec.t(n int) RETURNS imei_registry.imei
    LANGUAGE sql AS $$ SELECT imei_registry.imei_from_body('86000013' || lpad(n::text, 6, '0')) $$;
-- the last history row of an IMEI against its registry row
SET search_path = imei_registry, public;
CREATE VIEW regress_sec.truth AS
    SELECT imei_snr(r.imei)::int AS n, h.to_status = r.status AS status_true, h.reason = r.reason AS reason_true,
           h.changed_at = r.since AS changed_at_true
      FROM imei_registry.registry r
      JOIN LATERAL (SELECT * FROM imei_registry.history h WHERE h.imei = r.imei
                    ORDER BY h.id DESC LIMIT 1) h ON true
     WHERE imei_tac(r.imei) = '86000013';
RESET search_path;
GRANT SELECT ON regress_sec.truth TO PUBLIC;
CREATE ROLE regress_sec_operator LOGIN IN ROLE imei_registry_operator;
CREATE ROLE regress_sec_admin LOGIN IN ROLE imei_registry_admin;
INSERT INTO imei_registry.operators VALUES ('sec_beeline', 'Security test operator');

-- 1. An operator: a bait whose since sits where the registry has
-- first_seen_at; fired once (its history INSERT fails, the plan stayed),
-- then report_connection() under the search_path it uses.  The history row
-- said changed_at 2025-06-03 (the connection) while the registry's since is now.
\c -
SET ROLE regress_sec_operator;
SET search_path = pg_catalog, imei_registry, pg_temp;
CREATE TEMP TABLE bait (imei imei_registry.imei, status imei_registry.status, reason text,
    x timestamptz, since timestamptz, first_operator text, grey_last_day date,
    device_id bigint, application_id bigint, import_id bigint, note text);
CREATE TRIGGER h AFTER INSERT ON bait REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.registry_history();
INSERT INTO bait VALUES (regress_sec.t(1), 'grey', 'unverified', now(), now(), NULL, NULL,
                         NULL, NULL, NULL, NULL);
SELECT imei_registry.report_connection(regress_sec.t(1), 'sec_beeline', '2025-06-03');
RESET ROLE;
SELECT * FROM regress_sec.truth WHERE n = 1;

-- 2. The same bait, the operator's, with the trigger attached by a
-- superuser: the trigger refuses the relation before it prepares anything.
\c -
CREATE TABLE regress_sec.bait (imei imei_registry.imei, status imei_registry.status, reason text,
    x timestamptz, since timestamptz, first_operator text, grey_last_day date,
    device_id bigint, application_id bigint, import_id bigint, note text);
ALTER TABLE regress_sec.bait OWNER TO regress_sec_operator;
CREATE TRIGGER h AFTER INSERT ON regress_sec.bait REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.registry_history();
SET search_path = pg_catalog, imei_registry, pg_temp;
SET ROLE regress_sec_operator;
INSERT INTO regress_sec.bait VALUES (regress_sec.t(2), 'grey', 'unverified', now(), now(), NULL, NULL,
                                     NULL, NULL, NULL, NULL);
SELECT imei_registry.report_connection(regress_sec.t(2), 'sec_beeline', '2025-06-03');
RESET ROLE;
SELECT * FROM regress_sec.truth WHERE n = 2;

-- 3. An admin: reason where the registry has first_operator, since where it
-- has first_seen_at.  The history said "black by lawful_import in 1999".
\c -
SET ROLE regress_sec_admin;
CREATE TEMP TABLE bait (imei imei_registry.imei, status imei_registry.status, x text,
    y timestamptz, since timestamptz, reason text, grey_last_day date,
    device_id bigint, application_id bigint, import_id bigint, note text);
CREATE TRIGGER h AFTER INSERT ON bait REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.registry_history();
INSERT INTO bait VALUES (regress_sec.t(3), 'black', 'x', now(), now(), 'y', NULL,
                         NULL, NULL, NULL, NULL);
INSERT INTO imei_registry.operators VALUES ('lawful_import', 'look-alike');
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at, first_operator)
    VALUES (regress_sec.t(3), 'black', 'gsma_blocked', '1999-06-01', 'lawful_import');
RESET ROLE;
SELECT * FROM regress_sec.truth WHERE n = 3;

-- 4. The COPY path: an operator's bait under the search_path the upload
-- runs with, then an upload of connections.
\c -
SET ROLE regress_sec_operator;
SET search_path = pg_catalog, pg_temp;
CREATE TEMP TABLE bait (imei imei_registry.imei, status imei_registry.status, reason text,
    x timestamptz, since timestamptz, first_operator text, grey_last_day date,
    device_id bigint, application_id bigint, import_id bigint, note text);
CREATE TRIGGER h AFTER INSERT ON bait REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.registry_history();
INSERT INTO bait VALUES (regress_sec.t(4), 'grey', 'unverified', now(), now(), NULL, NULL,
                         NULL, NULL, NULL, NULL);
SET client_min_messages = warning;
COPY imei_registry.upload_connections FROM STDIN WITH (FORMAT csv);
sec_beeline,860000130000044,2025-06-03 10:00+00
\.
RESET client_min_messages;
RESET ROLE;
SELECT * FROM regress_sec.truth WHERE n = 4;

-- 5. The UPDATE plan: made for a bait whose since is a timestamp without
-- time zone, it made the next status change of the registry in this
-- backend fail (the executor checks the types of a tuplestore's columns).
\c -
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at) VALUES (regress_sec.t(5), 'white', 'grandfathered', '2025-03-01 12:00+05');
SET ROLE regress_sec_admin;
SET search_path = pg_catalog, imei_registry, pg_temp;
CREATE TEMP TABLE bait (imei imei_registry.imei, status imei_registry.status, reason text,
    since timestamp, application_id bigint, import_id bigint, note text);
INSERT INTO bait VALUES (regress_sec.t(5), 'white', 'lawful_import', now(), NULL, NULL, NULL);
CREATE TRIGGER h AFTER UPDATE ON bait REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION imei_registry.registry_history();
UPDATE bait SET status = 'black', reason = 'counterfeit';
SELECT imei_registry.block(regress_sec.t(5), 'counterfeit');
RESET ROLE;
SELECT * FROM regress_sec.truth WHERE n = 5;

-- 6. Two writers of the history rows: the multi-insert path
-- (src/history_insert.c) and, when the history has a row trigger of the
-- site's that that path would not run, the INSERT statement.  Both write
-- the same true rows, and the site's trigger sees each of them.
CREATE TABLE regress_sec.seen (imei imei_registry.imei, to_status imei_registry.status);
CREATE FUNCTION regress_sec.seen() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO regress_sec.seen VALUES (NEW.imei, NEW.to_status); RETURN NULL; END $$;
INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at, first_operator)
SELECT regress_sec.t(n), 'grey', 'unverified', '2025-06-03 10:00+05', 'sec_beeline'
FROM generate_series(40, 42) n;
CREATE TRIGGER site_audit AFTER INSERT ON imei_registry.history
    FOR EACH ROW EXECUTE FUNCTION regress_sec.seen();
UPDATE imei_registry.registry SET status = 'black', reason = 'counterfeit'
WHERE imei IN (SELECT regress_sec.t(n) FROM generate_series(40, 42) n);
DROP TRIGGER site_audit ON imei_registry.history;
SELECT imei_registry.imei_snr(imei)::int AS n, to_status FROM regress_sec.seen ORDER BY 1;
SELECT imei_registry.imei_snr(h.imei)::int AS n, h.from_status, h.to_status, h.reason,
       h.actor = session_user AS actor_true, h.first_seen_at, h.first_operator, h.grey_last_day,
       h.xid IS NOT NULL AS has_xid
FROM imei_registry.history h
WHERE h.imei IN (SELECT regress_sec.t(n) FROM generate_series(40, 42) n)
ORDER BY h.id;
SELECT * FROM regress_sec.truth WHERE n BETWEEN 40 AND 42 ORDER BY n;

-- After all this, every history row of the file is true.
SELECT count(*) AS rows, bool_and(status_true AND reason_true AND changed_at_true) AS all_true
FROM regress_sec.truth;

DROP TABLE pg_temp.bait;
SET client_min_messages = warning;
DROP SCHEMA regress_sec CASCADE;
RESET client_min_messages;
-- Cleanup: registry rows are never deleted; the tables go with the extension.
SET client_min_messages = warning;
\i test/fixtures/fresh_registry.sql
RESET client_min_messages;
DROP ROLE regress_sec_operator, regress_sec_admin;
