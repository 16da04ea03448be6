/* ph-ipv6-page.h: the wizard's "ipv6" page — Turn on IPv6 for this computer's connection, and say
 * what came of it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-actions.h"
#include "core/ph-diagnosis.h"

G_BEGIN_DECLS

#define PH_TYPE_IPV6_PAGE (ph_ipv6_page_get_type ())
G_DECLARE_FINAL_TYPE (PhIpv6Page, ph_ipv6_page, PH, IPV6_PAGE, AdwBin)

/* Signals:
 *   "check-again" ()   the user wants the confirmation probe; the window runs it and shows
 *                      "confirm".
 * Widget names: "ipv6-enable" (Turn On IPv6), "ipv6-undo", "ipv6-check" (Check Again). */
GtkWidget *
ph_ipv6_page_new (void);
/* Shows what this diagnosis says (NULL: nothing known yet). Keeps a reference. */
void
ph_ipv6_page_set_diagnosis (PhIpv6Page *self, PhDiagnosis *diagnosis);
PhDiagnosis *
ph_ipv6_page_get_diagnosis (PhIpv6Page *self);
/* Property "actions": the PhActions that applies and undoes the fix (NULL: the buttons that need it
 * are insensitive). */
void
ph_ipv6_page_set_actions (PhIpv6Page *self, PhActions *actions);
PhActions *
ph_ipv6_page_get_actions (PhIpv6Page *self);
/* The page's title, translated, for the window's header bar. */
const char *
ph_ipv6_page_get_title (PhIpv6Page *self);
/* Tests only: what the page does when "Turn On IPv6" comes back with result (taken; its change
 * and facts are kept) or error (exactly one of them), without a NetworkManager. */
void
ph_ipv6_page_enable_done_for_tests (PhIpv6Page *self, PhIpv6FixResult *result, const GError *error);

G_END_DECLS
