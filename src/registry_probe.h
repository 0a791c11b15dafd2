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
	bool		has_first_seen; /* ... with a first connection */
	TimestampTz first_seen_at;
} RegistryProbe;

/* out[i] for imeis[i], as the latest snapshot shows the rows */
extern void registry_probe_first_seen(const Imei *imeis, int n, RegistryProbe *out);

#endif							/* IMEI_REGISTRY_REGISTRY_PROBE_H */
