/* fuzz-yamux.c: a yamux session whose peer is the fuzz input
 *
 * Input: byte 0 picks our role (bit 0: we are the client) and the mode (bit 1: the rest is one raw
 * byte stream from the peer). Otherwise the rest is a script of records, each an op byte (mod 9):
 *   0 frame      the next 12 bytes are a header from the peer, followed by its payload if it is a
 *                Data frame (as much of the length as the input holds); the harness waits until
 *                the reader thread has taken it all in (or the session died)
 *   1 accept     2 read SLOT LEN   3 write SLOT LEN   4 close_write SLOT   5 free SLOT
 *   6 open       7 ping            8 go_away CODE
 * Application calls use a deadline already passed, so they never wait: they take what is there.
 * Everything the session writes is parsed and must be well-formed frames. Each input also runs
 * through ph_yamux_header_decode on every 12-byte window: an accepted header must encode back to
 * the same bytes. Any mismatch, and any GLib critical or warning, aborts.
 *
 * Build by hand from the source root (not wired into meson; BUILD is any configured build dir,
 * for its config.h):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -IBUILD -Isrc \
 *     $(pkg-config --cflags gio-2.0) tests/fuzz/fuzz-yamux.c src/p2p/ph-yamux.c \
 *     src/p2p/ph-duplex.c src/p2p/ph-varint.c src/p2p/ph-p2p-error.c \
 *     $(pkg-config --libs gio-2.0) -o fuzz-yamux
 *   ./fuzz-yamux -max_len=8192 -max_total_time=60 NEW_CORPUS_DIR tests/fuzz/corpus/yamux
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "p2p/ph-p2p-error.h"
#include "p2p/ph-yamux.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv);
int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

#define SLOTS 16

static void
check (gboolean condition, const char *what)
{
  if (!condition)
    {
      g_printerr ("fuzz-yamux: %s\n", what);
      abort ();
    }
}

/* The peer: serves the input as far as the harness has released it; parses what we write. */
typedef struct
{
  PhDuplex parent;
  GMutex lock;
  GCond cond;
  const guint8 *data;
  gsize released;
  gsize consumed;
  gboolean eof;
  gboolean reader_idle;
  gboolean freed;
  guint8 out_header[PH_YAMUX_HEADER_LEN];
  gsize out_have;
  guint32 out_skip;
} ScriptedPeer;

static gssize
scripted_read (PhDuplex *duplex, guint8 *buffer, gsize len, gint64 deadline,
               GCancellable *cancellable, GError **error)
{
  ScriptedPeer *self = (ScriptedPeer *) duplex;
  gssize n = -1;

  g_mutex_lock (&self->lock);
  while (TRUE)
    {
      if (self->consumed < self->released)
        {
          n = (gssize) MIN (len, self->released - self->consumed);
          memcpy (buffer, self->data + self->consumed, (gsize) n);
          self->consumed += (gsize) n;
          break;
        }
      if (self->eof)
        {
          n = 0;
          break;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        break;
      self->reader_idle = TRUE;
      g_cond_broadcast (&self->cond);
      g_cond_wait_until (&self->cond, &self->lock, g_get_monotonic_time () + 10000);
      self->reader_idle = FALSE;
    }
  g_mutex_unlock (&self->lock);
  return n;
}

static gboolean
scripted_write (PhDuplex *duplex, const guint8 *data, gsize len, gint64 deadline,
                GCancellable *cancellable, GError **error)
{
  ScriptedPeer *self = (ScriptedPeer *) duplex;

  /* The write token serializes writers; the lock only makes that visible to the sanitizers. */
  g_mutex_lock (&self->lock);
  while (len > 0)
    {
      gsize n;

      if (self->out_skip > 0)
        {
          n = MIN (len, self->out_skip);
          self->out_skip -= (guint32) n;
        }
      else
        {
          PhYamuxHeader header;

          n = MIN (len, PH_YAMUX_HEADER_LEN - self->out_have);
          memcpy (self->out_header + self->out_have, data, n);
          self->out_have += n;
          if (self->out_have == PH_YAMUX_HEADER_LEN)
            {
              self->out_have = 0;
              check (ph_yamux_header_decode (self->out_header, PH_YAMUX_HEADER_LEN,
                                             PH_YAMUX_MAX_WRITE_PAYLOAD, &header, NULL),
                     "the session wrote a frame that does not decode");
              if (header.type == PH_YAMUX_TYPE_DATA)
                {
                  check (header.length > 0, "the session wrote an empty data frame");
                  self->out_skip = header.length;
                }
            }
        }
      data += n;
      len -= n;
    }
  g_mutex_unlock (&self->lock);
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
  ScriptedPeer *self = (ScriptedPeer *) duplex;

  g_mutex_lock (&self->lock);
  self->freed = TRUE;
  g_mutex_unlock (&self->lock);
}

static const PhDuplexVTable scripted_vtable = {
  .read = scripted_read,
  .write = scripted_write,
  .close_write = scripted_close_write,
  .free = scripted_free,
};

/* Lets the reader have data[start..end) and waits until it has taken it all, or the session
 * died. The bytes between chunks (the script's ops) are skipped. */
static void
release_and_wait (ScriptedPeer *peer, PhYamuxSession *session, gsize start, gsize end)
{
  GCancellable *closed = ph_yamux_session_get_closed_cancellable (session);
  gint64 give_up = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_mutex_lock (&peer->lock);
  if (peer->consumed == peer->released)
    {
      peer->consumed = start;
      peer->released = end;
    }
  g_cond_broadcast (&peer->cond);
  while (!(peer->reader_idle && peer->consumed == peer->released)
         && !g_cancellable_is_cancelled (closed))
    {
      check (g_get_monotonic_time () < give_up, "the reader thread is stuck");
      g_cond_wait_until (&peer->cond, &peer->lock, g_get_monotonic_time () + 1000);
    }
  g_mutex_unlock (&peer->lock);
}

static guint32
read_be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

/* An application call that fails must fail cleanly: one of the errors a caller may see. */
static void
check_error (GError *error)
{
  if (error == NULL)
    return;
  check (g_error_matches (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED)
             || g_error_matches (error, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT)
             || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT),
         error->message);
  g_error_free (error);
}

static void
run_script (ScriptedPeer *peer, PhYamuxSession *session, const guint8 *data, gsize size)
{
  PhDuplex *slots[SLOTS] = { NULL };
  guint next_slot = 0;
  static guint8 buffer[64 * 256];
  gsize i = 1;

  memset (buffer, 'z', sizeof buffer);
  while (i < size)
    {
      guint op = data[i++] % 9;
      GError *error = NULL;
      /* already passed: calls take what is there and never wait */
      gint64 now = g_get_monotonic_time ();
      PhDuplex *stream = i < size ? slots[data[i] % SLOTS] : NULL;
      PhDuplex **slot = i < size ? &slots[data[i] % SLOTS] : NULL;

      switch (op)
        {
          case 0:
            {
              gsize end = MIN (size, i + PH_YAMUX_HEADER_LEN);

              if (end - i == PH_YAMUX_HEADER_LEN && data[i + 1] == PH_YAMUX_TYPE_DATA)
                end = i + PH_YAMUX_HEADER_LEN + MIN (read_be32 (data + i + 8), size - end);
              release_and_wait (peer, session, i, end);
              i = end;
            }
            continue;
          case 1:
          case 6:
            {
              PhDuplex *got = op == 1 ? ph_yamux_session_accept_stream (session, now, NULL, &error)
                                      : ph_yamux_session_open_stream (session, now, NULL, &error);

              check ((got != NULL) == (error == NULL), "accept/open: result and error disagree");
              check_error (error);
              if (got != NULL)
                {
                  g_clear_pointer (&slots[next_slot], ph_duplex_free);
                  slots[next_slot] = got;
                  next_slot = (next_slot + 1) % SLOTS;
                }
            }
            continue;
          case 7:
            check (!ph_yamux_session_ping (session, NULL, now, NULL, &error), "ping answered");
            check_error (error);
            continue;
          default:
            break;
        }

      /* the ops with operands */
      if (i + 1 >= size)
        break;
      i += 2;
      switch (op)
        {
          case 2:
            if (stream != NULL)
              {
                gssize n = stream->vtable->read (stream, buffer, 1 + data[i - 1] % 64 * 256, now,
                                                 NULL, &error);

                check ((n >= 0) == (error == NULL), "read: result and error disagree");
                check_error (error);
              }
            break;
          case 3:
            if (stream != NULL)
              {
                gboolean ok = stream->vtable->write (stream, buffer, 1 + data[i - 1] % 64 * 256,
                                                     now, NULL, &error);

                check (ok == (error == NULL), "write: result and error disagree");
                check_error (error);
              }
            break;
          case 4:
            if (stream != NULL)
              {
                gboolean ok = stream->vtable->close_write (stream, now, NULL, &error);

                check (ok == (error == NULL), "close_write: result and error disagree");
                check_error (error);
              }
            break;
          case 5:
            g_clear_pointer (slot, ph_duplex_free);
            break;
          case 8:
            ph_yamux_session_go_away (session, data[i - 1]);
            break;
          default:
            g_assert_not_reached ();
        }
    }

  /* The peer hangs up; half the streams go before the session, half after. */
  for (guint s = 0; s < SLOTS / 2; s++)
    g_clear_pointer (&slots[s], ph_duplex_free);
  g_mutex_lock (&peer->lock);
  peer->eof = TRUE;
  g_cond_broadcast (&peer->cond);
  g_mutex_unlock (&peer->lock);
  ph_yamux_session_free (session);
  check (peer->freed, "closing the session did not free the connection");
  for (guint s = SLOTS / 2; s < SLOTS; s++)
    g_clear_pointer (&slots[s], ph_duplex_free);
}

static void
fuzz_header_decode (const guint8 *data, gsize size)
{
  for (gsize i = 0; i + PH_YAMUX_HEADER_LEN <= size && i < 256; i++)
    {
      PhYamuxHeader header;
      GError *error = NULL;
      guint8 again[PH_YAMUX_HEADER_LEN];

      if (!ph_yamux_header_decode (data + i, PH_YAMUX_HEADER_LEN, 64 * 1024, &header, &error))
        {
          check (error != NULL && error->domain == PH_P2P_ERROR, "decode failed without error");
          g_error_free (error);
          continue;
        }
      ph_yamux_header_encode (&header, again);
      check (memcmp (again, data + i, PH_YAMUX_HEADER_LEN) == 0, "header round trip");
    }
}

/* abort() rather than GLib's breakpoint trap, so libFuzzer saves the input. */
static void
abort_on_log (const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
  g_printerr ("fuzz-yamux: %s: %s\n", domain != NULL ? domain : "", message);
  abort ();
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_handler (NULL, G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING, abort_on_log, NULL);
  g_log_set_handler ("Porthole", G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING, abort_on_log, NULL);
  g_log_set_handler ("GLib", G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING, abort_on_log, NULL);
  g_log_set_handler ("GLib-GIO", G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING, abort_on_log, NULL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  ScriptedPeer peer = { { &scripted_vtable } };
  PhYamuxLimits limits = { .max_inbound_streams = 8,
                           .max_pending_accepts = 4,
                           .max_outbound_streams = 8,
                           .write_timeout_ms = 1000 };
  PhYamuxSession *session;

  fuzz_header_decode (data, size);
  if (size == 0)
    return 0;

  g_mutex_init (&peer.lock);
  g_cond_init (&peer.cond);
  peer.data = data;
  session = ph_yamux_session_new (&peer.parent, data[0] & 1, &limits);
  if (data[0] & 2)
    {
      release_and_wait (&peer, session, 1, size);
      run_script (&peer, session, data, 0); /* no script: just hang up */
    }
  else
    run_script (&peer, session, data, size);
  g_mutex_clear (&peer.lock);
  g_cond_clear (&peer.cond);
  return 0;
}
