/*
 * registry.h
 *		What the registry's C parts share: the limits of stored text, the
 *		definition of visible text, and whether the history trigger is
 *		writing history right now.
 */
#ifndef IMEI_REGISTRY_REGISTRY_H
#define IMEI_REGISTRY_REGISTRY_H

#include "postgres.h"

/*
 * The longest note (registry.note, copied into history.note) in characters:
 * the written reason of a decision, a block-list line.  A longer one is an
 * error (22001) for a direct write and a rejected row (too_long) in a bulk
 * load.  History is append-only, so what it keeps is kept short.
 */
#define REGISTRY_NOTE_MAX_CHARS 500

/*
 * Does the text have a visible character: one that is not white space, not
 * a control character and not invisible formatting (Unicode White_Space,
 * Cc, Cf and Default_Ignorable_Code_Point)?  In src/visible.c.
 */
extern bool text_has_visible_char(const char *s, int len);

/* True while registry_history inserts the history rows of a statement */
extern bool registry_writing_history;

#endif							/* IMEI_REGISTRY_REGISTRY_H */
