/* ph-history-private.h: the history file's format without the file, for tests and fuzzing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "ph-history.h"

G_BEGIN_DECLS

/* The file's text parsed: PhHistoryEntry *, newest first, at most PH_HISTORY_MAX_ENTRIES; NULL
 * when anything in it is not what ph_history_entries_to_data () writes. */
GPtrArray *
ph_history_entries_parse (const char *text, gsize len);
/* The file's text for these entries (PhHistoryEntry *). */
char *
ph_history_entries_to_data (GPtrArray *entries, gsize *len);

G_END_DECLS
