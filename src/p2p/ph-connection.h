/* ph-connection.h: one libp2p connection over TCP: Noise, yamux, and the streams on it
 *
 * The upgrade path (libp2p/specs connections/README.md): TCP, multistream-select `/noise`, the
 * Noise XX handshake (ph-noise.h), multistream-select `/yamux/1.0.0` over the secure channel, a
 * yamux session (ph-yamux.h). Every stream on it is negotiated with multistream-select again.
 *
 * Threads. Every call blocks the calling worker thread until its deadline (absolute, in
 * g_get_monotonic_time() microseconds) or until its cancellable fires; never call them on the main
 * thread. Different threads may use different streams, open streams, ping and identify on one
 * connection at the same time. Each connection runs one thread that accepts the streams the peer
 * opens and hands them to a small pool of handler threads: identify (/ipfs/id/1.0.0) and ping
 * (/ipfs/ping/1.0.0) are always served, and a connection dialed with a PhListener in its options
 * also serves that listener's handlers (ph-listener.h).
 *
 * Errors are in PH_P2P_ERROR (PEER_MISMATCH when the remote is not the expected peer, NEGOTIATION
 * when it speaks none of the protocols, CLOSED once the connection is gone, …), or G_IO_ERROR for
 * the transport (CONNECTION_REFUSED, TIMED_OUT at the deadline, CANCELLED, …).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "ph-duplex.h"
#include "ph-identify.h"
#include "ph-keys.h"
#include "ph-multiaddr.h"
#include "ph-peer-id.h"
#include "ph-yamux.h"

G_BEGIN_DECLS

typedef struct _PhConnection PhConnection;
typedef struct _PhListener PhListener;

/* The identify responder's agentVersion is "porthole/<version>"; its protocolVersion is the
 * "ipfs/0.1.0" go and js send. */
#define PH_CONNECTION_AGENT_PREFIX "porthole/"
#define PH_CONNECTION_PROTOCOL_VERSION "ipfs/0.1.0"

/* How long the peer may take to agree on the protocol of a stream it opened (go-libp2p's
 * DefaultNegotiationTimeout). */
#define PH_CONNECTION_NEGOTIATE_TIMEOUT_MS 10000
/* Handler threads per connection; the streams beyond wait their turn. */
#define PH_CONNECTION_DEFAULT_HANDLER_THREADS 16
/* Ping payloads one inbound ping stream may echo. */
#define PH_CONNECTION_MAX_PINGS_PER_STREAM 1000

/* Serves one stream the peer opened, after multistream-select agreed on `protocol`. Runs in a
 * handler thread. `stream` belongs to the caller: when the handler returns, the stream is
 * half-closed, its remaining input is drained for a moment (so that a finished exchange ends in
 * FIN, not RST) and freed. `deadline` is the handler's timeout from now; `cancellable` fires when
 * the connection closes. `connection` is valid for the call; take a reference to keep it. */
typedef void (*PhStreamHandler) (PhConnection *connection, PhDuplex *stream, const char *protocol,
                                 gint64 deadline, GCancellable *cancellable, gpointer user_data);

typedef struct
{
  /* Bind the outgoing socket here before connecting: an /ip4 or /ip6 address with /tcp (port 0:
   * any port), e.g. so that AutoNAT servers see us come from the swarm port. NULL: the kernel
   * picks. */
  PhMultiaddr *local_addr;
  /* With local_addr: set SO_REUSEADDR and SO_REUSEPORT, so that the bind succeeds on a port a
   * listening socket holds. Linux allows it only when that socket (same user) set SO_REUSEPORT
   * too, as go-libp2p's TCP transport and PhListenerOptions.reuse_port do. */
  gboolean reuse_port;
  /* Serve this listener's handlers on the connection, announce its addresses in identify, and
   * close the connection when the listener stops (dialing with a stopped one fails, CLOSED). The
   * listener need not be started. NULL: only identify and ping. */
  PhListener *listener;
  /* Stream caps for this connection; NULL or zero fields: ph_yamux_limits_init()'s defaults,
   * except that max_pending_accepts defaults to max_inbound_streams. */
  const PhYamuxLimits *yamux_limits;
} PhDialOptions;

/* Connects to addr (/ip4|/ip6 …/tcp/…, optionally /p2p/…; no DNS) and upgrades the connection as
 * the initiator. The remote must prove the identity `expected`, or, when that is NULL, the one in
 * the address's /p2p component; with neither any identity is accepted (and reported by
 * ph_connection_get_remote_peer_id()). An address whose /p2p differs from `expected` fails with
 * PEER_MISMATCH before anything is sent. `identity` is the key we authenticate with. */
PhConnection *
ph_connection_dial (PhMultiaddr *addr, PhPrivateKey *identity, const PhPeerId *expected,
                    const PhDialOptions *opts, gint64 deadline, GCancellable *cancellable,
                    GError **error);

PhConnection *
ph_connection_ref (PhConnection *self);
/* The last reference closes the connection (ph_connection_close()) at once, even while handlers
 * still run (they see their cancellable fire); the memory goes when the last of them returns. Any
 * thread, a handler of the connection included. */
void
ph_connection_unref (PhConnection *self);

/* Sends yamux Go Away (the peer should open no more streams), then shuts the session: blocked
 * calls on the connection and its streams fail with CLOSED, handlers see their cancellable fire,
 * the socket is closed and the stream-accepting thread joined. Idempotent; any thread. */
void
ph_connection_close (PhConnection *self);

/* TRUE once the connection is gone (closed here, by the peer, or on an error); reason (optional)
 * gets why. */
gboolean
ph_connection_is_closed (PhConnection *self, GError **reason);

/* Opens a stream and negotiates the first of `protocols` (NULL-terminated, most preferred first)
 * that the peer speaks; `*chosen` (optional) gets it. With exactly one protocol the negotiation
 * is optimistic: the proposal rides with the first bytes written, and a refusal surfaces as
 * PH_P2P_ERROR_NEGOTIATION at the first read or close_write. The stream is a PhDuplex: free it
 * when done (it is reset unless both sides closed it). */
PhDuplex *
ph_connection_open_stream (PhConnection *self, const char *const *protocols, char **chosen,
                           gint64 deadline, GCancellable *cancellable, GError **error);

/* Runs identify (/ipfs/id/1.0.0) as the requester and checks that the key in the answer, if any,
 * is the remote peer's. The info's observed_addr is how the peer sees our end of the connection. */
PhIdentifyInfo *
ph_connection_identify (PhConnection *self, gint64 deadline, GCancellable *cancellable,
                        GError **error);

/* `count` ping round trips (/ipfs/ping/1.0.0) on one stream; rtts_us_out (optional, `count`
 * entries) gets each round trip in microseconds. */
gboolean
ph_connection_ping (PhConnection *self, guint count, guint64 *rtts_us_out, gint64 deadline,
                    GCancellable *cancellable, GError **error);

/* The peer the Noise handshake authenticated. */
const PhPeerId *
ph_connection_get_remote_peer_id (PhConnection *self);
/* Our identity on this connection. Transfer none. */
PhPrivateKey *
ph_connection_get_identity (PhConnection *self);
/* The socket's two ends as /ip4|/ip6/…/tcp/…, without /p2p. Transfer none. */
PhMultiaddr *
ph_connection_get_remote_addr (PhConnection *self);
PhMultiaddr *
ph_connection_get_local_addr (PhConnection *self);
/* TRUE when we dialed the connection (our streams have odd yamux IDs). */
gboolean
ph_connection_is_initiator (PhConnection *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhConnection, ph_connection_unref)

G_END_DECLS
