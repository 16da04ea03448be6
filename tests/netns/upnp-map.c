/* upnp-map.c: map the swarm port on the router over UPnP with Porthole's own code, as the UPnP
 * fix does, for the netns suite.   upnp-map PORT
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "net/ph-change-log.h"
#include "net/ph-upnp.h"

int
main (int argc, char *argv[])
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpRouter) router = NULL;
  g_autoptr (PhUpnpMapResult) result = NULL;
  g_autoptr (PhChangeLog) log = NULL;
  PhUpnpOptions options = { 0 };

  if (argc != 2)
    {
      g_printerr ("usage: upnp-map PORT\n");
      return 2;
    }
  options.swarm_port = (guint) g_ascii_strtoull (argv[1], NULL, 10);
  log = ph_change_log_new (NULL);
  if (!(router = ph_upnp_discover (&options, NULL, &error))
      || !(result = ph_upnp_add_mapping (router, options.swarm_port, 600, log, NULL, &error)))
    {
      g_printerr ("upnp-map: %s\n", error->message);
      return 1;
    }
  g_print ("mapped %u\n", options.swarm_port);
  return 0;
}
