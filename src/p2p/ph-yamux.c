/* ph-yamux.c: yamux frames, and sessions that multiplex streams over one PhDuplex
 *
 * Threads. One reader thread per session reads frames and dispatches them; any worker thread may
 * use any stream (one reader and one writer per stream). One mutex guards the session and all of
 * its streams. Writing to the connection needs the write token (a flag under the mutex, waited
 * for with the caller's deadline) so frames never interleave; the mutex itself is never held
 * across I/O. Header-only frames (SYN/ACK/FIN/RST, window updates, pongs, Go Away) are queued:
 * whoever takes the token sends the queue before its own frame (so a SYN always precedes the
 * stream's data), and a small writer thread sends it when nobody else writes. So the reader
 * thread never writes, and keeps reading even when the peer stops reading from us.
 *
 * Memory. A stream buffers at most its receive window: the peer may send only what we advertised
 * (spec "Flow Control"), and more is a protocol error that ends the session. Inbound streams are
 * capped, so a peer can pin at most max_inbound_streams × stream_window bytes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "ph-p2p-error.h"
#include "ph-yamux.h"

#define CONTROL_QUEUE_LEN 256
#define READ_CHUNK (16 * 1024)
#define RING_MIN (4 * 1024)
/* How long close waits to send its Go Away before cutting the connection. */
#define CLOSE_FLUSH_MS 1000

/* Frame codec */

void
ph_yamux_header_encode (const PhYamuxHeader *header, guint8 out[PH_YAMUX_HEADER_LEN])
{
  g_return_if_fail (header != NULL && out != NULL);

  out[0] = 0; /* version */
  out[1] = (guint8) header->type;
  out[2] = header->flags >> 8;
  out[3] = header->flags & 0xff;
  out[4] = header->stream_id >> 24;
  out[5] = (header->stream_id >> 16) & 0xff;
  out[6] = (header->stream_id >> 8) & 0xff;
  out[7] = header->stream_id & 0xff;
  out[8] = header->length >> 24;
  out[9] = (header->length >> 16) & 0xff;
  out[10] = (header->length >> 8) & 0xff;
  out[11] = header->length & 0xff;
}

static guint32
read_be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

gboolean
ph_yamux_header_decode (const guint8 *data, gsize len, guint32 max_data_len, PhYamuxHeader *header,
                        GError **error)
{
  PhYamuxHeader h;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (header != NULL, FALSE);

  if (len < PH_YAMUX_HEADER_LEN)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                   "yamux header of %" G_GSIZE_FORMAT " bytes, need 12", len);
      return FALSE;
    }
  if (data[0] != 0)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL, "yamux version %u, only 0 exists",
                   data[0]);
      return FALSE;
    }
  if (data[1] > PH_YAMUX_TYPE_GO_AWAY)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL, "unknown yamux frame type %u",
                   data[1]);
      return FALSE;
    }

  h.type = data[1];
  h.flags = (guint16) (data[2] << 8 | data[3]);
  h.stream_id = read_be32 (data + 4);
  h.length = read_be32 (data + 8);

  switch (h.type)
    {
      case PH_YAMUX_TYPE_DATA:
      case PH_YAMUX_TYPE_WINDOW_UPDATE:
        /* spec "StreamID Field": 0 is the session itself */
        if (h.stream_id == 0)
          {
            g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                                 "yamux stream frame on stream 0");
            return FALSE;
          }
        if (h.type == PH_YAMUX_TYPE_DATA && h.length > max_data_len)
          {
            g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                         "yamux data frame of %u bytes, over the limit of %u", h.length,
                         max_data_len);
            return FALSE;
          }
        break;
      case PH_YAMUX_TYPE_PING:
      case PH_YAMUX_TYPE_GO_AWAY:
        /* spec: "Both Ping and Go Away messages should always use the 0 StreamID" */
        if (h.stream_id != 0)
          {
            g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                         "yamux session frame on stream %u", h.stream_id);
            return FALSE;
          }
        /* SYN asks, ACK answers; both or neither means nothing (js-libp2p-yamux agrees) */
        if (h.type == PH_YAMUX_TYPE_PING
            && (h.flags & (PH_YAMUX_FLAG_SYN | PH_YAMUX_FLAG_ACK)) != PH_YAMUX_FLAG_SYN
            && (h.flags & (PH_YAMUX_FLAG_SYN | PH_YAMUX_FLAG_ACK)) != PH_YAMUX_FLAG_ACK)
          {
            g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL, "yamux ping with flags 0x%x",
                         h.flags);
            return FALSE;
          }
        break;
      default:
        g_assert_not_reached ();
    }

  *header = h;
  return TRUE;
}

void
ph_yamux_limits_init (PhYamuxLimits *limits)
{
  g_return_if_fail (limits != NULL);

  limits->max_inbound_streams = 64;
  limits->max_outbound_streams = 64;
  limits->max_pending_accepts = 32;
  limits->stream_window = PH_YAMUX_INITIAL_WINDOW;
  limits->write_timeout_ms = 10000;
}

/* Sessions and streams */

typedef struct _PhYamuxStream PhYamuxStream;

struct _PhYamuxSession
{
  gint ref_count; /* atomic: the handle, each stream, the reader and writer threads */
  gboolean is_client;
  PhYamuxLimits limits;
  GCancellable *io_cancellable;     /* cancelled on death: wakes the reader and any writer */
  GCancellable *closed_cancellable; /* cancelled on death, for the owner */
  guint8 *write_buf;                /* used by the write token's holder only */
  guint8 read_buf[READ_CHUNK];      /* used by the reader thread only */

  GMutex lock; /* guards everything below, and every stream's fields */
  PhDuplex *io;
  GThread *reader;
  GThread *writer;
  GHashTable *streams; /* id → PhYamuxStream, not owned: a stream leaves when its handle is freed */
  GQueue accept_queue; /* inbound PhYamuxStream not yet accepted; owns their handles */
  guint n_inbound;
  guint n_outbound;
  guint64 next_id;
  gboolean closed;
  GError *error; /* why, once closed */
  gboolean local_go_away;
  gboolean remote_go_away;
  guint32 remote_go_away_code;
  gboolean writing; /* the write token */
  guint8 controls[CONTROL_QUEUE_LEN][PH_YAMUX_HEADER_LEN];
  guint n_controls;
  gboolean ping_active;
  gboolean ping_answered;
  guint32 ping_value;
  GCond accept_cond;
  GCond open_cond;
  GCond write_cond;
  GCond ping_cond;
  GCond flush_cond; /* the writer thread waits here for queued control frames */
};

struct _PhYamuxStream
{
  PhDuplex parent;
  PhYamuxSession *session; /* strong */
  guint32 id;
  gboolean inbound;
  gint ref_count;    /* under the lock: the handle, and the reader thread while it copies data */
  gboolean released; /* the handle was freed: the stream has left the table */

  /* Receive side: recv_window + ring_len + unreturned == the window we advertised. */
  guint8 *ring;
  gsize ring_cap;
  gsize ring_start;
  gsize ring_len;
  guint32 recv_window; /* bytes the peer may still send */
  guint32 unreturned;  /* consumed (or not yet advertised) and not yet given back */

  guint64 send_window; /* bytes we may still send */
  gboolean local_fin;
  gboolean remote_fin;
  gboolean reset;
  gboolean reset_by_peer;
  GCond recv_cond;
  GCond send_cond;
};

static const PhDuplexVTable stream_vtable;

static PhYamuxSession *
session_ref (PhYamuxSession *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

/* A session thread still set at the end: the current thread itself (close ran on it), or one that
 * has finished its work. */
static void
thread_release (GThread *thread)
{
  if (thread == NULL)
    return;
  if (thread == g_thread_self ())
    g_thread_unref (thread);
  else
    g_thread_join (thread);
}

static void
session_unref (PhYamuxSession *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;

  thread_release (self->reader);
  thread_release (self->writer);
  g_clear_pointer (&self->io, ph_duplex_free);
  g_hash_table_unref (self->streams);
  g_clear_error (&self->error);
  g_object_unref (self->io_cancellable);
  g_object_unref (self->closed_cancellable);
  g_free (self->write_buf);
  g_cond_clear (&self->accept_cond);
  g_cond_clear (&self->open_cond);
  g_cond_clear (&self->write_cond);
  g_cond_clear (&self->ping_cond);
  g_cond_clear (&self->flush_cond);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static void
stream_destroy (PhYamuxStream *stream)
{
  g_free (stream->ring);
  g_cond_clear (&stream->recv_cond);
  g_cond_clear (&stream->send_cond);
  session_unref (stream->session);
  g_free (stream);
}

/* Lock held. TRUE when the caller must call stream_destroy after unlocking. */
static gboolean
stream_unref_locked (PhYamuxStream *stream)
{
  return --stream->ref_count == 0;
}

static void
broadcast_all_locked (PhYamuxSession *self)
{
  GHashTableIter iter;
  gpointer value;

  g_cond_broadcast (&self->accept_cond);
  g_cond_broadcast (&self->open_cond);
  g_cond_broadcast (&self->write_cond);
  g_cond_broadcast (&self->ping_cond);
  g_cond_broadcast (&self->flush_cond);
  g_hash_table_iter_init (&iter, self->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      PhYamuxStream *stream = value;

      g_cond_broadcast (&stream->recv_cond);
      g_cond_broadcast (&stream->send_cond);
    }
}

/* Lock held. The session is dead from here on; takes error. Only the io cancellable is cancelled
 * here (its handlers belong to the transport, never to us); the closed cancellable is cancelled
 * by the reader thread on its way out, or by close(), outside the lock. */
static void
fail_locked (PhYamuxSession *self, GError *error)
{
  if (self->closed)
    {
      g_clear_error (&error);
      return;
    }
  g_assert (error != NULL);
  self->closed = TRUE;
  self->error = error;
  broadcast_all_locked (self);
  g_cancellable_cancel (self->io_cancellable);
}

static void
set_closed_error_locked (PhYamuxSession *self, GError **error)
{
  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED, "yamux session closed: %s",
               self->error->message);
}

/* Waking blocked calls when a caller's cancellable fires */

typedef struct
{
  PhYamuxSession *session;
  PhYamuxStream *stream;
} Waker;

static void
waker_cb (GCancellable *cancellable, gpointer user_data)
{
  Waker *waker = user_data;

  /* Spurious wake-ups are harmless: every waiter re-checks its condition. */
  g_mutex_lock (&waker->session->lock);
  g_cond_broadcast (&waker->session->accept_cond);
  g_cond_broadcast (&waker->session->open_cond);
  g_cond_broadcast (&waker->session->write_cond);
  g_cond_broadcast (&waker->session->ping_cond);
  if (waker->stream != NULL)
    {
      g_cond_broadcast (&waker->stream->recv_cond);
      g_cond_broadcast (&waker->stream->send_cond);
    }
  g_mutex_unlock (&waker->session->lock);
}

/* Both connect and disconnect must run without the lock: connect calls back at once when already
 * cancelled, and disconnect waits for a running callback. */
static gulong
waker_connect (Waker *waker, GCancellable *cancellable)
{
  if (cancellable == NULL)
    return 0;
  return g_cancellable_connect (cancellable, G_CALLBACK (waker_cb), waker, NULL);
}

/* Lock held. FALSE with an error when the caller must give up; otherwise one wait happened. */
static gboolean
wait_locked (PhYamuxSession *self, GCond *cond, gint64 deadline, GCancellable *cancellable,
             GError **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (ph_deadline_passed (deadline, error))
    return FALSE;
  if (deadline == PH_DEADLINE_NONE)
    g_cond_wait (cond, &self->lock);
  else
    g_cond_wait_until (cond, &self->lock, deadline);
  return TRUE;
}

/* Writing */

/* Write token held, lock not held. Any failure leaves a frame cut short, so the caller must end
 * the session with the error. The deadline is the connection's, not a caller's: a frame goes out
 * whole or the session dies. */
static gboolean
io_write (PhYamuxSession *self, const guint8 *data, gsize len, gint64 deadline, GError **error)
{
  return ph_duplex_write (self->io, data, len, deadline, self->io_cancellable, error);
}

static gint64
write_deadline (PhYamuxSession *self)
{
  return ph_deadline_in (self->limits.write_timeout_ms);
}

/* Lock held, write token held: sends the queued control frames. */
static void
flush_controls_locked (PhYamuxSession *self, gint64 deadline)
{
  while (self->n_controls > 0 && !self->closed)
    {
      gsize len = self->n_controls * PH_YAMUX_HEADER_LEN;
      GError *error = NULL;
      gboolean ok;

      memcpy (self->write_buf, self->controls, len);
      self->n_controls = 0;
      g_mutex_unlock (&self->lock);
      ok = io_write (self, self->write_buf, len, deadline, &error);
      g_mutex_lock (&self->lock);
      if (!ok)
        fail_locked (self, error);
    }
}

/* Lock held, write token held: sends the queued control frames, then lets go of the token. */
static void
release_token_locked (PhYamuxSession *self)
{
  flush_controls_locked (self, write_deadline (self));
  self->writing = FALSE;
  g_cond_broadcast (&self->write_cond);
}

/* Lock held. Waits for the write token. */
static gboolean
acquire_token_locked (PhYamuxSession *self, gint64 deadline, GCancellable *cancellable,
                      GError **error)
{
  while (TRUE)
    {
      if (self->closed)
        {
          set_closed_error_locked (self, error);
          return FALSE;
        }
      if (!self->writing)
        break;
      if (!wait_locked (self, &self->write_cond, deadline, cancellable, error))
        return FALSE;
    }
  self->writing = TRUE;
  return TRUE;
}

/* Lock held. Before the session dies: sends what is queued (a Go Away) if the connection takes
 * it within CLOSE_FLUSH_MS; the peer may not be reading. */
static void
flush_before_close_locked (PhYamuxSession *self)
{
  gint64 deadline = ph_deadline_in (CLOSE_FLUSH_MS);

  if (self->n_controls == 0 || !acquire_token_locked (self, deadline, NULL, NULL))
    return;
  flush_controls_locked (self, deadline);
  self->writing = FALSE;
  g_cond_broadcast (&self->write_cond);
}

/* Lock held. Makes sure queued control frames go out soon: the token's holder sends them before
 * it lets go; otherwise the writer thread does. */
static void
kick_locked (PhYamuxSession *self)
{
  if (self->n_controls > 0 && !self->writing)
    g_cond_signal (&self->flush_cond);
}

static gpointer
writer_thread (gpointer user_data)
{
  PhYamuxSession *self = user_data;

  g_mutex_lock (&self->lock);
  while (!self->closed)
    {
      if (self->n_controls > 0 && !self->writing)
        {
          self->writing = TRUE;
          release_token_locked (self);
        }
      else
        g_cond_wait (&self->flush_cond, &self->lock);
    }
  g_mutex_unlock (&self->lock);

  session_unref (self);
  return NULL;
}

/* Lock held. Queues a header-only frame; call kick_locked after. */
static void
queue_control_locked (PhYamuxSession *self, PhYamuxType type, guint16 flags, guint32 stream_id,
                      guint32 length)
{
  PhYamuxHeader header = { type, flags, stream_id, length };

  if (self->closed)
    return;
  if (self->n_controls == CONTROL_QUEUE_LEN)
    {
      /* Only a peer that sends pings or opens streams without ever reading gets here. */
      fail_locked (self, g_error_new_literal (PH_P2P_ERROR, PH_P2P_ERROR_LIMIT,
                                              "too many yamux control frames queued: the peer "
                                              "does not read"));
      return;
    }
  ph_yamux_header_encode (&header, self->controls[self->n_controls++]);
}

static void
send_control_locked (PhYamuxSession *self, PhYamuxType type, guint16 flags, guint32 stream_id,
                     guint32 length)
{
  queue_control_locked (self, type, flags, stream_id, length);
  kick_locked (self);
}

/* Lock held. Go Away at most once per session. */
static void
go_away_locked (PhYamuxSession *self, guint32 code)
{
  if (self->local_go_away)
    return;
  self->local_go_away = TRUE;
  send_control_locked (self, PH_YAMUX_TYPE_GO_AWAY, 0, 0, code);
}

/* Streams */

static PhYamuxStream *
stream_new_locked (PhYamuxSession *self, guint32 id, gboolean inbound)
{
  PhYamuxStream *stream = g_new0 (PhYamuxStream, 1);

  stream->parent.vtable = &stream_vtable;
  stream->session = session_ref (self);
  stream->id = id;
  stream->inbound = inbound;
  stream->ref_count = 1;
  stream->send_window = PH_YAMUX_INITIAL_WINDOW;
  /* The peer assumes the initial window until our SYN or ACK advertises the rest. */
  stream->recv_window = PH_YAMUX_INITIAL_WINDOW;
  stream->unreturned = self->limits.stream_window - PH_YAMUX_INITIAL_WINDOW;
  g_cond_init (&stream->recv_cond);
  g_cond_init (&stream->send_cond);
  g_hash_table_insert (self->streams, GUINT_TO_POINTER (id), stream);
  if (inbound)
    self->n_inbound++;
  else
    self->n_outbound++;
  return stream;
}

/* Lock held. Queues a Window Update giving back what the application consumed, with flags. */
static void
return_window_locked (PhYamuxStream *stream, guint16 flags)
{
  guint32 delta = stream->unreturned;

  stream->recv_window += delta;
  stream->unreturned = 0;
  send_control_locked (stream->session, PH_YAMUX_TYPE_WINDOW_UPDATE, flags, stream->id, delta);
}

static void
ring_append (PhYamuxStream *stream, const guint8 *data, gsize len, gsize max_cap)
{
  gsize end;
  gsize first;

  if (stream->ring_len + len > stream->ring_cap)
    {
      /* Grow by doubling up to the window; flow control guarantees the window is enough. */
      gsize cap = MAX (stream->ring_cap, RING_MIN);
      guint8 *ring;

      while (cap < stream->ring_len + len)
        cap *= 2;
      cap = MIN (cap, max_cap);
      g_assert (stream->ring_len + len <= cap);
      ring = g_malloc (cap);
      first = MIN (stream->ring_len, stream->ring_cap - stream->ring_start);
      if (stream->ring_len > 0)
        {
          memcpy (ring, stream->ring + stream->ring_start, first);
          memcpy (ring + first, stream->ring, stream->ring_len - first);
        }
      g_free (stream->ring);
      stream->ring = ring;
      stream->ring_cap = cap;
      stream->ring_start = 0;
    }

  end = (stream->ring_start + stream->ring_len) % stream->ring_cap;
  first = MIN (len, stream->ring_cap - end);
  memcpy (stream->ring + end, data, first);
  memcpy (stream->ring, data + first, len - first);
  stream->ring_len += len;
}

static gsize
ring_take (PhYamuxStream *stream, guint8 *buffer, gsize len)
{
  gsize n = MIN (len, stream->ring_len);
  gsize first = MIN (n, stream->ring_cap - stream->ring_start);

  memcpy (buffer, stream->ring + stream->ring_start, first);
  memcpy (buffer + first, stream->ring, n - first);
  stream->ring_start = (stream->ring_start + n) % stream->ring_cap;
  stream->ring_len -= n;
  if (stream->ring_len == 0)
    stream->ring_start = 0;
  return n;
}

static void
stream_reset_locked (PhYamuxStream *stream, gboolean by_peer)
{
  stream->reset = TRUE;
  stream->reset_by_peer = by_peer;
  /* What was buffered is lost with a reset. */
  g_clear_pointer (&stream->ring, g_free);
  stream->ring_cap = stream->ring_start = stream->ring_len = 0;
  g_cond_broadcast (&stream->recv_cond);
  g_cond_broadcast (&stream->send_cond);
}

/* Lock held. FALSE with an error when the stream can no longer be used in this direction. */
static gboolean
stream_check_usable_locked (PhYamuxStream *stream, GError **error)
{
  if (stream->reset)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED, "yamux stream %u reset %s", stream->id,
                   stream->reset_by_peer ? "by the peer" : "locally");
      return FALSE;
    }
  return TRUE;
}

static gssize
stream_read (PhDuplex *duplex, guint8 *buffer, gsize len, gint64 deadline,
             GCancellable *cancellable, GError **error)
{
  PhYamuxStream *stream = (PhYamuxStream *) duplex;
  PhYamuxSession *self = stream->session;
  Waker waker = { self, stream };
  gulong handler = waker_connect (&waker, cancellable);
  gssize result = -1;

  g_mutex_lock (&self->lock);
  while (TRUE)
    {
      if (!stream_check_usable_locked (stream, error))
        break;
      if (stream->ring_len > 0)
        {
          gsize n = ring_take (stream, buffer, len);

          stream->unreturned += n;
          /* Give the window back in halves: few updates, and the peer never stalls while we
           * keep reading. No point once the peer has finished sending. */
          if (stream->unreturned >= self->limits.stream_window / 2 && !stream->remote_fin)
            return_window_locked (stream, 0);
          result = n;
          break;
        }
      if (stream->remote_fin)
        {
          result = 0;
          break;
        }
      if (self->closed)
        {
          set_closed_error_locked (self, error);
          break;
        }
      if (!wait_locked (self, &stream->recv_cond, deadline, cancellable, error))
        break;
    }
  g_mutex_unlock (&self->lock);

  g_cancellable_disconnect (cancellable, handler);
  return result;
}

/* Lock held. FALSE with an error when writing is over for this stream. */
static gboolean
stream_check_writable_locked (PhYamuxStream *stream, GError **error)
{
  if (!stream_check_usable_locked (stream, error))
    return FALSE;
  if (stream->local_fin)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED, "yamux stream %u closed for writing",
                   stream->id);
      return FALSE;
    }
  if (stream->session->closed)
    {
      set_closed_error_locked (stream->session, error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
stream_write (PhDuplex *duplex, const guint8 *data, gsize len, gint64 deadline,
              GCancellable *cancellable, GError **error)
{
  PhYamuxStream *stream = (PhYamuxStream *) duplex;
  PhYamuxSession *self = stream->session;
  Waker waker = { self, stream };
  gulong handler = waker_connect (&waker, cancellable);
  gsize written = 0;
  gboolean ok = TRUE;

  g_mutex_lock (&self->lock);
  while (written < len)
    {
      PhYamuxHeader header = { PH_YAMUX_TYPE_DATA, 0, stream->id, 0 };
      GError *write_error = NULL;

      if (!stream_check_writable_locked (stream, error))
        {
          ok = FALSE;
          break;
        }
      if (stream->send_window == 0)
        {
          /* The peer's window is full: wait for its Window Update. */
          if (!wait_locked (self, &stream->send_cond, deadline, cancellable, error))
            {
              ok = FALSE;
              break;
            }
          continue;
        }
      if (!acquire_token_locked (self, deadline, cancellable, error))
        {
          ok = FALSE;
          break;
        }
      /* What was queued before (this stream's SYN or ACK) goes out before its data. */
      flush_controls_locked (self, write_deadline (self));
      /* The stream may have been reset or closed while we waited. */
      if (stream->reset || stream->local_fin || self->closed)
        {
          release_token_locked (self);
          continue;
        }

      header.length
          = (guint32) MIN (MIN (len - written, stream->send_window), PH_YAMUX_MAX_WRITE_PAYLOAD);
      stream->send_window -= header.length;
      ph_yamux_header_encode (&header, self->write_buf);
      memcpy (self->write_buf + PH_YAMUX_HEADER_LEN, data + written, header.length);

      g_mutex_unlock (&self->lock);
      if (!io_write (self, self->write_buf, PH_YAMUX_HEADER_LEN + header.length,
                     write_deadline (self), &write_error))
        {
          g_mutex_lock (&self->lock);
          fail_locked (self, write_error);
          release_token_locked (self);
          continue; /* reports the closed session */
        }
      g_mutex_lock (&self->lock);
      release_token_locked (self);
      written += header.length;
    }
  g_mutex_unlock (&self->lock);

  g_cancellable_disconnect (cancellable, handler);
  return ok;
}

static gboolean
stream_close_write (PhDuplex *duplex, gint64 deadline, GCancellable *cancellable, GError **error)
{
  PhYamuxStream *stream = (PhYamuxStream *) duplex;
  PhYamuxSession *self = stream->session;
  gboolean ok = TRUE;

  g_mutex_lock (&self->lock);
  if (stream->local_fin && !stream->reset)
    ; /* already half-closed */
  else if (!stream_check_writable_locked (stream, error))
    ok = FALSE;
  else
    {
      /* Queued behind nothing of ours: this stream's data frames were all written already. */
      stream->local_fin = TRUE;
      send_control_locked (self, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_FIN, stream->id, 0);
      if (self->closed)
        {
          set_closed_error_locked (self, error);
          ok = FALSE;
        }
    }
  g_mutex_unlock (&self->lock);
  return ok;
}

static void
stream_free (PhDuplex *duplex)
{
  PhYamuxStream *stream = (PhYamuxStream *) duplex;
  PhYamuxSession *self = stream->session;
  gboolean destroy;

  g_mutex_lock (&self->lock);
  /* spec "Closing a stream": a stream both sides closed is done; anything else is abandoned. */
  if (!stream->reset && !(stream->local_fin && stream->remote_fin))
    {
      stream_reset_locked (stream, FALSE);
      send_control_locked (self, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_RST, stream->id, 0);
    }
  stream->released = TRUE;
  g_hash_table_remove (self->streams, GUINT_TO_POINTER (stream->id));
  if (stream->inbound)
    self->n_inbound--;
  else
    {
      self->n_outbound--;
      g_cond_broadcast (&self->open_cond);
    }
  destroy = stream_unref_locked (stream);
  g_mutex_unlock (&self->lock);

  if (destroy)
    stream_destroy (stream);
}

static const PhDuplexVTable stream_vtable = {
  .read = stream_read,
  .write = stream_write,
  .close_write = stream_close_write,
  .free = stream_free,
};

guint32
ph_yamux_stream_get_id (PhDuplex *stream)
{
  g_return_val_if_fail (stream != NULL, 0);

  if (stream->vtable != &stream_vtable)
    return 0;
  return ((PhYamuxStream *) stream)->id;
}

/* The reader thread */

/* Lock held. The peer broke the protocol: tell it (best effort) and give up. */
static gboolean
protocol_error_locked (PhYamuxSession *self, GError **error, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
protocol_error_locked (PhYamuxSession *self, GError **error, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL, format, args));
  va_end (args);
  go_away_locked (self, PH_YAMUX_GO_AWAY_PROTOCOL_ERROR);
  return FALSE;
}

/* Reads len payload bytes; hands them to stream unless it is NULL, reset or released. */
static gboolean
read_payload (PhYamuxSession *self, PhDuplex *io, PhYamuxStream *stream, guint32 len,
              GError **error)
{
  while (len > 0)
    {
      gssize n = ph_duplex_read (io, self->read_buf, MIN (len, sizeof self->read_buf),
                                 PH_DEADLINE_NONE, self->io_cancellable, error);

      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                       "connection closed inside a yamux data frame, %u bytes short", len);
          return FALSE;
        }
      len -= (guint32) n;
      if (stream == NULL)
        continue;

      g_mutex_lock (&self->lock);
      if (!stream->reset && !stream->released)
        {
          ring_append (stream, self->read_buf, (gsize) n, self->limits.stream_window);
          g_cond_broadcast (&stream->recv_cond);
        }
      g_mutex_unlock (&self->lock);
    }
  return TRUE;
}

/* Lock held. The stream a SYN opens, or NULL when refused (already answered with RST). */
static gboolean
accept_syn_locked (PhYamuxSession *self, guint32 id, PhYamuxStream **out, GError **error)
{
  /* spec "StreamID Field": the client uses odd IDs, the server even. */
  if ((id % 2 == 1) == self->is_client)
    return protocol_error_locked (self, error, "peer opened stream %u with our ID parity", id);
  if (g_hash_table_contains (self->streams, GUINT_TO_POINTER (id)))
    return protocol_error_locked (self, error, "peer opened stream %u twice", id);

  *out = NULL;
  if (self->local_go_away || self->remote_go_away
      || self->n_inbound >= self->limits.max_inbound_streams
      || g_queue_get_length (&self->accept_queue) >= self->limits.max_pending_accepts)
    {
      send_control_locked (self, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_RST, id, 0);
      return TRUE;
    }

  *out = stream_new_locked (self, id, TRUE);
  g_queue_push_tail (&self->accept_queue, *out);
  g_cond_broadcast (&self->accept_cond);
  return TRUE;
}

static gboolean
handle_stream_frame (PhYamuxSession *self, PhDuplex *io, const PhYamuxHeader *header,
                     GError **error)
{
  PhYamuxStream *stream = NULL;
  gboolean destroy = FALSE;
  gboolean ok = TRUE;

  g_mutex_lock (&self->lock);
  if (header->flags & PH_YAMUX_FLAG_SYN)
    {
      ok = accept_syn_locked (self, header->stream_id, &stream, error);
      if (!ok)
        goto out;
    }
  else
    stream = g_hash_table_lookup (self->streams, GUINT_TO_POINTER (header->stream_id));

  if (header->type == PH_YAMUX_TYPE_WINDOW_UPDATE && stream != NULL)
    {
      /* Clamp rather than overflow: no sender needs more than 4 GiB in flight. */
      stream->send_window = MIN (stream->send_window + header->length, G_MAXUINT32);
      g_cond_broadcast (&stream->send_cond);
    }
  else if (header->type == PH_YAMUX_TYPE_DATA && header->length > 0)
    {
      /* A stream we no longer know (we reset or released it): go-yamux drains such data too. */
      if (stream != NULL)
        {
          if (stream->remote_fin)
            {
              ok = protocol_error_locked (self, error, "data on stream %u after its FIN",
                                          stream->id);
              goto out;
            }
          if (header->length > stream->recv_window)
            {
              /* spec "Flow Control"; go answers Go Away (protocol error) as well */
              ok = protocol_error_locked (self, error,
                                          "peer sent %u bytes on stream %u, over its window of %u",
                                          header->length, stream->id, stream->recv_window);
              goto out;
            }
          stream->recv_window -= header->length;
          stream->ref_count++;
        }
      g_mutex_unlock (&self->lock);
      ok = read_payload (self, io, stream, header->length, error);
      g_mutex_lock (&self->lock);
      if (stream != NULL)
        destroy = stream_unref_locked (stream);
      if (!ok || destroy || stream == NULL || stream->released)
        goto out;
    }

  if (stream == NULL)
    goto out;
  if ((header->flags & PH_YAMUX_FLAG_FIN) && !stream->remote_fin)
    {
      stream->remote_fin = TRUE;
      g_cond_broadcast (&stream->recv_cond);
    }
  if ((header->flags & PH_YAMUX_FLAG_RST) && !stream->reset)
    stream_reset_locked (stream, TRUE);

out:
  g_mutex_unlock (&self->lock);
  if (destroy)
    stream_destroy (stream);
  return ok;
}

static gboolean
read_frame (PhYamuxSession *self, PhDuplex *io, GError **error)
{
  guint8 bytes[PH_YAMUX_HEADER_LEN];
  PhYamuxHeader header;
  gboolean ok = TRUE;

  if (!ph_duplex_read_exact (io, bytes, sizeof bytes, PH_DEADLINE_NONE, self->io_cancellable,
                             error))
    return FALSE;
  /* No legal Data frame exceeds the window we advertise. */
  if (!ph_yamux_header_decode (bytes, sizeof bytes, self->limits.stream_window, &header, error))
    {
      g_mutex_lock (&self->lock);
      go_away_locked (self, PH_YAMUX_GO_AWAY_PROTOCOL_ERROR);
      g_mutex_unlock (&self->lock);
      return FALSE;
    }

  switch (header.type)
    {
      case PH_YAMUX_TYPE_DATA:
      case PH_YAMUX_TYPE_WINDOW_UPDATE:
        return handle_stream_frame (self, io, &header, error);

      case PH_YAMUX_TYPE_PING:
        g_mutex_lock (&self->lock);
        if (header.flags & PH_YAMUX_FLAG_SYN)
          /* Echo the opaque value exactly (protocol-notes §11 trap 8). */
          send_control_locked (self, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_ACK, 0, header.length);
        else if (self->ping_active && header.length == self->ping_value)
          {
            self->ping_answered = TRUE;
            g_cond_broadcast (&self->ping_cond);
          }
        /* An answer to no ping of ours is ignored, as go-yamux does. */
        g_mutex_unlock (&self->lock);
        break;

      case PH_YAMUX_TYPE_GO_AWAY:
        g_mutex_lock (&self->lock);
        if (!self->remote_go_away)
          {
            self->remote_go_away = TRUE;
            self->remote_go_away_code = header.length;
            g_cond_broadcast (&self->open_cond);
          }
        g_mutex_unlock (&self->lock);
        break;

      default:
        g_assert_not_reached ();
    }

  g_mutex_lock (&self->lock);
  if (self->closed)
    {
      set_closed_error_locked (self, error);
      ok = FALSE;
    }
  g_mutex_unlock (&self->lock);
  return ok;
}

static gpointer
reader_thread (gpointer user_data)
{
  PhYamuxSession *self = user_data;
  PhDuplex *io;
  GError *error = NULL;

  /* close() frees the connection only after joining us, but may have taken it before we ran. */
  g_mutex_lock (&self->lock);
  io = self->io;
  g_mutex_unlock (&self->lock);

  while (io != NULL && read_frame (self, io, &error))
    ;

  g_mutex_lock (&self->lock);
  /* The only write this thread makes: a protocol error's Go Away, on its way out. */
  flush_before_close_locked (self);
  fail_locked (self, error);
  g_mutex_unlock (&self->lock);

  g_cancellable_cancel (self->closed_cancellable);
  session_unref (self);
  return NULL;
}

/* The session */

static void
limits_normalize (PhYamuxLimits *limits, const PhYamuxLimits *given)
{
  ph_yamux_limits_init (limits);
  if (given == NULL)
    return;
  if (given->max_inbound_streams > 0)
    limits->max_inbound_streams = given->max_inbound_streams;
  if (given->max_outbound_streams > 0)
    limits->max_outbound_streams = given->max_outbound_streams;
  if (given->max_pending_accepts > 0)
    limits->max_pending_accepts = given->max_pending_accepts;
  if (given->stream_window > 0)
    limits->stream_window
        = CLAMP (given->stream_window, PH_YAMUX_INITIAL_WINDOW, PH_YAMUX_MAX_WINDOW);
  if (given->write_timeout_ms > 0)
    limits->write_timeout_ms = given->write_timeout_ms;
}

PhYamuxSession *
ph_yamux_session_new (PhDuplex *io, gboolean is_client, const PhYamuxLimits *limits)
{
  PhYamuxSession *self;

  g_return_val_if_fail (io != NULL, NULL);

  self = g_new0 (PhYamuxSession, 1);
  self->ref_count = 1;
  self->is_client = is_client;
  limits_normalize (&self->limits, limits);
  self->io_cancellable = g_cancellable_new ();
  self->closed_cancellable = g_cancellable_new ();
  self->write_buf
      = g_malloc (MAX (PH_YAMUX_HEADER_LEN + PH_YAMUX_MAX_WRITE_PAYLOAD, sizeof self->controls));
  g_mutex_init (&self->lock);
  self->io = io;
  self->streams = g_hash_table_new (NULL, NULL);
  g_queue_init (&self->accept_queue);
  self->next_id = is_client ? 1 : 2;
  g_cond_init (&self->accept_cond);
  g_cond_init (&self->open_cond);
  g_cond_init (&self->write_cond);
  g_cond_init (&self->ping_cond);
  g_cond_init (&self->flush_cond);
  self->ping_value = g_random_int ();

  self->reader = g_thread_new ("yamux-reader", reader_thread, session_ref (self));
  self->writer = g_thread_new ("yamux-writer", writer_thread, session_ref (self));
  return self;
}

PhDuplex *
ph_yamux_session_open_stream (PhYamuxSession *self, gint64 deadline, GCancellable *cancellable,
                              GError **error)
{
  Waker waker = { self, NULL };
  gulong handler;
  PhYamuxStream *stream = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  handler = waker_connect (&waker, cancellable);
  g_mutex_lock (&self->lock);
  while (TRUE)
    {
      if (self->closed)
        {
          set_closed_error_locked (self, error);
          break;
        }
      if (self->remote_go_away)
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED,
                       "the peer sent yamux Go Away (code 0x%x): no new streams",
                       self->remote_go_away_code);
          break;
        }
      if (self->next_id > G_MAXUINT32)
        {
          g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT,
                               "yamux stream IDs exhausted");
          break;
        }
      if (self->n_outbound < self->limits.max_outbound_streams)
        {
          stream = stream_new_locked (self, (guint32) self->next_id, FALSE);
          self->next_id += 2;
          /* The SYN rides a Window Update advertising our window beyond the initial one. */
          return_window_locked (stream, PH_YAMUX_FLAG_SYN);
          break;
        }
      if (!wait_locked (self, &self->open_cond, deadline, cancellable, error))
        break;
    }
  g_mutex_unlock (&self->lock);

  g_cancellable_disconnect (cancellable, handler);
  return stream != NULL ? &stream->parent : NULL;
}

PhDuplex *
ph_yamux_session_accept_stream (PhYamuxSession *self, gint64 deadline, GCancellable *cancellable,
                                GError **error)
{
  Waker waker = { self, NULL };
  gulong handler;
  PhYamuxStream *stream = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  handler = waker_connect (&waker, cancellable);
  g_mutex_lock (&self->lock);
  while (TRUE)
    {
      if (self->closed)
        {
          set_closed_error_locked (self, error);
          break;
        }
      stream = g_queue_pop_head (&self->accept_queue);
      if (stream != NULL)
        {
          /* go-yamux acknowledges on accept too; the ACK carries the rest of our window. */
          if (!stream->reset)
            return_window_locked (stream, PH_YAMUX_FLAG_ACK);
          break;
        }
      if (!wait_locked (self, &self->accept_cond, deadline, cancellable, error))
        break;
    }
  g_mutex_unlock (&self->lock);

  g_cancellable_disconnect (cancellable, handler);
  return stream != NULL ? &stream->parent : NULL;
}

gboolean
ph_yamux_session_ping (PhYamuxSession *self, gint64 *rtt_us, gint64 deadline,
                       GCancellable *cancellable, GError **error)
{
  Waker waker = { self, NULL };
  gulong handler;
  gboolean ok = FALSE;
  gboolean mine = FALSE;
  gint64 start = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  handler = waker_connect (&waker, cancellable);
  g_mutex_lock (&self->lock);
  while (TRUE)
    {
      if (self->closed)
        {
          set_closed_error_locked (self, error);
          break;
        }
      if (mine && self->ping_answered)
        {
          if (rtt_us != NULL)
            *rtt_us = g_get_monotonic_time () - start;
          ok = TRUE;
          break;
        }
      if (!mine && !self->ping_active)
        {
          mine = TRUE;
          self->ping_active = TRUE;
          self->ping_answered = FALSE;
          self->ping_value++;
          start = g_get_monotonic_time ();
          send_control_locked (self, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_SYN, 0, self->ping_value);
          continue;
        }
      if (!wait_locked (self, &self->ping_cond, deadline, cancellable, error))
        break;
    }
  if (mine)
    {
      self->ping_active = FALSE;
      g_cond_broadcast (&self->ping_cond);
    }
  g_mutex_unlock (&self->lock);

  g_cancellable_disconnect (cancellable, handler);
  return ok;
}

void
ph_yamux_session_go_away (PhYamuxSession *self, guint32 code)
{
  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  if (!self->closed)
    go_away_locked (self, code);
  g_mutex_unlock (&self->lock);
}

gboolean
ph_yamux_session_get_remote_go_away (PhYamuxSession *self, guint32 *code)
{
  gboolean go_away;

  g_return_val_if_fail (self != NULL, FALSE);

  g_mutex_lock (&self->lock);
  go_away = self->remote_go_away;
  if (go_away && code != NULL)
    *code = self->remote_go_away_code;
  g_mutex_unlock (&self->lock);
  return go_away;
}

void
ph_yamux_session_close (PhYamuxSession *self)
{
  GThread *reader = NULL;
  GThread *writer = NULL;
  PhDuplex *io = NULL;
  PhYamuxStream *stream;
  GQueue unaccepted;

  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  if (!self->closed)
    {
      /* spec "Session termination" */
      if (!self->local_go_away)
        {
          self->local_go_away = TRUE;
          queue_control_locked (self, PH_YAMUX_TYPE_GO_AWAY, 0, 0, PH_YAMUX_GO_AWAY_NORMAL);
        }
      flush_before_close_locked (self);
      fail_locked (self, g_error_new_literal (PH_P2P_ERROR, PH_P2P_ERROR_CLOSED, "closed locally"));
    }
  /* A writer still on the connection is woken by the io cancellable. */
  while (self->writing)
    g_cond_wait (&self->write_cond, &self->lock);
  unaccepted = self->accept_queue;
  g_queue_init (&self->accept_queue);
  /* The connection goes once no session thread can touch it; on one of them, at the last unref. */
  if (self->reader != g_thread_self () && self->writer != g_thread_self ())
    {
      reader = g_steal_pointer (&self->reader);
      writer = g_steal_pointer (&self->writer);
      io = g_steal_pointer (&self->io);
    }
  g_mutex_unlock (&self->lock);

  if (reader != NULL)
    g_thread_join (reader);
  if (writer != NULL)
    g_thread_join (writer);
  g_clear_pointer (&io, ph_duplex_free);
  while ((stream = g_queue_pop_head (&unaccepted)) != NULL)
    ph_duplex_free (&stream->parent);
  g_cancellable_cancel (self->closed_cancellable);
}

gboolean
ph_yamux_session_is_closed (PhYamuxSession *self, GError **reason)
{
  gboolean closed;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (reason == NULL || *reason == NULL, FALSE);

  g_mutex_lock (&self->lock);
  closed = self->closed;
  if (closed && reason != NULL)
    *reason = g_error_copy (self->error);
  g_mutex_unlock (&self->lock);
  return closed;
}

GCancellable *
ph_yamux_session_get_closed_cancellable (PhYamuxSession *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->closed_cancellable;
}

void
ph_yamux_session_free (PhYamuxSession *self)
{
  if (self == NULL)
    return;
  ph_yamux_session_close (self);
  session_unref (self);
}
