/*
 * subxact.h
 *		A step run in a subtransaction that one expected error may undo.
 */
#ifndef IMEI_REGISTRY_SUBXACT_H
#define IMEI_REGISTRY_SUBXACT_H

typedef void (*SubxactStep) (void *arg);

/*
 * Runs step(arg) in a subtransaction.  If it fails with SQLSTATE sqlerrcode
 * (and, when constraint is not NULL, on that constraint), the
 * subtransaction is rolled back and false returned, with the error's
 * message in *message when message is not NULL; any other error is thrown
 * on.  The caller's memory context and resource owner are kept.
 */
extern bool subxact_run(SubxactStep step, void *arg, int sqlerrcode,
						const char *constraint, char **message);

#endif							/* IMEI_REGISTRY_SUBXACT_H */
