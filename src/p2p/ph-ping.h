/* ph-ping.h: libp2p ping (/ipfs/ping/1.0.0)
 *
 * Spec: libp2p/specs ping/ping.md (r0, 2022-12-09). The dialer writes 32 random bytes and the
 * listener echoes them; the dialer may repeat on the same stream and half-closes after the last
 * one, and the listener then finishes echoing and closes too.
 *
 * Errors (domain PH_P2P_ERROR unless the transport failed):
 *   PROTOCOL   an echo that differs from what we sent
 *   CLOSED     the stream ended where a whole payload or echo was due (a clean boundary)
 *   TRUNCATED  the stream ended inside a payload or echo
 *   LIMIT      (ph_ping_serve) the dialer sent more than max_pings payloads
 *   CRYPTO     no random bytes to be had
 *   G_IO_ERROR_TIMED_OUT / G_IO_ERROR_CANCELLED, and other transport errors, as PhDuplex reports
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "ph-duplex.h"

G_BEGIN_DECLS

#define PH_PING_PROTOCOL_ID "/ipfs/ping/1.0.0"
#define PH_PING_PAYLOAD_LEN 32

/* Dialer: `count` (at least 1) rounds on a stream that multistream-select has agreed on
 * PH_PING_PROTOCOL_ID for, then half-closes. `rtts_us_out` (optional, `count` entries) gets each
 * round trip in microseconds, from before the write to after the whole echo arrived. The whole
 * series shares `deadline`. */
gboolean
ph_ping (PhDuplex *stream, guint count, guint64 *rtts_us_out, gint64 deadline,
         GCancellable *cancellable, GError **error);

/* Listener: echoes each 32-byte payload until the dialer half-closes, then half-closes too. A
 * dialer that sends more than `max_pings` (at least 1) payloads gets no more echoes and LIMIT. */
gboolean
ph_ping_serve (PhDuplex *stream, guint max_pings, gint64 deadline, GCancellable *cancellable,
               GError **error);

G_END_DECLS
