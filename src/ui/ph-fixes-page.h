/* ph-fixes-page.h: the roads to a reachable node, the one most likely to work first
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-diagnosis.h"

G_BEGIN_DECLS

#define PH_TYPE_FIXES_PAGE (ph_fixes_page_get_type ())
G_DECLARE_FINAL_TYPE (PhFixesPage, ph_fixes_page, PH, FIXES_PAGE, AdwBin)

GtkWidget *
ph_fixes_page_new (void);
/* Rows road-ipv6, road-upnp, road-forward and road-provider, each activating win.show-fix. */
void
ph_fixes_page_set_diagnosis (PhFixesPage *self, PhDiagnosis *diagnosis);

/* Shared with the window and the confirmation: a road's title, translated. */
const char *
ph_fixes_page_road_title (PhFix fix);

G_END_DECLS
