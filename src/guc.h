/*
 * guc.h
 *		The configuration parameters (GUCs) of imei_registry.
 */
#ifndef IMEI_REGISTRY_GUC_H
#define IMEI_REGISTRY_GUC_H

/* imei_registry.grey_period_days: length of the grey period, in local days */
extern int	imei_grey_period_days;

#endif							/* IMEI_REGISTRY_GUC_H */
