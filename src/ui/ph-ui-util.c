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
