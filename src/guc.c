/*
 * guc.c
 *		_PG_init: defines every configuration parameter of imei_registry.
 *
 * A library has one _PG_init, so every area's GUC is defined here and
 * declared in guc.h.  The parameters exist once the library is loaded: the
 * first call of any of its C functions loads it, and a value set in
 * postgresql.conf, ALTER SYSTEM, ALTER DATABASE or ALTER ROLE before that is
 * kept as a placeholder and applied at load.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "bulk.h"
#include "guc.h"

/*
 * The grey period lasts this many local calendar days after the date of
 * first connection.  PGC_SUSET: it is registry policy, so an ordinary user
 * cannot shorten or lengthen it in a session, while a superuser can set it
 * cluster-wide (postgresql.conf, ALTER SYSTEM), per database (ALTER DATABASE)
 * or, for tests, per session.  It is applied when a grey period starts (the
 * last day is stored in registry.grey_last_day), so changing it never moves
 * the deadline of a device that is already grey.
 */
int			imei_grey_period_days = 30;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("imei_registry.grey_period_days",
							"Length of the grey period in calendar days (Asia/Almaty).",
							"A device first connected on local date D is grey until the end of D plus this many days.",
							&imei_grey_period_days,
							30,
							1, 3650,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	bulk_init();				/* imei_registry.import_atomic */

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("imei_registry");
#else
	EmitWarningsOnPlaceholders("imei_registry");
#endif
}
