/* ph-monitor.c: the background watch
 *
 * Three things start a check: the timer (the interval, or the backoff while offline), the network
 * watch (after the debounce) and check_now. One check at a time: whatever asks while one runs is
 * folded into it, except a network change, which may have made the running check's facts stale
 * and brings one more check a debounce after it ends. The timer is re-armed when a check ends,
 * so any check (also the window's, through ph_monitor_record) pushes the next one an interval
 * away.
 *
 * The check's callback holds only a weak reference and the GCancellable it was started with: a
 * monitor stopped or dropped mid-check cancels it and never hears of it again.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include "net/ph-network-watch.h"
#include "ph-monitor.h"

/* The watch's own quiet period, a fraction of ours: it folds NetworkManager's bursts, we rate
 * limit what is left. */
#define WATCH_DEBOUNCE_DIVISOR 4
#define WATCH_DEBOUNCE_MAX_MS 1000

struct _PhMonitor
{
  GObject parent_instance;

  PhMonitorOptionsFunc get_options;
  gpointer options_data;
  PhHistory *history;
  PhMonitorCheckFunc run;
  PhDiagnosis *(*finish) (GAsyncResult *, GError **);

  GMainContext *context;
  PhNetworkWatch *watch;
  GCancellable *cancellable; /* non-NULL while our check runs */
  GSource *timer;            /* the next scheduled check */
  guint timer_ms;
  GSource *debounce; /* a check asked for by the network */
  gboolean network_pending;

  guint interval_ms;
  guint debounce_ms;
  guint backoff_first_ms;
  guint backoff_ms; /* 0 while online */
  gboolean started;

  PhReachability state;
  PhReachability settled;
  PhDiagnosis *diagnosis;
  GDateTime *last_check;
};

G_DEFINE_FINAL_TYPE (PhMonitor, ph_monitor, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_STATE,
  PROP_DIAGNOSIS,
  N_PROPS
};

enum
{
  SIGNAL_CHECK_STARTED,
  SIGNAL_CHECK_FINISHED,
  SIGNAL_REACHABILITY_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
monitor_run_check (PhMonitor *self);

/* ---- timers ---- */

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static GSource *
monitor_add_timeout (PhMonitor *self, guint ms, GSourceFunc func, const char *name)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, self, NULL);
  g_source_set_static_name (source, name);
  g_source_attach (source, self->context);
  return source;
}

static gboolean
timer_fired (gpointer user_data)
{
  PhMonitor *self = user_data;

  g_clear_pointer (&self->timer, g_source_unref);
  self->timer_ms = 0;
  monitor_run_check (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_check (PhMonitor *self, guint ms)
{
  clear_source (&self->timer);
  self->timer = monitor_add_timeout (self, ms, timer_fired, "[porthole] monitor timer");
  self->timer_ms = ms;
}

static gboolean
debounce_fired (gpointer user_data)
{
  PhMonitor *self = user_data;

  g_clear_pointer (&self->debounce, g_source_unref);
  if (self->cancellable != NULL)
    self->network_pending = TRUE;
  else
    monitor_run_check (self);
  return G_SOURCE_REMOVE;
}

/* The window opens at the first change: more changes inside it ride on the same check. */
static void
schedule_network_check (PhMonitor *self)
{
  if (self->debounce != NULL)
    return;
  self->debounce = monitor_add_timeout (self, self->debounce_ms, debounce_fired,
                                        "[porthole] monitor debounce");
}

static void
network_changed (PhMonitor *self)
{
  g_debug ("monitor: the network changed");
  if (self->started)
    schedule_network_check (self);
}

static void
network_ready (PhMonitor *self)
{
  g_debug ("monitor: network watch ready");
}

/* ---- state ---- */

static void
monitor_set_state (PhMonitor *self, PhReachability state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
monitor_settle (PhMonitor *self, PhReachability settled)
{
  PhReachability old = self->settled;

  self->settled = settled;
  if (self->cancellable == NULL)
    monitor_set_state (self, settled);
  if (old != settled)
    g_signal_emit (self, signals[SIGNAL_REACHABILITY_CHANGED], 0, old, settled);
}

static void
monitor_take_diagnosis (PhMonitor *self, PhDiagnosis *diagnosis)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();

  g_set_object (&self->diagnosis, diagnosis);
  g_clear_pointer (&self->last_check, g_date_time_unref);
  self->last_check = g_steal_pointer (&now);
  if (self->history != NULL)
    ph_history_add (self->history, diagnosis, self->last_check);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIAGNOSIS]);
}

static gboolean
reason_is (PhDiagnosis *diagnosis, PhFamily family, const char *reason)
{
  return g_strcmp0 (ph_diagnosis_get_family_reason (diagnosis, family), reason) == 0;
}

/* No network: NetworkManager has no connection, the host has no default route, or not one
 * server could be reached. Anything that told reachable or unreachable was online. */
static gboolean
is_offline (PhDiagnosis *diagnosis, const GError *error)
{
  const PhNmFacts *nm;
  const PhLanFacts *lan;

  if (error != NULL)
    return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE)
           || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE)
           || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED)
           || g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE);
  if (diagnosis == NULL || ph_reachability_from_diagnosis (diagnosis) != PH_REACHABILITY_UNKNOWN)
    return FALSE;
  nm = ph_diagnosis_get_nm (diagnosis);
  if (nm != NULL && nm->running && nm->device == NULL)
    return TRUE;
  lan = ph_diagnosis_get_lan (diagnosis);
  if (lan != NULL && ph_lan_facts_default_route (lan, AF_INET) == NULL
      && ph_lan_facts_default_route (lan, AF_INET6) == NULL)
    return TRUE;
  return reason_is (diagnosis, PH_FAMILY_IPV4, "no-servers")
         && (reason_is (diagnosis, PH_FAMILY_IPV6, "no-servers")
             || reason_is (diagnosis, PH_FAMILY_IPV6, "ipv6-unavailable"));
}

/* After a check (ours or the window's): the interval, or the next step of the backoff. */
static void
schedule_after_check (PhMonitor *self, gboolean retry_soon)
{
  if (retry_soon)
    self->backoff_ms = self->backoff_ms == 0
                           ? self->backoff_first_ms
                           : (guint) MIN ((guint64) self->backoff_ms * 2, (guint64) G_MAXUINT);
  else
    self->backoff_ms = 0;
  self->backoff_ms = MIN (self->backoff_ms, self->interval_ms);
  if (!self->started)
    return;
  schedule_check (self, retry_soon ? self->backoff_ms : self->interval_ms);
  if (self->network_pending)
    {
      self->network_pending = FALSE;
      schedule_network_check (self);
    }
}

/* ---- the check ---- */

typedef struct
{
  GWeakRef monitor;
  GCancellable *cancellable;
  PhDiagnosis *(*finish) (GAsyncResult *, GError **);
} CheckCall;

static void
check_call_free (CheckCall *call)
{
  g_weak_ref_clear (&call->monitor);
  g_clear_object (&call->cancellable);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CheckCall, check_call_free)

static void
check_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CheckCall) call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PhDiagnosis) diagnosis = call->finish (result, &error);
  g_autoptr (PhMonitor) self = g_weak_ref_get (&call->monitor);
  PhReachability settled;
  gboolean offline;

  if (self == NULL || self->cancellable != call->cancellable)
    return; /* stopped or dropped meanwhile: that check is not ours any more */
  g_clear_object (&self->cancellable);
  settled = self->settled;

  offline = is_offline (diagnosis, error);
  if (diagnosis != NULL)
    monitor_take_diagnosis (self, diagnosis);
  if (error != NULL)
    g_debug ("monitor: the check failed: %s", error->message);
  g_debug ("monitor: check done%s", offline ? ", offline" : "");

  /* a failed check tells nothing new: the last settled state stays */
  if (offline)
    settled = PH_REACHABILITY_OFFLINE;
  else if (diagnosis != NULL)
    settled = ph_reachability_from_diagnosis (diagnosis);
  monitor_settle (self, settled);

  schedule_after_check (self, offline || diagnosis == NULL);
  g_signal_emit (self, signals[SIGNAL_CHECK_FINISHED], 0, diagnosis, error);
}

static void
monitor_run_check (PhMonitor *self)
{
  g_auto (PhCheckOptions) options = { 0 };
  g_autoptr (PhMonitor) hold = NULL;
  CheckCall *call;

  if (self->cancellable != NULL)
    return;
  hold = g_object_ref (self); /* through the signal handlers */
  /* this check answers every earlier reason to check */
  clear_source (&self->timer);
  self->timer_ms = 0;
  clear_source (&self->debounce);
  self->network_pending = FALSE;

  self->cancellable = g_cancellable_new ();
  if (self->get_options != NULL)
    self->get_options (&options, self->options_data);
  call = g_new0 (CheckCall, 1);
  g_weak_ref_init (&call->monitor, self);
  call->cancellable = g_object_ref (self->cancellable);
  call->finish = self->finish;

  monitor_set_state (self, PH_REACHABILITY_CHECKING);
  g_signal_emit (self, signals[SIGNAL_CHECK_STARTED], 0);
  /* a handler may have stopped us */
  if (call->cancellable != self->cancellable)
    {
      check_call_free (call);
      return;
    }
  g_main_context_push_thread_default (self->context);
  self->run (&options, call->cancellable, check_done, call);
  g_main_context_pop_thread_default (self->context);
}

/* ---- GObject ---- */

static void
monitor_stop_watch (PhMonitor *self)
{
  if (self->watch == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->watch, self);
  g_clear_object (&self->watch);
}

static void
ph_monitor_dispose (GObject *object)
{
  PhMonitor *self = PH_MONITOR (object);

  ph_monitor_stop (self);
  g_clear_object (&self->history);
  g_clear_object (&self->diagnosis);

  G_OBJECT_CLASS (ph_monitor_parent_class)->dispose (object);
}

static void
ph_monitor_finalize (GObject *object)
{
  PhMonitor *self = PH_MONITOR (object);

  g_clear_pointer (&self->last_check, g_date_time_unref);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (ph_monitor_parent_class)->finalize (object);
}

static void
ph_monitor_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PhMonitor *self = PH_MONITOR (object);

  switch (prop_id)
    {
      case PROP_STATE:
        g_value_set_enum (value, self->state);
        break;
      case PROP_DIAGNOSIS:
        g_value_set_object (value, self->diagnosis);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ph_monitor_class_init (PhMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ph_monitor_dispose;
  object_class->finalize = ph_monitor_finalize;
  object_class->get_property = ph_monitor_get_property;

  properties[PROP_STATE]
      = g_param_spec_enum ("state", NULL, NULL, PH_TYPE_REACHABILITY, PH_REACHABILITY_UNKNOWN,
                           G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DIAGNOSIS]
      = g_param_spec_object ("diagnosis", NULL, NULL, PH_TYPE_DIAGNOSIS,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CHECK_STARTED]
      = g_signal_new ("check-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_CHECK_FINISHED]
      = g_signal_new ("check-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 2, PH_TYPE_DIAGNOSIS, G_TYPE_ERROR);
  signals[SIGNAL_REACHABILITY_CHANGED]
      = g_signal_new ("reachability-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 2, PH_TYPE_REACHABILITY, PH_TYPE_REACHABILITY);
}

static void
ph_monitor_init (PhMonitor *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->run = ph_check_run_async;
  self->finish = ph_check_run_finish;
  self->interval_ms = PH_MONITOR_DEFAULT_INTERVAL_S * 1000;
  self->debounce_ms = PH_MONITOR_DEFAULT_DEBOUNCE_MS;
  self->backoff_first_ms = PH_MONITOR_BACKOFF_FIRST_S * 1000;
  self->state = PH_REACHABILITY_UNKNOWN;
  self->settled = PH_REACHABILITY_UNKNOWN;
}

/* ---- public ---- */

PhMonitor *
ph_monitor_new (PhMonitorOptionsFunc get_options, gpointer user_data, PhHistory *history)
{
  PhMonitor *self;

  g_return_val_if_fail (history == NULL || PH_IS_HISTORY (history), NULL);

  self = g_object_new (PH_TYPE_MONITOR, NULL);
  self->get_options = get_options;
  self->options_data = user_data;
  if (history != NULL)
    self->history = g_object_ref (history);
  return self;
}

void
ph_monitor_start (PhMonitor *self)
{
  guint watch_ms;

  g_return_if_fail (PH_IS_MONITOR (self));

  if (self->started)
    return;
  self->started = TRUE;
  watch_ms = CLAMP (self->debounce_ms / WATCH_DEBOUNCE_DIVISOR, 1, WATCH_DEBOUNCE_MAX_MS);
  g_main_context_push_thread_default (self->context);
  self->watch = ph_network_watch_new (watch_ms);
  g_main_context_pop_thread_default (self->context);
  g_signal_connect_swapped (self->watch, "changed", G_CALLBACK (network_changed), self);
  g_signal_connect_swapped (self->watch, "notify::ready", G_CALLBACK (network_ready), self);
  /* soon, but not at once: at login the network is still coming up */
  if (self->cancellable == NULL)
    schedule_check (self, self->debounce_ms);
}

void
ph_monitor_stop (PhMonitor *self)
{
  g_return_if_fail (PH_IS_MONITOR (self));

  self->started = FALSE;
  monitor_stop_watch (self);
  clear_source (&self->timer);
  self->timer_ms = 0;
  clear_source (&self->debounce);
  self->network_pending = FALSE;
  if (self->cancellable != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
      monitor_set_state (self, self->settled);
    }
}

gboolean
ph_monitor_get_running (PhMonitor *self)
{
  g_return_val_if_fail (PH_IS_MONITOR (self), FALSE);
  return self->started;
}

void
ph_monitor_check_now (PhMonitor *self)
{
  g_return_if_fail (PH_IS_MONITOR (self));
  monitor_run_check (self);
}

void
ph_monitor_set_interval_ms (PhMonitor *self, guint ms)
{
  g_return_if_fail (PH_IS_MONITOR (self));

  self->interval_ms = ms ? ms : PH_MONITOR_DEFAULT_INTERVAL_S * 1000;
  self->backoff_ms = MIN (self->backoff_ms, self->interval_ms);
  if (self->timer != NULL && self->timer_ms > self->interval_ms)
    schedule_check (self, self->interval_ms);
}

void
ph_monitor_set_interval (PhMonitor *self, guint seconds)
{
  g_return_if_fail (PH_IS_MONITOR (self));
  ph_monitor_set_interval_ms (self, (guint) MIN ((guint64) seconds * 1000, (guint64) G_MAXUINT));
}

void
ph_monitor_set_debounce (PhMonitor *self, guint ms)
{
  g_return_if_fail (PH_IS_MONITOR (self));
  /* a watch already started keeps its own quiet period; ours applies from the next change */
  self->debounce_ms = ms;
}

void
ph_monitor_set_backoff_first_ms (PhMonitor *self, guint ms)
{
  g_return_if_fail (PH_IS_MONITOR (self));
  self->backoff_first_ms = MAX (ms, 1);
}

void
ph_monitor_record (PhMonitor *self, PhDiagnosis *diagnosis)
{
  gboolean offline;

  g_return_if_fail (PH_IS_MONITOR (self));
  g_return_if_fail (PH_IS_DIAGNOSIS (diagnosis));

  offline = is_offline (diagnosis, NULL);
  monitor_take_diagnosis (self, diagnosis);
  monitor_settle (self,
                  offline ? PH_REACHABILITY_OFFLINE : ph_reachability_from_diagnosis (diagnosis));
  /* our own check, when one runs, re-arms the timer when it ends */
  if (self->cancellable == NULL)
    schedule_after_check (self, offline);
}

PhReachability
ph_monitor_get_state (PhMonitor *self)
{
  g_return_val_if_fail (PH_IS_MONITOR (self), PH_REACHABILITY_UNKNOWN);
  return self->state;
}

PhDiagnosis *
ph_monitor_get_diagnosis (PhMonitor *self)
{
  g_return_val_if_fail (PH_IS_MONITOR (self), NULL);
  return self->diagnosis;
}

GDateTime *
ph_monitor_get_last_check (PhMonitor *self)
{
  g_return_val_if_fail (PH_IS_MONITOR (self), NULL);
  return self->last_check;
}

gboolean
ph_monitor_get_network_ready (PhMonitor *self)
{
  g_return_val_if_fail (PH_IS_MONITOR (self), FALSE);
  return self->watch != NULL && ph_network_watch_is_ready (self->watch);
}

void
ph_monitor_set_check_func_for_tests (PhMonitor *self, PhMonitorCheckFunc run,
                                     PhDiagnosis *(*finish) (GAsyncResult *, GError **) )
{
  g_return_if_fail (PH_IS_MONITOR (self));
  g_return_if_fail ((run == NULL) == (finish == NULL));

  self->run = run ? run : ph_check_run_async;
  self->finish = finish ? finish : ph_check_run_finish;
}

guint
ph_monitor_get_next_delay_ms (PhMonitor *self)
{
  g_return_val_if_fail (PH_IS_MONITOR (self), 0);
  return self->timer != NULL ? self->timer_ms : 0;
}
