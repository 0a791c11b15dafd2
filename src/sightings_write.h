/*
 * sightings_write.h
 *		The day bits of reports written straight into imei_registry.sightings
 *		(sightings_write.c), behind record_sightings().
 */
#ifndef IMEI_REGISTRY_SIGHTINGS_WRITE_H
#define IMEI_REGISTRY_SIGHTINGS_WRITE_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "imei.h"

/*
 * Set the local day of ats[i] in the row of (imeis[i], imsis[i],
 * msisdns[i] (0: none), operators[i] (text), its month), adding the row if
 * new; changed[i]: report i set a new day or added a row.  No key twice
 * (21000).  False, with nothing written, when the table is not one this
 * path writes: the caller takes the executor's path.
 */
extern bool sightings_write(int n, const Imei *imeis, const int64 *imsis,
							const int64 *msisdns, const Datum *operators,
							const TimestampTz *ats, bool *changed);

#endif							/* IMEI_REGISTRY_SIGHTINGS_WRITE_H */
