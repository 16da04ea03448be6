/* ph-nm.c: what NetworkManager says about the connection that carries the default route
 *
 * One NMClient per read, created asynchronously on the caller's main context. libnm's D-Bus calls
 * time out after 25 s, far too long for a check the user is watching, so the read has a deadline
 * of its own that cancels libnm's work.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include <glib/gi18n.h>
#include <NetworkManager.h>

#include "p2p/ph-ip-scope.h"

#include "ph-nm-private.h"

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
  g_free (facts->ipv4_address);
  g_free (facts->ipv4_gateway);
  g_free (facts->dhcp_server);
  g_clear_pointer (&facts->ipv6_addresses, g_ptr_array_unref);
  g_free (facts->ipv6_gateway);
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
    {
      ph_nm_facts_settle (read->facts);
      g_task_return_pointer (task, g_steal_pointer (&read->facts),
                             (GDestroyNotify) ph_nm_facts_free);
    }
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

/* ---- the facts ---- */

static void
nm_address_free (PhNmAddress *address)
{
  g_free (address->address);
  g_free (address);
}

PhNmFacts *
ph_nm_facts_new (void)
{
  PhNmFacts *facts = g_new0 (PhNmFacts, 1);

  facts->ipv6_addresses = g_ptr_array_new_with_free_func ((GDestroyNotify) nm_address_free);
  return facts;
}

const char *
ph_nm_ipv6_kind_to_string (PhNmIpv6Kind kind)
{
  switch (kind)
    {
      case PH_NM_IPV6_KIND_GLOBAL:
        return "global";
      case PH_NM_IPV6_KIND_TEMPORARY:
        return "temporary";
      case PH_NM_IPV6_KIND_ULA:
        return "ula";
      case PH_NM_IPV6_KIND_LINK_LOCAL:
        return "link-local";
      case PH_NM_IPV6_KIND_OTHER:
      default:
        return "other";
    }
}

static PhNmIpv6Kind
nm_ipv6_kind (GInetAddress *inet)
{
  switch (ph_ip_scope_classify_inet (inet))
    {
      case PH_IP_SCOPE_PUBLIC:
        return PH_NM_IPV6_KIND_GLOBAL;
      case PH_IP_SCOPE_ULA:
        return PH_NM_IPV6_KIND_ULA;
      case PH_IP_SCOPE_LINK_LOCAL:
        return PH_NM_IPV6_KIND_LINK_LOCAL;
      default:
        return PH_NM_IPV6_KIND_OTHER;
    }
}

void
ph_nm_facts_add_ipv6_address (PhNmFacts *facts, const char *address, guint prefix)
{
  g_autoptr (GInetAddress) inet = NULL;
  PhNmAddress *entry;

  g_return_if_fail (facts != NULL && facts->ipv6_addresses != NULL);
  g_return_if_fail (address != NULL);

  inet = g_inet_address_new_from_string (address);
  if (inet == NULL || g_inet_address_get_family (inet) != G_SOCKET_FAMILY_IPV6 || prefix > 128)
    {
      g_debug ("NetworkManager: ignoring IPv6 address %s/%u", address, prefix);
      return;
    }
  entry = g_new0 (PhNmAddress, 1);
  entry->address = g_inet_address_to_string (inet);
  entry->prefix = prefix;
  entry->kind = nm_ipv6_kind (inet);
  g_ptr_array_add (facts->ipv6_addresses, entry);
}

gboolean
ph_nm_facts_has_global_ipv6 (const PhNmFacts *facts)
{
  g_return_val_if_fail (facts != NULL, FALSE);

  for (guint i = 0; facts->ipv6_addresses != NULL && i < facts->ipv6_addresses->len; i++)
    {
      const PhNmAddress *address = g_ptr_array_index (facts->ipv6_addresses, i);

      if (address->kind == PH_NM_IPV6_KIND_GLOBAL || address->kind == PH_NM_IPV6_KIND_TEMPORARY)
        return TRUE;
    }
  return FALSE;
}

static gboolean
nm_same_address (const char *a, const char *b)
{
  g_autoptr (GInetAddress) inet_a = g_inet_address_new_from_string (a);
  g_autoptr (GInetAddress) inet_b = g_inet_address_new_from_string (b);

  return inet_a != NULL && inet_b != NULL && g_inet_address_equal (inet_a, inet_b);
}

static gboolean
nm_lan_says_temporary (const PhLanFacts *lan, const char *ifname, const char *address)
{
  for (guint i = 0; i < lan->addresses->len; i++)
    {
      const PhLanAddress *entry = g_ptr_array_index (lan->addresses, i);

      if (entry->family == AF_INET6 && entry->temporary
          && (ifname == NULL || g_strcmp0 (entry->ifname, ifname) == 0)
          && nm_same_address (entry->address, address))
        return TRUE;
    }
  return FALSE;
}

void
ph_nm_facts_mark_temporary (PhNmFacts *facts, const PhLanFacts *lan)
{
  g_return_if_fail (facts != NULL);
  g_return_if_fail (lan != NULL);

  for (guint i = 0; facts->ipv6_addresses != NULL && i < facts->ipv6_addresses->len; i++)
    {
      PhNmAddress *address = g_ptr_array_index (facts->ipv6_addresses, i);

      if (address->kind == PH_NM_IPV6_KIND_GLOBAL
          && nm_lan_says_temporary (lan, facts->device, address->address))
        address->kind = PH_NM_IPV6_KIND_TEMPORARY;
    }
}

/* ---- reading libnm's cache ---- */

NMActiveConnection *
ph_nm_pick_connection (NMClient *client)
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

NMDevice *
ph_nm_connection_device (NMActiveConnection *active)
{
  const GPtrArray *devices = nm_active_connection_get_devices (active);

  return devices != NULL && devices->len > 0 ? g_ptr_array_index (devices, 0) : NULL;
}

const char *
ph_nm_device_name (NMDevice *device)
{
  const char *ip_iface = nm_device_get_ip_iface (device);

  /* The IP interface is the one routes name (ppp0 over ttyUSB0); the mock leaves it empty. */
  return ip_iface != NULL && *ip_iface != '\0' ? ip_iface : nm_device_get_iface (device);
}

NMIPConfig *
ph_nm_ip_config (NMActiveConnection *active, int family)
{
  NMDevice *device = ph_nm_connection_device (active);
  NMIPConfig *config = family == AF_INET ? nm_active_connection_get_ip4_config (active)
                                         : nm_active_connection_get_ip6_config (active);

  if (config == NULL && device != NULL)
    config
        = family == AF_INET ? nm_device_get_ip4_config (device) : nm_device_get_ip6_config (device);
  return config;
}

static NMDhcpConfig *
nm_dhcp4_config (NMActiveConnection *active)
{
  NMDevice *device = ph_nm_connection_device (active);
  NMDhcpConfig *config = nm_active_connection_get_dhcp4_config (active);

  if (config == NULL && device != NULL)
    config = nm_device_get_dhcp4_config (device);
  return config;
}

static char *
nm_dup_address (const char *text)
{
  return text != NULL && g_hostname_is_ip_address (text) ? g_strdup (text) : NULL;
}

/* A DHCP option holding a decimal number, e.g. "86400"; max when it does not parse. */
static guint64
nm_dhcp_option_number (NMDhcpConfig *config, const char *name, guint64 max)
{
  const char *text = nm_dhcp_config_get_one_option (config, name);
  guint64 value;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, max, &value, NULL))
    return 0;
  return value;
}

static void
nm_fill_ipv4 (PhNmFacts *facts, NMActiveConnection *active)
{
  NMIPConfig *config = ph_nm_ip_config (active, AF_INET);
  NMDhcpConfig *dhcp = nm_dhcp4_config (active);

  if (config != NULL)
    {
      GPtrArray *addresses = nm_ip_config_get_addresses (config);

      if (addresses != NULL && addresses->len > 0)
        {
          NMIPAddress *first = g_ptr_array_index (addresses, 0);

          facts->ipv4_address = g_strdup (nm_ip_address_get_address (first));
          facts->ipv4_prefix = nm_ip_address_get_prefix (first);
        }
      facts->ipv4_gateway = nm_dup_address (nm_ip_config_get_gateway (config));
    }
  /* Provisional: ph_nm_facts_settle () keeps it only for the method "auto". */
  facts->ipv4_dhcp = dhcp != NULL;
  if (dhcp != NULL)
    {
      facts->dhcp_lease_s = (guint) nm_dhcp_option_number (dhcp, "dhcp_lease_time", G_MAXUINT32);
      facts->dhcp_expiry = (gint64) nm_dhcp_option_number (dhcp, "expiry", G_MAXINT64);
      facts->dhcp_server
          = nm_dup_address (nm_dhcp_config_get_one_option (dhcp, "dhcp_server_identifier"));
    }
}

static gboolean
nm_has_default_route (NMIPConfig *config)
{
  GPtrArray *routes = nm_ip_config_get_routes (config);

  for (guint i = 0; routes != NULL && i < routes->len; i++)
    if (nm_ip_route_get_prefix (g_ptr_array_index (routes, i)) == 0)
      return TRUE;
  return FALSE;
}

static void
nm_fill_ipv6 (PhNmFacts *facts, NMActiveConnection *active)
{
  NMIPConfig *config = ph_nm_ip_config (active, AF_INET6);

  if (config != NULL)
    {
      GPtrArray *addresses = nm_ip_config_get_addresses (config);

      for (guint i = 0; addresses != NULL && i < addresses->len; i++)
        {
          NMIPAddress *address = g_ptr_array_index (addresses, i);

          ph_nm_facts_add_ipv6_address (facts, nm_ip_address_get_address (address),
                                        nm_ip_address_get_prefix (address));
        }
      facts->ipv6_gateway = nm_dup_address (nm_ip_config_get_gateway (config));
    }
  facts->ipv6_default_route = facts->ipv6_gateway != NULL
                              || (config != NULL && nm_has_default_route (config))
                              || nm_active_connection_get_default6 (active);
}

void
ph_nm_facts_fill (PhNmFacts *facts, NMClient *client)
{
  ph_nm_facts_fill_active (facts, client, ph_nm_pick_connection (client));
}

void
ph_nm_facts_fill_active (PhNmFacts *facts, NMClient *client, NMActiveConnection *active)
{
  NMRemoteConnection *remote;
  NMDevice *device;

  facts->running = nm_client_get_nm_running (client);
  if (!facts->running)
    return;
  facts->version = g_strdup (nm_client_get_version (client));
  if (active == NULL)
    return;

  facts->connection_id = g_strdup (nm_active_connection_get_id (active));
  facts->connection_uuid = g_strdup (nm_active_connection_get_uuid (active));
  facts->connection_type = g_strdup (nm_active_connection_get_connection_type (active));
  facts->default_ipv4 = nm_active_connection_get_default (active);
  facts->default_ipv6 = nm_active_connection_get_default6 (active);
  device = ph_nm_connection_device (active);
  if (device != NULL)
    facts->device = g_strdup (ph_nm_device_name (device));

  /* The profile libnm already holds; it is absent when the profile is another user's. */
  remote = nm_active_connection_get_connection (active);
  if (remote != NULL)
    nm_read_set_methods (facts, NM_CONNECTION (remote));
  nm_fill_ipv4 (facts, active);
  nm_fill_ipv6 (facts, active);
}

void
ph_nm_facts_settle (PhNmFacts *facts)
{
  /* A lease with the method unknown (another user's profile) still means DHCP. */
  if (facts->ipv4_dhcp && facts->ipv4_method != NULL
      && !g_str_equal (facts->ipv4_method, NM_SETTING_IP4_CONFIG_METHOD_AUTO))
    facts->ipv4_dhcp = FALSE;
}

gboolean
ph_nm_error_is_gone (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY)
         || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)
         || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)
         || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_DISCONNECTED)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED)
         || g_error_matches (error, NM_CLIENT_ERROR, NM_CLIENT_ERROR_MANAGER_NOT_RUNNING);
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

static void
nm_read_gather (GTask *task)
{
  NmRead *read = g_task_get_task_data (task);
  PhNmFacts *facts = read->facts;
  NMActiveConnection *active;
  NMDevice *device;

  ph_nm_facts_fill (facts, read->client);
  active = ph_nm_pick_connection (read->client);
  device = active != NULL ? ph_nm_connection_device (active) : NULL;
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
    nm_read_return (task, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                       _ ("NetworkManager did not answer within %.1f seconds: it "
                                          "may be busy or stuck. Try again in a moment."),
                                       read->timeout_ms / 1000.0));
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
                                                           _ ("Reading the network settings was "
                                                              "cancelled.")));
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
  read->facts = ph_nm_facts_new ();
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

static void
nm_add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
nm_add_bool (JsonBuilder *builder, const char *name, gboolean value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

static void
nm_ipv4_to_json (JsonBuilder *builder, const PhNmFacts *facts)
{
  json_builder_set_member_name (builder, "ipv4");
  json_builder_begin_object (builder);
  nm_add_string (builder, "address", facts->ipv4_address);
  if (facts->ipv4_address != NULL)
    nm_add_int (builder, "prefix", facts->ipv4_prefix);
  nm_add_string (builder, "gateway", facts->ipv4_gateway);
  nm_add_bool (builder, "dhcp", facts->ipv4_dhcp);
  if (facts->dhcp_lease_s > 0)
    nm_add_int (builder, "lease_seconds", facts->dhcp_lease_s);
  if (facts->dhcp_expiry > 0)
    nm_add_int (builder, "lease_expires", facts->dhcp_expiry);
  nm_add_string (builder, "dhcp_server", facts->dhcp_server);
  json_builder_end_object (builder);
}

static void
nm_ipv6_to_json (JsonBuilder *builder, const PhNmFacts *facts)
{
  json_builder_set_member_name (builder, "ipv6");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "addresses");
  json_builder_begin_array (builder);
  for (guint i = 0; facts->ipv6_addresses != NULL && i < facts->ipv6_addresses->len; i++)
    {
      const PhNmAddress *address = g_ptr_array_index (facts->ipv6_addresses, i);

      json_builder_begin_object (builder);
      nm_add_string (builder, "address", address->address);
      nm_add_int (builder, "prefix", address->prefix);
      nm_add_string (builder, "kind", ph_nm_ipv6_kind_to_string (address->kind));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  nm_add_string (builder, "gateway", facts->ipv6_gateway);
  nm_add_bool (builder, "default_route", facts->ipv6_default_route);
  nm_add_bool (builder, "global", ph_nm_facts_has_global_ipv6 (facts));
  json_builder_end_object (builder);
}

/* Members whose value is NULL are left out, and "connection", "ipv4" and "ipv6" when there is no
 * connection. */
JsonNode *
ph_nm_facts_to_json (const PhNmFacts *facts)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  gboolean connected;

  g_return_val_if_fail (facts != NULL, NULL);

  connected = facts->connection_uuid != NULL;
  json_builder_begin_object (builder);
  nm_add_bool (builder, "running", facts->running);
  nm_add_string (builder, "version", facts->version);
  nm_add_string (builder, "device", facts->device);
  if (connected || facts->connection_id != NULL || facts->connection_type != NULL)
    {
      json_builder_set_member_name (builder, "connection");
      json_builder_begin_object (builder);
      nm_add_string (builder, "id", facts->connection_id);
      nm_add_string (builder, "uuid", facts->connection_uuid);
      nm_add_string (builder, "type", facts->connection_type);
      nm_add_bool (builder, "default_ipv4", facts->default_ipv4);
      nm_add_bool (builder, "default_ipv6", facts->default_ipv6);
      json_builder_end_object (builder);
    }
  nm_add_string (builder, "ipv4_method", facts->ipv4_method);
  nm_add_string (builder, "ipv6_method", facts->ipv6_method);
  if (connected)
    {
      nm_ipv4_to_json (builder, facts);
      nm_ipv6_to_json (builder, facts);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}
