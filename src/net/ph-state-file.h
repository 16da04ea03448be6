/* ph-state-file.h: Porthole's own files in the XDG state directory (change log, history)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Where a damaged file at path is renamed to keep it: "<path>.corrupt-<UTC stamp>", with a
 * counter (or a random suffix) so that it never names a file that exists. */
char *
ph_state_file_aside_path (const char *path);

G_END_DECLS
