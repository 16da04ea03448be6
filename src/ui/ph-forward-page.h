/* ph-forward-page.h: the wizard's "forward" page — What to type into the router to forward the port
 * by hand
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-actions.h"
#include "core/ph-diagnosis.h"
#include "ph-fix-page.h"

G_BEGIN_DECLS

#define PH_TYPE_FORWARD_PAGE (ph_forward_page_get_type ())
G_DECLARE_FINAL_TYPE (PhForwardPage, ph_forward_page, PH, FORWARD_PAGE, PhFixPage)

/* Signals:
 *   "check-again" ()                 "I've done it — check again".
 *   "show-fix"    (const char *road) "provider" when forwarding on this router cannot help;
 *                                    without a handler, "win.show-fix" is activated.
 * Widget names: "forward-copy-<n>" (the copy button of the n-th value, from 0, in the order of
 * PhForwardingFacts.values), "forward-copy-all", "forward-open-router" (a GtkLinkButton),
 * "forward-check", "forward-provider". */
GtkWidget *
ph_forward_page_new (void);
/* What every fix page does (ph-fix-page.h): the diagnosis shown, the "actions" property, the
 * title. */
#define ph_forward_page_set_diagnosis(self, diagnosis)                                             \
  ph_fix_page_set_diagnosis (PH_FIX_PAGE (self), (diagnosis))
#define ph_forward_page_get_diagnosis(self) ph_fix_page_get_diagnosis (PH_FIX_PAGE (self))
#define ph_forward_page_set_actions(self, actions)                                                 \
  ph_fix_page_set_actions (PH_FIX_PAGE (self), (actions))
#define ph_forward_page_get_actions(self) ph_fix_page_get_actions (PH_FIX_PAGE (self))
#define ph_forward_page_get_title(self) ph_fix_page_get_title (PH_FIX_PAGE (self))

G_END_DECLS
