/* ph-reachability.h: one word for the panel — what the tray, the monitor and notifications show
 *
 * The verdict per family (ph-diagnosis.h) folded into the five states a person can tell apart at a
 * glance, each with its symbolic icon in data/icons/hicolor/symbolic/status/.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "ph-diagnosis.h"

G_BEGIN_DECLS

typedef enum
{
  PH_REACHABILITY_UNKNOWN,     /* not checked yet, or the check could not tell */
  PH_REACHABILITY_OFFLINE,     /* no network: nothing to check */
  PH_REACHABILITY_CHECKING,    /* a check is running */
  PH_REACHABILITY_REACHABLE,   /* reachable over IPv4 (and maybe IPv6) */
  PH_REACHABILITY_IPV6_ONLY,   /* reachable over IPv6, not over IPv4 */
  PH_REACHABILITY_UNREACHABLE, /* neither family is reachable */
} PhReachability;

#define PH_TYPE_REACHABILITY (ph_reachability_get_type ())
GType
ph_reachability_get_type (void);

/* UNKNOWN when diagnosis is NULL. Never CHECKING or OFFLINE: those come from the monitor. */
PhReachability
ph_reachability_from_diagnosis (PhDiagnosis *diagnosis);
/* "unknown", "offline", "checking", "reachable", "ipv6-only", "unreachable" */
const char *
ph_reachability_to_string (PhReachability reachability);
/* The symbolic icon name, e.g. "io.github.porthole.Porthole-reachable-symbolic". */
const char *
ph_reachability_icon_name (PhReachability reachability);
/* A short translated sentence: "Your node is reachable", … */
const char *
ph_reachability_describe (PhReachability reachability);

G_END_DECLS
