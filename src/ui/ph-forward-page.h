/* ph-forward-page.h: the wizard's "forward" page — What to type into the router to forward the port
 * by hand
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-actions.h"
#include "core/ph-diagnosis.h"

G_BEGIN_DECLS

#define PH_TYPE_FORWARD_PAGE (ph_forward_page_get_type ())
G_DECLARE_FINAL_TYPE (PhForwardPage, ph_forward_page, PH, FORWARD_PAGE, AdwBin)

/* Signals:
 *   "check-again" ()                 "I've done it — check again".
 *   "show-fix"    (const char *road) "provider" when forwarding on this router cannot help;
 *                                    without a handler, "win.show-fix" is activated.
 * Widget names: "forward-copy-<n>" (the copy button of the n-th value, from 0, in the order of
 * PhForwardingFacts.values), "forward-copy-all", "forward-open-router" (a GtkLinkButton),
 * "forward-check", "forward-provider". */
GtkWidget *
ph_forward_page_new (void);
/* Shows what this diagnosis says (NULL: nothing known yet). Keeps a reference. */
void
ph_forward_page_set_diagnosis (PhForwardPage *self, PhDiagnosis *diagnosis);
PhDiagnosis *
ph_forward_page_get_diagnosis (PhForwardPage *self);
/* Property "actions": the PhActions that applies and undoes the fix (NULL: the buttons that need it
 * are insensitive). */
void
ph_forward_page_set_actions (PhForwardPage *self, PhActions *actions);
PhActions *
ph_forward_page_get_actions (PhForwardPage *self);
/* The page's title, translated, for the window's header bar. */
const char *
ph_forward_page_get_title (PhForwardPage *self);

G_END_DECLS
