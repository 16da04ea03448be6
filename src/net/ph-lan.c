/* ph-lan.c: interfaces, addresses and default routes, read from the kernel over rtnetlink
 *
 * Three dumps (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE) on one NETLINK_ROUTE socket with a receive
 * timeout, then a parser over the bytes that trusts no length: rtnetlink(7), netlink(7), and
 * include/uapi/linux/{rtnetlink,if_addr,if_link}.h for the layouts.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "ph-lan.h"

GQuark
ph_lan_error_quark (void)
{
  return g_quark_from_static_string ("ph-lan-error-quark");
}

/* A dump of a busy router's tables is a few hundred KiB; a desktop's is a few KiB. */
#define LAN_DUMP_MAX_BYTES (16 * 1024 * 1024)
#define LAN_DATAGRAM_MAX_BYTES (1024 * 1024)
#define LAN_RECV_TIMEOUT_MS 1000
#define LAN_READ_DEADLINE_US (3 * G_USEC_PER_SEC)
/* NLM_F_DUMP_INTR: the table changed during the dump; the kernel asks us to dump again. */
#define LAN_DUMP_TRIES 3
#define LAN_MAC_MAX_BYTES 32 /* MAX_ADDR_LEN */
#define LAN_INFINITY_LIFE_TIME G_MAXUINT32

static void
lan_interface_free (PhLanInterface *iface)
{
  g_free (iface->name);
  g_free (iface->mac);
  g_free (iface);
}

static void
lan_address_free (PhLanAddress *address)
{
  g_free (address->ifname);
  g_free (address->address);
  g_free (address);
}

static void
lan_route_free (PhLanRoute *route)
{
  g_free (route->ifname);
  g_free (route->gateway);
  g_free (route);
}

PhLanFacts *
ph_lan_facts_new (void)
{
  PhLanFacts *facts = g_new0 (PhLanFacts, 1);

  facts->interfaces = g_ptr_array_new_with_free_func ((GDestroyNotify) lan_interface_free);
  facts->addresses = g_ptr_array_new_with_free_func ((GDestroyNotify) lan_address_free);
  facts->gateways = g_ptr_array_new_with_free_func ((GDestroyNotify) lan_route_free);
  return facts;
}

void
ph_lan_facts_free (PhLanFacts *facts)
{
  if (facts == NULL)
    return;
  g_ptr_array_unref (facts->interfaces);
  g_ptr_array_unref (facts->addresses);
  g_ptr_array_unref (facts->gateways);
  g_free (facts);
}

/* ---- parsing: plain C over the bytes the kernel sent ---- */

typedef struct
{
  const guint8 *data;
  gsize len;
  gboolean present;
} LanAttr;

static gboolean
lan_malformed (GError **error, const char *what)
{
  g_set_error (error, PH_LAN_ERROR, PH_LAN_ERROR_MALFORMED, "Malformed rtnetlink message: %s",
               what);
  return FALSE;
}

/* Indexes the attributes in data[0..len) by type (up to max); a later duplicate wins, as in the
 * kernel's nla_parse. Every rta_len is checked against what is left. */
static gboolean
lan_parse_attrs (const guint8 *data, gsize len, LanAttr *table, guint max, GError **error)
{
  memset (table, 0, sizeof (LanAttr) * (max + 1));
  while (len > 0)
    {
      struct rtattr rta;
      gsize step;
      guint type;

      if (len < sizeof rta)
        return lan_malformed (error, "truncated attribute header");
      memcpy (&rta, data, sizeof rta);
      if (rta.rta_len < sizeof rta || rta.rta_len > len)
        return lan_malformed (error, "attribute length out of bounds");
      type = rta.rta_type & NLA_TYPE_MASK;
      if (type <= max)
        {
          table[type].data = data + RTA_LENGTH (0);
          table[type].len = rta.rta_len - RTA_LENGTH (0);
          table[type].present = TRUE;
        }
      step = MIN ((gsize) RTA_ALIGN (rta.rta_len), len);
      data += step;
      len -= step;
    }
  return TRUE;
}

static gboolean
lan_attr_u32 (const LanAttr *attr, guint32 *out, GError **error)
{
  if (attr->len != sizeof (guint32))
    return lan_malformed (error, "32-bit attribute of the wrong length");
  memcpy (out, attr->data, sizeof (guint32));
  return TRUE;
}

static gsize
lan_family_addr_len (int family)
{
  return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* An address attribute must be exactly as long as its family's addresses. */
static char *
lan_attr_ip (const LanAttr *attr, int family, GError **error)
{
  char text[INET6_ADDRSTRLEN];
  guint8 bytes[16];

  if (attr->len != lan_family_addr_len (family))
    {
      lan_malformed (error, "address attribute of the wrong length");
      return NULL;
    }
  memcpy (bytes, attr->data, attr->len);
  if (inet_ntop (family, bytes, text, sizeof text) == NULL)
    {
      lan_malformed (error, "address that does not print");
      return NULL;
    }
  return g_strdup (text);
}

static char *
lan_attr_ifname (const LanAttr *attr, GError **error)
{
  gsize n = strnlen ((const char *) attr->data, attr->len);

  /* The kernel sends the name NUL-terminated and shorter than IFNAMSIZ. */
  if (n == attr->len || n == 0 || n >= IFNAMSIZ
      || !g_utf8_validate ((const char *) attr->data, n, NULL))
    {
      lan_malformed (error, "interface name");
      return NULL;
    }
  return g_strndup ((const char *) attr->data, n);
}

static char *
lan_format_mac (const guint8 *data, gsize len)
{
  GString *mac = g_string_sized_new (len * 3);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (mac, i == 0 ? "%02x" : ":%02x", data[i]);
  return g_string_free (mac, FALSE);
}

/* A hardware address worth showing: EUI-48, EUI-64 or IPoIB, not loopback, not all zero. Tunnels
 * carry their IP endpoint here (4 or 16 bytes), which is no MAC. */
static char *
lan_link_mac (const struct ifinfomsg *ifi, const LanAttr *attr)
{
  gboolean all_zero = TRUE;

  if (!attr->present || (ifi->ifi_flags & IFF_LOOPBACK) || ifi->ifi_type == ARPHRD_LOOPBACK
      || ifi->ifi_type == ARPHRD_NONE)
    return NULL;
  if (attr->len != 6 && attr->len != 8 && attr->len != 20)
    return NULL;
  for (gsize i = 0; i < attr->len; i++)
    all_zero = all_zero && attr->data[i] == 0;
  return all_zero ? NULL : lan_format_mac (attr->data, attr->len);
}

static gboolean
lan_parse_link (PhLanFacts *facts, const guint8 *payload, gsize len, GError **error)
{
  struct ifinfomsg ifi;
  LanAttr attrs[IFLA_IFNAME + 1];
  PhLanInterface *iface;
  g_autofree char *name = NULL;

  if (len < NLMSG_ALIGN (sizeof ifi))
    return lan_malformed (error, "truncated ifinfomsg");
  memcpy (&ifi, payload, sizeof ifi);
  if (!lan_parse_attrs (payload + NLMSG_ALIGN (sizeof ifi), len - NLMSG_ALIGN (sizeof ifi), attrs,
                        IFLA_IFNAME, error))
    return FALSE;
  if (ifi.ifi_index <= 0)
    return lan_malformed (error, "link without an index");
  if (!attrs[IFLA_IFNAME].present)
    return lan_malformed (error, "link without a name");
  if (attrs[IFLA_ADDRESS].present && attrs[IFLA_ADDRESS].len > LAN_MAC_MAX_BYTES)
    return lan_malformed (error, "link address over MAX_ADDR_LEN");
  name = lan_attr_ifname (&attrs[IFLA_IFNAME], error);
  if (name == NULL)
    return FALSE;

  iface = g_new0 (PhLanInterface, 1);
  iface->name = g_steal_pointer (&name);
  iface->index = (guint) ifi.ifi_index;
  iface->mac = lan_link_mac (&ifi, &attrs[IFLA_ADDRESS]);
  iface->up = (ifi.ifi_flags & IFF_UP) != 0;
  iface->loopback = (ifi.ifi_flags & IFF_LOOPBACK) != 0;
  g_ptr_array_add (facts->interfaces, iface);
  return TRUE;
}

static gboolean
lan_parse_address (PhLanFacts *facts, const guint8 *payload, gsize len, GError **error)
{
  struct ifaddrmsg ifa;
  LanAttr attrs[IFA_FLAGS + 1];
  const LanAttr *local;
  guint32 flags;
  guint8 bytes[16];
  PhLanAddress *address;
  g_autofree char *text = NULL;

  if (len < NLMSG_ALIGN (sizeof ifa))
    return lan_malformed (error, "truncated ifaddrmsg");
  memcpy (&ifa, payload, sizeof ifa);
  if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6)
    return TRUE;
  if (!lan_parse_attrs (payload + NLMSG_ALIGN (sizeof ifa), len - NLMSG_ALIGN (sizeof ifa), attrs,
                        IFA_FLAGS, error))
    return FALSE;
  if (ifa.ifa_prefixlen > lan_family_addr_len (ifa.ifa_family) * 8)
    return lan_malformed (error, "prefix longer than the address");

  /* IFA_LOCAL is our end of a point-to-point link, where IFA_ADDRESS is the peer; elsewhere only
   * IFA_ADDRESS is sent (as iproute2 reads them). */
  local = attrs[IFA_LOCAL].present ? &attrs[IFA_LOCAL] : &attrs[IFA_ADDRESS];
  if (!local->present)
    return lan_malformed (error, "address message without an address");
  text = lan_attr_ip (local, ifa.ifa_family, error);
  if (text == NULL)
    return FALSE;
  memcpy (bytes, local->data, local->len);

  flags = ifa.ifa_flags;
  if (attrs[IFA_FLAGS].present && !lan_attr_u32 (&attrs[IFA_FLAGS], &flags, error))
    return FALSE;
  if (attrs[IFA_CACHEINFO].present && attrs[IFA_CACHEINFO].len < sizeof (struct ifa_cacheinfo))
    return lan_malformed (error, "truncated ifa_cacheinfo");

  address = g_new0 (PhLanAddress, 1);
  address->ifindex = ifa.ifa_index;
  address->family = ifa.ifa_family;
  address->address = g_steal_pointer (&text);
  address->prefix = ifa.ifa_prefixlen;
  address->scope = ph_ip_scope_classify (bytes, local->len);
  /* IFA_F_TEMPORARY shares its bit with IPv4's IFA_F_SECONDARY. */
  address->temporary = ifa.ifa_family == AF_INET6 && (flags & IFA_F_TEMPORARY) != 0;
  address->deprecated = (flags & IFA_F_DEPRECATED) != 0;
  if (attrs[IFA_CACHEINFO].present)
    {
      struct ifa_cacheinfo ci;

      memcpy (&ci, attrs[IFA_CACHEINFO].data, sizeof ci);
      address->deprecated = address->deprecated || ci.ifa_prefered == 0;
      address->dynamic = ci.ifa_valid != LAN_INFINITY_LIFE_TIME;
    }
  g_ptr_array_add (facts->addresses, address);
  return TRUE;
}

static PhLanRoute *
lan_route_new (int family, guint ifindex, guint metric)
{
  PhLanRoute *route = g_new0 (PhLanRoute, 1);

  route->family = family;
  route->ifindex = ifindex;
  route->metric = metric;
  return route;
}

/* The next hop of a route: RTA_GATEWAY in the route's family, or RTA_VIA (struct rtvia) for an
 * IPv4 route through an IPv6 next hop (RFC 5549). */
static gboolean
lan_parse_next_hop (const LanAttr *gateway, const LanAttr *via, int family, char **out,
                    GError **error)
{
  if (gateway->present)
    {
      *out = lan_attr_ip (gateway, family, error);
      return *out != NULL;
    }
  if (via->present)
    {
      LanAttr addr;
      guint16 via_family;

      if (via->len < sizeof via_family)
        return lan_malformed (error, "truncated RTA_VIA");
      memcpy (&via_family, via->data, sizeof via_family);
      if (via_family != AF_INET && via_family != AF_INET6)
        return TRUE;
      addr.data = via->data + sizeof via_family;
      addr.len = via->len - sizeof via_family;
      addr.present = TRUE;
      *out = lan_attr_ip (&addr, via_family, error);
      return *out != NULL;
    }
  return TRUE;
}

/* RTA_MULTIPATH: a run of struct rtnexthop, each followed by its own attributes. */
static gboolean
lan_parse_multipath (PhLanFacts *facts, const LanAttr *multipath, int family, guint metric,
                     GError **error)
{
  const guint8 *data = multipath->data;
  gsize len = multipath->len;

  while (len > 0)
    {
      struct rtnexthop nh;
      LanAttr attrs[RTA_VIA + 1];
      g_autofree char *gateway = NULL;
      PhLanRoute *route;
      gsize step;

      if (len < sizeof nh)
        return lan_malformed (error, "truncated rtnexthop");
      memcpy (&nh, data, sizeof nh);
      if (nh.rtnh_len < sizeof nh || nh.rtnh_len > len)
        return lan_malformed (error, "rtnexthop length out of bounds");
      if (!lan_parse_attrs (data + RTNH_LENGTH (0), nh.rtnh_len - RTNH_LENGTH (0), attrs, RTA_VIA,
                            error))
        return FALSE;
      if (!lan_parse_next_hop (&attrs[RTA_GATEWAY], &attrs[RTA_VIA], family, &gateway, error))
        return FALSE;
      route = lan_route_new (family, nh.rtnh_ifindex > 0 ? (guint) nh.rtnh_ifindex : 0, metric);
      route->gateway = g_steal_pointer (&gateway);
      g_ptr_array_add (facts->gateways, route);

      step = MIN ((gsize) RTNH_ALIGN (nh.rtnh_len), len);
      data += step;
      len -= step;
    }
  return TRUE;
}

static gboolean
lan_parse_route (PhLanFacts *facts, const guint8 *payload, gsize len, GError **error)
{
  struct rtmsg rtm;
  LanAttr attrs[RTA_VIA + 1];
  guint32 table, oif = 0, metric = 0;
  g_autofree char *gateway = NULL;
  PhLanRoute *route;

  if (len < NLMSG_ALIGN (sizeof rtm))
    return lan_malformed (error, "truncated rtmsg");
  memcpy (&rtm, payload, sizeof rtm);
  if (rtm.rtm_family != AF_INET && rtm.rtm_family != AF_INET6)
    return TRUE;
  if (!lan_parse_attrs (payload + NLMSG_ALIGN (sizeof rtm), len - NLMSG_ALIGN (sizeof rtm), attrs,
                        RTA_VIA, error))
    return FALSE;

  /* rtm_table is 8 bits; RTA_TABLE carries the full id. */
  table = rtm.rtm_table;
  if (attrs[RTA_TABLE].present && !lan_attr_u32 (&attrs[RTA_TABLE], &table, error))
    return FALSE;
  if (attrs[RTA_OIF].present && !lan_attr_u32 (&attrs[RTA_OIF], &oif, error))
    return FALSE;
  if (attrs[RTA_PRIORITY].present && !lan_attr_u32 (&attrs[RTA_PRIORITY], &metric, error))
    return FALSE;
  if (rtm.rtm_dst_len != 0 || rtm.rtm_type != RTN_UNICAST || table != RT_TABLE_MAIN
      || (rtm.rtm_flags & RTM_F_CLONED))
    return TRUE;

  if (attrs[RTA_MULTIPATH].present)
    return lan_parse_multipath (facts, &attrs[RTA_MULTIPATH], rtm.rtm_family, metric, error);
  if (!lan_parse_next_hop (&attrs[RTA_GATEWAY], &attrs[RTA_VIA], rtm.rtm_family, &gateway, error))
    return FALSE;
  route = lan_route_new (rtm.rtm_family, oif, metric);
  route->gateway = g_steal_pointer (&gateway);
  g_ptr_array_add (facts->gateways, route);
  return TRUE;
}

/* Steps over one netlink message in data[0..len), checking nlmsg_len against what is left. */
static gboolean
lan_next_message (const guint8 **data, gsize *len, struct nlmsghdr *hdr, const guint8 **payload,
                  gsize *payload_len, GError **error)
{
  gsize step;

  if (*len < sizeof *hdr)
    return lan_malformed (error, "truncated nlmsghdr");
  memcpy (hdr, *data, sizeof *hdr);
  if (hdr->nlmsg_len < NLMSG_HDRLEN || hdr->nlmsg_len > *len)
    return lan_malformed (error, "message length out of bounds");
  *payload = *data + NLMSG_HDRLEN;
  *payload_len = hdr->nlmsg_len - NLMSG_HDRLEN;
  step = MIN ((gsize) NLMSG_ALIGN (hdr->nlmsg_len), *len);
  *data += step;
  *len -= step;
  return TRUE;
}

static const char *
lan_ifname (GHashTable *names, guint ifindex)
{
  return g_hash_table_lookup (names, GUINT_TO_POINTER (ifindex));
}

static int
lan_route_compare (gconstpointer a, gconstpointer b)
{
  const PhLanRoute *ra = *(const PhLanRoute *const *) a;
  const PhLanRoute *rb = *(const PhLanRoute *const *) b;

  if (ra->metric != rb->metric)
    return ra->metric < rb->metric ? -1 : 1;
  if (ra->family != rb->family)
    return ra->family == AF_INET ? -1 : 1;
  if (ra->ifindex != rb->ifindex)
    return ra->ifindex < rb->ifindex ? -1 : 1;
  return 0;
}

/* Names the interfaces of addresses and routes (the dumps give only indexes) and orders the
 * gateways as the kernel prefers them. */
static void
lan_facts_finish (PhLanFacts *facts)
{
  g_autoptr (GHashTable) names = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < facts->interfaces->len; i++)
    {
      PhLanInterface *iface = g_ptr_array_index (facts->interfaces, i);
      g_hash_table_insert (names, GUINT_TO_POINTER (iface->index), iface->name);
    }
  for (guint i = 0; i < facts->addresses->len; i++)
    {
      PhLanAddress *address = g_ptr_array_index (facts->addresses, i);
      address->ifname = g_strdup (lan_ifname (names, address->ifindex));
    }
  for (guint i = 0; i < facts->gateways->len; i++)
    {
      PhLanRoute *route = g_ptr_array_index (facts->gateways, i);
      route->ifname = g_strdup (lan_ifname (names, route->ifindex));
    }
  g_ptr_array_sort (facts->gateways, lan_route_compare);
}

PhLanFacts *
ph_lan_facts_parse (const guint8 *data, gsize len, GError **error)
{
  g_autoptr (PhLanFacts) facts = ph_lan_facts_new ();

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  while (len > 0)
    {
      struct nlmsghdr hdr;
      const guint8 *payload;
      gsize payload_len;
      gboolean ok = TRUE;

      if (!lan_next_message (&data, &len, &hdr, &payload, &payload_len, error))
        return NULL;
      switch (hdr.nlmsg_type)
        {
          case RTM_NEWLINK:
            ok = lan_parse_link (facts, payload, payload_len, error);
            break;
          case RTM_NEWADDR:
            ok = lan_parse_address (facts, payload, payload_len, error);
            break;
          case RTM_NEWROUTE:
            ok = lan_parse_route (facts, payload, payload_len, error);
            break;
          default:
            break;
        }
      if (!ok)
        return NULL;
    }
  lan_facts_finish (facts);
  return g_steal_pointer (&facts);
}

/* ---- I/O: the socket and the dumps ---- */

static gboolean
lan_errno_error (GError **error, int errsv, const char *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "rtnetlink %s: %s", what,
               g_strerror (errsv));
  return FALSE;
}

static int
lan_socket_open (guint32 *portid, GError **error)
{
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  socklen_t sa_len = sizeof sa;
  struct timeval tv
      = { .tv_sec = LAN_RECV_TIMEOUT_MS / 1000, .tv_usec = (LAN_RECV_TIMEOUT_MS % 1000) * 1000 };
  int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

  if (fd < 0)
    {
      lan_errno_error (error, errno, "socket");
      return -1;
    }
  if (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0
      || bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0
      || getsockname (fd, (struct sockaddr *) &sa, &sa_len) < 0)
    {
      int errsv = errno;
      close (fd);
      lan_errno_error (error, errsv, "socket setup");
      return -1;
    }
  *portid = sa.nl_pid;
  return fd;
}

static gboolean
lan_send_dump_request (int fd, guint16 type, guint32 seq, GError **error)
{
  struct
  {
    struct nlmsghdr hdr;
    union
    {
      struct ifinfomsg link;
      struct ifaddrmsg addr;
      struct rtmsg route;
    } body;
  } req;
  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
  gsize body_len = type == RTM_GETLINK   ? sizeof req.body.link
                   : type == RTM_GETADDR ? sizeof req.body.addr
                                         : sizeof req.body.route;

  /* Family AF_UNSPEC in every body: both IPv4 and IPv6 in one dump. */
  memset (&req, 0, sizeof req);
  req.hdr.nlmsg_len = NLMSG_LENGTH (body_len);
  req.hdr.nlmsg_type = type;
  req.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.hdr.nlmsg_seq = seq;

  for (;;)
    {
      if (sendto (fd, &req, req.hdr.nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof kernel) >= 0)
        return TRUE;
      if (errno != EINTR)
        return lan_errno_error (error, errno, "send");
    }
}

/* One datagram, sized first with MSG_PEEK | MSG_TRUNC so that nothing is cut. NULL with
 * G_IO_ERROR_TIMED_OUT when the kernel is silent past SO_RCVTIMEO or the overall deadline. */
static GBytes *
lan_receive (int fd, gint64 deadline, gboolean *from_kernel, GError **error)
{
  struct sockaddr_nl sa;
  socklen_t sa_len = sizeof sa;
  g_autofree guint8 *buf = NULL;
  ssize_t size, n;

  for (;;)
    {
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "rtnetlink dump took too long");
          return NULL;
        }
      size = recv (fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
      if (size >= 0)
        break;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "rtnetlink: the kernel did not answer");
          return NULL;
        }
      if (errno != EINTR)
        {
          lan_errno_error (error, errno, "receive");
          return NULL;
        }
    }
  if (size > LAN_DATAGRAM_MAX_BYTES)
    {
      g_set_error (error, PH_LAN_ERROR, PH_LAN_ERROR_TOO_LARGE, "rtnetlink datagram of %zd bytes",
                   size);
      return NULL;
    }

  buf = g_malloc (MAX (size, 1));
  do
    n = recvfrom (fd, buf, (size_t) size, 0, (struct sockaddr *) &sa, &sa_len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      lan_errno_error (error, errno, "receive");
      return NULL;
    }
  *from_kernel = sa_len >= sizeof sa && sa.nl_family == AF_NETLINK && sa.nl_pid == 0;
  return g_bytes_new_take (g_steal_pointer (&buf), (gsize) n);
}

typedef enum
{
  LAN_DUMP_MORE,
  LAN_DUMP_DONE,
  LAN_DUMP_FAILED,
} LanDumpState;

/* Walks one datagram of our dump: keeps the RTM_NEW* messages in out, notices NLMSG_DONE,
 * NLMSG_ERROR and NLM_F_DUMP_INTR, and skips what is not an answer to (portid, seq). */
static LanDumpState
lan_take_datagram (GBytes *datagram, guint32 portid, guint32 seq, GByteArray *out,
                   gboolean *interrupted, GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (datagram, &len);

  while (len > 0)
    {
      const guint8 *start = data;
      struct nlmsghdr hdr;
      const guint8 *payload;
      gsize payload_len;

      if (!lan_next_message (&data, &len, &hdr, &payload, &payload_len, error))
        return LAN_DUMP_FAILED;
      if (hdr.nlmsg_seq != seq || hdr.nlmsg_pid != portid)
        continue;
      if (hdr.nlmsg_flags & NLM_F_DUMP_INTR)
        *interrupted = TRUE;
      if (hdr.nlmsg_type == NLMSG_DONE)
        return LAN_DUMP_DONE;
      if (hdr.nlmsg_type == NLMSG_ERROR)
        {
          struct nlmsgerr err;

          if (payload_len < sizeof err)
            {
              lan_malformed (error, "truncated nlmsgerr");
              return LAN_DUMP_FAILED;
            }
          memcpy (&err, payload, sizeof err);
          if (err.error == 0)
            continue;
          lan_errno_error (error, -err.error, "dump");
          return LAN_DUMP_FAILED;
        }
      if (hdr.nlmsg_type < NLMSG_MIN_TYPE)
        continue; /* NLMSG_NOOP, NLMSG_OVERRUN */
      if (out->len + NLMSG_ALIGN (hdr.nlmsg_len) > LAN_DUMP_MAX_BYTES)
        {
          g_set_error (error, PH_LAN_ERROR, PH_LAN_ERROR_TOO_LARGE, "rtnetlink dump over %d bytes",
                       LAN_DUMP_MAX_BYTES);
          return LAN_DUMP_FAILED;
        }
      g_byte_array_append (out, start, hdr.nlmsg_len);
      /* Keep the next message aligned, as the parser expects. */
      while (out->len % NLMSG_ALIGNTO != 0)
        g_byte_array_append (out, (const guint8 *) "", 1);
    }
  return LAN_DUMP_MORE;
}

static gboolean
lan_dump (int fd, guint32 portid, guint16 type, guint32 *seq, gint64 deadline, GByteArray *out,
          GError **error)
{
  guint start_len = out->len;

  for (guint attempt = 1;; attempt++)
    {
      gboolean interrupted = FALSE;
      LanDumpState state = LAN_DUMP_MORE;

      *seq += 1;
      g_byte_array_set_size (out, start_len);
      if (!lan_send_dump_request (fd, type, *seq, error))
        return FALSE;
      while (state == LAN_DUMP_MORE)
        {
          gboolean from_kernel = FALSE;
          g_autoptr (GBytes) datagram = lan_receive (fd, deadline, &from_kernel, error);

          if (datagram == NULL)
            return FALSE;
          if (!from_kernel)
            continue;
          state = lan_take_datagram (datagram, portid, *seq, out, &interrupted, error);
        }
      if (state == LAN_DUMP_FAILED)
        return FALSE;
      if (!interrupted)
        return TRUE;
      if (attempt == LAN_DUMP_TRIES)
        {
          /* Still changing under us: what we have is a fair picture of a moving target. */
          g_debug ("rtnetlink dump %u interrupted %u times; keeping the last one", type, attempt);
          return TRUE;
        }
    }
}

PhLanFacts *
ph_lan_facts_read (GError **error)
{
  static const guint16 dumps[] = { RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE };
  g_autoptr (GByteArray) messages = g_byte_array_new ();
  gint64 deadline = g_get_monotonic_time () + LAN_READ_DEADLINE_US;
  guint32 portid = 0, seq = (guint32) g_get_real_time ();
  int fd;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  fd = lan_socket_open (&portid, error);
  if (fd < 0)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (dumps); i++)
    {
      if (!lan_dump (fd, portid, dumps[i], &seq, deadline, messages, error))
        {
          close (fd);
          return NULL;
        }
    }
  close (fd);
  return ph_lan_facts_parse (messages->data, messages->len, error);
}

const PhLanRoute *
ph_lan_facts_default_route (const PhLanFacts *facts, int family)
{
  g_return_val_if_fail (facts != NULL, NULL);

  /* Gateways are sorted by metric: the first of the family is the one the kernel uses. */
  for (guint i = 0; i < facts->gateways->len; i++)
    {
      const PhLanRoute *route = g_ptr_array_index (facts->gateways, i);
      if (family == AF_UNSPEC || route->family == family)
        return route;
    }
  return NULL;
}

/* ---- JSON ---- */

static const char *
lan_family_name (int family)
{
  return family == AF_INET ? "ipv4" : "ipv6";
}

static void
lan_add_string (JsonBuilder *builder, const char *name, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

static void
lan_add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
lan_add_bool (JsonBuilder *builder, const char *name, gboolean value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

static void
lan_interfaces_to_json (JsonBuilder *builder, GPtrArray *interfaces)
{
  json_builder_set_member_name (builder, "interfaces");
  json_builder_begin_array (builder);
  for (guint i = 0; i < interfaces->len; i++)
    {
      const PhLanInterface *iface = g_ptr_array_index (interfaces, i);

      json_builder_begin_object (builder);
      lan_add_string (builder, "name", iface->name);
      lan_add_int (builder, "index", iface->index);
      lan_add_string (builder, "mac", iface->mac);
      lan_add_bool (builder, "up", iface->up);
      lan_add_bool (builder, "loopback", iface->loopback);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

static void
lan_addresses_to_json (JsonBuilder *builder, GPtrArray *addresses)
{
  json_builder_set_member_name (builder, "addresses");
  json_builder_begin_array (builder);
  for (guint i = 0; i < addresses->len; i++)
    {
      const PhLanAddress *address = g_ptr_array_index (addresses, i);

      json_builder_begin_object (builder);
      lan_add_string (builder, "interface", address->ifname);
      lan_add_string (builder, "family", lan_family_name (address->family));
      lan_add_string (builder, "address", address->address);
      lan_add_int (builder, "prefix", address->prefix);
      lan_add_string (builder, "scope", ph_ip_scope_to_string (address->scope));
      lan_add_bool (builder, "temporary", address->temporary);
      lan_add_bool (builder, "deprecated", address->deprecated);
      lan_add_bool (builder, "dynamic", address->dynamic);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

static void
lan_gateways_to_json (JsonBuilder *builder, GPtrArray *gateways)
{
  json_builder_set_member_name (builder, "gateways");
  json_builder_begin_array (builder);
  for (guint i = 0; i < gateways->len; i++)
    {
      const PhLanRoute *route = g_ptr_array_index (gateways, i);

      json_builder_begin_object (builder);
      lan_add_string (builder, "interface", route->ifname);
      lan_add_string (builder, "family", lan_family_name (route->family));
      lan_add_string (builder, "gateway", route->gateway);
      lan_add_int (builder, "metric", route->metric);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/* Members whose value is NULL (no MAC, no next hop, an unnamed interface) are left out. */
JsonNode *
ph_lan_facts_to_json (const PhLanFacts *facts)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (facts != NULL, NULL);

  json_builder_begin_object (builder);
  lan_interfaces_to_json (builder, facts->interfaces);
  lan_addresses_to_json (builder, facts->addresses);
  lan_gateways_to_json (builder, facts->gateways);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}
