/* test-multistream.c: multistream-select 1.0 codec and negotiation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "p2p/ph-duplex.h"
#include "p2p/ph-multistream.h"
#include "p2p/ph-p2p-error.h"

#define HEADER "\x13/multistream/1.0.0\n"
#define NA "\x03na\n"

/* Codec */

static void
assert_encodes (const char *line, const char *expected, gsize expected_len)
{
  g_autoptr (GByteArray) buffer = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (ph_multistream_append_line (buffer, line, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (buffer->data, buffer->len, expected, expected_len);
}

static void
test_encode_vectors (void)
{
  /* multistream-select README note 2 ("na" = 0x036e610a); protocol-notes §1 prefixes. */
  assert_encodes ("na", "\x03\x6e\x61\x0a", 4);
  assert_encodes ("ls", "\x03\x6c\x73\x0a", 4);
  assert_encodes ("/multistream/1.0.0", HEADER, 20);
  assert_encodes ("/noise", "\x07/noise\n", 8);
  assert_encodes ("/yamux/1.0.0", "\x0d/yamux/1.0.0\n", 14);
  assert_encodes ("/libp2p/autonat/2/dial-request", "\x1f/libp2p/autonat/2/dial-request\n", 32);
  assert_encodes ("", "\x01\n", 2);
}

static void
test_encode_long (void)
{
  g_autoptr (GByteArray) buffer = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *max = g_strnfill (PH_MULTISTREAM_MAX_MESSAGE - 1, 'p');
  g_autofree char *over = g_strnfill (PH_MULTISTREAM_MAX_MESSAGE, 'p');
  g_autofree char *parsed = NULL;
  gsize consumed = 0;

  g_assert_true (ph_multistream_append_line (buffer, max, &error));
  g_assert_no_error (error);
  /* 1024 = 0x80 0x08 */
  g_assert_cmpuint (buffer->len, ==, 2 + PH_MULTISTREAM_MAX_MESSAGE);
  g_assert_cmpint (buffer->data[0], ==, 0x80);
  g_assert_cmpint (buffer->data[1], ==, 0x08);
  g_assert_true (ph_multistream_parse_line (buffer->data, buffer->len, &parsed, &consumed, &error));
  g_assert_cmpstr (parsed, ==, max);
  g_assert_cmpuint (consumed, ==, buffer->len);

  g_assert_false (ph_multistream_append_line (buffer, over, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
  g_assert_cmpuint (buffer->len, ==, 2 + PH_MULTISTREAM_MAX_MESSAGE);
}

static void
test_encode_invalid (void)
{
  static const char *const bad[] = { "two\nlines", "\xff\xfe", "caf\xc3", "trail\n" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GByteArray) buffer = g_byte_array_new ();
      g_autoptr (GError) error = NULL;

      g_assert_false (ph_multistream_append_line (buffer, bad[i], &error));
      g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
      g_assert_cmpuint (buffer->len, ==, 0);
    }
}

static void
test_parse_coalesced (void)
{
  static const char wire[] = HEADER "\x07/noise\n" NA "rest";
  const guint8 *p = (const guint8 *) wire;
  gsize left = sizeof wire - 1;
  static const char *const expected[] = { "/multistream/1.0.0", "/noise", "na" };

  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *line = NULL;
      g_autoptr (GError) error = NULL;
      gsize consumed = 0;

      g_assert_true (ph_multistream_parse_line (p, left, &line, &consumed, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (line, ==, expected[i]);
      p += consumed;
      left -= consumed;
    }
  g_assert_cmpmem (p, left, "rest", 4);
}

static void
test_parse_truncated (void)
{
  static const char wire[] = "\x80\x08";
  g_autoptr (GByteArray) message = g_byte_array_new ();

  g_assert_true (ph_multistream_append_line (message, "/ipfs/id/1.0.0", NULL));
  /* Every proper prefix of a valid message asks for more. */
  for (gsize len = 0; len < message->len; len++)
    {
      g_autoptr (GError) error = NULL;
      char *line = NULL;

      g_assert_false (ph_multistream_parse_line (message->data, len, &line, NULL, &error));
      g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED);
      g_assert_null (line);
    }

  /* A 1024-byte message announced, two bytes present. */
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (ph_multistream_parse_line ((const guint8 *) wire, 2, NULL, NULL, &error));
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED);
  }
}

typedef struct
{
  const char *name;
  const char *bytes;
  gsize len;
  gint code;
} BadLine;

#define BAD(name, literal, code)                                                                   \
  {                                                                                                \
    name, literal, sizeof literal - 1, code                                                        \
  }

static const BadLine bad_lines[] = {
  BAD ("no trailing newline", "\x03/ab", PH_P2P_ERROR_MALFORMED),
  BAD ("empty message", "\x00", PH_P2P_ERROR_MALFORMED),
  BAD ("embedded NUL",
       "\x04/\x00"
       "a\n",
       PH_P2P_ERROR_MALFORMED),
  BAD ("embedded newline", "\x04/\na\n", PH_P2P_ERROR_MALFORMED),
  BAD ("not UTF-8",
       "\x04/\xff"
       "a\n",
       PH_P2P_ERROR_MALFORMED),
  BAD ("overlong UTF-8",
       "\x04\xc0\xaf"
       "a\n",
       PH_P2P_ERROR_MALFORMED),
  BAD ("too long (1025), body absent", "\x81\x08", PH_P2P_ERROR_TOO_LARGE),
  BAD ("huge length", "\xff\xff\xff\xff\x0f", PH_P2P_ERROR_TOO_LARGE),
  BAD ("non-minimal varint", "\x83\x00/a\n", PH_P2P_ERROR_MALFORMED),
  BAD ("ten-byte varint", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", PH_P2P_ERROR_TOO_LARGE),
};

static void
test_parse_malformed (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_lines); i++)
    {
      g_autoptr (GError) error = NULL;
      char *line = NULL;
      gsize consumed = 12345;

      g_test_message ("case: %s", bad_lines[i].name);
      g_assert_false (ph_multistream_parse_line ((const guint8 *) bad_lines[i].bytes,
                                                 bad_lines[i].len, &line, &consumed, &error));
      g_assert_error (error, PH_P2P_ERROR, bad_lines[i].code);
      g_assert_null (line);
      g_assert_cmpuint (consumed, ==, 12345);
    }
}

/* Negotiation helpers */

typedef struct
{
  PhDuplex *io;
  const char *const *protocols;
  gboolean listener;
  gint64 deadline;
  gboolean ok;
  char *chosen;
  GError *error;
} Negotiation;

static gpointer
negotiate_thread (gpointer data)
{
  Negotiation *n = data;

  if (n->listener)
    n->ok = ph_multistream_handle (n->io, n->protocols, &n->chosen, n->deadline, NULL, &n->error);
  else
    n->ok = ph_multistream_select (n->io, n->protocols, &n->chosen, n->deadline, NULL, &n->error);
  return NULL;
}

static void
negotiation_clear (Negotiation *n)
{
  g_clear_pointer (&n->chosen, g_free);
  g_clear_error (&n->error);
}

/* Runs the dialer and the listener in two threads over `a` and `b`. */
static void
run_both (PhDuplex *a, PhDuplex *b, const char *const *dialer_protocols,
          const char *const *listener_protocols, Negotiation *dialer, Negotiation *listener)
{
  GThread *threads[2];

  *dialer = (Negotiation){ a, dialer_protocols, FALSE, ph_deadline_in (5000) };
  *listener = (Negotiation){ b, listener_protocols, TRUE, ph_deadline_in (5000) };
  threads[0] = g_thread_new ("dialer", negotiate_thread, dialer);
  threads[1] = g_thread_new ("listener", negotiate_thread, listener);
  g_thread_join (threads[0]);
  g_thread_join (threads[1]);
}

static void
write_all (PhDuplex *io, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ph_duplex_write (io, data, len, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
}

/* Everything `io` has received until its peer half-closed. */
static GBytes *
drain (PhDuplex *io)
{
  g_autoptr (GError) error = NULL;
  GBytes *bytes = ph_duplex_read_to_end (io, 1 << 20, ph_deadline_in (5000), NULL, &error);

  g_assert_no_error (error);
  return bytes;
}

static void
assert_bytes (GBytes *bytes, const char *expected, gsize len)
{
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), expected, len);
}

#define ASSERT_BYTES(bytes, literal) assert_bytes (bytes, literal, sizeof literal - 1)

/* Dialer against listener */

static void
test_match (void)
{
  static const char *const dialer_protocols[] = { "/noise", NULL };
  static const char *const listener_protocols[] = { "/tls/1.0.0", "/noise", NULL };
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  Negotiation dialer, listener;

  ph_duplex_new_pipe_pair (&a, &b);
  run_both (a, b, dialer_protocols, listener_protocols, &dialer, &listener);
  g_assert_no_error (dialer.error);
  g_assert_no_error (listener.error);
  g_assert_true (dialer.ok && listener.ok);
  g_assert_cmpstr (dialer.chosen, ==, "/noise");
  g_assert_cmpstr (listener.chosen, ==, "/noise");
  negotiation_clear (&dialer);
  negotiation_clear (&listener);
}

static void
test_na_then_match (void)
{
  static const char *const dialer_protocols[]
      = { "/tls/1.0.0", "/mplex/6.7.0", "/yamux/1.0.0", "/noise", NULL };
  static const char *const listener_protocols[] = { "/noise", "/yamux/1.0.0", NULL };
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  Negotiation dialer, listener;

  ph_duplex_new_pipe_pair (&a, &b);
  run_both (a, b, dialer_protocols, listener_protocols, &dialer, &listener);
  g_assert_no_error (dialer.error);
  g_assert_no_error (listener.error);
  /* The dialer's order wins: its first proposal the listener speaks. */
  g_assert_cmpstr (dialer.chosen, ==, "/yamux/1.0.0");
  g_assert_cmpstr (listener.chosen, ==, "/yamux/1.0.0");
  negotiation_clear (&dialer);
  negotiation_clear (&listener);
}

static void
test_no_common_protocol (void)
{
  static const char *const dialer_protocols[] = { "/tls/1.0.0", "/quic", NULL };
  static const char *const listener_protocols[] = { "/noise", NULL };
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  Negotiation dialer = { 0 }, listener = { 0 };
  GThread *thread;

  ph_duplex_new_pipe_pair (&a, &b);
  listener = (Negotiation){ b, listener_protocols, TRUE, ph_deadline_in (5000) };
  thread = g_thread_new ("listener", negotiate_thread, &listener);
  g_assert_false (ph_multistream_select (a, dialer_protocols, &dialer.chosen, ph_deadline_in (5000),
                                         NULL, &dialer.error));
  g_assert_error (dialer.error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION);
  g_assert_null (dialer.chosen);

  /* The dialer gives up and closes; the listener, waiting for another proposal, sees the end. */
  g_clear_pointer (&a, ph_duplex_free);
  g_thread_join (thread);
  g_assert_false (listener.ok);
  g_assert_error (listener.error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_assert_null (listener.chosen);
  negotiation_clear (&dialer);
  negotiation_clear (&listener);
}

static gpointer
send_after_select (gpointer data)
{
  Negotiation *n = data;

  negotiate_thread (n);
  if (n->ok)
    n->ok = ph_duplex_write (n->io, (const guint8 *) "ping", 4, n->deadline, NULL, &n->error);
  return NULL;
}

/* Both sides send application bytes right behind their last negotiation message. */
static void
test_pipelined_after_negotiation (void)
{
  static const char *const protocols[] = { "/ipfs/ping/1.0.0", NULL };
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *chosen = NULL;
  Negotiation dialer;
  GThread *thread;
  guint8 buffer[4];

  ph_duplex_new_pipe_pair (&a, &b);
  dialer = (Negotiation){ a, protocols, FALSE, ph_deadline_in (5000) };
  thread = g_thread_new ("dialer", send_after_select, &dialer);
  /* Echo and payload arrive in one write from the listener's side too. */
  g_assert_true (
      ph_multistream_handle (b, protocols, &chosen, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  write_all (b, "pong", 4);
  g_assert_true (ph_duplex_read_exact (b, buffer, 4, ph_deadline_in (5000), NULL, &error));
  g_assert_cmpmem (buffer, 4, "ping", 4);
  g_thread_join (thread);
  g_assert_no_error (dialer.error);
  g_assert_true (ph_duplex_read_exact (a, buffer, 4, ph_deadline_in (5000), NULL, &error));
  g_assert_cmpmem (buffer, 4, "pong", 4);
  negotiation_clear (&dialer);
}

/* A lazy dialer (go's lazyClient) sends header, proposal and data in one packet: the listener
 * must leave the data alone. */
static void
test_listener_keeps_lazy_data (void)
{
  static const char *const protocols[] = { "/noise", NULL };
  static const char wire[] = HEADER "\x07/noise\n"
                                    "\x00\x20noise-message-one";
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *chosen = NULL;
  g_autoptr (GBytes) rest = NULL;
  g_autoptr (GBytes) answer = NULL;

  ph_duplex_new_pipe_pair (&a, &b);
  write_all (a, wire, sizeof wire - 1);
  g_assert_true (ph_duplex_close_write (a, ph_deadline_in (5000), NULL, &error));
  g_assert_true (
      ph_multistream_handle (b, protocols, &chosen, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (chosen, ==, "/noise");
  rest = drain (b);
  ASSERT_BYTES (rest, "\x00\x20noise-message-one");

  g_assert_true (ph_duplex_close_write (b, ph_deadline_in (5000), NULL, &error));
  answer = drain (a);
  ASSERT_BYTES (answer, HEADER "\x07/noise\n");
}

/* The listener's echo and its first protocol bytes in one packet stay apart for the dialer. */
static void
test_dialer_keeps_following_data (void)
{
  static const char *const protocols[] = { "/tls/1.0.0", "/noise", NULL };
  static const char wire[] = HEADER NA "\x07/noise\n"
                                       "DATA";
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *chosen = NULL;
  g_autoptr (GBytes) rest = NULL;
  g_autoptr (GBytes) sent = NULL;

  ph_duplex_new_pipe_pair (&a, &b);
  write_all (b, wire, sizeof wire - 1);
  g_assert_true (ph_duplex_close_write (b, ph_deadline_in (5000), NULL, &error));
  g_assert_true (
      ph_multistream_select (a, protocols, &chosen, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (chosen, ==, "/noise");
  rest = drain (a);
  ASSERT_BYTES (rest, "DATA");

  /* Header and first proposal pipelined, the second proposal after the na. */
  g_assert_true (ph_duplex_close_write (a, ph_deadline_in (5000), NULL, &error));
  sent = drain (b);
  ASSERT_BYTES (sent, HEADER "\x0b/tls/1.0.0\n"
                             "\x07/noise\n");
}

typedef struct
{
  PhDuplex *io;
  const char *bytes;
  gsize len;
} Trickle;

static gpointer
trickle_thread (gpointer data)
{
  Trickle *t = data;

  for (gsize i = 0; i < t->len; i++)
    {
      g_assert_true (ph_duplex_write (t->io, (const guint8 *) t->bytes + i, 1,
                                      ph_deadline_in (5000), NULL, NULL));
      g_usleep (200);
    }
  return NULL;
}

/* Messages split into single bytes arrive across many reads. */
static void
test_split_messages (void)
{
  static const char *const protocols[] = { "/tls/1.0.0", "/noise", NULL };
  static const char wire[] = HEADER NA "\x07/noise\n";
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *chosen = NULL;
  Trickle trickle;
  GThread *thread;

  ph_duplex_new_pipe_pair (&a, &b);
  trickle = (Trickle){ b, wire, sizeof wire - 1 };
  thread = g_thread_new ("trickle", trickle_thread, &trickle);
  g_assert_true (
      ph_multistream_select (a, protocols, &chosen, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (chosen, ==, "/noise");
  g_thread_join (thread);
}

/* A scripted peer: `wire` is all it sends before it half-closes. */
static gboolean
run_scripted (gboolean listener, const char *const *protocols, const char *wire, gsize len,
              GError **error)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autofree char *chosen = NULL;
  gboolean ok;

  ph_duplex_new_pipe_pair (&a, &b);
  write_all (b, wire, len);
  g_assert_true (ph_duplex_close_write (b, ph_deadline_in (5000), NULL, NULL));
  if (listener)
    ok = ph_multistream_handle (a, protocols, &chosen, ph_deadline_in (5000), NULL, error);
  else
    ok = ph_multistream_select (a, protocols, &chosen, ph_deadline_in (5000), NULL, error);
  g_assert_true (ok == (chosen != NULL));
  return ok;
}

typedef struct
{
  const char *name;
  gboolean listener;
  const char *wire;
  gsize len;
  gint code;
} Script;

#define SCRIPT(name, listener, literal, code)                                                      \
  {                                                                                                \
    name, listener, literal, sizeof literal - 1, code                                              \
  }

static const Script failing_scripts[] = {
  SCRIPT ("dialer: wrong header", FALSE, "\x13/multistream/2.0.0\n", PH_P2P_ERROR_NEGOTIATION),
  SCRIPT ("dialer: na instead of header", FALSE, NA, PH_P2P_ERROR_NEGOTIATION),
  SCRIPT ("dialer: unexpected answer", FALSE, HEADER "\x07/other\n", PH_P2P_ERROR_NEGOTIATION),
  SCRIPT ("dialer: ls answer", FALSE, HEADER "\x03ls\n", PH_P2P_ERROR_NEGOTIATION),
  SCRIPT ("dialer: header without newline", FALSE, "\x12/multistream/1.0.0",
          PH_P2P_ERROR_MALFORMED),
  SCRIPT ("dialer: answer too long", FALSE, HEADER "\x81\x08", PH_P2P_ERROR_TOO_LARGE),
  SCRIPT ("dialer: bad varint", FALSE, HEADER "\x87\x00/noise\n", PH_P2P_ERROR_MALFORMED),
  SCRIPT ("dialer: closed before the header", FALSE, "", PH_P2P_ERROR_CLOSED),
  SCRIPT ("dialer: closed after the header", FALSE, HEADER, PH_P2P_ERROR_CLOSED),
  SCRIPT ("dialer: closed inside the answer", FALSE, HEADER "\x07/noi", PH_P2P_ERROR_TRUNCATED),
  SCRIPT ("dialer: closed inside a varint", FALSE, HEADER "\x80", PH_P2P_ERROR_TRUNCATED),
  SCRIPT ("dialer: all refused", FALSE, HEADER NA NA, PH_P2P_ERROR_NEGOTIATION),
  SCRIPT ("listener: wrong header", TRUE, "\x0d/noise/1.0.0\n\x07/noise\n",
          PH_P2P_ERROR_NEGOTIATION),
  SCRIPT ("listener: proposal without newline", TRUE, HEADER "\x06/noise", PH_P2P_ERROR_MALFORMED),
  SCRIPT ("listener: proposal too long", TRUE, HEADER "\xff\xff\x03", PH_P2P_ERROR_TOO_LARGE),
  SCRIPT ("listener: ten-byte varint", TRUE, HEADER "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
          PH_P2P_ERROR_TOO_LARGE),
  SCRIPT ("listener: NUL in proposal", TRUE, HEADER "\x07/no\x00se\n", PH_P2P_ERROR_MALFORMED),
  SCRIPT ("listener: not UTF-8", TRUE, HEADER "\x07/no\xffse\n", PH_P2P_ERROR_MALFORMED),
  SCRIPT ("listener: closed after the header", TRUE, HEADER, PH_P2P_ERROR_CLOSED),
  SCRIPT ("listener: closed after a refused proposal", TRUE, HEADER "\x05/tls\n",
          PH_P2P_ERROR_CLOSED),
  SCRIPT ("listener: closed inside a proposal", TRUE, HEADER "\x07/no", PH_P2P_ERROR_TRUNCATED),
};

static void
test_scripted_failures (void)
{
  static const char *const protocols[] = { "/tls/1.0.0", "/noise", NULL };

  for (gsize i = 0; i < G_N_ELEMENTS (failing_scripts); i++)
    {
      const Script *s = &failing_scripts[i];
      g_autoptr (GError) error = NULL;

      g_test_message ("case: %s", s->name);
      g_assert_false (run_scripted (s->listener, protocols, s->wire, s->len, &error));
      g_assert_error (error, PH_P2P_ERROR, s->code);
    }
}

/* go's dialer proposes /tls/1.0.0 first when it dials us (PROTOCOLS.md trap 6). */
static void
test_listener_answers_na_then_echo (void)
{
  static const char *const supported[] = { "/noise", NULL };
  static const char wire[] = HEADER "\x0b/tls/1.0.0\n"
                                    "\x03ls\n"
                                    "\x03na\n"
                                    "\x07/noise\n";
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *chosen = NULL;
  g_autoptr (GBytes) answer = NULL;

  ph_duplex_new_pipe_pair (&a, &b);
  write_all (b, wire, sizeof wire - 1);
  g_assert_true (
      ph_multistream_handle (a, supported, &chosen, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (chosen, ==, "/noise");
  g_assert_true (ph_duplex_close_write (a, ph_deadline_in (5000), NULL, &error));
  answer = drain (b);
  /* Header, na for /tls, for ls and for a proposal of "na", then the echo. */
  ASSERT_BYTES (answer, HEADER NA NA NA "\x07/noise\n");
}

static void
test_listener_attempt_limit (void)
{
  static const char *const supported[] = { "/noise", NULL };
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (ph_multistream_append_line (wire, PH_MULTISTREAM_PROTOCOL_ID, NULL));
  for (guint i = 0; i < PH_MULTISTREAM_MAX_ATTEMPTS; i++)
    {
      g_autofree char *proposal = g_strdup_printf ("/unknown/%u", i);

      g_assert_true (ph_multistream_append_line (wire, proposal, NULL));
    }
  /* The one it would accept comes too late. */
  g_assert_true (ph_multistream_append_line (wire, "/noise", NULL));

  g_assert_false (run_scripted (TRUE, supported, (const char *) wire->data, wire->len, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT);
  g_clear_error (&error);

  /* One fewer refusal and it gets through. */
  {
    static const char *const dialer_protocols[]
        = { "/a", "/b", "/c", "/d", "/e", "/f", "/g",     "/h", "/i",
            "/j", "/k", "/l", "/m", "/n", "/o", "/noise", NULL };
    g_autoptr (PhDuplex) a = NULL;
    g_autoptr (PhDuplex) b = NULL;
    Negotiation dialer, listener;

    g_assert_cmpuint (g_strv_length ((char **) dialer_protocols), ==, PH_MULTISTREAM_MAX_ATTEMPTS);
    ph_duplex_new_pipe_pair (&a, &b);
    run_both (a, b, dialer_protocols, supported, &dialer, &listener);
    g_assert_no_error (dialer.error);
    g_assert_no_error (listener.error);
    g_assert_cmpstr (listener.chosen, ==, "/noise");
    negotiation_clear (&dialer);
    negotiation_clear (&listener);
  }
}

static void
test_dialer_refuses_bad_proposal (void)
{
  static const char *const protocols[] = { "/noise", "/bad\nproto", NULL };
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) sent = NULL;

  ph_duplex_new_pipe_pair (&a, &b);
  g_assert_false (ph_multistream_select (a, protocols, NULL, ph_deadline_in (5000), NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
  /* Nothing went out. */
  g_clear_pointer (&a, ph_duplex_free);
  sent = drain (b);
  g_assert_cmpuint (g_bytes_get_size (sent), ==, 0);
}

static void
test_silent_peer_times_out (void)
{
  static const char *const protocols[] = { "/noise", NULL };
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  ph_duplex_new_pipe_pair (&a, &b);
  g_assert_false (ph_multistream_select (a, protocols, NULL, ph_deadline_in (100), NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_clear_pointer (&a, ph_duplex_free);
  g_clear_pointer (&b, ph_duplex_free);

  ph_duplex_new_pipe_pair (&a, &b);
  g_assert_false (ph_multistream_handle (b, protocols, NULL, ph_deadline_in (100), NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

/* The same negotiation over loopback TCP, with data following. */
static void
test_over_tcp (void)
{
  static const char *const dialer_protocols[] = { "/tls/1.0.0", "/noise", NULL };
  static const char *const listener_protocols[] = { "/noise", NULL };
  g_autoptr (GSocketListener) server = g_socket_listener_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GSocket) client_socket = NULL;
  g_autoptr (GSocket) server_socket = NULL;
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  Negotiation dialer, listener;
  guint8 buffer[4];

  g_socket_listener_add_address (server, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                 &effective, &error);
  g_assert_no_error (error);
  client_socket
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_connect (client_socket, effective, NULL, &error);
  g_assert_no_error (error);
  server_socket = g_socket_listener_accept_socket (server, NULL, NULL, &error);
  g_assert_no_error (error);
  a = ph_duplex_new_for_socket (client_socket);
  b = ph_duplex_new_for_socket (server_socket);

  run_both (a, b, dialer_protocols, listener_protocols, &dialer, &listener);
  g_assert_no_error (dialer.error);
  g_assert_no_error (listener.error);
  g_assert_cmpstr (dialer.chosen, ==, "/noise");
  write_all (a, "next", 4);
  g_assert_true (ph_duplex_read_exact (b, buffer, 4, ph_deadline_in (5000), NULL, &error));
  g_assert_cmpmem (buffer, 4, "next", 4);
  negotiation_clear (&dialer);
  negotiation_clear (&listener);
}

/* Optimistic negotiation (ph_multistream_select_lazy) */

/* A duplex that counts the writes made on the one under it. */
typedef struct
{
  PhDuplex parent;
  PhDuplex *inner;
  guint writes;
  gsize first_write_len;
} Counter;

static gssize
counter_read (PhDuplex *duplex, guint8 *buffer, gsize len, gint64 deadline,
              GCancellable *cancellable, GError **error)
{
  return ph_duplex_read (((Counter *) duplex)->inner, buffer, len, deadline, cancellable, error);
}

static gboolean
counter_write (PhDuplex *duplex, const guint8 *data, gsize len, gint64 deadline,
               GCancellable *cancellable, GError **error)
{
  Counter *self = (Counter *) duplex;

  if (self->writes++ == 0)
    self->first_write_len = len;
  return ph_duplex_write (self->inner, data, len, deadline, cancellable, error);
}

static gboolean
counter_close_write (PhDuplex *duplex, gint64 deadline, GCancellable *cancellable, GError **error)
{
  return ph_duplex_close_write (((Counter *) duplex)->inner, deadline, cancellable, error);
}

static void
counter_free (PhDuplex *duplex)
{
  /* The test owns the counter; the lazy duplex frees only what is under it. */
  ph_duplex_free (((Counter *) duplex)->inner);
  ((Counter *) duplex)->inner = NULL;
}

static const PhDuplexVTable counter_vtable = {
  counter_read,
  counter_write,
  counter_close_write,
  counter_free,
};

static PhDuplex *
lazy_new (PhDuplex *io, const char *protocol)
{
  g_autoptr (GError) error = NULL;
  PhDuplex *lazy = ph_multistream_select_lazy (io, protocol, &error);

  g_assert_no_error (error);
  g_assert_nonnull (lazy);
  return lazy;
}

typedef struct
{
  PhDuplex *io;
  const char *const *supported;
  gsize expect_len; /* bytes the listener reads after negotiating, then echoes */
  gboolean ok;
  char *chosen;
  GBytes *received;
  GError *error;
} Listener;

static gpointer
listener_thread (gpointer data)
{
  Listener *l = data;
  g_autofree guint8 *buffer = g_malloc (l->expect_len + 1);

  l->ok = ph_multistream_handle (l->io, l->supported, &l->chosen, ph_deadline_in (5000), NULL,
                                 &l->error)
          && ph_duplex_read_exact (l->io, buffer, l->expect_len, ph_deadline_in (5000), NULL,
                                   &l->error)
          && ph_duplex_write (l->io, buffer, l->expect_len, ph_deadline_in (5000), NULL, &l->error);
  if (l->ok)
    l->received = g_bytes_new (buffer, l->expect_len);
  return NULL;
}

static void
listener_clear (Listener *l)
{
  g_clear_pointer (&l->chosen, g_free);
  g_clear_pointer (&l->received, g_bytes_unref);
  g_clear_error (&l->error);
}

/* Header, proposal and the first protocol bytes leave in one write, with no answer waited for;
 * the listener's handler gets the bytes; the echo is checked at the first read. */
static void
test_lazy_pipelined (void)
{
  static const char *const supported[] = { "/tls/1.0.0", "/ipfs/ping/1.0.0", NULL };
  g_autoptr (PhDuplex) lazy = NULL;
  g_autoptr (GError) error = NULL;
  PhDuplex *a;
  PhDuplex *b;
  Counter counter;
  Listener listener = { 0 };
  GThread *thread;
  guint8 buffer[32];

  ph_duplex_new_pipe_pair (&a, &b);
  counter = (Counter){ { &counter_vtable }, a, 0, 0 };
  lazy = lazy_new (&counter.parent, "/ipfs/ping/1.0.0");
  g_assert_cmpuint (counter.writes, ==, 0);
  g_assert_false (ph_multistream_lazy_is_confirmed (lazy));

  /* Nobody listens yet: the write returns at once all the same. */
  write_all (lazy, "32 bytes of ping payload, random", 32);
  g_assert_cmpuint (counter.writes, ==, 1);
  g_assert_cmpuint (counter.first_write_len, ==, 20 + 18 + 32);

  listener = (Listener){ b, supported, 32 };
  thread = g_thread_new ("listener", listener_thread, &listener);
  g_assert_true (ph_duplex_read_exact (lazy, buffer, 32, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (buffer, 32, "32 bytes of ping payload, random", 32);
  g_assert_true (ph_multistream_lazy_is_confirmed (lazy));
  g_thread_join (thread);
  g_assert_no_error (listener.error);
  g_assert_cmpstr (listener.chosen, ==, "/ipfs/ping/1.0.0");
  ASSERT_BYTES (listener.received, "32 bytes of ping payload, random");
  g_assert_cmpuint (counter.writes, ==, 1);

  /* Past the negotiation the duplex is the stream itself. */
  write_all (lazy, "more", 4);
  g_assert_true (ph_duplex_read_exact (b, buffer, 4, ph_deadline_in (5000), NULL, &error));
  g_assert_cmpmem (buffer, 4, "more", 4);
  write_all (b, "back", 4);
  g_assert_true (ph_duplex_read_exact (lazy, buffer, 4, ph_deadline_in (5000), NULL, &error));
  g_assert_cmpmem (buffer, 4, "back", 4);
  listener_clear (&listener);
  g_clear_pointer (&lazy, ph_duplex_free);
  ph_duplex_free (b);
}

/* A listener that refuses: the first read fails cleanly with NEGOTIATION, and so does everything
 * after it; the bytes sent with the proposal never reach a handler. */
static void
test_lazy_na (void)
{
  static const char *const supported[] = { "/other/1.0.0", NULL };
  g_autoptr (PhDuplex) lazy = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) listener_error = NULL;
  PhDuplex *a;
  PhDuplex *b;
  guint8 byte;

  ph_duplex_new_pipe_pair (&a, &b);
  lazy = lazy_new (a, "/libp2p/autonat/2/dial-request");
  /* A request that is not a multistream message: the listener, expecting another proposal after
   * its na, takes it for a malformed one. */
  write_all (lazy, "\x05\x0a\x03\x01\x02\x03", 6);
  g_assert_false (
      ph_multistream_handle (b, supported, NULL, ph_deadline_in (5000), NULL, &listener_error));
  g_assert_error (listener_error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);

  g_assert_cmpint (ph_duplex_read (lazy, &byte, 1, ph_deadline_in (5000), NULL, &error), ==, -1);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION);
  g_assert_nonnull (strstr (error->message, "/libp2p/autonat/2/dial-request"));
  g_clear_error (&error);
  g_assert_false (ph_multistream_lazy_is_confirmed (lazy));
  /* Sticky, for both sides of the duplex: nothing more goes to a peer that refused. */
  g_assert_cmpint (ph_duplex_read (lazy, &byte, 1, ph_deadline_in (5000), NULL, &error), ==, -1);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION);
  g_clear_error (&error);
  g_assert_false (ph_duplex_write (lazy, &byte, 1, ph_deadline_in (5000), NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION);
  g_clear_error (&error);
  g_assert_false (ph_duplex_close_write (lazy, ph_deadline_in (5000), NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION);
  g_clear_error (&error);
  g_assert_false (ph_multistream_lazy_flush (lazy, ph_deadline_in (5000), NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION);
  ph_duplex_free (b);
}

/* A dialer that only reads (identify's requester) still proposes: its first read sends the
 * proposal, then waits for the answer and what follows it. */
static gpointer
identify_listener_thread (gpointer data)
{
  static const char *const supported[] = { "/ipfs/id/1.0.0", NULL };
  Negotiation *n = data;

  n->ok = ph_multistream_handle (n->io, supported, &n->chosen, n->deadline, NULL, &n->error)
          && ph_duplex_write (n->io, (const guint8 *) "identify", 8, n->deadline, NULL, &n->error)
          && ph_duplex_close_write (n->io, n->deadline, NULL, &n->error);
  return NULL;
}

static void
test_lazy_read_first (void)
{
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (PhDuplex) lazy = NULL;
  g_autoptr (GBytes) answer = NULL;
  Negotiation listener = { 0 };
  PhDuplex *a;
  GThread *thread;

  ph_duplex_new_pipe_pair (&a, &b);
  lazy = lazy_new (a, "/ipfs/id/1.0.0");
  listener = (Negotiation){ b, NULL, TRUE, ph_deadline_in (5000) };
  thread = g_thread_new ("listener", identify_listener_thread, &listener);
  answer = drain (lazy);
  ASSERT_BYTES (answer, "identify");
  g_thread_join (thread);
  g_assert_no_error (listener.error);
  g_assert_cmpstr (listener.chosen, ==, "/ipfs/id/1.0.0");
  negotiation_clear (&listener);
}

/* The answer in pieces, a deadline in the middle of it: the read fails with TIMED_OUT, the next
 * one picks up where it stopped; bytes behind the echo in the same write are data. */
static void
test_lazy_resumes_after_deadline (void)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (PhDuplex) lazy = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) rest = NULL;
  guint8 byte;

  ph_duplex_new_pipe_pair (&a, &b);
  lazy = lazy_new (g_steal_pointer (&a), "/noise");
  g_assert_true (ph_multistream_lazy_flush (lazy, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  write_all (b, HEADER "\x07/noi", 25);
  g_assert_cmpint (ph_duplex_read (lazy, &byte, 1, ph_deadline_in (100), NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_false (ph_multistream_lazy_is_confirmed (lazy));

  write_all (b, "se\nDATA", 7);
  g_assert_true (ph_duplex_close_write (b, ph_deadline_in (5000), NULL, &error));
  rest = drain (lazy);
  ASSERT_BYTES (rest, "DATA");
  g_assert_true (ph_multistream_lazy_is_confirmed (lazy));

  /* The flush sent header and proposal, and only once. */
  g_assert_true (ph_duplex_close_write (lazy, ph_deadline_in (5000), NULL, &error));
  g_clear_pointer (&rest, g_bytes_unref);
  rest = drain (b);
  ASSERT_BYTES (rest, HEADER "\x07/noise\n");
}

/* Messages split into single bytes, as the answer of a lazy proposal. */
static void
test_lazy_split_answer (void)
{
  static const char wire[] = HEADER "\x07/noise\n"
                                    "tail";
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (PhDuplex) lazy = NULL;
  g_autoptr (GError) error = NULL;
  Trickle trickle;
  GThread *thread;
  guint8 buffer[4];

  ph_duplex_new_pipe_pair (&a, &b);
  lazy = lazy_new (g_steal_pointer (&a), "/noise");
  trickle = (Trickle){ b, wire, sizeof wire - 1 };
  thread = g_thread_new ("trickle", trickle_thread, &trickle);
  g_assert_true (ph_duplex_read_exact (lazy, buffer, 4, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (buffer, 4, "tail", 4);
  g_thread_join (thread);
}

typedef struct
{
  PhDuplex *lazy;
  gboolean ok;
  GError *error;
} CloseJob;

static gpointer
write_and_close_thread (gpointer data)
{
  CloseJob *job = data;

  job->ok = ph_duplex_write (job->lazy, (const guint8 *) "x", 1, ph_deadline_in (5000), NULL,
                             &job->error)
            && ph_duplex_close_write (job->lazy, ph_deadline_in (5000), NULL, &job->error);
  return NULL;
}

/* close_write waits for the listener's answer: a listener must not see the end of the stream
 * before it has negotiated (js-libp2p resets such a stream). */
static void
test_lazy_close_waits_for_answer (void)
{
  static const char sent[] = HEADER "\x06/echo\n"
                                    "x";
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (PhDuplex) lazy = NULL;
  g_autoptr (GError) error = NULL;
  guint8 buffer[sizeof sent - 1];
  CloseJob job = { 0 };
  PhDuplex *a;
  GThread *thread;

  ph_duplex_new_pipe_pair (&a, &b);
  lazy = lazy_new (a, "/echo");
  job.lazy = lazy;
  thread = g_thread_new ("dialer", write_and_close_thread, &job);
  g_assert_true (
      ph_duplex_read_exact (b, buffer, sizeof buffer, ph_deadline_in (5000), NULL, &error));
  g_assert_cmpmem (buffer, sizeof buffer, sent, sizeof sent - 1);
  /* No end of stream while we have not answered. */
  g_assert_cmpint (ph_duplex_read (b, buffer, 1, ph_deadline_in (200), NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  write_all (b, HEADER "\x06/echo\n", 27);
  g_assert_cmpint (ph_duplex_read (b, buffer, 1, ph_deadline_in (5000), NULL, &error), ==, 0);
  g_assert_no_error (error);
  g_thread_join (thread);
  g_assert_no_error (job.error);
  g_assert_true (job.ok);
  g_assert_true (ph_multistream_lazy_is_confirmed (lazy));
}

typedef struct
{
  PhDuplex *lazy;
  GBytes *received;
  GError *error;
} ReadJob;

static gpointer
drain_thread (gpointer data)
{
  ReadJob *job = data;

  job->received = ph_duplex_read_to_end (job->lazy, 1024, ph_deadline_in (5000), NULL, &job->error);
  return NULL;
}

/* A reader and close_write both waiting for the answer, from two threads: one reads it, the
 * other waits for it, and the bytes behind the echo go to the reader. Then the same with a
 * refusal: both fail with NEGOTIATION. */
static void
test_lazy_concurrent_reader_and_close (void)
{
  for (guint refuse = 0; refuse < 2; refuse++)
    {
      g_autoptr (PhDuplex) b = NULL;
      g_autoptr (PhDuplex) lazy = NULL;
      g_autoptr (GError) error = NULL;
      ReadJob job = { 0 };
      PhDuplex *a;
      GThread *reader;
      gboolean closed;

      ph_duplex_new_pipe_pair (&a, &b);
      lazy = lazy_new (a, "/echo");
      job.lazy = lazy;
      reader = g_thread_new ("reader", drain_thread, &job);
      g_usleep (20 * 1000);
      if (refuse)
        write_all (b, HEADER NA, 24);
      else
        {
          write_all (b, HEADER "\x06/echo\nafter", 32);
          g_assert_true (ph_duplex_close_write (b, ph_deadline_in (5000), NULL, NULL));
        }
      closed = ph_duplex_close_write (lazy, ph_deadline_in (5000), NULL, &error);
      g_thread_join (reader);
      if (refuse)
        {
          g_assert_false (closed);
          g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION);
          g_assert_error (job.error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION);
          g_assert_null (job.received);
        }
      else
        {
          g_assert_no_error (error);
          g_assert_true (closed);
          g_assert_no_error (job.error);
          ASSERT_BYTES (job.received, "after");
        }
      g_clear_pointer (&job.received, g_bytes_unref);
      g_clear_error (&job.error);
    }
}

/* Every malformed or unexpected answer fails the first read with the error the blocking dialer
 * gives for it, and every read after it too. */
static void
test_lazy_scripted_failures (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (failing_scripts); i++)
    {
      const Script *s = &failing_scripts[i];
      g_autoptr (PhDuplex) b = NULL;
      g_autoptr (PhDuplex) lazy = NULL;
      g_autoptr (GError) error = NULL;
      PhDuplex *a;
      guint8 byte;

      if (s->listener)
        continue;
      g_test_message ("case: %s", s->name);
      ph_duplex_new_pipe_pair (&a, &b);
      lazy = lazy_new (a, "/noise");
      write_all (lazy, "early", 5);
      write_all (b, s->wire, s->len);
      g_assert_true (ph_duplex_close_write (b, ph_deadline_in (5000), NULL, NULL));
      g_assert_cmpint (ph_duplex_read (lazy, &byte, 1, ph_deadline_in (5000), NULL, &error), ==,
                       -1);
      g_assert_error (error, PH_P2P_ERROR, s->code);
      g_clear_error (&error);
      g_assert_cmpint (ph_duplex_read (lazy, &byte, 1, ph_deadline_in (5000), NULL, &error), ==,
                       -1);
      g_assert_error (error, PH_P2P_ERROR, s->code);
      g_assert_false (ph_multistream_lazy_is_confirmed (lazy));
    }
}

/* A proposal that cannot be encoded fails before anything is sent, and the duplex under it goes. */
static void
test_lazy_refuses_bad_proposal (void)
{
  static const char *const bad[] = { "/bad\nproto", "\xff/x" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (PhDuplex) b = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) sent = NULL;
      PhDuplex *a;

      ph_duplex_new_pipe_pair (&a, &b);
      g_assert_null (ph_multistream_select_lazy (a, bad[i], &error));
      g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
      sent = drain (b);
      g_assert_cmpuint (g_bytes_get_size (sent), ==, 0);
    }
}

/* A first write larger than one frame: the start rides with the proposal, the rest follows, all
 * of it in order. */
static void
test_lazy_large_first_write (void)
{
  static const char *const supported[] = { "/bulk", NULL };
  const gsize size = 100 * 1024;
  g_autoptr (PhDuplex) lazy = NULL;
  g_autofree guint8 *payload = g_malloc (size);
  g_autofree guint8 *echoed = g_malloc (size);
  g_autoptr (GError) error = NULL;
  PhDuplex *a;
  PhDuplex *b;
  Counter counter;
  Listener listener;
  GThread *thread;

  for (gsize i = 0; i < size; i++)
    payload[i] = (guint8) (i * 7);
  ph_duplex_new_pipe_pair (&a, &b);
  counter = (Counter){ { &counter_vtable }, a, 0, 0 };
  lazy = lazy_new (&counter.parent, "/bulk");
  listener = (Listener){ b, supported, size };
  thread = g_thread_new ("listener", listener_thread, &listener);
  write_all (lazy, payload, size);
  g_assert_cmpuint (counter.writes, ==, 2);
  g_assert_cmpuint (counter.first_write_len, <=, 16 * 1024);
  g_assert_true (ph_duplex_read_exact (lazy, echoed, size, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (echoed, size, payload, size);
  g_thread_join (thread);
  g_assert_no_error (listener.error);
  g_assert_cmpmem (g_bytes_get_data (listener.received, NULL), size, payload, size);
  listener_clear (&listener);
  g_clear_pointer (&lazy, ph_duplex_free);
  ph_duplex_free (b);
}

/* The lazy dialer against the blocking listener over loopback TCP: header, proposal and data in
 * one segment, the listener's answer and reply read back. */
static void
test_lazy_over_tcp (void)
{
  static const char *const supported[] = { "/noise", NULL };
  g_autoptr (GSocketListener) server = g_socket_listener_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GSocket) client_socket = NULL;
  g_autoptr (GSocket) server_socket = NULL;
  g_autoptr (PhDuplex) lazy = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  Listener listener;
  GThread *thread;
  guint8 buffer[34];

  g_socket_listener_add_address (server, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                 &effective, &error);
  g_assert_no_error (error);
  client_socket
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_connect (client_socket, effective, NULL, &error);
  g_assert_no_error (error);
  server_socket = g_socket_listener_accept_socket (server, NULL, NULL, &error);
  g_assert_no_error (error);
  lazy = lazy_new (ph_duplex_new_for_socket (client_socket), "/noise");
  b = ph_duplex_new_for_socket (server_socket);

  write_all (lazy,
             "\x00\x20"
             "noise message one: 32 bytes long",
             34);
  listener = (Listener){ b, supported, 34 };
  thread = g_thread_new ("listener", listener_thread, &listener);
  g_assert_true (ph_duplex_read_exact (lazy, buffer, 34, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (buffer, 34,
                   "\x00\x20"
                   "noise message one: 32 bytes long",
                   34);
  g_thread_join (thread);
  g_assert_no_error (listener.error);
  g_assert_cmpstr (listener.chosen, ==, "/noise");
  listener_clear (&listener);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/multistream/codec/encode-vectors", test_encode_vectors);
  g_test_add_func ("/multistream/codec/encode-long", test_encode_long);
  g_test_add_func ("/multistream/codec/encode-invalid", test_encode_invalid);
  g_test_add_func ("/multistream/codec/parse-coalesced", test_parse_coalesced);
  g_test_add_func ("/multistream/codec/parse-truncated", test_parse_truncated);
  g_test_add_func ("/multistream/codec/parse-malformed", test_parse_malformed);
  g_test_add_func ("/multistream/negotiate/match", test_match);
  g_test_add_func ("/multistream/negotiate/na-then-match", test_na_then_match);
  g_test_add_func ("/multistream/negotiate/no-common-protocol", test_no_common_protocol);
  g_test_add_func ("/multistream/negotiate/pipelined-after", test_pipelined_after_negotiation);
  g_test_add_func ("/multistream/negotiate/listener-keeps-lazy-data",
                   test_listener_keeps_lazy_data);
  g_test_add_func ("/multistream/negotiate/dialer-keeps-following-data",
                   test_dialer_keeps_following_data);
  g_test_add_func ("/multistream/negotiate/split-messages", test_split_messages);
  g_test_add_func ("/multistream/negotiate/scripted-failures", test_scripted_failures);
  g_test_add_func ("/multistream/negotiate/listener-na-then-echo",
                   test_listener_answers_na_then_echo);
  g_test_add_func ("/multistream/negotiate/listener-attempt-limit", test_listener_attempt_limit);
  g_test_add_func ("/multistream/negotiate/dialer-refuses-bad-proposal",
                   test_dialer_refuses_bad_proposal);
  g_test_add_func ("/multistream/negotiate/silent-peer-times-out", test_silent_peer_times_out);
  g_test_add_func ("/multistream/negotiate/over-tcp", test_over_tcp);
  g_test_add_func ("/multistream/lazy/pipelined", test_lazy_pipelined);
  g_test_add_func ("/multistream/lazy/na", test_lazy_na);
  g_test_add_func ("/multistream/lazy/read-first", test_lazy_read_first);
  g_test_add_func ("/multistream/lazy/resumes-after-deadline", test_lazy_resumes_after_deadline);
  g_test_add_func ("/multistream/lazy/split-answer", test_lazy_split_answer);
  g_test_add_func ("/multistream/lazy/close-waits-for-answer", test_lazy_close_waits_for_answer);
  g_test_add_func ("/multistream/lazy/concurrent-reader-and-close",
                   test_lazy_concurrent_reader_and_close);
  g_test_add_func ("/multistream/lazy/scripted-failures", test_lazy_scripted_failures);
  g_test_add_func ("/multistream/lazy/refuses-bad-proposal", test_lazy_refuses_bad_proposal);
  g_test_add_func ("/multistream/lazy/large-first-write", test_lazy_large_first_write);
  g_test_add_func ("/multistream/lazy/over-tcp", test_lazy_over_tcp);

  return g_test_run ();
}
