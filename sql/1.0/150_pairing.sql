-- Pairing the genuine owner: a pair (IMEI, IMSI) is a subscriber whom the
-- operators' EIRs let through although the IMEI is black, so that clones
-- can be blocked without cutting off the owner.  The admin pairs and
-- unpairs; the portal does for an owner, with the approved application
-- that proves the ownership.  Every change of a pair appends a row to
-- pair_history, which exceptions() serves to the operator the IMSI belongs
-- to, in commit-safe order (as changes() serves the history).
-- docs/operators.md, "Pairing"; grants: 196_subscriber_actions_roles.sql.

-- The one rule: the operator of the longest PLMN that starts the IMSI
-- (NULL: none, e.g. a visitor's).  PL/pgSQL, so that its plan is kept
-- (and Citus cannot run a LANGUAGE sql function with parameters).
CREATE FUNCTION imei_registry.imsi_operator(imsi bigint) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
BEGIN
    RETURN (SELECT n.operator FROM imei_registry.operator_networks n
             WHERE n.plmn IN (pg_catalog.left(imsi::text, 6), pg_catalog.left(imsi::text, 5))
             ORDER BY pg_catalog.length(n.plmn) DESC
             LIMIT 1);
END
$$;
COMMENT ON FUNCTION imei_registry.imsi_operator(bigint) IS
    'the operator an IMSI belongs to: that of the longest PLMN in imei_registry.operator_networks that starts it';

-- The guard (src/registry_guards.c): UPDATE, DELETE and TRUNCATE refused
-- in every mode (whether they would touch a row or not); under
-- session_replication_role = replica (a restore, a logical subscriber) a
-- row gets the local transaction's xid, as history_stamp_xid does for
-- history.  On Citus it fires on the reference table's placements too.
CREATE FUNCTION imei_registry.pair_history_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'pair_history_guard' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION imei_registry.pair_history_guard() FROM PUBLIC;

-- Does this application prove that its applicant owns the IMEI?  It is
-- approved, lists the IMEI, and no application approved after it lists it
-- (the newer owner's).  Raises the reason it does not: 22023 unknown,
-- 55000 not approved, 42501 not the owner's.  Internal.
CREATE FUNCTION imei_registry.check_application_owns(application bigint,
                                                     imei imei_registry.imei)
RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    app imei_registry.applications;
    newer bigint;
BEGIN
    SELECT * INTO app FROM imei_registry.applications a WHERE a.id = application;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'application % does not exist', application
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF app.state <> 'approved' THEN
        RAISE EXCEPTION 'application % is %, not approved', application, app.state
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Only an approved application proves who owns an IMEI.';
    END IF;
    PERFORM FROM imei_registry.application_imeis ai
     WHERE ai.application_id = app.id AND ai.imei OPERATOR(pg_catalog.=) check_application_owns.imei;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'application % does not list IMEI %', application, imei
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Its applicant is not the IMEI''s owner: only an owner''s subscriber is paired.';
    END IF;
    SELECT a.id INTO newer
      FROM imei_registry.application_imeis ai
      JOIN imei_registry.applications a ON a.id = ai.application_id
     WHERE ai.imei OPERATOR(pg_catalog.=) check_application_owns.imei
       AND a.state = 'approved' AND (a.decided_at, a.id) > (app.decided_at, app.id)
     ORDER BY a.decided_at DESC, a.id DESC
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'IMEI % belongs to the applicant of application %, approved after application %',
            imei, newer, application
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The latest approved application that lists an IMEI names its owner.';
    END IF;
END
$$;
COMMENT ON FUNCTION imei_registry.check_application_owns(bigint, imei_registry.imei) IS
    'internal: raises unless the application is approved, lists the IMEI and no later approved one does';

-- A change of a pair, the one writer of both tables.  The pair's row is
-- locked first (inserted if new).  Its xid is the transaction of its latest
-- change: one that is newer than this transaction (a transaction that
-- began writing earlier and changes the pair after a younger one) gets
-- 40001 and retries, so that for every pair the feed's (xid, id) order is
-- the order of its changes.  Returns whether it changed (false: already
-- so).  Internal.
CREATE FUNCTION imei_registry.pair_change(imei imei_registry.imei, imsi bigint,
                                          pair boolean, application bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    p imei_registry.subscriber_pairs;
    op text;
BEGIN
    -- On Citus pair_history is a reference table whose rows take the xid
    -- and id of the transaction that writes them where it runs: only the
    -- coordinator's keep the order that exceptions() serves there.
    IF imei_registry.registry_distributed() THEN
        IF NOT pg_catalog.citus_is_coordinator() THEN
            RAISE EXCEPTION 'pairs of a distributed registry are changed on the Citus coordinator only'
                USING ERRCODE = 'feature_not_supported',
                      DETAIL = 'exceptions() orders the history of pairs by the coordinator''s transactions.',
                      HINT = 'Connect to the coordinator.';
        END IF;
    END IF;
    SELECT * INTO p FROM imei_registry.subscriber_pairs s
     WHERE s.imei OPERATOR(pg_catalog.=) imei AND s.imsi = imsi FOR UPDATE;
    IF NOT FOUND THEN
        IF NOT pair THEN
            RETURN false;
        END IF;
        op := imei_registry.imsi_operator(imsi);
        INSERT INTO imei_registry.subscriber_pairs AS s
            (imei, imsi, operator, paired, application_id, changed_at, changed_by, xid)
        VALUES (imei, imsi, op, true, application, pg_catalog.now(), SESSION_USER,
                pg_catalog.pg_current_xact_id())
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            -- a concurrent first pairing committed: change that row
            SELECT * INTO p FROM imei_registry.subscriber_pairs s
             WHERE s.imei OPERATOR(pg_catalog.=) imei AND s.imsi = imsi FOR UPDATE;
            IF NOT FOUND THEN
                -- not in this transaction's snapshot (REPEATABLE READ)
                RAISE EXCEPTION 'could not serialize the change of pair (%, %): a concurrent transaction paired it', imei, imsi
                    USING ERRCODE = 'serialization_failure',
                          HINT = 'Retry the transaction.';
            END IF;
        END IF;
    END IF;
    IF p.imei IS NOT NULL THEN
        IF p.paired = pair THEN
            RETURN false;
        END IF;
        IF p.xid > pg_catalog.pg_current_xact_id() THEN
            RAISE EXCEPTION 'could not serialize the change of pair (%, %): a younger transaction changed it', imei, imsi
                USING ERRCODE = 'serialization_failure',
                      HINT = 'Retry the transaction.';
        END IF;
        op := p.operator;
        UPDATE imei_registry.subscriber_pairs s
           SET paired = pair, application_id = CASE WHEN pair THEN application ELSE s.application_id END,
               changed_at = pg_catalog.now(), changed_by = SESSION_USER,
               xid = pg_catalog.pg_current_xact_id()
         WHERE s.imei OPERATOR(pg_catalog.=) imei AND s.imsi = imsi;
    END IF;
    INSERT INTO imei_registry.pair_history (imei, imsi, operator, action, changed_at, actor, application_id)
    VALUES (imei, imsi, op, CASE WHEN pair THEN 'added' ELSE 'removed' END, pg_catalog.now(),
            SESSION_USER, CASE WHEN pair THEN application ELSE p.application_id END);
    RETURN true;
END
$$;
COMMENT ON FUNCTION imei_registry.pair_change(imei_registry.imei, bigint, boolean, bigint) IS
    'internal: pair or unpair (IMEI, IMSI), with its pair_history row, in the order of the feed';

-- Pair an IMEI with its owner's IMSI.  The admin may without an
-- application; the portal (and the admin who names one) with an approved
-- application whose applicant owns the IMEI.  The IMSI must belong to an
-- operator (operator_networks): that operator's EIR lets it through.
-- Returns true if added, false if already paired.
CREATE FUNCTION imei_registry.pair_subscriber(imei imei_registry.imei, imsi text,
                                              application bigint DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    imsi_n bigint;
BEGIN
    IF imei IS NULL OR imsi IS NULL THEN
        RAISE EXCEPTION 'pair_subscriber needs an IMEI and an IMSI'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    imsi_n := imei_registry.parse_imsi(imsi);
    IF imei_registry.imsi_operator(imsi_n) IS NULL THEN
        RAISE EXCEPTION 'IMSI % belongs to no operator', imsi
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('No PLMN of imei_registry.operator_networks starts it (its MCC is %s).',
                                             pg_catalog.left(imsi_n::text, 3)),
                  HINT = 'A pair is for an operator''s own subscriber: the admin maps each operator''s MCC and MNC in imei_registry.operator_networks.';
    END IF;
    IF application IS NOT NULL THEN
        PERFORM imei_registry.check_application_owns(application, imei);
    ELSIF NOT pg_catalog.pg_has_role(SESSION_USER, 'imei_registry_admin', 'MEMBER') THEN
        RAISE EXCEPTION 'login "%" may pair IMEI % only with an approved application of its owner', SESSION_USER, imei
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Pass the approved application whose applicant owns the IMEI: pair_subscriber(imei, imsi, application).';
    END IF;
    RETURN imei_registry.pair_change(imei, imsi_n, true, application);
END
$$;
COMMENT ON FUNCTION imei_registry.pair_subscriber(imei_registry.imei, text, bigint) IS
    'pair an IMEI with its owner''s IMSI (admin; portal with the owner''s approved application); true if added';

-- Unpair.  The admin any pair; the portal a pair it made, i.e. one paired
-- with an application.  Returns true if removed, false if not paired.
CREATE FUNCTION imei_registry.unpair_subscriber(imei imei_registry.imei, imsi text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    imsi_n bigint;
    app bigint;
BEGIN
    IF imei IS NULL OR imsi IS NULL THEN
        RAISE EXCEPTION 'unpair_subscriber needs an IMEI and an IMSI'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    imsi_n := imei_registry.parse_imsi(imsi);
    IF NOT pg_catalog.pg_has_role(SESSION_USER, 'imei_registry_admin', 'MEMBER') THEN
        SELECT p.application_id INTO app FROM imei_registry.subscriber_pairs p
         WHERE p.imei OPERATOR(pg_catalog.=) unpair_subscriber.imei AND p.imsi = imsi_n AND p.paired;
        IF FOUND AND app IS NULL THEN
            RAISE EXCEPTION 'login "%" may not unpair IMEI % from IMSI %: the registry''s admin paired them',
                SESSION_USER, imei, imsi
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'The portal removes only the pairs made with an owner''s application.';
        END IF;
    END IF;
    RETURN imei_registry.pair_change(imei, imsi_n, false, NULL);
END
$$;
COMMENT ON FUNCTION imei_registry.unpair_subscriber(imei_registry.imei, text) IS
    'remove the pair of an IMEI and an IMSI (admin; portal: a pair made with an application); true if removed';

-- The operators' feed of pairs, as changes() for the history: rows whose
-- xid is below feed_horizon(), in (xid, id) order, resumed after the last
-- id returned (after = 0 to start); only the pairs whose IMSI belongs to
-- this operator (the operator recorded when first paired).  An EIR applies
-- each row in order: added lets the pair through, removed stops that.
-- On Citus pair_history is a reference table written only from the
-- coordinator (pair_change()), in the coordinator's own transactions: its
-- rows there carry the coordinator's xids and ids, so on the coordinator
-- the feed reads its own placement with the same guarantee; on a worker
-- (whose placement gets the rows by two-phase commit, after the
-- coordinator's commit) it is refused (0A000).
CREATE FUNCTION imei_registry.exceptions(operator text, after bigint, max_rows integer DEFAULT 1000)
RETURNS TABLE (id bigint, imei imei_registry.imei, imsi bigint, action text,
               changed_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$
DECLARE
    op constant text := exceptions.operator;
    horizon xid8 := imei_registry.feed_horizon();
    after_xid xid8 := '0';
    feed regclass := 'imei_registry.pair_history';
    shard bigint;
BEGIN
    PERFORM imei_registry.check_operator_reader(op, 'the exceptions');
    IF imei_registry.registry_distributed() THEN
        IF NOT pg_catalog.citus_is_coordinator() THEN
            RAISE EXCEPTION 'exceptions() of a distributed registry answers on the Citus coordinator only'
                USING ERRCODE = 'feature_not_supported',
                      DETAIL = 'The history of pairs carries the coordinator''s transaction ids; this node''s horizon cannot order it.',
                      HINT = 'Call imei_registry.exceptions() on the coordinator.';
        END IF;
        SELECT d.shardid INTO shard FROM pg_catalog.pg_dist_shard d
         WHERE d.logicalrelid = 'imei_registry.pair_history'::regclass;
        feed := pg_catalog.to_regclass(format('imei_registry.%I', 'pair_history_' || shard));
        IF feed IS NULL THEN
            RAISE EXCEPTION 'the reference table imei_registry.pair_history has no placement on this node'
                USING ERRCODE = 'feature_not_supported',
                      HINT = 'Add the coordinator to the cluster''s metadata (citus_set_coordinator_host()).';
        END IF;
    END IF;
    IF after IS NULL OR max_rows IS NULL THEN
        RAISE EXCEPTION 'exceptions needs after and max_rows'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF max_rows < 1 OR after < 0 THEN
        RAISE EXCEPTION 'exceptions(%, %, %): after must be >= 0 and max_rows >= 1', op, after, max_rows
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF after > 0 THEN
        EXECUTE format('SELECT h.xid FROM %s h WHERE h.id = $1 AND h.operator = $2', feed)
           INTO after_xid USING after, op;
        IF after_xid IS NULL OR after_xid >= horizon THEN
            RAISE EXCEPTION 'exception % was never returned by exceptions() to operator "%"', after, op
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Resume after the last id that exceptions() returned, or start at 0.';
        END IF;
    END IF;
    RETURN QUERY EXECUTE format($q$
    SELECT h.id, h.imei, h.imsi, h.action, h.changed_at
      FROM %s h
     WHERE h.operator = $1 AND h.xid < $2 AND (h.xid, h.id) > ($3, $4)
     ORDER BY h.xid, h.id
     LIMIT $5$q$, feed) USING op, horizon, after_xid, after, max_rows;
END
$$;
COMMENT ON FUNCTION imei_registry.exceptions(text, bigint, integer) IS
    'an operator''s feed of pairs (added, removed) its EIR lets through although black, after the given id, in commit-safe order (on Citus: on the coordinator)';
