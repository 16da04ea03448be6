/* ph-p2p-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ph-p2p-error.h"

GQuark
ph_p2p_error_quark (void)
{
  return g_quark_from_static_string ("ph-p2p-error-quark");
}
