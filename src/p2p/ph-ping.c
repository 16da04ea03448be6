/* ph-ping.c: libp2p ping (libp2p/specs ping/ping.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ph-ping.h"

#include <string.h>

#include <openssl/rand.h>

#include "ph-p2p-error.h"

/* One round: write a fresh payload, wait for the whole echo, compare. */
static gboolean
ping_once (PhDuplex *stream, guint64 *rtt_us, gint64 deadline, GCancellable *cancellable,
           GError **error)
{
  guint8 payload[PH_PING_PAYLOAD_LEN];
  guint8 echo[PH_PING_PAYLOAD_LEN];
  gint64 start;

  /* ping.md: random data, so an echo cannot be produced without reading ours. */
  if (RAND_bytes (payload, sizeof payload) != 1)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_CRYPTO,
                           "no random bytes for the ping payload");
      return FALSE;
    }

  start = g_get_monotonic_time ();
  if (!ph_duplex_write (stream, payload, sizeof payload, deadline, cancellable, error)
      || !ph_duplex_read_exact (stream, echo, sizeof echo, deadline, cancellable, error))
    return FALSE;
  if (rtt_us != NULL)
    *rtt_us = (guint64) (g_get_monotonic_time () - start);

  if (memcmp (payload, echo, sizeof payload) != 0)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_PROTOCOL,
                           "the echo differs from the payload sent");
      return FALSE;
    }
  return TRUE;
}

gboolean
ph_ping (PhDuplex *stream, guint count, guint64 *rtts_us_out, gint64 deadline,
         GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (count > 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < count; i++)
    {
      if (!ping_once (stream, rtts_us_out ? &rtts_us_out[i] : NULL, deadline, cancellable, error))
        {
          g_prefix_error (error, "ping %u of %u: ", i + 1, count);
          return FALSE;
        }
    }

  /* ping.md: the dialer closes its write side after the last payload. */
  return ph_duplex_close_write (stream, deadline, cancellable, error);
}

gboolean
ph_ping_serve (PhDuplex *stream, guint max_pings, gint64 deadline, GCancellable *cancellable,
               GError **error)
{
  guint8 payload[PH_PING_PAYLOAD_LEN];

  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (max_pings > 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint n = 0;; n++)
    {
      GError *local_error = NULL;

      if (!ph_duplex_read_exact (stream, payload, sizeof payload, deadline, cancellable,
                                 &local_error))
        {
          /* The end of the stream between two payloads is the dialer's way to say it is done. */
          if (g_error_matches (local_error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED))
            {
              g_error_free (local_error);
              break;
            }
          g_propagate_prefixed_error (error, local_error, "ping payload %u: ", n + 1);
          return FALSE;
        }
      if (n == max_pings)
        {
          g_set_error (error, PH_P2P_ERROR, PH_P2P_ERROR_LIMIT,
                       "peer sent more than %u pings on one stream", max_pings);
          return FALSE;
        }
      if (!ph_duplex_write (stream, payload, sizeof payload, deadline, cancellable, error))
        return FALSE;
    }

  return ph_duplex_close_write (stream, deadline, cancellable, error);
}
