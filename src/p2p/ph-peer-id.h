/* ph-peer-id.h: libp2p peer IDs (libp2p/specs peer-ids/peer-ids.md §Peer Ids)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "ph-keys.h"

G_BEGIN_DECLS

/* Marshalled public keys up to this length are inlined in an identity multihash. */
#define PH_PEER_ID_MAX_INLINE_KEY_LEN 42

/* A peer ID: the multihash bytes, either identity (0x00) of a key protobuf of at most 42 bytes
 * or sha2-256 (0x12, 32-byte digest). Plain struct: _copy and _free. */
typedef struct _PhPeerId PhPeerId;

PhPeerId *
ph_peer_id_from_public_key (PhPublicKey *key);
PhPeerId *
ph_peer_id_from_bytes (const guint8 *data, gsize len, GError **error);
/* base58btc multihash (Qm…, 12D3Koo…, 16Uiu2…) or a CIDv1 with codec libp2p-key (bafz…). */
PhPeerId *
ph_peer_id_from_string (const char *text, GError **error);
char *
ph_peer_id_to_string (const PhPeerId *id); /* base58btc */
char *
ph_peer_id_to_cid_string (const PhPeerId *id); /* CIDv1, libp2p-key 0x72, base32 'b' */
const guint8 *
ph_peer_id_get_bytes (const PhPeerId *id, gsize *len);
gboolean
ph_peer_id_equal (const PhPeerId *a, const PhPeerId *b);
guint
ph_peer_id_hash (const PhPeerId *id); /* with ph_peer_id_equal, for GHashTable keys */
gboolean
ph_peer_id_matches_key (const PhPeerId *id, PhPublicKey *key);
/* Only identity peer IDs hold their key; others fail with PH_P2P_ERROR_UNSUPPORTED. */
PhPublicKey *
ph_peer_id_extract_public_key (const PhPeerId *id, GError **error);
PhPeerId *
ph_peer_id_copy (const PhPeerId *id);
void
ph_peer_id_free (PhPeerId *id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhPeerId, ph_peer_id_free)

G_END_DECLS
