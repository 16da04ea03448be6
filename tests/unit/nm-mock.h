/* nm-mock.h: python3-dbusmock's NetworkManager (and polkitd) on a private "system" bus
 *
 * NetworkManager cannot run here, so the system bus is a dbus-daemon of our own (GTestDBus) and
 * DBUS_SYSTEM_BUS_ADDRESS points at it before libnm connects. Shared by test-nm.c and
 * test-ipv6-fix.c: each includes this once, so the helpers are static inline.
 *
 * What the template lacks and real NetworkManager has, we add over the mock's own D-Bus API:
 * IP4Config, IP6Config and DHCP4Config objects, PrimaryConnection, GetPermissions answered from
 * polkit, Update2 on a settings connection and Reapply on a device, both checking polkit as
 * NetworkManager does and recorded by the mock (GetMethodCalls).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <signal.h>

#include <gio/gio.h>

#define DEBIAN_PYTHON "/usr/bin/python3"
#define NM_NAME "org.freedesktop.NetworkManager"
#define NM_PATH "/org/freedesktop/NetworkManager"
#define NM_SETTINGS_PATH "/org/freedesktop/NetworkManager/Settings"
#define NM_DEVICE_IFACE "org.freedesktop.NetworkManager.Device"
#define NM_ACTIVE_IFACE "org.freedesktop.NetworkManager.Connection.Active"
#define NM_CONNECTION_IFACE "org.freedesktop.NetworkManager.Settings.Connection"
#define NM_IP4_IFACE "org.freedesktop.NetworkManager.IP4Config"
#define NM_IP6_IFACE "org.freedesktop.NetworkManager.IP6Config"
#define NM_DHCP4_IFACE "org.freedesktop.NetworkManager.DHCP4Config"
#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define MOCK_MAIN_PATH "/org/freedesktop"
#define MOCK_IFACE "org.freedesktop.DBus.Mock"
#define DEVICE_STATE_ACTIVATED 100
#define ACTIVE_STATE_ACTIVATED 2

#define PERMISSION_NETWORK_CONTROL "org.freedesktop.NetworkManager.network-control"
#define PERMISSION_MODIFY_SYSTEM "org.freedesktop.NetworkManager.settings.modify.system"
#define PERMISSION_MODIFY_OWN "org.freedesktop.NetworkManager.settings.modify.own"

static GTestDBus *test_bus;
static gboolean have_dbusmock;

typedef struct
{
  GSubprocess *process;
  GSubprocess *polkit;
  GDBusConnection *bus;
} Mock;

/* ---- the main context ---- */

static inline void
store_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;
  *out = g_object_ref (result);
}

static inline gboolean
set_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* libnm frees its client only while the context runs after the last unref. */
static inline void
spin_main_context (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_flag, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static inline void
wait_for_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* ---- the private bus ---- */

static inline gboolean
python_has_dbusmock (void)
{
  const char *argv[] = { DEBIAN_PYTHON, "-c", "import dbusmock", NULL };
  int status;

  return g_file_test (DEBIAN_PYTHON, G_FILE_TEST_IS_EXECUTABLE)
         && g_spawn_sync (NULL, (char **) argv, NULL,
                          G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
                          NULL, &status, NULL)
         && g_spawn_check_wait_status (status, NULL);
}

/* Call from main () after g_test_init (): a bus for this process, before anything connects. */
static inline void
test_bus_up (void)
{
  g_autofree char *dbus_daemon = g_find_program_in_path ("dbus-daemon");

  if (g_test_subprocess () || dbus_daemon == NULL)
    return;
  test_bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (test_bus);
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", g_test_dbus_get_bus_address (test_bus), TRUE);
  have_dbusmock = python_has_dbusmock ();
}

static inline void
test_bus_down (void)
{
  if (test_bus == NULL)
    return;
  g_test_dbus_down (test_bus);
  g_clear_object (&test_bus);
}

static inline GDBusConnection *
bus_connect (void)
{
  g_autoptr (GError) error = NULL;
  GDBusConnection *connection = g_dbus_connection_new_for_address_sync (
      g_test_dbus_get_bus_address (test_bus),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);

  g_assert_no_error (error);
  return connection;
}

static inline void
release_connection (GDBusConnection *connection)
{
  g_autoptr (GError) error = NULL;

  g_dbus_connection_close_sync (connection, NULL, &error);
  g_assert_no_error (error);
  g_object_unref (connection);
  spin_main_context (100);
}

static inline gboolean
skip_without_bus (void)
{
  if (test_bus == NULL)
    {
      g_test_skip ("dbus-daemon is not installed (apt-get install dbus)");
      return TRUE;
    }
  return FALSE;
}

static inline gboolean
skip_without_dbusmock (void)
{
  if (skip_without_bus ())
    return TRUE;
  if (!have_dbusmock)
    {
      g_test_skip (DEBIAN_PYTHON " lacks dbusmock (apt-get install python3-dbusmock)");
      return TRUE;
    }
  return FALSE;
}

/* Swallows every method call: a bus name whose owner never answers. */
static inline GDBusMessage *
drop_method_calls (GDBusConnection *connection, GDBusMessage *message, gboolean incoming,
                   gpointer user_data)
{
  if (incoming && g_dbus_message_get_message_type (message) == G_DBUS_MESSAGE_TYPE_METHOD_CALL)
    {
      g_object_unref (message);
      return NULL;
    }
  return message;
}

static inline GDBusConnection *
own_nm_name_silently (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  GDBusConnection *connection = bus_connect ();
  guint32 status;

  g_dbus_connection_add_filter (connection, drop_method_calls, NULL, NULL);
  reply = g_dbus_connection_call_sync (
      connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "RequestName", g_variant_new ("(su)", NM_NAME, 4 /* DO_NOT_QUEUE */), G_VARIANT_TYPE ("(u)"),
      G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &status);
  g_assert_cmpuint (status, ==, 1 /* PRIMARY_OWNER */);
  return connection;
}

/* ---- talking to the mocks ---- */

static inline GVariant *
mock_call_on (Mock *mock, const char *name, const char *path, const char *iface, const char *method,
              GVariant *args, const char *reply_type)
{
  g_autoptr (GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_sync (mock->bus, name, path, iface, method, args,
                                                 reply_type ? G_VARIANT_TYPE (reply_type) : NULL,
                                                 G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);

  g_assert_no_error (error);
  return reply;
}

static inline GVariant *
mock_call (Mock *mock, const char *path, const char *iface, const char *method, GVariant *args,
           const char *reply_type)
{
  return mock_call_on (mock, NM_NAME, path, iface, method, args, reply_type);
}

static inline void
mock_call_void (Mock *mock, const char *path, const char *iface, const char *method, GVariant *args)
{
  g_variant_unref (mock_call (mock, path, iface, method, args, NULL));
}

static inline char *
mock_call_path (Mock *mock, const char *path, const char *iface, const char *method, GVariant *args,
                const char *reply_type)
{
  g_autoptr (GVariant) reply = mock_call (mock, path, iface, method, args, reply_type);
  char *out = NULL;

  g_variant_get_child (reply, 0, reply_type[1] == 'o' ? "o" : "s", &out);
  return out;
}

static inline void
wait_for_name (Mock *mock, const char *name, const char *path, const char *iface,
               const char *property)
{
  gint64 deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;

  /* Ready once the object answers a property read. */
  for (;;)
    {
      g_autoptr (GError) call_error = NULL;
      g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
          mock->bus, name, path, "org.freedesktop.DBus.Properties", "Get",
          g_variant_new ("(ss)", iface, property), G_VARIANT_TYPE ("(v)"),
          G_DBUS_CALL_FLAGS_NO_AUTO_START, 1000, NULL, &call_error);

      if (reply != NULL)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (50 * 1000);
    }
}

static inline void
mock_start (Mock *mock, const char *version)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *parameters = g_strdup_printf ("{\"Version\": \"%s\"}", version);

  mock->process
      = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, DEBIAN_PYTHON, "-m",
                          "dbusmock", "--template", "networkmanager", "-p", parameters, NULL);
  g_assert_no_error (error);
  if (mock->bus == NULL)
    mock->bus = bus_connect ();
  wait_for_name (mock, NM_NAME, NM_PATH, NM_NAME, "Version");
}

/* polkitd's template: every action refused until mock_polkit_allow (). */
static inline void
mock_start_polkit (Mock *mock)
{
  g_autoptr (GError) error = NULL;

  mock->polkit = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, DEBIAN_PYTHON, "-m",
                                   "dbusmock", "--template", "polkitd", NULL);
  g_assert_no_error (error);
  if (mock->bus == NULL)
    mock->bus = bus_connect ();
  wait_for_name (mock, POLKIT_NAME, POLKIT_PATH, "org.freedesktop.PolicyKit1.Authority",
                 "BackendName");
}

static inline void
mock_polkit_allow (Mock *mock, const char *const *actions)
{
  g_variant_unref (mock_call_on (mock, POLKIT_NAME, POLKIT_PATH, MOCK_IFACE, "SetAllowed",
                                 g_variant_new ("(^as)", (char **) actions), NULL));
}

static inline void
subprocess_stop (GSubprocess **process)
{
  g_autoptr (GError) error = NULL;

  if (*process == NULL)
    return;
  g_subprocess_send_signal (*process, SIGTERM);
  g_subprocess_wait (*process, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (process);
}

/* NetworkManager goes away; the test's bus connection stays for a restart. */
static inline void
mock_stop_nm (Mock *mock)
{
  subprocess_stop (&mock->process);
}

static inline void
mock_stop (Mock *mock)
{
  subprocess_stop (&mock->process);
  subprocess_stop (&mock->polkit);
  if (mock->bus != NULL)
    release_connection (g_steal_pointer (&mock->bus));
}

/* ---- what the template offers ---- */

static inline char *
mock_add_ethernet (Mock *mock, const char *device_name, const char *iface)
{
  return mock_call_path (mock, MOCK_MAIN_PATH, MOCK_IFACE, "AddEthernetDevice",
                         g_variant_new ("(ssi)", device_name, iface, DEVICE_STATE_ACTIVATED),
                         "(s)");
}

static inline char *
mock_add_connection (Mock *mock, const char *id, const char *uuid, const char *type,
                     const char *ipv4_method, const char *ipv6_method)
{
  GVariant *settings = g_variant_new_parsed (
      "({'connection': {'id': <%s>, 'uuid': <%s>, 'type': <%s>}, 'ipv4': {'method': <%s>},"
      " 'ipv6': {'method': <%s>}},)",
      id, uuid, type, ipv4_method, ipv6_method);

  return mock_call_path (mock, NM_SETTINGS_PATH, "org.freedesktop.NetworkManager.Settings",
                         "AddConnection", settings, "(o)");
}

static inline char *
mock_activate (Mock *mock, const char *device, const char *connection, const char *name)
{
  const char *devices[] = { device, NULL };

  return mock_call_path (
      mock, MOCK_MAIN_PATH, MOCK_IFACE, "AddActiveConnection",
      g_variant_new ("(^assssu)", devices, connection, "/", name, ACTIVE_STATE_ACTIVATED), "(s)");
}

static inline void
mock_add_property (Mock *mock, const char *path, const char *iface, const char *name,
                   GVariant *value)
{
  mock_call_void (mock, path, MOCK_IFACE, "AddProperty",
                  g_variant_new ("(ssv)", iface, name, value));
}

/* Changes a property and emits PropertiesChanged, as NetworkManager does. */
static inline void
mock_set_property (Mock *mock, const char *path, const char *iface, const char *name,
                   GVariant *value)
{
  mock_call_void (mock, path, "org.freedesktop.DBus.Properties", "Set",
                  g_variant_new ("(ssv)", iface, name, value));
}

/* The template has no PrimaryConnection; NetworkManager proper always has one. */
static inline void
mock_set_primary (Mock *mock, const char *active)
{
  mock_add_property (mock, NM_PATH, NM_NAME, "PrimaryConnection",
                     g_variant_new_object_path (active));
}

static inline GVariant *
mock_get_property (Mock *mock, const char *path, const char *iface, const char *name)
{
  g_autoptr (GVariant) reply = mock_call (mock, path, "org.freedesktop.DBus.Properties", "Get",
                                          g_variant_new ("(ss)", iface, name), "(v)");
  GVariant *value = NULL;

  g_variant_get (reply, "(v)", &value);
  return value;
}

/* ---- what the template lacks: IP configurations ---- */

/* "address/prefix" strings, NULL-terminated. */
static inline GVariant *
mock_address_data (const char *const *addresses)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++)
    {
      g_auto (GStrv) parts = g_strsplit (addresses[i], "/", 2);
      GVariantBuilder entry;

      g_variant_builder_init (&entry, G_VARIANT_TYPE ("a{sv}"));
      g_variant_builder_add (&entry, "{sv}", "address", g_variant_new_string (parts[0]));
      g_variant_builder_add (
          &entry, "{sv}", "prefix",
          g_variant_new_uint32 ((guint32) g_ascii_strtoull (parts[1], NULL, 10)));
      g_variant_builder_add (&builder, "a{sv}", &entry);
    }
  return g_variant_builder_end (&builder);
}

/* A default route through gateway (family 4 or 6), or none. */
static inline GVariant *
mock_route_data (int family, const char *gateway)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  if (gateway != NULL)
    {
      GVariantBuilder entry;

      g_variant_builder_init (&entry, G_VARIANT_TYPE ("a{sv}"));
      g_variant_builder_add (&entry, "{sv}", "dest",
                             g_variant_new_string (family == 4 ? "0.0.0.0" : "::"));
      g_variant_builder_add (&entry, "{sv}", "prefix", g_variant_new_uint32 (0));
      g_variant_builder_add (&entry, "{sv}", "next-hop", g_variant_new_string (gateway));
      g_variant_builder_add (&entry, "{sv}", "metric", g_variant_new_uint32 (100));
      g_variant_builder_add (&builder, "a{sv}", &entry);
    }
  return g_variant_builder_end (&builder);
}

static guint mock_next_object = 1;

static inline void
mock_add_object (Mock *mock, const char *path, const char *iface, GVariant *props)
{
  mock_call_void (mock, MOCK_MAIN_PATH, MOCK_IFACE, "AddObject",
                  g_variant_new ("(ss@a{sv}@a(ssss))", path, iface, props,
                                 g_variant_new_array (G_VARIANT_TYPE ("(ssss)"), NULL, 0)));
}

/* Adds an IPnConfig object and points the device and the active connection at it. Call before
 * the client under test starts (libnm learns of new objects from the object manager). */
static inline char *
mock_add_ip_config (Mock *mock, int family, const char *device, const char *active,
                    const char *const *addresses, const char *gateway)
{
  const char *iface = family == 4 ? NM_IP4_IFACE : NM_IP6_IFACE;
  const char *property = family == 4 ? "Ip4Config" : "Ip6Config";
  char *path = g_strdup_printf ("%s/IP%dConfig/%u", NM_PATH, family, mock_next_object++);
  GVariantBuilder props;

  g_variant_builder_init (&props, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&props, "{sv}", "AddressData", mock_address_data (addresses));
  g_variant_builder_add (&props, "{sv}", "Gateway",
                         g_variant_new_string (gateway != NULL ? gateway : ""));
  g_variant_builder_add (&props, "{sv}", "RouteData", mock_route_data (family, gateway));
  g_variant_builder_add (&props, "{sv}", "Domains", g_variant_new_strv (NULL, 0));
  g_variant_builder_add (&props, "{sv}", "Searches", g_variant_new_strv (NULL, 0));
  mock_add_object (mock, path, iface, g_variant_builder_end (&props));
  mock_add_property (mock, device, NM_DEVICE_IFACE, property, g_variant_new_object_path (path));
  mock_add_property (mock, active, NM_ACTIVE_IFACE, property, g_variant_new_object_path (path));
  return path;
}

/* A DHCPv4 lease: options as NetworkManager names them, values as strings. */
static inline char *
mock_add_dhcp4_config (Mock *mock, const char *device, const char *active, guint lease_s,
                       gint64 expiry, const char *server)
{
  char *path = g_strdup_printf ("%s/DHCP4Config/%u", NM_PATH, mock_next_object++);
  g_autofree char *lease = g_strdup_printf ("%u", lease_s);
  g_autofree char *expires = g_strdup_printf ("%" G_GINT64_FORMAT, expiry);
  GVariantBuilder options;
  GVariantBuilder props;

  g_variant_builder_init (&options, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&options, "{sv}", "dhcp_lease_time", g_variant_new_string (lease));
  g_variant_builder_add (&options, "{sv}", "expiry", g_variant_new_string (expires));
  g_variant_builder_add (&options, "{sv}", "dhcp_server_identifier", g_variant_new_string (server));
  g_variant_builder_init (&props, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&props, "{sv}", "Options", g_variant_builder_end (&options));
  mock_add_object (mock, path, NM_DHCP4_IFACE, g_variant_builder_end (&props));
  mock_add_property (mock, device, NM_DEVICE_IFACE, "Dhcp4Config",
                     g_variant_new_object_path (path));
  mock_add_property (mock, active, NM_ACTIVE_IFACE, "Dhcp4Config",
                     g_variant_new_object_path (path));
  return path;
}

/* ---- what the template lacks: polkit-checked changes ---- */

/* Python run by the mock: asks polkit (the polkitd mock on the same bus) about action, with user
 * interaction allowed when interactive; "challenge" lists actions polkit would ask a password
 * for, so GetPermissions says "auth" for them. */
#define MOCK_POLKIT_PY                                                                             \
  "import dbus\n"                                                                                  \
  "def polkit_allows(action, interactive):\n"                                                      \
  "    pk = dbus.Interface(dbus.SystemBus().get_object('" POLKIT_NAME "', '" POLKIT_PATH "'),"     \
  " 'org.freedesktop.PolicyKit1.Authority')\n"                                                     \
  "    subject = ('unix-process', {'pid': dbus.UInt32(1, variant_level=1),"                        \
  " 'start-time': dbus.UInt64(0, variant_level=1)})\n"                                             \
  "    ok, challenge, details = pk.CheckAuthorization(subject, action, {},"                        \
  " dbus.UInt32(1 if interactive else 0), '')\n"                                                   \
  "    return bool(ok)\n"

static inline void
mock_add_method (Mock *mock, const char *path, const char *iface, const char *name,
                 const char *in_sig, const char *out_sig, const char *code)
{
  mock_call_void (mock, path, MOCK_IFACE, "AddMethod",
                  g_variant_new ("(sssss)", iface, name, in_sig, out_sig, code));
}

/* GetPermissions as NetworkManager answers it: "yes", "auth" (challenge) or "no", from polkit. */
static inline void
mock_use_polkit (Mock *mock, const char *const *challenge)
{
  g_autofree char *list = NULL;
  g_autofree char *code = NULL;
  g_autoptr (GString) quoted = g_string_new ("[");

  for (guint i = 0; challenge != NULL && challenge[i] != NULL; i++)
    g_string_append_printf (quoted, "%s'%s'", i ? ", " : "", challenge[i]);
  g_string_append (quoted, "]");
  list = g_string_free (g_steal_pointer (&quoted), FALSE);
  code = g_strdup_printf (
      MOCK_POLKIT_PY
      "challenge = %s\n"
      "ret = {}\n"
      "for p in ['" PERMISSION_NETWORK_CONTROL "', '" PERMISSION_MODIFY_SYSTEM "',"
      " '" PERMISSION_MODIFY_OWN "']:\n"
      "    ret[p] = 'auth' if p in challenge else ('yes' if polkit_allows(p, False) else 'no')\n",
      list);
  mock_add_method (mock, NM_PATH, NM_NAME, "GetPermissions", "", "a{ss}", code);
}

/* Update2 on a settings connection: polkit decides (a prompt is "answered" by what the polkitd
 * mock allows), then the template's own Update merges the settings and emits Updated. */
static inline void
mock_add_update2 (Mock *mock, const char *connection)
{
  mock_add_method (mock, connection, NM_CONNECTION_IFACE, "Update2", "a{sa{sv}}ua{sv}", "a{sv}",
                   MOCK_POLKIT_PY
                   "if not polkit_allows('" PERMISSION_MODIFY_SYSTEM "', True):\n"
                   "    raise dbus.exceptions.DBusException('Insufficient privileges',"
                   " name='org.freedesktop.NetworkManager.Settings.PermissionDenied')\n"
                   "self.ConnectionUpdate(self, args[0])\n"
                   "ret = dbus.Dictionary({}, signature='sv')\n");
}

/* Python for a mock Reapply's `extra`: 300 ms later the router's announcement arrives on the IPv6
 * config at ip6_path: a global and a link-local address, and a default route through fe80::1. */
static inline char *
mock_announce_py (const char *ip6_path, const char *global6, const char *link_local6)
{
  return g_strdup_printf (
      "from gi.repository import GLib\n"
      "def announce():\n"
      "    o = objects['%s']\n"
      "    i = '" NM_IP6_IFACE "'\n"
      "    o.Set(i, 'AddressData', dbus.Array([dbus.Dictionary({'address': '%s',"
      " 'prefix': dbus.UInt32(64)}, signature='sv'), dbus.Dictionary({'address': '%s',"
      " 'prefix': dbus.UInt32(64)}, signature='sv')], signature='a{sv}'))\n"
      "    o.Set(i, 'RouteData', dbus.Array([dbus.Dictionary({'dest': '::', 'prefix':"
      " dbus.UInt32(0), 'next-hop': 'fe80::1', 'metric': dbus.UInt32(100)}, signature='sv')],"
      " signature='a{sv}'))\n"
      "    o.Set(i, 'Gateway', 'fe80::1')\n"
      "    return False\n"
      "GLib.timeout_add(300, announce)\n",
      ip6_path, global6, link_local6);
}

/* Reapply on a device: polkit decides, then `extra` (Python) runs, e.g. to make IPv6 appear. */
static inline void
mock_add_reapply (Mock *mock, const char *device, const char *extra)
{
  g_autofree char *code = g_strdup_printf (
      MOCK_POLKIT_PY
      "if not polkit_allows('" PERMISSION_NETWORK_CONTROL "', True):\n"
      "    raise dbus.exceptions.DBusException('Not authorized to control networking.',"
      " name='org.freedesktop.NetworkManager.PermissionDenied')\n"
      "%s\n",
      extra != NULL ? extra : "");

  mock_add_method (mock, device, NM_DEVICE_IFACE, "Reapply", "a{sa{sv}}tu", "", code);
}

static inline guint
mock_count_calls (Mock *mock, const char *path, const char *method)
{
  g_autoptr (GVariant) reply = mock_call (mock, path, MOCK_IFACE, "GetMethodCalls",
                                          g_variant_new ("(s)", method), "(a(tav))");
  g_autoptr (GVariant) calls = g_variant_get_child_value (reply, 0);

  return (guint) g_variant_n_children (calls);
}

/* The settings connection's key in setting, as NetworkManager would hand it out now. */
static inline char *
mock_get_setting (Mock *mock, const char *connection, const char *setting, const char *key)
{
  g_autoptr (GVariant) reply
      = mock_call (mock, connection, NM_CONNECTION_IFACE, "GetSettings", NULL, "(a{sa{sv}})");
  g_autoptr (GVariant) settings = g_variant_get_child_value (reply, 0);
  g_autoptr (GVariant) group = g_variant_lookup_value (settings, setting, NULL);
  g_autoptr (GVariant) value = group ? g_variant_lookup_value (group, key, NULL) : NULL;

  return value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
             ? g_variant_dup_string (value, NULL)
             : NULL;
}
