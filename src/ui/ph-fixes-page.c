/* ph-fixes-page.c
 *
 * The order comes from core (ph_diagnosis_list_fixes): the first is recommended, the rest listed
 * are available. The roads core did not list stay reachable too — a person may know better than
 * our facts — but under "Less likely to help here", each with the reason.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "ph-fixes-page.h"

struct _PhFixesPage
{
  AdwBin parent_instance;

  GtkWidget *groups_box;
};

G_DEFINE_FINAL_TYPE (PhFixesPage, ph_fixes_page, ADW_TYPE_BIN)

#define N_ROADS 4

typedef struct
{
  const char *name;
  const char *icon;
  const char *title;
  const char *description;
} Road;

/* In PhFix order. */
static const Road roads[N_ROADS] = {
  { "ipv6", "network-wired-symbolic", N_ ("Use IPv6"),
    N_ ("Your computer’s own public address: no router changes") },
  { "upnp", "network-workgroup-symbolic", N_ ("Let Porthole Ask Your Router"),
    N_ ("One click, and undone as easily") },
  { "forward", "preferences-system-symbolic", N_ ("Forward the Port by Hand"),
    N_ ("On your router’s own page, with the exact values") },
  { "provider", "network-server-symbolic", N_ ("When Your Router Cannot Help"),
    N_ ("IPv6, your provider, or bridge mode") },
};

const char *
ph_fixes_page_road_title (PhFix fix)
{
  g_return_val_if_fail ((guint) fix < N_ROADS, NULL);
  return _ (roads[fix].title);
}

/* Why a road core did not list is less likely to help, from the facts it was given. */
static const char *
why_less_likely (PhDiagnosis *diagnosis, PhFix fix)
{
  PhUpnpFacts *upnp = ph_diagnosis_get_upnp (diagnosis);
  gboolean forwarding_helps = ph_diagnosis_forwarding_can_help (diagnosis);

  switch (fix)
    {
      case PH_FIX_IPV6:
        if (ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV6) == PH_VERDICT_REACHABLE)
          return _ ("Your node is already reachable over IPv6.");
        return _ ("Your network shows no sign of IPv6.");
      case PH_FIX_UPNP:
        if (!forwarding_helps)
          return _ ("Something beyond your router would still block the way.");
        if (!upnp || !upnp->found)
          return _ ("No router answered Porthole over UPnP.");
        if (ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV4) == PH_VERDICT_REACHABLE)
          return _ ("Your node is already reachable over IPv4.");
        break;
      case PH_FIX_FORWARD:
        if (!forwarding_helps)
          return _ ("Something beyond your router would still block the way.");
        if (ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV4) == PH_VERDICT_REACHABLE)
          return _ ("Your node is already reachable over IPv4.");
        break;
      case PH_FIX_PROVIDER:
        if (forwarding_helps)
          return _ ("Nothing beyond your router is in the way.");
        break;
      default:
        break;
    }
  return _ ("Porthole’s findings do not point this way.");
}

static GtkWidget *
road_row (PhFix fix, gboolean recommended, const char *why)
{
  const Road *road = &roads[fix];
  g_autofree char *name = g_strconcat ("road-", road->name, NULL);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new_from_icon_name (road->icon);
  GtkWidget *arrow = gtk_image_new_from_icon_name ("go-next-symbolic");
  g_autofree char *subtitle = NULL;

  gtk_widget_set_name (row, name);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ (road->title));
  /* a short line under each title: a long one wrapped beside the icons costs a frame or more of
   * layout; the reason a road is less likely replaces its description */
  if (why)
    subtitle = g_strdup (why);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle ? subtitle : _ (road->description));
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "win.show-fix");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (row), "s", road->name);

  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ (road->title), -1);
  gtk_widget_set_valign (icon, GTK_ALIGN_CENTER);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  if (recommended)
    /* the group's title says it to the eye; this says it to a screen reader on the row */
    gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                    _ ("Recommended"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (arrow), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Open"),
                                  -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), arrow);
  return row;
}

static GtkWidget *
group_new (const char *title, const char *description)
{
  GtkWidget *group = adw_preferences_group_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  if (description)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), description);
  return group;
}

void
ph_fixes_page_set_diagnosis (PhFixesPage *self, PhDiagnosis *diagnosis)
{
  PhFix fixes[4];
  guint n_fixes;
  gboolean listed[N_ROADS] = { FALSE };
  GtkWidget *child;
  GtkWidget *group = NULL;

  g_return_if_fail (PH_IS_FIXES_PAGE (self));
  g_return_if_fail (PH_IS_DIAGNOSIS (diagnosis));

  while ((child = gtk_widget_get_first_child (self->groups_box)))
    gtk_box_remove (GTK_BOX (self->groups_box), child);

  n_fixes = ph_diagnosis_list_fixes (diagnosis, fixes);
  for (guint i = 0; i < n_fixes; i++)
    {
      if ((guint) fixes[i] >= N_ROADS || listed[fixes[i]])
        continue;
      listed[fixes[i]] = TRUE;
      if (i == 0)
        {
          group = group_new (_ ("Recommended"), _ ("The most likely to work here"));
          adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                                     road_row (fixes[i], TRUE, NULL));
          gtk_box_append (GTK_BOX (self->groups_box), group);
          group = NULL;
          continue;
        }
      if (!group)
        {
          group = group_new (_ ("Also Possible"), NULL);
          gtk_box_append (GTK_BOX (self->groups_box), group);
        }
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), road_row (fixes[i], FALSE, NULL));
    }

  group = NULL;
  for (guint fix = 0; fix < N_ROADS; fix++)
    {
      if (listed[fix])
        continue;
      if (!group)
        {
          group = group_new (_ ("Less Likely to Help Here"),
                             n_fixes ? NULL
                                     : _ ("Your node is already reachable where it matters. "
                                          "These stay here in case you know better."));
          gtk_box_append (GTK_BOX (self->groups_box), group);
        }
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                                 road_row (fix, FALSE, why_less_likely (diagnosis, fix)));
    }
}

static void
ph_fixes_page_class_init (PhFixesPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/porthole/Porthole/ph-fixes-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PhFixesPage, groups_box);
}

static void
ph_fixes_page_init (PhFixesPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
ph_fixes_page_new (void)
{
  return g_object_new (PH_TYPE_FIXES_PAGE, NULL);
}
