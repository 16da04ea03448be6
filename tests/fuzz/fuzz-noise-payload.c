/* fuzz-noise-payload.c: the input is a decrypted Noise handshake payload (NoiseHandshakePayload
 * protobuf) as a peer would send it in XX message 2 or 3. It is decoded and its signature checked
 * against a fixed static X25519 key, as ph-noise.c does for the remote's "s". When it verifies,
 * the same bytes must fail against any other static key (the signature binds the key), and the
 * identity key must survive a marshal round trip. Any GLib critical or warning aborts.
 *
 * The seeds in corpus/noise/ are payloads signed over STATIC_KEY with each key type of the
 * peer-ids spec's test vectors, one with extensions, and a few broken ones.
 *
 * Build by hand (not wired into meson), from the root, with a build dir that has generated the
 * protobuf C (e.g. build-noise):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ibuild-noise -Isrc -Isrc/p2p \
 *     -Ibuild-noise/proto $(pkg-config --cflags gio-2.0 libcrypto libprotobuf-c) \
 *     tests/fuzz/fuzz-noise-payload.c src/p2p/ph-noise.c src/p2p/ph-keys.c src/p2p/ph-peer-id.c \
 *     src/p2p/ph-multibase.c src/p2p/ph-varint.c src/p2p/ph-p2p-error.c src/p2p/ph-duplex.c \
 *     build-noise/proto/noise.pb-c.c build-noise/proto/crypto.pb-c.c \
 *     $(pkg-config --libs gio-2.0 libcrypto libprotobuf-c) -o fuzz-noise-payload
 *   ./fuzz-noise-payload -max_len=4096 tests/fuzz/corpus/noise
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "p2p/ph-keys.h"
#include "p2p/ph-noise.h"
#include "p2p/ph-p2p-error.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv);
int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* RFC 7748 §6.1, Alice's public key: any 32 bytes would do. */
static const guint8 STATIC_KEY[PH_NOISE_KEY_LEN] = {
  0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
  0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a,
};

static void
check (gboolean condition, const char *what)
{
  if (!condition)
    {
      g_printerr ("fuzz-noise-payload: %s\n", what);
      abort ();
    }
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
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPublicKey) key = NULL;
  g_autoptr (PhPublicKey) again = NULL;
  g_autoptr (PhPublicKey) other = NULL;
  g_autoptr (GBytes) marshalled = NULL;
  guint8 other_static[PH_NOISE_KEY_LEN];

  key = ph_noise_payload_verify (data, size, STATIC_KEY, &error);
  if (key == NULL)
    {
      check (error != NULL && error->domain == PH_P2P_ERROR, "a failure without a PH_P2P_ERROR");
      check (error->message != NULL && error->message[0] != '\0', "an empty error message");
      return 0;
    }
  check (error == NULL, "success with an error set");

  /* The signature covers the static key: change one bit of it and it must fail. */
  memcpy (other_static, STATIC_KEY, sizeof other_static);
  other_static[size % sizeof other_static] ^= 1 << (size % 8);
  other = ph_noise_payload_verify (data, size, other_static, &error);
  check (other == NULL, "a signature that verifies for two static keys");
  check (error != NULL && g_error_matches (error, PH_P2P_ERROR, PH_P2P_ERROR_BAD_SIGNATURE),
         "a wrong static key that is not BAD_SIGNATURE");
  g_clear_error (&error);

  /* Verifying is deterministic. */
  again = ph_noise_payload_verify (data, size, STATIC_KEY, &error);
  check (again != NULL && ph_public_key_equal (key, again), "a second verification differs");

  marshalled = ph_public_key_marshal (key);
  check (marshalled != NULL, "an accepted key that does not marshal");
  g_clear_pointer (&again, ph_public_key_unref);
  again = ph_public_key_unmarshal (g_bytes_get_data (marshalled, NULL),
                                   g_bytes_get_size (marshalled), &error);
  check (again != NULL && ph_public_key_equal (key, again), "a key that does not round-trip");
  return 0;
}
