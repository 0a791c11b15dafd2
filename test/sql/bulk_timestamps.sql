-- The loaders read an operator's connected_at as timestamptz_in reads it:
-- the spelling operators send (ISO 8601 with an explicit offset) by a fast
-- path of their own (src/bulk_check.c), every other spelling by the general
-- parser.  Each line's stored first_seen_at is compared with its text cast
-- to timestamptz, and a text the cast refuses is a bad_date reject.
-- IMEIs of TAC 35990057 belong to this file.
SET client_min_messages = warning;
SET timezone = 'Asia/Almaty';
INSERT INTO imei_registry.operators (code, name) VALUES ('kz_ts_op', 'Timestamp test operator');

CREATE TEMP TABLE spellings (n int PRIMARY KEY, s text);
INSERT INTO spellings VALUES
    -- the fast path's forms
    (1, '2026-11-03 01:01:00+05'), (2, '2026-11-03T01:01:00Z'), (3, '2026-11-03 01:01+0530'),
    (4, '2026-11-03 01:01:00.123456-03:30'), (5, '2026-11-03 01:01:00.5+05'),
    (6, '2024-02-29 23:59:59+05'), (7, '2026-11-03 01:01:00+15:59'), (8, '2026-11-03 00:00:00-00'),
    -- the general parser's: no offset, a leap second, 24:00, a zone name,
    -- more than microseconds, an offset past 15 hours, another order
    (9, '2026-11-03 01:01:00'), (10, '2026-11-03 23:59:60+05'), (11, '2026-11-03 24:00:00+05'),
    (12, '2026-11-03 01:01:00 Asia/Almaty'), (13, '2026-11-03 01:01:00.1234567+05'),
    (14, '2026-11-03 01:01:00+16'), (15, 'Nov 3 2026 01:01 +05'), (16, '2026-11-03 1:01:00+05'),
    -- not timestamps, whichever path
    (17, '2026-02-29 10:00:00+05'), (18, '2026-13-03 01:01:00+05'), (19, '2026-11-03 01:61:00+05'),
    (20, '2026-11-03 01:01:00+05:60'), (21, '2026-11-03 01:01:00+'), (22, '2026-11-03 01:01:00.+05'),
    (23, '2026-11-03 01:01:00+05 '), (24, '0000-11-03 01:01:00+05'),
    -- a zone name nobody knows: before PostgreSQL 16 the parser raised an
    -- error for it, which aborted the whole load instead of rejecting the line
    (25, '2026-11-03 01:01:00 Mars/Phobos');
CREATE FUNCTION pg_temp.imei_of(n int) RETURNS imei_registry.imei LANGUAGE sql AS
$$ SELECT imei_registry.imei_from_body('35990057' || lpad(n::text, 6, '0')) $$;
CREATE FUNCTION pg_temp.cast_or_null(s text) RETURNS timestamptz LANGUAGE plpgsql AS
$$ BEGIN RETURN s::timestamptz; EXCEPTION WHEN others THEN RETURN NULL; END $$;

INSERT INTO imei_registry.upload_connections (operator, imei, connected_at)
SELECT 'kz_ts_op', pg_temp.imei_of(n)::text, s FROM spellings ORDER BY n;

-- loaded as the cast reads it, or rejected exactly where the cast refuses
SELECT sp.n, sp.s, r.first_seen_at, j.reason,
       r.first_seen_at IS NOT DISTINCT FROM pg_temp.cast_or_null(sp.s) AS as_cast
  FROM spellings sp
  LEFT JOIN imei_registry.registry r ON r.imei OPERATOR(pg_catalog.=) pg_temp.imei_of(sp.n)
  LEFT JOIN imei_registry.import_rejects j
         ON j.import_id = (SELECT max(import_id) FROM imei_registry.imports)
        AND j.raw[2] = pg_temp.imei_of(sp.n)::text
 ORDER BY sp.n;
