/* ph-probe.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "p2p/ph-autonat.h"
#include "p2p/ph-connection.h"
#include "p2p/ph-dnsaddr.h"
#include "p2p/ph-listener.h"
#include "net/ph-kubo-repo.h"
#include "net/ph-path.h"
#include "net/ph-port-owner.h"
#include "p2p/ph-peer-id.h"
#include "ph-probe.h"

/* go's server reports OK right after writing the nonce, without waiting for our answer: give our
 * dial-back handler a moment to record it before calling the claim unproven. */
#define NONCE_GRACE_MS 2000
#define MAX_DIAL_DATA 100000

typedef struct
{
  gint ref_count;
  const PhProbeOptions *options;
  PhPrivateKey *identity;
  PhPeerId *self_id;
  PhListener *listener; /* ours, when we hold the port; NULL when probing as the owner */
  PhAutonatNonceBook *nonces;
  gint64 deadline;
  GCancellable *cancellable;

  GMutex lock;
  GCond done_cond;
  guint pending;
  GPtrArray *evidence;
} Probe;

void
ph_probe_options_clear (PhProbeOptions *options)
{
  g_clear_pointer (&options->servers, g_ptr_array_unref);
  g_clear_pointer (&options->owner_identity, ph_private_key_unref);
  g_clear_pointer (&options->owner_repo, g_free);
}

/* The key of the node that owns the port, from its repository: in memory only, never logged. */
static PhPrivateKey *
load_owner_identity (const char *repo)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhKuboIdentity) identity = ph_kubo_repo_load_identity (repo, &error);
  PhPrivateKey *key;
  gsize len;
  const guint8 *data;

  if (!identity)
    {
      g_debug ("the port owner's key: %s", error->message);
      return NULL;
    }
  data = g_bytes_get_data (identity->private_key, &len);
  key = ph_private_key_unmarshal (data, len, &error);
  if (!key)
    g_debug ("the port owner's key: %s", error->message);
  return key;
}

void
ph_probe_report_free (PhProbeReport *report)
{
  if (!report)
    return;
  g_clear_pointer (&report->evidence, g_ptr_array_unref);
  g_clear_pointer (&report->path_ipv4, g_ptr_array_unref);
  g_free (report->peer_id);
  g_free (report->port_owner);
  g_free (report);
}

gboolean
ph_probe_port_is_free (guint port, int family)
{
  union
  {
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
  } addr = { 0 };
  socklen_t len;
  int fd, one = 1, ok;

  fd = socket (family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return TRUE; /* no such family here: nothing can hold the port on it */
  /* SO_REUSEADDR only, never SO_REUSEPORT: a listener with SO_REUSEPORT (go-libp2p's) would
   * otherwise let us in beside it and share its connections. */
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6)
    {
      setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
      addr.v6.sin6_family = AF_INET6;
      addr.v6.sin6_port = htons (port);
      len = sizeof addr.v6;
    }
  else
    {
      addr.v4.sin_family = AF_INET;
      addr.v4.sin_port = htons (port);
      len = sizeof addr.v4;
    }
  ok = bind (fd, (struct sockaddr *) &addr, len) == 0 || errno != EADDRINUSE;
  close (fd);
  return ok;
}

/* --- evidence -------------------------------------------------------------------------------- */

static char *
ip_of (PhMultiaddr *ma)
{
  g_autoptr (GInetAddress) ip = NULL;

  if (!ma || !ph_multiaddr_get_ip (ma, &ip))
    return NULL;
  return g_inet_address_to_string (ip);
}

static PhProbeEvidence *
evidence_new (Probe *probe, PhMultiaddr *server)
{
  PhProbeEvidence *e = ph_probe_evidence_new ();
  g_autofree char *ip = ip_of (server);

  e->server = ph_multiaddr_to_string (server);
  e->group = ph_verdict_group_for_address (ip);
  e->family
      = ph_multiaddr_get_family (server) == G_SOCKET_FAMILY_IPV6 ? PH_FAMILY_IPV6 : PH_FAMILY_IPV4;
  e->result = PH_PROBE_RESULT_ERROR;
  return e;
}

static void
evidence_add (Probe *probe, PhProbeEvidence *e)
{
  g_mutex_lock (&probe->lock);
  g_ptr_array_add (probe->evidence, e);
  g_mutex_unlock (&probe->lock);
}

/* --- the dial-back handler ------------------------------------------------------------------ */

static void
dial_back_handler (PhConnection *connection, PhDuplex *stream, const char *protocol,
                   gint64 deadline, GCancellable *cancellable, gpointer user_data)
{
  PhAutonatNonceBook *nonces = user_data;
  g_autoptr (GError) error = NULL;

  if (!ph_autonat_v2_answer_dial_back (stream, nonces, ph_connection_get_remote_addr (connection),
                                       ph_connection_get_local_addr (connection), deadline,
                                       cancellable, &error))
    g_debug ("dial-back: %s", error->message);
}

/* --- one server ------------------------------------------------------------------------------ */

static gint64
server_deadline (Probe *probe)
{
  return MIN (probe->deadline, ph_deadline_in (PH_PROBE_SERVER_TIMEOUT_MS));
}

static PhConnection *
dial_server (Probe *probe, PhMultiaddr *server, PhProbeEvidence *e, GError **error)
{
  PhDialOptions opts = { 0 };
  g_autoptr (PhMultiaddr) local = NULL;
  g_autoptr (GInetAddress) any = NULL;
  PhConnection *connection;

  /* Dial from the swarm port when we hold it: a NAT that keeps the port shows it to the server,
   * and one that does not is found out (symmetric NAT). */
  if (probe->listener)
    {
      any = g_inet_address_new_any (e->family == PH_FAMILY_IPV6 ? G_SOCKET_FAMILY_IPV6
                                                                : G_SOCKET_FAMILY_IPV4);
      local = ph_multiaddr_new_tcp (any, (guint16) probe->options->port);
      opts.local_addr = local;
      opts.reuse_port = TRUE;
      opts.listener = probe->listener;
    }

  connection = ph_connection_dial (server, probe->identity, NULL, &opts, server_deadline (probe),
                                   probe->cancellable, error);
  if (connection && local)
    e->local_port = probe->options->port;
  if (!connection && local && !g_cancellable_is_cancelled (probe->cancellable))
    {
      /* the bind can fail where the kernel refuses the shared port: an ephemeral one still works */
      g_clear_error (error);
      opts.local_addr = NULL;
      opts.reuse_port = FALSE;
      connection = ph_connection_dial (server, probe->identity, NULL, &opts,
                                       server_deadline (probe), probe->cancellable, error);
    }
  return connection;
}

/* The address to ask about: the IP the server sees, with the port the node listens on (the
 * observed port is the NAT's outbound one and tests nothing). */
static PhMultiaddr *
candidate_for (Probe *probe, PhMultiaddr *observed, PhProbeEvidence *e)
{
  g_autoptr (GInetAddress) ip = NULL;
  PhIpScope scope;

  if (!observed || !ph_multiaddr_get_ip (observed, &ip))
    {
      e->detail = g_strdup ("the server did not say which address it sees");
      return NULL;
    }
  scope = ph_ip_scope_classify_inet (ip);
  if (!ph_ip_scope_is_public (scope) && !probe->options->allow_private)
    {
      g_autofree char *text = g_inet_address_to_string (ip);

      e->detail = g_strdup_printf ("the server sees us at %s (%s), which the internet cannot route",
                                   text, ph_ip_scope_to_string (scope));
      return NULL;
    }
  return ph_multiaddr_new_tcp (ip, (guint16) probe->options->port);
}

static PhDuplex *
open_stream (Probe *probe, PhConnection *connection, const char *protocol, PhProbeEvidence *e)
{
  const char *protocols[] = { protocol, NULL };
  g_autoptr (GError) error = NULL;
  PhDuplex *stream = ph_connection_open_stream (
      connection, protocols, NULL, server_deadline (probe), probe->cancellable, &error);

  if (!stream)
    e->detail = g_strdup (error->message);
  return stream;
}

/* What a v2 answer proves depends on who answers the dial-back: our own listener must show the
 * nonce; the port owner's node (when we probe as it) keeps the nonce to itself, so the server's
 * word that it connected is all there is. */
static void
judge_v2 (Probe *probe, const PhAutonatV2Result *result, gboolean nonce_seen, PhProbeEvidence *e)
{
  gboolean as_owner = probe->listener == NULL;

  if (result->outcome == PH_AUTONAT_V2_OUTCOME_NO_RESPONSE)
    e->result = PH_PROBE_RESULT_NO_ANSWER;
  else if (result->outcome == PH_AUTONAT_V2_OUTCOME_DIAL_DATA_REFUSED)
    e->result = PH_PROBE_RESULT_REFUSED;
  else if (result->status != PH_AUTONAT_V2_RESPONSE_OK)
    e->result = PH_PROBE_RESULT_REFUSED;
  else if (nonce_seen)
    e->result = PH_PROBE_RESULT_REACHABLE;
  else if (result->dial_status == PH_AUTONAT_V2_DIAL_E_DIAL_ERROR)
    e->result = PH_PROBE_RESULT_UNREACHABLE;
  else if (as_owner
           && (result->dial_status == PH_AUTONAT_V2_DIAL_OK
               || result->dial_status == PH_AUTONAT_V2_DIAL_E_DIAL_BACK_ERROR))
    e->result = PH_PROBE_RESULT_REACHABLE;
  else if (result->dial_status == PH_AUTONAT_V2_DIAL_E_DIAL_BACK_ERROR)
    e->result = PH_PROBE_RESULT_DIAL_BACK_FAILED;
  else
    e->result = PH_PROBE_RESULT_UNPROVEN;

  if (result->outcome == PH_AUTONAT_V2_OUTCOME_RESPONSE)
    e->detail
        = g_strdup_printf ("%s, %s%s", ph_autonat_v2_response_status_to_string (result->status),
                           ph_autonat_v2_dial_status_to_string (result->dial_status),
                           nonce_seen ? ", nonce received" : "");
  else
    e->detail = g_strdup (ph_autonat_v2_outcome_to_string (result->outcome));
}

static void
ask_v2 (Probe *probe, PhConnection *connection, PhMultiaddr *candidate, PhProbeEvidence *e)
{
  g_autoptr (PhDuplex) stream = NULL;
  g_autoptr (GError) error = NULL;
  PhAutonatV2Result result = { 0 };
  guint64 nonce;
  gboolean seen;

  e->protocol = PH_PROBE_PROTOCOL_AUTONAT_V2;
  stream = open_stream (probe, connection, PH_AUTONAT_V2_DIAL_REQUEST_PROTOCOL_ID, e);
  if (!stream)
    return;

  nonce = ph_autonat_nonce_book_add_random (probe->nonces);
  if (!ph_autonat_v2_request (stream, candidate, nonce, MAX_DIAL_DATA, &result,
                              server_deadline (probe), probe->cancellable, &error))
    {
      e->detail = g_strdup (error->message);
      ph_autonat_nonce_book_remove (probe->nonces, nonce);
      return;
    }

  seen = ph_autonat_nonce_book_check (probe->nonces, nonce, NULL);
  /* go's server says OK as soon as it wrote the nonce: our handler may be a moment behind */
  if (!seen && probe->listener && result.outcome == PH_AUTONAT_V2_OUTCOME_RESPONSE
      && result.status == PH_AUTONAT_V2_RESPONSE_OK
      && result.dial_status != PH_AUTONAT_V2_DIAL_E_DIAL_ERROR)
    seen = ph_autonat_nonce_book_wait (probe->nonces, nonce,
                                       MIN (probe->deadline, ph_deadline_in (NONCE_GRACE_MS)),
                                       probe->cancellable, NULL);
  judge_v2 (probe, &result, seen, e);
  ph_autonat_nonce_book_remove (probe->nonces, nonce);
}

/* v1 has no nonce: a server's OK is its word, weaker than v2's proof (some reuse the connection we
 * opened instead of dialing anew), so v1 is used only where a server offers nothing else. */
static void
ask_v1 (Probe *probe, PhConnection *connection, PhMultiaddr *candidate, PhProbeEvidence *e)
{
  g_autoptr (PhDuplex) stream = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (PhAutonatV1Result) result = { 0 };
  PhMultiaddr *addrs[] = { candidate };

  e->protocol = PH_PROBE_PROTOCOL_AUTONAT_V1;
  stream = open_stream (probe, connection, PH_AUTONAT_V1_PROTOCOL_ID, e);
  if (!stream)
    return;
  if (!ph_autonat_v1_request (stream, probe->self_id, addrs, 1, &result, server_deadline (probe),
                              probe->cancellable, &error))
    {
      e->detail = g_strdup (error->message);
      return;
    }

  if (result.outcome == PH_AUTONAT_V1_OUTCOME_NO_RESPONSE)
    e->result = PH_PROBE_RESULT_NO_ANSWER;
  else if (result.status == PH_AUTONAT_V1_STATUS_OK)
    e->result = PH_PROBE_RESULT_REACHABLE;
  else if (result.status == PH_AUTONAT_V1_STATUS_E_DIAL_ERROR)
    e->result = PH_PROBE_RESULT_UNREACHABLE;
  else
    e->result = PH_PROBE_RESULT_REFUSED;
  e->detail = g_strdup_printf ("%s%s%s", ph_autonat_v1_status_to_string (result.status),
                               result.status_text ? ": " : "",
                               result.status_text ? result.status_text : "");
}

static void
probe_server (Probe *probe, PhMultiaddr *server)
{
  PhProbeEvidence *e = evidence_new (probe, server);
  g_autoptr (GError) error = NULL;
  g_autoptr (PhConnection) connection = NULL;
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autoptr (PhMultiaddr) candidate = NULL;
  gint64 start = g_get_monotonic_time ();

  if (probe->options->on_server)
    probe->options->on_server (e->server, e->family, NULL, probe->options->on_server_data);
  connection = dial_server (probe, server, e, &error);
  if (connection)
    info = ph_connection_identify (connection, server_deadline (probe), probe->cancellable, &error);
  if (!info)
    {
      e->detail = g_strdup (error->message);
      goto done;
    }
  if (info->observed_addr)
    e->observed = ph_multiaddr_to_string (info->observed_addr);

  if (!ph_identify_info_has_protocol (info, PH_AUTONAT_V2_DIAL_REQUEST_PROTOCOL_ID)
      && !ph_identify_info_has_protocol (info, PH_AUTONAT_V1_PROTOCOL_ID))
    {
      e->result = PH_PROBE_RESULT_UNSUPPORTED;
      e->detail = g_strdup ("the server offers no AutoNAT service");
      goto done;
    }
  candidate = candidate_for (probe, info->observed_addr, e);
  if (!candidate)
    {
      e->result = PH_PROBE_RESULT_NO_CANDIDATE;
      goto done;
    }
  e->address = ph_multiaddr_to_string (candidate);

  if (ph_identify_info_has_protocol (info, PH_AUTONAT_V2_DIAL_REQUEST_PROTOCOL_ID))
    ask_v2 (probe, connection, candidate, e);
  else
    ask_v1 (probe, connection, candidate, e);

done:
  e->ms = (guint) ((g_get_monotonic_time () - start) / 1000);
  if (connection)
    ph_connection_close (connection);
  if (probe->options->on_server)
    probe->options->on_server (e->server, e->family, e, probe->options->on_server_data);
  evidence_add (probe, e);
}

/* --- choosing servers ----------------------------------------------------------------------- */

static gboolean
is_tcp_dialable (PhMultiaddr *ma)
{
  g_autoptr (GSocketAddress) sa = ph_multiaddr_to_socket_address (ma, NULL);

  return sa != NULL && ph_multiaddr_get_peer_id_bytes (ma, NULL) != NULL;
}

/* Resolves /dnsaddr entries and keeps, per server and family, one TCP address, and per /16 or /32
 * group one server: several voices from one network would only look like agreement. */
static GPtrArray *
select_servers (GPtrArray *given, gint64 deadline, GCancellable *cancellable)
{
  g_autoptr (GResolver) resolver = g_resolver_get_default ();
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_multiaddr_unref);

  for (guint i = 0; given && i < given->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) resolved = ph_dnsaddr_resolve (resolver, g_ptr_array_index (given, i),
                                                           deadline, cancellable, &error);

      if (!resolved)
        {
          g_debug ("resolving a server: %s", error->message);
          continue;
        }
      for (guint j = 0; j < resolved->len; j++)
        {
          PhMultiaddr *ma = g_ptr_array_index (resolved, j);
          g_autofree char *ip = ip_of (ma);
          g_autofree char *group = NULL;
          g_autofree char *peer_family = NULL;
          g_autofree char *id_text = NULL;
          gsize id_len = 0;
          const guint8 *id;

          if (!ip || !is_tcp_dialable (ma))
            continue;
          id = ph_multiaddr_get_peer_id_bytes (ma, &id_len);
          group = ph_verdict_group_for_address (ip);
          id_text = g_base64_encode (id, id_len);
          peer_family = g_strdup_printf ("%d/%s", ph_multiaddr_get_family (ma), id_text);
          if (g_hash_table_contains (seen, group) || g_hash_table_contains (seen, peer_family))
            continue;
          g_hash_table_add (seen, g_steal_pointer (&group));
          g_hash_table_add (seen, g_steal_pointer (&peer_family));
          g_ptr_array_add (out, ph_multiaddr_ref (ma));
        }
    }
  return out;
}

/* --- the path --------------------------------------------------------------------------- */

#define PATH_HOPS 3
#define PATH_HOP_TIMEOUT_MS 500

/* The routers past ours tell CGNAT and double NAT apart where our router will not say. */
static GPtrArray *
trace_first_ipv4 (GPtrArray *servers, GCancellable *cancellable)
{
  for (guint i = 0; i < servers->len; i++)
    {
      g_autoptr (GInetAddress) ip = NULL;

      if (ph_multiaddr_get_family (g_ptr_array_index (servers, i)) != G_SOCKET_FAMILY_IPV4
          || !ph_multiaddr_get_ip (g_ptr_array_index (servers, i), &ip))
        continue;
      return ph_path_trace (ip, PATH_HOPS, PATH_HOP_TIMEOUT_MS, cancellable, NULL);
    }
  return NULL;
}

/* --- the whole probe ------------------------------------------------------------------------- */

typedef struct
{
  Probe *probe;
  PhMultiaddr *server;
} Job;

static void
probe_unref (Probe *probe)
{
  if (!g_atomic_int_dec_and_test (&probe->ref_count))
    return;
  g_clear_pointer (&probe->identity, ph_private_key_unref);
  g_clear_pointer (&probe->self_id, ph_peer_id_free);
  g_clear_pointer (&probe->nonces, ph_autonat_nonce_book_unref);
  g_clear_pointer (&probe->evidence, g_ptr_array_unref);
  g_clear_object (&probe->cancellable);
  g_mutex_clear (&probe->lock);
  g_cond_clear (&probe->done_cond);
  g_free (probe);
}

static void
run_job (gpointer data, gpointer user_data)
{
  Job *job = data;
  Probe *probe = job->probe;

  probe_server (probe, job->server);

  g_mutex_lock (&probe->lock);
  probe->pending--;
  g_cond_signal (&probe->done_cond);
  g_mutex_unlock (&probe->lock);

  ph_multiaddr_unref (job->server);
  probe_unref (probe);
  g_free (job);
}

static gboolean
start_listener (Probe *probe, GError **error)
{
  g_autoptr (GPtrArray) addrs
      = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_multiaddr_unref);
  PhListenerOptions opts;
  int families[] = { AF_INET, AF_INET6 };

  ph_listener_options_init (&opts);
  opts.reuse_port = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (families); i++)
    {
      g_autoptr (GInetAddress) any = g_inet_address_new_any (
          families[i] == AF_INET6 ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4);
      g_ptr_array_add (addrs, ph_multiaddr_new_tcp (any, (guint16) probe->options->port));
    }

  probe->listener = ph_listener_new (probe->identity, &opts);
  ph_listener_add_handler (probe->listener, PH_AUTONAT_V2_DIAL_BACK_PROTOCOL_ID, 10000,
                           dial_back_handler, probe->nonces, NULL);
  if (ph_listener_start (probe->listener, (PhMultiaddr *const *) addrs->pdata, addrs->len, error))
    return TRUE;
  /* a host without IPv6 still probes over IPv4 */
  g_clear_error (error);
  g_ptr_array_set_size (addrs, 1);
  return ph_listener_start (probe->listener, (PhMultiaddr *const *) addrs->pdata, 1, error);
}

PhProbeReport *
ph_probe_run (const PhProbeOptions *options, GCancellable *cancellable, GError **error)
{
  g_autoptr (PhProbeReport) report = g_new0 (PhProbeReport, 1);
  GThreadPool *pool;
  g_autoptr (GPtrArray) servers = NULL;
  g_autoptr (PhPrivateKey) owner_identity = NULL;
  Probe *probe;
  gboolean port_free;

  g_return_val_if_fail (options != NULL && options->port > 0 && options->port < 65536, NULL);

  probe = g_new0 (Probe, 1);
  probe->ref_count = 1;
  probe->options = options;
  probe->deadline = ph_deadline_in (options->timeout_ms ? options->timeout_ms : 30000);
  probe->cancellable = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
  probe->nonces = ph_autonat_nonce_book_new ();
  probe->evidence = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_probe_evidence_free);
  g_mutex_init (&probe->lock);
  g_cond_init (&probe->done_cond);

  servers = select_servers (options->servers, probe->deadline, probe->cancellable);
  report->n_servers = servers->len;
  port_free = ph_probe_port_is_free (options->port, AF_INET)
              && ph_probe_port_is_free (options->port, AF_INET6);
  if (!port_free && !options->owner_identity && options->owner_repo && servers->len > 0)
    owner_identity = load_owner_identity (options->owner_repo);
  else if (options->owner_identity)
    owner_identity = ph_private_key_ref (options->owner_identity);

  if (servers->len == 0 || (!port_free && !owner_identity))
    {
      /* Servers dial back the requester's identity: under ours the owner's node would refuse the
       * handshake and look unreachable. Say unknown instead. */
      report->port_in_use = servers->len > 0;
      if (report->port_in_use)
        report->port_owner = ph_port_owner_describe (options->port);
      report->evidence = g_ptr_array_ref (probe->evidence);
      probe_unref (probe);
      return g_steal_pointer (&report);
    }

  if (!port_free)
    {
      probe->identity = g_steal_pointer (&owner_identity);
      report->as_owner = TRUE;
    }
  else if (!(probe->identity = ph_private_key_generate_ed25519 (error))
           || !start_listener (probe, error))
    {
      g_clear_pointer (&probe->listener, ph_listener_free);
      probe_unref (probe);
      return NULL;
    }
  probe->self_id = ph_peer_id_from_public_key (ph_private_key_get_public_key (probe->identity));
  report->peer_id = ph_peer_id_to_string (probe->self_id);

  pool = g_thread_pool_new (run_job, NULL, PH_PROBE_MAX_PARALLEL, FALSE, NULL);
  for (guint i = 0; i < servers->len; i++)
    {
      Job *job = g_new0 (Job, 1);

      job->probe = probe;
      g_atomic_int_inc (&probe->ref_count);
      job->server = ph_multiaddr_ref (g_ptr_array_index (servers, i));
      g_mutex_lock (&probe->lock);
      probe->pending++;
      g_mutex_unlock (&probe->lock);
      g_thread_pool_push (pool, job, NULL);
    }

  /* the path is traced on this thread while the servers are asked */
  report->path_ipv4 = trace_first_ipv4 (servers, probe->cancellable);

  /* Every job holds its own deadline, a little under ours: wait for them all, but never past
   * the deadline plus a second (then cancel and let the pool drain). */
  g_mutex_lock (&probe->lock);
  while (probe->pending > 0)
    if (!g_cond_wait_until (&probe->done_cond, &probe->lock, probe->deadline + G_USEC_PER_SEC))
      {
        g_cancellable_cancel (probe->cancellable);
        break;
      }
  g_mutex_unlock (&probe->lock);
  g_thread_pool_free (pool, FALSE, TRUE);

  if (probe->listener)
    {
      ph_listener_stop (probe->listener);
      g_clear_pointer (&probe->listener, ph_listener_free);
    }

  g_mutex_lock (&probe->lock);
  report->evidence = g_ptr_array_ref (probe->evidence);
  g_mutex_unlock (&probe->lock);
  probe_unref (probe);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  return g_steal_pointer (&report);
}

static void
run_in_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  PhProbeReport *report = ph_probe_run (task_data, cancellable, &error);

  if (report)
    g_task_return_pointer (task, report, (GDestroyNotify) ph_probe_report_free);
  else
    g_task_return_error (task, error);
}

static PhProbeOptions *
options_copy (const PhProbeOptions *options)
{
  PhProbeOptions *copy = g_new0 (PhProbeOptions, 1);

  *copy = *options;
  copy->servers = options->servers ? g_ptr_array_ref (options->servers) : NULL;
  copy->owner_identity
      = options->owner_identity ? ph_private_key_ref (options->owner_identity) : NULL;
  copy->owner_repo = g_strdup (options->owner_repo);
  return copy;
}

static void
options_free (PhProbeOptions *options)
{
  ph_probe_options_clear (options);
  g_free (options);
}

void
ph_probe_run_async (const PhProbeOptions *options, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, ph_probe_run_async);
  g_task_set_task_data (task, options_copy (options), (GDestroyNotify) options_free);
  g_task_run_in_thread (task, run_in_thread);
}

PhProbeReport *
ph_probe_run_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
