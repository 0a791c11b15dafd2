-- imei_registry 1.0: built by the Makefile from sql/1.0/*.sql and the
-- templates sql/int8_type.sql.in and sql/int8_ops.sql.in.  Edit those, not
-- the built file.

\echo Use "CREATE EXTENSION imei_registry" to load this file. \quit
