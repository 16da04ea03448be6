/* ph-ipv6-page.h: the wizard's "ipv6" page — Turn on IPv6 for this computer's connection, and say
 * what came of it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-actions.h"
#include "core/ph-diagnosis.h"
#include "ph-fix-page.h"

G_BEGIN_DECLS

#define PH_TYPE_IPV6_PAGE (ph_ipv6_page_get_type ())
G_DECLARE_FINAL_TYPE (PhIpv6Page, ph_ipv6_page, PH, IPV6_PAGE, PhFixPage)

/* Signals:
 *   "check-again" ()   the user wants the confirmation probe; the window runs it and shows
 *                      "confirm".
 * Widget names: "ipv6-enable" (Turn On IPv6), "ipv6-undo", "ipv6-check" (Check Again). */
GtkWidget *
ph_ipv6_page_new (void);
/* What every fix page does (ph-fix-page.h): the diagnosis shown, the "actions" property, the
 * title. */
#define ph_ipv6_page_set_diagnosis(self, diagnosis)                                                \
  ph_fix_page_set_diagnosis (PH_FIX_PAGE (self), (diagnosis))
#define ph_ipv6_page_get_diagnosis(self) ph_fix_page_get_diagnosis (PH_FIX_PAGE (self))
#define ph_ipv6_page_set_actions(self, actions)                                                    \
  ph_fix_page_set_actions (PH_FIX_PAGE (self), (actions))
#define ph_ipv6_page_get_actions(self) ph_fix_page_get_actions (PH_FIX_PAGE (self))
#define ph_ipv6_page_get_title(self) ph_fix_page_get_title (PH_FIX_PAGE (self))
/* Tests only: what the page does when "Turn On IPv6" comes back with result (taken; its change
 * and facts are kept) or error (exactly one of them), without a NetworkManager. */
void
ph_ipv6_page_enable_done_for_tests (PhIpv6Page *self, PhIpv6FixResult *result, const GError *error);

G_END_DECLS
