/* fuzz-multistream.c: the fuzz input is everything a peer sends to our multistream listener (and,
 * in a second round, to our dialer), then it closes. Also fuzzes ph_multistream_parse_line on the
 * raw bytes.
 *
 * Build by hand from the source root (not wired into meson; BUILD is any configured build dir,
 * for its config.h):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -IBUILD -Isrc \
 *     $(pkg-config --cflags gio-2.0) tests/fuzz/fuzz-multistream.c src/p2p/ph-multistream.c \
 *     src/p2p/ph-duplex.c src/p2p/ph-varint.c src/p2p/ph-p2p-error.c \
 *     $(pkg-config --libs gio-2.0) -o fuzz-multistream
 *   ./fuzz-multistream -max_total_time=60 NEW_CORPUS_DIR tests/fuzz/corpus/multistream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "p2p/ph-duplex.h"
#include "p2p/ph-multistream.h"
#include "p2p/ph-p2p-error.h"

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* A peer that sends the input and then closes; what we write is counted and dropped. */
typedef struct
{
  PhDuplex parent;
  const guint8 *data;
  gsize len;
  gsize offset;
  gsize written;
} ScriptedPeer;

static gssize
scripted_read (PhDuplex *duplex, guint8 *buffer, gsize len, gint64 deadline,
               GCancellable *cancellable, GError **error)
{
  ScriptedPeer *self = (ScriptedPeer *) duplex;
  /* Hand out at most 3 bytes a time, so messages also arrive split. */
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

  self->written += len;
  return TRUE;
}

static gboolean
scripted_close_write (PhDuplex *duplex, gint64 deadline, GCancellable *cancellable, GError **error)
{
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
check_parse (const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  gsize consumed = 0;

  if (ph_multistream_parse_line (data, size, &line, &consumed, &error))
    {
      g_autoptr (GByteArray) again = g_byte_array_new ();

      /* Whatever parses must encode back to the same bytes. */
      g_assert (consumed <= size);
      g_assert (ph_multistream_append_line (again, line, NULL));
      g_assert (again->len == consumed && memcmp (again->data, data, consumed) == 0);
    }
  else
    {
      g_assert (error != NULL && error->domain == PH_P2P_ERROR);
      g_assert (line == NULL);
    }
}

static void
check_negotiation (const guint8 *data, size_t size, gboolean listener)
{
  static const char *const protocols[] = { "/noise", "/yamux/1.0.0", "/ipfs/id/1.0.0", NULL };
  ScriptedPeer peer = { { &scripted_vtable }, data, size, 0, 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *chosen = NULL;
  gboolean ok;

  if (listener)
    ok = ph_multistream_handle (&peer.parent, protocols, &chosen, PH_DEADLINE_NONE, NULL, &error);
  else
    ok = ph_multistream_select (&peer.parent, protocols, &chosen, PH_DEADLINE_NONE, NULL, &error);

  g_assert (ok == (error == NULL));
  g_assert (ok == (chosen != NULL));
  g_assert (peer.offset <= size);
  if (ok)
    g_assert (g_strv_contains (protocols, chosen));
  else
    g_assert (error->domain == PH_P2P_ERROR);
  /* The listener answers each of at most 16 proposals plus the header: bounded output. */
  g_assert (peer.written <= (PH_MULTISTREAM_MAX_ATTEMPTS + 1) * (2 + PH_MULTISTREAM_MAX_MESSAGE));
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  check_parse (data, size);
  check_negotiation (data, size, TRUE);
  check_negotiation (data, size, FALSE);
  return 0;
}
