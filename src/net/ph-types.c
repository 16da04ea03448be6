/* ph-types.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <NetworkManager.h>
#include <gio/gio.h>
#include <gio/gunixconnection.h>
#include <gio/gunixfdlist.h>
#include <gio/gunixsocketaddress.h>
#include <libsoup/soup.h>

#include "ph-types.h"

static gpointer
ensure_once (gpointer unused)
{
  /* Class-initialised, not only registered: a class_init can itself be the one that needs
   * another type (GSocketClient's names GProxyResolver, GDBusConnection's GIOStream). Classes of
   * static types are never freed, so the reference can go at once. */
  const GType types[] = {
    G_TYPE_CANCELLABLE,
    G_TYPE_TASK,
    G_TYPE_INET_ADDRESS,
    G_TYPE_INET_ADDRESS_MASK,
    G_TYPE_INET_SOCKET_ADDRESS,
    G_TYPE_PROXY_ADDRESS,
    G_TYPE_UNIX_SOCKET_ADDRESS,
    G_TYPE_NATIVE_SOCKET_ADDRESS,
    G_TYPE_NETWORK_ADDRESS,
    G_TYPE_NETWORK_SERVICE,
    G_TYPE_SOCKET,
    G_TYPE_SOCKET_CLIENT,
    G_TYPE_SOCKET_LISTENER,
    G_TYPE_SOCKET_CONNECTION,
    G_TYPE_TCP_CONNECTION,
    G_TYPE_UNIX_CONNECTION,
    G_TYPE_CREDENTIALS,
    G_TYPE_UNIX_FD_LIST,
    G_TYPE_DBUS_MESSAGE,
    G_TYPE_DBUS_AUTH_OBSERVER,
    G_TYPE_DBUS_CONNECTION,
    G_TYPE_DBUS_PROXY,
    NM_TYPE_CLIENT,
    SOUP_TYPE_SESSION,
    SOUP_TYPE_MESSAGE,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    g_type_class_unref (g_type_class_ref (types[i]));
  return unused;
}

void
ph_types_ensure (void)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, ensure_once, NULL);
}
