/* ph-connection-private.h: what ph-listener.c and ph-connection.c share, and nobody else needs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "ph-connection.h"
#include "ph-listener.h"

G_BEGIN_DECLS

/* The protocols a set of connections serves and what identify says about them, plus the list of
 * those connections so that a listener can close them all when it stops. Refcounted; every
 * function takes its lock. */
typedef struct _PhHandlerTable PhHandlerTable;

/* A table that already serves identify and ping. */
PhHandlerTable *
ph_handler_table_new (void);
PhHandlerTable *
ph_handler_table_ref (PhHandlerTable *table);
void
ph_handler_table_unref (PhHandlerTable *table);

void
ph_handler_table_add (PhHandlerTable *table, const char *protocol, guint timeout_ms,
                      PhStreamHandler handler, gpointer user_data, GDestroyNotify destroy);
void
ph_handler_table_remove (PhHandlerTable *table, const char *protocol);
GStrv
ph_handler_table_dup_protocols (PhHandlerTable *table);

/* identify's listenAddrs; (element-type PhMultiaddr), copied. NULL clears. */
void
ph_handler_table_set_listen_addrs (PhHandlerTable *table, GPtrArray *addrs);

/* Closes every connection that uses the table, refuses new ones, and waits until `deadline` for
 * the handlers still running to return. */
void
ph_handler_table_shut_down (PhHandlerTable *table, gint64 deadline);

/* The listener's table, for ph_connection_dial() with PhDialOptions.listener. Transfer none. */
PhHandlerTable *
ph_listener_get_handler_table (PhListener *listener);

/* An inbound connection: `socket` was just accepted. Its thread runs the responder handshake
 * until handshake_deadline, then calls up_func (with error NULL, or with the failure and a NULL
 * connection), then serves streams. done_func is called last on that thread, once the connection
 * is over. The connection is returned at once, before the handshake. */
typedef void (*PhConnectionUpFunc) (PhConnection *connection, PhMultiaddr *remote_addr,
                                    const GError *error, gpointer user_data);
typedef void (*PhConnectionDoneFunc) (PhConnection *connection, gpointer user_data);

PhConnection *
ph_connection_new_inbound (GSocket *socket, PhPrivateKey *identity, PhHandlerTable *table,
                           const PhYamuxLimits *limits, guint max_handler_threads,
                           gint64 handshake_deadline, PhConnectionUpFunc up_func,
                           PhConnectionDoneFunc done_func, gpointer user_data, GError **error);

/* The handshake succeeded and the connection is not closed. */
gboolean
ph_connection_is_up (PhConnection *self);
/* The connection's thread is over (handshake failed, or the session ended). */
gboolean
ph_connection_is_finished (PhConnection *self);

/* TCP_NODELAY on, and SO_REUSEADDR + SO_REUSEPORT before a bind (set_reuse_port). */
void
ph_connection_socket_set_nodelay (GSocket *socket);
gboolean
ph_connection_socket_bind (GSocket *socket, GSocketAddress *address, gboolean reuse_port,
                           GError **error);
/* The socket's local or remote end as /ip4|/ip6/…/tcp/…; NULL with an error if unknown. */
PhMultiaddr *
ph_connection_socket_get_addr (GSocket *socket, gboolean remote, GError **error);

G_END_DECLS
