/* ph-ui-util.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ph-ui-util.h"

/* AdwStatusPage (1.2) centres its content with valign=center on the box inside its viewport. In
 * GTK 4.8, allocating a height-for-width widget that does not fill vertically asks it for its
 * width at a given height, and every wrapping label below answers that with a binary search over
 * widths, each step a full pango layout: the check page's rows made the frame that showed them
 * take 50–100 ms of layout (about a thousand layouts), against about 20 ms (a few hundred) when
 * the box fills. The ui tests hold every dispatch under 50 ms while a check runs. The status
 * page's look (icon, title and description styles) stays; nothing changes if the widgets inside
 * are not as expected (another libadwaita). */
void
ph_status_page_fill (AdwStatusPage *page)
{
  GtkWidget *scrolled;
  GtkWidget *viewport;
  GtkWidget *box;

  g_return_if_fail (ADW_IS_STATUS_PAGE (page));

  scrolled = gtk_widget_get_first_child (GTK_WIDGET (page));
  if (!GTK_IS_SCROLLED_WINDOW (scrolled))
    return;
  viewport = gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (scrolled));
  if (!GTK_IS_VIEWPORT (viewport))
    return;
  box = gtk_viewport_get_child (GTK_VIEWPORT (viewport));
  if (GTK_IS_BOX (box))
    gtk_widget_set_valign (box, GTK_ALIGN_FILL);
}

void
ph_box_remove_all (GtkBox *box)
{
  GtkWidget *child;

  g_return_if_fail (GTK_IS_BOX (box));

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (box))))
    gtk_box_remove (box, child);
}

GtkWidget *
ph_text_row_new (const char *title, const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  return row;
}

void
ph_label_set_optional (GtkLabel *label, const char *text)
{
  gtk_label_set_text (label, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (label), text && *text);
}

void
ph_outcome_icon_set (GtkImage *icon, PhOutcome outcome)
{
  static const char *const icons[]
      = { "emblem-ok-symbolic", "dialog-warning-symbolic", "dialog-error-symbolic" };
  static const char *const classes[] = { "success", "warning", "error" };

  g_return_if_fail (outcome <= PH_OUTCOME_ERROR);

  gtk_image_set_from_icon_name (icon, icons[outcome]);
  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (icon), classes[i]);
  gtk_widget_add_css_class (GTK_WIDGET (icon), classes[outcome]);
}
