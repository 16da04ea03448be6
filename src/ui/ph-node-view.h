/* ph-node-view.h: what the user's kubo node says about itself, beside what Porthole found
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-diagnosis.h"

G_BEGIN_DECLS

#define PH_TYPE_NODE_VIEW (ph_node_view_get_type ())
G_DECLARE_FINAL_TYPE (PhNodeView, ph_node_view, PH, NODE_VIEW, AdwBin)

GtkWidget *
ph_node_view_new (void);
/* Shows the node's state, its AutoNAT view beside ours, its warnings and suggestions; hides
 * itself when no kubo was found. */
void
ph_node_view_set_diagnosis (PhNodeView *self, PhDiagnosis *diagnosis);

G_END_DECLS
