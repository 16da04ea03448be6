/* test-identify.c: libp2p identify (libp2p/specs identify/README.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "p2p/ph-duplex.h"
#include "p2p/ph-identify.h"
#include "p2p/ph-p2p-error.h"
#include "p2p/ph-varint.h"

/* peer-ids.md §Test vectors, Ed25519: the public key protobuf and its peer ID. */
#define SPEC_ED25519_PUBLIC                                                                        \
  "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"
#define SPEC_ED25519_PEER_ID "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
/* The ECDSA vector's peer ID: someone else. */
#define SPEC_ECDSA_PEER_ID "QmVMT29id3TUASyfZZ6k9hmNyc2nYabCo4uMSpDw4zrgDk"

/* Written out field by field: tag = field number << 3 | wire type 2 (length-delimited). */
static const guint8 hand_made[] = {
  /* 5 protocolVersion "ipfs/0.1.0" */
  0x2a,
  0x0a,
  'i',
  'p',
  'f',
  's',
  '/',
  '0',
  '.',
  '1',
  '.',
  '0',
  /* 6 agentVersion "kubo/0.44.0" */
  0x32,
  0x0b,
  'k',
  'u',
  'b',
  'o',
  '/',
  '0',
  '.',
  '4',
  '4',
  '.',
  '0',
  /* 2 listenAddrs /ip4/127.0.0.1/tcp/4001 */
  0x12,
  0x08,
  0x04,
  127,
  0,
  0,
  1,
  0x06,
  0x0f,
  0xa1,
  /* 2 listenAddrs /ip4/1.2.3.4/udp/4001/quic-v1/webtransport: a transport we do not know */
  0x12,
  0x0d,
  0x04,
  1,
  2,
  3,
  4,
  0x91,
  0x02,
  0x0f,
  0xa1,
  0xcd,
  0x03,
  0xd1,
  0x03,
  /* 3 protocols */
  0x1a,
  0x0e,
  '/',
  'i',
  'p',
  'f',
  's',
  '/',
  'i',
  'd',
  '/',
  '1',
  '.',
  '0',
  '.',
  '0',
  0x1a,
  0x15,
  '/',
  'l',
  'i',
  'b',
  'p',
  '2',
  'p',
  '/',
  'a',
  'u',
  't',
  'o',
  'n',
  'a',
  't',
  '/',
  '1',
  '.',
  '0',
  '.',
  '0',
  /* 4 observedAddr /ip4/203.0.113.7/tcp/54321 */
  0x22,
  0x08,
  0x04,
  203,
  0,
  113,
  7,
  0x06,
  0xd4,
  0x31,
  /* 7, a varint field this schema does not have: skipped */
  0x38,
  0x96,
  0x01,
  /* 8 signedPeerRecord, opaque to us */
  0x42,
  0x03,
  0x01,
  0x02,
  0x03,
};

static GBytes *
hex_bytes (const char *hex)
{
  gsize len = strlen (hex) / 2;
  guint8 *data = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    data[i]
        = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4 | g_ascii_xdigit_value (hex[2 * i + 1]));
  return g_bytes_new_take (data, len);
}

static void
append_field (GByteArray *message, guint field, const void *data, gsize len)
{
  ph_varint_append (message, field << 3 | 2);
  ph_varint_append (message, len);
  g_byte_array_append (message, data, len);
}

static void
append_string (GByteArray *message, guint field, const char *text)
{
  append_field (message, field, text, strlen (text));
}

static void
append_addr (GByteArray *message, guint field, const char *text)
{
  g_autoptr (PhMultiaddr) addr = ph_multiaddr_new_from_string (text, NULL);
  const guint8 *bytes;
  gsize len;

  g_assert_nonnull (addr);
  bytes = ph_multiaddr_peek_bytes (addr, &len);
  append_field (message, field, bytes, len);
}

/* One length-prefixed part, as on the stream. */
static void
append_part (GByteArray *stream, const GByteArray *message)
{
  ph_varint_append (stream, message->len);
  g_byte_array_append (stream, message->data, message->len);
}

static char *
addr_string (GPtrArray *addrs, guint index)
{
  g_assert_cmpuint (index, <, addrs->len);
  return ph_multiaddr_to_string (g_ptr_array_index (addrs, index));
}

static void
assert_addr (PhMultiaddr *addr, const char *expected)
{
  g_autofree char *text = NULL;

  g_assert_nonnull (addr);
  text = ph_multiaddr_to_string (addr);
  g_assert_cmpstr (text, ==, expected);
}

static PhIdentifyInfo *
decode_parts (const GByteArray *stream, GError **error)
{
  return ph_identify_info_decode_parts (stream->data, stream->len, error);
}

static PhIdentifyInfo *
make_full_info (PhPrivateKey **key_out)
{
  g_autoptr (GError) error = NULL;
  PhIdentifyInfo *info = ph_identify_info_new ();
  PhPrivateKey *key = ph_private_key_generate_ed25519 (&error);
  static const guint8 record[] = { 0x0a, 0x02, 0xde, 0xad };

  g_assert_no_error (error);
  info->protocol_version = g_strdup ("ipfs/0.1.0");
  info->agent_version = g_strdup ("porthole/0.1.0");
  info->public_key = ph_public_key_ref (ph_private_key_get_public_key (key));
  g_ptr_array_add (info->listen_addrs,
                   ph_multiaddr_new_from_string ("/ip4/192.0.2.1/tcp/4001", NULL));
  g_ptr_array_add (info->listen_addrs,
                   ph_multiaddr_new_from_string ("/ip6/2001:db8::1/tcp/4001", NULL));
  g_ptr_array_add (info->listen_addrs,
                   ph_multiaddr_new_from_string ("/dns4/example.com/tcp/4001", NULL));
  info->observed_addr = ph_multiaddr_new_from_string ("/ip4/198.51.100.9/tcp/61000", NULL);
  g_ptr_array_add (info->protocols, g_strdup (PH_IDENTIFY_PROTOCOL_ID));
  g_ptr_array_add (info->protocols, g_strdup ("/ipfs/ping/1.0.0"));
  g_ptr_array_add (info->protocols, g_strdup ("/libp2p/autonat/2/dial-request"));
  info->signed_peer_record = g_bytes_new_static (record, sizeof record);
  for (guint i = 0; i < info->listen_addrs->len; i++)
    g_assert_nonnull (g_ptr_array_index (info->listen_addrs, i));
  g_assert_nonnull (info->observed_addr);

  *key_out = key;
  return info;
}

static void
assert_info_equal (const PhIdentifyInfo *a, const PhIdentifyInfo *b)
{
  g_assert_cmpstr (a->protocol_version, ==, b->protocol_version);
  g_assert_cmpstr (a->agent_version, ==, b->agent_version);
  g_assert_true ((a->public_key == NULL) == (b->public_key == NULL));
  if (a->public_key != NULL)
    g_assert_true (ph_public_key_equal (a->public_key, b->public_key));
  g_assert_cmpuint (a->listen_addrs->len, ==, b->listen_addrs->len);
  for (guint i = 0; i < a->listen_addrs->len; i++)
    g_assert_true (ph_multiaddr_equal (g_ptr_array_index (a->listen_addrs, i),
                                       g_ptr_array_index (b->listen_addrs, i)));
  g_assert_true ((a->observed_addr == NULL) == (b->observed_addr == NULL));
  if (a->observed_addr != NULL)
    g_assert_true (ph_multiaddr_equal (a->observed_addr, b->observed_addr));
  g_assert_cmpuint (a->protocols->len, ==, b->protocols->len);
  for (guint i = 0; i < a->protocols->len; i++)
    g_assert_cmpstr (g_ptr_array_index (a->protocols, i), ==, g_ptr_array_index (b->protocols, i));
  g_assert_true ((a->signed_peer_record == NULL) == (b->signed_peer_record == NULL));
  if (a->signed_peer_record != NULL)
    g_assert_true (g_bytes_equal (a->signed_peer_record, b->signed_peer_record));
}

static void
test_round_trip (void)
{
  g_autoptr (PhPrivateKey) key = NULL;
  g_autoptr (PhIdentifyInfo) info = make_full_info (&key);
  g_autoptr (PhIdentifyInfo) decoded = NULL;
  g_autoptr (PhIdentifyInfo) empty = ph_identify_info_new ();
  g_autoptr (PhIdentifyInfo) decoded_empty = NULL;
  g_autoptr (GBytes) encoded = ph_identify_info_encode (info);
  g_autoptr (GBytes) again = NULL;
  g_autoptr (GBytes) encoded_empty = ph_identify_info_encode (empty);
  g_autoptr (PhPeerId) id = ph_peer_id_from_public_key (ph_private_key_get_public_key (key));
  g_autoptr (GError) error = NULL;
  const guint8 *data;
  gsize len;

  data = g_bytes_get_data (encoded, &len);
  /* Field 1 (publicKey) first: protobuf-c packs in field-number order. */
  g_assert_cmpuint (len, >, 2);
  g_assert_cmphex (data[0], ==, 0x0a);
  decoded = ph_identify_info_decode (data, len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (decoded);
  assert_info_equal (info, decoded);
  g_assert_cmpuint (decoded->n_skipped_listen_addrs, ==, 0);
  g_assert_false (decoded->observed_addr_skipped);
  g_assert_true (ph_identify_info_check_peer (decoded, id, &error));
  g_assert_no_error (error);

  again = ph_identify_info_encode (decoded);
  g_assert_true (g_bytes_equal (encoded, again));

  /* Nothing set: an empty message, and back. */
  g_assert_cmpuint (g_bytes_get_size (encoded_empty), ==, 0);
  decoded_empty = ph_identify_info_decode (NULL, 0, &error);
  g_assert_no_error (error);
  assert_info_equal (empty, decoded_empty);
  g_assert_true (ph_identify_info_check_peer (decoded_empty, id, &error));
  g_assert_no_error (error);
}

static void
check_hand_made (const PhIdentifyInfo *info)
{
  g_autofree char *addr0 = NULL;
  static const guint8 record[] = { 0x01, 0x02, 0x03 };
  g_autoptr (GBytes) expected_record = g_bytes_new_static (record, sizeof record);

  g_assert_cmpstr (info->protocol_version, ==, "ipfs/0.1.0");
  g_assert_cmpstr (info->agent_version, ==, "kubo/0.44.0");
  g_assert_null (info->public_key);
  g_assert_cmpuint (info->listen_addrs->len, ==, 1);
  addr0 = addr_string (info->listen_addrs, 0);
  g_assert_cmpstr (addr0, ==, "/ip4/127.0.0.1/tcp/4001");
  g_assert_cmpuint (info->n_skipped_listen_addrs, ==, 1);
  assert_addr (info->observed_addr, "/ip4/203.0.113.7/tcp/54321");
  g_assert_false (info->observed_addr_skipped);
  g_assert_cmpuint (info->protocols->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (info->protocols, 0), ==, "/ipfs/id/1.0.0");
  g_assert_cmpstr (g_ptr_array_index (info->protocols, 1), ==, "/libp2p/autonat/1.0.0");
  g_assert_true (ph_identify_info_has_protocol (info, "/libp2p/autonat/1.0.0"));
  g_assert_false (ph_identify_info_has_protocol (info, "/libp2p/autonat/1.0"));
  g_assert_false (ph_identify_info_has_protocol (info, "/libp2p/autonat/2/dial-request"));
  g_assert_nonnull (info->signed_peer_record);
  g_assert_true (g_bytes_equal (info->signed_peer_record, expected_record));
}

static void
test_hand_made (void)
{
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autoptr (PhIdentifyInfo) framed = NULL;
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  info = ph_identify_info_decode (hand_made, sizeof hand_made, &error);
  g_assert_no_error (error);
  check_hand_made (info);

  /* The same message as a responder sends it: one length-prefixed part. */
  g_assert_cmpuint (sizeof hand_made, <, 128);
  g_byte_array_append (stream, (const guint8[]){ sizeof hand_made }, 1);
  g_byte_array_append (stream, hand_made, sizeof hand_made);
  framed = decode_parts (stream, &error);
  g_assert_no_error (error);
  check_hand_made (framed);
}

/* go-libp2p sends a big message as everything, then the signed record alone (id.go
 * writeChunkedIdentifyMsg); more generally later parts replace singular fields and extend repeated
 * ones, as protobuf merging does. */
static void
test_multi_part (void)
{
  g_autoptr (GByteArray) part1 = g_byte_array_new ();
  g_autoptr (GByteArray) part2 = g_byte_array_new ();
  g_autoptr (GByteArray) part3 = g_byte_array_new ();
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autoptr (GBytes) key = hex_bytes (SPEC_ED25519_PUBLIC);
  g_autoptr (GError) error = NULL;
  g_autofree char *addr0 = NULL;
  g_autofree char *addr1 = NULL;
  static const guint8 record[] = { 0xaa, 0xbb };
  gsize key_len;
  const guint8 *key_data = g_bytes_get_data (key, &key_len);

  append_string (part1, 5, "ipfs/0.1.0");
  append_string (part1, 6, "first/1.0");
  append_field (part1, 1, key_data, key_len);
  append_addr (part1, 2, "/ip4/192.0.2.1/tcp/4001");
  append_string (part1, 3, "/ipfs/id/1.0.0");
  append_addr (part1, 4, "/ip4/198.51.100.1/tcp/1000");

  append_string (part2, 6, "second/2.0");
  append_addr (part2, 2, "/ip6/2001:db8::2/tcp/4001");
  append_string (part2, 3, "/libp2p/autonat/2/dial-request");
  append_addr (part2, 4, "/ip4/198.51.100.2/tcp/2000");

  append_field (part3, 8, record, sizeof record);

  append_part (stream, part1);
  append_part (stream, part2);
  g_byte_array_append (stream, (const guint8[]){ 0x00 }, 1); /* an empty part: a no-op */
  append_part (stream, part3);

  info = decode_parts (stream, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->protocol_version, ==, "ipfs/0.1.0"); /* only in part 1: kept */
  g_assert_cmpstr (info->agent_version, ==, "second/2.0");    /* replaced */
  g_assert_nonnull (info->public_key);
  g_assert_cmpuint (info->listen_addrs->len, ==, 2); /* appended */
  addr0 = addr_string (info->listen_addrs, 0);
  addr1 = addr_string (info->listen_addrs, 1);
  g_assert_cmpstr (addr0, ==, "/ip4/192.0.2.1/tcp/4001");
  g_assert_cmpstr (addr1, ==, "/ip6/2001:db8::2/tcp/4001");
  g_assert_cmpuint (info->protocols->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (info->protocols, 0), ==, "/ipfs/id/1.0.0");
  g_assert_cmpstr (g_ptr_array_index (info->protocols, 1), ==, "/libp2p/autonat/2/dial-request");
  assert_addr (info->observed_addr, "/ip4/198.51.100.2/tcp/2000"); /* replaced */
  g_assert_nonnull (info->signed_peer_record);
  g_assert_cmpuint (g_bytes_get_size (info->signed_peer_record), ==, sizeof record);
}

/* An observed address we cannot parse in a later part replaces the earlier one too. */
static void
test_observed_addr_skipped (void)
{
  g_autoptr (GByteArray) part1 = g_byte_array_new ();
  g_autoptr (GByteArray) part2 = g_byte_array_new ();
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  static const guint8 bad_addr[] = { 0x04, 192, 0 }; /* ip4 with two of its four bytes */

  append_addr (part1, 4, "/ip4/198.51.100.1/tcp/1000");
  append_field (part2, 4, bad_addr, sizeof bad_addr);
  append_part (stream, part1);
  append_part (stream, part2);

  info = decode_parts (stream, &error);
  g_assert_no_error (error);
  g_assert_null (info->observed_addr);
  g_assert_true (info->observed_addr_skipped);
}

/* Present but empty is not absent: an empty string replaces an earlier value. */
static void
test_empty_strings (void)
{
  g_autoptr (GByteArray) message = g_byte_array_new ();
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autoptr (GError) error = NULL;

  append_string (message, 6, "agent/1.0");
  append_string (message, 6, "");
  append_string (message, 5, "");
  append_string (message, 3, "");
  append_field (message, 8, "", 0);

  info = ph_identify_info_decode (message->data, message->len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->agent_version, ==, "");
  g_assert_cmpstr (info->protocol_version, ==, "");
  g_assert_cmpuint (info->protocols->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (info->protocols, 0), ==, "");
  g_assert_nonnull (info->signed_peer_record);
  g_assert_cmpuint (g_bytes_get_size (info->signed_peer_record), ==, 0);
}

static void
test_bad_listen_addrs_skipped (void)
{
  g_autoptr (GByteArray) message = g_byte_array_new ();
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  static const guint8 truncated[] = { 0x04, 10, 0, 0 };
  static const guint8 unknown_code[] = { 0xff, 0x7f };          /* code 16383: no such protocol */
  static const guint8 bad_varint[] = { 0x80, 0x80, 0x80 };      /* a code that never ends */
  static const guint8 trailing[] = { 0x04, 10, 0, 0, 1, 0x06 }; /* tcp without its port */

  append_field (message, 2, truncated, sizeof truncated);
  append_addr (message, 2, "/ip4/10.0.0.1/tcp/4001");
  append_field (message, 2, unknown_code, sizeof unknown_code);
  append_field (message, 2, bad_varint, sizeof bad_varint);
  append_field (message, 2, "", 0);
  append_field (message, 2, trailing, sizeof trailing);
  append_addr (message, 2, "/ip6/::1/tcp/4001");

  info = ph_identify_info_decode (message->data, message->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->listen_addrs->len, ==, 2);
  g_assert_cmpuint (info->n_skipped_listen_addrs, ==, 5);
  assert_addr (g_ptr_array_index (info->listen_addrs, 0), "/ip4/10.0.0.1/tcp/4001");
  assert_addr (g_ptr_array_index (info->listen_addrs, 1), "/ip6/::1/tcp/4001");
}

static void
test_public_key (void)
{
  g_autoptr (GBytes) key = hex_bytes (SPEC_ED25519_PUBLIC);
  g_autoptr (GByteArray) message = g_byte_array_new ();
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autoptr (PhPeerId) owner = ph_peer_id_from_string (SPEC_ED25519_PEER_ID, NULL);
  g_autoptr (PhPeerId) other = ph_peer_id_from_string (SPEC_ECDSA_PEER_ID, NULL);
  g_autoptr (GBytes) reencoded = NULL;
  g_autoptr (GError) error = NULL;
  gsize key_len;
  const guint8 *key_data = g_bytes_get_data (key, &key_len);
  const guint8 *data;
  gsize len;

  g_assert_nonnull (owner);
  g_assert_nonnull (other);
  append_field (message, 1, key_data, key_len);
  info = ph_identify_info_decode (message->data, message->len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (info->public_key);
  g_assert_cmpint (ph_public_key_get_key_type (info->public_key), ==, PH_KEY_TYPE_ED25519);

  g_assert_true (ph_identify_info_check_peer (info, owner, &error));
  g_assert_no_error (error);
  g_assert_false (ph_identify_info_check_peer (info, other, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PEER_MISMATCH);
  g_assert_nonnull (strstr (error->message, SPEC_ED25519_PEER_ID));

  /* Encoding writes the key back byte for byte. */
  reencoded = ph_identify_info_encode (info);
  data = g_bytes_get_data (reencoded, &len);
  g_assert_cmpmem (data, len, message->data, message->len);
}

static void
test_public_key_bad (void)
{
  g_autoptr (GByteArray) garbage = g_byte_array_new ();
  g_autoptr (GByteArray) unknown_type = g_byte_array_new ();
  g_autoptr (GByteArray) empty = g_byte_array_new ();
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  static const guint8 not_a_key[] = { 0xde, 0xad, 0xbe, 0xef };
  /* Type 9 (none such), Data of 32 bytes */
  guint8 type9[36] = { 0x08, 0x09, 0x12, 0x20 };
  /* Ed25519 with a 31-byte key */
  guint8 short_ed[35] = { 0x08, 0x01, 0x12, 0x1f };

  append_field (garbage, 1, not_a_key, sizeof not_a_key);
  info = ph_identify_info_decode (garbage->data, garbage->len, &error);
  g_assert_null (info);
  g_assert_true (error != NULL && error->domain == PH_P2P_ERROR);
  g_assert_true (g_str_has_prefix (error->message, "identify public key: "));
  g_clear_error (&error);

  append_field (unknown_type, 1, type9, sizeof type9);
  info = ph_identify_info_decode (unknown_type->data, unknown_type->len, &error);
  g_assert_null (info);
  g_assert_true (error != NULL && error->domain == PH_P2P_ERROR);
  g_clear_error (&error);

  g_byte_array_set_size (unknown_type, 0);
  append_field (unknown_type, 1, short_ed, sizeof short_ed);
  info = ph_identify_info_decode (unknown_type->data, unknown_type->len, &error);
  g_assert_null (info);
  g_assert_true (error != NULL && error->domain == PH_P2P_ERROR);
  g_clear_error (&error);

  /* An empty key is no key. */
  append_field (empty, 1, "", 0);
  info = ph_identify_info_decode (empty->data, empty->len, &error);
  g_assert_no_error (error);
  g_assert_null (info->public_key);
}

static void
assert_decode_fails (const guint8 *data, gsize len, gboolean framed, gint code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIdentifyInfo) info = NULL;

  if (framed)
    info = ph_identify_info_decode_parts (data, len, &error);
  else
    info = ph_identify_info_decode (data, len, &error);
  g_assert_null (info);
  g_assert_error (error, PH_P2P_ERROR, code);
}

static void
test_truncated (void)
{
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  static const guint8 cut_field[] = { 0x2a, 0x05, 'a', 'b' };
  static const guint8 cut_prefix[] = { 0x80 };
  static const guint8 cut_part[] = { 0x0a, 0x32, 0x01, 'x' };

  /* Every proper prefix of a one-part stream is cut short somewhere. */
  g_byte_array_append (stream, (const guint8[]){ sizeof hand_made }, 1);
  g_byte_array_append (stream, hand_made, sizeof hand_made);
  for (gsize len = 0; len < stream->len; len++)
    assert_decode_fails (stream->data, len, TRUE, PH_P2P_ERROR_TRUNCATED);

  /* Inside a part, a cut field is a protobuf that does not parse. */
  assert_decode_fails (cut_field, sizeof cut_field, FALSE, PH_P2P_ERROR_MALFORMED);
  assert_decode_fails (cut_prefix, sizeof cut_prefix, TRUE, PH_P2P_ERROR_TRUNCATED);
  assert_decode_fails (cut_part, sizeof cut_part, TRUE, PH_P2P_ERROR_TRUNCATED);
}

static void
test_malformed (void)
{
  static const guint8 wrong_wire_type[] = { 0x28, 0x01 }; /* field 5 as a varint */
  static const guint8 group[] = { 0x3b, 0x3c };           /* field 7 as a group */
  static const guint8 bad_tag_varint[]
      = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
  static const guint8 field_zero[] = { 0x02, 0x00 }; /* field number 0 */
  static const guint8 non_minimal_prefix[] = { 0x80, 0x00 };
  static const guint8 long_prefix[]
      = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
  static const guint8 nul_protocol[] = { 0x1a, 0x03, '/', 0x00, 'a' };
  static const guint8 bad_utf8_agent[] = { 0x32, 0x02, 0xc3, 0x28 };
  static const guint8 nul_version[] = { 0x2a, 0x01, 0x00 };
  guint8 framed[8];

  assert_decode_fails (wrong_wire_type, sizeof wrong_wire_type, FALSE, PH_P2P_ERROR_MALFORMED);
  assert_decode_fails (group, sizeof group, FALSE, PH_P2P_ERROR_MALFORMED);
  assert_decode_fails (bad_tag_varint, sizeof bad_tag_varint, FALSE, PH_P2P_ERROR_MALFORMED);
  assert_decode_fails (field_zero, sizeof field_zero, FALSE, PH_P2P_ERROR_MALFORMED);
  assert_decode_fails (non_minimal_prefix, sizeof non_minimal_prefix, TRUE, PH_P2P_ERROR_MALFORMED);
  assert_decode_fails (long_prefix, sizeof long_prefix, TRUE, PH_P2P_ERROR_TOO_LARGE);
  assert_decode_fails (nul_protocol, sizeof nul_protocol, FALSE, PH_P2P_ERROR_MALFORMED);
  assert_decode_fails (bad_utf8_agent, sizeof bad_utf8_agent, FALSE, PH_P2P_ERROR_MALFORMED);
  assert_decode_fails (nul_version, sizeof nul_version, FALSE, PH_P2P_ERROR_MALFORMED);

  /* The same, framed: the part's error comes through. */
  framed[0] = sizeof bad_utf8_agent;
  memcpy (framed + 1, bad_utf8_agent, sizeof bad_utf8_agent);
  assert_decode_fails (framed, 1 + sizeof bad_utf8_agent, TRUE, PH_P2P_ERROR_MALFORMED);
}

static void
test_oversized (void)
{
  g_autoptr (GByteArray) message = g_byte_array_new ();
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *protocol = g_strnfill (PH_IDENTIFY_MAX_PROTOCOL_LEN, 'p');
  g_autofree char *long_protocol = g_strnfill (PH_IDENTIFY_MAX_PROTOCOL_LEN + 1, 'p');
  g_autofree char *agent = g_strnfill (PH_IDENTIFY_MAX_VERSION_LEN, 'a');
  g_autofree char *long_agent = g_strnfill (PH_IDENTIFY_MAX_VERSION_LEN + 1, 'a');
  g_autofree guint8 *huge = g_malloc0 (PH_IDENTIFY_MAX_SIZE + 1);
  GByteArray *stream;

  /* At the bounds: accepted. */
  protocol[0] = '/';
  append_string (message, 3, protocol);
  append_string (message, 6, agent);
  append_string (message, 5, agent);
  info = ph_identify_info_decode (message->data, message->len, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_ptr_array_index (info->protocols, 0), ==, protocol);
  g_assert_cmpstr (info->agent_version, ==, agent);

  /* One byte over. */
  g_byte_array_set_size (message, 0);
  append_string (message, 3, long_protocol);
  assert_decode_fails (message->data, message->len, FALSE, PH_P2P_ERROR_TOO_LARGE);
  g_byte_array_set_size (message, 0);
  append_string (message, 6, long_agent);
  assert_decode_fails (message->data, message->len, FALSE, PH_P2P_ERROR_TOO_LARGE);
  g_byte_array_set_size (message, 0);
  append_string (message, 5, long_agent);
  assert_decode_fails (message->data, message->len, FALSE, PH_P2P_ERROR_TOO_LARGE);

  /* The whole: refused before parsing, framed or not. */
  assert_decode_fails (huge, PH_IDENTIFY_MAX_SIZE + 1, FALSE, PH_P2P_ERROR_TOO_LARGE);
  stream = g_byte_array_new ();
  ph_varint_append (stream, PH_IDENTIFY_MAX_SIZE);
  g_byte_array_set_size (stream, stream->len + PH_IDENTIFY_MAX_SIZE);
  assert_decode_fails (stream->data, stream->len, TRUE, PH_P2P_ERROR_TOO_LARGE);
  g_byte_array_unref (stream);
}

static void
test_too_many (void)
{
  g_autoptr (GByteArray) part = g_byte_array_new ();
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autoptr (GError) error = NULL;

  /* PH_IDENTIFY_MAX_PROTOCOLS over two parts is fine; one more is not. */
  for (guint i = 0; i < PH_IDENTIFY_MAX_PROTOCOLS / 2; i++)
    {
      g_autofree char *protocol = g_strdup_printf ("/p/%u", i);

      append_string (part, 3, protocol);
    }
  append_part (stream, part);
  append_part (stream, part);
  info = decode_parts (stream, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->protocols->len, ==, PH_IDENTIFY_MAX_PROTOCOLS);
  g_clear_pointer (&info, ph_identify_info_free);

  g_byte_array_set_size (part, 0);
  append_string (part, 3, "/one/more");
  append_part (stream, part);
  assert_decode_fails (stream->data, stream->len, TRUE, PH_P2P_ERROR_LIMIT);

  /* Listen addresses: counted whether they parse or not. */
  g_byte_array_set_size (part, 0);
  for (guint i = 0; i < PH_IDENTIFY_MAX_LISTEN_ADDRS; i++)
    append_addr (part, 2, "/ip4/192.0.2.1/tcp/4001");
  info = ph_identify_info_decode (part->data, part->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->listen_addrs->len, ==, PH_IDENTIFY_MAX_LISTEN_ADDRS);
  g_clear_pointer (&info, ph_identify_info_free);
  append_field (part, 2, "\xff", 1);
  assert_decode_fails (part->data, part->len, FALSE, PH_P2P_ERROR_LIMIT);

  /* Parts: go-libp2p reads at most 10 (id.go maxMessages). */
  g_byte_array_set_size (stream, 0);
  g_byte_array_set_size (part, 0);
  append_string (part, 3, "/p");
  for (guint i = 0; i < PH_IDENTIFY_MAX_PARTS; i++)
    append_part (stream, part);
  info = decode_parts (stream, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->protocols->len, ==, PH_IDENTIFY_MAX_PARTS);
  append_part (stream, part);
  assert_decode_fails (stream->data, stream->len, TRUE, PH_P2P_ERROR_LIMIT);
}

/* --- Over a stream -------------------------------------------------------------------------- */

typedef struct
{
  PhDuplex *stream;
  const PhIdentifyInfo *info; /* respond */
  const GByteArray *raw;      /* or write these bytes */
  gboolean ok;
  GError *error;
} Responder;

static gpointer
responder_thread (gpointer user_data)
{
  Responder *responder = user_data;
  gint64 deadline = ph_deadline_in (5000);

  if (responder->info != NULL)
    responder->ok = ph_identify_respond (responder->stream, responder->info, deadline, NULL,
                                         &responder->error);
  else
    responder->ok = ph_duplex_write (responder->stream, responder->raw->data, responder->raw->len,
                                     deadline, NULL, &responder->error)
                    && ph_duplex_close_write (responder->stream, deadline, NULL, &responder->error);
  return NULL;
}

static void
test_request_respond (void)
{
  g_autoptr (PhPrivateKey) key = NULL;
  g_autoptr (PhIdentifyInfo) ours = make_full_info (&key);
  g_autoptr (PhIdentifyInfo) theirs = NULL;
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (PhPeerId) id = ph_peer_id_from_public_key (ph_private_key_get_public_key (key));
  g_autoptr (GError) error = NULL;
  Responder responder = { 0 };
  GThread *thread;
  guint8 byte;

  ph_duplex_new_pipe_pair (&a, &b);
  responder.stream = b;
  responder.info = ours;
  thread = g_thread_new ("identify responder", responder_thread, &responder);

  theirs = ph_identify_request (a, ph_deadline_in (5000), NULL, &error);
  g_thread_join (thread);
  g_assert_no_error (responder.error);
  g_assert_true (responder.ok);
  g_assert_no_error (error);
  g_assert_nonnull (theirs);
  assert_info_equal (ours, theirs);
  g_assert_true (ph_identify_info_check_peer (theirs, id, &error));
  g_assert_no_error (error);

  /* The requester half-closed its side after reading. */
  g_assert_cmpint (ph_duplex_read (b, &byte, 1, ph_deadline_in (5000), NULL, &error), ==, 0);
  g_assert_no_error (error);
}

static void
run_request_raw (const GByteArray *raw, PhIdentifyInfo **info_out, GError **error)
{
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  Responder responder = { 0 };
  GThread *thread;

  ph_duplex_new_pipe_pair (&a, &b);
  responder.stream = b;
  responder.raw = raw;
  thread = g_thread_new ("identify raw responder", responder_thread, &responder);
  *info_out = ph_identify_request (a, ph_deadline_in (5000), NULL, error);
  g_thread_join (thread);
  g_assert_no_error (responder.error);
  g_assert_true (responder.ok);
}

static void
test_request_multi_part (void)
{
  g_autoptr (GByteArray) part1 = g_byte_array_new ();
  g_autoptr (GByteArray) part2 = g_byte_array_new ();
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autoptr (GError) error = NULL;

  append_string (part1, 3, "/ipfs/id/1.0.0");
  append_addr (part1, 4, "/ip4/203.0.113.7/tcp/54321");
  append_field (part2, 8, "record", 6);
  append_part (stream, part1);
  append_part (stream, part2);

  run_request_raw (stream, &info, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->protocols->len, ==, 1);
  assert_addr (info->observed_addr, "/ip4/203.0.113.7/tcp/54321");
  g_assert_nonnull (info->signed_peer_record);
}

static void
test_request_errors (void)
{
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  g_autoptr (PhIdentifyInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;

  /* Nothing at all before the end. */
  run_request_raw (stream, &info, &error);
  g_assert_null (info);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED);
  g_clear_error (&error);

  /* A part cut short by the end of the stream. */
  g_byte_array_append (stream, (const guint8[]){ 0x10, 0x1a, 0x02, '/' }, 4);
  run_request_raw (stream, &info, &error);
  g_assert_null (info);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED);
  g_clear_error (&error);

  /* More than the bound in all: refused without reading it all. */
  g_byte_array_set_size (stream, 0);
  g_byte_array_set_size (stream, PH_IDENTIFY_MAX_SIZE + 100);
  run_request_raw (stream, &info, &error);
  g_assert_null (info);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* A peer that never closes: the deadline ends it. */
  ph_duplex_new_pipe_pair (&a, &b);
  info = ph_identify_request (a, ph_deadline_in (50), NULL, &error);
  g_assert_null (info);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

static void
test_respond_too_large (void)
{
  g_autoptr (PhIdentifyInfo) ours = ph_identify_info_new ();
  g_autoptr (PhDuplex) a = NULL;
  g_autoptr (PhDuplex) b = NULL;
  g_autoptr (GError) error = NULL;
  guint8 byte;

  /* 150 × 36 bytes: over the 4 KiB limit, within what decoding allows */
  for (guint i = 0; i < 150; i++)
    g_ptr_array_add (ours->protocols, g_strdup_printf ("/a/rather/long/protocol/name/%03u", i));

  ph_duplex_new_pipe_pair (&a, &b);
  g_assert_false (ph_identify_respond (b, ours, ph_deadline_in (5000), NULL, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* Nothing was written, and the stream is still open. */
  g_assert_cmpint (ph_duplex_read (a, &byte, 1, ph_deadline_in (20), NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/identify/round-trip", test_round_trip);
  g_test_add_func ("/identify/hand-made", test_hand_made);
  g_test_add_func ("/identify/multi-part", test_multi_part);
  g_test_add_func ("/identify/observed-addr-skipped", test_observed_addr_skipped);
  g_test_add_func ("/identify/empty-strings", test_empty_strings);
  g_test_add_func ("/identify/bad-listen-addrs-skipped", test_bad_listen_addrs_skipped);
  g_test_add_func ("/identify/public-key", test_public_key);
  g_test_add_func ("/identify/public-key-bad", test_public_key_bad);
  g_test_add_func ("/identify/truncated", test_truncated);
  g_test_add_func ("/identify/malformed", test_malformed);
  g_test_add_func ("/identify/oversized", test_oversized);
  g_test_add_func ("/identify/too-many", test_too_many);
  g_test_add_func ("/identify/request-respond", test_request_respond);
  g_test_add_func ("/identify/request-multi-part", test_request_multi_part);
  g_test_add_func ("/identify/request-errors", test_request_errors);
  g_test_add_func ("/identify/respond-too-large", test_respond_too_large);

  return g_test_run ();
}
