/* ph-listener.h: accepting libp2p connections over TCP, and serving protocols on them
 *
 * A listener binds TCP addresses and runs the responder side of the upgrade on each connection it
 * accepts (libp2p/specs connections/README.md): multistream-select, where it answers `na` to
 * anything but `/noise` (kubo proposes `/tls/1.0.0` first, PROTOCOLS.md trap 6), the Noise XX
 * handshake as responder, multistream-select `/yamux/1.0.0`, and a yamux session as the server.
 * Then it serves the streams the peer opens with the handlers registered here: identify and ping
 * are built in; ph_listener_add_handler() adds more (e.g. AutoNAT v2's dial-back).
 *
 * Bounds: at most max_connections inbound connections at once (more are closed at accept), each
 * must finish its handshake within handshake_timeout_ms (a silent peer loses its slot), streams
 * per connection are capped by yamux_limits, and each handler by its timeout.
 *
 * Threads: one thread accepts; each connection has one thread for its handshake and then for
 * accepting its streams, and a pool of handler threads. ph_listener_stop() ends them all.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "ph-connection.h"
#include "ph-keys.h"
#include "ph-multiaddr.h"
#include "ph-peer-id.h"
#include "ph-yamux.h"

G_BEGIN_DECLS

typedef struct _PhListener PhListener;

typedef struct
{
  guint max_connections;      /* inbound connections at once; default 64 */
  guint handshake_timeout_ms; /* from accept to a running yamux session; default 10000 */
  guint max_handler_threads;  /* per connection; default PH_CONNECTION_DEFAULT_HANDLER_THREADS */
  /* SO_REUSEPORT on the listening sockets, so that ph_connection_dial() with
   * PhDialOptions.reuse_port can dial from the same port. Careful: another socket of the same user
   * with SO_REUSEPORT (a kubo daemon, say) can then bind the port too and take some of the
   * connections. Default FALSE. */
  gboolean reuse_port;
  /* Zeros take ph_yamux_limits_init()'s defaults, except max_pending_accepts: 0 means as many as
   * max_inbound_streams, since streams are accepted as fast as they arrive. */
  PhYamuxLimits yamux_limits;
} PhListenerOptions;

void
ph_listener_options_init (PhListenerOptions *opts);

/* Called on a connection's thread when an inbound handshake ends: with the connection (valid for
 * the call; ref it to keep it) and error NULL when it succeeded, before any of its streams is
 * served; with connection NULL and the error when it failed (timed out, peer mismatch, …).
 * remote_addr is where the connection came from. Must not stop or free the listener. */
typedef void (*PhListenerConnectionFunc) (PhListener *listener, PhConnection *connection,
                                          PhMultiaddr *remote_addr, const GError *error,
                                          gpointer user_data);

/* identity: the key we answer Noise handshakes with (referenced). opts may be NULL. */
PhListener *
ph_listener_new (PhPrivateKey *identity, const PhListenerOptions *opts);

/* Binds and listens on each of addrs (/ip4|/ip6 …/tcp/<port>; port 0 picks one; an /ip6 socket
 * takes only IPv6, IPV6_V6ONLY) and starts accepting. Once per listener. On failure nothing stays
 * bound. */
gboolean
ph_listener_start (PhListener *self, PhMultiaddr *const *addrs, guint n_addrs, GError **error);

/* The bound addresses, with the ports the kernel picked. (element-type PhMultiaddr), transfer
 * full. */
GPtrArray *
ph_listener_get_addrs (PhListener *self);

/* What identify tells peers our listen addresses are (element-type PhMultiaddr). Default: the
 * bound addresses, except unspecified ones (0.0.0.0, ::). Copied. */
void
ph_listener_set_announce_addrs (PhListener *self, PhMultiaddr *const *addrs, guint n_addrs);

PhPrivateKey *
ph_listener_get_identity (PhListener *self); /* transfer none */

/* Serves `protocol` with `handler` on inbound streams, of connections accepted here and of those
 * dialed with this listener in PhDialOptions; replaces a handler already registered for it. Each
 * call gets a deadline timeout_ms from its start. Any thread, any time. */
void
ph_listener_add_handler (PhListener *self, const char *protocol, guint timeout_ms,
                         PhStreamHandler handler, gpointer user_data, GDestroyNotify destroy);
void
ph_listener_remove_handler (PhListener *self, const char *protocol);

/* The protocols served, in registration order (identify and ping first); for identify. */
GStrv
ph_listener_dup_protocols (PhListener *self);

/* Tells of every inbound handshake, as PhListenerConnectionFunc says. Set it before start. */
void
ph_listener_set_connection_func (PhListener *self, PhListenerConnectionFunc func,
                                 gpointer user_data, GDestroyNotify destroy);

/* Inbound connections now up (not closed, handshake done). */
guint
ph_listener_get_n_connections (PhListener *self);

/* Stops accepting, closes the listening sockets and every connection (inbound, and those dialed
 * with this listener), and waits up to a second for running handlers to return. Idempotent. Call
 * it from a worker thread, not from one of the listener's handlers (that one would wait out the
 * second for itself). */
void
ph_listener_stop (PhListener *self);

/* Stops, then frees. */
void
ph_listener_free (PhListener *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhListener, ph_listener_free)

G_END_DECLS
