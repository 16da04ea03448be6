/* ph-confirm-page.c
 *
 * The wizard's last page. Success means peers on the internet reached the node over at least one
 * family: it names the addresses they reached and how (directly, through the UPnP mapping, the
 * forwarding, or IPv6). Otherwise it says what still fails and offers the next road, so nobody is
 * left at a dead end.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "core/ph-reachability.h"
#include "core/ph-verdict.h"
#include "ph-confirm-page.h"
#include "ph-ui-util.h"
#include "ph-fixes-page.h"

struct _PhConfirmPage
{
  AdwBin parent_instance;

  GtkStack *stack;
  PhCheckPage *check_page;
  AdwStatusPage *headline;
  GtkWidget *next_button;
  GtkWidget *next_label;
  GtkWidget *done_button;
  AdwPreferencesGroup *addresses_group;
  GPtrArray *address_rows;
  guint reveal_tick;
  gint64 reveal_frame;
};

G_DEFINE_FINAL_TYPE (PhConfirmPage, ph_confirm_page, ADW_TYPE_BIN)

PhCheckPage *
ph_confirm_page_get_check_page (PhConfirmPage *self)
{
  g_return_val_if_fail (PH_IS_CONFIRM_PAGE (self), NULL);
  return self->check_page;
}

void
ph_confirm_page_start (PhConfirmPage *self)
{
  g_return_if_fail (PH_IS_CONFIRM_PAGE (self));

  ph_check_page_reset (self->check_page);
  ph_check_page_set_running (self->check_page, TRUE);
  gtk_stack_set_visible_child_name (self->stack, "running");
}

static void
clear_addresses (PhConfirmPage *self)
{
  for (guint i = 0; i < self->address_rows->len; i++)
    adw_preferences_group_remove (self->addresses_group, g_ptr_array_index (self->address_rows, i));
  g_ptr_array_set_size (self->address_rows, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->addresses_group), FALSE);
}

const char *
ph_confirm_page_how (PhDiagnosis *diagnosis, const char *road)
{
  PhUpnpFacts *upnp;

  g_return_val_if_fail (PH_IS_DIAGNOSIS (diagnosis), NULL);

  if (ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV4) != PH_VERDICT_REACHABLE)
    return ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV6) == PH_VERDICT_REACHABLE
               ? "ipv6"
               : NULL;
  if (g_strcmp0 (road, "upnp") == 0 || g_strcmp0 (road, "forward") == 0)
    return road;
  upnp = ph_diagnosis_get_upnp (diagnosis);
  if (upnp && upnp->found && upnp->our_tcp)
    return "upnp";
  return "direct";
}

static const char *
describe_how (PhFamily family, const char *how)
{
  if (family == PH_FAMILY_IPV6)
    return _ ("Over IPv6: your computer’s own public address, no forwarding needed");
  if (g_strcmp0 (how, "upnp") == 0)
    return _ ("Through the port your router opened over UPnP");
  if (g_strcmp0 (how, "forward") == 0)
    return _ ("Through the port forwarding you set up on your router");
  return _ ("Directly: nothing stands in the way");
}

static void
add_address (PhConfirmPage *self, const char *address, PhFamily family, const char *how)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new_from_icon_name ("object-select-symbolic");

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), address);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), describe_how (family, how));
  gtk_widget_add_css_class (icon, "success");
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Reachable"), -1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  adw_preferences_group_add (self->addresses_group, row);
  g_ptr_array_add (self->address_rows, row);
}

/* The addresses follow a frame after the headline: their rows are the costliest part of the page to
 * lay out, and the confirmation's first frame comes while the check is still counted as running
 * (the ui tests allow 50 ms per dispatch). Ticks run before the frame's layout: the first frame
 * that shows the page is skipped. */
static gboolean
reveal_addresses_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  PhConfirmPage *self = PH_CONFIRM_PAGE (widget);
  gint64 frame = gdk_frame_clock_get_frame_counter (clock);

  if (self->reveal_frame < 0)
    self->reveal_frame = frame;
  if (frame == self->reveal_frame)
    return G_SOURCE_CONTINUE;
  gtk_widget_set_visible (GTK_WIDGET (self->addresses_group), self->address_rows->len > 0);
  self->reveal_tick = 0;
  return G_SOURCE_REMOVE;
}

static void
reveal_addresses (PhConfirmPage *self)
{
  self->reveal_frame = -1;
  if (!self->reveal_tick)
    self->reveal_tick
        = gtk_widget_add_tick_callback (GTK_WIDGET (self), reveal_addresses_cb, NULL, NULL);
}

/* The addresses peers reached, each once, from the probes that proved it. */
static void
show_addresses (PhConfirmPage *self, PhDiagnosis *diagnosis, const char *how)
{
  GPtrArray *probes = ph_diagnosis_get_probes (diagnosis);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; probes && i < probes->len; i++)
    {
      const PhProbeEvidence *e = g_ptr_array_index (probes, i);

      if (e->result != PH_PROBE_RESULT_REACHABLE || !e->address
          || g_hash_table_contains (seen, e->address))
        continue;
      g_hash_table_add (seen, e->address);
      add_address (self, e->address, e->family, how);
    }
}

/* The next road: the likeliest one the user did not just take. */
static gboolean
next_road (PhDiagnosis *diagnosis, const char *road, PhFix *out)
{
  PhFix fixes[4];
  guint n = ph_diagnosis_list_fixes (diagnosis, fixes);

  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (ph_fix_to_string (fixes[i]), road) != 0)
      {
        *out = fixes[i];
        return TRUE;
      }
  if (n && !road)
    {
      *out = fixes[0];
      return TRUE;
    }
  return FALSE; /* nothing, or only the road just taken */
}

static void
set_next (PhConfirmPage *self, const PhFix *fix, gboolean ipv4_too)
{
  g_autofree char *label = NULL;

  gtk_widget_set_visible (self->next_button, fix != NULL);
  if (!fix)
    return;
  if (ipv4_too)
    /* TRANSLATORS: %s is a road's title, e.g. "Forward the Port by Hand" */
    label = g_strdup_printf (_ ("For IPv4 Too: %s"), ph_fixes_page_road_title (*fix));
  else
    /* TRANSLATORS: %s is a road's title, e.g. "Forward the Port by Hand" */
    label = g_strdup_printf (_ ("Next, Try: %s"), ph_fixes_page_road_title (*fix));
  gtk_label_set_text (GTK_LABEL (self->next_label), label);
  /* no action while the target changes type, or GtkActionHelper complains of the mismatch */
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->next_button), NULL);
  gtk_actionable_set_action_target (GTK_ACTIONABLE (self->next_button), "s",
                                    ph_fix_to_string (*fix));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->next_button), "win.show-fix");
  gtk_widget_set_tooltip_text (self->next_button, label);
}

void
ph_confirm_page_set_result (PhConfirmPage *self, PhDiagnosis *diagnosis, const char *road)
{
  PhReachability state;
  const char *how;
  PhFix fix;
  gboolean has_next;

  g_return_if_fail (PH_IS_CONFIRM_PAGE (self));
  g_return_if_fail (PH_IS_DIAGNOSIS (diagnosis));

  ph_check_page_set_running (self->check_page, FALSE);
  clear_addresses (self);
  state = ph_reachability_from_diagnosis (diagnosis);
  how = ph_confirm_page_how (diagnosis, road);
  has_next = next_road (diagnosis, road, &fix);
  adw_status_page_set_icon_name (self->headline, ph_reachability_icon_name (state));

  if (state == PH_REACHABILITY_REACHABLE || state == PH_REACHABILITY_IPV6_ONLY)
    {
      adw_status_page_set_title (self->headline, _ ("Your node is reachable"));
      if (state == PH_REACHABILITY_IPV6_ONLY)
        adw_status_page_set_description (
            self->headline,
            _ ("Peers on the internet reached it over IPv6. Peers that only speak IPv4 still "
               "cannot: most of the network can reach you now, and you can stop here."));
      else
        adw_status_page_set_description (
            self->headline, _ ("Peers on the internet can dial your node. Nothing more to do."));
      show_addresses (self, diagnosis, how);
      reveal_addresses (self);
      /* IPv6 alone is a success; reaching IPv4 too is an option, never a must */
      set_next (self, state == PH_REACHABILITY_IPV6_ONLY && has_next ? &fix : NULL, TRUE);
      gtk_widget_add_css_class (self->done_button, "suggested-action");
      gtk_widget_remove_css_class (self->next_button, "suggested-action");
    }
  else
    {
      g_autofree char *headline = ph_diagnosis_dup_headline (diagnosis);

      adw_status_page_set_title (self->headline, _ ("Still Not Reachable"));
      adw_status_page_set_description (self->headline, headline);
      if (has_next)
        set_next (self, &fix, FALSE);
      else
        {
          /* the road just taken was the only one listed: back to all of them, and why */
          gtk_actionable_set_action_name (GTK_ACTIONABLE (self->next_button), NULL);
          gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->next_button), NULL);
          gtk_actionable_set_action_name (GTK_ACTIONABLE (self->next_button), "win.show-fixes");
          gtk_label_set_text (GTK_LABEL (self->next_label), _ ("See All the Ways"));
          gtk_widget_set_tooltip_text (self->next_button,
                                       _ ("Every road, with why each is more or less likely "
                                          "to help here"));
          gtk_widget_set_visible (self->next_button, TRUE);
        }
      gtk_widget_remove_css_class (self->done_button, "suggested-action");
      gtk_widget_add_css_class (self->next_button, "suggested-action");
    }
  gtk_stack_set_visible_child_name (self->stack, "done");
}

void
ph_confirm_page_set_error (PhConfirmPage *self, const char *message)
{
  g_return_if_fail (PH_IS_CONFIRM_PAGE (self));

  ph_check_page_set_running (self->check_page, FALSE);
  clear_addresses (self);
  adw_status_page_set_icon_name (self->headline, "io.github.porthole.Porthole-unknown-symbolic");
  adw_status_page_set_title (self->headline, _ ("The Check Could Not Finish"));
  adw_status_page_set_description (self->headline, message);
  gtk_label_set_text_with_mnemonic (GTK_LABEL (self->next_label), _ ("_Check Again"));
  gtk_label_set_mnemonic_widget (GTK_LABEL (self->next_label), self->next_button);
  gtk_widget_add_css_class (self->next_button, "suggested-action");
  gtk_widget_set_tooltip_text (self->next_button, _ ("Ask peers on the internet again"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->next_button), NULL);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->next_button), NULL);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->next_button), "win.confirm");
  gtk_widget_set_visible (self->next_button, TRUE);
  gtk_stack_set_visible_child_name (self->stack, "done");
}

static void
ph_confirm_page_dispose (GObject *object)
{
  PhConfirmPage *self = PH_CONFIRM_PAGE (object);

  g_clear_pointer (&self->address_rows, g_ptr_array_unref);
  G_OBJECT_CLASS (ph_confirm_page_parent_class)->dispose (object);
}

static void
ph_confirm_page_class_init (PhConfirmPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ph_confirm_page_dispose;

  g_type_ensure (PH_TYPE_CHECK_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/porthole/Porthole/ph-confirm-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PhConfirmPage, stack);
  gtk_widget_class_bind_template_child (widget_class, PhConfirmPage, check_page);
  gtk_widget_class_bind_template_child (widget_class, PhConfirmPage, headline);
  gtk_widget_class_bind_template_child (widget_class, PhConfirmPage, next_button);
  gtk_widget_class_bind_template_child (widget_class, PhConfirmPage, next_label);
  gtk_widget_class_bind_template_child (widget_class, PhConfirmPage, done_button);
  gtk_widget_class_bind_template_child (widget_class, PhConfirmPage, addresses_group);
}

static void
ph_confirm_page_init (PhConfirmPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  ph_status_page_fill (self->headline);

  self->address_rows = g_ptr_array_new ();
  ph_check_page_set_heading (self->check_page, _ ("Checking Again"),
                             _ ("Peers on the internet are asked once more to dial your node "
                                "back, to see whether the change worked."));
  ph_check_page_set_cancel_name (self->check_page, "confirm-cancel");
  gtk_widget_set_visible (GTK_WIDGET (self->addresses_group), FALSE);
}

GtkWidget *
ph_confirm_page_new (void)
{
  return g_object_new (PH_TYPE_CONFIRM_PAGE, NULL);
}
