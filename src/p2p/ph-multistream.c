/* ph-multistream.c: multistream-select 1.0
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "ph-multistream.h"
#include "ph-p2p-error.h"
#include "ph-varint.h"

#define NOT_AVAILABLE "na"

/* Codec */

static gboolean
check_text (const char *text, gsize len, GError **error)
{
  if (memchr (text, '\0', len) != NULL)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "multistream message holds a NUL byte");
      return FALSE;
    }
  /* The newline ends the message; one inside would make the echo ambiguous. */
  if (memchr (text, '\n', len) != NULL)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "multistream message holds an embedded newline");
      return FALSE;
    }
  if (!g_utf8_validate_len (text, len, NULL))
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "multistream message is not UTF-8");
      return FALSE;
    }
  return TRUE;
}

gboolean
ph_multistream_append_line (GByteArray *buffer, const char *line, GError **error)
{
  gsize len;

  g_return_val_if_fail (buffer != NULL, FALSE);
  g_return_val_if_fail (line != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  len = strlen (line);
  if (len + 1 > PH_MULTISTREAM_MAX_MESSAGE)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "multistream message of %" G_GSIZE_FORMAT " bytes, over the limit of %d",
                   len + 1, PH_MULTISTREAM_MAX_MESSAGE);
      return FALSE;
    }
  if (!check_text (line, len, error))
    return FALSE;

  /* multistream-select README, notes 1 and 2: the length counts the trailing newline. */
  ph_varint_append (buffer, len + 1);
  g_byte_array_append (buffer, (const guint8 *) line, (guint) len);
  g_byte_array_append (buffer, (const guint8 *) "\n", 1);
  return TRUE;
}

gboolean
ph_multistream_parse_line (const guint8 *data, gsize len, char **line_out, gsize *consumed,
                           GError **error)
{
  guint64 message_len;
  gsize prefix_len;
  const char *text;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ph_varint_decode (data, len, &message_len, &prefix_len, error))
    return FALSE;
  /* Bound before looking for the body, so a stream reader never waits for (or buffers) it. */
  if (message_len > PH_MULTISTREAM_MAX_MESSAGE)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "multistream message of %" G_GUINT64_FORMAT " bytes, over the limit of %d",
                   message_len, PH_MULTISTREAM_MAX_MESSAGE);
      return FALSE;
    }
  if (len - prefix_len < message_len)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                   "multistream message needs %" G_GUINT64_FORMAT " bytes, %" G_GSIZE_FORMAT
                   " present",
                   message_len, len - prefix_len);
      return FALSE;
    }

  text = (const char *) data + prefix_len;
  if (message_len == 0 || text[message_len - 1] != '\n')
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_MALFORMED,
                           "multistream message lacks its trailing newline");
      return FALSE;
    }
  if (!check_text (text, message_len - 1, error))
    return FALSE;

  if (line_out)
    *line_out = g_strndup (text, message_len - 1);
  if (consumed)
    *consumed = prefix_len + message_len;
  return TRUE;
}

/* Negotiation */

/* Reads one message and nothing after it: the length prefix byte by byte, then exactly its body. */
static char *
read_line (PhDuplex *io, gint64 deadline, GCancellable *cancellable, GError **error)
{
  guint8 message[PH_VARINT_MAX_LEN + PH_MULTISTREAM_MAX_MESSAGE];
  g_autoptr (GError) local_error = NULL;
  guint64 message_len;
  gsize prefix_len;
  char *line = NULL;

  if (!ph_duplex_read_varint (io, &message_len, deadline, cancellable, error))
    return NULL;
  if (message_len > PH_MULTISTREAM_MAX_MESSAGE)
    {
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_TOO_LARGE,
                   "multistream message of %" G_GUINT64_FORMAT " bytes, over the limit of %d",
                   message_len, PH_MULTISTREAM_MAX_MESSAGE);
      return NULL;
    }

  /* Rebuild the message as it came (the decoder accepts only the minimal form) so the one
   * parser checks it. */
  prefix_len = ph_varint_encode (message_len, message);
  if (!ph_duplex_read_exact (io, message + prefix_len, message_len, deadline, cancellable,
                             &local_error))
    {
      /* The prefix arrived, so an end of stream here cuts the message. */
      if (g_error_matches (local_error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED))
        g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_TRUNCATED,
                             "end of stream inside a multistream message");
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (!ph_multistream_parse_line (message, prefix_len + message_len, &line, NULL, error))
    return NULL;
  return line;
}

static gboolean
write_lines (PhDuplex *io, const char *first, const char *second, gint64 deadline,
             GCancellable *cancellable, GError **error)
{
  g_autoptr (GByteArray) buffer = g_byte_array_new ();

  if (!ph_multistream_append_line (buffer, first, error))
    return FALSE;
  if (second != NULL && !ph_multistream_append_line (buffer, second, error))
    return FALSE;
  return ph_duplex_write (io, buffer->data, buffer->len, deadline, cancellable, error);
}

static gboolean
expect_header (PhDuplex *io, gint64 deadline, GCancellable *cancellable, GError **error)
{
  g_autofree char *header = read_line (io, deadline, cancellable, error);
  g_autofree char *escaped = NULL;

  if (header == NULL)
    return FALSE;
  /* connections/README.md: anything but the header as the first message aborts. */
  if (strcmp (header, PH_MULTISTREAM_PROTOCOL_ID) == 0)
    return TRUE;
  escaped = g_strescape (header, NULL);
  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION,
               "peer does not speak " PH_MULTISTREAM_PROTOCOL_ID " (it sent “%s”)", escaped);
  return FALSE;
}

gboolean
ph_multistream_select (PhDuplex *io, const char *const *protocols, char **chosen, gint64 deadline,
                       GCancellable *cancellable, GError **error)
{
  g_autoptr (GByteArray) scratch = g_byte_array_new ();
  guint n_protocols;

  g_return_val_if_fail (io != NULL, FALSE);
  g_return_val_if_fail (protocols != NULL && protocols[0] != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Refuse a bad proposal before anything goes on the wire. */
  for (n_protocols = 0; protocols[n_protocols] != NULL; n_protocols++)
    if (!ph_multistream_append_line (scratch, protocols[n_protocols], error))
      return FALSE;

  /* multistream-select README, Implementation Recommendations: header and first proposal in one
   * packet, saving a round trip. */
  if (!write_lines (io, PH_MULTISTREAM_PROTOCOL_ID, protocols[0], deadline, cancellable, error))
    return FALSE;
  if (!expect_header (io, deadline, cancellable, error))
    return FALSE;

  for (guint i = 0; i < n_protocols; i++)
    {
      g_autofree char *answer = NULL;
      g_autofree char *escaped = NULL;

      if (i > 0 && !write_lines (io, protocols[i], NULL, deadline, cancellable, error))
        return FALSE;
      answer = read_line (io, deadline, cancellable, error);
      if (answer == NULL)
        return FALSE;
      if (strcmp (answer, protocols[i]) == 0)
        {
          if (chosen)
            *chosen = g_strdup (protocols[i]);
          return TRUE;
        }
      if (strcmp (answer, NOT_AVAILABLE) == 0)
        continue;

      escaped = g_strescape (answer, NULL);
      g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION,
                   "peer answered “%s” to the proposal of a protocol", escaped);
      return FALSE;
    }

  g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION,
               "peer supports none of the %u protocols proposed", n_protocols);
  return FALSE;
}

static gboolean
is_supported (const char *const *supported, const char *protocol)
{
  for (gsize i = 0; supported[i] != NULL; i++)
    if (strcmp (supported[i], protocol) == 0)
      return TRUE;
  return FALSE;
}

gboolean
ph_multistream_handle (PhDuplex *io, const char *const *supported, char **chosen, gint64 deadline,
                       GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (io != NULL, FALSE);
  g_return_val_if_fail (supported != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Both sides send the header without waiting for the other's (connections/README.md), so a
   * dialer that waits for ours before proposing is served too. */
  if (!write_lines (io, PH_MULTISTREAM_PROTOCOL_ID, NULL, deadline, cancellable, error))
    return FALSE;
  if (!expect_header (io, deadline, cancellable, error))
    return FALSE;

  for (guint attempt = 1;; attempt++)
    {
      g_autofree char *proposal = read_line (io, deadline, cancellable, error);

      if (proposal == NULL)
        return FALSE;
      /* `ls` is optional (README §Listing) and go-multistream answers it with na too. */
      if (strcmp (proposal, NOT_AVAILABLE) != 0 && strcmp (proposal, "ls") != 0
          && is_supported (supported, proposal))
        {
          if (!write_lines (io, proposal, NULL, deadline, cancellable, error))
            return FALSE;
          if (chosen)
            *chosen = g_steal_pointer (&proposal);
          return TRUE;
        }
      if (!write_lines (io, NOT_AVAILABLE, NULL, deadline, cancellable, error))
        return FALSE;
      if (attempt >= PH_MULTISTREAM_MAX_ATTEMPTS)
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT,
                       "peer proposed %u protocols we do not speak", attempt);
          return FALSE;
        }
    }
}
