/*
 * history_insert.h
 *		History rows through the multi-insert path (history_insert.c).
 */
#ifndef IMEI_REGISTRY_HISTORY_INSERT_H
#define IMEI_REGISTRY_HISTORY_INSERT_H

#include "postgres.h"
#include "utils/relcache.h"

/* The columns of a history row that its writer gives, in this order */
typedef enum HistoryColumn
{
	HC_IMEI,
	HC_FROM_STATUS,
	HC_TO_STATUS,
	HC_REASON,
	HC_ACTOR,
	HC_CHANGED_AT,
	HC_APPLICATION_ID,
	HC_IMPORT_ID,
	HC_NOTE,
	HC_FIRST_SEEN_AT,
	HC_FIRST_OPERATOR,
	HC_GREY_LAST_DAY,
	HC_NCOLUMNS
} HistoryColumn;

typedef struct HistoryWriter HistoryWriter;

/*
 * A writer of the history's rows; NULL when the history is not the table
 * this path writes (then an INSERT must).  Its first row fires the
 * history's statement trigger.  The caller runs as the history's owner,
 * with registry_writing_history set.
 */
extern HistoryWriter *history_writer_open(Relation registry);
extern void history_writer_add(HistoryWriter *w, const Datum *values, const bool *nulls);
extern void history_writer_end(HistoryWriter *w);

#endif							/* IMEI_REGISTRY_HISTORY_INSERT_H */
