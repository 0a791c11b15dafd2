/*
 * key_probe.c
 *		The scan key of the probes of key_probe.h: one way to read a table
 *		by the key of one of its btrees from C, used by check_imei(), the
 *		bulk loads' registry probe (registry_probe.c), the devices'
 *		look-ups (devices.c) and the grey period's hold (rules.c).
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "utils/memutils.h"

#include "key_probe.h"

/* its sk_func.fn_oid is InvalidOid until made */
ScanKeyData key_probe_made;

/*
 * In TopMemoryContext (a builtin's look-up allocates nothing).  One
 * function at a time: all the probes compare int8-like keys (F_INT8EQ).
 * A failed look-up leaves sk_func.fn_oid invalid (fmgr_info()).
 */
void
key_probe_make_key(RegProcedure eqproc)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	ScanKeyInit(&key_probe_made, 1, BTEqualStrategyNumber, eqproc, (Datum) 0);
	MemoryContextSwitchTo(old);
}
