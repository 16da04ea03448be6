/* test-monitor.c: PhMonitor with a fake check — the timer, check_now, "reachability-changed" once
 * per real change, the backoff while offline, stop and dispose mid-check, checks recorded from
 * the window — and, against python3-dbusmock's NetworkManager on a private system bus, one
 * re-check per burst of network changes, never more often than the debounce allows.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include <glib/gstdio.h>
#include <string.h>

#include "core/ph-monitor.h"
#include "nm-mock.h"

/* ---- the fake check ---- */

typedef enum
{
  RESULT_REACHABLE,
  RESULT_UNREACHABLE,
  RESULT_IPV6_ONLY,
  RESULT_OFFLINE, /* a diagnosis with no default route */
  RESULT_ERROR,   /* a check that failed for another reason */
} Result;

typedef struct
{
  guint calls;
  guint done;         /* completions delivered (also of cancelled checks) */
  GArray *call_times; /* gint64 monotonic µs */
  GQueue results;     /* GINT_TO_POINTER (Result), consumed one per call; then `fallback` */
  Result fallback;
  guint delay_ms;            /* how long a check takes */
  GCancellable *cancellable; /* the last check's */
  guint options_asked;
} Fake;

static Fake fake;

static void
fake_reset (Result fallback, guint delay_ms)
{
  g_clear_pointer (&fake.call_times, g_array_unref);
  g_clear_object (&fake.cancellable);
  g_queue_clear (&fake.results);
  memset (&fake, 0, sizeof fake);
  g_queue_init (&fake.results);
  fake.call_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  fake.fallback = fallback;
  fake.delay_ms = delay_ms;
}

static void
fake_queue (Result result)
{
  g_queue_push_tail (&fake.results, GINT_TO_POINTER (result));
}

static void
set_family (PhDiagnosis *diagnosis, PhFamily family, PhVerdict verdict, const char *reason)
{
  ph_diagnosis_set_family (diagnosis, family, verdict, reason);
}

static PhDiagnosis *
diagnosis_for (Result result)
{
  PhDiagnosis *diagnosis = ph_diagnosis_new ();

  switch (result)
    {
      case RESULT_REACHABLE:
        set_family (diagnosis, PH_FAMILY_IPV4, PH_VERDICT_REACHABLE, NULL);
        set_family (diagnosis, PH_FAMILY_IPV6, PH_VERDICT_UNREACHABLE, NULL);
        break;
      case RESULT_UNREACHABLE:
        set_family (diagnosis, PH_FAMILY_IPV4, PH_VERDICT_UNREACHABLE, NULL);
        set_family (diagnosis, PH_FAMILY_IPV6, PH_VERDICT_UNREACHABLE, NULL);
        break;
      case RESULT_IPV6_ONLY:
        set_family (diagnosis, PH_FAMILY_IPV4, PH_VERDICT_UNREACHABLE, NULL);
        set_family (diagnosis, PH_FAMILY_IPV6, PH_VERDICT_REACHABLE, NULL);
        break;
      case RESULT_OFFLINE:
      case RESULT_ERROR:
      default:
        set_family (diagnosis, PH_FAMILY_IPV4, PH_VERDICT_UNKNOWN, "no-servers");
        set_family (diagnosis, PH_FAMILY_IPV6, PH_VERDICT_UNKNOWN, "ipv6-unavailable");
        /* the LAN facts have no default route */
        ph_diagnosis_take_lan (diagnosis, ph_lan_facts_new ());
        break;
    }
  return diagnosis;
}

static gboolean
fake_complete (gpointer user_data)
{
  GTask *task = user_data;
  Result result = GPOINTER_TO_INT (g_task_get_task_data (task));

  fake.done++;
  if (g_task_return_error_if_cancelled (task))
    return G_SOURCE_REMOVE;
  if (result == RESULT_ERROR)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "the fake check failed");
  else
    g_task_return_pointer (task, diagnosis_for (result), g_object_unref);
  return G_SOURCE_REMOVE;
}

static void
fake_run (const PhCheckOptions *options, GCancellable *cancellable, GAsyncReadyCallback callback,
          gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  gint64 now = g_get_monotonic_time ();
  Result result = fake.fallback;

  if (!g_queue_is_empty (&fake.results))
    result = (Result) GPOINTER_TO_INT (g_queue_pop_head (&fake.results));

  g_assert_nonnull (options);
  g_assert_cmpuint (options->port, ==, 4242);
  fake.calls++;
  g_array_append_val (fake.call_times, now);
  g_set_object (&fake.cancellable, cancellable);
  g_task_set_task_data (task, GINT_TO_POINTER (result), NULL);
  g_timeout_add_full (G_PRIORITY_DEFAULT, fake.delay_ms, fake_complete, task, g_object_unref);
}

static PhDiagnosis *
fake_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
fill_options (PhCheckOptions *options, gpointer user_data)
{
  options->port = 4242;
  fake.options_asked++;
}

/* ---- what the monitor says ---- */

typedef struct
{
  guint started;
  guint finished;
  guint finished_with_diagnosis;
  guint finished_with_error;
  guint changes;
  PhReachability change_old[32];
  PhReachability change_new[32];
  guint state_notifies;
  gboolean saw_checking;
  guint delays[32]; /* the next delay, as set when each check finished */
  PhMonitor *monitor;
} Heard;

static void
on_started (PhMonitor *monitor, Heard *heard)
{
  heard->started++;
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_CHECKING);
}

static void
on_finished (PhMonitor *monitor, const PhDiagnosis *diagnosis, const GError *error, Heard *heard)
{
  g_assert_cmpint (ph_monitor_get_state (monitor), !=, PH_REACHABILITY_CHECKING);
  g_assert_true ((diagnosis == NULL) != (error == NULL));
  if (heard->finished < G_N_ELEMENTS (heard->delays))
    heard->delays[heard->finished] = ph_monitor_get_next_delay_ms (monitor);
  heard->finished++;
  if (diagnosis != NULL)
    {
      heard->finished_with_diagnosis++;
      g_assert_true (ph_monitor_get_diagnosis (monitor) == diagnosis);
    }
  else
    heard->finished_with_error++;
}

static void
on_changed (PhMonitor *monitor, PhReachability old, PhReachability new, Heard *heard)
{
  g_assert_cmpint (old, !=, PH_REACHABILITY_CHECKING);
  g_assert_cmpint (new, !=, PH_REACHABILITY_CHECKING);
  g_assert_cmpint (old, !=, new);
  g_assert_cmpuint (heard->changes, <, G_N_ELEMENTS (heard->change_old));
  heard->change_old[heard->changes] = old;
  heard->change_new[heard->changes] = new;
  heard->changes++;
}

static void
on_state (PhMonitor *monitor, GParamSpec *pspec, Heard *heard)
{
  PhReachability state;

  heard->state_notifies++;
  g_object_get (monitor, "state", &state, NULL);
  g_assert_cmpint (state, ==, ph_monitor_get_state (monitor));
  if (state == PH_REACHABILITY_CHECKING)
    heard->saw_checking = TRUE;
}

static PhMonitor *
monitor_new (Heard *heard, PhHistory *history)
{
  PhMonitor *monitor = ph_monitor_new (fill_options, NULL, history);

  ph_monitor_set_check_func_for_tests (monitor, fake_run, fake_finish);
  g_signal_connect (monitor, "check-started", G_CALLBACK (on_started), heard);
  g_signal_connect (monitor, "check-finished", G_CALLBACK (on_finished), heard);
  g_signal_connect (monitor, "reachability-changed", G_CALLBACK (on_changed), heard);
  g_signal_connect (monitor, "notify::state", G_CALLBACK (on_state), heard);
  heard->monitor = monitor;
  return monitor;
}

static gboolean
wait_until (gboolean (*done) (gpointer), gpointer data, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!done (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

static guint wanted;

static gboolean
finished_enough (gpointer heard)
{
  return ((Heard *) heard)->finished >= wanted;
}

static gboolean
calls_enough (gpointer unused)
{
  return fake.calls >= wanted;
}

static gboolean
all_done (gpointer unused)
{
  return fake.done >= fake.calls;
}

static void
wait_finished (Heard *heard, guint n, guint timeout_ms)
{
  wanted = n;
  g_assert_true (wait_until (finished_enough, heard, timeout_ms));
}

/* Lets cancelled fake checks complete, so nothing is left behind. */
static void
drain (void)
{
  g_assert_true (wait_until (all_done, NULL, 5000));
  spin_main_context (50);
}

static char *
temp_history_path (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ph-monitor-XXXXXX", &error);

  g_assert_no_error (error);
  return g_build_filename (dir, "history.json", NULL);
}

static void
remove_history (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_remove (path);
  g_rmdir (dir);
}

/* ---- tests ---- */

/* Started: a first check after the debounce, then one every interval, each in the history. */
static void
test_timer (void)
{
  g_autofree char *path = temp_history_path ();
  g_autoptr (PhHistory) history = ph_history_new (path);
  g_autoptr (PhMonitor) monitor = NULL;
  Heard heard = { 0 };
  gint64 start;

  fake_reset (RESULT_REACHABLE, 10);
  monitor = monitor_new (&heard, history);
  ph_monitor_set_debounce (monitor, 100);
  ph_monitor_set_interval_ms (monitor, 200);
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_UNKNOWN);
  g_assert_null (ph_monitor_get_diagnosis (monitor));
  g_assert_null (ph_monitor_get_last_check (monitor));

  start = g_get_monotonic_time ();
  ph_monitor_start (monitor);
  ph_monitor_start (monitor); /* harmless */
  g_assert_true (ph_monitor_get_running (monitor));
  g_assert_cmpuint (ph_monitor_get_next_delay_ms (monitor), ==, 100);
  wait_finished (&heard, 1, 2000);
  g_assert_cmpint (g_array_index (fake.call_times, gint64, 0) - start, >=, 100 * 1000);
  g_assert_cmpuint (heard.delays[0], ==, 200);

  wait_finished (&heard, 4, 3000);
  /* a check every interval after the previous one ended, not sooner */
  for (guint i = 1; i < 4; i++)
    g_assert_cmpint (g_array_index (fake.call_times, gint64, i)
                         - g_array_index (fake.call_times, gint64, i - 1),
                     >=, (200 + 10) * 1000);
  g_assert_cmpuint (fake.options_asked, ==, fake.calls);
  g_assert_cmpuint (heard.started, >=, heard.finished);
  g_assert_true (heard.saw_checking);
  g_assert_cmpint (ph_monitor_get_state (monitor) == PH_REACHABILITY_REACHABLE
                       || ph_monitor_get_state (monitor) == PH_REACHABILITY_CHECKING,
                   ==, TRUE);
  g_assert_nonnull (ph_monitor_get_diagnosis (monitor));
  g_assert_nonnull (ph_monitor_get_last_check (monitor));
  /* unknown → reachable, once, however many checks said so */
  g_assert_cmpuint (heard.changes, ==, 1);
  g_assert_cmpint (heard.change_old[0], ==, PH_REACHABILITY_UNKNOWN);
  g_assert_cmpint (heard.change_new[0], ==, PH_REACHABILITY_REACHABLE);
  g_assert_cmpuint (ph_history_get_entries (history)->len, ==, heard.finished_with_diagnosis);

  ph_monitor_stop (monitor);
  g_assert_false (ph_monitor_get_running (monitor));
  g_assert_cmpuint (ph_monitor_get_next_delay_ms (monitor), ==, 0);
  drain ();
  {
    guint calls = fake.calls;

    spin_main_context (500);
    g_assert_cmpuint (fake.calls, ==, calls); /* stopped: no more checks */
  }
  g_clear_object (&monitor);
  g_clear_object (&history);
  remove_history (path);
}

/* check_now runs at once, also when not started; asking again while it runs does nothing. */
static void
test_check_now (void)
{
  g_autoptr (PhMonitor) monitor = NULL;
  Heard heard = { 0 };

  fake_reset (RESULT_UNREACHABLE, 100);
  monitor = monitor_new (&heard, NULL);
  ph_monitor_check_now (monitor);
  g_assert_cmpuint (fake.calls, ==, 1);
  g_assert_cmpuint (heard.started, ==, 1);
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_CHECKING);
  ph_monitor_check_now (monitor);
  ph_monitor_check_now (monitor);
  g_assert_cmpuint (fake.calls, ==, 1);

  wait_finished (&heard, 1, 2000);
  g_assert_cmpuint (fake.calls, ==, 1);
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_UNREACHABLE);
  /* not started: nothing scheduled */
  g_assert_cmpuint (ph_monitor_get_next_delay_ms (monitor), ==, 0);
  g_assert_cmpuint (heard.changes, ==, 1);

  /* check_now while started replaces the pending timer: the next is an interval after it */
  ph_monitor_set_interval (monitor, 3600);
  ph_monitor_set_debounce (monitor, 10000);
  ph_monitor_start (monitor);
  g_assert_cmpuint (ph_monitor_get_next_delay_ms (monitor), ==, 10000);
  ph_monitor_check_now (monitor);
  g_assert_cmpuint (ph_monitor_get_next_delay_ms (monitor), ==, 0);
  wait_finished (&heard, 2, 2000);
  g_assert_cmpuint (ph_monitor_get_next_delay_ms (monitor), ==, 3600 * 1000);
  /* a shorter interval shortens the wait */
  ph_monitor_set_interval (monitor, 60);
  g_assert_cmpuint (ph_monitor_get_next_delay_ms (monitor), ==, 60 * 1000);
  ph_monitor_stop (monitor);
  drain ();
}

/* Once per real change, never for CHECKING; a failed check changes nothing. */
static void
test_reachability_changed (void)
{
  g_autoptr (PhMonitor) monitor = NULL;
  Heard heard = { 0 };
  static const Result results[] = { RESULT_REACHABLE,   RESULT_REACHABLE,   RESULT_ERROR,
                                    RESULT_UNREACHABLE, RESULT_UNREACHABLE, RESULT_IPV6_ONLY,
                                    RESULT_ERROR,       RESULT_REACHABLE,   RESULT_REACHABLE };
  static const PhReachability expected[][2] = {
    { PH_REACHABILITY_UNKNOWN, PH_REACHABILITY_REACHABLE },
    { PH_REACHABILITY_REACHABLE, PH_REACHABILITY_UNREACHABLE },
    { PH_REACHABILITY_UNREACHABLE, PH_REACHABILITY_IPV6_ONLY },
    { PH_REACHABILITY_IPV6_ONLY, PH_REACHABILITY_REACHABLE },
  };

  fake_reset (RESULT_REACHABLE, 5);
  monitor = monitor_new (&heard, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      fake_queue (results[i]);
      ph_monitor_check_now (monitor);
      wait_finished (&heard, i + 1, 2000);
      if (results[i] == RESULT_ERROR)
        g_assert_cmpint (ph_monitor_get_state (monitor), ==, heard.change_new[heard.changes - 1]);
    }
  g_assert_cmpuint (heard.finished_with_error, ==, 2);
  g_assert_cmpuint (heard.changes, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_assert_cmpint (heard.change_old[i], ==, expected[i][0]);
      g_assert_cmpint (heard.change_new[i], ==, expected[i][1]);
    }
  /* the state went through CHECKING every time */
  g_assert_true (heard.saw_checking);
  g_assert_cmpuint (heard.state_notifies, >=, 2 * 7);
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_REACHABLE);
  drain ();
}

/* Offline: OFFLINE once, retried after the first backoff, doubling, at most the interval; back
 * online, the interval again. A failed check backs off too. */
static void
test_backoff (void)
{
  g_autoptr (PhMonitor) monitor = NULL;
  Heard heard = { 0 };
  static const guint steps[] = { 50, 100, 200, 400, 800, 800 };
  guint n = G_N_ELEMENTS (steps);

  fake_reset (RESULT_OFFLINE, 1);
  monitor = monitor_new (&heard, NULL);
  ph_monitor_set_debounce (monitor, 20);
  ph_monitor_set_interval_ms (monitor, 800);
  ph_monitor_set_backoff_first_ms (monitor, 50);
  ph_monitor_start (monitor);

  wait_finished (&heard, n, 10000);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (heard.delays[i], ==, steps[i]);
  /* and the waits were that long */
  for (guint i = 1; i < n; i++)
    {
      gint64 gap = g_array_index (fake.call_times, gint64, i)
                   - g_array_index (fake.call_times, gint64, i - 1);
      g_assert_cmpint (gap, >=, (gint64) steps[i - 1] * 1000);
    }
  g_assert_cmpuint (heard.changes, ==, 1);
  g_assert_cmpint (heard.change_new[0], ==, PH_REACHABILITY_OFFLINE);
  g_assert_cmpint (ph_monitor_get_state (monitor) == PH_REACHABILITY_OFFLINE
                       || ph_monitor_get_state (monitor) == PH_REACHABILITY_CHECKING,
                   ==, TRUE);

  /* back online: reachable, the interval, the backoff forgotten */
  fake.fallback = RESULT_REACHABLE;
  ph_monitor_check_now (monitor);
  wait_finished (&heard, n + 1, 2000);
  g_assert_cmpuint (heard.delays[n], ==, 800);
  g_assert_cmpuint (heard.changes, ==, 2);
  g_assert_cmpint (heard.change_old[1], ==, PH_REACHABILITY_OFFLINE);
  g_assert_cmpint (heard.change_new[1], ==, PH_REACHABILITY_REACHABLE);

  /* a check that fails (not for want of network) retries soon, the state stays */
  fake.fallback = RESULT_ERROR;
  ph_monitor_check_now (monitor);
  wait_finished (&heard, n + 2, 2000);
  g_assert_cmpuint (heard.delays[n + 1], ==, 50);
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_REACHABLE);
  g_assert_cmpuint (heard.changes, ==, 2);
  ph_monitor_check_now (monitor);
  wait_finished (&heard, n + 3, 2000);
  g_assert_cmpuint (heard.delays[n + 2], ==, 100);

  ph_monitor_stop (monitor);
  drain ();
}

/* The default backoff starts at a minute, and never exceeds a short interval. */
static void
test_backoff_defaults (void)
{
  g_autoptr (PhMonitor) monitor = NULL;
  Heard heard = { 0 };

  fake_reset (RESULT_OFFLINE, 1);
  monitor = monitor_new (&heard, NULL);
  ph_monitor_set_debounce (monitor, 10);
  ph_monitor_start (monitor);
  wait_finished (&heard, 1, 2000);
  g_assert_cmpuint (heard.delays[0], ==, PH_MONITOR_BACKOFF_FIRST_S * 1000);
  ph_monitor_set_interval (monitor, 30);
  g_assert_cmpuint (ph_monitor_get_next_delay_ms (monitor), ==, 30 * 1000);
  ph_monitor_stop (monitor);
  drain ();
}

/* Stopping cancels the running check and forgets it: no "check-finished", state as it was. */
static void
test_stop_cancels (void)
{
  g_autoptr (PhMonitor) monitor = NULL;
  Heard heard = { 0 };

  fake_reset (RESULT_REACHABLE, 300);
  monitor = monitor_new (&heard, NULL);
  ph_monitor_start (monitor);
  ph_monitor_check_now (monitor);
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_CHECKING);
  ph_monitor_stop (monitor);
  g_assert_true (g_cancellable_is_cancelled (fake.cancellable));
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_UNKNOWN);
  drain ();
  g_assert_cmpuint (heard.finished, ==, 0);
  g_assert_null (ph_monitor_get_diagnosis (monitor));

  /* it can check again afterwards */
  ph_monitor_check_now (monitor);
  wait_finished (&heard, 1, 2000);
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_REACHABLE);
  drain ();
}

/* Dropped mid-check: the check is cancelled and its late answer goes nowhere. */
static void
test_dispose_cancels (void)
{
  PhMonitor *monitor;
  GWeakRef weak;
  Heard heard = { 0 };

  fake_reset (RESULT_REACHABLE, 200);
  monitor = monitor_new (&heard, NULL);
  g_weak_ref_init (&weak, monitor);
  ph_monitor_start (monitor);
  ph_monitor_check_now (monitor);
  g_object_unref (monitor);
  g_assert_null (g_weak_ref_get (&weak));
  g_weak_ref_clear (&weak);
  g_assert_true (g_cancellable_is_cancelled (fake.cancellable));
  drain ();
  g_assert_cmpuint (heard.finished, ==, 0);
}

/* A handler that stops the monitor as a check starts. */
static void
stop_on_start (PhMonitor *monitor, gpointer unused)
{
  ph_monitor_stop (monitor);
}

static void
test_stop_in_handler (void)
{
  g_autoptr (PhMonitor) monitor = NULL;
  Heard heard = { 0 };

  fake_reset (RESULT_REACHABLE, 10);
  monitor = monitor_new (&heard, NULL);
  g_signal_connect (monitor, "check-started", G_CALLBACK (stop_on_start), NULL);
  ph_monitor_check_now (monitor);
  g_assert_cmpuint (fake.calls, ==, 0);
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_UNKNOWN);
  spin_main_context (50);
  g_assert_cmpuint (heard.finished, ==, 0);
}

/* The window's checks: kept, told, and the next scheduled check an interval away. */
static void
test_record (void)
{
  g_autofree char *path = temp_history_path ();
  g_autoptr (PhHistory) history = ph_history_new (path);
  g_autoptr (PhMonitor) monitor = NULL;
  g_autoptr (PhDiagnosis) reachable = diagnosis_for (RESULT_IPV6_ONLY);
  g_autoptr (PhDiagnosis) offline = diagnosis_for (RESULT_OFFLINE);
  Heard heard = { 0 };

  fake_reset (RESULT_REACHABLE, 10);
  monitor = monitor_new (&heard, history);
  ph_monitor_set_interval (monitor, 600);
  ph_monitor_set_debounce (monitor, 10000);
  ph_monitor_start (monitor);
  g_assert_cmpuint (ph_monitor_get_next_delay_ms (monitor), ==, 10000);

  ph_monitor_record (monitor, reachable);
  g_assert_true (ph_monitor_get_diagnosis (monitor) == reachable);
  g_assert_nonnull (ph_monitor_get_last_check (monitor));
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_IPV6_ONLY);
  g_assert_cmpuint (heard.changes, ==, 1);
  g_assert_cmpuint (heard.finished, ==, 0);
  g_assert_cmpuint (ph_history_get_entries (history)->len, ==, 1);
  g_assert_cmpstr (
      ((PhHistoryEntry *) g_ptr_array_index (ph_history_get_entries (history), 0))->how, ==,
      "ipv6");
  g_assert_cmpuint (ph_monitor_get_next_delay_ms (monitor), ==, 600 * 1000);

  ph_monitor_record (monitor, reachable);
  g_assert_cmpuint (heard.changes, ==, 1);
  g_assert_cmpuint (ph_history_get_entries (history)->len, ==, 2);

  ph_monitor_record (monitor, offline);
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_OFFLINE);
  g_assert_cmpuint (heard.changes, ==, 2);
  g_assert_cmpuint (ph_monitor_get_next_delay_ms (monitor), ==, PH_MONITOR_BACKOFF_FIRST_S * 1000);

  /* recorded while our own check runs: the state stays CHECKING until it ends */
  ph_monitor_check_now (monitor);
  ph_monitor_record (monitor, reachable);
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_CHECKING);
  g_assert_cmpuint (heard.changes, ==, 3);
  wait_finished (&heard, 1, 2000);
  g_assert_cmpint (ph_monitor_get_state (monitor), ==, PH_REACHABILITY_REACHABLE);
  g_assert_cmpuint (heard.changes, ==, 4);
  g_assert_cmpuint (ph_history_get_entries (history)->len, ==, 5);

  ph_monitor_stop (monitor);
  drain ();
  g_clear_object (&monitor);
  g_clear_object (&history);
  remove_history (path);
}

/* ---- NetworkManager (python3-dbusmock) ---- */

#define WIRED_UUID "8a6f4b1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
#define GLOBAL6 "2a01:4f8:c0c:1234::17"
#define GLOBAL6_B "2a01:4f8:c0c:1234::18"
#define LINK_LOCAL6 "fe80::1e2d:3c4b:5a69:7887"

typedef struct
{
  Mock mock;
  char *device;
  char *connection;
  char *active;
  char *ip6;
  guint toggles;
} Wired;

static void
wired_up (Wired *wired)
{
  const char *link_only[] = { LINK_LOCAL6 "/64", NULL };

  mock_start (&wired->mock, "1.42.4");
  wired->device = mock_add_ethernet (&wired->mock, "mock_Ethernet1", "enp3s0");
  wired->connection = mock_add_connection (&wired->mock, "Wired connection 1", WIRED_UUID,
                                           "802-3-ethernet", "auto", "auto");
  wired->active = mock_activate (&wired->mock, wired->device, wired->connection, "wired");
  mock_set_primary (&wired->mock, wired->active);
  wired->ip6 = mock_add_ip_config (&wired->mock, 6, wired->device, wired->active, link_only, NULL);
}

static void
wired_down (Wired *wired)
{
  mock_stop (&wired->mock);
  g_clear_pointer (&wired->device, g_free);
  g_clear_pointer (&wired->connection, g_free);
  g_clear_pointer (&wired->active, g_free);
  g_clear_pointer (&wired->ip6, g_free);
}

/* One change as NetworkManager makes it: the IPv6 addresses, then the route, then the gateway. */
static void
wired_change (Wired *wired)
{
  const char *a[] = { GLOBAL6 "/64", LINK_LOCAL6 "/64", NULL };
  const char *b[] = { GLOBAL6_B "/64", LINK_LOCAL6 "/64", NULL };

  wired->toggles++;
  mock_set_property (&wired->mock, wired->ip6, NM_IP6_IFACE, "AddressData",
                     mock_address_data (wired->toggles % 2 ? a : b));
  mock_set_property (&wired->mock, wired->ip6, NM_IP6_IFACE, "RouteData",
                     mock_route_data (6, wired->toggles % 2 ? "fe80::1" : "fe80::2"));
  mock_set_property (&wired->mock, wired->ip6, NM_IP6_IFACE, "Gateway",
                     g_variant_new_string (wired->toggles % 2 ? "fe80::1" : "fe80::2"));
}

static gboolean
network_ready (gpointer monitor)
{
  return ph_monitor_get_network_ready (monitor);
}

#define DEBOUNCE_MS 1000

/* A burst of changes: one re-check, a debounce after the burst began; a later change: another. */
static void
test_network_debounce (void)
{
  g_autoptr (PhMonitor) monitor = NULL;
  Wired wired = { 0 };
  Heard heard = { 0 };
  gint64 burst;
  gint64 second;

  if (skip_without_dbusmock ())
    return;

  fake_reset (RESULT_REACHABLE, 20);
  wired_up (&wired);
  monitor = monitor_new (&heard, NULL);
  ph_monitor_set_debounce (monitor, DEBOUNCE_MS);
  ph_monitor_set_interval (monitor, 3600);
  ph_monitor_start (monitor);
  g_assert_true (wait_until (network_ready, monitor, 10000));
  /* the first check, a debounce after start */
  wait_finished (&heard, 1, 5000);
  spin_main_context (DEBOUNCE_MS + 500);
  g_assert_cmpuint (fake.calls, ==, 1); /* quiet network: nothing more */

  /* five changes, 60 ms apart: one check */
  burst = g_get_monotonic_time ();
  for (guint i = 0; i < 5; i++)
    {
      wired_change (&wired);
      spin_main_context (60);
    }
  wanted = 2;
  g_assert_true (wait_until (calls_enough, NULL, 5000));
  second = g_array_index (fake.call_times, gint64, 1);
  g_assert_cmpint (second - burst, >=, DEBOUNCE_MS * 1000);
  spin_main_context (2 * DEBOUNCE_MS);
  g_assert_cmpuint (fake.calls, ==, 2);
  g_assert_cmpuint (heard.finished, ==, 2);

  /* a later change: another */
  burst = g_get_monotonic_time ();
  wired_change (&wired);
  wanted = 3;
  g_assert_true (wait_until (calls_enough, NULL, 5000));
  g_assert_cmpint (g_array_index (fake.call_times, gint64, 2) - burst, >=, DEBOUNCE_MS * 1000);
  spin_main_context (2 * DEBOUNCE_MS);
  g_assert_cmpuint (fake.calls, ==, 3);

  /* NetworkManager going away is a change too */
  mock_stop_nm (&wired.mock);
  wanted = 4;
  g_assert_true (wait_until (calls_enough, NULL, 5000));

  ph_monitor_stop (monitor);
  drain ();
  g_clear_object (&monitor);
  spin_main_context (200);
  wired_down (&wired);
}

static gboolean
flap (gpointer user_data)
{
  Wired *wired = user_data;

  wired_change (wired);
  return G_SOURCE_CONTINUE;
}

/* A link that keeps changing for seconds: re-checks at most once per debounce window. */
static void
test_network_flapping (void)
{
  g_autoptr (PhMonitor) monitor = NULL;
  Wired wired = { 0 };
  Heard heard = { 0 };
  guint source;
  guint first;

  if (skip_without_dbusmock ())
    return;

  fake_reset (RESULT_REACHABLE, 20);
  wired_up (&wired);
  monitor = monitor_new (&heard, NULL);
  ph_monitor_set_debounce (monitor, DEBOUNCE_MS);
  ph_monitor_set_interval (monitor, 3600);
  ph_monitor_start (monitor);
  g_assert_true (wait_until (network_ready, monitor, 10000));
  wait_finished (&heard, 1, 5000);
  first = fake.calls;

  source = g_timeout_add (150, flap, &wired);
  spin_main_context (4 * DEBOUNCE_MS);
  g_source_remove (source);
  spin_main_context (2 * DEBOUNCE_MS + 500);

  /* some re-checks (the link never settled), but never two within a debounce */
  g_assert_cmpuint (fake.calls, >, first);
  g_assert_cmpuint (fake.calls - first, <=, 5);
  for (guint i = first + 1; i < fake.calls; i++)
    g_assert_cmpint (g_array_index (fake.call_times, gint64, i)
                         - g_array_index (fake.call_times, gint64, i - 1),
                     >=, DEBOUNCE_MS * 1000);

  ph_monitor_stop (monitor);
  drain ();
  g_clear_object (&monitor);
  spin_main_context (200);
  wired_down (&wired);
}

int
main (int argc, char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* Before anything in this process connects to the "system" bus: also the monitors without
   * NetworkManager watch this private bus, never the machine's. */
  test_bus_up ();

  g_test_add_func ("/monitor/timer", test_timer);
  g_test_add_func ("/monitor/check-now", test_check_now);
  g_test_add_func ("/monitor/reachability-changed", test_reachability_changed);
  g_test_add_func ("/monitor/backoff", test_backoff);
  g_test_add_func ("/monitor/backoff-defaults", test_backoff_defaults);
  g_test_add_func ("/monitor/stop-cancels", test_stop_cancels);
  g_test_add_func ("/monitor/dispose-cancels", test_dispose_cancels);
  g_test_add_func ("/monitor/stop-in-handler", test_stop_in_handler);
  g_test_add_func ("/monitor/record", test_record);
  g_test_add_func ("/monitor/network/debounce", test_network_debounce);
  g_test_add_func ("/monitor/network/flapping", test_network_flapping);

  ret = g_test_run ();
  fake_reset (RESULT_REACHABLE, 0);
  g_clear_pointer (&fake.call_times, g_array_unref);
  test_bus_down ();
  return ret;
}
