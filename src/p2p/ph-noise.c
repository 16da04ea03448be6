/* ph-noise.c: Noise_XX_25519_ChaChaPoly_SHA256 for libp2p
 *
 * Section numbers ("Noise §5.2") are those of the Noise Protocol Framework, revision 34;
 * "noise-libp2p" is libp2p/specs noise/README.md.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "noise.pb-c.h"
#include "ph-noise-private.h"
#include "ph-noise.h"
#include "ph-p2p-error.h"

/* noise-libp2p §The libp2p Handshake Payload */
#define SIGNATURE_PREFIX "noise-libp2p-static-key:"
#define SIGNATURE_PREFIX_LEN (sizeof SIGNATURE_PREFIX - 1)

/* Generous caps on a peer's payload fields: an 8192-bit RSA key (go-libp2p's limit) marshals to
 * about 1.1 kB and signs with 1 kB. */
#define MAX_IDENTITY_KEY_LEN 4096
#define MAX_IDENTITY_SIG_LEN 2048

#define FRAME_HEADER_LEN 2

static gboolean
crypto_error (GError **error, const char *what)
{
  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CRYPTO, "libcrypto failed: %s", what);
  return FALSE;
}

/* --- Primitives ------------------------------------------------------------------------------ */

gboolean
ph_noise_x25519_public_key (const guint8 private_key[PH_NOISE_KEY_LEN],
                            guint8 public_key_out[PH_NOISE_KEY_LEN], GError **error)
{
  EVP_PKEY *pkey;
  size_t len = PH_NOISE_KEY_LEN;
  gboolean ok;

  g_return_val_if_fail (private_key != NULL && public_key_out != NULL, FALSE);

  pkey = EVP_PKEY_new_raw_private_key (EVP_PKEY_X25519, NULL, private_key, PH_NOISE_KEY_LEN);
  if (pkey == NULL)
    return crypto_error (error, "X25519 private key");
  ok = EVP_PKEY_get_raw_public_key (pkey, public_key_out, &len) == 1 && len == PH_NOISE_KEY_LEN;
  EVP_PKEY_free (pkey);
  if (!ok)
    return crypto_error (error, "X25519 public key");
  return TRUE;
}

/* DH with our key already in libcrypto's form (NULL: fails). */
static gboolean
x25519_derive (EVP_PKEY *ours, const guint8 public_key[PH_NOISE_KEY_LEN],
               guint8 shared_out[PH_NOISE_KEY_LEN], GError **error)
{
  EVP_PKEY *theirs;
  EVP_PKEY_CTX *ctx = NULL;
  size_t len = PH_NOISE_KEY_LEN;
  gboolean ok;

  theirs = EVP_PKEY_new_raw_public_key (EVP_PKEY_X25519, NULL, public_key, PH_NOISE_KEY_LEN);
  if (ours != NULL && theirs != NULL)
    ctx = EVP_PKEY_CTX_new (ours, NULL);
  /* libcrypto refuses an all-zero shared secret (a low-order point), as Noise §12.1 allows. */
  ok = ctx != NULL && EVP_PKEY_derive_init (ctx) == 1 && EVP_PKEY_derive_set_peer (ctx, theirs) == 1
       && EVP_PKEY_derive (ctx, shared_out, &len) == 1 && len == PH_NOISE_KEY_LEN;
  EVP_PKEY_CTX_free (ctx);
  EVP_PKEY_free (theirs);
  if (!ok)
    {
      OPENSSL_cleanse (shared_out, PH_NOISE_KEY_LEN);
      return crypto_error (error, "X25519 (invalid public key?)");
    }
  return TRUE;
}

gboolean
ph_noise_x25519 (const guint8 private_key[PH_NOISE_KEY_LEN],
                 const guint8 public_key[PH_NOISE_KEY_LEN], guint8 shared_out[PH_NOISE_KEY_LEN],
                 GError **error)
{
  EVP_PKEY *ours;
  gboolean ok;

  g_return_val_if_fail (private_key != NULL && public_key != NULL && shared_out != NULL, FALSE);

  /* A raw private key costs a second scalar multiplication here (libcrypto derives the public key
   * from it); the handshake keeps its keys as EVP_PKEY and skips that. */
  ours = EVP_PKEY_new_raw_private_key (EVP_PKEY_X25519, NULL, private_key, PH_NOISE_KEY_LEN);
  ok = x25519_derive (ours, public_key, shared_out, error);
  EVP_PKEY_free (ours);
  return ok;
}

/* Algorithms fetched once for the process (OpenSSL 3 looks them up by name at every implicit
 * fetch); never freed, like the cipher below. */
static EVP_KDF *
hkdf (void)
{
  static EVP_KDF *kdf;

  if (g_once_init_enter (&kdf))
    g_once_init_leave (&kdf, EVP_KDF_fetch (NULL, "HKDF", NULL));
  return kdf;
}

static const EVP_MD *
sha256 (void)
{
  static EVP_MD *md;

  if (g_once_init_enter (&md))
    g_once_init_leave (&md, EVP_MD_fetch (NULL, "SHA256", NULL));
  return md;
}

gboolean
ph_noise_hkdf_sha256 (const guint8 *salt, gsize salt_len, const guint8 *ikm, gsize ikm_len,
                      const guint8 *info, gsize info_len, guint8 *out, gsize out_len,
                      GError **error)
{
  static const guint8 empty[1] = { 0 };
  EVP_KDF *kdf;
  EVP_KDF_CTX *ctx;
  OSSL_PARAM params[5];
  gsize n = 0;
  gboolean ok;

  g_return_val_if_fail (salt != NULL || salt_len == 0, FALSE);
  g_return_val_if_fail (ikm != NULL || ikm_len == 0, FALSE);
  g_return_val_if_fail (info != NULL || info_len == 0, FALSE);
  g_return_val_if_fail (out != NULL && out_len > 0, FALSE);

  /* An absent salt is HashLen zeros (RFC 5869 §2.2), which HMAC treats like an empty key. The
   * key is always set, even empty: Noise's Split() runs HKDF over a zero-length input. */
  params[n++] = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
  params[n++] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY,
                                                   (void *) (ikm_len ? ikm : empty), ikm_len);
  if (salt_len > 0)
    params[n++] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SALT, (void *) salt, salt_len);
  if (info_len > 0)
    params[n++] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_INFO, (void *) info, info_len);
  params[n] = OSSL_PARAM_construct_end ();

  kdf = hkdf ();
  ctx = kdf ? EVP_KDF_CTX_new (kdf) : NULL;
  ok = ctx != NULL && EVP_KDF_derive (ctx, out, out_len, params) == 1;
  EVP_KDF_CTX_free (ctx);
  if (!ok)
    {
      OPENSSL_cleanse (out, out_len);
      return crypto_error (error, "HKDF-SHA256");
    }
  return TRUE;
}

static const EVP_CIPHER *
chachapoly (void)
{
  static EVP_CIPHER *cipher;

  if (g_once_init_enter (&cipher))
    g_once_init_leave (&cipher, EVP_CIPHER_fetch (NULL, "ChaCha20-Poly1305", NULL));
  return cipher;
}

static gboolean
chachapoly_crypt (gboolean encrypt, const guint8 *key, const guint8 *nonce, const guint8 *ad,
                  gsize ad_len, const guint8 *in, gsize len, guint8 *out, guint8 *tag)
{
  EVP_CIPHER_CTX *ctx;
  int n;
  gboolean ok;

  if (chachapoly () == NULL || len > G_MAXINT || ad_len > G_MAXINT)
    return FALSE;
  ctx = EVP_CIPHER_CTX_new ();
  ok = ctx != NULL && EVP_CipherInit_ex2 (ctx, chachapoly (), key, nonce, encrypt, NULL) == 1;
  if (ok && !encrypt)
    ok = EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_SET_TAG, PH_NOISE_TAG_LEN, tag) == 1;
  if (ok && ad_len > 0)
    ok = EVP_CipherUpdate (ctx, NULL, &n, ad, (int) ad_len) == 1;
  if (ok && len > 0)
    ok = EVP_CipherUpdate (ctx, out, &n, in, (int) len) == 1 && (gsize) n == len;
  /* For decryption, Final is where the tag is checked. */
  if (ok)
    ok = EVP_CipherFinal_ex (ctx, out + len, &n) == 1 && n == 0;
  if (ok && encrypt)
    ok = EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_GET_TAG, PH_NOISE_TAG_LEN, tag) == 1;
  EVP_CIPHER_CTX_free (ctx);
  return ok;
}

gboolean
ph_noise_chachapoly_encrypt (const guint8 key[PH_NOISE_KEY_LEN],
                             const guint8 nonce[PH_NOISE_NONCE_LEN], const guint8 *ad, gsize ad_len,
                             const guint8 *plaintext, gsize len, guint8 *out, GError **error)
{
  g_return_val_if_fail (key != NULL && nonce != NULL && out != NULL, FALSE);
  g_return_val_if_fail (ad != NULL || ad_len == 0, FALSE);
  g_return_val_if_fail (plaintext != NULL || len == 0, FALSE);

  if (!chachapoly_crypt (TRUE, key, nonce, ad, ad_len, plaintext, len, out, out + len))
    return crypto_error (error, "ChaCha20-Poly1305 encryption");
  return TRUE;
}

gboolean
ph_noise_chachapoly_decrypt (const guint8 key[PH_NOISE_KEY_LEN],
                             const guint8 nonce[PH_NOISE_NONCE_LEN], const guint8 *ad, gsize ad_len,
                             const guint8 *ciphertext, gsize len, guint8 *out, GError **error)
{
  guint8 tag[PH_NOISE_TAG_LEN];

  g_return_val_if_fail (key != NULL && nonce != NULL && out != NULL, FALSE);
  g_return_val_if_fail (ad != NULL || ad_len == 0, FALSE);
  g_return_val_if_fail (ciphertext != NULL || len == 0, FALSE);

  if (len < PH_NOISE_TAG_LEN)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                   "Ciphertext of %" G_GSIZE_FORMAT " bytes is shorter than its tag", len);
      return FALSE;
    }
  len -= PH_NOISE_TAG_LEN;
  /* Copied first: out may overlap the tag when decrypting in place. */
  memcpy (tag, ciphertext + len, PH_NOISE_TAG_LEN);
  if (!chachapoly_crypt (FALSE, key, nonce, ad, ad_len, ciphertext, len, out, tag))
    {
      OPENSSL_cleanse (out, len);
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                           "Noise message failed authentication");
      return FALSE;
    }
  return TRUE;
}

/* --- CipherState ----------------------------------------------------------------------------- */

struct _PhNoiseCipherState
{
  guint8 key[PH_NOISE_KEY_LEN];
  guint64 n;
  gboolean has_key;
};

static void
cipher_state_init (PhNoiseCipherState *self, const guint8 *key)
{
  memcpy (self->key, key, PH_NOISE_KEY_LEN);
  self->n = 0;
  self->has_key = TRUE;
}

PhNoiseCipherState *
ph_noise_cipher_state_new (const guint8 key[PH_NOISE_KEY_LEN])
{
  PhNoiseCipherState *self;

  g_return_val_if_fail (key != NULL, NULL);

  self = g_new0 (PhNoiseCipherState, 1);
  cipher_state_init (self, key);
  return self;
}

/* Noise §5.1 and §12.3 (ChaChaPoly): 4 zero bytes, then n as 64-bit little-endian. */
static void
cipher_state_nonce (PhNoiseCipherState *self, guint8 nonce[PH_NOISE_NONCE_LEN])
{
  guint64 le = GUINT64_TO_LE (self->n);

  memset (nonce, 0, 4);
  memcpy (nonce + 4, &le, sizeof le);
}

gboolean
ph_noise_cipher_state_encrypt (PhNoiseCipherState *self, const guint8 *ad, gsize ad_len,
                               const guint8 *plaintext, gsize len, guint8 *out, GError **error)
{
  guint8 nonce[PH_NOISE_NONCE_LEN];

  g_return_val_if_fail (self != NULL && self->has_key && out != NULL, FALSE);

  if (len > PH_NOISE_MAX_PLAINTEXT_LEN)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "Noise plaintext of %" G_GSIZE_FORMAT " bytes exceeds %d", len,
                   PH_NOISE_MAX_PLAINTEXT_LEN);
      return FALSE;
    }
  if (self->n == G_MAXUINT64)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT,
                           "Noise nonces exhausted; the channel must be closed");
      return FALSE;
    }
  cipher_state_nonce (self, nonce);
  if (!ph_noise_chachapoly_encrypt (self->key, nonce, ad, ad_len, plaintext, len, out, error))
    return FALSE;
  self->n++;
  return TRUE;
}

gboolean
ph_noise_cipher_state_decrypt (PhNoiseCipherState *self, const guint8 *ad, gsize ad_len,
                               const guint8 *ciphertext, gsize len, guint8 *out, GError **error)
{
  guint8 nonce[PH_NOISE_NONCE_LEN];

  g_return_val_if_fail (self != NULL && self->has_key && out != NULL, FALSE);

  if (len > PH_NOISE_MAX_MESSAGE_LEN)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "Noise ciphertext of %" G_GSIZE_FORMAT " bytes exceeds %d", len,
                   PH_NOISE_MAX_MESSAGE_LEN);
      return FALSE;
    }
  if (self->n == G_MAXUINT64)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT,
                           "Noise nonces exhausted; the channel must be closed");
      return FALSE;
    }
  cipher_state_nonce (self, nonce);
  if (!ph_noise_chachapoly_decrypt (self->key, nonce, ad, ad_len, ciphertext, len, out, error))
    return FALSE;
  self->n++;
  return TRUE;
}

guint64
ph_noise_cipher_state_get_nonce (PhNoiseCipherState *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n;
}

void
ph_noise_cipher_state_set_nonce (PhNoiseCipherState *self, guint64 nonce)
{
  g_return_if_fail (self != NULL);

  self->n = nonce;
}

void
ph_noise_cipher_state_free (PhNoiseCipherState *self)
{
  if (self == NULL)
    return;
  OPENSSL_cleanse (self, sizeof *self);
  g_free (self);
}

/* --- Payload --------------------------------------------------------------------------------- */

static void
signed_message (const guint8 static_public[PH_NOISE_KEY_LEN],
                guint8 out[SIGNATURE_PREFIX_LEN + PH_NOISE_KEY_LEN])
{
  memcpy (out, SIGNATURE_PREFIX, SIGNATURE_PREFIX_LEN);
  memcpy (out + SIGNATURE_PREFIX_LEN, static_public, PH_NOISE_KEY_LEN);
}

/* What a payload carries besides its extensions: our marshalled identity key and its signature
 * over the static key. Made once per static key (see the static key cache below). */
typedef struct
{
  GBytes *key;
  GBytes *sig;
} PayloadParts;

static void
payload_parts_clear (PayloadParts *parts)
{
  g_clear_pointer (&parts->key, g_bytes_unref);
  g_clear_pointer (&parts->sig, g_bytes_unref);
}

static gboolean
payload_parts_make (PhPrivateKey *identity, const guint8 static_public[PH_NOISE_KEY_LEN],
                    PayloadParts *parts, GError **error)
{
  guint8 message[SIGNATURE_PREFIX_LEN + PH_NOISE_KEY_LEN];

  signed_message (static_public, message);
  parts->sig = ph_private_key_sign (identity, message, sizeof message, error);
  if (parts->sig == NULL)
    return FALSE;
  parts->key = ph_public_key_marshal (ph_private_key_get_public_key (identity));
  if (parts->key == NULL)
    {
      g_clear_pointer (&parts->sig, g_bytes_unref);
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                           "Cannot marshal our identity key");
      return FALSE;
    }
  return TRUE;
}

/* NoiseHandshakePayload{identity_key, identity_sig, extensions{stream_muxers}}; no extensions
 * when muxers is NULL or empty. */
static GBytes *
payload_pack (const PayloadParts *parts, const char *const *muxers)
{
  Ph__Noise__NoiseHandshakePayload payload = PH__NOISE__NOISE_HANDSHAKE_PAYLOAD__INIT;
  Ph__Noise__NoiseExtensions extensions = PH__NOISE__NOISE_EXTENSIONS__INIT;
  gsize len;
  guint8 *buffer;

  payload.has_identity_key = TRUE;
  payload.identity_key.data = (guint8 *) g_bytes_get_data (parts->key, &payload.identity_key.len);
  payload.has_identity_sig = TRUE;
  payload.identity_sig.data = (guint8 *) g_bytes_get_data (parts->sig, &payload.identity_sig.len);
  if (muxers != NULL && muxers[0] != NULL)
    {
      /* libp2p/specs connections/inlined-muxer-negotiation.md: the muxers we speak, preferred
       * first, in messages 2 and 3 only. */
      extensions.n_stream_muxers = g_strv_length ((char **) muxers);
      extensions.stream_muxers = (char **) muxers;
      payload.extensions = &extensions;
    }

  len = ph__noise__noise_handshake_payload__get_packed_size (&payload);
  buffer = g_malloc (len ? len : 1);
  ph__noise__noise_handshake_payload__pack (&payload, buffer);
  return g_bytes_new_take (buffer, len);
}

GBytes *
ph_noise_payload_encode (PhPrivateKey *identity, const guint8 static_public[PH_NOISE_KEY_LEN],
                         GError **error)
{
  PayloadParts parts = { NULL, NULL };
  GBytes *payload;

  g_return_val_if_fail (identity != NULL && static_public != NULL, NULL);

  if (!payload_parts_make (identity, static_public, &parts, error))
    return NULL;
  payload = payload_pack (&parts, NULL);
  payload_parts_clear (&parts);
  return payload;
}

/* The muxers a peer listed, as go-libp2p takes them (noise/transport.go
 * transportEarlyDataHandler.Received): a list of more than this many counts as none, so that both
 * sides agree on the result. */
#define MAX_REMOTE_MUXERS 100

static PhPublicKey *
payload_verify (const guint8 *data, gsize len, const guint8 remote_static[PH_NOISE_KEY_LEN],
                GStrv *muxers_out, GError **error)
{
  Ph__Noise__NoiseHandshakePayload *payload;
  guint8 message[SIGNATURE_PREFIX_LEN + PH_NOISE_KEY_LEN];
  GError *local_error = NULL;
  PhPublicKey *key = NULL;

  /* It travels in one Noise message, so nothing larger is legitimate. */
  if (len > PH_NOISE_MAX_PLAINTEXT_LEN)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "Noise handshake payload of %" G_GSIZE_FORMAT " bytes is too large", len);
      return NULL;
    }
  payload = ph__noise__noise_handshake_payload__unpack (NULL, len, data);
  if (payload == NULL)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "Noise handshake payload does not parse");
      return NULL;
    }

  if (!payload->has_identity_key || payload->identity_key.len == 0 || !payload->has_identity_sig
      || payload->identity_sig.len == 0)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "Noise handshake payload lacks the identity key or signature");
      goto out;
    }
  if (payload->identity_key.len > MAX_IDENTITY_KEY_LEN
      || payload->identity_sig.len > MAX_IDENTITY_SIG_LEN)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                           "Noise handshake identity key or signature is too large");
      goto out;
    }

  key = ph_public_key_unmarshal (payload->identity_key.data, payload->identity_key.len, error);
  if (key == NULL)
    {
      g_prefix_error (error, "Noise handshake identity key: ");
      goto out;
    }

  signed_message (remote_static, message);
  if (!ph_public_key_verify (key, message, sizeof message, payload->identity_sig.data,
                             payload->identity_sig.len, &local_error))
    {
      /* Whatever the key code says about why, to us it is a static key nobody vouched for. */
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_BAD_SIGNATURE,
                   "Noise static key signature does not verify%s%s", local_error ? ": " : "",
                   local_error ? local_error->message : "");
      g_clear_error (&local_error);
      g_clear_pointer (&key, ph_public_key_unref);
      goto out;
    }

  if (muxers_out != NULL && payload->extensions != NULL && payload->extensions->n_stream_muxers > 0
      && payload->extensions->n_stream_muxers <= MAX_REMOTE_MUXERS)
    {
      Ph__Noise__NoiseExtensions *extensions = payload->extensions;

      *muxers_out = g_new0 (char *, extensions->n_stream_muxers + 1);
      for (gsize i = 0; i < extensions->n_stream_muxers; i++)
        (*muxers_out)[i] = g_strdup (extensions->stream_muxers[i]);
    }

out:
  ph__noise__noise_handshake_payload__free_unpacked (payload, NULL);
  return key;
}

PhPublicKey *
ph_noise_payload_verify (const guint8 *data, gsize len,
                         const guint8 remote_static[PH_NOISE_KEY_LEN], GError **error)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (remote_static != NULL, NULL);

  return payload_verify (data, len, remote_static, NULL, error);
}

/* --- HandshakeState -------------------------------------------------------------------------- */

struct _PhNoiseHandshake
{
  gboolean initiator;
  gboolean raw; /* test mode: no identity, opaque payloads */
  guint step;   /* messages done: 0..3 */
  gboolean failed;
  gboolean split_done;

  PhPrivateKey *identity;
  PhPeerId *expected_remote;
  GBytes *test_payload;

  /* SymmetricState (Noise §5.2) */
  guint8 h[PH_NOISE_KEY_LEN];
  guint8 ck[PH_NOISE_KEY_LEN];
  PhNoiseCipherState cipher;

  /* Noise §5.3 s, e, rs, re. Our keys stay in libcrypto's form from generation to the last DH:
   * rebuilding one from its raw bytes for each DH made libcrypto derive its public key again, a
   * second scalar multiplication (84 µs a DH instead of 40). */
  EVP_PKEY *s_key;
  guint8 s_public[PH_NOISE_KEY_LEN];
  PayloadParts s_parts; /* identity key and signature over s_public, once made or cached */
  EVP_PKEY *e_key;
  guint8 e_public[PH_NOISE_KEY_LEN];
  guint8 rs[PH_NOISE_KEY_LEN];
  guint8 re[PH_NOISE_KEY_LEN];

  PhPublicKey *remote_key;
  PhPeerId *remote_peer_id;

  /* Inlined muxer negotiation (ph-noise-private.h): what we list, what the peer listed. */
  GStrv local_muxers;
  GStrv remote_muxers;
};

static void
mix_hash (PhNoiseHandshake *self, const guint8 *data, gsize len)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  unsigned int n = 0;

  /* SHA-256 only fails on allocation failure, which GLib treats as fatal anyway. */
  if (ctx == NULL || sha256 () == NULL || EVP_DigestInit_ex (ctx, sha256 (), NULL) != 1
      || EVP_DigestUpdate (ctx, self->h, sizeof self->h) != 1
      || (len > 0 && EVP_DigestUpdate (ctx, data, len) != 1)
      || EVP_DigestFinal_ex (ctx, self->h, &n) != 1 || n != sizeof self->h)
    g_error ("SHA-256 failed");
  EVP_MD_CTX_free (ctx);
}

static void
handshake_init (PhNoiseHandshake *self, gboolean initiator, const guint8 *prologue,
                gsize prologue_len)
{
  /* Noise §5.2 InitializeSymmetric: the name is exactly HASHLEN bytes, so it is h as is. */
  G_STATIC_ASSERT (sizeof PH_NOISE_PROTOCOL_NAME - 1 == PH_NOISE_KEY_LEN);

  self->initiator = initiator;
  memcpy (self->h, PH_NOISE_PROTOCOL_NAME, PH_NOISE_KEY_LEN);
  memcpy (self->ck, self->h, PH_NOISE_KEY_LEN);
  mix_hash (self, prologue, prologue_len);
}

PhNoiseHandshake *
ph_noise_handshake_new (gboolean initiator, PhPrivateKey *identity, const PhPeerId *expected_remote)
{
  PhNoiseHandshake *self;

  g_return_val_if_fail (identity != NULL, NULL);

  self = g_new0 (PhNoiseHandshake, 1);
  /* noise-libp2p §Noise Protocol Name; the prologue is empty over TCP. */
  handshake_init (self, initiator, NULL, 0);
  self->identity = ph_private_key_ref (identity);
  if (expected_remote != NULL)
    self->expected_remote = ph_peer_id_copy (expected_remote);
  return self;
}

PhNoiseHandshake *
ph_noise_handshake_new_raw (gboolean initiator, const guint8 *prologue, gsize prologue_len)
{
  PhNoiseHandshake *self;

  g_return_val_if_fail (prologue != NULL || prologue_len == 0, NULL);

  self = g_new0 (PhNoiseHandshake, 1);
  self->raw = TRUE;
  handshake_init (self, initiator, prologue, prologue_len);
  return self;
}

void
ph_noise_handshake_free (PhNoiseHandshake *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->identity, ph_private_key_unref);
  g_clear_pointer (&self->expected_remote, ph_peer_id_free);
  g_clear_pointer (&self->test_payload, g_bytes_unref);
  g_clear_pointer (&self->remote_key, ph_public_key_unref);
  g_clear_pointer (&self->remote_peer_id, ph_peer_id_free);
  g_clear_pointer (&self->s_key, EVP_PKEY_free);
  payload_parts_clear (&self->s_parts);
  g_clear_pointer (&self->e_key, EVP_PKEY_free);
  g_clear_pointer (&self->local_muxers, g_strfreev);
  g_clear_pointer (&self->remote_muxers, g_strfreev);
  OPENSSL_cleanse (self, sizeof *self);
  g_free (self);
}

/* A new X25519 key pair: one scalar multiplication, for the public key. */
static EVP_PKEY *
generate_keypair (guint8 public_key[PH_NOISE_KEY_LEN], GError **error)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "X25519");
  size_t len = PH_NOISE_KEY_LEN;

  if (key == NULL || EVP_PKEY_get_raw_public_key (key, public_key, &len) != 1
      || len != PH_NOISE_KEY_LEN)
    {
      EVP_PKEY_free (key);
      crypto_error (error, "X25519 key generation");
      return NULL;
    }
  return key;
}

static EVP_PKEY *
keypair_from_private (const guint8 private_key[PH_NOISE_KEY_LEN],
                      guint8 public_key[PH_NOISE_KEY_LEN])
{
  EVP_PKEY *key
      = EVP_PKEY_new_raw_private_key (EVP_PKEY_X25519, NULL, private_key, PH_NOISE_KEY_LEN);
  size_t len = PH_NOISE_KEY_LEN;

  if (key != NULL
      && (EVP_PKEY_get_raw_public_key (key, public_key, &len) != 1 || len != PH_NOISE_KEY_LEN))
    g_clear_pointer (&key, EVP_PKEY_free);
  return key;
}

/* The static key cache. noise-libp2p §Static Key Authentication: "a single static keypair may be
 * generated when noise-libp2p is initialized and used for all sessions" (js-libp2p-noise keeps one
 * per node); it is never written anywhere. One per identity, with the payload that signs it, so a
 * handshake makes neither the key (one scalar multiplication) nor the signature (an Ed25519 sign,
 * or milliseconds for an RSA identity). Forward secrecy rests on the ephemeral keys (ee, and es/se
 * with a fresh e), which stay per handshake. A few identities at most are in use at once (ours,
 * the port owner's); the oldest entry gives way. */
#define STATIC_CACHE_SIZE 8

typedef struct
{
  PhPublicKey *identity;
  EVP_PKEY *key;
  guint8 public_key[PH_NOISE_KEY_LEN];
  PayloadParts parts;
} StaticEntry;

static GMutex static_cache_lock;
static StaticEntry static_cache[STATIC_CACHE_SIZE];
static guint static_cache_next;

static gboolean
static_cache_lookup (PhPublicKey *identity, EVP_PKEY **key, guint8 public_key[PH_NOISE_KEY_LEN],
                     PayloadParts *parts)
{
  gboolean found = FALSE;

  g_mutex_lock (&static_cache_lock);
  for (guint i = 0; i < STATIC_CACHE_SIZE && !found; i++)
    {
      StaticEntry *entry = &static_cache[i];

      if (entry->identity == NULL || !ph_public_key_equal (entry->identity, identity)
          || EVP_PKEY_up_ref (entry->key) != 1)
        continue;
      *key = entry->key;
      memcpy (public_key, entry->public_key, PH_NOISE_KEY_LEN);
      parts->key = g_bytes_ref (entry->parts.key);
      parts->sig = g_bytes_ref (entry->parts.sig);
      found = TRUE;
    }
  g_mutex_unlock (&static_cache_lock);
  return found;
}

static void
static_cache_insert (PhPublicKey *identity, EVP_PKEY *key,
                     const guint8 public_key[PH_NOISE_KEY_LEN], const PayloadParts *parts)
{
  StaticEntry *entry;

  if (EVP_PKEY_up_ref (key) != 1)
    return;
  g_mutex_lock (&static_cache_lock);
  /* Two handshakes may have made one at once: the one already there stays. */
  for (guint i = 0; i < STATIC_CACHE_SIZE; i++)
    if (static_cache[i].identity != NULL
        && ph_public_key_equal (static_cache[i].identity, identity))
      {
        g_mutex_unlock (&static_cache_lock);
        EVP_PKEY_free (key);
        return;
      }
  entry = &static_cache[static_cache_next];
  static_cache_next = (static_cache_next + 1) % STATIC_CACHE_SIZE;
  g_clear_pointer (&entry->identity, ph_public_key_unref);
  g_clear_pointer (&entry->key, EVP_PKEY_free);
  payload_parts_clear (&entry->parts);
  entry->identity = ph_public_key_ref (identity);
  entry->key = key;
  memcpy (entry->public_key, public_key, PH_NOISE_KEY_LEN);
  entry->parts.key = g_bytes_ref (parts->key);
  entry->parts.sig = g_bytes_ref (parts->sig);
  g_mutex_unlock (&static_cache_lock);
}

static gboolean
ensure_static (PhNoiseHandshake *self, GError **error)
{
  PhPublicKey *identity;

  if (self->s_key != NULL)
    return TRUE;
  if (self->raw)
    {
      self->s_key = generate_keypair (self->s_public, error);
      return self->s_key != NULL;
    }

  identity = ph_private_key_get_public_key (self->identity);
  if (static_cache_lookup (identity, &self->s_key, self->s_public, &self->s_parts))
    return TRUE;
  self->s_key = generate_keypair (self->s_public, error);
  if (self->s_key == NULL)
    return FALSE;
  if (!payload_parts_make (self->identity, self->s_public, &self->s_parts, error))
    {
      g_clear_pointer (&self->s_key, EVP_PKEY_free);
      return FALSE;
    }
  static_cache_insert (identity, self->s_key, self->s_public, &self->s_parts);
  return TRUE;
}

static gboolean
ensure_ephemeral (PhNoiseHandshake *self, GError **error)
{
  if (self->e_key == NULL)
    self->e_key = generate_keypair (self->e_public, error);
  return self->e_key != NULL;
}

void
ph_noise_handshake_set_test_keys (PhNoiseHandshake *self, const guint8 *static_private,
                                  const guint8 *ephemeral_private)
{
  g_return_if_fail (self != NULL && self->step == 0);

  /* A fixed static key is signed afresh, never cached. */
  if (static_private != NULL)
    {
      g_clear_pointer (&self->s_key, EVP_PKEY_free);
      payload_parts_clear (&self->s_parts);
      self->s_key = keypair_from_private (static_private, self->s_public);
    }
  if (ephemeral_private != NULL)
    {
      g_clear_pointer (&self->e_key, EVP_PKEY_free);
      self->e_key = keypair_from_private (ephemeral_private, self->e_public);
    }
}

void
ph_noise_handshake_set_test_payload (PhNoiseHandshake *self, GBytes *payload)
{
  g_return_if_fail (self != NULL && payload != NULL);

  g_clear_pointer (&self->test_payload, g_bytes_unref);
  self->test_payload = g_bytes_ref (payload);
}

gboolean
ph_noise_handshake_get_static_public_key (PhNoiseHandshake *self,
                                          guint8 public_key_out[PH_NOISE_KEY_LEN], GError **error)
{
  g_return_val_if_fail (self != NULL && public_key_out != NULL, FALSE);

  if (!ensure_static (self, error))
    return FALSE;
  memcpy (public_key_out, self->s_public, PH_NOISE_KEY_LEN);
  return TRUE;
}

/* Noise §5.2 MixKey: ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k). */
static gboolean
mix_key (PhNoiseHandshake *self, const guint8 ikm[PH_NOISE_KEY_LEN], GError **error)
{
  guint8 out[2 * PH_NOISE_KEY_LEN];

  if (!ph_noise_hkdf_sha256 (self->ck, sizeof self->ck, ikm, PH_NOISE_KEY_LEN, NULL, 0, out,
                             sizeof out, error))
    return FALSE;
  memcpy (self->ck, out, PH_NOISE_KEY_LEN);
  cipher_state_init (&self->cipher, out + PH_NOISE_KEY_LEN);
  OPENSSL_cleanse (out, sizeof out);
  return TRUE;
}

static gboolean
mix_dh (PhNoiseHandshake *self, EVP_PKEY *ours, const guint8 *public_key, GError **error)
{
  guint8 shared[PH_NOISE_KEY_LEN];
  gboolean ok;

  ok = x25519_derive (ours, public_key, shared, error) && mix_key (self, shared, error);
  OPENSSL_cleanse (shared, sizeof shared);
  return ok;
}

/* Noise §5.2 EncryptAndHash, appending to out. */
static gboolean
encrypt_and_hash (PhNoiseHandshake *self, const guint8 *plaintext, gsize len, GByteArray *out,
                  GError **error)
{
  gsize start = out->len;
  gsize clen = len + (self->cipher.has_key ? PH_NOISE_TAG_LEN : 0);

  if (len > PH_NOISE_MAX_MESSAGE_LEN || start + clen > PH_NOISE_MAX_MESSAGE_LEN)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                           "Noise handshake message would exceed 65535 bytes");
      return FALSE;
    }
  g_byte_array_set_size (out, start + clen);
  if (!self->cipher.has_key)
    {
      if (len > 0)
        memcpy (out->data + start, plaintext, len);
    }
  else if (!ph_noise_cipher_state_encrypt (&self->cipher, self->h, sizeof self->h, plaintext, len,
                                           out->data + start, error))
    {
      g_byte_array_set_size (out, start);
      return FALSE;
    }
  mix_hash (self, out->data + start, clen);
  return TRUE;
}

/* Noise §5.2 DecryptAndHash; out must hold len bytes. */
static gboolean
decrypt_and_hash (PhNoiseHandshake *self, const guint8 *ciphertext, gsize len, guint8 *out,
                  gsize *out_len, GError **error)
{
  if (!self->cipher.has_key)
    {
      if (len > 0)
        memcpy (out, ciphertext, len);
      *out_len = len;
    }
  else if (ph_noise_cipher_state_decrypt (&self->cipher, self->h, sizeof self->h, ciphertext, len,
                                          out, error))
    *out_len = len - PH_NOISE_TAG_LEN;
  else
    return FALSE;
  mix_hash (self, ciphertext, len);
  return TRUE;
}

gboolean
ph_noise_handshake_wants_write (PhNoiseHandshake *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  /* XX: the initiator writes messages 1 and 3, the responder message 2. */
  return !self->failed && self->step < 3 && (self->step % 2 == 0) == self->initiator;
}

gboolean
ph_noise_handshake_is_complete (PhNoiseHandshake *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return !self->failed && self->step == 3;
}

static gboolean
check_turn (PhNoiseHandshake *self, gboolean write, GError **error)
{
  if (self->failed)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED,
                           "The Noise handshake has already failed");
      return FALSE;
    }
  if (self->step >= 3 || ph_noise_handshake_wants_write (self) != write)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                   "Noise handshake message %u is not ours to %s", self->step + 1,
                   write ? "write" : "read");
      return FALSE;
    }
  return TRUE;
}

/* Noise §7.5 XX: "-> e", "<- e, ee, s, es", "-> s, se" */
static gboolean
write_message (PhNoiseHandshake *self, const guint8 *payload, gsize payload_len, GByteArray *out,
               GError **error)
{
  switch (self->step)
    {
      case 0:
        if (!ensure_ephemeral (self, error))
          return FALSE;
        g_byte_array_append (out, self->e_public, PH_NOISE_KEY_LEN);
        mix_hash (self, self->e_public, PH_NOISE_KEY_LEN);
        break;
      case 1:
        if (!ensure_ephemeral (self, error) || !ensure_static (self, error))
          return FALSE;
        g_byte_array_append (out, self->e_public, PH_NOISE_KEY_LEN);
        mix_hash (self, self->e_public, PH_NOISE_KEY_LEN);
        if (!mix_dh (self, self->e_key, self->re, error)
            || !encrypt_and_hash (self, self->s_public, PH_NOISE_KEY_LEN, out, error)
            || !mix_dh (self, self->s_key, self->re, error))
          return FALSE;
        break;
      case 2:
        if (!ensure_static (self, error)
            || !encrypt_and_hash (self, self->s_public, PH_NOISE_KEY_LEN, out, error)
            || !mix_dh (self, self->s_key, self->re, error))
          return FALSE;
        break;
      default:
        g_assert_not_reached ();
    }
  return encrypt_and_hash (self, payload, payload_len, out, error);
}

static gboolean
write_message_checked (PhNoiseHandshake *self, const guint8 *payload, gsize payload_len,
                       GByteArray *out, GError **error)
{
  gsize start = out->len;

  if (!check_turn (self, TRUE, error))
    return FALSE;
  if (!write_message (self, payload, payload_len, out, error))
    {
      g_byte_array_set_size (out, start);
      self->failed = TRUE;
      return FALSE;
    }
  self->step++;
  return TRUE;
}

gboolean
ph_noise_handshake_write_message_raw (PhNoiseHandshake *self, const guint8 *payload,
                                      gsize payload_len, GByteArray *out, GError **error)
{
  g_return_val_if_fail (self != NULL && self->raw && out != NULL, FALSE);
  g_return_val_if_fail (payload != NULL || payload_len == 0, FALSE);

  return write_message_checked (self, payload, payload_len, out, error);
}

gboolean
ph_noise_handshake_write_message (PhNoiseHandshake *self, GByteArray *out, GError **error)
{
  g_autoptr (GBytes) payload = NULL;
  const guint8 *data = NULL;
  gsize len = 0;

  g_return_val_if_fail (self != NULL && !self->raw && out != NULL, FALSE);

  /* noise-libp2p §XX: message 1 carries an empty payload, 2 and 3 the signed one. */
  if (self->step > 0 && !self->failed)
    {
      if (self->test_payload != NULL)
        payload = g_bytes_ref (self->test_payload);
      else if (!ensure_static (self, error)
               || (self->s_parts.sig == NULL
                   && !payload_parts_make (self->identity, self->s_public, &self->s_parts, error)))
        {
          self->failed = TRUE;
          return FALSE;
        }
      else
        payload = payload_pack (&self->s_parts, (const char *const *) self->local_muxers);
      data = g_bytes_get_data (payload, &len);
    }
  return write_message_checked (self, data, len, out, error);
}

static gboolean
too_short (GError **error, guint step, gsize len)
{
  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
               "Noise handshake message %u of %" G_GSIZE_FORMAT " bytes is too short", step + 1,
               len);
  return FALSE;
}

/* Reads one message into payload_out (which must hold len bytes). */
static gboolean
read_message (PhNoiseHandshake *self, const guint8 *data, gsize len, guint8 *payload_out,
              gsize *payload_len, GError **error)
{
  guint8 rs[PH_NOISE_KEY_LEN];
  gsize rs_len;

  switch (self->step)
    {
      case 0:
        if (len < PH_NOISE_KEY_LEN)
          return too_short (error, self->step, len);
        memcpy (self->re, data, PH_NOISE_KEY_LEN);
        mix_hash (self, self->re, PH_NOISE_KEY_LEN);
        data += PH_NOISE_KEY_LEN;
        len -= PH_NOISE_KEY_LEN;
        break;
      case 1:
        if (len < 2 * PH_NOISE_KEY_LEN + 2 * PH_NOISE_TAG_LEN)
          return too_short (error, self->step, len);
        memcpy (self->re, data, PH_NOISE_KEY_LEN);
        mix_hash (self, self->re, PH_NOISE_KEY_LEN);
        if (!mix_dh (self, self->e_key, self->re, error)
            || !decrypt_and_hash (self, data + PH_NOISE_KEY_LEN,
                                  PH_NOISE_KEY_LEN + PH_NOISE_TAG_LEN, rs, &rs_len, error))
          return FALSE;
        memcpy (self->rs, rs, PH_NOISE_KEY_LEN);
        if (!mix_dh (self, self->e_key, self->rs, error))
          return FALSE;
        data += 2 * PH_NOISE_KEY_LEN + PH_NOISE_TAG_LEN;
        len -= 2 * PH_NOISE_KEY_LEN + PH_NOISE_TAG_LEN;
        break;
      case 2:
        if (len < PH_NOISE_KEY_LEN + 2 * PH_NOISE_TAG_LEN)
          return too_short (error, self->step, len);
        if (!decrypt_and_hash (self, data, PH_NOISE_KEY_LEN + PH_NOISE_TAG_LEN, rs, &rs_len, error))
          return FALSE;
        memcpy (self->rs, rs, PH_NOISE_KEY_LEN);
        if (!mix_dh (self, self->e_key, self->rs, error))
          return FALSE;
        data += PH_NOISE_KEY_LEN + PH_NOISE_TAG_LEN;
        len -= PH_NOISE_KEY_LEN + PH_NOISE_TAG_LEN;
        break;
      default:
        g_assert_not_reached ();
    }
  return decrypt_and_hash (self, data, len, payload_out, payload_len, error);
}

static gboolean
read_message_checked (PhNoiseHandshake *self, const guint8 *data, gsize len, GByteArray *payload,
                      GError **error)
{
  gsize start = payload->len;
  gsize payload_len = 0;

  if (!check_turn (self, FALSE, error))
    return FALSE;
  if (len > PH_NOISE_MAX_MESSAGE_LEN)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "Noise handshake message of %" G_GSIZE_FORMAT " bytes exceeds 65535", len);
      self->failed = TRUE;
      return FALSE;
    }
  g_byte_array_set_size (payload, start + len);
  if (!read_message (self, data, len, payload->data + start, &payload_len, error))
    {
      g_byte_array_set_size (payload, start);
      self->failed = TRUE;
      return FALSE;
    }
  g_byte_array_set_size (payload, start + payload_len);
  self->step++;
  return TRUE;
}

gboolean
ph_noise_handshake_read_message_raw (PhNoiseHandshake *self, const guint8 *data, gsize len,
                                     GByteArray *payload_out, GError **error)
{
  g_return_val_if_fail (self != NULL && self->raw && payload_out != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  return read_message_checked (self, data, len, payload_out, error);
}

static gboolean
accept_remote (PhNoiseHandshake *self, const guint8 *payload, gsize len, GError **error)
{
  PhPublicKey *key;
  PhPeerId *id;

  g_clear_pointer (&self->remote_muxers, g_strfreev);
  key = payload_verify (payload, len, self->rs, &self->remote_muxers, error);
  if (key == NULL)
    return FALSE;
  id = ph_peer_id_from_public_key (key);
  if (id == NULL)
    {
      ph_public_key_unref (key);
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                           "Cannot derive a peer ID from the remote's identity key");
      return FALSE;
    }
  /* noise-libp2p §SecureOutbound: the dialer knows whom it dials. */
  if (self->expected_remote != NULL && !ph_peer_id_equal (id, self->expected_remote))
    {
      g_autofree char *want = ph_peer_id_to_string (self->expected_remote);
      g_autofree char *got = ph_peer_id_to_string (id);

      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PEER_MISMATCH,
                   "Expected peer %s but the remote is %s", want, got);
      ph_public_key_unref (key);
      ph_peer_id_free (id);
      return FALSE;
    }
  self->remote_key = key;
  self->remote_peer_id = id;
  return TRUE;
}

gboolean
ph_noise_handshake_read_message (PhNoiseHandshake *self, const guint8 *data, gsize len,
                                 GError **error)
{
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  guint step;

  g_return_val_if_fail (self != NULL && !self->raw, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  step = self->step;
  if (!read_message_checked (self, data, len, payload, error))
    return FALSE;
  /* Message 1's payload is unauthenticated and unused; go sends it empty. */
  if (step > 0 && !accept_remote (self, payload->data, payload->len, error))
    {
      self->failed = TRUE;
      return FALSE;
    }
  return TRUE;
}

PhPublicKey *
ph_noise_handshake_get_remote_public_key (PhNoiseHandshake *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->failed ? NULL : self->remote_key;
}

const PhPeerId *
ph_noise_handshake_get_remote_peer_id (PhNoiseHandshake *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->failed ? NULL : self->remote_peer_id;
}

const guint8 *
ph_noise_handshake_get_handshake_hash (PhNoiseHandshake *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return ph_noise_handshake_is_complete (self) ? self->h : NULL;
}

gboolean
ph_noise_handshake_split (PhNoiseHandshake *self, PhNoiseCipherState **send_out,
                          PhNoiseCipherState **recv_out, GError **error)
{
  guint8 keys[2 * PH_NOISE_KEY_LEN];
  const guint8 *k1 = keys;
  const guint8 *k2 = keys + PH_NOISE_KEY_LEN;

  g_return_val_if_fail (self != NULL && send_out != NULL && recv_out != NULL, FALSE);

  if (!ph_noise_handshake_is_complete (self) || self->split_done)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                           "The Noise handshake is not complete, or was already split");
      return FALSE;
    }
  /* Noise §5.2 Split: k1 protects initiator → responder, k2 the other way. */
  if (!ph_noise_hkdf_sha256 (self->ck, sizeof self->ck, NULL, 0, NULL, 0, keys, sizeof keys, error))
    return FALSE;
  *send_out = ph_noise_cipher_state_new (self->initiator ? k1 : k2);
  *recv_out = ph_noise_cipher_state_new (self->initiator ? k2 : k1);
  OPENSSL_cleanse (keys, sizeof keys);
  /* The handshake keys are of no further use; one split avoids two users of one nonce space. */
  OPENSSL_cleanse (self->ck, sizeof self->ck);
  OPENSSL_cleanse (&self->cipher, sizeof self->cipher);
  /* The static key may live on in the cache; this handshake lets go of its reference. */
  g_clear_pointer (&self->s_key, EVP_PKEY_free);
  g_clear_pointer (&self->e_key, EVP_PKEY_free);
  self->split_done = TRUE;
  return TRUE;
}

/* --- The secure duplex ----------------------------------------------------------------------- */

typedef struct
{
  PhDuplex parent;
  PhDuplex *inner;
  gint broken; /* atomic: a frame failed to decrypt; refuse everything */

  GMutex read_mutex;
  PhNoiseCipherState *recv;
  GError *read_error; /* sticky */
  gboolean read_eof;
  gsize frame_have; /* bytes of the current frame (header included) read so far */
  guint8 frame[FRAME_HEADER_LEN + PH_NOISE_MAX_MESSAGE_LEN];
  gsize plain_pos;
  gsize plain_len;
  guint8 plain[PH_NOISE_MAX_PLAINTEXT_LEN];

  GMutex write_mutex;
  PhNoiseCipherState *send;
  GError *write_error; /* sticky */
  guint8 out[FRAME_HEADER_LEN + PH_NOISE_MAX_MESSAGE_LEN];
} PhNoiseDuplex;

static const PhDuplexVTable noise_duplex_vtable;

static gboolean
noise_duplex_closed (PhNoiseDuplex *self, GError **error)
{
  if (!g_atomic_int_get (&self->broken))
    return FALSE;
  g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED,
                       "The Noise channel was closed after a corrupt frame");
  return TRUE;
}

static gssize
noise_duplex_fail_read (PhNoiseDuplex *self, GError *error_take, GError **error)
{
  g_atomic_int_set (&self->broken, 1);
  self->read_error = error_take;
  g_propagate_error (error, g_error_copy (error_take));
  return -1;
}

/* Reads and decrypts frames until one has plaintext, resuming a frame that a deadline cut. */
static gssize
noise_duplex_fill (PhNoiseDuplex *self, gint64 deadline, GCancellable *cancellable, GError **error)
{
  GError *local_error = NULL;

  while (self->plain_pos == self->plain_len)
    {
      gsize need = FRAME_HEADER_LEN;
      gsize frame_len = 0;

      if (self->frame_have >= FRAME_HEADER_LEN)
        {
          frame_len = ((gsize) self->frame[0] << 8) | self->frame[1];
          need += frame_len;
          if (frame_len < PH_NOISE_TAG_LEN)
            return noise_duplex_fail_read (self,
                                           g_error_new (PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                                                        "Noise frame of %" G_GSIZE_FORMAT
                                                        " bytes is shorter than its tag",
                                                        frame_len),
                                           error);
        }
      if (self->frame_have < need)
        {
          gssize n = ph_duplex_read (self->inner, self->frame + self->frame_have,
                                     need - self->frame_have, deadline, cancellable, error);
          if (n < 0)
            return -1;
          if (n == 0 && self->frame_have == 0)
            {
              self->read_eof = TRUE;
              return 0;
            }
          if (n == 0)
            return noise_duplex_fail_read (
                self,
                g_error_new_literal (PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                                     "The connection closed in the middle of a Noise frame"),
                error);
          self->frame_have += n;
          continue;
        }

      if (!ph_noise_cipher_state_decrypt (self->recv, NULL, 0, self->frame + FRAME_HEADER_LEN,
                                          frame_len, self->plain, &local_error))
        {
          g_prefix_error (&local_error, "Noise transport: ");
          return noise_duplex_fail_read (self, local_error, error);
        }
      self->frame_have = 0;
      self->plain_pos = 0;
      /* An empty frame is legal; it is not the end of the stream. */
      self->plain_len = frame_len - PH_NOISE_TAG_LEN;
    }
  return 1;
}

static gssize
noise_duplex_read_locked (PhNoiseDuplex *self, guint8 *buffer, gsize len, gint64 deadline,
                          GCancellable *cancellable, GError **error)
{
  gsize n;

  if (self->read_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->read_error));
      return -1;
    }
  if (len == 0)
    return 0;
  if (self->plain_pos == self->plain_len)
    {
      if (self->read_eof)
        return 0;
      if (noise_duplex_closed (self, error))
        return -1;
      gssize filled = noise_duplex_fill (self, deadline, cancellable, error);
      if (filled <= 0)
        return filled;
    }
  n = MIN (len, self->plain_len - self->plain_pos);
  memcpy (buffer, self->plain + self->plain_pos, n);
  self->plain_pos += n;
  if (self->plain_pos == self->plain_len)
    OPENSSL_cleanse (self->plain, self->plain_len);
  return n;
}

static gssize
noise_duplex_read (PhDuplex *duplex, guint8 *buffer, gsize len, gint64 deadline,
                   GCancellable *cancellable, GError **error)
{
  PhNoiseDuplex *self = (PhNoiseDuplex *) duplex;
  gssize n;

  g_mutex_lock (&self->read_mutex);
  n = noise_duplex_read_locked (self, buffer, len, deadline, cancellable, error);
  g_mutex_unlock (&self->read_mutex);
  return n;
}

static gboolean
noise_duplex_check_write (PhNoiseDuplex *self, GError **error)
{
  if (self->write_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->write_error));
      return FALSE;
    }
  return !noise_duplex_closed (self, error);
}

static gboolean
noise_duplex_write_locked (PhNoiseDuplex *self, const guint8 *data, gsize len, gint64 deadline,
                           GCancellable *cancellable, GError **error)
{
  GError *local_error = NULL;

  if (!noise_duplex_check_write (self, error))
    return FALSE;
  while (len > 0)
    {
      gsize chunk = MIN (len, PH_NOISE_MAX_PLAINTEXT_LEN);
      gsize frame_len = chunk + PH_NOISE_TAG_LEN;

      self->out[0] = frame_len >> 8;
      self->out[1] = frame_len & 0xff;
      if (!ph_noise_cipher_state_encrypt (self->send, NULL, 0, data, chunk,
                                          self->out + FRAME_HEADER_LEN, &local_error)
          || !ph_duplex_write (self->inner, self->out, FRAME_HEADER_LEN + frame_len, deadline,
                               cancellable, &local_error))
        {
          /* Part of a frame may be out, or a nonce is spent: the sending side is done for. */
          self->write_error = local_error;
          g_propagate_error (error, g_error_copy (local_error));
          return FALSE;
        }
      data += chunk;
      len -= chunk;
    }
  return TRUE;
}

static gboolean
noise_duplex_write (PhDuplex *duplex, const guint8 *data, gsize len, gint64 deadline,
                    GCancellable *cancellable, GError **error)
{
  PhNoiseDuplex *self = (PhNoiseDuplex *) duplex;
  gboolean ok;

  g_mutex_lock (&self->write_mutex);
  ok = noise_duplex_write_locked (self, data, len, deadline, cancellable, error);
  g_mutex_unlock (&self->write_mutex);
  return ok;
}

static gboolean
noise_duplex_close_write (PhDuplex *duplex, gint64 deadline, GCancellable *cancellable,
                          GError **error)
{
  PhNoiseDuplex *self = (PhNoiseDuplex *) duplex;
  gboolean ok;

  g_mutex_lock (&self->write_mutex);
  ok = noise_duplex_check_write (self, error)
       && ph_duplex_close_write (self->inner, deadline, cancellable, error);
  g_mutex_unlock (&self->write_mutex);
  return ok;
}

static void
noise_duplex_free (PhDuplex *duplex)
{
  PhNoiseDuplex *self = (PhNoiseDuplex *) duplex;

  g_clear_pointer (&self->inner, ph_duplex_free);
  g_clear_pointer (&self->recv, ph_noise_cipher_state_free);
  g_clear_pointer (&self->send, ph_noise_cipher_state_free);
  g_clear_error (&self->read_error);
  g_clear_error (&self->write_error);
  g_mutex_clear (&self->read_mutex);
  g_mutex_clear (&self->write_mutex);
  OPENSSL_cleanse (self->plain, sizeof self->plain);
  g_free (self);
}

static const PhDuplexVTable noise_duplex_vtable = {
  .read = noise_duplex_read,
  .write = noise_duplex_write,
  .close_write = noise_duplex_close_write,
  .free = noise_duplex_free,
};

PhDuplex *
ph_noise_duplex_get_inner (PhDuplex *duplex)
{
  g_return_val_if_fail (duplex != NULL, NULL);

  if (duplex->vtable != &noise_duplex_vtable)
    return NULL;
  return ((PhNoiseDuplex *) duplex)->inner;
}

static gboolean
write_handshake_frame (PhDuplex *insecure, PhNoiseHandshake *hs, gint64 deadline,
                       GCancellable *cancellable, GError **error)
{
  g_autoptr (GByteArray) frame = g_byte_array_sized_new (1024);
  gsize len;

  g_byte_array_set_size (frame, FRAME_HEADER_LEN);
  if (!ph_noise_handshake_write_message (hs, frame, error))
    return FALSE;
  len = frame->len - FRAME_HEADER_LEN;
  frame->data[0] = len >> 8;
  frame->data[1] = len & 0xff;
  return ph_duplex_write (insecure, frame->data, frame->len, deadline, cancellable, error);
}

static gboolean
read_handshake_frame (PhDuplex *insecure, PhNoiseHandshake *hs, gint64 deadline,
                      GCancellable *cancellable, GError **error)
{
  guint8 header[FRAME_HEADER_LEN];
  g_autofree guint8 *message = NULL;
  gsize len;

  if (!ph_duplex_read_exact (insecure, header, sizeof header, deadline, cancellable, error))
    return FALSE;
  /* At most 65535 by construction, so the allocation is bounded. */
  len = ((gsize) header[0] << 8) | header[1];
  message = g_malloc (len ? len : 1);
  if (!ph_duplex_read_exact (insecure, message, len, deadline, cancellable, error))
    return FALSE;
  return ph_noise_handshake_read_message (hs, message, len, error);
}

void
ph_noise_handshake_set_muxers (PhNoiseHandshake *self, const char *const *muxers)
{
  g_return_if_fail (self != NULL && !self->raw && self->step == 0);

  g_clear_pointer (&self->local_muxers, g_strfreev);
  if (muxers != NULL && muxers[0] != NULL)
    self->local_muxers = g_strdupv ((char **) muxers);
}

const char *
ph_noise_handshake_get_muxer (PhNoiseHandshake *self)
{
  char **initiator_list;
  char **responder_list;

  g_return_val_if_fail (self != NULL, NULL);

  if (!ph_noise_handshake_is_complete (self) || self->local_muxers == NULL
      || self->remote_muxers == NULL)
    return NULL;
  /* inlined-muxer-negotiation.md: the first of the initiator's list that the responder listed
   * too; go-libp2p's matchMuxers computes the same from the same two lists. */
  initiator_list = self->initiator ? self->local_muxers : self->remote_muxers;
  responder_list = self->initiator ? self->remote_muxers : self->local_muxers;
  for (guint i = 0; initiator_list[i] != NULL; i++)
    if (g_strv_contains ((const char *const *) responder_list, initiator_list[i]))
      return initiator_list[i];
  return NULL;
}

PhDuplex *
ph_noise_secure (PhDuplex *insecure, gboolean initiator, PhPrivateKey *identity,
                 const PhPeerId *expected_remote, PhPeerId **remote_out, gint64 deadline,
                 GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (insecure != NULL, NULL);
  g_return_val_if_fail (identity != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return ph_noise_secure_with_muxers (insecure, initiator, identity, expected_remote, NULL,
                                      remote_out, NULL, deadline, cancellable, error);
}

PhDuplex *
ph_noise_secure_with_muxers (PhDuplex *insecure, gboolean initiator, PhPrivateKey *identity,
                             const PhPeerId *expected_remote, const char *const *muxers,
                             PhPeerId **remote_out, char **muxer_out, gint64 deadline,
                             GCancellable *cancellable, GError **error)
{
  g_autoptr (PhNoiseHandshake) hs = NULL;
  PhNoiseDuplex *self;

  g_return_val_if_fail (insecure != NULL, NULL);
  g_return_val_if_fail (identity != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  hs = ph_noise_handshake_new (initiator, identity, expected_remote);
  ph_noise_handshake_set_muxers (hs, muxers);
  while (!ph_noise_handshake_is_complete (hs))
    {
      gboolean ok;

      if (ph_noise_handshake_wants_write (hs))
        ok = write_handshake_frame (insecure, hs, deadline, cancellable, error);
      else
        ok = read_handshake_frame (insecure, hs, deadline, cancellable, error);
      if (!ok)
        {
          g_prefix_error (error, "Noise handshake: ");
          ph_duplex_free (insecure);
          return NULL;
        }
    }

  self = g_new0 (PhNoiseDuplex, 1);
  if (!ph_noise_handshake_split (hs, &self->send, &self->recv, error))
    {
      g_free (self);
      ph_duplex_free (insecure);
      return NULL;
    }
  self->parent.vtable = &noise_duplex_vtable;
  self->inner = insecure;
  g_mutex_init (&self->read_mutex);
  g_mutex_init (&self->write_mutex);
  if (remote_out != NULL)
    *remote_out = ph_peer_id_copy (ph_noise_handshake_get_remote_peer_id (hs));
  if (muxer_out != NULL)
    *muxer_out = g_strdup (ph_noise_handshake_get_muxer (hs));
  return &self->parent;
}
