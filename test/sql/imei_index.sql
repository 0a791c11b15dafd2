-- Operator classes: amvalidate, plans that use the indexes, hash
-- partitioning and joins, BRIN, and COPY round trips in text and binary.
SET search_path = public, imei_registry;

SELECT opc.opcname, am.amname, opc.opcnamespace::regnamespace, amvalidate(opc.oid)
FROM pg_opclass opc
JOIN pg_am am ON am.oid = opc.opcmethod
WHERE opc.opcintype IN ('imei'::regtype, 'imeisv'::regtype, 'iin'::regtype, 'bin'::regtype)
ORDER BY 1, 2;

-- 20,000 valid IMEIs from generated bodies.
CREATE TABLE devices (id int, imei imei);
INSERT INTO devices
SELECT g, imei_from_body(lpad((35209900000000 + g * 7)::text, 14, '0'))
FROM generate_series(1, 20000) g;
CREATE UNIQUE INDEX devices_imei_btree ON devices (imei);
ANALYZE devices;

-- btree support: comparison, sort support, and btequalimage so that
-- deduplication is allowed.
SELECT ap.amprocnum, ap.amproc::regproc
FROM pg_amproc ap JOIN pg_opclass opc ON opc.opcfamily = ap.amprocfamily
WHERE opc.opcname = 'imei_ops' AND opc.opcmethod = (SELECT oid FROM pg_am WHERE amname = 'btree')
ORDER BY 1;

EXPLAIN (COSTS OFF) SELECT * FROM devices WHERE imei = '352099000000709';
SELECT id FROM devices WHERE imei = imei_from_body('35209900000070');
EXPLAIN (COSTS OFF) SELECT count(*) FROM devices
WHERE imei BETWEEN '352099000000709' AND '352099000070009';
SELECT count(*) FROM devices
WHERE imei BETWEEN imei_from_body('35209900000007') AND imei_from_body('35209900000700');
-- Estimates come from the selectivity functions: a range holding 1/10 of
-- the rows is estimated near 2,000 rows, not at a default guess.
CREATE FUNCTION pg_temp.plan_rows(query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END $$;
SELECT pg_temp.plan_rows($q$SELECT * FROM devices
       WHERE imei < imei_from_body('35209900014000')$q$) BETWEEN 1500 AND 2500 AS range_estimate_ok,
       pg_temp.plan_rows($q$SELECT * FROM devices
       WHERE imei = '352099000000709'$q$) AS eq_estimate;

-- The hash opclass serves = too.
DROP INDEX devices_imei_btree;
CREATE INDEX devices_imei_hash ON devices USING hash (imei);
EXPLAIN (COSTS OFF) SELECT * FROM devices WHERE imei = '352099000000709';
SELECT id FROM devices WHERE imei = '352099000000709';

-- Sorting uses the btree opclass and orders by digits.
SELECT imei FROM devices ORDER BY imei DESC LIMIT 3;

-- Hash join and hash aggregate.
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM devices a JOIN devices b ON a.imei = b.imei;
SELECT count(*) FROM devices a JOIN devices b ON a.imei = b.imei;
RESET enable_mergejoin;
RESET enable_nestloop;
SELECT count(DISTINCT imei) FROM devices;

-- Hash partitioning needs the extended hash function.
CREATE TABLE parts (imei imei PRIMARY KEY) PARTITION BY HASH (imei);
CREATE TABLE parts_0 PARTITION OF parts FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE parts_1 PARTITION OF parts FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE parts_2 PARTITION OF parts FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE parts_3 PARTITION OF parts FOR VALUES WITH (MODULUS 4, REMAINDER 3);
INSERT INTO parts SELECT imei FROM devices;
SELECT tableoid::regclass, count(*) > 4000 AS balanced FROM parts GROUP BY 1 ORDER BY 1;
EXPLAIN (COSTS OFF) SELECT * FROM parts WHERE imei = '352099000000709';
-- The partition of a value is fixed: these must never change.
SELECT imei, tableoid::regclass FROM parts
WHERE imei IN ('352099000000709', '352099000001400', '352099000070009')
ORDER BY 1;

-- BRIN minmax over a table loaded in IMEI order.
CREATE TABLE brin_devices AS SELECT * FROM devices ORDER BY imei;
CREATE INDEX ON brin_devices USING brin (imei) WITH (pages_per_range = 4);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM brin_devices WHERE imei < '352099000001400';
SELECT count(*) FROM brin_devices WHERE imei < '352099000001400';
RESET enable_seqscan;

-- COPY: text and binary round trips give back the same values.
CREATE TABLE copy_back (LIKE devices);
COPY devices TO '/tmp/imei_registry_regress.txt';
COPY copy_back FROM '/tmp/imei_registry_regress.txt';
COPY devices TO '/tmp/imei_registry_regress.bin' (FORMAT binary);
COPY copy_back FROM '/tmp/imei_registry_regress.bin' (FORMAT binary);
SELECT count(*) AS rows, count(*) FILTER (WHERE d.imei IS NULL) AS lost
FROM copy_back c LEFT JOIN devices d USING (id, imei);

-- A bad value in binary COPY is refused like text: the int8 wire format is
-- the imei one, so write bigints and read them back as imei.
CREATE TABLE raw (id int, imei bigint);
INSERT INTO raw VALUES (1, 352099001761481), (2, 352099001761482);
COPY raw TO '/tmp/imei_registry_regress.bin' (FORMAT binary);
COPY copy_back FROM '/tmp/imei_registry_regress.bin' (FORMAT binary);
TRUNCATE raw;
INSERT INTO raw VALUES (1, -5);
COPY raw TO '/tmp/imei_registry_regress.bin' (FORMAT binary);
COPY copy_back FROM '/tmp/imei_registry_regress.bin' (FORMAT binary);
-- And text COPY names the line.
COPY copy_back FROM STDIN;
1	352099001761481
2	35209900176148
\.

DROP TABLE devices, parts, brin_devices, copy_back, raw;
