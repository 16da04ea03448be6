/* ph-diagnosis.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>

#include "ph-check.h"
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
  /* A machine with no public IPv6 address cannot be reached over IPv6: with IPv4 shown
   * unreachable, the node is not reachable (the usual home behind a NAT without IPv6). */
  if (v4 == PH_VERDICT_UNREACHABLE
      && g_strcmp0 (self->families[PH_FAMILY_IPV6].reason, "ipv6-unavailable") == 0)
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
      const char *family = route->family == AF_INET6 ? "IPv6" : "IPv4";
      const char *ifname = route->ifname ? route->ifname : "?";

      g_string_append (out, "  ");
      if (route->gateway)
        /* TRANSLATORS: a line of the diagnosis text, e.g. "Default gateway (IPv4): 192.168.1.1
         * via eth0": IPv4 or IPv6, the router's address, the network interface. */
        g_string_append_printf (out, _ ("Default gateway (%s): %s via %s"), family, route->gateway,
                                ifname);
      else
        /* TRANSLATORS: a line of the diagnosis text, e.g. "Default gateway (IPv6): on link via
         * eth0": IPv4 or IPv6, then the network interface; "on link" means there is no router
         * address, the destination is on the interface's own network. */
        g_string_append_printf (out, _ ("Default gateway (%s): on link via %s"), family, ifname);
      g_string_append_c (out, '\n');
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
  const char *name = family == PH_FAMILY_IPV6 ? "IPv6" : "IPv4";
  g_autofree char *verdict = NULL;

  if (result->reason)
    verdict = g_strdup_printf ("%s (%s)", ph_verdict_to_string (result->verdict), result->reason);
  else
    verdict = g_strdup (ph_verdict_to_string (result->verdict));
  g_string_append (out, "  ");
  if (result->addresses->len > 0)
    {
      g_autoptr (GString) addresses = g_string_new (NULL);

      for (guint i = 0; i < result->addresses->len; i++)
        g_string_append_printf (addresses, "%s%s", i ? ", " : "",
                                (const char *) g_ptr_array_index (result->addresses, i));
      /* TRANSLATORS: a line of the diagnosis text, e.g. "IPv4: reachable at 203.0.113.7,
       * 203.0.113.8": IPv4 or IPv6, the verdict (perhaps with its reason in parentheses), then
       * one or more addresses, comma-separated. */
      g_string_append_printf (out, _ ("%s: %s at %s"), name, verdict, addresses->str);
    }
  else
    g_string_append_printf (out, "%s: %s", name, verdict);
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

/* ---- getters for the faces ---- */

GPtrArray *
ph_diagnosis_get_family_addresses (PhDiagnosis *self, PhFamily family)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);
  g_return_val_if_fail (family <= PH_FAMILY_IPV6, NULL);
  return self->families[family].addresses;
}

gboolean
ph_diagnosis_get_family_confident (PhDiagnosis *self, PhFamily family)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), FALSE);
  g_return_val_if_fail (family <= PH_FAMILY_IPV6, FALSE);
  return self->families[family].confident;
}

const char *
ph_diagnosis_get_port_owner (PhDiagnosis *self)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);
  return self->port_owner;
}

const char *
ph_diagnosis_get_lan_error (PhDiagnosis *self)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);
  return self->lan_error;
}

const char *
ph_diagnosis_get_peer_id (PhDiagnosis *self)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);
  return self->peer_id;
}

guint64
ph_diagnosis_get_elapsed_ms (PhDiagnosis *self)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), 0);
  return self->elapsed_ms;
}

GPtrArray *
ph_diagnosis_get_path (PhDiagnosis *self)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);
  return self->path_ipv4;
}

/* ---- from JSON ---- */

/* Every reader takes the member's place ("upnp.mappings[2]") for its error message. A member that
 * is absent or null is "not known" wherever ph_diagnosis_to_json can leave it out or write null. */

G_GNUC_PRINTF (3, 4)
static gboolean
json_fail (GError **error, const char *where, const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "recorded check: %s: %s", where, text);
  return FALSE;
}

static JsonNode *
json_member (JsonObject *object, const char *name)
{
  JsonNode *node;

  if (!object || !json_object_has_member (object, name))
    return NULL;
  node = json_object_get_member (object, name);
  return node && !JSON_NODE_HOLDS_NULL (node) ? node : NULL;
}

static gboolean
json_check_string (JsonNode *node, const char *where, GError **error)
{
  const char *text;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return json_fail (error, where, "not a string");
  text = json_node_get_string (node);
  if (strlen (text) > PH_DIAGNOSIS_JSON_MAX_STRING)
    return json_fail (error, where, "longer than %d bytes", PH_DIAGNOSIS_JSON_MAX_STRING);
  return TRUE;
}

static gboolean
read_string (JsonObject *object, const char *where, const char *name, char **out, GError **error)
{
  g_autofree char *place = g_strdup_printf ("%s.%s", where, name);
  JsonNode *node = json_member (object, name);

  g_clear_pointer (out, g_free);
  if (!node)
    return TRUE;
  if (!json_check_string (node, place, error))
    return FALSE;
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

static gboolean
read_required_string (JsonObject *object, const char *where, const char *name, char **out,
                      GError **error)
{
  if (!read_string (object, where, name, out, error))
    return FALSE;
  if (!*out)
    return json_fail (error, where, "“%s” is missing", name);
  return TRUE;
}

static gboolean
read_bool (JsonObject *object, const char *where, const char *name, gboolean *out, GError **error)
{
  JsonNode *node = json_member (object, name);

  if (!node)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return json_fail (error, where, "“%s” is not true or false", name);
  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
read_uint (JsonObject *object, const char *where, const char *name, guint64 max, guint64 *out,
           GError **error)
{
  JsonNode *node = json_member (object, name);
  gint64 value;

  if (!node)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return json_fail (error, where, "“%s” is not a whole number", name);
  value = json_node_get_int (node);
  if (value < 0 || (guint64) value > max)
    return json_fail (error, where, "“%s” is out of range (0 to %" G_GUINT64_FORMAT ")", name, max);
  *out = (guint64) value;
  return TRUE;
}

static gboolean
read_guint (JsonObject *object, const char *where, const char *name, guint max, guint *out,
            GError **error)
{
  guint64 value = *out;

  if (!read_uint (object, where, name, max, &value, error))
    return FALSE;
  *out = (guint) value;
  return TRUE;
}

static gboolean
read_object (JsonObject *object, const char *where, const char *name, JsonObject **out,
             GError **error)
{
  JsonNode *node = json_member (object, name);

  *out = NULL;
  if (!node)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return json_fail (error, where, "“%s” is not an object", name);
  *out = json_node_get_object (node);
  return TRUE;
}

static gboolean
read_array (JsonObject *object, const char *where, const char *name, JsonArray **out,
            GError **error)
{
  JsonNode *node = json_member (object, name);

  *out = NULL;
  if (!node)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return json_fail (error, where, "“%s” is not an array", name);
  *out = json_node_get_array (node);
  if (json_array_get_length (*out) > PH_DIAGNOSIS_JSON_MAX_ITEMS)
    return json_fail (error, where, "“%s” has more than %d items", name,
                      PH_DIAGNOSIS_JSON_MAX_ITEMS);
  return TRUE;
}

/* An array of objects: the i-th one, or an error. */
static JsonObject *
array_object (JsonArray *array, guint i, const char *where, const char *name, GError **error)
{
  JsonNode *node = json_array_get_element (array, i);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      json_fail (error, where, "%s[%u] is not an object", name, i);
      return NULL;
    }
  return json_node_get_object (node);
}

/* An array of strings (nulls kept as NULL only when allow_null) into a GPtrArray of char*. */
static gboolean
read_strings (JsonObject *object, const char *where, const char *name, gboolean allow_null,
              GPtrArray *out, GError **error)
{
  JsonArray *array;

  if (!read_array (object, where, name, &array, error))
    return FALSE;
  for (guint i = 0; array && i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      g_autofree char *place = g_strdup_printf ("%s.%s[%u]", where, name, i);

      if (allow_null && JSON_NODE_HOLDS_NULL (node))
        {
          g_ptr_array_add (out, NULL);
          continue;
        }
      if (!json_check_string (node, place, error))
        return FALSE;
      g_ptr_array_add (out, g_strdup (json_node_get_string (node)));
    }
  return TRUE;
}

static gboolean
read_strv (JsonObject *object, const char *where, const char *name, char ***out, GError **error)
{
  g_autoptr (GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);

  if (!read_strings (object, where, name, FALSE, strings, error))
    return FALSE;
  g_ptr_array_add (strings, NULL);
  g_strfreev (*out);
  *out = (char **) g_ptr_array_steal (strings, NULL);
  return TRUE;
}

/* A string member that must be one of the names `name_of` gives an enum's values. */
typedef const char *(*EnumNameFunc) (int value);

static gboolean
read_enum (JsonObject *object, const char *where, const char *name, EnumNameFunc name_of, int first,
           int last, int *out, GError **error)
{
  g_autofree char *text = NULL;

  if (!read_string (object, where, name, &text, error))
    return FALSE;
  if (!text)
    return TRUE;
  for (int v = first; v <= last; v++)
    if (g_str_equal (name_of (v), text))
      {
        *out = v;
        return TRUE;
      }
  return json_fail (error, where, "“%s” is not a known %s", text, name);
}

static const char *
ip_scope_name (int scope)
{
  return ph_ip_scope_to_string (scope);
}

static const char *
nm_kind_name (int kind)
{
  return ph_nm_ipv6_kind_to_string (kind);
}

static const char *
external_scope_name (int scope)
{
  return ph_upnp_external_scope_to_string (scope);
}

static const char *
lan_family_to_string (int family)
{
  return family == 0 ? "ipv4" : "ipv6";
}

static gboolean
read_lan_family (JsonObject *object, const char *where, int *out, GError **error)
{
  int family = 0;

  if (!read_enum (object, where, "family", lan_family_to_string, 0, 1, &family, error))
    return FALSE;
  *out = family == 0 ? AF_INET : AF_INET6;
  return TRUE;
}

static guint
lan_ifindex (PhLanFacts *lan, const char *name)
{
  for (guint i = 0; name && i < lan->interfaces->len; i++)
    {
      const PhLanInterface *iface = g_ptr_array_index (lan->interfaces, i);

      if (g_strcmp0 (iface->name, name) == 0)
        return iface->index;
    }
  return 0;
}

static PhLanFacts *
lan_from_json (JsonObject *object, GError **error)
{
  g_autoptr (PhLanFacts) lan = ph_lan_facts_new ();
  JsonArray *array;

  if (!read_array (object, "lan", "interfaces", &array, error))
    return NULL;
  for (guint i = 0; array && i < json_array_get_length (array); i++)
    {
      g_autofree char *where = g_strdup_printf ("lan.interfaces[%u]", i);
      JsonObject *o = array_object (array, i, "lan", "interfaces", error);
      PhLanInterface *iface;

      if (!o)
        return NULL;
      iface = g_new0 (PhLanInterface, 1);
      g_ptr_array_add (lan->interfaces, iface);
      if (!read_required_string (o, where, "name", &iface->name, error)
          || !read_guint (o, where, "index", G_MAXUINT32, &iface->index, error)
          || !read_string (o, where, "mac", &iface->mac, error)
          || !read_bool (o, where, "up", &iface->up, error)
          || !read_bool (o, where, "loopback", &iface->loopback, error))
        return NULL;
    }

  if (!read_array (object, "lan", "addresses", &array, error))
    return NULL;
  for (guint i = 0; array && i < json_array_get_length (array); i++)
    {
      g_autofree char *where = g_strdup_printf ("lan.addresses[%u]", i);
      JsonObject *o = array_object (array, i, "lan", "addresses", error);
      PhLanAddress *address;
      int scope = PH_IP_SCOPE_RESERVED;

      if (!o)
        return NULL;
      address = g_new0 (PhLanAddress, 1);
      g_ptr_array_add (lan->addresses, address);
      if (!read_string (o, where, "interface", &address->ifname, error)
          || !read_lan_family (o, where, &address->family, error)
          || !read_required_string (o, where, "address", &address->address, error)
          || !read_guint (o, where, "prefix", address->family == AF_INET ? 32 : 128,
                          &address->prefix, error)
          || !read_enum (o, where, "scope", ip_scope_name, PH_IP_SCOPE_PUBLIC, PH_IP_SCOPE_RESERVED,
                         &scope, error)
          || !read_bool (o, where, "temporary", &address->temporary, error)
          || !read_bool (o, where, "deprecated", &address->deprecated, error)
          || !read_bool (o, where, "dynamic", &address->dynamic, error))
        return NULL;
      address->scope = scope;
      address->ifindex = lan_ifindex (lan, address->ifname);
    }

  if (!read_array (object, "lan", "gateways", &array, error))
    return NULL;
  for (guint i = 0; array && i < json_array_get_length (array); i++)
    {
      g_autofree char *where = g_strdup_printf ("lan.gateways[%u]", i);
      JsonObject *o = array_object (array, i, "lan", "gateways", error);
      PhLanRoute *route;

      if (!o)
        return NULL;
      route = g_new0 (PhLanRoute, 1);
      g_ptr_array_add (lan->gateways, route);
      if (!read_string (o, where, "interface", &route->ifname, error)
          || !read_lan_family (o, where, &route->family, error)
          || !read_string (o, where, "gateway", &route->gateway, error)
          || !read_guint (o, where, "metric", G_MAXUINT32, &route->metric, error))
        return NULL;
      route->ifindex = lan_ifindex (lan, route->ifname);
    }
  return g_steal_pointer (&lan);
}

static PhNmFacts *
nm_from_json (JsonObject *object, GError **error)
{
  const char *where = "lan.network_manager";
  g_autoptr (PhNmFacts) nm = ph_nm_facts_new ();
  JsonObject *connection, *ipv4, *ipv6;
  JsonArray *addresses;

  if (!read_bool (object, where, "running", &nm->running, error)
      || !read_string (object, where, "version", &nm->version, error)
      || !read_string (object, where, "device", &nm->device, error)
      || !read_string (object, where, "ipv4_method", &nm->ipv4_method, error)
      || !read_string (object, where, "ipv6_method", &nm->ipv6_method, error)
      || !read_object (object, where, "connection", &connection, error)
      || !read_object (object, where, "ipv4", &ipv4, error)
      || !read_object (object, where, "ipv6", &ipv6, error))
    return NULL;
  if (connection
      && (!read_string (connection, "lan.network_manager.connection", "id", &nm->connection_id,
                        error)
          || !read_string (connection, "lan.network_manager.connection", "uuid",
                           &nm->connection_uuid, error)
          || !read_string (connection, "lan.network_manager.connection", "type",
                           &nm->connection_type, error)
          || !read_bool (connection, "lan.network_manager.connection", "default_ipv4",
                         &nm->default_ipv4, error)
          || !read_bool (connection, "lan.network_manager.connection", "default_ipv6",
                         &nm->default_ipv6, error)))
    return NULL;
  if (ipv4)
    {
      guint64 expiry = 0;

      where = "lan.network_manager.ipv4";
      if (!read_string (ipv4, where, "address", &nm->ipv4_address, error)
          || !read_guint (ipv4, where, "prefix", 32, &nm->ipv4_prefix, error)
          || !read_string (ipv4, where, "gateway", &nm->ipv4_gateway, error)
          || !read_bool (ipv4, where, "dhcp", &nm->ipv4_dhcp, error)
          || !read_guint (ipv4, where, "lease_seconds", G_MAXUINT32, &nm->dhcp_lease_s, error)
          || !read_uint (ipv4, where, "lease_expires", G_MAXINT64, &expiry, error)
          || !read_string (ipv4, where, "dhcp_server", &nm->dhcp_server, error))
        return NULL;
      nm->dhcp_expiry = (gint64) expiry;
    }
  if (ipv6)
    {
      where = "lan.network_manager.ipv6";
      if (!read_array (ipv6, where, "addresses", &addresses, error)
          || !read_string (ipv6, where, "gateway", &nm->ipv6_gateway, error)
          || !read_bool (ipv6, where, "default_route", &nm->ipv6_default_route, error))
        return NULL;
      for (guint i = 0; addresses && i < json_array_get_length (addresses); i++)
        {
          g_autofree char *place = g_strdup_printf ("%s.addresses[%u]", where, i);
          JsonObject *o = array_object (addresses, i, where, "addresses", error);
          g_autofree char *address = NULL;
          guint prefix = 128;
          int kind = PH_NM_IPV6_KIND_GLOBAL;
          guint before = nm->ipv6_addresses->len;

          if (!o || !read_required_string (o, place, "address", &address, error)
              || !read_guint (o, place, "prefix", 128, &prefix, error)
              || !read_enum (o, place, "kind", nm_kind_name, PH_NM_IPV6_KIND_GLOBAL,
                             PH_NM_IPV6_KIND_OTHER, &kind, error))
            return NULL;
          ph_nm_facts_add_ipv6_address (nm, address, prefix);
          if (nm->ipv6_addresses->len == before)
            {
              json_fail (error, place, "“%s” is not an IPv6 address", address);
              return NULL;
            }
          /* the kernel's word (temporary) is kept as it was recorded */
          ((PhNmAddress *) g_ptr_array_index (nm->ipv6_addresses, before))->kind = kind;
        }
    }
  return g_steal_pointer (&nm);
}

static PhUpnpMapping *
upnp_mapping_from_json (JsonObject *o, const char *where, GError **error)
{
  g_autoptr (PhUpnpMapping) mapping = g_new0 (PhUpnpMapping, 1);

  if (!read_guint (o, where, "external_port", 65535, &mapping->external_port, error)
      || !read_string (o, where, "protocol", &mapping->protocol, error)
      || !read_string (o, where, "internal_client", &mapping->internal_client, error)
      || !read_guint (o, where, "internal_port", 65535, &mapping->internal_port, error)
      || !read_string (o, where, "description", &mapping->description, error)
      || !read_bool (o, where, "enabled", &mapping->enabled, error)
      || !read_string (o, where, "remote_host", &mapping->remote_host, error)
      || !read_guint (o, where, "lease_seconds", G_MAXUINT32, &mapping->lease_s, error)
      || !read_bool (o, where, "to_this_host", &mapping->to_this_host, error)
      || !read_bool (o, where, "to_swarm_port", &mapping->to_swarm_port, error)
      || !read_bool (o, where, "ours", &mapping->ours, error))
    return NULL;
  if (!mapping->protocol)
    mapping->protocol = g_strdup ("TCP");
  return g_steal_pointer (&mapping);
}

static PhUpnpFacts *
upnp_from_json (JsonObject *object, gboolean with_warnings, GError **error)
{
  const char *where = "upnp";
  g_autoptr (PhUpnpFacts) upnp = ph_upnp_facts_new ();
  JsonObject *router, *ours, *holder;
  JsonArray *array;
  int scope = PH_UPNP_EXTERNAL_NONE;

  if (!read_bool (object, where, "found", &upnp->found, error)
      || !read_string (object, where, "error", &upnp->error, error)
      || !read_string (object, where, "error_code", &upnp->error_code, error)
      || !read_string (object, where, "gateway", &upnp->gateway, error)
      || !read_object (object, where, "router", &router, error)
      || !read_string (object, where, "lan_address", &upnp->lan_address, error)
      || !read_string (object, where, "external_address", &upnp->external_address, error)
      || !read_enum (object, where, "external_scope", external_scope_name, PH_UPNP_EXTERNAL_NONE,
                     PH_UPNP_EXTERNAL_UNROUTABLE, &scope, error)
      || !read_guint (object, where, "swarm_port", 65535, &upnp->swarm_port, error)
      || !read_array (object, where, "mappings", &array, error)
      || !read_bool (object, where, "mappings_truncated", &upnp->mappings_truncated, error)
      || !read_object (object, where, "our_mapping", &ours, error)
      || !read_object (object, where, "swarm_port_holder", &holder, error))
    return NULL;
  upnp->external_scope = scope;
  if (router)
    {
      where = "upnp.router";
      upnp->router = g_new0 (PhUpnpDeviceInfo, 1);
      if (!read_string (router, where, "name", &upnp->router->friendly_name, error)
          || !read_string (router, where, "manufacturer", &upnp->router->manufacturer, error)
          || !read_string (router, where, "model", &upnp->router->model_name, error)
          || !read_string (router, where, "model_number", &upnp->router->model_number, error)
          || !read_string (router, where, "device_type", &upnp->router->device_type, error)
          || !read_string (router, where, "admin_url", &upnp->router->admin_url, error)
          || !read_string (router, where, "desc_url", &upnp->desc_url, error)
          || !read_bool (router, where, "on_gateway", &upnp->on_gateway, error)
          || !read_bool (router, where, "connected", &upnp->connected, error))
        return NULL;
    }
  for (guint i = 0; array && i < json_array_get_length (array); i++)
    {
      g_autofree char *place = g_strdup_printf ("upnp.mappings[%u]", i);
      JsonObject *o = array_object (array, i, "upnp", "mappings", error);
      PhUpnpMapping *mapping = o ? upnp_mapping_from_json (o, place, error) : NULL;

      if (!mapping)
        return NULL;
      g_ptr_array_add (upnp->mappings, mapping);
    }
  /* our_mapping only says which of the swarm port's mappings are ours: find them again */
  if (ours)
    for (guint i = 0; i < upnp->mappings->len; i++)
      {
        PhUpnpMapping *m = g_ptr_array_index (upnp->mappings, i);
        PhUpnpMapping **slot
            = g_ascii_strcasecmp (m->protocol, "UDP") == 0 ? &upnp->our_udp : &upnp->our_tcp;

        if (m->ours && !*slot)
          *slot = ph_upnp_mapping_copy (m);
      }
  if (holder && !(upnp->holder = upnp_mapping_from_json (holder, "upnp.swarm_port_holder", error)))
    return NULL;

  if (!with_warnings)
    return g_steal_pointer (&upnp);
  if (!read_array (object, "upnp", "warnings", &array, error))
    return NULL;
  for (guint i = 0; array && i < json_array_get_length (array); i++)
    {
      g_autofree char *place = g_strdup_printf ("upnp.warnings[%u]", i);
      JsonObject *o = array_object (array, i, "upnp", "warnings", error);
      PhUpnpWarning *warning;

      if (!o)
        return NULL;
      warning = g_new0 (PhUpnpWarning, 1);
      g_ptr_array_add (upnp->warnings, warning);
      if (!read_required_string (o, place, "code", &warning->code, error)
          || !read_string (o, place, "message", &warning->message, error))
        return NULL;
      if (!warning->message)
        warning->message = g_strdup (warning->code);
    }
  return g_steal_pointer (&upnp);
}

/* The router's warnings that ph_upnp_facts_analyse words, in the current language. */
static void
upnp_translate_warnings (PhUpnpFacts *upnp, JsonObject *object)
{
  g_autoptr (PhUpnpFacts) fresh = upnp_from_json (object, FALSE, NULL);

  if (!fresh)
    return;
  g_ptr_array_set_size (fresh->warnings, 0);
  ph_upnp_facts_analyse (fresh);
  for (guint i = 0; i < upnp->warnings->len; i++)
    {
      PhUpnpWarning *warning = g_ptr_array_index (upnp->warnings, i);

      for (guint j = 0; j < fresh->warnings->len; j++)
        {
          PhUpnpWarning *worded = g_ptr_array_index (fresh->warnings, j);

          if (g_str_equal (warning->code, worded->code))
            {
              g_free (warning->message);
              warning->message = g_strdup (worded->message);
              break;
            }
        }
    }
}

static void
kubo_advice_free (PhKuboAdvice *advice)
{
  g_free (advice->id);
  g_free (advice->message);
  g_free (advice->key);
  g_free (advice);
}

static gboolean
kubo_advice_from_json (JsonObject *object, const char *name, GPtrArray *out, GError **error)
{
  JsonArray *array;

  if (!read_array (object, "node", name, &array, error))
    return FALSE;
  for (guint i = 0; array && i < json_array_get_length (array); i++)
    {
      g_autofree char *place = g_strdup_printf ("node.%s[%u]", name, i);
      JsonObject *o = array_object (array, i, "node", name, error);
      PhKuboAdvice *advice;

      if (!o)
        return FALSE;
      advice = g_new0 (PhKuboAdvice, 1);
      g_ptr_array_add (out, advice);
      if (!read_required_string (o, place, "id", &advice->id, error)
          || !read_string (o, place, "message", &advice->message, error)
          || !read_string (o, place, "key", &advice->key, error))
        return FALSE;
    }
  return TRUE;
}

static const char *
kubo_settings_source_to_string (int source)
{
  return source == PH_KUBO_SETTINGS_RPC ? "rpc" : source == PH_KUBO_SETTINGS_FILE ? "file" : "none";
}

static const char *
kubo_state_name (int state)
{
  return ph_kubo_state_to_string (state);
}

static const char *
kubo_reachability_name (int reachability)
{
  return ph_kubo_reachability_to_string (reachability);
}

static gboolean
read_flag (JsonObject *object, const char *where, const char *name, PhKuboFlag *out, GError **error)
{
  gboolean value = TRUE;

  if (!json_member (object, name))
    return TRUE;
  if (!read_bool (object, where, name, &value, error))
    return FALSE;
  *out = value ? PH_KUBO_FLAG_TRUE : PH_KUBO_FLAG_FALSE;
  return TRUE;
}

static PhKuboSettings *
kubo_settings_from_json (JsonObject *o, GError **error)
{
  const char *where = "node.settings";
  g_autoptr (PhKuboSettings) settings = g_new0 (PhKuboSettings, 1);
  gboolean nat_port_map = TRUE, authorizations = FALSE;

  if (!read_strv (o, where, "swarm", &settings->swarm, error)
      || !read_strv (o, where, "api", &settings->api, error)
      || !read_strv (o, where, "gateway", &settings->gateway, error)
      || !read_strv (o, where, "announce", &settings->announce, error)
      || !read_strv (o, where, "append_announce", &settings->append_announce, error)
      || !read_strv (o, where, "no_announce", &settings->no_announce, error)
      || !read_bool (o, where, "nat_port_map", &nat_port_map, error)
      || !read_flag (o, where, "relay_client", &settings->relay_client, error)
      || !read_flag (o, where, "relay_service", &settings->relay_service, error)
      || !read_flag (o, where, "hole_punching", &settings->hole_punching, error)
      || !read_string (o, where, "autonat_service", &settings->autonat_service_mode, error)
      || !read_string (o, where, "routing_type", &settings->routing_type, error)
      || !read_bool (o, where, "api_authorizations", &authorizations, error))
    return NULL;
  settings->disable_nat_port_map = !nat_port_map;
  settings->n_authorizations = authorizations ? 1 : 0;
  return g_steal_pointer (&settings);
}

static PhKuboAutonat *
kubo_autonat_from_json (JsonObject *o, GError **error)
{
  const char *where = "node.reachability";
  g_autoptr (PhKuboAutonat) autonat = g_new0 (PhKuboAutonat, 1);
  int overall = PH_KUBO_REACHABILITY_UNKNOWN;

  if (!read_enum (o, where, "overall", kubo_reachability_name, PH_KUBO_REACHABILITY_UNKNOWN,
                  PH_KUBO_REACHABILITY_PRIVATE, &overall, error)
      || !read_string (o, where, "nat", &autonat->nat, error)
      || !read_strv (o, where, "reachable", &autonat->reachable, error)
      || !read_strv (o, where, "unreachable", &autonat->unreachable, error)
      || !read_strv (o, where, "unknown", &autonat->unknown, error))
    return NULL;
  autonat->reachability = overall;
  return g_steal_pointer (&autonat);
}

static gboolean
read_port (JsonObject *object, const char *where, const char *name, guint16 *out, GError **error)
{
  guint port = 0;

  if (!read_guint (object, where, name, 65535, &port, error))
    return FALSE;
  *out = (guint16) port;
  return TRUE;
}

static PhKuboNode *
node_from_json (JsonObject *o, GError **error)
{
  const char *where = "node";
  g_autoptr (PhKuboNode) node = g_new0 (PhKuboNode, 1);
  g_autofree char *version = NULL, *agent = NULL, *peer_id = NULL, *repo = NULL;
  gboolean other = FALSE;
  int state = PH_KUBO_STATE_NO_NODE, source = PH_KUBO_SETTINGS_NONE;
  JsonObject *ports, *settings, *reachability;

  node->warnings = g_ptr_array_new_with_free_func ((GDestroyNotify) kubo_advice_free);
  node->suggestions = g_ptr_array_new_with_free_func ((GDestroyNotify) kubo_advice_free);
  if (!read_enum (o, where, "state", kubo_state_name, PH_KUBO_STATE_NO_NODE, PH_KUBO_STATE_RUNNING,
                  &state, error)
      || !read_string (o, where, "error", &node->error, error)
      || !read_string (o, where, "repo", &repo, error)
      || !read_string (o, where, "api", &node->endpoint, error)
      || !read_string (o, where, "version", &version, error)
      || !read_string (o, where, "agent_version", &agent, error)
      || !read_string (o, where, "peer_id", &peer_id, error)
      || !read_bool (o, where, "other_node", &other, error)
      || !read_port (o, where, "swarm_port", &node->swarm_port, error)
      || !read_object (o, where, "swarm_ports", &ports, error)
      || !read_enum (o, where, "settings_source", kubo_settings_source_to_string,
                     PH_KUBO_SETTINGS_NONE, PH_KUBO_SETTINGS_FILE, &source, error)
      || !read_object (o, where, "settings", &settings, error)
      || !read_object (o, where, "reachability", &reachability, error)
      || !read_string (o, where, "reachability_error", &node->autonat_error, error)
      || !kubo_advice_from_json (o, "warnings", node->warnings, error)
      || !kubo_advice_from_json (o, "suggestions", node->suggestions, error))
    return NULL;
  node->state = state;
  node->settings_source = source;
  node->repo_found = repo != NULL;
  node->repo_path = g_steal_pointer (&repo);
  if (version)
    {
      node->version = g_new0 (PhKuboVersion, 1);
      ph_kubo_version_parse (version, &node->version->major, &node->version->minor,
                             &node->version->patch);
      node->version->version = g_steal_pointer (&version);
    }
  /* a running node answered id; the peer ID is then its, and the repository's only when they
   * are the same node */
  if (state == PH_KUBO_STATE_RUNNING && peer_id)
    {
      node->id = g_new0 (PhKuboId, 1);
      node->id->id = g_strdup (peer_id);
      node->id->agent_version = g_steal_pointer (&agent);
      node->id->addresses = g_new0 (char *, 1);
      node->id->protocols = g_new0 (char *, 1);
      node->repo_peer_id = other ? g_strdup ("") : g_strdup (peer_id);
    }
  else
    node->repo_peer_id = g_steal_pointer (&peer_id);
  if (ports
      && (!read_port (ports, "node.swarm_ports", "tcp4", &node->swarm_ports.tcp4, error)
          || !read_port (ports, "node.swarm_ports", "tcp6", &node->swarm_ports.tcp6, error)
          || !read_port (ports, "node.swarm_ports", "udp4", &node->swarm_ports.udp4, error)
          || !read_port (ports, "node.swarm_ports", "udp6", &node->swarm_ports.udp6, error)))
    return NULL;
  if (settings && !(node->settings = kubo_settings_from_json (settings, error)))
    return NULL;
  if (reachability && !(node->autonat = kubo_autonat_from_json (reachability, error)))
    return NULL;
  return g_steal_pointer (&node);
}

static const char *
probe_result_name (int result)
{
  /* ph_probe_result_to_string has no word of its own for NO_CANDIDATE (it says "error") */
  return result == PH_PROBE_RESULT_NO_CANDIDATE ? "no-candidate"
                                                : ph_probe_result_to_string (result);
}

static const char *
probe_protocol_name (int protocol)
{
  return ph_probe_protocol_to_string (protocol);
}

static const char *
family_name (int family)
{
  return ph_family_to_string (family);
}

static char *
server_ip (const char *server)
{
  g_auto (GStrv) parts = g_strsplit (server, "/", 4);

  if (g_strv_length (parts) >= 3
      && (g_str_equal (parts[1], "ip4") || g_str_equal (parts[1], "ip6")
          || g_str_equal (parts[1], "dnsaddr") || g_str_equal (parts[1], "dns4")
          || g_str_equal (parts[1], "dns6")))
    return g_strdup (parts[2]);
  return g_strdup (server);
}

static gboolean
probes_from_json (JsonObject *object, GPtrArray *out, GError **error)
{
  JsonArray *array;

  if (!read_array (object, "the top", "probes", &array, error))
    return FALSE;
  for (guint i = 0; array && i < json_array_get_length (array); i++)
    {
      g_autofree char *where = g_strdup_printf ("probes[%u]", i);
      JsonObject *o = array_object (array, i, "the top", "probes", error);
      g_autofree char *ip = NULL;
      PhProbeEvidence *e;
      int family = PH_FAMILY_IPV4, protocol = PH_PROBE_PROTOCOL_AUTONAT_V2;
      int result = PH_PROBE_RESULT_ERROR;

      if (!o)
        return FALSE;
      e = ph_probe_evidence_new ();
      g_ptr_array_add (out, e);
      if (!read_required_string (o, where, "server", &e->server, error)
          || !read_enum (o, where, "family", family_name, PH_FAMILY_IPV4, PH_FAMILY_IPV6, &family,
                         error)
          || !read_enum (o, where, "protocol", probe_protocol_name, PH_PROBE_PROTOCOL_AUTONAT_V2,
                         PH_PROBE_PROTOCOL_AUTONAT_V1, &protocol, error)
          || !read_string (o, where, "address", &e->address, error)
          || !read_string (o, where, "observed", &e->observed, error)
          || !read_string (o, where, "detail", &e->detail, error)
          || !read_guint (o, where, "ms", G_MAXUINT32, &e->ms, error))
        return FALSE;
      if (!read_enum (o, where, "result", probe_result_name, PH_PROBE_RESULT_REACHABLE,
                      PH_PROBE_RESULT_ERROR, &result, error))
        return FALSE;
      e->family = family;
      e->protocol = protocol;
      e->result = result;
      ip = server_ip (e->server);
      e->group = ph_verdict_group_for_address (ip);
    }
  return TRUE;
}

static const char *
verdict_name (int verdict)
{
  return ph_verdict_to_string (verdict);
}

static gboolean
family_from_json (PhDiagnosis *self, JsonObject *root, PhFamily family, GError **error)
{
  const char *name = ph_family_to_string (family);
  PhFamilyResult *result = &self->families[family];
  JsonObject *o;
  int verdict = PH_VERDICT_UNKNOWN;

  if (!read_object (root, "the top", name, &o, error))
    return FALSE;
  if (!o)
    return json_fail (error, name, "missing");
  if (!json_member (o, "verdict"))
    return json_fail (error, name, "“verdict” is missing");
  if (!read_enum (o, name, "verdict", verdict_name, PH_VERDICT_UNKNOWN, PH_VERDICT_UNREACHABLE,
                  &verdict, error)
      || !read_string (o, name, "reason", &result->reason, error)
      || !read_bool (o, name, "confident", &result->confident, error)
      || !read_strings (o, name, "causes", FALSE, result->causes, error)
      || !read_strings (o, name, "addresses", FALSE, result->addresses, error))
    return FALSE;
  result->verdict = verdict;
  if (family == PH_FAMILY_IPV4 && json_member (o, "path"))
    {
      g_autoptr (GPtrArray) path = g_ptr_array_new_with_free_func (g_free);

      if (!read_strings (o, name, "path", TRUE, path, error))
        return FALSE;
      ph_diagnosis_set_path (self, path);
    }
  return TRUE;
}

PhDiagnosis *
ph_diagnosis_new_from_json (JsonNode *node, GError **error)
{
  g_autoptr (PhDiagnosis) self = NULL;
  JsonObject *root, *lan, *nm, *upnp, *kubo;
  g_autofree char *source = NULL;
  guint64 elapsed = 0;

  g_return_val_if_fail (node != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      json_fail (error, "the top", "not an object");
      return NULL;
    }
  root = json_node_get_object (node);
  self = ph_diagnosis_new ();
  if (!read_guint (root, "the top", "port", 65535, &self->port, error)
      || !read_string (root, "the top", "port_owner", &self->port_owner, error)
      || !read_string (root, "the top", "peer_id", &self->peer_id, error)
      || !read_uint (root, "the top", "elapsed_ms", G_MAXINT64, &elapsed, error)
      || !family_from_json (self, root, PH_FAMILY_IPV4, error)
      || !family_from_json (self, root, PH_FAMILY_IPV6, error)
      || !probes_from_json (root, self->probes, error)
      || !read_object (root, "the top", "lan", &lan, error)
      || !read_object (root, "the top", "upnp", &upnp, error)
      || !read_object (root, "the top", "node", &kubo, error))
    return NULL;
  self->elapsed_ms = elapsed;

  if (lan)
    {
      if (!read_string (lan, "lan", "source", &source, error)
          || !read_string (lan, "lan", "error", &self->lan_error, error)
          || !read_object (lan, "lan", "network_manager", &nm, error))
        return NULL;
      if (g_strcmp0 (source, "none") != 0 && !(self->lan = lan_from_json (lan, error)))
        return NULL;
      if (nm && !(self->nm = nm_from_json (nm, error)))
        return NULL;
    }
  if (upnp)
    {
      if (!(self->upnp = upnp_from_json (upnp, TRUE, error)))
        return NULL;
      upnp_translate_warnings (self->upnp, upnp);
    }
  if (kubo && !(self->node = node_from_json (kubo, error)))
    return NULL;
  return g_steal_pointer (&self);
}

PhDiagnosis *
ph_diagnosis_new_from_json_data (const char *data, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len > PH_DIAGNOSIS_JSON_MAX_TEXT)
    {
      json_fail (error, "the text", "larger than %d bytes", PH_DIAGNOSIS_JSON_MAX_TEXT);
      return NULL;
    }
  if (!ph_json_depth_ok (data, len, PH_DIAGNOSIS_JSON_MAX_DEPTH))
    {
      json_fail (error, "the text", "nested deeper than %d levels", PH_DIAGNOSIS_JSON_MAX_DEPTH);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data ? data : "", (gssize) len, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (!root)
    {
      json_fail (error, "the text", "empty");
      return NULL;
    }
  return ph_diagnosis_new_from_json (root, error);
}

/* ---- recommendations ---- */

const char *
ph_fix_to_string (PhFix fix)
{
  switch (fix)
    {
      case PH_FIX_IPV6:
        return "ipv6";
      case PH_FIX_UPNP:
        return "upnp";
      case PH_FIX_FORWARD:
        return "forward";
      case PH_FIX_PROVIDER:
      default:
        return "provider";
    }
}

static gboolean
has_cause (PhDiagnosis *self, PhFamily family, const char *cause)
{
  GPtrArray *causes = self->families[family].causes;

  for (guint i = 0; i < causes->len; i++)
    if (g_strcmp0 (g_ptr_array_index (causes, i), cause) == 0)
      return TRUE;
  return FALSE;
}

/* A global IPv6 address on this machine, by the kernel's word or NetworkManager's. */
static gboolean
has_global_ipv6 (PhDiagnosis *self)
{
  for (guint i = 0; self->lan && i < self->lan->addresses->len; i++)
    {
      const PhLanAddress *a = g_ptr_array_index (self->lan->addresses, i);

      if (a->family == AF_INET6 && a->scope == PH_IP_SCOPE_PUBLIC && !a->deprecated)
        return TRUE;
    }
  return self->nm && ph_nm_facts_has_global_ipv6 (self->nm);
}

/* IPv6 turned off on this machine: what the network offers is unknown until it is on, and most
 * home networks do offer it now, so the road is worth trying. */
static gboolean
ipv6_off_here (PhDiagnosis *self)
{
  const char *method = self->nm ? self->nm->ipv6_method : NULL;

  return g_strcmp0 (method, "disabled") == 0 || g_strcmp0 (method, "ignore") == 0
         || g_strcmp0 (method, "link-local") == 0;
}

static gboolean
behind_provider_nat (PhDiagnosis *self)
{
  if (has_cause (self, PH_FAMILY_IPV4, "cgnat") || has_cause (self, PH_FAMILY_IPV4, "double-nat"))
    return TRUE;
  /* the router's own word, when the probe could not tell (no servers, port in use) */
  return self->upnp && self->upnp->found
         && (self->upnp->external_scope == PH_UPNP_EXTERNAL_CGNAT
             || self->upnp->external_scope == PH_UPNP_EXTERNAL_PRIVATE);
}

gboolean
ph_diagnosis_forwarding_can_help (PhDiagnosis *self)
{
  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), FALSE);
  return !behind_provider_nat (self);
}

guint
ph_diagnosis_list_fixes (PhDiagnosis *self, PhFix out[4])
{
  PhVerdict v4, v6;
  gboolean ipv6_road, global;
  guint n = 0;

  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), 0);
  g_return_val_if_fail (out != NULL, 0);

  v4 = self->families[PH_FAMILY_IPV4].verdict;
  v6 = self->families[PH_FAMILY_IPV6].verdict;
  global = has_global_ipv6 (self);
  ipv6_road = v6 != PH_VERDICT_REACHABLE && (global || ipv6_off_here (self));

  if (v4 == PH_VERDICT_REACHABLE)
    {
      /* a public IPv6 address that peers cannot reach is worth opening; no IPv6 at all is fine */
      if (global && v6 != PH_VERDICT_REACHABLE)
        out[n++] = PH_FIX_IPV6;
      return n;
    }
  if (behind_provider_nat (self))
    {
      out[n++] = PH_FIX_PROVIDER;
      if (ipv6_road)
        out[n++] = PH_FIX_IPV6;
      return n;
    }
  if (ipv6_road)
    out[n++] = PH_FIX_IPV6;
  if (self->upnp && self->upnp->found && self->upnp->external_scope == PH_UPNP_EXTERNAL_PUBLIC)
    out[n++] = PH_FIX_UPNP;
  out[n++] = PH_FIX_FORWARD;
  return n;
}

char *
ph_diagnosis_dup_headline (PhDiagnosis *self)
{
  PhVerdict v4, v6;
  gboolean no_ipv6;

  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);

  v4 = self->families[PH_FAMILY_IPV4].verdict;
  v6 = self->families[PH_FAMILY_IPV6].verdict;
  no_ipv6 = v6 == PH_VERDICT_UNKNOWN
            && g_strcmp0 (self->families[PH_FAMILY_IPV6].reason, "ipv6-unavailable") == 0;

  if (v4 == PH_VERDICT_REACHABLE && v6 == PH_VERDICT_REACHABLE)
    return g_strdup (_ ("Peers on the internet can reach your node over IPv4 and IPv6."));
  if (v4 == PH_VERDICT_REACHABLE && v6 == PH_VERDICT_UNREACHABLE)
    return g_strdup (_ ("Peers on the internet can reach your node over IPv4, not over IPv6."));
  if (v4 == PH_VERDICT_REACHABLE && no_ipv6)
    return g_strdup (_ ("Peers on the internet can reach your node over IPv4."));
  if (v4 == PH_VERDICT_REACHABLE)
    return g_strdup (_ ("Peers on the internet can reach your node over IPv4; Porthole could not "
                        "tell about IPv6."));
  if (v6 == PH_VERDICT_REACHABLE && v4 == PH_VERDICT_UNREACHABLE)
    return g_strdup (_ ("Peers on the internet can reach your node over IPv6, not over IPv4."));
  if (v6 == PH_VERDICT_REACHABLE)
    return g_strdup (_ ("Peers on the internet can reach your node over IPv6; Porthole could not "
                        "tell about IPv4."));
  if (v4 == PH_VERDICT_UNREACHABLE && v6 == PH_VERDICT_UNREACHABLE)
    return g_strdup (_ ("Peers on the internet cannot reach your node, over IPv4 or IPv6."));
  if (v4 == PH_VERDICT_UNREACHABLE && no_ipv6)
    return g_strdup (_ ("Peers on the internet cannot reach your node over IPv4, and this "
                        "computer has no IPv6."));
  if (v4 == PH_VERDICT_UNREACHABLE)
    return g_strdup (_ ("Peers on the internet cannot reach your node over IPv4; Porthole could "
                        "not tell about IPv6."));
  if (v6 == PH_VERDICT_UNREACHABLE)
    return g_strdup (_ ("Peers on the internet cannot reach your node over IPv6; Porthole could "
                        "not tell about IPv4."));
  return g_strdup (verdict_sentence (PH_VERDICT_UNKNOWN));
}

PhForwardingFacts *
ph_diagnosis_dup_forwarding (PhDiagnosis *self, GError **error)
{
  const char *admin_url = NULL;

  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);

  if (self->upnp && self->upnp->found && self->upnp->router)
    admin_url = self->upnp->router->admin_url;
  return ph_forwarding_facts_gather (self->nm, self->lan, self->port ? self->port : PH_DEFAULT_PORT,
                                     admin_url, error);
}
