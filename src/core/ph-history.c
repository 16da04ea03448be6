/* ph-history.c: the last checks, kept across restarts
 *
 * The file is ours but lives where anything can write: it is read with a bound (never more than
 * PH_HISTORY_MAX_BYTES + 1 bytes), every member is type-checked, and whatever does not fit the
 * format makes the whole file "corrupt" — set aside for a person to look at, never half-used.
 * Writes go through g_file_set_contents_full (temporary file + rename), so a crash leaves the old
 * file or the new one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "ph-history-private.h"
#include "ph-history.h"
#include "p2p/ph-ip-scope.h"
#include "net/ph-state-file.h"

#define HISTORY_VERSION 1
/* causes are short words ("behind-nat"); anything longer was not written by us */
#define HISTORY_MAX_WORD 64

struct _PhHistory
{
  GObject parent_instance;

  char *path;
  GPtrArray *entries; /* PhHistoryEntry *, newest first */
  gboolean loaded;
};

G_DEFINE_FINAL_TYPE (PhHistory, ph_history, G_TYPE_OBJECT)

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_QUARK (ph - history - error - quark, ph_history_error)

/* ---- entries ---- */

PhHistoryEntry *
ph_history_entry_copy (const PhHistoryEntry *entry)
{
  PhHistoryEntry *copy;

  g_return_val_if_fail (entry != NULL, NULL);

  copy = g_new0 (PhHistoryEntry, 1);
  copy->time = entry->time;
  copy->ipv4 = entry->ipv4;
  copy->ipv6 = entry->ipv6;
  copy->cause = g_strdup (entry->cause);
  copy->how = g_strdup (entry->how);
  return copy;
}

void
ph_history_entry_free (PhHistoryEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->cause);
  g_free (entry->how);
  g_free (entry);
}

static const char *const hows[] = { "direct", "upnp", "forward", "ipv6", NULL };

static gboolean
verdict_from_string (const char *text, PhVerdict *out)
{
  static const PhVerdict verdicts[]
      = { PH_VERDICT_UNKNOWN, PH_VERDICT_REACHABLE, PH_VERDICT_UNREACHABLE };

  for (guint i = 0; i < G_N_ELEMENTS (verdicts); i++)
    if (g_strcmp0 (text, ph_verdict_to_string (verdicts[i])) == 0)
      {
        *out = verdicts[i];
        return TRUE;
      }
  return FALSE;
}

static gboolean
word_is_valid (const char *word)
{
  gsize len = strlen (word);

  if (len == 0 || len > HISTORY_MAX_WORD)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (word[i]) && word[i] != '-' && word[i] != '_')
      return FALSE;
  return TRUE;
}

/* An optional string member: absent or null is NULL; anything else must be a string. */
static gboolean
optional_string (JsonObject *object, const char *name, const char **out)
{
  JsonNode *node = json_object_get_member (object, name);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
string_member (JsonObject *object, const char *name, const char **out)
{
  return optional_string (object, name, out) && *out != NULL;
}

static PhHistoryEntry *
entry_from_json (JsonNode *node)
{
  g_autoptr (PhHistoryEntry) entry = g_new0 (PhHistoryEntry, 1);
  JsonObject *object;
  JsonNode *time;
  const char *ipv4, *ipv6, *cause, *how;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  object = json_node_get_object (node);
  time = json_object_get_member (object, "time");
  if (time == NULL || !JSON_NODE_HOLDS_VALUE (time)
      || json_node_get_value_type (time) != G_TYPE_INT64)
    return NULL;
  entry->time = json_node_get_int (time);
  if (entry->time < 0)
    return NULL;
  if (!string_member (object, "ipv4", &ipv4) || !verdict_from_string (ipv4, &entry->ipv4)
      || !string_member (object, "ipv6", &ipv6) || !verdict_from_string (ipv6, &entry->ipv6))
    return NULL;
  if (!optional_string (object, "cause", &cause) || (cause != NULL && !word_is_valid (cause)))
    return NULL;
  if (!optional_string (object, "how", &how) || (how != NULL && !g_strv_contains (hows, how)))
    return NULL;
  entry->cause = g_strdup (cause);
  entry->how = g_strdup (how);
  return g_steal_pointer (&entry);
}

static JsonNode *
entry_to_json (const PhHistoryEntry *entry)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "time");
  json_builder_add_int_value (builder, entry->time);
  json_builder_set_member_name (builder, "ipv4");
  json_builder_add_string_value (builder, ph_verdict_to_string (entry->ipv4));
  json_builder_set_member_name (builder, "ipv6");
  json_builder_add_string_value (builder, ph_verdict_to_string (entry->ipv6));
  json_builder_set_member_name (builder, "cause");
  if (entry->cause != NULL)
    json_builder_add_string_value (builder, entry->cause);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "how");
  if (entry->how != NULL)
    json_builder_add_string_value (builder, entry->how);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* The whole file, or NULL when anything in it is not what we write. Newest first, at most
 * PH_HISTORY_MAX_ENTRIES (a longer list from a future version is cut, not refused). */
GPtrArray *
ph_history_entries_parse (const char *text, gsize len)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GPtrArray) entries
      = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_history_entry_free);
  JsonNode *root;
  JsonNode *version;
  JsonNode *list;
  JsonObject *object;
  JsonArray *array;

  /* json-glib recurses once per nesting level: a file of '[' would overflow the stack at every
   * start, before the file could be set aside. Ours nests three deep. */
  if (len > G_MAXSSIZE || !ph_json_depth_ok (text, len, PH_DIAGNOSIS_JSON_MAX_DEPTH)
      || !json_parser_load_from_data (parser, text, (gssize) len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  object = json_node_get_object (root);
  version = json_object_get_member (object, "version");
  if (version == NULL || !JSON_NODE_HOLDS_VALUE (version)
      || json_node_get_value_type (version) != G_TYPE_INT64 || json_node_get_int (version) < 1)
    return NULL;
  list = json_object_get_member (object, "entries");
  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
    return NULL;
  array = json_node_get_array (list);
  for (guint i = 0; i < json_array_get_length (array) && i < PH_HISTORY_MAX_ENTRIES; i++)
    {
      PhHistoryEntry *entry = entry_from_json (json_array_get_element (array, i));

      if (entry == NULL)
        return NULL;
      g_ptr_array_add (entries, entry);
    }
  return g_steal_pointer (&entries);
}

/* ---- the file ---- */

static void
set_error_io (GError **error, const char *path, int errsv)
{
  g_set_error (error, PH_HISTORY_ERROR, PH_HISTORY_ERROR_IO,
               /* Translators: %s are a file name and the system's reason */
               _ ("Porthole could not use its history of checks in %s: %s."), path,
               g_strerror (errsv));
}

static void
set_aside (PhHistory *self, const char *why, GError **error)
{
  g_autofree char *aside = ph_state_file_aside_path (self->path);

  if (g_rename (self->path, aside) != 0)
    {
      int errsv = errno;

      set_error_io (error, self->path, errsv);
      return;
    }
  g_message ("History %s %s; moved to %s", self->path, why, aside);
  g_set_error (error, PH_HISTORY_ERROR, PH_HISTORY_ERROR_CORRUPT,
               /* Translators: %s is a file name */
               _ ("Porthole’s history of checks was damaged. It was kept as %s and a new "
                  "history was started."),
               aside);
}

/* At most PH_HISTORY_MAX_BYTES + 1 bytes, so a huge file costs no more than a full one. Returns
 * NULL with errno set; *too_large when there was more. */
static char *
read_bounded (const char *path, gsize *len, gboolean *too_large)
{
  g_autofree char *buffer = NULL;
  struct stat st;
  gsize have = 0;
  int fd;

  *too_large = FALSE;
  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
  if (fd < 0)
    return NULL;
  if (fstat (fd, &st) != 0)
    {
      int errsv = errno;

      close (fd);
      errno = errsv;
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      errno = EINVAL;
      return NULL;
    }
  buffer = g_malloc (PH_HISTORY_MAX_BYTES + 2);
  while (have <= PH_HISTORY_MAX_BYTES)
    {
      ssize_t got = read (fd, buffer + have, PH_HISTORY_MAX_BYTES + 1 - have);

      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        {
          int errsv = errno;

          close (fd);
          errno = errsv;
          return NULL;
        }
      if (got == 0)
        break;
      have += (gsize) got;
    }
  close (fd);
  if (have > PH_HISTORY_MAX_BYTES)
    {
      *too_large = TRUE;
      return NULL;
    }
  buffer[have] = '\0';
  *len = have;
  return g_steal_pointer (&buffer);
}

static GPtrArray *
history_read (PhHistory *self, GError **error)
{
  g_autofree char *text = NULL;
  gboolean too_large = FALSE;
  gsize len = 0;
  GPtrArray *entries;

  text = read_bounded (self->path, &len, &too_large);
  if (text == NULL && too_large)
    {
      set_aside (self, "is too large", error);
      return NULL;
    }
  if (text == NULL)
    {
      int errsv = errno;

      if (errsv == ENOENT)
        return g_ptr_array_new_with_free_func ((GDestroyNotify) ph_history_entry_free);
      /* there but not readable (a folder, no permission, an I/O error): out of the way, so the
       * next write can succeed; if it cannot be moved either, say so */
      g_debug ("history %s: %s", self->path, g_strerror (errsv));
      set_aside (self, "cannot be read", error);
      return NULL;
    }
  entries = ph_history_entries_parse (text, len);
  if (entries == NULL)
    set_aside (self, "does not parse", error);
  return entries;
}

char *
ph_history_entries_to_data (GPtrArray *entries, gsize *len)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, HISTORY_VERSION);
  json_builder_set_member_name (builder, "entries");
  json_builder_begin_array (builder);
  for (guint i = 0; i < entries->len; i++)
    json_builder_add_value (builder, entry_to_json (g_ptr_array_index (entries, i)));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, len);
}

gboolean
ph_history_save (PhHistory *self, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *text = NULL;
  gsize len;

  g_return_val_if_fail (PH_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  text = ph_history_entries_to_data (self->entries, &len);

  dir = g_path_get_dirname (self->path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;

      set_error_io (error, dir, errsv);
      return FALSE;
    }
  /* CONSISTENT, not DURABLE: losing the last entry in a power cut is fine, an fsync per check
   * on a laptop's disk is not needed for that */
  if (!g_file_set_contents_full (self->path, text, (gssize) len, G_FILE_SET_CONTENTS_CONSISTENT,
                                 0600, &local_error))
    {
      g_set_error (error, PH_HISTORY_ERROR, PH_HISTORY_ERROR_IO,
                   _ ("Porthole could not use its history of checks in %s: %s."), self->path,
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- PhHistory ---- */

static void
ph_history_finalize (GObject *object)
{
  PhHistory *self = PH_HISTORY (object);

  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->entries, g_ptr_array_unref);

  G_OBJECT_CLASS (ph_history_parent_class)->finalize (object);
}

static void
ph_history_class_init (PhHistoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ph_history_finalize;

  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ph_history_init (PhHistory *self)
{
  self->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_history_entry_free);
}

PhHistory *
ph_history_new (const char *path)
{
  PhHistory *self = g_object_new (PH_TYPE_HISTORY, NULL);

  if (path != NULL)
    self->path = g_strdup (path);
  else
    self->path = g_build_filename (g_get_user_state_dir (), "porthole", "history.json", NULL);
  return self;
}

const char *
ph_history_get_path (PhHistory *self)
{
  g_return_val_if_fail (PH_IS_HISTORY (self), NULL);
  return self->path;
}

gboolean
ph_history_load (PhHistory *self, GError **error)
{
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (PH_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  self->loaded = TRUE;
  entries = history_read (self, &local_error);
  if (entries == NULL)
    entries = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_history_entry_free);
  g_ptr_array_unref (self->entries);
  self->entries = g_steal_pointer (&entries);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

void
ph_history_add_entry (PhHistory *self, const PhHistoryEntry *entry)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (PH_IS_HISTORY (self));
  g_return_if_fail (entry != NULL);

  if (!self->loaded)
    {
      g_autoptr (GError) load_error = NULL;

      /* a corrupt file is set aside and said so in the log; the new entry starts afresh */
      if (!ph_history_load (self, &load_error))
        g_message ("%s", load_error->message);
    }
  g_ptr_array_insert (self->entries, 0, ph_history_entry_copy (entry));
  if (self->entries->len > PH_HISTORY_MAX_ENTRIES)
    g_ptr_array_set_size (self->entries, PH_HISTORY_MAX_ENTRIES);
  if (!ph_history_save (self, &error))
    g_message ("%s", error->message);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
ph_history_add (PhHistory *self, PhDiagnosis *diagnosis, GDateTime *when)
{
  PhHistoryEntry entry = { 0 };

  g_return_if_fail (PH_IS_HISTORY (self));
  g_return_if_fail (PH_IS_DIAGNOSIS (diagnosis));

  if (when != NULL)
    entry.time = g_date_time_to_unix (when);
  else
    entry.time = g_get_real_time () / G_USEC_PER_SEC;
  entry.ipv4 = ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV4);
  entry.ipv6 = ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV6);
  entry.cause = (char *) ph_history_cause_for_diagnosis (diagnosis);
  entry.how = (char *) ph_history_how_for_diagnosis (diagnosis);
  if (entry.cause != NULL && !word_is_valid (entry.cause))
    entry.cause = NULL;
  ph_history_add_entry (self, &entry);
}

GPtrArray *
ph_history_get_entries (PhHistory *self)
{
  g_return_val_if_fail (PH_IS_HISTORY (self), NULL);
  return self->entries;
}

/* ---- reading a diagnosis ---- */

static gboolean
has_public_ipv4 (PhDiagnosis *diagnosis)
{
  const PhLanFacts *lan = ph_diagnosis_get_lan (diagnosis);

  for (guint i = 0; lan != NULL && lan->addresses != NULL && i < lan->addresses->len; i++)
    {
      const PhLanAddress *address = g_ptr_array_index (lan->addresses, i);

      if (address->family == AF_INET && ph_ip_scope_is_public (address->scope))
        return TRUE;
    }
  return FALSE;
}

const char *
ph_history_how_for_diagnosis (PhDiagnosis *diagnosis)
{
  PhUpnpFacts *upnp;

  g_return_val_if_fail (PH_IS_DIAGNOSIS (diagnosis), NULL);

  if (ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV4) != PH_VERDICT_REACHABLE)
    return ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV6) == PH_VERDICT_REACHABLE
               ? "ipv6"
               : NULL;
  upnp = ph_diagnosis_get_upnp (diagnosis);
  if (upnp != NULL && upnp->found && upnp->our_tcp != NULL)
    return "upnp";
  if (has_public_ipv4 (diagnosis))
    return "direct";
  return "forward";
}

static const char *
family_cause (PhDiagnosis *diagnosis, PhFamily family)
{
  GPtrArray *causes = ph_diagnosis_get_family_causes (diagnosis, family);

  if (causes != NULL && causes->len > 0)
    return g_ptr_array_index (causes, 0);
  return ph_diagnosis_get_family_reason (diagnosis, family);
}

const char *
ph_history_cause_for_diagnosis (PhDiagnosis *diagnosis)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (diagnosis), NULL);

  if (ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV4) != PH_VERDICT_REACHABLE)
    return family_cause (diagnosis, PH_FAMILY_IPV4);
  if (ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV6) == PH_VERDICT_UNREACHABLE)
    return family_cause (diagnosis, PH_FAMILY_IPV6);
  return NULL;
}
