/* ph-identify.c: libp2p identify (libp2p/specs identify/README.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ph-identify.h"

#include <string.h>

#include "identify.pb-c.h"
#include "ph-p2p-error.h"
#include "ph-varint.h"

PhIdentifyInfo *
ph_identify_info_new (void)
{
  PhIdentifyInfo *info = g_new0 (PhIdentifyInfo, 1);

  info->listen_addrs = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_multiaddr_unref);
  info->protocols = g_ptr_array_new_with_free_func (g_free);
  return info;
}

void
ph_identify_info_free (PhIdentifyInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->protocol_version);
  g_free (info->agent_version);
  g_clear_pointer (&info->public_key, ph_public_key_unref);
  g_clear_pointer (&info->listen_addrs, g_ptr_array_unref);
  g_clear_pointer (&info->observed_addr, ph_multiaddr_unref);
  g_clear_pointer (&info->protocols, g_ptr_array_unref);
  g_clear_pointer (&info->signed_peer_record, g_bytes_unref);
  g_free (info);
}

gboolean
ph_identify_info_has_protocol (const PhIdentifyInfo *info, const char *protocol)
{
  g_return_val_if_fail (info != NULL, FALSE);
  g_return_val_if_fail (protocol != NULL, FALSE);

  for (guint i = 0; i < info->protocols->len; i++)
    {
      if (strcmp (g_ptr_array_index (info->protocols, i), protocol) == 0)
        return TRUE;
    }
  return FALSE;
}

gboolean
ph_identify_info_check_peer (const PhIdentifyInfo *info, const PhPeerId *remote, GError **error)
{
  g_autoptr (PhPeerId) claimed = NULL;
  g_autofree char *claimed_text = NULL;
  g_autofree char *remote_text = NULL;

  g_return_val_if_fail (info != NULL, FALSE);
  g_return_val_if_fail (remote != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (info->public_key == NULL || ph_peer_id_matches_key (remote, info->public_key))
    return TRUE;

  claimed = ph_peer_id_from_public_key (info->public_key);
  claimed_text = claimed ? ph_peer_id_to_string (claimed) : g_strdup ("?");
  remote_text = ph_peer_id_to_string (remote);
  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PEER_MISMATCH,
               "identify public key belongs to %s, but the connection is with %s", claimed_text,
               remote_text);
  return FALSE;
}

/* --- Encoding ------------------------------------------------------------------------------- */

static void
set_string (protobuf_c_boolean *has, ProtobufCBinaryData *field, const char *value)
{
  if (value == NULL)
    return;
  *has = TRUE;
  field->data = (guint8 *) value;
  field->len = strlen (value);
}

GBytes *
ph_identify_info_encode (const PhIdentifyInfo *info)
{
  PhIdentify__Identify message = PH_IDENTIFY__IDENTIFY__INIT;
  g_autofree ProtobufCBinaryData *addrs = NULL;
  g_autofree ProtobufCBinaryData *protocols = NULL;
  g_autoptr (GBytes) key = NULL;
  guint8 *buffer;
  gsize len;

  g_return_val_if_fail (info != NULL, NULL);

  /* The message borrows every byte it points at; nothing here outlives this function. */
  set_string (&message.has_protocolversion, &message.protocolversion, info->protocol_version);
  set_string (&message.has_agentversion, &message.agentversion, info->agent_version);

  if (info->public_key != NULL)
    {
      key = ph_public_key_marshal (info->public_key);
      message.has_publickey = TRUE;
      message.publickey.data = (guint8 *) g_bytes_get_data (key, &message.publickey.len);
    }

  addrs = g_new0 (ProtobufCBinaryData, info->listen_addrs->len + 1);
  for (guint i = 0; i < info->listen_addrs->len; i++)
    addrs[i].data = (guint8 *) ph_multiaddr_peek_bytes (g_ptr_array_index (info->listen_addrs, i),
                                                        &addrs[i].len);
  message.n_listenaddrs = info->listen_addrs->len;
  message.listenaddrs = addrs;

  if (info->observed_addr != NULL)
    {
      message.has_observedaddr = TRUE;
      message.observedaddr.data
          = (guint8 *) ph_multiaddr_peek_bytes (info->observed_addr, &message.observedaddr.len);
    }

  protocols = g_new0 (ProtobufCBinaryData, info->protocols->len + 1);
  for (guint i = 0; i < info->protocols->len; i++)
    {
      const char *protocol = g_ptr_array_index (info->protocols, i);

      protocols[i].data = (guint8 *) protocol;
      protocols[i].len = strlen (protocol);
    }
  message.n_protocols = info->protocols->len;
  message.protocols = protocols;

  if (info->signed_peer_record != NULL)
    {
      message.has_signedpeerrecord = TRUE;
      message.signedpeerrecord.data
          = (guint8 *) g_bytes_get_data (info->signed_peer_record, &message.signedpeerrecord.len);
    }

  len = ph_identify__identify__get_packed_size (&message);
  buffer = g_malloc (len ? len : 1);
  ph_identify__identify__pack (&message, buffer);
  return g_bytes_new_take (buffer, len);
}

/* --- Decoding ------------------------------------------------------------------------------- */

/* The parts seen so far, merged. The key is parsed once at the end: a later part may replace it. */
typedef struct
{
  PhIdentifyInfo *info;
  GBytes *public_key;
  guint n_listen_addrs; /* kept and skipped */
} Merge;

/* A string field as the spec means it: UTF-8 text, which a NUL would cut short in C. */
static char *
take_string (const ProtobufCBinaryData *field, gsize max_len, const char *what, GError **error)
{
  if (field->len > max_len)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "identify %s of %" G_GSIZE_FORMAT " bytes is over the limit of %" G_GSIZE_FORMAT,
                   what, field->len, max_len);
      return NULL;
    }
  /* protobuf-c leaves data NULL for an empty field, and g_strndup (NULL, 0) is NULL. */
  if (field->len == 0)
    return g_strdup ("");
  if (memchr (field->data, '\0', field->len) != NULL
      || !g_utf8_validate_len ((const char *) field->data, field->len, NULL))
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                   "identify %s is not UTF-8 text without NULs", what);
      return NULL;
    }
  return g_strndup ((const char *) field->data, field->len);
}

static gboolean
replace_string (char **slot, const ProtobufCBinaryData *field, const char *what, GError **error)
{
  char *value = take_string (field, PH_IDENTIFY_MAX_VERSION_LEN, what, error);

  if (value == NULL)
    return FALSE;
  g_free (*slot);
  *slot = value;
  return TRUE;
}

static void
merge_observed_addr (PhIdentifyInfo *info, const ProtobufCBinaryData *field)
{
  g_clear_pointer (&info->observed_addr, ph_multiaddr_unref);
  info->observed_addr = ph_multiaddr_new_from_bytes (field->data, field->len, NULL);
  info->observed_addr_skipped = info->observed_addr == NULL;
}

static gboolean
merge_listen_addrs (Merge *merge, const PhIdentify__Identify *message, GError **error)
{
  if (message->n_listenaddrs > PH_IDENTIFY_MAX_LISTEN_ADDRS - merge->n_listen_addrs)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT,
                   "identify lists more than %d listen addresses", PH_IDENTIFY_MAX_LISTEN_ADDRS);
      return FALSE;
    }
  merge->n_listen_addrs += message->n_listenaddrs;

  for (gsize i = 0; i < message->n_listenaddrs; i++)
    {
      const ProtobufCBinaryData *field = &message->listenaddrs[i];
      PhMultiaddr *addr = ph_multiaddr_new_from_bytes (field->data, field->len, NULL);

      /* Peers list transports we do not know (webtransport, webrtc, certhash…): not an error. */
      if (addr == NULL)
        merge->info->n_skipped_listen_addrs++;
      else
        g_ptr_array_add (merge->info->listen_addrs, addr);
    }
  return TRUE;
}

static gboolean
merge_protocols (PhIdentifyInfo *info, const PhIdentify__Identify *message, GError **error)
{
  if (message->n_protocols > PH_IDENTIFY_MAX_PROTOCOLS - info->protocols->len)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT, "identify lists more than %d protocols",
                   PH_IDENTIFY_MAX_PROTOCOLS);
      return FALSE;
    }

  for (gsize i = 0; i < message->n_protocols; i++)
    {
      char *protocol
          = take_string (&message->protocols[i], PH_IDENTIFY_MAX_PROTOCOL_LEN, "protocol", error);

      if (protocol == NULL)
        return FALSE;
      g_ptr_array_add (info->protocols, protocol);
    }
  return TRUE;
}

static gboolean
merge_message (Merge *merge, const PhIdentify__Identify *message, GError **error)
{
  PhIdentifyInfo *info = merge->info;

  if (message->has_protocolversion
      && !replace_string (&info->protocol_version, &message->protocolversion, "protocolVersion",
                          error))
    return FALSE;
  if (message->has_agentversion
      && !replace_string (&info->agent_version, &message->agentversion, "agentVersion", error))
    return FALSE;
  if (message->has_publickey)
    {
      g_clear_pointer (&merge->public_key, g_bytes_unref);
      merge->public_key = g_bytes_new (message->publickey.data, message->publickey.len);
    }
  if (!merge_listen_addrs (merge, message, error))
    return FALSE;
  if (message->has_observedaddr)
    merge_observed_addr (info, &message->observedaddr);
  if (!merge_protocols (info, message, error))
    return FALSE;
  if (message->has_signedpeerrecord)
    {
      g_clear_pointer (&info->signed_peer_record, g_bytes_unref);
      info->signed_peer_record
          = g_bytes_new (message->signedpeerrecord.data, message->signedpeerrecord.len);
    }
  return TRUE;
}

static gboolean
merge_part (Merge *merge, const guint8 *data, gsize len, GError **error)
{
  PhIdentify__Identify *message;
  gboolean ok;

  message = ph_identify__identify__unpack (NULL, len, data);
  if (message == NULL)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "identify message does not parse");
      return FALSE;
    }
  ok = merge_message (merge, message, error);
  ph_identify__identify__free_unpacked (message, NULL);
  return ok;
}

static PhIdentifyInfo *
merge_finish (Merge *merge, GError **error)
{
  g_autoptr (PhIdentifyInfo) info = g_steal_pointer (&merge->info);
  g_autoptr (GBytes) key = g_steal_pointer (&merge->public_key);
  gsize key_len;
  const guint8 *key_data;

  /* An empty key is what go-libp2p reads as "no key" (id.go consumeReceivedPubKey). */
  if (key == NULL || g_bytes_get_size (key) == 0)
    return g_steal_pointer (&info);

  key_data = g_bytes_get_data (key, &key_len);
  info->public_key = ph_public_key_unmarshal (key_data, key_len, error);
  if (info->public_key == NULL)
    {
      g_prefix_error (error, "identify public key: ");
      return NULL;
    }
  return g_steal_pointer (&info);
}

static void
merge_clear (Merge *merge)
{
  g_clear_pointer (&merge->info, ph_identify_info_free);
  g_clear_pointer (&merge->public_key, g_bytes_unref);
}

static gboolean
check_total_size (gsize len, GError **error)
{
  if (len <= PH_IDENTIFY_MAX_SIZE)
    return TRUE;
  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
               "identify message of %" G_GSIZE_FORMAT " bytes is over the limit of %d", len,
               PH_IDENTIFY_MAX_SIZE);
  return FALSE;
}

PhIdentifyInfo *
ph_identify_info_decode (const guint8 *data, gsize len, GError **error)
{
  Merge merge = { ph_identify_info_new (), NULL, 0 };
  PhIdentifyInfo *info = NULL;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (check_total_size (len, error) && merge_part (&merge, data, len, error))
    info = merge_finish (&merge, error);
  merge_clear (&merge);
  return info;
}

static gboolean
merge_parts (Merge *merge, const guint8 *data, gsize len, GError **error)
{
  gsize offset = 0;
  guint n_parts = 0;

  if (len == 0)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                           "identify stream ended before any message");
      return FALSE;
    }

  while (offset < len)
    {
      guint64 part_len;
      gsize prefix_len;

      if (n_parts == PH_IDENTIFY_MAX_PARTS)
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT,
                       "identify message in more than %d parts", PH_IDENTIFY_MAX_PARTS);
          return FALSE;
        }
      if (!ph_varint_decode (data + offset, len - offset, &part_len, &prefix_len, error))
        {
          g_prefix_error (error, "identify part %u length: ", n_parts + 1);
          return FALSE;
        }
      offset += prefix_len;
      if (part_len > len - offset)
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                       "identify part %u of %" G_GUINT64_FORMAT
                       " bytes cut short after %" G_GSIZE_FORMAT,
                       n_parts + 1, part_len, len - offset);
          return FALSE;
        }
      if (!merge_part (merge, data + offset, (gsize) part_len, error))
        return FALSE;
      offset += (gsize) part_len;
      n_parts++;
    }
  return TRUE;
}

PhIdentifyInfo *
ph_identify_info_decode_parts (const guint8 *data, gsize len, GError **error)
{
  Merge merge = { ph_identify_info_new (), NULL, 0 };
  PhIdentifyInfo *info = NULL;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (check_total_size (len, error) && merge_parts (&merge, data, len, error))
    info = merge_finish (&merge, error);
  merge_clear (&merge);
  return info;
}

/* --- Over a stream -------------------------------------------------------------------------- */

PhIdentifyInfo *
ph_identify_request (PhDuplex *stream, gint64 deadline, GCancellable *cancellable, GError **error)
{
  g_autoptr (GBytes) received = NULL;
  PhIdentifyInfo *info;
  const guint8 *data;
  gsize len;

  g_return_val_if_fail (stream != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* identify/README.md §identify: the responder sends and closes, so the end of the stream is the
   * end of the message, however many parts it came in. */
  received = ph_duplex_read_to_end (stream, PH_IDENTIFY_MAX_SIZE, deadline, cancellable, error);
  if (received == NULL)
    return NULL;
  data = g_bytes_get_data (received, &len);
  info = ph_identify_info_decode_parts (data, len, error);
  if (info == NULL)
    return NULL;

  /* We had nothing to say. The answer is complete whether or not our FIN gets out, so a failure
   * here (the connection going away) does not undo it. */
  ph_duplex_close_write (stream, deadline, cancellable, NULL);
  return info;
}

gboolean
ph_identify_respond (PhDuplex *stream, const PhIdentifyInfo *ours, gint64 deadline,
                     GCancellable *cancellable, GError **error)
{
  g_autoptr (GBytes) message = NULL;
  const guint8 *data;
  gsize len;

  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (ours != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  message = ph_identify_info_encode (ours);
  data = g_bytes_get_data (message, &len);
  if (len > PH_IDENTIFY_MAX_OWN_SIZE)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "our identify message of %" G_GSIZE_FORMAT " bytes is over the %d peers accept",
                   len, PH_IDENTIFY_MAX_OWN_SIZE);
      return FALSE;
    }
  if (!ph_duplex_write_frame (stream, data, len, deadline, cancellable, error))
    return FALSE;
  return ph_duplex_close_write (stream, deadline, cancellable, error);
}
