/* test-ui-pages.c: the wizard's fix pages (ipv6, upnp, forward, provider) on their own
 *
 * Builds each page around a diagnosis made by hand and checks what the tests of the whole wizard
 * rely on: the widget names, which buttons each state shows, the signals, and the UPnP page's
 * Apply and Undo against the fake IGD on loopback (success, and a 718 conflict explained in
 * words). Needs a display: skipped without one (run it under xvfb-run).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <string.h>
#include <sys/socket.h>

#include "fake-igd.h"
#include "ui/ph-forward-page.h"
#include "ui/ph-ipv6-page.h"
#include "ui/ph-provider-page.h"
#include "ui/ph-upnp-page.h"

/* From the gresource compiled with --manual-register (src/meson.build). */
void
porthole_register_resource (void);

/* ---- diagnoses made by hand ---- */

static PhLanFacts *
lan_new (gboolean gateway)
{
  PhLanFacts *lan = ph_lan_facts_new ();
  PhLanAddress *a = g_new0 (PhLanAddress, 1);

  a->ifname = g_strdup ("wlp2s0");
  a->ifindex = 2;
  a->family = AF_INET;
  a->address = g_strdup ("192.168.1.20");
  a->prefix = 24;
  a->scope = PH_IP_SCOPE_PRIVATE;
  a->dynamic = TRUE;
  g_ptr_array_add (lan->addresses, a);
  if (gateway)
    {
      PhLanRoute *r = g_new0 (PhLanRoute, 1);

      r->ifname = g_strdup ("wlp2s0");
      r->ifindex = 2;
      r->family = AF_INET;
      r->gateway = g_strdup ("192.168.1.1");
      g_ptr_array_add (lan->gateways, r);
    }
  return lan;
}

static PhNmFacts *
nm_new (gboolean running, const char *ipv6_method)
{
  PhNmFacts *nm = ph_nm_facts_new ();

  nm->running = running;
  if (!running)
    return nm;
  nm->device = g_strdup ("wlp2s0");
  nm->connection_id = g_strdup ("Home Wi-Fi");
  nm->connection_uuid = g_strdup ("6f1c1c6e-0000-4000-8000-000000000001");
  nm->ipv4_method = g_strdup ("auto");
  nm->ipv6_method = g_strdup (ipv6_method);
  nm->ipv4_address = g_strdup ("192.168.1.20");
  nm->ipv4_prefix = 24;
  nm->ipv4_gateway = g_strdup ("192.168.1.1");
  nm->ipv4_dhcp = TRUE;
  return nm;
}

static PhUpnpFacts *
upnp_new (const char *desc_url, const char *external, PhUpnpExternalScope scope)
{
  PhUpnpFacts *u = ph_upnp_facts_new ();

  u->found = TRUE;
  u->router = g_new0 (PhUpnpDeviceInfo, 1);
  u->router->friendly_name = g_strdup ("Test & <Router>");
  u->router->manufacturer = g_strdup ("Acme");
  u->router->model_name = g_strdup ("R1");
  u->router->admin_url = g_strdup ("http://192.168.1.1/");
  u->desc_url = g_strdup (desc_url);
  u->gateway = g_strdup ("127.0.0.1");
  u->connected = TRUE;
  u->lan_address = g_strdup ("127.0.0.1");
  u->external_address = g_strdup (external);
  u->external_scope = scope;
  u->swarm_port = 4001;
  return u;
}

static void
set_causes (PhDiagnosis *d, PhFamily family, const char *cause)
{
  g_autoptr (GPtrArray) causes = g_ptr_array_new ();
  g_autoptr (GPtrArray) addresses = g_ptr_array_new ();

  if (cause)
    g_ptr_array_add (causes, (char *) cause);
  ph_diagnosis_set_family (d, family, PH_VERDICT_UNREACHABLE, NULL);
  ph_diagnosis_set_family_causes (d, family, causes, addresses, TRUE);
}

static PhDiagnosis *
diagnosis_new (PhNmFacts *nm, PhUpnpFacts *upnp, const char *cause4, gboolean gateway)
{
  PhDiagnosis *d = ph_diagnosis_new ();

  ph_diagnosis_take_lan (d, lan_new (gateway));
  if (nm)
    ph_diagnosis_take_nm (d, nm);
  if (upnp)
    ph_diagnosis_take_upnp (d, upnp);
  ph_diagnosis_set_port (d, 4001);
  set_causes (d, PH_FAMILY_IPV4, cause4);
  set_causes (d, PH_FAMILY_IPV6, "ipv6-unavailable");
  return d;
}

/* ---- widgets ---- */

static GtkWidget *
find_named (GtkWidget *widget, const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0)
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_named (c, name);

      if (found)
        return found;
    }
  return NULL;
}

/* Whether some visible label under widget contains text. */
static gboolean
shows_text (GtkWidget *widget, const char *text)
{
  if (!gtk_widget_get_visible (widget))
    return FALSE;
  if (GTK_IS_LABEL (widget) && strstr (gtk_label_get_text (GTK_LABEL (widget)), text))
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    if (shows_text (c, text))
      return TRUE;
  return FALSE;
}

static gboolean
visible (GtkWidget *page, const char *name)
{
  GtkWidget *w = find_named (page, name);

  return w != NULL && gtk_widget_get_visible (w);
}

static gboolean
wait_for_visible (GtkWidget *page, const char *name, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (!visible (page, name))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

static GtkWidget *
window_for (GtkWidget *page)
{
  GtkWidget *window = adw_window_new ();

  adw_window_set_content (ADW_WINDOW (window), page);
  gtk_window_set_default_size (GTK_WINDOW (window), 360, 640);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static void
count_cb (GtkWidget *page, guint *count)
{
  (*count)++;
}

static void
road_cb (GtkWidget *page, const char *road, char **out)
{
  g_free (*out);
  *out = g_strdup (road);
}

static void
click (GtkWidget *page, const char *name)
{
  GtkWidget *w = find_named (page, name);

  g_assert_nonnull (w);
  g_assert_true (gtk_widget_is_sensitive (w));
  g_signal_emit_by_name (w, "clicked");
}

/* ---- ipv6 ---- */

static void
test_ipv6_states (void)
{
  GtkWidget *page = ph_ipv6_page_new ();
  GtkWidget *window = window_for (page);
  g_autoptr (PhActions) actions = ph_actions_new (NULL);
  g_autoptr (PhDiagnosis) off = diagnosis_new (nm_new (TRUE, "ignore"), NULL, "behind-nat", TRUE);
  g_autoptr (PhDiagnosis) on = diagnosis_new (nm_new (TRUE, "auto"), NULL, "behind-nat", TRUE);
  g_autoptr (PhDiagnosis) no_nm = diagnosis_new (nm_new (FALSE, NULL), NULL, "behind-nat", TRUE);
  guint checks = 0;

  g_assert_cmpstr (ph_ipv6_page_get_title (PH_IPV6_PAGE (page)), ==, "Turn On IPv6");
  g_signal_connect (page, "check-again", G_CALLBACK (count_cb), &checks);

  /* Off: the button, insensitive until there are actions; what will change is said first. */
  ph_ipv6_page_set_diagnosis (PH_IPV6_PAGE (page), off);
  g_assert_true (visible (page, "ipv6-enable"));
  g_assert_false (gtk_widget_is_sensitive (find_named (page, "ipv6-enable")));
  g_object_set (page, "actions", actions, NULL);
  g_assert_true (ph_ipv6_page_get_actions (PH_IPV6_PAGE (page)) == actions);
  g_assert_true (gtk_widget_is_sensitive (find_named (page, "ipv6-enable")));
  g_assert_true (shows_text (page, "“Home Wi-Fi” to “Automatic”"));
  g_assert_true (shows_text (page, "nothing is disconnected"));
  g_assert_false (visible (page, "ipv6-undo"));

  /* On, but no global address: the router or the provider is the next step. */
  ph_ipv6_page_set_diagnosis (PH_IPV6_PAGE (page), on);
  g_assert_false (visible (page, "ipv6-enable"));
  g_assert_true (shows_text (page, "ask your internet provider"));

  /* No NetworkManager: the manual step, no button. */
  ph_ipv6_page_set_diagnosis (PH_IPV6_PAGE (page), no_nm);
  g_assert_false (visible (page, "ipv6-enable"));
  g_assert_true (shows_text (page, "NetworkManager is not running"));

  click (page, "ipv6-check");
  g_assert_cmpuint (checks, ==, 1);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The subtitle of the first visible row titled title under widget, or NULL. */
static const char *
row_value (GtkWidget *widget, const char *title)
{
  if (!gtk_widget_get_visible (widget))
    return NULL;
  if (ADW_IS_ACTION_ROW (widget)
      && g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title) == 0)
    return adw_action_row_get_subtitle (ADW_ACTION_ROW (widget));
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      const char *value = row_value (c, title);

      if (value)
        return value;
    }
  return NULL;
}

static gboolean
has_descendant_of_type (GtkWidget *widget, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    if (has_descendant_of_type (c, type))
      return TRUE;
  return FALSE;
}

#define GLOBAL6 "2a01:4f8:c17:1a2b::23"

/* What "Turn On IPv6" brings back when the network offers IPv6 at once. */
static PhIpv6FixResult *
enabled_result (void)
{
  PhIpv6FixResult *result = g_new0 (PhIpv6FixResult, 1);

  result->outcome = PH_IPV6_OUTCOME_CONNECTED;
  result->message = g_strdup ("IPv6 is on for “Home Wi-Fi”: this computer now has the global "
                              "address " GLOBAL6 " and a route to the IPv6 internet.");
  result->next_step = g_strdup ("Check again to see whether your node is reachable over IPv6.");
  result->connection_id = g_strdup ("Home Wi-Fi");
  result->device = g_strdup ("wlp2s0");
  result->old_method = g_strdup ("ignore");
  result->new_method = g_strdup ("auto");
  result->changed = TRUE;
  result->reapplied = TRUE;
  result->change = ph_change_new (PH_IPV6_FIX_CHANGE_KIND, "6f1c1c6e-0000-4000-8000-000000000001",
                                  "Turned on IPv6 for “Home Wi-Fi”.", "Set it back by hand.", NULL);
  result->facts = nm_new (TRUE, "auto");
  ph_nm_facts_add_ipv6_address (result->facts, "fe80::3e52:82ff:fe4e:7a10", 64);
  ph_nm_facts_add_ipv6_address (result->facts, GLOBAL6, 64);
  result->facts->ipv6_gateway = g_strdup ("fe80::1");
  result->facts->ipv6_default_route = TRUE;
  result->facts->default_ipv6 = TRUE;
  return result;
}

/* After "Turn On IPv6" succeeds, the page says what the computer has now (not what the check saw
 * before), what is next, and no toast covers "Check Again". */
static void
test_ipv6_after_enable (void)
{
  GtkWidget *page = ph_ipv6_page_new ();
  GtkWidget *window = window_for (page);
  g_autoptr (PhActions) actions = ph_actions_new (NULL);
  g_autoptr (PhDiagnosis) off = diagnosis_new (nm_new (TRUE, "ignore"), NULL, "behind-nat", TRUE);
  g_autoptr (PhDiagnosis) later = diagnosis_new (nm_new (TRUE, "auto"), NULL, "behind-nat", TRUE);

  g_object_set (page, "actions", actions, NULL);
  ph_ipv6_page_set_diagnosis (PH_IPV6_PAGE (page), off);
  g_assert_cmpstr (row_value (page, "IPv6 setting"), ==, "Off (ignored by NetworkManager)");
  g_assert_cmpstr (row_value (page, "Public IPv6 address"), ==, "None");
  g_assert_cmpstr (row_value (page, "IPv6 route to the internet"), ==, "No");
  g_assert_true (shows_text (page, "Porthole will set"));

  ph_ipv6_page_enable_done_for_tests (PH_IPV6_PAGE (page), enabled_result (), NULL);
  g_assert_true (shows_text (page, "IPv6 is on, and the network offers it"));
  g_assert_cmpstr (row_value (page, "Connection"), ==, "“Home Wi-Fi” on wlp2s0");
  g_assert_cmpstr (row_value (page, "IPv6 setting"), ==, "Automatic");
  g_assert_cmpstr (row_value (page, "Public IPv6 address"), ==, GLOBAL6);
  g_assert_cmpstr (row_value (page, "IPv6 route to the internet"), ==, "Yes");
  /* the check's verdict is still shown, as what it is */
  g_assert_null (row_value (page, "Last check"));
  g_assert_nonnull (row_value (page, "Last check, before the change"));
  g_assert_false (shows_text (page, "Porthole will set"));
  g_assert_true (shows_text (page, "IPv6 is on now: this computer has a public IPv6 address"));
  g_assert_false (visible (page, "ipv6-enable"));
  g_assert_true (visible (page, "ipv6-undo"));
  g_assert_true (gtk_widget_is_sensitive (find_named (page, "ipv6-undo")));
  g_assert_true (visible (page, "ipv6-check"));
  g_assert_true (gtk_widget_has_css_class (find_named (page, "ipv6-check"), "suggested-action"));
  /* nothing floats over the page's buttons: the outcome and the Undo are in place */
  g_assert_false (has_descendant_of_type (page, ADW_TYPE_TOAST_OVERLAY));

  /* the same check shown again (the window going back and forth) does not bring back the old
   * facts */
  ph_ipv6_page_set_diagnosis (PH_IPV6_PAGE (page), off);
  g_assert_cmpstr (row_value (page, "IPv6 setting"), ==, "Automatic");
  g_assert_cmpstr (row_value (page, "Public IPv6 address"), ==, GLOBAL6);

  /* the next check speaks for itself */
  ph_ipv6_page_set_diagnosis (PH_IPV6_PAGE (page), later);
  g_assert_cmpstr (row_value (page, "Public IPv6 address"), ==, "None");
  g_assert_nonnull (row_value (page, "Last check"));
  g_assert_true (shows_text (page, "ask your internet provider"));
  g_assert_true (visible (page, "ipv6-undo"));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The IPv6 page after Turn On failed with code: nothing changed, so the facts are the check's and
 * the button is there to try again, never Undo. Returns the page; destroy its root when done. */
static GtkWidget *
ipv6_page_refused (PhIpv6FixError code, const char *message)
{
  GtkWidget *page = ph_ipv6_page_new ();
  g_autoptr (PhDiagnosis) off = diagnosis_new (nm_new (TRUE, "ignore"), NULL, "behind-nat", TRUE);
  g_autoptr (GError) error = g_error_new_literal (PH_IPV6_FIX_ERROR, code, message);

  window_for (page);
  ph_ipv6_page_set_diagnosis (PH_IPV6_PAGE (page), off);
  ph_ipv6_page_enable_done_for_tests (PH_IPV6_PAGE (page), NULL, error);
  g_assert_cmpstr (row_value (page, "IPv6 setting"), ==, "Off (ignored by NetworkManager)");
  g_assert_true (visible (page, "ipv6-enable"));
  g_assert_false (visible (page, "ipv6-undo"));
  return page;
}

/* NOT_AUTHORIZED is polkit's plain "no": the next step is the administrator, never a password. */
static void
test_ipv6_not_authorized (void)
{
  GtkWidget *page = ipv6_page_refused (
      PH_IPV6_FIX_ERROR_NOT_AUTHORIZED,
      "Your account may not change the network settings of this computer (NetworkManager’s "
      "policy says no), so Porthole cannot change “Home Wi-Fi”.");

  g_assert_true (shows_text (page, "policy says no"));
  g_assert_true (shows_text (page, "Ask an administrator"));
  g_assert_false (shows_text (page, "enter your password"));
  gtk_window_destroy (GTK_WINDOW (gtk_widget_get_root (page)));
}

/* NOT_CONFIRMED: a password prompt came and was closed, or its password refused: try again. */
static void
test_ipv6_not_confirmed (void)
{
  GtkWidget *page = ipv6_page_refused (
      PH_IPV6_FIX_ERROR_NOT_CONFIRMED,
      "NetworkManager did not allow the change to “Home Wi-Fi”: the password prompt was "
      "dismissed or the password was not accepted. Nothing was changed.");

  g_assert_true (shows_text (page, "The change was not confirmed"));
  g_assert_true (shows_text (page, "enter your password when asked"));
  g_assert_false (shows_text (page, "Ask an administrator"));
  g_assert_false (shows_text (page, "policy"));
  gtk_window_destroy (GTK_WINDOW (gtk_widget_get_root (page)));
}

/* ---- upnp ---- */

static void
test_upnp_apply_undo (void)
{
  g_autoptr (FakeIgd) fake = fake_igd_start (NULL, NULL, NULL);
  g_autofree char *url = fake_igd_dup_desc_url (fake);
  g_autoptr (PhDiagnosis) d
      = diagnosis_new (nm_new (TRUE, "auto"),
                       upnp_new (url, "203.0.113.7", PH_UPNP_EXTERNAL_PUBLIC), "behind-nat", TRUE);
  g_autoptr (PhActions) actions = ph_actions_new (NULL);
  GtkWidget *page = ph_upnp_page_new ();
  GtkWidget *window = window_for (page);
  GtkWidget *router;
  g_autofree char *calls = NULL;
  guint checks = 0;

  g_object_set (page, "actions", actions, NULL);
  ph_upnp_page_set_diagnosis (PH_UPNP_PAGE (page), d);
  g_signal_connect (page, "check-again", G_CALLBACK (count_cb), &checks);

  /* The router by name (never as markup), and exactly what will be asked. */
  router = find_named (page, "upnp-router");
  g_assert_nonnull (router);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (router)), ==,
                   "Test & <Router>");
  g_assert_true (shows_text (page, "4001, TCP and UDP"));
  g_assert_true (shows_text (page, "127.0.0.1:4001"));
  g_assert_true (shows_text (page, PH_UPNP_DESCRIPTION));
  g_assert_true (visible (page, "upnp-apply"));
  g_assert_false (visible (page, "upnp-undo"));
  g_assert_false (visible (page, "upnp-check"));

  click (page, "upnp-apply");
  /* never blocks: the button is insensitive while the router is asked */
  g_assert_false (gtk_widget_is_sensitive (find_named (page, "upnp-apply")));
  g_assert_true (wait_for_visible (page, "upnp-check", 10000));
  calls = fake_igd_dup_calls (fake);
  g_assert_nonnull (strstr (calls, "ADD TCP"));
  g_assert_nonnull (strstr (calls, "ADD UDP"));
  g_assert_true (visible (page, "upnp-undo"));
  g_assert_true (shows_text (page, "forwards port 4001"));
  click (page, "upnp-check");
  g_assert_cmpuint (checks, ==, 1);

  click (page, "upnp-undo");
  g_assert_true (wait_for_visible (page, "upnp-apply", 10000));
  g_clear_pointer (&calls, g_free);
  calls = fake_igd_dup_calls (fake);
  g_assert_nonnull (strstr (calls, "DELETE TCP"));
  g_assert_nonnull (strstr (calls, "DELETE UDP"));
  g_assert_false (visible (page, "upnp-undo"));
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
wait_for_text (GtkWidget *page, const char *text, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (!shows_text (page, text))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

static void
store_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static PhUpnpMapping *
our_mapping (const char *protocol)
{
  PhUpnpMapping *m = g_new0 (PhUpnpMapping, 1);

  m->external_port = 4001;
  m->protocol = g_strdup (protocol);
  m->internal_client = g_strdup ("127.0.0.1");
  m->internal_port = 4001;
  m->description = g_strdup (PH_UPNP_DESCRIPTION);
  m->enabled = TRUE;
  m->to_this_host = m->to_swarm_port = m->ours = TRUE;
  return m;
}

/* Undo of a forward an earlier run made (the next check lists it as ours): this process holds no
 * router for it, so the page asks the one the check found. */
static void
test_upnp_undo_earlier_run (void)
{
  g_autoptr (FakeIgd) fake = fake_igd_start (NULL, NULL, NULL);
  g_autofree char *url = fake_igd_dup_desc_url (fake);
  g_autoptr (PhDiagnosis) d = NULL;
  g_autoptr (PhActions) earlier = ph_actions_new (NULL);
  g_autoptr (PhActions) actions = ph_actions_new (NULL);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (PhUpnpMapResult) mapped = NULL;
  g_autoptr (GError) error = NULL;
  PhUpnpFacts *facts = upnp_new (url, "203.0.113.7", PH_UPNP_EXTERNAL_PUBLIC);
  GtkWidget *page;
  GtkWidget *window;
  g_autofree char *calls = NULL;

  d = diagnosis_new (nm_new (TRUE, "auto"), facts, "behind-nat", TRUE);
  /* the earlier run maps the port, and ends */
  ph_actions_map_for_diagnosis_async (earlier, d, NULL, store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  mapped = ph_actions_map_for_diagnosis_finish (earlier, result, &error);
  g_assert_no_error (error);
  g_clear_object (&earlier);
  g_assert_cmpuint (fake_igd_count (fake), ==, 2);
  /* what this run's check says */
  facts->our_tcp = our_mapping ("TCP");
  facts->our_udp = our_mapping ("UDP");

  page = ph_upnp_page_new ();
  window = window_for (page);
  g_object_set (page, "actions", actions, NULL);
  ph_upnp_page_set_diagnosis (PH_UPNP_PAGE (page), d);
  g_assert_true (visible (page, "upnp-undo"));
  click (page, "upnp-undo");
  g_assert_true (wait_for_text (page, "The forward is removed", 10000));
  calls = fake_igd_dup_calls (fake);
  g_assert_nonnull (strstr (calls, "DELETE TCP"));
  g_assert_nonnull (strstr (calls, "DELETE UDP"));
  g_assert_cmpuint (fake_igd_count (fake), ==, 0);
  g_assert_false (visible (page, "upnp-undo"));
  g_assert_true (visible (page, "upnp-apply"));
  gtk_window_destroy (GTK_WINDOW (window));
}

static char *
conflict_action (FakeIgd *fake, const char *action, const char *body, int *code, gpointer user_data)
{
  char *answer;

  if (g_str_equal (action, "AddPortMapping"))
    {
      *code = 718;
      return NULL;
    }
  fake_igd_lock (fake);
  answer = fake_igd_default_action (fake, action, body, code);
  fake_igd_unlock (fake);
  return answer;
}

static void
test_upnp_conflict (void)
{
  g_autoptr (FakeIgd) fake = fake_igd_start (conflict_action, NULL, NULL);
  g_autofree char *url = fake_igd_dup_desc_url (fake);
  PhUpnpFacts *facts = upnp_new (url, "203.0.113.7", PH_UPNP_EXTERNAL_PUBLIC);
  g_autoptr (PhDiagnosis) d = NULL;
  g_autoptr (PhActions) actions = ph_actions_new (NULL);
  GtkWidget *page = ph_upnp_page_new ();
  GtkWidget *window = window_for (page);
  g_autofree char *road = NULL;

  facts->holder = g_new0 (PhUpnpMapping, 1);
  facts->holder->external_port = 4001;
  facts->holder->protocol = g_strdup ("TCP");
  facts->holder->internal_client = g_strdup ("192.168.1.99");
  facts->holder->internal_port = 4001;
  d = diagnosis_new (nm_new (TRUE, "auto"), facts, "behind-nat", TRUE);
  g_object_set (page, "actions", actions, NULL);
  ph_upnp_page_set_diagnosis (PH_UPNP_PAGE (page), d);
  g_signal_connect (page, "show-fix", G_CALLBACK (road_cb), &road);

  click (page, "upnp-apply");
  g_assert_true (wait_for_visible (page, "upnp-manual", 10000));
  g_assert_true (shows_text (page, "already forwarded to another computer"));
  g_assert_true (shows_text (page, "The router sends it to 192.168.1.99"));
  g_assert_false (visible (page, "upnp-check"));
  click (page, "upnp-manual");
  g_assert_cmpstr (road, ==, "forward");
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_upnp_no_router (void)
{
  PhUpnpFacts *facts = ph_upnp_facts_new ();
  g_autoptr (PhDiagnosis) d = NULL;
  GtkWidget *page = ph_upnp_page_new ();
  GtkWidget *window = window_for (page);

  facts->error = g_strdup ("No router answered the UPnP search.");
  d = diagnosis_new (nm_new (TRUE, "auto"), facts, "behind-nat", TRUE);
  ph_upnp_page_set_diagnosis (PH_UPNP_PAGE (page), d);
  g_assert_false (visible (page, "upnp-apply"));
  g_assert_true (visible (page, "upnp-manual"));
  g_assert_true (shows_text (page, "No router answered the UPnP search."));
  g_assert_true (shows_text (page, "turn on UPnP"));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* ---- forward ---- */

static void
test_forward (void)
{
  g_autoptr (PhDiagnosis) d = diagnosis_new (nm_new (TRUE, "auto"), NULL, "behind-nat", TRUE);
  g_autoptr (PhDiagnosis) lost = ph_diagnosis_new ();
  GtkWidget *page = ph_forward_page_new ();
  GtkWidget *window = window_for (page);
  GtkWidget *link;
  GValue value = G_VALUE_INIT;
  guint checks = 0;
  guint copies = 0;

  ph_forward_page_set_diagnosis (PH_FORWARD_PAGE (page), d);
  g_signal_connect (page, "check-again", G_CALLBACK (count_cb), &checks);

  /* A copy button per value, each named for what it copies. */
  for (guint i = 0; i < 16; i++)
    {
      g_autofree char *name = g_strdup_printf ("forward-copy-%u", i);
      GtkWidget *button = find_named (page, name);

      if (button == NULL)
        break;
      copies++;
      g_assert_true (g_str_has_prefix (gtk_widget_get_tooltip_text (button), "Copy "));
    }
  g_assert_cmpuint (copies, >=, 4);

  /* The LAN address is among the values; its button puts it on the clipboard. */
  for (guint i = 0; i < copies; i++)
    {
      g_autofree char *name = g_strdup_printf ("forward-copy-%u", i);

      click (page, name);
      GdkContentProvider *content = gdk_clipboard_get_content (gtk_widget_get_clipboard (page));
      g_assert_nonnull (content);
      g_value_init (&value, G_TYPE_STRING);
      g_assert_true (gdk_content_provider_get_value (content, &value, NULL));
      if (g_strcmp0 (g_value_get_string (&value), "192.168.1.20") == 0)
        copies = 0; /* found */
      g_value_unset (&value);
      if (copies == 0)
        break;
    }
  g_assert_cmpuint (copies, ==, 0);

  link = find_named (page, "forward-open-router");
  g_assert_nonnull (link);
  g_assert_cmpstr (gtk_link_button_get_uri (GTK_LINK_BUTTON (link)), ==, "http://192.168.1.1/");
  g_assert_true (shows_text (page, "DHCP"));
  click (page, "forward-check");
  g_assert_cmpuint (checks, ==, 1);

  /* Nothing to compute from: the reason, no values. */
  ph_diagnosis_take_lan (lost, ph_lan_facts_new ());
  ph_forward_page_set_diagnosis (PH_FORWARD_PAGE (page), lost);
  g_assert_null (find_named (page, "forward-copy-0"));
  g_assert_true (shows_text (page, "Porthole cannot tell what to forward"));
  g_assert_true (visible (page, "forward-check"));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* ---- provider ---- */

static void
test_provider (void)
{
  g_autoptr (PhDiagnosis) cgnat = diagnosis_new (
      nm_new (TRUE, "auto"),
      upnp_new ("http://127.0.0.1:9/x", "100.64.12.7", PH_UPNP_EXTERNAL_CGNAT), "cgnat", TRUE);
  g_autoptr (PhDiagnosis) double_nat = diagnosis_new (
      nm_new (TRUE, "auto"),
      upnp_new ("http://127.0.0.1:9/x", "192.168.178.20", PH_UPNP_EXTERNAL_PRIVATE), "double-nat",
      TRUE);
  GtkWidget *page = ph_provider_page_new ();
  GtkWidget *window = window_for (page);
  g_autofree char *road = NULL;

  g_signal_connect (page, "show-fix", G_CALLBACK (road_cb), &road);
  ph_provider_page_set_diagnosis (PH_PROVIDER_PAGE (page), cgnat);
  g_assert_true (shows_text (page, "100.64.12.7"));
  g_assert_true (shows_text (page, "carrier-grade NAT"));
  g_assert_true (visible (page, "provider-ipv6"));
  g_assert_true (visible (page, "provider-isp"));
  g_assert_null (find_named (page, "provider-bridge"));
  g_signal_emit_by_name (find_named (page, "provider-ipv6"), "activate");
  g_assert_cmpstr (road, ==, "ipv6");

  ph_provider_page_set_diagnosis (PH_PROVIDER_PAGE (page), double_nat);
  g_assert_true (visible (page, "provider-bridge"));
  g_assert_true (shows_text (page, "bridge"));
  g_signal_emit_by_name (find_named (page, "provider-forward"), "activate");
  g_assert_cmpstr (road, ==, "forward");
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  /* No GL: software rendering is enough here, and mesa's GL under Xvfb leaks at exit (ASan). */
  g_setenv ("GDK_DEBUG", "gl-disable", FALSE);
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    {
      g_test_skip ("no display (run under xvfb-run)");
      return g_test_run ();
    }
  adw_init ();
  porthole_register_resource ();

  g_test_add_func ("/ui-pages/ipv6/states", test_ipv6_states);
  g_test_add_func ("/ui-pages/ipv6/after-enable", test_ipv6_after_enable);
  g_test_add_func ("/ui-pages/ipv6/not-authorized", test_ipv6_not_authorized);
  g_test_add_func ("/ui-pages/ipv6/not-confirmed", test_ipv6_not_confirmed);
  g_test_add_func ("/ui-pages/upnp/apply-undo", test_upnp_apply_undo);
  g_test_add_func ("/ui-pages/upnp/conflict", test_upnp_conflict);
  g_test_add_func ("/ui-pages/upnp/undo-earlier-run", test_upnp_undo_earlier_run);
  g_test_add_func ("/ui-pages/upnp/no-router", test_upnp_no_router);
  g_test_add_func ("/ui-pages/forward", test_forward);
  g_test_add_func ("/ui-pages/provider", test_provider);
  return g_test_run ();
}
