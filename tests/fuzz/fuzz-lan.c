/* fuzz-lan.c: the rtnetlink dump parser behind the LAN facts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdint.h>

#include "net/ph-lan.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhLanFacts) facts = ph_lan_facts_parse (data, size, &error);

  if (facts)
    {
      g_autoptr (JsonNode) json = ph_lan_facts_to_json (facts);
      g_assert_nonnull (json);
    }
  else
    g_assert_nonnull (error);
  return 0;
}
