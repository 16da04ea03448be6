/* ph-network-watch.h: tells when NetworkManager's view of the primary connection changes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define PH_NETWORK_WATCH_DEFAULT_DEBOUNCE_MS 2000

#define PH_TYPE_NETWORK_WATCH (ph_network_watch_get_type ())
G_DECLARE_FINAL_TYPE (PhNetworkWatch, ph_network_watch, PH, NETWORK_WATCH, GObject)

/* Starts watching at once, on the thread-default main context (libnm's client is created
 * asynchronously; until it is ready nothing is reported). "changed" is emitted once the facts
 * have been quiet for debounce_ms after a change (0: PH_NETWORK_WATCH_DEFAULT_DEBOUNCE_MS), and
 * at most 4 × debounce_ms after the first change of a burst: NetworkManager starting or stopping,
 * another primary connection, its state, devices, addresses, gateways, routes, DHCP lease.
 * Without a system bus the watch stays silent. */
PhNetworkWatch *
ph_network_watch_new (guint debounce_ms);
/* TRUE once libnm's client is ready (the "ready" property; notify::ready tells). */
gboolean
ph_network_watch_is_ready (PhNetworkWatch *self);
/* NetworkManager is running (the "running" property). */
gboolean
ph_network_watch_get_running (PhNetworkWatch *self);

G_END_DECLS
