/*
 * bulk.h
 *		COPY targets for CSV loading (bulk.c).
 */
#ifndef IMEI_REGISTRY_BULK_H
#define IMEI_REGISTRY_BULK_H

/* Defines imei_registry.import_atomic; called from _PG_init (guc.c). */
extern void bulk_init(void);

#endif							/* IMEI_REGISTRY_BULK_H */
