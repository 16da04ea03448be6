/* test-multiaddr.c: multiaddr string ⇄ binary, validation, accessors and classification
 *
 * Binary vectors come from multiformats/multiaddr test/multiaddr.feature, go-multiaddr
 * multiaddr_test.go and rust-multiaddr tests/lib.rs; those marked "computed" were derived by hand
 * from protocols.csv codes and the peer IDs' base58 (see the multibase tests).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "p2p/ph-multiaddr.h"
#include "p2p/ph-multibase.h"
#include "p2p/ph-p2p-error.h"

#define QMCGPSY "QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC"
#define QMCGPSY_HEX "a503221220d52ebb89d85b02a284948203a62ff28389c57c9f42beec4ec20db76a68911c0b"
#define QMNNOO "QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN"
#define QMNNOO_HEX                                                                                 \
  "a503221220"                                                                                     \
  "06b3608aa000274049eb28ad8e793a26ff6fab281a7d3bd77cd18eb745dfaabb"
#define MARS "QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ"
#define MARS_HEX                                                                                   \
  "a503221220"                                                                                     \
  "b04a57d40eca138809f139a76b12044333c3740391c9bf1ce9d8e21a79210bfd"
#define VA1 "12D3KooWKnDdG3iXw9eTFijk3EWSunZcFi54Zka4wmtqtt6rPxc8"
#define VA1_HEX                                                                                    \
  "a503260024080112"                                                                               \
  "2094080c59284a5ad2ecccb7addd6221fac7a9243aa7da02ce5378cc401728ca91"
#define CRYG7 "12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5mV"

static GBytes *
bytes_from_hex (const char *hex)
{
  gsize len = strlen (hex) / 2;
  guint8 *data = g_malloc (len + 1);

  g_assert_cmpuint (strlen (hex) % 2, ==, 0);
  for (gsize i = 0; i < len; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      g_assert_true (hi >= 0 && lo >= 0);
      data[i] = (guint8) ((guint) hi << 4 | (guint) lo);
    }
  return g_bytes_new_take (data, len);
}

static char *
hex_of (PhMultiaddr *ma)
{
  gsize len;
  const guint8 *data = ph_multiaddr_peek_bytes (ma, &len);
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, "%02x", data[i]);
  return g_string_free (out, FALSE);
}

static PhMultiaddr *
parse (const char *text)
{
  g_autoptr (GError) error = NULL;
  PhMultiaddr *ma = ph_multiaddr_new_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ma);
  return ma;
}

static PhMultiaddr *
parse_hex (const char *hex)
{
  g_autoptr (GBytes) bytes = bytes_from_hex (hex);
  g_autoptr (GError) error = NULL;
  PhMultiaddr *ma = ph_multiaddr_new_from_bytes (g_bytes_get_data (bytes, NULL),
                                                 g_bytes_get_size (bytes), &error);

  g_assert_no_error (error);
  g_assert_nonnull (ma);
  return ma;
}

/* Canonical string ⇄ binary pairs: both directions must give exactly the other. */
static const struct
{
  const char *text;
  const char *hex;
  gsize n_components;
} vectors[] = {
  /* multiaddr test/multiaddr.feature */
  { "/ip4/192.0.2.42/tcp/443", "04c000022a0601bb", 2 },
  /* go-multiaddr TestStringToBytes / TestBytesToString */
  { "/ip4/127.0.0.1/udp/1234", "047f000001910204d2", 2 },
  { "/ip4/127.0.0.1/tcp/4321", "047f0000010610e1", 2 },
  { "/ip4/127.0.0.1/udp/1234/ip4/127.0.0.1/tcp/4321", "047f000001910204d2047f0000010610e1", 4 },
  /* rust-multiaddr construct_success */
  { "/ip4/1.2.3.4", "0401020304", 1 },
  { "/ip4/0.0.0.0", "0400000000", 1 },
  { "/ip6/::1", "2900000000000000000000000000000001", 1 },
  { "/ip6/2601:9:4f81:9700:803e:ca65:66e8:c21", "29260100094f819700803eca6566e80c21", 1 },
  { "/udp/0", "91020000", 1 },
  { "/tcp/0", "060000", 1 },
  { "/udp/1234", "910204d2", 1 },
  { "/tcp/1234", "0604d2", 1 },
  { "/udp/65535", "9102ffff", 1 },
  { "/tcp/65535", "06ffff", 1 },
  { "/p2p/" QMCGPSY, QMCGPSY_HEX, 1 },
  { "/p2p/" QMCGPSY "/tcp/1234", QMCGPSY_HEX "0604d2", 2 },
  { "/ip4/127.0.0.1/udp/0", "047f00000191020000", 2 },
  { "/ip4/127.0.0.1/tcp/1234", "047f0000010604d2", 2 },
  { "/ip4/127.0.0.1/p2p/" QMCGPSY, "047f000001" QMCGPSY_HEX, 2 },
  { "/ip4/127.0.0.1/p2p/" QMCGPSY "/tcp/1234", "047f000001" QMCGPSY_HEX "0604d2", 3 },
  { "/ip4/127.0.0.1/tcp/9090/p2p-circuit/p2p/" QMCGPSY, "047f000001062382a202" QMCGPSY_HEX, 4 },
  { "/dnsaddr/sjc-1.bootstrap.libp2p.io", "3819736a632d312e626f6f7473747261702e6c69627032702e696f",
    1 },
  { "/dnsaddr/sjc-1.bootstrap.libp2p.io/tcp/1234/p2p/" QMNNOO,
    "3819736a632d312e626f6f7473747261702e6c69627032702e696f0604d2" QMNNOO_HEX, 3 },
  /* The bootstrap peers (protocol-notes §9); computed */
  { "/dnsaddr/bootstrap.libp2p.io/p2p/" QMNNOO,
    "3813626f6f7473747261702e6c69627032702e696f" QMNNOO_HEX, 2 },
  { "/dnsaddr/va1.bootstrap.libp2p.io/p2p/" VA1,
    "38177661312e626f6f7473747261702e6c69627032702e696f" VA1_HEX, 2 },
  { "/ip4/104.131.131.82/tcp/4001/p2p/" MARS, "0468838352060fa1" MARS_HEX, 3 },
  { "/ip4/104.131.131.82/udp/4001/quic-v1/p2p/" MARS, "046883835291020fa1cd03" MARS_HEX, 4 },
  /* Other forms we meet; computed */
  { "/ip6/::1/tcp/4001", "2900000000000000000000000000000001060fa1", 2 },
  { "/ip4/1.2.3.4/udp/4001/quic-v1/p2p/" VA1, "040102030491020fa1cd03" VA1_HEX, 4 },
  { "/ip6/2001:db8::1/udp/4001/quic-v1",
    "2920010db80000000000000000000000019102"
    "0fa1cd03",
    3 },
  { "/ip4/127.0.0.1/tcp/5001", "047f000001061389", 2 },
  { "/dns/localhost/tcp/5001", "35096c6f63616c686f7374061389", 2 },
  { "/dns4/example.com/tcp/443", "360b6578616d706c652e636f6d0601bb", 2 },
  { "/dns6/example.com/udp/443/quic-v1", "370b6578616d706c652e636f6d910201bbcd03", 3 },
  { "/p2p-circuit", "a202", 1 },
  { "/quic-v1", "cd03", 1 },
  { "/ip4/104.131.131.82/tcp/4001/p2p/" MARS "/p2p-circuit/p2p/" VA1,
    "0468838352060fa1" MARS_HEX "a202" VA1_HEX, 5 },
};

static char *
strip_spaces (const char *hex)
{
  GString *out = g_string_new (NULL);

  for (; *hex; hex++)
    if (*hex != ' ')
      g_string_append_c (out, *hex);
  return g_string_free (out, FALSE);
}

static void
test_vectors (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autofree char *hex = strip_spaces (vectors[i].hex);
      g_autoptr (PhMultiaddr) from_text = parse (vectors[i].text);
      g_autoptr (PhMultiaddr) from_bytes = parse_hex (hex);
      g_autofree char *text_hex = hex_of (from_text);
      g_autofree char *bytes_text = ph_multiaddr_to_string (from_bytes);
      g_autofree char *text_text = ph_multiaddr_to_string (from_text);

      g_test_message ("%s", vectors[i].text);
      g_assert_cmpstr (text_hex, ==, hex);
      g_assert_cmpstr (bytes_text, ==, vectors[i].text);
      g_assert_cmpstr (text_text, ==, vectors[i].text);
      g_assert_true (ph_multiaddr_equal (from_text, from_bytes));
      g_assert_cmpuint (ph_multiaddr_hash (from_text), ==, ph_multiaddr_hash (from_bytes));
      g_assert_cmpuint (ph_multiaddr_get_n_components (from_text), ==, vectors[i].n_components);
    }
}

static void
test_go_dns_vector (void)
{
  /* go-multiaddr TestDNS: the bytes "7*" then 42 '0's are /dns6 with a 42-byte name. */
  g_autofree char *raw = g_strdup_printf ("7*%s", "000000000000000000000000000000000000000000");
  g_autoptr (GError) error = NULL;
  g_autoptr (PhMultiaddr) ma = NULL;
  g_autoptr (PhMultiaddr) again = NULL;
  g_autofree char *text = NULL;

  ma = ph_multiaddr_new_from_bytes ((const guint8 *) raw, strlen (raw), &error);
  g_assert_no_error (error);
  text = ph_multiaddr_to_string (ma);
  g_assert_cmpstr (text, ==, "/dns6/000000000000000000000000000000000000000000");
  again = parse (text);
  g_assert_true (ph_multiaddr_equal (ma, again));
}

/* Inputs that parse but print differently: the printed form is the canonical one. */
static const struct
{
  const char *input;
  const char *canonical;
} canonical_cases[] = {
  /* RFC 5952 §4 */
  { "/ip6/0:0:0:0:0:0:0:1", "/ip6/::1" },
  { "/ip6/0:0:0:0:0:0:0:0", "/ip6/::" },
  { "/ip6/2001:DB8::1", "/ip6/2001:db8::1" },
  { "/ip6/2001:0db8:0000:0000:0000:0000:0000:0001", "/ip6/2001:db8::1" },
  { "/ip6/2001:db8:0:0:1:0:0:1", "/ip6/2001:db8::1:0:0:1" },
  { "/ip6/2001:db8:0:1:1:1:1:1", "/ip6/2001:db8:0:1:1:1:1:1" },
  { "/ip6/1:0:0:2:0:0:0:3", "/ip6/1:0:0:2::3" },
  { "/ip6/1:2:3:4:5:6:7:0", "/ip6/1:2:3:4:5:6:7:0" },
  { "/ip6/1:2:3:4:5:6:0:0", "/ip6/1:2:3:4:5:6::" },
  { "/ip6/0:0:1:0:0:0:0:0", "/ip6/0:0:1::" },
  { "/ip6/fe80:0::", "/ip6/fe80::" },
  { "/ip6/2606:4700:4700::1111", "/ip6/2606:4700:4700::1111" },
  /* IPv4-mapped keeps the dotted quad (RFC 5952 §5), as go-multiaddr prints it */
  { "/ip6/::ffff:1.2.3.4", "/ip6/::ffff:1.2.3.4" },
  { "/ip6/::ffff:102:304", "/ip6/::ffff:1.2.3.4" },
  { "/ip6/64:ff9b::1.2.3.4", "/ip6/64:ff9b::102:304" },
  /* The old name of /p2p, and peer IDs as CIDv1 (go-multiaddr's good list) */
  { "/ipfs/" QMCGPSY, "/p2p/" QMCGPSY },
  { "/p2p/bafzbeigvf25ytwc3akrijfecaotc74udrhcxzh2cx3we5qqnw5vgrei4bm", "/p2p/" QMCGPSY },
  { "/p2p/bafzaajaiaejcalj543iwv2d7pkjt7ykvefrkfu7qjfi6sduakhso4lay6abn2d5u", "/p2p/" CRYG7 },
  { "/ip4/127.0.0.1/ipfs/" QMCGPSY "/tcp/1234", "/ip4/127.0.0.1/p2p/" QMCGPSY "/tcp/1234" },
  /* Ports with leading zeros read as numbers */
  { "/tcp/00080", "/tcp/80" },
};

static void
test_canonical (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (canonical_cases); i++)
    {
      g_autoptr (PhMultiaddr) ma = parse (canonical_cases[i].input);
      g_autofree char *text = ph_multiaddr_to_string (ma);
      g_autoptr (PhMultiaddr) again = parse (text);

      g_assert_cmpstr (text, ==, canonical_cases[i].canonical);
      g_assert_true (ph_multiaddr_equal (ma, again));
    }
}

static void
assert_string_fails (const char *text, PhP2pError code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhMultiaddr) ma = ph_multiaddr_new_from_string (text, &error);

  if (ma != NULL)
    g_error ("\"%s\" should not parse", text);
  g_assert_error (error, PH_P2P_ERROR, (gint) code);
}

static void
test_bad_strings (void)
{
  /* Empty, missing values, stray slashes */
  assert_string_fails ("", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("//", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("ip4/1.2.3.4", PH_P2P_ERROR_MALFORMED);
  assert_string_fails (" /ip4/1.2.3.4", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4/", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4//tcp/1", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4/1.2.3.4/", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4/1.2.3.4/tcp/1/", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4/1.2.3.4//tcp/1", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/p2p-circuit/", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip6", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/tcp", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/udp", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4/127.0.0.1/tcp", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4/127.0.0.1/p2p", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/dns", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/dnsaddr/", PH_P2P_ERROR_MALFORMED);

  /* Bad IPs */
  assert_string_fails ("/ip4/::1", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4/fdpsofodsajfdoisa", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4/256.0.0.1", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4/1.2.3", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4/1.2.3.4.5", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4/01.2.3.4", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4/1.2.3.4 ", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip6/1.2.3.4", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip6/:::", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip6/1:2:3:4:5:6:7:8:9", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip6/fe80::1%eth0", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip6/::g", PH_P2P_ERROR_MALFORMED);

  /* Bad ports */
  assert_string_fails ("/tcp/70000", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/tcp/65536", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/udp/65536", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/tcp/-1", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/tcp/+1", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/tcp/0x10", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/tcp/ 80", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/tcp/123456", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/tcp/99999999999999999999", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/ip4/127.0.0.1/udp/jfodsajfidosajfoidsa", PH_P2P_ERROR_MALFORMED);

  /* Bad peer IDs */
  assert_string_fails ("/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJ0",
                       PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJ",
                       PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJNN",
                       PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/p2p/Qm", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/p2p/1", PH_P2P_ERROR_MALFORMED);
  /* sha2-256 claiming a 33-byte digest (go-multiaddr TestConstructFails) */
  assert_string_fails ("/p2p/QmxoHT6iViN5xAjoz1VZ553cL31U9F94ht3QvWR1FrEbZY",
                       PH_P2P_ERROR_MALFORMED);
  /* sha2-256 with 31 bytes, sha2-512, identity of 43 bytes */
  assert_string_fails ("/p2p/6PDiKBGNpry6fm61fo9RNVM4WEastriUfpwMrZpVXMwdX",
                       PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/p2p/8VsnYEdXhyugAP7tYzLW48TDaKWpzTX4V9ikJRxnCep1jbjYwjDfKtfnLFUR8cn5XxxYf"
                       "UcjiRLDGos9H4T97LMyFc",
                       PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/p2p/1Eyy5ThQpnMdwLZUFGfmqkLbU7gYyZrSy7qf5EPu8bBwwvqnrQzFhxM46SAQS",
                       PH_P2P_ERROR_MALFORMED);
  /* CIDs: dag-pb instead of libp2p-key, version 0, bad base32, base36 (not accepted here) */
  assert_string_fails ("/p2p/bafybeigvf25ytwc3akrijfecaotc74udrhcxzh2cx3we5qqnw5vgrei4bm",
                       PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/p2p/babzbeigvf25ytwc3akrijfecaotc74udrhcxzh2cx3we5qqnw5vgrei4bm",
                       PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/p2p/bafzbeigvf25ytwc3akrijfecaotc74udrhcxzh2cx3we5qqnw5vgrei4b1",
                       PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/p2p/bafzbeigvf25ytwc3akrijfecaotc74udrhcxzh2cx3we5qqnw5vgrei4b",
                       PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/p2p/b", PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/p2p/k2k4r8oqamigqdo6o7hsbfwd45y70oyynp98usk7zmyfrzpqxh1pohl7",
                       PH_P2P_ERROR_MALFORMED);

  /* Protocols we do not know or do not speak; names are case-sensitive */
  assert_string_fails ("/foo/bar", PH_P2P_ERROR_UNSUPPORTED);
  assert_string_fails ("/IP4/1.2.3.4", PH_P2P_ERROR_UNSUPPORTED);
  assert_string_fails ("/ip4/127.0.0.1/quic-v1/1234", PH_P2P_ERROR_UNSUPPORTED);
  assert_string_fails ("/p2p-circuit/50", PH_P2P_ERROR_UNSUPPORTED);
  assert_string_fails ("/ip4/127.0.0.1/udp/1234/quic", PH_P2P_ERROR_UNSUPPORTED);
  assert_string_fails ("/ip4/127.0.0.1/tcp/127/ws", PH_P2P_ERROR_UNSUPPORTED);
  assert_string_fails ("/ip6zone/x/ip6/fe80::1", PH_P2P_ERROR_UNSUPPORTED);
  assert_string_fails ("/unix/a/b/c", PH_P2P_ERROR_UNSUPPORTED);

  /* Bad DNS names */
  assert_string_fails ("/dns4/a\x01"
                       "b",
                       PH_P2P_ERROR_MALFORMED);
  assert_string_fails ("/dns4/a\xff"
                       "b",
                       PH_P2P_ERROR_MALFORMED);
}

static void
test_oversized_strings (void)
{
  g_autoptr (GString) circuits = g_string_new (NULL);
  g_autofree char *name_255 = g_strnfill (255, 'a');
  g_autofree char *name_256 = g_strnfill (256, 'a');
  g_autofree char *dns_255 = g_strconcat ("/dns/", name_255, NULL);
  g_autofree char *dns_256 = g_strconcat ("/dns/", name_256, NULL);
  g_autofree char *huge = NULL;
  g_autoptr (PhMultiaddr) ma = NULL;

  /* 512 × /p2p-circuit is exactly the 1024-byte bound; one more is over it. */
  for (int i = 0; i < 512; i++)
    g_string_append (circuits, "/p2p-circuit");
  ma = parse (circuits->str);
  g_assert_cmpuint (ph_multiaddr_get_n_components (ma), ==, 512);
  g_string_append (circuits, "/p2p-circuit");
  assert_string_fails (circuits->str, PH_P2P_ERROR_TOO_LARGE);

  g_clear_pointer (&ma, ph_multiaddr_unref);
  ma = parse (dns_255);
  assert_string_fails (dns_256, PH_P2P_ERROR_TOO_LARGE);

  /* Text far over any valid address is refused before it is read. */
  huge = g_strnfill (100000, '/');
  assert_string_fails (huge, PH_P2P_ERROR_TOO_LARGE);
  g_free (huge);
  huge = g_strconcat ("/dns/", name_256, name_256, name_256, name_256, name_256, NULL);
  assert_string_fails (huge, PH_P2P_ERROR_TOO_LARGE);
}

static void
assert_bytes_fail (const char *hex, PhP2pError code)
{
  g_autofree char *clean = strip_spaces (hex);
  g_autoptr (GBytes) bytes = bytes_from_hex (clean);
  g_autoptr (GError) error = NULL;
  g_autoptr (PhMultiaddr) ma = NULL;

  ma = ph_multiaddr_new_from_bytes (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                    &error);
  if (ma != NULL)
    g_error ("%s should not parse", hex);
  g_assert_error (error, PH_P2P_ERROR, (gint) code);
}

static void
test_bad_bytes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhMultiaddr) ma = NULL;

  ma = ph_multiaddr_new_from_bytes (NULL, 0, &error);
  g_assert_null (ma);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);

  /* Unknown or unspoken codes: ip6zone, quic (draft-29), ws, tls, 0x7f, a huge code */
  assert_bytes_fail ("2a 0565746830 29fe800000000000000000000000000001", PH_P2P_ERROR_UNSUPPORTED);
  assert_bytes_fail ("0401020304 910204d2 cc03", PH_P2P_ERROR_UNSUPPORTED);
  assert_bytes_fail ("047f00000106007f dd03", PH_P2P_ERROR_UNSUPPORTED);
  assert_bytes_fail ("c003", PH_P2P_ERROR_UNSUPPORTED);
  assert_bytes_fail ("7f", PH_P2P_ERROR_UNSUPPORTED);
  assert_bytes_fail ("00", PH_P2P_ERROR_UNSUPPORTED);
  assert_bytes_fail ("ffffffffffffffff7f", PH_P2P_ERROR_UNSUPPORTED);

  /* Bad varints: a non-minimal code, one over nine bytes, an unfinished one */
  assert_bytes_fail ("8400 01020304", PH_P2P_ERROR_MALFORMED);
  assert_bytes_fail ("a58300", PH_P2P_ERROR_MALFORMED);
  assert_bytes_fail ("ffffffffffffffffff01", PH_P2P_ERROR_TOO_LARGE);
  assert_bytes_fail ("0401020304 a5", PH_P2P_ERROR_TRUNCATED);

  /* Values shorter than their size or length prefix */
  assert_bytes_fail ("04010203", PH_P2P_ERROR_TRUNCATED);
  assert_bytes_fail ("29000000000000000000000000000000", PH_P2P_ERROR_TRUNCATED);
  assert_bytes_fail ("0604", PH_P2P_ERROR_TRUNCATED);
  assert_bytes_fail ("9102", PH_P2P_ERROR_TRUNCATED);
  assert_bytes_fail ("3505616263", PH_P2P_ERROR_TRUNCATED);
  assert_bytes_fail ("35", PH_P2P_ERROR_TRUNCATED);
  assert_bytes_fail ("35ffffffffffffffff7f 61", PH_P2P_ERROR_TRUNCATED);
  assert_bytes_fail ("a50322 1220d52ebb", PH_P2P_ERROR_TRUNCATED);

  /* DNS names: empty, '/', invalid UTF-8, NUL, control characters */
  assert_bytes_fail ("3500", PH_P2P_ERROR_MALFORMED);
  assert_bytes_fail ("3600 0601bb", PH_P2P_ERROR_MALFORMED);
  assert_bytes_fail ("3503612f62", PH_P2P_ERROR_MALFORMED);
  assert_bytes_fail ("3502c328", PH_P2P_ERROR_MALFORMED);
  assert_bytes_fail ("3503610062", PH_P2P_ERROR_MALFORMED);
  assert_bytes_fail ("3503610a62", PH_P2P_ERROR_MALFORMED);
  assert_bytes_fail ("38037f6162", PH_P2P_ERROR_MALFORMED);

  /* Peer IDs: go-multiaddr TestInvalidP2PAddrBytes (sha2-256 claiming 33 bytes), an empty
   * value, a lone code, trailing bytes after the digest, sha2-512, sha1 */
  assert_bytes_fail ("a503221221c05877cbae039d70a5e600ea02c6f9f2942439285c9e344e26f8d280c850fad6",
                     PH_P2P_ERROR_MALFORMED);
  assert_bytes_fail ("a50300", PH_P2P_ERROR_MALFORMED);
  assert_bytes_fail ("a5030112", PH_P2P_ERROR_MALFORMED);
  assert_bytes_fail ("a503050003616263 7f", PH_P2P_ERROR_UNSUPPORTED);
  assert_bytes_fail ("a50306000361626364", PH_P2P_ERROR_MALFORMED);
  assert_bytes_fail ("a50303 130100", PH_P2P_ERROR_MALFORMED);
  assert_bytes_fail ("a50316 1114 0000000000000000000000000000000000000000",
                     PH_P2P_ERROR_MALFORMED);
}

static void
test_bad_bytes_size (void)
{
  guint8 data[PH_MULTIADDR_MAX_LEN + 8];
  g_autoptr (GError) error = NULL;
  g_autoptr (PhMultiaddr) ma = NULL;
  guint8 dns[3 + 256];

  /* 512 × /p2p-circuit (a2 02) is 1024 bytes: the bound is inclusive. */
  for (gsize i = 0; i < sizeof data; i += 2)
    {
      data[i] = 0xa2;
      data[i + 1] = 0x02;
    }
  ma = ph_multiaddr_new_from_bytes (data, PH_MULTIADDR_MAX_LEN, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ph_multiaddr_get_n_components (ma), ==, 512);

  g_assert_null (ph_multiaddr_new_from_bytes (data, PH_MULTIADDR_MAX_LEN + 2, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* DNS names: 255 bytes pass (length varint ff 01), 256 do not (80 02). */
  dns[0] = 0x35;
  dns[1] = 0xff;
  dns[2] = 0x01;
  memset (dns + 3, 'a', sizeof dns - 3);
  g_clear_pointer (&ma, ph_multiaddr_unref);
  ma = ph_multiaddr_new_from_bytes (dns, 3 + 255, &error);
  g_assert_no_error (error);

  dns[1] = 0x80;
  dns[2] = 0x02;
  g_assert_null (ph_multiaddr_new_from_bytes (dns, 3 + 256, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_null (ph_multiaddr_new_from_bytes (dns, 3 + 255, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED);
}

static void
test_truncations (void)
{
  /* Every proper prefix either ends on a component boundary (and parses) or is TRUNCATED. */
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autofree char *hex = strip_spaces (vectors[i].hex);
      g_autoptr (GBytes) bytes = bytes_from_hex (hex);
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      gsize boundaries = 0;

      for (gsize cut = 1; cut < len; cut++)
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (PhMultiaddr) ma = ph_multiaddr_new_from_bytes (data, cut, &error);

          if (ma != NULL)
            boundaries++;
          else
            g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED);
        }
      g_assert_cmpuint (boundaries, ==, vectors[i].n_components - 1);
    }
}

static void
test_components (void)
{
  g_autoptr (PhMultiaddr) ma = parse ("/ip4/104.131.131.82/udp/4001/quic-v1/p2p/" MARS);
  g_autoptr (GBytes) peer = bytes_from_hex (&MARS_HEX[6]); /* without code and length */
  PhMultiaddrComponent c;

  g_assert_cmpuint (ph_multiaddr_get_n_components (ma), ==, 4);

  g_assert_true (ph_multiaddr_get_component (ma, 0, &c));
  g_assert_cmpint (c.code, ==, PH_MULTIADDR_CODE_IP4);
  g_assert_cmpstr (c.name, ==, "ip4");
  g_assert_cmpmem (c.value, c.value_len, "\x68\x83\x83\x52", 4);

  g_assert_true (ph_multiaddr_get_component (ma, 1, &c));
  g_assert_cmpint (c.code, ==, PH_MULTIADDR_CODE_UDP);
  g_assert_cmpstr (c.name, ==, "udp");
  g_assert_cmpmem (c.value, c.value_len, "\x0f\xa1", 2);

  g_assert_true (ph_multiaddr_get_component (ma, 2, &c));
  g_assert_cmpint (c.code, ==, PH_MULTIADDR_CODE_QUIC_V1);
  g_assert_cmpstr (c.name, ==, "quic-v1");
  g_assert_null (c.value);
  g_assert_cmpuint (c.value_len, ==, 0);

  g_assert_true (ph_multiaddr_get_component (ma, 3, &c));
  g_assert_cmpint (c.code, ==, PH_MULTIADDR_CODE_P2P);
  g_assert_cmpstr (c.name, ==, "p2p");
  g_assert_cmpmem (c.value, c.value_len, g_bytes_get_data (peer, NULL), g_bytes_get_size (peer));

  g_assert_false (ph_multiaddr_get_component (ma, 4, &c));

  g_assert_cmpstr (ph_multiaddr_code_to_name (290), ==, "p2p-circuit");
  g_assert_cmpstr (ph_multiaddr_code_to_name (56), ==, "dnsaddr");
  g_assert_null (ph_multiaddr_code_to_name (460));
  g_assert_null (ph_multiaddr_code_to_name (G_MAXUINT64));
}

static void
test_bytes_and_equality (void)
{
  g_autoptr (PhMultiaddr) a = parse ("/ip4/127.0.0.1/tcp/1234");
  g_autoptr (PhMultiaddr) b = parse_hex ("047f0000010604d2");
  g_autoptr (PhMultiaddr) udp = parse ("/ip4/127.0.0.1/udp/1234");
  g_autoptr (GBytes) bytes = ph_multiaddr_get_bytes (a);
  g_autoptr (GHashTable) set = NULL;
  PhMultiaddr *copy;

  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                   "\x04\x7f\x00\x00\x01\x06\x04\xd2", 8);
  g_assert_true (ph_multiaddr_equal (a, b));
  g_assert_true (ph_multiaddr_equal (a, a));
  g_assert_false (ph_multiaddr_equal (a, udp));
  g_assert_false (ph_multiaddr_equal (udp, a));

  set = g_hash_table_new_full ((GHashFunc) ph_multiaddr_hash, (GEqualFunc) ph_multiaddr_equal,
                               (GDestroyNotify) ph_multiaddr_unref, NULL);
  g_hash_table_add (set, ph_multiaddr_ref (a));
  g_assert_true (g_hash_table_contains (set, b));
  g_assert_false (g_hash_table_contains (set, udp));

  /* A boxed type, so it can sit in properties and GValues. */
  copy = g_boxed_copy (PH_TYPE_MULTIADDR, a);
  g_assert_true (copy == a);
  g_boxed_free (PH_TYPE_MULTIADDR, copy);
}

static void
test_ip_and_ports (void)
{
  g_autoptr (PhMultiaddr) v4 = parse ("/ip4/104.131.131.82/tcp/4001/p2p/" MARS);
  g_autoptr (PhMultiaddr) v6 = parse ("/ip6/2001:db8::1/udp/4001/quic-v1");
  g_autoptr (PhMultiaddr) dnsaddr = parse ("/dnsaddr/bootstrap.libp2p.io/p2p/" QMNNOO);
  g_autoptr (PhMultiaddr) dns4 = parse ("/dns4/example.com/tcp/443");
  g_autoptr (PhMultiaddr) dns6 = parse ("/dns6/example.com/tcp/443");
  g_autoptr (PhMultiaddr) relayed = parse ("/p2p/" QMCGPSY "/ip6/::1/tcp/1");
  g_autoptr (GInetAddress) ip = NULL;
  g_autofree char *ip_text = NULL;
  guint16 port = 0;

  g_assert_true (ph_multiaddr_get_ip (v4, &ip));
  ip_text = g_inet_address_to_string (ip);
  g_assert_cmpstr (ip_text, ==, "104.131.131.82");
  g_assert_cmpint (ph_multiaddr_get_family (v4), ==, G_SOCKET_FAMILY_IPV4);
  g_assert_true (ph_multiaddr_get_tcp_port (v4, &port));
  g_assert_cmpuint (port, ==, 4001);
  g_assert_false (ph_multiaddr_get_udp_port (v4, &port));

  g_clear_object (&ip);
  g_clear_pointer (&ip_text, g_free);
  g_assert_true (ph_multiaddr_get_ip (v6, &ip));
  ip_text = g_inet_address_to_string (ip);
  g_assert_cmpstr (ip_text, ==, "2001:db8::1");
  g_assert_cmpint (g_inet_address_get_family (ip), ==, G_SOCKET_FAMILY_IPV6);
  g_assert_cmpint (ph_multiaddr_get_family (v6), ==, G_SOCKET_FAMILY_IPV6);
  g_assert_false (ph_multiaddr_get_tcp_port (v6, &port));
  g_assert_true (ph_multiaddr_get_udp_port (v6, &port));
  g_assert_cmpuint (port, ==, 4001);

  g_assert_false (ph_multiaddr_get_ip (dnsaddr, NULL));
  g_assert_cmpint (ph_multiaddr_get_family (dnsaddr), ==, G_SOCKET_FAMILY_INVALID);
  g_assert_cmpint (ph_multiaddr_get_family (dns4), ==, G_SOCKET_FAMILY_IPV4);
  g_assert_cmpint (ph_multiaddr_get_family (dns6), ==, G_SOCKET_FAMILY_IPV6);

  /* The first IP component counts, wherever it is. */
  g_assert_true (ph_multiaddr_get_ip (relayed, NULL));
  g_assert_cmpint (ph_multiaddr_get_family (relayed), ==, G_SOCKET_FAMILY_IPV6);
}

static void
test_peer_id (void)
{
  g_autoptr (PhMultiaddr) bare = parse ("/ip4/104.131.131.82/tcp/4001");
  g_autoptr (PhMultiaddr) full = parse ("/ip4/104.131.131.82/tcp/4001/p2p/" MARS);
  g_autoptr (PhMultiaddr) circuit = parse ("/ip4/104.131.131.82/tcp/4001/p2p/" MARS "/p2p-circuit");
  g_autoptr (PhMultiaddr) target
      = parse ("/ip4/104.131.131.82/tcp/4001/p2p/" MARS "/p2p-circuit/p2p/" VA1);
  g_autoptr (PhMultiaddr) only = parse ("/p2p/" MARS);
  g_autoptr (GBytes) mars = bytes_from_hex (&MARS_HEX[6]);
  g_autoptr (GBytes) va1 = bytes_from_hex (&VA1_HEX[6]);
  g_autoptr (PhMultiaddr) with = NULL;
  g_autoptr (PhMultiaddr) same = NULL;
  g_autoptr (PhMultiaddr) without = NULL;
  g_autoptr (PhMultiaddr) without_bare = NULL;
  g_autoptr (GError) error = NULL;
  const guint8 *id;
  gsize len = 99;

  id = ph_multiaddr_get_peer_id_bytes (full, &len);
  g_assert_cmpmem (id, len, g_bytes_get_data (mars, NULL), g_bytes_get_size (mars));
  g_assert_null (ph_multiaddr_get_peer_id_bytes (bare, &len));
  g_assert_cmpuint (len, ==, 0);
  /* A circuit address without a target names no peer of its own. */
  g_assert_null (ph_multiaddr_get_peer_id_bytes (circuit, NULL));
  id = ph_multiaddr_get_peer_id_bytes (target, &len);
  g_assert_cmpmem (id, len, g_bytes_get_data (va1, NULL), g_bytes_get_size (va1));

  with = ph_multiaddr_with_peer_id (bare, g_bytes_get_data (mars, NULL), g_bytes_get_size (mars),
                                    &error);
  g_assert_no_error (error);
  g_assert_true (ph_multiaddr_equal (with, full));

  same = ph_multiaddr_with_peer_id (full, g_bytes_get_data (mars, NULL), g_bytes_get_size (mars),
                                    &error);
  g_assert_no_error (error);
  g_assert_true (same == full);
  g_clear_pointer (&same, ph_multiaddr_unref);

  same = ph_multiaddr_with_peer_id (full, g_bytes_get_data (va1, NULL), g_bytes_get_size (va1),
                                    &error);
  g_assert_null (same);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PEER_MISMATCH);
  g_clear_error (&error);

  /* Not a peer ID: a truncated multihash, and nothing at all */
  same = ph_multiaddr_with_peer_id (bare, g_bytes_get_data (mars, NULL), 10, &error);
  g_assert_null (same);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
  g_clear_error (&error);
  same = ph_multiaddr_with_peer_id (bare, NULL, 0, &error);
  g_assert_null (same);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
  g_clear_error (&error);

  without = ph_multiaddr_without_peer_id (full);
  g_assert_true (ph_multiaddr_equal (without, bare));
  without_bare = ph_multiaddr_without_peer_id (bare);
  g_assert_true (without_bare == bare);
  g_assert_null (ph_multiaddr_without_peer_id (only));
}

static void
test_identity_bound (void)
{
  /* An identity multihash of 42 bytes is a peer ID; 43 must be hashed instead. */
  g_autoptr (PhMultiaddr) ok
      = parse ("/p2p/146TojMfWbQFApLoPqrnby6tQcwm6viytVhXytM3PwVdqbAGoCMz3rn3kgeM");
  gsize len;

  g_assert_nonnull (ph_multiaddr_get_peer_id_bytes (ok, &len));
  g_assert_cmpuint (len, ==, 44);
  assert_string_fails ("/p2p/1Eyy5ThQpnMdwLZUFGfmqkLbU7gYyZrSy7qf5EPu8bBwwvqnrQzFhxM46SAQS",
                       PH_P2P_ERROR_MALFORMED);
}

static void
test_new_tcp (void)
{
  static const struct
  {
    const char *ip;
    guint16 port;
    const char *text;
  } cases[] = {
    { "1.2.3.4", 4001, "/ip4/1.2.3.4/tcp/4001" },
    { "::1", 0, "/ip6/::1/tcp/0" },
    { "2001:db8::1", 65535, "/ip6/2001:db8::1/tcp/65535" },
    /* what a dual-stack socket reports for an IPv4 peer */
    { "::ffff:10.0.0.1", 4001, "/ip4/10.0.0.1/tcp/4001" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GInetAddress) ip = g_inet_address_new_from_string (cases[i].ip);
      g_autoptr (PhMultiaddr) ma = ph_multiaddr_new_tcp (ip, cases[i].port);
      g_autofree char *text = ph_multiaddr_to_string (ma);

      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

static void
test_socket_address (void)
{
  static const struct
  {
    const char *text;
    const char *ip;
    guint16 port;
  } good[] = {
    { "/ip4/104.131.131.82/tcp/4001", "104.131.131.82", 4001 },
    { "/ip4/104.131.131.82/tcp/4001/p2p/" MARS, "104.131.131.82", 4001 },
    { "/ip6/::1/tcp/4001", "::1", 4001 },
  };
  static const char *const bad[] = {
    "/ip4/104.131.131.82/udp/4001/quic-v1",
    "/dns4/example.com/tcp/443",
    "/dnsaddr/bootstrap.libp2p.io/p2p/" QMNNOO,
    "/ip4/1.2.3.4",
    "/tcp/4001",
    "/tcp/4001/ip4/1.2.3.4",
    "/ip4/1.2.3.4/tcp/4001/p2p-circuit",
    "/ip4/104.131.131.82/tcp/4001/p2p/" MARS "/p2p-circuit/p2p/" VA1,
    "/ip4/1.2.3.4/tcp/4001/tcp/4002",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (PhMultiaddr) ma = parse (good[i].text);
      g_autoptr (GError) error = NULL;
      g_autoptr (GSocketAddress) address = ph_multiaddr_to_socket_address (ma, &error);
      g_autofree char *ip = NULL;

      g_assert_no_error (error);
      g_assert_true (G_IS_INET_SOCKET_ADDRESS (address));
      ip = g_inet_address_to_string (
          g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
      g_assert_cmpstr (ip, ==, good[i].ip);
      g_assert_cmpuint (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)), ==,
                        good[i].port);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (PhMultiaddr) ma = parse (bad[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (GSocketAddress) address = ph_multiaddr_to_socket_address (ma, &error);

      g_assert_null (address);
      g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED);
    }
}

static void
test_dns (void)
{
  g_autoptr (PhMultiaddr) dnsaddr = parse ("/dnsaddr/bootstrap.libp2p.io/p2p/" QMNNOO);
  g_autoptr (PhMultiaddr) dns = parse ("/dns/localhost/tcp/5001");
  g_autoptr (PhMultiaddr) ip = parse ("/ip4/127.0.0.1/tcp/5001");
  g_autoptr (PhMultiaddr) later = parse ("/p2p/" QMNNOO "/dns4/example.com");
  g_autofree char *name = NULL;
  g_autofree char *name2 = NULL;
  PhMultiaddrCode code = 0;

  g_assert_true (ph_multiaddr_is_dns (dnsaddr));
  name = ph_multiaddr_get_dns_name (dnsaddr, &code);
  g_assert_cmpstr (name, ==, "bootstrap.libp2p.io");
  g_assert_cmpint (code, ==, PH_MULTIADDR_CODE_DNSADDR);

  g_assert_true (ph_multiaddr_is_dns (dns));
  name2 = ph_multiaddr_get_dns_name (dns, NULL);
  g_assert_cmpstr (name2, ==, "localhost");

  g_assert_false (ph_multiaddr_is_dns (ip));
  g_assert_null (ph_multiaddr_get_dns_name (ip, &code));
  /* Only a leading name makes a DNS address. */
  g_assert_false (ph_multiaddr_is_dns (later));
}

static void
test_classify (void)
{
  static const struct
  {
    const char *text;
    PhIpScope scope;
  } cases[] = {
    { "/ip4/104.131.131.82/tcp/4001", PH_IP_SCOPE_PUBLIC },
    { "/ip4/10.0.0.1/tcp/4001", PH_IP_SCOPE_PRIVATE },
    { "/ip4/100.64.0.1/tcp/4001", PH_IP_SCOPE_CGNAT },
    { "/ip4/100.63.255.255/tcp/4001", PH_IP_SCOPE_PUBLIC },
    { "/ip4/127.0.0.1/tcp/5001", PH_IP_SCOPE_LOOPBACK },
    { "/ip4/0.0.0.0/tcp/4001", PH_IP_SCOPE_UNSPECIFIED },
    { "/ip4/192.0.2.42/tcp/443", PH_IP_SCOPE_DOCUMENTATION },
    { "/ip6/::1/tcp/4001", PH_IP_SCOPE_LOOPBACK },
    { "/ip6/::/tcp/4001", PH_IP_SCOPE_UNSPECIFIED },
    { "/ip6/::ffff:10.0.0.1/tcp/4001", PH_IP_SCOPE_PRIVATE },
    { "/ip6/fd00::1/udp/4001/quic-v1", PH_IP_SCOPE_ULA },
    { "/ip6/fe80::1/tcp/4001", PH_IP_SCOPE_LINK_LOCAL },
    { "/ip6/2606:4700::1/tcp/4001", PH_IP_SCOPE_PUBLIC },
    { "/ip6/2001:db8::1/tcp/4001", PH_IP_SCOPE_DOCUMENTATION },
    /* the first address component decides */
    { "/tcp/1/ip4/10.0.0.1/ip4/8.8.8.8", PH_IP_SCOPE_PRIVATE },
    { "/p2p/" MARS "/ip6/::1", PH_IP_SCOPE_LOOPBACK },
    /* names */
    { "/dns/localhost/tcp/5001", PH_IP_SCOPE_LOOPBACK },
    { "/dns4/LocalHost./tcp/5001", PH_IP_SCOPE_LOOPBACK },
    { "/dns6/ipfs.localhost/tcp/5001", PH_IP_SCOPE_LOOPBACK },
    { "/dns4/printer.local/tcp/631", PH_IP_SCOPE_LINK_LOCAL },
    { "/dns/router/tcp/80", PH_IP_SCOPE_PRIVATE },
    { "/dns/nas.home.arpa/tcp/4001", PH_IP_SCOPE_PRIVATE },
    { "/dns/nas.lan/tcp/4001", PH_IP_SCOPE_PRIVATE },
    { "/dns/example.com/tcp/443", PH_IP_SCOPE_DOCUMENTATION },
    { "/dns/www.example.org/tcp/443", PH_IP_SCOPE_DOCUMENTATION },
    { "/dns/node.test/tcp/4001", PH_IP_SCOPE_RESERVED },
    { "/dnsaddr/bootstrap.libp2p.io/p2p/" QMNNOO, PH_IP_SCOPE_PUBLIC },
    { "/dns4/notlocalhost.com/tcp/1", PH_IP_SCOPE_PUBLIC },
    { "/dns4/local.example.net/tcp/1", PH_IP_SCOPE_DOCUMENTATION },
    { "/dns4/localhost.example/tcp/1", PH_IP_SCOPE_DOCUMENTATION },
    /* nothing to route */
    { "/p2p/" MARS, PH_IP_SCOPE_UNSPECIFIED },
    { "/tcp/4001", PH_IP_SCOPE_UNSPECIFIED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (PhMultiaddr) ma = parse (cases[i].text);
      g_autofree char *got = g_strdup_printf ("%s %s", cases[i].text,
                                              ph_ip_scope_to_string (ph_multiaddr_classify (ma)));
      g_autofree char *expected
          = g_strdup_printf ("%s %s", cases[i].text, ph_ip_scope_to_string (cases[i].scope));

      g_assert_cmpstr (got, ==, expected);
    }
}

static void
test_random_bytes (void)
{
  /* Random input must fail cleanly or round-trip; run under ASan this catches overreads. */
  for (guint i = 0; i < 20000; i++)
    {
      guint8 data[64];
      gsize len = g_test_rand_int_range (0, sizeof data);
      g_autoptr (GError) error = NULL;
      g_autoptr (PhMultiaddr) ma = NULL;

      for (gsize j = 0; j < len; j++)
        data[j] = (guint8) g_test_rand_int_range (0, 256);
      /* Bias towards known codes so some inputs get past the first byte. */
      if (len > 0 && i % 2)
        data[0] = (guint8[]){ 0x04, 0x06, 0x29, 0x35, 0x36, 0x37, 0x38 }[i % 7];

      ma = ph_multiaddr_new_from_bytes (data, len, &error);
      if (ma == NULL)
        {
          g_assert_nonnull (error);
          g_assert_true (error->domain == PH_P2P_ERROR);
        }
      else
        {
          g_autofree char *text = ph_multiaddr_to_string (ma);
          g_autoptr (PhMultiaddr) again = parse (text);

          g_assert_true (ph_multiaddr_equal (ma, again));
        }
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/multiaddr/vectors", test_vectors);
  g_test_add_func ("/multiaddr/go-dns-vector", test_go_dns_vector);
  g_test_add_func ("/multiaddr/canonical", test_canonical);
  g_test_add_func ("/multiaddr/bad-strings", test_bad_strings);
  g_test_add_func ("/multiaddr/oversized-strings", test_oversized_strings);
  g_test_add_func ("/multiaddr/bad-bytes", test_bad_bytes);
  g_test_add_func ("/multiaddr/bad-bytes-size", test_bad_bytes_size);
  g_test_add_func ("/multiaddr/truncations", test_truncations);
  g_test_add_func ("/multiaddr/components", test_components);
  g_test_add_func ("/multiaddr/bytes-and-equality", test_bytes_and_equality);
  g_test_add_func ("/multiaddr/ip-and-ports", test_ip_and_ports);
  g_test_add_func ("/multiaddr/peer-id", test_peer_id);
  g_test_add_func ("/multiaddr/identity-bound", test_identity_bound);
  g_test_add_func ("/multiaddr/new-tcp", test_new_tcp);
  g_test_add_func ("/multiaddr/socket-address", test_socket_address);
  g_test_add_func ("/multiaddr/dns", test_dns);
  g_test_add_func ("/multiaddr/classify", test_classify);
  g_test_add_func ("/multiaddr/random-bytes", test_random_bytes);

  return g_test_run ();
}
