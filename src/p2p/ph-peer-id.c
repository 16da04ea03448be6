/* ph-peer-id.c: libp2p peer IDs (libp2p/specs peer-ids/peer-ids.md §Peer Ids)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "ph-multibase.h"
#include "ph-p2p-error.h"
#include "ph-peer-id.h"
#include "ph-varint.h"

/* multicodec table.csv: multihash codes, the CID version and the libp2p-key content codec. */
#define MULTIHASH_IDENTITY 0x00
#define MULTIHASH_SHA2_256 0x12
#define SHA2_256_LEN 32
#define CID_VERSION_1 0x01
#define MULTICODEC_LIBP2P_KEY 0x72

/* Both multihash codes and every digest length we accept fit one varint byte. */
#define MAX_MULTIHASH_LEN (2 + PH_PEER_ID_MAX_INLINE_KEY_LEN)

/* A CIDv1 of the longest peer ID in base32 is 75 characters; refuse long strings before
 * decoding them (base58 decoding is quadratic). */
#define MAX_TEXT_LEN 128

struct _PhPeerId
{
  gsize len;
  guint8 bytes[MAX_MULTIHASH_LEN];
};

static PhPeerId *
peer_id_new (const guint8 *data, gsize len)
{
  PhPeerId *id = g_new0 (PhPeerId, 1);

  g_assert (len <= sizeof id->bytes);
  id->len = len;
  memcpy (id->bytes, data, len);
  return id;
}

PhPeerId *
ph_peer_id_from_public_key (PhPublicKey *key)
{
  g_autoptr (GBytes) marshalled = NULL;
  guint8 multihash[MAX_MULTIHASH_LEN];
  const guint8 *data;
  gsize len;

  g_return_val_if_fail (key != NULL, NULL);

  marshalled = ph_public_key_marshal (key);
  data = g_bytes_get_data (marshalled, &len);
  if (len <= PH_PEER_ID_MAX_INLINE_KEY_LEN)
    {
      multihash[0] = MULTIHASH_IDENTITY;
      multihash[1] = len;
      memcpy (multihash + 2, data, len);
      return peer_id_new (multihash, len + 2);
    }

  multihash[0] = MULTIHASH_SHA2_256;
  multihash[1] = SHA2_256_LEN;
  if (EVP_Digest (data, len, multihash + 2, NULL, EVP_sha256 (), NULL) != 1)
    g_error ("SHA-256 is unavailable in libcrypto");
  return peer_id_new (multihash, 2 + SHA2_256_LEN);
}

/* Peer IDs are identity multihashes of at most 42 bytes or sha2-256 ones, nothing else
 * (peer-ids.md §Peer Ids; go-multiaddr and rust-libp2p refuse other hashes too). */
PhPeerId *
ph_peer_id_from_bytes (const guint8 *data, gsize len, GError **error)
{
  guint64 code, digest_len;
  gsize code_size, len_size;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ph_varint_decode (data, len, &code, &code_size, error)
      || !ph_varint_decode (data + code_size, len - code_size, &digest_len, &len_size, error))
    {
      g_prefix_error (error, "peer ID multihash: ");
      return NULL;
    }

  if (code == MULTIHASH_IDENTITY)
    {
      if (digest_len == 0 || digest_len > PH_PEER_ID_MAX_INLINE_KEY_LEN)
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                       "identity peer ID of %" G_GUINT64_FORMAT " bytes (1 to %d allowed)",
                       digest_len, PH_PEER_ID_MAX_INLINE_KEY_LEN);
          return NULL;
        }
    }
  else if (code == MULTIHASH_SHA2_256)
    {
      if (digest_len != SHA2_256_LEN)
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                       "sha2-256 peer ID with a %" G_GUINT64_FORMAT "-byte digest", digest_len);
          return NULL;
        }
    }
  else
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                   "peer ID uses multihash code 0x%" G_GINT64_MODIFIER "x", code);
      return NULL;
    }

  if (len - code_size - len_size < digest_len)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED, "peer ID truncated");
      return NULL;
    }
  if (len - code_size - len_size > digest_len)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "trailing bytes after the peer ID");
      return NULL;
    }
  return peer_id_new (data, len);
}

/* <cid-version><multicodec><multihash> (multiformats/cid), whose codec must be libp2p-key. */
static PhPeerId *
peer_id_from_cid (GBytes *cid, GError **error)
{
  gsize len, version_size, codec_size;
  const guint8 *data = g_bytes_get_data (cid, &len);
  guint64 version, codec;

  if (!ph_varint_decode (data, len, &version, &version_size, error)
      || !ph_varint_decode (data + version_size, len - version_size, &codec, &codec_size, error))
    {
      g_prefix_error (error, "peer ID CID: ");
      return NULL;
    }
  if (version != CID_VERSION_1)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                   "CID version %" G_GUINT64_FORMAT " is not a peer ID", version);
      return NULL;
    }
  if (codec != MULTICODEC_LIBP2P_KEY)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                   "CID of codec 0x%" G_GINT64_MODIFIER "x is not a peer ID (libp2p-key)", codec);
      return NULL;
    }
  return ph_peer_id_from_bytes (data + version_size + codec_size, len - version_size - codec_size,
                                error);
}

/* peer-ids.md §Decoding: "1…" and "Qm…" are bare base58btc multihashes; anything else must be a
 * multibase CID. We read the multibases our encoders speak: base32 ('b', 'B') and base58btc
 * ('z'). */
PhPeerId *
ph_peer_id_from_string (const char *text, GError **error)
{
  g_autoptr (GBytes) decoded = NULL;
  gsize text_len;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  text_len = strnlen (text, MAX_TEXT_LEN + 1);
  if (text_len > MAX_TEXT_LEN)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "peer ID text longer than %d characters", MAX_TEXT_LEN);
      return NULL;
    }

  if (text[0] == '1' || g_str_has_prefix (text, "Qm"))
    {
      decoded = ph_base58btc_decode (text, error);
      if (decoded == NULL)
        return NULL;
      return ph_peer_id_from_bytes (g_bytes_get_data (decoded, NULL), g_bytes_get_size (decoded),
                                    error);
    }

  switch (text[0])
    {
      case 'b':
      case 'B':
        decoded = ph_base32_decode (text + 1, error);
        break;
      case 'z':
        decoded = ph_base58btc_decode (text + 1, error);
        break;
      case '\0':
        g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED, "empty peer ID");
        return NULL;
      default:
        g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                     "peer ID in an unsupported encoding (multibase '%c')", text[0]);
        return NULL;
    }
  if (decoded == NULL)
    return NULL;
  return peer_id_from_cid (decoded, error);
}

char *
ph_peer_id_to_string (const PhPeerId *id)
{
  g_return_val_if_fail (id != NULL, NULL);

  return ph_base58btc_encode (id->bytes, id->len);
}

char *
ph_peer_id_to_cid_string (const PhPeerId *id)
{
  guint8 cid[2 + MAX_MULTIHASH_LEN];
  g_autofree char *base32 = NULL;

  g_return_val_if_fail (id != NULL, NULL);

  cid[0] = CID_VERSION_1;
  cid[1] = MULTICODEC_LIBP2P_KEY;
  memcpy (cid + 2, id->bytes, id->len);
  base32 = ph_base32_encode (cid, 2 + id->len);
  return g_strconcat ("b", base32, NULL);
}

const guint8 *
ph_peer_id_get_bytes (const PhPeerId *id, gsize *len)
{
  g_return_val_if_fail (id != NULL, NULL);

  if (len)
    *len = id->len;
  return id->bytes;
}

gboolean
ph_peer_id_equal (const PhPeerId *a, const PhPeerId *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  return a->len == b->len && memcmp (a->bytes, b->bytes, a->len) == 0;
}

guint
ph_peer_id_hash (const PhPeerId *id)
{
  guint hash = 5381;

  g_return_val_if_fail (id != NULL, 0);

  for (gsize i = 0; i < id->len; i++)
    hash = hash * 33 + id->bytes[i];
  return hash;
}

gboolean
ph_peer_id_matches_key (const PhPeerId *id, PhPublicKey *key)
{
  g_autoptr (PhPeerId) key_id = NULL;

  g_return_val_if_fail (id != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  key_id = ph_peer_id_from_public_key (key);
  return ph_peer_id_equal (id, key_id);
}

PhPublicKey *
ph_peer_id_extract_public_key (const PhPeerId *id, GError **error)
{
  g_autoptr (PhPublicKey) key = NULL;

  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (id->bytes[0] != MULTIHASH_IDENTITY)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                           "the peer ID is a hash and does not contain its public key");
      return NULL;
    }
  key = ph_public_key_unmarshal (id->bytes + 2, id->len - 2, error);
  if (key == NULL)
    return NULL;
  /* A key that is not canonically encoded would name a different peer ID. */
  if (!ph_peer_id_matches_key (id, key))
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "the peer ID holds a non-canonical public key");
      return NULL;
    }
  return g_steal_pointer (&key);
}

PhPeerId *
ph_peer_id_copy (const PhPeerId *id)
{
  g_return_val_if_fail (id != NULL, NULL);

  return peer_id_new (id->bytes, id->len);
}

void
ph_peer_id_free (PhPeerId *id)
{
  g_free (id);
}
