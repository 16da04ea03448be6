/* test-autonat.c: AutoNAT v2 and v1 clients (libp2p/specs autonat/autonat-v2.md, autonat-v1.md)
 *
 * Codec round trips against hand-written bytes, then the clients against small fake servers on
 * the in-memory pipe pair: go-like and js-like ones (dial data, a real dial-back over a second
 * pipe pair, one DialResponse per request, closing without a word) and hostile ones (10 MB of dial
 * data, the wrong address index, garbage, oversized frames, stalls, truncation, false claims).
 * The fake servers speak through protoc-c's code directly, not through ph-autonat's codec.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "autonat_v1.pb-c.h"
#include "autonat_v2.pb-c.h"
#include "p2p/ph-autonat.h"
#include "p2p/ph-duplex.h"
#include "p2p/ph-p2p-error.h"

/* peer-ids.md §Test vectors, Ed25519: the peer ID as multihash bytes (identity, 36 bytes). */
#define SPEC_ED25519_PEER_ID_HEX                                                                   \
  "0024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"
#define ADDR_TEXT "/ip4/203.0.113.7/tcp/4001"
#define ADDR_HEX "04cb007107060fa1"
#define NONCE G_GUINT64_CONSTANT (0x0102030405060708)

/* --- Helpers ---------------------------------------------------------------------------------- */

static GBytes *
hex (const char *text)
{
  GByteArray *out = g_byte_array_new ();

  for (const char *p = text; *p != '\0';)
    {
      guint8 byte;

      if (*p == ' ')
        {
          p++;
          continue;
        }
      g_assert_true (g_ascii_isxdigit (p[0]) && g_ascii_isxdigit (p[1]));
      byte = (guint8) (g_ascii_xdigit_value (p[0]) << 4 | g_ascii_xdigit_value (p[1]));
      g_byte_array_append (out, &byte, 1);
      p += 2;
    }
  return g_byte_array_free_to_bytes (out);
}

static void
assert_bytes (GBytes *bytes, const char *expected_hex)
{
  g_autoptr (GBytes) expected = hex (expected_hex);
  gsize len, expected_len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  const guint8 *expected_data = g_bytes_get_data (expected, &expected_len);

  g_assert_cmpmem (data, len, expected_data, expected_len);
}

static PhMultiaddr *
addr_new (const char *text)
{
  g_autoptr (GError) error = NULL;
  PhMultiaddr *addr = ph_multiaddr_new_from_string (text, &error);

  g_assert_no_error (error);
  return addr;
}

static PhPeerId *
spec_peer_id (void)
{
  g_autoptr (GBytes) bytes = hex (SPEC_ED25519_PEER_ID_HEX);
  g_autoptr (GError) error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  PhPeerId *id = ph_peer_id_from_bytes (data, len, &error);

  g_assert_no_error (error);
  return id;
}

static gboolean
write_hex (PhDuplex *stream, const char *text, GError **error)
{
  g_autoptr (GBytes) bytes = hex (text);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  return ph_duplex_write (stream, data, len, ph_deadline_in (5000), NULL, error);
}

static gboolean
write_v2 (PhDuplex *stream, const Ph__Autonat__V2__Message *message, GError **error)
{
  gsize len = ph__autonat__v2__message__get_packed_size (message);
  g_autofree guint8 *buffer = g_malloc (len + 1);

  ph__autonat__v2__message__pack (message, buffer);
  return ph_duplex_write_frame (stream, buffer, len, ph_deadline_in (5000), NULL, error);
}

static gboolean
write_dial_response (PhDuplex *stream, gint status, guint32 addr_idx, gint dial_status,
                     GError **error)
{
  Ph__Autonat__V2__Message message = PH__AUTONAT__V2__MESSAGE__INIT;
  Ph__Autonat__V2__DialResponse response = PH__AUTONAT__V2__DIAL_RESPONSE__INIT;

  response.status = status;
  response.addridx = addr_idx;
  response.dialstatus = dial_status;
  message.msg_case = PH__AUTONAT__V2__MESSAGE__MSG_DIAL_RESPONSE;
  message.dialresponse = &response;
  return write_v2 (stream, &message, error);
}

static gboolean
write_dial_data_request (PhDuplex *stream, guint32 addr_idx, guint64 num_bytes, GError **error)
{
  Ph__Autonat__V2__Message message = PH__AUTONAT__V2__MESSAGE__INIT;
  Ph__Autonat__V2__DialDataRequest request = PH__AUTONAT__V2__DIAL_DATA_REQUEST__INIT;

  request.addridx = addr_idx;
  request.numbytes = num_bytes;
  message.msg_case = PH__AUTONAT__V2__MESSAGE__MSG_DIAL_DATA_REQUEST;
  message.dialdatarequest = &request;
  return write_v2 (stream, &message, error);
}

/* Reads until the other end goes away; TRUE if nothing came before that. */
static gboolean
read_until_gone (PhDuplex *stream, gint64 deadline)
{
  g_autoptr (GError) error = NULL;
  guint8 byte;
  gssize n = ph_duplex_read (stream, &byte, 1, deadline, NULL, &error);

  /* Something more than nothing: drain, so a writer is never left blocked. */
  if (n != 0)
    {
      GBytes *rest = ph_duplex_read_to_end (stream, 16 * 1024 * 1024, deadline, NULL, NULL);

      g_clear_pointer (&rest, g_bytes_unref);
    }
  return n == 0;
}

/* --- v2 codec --------------------------------------------------------------------------------- */

/* protocol-notes.md §7 (computed): Message{dialRequest{[/ip4/203.0.113.7/tcp/4001], nonce}} with
 * the nonce as fixed64 (tag 0x11, 8 bytes little-endian). */
static void
test_v2_encode_dial_request (void)
{
  g_autoptr (PhMultiaddr) addr = addr_new (ADDR_TEXT);
  g_autoptr (GBytes) request = ph_autonat_v2_dial_request_encode (addr, NONCE);
  g_autoptr (GBytes) zero = ph_autonat_v2_dial_request_encode (addr, 0);
  g_autoptr (GBytes) max = ph_autonat_v2_dial_request_encode (addr, G_MAXUINT64);

  assert_bytes (request, "0a13 0a08" ADDR_HEX " 11 0807060504030201");
  /* proto3: a zero nonce is left out. */
  assert_bytes (zero, "0a0a 0a08" ADDR_HEX);
  assert_bytes (max, "0a13 0a08" ADDR_HEX " 11 ffffffffffffffff");
}

static void
test_v2_dial_back_codec (void)
{
  g_autoptr (GBytes) encoded = ph_autonat_v2_dial_back_encode (NONCE);
  g_autoptr (GBytes) zero = ph_autonat_v2_dial_back_encode (0);
  g_autoptr (GBytes) garbage = hex ("09 0102");
  g_autoptr (GBytes) varint_nonce = hex ("08 05");
  g_autoptr (GError) error = NULL;
  guint64 nonce = 1;
  gsize len;
  const guint8 *data;

  assert_bytes (encoded, "09 0807060504030201");
  g_assert_cmpuint (g_bytes_get_size (zero), ==, 0);

  data = g_bytes_get_data (encoded, &len);
  g_assert_true (ph_autonat_v2_dial_back_decode (data, len, &nonce, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nonce, ==, NONCE);

  /* The empty message is DialBack{nonce: 0}. */
  g_assert_true (ph_autonat_v2_dial_back_decode (NULL, 0, &nonce, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nonce, ==, 0);

  data = g_bytes_get_data (garbage, &len);
  g_assert_false (ph_autonat_v2_dial_back_decode (data, len, &nonce, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
  g_clear_error (&error);

  /* A varint where fixed64 belongs: the wrong wire type for field 1. */
  data = g_bytes_get_data (varint_nonce, &len);
  g_assert_false (ph_autonat_v2_dial_back_decode (data, len, &nonce, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
}

typedef struct
{
  const char *hex;
  gint error_code; /* -1: decodes */
  PhAutonatV2ServerMessageKind kind;
  PhAutonatV2ResponseStatus status;
  PhAutonatV2DialStatus dial_status;
  guint32 addr_idx;
  guint64 num_bytes;
} ServerMessageVector;

static void
test_v2_server_message_decode (void)
{
  static const ServerMessageVector vectors[] = {
    /* DialResponse{OK, addrIdx 0 (absent), dialStatus OK}: 200 = c8 01 */
    { "12 06 08c801 18c801", -1, PH_AUTONAT_V2_SERVER_DIAL_RESPONSE, PH_AUTONAT_V2_RESPONSE_OK,
      PH_AUTONAT_V2_DIAL_OK, 0, 0 },
    /* The empty DialResponse: every field at zero, E_INTERNAL_ERROR / UNUSED */
    { "12 00", -1, PH_AUTONAT_V2_SERVER_DIAL_RESPONSE, PH_AUTONAT_V2_RESPONSE_E_INTERNAL_ERROR,
      PH_AUTONAT_V2_DIAL_UNUSED, 0, 0 },
    { "12 02 0864", -1, PH_AUTONAT_V2_SERVER_DIAL_RESPONSE,
      PH_AUTONAT_V2_RESPONSE_E_REQUEST_REJECTED, PH_AUTONAT_V2_DIAL_UNUSED, 0, 0 },
    /* js: E_DIAL_REFUSED for address 3, UNUSED */
    { "12 04 0865 1003", -1, PH_AUTONAT_V2_SERVER_DIAL_RESPONSE,
      PH_AUTONAT_V2_RESPONSE_E_DIAL_REFUSED, PH_AUTONAT_V2_DIAL_UNUSED, 3, 0 },
    { "12 05 08c801 1864", -1, PH_AUTONAT_V2_SERVER_DIAL_RESPONSE, PH_AUTONAT_V2_RESPONSE_OK,
      PH_AUTONAT_V2_DIAL_E_DIAL_ERROR, 0, 0 },
    { "12 05 08c801 1865", -1, PH_AUTONAT_V2_SERVER_DIAL_RESPONSE, PH_AUTONAT_V2_RESPONSE_OK,
      PH_AUTONAT_V2_DIAL_E_DIAL_BACK_ERROR, 0, 0 },
    /* A refusal with a dialStatus we do not know: meaningless there, so UNUSED */
    { "12 04 0865 1807", -1, PH_AUTONAT_V2_SERVER_DIAL_RESPONSE,
      PH_AUTONAT_V2_RESPONSE_E_DIAL_REFUSED, PH_AUTONAT_V2_DIAL_UNUSED, 0, 0 },
    /* DialDataRequest{addrIdx 0 (absent), numBytes 30000 = b0 ea 01} */
    { "1a 04 10b0ea01", -1, PH_AUTONAT_V2_SERVER_DIAL_DATA_REQUEST, 0, 0, 0, 30000 },
    { "1a 06 0802 10a08d06", -1, PH_AUTONAT_V2_SERVER_DIAL_DATA_REQUEST, 0, 0, 2, 100000 },
    /* Unknown status codes: discarded (spec MUST) */
    { "12 02 0807", PH_P2P_ERROR_UNSUPPORTED },
    { "12 0b 08ffffffffffffffffff01", PH_P2P_ERROR_UNSUPPORTED },
    { "12 05 08c801 1807", PH_P2P_ERROR_UNSUPPORTED },
    /* The client's messages, and no message at all */
    { "0a 00", PH_P2P_ERROR_PROTOCOL },
    { "22 02 0a00", PH_P2P_ERROR_PROTOCOL },
    { "", PH_P2P_ERROR_PROTOCOL },
    /* Not a protobuf: a tag of field 0, a length past the end, a cut varint */
    { "00", PH_P2P_ERROR_MALFORMED },
    { "12 05 08", PH_P2P_ERROR_MALFORMED },
    { "12 02 08ff", PH_P2P_ERROR_MALFORMED },
    { "ffffffffffffffffffffff", PH_P2P_ERROR_MALFORMED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      const ServerMessageVector *v = &vectors[i];
      g_autoptr (GBytes) bytes = hex (v->hex);
      g_autoptr (GError) error = NULL;
      PhAutonatV2ServerMessage message;
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      gboolean ok = ph_autonat_v2_server_message_decode (data, len, &message, &error);

      g_test_message ("vector %" G_GSIZE_FORMAT ": %s", i, v->hex);
      if (v->error_code >= 0)
        {
          g_assert_false (ok);
          g_assert_error (error, PH_P2P_ERROR, v->error_code);
          continue;
        }
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpint (message.kind, ==, v->kind);
      g_assert_cmpint (message.addr_idx, ==, v->addr_idx);
      if (v->kind == PH_AUTONAT_V2_SERVER_DIAL_RESPONSE)
        {
          g_assert_cmpint (message.status, ==, v->status);
          g_assert_cmpint (message.dial_status, ==, v->dial_status);
        }
      else
        g_assert_cmpuint (message.num_bytes, ==, v->num_bytes);
    }
}

static void
test_v2_strings (void)
{
  g_assert_cmpstr (ph_autonat_v2_response_status_to_string (PH_AUTONAT_V2_RESPONSE_OK), ==, "OK");
  g_assert_cmpstr (
      ph_autonat_v2_response_status_to_string (PH_AUTONAT_V2_RESPONSE_E_REQUEST_REJECTED), ==,
      "E_REQUEST_REJECTED");
  g_assert_cmpstr (ph_autonat_v2_dial_status_to_string (PH_AUTONAT_V2_DIAL_E_DIAL_BACK_ERROR), ==,
                   "E_DIAL_BACK_ERROR");
  g_assert_cmpstr (ph_autonat_v2_outcome_to_string (PH_AUTONAT_V2_OUTCOME_NO_RESPONSE), ==,
                   "NO_RESPONSE");
  g_assert_cmpstr (ph_autonat_v1_status_to_string (PH_AUTONAT_V1_STATUS_E_BAD_REQUEST), ==,
                   "E_BAD_REQUEST");
  g_assert_cmpstr (ph_autonat_v1_outcome_to_string (PH_AUTONAT_V1_OUTCOME_NO_RESPONSE), ==,
                   "NO_RESPONSE");
}

/* --- The nonce book --------------------------------------------------------------------------- */

static void
test_nonce_book_basics (void)
{
  g_autoptr (PhAutonatNonceBook) book = ph_autonat_nonce_book_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr (PhMultiaddr) remote = addr_new ("/ip4/198.51.100.9/tcp/50123");
  g_autoptr (PhMultiaddr) local = addr_new ("/ip4/192.168.1.2/tcp/4001");
  g_auto (PhAutonatNonceSighting) sighting = { 0 };
  guint64 first = 0;

  for (guint i = 0; i < 1000; i++)
    {
      guint64 nonce = ph_autonat_nonce_book_add_random (book);

      g_assert_cmpuint (nonce, !=, 0);
      g_assert_true (g_hash_table_add (seen, g_memdup2 (&nonce, sizeof nonce)));
      if (i == 0)
        first = nonce;
    }
  g_assert_false (ph_autonat_nonce_book_add (book, first));
  g_assert_true (ph_autonat_nonce_book_add (book, 42));

  g_assert_false (ph_autonat_nonce_book_check (book, first, &sighting));
  g_assert_null (sighting.remote);
  g_assert_false (ph_autonat_nonce_book_mark_seen (book, 43, remote, local));
  g_assert_false (ph_autonat_nonce_book_check (book, 43, NULL));

  g_assert_true (ph_autonat_nonce_book_mark_seen (book, first, remote, local));
  g_assert_true (ph_autonat_nonce_book_mark_seen (book, first, NULL, NULL));
  g_assert_true (ph_autonat_nonce_book_check (book, first, &sighting));
  g_assert_cmpuint (sighting.n_dial_backs, ==, 2);
  g_assert_true (sighting.remote != NULL && ph_multiaddr_equal (sighting.remote, remote));
  g_assert_true (sighting.local != NULL && ph_multiaddr_equal (sighting.local, local));
  g_assert_cmpint (sighting.seen_at, >, 0);
  g_assert_cmpint (sighting.seen_at, <=, g_get_monotonic_time ());
  g_assert_false (ph_autonat_nonce_book_check (book, 42, NULL));

  ph_autonat_nonce_book_remove (book, first);
  g_assert_false (ph_autonat_nonce_book_check (book, first, NULL));
  g_assert_false (ph_autonat_nonce_book_mark_seen (book, first, NULL, NULL));
}

typedef struct
{
  PhAutonatNonceBook *book;
  guint64 nonce;
  GCancellable *cancellable;
} LateMark;

static gpointer
late_mark_thread (gpointer user_data)
{
  LateMark *late = user_data;

  g_usleep (50 * 1000);
  if (late->cancellable != NULL)
    g_cancellable_cancel (late->cancellable);
  else
    g_assert_true (ph_autonat_nonce_book_mark_seen (late->book, late->nonce, NULL, NULL));
  return NULL;
}

static void
test_nonce_book_wait (void)
{
  g_autoptr (PhAutonatNonceBook) book = ph_autonat_nonce_book_new ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_auto (PhAutonatNonceSighting) sighting = { 0 };
  LateMark late = { book, 0, NULL };
  GThread *thread;
  gint64 start;

  /* The dial-back arrives after the response: waiting sees it. */
  late.nonce = ph_autonat_nonce_book_add_random (book);
  thread = g_thread_new ("late mark", late_mark_thread, &late);
  g_assert_true (
      ph_autonat_nonce_book_wait (book, late.nonce, ph_deadline_in (5000), NULL, &sighting));
  g_thread_join (thread);
  g_assert_cmpuint (sighting.n_dial_backs, ==, 1);
  g_assert_null (sighting.remote);

  /* Nobody comes: the deadline ends the wait. */
  late.nonce = ph_autonat_nonce_book_add_random (book);
  start = g_get_monotonic_time ();
  g_assert_false (ph_autonat_nonce_book_wait (book, late.nonce, ph_deadline_in (100), NULL, NULL));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 90 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);

  /* Cancelled while waiting, and already cancelled. */
  late.cancellable = cancellable;
  thread = g_thread_new ("late cancel", late_mark_thread, &late);
  start = g_get_monotonic_time ();
  g_assert_false (
      ph_autonat_nonce_book_wait (book, late.nonce, ph_deadline_in (10000), cancellable, NULL));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  g_thread_join (thread);
  g_assert_false (
      ph_autonat_nonce_book_wait (book, late.nonce, PH_DEADLINE_NONE, cancellable, NULL));

  /* A nonce the book does not hold: no wait at all. */
  start = g_get_monotonic_time ();
  g_assert_false (ph_autonat_nonce_book_wait (book, 7, PH_DEADLINE_NONE, NULL, NULL));
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
}

/* --- The dial-back stream --------------------------------------------------------------------- */

/* The server's side of a dial-back: writes `frame_hex`, half-closes, reads the answer to the end.
 */
typedef struct
{
  const char *frame_hex;
  PhDuplex *stream;
  GBytes *answer;
  GError *error;
} DialBackServer;

static gpointer
dial_back_server_thread (gpointer user_data)
{
  DialBackServer *server = user_data;
  gint64 deadline = ph_deadline_in (5000);

  if (write_hex (server->stream, server->frame_hex, &server->error)
      && ph_duplex_close_write (server->stream, deadline, NULL, &server->error))
    server->answer = ph_duplex_read_to_end (server->stream, 1024, deadline, NULL, &server->error);
  ph_duplex_free (server->stream);
  return NULL;
}

static void
run_dial_back (const char *frame_hex, gboolean use_book, PhAutonatNonceBook *book, gboolean *ok_out,
               guint64 *nonce_out, GError **error_out, GBytes **answer_out)
{
  PhDuplex *client = NULL;
  DialBackServer server = { frame_hex };
  GThread *thread;

  ph_duplex_new_pipe_pair (&client, &server.stream);
  thread = g_thread_new ("dial-back server", dial_back_server_thread, &server);
  if (use_book)
    *ok_out = ph_autonat_v2_answer_dial_back (client, book, NULL, NULL, ph_deadline_in (5000), NULL,
                                              error_out);
  else
    *ok_out
        = ph_autonat_v2_serve_dial_back (client, nonce_out, ph_deadline_in (5000), NULL, error_out);
  /* Freeing our end is the reset a dial-back handler does after an error. */
  ph_duplex_free (client);
  g_thread_join (thread);
  g_assert_no_error (server.error);
  *answer_out = server.answer;
}

static void
test_dial_back_serve (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) answer = NULL;
  guint64 nonce = 0;
  gboolean ok;

  /* DialBack{nonce} framed; we answer DialBackResponse{OK}: the empty message, the byte 00. */
  run_dial_back ("09 09 0807060504030201", FALSE, NULL, &ok, &nonce, &error, &answer);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (nonce, ==, NONCE);
  assert_bytes (answer, "00");
  g_clear_pointer (&answer, g_bytes_unref);

  /* The empty DialBack is nonce 0; unknown fields are skipped. */
  run_dial_back ("04 1a020000", FALSE, NULL, &ok, &nonce, &error, &answer);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (nonce, ==, 0);
  assert_bytes (answer, "00");
}

typedef struct
{
  const char *frame_hex;
  gint code;
} BadDialBack;

static void
test_dial_back_hostile (void)
{
  static const BadDialBack cases[] = {
    { "", PH_P2P_ERROR_CLOSED },                        /* closed before a word */
    { "09 0807", PH_P2P_ERROR_TRUNCATED },              /* cut inside the message */
    { "80", PH_P2P_ERROR_TRUNCATED },                   /* cut inside the prefix */
    { "8108", PH_P2P_ERROR_TOO_LARGE },                 /* 1024 + 1 bytes announced */
    { "ffffffffffffffffff01", PH_P2P_ERROR_TOO_LARGE }, /* a 10-byte prefix */
    { "8000", PH_P2P_ERROR_MALFORMED },                 /* non-minimal prefix */
    { "02 0901", PH_P2P_ERROR_MALFORMED },              /* not a DialBack */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) answer = NULL;
      guint64 nonce = 0;
      gboolean ok;

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i].frame_hex);
      run_dial_back (cases[i].frame_hex, FALSE, NULL, &ok, &nonce, &error, &answer);
      g_assert_false (ok);
      g_assert_error (error, PH_P2P_ERROR, cases[i].code);
      /* Nothing was answered. */
      g_assert_cmpuint (g_bytes_get_size (answer), ==, 0);
      g_assert_cmpuint (nonce, ==, 0);
    }
}

static void
test_dial_back_book (void)
{
  g_autoptr (PhAutonatNonceBook) book = ph_autonat_nonce_book_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) answer = NULL;
  gboolean ok;

  /* A nonce nobody asked for: no answer, nothing marked. */
  g_assert_true (ph_autonat_nonce_book_add (book, NONCE + 1));
  run_dial_back ("09 09 0807060504030201", TRUE, book, &ok, NULL, &error, &answer);
  g_assert_false (ok);
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL);
  g_assert_cmpuint (g_bytes_get_size (answer), ==, 0);
  g_assert_false (ph_autonat_nonce_book_check (book, NONCE + 1, NULL));
  g_clear_error (&error);
  g_clear_pointer (&answer, g_bytes_unref);

  g_assert_true (ph_autonat_nonce_book_add (book, NONCE));
  run_dial_back ("09 09 0807060504030201", TRUE, book, &ok, NULL, &error, &answer);
  g_assert_no_error (error);
  g_assert_true (ok);
  assert_bytes (answer, "00");
  g_assert_true (ph_autonat_nonce_book_check (book, NONCE, NULL));
}

/* --- v2 against fake servers ------------------------------------------------------------------ */

typedef enum
{
  V2_RESPOND,          /* read the request, maybe ask for dial data, maybe dial back, respond */
  V2_REJECT_FIRST,     /* go's rate limit: E_REQUEST_REJECTED before reading anything */
  V2_CLOSE,            /* js, private IP: read the request, close without a word */
  V2_CLOSE_AFTER_DATA, /* take the dial data, then close */
  V2_RAW,              /* read the request, write raw_hex, close */
  V2_STALL,            /* read the request, then nothing until the client goes away */
} V2Mode;

typedef struct
{
  /* The script */
  V2Mode mode;
  guint64 ask_dial_data; /* 0: none */
  guint32 ask_addr_idx;
  gboolean expect_no_data; /* the client should refuse to pay */
  gboolean ask_twice;
  gboolean dial_back;
  guint64 dial_back_nonce_xor; /* dial back with a different nonce */
  gint status;
  guint32 addr_idx;
  gint dial_status;
  const char *raw_hex;
  PhAutonatNonceBook *book; /* the client's, for its dial-back handler */

  /* What the server saw */
  PhDuplex *stream;
  gboolean got_request;
  gsize n_addrs;
  GBytes *addr;
  guint64 nonce;
  guint64 data_received;
  guint n_chunks;
  gsize smallest_chunk;
  gsize largest_chunk;
  gboolean small_chunk_before_end; /* go's server would have dropped us */
  gboolean dial_back_answered;     /* exactly 00, then end of stream */
  gboolean dial_back_handler_ok;
  GError *dial_back_handler_error;
  gboolean client_closed_after; /* the client half-closed and sent nothing more */
  GError *error;
} FakeV2Server;

typedef struct
{
  PhDuplex *stream;
  PhAutonatNonceBook *book;
  gboolean ok;
  GError *error;
} DialBackHandler;

static gpointer
dial_back_handler_thread (gpointer user_data)
{
  DialBackHandler *handler = user_data;
  g_autoptr (PhMultiaddr) remote = addr_new ("/ip4/198.51.100.9/tcp/50123");
  g_autoptr (PhMultiaddr) local = addr_new ("/ip4/192.168.1.2/tcp/4001");

  handler->ok = ph_autonat_v2_answer_dial_back (handler->stream, handler->book, remote, local,
                                                ph_deadline_in (5000), NULL, &handler->error);
  ph_duplex_free (handler->stream);
  return NULL;
}

/* What go's server does (server.go dialBack) and js's checks: open the dial-back stream, write
 * DialBack{nonce}, close, read the answer. Our handler runs on the other end of a second pipe. */
static gboolean
fake_dial_back (FakeV2Server *server, GError **error)
{
  DialBackHandler handler = { NULL, server->book };
  PhDuplex *ours = NULL;
  g_autoptr (GBytes) answer = NULL;
  Ph__Autonat__V2__DialBack dial_back = PH__AUTONAT__V2__DIAL_BACK__INIT;
  guint8 buffer[16];
  gsize len;
  GThread *thread;
  gint64 deadline = ph_deadline_in (5000);
  gboolean ok;

  ph_duplex_new_pipe_pair (&ours, &handler.stream);
  thread = g_thread_new ("dial-back handler", dial_back_handler_thread, &handler);
  dial_back.nonce = server->nonce ^ server->dial_back_nonce_xor;
  len = ph__autonat__v2__dial_back__pack (&dial_back, buffer);
  ok = ph_duplex_write_frame (ours, buffer, len, deadline, NULL, error)
       && ph_duplex_close_write (ours, deadline, NULL, error)
       && (answer = ph_duplex_read_to_end (ours, 1024, deadline, NULL, error)) != NULL;
  ph_duplex_free (ours);
  g_thread_join (thread);
  server->dial_back_handler_ok = handler.ok;
  server->dial_back_handler_error = handler.error;
  if (ok)
    server->dial_back_answered
        = g_bytes_get_size (answer) == 1 && *(const guint8 *) g_bytes_get_data (answer, NULL) == 0;
  return ok;
}

static gboolean
fake_read_request (FakeV2Server *server, GError **error)
{
  g_autoptr (GBytes) frame = NULL;
  Ph__Autonat__V2__Message *message;
  gsize len;
  const guint8 *data;

  frame = ph_duplex_read_frame (server->stream, 8192, ph_deadline_in (5000), NULL, error);
  if (frame == NULL)
    return FALSE;
  data = g_bytes_get_data (frame, &len);
  message = ph__autonat__v2__message__unpack (NULL, len, data);
  g_assert_nonnull (message);
  g_assert_cmpint (message->msg_case, ==, PH__AUTONAT__V2__MESSAGE__MSG_DIAL_REQUEST);
  server->got_request = TRUE;
  server->n_addrs = message->dialrequest->n_addrs;
  if (server->n_addrs > 0)
    server->addr
        = g_bytes_new (message->dialrequest->addrs[0].data, message->dialrequest->addrs[0].len);
  server->nonce = message->dialrequest->nonce;
  ph__autonat__v2__message__free_unpacked (message, NULL);
  return TRUE;
}

/* go's readDialData rule, with exact counting: every chunk but the one that completes the amount
 * carries at least 100 data bytes, none more than 4096. */
static gboolean
fake_read_dial_data (FakeV2Server *server, guint64 num_bytes, GError **error)
{
  guint64 received = 0;

  server->smallest_chunk = G_MAXSIZE;
  while (received < num_bytes)
    {
      g_autoptr (GBytes) frame = NULL;
      Ph__Autonat__V2__Message *message;
      gsize len, n;
      const guint8 *data;

      frame = ph_duplex_read_frame (server->stream, 8192, ph_deadline_in (5000), NULL, error);
      if (frame == NULL)
        return FALSE;
      data = g_bytes_get_data (frame, &len);
      message = ph__autonat__v2__message__unpack (NULL, len, data);
      g_assert_nonnull (message);
      g_assert_cmpint (message->msg_case, ==, PH__AUTONAT__V2__MESSAGE__MSG_DIAL_DATA_RESPONSE);
      n = message->dialdataresponse->data.len;
      ph__autonat__v2__message__free_unpacked (message, NULL);

      received += n;
      server->n_chunks++;
      server->smallest_chunk = MIN (server->smallest_chunk, n);
      server->largest_chunk = MAX (server->largest_chunk, n);
      if (n < 100 && received < num_bytes)
        server->small_chunk_before_end = TRUE;
    }
  server->data_received = received;
  return TRUE;
}

static gboolean
fake_v2_respond (FakeV2Server *server, GError **error)
{
  if (server->ask_dial_data > 0)
    {
      if (!write_dial_data_request (server->stream, server->ask_addr_idx, server->ask_dial_data,
                                    error))
        return FALSE;
      /* A refusing client sends nothing and goes away. */
      if (server->expect_no_data)
        return TRUE;
      if (!fake_read_dial_data (server, server->ask_dial_data, error))
        return FALSE;
      if (server->mode == V2_CLOSE_AFTER_DATA)
        return TRUE;
      if (server->ask_twice
          && !write_dial_data_request (server->stream, 0, server->ask_dial_data, error))
        return FALSE;
    }
  if (server->dial_back && !fake_dial_back (server, error))
    return FALSE;
  return write_dial_response (server->stream, server->status, server->addr_idx, server->dial_status,
                              error);
}

static gpointer
fake_v2_thread (gpointer user_data)
{
  FakeV2Server *server = user_data;
  GError **error = &server->error;
  gint64 deadline = ph_deadline_in (10000);
  gboolean ok = TRUE;

  if (server->mode == V2_REJECT_FIRST)
    ok = write_dial_response (server->stream, PH_AUTONAT_V2_RESPONSE_E_REQUEST_REJECTED, 0, 0,
                              error);
  ok = ok && fake_read_request (server, error);
  if (ok)
    {
      switch (server->mode)
        {
          case V2_RESPOND:
          case V2_CLOSE_AFTER_DATA:
            ok = fake_v2_respond (server, error);
            break;
          case V2_RAW:
            ok = write_hex (server->stream, server->raw_hex, error);
            break;
          case V2_STALL:
          case V2_CLOSE:
          case V2_REJECT_FIRST:
          default:
            break;
        }
    }
  if (ok && server->mode != V2_STALL)
    ok = ph_duplex_close_write (server->stream, deadline, NULL, error);
  if (ok)
    server->client_closed_after = read_until_gone (server->stream, deadline);
  ph_duplex_free (server->stream);
  return NULL;
}

static void
fake_v2_clear (FakeV2Server *server)
{
  g_clear_pointer (&server->addr, g_bytes_unref);
  g_clear_error (&server->error);
  g_clear_error (&server->dial_back_handler_error);
}

/* Runs one request against `server`; returns what ph_autonat_v2_request returned. */
static gboolean
run_v2 (FakeV2Server *server, gsize max_dial_data, guint timeout_ms, GCancellable *cancellable,
        PhAutonatV2Result *result, GError **error)
{
  g_autoptr (PhMultiaddr) addr = addr_new (ADDR_TEXT);
  PhDuplex *client = NULL;
  GThread *thread;
  gboolean ok;

  ph_duplex_new_pipe_pair (&client, &server->stream);
  thread = g_thread_new ("fake v2 server", fake_v2_thread, server);
  ok = ph_autonat_v2_request (client, addr, server->nonce ? server->nonce : NONCE, max_dial_data,
                              result, ph_deadline_in (timeout_ms), cancellable, error);
  ph_duplex_free (client);
  g_thread_join (thread);

  /* Whatever happened next, the request itself was right: one address, ours, and the nonce. */
  if (server->got_request)
    {
      g_autoptr (GBytes) expected = hex (ADDR_HEX);

      g_assert_cmpuint (server->n_addrs, ==, 1);
      g_assert_true (g_bytes_equal (server->addr, expected));
    }
  return ok;
}

static void
test_v2_go_same_ip (void)
{
  g_autoptr (PhAutonatNonceBook) book = ph_autonat_nonce_book_new ();
  g_auto (PhAutonatNonceSighting) sighting = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhMultiaddr) expected_local = addr_new ("/ip4/192.168.1.2/tcp/4001");
  FakeV2Server server
      = { V2_RESPOND, .dial_back = TRUE, .book = book, .status = PH_AUTONAT_V2_RESPONSE_OK,
          .dial_status = PH_AUTONAT_V2_DIAL_OK };
  PhAutonatV2Result result;

  server.nonce = ph_autonat_nonce_book_add_random (book);
  g_assert_true (
      run_v2 (&server, PH_AUTONAT_V2_MAX_DIAL_DATA_DEFAULT, 5000, NULL, &result, &error));
  g_assert_no_error (error);
  g_assert_no_error (server.error);
  g_assert_cmpint (result.outcome, ==, PH_AUTONAT_V2_OUTCOME_RESPONSE);
  g_assert_cmpint (result.status, ==, PH_AUTONAT_V2_RESPONSE_OK);
  g_assert_cmpint (result.dial_status, ==, PH_AUTONAT_V2_DIAL_OK);
  g_assert_cmpuint (result.addr_idx, ==, 0);
  g_assert_cmpuint (result.dial_data_requested, ==, 0);
  g_assert_cmpuint (result.dial_data_sent, ==, 0);
  /* The nonce arrived, was answered with 00, and the client closed its side after the answer. */
  g_assert_no_error (server.dial_back_handler_error);
  g_assert_true (server.dial_back_handler_ok);
  g_assert_true (server.dial_back_answered);
  g_assert_true (server.client_closed_after);
  g_assert_true (ph_autonat_nonce_book_check (book, server.nonce, &sighting));
  g_assert_cmpuint (sighting.n_dial_backs, ==, 1);
  g_assert_true (ph_multiaddr_equal (sighting.local, expected_local));
  fake_v2_clear (&server);
}

static void
run_dial_data_case (guint64 ask, gsize max_dial_data, guint expected_chunks)
{
  g_autoptr (PhAutonatNonceBook) book = ph_autonat_nonce_book_new ();
  g_autoptr (GError) error = NULL;
  FakeV2Server server = { V2_RESPOND,
                          .ask_dial_data = ask,
                          .dial_back = TRUE,
                          .book = book,
                          .status = PH_AUTONAT_V2_RESPONSE_OK,
                          .dial_status = PH_AUTONAT_V2_DIAL_OK };
  PhAutonatV2Result result;

  g_test_message ("asking for %" G_GUINT64_FORMAT " bytes", ask);
  server.nonce = ph_autonat_nonce_book_add_random (book);
  g_assert_true (run_v2 (&server, max_dial_data, 5000, NULL, &result, &error));
  g_assert_no_error (error);
  g_assert_no_error (server.error);
  g_assert_cmpint (result.outcome, ==, PH_AUTONAT_V2_OUTCOME_RESPONSE);
  g_assert_cmpint (result.status, ==, PH_AUTONAT_V2_RESPONSE_OK);
  g_assert_cmpint (result.dial_status, ==, PH_AUTONAT_V2_DIAL_OK);
  g_assert_cmpuint (result.dial_data_requested, ==, ask);
  g_assert_cmpuint (result.dial_data_sent, ==, server.data_received);
  g_assert_cmpuint (server.data_received, >=, ask);
  g_assert_cmpuint (server.data_received, <, ask + 100);
  g_assert_cmpuint (server.n_chunks, ==, expected_chunks);
  g_assert_cmpuint (server.smallest_chunk, >=, 100);
  g_assert_cmpuint (server.largest_chunk, <=, 4096);
  g_assert_false (server.small_chunk_before_end);
  /* Nothing after the amount: the next thing the server read was the client's close. */
  g_assert_true (server.client_closed_after);
  g_assert_true (server.dial_back_answered);
  g_assert_true (ph_autonat_nonce_book_check (book, server.nonce, NULL));
  fake_v2_clear (&server);
}

static void
test_v2_dial_data (void)
{
  run_dial_data_case (31337, 100000, 8);   /* 7 × 4096 + 2665 */
  run_dial_data_case (8192, 100000, 2);    /* exactly two full chunks */
  run_dial_data_case (4196, 100000, 2);    /* 4096 + 100 */
  run_dial_data_case (4100, 100000, 2);    /* 4096 + 4, rounded up to 100 */
  run_dial_data_case (50, 100000, 1);      /* less than one chunk's minimum: 100 */
  run_dial_data_case (100000, 100000, 25); /* exactly at our bound */
}

static void
test_v2_dial_data_refused (void)
{
  g_autoptr (GError) error = NULL;
  FakeV2Server server = { V2_RESPOND, .ask_dial_data = 10 * 1000 * 1000, .expect_no_data = TRUE };
  PhAutonatV2Result result;

  g_assert_true (run_v2 (&server, 100000, 5000, NULL, &result, &error));
  g_assert_no_error (error);
  g_assert_no_error (server.error);
  g_assert_cmpint (result.outcome, ==, PH_AUTONAT_V2_OUTCOME_DIAL_DATA_REFUSED);
  g_assert_cmpuint (result.dial_data_requested, ==, 10 * 1000 * 1000);
  g_assert_cmpuint (result.dial_data_sent, ==, 0);
  /* Not one byte of dial data: the next thing the server saw was the stream going away. */
  g_assert_true (server.client_closed_after);
  fake_v2_clear (&server);

  /* One byte over the caller's bound is refused just the same. */
  server = (FakeV2Server){ V2_RESPOND, .ask_dial_data = 30001, .expect_no_data = TRUE };
  g_assert_true (run_v2 (&server, 30000, 5000, NULL, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result.outcome, ==, PH_AUTONAT_V2_OUTCOME_DIAL_DATA_REFUSED);
  g_assert_true (server.client_closed_after);
  fake_v2_clear (&server);
}

static void
test_v2_dial_data_wrong_index (void)
{
  g_autoptr (GError) error = NULL;
  FakeV2Server server
      = { V2_RESPOND, .ask_dial_data = 30000, .ask_addr_idx = 1, .expect_no_data = TRUE };
  PhAutonatV2Result result;

  g_assert_false (run_v2 (&server, 100000, 5000, NULL, &result, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL);
  g_assert_true (server.client_closed_after);
  fake_v2_clear (&server);
}

static void
test_v2_dial_data_twice (void)
{
  g_autoptr (GError) error = NULL;
  FakeV2Server server = { V2_RESPOND, .ask_dial_data = 30000, .ask_twice = TRUE };
  PhAutonatV2Result result;

  g_assert_false (run_v2 (&server, 100000, 5000, NULL, &result, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL);
  g_assert_cmpuint (server.data_received, >=, 30000);
  fake_v2_clear (&server);
}

typedef struct
{
  V2Mode mode;
  gint status;
  guint32 addr_idx;
  gint dial_status;
  PhAutonatV2Outcome outcome;
} StatusCase;

/* Every answer a well-behaved server can give, each taken as it is. */
static void
test_v2_statuses (void)
{
  static const StatusCase cases[] = {
    { V2_REJECT_FIRST, 0, 0, 0, PH_AUTONAT_V2_OUTCOME_RESPONSE },
    { V2_RESPOND, PH_AUTONAT_V2_RESPONSE_E_DIAL_REFUSED, 0, PH_AUTONAT_V2_DIAL_UNUSED,
      PH_AUTONAT_V2_OUTCOME_RESPONSE },
    { V2_RESPOND, PH_AUTONAT_V2_RESPONSE_E_INTERNAL_ERROR, 0, 0, PH_AUTONAT_V2_OUTCOME_RESPONSE },
    { V2_RESPOND, PH_AUTONAT_V2_RESPONSE_E_REQUEST_REJECTED, 0, 0, PH_AUTONAT_V2_OUTCOME_RESPONSE },
    { V2_RESPOND, PH_AUTONAT_V2_RESPONSE_OK, 0, PH_AUTONAT_V2_DIAL_E_DIAL_ERROR,
      PH_AUTONAT_V2_OUTCOME_RESPONSE },
    { V2_RESPOND, PH_AUTONAT_V2_RESPONSE_OK, 0, PH_AUTONAT_V2_DIAL_E_DIAL_BACK_ERROR,
      PH_AUTONAT_V2_OUTCOME_RESPONSE },
    /* js, for an address with a private IP: reads, closes, says nothing */
    { V2_CLOSE, 0, 0, 0, PH_AUTONAT_V2_OUTCOME_NO_RESPONSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const StatusCase *c = &cases[i];
      g_autoptr (GError) error = NULL;
      FakeV2Server server = { c->mode, .status = c->status, .addr_idx = c->addr_idx,
                              .dial_status = c->dial_status };
      PhAutonatV2Result result;

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_assert_true (run_v2 (&server, 100000, 5000, NULL, &result, &error));
      g_assert_no_error (error);
      g_assert_no_error (server.error);
      g_assert_cmpint (result.outcome, ==, c->outcome);
      if (c->outcome == PH_AUTONAT_V2_OUTCOME_RESPONSE)
        {
          gint status
              = c->mode == V2_REJECT_FIRST ? PH_AUTONAT_V2_RESPONSE_E_REQUEST_REJECTED : c->status;

          g_assert_cmpint (result.status, ==, status);
          g_assert_cmpint (result.dial_status, ==, c->dial_status);
        }
      g_assert_true (server.client_closed_after);
      fake_v2_clear (&server);
    }
}

/* A server may say OK without dialing, or dial back with another nonce: only the book tells. */
static void
test_v2_claims_ok (void)
{
  g_autoptr (PhAutonatNonceBook) book = ph_autonat_nonce_book_new ();
  g_autoptr (GError) error = NULL;
  FakeV2Server server
      = { V2_RESPOND, .status = PH_AUTONAT_V2_RESPONSE_OK, .dial_status = PH_AUTONAT_V2_DIAL_OK };
  PhAutonatV2Result result;

  server.nonce = ph_autonat_nonce_book_add_random (book);
  g_assert_true (run_v2 (&server, 100000, 5000, NULL, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result.status, ==, PH_AUTONAT_V2_RESPONSE_OK);
  g_assert_cmpint (result.dial_status, ==, PH_AUTONAT_V2_DIAL_OK);
  g_assert_false (
      ph_autonat_nonce_book_wait (book, server.nonce, ph_deadline_in (100), NULL, NULL));
  fake_v2_clear (&server);

  server = (FakeV2Server){ V2_RESPOND,
                           .dial_back = TRUE,
                           .dial_back_nonce_xor = 0x10,
                           .book = book,
                           .status = PH_AUTONAT_V2_RESPONSE_OK,
                           .dial_status = PH_AUTONAT_V2_DIAL_OK };
  server.nonce = ph_autonat_nonce_book_add_random (book);
  g_assert_true (run_v2 (&server, 100000, 5000, NULL, &result, &error));
  g_assert_no_error (error);
  g_assert_no_error (server.error);
  g_assert_cmpint (result.dial_status, ==, PH_AUTONAT_V2_DIAL_OK);
  /* Our handler refused the stranger's nonce without answering, and marked nothing. */
  g_assert_false (server.dial_back_handler_ok);
  g_assert_error (server.dial_back_handler_error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL);
  g_assert_false (server.dial_back_answered);
  g_assert_false (ph_autonat_nonce_book_check (book, server.nonce, NULL));
  g_assert_false (ph_autonat_nonce_book_check (book, server.nonce ^ 0x10, NULL));
  fake_v2_clear (&server);
}

static void
test_v2_close_after_data (void)
{
  g_autoptr (GError) error = NULL;
  FakeV2Server server = { V2_CLOSE_AFTER_DATA, .ask_dial_data = 40000 };
  PhAutonatV2Result result;

  g_assert_true (run_v2 (&server, 100000, 5000, NULL, &result, &error));
  g_assert_no_error (error);
  g_assert_no_error (server.error);
  g_assert_cmpint (result.outcome, ==, PH_AUTONAT_V2_OUTCOME_NO_RESPONSE);
  g_assert_cmpuint (result.dial_data_requested, ==, 40000);
  g_assert_cmpuint (result.dial_data_sent, ==, server.data_received);
  fake_v2_clear (&server);
}

typedef struct
{
  const char *raw_hex;
  gint code;
} HostileCase;

static void
test_v2_hostile (void)
{
  static const HostileCase cases[] = {
    { "03 ffffff", PH_P2P_ERROR_MALFORMED },              /* garbage */
    { "a08d06 00", PH_P2P_ERROR_TOO_LARGE },              /* 100000 bytes announced */
    { "8140", PH_P2P_ERROR_TOO_LARGE },                   /* 8193 bytes announced */
    { "ffffffffffffffffff01", PH_P2P_ERROR_TOO_LARGE },   /* a 10-byte prefix */
    { "8000", PH_P2P_ERROR_MALFORMED },                   /* non-minimal prefix */
    { "08 1206 08c8", PH_P2P_ERROR_TRUNCATED },           /* closed mid-message */
    { "80", PH_P2P_ERROR_TRUNCATED },                     /* closed mid-prefix */
    { "00", PH_P2P_ERROR_PROTOCOL },                      /* an empty Message */
    { "02 0a00", PH_P2P_ERROR_PROTOCOL },                 /* a DialRequest back at us */
    { "04 22020a00", PH_P2P_ERROR_PROTOCOL },             /* a DialDataResponse */
    { "04 12020807", PH_P2P_ERROR_UNSUPPORTED },          /* status 7 */
    { "07 120508c8011807", PH_P2P_ERROR_UNSUPPORTED },    /* OK, dialStatus 7 */
    { "05 120308c801", PH_P2P_ERROR_PROTOCOL },           /* OK with dialStatus UNUSED */
    { "0a 120808c801100118c801", PH_P2P_ERROR_PROTOCOL }, /* OK for address 1 */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      FakeV2Server server = { V2_RAW, .raw_hex = cases[i].raw_hex };
      PhAutonatV2Result result;

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i].raw_hex);
      g_assert_false (run_v2 (&server, 100000, 5000, NULL, &result, &error));
      g_assert_error (error, PH_P2P_ERROR, cases[i].code);
      g_assert_no_error (server.error);
      fake_v2_clear (&server);
    }
}

/* The largest frame we accept is 8192 bytes: a garbage one of exactly that size is read (and
 * refused as garbage), one byte more is refused before anything is allocated. */
static void
test_v2_frame_bound (void)
{
  g_autoptr (GString) raw = g_string_new ("8040");
  g_autoptr (GError) error = NULL;
  FakeV2Server server = { V2_RAW };
  PhAutonatV2Result result;

  for (guint i = 0; i < 8192; i++)
    g_string_append (raw, "ff");
  server.raw_hex = raw->str;
  g_assert_false (run_v2 (&server, 100000, 5000, NULL, &result, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED);
  fake_v2_clear (&server);
}

static gpointer
cancel_soon_thread (gpointer user_data)
{
  g_usleep (100 * 1000);
  g_cancellable_cancel (user_data);
  return NULL;
}

static void
test_v2_stall (void)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  FakeV2Server server = { V2_STALL };
  PhAutonatV2Result result;
  GThread *canceller;
  gint64 start = g_get_monotonic_time ();

  g_assert_false (run_v2 (&server, 100000, 300, NULL, &result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  g_assert_true (server.got_request);
  fake_v2_clear (&server);
  g_clear_error (&error);

  server = (FakeV2Server){ V2_STALL };
  canceller = g_thread_new ("canceller", cancel_soon_thread, cancellable);
  start = g_get_monotonic_time ();
  g_assert_false (run_v2 (&server, 100000, 10000, cancellable, &result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  g_thread_join (canceller);
  fake_v2_clear (&server);
}

/* --- v1 codec --------------------------------------------------------------------------------- */

/* protocol-notes.md §6 (computed): Message{type: DIAL (08 00, written although it is the default),
 * dial{peer{id, addrs: [/ip4/203.0.113.7/tcp/4001]}}}. */
static void
test_v1_encode (void)
{
  g_autoptr (PhPeerId) id = spec_peer_id ();
  g_autoptr (PhMultiaddr) addr = addr_new (ADDR_TEXT);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) one = ph_autonat_v1_dial_encode (id, &addr, 1, &error);
  g_autoptr (GBytes) none = ph_autonat_v1_dial_encode (id, NULL, 0, &error);

  g_assert_no_error (error);
  assert_bytes (one, "0800 1234 0a32 0a26" SPEC_ED25519_PEER_ID_HEX " 1208" ADDR_HEX);
  assert_bytes (none, "0800 122a 0a28 0a26" SPEC_ED25519_PEER_ID_HEX);
}

/* rust's server takes at most 1024 bytes: we never send more. */
static void
test_v1_encode_bound (void)
{
  g_autoptr (PhPeerId) id = spec_peer_id ();
  g_autoptr (GPtrArray) addrs
      = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_multiaddr_unref);
  gboolean refused = FALSE;

  for (guint n = 0; n < 60; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) request = NULL;
      g_autofree char *text = g_strdup_printf ("/ip6/2001:db8::%x/tcp/4001", n + 1);

      request
          = ph_autonat_v1_dial_encode (id, (PhMultiaddr *const *) addrs->pdata, addrs->len, &error);
      if (request == NULL)
        {
          g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
          refused = TRUE;
        }
      else
        {
          gsize len = g_bytes_get_size (request);

          /* Once refused, always refused; when taken, prefix and message fit. */
          g_assert_false (refused);
          g_assert_cmpuint (len + (len < 128 ? 1 : 2), <=, PH_AUTONAT_V1_MAX_REQUEST_SIZE);
        }
      g_ptr_array_add (addrs, addr_new (text));
    }
  g_assert_true (refused);
}

typedef struct
{
  const char *hex;
  gint error_code; /* -1: decodes */
  PhAutonatV1Status status;
  const char *text; /* NULL: absent */
  const char *addr; /* NULL: absent */
  gboolean addr_skipped;
} V1Vector;

static void
test_v1_decode (void)
{
  static const V1Vector vectors[] = {
    /* type DIAL_RESPONSE, dialResponse{OK, addr} */
    { "0801 1a0c 0800 1a08" ADDR_HEX, -1, PH_AUTONAT_V1_STATUS_OK, NULL, ADDR_TEXT },
    /* go's refusal: E_DIAL_REFUSED "no dialable addresses" */
    { "0801 1a19 0865 1215 6e6f206469616c61626c6520616464726573736573", -1,
      PH_AUTONAT_V1_STATUS_E_DIAL_REFUSED, "no dialable addresses", NULL },
    { "0801 1a0f 0864 120b 6469616c206661696c6564", -1, PH_AUTONAT_V1_STATUS_E_DIAL_ERROR,
      "dial failed", NULL },
    { "0801 1a03 08c801", -1, PH_AUTONAT_V1_STATUS_E_BAD_REQUEST, NULL, NULL },
    { "0801 1a03 08ac02", -1, PH_AUTONAT_V1_STATUS_E_INTERNAL_ERROR, NULL, NULL },
    /* An empty statusText, an addr that does not parse */
    { "0801 1a08 0800 1200 1a02 ffff", -1, PH_AUTONAT_V1_STATUS_OK, "", NULL, TRUE },
    /* Made fit to show: newline → space, NUL, a bad byte, U+202E (a bidi override) → U+FFFD */
    { "0801 1a0f 0864 120b 610a6200 63ff64 e280ae 65", -1, PH_AUTONAT_V1_STATUS_E_DIAL_ERROR,
      "a b\xef\xbf\xbd"
      "c\xef\xbf\xbd"
      "d\xef\xbf\xbd"
      "e",
      NULL },
    /* Unknown fields are skipped */
    { "0801 1a06 0800 2000 2801", -1, PH_AUTONAT_V1_STATUS_OK, NULL, NULL },
    { "0801 1a02 0807", PH_P2P_ERROR_UNSUPPORTED }, /* status 7 */
    { "1a02 0800", PH_P2P_ERROR_PROTOCOL },         /* no type */
    { "0800 1a02 0800", PH_P2P_ERROR_PROTOCOL },    /* type DIAL */
    { "0801", PH_P2P_ERROR_PROTOCOL },              /* no dialResponse */
    { "0801 1a00", PH_P2P_ERROR_PROTOCOL },         /* no status: not a silent OK */
    { "", PH_P2P_ERROR_PROTOCOL },
    { "0801 1a05 08", PH_P2P_ERROR_MALFORMED }, /* length past the end */
    { "ff", PH_P2P_ERROR_MALFORMED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      const V1Vector *v = &vectors[i];
      g_autoptr (GBytes) bytes = hex (v->hex);
      g_autoptr (GError) error = NULL;
      g_auto (PhAutonatV1Result) result = { 0 };
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      gboolean ok = ph_autonat_v1_response_decode (data, len, &result, &error);

      g_test_message ("vector %" G_GSIZE_FORMAT ": %s", i, v->hex);
      if (v->error_code >= 0)
        {
          g_assert_false (ok);
          g_assert_error (error, PH_P2P_ERROR, v->error_code);
          g_assert_null (result.status_text);
          g_assert_null (result.addr);
          continue;
        }
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpint (result.outcome, ==, PH_AUTONAT_V1_OUTCOME_RESPONSE);
      g_assert_cmpint (result.status, ==, v->status);
      g_assert_cmpstr (result.status_text, ==, v->text);
      g_assert_cmpint (result.addr_skipped, ==, v->addr_skipped);
      if (v->addr == NULL)
        g_assert_null (result.addr);
      else
        {
          g_autofree char *text = ph_multiaddr_to_string (result.addr);

          g_assert_cmpstr (text, ==, v->addr);
        }
    }
}

static void
test_v1_status_text_bound (void)
{
  g_autoptr (GByteArray) message = g_byte_array_new ();
  g_auto (PhAutonatV1Result) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = NULL;
  static const guint8 head[] = { 0x08, 0x01, 0x1a, 0xed, 0x07, 0x08, 0x64, 0x12, 0xe8, 0x07 };
  guint8 x = 'x';

  /* dialResponse of 1005 bytes: status, then a statusText of 1000 'x'. */
  g_byte_array_append (message, head, sizeof head);
  for (guint i = 0; i < 1000; i++)
    g_byte_array_append (message, &x, 1);
  g_assert_true (ph_autonat_v1_response_decode (message->data, message->len, &result, &error));
  g_assert_no_error (error);
  expected = g_strnfill (PH_AUTONAT_V1_MAX_STATUS_TEXT, 'x');
  g_assert_true (g_str_has_prefix (result.status_text, expected));
  g_assert_cmpstr (result.status_text + PH_AUTONAT_V1_MAX_STATUS_TEXT, ==, "…");
  g_assert_true (g_utf8_validate (result.status_text, -1, NULL));
}

/* --- v1 against fake servers ------------------------------------------------------------------ */

typedef enum
{
  V1_RESPOND, /* check the request, write raw_hex (a whole frame), close */
  V1_CLOSE,   /* js: read the request, close the stream without a word */
  V1_VANISH,  /* read the request, then drop the stream outright (the connection went away) */
  V1_STALL,
} V1Mode;

typedef struct
{
  V1Mode mode;
  const char *raw_hex;
  PhDuplex *stream;
  gboolean got_request;
  gboolean type_explicit; /* the request starts 08 00 */
  gsize request_len;
  gboolean id_matches;
  gsize n_addrs;
  gboolean client_closed_after;
  GError *error;
} FakeV1Server;

static gpointer
fake_v1_thread (gpointer user_data)
{
  FakeV1Server *server = user_data;
  g_autoptr (PhPeerId) id = spec_peer_id ();
  g_autoptr (GBytes) frame = NULL;
  gint64 deadline = ph_deadline_in (10000);
  Ph__Autonat__V1__Message *message;
  const guint8 *data, *id_bytes;
  gsize len, id_len;
  gboolean ok = TRUE;

  frame = ph_duplex_read_frame (server->stream, 1024, deadline, NULL, &server->error);
  if (frame == NULL)
    {
      /* A request we never got, because the client did not send it. */
      if (g_error_matches (server->error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED))
        g_clear_error (&server->error);
      ph_duplex_free (server->stream);
      return NULL;
    }
  data = g_bytes_get_data (frame, &len);
  server->got_request = TRUE;
  server->request_len = len;
  server->type_explicit = len >= 2 && data[0] == 0x08 && data[1] == 0x00;
  message = ph__autonat__v1__message__unpack (NULL, len, data);
  g_assert_nonnull (message);
  g_assert_nonnull (message->dial);
  g_assert_nonnull (message->dial->peer);
  id_bytes = ph_peer_id_get_bytes (id, &id_len);
  server->id_matches = message->dial->peer->has_id && message->dial->peer->id.len == id_len
                       && memcmp (message->dial->peer->id.data, id_bytes, id_len) == 0;
  server->n_addrs = message->dial->peer->n_addrs;
  ph__autonat__v1__message__free_unpacked (message, NULL);

  switch (server->mode)
    {
      case V1_RESPOND:
        ok = write_hex (server->stream, server->raw_hex, &server->error);
        break;
      case V1_VANISH:
        ph_duplex_free (server->stream);
        return NULL;
      case V1_CLOSE:
      case V1_STALL:
      default:
        break;
    }
  if (ok && server->mode != V1_STALL)
    ok = ph_duplex_close_write (server->stream, deadline, NULL, &server->error);
  if (ok)
    server->client_closed_after = read_until_gone (server->stream, deadline);
  ph_duplex_free (server->stream);
  return NULL;
}

static gboolean
run_v1 (FakeV1Server *server, guint n_addrs, guint timeout_ms, PhAutonatV1Result *result,
        GError **error)
{
  g_autoptr (PhPeerId) id = spec_peer_id ();
  g_autoptr (GPtrArray) addrs
      = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_multiaddr_unref);
  PhDuplex *client = NULL;
  GThread *thread;
  gboolean ok;

  for (guint i = 0; i < n_addrs; i++)
    {
      g_autofree char *text = g_strdup_printf ("/ip6/2001:db8::%x/tcp/4001", i + 1);

      g_ptr_array_add (addrs, addr_new (i == 0 ? ADDR_TEXT : text));
    }
  ph_duplex_new_pipe_pair (&client, &server->stream);
  thread = g_thread_new ("fake v1 server", fake_v1_thread, server);
  ok = ph_autonat_v1_request (client, id, (PhMultiaddr *const *) addrs->pdata, n_addrs, result,
                              ph_deadline_in (timeout_ms), NULL, error);
  ph_duplex_free (client);
  g_thread_join (thread);
  if (server->got_request)
    {
      g_assert_true (server->type_explicit);
      g_assert_true (server->id_matches);
      g_assert_cmpuint (server->n_addrs, ==, n_addrs);
      g_assert_cmpuint (server->request_len, <, 1024);
    }
  return ok;
}

static void
test_v1_ok (void)
{
  g_autoptr (GError) error = NULL;
  g_auto (PhAutonatV1Result) result = { 0 };
  g_autofree char *addr = NULL;
  FakeV1Server server = { V1_RESPOND, "10 0801 1a0c 0800 1a08" ADDR_HEX };

  g_assert_true (run_v1 (&server, 1, 5000, &result, &error));
  g_assert_no_error (error);
  g_assert_no_error (server.error);
  g_assert_cmpint (result.outcome, ==, PH_AUTONAT_V1_OUTCOME_RESPONSE);
  g_assert_cmpint (result.status, ==, PH_AUTONAT_V1_STATUS_OK);
  addr = ph_multiaddr_to_string (result.addr);
  g_assert_cmpstr (addr, ==, ADDR_TEXT);
  g_assert_true (server.client_closed_after);
}

typedef struct
{
  V1Mode mode;
  const char *raw_hex;
  guint n_addrs;
  PhAutonatV1Outcome outcome;
  PhAutonatV1Status status;
  const char *text;
} V1Case;

static void
test_v1_answers (void)
{
  static const V1Case cases[] = {
    { V1_RESPOND, "1d 0801 1a19 0865 1215 6e6f206469616c61626c6520616464726573736573", 1,
      PH_AUTONAT_V1_OUTCOME_RESPONSE, PH_AUTONAT_V1_STATUS_E_DIAL_REFUSED,
      "no dialable addresses" },
    { V1_RESPOND, "11 0801 1a0d 0864 1209 6469616c206661696c", 3, PH_AUTONAT_V1_OUTCOME_RESPONSE,
      PH_AUTONAT_V1_STATUS_E_DIAL_ERROR, "dial fail" },
    { V1_RESPOND, "07 0801 1a03 08c801", 0, PH_AUTONAT_V1_OUTCOME_RESPONSE,
      PH_AUTONAT_V1_STATUS_E_BAD_REQUEST, NULL },
    /* js: reads, then closes without a word */
    { V1_CLOSE, NULL, 1, PH_AUTONAT_V1_OUTCOME_NO_RESPONSE },
    /* js for real: the whole connection goes */
    { V1_VANISH, NULL, 1, PH_AUTONAT_V1_OUTCOME_NO_RESPONSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const V1Case *c = &cases[i];
      g_autoptr (GError) error = NULL;
      g_auto (PhAutonatV1Result) result = { 0 };
      FakeV1Server server = { c->mode, c->raw_hex };

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_assert_true (run_v1 (&server, c->n_addrs, 5000, &result, &error));
      g_assert_no_error (error);
      g_assert_no_error (server.error);
      g_assert_cmpint (result.outcome, ==, c->outcome);
      if (c->outcome == PH_AUTONAT_V1_OUTCOME_RESPONSE)
        {
          g_assert_cmpint (result.status, ==, c->status);
          g_assert_cmpstr (result.status_text, ==, c->text);
          g_assert_true (server.client_closed_after);
        }
      else
        g_assert_null (result.status_text);
    }
}

static void
test_v1_hostile (void)
{
  static const HostileCase cases[] = {
    { "a08d06 00", PH_P2P_ERROR_TOO_LARGE },    /* 100000 bytes announced */
    { "8140", PH_P2P_ERROR_TOO_LARGE },         /* 8193 */
    { "10 0801 1a0c", PH_P2P_ERROR_TRUNCATED }, /* closed mid-message */
    { "03 ffffff", PH_P2P_ERROR_MALFORMED },
    { "02 0800", PH_P2P_ERROR_PROTOCOL }, /* type DIAL, nothing else */
    { "06 0801 1a02 0807", PH_P2P_ERROR_UNSUPPORTED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_auto (PhAutonatV1Result) result = { 0 };
      FakeV1Server server = { V1_RESPOND, cases[i].raw_hex };

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i].raw_hex);
      g_assert_false (run_v1 (&server, 1, 5000, &result, &error));
      g_assert_error (error, PH_P2P_ERROR, cases[i].code);
      g_assert_null (result.status_text);
      g_assert_null (result.addr);
    }
}

static void
test_v1_too_many_addrs (void)
{
  g_autoptr (GError) error = NULL;
  g_auto (PhAutonatV1Result) result = { 0 };
  FakeV1Server server = { V1_RESPOND, "07 0801 1a03 08c801" };

  g_assert_false (run_v1 (&server, 50, 5000, &result, &error));
  g_assert_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE);
  /* Nothing was sent. */
  g_assert_false (server.got_request);
  g_assert_no_error (server.error);
}

static void
test_v1_stall (void)
{
  g_autoptr (GError) error = NULL;
  g_auto (PhAutonatV1Result) result = { 0 };
  FakeV1Server server = { V1_STALL };
  gint64 start = g_get_monotonic_time ();

  g_assert_false (run_v1 (&server, 1, 300, &result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  g_assert_true (server.got_request);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/autonat/v2/encode-dial-request", test_v2_encode_dial_request);
  g_test_add_func ("/autonat/v2/dial-back-codec", test_v2_dial_back_codec);
  g_test_add_func ("/autonat/v2/server-message-decode", test_v2_server_message_decode);
  g_test_add_func ("/autonat/strings", test_v2_strings);
  g_test_add_func ("/autonat/nonce-book/basics", test_nonce_book_basics);
  g_test_add_func ("/autonat/nonce-book/wait", test_nonce_book_wait);
  g_test_add_func ("/autonat/v2/dial-back/serve", test_dial_back_serve);
  g_test_add_func ("/autonat/v2/dial-back/hostile", test_dial_back_hostile);
  g_test_add_func ("/autonat/v2/dial-back/book", test_dial_back_book);
  g_test_add_func ("/autonat/v2/request/go-same-ip", test_v2_go_same_ip);
  g_test_add_func ("/autonat/v2/request/dial-data", test_v2_dial_data);
  g_test_add_func ("/autonat/v2/request/dial-data-refused", test_v2_dial_data_refused);
  g_test_add_func ("/autonat/v2/request/dial-data-wrong-index", test_v2_dial_data_wrong_index);
  g_test_add_func ("/autonat/v2/request/dial-data-twice", test_v2_dial_data_twice);
  g_test_add_func ("/autonat/v2/request/statuses", test_v2_statuses);
  g_test_add_func ("/autonat/v2/request/claims-ok", test_v2_claims_ok);
  g_test_add_func ("/autonat/v2/request/close-after-data", test_v2_close_after_data);
  g_test_add_func ("/autonat/v2/request/hostile", test_v2_hostile);
  g_test_add_func ("/autonat/v2/request/frame-bound", test_v2_frame_bound);
  g_test_add_func ("/autonat/v2/request/stall", test_v2_stall);
  g_test_add_func ("/autonat/v1/encode", test_v1_encode);
  g_test_add_func ("/autonat/v1/encode-bound", test_v1_encode_bound);
  g_test_add_func ("/autonat/v1/decode", test_v1_decode);
  g_test_add_func ("/autonat/v1/status-text-bound", test_v1_status_text_bound);
  g_test_add_func ("/autonat/v1/request/ok", test_v1_ok);
  g_test_add_func ("/autonat/v1/request/answers", test_v1_answers);
  g_test_add_func ("/autonat/v1/request/hostile", test_v1_hostile);
  g_test_add_func ("/autonat/v1/request/too-many-addrs", test_v1_too_many_addrs);
  g_test_add_func ("/autonat/v1/request/stall", test_v1_stall);

  return g_test_run ();
}
