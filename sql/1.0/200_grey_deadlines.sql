-- Grey-period deadlines (src/grey.c), in calendar days of Kazakhstan's civil
-- calendar (Asia/Almaty) whatever the session's TimeZone.  A device first
-- connected on local date D is grey through D + imei_registry.grey_period_days
-- (the GUC, default 30): its grey_last_day.  It is due for black from the
-- first moment of the next local day.

CREATE FUNCTION imei_registry.almaty_date(timestamptz) RETURNS date
    AS 'MODULE_PATHNAME', 'imei_almaty_date'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.almaty_date(timestamptz) IS
    'the local date in Asia/Almaty of a moment, whatever the session TimeZone';

-- STABLE, not IMMUTABLE: the result depends on imei_registry.grey_period_days.
CREATE FUNCTION imei_registry.grey_last_day(first_connection timestamptz) RETURNS date
    AS 'MODULE_PATHNAME', 'imei_grey_last_day'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.grey_last_day(timestamptz) IS
    'last local day (Asia/Almaty) of the grey period of a device first connected at this moment: its local date plus imei_registry.grey_period_days';

CREATE FUNCTION imei_registry.grey_days_left(last_day date, at timestamptz) RETURNS integer
    AS 'MODULE_PATHNAME', 'imei_grey_days_left'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.grey_days_left(date, timestamptz) IS
    'local days from the date of "at" (Asia/Almaty) to the last day of a grey period: 0 on the last day, negative once it has ended';

CREATE FUNCTION imei_registry.grey_period_ended(last_day date, at timestamptz) RETURNS boolean
    AS 'MODULE_PATHNAME', 'imei_grey_period_ended'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.grey_period_ended(date, timestamptz) IS
    'true from the first moment (Asia/Almaty) of the day after the last day of a grey period';
