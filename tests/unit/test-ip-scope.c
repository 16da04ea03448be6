/* test-ip-scope.c: special-purpose address ranges (RFC 6890 and the IANA registries), edges
 * included
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>

#include "p2p/ph-ip-scope.h"

typedef struct
{
  const char *address;
  PhIpScope scope;
} Case;

static const Case ipv4_cases[] = {
  { "0.0.0.0", PH_IP_SCOPE_UNSPECIFIED },
  { "0.255.255.255", PH_IP_SCOPE_UNSPECIFIED },
  { "1.0.0.0", PH_IP_SCOPE_PUBLIC },
  { "1.1.1.1", PH_IP_SCOPE_PUBLIC },
  { "8.8.8.8", PH_IP_SCOPE_PUBLIC },
  { "104.131.131.82", PH_IP_SCOPE_PUBLIC }, /* mars.i.ipfs.io */
  /* RFC 1918 10/8 */
  { "9.255.255.255", PH_IP_SCOPE_PUBLIC },
  { "10.0.0.0", PH_IP_SCOPE_PRIVATE },
  { "10.0.0.1", PH_IP_SCOPE_PRIVATE },
  { "10.255.255.255", PH_IP_SCOPE_PRIVATE },
  { "11.0.0.0", PH_IP_SCOPE_PUBLIC },
  /* RFC 6598 shared address space */
  { "100.63.255.255", PH_IP_SCOPE_PUBLIC },
  { "100.64.0.0", PH_IP_SCOPE_CGNAT },
  { "100.100.100.100", PH_IP_SCOPE_CGNAT },
  { "100.127.255.255", PH_IP_SCOPE_CGNAT },
  { "100.128.0.0", PH_IP_SCOPE_PUBLIC },
  /* loopback */
  { "126.255.255.255", PH_IP_SCOPE_PUBLIC },
  { "127.0.0.0", PH_IP_SCOPE_LOOPBACK },
  { "127.0.0.1", PH_IP_SCOPE_LOOPBACK },
  { "127.255.255.255", PH_IP_SCOPE_LOOPBACK },
  { "128.0.0.0", PH_IP_SCOPE_PUBLIC },
  /* link local */
  { "169.253.255.255", PH_IP_SCOPE_PUBLIC },
  { "169.254.0.0", PH_IP_SCOPE_LINK_LOCAL },
  { "169.254.169.254", PH_IP_SCOPE_LINK_LOCAL },
  { "169.254.255.255", PH_IP_SCOPE_LINK_LOCAL },
  { "169.255.0.0", PH_IP_SCOPE_PUBLIC },
  /* RFC 1918 172.16/12 */
  { "172.15.255.255", PH_IP_SCOPE_PUBLIC },
  { "172.16.0.0", PH_IP_SCOPE_PRIVATE },
  { "172.31.255.255", PH_IP_SCOPE_PRIVATE },
  { "172.32.0.0", PH_IP_SCOPE_PUBLIC },
  /* IETF protocol assignments, TEST-NET-1, 6to4 relay anycast */
  { "191.255.255.255", PH_IP_SCOPE_PUBLIC },
  { "192.0.0.0", PH_IP_SCOPE_RESERVED },
  { "192.0.0.255", PH_IP_SCOPE_RESERVED },
  { "192.0.1.0", PH_IP_SCOPE_PUBLIC },
  { "192.0.2.0", PH_IP_SCOPE_DOCUMENTATION },
  { "192.0.2.42", PH_IP_SCOPE_DOCUMENTATION },
  { "192.0.2.255", PH_IP_SCOPE_DOCUMENTATION },
  { "192.0.3.0", PH_IP_SCOPE_PUBLIC },
  { "192.88.98.255", PH_IP_SCOPE_PUBLIC },
  { "192.88.99.1", PH_IP_SCOPE_RESERVED },
  { "192.88.100.0", PH_IP_SCOPE_PUBLIC },
  /* RFC 1918 192.168/16 */
  { "192.167.255.255", PH_IP_SCOPE_PUBLIC },
  { "192.168.0.0", PH_IP_SCOPE_PRIVATE },
  { "192.168.1.1", PH_IP_SCOPE_PRIVATE },
  { "192.168.255.255", PH_IP_SCOPE_PRIVATE },
  { "192.169.0.0", PH_IP_SCOPE_PUBLIC },
  /* benchmarking 198.18/15 */
  { "198.17.255.255", PH_IP_SCOPE_PUBLIC },
  { "198.18.0.0", PH_IP_SCOPE_RESERVED },
  { "198.19.255.255", PH_IP_SCOPE_RESERVED },
  { "198.20.0.0", PH_IP_SCOPE_PUBLIC },
  /* TEST-NET-2 and -3 */
  { "198.51.99.255", PH_IP_SCOPE_PUBLIC },
  { "198.51.100.0", PH_IP_SCOPE_DOCUMENTATION },
  { "198.51.100.255", PH_IP_SCOPE_DOCUMENTATION },
  { "198.51.101.0", PH_IP_SCOPE_PUBLIC },
  { "203.0.112.255", PH_IP_SCOPE_PUBLIC },
  { "203.0.113.0", PH_IP_SCOPE_DOCUMENTATION },
  { "203.0.113.255", PH_IP_SCOPE_DOCUMENTATION },
  { "203.0.114.0", PH_IP_SCOPE_PUBLIC },
  /* multicast, then the old class E and broadcast */
  { "223.255.255.255", PH_IP_SCOPE_PUBLIC },
  { "224.0.0.0", PH_IP_SCOPE_MULTICAST },
  { "224.0.0.251", PH_IP_SCOPE_MULTICAST },
  { "239.255.255.255", PH_IP_SCOPE_MULTICAST },
  { "240.0.0.0", PH_IP_SCOPE_RESERVED },
  { "255.255.255.255", PH_IP_SCOPE_RESERVED },
};

static const Case ipv6_cases[] = {
  { "::", PH_IP_SCOPE_UNSPECIFIED },
  { "::1", PH_IP_SCOPE_LOOPBACK },
  { "::2", PH_IP_SCOPE_RESERVED },
  { "::1.2.3.4", PH_IP_SCOPE_RESERVED }, /* deprecated IPv4-compatible form */
  /* IPv4-mapped addresses are classified as the IPv4 address they carry */
  { "::ffff:10.0.0.1", PH_IP_SCOPE_PRIVATE },
  { "::ffff:100.64.0.1", PH_IP_SCOPE_CGNAT },
  { "::ffff:127.0.0.1", PH_IP_SCOPE_LOOPBACK },
  { "::ffff:192.0.2.1", PH_IP_SCOPE_DOCUMENTATION },
  { "::ffff:8.8.8.8", PH_IP_SCOPE_PUBLIC },
  { "::fffe:8.8.8.8", PH_IP_SCOPE_RESERVED },
  /* NAT64 well-known prefix (RFC 6052) reaches the IPv4 internet */
  { "64:ff9b::1.2.3.4", PH_IP_SCOPE_PUBLIC },
  { "64:ff9b::ffff:ffff", PH_IP_SCOPE_RESERVED }, /* carries 255.255.255.255 */
  { "64:ff9b::10.0.0.1", PH_IP_SCOPE_PRIVATE },   /* RFC 6052 §3.1 */
  { "64:ff9b::100.64.0.1", PH_IP_SCOPE_CGNAT },
  { "3fff::1", PH_IP_SCOPE_DOCUMENTATION }, /* RFC 9637 */
  { "3fff:fff:ffff::1", PH_IP_SCOPE_DOCUMENTATION },
  { "3fff:1000::1", PH_IP_SCOPE_PUBLIC },
  { "64:ff9b:0:0:0:1::", PH_IP_SCOPE_RESERVED },
  { "100::1", PH_IP_SCOPE_RESERVED }, /* discard-only */
  /* global unicast 2000::/3 */
  { "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PH_IP_SCOPE_RESERVED },
  { "2000::", PH_IP_SCOPE_PUBLIC },
  { "2606:4700::", PH_IP_SCOPE_PUBLIC },
  { "2606:4700:4700::1111", PH_IP_SCOPE_PUBLIC },
  { "2a00:1450:4001::200e", PH_IP_SCOPE_PUBLIC },
  { "2002:c000:0204::1", PH_IP_SCOPE_PUBLIC }, /* 6to4 */
  { "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PH_IP_SCOPE_PUBLIC },
  { "4000::", PH_IP_SCOPE_RESERVED },
  /* IETF protocol assignments 2001::/23 (Teredo included) */
  { "2001::1", PH_IP_SCOPE_RESERVED },
  { "2001:1ff:ffff::", PH_IP_SCOPE_RESERVED },
  { "2001:200::", PH_IP_SCOPE_PUBLIC },
  /* documentation 2001:db8::/32 */
  { "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", PH_IP_SCOPE_PUBLIC },
  { "2001:db8::", PH_IP_SCOPE_DOCUMENTATION },
  { "2001:db8::1", PH_IP_SCOPE_DOCUMENTATION },
  { "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", PH_IP_SCOPE_DOCUMENTATION },
  { "2001:db9::", PH_IP_SCOPE_PUBLIC },
  /* unique local fc00::/7 */
  { "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PH_IP_SCOPE_RESERVED },
  { "fc00::", PH_IP_SCOPE_ULA },
  { "fd00::", PH_IP_SCOPE_ULA },
  { "fd12:3456:789a::1", PH_IP_SCOPE_ULA },
  { "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PH_IP_SCOPE_ULA },
  { "fe00::", PH_IP_SCOPE_RESERVED },
  /* link local fe80::/10 */
  { "fe80::", PH_IP_SCOPE_LINK_LOCAL },
  { "fe80::1", PH_IP_SCOPE_LINK_LOCAL },
  { "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PH_IP_SCOPE_LINK_LOCAL },
  { "fec0::1", PH_IP_SCOPE_RESERVED }, /* deprecated site-local */
  /* multicast */
  { "ff00::", PH_IP_SCOPE_MULTICAST },
  { "ff02::1", PH_IP_SCOPE_MULTICAST },
  { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PH_IP_SCOPE_MULTICAST },
};

static void
check_cases (const Case *cases, gsize n, GSocketFamily family)
{
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GInetAddress) address = g_inet_address_new_from_string (cases[i].address);
      PhIpScope scope;

      g_assert_nonnull (address);
      g_assert_cmpint (g_inet_address_get_family (address), ==, family);

      scope = ph_ip_scope_classify (g_inet_address_to_bytes (address),
                                    g_inet_address_get_native_size (address));
      {
        /* Compare as text so a failure names the address and both scopes. */
        g_autofree char *got
            = g_strdup_printf ("%s %s", cases[i].address, ph_ip_scope_to_string (scope));
        g_autofree char *expected
            = g_strdup_printf ("%s %s", cases[i].address, ph_ip_scope_to_string (cases[i].scope));
        g_assert_cmpstr (got, ==, expected);
      }

      g_assert_cmpint (ph_ip_scope_classify_inet (address), ==, cases[i].scope);
      g_assert_cmpint (ph_ip_scope_is_public (scope), ==, cases[i].scope == PH_IP_SCOPE_PUBLIC);
    }
}

static void
test_ipv4 (void)
{
  check_cases (ipv4_cases, G_N_ELEMENTS (ipv4_cases), G_SOCKET_FAMILY_IPV4);
}

static void
test_ipv6 (void)
{
  check_cases (ipv6_cases, G_N_ELEMENTS (ipv6_cases), G_SOCKET_FAMILY_IPV6);
}

static void
test_bad_length (void)
{
  static const guint8 bytes[16] = { 8, 8, 8, 8 };

  /* Neither 4 nor 16 bytes: nothing the internet routes. */
  g_assert_cmpint (ph_ip_scope_classify (bytes, 0), ==, PH_IP_SCOPE_RESERVED);
  g_assert_cmpint (ph_ip_scope_classify (bytes, 5), ==, PH_IP_SCOPE_RESERVED);
  g_assert_cmpint (ph_ip_scope_classify (bytes, 15), ==, PH_IP_SCOPE_RESERVED);
  g_assert_cmpint (ph_ip_scope_classify (bytes, 4), ==, PH_IP_SCOPE_PUBLIC);
}

static void
test_to_string (void)
{
  g_assert_cmpstr (ph_ip_scope_to_string (PH_IP_SCOPE_PUBLIC), ==, "public");
  g_assert_cmpstr (ph_ip_scope_to_string (PH_IP_SCOPE_PRIVATE), ==, "private");
  g_assert_cmpstr (ph_ip_scope_to_string (PH_IP_SCOPE_CGNAT), ==, "cgnat");
  g_assert_cmpstr (ph_ip_scope_to_string (PH_IP_SCOPE_ULA), ==, "ula");
  g_assert_cmpstr (ph_ip_scope_to_string (PH_IP_SCOPE_LINK_LOCAL), ==, "link-local");
  g_assert_cmpstr (ph_ip_scope_to_string (PH_IP_SCOPE_LOOPBACK), ==, "loopback");
  g_assert_cmpstr (ph_ip_scope_to_string (PH_IP_SCOPE_DOCUMENTATION), ==, "documentation");
  g_assert_cmpstr (ph_ip_scope_to_string (PH_IP_SCOPE_UNSPECIFIED), ==, "unspecified");
  g_assert_cmpstr (ph_ip_scope_to_string (PH_IP_SCOPE_MULTICAST), ==, "multicast");
  g_assert_cmpstr (ph_ip_scope_to_string (PH_IP_SCOPE_RESERVED), ==, "reserved");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ip-scope/ipv4", test_ipv4);
  g_test_add_func ("/ip-scope/ipv6", test_ipv6);
  g_test_add_func ("/ip-scope/bad-length", test_bad_length);
  g_test_add_func ("/ip-scope/to-string", test_to_string);

  return g_test_run ();
}
