/* ph-result-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "core/ph-reachability.h"
#include "core/ph-verdict.h"
#include "ph-node-view.h"
#include "ph-result-page.h"
#include "ph-ui-util.h"

struct _PhResultPage
{
  AdwBin parent_instance;

  AdwStatusPage *headline;
  GtkWidget *fix_button;
  GtkWidget *ipv4_row;
  GtkWidget *ipv6_row;
  GtkWidget *ipv4_cause;
  GtkWidget *ipv6_cause;
  GtkWidget *ipv4_icon;
  GtkWidget *ipv6_icon;
  GtkWidget *ipv4_verdict;
  GtkWidget *ipv6_verdict;
  PhNodeView *node_view;
  GtkWidget *family_group;
  GtkWidget *node_box;
  guint reveal_tick;
  guint stage;
  char *headline_text; /* shown by the first reveal stage */
};

G_DEFINE_FINAL_TYPE (PhResultPage, ph_result_page, ADW_TYPE_BIN)

static const char *const verdict_styles[] = { "success", "error", "dim-label" };

/* The causes of one family in plain words, one sentence each. */
static char *
explain_causes (PhDiagnosis *diagnosis, PhFamily family)
{
  GPtrArray *causes = ph_diagnosis_get_family_causes (diagnosis, family);
  g_autoptr (GString) text = g_string_new (NULL);

  for (guint i = 0; causes && i < causes->len; i++)
    {
      const char *sentence = ph_diagnosis_explain_cause (g_ptr_array_index (causes, i));

      if (!sentence || strstr (text->str, sentence))
        continue;
      if (text->len)
        g_string_append_c (text, ' ');
      g_string_append (text, sentence);
    }
  if (!text->len)
    {
      switch (ph_diagnosis_get_family_verdict (diagnosis, family))
        {
          case PH_VERDICT_REACHABLE:
            g_string_append (text, _ ("Peers on the internet reached your node."));
            break;
          case PH_VERDICT_UNREACHABLE:
            g_string_append (text, _ ("Peers on the internet tried and could not reach it."));
            break;
          case PH_VERDICT_UNKNOWN:
          default:
            g_string_append (text, _ ("Too few peers answered to tell."));
            break;
        }
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
show_family (PhDiagnosis *diagnosis, PhFamily family, GtkWidget *group, GtkWidget *icon,
             GtkWidget *verdict_label, GtkWidget *cause_label)
{
  PhVerdict verdict = ph_diagnosis_get_family_verdict (diagnosis, family);
  g_autofree char *why = explain_causes (diagnosis, family);
  const char *text;
  const char *icon_name;
  const char *style;
  g_autofree char *accessible = NULL;

  switch (verdict)
    {
      case PH_VERDICT_REACHABLE:
        text = _ ("Reachable");
        icon_name = "object-select-symbolic";
        style = "success";
        break;
      case PH_VERDICT_UNREACHABLE:
        text = _ ("Not reachable");
        icon_name = "action-unavailable-symbolic";
        style = "error";
        break;
      case PH_VERDICT_UNKNOWN:
      default:
        text = _ ("Unknown");
        icon_name = "dialog-question-symbolic";
        style = "dim-label";
        break;
    }

  gtk_label_set_text (GTK_LABEL (verdict_label), text);
  for (guint i = 0; i < G_N_ELEMENTS (verdict_styles); i++)
    {
      gtk_widget_remove_css_class (verdict_label, verdict_styles[i]);
      gtk_widget_remove_css_class (icon, verdict_styles[i]);
    }
  gtk_widget_add_css_class (verdict_label, style);
  gtk_widget_add_css_class (icon, style);
  gtk_image_set_from_icon_name (GTK_IMAGE (icon), icon_name);
  gtk_label_set_text (GTK_LABEL (cause_label), why);

  /* TRANSLATORS: "IPv4: Not reachable. <why>" read by screen readers */
  accessible
      = g_strdup_printf (_ ("%s: %s. %s"), family == PH_FAMILY_IPV6 ? "IPv6" : "IPv4", text, why);
  gtk_accessible_update_property (GTK_ACCESSIBLE (group), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  accessible, -1);
}

/* The icon beside the headline. ph_reachability_from_diagnosis () says UNKNOWN when one family
 * failed and the other could not be tested (no IPv6 here): right for the panel, which claims no
 * more than it knows, but beside "Peers cannot reach your node over IPv4" a question mark reads
 * as "we don't know". */
static PhReachability
headline_state (PhDiagnosis *diagnosis)
{
  PhReachability state = ph_reachability_from_diagnosis (diagnosis);

  if (state == PH_REACHABILITY_UNKNOWN
      && (ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV4) == PH_VERDICT_UNREACHABLE
          || ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV6) == PH_VERDICT_UNREACHABLE))
    return PH_REACHABILITY_UNREACHABLE;
  return state;
}

/* The page appears over four frames — its frame, the headline, the families, the node's view —
 * rather than in one: laying all of its text out at once holds the main loop for longer than the
 * ui tests allow a dispatch while a check runs (50 ms); the headline alone, wrapped at title size,
 * costs about half of that. The tick callback runs only while the page
 * is mapped, so a page set while hidden is revealed when shown. */
static gboolean
reveal_tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  PhResultPage *self = PH_RESULT_PAGE (widget);

  /* ticks run before the frame's layout: the first one changes nothing, so that the frame which
   * first shows the page lays out only its frame */
  switch (self->stage++)
    {
      case 0:
        return G_SOURCE_CONTINUE;
      case 1:
        adw_status_page_set_title (self->headline, self->headline_text);
        return G_SOURCE_CONTINUE;
      case 2:
        gtk_widget_set_visible (self->family_group, TRUE);
        return G_SOURCE_CONTINUE;
      default:
        gtk_widget_set_visible (self->node_box, TRUE);
        self->reveal_tick = 0;
        return G_SOURCE_REMOVE;
    }
}

static void
reveal_in_stages (PhResultPage *self)
{
  adw_status_page_set_title (self->headline, NULL);
  gtk_widget_set_visible (self->family_group, FALSE);
  gtk_widget_set_visible (self->node_box, FALSE);
  self->stage = 0;
  if (!self->reveal_tick)
    self->reveal_tick
        = gtk_widget_add_tick_callback (GTK_WIDGET (self), reveal_tick_cb, NULL, NULL);
}

/* How many peers answered. */
static guint
count_servers (PhDiagnosis *diagnosis)
{
  GPtrArray *probes = ph_diagnosis_get_probes (diagnosis);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; probes && i < probes->len; i++)
    {
      const PhProbeEvidence *e = g_ptr_array_index (probes, i);

      /* only those that answered something: a server we could not reach said nothing */
      if (e->server && e->result != PH_PROBE_RESULT_ERROR && e->result != PH_PROBE_RESULT_NO_ANSWER)
        g_hash_table_add (seen, e->server);
    }
  return g_hash_table_size (seen);
}

void
ph_result_page_set_diagnosis (PhResultPage *self, PhDiagnosis *diagnosis)
{
  g_autofree char *headline = NULL;
  g_autofree char *description = NULL;
  PhFix fixes[4];
  guint n_servers;

  g_return_if_fail (PH_IS_RESULT_PAGE (self));
  g_return_if_fail (PH_IS_DIAGNOSIS (diagnosis));

  headline = ph_diagnosis_dup_headline (diagnosis);
  g_free (self->headline_text);
  self->headline_text = g_steal_pointer (&headline);
  adw_status_page_set_icon_name (self->headline,
                                 ph_reachability_icon_name (headline_state (diagnosis)));
  n_servers = count_servers (diagnosis);
  if (n_servers)
    description = g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE, "Based on what %u peer on the internet answered.",
                     "Based on what %u peers on the internet answered.", n_servers),
        n_servers);
  else
    description = g_strdup (_ ("No peer on the internet answered."));
  adw_status_page_set_description (self->headline, description);

  show_family (diagnosis, PH_FAMILY_IPV4, self->ipv4_row, self->ipv4_icon, self->ipv4_verdict,
               self->ipv4_cause);
  show_family (diagnosis, PH_FAMILY_IPV6, self->ipv6_row, self->ipv6_icon, self->ipv6_verdict,
               self->ipv6_cause);

  gtk_widget_set_visible (self->fix_button, ph_diagnosis_list_fixes (diagnosis, fixes) > 0);
  ph_node_view_set_diagnosis (self->node_view, diagnosis);
  reveal_in_stages (self);
}

static void
ph_result_page_finalize (GObject *object)
{
  PhResultPage *self = PH_RESULT_PAGE (object);

  g_free (self->headline_text);
  G_OBJECT_CLASS (ph_result_page_parent_class)->finalize (object);
}

static void
ph_result_page_class_init (PhResultPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = ph_result_page_finalize;

  g_type_ensure (PH_TYPE_NODE_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/porthole/Porthole/ph-result-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PhResultPage, headline);
  gtk_widget_class_bind_template_child (widget_class, PhResultPage, fix_button);
  gtk_widget_class_bind_template_child (widget_class, PhResultPage, ipv4_row);
  gtk_widget_class_bind_template_child (widget_class, PhResultPage, ipv6_row);
  gtk_widget_class_bind_template_child (widget_class, PhResultPage, ipv4_cause);
  gtk_widget_class_bind_template_child (widget_class, PhResultPage, ipv6_cause);
  gtk_widget_class_bind_template_child (widget_class, PhResultPage, ipv4_icon);
  gtk_widget_class_bind_template_child (widget_class, PhResultPage, ipv6_icon);
  gtk_widget_class_bind_template_child (widget_class, PhResultPage, ipv4_verdict);
  gtk_widget_class_bind_template_child (widget_class, PhResultPage, ipv6_verdict);
  gtk_widget_class_bind_template_child (widget_class, PhResultPage, node_view);
  gtk_widget_class_bind_template_child (widget_class, PhResultPage, family_group);
  gtk_widget_class_bind_template_child (widget_class, PhResultPage, node_box);
}

static void
ph_result_page_init (PhResultPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  ph_status_page_fill (self->headline);
}

GtkWidget *
ph_result_page_new (void)
{
  return g_object_new (PH_TYPE_RESULT_PAGE, NULL);
}
