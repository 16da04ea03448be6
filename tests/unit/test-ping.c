/* test-ping.c: libp2p ping (libp2p/specs ping/ping.md) over the in-memory pipe pair
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "p2p/ph-duplex.h"
#include "p2p/ph-p2p-error.h"
#include "p2p/ph-ping.h"

typedef enum
{
  PEER_SERVE,          /* ph_ping_serve */
  PEER_CORRUPT,        /* echoes with one bit flipped */
  PEER_HALF_ECHO,      /* echoes 16 bytes, then closes */
  PEER_NO_ECHO,        /* reads the payload, then closes */
  PEER_SEND_TRUNCATED, /* a dialer that sends 10 bytes and closes */
  PEER_SEND_NOTHING,   /* a dialer that closes at once */
} PeerKind;

typedef struct
{
  PeerKind kind;
  PhDuplex *stream;
  guint max_pings;
  gboolean free_stream; /* free our end when done, as a server does after an error */
  gboolean ok;
  GError *error;
} Peer;

static gpointer
peer_thread (gpointer user_data)
{
  Peer *peer = user_data;
  gint64 deadline = ph_deadline_in (5000);
  guint8 payload[PH_PING_PAYLOAD_LEN];

  switch (peer->kind)
    {
      case PEER_SERVE:
        peer->ok = ph_ping_serve (peer->stream, peer->max_pings, deadline, NULL, &peer->error);
        break;
      case PEER_CORRUPT:
      case PEER_HALF_ECHO:
      case PEER_NO_ECHO:
        peer->ok = ph_duplex_read_exact (peer->stream, payload, sizeof payload, deadline, NULL,
                                         &peer->error);
        if (peer->ok && peer->kind == PEER_CORRUPT)
          {
            payload[17] ^= 0x04;
            peer->ok = ph_duplex_write (peer->stream, payload, sizeof payload, deadline, NULL,
                                        &peer->error);
          }
        else if (peer->ok && peer->kind == PEER_HALF_ECHO)
          peer->ok = ph_duplex_write (peer->stream, payload, 16, deadline, NULL, &peer->error);
        if (peer->ok)
          peer->ok = ph_duplex_close_write (peer->stream, deadline, NULL, &peer->error);
        break;
      case PEER_SEND_TRUNCATED:
        memset (payload, 0x5a, sizeof payload);
        peer->ok = ph_duplex_write (peer->stream, payload, 10, deadline, NULL, &peer->error)
                   && ph_duplex_close_write (peer->stream, deadline, NULL, &peer->error);
        break;
      case PEER_SEND_NOTHING:
        peer->ok = ph_duplex_close_write (peer->stream, deadline, NULL, &peer->error);
        break;
      default:
        g_assert_not_reached ();
    }
  if (peer->free_stream)
    ph_duplex_free (peer->stream);
  return NULL;
}

static GThread *
start_peer (Peer *peer, PeerKind kind, PhDuplex *stream)
{
  peer->kind = kind;
  peer->stream = stream;
  if (peer->max_pings == 0)
    peer->max_pings = 1000;
  return g_thread_new ("ping peer", peer_thread, peer);
}

static void
test_rounds (void)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  guint64 rtts[100];
  Peer peer = { 0 };
  GThread *thread;
  guint8 byte;

  ph_duplex_new_pipe_pair (&a, &b);
  thread = start_peer (&peer, PEER_SERVE, b);
  memset (rtts, 0xff, sizeof rtts);
  g_assert_true (ph_ping (a, G_N_ELEMENTS (rtts), rtts, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  g_thread_join (thread);

  /* The dialer's half-close ended the server's loop cleanly, and it closed in turn. */
  g_assert_no_error (peer.error);
  g_assert_true (peer.ok);
  g_assert_cmpint (ph_duplex_read (a, &byte, 1, ph_deadline_in (5000), NULL, &error), ==, 0);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (rtts); i++)
    g_assert_cmpuint (rtts[i], <, 5 * G_USEC_PER_SEC);
}

/* Without an array for the round trips, and exactly at the server's cap. */
static void
test_rounds_at_cap (void)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  Peer peer = { .max_pings = 3 };
  GThread *thread;

  ph_duplex_new_pipe_pair (&a, &b);
  thread = start_peer (&peer, PEER_SERVE, b);
  g_assert_true (ph_ping (a, 3, NULL, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  g_thread_join (thread);
  g_assert_no_error (peer.error);
  g_assert_true (peer.ok);
}

static void
test_over_cap (void)
{
  g_autoptr (PhDuplex) a = NULL;
  PhDuplex *b = NULL;
  g_autoptr (GError) error = NULL;
  Peer peer = { .max_pings = 3, .free_stream = TRUE };
  GThread *thread;

  /* Three echoes, then the fourth payload is refused: no echo, and the stream goes away. */
  ph_duplex_new_pipe_pair (&a, &b);
  thread = start_peer (&peer, PEER_SERVE, b);
  g_assert_false (ph_ping (a, 4, NULL, ph_deadline_in (5000), NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_assert_true (g_str_has_prefix (error->message, "ping 4 of 4: "));
  g_thread_join (thread);
  g_assert_false (peer.ok);
  g_assert_error (peer.error, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT);
  g_clear_error (&peer.error);
}

static void
test_corrupted_echo (void)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  Peer peer = { 0 };
  GThread *thread;

  ph_duplex_new_pipe_pair (&a, &b);
  thread = start_peer (&peer, PEER_CORRUPT, b);
  g_assert_false (ph_ping (a, 5, NULL, ph_deadline_in (5000), NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL);
  g_assert_true (g_str_has_prefix (error->message, "ping 1 of 5: "));
  g_thread_join (thread);
  g_assert_no_error (peer.error);
}

static void
test_eof_mid_echo (void)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  Peer peer = { 0 };
  GThread *thread;

  ph_duplex_new_pipe_pair (&a, &b);
  thread = start_peer (&peer, PEER_HALF_ECHO, b);
  g_assert_false (ph_ping (a, 1, NULL, ph_deadline_in (5000), NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED);
  g_thread_join (thread);
  g_assert_no_error (peer.error);
}

static void
test_eof_before_echo (void)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  Peer peer = { 0 };
  GThread *thread;
  guint64 rtts[2] = { 0 };

  ph_duplex_new_pipe_pair (&a, &b);
  thread = start_peer (&peer, PEER_NO_ECHO, b);
  g_assert_false (ph_ping (a, 2, rtts, ph_deadline_in (5000), NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
  g_thread_join (thread);
  g_assert_no_error (peer.error);
}

static void
test_peer_gone (void)
{
  g_autoptr (PhDuplex) a = NULL;
  PhDuplex *b = NULL;
  g_autoptr (GError) error = NULL;

  ph_duplex_new_pipe_pair (&a, &b);
  ph_duplex_free (b);
  g_assert_false (ph_ping (a, 1, NULL, ph_deadline_in (5000), NULL, &error));
  g_assert_nonnull (error);
}

static void
test_timeout (void)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;

  /* A listener that never answers. */
  ph_duplex_new_pipe_pair (&a, &b);
  g_assert_false (ph_ping (a, 1, NULL, ph_deadline_in (50), NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  /* A dialer that never sends. */
  g_assert_false (ph_ping_serve (b, 1, ph_deadline_in (50), NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

static void
test_serve_truncated (void)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  Peer peer = { 0 };
  GThread *thread;

  ph_duplex_new_pipe_pair (&a, &b);
  thread = start_peer (&peer, PEER_SEND_TRUNCATED, a);
  g_assert_false (ph_ping_serve (b, 10, ph_deadline_in (5000), NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED);
  g_thread_join (thread);
  g_assert_no_error (peer.error);
}

static void
test_serve_nothing (void)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  Peer peer = { 0 };
  GThread *thread;
  guint8 byte;

  ph_duplex_new_pipe_pair (&a, &b);
  thread = start_peer (&peer, PEER_SEND_NOTHING, a);
  g_assert_true (ph_ping_serve (b, 10, ph_deadline_in (5000), NULL, &error));
  g_assert_no_error (error);
  g_thread_join (thread);
  g_assert_no_error (peer.error);
  g_assert_cmpint (ph_duplex_read (a, &byte, 1, ph_deadline_in (5000), NULL, &error), ==, 0);
  g_assert_no_error (error);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ping/rounds", test_rounds);
  g_test_add_func ("/ping/rounds-at-cap", test_rounds_at_cap);
  g_test_add_func ("/ping/over-cap", test_over_cap);
  g_test_add_func ("/ping/corrupted-echo", test_corrupted_echo);
  g_test_add_func ("/ping/eof-mid-echo", test_eof_mid_echo);
  g_test_add_func ("/ping/eof-before-echo", test_eof_before_echo);
  g_test_add_func ("/ping/peer-gone", test_peer_gone);
  g_test_add_func ("/ping/timeout", test_timeout);
  g_test_add_func ("/ping/serve-truncated", test_serve_truncated);
  g_test_add_func ("/ping/serve-nothing", test_serve_nothing);

  return g_test_run ();
}
