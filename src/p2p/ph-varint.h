/* ph-varint.h: unsigned varints (multiformats/unsigned-varint)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The spec caps varints at 9 bytes (63 bits). */
#define PH_VARINT_MAX_LEN 9

gsize
ph_varint_encode (guint64 value, guint8 out[PH_VARINT_MAX_LEN]);
gsize
ph_varint_size (guint64 value);

/* Strict: rejects overlong (non-minimal) encodings and anything over 9 bytes. On a truncated
 * input fails with PH_P2P_ERROR_TRUNCATED so a stream reader knows to wait for more. */
gboolean
ph_varint_decode (const guint8 *data, gsize len, guint64 *value, gsize *consumed, GError **error);

void
ph_varint_append (GByteArray *buffer, guint64 value);

G_END_DECLS
