-- The database's default search_path ("$user", public), as a DBA has it
-- right after CREATE EXTENSION: the first calls work with untyped literals,
-- and the type's operators, operator classes and min/max, which live in
-- pg_catalog, serve plain queries with the indexes.  Then a role that can
-- create in public defines its own = and min on the type: the admin's plain
-- queries still run the extension's.
-- IMEIs of this file: TAC 35847631.  Nothing here sets search_path.
SHOW search_path;

-- Where the operators, classes and aggregates are: pg_catalog, once each,
-- all members of the extension; none left in imei_registry.
SELECT n.nspname, o.oprleft::regtype, count(*) AS operators
FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
WHERE o.oprleft IN ('imei_registry.imei'::regtype, 'imei_registry.imeisv'::regtype,
                    'imei_registry.iin'::regtype, 'imei_registry.bin'::regtype)
GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS in_imei_registry
FROM (SELECT oprnamespace FROM pg_operator UNION ALL
      SELECT opcnamespace FROM pg_opclass UNION ALL
      SELECT opfnamespace FROM pg_opfamily UNION ALL
      SELECT p.pronamespace FROM pg_proc p WHERE p.prokind = 'a') s(nsp)
WHERE nsp = 'imei_registry'::regnamespace;
SELECT i.type, i.schema, count(*)
FROM pg_depend d, pg_identify_object(d.classid, d.objid, 0) i
WHERE d.refclassid = 'pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'imei_registry')
  AND d.deptype = 'e'
  AND i.type IN ('operator', 'operator class', 'operator family', 'aggregate')
GROUP BY 1, 2 ORDER BY 1, 2;

-- Untyped literals: the imei overload wins over imeisv (same type category,
-- imei preferred), a 16-digit literal gets imei's hint, an IMEISV typed as
-- one still reaches its overload.  (Errors roll back to a savepoint only.)
\set ON_ERROR_ROLLBACK on
BEGIN;
INSERT INTO imei_registry.operators VALUES ('beeline', 'Beeline') ON CONFLICT DO NOTHING;
SELECT imei_registry.report_connection('358476310000013', 'beeline');
SELECT imei_registry.report_connection('358476310000021', 'beeline', '2025-05-01 10:00+05');
SELECT imei_registry.report_connection('358476310000096', 'beeline', now() - interval '1 day');
SELECT imei_registry.report_connection('3584763100000310', 'beeline');
SELECT imei_registry.report_connection('3584763100000310'::imei_registry.imeisv, 'beeline');
SELECT imei, status, reason, first_seen_at = now() AS seen_now FROM imei_registry.registry
WHERE imei IN ('358476310000013', '358476310000021', '358476310000039', '358476310000096')
ORDER BY imei;
-- register_import: a list typed as ARRAY['...'] (text[], through the one
-- implicit cast text[] -> imei[]), as an array literal, and as imei[].
SELECT imei, status, registered FROM imei_registry.register_import(ARRAY['358476310000047', '358476310000054'], 'Acme LLP');
SELECT imei, status, registered FROM imei_registry.register_import('{358476310000062}', 'Acme LLP');
SELECT imei, status, registered FROM imei_registry.register_import(ARRAY['358476310000070']::imei_registry.imei[], 'Acme LLP');
SELECT imei, status, registered FROM imei_registry.register_import(ARRAY['358476310000071'], 'Acme LLP');
SELECT imei, status, registered FROM imei_registry.register_import('{358476310000071}', 'Acme LLP');
SELECT castsource::regtype, casttarget::regtype, castcontext, castmethod FROM pg_cast
WHERE castcontext <> 'e'
  AND (castsource IN (SELECT oid FROM pg_type WHERE typnamespace = 'imei_registry'::regnamespace)
    OR casttarget IN (SELECT oid FROM pg_type WHERE typnamespace = 'imei_registry'::regnamespace));
-- imei_check_digit(text): a 14-digit body, or 15 digits verified.
SELECT imei_registry.imei_check_digit('358476310000013') AS of_imei,
       imei_registry.imei_check_digit('35-847631-000001-3') AS printed,
       imei_registry.imei_check_digit('35847631000001') AS of_body,
       imei_registry.imei_check_digit('358476310000013'::imei_registry.imei) AS imei_overload;
SELECT imei_registry.imei_check_digit('358476310000014');
SELECT imei_registry.imei_check_digit('3584763100000');
ROLLBACK;
\set ON_ERROR_ROLLBACK off

-- Plain comparison, ORDER BY, min and max on the default path, served by
-- the primary key (enable_seqscan off: a comparison that no index serves
-- would still be a Seq Scan; enable_bitmapscan off: whether a range scan
-- is a bitmap scan depends on the visibility map, not on the operators).
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM imei_registry.registry WHERE imei = '358476310000013';
EXPLAIN (COSTS OFF) SELECT * FROM imei_registry.registry WHERE '358476310000013' = imei;
EXPLAIN (COSTS OFF) SELECT imei FROM imei_registry.registry
WHERE imei BETWEEN '358476310000013' AND '358476310000096';
EXPLAIN (COSTS OFF) SELECT imei FROM imei_registry.registry ORDER BY imei LIMIT 3;
-- min/max: only the scans of the plan (the lines around them differ
-- between PostgreSQL versions)
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q;
END $$;
SELECT btrim(regexp_replace(line, '^\s*->\s*', '')) AS scans
FROM pg_temp.plan_of('SELECT min(imei), max(imei) FROM imei_registry.registry') AS line
WHERE line LIKE '%Scan%';
EXPLAIN (COSTS OFF) SELECT imei FROM imei_registry.registry ORDER BY imei USING > LIMIT 1;
RESET enable_seqscan;
RESET enable_bitmapscan;
-- The other types of the template too.
SELECT '901123300258'::imei_registry.iin = '901123300258' AS iin_eq,
       '990940003030'::imei_registry.bin > '011140004703' AS bin_gt,
       '3584763100000310'::imei_registry.imeisv <> '3584763100000311' AS imeisv_ne;
SELECT min(v), max(v) FROM (VALUES ('358476310000013'::imei_registry.imei),
                                   ('358476310000021')) t(v);
-- A BRIN class, named unqualified.
CREATE TABLE public.sp_brin (imei imei_registry.imei);
CREATE INDEX ON public.sp_brin USING brin (imei imei_minmax_ops);
DROP TABLE public.sp_brin;

-- A role that can create in public (PostgreSQL 15 grants that to no one by
-- default; many databases still do) defines =, <, min and max on the type,
-- in several shapes.  Called by name they run; the admin's plain queries,
-- on the default path or with imei_registry added after public, do not.
CREATE ROLE regress_sp_evil;
GRANT CREATE ON SCHEMA public TO regress_sp_evil;
SET ROLE regress_sp_evil;
CREATE FUNCTION public.sp_evil(a imei_registry.imei, b imei_registry.imei) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'shadow operator ran'; RETURN true; END $$;
CREATE FUNCTION public.sp_evil(a imei_registry.imei, b text) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'shadow operator ran'; RETURN true; END $$;
CREATE FUNCTION public.sp_evil(a text, b imei_registry.imei) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'shadow operator ran'; RETURN true; END $$;
CREATE FUNCTION public.sp_evil(a imei_registry.imei, b anyelement) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'shadow operator ran'; RETURN true; END $$;
CREATE FUNCTION public.sp_evil(a anyelement, b imei_registry.imei) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'shadow operator ran'; RETURN true; END $$;
CREATE FUNCTION public.sp_evil_pick(a imei_registry.imei, b imei_registry.imei)
    RETURNS imei_registry.imei
    LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'shadow aggregate ran'; RETURN coalesce(a, b); END $$;
CREATE OPERATOR public.= (LEFTARG = imei_registry.imei, RIGHTARG = imei_registry.imei,
                          FUNCTION = public.sp_evil);
CREATE OPERATOR public.< (LEFTARG = imei_registry.imei, RIGHTARG = imei_registry.imei,
                          FUNCTION = public.sp_evil);
CREATE OPERATOR public.= (LEFTARG = imei_registry.imei, RIGHTARG = text,
                          FUNCTION = public.sp_evil);
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = imei_registry.imei,
                          FUNCTION = public.sp_evil);
CREATE OPERATOR public.= (LEFTARG = imei_registry.imei, RIGHTARG = anyelement,
                          FUNCTION = public.sp_evil);
CREATE OPERATOR public.= (LEFTARG = anyelement, RIGHTARG = imei_registry.imei,
                          FUNCTION = public.sp_evil);
CREATE AGGREGATE public.min(imei_registry.imei) (SFUNC = public.sp_evil_pick,
                                                 STYPE = imei_registry.imei);
CREATE AGGREGATE public.max(imei_registry.imei) (SFUNC = public.sp_evil_pick,
                                                 STYPE = imei_registry.imei);
-- pg_catalog, which is searched first, is closed to it.
CREATE OPERATOR pg_catalog.== (LEFTARG = imei_registry.imei, RIGHTARG = imei_registry.imei,
                               FUNCTION = public.sp_evil);
RESET ROLE;
-- By name, the role's objects run.
SELECT '358476310000013'::imei_registry.imei OPERATOR(public.=) '358476310000021';
SELECT public.min(v) FROM (VALUES ('358476310000013'::imei_registry.imei)) t(v);

CREATE TABLE public.sp_devices (imei imei_registry.imei PRIMARY KEY);
INSERT INTO public.sp_devices VALUES ('358476310000013'), ('358476310000021');
-- No NOTICE below: every statement runs the extension's operators.
SELECT imei FROM public.sp_devices WHERE imei = '358476310000013';
SELECT imei FROM public.sp_devices WHERE '358476310000021' = imei;
SELECT imei FROM public.sp_devices WHERE imei = '358476310000088';
SELECT imei FROM public.sp_devices WHERE imei < '358476310000021';
SELECT imei FROM public.sp_devices ORDER BY imei USING <;
SELECT min(imei), max(imei) FROM public.sp_devices;
SELECT count(*) FROM public.sp_devices a JOIN public.sp_devices b ON a.imei = b.imei;
SET search_path = "$user", public, imei_registry;
SELECT imei FROM public.sp_devices WHERE imei = '358476310000088';
SELECT min(imei), max(imei) FROM public.sp_devices;
SELECT count(*) FROM registry WHERE imei = '358476310000088';
RESET search_path;

DROP TABLE public.sp_devices;
DROP OWNED BY regress_sp_evil;
DROP ROLE regress_sp_evil;
