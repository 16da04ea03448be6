/* ph-ip-scope.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "ph-ip-scope.h"

typedef struct
{
  guint8 prefix[16];
  guint bits;
  PhIpScope scope;
} PhIpRange;

/* RFC 6890 and the IANA special-purpose registries; first match wins. */
static const PhIpRange ipv4_ranges[] = {
  { { 0 }, 8, PH_IP_SCOPE_UNSPECIFIED },
  { { 10 }, 8, PH_IP_SCOPE_PRIVATE },
  { { 100, 64 }, 10, PH_IP_SCOPE_CGNAT },
  { { 127 }, 8, PH_IP_SCOPE_LOOPBACK },
  { { 169, 254 }, 16, PH_IP_SCOPE_LINK_LOCAL },
  { { 172, 16 }, 12, PH_IP_SCOPE_PRIVATE },
  { { 192, 0, 0 }, 24, PH_IP_SCOPE_RESERVED },
  { { 192, 0, 2 }, 24, PH_IP_SCOPE_DOCUMENTATION },
  { { 192, 88, 99 }, 24, PH_IP_SCOPE_RESERVED },
  { { 192, 168 }, 16, PH_IP_SCOPE_PRIVATE },
  { { 198, 18 }, 15, PH_IP_SCOPE_RESERVED },
  { { 198, 51, 100 }, 24, PH_IP_SCOPE_DOCUMENTATION },
  { { 203, 0, 113 }, 24, PH_IP_SCOPE_DOCUMENTATION },
  { { 224 }, 4, PH_IP_SCOPE_MULTICAST },
  { { 240 }, 4, PH_IP_SCOPE_RESERVED },
};

static const PhIpRange ipv6_ranges[] = {
  { { 0 }, 128, PH_IP_SCOPE_UNSPECIFIED },
  { { [15] = 1 }, 128, PH_IP_SCOPE_LOOPBACK },
  { { 0 }, 8, PH_IP_SCOPE_RESERVED },
  { { 0x01, 0x00 }, 64, PH_IP_SCOPE_RESERVED }, /* discard-only */
  { { 0x20, 0x01, 0x0d, 0xb8 }, 32, PH_IP_SCOPE_DOCUMENTATION },
  { { 0x3f, 0xff, 0x00 }, 20, PH_IP_SCOPE_DOCUMENTATION },  /* RFC 9637 */
  { { 0x20, 0x01, 0x00, 0x00 }, 23, PH_IP_SCOPE_RESERVED }, /* IETF protocol assignments */
  { { 0x20, 0x00 }, 3, PH_IP_SCOPE_PUBLIC },                /* global unicast */
  { { 0xfc }, 7, PH_IP_SCOPE_ULA },
  { { 0xfe, 0x80 }, 10, PH_IP_SCOPE_LINK_LOCAL },
  { { 0xff }, 8, PH_IP_SCOPE_MULTICAST },
};

static gboolean
prefix_matches (const guint8 *ip, const PhIpRange *range)
{
  guint whole = range->bits / 8;
  guint rest = range->bits % 8;

  if (memcmp (ip, range->prefix, whole) != 0)
    return FALSE;
  if (rest == 0)
    return TRUE;

  guint8 mask = (guint8) (0xff << (8 - rest));
  return (ip[whole] & mask) == (range->prefix[whole] & mask);
}

static PhIpScope
classify_in (const guint8 *ip, const PhIpRange *ranges, gsize n_ranges, PhIpScope otherwise)
{
  for (gsize i = 0; i < n_ranges; i++)
    if (prefix_matches (ip, &ranges[i]))
      return ranges[i].scope;
  return otherwise;
}

PhIpScope
ph_ip_scope_classify (const guint8 *ip, gsize len)
{
  static const guint8 v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  static const guint8 nat64[12] = { 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };

  g_return_val_if_fail (ip != NULL, PH_IP_SCOPE_RESERVED);

  if (len == 4)
    return classify_in (ip, ipv4_ranges, G_N_ELEMENTS (ipv4_ranges), PH_IP_SCOPE_PUBLIC);
  if (len != 16)
    return PH_IP_SCOPE_RESERVED;
  /* An IPv4 address in IPv6 clothes is what it carries (RFC 6052 §3.1 for NAT64). */
  if (memcmp (ip, v4_mapped, sizeof v4_mapped) == 0 || memcmp (ip, nat64, sizeof nat64) == 0)
    return ph_ip_scope_classify (ip + 12, 4);
  /* Outside 2000::/3 nothing is global unicast today. */
  return classify_in (ip, ipv6_ranges, G_N_ELEMENTS (ipv6_ranges), PH_IP_SCOPE_RESERVED);
}

PhIpScope
ph_ip_scope_classify_inet (GInetAddress *address)
{
  g_return_val_if_fail (G_IS_INET_ADDRESS (address), PH_IP_SCOPE_RESERVED);

  return ph_ip_scope_classify (g_inet_address_to_bytes (address),
                               g_inet_address_get_native_size (address));
}

const char *
ph_ip_scope_to_string (PhIpScope scope)
{
  switch (scope)
    {
      case PH_IP_SCOPE_PUBLIC:
        return "public";
      case PH_IP_SCOPE_PRIVATE:
        return "private";
      case PH_IP_SCOPE_CGNAT:
        return "cgnat";
      case PH_IP_SCOPE_ULA:
        return "ula";
      case PH_IP_SCOPE_LINK_LOCAL:
        return "link-local";
      case PH_IP_SCOPE_LOOPBACK:
        return "loopback";
      case PH_IP_SCOPE_DOCUMENTATION:
        return "documentation";
      case PH_IP_SCOPE_UNSPECIFIED:
        return "unspecified";
      case PH_IP_SCOPE_MULTICAST:
        return "multicast";
      case PH_IP_SCOPE_RESERVED:
      default:
        return "reserved";
    }
}

gboolean
ph_ip_scope_is_public (PhIpScope scope)
{
  return scope == PH_IP_SCOPE_PUBLIC;
}
