/* test-js-libp2p.c: Porthole's connection stack against real js-libp2p 3.x peers
 *
 * Each case starts tests/interop/peer.mjs (README.md beside it) with the Node 22 binary that
 * build-aux/install-test-node.sh installs, reads its JSON event lines, and checks both ends: what
 * our API returns and what js reports seeing. IPv4 and IPv6 loopback only.
 *
 * Environment (set by tests/interop/meson.build):
 *   PORTHOLE_NODE         the Node 22 binary
 *   PORTHOLE_INTEROP_DIR  tests/interop in the source tree (peer.mjs, node_modules)
 * Without node_modules the cases are skipped (`build-aux/install-test-node.sh` installs it; the dev
 * script's `test` does). With node_modules present, a peer that cannot be started or reached is
 * a failure, not a skip.
 *
 * Every wait is bounded (WAIT_S), and the node processes are killed on every way out: teardown
 * force-exits them, and they also stop on EOF of their stdin, which is a pipe from us.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "p2p/ph-connection.h"
#include "p2p/ph-listener.h"
#include "p2p/ph-p2p-error.h"
#include "p2p/ph-ping.h"

#define ECHO_PROTOCOL "/porthole/echo/1.0.0"
#define JS_AGENT "porthole-interop-peer/js-libp2p"
#define WAIT_S 30
#define SOON (ph_deadline_in (WAIT_S * 1000))

static const char *node_path;
static char *peer_script;
static char *skip_reason;

/* --- A js-libp2p peer --------------------------------------------------------------------- */

typedef struct
{
  GSubprocess *process;
  GThread *reader;
  GAsyncQueue *lines; /* JsonObject, one per stdout line; an empty object at EOF */
  GPtrArray *seen;    /* JsonObject, every line taken from `lines` */
  gboolean eof;
  char *peer_id;
  char *key_type;
  GPtrArray *addrs; /* PhMultiaddr, the ready line's, with /p2p */
} JsPeer;

static gpointer
read_lines (gpointer data)
{
  JsPeer *peer = data;
  g_autoptr (GDataInputStream) input
      = g_data_input_stream_new (g_subprocess_get_stdout_pipe (peer->process));

  while (TRUE)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *line = g_data_input_stream_read_line_utf8 (input, NULL, NULL, &error);
      g_autoptr (JsonNode) node = NULL;

      if (line == NULL)
        break;
      node = json_from_string (line, &error);
      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        {
          g_printerr ("peer.mjs printed a line that is not a JSON object: %s\n", line);
          continue;
        }
      g_async_queue_push (peer->lines, json_object_ref (json_node_get_object (node)));
    }
  g_async_queue_push (peer->lines, json_object_new ());
  return NULL;
}

static const char *
event_of (JsonObject *line)
{
  return json_object_get_string_member_with_default (line, "event", "");
}

/* Every line seen so far, for the log of a failing case. */
static void
js_peer_dump (JsPeer *peer)
{
  for (guint i = 0; i < peer->seen->len; i++)
    {
      g_autoptr (JsonNode) node
          = json_node_init_object (json_node_alloc (), g_ptr_array_index (peer->seen, i));
      g_autofree char *text = json_to_string (node, FALSE);

      g_test_message ("peer.mjs: %s", text);
    }
}

typedef gboolean (*LineMatch) (JsonObject *line, gconstpointer data);

/* The next line of `event` for which match (optional) holds, skipping others (they stay in
 * `seen`). Fails the test after WAIT_S seconds or at the end of the peer's output. Transfer
 * none. */
static JsonObject *
js_peer_wait (JsPeer *peer, const char *event, LineMatch match, gconstpointer data)
{
  gint64 end = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  while (TRUE)
    {
      gint64 left = end - g_get_monotonic_time ();
      JsonObject *line = NULL;

      if (left > 0 && !peer->eof)
        line = g_async_queue_timeout_pop (peer->lines, (guint64) left);
      if (line == NULL || json_object_get_size (line) == 0)
        {
          if (line != NULL)
            {
              peer->eof = TRUE;
              json_object_unref (line);
            }
          js_peer_dump (peer);
          g_error ("no \"%s\" line from peer.mjs %s", event,
                   peer->eof ? "before it ended" : "within " G_STRINGIFY (WAIT_S) " s");
        }
      g_ptr_array_add (peer->seen, line);
      if (g_str_equal (event_of (line), event) && (match == NULL || match (line, data)))
        return line;
    }
}

static JsPeer *
js_peer_start (const char *first_arg, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  JsPeer *peer = g_new0 (JsPeer, 1);
  JsonObject *ready;
  JsonArray *addrs;
  va_list args;

  g_ptr_array_add (argv, (gpointer) node_path);
  g_ptr_array_add (argv, peer_script);
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  /* stdin is a pipe we hold: if this test dies, its EOF stops the peer. */
  peer->process
      = g_subprocess_newv ((const char *const *) argv->pdata,
                           G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  peer->lines = g_async_queue_new_full ((GDestroyNotify) json_object_unref);
  peer->seen = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  peer->addrs = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_multiaddr_unref);
  peer->reader = g_thread_new ("peer.mjs stdout", read_lines, peer);

  ready = js_peer_wait (peer, "ready", NULL, NULL);
  peer->peer_id = g_strdup (json_object_get_string_member (ready, "peerId"));
  peer->key_type = g_strdup (json_object_get_string_member (ready, "keyType"));
  addrs = json_object_get_array_member (ready, "addrs");
  for (guint i = 0; i < json_array_get_length (addrs); i++)
    {
      PhMultiaddr *addr
          = ph_multiaddr_new_from_string (json_array_get_string_element (addrs, i), &error);

      g_assert_no_error (error);
      g_ptr_array_add (peer->addrs, addr);
    }
  return peer;
}

/* SIGTERM, then the peer's "stopped" line. */
static void
js_peer_stop (JsPeer *peer)
{
  g_subprocess_send_signal (peer->process, SIGTERM);
  js_peer_wait (peer, "stopped", NULL, NULL);
}

/* Waits for the end of the peer's output (bounded), then for the process; its exit status. */
static gint
js_peer_wait_exit (JsPeer *peer)
{
  g_autoptr (GError) error = NULL;
  gint64 end = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  while (!peer->eof)
    {
      gint64 left = end - g_get_monotonic_time ();
      JsonObject *line = left > 0 ? g_async_queue_timeout_pop (peer->lines, (guint64) left) : NULL;

      if (line == NULL)
        {
          js_peer_dump (peer);
          g_error ("peer.mjs did not exit within " G_STRINGIFY (WAIT_S) " s");
        }
      if (json_object_get_size (line) == 0)
        {
          peer->eof = TRUE;
          json_object_unref (line);
        }
      else
        g_ptr_array_add (peer->seen, line);
    }
  g_assert_true (g_subprocess_wait (peer->process, NULL, &error));
  g_assert_no_error (error);
  return g_subprocess_get_if_exited (peer->process) ? g_subprocess_get_exit_status (peer->process)
                                                    : -1;
}

static void
js_peer_free (JsPeer *peer)
{
  if (peer == NULL)
    return;
  /* Whatever happened, the process goes: kill, reap, and collect the reader. */
  g_subprocess_force_exit (peer->process);
  g_subprocess_wait (peer->process, NULL, NULL);
  g_thread_join (peer->reader);
  g_object_unref (peer->process);
  g_async_queue_unref (peer->lines);
  g_ptr_array_unref (peer->seen);
  g_ptr_array_unref (peer->addrs);
  g_free (peer->peer_id);
  g_free (peer->key_type);
  g_free (peer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (JsPeer, js_peer_free)

/* The peer's listen address of `family` (with /p2p). */
static PhMultiaddr *
js_peer_addr (JsPeer *peer, GSocketFamily family)
{
  for (guint i = 0; i < peer->addrs->len; i++)
    if (ph_multiaddr_get_family (g_ptr_array_index (peer->addrs, i)) == family)
      return g_ptr_array_index (peer->addrs, i);
  js_peer_dump (peer);
  g_error ("peer.mjs listens on no address of the family wanted");
}

/* No "error" line so far. */
static void
js_peer_assert_no_errors (JsPeer *peer)
{
  while (TRUE)
    {
      JsonObject *line = g_async_queue_try_pop (peer->lines);

      if (line == NULL)
        break;
      if (json_object_get_size (line) == 0)
        {
          peer->eof = TRUE;
          json_object_unref (line);
          break;
        }
      g_ptr_array_add (peer->seen, line);
    }
  for (guint i = 0; i < peer->seen->len; i++)
    if (g_str_equal (event_of (g_ptr_array_index (peer->seen, i)), "error"))
      {
        js_peer_dump (peer);
        g_error ("peer.mjs reported an error");
      }
}

static gboolean
line_peer_is (JsonObject *line, gconstpointer peer_id)
{
  return g_strcmp0 (json_object_get_string_member_with_default (line, "peer", NULL), peer_id) == 0;
}

static gboolean
json_strings_have (JsonArray *array, const char *wanted)
{
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    if (g_strcmp0 (json_array_get_string_element (array, i), wanted) == 0)
      return TRUE;
  return FALSE;
}

/* --- Our side ----------------------------------------------------------------------------- */

static const char *
family_name (GSocketFamily family)
{
  return family == G_SOCKET_FAMILY_IPV6 ? "ip6" : "ip4";
}

static const char *
loopback_listen (GSocketFamily family)
{
  return family == G_SOCKET_FAMILY_IPV6 ? "/ip6/::1/tcp/0" : "/ip4/127.0.0.1/tcp/0";
}

/* Skips the case when node_modules is missing, or ::1 is (some containers have no IPv6). */
static gboolean
should_skip (GSocketFamily family)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GInetAddress) loopback = NULL;
  g_autoptr (GSocketAddress) address = NULL;

  if (skip_reason != NULL)
    {
      g_test_skip (skip_reason);
      return TRUE;
    }
  if (family != G_SOCKET_FAMILY_IPV6)
    return FALSE;
  socket = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  address = g_inet_socket_address_new (loopback, 0);
  if (socket != NULL && g_socket_bind (socket, address, FALSE, NULL))
    return FALSE;
  g_test_skip ("no IPv6 loopback (::1) on this host");
  return TRUE;
}

static PhPrivateKey *
new_key (void)
{
  g_autoptr (GError) error = NULL;
  PhPrivateKey *key = ph_private_key_generate_ed25519 (&error);

  g_assert_no_error (error);
  return key;
}

static char *
peer_string (PhPrivateKey *key)
{
  g_autoptr (PhPeerId) peer = ph_peer_id_from_public_key (ph_private_key_get_public_key (key));

  return ph_peer_id_to_string (peer);
}

/* js-libp2p's observedAddr carries /p2p/<the observed peer> (the connection's remoteAddr as js
 * keeps it); go's does not. Either way the address part must be `expected`. */
static void
assert_observed (PhIdentifyInfo *info, PhMultiaddr *expected, const char *our_id)
{
  g_autoptr (PhMultiaddr) bare = NULL;
  const guint8 *peer_bytes;
  gsize peer_len;

  g_assert_nonnull (info->observed_addr);
  peer_bytes = ph_multiaddr_get_peer_id_bytes (info->observed_addr, &peer_len);
  if (peer_bytes != NULL)
    {
      g_autoptr (PhPeerId) peer = ph_peer_id_from_bytes (peer_bytes, peer_len, NULL);
      g_autofree char *text = peer != NULL ? ph_peer_id_to_string (peer) : NULL;

      g_assert_cmpstr (text, ==, our_id);
    }
  bare = ph_multiaddr_without_peer_id (info->observed_addr);
  g_assert_true (ph_multiaddr_equal (bare, expected));
}

static void
assert_peer_is (const PhPeerId *peer, const char *expected)
{
  g_autofree char *text = ph_peer_id_to_string (peer);

  g_assert_cmpstr (text, ==, expected);
}

static gboolean
strings_have (GPtrArray *strings, const char *wanted)
{
  for (guint i = 0; i < strings->len; i++)
    if (g_str_equal (g_ptr_array_index (strings, i), wanted))
      return TRUE;
  return FALSE;
}

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

typedef struct
{
  PhConnection *connection;
  gsize size;
  char *failure;
} EchoJob;

static gpointer
echo_worker (gpointer data)
{
  EchoJob *job = data;
  static const char *const protocols[] = { ECHO_PROTOCOL, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *payload = g_malloc (job->size);
  g_autoptr (GBytes) back = NULL;
  PhDuplex *stream;

  for (gsize i = 0; i < job->size; i++)
    payload[i] = (guint8) g_random_int ();

  stream = ph_connection_open_stream (job->connection, protocols, NULL, SOON, NULL, &error);
  if (stream != NULL && ph_duplex_write (stream, payload, job->size, SOON, NULL, &error)
      && ph_duplex_close_write (stream, SOON, NULL, &error))
    back = ph_duplex_read_to_end (stream, job->size + 1, SOON, NULL, &error);
  g_clear_pointer (&stream, ph_duplex_free);

  if (back == NULL)
    job->failure = g_strdup (error->message);
  else if (g_bytes_get_size (back) != job->size
           || memcmp (g_bytes_get_data (back, NULL), payload, job->size) != 0)
    job->failure = g_strdup ("the echo differs from what was sent");
  return NULL;
}

static void
run_echo_streams (PhConnection *connection, guint n, gsize size)
{
  g_autofree EchoJob *jobs = g_new0 (EchoJob, n);
  g_autofree GThread **threads = g_new0 (GThread *, n);

  for (guint i = 0; i < n; i++)
    {
      jobs[i] = (EchoJob){ connection, size, NULL };
      threads[i] = g_thread_new ("echo", echo_worker, &jobs[i]);
    }
  for (guint i = 0; i < n; i++)
    g_thread_join (threads[i]);
  for (guint i = 0; i < n; i++)
    if (jobs[i].failure != NULL)
      g_error ("echo stream %u of %u: %s", i, n, jobs[i].failure);
}

/* Our listener on loopback, announcing its connections on a queue. */
typedef struct
{
  PhPrivateKey *key;
  char *peer_id;
  PhListener *listener;
  PhMultiaddr *addr;        /* bound */
  PhMultiaddr *dial_addr;   /* with /p2p */
  GAsyncQueue *connections; /* PhConnection (a reference each), or NULL-less: failures are fatal */
} Ours;

static void
on_inbound (PhListener *listener, PhConnection *connection, PhMultiaddr *remote_addr,
            const GError *error, gpointer user_data)
{
  g_autofree char *from = ph_multiaddr_to_string (remote_addr);

  if (error != NULL)
    {
      /* Reported, not asserted here: this runs on the connection's thread. */
      g_printerr ("inbound handshake from %s failed: %s\n", from, error->message);
      return;
    }
  g_async_queue_push (user_data, ph_connection_ref (connection));
}

static Ours *
ours_new (GSocketFamily family)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhMultiaddr) listen = ph_multiaddr_new_from_string (loopback_listen (family), NULL);
  g_autoptr (GPtrArray) addrs = NULL;
  g_autoptr (PhPeerId) peer = NULL;
  Ours *ours = g_new0 (Ours, 1);
  const guint8 *peer_bytes;
  gsize peer_len;

  ours->key = new_key ();
  ours->peer_id = peer_string (ours->key);
  ours->connections = g_async_queue_new_full ((GDestroyNotify) ph_connection_unref);
  ours->listener = ph_listener_new (ours->key, NULL);
  ph_listener_add_handler (ours->listener, ECHO_PROTOCOL, WAIT_S * 1000, echo_handler, NULL, NULL);
  ph_listener_set_connection_func (ours->listener, on_inbound,
                                   g_async_queue_ref (ours->connections),
                                   (GDestroyNotify) g_async_queue_unref);
  g_assert_true (ph_listener_start (ours->listener, &listen, 1, &error));
  g_assert_no_error (error);

  addrs = ph_listener_get_addrs (ours->listener);
  ours->addr = ph_multiaddr_ref (g_ptr_array_index (addrs, 0));
  peer = ph_peer_id_from_public_key (ph_private_key_get_public_key (ours->key));
  peer_bytes = ph_peer_id_get_bytes (peer, &peer_len);
  ours->dial_addr = ph_multiaddr_with_peer_id (ours->addr, peer_bytes, peer_len, &error);
  g_assert_no_error (error);
  return ours;
}

static void
ours_free (Ours *ours)
{
  ph_listener_free (ours->listener);
  g_async_queue_unref (ours->connections);
  ph_multiaddr_unref (ours->addr);
  ph_multiaddr_unref (ours->dial_addr);
  g_free (ours->peer_id);
  ph_private_key_unref (ours->key);
  g_free (ours);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Ours, ours_free)

static PhConnection *
ours_next_connection (Ours *ours)
{
  PhConnection *connection = g_async_queue_timeout_pop (ours->connections, WAIT_S * G_USEC_PER_SEC);

  if (connection == NULL)
    g_error ("no inbound connection within " G_STRINGIFY (WAIT_S) " s");
  return connection;
}

static void
assert_closes_soon (PhConnection *connection)
{
  gint64 end = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  while (!ph_connection_is_closed (connection, NULL))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (10 * 1000);
    }
}

/* --- Cases -------------------------------------------------------------------------------- */

/* Porthole dials js: handshake, identify both ways, 100 pings, 50 concurrent echo streams on js's
 * echo protocol, graceful close. */
static void
test_dial_js (gconstpointer data)
{
  GSocketFamily family = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsPeer) js = NULL;
  g_autoptr (PhPrivateKey) key = NULL;
  g_autoptr (PhListener) services = NULL;
  g_autoptr (PhConnection) connection = NULL;
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autofree char *our_id = NULL;
  g_autofree char *js_addr_text = NULL;
  PhDialOptions opts = { 0 };
  PhMultiaddr *js_addr;
  JsonObject *line;
  g_auto (GStrv) our_protocols = NULL;
  guint64 rtts[100];

  if (should_skip (family))
    return;
  js = js_peer_start ("--listen", loopback_listen (family), "--echo", NULL);
  js_addr = js_peer_addr (js, family);
  key = new_key ();
  our_id = peer_string (key);

  /* A listener that is never started: only its handlers, served on our outbound connection. */
  services = ph_listener_new (key, NULL);
  ph_listener_add_handler (services, ECHO_PROTOCOL, WAIT_S * 1000, echo_handler, NULL, NULL);
  our_protocols = ph_listener_dup_protocols (services);
  opts.listener = services;

  connection = ph_connection_dial (js_addr, key, NULL, &opts, SOON, NULL, &error);
  g_assert_no_error (error);
  assert_peer_is (ph_connection_get_remote_peer_id (connection), js->peer_id);

  /* What js told us. */
  info = ph_connection_identify (connection, SOON, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->agent_version, ==, JS_AGENT);
  g_assert_true (strings_have (info->protocols, PH_IDENTIFY_PROTOCOL_ID));
  g_assert_true (strings_have (info->protocols, PH_PING_PROTOCOL_ID));
  g_assert_true (strings_have (info->protocols, ECHO_PROTOCOL));
  assert_observed (info, ph_connection_get_local_addr (connection), our_id);

  /* What js says it learned about us. */
  line = js_peer_wait (js, "identify", line_peer_is, our_id);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (line, "agentVersion"),
                                   PH_CONNECTION_AGENT_PREFIX));
  for (guint i = 0; our_protocols[i] != NULL; i++)
    g_assert_true (
        json_strings_have (json_object_get_array_member (line, "protocols"), our_protocols[i]));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (line, "protocols")), ==,
                    g_strv_length (our_protocols));
  js_addr_text = ph_multiaddr_to_string (ph_connection_get_remote_addr (connection));
  g_assert_cmpstr (json_object_get_string_member (line, "observedAddr"), ==, js_addr_text);

  g_assert_true (ph_connection_ping (connection, G_N_ELEMENTS (rtts), rtts, SOON, NULL, &error));
  g_assert_no_error (error);

  run_echo_streams (connection, 50, 32 * 1024);
  for (guint i = 0; i < 50; i++)
    {
      line = js_peer_wait (js, "echo-served", line_peer_is, our_id);
      g_assert_cmpint (json_object_get_int_member (line, "bytes"), ==, 32 * 1024);
    }

  /* Graceful close: js sees the connection go, and nothing went wrong on its side. */
  ph_connection_close (connection);
  js_peer_wait (js, "disconnect", line_peer_is, our_id);
  js_peer_assert_no_errors (js);
  js_peer_stop (js);
  g_assert_cmpint (js_peer_wait_exit (js), ==, 0);
  js_peer_assert_no_errors (js);
}

/* js dials our listener: handshake, identify both ways, js pings and runs echo streams on our
 * handler; js's identify line shows our protocols. */
static void
test_js_dials (gconstpointer data)
{
  GSocketFamily family = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (Ours) ours = NULL;
  g_autoptr (JsPeer) js = NULL;
  g_autoptr (PhConnection) connection = NULL;
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autofree char *dial = NULL;
  g_autofree char *observed = NULL;
  g_autofree char *listen_text = NULL;
  g_auto (GStrv) our_protocols = NULL;
  JsonObject *line;
  JsonArray *listen_addrs;

  if (should_skip (family))
    return;
  ours = ours_new (family);
  our_protocols = ph_listener_dup_protocols (ours->listener);
  dial = ph_multiaddr_to_string (ours->dial_addr);
  js = js_peer_start ("--no-listen", "--dial", dial, "--pings", "5", "--streams", "10",
                      "--echo-bytes", "4096", "--hold", NULL);

  connection = ours_next_connection (ours);
  assert_peer_is (ph_connection_get_remote_peer_id (connection), js->peer_id);

  /* js's view of us: our ID, agent, every protocol we serve, where it saw itself from, and our
   * listen address. */
  line = js_peer_wait (js, "identify", line_peer_is, ours->peer_id);
  g_assert_cmpstr (json_object_get_string_member (line, "agentVersion"), ==,
                   PH_CONNECTION_AGENT_PREFIX PACKAGE_VERSION);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (line, "protocols")), ==,
                    g_strv_length (our_protocols));
  for (guint i = 0; our_protocols[i] != NULL; i++)
    g_assert_true (
        json_strings_have (json_object_get_array_member (line, "protocols"), our_protocols[i]));
  observed = ph_multiaddr_to_string (ph_connection_get_remote_addr (connection));
  g_assert_cmpstr (json_object_get_string_member (line, "observedAddr"), ==, observed);
  listen_addrs = json_object_get_array_member (line, "listenAddrs");
  listen_text = ph_multiaddr_to_string (ours->addr);
  g_assert_true (json_strings_have (listen_addrs, listen_text)
                 || json_strings_have (listen_addrs, dial));

  for (gint seq = 0; seq < 5; seq++)
    js_peer_wait (js, "ping", line_peer_is, ours->peer_id);
  for (guint i = 0; i < 10; i++)
    js_peer_wait (js, "echo", line_peer_is, ours->peer_id);
  line = js_peer_wait (js, "done", NULL, NULL);
  g_assert_true (json_object_get_boolean_member (line, "ok"));

  /* Our view of js over the same (inbound) connection. */
  info = ph_connection_identify (connection, SOON, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->agent_version, ==, JS_AGENT);
  assert_observed (info, ours->addr, ours->peer_id);
  g_assert_true (ph_connection_ping (connection, 3, NULL, SOON, NULL, &error));
  g_assert_no_error (error);

  js_peer_assert_no_errors (js);
  js_peer_stop (js);
  g_assert_cmpint (js_peer_wait_exit (js), ==, 0);
  assert_closes_soon (connection);
  js_peer_assert_no_errors (js);
}

/* A js peer with an RSA or secp256k1 identity: both handshake directions verify its key. */
static void
test_key_type (GSocketFamily family, const char *key_arg, const char *key_type)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsPeer) server = NULL;
  g_autoptr (JsPeer) client = NULL;
  g_autoptr (Ours) ours = NULL;
  g_autoptr (PhPrivateKey) key = NULL;
  g_autoptr (PhConnection) connection = NULL;
  g_autoptr (PhConnection) inbound = NULL;
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autofree char *our_id = NULL;
  g_autofree char *dial = NULL;
  JsonObject *line;

  if (should_skip (family))
    return;

  /* We dial js: Noise checks the key against the /p2p ID in the address. */
  server = js_peer_start ("--key", key_arg, "--listen", loopback_listen (family), NULL);
  g_assert_cmpstr (server->key_type, ==, key_type);
  key = new_key ();
  our_id = peer_string (key);
  connection
      = ph_connection_dial (js_peer_addr (server, family), key, NULL, NULL, SOON, NULL, &error);
  g_assert_no_error (error);
  assert_peer_is (ph_connection_get_remote_peer_id (connection), server->peer_id);
  info = ph_connection_identify (connection, SOON, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (info->public_key);
  g_assert_cmpstr (ph_key_type_to_string (ph_public_key_get_key_type (info->public_key)), ==,
                   ph_key_type_to_string (g_str_equal (key_arg, "rsa") ? PH_KEY_TYPE_RSA
                                                                       : PH_KEY_TYPE_SECP256K1));
  g_assert_true (ph_connection_ping (connection, 3, NULL, SOON, NULL, &error));
  g_assert_no_error (error);
  js_peer_wait (server, "identify", line_peer_is, our_id);
  ph_connection_close (connection);
  js_peer_wait (server, "disconnect", line_peer_is, our_id);
  js_peer_assert_no_errors (server);

  /* js dials us: our Noise responder verifies its signature. */
  ours = ours_new (family);
  dial = ph_multiaddr_to_string (ours->dial_addr);
  client = js_peer_start ("--key", key_arg, "--no-listen", "--dial", dial, "--pings", "3", NULL);
  g_assert_cmpstr (client->key_type, ==, key_type);
  inbound = ours_next_connection (ours);
  assert_peer_is (ph_connection_get_remote_peer_id (inbound), client->peer_id);
  line = js_peer_wait (client, "done", NULL, NULL);
  g_assert_true (json_object_get_boolean_member (line, "ok"));
  g_assert_cmpint (js_peer_wait_exit (client), ==, 0);
  js_peer_assert_no_errors (client);

  js_peer_stop (server);
  g_assert_cmpint (js_peer_wait_exit (server), ==, 0);
}

static void
test_rsa (gconstpointer data)
{
  test_key_type (GPOINTER_TO_INT (data), "rsa", "RSA");
}

static void
test_secp256k1 (gconstpointer data)
{
  test_key_type (GPOINTER_TO_INT (data), "secp256k1", "secp256k1");
}

static void
add_cases (GSocketFamily family)
{
  static const struct
  {
    const char *name;
    GTestDataFunc func;
  } cases[] = {
    { "dial-js", test_dial_js },
    { "js-dials", test_js_dials },
    { "rsa", test_rsa },
    { "secp256k1", test_secp256k1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path
          = g_strdup_printf ("/interop/js/%s/%s", family_name (family), cases[i].name);

      g_test_add_data_func (path, GINT_TO_POINTER (family), cases[i].func);
    }
}

int
main (int argc, char **argv)
{
  const char *dir;
  g_autofree char *modules = NULL;

  g_test_init (&argc, &argv, NULL);

  dir = g_getenv ("PORTHOLE_INTEROP_DIR");
  node_path = g_getenv ("PORTHOLE_NODE");
  if (dir == NULL || node_path == NULL)
    {
      g_printerr ("PORTHOLE_INTEROP_DIR and PORTHOLE_NODE must be set (meson test does)\n");
      return 1;
    }
  peer_script = g_build_filename (dir, "peer.mjs", NULL);
  modules = g_build_filename (dir, "node_modules", NULL);
  /* Missing node_modules is the one reason to skip; anything else is a failure. */
  if (!g_file_test (modules, G_FILE_TEST_IS_DIR))
    skip_reason = g_strdup_printf ("%s is missing: run build-aux/install-test-node.sh", modules);

  add_cases (G_SOCKET_FAMILY_IPV4);
  add_cases (G_SOCKET_FAMILY_IPV6);
  return g_test_run ();
}
