/*
 * int64_ops.c
 *		The comparison functions of the int64-backed types (imei, imeisv,
 *		iin, bin; sql/int8_ops.sql.in): bigint's order, as C functions.
 *
 * They compute what int8eq, btint8cmp and the others compute, and the
 * operators could name those (LANGUAGE internal).  But fmgr_info() finds a
 * LANGUAGE internal function that is not one of the server's own pg_proc
 * entries by a linear search of the names of all built-in functions (some
 * 3,000 strcmp calls), and the executor looks an operator's function up at
 * every execution of an indexed query and at every index probe of an
 * ON CONFLICT or unique check: a load of a million lines paid it a million
 * times.  A C function is found in fmgr's hash table of loaded functions.
 * The hash support functions stay PostgreSQL's own (hashint8): hash indexes
 * and hash partitions depend on them never changing, and they are looked up
 * once per relation.
 */
#include "postgres.h"

#include "fmgr.h"

#define INT64_COMPARISON(name, op) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_BOOL(PG_GETARG_INT64(0) op PG_GETARG_INT64(1)); \
}

INT64_COMPARISON(int64_key_eq, ==)
INT64_COMPARISON(int64_key_ne, !=)
INT64_COMPARISON(int64_key_lt, <)
INT64_COMPARISON(int64_key_le, <=)
INT64_COMPARISON(int64_key_gt, >)
INT64_COMPARISON(int64_key_ge, >=)

PG_FUNCTION_INFO_V1(int64_key_cmp);
Datum
int64_key_cmp(PG_FUNCTION_ARGS)
{
	int64		a = PG_GETARG_INT64(0);
	int64		b = PG_GETARG_INT64(1);

	PG_RETURN_INT32(a < b ? -1 : (a > b ? 1 : 0));
}

PG_FUNCTION_INFO_V1(int64_key_smaller);
Datum
int64_key_smaller(PG_FUNCTION_ARGS)
{
	int64		a = PG_GETARG_INT64(0);
	int64		b = PG_GETARG_INT64(1);

	PG_RETURN_INT64(a < b ? a : b);
}

PG_FUNCTION_INFO_V1(int64_key_larger);
Datum
int64_key_larger(PG_FUNCTION_ARGS)
{
	int64		a = PG_GETARG_INT64(0);
	int64		b = PG_GETARG_INT64(1);

	PG_RETURN_INT64(a > b ? a : b);
}
