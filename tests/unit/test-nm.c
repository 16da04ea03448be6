/* test-nm.c: NetworkManager facts against python3-dbusmock's NetworkManager on a private bus
 *
 * NetworkManager cannot run here, so the "system bus" is a dbus-daemon of our own (GTestDBus)
 * and DBUS_SYSTEM_BUS_ADDRESS points at it before libnm connects. On it: nothing (NM absent),
 * a name owner that never answers (NM hung), or dbusmock's template (NM running).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "net/ph-nm.h"

#include "nm-mock.h"

static PhNmFacts *
read_facts (guint timeout_ms, GCancellable *cancellable, gboolean cancel_now, gint64 *elapsed_us,
            GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  gint64 start = g_get_monotonic_time ();
  PhNmFacts *facts;

  ph_nm_facts_read_with_timeout_async (timeout_ms, cancellable, store_result, &result);
  if (cancel_now)
    g_cancellable_cancel (cancellable);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (elapsed_us != NULL)
    *elapsed_us = g_get_monotonic_time () - start;
  facts = ph_nm_facts_read_finish (result, error);
  spin_main_context (200);
  return facts;
}

static char *
facts_json (const PhNmFacts *facts)
{
  g_autoptr (JsonNode) node = ph_nm_facts_to_json (facts);
  return json_to_string (node, FALSE);
}

/* ---- NM absent, unreachable, hung ---- */

static void
test_absent (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhNmFacts) facts = NULL;
  g_autofree char *json = NULL;
  gint64 elapsed;

  if (skip_without_bus ())
    return;

  facts = read_facts (PH_NM_DEFAULT_TIMEOUT_MS, NULL, FALSE, &elapsed, &error);
  g_assert_no_error (error);
  g_assert_false (facts->running);
  g_assert_null (facts->version);
  g_assert_null (facts->device);
  g_assert_null (facts->ipv6_method);
  g_assert_cmpint (elapsed, <, 2 * G_USEC_PER_SEC);
  json = facts_json (facts);
  g_assert_cmpstr (json, ==, "{\"running\":false}");
}

static void
test_no_bus (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PhNmFacts) facts = NULL;
      gint64 elapsed;

      /* A container or a minimal session: no system bus at all. */
      g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/porthole-test-bus", TRUE);
      facts = read_facts (PH_NM_DEFAULT_TIMEOUT_MS, NULL, FALSE, &elapsed, &error);
      g_assert_no_error (error);
      g_assert_false (facts->running);
      g_assert_cmpint (elapsed, <, 2 * G_USEC_PER_SEC);
      return;
    }
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* Swallows every method call: a bus name whose owner never answers. */
static GDBusMessage *
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

static GDBusConnection *
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

static void
test_hung (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhNmFacts) facts = NULL;
  GDBusConnection *silent;
  gint64 elapsed;

  if (skip_without_bus ())
    return;

  silent = own_nm_name_silently ();
  facts = read_facts (1000, NULL, FALSE, &elapsed, &error);
  g_assert_null (facts);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  /* Our deadline, not libnm's 25 s. */
  g_assert_cmpint (elapsed, >=, 900 * 1000);
  g_assert_cmpint (elapsed, <, 3 * G_USEC_PER_SEC);
  release_connection (silent);
}

static void
test_cancelled (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhNmFacts) facts = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  GDBusConnection *silent;
  gint64 elapsed;

  if (skip_without_bus ())
    return;

  silent = own_nm_name_silently ();
  facts = read_facts (PH_NM_DEFAULT_TIMEOUT_MS, cancellable, TRUE, &elapsed, &error);
  g_assert_null (facts);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (elapsed, <, G_USEC_PER_SEC);
  release_connection (silent);
}

/* ---- NM running: python3-dbusmock's networkmanager template ---- */

static void
test_running_no_connection (void)
{
  Mock mock = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhNmFacts) facts = NULL;
  g_autofree char *json = NULL;

  if (skip_without_dbusmock ())
    return;

  mock_start (&mock, "1.42.4");
  facts = read_facts (PH_NM_DEFAULT_TIMEOUT_MS, NULL, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (facts->running);
  g_assert_cmpstr (facts->version, ==, "1.42.4");
  g_assert_null (facts->device);
  g_assert_null (facts->connection_id);
  json = facts_json (facts);
  g_assert_cmpstr (json, ==, "{\"running\":true,\"version\":\"1.42.4\"}");
  mock_stop (&mock);
}

#define WIRED_UUID "8e3c1a46-0f3c-4f0e-9a57-2f6c2b7f0b11"
#define SECOND_UUID "2d0c5a3e-7a63-4d8e-8f4e-0b6f3d5a9c22"

/* No PrimaryConnection: the active connection with the IPv4 default route is the one. */
static void
test_wired_ipv6_disabled (void)
{
  Mock mock = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhNmFacts) facts = NULL;
  g_autofree char *device = NULL;
  g_autofree char *connection = NULL;
  g_autofree char *active = NULL;
  g_autofree char *json = NULL;

  if (skip_without_dbusmock ())
    return;

  mock_start (&mock, "1.42.4");
  device = mock_add_ethernet (&mock, "mock_Ethernet1", "enp3s0");
  connection = mock_add_connection (&mock, "Wired connection 1", WIRED_UUID, "802-3-ethernet",
                                    "auto", "disabled");
  active = mock_activate (&mock, device, connection, "wired");

  facts = read_facts (PH_NM_DEFAULT_TIMEOUT_MS, NULL, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (facts->running);
  g_assert_cmpstr (facts->device, ==, "enp3s0");
  g_assert_cmpstr (facts->connection_id, ==, "Wired connection 1");
  g_assert_cmpstr (facts->connection_uuid, ==, WIRED_UUID);
  g_assert_cmpstr (facts->connection_type, ==, "802-3-ethernet");
  g_assert_cmpstr (facts->ipv4_method, ==, "auto");
  g_assert_cmpstr (facts->ipv6_method, ==, "disabled");

  json = facts_json (facts);
  g_assert_cmpstr (json, ==,
                   "{\"running\":true,\"version\":\"1.42.4\",\"device\":\"enp3s0\","
                   "\"connection\":{\"id\":\"Wired connection 1\",\"uuid\":\"" WIRED_UUID "\","
                   "\"type\":\"802-3-ethernet\",\"default_ipv4\":true,\"default_ipv6\":false},"
                   "\"ipv4_method\":\"auto\",\"ipv6_method\":\"disabled\","
                   "\"ipv4\":{\"dhcp\":false},"
                   "\"ipv6\":{\"addresses\":[],\"default_route\":false,\"global\":false}}");
  mock_stop (&mock);
}

/* PrimaryConnection wins over an earlier active connection that also claims the default. */
static void
test_primary_connection (void)
{
  Mock mock = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhNmFacts) facts = NULL;
  g_autofree char *device1 = NULL;
  g_autofree char *device2 = NULL;
  g_autofree char *connection1 = NULL;
  g_autofree char *connection2 = NULL;
  g_autofree char *active1 = NULL;
  g_autofree char *active2 = NULL;

  if (skip_without_dbusmock ())
    return;

  mock_start (&mock, "1.42.4");
  device1 = mock_add_ethernet (&mock, "mock_Ethernet1", "enp3s0");
  device2 = mock_add_ethernet (&mock, "mock_Ethernet2", "enp4s0");
  connection1 = mock_add_connection (&mock, "Wired connection 1", WIRED_UUID, "802-3-ethernet",
                                     "auto", "disabled");
  connection2
      = mock_add_connection (&mock, "Office", SECOND_UUID, "802-3-ethernet", "manual", "auto");
  active1 = mock_activate (&mock, device1, connection1, "wired");
  active2 = mock_activate (&mock, device2, connection2, "office");
  mock_set_primary (&mock, active2);

  facts = read_facts (PH_NM_DEFAULT_TIMEOUT_MS, NULL, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (facts->running);
  g_assert_cmpstr (facts->device, ==, "enp4s0");
  g_assert_cmpstr (facts->connection_id, ==, "Office");
  g_assert_cmpstr (facts->connection_uuid, ==, SECOND_UUID);
  g_assert_cmpstr (facts->ipv4_method, ==, "manual");
  g_assert_cmpstr (facts->ipv6_method, ==, "auto");
  mock_stop (&mock);
}

int
main (int argc, char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* Before anything in this process connects to the "system" bus. */
  test_bus_up ();

  g_test_add_func ("/nm/absent", test_absent);
  g_test_add_func ("/nm/no-bus", test_no_bus);
  g_test_add_func ("/nm/hung", test_hung);
  g_test_add_func ("/nm/cancelled", test_cancelled);
  g_test_add_func ("/nm/running-no-connection", test_running_no_connection);
  g_test_add_func ("/nm/wired-ipv6-disabled", test_wired_ipv6_disabled);
  g_test_add_func ("/nm/primary-connection", test_primary_connection);

  ret = g_test_run ();
  test_bus_down ();
  return ret;
}
