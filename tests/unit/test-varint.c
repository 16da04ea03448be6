/* test-varint.c: unsigned varints (multiformats/unsigned-varint README, "Examples" and "Spec")
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "p2p/ph-p2p-error.h"
#include "p2p/ph-varint.h"

typedef struct
{
  guint64 value;
  guint8 bytes[PH_VARINT_MAX_LEN];
  gsize len;
} Vector;

/* The spec's examples, plus both ends of every byte count. */
static const Vector vectors[] = {
  { 0, { 0x00 }, 1 },
  { 1, { 0x01 }, 1 },
  { 127, { 0x7f }, 1 },
  { 128, { 0x80, 0x01 }, 2 },
  { 255, { 0xff, 0x01 }, 2 },
  { 300, { 0xac, 0x02 }, 2 },
  { 16383, { 0xff, 0x7f }, 2 },
  { 16384, { 0x80, 0x80, 0x01 }, 3 },
  { 421, { 0xa5, 0x03 }, 2 }, /* the /p2p multiaddr code */
  { G_GUINT64_CONSTANT (0xffffffff), { 0xff, 0xff, 0xff, 0xff, 0x0f }, 5 },
  { (G_GUINT64_CONSTANT (1) << 56) - 1, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f }, 8 },
  { G_GUINT64_CONSTANT (1) << 56, { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, 9 },
  { G_MAXINT64, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f }, 9 },
};

static void
test_encode (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      guint8 out[PH_VARINT_MAX_LEN] = { 0 };
      gsize n = ph_varint_encode (vectors[i].value, out);

      g_assert_cmpmem (out, n, vectors[i].bytes, vectors[i].len);
      g_assert_cmpuint (ph_varint_size (vectors[i].value), ==, vectors[i].len);
    }
}

static void
test_decode (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autoptr (GError) error = NULL;
      guint8 buffer[PH_VARINT_MAX_LEN + 2];
      guint64 value = 0;
      gsize consumed = 0;

      /* Trailing bytes after the varint are not part of it. */
      memcpy (buffer, vectors[i].bytes, vectors[i].len);
      buffer[vectors[i].len] = 0xff;
      buffer[vectors[i].len + 1] = 0x01;

      g_assert_true (ph_varint_decode (buffer, vectors[i].len + 2, &value, &consumed, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (value, ==, vectors[i].value);
      g_assert_cmpuint (consumed, ==, vectors[i].len);

      /* Exactly the bytes, with optional outputs left out. */
      g_assert_true (ph_varint_decode (vectors[i].bytes, vectors[i].len, NULL, NULL, &error));
      g_assert_no_error (error);
    }
}

static void
test_append (void)
{
  g_autoptr (GByteArray) buffer = g_byte_array_new ();
  static const guint8 expected[] = { 0x00, 0xac, 0x02, 0xa5, 0x03 };

  ph_varint_append (buffer, 0);
  ph_varint_append (buffer, 300);
  ph_varint_append (buffer, 421);
  g_assert_cmpmem (buffer->data, buffer->len, expected, sizeof expected);
}

static void
assert_decode_fails (const guint8 *data, gsize len, PhP2pError code)
{
  g_autoptr (GError) error = NULL;
  guint64 value = 12345;
  gsize consumed = 678;

  g_assert_false (ph_varint_decode (data, len, &value, &consumed, &error));
  g_assert_error (error, PH_P2P_ERROR, (gint) code);
  /* Outputs are untouched on failure. */
  g_assert_cmpuint (value, ==, 12345);
  g_assert_cmpuint (consumed, ==, 678);
}

static void
test_non_minimal (void)
{
  static const guint8 zero_in_two[] = { 0x80, 0x00 };
  static const guint8 one_in_two[] = { 0x81, 0x00 };
  static const guint8 zero_in_three[] = { 0x80, 0x80, 0x00 };
  static const guint8 max_padded[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };

  assert_decode_fails (zero_in_two, sizeof zero_in_two, PH_P2P_ERROR_MALFORMED);
  assert_decode_fails (one_in_two, sizeof one_in_two, PH_P2P_ERROR_MALFORMED);
  assert_decode_fails (zero_in_three, sizeof zero_in_three, PH_P2P_ERROR_MALFORMED);
  assert_decode_fails (max_padded, sizeof max_padded, PH_P2P_ERROR_MALFORMED);
}

static void
test_too_long (void)
{
  /* 2^63 needs a tenth byte; the spec stops at nine (63 bits). */
  static const guint8 ten[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
  static const guint8 all_continue[16] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  };

  assert_decode_fails (ten, sizeof ten, PH_P2P_ERROR_TOO_LARGE);
  assert_decode_fails (all_continue, sizeof all_continue, PH_P2P_ERROR_TOO_LARGE);
  /* Nine continuation bytes are already too many, whatever follows. */
  assert_decode_fails (all_continue, 9, PH_P2P_ERROR_TOO_LARGE);
}

static void
test_truncated (void)
{
  static const guint8 open[] = { 0x80, 0x80, 0x80 };

  assert_decode_fails (open, 0, PH_P2P_ERROR_TRUNCATED);
  assert_decode_fails (NULL, 0, PH_P2P_ERROR_TRUNCATED);
  assert_decode_fails (open, 1, PH_P2P_ERROR_TRUNCATED);
  assert_decode_fails (open, 3, PH_P2P_ERROR_TRUNCATED);

  /* Every proper prefix of a multi-byte varint is truncated, not malformed. */
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    for (gsize len = 0; len < vectors[i].len; len++)
      assert_decode_fails (vectors[i].bytes, len, PH_P2P_ERROR_TRUNCATED);
}

static void
test_encode_out_of_range (void)
{
  guint8 out[PH_VARINT_MAX_LEN];

  /* 2^63 does not fit in nine bytes: a programming error, refused loudly. */
  g_test_expect_message ("Porthole", G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
  g_assert_cmpuint (ph_varint_encode (G_GUINT64_CONSTANT (1) << 63, out), ==, 0);
  g_test_assert_expected_messages ();
}

static void
test_round_trip (void)
{
  for (guint i = 0; i < 10000; i++)
    {
      guint64 value = ((guint64) g_test_rand_int () << 32 | (guint32) g_test_rand_int ());
      guint8 out[PH_VARINT_MAX_LEN];
      guint64 decoded;
      gsize n, consumed;

      value >>= g_test_rand_int_range (1, 64);
      n = ph_varint_encode (value, out);
      g_assert_true (ph_varint_decode (out, n, &decoded, &consumed, NULL));
      g_assert_cmpuint (decoded, ==, value);
      g_assert_cmpuint (consumed, ==, n);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/varint/encode", test_encode);
  g_test_add_func ("/varint/decode", test_decode);
  g_test_add_func ("/varint/append", test_append);
  g_test_add_func ("/varint/non-minimal", test_non_minimal);
  g_test_add_func ("/varint/too-long", test_too_long);
  g_test_add_func ("/varint/truncated", test_truncated);
  g_test_add_func ("/varint/encode-out-of-range", test_encode_out_of_range);
  g_test_add_func ("/varint/round-trip", test_round_trip);

  return g_test_run ();
}
