/* test-duplex.c: PhDuplex helpers over the in-memory pipe pair and over loopback TCP
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "p2p/ph-duplex.h"
#include "p2p/ph-p2p-error.h"
#include "p2p/ph-varint.h"

/* Generous: the tests assert that a call returns, not how precisely it keeps time. */
#define SOON_US (5 * G_USEC_PER_SEC)

typedef enum
{
  PAIR_PIPE,
  PAIR_TCP4,
  PAIR_TCP6,
} PairKind;

static const PairKind pair_pipe = PAIR_PIPE;
static const PairKind pair_tcp4 = PAIR_TCP4;
static const PairKind pair_tcp6 = PAIR_TCP6;

/* A connected loopback TCP pair on `host`, port 0; FALSE when the host lacks that family. */
static gboolean
make_tcp_pair (const char *host, PhDuplex **a, PhDuplex **b)
{
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (host);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (inet, 0);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GSocket) client = NULL;
  g_autoptr (GSocket) server = NULL;
  g_autoptr (GError) error = NULL;

  if (!g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error))
    {
      g_test_message ("no listener on %s: %s", host, error->message);
      return FALSE;
    }

  client = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  /* The kernel completes the handshake from the backlog, so connect then accept in one thread. */
  g_socket_connect (client, effective, NULL, &error);
  g_assert_no_error (error);
  server = g_socket_listener_accept_socket (listener, NULL, NULL, &error);
  g_assert_no_error (error);

  *a = ph_duplex_new_for_socket (client);
  *b = ph_duplex_new_for_socket (server);
  return TRUE;
}

static gboolean
make_pair (gconstpointer data, PhDuplex **a, PhDuplex **b)
{
  switch (*(const PairKind *) data)
    {
      case PAIR_PIPE:
        ph_duplex_new_pipe_pair (a, b);
        return TRUE;
      case PAIR_TCP4:
        return make_tcp_pair ("127.0.0.1", a, b);
      case PAIR_TCP6:
        if (make_tcp_pair ("::1", a, b))
          return TRUE;
        g_test_skip ("no IPv6 loopback");
        return FALSE;
      default:
        g_assert_not_reached ();
    }
}

static void
write_all (PhDuplex *io, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ph_duplex_write (io, data, len, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
}

static void
test_deadline (void)
{
  g_autoptr (GError) error = NULL;
  gint64 later = ph_deadline_in (60 * 1000);

  g_assert_false (ph_deadline_passed (PH_DEADLINE_NONE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ph_deadline_remaining (PH_DEADLINE_NONE), ==, -1);

  g_assert_false (ph_deadline_passed (later, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ph_deadline_remaining (later), >, 59 * G_USEC_PER_SEC);

  g_assert_true (ph_deadline_passed (g_get_monotonic_time () - 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (ph_deadline_remaining (g_get_monotonic_time () - 1), ==, 0);
}

static void
test_read_exact (gconstpointer data)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  guint8 buffer[11] = { 0 };

  if (!make_pair (data, &a, &b))
    return;

  write_all (a, "hel", 3);
  write_all (a, "lo wo", 5);
  write_all (a, "rld!", 4);
  g_assert_true (
      ph_duplex_read_exact (b, buffer, sizeof buffer, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (buffer, sizeof buffer, "hello world", 11);

  /* The byte after stays for the next read. */
  g_assert_true (ph_duplex_read_exact (b, buffer, 1, ph_deadline_in (5000), NULL, &error));
  g_assert_cmpint (buffer[0], ==, '!');

  /* Zero bytes never block. */
  g_assert_true (ph_duplex_read_exact (b, buffer, 0, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
}

static void
test_frames (gconstpointer data)
{
  static const gsize sizes[] = { 0, 1, 127, 128, 300, 16383, 16384, 70000 };
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;

  if (!make_pair (data, &a, &b))
    return;

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree guint8 *payload = g_malloc (sizes[i] + 1);
      g_autoptr (GBytes) got = NULL;
      g_autoptr (GError) error = NULL;

      for (gsize j = 0; j < sizes[i]; j++)
        payload[j] = (guint8) (j * 7 + i);
      g_assert_true (
          ph_duplex_write_frame (a, payload, sizes[i], ph_deadline_in (5000), NULL, &error));
      g_assert_no_error (error);
      got = ph_duplex_read_frame (b, 70000, ph_deadline_in (5000), NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (got);
      g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), payload, sizes[i]);
    }
}

static void
test_frame_wire_format (void)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  guint8 buffer[3 + 300];

  ph_duplex_new_pipe_pair (&a, &b);
  memset (buffer, 'x', sizeof buffer);
  g_assert_true (ph_duplex_write_frame (a, buffer, 300, ph_deadline_in (5000), NULL, &error));
  memset (buffer, 0, sizeof buffer);
  g_assert_true (ph_duplex_read_exact (b, buffer, 2 + 300, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  /* unsigned-varint: 300 = 0xac 0x02 */
  g_assert_cmpint (buffer[0], ==, 0xac);
  g_assert_cmpint (buffer[1], ==, 0x02);
  g_assert_cmpint (buffer[2], ==, 'x');
  g_assert_cmpint (buffer[301], ==, 'x');
}

static void
test_frame_oversize (gconstpointer data)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) got = NULL;
  guint8 prefix[PH_VARINT_MAX_LEN];
  gsize n;

  if (!make_pair (data, &a, &b))
    return;

  /* 2^62 bytes announced and none sent: allocating first would abort, waiting would time out. */
  n = ph_varint_encode (G_GUINT64_CONSTANT (1) << 62, prefix);
  write_all (a, prefix, n);
  got = ph_duplex_read_frame (b, 1024, ph_deadline_in (5000), NULL, &error);
  g_assert_null (got);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* One over the limit fails too; exactly the limit passes. */
  n = ph_varint_encode (1025, prefix);
  write_all (a, prefix, n);
  got = ph_duplex_read_frame (b, 1024, ph_deadline_in (5000), NULL, &error);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
}

static void
test_frame_limit_exact (void)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) got = NULL;
  guint8 payload[1024] = { 0 };

  ph_duplex_new_pipe_pair (&a, &b);
  g_assert_true (
      ph_duplex_write_frame (a, payload, sizeof payload, ph_deadline_in (5000), NULL, &error));
  got = ph_duplex_read_frame (b, sizeof payload, ph_deadline_in (5000), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (got), ==, sizeof payload);
}

typedef struct
{
  const char *name;
  const guint8 *bytes;
  gsize len;
  gint code;
} BadFrame;

static void
test_frame_malformed (void)
{
  static const guint8 non_minimal[] = { 0x83, 0x00, 'a', 'b', 'c' };
  static const guint8 ten_bytes[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
  static const guint8 cut_varint[] = { 0x80 };
  static const guint8 cut_payload[] = { 0x05, 'a', 'b' };
  static const BadFrame cases[] = {
    { "non-minimal varint", non_minimal, sizeof non_minimal, PH_P2P_ERROR_MALFORMED },
    { "ten-byte varint", ten_bytes, sizeof ten_bytes, PH_P2P_ERROR_TOO_LARGE },
    { "varint cut by EOF", cut_varint, sizeof cut_varint, PH_P2P_ERROR_TRUNCATED },
    { "payload cut by EOF", cut_payload, sizeof cut_payload, PH_P2P_ERROR_TRUNCATED },
    { "EOF between frames", NULL, 0, PH_P2P_ERROR_CLOSED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (PhDuplex) a = NULL;
      g_autoptr (PhDuplex) b = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) got = NULL;

      g_test_message ("case: %s", cases[i].name);
      ph_duplex_new_pipe_pair (&a, &b);
      write_all (a, cases[i].bytes, cases[i].len);
      g_assert_true (ph_duplex_close_write (a, ph_deadline_in (5000), NULL, &error));
      got = ph_duplex_read_frame (b, 1 << 20, ph_deadline_in (5000), NULL, &error);
      g_assert_null (got);
      g_assert_error (error, PH_P2P_ERROR, cases[i].code);
    }
}

static void
test_read_varint_stops (void)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  static const guint8 bytes[] = { 0xac, 0x02, 'n', 'e', 'x', 't' };
  guint8 rest[4];
  guint64 value = 0;

  ph_duplex_new_pipe_pair (&a, &b);
  write_all (a, bytes, sizeof bytes);
  g_assert_true (ph_duplex_read_varint (b, &value, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (value, ==, 300);
  g_assert_true (ph_duplex_read_exact (b, rest, sizeof rest, ph_deadline_in (5000), NULL, &error));
  g_assert_cmpmem (rest, sizeof rest, "next", 4);
}

static void
test_read_to_end (gconstpointer data)
{
  g_autoptr (GByteArray) sent = g_byte_array_new ();

  for (guint i = 0; i < 10000; i++)
    g_byte_array_append (sent, (const guint8 *) &i, 1);

  for (gsize max = 9999; max <= 10001; max++)
    {
      g_autoptr (PhDuplex) a = NULL;
      g_autoptr (PhDuplex) b = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) got = NULL;

      if (!make_pair (data, &a, &b))
        return;
      write_all (a, sent->data, sent->len);
      g_assert_true (ph_duplex_close_write (a, ph_deadline_in (5000), NULL, &error));
      g_assert_no_error (error);
      got = ph_duplex_read_to_end (b, max, ph_deadline_in (5000), NULL, &error);
      if (max < sent->len)
        {
          g_assert_null (got);
          g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
          continue;
        }
      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), sent->data, sent->len);
    }
}

static void
test_eof (gconstpointer data)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  guint8 buffer[8];

  if (!make_pair (data, &a, &b))
    return;

  write_all (a, "abc", 3);
  g_assert_true (ph_duplex_close_write (a, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);

  /* Half-close: the data before it arrives, then end of stream, while b -> a still works. */
  g_assert_false (ph_duplex_read_exact (b, buffer, 4, ph_deadline_in (5000), NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED);
  g_clear_error (&error);
  g_assert_cmpint (ph_duplex_read (b, buffer, sizeof buffer, ph_deadline_in (5000), NULL, &error),
                   ==, 0);
  g_assert_false (ph_duplex_read_exact (b, buffer, 1, ph_deadline_in (5000), NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_clear_error (&error);

  write_all (b, "back", 4);
  g_assert_true (ph_duplex_read_exact (a, buffer, 4, ph_deadline_in (5000), NULL, &error));
  g_assert_cmpmem (buffer, 4, "back", 4);
}

static void
test_peer_gone (gconstpointer data)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  guint8 buffer[4];

  if (!make_pair (data, &a, &b))
    return;

  g_clear_pointer (&a, ph_duplex_free);
  g_assert_cmpint (ph_duplex_read (b, buffer, sizeof buffer, ph_deadline_in (5000), NULL, &error),
                   ==, 0);
  g_assert_no_error (error);
  /* Writes fail once the peer is gone (TCP may accept the first write; RST fails a later one). */
  for (guint i = 0; i < 100 && error == NULL; i++)
    {
      ph_duplex_write (b, (const guint8 *) "x", 1, ph_deadline_in (5000), NULL, &error);
      if (error == NULL)
        g_usleep (1000);
    }
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
}

static void
test_deadline_expiry (gconstpointer data)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  guint8 buffer[4];
  gint64 start;
  gint64 elapsed;

  if (!make_pair (data, &a, &b))
    return;

  start = g_get_monotonic_time ();
  g_assert_cmpint (ph_duplex_read (b, buffer, sizeof buffer, ph_deadline_in (100), NULL, &error),
                   ==, -1);
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (elapsed, >=, 90 * 1000);
  g_assert_cmpint (elapsed, <, SOON_US);
  g_clear_error (&error);

  /* A deadline already past fails even with bytes waiting. */
  write_all (a, "data", 4);
  g_assert_false (ph_duplex_read_exact (b, buffer, 4, g_get_monotonic_time () - 1, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  /* read_exact keeps one deadline across its reads. */
  start = g_get_monotonic_time ();
  g_assert_true (ph_duplex_read_exact (b, buffer, 4, ph_deadline_in (5000), NULL, &error));
  g_assert_false (ph_duplex_read_exact (b, buffer, 4, ph_deadline_in (100), NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, SOON_US);
}

static gpointer
cancel_later (gpointer data)
{
  g_usleep (50 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_cancel_wakes_read (gconstpointer data)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  GThread *thread;
  guint8 buffer[4];
  gint64 start;

  if (!make_pair (data, &a, &b))
    return;

  start = g_get_monotonic_time ();
  thread = g_thread_new ("cancel", cancel_later, cancellable);
  /* No deadline: only the cancellable can end this read. */
  g_assert_cmpint (ph_duplex_read (b, buffer, sizeof buffer, PH_DEADLINE_NONE, cancellable, &error),
                   ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, SOON_US);
  g_thread_join (thread);
  g_clear_error (&error);

  /* Already cancelled: fails at once. */
  g_assert_false (
      ph_duplex_write (a, (const guint8 *) "x", 1, PH_DEADLINE_NONE, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_pipe_full_blocks (void)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree guint8 *big = g_malloc0 (PH_DUPLEX_PIPE_CAPACITY + 1);
  GThread *thread;

  ph_duplex_new_pipe_pair (&a, &b);
  /* Nobody reads: the byte over the capacity cannot go, and the write waits out its deadline. */
  g_assert_false (
      ph_duplex_write (a, big, PH_DUPLEX_PIPE_CAPACITY + 1, ph_deadline_in (100), NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  /* A write blocked on a full pipe wakes on cancel too. */
  thread = g_thread_new ("cancel", cancel_later, cancellable);
  g_assert_false (ph_duplex_write (a, big, 1, PH_DEADLINE_NONE, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (thread);
}

typedef struct
{
  PhDuplex *io;
  gsize len;
  guint8 seed;
  gboolean ok;
  gchar *error_message;
} Transfer;

static guint8
pattern (gsize i, guint8 seed)
{
  return (guint8) ((i * 131) ^ (i >> 11) ^ seed);
}

static gpointer
writer_thread (gpointer data)
{
  Transfer *t = data;
  g_autofree guint8 *bytes = g_malloc (t->len);
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < t->len; i++)
    bytes[i] = pattern (i, t->seed);
  /* Odd-sized writes, so partial sends and ring wrap-around both happen. */
  t->ok = TRUE;
  for (gsize off = 0; off < t->len && t->ok;)
    {
      gsize n = MIN (t->len - off, 65537);

      t->ok = ph_duplex_write (t->io, bytes + off, n, ph_deadline_in (20000), NULL, &error);
      off += n;
    }
  if (!t->ok)
    t->error_message = g_strdup (error->message);
  return NULL;
}

static gpointer
reader_thread (gpointer data)
{
  Transfer *t = data;
  g_autofree guint8 *bytes = g_malloc (t->len);
  g_autoptr (GError) error = NULL;

  t->ok = ph_duplex_read_exact (t->io, bytes, t->len, ph_deadline_in (20000), NULL, &error);
  if (!t->ok)
    {
      t->error_message = g_strdup (error->message);
      return NULL;
    }
  for (gsize i = 0; i < t->len; i++)
    if (bytes[i] != pattern (i, t->seed))
      {
        t->ok = FALSE;
        t->error_message = g_strdup_printf ("byte %" G_GSIZE_FORMAT " differs", i);
        break;
      }
  return NULL;
}

/* Both ends read and write at once, each from a reader and a writer thread: the documented
 * concurrency, with more data than the pipe or the socket buffers hold. */
static void
test_bidirectional (gconstpointer data)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  const gsize len = 3 * PH_DUPLEX_PIPE_CAPACITY + 12345;
  Transfer transfers[4];
  GThread *threads[4];

  if (!make_pair (data, &a, &b))
    return;

  transfers[0] = (Transfer){ a, len, 1, FALSE, NULL };
  transfers[1] = (Transfer){ b, len, 1, FALSE, NULL };
  transfers[2] = (Transfer){ b, len, 2, FALSE, NULL };
  transfers[3] = (Transfer){ a, len, 2, FALSE, NULL };
  threads[0] = g_thread_new ("write a", writer_thread, &transfers[0]);
  threads[1] = g_thread_new ("read b", reader_thread, &transfers[1]);
  threads[2] = g_thread_new ("write b", writer_thread, &transfers[2]);
  threads[3] = g_thread_new ("read a", reader_thread, &transfers[3]);
  for (guint i = 0; i < 4; i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpstr (transfers[i].error_message, ==, NULL);
      g_assert_true (transfers[i].ok);
    }
}

static void
test_socket_accessor (void)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;

  ph_duplex_new_pipe_pair (&a, &b);
  g_assert_null (ph_duplex_get_socket (a));
  g_clear_pointer (&a, ph_duplex_free);
  g_clear_pointer (&b, ph_duplex_free);

  g_assert_true (make_tcp_pair ("127.0.0.1", &a, &b));
  g_assert_true (G_IS_SOCKET (ph_duplex_get_socket (a)));
  g_assert_false (g_socket_get_blocking (ph_duplex_get_socket (a)));
}

static void
add_for_each_pair (const char *name, GTestDataFunc func)
{
  static const struct
  {
    const char *suffix;
    const PairKind *kind;
  } pairs[] = {
    { "pipe", &pair_pipe },
    { "tcp4", &pair_tcp4 },
    { "tcp6", &pair_tcp6 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_autofree char *path = g_strdup_printf ("/duplex/%s/%s", pairs[i].suffix, name);

      g_test_add_data_func (path, pairs[i].kind, func);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/duplex/deadline", test_deadline);
  g_test_add_func ("/duplex/frame-wire-format", test_frame_wire_format);
  g_test_add_func ("/duplex/frame-limit-exact", test_frame_limit_exact);
  g_test_add_func ("/duplex/frame-malformed", test_frame_malformed);
  g_test_add_func ("/duplex/read-varint-stops", test_read_varint_stops);
  g_test_add_func ("/duplex/pipe-full-blocks", test_pipe_full_blocks);
  g_test_add_func ("/duplex/socket-accessor", test_socket_accessor);
  add_for_each_pair ("read-exact", test_read_exact);
  add_for_each_pair ("frames", test_frames);
  add_for_each_pair ("frame-oversize", test_frame_oversize);
  add_for_each_pair ("read-to-end", test_read_to_end);
  add_for_each_pair ("eof", test_eof);
  add_for_each_pair ("peer-gone", test_peer_gone);
  add_for_each_pair ("deadline-expiry", test_deadline_expiry);
  add_for_each_pair ("cancel-wakes-read", test_cancel_wakes_read);
  add_for_each_pair ("bidirectional", test_bidirectional);

  return g_test_run ();
}
