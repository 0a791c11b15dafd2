/*
 * operators.h
 *		Is a code an operator of imei_registry.operators?  (operators.c)
 */
#ifndef IMEI_REGISTRY_OPERATORS_H
#define IMEI_REGISTRY_OPERATORS_H

/* From a backend's cache of the codes, which never go away */
extern bool operator_known(const char *code);

#endif							/* IMEI_REGISTRY_OPERATORS_H */
