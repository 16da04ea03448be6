/* ph-duplex.c: deadlines, exact reads and varint framing over any PhDuplex; the TCP socket duplex;
 * an in-memory pipe pair for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "ph-duplex.h"
#include "ph-p2p-error.h"
#include "ph-varint.h"

/* Deadlines */

gint64
ph_deadline_in (guint timeout_ms)
{
  return g_get_monotonic_time () + (gint64) timeout_ms * 1000;
}

gint64
ph_deadline_remaining (gint64 deadline)
{
  gint64 now;

  if (deadline == PH_DEADLINE_NONE)
    return -1;
  now = g_get_monotonic_time ();
  return now >= deadline ? 0 : deadline - now;
}

gboolean
ph_deadline_passed (gint64 deadline, GError **error)
{
  if (ph_deadline_remaining (deadline) != 0)
    return FALSE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "deadline passed");
  return TRUE;
}

/* Generic helpers */

static gboolean
check_may_block (gint64 deadline, GCancellable *cancellable, GError **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  return !ph_deadline_passed (deadline, error);
}

gssize
ph_duplex_read (PhDuplex *self, guint8 *buffer, gsize len, gint64 deadline,
                GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL && self->vtable != NULL, -1);
  g_return_val_if_fail (buffer != NULL || len == 0, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  if (!check_may_block (deadline, cancellable, error))
    return -1;
  if (len == 0)
    return 0;
  return self->vtable->read (self, buffer, MIN (len, (gsize) G_MAXSSIZE), deadline, cancellable,
                             error);
}

/* at_boundary: whether end of stream before the first byte is a clean close rather than a cut. */
static gboolean
read_exact (PhDuplex *self, guint8 *buffer, gsize len, gboolean at_boundary, gint64 deadline,
            GCancellable *cancellable, GError **error)
{
  gsize got = 0;

  while (got < len)
    {
      gssize n = ph_duplex_read (self, buffer + got, len - got, deadline, cancellable, error);

      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          if (got == 0 && at_boundary)
            g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED, "end of stream");
          else
            g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                         "end of stream after %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes",
                         got, len);
          return FALSE;
        }
      got += (gsize) n;
    }
  return TRUE;
}

gboolean
ph_duplex_read_exact (PhDuplex *self, guint8 *buffer, gsize len, gint64 deadline,
                      GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (buffer != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return read_exact (self, buffer, len, TRUE, deadline, cancellable, error);
}

gboolean
ph_duplex_write (PhDuplex *self, const guint8 *data, gsize len, gint64 deadline,
                 GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL && self->vtable != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_may_block (deadline, cancellable, error))
    return FALSE;
  if (len == 0)
    return TRUE;
  return self->vtable->write (self, data, len, deadline, cancellable, error);
}

gboolean
ph_duplex_close_write (PhDuplex *self, gint64 deadline, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL && self->vtable != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_may_block (deadline, cancellable, error))
    return FALSE;
  return self->vtable->close_write (self, deadline, cancellable, error);
}

void
ph_duplex_free (PhDuplex *self)
{
  if (self == NULL)
    return;
  self->vtable->free (self);
}

gboolean
ph_duplex_read_varint (PhDuplex *self, guint64 *value, gint64 deadline, GCancellable *cancellable,
                       GError **error)
{
  guint8 bytes[PH_VARINT_MAX_LEN];

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* One byte at a time: the bytes after the varint belong to whoever reads next. */
  for (gsize i = 0; i < PH_VARINT_MAX_LEN; i++)
    {
      g_autoptr (GError) local_error = NULL;

      if (!read_exact (self, &bytes[i], 1, i == 0, deadline, cancellable, error))
        return FALSE;
      if (ph_varint_decode (bytes, i + 1, value, NULL, &local_error))
        return TRUE;
      if (!g_error_matches (local_error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }

  /* Nine continuation bytes: ph_varint_decode reported TOO_LARGE on the last round already. */
  g_assert_not_reached ();
  return FALSE;
}

GBytes *
ph_duplex_read_frame (PhDuplex *self, gsize max_len, gint64 deadline, GCancellable *cancellable,
                      GError **error)
{
  guint64 len;
  g_autofree guint8 *payload = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ph_duplex_read_varint (self, &len, deadline, cancellable, error))
    return NULL;
  if (len > max_len)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "frame of %" G_GUINT64_FORMAT " bytes, over the limit of %" G_GSIZE_FORMAT, len,
                   max_len);
      return NULL;
    }

  payload = g_malloc (len);
  if (!read_exact (self, payload, len, FALSE, deadline, cancellable, error))
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&payload), len);
}

gboolean
ph_duplex_write_frame (PhDuplex *self, const guint8 *data, gsize len, gint64 deadline,
                       GCancellable *cancellable, GError **error)
{
  g_autofree guint8 *frame = NULL;
  gsize prefix_len;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail ((guint64) len < (G_GUINT64_CONSTANT (1) << 63), FALSE);
  g_return_val_if_fail (len <= G_MAXSIZE - PH_VARINT_MAX_LEN, FALSE);

  /* One write, so the prefix and payload leave in the same segment where the transport allows. */
  frame = g_malloc (PH_VARINT_MAX_LEN + len);
  prefix_len = ph_varint_encode (len, frame);
  if (len > 0)
    memcpy (frame + prefix_len, data, len);
  return ph_duplex_write (self, frame, prefix_len + len, deadline, cancellable, error);
}

GBytes *
ph_duplex_read_to_end (PhDuplex *self, gsize max_len, gint64 deadline, GCancellable *cancellable,
                       GError **error)
{
  g_autoptr (GByteArray) buffer = g_byte_array_new ();
  guint8 chunk[4096];

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  while (TRUE)
    {
      gsize room = max_len - buffer->len;
      /* Ask for one byte over the limit so a peer that sends too much is noticed. */
      gsize want = room >= sizeof chunk ? sizeof chunk : room + 1;
      gssize n = ph_duplex_read (self, chunk, want, deadline, cancellable, error);

      if (n < 0)
        return NULL;
      if (n == 0)
        break;
      if ((gsize) n > room)
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                       "stream longer than the limit of %" G_GSIZE_FORMAT " bytes", max_len);
          return NULL;
        }
      g_byte_array_append (buffer, chunk, (guint) n);
    }

  return g_byte_array_free_to_bytes (g_steal_pointer (&buffer));
}

/* The socket duplex */

typedef struct
{
  PhDuplex parent;
  GSocket *socket;
} PhSocketDuplex;

static gboolean
socket_wait (GSocket *socket, GIOCondition condition, gint64 deadline, GCancellable *cancellable,
             GError **error)
{
  gint64 remaining = ph_deadline_remaining (deadline);

  if (remaining == 0)
    return !ph_deadline_passed (deadline, error);
  /* GSocket polls in whole milliseconds and rounds down: round up so a wait of 0.4 ms does not
   * turn into a busy poll. */
  if (remaining > 0)
    remaining = (remaining + 999) / 1000 * 1000;
  return g_socket_condition_timed_wait (socket, condition, remaining, cancellable, error);
}

static gssize
socket_read (PhDuplex *duplex, guint8 *buffer, gsize len, gint64 deadline,
             GCancellable *cancellable, GError **error)
{
  PhSocketDuplex *self = (PhSocketDuplex *) duplex;

  while (TRUE)
    {
      g_autoptr (GError) local_error = NULL;
      gssize n;

      if (!socket_wait (self->socket, G_IO_IN, deadline, cancellable, error))
        return -1;
      n = g_socket_receive (self->socket, (gchar *) buffer, len, cancellable, &local_error);
      if (n >= 0)
        return n;
      /* poll can report readiness that receive then does not find (e.g. a dropped checksum). */
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return -1;
        }
    }
}

static gboolean
socket_write (PhDuplex *duplex, const guint8 *data, gsize len, gint64 deadline,
              GCancellable *cancellable, GError **error)
{
  PhSocketDuplex *self = (PhSocketDuplex *) duplex;
  gsize sent = 0;

  while (sent < len)
    {
      g_autoptr (GError) local_error = NULL;
      gssize n;

      if (!socket_wait (self->socket, G_IO_OUT, deadline, cancellable, error))
        return FALSE;
      n = g_socket_send (self->socket, (const gchar *) data + sent, len - sent, cancellable,
                         &local_error);
      if (n >= 0)
        sent += (gsize) n;
      else if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
socket_close_write (PhDuplex *duplex, gint64 deadline, GCancellable *cancellable, GError **error)
{
  PhSocketDuplex *self = (PhSocketDuplex *) duplex;

  return g_socket_shutdown (self->socket, FALSE, TRUE, error);
}

static void
socket_free (PhDuplex *duplex)
{
  PhSocketDuplex *self = (PhSocketDuplex *) duplex;

  g_socket_close (self->socket, NULL);
  g_object_unref (self->socket);
  g_free (self);
}

static const PhDuplexVTable socket_vtable = {
  .read = socket_read,
  .write = socket_write,
  .close_write = socket_close_write,
  .free = socket_free,
};

PhDuplex *
ph_duplex_new_for_socket (GSocket *socket)
{
  PhSocketDuplex *self;

  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);

  self = g_new0 (PhSocketDuplex, 1);
  self->parent.vtable = &socket_vtable;
  self->socket = g_object_ref (socket);
  /* Every wait goes through g_socket_condition_timed_wait, which honours deadline and
   * cancellable; the calls themselves must then never block. */
  g_socket_set_blocking (socket, FALSE);
  return &self->parent;
}

GSocket *
ph_duplex_get_socket (PhDuplex *duplex)
{
  g_return_val_if_fail (duplex != NULL, NULL);

  if (duplex->vtable != &socket_vtable)
    return NULL;
  return ((PhSocketDuplex *) duplex)->socket;
}

/* The in-memory pipe pair */

typedef struct
{
  GByteArray *data; /* unread bytes start at data->data + start */
  gsize start;
  gboolean write_closed; /* the writer half-closed or was freed: end of stream once drained */
  gboolean reader_gone;  /* the reading end was freed: writes fail */
  GCond cond;            /* broadcast on every change, and when a cancellable fires */
} PhPipeQueue;

typedef struct
{
  gint ref_count;
  GMutex mutex;
  PhPipeQueue queues[2]; /* queues[i] is written by end i and read by end 1 - i */
} PhPipeShared;

typedef struct
{
  PhDuplex parent;
  PhPipeShared *shared;
  guint index;
} PhPipeEnd;

static void
pipe_shared_unref (PhPipeShared *shared)
{
  if (!g_atomic_int_dec_and_test (&shared->ref_count))
    return;
  for (guint i = 0; i < 2; i++)
    {
      g_byte_array_unref (shared->queues[i].data);
      g_cond_clear (&shared->queues[i].cond);
    }
  g_mutex_clear (&shared->mutex);
  g_free (shared);
}

static void
pipe_wake_all (PhPipeShared *shared)
{
  g_mutex_lock (&shared->mutex);
  g_cond_broadcast (&shared->queues[0].cond);
  g_cond_broadcast (&shared->queues[1].cond);
  g_mutex_unlock (&shared->mutex);
}

static void
pipe_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  pipe_wake_all (user_data);
}

/* Called with the mutex held. FALSE with an error when the caller must give up. */
static gboolean
pipe_wait (PhPipeShared *shared, PhPipeQueue *queue, gint64 deadline, GCancellable *cancellable,
           GError **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (ph_deadline_passed (deadline, error))
    return FALSE;
  if (deadline == PH_DEADLINE_NONE)
    g_cond_wait (&queue->cond, &shared->mutex);
  else
    g_cond_wait_until (&queue->cond, &shared->mutex, deadline);
  return TRUE;
}

/* g_cancellable_connect runs the callback at once when already cancelled, and disconnect waits
 * for a running callback: both must happen without the mutex held. */
static gulong
pipe_connect_cancellable (PhPipeShared *shared, GCancellable *cancellable)
{
  if (cancellable == NULL)
    return 0;
  return g_cancellable_connect (cancellable, G_CALLBACK (pipe_cancelled_cb), shared, NULL);
}

static gssize
pipe_read (PhDuplex *duplex, guint8 *buffer, gsize len, gint64 deadline, GCancellable *cancellable,
           GError **error)
{
  PhPipeEnd *self = (PhPipeEnd *) duplex;
  PhPipeShared *shared = self->shared;
  PhPipeQueue *queue = &shared->queues[1 - self->index];
  gulong handler = pipe_connect_cancellable (shared, cancellable);
  gssize result = -1;

  g_mutex_lock (&shared->mutex);
  while (TRUE)
    {
      gsize available = queue->data->len - queue->start;

      if (available > 0)
        {
          gsize n = MIN (len, available);

          memcpy (buffer, queue->data->data + queue->start, n);
          queue->start += n;
          if (queue->start == queue->data->len)
            {
              g_byte_array_set_size (queue->data, 0);
              queue->start = 0;
            }
          else if (queue->start >= 64 * 1024 && queue->start * 2 >= queue->data->len)
            {
              g_byte_array_remove_range (queue->data, 0, queue->start);
              queue->start = 0;
            }
          g_cond_broadcast (&queue->cond);
          result = n;
          break;
        }
      if (queue->write_closed)
        {
          result = 0;
          break;
        }
      if (!pipe_wait (shared, queue, deadline, cancellable, error))
        break;
    }
  g_mutex_unlock (&shared->mutex);

  g_cancellable_disconnect (cancellable, handler);
  return result;
}

static gboolean
pipe_write (PhDuplex *duplex, const guint8 *data, gsize len, gint64 deadline,
            GCancellable *cancellable, GError **error)
{
  PhPipeEnd *self = (PhPipeEnd *) duplex;
  PhPipeShared *shared = self->shared;
  PhPipeQueue *queue = &shared->queues[self->index];
  gulong handler = pipe_connect_cancellable (shared, cancellable);
  gsize written = 0;
  gboolean ok = TRUE;

  g_mutex_lock (&shared->mutex);
  while (written < len)
    {
      gsize pending = queue->data->len - queue->start;

      if (queue->write_closed)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "pipe closed for writing");
          ok = FALSE;
          break;
        }
      if (queue->reader_gone)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "the other end is gone");
          ok = FALSE;
          break;
        }
      if (pending < PH_DUPLEX_PIPE_CAPACITY)
        {
          gsize n = MIN (len - written, PH_DUPLEX_PIPE_CAPACITY - pending);

          g_byte_array_append (queue->data, data + written, n);
          written += n;
          g_cond_broadcast (&queue->cond);
          continue;
        }
      if (!pipe_wait (shared, queue, deadline, cancellable, error))
        {
          ok = FALSE;
          break;
        }
    }
  g_mutex_unlock (&shared->mutex);

  g_cancellable_disconnect (cancellable, handler);
  return ok;
}

static gboolean
pipe_close_write (PhDuplex *duplex, gint64 deadline, GCancellable *cancellable, GError **error)
{
  PhPipeEnd *self = (PhPipeEnd *) duplex;
  PhPipeShared *shared = self->shared;

  g_mutex_lock (&shared->mutex);
  shared->queues[self->index].write_closed = TRUE;
  g_cond_broadcast (&shared->queues[self->index].cond);
  g_mutex_unlock (&shared->mutex);
  return TRUE;
}

static void
pipe_free (PhDuplex *duplex)
{
  PhPipeEnd *self = (PhPipeEnd *) duplex;
  PhPipeShared *shared = self->shared;

  g_mutex_lock (&shared->mutex);
  shared->queues[self->index].write_closed = TRUE;
  shared->queues[1 - self->index].reader_gone = TRUE;
  g_cond_broadcast (&shared->queues[0].cond);
  g_cond_broadcast (&shared->queues[1].cond);
  g_mutex_unlock (&shared->mutex);

  pipe_shared_unref (shared);
  g_free (self);
}

static const PhDuplexVTable pipe_vtable = {
  .read = pipe_read,
  .write = pipe_write,
  .close_write = pipe_close_write,
  .free = pipe_free,
};

void
ph_duplex_new_pipe_pair (PhDuplex **a, PhDuplex **b)
{
  PhPipeShared *shared;
  PhPipeEnd *ends[2];

  g_return_if_fail (a != NULL && b != NULL);

  shared = g_new0 (PhPipeShared, 1);
  shared->ref_count = 2;
  g_mutex_init (&shared->mutex);
  for (guint i = 0; i < 2; i++)
    {
      shared->queues[i].data = g_byte_array_new ();
      g_cond_init (&shared->queues[i].cond);
      ends[i] = g_new0 (PhPipeEnd, 1);
      ends[i]->parent.vtable = &pipe_vtable;
      ends[i]->shared = shared;
      ends[i]->index = i;
    }
  *a = &ends[0]->parent;
  *b = &ends[1]->parent;
}
