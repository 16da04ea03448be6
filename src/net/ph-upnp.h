/* ph-upnp.h: the router's UPnP Internet Gateway Device, through miniupnpc
 *
 * Finds the IGD (preferring the one on the default gateway), reads what it says about itself, its
 * external address and its port mappings, and maps, renews and removes the node's swarm port.
 * Rules of the house: only the swarm port is ever mapped (TCP and UDP, to this host), never 5001
 * or 8080; every mapping made is recorded in the change log and can be undone.
 *
 * miniupnpc blocks, so the plain functions below are for worker threads; each checks its
 * cancellable and deadline between router requests (miniupnpc itself gives every socket a 3 s
 * timeout). The _async variants run them in a GTask thread and return on the caller's main context
 * by the deadline or within a moment of cancellation, even while a request is still stuck.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "net/ph-change-log.h"
#include "p2p/ph-ip-scope.h"

G_BEGIN_DECLS

#define PH_UPNP_ERROR (ph_upnp_error_quark ())

typedef enum
{
  PH_UPNP_ERROR_NO_ROUTER,          /* nothing answered the SSDP search: UPnP off, or no router */
  PH_UPNP_ERROR_NOT_IGD,            /* UPnP devices answered, none is an Internet Gateway Device */
  PH_UPNP_ERROR_DISCOVERY_FAILED,   /* the search could not be sent (socket error) */
  PH_UPNP_ERROR_NO_ANSWER,          /* the router did not answer a request (connection failed) */
  PH_UPNP_ERROR_BAD_ANSWER,         /* the router's answer did not parse */
  PH_UPNP_ERROR_TIMED_OUT,          /* our deadline passed */
  PH_UPNP_ERROR_CONFLICT,           /* 718: the port is mapped to another host */
  PH_UPNP_ERROR_NOT_AUTHORIZED,     /* 606: e.g. secure mode, or a mapping that is not ours */
  PH_UPNP_ERROR_ONLY_PERMANENT,     /* 725, and a permanent mapping was refused too */
  PH_UPNP_ERROR_INVALID_ARGS,       /* 402 */
  PH_UPNP_ERROR_ACTION_FAILED,      /* 501 */
  PH_UPNP_ERROR_NO_SUCH_MAPPING,    /* 714 */
  PH_UPNP_ERROR_NO_PORTS_AVAILABLE, /* 728 */
  PH_UPNP_ERROR_CONFLICT_OTHER,     /* 729: conflicts with another mechanism on the router */
  PH_UPNP_ERROR_REFUSED_PORT,       /* our rule: not the swarm port, or the API/gateway port */
  PH_UPNP_ERROR_NOT_OURS,           /* a mapping Porthole did not make: left alone */
  PH_UPNP_ERROR_FAILED,             /* any other UPnP error code */
} PhUpnpError;

GQuark
ph_upnp_error_quark (void);

/* What a request was doing when the router answered with an error code; picks the sentence. */
typedef enum
{
  PH_UPNP_ACTION_GET_STATUS,
  PH_UPNP_ACTION_GET_EXTERNAL_ADDRESS,
  PH_UPNP_ACTION_LIST_MAPPINGS,
  PH_UPNP_ACTION_GET_MAPPING,
  PH_UPNP_ACTION_ADD_MAPPING,
  PH_UPNP_ACTION_DELETE_MAPPING,
} PhUpnpAction;

#define PH_UPNP_DESCRIPTION "Porthole (IPFS swarm)"
#define PH_UPNP_DEFAULT_LEASE_S 3600
#define PH_UPNP_DEFAULT_DISCOVER_MS 2000
#define PH_UPNP_DEFAULT_TIMEOUT_MS 10000
#define PH_UPNP_MAX_MAPPINGS 128 /* GetGenericPortMappingEntry stops after this many */
#define PH_UPNP_API_PORT 5001
#define PH_UPNP_GATEWAY_PORT 8080

/* ---- pure parts (no I/O) ---- */

/* code: a UPnP error code (402, 606, 718, …) or a negative miniupnpc code (UPNPCOMMAND_*).
 * port and protocol name the mapping the action was about (0 / NULL when none). The message is a
 * sentence for people, ending with the technical detail in brackets. */
GError *
ph_upnp_error_new (PhUpnpAction action, int code, guint port, const char *protocol);
/* 718 with what GetSpecificPortMappingEntry said about the holder (holder NULL: none listed). */
GError *
ph_upnp_conflict_error_new (guint port, const char *protocol, const char *holder, guint holder_port,
                            const char *holder_description);
/* No router answered within discover_ms; gateway (may be NULL) makes the advice concrete. */
GError *
ph_upnp_no_router_error_new (guint discover_ms, const char *gateway);

/* Only the swarm port, and never the API or gateway port even if configured as swarm port. */
gboolean
ph_upnp_check_port (guint swarm_port, guint port, GError **error);

typedef enum
{
  PH_UPNP_EXTERNAL_NONE, /* none given, 0.0.0.0, or not an IPv4 address */
  PH_UPNP_EXTERNAL_PUBLIC,
  PH_UPNP_EXTERNAL_PRIVATE,    /* RFC 1918: another router between this one and the internet */
  PH_UPNP_EXTERNAL_CGNAT,      /* 100.64.0.0/10: the provider's NAT (RFC 6598) */
  PH_UPNP_EXTERNAL_UNROUTABLE, /* loopback, link-local, documentation, reserved, multicast */
} PhUpnpExternalScope;

PhUpnpExternalScope
ph_upnp_classify_external_address (const char *address);
/* "none", "public", "private", "cgnat", "unroutable" */
const char *
ph_upnp_external_scope_to_string (PhUpnpExternalScope scope);

/* What the root device description says about the router. */
typedef struct
{
  char *device_type;
  char *friendly_name;
  char *manufacturer;
  char *model_name;
  char *model_number;
  char *admin_url; /* presentationURL made absolute; only http and https are kept */
} PhUpnpDeviceInfo;

/* Parses the root device's own fields (not those of embedded devices) from untrusted XML of at
 * most 256 KiB; desc_url resolves a relative presentationURL (URLBase wins when present). Never
 * fails: what could not be read stays NULL. */
PhUpnpDeviceInfo *
ph_upnp_device_info_parse (const char *xml, gsize len, const char *desc_url);
void
ph_upnp_device_info_free (PhUpnpDeviceInfo *info);

typedef struct
{
  guint external_port;
  char *protocol; /* "TCP" or "UDP" */
  char *internal_client;
  guint internal_port;
  char *description; /* as the router reports it, made valid UTF-8 */
  gboolean enabled;
  char *remote_host; /* "" for any */
  guint lease_s;     /* remaining; 0 = permanent */
  /* set by ph_upnp_facts_analyse (): */
  gboolean to_this_host;
  gboolean to_swarm_port; /* to this host's swarm port: ours, or the node's own (kubo) mapping */
  gboolean ours;          /* our description, to this host, swarm port both sides */
} PhUpnpMapping;

PhUpnpMapping *
ph_upnp_mapping_copy (const PhUpnpMapping *mapping);
void
ph_upnp_mapping_free (PhUpnpMapping *mapping);

/* code: "api-port-mapped", "gateway-port-mapped" (the router forwards to this host's 5001 or
 * 8080), "double-nat", "cgnat", "no-external-address", "not-connected", "not-on-gateway",
 * "swarm-port-taken" (by another host), "list-refused", "list-truncated", "permanent-mapping",
 * and on a PhUpnpMapResult "change-log-set-aside", "change-log-failed". */
typedef struct
{
  char *code;
  char *message; /* a sentence for people */
} PhUpnpWarning;

typedef struct
{
  gboolean found;   /* FALSE: no usable router; error says why, the rest is empty */
  char *error;      /* a sentence, when !found or when reading part of the facts failed */
  char *error_code; /* PhUpnpError nick, e.g. "no-router" */
  PhUpnpDeviceInfo *router;
  char *desc_url;
  char *gateway;       /* the default gateway the search preferred, when known */
  gboolean on_gateway; /* the IGD's description is served by the default gateway */
  gboolean connected;  /* the IGD says its WAN connection is up */
  char *lan_address;   /* this host's address as the router sees it */
  char *external_address;
  PhUpnpExternalScope external_scope;
  guint swarm_port;
  GPtrArray *mappings; /* PhUpnpMapping */
  gboolean mappings_truncated;
  PhUpnpMapping *our_tcp; /* the swarm port's mappings when they are ours, else NULL */
  PhUpnpMapping *our_udp;
  PhUpnpMapping *holder; /* the swarm port mapped to another host, else NULL */
  GPtrArray *warnings;   /* PhUpnpWarning */
} PhUpnpFacts;

PhUpnpFacts *
ph_upnp_facts_new (void);
void
ph_upnp_facts_free (PhUpnpFacts *facts);
/* Sets the mappings' flags, our_tcp/our_udp/holder and the warnings from the other fields. */
void
ph_upnp_facts_analyse (PhUpnpFacts *facts);
/* The `upnp` object of `porthole --check --json`. */
JsonNode *
ph_upnp_facts_to_json (const PhUpnpFacts *facts);

/* ---- talking to the router (blocking: worker threads only) ---- */

typedef struct
{
  const char *gateway;      /* IPv4 default gateway; NULL: read it from the kernel */
  guint swarm_port;         /* the only port this router handle will ever map */
  guint discover_ms;        /* SSDP wait, clamped to 1000..2000; 0: PH_UPNP_DEFAULT_DISCOVER_MS */
  guint timeout_ms;         /* deadline of each operation; 0: PH_UPNP_DEFAULT_TIMEOUT_MS */
  const char *multicast_if; /* interface for the search; NULL: the kernel's choice */
} PhUpnpOptions;

typedef struct _PhUpnpRouter PhUpnpRouter;

PhUpnpRouter *
ph_upnp_router_ref (PhUpnpRouter *router);
void
ph_upnp_router_unref (PhUpnpRouter *router);
const PhUpnpDeviceInfo *
ph_upnp_router_get_info (PhUpnpRouter *router);
const char *
ph_upnp_router_get_desc_url (PhUpnpRouter *router);
const char *
ph_upnp_router_get_control_url (PhUpnpRouter *router);
const char *
ph_upnp_router_get_service_type (PhUpnpRouter *router);
const char *
ph_upnp_router_get_lan_address (PhUpnpRouter *router);
gboolean
ph_upnp_router_is_on_gateway (PhUpnpRouter *router);
gboolean
ph_upnp_router_is_connected (PhUpnpRouter *router);

/* Fails with NO_ROUTER, NOT_IGD, DISCOVERY_FAILED, TIMED_OUT or G_IO_ERROR_CANCELLED. */
PhUpnpRouter *
ph_upnp_discover (const PhUpnpOptions *options, GCancellable *cancellable, GError **error);
/* The IGD whose root description is at desc_url, without a search (a router remembered from
 * before); options->gateway only sets on_gateway. Fails with NO_ANSWER or NOT_IGD. */
PhUpnpRouter *
ph_upnp_router_new_for_url (const char *desc_url, const PhUpnpOptions *options,
                            GCancellable *cancellable, GError **error);
/* The external IPv4 address ("0.0.0.0" and "" come back as they are; see the scope). */
char *
ph_upnp_get_external_address (PhUpnpRouter *router, PhUpnpExternalScope *scope,
                              GCancellable *cancellable, GError **error);
GPtrArray *
ph_upnp_list_mappings (PhUpnpRouter *router, gboolean *truncated, GCancellable *cancellable,
                       GError **error);
/* External address, mappings and warnings; a failure of one part is kept in facts->error. */
PhUpnpFacts *
ph_upnp_read_facts (PhUpnpRouter *router, GCancellable *cancellable, GError **error);
/* Discovery and facts; a missing router is facts->found == FALSE, not an error (only
 * cancellation is). */
PhUpnpFacts *
ph_upnp_gather (const PhUpnpOptions *options, GCancellable *cancellable, GError **error);

typedef struct
{
  guint port;             /* external = internal */
  char *internal_client;  /* this host */
  guint lease_s;          /* granted; 0 = permanent */
  gboolean permanent;     /* the router only takes permanent mappings: remove it when done */
  gboolean already_there; /* this host's swarm port was mapped already (not by us): left as is */
  gint64 expires_at;      /* wall clock, seconds since the epoch; 0 when permanent or not ours */
  char *change_id;        /* the change-log entry, NULL without a log or when already_there */
  GPtrArray *warnings;    /* PhUpnpWarning: e.g. a damaged change log that was set aside */
} PhUpnpMapResult;

void
ph_upnp_map_result_free (PhUpnpMapResult *result);
/* Seconds from now to call ph_upnp_renew_mapping (); 0 when no renewal is needed. */
guint
ph_upnp_map_result_renew_in (const PhUpnpMapResult *result);

/* Maps port (which must be the router's swarm port) TCP and UDP to this host with our description
 * and lease_s (0: PH_UPNP_DEFAULT_LEASE_S), both or neither, and records it in log (may be NULL).
 * Handles 725 (retries with a permanent lease, remembered to be removed) and 402 on lease 0
 * (retries finite). Fails with CONFLICT (naming the holder), NOT_AUTHORIZED, REFUSED_PORT, … */
PhUpnpMapResult *
ph_upnp_add_mapping (PhUpnpRouter *router, guint port, guint lease_s, PhChangeLog *log,
                     GCancellable *cancellable, GError **error);
/* The same, for a mapping we made: extends the lease (or makes it again after a router restart). */
PhUpnpMapResult *
ph_upnp_renew_mapping (PhUpnpRouter *router, guint port, guint lease_s, PhChangeLog *log,
                       GCancellable *cancellable, GError **error);
/* Removes our mapping of port (TCP and UDP) and its change-log entry. Mappings that are not ours
 * are left alone (NOT_OURS); one already gone is fine. */
gboolean
ph_upnp_remove_mapping (PhUpnpRouter *router, guint port, PhChangeLog *log,
                        GCancellable *cancellable, GError **error);
/* Undoes a recorded "upnp-port-mapping" change (without a discovery: the entry has the router's
 * control URL) and removes it from log. */
gboolean
ph_upnp_undo_change (const PhChange *change, PhChangeLog *log, guint timeout_ms,
                     GCancellable *cancellable, GError **error);

#define PH_UPNP_CHANGE_KIND "upnp-port-mapping"

/* ---- the same on the caller's main context ---- */

void
ph_upnp_discover_async (const PhUpnpOptions *options, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data);
PhUpnpRouter *
ph_upnp_discover_finish (GAsyncResult *result, GError **error);

/* ph_upnp_router_new_for_url, answered within options->timeout_ms (TIMED_OUT otherwise) however
 * slowly the router sends its description. */
void
ph_upnp_router_new_for_url_async (const char *desc_url, const PhUpnpOptions *options,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);
PhUpnpRouter *
ph_upnp_router_new_for_url_finish (GAsyncResult *result, GError **error);

void
ph_upnp_get_external_address_async (PhUpnpRouter *router, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
char *
ph_upnp_get_external_address_finish (GAsyncResult *result, PhUpnpExternalScope *scope,
                                     GError **error);

void
ph_upnp_list_mappings_async (PhUpnpRouter *router, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *
ph_upnp_list_mappings_finish (GAsyncResult *result, gboolean *truncated, GError **error);

void
ph_upnp_read_facts_async (PhUpnpRouter *router, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data);
PhUpnpFacts *
ph_upnp_read_facts_finish (GAsyncResult *result, GError **error);

void
ph_upnp_gather_async (const PhUpnpOptions *options, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data);
PhUpnpFacts *
ph_upnp_gather_finish (GAsyncResult *result, GError **error);

void
ph_upnp_add_mapping_async (PhUpnpRouter *router, guint port, guint lease_s, PhChangeLog *log,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);
PhUpnpMapResult *
ph_upnp_add_mapping_finish (GAsyncResult *result, GError **error);

void
ph_upnp_renew_mapping_async (PhUpnpRouter *router, guint port, guint lease_s, PhChangeLog *log,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data);
PhUpnpMapResult *
ph_upnp_renew_mapping_finish (GAsyncResult *result, GError **error);

void
ph_upnp_remove_mapping_async (PhUpnpRouter *router, guint port, PhChangeLog *log,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);
gboolean
ph_upnp_remove_mapping_finish (GAsyncResult *result, GError **error);

void
ph_upnp_undo_change_async (const PhChange *change, PhChangeLog *log, guint timeout_ms,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);
gboolean
ph_upnp_undo_change_finish (GAsyncResult *result, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhUpnpDeviceInfo, ph_upnp_device_info_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhUpnpMapping, ph_upnp_mapping_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhUpnpFacts, ph_upnp_facts_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhUpnpRouter, ph_upnp_router_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhUpnpMapResult, ph_upnp_map_result_free)

G_END_DECLS
