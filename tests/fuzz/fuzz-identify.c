/* fuzz-identify.c: the fuzz input is everything an identify responder sends before it closes
 * (length-prefixed parts, merged), and, read a second way, one bare Identify message. Whatever
 * decodes must encode and decode again to the same information.
 *
 * Build by hand (not wired into meson), from the source root, after building once with meson in
 * build-identify (or any build dir: it supplies config.h and the protoc-c output):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Isrc -Isrc/p2p -Ibuild-identify \
 *     -Ibuild-identify/proto $(pkg-config --cflags gio-2.0 libprotobuf-c libcrypto) \
 *     tests/fuzz/fuzz-identify.c src/p2p/ph-identify.c src/p2p/ph-multiaddr.c \
 *     src/p2p/ph-ip-scope.c src/p2p/ph-keys.c src/p2p/ph-peer-id.c src/p2p/ph-multibase.c \
 *     src/p2p/ph-varint.c src/p2p/ph-duplex.c src/p2p/ph-p2p-error.c \
 *     build-identify/proto/identify.pb-c.c \
 *     build-identify/proto/crypto.pb-c.c \
 *     $(pkg-config --libs gio-2.0 libprotobuf-c libcrypto) -o fuzz-identify
 *   ./fuzz-identify -max_len=70000 tests/fuzz/corpus/identify
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "p2p/ph-identify.h"
#include "p2p/ph-p2p-error.h"

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
assert_same (const PhIdentifyInfo *a, const PhIdentifyInfo *b)
{
  g_assert_cmpstr (a->protocol_version, ==, b->protocol_version);
  g_assert_cmpstr (a->agent_version, ==, b->agent_version);
  g_assert_true ((a->public_key == NULL) == (b->public_key == NULL));
  if (a->public_key != NULL)
    g_assert_true (ph_public_key_equal (a->public_key, b->public_key));
  g_assert_cmpuint (a->listen_addrs->len, ==, b->listen_addrs->len);
  for (guint i = 0; i < a->listen_addrs->len; i++)
    g_assert_true (ph_multiaddr_equal (g_ptr_array_index (a->listen_addrs, i),
                                       g_ptr_array_index (b->listen_addrs, i)));
  g_assert_cmpuint (b->n_skipped_listen_addrs, ==, 0);
  g_assert_true ((a->observed_addr == NULL) == (b->observed_addr == NULL));
  if (a->observed_addr != NULL)
    g_assert_true (ph_multiaddr_equal (a->observed_addr, b->observed_addr));
  g_assert_false (b->observed_addr_skipped);
  g_assert_cmpuint (a->protocols->len, ==, b->protocols->len);
  for (guint i = 0; i < a->protocols->len; i++)
    g_assert_cmpstr (g_ptr_array_index (a->protocols, i), ==, g_ptr_array_index (b->protocols, i));
  g_assert_true ((a->signed_peer_record == NULL) == (b->signed_peer_record == NULL));
  if (a->signed_peer_record != NULL)
    g_assert_true (g_bytes_equal (a->signed_peer_record, b->signed_peer_record));
}

static void
check (PhIdentifyInfo *info, GError *error)
{
  g_autoptr (GBytes) encoded = NULL;
  g_autoptr (PhIdentifyInfo) again = NULL;
  g_autoptr (GError) again_error = NULL;
  g_autoptr (PhPeerId) someone = NULL;
  const guint8 *data;
  gsize len;

  if (info == NULL)
    {
      g_assert_nonnull (error);
      g_assert_nonnull (error->message);
      return;
    }
  g_assert_null (error);
  g_assert_cmpuint (info->listen_addrs->len + info->n_skipped_listen_addrs, <=,
                    PH_IDENTIFY_MAX_LISTEN_ADDRS);
  g_assert_cmpuint (info->protocols->len, <=, PH_IDENTIFY_MAX_PROTOCOLS);

  encoded = ph_identify_info_encode (info);
  data = g_bytes_get_data (encoded, &len);
  if (len > PH_IDENTIFY_MAX_SIZE)
    return;
  again = ph_identify_info_decode (data, len, &again_error);
  g_assert_no_error (again_error);
  assert_same (info, again);

  if (info->public_key != NULL)
    {
      someone = ph_peer_id_from_public_key (info->public_key);
      g_assert_true (ph_identify_info_check_peer (info, someone, NULL));
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  PhIdentifyInfo *info;
  GError *error = NULL;

  info = ph_identify_info_decode_parts (data, size, &error);
  check (info, error);
  g_clear_pointer (&info, ph_identify_info_free);
  g_clear_error (&error);

  info = ph_identify_info_decode (data, size, &error);
  check (info, error);
  g_clear_pointer (&info, ph_identify_info_free);
  g_clear_error (&error);
  return 0;
}
