/* ph-autonat.h: AutoNAT v2 and v1 clients, the dial-back answer, and the nonce book
 *
 * Specs: libp2p/specs autonat/autonat-v2.md (Working Draft r2, 2023-04-15) and
 * autonat/autonat-v1.md (r1, 2023-02-16); schemas in proto/autonat_v2.proto and
 * proto/autonat_v1.proto. Every message is an unsigned-varint length prefix and a protobuf.
 *
 * The functions below take a stream that multistream-select has already agreed on the protocol
 * for; they do no dialing and no negotiation. Nothing here filters addresses: the caller decides
 * what to ask for (public addresses only for real servers, the observed IP with the swarm port —
 * PROTOCOLS.md traps 1 and 2).
 *
 * v2 in one paragraph. We send DialRequest{[addr], nonce} with one address (a js server writes a
 * DialResponse per address, trap 4). When the address's IP differs from the one the server sees,
 * it first sends DialDataRequest{addrIdx, numBytes} and we pay with DialDataResponse chunks. It
 * then dials the address, opens /libp2p/autonat/2/dial-back there and writes DialBack{nonce}; that
 * side answers DialBackResponse{OK} (the byte 00) and closes. Finally it writes
 * DialResponse{status, addrIdx, dialStatus}. Only a nonce that arrives proves the dial reached us:
 * a server may claim OK, so the probe registers the nonce in a PhAutonatNonceBook before asking and
 * checks it after.
 *
 * Errors (domain PH_P2P_ERROR unless the transport failed):
 *   TRUNCATED  the stream ended, or was reset, inside a message
 *   TOO_LARGE  a message over its bound (PH_AUTONAT_MAX_MESSAGE_SIZE to read,
 *              PH_AUTONAT_V2_DIAL_BACK_MAX_SIZE for DialBack, PH_AUTONAT_V1_MAX_REQUEST_SIZE for
 * our own v1 request), or a length prefix over 9 bytes MALFORMED  bytes that are not the expected
 * protobuf, a non-minimal length prefix PROTOCOL   a valid message that breaks the exchange: the
 * wrong kind of message (including an empty one) where another was due, a DialDataRequest for
 * another address or a second one, a v2 OK with dialStatus UNUSED or addrIdx other than 0, a v1
 * answer without type DIAL_RESPONSE or status; (ph_autonat_v2_answer_dial_back) a nonce the book
 *              does not expect
 *   UNSUPPORTED  a status code the spec does not define (v2 §Requirements for ResponseStatus: MUST
 *              discard); for v2 dialStatus only when status is OK
 *   G_IO_ERROR_TIMED_OUT / G_IO_ERROR_CANCELLED, and other transport errors, as PhDuplex reports
 * A server that closes (or resets) the stream where an answer was due, before its first byte, is
 * not an error: the call succeeds with outcome NO_RESPONSE.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "ph-duplex.h"
#include "ph-multiaddr.h"
#include "ph-peer-id.h"

G_BEGIN_DECLS

#define PH_AUTONAT_V1_PROTOCOL_ID "/libp2p/autonat/1.0.0"
#define PH_AUTONAT_V2_DIAL_REQUEST_PROTOCOL_ID "/libp2p/autonat/2/dial-request"
#define PH_AUTONAT_V2_DIAL_BACK_PROTOCOL_ID "/libp2p/autonat/2/dial-back"

/* The largest message we read on a request stream: go v2 and js (v1 and v2) allow 8192 bytes
 * (go-libp2p autonatv2 maxMsgSize; js protocol-autonat*-/constants.ts), go v1 4096. */
#define PH_AUTONAT_MAX_MESSAGE_SIZE 8192

/* Suggested deadlines. go's v2 server gives a request 15 s (10 s dial + ≤3 s dial-data wait), js
 * 30 s; go's v1 server answers a failed dial only after its 15 s dial timeout (trap 3). After an
 * OK, the dial-back may still be on its way: go's client waits up to 5 s for the nonce. */
#define PH_AUTONAT_V2_TIMEOUT_MS 30000
#define PH_AUTONAT_V1_TIMEOUT_MS 30000
#define PH_AUTONAT_V2_DIAL_BACK_WAIT_MS 5000

/* --- AutoNAT v2 ------------------------------------------------------------------------------ */

/* Dial data (autonat-v2.md §Amplification Attack Prevention): at most 4096 data bytes per
 * DialDataResponse; go's server drops a peer whose chunk carries fewer than 100 unless it is the
 * last (server.go readDialData), so every chunk we send carries 100 to 4096, the last one rounded
 * up. Servers ask for 30000–100000 bytes; go's client refuses more than 100000. */
#define PH_AUTONAT_V2_DIAL_DATA_CHUNK_MAX 4096
#define PH_AUTONAT_V2_DIAL_DATA_CHUNK_MIN 100
#define PH_AUTONAT_V2_MAX_DIAL_DATA_DEFAULT 100000

/* go's client reads DialBack messages of at most 1024 bytes (autonatv2 dialBackMaxMsgSize). */
#define PH_AUTONAT_V2_DIAL_BACK_MAX_SIZE 1024

/* DialResponse.ResponseStatus, the spec's values. */
typedef enum
{
  PH_AUTONAT_V2_RESPONSE_E_INTERNAL_ERROR = 0,
  PH_AUTONAT_V2_RESPONSE_E_REQUEST_REJECTED = 100, /* rate limit, resources, blocklist */
  PH_AUTONAT_V2_RESPONSE_E_DIAL_REFUSED = 101,     /* will not or cannot dial the address */
  PH_AUTONAT_V2_RESPONSE_OK = 200,                 /* dialed it; dial_status says how it went */
} PhAutonatV2ResponseStatus;

/* DialStatus, the spec's values. */
typedef enum
{
  PH_AUTONAT_V2_DIAL_UNUSED = 0,
  PH_AUTONAT_V2_DIAL_E_DIAL_ERROR = 100,      /* no connection (with our identity, for go/rust) */
  PH_AUTONAT_V2_DIAL_E_DIAL_BACK_ERROR = 101, /* connected, but the dial-back stream failed */
  PH_AUTONAT_V2_DIAL_OK = 200,                /* the server says it delivered the nonce */
} PhAutonatV2DialStatus;

typedef enum
{
  PH_AUTONAT_V2_OUTCOME_RESPONSE,          /* a DialResponse arrived: see status and dial_status */
  PH_AUTONAT_V2_OUTCOME_NO_RESPONSE,       /* the server closed the stream without answering (js
                                            * does so for an address with a private IP) */
  PH_AUTONAT_V2_OUTCOME_DIAL_DATA_REFUSED, /* it asked for more than max_dial_data bytes; we sent
                                            * nothing more: free the stream (yamux resets it) */
} PhAutonatV2Outcome;

/* What one request came to. Valid only when ph_autonat_v2_request returned TRUE. */
typedef struct
{
  PhAutonatV2Outcome outcome;
  PhAutonatV2ResponseStatus status;  /* RESPONSE only */
  PhAutonatV2DialStatus dial_status; /* RESPONSE with status OK; else as sent (UNUSED if unknown) */
  guint32 addr_idx;                  /* RESPONSE: 0 whenever status is OK (we send one address) */
  guint64 dial_data_requested;       /* numBytes of the DialDataRequest; 0 when none came */
  guint64 dial_data_sent;            /* data bytes we sent: the request rounded up to < +100 */
} PhAutonatV2Result;

/* A message a server may send on the dial-request stream. */
typedef enum
{
  PH_AUTONAT_V2_SERVER_DIAL_RESPONSE,
  PH_AUTONAT_V2_SERVER_DIAL_DATA_REQUEST,
} PhAutonatV2ServerMessageKind;

typedef struct
{
  PhAutonatV2ServerMessageKind kind;
  PhAutonatV2ResponseStatus status;  /* DIAL_RESPONSE */
  PhAutonatV2DialStatus dial_status; /* DIAL_RESPONSE; UNUSED if unknown and status is not OK */
  guint32 addr_idx;                  /* both kinds */
  guint64 num_bytes;                 /* DIAL_DATA_REQUEST */
} PhAutonatV2ServerMessage;

const char *
ph_autonat_v2_response_status_to_string (PhAutonatV2ResponseStatus status); /* "OK", "E_…" */
const char *
ph_autonat_v2_dial_status_to_string (PhAutonatV2DialStatus status);
const char *
ph_autonat_v2_outcome_to_string (PhAutonatV2Outcome outcome); /* "RESPONSE", "NO_RESPONSE", … */

/* Codec: pure, no I/O, no length prefixes. */

/* Message{dialRequest{addrs: [addr], nonce}}. */
GBytes *
ph_autonat_v2_dial_request_encode (PhMultiaddr *addr, guint64 nonce);
/* A Message as a server sends it: DialResponse or DialDataRequest; any other kind, or none, is
 * PROTOCOL. Checks the status codes (UNSUPPORTED), not how they fit the exchange. */
gboolean
ph_autonat_v2_server_message_decode (const guint8 *data, gsize len,
                                     PhAutonatV2ServerMessage *message, GError **error);
/* The bare DialBack{nonce} of the dial-back stream. */
GBytes *
ph_autonat_v2_dial_back_encode (guint64 nonce);
gboolean
ph_autonat_v2_dial_back_decode (const guint8 *data, gsize len, guint64 *nonce, GError **error);

/* Client, on a /libp2p/autonat/2/dial-request stream: asks the server to dial `addr` back with
 * `nonce`. Pays up to `max_dial_data` bytes of dial data when asked (the DialDataRequest must name
 * address 0; asking more ends in DIAL_DATA_REFUSED). After a DialResponse, half-closes our side
 * (the spec's "MUST close"); the caller frees the stream. A DialResponse with status OK and
 * dial_status OK is the server's word only: check the nonce book. */
gboolean
ph_autonat_v2_request (PhDuplex *stream, PhMultiaddr *addr, guint64 nonce, gsize max_dial_data,
                       PhAutonatV2Result *result, gint64 deadline, GCancellable *cancellable,
                       GError **error);

/* Dial-back side, on an inbound /libp2p/autonat/2/dial-back stream: reads DialBack, stores its
 * nonce in *nonce_out, writes DialBackResponse{OK} (the single byte 00 — js's server requires it,
 * go's reads one byte) and half-closes. Answers any nonce (see ph_autonat_v2_answer_dial_back).
 * *nonce_out is written as soon as the DialBack is read, so it holds the nonce even when answering
 * fails afterwards — the nonce's arrival is the proof. To tell, set it to 0 first: nonces from
 * ph_autonat_nonce_book_add_random are never 0. */
gboolean
ph_autonat_v2_serve_dial_back (PhDuplex *stream, guint64 *nonce_out, gint64 deadline,
                               GCancellable *cancellable, GError **error);

/* --- The nonce book ------------------------------------------------------------------------- */

/* The nonces of requests in flight, and which of them a dial-back has delivered. Thread-safe and
 * reference counted: the probe registers a nonce before its request and checks (or waits for) it
 * after the response; the dial-back handler, on another thread, marks what arrives. */
typedef struct _PhAutonatNonceBook PhAutonatNonceBook;

/* Where a nonce came in: the first dial-back that carried it. */
typedef struct
{
  guint n_dial_backs;  /* how many carried it; more than one: a retry or a replay */
  PhMultiaddr *remote; /* the dialer's address (the server's dial-back host), NULL if not given */
  PhMultiaddr *local;  /* our address it reached (which listener, which port), NULL if not given */
  gint64 seen_at;      /* g_get_monotonic_time () when it arrived */
} PhAutonatNonceSighting;

void
ph_autonat_nonce_sighting_clear (PhAutonatNonceSighting *sighting);

PhAutonatNonceBook *
ph_autonat_nonce_book_new (void);
PhAutonatNonceBook *
ph_autonat_nonce_book_ref (PhAutonatNonceBook *book);
void
ph_autonat_nonce_book_unref (PhAutonatNonceBook *book);

/* Registers a fresh random nonce (never 0, never one already in the book) and returns it. */
guint64
ph_autonat_nonce_book_add_random (PhAutonatNonceBook *book);
/* Registers `nonce`; FALSE if the book has it already. */
gboolean
ph_autonat_nonce_book_add (PhAutonatNonceBook *book, guint64 nonce);
/* Forgets a nonce (after the probe is done with it); later dial-backs with it are unknown. */
void
ph_autonat_nonce_book_remove (PhAutonatNonceBook *book, guint64 nonce);

/* Dial-back handler: records that a dial-back carried `nonce`, from `remote` to `local` (both
 * optional; references are taken). FALSE, recording nothing, for a nonce not in the book. */
gboolean
ph_autonat_nonce_book_mark_seen (PhAutonatNonceBook *book, guint64 nonce, PhMultiaddr *remote,
                                 PhMultiaddr *local);

/* Probe: TRUE when a dial-back has carried `nonce`; fills `sighting` (optional; clear it after).
 * FALSE when none has yet, or the nonce is not in the book. */
gboolean
ph_autonat_nonce_book_check (PhAutonatNonceBook *book, guint64 nonce,
                             PhAutonatNonceSighting *sighting);
/* As check, but waits until the nonce arrives, the deadline passes or the cancellable fires (FALSE
 * for the last two; no GError: "not seen" is the answer). Returns at once for an unknown nonce. */
gboolean
ph_autonat_nonce_book_wait (PhAutonatNonceBook *book, guint64 nonce, gint64 deadline,
                            GCancellable *cancellable, PhAutonatNonceSighting *sighting);

/* The dial-back handler in one call: reads DialBack; a nonce the book expects is marked (before
 * answering, so it counts even if answering fails), then answered with DialBackResponse{OK} and a
 * half-close. An unexpected nonce fails with PROTOCOL and no answer: free the stream (a reset, as
 * go's client does). `remote` and `local` are the dial-back connection's addresses, optional. */
gboolean
ph_autonat_v2_answer_dial_back (PhDuplex *stream, PhAutonatNonceBook *book, PhMultiaddr *remote,
                                PhMultiaddr *local, gint64 deadline, GCancellable *cancellable,
                                GError **error);

/* --- AutoNAT v1 ------------------------------------------------------------------------------ */

/* Our request, length prefix included: rust's server reads at most 1024 bytes (trap 3). */
#define PH_AUTONAT_V1_MAX_REQUEST_SIZE 1024
/* Characters of statusText kept for display; more are cut and marked with "…". */
#define PH_AUTONAT_V1_MAX_STATUS_TEXT 256

/* DialResponse.ResponseStatus, the spec's values. */
typedef enum
{
  PH_AUTONAT_V1_STATUS_OK = 0,
  PH_AUTONAT_V1_STATUS_E_DIAL_ERROR = 100, /* every dial failed (go < 0.20: also refusals) */
  PH_AUTONAT_V1_STATUS_E_DIAL_REFUSED = 101,
  PH_AUTONAT_V1_STATUS_E_BAD_REQUEST = 200,
  PH_AUTONAT_V1_STATUS_E_INTERNAL_ERROR = 300,
} PhAutonatV1Status;

typedef enum
{
  PH_AUTONAT_V1_OUTCOME_RESPONSE,    /* a DialResponse arrived */
  PH_AUTONAT_V1_OUTCOME_NO_RESPONSE, /* closed without answering: js's server does so whenever it
                                      * would have reported a dial (it closes the connection) */
} PhAutonatV1Outcome;

/* Caller-allocated; zero it (or use g_auto) and clear it after. */
typedef struct
{
  PhAutonatV1Outcome outcome;
  PhAutonatV1Status status; /* RESPONSE */
  /* statusText made safe to show: valid UTF-8, invalid bytes and non-printable characters
   * replaced by U+FFFD, line breaks and tabs by spaces, at most PH_AUTONAT_V1_MAX_STATUS_TEXT
   * characters. NULL when absent. */
  char *status_text;
  PhMultiaddr *addr;     /* the address the server says it dialed; NULL when absent */
  gboolean addr_skipped; /* an addr was sent but did not parse; addr is then NULL */
} PhAutonatV1Result;

void
ph_autonat_v1_result_clear (PhAutonatV1Result *result);

const char *
ph_autonat_v1_status_to_string (PhAutonatV1Status status); /* "OK", "E_DIAL_ERROR", … */
const char *
ph_autonat_v1_outcome_to_string (PhAutonatV1Outcome outcome);

/* Codec: pure, no I/O, no length prefixes. */

/* Message{type: DIAL (written explicitly), dial{peer{id: self_id, addrs}}}. TOO_LARGE when it
 * would be over PH_AUTONAT_V1_MAX_REQUEST_SIZE with its prefix. */
GBytes *
ph_autonat_v1_dial_encode (const PhPeerId *self_id, PhMultiaddr *const *addrs, guint n_addrs,
                           GError **error);
/* A server's Message{type: DIAL_RESPONSE, dialResponse{status, statusText, addr}}; fills
 * `result` (clearing it first) with outcome RESPONSE. */
gboolean
ph_autonat_v1_response_decode (const guint8 *data, gsize len, PhAutonatV1Result *result,
                               GError **error);

/* Client, on a /libp2p/autonat/1.0.0 stream: asks the server to dial `self_id` at `addrs` (may be
 * none: go's server always tries the observed address). Servers dial the peer ID that made the
 * request, so `self_id` must be the connection's identity (rust refuses a request without it).
 * After the answer, half-closes; the caller frees the stream. `result` is cleared first. */
gboolean
ph_autonat_v1_request (PhDuplex *stream, const PhPeerId *self_id, PhMultiaddr *const *addrs,
                       guint n_addrs, PhAutonatV1Result *result, gint64 deadline,
                       GCancellable *cancellable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhAutonatNonceBook, ph_autonat_nonce_book_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PhAutonatNonceSighting, ph_autonat_nonce_sighting_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PhAutonatV1Result, ph_autonat_v1_result_clear)

G_END_DECLS
