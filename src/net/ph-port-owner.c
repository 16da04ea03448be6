/* ph-port-owner.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>

#include "ph-port-owner.h"

#define TCP_LISTEN 0x0A
#define MAX_PROCESSES 65536

/* The socket inode of a TCP listener on `port` in /proc/net/tcp or tcp6, 0 if none. */
static guint64
listening_inode (const char *table, guint port)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (table, &text, NULL, NULL))
    return 0;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i]; i++)
    {
      char local[64];
      unsigned int local_port, state;
      unsigned long long inode;

      /* sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode */
      if (sscanf (lines[i], " %*d: %63[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*u %*u %llu", local,
                  &local_port, &state, &inode)
              == 4
          && local_port == port && state == TCP_LISTEN && inode)
        return inode;
    }
  return 0;
}

static char *
process_holding (guint64 inode)
{
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  g_autofree char *wanted = g_strdup_printf ("socket:[%" G_GUINT64_FORMAT "]", inode);
  const char *pid;
  guint seen = 0;

  while (proc && (pid = g_dir_read_name (proc)) && seen++ < MAX_PROCESSES)
    {
      g_autofree char *fd_path = NULL;
      g_autoptr (GDir) fds = NULL;
      const char *fd;

      if (!g_ascii_isdigit (pid[0]))
        continue;
      fd_path = g_build_filename ("/proc", pid, "fd", NULL);
      if (!(fds = g_dir_open (fd_path, 0, NULL)))
        continue; /* another user's process: not ours to know */
      while ((fd = g_dir_read_name (fds)))
        {
          g_autofree char *link_path = g_build_filename (fd_path, fd, NULL);
          g_autofree char *target = g_file_read_link (link_path, NULL);

          if (g_strcmp0 (target, wanted) == 0)
            {
              g_autofree char *comm_path = g_build_filename ("/proc", pid, "comm", NULL);
              g_autofree char *comm = NULL;

              if (!g_file_get_contents (comm_path, &comm, NULL, NULL))
                return g_strdup_printf ("pid %s", pid);
              return g_strdup_printf ("%s (pid %s)", g_strstrip (comm), pid);
            }
        }
    }
  return NULL;
}

char *
ph_port_owner_describe (guint port)
{
  guint64 inode = listening_inode ("/proc/net/tcp", port);

  if (!inode)
    inode = listening_inode ("/proc/net/tcp6", port);
  return inode ? process_holding (inode) : NULL;
}
