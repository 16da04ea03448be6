/* ph-verdict.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "p2p/ph-ip-scope.h"
#include "ph-verdict.h"

PhProbeEvidence *
ph_probe_evidence_new (void)
{
  return g_new0 (PhProbeEvidence, 1);
}

PhProbeEvidence *
ph_probe_evidence_copy (const PhProbeEvidence *evidence)
{
  PhProbeEvidence *copy;

  g_return_val_if_fail (evidence != NULL, NULL);

  copy = g_memdup2 (evidence, sizeof *evidence);
  copy->server = g_strdup (evidence->server);
  copy->group = g_strdup (evidence->group);
  copy->address = g_strdup (evidence->address);
  copy->observed = g_strdup (evidence->observed);
  copy->detail = g_strdup (evidence->detail);
  return copy;
}

void
ph_probe_evidence_free (PhProbeEvidence *evidence)
{
  if (!evidence)
    return;
  g_free (evidence->server);
  g_free (evidence->group);
  g_free (evidence->address);
  g_free (evidence->observed);
  g_free (evidence->detail);
  g_free (evidence);
}

void
ph_verdict_facts_clear (PhVerdictFacts *facts)
{
  g_clear_pointer (&facts->local_ipv4, g_ptr_array_unref);
  g_clear_pointer (&facts->igd_external_ipv4, g_free);
  g_clear_pointer (&facts->path_ipv4, g_ptr_array_unref);
  g_clear_pointer (&facts->port_owner, g_free);
}

void
ph_family_verdict_clear (PhFamilyVerdict *verdict)
{
  g_clear_pointer (&verdict->causes, g_ptr_array_unref);
  g_clear_pointer (&verdict->addresses, g_ptr_array_unref);
  g_clear_pointer (&verdict->reason, g_free);
}

const char *
ph_probe_result_to_string (PhProbeResult result)
{
  switch (result)
    {
      case PH_PROBE_RESULT_REACHABLE:
        return "reachable";
      case PH_PROBE_RESULT_UNREACHABLE:
        return "unreachable";
      case PH_PROBE_RESULT_DIAL_BACK_FAILED:
        return "dial-back-failed";
      case PH_PROBE_RESULT_UNPROVEN:
        return "unproven";
      case PH_PROBE_RESULT_REFUSED:
        return "refused";
      case PH_PROBE_RESULT_NO_ANSWER:
        return "no-answer";
      case PH_PROBE_RESULT_UNSUPPORTED:
        return "unsupported";
      case PH_PROBE_RESULT_NO_CANDIDATE:
        return "no-candidate";
      case PH_PROBE_RESULT_ERROR:
      default:
        return "error";
    }
}

const char *
ph_probe_protocol_to_string (PhProbeProtocol protocol)
{
  return protocol == PH_PROBE_PROTOCOL_AUTONAT_V1 ? "autonat-v1" : "autonat-v2";
}

/* Servers in one /16 (IPv4) or /32 (IPv6) may well be one operator: they count as one voice. */
char *
ph_verdict_group_for_address (const char *ip)
{
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (ip ? ip : "");
  const guint8 *bytes;

  if (!address)
    return g_strdup (ip ? ip : "");
  bytes = g_inet_address_to_bytes (address);
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4)
    return g_strdup_printf ("%u.%u.0.0/16", bytes[0], bytes[1]);
  return g_strdup_printf ("%x:%x::/32", bytes[0] << 8 | bytes[1], bytes[2] << 8 | bytes[3]);
}

JsonNode *
ph_probe_evidence_to_json (const PhProbeEvidence *e)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "server");
  json_builder_add_string_value (b, e->server);
  json_builder_set_member_name (b, "family");
  json_builder_add_string_value (b, ph_family_to_string (e->family));
  json_builder_set_member_name (b, "protocol");
  json_builder_add_string_value (b, ph_probe_protocol_to_string (e->protocol));
  json_builder_set_member_name (b, "address");
  if (e->address)
    json_builder_add_string_value (b, e->address);
  else
    json_builder_add_null_value (b);
  if (e->observed)
    {
      json_builder_set_member_name (b, "observed");
      json_builder_add_string_value (b, e->observed);
    }
  json_builder_set_member_name (b, "result");
  json_builder_add_string_value (b, ph_probe_result_to_string (e->result));
  if (e->detail)
    {
      json_builder_set_member_name (b, "detail");
      json_builder_add_string_value (b, e->detail);
    }
  json_builder_set_member_name (b, "ms");
  json_builder_add_int_value (b, e->ms);
  json_builder_end_object (b);

  return json_builder_get_root (b);
}

/* "/ip4/1.2.3.4/tcp/4001" → "1.2.3.4", port 4001; no multiaddr parsing needed for our own text. */
static gboolean
split_address (const char *multiaddr, char **ip, guint *port)
{
  g_auto (GStrv) parts = NULL;

  if (!multiaddr)
    return FALSE;
  parts = g_strsplit (multiaddr, "/", 0);
  if (g_strv_length (parts) < 5
      || (g_strcmp0 (parts[1], "ip4") != 0 && g_strcmp0 (parts[1], "ip6") != 0))
    return FALSE;
  if (ip)
    *ip = g_strdup (parts[2]);
  if (port)
    *port = (guint) g_ascii_strtoull (parts[4], NULL, 10);
  return TRUE;
}

static PhIpScope
scope_of (const char *ip)
{
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (ip ? ip : "");

  return address ? ph_ip_scope_classify_inet (address) : PH_IP_SCOPE_RESERVED;
}

static void
add_unique (GPtrArray *array, const char *text)
{
  if (!text)
    return;
  for (guint i = 0; i < array->len; i++)
    if (g_strcmp0 (g_ptr_array_index (array, i), text) == 0)
      return;
  g_ptr_array_add (array, g_strdup (text));
}

typedef struct
{
  GPtrArray *reachable_groups;   /* groups with proof the address is reachable */
  GPtrArray *unreachable_groups; /* groups that tried and failed */
  GPtrArray *answered_groups;    /* groups we reached at all */
  GPtrArray *observed_ips;
  gboolean symmetric; /* one local port, several observed ports */
} Tally;

static void
tally_clear (Tally *t)
{
  g_clear_pointer (&t->reachable_groups, g_ptr_array_unref);
  g_clear_pointer (&t->unreachable_groups, g_ptr_array_unref);
  g_clear_pointer (&t->answered_groups, g_ptr_array_unref);
  g_clear_pointer (&t->observed_ips, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Tally, tally_clear)

static void
tally_evidence (Tally *t, GPtrArray *evidence, PhFamily family, PhFamilyVerdict *out)
{
  guint first_local_port = 0, first_observed_port = 0;

  t->reachable_groups = g_ptr_array_new_with_free_func (g_free);
  t->unreachable_groups = g_ptr_array_new_with_free_func (g_free);
  t->answered_groups = g_ptr_array_new_with_free_func (g_free);
  t->observed_ips = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; evidence && i < evidence->len; i++)
    {
      const PhProbeEvidence *e = g_ptr_array_index (evidence, i);
      g_autofree char *observed_ip = NULL;
      guint observed_port = 0;

      if (e->family != family)
        continue;
      if (e->result != PH_PROBE_RESULT_ERROR)
        add_unique (t->answered_groups, e->group);

      if (split_address (e->observed, &observed_ip, &observed_port))
        {
          add_unique (t->observed_ips, observed_ip);
          /* symmetric NAT: the same local port maps to a new port for each destination */
          if (e->local_port && first_local_port == e->local_port && first_observed_port
              && observed_port != first_observed_port)
            t->symmetric = TRUE;
          if (e->local_port && !first_local_port)
            {
              first_local_port = e->local_port;
              first_observed_port = observed_port;
            }
        }

      switch (e->result)
        {
          case PH_PROBE_RESULT_REACHABLE:
            add_unique (t->reachable_groups, e->group);
            add_unique (out->addresses, e->address);
            break;
          case PH_PROBE_RESULT_UNREACHABLE:
            add_unique (t->unreachable_groups, e->group);
            break;
          case PH_PROBE_RESULT_DIAL_BACK_FAILED:
          case PH_PROBE_RESULT_UNPROVEN:
          case PH_PROBE_RESULT_REFUSED:
          case PH_PROBE_RESULT_NO_ANSWER:
          case PH_PROBE_RESULT_UNSUPPORTED:
          case PH_PROBE_RESULT_ERROR:
          default:
            break;
        }
    }
}

static gboolean
is_local_ipv4 (const PhVerdictFacts *facts, const char *ip)
{
  for (guint i = 0; facts->local_ipv4 && i < facts->local_ipv4->len; i++)
    if (g_strcmp0 (g_ptr_array_index (facts->local_ipv4, i), ip) == 0)
      return TRUE;
  return FALSE;
}

/* What the routers past ours are: hop 0 is our own router, so look from hop 1 on. */
static gboolean
path_has (const PhVerdictFacts *facts, PhIpScope scope)
{
  for (guint i = 1; facts->path_ipv4 && i < facts->path_ipv4->len; i++)
    {
      const char *hop = g_ptr_array_index (facts->path_ipv4, i);

      if (hop && scope_of (hop) == scope)
        return TRUE;
    }
  return FALSE;
}

static void
name_ipv4_causes (const PhVerdictFacts *facts, const Tally *t, PhFamilyVerdict *out)
{
  const char *observed = t->observed_ips->len ? g_ptr_array_index (t->observed_ips, 0) : NULL;
  const char *igd
      = facts->igd_external_ipv4 && *facts->igd_external_ipv4 ? facts->igd_external_ipv4 : NULL;
  PhIpScope igd_scope = igd ? scope_of (igd) : PH_IP_SCOPE_UNSPECIFIED;
  gboolean igd_unusable = facts->igd_found && igd_scope != PH_IP_SCOPE_PUBLIC;

  /* A router whose WAN side is in 100.64/10, or a router past ours in that range, is the ISP's
   * carrier-grade NAT; a router whose WAN address is private, hidden, or not what the servers
   * see sits behind another NAT. Either way a mapping on this router alone cannot help. A private
   * hop past ours counts only when our router agrees: ISPs number some inner routers privately. */
  if ((observed && scope_of (observed) == PH_IP_SCOPE_CGNAT) || igd_scope == PH_IP_SCOPE_CGNAT
      || path_has (facts, PH_IP_SCOPE_CGNAT))
    add_unique (out->causes, "cgnat");
  else if (igd_unusable || (igd && observed && g_strcmp0 (igd, observed) != 0))
    add_unique (out->causes, "double-nat");

  if (observed && !is_local_ipv4 (facts, observed))
    add_unique (out->causes, "behind-nat");
  else if (observed)
    add_unique (out->causes, "firewalled");

  if (t->symmetric)
    add_unique (out->causes, "symmetric-nat");
}

void
ph_verdict_decide (const PhVerdictFacts *facts, GPtrArray *evidence, PhFamily family,
                   PhFamilyVerdict *out)
{
  g_auto (Tally) t = { 0 };

  g_return_if_fail (facts != NULL);
  g_return_if_fail (out != NULL);

  memset (out, 0, sizeof *out);
  out->verdict = PH_VERDICT_UNKNOWN;
  out->causes = g_ptr_array_new_with_free_func (g_free);
  out->addresses = g_ptr_array_new_with_free_func (g_free);

  if (family == PH_FAMILY_IPV6 && (!facts->has_global_ipv6 || !facts->has_ipv6_route))
    {
      add_unique (out->causes, "ipv6-unavailable");
      out->reason = g_strdup ("ipv6-unavailable");
      return;
    }

  tally_evidence (&t, evidence, family, out);

  /* Never "reachable" without proof; never "unreachable" while any proof says otherwise. */
  if (t.reachable_groups->len > 0)
    {
      out->verdict = PH_VERDICT_REACHABLE;
      out->confident = t.reachable_groups->len >= PH_VERDICT_CONFIDENT_GROUPS;
      return;
    }

  if (facts->port_in_use)
    {
      add_unique (out->causes, "port-in-use");
      out->reason = g_strdup ("port-in-use");
      return;
    }

  if (t.unreachable_groups->len > 0)
    {
      out->verdict = PH_VERDICT_UNREACHABLE;
      out->confident = t.unreachable_groups->len >= PH_VERDICT_CONFIDENT_GROUPS;
      if (family == PH_FAMILY_IPV4)
        name_ipv4_causes (facts, &t, out);
      else
        add_unique (out->causes, "ipv6-firewalled");
      return;
    }

  if (t.answered_groups->len == 0)
    {
      add_unique (out->causes, "no-servers");
      out->reason = g_strdup ("no-servers");
      return;
    }
  out->reason = g_strdup ("inconclusive");
}
