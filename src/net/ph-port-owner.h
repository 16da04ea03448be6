/* ph-port-owner.h: which program listens on a TCP port, when this user may know
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "ipfs (pid 4242)", or NULL when nothing listens there or the owner cannot be told (another
 * user's process). Reads /proc; local and quick, but call it from a worker thread anyway. */
char *
ph_port_owner_describe (guint port);

G_END_DECLS
