/*
 * module.c
 *		The one place that marks imei_registry as a PostgreSQL module.
 */
#include "postgres.h"
#include "fmgr.h"

PG_MODULE_MAGIC;
