-- The registry's functions: operators' reports, importers' registrations,
-- the public check, registry decisions and the operators' change feed.
-- Functions that write or read the tables are SECURITY DEFINER with a fixed
-- search_path (pg_temp last); the roles that may call them are granted in
-- 190_registry_roles.sql.

-- The Kazakhstan civil date of a moment, and the last day of a grey period
-- that starts at a first connection: C (src/grey.c), whatever the session's
-- TimeZone.  A device first connected on local date D is grey through
-- D + imei_registry.grey_period_days (the GUC, default 30); it is due for
-- black from the first moment of the next local day, i.e. when
-- grey_last_day < local_date(now()).  Defined here, before their users.

-- IMMUTABLE like core's timezone(text, timestamptz).
CREATE FUNCTION imei_registry.local_date(at timestamptz) RETURNS date
    AS 'MODULE_PATHNAME', 'imei_local_date'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.local_date(timestamptz) IS
    'the civil date in Kazakhstan (Asia/Almaty) of a moment, whatever the session TimeZone';

-- STABLE, not IMMUTABLE: the result depends on imei_registry.grey_period_days.
CREATE FUNCTION imei_registry.grey_last_day(connected_at timestamptz) RETURNS date
    AS 'MODULE_PATHNAME', 'imei_grey_last_day'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.grey_last_day(timestamptz) IS
    'last local day (Asia/Almaty) of the grey period of a device first connected at this moment: its local date plus imei_registry.grey_period_days';

-- Is connected_at a plausible time of connection?  22023 if not: not
-- finite, before the first GSM call (1991-07-01) or more than 10 minutes
-- ahead of the server's clock (src/grey.c; upload_connections rejects such
-- a row as bad_date, the trigger refuses such a first_seen_at).
CREATE FUNCTION imei_registry.check_connected_at(connected_at timestamptz) RETURNS void
    AS 'MODULE_PATHNAME', 'imei_check_connected_at'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.check_connected_at(timestamptz) IS
    'raises 22023 unless a time of connection is plausible: from 1991-07-01, at most 10 minutes ahead of the clock';

-- Is a connection before imei_registry.rules_start (src/rules.c)?  A
-- device connected before it is white, grandfathered.
CREATE FUNCTION imei_registry.connected_before_rules(connected_at timestamptz) RETURNS boolean
    AS 'MODULE_PATHNAME', 'connected_before_rules'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.connected_before_rules(timestamptz) IS
    'is a connection before imei_registry.rules_start (the device then is white, grandfathered)?';

-- Does a report connected at `at` change a known row (its first connection,
-- status and reason)?  When the row has no first connection yet, or the
-- report's is earlier and the row is grey or becomes white grandfathered by
-- it (connected before the rules, where the rules allow that change).  The
-- one rule, for record_connections() and record_connections_routed().
CREATE FUNCTION imei_registry.connection_changes_row(
    first_seen_at timestamptz, status imei_registry.status, reason text,
    at timestamptz) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN first_seen_at IS NULL
        OR (at OPERATOR(pg_catalog.<) first_seen_at
            AND (status OPERATOR(pg_catalog.=) 'grey'
                 OR (imei_registry.connected_before_rules(at)
                     AND imei_registry.transition_allowed(status, 'white', 'grandfathered', reason))));
END
$$;
COMMENT ON FUNCTION imei_registry.connection_changes_row(timestamptz, imei_registry.status, text, timestamptz) IS
    'internal: does a report connected at this time change a known row with this first connection, status and reason?';

-- The rules' entry for an IMEI first seen at a time (src/rules.c): grey
-- unverified, or white grandfathered before imei_registry.rules_start.
CREATE FUNCTION imei_registry.first_connection_status(connected_at timestamptz)
    RETURNS imei_registry.status
    AS 'MODULE_PATHNAME', 'first_connection_status'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.first_connection_status(timestamptz) IS
    'the status the rules give an IMEI first seen at this time';
CREATE FUNCTION imei_registry.first_connection_reason(connected_at timestamptz)
    RETURNS text
    AS 'MODULE_PATHNAME', 'first_connection_reason'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.first_connection_reason(timestamptz) IS
    'the reason the rules give an IMEI first seen at this time';

-- Is the registry distributed (Citus lists it in pg_dist_partition, which
-- exists only there)?  Read in C, by OID, without a query.  Internal.
CREATE FUNCTION imei_registry.registry_distributed() RETURNS boolean
    AS 'MODULE_PATHNAME', 'registry_distributed'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.registry_distributed() IS
    'internal: is imei_registry.registry distributed (Citus)?';

-- Operators' reports of devices seen in their networks, set-wise: the one
-- implementation behind report_connection() (one row) and a batch of a COPY
-- into imei_registry.upload_connections (src/bulk.c).  Row i is imeis[i]
-- seen by operators[i] at connected_at[i]; no IMEI twice.  The earliest
-- connection wins:
--   * an unknown IMEI becomes grey (unverified; the trigger gives it its
--     period), or white (grandfathered) if it connected before
--     imei_registry.rules_start;
--   * a known IMEI whose first connection is unknown or later gets this one
--     (first_seen_at, first_operator): a grey one has its period moved (the
--     history-only change earlier_connection) or, connected before the
--     rules, becomes white grandfathered, as does one black for
--     grey_expired; a white or black one with a first connection keeps it;
--   * otherwise the report changes nothing (already present).
-- import_id is the cause of what a row changes (NULL: none).  One index
-- probe per row finds the known IMEIs and their first connection; they are
-- kept out of the INSERT so that no registry trigger fires for them, and ON
-- CONFLICT covers a concurrent insert.  Only the known rows whose first
-- connection this report could move (none yet, or a later one: it only
-- ever moves earlier, so what the probe saw cannot turn false) go to the
-- UPDATE, whose WHERE is checked again on the row version it locks, so of
-- two concurrent reports the earlier wins.  For each row: its position, was
-- it inserted, did it change a known row, and its status (NULL only after a
-- concurrent insert).  PL/pgSQL, so that its plan is kept (a LANGUAGE sql
-- function plans its statement at every call).  Where registry is
-- distributed (Citus: pg_dist_partition lists it) Citus cannot plan this
-- statement (a generic plan over parameters, and a STABLE rule function of
-- the locked row in the UPDATE): record_connections_routed() does the same
-- in statements that Citus routes.  Internal: EXECUTE is revoked from PUBLIC
-- (190_registry_roles.sql).
CREATE FUNCTION imei_registry.record_connections_routed(
    imeis imei_registry.imei[], operators text[], connected_at timestamptz[],
    import_id bigint)
RETURNS TABLE (ord bigint, inserted boolean, changed boolean,
               status imei_registry.status)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
-- (custom plans, not record_connections()'s generic one: Citus plans no
-- join of the registry with a parameter's unnest() in a generic plan)
SET plan_cache_mode = force_custom_plan
-- On Citus (record_connections() calls it there): the rules of
-- record_connections() in statements that Citus routes.  The known IMEIs
-- of the batch and their first connection are read in one statement (each
-- shard probes its own).  Only a known row whose first connection this
-- report could move (none yet, or a later one: it only ever moves earlier,
-- so what the read saw cannot turn false) is read again FOR UPDATE, one
-- IMEI at a time, so that what is decided from it (through the same rule
-- functions: connection_changes_row, connected_before_rules,
-- transition_allowed) still holds when it is written.  The unknown IMEIs
-- are inserted in one statement ON CONFLICT DO NOTHING (status NULL after
-- a concurrent insert, as there).
AS $$
DECLARE
    n          constant integer := coalesce(pg_catalog.array_length(imeis, 1), 0);
    i          integer;
    x          imei_registry.imei;
    op         text;
    seen       timestamptz;
    cur        record;
    k          record;
    grand      boolean;
    st         imei_registry.status;
    known      boolean[];
    k_status   imei_registry.status[];
    k_first    timestamptz[];
    new_imeis  imei_registry.imei[] := '{}';
    new_ops    text[] := '{}';
    new_seen   timestamptz[] := '{}';
    new_ords   integer[] := '{}';
    ret_imeis  imei_registry.imei[] := '{}';
    ret_status imei_registry.status[] := '{}';
    ins_status imei_registry.status[];
BEGIN
    known := pg_catalog.array_fill(false, ARRAY[n]);
    FOR k IN SELECT u.ord, r.status, r.first_seen_at
               FROM pg_catalog.unnest(imeis) WITH ORDINALITY AS u(imei, ord)
               JOIN imei_registry.registry r ON r.imei OPERATOR(pg_catalog.=) u.imei
    LOOP
        known[k.ord] := true;
        k_status[k.ord] := k.status;
        k_first[k.ord] := k.first_seen_at;
    END LOOP;

    -- the unknown IMEIs, in one INSERT (Citus sends each its shard)
    FOR i IN 1 .. n LOOP
        IF NOT known[i] THEN
            new_imeis := new_imeis || imeis[i];
            new_ops := new_ops || operators[i];
            new_seen := new_seen || connected_at[i];
            new_ords := new_ords || i;
        END IF;
    END LOOP;
    IF pg_catalog.cardinality(new_imeis) > 0 THEN
        FOR k IN INSERT INTO imei_registry.registry AS r
                     (imei, status, reason, first_seen_at, first_operator, import_id)
                 SELECT u.imei, imei_registry.first_connection_status(u.seen),
                        imei_registry.first_connection_reason(u.seen), u.seen, u.op, $4
                   FROM ROWS FROM (pg_catalog.unnest(new_imeis), pg_catalog.unnest(new_ops),
                                   pg_catalog.unnest(new_seen)) AS u(imei, op, seen)
                  ORDER BY u.imei
                 ON CONFLICT (imei) DO NOTHING
                 RETURNING r.imei, r.status
        LOOP
            ret_imeis := ret_imeis || k.imei;
            ret_status := ret_status || k.status;
        END LOOP;
        -- (their positions: a local join, no distributed table)
        FOR k IN SELECT u.ord, w.status
                   FROM ROWS FROM (pg_catalog.unnest(new_imeis), pg_catalog.unnest(new_ords)) AS u(imei, ord)
                   JOIN ROWS FROM (pg_catalog.unnest(ret_imeis), pg_catalog.unnest(ret_status)) AS w(imei, status)
                     ON w.imei OPERATOR(pg_catalog.=) u.imei
        LOOP
            ins_status[k.ord] := k.status;
        END LOOP;
    END IF;

    FOR i IN 1 .. n LOOP
        ord := i;
        IF NOT known[i] THEN
            inserted := ins_status[i] IS NOT NULL;
            changed := false;
            status := ins_status[i];
        ELSIF k_first[i] IS NOT NULL AND connected_at[i] OPERATOR(pg_catalog.>=) k_first[i] THEN
            inserted := false;          -- its first connection stays
            changed := false;
            status := k_status[i];
        ELSE
            -- scalars: Citus 13.2 crashes deparsing an array subscript in
            -- the SET list of a routed UPDATE
            x := imeis[i];
            op := operators[i];
            seen := connected_at[i];
            SELECT r.status, r.reason, r.first_seen_at INTO cur
              FROM imei_registry.registry r
             WHERE r.imei OPERATOR(pg_catalog.=) x
               FOR UPDATE;
            -- grandfathered where the rules let the row become white by it
            grand := imei_registry.connected_before_rules(seen)
                     AND imei_registry.transition_allowed(cur.status, 'white', 'grandfathered', cur.reason);
            inserted := false;
            changed := imei_registry.connection_changes_row(cur.first_seen_at, cur.status,
                                                            cur.reason, seen);
            status := cur.status;
            IF changed THEN
                UPDATE imei_registry.registry r
                   SET first_seen_at = seen, first_operator = op,
                       status = CASE WHEN grand THEN 'white' ELSE cur.status END,
                       reason = CASE WHEN grand THEN 'grandfathered' ELSE cur.reason END,
                       import_id = CASE WHEN cur.first_seen_at IS NULL THEN r.import_id ELSE $4 END
                 WHERE r.imei OPERATOR(pg_catalog.=) x
                RETURNING r.status INTO st;
                status := st;
            END IF;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION imei_registry.record_connections_routed(imei_registry.imei[], text[], timestamptz[], bigint) IS
    'internal: record_connections() where registry is distributed (Citus): the known IMEIs read and the new ones inserted a batch at a time, a known row that a report moves one at a time';

CREATE FUNCTION imei_registry.record_connections(
    imeis imei_registry.imei[], operators text[], connected_at timestamptz[],
    import_id bigint)
RETURNS TABLE (ord bigint, inserted boolean, changed boolean,
               status imei_registry.status)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
-- One plan, kept for the session, in which the registry is probed by its
-- key, never scanned: planned for the size of a batch, a hash join over a
-- scan of a registry of 100,000 to 1,000,000 rows looks cheaper than 1,000
-- probes, and a custom plan is planned again at every call.
SET enable_seqscan = off
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
IF imei_registry.registry_distributed() THEN
    RETURN QUERY SELECT * FROM imei_registry.record_connections_routed($1, $2, $3, $4);
    RETURN;
END IF;
RETURN QUERY
WITH k AS (
    SELECT u.imei, u.operator, u.at, u.ord, r.imei IS NOT NULL AS known,
           r.status, r.first_seen_at,
           imei_registry.connected_before_rules(u.at) AS before_rules
      FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3))
           WITH ORDINALITY AS u(imei, operator, at, ord)
      LEFT JOIN imei_registry.registry r ON r.imei OPERATOR(pg_catalog.=) u.imei
), ins AS (
    INSERT INTO imei_registry.registry AS r
        (imei, status, reason, first_seen_at, first_operator, import_id)
    SELECT k.imei, imei_registry.first_connection_status(k.at),
           imei_registry.first_connection_reason(k.at), k.at, k.operator, $4
      FROM k WHERE NOT k.known ORDER BY k.ord
    ON CONFLICT (imei) DO NOTHING
    RETURNING r.imei, r.status
), upd AS (
    -- grandfathered where the rules let the row become white by it
    UPDATE imei_registry.registry r
       SET first_seen_at = k.at, first_operator = k.operator,
           status = CASE WHEN k.before_rules AND imei_registry.transition_allowed(
                                  r.status, 'white', 'grandfathered', r.reason)
                         THEN 'white' ELSE r.status END,
           reason = CASE WHEN k.before_rules AND imei_registry.transition_allowed(
                                  r.status, 'white', 'grandfathered', r.reason)
                         THEN 'grandfathered' ELSE r.reason END,
           import_id = CASE WHEN r.first_seen_at IS NULL THEN r.import_id ELSE $4 END
      FROM (SELECT * FROM k
             WHERE k.known
               AND (k.first_seen_at IS NULL
                    OR k.at OPERATOR(pg_catalog.<) k.first_seen_at)
             OFFSET 0) k
     WHERE r.imei OPERATOR(pg_catalog.=) k.imei
       AND imei_registry.connection_changes_row(r.first_seen_at, r.status, r.reason, k.at)
    RETURNING r.imei, r.status
)
SELECT k.ord, ins.imei IS NOT NULL, upd.imei IS NOT NULL,
       coalesce(ins.status, upd.status, k.status)
  FROM k LEFT JOIN ins ON ins.imei OPERATOR(pg_catalog.=) k.imei
         LEFT JOIN upd ON upd.imei OPERATOR(pg_catalog.=) k.imei;
END
$$;
COMMENT ON FUNCTION imei_registry.record_connections(imei_registry.imei[], text[], timestamptz[], bigint) IS
    'internal: operators'' reports of devices, set-wise, the earliest connection winning (report_connection() and upload_connections)';

-- What report_connection() answers without record_connections() (one
-- IMEI, src/registry_probe.c, as upload_connections does for a batch): a
-- known IMEI whose first connection stays (it is as early or earlier, and
-- only ever moves earlier) by one probe of the registry's key; an unknown
-- one inserted through the multi-insert path, the registry's triggers and
-- the rules' entry for a first connection included.  NULL when the report
-- is for record_connections().  Internal.
CREATE FUNCTION imei_registry.report_without_statement(imei imei_registry.imei,
                                                       operator text,
                                                       connected_at timestamptz)
    RETURNS imei_registry.status
    AS 'MODULE_PATHNAME', 'report_without_statement'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- May the session user report and load as this operator?  A member (with
-- or without inheritance) of a role that imei_registry.operator_roles binds
-- to it, or of imei_registry_admin (superusers are members of every role):
-- pg_has_role(SESSION_USER, role, 'MEMBER').  The one definition, for
-- report_connection() and upload_connections (src/operators.c).
-- session_user, not current_user: SET ROLE and SECURITY DEFINER functions do
-- not change it.  C: it reads operator_roles itself (needing no right on
-- it), without a statement, a plan or a SET of its own for each call.
CREATE FUNCTION imei_registry.operator_is_mine(operator text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'operator_is_mine'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.operator_is_mine(text) IS
    'may the session user report and load as this operator (imei_registry.operator_roles, or the admin)?';

-- report_connection()'s check of its operator: 22023 for a code that
-- imei_registry.operators does not list (the transition trigger's cache of
-- the codes, src/operators.c), then 42501 unless operator_is_mine().
-- Internal.
CREATE FUNCTION imei_registry.check_reporting_operator(operator text) RETURNS void
    AS 'MODULE_PATHNAME', 'check_reporting_operator'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.check_reporting_operator(text) IS
    'internal: raises 22023 for an unknown operator, 42501 unless the session user may report as it (report_connection())';

-- An operator reports a device seen in its network, with the subscriber
-- (IMSI, MSISDN) when it has it.  A report without an IMSI, or with a home
-- network's (imei_registry.home_mccs), is a home connection
-- (record_connections): a new IMEI becomes grey with its grey period
-- (white, grandfathered, if it connected before the rules); an earlier
-- connection of a known one moves its first connection.  A report with an
-- IMSI also sets that day in the subscriber's sightings row
-- (record_sightings); a visitor's (another MCC) does nothing else: it
-- starts no grey period, moves none, grandfathers nothing.  connected_at
-- must be plausible (22023); an MSISDN needs its IMSI.  Returns the status
-- (NULL for a device seen only with visitors' IMSIs: not registered).
-- Not STRICT: a STRICT function called with a defaulted NULL would return
-- NULL without running; the body checks its NULLs instead.
CREATE FUNCTION imei_registry.report_connection(
    imei imei_registry.imei, operator text,
    connected_at timestamptz DEFAULT pg_catalog.now(),
    imsi text DEFAULT NULL, msisdn text DEFAULT NULL)
RETURNS imei_registry.status
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    result imei_registry.status;
    imsi_n bigint;
    msisdn_n bigint;
BEGIN
    IF report_connection.imei IS NULL OR report_connection.operator IS NULL
       OR report_connection.connected_at IS NULL THEN
        RAISE EXCEPTION 'report_connection needs an IMEI, an operator and a time of connection'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- 22023 for an unknown operator, 42501 unless operator_is_mine()
    PERFORM imei_registry.check_reporting_operator(report_connection.operator);
    PERFORM imei_registry.check_connected_at(report_connection.connected_at);

    IF report_connection.imsi IS NOT NULL THEN
        imsi_n := imei_registry.parse_imsi(report_connection.imsi);
        msisdn_n := imei_registry.parse_msisdn(report_connection.msisdn);
        PERFORM imei_registry.record_sightings(ARRAY[report_connection.imei],
                                               ARRAY[imsi_n], ARRAY[msisdn_n],
                                               ARRAY[report_connection.operator],
                                               ARRAY[report_connection.connected_at]);
        IF NOT imei_registry.imsi_is_home(imsi_n) THEN
            SELECT r.status INTO result FROM imei_registry.registry r
             WHERE r.imei OPERATOR(pg_catalog.=) report_connection.imei;
            RETURN result;
        END IF;
    ELSIF report_connection.msisdn IS NOT NULL THEN
        RAISE EXCEPTION 'MSISDN "%" without an IMSI', msisdn
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'A subscriber is stored by its IMSI; the MSISDN goes with it.';
    END IF;

    -- a known device whose first connection stays, or a new one
    result := imei_registry.report_without_statement(report_connection.imei,
                                                     report_connection.operator,
                                                     report_connection.connected_at);
    IF result IS NOT NULL THEN
        RETURN result;
    END IF;
    SELECT c.status INTO result
      FROM imei_registry.record_connections(ARRAY[report_connection.imei],
                                            ARRAY[report_connection.operator],
                                            ARRAY[report_connection.connected_at],
                                            NULL) AS c;
    IF result IS NULL THEN
        -- inserted meanwhile by another session: report to that row
        SELECT c.status INTO result
          FROM imei_registry.record_connections(ARRAY[report_connection.imei],
                                                ARRAY[report_connection.operator],
                                                ARRAY[report_connection.connected_at],
                                                NULL) AS c;
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION imei_registry.report_connection(imei_registry.imei, text, timestamptz, text, text) IS
    'an operator reports a device seen in its network, with its subscriber''s IMSI and MSISDN when known: a new IMEI seen by a home subscriber becomes grey; returns the status';

CREATE FUNCTION imei_registry.report_connection(
    imeisv imei_registry.imeisv, operator text,
    connected_at timestamptz DEFAULT pg_catalog.now(),
    imsi text DEFAULT NULL, msisdn text DEFAULT NULL)
RETURNS imei_registry.status
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
BEGIN
    RETURN imei_registry.report_connection(imei_registry.imei(imeisv), operator,
                                           connected_at, imsi, msisdn);
END
$$;
COMMENT ON FUNCTION imei_registry.report_connection(imei_registry.imeisv, text, timestamptz, text, text) IS
    'report_connection() for the IMEISV a network reports';

-- An importer registers officially imported devices: new IMEIs start white
-- (lawful_import), each with a device of its own (the list does not group
-- IMEIs; a later application completes the device).  IMEIs already in the
-- register keep their status (grey ones need an approved application, an
-- importer's by method commercial_import).  One row per distinct input IMEI.
CREATE FUNCTION imei_registry.register_import(
    imeis imei_registry.imei[], importer text, note text DEFAULT NULL)
RETURNS TABLE (import_id bigint, imei imei_registry.imei,
               status imei_registry.status, registered boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    new_import bigint;
    fresh      imei_registry.imei[];
    ids        bigint[];
    unused     bigint[];
BEGIN
    IF imeis IS NULL OR importer IS NULL OR btrim(importer) = '' THEN
        RAISE EXCEPTION 'register_import needs IMEIs and an importer'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF array_position(imeis, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'register_import: the list of IMEIs contains NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;

    INSERT INTO imei_registry.imports (importer, note)
    VALUES (register_import.importer, register_import.note)
    RETURNING imports.import_id INTO new_import;

    -- the new IMEIs, and a device for each (model and slots from the TAC table)
    SELECT array_agg(u.imei ORDER BY u.imei),
           array_agg(pg_catalog.nextval('imei_registry.devices_device_id_seq') ORDER BY u.imei)
    INTO fresh, ids
    FROM (SELECT DISTINCT i.imei FROM unnest(imeis) AS i(imei)) u
    LEFT JOIN imei_registry.registry r ON r.imei OPERATOR(pg_catalog.=) u.imei
    WHERE r.imei IS NULL;
    INSERT INTO imei_registry.devices (device_id, model, sim_slots) OVERRIDING SYSTEM VALUE
    SELECT f.id, t.model, t.sim_slots
    FROM unnest(fresh, ids) AS f(imei, id)
    LEFT JOIN imei_registry.tac t ON t.tac = imei_registry.imei_tac(f.imei);

    RETURN QUERY
    WITH input AS (
        SELECT DISTINCT u.imei FROM unnest(imeis) AS u(imei)
    ), added AS (
        INSERT INTO imei_registry.registry AS r (imei, status, reason, import_id, device_id)
        SELECT f.imei, 'white', 'lawful_import', new_import, f.id
        FROM unnest(fresh, ids) AS f(imei, id)
        ORDER BY f.imei
        ON CONFLICT DO NOTHING
        RETURNING r.imei
    )
    SELECT new_import, i.imei,
           CASE WHEN a.imei IS NOT NULL THEN 'white'::imei_registry.status
                ELSE r.status END,
           a.imei IS NOT NULL
    FROM input i LEFT JOIN added a ON a.imei OPERATOR(pg_catalog.=) i.imei
                 LEFT JOIN imei_registry.registry r ON r.imei OPERATOR(pg_catalog.=) i.imei
    ORDER BY i.imei;

    -- devices of IMEIs another session entered meanwhile: the ids are new,
    -- so a device is used only by the row this call inserted for its IMEI
    -- (an anti-join, not a correlated subquery: Citus plans it)
    SELECT array_agg(f.id) INTO unused
    FROM unnest(fresh, ids) AS f(imei, id)
    LEFT JOIN imei_registry.registry r
           ON r.imei OPERATOR(pg_catalog.=) f.imei AND r.device_id = f.id
    WHERE r.imei IS NULL;
    IF unused IS NOT NULL THEN
        DELETE FROM imei_registry.devices d WHERE d.device_id = ANY (unused);
    END IF;
END
$$;
COMMENT ON FUNCTION imei_registry.register_import(imei_registry.imei[], text, text) IS
    'an importer registers officially imported devices: new IMEIs start white';

-- The public "check before purchase": exactly one row, what is true now.
-- An IMEI the register does not know gives status NULL and reason
-- 'not_registered'.  days_left = grey_last_day - local_date(now()): 0 on
-- the last day, never negative.  Past its last day a grey IMEI is answered
-- black (grey_expired, since the end of its last day) before the expiry job
-- has moved it, unless a pending application holds it
-- (application_holds()): then grey, days_left 0, application_pending.
-- In C (src/check.c): one index probe, no SQL.  It reads the table without
-- a privilege check of its own, so EXECUTE on it is the gate; it is not
-- SECURITY DEFINER and resolves no name through search_path.  Its row is
-- a named type, not OUT parameters: the executor builds an OUT parameter
-- list's row type from pg_proc at every execution of a query that calls
-- the function (about a third of a check's cost), a named type's comes
-- from the type cache.
CREATE TYPE imei_registry.check_result AS (
    status imei_registry.status, reason text, since timestamptz,
    grey_last_day date, days_left integer, application_pending boolean);
COMMENT ON TYPE imei_registry.check_result IS 'the row check_imei() answers';
CREATE FUNCTION imei_registry.check_imei(imei imei_registry.imei)
RETURNS imei_registry.check_result
AS 'MODULE_PATHNAME', 'check_imei'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION imei_registry.check_imei(imei_registry.imei) IS
    'the public check, what is true now: status, reason, since, grey_last_day, days_left, application_pending of an IMEI (status NULL, reason not_registered when unknown)';

-- Registry decisions.  block: to black by a reason that leads there (a
-- site's code by its base); an IMEI not yet in the register is entered
-- black (gsma_blocked, counterfeit).  The transition trigger decides.
CREATE FUNCTION imei_registry.block(imei imei_registry.imei, reason text,
                                    note text DEFAULT NULL)
RETURNS imei_registry.status
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
BEGIN
    IF imei IS NULL OR reason IS NULL THEN
        RAISE EXCEPTION 'block needs an IMEI and a reason'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- a code that leads to black at all (the trigger checks the change)
    IF NOT coalesce(imei_registry.reason_leads_to(imei_registry.reason_base(block.reason),
                                                  'black'), false) THEN
        RAISE EXCEPTION 'reason "%" does not lead to black', reason
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Block reasons are the codes of imei_registry.reasons with status black.';
    END IF;
    UPDATE imei_registry.registry AS r
       SET status = 'black', reason = block.reason, note = block.note,
           application_id = NULL, import_id = NULL
     WHERE r.imei OPERATOR(pg_catalog.=) block.imei;
    IF NOT FOUND THEN
        INSERT INTO imei_registry.registry (imei, status, reason, note)
        VALUES (block.imei, 'black', block.reason, block.note);
    END IF;
    RETURN 'black';
END
$$;
COMMENT ON FUNCTION imei_registry.block(imei_registry.imei, text, text) IS
    'registry decision: make an IMEI black for a reason (gsma_blocked, counterfeit, replaced, grey_expired)';

-- reinstate: a black IMEI back to white by an explicit registry decision;
-- reason is the written reason, recorded as the note of the change.
CREATE FUNCTION imei_registry.reinstate(imei imei_registry.imei, reason text)
RETURNS imei_registry.status
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
BEGIN
    IF imei IS NULL THEN
        RAISE EXCEPTION 'reinstate needs an IMEI'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE imei_registry.registry AS r
       SET status = 'white', reason = 'reinstated', note = reinstate.reason,
           application_id = NULL, import_id = NULL
     WHERE r.imei OPERATOR(pg_catalog.=) reinstate.imei;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'IMEI % is not in the register', imei
            USING ERRCODE = 'no_data_found';
    END IF;
    RETURN 'white';
END
$$;
COMMENT ON FUNCTION imei_registry.reinstate(imei_registry.imei, text) IS
    'registry decision: a black IMEI back to white, with its written reason';

-- The horizon of the commit-safe feeds (changes() here, exceptions() of
-- 150_pairing.sql): the xmin of the current snapshot.  Every transaction
-- below it has ended, so a feed row whose xid is below it is committed (or
-- never will be), and every row still to become visible will have an xid at
-- or above it.  Internal: EXECUTE is revoked from PUBLIC.
CREATE FUNCTION imei_registry.feed_horizon() RETURNS xid8
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot()) $$;
COMMENT ON FUNCTION imei_registry.feed_horizon() IS
    'internal: the xid below which the commit-safe feeds return rows (xmin of the current snapshot)';

-- The operators' feed of status changes, in commit-safe order.
--
-- Identity values are taken before commit, so transactions commit out of id
-- order.  The feed therefore orders by (xid, id), xid being the writing
-- transaction, and returns only rows whose xid is below the xmin of the
-- current snapshot: every transaction below it has ended, and any row that
-- becomes visible later belongs to a transaction at or above it, so it
-- sorts after everything already returned.  grey_last_day is the deadline
-- after the change (a grey row's, moved by earlier_connection).  A reader that resumes after the
-- last id it saw (after = 0 to start) never skips a row.  The price: the
-- feed waits for the oldest transaction of the cluster that holds an xid.
-- A registry that Citus distributes has a history per shard, each with the
-- xids of its own node: changes() refuses it (changes_horizon(), 0A000)
-- and changes_sharded() below serves it.
CREATE FUNCTION imei_registry.changes_horizon() RETURNS xid8
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
BEGIN
    IF imei_registry.registry_distributed() THEN
        RAISE EXCEPTION 'changes() cannot order the history of a distributed registry'
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'Each shard''s history has the transaction ids and ids of the node that wrote it; one position cannot order them.',
                  HINT = 'Read imei_registry.changes_sharded(after jsonb, max_rows), starting at ''{}''; see docs/scale-out.md, "The sharded feed".';
    END IF;
    RETURN imei_registry.feed_horizon();
END
$$;
COMMENT ON FUNCTION imei_registry.changes_horizon() IS
    'internal: changes()'' horizon, feed_horizon(); 0A000 where the registry is distributed';

CREATE FUNCTION imei_registry.changes(after bigint, max_rows integer DEFAULT 1000)
RETURNS TABLE (id bigint, imei imei_registry.imei,
               from_status imei_registry.status, to_status imei_registry.status,
               reason text, changed_at timestamptz,
               application_id bigint, import_id bigint, grey_last_day date)
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    horizon xid8 := imei_registry.changes_horizon();
    after_xid xid8 := '0';
BEGIN
    IF max_rows < 1 OR after < 0 THEN
        RAISE EXCEPTION 'changes(%, %): after must be >= 0 and max_rows >= 1', after, max_rows
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF after > 0 THEN
        SELECT h.xid INTO after_xid FROM imei_registry.history h WHERE h.id = after;
        IF NOT FOUND OR after_xid >= horizon THEN
            RAISE EXCEPTION 'change % was never returned by changes()', after
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Resume after the last id that changes() returned, or start at 0.';
        END IF;
    END IF;
    RETURN QUERY
    SELECT h.id, h.imei, h.from_status, h.to_status, h.reason, h.changed_at,
           h.application_id, h.import_id, h.grey_last_day
    FROM imei_registry.history h
    WHERE h.xid < horizon AND (h.xid, h.id) > (after_xid, after)
    ORDER BY h.xid, h.id
    LIMIT max_rows;
END
$$;
COMMENT ON FUNCTION imei_registry.changes(bigint, integer) IS
    'the operators'' feed of status changes after the given id, in commit-safe order (a registry on one node; distributed: changes_sharded())';

-- ---- The sharded feed (docs/scale-out.md, "The sharded feed") ----
-- A history shard of this node (src/layout.c): its shard id, 0 for
-- imei_registry.history itself (22023 for anything else); this node's
-- group in the Citus cluster (pg_dist_local_group; -1 without Citus); and
-- whether the feed may read a shard and the history trigger write it: the
-- table itself where it is not distributed, a shard that
-- imei_registry.feed_shards lists on this node's group (a shard that a
-- move brought here holds the xids of another node until rebase_feeds()).
-- Internal.
CREATE FUNCTION imei_registry.feed_shard(shard regclass) RETURNS bigint
    AS 'MODULE_PATHNAME', 'feed_shard'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.feed_node_group() RETURNS integer
    AS 'MODULE_PATHNAME', 'feed_node_group'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION imei_registry.feed_shard_ready(shard regclass) RETURNS boolean
    AS 'MODULE_PATHNAME', 'feed_shard_ready'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.feed_shard(regclass) IS
    'internal: the shard id of a history shard of this node (0: imei_registry.history itself)';
COMMENT ON FUNCTION imei_registry.feed_node_group() IS
    'internal: this node''s group in the Citus cluster (pg_dist_local_group), -1 without Citus';
COMMENT ON FUNCTION imei_registry.feed_shard_ready(regclass) IS
    'internal: may the feed read a history shard here (its rows carry this node''s xids)?';

-- One shard's page of the feed, read on the node that holds it (on Citus,
-- run there by changes_sharded() through run_command_on_shards(); on one
-- node, the table itself as shard 0): exactly changes()' rule with that
-- node's horizon, pg_snapshot_xmin of its own snapshot, and the shard's
-- position, the last id returned for it (after ->> shard id; none: 0).
-- The rows as a jsonb array (in (xid, id) order, ord from 1), or, for a
-- position that this shard never returned or a shard not re-based, an
-- object {sqlstate, message, hint} that changes_sharded() raises: what
-- run_command_on_shards() gives back is text, without the SQLSTATE.
CREATE FUNCTION imei_registry.changes_of_shard(shard regclass, after jsonb, max_rows integer)
RETURNS text
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    sid constant bigint := imei_registry.feed_shard(shard);
    horizon xid8 := imei_registry.feed_horizon();
    after_id bigint := coalesce((after ->> sid::text)::bigint, 0);
    after_xid xid8 := '0';
    page jsonb;
BEGIN
    IF NOT imei_registry.feed_shard_ready(shard) THEN
        RETURN jsonb_build_object('sqlstate', '55000',
            'message', format('shard %s of imei_registry.history is not re-based for the feed on its node', sid),
            'hint', 'A shard move copied its rows with the transaction ids of the node they came from: run CALL imei_registry.rebase_feeds() on the coordinator, then read again from the same position.')::text;
    END IF;
    IF after_id > 0 THEN
        EXECUTE format('SELECT h.xid FROM %s h WHERE h.id = $1', shard) INTO after_xid USING after_id;
        IF after_xid IS NULL OR after_xid >= horizon THEN
            RETURN jsonb_build_object('sqlstate', '22023',
                'message', format('change %s was never returned by changes_sharded() for shard %s', after_id, sid),
                'hint', 'Resume after the position that changes_sharded() returned last, or start at ''{}''.')::text;
        END IF;
    END IF;
    EXECUTE format($q$
        SELECT coalesce(jsonb_agg(r ORDER BY r.ord), '[]')
          FROM (SELECT row_number() OVER (ORDER BY h.xid, h.id) AS ord,
                       h.id, h.imei::text AS imei, h.from_status, h.to_status, h.reason,
                       h.changed_at, h.application_id, h.import_id, h.grey_last_day
                  FROM %s h
                 WHERE h.xid < $1 AND (h.xid, h.id) > ($2, $3)
                 ORDER BY h.xid, h.id
                 LIMIT $4) r$q$, shard)
        INTO page USING horizon, after_xid, after_id, max_rows;
    RETURN page::text;
END
$$;
COMMENT ON FUNCTION imei_registry.changes_of_shard(regclass, jsonb, integer) IS
    'internal: one history shard''s page of changes_sharded(), read on its node below that node''s horizon';

-- The feed of a distributed registry (and, as shard 0, of one on a single
-- node): complete and in commit-safe order per shard.  after is the
-- position, a jsonb object {"<shard id>": <last id returned of it>} ('{}'
-- to start; a shard not named starts at 0).  Each shard is read on its
-- node by changes_of_shard(), below that node's own horizon, so an open
-- transaction holds back only the rows of the shards of its node that
-- sort after it.  At most max_rows rows in all, each shard's in its order,
-- the shards' interleaved by time (a row comes before those of other
-- shards that were changed later than every row of its shard up to it);
-- position_after is the position after the row (resume with the last
-- row's).  A position naming a shard that is not one of the history (a
-- shard split) is refused (22023), as is a shard not re-based after a move
-- (55000, rebase_feeds()).  A shard move keeps ids: a reader resumes across
-- it.  STABLE: it writes nothing (the shards' pages are read by
-- run_command_on_shards() in transactions of their own, on their nodes).
CREATE FUNCTION imei_registry.changes_sharded(after jsonb, max_rows integer DEFAULT 1000)
RETURNS TABLE (shard bigint, id bigint, imei imei_registry.imei,
               from_status imei_registry.status, to_status imei_registry.status,
               reason text, changed_at timestamptz,
               application_id bigint, import_id bigint, grey_last_day date,
               position_after jsonb)
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    distributed constant boolean := imei_registry.registry_distributed();
    shards bigint[];
    bad text;
    got jsonb := '{}';
    page jsonb;
    s record;
    r record;
    pos jsonb := after;
BEGIN
    IF jsonb_typeof(after) <> 'object' OR max_rows < 1 OR EXISTS (
           SELECT FROM jsonb_each(after) e
            WHERE e.key !~ '^(0|[1-9][0-9]{0,17})$' OR jsonb_typeof(e.value) <> 'number'
               OR e.value::numeric < 0 OR e.value::numeric <> trunc(e.value::numeric)) THEN
        RAISE EXCEPTION 'changes_sharded(%, %): after must be an object of shard ids and ids >= 0, max_rows >= 1',
            after, max_rows
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Start at ''{}'' and resume with the position_after of the last row returned.';
    END IF;
    IF distributed THEN
        SELECT array_agg(d.shardid ORDER BY d.shardid) INTO shards
          FROM pg_catalog.pg_dist_shard d
         WHERE d.logicalrelid = 'imei_registry.history'::regclass;
    ELSE
        shards := ARRAY[0::bigint];
    END IF;
    SELECT string_agg(e.key, ', ' ORDER BY e.key) INTO bad
      FROM jsonb_object_keys(after) e(key)
     WHERE e.key::bigint <> ALL (shards);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'the position names shards that imei_registry.history does not have: %', bad
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = CASE WHEN distributed
                                THEN 'A position''s keys are the shard ids of the history (pg_dist_shard); a shard split replaces them.'
                                ELSE 'On a registry that is not distributed the history is one shard, 0.' END,
                  HINT = 'Resume with the position_after of the last row returned, or start at ''{}''.';
    END IF;

    IF distributed THEN
        FOR s IN SELECT c.shardid, c.success, c.result
                   FROM pg_catalog.run_command_on_shards('imei_registry.history',
                            format('SELECT imei_registry.changes_of_shard(%L, %L::jsonb, %s)',
                                   '%s', after, max_rows)) c
        LOOP
            IF NOT s.success THEN
                RAISE EXCEPTION 'changes_sharded() could not read shard % of imei_registry.history: %',
                    s.shardid, s.result;
            END IF;
            got := got || jsonb_build_object(s.shardid::text, s.result::jsonb);
        END LOOP;
    ELSE
        got := jsonb_build_object('0',
                   imei_registry.changes_of_shard('imei_registry.history', after, max_rows)::jsonb);
    END IF;
    FOR page IN SELECT e.value FROM jsonb_each(got) e WHERE jsonb_typeof(e.value) = 'object' LOOP
        RAISE EXCEPTION '%', page ->> 'message'
            USING ERRCODE = page ->> 'sqlstate', HINT = page ->> 'hint';
    END LOOP;

    FOR r IN
        SELECT e.key::bigint AS sid, x.*
          FROM jsonb_each(got) e,
               jsonb_to_recordset(e.value) AS x(ord bigint, id bigint, imei text,
                   from_status imei_registry.status, to_status imei_registry.status,
                   reason text, changed_at timestamptz, application_id bigint,
                   import_id bigint, grey_last_day date)
         ORDER BY max(x.changed_at) OVER (PARTITION BY e.key ORDER BY x.ord), e.key::bigint, x.ord
         LIMIT max_rows
    LOOP
        pos := jsonb_set(pos, ARRAY[r.sid::text], to_jsonb(r.id));
        shard := r.sid;
        id := r.id;
        imei := r.imei::imei_registry.imei;
        from_status := r.from_status;
        to_status := r.to_status;
        reason := r.reason;
        changed_at := r.changed_at;
        application_id := r.application_id;
        import_id := r.import_id;
        grey_last_day := r.grey_last_day;
        position_after := pos;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION imei_registry.changes_sharded(jsonb, integer) IS
    'the operators'' feed of status changes per history shard (on Citus; one node: shard 0) after a position {shard: last id}, in commit-safe order per shard';
