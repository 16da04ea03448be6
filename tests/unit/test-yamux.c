/* test-yamux.c: yamux frames and sessions (src/p2p/ph-yamux.c)
 *
 * Sessions run over the in-memory pipe pair: either two sessions facing each other, or one
 * session facing a "raw" end where the test writes and reads frames by hand, playing a peer that
 * may break every rule.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "p2p/ph-p2p-error.h"
#include "p2p/ph-yamux.h"

#define KiB 1024
#define SOON (ph_deadline_in (10000))

/* Frame codec */

typedef struct
{
  PhYamuxHeader header;
  guint8 bytes[PH_YAMUX_HEADER_LEN];
} HeaderVector;

static void
test_header_vectors (void)
{
  /* spec "Framing": version, type, flags (16), stream ID (32), length (32), all big-endian */
  static const HeaderVector vectors[] = {
    { { PH_YAMUX_TYPE_DATA, PH_YAMUX_FLAG_SYN, 1, 5 },
      { 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05 } },
    { { PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_ACK | PH_YAMUX_FLAG_FIN, 0x01020304, 0x40000 },
      { 0x00, 0x01, 0x00, 0x06, 0x01, 0x02, 0x03, 0x04, 0x00, 0x04, 0x00, 0x00 } },
    { { PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_RST, 0xfffffffe, 0xffffffff },
      { 0x00, 0x01, 0x00, 0x08, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff } },
    { { PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_SYN, 0, 0xdeadbeef },
      { 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef } },
    { { PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_ACK, 0, 0 },
      { 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 } },
    /* go-libp2p's ConnGated-style codes travel in Go Away */
    { { PH_YAMUX_TYPE_GO_AWAY, 0, 0, 0x1001 },
      { 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x01 } },
    /* flag bits the spec does not define are carried through */
    { { PH_YAMUX_TYPE_DATA, 0xf100, 7, 0 },
      { 0x00, 0x00, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00 } },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autoptr (GError) error = NULL;
      guint8 out[PH_YAMUX_HEADER_LEN];
      PhYamuxHeader back;

      ph_yamux_header_encode (&vectors[i].header, out);
      g_assert_cmpmem (out, sizeof out, vectors[i].bytes, sizeof vectors[i].bytes);

      g_assert_true (ph_yamux_header_decode (vectors[i].bytes, sizeof vectors[i].bytes, 64 * KiB,
                                             &back, &error));
      g_assert_no_error (error);
      g_assert_cmpint (back.type, ==, vectors[i].header.type);
      g_assert_cmpuint (back.flags, ==, vectors[i].header.flags);
      g_assert_cmpuint (back.stream_id, ==, vectors[i].header.stream_id);
      g_assert_cmpuint (back.length, ==, vectors[i].header.length);
    }
}

static void
assert_decode_fails (const guint8 *bytes, gsize len, guint32 max_data_len, gint code)
{
  g_autoptr (GError) error = NULL;
  PhYamuxHeader header = { 0 };

  g_assert_false (ph_yamux_header_decode (bytes, len, max_data_len, &header, &error));
  g_assert_error (error, PH_P2P_ERROR, code);
}

static void
test_header_malformed (void)
{
  guint8 b[PH_YAMUX_HEADER_LEN]
      = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10 };
  g_autoptr (GError) error = NULL;
  PhYamuxHeader header;

  /* truncated */
  for (gsize len = 0; len < PH_YAMUX_HEADER_LEN; len++)
    assert_decode_fails (b, len, 64 * KiB, PH_P2P_ERROR_TRUNCATED);
  assert_decode_fails (NULL, 0, 64 * KiB, PH_P2P_ERROR_TRUNCATED);

  /* only version 0 exists */
  for (guint v = 1; v < 256; v++)
    {
      b[0] = (guint8) v;
      assert_decode_fails (b, sizeof b, 64 * KiB, PH_P2P_ERROR_PROTOCOL);
    }
  b[0] = 0;

  /* only types 0-3 exist (go ErrInvalidMsgType) */
  for (guint t = 4; t < 256; t++)
    {
      b[1] = (guint8) t;
      assert_decode_fails (b, sizeof b, 64 * KiB, PH_P2P_ERROR_PROTOCOL);
    }
  b[1] = PH_YAMUX_TYPE_DATA;

  /* Data length against the cap: equal passes, one over fails, before anything is read */
  g_assert_true (ph_yamux_header_decode (b, sizeof b, 16, &header, &error));
  g_assert_no_error (error);
  assert_decode_fails (b, sizeof b, 15, PH_P2P_ERROR_TOO_LARGE);
  memset (b + 8, 0xff, 4);
  assert_decode_fails (b, sizeof b, PH_YAMUX_MAX_WINDOW, PH_P2P_ERROR_TOO_LARGE);
  /* ...but a Window Update's length is a delta, not a size */
  b[1] = PH_YAMUX_TYPE_WINDOW_UPDATE;
  g_assert_true (ph_yamux_header_decode (b, sizeof b, 16, &header, &error));
  g_assert_no_error (error);

  /* stream frames need a stream */
  b[7] = 0;
  assert_decode_fails (b, sizeof b, 64 * KiB, PH_P2P_ERROR_PROTOCOL);
  b[1] = PH_YAMUX_TYPE_DATA;
  memset (b + 8, 0, 4);
  assert_decode_fails (b, sizeof b, 64 * KiB, PH_P2P_ERROR_PROTOCOL);

  /* session frames need stream 0 */
  b[1] = PH_YAMUX_TYPE_GO_AWAY;
  b[7] = 3;
  assert_decode_fails (b, sizeof b, 64 * KiB, PH_P2P_ERROR_PROTOCOL);
  b[7] = 0;
  memset (b + 8, 0xff, 4); /* any Go Away code */
  g_assert_true (ph_yamux_header_decode (b, sizeof b, 16, &header, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (header.length, ==, 0xffffffff);

  /* a Ping asks (SYN) or answers (ACK), never both or neither */
  b[1] = PH_YAMUX_TYPE_PING;
  b[3] = PH_YAMUX_FLAG_SYN;
  b[7] = 1;
  assert_decode_fails (b, sizeof b, 64 * KiB, PH_P2P_ERROR_PROTOCOL);
  b[7] = 0;
  g_assert_true (ph_yamux_header_decode (b, sizeof b, 16, &header, &error));
  g_assert_no_error (error);
  b[3] = 0;
  assert_decode_fails (b, sizeof b, 64 * KiB, PH_P2P_ERROR_PROTOCOL);
  b[3] = PH_YAMUX_FLAG_SYN | PH_YAMUX_FLAG_ACK;
  assert_decode_fails (b, sizeof b, 64 * KiB, PH_P2P_ERROR_PROTOCOL);
}

/* Helpers: sessions, raw peers, background jobs */

static void
wait_closed (PhYamuxSession *session)
{
  GCancellable *closed = ph_yamux_session_get_closed_cancellable (session);
  gint64 deadline = SOON;

  while (!g_cancellable_is_cancelled (closed))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
  g_assert_true (ph_yamux_session_is_closed (session, NULL));
}

static void
assert_closed_with (PhYamuxSession *session, GQuark domain, gint code)
{
  g_autoptr (GError) reason = NULL;

  wait_closed (session);
  g_assert_true (ph_yamux_session_is_closed (session, &reason));
  g_assert_error (reason, domain, code);
}

static void
make_pair (PhYamuxSession **client, PhYamuxSession **server, const PhYamuxLimits *limits)
{
  PhDuplex *a;
  PhDuplex *b;

  ph_duplex_new_pipe_pair (&a, &b);
  *client = ph_yamux_session_new (a, TRUE, limits);
  *server = ph_yamux_session_new (b, FALSE, limits);
}

/* A session whose peer is the raw end; session_is_client says which role the session plays. */
static PhYamuxSession *
make_raw (PhDuplex **raw, gboolean session_is_client, const PhYamuxLimits *limits)
{
  PhDuplex *a;

  ph_duplex_new_pipe_pair (&a, raw);
  return ph_yamux_session_new (a, session_is_client, limits);
}

static void
raw_send (PhDuplex *raw, PhYamuxType type, guint16 flags, guint32 id, guint32 length,
          const void *payload)
{
  g_autoptr (GError) error = NULL;
  PhYamuxHeader header = { type, flags, id, length };
  guint8 bytes[PH_YAMUX_HEADER_LEN];

  ph_yamux_header_encode (&header, bytes);
  g_assert_true (ph_duplex_write (raw, bytes, sizeof bytes, SOON, NULL, &error));
  g_assert_no_error (error);
  if (payload != NULL)
    {
      g_assert_true (ph_duplex_write (raw, payload, length, SOON, NULL, &error));
      g_assert_no_error (error);
    }
}

static void
raw_send_bytes (PhDuplex *raw, const guint8 *bytes, gsize len)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ph_duplex_write (raw, bytes, len, SOON, NULL, &error));
  g_assert_no_error (error);
}

static void
raw_recv (PhDuplex *raw, PhYamuxHeader *header)
{
  g_autoptr (GError) error = NULL;
  guint8 bytes[PH_YAMUX_HEADER_LEN];

  g_assert_true (ph_duplex_read_exact (raw, bytes, sizeof bytes, SOON, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ph_yamux_header_decode (bytes, sizeof bytes, G_MAXUINT32, header, &error));
  g_assert_no_error (error);
}

static void
raw_expect (PhDuplex *raw, PhYamuxType type, guint16 flags, guint32 id, guint32 length)
{
  PhYamuxHeader header;

  raw_recv (raw, &header);
  g_assert_cmpint (header.type, ==, type);
  g_assert_cmpuint (header.flags, ==, flags);
  g_assert_cmpuint (header.stream_id, ==, id);
  g_assert_cmpuint (header.length, ==, length);
}

static void
raw_expect_data (PhDuplex *raw, guint32 id, const char *payload)
{
  g_autoptr (GError) error = NULL;
  gsize len = strlen (payload);
  g_autofree guint8 *got = g_malloc (len);

  raw_expect (raw, PH_YAMUX_TYPE_DATA, 0, id, (guint32) len);
  g_assert_true (ph_duplex_read_exact (raw, got, len, SOON, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (got, len, payload, len);
}

/* The raw end must see end of stream: the session freed its connection. */
static void
raw_expect_eof (PhDuplex *raw)
{
  g_autoptr (GError) error = NULL;
  guint8 byte;

  g_assert_cmpint (ph_duplex_read (raw, &byte, 1, SOON, NULL, &error), ==, 0);
  g_assert_no_error (error);
}

static void
write_all (PhDuplex *stream, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ph_duplex_write (stream, data, len, SOON, NULL, &error));
  g_assert_no_error (error);
}

static void
read_expect (PhDuplex *stream, const char *expected)
{
  g_autoptr (GError) error = NULL;
  gsize len = strlen (expected);
  g_autofree guint8 *got = g_malloc (len + 1);

  g_assert_true (ph_duplex_read_exact (stream, got, len, SOON, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (got, len, expected, len);
}

static void
read_expect_eof (PhDuplex *stream)
{
  g_autoptr (GError) error = NULL;
  guint8 byte;

  g_assert_cmpint (ph_duplex_read (stream, &byte, 1, SOON, NULL, &error), ==, 0);
  g_assert_no_error (error);
}

static PhDuplex *
open_stream (PhYamuxSession *session)
{
  g_autoptr (GError) error = NULL;
  PhDuplex *stream = ph_yamux_session_open_stream (session, SOON, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (stream);
  return stream;
}

static PhDuplex *
accept_stream (PhYamuxSession *session)
{
  g_autoptr (GError) error = NULL;
  PhDuplex *stream = ph_yamux_session_accept_stream (session, SOON, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (stream);
  return stream;
}

static void
fill_pattern (guint8 *buffer, gsize len, guint seed)
{
  guint32 x = seed * 2654435761u + 1;

  for (gsize i = 0; i < len; i++)
    {
      x = x * 1103515245u + 12345u;
      buffer[i] = (guint8) (x >> 16);
    }
}

/* A blocking call run on another thread, so the test can make it wait and then wake it. */
typedef enum
{
  JOB_READ,
  JOB_WRITE,
  JOB_ACCEPT,
  JOB_OPEN,
  JOB_PING,
} JobKind;

typedef struct
{
  JobKind kind;
  PhYamuxSession *session;
  PhDuplex *stream;
  gsize write_len;
  gint64 deadline;
  GCancellable *cancellable;
  GThread *thread;
  /* results */
  gssize n;
  gboolean ok;
  PhDuplex *got_stream;
  GError *error;
} Job;

static gpointer
job_run (gpointer user_data)
{
  Job *job = user_data;
  guint8 buffer[64];

  switch (job->kind)
    {
      case JOB_READ:
        job->n = ph_duplex_read (job->stream, buffer, sizeof buffer, job->deadline,
                                 job->cancellable, &job->error);
        job->ok = job->n >= 0;
        break;
      case JOB_WRITE:
        {
          g_autofree guint8 *data = g_malloc0 (job->write_len);

          job->ok = ph_duplex_write (job->stream, data, job->write_len, job->deadline,
                                     job->cancellable, &job->error);
        }
        break;
      case JOB_ACCEPT:
        job->got_stream = ph_yamux_session_accept_stream (job->session, job->deadline,
                                                          job->cancellable, &job->error);
        job->ok = job->got_stream != NULL;
        break;
      case JOB_OPEN:
        job->got_stream = ph_yamux_session_open_stream (job->session, job->deadline,
                                                        job->cancellable, &job->error);
        job->ok = job->got_stream != NULL;
        break;
      case JOB_PING:
        job->ok = ph_yamux_session_ping (job->session, NULL, job->deadline, job->cancellable,
                                         &job->error);
        break;
    }
  return NULL;
}

/* A job to adjust before job_go. */
static Job *
job_new (JobKind kind, PhYamuxSession *session, PhDuplex *stream)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  job->session = session;
  job->stream = stream;
  job->deadline = SOON;
  return job;
}

static Job *
job_go (Job *job)
{
  job->thread = g_thread_new ("test-job", job_run, job);
  return job;
}

static Job *
job_start (JobKind kind, PhYamuxSession *session, PhDuplex *stream)
{
  return job_go (job_new (kind, session, stream));
}

static void
job_finish (Job *job)
{
  g_thread_join (job->thread);
}

static void
job_free (Job *job)
{
  g_clear_pointer (&job->got_stream, ph_duplex_free);
  g_clear_error (&job->error);
  g_clear_object (&job->cancellable);
  g_free (job);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Job, job_free)

/* Streams between two sessions */

static void
test_open_accept_echo (void)
{
  g_autoptr (PhYamuxSession) client = NULL;
  g_autoptr (PhYamuxSession) server = NULL;
  g_autoptr (PhDuplex) c = NULL;
  g_autoptr (PhDuplex) s = NULL;

  make_pair (&client, &server, NULL);
  c = open_stream (client);
  write_all (c, "hello", 5);
  s = accept_stream (server);
  g_assert_cmpuint (ph_yamux_stream_get_id (c), ==, 1);
  g_assert_cmpuint (ph_yamux_stream_get_id (s), ==, 1);

  read_expect (s, "hello");
  write_all (s, "world", 5);
  g_assert_true (ph_duplex_close_write (s, SOON, NULL, NULL));
  read_expect (c, "world");
  read_expect_eof (c);
  g_assert_false (ph_yamux_session_is_closed (client, NULL));
  g_assert_false (ph_yamux_session_is_closed (server, NULL));
}

static void
test_stream_ids (void)
{
  g_autoptr (PhYamuxSession) client = NULL;
  g_autoptr (PhYamuxSession) server = NULL;
  PhDuplex *streams[4];
  PhDuplex *accepted[4];

  /* spec "StreamID Field": the dialer uses odd IDs, the listener even */
  make_pair (&client, &server, NULL);
  streams[0] = open_stream (client);
  streams[1] = open_stream (client);
  streams[2] = open_stream (server);
  streams[3] = open_stream (server);
  g_assert_cmpuint (ph_yamux_stream_get_id (streams[0]), ==, 1);
  g_assert_cmpuint (ph_yamux_stream_get_id (streams[1]), ==, 3);
  g_assert_cmpuint (ph_yamux_stream_get_id (streams[2]), ==, 2);
  g_assert_cmpuint (ph_yamux_stream_get_id (streams[3]), ==, 4);

  accepted[0] = accept_stream (server);
  accepted[1] = accept_stream (server);
  accepted[2] = accept_stream (client);
  accepted[3] = accept_stream (client);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpuint (ph_yamux_stream_get_id (accepted[i]), ==,
                      ph_yamux_stream_get_id (streams[i]));

  /* the server-opened stream carries data towards the client as well */
  write_all (streams[2], "to client", 9);
  read_expect (accepted[2], "to client");

  for (guint i = 0; i < 4; i++)
    {
      ph_duplex_free (streams[i]);
      ph_duplex_free (accepted[i]);
    }

  /* not a yamux stream */
  {
    PhDuplex *a;
    PhDuplex *b;

    ph_duplex_new_pipe_pair (&a, &b);
    g_assert_cmpuint (ph_yamux_stream_get_id (a), ==, 0);
    ph_duplex_free (a);
    ph_duplex_free (b);
  }
}

#define CONCURRENT_STREAMS 50
#define CONCURRENT_BYTES (100 * KiB)

static gpointer
echo_stream_thread (gpointer user_data)
{
  g_autoptr (PhDuplex) stream = user_data;
  guint8 buffer[7 * KiB];

  while (TRUE)
    {
      gssize n = ph_duplex_read (stream, buffer, sizeof buffer, SOON, NULL, NULL);

      if (n == 0)
        return GINT_TO_POINTER (ph_duplex_close_write (stream, SOON, NULL, NULL));
      if (n < 0)
        return GINT_TO_POINTER (FALSE);
      if (!ph_duplex_write (stream, buffer, (gsize) n, SOON, NULL, NULL))
        return GINT_TO_POINTER (FALSE);
    }
}

static gpointer
echo_server_thread (gpointer user_data)
{
  PhYamuxSession *server = user_data;
  GThread *echoes[CONCURRENT_STREAMS];
  gboolean all_ok = TRUE;

  for (guint i = 0; i < CONCURRENT_STREAMS; i++)
    {
      PhDuplex *stream = ph_yamux_session_accept_stream (server, SOON, NULL, NULL);

      if (stream == NULL)
        return GINT_TO_POINTER (FALSE);
      echoes[i] = g_thread_new ("echo", echo_stream_thread, stream);
    }
  for (guint i = 0; i < CONCURRENT_STREAMS; i++)
    if (!GPOINTER_TO_INT (g_thread_join (echoes[i])))
      all_ok = FALSE;
  return GINT_TO_POINTER (all_ok);
}

typedef struct
{
  PhYamuxSession *client;
  guint index;
} ClientWork;

static gpointer
echo_client_thread (gpointer user_data)
{
  ClientWork *work = user_data;
  g_autofree guint8 *sent = g_malloc (CONCURRENT_BYTES);
  g_autoptr (GBytes) echoed = NULL;
  g_autoptr (PhDuplex) stream = NULL;

  stream = ph_yamux_session_open_stream (work->client, SOON, NULL, NULL);
  if (stream == NULL)
    return GINT_TO_POINTER (FALSE);
  fill_pattern (sent, CONCURRENT_BYTES, work->index);
  /* In pieces of odd sizes, so frames of many streams interleave. */
  for (gsize off = 0; off < CONCURRENT_BYTES; off += 3001)
    if (!ph_duplex_write (stream, sent + off, MIN (3001, CONCURRENT_BYTES - off), SOON, NULL, NULL))
      return GINT_TO_POINTER (FALSE);
  if (!ph_duplex_close_write (stream, SOON, NULL, NULL))
    return GINT_TO_POINTER (FALSE);
  echoed = ph_duplex_read_to_end (stream, CONCURRENT_BYTES, SOON, NULL, NULL);
  return GINT_TO_POINTER (echoed != NULL && g_bytes_get_size (echoed) == CONCURRENT_BYTES
                          && memcmp (g_bytes_get_data (echoed, NULL), sent, CONCURRENT_BYTES) == 0);
}

static void
test_concurrent_streams (void)
{
  g_autoptr (PhYamuxSession) client = NULL;
  g_autoptr (PhYamuxSession) server = NULL;
  /* All 50 may arrive before the echo server accepts the first. */
  PhYamuxLimits limits = { .max_pending_accepts = CONCURRENT_STREAMS };
  ClientWork work[CONCURRENT_STREAMS];
  GThread *clients[CONCURRENT_STREAMS];
  GThread *echo_server;

  make_pair (&client, &server, &limits);
  echo_server = g_thread_new ("echo-server", echo_server_thread, server);
  for (guint i = 0; i < CONCURRENT_STREAMS; i++)
    {
      work[i] = (ClientWork){ client, i };
      clients[i] = g_thread_new ("client", echo_client_thread, &work[i]);
    }
  for (guint i = 0; i < CONCURRENT_STREAMS; i++)
    g_assert_true (GPOINTER_TO_INT (g_thread_join (clients[i])));
  g_assert_true (GPOINTER_TO_INT (g_thread_join (echo_server)));
  g_assert_false (ph_yamux_session_is_closed (client, NULL));
  g_assert_false (ph_yamux_session_is_closed (server, NULL));
}

#define LARGE_BYTES (4 * 1024 * KiB)

static gpointer
large_writer_thread (gpointer user_data)
{
  PhDuplex *stream = user_data;
  g_autofree guint8 *data = g_malloc (LARGE_BYTES);

  fill_pattern (data, LARGE_BYTES, 42);
  for (gsize off = 0; off < LARGE_BYTES; off += 64 * KiB)
    if (!ph_duplex_write (stream, data + off, 64 * KiB, SOON, NULL, NULL))
      return GINT_TO_POINTER (FALSE);
  return GINT_TO_POINTER (ph_duplex_close_write (stream, SOON, NULL, NULL));
}

static void
test_large_transfer (void)
{
  g_autoptr (PhYamuxSession) client = NULL;
  g_autoptr (PhYamuxSession) server = NULL;
  g_autoptr (PhDuplex) c = NULL;
  g_autoptr (PhDuplex) s = NULL;
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *expected = g_malloc (LARGE_BYTES);
  GThread *writer;

  /* 16 windows' worth: only window updates from the reading side let it through. */
  make_pair (&client, &server, NULL);
  c = open_stream (client);
  writer = g_thread_new ("writer", large_writer_thread, c);
  s = accept_stream (server);
  got = ph_duplex_read_to_end (s, LARGE_BYTES, SOON, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (GPOINTER_TO_INT (g_thread_join (writer)));

  fill_pattern (expected, LARGE_BYTES, 42);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), expected, LARGE_BYTES);
}

static void
test_flow_control_blocks_writer (void)
{
  g_autoptr (PhYamuxSession) client = NULL;
  g_autoptr (PhYamuxSession) server = NULL;
  g_autoptr (PhDuplex) c = NULL;
  g_autoptr (PhDuplex) s = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *data = g_malloc0 (PH_YAMUX_INITIAL_WINDOW);
  g_autofree guint8 *sink = g_malloc (PH_YAMUX_INITIAL_WINDOW);
  gint64 start;

  make_pair (&client, &server, NULL);
  c = open_stream (client);
  /* The whole initial window goes out with nobody reading... */
  write_all (c, data, PH_YAMUX_INITIAL_WINDOW);
  /* ...and one byte more waits for a window update until the deadline. */
  start = g_get_monotonic_time ();
  g_assert_false (ph_duplex_write (c, data, 1, ph_deadline_in (200), NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 190 * 1000);
  g_clear_error (&error);

  /* Reading half the window gives it back, and the write goes through. */
  s = accept_stream (server);
  g_assert_true (ph_duplex_read_exact (s, sink, PH_YAMUX_INITIAL_WINDOW / 2, SOON, NULL, &error));
  g_assert_no_error (error);
  write_all (c, "!", 1);
  g_assert_true (ph_duplex_read_exact (s, sink, PH_YAMUX_INITIAL_WINDOW / 2, SOON, NULL, &error));
  g_assert_no_error (error);
  read_expect (s, "!");
}

static void
test_half_close (void)
{
  g_autoptr (PhYamuxSession) client = NULL;
  g_autoptr (PhYamuxSession) server = NULL;
  g_autoptr (PhDuplex) c = NULL;
  g_autoptr (PhDuplex) s = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) request = NULL;

  make_pair (&client, &server, NULL);
  c = open_stream (client);
  write_all (c, "request", 7);
  g_assert_true (ph_duplex_close_write (c, SOON, NULL, &error));
  g_assert_no_error (error);
  /* a second close is harmless */
  g_assert_true (ph_duplex_close_write (c, SOON, NULL, &error));
  g_assert_no_error (error);
  /* writing after FIN is not */
  g_assert_false (ph_duplex_write (c, (const guint8 *) "x", 1, SOON, NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_clear_error (&error);

  /* The server reads to the FIN, then still answers on its own half. */
  s = accept_stream (server);
  request = ph_duplex_read_to_end (s, 100, SOON, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (request, NULL), g_bytes_get_size (request), "request", 7);
  read_expect_eof (s); /* end of stream stays end of stream */
  write_all (s, "response", 8);
  read_expect (c, "response");
  g_assert_true (ph_duplex_close_write (s, SOON, NULL, &error));
  read_expect_eof (c);
}

static void
test_reset (void)
{
  g_autoptr (PhYamuxSession) client = NULL;
  g_autoptr (PhYamuxSession) server = NULL;
  g_autoptr (PhDuplex) c = NULL;
  g_autoptr (Job) reader = NULL;
  g_autoptr (GError) error = NULL;
  PhDuplex *s;

  make_pair (&client, &server, NULL);
  c = open_stream (client);
  write_all (c, "x", 1);
  s = accept_stream (server);
  read_expect (s, "x");

  /* The client waits for a response; the server drops the stream without closing it: RST. */
  reader = job_start (JOB_READ, client, c);
  ph_duplex_free (s);
  job_finish (reader);
  g_assert_cmpint (reader->n, ==, -1);
  g_assert_error (reader->error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_assert_nonnull (strstr (reader->error->message, "reset by the peer"));

  g_assert_false (ph_duplex_write (c, (const guint8 *) "y", 1, SOON, NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_false (ph_duplex_close_write (c, SOON, NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);

  /* the session lives on */
  g_assert_false (ph_yamux_session_is_closed (client, NULL));
  g_assert_true (ph_yamux_session_ping (client, NULL, SOON, NULL, NULL));
}

static void
test_ping (void)
{
  g_autoptr (PhYamuxSession) client = NULL;
  g_autoptr (PhYamuxSession) server = NULL;
  g_autoptr (GError) error = NULL;
  Job *pings[8];
  gint64 rtt = -1;

  make_pair (&client, &server, NULL);
  g_assert_true (ph_yamux_session_ping (client, &rtt, SOON, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rtt, >=, 0);
  g_assert_cmpint (rtt, <, 10 * G_USEC_PER_SEC);
  g_assert_true (ph_yamux_session_ping (server, &rtt, SOON, NULL, &error));
  g_assert_no_error (error);

  /* concurrent pings take turns */
  for (guint i = 0; i < G_N_ELEMENTS (pings); i++)
    pings[i] = job_start (JOB_PING, i % 2 ? client : server, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (pings); i++)
    {
      job_finish (pings[i]);
      g_assert_no_error (pings[i]->error);
      g_assert_true (pings[i]->ok);
      job_free (pings[i]);
    }
}

static void
test_go_away (void)
{
  g_autoptr (PhYamuxSession) client = NULL;
  g_autoptr (PhYamuxSession) server = NULL;
  g_autoptr (PhDuplex) c = NULL;
  g_autoptr (PhDuplex) s = NULL;
  g_autoptr (GError) error = NULL;
  PhDuplex *refused;
  guint32 code = 99;

  make_pair (&client, &server, NULL);
  c = open_stream (client);
  write_all (c, "before", 6);
  s = accept_stream (server);

  g_assert_false (ph_yamux_session_get_remote_go_away (client, NULL));
  ph_yamux_session_go_away (server, PH_YAMUX_GO_AWAY_NORMAL);
  /* The Go Away left before the pong, so after a ping the client has seen it. */
  g_assert_true (ph_yamux_session_ping (client, NULL, SOON, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ph_yamux_session_get_remote_go_away (client, &code));
  g_assert_cmpuint (code, ==, PH_YAMUX_GO_AWAY_NORMAL);

  /* no new streams... */
  refused = ph_yamux_session_open_stream (client, SOON, NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  /* ...while the open one carries on both ways */
  read_expect (s, "before");
  write_all (c, "after", 5);
  read_expect (s, "after");
  write_all (s, "reply", 5);
  read_expect (c, "reply");
  g_assert_false (ph_yamux_session_is_closed (client, NULL));
}

/* Deadlines, cancellation, closing */

static void
test_read_deadline (void)
{
  g_autoptr (PhYamuxSession) client = NULL;
  g_autoptr (PhYamuxSession) server = NULL;
  g_autoptr (PhDuplex) c = NULL;
  g_autoptr (PhDuplex) s = NULL;
  g_autoptr (GError) error = NULL;
  guint8 byte;
  gint64 start;
  gint64 elapsed;

  make_pair (&client, &server, NULL);
  c = open_stream (client);
  s = accept_stream (server);

  start = g_get_monotonic_time ();
  g_assert_cmpint (ph_duplex_read (s, &byte, 1, ph_deadline_in (150), NULL, &error), ==, -1);
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (elapsed, >=, 140 * 1000);
  g_assert_cmpint (elapsed, <, 3 * G_USEC_PER_SEC);
  g_clear_error (&error);

  /* a timeout spoils nothing */
  write_all (c, "late", 4);
  read_expect (s, "late");
}

static void
test_cancel_read (void)
{
  g_autoptr (PhYamuxSession) client = NULL;
  g_autoptr (PhYamuxSession) server = NULL;
  g_autoptr (PhDuplex) c = NULL;
  g_autoptr (PhDuplex) s = NULL;
  g_autoptr (Job) reader = NULL;
  g_autoptr (Job) acceptor = NULL;

  make_pair (&client, &server, NULL);
  c = open_stream (client);
  s = accept_stream (server);

  reader = job_new (JOB_READ, server, s);
  reader->deadline = PH_DEADLINE_NONE;
  reader->cancellable = g_cancellable_new ();
  job_go (reader);
  acceptor = job_new (JOB_ACCEPT, server, NULL);
  acceptor->deadline = PH_DEADLINE_NONE;
  acceptor->cancellable = g_cancellable_new ();
  job_go (acceptor);

  g_usleep (50 * 1000);
  g_cancellable_cancel (reader->cancellable);
  g_cancellable_cancel (acceptor->cancellable);
  job_finish (reader);
  job_finish (acceptor);
  g_assert_error (reader->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_error (acceptor->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (ph_yamux_session_is_closed (server, NULL));
}

static void
test_close_wakes_everyone (void)
{
  g_autoptr (PhYamuxSession) client = NULL;
  g_autoptr (PhYamuxSession) server = NULL;
  g_autoptr (PhDuplex) c1 = NULL;
  g_autoptr (PhDuplex) c2 = NULL;
  g_autoptr (Job) reader = NULL;
  g_autoptr (Job) writer = NULL;
  g_autoptr (Job) acceptor = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) reason = NULL;
  guint32 code = 99;

  make_pair (&client, &server, NULL);
  c1 = open_stream (client);
  c2 = open_stream (client);
  reader = job_new (JOB_READ, client, c1);
  reader->deadline = PH_DEADLINE_NONE;
  job_go (reader);
  /* more than the window: blocks until the server reads, which it never does */
  writer = job_new (JOB_WRITE, client, c2);
  writer->write_len = PH_YAMUX_INITIAL_WINDOW + 1;
  writer->deadline = PH_DEADLINE_NONE;
  job_go (writer);
  acceptor = job_new (JOB_ACCEPT, client, NULL);
  acceptor->deadline = PH_DEADLINE_NONE;
  job_go (acceptor);

  g_usleep (50 * 1000);
  ph_yamux_session_close (client);
  job_finish (reader);
  job_finish (writer);
  job_finish (acceptor);
  g_assert_error (reader->error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_assert_error (writer->error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_assert_error (acceptor->error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_assert_true (g_cancellable_is_cancelled (ph_yamux_session_get_closed_cancellable (client)));
  g_assert_true (ph_yamux_session_is_closed (client, &reason));
  g_assert_error (reason, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);

  /* everything after close fails the same way; close twice is fine */
  g_assert_null (ph_yamux_session_open_stream (client, SOON, NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_false (ph_yamux_session_ping (client, NULL, SOON, NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_clear_error (&error);
  ph_yamux_session_close (client);

  /* The server got Go Away (normal), then the end of the connection. */
  wait_closed (server);
  g_assert_true (ph_yamux_session_get_remote_go_away (server, &code));
  g_assert_cmpuint (code, ==, PH_YAMUX_GO_AWAY_NORMAL);
}

static void
test_free_session_before_streams (void)
{
  g_autoptr (PhYamuxSession) client = NULL;
  g_autoptr (PhYamuxSession) server = NULL;
  g_autoptr (PhDuplex) c = NULL;
  g_autoptr (GError) error = NULL;
  guint8 byte;

  make_pair (&client, &server, NULL);
  c = open_stream (client);
  write_all (c, "x", 1);
  /* an unaccepted stream on the server side is released with the session */
  ph_yamux_session_ping (server, NULL, SOON, NULL, NULL);
  g_clear_pointer (&server, ph_yamux_session_free);
  g_clear_pointer (&client, ph_yamux_session_free);

  /* the handle stays valid and reports the closed session */
  g_assert_cmpint (ph_duplex_read (c, &byte, 1, SOON, NULL, &error), ==, -1);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_false (ph_duplex_write (c, (const guint8 *) "y", 1, SOON, NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
}

static void
test_free_at_once (void)
{
  /* Freed before its threads even ran (found by fuzz-yamux; a race, so many rounds). */
  for (guint i = 0; i < 1000; i++)
    {
      PhDuplex *raw;
      PhYamuxSession *session = make_raw (&raw, i % 2, NULL);

      /* the peer is gone already: close's Go Away fails at once */
      ph_duplex_free (raw);
      ph_yamux_session_free (session);
    }
  for (guint i = 0; i < 100; i++)
    {
      PhYamuxSession *client;
      PhYamuxSession *server;

      make_pair (&client, &server, NULL);
      ph_yamux_session_free (client);
      if (i % 2)
        ph_yamux_session_close (server);
      ph_yamux_session_free (server);
    }
}

/* A raw peer: what goes on the wire, and what a broken or hostile peer does */

static void
test_wire_open_write_close (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  g_autoptr (PhYamuxSession) session = make_raw (&raw, TRUE, NULL);
  PhDuplex *stream;

  /* go and js open with a Window Update carrying SYN; so do we */
  stream = open_stream (session);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 1, 0);
  write_all (stream, "hello", 5);
  raw_expect_data (raw, 1, "hello");
  raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_ACK, 1, 0, NULL);
  g_assert_true (ph_duplex_close_write (stream, SOON, NULL, NULL));
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_FIN, 1, 0);
  /* half-closed only: dropping it now resets it */
  ph_duplex_free (stream);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_RST, 1, 0);

  /* a stream closed both ways is released quietly: the next frame is the pong */
  stream = open_stream (session);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 3, 0);
  raw_send (raw, PH_YAMUX_TYPE_DATA, PH_YAMUX_FLAG_ACK | PH_YAMUX_FLAG_FIN, 3, 2, "ok");
  read_expect (stream, "ok");
  read_expect_eof (stream);
  g_assert_true (ph_duplex_close_write (stream, SOON, NULL, NULL));
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_FIN, 3, 0);
  ph_duplex_free (stream);
  raw_send (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_SYN, 0, 7, NULL);
  raw_expect (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_ACK, 0, 7);

  /* close says Go Away (normal), then the connection ends */
  ph_yamux_session_close (session);
  raw_expect (raw, PH_YAMUX_TYPE_GO_AWAY, 0, 0, PH_YAMUX_GO_AWAY_NORMAL);
  raw_expect_eof (raw);
}

static void
test_wire_accept (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  g_autoptr (PhYamuxSession) session = make_raw (&raw, FALSE, NULL);
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;

  /* SYN on a Window Update (go, js)... */
  raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 1, 0, NULL);
  a = accept_stream (session);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_ACK, 1, 0);
  /* ...or on the first Data frame */
  raw_send (raw, PH_YAMUX_TYPE_DATA, PH_YAMUX_FLAG_SYN, 3, 2, "hi");
  b = accept_stream (session);
  g_assert_cmpuint (ph_yamux_stream_get_id (b), ==, 3);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_ACK, 3, 0);
  read_expect (b, "hi");
  write_all (a, "to 1", 4);
  raw_expect_data (raw, 1, "to 1");
}

static void
test_wire_ping_echo (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  g_autoptr (PhYamuxSession) session = make_raw (&raw, TRUE, NULL);
  static const guint32 values[] = { 0, 1, 0xdeadbeef, 0x80000000, 0xffffffff };
  g_autoptr (Job) ping = NULL;
  PhYamuxHeader header;

  /* protocol-notes §11 trap 8: the opaque value comes back exactly */
  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    {
      raw_send (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_SYN, 0, values[i], NULL);
      raw_expect (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_ACK, 0, values[i]);
    }

  /* our ping: a stray answer with the wrong value does not complete it, the right one does */
  ping = job_start (JOB_PING, session, NULL);
  raw_recv (raw, &header);
  g_assert_cmpint (header.type, ==, PH_YAMUX_TYPE_PING);
  g_assert_cmpuint (header.flags, ==, PH_YAMUX_FLAG_SYN);
  raw_send (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_ACK, 0, header.length + 1, NULL);
  g_usleep (20 * 1000);
  g_assert_null (ping->error);
  g_assert_false (ping->ok);
  raw_send (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_ACK, 0, header.length, NULL);
  job_finish (ping);
  g_assert_no_error (ping->error);
  g_assert_true (ping->ok);
}

static void
test_wire_go_away_codes (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  g_autoptr (PhYamuxSession) session = make_raw (&raw, TRUE, NULL);
  g_autoptr (PhDuplex) stream = NULL;
  g_autoptr (GError) error = NULL;
  guint32 code = 0;

  stream = open_stream (session);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 1, 0);

  /* go-libp2p's codes start at 0x1000 (protocol-notes §4); any code is a go-away, not an error */
  raw_send (raw, PH_YAMUX_TYPE_GO_AWAY, 0, 0, 0x1001, NULL);
  raw_send (raw, PH_YAMUX_TYPE_DATA, 0, 1, 5, "still");
  read_expect (stream, "still");
  g_assert_true (ph_yamux_session_get_remote_go_away (session, &code));
  g_assert_cmpuint (code, ==, 0x1001);
  g_assert_false (ph_yamux_session_is_closed (session, NULL));
  g_assert_null (ph_yamux_session_open_stream (session, SOON, NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_assert_nonnull (strstr (error->message, "0x1001"));

  /* a peer that said go away gets its new streams refused */
  raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 2, 0, NULL);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_RST, 2, 0);
  write_all (stream, "ok", 2);
  raw_expect_data (raw, 1, "ok");
}

static void
test_wire_local_go_away_refuses (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  g_autoptr (PhYamuxSession) session = make_raw (&raw, FALSE, NULL);

  ph_yamux_session_go_away (session, 0x1005);
  raw_expect (raw, PH_YAMUX_TYPE_GO_AWAY, 0, 0, 0x1005);
  ph_yamux_session_go_away (session, 0); /* once only */
  raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 1, 0, NULL);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_RST, 1, 0);
  g_assert_false (ph_yamux_session_is_closed (session, NULL));
  /* and close sends no second Go Away */
  ph_yamux_session_close (session);
  raw_expect_eof (raw);
}

static void
test_wire_window_update_sent (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  g_autoptr (PhYamuxSession) session = make_raw (&raw, FALSE, NULL);
  g_autoptr (PhDuplex) stream = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *data = g_malloc0 (PH_YAMUX_INITIAL_WINDOW);
  g_autofree guint8 *sink = g_malloc (PH_YAMUX_INITIAL_WINDOW);

  /* the peer fills our window exactly: allowed */
  raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 1, 0, NULL);
  for (guint i = 0; i < 4; i++)
    raw_send (raw, PH_YAMUX_TYPE_DATA, 0, 1, PH_YAMUX_INITIAL_WINDOW / 4, data);
  stream = accept_stream (session);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_ACK, 1, 0);

  /* consuming half the window gives exactly that half back */
  g_assert_true (
      ph_duplex_read_exact (stream, sink, PH_YAMUX_INITIAL_WINDOW / 2, SOON, NULL, &error));
  g_assert_no_error (error);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, 0, 1, PH_YAMUX_INITIAL_WINDOW / 2);

  /* which the peer may use at once */
  raw_send (raw, PH_YAMUX_TYPE_DATA, 0, 1, PH_YAMUX_INITIAL_WINDOW / 2, data);
  raw_send (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_SYN, 0, 1, NULL);
  raw_expect (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_ACK, 0, 1);
  g_assert_false (ph_yamux_session_is_closed (session, NULL));
}

static void
test_wire_larger_window (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  PhYamuxLimits limits = { .stream_window = 1024 * KiB };
  g_autoptr (PhYamuxSession) session = make_raw (&raw, TRUE, &limits);
  g_autoptr (PhDuplex) stream = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *data = g_malloc0 (1024 * KiB);

  /* spec "Flow Control": the SYN's window update announces the window beyond 256 KiB */
  stream = open_stream (session);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 1,
              1024 * KiB - PH_YAMUX_INITIAL_WINDOW);
  raw_send (raw, PH_YAMUX_TYPE_DATA, PH_YAMUX_FLAG_ACK, 1, 512 * KiB, data);
  raw_send (raw, PH_YAMUX_TYPE_DATA, 0, 1, 512 * KiB, data);
  g_assert_true (ph_duplex_read_exact (stream, data, 1024 * KiB, SOON, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (ph_yamux_session_is_closed (session, NULL));
}

static void
test_wire_window_abuse (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  g_autoptr (PhYamuxSession) session = make_raw (&raw, FALSE, NULL);
  g_autofree guint8 *data = g_malloc0 (16 * KiB);

  /* 300 KiB with no window update: 256 KiB fit, the frame after breaks the rule */
  raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 1, 0, NULL);
  for (guint i = 0; i < 300 / 16; i++)
    raw_send (raw, PH_YAMUX_TYPE_DATA, 0, 1, 16 * KiB, data);

  raw_expect (raw, PH_YAMUX_TYPE_GO_AWAY, 0, 0, PH_YAMUX_GO_AWAY_PROTOCOL_ERROR);
  assert_closed_with (session, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL);
}

static void
test_wire_oversized_frame (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  g_autoptr (PhYamuxSession) session = make_raw (&raw, FALSE, NULL);

  /* one 300 KiB frame: refused from the header alone, before any payload is read */
  raw_send (raw, PH_YAMUX_TYPE_DATA, PH_YAMUX_FLAG_SYN, 1, 300 * KiB, NULL);
  raw_expect (raw, PH_YAMUX_TYPE_GO_AWAY, 0, 0, PH_YAMUX_GO_AWAY_PROTOCOL_ERROR);
  assert_closed_with (session, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
}

static void
test_wire_too_many_streams (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  PhYamuxLimits limits = { .max_inbound_streams = 4, .max_pending_accepts = 4 };
  g_autoptr (PhYamuxSession) session = make_raw (&raw, FALSE, &limits);
  g_autofree guint8 *data = g_malloc0 (64 * KiB);
  PhDuplex *streams[4];

  for (guint32 id = 1; id <= 7; id += 2)
    raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, id, 0, NULL);
  /* the fifth is refused, and its data is dropped unread */
  raw_send (raw, PH_YAMUX_TYPE_DATA, PH_YAMUX_FLAG_SYN, 9, 64 * KiB, data);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_RST, 9, 0);
  raw_send (raw, PH_YAMUX_TYPE_DATA, 0, 9, 64 * KiB, data);

  /* releasing one (RST: it was never closed) frees a slot */
  streams[0] = accept_stream (session);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_ACK, 1, 0);
  ph_duplex_free (streams[0]);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_RST, 1, 0);
  raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 11, 0, NULL);
  for (guint i = 0; i < 4; i++)
    {
      streams[i] = accept_stream (session);
      g_assert_cmpuint (ph_yamux_stream_get_id (streams[i]), ==, i < 3 ? 3 + 2 * i : 11);
      raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_ACK,
                  ph_yamux_stream_get_id (streams[i]), 0);
    }
  /* accepted ones still count: the limit is on open streams */
  raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 13, 0, NULL);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_RST, 13, 0);

  g_assert_false (ph_yamux_session_is_closed (session, NULL));
  for (guint i = 0; i < 4; i++)
    ph_duplex_free (streams[i]);
}

static void
test_wire_pending_accepts_capped (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  PhYamuxLimits limits = { .max_pending_accepts = 2 };
  g_autoptr (PhYamuxSession) session = make_raw (&raw, FALSE, &limits);
  g_autoptr (PhDuplex) a = NULL;

  raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 1, 0, NULL);
  raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 3, 0, NULL);
  raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 5, 0, NULL);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_RST, 5, 0);
  a = accept_stream (session);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_ACK, 1, 0);
  raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 7, 0, NULL);
  raw_send (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_SYN, 0, 1, NULL);
  /* 7 took the freed slot: no RST before the pong */
  raw_expect (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_ACK, 0, 1);
}

static void
test_wire_unknown_stream_ignored (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  g_autoptr (PhYamuxSession) session = make_raw (&raw, FALSE, NULL);
  g_autofree guint8 *data = g_malloc0 (100);

  /* frames for streams we do not know (e.g. ones we reset) are drained, as go-yamux does */
  raw_send (raw, PH_YAMUX_TYPE_DATA, 0, 7, 100, data);
  raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_FIN, 9, 5, NULL);
  raw_send (raw, PH_YAMUX_TYPE_DATA, PH_YAMUX_FLAG_RST, 11, 0, NULL);
  raw_send (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_SYN, 0, 3, NULL);
  raw_expect (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_ACK, 0, 3);
  g_assert_false (ph_yamux_session_is_closed (session, NULL));
}

typedef struct
{
  const char *name;
  guint8 bytes[PH_YAMUX_HEADER_LEN];
  gboolean syn_first; /* open stream 1 before sending bytes */
  gint code;
} BadFrame;

static void
test_wire_protocol_errors (void)
{
  static const BadFrame cases[] = {
    { "version 1", { 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0 }, FALSE, PH_P2P_ERROR_PROTOCOL },
    { "type 4", { 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, FALSE, PH_P2P_ERROR_PROTOCOL },
    { "type 255", { 0, 0xff, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0 }, FALSE, PH_P2P_ERROR_PROTOCOL },
    { "data on stream 0", { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, FALSE, PH_P2P_ERROR_PROTOCOL },
    { "ping on a stream", { 0, 2, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0 }, FALSE, PH_P2P_ERROR_PROTOCOL },
    { "ping without SYN/ACK",
      { 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
      FALSE,
      PH_P2P_ERROR_PROTOCOL },
    /* we are the server: the peer's IDs are odd (go: "both yamux endpoints are clients") */
    { "SYN with our parity", { 0, 1, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0 }, FALSE, PH_P2P_ERROR_PROTOCOL },
    { "duplicate SYN", { 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0 }, TRUE, PH_P2P_ERROR_PROTOCOL },
    { "data after FIN", { 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1 }, TRUE, PH_P2P_ERROR_PROTOCOL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (PhDuplex) raw = NULL;
      g_autoptr (PhYamuxSession) session = make_raw (&raw, FALSE, NULL);
      g_autoptr (Job) acceptor = NULL;
      g_autoptr (Job) reader = NULL;
      g_autoptr (PhDuplex) stream = NULL;

      g_test_message ("%s", cases[i].name);
      if (cases[i].syn_first)
        {
          raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN | PH_YAMUX_FLAG_FIN, 1, 0,
                    NULL);
          stream = accept_stream (session);
          raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_ACK, 1, 0);
          read_expect_eof (stream);
        }
      else
        {
          raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_SYN, 1, 0, NULL);
          stream = accept_stream (session);
          raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_ACK, 1, 0);
          reader = job_start (JOB_READ, session, stream);
        }
      acceptor = job_start (JOB_ACCEPT, session, NULL);
      g_usleep (10 * 1000);

      raw_send_bytes (raw, cases[i].bytes, sizeof cases[i].bytes);
      /* a clean close: Go Away (protocol error), and every waiter woken */
      raw_expect (raw, PH_YAMUX_TYPE_GO_AWAY, 0, 0, PH_YAMUX_GO_AWAY_PROTOCOL_ERROR);
      assert_closed_with (session, PH_P2P_ERROR, cases[i].code);
      job_finish (acceptor);
      g_assert_error (acceptor->error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
      if (reader != NULL)
        {
          job_finish (reader);
          g_assert_error (reader->error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
        }
    }
}

static void
test_wire_peer_disconnects (void)
{
  PhDuplex *raw = NULL;
  g_autoptr (PhYamuxSession) session = make_raw (&raw, FALSE, NULL);
  g_autoptr (PhDuplex) stream = NULL;
  g_autoptr (Job) acceptor = NULL;
  g_autoptr (GError) error = NULL;
  guint8 buffer[8];

  raw_send (raw, PH_YAMUX_TYPE_DATA, PH_YAMUX_FLAG_SYN, 1, 6, "abcdef");
  stream = accept_stream (session);
  read_expect (stream, "abc");
  acceptor = job_start (JOB_ACCEPT, session, NULL);

  /* the connection drops mid-stream */
  ph_duplex_free (raw);
  wait_closed (session);
  job_finish (acceptor);
  g_assert_error (acceptor->error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);

  /* what arrived is still read; then the cut is an error, not a clean end of stream */
  read_expect (stream, "def");
  g_assert_cmpint (ph_duplex_read (stream, buffer, sizeof buffer, SOON, NULL, &error), ==, -1);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
}

static void
test_wire_disconnect_wakes_blocked_reader (void)
{
  PhDuplex *raw = NULL;
  g_autoptr (PhYamuxSession) session = make_raw (&raw, TRUE, NULL);
  g_autoptr (PhDuplex) stream = NULL;
  g_autoptr (Job) reader = NULL;

  stream = open_stream (session);
  reader = job_new (JOB_READ, session, stream);
  reader->deadline = PH_DEADLINE_NONE;
  job_go (reader);
  g_usleep (20 * 1000);
  /* a frame cut short, then nothing */
  raw_send_bytes (raw, (const guint8[]){ 0, 0, 0, 0, 0, 0 }, 6);
  ph_duplex_free (raw);
  job_finish (reader);
  g_assert_error (reader->error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  assert_closed_with (session, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED);
}

static void
test_wire_rst_and_fin_from_peer (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  g_autoptr (PhYamuxSession) session = make_raw (&raw, FALSE, NULL);
  g_autoptr (PhDuplex) stream = NULL;
  g_autoptr (GError) error = NULL;
  guint8 byte;

  raw_send (raw, PH_YAMUX_TYPE_DATA, PH_YAMUX_FLAG_SYN, 1, 3, "abc");
  stream = accept_stream (session);
  raw_expect (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_ACK, 1, 0);
  /* RST drops what was buffered: a reset stream is gone, not finished */
  raw_send (raw, PH_YAMUX_TYPE_WINDOW_UPDATE, PH_YAMUX_FLAG_RST, 1, 0, NULL);
  raw_send (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_SYN, 0, 1, NULL);
  raw_expect (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_ACK, 0, 1);
  g_assert_cmpint (ph_duplex_read (stream, &byte, 1, SOON, NULL, &error), ==, -1);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_clear_error (&error);
  /* data the peer still had in flight is drained, and freeing sends no second RST */
  raw_send (raw, PH_YAMUX_TYPE_DATA, 0, 1, 3, "xyz");
  g_clear_pointer (&stream, ph_duplex_free);
  raw_send (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_SYN, 0, 2, NULL);
  raw_expect (raw, PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_ACK, 0, 2);
  g_assert_false (ph_yamux_session_is_closed (session, NULL));
}

static void
test_wire_ping_flood_without_reading (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  g_autoptr (PhYamuxSession) session = make_raw (&raw, FALSE, NULL);
  g_autofree guint8 *pings = g_malloc (1000 * PH_YAMUX_HEADER_LEN);
  GCancellable *closed = ph_yamux_session_get_closed_cancellable (session);

  for (guint i = 0; i < 1000; i++)
    {
      PhYamuxHeader ping = { PH_YAMUX_TYPE_PING, PH_YAMUX_FLAG_SYN, 0, i };

      ph_yamux_header_encode (&ping, pings + i * PH_YAMUX_HEADER_LEN);
    }
  /* The pongs fill the pipe (1 MiB) since the peer never reads them; our reader keeps reading,
   * and the pongs it cannot send end the session (which then reads no more: the last write may
   * time out). */
  for (guint round = 0; round < 200 && !g_cancellable_is_cancelled (closed); round++)
    if (!ph_duplex_write (raw, pings, 1000 * PH_YAMUX_HEADER_LEN, ph_deadline_in (500), NULL, NULL))
      break;
  assert_closed_with (session, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT);
}

static void
test_wire_session_death_callback (void)
{
  g_autoptr (PhDuplex) raw = NULL;
  g_autoptr (PhYamuxSession) session = make_raw (&raw, FALSE, NULL);
  GCancellable *closed = ph_yamux_session_get_closed_cancellable (session);

  g_assert_false (g_cancellable_is_cancelled (closed));
  raw_send_bytes (raw, (const guint8[]){ 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 12);
  wait_closed (session);
  g_assert_true (g_cancellable_is_cancelled (closed));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/yamux/header/vectors", test_header_vectors);
  g_test_add_func ("/yamux/header/malformed", test_header_malformed);

  g_test_add_func ("/yamux/session/open-accept-echo", test_open_accept_echo);
  g_test_add_func ("/yamux/session/stream-ids", test_stream_ids);
  g_test_add_func ("/yamux/session/concurrent-streams", test_concurrent_streams);
  g_test_add_func ("/yamux/session/large-transfer", test_large_transfer);
  g_test_add_func ("/yamux/session/flow-control-blocks-writer", test_flow_control_blocks_writer);
  g_test_add_func ("/yamux/session/half-close", test_half_close);
  g_test_add_func ("/yamux/session/reset", test_reset);
  g_test_add_func ("/yamux/session/ping", test_ping);
  g_test_add_func ("/yamux/session/go-away", test_go_away);
  g_test_add_func ("/yamux/session/read-deadline", test_read_deadline);
  g_test_add_func ("/yamux/session/cancel-read", test_cancel_read);
  g_test_add_func ("/yamux/session/close-wakes-everyone", test_close_wakes_everyone);
  g_test_add_func ("/yamux/session/free-before-streams", test_free_session_before_streams);
  g_test_add_func ("/yamux/session/free-at-once", test_free_at_once);

  g_test_add_func ("/yamux/wire/open-write-close", test_wire_open_write_close);
  g_test_add_func ("/yamux/wire/accept", test_wire_accept);
  g_test_add_func ("/yamux/wire/ping-echo", test_wire_ping_echo);
  g_test_add_func ("/yamux/wire/go-away-codes", test_wire_go_away_codes);
  g_test_add_func ("/yamux/wire/local-go-away-refuses", test_wire_local_go_away_refuses);
  g_test_add_func ("/yamux/wire/window-update-sent", test_wire_window_update_sent);
  g_test_add_func ("/yamux/wire/larger-window", test_wire_larger_window);
  g_test_add_func ("/yamux/wire/window-abuse", test_wire_window_abuse);
  g_test_add_func ("/yamux/wire/oversized-frame", test_wire_oversized_frame);
  g_test_add_func ("/yamux/wire/too-many-streams", test_wire_too_many_streams);
  g_test_add_func ("/yamux/wire/pending-accepts-capped", test_wire_pending_accepts_capped);
  g_test_add_func ("/yamux/wire/unknown-stream-ignored", test_wire_unknown_stream_ignored);
  g_test_add_func ("/yamux/wire/protocol-errors", test_wire_protocol_errors);
  g_test_add_func ("/yamux/wire/peer-disconnects", test_wire_peer_disconnects);
  g_test_add_func ("/yamux/wire/disconnect-wakes-blocked-reader",
                   test_wire_disconnect_wakes_blocked_reader);
  g_test_add_func ("/yamux/wire/rst-from-peer", test_wire_rst_and_fin_from_peer);
  g_test_add_func ("/yamux/wire/ping-flood-without-reading", test_wire_ping_flood_without_reading);
  g_test_add_func ("/yamux/wire/session-death-cancellable", test_wire_session_death_callback);

  return g_test_run ();
}
