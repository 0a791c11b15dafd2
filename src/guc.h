/*
 * guc.h
 *		The configuration parameters (GUCs) of imei_registry.
 */
#ifndef IMEI_REGISTRY_GUC_H
#define IMEI_REGISTRY_GUC_H

#include "datatype/timestamp.h"

/* imei_registry.grey_period_days: length of the grey period, in local days */
extern int	imei_grey_period_days;

/* imei_registry.application_hold_days: how long a pending application holds */
extern int	imei_application_hold_days;

/* imei_registry.rules_start: the moment from which the rules apply */
extern TimestampTz imei_rules_start;

/* imei_registry.require_signature: only signed applications are stored */
extern bool imei_require_signature;

#endif							/* IMEI_REGISTRY_GUC_H */
