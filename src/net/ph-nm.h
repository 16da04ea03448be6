/* ph-nm.h: what NetworkManager says about the connection that carries the default route
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "net/ph-lan.h"

G_BEGIN_DECLS

typedef enum
{
  PH_NM_IPV6_KIND_GLOBAL,     /* routable on the internet */
  PH_NM_IPV6_KIND_TEMPORARY,  /* global, a privacy address (RFC 8981): known only from the kernel */
  PH_NM_IPV6_KIND_ULA,        /* fc00::/7: this site only */
  PH_NM_IPV6_KIND_LINK_LOCAL, /* fe80::/10: this link only */
  PH_NM_IPV6_KIND_OTHER,      /* documentation, loopback, reserved, … */
} PhNmIpv6Kind;

/* "global", "temporary", "ula", "link-local", "other" */
const char *
ph_nm_ipv6_kind_to_string (PhNmIpv6Kind kind);

typedef struct
{
  char *address; /* textual, no prefix */
  guint prefix;
  PhNmIpv6Kind kind;
} PhNmAddress;

typedef struct
{
  gboolean running; /* FALSE: NetworkManager absent or not running; the rest is NULL */
  char *version;
  char *device;        /* interface of the primary connection */
  char *connection_id; /* the profile's name, e.g. "Wired connection 1" */
  char *connection_uuid;
  char *connection_type; /* "802-3-ethernet", "802-11-wireless", … */
  char *ipv4_method;     /* "auto", "manual", "disabled", … */
  char *ipv6_method;     /* "auto", "dhcp", "manual", "ignore", "disabled", "link-local", … */

  /* The rest is known only when a connection was found (connection_uuid != NULL). */
  gboolean default_ipv4; /* NetworkManager put the IPv4 default route on this connection */
  gboolean default_ipv6;

  char *ipv4_address; /* the first address of the IPv4 configuration, NULL when none */
  guint ipv4_prefix;
  char *ipv4_gateway; /* NULL when none */
  gboolean ipv4_dhcp; /* method "auto" and a DHCPv4 lease (DHCP4Config) is present */
  guint dhcp_lease_s; /* the lease time the server granted; 0 when not told */
  gint64 dhcp_expiry; /* when the lease ends, seconds since the epoch; 0 when not told */
  char *dhcp_server;  /* the DHCP server's address, when told */

  GPtrArray *ipv6_addresses;   /* PhNmAddress; empty when none (never NULL once read) */
  char *ipv6_gateway;          /* NULL when none */
  gboolean ipv6_default_route; /* a gateway, a ::/0 route, or NetworkManager's Default6 */
} PhNmFacts;

/* How long we wait for NetworkManager (libnm's own D-Bus timeout is 25 s). */
#define PH_NM_DEFAULT_TIMEOUT_MS 5000

/* Never fails for an absent NetworkManager (or an absent system bus): that is
 * facts->running == FALSE. Fails with G_IO_ERROR_TIMED_OUT when NetworkManager owns its bus name
 * but does not answer in time, and G_IO_ERROR_CANCELLED. Asynchronous on the thread-default main
 * context; libnm needs that context iterated a little after the callback to release its client. */
void
ph_nm_facts_read_async (GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data);
/* The same with a deadline of our choosing (tests use a short one). */
void
ph_nm_facts_read_with_timeout_async (guint timeout_ms, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
PhNmFacts *
ph_nm_facts_read_finish (GAsyncResult *result, GError **error);

PhNmFacts *
ph_nm_facts_new (void);
void
ph_nm_facts_free (PhNmFacts *facts);
/* Adds an IPv6 address, its kind from its scope (global unless marked temporary later). */
void
ph_nm_facts_add_ipv6_address (PhNmFacts *facts, const char *address, guint prefix);
/* A global (or temporary) IPv6 address is configured. */
gboolean
ph_nm_facts_has_global_ipv6 (const PhNmFacts *facts);
/* NetworkManager does not say which global addresses are temporary (privacy) ones; the kernel
 * does. Marks those the LAN facts flag as temporary on the same interface. */
void
ph_nm_facts_mark_temporary (PhNmFacts *facts, const PhLanFacts *lan);
JsonNode *
ph_nm_facts_to_json (const PhNmFacts *facts);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhNmFacts, ph_nm_facts_free)

G_END_DECLS
