-- (made by create_registry(); the rest: sql/1.0/210_grey_expiry.sql)
-- One row per run of expire_grey_period(), updated in the transaction of
-- each batch: finished_at stays NULL while a run goes on, and for ever when
-- it was killed (its counts are still exact: what it committed).
CREATE TABLE imei_registry.grey_expiry_runs (
    run_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    run_by        text NOT NULL DEFAULT CURRENT_USER,
    batch_size    integer NOT NULL,
    expired       bigint NOT NULL DEFAULT 0,    -- IMEIs moved to black
    batches       integer NOT NULL DEFAULT 0,   -- transactions that moved some
    max_batch_ms  double precision NOT NULL DEFAULT 0  -- longest such transaction
);
