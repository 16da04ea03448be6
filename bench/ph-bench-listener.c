/* ph-bench-listener.c: hosts one PhListener (identify and ping only) for bench/handshake.sh
 *
 *   ph-bench-listener [--listen MA] [--max-connections N]
 *
 * Prints its full address (with /p2p) on the first line of stdout, serves until SIGINT or SIGTERM,
 * then prints how many inbound handshakes succeeded and failed on stderr. Nothing else: the
 * process is the thing being measured.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib-unix.h>
#include <stdio.h>

#include "p2p/ph-listener.h"

static gint handshakes_ok;
static gint handshakes_failed;

static void
connection_func (PhListener *listener, PhConnection *connection, PhMultiaddr *remote_addr,
                 const GError *error, gpointer user_data)
{
  g_atomic_int_inc (error == NULL ? &handshakes_ok : &handshakes_failed);
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autofree char *listen_text = g_strdup ("/ip4/127.0.0.1/tcp/0");
  gint max_connections = 1024;
  GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen_text, "Listen address", "MA" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &max_connections,
      "Inbound connections at once (the listener's default is 64)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- host a PhListener");
  g_autoptr (GError) error = NULL;
  g_autoptr (PhPrivateKey) identity = NULL;
  g_autoptr (PhMultiaddr) listen = NULL;
  g_autoptr (PhListener) listener = NULL;
  g_autoptr (GPtrArray) addrs = NULL;
  g_autoptr (PhPeerId) peer = NULL;
  g_autoptr (PhMultiaddr) full = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree char *full_text = NULL;
  const guint8 *peer_bytes;
  PhListenerOptions opts;
  gsize peer_len;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || max_connections <= 0)
    {
      g_printerr ("ph-bench-listener: %s\n", error ? error->message : "bad --max-connections");
      return 2;
    }

  identity = ph_private_key_generate_ed25519 (&error);
  listen = identity ? ph_multiaddr_new_from_string (listen_text, &error) : NULL;
  if (listen == NULL)
    {
      g_printerr ("ph-bench-listener: %s\n", error->message);
      return 1;
    }

  ph_listener_options_init (&opts);
  opts.max_connections = (guint) max_connections;
  listener = ph_listener_new (identity, &opts);
  ph_listener_set_connection_func (listener, connection_func, NULL, NULL);
  if (!ph_listener_start (listener, &listen, 1, &error))
    {
      g_printerr ("ph-bench-listener: %s\n", error->message);
      return 1;
    }

  addrs = ph_listener_get_addrs (listener);
  peer = ph_peer_id_from_public_key (ph_private_key_get_public_key (identity));
  peer_bytes = ph_peer_id_get_bytes (peer, &peer_len);
  full = ph_multiaddr_with_peer_id (g_ptr_array_index (addrs, 0), peer_bytes, peer_len, &error);
  if (full == NULL)
    {
      g_printerr ("ph-bench-listener: %s\n", error->message);
      return 1;
    }
  full_text = ph_multiaddr_to_string (full);
  printf ("%s\n", full_text);
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_main_loop_run (loop);

  ph_listener_stop (listener);
  g_printerr ("ph-bench-listener: handshakes ok %d failed %d\n", g_atomic_int_get (&handshakes_ok),
              g_atomic_int_get (&handshakes_failed));
  return 0;
}
