/*
 * devices.h
 *		The registry's references to imei_registry.devices (devices.c):
 *		registry.device_id has no foreign key; the transition trigger checks
 *		a new reference and devices_guard keeps a named device.
 */
#ifndef IMEI_REGISTRY_DEVICES_H
#define IMEI_REGISTRY_DEVICES_H

#include "postgres.h"

/*
 * Is device device_id in imei_registry.devices?  Locks its row FOR KEY
 * SHARE, as a foreign key's check does, so that it stays until the end of
 * the transaction; 23503 naming the IMEI (a text, for the message) and the
 * device otherwise, 40001 when a repeatable read transaction finds it
 * changed or deleted since its snapshot.
 */
extern void device_reference_check(const char *imei, int64 device_id);

#endif							/* IMEI_REGISTRY_DEVICES_H */
