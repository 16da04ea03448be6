/* test-wizard.c: the wizard's roads, end to end, as a person clicks them — from launch to the
 * result, through the fix chooser to a fix, and the confirmation — against recorded facts
 * (tests/ui/recorded/<road>, replayed by core) or, under tests/netns, a live check. Every page
 * shown is saved as a PNG; no main-loop dispatch may take longer than 50 ms while a check runs.
 *
 * One road per run: "-p /wizard/<road>" (meson runs each as its own test, on its own X server and
 * session bus). The system bus is always a private one (ph_ui_harness_system_bus_up): the IPv6
 * road turns IPv6 on through python3-dbusmock's NetworkManager and polkitd there, as
 * tests/unit/test-ipv6-fix.c does, and no road can reach the machine's NetworkManager.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdarg.h>
#include <string.h>

#include "fake-igd.h"
#include "ph-ui-harness.h"

/* dbusmock's NetworkManager and polkitd, as the unit tests drive them (on our private system
 * bus: ph_ui_harness_system_bus_up) */
#include "../unit/nm-mock.h"

#define REACHABLE_HEADLINE "Your node is reachable"

/* The road's recorded facts, or a skip (and NULL) while they are not there. A live run (netns)
 * names no directory: PORTHOLE_UI_LIVE=1. */
static gboolean
road_source (const char *road, char **recorded_dir)
{
  if (g_strcmp0 (g_getenv ("PORTHOLE_UI_LIVE"), "1") == 0)
    {
      *recorded_dir = NULL;
      return TRUE;
    }
  *recorded_dir = ph_ui_harness_dup_recorded_dir (road);
  if (*recorded_dir == NULL)
    {
      g_autofree char *reason = g_strdup_printf ("no recorded facts in tests/ui/recorded/%s", road);
      g_test_skip (reason);
      return FALSE;
    }
  return TRUE;
}

/* The peers a live run asks (the netns servers), from PORTHOLE_UI_PEERS (space separated). */
static char **
live_peers (void)
{
  const char *peers = g_getenv ("PORTHOLE_UI_PEERS");

  return peers && *peers ? g_strsplit (peers, " ", -1) : NULL;
}

static PhUiHarness *
launch (const char *road, const char *recorded_dir)
{
  g_auto (GStrv) peers = live_peers ();
  PhUiHarness *h = ph_ui_harness_new (road, recorded_dir, (const char *const *) peers);

  /* the window checks at once: the check page, then the result. Timed from its first frame on,
   * while the probes' answers come in. */
  ph_ui_harness_begin_check (h);
  ph_ui_harness_wait_page (h, "result", ph_ui_harness_page_timeout ());
  ph_ui_harness_end_check (h);
  ph_ui_harness_require (h, "result-headline", 1000);
  ph_ui_harness_require (h, "result-ipv4", 1000);
  ph_ui_harness_require (h, "result-ipv6", 1000);
  return h;
}

static void
to_fixes (PhUiHarness *h)
{
  ph_ui_harness_click (h, "result-fix");
  ph_ui_harness_wait_page (h, "fixes", ph_ui_harness_page_timeout ());
}

/* From the result, through the fix chooser, to the road's page. */
static void
take_road (PhUiHarness *h, const char *road)
{
  g_autofree char *row = g_strdup_printf ("road-%s", road);

  to_fixes (h);
  ph_ui_harness_click (h, row);
  ph_ui_harness_wait_page (h, road, ph_ui_harness_page_timeout ());
}

typedef struct
{
  PhUiHarness *h;
  const char *name;
  const char *needle;
} TextWait;

static gboolean
text_shown (gpointer data)
{
  TextWait *wait = data;
  GtkWidget *widget = ph_ui_harness_find (wait->h, wait->name);
  g_autofree char *text = NULL;

  if (widget == NULL || !gtk_widget_get_mapped (widget))
    return FALSE;
  text = ph_ui_harness_dup_all_text (widget);
  return strstr (text, wait->needle) != NULL;
}

/* The confirmation: a check on the confirm page, then its headline. */
static void
confirm_reachable (PhUiHarness *h, const char *check_button)
{
  TextWait wait = { h, "confirm-headline", REACHABLE_HEADLINE };

  ph_ui_harness_begin_check (h);
  ph_ui_harness_click (h, check_button);
  ph_ui_harness_wait_page (h, "confirm", ph_ui_harness_page_timeout ());
  if (!ph_ui_harness_wait_until (h, text_shown, &wait, ph_ui_harness_page_timeout ()))
    {
      GtkWidget *headline = ph_ui_harness_find (h, "confirm-headline");
      g_autofree char *text = headline ? ph_ui_harness_dup_all_text (headline) : NULL;
      g_error ("the confirmation says “%s”, not “%s”", text, REACHABLE_HEADLINE);
    }
  ph_ui_harness_end_check (h);
  /* settled, with the addresses and how */
  ph_ui_harness_settle (h);
  g_free (ph_ui_harness_screenshot (h, "confirm-done"));
  /* success: the way back to the result (confirm-next is the next road, after a failure) */
  ph_ui_harness_require (h, "confirm-done", 1000);
}

/* ---- the roads ---- */

static void
test_reachable (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (PhUiHarness) h = NULL;

  if (!road_source ("reachable", &dir))
    return;
  h = launch ("reachable", dir);
  ph_ui_harness_assert_text_contains (h, "result-headline", "can reach your node");
  ph_ui_harness_assert_text_contains (h, "result-ipv4", "Reachable");
}

static void
test_upnp (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (PhUiHarness) h = NULL;
  g_autoptr (FakeIgd) igd = NULL;
  g_autofree char *url = NULL;

  if (!road_source ("upnp", &dir))
    return;
  if (dir != NULL)
    {
      /* the recorded router is this one: Apply reaches it */
      igd = fake_igd_start (NULL, NULL, NULL);
      url = fake_igd_dup_desc_url (igd);
      g_setenv ("PORTHOLE_TEST_IGD_URL", url, TRUE);
    }
  h = launch ("upnp", dir);
  ph_ui_harness_assert_text_contains (h, "result-headline", "cannot reach your node");
  take_road (h, "upnp");
  ph_ui_harness_require (h, "upnp-router", 1000);

  ph_ui_harness_click (h, "upnp-apply");
  /* applied: Undo is offered, and the router holds TCP and UDP */
  ph_ui_harness_require (h, "upnp-undo", ph_ui_harness_page_timeout ());
  g_free (ph_ui_harness_screenshot (h, "upnp-applied"));
  if (igd != NULL)
    {
      g_autofree char *calls = fake_igd_dup_calls (igd);

      guint mappings = fake_igd_count (igd);
      g_test_message ("the router was asked: %s", calls);
      g_assert_cmpuint (mappings, ==, 2);
      g_assert_nonnull (strstr (calls, "ADD TCP"));
      g_assert_nonnull (strstr (calls, "ADD UDP"));
    }
  confirm_reachable (h, "upnp-check");
}

static void
test_manual (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (PhUiHarness) h = NULL;
  guint copied = 0;

  if (!road_source ("manual", &dir))
    return;
  h = launch ("manual", dir);
  ph_ui_harness_assert_text_contains (h, "result-headline", "cannot reach your node");
  take_road (h, "forward");
  ph_ui_harness_require (h, "forward-copy-0", 1000);

  /* each copy button puts the value its row shows on the clipboard */
  for (guint i = 0;; i++)
    {
      g_autofree char *name = g_strdup_printf ("forward-copy-%u", i);
      GtkWidget *button = ph_ui_harness_find (h, name);
      GtkWidget *row;
      g_autofree char *clip = NULL;
      g_autofree char *row_text = NULL;

      if (button == NULL)
        break;
      ph_ui_harness_click (h, name);
      clip = ph_ui_harness_dup_clipboard (h);
      row = gtk_widget_get_ancestor (button, GTK_TYPE_LIST_BOX_ROW);
      g_assert_nonnull (row);
      row_text = ph_ui_harness_dup_all_text (row);
      g_test_message ("%s: “%s” in “%s”", name, clip, row_text);
      g_assert_nonnull (clip);
      g_assert_cmpstr (clip, !=, "");
      g_assert_nonnull (strstr (row_text, clip));
      copied++;
    }
  g_assert_cmpuint (copied, >=, 3); /* at least port, protocol and the computer's address */
  ph_ui_harness_require (h, "forward-open-router", 1000);
  /* live: the person types the values into the router now (PORTHOLE_UI_DO_FORWARD does it) */
  if (g_getenv ("PORTHOLE_UI_DO_FORWARD") != NULL)
    {
      g_autoptr (GError) error = NULL;
      int status = 0;

      g_assert_true (g_spawn_command_line_sync (g_getenv ("PORTHOLE_UI_DO_FORWARD"), NULL, NULL,
                                                &status, &error));
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, &error));
      g_assert_no_error (error);
    }
  confirm_reachable (h, "forward-check");
}

/* Asserts the window shows each of the NULL-terminated texts. */
static void
assert_shown (PhUiHarness *h, const char *first, ...)
{
  g_autofree char *text = ph_ui_harness_dup_visible_text (h);
  va_list args;

  g_test_message ("page %s: %s", ph_ui_harness_get_page (h), text);
  va_start (args, first);
  for (const char *needle = first; needle != NULL; needle = va_arg (args, const char *))
    if (strstr (text, needle) == NULL)
      g_error ("page %s does not say “%s”", ph_ui_harness_get_page (h), needle);
  va_end (args);
}

/* Where the first widget called name comes in the window, in the order a person reads (and Tab
 * goes); -1 when there is none. */
static int
reading_position (GtkWidget *widget, const char *name, int *counter)
{
  int here = (*counter)++;

  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0 && gtk_widget_get_mapped (widget))
    return here;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    {
      int found = reading_position (child, name, counter);
      if (found >= 0)
        return found;
    }
  return -1;
}

static int
position_of (PhUiHarness *h, const char *name)
{
  int counter = 0;

  return reading_position (GTK_WIDGET (ph_ui_harness_get_window (h)), name, &counter);
}

/* ---- the IPv6 road: NetworkManager mocked ---- */

/* The computer of tests/ui/recorded/ipv6: "Home WiFi" on wlp2s0, IPv6 off, a link-local
 * address only; once IPv6 is on, the router's announcement brings check-2.json's address. */
#define HOME_WIFI_ID "Home WiFi"
#define HOME_WIFI_UUID "6f0c3a8e-2b71-4c1e-9d55-0e7b5a1f4c22"
#define HOME_WIFI_GLOBAL6 "2a01:4f8:c17:1a2b::23"
#define HOME_WIFI_LINK_LOCAL6 "fe80::3e52:82ff:fe4e:7a10"

typedef struct
{
  Mock mock;
  char *device;
  char *connection;
  char *active;
  char *ip6;
} MockComputer;

static const char *const nm_everything[]
    = { PERMISSION_NETWORK_CONTROL, PERMISSION_MODIFY_SYSTEM, PERMISSION_MODIFY_OWN, NULL };
static const char *const nm_nothing[] = { NULL };

/* dbusmock is there (Debian's python3-dbusmock), and the private system bus; else why not. */
static gboolean
can_mock_network_manager (const char **why)
{
  if (ph_ui_harness_get_system_bus_address () == NULL)
    *why = "dbus-daemon is not installed (apt-get install dbus)";
  else if (!python_has_dbusmock ())
    *why = DEBIAN_PYTHON " lacks dbusmock (apt-get install python3-dbusmock)";
  else
    *why = NULL;
  return *why == NULL;
}

/* NetworkManager with the recorded computer's connection, IPv6 disabled; polkit allows
 * `allowed` (NetworkManager asks it, as the real one does). Before the window starts: libnm
 * learns of the objects when its client starts. */
/* CPU time (clock ticks) a process has used so far; 0 when it cannot be read. */
static guint64
process_cpu_ticks (GSubprocess *process)
{
  const char *pid = process ? g_subprocess_get_identifier (process) : NULL;
  g_autofree char *path = NULL;
  g_autofree char *stat = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after_name;

  if (pid == NULL)
    return 0;
  path = g_strdup_printf ("/proc/%s/stat", pid);
  if (!g_file_get_contents (path, &stat, NULL, NULL) || (after_name = strrchr (stat, ')')) == NULL)
    return 0;
  /* after "pid (comm)": state is field 3, utime 14 and stime 15 */
  fields = g_strsplit (after_name + 2, " ", 16);
  if (g_strv_length (fields) < 14)
    return 0;
  return g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10);
}

/* The mock is Python: it goes on using the CPU for a while after its last answer. The dispatch
 * times the test asserts are wall-clock times on a machine of two cores, so let it go quiet
 * before the window starts its check (at most a few seconds). */
static void
mock_settle (MockComputer *c)
{
  guint64 last = G_MAXUINT64;

  for (guint i = 0; i < 50; i++)
    {
      guint64 now = process_cpu_ticks (c->mock.process) + process_cpu_ticks (c->mock.polkit);

      if (now == last)
        return;
      last = now;
      g_usleep (100 * 1000);
    }
}

static void
mock_computer_up (MockComputer *c, const char *const *allowed)
{
  const char *ipv4[] = { "192.168.1.23/24", NULL };
  const char *ipv6[] = { HOME_WIFI_LINK_LOCAL6 "/64", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *ip4 = NULL;
  g_autofree char *announce = NULL;

  c->mock.bus = g_dbus_connection_new_for_address_sync (
      ph_ui_harness_get_system_bus_address (),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  mock_start_polkit (&c->mock);
  mock_polkit_allow (&c->mock, allowed);
  mock_start (&c->mock, "1.42.4");
  c->device = mock_call_path (
      &c->mock, MOCK_MAIN_PATH, MOCK_IFACE, "AddWiFiDevice",
      g_variant_new ("(ssi)", "mock_WiFi1", "wlp2s0", DEVICE_STATE_ACTIVATED), "(s)");
  c->connection = mock_call_path (
      &c->mock, NM_SETTINGS_PATH, "org.freedesktop.NetworkManager.Settings", "AddConnection",
      g_variant_new_parsed ("({'connection': {'id': <%s>, 'uuid': <%s>,"
                            " 'type': <'802-11-wireless'>},"
                            " '802-11-wireless': {'ssid': <b'Home WiFi'>,"
                            " 'mode': <'infrastructure'>},"
                            " 'ipv4': {'method': <'auto'>}, 'ipv6': {'method': <'disabled'>}},)",
                            HOME_WIFI_ID, HOME_WIFI_UUID),
      "(o)");
  c->active = mock_activate (&c->mock, c->device, c->connection, "wifi");
  mock_set_primary (&c->mock, c->active);
  ip4 = mock_add_ip_config (&c->mock, 4, c->device, c->active, ipv4, "192.168.1.1");
  c->ip6 = mock_add_ip_config (&c->mock, 6, c->device, c->active, ipv6, NULL);
  mock_use_polkit (&c->mock, NULL);
  mock_add_update2 (&c->mock, c->connection);
  announce = mock_announce_py (c->ip6, HOME_WIFI_GLOBAL6, HOME_WIFI_LINK_LOCAL6);
  mock_add_reapply (&c->mock, c->device, announce);
  mock_settle (c);
}

static void
mock_computer_down (MockComputer *c)
{
  mock_stop (&c->mock);
  g_clear_pointer (&c->device, g_free);
  g_clear_pointer (&c->connection, g_free);
  g_clear_pointer (&c->active, g_free);
  g_clear_pointer (&c->ip6, g_free);
}

/* The IPv6 method of the recorded connection, as NetworkManager would hand it out now. */
static char *
mock_ipv6_method (MockComputer *c)
{
  return mock_get_setting (&c->mock, c->connection, "ipv6", "method");
}

typedef struct
{
  PhUiHarness *h;
  const char *needle;
} VisibleWait;

static gboolean
visible_text_shown (gpointer data)
{
  VisibleWait *wait = data;
  g_autofree char *text = ph_ui_harness_dup_visible_text (wait->h);

  return strstr (text, wait->needle) != NULL;
}

static gboolean
is_shown (PhUiHarness *h, const char *name)
{
  GtkWidget *widget = ph_ui_harness_find (h, name);

  return widget != NULL && gtk_widget_get_mapped (widget);
}

/* Waits until the window shows needle (fails the test at the deadline). */
static void
wait_for_text (PhUiHarness *h, const char *needle)
{
  VisibleWait wait = { h, needle };

  if (!ph_ui_harness_wait_until (h, visible_text_shown, &wait, ph_ui_harness_page_timeout ()))
    {
      g_autofree char *text = ph_ui_harness_dup_visible_text (h);
      g_error ("page %s does not say “%s” within %u ms; it says:\n%s", ph_ui_harness_get_page (h),
               needle, ph_ui_harness_page_timeout (), text);
    }
}

/* The IPv6 page's outcome card, the one whose title says title, scrolled into view and saved as
 * <road>-<what>.png. */
static void
screenshot_outcome (PhUiHarness *h, const char *title, const char *what)
{
  GtkWidget *label = ph_ui_harness_find_label (h, title);

  g_assert_nonnull (label);
  /* laid out first: the card has just been shown */
  ph_ui_harness_settle (h);
  /* the card: the title's row, and the card around it */
  ph_ui_harness_scroll_into_view (h, gtk_widget_get_parent (gtk_widget_get_parent (label)));
  ph_ui_harness_settle (h);
  g_free (ph_ui_harness_screenshot (h, what));
}

/* From launch to the IPv6 page, whose facts say IPv6 is off and what the button would do. */
static PhUiHarness *
to_ipv6_page (const char *road, const char *dir)
{
  PhUiHarness *h = launch (road, dir);

  ph_ui_harness_assert_text_contains (h, "result-headline", "cannot reach your node");
  take_road (h, "ipv6");
  assert_shown (h, "IPv6 setting", "Off", "Porthole will set the IPv6 method", "“" HOME_WIFI_ID "”",
                NULL);
  ph_ui_harness_assert_text_contains (h, "ipv6-enable", "Turn On IPv6");
  return h;
}

/* The road end to end: IPv4 unreachable, IPv6 off (check-1.json) → result → fixes → the IPv6 page
 * → "Turn On IPv6": NetworkManager (dbusmock's) really changes the connection to ipv6.method
 * auto and reapplies it, the router's announcement brings a global address, the page says so →
 * "Check Again" → reachable over IPv6 (check-2.json). */
static void
test_ipv6 (void)
{
  g_autofree char *dir = NULL;
  MockComputer c = { 0 };
  PhUiHarness *h;
  g_autofree char *method = NULL;
  g_autofree char *ipv4_method = NULL;
  const char *why;

  if (!road_source ("ipv6", &dir))
    return;
  if (!can_mock_network_manager (&why))
    {
      /* the page's facts at least; the button is not pressed without a NetworkManager to
       * change (never the machine's) */
      h = to_ipv6_page ("ipv6", dir);
      ph_ui_harness_free (h);
      g_test_skip (why);
      return;
    }

  /* first, polkit says no: the same road in a process of its own (its own window, check count
   * and NetworkManager). Before this process's window: the application stays registered on the
   * session bus after its harness is freed, and the subprocess could not register. A failure
   * there is reported, and this road goes on. */
  g_test_trap_subprocess ("/wizard/ipv6/denied", 90 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  if (!g_test_trap_has_passed ())
    g_test_fail_printf ("/wizard/ipv6/denied failed (its output is above)");

  mock_computer_up (&c, nm_everything);
  h = to_ipv6_page ("ipv6", dir);

  ph_ui_harness_click (h, "ipv6-enable");
  /* the change's outcome, in words, and its Undo */
  wait_for_text (h, "IPv6 is on, and the network offers it");
  ph_ui_harness_require (h, "ipv6-undo", ph_ui_harness_page_timeout ());
  assert_shown (h,
                "IPv6 is on for “" HOME_WIFI_ID
                "”: this computer now has the global address " HOME_WIFI_GLOBAL6
                " and a route to the IPv6 internet.",
                "Check again to see whether your node is reachable over IPv6.", NULL);
  g_assert_false (is_shown (h, "ipv6-enable"));
  screenshot_outcome (h, "IPv6 is on, and the network offers it", "ipv6-enabled");

  /* and on NetworkManager's side: the profile says auto now, changed once and reapplied once;
   * the rest of it as it was */
  method = mock_ipv6_method (&c);
  g_assert_cmpstr (method, ==, "auto");
  ipv4_method = mock_get_setting (&c.mock, c.connection, "ipv4", "method");
  g_assert_cmpstr (ipv4_method, ==, "auto");
  g_assert_cmpuint (mock_count_calls (&c.mock, c.connection, "Update2"), ==, 1);
  g_assert_cmpuint (mock_count_calls (&c.mock, c.device, "Reapply"), ==, 1);

  confirm_reachable (h, "ipv6-check");
  ph_ui_harness_free (h);
  mock_computer_down (&c);
}

/* polkit refuses every action: the page explains it in words, and nothing is changed. Run as a
 * subprocess of /wizard/ipv6. */
static void
test_ipv6_denied (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *state = NULL;
  MockComputer c = { 0 };
  PhUiHarness *h;
  g_autofree char *method = NULL;
  const char *why;

  if (!g_test_subprocess ())
    {
      g_test_skip ("runs as a subprocess of /wizard/ipv6");
      return;
    }
  if (!road_source ("ipv6", &dir))
    return;
  if (!can_mock_network_manager (&why))
    {
      g_test_skip (why);
      return;
    }
  /* a change log and history of its own: the parent's road left its change in theirs */
  state = g_build_filename (g_get_tmp_dir (), "porthole-ui-denied-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (state));
  g_setenv ("XDG_STATE_HOME", state, TRUE);
  /* the refusal is what this test is about; /wizard/ipv6 times the dispatches */
  g_setenv ("PORTHOLE_UI_MAX_DISPATCH_MS", "60000", TRUE);

  mock_computer_up (&c, nm_nothing);
  h = to_ipv6_page ("ipv6-denied", dir);
  ph_ui_harness_click (h, "ipv6-enable");
  wait_for_text (h, "Your administrator’s policy did not allow this change");
  assert_shown (h, "may not change the network settings", "Ask an administrator", NULL);
  /* policy's plain "no": a password would not help, and the page does not suggest one */
  {
    g_autofree char *text = ph_ui_harness_dup_visible_text (h);
    if (strstr (text, "enter your password") != NULL)
      g_error ("the refusal by policy suggests a password: %s", text);
  }
  screenshot_outcome (h, "Your administrator’s policy did not allow this change", "ipv6-refused");
  /* nothing changed, nothing to undo; the button is still there to try again */
  method = mock_ipv6_method (&c);
  g_assert_cmpstr (method, ==, "disabled");
  g_assert_cmpuint (mock_count_calls (&c.mock, c.connection, "Update2"), ==, 0);
  g_assert_cmpuint (mock_count_calls (&c.mock, c.device, "Reapply"), ==, 0);
  g_assert_false (is_shown (h, "ipv6-undo"));
  ph_ui_harness_require (h, "ipv6-enable", 1000);
  ph_ui_harness_free (h);
  mock_computer_down (&c);
}

static void
test_cgnat (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (PhUiHarness) h = NULL;
  int provider;

  if (!road_source ("cgnat", &dir))
    return;
  h = launch ("cgnat", dir);
  to_fixes (h);
  /* forwarding cannot help: the honest page comes before any forwarding road */
  provider = position_of (h, "road-provider");
  g_assert_cmpint (provider, >=, 0);
  for (guint i = 0; i < 2; i++)
    {
      const char *road = i == 0 ? "road-upnp" : "road-forward";
      int position = position_of (h, road);

      if (position >= 0)
        g_assert_cmpint (provider, <, position);
    }
  ph_ui_harness_click (h, "road-provider");
  ph_ui_harness_wait_page (h, "provider", ph_ui_harness_page_timeout ());
  assert_shown (h, "Forwarding Cannot Help Here", "IPv6", NULL);
}

static gboolean
is_node_view (GtkWidget *widget)
{
  GType type = g_type_from_name ("PhNodeView");

  return type != 0 && g_type_is_a (G_OBJECT_TYPE (widget), type);
}

static GtkWidget *
find_node_view (GtkWidget *widget)
{
  if (is_node_view (widget) && gtk_widget_get_mapped (widget))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_node_view (child);
      if (found)
        return found;
    }
  return NULL;
}

static void
test_kubo (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (PhUiHarness) h = NULL;
  GtkWidget *view;
  g_autofree char *text = NULL;

  if (!road_source ("kubo", &dir))
    return;
  h = launch ("kubo", dir);
  /* kubo's own view beside ours, on the result page */
  view = find_node_view (GTK_WIDGET (ph_ui_harness_get_window (h)));
  g_assert_nonnull (view);
  text = ph_ui_harness_dup_all_text (view);
  g_test_message ("node view: %s", text);
  g_assert_cmpstr (text, !=, "");
}

/* ---- German ---- */

/* The result page of the upnp road, its visible texts written to $PORTHOLE_UI_TEXTS one a line
 * (escaped), in whatever language the environment says. Run as a subprocess of /wizard/german. */
static void
test_german_render (void)
{
  const char *out = g_getenv ("PORTHOLE_UI_TEXTS");
  const char *language = g_getenv ("LANGUAGE");
  g_autofree char *dir = ph_ui_harness_dup_recorded_dir ("upnp");
  g_autofree char *road = g_strdup_printf ("result-%s", language && *language ? language : "en");
  g_autoptr (PhUiHarness) h = NULL;
  g_autoptr (GPtrArray) texts = NULL;
  g_autoptr (GString) lines = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  if (!g_test_subprocess ())
    {
      g_test_skip ("runs as a subprocess of /wizard/german");
      return;
    }
  g_assert_nonnull (out);
  g_assert_nonnull (dir);
  /* the words are what this test is about; the roads' tests time the dispatches */
  g_setenv ("PORTHOLE_UI_MAX_DISPATCH_MS", "60000", TRUE);
  h = launch (road, dir);
  texts = ph_ui_harness_collect_visible_texts (h);
  for (guint i = 0; i < texts->len; i++)
    {
      g_autofree char *escaped = g_strescape (g_ptr_array_index (texts, i), "");
      g_string_append_printf (lines, "%s\n", escaped);
    }
  g_assert_true (g_file_set_contents (out, lines->str, lines->len, &error));
  g_assert_no_error (error);
}

static GPtrArray *
read_texts (const char *path)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (lines[i][0] != '\0')
      g_ptr_array_add (texts, g_strcompress (lines[i]));
  return texts;
}

static GPtrArray *
render_in (const char *language, const char *texts_path)
{
  if (language)
    g_setenv ("LANGUAGE", language, TRUE);
  else
    g_unsetenv ("LANGUAGE");
  /* C.UTF-8 is always there (no locales package needed), and unlike C it lets LANGUAGE choose
   * the catalog (glibc ignores LANGUAGE only in the "C" locale) */
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_setenv ("PORTHOLE_UI_TEXTS", texts_path, TRUE);
  g_test_trap_subprocess ("/wizard/german/render", 60 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  return read_texts (texts_path);
}

static void
string_free (GString *string)
{
  g_string_free (string, TRUE);
}

/* msgid → msgstr of a .po file (the plain entries: no plurals, no context needed here), with
 * mnemonic underscores taken out as labels show them. */
static GHashTable *
read_po (const char *path)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  GHashTable *catalog = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GString *msgid = NULL;
  GString *msgstr = NULL;
  GString *current = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0;; i++)
    {
      const char *line = lines[i];
      gboolean starts_entry = line == NULL || g_str_has_prefix (line, "msgid ")
                              || g_str_has_prefix (line, "msgctxt ");

      if (starts_entry && msgid && msgstr && msgid->len > 0)
        {
          g_autofree char *id = g_strcompress (msgid->str);
          g_autofree char *str = g_strcompress (msgstr->str);
          g_autoptr (GString) plain = g_string_new (id);

          g_string_replace (plain, "_", "", 0);
          g_hash_table_replace (catalog, g_string_free (g_steal_pointer (&plain), FALSE),
                                g_steal_pointer (&str));
        }
      if (line == NULL)
        break;
      if (starts_entry)
        {
          g_clear_pointer (&msgid, string_free);
          g_clear_pointer (&msgstr, string_free);
          current = NULL;
        }
      if (g_str_has_prefix (line, "msgid "))
        current = msgid = g_string_new (NULL);
      else if (g_str_has_prefix (line, "msgstr "))
        current = msgstr = g_string_new (NULL);
      else if (g_str_has_prefix (line, "msgid_plural ") || g_str_has_prefix (line, "msgstr[")
               || g_str_has_prefix (line, "msgctxt "))
        current = NULL;
      else if (line[0] != '"')
        continue;
      if (current != NULL)
        {
          const char *open = strchr (line, '"');
          const char *close = strrchr (line, '"');

          if (open && close > open)
            g_string_append_len (current, open + 1, close - open - 1);
        }
    }
  g_clear_pointer (&msgid, string_free);
  g_clear_pointer (&msgstr, string_free);
  return catalog;
}

/* Words in lowercase letters: a UI text. Acronyms, addresses and numbers ("IPv4", "UDP",
 * "192.168.1.23", "4001") read the same in German. */
static gboolean
has_words (const char *text)
{
  g_autoptr (GRegex) word = g_regex_new ("[a-z]{2,}", 0, 0, NULL);

  return g_regex_match (word, text, 0, NULL);
}

/* All the recorded facts of a road, as text: names and values from there (a router's name, a
 * connection's) are data, not strings to translate. */
static char *
read_recorded (const char *dir)
{
  g_autoptr (GString) all = g_string_new (NULL);
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;

      if (g_str_has_suffix (name, ".json") && g_file_get_contents (path, &contents, NULL, NULL))
        g_string_append (all, contents);
    }
  return g_string_free (g_steal_pointer (&all), FALSE);
}

static void
test_german (void)
{
  const char *srcdir = g_getenv ("PORTHOLE_SRCDIR");
  const char *localedir = g_getenv ("PORTHOLE_LOCALEDIR");
  g_autofree char *po = NULL;
  g_autofree char *mo = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *en_path = NULL;
  g_autofree char *de_path = NULL;
  g_autofree char *upnp = ph_ui_harness_dup_recorded_dir ("upnp");
  g_autoptr (GPtrArray) english = NULL;
  g_autoptr (GPtrArray) german = NULL;
  g_autoptr (GHashTable) catalog = NULL;
  g_autoptr (GHashTable) english_set = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GString) untranslated = g_string_new (NULL);
  g_autofree char *facts = NULL;
  guint translated = 0;

  g_assert_nonnull (srcdir);
  po = g_build_filename (srcdir, "po", "de.po", NULL);
  if (!g_file_test (po, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("po/de.po does not exist yet");
      return;
    }
  if (upnp == NULL)
    {
      g_test_skip ("no recorded facts in tests/ui/recorded/upnp");
      return;
    }
  g_assert_nonnull (localedir);
  mo = g_build_filename (localedir, "de", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
  if (!g_file_test (mo, G_FILE_TEST_EXISTS))
    g_error ("po/de.po exists but %s was not built: is “de” in po/LINGUAS?", mo);

  tmp = g_dir_make_tmp ("porthole-german-XXXXXX", NULL);
  en_path = g_build_filename (tmp, "en.txt", NULL);
  de_path = g_build_filename (tmp, "de.txt", NULL);
  english = render_in (NULL, en_path);
  german = render_in ("de", de_path);
  catalog = read_po (po);
  facts = read_recorded (upnp);
  for (guint i = 0; i < english->len; i++)
    g_hash_table_add (english_set, g_ptr_array_index (english, i));

  for (guint i = 0; i < german->len; i++)
    {
      const char *text = g_ptr_array_index (german, i);
      const char *msgstr = g_hash_table_lookup (catalog, text);

      if (!g_hash_table_contains (english_set, text))
        {
          translated++;
          continue;
        }
      /* the same in both languages: fine when the translator kept it (msgstr = msgid), when it
       * is data from the facts, or has no words (acronyms, addresses, numbers) */
      if ((msgstr != NULL && g_str_equal (msgstr, text)) || strstr (facts, text) != NULL
          || !has_words (text))
        continue;
      g_string_append_printf (untranslated, "\n  “%s”", text);
    }
  g_test_message ("%u of %u visible texts differ from the English run", translated, german->len);
  g_unlink (en_path);
  g_unlink (de_path);
  g_rmdir (tmp);
  if (untranslated->len > 0)
    g_error ("untranslated on the German result page:%s", untranslated->str);
  g_assert_cmpuint (translated, >, 0);
}

int
main (int argc, char **argv)
{
  int ret;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE,
                  g_getenv ("PORTHOLE_LOCALEDIR") ? g_getenv ("PORTHOLE_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_test_init (&argc, &argv, NULL);
  /* before anything connects to the system bus: no road may reach the machine's NetworkManager
   * (live runs under tests/netns read the namespace's own facts) */
  if (g_strcmp0 (g_getenv ("PORTHOLE_UI_LIVE"), "1") != 0)
    ph_ui_harness_system_bus_up ();
  if (!gtk_init_check ())
    {
      g_printerr ("no display: the ui tests run under xvfb-run\n");
      return 77;
    }

  g_test_add_func ("/wizard/reachable", test_reachable);
  g_test_add_func ("/wizard/upnp", test_upnp);
  g_test_add_func ("/wizard/manual", test_manual);
  g_test_add_func ("/wizard/ipv6", test_ipv6);
  g_test_add_func ("/wizard/ipv6/denied", test_ipv6_denied);
  g_test_add_func ("/wizard/cgnat", test_cgnat);
  g_test_add_func ("/wizard/kubo", test_kubo);
  g_test_add_func ("/wizard/german", test_german);
  g_test_add_func ("/wizard/german/render", test_german_render);
  ret = g_test_run ();
  ph_ui_harness_system_bus_down ();
  return ret;
}
