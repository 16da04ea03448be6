/* ph-connection.c: TCP + Noise + yamux connections, the streams on them, identify and ping
 *
 * Lifetime. Callers hold references (ref_count); the last one closes the connection at once. The
 * memory lives on while the connection's own threads may still touch it: `shares` counts the
 * callers (one share for all of them), the serve thread (the inbound handshake, then accepting
 * streams) and each queued or running stream task. Whoever drops the last share frees it; when
 * that is a stream task, its pool is released without waiting for the thread it runs on, and
 * when it is the serve thread, that thread is detached rather than joined.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ph-connection.h"
#include "ph-connection-private.h"

#include <errno.h>
#include <string.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "ph-multistream.h"
#include "ph-noise-private.h"
#include "ph-noise.h"
#include "ph-p2p-error.h"
#include "ph-ping.h"

#define AGENT_VERSION PH_CONNECTION_AGENT_PREFIX PACKAGE_VERSION
#define PING_HANDLER_TIMEOUT_MS 30000
/* After a handler returns: how long, and for how many bytes, we wait for the peer's FIN, so that a
 * finished exchange ends with both sides closed rather than a reset (yamux spec "Closing a
 * stream"). */
#define LINGER_MS 1000
#define LINGER_MAX_BYTES (64 * 1024)

static const char *const noise_protocols[] = { PH_NOISE_PROTOCOL_ID, NULL };
static const char *const yamux_protocols[] = { PH_YAMUX_PROTOCOL_ID, NULL };

/* The connection whose stream task runs on this thread, if any. */
static GPrivate current_task = G_PRIVATE_INIT (NULL);

/* --- The handler table -------------------------------------------------------------------- */

typedef struct
{
  gint ref_count; /* atomic */
  char *protocol;
  guint timeout_ms;
  PhStreamHandler handler;
  gpointer user_data;
  GDestroyNotify destroy;
} HandlerEntry;

struct _PhHandlerTable
{
  gint ref_count; /* atomic */
  GMutex lock;
  GPtrArray *entries;      /* HandlerEntry, in registration order */
  GPtrArray *listen_addrs; /* PhMultiaddr */
  GList *connections;      /* PhConnection, weak: each removes itself when finalized */
  gboolean shut_down;
  guint n_tasks; /* stream tasks queued or running, over all connections */
  GCond tasks_cond;
};

struct _PhConnection
{
  gint ref_count; /* atomic: callers */
  gint shares;    /* atomic: the callers together, the serve thread, each stream task */
  gboolean initiator;
  PhPrivateKey *identity;
  PhHandlerTable *table;
  PhYamuxLimits limits;
  GCancellable *cancellable; /* cancelled when the connection closes, for handshakes and handlers */
  GThreadPool *pool;
  PhMultiaddr *local_addr;
  PhMultiaddr *remote_addr;

  /* Inbound only: what the serve thread needs for the handshake. */
  GSocket *socket;
  gint64 handshake_deadline;
  PhConnectionUpFunc up_func;
  PhConnectionDoneFunc done_func;
  gpointer user_data;

  GMutex lock; /* guards what follows */
  PhYamuxSession *session;
  PhPeerId *remote_peer;
  GThread *serve_thread;
  gboolean closing;
  gboolean finished;
  GError *error; /* the handshake's failure */
};

static void
identify_handler (PhConnection *connection, PhDuplex *stream, const char *protocol, gint64 deadline,
                  GCancellable *cancellable, gpointer user_data);
static void
ping_handler (PhConnection *connection, PhDuplex *stream, const char *protocol, gint64 deadline,
              GCancellable *cancellable, gpointer user_data);

static HandlerEntry *
handler_entry_ref (HandlerEntry *entry)
{
  g_atomic_int_inc (&entry->ref_count);
  return entry;
}

static void
handler_entry_unref (HandlerEntry *entry)
{
  if (!g_atomic_int_dec_and_test (&entry->ref_count))
    return;
  if (entry->destroy != NULL)
    entry->destroy (entry->user_data);
  g_free (entry->protocol);
  g_free (entry);
}

PhHandlerTable *
ph_handler_table_new (void)
{
  PhHandlerTable *table = g_new0 (PhHandlerTable, 1);

  table->ref_count = 1;
  g_mutex_init (&table->lock);
  g_cond_init (&table->tasks_cond);
  table->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) handler_entry_unref);
  table->listen_addrs = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_multiaddr_unref);
  ph_handler_table_add (table, PH_IDENTIFY_PROTOCOL_ID, PH_IDENTIFY_TIMEOUT_MS, identify_handler,
                        NULL, NULL);
  ph_handler_table_add (table, PH_PING_PROTOCOL_ID, PING_HANDLER_TIMEOUT_MS, ping_handler, NULL,
                        NULL);
  return table;
}

PhHandlerTable *
ph_handler_table_ref (PhHandlerTable *table)
{
  g_atomic_int_inc (&table->ref_count);
  return table;
}

void
ph_handler_table_unref (PhHandlerTable *table)
{
  if (!g_atomic_int_dec_and_test (&table->ref_count))
    return;
  g_assert (table->connections == NULL);
  g_ptr_array_unref (table->entries);
  g_ptr_array_unref (table->listen_addrs);
  g_cond_clear (&table->tasks_cond);
  g_mutex_clear (&table->lock);
  g_free (table);
}

static gint
find_entry_locked (PhHandlerTable *table, const char *protocol)
{
  for (guint i = 0; i < table->entries->len; i++)
    {
      HandlerEntry *entry = g_ptr_array_index (table->entries, i);

      if (g_str_equal (entry->protocol, protocol))
        return (gint) i;
    }
  return -1;
}

void
ph_handler_table_add (PhHandlerTable *table, const char *protocol, guint timeout_ms,
                      PhStreamHandler handler, gpointer user_data, GDestroyNotify destroy)
{
  HandlerEntry *entry = g_new0 (HandlerEntry, 1);
  gint index;

  entry->ref_count = 1;
  entry->protocol = g_strdup (protocol);
  entry->timeout_ms = timeout_ms;
  entry->handler = handler;
  entry->user_data = user_data;
  entry->destroy = destroy;

  g_mutex_lock (&table->lock);
  index = find_entry_locked (table, protocol);
  if (index >= 0)
    {
      /* Replaced in place: the old entry lives on while a handler still runs it. */
      handler_entry_unref (g_ptr_array_index (table->entries, index));
      g_ptr_array_index (table->entries, index) = entry;
    }
  else
    g_ptr_array_add (table->entries, entry);
  g_mutex_unlock (&table->lock);
}

void
ph_handler_table_remove (PhHandlerTable *table, const char *protocol)
{
  HandlerEntry *entry = NULL;
  gint index;

  g_mutex_lock (&table->lock);
  index = find_entry_locked (table, protocol);
  if (index >= 0)
    entry = g_ptr_array_steal_index (table->entries, (guint) index);
  g_mutex_unlock (&table->lock);

  /* Outside the lock: the destroy notify is the caller's code. */
  if (entry != NULL)
    handler_entry_unref (entry);
}

static HandlerEntry *
handler_table_lookup (PhHandlerTable *table, const char *protocol)
{
  HandlerEntry *entry = NULL;
  gint index;

  g_mutex_lock (&table->lock);
  index = find_entry_locked (table, protocol);
  if (index >= 0)
    entry = handler_entry_ref (g_ptr_array_index (table->entries, index));
  g_mutex_unlock (&table->lock);
  return entry;
}

GStrv
ph_handler_table_dup_protocols (PhHandlerTable *table)
{
  GStrv protocols;

  g_mutex_lock (&table->lock);
  protocols = g_new0 (char *, table->entries->len + 1);
  for (guint i = 0; i < table->entries->len; i++)
    protocols[i] = g_strdup (((HandlerEntry *) g_ptr_array_index (table->entries, i))->protocol);
  g_mutex_unlock (&table->lock);
  return protocols;
}

void
ph_handler_table_set_listen_addrs (PhHandlerTable *table, GPtrArray *addrs)
{
  g_mutex_lock (&table->lock);
  g_ptr_array_set_size (table->listen_addrs, 0);
  for (guint i = 0; addrs != NULL && i < addrs->len; i++)
    g_ptr_array_add (table->listen_addrs, ph_multiaddr_ref (g_ptr_array_index (addrs, i)));
  g_mutex_unlock (&table->lock);
}

static void
handler_table_append_listen_addrs (PhHandlerTable *table, GPtrArray *out)
{
  g_mutex_lock (&table->lock);
  for (guint i = 0; i < table->listen_addrs->len; i++)
    g_ptr_array_add (out, ph_multiaddr_ref (g_ptr_array_index (table->listen_addrs, i)));
  g_mutex_unlock (&table->lock);
}

static gboolean
handler_table_register (PhHandlerTable *table, PhConnection *connection, GError **error)
{
  gboolean ok;

  g_mutex_lock (&table->lock);
  ok = !table->shut_down;
  if (ok)
    table->connections = g_list_prepend (table->connections, connection);
  g_mutex_unlock (&table->lock);

  if (!ok)
    g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED, "the listener was stopped");
  return ok;
}

static void
handler_table_unregister (PhHandlerTable *table, PhConnection *connection)
{
  g_mutex_lock (&table->lock);
  table->connections = g_list_remove (table->connections, connection);
  g_mutex_unlock (&table->lock);
}

static void
handler_table_task_begin (PhHandlerTable *table)
{
  g_mutex_lock (&table->lock);
  table->n_tasks++;
  g_mutex_unlock (&table->lock);
}

static void
handler_table_task_end (PhHandlerTable *table)
{
  g_mutex_lock (&table->lock);
  if (--table->n_tasks == 0)
    g_cond_broadcast (&table->tasks_cond);
  g_mutex_unlock (&table->lock);
}

/* A reference unless the connection is already being finalized (its count reached zero). */
static gboolean
connection_try_ref (PhConnection *self)
{
  gint old;

  do
    {
      old = g_atomic_int_get (&self->ref_count);
      if (old == 0)
        return FALSE;
    }
  while (!g_atomic_int_compare_and_exchange (&self->ref_count, old, old + 1));
  return TRUE;
}

static void
connection_go_away (PhConnection *self);

void
ph_handler_table_shut_down (PhHandlerTable *table, gint64 deadline)
{
  GPtrArray *live = g_ptr_array_new ();

  g_mutex_lock (&table->lock);
  table->shut_down = TRUE;
  for (GList *l = table->connections; l != NULL; l = l->next)
    if (connection_try_ref (l->data))
      g_ptr_array_add (live, l->data);
  g_mutex_unlock (&table->lock);

  /* Go Away first everywhere, so that no peer opens streams while we close the others. */
  for (guint i = 0; i < live->len; i++)
    connection_go_away (g_ptr_array_index (live, i));
  for (guint i = 0; i < live->len; i++)
    {
      ph_connection_close (g_ptr_array_index (live, i));
      ph_connection_unref (g_ptr_array_index (live, i));
    }
  g_ptr_array_unref (live);

  /* Every handler saw its cancellable fire and its stream fail; give them a moment to return. */
  g_mutex_lock (&table->lock);
  while (table->n_tasks > 0)
    if (!g_cond_wait_until (&table->tasks_cond, &table->lock, deadline))
      break;
  g_mutex_unlock (&table->lock);
}

/* --- Sockets ------------------------------------------------------------------------------ */

void
ph_connection_socket_set_nodelay (GSocket *socket)
{
  /* Small frames (multistream lines, pings, window updates) go out at once: Nagle's algorithm
   * with delayed ACKs would add tens of milliseconds to every round trip. */
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

gboolean
ph_connection_socket_bind (GSocket *socket, GSocketAddress *address, gboolean reuse_port,
                           GError **error)
{
  struct sockaddr_storage native;
  gsize native_len = (gsize) g_socket_address_get_native_size (address);
  int fd = g_socket_get_fd (socket);
  int one = 1;

  if (!g_socket_address_to_native (address, &native, sizeof native, error))
    return FALSE;

  /* Not g_socket_bind(): for TCP it clears SO_REUSEPORT. SO_REUSEADDR lets a listener restart
   * over connections in TIME_WAIT; SO_REUSEPORT lets a dialer share a listener's port. */
  if (setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
      || (reuse_port && setsockopt (fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
      || bind (fd, (struct sockaddr *) &native, (socklen_t) native_len) < 0)
    {
      int saved = errno;
      g_autofree char *text = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address));

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "could not bind %s: %s", text,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

PhMultiaddr *
ph_connection_socket_get_addr (GSocket *socket, gboolean remote, GError **error)
{
  g_autoptr (GSocketAddress) address = NULL;
  GInetSocketAddress *inet;

  address = remote ? g_socket_get_remote_address (socket, error)
                   : g_socket_get_local_address (socket, error);
  if (address == NULL)
    return NULL;
  if (!G_IS_INET_SOCKET_ADDRESS (address))
    {
      g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                           "not an IP socket address");
      return NULL;
    }
  inet = G_INET_SOCKET_ADDRESS (address);
  return ph_multiaddr_new_tcp (g_inet_socket_address_get_address (inet),
                               g_inet_socket_address_get_port (inet));
}

static GSocket *
tcp_connect (GSocketAddress *address, const PhDialOptions *opts, gint64 deadline,
             GCancellable *cancellable, GError **error)
{
  g_autoptr (GSocket) socket = NULL;
  GError *local_error = NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, error)
      || ph_deadline_passed (deadline, error))
    return NULL;

  socket = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  ph_connection_socket_set_nodelay (socket);

  if (opts != NULL && opts->local_addr != NULL)
    {
      g_autoptr (GSocketAddress) local = ph_multiaddr_to_socket_address (opts->local_addr, error);

      if (local == NULL)
        return NULL;
      if (g_socket_address_get_family (local) != g_socket_address_get_family (address))
        {
          g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_UNSUPPORTED,
                               "the local address is of another address family");
          return NULL;
        }
      if (!ph_connection_socket_bind (socket, local, opts->reuse_port, error))
        return NULL;
    }

  if (!g_socket_connect (socket, address, cancellable, &local_error))
    {
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_PENDING))
        {
          g_propagate_error (error, local_error);
          return NULL;
        }
      g_clear_error (&local_error);
      if (!g_socket_condition_timed_wait (socket, G_IO_OUT, ph_deadline_remaining (deadline),
                                          cancellable, error)
          || !g_socket_check_connect_result (socket, error))
        return NULL;
    }
  return g_steal_pointer (&socket);
}

/* --- Connections -------------------------------------------------------------------------- */

static void
stream_task (gpointer data, gpointer user_data);

/* The session's limits. Our accepting thread takes streams as fast as they come and queues them
 * for the handler pool, so a separate, lower cap on streams not yet accepted would only refuse a
 * burst (50 streams opened at once) when that thread is slow to be scheduled: unless set, it is
 * the inbound cap. */
static void
connection_limits (const PhYamuxLimits *given, PhYamuxLimits *limits)
{
  ph_yamux_limits_init (limits);
  if (given != NULL)
    {
      if (given->max_inbound_streams > 0)
        limits->max_inbound_streams = given->max_inbound_streams;
      if (given->max_outbound_streams > 0)
        limits->max_outbound_streams = given->max_outbound_streams;
      if (given->stream_window > 0)
        limits->stream_window = given->stream_window;
      if (given->write_timeout_ms > 0)
        limits->write_timeout_ms = given->write_timeout_ms;
    }
  limits->max_pending_accepts = given != NULL && given->max_pending_accepts > 0
                                    ? given->max_pending_accepts
                                    : limits->max_inbound_streams;
}

static PhConnection *
connection_new (gboolean initiator, PhPrivateKey *identity, PhHandlerTable *table,
                const PhYamuxLimits *limits, guint max_handler_threads, PhMultiaddr *local_addr,
                PhMultiaddr *remote_addr)
{
  PhConnection *self = g_new0 (PhConnection, 1);

  self->ref_count = 1;
  self->shares = 1;
  self->initiator = initiator;
  self->identity = ph_private_key_ref (identity);
  self->table = table != NULL ? ph_handler_table_ref (table) : ph_handler_table_new ();
  connection_limits (limits, &self->limits);
  self->cancellable = g_cancellable_new ();
  /* Not exclusive: idle threads go back to GLib's shared pool. */
  self->pool = g_thread_pool_new (stream_task, self,
                                  max_handler_threads > 0 ? (gint) max_handler_threads
                                                          : PH_CONNECTION_DEFAULT_HANDLER_THREADS,
                                  FALSE, NULL);
  self->local_addr = ph_multiaddr_ref (local_addr);
  self->remote_addr = ph_multiaddr_ref (remote_addr);
  g_mutex_init (&self->lock);
  return self;
}

PhConnection *
ph_connection_ref (PhConnection *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

static void
connection_take_share (PhConnection *self)
{
  g_atomic_int_inc (&self->shares);
}

static void
connection_free (PhConnection *self)
{
  GThread *thread;

  /* close() joined the serve thread, unless it ran on it; or the serve thread is us. */
  g_mutex_lock (&self->lock);
  thread = g_steal_pointer (&self->serve_thread);
  g_mutex_unlock (&self->lock);
  if (thread != NULL && thread == g_thread_self ())
    g_thread_unref (thread);
  else if (thread != NULL)
    g_thread_join (thread);

  /* No task is queued (each holds a share); the one running us, if any, is finishing. */
  g_thread_pool_free (self->pool, FALSE, g_private_get (&current_task) != self);

  handler_table_unregister (self->table, self);
  ph_handler_table_unref (self->table);
  g_clear_pointer (&self->session, ph_yamux_session_free);
  g_clear_object (&self->socket);
  g_clear_pointer (&self->remote_peer, ph_peer_id_free);
  g_clear_error (&self->error);
  g_object_unref (self->cancellable);
  ph_multiaddr_unref (self->local_addr);
  ph_multiaddr_unref (self->remote_addr);
  ph_private_key_unref (self->identity);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static void
connection_drop_share (PhConnection *self)
{
  if (g_atomic_int_dec_and_test (&self->shares))
    connection_free (self);
}

void
ph_connection_unref (PhConnection *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  ph_connection_close (self);
  connection_drop_share (self);
}

/* Cancels the handlers and asks the peer to open no more streams; close() finishes the job. */
static void
connection_go_away (PhConnection *self)
{
  PhYamuxSession *session;

  g_cancellable_cancel (self->cancellable);
  g_mutex_lock (&self->lock);
  session = self->closing ? NULL : self->session;
  g_mutex_unlock (&self->lock);
  if (session != NULL)
    ph_yamux_session_go_away (session, PH_YAMUX_GO_AWAY_NORMAL);
}

void
ph_connection_close (PhConnection *self)
{
  PhYamuxSession *session;
  GThread *thread = NULL;
  gboolean was_closing;

  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  was_closing = self->closing;
  self->closing = TRUE;
  session = self->session;
  if (self->serve_thread != NULL && self->serve_thread != g_thread_self ())
    thread = g_steal_pointer (&self->serve_thread);
  g_mutex_unlock (&self->lock);

  g_cancellable_cancel (self->cancellable);
  if (session != NULL)
    {
      /* yamux spec "Session termination": Go Away (sent once), then the connection goes. */
      if (!was_closing)
        ph_yamux_session_go_away (session, PH_YAMUX_GO_AWAY_NORMAL);
      ph_yamux_session_close (session);
    }
  if (thread != NULL)
    g_thread_join (thread);
}

gboolean
ph_connection_is_closed (PhConnection *self, GError **reason)
{
  gboolean closed = FALSE;

  g_return_val_if_fail (self != NULL, TRUE);
  g_return_val_if_fail (reason == NULL || *reason == NULL, TRUE);

  g_mutex_lock (&self->lock);
  if (self->session != NULL)
    closed = ph_yamux_session_is_closed (self->session, reason);
  else if (self->error != NULL)
    {
      closed = TRUE;
      if (reason != NULL)
        *reason = g_error_copy (self->error);
    }
  if (!closed && self->closing)
    {
      closed = TRUE;
      g_set_error_literal (reason, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED, "closed locally");
    }
  g_mutex_unlock (&self->lock);
  return closed;
}

gboolean
ph_connection_is_up (PhConnection *self)
{
  gboolean up;

  g_mutex_lock (&self->lock);
  up = self->session != NULL && !self->closing && !self->finished;
  g_mutex_unlock (&self->lock);
  return up && !ph_connection_is_closed (self, NULL);
}

gboolean
ph_connection_is_finished (PhConnection *self)
{
  gboolean finished;

  g_mutex_lock (&self->lock);
  finished = self->finished;
  g_mutex_unlock (&self->lock);
  return finished;
}

const PhPeerId *
ph_connection_get_remote_peer_id (PhConnection *self)
{
  const PhPeerId *peer;

  g_return_val_if_fail (self != NULL, NULL);

  g_mutex_lock (&self->lock);
  peer = self->remote_peer;
  g_mutex_unlock (&self->lock);
  return peer;
}

PhPrivateKey *
ph_connection_get_identity (PhConnection *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->identity;
}

PhMultiaddr *
ph_connection_get_remote_addr (PhConnection *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->remote_addr;
}

PhMultiaddr *
ph_connection_get_local_addr (PhConnection *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->local_addr;
}

gboolean
ph_connection_is_initiator (PhConnection *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->initiator;
}

/* --- Serving the peer's streams ----------------------------------------------------------- */

/* Debug output only: the peer's misbehaviour is not ours to report louder. */
static void
log_failure (PhConnection *self, const char *what, const GError *error)
{
  g_autofree char *remote = NULL;

  if (!g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    {
      remote = ph_multiaddr_to_string (self->remote_addr);
      g_debug ("connection with %s: %s: %s", remote, what, error->message);
    }
}

/* Half-closes, waits a moment for the peer's FIN, frees. */
static void
finish_stream (PhDuplex *stream, gint64 deadline, GCancellable *cancellable)
{
  gint64 linger = MIN (deadline, ph_deadline_in (LINGER_MS));

  if (ph_duplex_close_write (stream, linger, cancellable, NULL))
    {
      guint8 buffer[4096];
      gsize drained = 0;

      while (drained < LINGER_MAX_BYTES)
        {
          gssize n = ph_duplex_read (stream, buffer, sizeof buffer, linger, cancellable, NULL);

          if (n <= 0)
            break;
          drained += (gsize) n;
        }
    }
  ph_duplex_free (stream);
}

static void
serve_stream (PhConnection *self, PhDuplex *stream)
{
  g_auto (GStrv) supported = ph_handler_table_dup_protocols (self->table);
  g_autofree char *chosen = NULL;
  g_autoptr (GError) error = NULL;
  HandlerEntry *entry;
  gint64 deadline;

  if (!ph_multistream_handle (stream, (const char *const *) supported, &chosen,
                              ph_deadline_in (PH_CONNECTION_NEGOTIATE_TIMEOUT_MS),
                              self->cancellable, &error))
    {
      log_failure (self, "negotiating an inbound stream", error);
      ph_duplex_free (stream);
      return;
    }

  entry = handler_table_lookup (self->table, chosen);
  if (entry == NULL)
    {
      /* Removed while we negotiated. */
      ph_duplex_free (stream);
      return;
    }
  deadline = ph_deadline_in (entry->timeout_ms);
  entry->handler (self, stream, chosen, deadline, self->cancellable, entry->user_data);
  handler_entry_unref (entry);
  finish_stream (stream, deadline, self->cancellable);
}

static void
stream_task (gpointer data, gpointer user_data)
{
  PhConnection *self = user_data;
  PhHandlerTable *table = ph_handler_table_ref (self->table);

  g_private_set (&current_task, self);
  serve_stream (self, data);
  connection_drop_share (self);
  g_private_set (&current_task, NULL);

  handler_table_task_end (table);
  ph_handler_table_unref (table);
}

static void
accept_streams (PhConnection *self, PhYamuxSession *session)
{
  while (TRUE)
    {
      g_autoptr (GError) error = NULL;
      PhDuplex *stream
          = ph_yamux_session_accept_stream (session, PH_DEADLINE_NONE, self->cancellable, &error);

      if (stream == NULL)
        {
          log_failure (self, "accepting streams", error);
          break;
        }
      connection_take_share (self);
      handler_table_task_begin (self->table);
      g_thread_pool_push (self->pool, stream, NULL);
    }
}

/* The responder side (connections/README.md): multistream `/noise` (anything else gets `na`, e.g.
 * kubo's `/tls/1.0.0`), Noise, multistream `/yamux/1.0.0`. Our message 2 lists yamux
 * (inlined-muxer-negotiation.md), so a dialer that lists it in message 3 (go, js) starts yamux at
 * once and spends no round trip on the muxer: an AutoNAT dial-back reaches its stream sooner. One
 * that lists none negotiates it with multistream. */
static PhYamuxSession *
upgrade_inbound (PhDuplex *io, PhPrivateKey *identity, const PhYamuxLimits *limits,
                 PhPeerId **remote_peer, gint64 deadline, GCancellable *cancellable, GError **error)
{
  g_autofree char *muxer = NULL;
  PhDuplex *secure;

  if (!ph_multistream_handle (io, noise_protocols, NULL, deadline, cancellable, error))
    {
      g_prefix_error (error, "negotiating the security protocol: ");
      ph_duplex_free (io);
      return NULL;
    }
  secure = ph_noise_secure_with_muxers (io, FALSE, identity, NULL, yamux_protocols, remote_peer,
                                        &muxer, deadline, cancellable, error);
  if (secure == NULL)
    {
      g_prefix_error (error, "Noise handshake: ");
      return NULL;
    }
  if (muxer != NULL)
    return ph_yamux_session_new (secure, FALSE, limits);
  if (!ph_multistream_handle (secure, yamux_protocols, NULL, deadline, cancellable, error))
    {
      g_prefix_error (error, "negotiating the muxer: ");
      ph_duplex_free (secure);
      g_clear_pointer (remote_peer, ph_peer_id_free);
      return NULL;
    }
  return ph_yamux_session_new (secure, FALSE, limits);
}

static gboolean
handshake_inbound (PhConnection *self)
{
  g_autoptr (GError) error = NULL;
  PhDuplex *io = ph_duplex_new_for_socket (self->socket);
  PhPeerId *remote_peer = NULL;
  PhYamuxSession *session;
  gboolean closing;

  g_clear_object (&self->socket);
  session = upgrade_inbound (io, self->identity, &self->limits, &remote_peer,
                             self->handshake_deadline, self->cancellable, &error);

  g_mutex_lock (&self->lock);
  if (session != NULL)
    {
      self->session = session;
      self->remote_peer = remote_peer;
    }
  else
    self->error = g_error_copy (error);
  closing = self->closing;
  g_mutex_unlock (&self->lock);

  if (session != NULL && closing)
    {
      /* close() ran before the session existed. */
      ph_yamux_session_close (session);
      return FALSE;
    }
  if (self->up_func != NULL)
    self->up_func (session != NULL ? self : NULL, self->remote_addr, error, self->user_data);
  return session != NULL;
}

static gpointer
serve_thread (gpointer data)
{
  PhConnection *self = data;
  PhYamuxSession *session;

  if (!self->initiator && !handshake_inbound (self))
    goto out;

  g_mutex_lock (&self->lock);
  session = self->session;
  g_mutex_unlock (&self->lock);
  accept_streams (self, session);

out:
  /* The session is over: handlers stop, and the socket goes now rather than at the last unref. */
  g_cancellable_cancel (self->cancellable);
  g_mutex_lock (&self->lock);
  session = self->session;
  self->finished = TRUE;
  g_mutex_unlock (&self->lock);
  if (session != NULL)
    ph_yamux_session_close (session);
  if (self->done_func != NULL)
    self->done_func (self, self->user_data);
  connection_drop_share (self);
  return NULL;
}

static gboolean
start_serving (PhConnection *self, GError **error)
{
  GThread *thread;

  connection_take_share (self);
  thread = g_thread_try_new ("ph-connection", serve_thread, self, error);
  if (thread == NULL)
    {
      connection_drop_share (self);
      return FALSE;
    }
  g_mutex_lock (&self->lock);
  self->serve_thread = thread;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

PhConnection *
ph_connection_new_inbound (GSocket *socket, PhPrivateKey *identity, PhHandlerTable *table,
                           const PhYamuxLimits *limits, guint max_handler_threads,
                           gint64 handshake_deadline, PhConnectionUpFunc up_func,
                           PhConnectionDoneFunc done_func, gpointer user_data, GError **error)
{
  g_autoptr (PhMultiaddr) local_addr = NULL;
  g_autoptr (PhMultiaddr) remote_addr = NULL;
  PhConnection *self;

  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);

  local_addr = ph_connection_socket_get_addr (socket, FALSE, error);
  if (local_addr == NULL)
    return NULL;
  remote_addr = ph_connection_socket_get_addr (socket, TRUE, error);
  if (remote_addr == NULL)
    return NULL;

  self = connection_new (FALSE, identity, table, limits, max_handler_threads, local_addr,
                         remote_addr);
  self->socket = g_object_ref (socket);
  self->handshake_deadline = handshake_deadline;
  self->up_func = up_func;
  self->done_func = done_func;
  self->user_data = user_data;

  if (!handler_table_register (self->table, self, error) || !start_serving (self, error))
    {
      g_clear_object (&self->socket);
      ph_connection_unref (self);
      return NULL;
    }
  return self;
}

/* --- Dialing ------------------------------------------------------------------------------ */

/* The initiator side: multistream `/noise`, Noise checking `expected`, then yamux, with no round
 * trip spent on multistream:
 *   - `/noise` is proposed optimistically (go-multistream lazyClient.go): the header and the
 *     proposal go out with Noise message 1 in one segment, and the listener's echo is checked
 *     when message 2 is read;
 *   - the muxer is agreed on inside the handshake when the listener lists yamux in message 2 (go
 *     and js do; inlined-muxer-negotiation.md), and yamux starts right after message 3;
 *   - otherwise `/yamux/1.0.0` is proposed optimistically right behind message 3, and its echo is
 *     read by the yamux session in front of the first frames.
 * So the upgrade costs what Noise costs, one round trip and a half, where waiting for each echo
 * cost two more. Every libp2p listener keeps what follows a proposal buffered for the protocol
 * (go-multistream's Negotiate and js-libp2p's handle() read exactly, js gives back the rest). A
 * listener that refuses /noise fails the dial with NEGOTIATION; one that refuses yamux ends the
 * session, and the first stream fails. */
static PhYamuxSession *
upgrade_outbound (PhDuplex *io, PhPrivateKey *identity, const PhPeerId *expected,
                  const PhYamuxLimits *limits, PhPeerId **remote_peer, gint64 deadline,
                  GCancellable *cancellable, GError **error)
{
  g_autofree char *muxer = NULL;
  PhDuplex *secure;
  PhDuplex *muxed;

  io = ph_multistream_select_lazy (io, PH_NOISE_PROTOCOL_ID, error);
  if (io == NULL)
    return NULL;
  secure = ph_noise_secure_with_muxers (io, TRUE, identity, expected, yamux_protocols, remote_peer,
                                        &muxer, deadline, cancellable, error);
  if (secure == NULL)
    {
      /* The echo of /noise is read with message 2, so a refusal surfaces in the handshake. */
      if (error != NULL && g_error_matches (*error, PH_P2P_ERROR, PH_P2P_ERROR_NEGOTIATION))
        g_prefix_error (error, "negotiating /noise: ");
      return NULL;
    }
  if (muxer != NULL)
    return ph_yamux_session_new (secure, TRUE, limits);
  muxed = ph_multistream_select_lazy (secure, PH_YAMUX_PROTOCOL_ID, error);
  if (muxed == NULL || !ph_multistream_lazy_flush (muxed, deadline, cancellable, error))
    {
      g_prefix_error (error, "negotiating /yamux/1.0.0: ");
      g_clear_pointer (&muxed, ph_duplex_free);
      g_clear_pointer (remote_peer, ph_peer_id_free);
      return NULL;
    }
  return ph_yamux_session_new (muxed, TRUE, limits);
}

static PhConnection *
dial (PhMultiaddr *addr, PhPrivateKey *identity, const PhPeerId *expected,
      const PhDialOptions *opts, gint64 deadline, GCancellable *cancellable, GError **error)
{
  g_autoptr (PhPeerId) addr_peer = NULL;
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (PhMultiaddr) local_addr = NULL;
  g_autoptr (PhMultiaddr) remote_addr = NULL;
  PhHandlerTable *table = NULL;
  PhPeerId *remote_peer = NULL;
  PhYamuxLimits limits;
  PhYamuxSession *session;
  PhConnection *self;
  const guint8 *peer_bytes;
  gsize peer_len;

  peer_bytes = ph_multiaddr_get_peer_id_bytes (addr, &peer_len);
  if (peer_bytes != NULL)
    {
      addr_peer = ph_peer_id_from_bytes (peer_bytes, peer_len, error);
      if (addr_peer == NULL)
        return NULL;
      if (expected != NULL && !ph_peer_id_equal (expected, addr_peer))
        {
          g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_PEER_MISMATCH,
                               "the address names another peer than the one expected");
          return NULL;
        }
      if (expected == NULL)
        expected = addr_peer;
    }

  address = ph_multiaddr_to_socket_address (addr, error);
  if (address == NULL)
    return NULL;
  socket = tcp_connect (address, opts, deadline, cancellable, error);
  if (socket == NULL)
    return NULL;
  local_addr = ph_connection_socket_get_addr (socket, FALSE, error);
  if (local_addr == NULL)
    return NULL;
  remote_addr = ph_connection_socket_get_addr (socket, TRUE, error);
  if (remote_addr == NULL)
    return NULL;

  connection_limits (opts != NULL ? opts->yamux_limits : NULL, &limits);
  session = upgrade_outbound (ph_duplex_new_for_socket (socket), identity, expected, &limits,
                              &remote_peer, deadline, cancellable, error);
  if (session == NULL)
    return NULL;

  if (opts != NULL && opts->listener != NULL)
    table = ph_listener_get_handler_table (opts->listener);
  self = connection_new (TRUE, identity, table, &limits, 0, local_addr, remote_addr);
  self->session = session;
  self->remote_peer = remote_peer;
  if (!handler_table_register (self->table, self, error) || !start_serving (self, error))
    {
      ph_connection_unref (self);
      return NULL;
    }
  return self;
}

PhConnection *
ph_connection_dial (PhMultiaddr *addr, PhPrivateKey *identity, const PhPeerId *expected,
                    const PhDialOptions *opts, gint64 deadline, GCancellable *cancellable,
                    GError **error)
{
  PhConnection *self;

  g_return_val_if_fail (addr != NULL, NULL);
  g_return_val_if_fail (identity != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = dial (addr, identity, expected, opts, deadline, cancellable, error);
  if (self == NULL && error != NULL)
    {
      g_autofree char *text = ph_multiaddr_to_string (addr);

      g_prefix_error (error, "dialing %s: ", text);
    }
  return self;
}

/* --- Streams we open ---------------------------------------------------------------------- */

static PhYamuxSession *
get_session (PhConnection *self, GError **error)
{
  PhYamuxSession *session;

  g_mutex_lock (&self->lock);
  session = self->closing ? NULL : self->session;
  g_mutex_unlock (&self->lock);
  if (session == NULL)
    g_set_error_literal (error, PH_P2P_ERROR, PH_P2P_ERROR_CLOSED, "the connection is not open");
  return session;
}

PhDuplex *
ph_connection_open_stream (PhConnection *self, const char *const *protocols, char **chosen,
                           gint64 deadline, GCancellable *cancellable, GError **error)
{
  PhYamuxSession *session;
  PhDuplex *stream;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (protocols != NULL && protocols[0] != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  session = get_session (self, error);
  if (session == NULL)
    return NULL;
  stream = ph_yamux_session_open_stream (session, deadline, cancellable, error);
  if (stream == NULL)
    return NULL;

  /* One protocol: nothing to choose, so no round trip to wait for (go-libp2p's NewStream does the
   * same for a protocol the peer announced). The proposal goes out with the first bytes written
   * (a request rides with it) or before the first read, and the echo is checked by that read: a
   * refusal fails it with NEGOTIATION. yamux lets the data follow the SYN at once (yamux/README.md
   * "Opening a stream"). */
  if (protocols[1] == NULL)
    {
      stream = ph_multistream_select_lazy (stream, protocols[0], error);
      if (stream != NULL && chosen != NULL)
        *chosen = g_strdup (protocols[0]);
      return stream;
    }
  if (!ph_multistream_select (stream, protocols, chosen, deadline, cancellable, error))
    {
      ph_duplex_free (stream);
      return NULL;
    }
  return stream;
}

PhIdentifyInfo *
ph_connection_identify (PhConnection *self, gint64 deadline, GCancellable *cancellable,
                        GError **error)
{
  static const char *const protocols[] = { PH_IDENTIFY_PROTOCOL_ID, NULL };
  g_autoptr (PhIdentifyInfo) info = NULL;
  PhDuplex *stream;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  stream = ph_connection_open_stream (self, protocols, NULL, deadline, cancellable, error);
  if (stream == NULL)
    {
      g_prefix_error (error, "identify: ");
      return NULL;
    }
  info = ph_identify_request (stream, deadline, cancellable, error);
  ph_duplex_free (stream);
  if (info == NULL
      || !ph_identify_info_check_peer (info, ph_connection_get_remote_peer_id (self), error))
    {
      g_prefix_error (error, "identify: ");
      return NULL;
    }
  return g_steal_pointer (&info);
}

gboolean
ph_connection_ping (PhConnection *self, guint count, guint64 *rtts_us_out, gint64 deadline,
                    GCancellable *cancellable, GError **error)
{
  static const char *const protocols[] = { PH_PING_PROTOCOL_ID, NULL };
  PhDuplex *stream;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (count > 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  stream = ph_connection_open_stream (self, protocols, NULL, deadline, cancellable, error);
  if (stream == NULL || !ph_ping (stream, count, rtts_us_out, deadline, cancellable, error))
    {
      g_clear_pointer (&stream, ph_duplex_free);
      g_prefix_error (error, "ping: ");
      return FALSE;
    }
  /* ping.md: the listener closes once it has echoed everything; wait for that briefly. */
  finish_stream (stream, deadline, cancellable);
  return TRUE;
}

/* --- Built-in handlers -------------------------------------------------------------------- */

/* identify/README.md: our key, listen addresses, protocols, and how we see the peer. */
static void
identify_handler (PhConnection *connection, PhDuplex *stream, const char *protocol, gint64 deadline,
                  GCancellable *cancellable, gpointer user_data)
{
  g_autoptr (PhIdentifyInfo) info = ph_identify_info_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) protocols = ph_handler_table_dup_protocols (connection->table);

  info->protocol_version = g_strdup (PH_CONNECTION_PROTOCOL_VERSION);
  info->agent_version = g_strdup (AGENT_VERSION);
  info->public_key = ph_public_key_ref (ph_private_key_get_public_key (connection->identity));
  handler_table_append_listen_addrs (connection->table, info->listen_addrs);
  info->observed_addr = ph_multiaddr_ref (connection->remote_addr);
  for (guint i = 0; protocols[i] != NULL; i++)
    g_ptr_array_add (info->protocols, g_strdup (protocols[i]));

  if (!ph_identify_respond (stream, info, deadline, cancellable, &error))
    log_failure (connection, "answering identify", error);
}

static void
ping_handler (PhConnection *connection, PhDuplex *stream, const char *protocol, gint64 deadline,
              GCancellable *cancellable, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (!ph_ping_serve (stream, PH_CONNECTION_MAX_PINGS_PER_STREAM, deadline, cancellable, &error))
    log_failure (connection, "answering ping", error);
}
