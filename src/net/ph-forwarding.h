/* ph-forwarding.h: what to type into the router to forward the node's port by hand
 *
 * The third road of the IPFS NAT guide, for routers without UPnP: this host's LAN IPv4 address,
 * the router and its admin page, the swarm port with both protocols, and the exact values for a
 * router's port-forwarding form, with the warnings that matter (an address from DHCP may change
 * and leave the forwarding pointing elsewhere). Pure: no I/O; the facts come from ph-nm.h and
 * ph-lan.h, the admin page optionally from UPnP's presentation URL.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "net/ph-lan.h"
#include "net/ph-nm.h"

G_BEGIN_DECLS

#define PH_FORWARDING_ERROR (ph_forwarding_error_quark ())

typedef enum
{
  PH_FORWARDING_ERROR_NO_ADDRESS,   /* this host has no LAN IPv4 address */
  PH_FORWARDING_ERROR_NO_GATEWAY,   /* no IPv4 default gateway: no router to set up */
  PH_FORWARDING_ERROR_INVALID,      /* an address that does not parse */
  PH_FORWARDING_ERROR_REFUSED_PORT, /* 0, or the node's API or gateway port */
} PhForwardingError;

GQuark
ph_forwarding_error_quark (void);

typedef enum
{
  PH_FORWARDING_DHCP_UNKNOWN,
  PH_FORWARDING_DHCP_YES, /* the address is leased: it may change unless the router reserves it */
  PH_FORWARDING_DHCP_NO,  /* set by hand */
} PhForwardingDhcp;

/* "unknown", "yes", "no" */
const char *
ph_forwarding_dhcp_to_string (PhForwardingDhcp dhcp);

typedef struct
{
  const char *lan_address; /* this host's IPv4 address on the router's network */
  guint lan_prefix;        /* 0: unknown */
  const char *interface;   /* may be NULL */
  const char *mac;         /* the interface's hardware address, for a reservation; may be NULL */
  const char *gateway;     /* the router (IPv4 default gateway) */
  PhForwardingDhcp dhcp;
  const char *presentation_url; /* the router's admin page as UPnP told it; may be NULL */
  guint port;                   /* the node's swarm port */
} PhForwardingInput;

typedef struct
{
  char *label; /* what the router's form calls it, the most common name first */
  char *value; /* exactly what to type or choose */
  char *hint;  /* how routers differ here; may be NULL */
} PhForwardingValue;

typedef struct
{
  char *code;    /* "dhcp-no-reservation", "dhcp-unknown", "public-address", "cgnat-address" */
  char *message; /* a sentence for people */
} PhForwardingWarning;

typedef struct
{
  char *lan_address;
  guint lan_prefix;
  char *interface;
  char *mac;
  char *gateway;
  char *admin_url; /* http://<gateway>/ unless UPnP gave a presentation URL */
  gboolean admin_url_from_upnp;
  guint port; /* external = internal */
  PhForwardingDhcp dhcp;
  char *summary;       /* one sentence: what to forward where */
  GPtrArray *values;   /* PhForwardingValue, in the order a router's form asks */
  GPtrArray *warnings; /* PhForwardingWarning */
} PhForwardingFacts;

/* Validates the input: NO_ADDRESS / NO_GATEWAY when missing, INVALID when not IPv4 literals,
 * REFUSED_PORT for 0, 5001 and 8080 (never forwarded: see ph_upnp_check_port ()). A presentation
 * URL that is not http(s) is ignored. */
PhForwardingFacts *
ph_forwarding_facts_new (const PhForwardingInput *input, GError **error);
/* From what was read: NetworkManager's IPv4 facts when it has them (address, gateway, DHCP),
 * else the kernel's IPv4 default route and the address on its interface (DHCP from the
 * address's finite lifetime); the hardware address from the kernel. nm and lan may be NULL. */
PhForwardingFacts *
ph_forwarding_facts_gather (const PhNmFacts *nm, const PhLanFacts *lan, guint port,
                            const char *presentation_url, GError **error);
void
ph_forwarding_facts_free (PhForwardingFacts *facts);
JsonNode *
ph_forwarding_facts_to_json (const PhForwardingFacts *facts);
/* "Label: value" lines, ready to copy. */
char *
ph_forwarding_facts_to_text (const PhForwardingFacts *facts);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhForwardingFacts, ph_forwarding_facts_free)

G_END_DECLS
