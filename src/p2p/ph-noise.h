/* ph-noise.h: the libp2p Noise secure channel (/noise)
 *
 * Noise_XX_25519_ChaChaPoly_SHA256 with an empty prologue (libp2p/specs noise/README.md; Noise
 * Protocol Framework rev 34). Three layers:
 *   - primitives: X25519, HKDF-SHA256, ChaCha20-Poly1305 (libcrypto), exposed for known-answer
 * tests;
 *   - PhNoiseCipherState and PhNoiseHandshake: a pure state machine over byte buffers, no I/O;
 *   - ph_noise_secure(): the blocking handshake over a PhDuplex and the encrypted PhDuplex it
 * yields, framed as 2-byte big-endian length ‖ Noise message (noise/README.md §Wire Format).
 *
 * Errors are in PH_P2P_ERROR: a message that fails authenticated decryption is PROTOCOL, a
 * payload whose identity signature does not verify is BAD_SIGNATURE, a key that is not the
 * expected peer's is PEER_MISMATCH, lengths over 65535 are TOO_LARGE, short messages TRUNCATED,
 * payloads that do not parse MALFORMED, libcrypto failures CRYPTO.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "ph-duplex.h"
#include "ph-keys.h"
#include "ph-peer-id.h"

G_BEGIN_DECLS

#define PH_NOISE_PROTOCOL_ID "/noise"
#define PH_NOISE_PROTOCOL_NAME "Noise_XX_25519_ChaChaPoly_SHA256"

#define PH_NOISE_KEY_LEN 32   /* ChaChaPoly key, X25519 keys, SHA-256 output */
#define PH_NOISE_NONCE_LEN 12 /* ChaCha20-Poly1305 (RFC 8439) */
#define PH_NOISE_TAG_LEN 16
/* Every Noise message, handshake or transport, including the tag. */
#define PH_NOISE_MAX_MESSAGE_LEN 65535
#define PH_NOISE_MAX_PLAINTEXT_LEN (PH_NOISE_MAX_MESSAGE_LEN - PH_NOISE_TAG_LEN)

/* --- Primitives ------------------------------------------------------------------------------ */

gboolean
ph_noise_x25519_public_key (const guint8 private_key[PH_NOISE_KEY_LEN],
                            guint8 public_key_out[PH_NOISE_KEY_LEN], GError **error);
/* Fails (CRYPTO) on an all-zero result, i.e. a low-order remote key. */
gboolean
ph_noise_x25519 (const guint8 private_key[PH_NOISE_KEY_LEN],
                 const guint8 public_key[PH_NOISE_KEY_LEN], guint8 shared_out[PH_NOISE_KEY_LEN],
                 GError **error);
/* RFC 5869 HKDF-SHA256 (extract + expand); Noise's HKDF(ck, ikm) is salt = ck, empty info. */
gboolean
ph_noise_hkdf_sha256 (const guint8 *salt, gsize salt_len, const guint8 *ikm, gsize ikm_len,
                      const guint8 *info, gsize info_len, guint8 *out, gsize out_len,
                      GError **error);
/* RFC 8439 AEAD. encrypt writes len + 16 bytes to out; decrypt writes len - 16 bytes and fails
 * with PROTOCOL when the tag does not match (out is then zeroed). out may equal the input. */
gboolean
ph_noise_chachapoly_encrypt (const guint8 key[PH_NOISE_KEY_LEN],
                             const guint8 nonce[PH_NOISE_NONCE_LEN], const guint8 *ad, gsize ad_len,
                             const guint8 *plaintext, gsize len, guint8 *out, GError **error);
gboolean
ph_noise_chachapoly_decrypt (const guint8 key[PH_NOISE_KEY_LEN],
                             const guint8 nonce[PH_NOISE_NONCE_LEN], const guint8 *ad, gsize ad_len,
                             const guint8 *ciphertext, gsize len, guint8 *out, GError **error);

/* --- CipherState (Noise §5.1) ---------------------------------------------------------------- */

/* One direction of a channel: a key and a 64-bit nonce counter. Not thread-safe. */
typedef struct _PhNoiseCipherState PhNoiseCipherState;

PhNoiseCipherState *
ph_noise_cipher_state_new (const guint8 key[PH_NOISE_KEY_LEN]);
/* Writes len + 16 bytes to out (which may equal plaintext). len <= PH_NOISE_MAX_PLAINTEXT_LEN.
 * Nonce 2^64-1 is reserved (Noise §5.1): once the counter reaches it, encryption fails (LIMIT). */
gboolean
ph_noise_cipher_state_encrypt (PhNoiseCipherState *self, const guint8 *ad, gsize ad_len,
                               const guint8 *plaintext, gsize len, guint8 *out, GError **error);
/* Writes len - 16 bytes to out. A failed decryption does not advance the nonce. */
gboolean
ph_noise_cipher_state_decrypt (PhNoiseCipherState *self, const guint8 *ad, gsize ad_len,
                               const guint8 *ciphertext, gsize len, guint8 *out, GError **error);
guint64
ph_noise_cipher_state_get_nonce (PhNoiseCipherState *self);
/* For tests (nonce exhaustion) only. */
void
ph_noise_cipher_state_set_nonce (PhNoiseCipherState *self, guint64 nonce);
void
ph_noise_cipher_state_free (PhNoiseCipherState *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhNoiseCipherState, ph_noise_cipher_state_free)

/* --- The libp2p handshake payload (noise/README.md §The libp2p Handshake Payload) ------------- */

/* NoiseHandshakePayload{identity_key, identity_sig} signing "noise-libp2p-static-key:" ‖
 * static_public. No extensions: we negotiate the muxer with multistream (PROTOCOLS.md trap 5). */
GBytes *
ph_noise_payload_encode (PhPrivateKey *identity, const guint8 static_public[PH_NOISE_KEY_LEN],
                         GError **error);
/* Decodes a payload (bounded; extensions accepted and ignored) and checks that its identity key
 * signed remote_static. Returns the identity key (transfer full). */
PhPublicKey *
ph_noise_payload_verify (const guint8 *data, gsize len,
                         const guint8 remote_static[PH_NOISE_KEY_LEN], GError **error);

/* --- HandshakeState for XX (Noise §5.3, §7.5) ------------------------------------------------ */

typedef struct _PhNoiseHandshake PhNoiseHandshake;

/* expected_remote (nullable): the peer we dialed; the remote's key must match it. The ephemeral
 * X25519 key is new for every handshake; the static one (and its signed payload) is made once per
 * identity per process, as the libp2p Noise spec allows. */
PhNoiseHandshake *
ph_noise_handshake_new (gboolean initiator, PhPrivateKey *identity,
                        const PhPeerId *expected_remote);
/* TRUE when the next step is write_message(), FALSE when it is read_message() or when done. */
gboolean
ph_noise_handshake_wants_write (PhNoiseHandshake *self);
/* Appends the next handshake message (no length prefix) to out. */
gboolean
ph_noise_handshake_write_message (PhNoiseHandshake *self, GByteArray *out, GError **error);
/* Consumes one whole handshake message (no length prefix). Message 1's payload is ignored; the
 * payloads of messages 2 and 3 are verified. Any failure is final for the handshake. */
gboolean
ph_noise_handshake_read_message (PhNoiseHandshake *self, const guint8 *data, gsize len,
                                 GError **error);
gboolean
ph_noise_handshake_is_complete (PhNoiseHandshake *self);
/* The remote's verified identity: NULL until its payload verified. Transfer none. */
PhPublicKey *
ph_noise_handshake_get_remote_public_key (PhNoiseHandshake *self);
const PhPeerId *
ph_noise_handshake_get_remote_peer_id (PhNoiseHandshake *self);
/* h after the last message (channel binding); NULL before completion. 32 bytes. */
const guint8 *
ph_noise_handshake_get_handshake_hash (PhNoiseHandshake *self);
/* Once, after completion: our sending and receiving cipher states (Noise §5.2 Split()). */
gboolean
ph_noise_handshake_split (PhNoiseHandshake *self, PhNoiseCipherState **send_out,
                          PhNoiseCipherState **recv_out, GError **error);
void
ph_noise_handshake_free (PhNoiseHandshake *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhNoiseHandshake, ph_noise_handshake_free)

/* Test hooks (test vectors, fault injection); not for production code. */
/* A plain Noise XX handshake: no identity, payloads are opaque bytes, any prologue. */
PhNoiseHandshake *
ph_noise_handshake_new_raw (gboolean initiator, const guint8 *prologue, gsize prologue_len);
gboolean
ph_noise_handshake_write_message_raw (PhNoiseHandshake *self, const guint8 *payload,
                                      gsize payload_len, GByteArray *out, GError **error);
/* Appends the decrypted payload to payload_out. */
gboolean
ph_noise_handshake_read_message_raw (PhNoiseHandshake *self, const guint8 *data, gsize len,
                                     GByteArray *payload_out, GError **error);
/* Fixes our X25519 private keys (either may be NULL) before the first message. */
void
ph_noise_handshake_set_test_keys (PhNoiseHandshake *self,
                                  const guint8 *static_private /* 32 bytes */,
                                  const guint8 *ephemeral_private /* 32 bytes */);
/* Sends these payload bytes instead of our signed payload in a libp2p handshake. */
void
ph_noise_handshake_set_test_payload (PhNoiseHandshake *self, GBytes *payload);
/* Our static X25519 public key (generated if needed), e.g. to sign a test payload. */
gboolean
ph_noise_handshake_get_static_public_key (PhNoiseHandshake *self,
                                          guint8 public_key_out[PH_NOISE_KEY_LEN], GError **error);

/* --- The secure channel ---------------------------------------------------------------------- */

/* Runs the XX handshake over insecure (which it takes over, and frees on failure) and returns the
 * encrypted duplex, or NULL. The caller must already have negotiated /noise with multistream.
 * remote_out (nullable) receives the verified remote peer ID.
 *
 * The returned duplex: writes are split into frames of at most 65519 plaintext bytes; reads
 * decrypt one frame at a time. A frame that fails to decrypt, or a connection that ends inside a
 * frame, fails every later read and write. A failed write (including a deadline) leaves the
 * sending side unusable, since a frame may have been sent in part; a read that times out can be
 * retried. One reader and one writer thread may use it at once. Freeing it frees insecure. */
PhDuplex *
ph_noise_secure (PhDuplex *insecure, gboolean initiator, PhPrivateKey *identity,
                 const PhPeerId *expected_remote, PhPeerId **remote_out, gint64 deadline,
                 GCancellable *cancellable, GError **error);
/* The insecure duplex under a secure one (e.g. for ph_duplex_get_socket()); NULL otherwise. */
PhDuplex *
ph_noise_duplex_get_inner (PhDuplex *duplex);

G_END_DECLS
