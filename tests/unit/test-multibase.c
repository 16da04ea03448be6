/* test-multibase.c: base32 (RFC 4648 §10 vectors) and base58btc (Bitcoin Core's
 * base58_encode_decode.json vectors, the base58 draft's examples)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "p2p/ph-multibase.h"
#include "p2p/ph-p2p-error.h"

static GBytes *
bytes_from_hex (const char *hex)
{
  gsize len = strlen (hex) / 2;
  guint8 *data = g_malloc (len + 1);

  for (gsize i = 0; i < len; i++)
    data[i]
        = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4 | g_ascii_xdigit_value (hex[2 * i + 1]));
  return g_bytes_new_take (data, len);
}

static void
assert_bytes_equal (GBytes *bytes, const void *expected, gsize expected_len)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  g_assert_cmpmem (data, len, expected, expected_len);
}

/* RFC 4648 §10, lower case and without the '=' padding. */
static const struct
{
  const char *plain;
  const char *base32;
} rfc4648_vectors[] = {
  { "", "" },
  { "f", "my" },
  { "fo", "mzxq" },
  { "foo", "mzxw6" },
  { "foob", "mzxw6yq" },
  { "fooba", "mzxw6ytb" },
  { "foobar", "mzxw6ytboi" },
};

static void
test_base32_vectors (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rfc4648_vectors); i++)
    {
      const char *plain = rfc4648_vectors[i].plain;
      g_autofree char *encoded = ph_base32_encode ((const guint8 *) plain, strlen (plain));
      g_autofree char *upper = g_ascii_strup (rfc4648_vectors[i].base32, -1);
      g_autoptr (GBytes) decoded = NULL;
      g_autoptr (GBytes) decoded_upper = NULL;
      g_autoptr (GError) error = NULL;

      g_assert_cmpstr (encoded, ==, rfc4648_vectors[i].base32);

      decoded = ph_base32_decode (rfc4648_vectors[i].base32, &error);
      g_assert_no_error (error);
      assert_bytes_equal (decoded, plain, strlen (plain));

      /* RFC 4648 §6 uses upper case; we print lower case but read both. */
      decoded_upper = ph_base32_decode (upper, &error);
      g_assert_no_error (error);
      assert_bytes_equal (decoded_upper, plain, strlen (plain));
    }
}

static void
test_base32_cid (void)
{
  g_autoptr (GBytes) expected
      = bytes_from_hex ("01721220d52ebb89d85b02a284948203a62ff28389c57c9f42beec4ec20db76a68911c0b");
  g_autoptr (GBytes) decoded = NULL;
  g_autofree char *encoded = NULL;
  g_autoptr (GError) error = NULL;

  /* A CIDv1 libp2p-key peer ID from go-multiaddr's tests, without its multibase 'b'. */
  decoded = ph_base32_decode ("afzbeigvf25ytwc3akrijfecaotc74udrhcxzh2cx3we5qqnw5vgrei4bm", &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (decoded, expected));

  encoded = ph_base32_encode (g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
  g_assert_cmpstr (encoded, ==, "afzbeigvf25ytwc3akrijfecaotc74udrhcxzh2cx3we5qqnw5vgrei4bm");

  g_clear_pointer (&decoded, g_bytes_unref);
  decoded = ph_base32_decode ("AfZbEiGvF25YTWC3akrijfecaotc74udrhcxzh2cx3we5qqnw5vgrei4bm", &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (decoded, expected));
}

static void
assert_base32_fails (const char *text, PhP2pError code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = ph_base32_decode (text, &error);

  g_assert_null (bytes);
  g_assert_error (error, PH_P2P_ERROR, (gint) code);
}

static void
test_base32_invalid (void)
{
  /* Characters outside the alphabet, padding included. */
  assert_base32_fails ("mzxw6yt1", PH_P2P_ERROR_MALFORMED);
  assert_base32_fails ("mzxw6yt8", PH_P2P_ERROR_MALFORMED);
  assert_base32_fails ("mzxw6yt0", PH_P2P_ERROR_MALFORMED);
  assert_base32_fails ("my======", PH_P2P_ERROR_MALFORMED);
  assert_base32_fails ("my==", PH_P2P_ERROR_MALFORMED);
  assert_base32_fails ("mzx w", PH_P2P_ERROR_MALFORMED);
  assert_base32_fails ("mzxw\n", PH_P2P_ERROR_MALFORMED);
  assert_base32_fails ("mz\xc3\xa9", PH_P2P_ERROR_MALFORMED);

  /* Lengths that no byte string encodes to. */
  assert_base32_fails ("m", PH_P2P_ERROR_MALFORMED);
  assert_base32_fails ("mzx", PH_P2P_ERROR_MALFORMED);
  assert_base32_fails ("mzxw6y", PH_P2P_ERROR_MALFORMED);
  assert_base32_fails ("mzxw6ytbo", PH_P2P_ERROR_MALFORMED);

  /* Non-zero bits after the last byte: "mz" would be 'f' with a stray bit, the canonical
   * text is "my"; likewise for every trailing-bit count. */
  assert_base32_fails ("mz", PH_P2P_ERROR_MALFORMED);
  assert_base32_fails ("mzxr", PH_P2P_ERROR_MALFORMED);
  assert_base32_fails ("mzxw7", PH_P2P_ERROR_MALFORMED);
  assert_base32_fails ("mzxw6yr", PH_P2P_ERROR_MALFORMED);
  assert_base32_fails ("mzxw6ytboj", PH_P2P_ERROR_MALFORMED);
}

/* Bitcoin Core src/test/data/base58_encode_decode.json, and two more with leading zeros. */
static const struct
{
  const char *hex;
  const char *base58;
} base58_vectors[] = {
  { "", "" },
  { "61", "2g" },
  { "626262", "a3gV" },
  { "636363", "aPEr" },
  { "73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2" },
  { "00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L" },
  { "516b6fcd0f", "ABnLTmg" },
  { "bf4f89001e670274dd", "3SEo3LWLoPntC" },
  { "572e4794", "3EFU7m" },
  { "ecac89cad93923c02321", "EJDM8drfXA6uyA" },
  { "10c8511e", "Rt5zm" },
  { "00000000000000000000", "1111111111" },
  { "00", "1" },
  { "000000deadbeef", "1116h8cQN" },
  { "48656c6c6f20576f726c6421", "2NEpo7TZRRrLZSi2U" }, /* "Hello World!" */
  /* The peer ID of mars.i.ipfs.io, a sha2-256 multihash. */
  { "1220b04a57d40eca138809f139a76b12044333c3740391c9bf1ce9d8e21a79210bfd",
    "QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ" },
  /* An Ed25519 peer ID: an identity multihash, so it starts with a zero byte ('1'). */
  { "0024080112202d3de6d16ae87f7a933fe1552162a2d3f04951e90e8051e4ee2c18f002dd0fb4",
    "12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5mV" },
};

static void
test_base58_vectors (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (base58_vectors); i++)
    {
      g_autoptr (GBytes) bytes = bytes_from_hex (base58_vectors[i].hex);
      g_autofree char *encoded = NULL;
      g_autoptr (GBytes) decoded = NULL;
      g_autoptr (GError) error = NULL;

      encoded = ph_base58btc_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      g_assert_cmpstr (encoded, ==, base58_vectors[i].base58);

      decoded = ph_base58btc_decode (base58_vectors[i].base58, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (decoded, bytes));
    }
}

static void
assert_base58_fails (const char *text, PhP2pError code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = ph_base58btc_decode (text, &error);

  g_assert_null (bytes);
  g_assert_error (error, PH_P2P_ERROR, (gint) code);
}

static void
test_base58_invalid (void)
{
  g_autofree char *long_ones = g_strnfill (1025, '1');
  g_autofree char *max_ones = g_strnfill (1024, '1');
  g_autofree char *long_z = g_strnfill (1025, 'z');
  g_autoptr (GBytes) zeros = NULL;
  g_autoptr (GError) error = NULL;

  /* 0, O, I and l are left out of the alphabet to avoid confusion. */
  assert_base58_fails ("0", PH_P2P_ERROR_MALFORMED);
  assert_base58_fails ("O", PH_P2P_ERROR_MALFORMED);
  assert_base58_fails ("I", PH_P2P_ERROR_MALFORMED);
  assert_base58_fails ("l", PH_P2P_ERROR_MALFORMED);
  assert_base58_fails ("3mJr0", PH_P2P_ERROR_MALFORMED);
  assert_base58_fails ("O3yxU", PH_P2P_ERROR_MALFORMED);
  assert_base58_fails ("3sNI", PH_P2P_ERROR_MALFORMED);
  assert_base58_fails ("4kl8", PH_P2P_ERROR_MALFORMED);
  assert_base58_fails ("!@#$%^&*()-_=+~`", PH_P2P_ERROR_MALFORMED);
  assert_base58_fails ("Qm ", PH_P2P_ERROR_MALFORMED);
  assert_base58_fails ("Qm\xc3\xa9", PH_P2P_ERROR_MALFORMED);
  assert_base58_fails ("111+", PH_P2P_ERROR_MALFORMED);

  /* The input bound: 1024 characters pass, 1025 do not, whatever they are. */
  zeros = ph_base58btc_decode (max_ones, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (zeros), ==, 1024);
  g_assert_cmpint (((const guint8 *) g_bytes_get_data (zeros, NULL))[1023], ==, 0);
  assert_base58_fails (long_ones, PH_P2P_ERROR_TOO_LARGE);
  assert_base58_fails (long_z, PH_P2P_ERROR_TOO_LARGE);
}

static void
test_round_trip (void)
{
  for (guint i = 0; i < 2000; i++)
    {
      gsize len = g_test_rand_int_range (0, 80);
      gsize zeros = g_test_rand_int_range (0, 4);
      g_autofree guint8 *data = g_malloc0 (len + 1);
      g_autofree char *b58 = NULL;
      g_autofree char *b32 = NULL;
      g_autoptr (GBytes) from58 = NULL;
      g_autoptr (GBytes) from32 = NULL;

      for (gsize j = MIN (zeros, len); j < len; j++)
        data[j] = (guint8) g_test_rand_int_range (0, 256);

      b58 = ph_base58btc_encode (data, len);
      b32 = ph_base32_encode (data, len);
      from58 = ph_base58btc_decode (b58, NULL);
      from32 = ph_base32_decode (b32, NULL);
      g_assert_nonnull (from58);
      g_assert_nonnull (from32);
      assert_bytes_equal (from58, data, len);
      assert_bytes_equal (from32, data, len);
      g_assert_cmpuint (strlen (b32), ==, (len * 8 + 4) / 5);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/multibase/base32/vectors", test_base32_vectors);
  g_test_add_func ("/multibase/base32/cid", test_base32_cid);
  g_test_add_func ("/multibase/base32/invalid", test_base32_invalid);
  g_test_add_func ("/multibase/base58/vectors", test_base58_vectors);
  g_test_add_func ("/multibase/base58/invalid", test_base58_invalid);
  g_test_add_func ("/multibase/round-trip", test_round_trip);

  return g_test_run ();
}
