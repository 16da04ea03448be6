/* ph-diagnosis.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <sys/socket.h>

#include "ph-diagnosis.h"
#include "ph-verdict.h"

typedef struct
{
  PhVerdict verdict;
  char *reason;
  gboolean confident;
  GPtrArray *causes;    /* char* */
  GPtrArray *addresses; /* char* */
} PhFamilyResult;

struct _PhDiagnosis
{
  GObject parent_instance;

  PhLanFacts *lan;
  char *lan_error;
  PhNmFacts *nm;
  PhKuboNode *node;
  PhUpnpFacts *upnp;
  GPtrArray *path_ipv4;
  char *port_owner;
  guint port;
  PhFamilyResult families[2];
  GPtrArray *probes; /* PhProbeEvidence */
  char *peer_id;
  guint64 elapsed_ms;
};

G_DEFINE_FINAL_TYPE (PhDiagnosis, ph_diagnosis, G_TYPE_OBJECT)

static void
ph_diagnosis_finalize (GObject *object)
{
  PhDiagnosis *self = PH_DIAGNOSIS (object);

  g_clear_pointer (&self->lan, ph_lan_facts_free);
  g_clear_pointer (&self->lan_error, g_free);
  g_clear_pointer (&self->nm, ph_nm_facts_free);
  g_clear_pointer (&self->node, ph_kubo_node_free);
  g_clear_pointer (&self->upnp, ph_upnp_facts_free);
  g_clear_pointer (&self->path_ipv4, g_ptr_array_unref);
  g_clear_pointer (&self->port_owner, g_free);
  for (guint i = 0; i < G_N_ELEMENTS (self->families); i++)
    {
      g_clear_pointer (&self->families[i].reason, g_free);
      g_clear_pointer (&self->families[i].causes, g_ptr_array_unref);
      g_clear_pointer (&self->families[i].addresses, g_ptr_array_unref);
    }
  g_clear_pointer (&self->probes, g_ptr_array_unref);
  g_clear_pointer (&self->peer_id, g_free);

  G_OBJECT_CLASS (ph_diagnosis_parent_class)->finalize (object);
}

static void
ph_diagnosis_class_init (PhDiagnosisClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ph_diagnosis_finalize;
}

static void
ph_diagnosis_init (PhDiagnosis *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (self->families); i++)
    {
      self->families[i].causes = g_ptr_array_new_with_free_func (g_free);
      self->families[i].addresses = g_ptr_array_new_with_free_func (g_free);
    }
  self->probes = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_probe_evidence_free);
}

static void
copy_strings (GPtrArray *to, GPtrArray *from)
{
  g_ptr_array_set_size (to, 0);
  for (guint i = 0; from && i < from->len; i++)
    g_ptr_array_add (to, g_strdup (g_ptr_array_index (from, i)));
}

void
ph_diagnosis_set_family_causes (PhDiagnosis *self, PhFamily family, GPtrArray *causes,
                                GPtrArray *addresses, gboolean confident)
{
  g_return_if_fail (PH_IS_DIAGNOSIS (self));
  g_return_if_fail (family <= PH_FAMILY_IPV6);

  copy_strings (self->families[family].causes, causes);
  copy_strings (self->families[family].addresses, addresses);
  self->families[family].confident = confident;
}

GPtrArray *
ph_diagnosis_get_family_causes (PhDiagnosis *self, PhFamily family)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);
  g_return_val_if_fail (family <= PH_FAMILY_IPV6, NULL);
  return self->families[family].causes;
}

void
ph_diagnosis_take_probes (PhDiagnosis *self, GPtrArray *evidence, const char *peer_id)
{
  g_return_if_fail (PH_IS_DIAGNOSIS (self));

  g_clear_pointer (&self->probes, g_ptr_array_unref);
  self->probes = evidence
                     ? evidence
                     : g_ptr_array_new_with_free_func ((GDestroyNotify) ph_probe_evidence_free);
  g_free (self->peer_id);
  self->peer_id = g_strdup (peer_id);
}

GPtrArray *
ph_diagnosis_get_probes (PhDiagnosis *self)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);
  return self->probes;
}

PhDiagnosis *
ph_diagnosis_new (void)
{
  return g_object_new (PH_TYPE_DIAGNOSIS, NULL);
}

void
ph_diagnosis_take_lan (PhDiagnosis *self, PhLanFacts *lan)
{
  g_return_if_fail (PH_IS_DIAGNOSIS (self));

  g_clear_pointer (&self->lan, ph_lan_facts_free);
  self->lan = lan;
}

void
ph_diagnosis_set_lan_error (PhDiagnosis *self, const GError *error)
{
  g_return_if_fail (PH_IS_DIAGNOSIS (self));

  g_free (self->lan_error);
  self->lan_error = error ? g_strdup (error->message) : NULL;
}

void
ph_diagnosis_take_nm (PhDiagnosis *self, PhNmFacts *nm)
{
  g_return_if_fail (PH_IS_DIAGNOSIS (self));

  g_clear_pointer (&self->nm, ph_nm_facts_free);
  self->nm = nm;
}

void
ph_diagnosis_set_port_owner (PhDiagnosis *self, const char *owner)
{
  g_return_if_fail (PH_IS_DIAGNOSIS (self));

  g_free (self->port_owner);
  self->port_owner = g_strdup (owner);
}

void
ph_diagnosis_set_path (PhDiagnosis *self, GPtrArray *path_ipv4)
{
  g_return_if_fail (PH_IS_DIAGNOSIS (self));

  g_clear_pointer (&self->path_ipv4, g_ptr_array_unref);
  self->path_ipv4 = path_ipv4 ? g_ptr_array_ref (path_ipv4) : NULL;
}

void
ph_diagnosis_take_upnp (PhDiagnosis *self, PhUpnpFacts *upnp)
{
  g_return_if_fail (PH_IS_DIAGNOSIS (self));

  g_clear_pointer (&self->upnp, ph_upnp_facts_free);
  self->upnp = upnp;
}

PhUpnpFacts *
ph_diagnosis_get_upnp (PhDiagnosis *self)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);
  return self->upnp;
}

void
ph_diagnosis_take_node (PhDiagnosis *self, PhKuboNode *node)
{
  g_return_if_fail (PH_IS_DIAGNOSIS (self));

  g_clear_pointer (&self->node, ph_kubo_node_free);
  self->node = node;
}

PhKuboNode *
ph_diagnosis_get_node (PhDiagnosis *self)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);
  return self->node;
}

void
ph_diagnosis_set_port (PhDiagnosis *self, guint port)
{
  g_return_if_fail (PH_IS_DIAGNOSIS (self));
  self->port = port;
}

guint
ph_diagnosis_get_port (PhDiagnosis *self)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), 0);
  return self->port;
}

const PhLanFacts *
ph_diagnosis_get_lan (PhDiagnosis *self)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);
  return self->lan;
}

const PhNmFacts *
ph_diagnosis_get_nm (PhDiagnosis *self)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);
  return self->nm;
}

void
ph_diagnosis_set_family (PhDiagnosis *self, PhFamily family, PhVerdict verdict, const char *reason)
{
  g_return_if_fail (PH_IS_DIAGNOSIS (self));
  g_return_if_fail (family <= PH_FAMILY_IPV6);

  self->families[family].verdict = verdict;
  g_free (self->families[family].reason);
  self->families[family].reason = g_strdup (reason);
}

PhVerdict
ph_diagnosis_get_family_verdict (PhDiagnosis *self, PhFamily family)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), PH_VERDICT_UNKNOWN);
  g_return_val_if_fail (family <= PH_FAMILY_IPV6, PH_VERDICT_UNKNOWN);
  return self->families[family].verdict;
}

const char *
ph_diagnosis_get_family_reason (PhDiagnosis *self, PhFamily family)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);
  g_return_val_if_fail (family <= PH_FAMILY_IPV6, NULL);
  return self->families[family].reason;
}

/* Reachable if any family is; unreachable only when every family was shown unreachable. */
PhVerdict
ph_diagnosis_get_verdict (PhDiagnosis *self)
{
  PhVerdict v4, v6;

  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), PH_VERDICT_UNKNOWN);

  v4 = self->families[PH_FAMILY_IPV4].verdict;
  v6 = self->families[PH_FAMILY_IPV6].verdict;
  if (v4 == PH_VERDICT_REACHABLE || v6 == PH_VERDICT_REACHABLE)
    return PH_VERDICT_REACHABLE;
  if (v4 == PH_VERDICT_UNREACHABLE && v6 == PH_VERDICT_UNREACHABLE)
    return PH_VERDICT_UNREACHABLE;
  return PH_VERDICT_UNKNOWN;
}

static const char *
overall_reason (PhDiagnosis *self)
{
  const char *r4 = self->families[PH_FAMILY_IPV4].reason;
  const char *r6 = self->families[PH_FAMILY_IPV6].reason;

  if (ph_diagnosis_get_verdict (self) != PH_VERDICT_UNKNOWN)
    return NULL;
  if (r4 && g_strcmp0 (r4, r6) == 0)
    return r4;
  return r4 ? r4 : r6;
}

void
ph_diagnosis_set_elapsed_ms (PhDiagnosis *self, guint64 elapsed_ms)
{
  g_return_if_fail (PH_IS_DIAGNOSIS (self));
  self->elapsed_ms = elapsed_ms;
}

const char *
ph_verdict_to_string (PhVerdict verdict)
{
  switch (verdict)
    {
      case PH_VERDICT_REACHABLE:
        return "reachable";
      case PH_VERDICT_UNREACHABLE:
        return "unreachable";
      case PH_VERDICT_UNKNOWN:
      default:
        return "unknown";
    }
}

const char *
ph_family_to_string (PhFamily family)
{
  return family == PH_FAMILY_IPV6 ? "ipv6" : "ipv4";
}

/* What this machine has of IPv6, whatever the probe found: the first fix to offer depends on it. */
static void
add_ipv6_host_json (PhDiagnosis *self, JsonBuilder *builder)
{
  gboolean route = self->lan && ph_lan_facts_default_route (self->lan, AF_INET6) != NULL;

  json_builder_set_member_name (builder, "host");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "method");
  if (self->nm && self->nm->ipv6_method)
    json_builder_add_string_value (builder, self->nm->ipv6_method);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "global_addresses");
  json_builder_begin_array (builder);
  for (guint i = 0; self->lan && i < self->lan->addresses->len; i++)
    {
      const PhLanAddress *a = g_ptr_array_index (self->lan->addresses, i);

      if (a->family == AF_INET6 && a->scope == PH_IP_SCOPE_PUBLIC)
        json_builder_add_string_value (builder, a->address);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "default_route");
  json_builder_add_boolean_value (builder, route);
  json_builder_end_object (builder);
}

static void
add_family_json (PhDiagnosis *self, JsonBuilder *builder, PhFamily family)
{
  const PhFamilyResult *result = &self->families[family];

  json_builder_set_member_name (builder, ph_family_to_string (family));
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "verdict");
  json_builder_add_string_value (builder, ph_verdict_to_string (result->verdict));
  if (result->reason)
    {
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, result->reason);
    }
  json_builder_set_member_name (builder, "confident");
  json_builder_add_boolean_value (builder, result->confident);
  json_builder_set_member_name (builder, "causes");
  json_builder_begin_array (builder);
  for (guint i = 0; i < result->causes->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (result->causes, i));
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "addresses");
  json_builder_begin_array (builder);
  for (guint i = 0; i < result->addresses->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (result->addresses, i));
  json_builder_end_array (builder);
  if (family == PH_FAMILY_IPV6)
    add_ipv6_host_json (self, builder);
  if (family == PH_FAMILY_IPV4 && self->path_ipv4)
    {
      /* the first routers towards a server: evidence for cgnat and double-nat */
      json_builder_set_member_name (builder, "path");
      json_builder_begin_array (builder);
      for (guint i = 0; i < self->path_ipv4->len; i++)
        if (g_ptr_array_index (self->path_ipv4, i))
          json_builder_add_string_value (builder, g_ptr_array_index (self->path_ipv4, i));
        else
          json_builder_add_null_value (builder);
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);
}

static JsonNode *
lan_to_json (PhDiagnosis *self)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *object;

  if (self->lan)
    node = ph_lan_facts_to_json (self->lan);
  else
    node = json_node_init_object (json_node_alloc (), json_object_new ());

  object = json_node_get_object (node);
  json_object_set_string_member (object, "source", self->lan ? "netlink" : "none");
  if (self->lan_error)
    json_object_set_string_member (object, "error", self->lan_error);
  if (self->nm)
    json_object_set_member (object, "network_manager", ph_nm_facts_to_json (self->nm));

  return g_steal_pointer (&node);
}

JsonNode *
ph_diagnosis_to_json (PhDiagnosis *self)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  const char *reason;

  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "porthole");
  json_builder_add_string_value (builder, PACKAGE_VERSION);
  json_builder_set_member_name (builder, "verdict");
  json_builder_add_string_value (builder, ph_verdict_to_string (ph_diagnosis_get_verdict (self)));
  if ((reason = overall_reason (self)))
    {
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, reason);
    }
  json_builder_set_member_name (builder, "port");
  json_builder_add_int_value (builder, self->port);
  if (self->port_owner)
    {
      json_builder_set_member_name (builder, "port_owner");
      json_builder_add_string_value (builder, self->port_owner);
    }
  add_family_json (self, builder, PH_FAMILY_IPV4);
  add_family_json (self, builder, PH_FAMILY_IPV6);
  if (self->peer_id)
    {
      json_builder_set_member_name (builder, "peer_id");
      json_builder_add_string_value (builder, self->peer_id);
    }
  json_builder_set_member_name (builder, "probes");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->probes->len; i++)
    json_builder_add_value (builder,
                            ph_probe_evidence_to_json (g_ptr_array_index (self->probes, i)));
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "lan");
  json_builder_add_value (builder, lan_to_json (self));
  if (self->upnp)
    {
      json_builder_set_member_name (builder, "upnp");
      json_builder_add_value (builder, ph_upnp_facts_to_json (self->upnp));
    }
  if (self->node)
    {
      json_builder_set_member_name (builder, "node");
      json_builder_add_value (builder, ph_kubo_node_to_json (self->node));
    }
  json_builder_set_member_name (builder, "elapsed_ms");
  json_builder_add_int_value (builder, (gint64) self->elapsed_ms);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

int
ph_diagnosis_exit_status (PhDiagnosis *self)
{
  switch (ph_diagnosis_get_verdict (self))
    {
      case PH_VERDICT_REACHABLE:
        return 0;
      case PH_VERDICT_UNREACHABLE:
        return 1;
      case PH_VERDICT_UNKNOWN:
      default:
        return 3;
    }
}

static const char *
verdict_sentence (PhVerdict verdict)
{
  switch (verdict)
    {
      case PH_VERDICT_REACHABLE:
        return _ ("Peers on the internet can reach your node.");
      case PH_VERDICT_UNREACHABLE:
        return _ ("Peers on the internet cannot reach your node.");
      case PH_VERDICT_UNKNOWN:
      default:
        return _ ("Porthole could not tell whether peers on the internet can reach your node.");
    }
}

static void
append_lan_text (PhDiagnosis *self, GString *out)
{
  const PhLanFacts *lan = self->lan;

  g_string_append_printf (out, "\n%s\n", _ ("This machine"));
  if (!lan)
    {
      g_string_append_printf (out, "  %s\n",
                              self->lan_error ? self->lan_error
                                              : _ ("The network interfaces could not be read."));
      return;
    }

  for (guint i = 0; i < lan->interfaces->len; i++)
    {
      const PhLanInterface *iface = g_ptr_array_index (lan->interfaces, i);

      if (iface->loopback)
        continue;
      g_string_append_printf (out, "  %s (%s)\n", iface->name, iface->up ? _ ("up") : _ ("down"));
      for (guint j = 0; j < lan->addresses->len; j++)
        {
          const PhLanAddress *addr = g_ptr_array_index (lan->addresses, j);

          if (addr->ifindex != iface->index)
            continue;
          g_string_append_printf (out, "    %s %s/%u  %s%s\n",
                                  addr->family == AF_INET6 ? "IPv6" : "IPv4", addr->address,
                                  addr->prefix, ph_ip_scope_to_string (addr->scope),
                                  addr->temporary ? _ (", temporary") : "");
        }
    }

  for (guint i = 0; i < lan->gateways->len; i++)
    {
      const PhLanRoute *route = g_ptr_array_index (lan->gateways, i);

      /* TRANSLATORS: "Default gateway (IPv4): 192.168.1.1 via eth0" */
      g_string_append_printf (out, "  %s (%s): %s %s %s\n", _ ("Default gateway"),
                              route->family == AF_INET6 ? "IPv6" : "IPv4",
                              route->gateway ? route->gateway : _ ("on link"), _ ("via"),
                              route->ifname ? route->ifname : "?");
    }
  if (lan->gateways->len == 0)
    g_string_append_printf (out, "  %s\n", _ ("No default route: this machine is offline."));
}

static void
append_upnp_text (PhDiagnosis *self, GString *out)
{
  const PhUpnpFacts *upnp = self->upnp;

  if (!upnp)
    return;
  g_string_append_printf (out, "\n%s\n", _ ("Router (UPnP)"));
  if (!upnp->found)
    {
      g_string_append_printf (out, "  %s\n", upnp->error ? upnp->error : _ ("No router answered."));
      return;
    }
  if (upnp->router && upnp->router->friendly_name)
    g_string_append_printf (out, "  %s\n", upnp->router->friendly_name);
  if (upnp->external_address)
    g_string_append_printf (out, _ ("  External address: %s (%s)\n"), upnp->external_address,
                            ph_upnp_external_scope_to_string (upnp->external_scope));
  if (upnp->our_tcp)
    g_string_append_printf (out, _ ("  Port %u is mapped to this machine.\n"), upnp->swarm_port);
  else if (upnp->holder)
    g_string_append_printf (out, _ ("  Port %u is mapped to another machine.\n"), upnp->swarm_port);
}

static void
append_nm_text (PhDiagnosis *self, GString *out)
{
  const PhNmFacts *nm = self->nm;

  g_string_append_printf (out, "\n%s\n", _ ("NetworkManager"));
  if (!nm || !nm->running)
    {
      g_string_append_printf (out, "  %s\n",
                              _ ("NetworkManager is not running; the facts above come from the "
                                 "kernel."));
      return;
    }
  if (!nm->connection_id)
    {
      g_string_append_printf (out, "  %s\n", _ ("No active connection."));
      return;
    }
  g_string_append_printf (out, _ ("  Active connection “%s” on %s\n"), nm->connection_id,
                          nm->device ? nm->device : "?");
  g_string_append_printf (out, _ ("  IPv6 method: %s\n"),
                          nm->ipv6_method ? nm->ipv6_method : _ ("unknown"));
}

const char *
ph_diagnosis_explain_cause (const char *cause)
{
  static const struct
  {
    const char *cause;
    const char *text;
  } explanations[] = {
    { "behind-nat", N_ ("Your router’s NAT keeps peers from dialing in. Map the port over UPnP, or "
                        "forward it on the router by hand.") },
    { "cgnat", N_ ("Your internet provider shares one public IPv4 address among many customers "
                   "(carrier-grade NAT), so forwarding on your router cannot help. Use IPv6, or "
                   "ask the provider for a public IPv4 address.") },
    { "double-nat", N_ ("A second router sits in front of yours, so a forward on your router alone "
                        "cannot help. Put the outer router in bridge mode, or forward the port on "
                        "both.") },
    { "symmetric-nat", N_ ("Your NAT gives every destination a different port, which also defeats "
                           "hole punching.") },
    { "firewalled", N_ ("This machine has a public address, but something drops incoming "
                        "connections: check its firewall.") },
    { "ipv6-unavailable", N_ ("This machine has no public IPv6 address.") },
    { "ipv6-firewalled", N_ ("This machine has a public IPv6 address, but a firewall (usually the "
                             "router’s) drops incoming connections to it.") },
    { "port-in-use", N_ ("Another program holds the port and Porthole cannot speak for it, so it "
                         "cannot check this address.") },
    { "no-servers", N_ ("No server could be reached to ask.") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (explanations); i++)
    if (g_strcmp0 (explanations[i].cause, cause) == 0)
      return _ (explanations[i].text);
  return cause;
}

static void
append_family_text (PhDiagnosis *self, GString *out, PhFamily family)
{
  const PhFamilyResult *result = &self->families[family];

  g_string_append_printf (out, "  %s: %s", family == PH_FAMILY_IPV6 ? "IPv6" : "IPv4",
                          ph_verdict_to_string (result->verdict));
  if (result->reason)
    g_string_append_printf (out, " (%s)", result->reason);
  for (guint i = 0; i < result->addresses->len; i++)
    g_string_append_printf (out, "%s%s", i ? ", " : _ (" at "),
                            (const char *) g_ptr_array_index (result->addresses, i));
  g_string_append_c (out, '\n');
  for (guint i = 0; i < result->causes->len; i++)
    g_string_append_printf (out, "    %s\n",
                            ph_diagnosis_explain_cause (g_ptr_array_index (result->causes, i)));
}

static void
append_probes_text (PhDiagnosis *self, GString *out)
{
  if (self->probes->len == 0)
    return;
  g_string_append_printf (out, "\n%s\n", _ ("What each server said"));
  for (guint i = 0; i < self->probes->len; i++)
    {
      const PhProbeEvidence *e = g_ptr_array_index (self->probes, i);

      g_string_append_printf (out, "  %s\n    %s %s: %s%s%s (%u ms)\n", e->server,
                              ph_probe_protocol_to_string (e->protocol),
                              e->address ? e->address : "-", ph_probe_result_to_string (e->result),
                              e->detail ? ", " : "", e->detail ? e->detail : "", e->ms);
    }
}

char *
ph_diagnosis_to_text (PhDiagnosis *self)
{
  g_autoptr (GString) out = g_string_new (NULL);

  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);

  g_string_append_printf (out, "%s\n", verdict_sentence (ph_diagnosis_get_verdict (self)));
  append_family_text (self, out, PH_FAMILY_IPV4);
  append_family_text (self, out, PH_FAMILY_IPV6);
  if (self->port_owner)
    g_string_append_printf (out, _ ("  Port %u is held by %s.\n"), self->port, self->port_owner);
  append_probes_text (self, out);
  append_lan_text (self, out);
  append_nm_text (self, out);
  append_upnp_text (self, out);

  return g_string_free (g_steal_pointer (&out), FALSE);
}
