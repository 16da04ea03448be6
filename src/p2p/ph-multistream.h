/* ph-multistream.h: multistream-select 1.0 (/multistream/1.0.0)
 *
 * Specs: multiformats/multistream-select README.md; libp2p/specs connections/README.md
 * §multistream-select. Each message is uvarint(length) ‖ UTF-8 text ‖ '\n', the length counting the
 * newline. The dialer sends the header and its first proposal in one write; the listener answers
 * with the header, then `na` or the echo of each proposal.
 *
 * Negotiation reads exactly the messages it needs, byte by byte for the length prefix, so whatever
 * the peer sends after its last negotiation message stays in the duplex for the next protocol.
 *
 * Errors (domain PH_P2P_ERROR unless the transport failed):
 *   TRUNCATED  a message cut short (by the end of input, or of the stream mid-message)
 *   TOO_LARGE  a length prefix over PH_MULTISTREAM_MAX_MESSAGE, or a varint over 9 bytes
 *   MALFORMED  no trailing newline, an embedded newline or NUL, not UTF-8, a non-minimal varint
 *   NEGOTIATION a wrong header, an unexpected answer, or no protocol in common
 *   LIMIT      the listener refused more than PH_MULTISTREAM_MAX_ATTEMPTS proposals
 *   CLOSED     the stream ended between two messages
 *   G_IO_ERROR_TIMED_OUT / G_IO_ERROR_CANCELLED, and other transport errors, as PhDuplex reports
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "ph-duplex.h"

G_BEGIN_DECLS

#define PH_MULTISTREAM_PROTOCOL_ID "/multistream/1.0.0"

/* Largest message, newline included: go-multistream lpReadBuf and js-libp2p MAX_PROTOCOL_LENGTH
 * both refuse more than 1024 bytes. A protocol ID is therefore at most 1023 bytes. */
#define PH_MULTISTREAM_MAX_MESSAGE 1024

/* Proposals a listener answers before it gives up on a dialer (PH_P2P_ERROR_LIMIT). */
#define PH_MULTISTREAM_MAX_ATTEMPTS 16

/* Codec: pure, no I/O. */

/* Appends one message carrying `line` (without its newline) to `buffer`. Fails with
 * PH_P2P_ERROR_MALFORMED for a line that is not UTF-8 or holds a newline, and TOO_LARGE when the
 * message would exceed PH_MULTISTREAM_MAX_MESSAGE; `buffer` is then unchanged. */
gboolean
ph_multistream_append_line (GByteArray *buffer, const char *line, GError **error);

/* Parses the message at the start of data. On success `*line_out` (optional) gets the text without
 * its newline, newly allocated, and `*consumed` (optional) the bytes the message took, prefix
 * included. PH_P2P_ERROR_TRUNCATED means more input may complete it; any other error is final. */
gboolean
ph_multistream_parse_line (const guint8 *data, gsize len, char **line_out, gsize *consumed,
                           GError **error);

/* Negotiation over a duplex; both block the calling thread until `deadline`. */

/* Dialer: proposes each of `protocols` (NULL-terminated, at least one) in order until the listener
 * accepts one; `*chosen` (optional) gets a copy of it. */
gboolean
ph_multistream_select (PhDuplex *io, const char *const *protocols, char **chosen, gint64 deadline,
                       GCancellable *cancellable, GError **error);

/* Listener: answers `na` to proposals not in `supported` (NULL-terminated, may be empty) and to
 * `ls`, and echoes the first one that is; `*chosen` (optional) gets a copy of it. */
gboolean
ph_multistream_handle (PhDuplex *io, const char *const *supported, char **chosen, gint64 deadline,
                       GCancellable *cancellable, GError **error);

/* Dialer, optimistic ("lazy"; go-multistream lazyClient.go, rust-libp2p's V1Lazy): for exactly
 * one protocol, no round trip of its own. Returns a duplex over `io` (which it takes over, and
 * frees on failure) that:
 *   - sends the header and the proposal together with the first bytes written (up to about
 *     14 KiB of them), in one write of `io`; or on its own before the first read, before
 *     close_write, or at ph_multistream_lazy_flush(), whichever comes first;
 *   - reads and checks the listener's header and echo at the first read, before any data. The
 *     listener keeps what we sent after the proposal buffered for the protocol (go, js and rust
 *     read multistream messages exactly, and so does ph_multistream_handle());
 *   - waits in close_write for that answer if no read took it yet, because a listener that sees
 *     the end of the stream before it has negotiated may drop the stream (js-libp2p does).
 * A listener that answers `na` (or anything but the header and the echo) makes that first read (or
 * close_write) fail with PH_P2P_ERROR_NEGOTIATION, and every later read, write and close_write
 * too; what was written before it is lost. A deadline or cancellation while the answer is read
 * fails that call only; the next one resumes. The other errors are ph_multistream_select()'s.
 * Bytes the listener sends after its echo are returned by reads, in order. One reader and one
 * writer thread may use it at once, like any PhDuplex.
 *
 * Fails (and frees io) only for a protocol ph_multistream_append_line() refuses. */
PhDuplex *
ph_multistream_select_lazy (PhDuplex *io, const char *protocol, GError **error);

/* Sends the header and the proposal of a duplex from ph_multistream_select_lazy() now, if no
 * write, read or close_write did yet; the answer is still read at the first read. */
gboolean
ph_multistream_lazy_flush (PhDuplex *lazy, gint64 deadline, GCancellable *cancellable,
                           GError **error);

/* TRUE for a duplex from ph_multistream_select_lazy() whose listener's answer was read and
 * accepted. */
gboolean
ph_multistream_lazy_is_confirmed (PhDuplex *lazy);

G_END_DECLS
