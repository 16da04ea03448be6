/* ph-dnsaddr.h: /dnsaddr resolution (multiformats/multiaddr protocols/DNSADDR.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "ph-multiaddr.h"

G_BEGIN_DECLS

/* go-libp2p's bounds (swarm_dial.go): recursion depth and addresses in all. */
#define PH_DNSADDR_MAX_DEPTH 4
#define PH_DNSADDR_MAX_RESULTS 100

/* Resolves `addr` when it starts with /dnsaddr, recursively, keeping only results whose trailing
 * /p2p matches the one `addr` carries; any other address comes back as it is. Blocks the calling
 * worker thread until the deadline at most. Returns PhMultiaddr*, possibly empty when every
 * record was malformed or mismatched; NULL with an error when the lookup itself failed. */
GPtrArray *
ph_dnsaddr_resolve (GResolver *resolver, PhMultiaddr *addr, gint64 deadline,
                    GCancellable *cancellable, GError **error);

G_END_DECLS
