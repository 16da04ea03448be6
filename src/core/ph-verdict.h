/* ph-verdict.h: from probe evidence and local facts to a verdict per address family
 *
 * Pure decision code: no I/O, no threads, so every rule here has a unit test.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "ph-diagnosis.h"

G_BEGIN_DECLS

typedef enum
{
  PH_PROBE_PROTOCOL_AUTONAT_V2,
  PH_PROBE_PROTOCOL_AUTONAT_V1,
} PhProbeProtocol;

typedef enum
{
  PH_PROBE_RESULT_REACHABLE,   /* v2: our nonce came back; v1 or owner mode: the server dialed us */
  PH_PROBE_RESULT_UNREACHABLE, /* the server tried to dial the address and could not */
  PH_PROBE_RESULT_DIAL_BACK_FAILED, /* v2 E_DIAL_BACK_ERROR: something answered, the stream failed
                                     */
  PH_PROBE_RESULT_UNPROVEN,         /* the server claimed success but no nonce reached us */
  PH_PROBE_RESULT_REFUSED,          /* the server would not try (rate limit, address refused) */
  PH_PROBE_RESULT_NO_ANSWER,        /* the server closed the stream without an answer */
  PH_PROBE_RESULT_UNSUPPORTED,      /* the server speaks neither AutoNAT version */
  PH_PROBE_RESULT_NO_CANDIDATE,     /* the server sees us at an address the internet cannot route */
  PH_PROBE_RESULT_ERROR,            /* we could not reach the server, or it broke the protocol */
} PhProbeResult;

typedef struct
{
  char *server; /* the server's multiaddr, with /p2p */
  char *group;  /* its /16 (IPv4) or /32 (IPv6) network: servers in one group are one voice */
  PhFamily family;
  PhProbeProtocol protocol;
  char *address;    /* the candidate address the server was asked to dial; NULL if none */
  char *observed;   /* the address the server saw us come from (identify), NULL if unknown */
  guint local_port; /* the port we dialed the server from; 0 if ephemeral */
  PhProbeResult result;
  char *detail; /* what the server or the error said, for the evidence view */
  guint ms;
} PhProbeEvidence;

PhProbeEvidence *
ph_probe_evidence_new (void);
PhProbeEvidence *
ph_probe_evidence_copy (const PhProbeEvidence *evidence);
void
ph_probe_evidence_free (PhProbeEvidence *evidence);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhProbeEvidence, ph_probe_evidence_free)

typedef struct
{
  /* IPv4 */
  GPtrArray *local_ipv4;   /* char*: this host's IPv4 addresses */
  gboolean igd_found;      /* a UPnP router answered */
  char *igd_external_ipv4; /* what it says its WAN address is; NULL or "" when it would not say
                            * (miniupnpd hides a private or 100.64/10 one) */
  GPtrArray *path_ipv4;    /* char*, NULL where silent: the routers towards a server (ph-path) */
  /* IPv6 */
  gboolean has_global_ipv6; /* a global (public) IPv6 address on this host */
  gboolean has_ipv6_route;  /* an IPv6 default route */
  /* the port */
  gboolean port_in_use; /* another program holds the swarm port and we cannot speak for it */
  char *port_owner;     /* what holds it, when it can be told */
} PhVerdictFacts;

void
ph_verdict_facts_clear (PhVerdictFacts *facts);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PhVerdictFacts, ph_verdict_facts_clear)

typedef struct
{
  PhVerdict verdict;
  gboolean confident;   /* at least three independent groups agree */
  GPtrArray *causes;    /* char*: behind-nat, cgnat, double-nat, symmetric-nat, … */
  GPtrArray *addresses; /* char*: the addresses shown reachable (or asked about) */
  char *reason;         /* why unknown, in one word, NULL otherwise */
} PhFamilyVerdict;

void
ph_family_verdict_clear (PhFamilyVerdict *verdict);

/* Every server must be in a distinct group for a confident verdict. */
#define PH_VERDICT_CONFIDENT_GROUPS 3

void
ph_verdict_decide (const PhVerdictFacts *facts, GPtrArray *evidence, PhFamily family,
                   PhFamilyVerdict *out);

char *
ph_verdict_group_for_address (const char *ip);
const char *
ph_probe_result_to_string (PhProbeResult result);
const char *
ph_probe_protocol_to_string (PhProbeProtocol protocol);
JsonNode *
ph_probe_evidence_to_json (const PhProbeEvidence *evidence);

G_END_DECLS
