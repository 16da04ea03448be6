/* ph-lan.h: this machine's interfaces, addresses and default routes, read from the kernel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "p2p/ph-ip-scope.h"

G_BEGIN_DECLS

#define PH_LAN_ERROR (ph_lan_error_quark ())

/* What the kernel's rtnetlink answer looked like when it was not what we can use; socket failures
 * and timeouts are G_IO_ERROR. */
typedef enum
{
  PH_LAN_ERROR_MALFORMED, /* a message or attribute whose length or content does not parse */
  PH_LAN_ERROR_TOO_LARGE, /* a dump over our bound */
} PhLanError;

GQuark
ph_lan_error_quark (void);

typedef struct
{
  char *name;
  guint index;
  char *mac; /* NULL when the link has none */
  gboolean up;
  gboolean loopback;
} PhLanInterface;

typedef struct
{
  char *ifname;
  guint ifindex;
  int family;    /* AF_INET or AF_INET6 */
  char *address; /* textual, no prefix */
  guint prefix;
  PhIpScope scope;
  gboolean temporary;  /* IPv6 privacy address (IFA_F_TEMPORARY) */
  gboolean deprecated; /* IPv6 preferred lifetime over */
  gboolean dynamic;    /* from DHCP/SLAAC rather than set by hand (finite valid lifetime) */
} PhLanAddress;

typedef struct
{
  char *ifname;
  guint ifindex;
  int family;
  char *gateway; /* NULL for a device route with no next hop */
  guint metric;
} PhLanRoute;

typedef struct
{
  GPtrArray *interfaces; /* PhLanInterface */
  GPtrArray *addresses;  /* PhLanAddress */
  GPtrArray *gateways;   /* PhLanRoute: default routes only, lowest metric first */
} PhLanFacts;

/* Blocking but local and bounded: three rtnetlink dumps, each read with a receive timeout. */
PhLanFacts *
ph_lan_facts_read (GError **error);
/* The parser behind ph_lan_facts_read, without I/O: data is a concatenation of rtnetlink messages
 * (RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, in any order; other types are ignored). For tests. */
/* Empty facts whose arrays free their elements: for parsers and for tests that build facts. */
PhLanFacts *
ph_lan_facts_new (void);
PhLanFacts *
ph_lan_facts_parse (const guint8 *data, gsize len, GError **error);
void
ph_lan_facts_free (PhLanFacts *facts);
const PhLanRoute *
ph_lan_facts_default_route (const PhLanFacts *facts, int family);
JsonNode *
ph_lan_facts_to_json (const PhLanFacts *facts);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhLanFacts, ph_lan_facts_free)

G_END_DECLS
