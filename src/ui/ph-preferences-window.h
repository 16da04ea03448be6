/* ph-preferences-window.h: the settings a person may want to change, bound to GSettings
 *
 * Background: run at login (key "autostart"; the application makes or removes the entry),
 * minutes between checks ("check-interval"), and — when there is no panel icon — why not.
 * Your node: the swarm port ("port"). Servers: the AutoNAT peers asked ("peers"; empty: the
 * default bootstrap peers).
 *
 * Widget names for tests: prefs-autostart, prefs-interval, prefs-port, prefs-tray,
 * prefs-peer-entry, prefs-peer-<n> (rows), prefs-peer-remove-<n>.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define PH_TYPE_PREFERENCES_WINDOW (ph_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (PhPreferencesWindow, ph_preferences_window, PH, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

GtkWidget *
ph_preferences_window_new (GSettings *settings);
/* reason: why there is no panel icon (a translated sentence), or NULL when there is one. */
void
ph_preferences_window_set_tray_reason (PhPreferencesWindow *self, const char *reason);

G_END_DECLS
