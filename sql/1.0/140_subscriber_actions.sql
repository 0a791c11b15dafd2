-- From sightings to action (docs/operators.md): the grey-period reminders an
-- operator sends its subscribers, the IMEIs that several SIMs use at once
-- (suspected clones), and black devices still in use.  Pairing the genuine
-- owner of a black IMEI and its feed: 150_pairing.sql.  The grants:
-- 196_subscriber_actions_roles.sql.

-- A sightings row's days (src/sighting_days.c): its first and last local
-- day, and its days between two dates (0: none).
CREATE FUNCTION imei_registry.sighting_first_day(month date, days integer) RETURNS date
    AS 'MODULE_PATHNAME', 'sighting_first_day'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.sighting_first_day(date, integer) IS
    'the first local day that a sightings row''s days bitmask marks (NULL if none)';
CREATE FUNCTION imei_registry.sighting_last_day(month date, days integer) RETURNS date
    AS 'MODULE_PATHNAME', 'sighting_last_day'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.sighting_last_day(date, integer) IS
    'the last local day that a sightings row''s days bitmask marks (NULL if none)';
CREATE FUNCTION imei_registry.sighting_days_within(month date, days integer, first date, last date)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'sighting_days_within'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.sighting_days_within(date, integer, date, date) IS
    'the days of a sightings row''s bitmask from first to last, inclusive (0 if none)';

-- The last day of the grey periods with this many days left today
-- (src/grey.c: the inverse of check_imei()'s days_left, defined with it).
-- STABLE: it reads the clock of the transaction.
CREATE FUNCTION imei_registry.grey_last_day_for(days_left integer) RETURNS date
    AS 'MODULE_PATHNAME', 'imei_grey_last_day_for'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.grey_last_day_for(integer) IS
    'the grey_last_day of the grey IMEIs that have this many days left today (check_imei()''s days_left)';

-- The operator an operator's reader names: it exists (22023) and the
-- session user reads as it (operator_is_mine(), 42501), once for every
-- reader of this file and 150_pairing.sql.  what names the reading in the
-- message.  Internal: EXECUTE is revoked from PUBLIC.
CREATE FUNCTION imei_registry.check_operator_reader(operator text, what text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
BEGIN
    IF operator IS NULL THEN
        RAISE EXCEPTION 'an operator is needed to read %', what
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM FROM imei_registry.operators o WHERE o.code = check_operator_reader.operator;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown operator "%"', operator
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Operators are listed in imei_registry.operators.';
    END IF;
    IF NOT imei_registry.operator_is_mine(operator) THEN
        RAISE EXCEPTION 'login "%" may not read % of operator "%"', SESSION_USER, what, operator
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'An operator reads only its own: imei_registry.operator_roles binds no role of this login to the operator.',
                  HINT = 'The registry''s admin binds roles to operators in imei_registry.operator_roles.';
    END IF;
END
$$;
COMMENT ON FUNCTION imei_registry.check_operator_reader(text, text) IS
    'internal: 22023 for an unknown operator, 42501 unless the session user reads as it';

-- Reminders: the grey IMEIs with exactly days_left days left (check_imei()'s
-- days_left, src/grey.c) whose latest home sighting is on this operator's
-- network, with that sighting's subscriber.  "Latest" is by local day
-- (sightings keep days): every home subscriber (IMSI, MSISDN) seen on the
-- device's latest day of home sightings, on this operator's network, is a
-- row; a device whose latest home day was on another network is that
-- network's, and a device seen that day on both is on both lists.  A
-- visitor's sighting is nobody's reminder.  "Latest" is an anti-join (no
-- home sighting of the device on a later day): no sort and no window over
-- the due devices' sightings.  In no particular order (ORDER BY imei if
-- needed).
-- Its rows are a type rather than OUT parameters: an argument and a result
-- column are both days_left, which PL/pgSQL cannot tell apart.
CREATE TYPE imei_registry.grey_reminder AS (
    imei imei_registry.imei, imsi bigint, msisdn bigint,
    grey_last_day date, days_left integer);
CREATE FUNCTION imei_registry.grey_reminders(operator text, days_left integer)
RETURNS SETOF imei_registry.grey_reminder
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, imei_registry, pg_temp
-- JIT compiles for longer than these queries run
SET jit = off
AS $$
DECLARE
    op   constant text := grey_reminders.operator;
    left_days constant integer := grey_reminders.days_left;
    last_day date;
BEGIN
    PERFORM imei_registry.check_operator_reader(op, 'the grey reminders');
    IF left_days IS NULL THEN
        RAISE EXCEPTION 'grey_reminders needs days_left'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    last_day := imei_registry.grey_last_day_for(left_days);
    RETURN QUERY
    SELECT g.imei, s.imsi, NULLIF(s.msisdn, 0), last_day, left_days
      FROM imei_registry.registry g
      JOIN imei_registry.sightings s ON s.imei OPERATOR(pg_catalog.=) g.imei
     WHERE g.status = 'grey' AND g.grey_last_day = last_day
       AND s.operator = op AND imei_registry.imsi_is_home(s.imsi)
       AND NOT EXISTS (
             SELECT FROM imei_registry.sightings t
              WHERE t.imei OPERATOR(pg_catalog.=) s.imei AND imei_registry.imsi_is_home(t.imsi)
                AND imei_registry.sighting_last_day(t.month, t.days)
                    > imei_registry.sighting_last_day(s.month, s.days));
END
$$;
COMMENT ON FUNCTION imei_registry.grey_reminders(text, integer) IS
    'the grey IMEIs with exactly days_left days left whose latest home sighting is on this operator''s network, with that sighting''s subscriber';

-- Suspected clones: IMEIs that, within the last window_days local days
-- (today included), were used by at least min_imsis distinct home IMSIs,
-- or were seen on two operators' networks on the same day with different
-- IMSIs (home or visitor).  imsis counts every IMSI of the window; the
-- operators are those whose networks saw it; first_seen and last_seen the
-- window's first and last day it was seen.  It only reports: the registry
-- decides (block(imei, 'counterfeit')).  One scan of the window's months of
-- sightings, grouped by IMEI; the same-day test runs only for the IMEIs
-- that two networks and two IMSIs saw, by their key.  docs/operators.md
-- gives its cost.
CREATE FUNCTION imei_registry.suspected_clones(window_days integer DEFAULT 30,
                                               min_imsis integer DEFAULT 3)
RETURNS TABLE (imei imei_registry.imei, imsis integer, operators text[],
               first_seen date, last_seen date)
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, imei_registry, pg_temp
-- JIT compiles for longer than these queries run
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    d_last  date;
    d_first date;
    m_first date;
BEGIN
    IF window_days IS NULL OR min_imsis IS NULL THEN
        RAISE EXCEPTION 'suspected_clones needs window_days and min_imsis'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF window_days NOT BETWEEN 1 AND 366 THEN
        RAISE EXCEPTION 'window_days % is out of range', window_days
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The window is 1 to 366 local days up to today.';
    END IF;
    IF min_imsis < 2 THEN
        RAISE EXCEPTION 'min_imsis % is out of range', min_imsis
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A device used by one SIM is no clone: min_imsis is at least 2.';
    END IF;
    d_last := imei_registry.local_date(pg_catalog.now());
    d_first := d_last - (window_days - 1);
    m_first := d_first - (pg_catalog.date_part('day', d_first)::integer - 1);
    RETURN QUERY
    WITH w AS (
        SELECT s.imei, s.imsi, s.operator, s.month,
               imei_registry.sighting_days_within(s.month, s.days, d_first, d_last) AS days
          FROM imei_registry.sightings s
         WHERE s.month >= m_first AND s.month <= d_last
    ), per AS (
        SELECT w.imei,
               count(DISTINCT w.imsi)::integer AS imsis,
               count(DISTINCT w.imsi) FILTER (WHERE imei_registry.imsi_is_home(w.imsi)) AS home_imsis,
               array_agg(DISTINCT w.operator ORDER BY w.operator) AS operators,
               min(imei_registry.sighting_first_day(w.month, w.days)) AS first_seen,
               max(imei_registry.sighting_last_day(w.month, w.days)) AS last_seen
          FROM w
         WHERE w.days <> 0
         GROUP BY w.imei
        HAVING count(DISTINCT w.imsi) >= 2
    )
    SELECT per.imei, per.imsis, per.operators, per.first_seen, per.last_seen
      FROM per
      -- LATERAL with LIMIT: probed by key for each candidate, never a
      -- hashed self-join of the whole window
      LEFT JOIN LATERAL (
            SELECT true AS found
              FROM imei_registry.sightings a
              JOIN imei_registry.sightings b
                ON b.imei OPERATOR(pg_catalog.=) a.imei AND b.month = a.month
               AND b.operator <> a.operator AND b.imsi <> a.imsi
             WHERE pg_catalog.cardinality(per.operators) >= 2
               AND per.home_imsis < min_imsis
               AND a.imei OPERATOR(pg_catalog.=) per.imei
               AND a.month >= m_first AND a.month <= d_last
               AND imei_registry.sighting_days_within(a.month, a.days & b.days,
                                                      d_first, d_last) <> 0
             LIMIT 1) same_day ON true
     WHERE per.home_imsis >= min_imsis OR same_day.found
     ORDER BY per.imei;
END
$$;
COMMENT ON FUNCTION imei_registry.suspected_clones(integer, integer) IS
    'IMEIs used by at least min_imsis home IMSIs within the last window_days days, or on two networks the same day with different IMSIs; never blocks';

-- Black devices still in use: the black IMEIs that this operator's network
-- saw on a local day from since and from the day they turned black (days
-- are what sightings keep: a sighting on that day counts), one row per
-- IMSI with its last such day.  A pair of 150_pairing.sql (the genuine
-- owner, whom the operator's EIR lets through) is not listed.
CREATE FUNCTION imei_registry.black_in_use(operator text, since date)
RETURNS TABLE (imei imei_registry.imei, reason text, black_since timestamptz,
               last_seen date, imsi bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, imei_registry, pg_temp
-- JIT compiles for longer than these queries run
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    op constant text := black_in_use.operator;
    m_since date;
BEGIN
    PERFORM imei_registry.check_operator_reader(op, 'the black devices in use');
    IF since IS NULL OR NOT pg_catalog.isfinite(since) THEN
        RAISE EXCEPTION 'black_in_use needs a finite date since, not %', coalesce(since::text, 'NULL')
            USING ERRCODE = CASE WHEN since IS NULL THEN 'null_value_not_allowed'
                                 ELSE 'invalid_parameter_value' END;
    END IF;
    m_since := since - (pg_catalog.date_part('day', since)::integer - 1);
    RETURN QUERY
    SELECT r.imei, r.reason, r.since,
           max(imei_registry.sighting_last_day(s.month, imei_registry.sighting_days_within(
                   s.month, s.days,
                   GREATEST(black_in_use.since, imei_registry.local_date(r.since)), 'infinity'))),
           s.imsi
      FROM imei_registry.sightings s
      JOIN imei_registry.registry r ON r.imei OPERATOR(pg_catalog.=) s.imei
     WHERE s.operator = op AND s.month >= m_since
       AND r.status = 'black'
       AND imei_registry.sighting_days_within(
               s.month, s.days,
               GREATEST(black_in_use.since, imei_registry.local_date(r.since)), 'infinity') <> 0
       AND NOT EXISTS (SELECT FROM imei_registry.subscriber_pairs p
                        WHERE p.imei OPERATOR(pg_catalog.=) s.imei AND p.imsi = s.imsi AND p.paired)
     GROUP BY r.imei, r.reason, r.since, s.imsi
     ORDER BY r.imei, s.imsi;
END
$$;
COMMENT ON FUNCTION imei_registry.black_in_use(text, date) IS
    'black IMEIs this operator''s network saw from since and from the day they turned black, per IMSI with its last day; paired owners left out';
