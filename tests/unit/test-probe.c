/* test-probe.c: the whole probe on loopback, against an AutoNAT v2 server of our own
 *
 * The server really dials back (a fresh connection, bare address, as js's does) and delivers the
 * nonce — or, in "lie" mode, claims it did. Candidates are loopback, so the probe runs with
 * allow_private, the test-only switch.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "autonat_v2.pb-c.h"
#include "core/ph-probe.h"
#include "p2p/ph-autonat.h"
#include "p2p/ph-connection.h"
#include "p2p/ph-listener.h"
#include "p2p/ph-peer-id.h"

typedef struct
{
  gboolean lie;
  PhPrivateKey *key;
} ServerMode;

/* As a server reports it: no connection → E_DIAL_ERROR; connected, stream failed →
 * E_DIAL_BACK_ERROR; nonce delivered → OK. */
static Ph__Autonat__V2__DialStatus
dial_back (PhMultiaddr *addr, guint64 nonce, PhPrivateKey *key, gint64 deadline,
           GCancellable *cancellable)
{
  const char *protocols[] = { PH_AUTONAT_V2_DIAL_BACK_PROTOCOL_ID, NULL };
  g_autoptr (PhConnection) back = NULL;
  g_autoptr (PhDuplex) stream = NULL;
  g_autoptr (GBytes) message = ph_autonat_v2_dial_back_encode (nonce);
  guint8 answer[2];

  back = ph_connection_dial (addr, key, NULL, NULL, deadline, cancellable, NULL);
  if (!back)
    return PH__AUTONAT__V2__DIAL_STATUS__E_DIAL_ERROR;
  stream = ph_connection_open_stream (back, protocols, NULL, deadline, cancellable, NULL);
  if (!stream
      || !ph_duplex_write_frame (stream, g_bytes_get_data (message, NULL),
                                 g_bytes_get_size (message), deadline, cancellable, NULL)
      /* DialBackResponse{OK}: the single byte 00 */
      || !ph_duplex_read_exact (stream, answer, 1, deadline, cancellable, NULL) || answer[0] != 0)
    return PH__AUTONAT__V2__DIAL_STATUS__E_DIAL_BACK_ERROR;
  return PH__AUTONAT__V2__DIAL_STATUS__OK;
}

static void
serve_dial_request (PhConnection *connection, PhDuplex *stream, const char *protocol,
                    gint64 deadline, GCancellable *cancellable, gpointer user_data)
{
  ServerMode *mode = user_data;
  g_autoptr (GBytes) frame = ph_duplex_read_frame (stream, 8192, deadline, cancellable, NULL);
  Ph__Autonat__V2__Message *request;
  Ph__Autonat__V2__Message reply = PH__AUTONAT__V2__MESSAGE__INIT;
  Ph__Autonat__V2__DialResponse response = PH__AUTONAT__V2__DIAL_RESPONSE__INIT;
  g_autoptr (PhMultiaddr) addr = NULL;
  guint8 buffer[64];
  gsize len;
  Ph__Autonat__V2__DialStatus status;

  if (!frame)
    return;
  request = ph__autonat__v2__message__unpack (NULL, g_bytes_get_size (frame),
                                              g_bytes_get_data (frame, NULL));
  g_assert_nonnull (request);
  g_assert_cmpint (request->msg_case, ==, PH__AUTONAT__V2__MESSAGE__MSG_DIAL_REQUEST);
  /* trap 4: one address per request */
  g_assert_cmpuint (request->dialrequest->n_addrs, ==, 1);
  addr = ph_multiaddr_new_from_bytes (request->dialrequest->addrs[0].data,
                                      request->dialrequest->addrs[0].len, NULL);
  g_assert_nonnull (addr);

  status = mode->lie
               ? PH__AUTONAT__V2__DIAL_STATUS__OK
               : dial_back (addr, request->dialrequest->nonce, mode->key, deadline, cancellable);
  ph__autonat__v2__message__free_unpacked (request, NULL);

  response.status = PH__AUTONAT__V2__DIAL_RESPONSE__RESPONSE_STATUS__OK;
  response.dialstatus = status;
  reply.msg_case = PH__AUTONAT__V2__MESSAGE__MSG_DIAL_RESPONSE;
  reply.dialresponse = &response;
  len = ph__autonat__v2__message__pack (&reply, buffer);
  ph_duplex_write_frame (stream, buffer, len, deadline, cancellable, NULL);
  ph_duplex_close_write (stream, deadline, cancellable, NULL);
}

typedef struct
{
  ServerMode mode;
  PhListener *listener;
  char *address; /* with /p2p */
} Server;

static void
server_start (Server *server, gboolean lie)
{
  g_autoptr (PhMultiaddr) listen = ph_multiaddr_new_from_string ("/ip4/127.0.0.1/tcp/0", NULL);
  g_autoptr (GPtrArray) addrs = NULL;
  g_autoptr (PhPeerId) id = NULL;
  g_autofree char *id_text = NULL;
  g_autofree char *addr_text = NULL;
  PhListenerOptions opts;

  server->mode.lie = lie;
  server->mode.key = ph_private_key_generate_ed25519 (NULL);
  ph_listener_options_init (&opts);
  server->listener = ph_listener_new (server->mode.key, &opts);
  ph_listener_add_handler (server->listener, PH_AUTONAT_V2_DIAL_REQUEST_PROTOCOL_ID, 10000,
                           serve_dial_request, &server->mode, NULL);
  g_assert_true (ph_listener_start (server->listener, &listen, 1, NULL));
  addrs = ph_listener_get_addrs (server->listener);
  id = ph_peer_id_from_public_key (ph_private_key_get_public_key (server->mode.key));
  id_text = ph_peer_id_to_string (id);
  addr_text = ph_multiaddr_to_string (g_ptr_array_index (addrs, 0));
  server->address = g_strdup_printf ("%s/p2p/%s", addr_text, id_text);
}

static void
server_stop (Server *server)
{
  ph_listener_stop (server->listener);
  ph_listener_free (server->listener);
  ph_private_key_unref (server->mode.key);
  g_free (server->address);
}

static guint
free_port (void)
{
  g_autoptr (GSocket) socket
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (any, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, address, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static PhProbeReport *
probe (const char *server, guint port, PhPrivateKey *owner)
{
  g_auto (PhProbeOptions) options = { 0 };
  g_autoptr (GError) error = NULL;
  PhProbeReport *report;

  options.port = port;
  options.servers = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_multiaddr_unref);
  g_ptr_array_add (options.servers, ph_multiaddr_new_from_string (server, NULL));
  options.allow_private = TRUE;
  options.timeout_ms = 10000;
  options.owner_identity = owner ? ph_private_key_ref (owner) : NULL;
  report = ph_probe_run (&options, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);
  return report;
}

static PhProbeEvidence *
only_evidence (PhProbeReport *report)
{
  g_assert_cmpuint (report->evidence->len, ==, 1);
  return g_ptr_array_index (report->evidence, 0);
}

static void
test_reachable (void)
{
  Server server = { 0 };
  g_autoptr (PhProbeReport) report = NULL;
  PhProbeEvidence *e;
  guint port = free_port ();
  g_autofree char *candidate = g_strdup_printf ("/ip4/127.0.0.1/tcp/%u", port);

  server_start (&server, FALSE);
  report = probe (server.address, port, NULL);
  e = only_evidence (report);
  g_test_message ("%s: %s", ph_probe_result_to_string (e->result), e->detail);
  g_assert_cmpint (e->result, ==, PH_PROBE_RESULT_REACHABLE);
  g_assert_cmpstr (e->address, ==, candidate);
  g_assert_cmpuint (e->local_port, ==, port); /* dialed from the swarm port */
  g_assert_nonnull (strstr (e->detail, "nonce received"));
  g_assert_false (report->port_in_use);
  g_assert_false (report->as_owner);
  /* the probe host listens only while a probe runs */
  g_assert_true (ph_probe_port_is_free (port, G_SOCKET_FAMILY_IPV4));
  server_stop (&server);
}

static void
test_liar (void)
{
  Server server = { 0 };
  g_autoptr (PhProbeReport) report = NULL;
  PhProbeEvidence *e;

  server_start (&server, TRUE);
  report = probe (server.address, free_port (), NULL);
  e = only_evidence (report);
  g_assert_cmpint (e->result, ==, PH_PROBE_RESULT_UNPROVEN);
  server_stop (&server);
}

static void
test_port_in_use (void)
{
  Server server = { 0 };
  g_autoptr (PhProbeReport) report = NULL;
  g_autoptr (GSocketListener) holder = g_socket_listener_new ();
  guint port = free_port ();

  g_assert_true (g_socket_listener_add_inet_port (holder, port, NULL, NULL));
  server_start (&server, FALSE);
  report = probe (server.address, port, NULL);
  g_assert_true (report->port_in_use);
  g_assert_cmpuint (report->evidence->len, ==, 0);
  /* the owner is named: this very test program holds it */
  g_assert_nonnull (report->port_owner);
  g_assert_nonnull (strstr (report->port_owner, "test-probe"));
  g_socket_listener_close (holder);
  server_stop (&server);
}

/* The port's owner is a node whose key we hold: we probe as it, and it answers the dial-back
 * itself (here it has no dial-back handler, like a node without AutoNAT v2: the server gets
 * E_DIAL_BACK_ERROR after connecting — still proof that the node answered there). */
static void
test_as_owner (void)
{
  Server server = { 0 };
  g_autoptr (PhProbeReport) report = NULL;
  g_autoptr (PhPrivateKey) owner_key = ph_private_key_generate_ed25519 (NULL);
  g_autoptr (PhListener) owner = NULL;
  g_autoptr (PhMultiaddr) listen = NULL;
  g_autoptr (PhPeerId) owner_id
      = ph_peer_id_from_public_key (ph_private_key_get_public_key (owner_key));
  g_autofree char *owner_text = ph_peer_id_to_string (owner_id);
  g_autofree char *listen_text = NULL;
  PhListenerOptions opts;
  PhProbeEvidence *e;
  guint port = free_port ();

  listen_text = g_strdup_printf ("/ip4/0.0.0.0/tcp/%u", port);
  listen = ph_multiaddr_new_from_string (listen_text, NULL);
  ph_listener_options_init (&opts);
  owner = ph_listener_new (owner_key, &opts);
  g_assert_true (ph_listener_start (owner, &listen, 1, NULL));

  server_start (&server, FALSE);
  report = probe (server.address, port, owner_key);
  e = only_evidence (report);
  g_test_message ("%s: %s", ph_probe_result_to_string (e->result), e->detail);
  g_assert_true (report->as_owner);
  g_assert_cmpstr (report->peer_id, ==, owner_text);
  g_assert_cmpint (e->result, ==, PH_PROBE_RESULT_REACHABLE);
  server_stop (&server);
  ph_listener_stop (owner);
}

static void
test_no_servers (void)
{
  g_autoptr (PhProbeReport) report = NULL;

  /* without /p2p a server's identity cannot be checked: it is never asked */
  report = probe ("/ip4/127.0.0.1/tcp/9", free_port (), NULL);
  g_assert_cmpuint (report->n_servers, ==, 0);
  g_assert_cmpuint (report->evidence->len, ==, 0);
  g_assert_false (report->port_in_use);
}

typedef struct
{
  GMutex lock;
  GThread *caller;
  GPtrArray *seen; /* "started <server>" / "done <server> <result>" */
  gboolean on_caller_thread;
} Calls;

static void
on_server (const char *server, PhFamily family, const PhProbeEvidence *evidence, gpointer user_data)
{
  Calls *calls = user_data;

  g_mutex_lock (&calls->lock);
  if (g_thread_self () == calls->caller)
    calls->on_caller_thread = TRUE;
  g_assert_cmpint (family, ==, PH_FAMILY_IPV4);
  if (evidence)
    {
      g_assert_cmpstr (evidence->server, ==, server);
      g_ptr_array_add (calls->seen, g_strdup_printf ("done %s %s", server,
                                                     ph_probe_result_to_string (evidence->result)));
    }
  else
    g_ptr_array_add (calls->seen, g_strdup_printf ("started %s", server));
  g_mutex_unlock (&calls->lock);
}

/* The per-server callback: started, then done with the evidence, from the workers. */
static void
test_server_callback (void)
{
  Server server = { 0 };
  g_auto (PhProbeOptions) options = { 0 };
  g_autoptr (PhProbeReport) report = NULL;
  g_autoptr (GError) error = NULL;
  Calls calls = { 0 };
  g_autofree char *started = NULL;
  g_autofree char *done = NULL;

  g_mutex_init (&calls.lock);
  calls.caller = g_thread_self ();
  calls.seen = g_ptr_array_new_with_free_func (g_free);
  server_start (&server, FALSE);
  options.port = free_port ();
  options.servers = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_multiaddr_unref);
  g_ptr_array_add (options.servers, ph_multiaddr_new_from_string (server.address, NULL));
  options.allow_private = TRUE;
  options.timeout_ms = 10000;
  options.on_server = on_server;
  options.on_server_data = &calls;
  report = ph_probe_run (&options, NULL, &error);
  g_assert_no_error (error);

  started = g_strdup_printf ("started %s", server.address);
  done = g_strdup_printf ("done %s reachable", server.address);
  g_assert_cmpuint (calls.seen->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (calls.seen, 0), ==, started);
  g_assert_cmpstr (g_ptr_array_index (calls.seen, 1), ==, done);
  g_assert_false (calls.on_caller_thread);
  server_stop (&server);
  g_ptr_array_unref (calls.seen);
  g_mutex_clear (&calls.lock);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/probe/reachable", test_reachable);
  g_test_add_func ("/probe/liar", test_liar);
  g_test_add_func ("/probe/port-in-use", test_port_in_use);
  g_test_add_func ("/probe/as-owner", test_as_owner);
  g_test_add_func ("/probe/no-servers", test_no_servers);
  g_test_add_func ("/probe/server-callback", test_server_callback);

  return g_test_run ();
}
