/* ph-multiaddr.c
 *
 * Binary form: (<uvarint code><value>)+, variable-size values prefixed by a uvarint length;
 * string form: (/<name>/<value>)+ (multiformats/multiaddr README §Specification, protocols.csv).
 * Every address is parsed into its binary form and validated there, whichever form it came in.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "ph-multiaddr.h"
#include "ph-multibase.h"
#include "ph-p2p-error.h"
#include "ph-varint.h"

/* No valid address spends more than 6 characters of text per byte (/p2p-circuit is 12 for 2). */
#define MAX_TEXT_LEN (8 * PH_MULTIADDR_MAX_LEN)

/* Peer IDs are sha2-256 or identity multihashes; identity only up to 42 bytes of key
 * (libp2p/specs peer-ids/peer-ids.md §Peer Ids). */
#define MULTIHASH_IDENTITY 0x00
#define MULTIHASH_SHA2_256 0x12
#define MAX_IDENTITY_DIGEST 42
/* CIDv1 codec of a peer ID in CID form (multicodec table.csv: libp2p-key). */
#define CID_CODEC_LIBP2P_KEY 0x72

typedef enum
{
  VALUE_NONE,
  VALUE_IP4,
  VALUE_IP6,
  VALUE_PORT,
  VALUE_DNS,
  VALUE_P2P,
} ValueKind;

typedef struct
{
  PhMultiaddrCode code;
  const char *name;
  ValueKind kind;
} Protocol;

static const Protocol protocols[] = {
  { PH_MULTIADDR_CODE_IP4, "ip4", VALUE_IP4 },
  { PH_MULTIADDR_CODE_TCP, "tcp", VALUE_PORT },
  { PH_MULTIADDR_CODE_IP6, "ip6", VALUE_IP6 },
  { PH_MULTIADDR_CODE_DNS, "dns", VALUE_DNS },
  { PH_MULTIADDR_CODE_DNS4, "dns4", VALUE_DNS },
  { PH_MULTIADDR_CODE_DNS6, "dns6", VALUE_DNS },
  { PH_MULTIADDR_CODE_DNSADDR, "dnsaddr", VALUE_DNS },
  { PH_MULTIADDR_CODE_UDP, "udp", VALUE_PORT },
  { PH_MULTIADDR_CODE_P2P_CIRCUIT, "p2p-circuit", VALUE_NONE },
  { PH_MULTIADDR_CODE_P2P, "p2p", VALUE_P2P },
  { PH_MULTIADDR_CODE_QUIC_V1, "quic-v1", VALUE_NONE },
};

typedef struct
{
  const Protocol *protocol;
  guint16 value_offset;
  guint16 value_len;
} Entry;

struct _PhMultiaddr
{
  gatomicrefcount ref_count;
  GBytes *bytes;
  gsize n_entries;
  Entry entries[];
};

G_DEFINE_BOXED_TYPE (PhMultiaddr, ph_multiaddr, ph_multiaddr_ref, ph_multiaddr_unref)

static const Protocol *
protocol_by_code (guint64 code)
{
  for (gsize i = 0; i < G_N_ELEMENTS (protocols); i++)
    if (protocols[i].code == code)
      return &protocols[i];
  return NULL;
}

static const Protocol *
protocol_by_name (const char *name, gsize len)
{
  /* multiaddr protocols.csv: /ipfs is the old name of /p2p, kept for input. */
  if (len == 4 && memcmp (name, "ipfs", 4) == 0)
    return protocol_by_code (PH_MULTIADDR_CODE_P2P);

  for (gsize i = 0; i < G_N_ELEMENTS (protocols); i++)
    if (strlen (protocols[i].name) == len && memcmp (protocols[i].name, name, len) == 0)
      return &protocols[i];
  return NULL;
}

const char *
ph_multiaddr_code_to_name (guint64 code)
{
  const Protocol *protocol = protocol_by_code (code);

  return protocol ? protocol->name : NULL;
}

static gsize
fixed_value_size (ValueKind kind)
{
  switch (kind)
    {
      case VALUE_IP4:
        return 4;
      case VALUE_IP6:
        return 16;
      case VALUE_PORT:
        return 2;
      case VALUE_NONE:
      case VALUE_DNS:
      case VALUE_P2P:
      default:
        return 0;
    }
}

static gboolean
is_variable_size (ValueKind kind)
{
  return kind == VALUE_DNS || kind == VALUE_P2P;
}

/* multiaddr transcoders: a DNS name is non-empty UTF-8 without '/'; we also bound it like DNS does
 * (RFC 1035 §2.3.4) and refuse control characters, which have no place in a name or a log line. */
static gboolean
check_dns_name (const guint8 *name, gsize len, GError **error)
{
  if (len == 0 || len > PH_MULTIADDR_MAX_DNS_NAME)
    {
      g_set_error (error, PH_P2P_ERROR, len ? PH_P2P_ERROR_TOO_LARGE : PH_P2P_ERROR_MALFORMED,
                   "DNS name of %" G_GSIZE_FORMAT " bytes (1 to %d allowed)", len,
                   PH_MULTIADDR_MAX_DNS_NAME);
      return FALSE;
    }
  if (!g_utf8_validate_len ((const char *) name, len, NULL))
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "DNS name is not valid UTF-8");
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    if (name[i] == '/' || name[i] < 0x20 || name[i] == 0x7f)
      {
        g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                             "DNS name contains '/' or a control character");
        return FALSE;
      }
  return TRUE;
}

/* A peer ID is a whole multihash <code><digest length><digest>, sha2-256 or short identity. */
static gboolean
check_peer_id (const guint8 *mh, gsize len, GError **error)
{
  guint64 code, digest_len;
  gsize n1, n2;

  /* The value's length is known, so a short header here is malformed, not truncated. */
  if (!ph_varint_decode (mh, len, &code, &n1, NULL)
      || !ph_varint_decode (mh + n1, len - n1, &digest_len, &n2, NULL))
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "peer ID is not a multihash");
      return FALSE;
    }
  if (digest_len != len - n1 - n2)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "peer ID multihash length does not match its digest");
      return FALSE;
    }
  if (code == MULTIHASH_SHA2_256 && digest_len == 32)
    return TRUE;
  if (code == MULTIHASH_IDENTITY && digest_len <= MAX_IDENTITY_DIGEST)
    return TRUE;

  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
               "peer ID is not a sha2-256 or identity multihash (code 0x%" G_GINT64_MODIFIER
               "x, %" G_GUINT64_FORMAT " bytes)",
               code, digest_len);
  return FALSE;
}

static gboolean
check_value (const Protocol *protocol, const guint8 *value, gsize len, GError **error)
{
  switch (protocol->kind)
    {
      case VALUE_DNS:
        return check_dns_name (value, len, error);
      case VALUE_P2P:
        return check_peer_id (value, len, error);
      case VALUE_NONE:
      case VALUE_IP4:
      case VALUE_IP6:
      case VALUE_PORT:
      default:
        return TRUE; /* fixed sizes, any bytes */
    }
}

/* Reads one component at `offset`, checking the code, the length and the value. */
static gboolean
parse_component (const guint8 *data, gsize len, gsize *offset, Entry *entry, GError **error)
{
  const Protocol *protocol;
  guint64 code, value_len;
  gsize pos = *offset, n;

  if (!ph_varint_decode (data + pos, len - pos, &code, &n, error))
    {
      g_prefix_error (error, "multiaddr protocol code at offset %" G_GSIZE_FORMAT ": ", pos);
      return FALSE;
    }
  pos += n;

  protocol = protocol_by_code (code);
  if (protocol == NULL)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                   "unknown multiaddr protocol code %" G_GUINT64_FORMAT, code);
      return FALSE;
    }

  if (is_variable_size (protocol->kind))
    {
      if (!ph_varint_decode (data + pos, len - pos, &value_len, &n, error))
        {
          g_prefix_error (error, "/%s value length: ", protocol->name);
          return FALSE;
        }
      pos += n;
    }
  else
    value_len = fixed_value_size (protocol->kind);

  if (value_len > len - pos)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                   "/%s value truncated (%" G_GUINT64_FORMAT " bytes, %" G_GSIZE_FORMAT " left)",
                   protocol->name, value_len, len - pos);
      return FALSE;
    }
  if (!check_value (protocol, data + pos, value_len, error))
    {
      g_prefix_error (error, "/%s: ", protocol->name);
      return FALSE;
    }

  entry->protocol = protocol;
  entry->value_offset = (guint16) pos;
  entry->value_len = (guint16) value_len;
  *offset = pos + value_len;
  return TRUE;
}

PhMultiaddr *
ph_multiaddr_new_from_bytes (const guint8 *data, gsize len, GError **error)
{
  g_autoptr (GArray) entries = NULL;
  PhMultiaddr *ma;
  gsize offset = 0;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len == 0)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED, "empty multiaddr");
      return NULL;
    }
  if (len > PH_MULTIADDR_MAX_LEN)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "multiaddr of %" G_GSIZE_FORMAT " bytes (at most %d)", len,
                   PH_MULTIADDR_MAX_LEN);
      return NULL;
    }

  entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  while (offset < len)
    {
      Entry entry;

      if (!parse_component (data, len, &offset, &entry, error))
        return NULL;
      g_array_append_val (entries, entry);
    }

  ma = g_malloc (sizeof (PhMultiaddr) + entries->len * sizeof (Entry));
  g_atomic_ref_count_init (&ma->ref_count);
  ma->bytes = g_bytes_new (data, len);
  ma->n_entries = entries->len;
  memcpy (ma->entries, entries->data, entries->len * sizeof (Entry));
  return ma;
}

static PhMultiaddr *
new_from_byte_array (GByteArray *array, GError **error)
{
  if (array->len > PH_MULTIADDR_MAX_LEN)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "multiaddr of %u bytes (at most %d)", array->len, PH_MULTIADDR_MAX_LEN);
      return NULL;
    }
  return ph_multiaddr_new_from_bytes (array->data, array->len, error);
}

PhMultiaddr *
ph_multiaddr_ref (PhMultiaddr *ma)
{
  g_return_val_if_fail (ma != NULL, NULL);

  g_atomic_ref_count_inc (&ma->ref_count);
  return ma;
}

void
ph_multiaddr_unref (PhMultiaddr *ma)
{
  g_return_if_fail (ma != NULL);

  if (g_atomic_ref_count_dec (&ma->ref_count))
    {
      g_bytes_unref (ma->bytes);
      g_free (ma);
    }
}

/* String → binary ------------------------------------------------------------------------------ */

static gboolean
append_port (GByteArray *out, const char *text, GError **error)
{
  guint value = 0;
  gsize n = strlen (text);

  if (n == 0 || n > 5 || strspn (text, "0123456789") != n)
    goto bad;
  for (gsize i = 0; i < n; i++)
    value = value * 10 + (guint) (text[i] - '0');
  if (value > G_MAXUINT16)
    goto bad;

  {
    guint8 be[2] = { value >> 8, value & 0xff };
    g_byte_array_append (out, be, 2);
  }
  return TRUE;

bad:
  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED, "invalid port “%s”", text);
  return FALSE;
}

static gboolean
append_ip (GByteArray *out, int family, const char *text, GError **error)
{
  guint8 bytes[16];

  /* inet_pton takes only the plain forms: dotted quads without leading zeros for AF_INET, RFC 4291
   * text without a zone for AF_INET6. */
  if (inet_pton (family, text, bytes) != 1)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED, "invalid %s address “%s”",
                   family == AF_INET ? "IPv4" : "IPv6", text);
      return FALSE;
    }
  g_byte_array_append (out, bytes, family == AF_INET ? 4 : 16);
  return TRUE;
}

static void
append_sized (GByteArray *out, const guint8 *value, gsize len)
{
  ph_varint_append (out, len);
  g_byte_array_append (out, value, len);
}

/* A peer ID in CIDv1 form: multibase 'b' (base32), version 1, codec libp2p-key, then the
 * multihash (libp2p/specs peer-ids/peer-ids.md §String representation). */
static GBytes *
decode_peer_id_cid (const char *text, GError **error)
{
  g_autoptr (GBytes) cid = NULL;
  const guint8 *data;
  gsize len, n1, n2;
  guint64 version, codec;

  cid = ph_base32_decode (text + 1, error);
  if (cid == NULL)
    return NULL;

  data = g_bytes_get_data (cid, &len);
  if (!ph_varint_decode (data, len, &version, &n1, NULL)
      || !ph_varint_decode (data + n1, len - n1, &codec, &n2, NULL))
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED, "peer ID CID is malformed");
      return NULL;
    }
  if (version != 1 || codec != CID_CODEC_LIBP2P_KEY)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                   "CID is not a CIDv1 libp2p-key (version %" G_GUINT64_FORMAT
                   ", codec 0x%" G_GINT64_MODIFIER "x)",
                   version, codec);
      return NULL;
    }
  return g_bytes_new_from_bytes (cid, n1 + n2, len - n1 - n2);
}

static gboolean
append_peer_id (GByteArray *out, const char *text, GError **error)
{
  g_autoptr (GBytes) mh = NULL;
  const guint8 *data;
  gsize len;

  /* Legacy base58btc multihashes start with Qm or 1; a CID starts with its multibase prefix. */
  if (text[0] == 'b')
    mh = decode_peer_id_cid (text, error);
  else
    mh = ph_base58btc_decode (text, error);
  if (mh == NULL)
    return FALSE;

  data = g_bytes_get_data (mh, &len);
  if (!check_peer_id (data, len, error))
    return FALSE;
  append_sized (out, data, len);
  return TRUE;
}

static gboolean
append_value (GByteArray *out, const Protocol *protocol, const char *text, GError **error)
{
  switch (protocol->kind)
    {
      case VALUE_IP4:
        return append_ip (out, AF_INET, text, error);
      case VALUE_IP6:
        return append_ip (out, AF_INET6, text, error);
      case VALUE_PORT:
        return append_port (out, text, error);
      case VALUE_DNS:
        if (!check_dns_name ((const guint8 *) text, strlen (text), error))
          return FALSE;
        append_sized (out, (const guint8 *) text, strlen (text));
        return TRUE;
      case VALUE_P2P:
        return append_peer_id (out, text, error);
      case VALUE_NONE:
      default:
        g_return_val_if_reached (FALSE);
    }
}

PhMultiaddr *
ph_multiaddr_new_from_string (const char *text, GError **error)
{
  g_autoptr (GByteArray) out = NULL;
  const char *p;
  gsize n;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  n = strnlen (text, MAX_TEXT_LEN + 1);
  if (n > MAX_TEXT_LEN)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "multiaddr text longer than %d characters", MAX_TEXT_LEN);
      return NULL;
    }
  if (text[0] != '/')
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "multiaddr text must start with '/'");
      return NULL;
    }

  out = g_byte_array_new ();
  p = text + 1;
  for (;;)
    {
      const char *end = strchrnul (p, '/');
      const Protocol *protocol;

      /* Also catches "", "/", "//" and a trailing '/'. */
      if (end == p)
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                       "empty protocol name at offset %td", p - text);
          return NULL;
        }
      protocol = protocol_by_name (p, end - p);
      if (protocol == NULL)
        {
          g_autofree char *name = g_strndup (p, end - p);
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                       "unknown multiaddr protocol “%s”", name);
          return NULL;
        }
      ph_varint_append (out, protocol->code);

      if (protocol->kind != VALUE_NONE)
        {
          g_autofree char *value = NULL;

          if (*end == '\0' || end[1] == '/' || end[1] == '\0')
            {
              g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED, "/%s needs a value",
                           protocol->name);
              return NULL;
            }
          p = end + 1;
          end = strchrnul (p, '/');
          value = g_strndup (p, end - p);
          if (!append_value (out, protocol, value, error))
            {
              g_prefix_error (error, "/%s: ", protocol->name);
              return NULL;
            }
        }

      /* Stop early: the text bound alone allows several times the binary bound. */
      if (out->len > PH_MULTIADDR_MAX_LEN || *end == '\0')
        break;
      p = end + 1;
    }

  return new_from_byte_array (out, error);
}

/* Binary → string ------------------------------------------------------------------------------ */

static void
append_ip4_text (GString *out, const guint8 *ip)
{
  g_string_append_printf (out, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

/* RFC 5952 §4: lower-case hex without leading zeros, the longest run (the first of equals) of two
 * or more zero groups as "::". IPv4-mapped addresses keep the dotted form (§5), as go-multiaddr
 * prints them. */
static void
append_ip6_text (GString *out, const guint8 *ip)
{
  static const guint8 v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  guint16 groups[8];
  int best = -1, best_len = 0;

  if (memcmp (ip, v4_mapped, sizeof v4_mapped) == 0)
    {
      g_string_append (out, "::ffff:");
      append_ip4_text (out, ip + 12);
      return;
    }

  for (int i = 0; i < 8; i++)
    groups[i] = (guint16) (ip[2 * i] << 8 | ip[2 * i + 1]);

  for (int i = 0; i < 8;)
    {
      int run = 0;

      while (i + run < 8 && groups[i + run] == 0)
        run++;
      if (run > best_len)
        {
          best = i;
          best_len = run;
        }
      i += run ? run : 1;
    }
  if (best_len < 2)
    best = -1;

  for (int i = 0; i < 8; i++)
    {
      if (i == best)
        {
          g_string_append (out, "::");
          i += best_len - 1;
          continue;
        }
      if (i > 0 && i != best + best_len)
        g_string_append_c (out, ':');
      g_string_append_printf (out, "%x", groups[i]);
    }
}

static void
append_value_text (GString *out, const Protocol *protocol, const guint8 *value, gsize len)
{
  switch (protocol->kind)
    {
      case VALUE_IP4:
        append_ip4_text (out, value);
        break;
      case VALUE_IP6:
        append_ip6_text (out, value);
        break;
      case VALUE_PORT:
        g_string_append_printf (out, "%u", (guint) (value[0] << 8 | value[1]));
        break;
      case VALUE_DNS:
        g_string_append_len (out, (const char *) value, len);
        break;
      case VALUE_P2P:
        {
          /* go-multiaddr and kubo print peer IDs in base58btc. */
          g_autofree char *b58 = ph_base58btc_encode (value, len);
          g_string_append (out, b58);
        }
        break;
      case VALUE_NONE:
      default:
        break;
    }
}

char *
ph_multiaddr_to_string (PhMultiaddr *ma)
{
  const guint8 *data;
  GString *out;

  g_return_val_if_fail (ma != NULL, NULL);

  data = g_bytes_get_data (ma->bytes, NULL);
  out = g_string_new (NULL);
  for (gsize i = 0; i < ma->n_entries; i++)
    {
      const Entry *entry = &ma->entries[i];

      g_string_append_c (out, '/');
      g_string_append (out, entry->protocol->name);
      if (entry->protocol->kind == VALUE_NONE)
        continue;
      g_string_append_c (out, '/');
      append_value_text (out, entry->protocol, data + entry->value_offset, entry->value_len);
    }
  return g_string_free (out, FALSE);
}

/* Accessors ------------------------------------------------------------------------------------ */

GBytes *
ph_multiaddr_get_bytes (PhMultiaddr *ma)
{
  g_return_val_if_fail (ma != NULL, NULL);

  return g_bytes_ref (ma->bytes);
}

const guint8 *
ph_multiaddr_peek_bytes (PhMultiaddr *ma, gsize *len)
{
  g_return_val_if_fail (ma != NULL, NULL);

  return g_bytes_get_data (ma->bytes, len);
}

gboolean
ph_multiaddr_equal (PhMultiaddr *a, PhMultiaddr *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  return a == b || g_bytes_equal (a->bytes, b->bytes);
}

guint
ph_multiaddr_hash (PhMultiaddr *ma)
{
  g_return_val_if_fail (ma != NULL, 0);

  return g_bytes_hash (ma->bytes);
}

gsize
ph_multiaddr_get_n_components (PhMultiaddr *ma)
{
  g_return_val_if_fail (ma != NULL, 0);

  return ma->n_entries;
}

static void
fill_component (PhMultiaddr *ma, const Entry *entry, PhMultiaddrComponent *component)
{
  const guint8 *data = g_bytes_get_data (ma->bytes, NULL);

  component->code = entry->protocol->code;
  component->name = entry->protocol->name;
  component->value = entry->value_len ? data + entry->value_offset : NULL;
  component->value_len = entry->value_len;
}

gboolean
ph_multiaddr_get_component (PhMultiaddr *ma, gsize index, PhMultiaddrComponent *component)
{
  g_return_val_if_fail (ma != NULL, FALSE);
  g_return_val_if_fail (component != NULL, FALSE);

  if (index >= ma->n_entries)
    return FALSE;
  fill_component (ma, &ma->entries[index], component);
  return TRUE;
}

/* The first component whose code is one of `codes`, or NULL. */
static const Entry *
find_first (PhMultiaddr *ma, const PhMultiaddrCode *codes, gsize n_codes)
{
  for (gsize i = 0; i < ma->n_entries; i++)
    for (gsize j = 0; j < n_codes; j++)
      if (ma->entries[i].protocol->code == codes[j])
        return &ma->entries[i];
  return NULL;
}

static const Entry *
find_first_ip (PhMultiaddr *ma)
{
  static const PhMultiaddrCode ip_codes[] = { PH_MULTIADDR_CODE_IP4, PH_MULTIADDR_CODE_IP6 };

  return find_first (ma, ip_codes, G_N_ELEMENTS (ip_codes));
}

gboolean
ph_multiaddr_get_ip (PhMultiaddr *ma, GInetAddress **address)
{
  const Entry *entry;

  g_return_val_if_fail (ma != NULL, FALSE);

  entry = find_first_ip (ma);
  if (entry == NULL)
    return FALSE;
  if (address)
    {
      const guint8 *data = g_bytes_get_data (ma->bytes, NULL);
      GSocketFamily family = entry->protocol->code == PH_MULTIADDR_CODE_IP4 ? G_SOCKET_FAMILY_IPV4
                                                                            : G_SOCKET_FAMILY_IPV6;

      *address = g_inet_address_new_from_bytes (data + entry->value_offset, family);
    }
  return TRUE;
}

GSocketFamily
ph_multiaddr_get_family (PhMultiaddr *ma)
{
  static const PhMultiaddrCode codes[] = {
    PH_MULTIADDR_CODE_IP4,  PH_MULTIADDR_CODE_IP6,  PH_MULTIADDR_CODE_DNS,
    PH_MULTIADDR_CODE_DNS4, PH_MULTIADDR_CODE_DNS6, PH_MULTIADDR_CODE_DNSADDR,
  };
  const Entry *entry;

  g_return_val_if_fail (ma != NULL, G_SOCKET_FAMILY_INVALID);

  entry = find_first (ma, codes, G_N_ELEMENTS (codes));
  if (entry == NULL)
    return G_SOCKET_FAMILY_INVALID;
  switch (entry->protocol->code)
    {
      case PH_MULTIADDR_CODE_IP4:
      case PH_MULTIADDR_CODE_DNS4:
        return G_SOCKET_FAMILY_IPV4;
      case PH_MULTIADDR_CODE_IP6:
      case PH_MULTIADDR_CODE_DNS6:
        return G_SOCKET_FAMILY_IPV6;
      default:
        return G_SOCKET_FAMILY_INVALID;
    }
}

static gboolean
get_port (PhMultiaddr *ma, PhMultiaddrCode code, guint16 *port)
{
  const Entry *entry = find_first (ma, &code, 1);
  const guint8 *value;

  if (entry == NULL)
    return FALSE;
  value = (const guint8 *) g_bytes_get_data (ma->bytes, NULL) + entry->value_offset;
  if (port)
    *port = (guint16) (value[0] << 8 | value[1]);
  return TRUE;
}

gboolean
ph_multiaddr_get_tcp_port (PhMultiaddr *ma, guint16 *port)
{
  g_return_val_if_fail (ma != NULL, FALSE);

  return get_port (ma, PH_MULTIADDR_CODE_TCP, port);
}

gboolean
ph_multiaddr_get_udp_port (PhMultiaddr *ma, guint16 *port)
{
  g_return_val_if_fail (ma != NULL, FALSE);

  return get_port (ma, PH_MULTIADDR_CODE_UDP, port);
}

static const Entry *
trailing_p2p (PhMultiaddr *ma)
{
  const Entry *last = &ma->entries[ma->n_entries - 1];

  return last->protocol->code == PH_MULTIADDR_CODE_P2P ? last : NULL;
}

const guint8 *
ph_multiaddr_get_peer_id_bytes (PhMultiaddr *ma, gsize *len)
{
  const Entry *entry;

  g_return_val_if_fail (ma != NULL, NULL);

  entry = trailing_p2p (ma);
  if (len)
    *len = entry ? entry->value_len : 0;
  if (entry == NULL)
    return NULL;
  return (const guint8 *) g_bytes_get_data (ma->bytes, NULL) + entry->value_offset;
}

PhMultiaddr *
ph_multiaddr_with_peer_id (PhMultiaddr *ma, const guint8 *peer_id, gsize len, GError **error)
{
  g_autoptr (GByteArray) out = NULL;
  const guint8 *current;
  gsize current_len;

  g_return_val_if_fail (ma != NULL, NULL);
  g_return_val_if_fail (peer_id != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_peer_id (peer_id, len, error))
    return NULL;

  current = ph_multiaddr_get_peer_id_bytes (ma, &current_len);
  if (current != NULL)
    {
      if (current_len == len && memcmp (current, peer_id, len) == 0)
        return ph_multiaddr_ref (ma);
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_PEER_MISMATCH,
                           "the address already names another peer");
      return NULL;
    }

  out = g_byte_array_new ();
  g_byte_array_append (out, g_bytes_get_data (ma->bytes, NULL), g_bytes_get_size (ma->bytes));
  ph_varint_append (out, PH_MULTIADDR_CODE_P2P);
  append_sized (out, peer_id, len);
  return new_from_byte_array (out, error);
}

PhMultiaddr *
ph_multiaddr_without_peer_id (PhMultiaddr *ma)
{
  const Entry *entry;
  gsize end;

  g_return_val_if_fail (ma != NULL, NULL);

  entry = trailing_p2p (ma);
  if (entry == NULL)
    return ph_multiaddr_ref (ma);
  if (ma->n_entries == 1)
    return NULL;

  /* The previous component ends where this one's code starts. */
  end = ma->entries[ma->n_entries - 2].value_offset + ma->entries[ma->n_entries - 2].value_len;
  return ph_multiaddr_new_from_bytes (g_bytes_get_data (ma->bytes, NULL), end, NULL);
}

PhMultiaddr *
ph_multiaddr_new_tcp (GInetAddress *ip, guint16 port)
{
  g_autoptr (GByteArray) out = NULL;
  const guint8 *bytes;
  gsize size;
  guint8 be_port[2] = { port >> 8, port & 0xff };

  g_return_val_if_fail (G_IS_INET_ADDRESS (ip), NULL);

  bytes = g_inet_address_to_bytes (ip);
  size = g_inet_address_get_native_size (ip);

  out = g_byte_array_new ();
  if (size == 16 && g_inet_address_get_family (ip) == G_SOCKET_FAMILY_IPV6
      && memcmp (bytes, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
    {
      bytes += 12;
      size = 4;
    }
  ph_varint_append (out, size == 4 ? PH_MULTIADDR_CODE_IP4 : PH_MULTIADDR_CODE_IP6);
  g_byte_array_append (out, bytes, size);
  ph_varint_append (out, PH_MULTIADDR_CODE_TCP);
  g_byte_array_append (out, be_port, 2);
  return ph_multiaddr_new_from_bytes (out->data, out->len, NULL);
}

GSocketAddress *
ph_multiaddr_to_socket_address (PhMultiaddr *ma, GError **error)
{
  g_autoptr (GInetAddress) ip = NULL;
  guint16 port;
  gsize n;

  g_return_val_if_fail (ma != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  n = ma->n_entries;
  if (n < 2 || n > 3
      || (ma->entries[0].protocol->code != PH_MULTIADDR_CODE_IP4
          && ma->entries[0].protocol->code != PH_MULTIADDR_CODE_IP6)
      || ma->entries[1].protocol->code != PH_MULTIADDR_CODE_TCP
      || (n == 3 && ma->entries[2].protocol->code != PH_MULTIADDR_CODE_P2P))
    {
      g_autofree char *text = ph_multiaddr_to_string (ma);
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED, "%s is not a plain TCP address",
                   text);
      return NULL;
    }

  ph_multiaddr_get_ip (ma, &ip);
  ph_multiaddr_get_tcp_port (ma, &port);
  return g_inet_socket_address_new (ip, port);
}

static const Entry *
first_dns (PhMultiaddr *ma)
{
  const Entry *first = &ma->entries[0];

  return first->protocol->kind == VALUE_DNS ? first : NULL;
}

gboolean
ph_multiaddr_is_dns (PhMultiaddr *ma)
{
  g_return_val_if_fail (ma != NULL, FALSE);

  return first_dns (ma) != NULL;
}

char *
ph_multiaddr_get_dns_name (PhMultiaddr *ma, PhMultiaddrCode *code)
{
  const Entry *entry;

  g_return_val_if_fail (ma != NULL, NULL);

  entry = first_dns (ma);
  if (entry == NULL)
    return NULL;
  if (code)
    *code = entry->protocol->code;
  return g_strndup ((const char *) g_bytes_get_data (ma->bytes, NULL) + entry->value_offset,
                    entry->value_len);
}

/* Classification ------------------------------------------------------------------------------- */

/* TRUE when `name` is `domain` or a subdomain of it. */
static gboolean
name_within (const char *name, const char *domain)
{
  gsize n = strlen (name), d = strlen (domain);

  if (n == d)
    return strcmp (name, domain) == 0;
  return n > d && name[n - d - 1] == '.' && strcmp (name + n - d, domain) == 0;
}

static PhIpScope
classify_dns_name (const guint8 *value, gsize len)
{
  g_autofree char *name = g_ascii_strdown ((const char *) value, len);
  gsize n = strlen (name);

  if (n > 1 && name[n - 1] == '.')
    name[n - 1] = '\0';

  if (name_within (name, "localhost")) /* RFC 6761 §6.3 */
    return PH_IP_SCOPE_LOOPBACK;
  if (name_within (name, "local")) /* RFC 6762: multicast DNS, this link only */
    return PH_IP_SCOPE_LINK_LOCAL;
  if (strchr (name, '.') == NULL || name_within (name, "home.arpa") /* RFC 8375 */
      || name_within (name, "lan") || name_within (name, "internal"))
    return PH_IP_SCOPE_PRIVATE;
  if (name_within (name, "example") || name_within (name, "example.com")
      || name_within (name, "example.net") || name_within (name, "example.org")) /* §6.5 */
    return PH_IP_SCOPE_DOCUMENTATION;
  if (name_within (name, "test") || name_within (name, "invalid")) /* §6.2, §6.4 */
    return PH_IP_SCOPE_RESERVED;
  return PH_IP_SCOPE_PUBLIC;
}

PhIpScope
ph_multiaddr_classify (PhMultiaddr *ma)
{
  static const PhMultiaddrCode codes[] = {
    PH_MULTIADDR_CODE_IP4,  PH_MULTIADDR_CODE_IP6,  PH_MULTIADDR_CODE_DNS,
    PH_MULTIADDR_CODE_DNS4, PH_MULTIADDR_CODE_DNS6, PH_MULTIADDR_CODE_DNSADDR,
  };
  const Entry *entry;
  const guint8 *value;

  g_return_val_if_fail (ma != NULL, PH_IP_SCOPE_RESERVED);

  entry = find_first (ma, codes, G_N_ELEMENTS (codes));
  if (entry == NULL)
    return PH_IP_SCOPE_UNSPECIFIED;

  value = (const guint8 *) g_bytes_get_data (ma->bytes, NULL) + entry->value_offset;
  if (entry->protocol->kind == VALUE_DNS)
    return classify_dns_name (value, entry->value_len);
  return ph_ip_scope_classify (value, entry->value_len);
}
