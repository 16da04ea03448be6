/* ph-multiaddr.h: self-describing network addresses (multiformats/multiaddr)
 *
 * A PhMultiaddr is immutable and reference counted. It holds the binary form and is fully
 * validated when made, so every accessor below works on a well-formed address. Only the protocols
 * Porthole speaks or meets are known; any other code or name fails with PH_P2P_ERROR_UNSUPPORTED.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <gio/gio.h>

#include "ph-ip-scope.h"

G_BEGIN_DECLS

/* The whole binary form is bounded, and so is each name: a DNS name is 1 to 255 bytes of UTF-8
 * without '/' or control characters. A peer ID is a sha2-256 multihash or an identity multihash
 * of at most 42 bytes; text input takes base58btc or a CIDv1 in base32 ('b…'), output is base58btc.
 * Text is strict: no empty components, no trailing '/'. */
#define PH_MULTIADDR_MAX_LEN 1024
#define PH_MULTIADDR_MAX_DNS_NAME 255

/* Codes from multiformats/multiaddr protocols.csv (multicodec table.csv). */
typedef enum
{
  PH_MULTIADDR_CODE_IP4 = 4,           /* 4 bytes */
  PH_MULTIADDR_CODE_TCP = 6,           /* 2 bytes, big-endian port */
  PH_MULTIADDR_CODE_IP6 = 41,          /* 16 bytes */
  PH_MULTIADDR_CODE_DNS = 53,          /* varlen UTF-8 name */
  PH_MULTIADDR_CODE_DNS4 = 54,         /* varlen UTF-8 name */
  PH_MULTIADDR_CODE_DNS6 = 55,         /* varlen UTF-8 name */
  PH_MULTIADDR_CODE_DNSADDR = 56,      /* varlen UTF-8 name */
  PH_MULTIADDR_CODE_UDP = 273,         /* 2 bytes, big-endian port */
  PH_MULTIADDR_CODE_P2P_CIRCUIT = 290, /* no value */
  PH_MULTIADDR_CODE_P2P = 421,         /* varlen peer-ID multihash ("ipfs" is an input alias) */
  PH_MULTIADDR_CODE_QUIC_V1 = 461,     /* no value */
} PhMultiaddrCode;

typedef struct _PhMultiaddr PhMultiaddr;

/* One /name/value step. `value` points into the multiaddr's bytes (without the length prefix of
 * variable-size values) and lives as long as the multiaddr; it is NULL with value_len 0 for
 * protocols without a value. */
typedef struct
{
  PhMultiaddrCode code;
  const char *name;
  const guint8 *value;
  gsize value_len;
} PhMultiaddrComponent;

GType
ph_multiaddr_get_type (void) G_GNUC_CONST;
#define PH_TYPE_MULTIADDR (ph_multiaddr_get_type ())

PhMultiaddr *
ph_multiaddr_new_from_bytes (const guint8 *data, gsize len, GError **error);
PhMultiaddr *
ph_multiaddr_new_from_string (const char *text, GError **error);
/* /ip4/…/tcp/port, or /ip6/…; an IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack
 * socket reports IPv4 peers) becomes /ip4. */
PhMultiaddr *
ph_multiaddr_new_tcp (GInetAddress *ip, guint16 port);

PhMultiaddr *
ph_multiaddr_ref (PhMultiaddr *ma);
void
ph_multiaddr_unref (PhMultiaddr *ma);

char *
ph_multiaddr_to_string (PhMultiaddr *ma);
GBytes *
ph_multiaddr_get_bytes (PhMultiaddr *ma);
const guint8 *
ph_multiaddr_peek_bytes (PhMultiaddr *ma, gsize *len);
gboolean
ph_multiaddr_equal (PhMultiaddr *a, PhMultiaddr *b);
guint
ph_multiaddr_hash (PhMultiaddr *ma); /* for GHashTable with (GEqualFunc) ph_multiaddr_equal */

gsize
ph_multiaddr_get_n_components (PhMultiaddr *ma);
gboolean
ph_multiaddr_get_component (PhMultiaddr *ma, gsize index, PhMultiaddrComponent *component);
/* NULL for codes this module does not know. */
const char *
ph_multiaddr_code_to_name (guint64 code);

/* The first ip4/ip6 component. */
gboolean
ph_multiaddr_get_ip (PhMultiaddr *ma, GInetAddress **address);
/* IPV4 for ip4/dns4 first, IPV6 for ip6/dns6, INVALID otherwise (dns, dnsaddr, none). */
GSocketFamily
ph_multiaddr_get_family (PhMultiaddr *ma);
/* The first tcp (udp) component. */
gboolean
ph_multiaddr_get_tcp_port (PhMultiaddr *ma, guint16 *port);
gboolean
ph_multiaddr_get_udp_port (PhMultiaddr *ma, guint16 *port);

/* The multihash of a trailing /p2p component (the peer the address leads to), NULL if the last
 * component is not /p2p. Circuit addresses carry the relay's ID earlier: iterate for those. */
const guint8 *
ph_multiaddr_get_peer_id_bytes (PhMultiaddr *ma, gsize *len);
/* Appends /p2p/<peer_id> (a sha2-256 or identity multihash). An address that already ends in the
 * same /p2p gives a new reference to it; one that ends in another ID fails with
 * PH_P2P_ERROR_PEER_MISMATCH. */
PhMultiaddr *
ph_multiaddr_with_peer_id (PhMultiaddr *ma, const guint8 *peer_id, gsize len, GError **error);
/* Drops a trailing /p2p component; a new reference to `ma` when there is none, NULL when nothing
 * would be left (an address cannot be empty). */
PhMultiaddr *
ph_multiaddr_without_peer_id (PhMultiaddr *ma);

/* ip4|ip6, then tcp, then at most a /p2p: the addresses a plain TCP dial can reach. Anything else
 * (udp, dns that needs resolving, circuits) fails with PH_P2P_ERROR_UNSUPPORTED. */
GSocketAddress *
ph_multiaddr_to_socket_address (PhMultiaddr *ma, GError **error);

/* TRUE when the first component is dns, dns4, dns6 or dnsaddr. */
gboolean
ph_multiaddr_is_dns (PhMultiaddr *ma);
/* That first component's name, NULL when it is not one; `code` (optional) says which kind. */
char *
ph_multiaddr_get_dns_name (PhMultiaddr *ma, PhMultiaddrCode *code);

/* Who can route the address, from its first ip4/ip6/dns* component:
 * - an IP is classified by ph_ip_scope_classify();
 * - a DNS name by the special-use names (RFC 6761, RFC 6762, RFC 8375), case-insensitively and
 *   ignoring a final dot: localhost and *.localhost → LOOPBACK; *.local → LINK_LOCAL; names
 *   without a dot, *.home.arpa, *.lan, *.internal → PRIVATE; example, example.com/.net/.org and
 *   their subdomains → DOCUMENTATION; *.test, *.invalid → RESERVED; any other name → PUBLIC.
 *   A name says nothing certain about where it resolves: classify the resolved IPs before
 *   trusting a PUBLIC here (ph_multiaddr_is_dns() tells the cases apart);
 * - an address with neither (e.g. only /p2p/…) → UNSPECIFIED. */
PhIpScope
ph_multiaddr_classify (PhMultiaddr *ma);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhMultiaddr, ph_multiaddr_unref)

G_END_DECLS
