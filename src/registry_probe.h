/*
 * registry_probe.h
 *		What the registry knows of a batch of IMEIs, by one primary-key
 *		probe each (registry_probe.c).
 */
#ifndef IMEI_REGISTRY_REGISTRY_PROBE_H
#define IMEI_REGISTRY_REGISTRY_PROBE_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "imei.h"

typedef struct RegistryProbe
{
	bool		known;			/* the registry has a row */
	Datum		status;			/* ... with this status (imei_registry.status) */
	bool		has_first_seen; /* ... with a first connection */
	TimestampTz first_seen_at;
} RegistryProbe;

/* out[i] for imeis[i], as the latest snapshot shows the rows */
extern void registry_probe_first_seen(const Imei *imeis, int n, RegistryProbe *out);

/*
 * Does a report of a connection at `at` change nothing of the row probed?
 * The rule of record_connections() for a known IMEI whose first connection
 * is as early or earlier, which cannot turn false.
 */
extern bool registry_report_changes_nothing(const RegistryProbe *probe, TimestampTz at);

#endif							/* IMEI_REGISTRY_REGISTRY_PROBE_H */
