-- (made by create_registry(); the rest: sql/1.0/400_bulk_imports.sql)
CREATE TABLE imei_registry.import_rejects (
    import_id   bigint NOT NULL REFERENCES imei_registry.imports ON DELETE CASCADE,
    line_number bigint NOT NULL,    -- physical line in the file, header counted
    raw         text[] NOT NULL,    -- the row's values as read, in column order
                                    -- (a too_long row: each cut to 256 bytes)
    reason      text NOT NULL REFERENCES imei_registry.import_reject_reasons,
    message     text NOT NULL,
    PRIMARY KEY (import_id, line_number)
);
