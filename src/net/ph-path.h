/* ph-path.h: the first routers on the way to a host, found with hop-limited datagrams
 *
 * The router past ours tells what our router cannot: an address in 100.64.0.0/10 there means the
 * ISP's carrier-grade NAT, a private one another NAT of the household's. Unprivileged: UDP with
 * IP_TTL / IPV6_UNICAST_HOPS, and the ICMP "time exceeded" read from the socket's error queue.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define PH_PATH_MAX_HOPS 4

/* Blocking (a worker thread): hop i (0-based) is at index i, NULL where nothing answered in time.
 * Stops early at the target itself. */
GPtrArray *
ph_path_trace (GInetAddress *target, guint max_hops, guint timeout_ms, GCancellable *cancellable,
               GError **error);

G_END_DECLS
