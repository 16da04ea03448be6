/* ph-yamux.h: the yamux stream multiplexer (/yamux/1.0.0) over one PhDuplex
 *
 * Specs: hashicorp/yamux spec.md and its libp2p copy, libp2p/specs yamux/README.md.
 * The frame codec is pure; PhYamuxSession runs one reader thread per connection and hands out
 * streams that are themselves PhDuplex, so multistream-select and framed messages work over them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "ph-duplex.h"

G_BEGIN_DECLS

#define PH_YAMUX_PROTOCOL_ID "/yamux/1.0.0"

#define PH_YAMUX_HEADER_LEN 12
/* Every stream starts with this window in both directions (spec "Flow Control"). */
#define PH_YAMUX_INITIAL_WINDOW (256 * 1024)
/* The largest receive window a session may be configured with (go and js cap theirs at 16 MiB). */
#define PH_YAMUX_MAX_WINDOW (16 * 1024 * 1024)
/* The largest Data payload we write in one frame (one Noise message carries it with room left). */
#define PH_YAMUX_MAX_WRITE_PAYLOAD (16 * 1024)

typedef enum
{
  PH_YAMUX_TYPE_DATA = 0,
  PH_YAMUX_TYPE_WINDOW_UPDATE = 1,
  PH_YAMUX_TYPE_PING = 2,
  PH_YAMUX_TYPE_GO_AWAY = 3,
} PhYamuxType;

typedef enum
{
  PH_YAMUX_FLAG_SYN = 1 << 0,
  PH_YAMUX_FLAG_ACK = 1 << 1,
  PH_YAMUX_FLAG_FIN = 1 << 2,
  PH_YAMUX_FLAG_RST = 1 << 3,
} PhYamuxFlags;

/* The spec's Go Away codes. Peers also send others (go-libp2p: 0x1000 and up); any is accepted. */
typedef enum
{
  PH_YAMUX_GO_AWAY_NORMAL = 0,
  PH_YAMUX_GO_AWAY_PROTOCOL_ERROR = 1,
  PH_YAMUX_GO_AWAY_INTERNAL_ERROR = 2,
} PhYamuxGoAwayCode;

typedef struct
{
  PhYamuxType type;
  guint16 flags; /* PhYamuxFlags; bits the spec does not define are kept as received */
  guint32 stream_id;
  guint32 length; /* Data: payload bytes; Window Update: delta; Ping: opaque; Go Away: code */
} PhYamuxHeader;

void
ph_yamux_header_encode (const PhYamuxHeader *header, guint8 out[PH_YAMUX_HEADER_LEN]);

/* Strict: version 0 only; type 0-3 only; Data and Window Update on a stream (ID != 0), Ping and
 * Go Away on the session (ID 0); a Ping carries exactly one of SYN (request) and ACK (reply).
 * Any of these is PH_P2P_ERROR_PROTOCOL; fewer than 12 bytes is PH_P2P_ERROR_TRUNCATED; a Data
 * length over max_data_len is PH_P2P_ERROR_TOO_LARGE. Reads exactly PH_YAMUX_HEADER_LEN bytes. */
gboolean
ph_yamux_header_decode (const guint8 *data, gsize len, guint32 max_data_len, PhYamuxHeader *header,
                        GError **error);

/* Bounds on what a peer can make a session hold. A field left 0 takes its default. Worst case a
 * peer pins (max_inbound_streams × stream_window) bytes of receive buffers, 16 MiB by default. */
typedef struct
{
  guint max_inbound_streams;  /* open streams the peer started, accepted or not; default 64 */
  guint max_outbound_streams; /* open streams we started; open_stream waits for a slot; 64 */
  guint max_pending_accepts;  /* inbound streams not yet accepted; more are refused (RST); 32 */
  guint32 stream_window;      /* receive window = most bytes buffered per stream; 256 KiB,
                               * clamped to [PH_YAMUX_INITIAL_WINDOW, PH_YAMUX_MAX_WINDOW] */
  guint write_timeout_ms;     /* one frame onto the connection; past it the session dies; 10 s */
} PhYamuxLimits;

/* Fills every field with its default. */
void
ph_yamux_limits_init (PhYamuxLimits *limits);

typedef struct _PhYamuxSession PhYamuxSession;

/* Takes ownership of io (in production the Noise channel) and starts the reader thread.
 * is_client: we dialed the connection, so our streams get odd IDs. limits may be NULL. */
PhYamuxSession *
ph_yamux_session_new (PhDuplex *io, gboolean is_client, const PhYamuxLimits *limits);

/* A new outbound stream; its SYN is queued at once (a Window Update, as go and js do), so the
 * caller may write immediately. Waits (until deadline) only for a free outbound slot. Fails with
 * PH_P2P_ERROR_CLOSED once the session is closed or the peer sent Go Away, PH_P2P_ERROR_LIMIT
 * when stream IDs are exhausted. The stream is a PhDuplex: read/write/close_write (FIN);
 * ph_duplex_free resets it (RST) unless both directions were closed. */
PhDuplex *
ph_yamux_session_open_stream (PhYamuxSession *self, gint64 deadline, GCancellable *cancellable,
                              GError **error);

/* The next stream the peer opened (acknowledged now, with ACK). */
PhDuplex *
ph_yamux_session_accept_stream (PhYamuxSession *self, gint64 deadline, GCancellable *cancellable,
                                GError **error);

/* One Ping round trip; rtt_us (may be NULL) gets the time in microseconds. Concurrent callers
 * take turns. */
gboolean
ph_yamux_session_ping (PhYamuxSession *self, gint64 *rtt_us, gint64 deadline,
                       GCancellable *cancellable, GError **error);

/* Sends Go Away once: the peer should open no more streams, and those it still opens are
 * refused. Streams already open carry on. */
void
ph_yamux_session_go_away (PhYamuxSession *self, guint32 code);

/* Whether the peer sent Go Away, and its code (any value). Streams already open carry on. */
gboolean
ph_yamux_session_get_remote_go_away (PhYamuxSession *self, guint32 *code);

/* Sends Go Away (normal) if not sent yet, then shuts down: every blocked call on the session or
 * its streams fails with PH_P2P_ERROR_CLOSED (reads first return what was already buffered), the
 * reader thread is joined and the connection freed. Streams stay valid handles until freed.
 * Must not be called from a handler of the closed cancellable. */
void
ph_yamux_session_close (PhYamuxSession *self);

/* TRUE once the session is dead (closed here, by the peer, or on a protocol error); then reason
 * gets why. */
gboolean
ph_yamux_session_is_closed (PhYamuxSession *self, GError **reason);

/* Cancelled when the session dies, whatever the cause: connect to it (the handler runs on the
 * thread that noticed, possibly the reader thread, and must not close or free the session) or
 * watch it with g_cancellable_source_new. Owned by the session. */
GCancellable *
ph_yamux_session_get_closed_cancellable (PhYamuxSession *self);

/* Closes, then drops the handle. Streams not yet freed keep the memory, not the connection. */
void
ph_yamux_session_free (PhYamuxSession *self);

/* The stream ID of a yamux stream, 0 for any other PhDuplex. */
guint32
ph_yamux_stream_get_id (PhDuplex *stream);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhYamuxSession, ph_yamux_session_free)

G_END_DECLS
