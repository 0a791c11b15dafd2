/*
 * module.c
 *		The one place that marks imei_registry as a PostgreSQL module, and
 *		its load-time set-up: each concern's init function.
 */
#include "postgres.h"
#include "fmgr.h"

#include "bulk.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	bulk_init();
}
