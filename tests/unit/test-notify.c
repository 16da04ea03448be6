/* test-notify.c: notifications on reachability changes
 *
 * The decision (what is worth a pop-up) alone, then the whole path through a PhMonitor, a
 * registered GApplication and GNotification's freedesktop backend to python3-dbusmock's
 * notification_daemon template on a private session bus: the Notify calls and their summaries,
 * and the default action coming back as app.show-fix.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <signal.h>
#include <sys/wait.h>

#include "ph-notifier.h"

static struct _Fixture *current;

#define PYTHON "/usr/bin/python3"
#define NOTIFY_PATH "/org/freedesktop/Notifications"

static PhDiagnosis *
diagnosis_new (PhVerdict ipv4, PhVerdict ipv6, const char *cause)
{
  PhDiagnosis *diagnosis = ph_diagnosis_new ();

  ph_diagnosis_set_family (diagnosis, PH_FAMILY_IPV4, ipv4, NULL);
  ph_diagnosis_set_family (diagnosis, PH_FAMILY_IPV6, ipv6, NULL);
  if (cause)
    {
      g_autoptr (GPtrArray) causes = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GPtrArray) addresses = g_ptr_array_new_with_free_func (g_free);

      g_ptr_array_add (causes, g_strdup (cause));
      ph_diagnosis_set_family_causes (diagnosis, PH_FAMILY_IPV4, causes, addresses, TRUE);
    }
  return diagnosis;
}

/* ---- the decision ---- */

static void
test_decision (void)
{
  PhReachability last = PH_REACHABILITY_UNKNOWN;

  /* the first result of a session: quiet when reachable */
  g_assert_false (ph_notifier_should_notify (&last, PH_REACHABILITY_REACHABLE));
  g_assert_cmpint (last, ==, PH_REACHABILITY_REACHABLE);
  /* the same again: quiet */
  g_assert_false (ph_notifier_should_notify (&last, PH_REACHABILITY_REACHABLE));
  /* offline and unknown say nothing and change nothing */
  g_assert_false (ph_notifier_should_notify (&last, PH_REACHABILITY_OFFLINE));
  g_assert_false (ph_notifier_should_notify (&last, PH_REACHABILITY_UNKNOWN));
  g_assert_false (ph_notifier_should_notify (&last, PH_REACHABILITY_CHECKING));
  g_assert_cmpint (last, ==, PH_REACHABILITY_REACHABLE);
  /* back online, still reachable: quiet */
  g_assert_false (ph_notifier_should_notify (&last, PH_REACHABILITY_REACHABLE));
  /* real changes */
  g_assert_true (ph_notifier_should_notify (&last, PH_REACHABILITY_IPV6_ONLY));
  g_assert_true (ph_notifier_should_notify (&last, PH_REACHABILITY_UNREACHABLE));
  g_assert_false (ph_notifier_should_notify (&last, PH_REACHABILITY_OFFLINE));
  g_assert_true (ph_notifier_should_notify (&last, PH_REACHABILITY_REACHABLE));

  /* a session that starts unreachable tells at once */
  last = PH_REACHABILITY_UNKNOWN;
  g_assert_false (ph_notifier_should_notify (&last, PH_REACHABILITY_OFFLINE));
  g_assert_true (ph_notifier_should_notify (&last, PH_REACHABILITY_UNREACHABLE));
  /* one that starts reachable over IPv6 only does not */
  last = PH_REACHABILITY_UNKNOWN;
  g_assert_false (ph_notifier_should_notify (&last, PH_REACHABILITY_IPV6_ONLY));
  g_assert_true (ph_notifier_should_notify (&last, PH_REACHABILITY_UNREACHABLE));
}

static void
test_build (void)
{
  g_autoptr (PhDiagnosis) diagnosis
      = diagnosis_new (PH_VERDICT_UNREACHABLE, PH_VERDICT_UNREACHABLE, "cgnat");
  g_autoptr (GNotification) n = ph_notifier_build (PH_REACHABILITY_UNREACHABLE, diagnosis);
  g_autoptr (GNotification) m = ph_notifier_build (PH_REACHABILITY_REACHABLE, NULL);

  g_assert_true (G_IS_NOTIFICATION (n));
  g_assert_true (G_IS_NOTIFICATION (m));
}

/* ---- through dbusmock ---- */

typedef struct _Fixture
{
  GTestDBus *bus;
  GPid mock_pid;
  GDBusConnection *connection;
  GApplication *app;
  guint show_fix;
  GPtrArray *canned; /* PhDiagnosis * the fake check returns, in order */
  guint checks;
} Fixture;

static gboolean
have_dbusmock (void)
{
  const char *argv[] = { PYTHON, "-c", "import dbusmock", NULL };
  int status = -1;

  return g_spawn_sync (NULL, (char **) argv, NULL,
                       G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
                       NULL, &status, NULL)
         && g_spawn_check_wait_status (status, NULL);
}

static gboolean
name_has_owner (GDBusConnection *connection, const char *name)
{
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "NameHasOwner", g_variant_new ("(s)", name), G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE,
      -1, NULL, NULL);
  gboolean has = FALSE;

  if (reply)
    g_variant_get (reply, "(b)", &has);
  return has;
}

static void
show_fix_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  Fixture *f = user_data;

  f->show_fix++;
}

static void
setup (Fixture *f, gconstpointer data)
{
  const char *argv[] = { PYTHON, "-m", "dbusmock", "--template", "notification_daemon", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GSimpleAction) action = g_simple_action_new ("show-fix", NULL);
  gint64 deadline;

  f->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (f->bus); /* sets DBUS_SESSION_BUS_ADDRESS for us and the mock */
  g_assert_true (g_spawn_async (NULL, (char **) argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                &f->mock_pid, &error));
  g_assert_no_error (error);
  f->connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  while (!name_has_owner (f->connection, "org.freedesktop.Notifications"))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (50 * 1000);
    }

  f->app = g_application_new (APP_ID ".NotifyTest", G_APPLICATION_DEFAULT_FLAGS);
  g_signal_connect (action, "activate", G_CALLBACK (show_fix_activated), f);
  g_action_map_add_action (G_ACTION_MAP (f->app), G_ACTION (action));
  g_assert_true (g_application_register (f->app, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_application_get_is_remote (f->app));
  f->canned = g_ptr_array_new_with_free_func (g_object_unref);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  /* GLib 2.74's freedesktop backend recurses to death when disposed with a notification
   * still listed (each one's free unrefs the backend being disposed): withdraw first, as
   * ph_application_shutdown () does */
  g_application_withdraw_notification (f->app, PH_NOTIFIER_ID);
  g_clear_object (&f->app);
  g_clear_pointer (&f->canned, g_ptr_array_unref);
  kill (f->mock_pid, SIGTERM);
  waitpid (f->mock_pid, NULL, 0);
  g_spawn_close_pid (f->mock_pid);
  g_dbus_connection_close_sync (f->connection, NULL, NULL);
  g_clear_object (&f->connection);
  g_test_dbus_down (f->bus);
  g_clear_object (&f->bus);
}

/* Notify calls so far: their summaries (the 4th argument), oldest first. */
static GPtrArray *
notify_summaries (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      f->connection, "org.freedesktop.Notifications", NOTIFY_PATH, "org.freedesktop.DBus.Mock",
      "GetCalls", NULL, G_VARIANT_TYPE ("(a(tsav))"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_autoptr (GVariantIter) iter = NULL;
  GPtrArray *summaries = g_ptr_array_new_with_free_func (g_free);
  const char *method;
  GVariantIter *args;
  guint64 when;

  g_assert_no_error (error);
  g_variant_get (reply, "(a(tsav))", &iter);
  while (g_variant_iter_next (iter, "(t&sav)", &when, &method, &args))
    {
      if (g_strcmp0 (method, "Notify") == 0)
        {
          g_autoptr (GVariant) arg = NULL;

          /* app_name, replaces_id, app_icon, summary, body, actions, hints, expire_timeout */
          for (guint i = 0; i < 4; i++)
            {
              g_clear_pointer (&arg, g_variant_unref);
              arg = g_variant_iter_next_value (args);
            }
          {
            g_autoptr (GVariant) summary = g_variant_get_variant (arg);

            g_ptr_array_add (summaries, g_variant_dup_string (summary, NULL));
          }
        }
      g_variant_iter_free (args);
    }
  return summaries;
}

/* Waits until n Notify calls arrived, or for ms. */
static GPtrArray *
wait_for_notifications_ms (Fixture *f, guint n, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
  GPtrArray *summaries = NULL;

  for (;;)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      summaries = notify_summaries (f);
      if (summaries->len >= n || g_get_monotonic_time () > deadline)
        return summaries;
      g_ptr_array_unref (summaries);
      g_usleep (20 * 1000);
    }
}

static GPtrArray *
wait_for_notifications (Fixture *f, guint n)
{
  return wait_for_notifications_ms (f, n, 10000);
}

/* the fake check: the next canned diagnosis */
static void
fake_check (const PhCheckOptions *options, GCancellable *cancellable, GAsyncReadyCallback callback,
            gpointer user_data)
{
  Fixture *f = current;
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_assert_nonnull (f);
  g_assert_cmpuint (f->checks, <, f->canned->len);
  g_task_return_pointer (task, g_object_ref (g_ptr_array_index (f->canned, f->checks++)),
                         g_object_unref);
  g_object_unref (task);
}

static PhDiagnosis *
fake_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
check_finished_cb (PhMonitor *monitor, PhDiagnosis *diagnosis, GError *error, gpointer user_data)
{
  gboolean *done = user_data;

  *done = TRUE;
}

static void
run_check (PhMonitor *monitor)
{
  gboolean done = FALSE;
  gulong id = g_signal_connect (monitor, "check-finished", G_CALLBACK (check_finished_cb), &done);
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  ph_monitor_check_now (monitor);
  while (!done && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (monitor, id);
  g_assert_true (done);
}

static void
test_dbusmock (Fixture *f, gconstpointer data)
{
  g_autoptr (PhMonitor) monitor = ph_monitor_new (NULL, NULL, NULL);
  g_autoptr (PhNotifier) notifier = ph_notifier_new (f->app, monitor);
  g_autoptr (GPtrArray) summaries = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  gint64 deadline;

  current = f;
  ph_monitor_set_check_func_for_tests (monitor, fake_check, fake_finish);
  g_ptr_array_add (f->canned, diagnosis_new (PH_VERDICT_REACHABLE, PH_VERDICT_UNREACHABLE, NULL));
  g_ptr_array_add (f->canned,
                   diagnosis_new (PH_VERDICT_UNREACHABLE, PH_VERDICT_UNREACHABLE, "behind-nat"));
  g_ptr_array_add (f->canned,
                   diagnosis_new (PH_VERDICT_UNREACHABLE, PH_VERDICT_UNREACHABLE, "behind-nat"));

  /* 1: reachable, the first of the session: no pop-up */
  run_check (monitor);
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_REACHABLE);
  summaries = wait_for_notifications_ms (f, 1, 500);
  /* (nothing expected: give a wrongly sent one the chance to arrive) */
  g_assert_cmpuint (summaries->len, ==, 0);
  g_clear_pointer (&summaries, g_ptr_array_unref);

  /* 2: it stopped being reachable */
  run_check (monitor);
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_UNREACHABLE);
  summaries = wait_for_notifications (f, 1);
  g_assert_cmpuint (summaries->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (summaries, 0), ==, "Your IPFS node is not reachable");
  g_clear_pointer (&summaries, g_ptr_array_unref);

  /* 3: still unreachable: nothing new */
  run_check (monitor);
  /* 4: a window's check says reachable again (ph_application_record_diagnosis's path) */
  {
    g_autoptr (PhDiagnosis) d = diagnosis_new (PH_VERDICT_REACHABLE, PH_VERDICT_REACHABLE, NULL);

    ph_monitor_record (monitor, d);
  }
  summaries = wait_for_notifications (f, 2);
  g_assert_cmpuint (summaries->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (summaries, 1), ==, "Your IPFS node is reachable");
  g_assert_cmpuint (ph_notifier_get_sent (notifier), ==, 2);

  /* clicking it: the daemon says ActionInvoked (id, "default") → app.show-fix */
  reply = g_dbus_connection_call_sync (
      f->connection, "org.freedesktop.Notifications", NOTIFY_PATH, "org.freedesktop.DBus.Mock",
      "EmitSignal",
      g_variant_new_parsed ("('org.freedesktop.Notifications', 'ActionInvoked', 'us', "
                            "[<uint32 1>, <'default'>])"),
      NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  while (f->show_fix == 0 && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (10 * 1000);
  g_assert_cmpuint (f->show_fix, ==, 1);
}

static gboolean
always_quiet (gpointer user_data)
{
  return GPOINTER_TO_INT (user_data);
}

static void
test_first_and_quiet (Fixture *f, gconstpointer data)
{
  g_autoptr (PhMonitor) monitor = ph_monitor_new (NULL, NULL, NULL);
  g_autoptr (PhNotifier) notifier = ph_notifier_new (f->app, monitor);
  g_autoptr (PhDiagnosis) down
      = diagnosis_new (PH_VERDICT_UNREACHABLE, PH_VERDICT_UNREACHABLE, "behind-nat");
  g_autoptr (PhDiagnosis) up = diagnosis_new (PH_VERDICT_REACHABLE, PH_VERDICT_UNKNOWN, NULL);
  g_autoptr (GPtrArray) summaries = NULL;

  /* a session that starts unreachable tells at once */
  ph_monitor_record (monitor, down);
  summaries = wait_for_notifications (f, 1);
  g_assert_cmpuint (summaries->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (summaries, 0), ==, "Your IPFS node is not reachable");
  g_clear_pointer (&summaries, g_ptr_array_unref);

  /* the window is in front: it shows the change itself */
  ph_notifier_set_quiet_func (notifier, always_quiet, GINT_TO_POINTER (TRUE));
  ph_monitor_record (monitor, up);
  summaries = wait_for_notifications_ms (f, 2, 500);
  g_assert_cmpuint (summaries->len, ==, 1);
  g_clear_pointer (&summaries, g_ptr_array_unref);
  g_assert_cmpuint (ph_notifier_get_sent (notifier), ==, 1);

  /* and it counts as told: the same state again, the window gone, stays quiet */
  ph_notifier_set_quiet_func (notifier, always_quiet, GINT_TO_POINTER (FALSE));
  ph_monitor_record (monitor, up);
  g_assert_cmpuint (ph_notifier_get_sent (notifier), ==, 1);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* the freedesktop backend, whatever else the machine offers */
  g_setenv ("GNOTIFICATION_BACKEND", "freedesktop", TRUE);
  g_setenv ("GIO_USE_VFS", "local", TRUE);

  g_test_add_func ("/notify/decision", test_decision);
  g_test_add_func ("/notify/build", test_build);
  if (have_dbusmock ())
    {
      g_test_add ("/notify/dbusmock/changes", Fixture, NULL, setup, test_dbusmock, teardown);
      g_test_add ("/notify/dbusmock/first-unreachable-and-quiet", Fixture, NULL, setup,
                  test_first_and_quiet, teardown);
    }
  else
    g_test_message ("python3-dbusmock is not installed: the D-Bus tests are skipped");
  return g_test_run ();
}
