/* ph-application.h
 *
 * One process, three faces: the window, the panel icon (PhTray) and notifications. The
 * application owns the PhMonitor, its PhHistory, the PhTray and the PhNotifier.
 *
 * Started with `porthole --background` (ph_application_set_start_in_background), it opens no
 * window, holds itself and starts the monitor (network watch + timer); closing a window later
 * leaves it running until app.quit. A window-only launch creates the monitor too but does not
 * start it: the window's own checks reach it through ph_application_record_diagnosis (history,
 * tray, notifications), and the process ends with its last window. `porthole --background` while
 * a window-only instance runs turns that instance into a background one (app.background).
 *
 * App actions: about, quit, preferences, history, check-now, show-fix, background.
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
#include "core/ph-history.h"
#include "core/ph-monitor.h"

PhApplication *
ph_application_new (const PhCheckOptions *overrides);
/* Before g_application_run (): the first activation opens no window but starts the watch. */
void
ph_application_set_start_in_background (PhApplication *self, gboolean background);
/* TRUE once the process watches in the background (it then outlives its windows). */
gboolean
ph_application_get_background (PhApplication *self);
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
/* The watch (after startup; nullable before). Its "diagnosis" is the latest check of any face. */
PhMonitor *
ph_application_get_monitor (PhApplication *self);
/* The history of checks (after startup; nullable before). */
PhHistory *
ph_application_get_history (PhApplication *self);

G_END_DECLS
