/* ph-result-page.h: the verdict per family, its cause, the evidence and the node's own view
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-diagnosis.h"

G_BEGIN_DECLS

#define PH_TYPE_RESULT_PAGE (ph_result_page_get_type ())
G_DECLARE_FINAL_TYPE (PhResultPage, ph_result_page, PH, RESULT_PAGE, AdwBin)

GtkWidget *
ph_result_page_new (void);
void
ph_result_page_set_diagnosis (PhResultPage *self, PhDiagnosis *diagnosis);

G_END_DECLS
