/* test-app-lifetime.c: the application, and everything it owns, goes with its last reference
 *
 * A window-only run, a `--background` run and the ui harness's way (registered and activated by
 * hand, no g_application_run ()) each end with the PhApplication finalized at its last unref,
 * with its monitor, history, actions and every window and dialog, its name and the panel icon's
 * gone from the session bus, and no source of ours left to fire on a dead object (the main loop
 * spins on after the last unref; ASan sees a use after free).
 *
 * GtkApplication needs a display: the program runs itself again under tests/ui/run-ui.sh (a
 * private Xvfb and session bus; skipped without them). Checks are replayed (PORTHOLE_TEST_REPLAY),
 * the system bus is one that does not exist: nothing leaves the process.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "ph-application.h"

#define INNER_ENV "PORTHOLE_APP_LIFETIME_INNER"
/* the discard port of loopback: a check that escaped replay fails at once */
#define NOBODY_PEER "/ip4/127.0.0.1/tcp/9/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
#define DEADLINE_MS 20000

static PhApplication *
app_new (void)
{
  static const char *const peers[] = { NOBODY_PEER, NULL };
  PhCheckOptions overrides = { 0 };

  overrides.peers = (char **) peers;
  overrides.no_upnp = TRUE;
  overrides.timeout_s = 5;
  return ph_application_new (&overrides);
}

/* ---- what must go ---- */

static GHashTable *alive; /* object → its type name, for what the application owns */

static void
gone_cb (gpointer data, GObject *where_the_object_was)
{
  g_hash_table_remove (alive, where_the_object_was);
}

static void
watch (gpointer object)
{
  if (object == NULL || g_hash_table_contains (alive, object))
    return;
  g_hash_table_insert (alive, object, (gpointer) G_OBJECT_TYPE_NAME (object));
  g_object_weak_ref (object, gone_cb, NULL);
}

/* The application's parts, and every window open now (dialogs too: they are toplevels). */
static void
watch_app (PhApplication *app)
{
  g_autoptr (GList) toplevels = gtk_window_list_toplevels ();

  watch (app);
  watch (ph_application_get_monitor (app));
  watch (ph_application_get_history (app));
  watch (ph_application_get_actions (app));
  for (GList *l = toplevels; l != NULL; l = l->next)
    watch (l->data);
}

/* Names of ours on the session bus: the application's id, the panel icon's item. */
static char *
dup_our_names (void)
{
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariantIter) iter = NULL;
  g_autofree char *item_prefix = g_strdup_printf ("org.kde.StatusNotifierItem-%d-", getpid ());
  GString *names = g_string_new (NULL);
  const char *name;

  g_assert_nonnull (bus);
  /* after everything this connection sent before: the names released in dispose */
  reply = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "ListNames",
      NULL, G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  g_assert_nonnull (reply);
  g_variant_get (reply, "(as)", &iter);
  while (g_variant_iter_loop (iter, "&s", &name))
    if (g_str_equal (name, APP_ID) || g_str_has_prefix (name, item_prefix))
      g_string_append_printf (names, " %s", name);
  return g_string_free (names, FALSE);
}

static void
spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

/* The last reference dropped: the application is finalized at once, with what it owns, and none
 * of our names is left on the bus; nothing is left after the main loop has run what was still
 * queued either (a source of ours firing on a freed object: ASan). */
static void
unref_and_assert_gone (PhApplication *app)
{
  PhApplication *weak = app;
  g_autofree char *names = NULL;

  watch_app (app);
  g_object_add_weak_pointer (G_OBJECT (app), (gpointer *) &weak);
  g_object_unref (app);
  if (weak != NULL)
    g_error ("the application is alive after its last unref: %u references left",
             G_OBJECT (weak)->ref_count);
  spin (300);
  if (g_hash_table_size (alive) > 0)
    {
      g_autoptr (GString) live = g_string_new (NULL);
      GHashTableIter iter;
      gpointer type_name;

      g_hash_table_iter_init (&iter, alive);
      while (g_hash_table_iter_next (&iter, NULL, &type_name))
        g_string_append_printf (live, " %s", (const char *) type_name);
      g_error ("still alive after the application was finalized:%s", live->str);
    }
  names = dup_our_names ();
  if (names[0] != '\0')
    g_error ("still on the session bus after the application was finalized:%s", names);
}

static gboolean
window_shown (PhApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  return window != NULL && gtk_widget_get_mapped (GTK_WIDGET (window));
}

static gboolean
checked (PhApplication *app)
{
  PhMonitor *monitor = ph_application_get_monitor (app);

  return monitor != NULL && ph_monitor_get_diagnosis (monitor) != NULL;
}

/* ---- under g_application_run () ---- */

typedef enum
{
  END_CLOSE_WINDOW,           /* the window closed: the last one, so the run ends */
  END_QUIT_WITH_WINDOWS,      /* app.quit with the window, the preferences and the history open */
  END_QUIT_CHECKING,          /* app.quit while the window's check runs */
  END_QUIT_BACKGROUND,        /* app.quit of a background instance, after its own check */
  END_QUIT_BACKGROUND_WINDOW, /* app.quit of a background instance that opened a window */
} End;

typedef struct
{
  PhApplication *app;
  End end;
  gint64 deadline;
  guint step;
} Run;

static gboolean
drive (gpointer data)
{
  Run *run = data;
  GActionGroup *actions = G_ACTION_GROUP (run->app);

  if (g_get_monotonic_time () > run->deadline)
    g_error ("the run went nowhere (step %u)", run->step);

  switch (run->end)
    {
      case END_CLOSE_WINDOW:
        if (!window_shown (run->app) || !checked (run->app))
          return G_SOURCE_CONTINUE;
        watch_app (run->app);
        gtk_window_close (gtk_application_get_active_window (GTK_APPLICATION (run->app)));
        return G_SOURCE_REMOVE;

      case END_QUIT_WITH_WINDOWS:
        if (!window_shown (run->app) || !checked (run->app))
          return G_SOURCE_CONTINUE;
        if (run->step++ == 0)
          {
            gtk_widget_activate_action (
                GTK_WIDGET (gtk_application_get_active_window (GTK_APPLICATION (run->app))),
                "win.evidence", NULL);
            g_action_group_activate_action (actions, "preferences", NULL);
            g_action_group_activate_action (actions, "history", NULL);
            return G_SOURCE_CONTINUE;
          }
        g_assert_cmpuint (g_list_length (gtk_application_get_windows (GTK_APPLICATION (run->app))),
                          ==, 3);
        watch_app (run->app);
        g_action_group_activate_action (actions, "quit", NULL);
        return G_SOURCE_REMOVE;

      case END_QUIT_CHECKING:
        if (!window_shown (run->app))
          return G_SOURCE_CONTINUE;
        g_assert_false (checked (run->app));
        watch_app (run->app);
        g_action_group_activate_action (actions, "quit", NULL);
        return G_SOURCE_REMOVE;

      case END_QUIT_BACKGROUND:
        g_assert_true (ph_application_get_background (run->app));
        g_assert_null (gtk_application_get_windows (GTK_APPLICATION (run->app)));
        if (run->step++ == 0)
          g_action_group_activate_action (actions, "check-now", NULL);
        if (!checked (run->app))
          return G_SOURCE_CONTINUE;
        watch_app (run->app);
        g_action_group_activate_action (actions, "quit", NULL);
        return G_SOURCE_REMOVE;

      case END_QUIT_BACKGROUND_WINDOW:
        if (run->step++ == 0)
          g_application_activate (G_APPLICATION (run->app));
        if (!window_shown (run->app) || !checked (run->app))
          return G_SOURCE_CONTINUE;
        watch_app (run->app);
        g_action_group_activate_action (actions, "quit", NULL);
        return G_SOURCE_REMOVE;

      default:
        g_assert_not_reached ();
    }
}

static void
test_run (gconstpointer data)
{
  Run run = { app_new (), GPOINTER_TO_INT (data), 0, 0 };
  char *argv[] = { (char *) "porthole", NULL };
  guint driver;

  run.deadline = g_get_monotonic_time () + DEADLINE_MS * 1000;
  if (run.end == END_QUIT_BACKGROUND || run.end == END_QUIT_BACKGROUND_WINDOW)
    ph_application_set_start_in_background (run.app, TRUE);
  /* the replayed check takes ~300 ms: a 5 ms tick quits while it runs */
  driver = g_timeout_add (run.end == END_QUIT_CHECKING ? 5 : 50, drive, &run);
  g_assert_cmpint (g_application_run (G_APPLICATION (run.app), 1, argv), ==, 0);
  g_assert_null (g_main_context_find_source_by_id (NULL, driver));
  unref_and_assert_gone (run.app);
}

/* ---- the ui harness's way ---- */

/* Registered (startup) and activated by hand, then its windows destroyed. GtkApplication lets go
 * of the reference its action muxer takes on the application in "startup" only in "shutdown",
 * which g_application_run () emits: a driver without it emits "shutdown" itself, or the
 * application is never finalized and keeps its name on the bus. Only g_application_run () leaves
 * the bus before the application goes, so GLib warns once, in dispose (the name is released in
 * finalize all the same). */
static void
test_harness (void)
{
  g_autoptr (GError) error = NULL;
  PhApplication *app = app_new ();
  gint64 end = g_get_monotonic_time () + DEADLINE_MS * 1000;
  g_autofree char *names = NULL;
  GList *windows;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  while (!(window_shown (app) && checked (app)) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (checked (app));
  /* what the check after the end looks for is there to be seen */
  names = dup_our_names ();
  g_test_message ("on the bus:%s", names);
  g_assert_nonnull (strstr (names, APP_ID));
  watch_app (app);
  while ((windows = gtk_application_get_windows (GTK_APPLICATION (app))) != NULL)
    gtk_window_destroy (windows->data);
  spin (200);
  g_signal_emit_by_name (app, "shutdown");
  g_test_expect_message ("GLib-GIO", G_LOG_LEVEL_WARNING, "*did not unregister from D-Bus*");
  unref_and_assert_gone (app);
  g_test_assert_expected_messages ();
}

/* ---- main ---- */

/* Again under run-ui.sh: a display and a session bus of its own. */
static int
run_inner (char *argv[])
{
  g_autofree char *run_ui = g_build_filename (TEST_SRCDIR, "ui", "run-ui.sh", NULL);
  g_autofree char *recorded = g_build_filename (TEST_SRCDIR, "ui", "recorded", "reachable", NULL);
  GPtrArray *args = g_ptr_array_new ();

  g_setenv (INNER_ENV, "1", TRUE);
  g_setenv ("PORTHOLE_TEST_REPLAY", recorded, TRUE);
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/porthole-app-lifetime", TRUE);
  g_ptr_array_add (args, run_ui);
  for (int i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (args, argv[i]);
  g_ptr_array_add (args, NULL);
  execv (run_ui, (char **) args->pdata);
  g_printerr ("cannot run %s: %s\n", run_ui, g_strerror (errno));
  return 1;
}

int
main (int argc, char *argv[])
{
  if (g_getenv (INNER_ENV) == NULL)
    return run_inner (argv);

  g_test_init (&argc, &argv, NULL);
  alive = g_hash_table_new (NULL, NULL);
  g_test_add_data_func ("/app-lifetime/window/close", GINT_TO_POINTER (END_CLOSE_WINDOW), test_run);
  g_test_add_data_func ("/app-lifetime/window/quit-with-windows",
                        GINT_TO_POINTER (END_QUIT_WITH_WINDOWS), test_run);
  g_test_add_data_func ("/app-lifetime/window/quit-checking", GINT_TO_POINTER (END_QUIT_CHECKING),
                        test_run);
  g_test_add_data_func ("/app-lifetime/background/quit", GINT_TO_POINTER (END_QUIT_BACKGROUND),
                        test_run);
  g_test_add_data_func ("/app-lifetime/background/quit-with-window",
                        GINT_TO_POINTER (END_QUIT_BACKGROUND_WINDOW), test_run);
  g_test_add_func ("/app-lifetime/harness", test_harness);
  return g_test_run ();
}
