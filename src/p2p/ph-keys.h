/* ph-keys.h: libp2p public and private keys (libp2p/specs peer-ids/peer-ids.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The KeyType enum of the key protobuf; the values are on the wire. */
typedef enum
{
  PH_KEY_TYPE_RSA = 0,
  PH_KEY_TYPE_ED25519 = 1,
  PH_KEY_TYPE_SECP256K1 = 2,
  PH_KEY_TYPE_ECDSA = 3,
} PhKeyType;

/* The largest Data field we accept in a key protobuf (an 8192-bit RSA private key is ~4.7 KiB). */
#define PH_KEY_MAX_DATA_LEN 8192

/* RSA moduli outside this range are refused, as go-libp2p does (core/crypto/rsa_common.go). */
#define PH_KEY_RSA_MIN_BITS 2048
#define PH_KEY_RSA_MAX_BITS 8192

typedef struct _PhPublicKey PhPublicKey;   /* refcounted, immutable, thread-safe */
typedef struct _PhPrivateKey PhPrivateKey; /* refcounted; wiped on last unref; never logged */

const char *
ph_key_type_to_string (PhKeyType type);

/* A PublicKey protobuf. Marshalling gives the canonical encoding (fields in tag order, Data
 * re-encoded: secp256k1 points compressed), which is what peer IDs hash. */
PhPublicKey *
ph_public_key_unmarshal (const guint8 *data, gsize len, GError **error);
GBytes *
ph_public_key_marshal (PhPublicKey *key);
PhKeyType
ph_public_key_get_key_type (PhPublicKey *key);
/* The Data field of the canonical protobuf: the type-specific key encoding. */
GBytes *
ph_public_key_get_data (PhPublicKey *key);
/* FALSE with PH_P2P_ERROR_BAD_SIGNATURE for any signature that does not verify, malformed or not.
 */
gboolean
ph_public_key_verify (PhPublicKey *key, const guint8 *message, gsize message_len,
                      const guint8 *signature, gsize signature_len, GError **error);
gboolean
ph_public_key_equal (PhPublicKey *a, PhPublicKey *b);
PhPublicKey *
ph_public_key_ref (PhPublicKey *key);
void
ph_public_key_unref (PhPublicKey *key);

PhPrivateKey *
ph_private_key_generate_ed25519 (GError **error);
/* A PrivateKey protobuf, e.g. kubo's Identity.PrivKey after base64. */
PhPrivateKey *
ph_private_key_unmarshal (const guint8 *data, gsize len, GError **error);
/* The returned bytes are secret: they are wiped when the GBytes is freed. */
GBytes *
ph_private_key_marshal (PhPrivateKey *key);
PhKeyType
ph_private_key_get_key_type (PhPrivateKey *key);
GBytes *
ph_private_key_sign (PhPrivateKey *key, const guint8 *message, gsize message_len, GError **error);
PhPublicKey *
ph_private_key_get_public_key (PhPrivateKey *key); /* transfer none */
PhPrivateKey *
ph_private_key_ref (PhPrivateKey *key);
void
ph_private_key_unref (PhPrivateKey *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhPublicKey, ph_public_key_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhPrivateKey, ph_private_key_unref)

G_END_DECLS
