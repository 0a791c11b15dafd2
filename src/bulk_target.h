/*
 * bulk_target.h
 *		The COPY targets and the batch engine that runs them: what a target
 *		is (BulkTargetRoutine), and what the engine (bulk.c) does for all of
 *		them.
 *
 * A target (imei_registry.upload_*) is described by a routine, as a
 * foreign-data wrapper or a table access method is: its name (the table,
 * which is also the argument of its three triggers), its columns, how it
 * checks one row (load_row) and how it writes a batch of the rows it
 * queued (flush).  Each target lives in a file of its own (bulk_*.c) and
 * prepares its own statements when it first needs them (BulkPlan).
 *
 * The engine owns the rest: the triggers, the import (its imports row, its
 * counters, its rejects, atomic mode), the batch, the SPI connection as the
 * target's owner (once per batch, not per row), the set of keys seen in
 * the file, and the helpers the targets share.
 */
#ifndef IMEI_REGISTRY_BULK_TARGET_H
#define IMEI_REGISTRY_BULK_TARGET_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/relcache.h"

#include "bulk_check.h"
#include "relcheck.h"

/*
 * Valid rows of a target with a flush wait in a batch and go to the tables
 * in one statement per batch: one executor start, one plan and one run of
 * the registry's statement triggers for many rows.
 */
#define BULK_BATCH_ROWS 1000

/* The most keys one row holds in the seen set (upload_devices: 4 IMEIs) */
#define BULK_ROW_KEYS 4

/*
 * The head of a row waiting in the batch.  A target's own row type starts
 * with it, and its routine's row_size is the size of that type.
 */
typedef struct BulkRow
{
	int64		line;			/* of the input, header counted */
	Datum		raw;			/* text[] of its values, for a reject; 0: none */
	int			nkeys;			/* its keys in the seen set */
	int64		keys[BULK_ROW_KEYS];
} BulkRow;

typedef struct BulkLoad BulkLoad;

typedef struct BulkTargetRoutine
{
	const char *name;			/* the table, and its triggers' argument */
	ExtRelation relation;		/* relcheck.c's name for it */
	int			ncolumns;		/* all text, read by position */

	/*
	 * The size of the target's row type in the batch (0: it has no batch),
	 * and whether a queued row keeps its raw values: only a target that may
	 * still reject a row at its flush needs them.
	 */
	Size		row_size;
	bool		keep_raw;

	/* Optional: set up the target's state of one load (load->private) */
	void		(*begin) (BulkLoad *load);

	/*
	 * Check one row of the input.  Leaves r as it is (loaded), or marks it
	 * rejected or already present, or queues it (bulk_queue_row).  Runs in
	 * a memory context reset after every row.
	 */
	void		(*load_row) (BulkLoad *load, RowResult *r, HeapTuple tuple,
							 TupleDesc desc);

	/*
	 * Write the queued rows (load->nbatch of them), and settle each one
	 * (bulk_settle*).  Runs in a memory context reset after every batch.
	 * NULL for a target that applies each row in load_row.
	 */
	void		(*flush) (BulkLoad *load);
} BulkTargetRoutine;

/*
 * One load: a COPY (or INSERT) into a target, from its statement's BEFORE
 * trigger to its AFTER trigger.  Lives in its own memory context, dropped
 * at the end of the statement or of the transaction.  Targets read it;
 * only the engine writes it (private excepted).
 */
struct BulkLoad
{
	const BulkTargetRoutine *target;
	Oid			relid;
	Oid			row_trigger;	/* the row trigger checked at the first row */
	Relation	rel;			/* during a row trigger call */
	int64		import_id;
	bool		atomic;
	bool		active;
	SubTransactionId subid;		/* the subtransaction that began it */
	int64		nread;
	int64		nloaded;
	int64		nrejected;
	int64		npresent;
	StringInfoData quoted;		/* atomic mode: the first few reasons */
	struct seen_hash *seen;		/* the keys accepted so far (bulk.c) */
	char	   *operator;		/* the one operator of the loaded rows */
	bool		operators_mixed;	/* ... or they name several */
	char	   *batch;			/* BULK_BATCH_ROWS rows of row_size */
	int			nbatch;
	void	   *private;		/* the target's own state */
	bool		registry_distributed;	/* Citus distributes the registry */
	MemoryContext cxt;			/* lives as long as the load */
	MemoryContext rowcxt;		/* reset for every row */
	MemoryContext batchcxt;		/* reset for every batch */
};

/* Row i of the batch */
#define bulk_batch_row(load, i) \
	((BulkRow *) ((load)->batch + (Size) (i) * (load)->target->row_size))

/* The routines of the targets (bulk_*.c) */
extern const BulkTargetRoutine bulk_connections_target;
extern const BulkTargetRoutine bulk_sightings_target;
extern const BulkTargetRoutine bulk_devices_target;
extern const BulkTargetRoutine bulk_tac_target;
extern const BulkTargetRoutine bulk_blocklist_target;

/* ---- the batch ---- */

/*
 * Queue a valid row for the next batch, with its keys (remembered in the
 * seen set until the row is settled), and mark r pending.  The caller
 * fills the rest of the target's row; text with bulk_batch_text().
 */
extern BulkRow *bulk_queue_row(BulkLoad *load, RowResult *r, HeapTuple tuple,
							   TupleDesc desc, int nkeys, const int64 *keys);

/* Write the batch now (a row needs the ones before it written) */
extern void bulk_flush_batch(BulkLoad *load);

/* A text datum that lives as long as the batch */
extern Datum bulk_batch_text(BulkLoad *load, const char *s);

/*
 * n values as a one-dimensional array, NULL where nulls says (nulls may be
 * NULL): text, or an 8-byte type passed like int8 (imei, int8, timestamptz).
 */
extern Datum bulk_array(Oid type, Datum *elems, bool *nulls, int n);

/*
 * Count a row of the batch: loaded or already present, or rejected (r), or
 * a duplicate of a row this import wrote in an earlier batch.  A row that
 * changed the tables, or was rejected, leaves the seen set: the tables
 * answer for the former (their import_id), and a rejected row is nobody's
 * earlier row.  A row already present keeps its keys, so that the seen
 * set holds the batch and the keys that were known already: its memory is
 * bounded by those, not by the file.
 */
extern void bulk_settle(BulkLoad *load, BulkRow *row, RowOutcome outcome);
extern void bulk_settle_result(BulkLoad *load, BulkRow *row, const RowResult *r);
extern void bulk_settle_duplicate(BulkLoad *load, BulkRow *row);

/* Drop the row's keys from the seen set (its key was settled otherwise) */
extern void bulk_forget_row(BulkLoad *load, BulkRow *row);

/* A loaded row names this operator (text): the imports row keeps the one */
extern void bulk_note_operator(BulkLoad *load, Datum operator);

/* ---- the seen set: keys accepted so far in this load ---- */

extern bool bulk_seen_before(BulkLoad *load, int64 key);
/* ... by a row accepted: one still waiting in the batch is written first */
extern bool bulk_accepted_before(BulkLoad *load, int64 key);
extern void bulk_remember(BulkLoad *load, int64 key);

/* Reject a row whose IMEI came earlier in this import */
extern void bulk_reject_duplicate(RowResult *r, Imei imei);

/* ---- statements ---- */

/*
 * A statement of a target, prepared when first needed and kept for the
 * backend; prepared again after the extension was dropped and created (a
 * new OID of type imei).  Usage:
 *
 *		static BulkPlan plan;
 *
 *		if (!bulk_plan_ready(&plan))
 *			bulk_plan_prepare(&plan, "SELECT ...", nargs, argtypes);
 *		bulk_exec(plan.plan, values, nulls);
 */
typedef struct BulkPlan
{
	SPIPlanPtr	plan;
	Oid			imei_type;		/* the imei type it was prepared for */
} BulkPlan;

/* The OID of imei_registry.imei (and of its array type), as of this load */
extern Oid	bulk_imei_type(void);
extern Oid	bulk_imei_array_type(void);

extern bool bulk_plan_ready(const BulkPlan *plan);
extern void bulk_plan_prepare(BulkPlan *plan, const char *sql, int nargs,
							  Oid *argtypes);

/*
 * The same for a statement planned again for each run's values (a custom
 * plan, never a generic one): Citus plans no generic plan of a distributed
 * statement over a parameter's unnest().
 */
extern void bulk_plan_prepare_custom(BulkPlan *plan, const char *sql, int nargs,
									 Oid *argtypes);

/*
 * Run a statement in the call's SPI connection (opened as the target's
 * owner if not yet); the SPI result code.
 */
extern int	bulk_exec(SPIPlanPtr plan, Datum *values, const char *nulls);

/*
 * Run a statement that the registry's rules may refuse, in a
 * subtransaction: false, with the rule's message, when the registry
 * refused a transition (IR001); other errors propagate.
 */
extern bool bulk_exec_transition(SPIPlanPtr plan, Datum *values, char **refusal);

/* Open the call's SPI connection now (the registry's triggers run as its owner) */
extern void bulk_spi_ensure(void);

/*
 * The result of the statement a batch just ran: one row per batch row, its
 * position in the batch (1-based) first.  The caller keeps it, since
 * settling a row may run SPI again.
 */
extern SPITupleTable *bulk_batch_result(BulkLoad *load, const char *what);
extern BulkRow *bulk_result_row(BulkLoad *load, SPITupleTable *result, uint64 i);
extern bool bulk_result_bool(SPITupleTable *result, uint64 i, int column);
/* Column column of row i is an import_id: is it this import? */
extern bool bulk_result_is_import(BulkLoad *load, SPITupleTable *result, uint64 i,
								  int column);

#endif							/* IMEI_REGISTRY_BULK_TARGET_H */
