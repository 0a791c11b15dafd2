/*
 * devices.h
 *		The registry's references to imei_registry.devices (devices.c):
 *		registry.device_id has no foreign key; the transition trigger checks
 *		a new reference and devices_guard keeps a named device.
 */
#ifndef IMEI_REGISTRY_DEVICES_H
#define IMEI_REGISTRY_DEVICES_H

#include "postgres.h"

#include "imei.h"

/*
 * Is device device_id in imei_registry.devices?  Locks its row FOR KEY
 * SHARE, as a foreign key's check does, so that it stays until the end of
 * the transaction; 23503 naming the IMEI and the device otherwise, 40001
 * when a repeatable read transaction finds it changed or deleted since its
 * snapshot.  A device found once is not looked up again in the same
 * transaction.
 */
extern void device_reference_check(Imei imei, int64 device_id);

#endif							/* IMEI_REGISTRY_DEVICES_H */
