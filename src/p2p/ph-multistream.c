/* ph-multistream.c: multistream-select 1.0
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "ph-multistream.h"
#include "ph-p2p-error.h"
#include "ph-varint.h"

#define NOT_AVAILABLE "na"

/* Codec */

static gboolean
check_text (const char *text, gsize len, GError **error)
{
  if (memchr (text, '\0', len) != NULL)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "multistream message holds a NUL byte");
      return FALSE;
    }
  /* The newline ends the message; one inside would make the echo ambiguous. */
  if (memchr (text, '\n', len) != NULL)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "multistream message holds an embedded newline");
      return FALSE;
    }
  if (!g_utf8_validate_len (text, len, NULL))
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "multistream message is not UTF-8");
      return FALSE;
    }
  return TRUE;
}

gboolean
ph_multistream_append_line (GByteArray *buffer, const char *line, GError **error)
{
  gsize len;

  g_return_val_if_fail (buffer != NULL, FALSE);
  g_return_val_if_fail (line != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  len = strlen (line);
  if (len + 1 > PH_MULTISTREAM_MAX_MESSAGE)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "multistream message of %" G_GSIZE_FORMAT " bytes, over the limit of %d",
                   len + 1, PH_MULTISTREAM_MAX_MESSAGE);
      return FALSE;
    }
  if (!check_text (line, len, error))
    return FALSE;

  /* multistream-select README, notes 1 and 2: the length counts the trailing newline. */
  ph_varint_append (buffer, len + 1);
  g_byte_array_append (buffer, (const guint8 *) line, (guint) len);
  g_byte_array_append (buffer, (const guint8 *) "\n", 1);
  return TRUE;
}

gboolean
ph_multistream_parse_line (const guint8 *data, gsize len, char **line_out, gsize *consumed,
                           GError **error)
{
  guint64 message_len;
  gsize prefix_len;
  const char *text;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ph_varint_decode (data, len, &message_len, &prefix_len, error))
    return FALSE;
  /* Bound before looking for the body, so a stream reader never waits for (or buffers) it. */
  if (message_len > PH_MULTISTREAM_MAX_MESSAGE)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "multistream message of %" G_GUINT64_FORMAT " bytes, over the limit of %d",
                   message_len, PH_MULTISTREAM_MAX_MESSAGE);
      return FALSE;
    }
  if (len - prefix_len < message_len)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                   "multistream message needs %" G_GUINT64_FORMAT " bytes, %" G_GSIZE_FORMAT
                   " present",
                   message_len, len - prefix_len);
      return FALSE;
    }

  text = (const char *) data + prefix_len;
  if (message_len == 0 || text[message_len - 1] != '\n')
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "multistream message lacks its trailing newline");
      return FALSE;
    }
  if (!check_text (text, message_len - 1, error))
    return FALSE;

  if (line_out)
    *line_out = g_strndup (text, message_len - 1);
  if (consumed)
    *consumed = prefix_len + message_len;
  return TRUE;
}

/* Negotiation */

/* Reads one message and nothing after it: the length prefix byte by byte, then exactly its body. */
static char *
read_line (PhDuplex *io, gint64 deadline, GCancellable *cancellable, GError **error)
{
  guint8 message[PH_VARINT_MAX_LEN + PH_MULTISTREAM_MAX_MESSAGE];
  g_autoptr (GError) local_error = NULL;
  guint64 message_len;
  gsize prefix_len;
  char *line = NULL;

  if (!ph_duplex_read_varint (io, &message_len, deadline, cancellable, error))
    return NULL;
  if (message_len > PH_MULTISTREAM_MAX_MESSAGE)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "multistream message of %" G_GUINT64_FORMAT " bytes, over the limit of %d",
                   message_len, PH_MULTISTREAM_MAX_MESSAGE);
      return NULL;
    }

  /* Rebuild the message as it came (the decoder accepts only the minimal form) so the one
   * parser checks it. */
  prefix_len = ph_varint_encode (message_len, message);
  if (!ph_duplex_read_exact (io, message + prefix_len, message_len, deadline, cancellable,
                             &local_error))
    {
      /* The prefix arrived, so an end of stream here cuts the message. */
      if (g_error_matches (local_error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED))
        g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                             "end of stream inside a multistream message");
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (!ph_multistream_parse_line (message, prefix_len + message_len, &line, NULL, error))
    return NULL;
  return line;
}

static gboolean
write_lines (PhDuplex *io, const char *first, const char *second, gint64 deadline,
             GCancellable *cancellable, GError **error)
{
  g_autoptr (GByteArray) buffer = g_byte_array_new ();

  if (!ph_multistream_append_line (buffer, first, error))
    return FALSE;
  if (second != NULL && !ph_multistream_append_line (buffer, second, error))
    return FALSE;
  return ph_duplex_write (io, buffer->data, buffer->len, deadline, cancellable, error);
}

static gboolean
expect_header (PhDuplex *io, gint64 deadline, GCancellable *cancellable, GError **error)
{
  g_autofree char *header = read_line (io, deadline, cancellable, error);
  g_autofree char *escaped = NULL;

  if (header == NULL)
    return FALSE;
  /* connections/README.md: anything but the header as the first message aborts. */
  if (strcmp (header, PH_MULTISTREAM_PROTOCOL_ID) == 0)
    return TRUE;
  escaped = g_strescape (header, NULL);
  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION,
               "peer does not speak " PH_MULTISTREAM_PROTOCOL_ID " (it sent “%s”)", escaped);
  return FALSE;
}

gboolean
ph_multistream_select (PhDuplex *io, const char *const *protocols, char **chosen, gint64 deadline,
                       GCancellable *cancellable, GError **error)
{
  g_autoptr (GByteArray) scratch = g_byte_array_new ();
  guint n_protocols;

  g_return_val_if_fail (io != NULL, FALSE);
  g_return_val_if_fail (protocols != NULL && protocols[0] != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Refuse a bad proposal before anything goes on the wire. */
  for (n_protocols = 0; protocols[n_protocols] != NULL; n_protocols++)
    if (!ph_multistream_append_line (scratch, protocols[n_protocols], error))
      return FALSE;

  /* multistream-select README, Implementation Recommendations: header and first proposal in one
   * packet, saving a round trip. */
  if (!write_lines (io, PH_MULTISTREAM_PROTOCOL_ID, protocols[0], deadline, cancellable, error))
    return FALSE;
  if (!expect_header (io, deadline, cancellable, error))
    return FALSE;

  for (guint i = 0; i < n_protocols; i++)
    {
      g_autofree char *answer = NULL;
      g_autofree char *escaped = NULL;

      if (i > 0 && !write_lines (io, protocols[i], NULL, deadline, cancellable, error))
        return FALSE;
      answer = read_line (io, deadline, cancellable, error);
      if (answer == NULL)
        return FALSE;
      if (strcmp (answer, protocols[i]) == 0)
        {
          if (chosen)
            *chosen = g_strdup (protocols[i]);
          return TRUE;
        }
      if (strcmp (answer, NOT_AVAILABLE) == 0)
        continue;

      escaped = g_strescape (answer, NULL);
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION,
                   "peer answered “%s” to the proposal of a protocol", escaped);
      return FALSE;
    }

  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION,
               "peer supports none of the %u protocols proposed", n_protocols);
  return FALSE;
}

static gboolean
is_supported (const char *const *supported, const char *protocol)
{
  for (gsize i = 0; supported[i] != NULL; i++)
    if (strcmp (supported[i], protocol) == 0)
      return TRUE;
  return FALSE;
}

gboolean
ph_multistream_handle (PhDuplex *io, const char *const *supported, char **chosen, gint64 deadline,
                       GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (io != NULL, FALSE);
  g_return_val_if_fail (supported != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Both sides send the header without waiting for the other's (connections/README.md), so a
   * dialer that waits for ours before proposing is served too. */
  if (!write_lines (io, PH_MULTISTREAM_PROTOCOL_ID, NULL, deadline, cancellable, error))
    return FALSE;
  if (!expect_header (io, deadline, cancellable, error))
    return FALSE;

  for (guint attempt = 1;; attempt++)
    {
      g_autofree char *proposal = read_line (io, deadline, cancellable, error);

      if (proposal == NULL)
        return FALSE;
      /* `ls` is optional (README §Listing) and go-multistream answers it with na too. */
      if (strcmp (proposal, NOT_AVAILABLE) != 0 && strcmp (proposal, "ls") != 0
          && is_supported (supported, proposal))
        {
          if (!write_lines (io, proposal, NULL, deadline, cancellable, error))
            return FALSE;
          if (chosen)
            *chosen = g_steal_pointer (&proposal);
          return TRUE;
        }
      if (!write_lines (io, NOT_AVAILABLE, NULL, deadline, cancellable, error))
        return FALSE;
      if (attempt >= PH_MULTISTREAM_MAX_ATTEMPTS)
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT,
                       "peer proposed %u protocols we do not speak", attempt);
          return FALSE;
        }
    }
}

/* Optimistic negotiation (go-multistream lazyClient.go) */

/* The first write carries at most this much of the caller's data with the header and proposal;
 * the rest follows in further writes. One yamux frame (PH_YAMUX_MAX_WRITE_PAYLOAD) holds it. */
#define LAZY_COALESCE_MAX (16 * 1024 - 2 * (PH_VARINT_MAX_LEN + PH_MULTISTREAM_MAX_MESSAGE))

typedef struct
{
  PhDuplex parent;
  PhDuplex *inner;
  char *protocol;

  /* Write side, guarded by write_lock until `sent` is set; after that only the writer uses inner's
   * write side, without the lock (whoever set `sent` did so after its write returned). */
  GMutex write_lock;
  GByteArray *pending; /* header and proposal, until sent */
  gint sent;           /* atomic */
  GError *write_error; /* sticky: sending the proposal failed, so the stream is unusable */

  /* Read side. The answer is read by the reader, or by close_write (which must not end our side
   * before the listener has answered); `reading` under read_lock says one of them is at it, and
   * the other waits on read_cond. Once `confirmed`, only the reader uses what follows. */
  GMutex read_lock;
  GCond read_cond;
  gboolean reading;
  guint answers;    /* messages of the answer accepted: 0, 1 (header), 2 (echo: done) */
  guint8 *answer;   /* bytes read but not yet consumed, the start of the answer first */
  gsize answer_pos; /* consumed */
  gsize answer_len; /* held */
  gint confirmed;   /* atomic: answers == 2 */

  /* A failed negotiation, for both sides: set once, before `failed`. */
  GMutex failure_lock;
  GError *failure;
  gint failed; /* atomic */
} LazyDuplex;

#define LAZY_ANSWER_BUFFER (2 * (PH_VARINT_MAX_LEN + PH_MULTISTREAM_MAX_MESSAGE))

static const PhDuplexVTable lazy_vtable;

static gboolean
lazy_check_failed (LazyDuplex *self, GError **error)
{
  if (!g_atomic_int_get (&self->failed))
    return FALSE;
  g_mutex_lock (&self->failure_lock);
  g_propagate_error (error, g_error_copy (self->failure));
  g_mutex_unlock (&self->failure_lock);
  return TRUE;
}

static void
lazy_fail (LazyDuplex *self, GError *failure_take, GError **error)
{
  g_mutex_lock (&self->failure_lock);
  if (self->failure == NULL)
    self->failure = failure_take;
  else
    g_error_free (failure_take);
  g_atomic_int_set (&self->failed, 1);
  g_propagate_error (error, g_error_copy (self->failure));
  g_mutex_unlock (&self->failure_lock);
}

/* write_lock held, nothing sent yet: the header and proposal, then up to LAZY_COALESCE_MAX of data,
 * in one write. Returns how much of data went with them, or -1. */
static gssize
lazy_send_locked (LazyDuplex *self, const guint8 *data, gsize len, gint64 deadline,
                  GCancellable *cancellable, GError **error)
{
  gsize take = MIN (len, LAZY_COALESCE_MAX);
  gsize header_len = self->pending->len;
  GError *local_error = NULL;

  if (self->write_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->write_error));
      return -1;
    }
  g_byte_array_append (self->pending, data, (guint) take);
  if (!ph_duplex_write (self->inner, self->pending->data, self->pending->len, deadline, cancellable,
                        &local_error))
    {
      /* Part of it may be out: resending the header would garble the stream. */
      self->write_error = local_error;
      g_propagate_error (error, g_error_copy (local_error));
      g_byte_array_set_size (self->pending, (guint) header_len);
      return -1;
    }
  g_clear_pointer (&self->pending, g_byte_array_unref);
  g_atomic_int_set (&self->sent, 1);
  return (gssize) take;
}

/* Sends the header and proposal unless they went already. */
static gboolean
lazy_ensure_sent (LazyDuplex *self, gint64 deadline, GCancellable *cancellable, GError **error)
{
  gboolean ok = TRUE;

  if (g_atomic_int_get (&self->sent))
    return TRUE;
  g_mutex_lock (&self->write_lock);
  if (!g_atomic_int_get (&self->sent))
    ok = lazy_send_locked (self, NULL, 0, deadline, cancellable, error) >= 0;
  g_mutex_unlock (&self->write_lock);
  return ok;
}

/* How many more bytes the message at the start of the unconsumed answer needs: 0 when it is
 * complete, or -1 with a final error. */
static gssize
lazy_answer_need (LazyDuplex *self, GError **error)
{
  const guint8 *data = self->answer + self->answer_pos;
  gsize have = self->answer_len - self->answer_pos;
  g_autoptr (GError) local_error = NULL;
  guint64 message_len;
  gsize prefix_len;

  if (!ph_varint_decode (data, have, &message_len, &prefix_len, &local_error))
    {
      if (g_error_matches (local_error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED))
        return 1;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return -1;
    }
  if (message_len > PH_MULTISTREAM_MAX_MESSAGE)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "multistream message of %" G_GUINT64_FORMAT " bytes, over the limit of %d",
                   message_len, PH_MULTISTREAM_MAX_MESSAGE);
      return -1;
    }
  return prefix_len + message_len > have ? (gssize) (prefix_len + message_len - have) : 0;
}

/* Checks one whole message of the answer and consumes it. */
static gboolean
lazy_accept_message (LazyDuplex *self, GError **error)
{
  g_autofree char *line = NULL;
  g_autofree char *escaped = NULL;
  const char *expected = self->answers == 0 ? PH_MULTISTREAM_PROTOCOL_ID : self->protocol;
  gsize consumed;

  if (!ph_multistream_parse_line (self->answer + self->answer_pos,
                                  self->answer_len - self->answer_pos, &line, &consumed, error))
    return FALSE;
  self->answer_pos += consumed;
  if (strcmp (line, expected) == 0)
    {
      self->answers++;
      return TRUE;
    }

  escaped = g_strescape (line, NULL);
  if (self->answers == 0)
    /* connections/README.md: anything but the header as the first message aborts. */
    g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION,
                 "peer does not speak " PH_MULTISTREAM_PROTOCOL_ID " (it sent “%s”)", escaped);
  else if (strcmp (line, NOT_AVAILABLE) == 0)
    g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION,
                 "peer does not support %s (it answered na)", self->protocol);
  else
    g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION,
                 "peer answered “%s” to the proposal of %s", escaped, self->protocol);
  return FALSE;
}

/* Reads the listener's header and echo. What it reads beyond them stays in self->answer for the
 * reads that follow. A deadline or cancellation leaves the progress made for the next call. */
static gboolean
lazy_read_answer (LazyDuplex *self, gint64 deadline, GCancellable *cancellable, GError **error)
{
  GError *local_error = NULL;

  if (!lazy_ensure_sent (self, deadline, cancellable, error))
    return FALSE;

  while (self->answers < 2)
    {
      gssize need = lazy_answer_need (self, &local_error);
      gssize n;

      if (need < 0)
        {
          lazy_fail (self, local_error, error);
          return FALSE;
        }
      if (need == 0)
        {
          if (!lazy_accept_message (self, &local_error))
            {
              lazy_fail (self, local_error, error);
              return FALSE;
            }
          continue;
        }

      /* Room for the rest of this message at least: move what is left to the front. */
      if (self->answer_pos > 0)
        {
          memmove (self->answer, self->answer + self->answer_pos,
                   self->answer_len - self->answer_pos);
          self->answer_len -= self->answer_pos;
          self->answer_pos = 0;
        }
      /* Any amount the peer already sent, not only `need`: the echo and the first bytes of the
       * protocol usually come in one segment, and one read takes them all. */
      n = ph_duplex_read (self->inner, self->answer + self->answer_len,
                          LAZY_ANSWER_BUFFER - self->answer_len, deadline, cancellable,
                          &local_error);
      if (n < 0)
        {
          /* The transport's own failures are its to report again; a deadline or cancellation
           * leaves the stream usable. */
          g_propagate_error (error, local_error);
          return FALSE;
        }
      if (n == 0)
        {
          if (self->answer_len == 0)
            local_error = g_error_new (PH_P2P_ERROR, PH_P2P_ERROR_CLOSED,
                                       "end of stream before the answer to the proposal of %s",
                                       self->protocol);
          else
            local_error = g_error_new_literal (PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                                               "end of stream inside a multistream message");
          lazy_fail (self, local_error, error);
          return FALSE;
        }
      self->answer_len += (gsize) n;
    }

  g_atomic_int_set (&self->confirmed, 1);
  return TRUE;
}

static void
lazy_wake (GCancellable *cancellable, gpointer data)
{
  LazyDuplex *self = data;

  g_mutex_lock (&self->read_lock);
  g_cond_broadcast (&self->read_cond);
  g_mutex_unlock (&self->read_lock);
}

/* Until the listener's answer has been read and accepted: reads it, or waits for the thread that
 * is reading it. */
static gboolean
lazy_await_answer (LazyDuplex *self, gint64 deadline, GCancellable *cancellable, GError **error)
{
  gulong handler = 0;
  gboolean ok;

  if (g_atomic_int_get (&self->confirmed))
    return TRUE;

  /* Connected without the lock: connect runs the callback at once when already cancelled. */
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (lazy_wake), self, NULL);
  g_mutex_lock (&self->read_lock);
  while (self->reading)
    if (g_cancellable_is_cancelled (cancellable)
        || !g_cond_wait_until (&self->read_cond, &self->read_lock, deadline))
      break;
  if (self->reading)
    {
      g_mutex_unlock (&self->read_lock);
      g_cancellable_disconnect (cancellable, handler);
      if (!g_cancellable_set_error_if_cancelled (cancellable, error))
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "deadline passed");
      return FALSE;
    }
  self->reading = TRUE;
  g_mutex_unlock (&self->read_lock);
  g_cancellable_disconnect (cancellable, handler);

  /* The other thread may have finished it, or failed. */
  ok = !lazy_check_failed (self, error)
       && (self->answers == 2 || lazy_read_answer (self, deadline, cancellable, error));

  g_mutex_lock (&self->read_lock);
  self->reading = FALSE;
  g_cond_broadcast (&self->read_cond);
  g_mutex_unlock (&self->read_lock);
  return ok;
}

static gssize
lazy_read (PhDuplex *duplex, guint8 *buffer, gsize len, gint64 deadline, GCancellable *cancellable,
           GError **error)
{
  LazyDuplex *self = (LazyDuplex *) duplex;
  gsize n;

  if (lazy_check_failed (self, error))
    return -1;
  if (!lazy_await_answer (self, deadline, cancellable, error))
    return -1;

  if (self->answer_pos == self->answer_len)
    {
      /* Past the answer: the stream itself. */
      g_clear_pointer (&self->answer, g_free);
      self->answer_pos = self->answer_len = 0;
      return ph_duplex_read (self->inner, buffer, len, deadline, cancellable, error);
    }
  n = MIN (len, self->answer_len - self->answer_pos);
  memcpy (buffer, self->answer + self->answer_pos, n);
  self->answer_pos += n;
  return (gssize) n;
}

static gboolean
lazy_write (PhDuplex *duplex, const guint8 *data, gsize len, gint64 deadline,
            GCancellable *cancellable, GError **error)
{
  LazyDuplex *self = (LazyDuplex *) duplex;

  if (lazy_check_failed (self, error))
    return FALSE;
  if (!g_atomic_int_get (&self->sent))
    {
      gssize taken = 0;

      g_mutex_lock (&self->write_lock);
      if (!g_atomic_int_get (&self->sent))
        taken = lazy_send_locked (self, data, len, deadline, cancellable, error);
      g_mutex_unlock (&self->write_lock);
      if (taken < 0)
        return FALSE;
      data += taken;
      len -= (gsize) taken;
      if (len == 0)
        return TRUE;
    }
  return ph_duplex_write (self->inner, data, len, deadline, cancellable, error);
}

static gboolean
lazy_close_write (PhDuplex *duplex, gint64 deadline, GCancellable *cancellable, GError **error)
{
  LazyDuplex *self = (LazyDuplex *) duplex;

  if (lazy_check_failed (self, error))
    return FALSE;
  /* The end of our side waits for the listener's answer, as go's lazy client's Close does: a
   * listener that sees the end of the stream before it has negotiated may drop what came with
   * the proposal (js-libp2p's handle() cannot give it back to a stream whose readable end
   * closed, and resets it). It also tells a dialer that only writes whether the listener took
   * the protocol. The reads that follow cost nothing: they are the ones the caller would make. */
  return lazy_await_answer (self, deadline, cancellable, error)
         && ph_duplex_close_write (self->inner, deadline, cancellable, error);
}

static void
lazy_free (PhDuplex *duplex)
{
  LazyDuplex *self = (LazyDuplex *) duplex;

  ph_duplex_free (self->inner);
  g_free (self->protocol);
  g_clear_pointer (&self->pending, g_byte_array_unref);
  g_clear_error (&self->write_error);
  g_free (self->answer);
  g_clear_error (&self->failure);
  g_mutex_clear (&self->write_lock);
  g_mutex_clear (&self->read_lock);
  g_cond_clear (&self->read_cond);
  g_mutex_clear (&self->failure_lock);
  g_free (self);
}

static const PhDuplexVTable lazy_vtable = {
  .read = lazy_read,
  .write = lazy_write,
  .close_write = lazy_close_write,
  .free = lazy_free,
};

PhDuplex *
ph_multistream_select_lazy (PhDuplex *io, const char *protocol, GError **error)
{
  g_autoptr (GByteArray) pending = NULL;
  LazyDuplex *self;

  g_return_val_if_fail (io != NULL, NULL);
  g_return_val_if_fail (protocol != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Header and proposal in one message (multistream-select README, Implementation
   * Recommendations), checked before anything goes on the wire. */
  pending = g_byte_array_new ();
  if (!ph_multistream_append_line (pending, PH_MULTISTREAM_PROTOCOL_ID, error)
      || !ph_multistream_append_line (pending, protocol, error))
    {
      ph_duplex_free (io);
      return NULL;
    }

  self = g_new0 (LazyDuplex, 1);
  self->parent.vtable = &lazy_vtable;
  self->inner = io;
  self->protocol = g_strdup (protocol);
  self->pending = g_steal_pointer (&pending);
  self->answer = g_malloc (LAZY_ANSWER_BUFFER);
  g_mutex_init (&self->write_lock);
  g_mutex_init (&self->read_lock);
  g_cond_init (&self->read_cond);
  g_mutex_init (&self->failure_lock);
  return &self->parent;
}

gboolean
ph_multistream_lazy_flush (PhDuplex *lazy, gint64 deadline, GCancellable *cancellable,
                           GError **error)
{
  LazyDuplex *self = (LazyDuplex *) lazy;

  g_return_val_if_fail (lazy != NULL && lazy->vtable == &lazy_vtable, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (lazy_check_failed (self, error))
    return FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error)
      || ph_deadline_passed (deadline, error))
    return FALSE;
  return lazy_ensure_sent (self, deadline, cancellable, error);
}

gboolean
ph_multistream_lazy_is_confirmed (PhDuplex *lazy)
{
  g_return_val_if_fail (lazy != NULL && lazy->vtable == &lazy_vtable, FALSE);

  return g_atomic_int_get (&((LazyDuplex *) lazy)->confirmed);
}
