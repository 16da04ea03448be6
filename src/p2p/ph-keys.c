/* ph-keys.c: libp2p keys over OpenSSL 3 EVP (libp2p/specs peer-ids/peer-ids.md §Key Types)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every key is held as an EVP_PKEY beside its canonical Data bytes, which is what marshalling
 * writes and peer IDs hash. go-libp2p re-encodes the keys it parses too, so we agree with it on
 * every peer ID: DER keys must re-encode to themselves, and secp256k1 points are written
 * compressed whatever form they came in.
 */
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto.pb-c.h"

#include "ph-keys.h"
#include "ph-p2p-error.h"

/* A key protobuf is two short fields around the Data; leave room for unknown fields, no more. */
#define MAX_PROTOBUF_LEN (PH_KEY_MAX_DATA_LEN + 64)

#define ED25519_KEY_LEN 32
#define SECP256K1_SCALAR_LEN 32
#define SECP256K1_COMPRESSED_LEN 33
#define SECP256K1_UNCOMPRESSED_LEN 65

/* The order n of secp256k1 (SEC 2 §2.4.1), to range-check scalars and normalize signatures. */
static const guint8 secp256k1_order[SECP256K1_SCALAR_LEN] = {
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
  0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

/* RFC 5915 ECPrivateKey for secp256k1 without the public key, which OpenSSL then derives:
 * SEQUENCE { INTEGER 1, OCTET STRING (32) <scalar>, [0] OID 1.3.132.0.10 }. */
static const guint8 secp256k1_sec1_head[] = { 0x30, 0x2e, 0x02, 0x01, 0x01, 0x04, 0x20 };
static const guint8 secp256k1_sec1_tail[]
    = { 0xa0, 0x07, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a };

/* go-libp2p makes P-256 keys and its x509 parser also reads P-384 and P-521 (P-224 aside); the
 * signature hash is SHA-256 on every curve. */
static const char *const ecdsa_curves[] = { "prime256v1", "secp384r1", "secp521r1" };

/* OpenSSL frees its state from an atexit handler unless told not to. Porthole's worker threads
 * (probes, dial-backs, the connection pools) cannot all be joined before exit, and one still
 * finishing a handshake would then use freed library state; and a thread ending after the
 * cleanup has deleted OpenSSL's thread-local keys never frees its own random generator. The
 * process is ending: let the kernel have it all. This must run before any other libcrypto call,
 * hence a constructor, in the file every user of our crypto links. */
__attribute__ ((constructor)) static void
ph_keys_init_openssl (void)
{
  OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, NULL);
}

struct _PhPublicKey
{
  gatomicrefcount ref_count;
  PhKeyType type;
  EVP_PKEY *pkey;
  GBytes *data;       /* the canonical Data field */
  GBytes *marshalled; /* the canonical PublicKey protobuf */
};

struct _PhPrivateKey
{
  gatomicrefcount ref_count;
  PhKeyType type;
  EVP_PKEY *pkey; /* OpenSSL clears key material when it frees it */
  PhPublicKey *public_key;
};

typedef struct
{
  gsize len;
  guint8 data[];
} SecretBuffer;

static GBytes *
private_key_sign (PhPrivateKey *key, const guint8 *message, gsize message_len, GError **error);

static void
secret_buffer_free (gpointer data)
{
  SecretBuffer *buffer = data;

  OPENSSL_cleanse (buffer->data, buffer->len);
  g_free (buffer);
}

/* protobuf-c allocator for PrivateKey messages: every block it hands out is wiped when freed,
 * including any Data a duplicate field replaced during unpacking. */
#define WIPE_HEADER 16

static void *
wiping_alloc (void *allocator_data, size_t size)
{
  guint8 *block = g_malloc (size + WIPE_HEADER);

  memcpy (block, &size, sizeof size);
  return block + WIPE_HEADER;
}

static void
wiping_free (void *allocator_data, void *pointer)
{
  guint8 *block;
  size_t size;

  if (pointer == NULL)
    return;
  block = (guint8 *) pointer - WIPE_HEADER;
  memcpy (&size, block, sizeof size);
  OPENSSL_cleanse (block, size + WIPE_HEADER);
  g_free (block);
}

static ProtobufCAllocator wiping_allocator = { wiping_alloc, wiping_free, NULL };

static void
set_crypto_error (GError **error, const char *what)
{
  unsigned long code = ERR_peek_last_error ();
  char reason[256] = "unknown";

  if (code != 0)
    ERR_error_string_n (code, reason, sizeof reason);
  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CRYPTO, "%s failed: %s", what, reason);
}

static void
set_malformed (GError **error, PhKeyType type, const char *what)
{
  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED, "malformed %s key: %s",
               ph_key_type_to_string (type), what);
}

const char *
ph_key_type_to_string (PhKeyType type)
{
  switch (type)
    {
      case PH_KEY_TYPE_RSA:
        return "RSA";
      case PH_KEY_TYPE_ED25519:
        return "Ed25519";
      case PH_KEY_TYPE_SECP256K1:
        return "Secp256k1";
      case PH_KEY_TYPE_ECDSA:
        return "ECDSA";
      default:
        return "unknown";
    }
}

static gboolean
key_type_is_known (int type)
{
  return type >= PH_KEY_TYPE_RSA && type <= PH_KEY_TYPE_ECDSA;
}

static gboolean
check_key_type (int type, GError **error)
{
  if (key_type_is_known (type))
    return TRUE;
  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED, "unsupported key type %d", type);
  return FALSE;
}

static gboolean
check_data_len (gsize len, GError **error)
{
  if (len <= PH_KEY_MAX_DATA_LEN)
    return TRUE;
  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
               "key data of %" G_GSIZE_FORMAT " bytes exceeds %d", len, PH_KEY_MAX_DATA_LEN);
  return FALSE;
}

/* Deterministic protobuf: protobuf-c packs fields in tag order and always writes required ones. */
static GBytes *
pack_public_key (PhKeyType type, GBytes *data)
{
  PhCrypto__PublicKey message = PH_CRYPTO__PUBLIC_KEY__INIT;
  gsize size;
  guint8 *buffer;

  message.type = (PhCrypto__KeyType) type;
  message.data.data = (guint8 *) g_bytes_get_data (data, &message.data.len);
  size = ph_crypto__public_key__get_packed_size (&message);
  buffer = g_malloc (size);
  ph_crypto__public_key__pack (&message, buffer);
  return g_bytes_new_take (buffer, size);
}

static GBytes *
pack_private_key (PhKeyType type, const guint8 *data, gsize len)
{
  PhCrypto__PrivateKey message = PH_CRYPTO__PRIVATE_KEY__INIT;
  SecretBuffer *buffer;

  message.type = (PhCrypto__KeyType) type;
  message.data.data = (guint8 *) data;
  message.data.len = len;
  buffer = g_malloc (sizeof (SecretBuffer) + ph_crypto__private_key__get_packed_size (&message));
  buffer->len = ph_crypto__private_key__pack (&message, buffer->data);
  return g_bytes_new_with_free_func (buffer->data, buffer->len, secret_buffer_free, buffer);
}

static PhPublicKey *
public_key_new (PhKeyType type, EVP_PKEY *pkey, GBytes *data)
{
  PhPublicKey *key = g_new0 (PhPublicKey, 1);

  g_atomic_ref_count_init (&key->ref_count);
  key->type = type;
  key->pkey = pkey;
  key->data = data;
  key->marshalled = pack_public_key (type, data);
  return key;
}

static GBytes *
i2d_public (EVP_PKEY *pkey)
{
  unsigned char *der = NULL;
  int der_len = i2d_PUBKEY (pkey, &der);
  GBytes *bytes;

  if (der_len <= 0)
    return NULL;
  bytes = g_bytes_new (der, der_len);
  OPENSSL_free (der);
  return bytes;
}

static gboolean
ecdsa_curve_is_supported (EVP_PKEY *pkey)
{
  char name[64];

  if (!EVP_PKEY_get_utf8_string_param (pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, NULL))
    return FALSE; /* explicit curve parameters, refused like go's x509 does */
  for (gsize i = 0; i < G_N_ELEMENTS (ecdsa_curves); i++)
    if (g_str_equal (name, ecdsa_curves[i]))
      return TRUE;
  return FALSE;
}

static gboolean
check_rsa_bits (EVP_PKEY *pkey, GError **error)
{
  int bits = EVP_PKEY_get_bits (pkey);

  if (bits < PH_KEY_RSA_MIN_BITS)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                   "RSA key of %d bits is too weak (at least %d required)", bits,
                   PH_KEY_RSA_MIN_BITS);
      return FALSE;
    }
  if (bits > PH_KEY_RSA_MAX_BITS)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE, "RSA key of %d bits exceeds %d",
                   bits, PH_KEY_RSA_MAX_BITS);
      return FALSE;
    }
  return TRUE;
}

/* RSA and ECDSA public keys: DER SubjectPublicKeyInfo (peer-ids.md §RSA; the §ECDSA prose says
 * "ASN.1 DER" but its test vector, like go's x509.MarshalPKIXPublicKey, is PKIX). */
static PhPublicKey *
public_key_from_pkix (PhKeyType type, const guint8 *data, gsize len, GError **error)
{
  const unsigned char *p = data;
  g_autoptr (GBytes) der = NULL;
  EVP_PKEY *pkey;

  pkey = d2i_PUBKEY_ex (NULL, &p, (long) len, NULL, NULL);
  if (pkey == NULL)
    {
      set_malformed (error, type, "not a DER SubjectPublicKeyInfo");
      return NULL;
    }

  if (type == PH_KEY_TYPE_RSA ? !EVP_PKEY_is_a (pkey, "RSA") : !EVP_PKEY_is_a (pkey, "EC"))
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                   "%s key data holds another algorithm", ph_key_type_to_string (type));
      goto fail;
    }
  if (type == PH_KEY_TYPE_RSA && !check_rsa_bits (pkey, error))
    goto fail;
  if (type == PH_KEY_TYPE_ECDSA && !ecdsa_curve_is_supported (pkey))
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                           "ECDSA key on an unsupported curve");
      goto fail;
    }

  /* Peer IDs hash these bytes: accept only the one encoding every implementation produces, which
   * for ECDSA has the point uncompressed (go's x509 reads no other form). */
  if (type == PH_KEY_TYPE_ECDSA
      && !EVP_PKEY_set_utf8_string_param (pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                          OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED))
    {
      set_crypto_error (error, "setting the ECDSA point format");
      goto fail;
    }
  der = i2d_public (pkey);
  if (der == NULL || (gsize) (p - data) != len || g_bytes_get_size (der) != len
      || memcmp (g_bytes_get_data (der, NULL), data, len) != 0)
    {
      set_malformed (error, type, "not canonical DER");
      goto fail;
    }
  return public_key_new (type, pkey, g_steal_pointer (&der));

fail:
  EVP_PKEY_free (pkey);
  return NULL;
}

static PhPublicKey *
public_key_from_ed25519 (const guint8 *data, gsize len, GError **error)
{
  EVP_PKEY *pkey;

  if (len != ED25519_KEY_LEN)
    {
      set_malformed (error, PH_KEY_TYPE_ED25519, "not 32 bytes");
      return NULL;
    }
  pkey = EVP_PKEY_new_raw_public_key_ex (NULL, "ED25519", NULL, data, len);
  if (pkey == NULL)
    {
      set_crypto_error (error, "loading an Ed25519 key");
      return NULL;
    }
  return public_key_new (PH_KEY_TYPE_ED25519, pkey, g_bytes_new (data, len));
}

/* secp256k1 public keys are SEC 1 points: 33 bytes compressed, which is what we write (go's
 * SerializeCompressed); 65 bytes uncompressed are accepted on input, as go's ParsePubKey does. */
static PhPublicKey *
public_key_from_secp256k1 (const guint8 *data, gsize len, GError **error)
{
  OSSL_PARAM_BLD *builder = NULL;
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = NULL;
  EVP_PKEY *pkey = NULL;
  guint8 compressed[SECP256K1_COMPRESSED_LEN];

  if (len == SECP256K1_COMPRESSED_LEN && (data[0] == 0x02 || data[0] == 0x03))
    memcpy (compressed, data, len);
  else if (len == SECP256K1_UNCOMPRESSED_LEN && data[0] == 0x04)
    {
      compressed[0] = 0x02 | (data[64] & 1);
      memcpy (compressed + 1, data + 1, 32);
    }
  else
    {
      set_malformed (error, PH_KEY_TYPE_SECP256K1, "not a SEC 1 point");
      return NULL;
    }

  /* The import decodes the point and fails unless it lies on the curve. */
  builder = OSSL_PARAM_BLD_new ();
  if (builder == NULL
      || !OSSL_PARAM_BLD_push_utf8_string (builder, OSSL_PKEY_PARAM_GROUP_NAME, "secp256k1", 0)
      || !OSSL_PARAM_BLD_push_octet_string (builder, OSSL_PKEY_PARAM_PUB_KEY, data, len)
      || (params = OSSL_PARAM_BLD_to_param (builder)) == NULL
      || (ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL)) == NULL
      || EVP_PKEY_fromdata_init (ctx) != 1)
    set_crypto_error (error, "preparing a secp256k1 key");
  else if (EVP_PKEY_fromdata (ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    set_malformed (error, PH_KEY_TYPE_SECP256K1, "not a point on the curve");

  EVP_PKEY_CTX_free (ctx);
  OSSL_PARAM_free (params);
  OSSL_PARAM_BLD_free (builder);
  if (pkey == NULL)
    return NULL;
  return public_key_new (PH_KEY_TYPE_SECP256K1, pkey, g_bytes_new (compressed, sizeof compressed));
}

static PhPublicKey *
public_key_from_data (PhKeyType type, const guint8 *data, gsize len, GError **error)
{
  switch (type)
    {
      case PH_KEY_TYPE_ED25519:
        return public_key_from_ed25519 (data, len, error);
      case PH_KEY_TYPE_SECP256K1:
        return public_key_from_secp256k1 (data, len, error);
      case PH_KEY_TYPE_RSA:
      case PH_KEY_TYPE_ECDSA:
        return public_key_from_pkix (type, data, len, error);
      default:
        check_key_type (type, error);
        return NULL;
    }
}

static PhPublicKey *
public_key_unmarshal (const guint8 *data, gsize len, GError **error)
{
  PhCrypto__PublicKey *message;
  PhPublicKey *key = NULL;

  if (len > MAX_PROTOBUF_LEN)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "public key of %" G_GSIZE_FORMAT " bytes exceeds %d", len, MAX_PROTOBUF_LEN);
      return NULL;
    }
  /* protobuf-c refuses truncated input and missing required fields. */
  message = ph_crypto__public_key__unpack (NULL, len, data);
  if (message == NULL)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED, "not a PublicKey protobuf");
      return NULL;
    }
  if (check_key_type (message->type, error) && check_data_len (message->data.len, error))
    key = public_key_from_data ((PhKeyType) message->type, message->data.data, message->data.len,
                                error);
  ph_crypto__public_key__free_unpacked (message, NULL);
  return key;
}

PhPublicKey *
ph_public_key_unmarshal (const guint8 *data, gsize len, GError **error)
{
  PhPublicKey *key;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Parsers leave complaints on OpenSSL's per-thread error queue: drop ours, keep the caller's. */
  ERR_set_mark ();
  key = public_key_unmarshal (data, len, error);
  ERR_pop_to_mark ();
  return key;
}

GBytes *
ph_public_key_marshal (PhPublicKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  return g_bytes_ref (key->marshalled);
}

PhKeyType
ph_public_key_get_key_type (PhPublicKey *key)
{
  g_return_val_if_fail (key != NULL, PH_KEY_TYPE_ED25519);

  return key->type;
}

GBytes *
ph_public_key_get_data (PhPublicKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  return g_bytes_ref (key->data);
}

/* The digest each key type signs with (peer-ids.md §Key Types): none for Ed25519, which signs the
 * message itself, SHA-256 for the others. */
static const char *
digest_name (PhKeyType type)
{
  return type == PH_KEY_TYPE_ED25519 ? NULL : "SHA256";
}

static EVP_MD_CTX *
digest_context_new (PhKeyType type, EVP_PKEY *pkey, gboolean sign)
{
  EVP_MD_CTX *context = EVP_MD_CTX_new ();
  EVP_PKEY_CTX *pkey_context = NULL;
  int ok;

  if (context == NULL)
    return NULL;
  if (sign)
    ok = EVP_DigestSignInit_ex (context, &pkey_context, digest_name (type), NULL, NULL, pkey, NULL);
  else
    ok = EVP_DigestVerifyInit_ex (context, &pkey_context, digest_name (type), NULL, NULL, pkey,
                                  NULL);
  /* RSASSA-PKCS1-v1_5 (peer-ids.md §RSA), never PSS. */
  if (ok == 1 && type == PH_KEY_TYPE_RSA)
    ok = EVP_PKEY_CTX_set_rsa_padding (pkey_context, RSA_PKCS1_PADDING);
  if (ok != 1)
    {
      EVP_MD_CTX_free (context);
      return NULL;
    }
  return context;
}

static gboolean
public_key_verify (PhPublicKey *key, const guint8 *message, gsize message_len,
                   const guint8 *signature, gsize signature_len, GError **error)
{
  static const guint8 empty[1];
  EVP_MD_CTX *context;
  int result;

  context = digest_context_new (key->type, key->pkey, FALSE);
  if (context == NULL)
    {
      set_crypto_error (error, "starting a signature check");
      return FALSE;
    }

  /* 1 is a good signature; 0 a bad one; below 0 one that does not even parse. */
  result = EVP_DigestVerify (context, signature ? signature : empty, signature_len,
                             message ? message : empty, message_len);
  EVP_MD_CTX_free (context);
  if (result == 1)
    return TRUE;

  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_BAD_SIGNATURE, "%s signature does not verify",
               ph_key_type_to_string (key->type));
  return FALSE;
}

gboolean
ph_public_key_verify (PhPublicKey *key, const guint8 *message, gsize message_len,
                      const guint8 *signature, gsize signature_len, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (message != NULL || message_len == 0, FALSE);
  g_return_val_if_fail (signature != NULL || signature_len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ERR_set_mark ();
  ok = public_key_verify (key, message, message_len, signature, signature_len, error);
  ERR_pop_to_mark ();
  return ok;
}

gboolean
ph_public_key_equal (PhPublicKey *a, PhPublicKey *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  return a == b || (a->type == b->type && g_bytes_equal (a->data, b->data));
}

PhPublicKey *
ph_public_key_ref (PhPublicKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  g_atomic_ref_count_inc (&key->ref_count);
  return key;
}

void
ph_public_key_unref (PhPublicKey *key)
{
  g_return_if_fail (key != NULL);

  if (!g_atomic_ref_count_dec (&key->ref_count))
    return;
  EVP_PKEY_free (key->pkey);
  g_bytes_unref (key->data);
  g_bytes_unref (key->marshalled);
  g_free (key);
}

/* Private keys */

static PhPrivateKey *
private_key_new (PhKeyType type, EVP_PKEY *pkey, PhPublicKey *public_key)
{
  PhPrivateKey *key = g_new0 (PhPrivateKey, 1);

  g_atomic_ref_count_init (&key->ref_count);
  key->type = type;
  key->pkey = pkey;
  key->public_key = public_key;
  return key;
}

static PhPrivateKey *
private_key_from_ed25519_pkey (EVP_PKEY *pkey, const guint8 *expected_public, GError **error)
{
  guint8 public_bytes[ED25519_KEY_LEN];
  gsize public_len = sizeof public_bytes;
  PhPublicKey *public_key;

  if (EVP_PKEY_get_raw_public_key (pkey, public_bytes, &public_len) != 1
      || public_len != ED25519_KEY_LEN)
    {
      EVP_PKEY_free (pkey);
      set_crypto_error (error, "deriving an Ed25519 public key");
      return NULL;
    }
  if (expected_public != NULL && CRYPTO_memcmp (public_bytes, expected_public, public_len) != 0)
    {
      EVP_PKEY_free (pkey);
      set_malformed (error, PH_KEY_TYPE_ED25519, "public half does not match");
      return NULL;
    }
  public_key = public_key_from_ed25519 (public_bytes, public_len, error);
  if (public_key == NULL)
    {
      EVP_PKEY_free (pkey);
      return NULL;
    }
  return private_key_new (PH_KEY_TYPE_ED25519, pkey, public_key);
}

/* peer-ids.md §Ed25519: seed || public (64 bytes), or the legacy seed || public || public (96),
 * whose two copies must agree. go-libp2p takes no other length. */
static PhPrivateKey *
private_key_from_ed25519 (const guint8 *data, gsize len, GError **error)
{
  EVP_PKEY *pkey;

  if (len != 2 * ED25519_KEY_LEN && len != 3 * ED25519_KEY_LEN)
    {
      set_malformed (error, PH_KEY_TYPE_ED25519, "not 64 bytes");
      return NULL;
    }
  if (len == 3 * ED25519_KEY_LEN
      && CRYPTO_memcmp (data + ED25519_KEY_LEN, data + 2 * ED25519_KEY_LEN, ED25519_KEY_LEN) != 0)
    {
      set_malformed (error, PH_KEY_TYPE_ED25519, "redundant public keys differ");
      return NULL;
    }

  pkey = EVP_PKEY_new_raw_private_key_ex (NULL, "ED25519", NULL, data, ED25519_KEY_LEN);
  if (pkey == NULL)
    {
      set_crypto_error (error, "loading an Ed25519 key");
      return NULL;
    }
  return private_key_from_ed25519_pkey (pkey, data + ED25519_KEY_LEN, error);
}

/* Our signatures must verify under the public key we derive, or we would sign for a peer ID that
 * is not ours: a corrupt DER key (public half or CRT values) fails this pairwise test. It is far
 * cheaper than OpenSSL's EVP_PKEY_pairwise_check, whose RSA checks test primality (~0.7 s for
 * 4096 bits). */
static gboolean
check_pairwise (PhPrivateKey *key, GError **error)
{
  static const guint8 probe[] = "porthole: private key self-test";
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GError) local_error = NULL;

  signature = private_key_sign (key, probe, sizeof probe, &local_error);
  if (signature != NULL
      && public_key_verify (key->public_key, probe, sizeof probe,
                            g_bytes_get_data (signature, NULL), g_bytes_get_size (signature),
                            &local_error))
    return TRUE;
  set_malformed (error, key->type, "private and public halves do not match");
  return FALSE;
}

/* A parsed secp256k1, RSA or ECDSA private key: derive its public key and test the pair. */
static PhPrivateKey *
private_key_from_evp (PhKeyType type, EVP_PKEY *pkey, GError **error)
{
  g_autoptr (GBytes) der = NULL;
  PhPublicKey *public_key;
  PhPrivateKey *key;

  if (type == PH_KEY_TYPE_SECP256K1)
    {
      guint8 point[SECP256K1_UNCOMPRESSED_LEN];
      gsize point_len = 0;

      if (!EVP_PKEY_get_octet_string_param (pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                            &point_len))
        {
          set_crypto_error (error, "deriving a secp256k1 public key");
          EVP_PKEY_free (pkey);
          return NULL;
        }
      public_key = public_key_from_secp256k1 (point, point_len, error);
    }
  else
    {
      /* Write ECDSA points uncompressed, as go-libp2p does, whatever form the SEC 1 held. */
      if (type == PH_KEY_TYPE_ECDSA)
        EVP_PKEY_set_utf8_string_param (pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                        OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED);
      der = i2d_public (pkey);
      if (der == NULL)
        {
          set_crypto_error (error, "encoding a public key");
          EVP_PKEY_free (pkey);
          return NULL;
        }
      public_key = public_key_from_pkix (type, g_bytes_get_data (der, NULL), g_bytes_get_size (der),
                                         error);
    }
  if (public_key == NULL)
    {
      EVP_PKEY_free (pkey);
      return NULL;
    }

  key = private_key_new (type, pkey, public_key);
  if (!check_pairwise (key, error))
    {
      ph_private_key_unref (key);
      return NULL;
    }
  return key;
}

/* peer-ids.md §Secp256k1: the 32-byte big-endian scalar, which must lie in [1, n-1]. */
static PhPrivateKey *
private_key_from_secp256k1 (const guint8 *data, gsize len, GError **error)
{
  static const guint8 zero[SECP256K1_SCALAR_LEN];
  guint8 sec1[sizeof secp256k1_sec1_head + SECP256K1_SCALAR_LEN + sizeof secp256k1_sec1_tail];
  const unsigned char *p = sec1;
  EVP_PKEY *pkey;

  if (len != SECP256K1_SCALAR_LEN)
    {
      set_malformed (error, PH_KEY_TYPE_SECP256K1, "not 32 bytes");
      return NULL;
    }
  if (memcmp (data, zero, len) == 0 || memcmp (data, secp256k1_order, len) >= 0)
    {
      set_malformed (error, PH_KEY_TYPE_SECP256K1, "scalar out of range");
      return NULL;
    }

  /* EVP has no raw EC private import that also derives the public point; SEC 1 DER does. */
  memcpy (sec1, secp256k1_sec1_head, sizeof secp256k1_sec1_head);
  memcpy (sec1 + sizeof secp256k1_sec1_head, data, len);
  memcpy (sec1 + sizeof secp256k1_sec1_head + len, secp256k1_sec1_tail, sizeof secp256k1_sec1_tail);
  pkey = d2i_PrivateKey_ex (EVP_PKEY_EC, NULL, &p, sizeof sec1, NULL, NULL);
  OPENSSL_cleanse (sec1, sizeof sec1);
  if (pkey == NULL)
    {
      set_crypto_error (error, "loading a secp256k1 key");
      return NULL;
    }
  return private_key_from_evp (PH_KEY_TYPE_SECP256K1, pkey, error);
}

/* RSA: PKCS#1 RSAPrivateKey DER (peer-ids.md §RSA). ECDSA: SEC 1 ECPrivateKey DER, as go's
 * x509.MarshalECPrivateKey writes and the spec's test vector holds (its prose says PKIX). */
static PhPrivateKey *
private_key_from_der (PhKeyType type, const guint8 *data, gsize len, GError **error)
{
  const unsigned char *p = data;
  EVP_PKEY *pkey;
  int evp_type = type == PH_KEY_TYPE_RSA ? EVP_PKEY_RSA : EVP_PKEY_EC;

  pkey = d2i_PrivateKey_ex (evp_type, NULL, &p, (long) len, NULL, NULL);
  if (pkey == NULL)
    {
      set_malformed (error, type, "not a DER private key");
      return NULL;
    }
  if ((gsize) (p - data) != len)
    {
      EVP_PKEY_free (pkey);
      set_malformed (error, type, "trailing bytes after the DER private key");
      return NULL;
    }
  if (type == PH_KEY_TYPE_RSA ? !EVP_PKEY_is_a (pkey, "RSA") : !ecdsa_curve_is_supported (pkey))
    {
      EVP_PKEY_free (pkey);
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED, "unsupported %s private key",
                   ph_key_type_to_string (type));
      return NULL;
    }
  if (type == PH_KEY_TYPE_RSA && !check_rsa_bits (pkey, error))
    {
      EVP_PKEY_free (pkey);
      return NULL;
    }
  return private_key_from_evp (type, pkey, error);
}

static PhPrivateKey *
private_key_unmarshal (const guint8 *data, gsize len, GError **error)
{
  PhCrypto__PrivateKey *message;
  PhPrivateKey *key = NULL;

  if (len > MAX_PROTOBUF_LEN)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "private key of %" G_GSIZE_FORMAT " bytes exceeds %d", len, MAX_PROTOBUF_LEN);
      return NULL;
    }
  message = ph_crypto__private_key__unpack (&wiping_allocator, len, data);
  if (message == NULL)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "not a PrivateKey protobuf");
      return NULL;
    }
  if (check_key_type (message->type, error) && check_data_len (message->data.len, error))
    {
      const guint8 *key_data = message->data.data;
      gsize key_len = message->data.len;

      switch ((PhKeyType) message->type)
        {
          case PH_KEY_TYPE_ED25519:
            key = private_key_from_ed25519 (key_data, key_len, error);
            break;
          case PH_KEY_TYPE_SECP256K1:
            key = private_key_from_secp256k1 (key_data, key_len, error);
            break;
          case PH_KEY_TYPE_RSA:
          case PH_KEY_TYPE_ECDSA:
            key = private_key_from_der ((PhKeyType) message->type, key_data, key_len, error);
            break;
          default:
            g_assert_not_reached ();
        }
    }
  ph_crypto__private_key__free_unpacked (message, &wiping_allocator);
  return key;
}

PhPrivateKey *
ph_private_key_unmarshal (const guint8 *data, gsize len, GError **error)
{
  PhPrivateKey *key;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ERR_set_mark ();
  key = private_key_unmarshal (data, len, error);
  ERR_pop_to_mark ();
  return key;
}

static PhPrivateKey *
private_key_generate_ed25519 (GError **error)
{
  EVP_PKEY *pkey;

  pkey = EVP_PKEY_Q_keygen (NULL, NULL, "ED25519");
  if (pkey == NULL)
    {
      set_crypto_error (error, "generating an Ed25519 key");
      return NULL;
    }
  return private_key_from_ed25519_pkey (pkey, NULL, error);
}

PhPrivateKey *
ph_private_key_generate_ed25519 (GError **error)
{
  PhPrivateKey *key;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ERR_set_mark ();
  key = private_key_generate_ed25519 (error);
  ERR_pop_to_mark ();
  return key;
}

/* The Data field of the PrivateKey protobuf, in secret memory the caller wipes and frees. */
static SecretBuffer *
private_key_data (PhPrivateKey *key)
{
  SecretBuffer *buffer = NULL;

  switch (key->type)
    {
      case PH_KEY_TYPE_ED25519:
        {
          gsize seed_len = ED25519_KEY_LEN;
          const guint8 *public_bytes = g_bytes_get_data (key->public_key->data, NULL);

          buffer = g_malloc (sizeof (SecretBuffer) + 2 * ED25519_KEY_LEN);
          buffer->len = 2 * ED25519_KEY_LEN;
          if (EVP_PKEY_get_raw_private_key (key->pkey, buffer->data, &seed_len) != 1
              || seed_len != ED25519_KEY_LEN)
            break;
          memcpy (buffer->data + ED25519_KEY_LEN, public_bytes, ED25519_KEY_LEN);
          return buffer;
        }
      case PH_KEY_TYPE_SECP256K1:
        {
          BIGNUM *scalar = NULL;
          int written = -1;

          buffer = g_malloc (sizeof (SecretBuffer) + SECP256K1_SCALAR_LEN);
          buffer->len = SECP256K1_SCALAR_LEN;
          if (EVP_PKEY_get_bn_param (key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &scalar))
            written = BN_bn2binpad (scalar, buffer->data, SECP256K1_SCALAR_LEN);
          BN_clear_free (scalar);
          if (written != SECP256K1_SCALAR_LEN)
            break;
          return buffer;
        }
      case PH_KEY_TYPE_RSA:
      case PH_KEY_TYPE_ECDSA:
        {
          /* "type-specific" DER: PKCS#1 for RSA, SEC 1 (with curve and public key) for EC. */
          unsigned char *der = NULL;
          int der_len = i2d_PrivateKey (key->pkey, &der);

          if (der_len <= 0)
            return NULL;
          buffer = g_malloc (sizeof (SecretBuffer) + der_len);
          buffer->len = der_len;
          memcpy (buffer->data, der, der_len);
          OPENSSL_clear_free (der, der_len);
          return buffer;
        }
      default:
        g_assert_not_reached ();
    }

  secret_buffer_free (buffer);
  return NULL;
}

GBytes *
ph_private_key_marshal (PhPrivateKey *key)
{
  SecretBuffer *data;
  GBytes *marshalled;

  g_return_val_if_fail (key != NULL, NULL);

  ERR_set_mark ();
  data = private_key_data (key);
  ERR_pop_to_mark ();
  if (data == NULL)
    {
      /* Only an allocation failure inside libcrypto gets here. */
      g_critical ("Could not encode a %s private key", ph_key_type_to_string (key->type));
      return NULL;
    }
  marshalled = pack_private_key (key->type, data->data, data->len);
  secret_buffer_free (data);
  return marshalled;
}

PhKeyType
ph_private_key_get_key_type (PhPrivateKey *key)
{
  g_return_val_if_fail (key != NULL, PH_KEY_TYPE_ED25519);

  return key->type;
}

/* BIP 62 low S: js-libp2p (noble-curves) and libsecp256k1 refuse s > n/2, which OpenSSL's
 * signatures need not obey, so we turn a high s into n - s. go-libp2p accepts either. */
static GBytes *
secp256k1_normalize_signature (const guint8 *der, gsize der_len)
{
  const unsigned char *p = der;
  ECDSA_SIG *signature = d2i_ECDSA_SIG (NULL, &p, (long) der_len);
  BIGNUM *order = BN_bin2bn (secp256k1_order, sizeof secp256k1_order, NULL);
  BIGNUM *half = BN_new ();
  GBytes *result = NULL;
  const BIGNUM *r, *s;

  if (signature == NULL || order == NULL || half == NULL || !BN_rshift1 (half, order))
    goto out;
  ECDSA_SIG_get0 (signature, &r, &s);
  if (BN_cmp (s, half) > 0)
    {
      BIGNUM *new_r = BN_dup (r);
      BIGNUM *new_s = BN_new ();

      if (new_r == NULL || new_s == NULL || !BN_sub (new_s, order, s)
          || !ECDSA_SIG_set0 (signature, new_r, new_s))
        {
          BN_free (new_r);
          BN_free (new_s);
          goto out;
        }
    }
  {
    unsigned char *out = NULL;
    int out_len = i2d_ECDSA_SIG (signature, &out);

    if (out_len > 0)
      result = g_bytes_new (out, out_len);
    OPENSSL_free (out);
  }

out:
  ECDSA_SIG_free (signature);
  BN_free (order);
  BN_free (half);
  return result;
}

static GBytes *
private_key_sign (PhPrivateKey *key, const guint8 *message, gsize message_len, GError **error)
{
  static const guint8 empty[1];
  EVP_MD_CTX *context;
  g_autofree guint8 *signature = NULL;
  size_t signature_len = 0;

  if (message == NULL)
    message = empty;
  context = digest_context_new (key->type, key->pkey, TRUE);
  if (context == NULL)
    {
      set_crypto_error (error, "starting a signature");
      return NULL;
    }
  if (EVP_DigestSign (context, NULL, &signature_len, message, message_len) == 1)
    {
      signature = g_malloc (signature_len);
      if (EVP_DigestSign (context, signature, &signature_len, message, message_len) != 1)
        g_clear_pointer (&signature, g_free);
    }
  EVP_MD_CTX_free (context);
  if (signature == NULL)
    {
      set_crypto_error (error, "signing");
      return NULL;
    }

  if (key->type == PH_KEY_TYPE_SECP256K1)
    {
      GBytes *normalized = secp256k1_normalize_signature (signature, signature_len);

      if (normalized == NULL)
        {
          set_crypto_error (error, "normalizing a secp256k1 signature");
          return NULL;
        }
      return normalized;
    }
  return g_bytes_new (signature, signature_len);
}

GBytes *
ph_private_key_sign (PhPrivateKey *key, const guint8 *message, gsize message_len, GError **error)
{
  GBytes *signature;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (message != NULL || message_len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ERR_set_mark ();
  signature = private_key_sign (key, message, message_len, error);
  ERR_pop_to_mark ();
  return signature;
}

PhPublicKey *
ph_private_key_get_public_key (PhPrivateKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  return key->public_key;
}

PhPrivateKey *
ph_private_key_ref (PhPrivateKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  g_atomic_ref_count_inc (&key->ref_count);
  return key;
}

void
ph_private_key_unref (PhPrivateKey *key)
{
  g_return_if_fail (key != NULL);

  if (!g_atomic_ref_count_dec (&key->ref_count))
    return;
  EVP_PKEY_free (key->pkey);
  ph_public_key_unref (key->public_key);
  g_free (key);
}
