/* main.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "ph-application.h"
#include "ph-command-line.h"
#include "net/ph-types.h"

int
main (int argc, char *argv[])
{
  g_auto (PhCommandLine) command_line = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhApplication) app = NULL;
  char *app_argv[3] = { argv[0], NULL, NULL };
  PhCheckOptions overrides = { 0 };
  const char *localedir;

  /* first, before GApplication, libnm or a check start any thread (see ph-types.h) */
  ph_types_ensure ();
  setlocale (LC_ALL, "");
  /* the build tree's translations when run uninstalled (build-aux/dev, tests) */
  localedir = g_getenv ("PORTHOLE_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (!ph_command_line_parse (&command_line, &argc, &argv, &error))
    {
      /* One line, so scripts can show it as it is. */
      g_printerr ("porthole: %s (%s)\n", error->message, _ ("see “porthole --help”"));
      return 2;
    }
  if (command_line.version)
    {
      g_print ("porthole %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (command_line.check)
    return ph_command_line_run_check (&command_line);

  if (command_line.gapplication_service)
    app_argv[1] = "--gapplication-service";
  overrides.port = command_line.port_given ? (guint) command_line.port : 0;
  overrides.timeout_s = command_line.timeout_given ? (guint) command_line.timeout_s : 0;
  overrides.peers = command_line.peers;
  overrides.no_upnp = command_line.no_upnp;
  app = ph_application_new (&overrides);
  if (command_line.background)
    {
      /* Register first to learn whether Porthole already runs: then that instance takes over
       * the watch (app.background) and this one ends without opening a window. */
      if (!g_application_register (G_APPLICATION (app), NULL, &error))
        {
          g_printerr ("porthole: %s\n", error->message);
          return 1;
        }
      if (g_application_get_is_remote (G_APPLICATION (app)))
        {
          GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (app));

          g_action_group_activate_action (G_ACTION_GROUP (app), "background", NULL);
          if (bus)
            g_dbus_connection_flush_sync (bus, NULL, NULL);
          return 0;
        }
      ph_application_set_start_in_background (app, TRUE);
#ifdef __GLIBC__
      /* A process that stays for days: each probe's worker threads would otherwise leave glibc
       * an arena per thread, and resident memory creeps up check after check (bench/README.md,
       * soak). Two arenas keep it flat; the probes wait on the network, not on malloc. */
      mallopt (M_ARENA_MAX, 2);
#endif
    }
  return g_application_run (G_APPLICATION (app), app_argv[1] ? 2 : 1, app_argv);
}
