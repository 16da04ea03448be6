/* test-lan.c: rtnetlink facts, against crafted messages, against `ip`, and in a network namespace
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "net/ph-lan.h"

/* ---- building rtnetlink messages by hand ---- */

static void
nl_pad (GByteArray *buf)
{
  while (buf->len % 4 != 0)
    g_byte_array_append (buf, (const guint8 *) "", 1);
}

/* Starts a message with its fixed body; returns where it starts, for nl_end. */
static guint
nl_begin (GByteArray *buf, guint16 type, const void *body, gsize body_len)
{
  struct nlmsghdr hdr = { .nlmsg_type = type, .nlmsg_flags = NLM_F_MULTI };
  guint start = buf->len;

  g_byte_array_append (buf, (const guint8 *) &hdr, sizeof hdr);
  g_byte_array_append (buf, body, body_len);
  nl_pad (buf);
  return start;
}

static void
nl_end (GByteArray *buf, guint start)
{
  guint32 len = buf->len - start;
  memcpy (buf->data + start, &len, sizeof len);
}

static void
nl_attr (GByteArray *buf, guint16 type, const void *data, gsize len)
{
  struct rtattr rta = { .rta_len = RTA_LENGTH (len), .rta_type = type };

  g_byte_array_append (buf, (const guint8 *) &rta, sizeof rta);
  g_byte_array_append (buf, data, len);
  nl_pad (buf);
}

static void
nl_attr_u32 (GByteArray *buf, guint16 type, guint32 value)
{
  nl_attr (buf, type, &value, sizeof value);
}

static void
nl_attr_str (GByteArray *buf, guint16 type, const char *value)
{
  nl_attr (buf, type, value, strlen (value) + 1);
}

static void
nl_attr_ip (GByteArray *buf, guint16 type, int family, const char *text)
{
  guint8 bytes[16];

  g_assert_cmpint (inet_pton (family, text, bytes), ==, 1);
  nl_attr (buf, type, bytes, family == AF_INET ? 4 : 16);
}

static void
nl_link (GByteArray *buf, int index, const char *name, guint flags, guint16 type, const guint8 *mac,
         gsize mac_len)
{
  struct ifinfomsg ifi
      = { .ifi_family = AF_UNSPEC, .ifi_type = type, .ifi_index = index, .ifi_flags = flags };
  guint start = nl_begin (buf, RTM_NEWLINK, &ifi, sizeof ifi);

  nl_attr_str (buf, IFLA_IFNAME, name);
  if (mac != NULL)
    nl_attr (buf, IFLA_ADDRESS, mac, mac_len);
  nl_end (buf, start);
}

/* flags_attr < 0: no IFA_FLAGS; valid/preferred == 0 and 0: no IFA_CACHEINFO. */
static void
nl_addr (GByteArray *buf, int family, guint index, const char *local, guint prefix, guint8 flags,
         gint64 flags_attr, guint32 preferred, guint32 valid)
{
  struct ifaddrmsg ifa
      = { .ifa_family = family, .ifa_prefixlen = prefix, .ifa_flags = flags, .ifa_index = index };
  guint start = nl_begin (buf, RTM_NEWADDR, &ifa, sizeof ifa);

  nl_attr_ip (buf, IFA_ADDRESS, family, local);
  if (flags_attr >= 0)
    nl_attr_u32 (buf, IFA_FLAGS, (guint32) flags_attr);
  if (preferred != 0 || valid != 0)
    {
      struct ifa_cacheinfo ci = { .ifa_prefered = preferred, .ifa_valid = valid };
      nl_attr (buf, IFA_CACHEINFO, &ci, sizeof ci);
    }
  nl_end (buf, start);
}

static guint
nl_route_begin (GByteArray *buf, int family, guint dst_len, guint8 table, guint8 type)
{
  struct rtmsg rtm = { .rtm_family = family,
                       .rtm_dst_len = dst_len,
                       .rtm_table = table,
                       .rtm_protocol = RTPROT_STATIC,
                       .rtm_scope = RT_SCOPE_UNIVERSE,
                       .rtm_type = type };
  return nl_begin (buf, RTM_NEWROUTE, &rtm, sizeof rtm);
}

static void
nl_route (GByteArray *buf, int family, const char *gateway, guint oif, guint metric)
{
  guint start = nl_route_begin (buf, family, 0, RT_TABLE_MAIN, RTN_UNICAST);

  if (gateway != NULL)
    nl_attr_ip (buf, RTA_GATEWAY, family, gateway);
  nl_attr_u32 (buf, RTA_OIF, oif);
  nl_attr_u32 (buf, RTA_PRIORITY, metric);
  nl_end (buf, start);
}

static const guint8 test_mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0xab };
static const guint8 zero_mac[6] = { 0 };

/* A machine with lo and eth0, its addresses and default routes, and the routes that are no
 * default gateway (another table, a subnet, unreachable, cloned) the parser must leave out. */
static GByteArray *
build_sample (void)
{
  GByteArray *buf = g_byte_array_new ();
  guint start;

  nl_link (buf, 1, "lo", IFF_UP | IFF_LOOPBACK, 772 /* ARPHRD_LOOPBACK */, zero_mac, 6);
  nl_link (buf, 2, "eth0", IFF_UP | IFF_BROADCAST, 1 /* ARPHRD_ETHER */, test_mac, 6);
  nl_link (buf, 3, "tun0", 0, 65534 /* ARPHRD_NONE */, NULL, 0);

  nl_addr (buf, AF_INET, 1, "127.0.0.1", 8, IFA_F_PERMANENT, -1, G_MAXUINT32, G_MAXUINT32);
  /* IPv4 secondary shares its bit with IPv6 temporary: not temporary. */
  nl_addr (buf, AF_INET, 2, "192.168.1.10", 24, 0x01, -1, 3000, 3600);
  nl_addr (buf, AF_INET6, 2, "2001:db8::10", 64, 0, IFA_F_TEMPORARY, 1800, 3600);
  nl_addr (buf, AF_INET6, 2, "fe80::1", 64, IFA_F_PERMANENT, -1, 0, G_MAXUINT32);
  nl_addr (buf, AF_INET6, 2, "fd00::10", 64, IFA_F_DEPRECATED, -1, 0, 0);

  /* Point-to-point: IFA_LOCAL is ours, IFA_ADDRESS the peer. */
  {
    struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = 32, .ifa_index = 3 };
    start = nl_begin (buf, RTM_NEWADDR, &ifa, sizeof ifa);
    nl_attr_ip (buf, IFA_ADDRESS, AF_INET, "100.64.0.1");
    nl_attr_ip (buf, IFA_LOCAL, AF_INET, "100.64.0.2");
    nl_end (buf, start);
  }

  nl_route (buf, AF_INET, "192.168.1.1", 2, 100);
  nl_route (buf, AF_INET6, "fe80::1", 2, 50);
  nl_route (buf, AF_INET, NULL, 3, 100);          /* device route, and ties with eth0's */
  nl_route (buf, AF_INET, "192.168.1.2", 9, 400); /* an index we have no link for */

  /* Table 100 in RTA_TABLE, with rtm_table saying RT_TABLE_UNSPEC (as for ids > 255). */
  start = nl_route_begin (buf, AF_INET, 0, RT_TABLE_UNSPEC, RTN_UNICAST);
  nl_attr_u32 (buf, RTA_TABLE, 100);
  nl_attr_ip (buf, RTA_GATEWAY, AF_INET, "192.168.1.254");
  nl_end (buf, start);
  /* The main table named only in RTA_TABLE. */
  start = nl_route_begin (buf, AF_INET6, 0, RT_TABLE_UNSPEC, RTN_UNICAST);
  nl_attr_u32 (buf, RTA_TABLE, RT_TABLE_MAIN);
  nl_attr_ip (buf, RTA_GATEWAY, AF_INET6, "2001:db8::1");
  nl_attr_u32 (buf, RTA_OIF, 2);
  nl_attr_u32 (buf, RTA_PRIORITY, 1024);
  nl_end (buf, start);
  /* A subnet route, an unreachable default, the local table. */
  start = nl_route_begin (buf, AF_INET, 24, RT_TABLE_MAIN, RTN_UNICAST);
  nl_attr_u32 (buf, RTA_OIF, 2);
  nl_end (buf, start);
  start = nl_route_begin (buf, AF_INET6, 0, RT_TABLE_MAIN, RTN_UNREACHABLE);
  nl_end (buf, start);
  start = nl_route_begin (buf, AF_INET, 0, RT_TABLE_LOCAL, RTN_UNICAST);
  nl_end (buf, start);

  /* Multipath: one route, two next hops. */
  {
    GByteArray *hops = g_byte_array_new ();
    for (int i = 0; i < 2; i++)
      {
        struct rtnexthop nh = { .rtnh_ifindex = 2 };
        guint nh_start = hops->len;
        g_byte_array_append (hops, (const guint8 *) &nh, sizeof nh);
        nl_attr_ip (hops, RTA_GATEWAY, AF_INET, i == 0 ? "192.168.1.3" : "192.168.1.4");
        nh.rtnh_len = hops->len - nh_start;
        memcpy (hops->data + nh_start, &nh, sizeof nh);
      }
    start = nl_route_begin (buf, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST);
    nl_attr_u32 (buf, RTA_PRIORITY, 200);
    nl_attr (buf, RTA_MULTIPATH, hops->data, hops->len);
    nl_end (buf, start);
    g_byte_array_unref (hops);
  }

  /* IPv4 through an IPv6 next hop (RFC 5549): RTA_VIA. */
  {
    guint8 via[2 + 16];
    guint16 family = AF_INET6;
    memcpy (via, &family, sizeof family);
    g_assert_cmpint (inet_pton (AF_INET6, "fe80::2", via + 2), ==, 1);
    start = nl_route_begin (buf, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST);
    nl_attr (buf, RTA_VIA, via, sizeof via);
    nl_attr_u32 (buf, RTA_OIF, 2);
    nl_attr_u32 (buf, RTA_PRIORITY, 300);
    nl_end (buf, start);
  }

  /* What a dump also carries and we ignore: another message type and the end. */
  start = nl_begin (buf, RTM_NEWNEIGH, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
  nl_end (buf, start);
  start = nl_begin (buf, NLMSG_DONE, "\0\0\0\0", 4);
  nl_end (buf, start);
  return buf;
}

static const PhLanAddress *
find_address (const PhLanFacts *facts, const char *text)
{
  for (guint i = 0; i < facts->addresses->len; i++)
    {
      const PhLanAddress *address = g_ptr_array_index (facts->addresses, i);
      if (g_strcmp0 (address->address, text) == 0)
        return address;
    }
  return NULL;
}

static const PhLanAddress *
get_address (const PhLanFacts *facts, const char *text)
{
  const PhLanAddress *address = find_address (facts, text);

  if (address == NULL)
    g_error ("no address %s in the facts", text);
  return address;
}

static void
test_parse_sample (void)
{
  g_autoptr (GByteArray) buf = build_sample ();
  g_autoptr (GError) error = NULL;
  g_autoptr (PhLanFacts) facts = ph_lan_facts_parse (buf->data, buf->len, &error);
  const PhLanInterface *iface;
  const PhLanAddress *address;
  const PhLanRoute *route;
  static const struct
  {
    const char *ifname;
    int family;
    const char *gateway;
    guint metric;
  } routes[] = {
    { "eth0", AF_INET6, "fe80::1", 50 },     { "eth0", AF_INET, "192.168.1.1", 100 },
    { "tun0", AF_INET, NULL, 100 },          { "eth0", AF_INET, "192.168.1.3", 200 },
    { "eth0", AF_INET, "192.168.1.4", 200 }, { "eth0", AF_INET, "fe80::2", 300 },
    { NULL, AF_INET, "192.168.1.2", 400 },   { "eth0", AF_INET6, "2001:db8::1", 1024 },
  };

  g_assert_no_error (error);
  g_assert_nonnull (facts);

  g_assert_cmpuint (facts->interfaces->len, ==, 3);
  iface = g_ptr_array_index (facts->interfaces, 0);
  g_assert_cmpstr (iface->name, ==, "lo");
  g_assert_cmpuint (iface->index, ==, 1);
  g_assert_null (iface->mac);
  g_assert_true (iface->up && iface->loopback);
  iface = g_ptr_array_index (facts->interfaces, 1);
  g_assert_cmpstr (iface->name, ==, "eth0");
  g_assert_cmpstr (iface->mac, ==, "02:00:5e:10:00:ab");
  g_assert_true (iface->up);
  g_assert_false (iface->loopback);
  iface = g_ptr_array_index (facts->interfaces, 2);
  g_assert_cmpstr (iface->name, ==, "tun0");
  g_assert_null (iface->mac);
  g_assert_false (iface->up);

  g_assert_cmpuint (facts->addresses->len, ==, 6);
  address = get_address (facts, "127.0.0.1");
  g_assert_nonnull (address);
  g_assert_cmpstr (address->ifname, ==, "lo");
  g_assert_cmpint (address->family, ==, AF_INET);
  g_assert_cmpuint (address->prefix, ==, 8);
  g_assert_cmpint (address->scope, ==, PH_IP_SCOPE_LOOPBACK);
  g_assert_false (address->dynamic || address->deprecated || address->temporary);

  address = get_address (facts, "192.168.1.10");
  g_assert_nonnull (address);
  g_assert_cmpstr (address->ifname, ==, "eth0");
  g_assert_cmpint (address->scope, ==, PH_IP_SCOPE_PRIVATE);
  g_assert_false (address->temporary);
  g_assert_true (address->dynamic);
  g_assert_false (address->deprecated);

  address = get_address (facts, "2001:db8::10");
  g_assert_nonnull (address);
  g_assert_cmpint (address->family, ==, AF_INET6);
  g_assert_cmpuint (address->prefix, ==, 64);
  g_assert_cmpint (address->scope, ==, PH_IP_SCOPE_DOCUMENTATION);
  g_assert_true (address->temporary && address->dynamic);
  g_assert_false (address->deprecated);

  address = get_address (facts, "fe80::1");
  g_assert_nonnull (address);
  g_assert_cmpint (address->scope, ==, PH_IP_SCOPE_LINK_LOCAL);
  g_assert_true (address->deprecated); /* preferred lifetime 0 */
  g_assert_false (address->dynamic || address->temporary);

  address = get_address (facts, "fd00::10");
  g_assert_nonnull (address);
  g_assert_cmpint (address->scope, ==, PH_IP_SCOPE_ULA);
  g_assert_true (address->deprecated); /* IFA_F_DEPRECATED, no cache info */
  g_assert_false (address->dynamic);

  g_assert_null (find_address (facts, "100.64.0.1"));
  address = get_address (facts, "100.64.0.2");
  g_assert_nonnull (address);
  g_assert_cmpstr (address->ifname, ==, "tun0");
  g_assert_cmpint (address->scope, ==, PH_IP_SCOPE_CGNAT);

  g_assert_cmpuint (facts->gateways->len, ==, G_N_ELEMENTS (routes));
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      route = g_ptr_array_index (facts->gateways, i);
      g_assert_cmpstr (route->ifname, ==, routes[i].ifname);
      g_assert_cmpint (route->family, ==, routes[i].family);
      g_assert_cmpstr (route->gateway, ==, routes[i].gateway);
      g_assert_cmpuint (route->metric, ==, routes[i].metric);
    }

  route = ph_lan_facts_default_route (facts, AF_INET);
  g_assert_cmpstr (route->gateway, ==, "192.168.1.1");
  route = ph_lan_facts_default_route (facts, AF_INET6);
  g_assert_cmpstr (route->gateway, ==, "fe80::1");
  route = ph_lan_facts_default_route (facts, AF_UNSPEC);
  g_assert_cmpint (route->family, ==, AF_INET6);
}

static void
test_parse_json (void)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  g_autoptr (PhLanFacts) facts = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *json = NULL;
  g_autoptr (GError) error = NULL;

  nl_link (buf, 1, "lo", IFF_UP | IFF_LOOPBACK, 772, zero_mac, 6);
  nl_link (buf, 2, "eth0", IFF_UP, 1, test_mac, 6);
  nl_addr (buf, AF_INET6, 2, "2001:db8::10", 64, 0, IFA_F_TEMPORARY, 1800, 3600);
  nl_route (buf, AF_INET, "192.0.2.1", 2, 100);
  nl_route (buf, AF_INET6, NULL, 2, 5);
  facts = ph_lan_facts_parse (buf->data, buf->len, &error);
  g_assert_no_error (error);

  node = ph_lan_facts_to_json (facts);
  json = json_to_string (node, FALSE);
  g_assert_cmpstr (json, ==,
                   "{\"interfaces\":["
                   "{\"name\":\"lo\",\"index\":1,\"up\":true,\"loopback\":true},"
                   "{\"name\":\"eth0\",\"index\":2,\"mac\":\"02:00:5e:10:00:ab\",\"up\":true,"
                   "\"loopback\":false}],"
                   "\"addresses\":[{\"interface\":\"eth0\",\"family\":\"ipv6\","
                   "\"address\":\"2001:db8::10\",\"prefix\":64,\"scope\":\"documentation\","
                   "\"temporary\":true,\"deprecated\":false,\"dynamic\":true}],"
                   "\"gateways\":["
                   "{\"interface\":\"eth0\",\"family\":\"ipv6\",\"metric\":5},"
                   "{\"interface\":\"eth0\",\"family\":\"ipv4\",\"gateway\":\"192.0.2.1\","
                   "\"metric\":100}]}");
}

static void
test_parse_empty (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhLanFacts) facts = ph_lan_facts_parse (NULL, 0, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (facts->interfaces->len, ==, 0);
  g_assert_cmpuint (facts->addresses->len, ==, 0);
  g_assert_cmpuint (facts->gateways->len, ==, 0);
  g_assert_null (ph_lan_facts_default_route (facts, AF_INET));
}

static void
assert_malformed (GByteArray *buf)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhLanFacts) facts = ph_lan_facts_parse (buf->data, buf->len, &error);

  g_assert_null (facts);
  g_assert_error (error, PH_LAN_ERROR, PH_LAN_ERROR_MALFORMED);
  g_byte_array_set_size (buf, 0);
}

static void
set_u32 (GByteArray *buf, gsize offset, guint32 value)
{
  memcpy (buf->data + offset, &value, sizeof value);
}

static void
set_u16 (GByteArray *buf, gsize offset, guint16 value)
{
  memcpy (buf->data + offset, &value, sizeof value);
}

static void
test_parse_malformed (void)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  struct ifinfomsg ifi = { .ifi_index = 2 };
  struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = 24, .ifa_index = 2 };
  const gsize attrs = NLMSG_HDRLEN + sizeof ifi; /* where a link's first attribute starts */
  guint start;

  /* Shorter than a netlink header. */
  g_byte_array_append (buf, (const guint8 *) "\x10\0\0\0\x10\0", 6);
  assert_malformed (buf);

  /* nlmsg_len past the end, and under the header's own size. */
  nl_link (buf, 2, "eth0", IFF_UP, 1, test_mac, 6);
  set_u32 (buf, 0, buf->len + 4);
  assert_malformed (buf);
  nl_link (buf, 2, "eth0", IFF_UP, 1, test_mac, 6);
  set_u32 (buf, 0, 8);
  assert_malformed (buf);

  /* A body shorter than struct ifinfomsg. */
  start = nl_begin (buf, RTM_NEWLINK, &ifi, 8);
  nl_end (buf, start);
  assert_malformed (buf);

  /* rta_len under the attribute header, and past the message. */
  nl_link (buf, 2, "eth0", IFF_UP, 1, test_mac, 6);
  set_u16 (buf, attrs, 2);
  assert_malformed (buf);
  nl_link (buf, 2, "eth0", IFF_UP, 1, test_mac, 6);
  set_u16 (buf, attrs, 200);
  assert_malformed (buf);

  /* Two stray bytes after the last attribute. */
  start = nl_begin (buf, RTM_NEWLINK, &ifi, sizeof ifi);
  nl_attr_str (buf, IFLA_IFNAME, "eth0");
  g_byte_array_append (buf, (const guint8 *) "\x01\x02", 2);
  nl_end (buf, start);
  assert_malformed (buf);

  /* Names: not NUL-terminated, empty, IFNAMSIZ long, not UTF-8; and no name at all. */
  start = nl_begin (buf, RTM_NEWLINK, &ifi, sizeof ifi);
  nl_attr (buf, IFLA_IFNAME, "eth0", 4);
  nl_end (buf, start);
  assert_malformed (buf);
  start = nl_begin (buf, RTM_NEWLINK, &ifi, sizeof ifi);
  nl_attr (buf, IFLA_IFNAME, "", 1);
  nl_end (buf, start);
  assert_malformed (buf);
  nl_link (buf, 2, "abcdefghijklmnop", IFF_UP, 1, NULL, 0);
  assert_malformed (buf);
  nl_link (buf, 2, "eth\xff", IFF_UP, 1, NULL, 0);
  assert_malformed (buf);
  start = nl_begin (buf, RTM_NEWLINK, &ifi, sizeof ifi);
  nl_end (buf, start);
  assert_malformed (buf);

  /* A link index of 0, and a hardware address over MAX_ADDR_LEN. */
  nl_link (buf, 0, "eth0", IFF_UP, 1, test_mac, 6);
  assert_malformed (buf);
  {
    guint8 big[33] = { 1 };
    nl_link (buf, 2, "eth0", IFF_UP, 1, big, sizeof big);
    assert_malformed (buf);
  }

  /* Addresses: the wrong length for the family, none at all, a prefix past 32, a short
   * IFA_FLAGS, a truncated ifa_cacheinfo. */
  start = nl_begin (buf, RTM_NEWADDR, &ifa, sizeof ifa);
  nl_attr (buf, IFA_ADDRESS, "\xc0\xa8\x01\x0a\x00", 5);
  nl_end (buf, start);
  assert_malformed (buf);
  start = nl_begin (buf, RTM_NEWADDR, &ifa, sizeof ifa);
  nl_attr_ip (buf, IFA_ADDRESS, AF_INET6, "2001:db8::1");
  nl_end (buf, start);
  assert_malformed (buf);
  start = nl_begin (buf, RTM_NEWADDR, &ifa, sizeof ifa);
  nl_end (buf, start);
  assert_malformed (buf);
  nl_addr (buf, AF_INET, 2, "192.168.1.10", 33, 0, -1, 0, 0);
  assert_malformed (buf);
  start = nl_begin (buf, RTM_NEWADDR, &ifa, sizeof ifa);
  nl_attr_ip (buf, IFA_ADDRESS, AF_INET, "192.168.1.10");
  nl_attr (buf, IFA_FLAGS, "\x01\x00", 2);
  nl_end (buf, start);
  assert_malformed (buf);
  start = nl_begin (buf, RTM_NEWADDR, &ifa, sizeof ifa);
  nl_attr_ip (buf, IFA_ADDRESS, AF_INET, "192.168.1.10");
  nl_attr (buf, IFA_CACHEINFO, "\xff\xff\xff\xff\0\0\0\0", 8);
  nl_end (buf, start);
  assert_malformed (buf);

  /* Routes: a short RTA_PRIORITY, a gateway of the other family, a short RTA_VIA, a
   * multipath whose rtnh_len overruns. */
  start = nl_route_begin (buf, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST);
  nl_attr (buf, RTA_PRIORITY, "\x01\x00", 2);
  nl_end (buf, start);
  assert_malformed (buf);
  start = nl_route_begin (buf, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST);
  nl_attr_ip (buf, RTA_GATEWAY, AF_INET6, "fe80::1");
  nl_end (buf, start);
  assert_malformed (buf);
  start = nl_route_begin (buf, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST);
  nl_attr (buf, RTA_VIA, "\x0a", 1);
  nl_end (buf, start);
  assert_malformed (buf);
  start = nl_route_begin (buf, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST);
  nl_attr (buf, RTA_VIA, "\x0a\x00\xfe\x80", 4); /* AF_INET6 with 2 address bytes */
  nl_end (buf, start);
  assert_malformed (buf);
  {
    struct rtnexthop nh = { .rtnh_len = 64, .rtnh_ifindex = 2 };
    start = nl_route_begin (buf, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST);
    nl_attr (buf, RTA_MULTIPATH, &nh, sizeof nh);
    nl_end (buf, start);
    assert_malformed (buf);
    nh.rtnh_len = 4;
    start = nl_route_begin (buf, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST);
    nl_attr (buf, RTA_MULTIPATH, &nh, sizeof nh);
    nl_end (buf, start);
    assert_malformed (buf);
  }
  /* A truncated rtmsg. */
  start = nl_begin (buf, RTM_NEWROUTE, "\x02\0\0\0", 4);
  nl_end (buf, start);
  assert_malformed (buf);
}

/* Every prefix of a valid dump either parses (at a message boundary) or fails cleanly. */
static void
test_parse_truncated (void)
{
  g_autoptr (GByteArray) buf = build_sample ();
  guint parsed = 0, messages = 0;

  for (gsize at = 0; at < buf->len; messages++)
    {
      guint32 len;
      memcpy (&len, buf->data + at, sizeof len);
      at += NLMSG_ALIGN (len);
    }

  for (gsize len = 0; len < buf->len; len++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PhLanFacts) facts = ph_lan_facts_parse (buf->data, len, &error);

      if (facts != NULL)
        parsed++;
      else
        g_assert_error (error, PH_LAN_ERROR, PH_LAN_ERROR_MALFORMED);
    }
  /* One success per message boundary (the empty prefix included), nothing in between. */
  g_assert_cmpuint (messages, >, 20);
  g_assert_cmpuint (parsed, ==, messages);
}

/* Corrupted bytes: a clean error or facts, never a crash (ASan/UBSan watch the reads). */
static void
test_parse_corrupted (void)
{
  g_autoptr (GByteArray) sample = build_sample ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (20240611);

  for (guint round = 0; round < 3000; round++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PhLanFacts) facts = NULL;
      guint8 *copy = g_memdup2 (sample->data, sample->len);
      guint flips = g_rand_int_range (rand, 1, 6);

      for (guint i = 0; i < flips; i++)
        copy[g_rand_int_range (rand, 0, sample->len)] = (guint8) g_rand_int_range (rand, 0, 256);
      facts = ph_lan_facts_parse (copy, sample->len, &error);
      g_assert_true ((facts == NULL) != (error == NULL));
      if (facts != NULL)
        json_node_unref (ph_lan_facts_to_json (facts));
      g_free (copy);
    }
}

/* ---- the real kernel, compared with iproute2 ---- */

static JsonArray *
run_ip (const char *const *argv, GError **error)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  int status;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                     &status, error))
    return NULL;
  if (!g_spawn_check_wait_status (status, error))
    {
      g_prefix_error (error, "%s: %s", argv[0], err);
      return NULL;
    }
  /* `ip -j` prints nothing at all when there is nothing to list. */
  if (out[strspn (out, " \n")] == '\0')
    return json_array_new ();
  if (!json_parser_load_from_data (parser, out, -1, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: not a JSON array", argv[0]);
      return NULL;
    }
  return json_array_ref (json_node_get_array (root));
}

static int
compare_lines (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static char *
sorted_lines (GPtrArray *lines)
{
  g_ptr_array_sort (lines, compare_lines);
  g_ptr_array_add (lines, NULL);
  return g_strjoinv ("\n", (char **) lines->pdata);
}

static char *
facts_interfaces (const PhLanFacts *facts)
{
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < facts->interfaces->len; i++)
    {
      const PhLanInterface *iface = g_ptr_array_index (facts->interfaces, i);
      g_ptr_array_add (lines, g_strdup_printf ("%u %s up=%d loopback=%d", iface->index, iface->name,
                                               iface->up, iface->loopback));
    }
  return sorted_lines (lines);
}

static gboolean
ip_has_flag (JsonObject *link, const char *flag)
{
  JsonArray *flags = json_object_get_array_member (link, "flags");

  for (guint i = 0; flags != NULL && i < json_array_get_length (flags); i++)
    if (g_strcmp0 (json_array_get_string_element (flags, i), flag) == 0)
      return TRUE;
  return FALSE;
}

static char *
ip_interfaces (JsonArray *links)
{
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < json_array_get_length (links); i++)
    {
      JsonObject *link = json_array_get_object_element (links, i);
      g_ptr_array_add (lines,
                       g_strdup_printf ("%" G_GINT64_FORMAT " %s up=%d loopback=%d",
                                        json_object_get_int_member (link, "ifindex"),
                                        json_object_get_string_member (link, "ifname"),
                                        ip_has_flag (link, "UP"), ip_has_flag (link, "LOOPBACK")));
    }
  return sorted_lines (lines);
}

static const char *
family_name (int family)
{
  return family == AF_INET ? "inet" : "inet6";
}

static char *
facts_addresses (const PhLanFacts *facts)
{
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < facts->addresses->len; i++)
    {
      const PhLanAddress *a = g_ptr_array_index (facts->addresses, i);
      g_ptr_array_add (lines, g_strdup_printf ("%s %s %s/%u", a->ifname, family_name (a->family),
                                               a->address, a->prefix));
    }
  return sorted_lines (lines);
}

static char *
ip_addresses (JsonArray *links)
{
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < json_array_get_length (links); i++)
    {
      JsonObject *link = json_array_get_object_element (links, i);
      JsonArray *infos = json_object_get_array_member (link, "addr_info");

      for (guint j = 0; infos != NULL && j < json_array_get_length (infos); j++)
        {
          JsonObject *info = json_array_get_object_element (infos, j);
          g_ptr_array_add (lines, g_strdup_printf ("%s %s %s/%" G_GINT64_FORMAT,
                                                   json_object_get_string_member (link, "ifname"),
                                                   json_object_get_string_member (info, "family"),
                                                   json_object_get_string_member (info, "local"),
                                                   json_object_get_int_member (info, "prefixlen")));
        }
    }
  return sorted_lines (lines);
}

static char *
facts_gateways (const PhLanFacts *facts)
{
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < facts->gateways->len; i++)
    {
      const PhLanRoute *r = g_ptr_array_index (facts->gateways, i);
      g_ptr_array_add (lines, g_strdup_printf ("%s %s via %s metric %u", r->ifname,
                                               family_name (r->family),
                                               r->gateway ? r->gateway : "-", r->metric));
    }
  return sorted_lines (lines);
}

static void
ip_route_lines (JsonArray *routes, const char *family, GPtrArray *lines)
{
  for (guint i = 0; i < json_array_get_length (routes); i++)
    {
      JsonObject *route = json_array_get_object_element (routes, i);
      gint64 metric = json_object_get_int_member_with_default (route, "metric", 0);
      JsonArray *nexthops = json_object_has_member (route, "nexthops")
                                ? json_object_get_array_member (route, "nexthops")
                                : NULL;
      guint n = nexthops != NULL ? json_array_get_length (nexthops) : 1;

      /* Unicast routes only: iproute2 names the type of any other. */
      if (json_object_has_member (route, "type"))
        continue;
      for (guint j = 0; j < n; j++)
        {
          JsonObject *hop = nexthops != NULL ? json_array_get_object_element (nexthops, j) : route;
          const char *gateway = json_object_get_string_member_with_default (hop, "gateway", NULL);

          if (gateway == NULL && json_object_has_member (hop, "via"))
            gateway = json_object_get_string_member (json_object_get_object_member (hop, "via"),
                                                     "host");
          g_ptr_array_add (lines, g_strdup_printf ("%s %s via %s metric %" G_GINT64_FORMAT,
                                                   json_object_get_string_member_with_default (
                                                       hop, "dev", "(null)"),
                                                   family, gateway ? gateway : "-", metric));
        }
    }
}

typedef struct
{
  char *ours[3];
  char *theirs[3];
} Comparison;

static void
comparison_clear (Comparison *c)
{
  for (guint i = 0; i < 3; i++)
    {
      g_clear_pointer (&c->ours[i], g_free);
      g_clear_pointer (&c->theirs[i], g_free);
    }
}

/* Reads the facts and what `ip` says right after; TRUE when they agree. */
static gboolean
compare_with_ip (Comparison *c, PhLanFacts **facts_out)
{
  static const char *const addr_argv[] = { "ip", "-j", "addr", "show", NULL };
  static const char *const route4_argv[] = { "ip", "-4", "-j", "route", "show", "default", NULL };
  static const char *const route6_argv[] = { "ip", "-6", "-j", "route", "show", "default", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhLanFacts) facts = ph_lan_facts_read (&error);
  g_autoptr (JsonArray) links = NULL;
  g_autoptr (JsonArray) routes4 = NULL;
  g_autoptr (JsonArray) routes6 = NULL;
  g_autoptr (GPtrArray) route_lines = g_ptr_array_new_with_free_func (g_free);

  g_assert_no_error (error);
  links = run_ip (addr_argv, &error);
  g_assert_no_error (error);
  routes4 = run_ip (route4_argv, &error);
  g_assert_no_error (error);
  routes6 = run_ip (route6_argv, &error);
  g_assert_no_error (error);

  comparison_clear (c);
  c->ours[0] = facts_interfaces (facts);
  c->theirs[0] = ip_interfaces (links);
  c->ours[1] = facts_addresses (facts);
  c->theirs[1] = ip_addresses (links);
  c->ours[2] = facts_gateways (facts);
  ip_route_lines (routes4, "inet", route_lines);
  ip_route_lines (routes6, "inet6", route_lines);
  c->theirs[2] = sorted_lines (route_lines);

  /* MACs: ours for every Ethernet-like link iproute2 lists, and the same text. */
  for (guint i = 0; i < json_array_get_length (links); i++)
    {
      JsonObject *link = json_array_get_object_element (links, i);
      const char *name = json_object_get_string_member (link, "ifname");

      if (g_strcmp0 (json_object_get_string_member (link, "link_type"), "ether") != 0)
        continue;
      for (guint j = 0; j < facts->interfaces->len; j++)
        {
          const PhLanInterface *iface = g_ptr_array_index (facts->interfaces, j);
          if (g_strcmp0 (iface->name, name) == 0)
            g_assert_cmpstr (iface->mac, ==, json_object_get_string_member (link, "address"));
        }
    }

  if (facts_out != NULL)
    *facts_out = g_steal_pointer (&facts);
  for (guint i = 0; i < 3; i++)
    if (g_strcmp0 (c->ours[i], c->theirs[i]) != 0)
      return FALSE;
  return TRUE;
}

static gboolean
have_ip (void)
{
  g_autofree char *path = g_find_program_in_path ("ip");
  return path != NULL;
}

/* Every interface, address and gateway `ip` lists is in our facts, and nothing else. A table may
 * change between our read and ip's (a privacy address renewed), so a mismatch is read again. */
static void
assert_matches_ip (PhLanFacts **facts_out)
{
  Comparison c = { 0 };
  gboolean same = FALSE;

  for (guint attempt = 0; attempt < 3 && !same; attempt++)
    {
      if (facts_out != NULL)
        g_clear_pointer (facts_out, ph_lan_facts_free);
      same = compare_with_ip (&c, facts_out);
    }
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (c.ours[i], ==, c.theirs[i]);
  comparison_clear (&c);
}

static void
assert_sorted_by_metric (const PhLanFacts *facts)
{
  for (guint i = 1; i < facts->gateways->len; i++)
    {
      const PhLanRoute *prev = g_ptr_array_index (facts->gateways, i - 1);
      const PhLanRoute *route = g_ptr_array_index (facts->gateways, i);
      g_assert_cmpuint (prev->metric, <=, route->metric);
    }
}

/* Scope spot-checks: what ph_ip_scope says of each address, via the other entry point. */
static void
assert_scopes (const PhLanFacts *facts)
{
  for (guint i = 0; i < facts->addresses->len; i++)
    {
      const PhLanAddress *a = g_ptr_array_index (facts->addresses, i);
      g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (a->address);

      g_assert_nonnull (inet);
      g_assert_cmpint (a->scope, ==, ph_ip_scope_classify_inet (inet));
      if (g_str_equal (a->address, "127.0.0.1") || g_str_equal (a->address, "::1"))
        g_assert_cmpint (a->scope, ==, PH_IP_SCOPE_LOOPBACK);
      if (g_str_has_prefix (a->address, "fe80:"))
        g_assert_cmpint (a->scope, ==, PH_IP_SCOPE_LINK_LOCAL);
    }
}

static void
test_read_matches_ip (void)
{
  g_autoptr (PhLanFacts) facts = NULL;
  gint64 start = g_get_monotonic_time ();

  if (!have_ip ())
    {
      g_test_skip ("iproute2's `ip` is not installed");
      return;
    }
  assert_matches_ip (&facts);
  assert_sorted_by_metric (facts);
  assert_scopes (facts);
  /* A local call: well under the time a UI can spare a worker thread. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

static void
test_read_json (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhLanFacts) facts = ph_lan_facts_read (&error);
  g_autoptr (JsonNode) node = NULL;
  JsonObject *root;
  JsonArray *addresses;

  g_assert_no_error (error);
  node = ph_lan_facts_to_json (facts);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  root = json_node_get_object (node);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "interfaces")), ==,
                    facts->interfaces->len);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "gateways")), ==,
                    facts->gateways->len);
  addresses = json_object_get_array_member (root, "addresses");
  g_assert_cmpuint (json_array_get_length (addresses), ==, facts->addresses->len);
  for (guint i = 0; i < json_array_get_length (addresses); i++)
    {
      JsonObject *a = json_array_get_object_element (addresses, i);
      const char *family = json_object_get_string_member (a, "family");

      g_assert_true (g_str_equal (family, "ipv4") || g_str_equal (family, "ipv6"));
      g_assert_nonnull (json_object_get_string_member (a, "scope"));
      g_assert_true (json_object_has_member (a, "temporary"));
      g_assert_true (json_object_has_member (a, "deprecated"));
      g_assert_true (json_object_has_member (a, "dynamic"));
    }
}

/* ---- a network namespace of our own: lifetimes, metrics, tables we choose ---- */

static const char *const netns_setup[] = {
  "ip link set lo up",
  "ip link add v0 type veth peer name v1",
  "ip link set v0 up",
  "ip link set v1 up",
  "ip addr add 198.51.100.2/24 dev v0 valid_lft 300 preferred_lft 0",
  "ip addr add 10.9.0.2/24 dev v0",
  "ip -6 addr add 2001:db8:9::2/64 dev v0 nodad valid_lft 600 preferred_lft 100",
  "ip -6 addr add fd00:9::2/64 dev v0 nodad",
  "ip route add default via 10.9.0.1 dev v0 metric 50",
  "ip route add default metric 70 nexthop via 10.9.0.3 dev v0 nexthop via 10.9.0.4 dev v0",
  "ip -4 route add default via inet6 fe80::1 dev v0 metric 300",
  "ip route add default dev v1 metric 500",
  "ip route add default via 10.9.0.254 dev v0 table 100",
  "ip route add unreachable default metric 900",
  "ip -6 route add default via 2001:db8:9::1 dev v0 metric 10",
  NULL,
};

static gboolean
netns_available (void)
{
  const char *argv[]
      = { "unshare", "-n", "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1", NULL };
  int status;

  if (!have_ip ())
    return FALSE;
  return g_spawn_sync (NULL, (char **) argv, NULL,
                       G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL
                           | G_SPAWN_STDERR_TO_DEV_NULL,
                       NULL, NULL, NULL, NULL, &status, NULL)
         && g_spawn_check_wait_status (status, NULL);
}

static void
netns_child (void)
{
  g_autoptr (PhLanFacts) facts = NULL;
  const PhLanAddress *a;
  const PhLanRoute *route;
  const PhLanInterface *v0 = NULL;

  g_assert_cmpint (unshare (CLONE_NEWNET), ==, 0);
  for (guint i = 0; netns_setup[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *err = NULL;
      int status;

      g_spawn_command_line_sync (netns_setup[i], NULL, &err, &status, &error);
      g_assert_no_error (error);
      if (!g_spawn_check_wait_status (status, NULL))
        g_error ("%s: %s", netns_setup[i], err);
    }

  assert_matches_ip (&facts);
  assert_scopes (facts);

  for (guint i = 0; i < facts->interfaces->len; i++)
    {
      const PhLanInterface *iface = g_ptr_array_index (facts->interfaces, i);
      if (g_str_equal (iface->name, "v0"))
        v0 = iface;
      if (g_str_equal (iface->name, "lo"))
        g_assert_true (iface->loopback && iface->up && iface->mac == NULL);
    }
  g_assert_nonnull (v0);
  g_assert_true (v0->up && !v0->loopback);
  g_assert_nonnull (v0->mac);
  g_assert_cmpuint (strlen (v0->mac), ==, 17);

  a = get_address (facts, "198.51.100.2");
  g_assert_nonnull (a);
  g_assert_cmpstr (a->ifname, ==, "v0");
  g_assert_cmpuint (a->prefix, ==, 24);
  g_assert_cmpint (a->scope, ==, PH_IP_SCOPE_DOCUMENTATION);
  g_assert_true (a->dynamic && a->deprecated && !a->temporary);
  a = get_address (facts, "10.9.0.2");
  g_assert_cmpint (a->scope, ==, PH_IP_SCOPE_PRIVATE);
  g_assert_false (a->dynamic || a->deprecated || a->temporary);
  a = get_address (facts, "2001:db8:9::2");
  g_assert_cmpint (a->family, ==, AF_INET6);
  g_assert_cmpint (a->scope, ==, PH_IP_SCOPE_DOCUMENTATION);
  g_assert_true (a->dynamic && !a->deprecated && !a->temporary);
  a = get_address (facts, "fd00:9::2");
  g_assert_cmpint (a->scope, ==, PH_IP_SCOPE_ULA);
  g_assert_false (a->dynamic);
  a = get_address (facts, "::1");
  g_assert_cmpint (a->scope, ==, PH_IP_SCOPE_LOOPBACK);

  /* Lowest metric first; table 100 and the unreachable default are not gateways. */
  g_assert_cmpuint (facts->gateways->len, ==, 6);
  assert_sorted_by_metric (facts);
  route = g_ptr_array_index (facts->gateways, 0);
  g_assert_cmpstr (route->gateway, ==, "2001:db8:9::1");
  g_assert_cmpuint (route->metric, ==, 10);
  route = ph_lan_facts_default_route (facts, AF_INET);
  g_assert_cmpstr (route->ifname, ==, "v0");
  g_assert_cmpstr (route->gateway, ==, "10.9.0.1");
  g_assert_cmpuint (route->metric, ==, 50);
  route = ph_lan_facts_default_route (facts, AF_INET6);
  g_assert_cmpstr (route->gateway, ==, "2001:db8:9::1");
  route = g_ptr_array_index (facts->gateways, 4);
  g_assert_cmpint (route->family, ==, AF_INET);
  g_assert_cmpstr (route->gateway, ==, "fe80::1");
  route = g_ptr_array_index (facts->gateways, 5);
  g_assert_cmpstr (route->ifname, ==, "v1");
  g_assert_null (route->gateway);
  g_assert_cmpuint (route->metric, ==, 500);
}

static void
test_read_netns (void)
{
  if (g_test_subprocess ())
    {
      netns_child ();
      return;
    }
  if (!netns_available ())
    {
      g_test_skip ("cannot make a network namespace with a veth pair here (needs root, "
                   "unshare(1) and iproute2)");
      return;
    }
  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/lan/parse/sample", test_parse_sample);
  g_test_add_func ("/lan/parse/json", test_parse_json);
  g_test_add_func ("/lan/parse/empty", test_parse_empty);
  g_test_add_func ("/lan/parse/malformed", test_parse_malformed);
  g_test_add_func ("/lan/parse/truncated", test_parse_truncated);
  g_test_add_func ("/lan/parse/corrupted", test_parse_corrupted);
  g_test_add_func ("/lan/read/matches-ip", test_read_matches_ip);
  g_test_add_func ("/lan/read/json", test_read_json);
  g_test_add_func ("/lan/read/netns", test_read_netns);

  return g_test_run ();
}
