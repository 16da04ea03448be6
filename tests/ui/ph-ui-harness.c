/* ph-ui-harness.c: the Porthole window driven in-process for the ui suite.
 *
 * Dispatch timing: a poll function wrapped around g_poll () stamps the end of each poll; the time
 * from there to the start of the next poll is one main-loop iteration's check and dispatch — what
 * keeps the window from drawing. The harness's own work between two iterations (reading widgets,
 * screenshots) is subtracted, so only the application's work is measured.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <execinfo.h>
#include <glib/gstdio.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include <gdk/x11/gdkx.h>

#include "ph-application.h"
#include "ph-ui-harness.h"
#include "ui/ph-window.h"

/* Nobody listens on the discard port of loopback: a check that escaped replay fails quickly and
 * never reaches the internet. */
#define PH_UI_NOBODY_PEER                                                                          \
  "/ip4/127.0.0.1/tcp/9/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"

struct _PhUiHarness
{
  char *road;
  char *artifacts;
  PhApplication *app;
  GtkWindow *window;
  GHashTable *shots; /* page name → times shown */

  /* dispatch timing */
  gint64 poll_end;         /* when the last poll returned; 0: no measure in progress */
  gint64 poll_end_cpu;     /* this thread's CPU time then */
  gint64 harness_us;       /* the harness's own time since then */
  gint64 left_loop_at;     /* when the harness got control back from the loop; 0: in the loop */
  gboolean in_check;       /* a check's window is open */
  gint64 check_max_us;     /* longest dispatch in the current check's window */
  gint64 check_max_cpu_us; /* the most CPU time the main thread spent in one dispatch there */
  gint64 all_checks_max;   /* longest over every check's window */
  gint64 overall_max; /* longest outside check windows too (first frames, screenshots' paint) */
  guint dispatches;

  /* the frame clock's phases of the last frame, to say where a long dispatch went */
  GdkFrameClock *frame_clock;
  gint64 phase_start[5]; /* before-paint, update, layout, paint, after-paint */
  gint64 frame_end;
  gint64 page_switch; /* when the window's stack last changed page */
  gint64 settle_start;
  char *pending_shot;      /* where the next frame's rendering goes */
  gboolean drawn_laid_out; /* a frame was drawn with the window laid out */
};

static PhUiHarness *current; /* the poll function has no user data */

/* PORTHOLE_UI_PROFILE=1: while a dispatch has run longer than 40 ms, the main thread's stack is
 * written to stderr every 10 ms (exported symbols only), to find what takes the time. */
static pthread_t main_thread;
static gsize dispatch_started; /* atomic, µs; 0 while polling */

static void
dump_stack (int signum)
{
  void *frames[256];
  int n = backtrace (frames, G_N_ELEMENTS (frames));
  static const char mark[] = "--- stack of a long dispatch\n";

  (void) !write (STDERR_FILENO, mark, sizeof mark - 1);
  backtrace_symbols_fd (frames, n, STDERR_FILENO);
}

static gpointer
profile_watch (gpointer data)
{
  for (;;)
    {
      gint64 started;

      g_usleep (10000);
      started = (gint64) g_atomic_pointer_get (&dispatch_started);
      if (started != 0 && g_get_monotonic_time () - started > 40000)
        pthread_kill (main_thread, SIGUSR2);
    }
  return NULL;
}

static void
start_profiling (void)
{
  static gsize once;

  if (g_getenv ("PORTHOLE_UI_PROFILE") == NULL || !g_once_init_enter (&once))
    return;
  main_thread = pthread_self ();
  signal (SIGUSR2, dump_stack);
  g_thread_unref (g_thread_new ("ui-profile", profile_watch, NULL));
  g_once_init_leave (&once, 1);
}

/* This thread's CPU time, µs: a dispatch's wall time less its CPU time is time it spent blocked
 * (or, on a busy machine, waiting for a CPU). */
static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void
report_long_dispatch (PhUiHarness *self, gint64 dispatch)
{
  const gint64 *t = self->phase_start;

  g_test_message ("a dispatch took %.1f ms on page %s, %.1f ms of it on the CPU", dispatch / 1000.0,
                  ph_ui_harness_get_page (self), (thread_cpu_us () - self->poll_end_cpu) / 1000.0);

  if (self->page_switch > self->poll_end)
    g_test_message ("  the page changed %.1f ms into it",
                    (self->page_switch - self->poll_end) / 1000.0);
  if (self->frame_end > self->poll_end && t[0] >= self->poll_end)
    /* each stamp is taken after GTK's own handler of that phase */
    g_test_message ("  of which a frame: update %.1f ms, layout %.1f ms, paint %.1f ms",
                    (t[1] - t[0]) / 1000.0, (t[2] - t[1]) / 1000.0, (t[3] - t[2]) / 1000.0);
  else
    g_test_message ("  outside a frame");
}

static gint
timed_poll (GPollFD *fds, guint n_fds, gint timeout)
{
  gint64 start = g_get_monotonic_time ();
  gint ret;

  if (current != NULL && current->poll_end != 0)
    {
      gint64 dispatch = start - current->poll_end - current->harness_us;

      current->dispatches++;
      current->overall_max = MAX (current->overall_max, dispatch);
      if (current->in_check)
        {
          gint64 cpu = MAX (0, thread_cpu_us () - current->poll_end_cpu - current->harness_us);

          if (dispatch > PH_UI_MAX_DISPATCH_US)
            report_long_dispatch (current, dispatch);
          current->check_max_us = MAX (current->check_max_us, dispatch);
          current->check_max_cpu_us = MAX (current->check_max_cpu_us, cpu);
        }
    }
  g_atomic_pointer_set (&dispatch_started, 0);
  ret = g_poll (fds, n_fds, timeout);
  g_atomic_pointer_set (&dispatch_started, (gsize) g_get_monotonic_time ());
  if (current != NULL)
    {
      current->poll_end = g_get_monotonic_time ();
      current->poll_end_cpu = thread_cpu_us ();
      current->harness_us = 0;
    }
  return ret;
}

static void
phase_cb (GdkFrameClock *clock, gpointer phase)
{
  if (current != NULL)
    current->phase_start[GPOINTER_TO_INT (phase)] = g_get_monotonic_time ();
}

static void
render_pending_shot (PhUiHarness *self);

static void
frame_end_cb (GdkFrameClock *clock, gpointer data)
{
  if (current == NULL)
    return;
  current->frame_end = g_get_monotonic_time ();
  if (current->window != NULL && gtk_widget_get_width (GTK_WIDGET (current->window)) > 0)
    current->drawn_laid_out = TRUE;
  if (current->pending_shot != NULL && current->window != NULL)
    render_pending_shot (current);
}

static void
page_switch_cb (GObject *stack, GParamSpec *pspec, gpointer data)
{
  if (current != NULL)
    current->page_switch = g_get_monotonic_time ();
}

/* The window's page stack: the GtkStack with a child named "result". */
static GtkStack *
find_page_stack (GtkWidget *widget)
{
  if (GTK_IS_STACK (widget) && gtk_stack_get_child_by_name (GTK_STACK (widget), "result"))
    return GTK_STACK (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkStack *found = find_page_stack (child);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
watch_frame_clock (PhUiHarness *self)
{
  static const char *const phases[]
      = { "before-paint", "update", "layout", "paint", "after-paint" };
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self->window));

  GtkStack *stack;

  if (clock == NULL || clock == self->frame_clock)
    return;
  self->frame_clock = clock;
  if ((stack = find_page_stack (GTK_WIDGET (self->window))) != NULL)
    g_signal_connect (stack, "notify::visible-child", G_CALLBACK (page_switch_cb), NULL);
  for (guint i = 0; i < G_N_ELEMENTS (phases); i++)
    g_signal_connect (clock, phases[i], G_CALLBACK (phase_cb), GINT_TO_POINTER (i));
  /* after the paint's own handlers (GTK draws in "paint") */
  g_signal_connect_after (clock, "after-paint", G_CALLBACK (frame_end_cb), NULL);
}

/* One main-loop iteration, with the harness's time since the last one kept out of the measure. */
static void
iterate (PhUiHarness *self, gboolean may_block)
{
  if (self->left_loop_at != 0)
    self->harness_us += g_get_monotonic_time () - self->left_loop_at;
  if (self->window != NULL && self->frame_clock == NULL)
    watch_frame_clock (self);
  g_main_context_iteration (NULL, may_block);
  self->left_loop_at = g_get_monotonic_time ();
}

static gboolean
wake_up (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
ph_ui_harness_wait_until (PhUiHarness *self, gboolean (*func) (gpointer data), gpointer data,
                          guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  /* blocking iterations wake at least this often to look at the condition and the clock */
  guint tick = g_timeout_add (20, wake_up, NULL);
  gboolean done;

  while (!(done = func (data)) && g_get_monotonic_time () < end)
    iterate (self, TRUE);
  g_source_remove (tick);
  return done;
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

void
ph_ui_harness_spin (PhUiHarness *self, guint ms)
{
  ph_ui_harness_wait_until (self, never, NULL, ms);
}

char *
ph_ui_harness_dup_recorded_dir (const char *road)
{
  const char *base = g_getenv ("PORTHOLE_UI_RECORDED");
  g_autofree char *dir = NULL;
  g_autofree char *first = NULL;

  if (base == NULL)
    return NULL;
  dir = g_build_filename (base, road, NULL);
  first = g_build_filename (dir, "check-1.json", NULL);
  return g_file_test (first, G_FILE_TEST_EXISTS) ? g_steal_pointer (&dir) : NULL;
}

/* ---- the private system bus ---- */

/* Where nothing listens: without dbus-daemon, libnm finds no bus rather than the machine's. */
#define PH_UI_NO_SYSTEM_BUS "unix:path=/nonexistent/porthole-ui-test-system-bus"

/* Like GTestDBus's, but it leaves the session bus alone (the window's application is on the
 * session bus of run-ui.sh) and is a system bus only by name. */
#define PH_UI_SYSTEM_BUS_CONFIG                                                                    \
  "<busconfig>\n"                                                                                  \
  "  <type>system</type>\n"                                                                        \
  "  <listen>unix:tmpdir=%s</listen>\n"                                                            \
  "  <auth>EXTERNAL</auth>\n"                                                                      \
  "  <policy context=\"default\">\n"                                                               \
  "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"                                       \
  "    <allow eavesdrop=\"true\"/>\n"                                                              \
  "    <allow own=\"*\"/>\n"                                                                       \
  "  </policy>\n"                                                                                  \
  "</busconfig>\n"

static GSubprocess *system_bus;
static char *system_bus_dir;
static char *system_bus_address;

/* The daemon ends with the test, even when an assertion aborts it. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

void
ph_ui_harness_system_bus_up (void)
{
  g_autofree char *dbus_daemon = g_find_program_in_path ("dbus-daemon");
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *config = NULL;
  g_autofree char *config_text = NULL;
  g_autofree char *config_arg = NULL;
  char *line;

  g_assert_null (system_bus);
  /* from here on nothing reaches the machine's system bus, whatever follows */
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", PH_UI_NO_SYSTEM_BUS, TRUE);
  if (dbus_daemon == NULL)
    return;

  /* under run-ui.sh's XDG_RUNTIME_DIR, which it removes even after an abort */
  system_bus_dir = g_build_filename (g_getenv ("XDG_RUNTIME_DIR") ? g_getenv ("XDG_RUNTIME_DIR")
                                                                  : g_get_tmp_dir (),
                                     "porthole-system-bus-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (system_bus_dir));
  config = g_build_filename (system_bus_dir, "system.conf", NULL);
  config_text = g_strdup_printf (PH_UI_SYSTEM_BUS_CONFIG, system_bus_dir);
  g_assert_true (g_file_set_contents (config, config_text, -1, &error));
  g_assert_no_error (error);
  config_arg = g_strdup_printf ("--config-file=%s", config);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  system_bus = g_subprocess_launcher_spawn (launcher, &error, dbus_daemon, config_arg, "--nofork",
                                            "--print-address=1", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (system_bus));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  system_bus_address = g_strstrip (line);
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", system_bus_address, TRUE);
  g_test_message ("the system bus is a private one: %s", system_bus_address);
}

void
ph_ui_harness_system_bus_down (void)
{
  g_autofree char *config = NULL;

  if (system_bus == NULL)
    return;
  g_subprocess_send_signal (system_bus, SIGTERM);
  g_subprocess_wait (system_bus, NULL, NULL);
  g_clear_object (&system_bus);
  config = g_build_filename (system_bus_dir, "system.conf", NULL);
  g_unlink (config);
  g_rmdir (system_bus_dir);
  g_clear_pointer (&system_bus_dir, g_free);
  g_clear_pointer (&system_bus_address, g_free);
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", PH_UI_NO_SYSTEM_BUS, TRUE);
}

const char *
ph_ui_harness_get_system_bus_address (void)
{
  return system_bus_address;
}

static gboolean
first_frame_drawn (gpointer data)
{
  return ((PhUiHarness *) data)->drawn_laid_out;
}

PhUiHarness *
ph_ui_harness_new (const char *road, const char *recorded_dir, const char *const *peers)
{
  static const char *const nobody[] = { PH_UI_NOBODY_PEER, NULL };
  PhUiHarness *self = g_new0 (PhUiHarness, 1);
  g_auto (PhCheckOptions) overrides = { 0 };
  g_autoptr (GError) error = NULL;
  const char *artifacts = g_getenv ("PORTHOLE_ARTIFACTS");
  gint64 end;

  g_assert_null (current);
  current = self;
  /* live runs (netns) keep their screenshots apart from the replayed ones */
  self->road = recorded_dir ? g_strdup (road) : g_strdup_printf ("netns-%s", road);
  self->artifacts = g_strdup (artifacts ? artifacts : ".");
  self->shots = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_assert_cmpint (g_mkdir_with_parents (self->artifacts, 0755), ==, 0);
  g_main_context_set_poll_func (NULL, timed_poll);
  start_profiling ();

  if (recorded_dir != NULL)
    g_setenv ("PORTHOLE_TEST_REPLAY", recorded_dir, TRUE);
  else
    g_unsetenv ("PORTHOLE_TEST_REPLAY");

  /* the command line's --peer: never the default servers */
  overrides.peers = g_strdupv ((char **) (peers ? peers : nobody));
  /* replayed: nothing is asked of a router; live (netns): the router is asked */
  overrides.no_upnp = recorded_dir != NULL;
  overrides.timeout_s = 20;
  if (g_getenv ("PORTHOLE_UI_PORT") != NULL)
    overrides.port = (guint) g_ascii_strtoull (g_getenv ("PORTHOLE_UI_PORT"), NULL, 10);
  self->app = ph_application_new (&overrides);
  g_application_register (G_APPLICATION (self->app), NULL, &error);
  g_assert_no_error (error);
  g_assert_false (g_application_get_is_remote (G_APPLICATION (self->app)));
  g_application_activate (G_APPLICATION (self->app));

  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while ((self->window = gtk_application_get_active_window (GTK_APPLICATION (self->app))) == NULL
         && g_get_monotonic_time () < end)
    iterate (self, FALSE);
  g_assert_nonnull (self->window);
  g_assert_true (PH_IS_WINDOW (self->window));
  g_object_add_weak_pointer (G_OBJECT (self->window), (gpointer *) &self->window);
  /* the window's first frame: its whole layout, once (printed, not part of a check's window) */
  ph_ui_harness_wait_until (self, first_frame_drawn, self, 10000);
  g_test_message ("the window's first frame was drawn; longest dispatch until then: %.1f ms",
                  self->overall_max / 1000.0);
  g_print ("# %s: first frame; longest dispatch until then %.1f ms\n", self->road,
           self->overall_max / 1000.0);
  return self;
}

/* GIO says it once per process */
static gboolean unregister_warned;

void
ph_ui_harness_free (PhUiHarness *self)
{
  GList *windows;

  g_test_message ("%s: %u dispatches; longest %" G_GINT64_FORMAT
                  " µs during checks, %" G_GINT64_FORMAT " µs overall",
                  self->road, self->dispatches, self->all_checks_max, self->overall_max);
  if (self->window != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->window), (gpointer *) &self->window);
  self->window = NULL;
  while ((windows = gtk_application_get_windows (GTK_APPLICATION (self->app))) != NULL)
    gtk_window_destroy (windows->data);
  /* what was on its way ends (cancelled), and frees what it holds */
  ph_ui_harness_spin (self, 200);
  /* the app was registered and activated by hand, never run: shutdown is what g_application_run
   * would emit at its end (GTK drops its reference to the app there). GIO then says, once, that
   * the app did not unregister from D-Bus before destruction (finalize releases the name). */
  if (!unregister_warned)
    g_test_expect_message ("GLib-GIO", G_LOG_LEVEL_WARNING, "*did not unregister from D-Bus*");
  g_signal_emit_by_name (self->app, "shutdown");
  g_object_add_weak_pointer (G_OBJECT (self->app), (gpointer *) &self->app);
  g_object_unref (self->app);
  if (!unregister_warned)
    g_test_assert_expected_messages ();
  unregister_warned = TRUE;
  /* the application and everything it owns are gone (tests/unit/test-app-lifetime.c checks
   * each of them) */
  g_assert_null (self->app);
  g_main_context_set_poll_func (NULL, g_poll);
  g_atomic_pointer_set (&dispatch_started, 0);
  g_hash_table_unref (self->shots);
  g_free (self->artifacts);
  g_free (self->road);
  current = NULL;
  g_free (self);
}

GtkWindow *
ph_ui_harness_get_window (PhUiHarness *self)
{
  return self->window;
}

const char *
ph_ui_harness_get_page (PhUiHarness *self)
{
  if (self->window == NULL)
    return NULL;
  return ph_window_get_page (PH_WINDOW (self->window));
}

/* ---- widgets ---- */

static GtkWidget *
find_in (GtkWidget *widget, const char *name, gboolean mapped_only)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0
      && (!mapped_only || gtk_widget_get_mapped (widget)))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_in (child, name, mapped_only);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWidget *
find_anywhere (PhUiHarness *self, const char *name, gboolean mapped_only)
{
  g_autoptr (GList) toplevels = gtk_window_list_toplevels ();
  GtkWidget *found = self->window ? find_in (GTK_WIDGET (self->window), name, mapped_only) : NULL;

  /* dialogs are windows of their own */
  for (GList *l = toplevels; found == NULL && l != NULL; l = l->next)
    if (l->data != (gpointer) self->window)
      found = find_in (l->data, name, mapped_only);
  return found;
}

GtkWidget *
ph_ui_harness_find (PhUiHarness *self, const char *name)
{
  GtkWidget *found = find_anywhere (self, name, TRUE);

  return found ? found : find_anywhere (self, name, FALSE);
}

typedef struct
{
  PhUiHarness *self;
  const char *name;
  gboolean sensitive;
  GtkWidget *found;
} FindWait;

static gboolean
found_mapped (gpointer data)
{
  FindWait *wait = data;

  wait->found = find_anywhere (wait->self, wait->name, TRUE);
  if (wait->found != NULL && wait->sensitive && !gtk_widget_is_sensitive (wait->found))
    return FALSE;
  return wait->found != NULL;
}

GtkWidget *
ph_ui_harness_require (PhUiHarness *self, const char *name, guint timeout_ms)
{
  FindWait wait = { self, name, FALSE, NULL };

  if (!ph_ui_harness_wait_until (self, found_mapped, &wait, timeout_ms))
    g_error ("no widget “%s” shown within %u ms (page %s)", name, timeout_ms,
             ph_ui_harness_get_page (self));
  return wait.found;
}

void
ph_ui_harness_click (PhUiHarness *self, const char *name)
{
  FindWait wait = { self, name, TRUE, NULL };

  if (!ph_ui_harness_wait_until (self, found_mapped, &wait, ph_ui_harness_page_timeout ()))
    g_error ("no sensitive widget “%s” shown within %u ms (page %s)", name,
             ph_ui_harness_page_timeout (), ph_ui_harness_get_page (self));
  g_test_message ("click %s (%s)", name, G_OBJECT_TYPE_NAME (wait.found));
  /* buttons: "clicked" at once, as a pointer click ends (GtkButton's activate, the keyboard's,
   * waits 250 ms for its pressed look); list rows: "activate" → the list's row-activated, as
   * Enter does */
  if (GTK_IS_BUTTON (wait.found))
    g_signal_emit_by_name (wait.found, "clicked");
  else if (!gtk_widget_activate (wait.found))
    g_error ("“%s” (%s) cannot be activated", name, G_OBJECT_TYPE_NAME (wait.found));
}

static GtkWidget *
find_label_in (GtkWidget *widget, const char *needle)
{
  if (!gtk_widget_get_mapped (widget))
    return NULL;
  if (GTK_IS_LABEL (widget) && strstr (gtk_label_get_text (GTK_LABEL (widget)), needle) != NULL)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_label_in (child, needle);
      if (found != NULL)
        return found;
    }
  return NULL;
}

GtkWidget *
ph_ui_harness_find_label (PhUiHarness *self, const char *needle)
{
  return self->window ? find_label_in (GTK_WIDGET (self->window), needle) : NULL;
}

void
ph_ui_harness_scroll_into_view (PhUiHarness *self, GtkWidget *widget)
{
  GtkWidget *scrolled = gtk_widget_get_ancestor (widget, GTK_TYPE_SCROLLED_WINDOW);
  GtkWidget *content;
  GtkAdjustment *adjustment;
  graphene_rect_t bounds;
  double value, margin = 12;

  if (scrolled == NULL)
    return;
  /* where the widget is in the scrolled content, whatever the scroll is now */
  content = gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (scrolled));
  if (GTK_IS_VIEWPORT (content) && gtk_viewport_get_child (GTK_VIEWPORT (content)) != NULL)
    content = gtk_viewport_get_child (GTK_VIEWPORT (content));
  if (!gtk_widget_compute_bounds (widget, content, &bounds))
    return;
  adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  /* its top near the view's top: all of it shows when it fits (the adjustment clamps the value
   * at the end of the content) */
  value = bounds.origin.y - margin;
  gtk_adjustment_set_value (adjustment, value);
}

char *
ph_ui_harness_dup_text (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget))
    return g_strdup (gtk_label_get_text (GTK_LABEL (widget)));
  if (ADW_IS_STATUS_PAGE (widget))
    return g_strdup (adw_status_page_get_title (ADW_STATUS_PAGE (widget)));
  if (ADW_IS_PREFERENCES_ROW (widget))
    return g_strdup (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)));
  if (GTK_IS_BUTTON (widget) && gtk_button_get_label (GTK_BUTTON (widget)) != NULL)
    return g_strdup (gtk_button_get_label (GTK_BUTTON (widget)));
  if (GTK_IS_EDITABLE (widget))
    return g_strdup (gtk_editable_get_text (GTK_EDITABLE (widget)));
  return NULL;
}

/* Every label a person can see below widget (status pages, rows and buttons draw theirs with
 * labels too). */
static void
collect_labels (GtkWidget *widget, GPtrArray *texts)
{
  if (!gtk_widget_get_mapped (widget))
    return;
  if (GTK_IS_LABEL (widget) || GTK_IS_EDITABLE (widget))
    {
      g_autofree char *text = ph_ui_harness_dup_text (widget);
      g_autofree char *stripped = g_strstrip (g_strdup (text ? text : ""));

      if (stripped[0] != '\0')
        g_ptr_array_add (texts, g_steal_pointer (&stripped));
      if (GTK_IS_LABEL (widget))
        return;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_labels (child, texts);
}

char *
ph_ui_harness_dup_all_text (GtkWidget *widget)
{
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *own = ph_ui_harness_dup_text (widget);

  if (own != NULL && !GTK_IS_LABEL (widget))
    g_ptr_array_add (texts, g_steal_pointer (&own));
  collect_labels (widget, texts);
  g_ptr_array_add (texts, NULL);
  return g_strjoinv ("\n", (char **) texts->pdata);
}

GPtrArray *
ph_ui_harness_collect_visible_texts (PhUiHarness *self)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *unique = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  collect_labels (GTK_WIDGET (self->window), all);
  for (guint i = 0; i < all->len; i++)
    if (g_hash_table_add (seen, g_ptr_array_index (all, i)))
      g_ptr_array_add (unique, g_strdup (g_ptr_array_index (all, i)));
  return unique;
}

char *
ph_ui_harness_dup_visible_text (PhUiHarness *self)
{
  g_autoptr (GPtrArray) texts = ph_ui_harness_collect_visible_texts (self);

  g_ptr_array_add (texts, NULL);
  return g_strjoinv ("\n", (char **) texts->pdata);
}

void
ph_ui_harness_assert_text_contains (PhUiHarness *self, const char *name, const char *needle)
{
  GtkWidget *widget = ph_ui_harness_require (self, name, ph_ui_harness_page_timeout ());
  g_autofree char *text = ph_ui_harness_dup_all_text (widget);

  g_test_message ("%s: %s", name, text);
  if (strstr (text, needle) == NULL)
    g_error ("“%s” says “%s”, not “%s”", name, text, needle);
}

/* ---- pages and screenshots ---- */

typedef struct
{
  PhUiHarness *self;
  const char *page;
} PageWait;

static gboolean
page_shown (gpointer data)
{
  PageWait *wait = data;

  return g_strcmp0 (ph_ui_harness_get_page (wait->self), wait->page) == 0;
}

static gboolean
settled (gpointer data)
{
  PhUiHarness *self = data;
  GtkStack *stack = find_page_stack (GTK_WIDGET (self->window));

  return stack == NULL || !gtk_stack_get_transition_running (stack);
}

static gboolean
drawn_since (gpointer data)
{
  PhUiHarness *self = data;

  return self->frame_end > self->settle_start;
}

void
ph_ui_harness_settle (PhUiHarness *self)
{
  /* the page's transition over (frames are slow on a loaded machine), then one frame drawn
   * after it */
  ph_ui_harness_wait_until (self, settled, self, 5000);
  self->settle_start = g_get_monotonic_time ();
  gtk_widget_queue_draw (GTK_WIDGET (self->window));
  ph_ui_harness_wait_until (self, drawn_since, self, 2000);
  /* a toast's or a spinner's next frame is not waited for */
  ph_ui_harness_spin (self, 100);
}

guint
ph_ui_harness_page_timeout (void)
{
  /* a live check takes up to its own 20 s deadline, and more on a loaded machine */
  return g_getenv ("PORTHOLE_TEST_REPLAY") != NULL ? PH_UI_PAGE_TIMEOUT_MS : 60000;
}

void
ph_ui_harness_wait_page (PhUiHarness *self, const char *page, guint timeout_ms)
{
  PageWait wait = { self, page };
  guint shown;
  g_autofree char *what = NULL;

  if (!ph_ui_harness_wait_until (self, page_shown, &wait, timeout_ms))
    g_error ("page “%s” not shown within %u ms: still on “%s”", page, timeout_ms,
             ph_ui_harness_get_page (self));
  ph_ui_harness_settle (self);
  shown = GPOINTER_TO_UINT (g_hash_table_lookup (self->shots, page)) + 1;
  g_hash_table_insert (self->shots, g_strdup (page), GUINT_TO_POINTER (shown));
  what = shown == 1 ? g_strdup (page) : g_strdup_printf ("%s-%u", page, shown);
  g_free (ph_ui_harness_screenshot (self, what));
}

/* What the window draws: the theme's window background, then its class's snapshot (each
 * child's render node, made afresh where a child has none), as GTK does for a frame. A
 * toplevel's GtkWidgetPaintable shows nothing: a root's render node goes to its surface. */
static GskRenderNode *
window_node (GtkWidget *window, int width, int height)
{
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  GdkRGBA background = { 1, 1, 1, 1 };

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_lookup_color (gtk_widget_get_style_context (window), "window_bg_color",
                                  &background);
  G_GNUC_END_IGNORE_DEPRECATIONS
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  gtk_snapshot_append_color (snapshot, &background, &GRAPHENE_RECT_INIT (0, 0, width, height));
  GTK_WIDGET_GET_CLASS (window)->snapshot (window, snapshot);
  gtk_snapshot_pop (snapshot);
  return gtk_snapshot_free_to_node (snapshot);
}

/* What the X server shows of the window, as a person would see it (ImageMagick's import). */
static gboolean
grab_from_x (GtkWidget *window, const char *path)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (window));
  g_autofree char *import = g_find_program_in_path ("import");
  g_autofree char *xid = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (import == NULL || !GDK_IS_X11_SURFACE (surface))
    return FALSE;
  xid = g_strdup_printf ("0x%lx", (unsigned long) gdk_x11_surface_get_xid (surface));
  {
    const char *argv[] = { import, "-silent", "-window", xid, path, NULL };
    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                       NULL, &status, &error)
        || !g_spawn_check_wait_status (status, &error))
      {
        g_test_message ("import: %s", error->message);
        return FALSE;
      }
  }
  return TRUE;
}

/* Renders the window the way GTK draws a frame, into a PNG: from the frame clock's after-paint,
 * when every widget has its allocation. Its time is the harness's, not a dispatch's. */
static void
render_pending_shot (PhUiHarness *self)
{
  GtkWidget *widget = GTK_WIDGET (self->window);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  gint64 start = g_get_monotonic_time ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;

  if (width <= 0 || height <= 0)
    return;
  node = window_node (widget, width, height);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_true (gdk_texture_save_to_png (texture, self->pending_shot));
  g_clear_pointer (&self->pending_shot, g_free);
  self->harness_us += g_get_monotonic_time () - start;
}

static gboolean
shot_rendered (gpointer data)
{
  return ((PhUiHarness *) data)->pending_shot == NULL;
}

char *
ph_ui_harness_screenshot (PhUiHarness *self, const char *what)
{
  GtkWidget *widget = GTK_WIDGET (self->window);
  g_autofree char *name = g_strdup_printf ("%s-%s.png", self->road, what);
  g_autofree char *rendered_name = g_strdup_printf ("%s-%s-rendered.png", self->road, what);
  char *path = g_build_filename (self->artifacts, name, NULL);
  g_autofree char *rendered = g_build_filename (self->artifacts, rendered_name, NULL);

  g_assert_nonnull (widget);
  self->pending_shot = g_strdup (rendered);
  gtk_widget_queue_draw (widget);
  if (!ph_ui_harness_wait_until (self, shot_rendered, self, 3000))
    {
      g_test_message ("no frame drawn within 3 s: %s not rendered", rendered);
      g_clear_pointer (&self->pending_shot, g_free);
    }
  /* what the X server shows, as a person sees it; the rendering where import is missing */
  if (!grab_from_x (widget, path) && g_rename (rendered, path) != 0)
    g_error ("no screenshot %s", path);
  g_test_message ("screenshot %s", path);
  return path;
}

/* ---- dispatch timing ---- */

static gint64
max_dispatch_us (void)
{
  const char *env = g_getenv ("PORTHOLE_UI_MAX_DISPATCH_MS");

  return env ? g_ascii_strtoll (env, NULL, 10) * 1000 : PH_UI_MAX_DISPATCH_US;
}

void
ph_ui_harness_begin_check (PhUiHarness *self)
{
  self->in_check = TRUE;
  self->check_max_us = 0;
  self->check_max_cpu_us = 0;
}

/* What is asserted is each dispatch's wall time: a main loop that waits (on the network, a disk,
 * a lock) is caught as surely as one that computes. PORTHOLE_UI_DISPATCH_CLOCK=cpu is for a
 * machine with one core, where the live roads' AutoNAT servers and router must share it with the
 * window and a dispatch's wall time is mostly time waiting for the CPU: the main thread's own CPU
 * time per dispatch is asserted then, and the wall time printed beside it. */
static gboolean
dispatch_clock_is_cpu (void)
{
  return g_strcmp0 (g_getenv ("PORTHOLE_UI_DISPATCH_CLOCK"), "cpu") == 0;
}

gint64
ph_ui_harness_end_check (PhUiHarness *self)
{
  g_assert_true (self->in_check);
  self->in_check = FALSE;
  self->all_checks_max = MAX (self->all_checks_max, self->check_max_us);
  g_test_message ("longest dispatch while the check ran: %.1f ms", self->check_max_us / 1000.0);
  g_print ("# %s: longest dispatch while the check ran: %.1f ms\n", self->road,
           self->check_max_us / 1000.0);
  /* a failure, but the road goes on: what the later pages do is worth knowing too.
   * PORTHOLE_UI_MAX_DISPATCH_MS sets a looser limit. */
  g_print ("# %s: most main-thread CPU time in one dispatch while the check ran: %.1f ms\n",
           self->road, self->check_max_cpu_us / 1000.0);
  if (dispatch_clock_is_cpu ())
    {
      if (self->check_max_cpu_us > max_dispatch_us ())
        g_test_fail_printf ("%s: a main-loop dispatch used %.1f ms of CPU while the check ran (at "
                            "most %.0f ms)",
                            self->road, self->check_max_cpu_us / 1000.0,
                            max_dispatch_us () / 1000.0);
    }
  else if (self->check_max_us > max_dispatch_us ())
    g_test_fail_printf (
        "%s: a main-loop dispatch took %.1f ms while the check ran (at most %.0f ms)", self->road,
        self->check_max_us / 1000.0, max_dispatch_us () / 1000.0);
  return self->check_max_us;
}

gint64
ph_ui_harness_get_max_check_dispatch (PhUiHarness *self)
{
  return self->all_checks_max;
}

/* ---- the clipboard ---- */

typedef struct
{
  gboolean done;
  char *text;
} ClipboardRead;

static void
clipboard_read (GObject *source, GAsyncResult *result, gpointer data)
{
  ClipboardRead *read = data;
  g_autoptr (GError) error = NULL;

  read->text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, &error);
  g_assert_no_error (error);
  read->done = TRUE;
}

static gboolean
clipboard_done (gpointer data)
{
  return ((ClipboardRead *) data)->done;
}

char *
ph_ui_harness_dup_clipboard (PhUiHarness *self)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self->window));
  GdkContentProvider *content = gdk_clipboard_get_content (clipboard);
  ClipboardRead read = { FALSE, NULL };

  /* what this process put there: on Xvfb, with no clipboard manager, X11 may not hand the
   * selection back to its owner in every format */
  if (content != NULL)
    {
      g_auto (GValue) value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_STRING);
      if (gdk_content_provider_get_value (content, &value, NULL))
        return g_value_dup_string (&value);
    }

  gdk_clipboard_read_text_async (clipboard, NULL, clipboard_read, &read);
  g_assert_true (ph_ui_harness_wait_until (self, clipboard_done, &read, 5000));
  return read.text;
}
