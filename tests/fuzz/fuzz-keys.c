/* fuzz-keys.c: the input is a 16-bit little-endian length N, then N bytes of a key protobuf, then a
 * signature. The key bytes are unmarshalled as a public key, and the signature checked over a
 * fixed message (tests/unit/keys/signatures.ini signs that message, so its vectors make seeds
 * that verify). Accepted keys must survive a marshal round trip and give a peer ID that survives
 * both string forms; a failed check must fail with PH_P2P_ERROR_BAD_SIGNATURE and nothing else.
 * The key bytes are also tried as a private key (which must sign what its public key verifies),
 * and the whole input as peer ID bytes and text. Any mismatch, and any GLib critical or warning,
 * aborts.
 *
 * Build by hand from the source root (not wired into meson), with a build dir that has generated
 * the protobuf C (e.g. build-keys):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ibuild-keys -Isrc -Isrc/p2p \
 *     -Ibuild-keys/proto $(pkg-config --cflags glib-2.0 libcrypto libprotobuf-c) \
 *     tests/fuzz/fuzz-keys.c src/p2p/ph-keys.c src/p2p/ph-peer-id.c src/p2p/ph-multibase.c \
 *     src/p2p/ph-varint.c src/p2p/ph-p2p-error.c build-keys/proto/crypto.pb-c.c \
 *     $(pkg-config --libs glib-2.0 libcrypto libprotobuf-c) -o fuzz-keys
 *   ./fuzz-keys -max_len=4096 -max_total_time=60 NEW_CORPUS_DIR SEED_DIR
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "p2p/ph-keys.h"
#include "p2p/ph-p2p-error.h"
#include "p2p/ph-peer-id.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv);
int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static const char MESSAGE[] = "Porthole asks: can you dial me back?";

static void
check (gboolean condition, const char *what)
{
  if (!condition)
    {
      g_printerr ("fuzz-keys: %s\n", what);
      abort ();
    }
}

static void
check_peer_id (const PhPeerId *id)
{
  g_autofree char *text = ph_peer_id_to_string (id);
  g_autofree char *cid = ph_peer_id_to_cid_string (id);
  g_autoptr (PhPeerId) from_text = ph_peer_id_from_string (text, NULL);
  g_autoptr (PhPeerId) from_cid = ph_peer_id_from_string (cid, NULL);

  check (from_text != NULL && ph_peer_id_equal (id, from_text), "base58 round trip");
  check (from_cid != NULL && ph_peer_id_equal (id, from_cid), "CID round trip");
}

static void
fuzz_public_key (const guint8 *key_data, gsize key_len, const guint8 *signature, gsize sig_len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPublicKey) key = ph_public_key_unmarshal (key_data, key_len, &error);
  g_autoptr (GBytes) marshalled = NULL;
  g_autoptr (PhPublicKey) again = NULL;
  g_autoptr (GBytes) marshalled_again = NULL;
  g_autoptr (PhPeerId) id = NULL;
  gboolean verified;

  check ((key == NULL) != (error == NULL), "public key: a result or an error");
  if (key == NULL)
    {
      check (error->domain == PH_P2P_ERROR, "public key error domain");
      return;
    }

  marshalled = ph_public_key_marshal (key);
  again = ph_public_key_unmarshal (g_bytes_get_data (marshalled, NULL),
                                   g_bytes_get_size (marshalled), NULL);
  check (again != NULL && ph_public_key_equal (key, again), "public key round trip");
  marshalled_again = ph_public_key_marshal (again);
  check (g_bytes_equal (marshalled, marshalled_again), "marshalling is deterministic");

  id = ph_peer_id_from_public_key (key);
  check (ph_peer_id_matches_key (id, key), "peer ID matches its key");
  check_peer_id (id);
  if (g_bytes_get_size (marshalled) <= PH_PEER_ID_MAX_INLINE_KEY_LEN)
    {
      g_autoptr (PhPublicKey) extracted = ph_peer_id_extract_public_key (id, NULL);

      check (extracted != NULL && ph_public_key_equal (key, extracted), "inlined key");
    }

  verified = ph_public_key_verify (key, (const guint8 *) MESSAGE, strlen (MESSAGE), signature,
                                   sig_len, &error);
  check (verified == (error == NULL), "verify: a result or an error");
  if (!verified)
    check (error->code == PH_P2P_ERROR_BAD_SIGNATURE, "bad signatures are BAD_SIGNATURE");
}

static void
fuzz_private_key (const guint8 *key_data, gsize key_len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) key = ph_private_key_unmarshal (key_data, key_len, &error);
  g_autoptr (GBytes) marshalled = NULL;
  g_autoptr (PhPrivateKey) again = NULL;
  g_autoptr (GBytes) signature = NULL;

  check ((key == NULL) != (error == NULL), "private key: a result or an error");
  if (key == NULL)
    {
      check (error->domain == PH_P2P_ERROR, "private key error domain");
      return;
    }

  marshalled = ph_private_key_marshal (key);
  check (marshalled != NULL, "private key marshals");
  again = ph_private_key_unmarshal (g_bytes_get_data (marshalled, NULL),
                                    g_bytes_get_size (marshalled), NULL);
  check (again != NULL
             && ph_public_key_equal (ph_private_key_get_public_key (key),
                                     ph_private_key_get_public_key (again)),
         "private key round trip");

  signature = ph_private_key_sign (key, (const guint8 *) MESSAGE, strlen (MESSAGE), NULL);
  check (signature != NULL, "private key signs");
  check (ph_public_key_verify (ph_private_key_get_public_key (key), (const guint8 *) MESSAGE,
                               strlen (MESSAGE), g_bytes_get_data (signature, NULL),
                               g_bytes_get_size (signature), NULL),
         "own signature verifies");
}

static void
fuzz_peer_id (const guint8 *data, gsize size)
{
  g_autoptr (PhPeerId) id = ph_peer_id_from_bytes (data, size, NULL);
  g_autofree char *text = g_strndup ((const char *) data, MIN (size, 256));
  g_autoptr (PhPeerId) parsed = ph_peer_id_from_string (text, NULL);

  if (id != NULL)
    check_peer_id (id);
  if (parsed != NULL)
    check_peer_id (parsed);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  gsize key_len;

  if (size < 2)
    return 0;
  key_len = MIN ((gsize) (data[0] | data[1] << 8), size - 2);

  fuzz_public_key (data + 2, key_len, data + 2 + key_len, size - 2 - key_len);
  fuzz_private_key (data + 2, key_len);
  fuzz_peer_id (data, size);
  return 0;
}
