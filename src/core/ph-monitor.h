/* ph-monitor.h: the background watch — checks again when the network changes, on a timer, and on
 * request
 *
 * When started, the monitor runs a check soon (after the debounce), then every interval; when a
 * check finds no network (or fails) it retries sooner, PH_MONITOR_BACKOFF_FIRST_S doubling up to
 * the interval. NetworkManager's changes (PhNetworkWatch) bring a check after the debounce: a
 * burst of changes is one check, and there is never more than one network-triggered check per
 * debounce window. Only one check runs at a time; stop and dispose cancel it.
 *
 * Everything runs on the thread-default main context of the thread that created the monitor.
 *
 * Properties: "state" (PhReachability: CHECKING while a check runs, else the last settled state),
 * "diagnosis" (PhDiagnosis, the last one, nullable).
 * Signals:
 *   "check-started"        ()                                       our own check began
 *   "check-finished"       (PhDiagnosis *nullable, GError *nullable) our own check ended
 *                          (not emitted for cancelled checks nor for ph_monitor_record ())
 *   "reachability-changed" (PhReachability old, PhReachability new)  between settled states only
 *                          (never CHECKING); the first result after start has old UNKNOWN
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "ph-check.h"
#include "ph-diagnosis.h"
#include "ph-history.h"
#include "ph-reachability.h"

G_BEGIN_DECLS

#define PH_MONITOR_DEFAULT_INTERVAL_S (30 * 60)
#define PH_MONITOR_DEFAULT_DEBOUNCE_MS 5000
#define PH_MONITOR_BACKOFF_FIRST_S 60

#define PH_TYPE_MONITOR (ph_monitor_get_type ())
G_DECLARE_FINAL_TYPE (PhMonitor, ph_monitor, PH, MONITOR, GObject)

/* Fills options for the next check (port, peers, …: from GSettings); called before every check. */
typedef void (*PhMonitorOptionsFunc) (PhCheckOptions *options, gpointer user_data);

/* get_options may be NULL (default options); history (nullable) gets every finished check. */
PhMonitor *
ph_monitor_new (PhMonitorOptionsFunc get_options, gpointer user_data, PhHistory *history);
/* Network watch + timer; the first check after the debounce. Starting twice is harmless. */
void
ph_monitor_start (PhMonitor *self);
/* Stops the watch and the timers and cancels a running check; the state stays what it was. */
void
ph_monitor_stop (PhMonitor *self);
gboolean
ph_monitor_get_running (PhMonitor *self);
/* Checks now, also when not started; ignored while a check runs. */
void
ph_monitor_check_now (PhMonitor *self);
/* seconds between checks (0: the default); the GSettings minutes ×60 done by the caller. A
 * pending timer is shortened when the new interval ends sooner. */
void
ph_monitor_set_interval (PhMonitor *self, guint seconds);
void
ph_monitor_set_debounce (PhMonitor *self, guint ms);
/* A check made elsewhere (the window): taken as the latest result, kept in the history, and the
 * next scheduled check is an interval from now. No "check-finished". */
void
ph_monitor_record (PhMonitor *self, PhDiagnosis *diagnosis);

PhReachability
ph_monitor_get_state (PhMonitor *self);
PhDiagnosis *
ph_monitor_get_diagnosis (PhMonitor *self);
GDateTime *
ph_monitor_get_last_check (PhMonitor *self);
/* TRUE once the network watch has heard from NetworkManager (or found it absent). */
gboolean
ph_monitor_get_network_ready (PhMonitor *self);

/* ---- tests ---- */

/* Replaces ph_check_run_async/_finish. */
typedef void (*PhMonitorCheckFunc) (const PhCheckOptions *o, GCancellable *c,
                                    GAsyncReadyCallback cb, gpointer d);
void
ph_monitor_set_check_func_for_tests (PhMonitor *self, PhMonitorCheckFunc run,
                                     PhDiagnosis *(*finish) (GAsyncResult *, GError **) );
/* The same in milliseconds, so tests need not wait minutes. */
void
ph_monitor_set_interval_ms (PhMonitor *self, guint ms);
void
ph_monitor_set_backoff_first_ms (PhMonitor *self, guint ms);
/* The delay the pending timer was set with, 0 when none is pending. */
guint
ph_monitor_get_next_delay_ms (PhMonitor *self);

G_END_DECLS
