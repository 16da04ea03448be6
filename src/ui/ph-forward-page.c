/* ph-forward-page.c: the wizard's "forward" page
 *
 * The third road of the IPFS NAT guide, for routers without UPnP: the exact values to type into
 * the router's port-forwarding form, each with a copy button, a link to the router's admin page,
 * the steps in order, the DHCP reservation tip, and "I've done it — check again". The values come
 * from core (ph_diagnosis_dup_forwarding); when they cannot be computed (no LAN address, no
 * router), the page says why and what to do instead.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "net/ph-forwarding.h"
#include "ph-forward-page.h"
#include "ph-ui-util.h"

struct _PhForwardPage
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
  GtkWidget *check_button;
  GtkWidget *copy_all_button;

  PhForwardingFacts *forwarding; /* what the rows show; NULL when it could not be computed */
};

G_DEFINE_FINAL_TYPE (PhForwardPage, ph_forward_page, PH_TYPE_FIX_PAGE)

static GtkWidget *
warning_row_new (const char *message)
{
  GtkWidget *row = ph_text_row_new (message, NULL);
  GtkWidget *icon = gtk_image_new_from_icon_name ("dialog-information-symbolic");

  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Tip"),
                                  -1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  return row;
}

static GtkWidget *
caption_new (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "caption");
  gtk_widget_add_css_class (label, "dim-label");
  return label;
}

/* "Internal IP address (or device, server)" → "Internal IP address": what the copy button's
 * accessible name says. */
static char *
short_label (const char *label)
{
  const char *paren = strstr (label, " (");

  return paren ? g_strndup (label, paren - label) : g_strdup (label);
}

static void
provider_clicked_cb (PhForwardPage *self)
{
  ph_fix_page_emit_show_fix (PH_FIX_PAGE (self), "provider");
}

static void
copy_text (PhForwardPage *self, const char *text, const char *toast)
{
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (toast));
}

static void
copy_clicked_cb (GtkButton *button, PhForwardPage *self)
{
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "ph-value-index"));
  const PhForwardingValue *value;

  if (self->forwarding == NULL || index >= self->forwarding->values->len)
    return;
  value = g_ptr_array_index (self->forwarding->values, index);
  copy_text (self, value->value, _ ("Copied"));
}

static void
copy_all_clicked_cb (PhForwardPage *self)
{
  g_autoptr (GString) text = g_string_new (NULL);

  if (self->forwarding == NULL)
    return;
  for (guint i = 0; i < self->forwarding->values->len; i++)
    {
      const PhForwardingValue *value = g_ptr_array_index (self->forwarding->values, i);

      g_string_append_printf (text, "%s: %s\n", value->label, value->value);
    }
  copy_text (self, text->str, _ ("All values copied"));
}

static void
check_clicked_cb (PhForwardPage *self)
{
  ph_fix_page_check_again (PH_FIX_PAGE (self));
}

static GtkWidget *
values_group_new (PhForwardPage *self)
{
  GtkWidget *group = adw_preferences_group_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("What to Type"));
  adw_preferences_group_set_description (
      ADW_PREFERENCES_GROUP (group),
      _ ("One rule in the router’s port forwarding form, with these values."));
  for (guint i = 0; i < self->forwarding->values->len; i++)
    {
      const PhForwardingValue *value = g_ptr_array_index (self->forwarding->values, i);
      GtkWidget *row = adw_preferences_row_new ();
      GtkWidget *hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
      GtkWidget *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 3);
      GtkWidget *label = caption_new (value->label);
      GtkWidget *text = gtk_label_new (value->value);
      GtkWidget *button = gtk_button_new_from_icon_name ("edit-copy-symbolic");
      g_autofree char *name = g_strdup_printf ("forward-copy-%u", i);
      g_autofree char *what = short_label (value->label);
      /* TRANSLATORS: the copy button's name for screen readers: "Copy Internal IP address" */
      g_autofree char *accessible = g_strdup_printf (_ ("Copy %s"), what);

      /* The field's name above, the value to type large, how routers differ below: narrow
       * windows wrap the words, never squeeze the value. */
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), value->label);
      gtk_widget_set_margin_top (hbox, 8);
      gtk_widget_set_margin_bottom (hbox, 8);
      gtk_widget_set_margin_start (hbox, 12);
      gtk_widget_set_margin_end (hbox, 6);
      gtk_widget_set_hexpand (vbox, TRUE);
      gtk_box_append (GTK_BOX (vbox), label);
      gtk_label_set_wrap (GTK_LABEL (text), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (text), PANGO_WRAP_WORD_CHAR);
      gtk_label_set_xalign (GTK_LABEL (text), 0);
      gtk_label_set_selectable (GTK_LABEL (text), TRUE);
      gtk_widget_set_focusable (text, FALSE); /* selectable by mouse; the button copies */
      gtk_widget_add_css_class (text, "title-4");
      gtk_box_append (GTK_BOX (vbox), text);
      if (value->hint)
        gtk_box_append (GTK_BOX (vbox), caption_new (value->hint));
      gtk_box_append (GTK_BOX (hbox), vbox);

      gtk_widget_set_name (button, name);
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_tooltip_text (button, accessible);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      accessible, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, value->value,
                                      -1);
      g_object_set_data (G_OBJECT (button), "ph-value-index", GUINT_TO_POINTER (i));
      g_signal_connect (button, "clicked", G_CALLBACK (copy_clicked_cb), self);
      gtk_box_append (GTK_BOX (hbox), button);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), hbox);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
    }
  return group;
}

static GtkWidget *
router_group_new (PhForwardPage *self)
{
  GtkWidget *group = adw_preferences_group_new ();
  GtkWidget *row;
  GtkWidget *link;

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("Your Router"));
  row = ph_text_row_new (_ ("Admin page"), self->forwarding->admin_url);
  link = gtk_link_button_new_with_label (self->forwarding->admin_url, _ ("_Open"));
  gtk_button_set_use_underline (GTK_BUTTON (link), TRUE);
  gtk_widget_set_name (link, "forward-open-router");
  gtk_widget_set_valign (link, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (link, self->forwarding->admin_url);
  gtk_accessible_update_property (
      GTK_ACCESSIBLE (link), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Open the router’s admin page"),
      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, self->forwarding->admin_url, -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), link);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), link);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  return group;
}

static GtkWidget *
steps_group_new (PhForwardPage *self)
{
  GtkWidget *group = adw_preferences_group_new ();
  g_autofree char *first = g_strdup_printf (
      _ ("Open the router’s admin page (%s) and sign in. The password is often on a sticker on "
         "the router."),
      self->forwarding->admin_url);
  const char *steps[] = {
    first,
    _ ("Find port forwarding. Routers call it “Port Forwarding”, “Virtual Server”, “NAT”, “Port "
       "Sharing” or “Applications & Gaming”; it is often under “Advanced” or “Internet”."),
    _ ("Add a rule with the values above. If the router takes one protocol per rule, add two "
       "rules: one for TCP, one for UDP."),
    _ ("Save the rule, and apply it if the router asks."),
    _ ("Come back here and check again."),
  };

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("Steps"));
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      GtkWidget *row = ph_text_row_new (steps[i], NULL);
      g_autofree char *number = g_strdup_printf ("%u", i + 1);
      GtkWidget *label = gtk_label_new (number);

      gtk_widget_add_css_class (label, "heading");
      gtk_widget_add_css_class (label, "numeric");
      gtk_widget_add_css_class (label, "accent");
      gtk_label_set_width_chars (GTK_LABEL (label), 2);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), label);
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
    }
  return group;
}

static void
show_error (PhForwardPage *self, const GError *error)
{
  const char *next = NULL; /* the message itself says what to do when there is no address */

  if (g_error_matches (error, PH_FORWARDING_ERROR, PH_FORWARDING_ERROR_NO_GATEWAY))
    next = _ ("Without a router there is nothing to forward. If this computer is connected "
              "directly to the internet, its firewall is what to look at; otherwise connect it "
              "to your router and check again.");
  else if (g_error_matches (error, PH_FORWARDING_ERROR, PH_FORWARDING_ERROR_REFUSED_PORT))
    next = _ ("Set your node’s swarm port (Addresses.Swarm) to a port of its own, such as 4001, "
              "restart the node, then check again.");
  gtk_image_set_from_icon_name (self->outcome_icon, "dialog-warning-symbolic");
  gtk_widget_add_css_class (GTK_WIDGET (self->outcome_icon), "warning");
  gtk_label_set_text (self->outcome_title, _ ("Porthole cannot tell what to forward"));
  gtk_label_set_text (self->outcome_body, error->message);
  gtk_label_set_text (self->outcome_next, next ? next : "");
  gtk_widget_set_visible (GTK_WIDGET (self->outcome_next), next != NULL);
  gtk_widget_set_visible (self->outcome_box, TRUE);
  /* nothing was done by hand yet: a plain check */
  gtk_button_set_label (GTK_BUTTON (self->check_button), _ ("_Check Again"));
}

static void
refresh (PhForwardPage *self)
{
  PhDiagnosis *diagnosis = ph_fix_page_get_diagnosis (PH_FIX_PAGE (self));
  g_autoptr (GError) error = NULL;
  GtkWidget *group;
  PhKuboNode *node;
  gboolean node_running;

  ph_box_remove_all (self->facts_box);
  g_clear_pointer (&self->forwarding, ph_forwarding_facts_free);
  gtk_widget_set_visible (self->outcome_box, FALSE);
  gtk_widget_set_visible (self->copy_all_button, FALSE);
  gtk_button_set_label (GTK_BUTTON (self->check_button), _ ("I’ve Done It — _Check Again"));
  if (diagnosis == NULL)
    return;

  if (!ph_diagnosis_forwarding_can_help (diagnosis))
    {
      GtkWidget *row = warning_row_new (
          _ ("Forwarding on this router alone cannot help: your provider or a second router "
             "stands between it and the internet."));
      GtkWidget *button = gtk_button_new_with_mnemonic (_ ("_What Can Help"));

      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_set_name (button, "forward-provider");
      g_signal_connect_swapped (button, "clicked", G_CALLBACK (provider_clicked_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
      group = adw_preferences_group_new ();
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
      gtk_box_append (self->facts_box, group);
    }

  self->forwarding = ph_diagnosis_dup_forwarding (diagnosis, &error);
  if (self->forwarding == NULL)
    {
      show_error (self, error);
      adw_status_page_set_description (self->status_page, NULL);
      return;
    }

  if (self->forwarding->summary)
    {
      g_autofree char *escaped = g_markup_escape_text (self->forwarding->summary, -1);

      adw_status_page_set_description (self->status_page, escaped);
    }
  gtk_box_append (self->facts_box, values_group_new (self));
  gtk_box_append (self->facts_box, router_group_new (self));
  gtk_box_append (self->facts_box, steps_group_new (self));
  node = ph_diagnosis_get_node (diagnosis);
  node_running = node != NULL && node->state == PH_KUBO_STATE_RUNNING;
  if ((self->forwarding->warnings && self->forwarding->warnings->len) || node_running)
    {
      group = adw_preferences_group_new ();
      adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("Worth Knowing"));
      for (guint i = 0; self->forwarding->warnings && i < self->forwarding->warnings->len; i++)
        {
          const PhForwardingWarning *w = g_ptr_array_index (self->forwarding->warnings, i);

          adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), warning_row_new (w->message));
        }
      /* kubo reads its config only at start: say when a restart is needed, and when not. */
      if (node_running)
        adw_preferences_group_add (
            ADW_PREFERENCES_GROUP (group),
            warning_row_new (_ ("Your IPFS node is running. It usually notices the forwarded port "
                                "by itself within minutes, without a restart. If it does not, "
                                "add your public address with this port to Addresses."
                                "AppendAnnounce in its config and restart the node: it reads "
                                "its config only when it starts.")));
      gtk_box_append (self->facts_box, group);
    }
  gtk_widget_set_visible (self->copy_all_button, TRUE);
}

/* ---- GObject ---- */

static void
ph_forward_page_dispose (GObject *object)
{
  PhForwardPage *self = PH_FORWARD_PAGE (object);

  g_clear_pointer (&self->forwarding, ph_forwarding_facts_free);
  G_OBJECT_CLASS (ph_forward_page_parent_class)->dispose (object);
}

static void
ph_forward_page_diagnosis_changed (PhFixPage *page, gboolean replaced)
{
  refresh (PH_FORWARD_PAGE (page));
}

static const char *
ph_forward_page_real_get_title (PhFixPage *page)
{
  return _ ("Forward by Hand");
}

static void
ph_forward_page_class_init (PhForwardPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  PhFixPageClass *fix_class = PH_FIX_PAGE_CLASS (klass);

  object_class->dispose = ph_forward_page_dispose;
  fix_class->diagnosis_changed = ph_forward_page_diagnosis_changed;
  fix_class->get_title = ph_forward_page_real_get_title;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/porthole/Porthole/ph-forward-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PhForwardPage, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PhForwardPage, status_page);
  gtk_widget_class_bind_template_child (widget_class, PhForwardPage, facts_box);
  gtk_widget_class_bind_template_child (widget_class, PhForwardPage, outcome_box);
  gtk_widget_class_bind_template_child (widget_class, PhForwardPage, outcome_icon);
  gtk_widget_class_bind_template_child (widget_class, PhForwardPage, outcome_title);
  gtk_widget_class_bind_template_child (widget_class, PhForwardPage, outcome_body);
  gtk_widget_class_bind_template_child (widget_class, PhForwardPage, outcome_next);
  gtk_widget_class_bind_template_child (widget_class, PhForwardPage, check_button);
  gtk_widget_class_bind_template_child (widget_class, PhForwardPage, copy_all_button);
  gtk_widget_class_bind_template_callback (widget_class, check_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, copy_all_clicked_cb);
}

static void
ph_forward_page_init (PhForwardPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  ph_status_page_fill (self->status_page);
  refresh (self);
}

GtkWidget *
ph_forward_page_new (void)
{
  return g_object_new (PH_TYPE_FORWARD_PAGE, NULL);
}
