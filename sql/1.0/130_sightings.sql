-- Sightings: who used an IMEI, on which network, on which days, from the
-- operators' reports that carry the subscriber (IMSI, MSISDN).  One row per
-- (IMEI, IMSI, MSISDN, month, operator) with a bitmask of the local days
-- (Asia/Almaty) of that month it was seen: a daily report of the same
-- subscribers sets one bit in each of their rows instead of adding a row
-- per line.  Keyed by imei first, so it distributes with the registry.
-- docs/operators.md: what operators send and read back, and the sizes.

-- The subscriber's values (src/subscriber.c): an IMSI (ITU-T E.212, 6 to 15
-- digits, MCC first) and an MSISDN (E.164, up to 15 digits, without "+") as
-- numbers; 22P02 naming the value and the rule.  The loaders reject such a
-- row as bad_imsi or bad_msisdn with the same sentence.
CREATE FUNCTION imei_registry.parse_imsi(imsi text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'subscriber_imsi'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.parse_imsi(text) IS
    'an IMSI (ITU-T E.212: 6 to 15 digits, a 3-digit MCC, a 2- or 3-digit MNC, the MSIN) as its number';
CREATE FUNCTION imei_registry.parse_msisdn(msisdn text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'subscriber_msisdn'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.parse_msisdn(text) IS
    'an MSISDN (E.164, 7 to 15 digits, country code first, "+" optional) as its number';

-- Is this IMSI a home network's (its MCC in imei_registry.home_mccs)?  A
-- visitor's sighting neither starts nor moves a grey period.  STABLE: it
-- reads the setting.
CREATE FUNCTION imei_registry.imsi_is_home(imsi bigint) RETURNS boolean
    AS 'MODULE_PATHNAME', 'subscriber_imsi_is_home'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.imsi_is_home(bigint) IS
    'is the IMSI''s mobile country code one of imei_registry.home_mccs (a home subscriber, not a visitor)?';

-- The local dates of a row's bitmask (src/sighting_days.c, the one reader
-- of the layout).
CREATE FUNCTION imei_registry.sighting_days(month date, days integer) RETURNS date[]
    AS 'MODULE_PATHNAME', 'sighting_days'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.sighting_days(date, integer) IS
    'the local dates (Asia/Almaty) that a sightings row''s days bitmask marks';

-- The writer's own path (src/sightings_write.c): a primary-key probe per
-- report, the days updated only when the day is new, the new rows in one
-- multi-insert; NULL when the table is not one it writes (a site's
-- trigger, a column added, a distributed table).  Internal.
CREATE FUNCTION imei_registry.sightings_write_direct(
    imeis imei_registry.imei[], imsis bigint[], msisdns bigint[],
    operators text[], connected_at timestamptz[])
RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'sightings_write_direct'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION imei_registry.sightings_write_direct(imei_registry.imei[], bigint[], bigint[], text[], timestamptz[]) IS
    'internal: record_sightings() written straight into the table; the positions that changed, NULL if the table is not one it writes';

-- Operators' reports with a subscriber, set-wise: the one writer of
-- sightings, behind report_connection() (one row) and a batch of a COPY into
-- imei_registry.upload_sightings.  Row i is imeis[i] used by imsis[i]
-- (msisdns[i], NULL: not reported) on operators[i]'s network at
-- connected_at[i]; no (imei, imsi, msisdn, operator, local month) twice.
-- Its local day's bit is set in the month's row, which is added if new.
-- Returns the positions of the rows that changed something (a new row or a
-- new day); a repeat of a known day changes nothing.  The table as the
-- extension made it is written by sightings_write_direct(); any other
-- (a distributed one) by the INSERT ... ON CONFLICT DO UPDATE below, the
-- same rule.  Internal: EXECUTE is revoked from PUBLIC.  PL/pgSQL, not
-- SQL, so that a distributed table (Citus) can run it.
CREATE FUNCTION imei_registry.record_sightings(
    imeis imei_registry.imei[], imsis bigint[], msisdns bigint[],
    operators text[], connected_at timestamptz[])
RETURNS TABLE (ord bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    changed bigint[];
BEGIN
    changed := imei_registry.sightings_write_direct(imeis, imsis, msisdns, operators,
                                                    connected_at);
    IF changed IS NOT NULL THEN
        RETURN QUERY SELECT c.ord FROM unnest(changed) AS c(ord);
        RETURN;
    END IF;
    RETURN QUERY
    WITH u AS (
        SELECT v.imei, v.imsi, coalesce(v.msisdn, 0) AS msisdn, v.operator, v.ord,
               imei_registry.local_date(v.at) AS day
          FROM ROWS FROM (unnest(imeis), unnest(imsis), unnest(msisdns),
                          unnest(operators), unnest(connected_at))
               WITH ORDINALITY AS v(imei, imsi, msisdn, operator, at, ord)
    ), k AS (
        SELECT u.imei, u.imsi, u.msisdn, u.operator, u.ord,
               (u.day - (date_part('day', u.day)::integer - 1)) AS month,
               1 << (date_part('day', u.day)::integer - 1) AS bit
          FROM u
    ), w AS (
        INSERT INTO imei_registry.sightings AS s (imei, imsi, msisdn, month, days, operator)
        SELECT k.imei, k.imsi, k.msisdn, k.month, k.bit, k.operator
          FROM k ORDER BY k.imei, k.imsi
        ON CONFLICT (imei, imsi, msisdn, month, operator)
        DO UPDATE SET days = s.days | excluded.days
              WHERE s.days & excluded.days = 0
        RETURNING s.imei, s.imsi, s.msisdn, s.month, s.operator
    )
    SELECT k.ord FROM k JOIN w
        ON w.imei = k.imei AND w.imsi = k.imsi AND w.msisdn = k.msisdn
       AND w.month = k.month AND w.operator = k.operator;
END
$$;
COMMENT ON FUNCTION imei_registry.record_sightings(imei_registry.imei[], bigint[], bigint[], text[], timestamptz[]) IS
    'internal: operators'' reports with a subscriber, set-wise: the day''s bit of each (imei, imsi, msisdn, month, operator)';

-- Privacy: IMSI and MSISDN are personal data.  Readers and the portal have
-- no right on the table; an operator's logins see the rows of the
-- operators they are bound to (operator_roles, as for reports), the admin
-- every row.  The list is computed once per query (an InitPlan).
CREATE FUNCTION imei_registry.my_operators() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
SELECT coalesce(array_agg(o.code ORDER BY o.code), '{}')
  FROM imei_registry.operators o
 WHERE imei_registry.operator_is_mine(o.code)
$$;
COMMENT ON FUNCTION imei_registry.my_operators() IS
    'the operators the session user reports and reads as (operator_roles; every operator for the admin)';
