/* ph-check.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include "ph-check.h"
#include "ph-probe.h"
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

typedef struct
{
  PhCheckOptions options;
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

  ph_probe_run_async (&probe, g_task_get_cancellable (task), probe_done_cb, g_object_ref (task));
}

/* --- gathering ------------------------------------------------------------------------------- */

static void
gathered (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  if (--data->pending > 0)
    return;
  if (g_task_return_error_if_cancelled (task))
    return;
  /* NetworkManager does not say which IPv6 addresses are privacy ones; the kernel does */
  if (ph_diagnosis_get_nm (data->diagnosis) && ph_diagnosis_get_lan (data->diagnosis))
    ph_nm_facts_mark_temporary ((PhNmFacts *) ph_diagnosis_get_nm (data->diagnosis),
                                ph_diagnosis_get_lan (data->diagnosis));
  start_probe (task);
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
  gathered (task);
}

void
ph_check_run_async (const PhCheckOptions *options, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GTask) lan_task = NULL;
  CheckData *data;

  g_return_if_fail (options != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

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
  g_task_set_task_data (task, data, (GDestroyNotify) check_data_free);

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

PhDiagnosis *
ph_check_run_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
