/*
 * spi_receiver.h
 *		A statement's rows handed, as it returns them, to a DestReceiver of
 *		the caller's (SPIExecuteOptions.dest), instead of a result set of
 *		tuples formed and read back: the decision's facts
 *		(decision_facts.c), an application's listed IMEIs (transitions.c).
 *		(spi_receiver.c)
 */
#ifndef IMEI_REGISTRY_SPI_RECEIVER_H
#define IMEI_REGISTRY_SPI_RECEIVER_H

#include "postgres.h"

#include "nodes/params.h"
#include "tcop/dest.h"

/*
 * self's callbacks: receive for each row, startup (or none) with the rows'
 * descriptor before the first.  (A SELECT into it is SPI_OK_UTILITY.)
 */
extern void spi_receiver_init(DestReceiver *self,
							  bool (*receive) (TupleTableSlot *slot, DestReceiver *self),
							  void (*startup) (DestReceiver *self, int operation,
											   TupleDesc typeinfo));

/* n parameters $1 .. $n of these types and (non-null) values, as constants */
extern ParamListInfo spi_const_params(int n, const Oid *types, const Datum *values);

#endif
