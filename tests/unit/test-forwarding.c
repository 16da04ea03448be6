/* test-forwarding.c: the values for forwarding the swarm port by hand
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include "net/ph-forwarding.h"

#define MAC "3c:7c:3f:1a:2b:4d"

static char *
facts_json (const PhForwardingFacts *facts)
{
  g_autoptr (JsonNode) node = ph_forwarding_facts_to_json (facts);

  return json_to_string (node, FALSE);
}

static gboolean
has_warning (const PhForwardingFacts *facts, const char *code)
{
  for (guint i = 0; i < facts->warnings->len; i++)
    {
      const PhForwardingWarning *warning = g_ptr_array_index (facts->warnings, i);

      if (g_str_equal (warning->code, code))
        return TRUE;
    }
  return FALSE;
}

/* A DHCP desktop behind a home router: everything, and the reservation warning with the MAC. */
static void
test_from_input (void)
{
  PhForwardingInput input = {
    .lan_address = "192.168.1.23",
    .lan_prefix = 24,
    .interface = "enp3s0",
    .mac = "3C:7C:3F:1A:2B:4D",
    .gateway = "192.168.1.1",
    .dhcp = PH_FORWARDING_DHCP_YES,
    .port = 4001,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhForwardingFacts) facts = ph_forwarding_facts_new (&input, &error);
  g_autofree char *json = NULL;
  const PhForwardingValue *value;

  g_assert_no_error (error);
  g_assert_cmpstr (facts->lan_address, ==, "192.168.1.23");
  g_assert_cmpstr (facts->gateway, ==, "192.168.1.1");
  g_assert_cmpstr (facts->admin_url, ==, "http://192.168.1.1/");
  g_assert_false (facts->admin_url_from_upnp);
  g_assert_cmpstr (facts->mac, ==, MAC);
  g_assert_cmpuint (facts->values->len, ==, 5);
  value = g_ptr_array_index (facts->values, 1);
  g_assert_cmpstr (value->value, ==, "TCP and UDP");
  value = g_ptr_array_index (facts->values, 2);
  g_assert_cmpstr (value->value, ==, "4001");
  value = g_ptr_array_index (facts->values, 4);
  g_assert_cmpstr (value->value, ==, "192.168.1.23");
  g_assert_cmpuint (facts->warnings->len, ==, 1);

  json = facts_json (facts);
  g_assert_cmpstr (
      json, ==,
      "{\"lan_address\":\"192.168.1.23\",\"prefix\":24,\"interface\":\"enp3s0\","
      "\"mac\":\"" MAC "\",\"gateway\":\"192.168.1.1\",\"admin_url\":\"http://192.168.1.1/\","
      "\"admin_url_source\":\"gateway\",\"port\":4001,\"protocols\":[\"TCP\",\"UDP\"],"
      "\"dhcp\":\"yes\","
      "\"summary\":\"In the router’s admin page (http://192.168.1.1/), forward port 4001, TCP and "
      "UDP, to this computer at 192.168.1.23.\","
      "\"values\":["
      "{\"label\":\"Name (or description, service)\",\"value\":\"IPFS\"},"
      "{\"label\":\"Protocol\",\"value\":\"TCP and UDP\",\"hint\":\"Often offered as “Both” or "
      "“TCP/UDP”. If the router takes one protocol per rule, make two rules with the same ports: "
      "one TCP, one UDP.\"},"
      "{\"label\":\"External port (or public, WAN port)\",\"value\":\"4001\",\"hint\":\"If the "
      "router asks for a range, enter 4001 to 4001.\"},"
      "{\"label\":\"Internal port (or private, LAN port)\",\"value\":\"4001\"},"
      "{\"label\":\"Internal IP address (or device, server)\",\"value\":\"192.168.1.23\","
      "\"hint\":\"If the router lists devices instead, choose this computer (hardware address " MAC
      ").\"}],"
      "\"warnings\":[{\"code\":\"dhcp-no-reservation\",\"message\":\"This computer got its "
      "address (192.168.1.23) from the router by DHCP, and may get a different one later: the "
      "forwarding would then point to the wrong place. In the router, reserve 192.168.1.23 for "
      "this computer (often called “DHCP reservation” or “static lease”), using its hardware "
      "address " MAC ".\"}]}");
}

static void
test_text (void)
{
  PhForwardingInput input = {
    .lan_address = "10.0.0.7",
    .gateway = "10.0.0.1",
    .dhcp = PH_FORWARDING_DHCP_NO,
    .port = 4002,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhForwardingFacts) facts = ph_forwarding_facts_new (&input, &error);
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (facts->warnings->len, ==, 0);
  text = ph_forwarding_facts_to_text (facts);
  g_assert_cmpstr (text, ==,
                   "In the router’s admin page (http://10.0.0.1/), forward port 4002, TCP and "
                   "UDP, to this computer at 10.0.0.7.\n"
                   "Name (or description, service): IPFS\n"
                   "Protocol: TCP and UDP\n"
                   "External port (or public, WAN port): 4002\n"
                   "Internal port (or private, LAN port): 4002\n"
                   "Internal IP address (or device, server): 10.0.0.7\n");
}

/* UPnP's presentation URL wins when it is a web page; anything else is ignored. */
static void
test_presentation_url (void)
{
  const char *ignored[]
      = { "javascript:alert(1)", "ftp://192.168.1.1/", "http://", "not a url", "" };
  PhForwardingInput input = {
    .lan_address = "192.168.1.23",
    .gateway = "192.168.1.1",
    .presentation_url = "https://router.lan:8443/admin/index.html",
    .port = 4001,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhForwardingFacts) facts = ph_forwarding_facts_new (&input, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (facts->admin_url, ==, "https://router.lan:8443/admin/index.html");
  g_assert_true (facts->admin_url_from_upnp);

  for (guint i = 0; i < G_N_ELEMENTS (ignored); i++)
    {
      g_autoptr (PhForwardingFacts) other = NULL;

      input.presentation_url = ignored[i];
      other = ph_forwarding_facts_new (&input, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (other->admin_url, ==, "http://192.168.1.1/");
      g_assert_false (other->admin_url_from_upnp);
    }
}

static void
assert_refused (const PhForwardingInput *input, PhForwardingError code, const char *words)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhForwardingFacts) facts = ph_forwarding_facts_new (input, &error);

  g_assert_null (facts);
  g_assert_error (error, PH_FORWARDING_ERROR, (gint) code);
  g_assert_nonnull (strstr (error->message, words));
}

static void
test_refusals (void)
{
  PhForwardingInput good
      = { .lan_address = "192.168.1.23", .gateway = "192.168.1.1", .port = 4001 };
  PhForwardingInput input;

  input = good;
  input.lan_address = NULL;
  assert_refused (&input, PH_FORWARDING_ERROR_NO_ADDRESS, "no IPv4 address");
  input.lan_address = "";
  assert_refused (&input, PH_FORWARDING_ERROR_NO_ADDRESS, "no IPv4 address");
  input = good;
  input.gateway = NULL;
  assert_refused (&input, PH_FORWARDING_ERROR_NO_GATEWAY, "no IPv4 default gateway");
  input = good;
  input.lan_address = "2a01:4f8:c0c:1234::17";
  assert_refused (&input, PH_FORWARDING_ERROR_INVALID, "is not an IPv4 address");
  input = good;
  input.gateway = "192.168.1.300";
  assert_refused (&input, PH_FORWARDING_ERROR_INVALID, "the router’s address");
  input = good;
  input.gateway = "\xff\xfe";
  assert_refused (&input, PH_FORWARDING_ERROR_INVALID, "the router’s address");
  input = good;
  input.port = 0;
  assert_refused (&input, PH_FORWARDING_ERROR_REFUSED_PORT, "no valid swarm port");
  input.port = 70000;
  assert_refused (&input, PH_FORWARDING_ERROR_REFUSED_PORT, "no valid swarm port");
  input.port = 5001;
  assert_refused (&input, PH_FORWARDING_ERROR_REFUSED_PORT, "API port");
  input.port = 8080;
  assert_refused (&input, PH_FORWARDING_ERROR_REFUSED_PORT, "gateway port");
}

/* Warnings that change the advice: unknown DHCP, a public address, the provider's NAT. A MAC
 * that is not one is left out. */
static void
test_warnings (void)
{
  PhForwardingInput input = {
    .lan_address = "192.168.1.23",
    .gateway = "192.168.1.1",
    .mac = "<script>",
    .dhcp = PH_FORWARDING_DHCP_UNKNOWN,
    .port = 4001,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhForwardingFacts) unknown = ph_forwarding_facts_new (&input, &error);
  g_autoptr (PhForwardingFacts) public = NULL;
  g_autoptr (PhForwardingFacts) cgnat = NULL;

  g_assert_no_error (error);
  g_assert_null (unknown->mac);
  g_assert_true (has_warning (unknown, "dhcp-unknown"));
  g_assert_false (has_warning (unknown, "dhcp-no-reservation"));

  input.dhcp = PH_FORWARDING_DHCP_NO;
  input.lan_address = "203.0.114.9";
  input.gateway = "203.0.114.1";
  public = ph_forwarding_facts_new (&input, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (public->warnings->len, ==, 1);
  g_assert_true (has_warning (public, "public-address"));

  input.lan_address = "100.72.14.3";
  input.gateway = "100.64.0.1";
  cgnat = ph_forwarding_facts_new (&input, &error);
  g_assert_no_error (error);
  g_assert_true (has_warning (cgnat, "cgnat-address"));
}

/* ---- gathering from NetworkManager's and the kernel's facts ---- */

/* What the kernel says about a laptop on wlp2s0; dynamic: the address has a finite lifetime. */
static PhLanFacts *
lan_new (gboolean dynamic)
{
  PhLanFacts *lan = ph_lan_facts_new ();
  PhLanInterface *iface = g_new0 (PhLanInterface, 1);
  PhLanAddress *link_local = g_new0 (PhLanAddress, 1);
  PhLanAddress *address = g_new0 (PhLanAddress, 1);
  PhLanRoute *route = g_new0 (PhLanRoute, 1);

  iface->name = g_strdup ("wlp2s0");
  iface->mac = g_strdup (MAC);
  iface->up = TRUE;
  g_ptr_array_add (lan->interfaces, iface);
  link_local->ifname = g_strdup ("wlp2s0");
  link_local->family = AF_INET;
  link_local->address = g_strdup ("169.254.3.4");
  link_local->prefix = 16;
  link_local->scope = PH_IP_SCOPE_LINK_LOCAL;
  g_ptr_array_add (lan->addresses, link_local);
  address->ifname = g_strdup ("wlp2s0");
  address->family = AF_INET;
  address->address = g_strdup ("192.168.178.40");
  address->prefix = 24;
  address->scope = PH_IP_SCOPE_PRIVATE;
  address->dynamic = dynamic;
  g_ptr_array_add (lan->addresses, address);
  route->ifname = g_strdup ("wlp2s0");
  route->family = AF_INET;
  route->gateway = g_strdup ("192.168.178.1");
  route->metric = 600;
  g_ptr_array_add (lan->gateways, route);
  return lan;
}

static void
test_gather_from_nm (void)
{
  g_autoptr (PhNmFacts) nm = ph_nm_facts_new ();
  g_autoptr (PhLanFacts) lan = lan_new (FALSE);
  g_autoptr (GError) error = NULL;
  g_autoptr (PhForwardingFacts) facts = NULL;

  nm->running = TRUE;
  nm->device = g_strdup ("wlp2s0");
  nm->connection_uuid = g_strdup ("2d0c5a3e-7a63-4d8e-8f4e-0b6f3d5a9c22");
  nm->ipv4_method = g_strdup ("auto");
  nm->ipv4_address = g_strdup ("192.168.178.40");
  nm->ipv4_prefix = 24;
  nm->ipv4_gateway = g_strdup ("192.168.178.1");
  nm->ipv4_dhcp = TRUE;

  facts = ph_forwarding_facts_gather (nm, lan, 4001, "http://192.168.178.1:80/", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (facts->lan_address, ==, "192.168.178.40");
  g_assert_cmpuint (facts->lan_prefix, ==, 24);
  g_assert_cmpstr (facts->gateway, ==, "192.168.178.1");
  g_assert_cmpstr (facts->interface, ==, "wlp2s0");
  g_assert_cmpstr (facts->mac, ==, MAC);
  g_assert_cmpint (facts->dhcp, ==, PH_FORWARDING_DHCP_YES);
  g_assert_true (facts->admin_url_from_upnp);
  g_assert_true (has_warning (facts, "dhcp-no-reservation"));

  /* a profile set by hand: no DHCP warning */
  g_clear_pointer (&facts, ph_forwarding_facts_free);
  g_free (nm->ipv4_method);
  nm->ipv4_method = g_strdup ("manual");
  nm->ipv4_dhcp = FALSE;
  facts = ph_forwarding_facts_gather (nm, lan, 4001, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (facts->dhcp, ==, PH_FORWARDING_DHCP_NO);
  g_assert_cmpuint (facts->warnings->len, ==, 0);
}

/* Without NetworkManager: the kernel's default route, the address on its interface (not the
 * link-local one), DHCP from the address's lifetime. */
static void
test_gather_from_kernel (void)
{
  g_autoptr (PhNmFacts) absent = ph_nm_facts_new ();
  g_autoptr (PhLanFacts) leased = lan_new (TRUE);
  g_autoptr (PhLanFacts) forever = lan_new (FALSE);
  g_autoptr (GError) error = NULL;
  g_autoptr (PhForwardingFacts) facts = NULL;
  g_autoptr (PhForwardingFacts) unsure = NULL;
  g_autoptr (PhForwardingFacts) nothing = NULL;

  facts = ph_forwarding_facts_gather (absent, leased, 4001, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (facts->lan_address, ==, "192.168.178.40");
  g_assert_cmpstr (facts->gateway, ==, "192.168.178.1");
  g_assert_cmpstr (facts->admin_url, ==, "http://192.168.178.1/");
  g_assert_cmpstr (facts->mac, ==, MAC);
  g_assert_cmpint (facts->dhcp, ==, PH_FORWARDING_DHCP_YES);

  unsure = ph_forwarding_facts_gather (NULL, forever, 4001, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (unsure->dhcp, ==, PH_FORWARDING_DHCP_UNKNOWN);
  g_assert_true (has_warning (unsure, "dhcp-unknown"));

  nothing = ph_forwarding_facts_gather (NULL, NULL, 4001, NULL, &error);
  g_assert_null (nothing);
  g_assert_error (error, PH_FORWARDING_ERROR, PH_FORWARDING_ERROR_NO_ADDRESS);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/forwarding/from-input", test_from_input);
  g_test_add_func ("/forwarding/text", test_text);
  g_test_add_func ("/forwarding/presentation-url", test_presentation_url);
  g_test_add_func ("/forwarding/refusals", test_refusals);
  g_test_add_func ("/forwarding/warnings", test_warnings);
  g_test_add_func ("/forwarding/gather-from-nm", test_gather_from_nm);
  g_test_add_func ("/forwarding/gather-from-kernel", test_gather_from_kernel);

  return g_test_run ();
}
