-- Grey-period deadlines (src/grey.c), in calendar days of Kazakhstan's civil
-- calendar (Asia/Almaty) whatever the session's TimeZone.  A device first
-- connected on local date D is grey through D + imei_registry.grey_period_days
-- (the GUC, default 30): its grey_last_day.  It is due for black from the
-- first moment of the next local day: grey_last_day < local_date(now()).

-- IMMUTABLE like core's timezone(text, timestamptz).
CREATE FUNCTION imei_registry.local_date(at timestamptz) RETURNS date
    AS 'MODULE_PATHNAME', 'imei_local_date'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.local_date(timestamptz) IS
    'the Kazakhstan civil date (Asia/Almaty) of a moment, whatever the session TimeZone';

-- STABLE, not IMMUTABLE: the result depends on imei_registry.grey_period_days.
CREATE FUNCTION imei_registry.grey_last_day(connected_at timestamptz) RETURNS date
    AS 'MODULE_PATHNAME', 'imei_grey_last_day'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.grey_last_day(timestamptz) IS
    'last local day (Asia/Almaty) of the grey period of a device first connected at this moment: its local date plus imei_registry.grey_period_days';
