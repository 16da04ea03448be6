/* ph-nm.c: what NetworkManager says about the connection that carries the default route
 *
 * One NMClient per read, created asynchronously on the caller's main context. libnm's D-Bus calls
 * time out after 25 s, far too long for a check the user is watching, so the read has a deadline
 * of its own that cancels libnm's work.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <NetworkManager.h>

#include "ph-nm.h"

typedef struct
{
  GCancellable *cancellable; /* ours: cancelled at the deadline or with the caller's */
  GSource *caller_cancelled;
  GSource *deadline;
  guint timeout_ms;
  NMClient *client;
  PhNmFacts *facts;
  gboolean returned;
} NmRead;

static void
nm_read_free (NmRead *read)
{
  g_clear_object (&read->cancellable);
  if (read->caller_cancelled != NULL)
    g_source_destroy (read->caller_cancelled);
  g_clear_pointer (&read->caller_cancelled, g_source_unref);
  if (read->deadline != NULL)
    g_source_destroy (read->deadline);
  g_clear_pointer (&read->deadline, g_source_unref);
  g_clear_object (&read->client);
  g_clear_pointer (&read->facts, ph_nm_facts_free);
  g_free (read);
}

void
ph_nm_facts_free (PhNmFacts *facts)
{
  if (facts == NULL)
    return;
  g_free (facts->version);
  g_free (facts->device);
  g_free (facts->connection_id);
  g_free (facts->connection_uuid);
  g_free (facts->connection_type);
  g_free (facts->ipv4_method);
  g_free (facts->ipv6_method);
  g_free (facts);
}

/* Completes the task once: the deadline and libnm's late callbacks both end up here. */
static void
nm_read_return (GTask *task, GError *error)
{
  NmRead *read = g_task_get_task_data (task);

  if (read->returned)
    {
      g_clear_error (&error);
      return;
    }
  read->returned = TRUE;
  if (read->deadline != NULL)
    g_source_destroy (read->deadline);
  if (read->caller_cancelled != NULL)
    g_source_destroy (read->caller_cancelled);
  /* Whatever libnm still has in flight is of no use now. */
  g_cancellable_cancel (read->cancellable);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_steal_pointer (&read->facts), (GDestroyNotify) ph_nm_facts_free);
}

static void
nm_read_set_methods (PhNmFacts *facts, NMConnection *connection)
{
  NMSettingIPConfig *ip4 = nm_connection_get_setting_ip4_config (connection);
  NMSettingIPConfig *ip6 = nm_connection_get_setting_ip6_config (connection);

  if (facts->ipv4_method == NULL && ip4 != NULL)
    facts->ipv4_method = g_strdup (nm_setting_ip_config_get_method (ip4));
  if (facts->ipv6_method == NULL && ip6 != NULL)
    facts->ipv6_method = g_strdup (nm_setting_ip_config_get_method (ip6));
}

static void
nm_read_applied_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  NmRead *read = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (NMConnection) applied = NULL;

  applied = nm_device_get_applied_connection_finish (NM_DEVICE (source), result, NULL, &error);
  if (read->returned)
    return;
  /* The facts stand without the methods: they were a best effort. */
  if (applied != NULL)
    nm_read_set_methods (read->facts, applied);
  else
    g_debug ("NetworkManager: no applied connection: %s", error->message);
  nm_read_return (task, NULL);
}

/* The primary connection, or else the one NetworkManager put the default route on. */
static NMActiveConnection *
nm_read_pick_connection (NMClient *client)
{
  NMActiveConnection *primary = nm_client_get_primary_connection (client);
  const GPtrArray *active = nm_client_get_active_connections (client);

  if (primary != NULL)
    return primary;
  for (guint i = 0; active != NULL && i < active->len; i++)
    if (nm_active_connection_get_default (g_ptr_array_index (active, i)))
      return g_ptr_array_index (active, i);
  for (guint i = 0; active != NULL && i < active->len; i++)
    if (nm_active_connection_get_default6 (g_ptr_array_index (active, i)))
      return g_ptr_array_index (active, i);
  return NULL;
}

static const char *
nm_read_device_name (NMDevice *device)
{
  const char *ip_iface = nm_device_get_ip_iface (device);

  /* The IP interface is the one routes name (ppp0 over ttyUSB0); the mock leaves it empty. */
  return ip_iface != NULL && *ip_iface != '\0' ? ip_iface : nm_device_get_iface (device);
}

static void
nm_read_gather (GTask *task)
{
  NmRead *read = g_task_get_task_data (task);
  PhNmFacts *facts = read->facts;
  NMActiveConnection *active;
  NMRemoteConnection *remote;
  const GPtrArray *devices;
  NMDevice *device = NULL;

  facts->running = TRUE;
  facts->version = g_strdup (nm_client_get_version (read->client));
  active = nm_read_pick_connection (read->client);
  if (active == NULL)
    {
      nm_read_return (task, NULL);
      return;
    }

  facts->connection_id = g_strdup (nm_active_connection_get_id (active));
  facts->connection_uuid = g_strdup (nm_active_connection_get_uuid (active));
  facts->connection_type = g_strdup (nm_active_connection_get_connection_type (active));
  devices = nm_active_connection_get_devices (active);
  if (devices != NULL && devices->len > 0)
    {
      device = g_ptr_array_index (devices, 0);
      facts->device = g_strdup (nm_read_device_name (device));
    }

  /* The profile libnm already holds; it is absent when the profile is another user's. */
  remote = nm_active_connection_get_connection (active);
  if (remote != NULL)
    nm_read_set_methods (facts, NM_CONNECTION (remote));
  if ((facts->ipv4_method == NULL || facts->ipv6_method == NULL) && device != NULL)
    {
      nm_device_get_applied_connection_async (device, 0, read->cancellable, nm_read_applied_ready,
                                              g_object_ref (task));
      return;
    }
  nm_read_return (task, NULL);
}

static void
nm_read_client_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  NmRead *read = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  NMClient *client = nm_client_new_finish (result, &error);

  if (read->returned)
    {
      g_clear_object (&client);
      return;
    }
  if (client == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          nm_read_return (task, g_steal_pointer (&error));
          return;
        }
      /* No system bus (a container, a minimal session): no NetworkManager either. */
      g_debug ("NetworkManager: no client: %s", error->message);
      nm_read_return (task, NULL);
      return;
    }

  read->client = client;
  if (!nm_client_get_nm_running (client))
    {
      nm_read_return (task, NULL);
      return;
    }
  nm_read_gather (task);
}

static gboolean
nm_read_deadline_passed (gpointer user_data)
{
  GTask *task = user_data;
  NmRead *read = g_task_get_task_data (task);

  /* Before the client was ready we know nothing; after it, only the methods are missing. */
  if (read->client == NULL)
    nm_read_return (task,
                    g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                 "NetworkManager did not answer within %u ms", read->timeout_ms));
  else
    nm_read_return (task, NULL);
  return G_SOURCE_REMOVE;
}

/* A GCancellableSource callback, so it runs on the task's context whichever thread cancelled:
 * the caller hears at once, and libnm's work is cancelled on its own context. */
static gboolean
nm_read_caller_cancelled (GCancellable *caller, gpointer user_data)
{
  nm_read_return (G_TASK (user_data), g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                           "Operation was cancelled"));
  return G_SOURCE_REMOVE;
}

void
ph_nm_facts_read_with_timeout_async (guint timeout_ms, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  NmRead *read;

  g_return_if_fail (timeout_ms > 0);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ph_nm_facts_read_with_timeout_async);
  g_task_set_name (task, "[porthole] NetworkManager facts");

  read = g_new0 (NmRead, 1);
  read->cancellable = g_cancellable_new ();
  read->timeout_ms = timeout_ms;
  read->facts = g_new0 (PhNmFacts, 1);
  g_task_set_task_data (task, read, (GDestroyNotify) nm_read_free);

  if (cancellable != NULL)
    {
      read->caller_cancelled = g_cancellable_source_new (cancellable);
      g_task_attach_source (task, read->caller_cancelled, G_SOURCE_FUNC (nm_read_caller_cancelled));
    }

  read->deadline = g_timeout_source_new (timeout_ms);
  g_task_attach_source (task, read->deadline, nm_read_deadline_passed);

  nm_client_new_async (read->cancellable, nm_read_client_ready, g_object_ref (task));
}

void
ph_nm_facts_read_async (GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  ph_nm_facts_read_with_timeout_async (PH_NM_DEFAULT_TIMEOUT_MS, cancellable, callback, user_data);
}

PhNmFacts *
ph_nm_facts_read_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == ph_nm_facts_read_with_timeout_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
nm_add_string (JsonBuilder *builder, const char *name, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

/* Members whose value is NULL are left out, and "connection" when it has none. */
JsonNode *
ph_nm_facts_to_json (const PhNmFacts *facts)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (facts != NULL, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "running");
  json_builder_add_boolean_value (builder, facts->running);
  nm_add_string (builder, "version", facts->version);
  nm_add_string (builder, "device", facts->device);
  if (facts->connection_id != NULL || facts->connection_uuid != NULL
      || facts->connection_type != NULL)
    {
      json_builder_set_member_name (builder, "connection");
      json_builder_begin_object (builder);
      nm_add_string (builder, "id", facts->connection_id);
      nm_add_string (builder, "uuid", facts->connection_uuid);
      nm_add_string (builder, "type", facts->connection_type);
      json_builder_end_object (builder);
    }
  nm_add_string (builder, "ipv4_method", facts->ipv4_method);
  nm_add_string (builder, "ipv6_method", facts->ipv6_method);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}
