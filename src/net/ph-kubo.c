/* ph-kubo.c: the user's kubo node — found, read, diagnosed, and changed on request
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "ph-kubo-private.h"
#include "ph-kubo.h"

/* ---- advice ---- */

static void
advice_free (PhKuboAdvice *advice)
{
  g_free (advice->id);
  g_free (advice->message);
  g_free (advice->key);
  g_free (advice);
}

G_GNUC_PRINTF (4, 5)
static void
advice_add (GPtrArray *list, const char *id, const char *key, const char *format, ...)
{
  PhKuboAdvice *advice = g_new0 (PhKuboAdvice, 1);
  va_list args;

  advice->id = g_strdup (id);
  advice->key = g_strdup (key);
  va_start (args, format);
  advice->message = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (list, advice);
}

/* ---- the node ---- */

static PhKuboNode *
node_new (void)
{
  PhKuboNode *node = g_new0 (PhKuboNode, 1);

  node->warnings = g_ptr_array_new_with_free_func ((GDestroyNotify) advice_free);
  node->suggestions = g_ptr_array_new_with_free_func ((GDestroyNotify) advice_free);
  return node;
}

void
ph_kubo_node_free (PhKuboNode *node)
{
  if (node == NULL)
    return;
  g_free (node->error);
  g_free (node->repo_path);
  g_free (node->repo_peer_id);
  g_free (node->endpoint);
  ph_kubo_version_free (node->version);
  ph_kubo_id_free (node->id);
  ph_kubo_settings_free (node->settings);
  ph_kubo_autonat_free (node->autonat);
  g_free (node->autonat_error);
  g_ptr_array_unref (node->warnings);
  g_ptr_array_unref (node->suggestions);
  g_free (node);
}

gboolean
ph_kubo_node_is_found (const PhKuboNode *node)
{
  g_return_val_if_fail (node != NULL, FALSE);
  return node->state != PH_KUBO_STATE_NO_NODE;
}

gboolean
ph_kubo_node_is_running (const PhKuboNode *node)
{
  g_return_val_if_fail (node != NULL, FALSE);
  return node->state == PH_KUBO_STATE_RUNNING || node->state == PH_KUBO_STATE_REFUSED
         || node->state == PH_KUBO_STATE_TOO_OLD || node->version != NULL;
}

const char *
ph_kubo_node_get_peer_id (const PhKuboNode *node)
{
  g_return_val_if_fail (node != NULL, NULL);
  return node->id != NULL ? node->id->id : node->repo_peer_id;
}

gboolean
ph_kubo_node_is_other_node (const PhKuboNode *node)
{
  g_return_val_if_fail (node != NULL, FALSE);
  return node->id != NULL && node->repo_peer_id != NULL
         && g_strcmp0 (node->id->id, node->repo_peer_id) != 0;
}

const char *
ph_kubo_state_to_string (PhKuboState state)
{
  switch (state)
    {
      case PH_KUBO_STATE_NO_NODE:
        return "no-node";
      case PH_KUBO_STATE_NOT_RUNNING:
        return "not-running";
      case PH_KUBO_STATE_REFUSED:
        return "refused";
      case PH_KUBO_STATE_TOO_OLD:
        return "too-old";
      case PH_KUBO_STATE_RUNNING:
        return "running";
      case PH_KUBO_STATE_FAILED:
      default:
        return "failed";
    }
}

/* ---- diagnosis ---- */

static void
diagnose_exposed (PhKuboNode *node)
{
  const PhKuboSettings *settings = node->settings;

  for (guint i = 0; settings->api[i] != NULL; i++)
    {
      g_auto (PhKuboAddr) addr = { 0 };

      if (!ph_kubo_addr_parse (settings->api[i], &addr, NULL) || ph_kubo_addr_is_local_only (&addr))
        continue;
      /* Two whole sentences rather than one with a fragment spliced in, so each translates. */
      if (settings->n_authorizations > 0)
        advice_add (node->warnings, "api-exposed", "Addresses.API",
                    /* TRANSLATORS: the first %s is a multiaddr, the second the default one
                     * (/ip4/127.0.0.1/tcp/5001); API.Authorizations and Addresses.API are config
                     * keys, not to be translated. */
                    _ ("The node's RPC API listens on %s, which other machines can reach. Anyone "
                       "who can connect to it controls the node — its settings, keys and files "
                       "(API.Authorizations asks for a secret, but plain HTTP sends it "
                       "unencrypted). Set Addresses.API to %s unless you need it."),
                    settings->api[i], PH_KUBO_DEFAULT_API_ADDRESS);
      else
        advice_add (node->warnings, "api-exposed", "Addresses.API",
                    /* TRANSLATORS: the first %s is a multiaddr, the second the default one
                     * (/ip4/127.0.0.1/tcp/5001); API.Authorizations and Addresses.API are config
                     * keys, not to be translated. */
                    _ ("The node's RPC API listens on %s, which other machines can reach. Anyone "
                       "who can connect to it controls the node — its settings, keys and files, "
                       "as no API.Authorizations secret protects it. Set Addresses.API to %s "
                       "unless you need it."),
                    settings->api[i], PH_KUBO_DEFAULT_API_ADDRESS);
      break;
    }
  for (guint i = 0; settings->gateway[i] != NULL; i++)
    {
      g_auto (PhKuboAddr) addr = { 0 };

      if (!ph_kubo_addr_parse (settings->gateway[i], &addr, NULL)
          || ph_kubo_addr_is_local_only (&addr))
        continue;
      advice_add (
          node->warnings, "gateway-exposed", "Addresses.Gateway",
          _ ("The node's HTTP gateway listens on %s, which other machines can reach: anyone "
             "who can connect can make your node fetch and serve any content, with your "
             "bandwidth and your address. Set Addresses.Gateway to /ip4/127.0.0.1/tcp/8080, "
             "or Gateway.NoFetch to true."),
          settings->gateway[i]);
      break;
    }
}

static void
diagnose_nat (PhKuboNode *node, PhKuboFact router_upnp, PhKuboFact reachable)
{
  const PhKuboSettings *settings = node->settings;

  if (settings->disable_nat_port_map)
    {
      if (router_upnp == PH_KUBO_FACT_YES)
        advice_add (
            node->warnings, "nat-port-map-disabled", "Swarm.DisableNatPortMap",
            _ ("Your router offers automatic port forwarding (UPnP), but the node has NAT "
               "port mapping turned off (Swarm.DisableNatPortMap is true), so it never asks "
               "the router to forward its port. Turning it on is the simplest fix."));
      else if (router_upnp == PH_KUBO_FACT_NO)
        advice_add (
            node->warnings, "nat-port-map-disabled", "Swarm.DisableNatPortMap",
            _ ("The node has NAT port mapping turned off (Swarm.DisableNatPortMap is true). "
               "Your router does not offer UPnP either, so turning it on would not help now."));
      else
        advice_add (
            node->warnings, "nat-port-map-disabled", "Swarm.DisableNatPortMap",
            _ ("The node has NAT port mapping turned off (Swarm.DisableNatPortMap is true): "
               "it will not ask your router to forward its port, even if the router could."));
    }
  if (node->swarm_ports.tcp_random && node->swarm_ports.tcp4 == 0 && node->swarm_ports.tcp6 == 0)
    advice_add (
        node->warnings, "swarm-port-random", "Addresses.Swarm",
        _ ("Addresses.Swarm asks for TCP port 0, so the node takes a new random port at every "
           "start, and no port forwarding rule can follow it. Give it a fixed port such as "
           "4001."));
  else if (node->swarm_ports.tcp4 == 0 && node->swarm_ports.tcp6 == 0)
    advice_add (
        node->warnings, "no-tcp-listener", "Addresses.Swarm",
        _ ("The node listens on no plain TCP address (Addresses.Swarm). Porthole checks TCP, "
           "and most peers dial TCP or QUIC: add /ip4/0.0.0.0/tcp/4001 and /ip6/::/tcp/4001."));
  if (settings->relay_client == PH_KUBO_FLAG_FALSE
      && ph_kubo_flag_get (settings->hole_punching, TRUE))
    advice_add (node->warnings, "hole-punching-without-relay-client", "Swarm.RelayClient.Enabled",
                _ ("Hole punching (Swarm.EnableHolePunching) needs the relay client, which is off "
                   "(Swarm.RelayClient.Enabled is false): behind NAT the node can neither use a "
                   "relay nor punch through."));
  else if (settings->relay_client == PH_KUBO_FLAG_FALSE && reachable == PH_KUBO_FACT_NO)
    advice_add (node->warnings, "relay-client-disabled", "Swarm.RelayClient.Enabled",
                _ ("The node is not reachable and its relay client is off "
                   "(Swarm.RelayClient.Enabled is false): peers cannot reach it at all."));
}

/* A reachable node can serve the network; kubo's defaults already do, so only opt-outs count. */
static void
diagnose_public_node (PhKuboNode *node)
{
  const PhKuboSettings *settings = node->settings;
  const char *routing = settings->routing_type;

  if (settings->relay_service == PH_KUBO_FLAG_FALSE)
    advice_add (node->suggestions, "relay-service", "Swarm.RelayService.Enabled",
                _ ("Your node is reachable: turning the relay service back on "
                   "(Swarm.RelayService.Enabled true) lets it help peers behind NAT connect, with "
                   "kubo's strict limits on what it relays."));
  if (routing != NULL
      && (g_ascii_strcasecmp (routing, "autoclient") == 0
          || g_ascii_strcasecmp (routing, "dhtclient") == 0))
    advice_add (
        node->suggestions, "dht-server", "Routing.Type",
        _ ("Your node is reachable, but Routing.Type %s keeps it a DHT client. With \"auto\" "
           "it becomes a DHT server while it stays reachable, and helps others find content."),
        routing);
  if (settings->autonat_service_mode != NULL
      && g_ascii_strcasecmp (settings->autonat_service_mode, "disabled") == 0)
    advice_add (
        node->suggestions, "autonat-service", "AutoNAT.ServiceMode",
        _ ("Your node is reachable: with AutoNAT.ServiceMode \"enabled\" it would tell other "
           "nodes whether they are reachable, as Porthole's servers do for you."));
}

void
ph_kubo_node_diagnose (PhKuboNode *node, PhKuboFact router_upnp, PhKuboFact reachable)
{
  g_return_if_fail (node != NULL);

  g_ptr_array_set_size (node->warnings, 0);
  g_ptr_array_set_size (node->suggestions, 0);

  if (node->config_shared)
    advice_add (
        node->warnings, "config-readable-by-others", NULL,
        _ ("The node's config file in %s can be read by other users of this machine, and it "
           "holds the node's private key. Make it private: chmod 600 %s/config"),
        node->repo_path, node->repo_path);
  if (ph_kubo_node_is_other_node (node))
    advice_add (node->warnings, "other-node", NULL,
                _ ("The node answering at %s (%s) is not the one whose repository is in %s (%s). "
                   "Porthole reads the first, and cannot probe as it."),
                node->endpoint, node->id->id, node->repo_path, node->repo_peer_id);
  if (node->state == PH_KUBO_STATE_RUNNING && node->id != NULL && node->id->addresses[0] == NULL)
    advice_add (node->warnings, "offline", NULL,
                _ ("The daemon runs offline (ipfs daemon --offline): it has no network at all. "
                   "Start it without --offline."));
  if (node->settings == NULL)
    return;
  diagnose_exposed (node);
  diagnose_nat (node, router_upnp, reachable);
  if (reachable == PH_KUBO_FACT_YES)
    diagnose_public_node (node);
}

PhKuboFact
ph_kubo_node_own_reachability (const PhKuboNode *node)
{
  g_return_val_if_fail (node != NULL, PH_KUBO_FACT_UNKNOWN);

  if (node->autonat == NULL)
    return PH_KUBO_FACT_UNKNOWN;
  switch (node->autonat->reachability)
    {
      case PH_KUBO_REACHABILITY_PUBLIC:
        return PH_KUBO_FACT_YES;
      case PH_KUBO_REACHABILITY_PRIVATE:
        return PH_KUBO_FACT_NO;
      case PH_KUBO_REACHABILITY_UNKNOWN:
      default:
        return PH_KUBO_FACT_UNKNOWN;
    }
}

const PhKuboAdvice *
ph_kubo_node_find_advice (const PhKuboNode *node, const char *id)
{
  g_return_val_if_fail (node != NULL, NULL);
  g_return_val_if_fail (id != NULL, NULL);

  for (guint i = 0; i < node->warnings->len; i++)
    if (g_str_equal (((PhKuboAdvice *) g_ptr_array_index (node->warnings, i))->id, id))
      return g_ptr_array_index (node->warnings, i);
  for (guint i = 0; i < node->suggestions->len; i++)
    if (g_str_equal (((PhKuboAdvice *) g_ptr_array_index (node->suggestions, i))->id, id))
      return g_ptr_array_index (node->suggestions, i);
  return NULL;
}

/* ---- reading ---- */

typedef struct
{
  char *repo_path;
  char *api_address;
  guint timeout_ms;
  gboolean repo_exists; /* found, even if its config could not be used */
  PhKuboNode *node;
  PhKuboRepo *repo;
  PhKuboClient *client;
} NodeRead;

static void
node_read_free (NodeRead *read)
{
  g_free (read->repo_path);
  g_free (read->api_address);
  ph_kubo_node_free (read->node);
  ph_kubo_repo_free (read->repo);
  g_clear_object (&read->client);
  g_free (read);
}

/* The port actually bound, from id's addresses, when the config asks for a random one. */
static guint16
node_port_from_id (const PhKuboId *id)
{
  for (guint i = 0; id != NULL && id->addresses[i] != NULL; i++)
    {
      g_auto (PhKuboAddr) addr = { 0 };

      if (ph_kubo_addr_parse (id->addresses[i], &addr, NULL) && addr.plain_tcp && addr.port != 0
          && (addr.kind == PH_KUBO_HOST_IP4 || addr.kind == PH_KUBO_HOST_IP6))
        return addr.port;
    }
  return 0;
}

/* Every path ends here: fills what the facts allow and returns the node. */
static void
node_read_finish_up (GTask *task, PhKuboState state, const GError *error)
{
  NodeRead *read = g_task_get_task_data (task);
  PhKuboNode *node = read->node;

  node->state = state;
  if (error != NULL && node->error == NULL)
    node->error = g_strdup (error->message);
  if (node->settings == NULL && read->repo != NULL)
    {
      node->settings = ph_kubo_settings_copy (read->repo->settings);
      node->settings_source = PH_KUBO_SETTINGS_FILE;
    }
  if (node->settings != NULL)
    {
      ph_kubo_settings_get_swarm_ports (node->settings, &node->swarm_ports);
      node->swarm_port = ph_kubo_swarm_ports_primary (&node->swarm_ports);
      if (node->swarm_port == 0 && node->swarm_ports.tcp_random)
        node->swarm_port = node_port_from_id (node->id);
    }
  ph_kubo_node_diagnose (node, PH_KUBO_FACT_UNKNOWN, ph_kubo_node_own_reachability (node));
  g_task_return_pointer (task, g_steal_pointer (&read->node), (GDestroyNotify) ph_kubo_node_free);
}

/* An RPC failure: the state it means, or FALSE when the read must stop (cancelled). */
static gboolean
node_read_failed (GTask *task, GError *error)
{
  NodeRead *read = g_task_get_task_data (task);
  PhKuboState state = PH_KUBO_STATE_FAILED;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, error);
      return FALSE;
    }
  if (g_error_matches (error, PH_KUBO_ERROR, PH_KUBO_ERROR_NOT_RUNNING)
      || g_error_matches (error, PH_KUBO_ERROR, PH_KUBO_ERROR_CLOSED))
    state = read->repo_exists ? PH_KUBO_STATE_NOT_RUNNING : PH_KUBO_STATE_NO_NODE;
  else if (g_error_matches (error, PH_KUBO_ERROR, PH_KUBO_ERROR_REFUSED))
    state = PH_KUBO_STATE_REFUSED;
  node_read_finish_up (task, state, error);
  g_error_free (error);
  return TRUE;
}

static void
node_read_autonat_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  NodeRead *read = g_task_get_task_data (task);
  GError *error = NULL;

  read->node->autonat = ph_kubo_client_autonat_finish (read->client, result, &error);
  if (read->node->autonat == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, error);
          return;
        }
      /* The rest stands without it (offline daemon, refused path, …). */
      read->node->autonat_error = g_strdup (error->message);
      g_error_free (error);
    }
  node_read_finish_up (task, PH_KUBO_STATE_RUNNING, NULL);
}

static void
node_read_config_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  NodeRead *read = g_task_get_task_data (task);
  PhKuboNode *node = read->node;
  g_autoptr (JsonNode) config = NULL;
  GError *error = NULL;

  config = ph_kubo_client_config_show_finish (read->client, result, &error);
  if (config != NULL)
    node->settings = ph_kubo_settings_new_from_json (config, &error);
  if (node->settings != NULL)
    {
      node->settings_source = PH_KUBO_SETTINGS_RPC;
      /* config/show scrubs API.Authorizations; the file still knows. */
      if (read->repo != NULL)
        node->settings->n_authorizations = read->repo->settings->n_authorizations;
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, error);
      return;
    }
  else
    /* The file is the fallback (node_read_finish_up); a refused config is no reason to stop. */
    g_clear_error (&error);

  if (ph_kubo_version_compare (node->version, PH_KUBO_AUTONAT_VERSION_MAJOR,
                               PH_KUBO_AUTONAT_VERSION_MINOR)
      < 0)
    {
      node->autonat_error = g_strdup_printf (
          "kubo %s cannot tell its own reachability: swarm/addrs/autonat arrived in 0.40",
          node->version->version);
      node_read_finish_up (task, PH_KUBO_STATE_RUNNING, NULL);
      return;
    }
  ph_kubo_client_autonat_async (read->client, g_task_get_cancellable (task),
                                node_read_autonat_ready, g_object_ref (task));
}

static void
node_read_id_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  NodeRead *read = g_task_get_task_data (task);
  GError *error = NULL;

  read->node->id = ph_kubo_client_id_finish (read->client, result, &error);
  if (read->node->id == NULL)
    {
      node_read_failed (task, error);
      return;
    }
  ph_kubo_client_config_show_async (read->client, g_task_get_cancellable (task),
                                    node_read_config_ready, g_object_ref (task));
}

static void
node_read_version_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  NodeRead *read = g_task_get_task_data (task);
  PhKuboNode *node = read->node;
  GError *error = NULL;

  node->version = ph_kubo_client_version_finish (read->client, result, &error);
  if (node->version == NULL)
    {
      node_read_failed (task, error);
      return;
    }
  if (ph_kubo_version_compare (node->version, PH_KUBO_MIN_VERSION_MAJOR, PH_KUBO_MIN_VERSION_MINOR)
      < 0)
    {
      node->error = g_strdup_printf ("kubo %s is too old for Porthole, which needs %u.%u or newer",
                                     node->version->version, PH_KUBO_MIN_VERSION_MAJOR,
                                     PH_KUBO_MIN_VERSION_MINOR);
      node_read_finish_up (task, PH_KUBO_STATE_TOO_OLD, NULL);
      return;
    }
  ph_kubo_client_id_async (read->client, g_task_get_cancellable (task), node_read_id_ready,
                           g_object_ref (task));
}

static void
node_read_repo_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  NodeRead *read = g_task_get_task_data (task);
  PhKuboNode *node = read->node;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) client_error = NULL;

  read->repo = ph_kubo_repo_open_finish (result, &error);
  if (read->repo == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      /* No repository, or one we cannot read: a daemon may still answer at the default. */
      if (!g_error_matches (error, PH_KUBO_ERROR, PH_KUBO_ERROR_NO_NODE))
        {
          read->repo_exists = TRUE;
          node->error = g_strdup (error->message);
        }
    }
  else
    {
      read->repo_exists = TRUE;
      node->repo_found = TRUE;
      node->config_shared = read->repo->config_shared;
      node->repo_peer_id = g_strdup (read->repo->peer_id);
    }

  if (read->api_address != NULL)
    read->client = ph_kubo_client_new (
        read->api_address, read->repo != NULL ? read->repo->authorization : NULL, &client_error);
  else
    read->client = ph_kubo_client_new_for_repo (read->repo, &client_error);
  if (read->client == NULL)
    {
      node_read_finish_up (task, PH_KUBO_STATE_FAILED, client_error);
      return;
    }
  ph_kubo_client_set_timeout (read->client, read->timeout_ms);
  node->endpoint = g_strdup (ph_kubo_client_get_endpoint (read->client));
  ph_kubo_client_version_async (read->client, g_task_get_cancellable (task),
                                node_read_version_ready, g_object_ref (task));
}

void
ph_kubo_node_read_async (const PhKuboReadOptions *options, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  NodeRead *read;

  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ph_kubo_node_read_async);
  g_task_set_name (task, "[porthole] kubo node");

  read = g_new0 (NodeRead, 1);
  read->repo_path = options != NULL && options->repo_path != NULL ? g_strdup (options->repo_path)
                                                                  : ph_kubo_repo_default_path ();
  read->api_address = g_strdup (options != NULL ? options->api_address : NULL);
  read->timeout_ms = options != NULL && options->timeout_ms > 0 ? options->timeout_ms
                                                                : PH_KUBO_DEFAULT_TIMEOUT_MS;
  read->node = node_new ();
  read->node->repo_path = g_strdup (read->repo_path);
  g_task_set_task_data (task, read, (GDestroyNotify) node_read_free);

  ph_kubo_repo_open_async (read->repo_path, cancellable, node_read_repo_ready, g_object_ref (task));
}

PhKuboNode *
ph_kubo_node_read_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ph_kubo_node_read_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- JSON ---- */

static void
json_add_string_or_null (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
json_add_strv (JsonBuilder *builder, const char *name, char **values)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    json_builder_add_string_value (builder, values[i]);
  json_builder_end_array (builder);
}

static void
json_add_port (JsonBuilder *builder, const char *name, guint16 port)
{
  json_builder_set_member_name (builder, name);
  if (port != 0)
    json_builder_add_int_value (builder, port);
  else
    json_builder_add_null_value (builder);
}

static void
json_add_boolean (JsonBuilder *builder, const char *name, gboolean value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

static void
json_add_advice (JsonBuilder *builder, const char *name, GPtrArray *list)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; i < list->len; i++)
    {
      const PhKuboAdvice *advice = g_ptr_array_index (list, i);

      json_builder_begin_object (builder);
      json_add_string_or_null (builder, "id", advice->id);
      json_add_string_or_null (builder, "message", advice->message);
      json_add_string_or_null (builder, "key", advice->key);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/* Effective values: what kubo does with the config, its defaults applied. */
static void
json_add_settings (JsonBuilder *builder, const PhKuboNode *node)
{
  const PhKuboSettings *settings = node->settings;

  json_builder_set_member_name (builder, "settings");
  if (settings == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  json_builder_begin_object (builder);
  json_add_strv (builder, "swarm", settings->swarm);
  json_add_strv (builder, "api", settings->api);
  json_add_strv (builder, "gateway", settings->gateway);
  json_add_strv (builder, "announce", settings->announce);
  json_add_strv (builder, "append_announce", settings->append_announce);
  json_add_strv (builder, "no_announce", settings->no_announce);
  json_add_boolean (builder, "nat_port_map", !settings->disable_nat_port_map);
  json_add_boolean (builder, "relay_client", ph_kubo_flag_get (settings->relay_client, TRUE));
  json_add_boolean (builder, "relay_service", ph_kubo_flag_get (settings->relay_service, TRUE));
  json_add_boolean (builder, "hole_punching", ph_kubo_flag_get (settings->hole_punching, TRUE));
  json_add_string_or_null (builder, "autonat_service",
                           settings->autonat_service_mode != NULL ? settings->autonat_service_mode
                                                                  : "enabled");
  json_add_string_or_null (builder, "routing_type",
                           settings->routing_type != NULL ? settings->routing_type : "auto");
  json_add_boolean (builder, "api_authorizations", settings->n_authorizations > 0);
  json_builder_end_object (builder);
}

static void
json_add_reachability (JsonBuilder *builder, const PhKuboNode *node)
{
  const PhKuboAutonat *autonat = node->autonat;

  json_builder_set_member_name (builder, "reachability");
  if (autonat == NULL)
    {
      json_builder_add_null_value (builder);
      if (node->autonat_error != NULL)
        json_add_string_or_null (builder, "reachability_error", node->autonat_error);
      return;
    }
  json_builder_begin_object (builder);
  /* The node's own AutoNAT v2 results, refreshed in the background: they may be hours old. */
  json_add_string_or_null (builder, "source", "kubo");
  json_add_string_or_null (builder, "overall",
                           ph_kubo_reachability_to_string (autonat->reachability));
  json_add_string_or_null (builder, "nat", autonat->nat);
  json_add_string_or_null (builder, "ipv4_tcp",
                           ph_kubo_reachability_to_string (ph_kubo_autonat_get_tcp_reachability (
                               autonat, G_SOCKET_FAMILY_IPV4)));
  json_add_string_or_null (builder, "ipv6_tcp",
                           ph_kubo_reachability_to_string (ph_kubo_autonat_get_tcp_reachability (
                               autonat, G_SOCKET_FAMILY_IPV6)));
  json_add_strv (builder, "reachable", autonat->reachable);
  json_add_strv (builder, "unreachable", autonat->unreachable);
  json_add_strv (builder, "unknown", autonat->unknown);
  json_builder_end_object (builder);
}

static const char *
settings_source_to_string (PhKuboSettingsSource source)
{
  switch (source)
    {
      case PH_KUBO_SETTINGS_RPC:
        return "rpc";
      case PH_KUBO_SETTINGS_FILE:
        return "file";
      case PH_KUBO_SETTINGS_NONE:
      default:
        return "none";
    }
}

/* {
 *   "found": true, "running": true, "state": "running", "error": null,
 *   "repo": "/home/u/.ipfs", "api": "http://127.0.0.1:5001",
 *   "version": "0.40.1", "agent_version": "kubo/0.40.1/", "peer_id": "12D3KooW…",
 *   "other_node": false, "swarm_port": 4001,
 *   "swarm_ports": { "tcp4": 4001, "tcp6": 4001, "udp4": 4001, "udp6": 4001 },
 *   "settings_source": "rpc", "settings": { … effective values … } | null,
 *   "reachability": { "source": "kubo", "overall": "public", "nat": null, "ipv4_tcp": "public",
 *                     "ipv6_tcp": "unknown", "reachable": […], "unreachable": […],
 *                     "unknown": […] } | null,
 *   "reachability_error": "…" (only when reachability is null for a known reason),
 *   "warnings": [ { "id", "message", "key" } ], "suggestions": [ … ]
 * }
 * Never a key or a secret. */
JsonNode *
ph_kubo_node_to_json (const PhKuboNode *node)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (node != NULL, NULL);

  json_builder_begin_object (builder);
  json_add_boolean (builder, "found", ph_kubo_node_is_found (node));
  json_add_boolean (builder, "running", ph_kubo_node_is_running (node));
  json_add_string_or_null (builder, "state", ph_kubo_state_to_string (node->state));
  json_add_string_or_null (builder, "error", node->error);
  json_add_string_or_null (builder, "repo", node->repo_found ? node->repo_path : NULL);
  json_add_string_or_null (builder, "api", node->endpoint);
  json_add_string_or_null (builder, "version",
                           node->version != NULL ? node->version->version : NULL);
  json_add_string_or_null (builder, "agent_version",
                           node->id != NULL ? node->id->agent_version : NULL);
  json_add_string_or_null (builder, "peer_id", ph_kubo_node_get_peer_id (node));
  json_add_boolean (builder, "other_node", ph_kubo_node_is_other_node (node));
  json_add_port (builder, "swarm_port", node->swarm_port);
  json_builder_set_member_name (builder, "swarm_ports");
  json_builder_begin_object (builder);
  json_add_port (builder, "tcp4", node->swarm_ports.tcp4);
  json_add_port (builder, "tcp6", node->swarm_ports.tcp6);
  json_add_port (builder, "udp4", node->swarm_ports.udp4);
  json_add_port (builder, "udp6", node->swarm_ports.udp6);
  json_builder_end_object (builder);
  json_add_string_or_null (builder, "settings_source",
                           settings_source_to_string (node->settings_source));
  json_add_settings (builder, node);
  json_add_reachability (builder, node);
  json_add_advice (builder, "warnings", node->warnings);
  json_add_advice (builder, "suggestions", node->suggestions);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* ---- changes ---- */

static void
change_clear (PhKuboChange *change)
{
  g_free (change->key);
  g_clear_pointer (&change->value, json_node_unref);
  g_clear_pointer (&change->old_value, json_node_unref);
}

static PhKuboChange *
change_new (PhKuboChangeKind kind, const char *key, JsonNode *value)
{
  PhKuboChange *change = g_rc_box_new0 (PhKuboChange);

  change->kind = kind;
  change->key = g_strdup (key);
  change->value = value;
  return change;
}

PhKuboChange *
ph_kubo_change_new_enable_nat_port_map (void)
{
  JsonNode *value = json_node_new (JSON_NODE_VALUE);

  json_node_set_boolean (value, FALSE);
  return change_new (PH_KUBO_CHANGE_SET, "Swarm.DisableNatPortMap", value);
}

PhKuboChange *
ph_kubo_change_new_append_announce (const char *address, GError **error)
{
  g_auto (PhKuboAddr) addr = { 0 };
  JsonNode *value;

  g_return_val_if_fail (address != NULL, NULL);

  if (!ph_kubo_addr_parse (address, &addr, error))
    return NULL;
  if (addr.kind == PH_KUBO_HOST_UNIX || (!addr.tcp && !addr.udp) || addr.port == 0)
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED,
                   "%s is not an address peers can dial: it needs an IP or DNS name and a port",
                   address);
      return NULL;
    }
  if (addr.kind != PH_KUBO_HOST_DNS && !ph_ip_scope_is_public (addr.scope))
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED,
                   "%s is a %s address, which peers on the internet cannot reach", address,
                   ph_ip_scope_to_string (addr.scope));
      return NULL;
    }
  value = json_node_new (JSON_NODE_VALUE);
  json_node_set_string (value, address);
  return change_new (PH_KUBO_CHANGE_APPEND, "Addresses.AppendAnnounce", value);
}

PhKuboChange *
ph_kubo_change_ref (PhKuboChange *change)
{
  g_return_val_if_fail (change != NULL, NULL);
  return g_rc_box_acquire (change);
}

void
ph_kubo_change_unref (PhKuboChange *change)
{
  g_return_if_fail (change != NULL);
  g_rc_box_release_full (change, (GDestroyNotify) change_clear);
}

char *
ph_kubo_change_describe (const PhKuboChange *change)
{
  g_autofree char *value = NULL;

  g_return_val_if_fail (change != NULL, NULL);

  if (change->kind == PH_KUBO_CHANGE_APPEND)
    /* TRANSLATORS: the first %s is a multiaddr, the second a config key such as
     * Addresses.AppendAnnounce. */
    return g_strdup_printf (_ ("Announce %s to other peers: add it to the node's %s."),
                            json_node_get_string (change->value), change->key);
  if (g_str_equal (change->key, "Swarm.DisableNatPortMap")
      && json_node_get_value_type (change->value) == G_TYPE_BOOLEAN
      && !json_node_get_boolean (change->value))
    return g_strdup (_ ("Turn on the node's NAT port mapping, so that it asks the router to "
                        "forward its port: set Swarm.DisableNatPortMap to false."));
  value = json_to_string (change->value, FALSE);
  /* TRANSLATORS: the first %s is a config key such as Routing.Type, the second its new value
   * in JSON. */
  return g_strdup_printf (_ ("Set the node's %s to %s."), change->key, value);
}

/* One shell word, single-quoted when it needs to be. */
static char *
shell_word (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if (!(g_ascii_isalnum (*p) || strchr ("/.:_-", *p) != NULL))
      return g_shell_quote (text);
  return g_strdup (text);
}

static char *
command_line_for (const char *key, JsonNode *value)
{
  g_autofree char *text = NULL;
  g_autofree char *word = NULL;

  if (json_node_get_value_type (value) == G_TYPE_BOOLEAN)
    return g_strdup_printf ("ipfs config --bool %s %s", key,
                            json_node_get_boolean (value) ? "true" : "false");
  text = json_to_string (value, FALSE);
  word = shell_word (text);
  return g_strdup_printf ("ipfs config --json %s %s", key, word);
}

/* The list an APPEND change leads to from `current` (a list, null, or absent). */
static JsonNode *
list_with (JsonNode *current, const char *address, gboolean add, gboolean *found)
{
  JsonArray *array = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  *found = FALSE;
  if (current != NULL && JSON_NODE_HOLDS_ARRAY (current))
    {
      JsonArray *old = json_node_get_array (current);
      gboolean removed = FALSE;

      for (guint i = 0; i < json_array_get_length (old); i++)
        {
          JsonNode *element = json_array_get_element (old, i);
          gboolean same = json_node_get_value_type (element) == G_TYPE_STRING
                          && g_str_equal (json_node_get_string (element), address);

          if (same)
            *found = TRUE;
          /* Undo removes one copy: the one we added. */
          if (same && !add && !removed)
            {
              removed = TRUE;
              continue;
            }
          json_array_add_element (array, json_node_copy (element));
        }
    }
  if (add && !*found)
    json_array_add_string_element (array, address);
  json_node_take_array (node, array);
  return node;
}

char *
ph_kubo_change_to_command_line (const PhKuboChange *change)
{
  g_autoptr (JsonNode) list = NULL;
  gboolean found;

  g_return_val_if_fail (change != NULL, NULL);

  if (change->kind == PH_KUBO_CHANGE_SET)
    return command_line_for (change->key, change->value);
  /* kubo's CLI cannot append: it sets the whole list. Before apply we know only our address. */
  list = list_with (change->old_value, json_node_get_string (change->value), TRUE, &found);
  return command_line_for (change->key, list);
}

char *
ph_kubo_change_to_undo_command_line (const PhKuboChange *change)
{
  g_autoptr (JsonNode) list = NULL;
  gboolean found;

  g_return_val_if_fail (change != NULL, NULL);

  if (!change->applied || !change->changed)
    return NULL;
  if (change->kind == PH_KUBO_CHANGE_SET)
    return command_line_for (change->key, change->old_value);
  list = list_with (change->old_value, json_node_get_string (change->value), FALSE, &found);
  return command_line_for (change->key, list);
}

const char *
ph_kubo_restart_hint (void)
{
  return _ ("kubo reads its config only when it starts: restart the IPFS daemon for the change to "
            "apply — run “ipfs shutdown” and then “ipfs daemon”, quit and reopen IPFS Desktop, or "
            "restart its service (for example “systemctl --user restart ipfs”).");
}

JsonNode *
ph_kubo_change_to_json (const PhKuboChange *change)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (change != NULL, NULL);

  json_builder_begin_object (builder);
  json_add_string_or_null (builder, "kind", change->kind == PH_KUBO_CHANGE_SET ? "set" : "append");
  json_add_string_or_null (builder, "key", change->key);
  json_builder_set_member_name (builder, "value");
  json_builder_add_value (builder, json_node_copy (change->value));
  json_builder_set_member_name (builder, "old_value");
  if (change->old_value != NULL)
    json_builder_add_value (builder, json_node_copy (change->old_value));
  else
    json_builder_add_null_value (builder);
  json_add_boolean (builder, "applied", change->applied);
  json_add_boolean (builder, "changed", change->changed);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static gpointer
change_from_json_fail (GError **error)
{
  g_set_error_literal (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED,
                       "not a recorded kubo config change");
  return NULL;
}

PhKuboChange *
ph_kubo_change_new_from_json (JsonNode *node, GError **error)
{
  g_autoptr (PhKuboChange) change = NULL;
  JsonObject *object;
  const char *kind;
  const char *key;
  JsonNode *value;
  JsonNode *old_value;

  g_return_val_if_fail (node != NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return change_from_json_fail (error);
  object = json_node_get_object (node);
  kind = json_object_get_string_member_with_default (object, "kind", NULL);
  key = json_object_get_string_member_with_default (object, "key", NULL);
  value = json_object_get_member (object, "value");
  old_value = json_object_get_member (object, "old_value");
  if (kind == NULL || key == NULL || value == NULL || *key == '\0'
      || (!g_str_equal (kind, "set") && !g_str_equal (kind, "append")))
    return change_from_json_fail (error);
  if (g_str_equal (kind, "append") && json_node_get_value_type (value) != G_TYPE_STRING)
    return change_from_json_fail (error);

  change = change_new (g_str_equal (kind, "set") ? PH_KUBO_CHANGE_SET : PH_KUBO_CHANGE_APPEND, key,
                       json_node_copy (value));
  if (old_value != NULL)
    change->old_value = json_node_copy (old_value);
  change->applied = json_object_get_boolean_member_with_default (object, "applied", FALSE);
  change->changed = json_object_get_boolean_member_with_default (object, "changed", FALSE);
  return g_steal_pointer (&change);
}

/* apply and revert: read the key through config/show, then maybe write it through config. */

typedef struct
{
  PhKuboChange *change;
  PhKuboClient *client;
  gboolean revert;
  JsonNode *target; /* what we write and expect back */
} ChangeOp;

static void
change_op_free (ChangeOp *op)
{
  ph_kubo_change_unref (op->change);
  g_clear_object (&op->client);
  g_clear_pointer (&op->target, json_node_unref);
  g_free (op);
}

static gboolean
json_equal_or_both_absent (JsonNode *a, JsonNode *b)
{
  gboolean a_absent = a == NULL || JSON_NODE_HOLDS_NULL (a);
  gboolean b_absent = b == NULL || JSON_NODE_HOLDS_NULL (b);

  if (a_absent || b_absent)
    return a_absent && b_absent;
  return json_node_equal (a, b);
}

static void
change_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ChangeOp *op = g_task_get_task_data (task);
  PhKuboChange *change = op->change;
  g_autoptr (JsonNode) written = NULL;
  GError *error = NULL;

  written = ph_kubo_client_config_set_finish (op->client, result, &error);
  if (written == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (!json_equal_or_both_absent (written, op->target))
    {
      g_task_return_new_error (task, PH_KUBO_ERROR, PH_KUBO_ERROR_COMMAND,
                               "kubo did not keep the new value of %s", change->key);
      return;
    }
  if (op->revert)
    {
      change->applied = FALSE;
      change->changed = FALSE;
    }
  else
    {
      change->applied = TRUE;
      change->changed = TRUE;
    }
  g_task_return_boolean (task, TRUE);
}

/* Decides what to write from the current value; FALSE when nothing needs writing. */
static gboolean
change_plan (ChangeOp *op, JsonNode *current, GError **error)
{
  PhKuboChange *change = op->change;
  const char *address
      = change->kind == PH_KUBO_CHANGE_APPEND ? json_node_get_string (change->value) : NULL;
  gboolean found = FALSE;

  if (change->kind == PH_KUBO_CHANGE_APPEND && current != NULL && !JSON_NODE_HOLDS_NULL (current)
      && !JSON_NODE_HOLDS_ARRAY (current))
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED, "%s is not a list", change->key);
      return FALSE;
    }

  if (!op->revert)
    {
      g_clear_pointer (&change->old_value, json_node_unref);
      change->old_value
          = current != NULL ? json_node_copy (current) : json_node_new (JSON_NODE_NULL);
      if (change->kind == PH_KUBO_CHANGE_SET)
        {
          if (json_equal_or_both_absent (current, change->value))
            return FALSE;
          op->target = json_node_copy (change->value);
          return TRUE;
        }
      op->target = list_with (current, address, TRUE, &found);
      return !found;
    }

  if (change->kind == PH_KUBO_CHANGE_SET)
    {
      if (!json_equal_or_both_absent (current, change->value))
        {
          g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_CHANGED,
                       "%s changed again since Porthole set it; Porthole leaves it as it is",
                       change->key);
          return FALSE;
        }
      op->target = change->old_value != NULL ? json_node_copy (change->old_value)
                                             : json_node_new (JSON_NODE_NULL);
      return TRUE;
    }
  op->target = list_with (current, address, FALSE, &found);
  return found;
}

static void
change_config_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ChangeOp *op = g_task_get_task_data (task);
  PhKuboChange *change = op->change;
  g_autoptr (JsonNode) config = NULL;
  GError *error = NULL;

  config = ph_kubo_client_config_show_finish (op->client, result, &error);
  if (config == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (!change_plan (op, ph_kubo_json_lookup (config, change->key), &error))
    {
      if (error != NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      /* Already as wanted (apply), or already gone (revert). */
      change->applied = !op->revert;
      change->changed = FALSE;
      g_task_return_boolean (task, TRUE);
      return;
    }
  ph_kubo_client_config_set_async (op->client, change->key, op->target,
                                   g_task_get_cancellable (task), change_written,
                                   g_object_ref (task));
}

static void
change_run (PhKuboChange *change, PhKuboClient *client, gboolean revert, gpointer source_tag,
            GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  ChangeOp *op = g_new0 (ChangeOp, 1);

  op->change = ph_kubo_change_ref (change);
  op->client = g_object_ref (client);
  op->revert = revert;
  g_task_set_source_tag (task, source_tag);
  g_task_set_name (task, "[porthole] kubo config change");
  g_task_set_task_data (task, op, (GDestroyNotify) change_op_free);

  if (revert && (!change->applied || !change->changed))
    {
      change->applied = FALSE;
      g_task_return_boolean (task, TRUE);
      return;
    }
  ph_kubo_client_config_show_async (client, cancellable, change_config_read, g_object_ref (task));
}

void
ph_kubo_change_apply_async (PhKuboChange *change, PhKuboClient *client, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (change != NULL);
  g_return_if_fail (PH_IS_KUBO_CLIENT (client));

  change_run (change, client, FALSE, ph_kubo_change_apply_async, cancellable, callback, user_data);
}

gboolean
ph_kubo_change_apply_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ph_kubo_change_apply_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
ph_kubo_change_revert_async (PhKuboChange *change, PhKuboClient *client, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (change != NULL);
  g_return_if_fail (PH_IS_KUBO_CLIENT (client));

  change_run (change, client, TRUE, ph_kubo_change_revert_async, cancellable, callback, user_data);
}

gboolean
ph_kubo_change_revert_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ph_kubo_change_revert_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
