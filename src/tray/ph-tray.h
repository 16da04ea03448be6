/* ph-tray.h: the panel icon — a StatusNotifierItem with its menu, spoken over GDBus
 *
 * GTK 4 has no status icon and Debian 12 ships no GTK 4 indicator library, so Porthole exports
 * org.kde.StatusNotifierItem (at /StatusNotifierItem) and com.canonical.dbusmenu (at /MenuBar, see
 * ph-dbusmenu.h) itself and registers with org.kde.StatusNotifierWatcher. When the watcher goes
 * away and comes back (a panel restart), the item registers again.
 *
 * "available" is TRUE only while a watcher has accepted the item and a host shows it; otherwise
 * ph_tray_get_unavailable_reason() says why in a sentence for the preferences. It starts FALSE and
 * changes with notify::available once the bus has answered.
 *
 * Signals: "activate" (the icon was clicked or "Open Porthole" chosen: show the window),
 * "check-now" (middle click or "Check Now"), "quit" ("Quit"). No arguments.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "core/ph-reachability.h"

G_BEGIN_DECLS

#define PH_TYPE_TRAY (ph_tray_get_type ())
G_DECLARE_FINAL_TYPE (PhTray, ph_tray, PH, TRAY, GObject)

/* icon_theme_path: a directory holding hicolor/…/porthole-*-symbolic icons for hosts that do not
 * see the app's icons in the theme (nullable). */
PhTray *
ph_tray_new (GDBusConnection *session_bus, const char *icon_theme_path);
/* status_line: a translated sentence for the tooltip and the menu's first line; NULL means
 * ph_reachability_describe (state). last_check: nullable (never checked). */
void
ph_tray_set_state (PhTray *self, PhReachability state, const char *status_line,
                   GDateTime *last_check);
PhReachability
ph_tray_get_state (PhTray *self);
gboolean
ph_tray_get_available (PhTray *self);
/* A translated sentence; NULL while available. */
const char *
ph_tray_get_unavailable_reason (PhTray *self);
/* The well-known name the item is exported under (org.kde.StatusNotifierItem-<pid>-<n>), or the
 * connection's unique name if that could not be owned. */
const char *
ph_tray_get_bus_name (PhTray *self);

G_END_DECLS
