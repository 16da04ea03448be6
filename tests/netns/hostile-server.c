/* hostile-server.c: an AutoNAT v2 "server" that misbehaves on purpose, for the netns suite
 *
 *   hostile-server MODE LISTEN-MULTIADDR
 *
 * MODE: stall (reads the request, never answers), close (half a message, then closes), garbage
 * (a frame of junk), lie (claims it dialed us, without dialing), oversize (announces a 16 MiB
 * message). Prints one line, the address to dial with /p2p, then serves until killed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>

#include "p2p/ph-autonat.h"
#include "p2p/ph-connection.h"
#include "p2p/ph-listener.h"
#include "p2p/ph-peer-id.h"

static const char *mode;

static void
write_raw (PhDuplex *stream, const guint8 *data, gsize len, gint64 deadline,
           GCancellable *cancellable)
{
  ph_duplex_write (stream, data, len, deadline, cancellable, NULL);
}

static void
misbehave (PhConnection *connection, PhDuplex *stream, const char *protocol, gint64 deadline,
           GCancellable *cancellable, gpointer user_data)
{
  g_autoptr (GBytes) request = ph_duplex_read_frame (stream, 8192, deadline, cancellable, NULL);

  if (!request)
    return;
  if (g_str_equal (mode, "stall"))
    {
      while (!g_cancellable_is_cancelled (cancellable) && g_get_monotonic_time () < deadline)
        g_usleep (50 * G_TIME_SPAN_MILLISECOND);
    }
  else if (g_str_equal (mode, "close"))
    {
      /* a length of 8, then 3 of those bytes */
      static const guint8 half[] = { 0x08, 0x12, 0x06, 0x08 };
      write_raw (stream, half, sizeof half, deadline, cancellable);
      ph_duplex_close_write (stream, deadline, cancellable, NULL);
    }
  else if (g_str_equal (mode, "garbage"))
    {
      static const guint8 junk[]
          = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x17, 0x42 };
      write_raw (stream, junk, sizeof junk, deadline, cancellable);
    }
  else if (g_str_equal (mode, "lie"))
    {
      /* Message{dialResponse{status: OK (200), dialStatus: OK (200)}}, never having dialed */
      static const guint8 lie[] = { 0x08, 0x12, 0x06, 0x08, 0xc8, 0x01, 0x18, 0xc8, 0x01 };
      write_raw (stream, lie, sizeof lie, deadline, cancellable);
      ph_duplex_close_write (stream, deadline, cancellable, NULL);
    }
  else if (g_str_equal (mode, "oversize"))
    {
      static const guint8 huge[] = { 0x80, 0x80, 0x80, 0x08, 0x12, 0x00 };
      write_raw (stream, huge, sizeof huge, deadline, cancellable);
    }
}

int
main (int argc, char *argv[])
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) key = NULL;
  g_autoptr (PhMultiaddr) listen = NULL;
  g_autoptr (PhListener) listener = NULL;
  g_autoptr (GPtrArray) addrs = NULL;
  g_autoptr (PhPeerId) id = NULL;
  g_autofree char *id_text = NULL;
  g_autofree char *addr_text = NULL;
  PhListenerOptions opts;

  if (argc != 3)
    {
      g_printerr ("usage: hostile-server stall|close|garbage|lie|oversize LISTEN-MULTIADDR\n");
      return 2;
    }
  mode = argv[1];
  if (!(listen = ph_multiaddr_new_from_string (argv[2], &error))
      || !(key = ph_private_key_generate_ed25519 (&error)))
    {
      g_printerr ("hostile-server: %s\n", error->message);
      return 1;
    }

  ph_listener_options_init (&opts);
  listener = ph_listener_new (key, &opts);
  ph_listener_add_handler (listener, PH_AUTONAT_V2_DIAL_REQUEST_PROTOCOL_ID, 60000, misbehave, NULL,
                           NULL);
  if (!ph_listener_start (listener, &listen, 1, &error))
    {
      g_printerr ("hostile-server: %s\n", error->message);
      return 1;
    }

  addrs = ph_listener_get_addrs (listener);
  id = ph_peer_id_from_public_key (ph_private_key_get_public_key (key));
  id_text = ph_peer_id_to_string (id);
  addr_text = ph_multiaddr_to_string (g_ptr_array_index (addrs, 0));
  printf ("%s/p2p/%s\n", addr_text, id_text);
  fflush (stdout);

  for (;;)
    g_usleep (G_USEC_PER_SEC);
  return 0;
}
