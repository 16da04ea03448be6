/* fuzz-autonat.c: the fuzz input is everything an AutoNAT server sends on our request stream
 * before it closes: once as a v2 server (ph_autonat_v2_request, dial data included), once as a
 * v1 server (ph_autonat_v1_request), and once as the server's end of a dial-back stream
 * (ph_autonat_v2_serve_dial_back). The same bytes also go straight to the three decoders. What
 * we write is counted and dropped.
 *
 * Build by hand (not wired into meson), from the source root, after configuring any build dir
 * (BUILD below; it supplies config.h and the protoc-c output):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -IBUILD -IBUILD/proto -Isrc \
 *     $(pkg-config --cflags gio-2.0 libprotobuf-c libcrypto) tests/fuzz/fuzz-autonat.c \
 *     src/p2p/ph-autonat.c src/p2p/ph-duplex.c src/p2p/ph-varint.c src/p2p/ph-p2p-error.c \
 *     src/p2p/ph-multiaddr.c src/p2p/ph-ip-scope.c src/p2p/ph-multibase.c src/p2p/ph-peer-id.c \
 *     src/p2p/ph-keys.c BUILD/proto/autonat_v1.pb-c.c BUILD/proto/autonat_v2.pb-c.c \
 *     BUILD/proto/crypto.pb-c.c $(pkg-config --libs gio-2.0 libprotobuf-c libcrypto) \
 *     -o fuzz-autonat
 *   ./fuzz-autonat -max_total_time=60 NEW_CORPUS_DIR tests/fuzz/corpus/autonat
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "p2p/ph-autonat.h"
#include "p2p/ph-duplex.h"
#include "p2p/ph-p2p-error.h"

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* The ed25519 peer ID of peer-ids.md's test vector, as multihash bytes. */
static const guint8 peer_id_bytes[] = {
  0x00, 0x24, 0x08, 0x01, 0x12, 0x20, 0x1e, 0xd1, 0xe8, 0xfa, 0xe2, 0xc4, 0xa1,
  0x44, 0xb8, 0xbe, 0x8f, 0xd4, 0xb4, 0x7b, 0xf3, 0xd3, 0xb3, 0x4b, 0x87, 0x1c,
  0x3c, 0xac, 0xf6, 0x01, 0x0f, 0x0e, 0x42, 0xd4, 0x74, 0xfc, 0xe2, 0x7e,
};

#define MAX_DIAL_DATA 100000

/* A server that sends the input and then closes; what we write is counted and dropped. */
typedef struct
{
  PhDuplex parent;
  const guint8 *data;
  gsize len;
  gsize offset;
  gsize written;
  gboolean write_closed;
} ScriptedPeer;

static gssize
scripted_read (PhDuplex *duplex, guint8 *buffer, gsize len, gint64 deadline,
               GCancellable *cancellable, GError **error)
{
  ScriptedPeer *self = (ScriptedPeer *) duplex;
  /* At most 3 bytes a time, so messages also arrive split. */
  gsize n = MIN (MIN (len, self->len - self->offset), 3);

  memcpy (buffer, self->data + self->offset, n);
  self->offset += n;
  return n;
}

static gboolean
scripted_write (PhDuplex *duplex, const guint8 *data, gsize len, gint64 deadline,
                GCancellable *cancellable, GError **error)
{
  ScriptedPeer *self = (ScriptedPeer *) duplex;

  g_assert_false (self->write_closed);
  self->written += len;
  return TRUE;
}

static gboolean
scripted_close_write (PhDuplex *duplex, gint64 deadline, GCancellable *cancellable, GError **error)
{
  ScriptedPeer *self = (ScriptedPeer *) duplex;

  self->write_closed = TRUE;
  return TRUE;
}

static void
scripted_free (PhDuplex *duplex)
{
}

static const PhDuplexVTable scripted_vtable = {
  .read = scripted_read,
  .write = scripted_write,
  .close_write = scripted_close_write,
  .free = scripted_free,
};

static void
scripted_init (ScriptedPeer *peer, const guint8 *data, gsize len)
{
  memset (peer, 0, sizeof *peer);
  peer->parent.vtable = &scripted_vtable;
  peer->data = data;
  peer->len = len;
}

static void
fuzz_v2_request (const guint8 *data, gsize size, PhMultiaddr *addr)
{
  g_autoptr (GError) error = NULL;
  PhAutonatV2Result result;
  ScriptedPeer peer;

  scripted_init (&peer, data, size);
  if (!ph_autonat_v2_request (&peer.parent, addr, 0x0102030405060708, MAX_DIAL_DATA, &result,
                              PH_DEADLINE_NONE, NULL, &error))
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == PH_P2P_ERROR);
      return;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (result.dial_data_sent, <, (guint64) MAX_DIAL_DATA + 100);
  g_assert_true (result.dial_data_sent == 0 || result.dial_data_sent >= result.dial_data_requested);
  switch (result.outcome)
    {
      case PH_AUTONAT_V2_OUTCOME_RESPONSE:
        g_assert_cmpstr (ph_autonat_v2_response_status_to_string (result.status), !=, "UNKNOWN");
        g_assert_cmpstr (ph_autonat_v2_dial_status_to_string (result.dial_status), !=, "UNKNOWN");
        if (result.status == PH_AUTONAT_V2_RESPONSE_OK)
          {
            g_assert_cmpuint (result.addr_idx, ==, 0);
            g_assert_cmpint (result.dial_status, !=, PH_AUTONAT_V2_DIAL_UNUSED);
          }
        g_assert_true (peer.write_closed);
        break;
      case PH_AUTONAT_V2_OUTCOME_NO_RESPONSE:
        g_assert_true (peer.write_closed);
        break;
      case PH_AUTONAT_V2_OUTCOME_DIAL_DATA_REFUSED:
        g_assert_cmpuint (result.dial_data_requested, >, MAX_DIAL_DATA);
        g_assert_cmpuint (result.dial_data_sent, ==, 0);
        g_assert_false (peer.write_closed);
        break;
      default:
        g_assert_not_reached ();
    }
}

static void
fuzz_v1_request (const guint8 *data, gsize size, const PhPeerId *id, PhMultiaddr *addr)
{
  g_autoptr (GError) error = NULL;
  g_auto (PhAutonatV1Result) result = { 0 };
  ScriptedPeer peer;

  scripted_init (&peer, data, size);
  if (!ph_autonat_v1_request (&peer.parent, id, &addr, 1, &result, PH_DEADLINE_NONE, NULL, &error))
    {
      g_assert_nonnull (error);
      g_assert_null (result.status_text);
      g_assert_null (result.addr);
      return;
    }
  g_assert_no_error (error);
  g_assert_true (peer.write_closed);
  g_assert_cmpstr (ph_autonat_v1_status_to_string (result.status), !=, "UNKNOWN");
  if (result.status_text != NULL)
    {
      g_assert_true (g_utf8_validate (result.status_text, -1, NULL));
      g_assert_cmpint (g_utf8_strlen (result.status_text, -1), <=,
                       PH_AUTONAT_V1_MAX_STATUS_TEXT + 1);
      for (const char *p = result.status_text; *p != '\0'; p = g_utf8_next_char (p))
        g_assert_true (g_unichar_isprint (g_utf8_get_char (p)));
    }
  g_assert_false (result.addr != NULL && result.addr_skipped);
}

static void
fuzz_dial_back (const guint8 *data, gsize size)
{
  g_autoptr (GError) error = NULL;
  ScriptedPeer peer;
  guint64 nonce = 0;

  scripted_init (&peer, data, size);
  if (ph_autonat_v2_serve_dial_back (&peer.parent, &nonce, PH_DEADLINE_NONE, NULL, &error))
    {
      /* The answer is DialBackResponse{OK}: the one byte 00. */
      g_assert_cmpuint (peer.written, ==, 1);
      g_assert_true (peer.write_closed);
    }
  else
    {
      g_assert_nonnull (error);
      g_assert_cmpuint (peer.written, ==, 0);
    }
}

static void
fuzz_decoders (const guint8 *data, gsize size)
{
  g_autoptr (GError) error = NULL;
  g_auto (PhAutonatV1Result) result = { 0 };
  PhAutonatV2ServerMessage message;
  guint64 nonce;

  if (!ph_autonat_v2_server_message_decode (data, size, &message, &error))
    g_assert_nonnull (error);
  g_clear_error (&error);
  if (!ph_autonat_v1_response_decode (data, size, &result, &error))
    g_assert_nonnull (error);
  g_clear_error (&error);
  if (ph_autonat_v2_dial_back_decode (data, size, &nonce, &error))
    {
      /* Re-encoding gives the canonical form, which decodes to the same nonce. */
      g_autoptr (GBytes) again = ph_autonat_v2_dial_back_encode (nonce);
      gsize len;
      const guint8 *bytes = g_bytes_get_data (again, &len);
      guint64 nonce_again = ~nonce;

      g_assert_true (ph_autonat_v2_dial_back_decode (bytes, len, &nonce_again, NULL));
      g_assert_cmpuint (nonce_again, ==, nonce);
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static PhMultiaddr *addr;
  static PhPeerId *id;

  if (addr == NULL)
    {
      static const guint8 addr_bytes[] = { 0x04, 203, 0, 113, 7, 0x06, 0x0f, 0xa1 };

      addr = ph_multiaddr_new_from_bytes (addr_bytes, sizeof addr_bytes, NULL);
      id = ph_peer_id_from_bytes (peer_id_bytes, sizeof peer_id_bytes, NULL);
      g_assert_true (addr != NULL && id != NULL);
    }

  fuzz_v2_request (data, size, addr);
  fuzz_v1_request (data, size, id, addr);
  fuzz_dial_back (data, size);
  fuzz_decoders (data, size);
  return 0;
}
