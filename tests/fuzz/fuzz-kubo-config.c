/* fuzz-kubo-config.c: kubo's config as the RPC or the repository file gives it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdint.h>

#include "net/ph-kubo-private.h"
#include "net/ph-kubo-repo.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = ph_kubo_json_parse ((const char *) data, size, "config", &error);
  g_autoptr (PhKuboSettings) settings = NULL;
  PhKuboSwarmPorts ports;

  if (!root)
    return 0;
  settings = ph_kubo_settings_new_from_json (root, NULL);
  if (settings)
    ph_kubo_settings_get_swarm_ports (settings, &ports);
  return 0;
}
