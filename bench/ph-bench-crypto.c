/* ph-bench-crypto.c: the crypto floor of one inbound handshake, with the same libcrypto
 *
 *   ph-bench-crypto [--seconds S]
 *
 * What the responder of Noise_XX_25519_ChaChaPoly_SHA256 (libp2p/specs noise/README.md; Noise rev
 * 34 §7.5) must compute, at the least, for one handshake:
 *   - X25519: one key generation (e), three DH (ee, es, se); the two remote public keys parsed;
 *   - Ed25519: one signature (our identity over "noise-libp2p-static-key:" || s), one verification
 *     (the initiator's), its public key parsed;
 *   - HKDF-SHA256: three MixKey and one Split, 64 bytes each;
 *   - ChaCha20-Poly1305: message 2 encrypts s (32 B) and the payload, message 3 decrypts them;
 *   - SHA-256: the eight MixHash calls of the three messages.
 * Done the cheap way: algorithms fetched once, contexts reused, long-lived keys made once. That is
 * the floor; whatever the real listener spends above it is protocol and I/O.
 *
 * For comparison the same is timed the way src/p2p does it (ph-noise.h primitives, and a whole
 * in-memory XX handshake between two PhNoiseHandshake objects, which also pays for the static key
 * ph-noise makes per handshake and for protobuf and peer-ID work).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>

#include "p2p/ph-keys.h"
#include "p2p/ph-noise.h"

#define KEY_LEN 32
#define TAG_LEN 16
/* A NoiseHandshakePayload with an Ed25519 key: key protobuf (36) + signature (64) + framing. */
#define PAYLOAD_LEN 104
#define SIG_PREFIX "noise-libp2p-static-key:"

typedef struct
{
  EVP_PKEY_CTX *keygen;
  EVP_KDF_CTX *hkdf;
  EVP_CIPHER_CTX *aead;
  EVP_CIPHER *chacha;
  EVP_MD *sha256;
  EVP_MD_CTX *hash_ctx;
  EVP_MD_CTX *sign_ctx;
  EVP_MD_CTX *verify_ctx;
  EVP_PKEY *identity;       /* ours, long-lived */
  EVP_PKEY *static_key;     /* ours, long-lived (X25519) */
  guint8 remote_e[KEY_LEN]; /* what the initiator would send */
  guint8 remote_s[KEY_LEN];
  guint8 remote_identity[KEY_LEN];
  guint8 remote_sig[64];
} Floor;

static void
die (const char *what)
{
  g_printerr ("ph-bench-crypto: %s failed\n", what);
  exit (1);
}

static EVP_PKEY *
x25519_keygen (EVP_PKEY_CTX *ctx)
{
  EVP_PKEY *key = NULL;

  if (EVP_PKEY_keygen (ctx, &key) != 1)
    die ("X25519 keygen");
  return key;
}

static void
raw_public (EVP_PKEY *key, guint8 out[KEY_LEN])
{
  size_t len = KEY_LEN;

  if (EVP_PKEY_get_raw_public_key (key, out, &len) != 1)
    die ("raw public key");
}

static void
dh (EVP_PKEY *ours, EVP_PKEY *theirs, guint8 out[KEY_LEN])
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey (NULL, ours, NULL);
  size_t len = KEY_LEN;

  if (ctx == NULL || EVP_PKEY_derive_init (ctx) != 1 || EVP_PKEY_derive_set_peer (ctx, theirs) != 1
      || EVP_PKEY_derive (ctx, out, &len) != 1)
    die ("X25519 DH");
  EVP_PKEY_CTX_free (ctx);
}

static void
hkdf (Floor *f, const guint8 ck[KEY_LEN], const guint8 *ikm, gsize ikm_len, guint8 out[64])
{
  static const guint8 empty[1] = { 0 };
  OSSL_PARAM params[4];

  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
  params[1] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY,
                                                 (void *) (ikm_len ? ikm : empty), ikm_len);
  params[2] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SALT, (void *) ck, KEY_LEN);
  params[3] = OSSL_PARAM_construct_end ();
  if (EVP_KDF_derive (f->hkdf, out, 64, params) != 1)
    die ("HKDF");
}

static void
aead (Floor *f, gboolean encrypt, const guint8 key[KEY_LEN], const guint8 ad[KEY_LEN],
      const guint8 *in, gsize len, guint8 *out)
{
  static const guint8 nonce[12] = { 0 };
  guint8 tag[TAG_LEN] = { 0 };
  int n;

  if (EVP_CipherInit_ex2 (f->aead, f->chacha, key, nonce, encrypt, NULL) != 1
      || (!encrypt && EVP_CIPHER_CTX_ctrl (f->aead, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, tag) != 1)
      || EVP_CipherUpdate (f->aead, NULL, &n, ad, KEY_LEN) != 1
      || EVP_CipherUpdate (f->aead, out, &n, in, (int) len) != 1)
    die ("ChaCha20-Poly1305");
  /* Decrypting with a made-up tag fails the final check, as it must; the work is done by then. */
  EVP_CipherFinal_ex (f->aead, out + len, &n);
  if (encrypt)
    EVP_CIPHER_CTX_ctrl (f->aead, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, out + len);
}

static void
mix_hash (Floor *f, guint8 h[KEY_LEN], const guint8 *data, gsize len)
{
  EVP_MD_CTX *ctx = f->hash_ctx;
  unsigned int n;

  if (EVP_DigestInit_ex2 (ctx, f->sha256, NULL) != 1 || EVP_DigestUpdate (ctx, h, KEY_LEN) != 1
      || EVP_DigestUpdate (ctx, data, len) != 1 || EVP_DigestFinal_ex (ctx, h, &n) != 1)
    die ("SHA-256");
}

static void
floor_init (Floor *f)
{
  EVP_PKEY_CTX *ed = EVP_PKEY_CTX_new_from_name (NULL, "ED25519", NULL);
  EVP_PKEY *remote_identity = NULL, *remote_s;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  guint8 message[sizeof SIG_PREFIX - 1 + KEY_LEN];
  size_t len = KEY_LEN, sig_len = 64;
  EVP_KDF *kdf = EVP_KDF_fetch (NULL, "HKDF", NULL);

  memset (f, 0, sizeof *f);
  f->keygen = EVP_PKEY_CTX_new_from_name (NULL, "X25519", NULL);
  if (f->keygen == NULL || EVP_PKEY_keygen_init (f->keygen) != 1 || ed == NULL
      || EVP_PKEY_keygen_init (ed) != 1 || kdf == NULL)
    die ("setup");
  f->hkdf = EVP_KDF_CTX_new (kdf);
  EVP_KDF_free (kdf);
  f->aead = EVP_CIPHER_CTX_new ();
  f->chacha = EVP_CIPHER_fetch (NULL, "ChaCha20-Poly1305", NULL);
  f->sha256 = EVP_MD_fetch (NULL, "SHA256", NULL);
  f->hash_ctx = EVP_MD_CTX_new ();
  f->sign_ctx = EVP_MD_CTX_new ();
  f->verify_ctx = EVP_MD_CTX_new ();
  if (EVP_PKEY_keygen (ed, &f->identity) != 1 || EVP_PKEY_keygen (ed, &remote_identity) != 1)
    die ("Ed25519 keygen");
  f->static_key = x25519_keygen (f->keygen);

  /* The initiator's side, made once: its e and s, and its signature over s. */
  {
    EVP_PKEY *e = x25519_keygen (f->keygen);

    raw_public (e, f->remote_e);
    EVP_PKEY_free (e);
  }
  remote_s = x25519_keygen (f->keygen);
  raw_public (remote_s, f->remote_s);
  EVP_PKEY_free (remote_s);
  if (EVP_PKEY_get_raw_public_key (remote_identity, f->remote_identity, &len) != 1)
    die ("Ed25519 raw key");
  memcpy (message, SIG_PREFIX, sizeof SIG_PREFIX - 1);
  memcpy (message + sizeof SIG_PREFIX - 1, f->remote_s, KEY_LEN);
  if (EVP_DigestSignInit_ex (ctx, NULL, NULL, NULL, NULL, remote_identity, NULL) != 1
      || EVP_DigestSign (ctx, f->remote_sig, &sig_len, message, sizeof message) != 1)
    die ("Ed25519 sign");
  EVP_MD_CTX_free (ctx);
  EVP_PKEY_free (remote_identity);
  EVP_PKEY_CTX_free (ed);
}

static void
floor_clear (Floor *f)
{
  EVP_PKEY_CTX_free (f->keygen);
  EVP_KDF_CTX_free (f->hkdf);
  EVP_CIPHER_CTX_free (f->aead);
  EVP_CIPHER_free (f->chacha);
  EVP_MD_free (f->sha256);
  EVP_MD_CTX_free (f->hash_ctx);
  EVP_MD_CTX_free (f->sign_ctx);
  EVP_MD_CTX_free (f->verify_ctx);
  EVP_PKEY_free (f->identity);
  EVP_PKEY_free (f->static_key);
}

/* One responder handshake's crypto. */
static void
floor_handshake (Floor *f)
{
  guint8 h[KEY_LEN] = "Noise_XX_25519_ChaChaPoly_SHA256";
  guint8 ck[KEY_LEN], out[64], shared[KEY_LEN], e_pub[KEY_LEN], s_pub[KEY_LEN];
  guint8 message[sizeof SIG_PREFIX - 1 + KEY_LEN], sig[64];
  guint8 payload[PAYLOAD_LEN] = { 0 }, buffer[PAYLOAD_LEN + TAG_LEN];
  size_t sig_len = sizeof sig;
  EVP_PKEY *e, *re, *rs, *rid;

  memcpy (ck, h, KEY_LEN);
  mix_hash (f, h, (const guint8 *) "", 0); /* prologue */
  /* message 1: <- e */
  re = EVP_PKEY_new_raw_public_key (EVP_PKEY_X25519, NULL, f->remote_e, KEY_LEN);
  mix_hash (f, h, f->remote_e, KEY_LEN);
  mix_hash (f, h, payload, 0);
  /* message 2: -> e, ee, s, es, payload */
  e = x25519_keygen (f->keygen);
  raw_public (e, e_pub);
  mix_hash (f, h, e_pub, KEY_LEN);
  dh (e, re, shared);
  hkdf (f, ck, shared, KEY_LEN, out);
  memcpy (ck, out, KEY_LEN);
  raw_public (f->static_key, s_pub);
  aead (f, TRUE, out + KEY_LEN, h, s_pub, KEY_LEN, buffer);
  mix_hash (f, h, buffer, KEY_LEN + TAG_LEN);
  dh (f->static_key, re, shared);
  hkdf (f, ck, shared, KEY_LEN, out);
  memcpy (ck, out, KEY_LEN);
  memcpy (message, SIG_PREFIX, sizeof SIG_PREFIX - 1);
  memcpy (message + sizeof SIG_PREFIX - 1, s_pub, KEY_LEN);
  if (EVP_DigestSignInit_ex (f->sign_ctx, NULL, NULL, NULL, NULL, f->identity, NULL) != 1
      || EVP_DigestSign (f->sign_ctx, sig, &sig_len, message, sizeof message) != 1)
    die ("Ed25519 sign");
  aead (f, TRUE, out + KEY_LEN, h, payload, PAYLOAD_LEN, buffer);
  mix_hash (f, h, buffer, PAYLOAD_LEN + TAG_LEN);
  /* message 3: <- s, se, payload (decrypting costs what encrypting does) */
  aead (f, FALSE, out + KEY_LEN, h, buffer, KEY_LEN, buffer);
  mix_hash (f, h, buffer, KEY_LEN + TAG_LEN);
  rs = EVP_PKEY_new_raw_public_key (EVP_PKEY_X25519, NULL, f->remote_s, KEY_LEN);
  dh (e, rs, shared);
  hkdf (f, ck, shared, KEY_LEN, out);
  memcpy (ck, out, KEY_LEN);
  aead (f, FALSE, out + KEY_LEN, h, buffer, PAYLOAD_LEN, buffer);
  mix_hash (f, h, buffer, PAYLOAD_LEN + TAG_LEN);
  rid = EVP_PKEY_new_raw_public_key (EVP_PKEY_ED25519, NULL, f->remote_identity, KEY_LEN);
  memcpy (message + sizeof SIG_PREFIX - 1, f->remote_s, KEY_LEN);
  if (rid == NULL || EVP_DigestVerifyInit_ex (f->verify_ctx, NULL, NULL, NULL, NULL, rid, NULL) != 1
      || EVP_DigestVerify (f->verify_ctx, f->remote_sig, 64, message, sizeof message) != 1)
    die ("Ed25519 verify");
  /* Split */
  hkdf (f, ck, NULL, 0, out);

  EVP_PKEY_free (rid);
  EVP_PKEY_free (rs);
  EVP_PKEY_free (re);
  EVP_PKEY_free (e);
}

/* --- Timing ---------------------------------------------------------------------------------- */

typedef void (*Op) (gpointer data);

/* Runs op for about `seconds` and returns µs per call. */
static double
time_op (Op op, gpointer data, double seconds)
{
  gint64 start, now, end;
  guint64 n = 0;

  for (int i = 0; i < 50; i++) /* warm caches and lazy initialisation */
    op (data);
  start = g_get_monotonic_time ();
  end = start + (gint64) (seconds * G_USEC_PER_SEC);
  do
    {
      for (int i = 0; i < 50; i++)
        op (data);
      n += 50;
      now = g_get_monotonic_time ();
    }
  while (now < end);
  return (double) (now - start) / (double) n;
}

static void
op_floor (gpointer data)
{
  floor_handshake (data);
}

static void
op_keygen (gpointer data)
{
  Floor *f = data;

  EVP_PKEY_free (x25519_keygen (f->keygen));
}

static void
op_dh (gpointer data)
{
  Floor *f = data;
  guint8 shared[KEY_LEN];
  EVP_PKEY *re = EVP_PKEY_new_raw_public_key (EVP_PKEY_X25519, NULL, f->remote_e, KEY_LEN);

  dh (f->static_key, re, shared);
  EVP_PKEY_free (re);
}

static void
op_sign (gpointer data)
{
  Floor *f = data;
  guint8 sig[64], message[56] = { 0 };
  size_t len = sizeof sig;

  if (EVP_DigestSignInit_ex (f->sign_ctx, NULL, NULL, NULL, NULL, f->identity, NULL) != 1
      || EVP_DigestSign (f->sign_ctx, sig, &len, message, sizeof message) != 1)
    die ("Ed25519 sign");
}

static void
op_verify (gpointer data)
{
  Floor *f = data;
  guint8 message[sizeof SIG_PREFIX - 1 + KEY_LEN];
  EVP_PKEY *rid = EVP_PKEY_new_raw_public_key (EVP_PKEY_ED25519, NULL, f->remote_identity, KEY_LEN);

  memcpy (message, SIG_PREFIX, sizeof SIG_PREFIX - 1);
  memcpy (message + sizeof SIG_PREFIX - 1, f->remote_s, KEY_LEN);
  if (EVP_DigestVerifyInit_ex (f->verify_ctx, NULL, NULL, NULL, NULL, rid, NULL) != 1
      || EVP_DigestVerify (f->verify_ctx, f->remote_sig, 64, message, sizeof message) != 1)
    die ("Ed25519 verify");
  EVP_PKEY_free (rid);
}

static void
op_hkdf (gpointer data)
{
  guint8 ck[KEY_LEN] = { 1 }, ikm[KEY_LEN] = { 2 }, out[64];

  hkdf (data, ck, ikm, KEY_LEN, out);
}

static void
op_aead (gpointer data)
{
  guint8 key[KEY_LEN] = { 3 }, ad[KEY_LEN] = { 4 }, in[PAYLOAD_LEN] = { 0 };
  guint8 out[PAYLOAD_LEN + TAG_LEN];

  aead (data, TRUE, key, ad, in, PAYLOAD_LEN, out);
}

/* The same primitives as src/p2p calls them (ph-noise.h). */
static void
op_ph_keygen (gpointer data)
{
  guint8 priv[KEY_LEN], pub[KEY_LEN];

  RAND_priv_bytes (priv, KEY_LEN);
  ph_noise_x25519_public_key (priv, pub, NULL);
}

static void
op_ph_dh (gpointer data)
{
  Floor *f = data;
  guint8 priv[KEY_LEN] = { 9 }, shared[KEY_LEN];

  ph_noise_x25519 (priv, f->remote_e, shared, NULL);
}

static void
op_ph_hkdf (gpointer data)
{
  guint8 ck[KEY_LEN] = { 1 }, ikm[KEY_LEN] = { 2 }, out[64];

  ph_noise_hkdf_sha256 (ck, KEY_LEN, ikm, KEY_LEN, NULL, 0, out, sizeof out, NULL);
}

static void
op_ph_aead (gpointer data)
{
  guint8 key[KEY_LEN] = { 3 }, ad[KEY_LEN] = { 4 }, nonce[12] = { 0 }, in[PAYLOAD_LEN] = { 0 };
  guint8 out[PAYLOAD_LEN + TAG_LEN];

  ph_noise_chachapoly_encrypt (key, nonce, ad, KEY_LEN, in, PAYLOAD_LEN, out, NULL);
}

typedef struct
{
  PhPrivateKey *a;
  PhPrivateKey *b;
} Pair;

static void
op_ph_sign (gpointer data)
{
  Pair *pair = data;
  guint8 message[56] = { 0 };

  g_bytes_unref (ph_private_key_sign (pair->a, message, sizeof message, NULL));
}

/* Both sides of a whole XX handshake in memory, payloads and peer IDs included. */
static void
op_ph_xx (gpointer data)
{
  Pair *pair = data;
  g_autoptr (PhNoiseHandshake) initiator = ph_noise_handshake_new (TRUE, pair->a, NULL);
  g_autoptr (PhNoiseHandshake) responder = ph_noise_handshake_new (FALSE, pair->b, NULL);
  g_autoptr (GByteArray) message = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  PhNoiseHandshake *from = initiator, *to = responder, *swap;

  while (!ph_noise_handshake_is_complete (initiator) || !ph_noise_handshake_is_complete (responder))
    {
      g_byte_array_set_size (message, 0);
      if (!ph_noise_handshake_write_message (from, message, &error)
          || !ph_noise_handshake_read_message (to, message->data, message->len, &error))
        {
          g_printerr ("ph-bench-crypto: in-memory XX: %s\n", error->message);
          exit (1);
        }
      swap = from, from = to, to = swap;
    }
}

static void
row (const char *what, double us, double times)
{
  printf ("  %-44s %8.2f µs x %g = %8.2f µs\n", what, us, times, us * times);
}

int
main (int argc, char **argv)
{
  gdouble seconds = 1;
  GOptionEntry entries[] = {
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "Seconds per measurement (1)", "S" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- crypto floor of a handshake");
  g_autoptr (GError) error = NULL;
  Floor f;
  Pair pair;
  double floor_us, keygen, dhv, sign, verify, kdf, enc, sum;
  double ph_keygen, ph_dh, ph_kdf, ph_enc, ph_sign, ph_xx, ph_sum;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || seconds <= 0)
    {
      g_printerr ("ph-bench-crypto: %s\n", error ? error->message : "bad --seconds");
      return 2;
    }

  floor_init (&f);
  pair.a = ph_private_key_generate_ed25519 (NULL);
  pair.b = ph_private_key_generate_ed25519 (NULL);

  printf ("%s, one thread\n", OpenSSL_version (OPENSSL_VERSION));
  printf ("Floor: the responder's crypto for one XX handshake, done the cheap way\n");
  keygen = time_op (op_keygen, &f, seconds);
  dhv = time_op (op_dh, &f, seconds);
  sign = time_op (op_sign, &f, seconds);
  verify = time_op (op_verify, &f, seconds);
  kdf = time_op (op_hkdf, &f, seconds);
  enc = time_op (op_aead, &f, seconds);
  row ("X25519 keygen (e)", keygen, 1);
  row ("X25519 DH (ee, es, se), remote key parsed", dhv, 3);
  row ("Ed25519 sign (our static key)", sign, 1);
  row ("Ed25519 verify (theirs), key parsed", verify, 1);
  row ("HKDF-SHA256, 64 bytes (3 MixKey + Split)", kdf, 4);
  row ("ChaCha20-Poly1305, <= 104 bytes", enc, 4);
  sum = keygen + 3 * dhv + sign + verify + 4 * kdf + 4 * enc;
  floor_us = time_op (op_floor, &f, seconds * 2);
  printf ("  sum of the parts %.1f µs; measured as one loop (with SHA-256 MixHash x8): %.1f µs\n",
          sum, floor_us);

  printf ("As src/p2p does it (ph-noise.h primitives)\n");
  ph_keygen = time_op (op_ph_keygen, NULL, seconds);
  ph_dh = time_op (op_ph_dh, &f, seconds);
  ph_sign = time_op (op_ph_sign, &pair, seconds);
  ph_kdf = time_op (op_ph_hkdf, NULL, seconds);
  ph_enc = time_op (op_ph_aead, NULL, seconds);
  row ("ph_noise_x25519_public_key (e and s: x2)", ph_keygen, 2);
  row ("ph_noise_x25519", ph_dh, 3);
  row ("ph_private_key_sign", ph_sign, 1);
  row ("ph_noise_hkdf_sha256 (fetches HKDF per call)", ph_kdf, 4);
  row ("ph_noise_chachapoly_encrypt (new ctx per call)", ph_enc, 4);
  ph_sum = 2 * ph_keygen + 3 * ph_dh + ph_sign + verify + 4 * ph_kdf + 4 * ph_enc;
  printf ("  sum (verify as in the floor): %.1f µs\n", ph_sum);
  ph_xx = time_op (op_ph_xx, &pair, seconds * 2);
  printf ("  whole XX in memory, both sides: %.1f µs, so about %.1f µs a side\n", ph_xx, ph_xx / 2);

  printf ("RESULT floor_us=%.2f floor_max_per_s=%.0f ph_side_us=%.2f ph_side_max_per_s=%.0f\n",
          floor_us, 1e6 / floor_us, ph_xx / 2, 2e6 / ph_xx);

  ph_private_key_unref (pair.a);
  ph_private_key_unref (pair.b);
  floor_clear (&f);
  return 0;
}
