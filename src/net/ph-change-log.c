/* ph-change-log.c
 *
 * The file: { "version": 1, "changes": [ { "id", "kind", "key", "when", "summary", "undo_hint",
 * "undo": { … } }, … ] }. Every call reads it, changes it in memory and writes it back whole with
 * g_file_set_contents_full (temporary file + fsync + rename), so a crash leaves the old or the new
 * file, never half of one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "ph-change-log.h"
#include "ph-json.h"
#include "ph-state-file.h"

#define CHANGE_LOG_VERSION 1

GQuark
ph_change_log_error_quark (void)
{
  return g_quark_from_static_string ("ph-change-log-error-quark");
}

struct _PhChangeLog
{
  gatomicrefcount ref_count;
  GMutex lock;
  char *path;
};

/* ---- PhChange ---- */

PhChange *
ph_change_new (const char *kind, const char *key, const char *summary, const char *undo_hint,
               JsonObject *undo)
{
  PhChange *change;

  g_return_val_if_fail (kind != NULL && *kind != '\0', NULL);
  g_return_val_if_fail (key != NULL && *key != '\0', NULL);
  g_return_val_if_fail (summary != NULL, NULL);

  change = g_new0 (PhChange, 1);
  change->kind = g_strdup (kind);
  change->key = g_strdup (key);
  change->when = g_get_real_time () / G_USEC_PER_SEC;
  change->summary = g_strdup (summary);
  change->undo_hint = g_strdup (undo_hint);
  change->undo = undo ? json_object_ref (undo) : NULL;
  return change;
}

void
ph_change_free (PhChange *change)
{
  if (change == NULL)
    return;
  g_free (change->id);
  g_free (change->kind);
  g_free (change->key);
  g_free (change->summary);
  g_free (change->undo_hint);
  g_clear_pointer (&change->undo, json_object_unref);
  g_free (change);
}

/* json_node_copy () shares objects; a change copied to another thread must not. */
static JsonObject *
undo_copy (JsonObject *object)
{
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autofree char *text = json_to_string (node, FALSE);
  g_autoptr (JsonNode) parsed = json_from_string (text, NULL);

  if (parsed == NULL || !JSON_NODE_HOLDS_OBJECT (parsed))
    return json_object_new ();
  return json_object_ref (json_node_get_object (parsed));
}

PhChange *
ph_change_copy (const PhChange *change)
{
  PhChange *copy;

  g_return_val_if_fail (change != NULL, NULL);

  copy = g_new0 (PhChange, 1);
  copy->id = g_strdup (change->id);
  copy->kind = g_strdup (change->kind);
  copy->key = g_strdup (change->key);
  copy->when = change->when;
  copy->summary = g_strdup (change->summary);
  copy->undo_hint = g_strdup (change->undo_hint);
  copy->undo = change->undo ? undo_copy (change->undo) : NULL;
  return copy;
}

JsonNode *
ph_change_to_json (const PhChange *change)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GDateTime) when = NULL;
  g_autofree char *when_text = NULL;

  g_return_val_if_fail (change != NULL, NULL);

  when = g_date_time_new_from_unix_utc (change->when);
  when_text = when ? g_date_time_format_iso8601 (when) : NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, change->id);
  json_builder_set_member_name (builder, "kind");
  json_builder_add_string_value (builder, change->kind);
  json_builder_set_member_name (builder, "key");
  json_builder_add_string_value (builder, change->key);
  json_builder_set_member_name (builder, "when");
  json_builder_add_int_value (builder, change->when);
  json_builder_set_member_name (builder, "when_text");
  json_builder_add_string_value (builder, when_text);
  json_builder_set_member_name (builder, "summary");
  json_builder_add_string_value (builder, change->summary);
  json_builder_set_member_name (builder, "undo_hint");
  json_builder_add_string_value (builder, change->undo_hint);
  json_builder_set_member_name (builder, "undo");
  if (change->undo != NULL)
    {
      JsonNode *undo = json_node_init_object (json_node_alloc (), change->undo);
      json_builder_add_value (builder, undo);
    }
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* ---- reading and writing the file ---- */

static const char *
member_string (JsonObject *object, const char *name, gboolean required, gboolean *ok)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        *ok = FALSE;
      return NULL;
    }
  if (json_node_get_value_type (node) != G_TYPE_STRING)
    {
      *ok = FALSE;
      return NULL;
    }
  return json_node_get_string (node);
}

static PhChange *
change_from_json (JsonNode *node)
{
  JsonObject *object;
  JsonNode *when, *undo;
  gboolean ok = TRUE;
  const char *id, *kind, *key, *summary, *undo_hint;
  PhChange *change;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  object = json_node_get_object (node);

  id = member_string (object, "id", TRUE, &ok);
  kind = member_string (object, "kind", TRUE, &ok);
  key = member_string (object, "key", TRUE, &ok);
  summary = member_string (object, "summary", TRUE, &ok);
  undo_hint = member_string (object, "undo_hint", FALSE, &ok);
  when = json_object_get_member (object, "when");
  undo = json_object_get_member (object, "undo");
  if (!ok || *id == '\0' || *kind == '\0' || *key == '\0')
    return NULL;
  if (when == NULL || json_node_get_value_type (when) != G_TYPE_INT64)
    return NULL;
  if (undo != NULL && !JSON_NODE_HOLDS_NULL (undo) && !JSON_NODE_HOLDS_OBJECT (undo))
    return NULL;

  change = g_new0 (PhChange, 1);
  change->id = g_strdup (id);
  change->kind = g_strdup (kind);
  change->key = g_strdup (key);
  change->when = json_node_get_int (when);
  change->summary = g_strdup (summary);
  change->undo_hint = g_strdup (undo_hint);
  if (undo != NULL && JSON_NODE_HOLDS_OBJECT (undo))
    change->undo = json_object_ref (json_node_get_object (undo));
  return change;
}

/* NULL when the text is not a change log we wrote. */
static GPtrArray *
changes_parse (const char *text, gsize len)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) changes = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_change_free);
  JsonNode *root, *version, *list;
  JsonObject *object;
  JsonArray *array;

  /* a change log is two levels deep; refuse what would overflow json-glib's recursion */
  if (!ph_json_depth_ok (text, len, PH_JSON_MAX_DEPTH)
      || !json_parser_load_from_data (parser, text, len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  object = json_node_get_object (root);
  version = json_object_get_member (object, "version");
  list = json_object_get_member (object, "changes");
  if (version == NULL || json_node_get_value_type (version) != G_TYPE_INT64
      || json_node_get_int (version) != CHANGE_LOG_VERSION)
    return NULL;
  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
    return NULL;
  array = json_node_get_array (list);
  if (json_array_get_length (array) > PH_CHANGE_LOG_MAX_ENTRIES)
    return NULL;
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      PhChange *change = change_from_json (json_array_get_element (array, i));
      if (change == NULL)
        return NULL;
      g_ptr_array_add (changes, change);
    }
  return g_steal_pointer (&changes);
}

static void
set_error_io (GError **error, const char *path, int errsv)
{
  g_set_error (error, PH_CHANGE_LOG_ERROR, PH_CHANGE_LOG_ERROR_IO,
               /* Translators: %s are a file name and the system's reason */
               _ ("Porthole could not use its record of changes in %s: %s."), path,
               g_strerror (errsv));
}

/* The file is set aside, never deleted: it may be the only note of a router change to undo. */
static void
set_aside (PhChangeLog *log, const char *why, GError **error)
{
  g_autofree char *aside = ph_state_file_aside_path (log->path);

  if (g_rename (log->path, aside) != 0)
    {
      int errsv = errno;
      set_error_io (error, log->path, errsv);
      return;
    }
  g_message ("Change log %s %s; moved to %s", log->path, why, aside);
  g_set_error (
      error, PH_CHANGE_LOG_ERROR, PH_CHANGE_LOG_ERROR_CORRUPT,
      /* Translators: %s is a file name */
      _ ("Porthole’s record of the changes it made was damaged. It was kept as %s and a new record "
         "was started; changes listed only in the old one may need to be undone by hand in the "
         "router or network settings."),
      aside);
}

static GPtrArray *
log_load (PhChangeLog *log, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local_error = NULL;
  GStatBuf st;
  gsize len = 0;
  GPtrArray *changes;

  if (g_stat (log->path, &st) != 0)
    {
      int errsv = errno;
      if (errsv == ENOENT)
        return g_ptr_array_new_with_free_func ((GDestroyNotify) ph_change_free);
      set_error_io (error, log->path, errsv);
      return NULL;
    }
  if (st.st_size > PH_CHANGE_LOG_MAX_BYTES)
    {
      set_aside (log, "is too large", error);
      return NULL;
    }
  if (!g_file_get_contents (log->path, &text, &len, &local_error))
    {
      g_set_error (error, PH_CHANGE_LOG_ERROR, PH_CHANGE_LOG_ERROR_IO,
                   _ ("Porthole could not use its record of changes in %s: %s."), log->path,
                   local_error->message);
      return NULL;
    }
  /* the file may have grown between stat and read */
  if (len > PH_CHANGE_LOG_MAX_BYTES)
    {
      set_aside (log, "is too large", error);
      return NULL;
    }
  changes = changes_parse (text, len);
  if (changes == NULL)
    set_aside (log, "does not parse", error);
  return changes;
}

static gboolean
log_save (PhChangeLog *log, GPtrArray *changes, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *dir = g_path_get_dirname (log->path);
  g_autofree char *text = NULL;
  gsize len;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, CHANGE_LOG_VERSION);
  json_builder_set_member_name (builder, "changes");
  json_builder_begin_array (builder);
  for (guint i = 0; i < changes->len; i++)
    json_builder_add_value (builder, ph_change_to_json (g_ptr_array_index (changes, i)));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, &len);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;
      set_error_io (error, dir, errsv);
      return FALSE;
    }
  if (!g_file_set_contents_full (log->path, text, len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600,
                                 &local_error))
    {
      g_set_error (error, PH_CHANGE_LOG_ERROR, PH_CHANGE_LOG_ERROR_IO,
                   _ ("Porthole could not use its record of changes in %s: %s."), log->path,
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- PhChangeLog ---- */

PhChangeLog *
ph_change_log_new (const char *path)
{
  PhChangeLog *log = g_new0 (PhChangeLog, 1);

  g_atomic_ref_count_init (&log->ref_count);
  g_mutex_init (&log->lock);
  if (path != NULL)
    log->path = g_strdup (path);
  else
    log->path = g_build_filename (g_get_user_state_dir (), "porthole", "changes.json", NULL);
  return log;
}

PhChangeLog *
ph_change_log_ref (PhChangeLog *log)
{
  g_return_val_if_fail (log != NULL, NULL);
  g_atomic_ref_count_inc (&log->ref_count);
  return log;
}

void
ph_change_log_unref (PhChangeLog *log)
{
  if (log == NULL || !g_atomic_ref_count_dec (&log->ref_count))
    return;
  g_mutex_clear (&log->lock);
  g_free (log->path);
  g_free (log);
}

const char *
ph_change_log_get_path (PhChangeLog *log)
{
  g_return_val_if_fail (log != NULL, NULL);
  return log->path;
}

static PhChange *
changes_find (GPtrArray *changes, const char *kind, const char *key)
{
  for (guint i = 0; i < changes->len; i++)
    {
      PhChange *entry = g_ptr_array_index (changes, i);
      if (g_str_equal (entry->kind, kind) && g_str_equal (entry->key, key))
        return entry;
    }
  return NULL;
}

char *
ph_change_log_record (PhChangeLog *log, const PhChange *change, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (GPtrArray) changes = NULL;
  PhChange *entry;

  g_return_val_if_fail (log != NULL, NULL);
  g_return_val_if_fail (change != NULL && change->kind != NULL && change->key != NULL, NULL);
  g_return_val_if_fail (change->summary != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  locker = g_mutex_locker_new (&log->lock);
  changes = log_load (log, error);
  if (changes == NULL)
    return NULL;

  entry = changes_find (changes, change->kind, change->key);
  if (entry != NULL)
    {
      g_autofree char *id = g_steal_pointer (&entry->id);
      PhChange *updated = ph_change_copy (change);

      g_free (updated->id);
      updated->id = g_steal_pointer (&id);
      for (guint i = 0; i < changes->len; i++)
        if (g_ptr_array_index (changes, i) == entry)
          {
            ph_change_free (entry);
            changes->pdata[i] = updated;
            break;
          }
      entry = updated;
    }
  else
    {
      if (changes->len >= PH_CHANGE_LOG_MAX_ENTRIES)
        {
          g_set_error (error, PH_CHANGE_LOG_ERROR, PH_CHANGE_LOG_ERROR_FULL,
                       g_dngettext (GETTEXT_PACKAGE,
                                    "Porthole has recorded %u change already and cannot keep "
                                    "track of another one. Undo changes you no longer need, then "
                                    "try again.",
                                    "Porthole has recorded %u changes already and cannot keep "
                                    "track of another one. Undo changes you no longer need, then "
                                    "try again.",
                                    PH_CHANGE_LOG_MAX_ENTRIES),
                       (guint) PH_CHANGE_LOG_MAX_ENTRIES);
          return NULL;
        }
      entry = ph_change_copy (change);
      g_free (entry->id);
      entry->id = g_uuid_string_random ();
      g_ptr_array_add (changes, entry);
    }

  if (!log_save (log, changes, error))
    return NULL;
  return g_strdup (entry->id);
}

GPtrArray *
ph_change_log_list (PhChangeLog *log, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (log != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  locker = g_mutex_locker_new (&log->lock);
  return log_load (log, error);
}

PhChange *
ph_change_log_find (PhChangeLog *log, const char *kind, const char *key, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (GPtrArray) changes = NULL;
  PhChange *entry;

  g_return_val_if_fail (log != NULL, NULL);
  g_return_val_if_fail (kind != NULL && key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  locker = g_mutex_locker_new (&log->lock);
  changes = log_load (log, error);
  if (changes == NULL)
    return NULL;
  entry = changes_find (changes, kind, key);
  return entry ? ph_change_copy (entry) : NULL;
}

gboolean
ph_change_log_remove (PhChangeLog *log, const char *id, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (GPtrArray) changes = NULL;

  g_return_val_if_fail (log != NULL, FALSE);
  g_return_val_if_fail (id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  locker = g_mutex_locker_new (&log->lock);
  changes = log_load (log, error);
  if (changes == NULL)
    return FALSE;
  for (guint i = 0; i < changes->len; i++)
    {
      PhChange *entry = g_ptr_array_index (changes, i);
      if (g_str_equal (entry->id, id))
        {
          g_ptr_array_remove_index (changes, i);
          return log_save (log, changes, error);
        }
    }
  g_set_error (error, PH_CHANGE_LOG_ERROR, PH_CHANGE_LOG_ERROR_NOT_FOUND,
               _ ("That change is not in Porthole’s record any more; it may have been undone "
                  "already."));
  return FALSE;
}
