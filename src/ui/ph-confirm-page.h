/* ph-confirm-page.h: the fresh probe after a fix, then success or the next thing to try
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-diagnosis.h"
#include "ph-check-page.h"

G_BEGIN_DECLS

#define PH_TYPE_CONFIRM_PAGE (ph_confirm_page_get_type ())
G_DECLARE_FINAL_TYPE (PhConfirmPage, ph_confirm_page, PH, CONFIRM_PAGE, AdwBin)

GtkWidget *
ph_confirm_page_new (void);
/* The live view of the probe (its Cancel button is "confirm-cancel", action win.cancel). */
PhCheckPage *
ph_confirm_page_get_check_page (PhConfirmPage *self);
/* A probe starts: the live view, emptied. */
void
ph_confirm_page_start (PhConfirmPage *self);
/* The probe finished. road: the fix the user just went through ("upnp", …), NULL if none. */
void
ph_confirm_page_set_result (PhConfirmPage *self, PhDiagnosis *diagnosis, const char *road);
/* The probe could not finish. */
void
ph_confirm_page_set_error (PhConfirmPage *self, const char *message);

/* "direct", "upnp", "forward" or "ipv6": how the node is reached, NULL when it is not. */
const char *
ph_confirm_page_how (PhDiagnosis *diagnosis, const char *road);

G_END_DECLS
