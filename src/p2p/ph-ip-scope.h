/* ph-ip-scope.h: who can route an IP address
 *
 * The one place that knows the special-purpose ranges. The multiaddr classifier, the LAN facts and
 * the "never send a private address to a real server" rule all ask here.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  PH_IP_SCOPE_PUBLIC,        /* routable on the internet */
  PH_IP_SCOPE_PRIVATE,       /* RFC 1918 */
  PH_IP_SCOPE_CGNAT,         /* 100.64.0.0/10, RFC 6598 */
  PH_IP_SCOPE_ULA,           /* fc00::/7 */
  PH_IP_SCOPE_LINK_LOCAL,    /* 169.254.0.0/16, fe80::/10 */
  PH_IP_SCOPE_LOOPBACK,      /* 127.0.0.0/8, ::1 */
  PH_IP_SCOPE_DOCUMENTATION, /* 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32 */
  PH_IP_SCOPE_UNSPECIFIED,   /* 0.0.0.0/8, :: */
  PH_IP_SCOPE_MULTICAST,     /* 224/4, ff00::/8 */
  PH_IP_SCOPE_RESERVED, /* everything else the internet does not route (240/4, 198.18/15, …) */
} PhIpScope;

/* ip is 4 or 16 bytes in network order; IPv4-mapped IPv6 (::ffff:a.b.c.d) is classified as IPv4. */
PhIpScope
ph_ip_scope_classify (const guint8 *ip, gsize len);
PhIpScope
ph_ip_scope_classify_inet (GInetAddress *address);
const char *
ph_ip_scope_to_string (PhIpScope scope);
gboolean
ph_ip_scope_is_public (PhIpScope scope);

G_END_DECLS
