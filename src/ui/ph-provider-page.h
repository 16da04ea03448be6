/* ph-provider-page.h: the wizard's "provider" page — When forwarding cannot help (carrier-grade or
 * double NAT): what can
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-actions.h"
#include "core/ph-diagnosis.h"
#include "ph-fix-page.h"

G_BEGIN_DECLS

#define PH_TYPE_PROVIDER_PAGE (ph_provider_page_get_type ())
G_DECLARE_FINAL_TYPE (PhProviderPage, ph_provider_page, PH, PROVIDER_PAGE, PhFixPage)

/* Signals:
 *   "check-again" ()
 *   "show-fix"    (const char *road) the road picked: "ipv6", or "forward" (double NAT: forward
 *                                    on both routers); without a handler, "win.show-fix".
 * Widget names: rows "provider-ipv6", "provider-forward" (double NAT; activatable),
 * "provider-bridge" (double NAT), "provider-isp"; button "provider-check". */
GtkWidget *
ph_provider_page_new (void);
/* What every fix page does (ph-fix-page.h): the diagnosis shown, the "actions" property, the
 * title. */
#define ph_provider_page_set_diagnosis(self, diagnosis)                                            \
  ph_fix_page_set_diagnosis (PH_FIX_PAGE (self), (diagnosis))
#define ph_provider_page_get_diagnosis(self) ph_fix_page_get_diagnosis (PH_FIX_PAGE (self))
#define ph_provider_page_set_actions(self, actions)                                                \
  ph_fix_page_set_actions (PH_FIX_PAGE (self), (actions))
#define ph_provider_page_get_actions(self) ph_fix_page_get_actions (PH_FIX_PAGE (self))
#define ph_provider_page_get_title(self) ph_fix_page_get_title (PH_FIX_PAGE (self))

G_END_DECLS
