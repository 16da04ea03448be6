/* fuzz-diagnosis-json.c: a recorded check (ph_diagnosis_new_from_json), and everything the faces
 * then ask of the diagnosis it makes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdint.h>

#include "core/ph-diagnosis.h"
#include "core/ph-history.h"
#include "core/ph-reachability.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhDiagnosis) diagnosis = NULL;
  g_autoptr (PhDiagnosis) again = NULL;
  g_autoptr (PhForwardingFacts) forwarding = NULL;
  g_autoptr (JsonNode) json = NULL;
  g_autofree char *text = NULL;
  g_autofree char *headline = NULL;
  PhFix fixes[4];
  guint n;

  /* the text as ph_check_load_recorded reads it: bounded, depth-checked, then every member */
  diagnosis = ph_diagnosis_new_from_json_data ((const char *) data, size, &error);
  if (!diagnosis)
    {
      g_assert_nonnull (error);
      return 0;
    }
  g_assert_null (error);

  /* what the window, the tray, the monitor and --check ask of it */
  n = ph_diagnosis_list_fixes (diagnosis, fixes);
  g_assert_cmpuint (n, <=, 4);
  for (guint i = 0; i < n; i++)
    ph_fix_to_string (fixes[i]);
  ph_diagnosis_forwarding_can_help (diagnosis);
  headline = ph_diagnosis_dup_headline (diagnosis);
  g_assert_true (g_utf8_validate (headline, -1, NULL));
  forwarding = ph_diagnosis_dup_forwarding (diagnosis, NULL);
  ph_reachability_describe (ph_reachability_from_diagnosis (diagnosis));
  ph_diagnosis_get_verdict (diagnosis);
  ph_diagnosis_exit_status (diagnosis);
  ph_history_how_for_diagnosis (diagnosis);
  ph_history_cause_for_diagnosis (diagnosis);
  text = ph_diagnosis_to_text (diagnosis);

  /* what --check --json writes reads back */
  json = ph_diagnosis_to_json (diagnosis);
  again = ph_diagnosis_new_from_json (json, &error);
  if (!again)
    g_error ("the round trip failed: %s", error->message);
  return 0;
}
