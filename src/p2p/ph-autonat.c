/* ph-autonat.c: AutoNAT v2 and v1 clients (libp2p/specs autonat/autonat-v2.md, autonat-v1.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ph-autonat.h"

#include <string.h>

#include <openssl/rand.h>

#include "autonat_v1.pb-c.h"
#include "autonat_v2.pb-c.h"
#include "ph-p2p-error.h"
#include "ph-varint.h"

/* --- Framing ---------------------------------------------------------------------------------- */

static GBytes *
pack_v2_message (const Ph__Autonat__V2__Message *message)
{
  gsize len = ph__autonat__v2__message__get_packed_size (message);
  guint8 *buffer = g_malloc (len ? len : 1);

  ph__autonat__v2__message__pack (message, buffer);
  return g_bytes_new_take (buffer, len);
}

static gboolean
write_bytes_frame (PhDuplex *stream, GBytes *bytes, gint64 deadline, GCancellable *cancellable,
                   GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  return ph_duplex_write_frame (stream, data, len, deadline, cancellable, error);
}

/* End of stream, a reset, or the connection going away: all the same to someone waiting for an
 * answer, and different from bytes that make no sense. */
static gboolean
is_closed_error (const GError *error)
{
  return g_error_matches (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
}

/* One length-prefixed message of at most max_len bytes. When the stream ends (or is reset)
 * before the first byte, returns NULL with *closed set and no error: the peer chose not to
 * answer. Ending anywhere later cuts a message short: TRUNCATED. */
static GBytes *
read_message (PhDuplex *stream, gsize max_len, gboolean *closed, gint64 deadline,
              GCancellable *cancellable, GError **error)
{
  guint8 prefix[PH_VARINT_MAX_LEN];
  g_autofree guint8 *payload = NULL;
  g_autoptr (GError) local_error = NULL;
  guint64 len = 0;

  *closed = FALSE;

  /* Byte by byte: what follows the prefix is the payload, read exactly below. */
  for (gsize i = 0; i < PH_VARINT_MAX_LEN; i++)
    {
      gssize n = ph_duplex_read (stream, &prefix[i], 1, deadline, cancellable, &local_error);

      if (n <= 0 && i == 0 && (n == 0 || is_closed_error (local_error)))
        {
          *closed = TRUE;
          return NULL;
        }
      if (n < 0)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      if (n == 0)
        {
          g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                               "end of stream inside a length prefix");
          return NULL;
        }
      if (ph_varint_decode (prefix, i + 1, &len, NULL, &local_error))
        break;
      if (!g_error_matches (local_error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "length prefix: ");
          return NULL;
        }
      g_clear_error (&local_error);
    }

  if (len > max_len)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "message of %" G_GUINT64_FORMAT " bytes, over the limit of %" G_GSIZE_FORMAT,
                   len, max_len);
      return NULL;
    }

  payload = g_malloc (len ? len : 1);
  if (!ph_duplex_read_exact (stream, payload, len, deadline, cancellable, &local_error))
    {
      if (is_closed_error (local_error))
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                       "stream closed inside a message of %" G_GUINT64_FORMAT " bytes", len);
          return NULL;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&payload), len);
}

/* --- v2 codec --------------------------------------------------------------------------------- */

const char *
ph_autonat_v2_response_status_to_string (PhAutonatV2ResponseStatus status)
{
  switch (status)
    {
      case PH_AUTONAT_V2_RESPONSE_E_INTERNAL_ERROR:
        return "E_INTERNAL_ERROR";
      case PH_AUTONAT_V2_RESPONSE_E_REQUEST_REJECTED:
        return "E_REQUEST_REJECTED";
      case PH_AUTONAT_V2_RESPONSE_E_DIAL_REFUSED:
        return "E_DIAL_REFUSED";
      case PH_AUTONAT_V2_RESPONSE_OK:
        return "OK";
      default:
        return "UNKNOWN";
    }
}

const char *
ph_autonat_v2_dial_status_to_string (PhAutonatV2DialStatus status)
{
  switch (status)
    {
      case PH_AUTONAT_V2_DIAL_UNUSED:
        return "UNUSED";
      case PH_AUTONAT_V2_DIAL_E_DIAL_ERROR:
        return "E_DIAL_ERROR";
      case PH_AUTONAT_V2_DIAL_E_DIAL_BACK_ERROR:
        return "E_DIAL_BACK_ERROR";
      case PH_AUTONAT_V2_DIAL_OK:
        return "OK";
      default:
        return "UNKNOWN";
    }
}

const char *
ph_autonat_v2_outcome_to_string (PhAutonatV2Outcome outcome)
{
  switch (outcome)
    {
      case PH_AUTONAT_V2_OUTCOME_RESPONSE:
        return "RESPONSE";
      case PH_AUTONAT_V2_OUTCOME_NO_RESPONSE:
        return "NO_RESPONSE";
      case PH_AUTONAT_V2_OUTCOME_DIAL_DATA_REFUSED:
        return "DIAL_DATA_REFUSED";
      default:
        return "UNKNOWN";
    }
}

static gboolean
v2_response_status_is_known (gint value)
{
  return value == PH_AUTONAT_V2_RESPONSE_E_INTERNAL_ERROR
         || value == PH_AUTONAT_V2_RESPONSE_E_REQUEST_REJECTED
         || value == PH_AUTONAT_V2_RESPONSE_E_DIAL_REFUSED || value == PH_AUTONAT_V2_RESPONSE_OK;
}

static gboolean
v2_dial_status_is_known (gint value)
{
  return value == PH_AUTONAT_V2_DIAL_UNUSED || value == PH_AUTONAT_V2_DIAL_E_DIAL_ERROR
         || value == PH_AUTONAT_V2_DIAL_E_DIAL_BACK_ERROR || value == PH_AUTONAT_V2_DIAL_OK;
}

GBytes *
ph_autonat_v2_dial_request_encode (PhMultiaddr *addr, guint64 nonce)
{
  Ph__Autonat__V2__Message message = PH__AUTONAT__V2__MESSAGE__INIT;
  Ph__Autonat__V2__DialRequest request = PH__AUTONAT__V2__DIAL_REQUEST__INIT;
  ProtobufCBinaryData addr_bytes;

  g_return_val_if_fail (addr != NULL, NULL);

  addr_bytes.data = (guint8 *) ph_multiaddr_peek_bytes (addr, &addr_bytes.len);
  request.n_addrs = 1;
  request.addrs = &addr_bytes;
  request.nonce = nonce;
  message.msg_case = PH__AUTONAT__V2__MESSAGE__MSG_DIAL_REQUEST;
  message.dialrequest = &request;
  return pack_v2_message (&message);
}

static gboolean
decode_dial_response (const Ph__Autonat__V2__DialResponse *response,
                      PhAutonatV2ServerMessage *message, GError **error)
{
  gint status = (gint) response->status;
  gint dial_status = (gint) response->dialstatus;

  /* autonat-v2.md §Requirements for ResponseStatus: discard codes we do not understand. */
  if (!v2_response_status_is_known (status))
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                   "DialResponse with unknown status %d", status);
      return FALSE;
    }
  /* dialStatus is meaningless unless the status is OK (§Requirements for DialStatus). */
  if (!v2_dial_status_is_known (dial_status))
    {
      if (status == PH_AUTONAT_V2_RESPONSE_OK)
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                       "DialResponse with unknown dialStatus %d", dial_status);
          return FALSE;
        }
      dial_status = PH_AUTONAT_V2_DIAL_UNUSED;
    }

  message->kind = PH_AUTONAT_V2_SERVER_DIAL_RESPONSE;
  message->status = (PhAutonatV2ResponseStatus) status;
  message->dial_status = (PhAutonatV2DialStatus) dial_status;
  message->addr_idx = response->addridx;
  return TRUE;
}

gboolean
ph_autonat_v2_server_message_decode (const guint8 *data, gsize len,
                                     PhAutonatV2ServerMessage *message, GError **error)
{
  Ph__Autonat__V2__Message *decoded;
  gboolean ok = FALSE;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (message != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (message, 0, sizeof *message);
  decoded = ph__autonat__v2__message__unpack (NULL, len, data);
  if (decoded == NULL)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "not an AutoNAT v2 Message protobuf");
      return FALSE;
    }

  switch (decoded->msg_case)
    {
      case PH__AUTONAT__V2__MESSAGE__MSG_DIAL_RESPONSE:
        ok = decode_dial_response (decoded->dialresponse, message, error);
        break;
      case PH__AUTONAT__V2__MESSAGE__MSG_DIAL_DATA_REQUEST:
        message->kind = PH_AUTONAT_V2_SERVER_DIAL_DATA_REQUEST;
        message->addr_idx = decoded->dialdatarequest->addridx;
        message->num_bytes = decoded->dialdatarequest->numbytes;
        ok = TRUE;
        break;
      case PH__AUTONAT__V2__MESSAGE__MSG_DIAL_REQUEST:
      case PH__AUTONAT__V2__MESSAGE__MSG_DIAL_DATA_RESPONSE:
        g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                             "the server sent a client's message");
        break;
      case PH__AUTONAT__V2__MESSAGE__MSG__NOT_SET:
      default:
        g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                             "the server sent a Message without content");
        break;
    }

  ph__autonat__v2__message__free_unpacked (decoded, NULL);
  return ok;
}

GBytes *
ph_autonat_v2_dial_back_encode (guint64 nonce)
{
  Ph__Autonat__V2__DialBack dial_back = PH__AUTONAT__V2__DIAL_BACK__INIT;
  gsize len;
  guint8 *buffer;

  dial_back.nonce = nonce;
  len = ph__autonat__v2__dial_back__get_packed_size (&dial_back);
  buffer = g_malloc (len ? len : 1);
  ph__autonat__v2__dial_back__pack (&dial_back, buffer);
  return g_bytes_new_take (buffer, len);
}

gboolean
ph_autonat_v2_dial_back_decode (const guint8 *data, gsize len, guint64 *nonce, GError **error)
{
  Ph__Autonat__V2__DialBack *decoded;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (nonce != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  decoded = ph__autonat__v2__dial_back__unpack (NULL, len, data);
  if (decoded == NULL)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "not an AutoNAT v2 DialBack protobuf");
      return FALSE;
    }
  *nonce = decoded->nonce;
  ph__autonat__v2__dial_back__free_unpacked (decoded, NULL);
  return TRUE;
}

/* --- v2 client -------------------------------------------------------------------------------- */

/* Reads the server's next message; *closed (and TRUE) when it closed instead. */
static gboolean
read_server_message (PhDuplex *stream, PhAutonatV2ServerMessage *message, gboolean *closed,
                     gint64 deadline, GCancellable *cancellable, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  const guint8 *data;
  gsize len;

  bytes = read_message (stream, PH_AUTONAT_MAX_MESSAGE_SIZE, closed, deadline, cancellable, error);
  if (bytes == NULL)
    return *closed;
  data = g_bytes_get_data (bytes, &len);
  return ph_autonat_v2_server_message_decode (data, len, message, error);
}

static GBytes *
encode_dial_data_chunk (const guint8 *zeros, gsize n)
{
  Ph__Autonat__V2__Message message = PH__AUTONAT__V2__MESSAGE__INIT;
  Ph__Autonat__V2__DialDataResponse response = PH__AUTONAT__V2__DIAL_DATA_RESPONSE__INIT;

  response.data.data = (guint8 *) zeros;
  response.data.len = n;
  message.msg_case = PH__AUTONAT__V2__MESSAGE__MSG_DIAL_DATA_RESPONSE;
  message.dialdataresponse = &response;
  return pack_v2_message (&message);
}

/* autonat-v2.md §Amplification Attack Prevention: only `data` bytes count, at most 4096 in a
 * message, and the last may overshoot. go's server also wants at least 100 in every message but
 * the last, so a short remainder is rounded up rather than sent small. */
static gboolean
send_dial_data (PhDuplex *stream, guint64 num_bytes, guint64 *sent, gint64 deadline,
                GCancellable *cancellable, GError **error)
{
  static const guint8 zeros[PH_AUTONAT_V2_DIAL_DATA_CHUNK_MAX];
  g_autoptr (GBytes) full_chunk = encode_dial_data_chunk (zeros, sizeof zeros);

  while (*sent < num_bytes)
    {
      g_autoptr (GBytes) short_chunk = NULL;
      guint64 n = MIN (num_bytes - *sent, (guint64) PH_AUTONAT_V2_DIAL_DATA_CHUNK_MAX);

      n = MAX (n, (guint64) PH_AUTONAT_V2_DIAL_DATA_CHUNK_MIN);
      if (n < PH_AUTONAT_V2_DIAL_DATA_CHUNK_MAX)
        short_chunk = encode_dial_data_chunk (zeros, (gsize) n);
      if (!write_bytes_frame (stream, short_chunk ? short_chunk : full_chunk, deadline, cancellable,
                              error))
        {
          g_prefix_error (error, "sending dial data after %" G_GUINT64_FORMAT " bytes: ", *sent);
          return FALSE;
        }
      *sent += n;
    }
  return TRUE;
}

/* The exchange after our DialRequest: an optional DialDataRequest, then the DialResponse. */
static gboolean
v2_read_answer (PhDuplex *stream, gsize max_dial_data, PhAutonatV2Result *result,
                PhAutonatV2ServerMessage *response, gint64 deadline, GCancellable *cancellable,
                GError **error)
{
  gboolean closed;

  if (!read_server_message (stream, response, &closed, deadline, cancellable, error))
    return FALSE;
  if (closed || response->kind == PH_AUTONAT_V2_SERVER_DIAL_RESPONSE)
    {
      result->outcome = closed ? PH_AUTONAT_V2_OUTCOME_NO_RESPONSE : PH_AUTONAT_V2_OUTCOME_RESPONSE;
      return TRUE;
    }

  result->dial_data_requested = response->num_bytes;
  if (response->addr_idx != 0)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                   "DialDataRequest for address %u, but the request had one address",
                   response->addr_idx);
      return FALSE;
    }
  if (response->num_bytes > max_dial_data)
    {
      /* §Amplification Attack Prevention: the client may reject the cost and reset. */
      result->outcome = PH_AUTONAT_V2_OUTCOME_DIAL_DATA_REFUSED;
      return TRUE;
    }
  if (!send_dial_data (stream, response->num_bytes, &result->dial_data_sent, deadline, cancellable,
                       error))
    return FALSE;

  if (!read_server_message (stream, response, &closed, deadline, cancellable, error))
    return FALSE;
  if (closed)
    {
      result->outcome = PH_AUTONAT_V2_OUTCOME_NO_RESPONSE;
      return TRUE;
    }
  if (response->kind != PH_AUTONAT_V2_SERVER_DIAL_RESPONSE)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                           "a second DialDataRequest where the DialResponse was due");
      return FALSE;
    }
  result->outcome = PH_AUTONAT_V2_OUTCOME_RESPONSE;
  return TRUE;
}

/* How the response fits our request: one address, so an OK can only be about address 0, and an
 * OK must say how the dial went (go's client rejects the same). */
static gboolean
v2_check_response (const PhAutonatV2ServerMessage *response, GError **error)
{
  if (response->status != PH_AUTONAT_V2_RESPONSE_OK)
    return TRUE;
  if (response->addr_idx != 0)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                   "DialResponse OK for address %u, but the request had one address",
                   response->addr_idx);
      return FALSE;
    }
  if (response->dial_status == PH_AUTONAT_V2_DIAL_UNUSED)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                           "DialResponse OK with dialStatus UNUSED");
      return FALSE;
    }
  return TRUE;
}

gboolean
ph_autonat_v2_request (PhDuplex *stream, PhMultiaddr *addr, guint64 nonce, gsize max_dial_data,
                       PhAutonatV2Result *result, gint64 deadline, GCancellable *cancellable,
                       GError **error)
{
  g_autoptr (GBytes) request = NULL;
  PhAutonatV2ServerMessage response = { 0 };

  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (addr != NULL, FALSE);
  g_return_val_if_fail (result != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (result, 0, sizeof *result);
  request = ph_autonat_v2_dial_request_encode (addr, nonce);
  if (!write_bytes_frame (stream, request, deadline, cancellable, error))
    {
      g_prefix_error (error, "autonat v2: sending DialRequest: ");
      return FALSE;
    }

  if (!v2_read_answer (stream, max_dial_data, result, &response, deadline, cancellable, error)
      || (result->outcome == PH_AUTONAT_V2_OUTCOME_RESPONSE
          && !v2_check_response (&response, error)))
    {
      g_prefix_error (error, "autonat v2: ");
      return FALSE;
    }
  /* A refused DialDataRequest is left open for the caller's reset (§Amplification Attack
   * Prevention: the client resets the stream). */
  if (result->outcome == PH_AUTONAT_V2_OUTCOME_DIAL_DATA_REFUSED)
    return TRUE;

  if (result->outcome == PH_AUTONAT_V2_OUTCOME_RESPONSE)
    {
      result->status = response.status;
      result->dial_status = response.dial_status;
      result->addr_idx = response.addr_idx;
    }
  /* §AutoNAT V2 Protocol: the client MUST close the stream after the response. The answer is in
   * hand, so a server that already reset the stream changes nothing. */
  ph_duplex_close_write (stream, deadline, cancellable, NULL);
  return TRUE;
}

/* --- v2 dial-back ----------------------------------------------------------------------------- */

static gboolean
read_dial_back (PhDuplex *stream, guint64 *nonce, gint64 deadline, GCancellable *cancellable,
                GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  gboolean closed;
  const guint8 *data;
  gsize len;

  bytes = read_message (stream, PH_AUTONAT_V2_DIAL_BACK_MAX_SIZE, &closed, deadline, cancellable,
                        error);
  if (bytes == NULL)
    {
      if (closed)
        g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED,
                             "dial-back stream closed before DialBack");
      g_prefix_error (error, "autonat v2 dial-back: ");
      return FALSE;
    }
  data = g_bytes_get_data (bytes, &len);
  if (!ph_autonat_v2_dial_back_decode (data, len, nonce, error))
    {
      g_prefix_error (error, "autonat v2 dial-back: ");
      return FALSE;
    }
  return TRUE;
}

/* DialBackResponse{status: OK}: proto3 leaves the zero out, so the message is empty and the
 * frame the single byte 00 (trap 4). js's server reads it; go's reads one byte and ignores it. */
static gboolean
write_dial_back_ok (PhDuplex *stream, gint64 deadline, GCancellable *cancellable, GError **error)
{
  Ph__Autonat__V2__DialBackResponse response = PH__AUTONAT__V2__DIAL_BACK_RESPONSE__INIT;
  guint8 buffer[16];
  gsize len;

  response.status = PH__AUTONAT__V2__DIAL_BACK_RESPONSE__DIAL_BACK_STATUS__OK;
  len = ph__autonat__v2__dial_back_response__get_packed_size (&response);
  g_assert (len <= sizeof buffer);
  ph__autonat__v2__dial_back_response__pack (&response, buffer);

  /* autonat-v2.md §AutoNAT V2 Protocol: the client MUST close this stream after the response. */
  if (!ph_duplex_write_frame (stream, buffer, len, deadline, cancellable, error)
      || !ph_duplex_close_write (stream, deadline, cancellable, error))
    {
      g_prefix_error (error, "autonat v2 dial-back: answering: ");
      return FALSE;
    }
  return TRUE;
}

gboolean
ph_autonat_v2_serve_dial_back (PhDuplex *stream, guint64 *nonce_out, gint64 deadline,
                               GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (nonce_out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return read_dial_back (stream, nonce_out, deadline, cancellable, error)
         && write_dial_back_ok (stream, deadline, cancellable, error);
}

gboolean
ph_autonat_v2_answer_dial_back (PhDuplex *stream, PhAutonatNonceBook *book, PhMultiaddr *remote,
                                PhMultiaddr *local, gint64 deadline, GCancellable *cancellable,
                                GError **error)
{
  guint64 nonce;

  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (book != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!read_dial_back (stream, &nonce, deadline, cancellable, error))
    return FALSE;
  /* go's client resets a dial-back whose nonce it did not ask for (client.go handleDialBack). */
  if (!ph_autonat_nonce_book_mark_seen (book, nonce, remote, local))
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                           "autonat v2 dial-back: a nonce we did not ask for");
      return FALSE;
    }
  return write_dial_back_ok (stream, deadline, cancellable, error);
}

/* --- The nonce book --------------------------------------------------------------------------- */

typedef struct
{
  guint64 nonce; /* the hash table's key points here */
  PhAutonatNonceSighting sighting;
} NonceEntry;

struct _PhAutonatNonceBook
{
  gatomicrefcount ref_count;
  GMutex mutex;
  GCond cond;          /* broadcast when a nonce is marked, and when a waiter's cancellable fires */
  GHashTable *entries; /* guint64 * → NonceEntry *, owned */
};

void
ph_autonat_nonce_sighting_clear (PhAutonatNonceSighting *sighting)
{
  g_return_if_fail (sighting != NULL);

  g_clear_pointer (&sighting->remote, ph_multiaddr_unref);
  g_clear_pointer (&sighting->local, ph_multiaddr_unref);
  sighting->n_dial_backs = 0;
  sighting->seen_at = 0;
}

static void
nonce_entry_free (gpointer data)
{
  NonceEntry *entry = data;

  ph_autonat_nonce_sighting_clear (&entry->sighting);
  g_free (entry);
}

PhAutonatNonceBook *
ph_autonat_nonce_book_new (void)
{
  PhAutonatNonceBook *book = g_new0 (PhAutonatNonceBook, 1);

  g_atomic_ref_count_init (&book->ref_count);
  g_mutex_init (&book->mutex);
  g_cond_init (&book->cond);
  book->entries = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, nonce_entry_free);
  return book;
}

PhAutonatNonceBook *
ph_autonat_nonce_book_ref (PhAutonatNonceBook *book)
{
  g_return_val_if_fail (book != NULL, NULL);

  g_atomic_ref_count_inc (&book->ref_count);
  return book;
}

void
ph_autonat_nonce_book_unref (PhAutonatNonceBook *book)
{
  if (book == NULL || !g_atomic_ref_count_dec (&book->ref_count))
    return;
  g_hash_table_unref (book->entries);
  g_cond_clear (&book->cond);
  g_mutex_clear (&book->mutex);
  g_free (book);
}

/* Called with the mutex held. */
static gboolean
add_locked (PhAutonatNonceBook *book, guint64 nonce)
{
  NonceEntry *entry;

  if (g_hash_table_contains (book->entries, &nonce))
    return FALSE;
  entry = g_new0 (NonceEntry, 1);
  entry->nonce = nonce;
  g_hash_table_insert (book->entries, &entry->nonce, entry);
  return TRUE;
}

gboolean
ph_autonat_nonce_book_add (PhAutonatNonceBook *book, guint64 nonce)
{
  gboolean added;

  g_return_val_if_fail (book != NULL, FALSE);

  g_mutex_lock (&book->mutex);
  added = add_locked (book, nonce);
  g_mutex_unlock (&book->mutex);
  return added;
}

guint64
ph_autonat_nonce_book_add_random (PhAutonatNonceBook *book)
{
  guint64 nonce = 0;

  g_return_val_if_fail (book != NULL, 0);

  g_mutex_lock (&book->mutex);
  do
    {
      /* Unpredictable, so nobody but the server we told can produce the dial-back. */
      if (RAND_bytes ((guint8 *) &nonce, sizeof nonce) != 1)
        g_error ("autonat: no random bytes for a nonce");
    }
  while (nonce == 0 || !add_locked (book, nonce));
  g_mutex_unlock (&book->mutex);
  return nonce;
}

void
ph_autonat_nonce_book_remove (PhAutonatNonceBook *book, guint64 nonce)
{
  g_return_if_fail (book != NULL);

  g_mutex_lock (&book->mutex);
  g_hash_table_remove (book->entries, &nonce);
  g_mutex_unlock (&book->mutex);
}

gboolean
ph_autonat_nonce_book_mark_seen (PhAutonatNonceBook *book, guint64 nonce, PhMultiaddr *remote,
                                 PhMultiaddr *local)
{
  NonceEntry *entry;

  g_return_val_if_fail (book != NULL, FALSE);

  g_mutex_lock (&book->mutex);
  entry = g_hash_table_lookup (book->entries, &nonce);
  if (entry != NULL)
    {
      PhAutonatNonceSighting *sighting = &entry->sighting;

      if (sighting->n_dial_backs == 0)
        {
          sighting->remote = remote ? ph_multiaddr_ref (remote) : NULL;
          sighting->local = local ? ph_multiaddr_ref (local) : NULL;
          sighting->seen_at = g_get_monotonic_time ();
        }
      if (sighting->n_dial_backs < G_MAXUINT)
        sighting->n_dial_backs++;
      g_cond_broadcast (&book->cond);
    }
  g_mutex_unlock (&book->mutex);
  return entry != NULL;
}

/* Called with the mutex held: TRUE, and a copy in `out`, when the nonce has been seen. */
static gboolean
check_locked (PhAutonatNonceBook *book, guint64 nonce, gboolean *known, PhAutonatNonceSighting *out)
{
  NonceEntry *entry = g_hash_table_lookup (book->entries, &nonce);

  *known = entry != NULL;
  if (entry == NULL || entry->sighting.n_dial_backs == 0)
    return FALSE;
  if (out != NULL)
    {
      out->n_dial_backs = entry->sighting.n_dial_backs;
      out->remote = entry->sighting.remote ? ph_multiaddr_ref (entry->sighting.remote) : NULL;
      out->local = entry->sighting.local ? ph_multiaddr_ref (entry->sighting.local) : NULL;
      out->seen_at = entry->sighting.seen_at;
    }
  return TRUE;
}

gboolean
ph_autonat_nonce_book_check (PhAutonatNonceBook *book, guint64 nonce,
                             PhAutonatNonceSighting *sighting)
{
  gboolean known;
  gboolean seen;

  g_return_val_if_fail (book != NULL, FALSE);

  g_mutex_lock (&book->mutex);
  seen = check_locked (book, nonce, &known, sighting);
  g_mutex_unlock (&book->mutex);
  return seen;
}

static void
book_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  PhAutonatNonceBook *book = user_data;

  g_mutex_lock (&book->mutex);
  g_cond_broadcast (&book->cond);
  g_mutex_unlock (&book->mutex);
}

gboolean
ph_autonat_nonce_book_wait (PhAutonatNonceBook *book, guint64 nonce, gint64 deadline,
                            GCancellable *cancellable, PhAutonatNonceSighting *sighting)
{
  gulong handler = 0;
  gboolean known;
  gboolean seen;

  g_return_val_if_fail (book != NULL, FALSE);

  /* connect runs the callback at once when already cancelled, and disconnect waits for a running
   * one: both without the mutex held. The callback takes the mutex, so a cancellation between
   * our check and the wait below cannot be missed. */
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (book_cancelled_cb), book, NULL);

  g_mutex_lock (&book->mutex);
  while (!(seen = check_locked (book, nonce, &known, sighting)) && known
         && !g_cancellable_is_cancelled (cancellable))
    {
      if (deadline == PH_DEADLINE_NONE)
        g_cond_wait (&book->cond, &book->mutex);
      else if (!g_cond_wait_until (&book->cond, &book->mutex, deadline))
        {
          seen = check_locked (book, nonce, &known, sighting);
          break;
        }
    }
  g_mutex_unlock (&book->mutex);

  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
  return seen;
}

/* --- v1 --------------------------------------------------------------------------------------- */

const char *
ph_autonat_v1_status_to_string (PhAutonatV1Status status)
{
  switch (status)
    {
      case PH_AUTONAT_V1_STATUS_OK:
        return "OK";
      case PH_AUTONAT_V1_STATUS_E_DIAL_ERROR:
        return "E_DIAL_ERROR";
      case PH_AUTONAT_V1_STATUS_E_DIAL_REFUSED:
        return "E_DIAL_REFUSED";
      case PH_AUTONAT_V1_STATUS_E_BAD_REQUEST:
        return "E_BAD_REQUEST";
      case PH_AUTONAT_V1_STATUS_E_INTERNAL_ERROR:
        return "E_INTERNAL_ERROR";
      default:
        return "UNKNOWN";
    }
}

const char *
ph_autonat_v1_outcome_to_string (PhAutonatV1Outcome outcome)
{
  switch (outcome)
    {
      case PH_AUTONAT_V1_OUTCOME_RESPONSE:
        return "RESPONSE";
      case PH_AUTONAT_V1_OUTCOME_NO_RESPONSE:
        return "NO_RESPONSE";
      default:
        return "UNKNOWN";
    }
}

void
ph_autonat_v1_result_clear (PhAutonatV1Result *result)
{
  g_return_if_fail (result != NULL);

  g_free (result->status_text);
  g_clear_pointer (&result->addr, ph_multiaddr_unref);
  memset (result, 0, sizeof *result);
}

GBytes *
ph_autonat_v1_dial_encode (const PhPeerId *self_id, PhMultiaddr *const *addrs, guint n_addrs,
                           GError **error)
{
  Ph__Autonat__V1__Message message = PH__AUTONAT__V1__MESSAGE__INIT;
  Ph__Autonat__V1__Message__Dial dial = PH__AUTONAT__V1__MESSAGE__DIAL__INIT;
  Ph__Autonat__V1__Message__PeerInfo peer = PH__AUTONAT__V1__MESSAGE__PEER_INFO__INIT;
  g_autofree ProtobufCBinaryData *addr_bytes = NULL;
  gsize len;
  guint8 *buffer;

  g_return_val_if_fail (self_id != NULL, NULL);
  g_return_val_if_fail (addrs != NULL || n_addrs == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Trap 3: proto2 writes an optional field only when set, and rust refuses a request whose type
   * is absent or that has no peer id. */
  message.has_type = TRUE;
  message.type = PH__AUTONAT__V1__MESSAGE__MESSAGE_TYPE__DIAL;
  peer.has_id = TRUE;
  peer.id.data = (guint8 *) ph_peer_id_get_bytes (self_id, &peer.id.len);

  addr_bytes = g_new0 (ProtobufCBinaryData, n_addrs + 1);
  for (guint i = 0; i < n_addrs; i++)
    {
      g_return_val_if_fail (addrs[i] != NULL, NULL);
      addr_bytes[i].data = (guint8 *) ph_multiaddr_peek_bytes (addrs[i], &addr_bytes[i].len);
    }
  peer.n_addrs = n_addrs;
  peer.addrs = addr_bytes;
  dial.peer = &peer;
  message.dial = &dial;

  len = ph__autonat__v1__message__get_packed_size (&message);
  if (len + ph_varint_size (len) > PH_AUTONAT_V1_MAX_REQUEST_SIZE)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "autonat v1: a Dial of %" G_GSIZE_FORMAT " bytes with %u addresses is over "
                   "the %d bytes servers accept",
                   len, n_addrs, PH_AUTONAT_V1_MAX_REQUEST_SIZE);
      return NULL;
    }
  buffer = g_malloc (len ? len : 1);
  ph__autonat__v1__message__pack (&message, buffer);
  return g_bytes_new_take (buffer, len);
}

/* A peer's words, made fit to show: valid UTF-8 without NULs, control or format characters (bidi
 * overrides included), on one line, and short. */
static char *
sanitize_text (const guint8 *data, gsize len, guint max_chars)
{
  g_autofree char *valid = NULL;
  GString *out = g_string_sized_new (MIN (len, (gsize) max_chars * 4) + 4);
  guint n_chars = 0;

  /* With a length, g_utf8_make_valid turns NUL bytes into U+FFFD as well. */
  valid = g_utf8_make_valid (len ? (const char *) data : "", len);
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (n_chars == max_chars)
        {
          g_string_append (out, "…");
          break;
        }
      if (c == '\n' || c == '\r' || c == '\t')
        c = ' ';
      else if (!g_unichar_isprint (c))
        c = 0xFFFD;
      g_string_append_unichar (out, c);
      n_chars++;
    }
  return g_string_free (out, FALSE);
}

static gboolean
v1_status_is_known (gint value)
{
  return value == PH_AUTONAT_V1_STATUS_OK || value == PH_AUTONAT_V1_STATUS_E_DIAL_ERROR
         || value == PH_AUTONAT_V1_STATUS_E_DIAL_REFUSED
         || value == PH_AUTONAT_V1_STATUS_E_BAD_REQUEST
         || value == PH_AUTONAT_V1_STATUS_E_INTERNAL_ERROR;
}

static gboolean
v1_take_response (const Ph__Autonat__V1__Message *message, PhAutonatV1Result *result,
                  GError **error)
{
  const Ph__Autonat__V1__Message__DialResponse *response = message->dialresponse;

  if (!message->has_type || message->type != PH__AUTONAT__V1__MESSAGE__MESSAGE_TYPE__DIAL_RESPONSE)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                           "autonat v1: the answer is not of type DIAL_RESPONSE");
      return FALSE;
    }
  /* proto2 defaults would read a missing status as OK: never take that for a dial. */
  if (response == NULL || !response->has_status)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                           "autonat v1: DIAL_RESPONSE without a status");
      return FALSE;
    }
  if (!v1_status_is_known ((gint) response->status))
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                   "autonat v1: DialResponse with unknown status %d", (gint) response->status);
      return FALSE;
    }

  result->outcome = PH_AUTONAT_V1_OUTCOME_RESPONSE;
  result->status = (PhAutonatV1Status) response->status;
  if (response->has_statustext)
    result->status_text = sanitize_text (response->statustext.data, response->statustext.len,
                                         PH_AUTONAT_V1_MAX_STATUS_TEXT);
  if (response->has_addr)
    {
      result->addr = ph_multiaddr_new_from_bytes (response->addr.data, response->addr.len, NULL);
      result->addr_skipped = result->addr == NULL;
    }
  return TRUE;
}

gboolean
ph_autonat_v1_response_decode (const guint8 *data, gsize len, PhAutonatV1Result *result,
                               GError **error)
{
  Ph__Autonat__V1__Message *message;
  gboolean ok;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (result != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ph_autonat_v1_result_clear (result);
  message = ph__autonat__v1__message__unpack (NULL, len, data);
  if (message == NULL)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "autonat v1: not a Message protobuf");
      return FALSE;
    }
  ok = v1_take_response (message, result, error);
  ph__autonat__v1__message__free_unpacked (message, NULL);
  if (!ok)
    ph_autonat_v1_result_clear (result);
  return ok;
}

gboolean
ph_autonat_v1_request (PhDuplex *stream, const PhPeerId *self_id, PhMultiaddr *const *addrs,
                       guint n_addrs, PhAutonatV1Result *result, gint64 deadline,
                       GCancellable *cancellable, GError **error)
{
  g_autoptr (GBytes) request = NULL;
  g_autoptr (GBytes) answer = NULL;
  gboolean closed;

  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (self_id != NULL, FALSE);
  g_return_val_if_fail (addrs != NULL || n_addrs == 0, FALSE);
  g_return_val_if_fail (result != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ph_autonat_v1_result_clear (result);
  request = ph_autonat_v1_dial_encode (self_id, addrs, n_addrs, error);
  if (request == NULL)
    return FALSE;
  if (!write_bytes_frame (stream, request, deadline, cancellable, error))
    {
      g_prefix_error (error, "autonat v1: sending Dial: ");
      return FALSE;
    }

  answer
      = read_message (stream, PH_AUTONAT_MAX_MESSAGE_SIZE, &closed, deadline, cancellable, error);
  if (answer == NULL && !closed)
    {
      g_prefix_error (error, "autonat v1: ");
      return FALSE;
    }
  if (closed)
    result->outcome = PH_AUTONAT_V1_OUTCOME_NO_RESPONSE;
  else
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (answer, &len);

      if (!ph_autonat_v1_response_decode (data, len, result, error))
        return FALSE;
    }
  /* The server closes after its answer (go svc.go handleStream); so do we. */
  ph_duplex_close_write (stream, deadline, cancellable, NULL);
  return TRUE;
}
