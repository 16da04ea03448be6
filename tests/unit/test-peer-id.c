/* test-peer-id.c: libp2p peer IDs (libp2p/specs peer-ids/peer-ids.md §Peer Ids, §String
 * representation)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "keys/key-vectors.h"
#include "p2p/ph-multibase.h"
#include "p2p/ph-p2p-error.h"
#include "p2p/ph-peer-id.h"

static const char *const spec_groups[] = { "ed25519", "secp256k1", "ecdsa", "rsa" };

/* kubo's default bootstrap peers (/work/shared/protocol-notes.md §9, from boxo
 * autoconf/fallbacks.go): five RSA (sha2-256), one Ed25519 (identity). */
static const char *const bootstrap_peers[] = {
  "QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN",
  "QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa",
  "QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb",
  "QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt",
  "12D3KooWKnDdG3iXw9eTFijk3EWSunZcFi54Zka4wmtqtt6rPxc8",
  "QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ",
};

static PhPeerId *
parse (const char *text)
{
  g_autoptr (GError) error = NULL;
  PhPeerId *id = ph_peer_id_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (id);
  return id;
}

static void
assert_parse_fails (const char *text, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPeerId) id = ph_peer_id_from_string (text, &error);

  g_assert_null (id);
  g_assert_error (error, PH_P2P_ERROR, code);
}

/* For inputs that decode to arbitrary bytes, only the domain is certain. */
static void
assert_parse_fails_somehow (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPeerId) id = ph_peer_id_from_string (text, &error);

  g_assert_null (id);
  g_assert_nonnull (error);
  g_assert_true (error->domain == PH_P2P_ERROR);
}

static void
assert_bytes_fail (const guint8 *data, gsize len, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPeerId) id = ph_peer_id_from_bytes (data, len, &error);

  g_assert_null (id);
  g_assert_error (error, PH_P2P_ERROR, code);
}

static void
assert_prints (const PhPeerId *id, const char *base58, const char *cid)
{
  g_autofree char *text = ph_peer_id_to_string (id);
  g_autofree char *cid_text = ph_peer_id_to_cid_string (id);

  g_assert_cmpstr (text, ==, base58);
  if (cid != NULL)
    g_assert_cmpstr (cid_text, ==, cid);
}

static PhPublicKey *
spec_public_key (GKeyFile *file, const char *group)
{
  g_autoptr (GBytes) bytes = vector_bytes (file, group, "public");
  g_autoptr (GError) error = NULL;
  PhPublicKey *key
      = ph_public_key_unmarshal (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);

  g_assert_no_error (error);
  return key;
}

/* The peer IDs of the spec's test keys: identity for Ed25519 (36-byte protobuf) and secp256k1
 * (37), sha2-256 for ECDSA (95) and RSA (555); both string forms, both ways. */
static void
test_spec_vectors (void)
{
  g_autoptr (GKeyFile) file = vector_file ("peer-ids-spec.ini");

  for (gsize i = 0; i < G_N_ELEMENTS (spec_groups); i++)
    {
      g_autoptr (PhPublicKey) key = spec_public_key (file, spec_groups[i]);
      g_autofree char *expected = vector_string (file, spec_groups[i], "peer-id");
      g_autofree char *expected_cid = vector_string (file, spec_groups[i], "cid");
      g_autoptr (GBytes) marshalled = ph_public_key_marshal (key);
      g_autoptr (PhPeerId) id = ph_peer_id_from_public_key (key);
      g_autoptr (PhPeerId) parsed = parse (expected);
      g_autoptr (PhPeerId) parsed_cid = parse (expected_cid);
      gsize len;
      const guint8 *bytes = ph_peer_id_get_bytes (id, &len);

      g_test_message ("spec vector %s", spec_groups[i]);
      assert_prints (id, expected, expected_cid);
      g_assert_true (ph_peer_id_equal (id, parsed));
      g_assert_true (ph_peer_id_equal (id, parsed_cid));
      g_assert_true (ph_peer_id_matches_key (parsed, key));
      g_assert_cmpuint (ph_peer_id_hash (id), ==, ph_peer_id_hash (parsed_cid));

      if (g_bytes_get_size (marshalled) <= PH_PEER_ID_MAX_INLINE_KEY_LEN)
        {
          g_assert_cmpuint (len, ==, 2 + g_bytes_get_size (marshalled));
          g_assert_cmphex (bytes[0], ==, 0x00);
          g_assert_cmpuint (bytes[1], ==, g_bytes_get_size (marshalled));
          g_assert_cmpmem (bytes + 2, len - 2, g_bytes_get_data (marshalled, NULL),
                           g_bytes_get_size (marshalled));
        }
      else
        {
          g_assert_cmpuint (len, ==, 34);
          g_assert_cmphex (bytes[0], ==, 0x12);
          g_assert_cmphex (bytes[1], ==, 0x20);
        }
    }
}

/* peer-ids.md §Decoding, its three examples: the CID and the Qm… string are the same peer. */
static void
test_spec_examples (void)
{
  g_autoptr (PhPeerId) cid = parse ("bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe");
  g_autoptr (PhPeerId) base58 = parse ("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");
  g_autoptr (PhPeerId) ed25519 = parse ("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
  g_autoptr (PhPublicKey) key = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (ph_peer_id_equal (cid, base58));
  assert_prints (cid, "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
                 "bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe");
  assert_prints (ed25519, "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA",
                 "bafzaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3l");
  key = ph_peer_id_extract_public_key (ed25519, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ph_public_key_get_key_type (key), ==, PH_KEY_TYPE_ED25519);
  g_assert_true (ph_peer_id_matches_key (ed25519, key));
  g_assert_false (ph_peer_id_matches_key (cid, key));
}

static void
test_bootstrap_peers (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bootstrap_peers); i++)
    {
      g_autoptr (PhPeerId) id = parse (bootstrap_peers[i]);
      g_autofree char *cid = ph_peer_id_to_cid_string (id);
      g_autoptr (PhPeerId) from_cid = parse (cid);
      g_autoptr (GError) error = NULL;
      g_autoptr (PhPublicKey) key = ph_peer_id_extract_public_key (id, &error);
      gsize len;
      const guint8 *bytes = ph_peer_id_get_bytes (id, &len);

      assert_prints (id, bootstrap_peers[i], NULL);
      g_assert_true (ph_peer_id_equal (id, from_cid));
      if (bootstrap_peers[i][0] == 'Q')
        {
          g_assert_cmpuint (len, ==, 34);
          g_assert_cmphex (bytes[0], ==, 0x12);
          g_assert_null (key);
          g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED);
        }
      else
        {
          g_assert_cmpuint (len, ==, 38);
          g_assert_cmphex (bytes[0], ==, 0x00);
          g_assert_no_error (error);
          g_assert_cmpint (ph_public_key_get_key_type (key), ==, PH_KEY_TYPE_ED25519);
          g_assert_true (ph_peer_id_matches_key (id, key));
        }
      for (gsize j = 0; j < i; j++)
        {
          g_autoptr (PhPeerId) other = parse (bootstrap_peers[j]);

          g_assert_false (ph_peer_id_equal (id, other));
        }
    }
}

/* CIDv1 forms: upper-case base32, base58btc ('z'), and CIDs that are not peer IDs. */
static void
test_cid (void)
{
  g_autoptr (PhPeerId) id = parse ("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq");
  g_autofree char *cid = ph_peer_id_to_cid_string (id);
  g_autofree char *upper = g_ascii_strup (cid, -1);
  g_autoptr (PhPeerId) from_upper = parse (upper);
  gsize len;
  const guint8 *bytes = ph_peer_id_get_bytes (id, &len);
  guint8 buffer[64];

  g_assert_cmpstr (cid, ==, "bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6");
  g_assert_true (ph_peer_id_equal (id, from_upper));

  buffer[0] = 0x01;
  buffer[1] = 0x72;
  memcpy (buffer + 2, bytes, len);
  {
    g_autofree char *base58 = ph_base58btc_encode (buffer, len + 2);
    g_autofree char *text = g_strconcat ("z", base58, NULL);
    g_autoptr (PhPeerId) from_z = parse (text);

    g_assert_true (ph_peer_id_equal (id, from_z));
  }

  /* a raw-codec CIDv1 (0x55), as go-libp2p's core/peer tests refuse, and dag-pb (0x70) */
  assert_parse_fails ("bafkreifoybygix7fh3r3g5rqle3wcnhqldgdg4shzf4k3ulyw3gn7mabt4",
                      PH_P2P_ERROR_UNSUPPORTED);
  buffer[1] = 0x70;
  {
    g_autofree char *base32 = ph_base32_encode (buffer, len + 2);
    g_autofree char *text = g_strconcat ("b", base32, NULL);

    assert_parse_fails (text, PH_P2P_ERROR_UNSUPPORTED);
  }
  /* CID version 2, and version 0x80 0x00 (not a minimal varint) */
  buffer[0] = 0x02;
  buffer[1] = 0x72;
  {
    g_autofree char *base32 = ph_base32_encode (buffer, len + 2);
    g_autofree char *text = g_strconcat ("b", base32, NULL);

    assert_parse_fails (text, PH_P2P_ERROR_UNSUPPORTED);
  }
  {
    guint8 overlong[66] = { 0x81, 0x00, 0x72 };
    g_autofree char *base32 = NULL;
    g_autofree char *text = NULL;

    memcpy (overlong + 3, bytes, len);
    base32 = ph_base32_encode (overlong, len + 3);
    text = g_strconcat ("b", base32, NULL);
    assert_parse_fails (text, PH_P2P_ERROR_MALFORMED);
  }
  /* the CID with its multihash cut short */
  {
    g_autofree char *short_cid = g_strndup (cid, strlen (cid) - 8);

    assert_parse_fails_somehow (short_cid);
  }
}

static void
test_malformed_strings (void)
{
  g_autofree char *long_text = g_strnfill (200, 'Q');

  assert_parse_fails ("", PH_P2P_ERROR_MALFORMED);
  assert_parse_fails (long_text, PH_P2P_ERROR_TOO_LARGE);
  /* 0, O, I and l are not base58btc */
  assert_parse_fails ("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx50", PH_P2P_ERROR_MALFORMED);
  /* a character less or more changes every byte */
  assert_parse_fails_somehow ("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5");
  assert_parse_fails_somehow ("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5NN");
  assert_parse_fails ("1", PH_P2P_ERROR_TRUNCATED);
  /* base32 with a character outside its alphabet */
  assert_parse_fails ("bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqx1",
                      PH_P2P_ERROR_MALFORMED);
  /* no multibase prefix we know, and prefixes alone */
  assert_parse_fails ("fake", PH_P2P_ERROR_UNSUPPORTED);
  assert_parse_fails ("%", PH_P2P_ERROR_UNSUPPORTED);
  assert_parse_fails ("b", PH_P2P_ERROR_TRUNCATED);
  assert_parse_fails ("z", PH_P2P_ERROR_TRUNCATED);
  assert_parse_fails ("Qm", PH_P2P_ERROR_UNSUPPORTED); /* 05 62: multihash code 5 */
}

static void
test_malformed_bytes (void)
{
  g_autoptr (PhPeerId) rsa = parse ("QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN");
  g_autoptr (PhPeerId) ed25519 = parse ("12D3KooWKnDdG3iXw9eTFijk3EWSunZcFi54Zka4wmtqtt6rPxc8");
  guint8 buffer[80] = { 0 };
  gsize len;
  const guint8 *bytes;

  /* every proper prefix is truncated */
  bytes = ph_peer_id_get_bytes (rsa, &len);
  for (gsize cut = 0; cut < len; cut++)
    assert_bytes_fail (bytes, cut, PH_P2P_ERROR_TRUNCATED);
  bytes = ph_peer_id_get_bytes (ed25519, &len);
  for (gsize cut = 0; cut < len; cut++)
    assert_bytes_fail (bytes, cut, PH_P2P_ERROR_TRUNCATED);

  /* and a byte more is trailing */
  memcpy (buffer, bytes, len);
  assert_bytes_fail (buffer, len + 1, PH_P2P_ERROR_MALFORMED);

  /* sha2-256 digests are 32 bytes */
  buffer[0] = 0x12;
  buffer[1] = 31;
  assert_bytes_fail (buffer, 33, PH_P2P_ERROR_MALFORMED);
  buffer[1] = 33;
  assert_bytes_fail (buffer, 35, PH_P2P_ERROR_MALFORMED);

  /* identity digests hold 1 to 42 bytes */
  buffer[0] = 0x00;
  buffer[1] = 0;
  assert_bytes_fail (buffer, 2, PH_P2P_ERROR_MALFORMED);
  buffer[1] = 43;
  assert_bytes_fail (buffer, 45, PH_P2P_ERROR_MALFORMED);
  buffer[1] = 42;
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (PhPeerId) id = ph_peer_id_from_bytes (buffer, 44, &error);

    g_assert_no_error (error);
    g_assert_nonnull (id);
  }

  /* other hash functions: sha2-512 (0x13), sha3-256 (0x16), blake2b-256 (0xb220) */
  buffer[0] = 0x13;
  buffer[1] = 64;
  assert_bytes_fail (buffer, 66, PH_P2P_ERROR_UNSUPPORTED);
  buffer[0] = 0x16;
  buffer[1] = 32;
  assert_bytes_fail (buffer, 34, PH_P2P_ERROR_UNSUPPORTED);
  buffer[0] = 0xa0;
  buffer[1] = 0xe4;
  buffer[2] = 0x02;
  buffer[3] = 32;
  assert_bytes_fail (buffer, 36, PH_P2P_ERROR_UNSUPPORTED);

  /* a code written as a two-byte varint (0x80 0x00 is not minimal) */
  buffer[0] = 0x80;
  buffer[1] = 0x00;
  buffer[2] = 32;
  assert_bytes_fail (buffer, 35, PH_P2P_ERROR_MALFORMED);
  /* an unterminated varint */
  buffer[0] = 0x12;
  buffer[1] = 0xa0;
  assert_bytes_fail (buffer, 2, PH_P2P_ERROR_TRUNCATED);
}

/* Only identity peer IDs carry a key, and only a canonically encoded one. */
static void
test_extract_public_key (void)
{
  g_autoptr (GKeyFile) file = vector_file ("peer-ids-spec.ini");
  static const guint8 garbage[] = { 0x00, 0x04, 0x08, 0x01, 0x12, 0x00 };

  for (gsize i = 0; i < G_N_ELEMENTS (spec_groups); i++)
    {
      g_autoptr (PhPublicKey) key = spec_public_key (file, spec_groups[i]);
      g_autoptr (PhPeerId) id = ph_peer_id_from_public_key (key);
      g_autoptr (GError) error = NULL;
      g_autoptr (PhPublicKey) extracted = ph_peer_id_extract_public_key (id, &error);

      if (ph_public_key_get_key_type (key) == PH_KEY_TYPE_ED25519
          || ph_public_key_get_key_type (key) == PH_KEY_TYPE_SECP256K1)
        {
          g_assert_no_error (error);
          g_assert_true (ph_public_key_equal (key, extracted));
        }
      else
        {
          g_assert_null (extracted);
          g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED);
        }
    }

  /* an identity peer ID whose key does not parse */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (PhPeerId) id = ph_peer_id_from_bytes (garbage, sizeof garbage, &error);
    g_autoptr (PhPublicKey) key = NULL;

    g_assert_no_error (error);
    key = ph_peer_id_extract_public_key (id, &error);
    g_assert_null (key);
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
  }

  /* the Ed25519 protobuf with its fields swapped: a valid key, but not this peer ID's bytes */
  {
    g_autoptr (GBytes) ed25519 = vector_bytes (file, "ed25519", "public");
    const guint8 *data = g_bytes_get_data (ed25519, NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (PhPeerId) id = NULL;
    g_autoptr (PhPublicKey) key = NULL;
    guint8 buffer[64];

    buffer[0] = 0x00;
    buffer[1] = 36;
    memcpy (buffer + 2, data + 2, 34);
    memcpy (buffer + 36, data, 2);
    id = ph_peer_id_from_bytes (buffer, 38, &error);
    g_assert_no_error (error);
    key = ph_peer_id_extract_public_key (id, &error);
    g_assert_null (key);
    g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
  }
}

static void
test_copy (void)
{
  g_autoptr (PhPeerId) id = parse ("QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ");
  g_autoptr (PhPeerId) copy = ph_peer_id_copy (id);
  g_autoptr (GHashTable) table
      = g_hash_table_new ((GHashFunc) ph_peer_id_hash, (GEqualFunc) ph_peer_id_equal);
  gsize len, copy_len;
  const guint8 *bytes = ph_peer_id_get_bytes (id, &len);
  const guint8 *copy_bytes = ph_peer_id_get_bytes (copy, &copy_len);

  g_assert_true (copy != id);
  g_assert_true (ph_peer_id_equal (id, copy));
  g_assert_cmpmem (bytes, len, copy_bytes, copy_len);
  g_hash_table_add (table, id);
  g_assert_true (g_hash_table_contains (table, copy));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/peer-id/spec-vectors", test_spec_vectors);
  g_test_add_func ("/peer-id/spec-examples", test_spec_examples);
  g_test_add_func ("/peer-id/bootstrap-peers", test_bootstrap_peers);
  g_test_add_func ("/peer-id/cid", test_cid);
  g_test_add_func ("/peer-id/malformed-strings", test_malformed_strings);
  g_test_add_func ("/peer-id/malformed-bytes", test_malformed_bytes);
  g_test_add_func ("/peer-id/extract-public-key", test_extract_public_key);
  g_test_add_func ("/peer-id/copy", test_copy);

  return g_test_run ();
}
