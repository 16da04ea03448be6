/* ph-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <sys/socket.h>

#include "core/ph-check.h"
#include "ph-window.h"

struct _PhWindow
{
  AdwApplicationWindow parent_instance;

  AdwToastOverlay *toast_overlay;
  AdwStatusPage *status_page;
  GtkWidget *check_button;
  GtkWidget *spinner;
  AdwPreferencesGroup *verdict_group;
  AdwPreferencesGroup *lan_group;
  AdwPreferencesGroup *capabilities_group;

  GSettings *settings;
  GCancellable *cancellable;
  GPtrArray *result_rows; /* rows added to verdict_group and lan_group, for the next refresh */
};

G_DEFINE_FINAL_TYPE (PhWindow, ph_window, ADW_TYPE_APPLICATION_WINDOW)

typedef struct
{
  const char *title;
  const char *subtitle;
  gboolean works;
} Capability;

/* Keep in step with the status table in README.md. */
static const Capability capabilities[] = {
  { N_ ("Read this machine’s network facts"),
    N_ ("Interfaces, addresses, gateways and NetworkManager’s IPv6 setting"), TRUE },
  { N_ ("Ask peers on the internet to dial back"),
    N_ ("AutoNAT v1 and v2 probes over IPv4 and IPv6"), TRUE },
  { N_ ("Fix it for you"), N_ ("Turn on IPv6, map the port over UPnP, or guide a manual forward"),
    FALSE },
  { N_ ("Read your IPFS node’s own view"),
    N_ ("Kubo’s RPC API: its port, settings and own view (in “porthole --check” for now)"),
    FALSE },
  { N_ ("Watch from the panel"), N_ ("Tray indicator and notifications when reachability changes"),
    FALSE },
};

static GtkWidget *
row_new (const char *title, const char *subtitle, const char *value)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  if (value)
    {
      GtkWidget *label = gtk_label_new (value);

      gtk_label_set_selectable (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_xalign (GTK_LABEL (label), 1.0);
      gtk_widget_add_css_class (label, "dim-label");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                      value, -1);
    }
  return row;
}

static void
add_result_row (PhWindow *self, AdwPreferencesGroup *group, GtkWidget *row)
{
  adw_preferences_group_add (group, row);
  g_ptr_array_add (self->result_rows, g_object_ref (row));
}

static void
clear_results (PhWindow *self)
{
  for (guint i = 0; i < self->result_rows->len; i++)
    {
      GtkWidget *row = g_ptr_array_index (self->result_rows, i);
      GtkWidget *group = gtk_widget_get_ancestor (row, ADW_TYPE_PREFERENCES_GROUP);

      if (group)
        adw_preferences_group_remove (ADW_PREFERENCES_GROUP (group), row);
    }
  g_ptr_array_set_size (self->result_rows, 0);
}

static const char *
verdict_label (PhVerdict verdict)
{
  switch (verdict)
    {
      case PH_VERDICT_REACHABLE:
        return _ ("Reachable");
      case PH_VERDICT_UNREACHABLE:
        return _ ("Not reachable");
      case PH_VERDICT_UNKNOWN:
      default:
        return _ ("Unknown");
    }
}

static void
show_verdict (PhWindow *self, PhDiagnosis *diagnosis)
{
  for (PhFamily f = PH_FAMILY_IPV4; f <= PH_FAMILY_IPV6; f++)
    {
      GPtrArray *causes = ph_diagnosis_get_family_causes (diagnosis, f);
      const char *why
          = causes->len ? ph_diagnosis_explain_cause (g_ptr_array_index (causes, 0)) : NULL;
      GtkWidget *row = row_new (f == PH_FAMILY_IPV6 ? "IPv6" : "IPv4", why,
                                verdict_label (ph_diagnosis_get_family_verdict (diagnosis, f)));

      add_result_row (self, self->verdict_group, row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->verdict_group), TRUE);
}

static void
show_addresses (PhWindow *self, const PhLanFacts *lan)
{
  for (guint i = 0; i < lan->addresses->len; i++)
    {
      const PhLanAddress *addr = g_ptr_array_index (lan->addresses, i);
      g_autofree char *title = NULL;
      g_autofree char *subtitle = NULL;

      if (addr->scope == PH_IP_SCOPE_LOOPBACK)
        continue;
      title = g_strdup_printf ("%s/%u", addr->address, addr->prefix);
      /* TRANSLATORS: "IPv6 on wlp2s0, public, temporary" */
      subtitle = g_strdup_printf (_ ("%s on %s, %s%s"), addr->family == AF_INET6 ? "IPv6" : "IPv4",
                                  addr->ifname, ph_ip_scope_to_string (addr->scope),
                                  addr->temporary ? _ (", temporary") : "");
      add_result_row (self, self->lan_group, row_new (title, subtitle, NULL));
    }
  for (guint i = 0; i < lan->gateways->len; i++)
    {
      const PhLanRoute *route = g_ptr_array_index (lan->gateways, i);
      g_autofree char *subtitle = g_strdup_printf (_ ("%s default gateway on %s"),
                                                   route->family == AF_INET6 ? "IPv6" : "IPv4",
                                                   route->ifname ? route->ifname : "?");

      add_result_row (self, self->lan_group,
                      row_new (route->gateway ? route->gateway : _ ("On link"), subtitle, NULL));
    }
}

static void
show_network_manager (PhWindow *self, const PhNmFacts *nm)
{
  if (!nm || !nm->running)
    {
      add_result_row (
          self, self->lan_group,
          row_new (_ ("NetworkManager"), NULL, _ ("Not running: facts come from the kernel")));
      return;
    }
  add_result_row (self, self->lan_group,
                  row_new (_ ("Active connection"), nm->device,
                           nm->connection_id ? nm->connection_id : _ ("None")));
  add_result_row (
      self, self->lan_group,
      row_new (_ ("IPv6 setting"), NULL, nm->ipv6_method ? nm->ipv6_method : _ ("Unknown")));
}

static void
set_checking (PhWindow *self, gboolean checking)
{
  gtk_widget_set_visible (self->spinner, checking);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), checking);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.check", !checking);
}

static void
check_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhDiagnosis) diagnosis = ph_check_run_finish (result, &error);
  PhWindow *self;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = PH_WINDOW (user_data);
  set_checking (self, FALSE);
  g_clear_object (&self->cancellable);

  if (!diagnosis)
    {
      adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (error->message));
      return;
    }

  clear_results (self);
  show_verdict (self, diagnosis);
  if (ph_diagnosis_get_lan (diagnosis))
    show_addresses (self, ph_diagnosis_get_lan (diagnosis));
  show_network_manager (self, ph_diagnosis_get_nm (diagnosis));
  gtk_widget_set_visible (GTK_WIDGET (self->lan_group), TRUE);
}

static void
check_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PhWindow *self = PH_WINDOW (widget);
  g_auto (PhCheckOptions) options = { 0 };

  if (self->cancellable)
    return;
  ph_application_get_check_options (PH_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))),
                                    &options);

  self->cancellable = g_cancellable_new ();
  set_checking (self, TRUE);
  ph_check_run_async (&options, self->cancellable, check_done_cb, self);
}

static void
add_capabilities (PhWindow *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (capabilities); i++)
    {
      const Capability *cap = &capabilities[i];
      GtkWidget *row
          = row_new (_ (cap->title), _ (cap->subtitle), cap->works ? _ ("Works") : _ ("Not yet"));

      adw_preferences_group_add (self->capabilities_group, row);
    }
}

static void
ph_window_dispose (GObject *object)
{
  PhWindow *self = PH_WINDOW (object);

  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->result_rows, g_ptr_array_unref);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (ph_window_parent_class)->dispose (object);
}

static void
ph_window_class_init (PhWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ph_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/porthole/Porthole/ph-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PhWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PhWindow, status_page);
  gtk_widget_class_bind_template_child (widget_class, PhWindow, check_button);
  gtk_widget_class_bind_template_child (widget_class, PhWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, PhWindow, verdict_group);
  gtk_widget_class_bind_template_child (widget_class, PhWindow, lan_group);
  gtk_widget_class_bind_template_child (widget_class, PhWindow, capabilities_group);

  gtk_widget_class_install_action (widget_class, "win.check", NULL, check_activated);
}

static void
ph_window_init (PhWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->result_rows = g_ptr_array_new_with_free_func (g_object_unref);
  self->settings = g_settings_new (APP_ID);
  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);

  add_capabilities (self);
}

PhWindow *
ph_window_new (PhApplication *application)
{
  PhWindow *self = g_object_new (PH_TYPE_WINDOW, "application", application, NULL);

  /* People open Porthole to get the answer: start checking at once. */
  gtk_widget_activate_action (GTK_WIDGET (self), "win.check", NULL);
  return self;
}
