/* ph-multibase.h: base58btc and base32 (RFC 4648, lower case, no padding), as multibase uses them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *
ph_base58btc_encode (const guint8 *data, gsize len);
GBytes *
ph_base58btc_decode (const char *text, GError **error);

char *
ph_base32_encode (const guint8 *data, gsize len); /* lower case, no padding */
GBytes *
ph_base32_decode (const char *text, GError **error); /* accepts either case, no padding */

G_END_DECLS
