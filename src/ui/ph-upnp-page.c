/* ph-upnp-page.c: the wizard's "upnp" page
 *
 * The second road of the IPFS NAT guide: the router's UPnP Internet Gateway Device forwards the
 * swarm port when asked. The page names the router, says exactly what will be asked for (the
 * port, TCP and UDP, to this computer's LAN address, the lease, the description the router will
 * list), asks on Apply without ever blocking the window, and removes it again on Undo. Each of
 * the router's refusals is explained in words with what to do next; the router's own error code
 * stays visible as the technical detail. Mappings of 5001 or 8080 to this host are warned about,
 * never made.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>
#include <sys/socket.h>

#include "core/ph-check.h"
#include "ph-upnp-page.h"
#include "ph-ui-util.h"

struct _PhUpnpPage
{
  PhFixPage parent_instance;

  AdwToastOverlay *toast_overlay;
  AdwStatusPage *status_page;
  GtkBox *facts_box;
  GtkWidget *outcome_box;
  GtkImage *outcome_icon;
  GtkLabel *outcome_title;
  GtkLabel *outcome_body;
  GtkLabel *outcome_next;
  GtkWidget *busy_box;
  GtkSpinner *spinner;
  GtkLabel *busy_label;
  GtkWidget *apply_button;
  GtkWidget *check_button;
  GtkWidget *undo_button;
  GtkWidget *manual_button;

  gboolean busy;
  gboolean router_found; /* the diagnosis found an IGD: Apply can be tried */
  gboolean ours_listed;  /* the router lists a mapping of ours for the swarm port */
  gboolean mapped_here;  /* Apply succeeded on this page (and no Undo since) */
  gboolean show_manual;  /* the last outcome makes the manual road the next thing to try */
  guint mapped_port;     /* the port Apply mapped, for Undo */
};

G_DEFINE_FINAL_TYPE (PhUpnpPage, ph_upnp_page, PH_TYPE_FIX_PAGE)

/* ---- small widgets ---- */

static GtkWidget *
fact_row_new (const char *title, const char *value)
{
  /* values come from the network (names, addresses): plain text */
  GtkWidget *row = ph_text_row_new (title, value);

  gtk_widget_add_css_class (row, "property");
  return row;
}

static GtkWidget *
warning_row_new (const char *message, gboolean severe)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), message);
  gtk_widget_add_css_class (icon, severe ? "error" : "warning");
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  severe ? _ ("Important") : _ ("Warning"), -1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  return row;
}

static void
show_outcome (PhUpnpPage *self, PhOutcome kind, const char *title, const char *body,
              const char *detail)
{
  ph_outcome_icon_set (self->outcome_icon, kind);
  ph_label_set_optional (self->outcome_title, title);
  ph_label_set_optional (self->outcome_body, body);
  ph_label_set_optional (self->outcome_next, detail);
  gtk_widget_set_visible (self->outcome_box, TRUE);
}

static char *
duration_in_words (guint seconds)
{
  if (seconds == 0)
    return g_strdup (_ ("permanent"));
  if (seconds % 3600 == 0)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u hour", "%u hours", seconds / 3600),
                            seconds / 3600);
  if (seconds >= 60)
    return g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE, "%u minute", "%u minutes", (seconds + 59) / 60),
        (seconds + 59) / 60);
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u second", "%u seconds", seconds),
                          seconds);
}

static const char *
external_scope_in_words (PhUpnpExternalScope scope)
{
  switch (scope)
    {
      case PH_UPNP_EXTERNAL_PUBLIC:
        return _ ("a public address, on the internet itself");
      case PH_UPNP_EXTERNAL_PRIVATE:
        return _ ("a private address: another router sits in front of this one");
      case PH_UPNP_EXTERNAL_CGNAT:
        return _ ("an address your provider shares among customers (carrier-grade NAT)");
      case PH_UPNP_EXTERNAL_UNROUTABLE:
        return _ ("an address that cannot be used on the internet");
      case PH_UPNP_EXTERNAL_NONE:
      default:
        return _ ("none given");
    }
}

/* ---- what the diagnosis says ---- */

static PhUpnpFacts *
get_facts (PhUpnpPage *self)
{
  PhDiagnosis *diagnosis = ph_fix_page_get_diagnosis (PH_FIX_PAGE (self));

  return diagnosis ? ph_diagnosis_get_upnp (diagnosis) : NULL;
}

static guint
swarm_port (PhUpnpPage *self)
{
  PhDiagnosis *diagnosis = ph_fix_page_get_diagnosis (PH_FIX_PAGE (self));
  PhUpnpFacts *facts = get_facts (self);

  if (facts && facts->swarm_port)
    return facts->swarm_port;
  return diagnosis ? ph_diagnosis_get_port (diagnosis) : 0;
}

/* This computer's address as the router sees it, else the kernel's private IPv4 address. */
static const char *
lan_address (PhUpnpPage *self)
{
  PhDiagnosis *diagnosis = ph_fix_page_get_diagnosis (PH_FIX_PAGE (self));
  PhUpnpFacts *facts = get_facts (self);
  const PhLanFacts *lan = diagnosis ? ph_diagnosis_get_lan (diagnosis) : NULL;

  if (facts && facts->lan_address && *facts->lan_address)
    return facts->lan_address;
  for (guint i = 0; lan && lan->addresses && i < lan->addresses->len; i++)
    {
      const PhLanAddress *a = g_ptr_array_index (lan->addresses, i);

      if (a->family == AF_INET && a->scope == PH_IP_SCOPE_PRIVATE)
        return a->address;
    }
  return NULL;
}

static void
provider_clicked_cb (PhUpnpPage *self)
{
  ph_fix_page_emit_show_fix (PH_FIX_PAGE (self), "provider");
}

static void
update_buttons (PhUpnpPage *self)
{
  PhActions *actions = ph_fix_page_get_actions (PH_FIX_PAGE (self));
  gboolean undoable = self->mapped_here || self->ours_listed;

  gtk_widget_set_visible (self->busy_box, self->busy);
  gtk_spinner_set_spinning (self->spinner, self->busy);
  gtk_widget_set_visible (self->apply_button, self->router_found && !self->mapped_here);
  gtk_widget_set_sensitive (self->apply_button,
                            !self->busy && actions != NULL
                                && ph_fix_page_get_diagnosis (PH_FIX_PAGE (self)) != NULL);
  gtk_widget_set_visible (self->check_button, self->mapped_here);
  gtk_widget_set_sensitive (self->check_button, !self->busy);
  gtk_widget_set_visible (self->undo_button, undoable);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "upnp.undo",
                                 !self->busy && actions != NULL && undoable);
  gtk_widget_set_visible (self->manual_button, !self->router_found || self->show_manual);
  gtk_widget_set_sensitive (self->manual_button, !self->busy);
}

static void
set_busy (PhUpnpPage *self, const char *what)
{
  self->busy = what != NULL;
  gtk_label_set_text (self->busy_label, what ? what : "");
  update_buttons (self);
}

static GtkWidget *
router_group_new (PhUpnpPage *self, PhUpnpFacts *facts)
{
  GtkWidget *group = adw_preferences_group_new ();
  GtkWidget *row;
  const PhUpnpDeviceInfo *info = facts->router;
  g_autoptr (GString) model = g_string_new (NULL);
  const char *name = NULL;

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("Your Router"));
  if (info)
    {
      const char *parts[] = { info->manufacturer, info->model_name, info->model_number };

      for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
        if (parts[i] && *parts[i]
            && !(info->friendly_name && strstr (info->friendly_name, parts[i])))
          g_string_append_printf (model, "%s%s", model->len ? " " : "", parts[i]);
      name = info->friendly_name && *info->friendly_name ? info->friendly_name : NULL;
    }
  if (name == NULL && model->len)
    {
      name = model->str;
      row = fact_row_new (name, facts->gateway);
    }
  else
    row = fact_row_new (name ? name : _ ("Your router"), model->len ? model->str : facts->gateway);
  gtk_widget_set_name (row, "upnp-router");
  if (info && info->admin_url)
    {
      GtkWidget *link = gtk_link_button_new_with_label (info->admin_url, _ ("Admin Page"));

      gtk_widget_set_name (link, "upnp-open-router");
      gtk_widget_set_valign (link, GTK_ALIGN_CENTER);
      gtk_widget_set_tooltip_text (link, info->admin_url);
      gtk_accessible_update_property (GTK_ACCESSIBLE (link), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _ ("Open the router’s admin page"),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, info->admin_url, -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), link);
    }
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);

  if (facts->external_address && *facts->external_address)
    {
      g_autofree char *value = g_strdup_printf ("%s — %s", facts->external_address,
                                                external_scope_in_words (facts->external_scope));

      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                                 fact_row_new (_ ("Its internet address"), value));
    }
  if (!facts->connected)
    adw_preferences_group_add (
        ADW_PREFERENCES_GROUP (group),
        warning_row_new (_ ("The router says its internet connection is down."), FALSE));
  return group;
}

static GtkWidget *
plan_group_new (PhUpnpPage *self)
{
  PhActions *actions = ph_fix_page_get_actions (PH_FIX_PAGE (self));
  GtkWidget *group = adw_preferences_group_new ();
  guint port = swarm_port (self);
  const char *lan = lan_address (self);
  guint lease = actions ? ph_actions_get_lease (actions) : 0;
  g_autofree char *port_text = NULL;
  g_autofree char *to_text = NULL;
  g_autofree char *lease_words = duration_in_words (lease ? lease : PH_UPNP_DEFAULT_LEASE_S);
  g_autofree char *lease_text = NULL;

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("What Porthole Will Ask For"));
  adw_preferences_group_set_description (
      ADW_PREFERENCES_GROUP (group),
      _ ("Nothing else on the router changes. Porthole never forwards your node’s API or gateway "
         "ports."));
  /* TRANSLATORS: the router's external port; "4001, TCP and UDP" */
  port_text = g_strdup_printf (_ ("%u, TCP and UDP"), port);
  /* TRANSLATORS: "This computer, 192.168.1.20:4001" */
  to_text = lan ? g_strdup_printf (_ ("This computer, %s:%u"), lan, port)
                : g_strdup_printf (_ ("This computer, port %u"), port);
  /* TRANSLATORS: the lease of the mapping; "1 hour, renewed while Porthole runs" */
  lease_text = g_strdup_printf (_ ("%s, renewed while Porthole runs"), lease_words);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                             fact_row_new (_ ("Port on the internet side"), port_text));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                             fact_row_new (_ ("Forwarded to"), to_text));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), fact_row_new (_ ("Lease"), lease_text));
  adw_preferences_group_add (
      ADW_PREFERENCES_GROUP (group),
      fact_row_new (_ ("Description the router lists"), PH_UPNP_DESCRIPTION));
  return group;
}

/* The router's mappings that concern this computer, and the swarm port's holder if another. */
static GtkWidget *
mappings_group_new (PhUpnpFacts *facts)
{
  GtkWidget *group = adw_preferences_group_new ();
  guint shown = 0;

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group),
                                   _ ("Forwards to This Computer Now"));
  for (guint i = 0; facts->mappings && i < facts->mappings->len; i++)
    {
      const PhUpnpMapping *m = g_ptr_array_index (facts->mappings, i);
      g_autofree char *title = NULL;
      g_autofree char *lease = NULL;
      g_autofree char *subtitle = NULL;

      if (!m->to_this_host)
        continue;
      /* TRANSLATORS: a port mapping: "TCP 4001 → 192.168.1.20:4001" */
      title
          = g_strdup_printf (_ ("%s %u → %s:%u"), m->protocol ? m->protocol : "?", m->external_port,
                             m->internal_client ? m->internal_client : "?", m->internal_port);
      if (m->lease_s)
        {
          g_autofree char *left = duration_in_words (m->lease_s);

          /* TRANSLATORS: what remains of a lease: "52 minutes left" */
          lease = g_strdup_printf (_ ("%s left"), left);
        }
      else
        lease = g_strdup (_ ("permanent"));
      /* TRANSLATORS: "“Porthole (IPFS swarm)”, 52 minutes left, made by Porthole" */
      subtitle = g_strdup_printf (_ ("“%s”, %s%s"), m->description ? m->description : "", lease,
                                  m->ours ? _ (", made by Porthole") : "");
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), fact_row_new (title, subtitle));
      shown++;
    }
  if (facts->holder)
    {
      g_autofree char *title = g_strdup_printf (
          _ ("Port %u is forwarded to another computer, %s"), facts->holder->external_port,
          facts->holder->internal_client ? facts->holder->internal_client : _ ("unknown"));

      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), warning_row_new (title, TRUE));
      shown++;
    }
  if (shown == 0)
    {
      g_object_ref_sink (group);
      g_object_unref (group);
      return NULL;
    }
  return group;
}

static void
refresh (PhUpnpPage *self)
{
  PhDiagnosis *diagnosis = ph_fix_page_get_diagnosis (PH_FIX_PAGE (self));
  PhUpnpFacts *facts = get_facts (self);
  GtkWidget *group;

  ph_box_remove_all (self->facts_box);
  self->router_found = facts && facts->found;
  self->ours_listed = facts && (facts->our_tcp || facts->our_udp);

  if (diagnosis && !ph_diagnosis_forwarding_can_help (diagnosis))
    {
      GtkWidget *row = warning_row_new (
          _ ("Forwarding on this router cannot help: your provider or a second router stands "
             "between it and the internet."),
          TRUE);
      GtkWidget *button = gtk_button_new_with_mnemonic (_ ("_What Can Help"));

      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_set_name (button, "upnp-provider");
      g_signal_connect_swapped (button, "clicked", G_CALLBACK (provider_clicked_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
      group = adw_preferences_group_new ();
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
      gtk_box_append (self->facts_box, group);
    }

  if (facts == NULL || !facts->found)
    {
      g_autofree char *text = NULL;

      if (diagnosis == NULL)
        {
          update_buttons (self);
          return;
        }
      group = adw_preferences_group_new ();
      adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group),
                                       _ ("No Router Answered over UPnP"));
      text = g_strdup_printf (
          "%s%s%s", facts && facts->error ? facts->error : "", facts && facts->error ? "\n\n" : "",
          _ ("To use this road, turn on UPnP in the router’s admin page (it may be called “UPnP”, "
             "“UPnP IGD” or “Allow applications to open ports”), then check again. Or forward the "
             "port by hand: it works on every router."));
      {
        GtkWidget *label = gtk_label_new (text);

        gtk_label_set_wrap (GTK_LABEL (label), TRUE);
        gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
        gtk_label_set_xalign (GTK_LABEL (label), 0);
        adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), label);
      }
      gtk_box_append (self->facts_box, group);
      update_buttons (self);
      return;
    }

  gtk_box_append (self->facts_box, router_group_new (self, facts));
  if (facts->warnings && facts->warnings->len)
    {
      group = adw_preferences_group_new ();
      adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("Worth Knowing"));
      for (guint i = 0; i < facts->warnings->len; i++)
        {
          const PhUpnpWarning *w = g_ptr_array_index (facts->warnings, i);
          gboolean exposed = g_strcmp0 (w->code, "api-port-mapped") == 0
                             || g_strcmp0 (w->code, "gateway-port-mapped") == 0;

          adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                                     warning_row_new (w->message, exposed));
        }
      gtk_box_append (self->facts_box, group);
    }
  gtk_box_append (self->facts_box, plan_group_new (self));
  group = mappings_group_new (facts);
  if (group)
    gtk_box_append (self->facts_box, group);
  update_buttons (self);
}

/* ---- Apply and Undo ---- */

static void
explain_map_error (PhUpnpPage *self, const GError *error)
{
  PhUpnpFacts *facts = get_facts (self);
  guint port = swarm_port (self);
  g_autofree char *title = NULL;
  g_autofree char *body = NULL;
  const char *detail = error->message;

  self->show_manual = TRUE;
  if (error->domain != PH_UPNP_ERROR)
    {
      title = g_strdup (_ ("The port could not be forwarded"));
      body = g_strdup (error->message);
      detail = NULL;
    }
  else
    switch ((PhUpnpError) error->code)
      {
        case PH_UPNP_ERROR_CONFLICT:
          title = g_strdup_printf (_ ("Port %u is already forwarded to another computer"), port);
          body = facts && facts->holder && facts->holder->internal_client
                     ? g_strdup_printf (_ ("The router sends it to %s. Remove that forward in the "
                                           "router’s admin page, or give your node another swarm "
                                           "port, then try again."),
                                        facts->holder->internal_client)
                     : g_strdup (_ ("Remove that forward in the router’s admin page, or give your "
                                    "node another swarm port, then try again."));
          break;
        case PH_UPNP_ERROR_NOT_AUTHORIZED:
          title = g_strdup (_ ("The router did not allow it"));
          body = g_strdup (_ ("The router lets programs forward ports only in a restricted way "
                              "(often called “secure mode”), or the port is held by a forward "
                              "it does not let Porthole change. In its admin page, allow UPnP "
                              "port changes for this computer, or forward the port by hand."));
          break;
        case PH_UPNP_ERROR_ONLY_PERMANENT:
          title = g_strdup (_ ("The router takes only permanent forwards, and refused one"));
          body = g_strdup (_ ("Forward the port by hand in the router’s admin page instead."));
          break;
        case PH_UPNP_ERROR_NO_ROUTER:
        case PH_UPNP_ERROR_NOT_IGD:
        case PH_UPNP_ERROR_NO_ANSWER:
        case PH_UPNP_ERROR_DISCOVERY_FAILED:
          title = g_strdup (_ ("The router did not answer"));
          body = g_strdup (_ ("Its UPnP may be off. Turn on UPnP in the router’s admin page (it "
                              "may be called “UPnP”, “UPnP IGD” or “Allow applications to open "
                              "ports”), then try again. Or forward the port by hand."));
          break;
        case PH_UPNP_ERROR_TIMED_OUT:
          title = g_strdup (_ ("The router did not answer in time"));
          body = g_strdup (_ ("Try again in a moment. If it keeps happening, restart the router, "
                              "or forward the port by hand."));
          break;
        case PH_UPNP_ERROR_NO_PORTS_AVAILABLE:
        case PH_UPNP_ERROR_CONFLICT_OTHER:
          title = g_strdup (_ ("The router has no room for this forward"));
          body = g_strdup (_ ("Another setting on the router already uses the port, or its table "
                              "of forwards is full. Look at the port forwarding page in its admin "
                              "page, or forward the port by hand."));
          break;
        case PH_UPNP_ERROR_REFUSED_PORT:
          title = g_strdup (_ ("Porthole will not forward this port"));
          body = g_strdup (error->message);
          detail = NULL;
          break;
        case PH_UPNP_ERROR_BAD_ANSWER:
        case PH_UPNP_ERROR_INVALID_ARGS:
        case PH_UPNP_ERROR_ACTION_FAILED:
        case PH_UPNP_ERROR_NO_SUCH_MAPPING:
        case PH_UPNP_ERROR_NOT_OURS:
        case PH_UPNP_ERROR_FAILED:
        default:
          title = g_strdup (_ ("The router refused the request"));
          body = g_strdup (_ ("Try again in a moment, or forward the port by hand."));
          break;
      }
  show_outcome (self, PH_OUTCOME_ERROR, title, body, detail);
}

static void
map_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (PhUpnpPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) result
      = ph_actions_map_for_diagnosis_finish (PH_ACTIONS (source), res, &error);
  g_autofree char *title = NULL;
  g_autoptr (GString) body = g_string_new (NULL);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  set_busy (self, NULL);
  if (result == NULL)
    {
      explain_map_error (self, error);
      update_buttons (self);
      return;
    }

  self->mapped_here = TRUE;
  self->show_manual = FALSE;
  self->mapped_port = result->port;
  title = g_strdup_printf (_ ("Done: the router forwards port %u to this computer"), result->port);
  if (result->already_there)
    g_string_append (body, _ ("The port was forwarded to this computer already (by your node "
                              "itself, or another program); Porthole left it as it is."));
  else if (result->permanent)
    g_string_append (body, _ ("The router takes only permanent forwards, so this one stays until "
                              "it is removed: use Undo when you no longer want it."));
  else
    {
      g_autofree char *lease = duration_in_words (result->lease_s);

      g_string_append_printf (body,
                              _ ("The lease lasts %s; Porthole renews it while it runs. When "
                                 "Porthole stops, the router drops it when the lease ends."),
                              lease);
    }
  for (guint i = 0; result->warnings && i < result->warnings->len; i++)
    {
      const PhUpnpWarning *w = g_ptr_array_index (result->warnings, i);

      g_string_append_printf (body, "\n\n%s", w->message);
    }
  show_outcome (self, PH_OUTCOME_GOOD, title, body->str,
                _ ("Check now to confirm that peers on the internet can reach your node."));
  {
    g_autofree char *text = g_strdup_printf (_ ("Port %u forwarded"), result->port);
    AdwToast *toast = adw_toast_new (text);

    adw_toast_set_button_label (toast, _ ("_Undo"));
    adw_toast_set_action_name (toast, "upnp.undo");
    adw_toast_overlay_add_toast (self->toast_overlay, toast);
  }
  update_buttons (self);
  gtk_widget_grab_focus (self->check_button);
}

static void
apply_clicked_cb (PhUpnpPage *self)
{
  PhActions *actions = ph_fix_page_get_actions (PH_FIX_PAGE (self));
  PhDiagnosis *diagnosis = ph_fix_page_get_diagnosis (PH_FIX_PAGE (self));

  if (self->busy || actions == NULL || diagnosis == NULL)
    return;
  gtk_widget_set_visible (self->outcome_box, FALSE);
  set_busy (self, _ ("Asking the router…"));
  ph_actions_map_for_diagnosis_async (actions, diagnosis,
                                      ph_fix_page_get_cancellable (PH_FIX_PAGE (self)), map_done_cb,
                                      g_object_ref (self));
}

static void
unmap_done (PhUpnpPage *self, gboolean removed, const GError *error)
{
  if (!removed)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_busy (self, NULL);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        show_outcome (self, PH_OUTCOME_WARNING, _ ("Porthole does not know which router to ask"),
                      _ ("The router drops the forward when its lease ends; or remove it in the "
                         "router’s admin page."),
                      error->message);
      else
        show_outcome (self, PH_OUTCOME_ERROR, _ ("The forward could not be removed"),
                      _ ("Porthole stopped renewing it, so the router drops it when its lease "
                         "ends. Or remove it in the router’s admin page."),
                      error->message);
      return;
    }
  set_busy (self, NULL);
  self->mapped_here = FALSE;
  self->ours_listed = FALSE;
  show_outcome (self, PH_OUTCOME_GOOD, _ ("The forward is removed"),
                _ ("The router no longer forwards the port to this computer."), NULL);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_ ("Forward removed")));
  update_buttons (self);
}

static void
unmap_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (PhUpnpPage) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean removed = ph_actions_unmap_port_finish (PH_ACTIONS (source), res, &error);

  unmap_done (self, removed, error);
}

static void
unmap_for_diagnosis_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (PhUpnpPage) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean removed = ph_actions_unmap_for_diagnosis_finish (PH_ACTIONS (source), res, &error);

  unmap_done (self, removed, error);
}

static void
undo_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PhUpnpPage *self = PH_UPNP_PAGE (widget);
  PhActions *actions = ph_fix_page_get_actions (PH_FIX_PAGE (self));
  PhDiagnosis *diagnosis = ph_fix_page_get_diagnosis (PH_FIX_PAGE (self));
  guint port = self->mapped_here && self->mapped_port ? self->mapped_port : swarm_port (self);
  guint check_port;

  if (self->busy || actions == NULL || port == 0)
    return;
  set_busy (self, _ ("Removing the forward…"));
  check_port = diagnosis && ph_diagnosis_get_port (diagnosis) ? ph_diagnosis_get_port (diagnosis)
                                                              : PH_DEFAULT_PORT;
  /* The check's port: on the router this process mapped it on, else (made by an earlier run, or
   * before Porthole started) on the router the check found. */
  if (diagnosis != NULL && port == check_port)
    ph_actions_unmap_for_diagnosis_async (actions, diagnosis,
                                          ph_fix_page_get_cancellable (PH_FIX_PAGE (self)),
                                          unmap_for_diagnosis_done_cb, g_object_ref (self));
  else
    ph_actions_unmap_port_async (actions, NULL, port,
                                 ph_fix_page_get_cancellable (PH_FIX_PAGE (self)), unmap_done_cb,
                                 g_object_ref (self));
}

static void
check_clicked_cb (PhUpnpPage *self)
{
  ph_fix_page_check_again (PH_FIX_PAGE (self));
}

static void
manual_clicked_cb (PhUpnpPage *self)
{
  ph_fix_page_emit_show_fix (PH_FIX_PAGE (self), "forward");
}

/* ---- GObject ---- */

static void
ph_upnp_page_diagnosis_changed (PhFixPage *page, gboolean replaced)
{
  PhUpnpPage *self = PH_UPNP_PAGE (page);

  if (!self->busy)
    {
      gtk_widget_set_visible (self->outcome_box, FALSE);
      self->show_manual = FALSE;
    }
  refresh (self);
}

static void
ph_upnp_page_actions_changed (PhFixPage *page)
{
  refresh (PH_UPNP_PAGE (page)); /* the lease shown is the actions' */
}

static const char *
ph_upnp_page_real_get_title (PhFixPage *page)
{
  return _ ("Forward with UPnP");
}

static void
ph_upnp_page_class_init (PhUpnpPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  PhFixPageClass *fix_class = PH_FIX_PAGE_CLASS (klass);

  fix_class->diagnosis_changed = ph_upnp_page_diagnosis_changed;
  fix_class->actions_changed = ph_upnp_page_actions_changed;
  fix_class->get_title = ph_upnp_page_real_get_title;

  gtk_widget_class_install_action (widget_class, "upnp.undo", NULL, undo_action_cb);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/porthole/Porthole/ph-upnp-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, status_page);
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, facts_box);
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, outcome_box);
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, outcome_icon);
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, outcome_title);
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, outcome_body);
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, outcome_next);
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, busy_box);
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, busy_label);
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, apply_button);
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, check_button);
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, undo_button);
  gtk_widget_class_bind_template_child (widget_class, PhUpnpPage, manual_button);
  gtk_widget_class_bind_template_callback (widget_class, apply_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, check_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, manual_clicked_cb);
}

static void
ph_upnp_page_init (PhUpnpPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  ph_status_page_fill (self->status_page);
  /* The technical detail (the router's error code) is smaller than the explanation. */
  gtk_widget_add_css_class (GTK_WIDGET (self->outcome_next), "dim-label");
  gtk_widget_add_css_class (GTK_WIDGET (self->outcome_next), "caption");
  gtk_label_set_selectable (self->outcome_next, TRUE);
  refresh (self);
}

GtkWidget *
ph_upnp_page_new (void)
{
  return g_object_new (PH_TYPE_UPNP_PAGE, NULL);
}
