/* ph-provider-page.h: the wizard's "provider" page — When forwarding cannot help (carrier-grade or
 * double NAT): what can
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-actions.h"
#include "core/ph-diagnosis.h"

G_BEGIN_DECLS

#define PH_TYPE_PROVIDER_PAGE (ph_provider_page_get_type ())
G_DECLARE_FINAL_TYPE (PhProviderPage, ph_provider_page, PH, PROVIDER_PAGE, AdwBin)

/* Signals:
 *   "check-again" ()
 *   "show-fix"    (const char *road) the road picked: "ipv6", or "forward" (double NAT: forward
 *                                    on both routers); without a handler, "win.show-fix".
 * Widget names: rows "provider-ipv6", "provider-forward" (double NAT; activatable),
 * "provider-bridge" (double NAT), "provider-isp"; button "provider-check". */
GtkWidget *
ph_provider_page_new (void);
/* Shows what this diagnosis says (NULL: nothing known yet). Keeps a reference. */
void
ph_provider_page_set_diagnosis (PhProviderPage *self, PhDiagnosis *diagnosis);
PhDiagnosis *
ph_provider_page_get_diagnosis (PhProviderPage *self);
/* Property "actions": the PhActions that applies and undoes the fix (NULL: the buttons that need it
 * are insensitive). */
void
ph_provider_page_set_actions (PhProviderPage *self, PhActions *actions);
PhActions *
ph_provider_page_get_actions (PhProviderPage *self);
/* The page's title, translated, for the window's header bar. */
const char *
ph_provider_page_get_title (PhProviderPage *self);

G_END_DECLS
