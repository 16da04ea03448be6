/* ph-bench-handshake.c: the load generator of bench/handshake.sh
 *
 *   ph-bench-handshake --target MA [--workers N] [--duration S] [--warmup S]
 *                      [--timeout-ms T] [--watch-pid PID]
 *
 * N worker threads, each in a loop: ph_connection_dial() (TCP, multistream, Noise, yamux), one
 * identify request, close. A handshake counts when identify returned; anything else is a failure.
 * After the warm-up, completions and failures are counted for the duration. --watch-pid samples
 * the CPU time (user + system, all threads) of that process over the same window, from
 * /proc/PID/stat, so the listener's cost per handshake can be told apart from a limit in the
 * generator itself.
 *
 * The last line of stdout is machine-readable: RESULT key=value ...
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "p2p/ph-connection.h"

#define MAX_ERROR_KINDS 8

typedef struct
{
  GThread *thread;
  PhPrivateKey *identity;
  GArray *latencies_us; /* guint32, completions inside the window */
  guint completions;
  guint failures;
} Worker;

static PhMultiaddr *target;
static guint timeout_ms = 10000;
static gint64 window_start; /* monotonic µs */
static gint64 window_end;
static gint stop;

static GMutex errors_lock;
static GHashTable *errors; /* message -> count (GUINT_TO_POINTER) */

static void
note_error (const GError *error)
{
  g_mutex_lock (&errors_lock);
  if (g_hash_table_size (errors) < MAX_ERROR_KINDS
      || g_hash_table_contains (errors, error->message))
    {
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (errors, error->message));
      g_hash_table_insert (errors, g_strdup (error->message), GUINT_TO_POINTER (count + 1));
    }
  g_mutex_unlock (&errors_lock);
}

static gboolean
one_handshake (Worker *worker, GError **error)
{
  g_autoptr (PhConnection) connection = NULL;
  g_autoptr (PhIdentifyInfo) info = NULL;
  gint64 deadline = ph_deadline_in (timeout_ms);

  connection = ph_connection_dial (target, worker->identity, NULL, NULL, deadline, NULL, error);
  if (connection == NULL)
    return FALSE;
  info = ph_connection_identify (connection, deadline, NULL, error);
  ph_connection_close (connection);
  return info != NULL;
}

static gpointer
worker_thread (gpointer data)
{
  Worker *worker = data;

  while (!g_atomic_int_get (&stop))
    {
      g_autoptr (GError) error = NULL;
      gint64 started = g_get_monotonic_time ();
      gboolean ok = one_handshake (worker, &error);
      gint64 ended = g_get_monotonic_time ();

      if (ended < window_start || ended >= window_end)
        continue;
      if (ok)
        {
          guint32 us = (guint32) MIN (ended - started, (gint64) G_MAXUINT32);

          worker->completions++;
          g_array_append_val (worker->latencies_us, us);
        }
      else
        {
          worker->failures++;
          note_error (error);
          /* A refused or reset dial returns at once: do not spin on a listener that is gone. */
          g_usleep (1000);
        }
    }
  return NULL;
}

/* utime + stime of a process, all its threads, in seconds; < 0 when unreadable. */
static double
process_cpu_seconds (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  unsigned long long utime, stime;
  const char *p;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  /* Field 2 is "(comm)" and may hold spaces: parse from its closing parenthesis; utime and stime
   * are fields 14 and 15 (proc(5)). */
  p = strrchr (text, ')');
  if (p == NULL
      || sscanf (p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime)
             != 2)
    return -1;
  return (double) (utime + stime) / (double) sysconf (_SC_CLK_TCK);
}

/* Busy CPU time of the whole machine, in seconds summed over cores (proc(5), /proc/stat). */
static double
machine_busy_seconds (void)
{
  g_autofree char *text = NULL;
  unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;

  if (!g_file_get_contents ("/proc/stat", &text, NULL, NULL)
      || sscanf (text, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle,
                 &iowait, &irq, &softirq, &steal)
             != 8)
    return -1;
  return (double) (user + nice + system + irq + softirq + steal) / (double) sysconf (_SC_CLK_TCK);
}

static double
self_cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
compare_u32 (const void *a, const void *b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

static double
percentile_ms (GArray *sorted, double q)
{
  guint index;

  if (sorted->len == 0)
    return 0;
  index = (guint) MIN ((double) (sorted->len - 1), q * (double) sorted->len);
  return g_array_index (sorted, guint32, index) / 1000.0;
}

static void
sleep_until (gint64 when)
{
  gint64 now;

  while ((now = g_get_monotonic_time ()) < when)
    g_usleep ((gulong) MIN (when - now, G_USEC_PER_SEC / 10));
}

int
main (int argc, char **argv)
{
  g_autofree char *target_text = NULL;
  gint workers_n = 8, watch_pid = 0;
  gdouble duration_s = 10, warmup_s = 2;
  gint timeout = (gint) timeout_ms;
  GOptionEntry entries[] = {
    { "target", 0, 0, G_OPTION_ARG_STRING, &target_text, "Listener address, with /p2p", "MA" },
    { "workers", 0, 0, G_OPTION_ARG_INT, &workers_n, "Concurrent worker threads (8)", "N" },
    { "duration", 0, 0, G_OPTION_ARG_DOUBLE, &duration_s, "Measured seconds (10)", "S" },
    { "warmup", 0, 0, G_OPTION_ARG_DOUBLE, &warmup_s, "Seconds before counting (2)", "S" },
    { "timeout-ms", 0, 0, G_OPTION_ARG_INT, &timeout, "Deadline of one handshake (10000)", "T" },
    { "watch-pid", 0, 0, G_OPTION_ARG_INT, &watch_pid, "Sample this process's CPU time", "PID" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- inbound handshake load");
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autofree Worker *workers = NULL;
  guint completions = 0, failures = 0;
  double gen_cpu0, gen_cpu1, target_cpu0 = -1, target_cpu1 = -1, seconds;
  double machine0, machine1, gen_cpu, target_cpu, machine_cpu, rate;
  gint64 t0;
  GHashTableIter iter;
  gpointer key, value;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("ph-bench-handshake: %s\n", error->message);
      return 2;
    }
  if (target_text == NULL || workers_n <= 0 || workers_n > 1024 || duration_s <= 0 || warmup_s < 0
      || timeout <= 0)
    {
      g_printerr ("ph-bench-handshake: need --target, 1..1024 workers, a positive duration\n");
      return 2;
    }
  timeout_ms = (guint) timeout;
  target = ph_multiaddr_new_from_string (target_text, &error);
  if (target == NULL)
    {
      g_printerr ("ph-bench-handshake: %s\n", error->message);
      return 2;
    }
  errors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  /* One identity per worker, made before the clock starts: key generation is the dialer's cost,
   * not the listener's, and a js listener sees distinct peers as it would in the wild. */
  workers = g_new0 (Worker, workers_n);
  for (gint i = 0; i < workers_n; i++)
    {
      workers[i].identity = ph_private_key_generate_ed25519 (&error);
      if (workers[i].identity == NULL)
        {
          g_printerr ("ph-bench-handshake: %s\n", error->message);
          return 1;
        }
      workers[i].latencies_us = g_array_new (FALSE, FALSE, sizeof (guint32));
    }

  t0 = g_get_monotonic_time ();
  window_start = t0 + (gint64) (warmup_s * G_USEC_PER_SEC);
  window_end = window_start + (gint64) (duration_s * G_USEC_PER_SEC);
  for (gint i = 0; i < workers_n; i++)
    workers[i].thread = g_thread_new ("bench-worker", worker_thread, &workers[i]);

  sleep_until (window_start);
  gen_cpu0 = self_cpu_seconds ();
  machine0 = machine_busy_seconds ();
  if (watch_pid > 0)
    target_cpu0 = process_cpu_seconds (watch_pid);
  sleep_until (window_end);
  gen_cpu1 = self_cpu_seconds ();
  machine1 = machine_busy_seconds ();
  if (watch_pid > 0)
    target_cpu1 = process_cpu_seconds (watch_pid);
  g_atomic_int_set (&stop, 1);

  for (gint i = 0; i < workers_n; i++)
    {
      g_thread_join (workers[i].thread);
      completions += workers[i].completions;
      failures += workers[i].failures;
      g_array_append_vals (all, workers[i].latencies_us->data, workers[i].latencies_us->len);
      g_array_unref (workers[i].latencies_us);
      ph_private_key_unref (workers[i].identity);
    }
  g_array_sort (all, compare_u32);

  seconds = (double) (window_end - window_start) / G_USEC_PER_SEC;
  rate = completions / seconds;
  gen_cpu = (gen_cpu1 - gen_cpu0) / seconds;
  target_cpu = target_cpu0 >= 0 && target_cpu1 >= 0 ? (target_cpu1 - target_cpu0) / seconds : -1;
  machine_cpu = machine0 >= 0 && machine1 >= 0 ? (machine1 - machine0) / seconds : -1;

  printf ("handshakes: %u in %.1f s = %.1f/s, failures %u\n", completions, seconds, rate, failures);
  printf ("latency: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms\n", percentile_ms (all, 0.5),
          percentile_ms (all, 0.9), percentile_ms (all, 0.99));
  printf ("cpu: generator %.0f%% of a core", gen_cpu * 100);
  if (target_cpu >= 0)
    printf (", target %.0f%% of a core (%.1f handshakes per CPU-second)", target_cpu * 100,
            target_cpu > 0 ? rate / target_cpu : 0);
  printf ("\n");
  if (machine_cpu >= 0)
    printf ("machine: %.0f%% of one core busy in all (%ld cores); everything else: %.0f%%\n",
            machine_cpu * 100, sysconf (_SC_NPROCESSORS_ONLN),
            MAX (0, machine_cpu - gen_cpu - MAX (target_cpu, 0)) * 100);
  g_hash_table_iter_init (&iter, errors);
  while (g_hash_table_iter_next (&iter, &key, &value))
    printf ("failure x%u: %s\n", GPOINTER_TO_UINT (value), (const char *) key);
  printf ("RESULT completions=%u failures=%u seconds=%.3f rate=%.2f p50_ms=%.3f p99_ms=%.3f "
          "gen_cpu=%.3f target_cpu=%.3f other_cpu=%.3f\n",
          completions, failures, seconds, rate, percentile_ms (all, 0.5), percentile_ms (all, 0.99),
          gen_cpu, target_cpu,
          machine_cpu >= 0 ? MAX (0, machine_cpu - gen_cpu - MAX (target_cpu, 0)) : -1);

  g_hash_table_unref (errors);
  ph_multiaddr_unref (target);
  return 0;
}
