/*
 * grey.h
 *		Local dates of Kazakhstan (Asia/Almaty) and the grey period's days.
 */
#ifndef IMEI_REGISTRY_GREY_H
#define IMEI_REGISTRY_GREY_H

#include "datatype/timestamp.h"
#include "utils/date.h"

/* how far ahead of the server's clock a connection may be (clock drift) */
#define CONNECTION_MAX_AHEAD	(10 * USECS_PER_MINUTE)

extern DateADT almaty_local_date(TimestampTz t);
extern DateADT almaty_today(void);
extern TimestampTz almaty_day_start(DateADT day);

/*
 * Days left of a grey period that ends on local date last: 0 on its last
 * day, negative after it (the one definition, for check_imei() and the
 * operators' reminders).
 */
extern int	grey_days_left(DateADT last);

/* the last day of a period of this many days from a first connection */
extern DateADT grey_period_last_day(TimestampTz connected_at, int days);

/* NULL if a time of connection is plausible, else why not */
extern const char *connection_time_problem(TimestampTz t);

#endif							/* IMEI_REGISTRY_GREY_H */
