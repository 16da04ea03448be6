/* ph-check.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ph-check.h"
#include "ph-probe.h"
#include "net/ph-types.h"
#include "ph-verdict.h"

/* kubo's compiled-in fallback (boxo autoconf/fallbacks.go), TCP entries: the servers a check asks
 * when the user names none. Only ever used on users' machines; tests always pass their own. */
static const char *const default_servers[]
    = { "/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN",
        "/dnsaddr/bootstrap.libp2p.io/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa",
        "/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb",
        "/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt",
        "/dnsaddr/va1.bootstrap.libp2p.io/p2p/12D3KooWKnDdG3iXw9eTFijk3EWSunZcFi54Zka4wmtqtt6rPxc8",
        "/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ",
        NULL };

/* --- progress ------------------------------------------------------------------------------- */

/* One event, with copies of everything it points to: it may wait in a queue. */
typedef struct
{
  PhCheckEventKind kind;
  PhCheckStep step;
  char *summary;
  char *server;
  PhFamily family;
  PhProbeEvidence *evidence;
} QueuedEvent;

static void
queued_event_free (QueuedEvent *event)
{
  g_free (event->summary);
  g_free (event->server);
  g_clear_pointer (&event->evidence, ph_probe_evidence_free);
  g_free (event);
}

static QueuedEvent *
queued_event_new (PhCheckEventKind kind, PhCheckStep step)
{
  QueuedEvent *event = g_new0 (QueuedEvent, 1);

  event->kind = kind;
  event->step = step;
  return event;
}

/* The events of one check, delivered on the caller's context in the order they happened. Worker
 * threads (the probe's servers) queue theirs, and an idle source on that context drains the queue;
 * events made on the context itself first drain the queue, then go out at once. Once the check is
 * finished — just before its GTask returns — nothing more goes out, so the face never hears of a
 * check after its callback. Shared with the probe's threads: reference counted, the queue locked.
 */
typedef struct
{
  gint ref_count;
  GMainContext *context;
  PhCheckProgressFunc func;
  gpointer data;
  GMutex lock;
  GQueue queue;       /* QueuedEvent*, from worker threads */
  gboolean scheduled; /* an idle source will drain the queue */
  gboolean finished;
} Progress;

static Progress *
progress_new (PhCheckProgressFunc func, gpointer data)
{
  Progress *progress = g_new0 (Progress, 1);

  progress->ref_count = 1;
  progress->context = g_main_context_ref_thread_default ();
  progress->func = func;
  progress->data = data;
  g_mutex_init (&progress->lock);
  g_queue_init (&progress->queue);
  return progress;
}

static Progress *
progress_ref (Progress *progress)
{
  g_atomic_int_inc (&progress->ref_count);
  return progress;
}

static void
progress_unref (Progress *progress)
{
  if (!g_atomic_int_dec_and_test (&progress->ref_count))
    return;
  g_queue_clear_full (&progress->queue, (GDestroyNotify) queued_event_free);
  g_mutex_clear (&progress->lock);
  g_main_context_unref (progress->context);
  g_free (progress);
}

static void
progress_deliver (Progress *progress, const QueuedEvent *queued)
{
  PhCheckEvent event = { 0 };

  if (progress->finished || !progress->func)
    return;
  event.kind = queued->kind;
  event.step = queued->step;
  event.summary = queued->summary;
  event.server = queued->server;
  event.family = queued->family;
  event.evidence = queued->evidence;
  progress->func (&event, progress->data);
}

/* On the caller's context: what the worker threads queued, in order. */
static void
progress_flush (Progress *progress)
{
  GQueue pending;
  QueuedEvent *event;

  g_mutex_lock (&progress->lock);
  pending = progress->queue;
  g_queue_init (&progress->queue);
  g_mutex_unlock (&progress->lock);

  while ((event = g_queue_pop_head (&pending)))
    {
      progress_deliver (progress, event);
      queued_event_free (event);
    }
}

static gboolean
progress_idle_cb (gpointer user_data)
{
  Progress *progress = user_data;

  g_mutex_lock (&progress->lock);
  progress->scheduled = FALSE;
  g_mutex_unlock (&progress->lock);
  progress_flush (progress);
  return G_SOURCE_REMOVE;
}

/* From any thread. An idle source of our own rather than g_main_context_invoke (): that would run
 * the function right here, in the worker, whenever the caller's context happens to be free. */
static void
progress_queue (Progress *progress, QueuedEvent *event)
{
  g_autoptr (GSource) source = NULL;

  g_mutex_lock (&progress->lock);
  if (progress->finished)
    {
      g_mutex_unlock (&progress->lock);
      queued_event_free (event);
      return;
    }
  g_queue_push_tail (&progress->queue, event);
  if (!progress->scheduled)
    {
      progress->scheduled = TRUE;
      source = g_idle_source_new ();
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_name (source, "[porthole] check progress");
      g_source_set_callback (source, progress_idle_cb, progress_ref (progress),
                             (GDestroyNotify) progress_unref);
    }
  g_mutex_unlock (&progress->lock);
  if (source)
    g_source_attach (source, progress->context);
}

/* On the caller's context: after whatever the workers queued before it. Takes the event. */
static void
progress_emit (Progress *progress, QueuedEvent *event)
{
  if (!progress)
    {
      queued_event_free (event);
      return;
    }
  progress_flush (progress);
  progress_deliver (progress, event);
  queued_event_free (event);
}

static void
progress_step (Progress *progress, PhCheckEventKind kind, PhCheckStep step, char *summary)
{
  QueuedEvent *event = queued_event_new (kind, step);

  event->summary = summary;
  progress_emit (progress, event);
}

/* Just before the check's GTask returns: the last events out, then silence. */
static void
progress_finish (Progress *progress)
{
  if (!progress)
    return;
  progress_flush (progress);
  g_mutex_lock (&progress->lock);
  progress->finished = TRUE;
  g_queue_clear_full (&progress->queue, (GDestroyNotify) queued_event_free);
  g_mutex_unlock (&progress->lock);
}

/* PhProbeServerFunc: in the probe's worker threads. */
static void
progress_probe_cb (const char *server, PhFamily family, const PhProbeEvidence *evidence,
                   gpointer user_data)
{
  Progress *progress = user_data;
  QueuedEvent *event = queued_event_new (
      evidence ? PH_CHECK_EVENT_PROBE_DONE : PH_CHECK_EVENT_PROBE_STARTED, PH_CHECK_STEP_PROBES);

  event->server = g_strdup (server);
  event->family = family;
  event->evidence = evidence ? ph_probe_evidence_copy (evidence) : NULL;
  progress_queue (progress, event);
}

/* --- the sentences of STEP_DONE -------------------------------------------------------------- */

static char *
network_summary (PhDiagnosis *diagnosis)
{
  const PhLanFacts *lan = ph_diagnosis_get_lan (diagnosis);
  const PhNmFacts *nm = ph_diagnosis_get_nm (diagnosis);
  const PhLanRoute *route;

  if (!lan)
    return g_strdup (_ ("The network interfaces could not be read."));
  route = ph_lan_facts_default_route (lan, AF_INET);
  if (!route)
    route = ph_lan_facts_default_route (lan, AF_INET6);
  if (!route)
    return g_strdup (_ ("No default route: this machine is offline."));
  if (nm && nm->connection_id)
    /* TRANSLATORS: %s is NetworkManager's name of the connection, e.g. "Wired connection 1" */
    return g_strdup_printf (_ ("Network: %s"), nm->connection_id);
  /* TRANSLATORS: %s is the default gateway's address, or the interface's name */
  return g_strdup_printf (_ ("Network: through %s"),
                          route->gateway ? route->gateway : (route->ifname ? route->ifname : "?"));
}

static char *
router_summary (PhDiagnosis *diagnosis)
{
  const PhUpnpFacts *upnp = ph_diagnosis_get_upnp (diagnosis);

  if (!upnp)
    return g_strdup (_ ("The router could not be asked."));
  if (!upnp->found)
    return g_strdup (_ ("No router answered over UPnP."));
  if (upnp->router && upnp->router->friendly_name)
    /* TRANSLATORS: %s is the router's name, e.g. "FRITZ!Box 7590" */
    return g_strdup_printf (_ ("Router: %s"), upnp->router->friendly_name);
  if (upnp->router && upnp->router->model_name)
    return g_strdup_printf (_ ("Router: %s"), upnp->router->model_name);
  return g_strdup (_ ("Router: found over UPnP"));
}

static char *
node_summary (PhDiagnosis *diagnosis)
{
  const PhKuboNode *node = ph_diagnosis_get_node (diagnosis);

  if (!node)
    return g_strdup (_ ("The IPFS node could not be read."));
  switch (node->state)
    {
      case PH_KUBO_STATE_NO_NODE:
        return g_strdup (_ ("No IPFS node on this machine."));
      case PH_KUBO_STATE_NOT_RUNNING:
        return g_strdup (_ ("IPFS node: found, not running"));
      case PH_KUBO_STATE_RUNNING:
        if (node->version && node->version->version)
          /* TRANSLATORS: %s is kubo's version, e.g. "0.40.1" */
          return g_strdup_printf (_ ("IPFS node: kubo %s, running"), node->version->version);
        return g_strdup (_ ("IPFS node: running"));
      case PH_KUBO_STATE_REFUSED:
      case PH_KUBO_STATE_TOO_OLD:
      case PH_KUBO_STATE_FAILED:
      default:
        return g_strdup (_ ("IPFS node: running, but Porthole cannot talk to it"));
    }
}

static char *
probes_summary (GPtrArray *probes)
{
  guint answered = 0;

  if (!probes || probes->len == 0)
    return g_strdup (_ ("No server could be asked."));
  for (guint i = 0; i < probes->len; i++)
    if (((PhProbeEvidence *) g_ptr_array_index (probes, i))->result != PH_PROBE_RESULT_ERROR)
      answered++;
  /* TRANSLATORS: "Servers that answered: 5 of 6" */
  return g_strdup_printf (_ ("Servers that answered: %u of %u"), answered, probes->len);
}

/* --- the check ------------------------------------------------------------------------------- */

typedef struct
{
  PhCheckOptions options;
  Progress *progress;    /* NULL without a progress function */
  guint network_pending; /* LAN and NetworkManager facts still to come */
  PhDiagnosis *diagnosis;
  gint64 started_us;
  guint pending;         /* facts still being gathered before the probe can start */
  guint pending_verdict; /* the probe and the router's facts, both needed for the verdict */
  PhProbeReport *report; /* held until the router's facts are in too */
} CheckData;

static void
check_data_free (CheckData *data)
{
  ph_check_options_clear (&data->options);
  g_clear_pointer (&data->progress, progress_unref);
  g_clear_object (&data->diagnosis);
  g_clear_pointer (&data->report, ph_probe_report_free);
  g_free (data);
}

void
ph_check_options_clear (PhCheckOptions *options)
{
  g_clear_pointer (&options->peers, g_strfreev);
}

const char *const *
ph_check_default_servers (void)
{
  return default_servers;
}

gboolean
ph_check_allow_private (void)
{
  return g_strcmp0 (g_getenv (PH_PROBE_ALLOW_PRIVATE_ENV), "1") == 0;
}

/* --- deciding -------------------------------------------------------------------------------- */

static void
facts_from_lan (PhVerdictFacts *facts, const PhLanFacts *lan)
{
  facts->local_ipv4 = g_ptr_array_new_with_free_func (g_free);
  if (!lan)
    return;
  for (guint i = 0; i < lan->addresses->len; i++)
    {
      const PhLanAddress *a = g_ptr_array_index (lan->addresses, i);

      if (a->family == AF_INET)
        g_ptr_array_add (facts->local_ipv4, g_strdup (a->address));
      else if (a->scope == PH_IP_SCOPE_PUBLIC && !a->deprecated)
        facts->has_global_ipv6 = TRUE;
    }
  facts->has_ipv6_route = ph_lan_facts_default_route (lan, AF_INET6) != NULL;
}

static PhKuboFact
fact_from_verdict (PhVerdict verdict)
{
  return verdict == PH_VERDICT_REACHABLE     ? PH_KUBO_FACT_YES
         : verdict == PH_VERDICT_UNREACHABLE ? PH_KUBO_FACT_NO
                                             : PH_KUBO_FACT_UNKNOWN;
}

static void
decide (CheckData *data, PhProbeReport *report)
{
  g_auto (PhVerdictFacts) facts = { 0 };

  PhUpnpFacts *upnp = ph_diagnosis_get_upnp (data->diagnosis);

  facts_from_lan (&facts, ph_diagnosis_get_lan (data->diagnosis));
  facts.port_in_use = report->port_in_use;
  facts.port_owner = g_strdup (report->port_owner);
  ph_diagnosis_set_port_owner (data->diagnosis, report->port_owner);
  /* the router was asked before the node's port was known: look at its mappings again */
  if (upnp && upnp->swarm_port != ph_diagnosis_get_port (data->diagnosis))
    {
      upnp->swarm_port = ph_diagnosis_get_port (data->diagnosis);
      g_ptr_array_set_size (upnp->warnings, 0);
      ph_upnp_facts_analyse (upnp);
    }
  facts.igd_found = upnp && upnp->found;
  if (facts.igd_found)
    facts.igd_external_ipv4 = g_strdup (upnp->external_address);
  if (report->path_ipv4)
    facts.path_ipv4 = g_ptr_array_ref (report->path_ipv4);
  ph_diagnosis_set_path (data->diagnosis, report->path_ipv4);
  /* on a test topology the "public" IPv6 may be whatever the test made: trust the evidence */
  if (ph_check_allow_private ())
    facts.has_global_ipv6 = facts.has_ipv6_route = TRUE;

  for (PhFamily f = PH_FAMILY_IPV4; f <= PH_FAMILY_IPV6; f++)
    {
      PhFamilyVerdict v = { 0 };

      ph_verdict_decide (&facts, report->evidence, f, &v);
      ph_diagnosis_set_family (data->diagnosis, f, v.verdict, v.reason);
      ph_diagnosis_set_family_causes (data->diagnosis, f, v.causes, v.addresses, v.confident);
      ph_family_verdict_clear (&v);
    }
  ph_diagnosis_take_probes (data->diagnosis, g_steal_pointer (&report->evidence), report->peer_id);

  /* our findings are fresh; the node's own view may be hours old: ours win */
  if (ph_diagnosis_get_node (data->diagnosis))
    ph_kubo_node_diagnose (ph_diagnosis_get_node (data->diagnosis),
                           !upnp         ? PH_KUBO_FACT_UNKNOWN
                           : upnp->found ? PH_KUBO_FACT_YES
                                         : PH_KUBO_FACT_NO,
                           fact_from_verdict (ph_diagnosis_get_verdict (data->diagnosis)));
}

static void
finish (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  ph_diagnosis_set_elapsed_ms (data->diagnosis,
                               (g_get_monotonic_time () - data->started_us) / 1000);
  progress_finish (data->progress);
  if (g_task_return_error_if_cancelled (task))
    return;
  g_task_return_pointer (task, g_object_ref (data->diagnosis), g_object_unref);
}

/* --- probing --------------------------------------------------------------------------------- */

/* The probe and the router's facts run side by side; the verdict needs both. */
static void
probed (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  if (--data->pending_verdict > 0)
    return;
  if (data->report)
    decide (data, data->report);
  finish (task);
}

static void
probe_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  data->report = ph_probe_run_finish (result, &error);
  if (!data->report && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      ph_diagnosis_set_family (data->diagnosis, PH_FAMILY_IPV4, PH_VERDICT_UNKNOWN, error->message);
      ph_diagnosis_set_family (data->diagnosis, PH_FAMILY_IPV6, PH_VERDICT_UNKNOWN, error->message);
    }
  if (data->report)
    progress_step (data->progress, PH_CHECK_EVENT_STEP_DONE, PH_CHECK_STEP_PROBES,
                   probes_summary (data->report->evidence));
  else
    progress_step (data->progress, PH_CHECK_EVENT_STEP_DONE, PH_CHECK_STEP_PROBES,
                   error ? g_strdup (error->message) : NULL);
  probed (task);
}

static void
upnp_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  PhUpnpFacts *facts = ph_upnp_gather_finish (result, &error);

  if (facts)
    ph_diagnosis_take_upnp (data->diagnosis, facts);
  progress_step (data->progress, PH_CHECK_EVENT_STEP_DONE, PH_CHECK_STEP_ROUTER,
                 router_summary (data->diagnosis));
  probed (task);
}

static void
start_probe (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);
  g_auto (PhProbeOptions) probe = { 0 };
  const char *const *servers
      = data->options.peers ? (const char *const *) data->options.peers : default_servers;

  PhKuboNode *node = ph_diagnosis_get_node (data->diagnosis);

  /* the node's own swarm port is the one to check, unless the user named one */
  probe.port = data->options.port;
  if (!probe.port && node && node->swarm_port)
    probe.port = node->swarm_port;
  if (!probe.port)
    probe.port = PH_DEFAULT_PORT;
  ph_diagnosis_set_port (data->diagnosis, probe.port);
  /* if the node holds the port, speak as it — unless the key on disk is not the running node's */
  if (node && node->repo_found && !ph_kubo_node_is_other_node (node))
    probe.owner_repo = g_strdup (node->repo_path);
  probe.timeout_ms = data->options.timeout_s * 1000;
  probe.allow_private = ph_check_allow_private ();
  if (data->progress)
    {
      /* the check's data (and its reference) outlives the probe: probe_done_cb holds the task */
      probe.on_server = progress_probe_cb;
      probe.on_server_data = data->progress;
    }
  probe.servers = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_multiaddr_unref);
  for (guint i = 0; servers[i]; i++)
    {
      g_autoptr (GError) error = NULL;
      PhMultiaddr *ma = ph_multiaddr_new_from_string (servers[i], &error);

      if (ma)
        g_ptr_array_add (probe.servers, ma);
      else
        g_warning ("server %s: %s", servers[i], error->message);
    }

  progress_step (data->progress, PH_CHECK_EVENT_STEP_STARTED, PH_CHECK_STEP_PROBES, NULL);
  ph_probe_run_async (&probe, g_task_get_cancellable (task), probe_done_cb, g_object_ref (task));
}

/* --- gathering ------------------------------------------------------------------------------- */

static void
gathered (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  if (--data->pending > 0)
    return;
  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      progress_finish (data->progress);
      g_task_return_error_if_cancelled (task);
      return;
    }
  /* NetworkManager does not say which IPv6 addresses are privacy ones; the kernel does */
  if (ph_diagnosis_get_nm (data->diagnosis) && ph_diagnosis_get_lan (data->diagnosis))
    ph_nm_facts_mark_temporary ((PhNmFacts *) ph_diagnosis_get_nm (data->diagnosis),
                                ph_diagnosis_get_lan (data->diagnosis));
  start_probe (task);
}

static void
network_gathered (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  if (--data->network_pending == 0)
    progress_step (data->progress, PH_CHECK_EVENT_STEP_DONE, PH_CHECK_STEP_NETWORK,
                   network_summary (data->diagnosis));
}

static void
kubo_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  PhKuboNode *node = ph_kubo_node_read_finish (result, &error);

  if (node)
    ph_diagnosis_take_node (data->diagnosis, node);
  progress_step (data->progress, PH_CHECK_EVENT_STEP_DONE, PH_CHECK_STEP_NODE,
                 node_summary (data->diagnosis));
  gathered (task);
}

static void
read_lan_in_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  PhLanFacts *facts = ph_lan_facts_read (&error);

  if (facts)
    g_task_return_pointer (task, facts, (GDestroyNotify) ph_lan_facts_free);
  else
    g_task_return_error (task, error);
}

static void
lan_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  PhLanFacts *facts = g_task_propagate_pointer (G_TASK (result), &error);

  if (facts)
    ph_diagnosis_take_lan (data->diagnosis, facts);
  else
    ph_diagnosis_set_lan_error (data->diagnosis, error);
  network_gathered (task);
  gathered (task);
}

static void
nm_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  PhNmFacts *facts = ph_nm_facts_read_finish (result, &error);

  if (facts)
    ph_diagnosis_take_nm (data->diagnosis, facts);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("NetworkManager facts: %s", error->message);
  network_gathered (task);
  gathered (task);
}

/* --- replay (tests) -------------------------------------------------------------------------- */

G_LOCK_DEFINE_STATIC (replay);
static char *replay_last_dir;
static guint replay_count;

const char *
ph_check_replay_dir (void)
{
  const char *dir = g_getenv (PH_CHECK_REPLAY_ENV);

  return dir && *dir ? dir : NULL;
}

void
ph_check_reset_replay_for_tests (void)
{
  G_LOCK (replay);
  replay_count = 0;
  g_clear_pointer (&replay_last_dir, g_free);
  G_UNLOCK (replay);
}

/* The n-th call's file, or the last one there is. */
static char *
replay_next_path (const char *dir)
{
  static gboolean said;
  guint n;

  G_LOCK (replay);
  if (g_strcmp0 (dir, replay_last_dir) != 0)
    {
      g_free (replay_last_dir);
      replay_last_dir = g_strdup (dir);
      replay_count = 0;
    }
  n = ++replay_count;
  if (!said)
    {
      said = TRUE;
      g_printerr ("porthole: replaying recorded checks from %s (%s); nothing is probed\n", dir,
                  PH_CHECK_REPLAY_ENV);
    }
  G_UNLOCK (replay);

  for (guint k = n; k >= 1; k--)
    {
      g_autofree char *name = g_strdup_printf ("check-%u.json", k);
      char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_REGULAR) || k == 1)
        return path;
      g_free (path);
    }
  g_assert_not_reached ();
}

static void
replay_substitute_igd_url (JsonNode *root)
{
  const char *url = g_getenv (PH_CHECK_REPLAY_IGD_URL_ENV);
  JsonObject *object, *upnp, *router;
  const char *desc_url;
  g_autoptr (GString) text = NULL;

  if (!url || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  object = json_node_get_object (root);
  if (!json_object_has_member (object, "upnp")
      || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "upnp")))
    return;
  upnp = json_object_get_object_member (object, "upnp");
  if (!json_object_has_member (upnp, "router")
      || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (upnp, "router")))
    return;
  router = json_object_get_object_member (upnp, "router");
  if (!json_object_has_member (router, "desc_url")
      || json_node_get_value_type (json_object_get_member (router, "desc_url")) != G_TYPE_STRING)
    return;
  desc_url = json_object_get_string_member (router, "desc_url");
  if (!strstr (desc_url, PH_CHECK_REPLAY_IGD_URL))
    return;
  text = g_string_new (desc_url);
  g_string_replace (text, PH_CHECK_REPLAY_IGD_URL, url, 0);
  json_object_set_string_member (router, "desc_url", text->str);
}

PhDiagnosis *
ph_check_load_recorded (const char *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *contents = NULL;
  gsize len = 0;
  GStatBuf st;
  JsonNode *root;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "recorded check %s: %s", path,
                   g_strerror (saved));
      return NULL;
    }
  if (st.st_size > PH_CHECK_REPLAY_MAX_FILE_SIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "recorded check %s: larger than %d bytes", path, PH_CHECK_REPLAY_MAX_FILE_SIZE);
      return NULL;
    }
  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  if (len > PH_CHECK_REPLAY_MAX_FILE_SIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "recorded check %s: larger than %d bytes", path, PH_CHECK_REPLAY_MAX_FILE_SIZE);
      return NULL;
    }
  /* json-glib would recurse once per level until the stack overflows */
  if (!ph_json_depth_ok (contents, len, PH_DIAGNOSIS_JSON_MAX_DEPTH))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "recorded check %s: nested deeper than %d levels", path,
                   PH_DIAGNOSIS_JSON_MAX_DEPTH);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, contents, (gssize) len, error))
    {
      g_prefix_error (error, "recorded check %s: ", path);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (!root)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "recorded check %s: empty", path);
      return NULL;
    }
  replay_substitute_igd_url (root);
  return ph_diagnosis_new_from_json (root, error);
}

typedef struct
{
  Progress *progress;
  PhDiagnosis *diagnosis;
  GError *error;
  GQueue events; /* QueuedEvent*, one per tick */
  GSource *timer;
} Replay;

static void
replay_free (Replay *replay)
{
  if (replay->timer)
    {
      g_source_destroy (replay->timer);
      g_source_unref (replay->timer);
    }
  g_queue_clear_full (&replay->events, (GDestroyNotify) queued_event_free);
  g_clear_pointer (&replay->progress, progress_unref);
  g_clear_object (&replay->diagnosis);
  g_clear_error (&replay->error);
  g_free (replay);
}

static void
replay_add (Replay *replay, PhCheckEventKind kind, PhCheckStep step, char *summary)
{
  QueuedEvent *event = queued_event_new (kind, step);

  event->summary = summary;
  g_queue_push_tail (&replay->events, event);
}

/* What a real check would have said, in the order it would have: the facts first, then every
 * probe started (they run side by side), then their answers. */
static void
replay_plan (Replay *replay, gboolean no_upnp)
{
  GPtrArray *probes = ph_diagnosis_get_probes (replay->diagnosis);

  replay_add (replay, PH_CHECK_EVENT_STEP_STARTED, PH_CHECK_STEP_NETWORK, NULL);
  if (!no_upnp)
    replay_add (replay, PH_CHECK_EVENT_STEP_STARTED, PH_CHECK_STEP_ROUTER, NULL);
  replay_add (replay, PH_CHECK_EVENT_STEP_STARTED, PH_CHECK_STEP_NODE, NULL);
  replay_add (replay, PH_CHECK_EVENT_STEP_DONE, PH_CHECK_STEP_NETWORK,
              network_summary (replay->diagnosis));
  replay_add (replay, PH_CHECK_EVENT_STEP_DONE, PH_CHECK_STEP_NODE,
              node_summary (replay->diagnosis));
  replay_add (replay, PH_CHECK_EVENT_STEP_STARTED, PH_CHECK_STEP_PROBES, NULL);
  for (guint i = 0; i < probes->len; i++)
    {
      const PhProbeEvidence *e = g_ptr_array_index (probes, i);
      QueuedEvent *event = queued_event_new (PH_CHECK_EVENT_PROBE_STARTED, PH_CHECK_STEP_PROBES);

      event->server = g_strdup (e->server);
      event->family = e->family;
      g_queue_push_tail (&replay->events, event);
    }
  if (!no_upnp)
    replay_add (replay, PH_CHECK_EVENT_STEP_DONE, PH_CHECK_STEP_ROUTER,
                router_summary (replay->diagnosis));
  for (guint i = 0; i < probes->len; i++)
    {
      const PhProbeEvidence *e = g_ptr_array_index (probes, i);
      QueuedEvent *event = queued_event_new (PH_CHECK_EVENT_PROBE_DONE, PH_CHECK_STEP_PROBES);

      event->server = g_strdup (e->server);
      event->family = e->family;
      event->evidence = ph_probe_evidence_copy (e);
      g_queue_push_tail (&replay->events, event);
    }
  replay_add (replay, PH_CHECK_EVENT_STEP_DONE, PH_CHECK_STEP_PROBES, probes_summary (probes));
}

static gboolean
replay_tick (gpointer user_data)
{
  GTask *task = user_data;
  Replay *replay = g_task_get_task_data (task);
  QueuedEvent *event;

  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)) || replay->error
      || g_queue_is_empty (&replay->events))
    {
      progress_finish (replay->progress);
      g_clear_pointer (&replay->timer, g_source_unref);
      if (g_task_return_error_if_cancelled (task))
        return G_SOURCE_REMOVE;
      if (replay->error)
        g_task_return_error (task, g_steal_pointer (&replay->error));
      else
        g_task_return_pointer (task, g_object_ref (replay->diagnosis), g_object_unref);
      return G_SOURCE_REMOVE;
    }
  event = g_queue_pop_head (&replay->events);
  progress_emit (replay->progress, event);
  return G_SOURCE_CONTINUE;
}

static void
replay_run_async (const PhCheckOptions *options, GCancellable *cancellable,
                  GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autofree char *path = replay_next_path (ph_check_replay_dir ());
  Replay *replay = g_new0 (Replay, 1);
  g_autoptr (GMainContext) context = g_main_context_ref_thread_default ();

  g_task_set_source_tag (task, ph_check_run_async);
  g_task_set_task_data (task, replay, (GDestroyNotify) replay_free);
  g_queue_init (&replay->events);
  if (options->progress)
    replay->progress = progress_new (options->progress, options->progress_data);
  replay->diagnosis = ph_check_load_recorded (path, &replay->error);
  if (replay->diagnosis)
    replay_plan (replay, options->no_upnp);

  /* the timer holds the task; the task's data holds the timer, destroyed when the task goes */
  replay->timer = g_timeout_source_new (PH_CHECK_REPLAY_INTERVAL_MS);
  g_source_set_name (replay->timer, "[porthole] replayed check");
  g_source_set_callback (replay->timer, replay_tick, g_object_ref (task), g_object_unref);
  g_source_attach (replay->timer, context);
}

static void
check_start (const PhCheckOptions *options, GCancellable *cancellable, GAsyncReadyCallback callback,
             gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GTask) lan_task = NULL;
  CheckData *data;

  if (ph_check_replay_dir ())
    {
      replay_run_async (options, cancellable, callback, user_data);
      return;
    }

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ph_check_run_async);
  data = g_new0 (CheckData, 1);
  data->options.port = options->port;
  data->options.timeout_s = options->timeout_s ? options->timeout_s : PH_DEFAULT_TIMEOUT_S;
  data->options.peers = options->peers && options->peers[0] ? g_strdupv (options->peers) : NULL;
  data->options.no_upnp = options->no_upnp;
  data->diagnosis = ph_diagnosis_new ();
  data->started_us = g_get_monotonic_time ();
  data->pending = 3;
  data->pending_verdict = options->no_upnp ? 1 : 2;
  data->network_pending = 2;
  if (options->progress)
    data->progress = progress_new (options->progress, options->progress_data);
  g_task_set_task_data (task, data, (GDestroyNotify) check_data_free);

  /* the steps that start now, told from an idle source rather than from inside this call */
  if (data->progress)
    {
      progress_queue (data->progress,
                      queued_event_new (PH_CHECK_EVENT_STEP_STARTED, PH_CHECK_STEP_NETWORK));
      if (!options->no_upnp)
        progress_queue (data->progress,
                        queued_event_new (PH_CHECK_EVENT_STEP_STARTED, PH_CHECK_STEP_ROUTER));
      progress_queue (data->progress,
                      queued_event_new (PH_CHECK_EVENT_STEP_STARTED, PH_CHECK_STEP_NODE));
    }

  lan_task = g_task_new (NULL, cancellable, lan_read_cb, g_object_ref (task));
  g_task_run_in_thread (lan_task, read_lan_in_thread);

  ph_nm_facts_read_async (cancellable, nm_read_cb, g_object_ref (task));
  /* SSDP waits a second for routers: from the start, beside everything else */
  if (!options->no_upnp)
    {
      PhUpnpOptions upnp = { 0 };

      upnp.swarm_port = options->port ? options->port : PH_DEFAULT_PORT;
      upnp.discover_ms = 1000;
      ph_upnp_gather_async (&upnp, cancellable, upnp_done_cb, g_object_ref (task));
    }
  ph_kubo_node_read_async (&(PhKuboReadOptions){ .timeout_ms = 3000 }, cancellable, kubo_read_cb,
                           g_object_ref (task));
}

/* --- one check at a time ------------------------------------------------------------------ */

/* A check holds the swarm port while it probes: two at once (the window's and the monitor's in
 * --background) would find each other's listener and say "port in use". So checks in one process
 * run one after another; a check asked for while another runs waits, and can be cancelled while
 * it waits. */
typedef struct
{
  PhCheckOptions options; /* a copy; progress and its data as given */
  gulong cancelled_id;
} Waiting;

static GMutex queue_lock;
static GQueue waiting_checks = G_QUEUE_INIT; /* GTask*, with Waiting as task data */
static gboolean check_running;

static void
waiting_free (Waiting *waiting)
{
  ph_check_options_clear (&waiting->options);
  g_free (waiting);
}

static void
start_next (void);

static void
queued_check_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) outer = user_data;
  GError *error = NULL;
  PhDiagnosis *diagnosis = g_task_propagate_pointer (G_TASK (result), &error);

  g_mutex_lock (&queue_lock);
  check_running = FALSE;
  g_mutex_unlock (&queue_lock);
  if (diagnosis)
    g_task_return_pointer (outer, diagnosis, g_object_unref);
  else
    g_task_return_error (outer, error);
  start_next ();
}

static gboolean
start_in_context (gpointer user_data)
{
  g_autoptr (GTask) outer = user_data;
  Waiting *waiting = g_task_get_task_data (outer);
  GCancellable *cancellable = g_task_get_cancellable (outer);

  if (waiting->cancelled_id)
    g_cancellable_disconnect (cancellable, waiting->cancelled_id);
  waiting->cancelled_id = 0;
  if (g_task_return_error_if_cancelled (outer))
    {
      g_mutex_lock (&queue_lock);
      check_running = FALSE;
      g_mutex_unlock (&queue_lock);
      start_next ();
      return G_SOURCE_REMOVE;
    }
  check_start (&waiting->options, cancellable, queued_check_done_cb, g_object_ref (outer));
  return G_SOURCE_REMOVE;
}

/* Takes the next waiting check, if none runs, and starts it on its caller's context. */
static void
start_next (void)
{
  GTask *next;

  g_mutex_lock (&queue_lock);
  if (check_running || (next = g_queue_pop_head (&waiting_checks)) == NULL)
    {
      g_mutex_unlock (&queue_lock);
      return;
    }
  check_running = TRUE;
  g_mutex_unlock (&queue_lock);
  g_main_context_invoke_full (g_task_get_context (next), G_PRIORITY_DEFAULT, start_in_context, next,
                              NULL);
}

/* The caller cancelled while waiting: leave the queue and answer at once (from an idle, as
 * g_cancellable_connect may call this inside g_cancellable_cancel). */
static gboolean
return_cancelled (gpointer user_data)
{
  g_autoptr (GTask) outer = user_data;
  Waiting *waiting = g_task_get_task_data (outer);

  /* not from inside the handler: here it is allowed, and a reset-and-cancel later finds
   * nothing of ours connected */
  g_cancellable_disconnect (g_task_get_cancellable (outer), waiting->cancelled_id);
  waiting->cancelled_id = 0;
  g_task_return_error_if_cancelled (outer);
  return G_SOURCE_REMOVE;
}

static void
waiting_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  GTask *outer = user_data;
  gboolean was_waiting;

  g_mutex_lock (&queue_lock);
  was_waiting = g_queue_remove (&waiting_checks, outer);
  g_mutex_unlock (&queue_lock);
  if (was_waiting)
    {
      GSource *idle = g_idle_source_new ();

      /* the queue's reference goes to the idle */
      g_source_set_callback (idle, return_cancelled, outer, NULL);
      g_source_attach (idle, g_task_get_context (outer));
      g_source_unref (idle);
    }
}

void
ph_check_run_async (const PhCheckOptions *options, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *outer;
  Waiting *waiting;

  g_return_if_fail (options != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  /* main() did this already; a caller that is not Porthole's main() (a test) gets it here, on
   * its thread, before the check starts threads of its own */
  ph_types_ensure ();
  outer = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (outer, ph_check_run_async);
  waiting = g_new0 (Waiting, 1);
  waiting->options = *options;
  waiting->options.peers = g_strdupv (options->peers);
  g_task_set_task_data (outer, waiting, (GDestroyNotify) waiting_free);

  g_mutex_lock (&queue_lock);
  g_queue_push_tail (&waiting_checks, outer); /* the queue holds the reference */
  g_mutex_unlock (&queue_lock);
  if (cancellable)
    waiting->cancelled_id
        = g_cancellable_connect (cancellable, G_CALLBACK (waiting_cancelled_cb), outer, NULL);
  start_next ();
}

PhDiagnosis *
ph_check_run_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ph_check_run_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
