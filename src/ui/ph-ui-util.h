/* ph-ui-util.h: small pieces the wizard's pages share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Lets a status page's content fill its height instead of centring it: far cheaper to lay out
 * when the content holds wrapping text (see the .c file). The content then starts at the top. */
void
ph_status_page_fill (AdwStatusPage *page);

/* Removes every child of box. */
void
ph_box_remove_all (GtkBox *box);

/* An action row whose title and subtitle (may be NULL) are plain text, never markup: the pages'
 * values come from the network (names, addresses, "&"). */
GtkWidget *
ph_text_row_new (const char *title, const char *subtitle);

/* Sets label's text and shows it only when there is some. */
void
ph_label_set_optional (GtkLabel *label, const char *text);

typedef enum
{
  PH_OUTCOME_GOOD,
  PH_OUTCOME_WARNING,
  PH_OUTCOME_ERROR,
} PhOutcome;

/* The icon of an action's outcome: its symbol and its success/warning/error style. */
void
ph_outcome_icon_set (GtkImage *icon, PhOutcome outcome);

G_END_DECLS
