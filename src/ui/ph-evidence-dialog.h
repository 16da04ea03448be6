/* ph-evidence-dialog.h: what each peer answered, and the facts read from this machine and router
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-diagnosis.h"

G_BEGIN_DECLS

#define PH_TYPE_EVIDENCE_DIALOG (ph_evidence_dialog_get_type ())
G_DECLARE_FINAL_TYPE (PhEvidenceDialog, ph_evidence_dialog, PH, EVIDENCE_DIALOG, AdwWindow)

/* A modal window over parent (may be NULL); keeps a reference to diagnosis. */
PhEvidenceDialog *
ph_evidence_dialog_new (GtkWindow *parent, PhDiagnosis *diagnosis);

G_END_DECLS
