-- Grey-period expiry: a procedure for pg_cron that moves every grey IMEI
-- whose period has ended to black (reason grey_expired), in batches, each
-- its own transaction, through the registry's transition trigger.

-- pg_cron's rules: called by one CALL statement; no SET clause and not
-- SECURITY DEFINER (either forbids COMMIT); no COMMIT inside an exception
-- block.  Every name and operator is qualified, and each transaction starts
-- by pinning search_path to pg_catalog, pg_temp (transaction-local, since a
-- SET clause is not possible): the caller's search_path decides nothing.  Each batch takes up to batch_size due rows from the partial
-- index registry_grey_due, locks them FOR UPDATE SKIP LOCKED (so concurrent
-- runs, and approvals in progress, are skipped, never waited for), leaves
-- those that a pending application holds (application_holds), moves them
-- with a plain UPDATE whose trigger checks the rule and writes history, and
-- commits.  A row approved meanwhile is no longer grey when it is locked, so
-- it is left alone.  Killing a run rolls back only the batch in progress.
CREATE PROCEDURE imei_registry.expire_grey_period(batch_size integer DEFAULT 10000)
LANGUAGE plpgsql
AS $proc$
DECLARE
    this_run    bigint;
    today       date;
    n           bigint;
    total       bigint := 0;
    nbatches    integer := 0;
    batch_ms    double precision;
    max_ms      double precision := 0;
    started     timestamptz := pg_catalog.clock_timestamp();
    distributed boolean;
    finished    timestamptz;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF batch_size IS NULL OR batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'invalid batch size for imei_registry.expire_grey_period: %', batch_size
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The batch size is the number of IMEIs moved per transaction and must be at least 1.';
    END IF;

    INSERT INTO imei_registry.grey_expiry_runs AS g (started_at, batch_size)
        VALUES (started, batch_size)
        RETURNING g.run_id INTO this_run;
    -- on Citus, registry distributed (docs/scale-out.md, "Citus")
    distributed := imei_registry.registry_distributed();
    COMMIT;

    LOOP
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        -- the local date at the start of this batch's transaction: rows whose
        -- last day is before it are due
        today := imei_registry.local_date(pg_catalog.now());

        -- Citus runs no FOR UPDATE across shards: there the batch is chosen
        -- without locks, and the UPDATE checks each row's status and last
        -- day again on its shard (a row changed meanwhile is left as it is
        -- now; Citus refuses a STABLE function of a column there, so the
        -- hold is asked when choosing only).  On one node the rows chosen
        -- are locked, SKIP LOCKED.
        EXECUTE pg_catalog.format($q$
            UPDATE imei_registry.registry AS r
               SET status = 'black', reason = 'grey_expired'
             WHERE r.imei OPERATOR(pg_catalog.=) ANY (ARRAY(
                    SELECT d.imei
                      FROM imei_registry.registry AS d
                     WHERE d.status OPERATOR(pg_catalog.=) 'grey'
                       AND d.grey_last_day OPERATOR(pg_catalog.<) $1
                       AND NOT imei_registry.application_holds(d.imei, d.grey_last_day)
                     ORDER BY d.grey_last_day
                     LIMIT $2 %s))
               AND r.status OPERATOR(pg_catalog.=) 'grey'
               AND r.grey_last_day OPERATOR(pg_catalog.<) $1$q$,
            CASE WHEN distributed THEN '' ELSE 'FOR UPDATE OF d SKIP LOCKED' END)
        USING today, batch_size;
        GET DIAGNOSTICS n = ROW_COUNT;

        IF n OPERATOR(pg_catalog.>) 0 THEN
            batch_ms := pg_catalog.date_part('epoch',
                            pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) pg_catalog.now())
                        OPERATOR(pg_catalog.*) 1000;
            total := total OPERATOR(pg_catalog.+) n;
            nbatches := nbatches OPERATOR(pg_catalog.+) 1;
            max_ms := pg_catalog.float8larger(max_ms, batch_ms);
        END IF;
        -- the time in a variable: Citus refuses a VOLATILE function in an
        -- UPDATE of a reference table
        finished := CASE WHEN n OPERATOR(pg_catalog.<) expire_grey_period.batch_size
                         THEN pg_catalog.clock_timestamp() END;
        UPDATE imei_registry.grey_expiry_runs AS g
           SET expired = total, batches = nbatches, max_batch_ms = max_ms,
               finished_at = finished
         WHERE g.run_id OPERATOR(pg_catalog.=) this_run;
        COMMIT;
        EXIT WHEN n OPERATOR(pg_catalog.<) batch_size;
    END LOOP;

    RAISE NOTICE 'imei_registry.expire_grey_period: % grey IMEIs moved to black in % batches, % ms',
        total, nbatches,
        pg_catalog.round((pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()
                          OPERATOR(pg_catalog.-) started) OPERATOR(pg_catalog.*) 1000)::numeric)
        USING DETAIL = pg_catalog.format('Run %s of imei_registry.grey_expiry_runs; longest batch transaction %s ms.',
                                         this_run, pg_catalog.round(max_ms::numeric, 1));
END
$proc$;
COMMENT ON PROCEDURE imei_registry.expire_grey_period(integer) IS
    'moves every grey IMEI whose period has ended to black (grey_expired), batch_size per transaction; for pg_cron';

-- Registers the expiry with pg_cron as job imei_registry_grey_expiry (again:
-- updates its schedule).  pg_cron 1.4 reads schedules in GMT; the default,
-- minute 1 of every hour, includes 19:01 GMT = 00:01 in Almaty (UTC+5), and
-- catches up within the hour if a run was missed.  The job can only be
-- scheduled from pg_cron's own database (cron.database_name): from another
-- database the error's hint is the cron.schedule_in_database call to run
-- there, as PostgreSQL has no cross-database calls.
-- pg_cron's database, for the hint of schedule_grey_expiry() in another
-- database.  cron.database_name is readable only by superusers (and
-- pg_read_all_settings); this function, owned by the extension's owner,
-- returns that one setting and nothing else, to the admin.
CREATE FUNCTION imei_registry.cron_database_name() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, imei_registry, pg_temp
AS $$ SELECT pg_catalog.current_setting('cron.database_name', true) $$;
REVOKE ALL ON FUNCTION imei_registry.cron_database_name() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION imei_registry.cron_database_name() TO imei_registry_admin;
COMMENT ON FUNCTION imei_registry.cron_database_name() IS
    'the setting cron.database_name (superuser-only), for imei_registry.schedule_grey_expiry()';

CREATE FUNCTION imei_registry.schedule_grey_expiry(schedule text DEFAULT '1 * * * *')
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT
AS $fn$
DECLARE
    job_name constant text := 'imei_registry_grey_expiry';
    command  constant text := 'CALL imei_registry.expire_grey_period()';
    cron_db  text := imei_registry.cron_database_name();
    job_id   bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension AS e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        IF cron_db OPERATOR(pg_catalog.<>) pg_catalog.current_database() THEN
            RAISE EXCEPTION 'pg_cron runs jobs from database "%", not from database "%"',
                cron_db, pg_catalog.current_database()
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = pg_catalog.format('In database %I, run: SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                                               cron_db, job_name, schedule, command,
                                               pg_catalog.current_database());
        END IF;
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name and cron.use_background_workers = on in postgresql.conf, restart, and run CREATE EXTENSION pg_cron in that database.';
    END IF;

    EXECUTE 'SELECT cron.schedule($1, $2, $3)'
        INTO job_id
        USING job_name, schedule, command;
    RETURN job_id;
END
$fn$;
COMMENT ON FUNCTION imei_registry.schedule_grey_expiry(text) IS
    'schedules CALL imei_registry.expire_grey_period() with pg_cron as job imei_registry_grey_expiry (schedule in GMT on pg_cron 1.4); returns the job id';
