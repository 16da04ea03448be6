/* test-noise.c: the Noise XX handshake, its primitives and the secure duplex
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "noise.pb-c.h"
#include "p2p/ph-duplex.h"
#include "p2p/ph-keys.h"
#include "p2p/ph-noise-private.h"
#include "p2p/ph-noise.h"
#include "p2p/ph-p2p-error.h"
#include "p2p/ph-peer-id.h"

#define TIMEOUT_MS 20000

/* --- helpers ---------------------------------------------------------------------------------- */

static GBytes *
hex_bytes (const char *hex)
{
  gsize len = strlen (hex);
  guint8 *data;

  g_assert_cmpuint (len % 2, ==, 0);
  data = g_malloc (len / 2 + 1);
  for (gsize i = 0; i < len / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      g_assert_true (hi >= 0 && lo >= 0);
      data[i] = (guint8) (hi << 4 | lo);
    }
  return g_bytes_new_take (data, len / 2);
}

static void
hex_to (const char *hex, guint8 *out, gsize len)
{
  g_autoptr (GBytes) bytes = hex_bytes (hex);

  g_assert_cmpuint (g_bytes_get_size (bytes), ==, len);
  memcpy (out, g_bytes_get_data (bytes, NULL), len);
}

static void
assert_hex (const guint8 *data, gsize len, const char *hex)
{
  g_autoptr (GBytes) want = hex_bytes (hex);

  g_assert_cmpmem (data, len, g_bytes_get_data (want, NULL), g_bytes_get_size (want));
}

static PhPrivateKey *
ed25519_key (void)
{
  g_autoptr (GError) error = NULL;
  PhPrivateKey *key = ph_private_key_generate_ed25519 (&error);

  g_assert_no_error (error);
  g_assert_nonnull (key);
  return key;
}

static PhPeerId *
peer_id_of (PhPrivateKey *key)
{
  return ph_peer_id_from_public_key (ph_private_key_get_public_key (key));
}

static void
fill_pattern (guint8 *data, gsize len, guint32 seed)
{
  for (gsize i = 0; i < len; i++)
    {
      seed = seed * 1103515245 + 12345;
      data[i] = seed >> 16;
    }
}

/* --- primitives: RFC known answers ------------------------------------------------------------ */

static void
test_x25519 (void)
{
  g_autoptr (GError) error = NULL;
  guint8 a[32], b[32], pub[32], shared[32], zero[32] = { 0 };

  /* RFC 7748 §6.1 */
  hex_to ("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
  hex_to ("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
  g_assert_true (ph_noise_x25519_public_key (a, pub, &error));
  assert_hex (pub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  g_assert_true (ph_noise_x25519_public_key (b, pub, &error));
  assert_hex (pub, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  g_assert_true (ph_noise_x25519 (a, pub, shared, &error));
  g_assert_no_error (error);
  assert_hex (shared, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

  /* RFC 7748 §5.2, first vector: an arbitrary u-coordinate, not just the base point. */
  hex_to ("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", a, 32);
  hex_to ("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", pub, 32);
  g_assert_true (ph_noise_x25519 (a, pub, shared, &error));
  assert_hex (shared, 32, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");

  /* A low-order point gives an all-zero secret, which must be refused. */
  g_assert_false (ph_noise_x25519 (a, zero, shared, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CRYPTO);
}

static void
test_hkdf (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) ikm = hex_bytes ("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  g_autoptr (GBytes) salt = hex_bytes ("000102030405060708090a0b0c");
  g_autoptr (GBytes) info = hex_bytes ("f0f1f2f3f4f5f6f7f8f9");
  guint8 okm[42];

  /* RFC 5869 A.1 */
  g_assert_true (ph_noise_hkdf_sha256 (g_bytes_get_data (salt, NULL), g_bytes_get_size (salt),
                                       g_bytes_get_data (ikm, NULL), g_bytes_get_size (ikm),
                                       g_bytes_get_data (info, NULL), g_bytes_get_size (info), okm,
                                       sizeof okm, &error));
  g_assert_no_error (error);
  assert_hex (
      okm, sizeof okm,
      "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");

  /* RFC 5869 A.3: no salt, no info */
  g_assert_true (ph_noise_hkdf_sha256 (NULL, 0, g_bytes_get_data (ikm, NULL),
                                       g_bytes_get_size (ikm), NULL, 0, okm, sizeof okm, &error));
  assert_hex (
      okm, sizeof okm,
      "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");

  /* A zero-length ikm (Noise Split()) works and differs from a one-zero-byte ikm. */
  {
    guint8 one_zero = 0;
    guint8 noise[64];
    guint8 other[64];

    g_assert_true (ph_noise_hkdf_sha256 (okm, 32, NULL, 0, NULL, 0, noise, sizeof noise, &error));
    g_assert_true (
        ph_noise_hkdf_sha256 (okm, 32, &one_zero, 1, NULL, 0, other, sizeof other, &error));
    g_assert_no_error (error);
    g_assert_true (memcmp (noise, other, sizeof noise) != 0);
  }
}

#define SUNSCREEN                                                                                  \
  "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "   \
  "sunscreen would be it."

static void
test_chachapoly (void)
{
  g_autoptr (GError) error = NULL;
  guint8 key[32], nonce[12], ad[12];
  guint8 sealed[sizeof SUNSCREEN - 1 + 16];
  guint8 opened[sizeof SUNSCREEN - 1];
  gsize len = sizeof SUNSCREEN - 1;

  /* RFC 8439 §2.8.2 */
  hex_to ("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", key, 32);
  hex_to ("070000004041424344454647", nonce, 12);
  hex_to ("50515253c0c1c2c3c4c5c6c7", ad, 12);
  g_assert_true (ph_noise_chachapoly_encrypt (key, nonce, ad, sizeof ad, (const guint8 *) SUNSCREEN,
                                              len, sealed, &error));
  g_assert_no_error (error);
  assert_hex (sealed, sizeof sealed,
              "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
              "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
              "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
              "3ff4def08e4b7a9de576d26586cec64b6116"
              "1ae10b594f09e26a7e902ecbd0600691");

  g_assert_true (ph_noise_chachapoly_decrypt (key, nonce, ad, sizeof ad, sealed, sizeof sealed,
                                              opened, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (opened, len, SUNSCREEN, len);

  /* In place. */
  g_assert_true (ph_noise_chachapoly_decrypt (key, nonce, ad, sizeof ad, sealed, sizeof sealed,
                                              sealed, &error));
  g_assert_cmpmem (sealed, len, SUNSCREEN, len);
  g_assert_true (
      ph_noise_chachapoly_encrypt (key, nonce, ad, sizeof ad, sealed, len, sealed, &error));
  g_assert_no_error (error);

  /* A flipped bit in the ciphertext, the tag or the associated data is refused. */
  for (gsize i = 0; i < 3; i++)
    {
      const gsize where[] = { 0, sizeof sealed - 1 };

      if (i < 2)
        sealed[where[i]] ^= 0x01;
      else
        ad[5] ^= 0x80;
      g_assert_false (ph_noise_chachapoly_decrypt (key, nonce, ad, sizeof ad, sealed, sizeof sealed,
                                                   opened, &error));
      g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL);
      g_clear_error (&error);
      if (i < 2)
        sealed[where[i]] ^= 0x01;
      else
        ad[5] ^= 0x80;
    }

  /* Shorter than a tag. */
  g_assert_false (ph_noise_chachapoly_decrypt (key, nonce, NULL, 0, sealed, 15, opened, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED);
}

static void
test_cipher_state (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhNoiseCipherState) send = NULL;
  g_autoptr (PhNoiseCipherState) recv = NULL;
  guint8 key[32], nonce[12] = { 0 }, by_hand[5 + 16], out[5 + 16], back[5];
  guint8 *big = g_malloc (PH_NOISE_MAX_MESSAGE_LEN + 16);

  fill_pattern (key, sizeof key, 7);
  send = ph_noise_cipher_state_new (key);
  recv = ph_noise_cipher_state_new (key);

  /* Noise §12.3: the nonce is 4 zero bytes then the counter, little-endian. */
  ph_noise_cipher_state_set_nonce (send, G_GUINT64_CONSTANT (0x0102030405060708));
  nonce[4] = 0x08, nonce[5] = 0x07, nonce[6] = 0x06, nonce[7] = 0x05;
  nonce[8] = 0x04, nonce[9] = 0x03, nonce[10] = 0x02, nonce[11] = 0x01;
  g_assert_true (ph_noise_chachapoly_encrypt (key, nonce, NULL, 0, (const guint8 *) "hello", 5,
                                              by_hand, &error));
  g_assert_true (
      ph_noise_cipher_state_encrypt (send, NULL, 0, (const guint8 *) "hello", 5, out, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (out, sizeof out, by_hand, sizeof by_hand);
  g_assert_cmpuint (ph_noise_cipher_state_get_nonce (send), ==, 0x0102030405060709);

  /* A failed decryption does not advance the nonce; a good one does. */
  ph_noise_cipher_state_set_nonce (recv, G_GUINT64_CONSTANT (0x0102030405060708));
  out[0] ^= 1;
  g_assert_false (ph_noise_cipher_state_decrypt (recv, NULL, 0, out, sizeof out, back, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL);
  g_clear_error (&error);
  out[0] ^= 1;
  g_assert_cmpuint (ph_noise_cipher_state_get_nonce (recv), ==, 0x0102030405060708);
  g_assert_true (ph_noise_cipher_state_decrypt (recv, NULL, 0, out, sizeof out, back, &error));
  g_assert_cmpmem (back, 5, "hello", 5);
  g_assert_cmpuint (ph_noise_cipher_state_get_nonce (recv), ==, 0x0102030405060709);
  /* Replaying the same message fails: the nonce moved on. */
  g_assert_false (ph_noise_cipher_state_decrypt (recv, NULL, 0, out, sizeof out, back, &error));
  g_clear_error (&error);

  /* 2^64-1 is reserved: 2^64-2 is the last nonce used, then the state refuses. */
  ph_noise_cipher_state_set_nonce (send, G_MAXUINT64 - 1);
  g_assert_true (
      ph_noise_cipher_state_encrypt (send, NULL, 0, (const guint8 *) "x", 1, out, &error));
  g_assert_false (
      ph_noise_cipher_state_encrypt (send, NULL, 0, (const guint8 *) "x", 1, out, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT);
  g_clear_error (&error);
  ph_noise_cipher_state_set_nonce (recv, G_MAXUINT64);
  g_assert_false (ph_noise_cipher_state_decrypt (recv, NULL, 0, out, sizeof out, back, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT);
  g_clear_error (&error);

  /* Bounds: a plaintext over 65519 bytes, a ciphertext over 65535. */
  ph_noise_cipher_state_set_nonce (send, 0);
  memset (big, 0, PH_NOISE_MAX_MESSAGE_LEN + 16);
  g_assert_true (
      ph_noise_cipher_state_encrypt (send, NULL, 0, big, PH_NOISE_MAX_PLAINTEXT_LEN, big, &error));
  g_assert_false (ph_noise_cipher_state_encrypt (send, NULL, 0, big, PH_NOISE_MAX_PLAINTEXT_LEN + 1,
                                                 big, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
  g_clear_error (&error);
  ph_noise_cipher_state_set_nonce (recv, 0);
  g_assert_false (ph_noise_cipher_state_decrypt (recv, NULL, 0, big, PH_NOISE_MAX_MESSAGE_LEN + 1,
                                                 big, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
  g_free (big);
}

/* --- the Noise test vector (cacophony, as shipped with snow: tests/vectors/cacophony.txt) ----- */

static const struct
{
  const char *payload;
  const char *ciphertext;
} cacophony_messages[] = {
  { "4c756477696720766f6e204d69736573", "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa"
                                        "4c79444c756477696720766f6e204d69736573" },
  { "4d757272617920526f746862617264", "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f14480"
                                      "884381cbad1f276e038c48378ffce2b65285"
                                      "e08d6b68aaa3629a5a8639392490e5b9bd5269c2f1e4f488ed8831161f19"
                                      "b7815528f8982ffe09be9b5c412f8a0db50f"
                                      "8814c7194e83f23dbd8d162c9326ad" },
  { "462e20412e20486179656b", "c7195ffacac1307ff99046f219750fc47693e23c3cb08b89c2af808b444850a80ae4"
                              "75b9df0f169ae80a89be0865b57f"
                              "58c9fea0d4ec82a286427402f113e4b6ae769a1d95941d49b25030" },
  { "4361726c204d656e676572", "96763ed773f8e47bb3712f0e29b3060ffc956ffc146cee53d5e1df" },
  { "4a65616e2d426170746973746520536179",
    "3e40f15f6f3a46ae446b253bf8b1d9ffb6ed9b174d272328ff91a7e2e5c79c07f5" },
  { "457567656e2042f6686d20766f6e2042617765726b",
    "eb3f3515110702e047a6c9da4478b6ead94873c11c0f2d710ddb3f09fce024b3a58502ae3f" },
};

static void
test_cacophony_vector (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) prologue = hex_bytes ("4a6f686e2047616c74");
  g_autoptr (PhNoiseHandshake) init = NULL;
  g_autoptr (PhNoiseHandshake) resp = NULL;
  g_autoptr (PhNoiseCipherState) init_send = NULL;
  g_autoptr (PhNoiseCipherState) init_recv = NULL;
  g_autoptr (PhNoiseCipherState) resp_send = NULL;
  g_autoptr (PhNoiseCipherState) resp_recv = NULL;
  guint8 key[32], key2[32];

  init = ph_noise_handshake_new_raw (TRUE, g_bytes_get_data (prologue, NULL),
                                     g_bytes_get_size (prologue));
  resp = ph_noise_handshake_new_raw (FALSE, g_bytes_get_data (prologue, NULL),
                                     g_bytes_get_size (prologue));
  hex_to ("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1", key, 32);
  hex_to ("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a", key2, 32);
  ph_noise_handshake_set_test_keys (init, key, key2);
  hex_to ("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893", key, 32);
  hex_to ("bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b", key2, 32);
  ph_noise_handshake_set_test_keys (resp, key, key2);

  for (guint i = 0; i < G_N_ELEMENTS (cacophony_messages); i++)
    {
      g_autoptr (GBytes) payload = hex_bytes (cacophony_messages[i].payload);
      g_autoptr (GBytes) want = hex_bytes (cacophony_messages[i].ciphertext);
      g_autoptr (GByteArray) message = g_byte_array_new ();
      g_autoptr (GByteArray) got = g_byte_array_new ();
      gboolean from_initiator = i % 2 == 0;
      gsize len = g_bytes_get_size (payload);
      const guint8 *data = g_bytes_get_data (payload, NULL);

      if (i < 3)
        {
          PhNoiseHandshake *writer = from_initiator ? init : resp;
          PhNoiseHandshake *reader = from_initiator ? resp : init;

          g_assert_true (ph_noise_handshake_wants_write (writer));
          g_assert_false (ph_noise_handshake_wants_write (reader));
          g_assert_true (ph_noise_handshake_write_message_raw (writer, data, len, message, &error));
          g_assert_no_error (error);
          g_assert_true (ph_noise_handshake_read_message_raw (reader, message->data, message->len,
                                                              got, &error));
          g_assert_no_error (error);
        }
      else
        {
          PhNoiseCipherState *send = from_initiator ? init_send : resp_send;
          PhNoiseCipherState *recv = from_initiator ? resp_recv : init_recv;

          g_byte_array_set_size (message, len + PH_NOISE_TAG_LEN);
          g_assert_true (
              ph_noise_cipher_state_encrypt (send, NULL, 0, data, len, message->data, &error));
          g_byte_array_set_size (got, len);
          g_assert_true (ph_noise_cipher_state_decrypt (recv, NULL, 0, message->data, message->len,
                                                        got->data, &error));
          g_assert_no_error (error);
        }
      g_assert_cmpmem (message->data, message->len, g_bytes_get_data (want, NULL),
                       g_bytes_get_size (want));
      g_assert_cmpmem (got->data, got->len, data, len);

      if (i == 2)
        {
          const char *hash = "c8e5f64e846193be2a834104c2a009868d6c9f3bd3c186299888b488b2f1f58e";

          g_assert_true (ph_noise_handshake_is_complete (init));
          g_assert_true (ph_noise_handshake_is_complete (resp));
          assert_hex (ph_noise_handshake_get_handshake_hash (init), 32, hash);
          assert_hex (ph_noise_handshake_get_handshake_hash (resp), 32, hash);
          g_assert_true (ph_noise_handshake_split (init, &init_send, &init_recv, &error));
          g_assert_true (ph_noise_handshake_split (resp, &resp_send, &resp_recv, &error));
          g_assert_no_error (error);
        }
    }
}

/* --- the libp2p handshake as a pure state machine --------------------------------------------- */

/* Passes messages until both are done or one fails; the failing side's error is returned. */
static gboolean
run_handshake (PhNoiseHandshake *init, PhNoiseHandshake *resp, GError **error)
{
  for (guint step = 0; step < 3; step++)
    {
      PhNoiseHandshake *writer = step % 2 == 0 ? init : resp;
      PhNoiseHandshake *reader = step % 2 == 0 ? resp : init;
      g_autoptr (GByteArray) message = g_byte_array_new ();

      g_assert_true (ph_noise_handshake_wants_write (writer));
      if (!ph_noise_handshake_write_message (writer, message, error)
          || !ph_noise_handshake_read_message (reader, message->data, message->len, error))
        return FALSE;
    }
  return TRUE;
}

static void
check_handshake_between (PhPrivateKey *init_key, PhPrivateKey *resp_key)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPeerId) init_id = peer_id_of (init_key);
  g_autoptr (PhPeerId) resp_id = peer_id_of (resp_key);
  g_autoptr (PhNoiseHandshake) init = ph_noise_handshake_new (TRUE, init_key, resp_id);
  g_autoptr (PhNoiseHandshake) resp = ph_noise_handshake_new (FALSE, resp_key, NULL);
  g_autoptr (PhNoiseCipherState) init_send = NULL;
  g_autoptr (PhNoiseCipherState) init_recv = NULL;
  g_autoptr (PhNoiseCipherState) resp_send = NULL;
  g_autoptr (PhNoiseCipherState) resp_recv = NULL;
  guint8 sealed[4 + 16], opened[4];

  g_assert_null (ph_noise_handshake_get_remote_peer_id (init));
  g_assert_true (run_handshake (init, resp, &error));
  g_assert_no_error (error);
  g_assert_true (ph_noise_handshake_is_complete (init));
  g_assert_true (ph_noise_handshake_is_complete (resp));
  g_assert_false (ph_noise_handshake_wants_write (init));
  g_assert_false (ph_noise_handshake_wants_write (resp));
  g_assert_true (ph_peer_id_equal (ph_noise_handshake_get_remote_peer_id (init), resp_id));
  g_assert_true (ph_peer_id_equal (ph_noise_handshake_get_remote_peer_id (resp), init_id));
  g_assert_true (ph_public_key_equal (ph_noise_handshake_get_remote_public_key (init),
                                      ph_private_key_get_public_key (resp_key)));
  g_assert_true (ph_public_key_equal (ph_noise_handshake_get_remote_public_key (resp),
                                      ph_private_key_get_public_key (init_key)));
  g_assert_cmpmem (ph_noise_handshake_get_handshake_hash (init), 32,
                   ph_noise_handshake_get_handshake_hash (resp), 32);

  g_assert_true (ph_noise_handshake_split (init, &init_send, &init_recv, &error));
  g_assert_true (ph_noise_handshake_split (resp, &resp_send, &resp_recv, &error));
  g_assert_no_error (error);
  g_assert_false (ph_noise_handshake_split (init, &init_send, &init_recv, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL);
  g_clear_error (&error);

  g_assert_true (ph_noise_cipher_state_encrypt (init_send, NULL, 0, (const guint8 *) "ping", 4,
                                                sealed, &error));
  g_assert_true (
      ph_noise_cipher_state_decrypt (resp_recv, NULL, 0, sealed, sizeof sealed, opened, &error));
  g_assert_cmpmem (opened, 4, "ping", 4);
  g_assert_true (ph_noise_cipher_state_encrypt (resp_send, NULL, 0, (const guint8 *) "pong", 4,
                                                sealed, &error));
  g_assert_true (
      ph_noise_cipher_state_decrypt (init_recv, NULL, 0, sealed, sizeof sealed, opened, &error));
  g_assert_cmpmem (opened, 4, "pong", 4);
  /* The directions use different keys. */
  g_assert_false (
      ph_noise_cipher_state_decrypt (init_recv, NULL, 0, sealed, sizeof sealed, opened, &error));
  g_clear_error (&error);
  g_assert_no_error (error);
}

static void
test_handshake_ed25519 (void)
{
  g_autoptr (PhPrivateKey) a = ed25519_key ();
  g_autoptr (PhPrivateKey) b = ed25519_key ();

  check_handshake_between (a, b);
}

/* libp2p/specs peer-ids/peer-ids.md §Test vectors: private keys of every type. */
static const char rsa_private_key_hex[] = "080012ae123082092a0201000282020100e1beab071d08200bde24ee"
                                          "f00d049449b07770ff9910257b2d7d5dda242ce8"
                                          "f0e2f12e1af4b32d9efd2c090f66b0f29986dbb645dae9880089704a"
                                          "94e5066d594162ae6ee8892e6ec70701db0a6c44"
                                          "5c04778eb3de1293aa1a23c3825b85c6620a2bc3f82f9b0c309bc0ab"
                                          "3aeb1873282bebd3da03c33e76c21e9beb172fd4"
                                          "4c9e43be32e2c99827033cf8d0f0c606f4579326c930eb4e854395ad"
                                          "941256542c793902185153c474bed109d6ff5141"
                                          "ebf9cd256cf58893a37f83729f97e7cb435ec679d2e33901d27bb35a"
                                          "a0d7e20561da08885ef0abbf8e2fb48d6a548704"
                                          "7a9ecb1ad41fa7ed84f6e3e8ecd5d98b3982d2a901b4454991766da2"
                                          "95ab78822add5612a2df83bcee814cf50973e80d"
                                          "7ef38111b1bd87da2ae92438a2c8cbcc70b31ee319939a3b9c761dbc"
                                          "13b5c086d6b64bf7ae7dacc14622375d92a8ff9a"
                                          "f7eb962162bbddebf90acb32adb5e4e4029f1c96019949ecfbfeffd7"
                                          "ac1e3fbcc6b6168c34be3d5a2e5999fcbb39bba7"
                                          "adbca78eab09b9bc39f7fa4b93411f4cc175e70c0a083e96bfaefb04"
                                          "a9580b4753c1738a6a760ae1afd851a1a4bdad23"
                                          "1cf56e9284d832483df215a46c1c21bdf0c6cfe951c18f1ee4078c79"
                                          "c13d63edb6e14feaeffabc90ad317e4875fe6481"
                                          "01b0864097e998f0ca3025ef9638cd2b0caecd3770ab54a1d9c6ca95"
                                          "9b0f5dcbc90caeefc4135baca6fd475224269bbe"
                                          "1b02030100010282020100a472ffa858efd8588ce59ee264b957452f"
                                          "3673acdf5631d7bfd5ba0ef59779c231b0bc838a"
                                          "8b14cae367b6d9ef572c03c7883b0a3c652f5c24c316b1ccfd979f13"
                                          "d0cd7da20c7d34d9ec32dfdc81ee7292167e706d"
                                          "705efde5b8f3edfcba41409e642f8897357df5d320d21c43b33600a7"
                                          "ae4e505db957c1afbc189d73f0b5d972d9aaaeeb"
                                          "232ca20eebd5de6fe7f29d01470354413cc9a0af1154b7af7c1029ad"
                                          "cd67c74b4798afeb69e09f2cb387305e73a1b5f4"
                                          "50202d54f0ef096fe1bde340219a1194d1ac9026e90b366cce0c59b2"
                                          "39d10e4888f52ca1780824d39ae01a6b9f4dd605"
                                          "9191a7f12b2a3d8db3c2868cd4e5a5862b8b625a4197d52c6ac77710"
                                          "116ebd3ced81c4d91ad5fdfbed68312ebce7eea4"
                                          "5c1833ca3acf7da2052820eacf5c6b07d086dabeb893391c71417fd8"
                                          "a4b1829ae2cf60d1749d0e25da19530d889461c2"
                                          "1da3492a8dc6ccac7de83ac1c2185262c7473c8cc42f547cc9864b02"
                                          "a8073b6aa54a037d8c0de3914784e6205e83d979"
                                          "18b944f11b877b12084c0dd1d36592f8a4f8b8da5bb404c3d2c079b2"
                                          "2b6ceabfbcb637c0dbe0201f0909d533f8bf308a"
                                          "da47aee641a012a494d31b54c974e58b87f140258258bb82f3169265"
                                          "9db7aa07e17a5b2a0832c24e122d3a8babcc9ee7"
                                          "4cbb07d3058bb85b15f6f6b2674aba9fd34367be9782d444335fbed3"
                                          "1e3c4086c652597c27104938b47fa10282010100"
                                          "e9fdf843c1550070ca711cb8ff28411466198f0e212511c318662389"
                                          "0c0071bf6561219682fe7dbdfd81176eba7c4fab"
                                          "a21614a20721e0fcd63768e6d925688ecc90992059ac89256e0524de"
                                          "90bf3d8a052ce6a9f6adafa712f3107a016e20c8"
                                          "0255c9e37d8206d1bc327e06e66eb24288da866b55904fd8b59e6b2a"
                                          "b31bc5eab47e597093c63fab7872102d57b4c589"
                                          "c66077f534a61f5f65127459a33c91f6db61fc431b1ae90be92b4149"
                                          "a3255291baf94304e3efb77b1107b5a3bda91135"
                                          "9c40a53c347ff9100baf8f36dc5cd991066b5bdc28b39ed644f404af"
                                          "e9213f4d31c9d4e40f3a5f5e3c39bebeb244e841"
                                          "37544e1a1839c1c8aaebf0c78a7fad590282010100f6fa1f1e6b8037"
                                          "42d5490b7441152f500970f46feb0b73a6e4baba"
                                          "2aaf3c0e245ed852fc31d86a8e46eb48e90fac409989dfee45238f97"
                                          "e8f1f8e83a136488c1b04b8a7fb695f37b861630"
                                          "7ff8a8d63e8cfa0b4fb9b9167ffaebabf111aa5a4344afbabd002ae8"
                                          "961c38c02da76a9149abdde93eb389eb32595c29"
                                          "ba30d8283a7885218a5a9d33f7f01dbdf85f3aad016c071395491338"
                                          "ec318d39220e1c7bd69d3d6b520a13a30d745c10"
                                          "2b827ad9984b0dd6aed73916ffa82a06c1c111e7047dcd2668f988a0"
                                          "570a71474992eecf416e068f029ec323d5d635fd"
                                          "24694fc9bf96973c255d26c772a95bf8b7f876547a5beabf86f06cd2"
                                          "1b67994f944e7a5493028201010095b02fd30069"
                                          "e547426a8bea58e8a2816f33688dac6c6f6974415af8402244a22133"
                                          "baedf34ce499d7036f3f19b38eb00897c18949b0"
                                          "c5a25953c71aeeccfc8f6594173157cc854bd98f16dffe8f28ca13b7"
                                          "7eb43a2730585c49fc3f608cd811bb54b03b84bd"
                                          "daa8ef910988567f783012266199667a546a18fd88271fbf63a45ae4"
                                          "fd4884706da8befb9117c0a4d73de5172f8640b1"
                                          "091ed8a4aea3ed4641463f5ff6a5e3401ad7d0c92811f87956d1fd5f"
                                          "9a1d15c7f3839a08698d9f35f9d966e5000f7cb2"
                                          "655d7b6c4adcd8a9d950ea5f61bb7c9a33c17508f9baa313eecfee4a"
                                          "e493249ebe05a5d7770bbd3551b2eeb752e3649e"
                                          "0636de08e3d672e66cb90282010100ad93e4c31072b063fc5ab5fe22"
                                          "afacece775c795d0efdf7c704cfc027bde0d626a"
                                          "7646fc905bb5a80117e3ca49059af14e0160089f9190065be9bfecf1"
                                          "2c3b2145b211c8e89e42dd91c38e9aa23ca73697"
                                          "063564f6f6aa6590088a738722df056004d18d7bccac62b3bafef617"
                                          "2fc2a4b071ea37f31eff7a076bcab7dd144e51a9"
                                          "da8754219352aef2c73478971539fa41de4759285ea626fa3c72e708"
                                          "5be47d554d915bbb5149cb6ef835351f23104304"
                                          "9cd941506a034bf2f8767f3e1e42ead92f91cb3d75549b57ef7d56ac"
                                          "39c2d80d67f6a2b4ca192974bfc5060e2dd17121"
                                          "7971002193dba12e7e4133ab201f07500a90495a38610279b13a48d5"
                                          "4f0c99028201003e3a1ac0c2b67d54ed5c4bbe04"
                                          "a7db99103659d33a4f9d35809e1f60c282e5988dddc964527f3b05e6"
                                          "cc890eab3dcb571d66debf3a5527704c87264b39"
                                          "54d7265f4e8d2c637dd89b491b9cf23f264801f804b90454d65af0c4"
                                          "c830d1aef76f597ef61b26ca857ecce9cb78d4f6"
                                          "c2218c00d2975d46c2b013fbf59b750c3b92d8d3ed9e6d1fd0ef1ec0"
                                          "91a5c286a3fe2dead292f40f380065731e2079eb"
                                          "b9f2a7ef2c415ecbb488da98f3a12609ca1b6ec8c734032c8bd51329"
                                          "2ff842c375d4acd1b02dfb206b24cd815f8e2f9d"
                                          "4af8e7dea0370b19c1b23cc531d78b40e06e1119ee2e08f6f31c6e2e"
                                          "8444c568d13c5d451a291ae0c9f1d4f27d23b3a0"
                                          "0d60ad";

static PhPrivateKey *
spec_key (PhKeyType type)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  PhPrivateKey *key;

  switch (type)
    {
      case PH_KEY_TYPE_RSA:
        bytes = hex_bytes (rsa_private_key_hex);
        break;
      case PH_KEY_TYPE_ED25519:
        bytes
            = hex_bytes ("080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d"
                         "1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e");
        break;
      case PH_KEY_TYPE_SECP256K1:
        bytes = hex_bytes (
            "0802122053DADF1D5A164D6B4ACDB15E24AA4C5B1D3461BDBD42ABEDB0A4404D56CED8FB");
        break;
      case PH_KEY_TYPE_ECDSA:
        bytes = hex_bytes (
            "08031279307702010104203E5B1FE9712E6C314942A750BD67485DE3C1EFE85B1BFB520AE8F"
            "9AE3DFA4A4CA00A06082A8648CE3D030107A14403420004DE3D300FA36AE0E8F5D530899D83"
            "ABAB44ABF3161F162A4BC901D8E6ECDA020E8B6D5F8DA30525E71D6851510C098E5C47C646A"
            "597FB4DCEC034E9F77C409E62");
        break;
      default:
        g_assert_not_reached ();
    }
  key = ph_private_key_unmarshal (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  g_assert_nonnull (key);
  g_assert_cmpint (ph_private_key_get_key_type (key), ==, type);
  return key;
}

static void
test_handshake_key_types (void)
{
  static const PhKeyType types[]
      = { PH_KEY_TYPE_RSA, PH_KEY_TYPE_ED25519, PH_KEY_TYPE_SECP256K1, PH_KEY_TYPE_ECDSA };
  g_autoptr (PhPrivateKey) ours = ed25519_key ();

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr (PhPrivateKey) theirs = spec_key (types[i]);

      g_test_message ("%s identity", ph_key_type_to_string (types[i]));
      check_handshake_between (ours, theirs);
      check_handshake_between (theirs, ours);
    }
}

static void
test_handshake_peer_mismatch (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) a = ed25519_key ();
  g_autoptr (PhPrivateKey) b = ed25519_key ();
  g_autoptr (PhPrivateKey) c = ed25519_key ();
  g_autoptr (PhPeerId) c_id = peer_id_of (c);
  g_autoptr (PhNoiseHandshake) init = ph_noise_handshake_new (TRUE, a, c_id);
  g_autoptr (PhNoiseHandshake) resp = ph_noise_handshake_new (FALSE, b, NULL);
  g_autoptr (GByteArray) message = g_byte_array_new ();

  g_assert_false (run_handshake (init, resp, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PEER_MISMATCH);
  g_clear_error (&error);
  g_assert_false (ph_noise_handshake_is_complete (init));
  g_assert_null (ph_noise_handshake_get_remote_peer_id (init));
  g_assert_null (ph_noise_handshake_get_remote_public_key (init));
  /* A failed handshake stays failed. */
  g_assert_false (ph_noise_handshake_wants_write (init));
  g_assert_false (ph_noise_handshake_write_message (init, message, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_assert_cmpuint (message->len, ==, 0);
  g_clear_error (&error);

  /* The responder may also insist on a peer (go's SecureInbound with a peer ID). */
  {
    g_autoptr (PhNoiseHandshake) init2 = ph_noise_handshake_new (TRUE, a, NULL);
    g_autoptr (PhNoiseHandshake) resp2 = ph_noise_handshake_new (FALSE, b, c_id);

    g_assert_false (run_handshake (init2, resp2, &error));
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PEER_MISMATCH);
    g_assert_true (ph_noise_handshake_is_complete (init2)); /* it cannot know */
    g_assert_false (ph_noise_handshake_is_complete (resp2));
  }
}

/* A handshake where one side sends the given payload instead of its own; fails with the
 * receiver's error. */
static void
handshake_with_payload (gboolean initiator_lies, GBytes *payload, GQuark domain, gint code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) a = ed25519_key ();
  g_autoptr (PhPrivateKey) b = ed25519_key ();
  g_autoptr (PhNoiseHandshake) init = ph_noise_handshake_new (TRUE, a, NULL);
  g_autoptr (PhNoiseHandshake) resp = ph_noise_handshake_new (FALSE, b, NULL);

  ph_noise_handshake_set_test_payload (initiator_lies ? init : resp, payload);
  g_assert_false (run_handshake (init, resp, &error));
  g_assert_error (error, domain, code);
  g_assert_false (ph_noise_handshake_is_complete (initiator_lies ? resp : init));
  g_assert_null (ph_noise_handshake_get_remote_peer_id (initiator_lies ? resp : init));
}

/* A payload signing static_public (the right key for the liar's handshake), then tampered. */
static GBytes *
signed_payload (PhPrivateKey *key, const guint8 static_public[32], gboolean flip_last)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) payload = ph_noise_payload_encode (key, static_public, &error);
  g_autoptr (GByteArray) bytes = NULL;

  g_assert_no_error (error);
  bytes = g_byte_array_new ();
  g_byte_array_append (bytes, g_bytes_get_data (payload, NULL), g_bytes_get_size (payload));
  /* identity_sig is the last field, so this flips a bit of the signature. */
  if (flip_last)
    bytes->data[bytes->len - 1] ^= 0x01;
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

static void
test_handshake_bad_signature (void)
{
  for (guint liar = 0; liar < 2; liar++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PhPrivateKey) a = ed25519_key ();
      g_autoptr (PhPrivateKey) b = ed25519_key ();
      g_autoptr (PhNoiseHandshake) init = ph_noise_handshake_new (TRUE, a, NULL);
      g_autoptr (PhNoiseHandshake) resp = ph_noise_handshake_new (FALSE, b, NULL);
      PhNoiseHandshake *liar_hs = liar ? init : resp;
      PhPrivateKey *liar_key = liar ? a : b;
      guint8 static_public[32];
      g_autoptr (GBytes) payload = NULL;
      g_autoptr (PhPublicKey) verified = NULL;

      g_assert_true (ph_noise_handshake_get_static_public_key (liar_hs, static_public, &error));
      g_assert_no_error (error);
      /* Sanity: the untampered payload verifies against the static key it names. */
      payload = signed_payload (liar_key, static_public, FALSE);
      verified = ph_noise_payload_verify (g_bytes_get_data (payload, NULL),
                                          g_bytes_get_size (payload), static_public, &error);
      g_assert_no_error (error);
      g_assert_true (ph_public_key_equal (verified, ph_private_key_get_public_key (liar_key)));
      g_clear_pointer (&payload, g_bytes_unref);

      payload = signed_payload (liar_key, static_public, TRUE);
      ph_noise_handshake_set_test_payload (liar_hs, payload);
      g_assert_false (run_handshake (init, resp, &error));
      g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_BAD_SIGNATURE);
    }
}

static void
test_handshake_wrong_static_key (void)
{
  g_autoptr (PhPrivateKey) a = ed25519_key ();
  guint8 other_static[32];
  g_autoptr (GBytes) payload = NULL;

  /* A valid signature, but over a static key that is not the one in the handshake (a replayed
   * payload). */
  fill_pattern (other_static, sizeof other_static, 99);
  payload = signed_payload (a, other_static, FALSE);
  handshake_with_payload (FALSE, payload, PH_P2P_ERROR, PH_P2P_ERROR_BAD_SIGNATURE);
  handshake_with_payload (TRUE, payload, PH_P2P_ERROR, PH_P2P_ERROR_BAD_SIGNATURE);
}

static GBytes *
pack_payload (const Ph__Noise__NoiseHandshakePayload *payload)
{
  gsize len = ph__noise__noise_handshake_payload__get_packed_size (payload);
  guint8 *data = g_malloc (len + 1);

  ph__noise__noise_handshake_payload__pack (payload, data);
  return g_bytes_new_take (data, len);
}

static void
test_payload_malformed (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) a = ed25519_key ();
  g_autoptr (GBytes) key = ph_public_key_marshal (ph_private_key_get_public_key (a));
  Ph__Noise__NoiseHandshakePayload payload = PH__NOISE__NOISE_HANDSHAKE_PAYLOAD__INIT;
  guint8 static_public[32] = { 9 };
  guint8 sig[64] = { 1 };
  g_autofree guint8 *huge = g_malloc0 (PH_NOISE_MAX_MESSAGE_LEN);
  g_autoptr (GBytes) packed = NULL;
  static const struct
  {
    const char *hex;
    gint code;
  } garbage[] = {
    { "", PH_P2P_ERROR_MALFORMED },           /* no fields at all */
    { "ffffffff", PH_P2P_ERROR_MALFORMED },   /* bad tag/varint */
    { "0a05010203", PH_P2P_ERROR_MALFORMED }, /* field 1 claims 5 bytes, has 3 */
    { "0a80808080808080808001", PH_P2P_ERROR_MALFORMED },
    { "0a0101", PH_P2P_ERROR_MALFORMED },   /* a key, no signature */
    { "12020102", PH_P2P_ERROR_MALFORMED }, /* a signature, no key */
    { "0a0101120101", -1 },                 /* a one-byte "key" the key code refuses */
  };

  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
    {
      g_autoptr (GBytes) bytes = hex_bytes (garbage[i].hex);

      g_assert_null (ph_noise_payload_verify (g_bytes_get_data (bytes, NULL),
                                              g_bytes_get_size (bytes), static_public, &error));
      if (garbage[i].code >= 0)
        g_assert_error (error, PH_P2P_ERROR, garbage[i].code);
      else
        g_assert_nonnull (error);
      g_clear_error (&error);
    }

  /* Over one Noise message. */
  g_assert_null (ph_noise_payload_verify (huge, PH_NOISE_MAX_MESSAGE_LEN, static_public, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* An identity key over our bound. */
  payload.has_identity_key = TRUE;
  payload.identity_key.data = huge;
  payload.identity_key.len = 5000;
  payload.has_identity_sig = TRUE;
  payload.identity_sig.data = sig;
  payload.identity_sig.len = sizeof sig;
  packed = pack_payload (&payload);
  g_assert_null (ph_noise_payload_verify (g_bytes_get_data (packed, NULL),
                                          g_bytes_get_size (packed), static_public, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_clear_pointer (&packed, g_bytes_unref);

  /* A real key and a garbage signature. */
  payload.identity_key.data = (guint8 *) g_bytes_get_data (key, &payload.identity_key.len);
  packed = pack_payload (&payload);
  g_assert_null (ph_noise_payload_verify (g_bytes_get_data (packed, NULL),
                                          g_bytes_get_size (packed), static_public, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);

  /* Garbage payloads inside a real handshake. */
  {
    g_autoptr (GBytes) bytes = hex_bytes ("ffffffff");

    handshake_with_payload (FALSE, bytes, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
    handshake_with_payload (TRUE, bytes, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
  }
}

/* noise-libp2p §Noise Extensions: a peer's extensions are accepted and ignored; ours are none. */
static void
test_payload_extensions (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) a = ed25519_key ();
  g_autoptr (PhPrivateKey) b = ed25519_key ();
  g_autoptr (PhPeerId) b_id = peer_id_of (b);
  g_autoptr (PhNoiseHandshake) init = ph_noise_handshake_new (TRUE, a, b_id);
  g_autoptr (PhNoiseHandshake) resp = ph_noise_handshake_new (FALSE, b, NULL);
  g_autoptr (GBytes) key = ph_public_key_marshal (ph_private_key_get_public_key (b));
  g_autoptr (GBytes) sig = NULL;
  g_autoptr (GBytes) packed = NULL;
  g_autoptr (GBytes) ours = NULL;
  Ph__Noise__NoiseHandshakePayload payload = PH__NOISE__NOISE_HANDSHAKE_PAYLOAD__INIT;
  Ph__Noise__NoiseExtensions extensions = PH__NOISE__NOISE_EXTENSIONS__INIT;
  Ph__Noise__NoiseHandshakePayload *decoded;
  char *muxers[] = { (char *) "/yamux/1.0.0", (char *) "/mplex/6.7.0" };
  guint8 message[24 + 32];
  guint8 static_public[32];

  g_assert_true (ph_noise_handshake_get_static_public_key (resp, static_public, &error));
  memcpy (message, "noise-libp2p-static-key:", 24);
  memcpy (message + 24, static_public, 32);
  sig = ph_private_key_sign (b, message, sizeof message, &error);
  g_assert_no_error (error);

  extensions.n_stream_muxers = G_N_ELEMENTS (muxers);
  extensions.stream_muxers = muxers;
  payload.has_identity_key = TRUE;
  payload.identity_key.data = (guint8 *) g_bytes_get_data (key, &payload.identity_key.len);
  payload.has_identity_sig = TRUE;
  payload.identity_sig.data = (guint8 *) g_bytes_get_data (sig, &payload.identity_sig.len);
  payload.extensions = &extensions;
  packed = pack_payload (&payload);

  ph_noise_handshake_set_test_payload (resp, packed);
  g_assert_true (run_handshake (init, resp, &error));
  g_assert_no_error (error);
  g_assert_true (ph_peer_id_equal (ph_noise_handshake_get_remote_peer_id (init), b_id));

  /* What we send: key and signature, no extensions (PROTOCOLS.md trap 5). */
  ours = ph_noise_payload_encode (a, static_public, &error);
  g_assert_no_error (error);
  decoded = ph__noise__noise_handshake_payload__unpack (NULL, g_bytes_get_size (ours),
                                                        g_bytes_get_data (ours, NULL));
  g_assert_nonnull (decoded);
  g_assert_true (decoded->has_identity_key && decoded->has_identity_sig);
  g_assert_null (decoded->extensions);
  ph__noise__noise_handshake_payload__free_unpacked (decoded, NULL);
}

static void
test_handshake_malformed_messages (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *big = g_malloc0 (PH_NOISE_MAX_MESSAGE_LEN + 1);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GByteArray) payload = g_byte_array_new ();

  /* Over 65535 bytes, in either direction. */
  {
    g_autoptr (PhNoiseHandshake) resp = ph_noise_handshake_new_raw (FALSE, NULL, 0);
    g_autoptr (PhNoiseHandshake) init = ph_noise_handshake_new_raw (TRUE, NULL, 0);

    g_assert_false (ph_noise_handshake_read_message_raw (resp, big, PH_NOISE_MAX_MESSAGE_LEN + 1,
                                                         payload, &error));
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
    g_clear_error (&error);
    g_assert_false (ph_noise_handshake_write_message_raw (init, big, PH_NOISE_MAX_MESSAGE_LEN - 31,
                                                          out, &error));
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
    g_assert_cmpuint (out->len, ==, 0);
    g_clear_error (&error);
  }
  /* Exactly 65535 is fine. */
  {
    g_autoptr (PhNoiseHandshake) resp = ph_noise_handshake_new_raw (FALSE, NULL, 0);
    g_autoptr (PhNoiseHandshake) init = ph_noise_handshake_new_raw (TRUE, NULL, 0);

    g_assert_true (ph_noise_handshake_write_message_raw (init, big, PH_NOISE_MAX_MESSAGE_LEN - 32,
                                                         out, &error));
    g_assert_cmpuint (out->len, ==, PH_NOISE_MAX_MESSAGE_LEN);
    g_assert_true (
        ph_noise_handshake_read_message_raw (resp, out->data, out->len, payload, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (payload->len, ==, PH_NOISE_MAX_MESSAGE_LEN - 32);
    g_byte_array_set_size (out, 0);
    g_byte_array_set_size (payload, 0);
    /* Message 2 has 32 + 48 + 16 bytes of overhead. */
    g_assert_false (ph_noise_handshake_write_message_raw (resp, big, PH_NOISE_MAX_MESSAGE_LEN - 95,
                                                          out, &error));
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
    g_clear_error (&error);
  }

  /* Too short for each message's fixed part. */
  for (guint step = 0; step < 3; step++)
    {
      static const gsize minimum[] = { 32, 32 + 48 + 16, 48 + 16 };
      g_autoptr (PhNoiseHandshake) init = ph_noise_handshake_new_raw (TRUE, NULL, 0);
      g_autoptr (PhNoiseHandshake) resp = ph_noise_handshake_new_raw (FALSE, NULL, 0);
      PhNoiseHandshake *reader = step % 2 == 0 ? resp : init;

      for (guint i = 0; i < step; i++)
        {
          PhNoiseHandshake *w = i % 2 == 0 ? init : resp;
          PhNoiseHandshake *r = i % 2 == 0 ? resp : init;

          g_byte_array_set_size (out, 0);
          g_assert_true (ph_noise_handshake_write_message_raw (w, NULL, 0, out, &error));
          g_assert_true (
              ph_noise_handshake_read_message_raw (r, out->data, out->len, payload, &error));
          g_assert_no_error (error);
        }
      g_assert_false (
          ph_noise_handshake_read_message_raw (reader, big, minimum[step] - 1, payload, &error));
      g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED);
      g_clear_error (&error);
      /* And it stays failed. */
      g_assert_false (
          ph_noise_handshake_read_message_raw (reader, big, minimum[step], payload, &error));
      g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
      g_clear_error (&error);
    }

  /* Out of turn. */
  {
    g_autoptr (PhNoiseHandshake) init = ph_noise_handshake_new_raw (TRUE, NULL, 0);
    g_autoptr (PhNoiseHandshake) resp = ph_noise_handshake_new_raw (FALSE, NULL, 0);

    g_assert_false (ph_noise_handshake_read_message_raw (init, big, 100, payload, &error));
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL);
    g_clear_error (&error);
    g_assert_false (ph_noise_handshake_write_message_raw (resp, NULL, 0, out, &error));
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL);
    g_clear_error (&error);
  }

  /* A bit flipped anywhere in message 2 or 3 fails authentication (or, in message 2's clear
   * ephemeral key, changes every key after it). */
  for (guint step = 1; step < 3; step++)
    for (gsize where = 0; where < 100; where += 7)
      {
        g_autoptr (PhNoiseHandshake) init = ph_noise_handshake_new_raw (TRUE, NULL, 0);
        g_autoptr (PhNoiseHandshake) resp = ph_noise_handshake_new_raw (FALSE, NULL, 0);
        gboolean ok = TRUE;

        for (guint i = 0; i <= step && ok; i++)
          {
            PhNoiseHandshake *w = i % 2 == 0 ? init : resp;
            PhNoiseHandshake *r = i % 2 == 0 ? resp : init;

            g_byte_array_set_size (out, 0);
            g_assert_true (
                ph_noise_handshake_write_message_raw (w, (const guint8 *) "hi", 2, out, &error));
            if (i == step)
              out->data[where % out->len] ^= 0x10;
            ok = ph_noise_handshake_read_message_raw (r, out->data, out->len, payload, &error);
          }
        g_assert_false (ok);
        g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL);
        g_clear_error (&error);
      }

  /* An all-zero (low-order) ephemeral key from the initiator. */
  {
    g_autoptr (PhNoiseHandshake) resp = ph_noise_handshake_new_raw (FALSE, NULL, 0);
    guint8 zero[32] = { 0 };

    g_assert_true (ph_noise_handshake_read_message_raw (resp, zero, sizeof zero, payload, &error));
    g_byte_array_set_size (out, 0);
    g_assert_false (ph_noise_handshake_write_message_raw (resp, NULL, 0, out, &error));
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CRYPTO);
    g_assert_cmpuint (out->len, ==, 0);
  }
}

/* --- over a PhDuplex -------------------------------------------------------------------------- */

typedef struct
{
  PhDuplex *insecure;
  gboolean initiator;
  PhPrivateKey *identity;
  PhPeerId *expected;
  gint64 deadline;
  GCancellable *cancellable;
  PhDuplex *secure;
  PhPeerId *remote;
  GError *error;
} SecureJob;

static gpointer
secure_thread (gpointer data)
{
  SecureJob *job = data;

  job->secure
      = ph_noise_secure (g_steal_pointer (&job->insecure), job->initiator, job->identity,
                         job->expected, &job->remote, job->deadline, job->cancellable, &job->error);
  return NULL;
}

static void
secure_job_clear (SecureJob *job)
{
  g_clear_pointer (&job->insecure, ph_duplex_free);
  g_clear_pointer (&job->identity, ph_private_key_unref);
  g_clear_pointer (&job->expected, ph_peer_id_free);
  g_clear_pointer (&job->secure, ph_duplex_free);
  g_clear_pointer (&job->remote, ph_peer_id_free);
  g_clear_error (&job->error);
}

/* Runs both handshakes at once, each in its own thread. */
static void
secure_pair (SecureJob *init, SecureJob *resp)
{
  GThread *a, *b;

  ph_duplex_new_pipe_pair (&init->insecure, &resp->insecure);
  init->initiator = TRUE;
  resp->initiator = FALSE;
  if (init->deadline == 0)
    init->deadline = ph_deadline_in (TIMEOUT_MS);
  if (resp->deadline == 0)
    resp->deadline = ph_deadline_in (TIMEOUT_MS);
  a = g_thread_new ("noise-initiator", secure_thread, init);
  b = g_thread_new ("noise-responder", secure_thread, resp);
  g_thread_join (a);
  g_thread_join (b);
}

typedef struct
{
  PhDuplex *duplex;
  const guint8 *data;
  gsize len;
  GBytes *received;
  GError *error;
} TransferJob;

static gpointer
write_thread (gpointer data)
{
  TransferJob *job = data;
  gint64 deadline = ph_deadline_in (TIMEOUT_MS);
  gsize done = 0;

  /* Uneven pieces, so frames and writes do not line up. */
  while (done < job->len && job->error == NULL)
    {
      gsize piece = MIN (job->len - done, 100000 + done % 7777);

      ph_duplex_write (job->duplex, job->data + done, piece, deadline, NULL, &job->error);
      done += piece;
    }
  if (job->error == NULL)
    ph_duplex_close_write (job->duplex, deadline, NULL, &job->error);
  return NULL;
}

static gpointer
read_thread (gpointer data)
{
  TransferJob *job = data;

  job->received = ph_duplex_read_to_end (job->duplex, 4 * 1024 * 1024, ph_deadline_in (TIMEOUT_MS),
                                         NULL, &job->error);
  return NULL;
}

static void
check_secure_pair (PhPrivateKey *init_key, PhPrivateKey *resp_key)
{
  SecureJob init = { 0 }, resp = { 0 };
  gsize len = 1024 * 1024 + 12345;
  g_autofree guint8 *a_data = g_malloc (len);
  g_autofree guint8 *b_data = g_malloc (len);
  TransferJob jobs[4] = { { 0 } };
  GThread *threads[4];

  init.identity = ph_private_key_ref (init_key);
  init.expected = peer_id_of (resp_key);
  resp.identity = ph_private_key_ref (resp_key);
  secure_pair (&init, &resp);
  g_assert_no_error (init.error);
  g_assert_no_error (resp.error);
  g_assert_nonnull (init.secure);
  g_assert_nonnull (resp.secure);
  g_assert_true (ph_peer_id_equal (init.remote, init.expected));
  {
    g_autoptr (PhPeerId) init_id = peer_id_of (init_key);

    g_assert_true (ph_peer_id_equal (resp.remote, init_id));
  }
  g_assert_nonnull (ph_noise_duplex_get_inner (init.secure));
  g_assert_null (ph_noise_duplex_get_inner (ph_noise_duplex_get_inner (init.secure)));

  /* A small exchange first. */
  {
    g_autoptr (GError) error = NULL;
    guint8 buffer[16];

    g_assert_true (ph_duplex_write (init.secure, (const guint8 *) "hello", 5,
                                    ph_deadline_in (TIMEOUT_MS), NULL, &error));
    g_assert_true (
        ph_duplex_read_exact (resp.secure, buffer, 5, ph_deadline_in (TIMEOUT_MS), NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpmem (buffer, 5, "hello", 5);
  }

  /* Then 1 MiB each way, all four directions-ends busy at once: one reader and one writer
   * thread per duplex. */
  fill_pattern (a_data, len, 1);
  fill_pattern (b_data, len, 2);
  jobs[0] = (TransferJob){ .duplex = init.secure, .data = a_data, .len = len };
  jobs[1] = (TransferJob){ .duplex = resp.secure, .data = b_data, .len = len };
  jobs[2] = (TransferJob){ .duplex = resp.secure };
  jobs[3] = (TransferJob){ .duplex = init.secure };
  threads[0] = g_thread_new ("w-init", write_thread, &jobs[0]);
  threads[1] = g_thread_new ("w-resp", write_thread, &jobs[1]);
  threads[2] = g_thread_new ("r-resp", read_thread, &jobs[2]);
  threads[3] = g_thread_new ("r-init", read_thread, &jobs[3]);
  for (guint i = 0; i < 4; i++)
    {
      g_thread_join (threads[i]);
      g_assert_no_error (jobs[i].error);
    }
  g_assert_cmpmem (g_bytes_get_data (jobs[2].received, NULL), g_bytes_get_size (jobs[2].received),
                   a_data, len);
  g_assert_cmpmem (g_bytes_get_data (jobs[3].received, NULL), g_bytes_get_size (jobs[3].received),
                   b_data, len);
  g_bytes_unref (jobs[2].received);
  g_bytes_unref (jobs[3].received);

  secure_job_clear (&init);
  secure_job_clear (&resp);
}

static void
test_secure_ed25519 (void)
{
  g_autoptr (PhPrivateKey) a = ed25519_key ();
  g_autoptr (PhPrivateKey) b = ed25519_key ();

  check_secure_pair (a, b);
}

static void
test_secure_key_types (void)
{
  g_autoptr (PhPrivateKey) a = ed25519_key ();
  g_autoptr (PhPrivateKey) rsa = spec_key (PH_KEY_TYPE_RSA);
  g_autoptr (PhPrivateKey) k1 = spec_key (PH_KEY_TYPE_SECP256K1);
  g_autoptr (PhPrivateKey) ecdsa = spec_key (PH_KEY_TYPE_ECDSA);

  check_secure_pair (a, rsa);
  check_secure_pair (k1, a);
  check_secure_pair (ecdsa, rsa);
}

static void
test_secure_peer_mismatch (void)
{
  SecureJob init = { 0 }, resp = { 0 };
  g_autoptr (PhPrivateKey) other = ed25519_key ();

  init.identity = ed25519_key ();
  init.expected = peer_id_of (other);
  resp.identity = ed25519_key ();
  secure_pair (&init, &resp);
  g_assert_null (init.secure);
  g_assert_error (init.error, PH_P2P_ERROR, PH_P2P_ERROR_PEER_MISMATCH);
  g_assert_null (init.remote);
  /* The dialer hangs up, so the responder's wait for message 3 ends. */
  g_assert_null (resp.secure);
  g_assert_nonnull (resp.error);
  secure_job_clear (&init);
  secure_job_clear (&resp);
}

/* The peer's side of a handshake done by hand, to send what a real implementation would not. */
static void
write_frame (PhDuplex *duplex, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  guint8 header[2] = { len >> 8, len & 0xff };

  g_assert_true (ph_duplex_write (duplex, header, 2, ph_deadline_in (TIMEOUT_MS), NULL, &error));
  g_assert_true (ph_duplex_write (duplex, data, len, ph_deadline_in (TIMEOUT_MS), NULL, &error));
  g_assert_no_error (error);
}

static GBytes *
read_frame (PhDuplex *duplex)
{
  g_autoptr (GError) error = NULL;
  guint8 header[2];
  guint8 *data;
  gsize len;

  g_assert_true (
      ph_duplex_read_exact (duplex, header, 2, ph_deadline_in (TIMEOUT_MS), NULL, &error));
  len = header[0] << 8 | header[1];
  data = g_malloc (len + 1);
  g_assert_true (
      ph_duplex_read_exact (duplex, data, len, ph_deadline_in (TIMEOUT_MS), NULL, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (data, len);
}

typedef struct
{
  SecureJob resp;
  GThread *thread;
  PhDuplex *raw; /* our end */
  PhNoiseCipherState *send;
  PhNoiseCipherState *recv;
} ManualPeer;

/* Runs ph_noise_secure() as responder in a thread while we play initiator by hand. */
static void
manual_peer_connect (ManualPeer *peer)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) key = ed25519_key ();
  g_autoptr (PhNoiseHandshake) hs = ph_noise_handshake_new (TRUE, key, NULL);
  g_autoptr (GByteArray) message = g_byte_array_new ();
  g_autoptr (GBytes) reply = NULL;

  ph_duplex_new_pipe_pair (&peer->raw, &peer->resp.insecure);
  peer->resp.identity = ed25519_key ();
  peer->resp.deadline = ph_deadline_in (TIMEOUT_MS);
  peer->thread = g_thread_new ("noise-responder", secure_thread, &peer->resp);

  g_assert_true (ph_noise_handshake_write_message (hs, message, &error));
  write_frame (peer->raw, message->data, message->len);
  reply = read_frame (peer->raw);
  g_assert_true (ph_noise_handshake_read_message (hs, g_bytes_get_data (reply, NULL),
                                                  g_bytes_get_size (reply), &error));
  g_byte_array_set_size (message, 0);
  g_assert_true (ph_noise_handshake_write_message (hs, message, &error));
  write_frame (peer->raw, message->data, message->len);
  g_assert_true (ph_noise_handshake_split (hs, &peer->send, &peer->recv, &error));
  g_assert_no_error (error);

  g_thread_join (peer->thread);
  g_assert_no_error (peer->resp.error);
  g_assert_nonnull (peer->resp.secure);
}

static void
manual_peer_send (ManualPeer *peer, const char *text, gboolean flip)
{
  g_autoptr (GError) error = NULL;
  gsize len = strlen (text);
  g_autofree guint8 *sealed = g_malloc (len + 16);

  g_assert_true (ph_noise_cipher_state_encrypt (peer->send, NULL, 0, (const guint8 *) text, len,
                                                sealed, &error));
  g_assert_no_error (error);
  if (flip)
    sealed[len / 2] ^= 0x04;
  write_frame (peer->raw, sealed, len + 16);
}

static void
manual_peer_clear (ManualPeer *peer)
{
  secure_job_clear (&peer->resp);
  g_clear_pointer (&peer->raw, ph_duplex_free);
  g_clear_pointer (&peer->send, ph_noise_cipher_state_free);
  g_clear_pointer (&peer->recv, ph_noise_cipher_state_free);
}

static gssize
secure_read (PhDuplex *duplex, guint8 *buffer, gsize len, GError **error)
{
  return ph_duplex_read (duplex, buffer, len, ph_deadline_in (TIMEOUT_MS), NULL, error);
}

static void
test_secure_flipped_bit (void)
{
  g_autoptr (GError) error = NULL;
  ManualPeer peer = { 0 };
  guint8 buffer[64];

  manual_peer_connect (&peer);
  /* An empty frame is skipped, not taken for the end of the stream. */
  manual_peer_send (&peer, "", FALSE);
  manual_peer_send (&peer, "good frame", FALSE);
  g_assert_cmpint (secure_read (peer.resp.secure, buffer, sizeof buffer, &error), ==, 10);
  g_assert_cmpmem (buffer, 10, "good frame", 10);

  manual_peer_send (&peer, "evil frame", TRUE);
  manual_peer_send (&peer, "after", FALSE);
  g_assert_cmpint (secure_read (peer.resp.secure, buffer, sizeof buffer, &error), ==, -1);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL);
  g_clear_error (&error);
  /* The channel is closed for good, both ways. */
  g_assert_cmpint (secure_read (peer.resp.secure, buffer, sizeof buffer, &error), ==, -1);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_false (ph_duplex_write (peer.resp.secure, (const guint8 *) "x", 1,
                                   ph_deadline_in (TIMEOUT_MS), NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  manual_peer_clear (&peer);
}

static void
test_secure_bad_frames (void)
{
  /* A frame shorter than a tag. */
  {
    g_autoptr (GError) error = NULL;
    ManualPeer peer = { 0 };
    guint8 buffer[64];

    manual_peer_connect (&peer);
    write_frame (peer.raw, (const guint8 *) "short", 5);
    g_assert_cmpint (secure_read (peer.resp.secure, buffer, sizeof buffer, &error), ==, -1);
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
    manual_peer_clear (&peer);
  }
  /* A header announcing 65535 bytes, then the peer hangs up. */
  {
    g_autoptr (GError) error = NULL;
    ManualPeer peer = { 0 };
    guint8 buffer[64] = { 0xff, 0xff };

    manual_peer_connect (&peer);
    g_assert_true (
        ph_duplex_write (peer.raw, buffer, 40, ph_deadline_in (TIMEOUT_MS), NULL, &error));
    g_clear_pointer (&peer.raw, ph_duplex_free);
    g_assert_cmpint (secure_read (peer.resp.secure, buffer, sizeof buffer, &error), ==, -1);
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED);
    manual_peer_clear (&peer);
  }
  /* A lone byte of header, then the peer hangs up. */
  {
    g_autoptr (GError) error = NULL;
    ManualPeer peer = { 0 };
    guint8 buffer[64] = { 0 };

    manual_peer_connect (&peer);
    g_assert_true (
        ph_duplex_write (peer.raw, buffer, 1, ph_deadline_in (TIMEOUT_MS), NULL, &error));
    g_clear_pointer (&peer.raw, ph_duplex_free);
    g_assert_cmpint (secure_read (peer.resp.secure, buffer, sizeof buffer, &error), ==, -1);
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED);
    manual_peer_clear (&peer);
  }
  /* A clean end of stream at a frame boundary is end of stream, again and again. */
  {
    g_autoptr (GError) error = NULL;
    ManualPeer peer = { 0 };
    guint8 buffer[64];

    manual_peer_connect (&peer);
    manual_peer_send (&peer, "bye", FALSE);
    g_clear_pointer (&peer.raw, ph_duplex_free);
    g_assert_cmpint (secure_read (peer.resp.secure, buffer, sizeof buffer, &error), ==, 3);
    g_assert_cmpint (secure_read (peer.resp.secure, buffer, sizeof buffer, &error), ==, 0);
    g_assert_cmpint (secure_read (peer.resp.secure, buffer, sizeof buffer, &error), ==, 0);
    g_assert_no_error (error);
    manual_peer_clear (&peer);
  }
  /* A read that times out in the middle of a frame resumes where it stopped. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GByteArray) frame = g_byte_array_new ();
    ManualPeer peer = { 0 };
    guint8 buffer[64];

    manual_peer_connect (&peer);
    g_byte_array_set_size (frame, 2 + 7 + 16);
    frame->data[0] = 0;
    frame->data[1] = 7 + 16;
    g_assert_true (ph_noise_cipher_state_encrypt (peer.send, NULL, 0, (const guint8 *) "resumed", 7,
                                                  frame->data + 2, &error));
    g_assert_true (
        ph_duplex_write (peer.raw, frame->data, 10, ph_deadline_in (TIMEOUT_MS), NULL, &error));
    g_assert_cmpint (ph_duplex_read (peer.resp.secure, buffer, sizeof buffer, ph_deadline_in (100),
                                     NULL, &error),
                     ==, -1);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
    g_clear_error (&error);
    g_assert_true (ph_duplex_write (peer.raw, frame->data + 10, frame->len - 10,
                                    ph_deadline_in (TIMEOUT_MS), NULL, &error));
    g_assert_cmpint (secure_read (peer.resp.secure, buffer, sizeof buffer, &error), ==, 7);
    g_assert_cmpmem (buffer, 7, "resumed", 7);
    g_assert_no_error (error);
    manual_peer_clear (&peer);
  }
}

/* The peer hangs up in the middle of the handshake; both roles. */
static void
test_secure_truncated_handshake (void)
{
  for (guint we_initiate = 0; we_initiate < 2; we_initiate++)
    for (guint messages = 0; messages < 2; messages++)
      {
        SecureJob job = { 0 };
        PhDuplex *raw = NULL;
        GThread *thread;

        ph_duplex_new_pipe_pair (&raw, &job.insecure);
        job.initiator = we_initiate;
        job.identity = ed25519_key ();
        job.deadline = ph_deadline_in (TIMEOUT_MS);
        thread = g_thread_new ("noise", secure_thread, &job);
        if (we_initiate)
          {
            /* Read message 1; maybe answer with half a message 2; hang up. */
            g_bytes_unref (read_frame (raw));
            if (messages)
              {
                guint8 junk[60] = { 0, 200 };

                g_assert_true (ph_duplex_write (raw, junk, sizeof junk, ph_deadline_in (TIMEOUT_MS),
                                                NULL, NULL));
              }
          }
        else if (messages)
          {
            guint8 e[32];

            fill_pattern (e, sizeof e, 5);
            write_frame (raw, e, sizeof e);
            g_bytes_unref (read_frame (raw));
          }
        g_clear_pointer (&raw, ph_duplex_free);
        g_thread_join (thread);
        g_assert_null (job.secure);
        g_assert_nonnull (job.error);
        g_test_message ("%s", job.error->message);
        g_assert_true (job.error->domain == PH_P2P_ERROR || job.error->domain == G_IO_ERROR);
        secure_job_clear (&job);
      }
}

static void
test_secure_deadline (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) key = ed25519_key ();
  PhDuplex *a = NULL, *b = NULL;
  gint64 start = g_get_monotonic_time ();
  PhDuplex *secure;

  /* The other end never answers. */
  ph_duplex_new_pipe_pair (&a, &b);
  secure = ph_noise_secure (a, TRUE, key, NULL, NULL, ph_deadline_in (200), NULL, &error);
  g_assert_null (secure);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 190 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  ph_duplex_free (b);
}

static gboolean
cancel_cb (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static gpointer
cancel_later_thread (gpointer data)
{
  g_usleep (100 * 1000);
  cancel_cb (data);
  return NULL;
}

static void
test_secure_cancel (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) key = ed25519_key ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  PhDuplex *a = NULL, *b = NULL;
  GThread *thread;

  ph_duplex_new_pipe_pair (&a, &b);
  thread = g_thread_new ("cancel", cancel_later_thread, cancellable);
  g_assert_null (ph_noise_secure (a, FALSE, key, NULL, NULL, ph_deadline_in (TIMEOUT_MS),
                                  cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (thread);
  ph_duplex_free (b);
}

/* --- inlined muxer negotiation (ph-noise-private.h) --------------------------------------------
 */

#define YAMUX "/yamux/1.0.0"
#define MPLEX "/mplex/6.7.0"

typedef struct
{
  const char *name;
  const char *initiator[3];
  const char *responder[3];
  const char *expected;
} MuxerCase;

/* inlined-muxer-negotiation.md: the first entry of the initiator's list that the responder
 * listed; no list on either side means multistream (go's matchMuxers, js's getStreamMuxer). The
 * spec's own example (responder [mplex, yamux], initiator [yamux, mplex] → mplex) contradicts its
 * rule; go follows the rule, and so do we. Both sides list only yamux in practice. */
static const MuxerCase muxer_cases[] = {
  { "both yamux", { YAMUX }, { YAMUX }, YAMUX },
  { "initiator's order wins", { YAMUX, MPLEX }, { MPLEX, YAMUX }, YAMUX },
  { "initiator's order wins, other way", { MPLEX, YAMUX }, { YAMUX, MPLEX }, MPLEX },
  { "the common one", { MPLEX, YAMUX }, { YAMUX }, YAMUX },
  { "initiator lists none", { NULL }, { YAMUX }, NULL },
  { "responder lists none", { YAMUX }, { NULL }, NULL },
  { "no overlap", { MPLEX }, { YAMUX }, NULL },
};

static void
test_muxer_negotiation (void)
{
  g_autoptr (PhPrivateKey) a = ed25519_key ();
  g_autoptr (PhPrivateKey) b = ed25519_key ();

  for (gsize i = 0; i < G_N_ELEMENTS (muxer_cases); i++)
    {
      const MuxerCase *c = &muxer_cases[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (PhNoiseHandshake) init = ph_noise_handshake_new (TRUE, a, NULL);
      g_autoptr (PhNoiseHandshake) resp = ph_noise_handshake_new (FALSE, b, NULL);

      g_test_message ("case: %s", c->name);
      ph_noise_handshake_set_muxers (init, c->initiator);
      ph_noise_handshake_set_muxers (resp, c->responder);
      g_assert_null (ph_noise_handshake_get_muxer (init));
      g_assert_true (run_handshake (init, resp, &error));
      g_assert_no_error (error);
      /* Both ends agree, or the connection would break at its first byte. */
      g_assert_cmpstr (ph_noise_handshake_get_muxer (init), ==, c->expected);
      g_assert_cmpstr (ph_noise_handshake_get_muxer (resp), ==, c->expected);
    }
}

/* A list longer than go-libp2p accepts counts as none, as go counts it. */
static void
test_muxer_list_too_long (void)
{
  static const char *const ours[] = { YAMUX, NULL };
  g_autoptr (PhPrivateKey) a = ed25519_key ();
  g_autoptr (PhPrivateKey) b = ed25519_key ();
  g_autoptr (GError) error = NULL;
  g_autoptr (PhNoiseHandshake) init = ph_noise_handshake_new (TRUE, a, NULL);
  g_autoptr (PhNoiseHandshake) resp = ph_noise_handshake_new (FALSE, b, NULL);
  g_autoptr (GPtrArray) many = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < 100; i++)
    g_ptr_array_add (many, g_strdup_printf ("/muxer/%u", i));
  g_ptr_array_add (many, g_strdup (YAMUX));
  g_ptr_array_add (many, NULL);
  ph_noise_handshake_set_muxers (init, (const char *const *) many->pdata);
  ph_noise_handshake_set_muxers (resp, ours);
  g_assert_true (run_handshake (init, resp, &error));
  g_assert_no_error (error);
  g_assert_null (ph_noise_handshake_get_muxer (resp));
}

typedef struct
{
  SecureJob job;
  const char *const *muxers;
  char *muxer;
} MuxerJob;

static gpointer
secure_muxer_thread (gpointer data)
{
  MuxerJob *m = data;
  SecureJob *job = &m->job;

  job->secure = ph_noise_secure_with_muxers (
      g_steal_pointer (&job->insecure), job->initiator, job->identity, job->expected, m->muxers,
      &job->remote, &m->muxer, job->deadline, job->cancellable, &job->error);
  return NULL;
}

/* Over a duplex: the agreed muxer comes out of both ends; ph_noise_secure() lists none, so a peer
 * that does falls back to multistream. */
static void
test_secure_muxers (void)
{
  static const char *const yamux[] = { YAMUX, NULL };

  for (guint plain_side = 0; plain_side < 3; plain_side++)
    {
      MuxerJob init = { { 0 } }, resp = { { 0 } };
      GThread *a, *b;
      const char *expected = plain_side == 0 ? YAMUX : NULL;

      init.job.identity = ed25519_key ();
      resp.job.identity = ed25519_key ();
      init.muxers = plain_side == 1 ? NULL : yamux;
      resp.muxers = plain_side == 2 ? NULL : yamux;
      ph_duplex_new_pipe_pair (&init.job.insecure, &resp.job.insecure);
      init.job.initiator = TRUE;
      init.job.deadline = resp.job.deadline = ph_deadline_in (TIMEOUT_MS);
      a = g_thread_new ("noise-initiator", secure_muxer_thread, &init);
      b = g_thread_new ("noise-responder", secure_muxer_thread, &resp);
      g_thread_join (a);
      g_thread_join (b);
      g_assert_no_error (init.job.error);
      g_assert_no_error (resp.job.error);
      g_assert_cmpstr (init.muxer, ==, expected);
      g_assert_cmpstr (resp.muxer, ==, expected);
      g_free (init.muxer);
      g_free (resp.muxer);
      secure_job_clear (&init.job);
      secure_job_clear (&resp.job);
    }
}

/* --- the static key ------------------------------------------------------------------------------
 */

/* noise-libp2p §Static Key Authentication allows one static key for all sessions: one per identity
 * is made and signed once, and reused; a fixed test key is not cached. */
static void
test_static_key_reuse (void)
{
  g_autoptr (PhPrivateKey) a = ed25519_key ();
  g_autoptr (PhPrivateKey) b = ed25519_key ();
  g_autoptr (GError) error = NULL;
  guint8 first[32], again[32], other[32], fixed[32], after[32];

  {
    g_autoptr (PhNoiseHandshake) hs = ph_noise_handshake_new (FALSE, a, NULL);

    g_assert_true (ph_noise_handshake_get_static_public_key (hs, first, &error));
  }
  {
    g_autoptr (PhNoiseHandshake) hs = ph_noise_handshake_new (TRUE, a, NULL);

    g_assert_true (ph_noise_handshake_get_static_public_key (hs, again, &error));
  }
  g_assert_cmpmem (first, 32, again, 32);
  {
    g_autoptr (PhNoiseHandshake) hs = ph_noise_handshake_new (TRUE, b, NULL);

    g_assert_true (ph_noise_handshake_get_static_public_key (hs, other, &error));
  }
  g_assert_true (memcmp (first, other, 32) != 0);
  {
    g_autoptr (PhNoiseHandshake) hs = ph_noise_handshake_new (TRUE, a, NULL);
    guint8 test_private[32];

    fill_pattern (test_private, sizeof test_private, 7);
    ph_noise_handshake_set_test_keys (hs, test_private, NULL);
    g_assert_true (ph_noise_handshake_get_static_public_key (hs, fixed, &error));
    g_assert_true (ph_noise_x25519_public_key (test_private, after, &error));
    g_assert_cmpmem (fixed, 32, after, 32);
  }
  {
    g_autoptr (PhNoiseHandshake) hs = ph_noise_handshake_new (TRUE, a, NULL);

    g_assert_true (ph_noise_handshake_get_static_public_key (hs, after, &error));
  }
  g_assert_no_error (error);
  g_assert_cmpmem (first, 32, after, 32);

  /* Handshakes with the shared key still verify, the same identity on both ends included. */
  check_handshake_between (a, b);
  check_handshake_between (b, a);
  check_handshake_between (a, a);
}

static gpointer
handshakes_thread (gpointer data)
{
  PhPrivateKey **keys = data;

  for (guint i = 0; i < 20; i++)
    check_handshake_between (keys[i % 2], keys[(i + 1) % 2]);
  return NULL;
}

/* Many handshakes at once over the shared keys (run under ASan/TSan to mean something). */
static void
test_static_key_threads (void)
{
  PhPrivateKey *keys[2] = { ed25519_key (), ed25519_key () };
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("handshakes", handshakes_thread, keys);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  ph_private_key_unref (keys[0]);
  ph_private_key_unref (keys[1]);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/noise/primitives/x25519", test_x25519);
  g_test_add_func ("/noise/primitives/hkdf", test_hkdf);
  g_test_add_func ("/noise/primitives/chachapoly", test_chachapoly);
  g_test_add_func ("/noise/cipher-state", test_cipher_state);
  g_test_add_func ("/noise/vector/cacophony-xx", test_cacophony_vector);
  g_test_add_func ("/noise/handshake/ed25519", test_handshake_ed25519);
  g_test_add_func ("/noise/handshake/key-types", test_handshake_key_types);
  g_test_add_func ("/noise/handshake/peer-mismatch", test_handshake_peer_mismatch);
  g_test_add_func ("/noise/handshake/bad-signature", test_handshake_bad_signature);
  g_test_add_func ("/noise/handshake/wrong-static-key", test_handshake_wrong_static_key);
  g_test_add_func ("/noise/handshake/malformed-messages", test_handshake_malformed_messages);
  g_test_add_func ("/noise/payload/malformed", test_payload_malformed);
  g_test_add_func ("/noise/payload/extensions", test_payload_extensions);
  g_test_add_func ("/noise/secure/ed25519", test_secure_ed25519);
  g_test_add_func ("/noise/secure/key-types", test_secure_key_types);
  g_test_add_func ("/noise/secure/peer-mismatch", test_secure_peer_mismatch);
  g_test_add_func ("/noise/secure/flipped-bit", test_secure_flipped_bit);
  g_test_add_func ("/noise/secure/bad-frames", test_secure_bad_frames);
  g_test_add_func ("/noise/secure/truncated-handshake", test_secure_truncated_handshake);
  g_test_add_func ("/noise/secure/deadline", test_secure_deadline);
  g_test_add_func ("/noise/secure/cancel", test_secure_cancel);
  g_test_add_func ("/noise/muxers/negotiation", test_muxer_negotiation);
  g_test_add_func ("/noise/muxers/list-too-long", test_muxer_list_too_long);
  g_test_add_func ("/noise/muxers/secure", test_secure_muxers);
  g_test_add_func ("/noise/static-key/reuse", test_static_key_reuse);
  g_test_add_func ("/noise/static-key/threads", test_static_key_threads);

  return g_test_run ();
}
