/* ph-multibase.c
 *
 * base58btc (the Bitcoin alphabet) and base32 (RFC 4648 §6, lower case, no padding): the two
 * encodings multiformats uses for peer IDs and CIDs. Both decoders are strict, so every text
 * maps to one byte string and back.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "ph-multibase.h"
#include "ph-p2p-error.h"

/* base58 is quadratic in the length; peer IDs and CIDs are well under 100 characters. */
#define BASE58_MAX_TEXT 1024

static const char base58_alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char base32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

static int
base58_value (char c)
{
  const char *p;

  if (c == '\0')
    return -1;
  p = strchr (base58_alphabet, c);
  return p ? (int) (p - base58_alphabet) : -1;
}

static int
base32_value (char c)
{
  if (c >= 'a' && c <= 'z')
    return c - 'a';
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= '2' && c <= '7')
    return c - '2' + 26;
  return -1;
}

char *
ph_base58btc_encode (const guint8 *data, gsize len)
{
  gsize zeros = 0;
  gsize size, used = 0, start;
  g_autofree guint8 *digits = NULL;
  GString *out;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  while (zeros < len && data[zeros] == 0)
    zeros++;

  /* log(256) / log(58) < 1.37 digits per byte */
  size = (len - zeros) * 137 / 100 + 1;
  digits = g_malloc0 (size);

  /* Big-number base conversion, most significant digit first; `used` counts the digits that are
   * not leading zeros so far, keeping the work proportional to the real length. */
  for (gsize i = zeros; i < len; i++)
    {
      guint carry = data[i];
      gsize j = 0;

      for (gsize k = size; k > 0 && (carry != 0 || j < used); k--, j++)
        {
          carry += 256u * digits[k - 1];
          digits[k - 1] = carry % 58;
          carry /= 58;
        }
      used = j;
    }

  start = size - used;
  out = g_string_sized_new (zeros + used + 1);
  for (gsize i = 0; i < zeros; i++)
    g_string_append_c (out, '1');
  for (gsize i = start; i < size; i++)
    g_string_append_c (out, base58_alphabet[digits[i]]);

  return g_string_free (out, FALSE);
}

GBytes *
ph_base58btc_decode (const char *text, GError **error)
{
  gsize n, ones = 0, size, used = 0;
  g_autofree guint8 *bytes = NULL;
  guint8 *out;

  g_return_val_if_fail (text != NULL, NULL);

  n = strnlen (text, BASE58_MAX_TEXT + 1);
  if (n > BASE58_MAX_TEXT)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "base58 text longer than %d characters", BASE58_MAX_TEXT);
      return NULL;
    }

  while (ones < n && text[ones] == '1')
    ones++;

  /* log(58) / log(256) < 0.733 bytes per digit */
  size = (n - ones) * 733 / 1000 + 1;
  bytes = g_malloc0 (size);

  for (gsize i = ones; i < n; i++)
    {
      int value = base58_value (text[i]);
      guint carry;
      gsize j = 0;

      if (value < 0)
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                       "invalid base58 character at offset %" G_GSIZE_FORMAT, i);
          return NULL;
        }

      carry = (guint) value;
      for (gsize k = size; k > 0 && (carry != 0 || j < used); k--, j++)
        {
          carry += 58u * bytes[k - 1];
          bytes[k - 1] = carry & 0xff;
          carry >>= 8;
        }
      used = j;
    }

  /* Each leading '1' stands for one leading zero byte. */
  out = g_malloc0 (ones + used + 1);
  memcpy (out + ones, bytes + size - used, used);
  return g_bytes_new_take (out, ones + used);
}

char *
ph_base32_encode (const guint8 *data, gsize len)
{
  GString *out;
  guint32 buffer = 0;
  guint bits = 0;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  out = g_string_sized_new ((len * 8 + 4) / 5 + 1);
  for (gsize i = 0; i < len; i++)
    {
      buffer = (buffer << 8) | data[i];
      bits += 8;
      while (bits >= 5)
        {
          bits -= 5;
          g_string_append_c (out, base32_alphabet[(buffer >> bits) & 0x1f]);
        }
    }
  /* RFC 4648 §6: the last group is padded with zero bits; we omit the '=' padding. */
  if (bits > 0)
    g_string_append_c (out, base32_alphabet[(buffer << (5 - bits)) & 0x1f]);

  return g_string_free (out, FALSE);
}

GBytes *
ph_base32_decode (const char *text, GError **error)
{
  gsize n, out_len = 0;
  g_autofree guint8 *out = NULL;
  guint32 buffer = 0;
  guint bits = 0;

  g_return_val_if_fail (text != NULL, NULL);

  n = strlen (text);
  /* 1, 3 or 6 trailing characters cannot come from whole bytes (RFC 4648 §6). */
  switch (n % 8)
    {
      case 1:
      case 3:
      case 6:
        g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                             "base32 text has an impossible length");
        return NULL;
      default:
        break;
    }

  out = g_malloc (n * 5 / 8 + 1);
  for (gsize i = 0; i < n; i++)
    {
      int value = base32_value (text[i]);

      if (value < 0)
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                       "invalid base32 character at offset %" G_GSIZE_FORMAT, i);
          return NULL;
        }
      buffer = (buffer << 5) | (guint32) value;
      bits += 5;
      if (bits >= 8)
        {
          bits -= 8;
          out[out_len++] = (buffer >> bits) & 0xff;
        }
    }

  /* Canonical encodings leave the unused low bits of the last character zero. */
  if ((buffer & ((1u << bits) - 1)) != 0)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "base32 text has non-zero trailing bits");
      return NULL;
    }

  return g_bytes_new_take (g_steal_pointer (&out), out_len);
}
