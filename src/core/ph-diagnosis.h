/* ph-diagnosis.h: the facts of one check and the verdict drawn from them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "net/ph-forwarding.h"
#include "net/ph-json.h"
#include "net/ph-kubo.h"
#include "net/ph-lan.h"
#include "net/ph-nm.h"
#include "net/ph-upnp.h"

G_BEGIN_DECLS

typedef enum
{
  PH_VERDICT_UNKNOWN,
  PH_VERDICT_REACHABLE,
  PH_VERDICT_UNREACHABLE,
} PhVerdict;

typedef enum
{
  PH_FAMILY_IPV4,
  PH_FAMILY_IPV6,
} PhFamily;

#define PH_TYPE_DIAGNOSIS (ph_diagnosis_get_type ())
G_DECLARE_FINAL_TYPE (PhDiagnosis, ph_diagnosis, PH, DIAGNOSIS, GObject)

PhDiagnosis *
ph_diagnosis_new (void);

void
ph_diagnosis_take_lan (PhDiagnosis *self, PhLanFacts *lan);
void
ph_diagnosis_take_nm (PhDiagnosis *self, PhNmFacts *nm);
void
ph_diagnosis_set_port_owner (PhDiagnosis *self, const char *owner);
void
ph_diagnosis_set_path (PhDiagnosis *self, GPtrArray *path_ipv4);
void
ph_diagnosis_take_upnp (PhDiagnosis *self, PhUpnpFacts *upnp);
PhUpnpFacts *
ph_diagnosis_get_upnp (PhDiagnosis *self);
void
ph_diagnosis_take_node (PhDiagnosis *self, PhKuboNode *node);
PhKuboNode *
ph_diagnosis_get_node (PhDiagnosis *self);
void
ph_diagnosis_set_port (PhDiagnosis *self, guint port);
guint
ph_diagnosis_get_port (PhDiagnosis *self);
void
ph_diagnosis_set_lan_error (PhDiagnosis *self, const GError *error);
const PhLanFacts *
ph_diagnosis_get_lan (PhDiagnosis *self);
const PhNmFacts *
ph_diagnosis_get_nm (PhDiagnosis *self);

void
ph_diagnosis_set_family (PhDiagnosis *self, PhFamily family, PhVerdict verdict, const char *reason);
PhVerdict
ph_diagnosis_get_family_verdict (PhDiagnosis *self, PhFamily family);
const char *
ph_diagnosis_get_family_reason (PhDiagnosis *self, PhFamily family);
PhVerdict
ph_diagnosis_get_verdict (PhDiagnosis *self);

/* From the probe: the verdict per family with its causes, and what each server said. */
void
ph_diagnosis_set_family_causes (PhDiagnosis *self, PhFamily family, GPtrArray *causes,
                                GPtrArray *addresses, gboolean confident);
GPtrArray *
ph_diagnosis_get_family_causes (PhDiagnosis *self, PhFamily family);
void
ph_diagnosis_take_probes (PhDiagnosis *self, GPtrArray *evidence, const char *peer_id);
GPtrArray *
ph_diagnosis_get_probes (PhDiagnosis *self);

void
ph_diagnosis_set_elapsed_ms (PhDiagnosis *self, guint64 elapsed_ms);

/* For the faces: what the families' verdicts rest on. */
GPtrArray *
ph_diagnosis_get_family_addresses (PhDiagnosis *self, PhFamily family); /* char* */
gboolean
ph_diagnosis_get_family_confident (PhDiagnosis *self, PhFamily family);
const char *
ph_diagnosis_get_port_owner (PhDiagnosis *self);
const char *
ph_diagnosis_get_lan_error (PhDiagnosis *self);
const char *
ph_diagnosis_get_peer_id (PhDiagnosis *self);
guint64
ph_diagnosis_get_elapsed_ms (PhDiagnosis *self);
GPtrArray *
ph_diagnosis_get_path (PhDiagnosis *self); /* char* or NULL per hop; may be NULL */

/* The inverse of ph_diagnosis_to_json for everything the faces show (recorded checks for tests
 * and screenshots, see ph_check_run_async's replay). Untrusted input: every member's type is
 * checked and every array and string bounded; anything else fails with G_IO_ERROR_INVALID_DATA
 * naming the member. Members ph_diagnosis_to_json derives (the overall verdict, ipv6.host) are
 * ignored; warnings of the router that Porthole words itself are worded again in the current
 * language. */
#define PH_DIAGNOSIS_JSON_MAX_ITEMS 1024   /* per array */
#define PH_DIAGNOSIS_JSON_MAX_STRING 16384 /* bytes per string */
PhDiagnosis *
ph_diagnosis_new_from_json (JsonNode *node, GError **error);
/* The same from the text of a recorded check (at most PH_DIAGNOSIS_JSON_MAX_TEXT bytes): what
 * ph_check_load_recorded reads. */
#define PH_DIAGNOSIS_JSON_MAX_TEXT (1024 * 1024)
PhDiagnosis *
ph_diagnosis_new_from_json_data (const char *data, gsize len, GError **error);
/* Texts nesting deeper are refused before parsing (net/ph-json.h). */
#define PH_DIAGNOSIS_JSON_MAX_DEPTH PH_JSON_MAX_DEPTH

/* ---- recommendations ---- */

typedef enum
{
  PH_FIX_IPV6,     /* turn IPv6 on, or open it on the router */
  PH_FIX_UPNP,     /* map the port on the router over UPnP */
  PH_FIX_FORWARD,  /* forward the port on the router by hand */
  PH_FIX_PROVIDER, /* CGNAT or double NAT: forwarding on this router cannot help; IPv6, the ISP,
                    * bridge mode */
} PhFix;

/* The roads worth showing, the one most likely to work first; 0 when already reachable both ways
 * that matter (IPv4 and IPv6, or IPv4 where this machine has no IPv6 at all). IPv6 first when the
 * network offers it (a global address, or IPv6 turned off on this machine) and it is not working
 * yet; UPnP when a router answered over UPnP with a public address; manual forwarding last; under
 * CGNAT or double NAT the provider road first, then IPv6, and no forwarding. */
guint
ph_diagnosis_list_fixes (PhDiagnosis *self, PhFix out[4]);
/* FALSE under CGNAT or double NAT, where a forward on this router alone cannot help. */
gboolean
ph_diagnosis_forwarding_can_help (PhDiagnosis *self);
/* One plain, translated sentence per the two families: "Peers on the internet can reach your node
 * over IPv6, not over IPv4." */
char *
ph_diagnosis_dup_headline (PhDiagnosis *self);
/* What to type into the router (net/ph-forwarding), from the facts; NULL and
 * PH_FORWARDING_ERROR_* when it cannot be (no LAN IPv4, no gateway). */
PhForwardingFacts *
ph_diagnosis_dup_forwarding (PhDiagnosis *self, GError **error);
const char *
ph_fix_to_string (PhFix fix); /* "ipv6", "upnp", "forward", "provider" */

JsonNode *
ph_diagnosis_to_json (PhDiagnosis *self);
char *
ph_diagnosis_to_text (PhDiagnosis *self);
int
ph_diagnosis_exit_status (PhDiagnosis *self);

/* One plain sentence for a cause ("behind-nat", "cgnat", …), translated. */
const char *
ph_diagnosis_explain_cause (const char *cause);

const char *
ph_verdict_to_string (PhVerdict verdict);
const char *
ph_family_to_string (PhFamily family);

G_END_DECLS
