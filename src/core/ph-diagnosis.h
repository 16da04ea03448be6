/* ph-diagnosis.h: the facts of one check and the verdict drawn from them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

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

PhDiagnosis *ph_diagnosis_new (void);

void ph_diagnosis_take_lan (PhDiagnosis *self, PhLanFacts *lan);
void ph_diagnosis_take_nm (PhDiagnosis *self, PhNmFacts *nm);
void ph_diagnosis_set_port_owner (PhDiagnosis *self, const char *owner);
void ph_diagnosis_set_path (PhDiagnosis *self, GPtrArray *path_ipv4);
void ph_diagnosis_take_upnp (PhDiagnosis *self, PhUpnpFacts *upnp);
PhUpnpFacts *ph_diagnosis_get_upnp (PhDiagnosis *self);
void ph_diagnosis_take_node (PhDiagnosis *self, PhKuboNode *node);
PhKuboNode *ph_diagnosis_get_node (PhDiagnosis *self);
void ph_diagnosis_set_port (PhDiagnosis *self, guint port);
guint ph_diagnosis_get_port (PhDiagnosis *self);
void ph_diagnosis_set_lan_error (PhDiagnosis *self, const GError *error);
const PhLanFacts *ph_diagnosis_get_lan (PhDiagnosis *self);
const PhNmFacts *ph_diagnosis_get_nm (PhDiagnosis *self);

void ph_diagnosis_set_family (PhDiagnosis *self, PhFamily family, PhVerdict verdict,
                              const char *reason);
PhVerdict ph_diagnosis_get_family_verdict (PhDiagnosis *self, PhFamily family);
const char *ph_diagnosis_get_family_reason (PhDiagnosis *self, PhFamily family);
PhVerdict ph_diagnosis_get_verdict (PhDiagnosis *self);

/* From the probe: the verdict per family with its causes, and what each server said. */
void ph_diagnosis_set_family_causes (PhDiagnosis *self, PhFamily family, GPtrArray *causes,
                                     GPtrArray *addresses, gboolean confident);
GPtrArray *ph_diagnosis_get_family_causes (PhDiagnosis *self, PhFamily family);
void ph_diagnosis_take_probes (PhDiagnosis *self, GPtrArray *evidence, const char *peer_id);
GPtrArray *ph_diagnosis_get_probes (PhDiagnosis *self);

void ph_diagnosis_set_elapsed_ms (PhDiagnosis *self, guint64 elapsed_ms);

JsonNode *ph_diagnosis_to_json (PhDiagnosis *self);
char *ph_diagnosis_to_text (PhDiagnosis *self);
int ph_diagnosis_exit_status (PhDiagnosis *self);

/* One plain sentence for a cause ("behind-nat", "cgnat", …), translated. */
const char *ph_diagnosis_explain_cause (const char *cause);

const char *ph_verdict_to_string (PhVerdict verdict);
const char *ph_family_to_string (PhFamily family);

G_END_DECLS
