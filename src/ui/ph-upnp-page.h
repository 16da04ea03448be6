/* ph-upnp-page.h: the wizard's "upnp" page — Ask the router to forward the swarm port over UPnP,
 * and undo it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-actions.h"
#include "core/ph-diagnosis.h"

G_BEGIN_DECLS

#define PH_TYPE_UPNP_PAGE (ph_upnp_page_get_type ())
G_DECLARE_FINAL_TYPE (PhUpnpPage, ph_upnp_page, PH, UPNP_PAGE, AdwBin)

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
/* Shows what this diagnosis says (NULL: nothing known yet). Keeps a reference. */
void
ph_upnp_page_set_diagnosis (PhUpnpPage *self, PhDiagnosis *diagnosis);
PhDiagnosis *
ph_upnp_page_get_diagnosis (PhUpnpPage *self);
/* Property "actions": the PhActions that applies and undoes the fix (NULL: the buttons that need it
 * are insensitive). */
void
ph_upnp_page_set_actions (PhUpnpPage *self, PhActions *actions);
PhActions *
ph_upnp_page_get_actions (PhUpnpPage *self);
/* The page's title, translated, for the window's header bar. */
const char *
ph_upnp_page_get_title (PhUpnpPage *self);

G_END_DECLS
