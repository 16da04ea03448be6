/* ph-bench-delayline.c: a point-to-point link with a fixed one-way delay, for bench/verdict.sh
 *
 *   ph-bench-delayline --delay-ms D NETNS_A IFNAME_A NETNS_B IFNAME_B
 *
 * This kernel has no sch_netem (CONFIG_NET_SCH_NETEM is off, and no module can be loaded), so
 * `tc qdisc … netem delay` is unavailable. Instead this program creates a TUN device in each of the
 * two namespaces (named in /run/netns by `ip netns add`), carries every IP packet from one to the
 * other, and holds each for D ms first: D each way, 2·D round trip, in order, no loss (each
 * direction queues up to QUEUE_LEN packets, netem's default limit is 1000). Configure addresses
 * and routes on the two devices with `ip` after the "ready" line; the devices vanish when the
 * program ends (SIGINT or SIGTERM).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <glib.h>

#define QUEUE_LEN 4096
#define PACKET_MAX 2048

typedef struct
{
  gint64 due_us;
  guint16 len;
  guint8 data[PACKET_MAX];
} Packet;

typedef struct
{
  int in_fd;
  int out_fd;
  Packet *ring;
  guint head;
  guint count;
  guint64 carried;
  guint64 dropped;
} Direction;

static volatile sig_atomic_t quit;

static void
on_signal (int sig)
{
  quit = 1;
}

static gint64
now_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* A TUN device named ifname inside the namespace /run/netns/netns; back in our own afterwards. */
static int
open_tun (const char *netns, const char *ifname)
{
  g_autofree char *path = g_strdup_printf ("/run/netns/%s", netns);
  int self_ns = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int ns = open (path, O_RDONLY | O_CLOEXEC);
  struct ifreq ifr;
  int fd = -1;

  if (self_ns < 0 || ns < 0)
    {
      g_printerr ("ph-bench-delayline: cannot open %s: %s\n", path, g_strerror (errno));
      goto out;
    }
  if (setns (ns, CLONE_NEWNET) < 0)
    {
      g_printerr ("ph-bench-delayline: setns %s: %s\n", netns, g_strerror (errno));
      goto out;
    }
  fd = open ("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  memset (&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  g_strlcpy (ifr.ifr_name, ifname, IFNAMSIZ);
  if (fd < 0 || ioctl (fd, TUNSETIFF, &ifr) < 0)
    {
      g_printerr ("ph-bench-delayline: TUN %s in %s: %s\n", ifname, netns, g_strerror (errno));
      if (fd >= 0)
        close (fd);
      fd = -1;
    }
  if (setns (self_ns, CLONE_NEWNET) < 0)
    {
      g_printerr ("ph-bench-delayline: back to our namespace: %s\n", g_strerror (errno));
      if (fd >= 0)
        close (fd);
      fd = -1;
    }
out:
  if (ns >= 0)
    close (ns);
  if (self_ns >= 0)
    close (self_ns);
  return fd;
}

static void
take_in (Direction *d, gint64 delay_us)
{
  for (;;)
    {
      Packet *p;
      ssize_t n;

      if (d->count == QUEUE_LEN)
        {
          guint8 sink[PACKET_MAX];

          if (read (d->in_fd, sink, sizeof sink) <= 0)
            return;
          d->dropped++;
          continue;
        }
      p = &d->ring[(d->head + d->count) % QUEUE_LEN];
      n = read (d->in_fd, p->data, sizeof p->data);
      if (n <= 0)
        return;
      p->len = (guint16) n;
      p->due_us = now_us () + delay_us;
      d->count++;
    }
}

static void
send_due (Direction *d, gint64 now)
{
  while (d->count > 0 && d->ring[d->head].due_us <= now)
    {
      Packet *p = &d->ring[d->head];

      /* A TUN write does not block; a failure (the device went down) drops the packet. */
      if (write (d->out_fd, p->data, p->len) == p->len)
        d->carried++;
      else
        d->dropped++;
      d->head = (d->head + 1) % QUEUE_LEN;
      d->count--;
    }
}

int
main (int argc, char **argv)
{
  gint delay_ms = 20;
  GOptionEntry entries[] = {
    { "delay-ms", 0, 0, G_OPTION_ARG_INT, &delay_ms, "One-way delay (20)", "D" },
    { NULL },
  };
  g_autoptr (GOptionContext) context
      = g_option_context_new ("NETNS_A IFNAME_A NETNS_B IFNAME_B - a delayed TUN link");
  g_autoptr (GError) error = NULL;
  Direction dirs[2];
  struct sigaction sa;
  int a, b;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 5 || delay_ms < 0)
    {
      g_printerr ("ph-bench-delayline: %s\n",
                  error ? error->message : "usage: --delay-ms D NETNS_A IF_A NETNS_B IF_B");
      return 2;
    }

  a = open_tun (argv[1], argv[2]);
  b = a >= 0 ? open_tun (argv[3], argv[4]) : -1;
  if (a < 0 || b < 0)
    return 1;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);

  memset (dirs, 0, sizeof dirs);
  dirs[0].in_fd = a, dirs[0].out_fd = b;
  dirs[1].in_fd = b, dirs[1].out_fd = a;
  dirs[0].ring = g_new (Packet, QUEUE_LEN);
  dirs[1].ring = g_new (Packet, QUEUE_LEN);
  printf ("ready\n");
  fflush (stdout);

  while (!quit)
    {
      struct pollfd fds[2] = { { a, POLLIN, 0 }, { b, POLLIN, 0 } };
      gint64 now = now_us (), next = G_MAXINT64;
      struct timespec timeout, *tp = NULL;

      for (int i = 0; i < 2; i++)
        if (dirs[i].count > 0)
          next = MIN (next, dirs[i].ring[dirs[i].head].due_us);
      if (next != G_MAXINT64)
        {
          gint64 wait = MAX (next - now, 0);

          timeout.tv_sec = wait / G_USEC_PER_SEC;
          timeout.tv_nsec = (wait % G_USEC_PER_SEC) * 1000;
          tp = &timeout;
        }
      if (ppoll (fds, 2, tp, NULL) < 0 && errno != EINTR)
        break;
      if (fds[0].revents & POLLIN)
        take_in (&dirs[0], (gint64) delay_ms * 1000);
      if (fds[1].revents & POLLIN)
        take_in (&dirs[1], (gint64) delay_ms * 1000);
      now = now_us ();
      send_due (&dirs[0], now);
      send_due (&dirs[1], now);
    }

  g_printerr ("ph-bench-delayline: %s->%s carried %" G_GUINT64_FORMAT " dropped %" G_GUINT64_FORMAT
              ", %s->%s carried %" G_GUINT64_FORMAT " dropped %" G_GUINT64_FORMAT "\n",
              argv[2], argv[4], dirs[0].carried, dirs[0].dropped, argv[4], argv[2], dirs[1].carried,
              dirs[1].dropped);
  g_free (dirs[0].ring);
  g_free (dirs[1].ring);
  close (a);
  close (b);
  return 0;
}
