/* ph-ipv6-page.c: the wizard's "ipv6" page
 *
 * The first road of the IPFS NAT guide: with a global IPv6 address the node needs no forwarding.
 * Shows what this computer has of IPv6 (NetworkManager's method, global addresses, a default
 * route), says before the click exactly what "Turn On IPv6" changes, and after it what came of it
 * in words — refused by policy, not editable, no NetworkManager, timed out, or on, and then what
 * the network offers. When IPv6 is on but no global address comes, the next step is the router's
 * or the provider's, and the page says so.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <sys/socket.h>

#include "ph-ipv6-page.h"
#include "ph-ui-util.h"

struct _PhIpv6Page
{
  PhFixPage parent_instance;

  AdwStatusPage *status_page;
  GtkBox *facts_box;
  GtkWidget *change_group;
  GtkLabel *change_label;
  GtkWidget *outcome_box;
  GtkImage *outcome_icon;
  GtkLabel *outcome_title;
  GtkLabel *outcome_body;
  GtkLabel *outcome_next;
  GtkWidget *busy_box;
  GtkSpinner *spinner;
  GtkLabel *busy_label;
  GtkWidget *enable_button;
  GtkWidget *undo_button;
  GtkWidget *check_button;

  PhChange *change; /* our last change, for Undo; NULL when there is none */
  /* What NetworkManager said at the end of our last enable, until the next check: the diagnosis
   * still describes the computer before the change. */
  PhNmFacts *after_facts;
  char *after_method;
  gboolean after_fix;
  PhIpv6Outcome after_outcome;
  gboolean busy;
  gboolean can_enable; /* what the diagnosis says: IPv6 is off and NetworkManager may turn it on */
};

G_DEFINE_FINAL_TYPE (PhIpv6Page, ph_ipv6_page, PH_TYPE_FIX_PAGE)

/* ---- reading the host's IPv6 state from the diagnosis ---- */

/* The same rule as the IPv6 fix itself: these methods leave the connection without a global
 * address (or no profile says). */
static gboolean
method_is_off (const char *method)
{
  return method == NULL || g_str_equal (method, "disabled") || g_str_equal (method, "ignore")
         || g_str_equal (method, "link-local");
}

static const char *
method_in_words (const char *method)
{
  if (method == NULL)
    return _ ("Unknown");
  if (g_str_equal (method, "auto"))
    return _ ("Automatic");
  if (g_str_equal (method, "dhcp"))
    return _ ("Automatic, DHCP only");
  if (g_str_equal (method, "manual"))
    return _ ("Manual");
  if (g_str_equal (method, "shared"))
    return _ ("Shared to other computers");
  if (g_str_equal (method, "disabled"))
    return _ ("Off");
  if (g_str_equal (method, "ignore"))
    return _ ("Off (ignored by NetworkManager)");
  if (g_str_equal (method, "link-local"))
    return _ ("Link-local only");
  return method;
}

/* Global IPv6 addresses: the kernel's (as `--check --json` reports them), else NetworkManager's. */
static GPtrArray *
global_addresses (PhDiagnosis *diagnosis, const PhNmFacts *after)
{
  /* after a change, the kernel's addresses of the check are from before it: NetworkManager's
   * answer at the end of the change is the newer one */
  const PhLanFacts *lan = after ? NULL : ph_diagnosis_get_lan (diagnosis);
  const PhNmFacts *nm = after ? after : ph_diagnosis_get_nm (diagnosis);
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; lan && lan->addresses && i < lan->addresses->len; i++)
    {
      const PhLanAddress *a = g_ptr_array_index (lan->addresses, i);

      if (a->family == AF_INET6 && a->scope == PH_IP_SCOPE_PUBLIC)
        g_ptr_array_add (out, a->address);
    }
  for (guint i = 0; out->len == 0 && nm && nm->ipv6_addresses && i < nm->ipv6_addresses->len; i++)
    {
      const PhNmAddress *a = g_ptr_array_index (nm->ipv6_addresses, i);

      if (a->kind == PH_NM_IPV6_KIND_GLOBAL || a->kind == PH_NM_IPV6_KIND_TEMPORARY)
        g_ptr_array_add (out, a->address);
    }
  return out;
}

static gboolean
has_default_route (PhDiagnosis *diagnosis, const PhNmFacts *after)
{
  const PhLanFacts *lan = after ? NULL : ph_diagnosis_get_lan (diagnosis);
  const PhNmFacts *nm = after ? after : ph_diagnosis_get_nm (diagnosis);

  for (guint i = 0; lan && lan->gateways && i < lan->gateways->len; i++)
    {
      const PhLanRoute *route = g_ptr_array_index (lan->gateways, i);

      if (route->family == AF_INET6)
        return TRUE;
    }
  return nm && nm->ipv6_default_route;
}

/* ---- widgets ---- */

static GtkWidget *
fact_row_new (const char *title, const char *value)
{
  /* values come from the network (names, addresses): plain text */
  GtkWidget *row = ph_text_row_new (title, value);

  gtk_widget_add_css_class (row, "property");
  return row;
}

static void
show_outcome (PhIpv6Page *self, PhOutcome kind, const char *title, const char *body,
              const char *next)
{
  ph_outcome_icon_set (self->outcome_icon, kind);
  ph_label_set_optional (self->outcome_title, title);
  ph_label_set_optional (self->outcome_body, body);
  ph_label_set_optional (self->outcome_next, next);
  gtk_widget_set_visible (self->outcome_box, TRUE);
}

static void
update_buttons (PhIpv6Page *self)
{
  PhActions *actions = ph_fix_page_get_actions (PH_FIX_PAGE (self));

  gtk_widget_set_visible (self->busy_box, self->busy);
  gtk_spinner_set_spinning (self->spinner, self->busy);
  gtk_widget_set_visible (self->enable_button, self->can_enable && self->change == NULL);
  gtk_widget_set_sensitive (self->enable_button, !self->busy && actions != NULL);
  gtk_widget_set_visible (self->undo_button, self->change != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "ipv6.undo",
                                 !self->busy && actions != NULL && self->change != NULL);
  gtk_widget_set_sensitive (self->check_button, !self->busy);
  /* Once something changed, checking again is the next step. */
  if (self->change != NULL)
    gtk_widget_add_css_class (self->check_button, "suggested-action");
  else
    gtk_widget_remove_css_class (self->check_button, "suggested-action");
}

static void
set_busy (PhIpv6Page *self, const char *what)
{
  self->busy = what != NULL;
  gtk_label_set_text (self->busy_label, what ? what : "");
  update_buttons (self);
}

static const char *
router_step (void)
{
  return _ ("Turn on IPv6 in your router’s settings (often under “Internet” or “IPv6”). If it is "
            "on there and still no address comes, ask your internet provider whether your line has "
            "IPv6: most offer it, some only on request.");
}

static char *
after_fix_text (PhIpv6Page *self, const PhNmFacts *shown, const char *method, guint n_addresses,
                gboolean route)
{
  const char *id = shown && shown->connection_id ? shown->connection_id : NULL;

  if (self->after_outcome == PH_IPV6_OUTCOME_NOT_APPLIED)
    return id ? g_strdup_printf (_ ("The IPv6 method of the connection “%s” is saved as “%s”. "
                                    "NetworkManager applies it when the connection next "
                                    "reconnects; check again after that."),
                                 id, method_in_words (method))
              : g_strdup_printf (_ ("The IPv6 method is saved as “%s”. NetworkManager applies it "
                                    "when the connection next reconnects; check again after "
                                    "that."),
                                 method_in_words (method));
  if (n_addresses > 0 && route)
    return g_strdup (_ ("IPv6 is on now: this computer has a public IPv6 address and a route to "
                        "the IPv6 internet. Check again to see whether peers can reach your node "
                        "over IPv6."));
  if (n_addresses > 0)
    return g_strdup (_ ("IPv6 is on now and this computer has a public IPv6 address, but no route "
                        "to the IPv6 internet yet. Check again in a moment; if the route does not "
                        "come, the router is the next step."));
  if (self->after_outcome == PH_IPV6_OUTCOME_PENDING)
    return g_strdup (_ ("IPv6 is on now, but the network has not offered a public IPv6 address "
                        "yet. Check again in a moment."));
  return g_strdup_printf (_ ("IPv6 is on for this computer, but the network offers it no public "
                             "IPv6 address. %s"),
                          router_step ());
}

static void
refresh (PhIpv6Page *self)
{
  PhDiagnosis *diagnosis = ph_fix_page_get_diagnosis (PH_FIX_PAGE (self));
  g_autoptr (GPtrArray) addresses = NULL;
  const PhNmFacts *nm;
  const PhNmFacts *after;
  const PhNmFacts *shown;
  const char *method;
  GtkWidget *group;
  gboolean route;
  PhVerdict verdict;
  GPtrArray *causes;
  g_autofree char *change_text = NULL;

  ph_box_remove_all (self->facts_box);
  self->can_enable = FALSE;
  if (diagnosis == NULL)
    {
      gtk_widget_set_visible (self->change_group, FALSE);
      update_buttons (self);
      return;
    }

  /* After our change, NetworkManager's answer at its end says more than the check before it. */
  nm = ph_diagnosis_get_nm (diagnosis);
  after = self->after_facts && self->after_facts->running ? self->after_facts : NULL;
  shown = after && after->connection_id ? after : nm;
  if (self->after_method)
    method = self->after_method;
  else if (after && after->ipv6_method)
    method = after->ipv6_method;
  else
    method = nm ? nm->ipv6_method : NULL;
  addresses = global_addresses (diagnosis, after);
  route = has_default_route (diagnosis, after);
  verdict = ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV6);
  causes = ph_diagnosis_get_family_causes (diagnosis, PH_FAMILY_IPV6);

  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("This Computer"));
  if (shown && shown->running && shown->connection_id)
    {
      g_autofree char *connection
          = shown->device ? g_strdup_printf (_ ("“%s” on %s"), shown->connection_id, shown->device)
                          : g_strdup_printf (_ ("“%s”"), shown->connection_id);

      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                                 fact_row_new (_ ("Connection"), connection));
    }
  else if (shown && !shown->running)
    adw_preferences_group_add (
        ADW_PREFERENCES_GROUP (group),
        fact_row_new (_ ("Connection"), _ ("NetworkManager is not running")));
  if (shown && shown->running)
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                               fact_row_new (_ ("IPv6 setting"), method_in_words (method)));
  if (addresses->len)
    {
      g_ptr_array_add (addresses, NULL);
      g_autofree char *list = g_strjoinv ("\n", (char **) addresses->pdata);

      g_ptr_array_remove_index (addresses, addresses->len - 1);
      adw_preferences_group_add (
          ADW_PREFERENCES_GROUP (group),
          fact_row_new (g_dngettext (GETTEXT_PACKAGE, "Public IPv6 address",
                                     "Public IPv6 addresses", addresses->len),
                        list));
    }
  else
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                               fact_row_new (_ ("Public IPv6 address"), _ ("None")));
  adw_preferences_group_add (
      ADW_PREFERENCES_GROUP (group),
      fact_row_new (_ ("IPv6 route to the internet"), route ? _ ("Yes") : _ ("No")));
  if (verdict != PH_VERDICT_UNKNOWN)
    {
      const char *why = causes && causes->len
                            ? ph_diagnosis_explain_cause (g_ptr_array_index (causes, 0))
                            : NULL;
      g_autofree char *value = g_strdup_printf ("%s%s%s",
                                                verdict == PH_VERDICT_REACHABLE
                                                    ? _ ("Peers can reach your node over IPv6")
                                                    : _ ("Peers cannot reach your node over IPv6"),
                                                why ? "\n" : "", why ? why : "");

      /* the check's verdict is from before the change until the next check */
      adw_preferences_group_add (
          ADW_PREFERENCES_GROUP (group),
          fact_row_new (self->after_fix ? _ ("Last check, before the change") : _ ("Last check"),
                        value));
    }
  gtk_box_append (self->facts_box, group);

  /* What the button would do, said before it is pressed; after it, what is next. */
  if (shown && !shown->running)
    change_text = g_strdup (
        _ ("NetworkManager is not running on this computer, so Porthole cannot turn IPv6 on for "
           "you. Turn it on where this computer’s network is set up (its network settings, or "
           "the configuration your distribution uses), set to “Automatic” (SLAAC/DHCPv6), then "
           "check again."));
  else if (shown == NULL || method_is_off (method))
    {
      const char *id = shown && shown->connection_id ? shown->connection_id : NULL;

      self->can_enable = TRUE;
      change_text
          = id ? g_strdup_printf (_ ("Porthole will set the IPv6 method of the connection “%s” to "
                                     "“Automatic”. The connection stays up: nothing is "
                                     "disconnected. You may be asked for your password. You can "
                                     "undo the change here afterwards."),
                                  id)
               : g_strdup (_ ("Porthole will set the IPv6 method of the connection that carries "
                              "your internet traffic to “Automatic”. The connection stays up: "
                              "nothing is disconnected. You may be asked for your password. You "
                              "can undo the change here afterwards."));
    }
  else if (self->after_fix)
    change_text = after_fix_text (self, shown, method, addresses->len, route);
  else if (addresses->len == 0)
    change_text = g_strdup_printf (_ ("IPv6 is on for this computer, but the network offers it no "
                                      "public IPv6 address. %s"),
                                   router_step ());
  else if (verdict == PH_VERDICT_REACHABLE)
    change_text = g_strdup (_ ("IPv6 is on, and peers can reach your node over it. Nothing to "
                               "change here."));
  else
    change_text = g_strdup (
        _ ("IPv6 is on and this computer has a public IPv6 address. If peers still cannot reach "
           "it, the router’s firewall most likely drops incoming IPv6 connections: allow incoming "
           "connections to this computer’s port in the router’s IPv6 firewall settings, then "
           "check again."));
  gtk_label_set_text (self->change_label, change_text);
  gtk_widget_set_visible (self->change_group, TRUE);
  update_buttons (self);
}

/* ---- turning IPv6 on, and back ---- */

static void
explain_error (PhIpv6Page *self, const GError *error)
{
  const char *title = _ ("IPv6 could not be turned on");
  const char *next = NULL;

  if (error->domain == PH_IPV6_FIX_ERROR)
    switch ((PhIpv6FixError) error->code)
      {
        case PH_IPV6_FIX_ERROR_NOT_AUTHORIZED:
          /* polkit's plain "no": a password would not help */
          title = _ ("Your administrator’s policy did not allow this change");
          next = _ ("Ask an administrator to set IPv6 to “Automatic” for this connection.");
          break;
        case PH_IPV6_FIX_ERROR_NOT_CONFIRMED:
          title = _ ("The change was not confirmed");
          next = _ ("Try again, and enter your password when asked.");
          break;
        case PH_IPV6_FIX_ERROR_NOT_EDITABLE:
          title = _ ("This connection cannot be changed from here");
          break;
        case PH_IPV6_FIX_ERROR_NO_NETWORK_MANAGER:
          title = _ ("NetworkManager is not running");
          break;
        case PH_IPV6_FIX_ERROR_NO_CONNECTION:
          title = _ ("There is no connection to change");
          next = _ ("Connect to your network, then check again.");
          break;
        case PH_IPV6_FIX_ERROR_NETWORK_MANAGER_GONE:
          title = _ ("NetworkManager stopped");
          break;
        case PH_IPV6_FIX_ERROR_TIMED_OUT:
          title = _ ("NetworkManager did not answer in time");
          next = _ ("Try again. If a password prompt appears, answer it.");
          break;
        case PH_IPV6_FIX_ERROR_CHANGED_SINCE:
          title = _ ("The setting was changed since");
          break;
        case PH_IPV6_FIX_ERROR_BAD_CHANGE:
        case PH_IPV6_FIX_ERROR_FAILED:
        default:
          break;
      }
  show_outcome (self, PH_OUTCOME_ERROR, title, error->message, next);
}

static void
explain_result (PhIpv6Page *self, const PhIpv6FixResult *result)
{
  const char *title;
  PhOutcome kind = PH_OUTCOME_GOOD;
  g_autofree char *next = NULL;

  switch (result->outcome)
    {
      case PH_IPV6_OUTCOME_CONNECTED:
        title = _ ("IPv6 is on, and the network offers it");
        break;
      case PH_IPV6_OUTCOME_ADDRESS_ONLY:
        title = _ ("IPv6 is on: an address came, a route not yet");
        kind = PH_OUTCOME_WARNING;
        break;
      case PH_IPV6_OUTCOME_NONE_OFFERED:
        title = _ ("IPv6 is on, but the network offers no public address");
        kind = PH_OUTCOME_WARNING;
        break;
      case PH_IPV6_OUTCOME_NOT_APPLIED:
        title = _ ("Saved: it applies when the connection reconnects");
        kind = PH_OUTCOME_WARNING;
        break;
      case PH_IPV6_OUTCOME_PENDING:
        title = _ ("Saved: still waiting for the network");
        kind = PH_OUTCOME_WARNING;
        break;
      case PH_IPV6_OUTCOME_ALREADY_ON:
        title = _ ("IPv6 was on already");
        break;
      case PH_IPV6_OUTCOME_RESTORED:
      default:
        title = _ ("The IPv6 setting is back as it was");
        break;
    }
  if (result->outcome == PH_IPV6_OUTCOME_NONE_OFFERED && result->next_step == NULL)
    next = g_strdup (router_step ());
  else if (result->warning)
    next = g_strdup_printf ("%s%s%s", result->next_step ? result->next_step : "",
                            result->next_step ? "\n" : "", result->warning);
  else
    next = g_strdup (result->next_step);
  show_outcome (self, kind, title, result->message, next);
}

static void
clear_after (PhIpv6Page *self)
{
  g_clear_pointer (&self->after_facts, ph_nm_facts_free);
  g_clear_pointer (&self->after_method, g_free);
  self->after_fix = FALSE;
}

/* The end of an enable: result (taken) or error. */
static void
enable_done (PhIpv6Page *self, PhIpv6FixResult *taken, const GError *error)
{
  g_autoptr (PhIpv6FixResult) result = taken;

  set_busy (self, NULL);
  if (result == NULL)
    {
      explain_error (self, error);
      return;
    }
  if (result->change)
    {
      g_clear_pointer (&self->change, ph_change_free);
      self->change = g_steal_pointer (&result->change);
    }
  /* The facts say what the computer has now, not what the check saw before the change. */
  clear_after (self);
  self->after_fix = TRUE;
  self->after_outcome = result->outcome;
  self->after_facts = g_steal_pointer (&result->facts);
  self->after_method = g_strdup (result->new_method);
  explain_result (self, result);
  refresh (self);
  /* No toast: it would cover "Check Again", the next step; the outcome says it in place and
   * "Undo the Change" stays on the page. */
  if (self->change)
    gtk_widget_grab_focus (self->check_button);
}

static void
enable_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (PhIpv6Page) self = user_data;
  g_autoptr (GError) error = NULL;
  PhIpv6FixResult *result = ph_actions_enable_ipv6_finish (PH_ACTIONS (source), res, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  enable_done (self, result, error);
}

static void
enable_clicked_cb (PhIpv6Page *self)
{
  PhActions *actions = ph_fix_page_get_actions (PH_FIX_PAGE (self));

  if (self->busy || actions == NULL)
    return;
  gtk_widget_set_visible (self->outcome_box, FALSE);
  set_busy (self, _ ("Turning on IPv6 and waiting for the network…"));
  ph_actions_enable_ipv6_async (actions, ph_fix_page_get_cancellable (PH_FIX_PAGE (self)),
                                enable_done_cb, g_object_ref (self));
}

static void
undo_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (PhIpv6Page) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;

  if (!ph_actions_undo_finish (PH_ACTIONS (source), res, &message, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_busy (self, NULL);
      show_outcome (self, PH_OUTCOME_ERROR, _ ("The change could not be undone"), error->message,
                    NULL);
      return;
    }
  set_busy (self, NULL);
  g_clear_pointer (&self->change, ph_change_free);
  /* the check's facts describe the computer as it is again */
  clear_after (self);
  show_outcome (self, PH_OUTCOME_GOOD, _ ("The IPv6 setting is back as it was"), message, NULL);
  refresh (self);
}

static void
undo_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PhIpv6Page *self = PH_IPV6_PAGE (widget);
  PhActions *actions = ph_fix_page_get_actions (PH_FIX_PAGE (self));

  if (self->busy || actions == NULL || self->change == NULL)
    return;
  set_busy (self, _ ("Undoing the change…"));
  ph_actions_undo_async (actions, self->change, ph_fix_page_get_cancellable (PH_FIX_PAGE (self)),
                         undo_done_cb, g_object_ref (self));
}

static void
check_clicked_cb (PhIpv6Page *self)
{
  ph_fix_page_check_again (PH_FIX_PAGE (self));
}

/* ---- GObject ---- */

static void
ph_ipv6_page_dispose (GObject *object)
{
  PhIpv6Page *self = PH_IPV6_PAGE (object);

  g_clear_pointer (&self->change, ph_change_free);
  clear_after (self);
  G_OBJECT_CLASS (ph_ipv6_page_parent_class)->dispose (object);
}

static void
ph_ipv6_page_diagnosis_changed (PhFixPage *page, gboolean replaced)
{
  PhIpv6Page *self = PH_IPV6_PAGE (page);

  /* A new check describes the computer after our change: it replaces what the change said. */
  if (replaced)
    clear_after (self);
  /* A new check answers what the last outcome said; the Undo stays while there is a change. */
  if (!self->busy)
    gtk_widget_set_visible (self->outcome_box, FALSE);
  refresh (self);
}

static void
ph_ipv6_page_actions_changed (PhFixPage *page)
{
  update_buttons (PH_IPV6_PAGE (page));
}

static const char *
ph_ipv6_page_real_get_title (PhFixPage *page)
{
  return _ ("Turn On IPv6");
}

static void
ph_ipv6_page_class_init (PhIpv6PageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  PhFixPageClass *fix_class = PH_FIX_PAGE_CLASS (klass);

  object_class->dispose = ph_ipv6_page_dispose;
  fix_class->diagnosis_changed = ph_ipv6_page_diagnosis_changed;
  fix_class->actions_changed = ph_ipv6_page_actions_changed;
  fix_class->get_title = ph_ipv6_page_real_get_title;

  gtk_widget_class_install_action (widget_class, "ipv6.undo", NULL, undo_action_cb);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/porthole/Porthole/ph-ipv6-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, status_page);
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, facts_box);
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, change_group);
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, change_label);
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, outcome_box);
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, outcome_icon);
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, outcome_title);
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, outcome_body);
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, outcome_next);
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, busy_box);
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, spinner);
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, busy_label);
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, enable_button);
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, undo_button);
  gtk_widget_class_bind_template_child (widget_class, PhIpv6Page, check_button);
  gtk_widget_class_bind_template_callback (widget_class, enable_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, check_clicked_cb);
}

static void
ph_ipv6_page_init (PhIpv6Page *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  ph_status_page_fill (self->status_page);
  refresh (self);
}

GtkWidget *
ph_ipv6_page_new (void)
{
  return g_object_new (PH_TYPE_IPV6_PAGE, NULL);
}

void
ph_ipv6_page_enable_done_for_tests (PhIpv6Page *self, PhIpv6FixResult *result, const GError *error)
{
  g_return_if_fail (PH_IS_IPV6_PAGE (self));
  g_return_if_fail ((result == NULL) != (error == NULL));

  enable_done (self, result, error);
}
