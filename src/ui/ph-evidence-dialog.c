/* ph-evidence-dialog.c
 *
 * The evidence behind the verdict, for the curious and for whoever helps them: every probe with
 * what the server said and how long it took, and the LAN, NetworkManager and router facts. "Copy"
 * puts the same as `porthole --check` prints on the clipboard, to paste into a forum post.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <sys/socket.h>

#include "core/ph-verdict.h"
#include "ph-check-page.h"
#include "ph-evidence-dialog.h"

struct _PhEvidenceDialog
{
  AdwWindow parent_instance;

  PhDiagnosis *diagnosis;
  AdwToastOverlay *toasts;
  AdwPreferencesPage *page;
};

G_DEFINE_FINAL_TYPE (PhEvidenceDialog, ph_evidence_dialog, ADW_TYPE_WINDOW)

static const char *
family_label (int family)
{
  return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* A short value goes beside the title; a long one (a multiaddr, a sentence) under it, where it can
 * wrap: beside the title it would squeeze both at 360 px. */
static GtkWidget *
row_new (const char *title, const char *subtitle, const char *value)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (value && g_utf8_strlen (value, -1) > 24)
    {
      g_autofree char *both = subtitle ? g_strdup_printf ("%s\n%s", subtitle, value) : NULL;

      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), both ? both : value);
      return row;
    }
  if (subtitle)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  if (value)
    {
      GtkWidget *label = gtk_label_new (value);

      gtk_label_set_selectable (GTK_LABEL (label), TRUE);
      gtk_label_set_xalign (GTK_LABEL (label), 1.0);
      gtk_widget_add_css_class (label, "dim-label");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                      value, -1);
    }
  return row;
}

static AdwPreferencesGroup *
group_add (PhEvidenceDialog *self, const char *title, const char *description)
{
  GtkWidget *group = adw_preferences_group_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  if (description)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), description);
  adw_preferences_page_add (self->page, ADW_PREFERENCES_GROUP (group));
  return ADW_PREFERENCES_GROUP (group);
}

static const char *
protocol_label (PhProbeProtocol protocol)
{
  return protocol == PH_PROBE_PROTOCOL_AUTONAT_V1 ? "AutoNAT v1" : "AutoNAT v2";
}

static const char *
result_icon (PhProbeResult result)
{
  switch (result)
    {
      case PH_PROBE_RESULT_REACHABLE:
        return "object-select-symbolic";
      case PH_PROBE_RESULT_UNREACHABLE:
      case PH_PROBE_RESULT_DIAL_BACK_FAILED:
      case PH_PROBE_RESULT_NO_CANDIDATE:
        return "action-unavailable-symbolic";
      default:
        return "dialog-question-symbolic";
    }
}

static void
probe_expanded_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  AdwExpanderRow *row = ADW_EXPANDER_ROW (object);
  const PhProbeEvidence *e = g_object_get_data (object, "probe");

  /* the evidence belongs to the dialog's diagnosis, which outlives its rows */
  if (!e || !adw_expander_row_get_expanded (row))
    return;
  g_object_set_data (object, "probe", NULL);
  adw_expander_row_add_row (row, row_new (_ ("Peer"), NULL, e->server ? e->server : "—"));
  adw_expander_row_add_row (
      row, row_new (_ ("Result code"), NULL, ph_probe_result_to_string (e->result)));
  adw_expander_row_add_row (row, row_new (_ ("Address it was asked to dial"), NULL,
                                          e->address ? e->address : _ ("None")));
  if (e->observed)
    adw_expander_row_add_row (row, row_new (_ ("Address it saw us come from"), NULL, e->observed));
  if (e->detail && e->detail[0])
    adw_expander_row_add_row (row, row_new (_ ("What it said"), NULL, e->detail));
}

static void
add_probes (PhEvidenceDialog *self)
{
  GPtrArray *probes = ph_diagnosis_get_probes (self->diagnosis);
  AdwPreferencesGroup *group
      = group_add (self, _ ("What Each Peer Answered"),
                   _ ("Each peer was asked to dial your node back at the address it saw."));

  if (!probes || !probes->len)
    {
      adw_preferences_group_add (group, row_new (_ ("No peer was asked"), NULL, NULL));
      return;
    }
  for (guint i = 0; i < probes->len; i++)
    {
      const PhProbeEvidence *e = g_ptr_array_index (probes, i);
      g_autofree char *host = ph_check_page_server_host (e->server);
      /* TRANSLATORS: "IPv4 · AutoNAT v2 · 120 ms" */
      g_autofree char *subtitle
          = g_strdup_printf (_ ("%s · %s · %u ms"), e->family == PH_FAMILY_IPV6 ? "IPv6" : "IPv4",
                             protocol_label (e->protocol), e->ms);
      GtkWidget *row = adw_expander_row_new ();
      GtkWidget *icon = gtk_image_new_from_icon_name (result_icon (e->result));
      const char *said = ph_check_page_describe_result (e->result);
      /* TRANSLATORS: what a peer answered, then how it was asked: "Could not reach it · IPv4 ·
       * AutoNAT v2 · 183 ms" */
      g_autofree char *line = g_strdup_printf (_ ("%s · %s"), said, subtitle);

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), host);
      adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row), line);
      gtk_widget_add_css_class (icon, ph_check_page_result_style (e->result));
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL, said,
                                      -1);
      adw_expander_row_add_prefix (ADW_EXPANDER_ROW (row), icon);

      /* its details are made when first expanded: long rows are slow to lay out, and most
       * people open one or two */
      g_object_set_data (G_OBJECT (row), "probe", (gpointer) e);
      g_signal_connect (row, "notify::expanded", G_CALLBACK (probe_expanded_cb), NULL);
      adw_preferences_group_add (group, row);
    }
}

static const char *
scope_label (PhIpScope scope)
{
  switch (scope)
    {
      case PH_IP_SCOPE_PUBLIC:
        return _ ("public");
      case PH_IP_SCOPE_PRIVATE:
        return _ ("private");
      case PH_IP_SCOPE_CGNAT:
        return _ ("provider’s shared range");
      case PH_IP_SCOPE_ULA:
        return _ ("local only");
      case PH_IP_SCOPE_LINK_LOCAL:
        return _ ("link-local");
      case PH_IP_SCOPE_LOOPBACK:
        return _ ("loopback");
      case PH_IP_SCOPE_DOCUMENTATION:
      case PH_IP_SCOPE_UNSPECIFIED:
      case PH_IP_SCOPE_MULTICAST:
      case PH_IP_SCOPE_RESERVED:
      default:
        return _ ("not routed on the internet");
    }
}

static void
add_machine (PhEvidenceDialog *self)
{
  const PhLanFacts *lan = ph_diagnosis_get_lan (self->diagnosis);
  const PhNmFacts *nm = ph_diagnosis_get_nm (self->diagnosis);
  AdwPreferencesGroup *group = group_add (self, _ ("This Computer"), NULL);
  g_autofree char *port = g_strdup_printf ("%u", ph_diagnosis_get_port (self->diagnosis));

  adw_preferences_group_add (group, row_new (_ ("Port checked"), NULL, port));
  for (guint i = 0; lan && lan->addresses && i < lan->addresses->len; i++)
    {
      const PhLanAddress *addr = g_ptr_array_index (lan->addresses, i);
      g_autofree char *title = NULL;
      g_autofree char *subtitle = NULL;

      if (addr->scope == PH_IP_SCOPE_LOOPBACK)
        continue;
      title = g_strdup_printf ("%s/%u", addr->address, addr->prefix);
      /* TRANSLATORS: "IPv6 on wlp2s0, public, temporary" */
      subtitle
          = g_strdup_printf (_ ("%s on %s, %s%s"), family_label (addr->family), addr->ifname,
                             scope_label (addr->scope), addr->temporary ? _ (", temporary") : "");
      adw_preferences_group_add (group, row_new (title, subtitle, NULL));
    }
  for (guint i = 0; lan && lan->gateways && i < lan->gateways->len; i++)
    {
      const PhLanRoute *route = g_ptr_array_index (lan->gateways, i);
      /* TRANSLATORS: "IPv4 default gateway on eth0" */
      g_autofree char *subtitle
          = g_strdup_printf (_ ("%s default gateway on %s"), family_label (route->family),
                             route->ifname ? route->ifname : "?");

      adw_preferences_group_add (
          group, row_new (route->gateway ? route->gateway : _ ("On link"), subtitle, NULL));
    }

  if (!nm || !nm->running)
    {
      adw_preferences_group_add (group, row_new (_ ("NetworkManager"), NULL,
                                                 _ ("Not running: facts come from the kernel")));
      return;
    }
  adw_preferences_group_add (group, row_new (_ ("Active connection"), nm->device,
                                             nm->connection_id ? nm->connection_id : _ ("None")));
  adw_preferences_group_add (
      group, row_new (_ ("IPv6 setting"), NULL, nm->ipv6_method ? nm->ipv6_method : _ ("Unknown")));
}

static const char *
external_scope_label (PhUpnpExternalScope scope)
{
  switch (scope)
    {
      case PH_UPNP_EXTERNAL_PUBLIC:
        return _ ("public");
      case PH_UPNP_EXTERNAL_PRIVATE:
        return _ ("private: another router sits beyond this one");
      case PH_UPNP_EXTERNAL_CGNAT:
        return _ ("your provider’s shared range (carrier-grade NAT)");
      case PH_UPNP_EXTERNAL_UNROUTABLE:
        return _ ("not routed on the internet");
      case PH_UPNP_EXTERNAL_NONE:
      default:
        return _ ("not told");
    }
}

static void
add_router (PhEvidenceDialog *self)
{
  PhUpnpFacts *upnp = ph_diagnosis_get_upnp (self->diagnosis);
  AdwPreferencesGroup *group = group_add (self, _ ("Your Router"), NULL);

  if (!upnp)
    {
      adw_preferences_group_add (group, row_new (_ ("Not asked"), NULL, NULL));
      return;
    }
  if (!upnp->found)
    {
      adw_preferences_group_add (group,
                                 row_new (_ ("No router answered over UPnP"), upnp->error, NULL));
      return;
    }
  if (upnp->router)
    {
      const PhUpnpDeviceInfo *info = upnp->router;
      g_autofree char *model = g_strjoin (" ", info->manufacturer ? info->manufacturer : "",
                                          info->model_name ? info->model_name : "",
                                          info->model_number ? info->model_number : "", NULL);

      g_strstrip (model);
      adw_preferences_group_add (group,
                                 row_new (info->friendly_name ? info->friendly_name : _ ("Router"),
                                          model[0] ? model : NULL, NULL));
    }
  adw_preferences_group_add (group, row_new (_ ("Connected to the internet"), NULL,
                                             upnp->connected ? _ ("Yes") : _ ("No")));
  if (upnp->external_address && upnp->external_address[0])
    adw_preferences_group_add (group, row_new (_ ("Its address on the internet side"),
                                               external_scope_label (upnp->external_scope),
                                               upnp->external_address));
  if (upnp->lan_address)
    adw_preferences_group_add (
        group, row_new (_ ("This computer as it sees it"), NULL, upnp->lan_address));
  for (guint i = 0; upnp->mappings && i < upnp->mappings->len; i++)
    {
      const PhUpnpMapping *m = g_ptr_array_index (upnp->mappings, i);
      /* TRANSLATORS: a port forwarding on the router: "TCP 4001 → 192.168.1.20:4001" */
      g_autofree char *title = g_strdup_printf (_ ("%s %u → %s:%u"), m->protocol, m->external_port,
                                                m->internal_client, m->internal_port);

      adw_preferences_group_add (group, row_new (title, m->description,
                                                 m->ours           ? _ ("Porthole’s")
                                                 : m->to_this_host ? _ ("To this computer")
                                                                   : NULL));
    }
  for (guint i = 0; upnp->warnings && i < upnp->warnings->len; i++)
    {
      const PhUpnpWarning *w = g_ptr_array_index (upnp->warnings, i);

      adw_preferences_group_add (group, row_new (_ ("Warning"), w->message, NULL));
    }
}

static void
copy_clicked (GtkButton *button, PhEvidenceDialog *self)
{
  g_autofree char *text = ph_diagnosis_to_text (self->diagnosis);

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
  adw_toast_overlay_add_toast (self->toasts, adw_toast_new (_ ("Copied")));
}

static void
ph_evidence_dialog_dispose (GObject *object)
{
  PhEvidenceDialog *self = PH_EVIDENCE_DIALOG (object);

  g_clear_object (&self->diagnosis);
  G_OBJECT_CLASS (ph_evidence_dialog_parent_class)->dispose (object);
}

static void
ph_evidence_dialog_class_init (PhEvidenceDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ph_evidence_dialog_dispose;
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ph_evidence_dialog_init (PhEvidenceDialog *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *copy = gtk_button_new_from_icon_name ("edit-copy-symbolic");

  gtk_window_set_title (GTK_WINDOW (self), _ ("Evidence"));
  gtk_window_set_default_size (GTK_WINDOW (self), 560, 640);
  gtk_widget_set_size_request (GTK_WIDGET (self), 360, 294);
  gtk_window_set_modal (GTK_WINDOW (self), TRUE);
  gtk_window_set_destroy_with_parent (GTK_WINDOW (self), TRUE);

  gtk_widget_set_name (copy, "evidence-copy");
  gtk_widget_set_tooltip_text (copy, _ ("Copy all of it as text"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (copy), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Copy all of it as text"), -1);
  g_signal_connect (copy, "clicked", G_CALLBACK (copy_clicked), self);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), copy);
  gtk_box_append (GTK_BOX (box), header);

  self->toasts = ADW_TOAST_OVERLAY (adw_toast_overlay_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->toasts), TRUE);
  self->page = ADW_PREFERENCES_PAGE (adw_preferences_page_new ());
  adw_toast_overlay_set_child (self->toasts, GTK_WIDGET (self->page));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->toasts));
  adw_window_set_content (ADW_WINDOW (self), box);
}

PhEvidenceDialog *
ph_evidence_dialog_new (GtkWindow *parent, PhDiagnosis *diagnosis)
{
  PhEvidenceDialog *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (PH_IS_DIAGNOSIS (diagnosis), NULL);

  self = g_object_new (PH_TYPE_EVIDENCE_DIALOG, "transient-for", parent, NULL);
  self->diagnosis = g_object_ref (diagnosis);
  add_probes (self);
  add_router (self);
  add_machine (self);
  return self;
}
