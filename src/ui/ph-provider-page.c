/* ph-provider-page.c: the wizard's "provider" page
 *
 * The honest page: when the internet provider's carrier-grade NAT or a second router stands
 * between the user's router and the internet, no forward on that router can let peers in over
 * IPv4. The page says why in plain words, naming the kind of address the router got on its
 * internet side, and lists what can help: IPv6 (leading to the ipv6 road), a public IPv4
 * address from the provider, bridge mode to take one of two routers out of the path.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "ph-provider-page.h"
#include "ph-ui-util.h"

struct _PhProviderPage
{
  PhFixPage parent_instance;

  AdwStatusPage *status_page;
  GtkBox *facts_box;
  GtkWidget *check_button;
};

G_DEFINE_FINAL_TYPE (PhProviderPage, ph_provider_page, PH_TYPE_FIX_PAGE)

typedef enum
{
  CAUSE_UNKNOWN,
  CAUSE_CGNAT,
  CAUSE_DOUBLE_NAT,
} Cause;

static gboolean
has_cause (PhDiagnosis *diagnosis, const char *cause)
{
  GPtrArray *causes = ph_diagnosis_get_family_causes (diagnosis, PH_FAMILY_IPV4);

  for (guint i = 0; causes && i < causes->len; i++)
    if (g_strcmp0 (g_ptr_array_index (causes, i), cause) == 0)
      return TRUE;
  return FALSE;
}

/* The probe's causes first; else what the router said its internet side is. */
static Cause
find_cause (PhDiagnosis *diagnosis)
{
  PhUpnpFacts *upnp = ph_diagnosis_get_upnp (diagnosis);

  if (has_cause (diagnosis, "cgnat"))
    return CAUSE_CGNAT;
  if (has_cause (diagnosis, "double-nat"))
    return CAUSE_DOUBLE_NAT;
  if (upnp && upnp->external_scope == PH_UPNP_EXTERNAL_CGNAT)
    return CAUSE_CGNAT;
  if (upnp && upnp->external_scope == PH_UPNP_EXTERNAL_PRIVATE)
    return CAUSE_DOUBLE_NAT;
  return CAUSE_UNKNOWN;
}

static GtkWidget *
wrapped_label_new (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  return label;
}

static void
road_activated_cb (AdwActionRow *row, PhProviderPage *self)
{
  ph_fix_page_emit_show_fix (PH_FIX_PAGE (self), g_object_get_data (G_OBJECT (row), "ph-road"));
}

static GtkWidget *
road_row_new (PhProviderPage *self, const char *name, const char *road, const char *title,
              const char *subtitle)
{
  GtkWidget *row = ph_text_row_new (title, subtitle);
  GtkWidget *arrow = gtk_image_new_from_icon_name ("go-next-symbolic");

  gtk_widget_set_name (row, name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (arrow), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Go there"), -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), arrow);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data (G_OBJECT (row), "ph-road", (gpointer) road);
  g_signal_connect (row, "activated", G_CALLBACK (road_activated_cb), self);
  return row;
}

/* The reason in words, then the router's internet address with its kind. */
static void
add_why (PhProviderPage *self, Cause cause)
{
  PhUpnpFacts *upnp = ph_diagnosis_get_upnp (ph_fix_page_get_diagnosis (PH_FIX_PAGE (self)));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *heading = gtk_label_new (_ ("Why"));
  const char *why;

  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_widget_add_css_class (heading, "heading");
  gtk_accessible_update_property (GTK_ACCESSIBLE (heading), GTK_ACCESSIBLE_PROPERTY_LEVEL, 2, -1);
  gtk_box_append (GTK_BOX (box), heading);
  switch (cause)
    {
      case CAUSE_CGNAT:
        why = _ ("Your internet provider shares one public IPv4 address among many customers "
                 "(this is called carrier-grade NAT). Your router’s own internet address is one "
                 "of the provider’s inner addresses, not an address on the internet. Peers who "
                 "dial the shared address reach the provider’s equipment, which does not know "
                 "that the connection is meant for you — and no setting on your router can "
                 "change that.");
        break;
      case CAUSE_DOUBLE_NAT:
        why = _ ("A second router sits between yours and the internet: your router’s internet "
                 "address is a private one, given by the router in front of it. A forward on "
                 "your router alone only reaches as far as that other router, which drops the "
                 "connection.");
        break;
      case CAUSE_UNKNOWN:
      default:
        why = _ ("Your router is not the last step to the internet: its internet side is not a "
                 "public address. A forward on it reaches only as far as the next router, which "
                 "drops the connection.");
        break;
    }
  gtk_box_append (GTK_BOX (box), wrapped_label_new (why));

  if (upnp && upnp->external_address && *upnp->external_address)
    {
      GtkWidget *list = gtk_list_box_new ();
      const char *kind;
      g_autofree char *value = NULL;

      switch (upnp->external_scope)
        {
          case PH_UPNP_EXTERNAL_CGNAT:
            kind = _ ("shared by your provider among customers (carrier-grade NAT, 100.64.0.0/10)");
            break;
          case PH_UPNP_EXTERNAL_PRIVATE:
            kind = _ ("private: handed out by another router, like the addresses in a home");
            break;
          case PH_UPNP_EXTERNAL_PUBLIC:
            kind = _ ("public");
            break;
          case PH_UPNP_EXTERNAL_UNROUTABLE:
          case PH_UPNP_EXTERNAL_NONE:
          default:
            kind = _ ("not usable on the internet");
            break;
        }
      /* TRANSLATORS: "100.64.12.7 — shared by your provider among customers (…)" */
      value = g_strdup_printf (_ ("%s — %s"), upnp->external_address, kind);
      gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
      gtk_widget_add_css_class (list, "boxed-list");
      gtk_list_box_append (GTK_LIST_BOX (list),
                           ph_text_row_new (_ ("Your router’s internet address"), value));
      gtk_box_append (GTK_BOX (box), list);
    }
  gtk_box_append (self->facts_box, box);
}

static GtkWidget *
help_group_new (PhProviderPage *self, Cause cause)
{
  GtkWidget *group = adw_preferences_group_new ();
  gboolean ipv6_works = ph_diagnosis_get_family_verdict (
                            ph_fix_page_get_diagnosis (PH_FIX_PAGE (self)), PH_FAMILY_IPV6)
                        == PH_VERDICT_REACHABLE;
  GtkWidget *isp;

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("What Can Help"));
  adw_preferences_group_add (
      ADW_PREFERENCES_GROUP (group),
      road_row_new (self, "provider-ipv6", "ipv6", _ ("Use IPv6"),
                    ipv6_works ? _ ("Peers can already reach your node over IPv6. Most IPFS "
                                    "peers have IPv6, so this may be enough.")
                               : _ ("IPv6 addresses are not shared, so nothing needs forwarding. "
                                    "Porthole can turn it on for this computer.")));
  if (cause == CAUSE_DOUBLE_NAT)
    {
      GtkWidget *bridge = ph_text_row_new (
          _ ("Take one router out of the path"),
          _ ("Put your own router into bridge (or access point) mode, so that only the router in "
             "front does NAT, and forward the port there. Or set the provider’s modem to bridge "
             "(“modem only”) mode, so that your router gets the public address."));

      gtk_widget_set_name (bridge, "provider-bridge");
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), bridge);
      adw_preferences_group_add (
          ADW_PREFERENCES_GROUP (group),
          road_row_new (self, "provider-forward", "forward", _ ("Forward the port on both routers"),
                        _ ("First on the router in front, to your router; then on your router, "
                           "to this computer. Porthole shows the values for your router.")));
    }
  isp = ph_text_row_new (
      _ ("Ask your provider for a public IPv4 address"),
      _ ("Many providers give one on request, sometimes for a small fee. Ask for “a "
         "public IPv4 address” or to be taken off carrier-grade NAT (CGNAT)."));
  gtk_widget_set_name (isp, "provider-isp");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), isp);
  return group;
}

static void
refresh (PhProviderPage *self)
{
  PhDiagnosis *diagnosis = ph_fix_page_get_diagnosis (PH_FIX_PAGE (self));
  Cause cause;

  ph_box_remove_all (self->facts_box);
  if (diagnosis == NULL)
    return;
  cause = find_cause (diagnosis);
  adw_status_page_set_title (self->status_page, cause == CAUSE_DOUBLE_NAT
                                                    ? _ ("Two Routers Stand in the Way")
                                                    : _ ("Forwarding Cannot Help Here"));
  add_why (self, cause);
  gtk_box_append (self->facts_box, help_group_new (self, cause));
}

static void
check_clicked_cb (PhProviderPage *self)
{
  ph_fix_page_check_again (PH_FIX_PAGE (self));
}

/* ---- GObject ---- */

static void
ph_provider_page_diagnosis_changed (PhFixPage *page, gboolean replaced)
{
  refresh (PH_PROVIDER_PAGE (page));
}

static const char *
ph_provider_page_real_get_title (PhFixPage *page)
{
  return _ ("Forwarding Cannot Help");
}

static void
ph_provider_page_class_init (PhProviderPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  PhFixPageClass *fix_class = PH_FIX_PAGE_CLASS (klass);

  fix_class->diagnosis_changed = ph_provider_page_diagnosis_changed;
  fix_class->get_title = ph_provider_page_real_get_title;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/porthole/Porthole/ph-provider-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PhProviderPage, status_page);
  gtk_widget_class_bind_template_child (widget_class, PhProviderPage, facts_box);
  gtk_widget_class_bind_template_child (widget_class, PhProviderPage, check_button);
  gtk_widget_class_bind_template_callback (widget_class, check_clicked_cb);
}

static void
ph_provider_page_init (PhProviderPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  ph_status_page_fill (self->status_page);
}

GtkWidget *
ph_provider_page_new (void)
{
  return g_object_new (PH_TYPE_PROVIDER_PAGE, NULL);
}
