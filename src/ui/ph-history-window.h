/* ph-history-window.h: the last checks, newest first, updated live
 *
 * Each row: when, the verdict per family, how peers reach the node (direct, UPnP, a forward,
 * IPv6) and, when not reachable, why. A history file found corrupt at startup (set aside by
 * PhHistory) is reported in a row on top, named history-corrupt; the list is history-list,
 * each row history-row-<n>; with no checks yet, history-empty shows.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-history.h"

G_BEGIN_DECLS

#define PH_TYPE_HISTORY_WINDOW (ph_history_window_get_type ())
G_DECLARE_FINAL_TYPE (PhHistoryWindow, ph_history_window, PH, HISTORY_WINDOW, AdwWindow)

/* load_error: what ph_history_load () reported (nullable). */
GtkWidget *
ph_history_window_new (PhHistory *history, const GError *load_error);
/* How many entry rows show (tests). */
guint
ph_history_window_get_n_rows (PhHistoryWindow *self);

G_END_DECLS
