/* ph-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "ph-application.h"

G_BEGIN_DECLS

#define PH_TYPE_WINDOW (ph_window_get_type ())
G_DECLARE_FINAL_TYPE (PhWindow, ph_window, PH, WINDOW, AdwApplicationWindow)

PhWindow *ph_window_new (PhApplication *application);

G_END_DECLS
