/* test-nm.c: NetworkManager facts against python3-dbusmock's NetworkManager on a private bus
 *
 * NetworkManager cannot run here, so the "system bus" is a dbus-daemon of our own (GTestDBus)
 * and DBUS_SYSTEM_BUS_ADDRESS points at it before libnm connects. On it: nothing (NM absent),
 * a name owner that never answers (NM hung), or dbusmock's template (NM running).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include "net/ph-network-watch.h"
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

#define GLOBAL6 "2a01:4f8:c0c:1234::17"
#define TEMPORARY6 "2a01:4f8:c0c:1234:9d1e:2b44:1c3f:a1b2"
#define ULA6 "fd12:3456:789a::17"
#define LINK_LOCAL6 "fe80::1e2d:3c4b:5a69:7887"

typedef struct
{
  Mock mock;
  char *device;
  char *connection;
  char *active;
} Wired;

/* One ethernet device with an active connection, as NetworkManager shows a wired desktop. */
static void
wired_up (Wired *wired, const char *ipv4_method, const char *ipv6_method)
{
  mock_start (&wired->mock, "1.42.4");
  wired->device = mock_add_ethernet (&wired->mock, "mock_Ethernet1", "enp3s0");
  wired->connection = mock_add_connection (&wired->mock, "Wired connection 1", WIRED_UUID,
                                           "802-3-ethernet", ipv4_method, ipv6_method);
  wired->active = mock_activate (&wired->mock, wired->device, wired->connection, "wired");
  mock_set_primary (&wired->mock, wired->active);
}

static void
wired_down (Wired *wired)
{
  mock_stop (&wired->mock);
  g_clear_pointer (&wired->device, g_free);
  g_clear_pointer (&wired->connection, g_free);
  g_clear_pointer (&wired->active, g_free);
}

/* What the kernel would say: the privacy address is flagged temporary. */
static PhLanFacts *
lan_with_temporary (const char *ifname, const char *address)
{
  PhLanFacts *lan = ph_lan_facts_new ();
  PhLanAddress *entry = g_new0 (PhLanAddress, 1);

  entry->ifname = g_strdup (ifname);
  entry->family = AF_INET6;
  entry->address = g_strdup (address);
  entry->prefix = 64;
  entry->temporary = TRUE;
  g_ptr_array_add (lan->addresses, entry);
  return lan;
}

/* The facts a wizard needs: address, gateway, DHCP lease, IPv6 by kind and the default route. */
static void
test_addresses_and_lease (void)
{
  Wired wired = { 0 };
  const char *ipv4[] = { "192.168.1.23/24", NULL };
  const char *ipv6[] = { GLOBAL6 "/64", TEMPORARY6 "/64", ULA6 "/64", LINK_LOCAL6 "/64", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhNmFacts) facts = NULL;
  g_autoptr (PhLanFacts) lan = NULL;
  g_autofree char *ip4 = NULL;
  g_autofree char *ip6 = NULL;
  g_autofree char *dhcp = NULL;
  g_autofree char *json = NULL;
  const PhNmAddress *address;

  if (skip_without_dbusmock ())
    return;

  wired_up (&wired, "auto", "auto");
  ip4 = mock_add_ip_config (&wired.mock, 4, wired.device, wired.active, ipv4, "192.168.1.1");
  dhcp = mock_add_dhcp4_config (&wired.mock, wired.device, wired.active, 86400, 1767225600,
                                "192.168.1.1");
  ip6 = mock_add_ip_config (&wired.mock, 6, wired.device, wired.active, ipv6, "fe80::1");

  facts = read_facts (PH_NM_DEFAULT_TIMEOUT_MS, NULL, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (facts->device, ==, "enp3s0");
  g_assert_true (facts->default_ipv4);
  g_assert_cmpstr (facts->ipv4_address, ==, "192.168.1.23");
  g_assert_cmpuint (facts->ipv4_prefix, ==, 24);
  g_assert_cmpstr (facts->ipv4_gateway, ==, "192.168.1.1");
  g_assert_true (facts->ipv4_dhcp);
  g_assert_cmpuint (facts->dhcp_lease_s, ==, 86400);
  g_assert_cmpint (facts->dhcp_expiry, ==, 1767225600);
  g_assert_cmpstr (facts->dhcp_server, ==, "192.168.1.1");

  g_assert_cmpuint (facts->ipv6_addresses->len, ==, 4);
  address = g_ptr_array_index (facts->ipv6_addresses, 0);
  g_assert_cmpstr (address->address, ==, GLOBAL6);
  g_assert_cmpuint (address->prefix, ==, 64);
  g_assert_cmpint (address->kind, ==, PH_NM_IPV6_KIND_GLOBAL);
  address = g_ptr_array_index (facts->ipv6_addresses, 2);
  g_assert_cmpint (address->kind, ==, PH_NM_IPV6_KIND_ULA);
  address = g_ptr_array_index (facts->ipv6_addresses, 3);
  g_assert_cmpint (address->kind, ==, PH_NM_IPV6_KIND_LINK_LOCAL);
  g_assert_cmpstr (facts->ipv6_gateway, ==, "fe80::1");
  g_assert_true (facts->ipv6_default_route);
  g_assert_true (ph_nm_facts_has_global_ipv6 (facts));

  /* Only the kernel knows privacy addresses; another interface's flag does not count. */
  lan = lan_with_temporary ("wlp2s0", TEMPORARY6);
  ph_nm_facts_mark_temporary (facts, lan);
  address = g_ptr_array_index (facts->ipv6_addresses, 1);
  g_assert_cmpint (address->kind, ==, PH_NM_IPV6_KIND_GLOBAL);
  g_clear_pointer (&lan, ph_lan_facts_free);
  lan = lan_with_temporary ("enp3s0", "2a01:04f8:0c0c:1234:9d1e:2b44:1c3f:a1b2");
  ph_nm_facts_mark_temporary (facts, lan);
  g_assert_cmpint (address->kind, ==, PH_NM_IPV6_KIND_TEMPORARY);

  json = facts_json (facts);
  g_assert_cmpstr (
      json, ==,
      "{\"running\":true,\"version\":\"1.42.4\",\"device\":\"enp3s0\","
      "\"connection\":{\"id\":\"Wired connection 1\",\"uuid\":\"" WIRED_UUID "\","
      "\"type\":\"802-3-ethernet\",\"default_ipv4\":true,\"default_ipv6\":false},"
      "\"ipv4_method\":\"auto\",\"ipv6_method\":\"auto\","
      "\"ipv4\":{\"address\":\"192.168.1.23\",\"prefix\":24,\"gateway\":\"192.168.1.1\","
      "\"dhcp\":true,\"lease_seconds\":86400,\"lease_expires\":1767225600,"
      "\"dhcp_server\":\"192.168.1.1\"},"
      "\"ipv6\":{\"addresses\":["
      "{\"address\":\"" GLOBAL6 "\",\"prefix\":64,\"kind\":\"global\"},"
      "{\"address\":\"" TEMPORARY6 "\",\"prefix\":64,\"kind\":\"temporary\"},"
      "{\"address\":\"" ULA6 "\",\"prefix\":64,\"kind\":\"ula\"},"
      "{\"address\":\"" LINK_LOCAL6 "\",\"prefix\":64,\"kind\":\"link-local\"}],"
      "\"gateway\":\"fe80::1\",\"default_route\":true,\"global\":true}}");
  wired_down (&wired);
}

/* A lease on a profile set to "manual" is not where the address came from; only ULA and
 * link-local IPv6, and no route: no global IPv6. */
static void
test_manual_without_global_ipv6 (void)
{
  Wired wired = { 0 };
  const char *ipv4[] = { "10.0.0.5/8", NULL };
  const char *ipv6[] = { ULA6 "/64", LINK_LOCAL6 "/64", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhNmFacts) facts = NULL;
  g_autofree char *ip4 = NULL;
  g_autofree char *ip6 = NULL;
  g_autofree char *dhcp = NULL;

  if (skip_without_dbusmock ())
    return;

  wired_up (&wired, "manual", "auto");
  ip4 = mock_add_ip_config (&wired.mock, 4, wired.device, wired.active, ipv4, NULL);
  dhcp = mock_add_dhcp4_config (&wired.mock, wired.device, wired.active, 600, 0, "bogus");
  ip6 = mock_add_ip_config (&wired.mock, 6, wired.device, wired.active, ipv6, NULL);

  facts = read_facts (PH_NM_DEFAULT_TIMEOUT_MS, NULL, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (facts->ipv4_address, ==, "10.0.0.5");
  g_assert_cmpuint (facts->ipv4_prefix, ==, 8);
  g_assert_null (facts->ipv4_gateway);
  g_assert_false (facts->ipv4_dhcp);
  g_assert_null (facts->dhcp_server);
  g_assert_cmpuint (facts->ipv6_addresses->len, ==, 2);
  g_assert_false (ph_nm_facts_has_global_ipv6 (facts));
  g_assert_null (facts->ipv6_gateway);
  g_assert_false (facts->ipv6_default_route);
  wired_down (&wired);
}

/* ---- the watch ---- */

typedef struct
{
  guint changed;
  gint64 last_changed_us;
} WatchCount;

static void
count_changed (PhNetworkWatch *watch, WatchCount *count)
{
  count->changed++;
  count->last_changed_us = g_get_monotonic_time ();
}

static gboolean
wait_until (gboolean (*done) (gpointer), gpointer data, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (!done (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return TRUE;
}

static gboolean
watch_ready (gpointer watch)
{
  return ph_network_watch_is_ready (watch);
}

static gboolean
changed_once (gpointer count)
{
  return ((WatchCount *) count)->changed >= 1;
}

static gboolean
changed_twice (gpointer count)
{
  return ((WatchCount *) count)->changed >= 2;
}

static gboolean
changed_thrice (gpointer count)
{
  return ((WatchCount *) count)->changed >= 3;
}

static void
set_ipv6 (Mock *mock, const char *path, const char *const *addresses, const char *gateway)
{
  mock_set_property (mock, path, NM_IP6_IFACE, "AddressData", mock_address_data (addresses));
  mock_set_property (mock, path, NM_IP6_IFACE, "RouteData", mock_route_data (6, gateway));
  mock_set_property (mock, path, NM_IP6_IFACE, "Gateway",
                     g_variant_new_string (gateway != NULL ? gateway : ""));
}

/* A burst of changes is one "changed", after the quiet period; NetworkManager stopping and
 * starting again are changes too. */
static void
test_watch_debounces (void)
{
  Wired wired = { 0 };
  const char *link_only[] = { LINK_LOCAL6 "/64", NULL };
  const char *with_global[] = { GLOBAL6 "/64", LINK_LOCAL6 "/64", NULL };
  g_autoptr (PhNetworkWatch) watch = NULL;
  g_autofree char *ip6 = NULL;
  WatchCount count = { 0 };
  gint64 burst_start;

  if (skip_without_dbusmock ())
    return;

  wired_up (&wired, "auto", "auto");
  ip6 = mock_add_ip_config (&wired.mock, 6, wired.device, wired.active, link_only, NULL);
  watch = ph_network_watch_new (300);
  g_signal_connect (watch, "changed", G_CALLBACK (count_changed), &count);
  g_assert_true (wait_until (watch_ready, watch, 5000));
  g_assert_true (ph_network_watch_get_running (watch));

  /* Nothing happens: nothing is said. */
  spin_main_context (600);
  g_assert_cmpuint (count.changed, ==, 0);

  burst_start = g_get_monotonic_time ();
  set_ipv6 (&wired.mock, ip6, with_global, "fe80::1");
  g_assert_true (wait_until (changed_once, &count, 3000));
  g_assert_cmpint (count.last_changed_us - burst_start, >=, 300 * 1000);
  spin_main_context (800);
  g_assert_cmpuint (count.changed, ==, 1);

  mock_stop_nm (&wired.mock);
  g_assert_true (wait_until (changed_twice, &count, 3000));
  g_assert_false (ph_network_watch_get_running (watch));

  mock_start (&wired.mock, "1.42.4");
  g_assert_true (wait_until (changed_thrice, &count, 5000));
  g_assert_true (ph_network_watch_get_running (watch));

  g_clear_object (&watch);
  spin_main_context (200);
  wired_down (&wired);
}

typedef struct
{
  Mock *mock;
  const char *path;
  guint toggles;
} Flapper;

static gboolean
flap (gpointer user_data)
{
  Flapper *flapper = user_data;
  const char *link_only[] = { LINK_LOCAL6 "/64", NULL };
  const char *with_global[] = { GLOBAL6 "/64", LINK_LOCAL6 "/64", NULL };

  flapper->toggles++;
  mock_set_property (flapper->mock, flapper->path, NM_IP6_IFACE, "AddressData",
                     mock_address_data (flapper->toggles % 2 ? with_global : link_only));
  return flapper->toggles < 30 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* A link that never settles is still reported, within four quiet periods. */
static void
test_watch_ceiling (void)
{
  Wired wired = { 0 };
  const char *link_only[] = { LINK_LOCAL6 "/64", NULL };
  g_autoptr (PhNetworkWatch) watch = NULL;
  g_autofree char *ip6 = NULL;
  WatchCount count = { 0 };
  Flapper flapper = { 0 };
  guint source;
  gint64 start;

  if (skip_without_dbusmock ())
    return;

  wired_up (&wired, "auto", "auto");
  ip6 = mock_add_ip_config (&wired.mock, 6, wired.device, wired.active, link_only, NULL);
  watch = ph_network_watch_new (300);
  g_signal_connect (watch, "changed", G_CALLBACK (count_changed), &count);
  g_assert_true (wait_until (watch_ready, watch, 5000));

  flapper.mock = &wired.mock;
  flapper.path = ip6;
  start = g_get_monotonic_time ();
  source = g_timeout_add (100, flap, &flapper);
  g_assert_true (wait_until (changed_once, &count, 3000));
  g_assert_cmpint (count.last_changed_us - start, <, 1600 * 1000);
  if (flapper.toggles < 30)
    g_source_remove (source);

  g_clear_object (&watch);
  spin_main_context (200);
  wired_down (&wired);
}

/* Dropped before libnm answers: gone at once, no callback into freed memory. */
static void
test_watch_dropped_early (void)
{
  PhNetworkWatch *watch;

  if (skip_without_bus ())
    return;

  watch = ph_network_watch_new (0);
  g_object_unref (watch);
  spin_main_context (300);
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
  g_test_add_func ("/nm/addresses-and-lease", test_addresses_and_lease);
  g_test_add_func ("/nm/manual-without-global-ipv6", test_manual_without_global_ipv6);
  g_test_add_func ("/nm/watch/debounces", test_watch_debounces);
  g_test_add_func ("/nm/watch/ceiling", test_watch_ceiling);
  g_test_add_func ("/nm/watch/dropped-early", test_watch_dropped_early);

  ret = g_test_run ();
  test_bus_down ();
  return ret;
}
