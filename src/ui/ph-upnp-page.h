/* ph-upnp-page.h: the wizard's "upnp" page — Ask the router to forward the swarm port over UPnP,
 * and undo it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-actions.h"
#include "core/ph-diagnosis.h"
#include "ph-fix-page.h"

G_BEGIN_DECLS

#define PH_TYPE_UPNP_PAGE (ph_upnp_page_get_type ())
G_DECLARE_FINAL_TYPE (PhUpnpPage, ph_upnp_page, PH, UPNP_PAGE, PhFixPage)

/* Signals:
 *   "check-again" ()                 after a mapping: the user wants the confirmation probe.
 *   "show-fix"    (const char *road) another road: "forward" after a refusal, "provider" when
 *                                    forwarding cannot help. Without a handler, the page
 *                                    activates "win.show-fix" with the road instead.
 * Widget names: "upnp-router" (row), "upnp-open-router" (admin page link, when known),
 * "upnp-apply", "upnp-undo", "upnp-check" (Check Now, after success), "upnp-manual",
 * "upnp-provider". */
GtkWidget *
ph_upnp_page_new (void);
/* What every fix page does (ph-fix-page.h): the diagnosis shown, the "actions" property, the
 * title. */
#define ph_upnp_page_set_diagnosis(self, diagnosis)                                                \
  ph_fix_page_set_diagnosis (PH_FIX_PAGE (self), (diagnosis))
#define ph_upnp_page_get_diagnosis(self) ph_fix_page_get_diagnosis (PH_FIX_PAGE (self))
#define ph_upnp_page_set_actions(self, actions)                                                    \
  ph_fix_page_set_actions (PH_FIX_PAGE (self), (actions))
#define ph_upnp_page_get_actions(self) ph_fix_page_get_actions (PH_FIX_PAGE (self))
#define ph_upnp_page_get_title(self) ph_fix_page_get_title (PH_FIX_PAGE (self))

G_END_DECLS
