/* ph-listener.c: listening TCP sockets, the accept thread, and the inbound connections it owns
 *
 * The accept thread polls the listening sockets, a stop cancellable, and a wake-up cancellable
 * that a connection's thread fires when it ends, so that finished connections are reaped (their
 * thread joined, their memory freed) without waiting for the next accept.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ph-listener.h"
#include "ph-connection-private.h"

#include <errno.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "ph-p2p-error.h"

#define DEFAULT_MAX_CONNECTIONS 64
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define LISTEN_BACKLOG 128
/* How long ph_listener_stop() waits for handlers that are still running. */
#define STOP_WAIT_MS 1000
/* After an accept error other than "nothing to accept" (EMFILE, ENOBUFS): a pause, so that a
 * persistent error does not spin the thread. */
#define ACCEPT_ERROR_PAUSE_US (100 * 1000)

struct _PhListener
{
  PhPrivateKey *identity;
  PhListenerOptions opts;
  PhHandlerTable *table;
  GCancellable *stop;
  GCancellable *wakeup;
  PhListenerConnectionFunc func;
  gpointer func_data;
  GDestroyNotify func_destroy;

  GMutex lock;            /* guards what follows */
  GPtrArray *sockets;     /* GSocket, listening */
  GPtrArray *addrs;       /* PhMultiaddr, bound */
  GPtrArray *connections; /* PhConnection, inbound, one reference each */
  GThread *accept_thread;
  GPollFD *fds; /* the accept thread's: listening sockets, stop, wakeup */
  guint n_fds;
  gboolean started;
  gboolean stopped;
  gboolean announce_set;
};

void
ph_listener_options_init (PhListenerOptions *opts)
{
  g_return_if_fail (opts != NULL);

  opts->max_connections = DEFAULT_MAX_CONNECTIONS;
  opts->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
  opts->max_handler_threads = PH_CONNECTION_DEFAULT_HANDLER_THREADS;
  opts->reuse_port = FALSE;
  ph_yamux_limits_init (&opts->yamux_limits);
  /* 0: as many as max_inbound_streams (see ph-connection.c connection_limits) */
  opts->yamux_limits.max_pending_accepts = 0;
}

PhListener *
ph_listener_new (PhPrivateKey *identity, const PhListenerOptions *opts)
{
  PhListener *self;

  g_return_val_if_fail (identity != NULL, NULL);

  self = g_new0 (PhListener, 1);
  self->identity = ph_private_key_ref (identity);
  ph_listener_options_init (&self->opts);
  if (opts != NULL)
    {
      self->opts.reuse_port = opts->reuse_port;
      self->opts.yamux_limits = opts->yamux_limits;
      if (opts->max_connections > 0)
        self->opts.max_connections = opts->max_connections;
      if (opts->handshake_timeout_ms > 0)
        self->opts.handshake_timeout_ms = opts->handshake_timeout_ms;
      if (opts->max_handler_threads > 0)
        self->opts.max_handler_threads = opts->max_handler_threads;
    }
  self->table = ph_handler_table_new ();
  self->stop = g_cancellable_new ();
  self->wakeup = g_cancellable_new ();
  g_mutex_init (&self->lock);
  self->sockets = g_ptr_array_new_with_free_func (g_object_unref);
  self->addrs = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_multiaddr_unref);
  self->connections = g_ptr_array_new ();
  return self;
}

PhHandlerTable *
ph_listener_get_handler_table (PhListener *self)
{
  return self->table;
}

PhPrivateKey *
ph_listener_get_identity (PhListener *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->identity;
}

void
ph_listener_add_handler (PhListener *self, const char *protocol, guint timeout_ms,
                         PhStreamHandler handler, gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (protocol != NULL && protocol[0] == '/');
  g_return_if_fail (timeout_ms > 0);
  g_return_if_fail (handler != NULL);

  ph_handler_table_add (self->table, protocol, timeout_ms, handler, user_data, destroy);
}

void
ph_listener_remove_handler (PhListener *self, const char *protocol)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (protocol != NULL);

  ph_handler_table_remove (self->table, protocol);
}

GStrv
ph_listener_dup_protocols (PhListener *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return ph_handler_table_dup_protocols (self->table);
}

void
ph_listener_set_connection_func (PhListener *self, PhListenerConnectionFunc func,
                                 gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->started);

  if (self->func_destroy != NULL)
    self->func_destroy (self->func_data);
  self->func = func;
  self->func_data = user_data;
  self->func_destroy = destroy;
}

static gboolean
is_unspecified (PhMultiaddr *addr)
{
  g_autoptr (GInetAddress) ip = NULL;

  return ph_multiaddr_get_ip (addr, &ip) && g_inet_address_get_is_any (ip);
}

void
ph_listener_set_announce_addrs (PhListener *self, PhMultiaddr *const *addrs, guint n_addrs)
{
  g_autoptr (GPtrArray) announce = g_ptr_array_new ();

  g_return_if_fail (self != NULL);
  g_return_if_fail (addrs != NULL || n_addrs == 0);

  for (guint i = 0; i < n_addrs; i++)
    g_ptr_array_add (announce, addrs[i]);
  g_mutex_lock (&self->lock);
  self->announce_set = TRUE;
  ph_handler_table_set_listen_addrs (self->table, announce);
  g_mutex_unlock (&self->lock);
}

GPtrArray *
ph_listener_get_addrs (PhListener *self)
{
  GPtrArray *addrs = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_multiaddr_unref);

  g_return_val_if_fail (self != NULL, addrs);

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->addrs->len; i++)
    g_ptr_array_add (addrs, ph_multiaddr_ref (g_ptr_array_index (self->addrs, i)));
  g_mutex_unlock (&self->lock);
  return addrs;
}

guint
ph_listener_get_n_connections (PhListener *self)
{
  guint n = 0;

  g_return_val_if_fail (self != NULL, 0);

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->connections->len; i++)
    if (ph_connection_is_up (g_ptr_array_index (self->connections, i)))
      n++;
  g_mutex_unlock (&self->lock);
  return n;
}

/* --- Accepting ---------------------------------------------------------------------------- */

static void
connection_up (PhConnection *connection, PhMultiaddr *remote_addr, const GError *error,
               gpointer user_data)
{
  PhListener *self = user_data;

  if (error != NULL && !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    {
      g_autofree char *remote = ph_multiaddr_to_string (remote_addr);

      g_debug ("inbound connection from %s: %s", remote, error->message);
    }
  if (self->func != NULL)
    self->func (self, connection, remote_addr, error, self->func_data);
}

static void
connection_done (PhConnection *connection, gpointer user_data)
{
  PhListener *self = user_data;

  g_cancellable_cancel (self->wakeup);
}

/* Drops the connections whose thread is over; returns how many are left. */
static guint
reap (PhListener *self)
{
  g_autoptr (GPtrArray) done
      = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_connection_unref);
  guint left;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->connections->len;)
    {
      PhConnection *connection = g_ptr_array_index (self->connections, i);

      if (ph_connection_is_finished (connection))
        g_ptr_array_add (done, g_ptr_array_steal_index_fast (self->connections, i));
      else
        i++;
    }
  left = self->connections->len;
  g_mutex_unlock (&self->lock);
  return left;
}

static void
accept_one (PhListener *self, GSocket *listening)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = NULL;
  PhConnection *connection;

  socket = g_socket_accept (listening, NULL, &error);
  if (socket == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_debug ("accept: %s", error->message);
          g_usleep (ACCEPT_ERROR_PAUSE_US);
        }
      return;
    }

  /* The cap counts connections still in their handshake: a silent peer holds a slot only until
   * its handshake deadline. */
  if (reap (self) >= self->opts.max_connections)
    {
      g_debug ("refusing an inbound connection: %u already", self->opts.max_connections);
      g_socket_close (socket, NULL);
      return;
    }

  g_socket_set_blocking (socket, FALSE);
  ph_connection_socket_set_nodelay (socket);
  connection = ph_connection_new_inbound (socket, self->identity, self->table,
                                          &self->opts.yamux_limits, self->opts.max_handler_threads,
                                          ph_deadline_in (self->opts.handshake_timeout_ms),
                                          connection_up, connection_done, self, &error);
  if (connection == NULL)
    {
      g_debug ("inbound connection: %s", error->message);
      g_socket_close (socket, NULL);
      return;
    }
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->connections, connection);
  g_mutex_unlock (&self->lock);
}

static gpointer
accept_thread (gpointer data)
{
  PhListener *self = data;
  GPollFD *fds = self->fds;
  guint n_sockets = self->n_fds - 2;

  while (!g_cancellable_is_cancelled (self->stop))
    {
      if (g_poll (fds, self->n_fds, -1) < 0)
        {
          if (errno != EINTR)
            g_usleep (ACCEPT_ERROR_PAUSE_US);
          continue;
        }
      if (g_cancellable_is_cancelled (self->stop))
        break;
      if (fds[n_sockets + 1].revents != 0)
        {
          g_cancellable_reset (self->wakeup);
          reap (self);
        }
      for (guint i = 0; i < n_sockets; i++)
        if (fds[i].revents & (G_IO_IN | G_IO_ERR | G_IO_HUP))
          accept_one (self, g_ptr_array_index (self->sockets, i));
    }
  return NULL;
}

/* Set up before the thread starts, so the fds exist from ph_listener_start() to _stop(). */
static void
make_pollfds (PhListener *self)
{
  guint n_sockets = self->sockets->len;

  self->n_fds = n_sockets + 2;
  self->fds = g_new0 (GPollFD, self->n_fds);
  for (guint i = 0; i < n_sockets; i++)
    {
      self->fds[i].fd = g_socket_get_fd (g_ptr_array_index (self->sockets, i));
      self->fds[i].events = G_IO_IN;
    }
  g_cancellable_make_pollfd (self->stop, &self->fds[n_sockets]);
  g_cancellable_make_pollfd (self->wakeup, &self->fds[n_sockets + 1]);
}

static void
release_pollfds (PhListener *self)
{
  if (self->fds == NULL)
    return;
  g_cancellable_release_fd (self->stop);
  g_cancellable_release_fd (self->wakeup);
  g_clear_pointer (&self->fds, g_free);
  self->n_fds = 0;
}

/* --- Starting and stopping ---------------------------------------------------------------- */

static GSocket *
listen_on (PhMultiaddr *addr, gboolean reuse_port, PhMultiaddr **bound, GError **error)
{
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GSocket) socket = NULL;

  gsize peer_len;

  if (ph_multiaddr_get_peer_id_bytes (addr, &peer_len) != NULL)
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                           "a listen address has no /p2p");
      return NULL;
    }
  address = ph_multiaddr_to_socket_address (addr, error);
  if (address == NULL)
    return NULL;
  socket = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  /* An /ip6 address means IPv6 only: IPv4 is listened on, or not, by its own /ip4 address. */
  if (g_socket_address_get_family (address) == G_SOCKET_FAMILY_IPV6
      && !g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, 1, error))
    return NULL;
  if (!ph_connection_socket_bind (socket, address, reuse_port, error))
    return NULL;
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_listen (socket, error))
    return NULL;
  *bound = ph_connection_socket_get_addr (socket, FALSE, error);
  if (*bound == NULL)
    return NULL;
  return g_steal_pointer (&socket);
}

gboolean
ph_listener_start (PhListener *self, PhMultiaddr *const *addrs, guint n_addrs, GError **error)
{
  g_autoptr (GPtrArray) sockets = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) bound
      = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_multiaddr_unref);
  g_autoptr (GPtrArray) announce = g_ptr_array_new ();
  GThread *thread;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (addrs != NULL && n_addrs > 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (!self->started, FALSE);

  for (guint i = 0; i < n_addrs; i++)
    {
      PhMultiaddr *addr = NULL;
      GSocket *socket = listen_on (addrs[i], self->opts.reuse_port, &addr, error);

      if (socket == NULL)
        {
          g_autofree char *text = ph_multiaddr_to_string (addrs[i]);

          g_prefix_error (error, "listening on %s: ", text);
          for (guint j = 0; j < sockets->len; j++)
            g_socket_close (g_ptr_array_index (sockets, j), NULL);
          return FALSE;
        }
      g_ptr_array_add (sockets, socket);
      g_ptr_array_add (bound, addr);
      if (!is_unspecified (addr))
        g_ptr_array_add (announce, addr);
    }

  g_mutex_lock (&self->lock);
  self->started = TRUE;
  if (!self->announce_set)
    ph_handler_table_set_listen_addrs (self->table, announce);
  g_ptr_array_extend_and_steal (self->sockets, g_steal_pointer (&sockets));
  g_ptr_array_extend_and_steal (self->addrs, g_steal_pointer (&bound));
  make_pollfds (self);
  g_mutex_unlock (&self->lock);

  thread = g_thread_try_new ("ph-listener", accept_thread, self, error);
  if (thread == NULL)
    {
      ph_listener_stop (self);
      return FALSE;
    }
  g_mutex_lock (&self->lock);
  self->accept_thread = thread;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

void
ph_listener_stop (PhListener *self)
{
  g_autoptr (GPtrArray) connections = NULL;
  GThread *thread;

  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  if (self->stopped)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  self->stopped = TRUE;
  thread = g_steal_pointer (&self->accept_thread);
  g_mutex_unlock (&self->lock);

  g_cancellable_cancel (self->stop);
  if (thread != NULL)
    g_thread_join (thread);

  g_mutex_lock (&self->lock);
  release_pollfds (self);
  for (guint i = 0; i < self->sockets->len; i++)
    g_socket_close (g_ptr_array_index (self->sockets, i), NULL);
  g_ptr_array_set_size (self->sockets, 0);
  connections = g_steal_pointer (&self->connections);
  self->connections = g_ptr_array_new ();
  g_mutex_unlock (&self->lock);

  ph_handler_table_shut_down (self->table, ph_deadline_in (STOP_WAIT_MS));
  g_ptr_array_set_free_func (connections, (GDestroyNotify) ph_connection_unref);
}

void
ph_listener_free (PhListener *self)
{
  if (self == NULL)
    return;

  ph_listener_stop (self);
  if (self->func_destroy != NULL)
    self->func_destroy (self->func_data);
  ph_handler_table_unref (self->table);
  g_object_unref (self->stop);
  g_object_unref (self->wakeup);
  g_ptr_array_unref (self->sockets);
  g_ptr_array_unref (self->addrs);
  g_ptr_array_unref (self->connections);
  ph_private_key_unref (self->identity);
  g_mutex_clear (&self->lock);
  g_free (self);
}
