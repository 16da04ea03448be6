/* test-keys.c: libp2p keys (libp2p/specs peer-ids/peer-ids.md §Keys, §Key Types, §Test vectors)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "keys/key-vectors.h"
#include "p2p/ph-keys.h"
#include "p2p/ph-p2p-error.h"

static const char *const spec_groups[] = { "ed25519", "secp256k1", "ecdsa", "rsa" };
static const PhKeyType spec_types[] = {
  PH_KEY_TYPE_ED25519,
  PH_KEY_TYPE_SECP256K1,
  PH_KEY_TYPE_ECDSA,
  PH_KEY_TYPE_RSA,
};

/* The openssl-made vectors of keys/signatures.ini. */
static const char *const signed_groups[] = {
  "ed25519", "secp256k1", "ecdsa-p256", "ecdsa-p384", "rsa-2048",
};

static const guint8 message[] = "noise-libp2p-static-key:0123456789abcdef0123456789abcdef";

/* A key protobuf written by hand: Type, then Data with a one- or two-byte length. */
static GBytes *
key_protobuf (int type, const guint8 *data, gsize len)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  guint8 header[] = { 0x08, type, 0x12 };

  g_assert_cmpint (type, >=, 0);
  g_assert_cmpuint (len, <, 1 << 14);
  g_byte_array_append (out, header, sizeof header);
  if (len < 0x80)
    {
      guint8 byte = len;
      g_byte_array_append (out, &byte, 1);
    }
  else
    {
      guint8 bytes[] = { (len & 0x7f) | 0x80, len >> 7 };
      g_byte_array_append (out, bytes, 2);
    }
  g_byte_array_append (out, data, len);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static PhPublicKey *
public_key (GBytes *bytes, GError **error)
{
  return ph_public_key_unmarshal (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), error);
}

static PhPrivateKey *
private_key (GBytes *bytes, GError **error)
{
  return ph_private_key_unmarshal (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), error);
}

static void
assert_public_fails (GBytes *bytes, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPublicKey) key = public_key (bytes, &error);

  g_assert_null (key);
  g_assert_error (error, PH_P2P_ERROR, code);
}

static void
assert_private_fails (GBytes *bytes, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) key = private_key (bytes, &error);

  g_assert_null (key);
  g_assert_error (error, PH_P2P_ERROR, code);
}

static gboolean
verify (PhPublicKey *key, const guint8 *data, gsize len, GBytes *signature, GError **error)
{
  return ph_public_key_verify (key, data, len, g_bytes_get_data (signature, NULL),
                               g_bytes_get_size (signature), error);
}

static void
assert_bad_signature (PhPublicKey *key, const guint8 *data, gsize len, GBytes *signature)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (verify (key, data, len, signature, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_BAD_SIGNATURE);
}

/* Signs, verifies, and fails on a changed message or signature. */
static void
assert_sign_verify (PhPrivateKey *private, PhPublicKey *public)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) flipped = NULL;
  g_autofree guint8 *bytes = NULL;
  gsize len;

  signature = ph_private_key_sign (private, message, sizeof message, &error);
  g_assert_no_error (error);
  g_assert_true (verify (public, message, sizeof message, signature, &error));
  g_assert_no_error (error);

  assert_bad_signature (public, message, sizeof message - 1, signature);
  len = g_bytes_get_size (signature);
  bytes = g_memdup2 (g_bytes_get_data (signature, NULL), len);
  bytes[len / 2] ^= 0x01;
  flipped = g_bytes_new (bytes, len);
  assert_bad_signature (public, message, sizeof message, flipped);
}

/* peer-ids.md §Test vectors: unmarshal and marshal back byte for byte, public and private, and the
 * private key's public half is the given public key. */
static void
test_spec_vectors (void)
{
  g_autoptr (GKeyFile) file = vector_file ("peer-ids-spec.ini");

  for (gsize i = 0; i < G_N_ELEMENTS (spec_groups); i++)
    {
      g_autoptr (GBytes) public_bytes = vector_bytes (file, spec_groups[i], "public");
      g_autoptr (GBytes) private_bytes = vector_bytes (file, spec_groups[i], "private");
      g_autoptr (GError) error = NULL;
      g_autoptr (PhPublicKey) public = NULL;
      g_autoptr (PhPrivateKey) private = NULL;
      g_autoptr (GBytes) marshalled = NULL;
      g_autoptr (GBytes) private_marshalled = NULL;
      g_autoptr (GBytes) derived = NULL;

      g_test_message ("spec vector %s", spec_groups[i]);
      public = public_key (public_bytes, &error);
      g_assert_no_error (error);
      g_assert_cmpint (ph_public_key_get_key_type (public), ==, spec_types[i]);
      marshalled = ph_public_key_marshal (public);
      g_assert_true (g_bytes_equal (marshalled, public_bytes));

      private = private_key (private_bytes, &error);
      g_assert_no_error (error);
      g_assert_cmpint (ph_private_key_get_key_type (private), ==, spec_types[i]);
      private_marshalled = ph_private_key_marshal (private);
      g_assert_true (g_bytes_equal (private_marshalled, private_bytes));

      g_assert_true (ph_public_key_equal (ph_private_key_get_public_key (private), public));
      derived = ph_public_key_marshal (ph_private_key_get_public_key (private));
      g_assert_true (g_bytes_equal (derived, public_bytes));

      assert_sign_verify (private, public);
    }
}

/* Signatures made by the openssl tool verify; ours verify with the same public key. */
static void
test_known_signatures (void)
{
  g_autoptr (GKeyFile) file = vector_file ("signatures.ini");

  for (gsize i = 0; i < G_N_ELEMENTS (signed_groups); i++)
    {
      const char *group = signed_groups[i];
      g_autoptr (GBytes) public_bytes = vector_bytes (file, group, "public");
      g_autoptr (GBytes) private_bytes = vector_bytes (file, group, "private");
      g_autoptr (GBytes) signature = vector_bytes (file, group, "signature");
      g_autofree char *text = vector_string (file, group, "message");
      g_autoptr (GError) error = NULL;
      g_autoptr (PhPublicKey) public = NULL;
      g_autoptr (PhPrivateKey) private = NULL;
      g_autoptr (GBytes) marshalled = NULL;
      g_autoptr (GBytes) private_marshalled = NULL;

      g_test_message ("openssl vector %s", group);
      public = public_key (public_bytes, &error);
      g_assert_no_error (error);
      marshalled = ph_public_key_marshal (public);
      g_assert_true (g_bytes_equal (marshalled, public_bytes));

      g_assert_true (verify (public, (const guint8 *) text, strlen (text), signature, &error));
      g_assert_no_error (error);
      assert_bad_signature (public, (const guint8 *) text, strlen (text) - 1, signature);
      assert_bad_signature (public, message, sizeof message, signature);

      private = private_key (private_bytes, &error);
      g_assert_no_error (error);
      private_marshalled = ph_private_key_marshal (private);
      g_assert_true (g_bytes_equal (private_marshalled, private_bytes));
      g_assert_true (ph_public_key_equal (ph_private_key_get_public_key (private), public));
      assert_sign_verify (private, public);
    }
}

/* Every byte of a signature matters, and truncated, extended or empty ones fail cleanly. */
static void
test_signature_mutations (void)
{
  g_autoptr (GKeyFile) file = vector_file ("signatures.ini");

  for (gsize i = 0; i < G_N_ELEMENTS (signed_groups); i++)
    {
      const char *group = signed_groups[i];
      g_autoptr (GBytes) public_bytes = vector_bytes (file, group, "public");
      g_autoptr (GBytes) signature = vector_bytes (file, group, "signature");
      g_autofree char *text = vector_string (file, group, "message");
      g_autoptr (PhPublicKey) public = public_key (public_bytes, NULL);
      gsize len;
      const guint8 *original = g_bytes_get_data (signature, &len);
      g_autofree guint8 *bytes = g_malloc (len + 1);

      g_assert_nonnull (public);
      for (gsize at = 0; at < len; at++)
        {
          g_autoptr (GBytes) mutated = NULL;

          memcpy (bytes, original, len);
          bytes[at] ^= 0x80;
          mutated = g_bytes_new (bytes, len);
          assert_bad_signature (public, (const guint8 *) text, strlen (text), mutated);
        }
      for (gsize cut = 0; cut < len; cut++)
        {
          g_autoptr (GBytes) truncated = g_bytes_new (original, cut);

          assert_bad_signature (public, (const guint8 *) text, strlen (text), truncated);
        }
      {
        g_autoptr (GBytes) extended = NULL;

        memcpy (bytes, original, len);
        bytes[len] = 0;
        extended = g_bytes_new (bytes, len + 1);
        assert_bad_signature (public, (const guint8 *) text, strlen (text), extended);
      }
    }
}

/* Accepted on input, as go's ParsePubKey does; marshalled compressed, as go does. High-S
 * signatures verify (go accepts them) but we only make low-S ones (BIP 62). */
static void
test_secp256k1 (void)
{
  g_autoptr (GKeyFile) file = vector_file ("signatures.ini");
  g_autoptr (GBytes) compressed = vector_bytes (file, "secp256k1", "public");
  g_autoptr (GBytes) uncompressed = vector_bytes (file, "secp256k1", "public-uncompressed");
  g_autoptr (GBytes) private_bytes = vector_bytes (file, "secp256k1", "private");
  g_autoptr (GBytes) high_s = vector_bytes (file, "secp256k1", "signature-high-s");
  g_autofree char *text = vector_string (file, "secp256k1", "message");
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPublicKey) public = NULL;
  g_autoptr (PhPrivateKey) private = NULL;
  g_autoptr (GBytes) marshalled = NULL;

  public = public_key (uncompressed, &error);
  g_assert_no_error (error);
  marshalled = ph_public_key_marshal (public);
  g_assert_true (g_bytes_equal (marshalled, compressed));
  g_assert_true (verify (public, (const guint8 *) text, strlen (text), high_s, &error));
  g_assert_no_error (error);

  private = private_key (private_bytes, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 32; i++)
    {
      g_autoptr (GBytes) signature = ph_private_key_sign (private, message, sizeof message, &error);
      gsize len;
      const guint8 *der = g_bytes_get_data (signature, &len);
      gsize r_len, s_len;

      g_assert_no_error (error);
      /* SEQUENCE { INTEGER r, INTEGER s }; a low s (<= n/2) is at most 32 bytes and has its top
       * bit clear, so it is never padded to 33 bytes. */
      g_assert_cmpuint (len, >=, 8);
      g_assert_cmphex (der[0], ==, 0x30);
      g_assert_cmphex (der[2], ==, 0x02);
      r_len = der[3];
      g_assert_cmpuint (4 + r_len + 2, <, len);
      g_assert_cmphex (der[4 + r_len], ==, 0x02);
      s_len = der[5 + r_len];
      g_assert_cmpuint (s_len, <=, 32);
      if (s_len == 32)
        g_assert_cmphex (der[6 + r_len], <, 0x80);
      g_assert_true (verify (public, message, sizeof message, signature, &error));
      g_assert_no_error (error);
    }
}

static void
test_secp256k1_invalid (void)
{
  g_autoptr (GKeyFile) file = vector_file ("signatures.ini");
  g_autoptr (GBytes) uncompressed = vector_bytes (file, "secp256k1", "public-uncompressed");
  g_autofree guint8 *point
      = g_memdup2 ((const guint8 *) g_bytes_get_data (uncompressed, NULL) + 4, 65);
  static const guint8 zero[32];
  static const guint8 order[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
  };
  g_autoptr (GBytes) bytes = NULL;

  g_assert_cmphex (point[0], ==, 0x04);
  /* y changed: off the curve */
  point[64] ^= 0x02;
  bytes = key_protobuf (PH_KEY_TYPE_SECP256K1, point, 65);
  assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* hybrid (0x06/0x07) and infinity encodings are not keys; 32 bytes are not a point */
  point[0] = 0x06;
  bytes = key_protobuf (PH_KEY_TYPE_SECP256K1, point, 65);
  assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);
  point[0] = 0x05;
  bytes = key_protobuf (PH_KEY_TYPE_SECP256K1, point, 33);
  assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = key_protobuf (PH_KEY_TYPE_SECP256K1, zero, 1);
  assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = key_protobuf (PH_KEY_TYPE_SECP256K1, point + 1, 32);
  assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* compressed points whose x has no y (x = 5: x^3 + 7 is not a square mod p), or is >= p */
  {
    guint8 x[33] = { 0x02 };

    x[32] = 5;
    bytes = key_protobuf (PH_KEY_TYPE_SECP256K1, x, 33);
    assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
    g_clear_pointer (&bytes, g_bytes_unref);
    memset (x + 1, 0xff, 32);
    bytes = key_protobuf (PH_KEY_TYPE_SECP256K1, x, 33);
    assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
    g_clear_pointer (&bytes, g_bytes_unref);
    /* x = 1 does have a y: the same construction is a valid key */
    x[0] = 0x03;
    memset (x + 1, 0, 32);
    x[32] = 1;
    bytes = key_protobuf (PH_KEY_TYPE_SECP256K1, x, 33);
    {
      g_autoptr (PhPublicKey) key = public_key (bytes, NULL);

      g_assert_nonnull (key);
    }
    g_clear_pointer (&bytes, g_bytes_unref);
  }

  /* private scalars outside [1, n-1], or not 32 bytes */
  bytes = key_protobuf (PH_KEY_TYPE_SECP256K1, zero, 32);
  assert_private_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = key_protobuf (PH_KEY_TYPE_SECP256K1, order, 32);
  assert_private_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = key_protobuf (PH_KEY_TYPE_SECP256K1, order, 31);
  assert_private_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);
  {
    guint8 below[32];
    g_autoptr (PhPrivateKey) key = NULL;
    g_autoptr (GError) error = NULL;

    memcpy (below, order, 32);
    below[31] -= 1;
    bytes = key_protobuf (PH_KEY_TYPE_SECP256K1, below, 32);
    key = private_key (bytes, &error);
    g_assert_no_error (error);
    assert_sign_verify (key, ph_private_key_get_public_key (key));
  }
}

static void
test_ed25519_generate (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) a = ph_private_key_generate_ed25519 (&error);
  g_autoptr (PhPrivateKey) b = NULL;
  g_autoptr (PhPrivateKey) loaded = NULL;
  g_autoptr (GBytes) marshalled = NULL;
  g_autoptr (GBytes) public_bytes = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (ph_private_key_get_key_type (a), ==, PH_KEY_TYPE_ED25519);
  b = ph_private_key_generate_ed25519 (&error);
  g_assert_no_error (error);
  g_assert_false (
      ph_public_key_equal (ph_private_key_get_public_key (a), ph_private_key_get_public_key (b)));

  /* Ed25519 public keys are always 08 01 12 20 <32 bytes> */
  public_bytes = ph_public_key_marshal (ph_private_key_get_public_key (a));
  g_assert_cmpuint (g_bytes_get_size (public_bytes), ==, 36);
  g_assert_cmpmem (g_bytes_get_data (public_bytes, NULL), 4, "\x08\x01\x12\x20", 4);

  marshalled = ph_private_key_marshal (a);
  g_assert_cmpuint (g_bytes_get_size (marshalled), ==, 68);
  loaded = private_key (marshalled, &error);
  g_assert_no_error (error);
  g_assert_true (ph_public_key_equal (ph_private_key_get_public_key (a),
                                      ph_private_key_get_public_key (loaded)));
  assert_sign_verify (loaded, ph_private_key_get_public_key (a));
  assert_sign_verify (a, ph_private_key_get_public_key (loaded));
  {
    /* a signature from one key does not verify with another */
    g_autoptr (GBytes) signature = ph_private_key_sign (a, message, sizeof message, &error);

    g_assert_no_error (error);
    assert_bad_signature (ph_private_key_get_public_key (b), message, sizeof message, signature);
  }
}

/* peer-ids.md §Ed25519: 64 bytes seed || public, legacy 96 bytes with the public key twice. */
static void
test_ed25519_private_forms (void)
{
  g_autoptr (GKeyFile) file = vector_file ("peer-ids-spec.ini");
  g_autoptr (GBytes) spec = vector_bytes (file, "ed25519", "private");
  g_autoptr (GBytes) bytes = NULL;
  const guint8 *data = (const guint8 *) g_bytes_get_data (spec, NULL) + 4;
  guint8 legacy[96];

  memcpy (legacy, data, 64);
  memcpy (legacy + 64, data + 32, 32);
  bytes = key_protobuf (PH_KEY_TYPE_ED25519, legacy, 96);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (PhPrivateKey) key = private_key (bytes, &error);
    g_autoptr (GBytes) marshalled = NULL;

    g_assert_no_error (error);
    marshalled = ph_private_key_marshal (key);
    g_assert_true (g_bytes_equal (marshalled, spec));
  }
  g_clear_pointer (&bytes, g_bytes_unref);

  /* the two public copies differ */
  legacy[95] ^= 1;
  bytes = key_protobuf (PH_KEY_TYPE_ED25519, legacy, 96);
  assert_private_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* the public half is not the seed's */
  memcpy (legacy, data, 64);
  legacy[63] ^= 1;
  bytes = key_protobuf (PH_KEY_TYPE_ED25519, legacy, 64);
  assert_private_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* a bare seed, as go-libp2p also refuses */
  bytes = key_protobuf (PH_KEY_TYPE_ED25519, data, 32);
  assert_private_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* public keys are exactly 32 bytes */
  bytes = key_protobuf (PH_KEY_TYPE_ED25519, data + 32, 31);
  assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = key_protobuf (PH_KEY_TYPE_ED25519, data, 33);
  assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
}

/* Data of one type under another Type, and Types we do not know. */
static void
test_wrong_key_type (void)
{
  g_autoptr (GKeyFile) spec = vector_file ("peer-ids-spec.ini");
  g_autoptr (GKeyFile) file = vector_file ("signatures.ini");
  g_autoptr (GBytes) rsa = vector_bytes (spec, "rsa", "public");
  g_autoptr (GBytes) ecdsa = vector_bytes (spec, "ecdsa", "public");
  g_autoptr (GBytes) secp256k1 = vector_bytes (spec, "secp256k1", "public");
  g_autoptr (GBytes) ed25519 = vector_bytes (spec, "ed25519", "public");
  g_autoptr (GBytes) ed_private = vector_bytes (spec, "ed25519", "private");
  g_autoptr (GBytes) k1_private = vector_bytes (spec, "secp256k1", "private");
  g_autoptr (GBytes) ecdsa_private = vector_bytes (spec, "ecdsa", "private");
  g_autoptr (GBytes) rsa_private = vector_bytes (file, "rsa-2048", "private");
  gsize len;
  const guint8 *data;
  g_autoptr (GBytes) bytes = NULL;

  /* RSA PKIX under ECDSA, ECDSA PKIX under RSA */
  data = g_bytes_get_data (rsa, &len);
  bytes = key_protobuf (PH_KEY_TYPE_ECDSA, data + 5, len - 5);
  assert_public_fails (bytes, PH_P2P_ERROR_UNSUPPORTED);
  g_clear_pointer (&bytes, g_bytes_unref);
  data = g_bytes_get_data (ecdsa, &len);
  bytes = key_protobuf (PH_KEY_TYPE_RSA, data + 4, len - 4);
  assert_public_fails (bytes, PH_P2P_ERROR_UNSUPPORTED);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* a secp256k1 point under Ed25519, an Ed25519 key under secp256k1 and ECDSA */
  data = g_bytes_get_data (secp256k1, &len);
  bytes = key_protobuf (PH_KEY_TYPE_ED25519, data + 4, len - 4);
  assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);
  data = g_bytes_get_data (ed25519, &len);
  bytes = key_protobuf (PH_KEY_TYPE_SECP256K1, data + 4, len - 4);
  assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = key_protobuf (PH_KEY_TYPE_ECDSA, data + 4, len - 4);
  assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* private keys under the wrong type */
  data = g_bytes_get_data (ed_private, &len);
  bytes = key_protobuf (PH_KEY_TYPE_SECP256K1, data + 4, len - 4);
  assert_private_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);
  data = g_bytes_get_data (k1_private, &len);
  bytes = key_protobuf (PH_KEY_TYPE_ED25519, data + 4, len - 4);
  assert_private_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);
  data = g_bytes_get_data (ecdsa_private, &len);
  bytes = key_protobuf (PH_KEY_TYPE_RSA, data + 4, len - 4);
  assert_private_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);
  data = g_bytes_get_data (rsa_private, &len);
  bytes = key_protobuf (PH_KEY_TYPE_ECDSA, data + 5, len - 5);
  assert_private_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* Types past ECDSA */
  data = g_bytes_get_data (ed25519, &len);
  for (int type = 4; type < 8; type++)
    {
      bytes = key_protobuf (type, data + 4, len - 4);
      assert_public_fails (bytes, PH_P2P_ERROR_UNSUPPORTED);
      g_clear_pointer (&bytes, g_bytes_unref);
    }
  data = g_bytes_get_data (ed_private, &len);
  bytes = key_protobuf (5, data + 4, len - 4);
  assert_private_fails (bytes, PH_P2P_ERROR_UNSUPPORTED);
  g_clear_pointer (&bytes, g_bytes_unref);
  {
    /* Type = -1, a ten-byte varint */
    static const guint8 negative[] = {
      0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x12, 0x01, 0x00,
    };

    bytes = g_bytes_new_static (negative, sizeof negative);
    assert_public_fails (bytes, PH_P2P_ERROR_UNSUPPORTED);
    assert_private_fails (bytes, PH_P2P_ERROR_UNSUPPORTED);
  }
}

/* Every proper prefix of every vector is refused cleanly. */
static void
test_truncated (void)
{
  g_autoptr (GKeyFile) spec = vector_file ("peer-ids-spec.ini");

  for (gsize i = 0; i < G_N_ELEMENTS (spec_groups); i++)
    {
      g_autoptr (GBytes) public_bytes = vector_bytes (spec, spec_groups[i], "public");
      g_autoptr (GBytes) private_bytes = vector_bytes (spec, spec_groups[i], "private");
      gsize len;
      const guint8 *data = g_bytes_get_data (public_bytes, &len);

      for (gsize cut = 0; cut < len; cut++)
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (PhPublicKey) key = ph_public_key_unmarshal (data, cut, &error);

          g_assert_null (key);
          g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
        }
      data = g_bytes_get_data (private_bytes, &len);
      for (gsize cut = 0; cut < len; cut++)
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (PhPrivateKey) key = ph_private_key_unmarshal (data, cut, &error);

          g_assert_null (key);
          g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
        }
    }
}

/* The protobuf itself: required fields, order, unknown fields. */
static void
test_protobuf (void)
{
  g_autoptr (GKeyFile) spec = vector_file ("peer-ids-spec.ini");
  g_autoptr (GBytes) ed25519 = vector_bytes (spec, "ed25519", "public");
  const guint8 *data = g_bytes_get_data (ed25519, NULL);
  guint8 buffer[64];
  g_autoptr (GBytes) bytes = NULL;

  /* Type only, Data only */
  bytes = g_bytes_new (data, 2);
  assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
  assert_private_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = g_bytes_new (data + 2, 34);
  assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* wrong wire type for Data (varint instead of bytes) */
  memcpy (buffer, data, 36);
  buffer[2] = 0x10;
  bytes = g_bytes_new (buffer, 36);
  assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* a Data length running past the end */
  memcpy (buffer, data, 36);
  buffer[3] = 0x21;
  bytes = g_bytes_new (buffer, 36);
  assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* fields in the other order, and an unknown field: read as go-libp2p does, and marshalled
   * canonically (peer-ids.md §Keys: tag order, no extra fields) */
  memcpy (buffer, data + 2, 34);
  memcpy (buffer + 34, data, 2);
  buffer[36] = 0x18; /* field 3, varint */
  buffer[37] = 0x2a;
  bytes = g_bytes_new (buffer, 38);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (PhPublicKey) key = public_key (bytes, &error);
    g_autoptr (GBytes) marshalled = NULL;

    g_assert_no_error (error);
    marshalled = ph_public_key_marshal (key);
    g_assert_true (g_bytes_equal (marshalled, ed25519));
  }
}

static void
test_oversized (void)
{
  g_autofree guint8 *big = g_malloc0 (PH_KEY_MAX_DATA_LEN + 256);
  g_autoptr (GBytes) bytes = NULL;

  for (int type = PH_KEY_TYPE_RSA; type <= PH_KEY_TYPE_ECDSA; type++)
    {
      bytes = key_protobuf (type, big, PH_KEY_MAX_DATA_LEN + 1);
      assert_public_fails (bytes, PH_P2P_ERROR_TOO_LARGE);
      assert_private_fails (bytes, PH_P2P_ERROR_TOO_LARGE);
      g_clear_pointer (&bytes, g_bytes_unref);
    }

  /* longer than any key protobuf may be, whatever it holds */
  {
    g_autoptr (GError) error = NULL;

    g_assert_null (ph_public_key_unmarshal (big, PH_KEY_MAX_DATA_LEN + 256, &error));
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
    g_clear_error (&error);
    g_assert_null (ph_private_key_unmarshal (big, PH_KEY_MAX_DATA_LEN + 256, &error));
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
  }
}

/* DER that is garbage, truncated, followed by junk or not canonical. */
static void
test_garbage_der (void)
{
  g_autoptr (GKeyFile) spec = vector_file ("peer-ids-spec.ini");
  const char *groups[] = { "rsa", "ecdsa" };

  for (gsize g = 0; g < G_N_ELEMENTS (groups); g++)
    {
      PhKeyType type = g == 0 ? PH_KEY_TYPE_RSA : PH_KEY_TYPE_ECDSA;
      g_autoptr (GBytes) public_bytes = vector_bytes (spec, groups[g], "public");
      g_autoptr (GBytes) private_bytes = vector_bytes (spec, groups[g], "private");
      gsize skip = g == 0 ? 5 : 4, len;
      const guint8 *der = (const guint8 *) g_bytes_get_data (public_bytes, &len) + skip;
      gsize der_len = len - skip;
      g_autofree guint8 *buffer = g_malloc (der_len + 4);
      g_autoptr (GBytes) bytes = NULL;

      /* DER cut short, and DER with a byte after it */
      for (gsize cut = 0; cut < der_len; cut += (cut < 64 ? 1 : 37))
        {
          bytes = key_protobuf (type, der, cut);
          assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
          g_clear_pointer (&bytes, g_bytes_unref);
        }
      memcpy (buffer, der, der_len);
      buffer[der_len] = 0;
      bytes = key_protobuf (type, buffer, der_len + 1);
      assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
      g_clear_pointer (&bytes, g_bytes_unref);

      /* the outer length in long form with a leading zero: BER, not DER */
      if (type == PH_KEY_TYPE_ECDSA)
        {
          g_assert_cmphex (der[0], ==, 0x30);
          g_assert_cmphex (der[1], ==, 0x59);
          buffer[0] = 0x30;
          buffer[1] = 0x81;
          memcpy (buffer + 2, der + 1, der_len - 1);
          bytes = key_protobuf (type, buffer, der_len + 1);
          assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
          g_clear_pointer (&bytes, g_bytes_unref);

          /* a compressed point: parses, but is not the encoding every peer writes */
          {
            static const guint8 head[] = {
              0x30, 0x39, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
              0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x22, 0x00,
            };
            guint8 compressed[sizeof head + 33];

            g_assert_cmpuint (der_len, ==, 91);
            memcpy (compressed, head, sizeof head);
            compressed[sizeof head] = 0x02 | (der[90] & 1);
            memcpy (compressed + sizeof head + 1, der + 27, 32);
            bytes = key_protobuf (type, compressed, sizeof compressed);
            assert_public_fails (bytes, PH_P2P_ERROR_MALFORMED);
            g_clear_pointer (&bytes, g_bytes_unref);
          }
        }

      /* every bit flip of the private DER: refused cleanly, or a consistent key */
      der = (const guint8 *) g_bytes_get_data (private_bytes, &len) + skip;
      der_len = len - skip;
      g_clear_pointer (&buffer, g_free);
      buffer = g_memdup2 (der, der_len);
      for (gsize at = 0; at < der_len; at += (type == PH_KEY_TYPE_RSA ? 97 : 1))
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (PhPrivateKey) key = NULL;

          buffer[at] ^= 0x10;
          bytes = key_protobuf (type, buffer, der_len);
          key = private_key (bytes, &error);
          g_assert_true ((key == NULL) != (error == NULL));
          if (key != NULL)
            assert_sign_verify (key, ph_private_key_get_public_key (key));
          else
            g_assert_true (error->domain == PH_P2P_ERROR);
          buffer[at] ^= 0x10;
          g_clear_pointer (&bytes, g_bytes_unref);
        }
    }
}

/* Random bytes under every type, as public and private key data: never a crash or a leak. */
static void
test_random_data (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (0x1ce);
  guint8 data[160];
  guint accepted = 0;

  for (int round = 0; round < 4000; round++)
    {
      int type = round % 4;
      gsize len = g_rand_int_range (rand, 0, sizeof data);
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GError) private_error = NULL;
      g_autoptr (PhPublicKey) public = NULL;
      g_autoptr (PhPrivateKey) private = NULL;

      for (gsize i = 0; i < len; i++)
        data[i] = g_rand_int (rand);
      /* start the DER types with a SEQUENCE so that the parsers get further */
      if ((type == PH_KEY_TYPE_RSA || type == PH_KEY_TYPE_ECDSA) && len >= 2 && round % 8 < 4)
        {
          data[0] = 0x30;
          data[1] = len - 2 < 0x80 ? len - 2 : 0x81;
        }
      bytes = key_protobuf (type, data, len);
      public = public_key (bytes, &error);
      private = private_key (bytes, &private_error);
      /* a few random strings are keys (32 bytes for Ed25519, a secp256k1 scalar or x) */
      g_assert_true ((public == NULL) != (error == NULL));
      g_assert_true ((private == NULL) != (private_error == NULL));
      if (public == NULL)
        g_assert_true (error->domain == PH_P2P_ERROR);
      else
        accepted++;
      if (private == NULL)
        g_assert_true (private_error->domain == PH_P2P_ERROR);
      else
        accepted++;
    }
  /* only those: about 1000 / 160 rounds of 32 bytes for each of the two types */
  g_assert_cmpuint (accepted, <, 40);
}

static GBytes *
rsa_public_der_of_bits (int bits)
{
  BIGNUM *n = BN_new ();
  BIGNUM *e = BN_new ();
  OSSL_PARAM_BLD *builder = OSSL_PARAM_BLD_new ();
  OSSL_PARAM *params;
  EVP_PKEY_CTX *context = EVP_PKEY_CTX_new_from_name (NULL, "RSA", NULL);
  EVP_PKEY *pkey = NULL;
  unsigned char *der = NULL;
  int der_len;
  GBytes *bytes;

  /* an odd modulus of exactly this many bits; not a real key, but parsers only count bits */
  g_assert_true (BN_set_bit (n, bits - 1) && BN_set_bit (n, 0) && BN_set_word (e, 65537));
  g_assert_true (OSSL_PARAM_BLD_push_BN (builder, OSSL_PKEY_PARAM_RSA_N, n));
  g_assert_true (OSSL_PARAM_BLD_push_BN (builder, OSSL_PKEY_PARAM_RSA_E, e));
  params = OSSL_PARAM_BLD_to_param (builder);
  g_assert_cmpint (EVP_PKEY_fromdata_init (context), ==, 1);
  g_assert_cmpint (EVP_PKEY_fromdata (context, &pkey, EVP_PKEY_PUBLIC_KEY, params), ==, 1);
  der_len = i2d_PUBKEY (pkey, &der);
  g_assert_cmpint (der_len, >, 0);
  bytes = g_bytes_new (der, der_len);

  OPENSSL_free (der);
  EVP_PKEY_free (pkey);
  EVP_PKEY_CTX_free (context);
  OSSL_PARAM_free (params);
  OSSL_PARAM_BLD_free (builder);
  BN_free (n);
  BN_free (e);
  return bytes;
}

/* go-libp2p core/crypto/rsa_common.go: 2048 <= bits <= 8192. */
static void
test_rsa_sizes (void)
{
  g_autoptr (GKeyFile) file = vector_file ("signatures.ini");
  g_autoptr (GBytes) public_1024 = vector_bytes (file, "rsa-1024", "public");
  g_autoptr (GBytes) private_1024 = vector_bytes (file, "rsa-1024", "private");
  const int accepted[] = { 2048, 8192 };
  const int refused[] = { 2047, 8193 };

  assert_public_fails (public_1024, PH_P2P_ERROR_UNSUPPORTED);
  assert_private_fails (private_1024, PH_P2P_ERROR_UNSUPPORTED);

  for (gsize i = 0; i < G_N_ELEMENTS (accepted); i++)
    {
      g_autoptr (GBytes) der = rsa_public_der_of_bits (accepted[i]);
      g_autoptr (GBytes) bytes
          = key_protobuf (PH_KEY_TYPE_RSA, g_bytes_get_data (der, NULL), g_bytes_get_size (der));
      g_autoptr (GError) error = NULL;
      g_autoptr (PhPublicKey) key = public_key (bytes, &error);

      g_assert_no_error (error);
      g_assert_nonnull (key);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (GBytes) der = rsa_public_der_of_bits (refused[i]);
      g_autoptr (GBytes) bytes
          = key_protobuf (PH_KEY_TYPE_RSA, g_bytes_get_data (der, NULL), g_bytes_get_size (der));

      assert_public_fails (bytes, i == 0 ? PH_P2P_ERROR_UNSUPPORTED : PH_P2P_ERROR_TOO_LARGE);
    }
}

/* An ECDSA private key whose embedded public key is another key's. */
static void
test_ecdsa_mismatched_private (void)
{
  g_autoptr (GKeyFile) spec = vector_file ("peer-ids-spec.ini");
  g_autoptr (GKeyFile) file = vector_file ("signatures.ini");
  g_autoptr (GBytes) private_bytes = vector_bytes (spec, "ecdsa", "private");
  g_autoptr (GBytes) other = vector_bytes (file, "ecdsa-p256", "public");
  g_autoptr (GBytes) bytes = NULL;
  gsize len, other_len;
  const guint8 *data = g_bytes_get_data (private_bytes, &len);
  const guint8 *other_data = g_bytes_get_data (other, &other_len);
  g_autofree guint8 *spliced = g_memdup2 (data, len);

  /* both end in the 64 bytes of the uncompressed point */
  memcpy (spliced + len - 64, other_data + other_len - 64, 64);
  bytes = g_bytes_new (spliced, len);
  assert_private_fails (bytes, PH_P2P_ERROR_MALFORMED);
}

static void
test_refcounts (void)
{
  g_autoptr (GError) error = NULL;
  PhPrivateKey *private = ph_private_key_generate_ed25519 (&error);
  PhPublicKey *public;
  g_autoptr (GBytes) marshalled = NULL;
  g_autoptr (PhPublicKey) parsed = NULL;

  g_assert_no_error (error);
  public = ph_public_key_ref (ph_private_key_get_public_key (private));
  g_assert_true (ph_private_key_ref (private) == private);
  ph_private_key_unref (private);
  ph_private_key_unref (private);

  /* the public key outlives its private key */
  marshalled = ph_public_key_marshal (public);
  parsed = public_key (marshalled, &error);
  g_assert_no_error (error);
  g_assert_true (ph_public_key_equal (public, parsed));
  g_assert_true (ph_public_key_equal (public, public));
  ph_public_key_unref (public);
  g_assert_cmpstr (ph_key_type_to_string (PH_KEY_TYPE_SECP256K1), ==, "Secp256k1");
}

/* Failures leave OpenSSL's per-thread error queue as the caller had it: other code on this thread
 * (Noise, TLS) must not read our parsers' complaints as its own. */
static void
test_error_queue (void)
{
  static const guint8 garbage[] = { 0x08, 0x00, 0x12, 0x04, 0x30, 0x82, 0xff, 0xff };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPublicKey) key = NULL;
  g_autoptr (GKeyFile) file = vector_file ("signatures.ini");
  g_autoptr (GBytes) public_bytes = vector_bytes (file, "ecdsa-p256", "public");
  g_autoptr (GBytes) bad = g_bytes_new_static ("\x30\x02\x02\x00", 4);

  ERR_clear_error ();
  g_assert_null (ph_public_key_unmarshal (garbage, sizeof garbage, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_cmpuint (ERR_peek_error (), ==, 0);

  key = public_key (public_bytes, &error);
  g_assert_no_error (error);
  g_assert_false (verify (key, message, sizeof message, bad, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);
  g_assert_cmpuint (ERR_peek_error (), ==, 0);

  /* an error the caller had queued stays there */
  ERR_raise (ERR_LIB_USER, 42);
  g_assert_null (ph_private_key_unmarshal (garbage, sizeof garbage, &error));
  g_assert_nonnull (error);
  g_assert_cmpint (ERR_GET_LIB (ERR_peek_last_error ()), ==, ERR_LIB_USER);
  g_assert_cmpint (ERR_GET_REASON (ERR_peek_last_error ()), ==, 42);
  ERR_clear_error ();
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/keys/spec-vectors", test_spec_vectors);
  g_test_add_func ("/keys/known-signatures", test_known_signatures);
  g_test_add_func ("/keys/signature-mutations", test_signature_mutations);
  g_test_add_func ("/keys/secp256k1", test_secp256k1);
  g_test_add_func ("/keys/secp256k1-invalid", test_secp256k1_invalid);
  g_test_add_func ("/keys/ed25519-generate", test_ed25519_generate);
  g_test_add_func ("/keys/ed25519-private-forms", test_ed25519_private_forms);
  g_test_add_func ("/keys/wrong-key-type", test_wrong_key_type);
  g_test_add_func ("/keys/truncated", test_truncated);
  g_test_add_func ("/keys/protobuf", test_protobuf);
  g_test_add_func ("/keys/oversized", test_oversized);
  g_test_add_func ("/keys/garbage-der", test_garbage_der);
  g_test_add_func ("/keys/random-data", test_random_data);
  g_test_add_func ("/keys/rsa-sizes", test_rsa_sizes);
  g_test_add_func ("/keys/ecdsa-mismatched-private", test_ecdsa_mismatched_private);
  g_test_add_func ("/keys/refcounts", test_refcounts);
  g_test_add_func ("/keys/error-queue", test_error_queue);

  return g_test_run ();
}
