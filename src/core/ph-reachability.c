/* ph-reachability.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "ph-reachability.h"

GType
ph_reachability_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      static const GEnumValue values[] = {
        { PH_REACHABILITY_UNKNOWN, "PH_REACHABILITY_UNKNOWN", "unknown" },
        { PH_REACHABILITY_OFFLINE, "PH_REACHABILITY_OFFLINE", "offline" },
        { PH_REACHABILITY_CHECKING, "PH_REACHABILITY_CHECKING", "checking" },
        { PH_REACHABILITY_REACHABLE, "PH_REACHABILITY_REACHABLE", "reachable" },
        { PH_REACHABILITY_IPV6_ONLY, "PH_REACHABILITY_IPV6_ONLY", "ipv6-only" },
        { PH_REACHABILITY_UNREACHABLE, "PH_REACHABILITY_UNREACHABLE", "unreachable" },
        { 0, NULL, NULL },
      };
      GType type = g_enum_register_static (g_intern_static_string ("PhReachability"), values);

      g_once_init_leave (&type_id, type);
    }
  return type_id;
}

PhReachability
ph_reachability_from_diagnosis (PhDiagnosis *diagnosis)
{
  PhVerdict v4, v6;

  if (diagnosis == NULL)
    return PH_REACHABILITY_UNKNOWN;
  g_return_val_if_fail (PH_IS_DIAGNOSIS (diagnosis), PH_REACHABILITY_UNKNOWN);

  v4 = ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV4);
  v6 = ph_diagnosis_get_family_verdict (diagnosis, PH_FAMILY_IPV6);
  if (v4 == PH_VERDICT_REACHABLE)
    return PH_REACHABILITY_REACHABLE;
  if (v6 == PH_VERDICT_REACHABLE)
    return PH_REACHABILITY_IPV6_ONLY;
  /* one family unknown and the other unreachable is still "not reachable that we know of" only
   * when the unknown one could not have helped; say unknown rather than claim too much */
  if (v4 == PH_VERDICT_UNREACHABLE && v6 == PH_VERDICT_UNREACHABLE)
    return PH_REACHABILITY_UNREACHABLE;
  if (ph_diagnosis_get_verdict (diagnosis) == PH_VERDICT_UNREACHABLE)
    return PH_REACHABILITY_UNREACHABLE;
  return PH_REACHABILITY_UNKNOWN;
}

const char *
ph_reachability_to_string (PhReachability reachability)
{
  switch (reachability)
    {
      case PH_REACHABILITY_OFFLINE:
        return "offline";
      case PH_REACHABILITY_CHECKING:
        return "checking";
      case PH_REACHABILITY_REACHABLE:
        return "reachable";
      case PH_REACHABILITY_IPV6_ONLY:
        return "ipv6-only";
      case PH_REACHABILITY_UNREACHABLE:
        return "unreachable";
      case PH_REACHABILITY_UNKNOWN:
      default:
        return "unknown";
    }
}

const char *
ph_reachability_icon_name (PhReachability reachability)
{
  switch (reachability)
    {
      case PH_REACHABILITY_CHECKING:
        return "io.github.porthole.Porthole-checking-symbolic";
      case PH_REACHABILITY_REACHABLE:
        return "io.github.porthole.Porthole-reachable-symbolic";
      case PH_REACHABILITY_IPV6_ONLY:
        return "io.github.porthole.Porthole-reachable-ipv6-symbolic";
      case PH_REACHABILITY_UNREACHABLE:
        return "io.github.porthole.Porthole-unreachable-symbolic";
      case PH_REACHABILITY_OFFLINE:
      case PH_REACHABILITY_UNKNOWN:
      default:
        return "io.github.porthole.Porthole-unknown-symbolic";
    }
}

const char *
ph_reachability_describe (PhReachability reachability)
{
  switch (reachability)
    {
      case PH_REACHABILITY_OFFLINE:
        return _ ("Offline: no network to check");
      case PH_REACHABILITY_CHECKING:
        return _ ("Checking whether your node is reachable…");
      case PH_REACHABILITY_REACHABLE:
        return _ ("Your node is reachable");
      case PH_REACHABILITY_IPV6_ONLY:
        return _ ("Your node is reachable over IPv6 only");
      case PH_REACHABILITY_UNREACHABLE:
        return _ ("Your node is not reachable from the internet");
      case PH_REACHABILITY_UNKNOWN:
      default:
        return _ ("Reachability unknown");
    }
}
