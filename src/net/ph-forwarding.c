/* ph-forwarding.c: what to type into the router to forward the node's port by hand
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include <glib/gi18n.h>

#include "net/ph-upnp.h"
#include "p2p/ph-ip-scope.h"

#include "ph-forwarding.h"

G_DEFINE_QUARK (ph - forwarding - error - quark, ph_forwarding_error)

#define FORWARDING_NAME "IPFS"
#define FORWARDING_MAC_MAX 64

const char *
ph_forwarding_dhcp_to_string (PhForwardingDhcp dhcp)
{
  switch (dhcp)
    {
      case PH_FORWARDING_DHCP_YES:
        return "yes";
      case PH_FORWARDING_DHCP_NO:
        return "no";
      case PH_FORWARDING_DHCP_UNKNOWN:
      default:
        return "unknown";
    }
}

static void
value_free (PhForwardingValue *value)
{
  g_free (value->label);
  g_free (value->value);
  g_free (value->hint);
  g_free (value);
}

static void
warning_free (PhForwardingWarning *warning)
{
  g_free (warning->code);
  g_free (warning->message);
  g_free (warning);
}

void
ph_forwarding_facts_free (PhForwardingFacts *facts)
{
  if (facts == NULL)
    return;
  g_free (facts->lan_address);
  g_free (facts->interface);
  g_free (facts->mac);
  g_free (facts->gateway);
  g_free (facts->admin_url);
  g_free (facts->summary);
  g_clear_pointer (&facts->values, g_ptr_array_unref);
  g_clear_pointer (&facts->warnings, g_ptr_array_unref);
  g_free (facts);
}

/* Takes value and hint. */
static void
add_value (PhForwardingFacts *facts, const char *label, char *value, char *hint)
{
  PhForwardingValue *entry = g_new0 (PhForwardingValue, 1);

  entry->label = g_strdup (label);
  entry->value = value;
  entry->hint = hint;
  g_ptr_array_add (facts->values, entry);
}

/* Takes message. */
static void
add_warning (PhForwardingFacts *facts, const char *code, char *message)
{
  PhForwardingWarning *entry = g_new0 (PhForwardingWarning, 1);

  entry->code = g_strdup (code);
  entry->message = message;
  g_ptr_array_add (facts->warnings, entry);
}

/* An IPv4 literal, or NULL with the reason. */
static GInetAddress *
parse_ipv4 (const char *text, const char *what, GError **error)
{
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (text);

  if (address == NULL || g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV4)
    {
      g_autofree char *shown = g_utf8_make_valid (text, MIN (strlen (text), 64));

      g_set_error (error, PH_FORWARDING_ERROR, PH_FORWARDING_ERROR_INVALID,
                   /* Translators: the first %s is "this computer's address" or "the router's
                    * address" */
                   _ ("Porthole could not read %s (“%s” is not an IPv4 address), so it cannot say "
                      "what to forward where."),
                   what, shown);
      return NULL;
    }
  return g_steal_pointer (&address);
}

static gboolean
check_port (guint port, GError **error)
{
  g_autoptr (GError) refused = NULL;

  if (port == 0 || port > G_MAXUINT16)
    {
      g_set_error (error, PH_FORWARDING_ERROR, PH_FORWARDING_ERROR_REFUSED_PORT,
                   _ ("The node has no valid swarm port (%u), so there is no port to forward."),
                   port);
      return FALSE;
    }
  /* the same rule as for UPnP: never the API or gateway port */
  if (!ph_upnp_check_port (port, port, &refused))
    {
      g_set_error_literal (error, PH_FORWARDING_ERROR, PH_FORWARDING_ERROR_REFUSED_PORT,
                           refused->message);
      return FALSE;
    }
  return TRUE;
}

/* UPnP's presentation URL when it is http(s) with a host, else the gateway's root page. */
static void
set_admin_url (PhForwardingFacts *facts, const char *presentation_url)
{
  g_autoptr (GUri) uri = NULL;

  if (presentation_url != NULL)
    uri = g_uri_parse (presentation_url, G_URI_FLAGS_NONE, NULL);
  if (uri != NULL && g_uri_get_host (uri) != NULL && *g_uri_get_host (uri) != '\0'
      && (g_strcmp0 (g_uri_get_scheme (uri), "http") == 0
          || g_strcmp0 (g_uri_get_scheme (uri), "https") == 0))
    {
      facts->admin_url = g_uri_to_string (uri);
      facts->admin_url_from_upnp = TRUE;
      return;
    }
  facts->admin_url = g_strdup_printf ("http://%s/", facts->gateway);
}

static gboolean
mac_is_plain (const char *mac)
{
  if (mac == NULL || *mac == '\0' || strlen (mac) > FORWARDING_MAC_MAX)
    return FALSE;
  for (const char *c = mac; *c != '\0'; c++)
    if (!g_ascii_isxdigit (*c) && *c != ':' && *c != '-')
      return FALSE;
  return TRUE;
}

static void
add_values (PhForwardingFacts *facts)
{
  g_autofree char *port = g_strdup_printf ("%u", facts->port);

  add_value (facts, _ ("Name (or description, service)"), g_strdup (FORWARDING_NAME), NULL);
  add_value (facts, _ ("Protocol"), g_strdup (_ ("TCP and UDP")),
             g_strdup (_ ("Often offered as “Both” or “TCP/UDP”. If the router takes one protocol "
                          "per rule, make two rules with the same ports: one TCP, one UDP.")));
  add_value (facts, _ ("External port (or public, WAN port)"), g_strdup (port),
             g_strdup_printf (_ ("If the router asks for a range, enter %u to %u."), facts->port,
                              facts->port));
  add_value (facts, _ ("Internal port (or private, LAN port)"), g_strdup (port), NULL);
  add_value (facts, _ ("Internal IP address (or device, server)"), g_strdup (facts->lan_address),
             facts->mac != NULL
                 ? g_strdup_printf (_ ("If the router lists devices instead, choose this computer "
                                       "(hardware address %s)."),
                                    facts->mac)
                 : g_strdup (_ ("If the router lists devices instead, choose this computer.")));
}

static void
add_warnings (PhForwardingFacts *facts, GInetAddress *lan)
{
  g_autofree char *using_mac
      = facts->mac != NULL ? g_strdup_printf (_ (", using its hardware address %s"), facts->mac)
                           : g_strdup ("");

  switch (facts->dhcp)
    {
      case PH_FORWARDING_DHCP_YES:
        add_warning (facts, "dhcp-no-reservation",
                     g_strdup_printf (_ ("This computer got its address (%s) from the router by "
                                         "DHCP, and may get a different one later: the forwarding "
                                         "would then point to the wrong place. In the router, "
                                         "reserve %s for this computer (often called “DHCP "
                                         "reservation” or “static lease”)%s."),
                                      facts->lan_address, facts->lan_address, using_mac));
        break;
      case PH_FORWARDING_DHCP_UNKNOWN:
        add_warning (facts, "dhcp-unknown",
                     g_strdup_printf (_ ("Porthole could not tell whether this computer’s address "
                                         "(%s) comes from the router by DHCP. If it does, reserve "
                                         "it for this computer in the router (often called “DHCP "
                                         "reservation”)%s, or the forwarding may later point to "
                                         "the wrong place."),
                                      facts->lan_address, using_mac));
        break;
      case PH_FORWARDING_DHCP_NO:
      default:
        break;
    }

  switch (ph_ip_scope_classify_inet (lan))
    {
      case PH_IP_SCOPE_PUBLIC:
        add_warning (facts, "public-address",
                     g_strdup_printf (_ ("This computer’s address (%s) is public: no home router "
                                         "translates addresses in front of it, so port forwarding "
                                         "does not apply. Allow port %u in this computer’s "
                                         "firewall instead."),
                                      facts->lan_address, facts->port));
        break;
      case PH_IP_SCOPE_CGNAT:
        add_warning (facts, "cgnat-address",
                     g_strdup_printf (_ ("This computer’s address (%s) is in the range internet "
                                         "providers use for their own NAT (100.64.0.0/10): a "
                                         "forwarding on your router cannot reach it from the "
                                         "internet. Ask your provider for a public address, or use "
                                         "IPv6."),
                                      facts->lan_address));
        break;
      default:
        break;
    }
}

PhForwardingFacts *
ph_forwarding_facts_new (const PhForwardingInput *input, GError **error)
{
  g_autoptr (PhForwardingFacts) facts = NULL;
  g_autoptr (GInetAddress) lan = NULL;
  g_autoptr (GInetAddress) gateway = NULL;

  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (input->lan_address == NULL || *input->lan_address == '\0')
    {
      g_set_error_literal (error, PH_FORWARDING_ERROR, PH_FORWARDING_ERROR_NO_ADDRESS,
                           _ ("This computer has no IPv4 address on a local network, so there is "
                              "nothing to forward a port to. Connect to your router’s network, "
                              "then check again."));
      return NULL;
    }
  if (input->gateway == NULL || *input->gateway == '\0')
    {
      g_set_error_literal (error, PH_FORWARDING_ERROR, PH_FORWARDING_ERROR_NO_GATEWAY,
                           _ ("This computer has no IPv4 default gateway, so Porthole cannot tell "
                              "which router to set up. Connect to your router’s network, then "
                              "check again."));
      return NULL;
    }
  lan = parse_ipv4 (input->lan_address, _ ("this computer’s address"), error);
  if (lan == NULL)
    return NULL;
  gateway = parse_ipv4 (input->gateway, _ ("the router’s address"), error);
  if (gateway == NULL || !check_port (input->port, error))
    return NULL;

  facts = g_new0 (PhForwardingFacts, 1);
  facts->values = g_ptr_array_new_with_free_func ((GDestroyNotify) value_free);
  facts->warnings = g_ptr_array_new_with_free_func ((GDestroyNotify) warning_free);
  facts->lan_address = g_inet_address_to_string (lan);
  facts->lan_prefix = input->lan_prefix <= 32 ? input->lan_prefix : 0;
  facts->interface = input->interface != NULL && *input->interface != '\0'
                         ? g_utf8_make_valid (input->interface, -1)
                         : NULL;
  facts->mac = mac_is_plain (input->mac) ? g_ascii_strdown (input->mac, -1) : NULL;
  facts->gateway = g_inet_address_to_string (gateway);
  facts->port = input->port;
  facts->dhcp = input->dhcp;
  set_admin_url (facts, input->presentation_url);
  facts->summary = g_strdup_printf (_ ("In the router’s admin page (%s), forward port %u, TCP and "
                                       "UDP, to this computer at %s."),
                                    facts->admin_url, facts->port, facts->lan_address);
  add_values (facts);
  add_warnings (facts, lan);
  return g_steal_pointer (&facts);
}

/* ---- from NetworkManager's and the kernel's facts ---- */

static const PhLanInterface *
lan_interface (const PhLanFacts *lan, const char *name)
{
  for (guint i = 0; lan != NULL && name != NULL && i < lan->interfaces->len; i++)
    {
      const PhLanInterface *iface = g_ptr_array_index (lan->interfaces, i);

      if (g_strcmp0 (iface->name, name) == 0)
        return iface;
    }
  return NULL;
}

/* The first IPv4 address on ifname that a router could forward to (not link-local). */
static const PhLanAddress *
lan_ipv4_on (const PhLanFacts *lan, const char *ifname)
{
  for (guint i = 0; lan != NULL && ifname != NULL && i < lan->addresses->len; i++)
    {
      const PhLanAddress *address = g_ptr_array_index (lan->addresses, i);

      if (address->family == AF_INET && g_strcmp0 (address->ifname, ifname) == 0
          && address->scope != PH_IP_SCOPE_LINK_LOCAL && address->scope != PH_IP_SCOPE_LOOPBACK)
        return address;
    }
  return NULL;
}

PhForwardingFacts *
ph_forwarding_facts_gather (const PhNmFacts *nm, const PhLanFacts *lan, guint port,
                            const char *presentation_url, GError **error)
{
  PhForwardingInput input = { .port = port, .presentation_url = presentation_url };
  const PhLanRoute *route = lan != NULL ? ph_lan_facts_default_route (lan, AF_INET) : NULL;
  const PhLanInterface *iface;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (nm != NULL && nm->running && nm->ipv4_address != NULL)
    {
      input.lan_address = nm->ipv4_address;
      input.lan_prefix = nm->ipv4_prefix;
      input.interface = nm->device;
      input.gateway = nm->ipv4_gateway;
      if (nm->ipv4_dhcp)
        input.dhcp = PH_FORWARDING_DHCP_YES;
      else if (g_strcmp0 (nm->ipv4_method, "manual") == 0)
        input.dhcp = PH_FORWARDING_DHCP_NO;
    }
  else if (route != NULL)
    {
      const PhLanAddress *address = lan_ipv4_on (lan, route->ifname);

      input.interface = route->ifname;
      if (address != NULL)
        {
          input.lan_address = address->address;
          input.lan_prefix = address->prefix;
          /* a finite lifetime is a lease; a forever one may be either */
          input.dhcp = address->dynamic ? PH_FORWARDING_DHCP_YES : PH_FORWARDING_DHCP_UNKNOWN;
        }
    }
  if (input.gateway == NULL && route != NULL
      && (input.interface == NULL || g_strcmp0 (input.interface, route->ifname) == 0))
    input.gateway = route->gateway;
  iface = lan_interface (lan, input.interface);
  if (iface != NULL)
    input.mac = iface->mac;
  return ph_forwarding_facts_new (&input, error);
}

/* ---- out ---- */

static void
add_string (JsonBuilder *builder, const char *name, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

static void
add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

JsonNode *
ph_forwarding_facts_to_json (const PhForwardingFacts *facts)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (facts != NULL, NULL);

  json_builder_begin_object (builder);
  add_string (builder, "lan_address", facts->lan_address);
  if (facts->lan_prefix > 0)
    add_int (builder, "prefix", facts->lan_prefix);
  add_string (builder, "interface", facts->interface);
  add_string (builder, "mac", facts->mac);
  add_string (builder, "gateway", facts->gateway);
  add_string (builder, "admin_url", facts->admin_url);
  add_string (builder, "admin_url_source", facts->admin_url_from_upnp ? "upnp" : "gateway");
  add_int (builder, "port", facts->port);
  json_builder_set_member_name (builder, "protocols");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, "TCP");
  json_builder_add_string_value (builder, "UDP");
  json_builder_end_array (builder);
  add_string (builder, "dhcp", ph_forwarding_dhcp_to_string (facts->dhcp));
  add_string (builder, "summary", facts->summary);
  json_builder_set_member_name (builder, "values");
  json_builder_begin_array (builder);
  for (guint i = 0; i < facts->values->len; i++)
    {
      const PhForwardingValue *value = g_ptr_array_index (facts->values, i);

      json_builder_begin_object (builder);
      add_string (builder, "label", value->label);
      add_string (builder, "value", value->value);
      add_string (builder, "hint", value->hint);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "warnings");
  json_builder_begin_array (builder);
  for (guint i = 0; i < facts->warnings->len; i++)
    {
      const PhForwardingWarning *warning = g_ptr_array_index (facts->warnings, i);

      json_builder_begin_object (builder);
      add_string (builder, "code", warning->code);
      add_string (builder, "message", warning->message);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

char *
ph_forwarding_facts_to_text (const PhForwardingFacts *facts)
{
  GString *text = g_string_new (NULL);

  g_return_val_if_fail (facts != NULL, NULL);

  g_string_append_printf (text, "%s\n", facts->summary);
  for (guint i = 0; i < facts->values->len; i++)
    {
      const PhForwardingValue *value = g_ptr_array_index (facts->values, i);

      g_string_append_printf (text, "%s: %s\n", value->label, value->value);
    }
  return g_string_free (text, FALSE);
}
