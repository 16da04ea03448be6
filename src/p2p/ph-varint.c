/* ph-varint.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ph-p2p-error.h"
#include "ph-varint.h"

gsize
ph_varint_encode (guint64 value, guint8 out[PH_VARINT_MAX_LEN])
{
  gsize n = 0;

  g_return_val_if_fail (value < (G_GUINT64_CONSTANT (1) << 63), 0);

  do
    {
      guint8 byte = value & 0x7f;
      value >>= 7;
      out[n++] = byte | (value ? 0x80 : 0);
    }
  while (value);

  return n;
}

gsize
ph_varint_size (guint64 value)
{
  gsize n = 1;

  while (value >>= 7)
    n++;
  return n;
}

gboolean
ph_varint_decode (const guint8 *data, gsize len, guint64 *value, gsize *consumed, GError **error)
{
  guint64 result = 0;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  for (gsize i = 0; i < PH_VARINT_MAX_LEN; i++)
    {
      if (i == len)
        {
          g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED, "varint truncated");
          return FALSE;
        }

      result |= (guint64) (data[i] & 0x7f) << (7 * i);
      if (data[i] & 0x80)
        continue;

      /* unsigned-varint: the encoding must be minimal */
      if (i > 0 && data[i] == 0)
        {
          g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                               "varint is not minimally encoded");
          return FALSE;
        }
      if (value)
        *value = result;
      if (consumed)
        *consumed = i + 1;
      return TRUE;
    }

  g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE, "varint longer than 9 bytes");
  return FALSE;
}

void
ph_varint_append (GByteArray *buffer, guint64 value)
{
  guint8 bytes[PH_VARINT_MAX_LEN];
  gsize n = ph_varint_encode (value, bytes);

  g_byte_array_append (buffer, bytes, n);
}
