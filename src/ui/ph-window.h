/* ph-window.h: the wizard — check, result, the roads to a fix, and the confirmation
 *
 * A GtkStack of pages whose names are what the ui tests look for: "check", "result", "fixes",
 * "ipv6", "upnp", "forward", "provider", "confirm". Window actions: win.check (a check, on the
 * check page), win.cancel, win.back, win.show-fix (s: a road's name), win.show-fixes,
 * win.show-result, win.confirm (the fresh probe after a fix), win.evidence.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "ph-application.h"

G_BEGIN_DECLS

#define PH_TYPE_WINDOW (ph_window_get_type ())
G_DECLARE_FINAL_TYPE (PhWindow, ph_window, PH, WINDOW, AdwApplicationWindow)

/* Starts a check at once: people open Porthole to get the answer. */
PhWindow *
ph_window_new (PhApplication *application);

/* The visible page's name. */
const char *
ph_window_get_page (PhWindow *self);
/* Shows the page of that name (no check is started or cancelled). */
void
ph_window_show_page (PhWindow *self, const char *name);

G_END_DECLS
