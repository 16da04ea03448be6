/* ph-history.h: the last checks, kept across restarts
 *
 * One entry per finished check: when, the verdict per family, the main cause and how the node is
 * reachable. The file is $XDG_STATE_HOME/porthole/history.json, written atomically after every
 * entry; it holds at most PH_HISTORY_MAX_ENTRIES entries and is never read past
 * PH_HISTORY_MAX_BYTES. A file that cannot be read or does not parse as a history is set aside
 * (renamed history.json.corrupt-<time>, never deleted) and reported once through
 * PH_HISTORY_ERROR_CORRUPT; the history then starts afresh.
 *
 * Signal: "changed" (no arguments) after an entry was added or the file was (re)loaded.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "ph-diagnosis.h"

G_BEGIN_DECLS

#define PH_HISTORY_ERROR (ph_history_error_quark ())

typedef enum
{
  PH_HISTORY_ERROR_CORRUPT, /* unreadable, too large or not a history: set aside, the message
                               names the file it was moved to */
  PH_HISTORY_ERROR_IO,      /* the file or its folder could not be read, written or set aside */
} PhHistoryError;

GQuark
ph_history_error_quark (void);

#define PH_HISTORY_MAX_ENTRIES 100
/* A full history is about 12 KiB; anything much larger was not written by us. */
#define PH_HISTORY_MAX_BYTES (1024 * 1024)

typedef struct
{
  gint64 time; /* unix seconds */
  PhVerdict ipv4, ipv6;
  char *cause; /* nullable: "behind-nat", "cgnat", … (ph_diagnosis_explain_cause () says it) */
  char *how;   /* "direct" "upnp" "forward" "ipv6" or NULL when not reachable */
} PhHistoryEntry;

PhHistoryEntry *
ph_history_entry_copy (const PhHistoryEntry *entry);
void
ph_history_entry_free (PhHistoryEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhHistoryEntry, ph_history_entry_free)

#define PH_TYPE_HISTORY (ph_history_get_type ())
G_DECLARE_FINAL_TYPE (PhHistory, ph_history, PH, HISTORY, GObject)

/* path NULL: $XDG_STATE_HOME/porthole/history.json. Nothing is read until ph_history_load (). */
PhHistory *
ph_history_new (const char *path);
const char *
ph_history_get_path (PhHistory *self);
/* A missing file is an empty history (TRUE). A corrupt one is set aside: the history is empty
 * and FALSE is returned with PH_HISTORY_ERROR_CORRUPT naming where it went. Emits "changed". */
gboolean
ph_history_load (PhHistory *self, GError **error);
/* Adds the diagnosis as the newest entry (when NULL: now), drops the oldest past
 * PH_HISTORY_MAX_ENTRIES, saves atomically and emits "changed". Loads first when
 * ph_history_load () was never called. A failed save is logged; ph_history_save () tells. */
void
ph_history_add (PhHistory *self, PhDiagnosis *diagnosis, GDateTime *when);
/* Adds a ready-made entry (copied), as ph_history_add () does. */
void
ph_history_add_entry (PhHistory *self, const PhHistoryEntry *entry);
/* Writes the entries now (g_file_set_contents_full: the old file or the new, never half). */
gboolean
ph_history_save (PhHistory *self, GError **error);
/* PhHistoryEntry *, newest first; owned by the history, valid until it changes. */
GPtrArray *
ph_history_get_entries (PhHistory *self);

/* How peers reach the node: "ipv6" (IPv6 only), "upnp" (IPv4 through our UPnP mapping),
 * "direct" (a public IPv4 address on this host), "forward" (IPv4 behind NAT: a forwarding rule),
 * or NULL when not reachable. */
const char *
ph_history_how_for_diagnosis (PhDiagnosis *diagnosis);
/* The cause worth keeping: IPv4's first when IPv4 is not reachable, else IPv6's when IPv6 is
 * unreachable, else NULL; the family's reason (e.g. "no-servers") when it has no cause. */
const char *
ph_history_cause_for_diagnosis (PhDiagnosis *diagnosis);

G_END_DECLS
