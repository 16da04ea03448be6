/* ph-change-log.h: the record of every change Porthole made outside itself, and how to undo it
 *
 * Router mappings, connection settings: whatever Porthole changes is written here before the
 * user is told it is done, so it can be shown and undone later, also after a restart. The file is
 * $XDG_STATE_HOME/porthole/changes.json, written atomically; a file that does not parse is set
 * aside (renamed, never deleted) and reported once.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define PH_CHANGE_LOG_ERROR (ph_change_log_error_quark ())

typedef enum
{
  PH_CHANGE_LOG_ERROR_CORRUPT,   /* the file did not parse; it was set aside, the next call starts
                                    afresh */
  PH_CHANGE_LOG_ERROR_FULL,      /* PH_CHANGE_LOG_MAX_ENTRIES changes are recorded already */
  PH_CHANGE_LOG_ERROR_NOT_FOUND, /* no change with that id */
  PH_CHANGE_LOG_ERROR_IO,        /* the file or its folder could not be read or written */
} PhChangeLogError;

GQuark
ph_change_log_error_quark (void);

/* Bounds: a file over PH_CHANGE_LOG_MAX_BYTES is treated as corrupt; recording a new change when
 * PH_CHANGE_LOG_MAX_ENTRIES are kept fails (it never silently drops an older one, whose undo
 * would be lost). */
#define PH_CHANGE_LOG_MAX_ENTRIES 64
#define PH_CHANGE_LOG_MAX_BYTES (256 * 1024)

typedef struct
{
  char *id;         /* given by ph_change_log_record () */
  char *kind;       /* what undoes it, e.g. "upnp-port-mapping" */
  char *key;        /* the thing changed: recording the same kind and key again updates the entry */
  gint64 when;      /* seconds since the epoch, when it was (last) made */
  char *summary;    /* what was done, a sentence for people */
  char *undo_hint;  /* how to undo it by hand, a sentence (when the automatic undo cannot run) */
  JsonObject *undo; /* what the undoer of `kind` needs; may be NULL */
} PhChange;

/* Takes a reference on undo (may be NULL). when is set to now. */
PhChange *
ph_change_new (const char *kind, const char *key, const char *summary, const char *undo_hint,
               JsonObject *undo);
PhChange *
ph_change_copy (const PhChange *change);
void
ph_change_free (PhChange *change);
JsonNode *
ph_change_to_json (const PhChange *change);

typedef struct _PhChangeLog PhChangeLog;

/* path: the file; NULL for $XDG_STATE_HOME/porthole/changes.json. Nothing is read until used.
 * A log may be used from several threads (each call takes a lock and reads the file afresh). */
PhChangeLog *
ph_change_log_new (const char *path);
PhChangeLog *
ph_change_log_ref (PhChangeLog *log);
void
ph_change_log_unref (PhChangeLog *log);
const char *
ph_change_log_get_path (PhChangeLog *log);

/* Adds the change, or updates the entry of the same kind and key (keeping its id). Returns the
 * entry's id (free it), NULL on error. */
char *
ph_change_log_record (PhChangeLog *log, const PhChange *change, GError **error);
/* All recorded changes, oldest first (PhChange, owned by the array). */
GPtrArray *
ph_change_log_list (PhChangeLog *log, GError **error);
/* The entry of that kind and key, or NULL (with no error set when there is none). */
PhChange *
ph_change_log_find (PhChangeLog *log, const char *kind, const char *key, GError **error);
gboolean
ph_change_log_remove (PhChangeLog *log, const char *id, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhChange, ph_change_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhChangeLog, ph_change_log_unref)

G_END_DECLS
