/* ph-identify.h: libp2p identify (/ipfs/id/1.0.0)
 *
 * Spec: libp2p/specs identify/README.md (r1, 2021-08-09). The requester opens a stream, sends
 * nothing, and reads; the responder writes one Identify message and closes. On the wire a message
 * is an unsigned-varint length prefix and the protobuf (proto/identify.proto).
 *
 * A responder may split its message into several length-prefixed parts: go-libp2p sends a message
 * over 2 KiB that carries a signed peer record as two (everything, then the record alone) and reads
 * at most 10 parts (go-libp2p p2p/protocol/identify/id.go writeChunkedIdentifyMsg,
 * readAllIDMessages). A reader therefore reads to the end of the stream and merges the parts the
 * protobuf way: a field that occurs again replaces a singular value and appends to a repeated one.
 *
 * Errors (domain PH_P2P_ERROR unless the transport failed):
 *   TRUNCATED  the stream ended inside a part, or before any part
 *   TOO_LARGE  over PH_IDENTIFY_MAX_SIZE in all, a string over its bound, a varint over 9 bytes
 *   MALFORMED  a part that is not an Identify protobuf, a string with a NUL or not UTF-8, a
 *              non-minimal length prefix
 *   (any)      a public key that does not parse fails as ph_public_key_unmarshal says (MALFORMED,
 *              UNSUPPORTED, TOO_LARGE), prefixed "identify public key: "
 *   LIMIT      more than PH_IDENTIFY_MAX_PARTS parts, PH_IDENTIFY_MAX_PROTOCOLS protocols or
 *              PH_IDENTIFY_MAX_LISTEN_ADDRS listen addresses
 *   PEER_MISMATCH  (ph_identify_info_check_peer) the key is not the connection's peer's
 *   G_IO_ERROR_TIMED_OUT / G_IO_ERROR_CANCELLED, and other transport errors, as PhDuplex reports
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "ph-duplex.h"
#include "ph-keys.h"
#include "ph-multiaddr.h"
#include "ph-peer-id.h"

G_BEGIN_DECLS

#define PH_IDENTIFY_PROTOCOL_ID "/ipfs/id/1.0.0"
#define PH_IDENTIFY_PUSH_PROTOCOL_ID "/ipfs/id/push/1.0.0"

/* go-libp2p gives every identify exchange 5 s (identify/id.go DefaultTimeout). */
#define PH_IDENTIFY_TIMEOUT_MS 5000

/* Everything a responder may send, length prefixes included. go-libp2p accepts 10 parts of 8 KiB
 * (id.go maxMessages, signedIDSize); 64 KiB leaves room for any of them. */
#define PH_IDENTIFY_MAX_SIZE (64 * 1024)
#define PH_IDENTIFY_MAX_PARTS 10

/* Bounds on what a peer may make us keep. A kubo node lists about 30 protocols and a dozen
 * addresses; multistream allows protocol IDs up to 1023 bytes, but none in use comes near 256. */
#define PH_IDENTIFY_MAX_PROTOCOLS 256
#define PH_IDENTIFY_MAX_PROTOCOL_LEN 256
#define PH_IDENTIFY_MAX_LISTEN_ADDRS 256 /* counted before parsing, skipped ones included */
#define PH_IDENTIFY_MAX_VERSION_LEN 1024 /* agentVersion, protocolVersion */

/* The largest message we send: rust-libp2p refuses identify messages over 4 KiB, and go-libp2p
 * keeps its own under that for the same reason (id.go maxOwnIdentifyMsgSize). */
#define PH_IDENTIFY_MAX_OWN_SIZE 4096

/* The decoded message. Every field is optional on the wire; absent ones are NULL or empty. The
 * struct owns what it points to; fill it directly to build our own message. */
typedef struct
{
  char *protocol_version; /* e.g. "ipfs/0.1.0"; UTF-8 */
  char *agent_version;    /* e.g. "kubo/0.44.0/…"; UTF-8 */
  PhPublicKey *public_key;
  GPtrArray *listen_addrs; /* (element-type PhMultiaddr), never NULL */
  /* listenAddrs that did not parse (often transports we do not know, e.g. /webtransport); they
   * are left out of listen_addrs rather than failing the message. */
  guint n_skipped_listen_addrs;
  /* How the sender sees us: the address of our end of this connection as it arrived there. */
  PhMultiaddr *observed_addr;
  gboolean observed_addr_skipped; /* sent but did not parse; observed_addr is then NULL */
  GPtrArray *protocols;           /* (element-type utf8), never NULL; in the peer's order */
  GBytes *signed_peer_record;     /* a signed envelope, kept opaque and unverified */
} PhIdentifyInfo;

PhIdentifyInfo *
ph_identify_info_new (void);
void
ph_identify_info_free (PhIdentifyInfo *info);

/* Whether the peer lists `protocol` (exact match), e.g. "/libp2p/autonat/2/dial-request". */
gboolean
ph_identify_info_has_protocol (const PhIdentifyInfo *info, const char *protocol);

/* Checks that the public key, when the message has one, is the key of `remote` (the peer ID the
 * connection's security handshake authenticated); PEER_MISMATCH otherwise. A message without a key
 * passes: the key is optional and the handshake has already proven who the peer is. */
gboolean
ph_identify_info_check_peer (const PhIdentifyInfo *info, const PhPeerId *remote, GError **error);

/* Codec: pure, no I/O. */

/* The protobuf of `info`, without a length prefix. Deterministic: fields in number order, as
 * protobuf-c packs them. */
GBytes *
ph_identify_info_encode (const PhIdentifyInfo *info);

/* One protobuf message, without a length prefix, of at most PH_IDENTIFY_MAX_SIZE bytes. */
PhIdentifyInfo *
ph_identify_info_decode (const guint8 *data, gsize len, GError **error);

/* What a responder sends before it closes: one or more length-prefixed parts filling all of `data`,
 * merged in order. A zero-length part is a valid empty message; no part at all is TRUNCATED. */
PhIdentifyInfo *
ph_identify_info_decode_parts (const guint8 *data, gsize len, GError **error);

/* Over a stream that multistream-select has already agreed on PH_IDENTIFY_PROTOCOL_ID for. The
 * push variant moves the same bytes the other way (its opener writes and closes), so a push is
 * received with ph_identify_request and sent with ph_identify_respond. */

/* Requester: reads the peer's message to the end of the stream (at most PH_IDENTIFY_MAX_SIZE
 * bytes), then half-closes our side. Does not check the key: call ph_identify_info_check_peer. */
PhIdentifyInfo *
ph_identify_request (PhDuplex *stream, gint64 deadline, GCancellable *cancellable, GError **error);

/* Responder: writes `ours` as one length-prefixed message and half-closes. Fails with TOO_LARGE,
 * writing nothing, when it encodes to more than PH_IDENTIFY_MAX_OWN_SIZE bytes. */
gboolean
ph_identify_respond (PhDuplex *stream, const PhIdentifyInfo *ours, gint64 deadline,
                     GCancellable *cancellable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhIdentifyInfo, ph_identify_info_free)

G_END_DECLS
