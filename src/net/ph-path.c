/* ph-path.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <time.h> /* before linux/errqueue.h, which uses struct timespec */
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ph-path.h"

/* traceroute's customary base port: nothing listens there */
#define BASE_PORT 33434

static char *
offender_to_string (struct sock_extended_err *ee)
{
  struct sockaddr *offender = SO_EE_OFFENDER (ee);
  g_autoptr (GSocketAddress) address = NULL;
  GInetAddress *ip;

  address = g_socket_address_new_from_native (offender, offender->sa_family == AF_INET6
                                                            ? sizeof (struct sockaddr_in6)
                                                            : sizeof (struct sockaddr_in));
  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return NULL;
  ip = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  return g_inet_address_to_string (ip);
}

/* One datagram with hop limit `ttl`; the address of whoever reported it expired, NULL if none
 * did in time. *arrived is set when the target itself answered (port unreachable). */
static char *
probe_hop (GInetAddress *target, guint ttl, guint timeout_ms, gboolean *arrived)
{
  int family = g_inet_address_get_family (target) == G_SOCKET_FAMILY_IPV6 ? AF_INET6 : AF_INET;
  g_autoptr (GSocketAddress) destination = g_inet_socket_address_new (target, BASE_PORT + ttl);
  struct sockaddr_storage native;
  int fd, on = 1, hops = (int) ttl;
  gint64 until = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  char *found = NULL;

  if (!g_socket_address_to_native (destination, &native, sizeof native, NULL))
    return NULL;
  fd = socket (family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return NULL;
  if (family == AF_INET6)
    {
      setsockopt (fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops);
      setsockopt (fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
    }
  else
    {
      setsockopt (fd, IPPROTO_IP, IP_TTL, &hops, sizeof hops);
      setsockopt (fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on);
    }
  if (sendto (fd, "porthole", 8, 0, (struct sockaddr *) &native,
              g_socket_address_get_native_size (destination))
      < 0)
    {
      close (fd);
      return NULL;
    }

  while (!found && !*arrived)
    {
      gint64 left = (until - g_get_monotonic_time ()) / 1000;
      struct pollfd pfd = { fd, POLLERR, 0 };
      char control[512], data[64];
      struct iovec iov = { data, sizeof data };
      struct msghdr msg = { 0 };

      if (left <= 0 || poll (&pfd, 1, (int) left) <= 0)
        break;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      if (recvmsg (fd, &msg, MSG_ERRQUEUE) < 0)
        break;
      for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
        {
          struct sock_extended_err *ee = (struct sock_extended_err *) CMSG_DATA (c);

          if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR)
                || (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)))
            continue;
          if (ee->ee_origin != SO_EE_ORIGIN_ICMP && ee->ee_origin != SO_EE_ORIGIN_ICMP6)
            continue;
          /* "time exceeded" from a router on the way, "port unreachable" from the target */
          if (ee->ee_errno == ECONNREFUSED)
            *arrived = TRUE;
          found = offender_to_string (ee);
        }
    }
  close (fd);
  return found;
}

GPtrArray *
ph_path_trace (GInetAddress *target, guint max_hops, guint timeout_ms, GCancellable *cancellable,
               GError **error)
{
  g_autoptr (GPtrArray) hops = g_ptr_array_new_with_free_func (g_free);
  gboolean arrived = FALSE;

  g_return_val_if_fail (G_IS_INET_ADDRESS (target), NULL);

  max_hops = CLAMP (max_hops, 1, PH_PATH_MAX_HOPS);
  for (guint ttl = 1; ttl <= max_hops && !arrived; ttl++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      g_ptr_array_add (hops, probe_hop (target, ttl, timeout_ms, &arrived));
    }
  return g_steal_pointer (&hops);
}
