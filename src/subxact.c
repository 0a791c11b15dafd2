/*
 * subxact.c
 *		A step run in a subtransaction that one expected error may undo:
 *		the multi-insert writers' new rows (another session inserted one
 *		of the keys meanwhile: a unique violation on the primary key) and
 *		the loaders' statements that the transition rules may refuse.
 *		Everything else still aborts the statement.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "subxact.h"

bool
subxact_run(SubxactStep step, void *arg, int sqlerrcode,
			const char *constraint, char **message)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	bool		ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		step(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode != sqlerrcode ||
			(constraint != NULL &&
			 (edata->constraint_name == NULL ||
			  strcmp(edata->constraint_name, constraint) != 0)))
			ReThrowError(edata);
		if (message != NULL)
			*message = pstrdup(edata->message);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}
