/* ph-diagnosis.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <sys/socket.h>

#include "ph-diagnosis.h"

typedef struct
{
  PhVerdict verdict;
  char *reason;
} PhFamilyResult;

struct _PhDiagnosis
{
  GObject parent_instance;

  PhLanFacts *lan;
  char *lan_error;
  PhNmFacts *nm;
  PhFamilyResult families[2];
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
  for (guint i = 0; i < G_N_ELEMENTS (self->families); i++)
    g_clear_pointer (&self->families[i].reason, g_free);

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
ph_diagnosis_set_family (PhDiagnosis *self, PhFamily family, PhVerdict verdict,
                         const char *reason)
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
  json_builder_set_member_name (builder, "causes");
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "addresses");
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
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
  add_family_json (self, builder, PH_FAMILY_IPV4);
  add_family_json (self, builder, PH_FAMILY_IPV6);
  json_builder_set_member_name (builder, "probes");
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "lan");
  json_builder_add_value (builder, lan_to_json (self));
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
      return _("Peers on the internet can reach your node.");
    case PH_VERDICT_UNREACHABLE:
      return _("Peers on the internet cannot reach your node.");
    case PH_VERDICT_UNKNOWN:
    default:
      return _("Porthole could not tell whether peers on the internet can reach your node.");
    }
}

static void
append_lan_text (PhDiagnosis *self, GString *out)
{
  const PhLanFacts *lan = self->lan;

  g_string_append_printf (out, "\n%s\n", _("This machine"));
  if (!lan)
    {
      g_string_append_printf (out, "  %s\n",
                              self->lan_error ? self->lan_error
                                              : _("The network interfaces could not be read."));
      return;
    }

  for (guint i = 0; i < lan->interfaces->len; i++)
    {
      const PhLanInterface *iface = g_ptr_array_index (lan->interfaces, i);

      if (iface->loopback)
        continue;
      g_string_append_printf (out, "  %s (%s)\n", iface->name, iface->up ? _("up") : _("down"));
      for (guint j = 0; j < lan->addresses->len; j++)
        {
          const PhLanAddress *addr = g_ptr_array_index (lan->addresses, j);

          if (addr->ifindex != iface->index)
            continue;
          g_string_append_printf (out, "    %s %s/%u  %s%s\n",
                                  addr->family == AF_INET6 ? "IPv6" : "IPv4", addr->address,
                                  addr->prefix, ph_ip_scope_to_string (addr->scope),
                                  addr->temporary ? _(", temporary") : "");
        }
    }

  for (guint i = 0; i < lan->gateways->len; i++)
    {
      const PhLanRoute *route = g_ptr_array_index (lan->gateways, i);

      /* TRANSLATORS: "Default gateway (IPv4): 192.168.1.1 via eth0" */
      g_string_append_printf (out, "  %s (%s): %s %s %s\n", _("Default gateway"),
                              route->family == AF_INET6 ? "IPv6" : "IPv4",
                              route->gateway ? route->gateway : _("on link"), _("via"),
                              route->ifname ? route->ifname : "?");
    }
  if (lan->gateways->len == 0)
    g_string_append_printf (out, "  %s\n", _("No default route: this machine is offline."));
}

static void
append_nm_text (PhDiagnosis *self, GString *out)
{
  const PhNmFacts *nm = self->nm;

  g_string_append_printf (out, "\n%s\n", _("NetworkManager"));
  if (!nm || !nm->running)
    {
      g_string_append_printf (out, "  %s\n",
                              _("NetworkManager is not running; the facts above come from the "
                                "kernel."));
      return;
    }
  if (!nm->connection_id)
    {
      g_string_append_printf (out, "  %s\n", _("No active connection."));
      return;
    }
  g_string_append_printf (out, _("  Active connection “%s” on %s\n"), nm->connection_id,
                          nm->device ? nm->device : "?");
  g_string_append_printf (out, _("  IPv6 method: %s\n"),
                          nm->ipv6_method ? nm->ipv6_method : _("unknown"));
}

char *
ph_diagnosis_to_text (PhDiagnosis *self)
{
  g_autoptr (GString) out = g_string_new (NULL);

  g_return_val_if_fail (PH_IS_DIAGNOSIS (self), NULL);

  g_string_append_printf (out, "%s\n", verdict_sentence (ph_diagnosis_get_verdict (self)));
  for (PhFamily f = PH_FAMILY_IPV4; f <= PH_FAMILY_IPV6; f++)
    {
      const PhFamilyResult *result = &self->families[f];

      g_string_append_printf (out, "  %s: %s", f == PH_FAMILY_IPV6 ? "IPv6" : "IPv4",
                              ph_verdict_to_string (result->verdict));
      if (result->reason)
        g_string_append_printf (out, " (%s)", result->reason);
      g_string_append_c (out, '\n');
    }
  append_lan_text (self, out);
  append_nm_text (self, out);

  return g_string_free (g_steal_pointer (&out), FALSE);
}
