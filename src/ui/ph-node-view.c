/* ph-node-view.c
 *
 * The node's own AutoNAT view can be hours old while ours is fresh, so both are shown side by side
 * and the difference is named rather than hidden. Only the fact structs of the diagnosis are read
 * here (ARCHITECTURE.md: the UI calls no net/ functions).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "ph-node-view.h"
#include "ph-ui-util.h"

struct _PhNodeView
{
  AdwBin parent_instance;
};

G_DEFINE_FINAL_TYPE (PhNodeView, ph_node_view, ADW_TYPE_BIN)

/* A short value beside the title, a long one under it: beside, it would squeeze both at 360 px. */
static GtkWidget *
row_with_value (const char *title, const char *value, const char *style)
{
  GtkWidget *row;
  GtkWidget *label;

  if (g_utf8_strlen (value, -1) > 20)
    return ph_text_row_new (title, value);

  row = ph_text_row_new (title, NULL);
  label = gtk_label_new (value);
  gtk_label_set_xalign (GTK_LABEL (label), 1.0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  if (style)
    gtk_widget_add_css_class (label, style);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, value,
                                  -1);
  return row;
}

static GtkWidget *
advice_row (const PhKuboAdvice *advice, gboolean warning)
{
  GtkWidget *row = ph_text_row_new (warning ? _ ("Warning") : _ ("Suggestion"), advice->message);
  GtkWidget *icon = gtk_image_new_from_icon_name (warning ? "dialog-warning-symbolic"
                                                          : "dialog-information-symbolic");

  if (warning)
    gtk_widget_add_css_class (icon, "warning");
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  warning ? _ ("Warning") : _ ("Suggestion"), -1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  if (advice->key)
    gtk_widget_set_tooltip_text (row, advice->key);
  return row;
}

typedef struct
{
  char *message;
  char *key;
  gboolean warning;
} Advice;

static void
advice_free (gpointer data)
{
  Advice *advice = data;

  g_free (advice->message);
  g_free (advice->key);
  g_free (advice);
}

/* The advice rows are made when the row is first expanded: their long sentences are the costliest
 * text on the result page to lay out, and the result must show without a stall. */
static void
advice_expanded_cb (GObject *row, GParamSpec *pspec, gpointer user_data)
{
  GPtrArray *advice = g_object_get_data (row, "advice");

  if (!advice || !adw_expander_row_get_expanded (ADW_EXPANDER_ROW (row)))
    return;
  for (guint i = 0; i < advice->len; i++)
    {
      const Advice *a = g_ptr_array_index (advice, i);
      PhKuboAdvice view = { NULL, a->message, a->key };

      adw_expander_row_add_row (ADW_EXPANDER_ROW (row), advice_row (&view, a->warning));
    }
  g_object_set_data (row, "advice", NULL);
}

static void
collect (GPtrArray *out, GPtrArray *advice, gboolean warning)
{
  for (guint i = 0; advice && i < advice->len; i++)
    {
      const PhKuboAdvice *in = g_ptr_array_index (advice, i);
      Advice *a = g_new0 (Advice, 1);

      a->message = g_strdup (in->message);
      a->key = g_strdup (in->key);
      a->warning = warning;
      g_ptr_array_add (out, a);
    }
}

static void
add_advice (AdwPreferencesGroup *group, const PhKuboNode *node)
{
  guint n_warnings = node->warnings ? node->warnings->len : 0;
  guint n_suggestions = node->suggestions ? node->suggestions->len : 0;
  GPtrArray *advice;
  GtkWidget *row;
  GtkWidget *icon;
  g_autofree char *subtitle = NULL;
  g_autofree char *warnings = NULL;
  g_autofree char *suggestions = NULL;

  if (!n_warnings && !n_suggestions)
    return;
  advice = g_ptr_array_new_with_free_func (advice_free);
  collect (advice, node->warnings, TRUE);
  collect (advice, node->suggestions, FALSE);

  row = adw_expander_row_new ();
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ ("What it should change"));
  warnings = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE, "%u warning", "%u warnings", n_warnings), n_warnings);
  suggestions = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE, "%u suggestion", "%u suggestions", n_suggestions),
      n_suggestions);
  if (n_warnings && n_suggestions)
    /* TRANSLATORS: "2 warnings, 1 suggestion" */
    subtitle = g_strdup_printf (_ ("%s, %s"), warnings, suggestions);
  else
    subtitle = g_strdup (n_warnings ? warnings : suggestions);
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row), subtitle);
  icon = gtk_image_new_from_icon_name (n_warnings ? "dialog-warning-symbolic"
                                                  : "dialog-information-symbolic");
  if (n_warnings)
    gtk_widget_add_css_class (icon, "warning");
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  n_warnings ? _ ("Warning") : _ ("Suggestion"), -1);
  adw_expander_row_add_prefix (ADW_EXPANDER_ROW (row), icon);
  g_object_set_data_full (G_OBJECT (row), "advice", advice, (GDestroyNotify) g_ptr_array_unref);
  g_signal_connect (row, "notify::expanded", G_CALLBACK (advice_expanded_cb), NULL);
  adw_preferences_group_add (group, row);
}

static char *
describe_state (const PhKuboNode *node)
{
  const char *version = node->version ? node->version->version : NULL;

  switch (node->state)
    {
      case PH_KUBO_STATE_RUNNING:
        /* TRANSLATORS: %s is kubo's version, e.g. "0.40.1" */
        return version ? g_strdup_printf (_ ("Running, %s"), version) : g_strdup (_ ("Running"));
      case PH_KUBO_STATE_NOT_RUNNING:
        return g_strdup (_ ("Installed, but its daemon is not running"));
      case PH_KUBO_STATE_REFUSED:
        return g_strdup (_ ("Running, but it refuses Porthole’s questions"));
      case PH_KUBO_STATE_TOO_OLD:
        return version ? g_strdup_printf (_ ("Running, but version %s is too old to ask"), version)
                       : g_strdup (_ ("Running, but too old to ask"));
      case PH_KUBO_STATE_FAILED:
        return g_strdup (_ ("Could not be read"));
      case PH_KUBO_STATE_NO_NODE:
      default:
        return g_strdup (_ ("Not found"));
    }
}

static const char *
describe_nat (const char *nat)
{
  if (!nat)
    return NULL;
  if (g_str_equal (nat, "cgnat"))
    return _ ("It sees your provider’s shared address (carrier-grade NAT) in the way.");
  if (g_str_equal (nat, "double-nat"))
    return _ ("It sees two routers in a row (double NAT) in the way.");
  return NULL;
}

/* What Porthole found, in the words of the node's own view, so the two compare at a glance. */
static const char *
our_view (PhDiagnosis *diagnosis, const char **style, gboolean *reachable)
{
  PhVerdict v4 = ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV4);
  PhVerdict v6 = ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV6);

  *reachable = v4 == PH_VERDICT_REACHABLE || v6 == PH_VERDICT_REACHABLE;
  if (v4 == PH_VERDICT_REACHABLE)
    {
      *style = "success";
      return _ ("Reachable");
    }
  if (v6 == PH_VERDICT_REACHABLE)
    {
      *style = "success";
      return _ ("Reachable over IPv6");
    }
  if (v4 == PH_VERDICT_UNREACHABLE || v6 == PH_VERDICT_UNREACHABLE)
    {
      *style = "error";
      return _ ("Not reachable");
    }
  *style = "dim-label";
  return _ ("Not sure yet");
}

static void
add_own_view (AdwPreferencesGroup *group, const PhKuboNode *node, PhDiagnosis *diagnosis)
{
  const char *our_style;
  gboolean we_reach;
  const char *ours = our_view (diagnosis, &our_style, &we_reach);
  const char *theirs;
  const char *style = NULL;
  GtkWidget *row;

  if (!node->autonat)
    {
      row = row_with_value (_ ("What your node thinks"), _ ("Not available"), "dim-label");
      if (node->autonat_error)
        {
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), node->autonat_error);
        }
      adw_preferences_group_add (group, row);
      adw_preferences_group_add (group,
                                 row_with_value (_ ("What Porthole found"), ours, our_style));
      return;
    }

  switch (node->autonat->reachability)
    {
      case PH_KUBO_REACHABILITY_PUBLIC:
        theirs = _ ("Reachable");
        style = "success";
        break;
      case PH_KUBO_REACHABILITY_PRIVATE:
        theirs = _ ("Not reachable");
        style = "error";
        break;
      case PH_KUBO_REACHABILITY_UNKNOWN:
      default:
        theirs = _ ("Not sure yet");
        style = "dim-label";
        break;
    }
  row = row_with_value (_ ("What your node thinks"), theirs, style);
  if (describe_nat (node->autonat->nat))
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), describe_nat (node->autonat->nat));
  gtk_widget_set_tooltip_text (row, _ ("Its own AutoNAT test, with peers it met"));
  adw_preferences_group_add (group, row);
  adw_preferences_group_add (group, row_with_value (_ ("What Porthole found"), ours, our_style));

  if ((node->autonat->reachability == PH_KUBO_REACHABILITY_PUBLIC && !we_reach)
      || (node->autonat->reachability == PH_KUBO_REACHABILITY_PRIVATE && we_reach))
    {
      GtkWidget *note = ph_text_row_new (
          _ ("The two views differ"),
          _ ("Your node’s view can be hours old; Porthole’s check was just made, so trust it "
             "when they differ. Your node will catch up on its own."));
      GtkWidget *icon = gtk_image_new_from_icon_name ("dialog-information-symbolic");

      gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _ ("Note"), -1);
      adw_action_row_add_prefix (ADW_ACTION_ROW (note), icon);
      adw_preferences_group_add (group, note);
    }
}

void
ph_node_view_set_diagnosis (PhNodeView *self, PhDiagnosis *diagnosis)
{
  const PhKuboNode *node;
  AdwPreferencesGroup *group;
  g_autofree char *state = NULL;

  g_return_if_fail (PH_IS_NODE_VIEW (self));
  g_return_if_fail (diagnosis == NULL || PH_IS_DIAGNOSIS (diagnosis));

  node = diagnosis ? ph_diagnosis_get_node (diagnosis) : NULL;
  if (!node || node->state == PH_KUBO_STATE_NO_NODE)
    {
      adw_bin_set_child (ADW_BIN (self), NULL);
      gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
      return;
    }

  /* A new group each time: the rows differ from node to node. */
  group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (group, _ ("Your IPFS Node"));
  /* kubo reads its config only at start: said once here, for every change a road makes to it */
  adw_preferences_group_set_description (
      group, _ ("What kubo says about itself, beside Porthole’s check. Kubo reads its settings "
                "only when it starts: after a change to them, restart its daemon."));

  state = describe_state (node);
  {
    GtkWidget *row = row_with_value (_ ("Kubo"), state,
                                     node->state == PH_KUBO_STATE_RUNNING ? NULL : "warning");

    if (node->state != PH_KUBO_STATE_RUNNING && node->error)
      {
        adw_action_row_set_subtitle (ADW_ACTION_ROW (row), node->error);
      }
    adw_preferences_group_add (group, row);
  }

  if (node->state == PH_KUBO_STATE_RUNNING)
    add_own_view (group, node, diagnosis);

  if (node->swarm_port)
    {
      g_autofree char *port = g_strdup_printf ("%u", node->swarm_port);

      adw_preferences_group_add (group, row_with_value (_ ("Its swarm port"), port, NULL));
    }

  add_advice (group, node);

  adw_bin_set_child (ADW_BIN (self), GTK_WIDGET (group));
  gtk_widget_set_visible (GTK_WIDGET (self), TRUE);
}

static void
ph_node_view_class_init (PhNodeViewClass *klass)
{
}

static void
ph_node_view_init (PhNodeView *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

GtkWidget *
ph_node_view_new (void)
{
  return g_object_new (PH_TYPE_NODE_VIEW, NULL);
}
