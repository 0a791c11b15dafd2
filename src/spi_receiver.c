/*
 * spi_receiver.c
 *		A DestReceiver of one's own for SPI (spi_receiver.h).
 */
#include "postgres.h"

#include "spi_receiver.h"

static void
receiver_startup_none(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
receiver_none(DestReceiver *self)
{
}

void
spi_receiver_init(DestReceiver *self,
				  bool (*receive) (TupleTableSlot *slot, DestReceiver *self),
				  void (*startup) (DestReceiver *self, int operation, TupleDesc typeinfo))
{
	self->receiveSlot = receive;
	self->rStartup = startup ? startup : receiver_startup_none;
	self->rShutdown = receiver_none;
	self->rDestroy = receiver_none;
	self->mydest = DestNone;
}

ParamListInfo
spi_const_params(int n, const Oid *types, const Datum *values)
{
	ParamListInfo params = makeParamList(n);
	int			i;

	params->numParams = n;
	for (i = 0; i < n; i++)
	{
		params->params[i].value = values[i];
		params->params[i].isnull = false;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = types[i];
	}
	return params;
}
