/* ph-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define PH_TYPE_APPLICATION (ph_application_get_type ())
G_DECLARE_FINAL_TYPE (PhApplication, ph_application, PH, APPLICATION, AdwApplication)

#include "core/ph-actions.h"
#include "core/ph-check.h"

PhApplication *
ph_application_new (const PhCheckOptions *overrides);
/* What a check should use: the command line's --port/--peer/--timeout over the settings. */
void
ph_application_get_check_options (PhApplication *self, PhCheckOptions *options);
/* The one PhActions of this process: the fixes the user applies, and the renewal of our UPnP
 * mapping for as long as Porthole runs (window or background). */
PhActions *
ph_application_get_actions (PhApplication *self);
/* Every finished check, from any face, goes here: the monitor's state, the tray, notifications and
 * the history follow it. */
void
ph_application_record_diagnosis (PhApplication *self, PhDiagnosis *diagnosis);

G_END_DECLS
