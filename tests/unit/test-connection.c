/* test-connection.c: our dialer against our listener over loopback (src/p2p/ph-connection.c,
 * src/p2p/ph-listener.c)
 *
 * Real TCP on 127.0.0.1 and ::1: the whole upgrade (multistream, Noise, yamux), identify both
 * ways, ping, concurrent streams, the caps that keep a peer from holding resources, prompt
 * shutdown, and no fd left behind.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "p2p/ph-connection.h"
#include "p2p/ph-listener.h"
#include "p2p/ph-multistream.h"
#include "p2p/ph-noise-private.h"
#include "p2p/ph-noise.h"
#include "p2p/ph-p2p-error.h"
#include "p2p/ph-ping.h"

#define ECHO_PROTOCOL "/porthole/test/echo/1.0.0"
#define HOLD_PROTOCOL "/porthole/test/hold/1.0.0"
#define SOON (ph_deadline_in (10000))
#define WAIT_US (5 * G_USEC_PER_SEC)

/* --- Helpers ------------------------------------------------------------------------------ */

static const char *
loopback_for (const char *family)
{
  return g_str_equal (family, "ip6") ? "/ip6/::1/tcp/0" : "/ip4/127.0.0.1/tcp/0";
}

/* Whether this host can listen on ::1 at all (some CI containers have no IPv6). */
static gboolean
have_family (const char *family)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GInetAddress) loopback = NULL;
  g_autoptr (GSocketAddress) address = NULL;

  if (!g_str_equal (family, "ip6"))
    return TRUE;
  socket = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  address = g_inet_socket_address_new (loopback, 0);
  return socket != NULL && g_socket_bind (socket, address, FALSE, NULL);
}

static guint
count_fds (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Lists the open fds, to tell what leaked when a count is off. */
static void
dump_fds (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/self/fd/%s", name);
      g_autofree char *target = g_file_read_link (path, NULL);

      g_test_message ("fd %s -> %s", name, target != NULL ? target : "?");
    }
}

static void
assert_fds (guint expected)
{
  guint n = count_fds ();

  if (n != expected)
    dump_fds ();
  g_assert_cmpuint (n, ==, expected);
}

static guint
count_threads (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static PhPrivateKey *
new_key (void)
{
  g_autoptr (GError) error = NULL;
  PhPrivateKey *key = ph_private_key_generate_ed25519 (&error);

  g_assert_no_error (error);
  return key;
}

static PhPeerId *
peer_of (PhPrivateKey *key)
{
  return ph_peer_id_from_public_key (ph_private_key_get_public_key (key));
}

static PhMultiaddr *
addr_new (const char *text)
{
  g_autoptr (GError) error = NULL;
  PhMultiaddr *addr = ph_multiaddr_new_from_string (text, &error);

  g_assert_no_error (error);
  return addr;
}

static void
assert_addr_equal (PhMultiaddr *a, PhMultiaddr *b)
{
  g_autofree char *ta = ph_multiaddr_to_string (a);
  g_autofree char *tb = ph_multiaddr_to_string (b);

  g_assert_cmpstr (ta, ==, tb);
}

static gboolean
strv_has (GPtrArray *strings, const char *wanted)
{
  for (guint i = 0; i < strings->len; i++)
    if (g_str_equal (g_ptr_array_index (strings, i), wanted))
      return TRUE;
  return FALSE;
}

/* What the listener's connection callback reports. */
typedef struct
{
  PhConnection *connection; /* a reference, or NULL */
  PhMultiaddr *remote_addr;
  GError *error;
} Inbound;

static void
inbound_free (Inbound *inbound)
{
  g_clear_pointer (&inbound->connection, ph_connection_unref);
  ph_multiaddr_unref (inbound->remote_addr);
  g_clear_error (&inbound->error);
  g_free (inbound);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Inbound, inbound_free)

static void
on_inbound (PhListener *listener, PhConnection *connection, PhMultiaddr *remote_addr,
            const GError *error, gpointer user_data)
{
  Inbound *inbound = g_new0 (Inbound, 1);

  inbound->connection = connection != NULL ? ph_connection_ref (connection) : NULL;
  inbound->remote_addr = ph_multiaddr_ref (remote_addr);
  inbound->error = error != NULL ? g_error_copy (error) : NULL;
  g_async_queue_push (user_data, inbound);
}

static Inbound *
next_inbound (GAsyncQueue *queue)
{
  Inbound *inbound = g_async_queue_timeout_pop (queue, WAIT_US);

  g_assert_nonnull (inbound);
  return inbound;
}

/* Echoes everything until the peer half-closes. */
static void
echo_handler (PhConnection *connection, PhDuplex *stream, const char *protocol, gint64 deadline,
              GCancellable *cancellable, gpointer user_data)
{
  guint8 buffer[8192];

  while (TRUE)
    {
      gssize n = ph_duplex_read (stream, buffer, sizeof buffer, deadline, cancellable, NULL);

      if (n <= 0 || !ph_duplex_write (stream, buffer, (gsize) n, deadline, cancellable, NULL))
        break;
    }
}

/* Keeps the stream until the peer goes, the connection closes or the deadline passes. */
static void
hold_handler (PhConnection *connection, PhDuplex *stream, const char *protocol, gint64 deadline,
              GCancellable *cancellable, gpointer user_data)
{
  guint8 byte;

  ph_duplex_read (stream, &byte, 1, deadline, cancellable, NULL);
}

typedef struct
{
  PhPrivateKey *key;
  PhPeerId *peer;
  PhListener *listener;
  PhMultiaddr *addr;      /* bound, without /p2p */
  PhMultiaddr *dial_addr; /* with /p2p */
  GAsyncQueue *inbound;
} Server;

static Server *
server_new (const char *family, const PhListenerOptions *opts)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhMultiaddr) listen = addr_new (loopback_for (family));
  g_autoptr (GPtrArray) addrs = NULL;
  Server *server = g_new0 (Server, 1);
  gsize peer_len;
  const guint8 *peer_bytes;

  server->key = new_key ();
  server->peer = peer_of (server->key);
  server->inbound = g_async_queue_new_full ((GDestroyNotify) inbound_free);
  server->listener = ph_listener_new (server->key, opts);
  ph_listener_add_handler (server->listener, ECHO_PROTOCOL, 10000, echo_handler, NULL, NULL);
  ph_listener_add_handler (server->listener, HOLD_PROTOCOL, 10000, hold_handler, NULL, NULL);
  ph_listener_set_connection_func (server->listener, on_inbound,
                                   g_async_queue_ref (server->inbound),
                                   (GDestroyNotify) g_async_queue_unref);
  g_assert_true (ph_listener_start (server->listener, &listen, 1, &error));
  g_assert_no_error (error);

  addrs = ph_listener_get_addrs (server->listener);
  g_assert_cmpuint (addrs->len, ==, 1);
  server->addr = ph_multiaddr_ref (g_ptr_array_index (addrs, 0));
  peer_bytes = ph_peer_id_get_bytes (server->peer, &peer_len);
  server->dial_addr = ph_multiaddr_with_peer_id (server->addr, peer_bytes, peer_len, &error);
  g_assert_no_error (error);
  return server;
}

static void
server_free (Server *server)
{
  ph_listener_free (server->listener);
  g_async_queue_unref (server->inbound);
  ph_multiaddr_unref (server->addr);
  ph_multiaddr_unref (server->dial_addr);
  ph_peer_id_free (server->peer);
  ph_private_key_unref (server->key);
  g_free (server);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Server, server_free)

static PhConnection *
dial_ok (Server *server, PhPrivateKey *key, const PhDialOptions *opts)
{
  g_autoptr (GError) error = NULL;
  PhConnection *connection
      = ph_connection_dial (server->dial_addr, key, NULL, opts, SOON, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (connection);
  return connection;
}

/* Waits (bounded) until the connection is closed. */
static void
assert_closes_soon (PhConnection *connection, gint64 within_us)
{
  gint64 end = g_get_monotonic_time () + within_us;

  while (!ph_connection_is_closed (connection, NULL))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (5000);
    }
}

/* A plain TCP client that speaks only when told to. */
static GSocket *
raw_connect (PhMultiaddr *addr)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) address = ph_multiaddr_to_socket_address (addr, &error);
  GSocket *socket;

  g_assert_no_error (error);
  socket = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  g_assert_no_error (error);
  g_socket_set_timeout (socket, 10);
  return socket;
}

/* A client that agrees on /noise and stops there: proof that the listener accepted it, and a
 * handshake that can only end at the deadline. */
static GSocket *
raw_connect_stalled (PhMultiaddr *addr)
{
  static const char hello[] = "\x13/multistream/1.0.0\n\x07/noise\n";
  g_autoptr (GError) error = NULL;
  GSocket *socket = raw_connect (addr);
  gchar answer[sizeof hello - 1];
  gsize got = 0;

  g_assert_cmpint (g_socket_send (socket, hello, sizeof hello - 1, NULL, &error), ==,
                   sizeof hello - 1);
  while (got < sizeof answer)
    {
      gssize n = g_socket_receive (socket, answer + got, sizeof answer - got, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      got += (gsize) n;
    }
  g_assert_cmpmem (answer, sizeof answer, hello, sizeof hello - 1);
  return socket;
}

/* Reads until the peer closes (or resets); returns how long that took. */
static gint64
raw_wait_closed (GSocket *socket)
{
  gint64 start = g_get_monotonic_time ();
  gchar buffer[256];

  while (TRUE)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);

      if (n == 0 || (n < 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)))
        break;
      g_assert_false (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
    }
  return g_get_monotonic_time () - start;
}

/* Opens a stream with one protocol and sends its proposal at once, so that the listener's handler
 * runs although we write nothing (the negotiation of a single protocol is optimistic: by itself the
 * proposal would wait for our first read or write). */
static PhDuplex *
open_proposed (PhConnection *connection, const char *protocol)
{
  const char *protocols[] = { protocol, NULL };
  g_autoptr (GError) error = NULL;
  PhDuplex *stream = ph_connection_open_stream (connection, protocols, NULL, SOON, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (stream);
  g_assert_true (ph_multistream_lazy_flush (stream, SOON, NULL, &error));
  g_assert_no_error (error);
  return stream;
}

/* --- Echo workers ------------------------------------------------------------------------- */

typedef struct
{
  PhConnection *connection;
  const char *protocol;
  gsize size;
  gboolean ok;
  char *failure;
} EchoJob;

static gpointer
echo_worker (gpointer data)
{
  EchoJob *job = data;
  const char *protocols[] = { job->protocol, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *payload = g_malloc (job->size);
  g_autoptr (GBytes) back = NULL;
  g_autofree char *chosen = NULL;
  PhDuplex *stream;

  for (gsize i = 0; i < job->size; i++)
    payload[i] = (guint8) g_random_int ();

  stream = ph_connection_open_stream (job->connection, protocols, &chosen, SOON, NULL, &error);
  if (stream != NULL && ph_duplex_write (stream, payload, job->size, SOON, NULL, &error)
      && ph_duplex_close_write (stream, SOON, NULL, &error))
    back = ph_duplex_read_to_end (stream, job->size + 1, SOON, NULL, &error);
  g_clear_pointer (&stream, ph_duplex_free);

  if (back == NULL)
    job->failure = g_strdup (error->message);
  else if (g_bytes_get_size (back) != job->size
           || memcmp (g_bytes_get_data (back, NULL), payload, job->size) != 0)
    job->failure
        = g_strdup_printf ("echo of %" G_GSIZE_FORMAT " bytes came back as %" G_GSIZE_FORMAT,
                           job->size, g_bytes_get_size (back));
  else
    job->ok = g_str_equal (chosen, job->protocol);
  return NULL;
}

/* n streams at once, each from its own thread. */
static void
run_echo_streams (PhConnection *connection, const char *protocol, guint n, gsize size)
{
  g_autofree EchoJob *jobs = g_new0 (EchoJob, n);
  g_autofree GThread **threads = g_new0 (GThread *, n);

  for (guint i = 0; i < n; i++)
    {
      jobs[i] = (EchoJob){ connection, protocol, size, FALSE, NULL };
      threads[i] = g_thread_new ("echo", echo_worker, &jobs[i]);
    }
  for (guint i = 0; i < n; i++)
    g_thread_join (threads[i]);
  for (guint i = 0; i < n; i++)
    {
      if (jobs[i].failure != NULL)
        g_error ("echo stream %u: %s", i, jobs[i].failure);
      g_assert_true (jobs[i].ok);
    }
}

/* --- Tests -------------------------------------------------------------------------------- */

static void
test_session (gconstpointer data)
{
  const char *family = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Server) server = NULL;
  g_autoptr (PhPrivateKey) key = NULL;
  g_autoptr (PhPeerId) peer = NULL;
  g_autoptr (PhConnection) connection = NULL;
  g_autoptr (Inbound) inbound = NULL;
  g_autoptr (PhIdentifyInfo) theirs = NULL;
  g_autoptr (PhIdentifyInfo) ours = NULL;
  guint64 rtts[100];

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  server = server_new (family, NULL);
  key = new_key ();
  peer = peer_of (key);

  connection = dial_ok (server, key, NULL);
  g_assert_true (ph_connection_is_initiator (connection));
  g_assert_true (ph_peer_id_equal (ph_connection_get_remote_peer_id (connection), server->peer));
  assert_addr_equal (ph_connection_get_remote_addr (connection), server->addr);
  g_assert_cmpint (ph_multiaddr_get_family (ph_connection_get_local_addr (connection)), ==,
                   ph_multiaddr_get_family (server->addr));

  /* The listener's side of the same connection. */
  inbound = next_inbound (server->inbound);
  g_assert_no_error (inbound->error);
  g_assert_nonnull (inbound->connection);
  g_assert_false (ph_connection_is_initiator (inbound->connection));
  g_assert_true (ph_peer_id_equal (ph_connection_get_remote_peer_id (inbound->connection), peer));
  assert_addr_equal (inbound->remote_addr, ph_connection_get_local_addr (connection));
  assert_addr_equal (ph_connection_get_local_addr (inbound->connection), server->addr);
  g_assert_cmpuint (ph_listener_get_n_connections (server->listener), ==, 1);

  /* identify, dialer → listener: the observed address is our end of the connection. */
  theirs = ph_connection_identify (connection, SOON, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (theirs->observed_addr);
  assert_addr_equal (theirs->observed_addr, ph_connection_get_local_addr (connection));
  g_assert_true (g_str_has_prefix (theirs->agent_version, PH_CONNECTION_AGENT_PREFIX));
  g_assert_cmpstr (theirs->agent_version, ==, PH_CONNECTION_AGENT_PREFIX PACKAGE_VERSION);
  g_assert_cmpstr (theirs->protocol_version, ==, PH_CONNECTION_PROTOCOL_VERSION);
  g_assert_true (
      ph_public_key_equal (theirs->public_key, ph_private_key_get_public_key (server->key)));
  g_assert_true (strv_has (theirs->protocols, PH_IDENTIFY_PROTOCOL_ID));
  g_assert_true (strv_has (theirs->protocols, PH_PING_PROTOCOL_ID));
  g_assert_true (strv_has (theirs->protocols, ECHO_PROTOCOL));
  g_assert_cmpuint (theirs->listen_addrs->len, ==, 1);
  assert_addr_equal (g_ptr_array_index (theirs->listen_addrs, 0), server->addr);

  /* identify, listener → dialer: a dialer without a listener serves identify and ping only. */
  ours = ph_connection_identify (inbound->connection, SOON, NULL, &error);
  g_assert_no_error (error);
  assert_addr_equal (ours->observed_addr, server->addr);
  g_assert_true (ph_public_key_equal (ours->public_key, ph_private_key_get_public_key (key)));
  g_assert_cmpuint (ours->protocols->len, ==, 2);
  g_assert_true (strv_has (ours->protocols, PH_IDENTIFY_PROTOCOL_ID));
  g_assert_true (strv_has (ours->protocols, PH_PING_PROTOCOL_ID));
  g_assert_cmpuint (ours->listen_addrs->len, ==, 0);

  /* 100 pings on one stream, then from the other side too. */
  g_assert_true (ph_connection_ping (connection, 100, rtts, SOON, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (rtts); i++)
    g_assert_cmpuint (rtts[i], <, 5 * G_USEC_PER_SEC);
  g_assert_true (ph_connection_ping (inbound->connection, 3, NULL, SOON, NULL, &error));
  g_assert_no_error (error);

  run_echo_streams (connection, ECHO_PROTOCOL, 50, 32 * 1024);

  /* Graceful close: the listener's side sees it at once and lets go of it. */
  ph_connection_close (connection);
  g_assert_true (ph_connection_is_closed (connection, NULL));
  assert_closes_soon (inbound->connection, G_USEC_PER_SEC);
  g_assert_cmpuint (ph_listener_get_n_connections (server->listener), ==, 0);
  g_assert_false (ph_connection_ping (connection, 1, NULL, SOON, NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
}

static void
test_wrong_peer (gconstpointer data)
{
  const char *family = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Server) server = NULL;
  g_autoptr (PhPrivateKey) key = new_key ();
  g_autoptr (PhPrivateKey) other = new_key ();
  g_autoptr (PhPeerId) other_peer = peer_of (other);
  g_autoptr (PhConnection) connection = NULL;
  g_autoptr (Inbound) inbound = NULL;
  guint fds;

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  server = server_new (family, NULL);
  fds = count_fds ();

  /* The listener proves another identity than the one we expect: Noise fails. */
  connection = ph_connection_dial (server->addr, key, other_peer, NULL, SOON, NULL, &error);
  g_assert_null (connection);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PEER_MISMATCH);
  g_clear_error (&error);
  inbound = next_inbound (server->inbound);
  g_assert_null (inbound->connection);
  g_assert_nonnull (inbound->error);

  /* An address whose /p2p is not the expected peer fails before any connection. */
  connection = ph_connection_dial (server->dial_addr, key, other_peer, NULL, SOON, NULL, &error);
  g_assert_null (connection);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PEER_MISMATCH);
  g_assert_null (g_async_queue_timeout_pop (server->inbound, 200 * 1000));
  assert_fds (fds);
}

static void
test_silent_peer (gconstpointer data)
{
  const char *family = data;
  PhListenerOptions opts;
  g_autoptr (Server) server = NULL;
  g_autoptr (GSocket) silent = NULL;
  g_autoptr (Inbound) inbound = NULL;
  gint64 took;

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  ph_listener_options_init (&opts);
  opts.handshake_timeout_ms = 300;
  server = server_new (family, &opts);

  silent = raw_connect (server->addr);
  took = raw_wait_closed (silent);
  g_assert_cmpint (took, >=, 200 * 1000);
  g_assert_cmpint (took, <, 2 * G_USEC_PER_SEC);
  inbound = next_inbound (server->inbound);
  g_assert_null (inbound->connection);
  g_assert_error (inbound->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

static void
test_connection_cap (gconstpointer data)
{
  const char *family = data;
  PhListenerOptions opts;
  g_autoptr (Server) server = NULL;
  g_autoptr (GSocket) first = NULL;
  g_autoptr (GSocket) second = NULL;
  g_autoptr (GSocket) third = NULL;
  g_autoptr (PhPrivateKey) key = new_key ();
  g_autoptr (PhConnection) connection = NULL;
  gint64 took;

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  ph_listener_options_init (&opts);
  opts.max_connections = 2;
  opts.handshake_timeout_ms = 1500;
  server = server_new (family, &opts);

  /* Two peers in their handshake hold both slots; a third is closed at once. */
  first = raw_connect_stalled (server->addr);
  second = raw_connect_stalled (server->addr);
  third = raw_connect (server->addr);
  took = raw_wait_closed (third);
  g_assert_cmpint (took, <, 500 * 1000);

  /* Once the silent ones time out, the slots are free again. */
  raw_wait_closed (first);
  raw_wait_closed (second);
  g_usleep (100 * 1000);
  connection = dial_ok (server, key, NULL);
  g_assert_true (ph_connection_ping (connection, 1, NULL, SOON, NULL, NULL));
}

static void
test_stream_cap (gconstpointer data)
{
  const char *family = data;
  const char *hold[] = { HOLD_PROTOCOL, NULL };
  PhListenerOptions opts;
  g_autoptr (GError) error = NULL;
  g_autoptr (Server) server = NULL;
  g_autoptr (PhPrivateKey) key = new_key ();
  g_autoptr (PhConnection) connection = NULL;
  PhDuplex *held[4];
  PhDuplex *extra;
  guint8 byte;

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  ph_listener_options_init (&opts);
  opts.yamux_limits.max_inbound_streams = G_N_ELEMENTS (held);
  server = server_new (family, &opts);
  connection = dial_ok (server, key, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    held[i] = open_proposed (connection, HOLD_PROTOCOL);
  /* One stream over the cap is refused (reset) by the listener. With one protocol the negotiation
   * is optimistic: the refusal shows at the first read, and it is not taken for a `na`. */
  extra = ph_connection_open_stream (connection, hold, NULL, SOON, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ph_duplex_read (extra, &byte, 1, SOON, NULL, &error), ==, -1);
  g_assert_nonnull (error);
  g_assert_false (g_error_matches (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION));
  g_clear_error (&error);
  ph_duplex_free (extra);

  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    ph_duplex_free (held[i]);
  /* The slots come back once the listener sees the resets. */
  for (guint attempt = 0;; attempt++)
    {
      if (ph_connection_ping (connection, 1, NULL, SOON, NULL, &error))
        break;
      g_assert_cmpuint (attempt, <, 100);
      g_clear_error (&error);
      g_usleep (10 * 1000);
    }
}

static void
test_unknown_protocol (gconstpointer data)
{
  const char *family = data;
  const char *unknown[] = { "/porthole/test/unknown/1.0.0", "/another/unknown", NULL };
  const char *fallback[] = { "/porthole/test/unknown/1.0.0", ECHO_PROTOCOL, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (Server) server = NULL;
  g_autoptr (PhPrivateKey) key = new_key ();
  g_autoptr (PhConnection) connection = NULL;
  g_autofree char *chosen = NULL;
  PhDuplex *stream;

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  server = server_new (family, NULL);
  connection = dial_ok (server, key, NULL);

  stream = ph_connection_open_stream (connection, unknown, NULL, SOON, NULL, &error);
  g_assert_null (stream);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION);
  g_clear_error (&error);

  stream = ph_connection_open_stream (connection, fallback, &chosen, SOON, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (chosen, ==, ECHO_PROTOCOL);
  ph_duplex_free (stream);

  /* Removed handlers are no longer offered. */
  ph_listener_remove_handler (server->listener, ECHO_PROTOCOL);
  stream = ph_connection_open_stream (connection, fallback, NULL, SOON, NULL, &error);
  g_assert_null (stream);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION);
}

/* One protocol: the stream comes back at once and the proposal rides with the first bytes (no
 * round trip of its own). Those bytes reach the handler; a refusal shows at the first read as
 * NEGOTIATION, and nothing is written after it; the connection carries on. */
static void
test_optimistic_stream (gconstpointer data)
{
  const char *family = data;
  const char *echo[] = { ECHO_PROTOCOL, NULL };
  const char *unknown[] = { "/porthole/test/unknown/1.0.0", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (Server) server = NULL;
  g_autoptr (PhPrivateKey) key = new_key ();
  g_autoptr (PhConnection) connection = NULL;
  g_autofree char *chosen = NULL;
  PhDuplex *stream;
  guint8 buffer[5];

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  server = server_new (family, NULL);
  connection = dial_ok (server, key, NULL);

  stream = ph_connection_open_stream (connection, echo, &chosen, SOON, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (chosen, ==, ECHO_PROTOCOL);
  g_assert_true (ph_duplex_write (stream, (const guint8 *) "hello", 5, SOON, NULL, &error));
  g_assert_true (ph_duplex_read_exact (stream, buffer, 5, SOON, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (buffer, 5, "hello", 5);
  g_assert_true (ph_multistream_lazy_is_confirmed (stream));
  ph_duplex_free (stream);

  /* The listener answers na, then reads our bytes as its next proposal; these announce one of
   * 32 bytes, so it keeps waiting and the na is what we see. */
  stream = ph_connection_open_stream (connection, unknown, NULL, SOON, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ph_duplex_write (stream, (const guint8 *) "\x20hello", 6, SOON, NULL, &error));
  g_assert_cmpint (ph_duplex_read (stream, buffer, 1, SOON, NULL, &error), ==, -1);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION);
  g_clear_error (&error);
  g_assert_false (ph_duplex_write (stream, buffer, 1, SOON, NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION);
  g_clear_error (&error);
  g_assert_false (ph_duplex_close_write (stream, SOON, NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION);
  g_clear_error (&error);
  ph_duplex_free (stream);

  /* Here the bytes make a malformed proposal, and the listener resets the stream right after its
   * na (js and go do the same). yamux drops what a reset stream still held, so the na may be lost
   * with it: the first read fails either way, cleanly, and returns no data. */
  for (guint i = 0; i < 20; i++)
    {
      stream = ph_connection_open_stream (connection, unknown, NULL, SOON, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (ph_duplex_write (stream, (const guint8 *) "\x05hello", 6, SOON, NULL, &error));
      g_assert_cmpint (ph_duplex_read (stream, buffer, 1, SOON, NULL, &error), ==, -1);
      if (!g_error_matches (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION))
        g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED);
      g_clear_error (&error);
      g_assert_false (ph_multistream_lazy_is_confirmed (stream));
      ph_duplex_free (stream);
    }

  g_assert_true (ph_connection_ping (connection, 1, NULL, SOON, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (ph_connection_is_closed (connection, NULL));
}

/* A dialer that lists yamux in Noise message 3 (as go and js do) starts yamux right after the
 * handshake: our listener listed it in message 2, so no multistream round follows. */
static void
test_inlined_muxer (gconstpointer data)
{
  const char *family = data;
  const char *security[] = { PH_NOISE_PROTOCOL_ID, NULL };
  const char *muxers[] = { "/mplex/6.7.0", PH_YAMUX_PROTOCOL_ID, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (Server) server = NULL;
  g_autoptr (PhPrivateKey) key = new_key ();
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (PhPeerId) remote = NULL;
  g_autoptr (PhYamuxSession) session = NULL;
  g_autoptr (Inbound) inbound = NULL;
  g_autofree char *muxer = NULL;
  const char *echo[] = { ECHO_PROTOCOL, NULL };
  PhDuplex *io;
  PhDuplex *secure;
  PhDuplex *stream;
  guint8 buffer[2];

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  server = server_new (family, NULL);
  socket = raw_connect (server->addr);
  io = ph_duplex_new_for_socket (socket);
  g_assert_true (ph_multistream_select (io, security, NULL, SOON, NULL, &error));
  g_assert_no_error (error);
  secure = ph_noise_secure_with_muxers (io, TRUE, key, server->peer, muxers, &remote, &muxer, SOON,
                                        NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (muxer, ==, PH_YAMUX_PROTOCOL_ID);
  /* yamux frames at once: a multistream header here would break the session. */
  session = ph_yamux_session_new (secure, TRUE, NULL);
  g_assert_true (ph_yamux_session_ping (session, NULL, SOON, NULL, &error));
  g_assert_no_error (error);
  stream = ph_yamux_session_open_stream (session, SOON, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ph_multistream_select (stream, echo, NULL, SOON, NULL, &error));
  g_assert_true (ph_duplex_write (stream, (const guint8 *) "hi", 2, SOON, NULL, &error));
  g_assert_true (ph_duplex_read_exact (stream, buffer, 2, SOON, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (buffer, 2, "hi", 2);
  ph_duplex_free (stream);
  inbound = next_inbound (server->inbound);
  g_assert_no_error (inbound->error);
  g_assert_nonnull (inbound->connection);
}

/* kubo proposes /tls/1.0.0 first; the listener must answer `na` and then take /noise. */
static void
test_tls_first (gconstpointer data)
{
  const char *family = data;
  const char *security[] = { "/tls/1.0.0", PH_NOISE_PROTOCOL_ID, NULL };
  const char *muxer[] = { PH_YAMUX_PROTOCOL_ID, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (Server) server = NULL;
  g_autoptr (PhPrivateKey) key = new_key ();
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (PhPeerId) remote = NULL;
  g_autoptr (PhYamuxSession) session = NULL;
  g_autoptr (Inbound) inbound = NULL;
  g_autofree char *chosen = NULL;
  PhDuplex *io;
  PhDuplex *secure;

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  server = server_new (family, NULL);
  socket = raw_connect (server->addr);
  io = ph_duplex_new_for_socket (socket);

  g_assert_true (ph_multistream_select (io, security, &chosen, SOON, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (chosen, ==, PH_NOISE_PROTOCOL_ID);
  secure = ph_noise_secure (io, TRUE, key, server->peer, &remote, SOON, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ph_peer_id_equal (remote, server->peer));
  g_assert_true (ph_multistream_select (secure, muxer, NULL, SOON, NULL, &error));
  g_assert_no_error (error);
  session = ph_yamux_session_new (secure, TRUE, NULL);
  g_assert_true (ph_yamux_session_ping (session, NULL, SOON, NULL, &error));
  g_assert_no_error (error);

  inbound = next_inbound (server->inbound);
  g_assert_no_error (inbound->error);
  g_assert_nonnull (inbound->connection);
}

typedef struct
{
  GCancellable *cancellable;
  guint delay_ms;
} CancelLater;

static gpointer
cancel_later (gpointer data)
{
  CancelLater *later = data;

  g_usleep (later->delay_ms * 1000);
  g_cancellable_cancel (later->cancellable);
  return NULL;
}

/* A listening socket that accepts (via the backlog) and never speaks. */
static GSocket *
mute_listener (const char *family, PhMultiaddr **addr)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhMultiaddr) listen = addr_new (loopback_for (family));
  g_autoptr (GSocketAddress) address = ph_multiaddr_to_socket_address (listen, &error);
  g_autoptr (GSocketAddress) bound = NULL;
  GSocket *socket;

  socket = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, address, TRUE, &error));
  g_assert_true (g_socket_listen (socket, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  *addr = ph_multiaddr_new_tcp (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (bound)),
                                g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  return socket;
}

static void
test_dial_failures (gconstpointer data)
{
  const char *family = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) key = new_key ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GSocket) mute = NULL;
  g_autoptr (PhMultiaddr) mute_addr = NULL;
  g_autoptr (PhMultiaddr) closed_addr = NULL;
  g_autoptr (PhMultiaddr) dns = addr_new ("/dns4/localhost/tcp/1");
  CancelLater later = { cancellable, 200 };
  GThread *thread;
  PhConnection *connection;
  gint64 start;
  guint fds;

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  mute = mute_listener (family, &mute_addr);
  fds = count_fds ();

  /* No DNS here: the caller resolves. */
  connection = ph_connection_dial (dns, key, NULL, NULL, SOON, NULL, &error);
  g_assert_null (connection);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* The deadline bounds a peer that accepts and never answers. */
  start = g_get_monotonic_time ();
  connection = ph_connection_dial (mute_addr, key, NULL, NULL, ph_deadline_in (300), NULL, &error);
  g_assert_null (connection);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_clear_error (&error);

  /* So does the cancellable. */
  thread = g_thread_new ("cancel", cancel_later, &later);
  start = g_get_monotonic_time ();
  connection = ph_connection_dial (mute_addr, key, NULL, NULL, SOON, cancellable, &error);
  g_thread_join (thread);
  g_assert_null (connection);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_clear_error (&error);

  /* Nothing listens: refused. */
  closed_addr = ph_multiaddr_ref (mute_addr);
  g_socket_close (mute, NULL);
  connection = ph_connection_dial (closed_addr, key, NULL, NULL, SOON, NULL, &error);
  g_assert_null (connection);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);

  g_assert_cmpuint (count_fds (), ==, fds - 1);
}

/* A dialer that lists no muxer in Noise gets the multistream round for yamux; proposed
 * optimistically, as our dialer does with such a listener, the yamux frames follow the proposal
 * before any echo, and the session reads the echo in front of the first frame. */
static void
test_lazy_muxer (gconstpointer data)
{
  const char *family = data;
  const char *security[] = { PH_NOISE_PROTOCOL_ID, NULL };
  const char *echo[] = { ECHO_PROTOCOL, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (Server) server = NULL;
  g_autoptr (PhPrivateKey) key = new_key ();
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (PhYamuxSession) session = NULL;
  g_autoptr (Inbound) inbound = NULL;
  g_autofree char *muxer = NULL;
  PhDuplex *io;
  PhDuplex *secure;
  PhDuplex *muxed;
  PhDuplex *stream;
  guint8 buffer[2];

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  server = server_new (family, NULL);
  socket = raw_connect (server->addr);
  io = ph_duplex_new_for_socket (socket);
  g_assert_true (ph_multistream_select (io, security, NULL, SOON, NULL, &error));
  secure = ph_noise_secure_with_muxers (io, TRUE, key, server->peer, NULL, NULL, &muxer, SOON, NULL,
                                        &error);
  g_assert_no_error (error);
  g_assert_null (muxer);
  muxed = ph_multistream_select_lazy (secure, PH_YAMUX_PROTOCOL_ID, &error);
  g_assert_no_error (error);
  g_assert_true (ph_multistream_lazy_flush (muxed, SOON, NULL, &error));
  session = ph_yamux_session_new (muxed, TRUE, NULL);
  stream = ph_yamux_session_open_stream (session, SOON, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ph_multistream_select (stream, echo, NULL, SOON, NULL, &error));
  g_assert_true (ph_duplex_write (stream, (const guint8 *) "hi", 2, SOON, NULL, &error));
  g_assert_true (ph_duplex_read_exact (stream, buffer, 2, SOON, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (buffer, 2, "hi", 2);
  g_assert_true (ph_multistream_lazy_is_confirmed (muxed));
  ph_duplex_free (stream);
  inbound = next_inbound (server->inbound);
  g_assert_no_error (inbound->error);
}

typedef struct
{
  GSocket *listening;
  GBytes *received;
} Refuser;

/* Accepts one connection, reads what the dialer sends at once, answers the multistream header and
 * `na`, and waits for the dialer to go. */
static gpointer
refuse_noise_thread (gpointer data)
{
  static const char answer[] = "\x13/multistream/1.0.0\n\x03na\n";
  Refuser *r = data;
  g_autoptr (GSocket) socket = g_socket_accept (r->listening, NULL, NULL);
  gchar buffer[512];
  gssize n;

  g_assert_nonnull (socket);
  g_socket_set_timeout (socket, 10);
  n = g_socket_receive (socket, buffer, sizeof buffer, NULL, NULL);
  g_assert_cmpint (n, >, 0);
  r->received = g_bytes_new (buffer, (gsize) n);
  g_assert_cmpint (g_socket_send (socket, answer, sizeof answer - 1, NULL, NULL), ==,
                   sizeof answer - 1);
  while (g_socket_receive (socket, buffer, sizeof buffer, NULL, NULL) > 0)
    ;
  return NULL;
}

/* The dialer sends the header, `/noise` and Noise message 1 in one segment, before any answer; a
 * listener that refuses /noise fails the dial with NEGOTIATION. */
static void
test_noise_refused (gconstpointer data)
{
  const char *family = data;
  static const char proposal[] = "\x13/multistream/1.0.0\n\x07/noise\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) key = new_key ();
  g_autoptr (GSocket) listening = NULL;
  g_autoptr (PhMultiaddr) addr = NULL;
  Refuser refuser = { 0 };
  PhConnection *connection;
  GThread *thread;
  const guint8 *received;
  gsize len;

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  listening = mute_listener (family, &addr);
  refuser.listening = listening;
  thread = g_thread_new ("refuser", refuse_noise_thread, &refuser);
  connection = ph_connection_dial (addr, key, NULL, NULL, SOON, NULL, &error);
  g_assert_null (connection);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION);
  g_assert_nonnull (strstr (error->message, "/noise"));
  g_thread_join (thread);

  /* Header, proposal, then message 1: a 2-byte length of 32 and the ephemeral key. */
  received = g_bytes_get_data (refuser.received, &len);
  g_assert_cmpuint (len, ==, sizeof proposal - 1 + 2 + 32);
  g_assert_cmpmem (received, sizeof proposal - 1, proposal, sizeof proposal - 1);
  g_assert_cmpint (received[sizeof proposal - 1], ==, 0);
  g_assert_cmpint (received[sizeof proposal], ==, 32);
  g_bytes_unref (refuser.received);
}

static void
test_stop_prompt (gconstpointer data)
{
  const char *family = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Server) server = NULL;
  g_autoptr (PhPrivateKey) key = new_key ();
  g_autoptr (PhConnection) a = NULL;
  g_autoptr (PhConnection) b = NULL;
  g_autoptr (GSocket) silent = NULL;
  PhDuplex *held;
  gint64 start;
  guint fds, threads;

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  fds = count_fds ();
  threads = count_threads ();
  server = server_new (family, NULL);
  a = dial_ok (server, key, NULL);
  b = dial_ok (server, key, NULL);
  /* A handler that would run 10 s, and a peer stuck in its handshake. */
  held = open_proposed (a, HOLD_PROTOCOL);
  silent = raw_connect (server->addr);
  g_usleep (50 * 1000);

  start = g_get_monotonic_time ();
  ph_listener_stop (server->listener);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_assert_cmpuint (ph_listener_get_n_connections (server->listener), ==, 0);

  assert_closes_soon (a, G_USEC_PER_SEC);
  assert_closes_soon (b, G_USEC_PER_SEC);
  g_assert_cmpint (raw_wait_closed (silent), <, G_USEC_PER_SEC);
  ph_duplex_free (held);

  /* Nobody listens any more. */
  g_clear_pointer (&a, ph_connection_unref);
  a = ph_connection_dial (server->dial_addr, key, NULL, NULL, SOON, NULL, &error);
  g_assert_null (a);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);

  g_clear_pointer (&b, ph_connection_unref);
  g_clear_pointer (&server, server_free);
  g_clear_object (&silent);
  g_assert_cmpuint (count_fds (), ==, fds);
  /* GLib's thread pools may keep a couple of idle threads for later. */
  g_assert_cmpuint (count_threads (), <=, threads + 4);
}

/* Waits (bounded) for the fd count to come back to `expected`: the listener's side of a closed
 * connection lets go of its socket on its own thread, a moment after ours. */
static void
assert_fds_back_to (guint expected)
{
  gint64 end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;

  while (count_fds () != expected && g_get_monotonic_time () < end)
    g_usleep (10 * 1000);
  g_assert_cmpuint (count_fds (), ==, expected);
}

static void
test_fd_cycles (gconstpointer data)
{
  const char *family = data;
  g_autoptr (Server) server = NULL;
  g_autoptr (PhPrivateKey) key = new_key ();
  guint fds, threads;

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  server = server_new (family, NULL);
  /* One cycle first: GLib sets up what it keeps for the process (thread pools, wakeups). */
  ph_connection_unref (dial_ok (server, key, NULL));
  inbound_free (next_inbound (server->inbound));
  g_usleep (50 * 1000);
  fds = count_fds ();
  threads = count_threads ();

  for (guint i = 0; i < 200; i++)
    {
      g_autoptr (PhConnection) connection = dial_ok (server, key, NULL);

      if (i % 20 == 0)
        g_assert_true (ph_connection_ping (connection, 1, NULL, SOON, NULL, NULL));
      ph_connection_close (connection);
      while (g_async_queue_length (server->inbound) > 0)
        inbound_free (g_async_queue_pop (server->inbound));
    }
  assert_fds_back_to (fds);
  g_assert_cmpuint (count_threads (), <=, threads + 4);
}

/* A dialer with a listener serves that listener's handlers on its outbound connections, announces
 * its addresses, and can dial from the listener's port (SO_REUSEPORT), as AutoNAT needs. */
static void
test_dial_with_listener (gconstpointer data)
{
  const char *family = data;
  PhListenerOptions opts;
  PhDialOptions dial_opts = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (Server) server = NULL;
  g_autoptr (Server) home = NULL;
  g_autoptr (PhConnection) connection = NULL;
  g_autoptr (Inbound) inbound = NULL;
  g_autoptr (PhIdentifyInfo) ours = NULL;
  g_autoptr (PhIdentifyInfo) theirs = NULL;
  guint16 home_port, local_port;

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  server = server_new (family, NULL);
  ph_listener_options_init (&opts);
  opts.reuse_port = TRUE;
  home = server_new (family, &opts);

  dial_opts.listener = home->listener;
  dial_opts.local_addr = home->addr;
  dial_opts.reuse_port = TRUE;
  connection = dial_ok (server, home->key, &dial_opts);
  g_assert_true (ph_multiaddr_get_tcp_port (home->addr, &home_port));
  g_assert_true (
      ph_multiaddr_get_tcp_port (ph_connection_get_local_addr (connection), &local_port));
  g_assert_cmpuint (local_port, ==, home_port);

  theirs = ph_connection_identify (connection, SOON, NULL, &error);
  g_assert_no_error (error);
  assert_addr_equal (theirs->observed_addr, home->addr);

  inbound = next_inbound (server->inbound);
  g_assert_no_error (inbound->error);
  ours = ph_connection_identify (inbound->connection, SOON, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (strv_has (ours->protocols, ECHO_PROTOCOL));
  g_assert_cmpuint (ours->listen_addrs->len, ==, 1);
  assert_addr_equal (g_ptr_array_index (ours->listen_addrs, 0), home->addr);

  /* The server opens a stream to us, served by the home listener's echo handler. */
  run_echo_streams (inbound->connection, ECHO_PROTOCOL, 4, 1024);

  /* Stopping the home listener closes the connection dialed with it. */
  ph_listener_stop (home->listener);
  assert_closes_soon (connection, G_USEC_PER_SEC);
  assert_closes_soon (inbound->connection, G_USEC_PER_SEC);
}

#define KEEP_PROTOCOL "/porthole/test/keep/1.0.0"

/* Holds a reference to its connection for as long as it runs (until the peer half-closes) and
 * drops it last thing: when the caller's reference went meanwhile, the connection is closed and
 * freed from this handler thread. */
static void
keep_handler (PhConnection *connection, PhDuplex *stream, const char *protocol, gint64 deadline,
              GCancellable *cancellable, gpointer user_data)
{
  PhConnection *kept = ph_connection_ref (connection);
  guint8 byte;

  g_async_queue_push (user_data, GINT_TO_POINTER (1));
  ph_duplex_read (stream, &byte, 1, deadline, cancellable, NULL);
  g_usleep (20 * 1000);
  ph_connection_unref (kept);
  g_async_queue_push (user_data, GINT_TO_POINTER (2));
}

static void
test_unref_during_handler (gconstpointer data)
{
  const char *family = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Server) server = NULL;
  g_autoptr (PhPrivateKey) key = new_key ();
  g_autoptr (PhListener) home = NULL;
  g_autoptr (GAsyncQueue) events = g_async_queue_new ();
  PhDialOptions opts = { 0 };
  PhConnection *connection;
  Inbound *inbound;
  PhDuplex *stream;
  gint64 start;

  if (!have_family (family))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  server = server_new (family, NULL);
  home = ph_listener_new (key, NULL);
  ph_listener_add_handler (home, KEEP_PROTOCOL, 10000, keep_handler, g_async_queue_ref (events),
                           (GDestroyNotify) g_async_queue_unref);
  ph_listener_add_handler (home, HOLD_PROTOCOL, 10000, hold_handler, NULL, NULL);
  opts.listener = home;

  /* Our last reference goes while a handler runs: the connection closes at once anyway. */
  connection = dial_ok (server, key, &opts);
  inbound = next_inbound (server->inbound);
  stream = open_proposed (inbound->connection, HOLD_PROTOCOL);
  g_usleep (50 * 1000);
  start = g_get_monotonic_time ();
  ph_connection_unref (connection);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  assert_closes_soon (inbound->connection, G_USEC_PER_SEC);
  ph_duplex_free (stream);
  inbound_free (inbound);

  /* A handler holds the last reference: the connection closes when it drops it, on its thread. */
  connection = dial_ok (server, key, &opts);
  inbound = next_inbound (server->inbound);
  stream = open_proposed (inbound->connection, KEEP_PROTOCOL);
  g_assert_cmpint (GPOINTER_TO_INT (g_async_queue_timeout_pop (events, WAIT_US)), ==, 1);
  ph_connection_unref (connection);
  g_assert_false (ph_connection_is_closed (inbound->connection, NULL));
  g_assert_true (ph_duplex_close_write (stream, SOON, NULL, &error));
  g_assert_cmpint (GPOINTER_TO_INT (g_async_queue_timeout_pop (events, WAIT_US)), ==, 2);
  assert_closes_soon (inbound->connection, G_USEC_PER_SEC);
  ph_duplex_free (stream);
  inbound_free (inbound);
}

/* One listener on both loopbacks; an /ip6 socket is IPv6 only (IPV6_V6ONLY), so it refuses an
 * IPv4-mapped address. */
static void
test_dual_stack (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) server_key = new_key ();
  g_autoptr (PhPrivateKey) key = new_key ();
  g_autoptr (PhListener) listener = NULL;
  g_autoptr (PhListener) mapped = NULL;
  g_autoptr (GPtrArray) addrs = NULL;
  PhMultiaddr *both[2];
  g_autoptr (PhMultiaddr) v4 = addr_new ("/ip4/127.0.0.1/tcp/0");
  g_autoptr (PhMultiaddr) v6 = addr_new ("/ip6/::1/tcp/0");
  g_autoptr (PhMultiaddr) v4_mapped = addr_new ("/ip6/::ffff:127.0.0.1/tcp/0");
  g_autoptr (PhMultiaddr) with_peer = NULL;
  guint fds = count_fds ();

  if (!have_family ("ip6"))
    {
      g_test_skip ("no IPv6 loopback on this host");
      return;
    }
  both[0] = v4;
  both[1] = v6;
  listener = ph_listener_new (server_key, NULL);
  g_assert_true (ph_listener_start (listener, both, 2, &error));
  g_assert_no_error (error);
  addrs = ph_listener_get_addrs (listener);
  g_assert_cmpuint (addrs->len, ==, 2);

  for (guint i = 0; i < addrs->len; i++)
    {
      g_autoptr (PhConnection) connection = NULL;
      g_autoptr (PhIdentifyInfo) info = NULL;

      connection
          = ph_connection_dial (g_ptr_array_index (addrs, i), key, NULL, NULL, SOON, NULL, &error);
      g_assert_no_error (error);
      info = ph_connection_identify (connection, SOON, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (info->listen_addrs->len, ==, 2);
      assert_addr_equal (g_ptr_array_index (info->listen_addrs, i), g_ptr_array_index (addrs, i));
    }

  mapped = ph_listener_new (server_key, NULL);
  g_assert_false (ph_listener_start (mapped, &v4_mapped, 1, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* A listen address names no peer. */
  with_peer = ph_multiaddr_new_from_string (
      "/ip4/127.0.0.1/tcp/0/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq", &error);
  g_assert_no_error (error);
  g_clear_pointer (&mapped, ph_listener_free);
  mapped = ph_listener_new (server_key, NULL);
  g_assert_false (ph_listener_start (mapped, &with_peer, 1, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED);

  g_clear_pointer (&mapped, ph_listener_free);
  g_clear_pointer (&listener, ph_listener_free);
  assert_fds_back_to (fds);
}

static void
add_family_tests (const char *family)
{
  static const struct
  {
    const char *name;
    GTestDataFunc func;
  } tests[] = {
    { "session", test_session },
    { "wrong-peer", test_wrong_peer },
    { "silent-peer", test_silent_peer },
    { "connection-cap", test_connection_cap },
    { "stream-cap", test_stream_cap },
    { "unknown-protocol", test_unknown_protocol },
    { "tls-first", test_tls_first },
    { "optimistic-stream", test_optimistic_stream },
    { "inlined-muxer", test_inlined_muxer },
    { "noise-refused", test_noise_refused },
    { "lazy-muxer", test_lazy_muxer },
    { "dial-failures", test_dial_failures },
    { "stop-prompt", test_stop_prompt },
    { "fd-cycles", test_fd_cycles },
    { "dial-with-listener", test_dial_with_listener },
    { "unref-during-handler", test_unref_during_handler },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (tests); i++)
    {
      g_autofree char *path = g_strdup_printf ("/connection/%s/%s", family, tests[i].name);

      g_test_add_data_func (path, family, tests[i].func);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  add_family_tests ("ip4");
  add_family_tests ("ip6");
  g_test_add_func ("/connection/dual-stack", test_dual_stack);
  return g_test_run ();
}
