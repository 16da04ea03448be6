/* ph-network-watch.c: tells when NetworkManager's view of the primary connection changes
 *
 * One long-lived NMClient. libnm keeps its cache current from D-Bus signals and tells of changes
 * through GObject notifications on the client and on each object; we listen to the client and to
 * the objects behind the primary connection (active connection, device, IP and DHCP
 * configurations, the profile), hooking them afresh whenever one of them changes, since a
 * change may replace them (a new IP6Config after a reapply, another primary connection).
 * NetworkManager sends bursts (an address, then a route, then the gateway); a quiet period
 * folds a burst into one "changed", with a ceiling so a flapping link still gets reported.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include "ph-network-watch.h"
#include "ph-nm-private.h"

#define WATCH_CEILING_FACTOR 4

struct _PhNetworkWatch
{
  GObject parent_instance;

  guint debounce_ms;
  GMainContext *context;
  GCancellable *cancellable;
  NMClient *client;
  GPtrArray *watched; /* GObject: what we have handlers on, besides the client */
  GSource *timer;
  gint64 first_change_us;
  gboolean ready;
  gboolean running;
};

G_DEFINE_FINAL_TYPE (PhNetworkWatch, ph_network_watch, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_DEBOUNCE_MS,
  PROP_READY,
  PROP_RUNNING,
  N_PROPS
};

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static const char *const client_signals[]
    = { "notify::" NM_CLIENT_NM_RUNNING, "notify::" NM_CLIENT_PRIMARY_CONNECTION,
        "notify::" NM_CLIENT_ACTIVE_CONNECTIONS, "notify::" NM_CLIENT_CONNECTIVITY, NULL };
static const char *const device_signals[] = { "notify::" NM_DEVICE_STATE,
                                              "notify::" NM_DEVICE_IP4_CONFIG,
                                              "notify::" NM_DEVICE_IP6_CONFIG,
                                              "notify::" NM_DEVICE_DHCP4_CONFIG,
                                              "notify::" NM_DEVICE_ACTIVE_CONNECTION,
                                              NULL };
static const char *const any_notify[] = { "notify", NULL };
static const char *const connection_signals[] = { "changed", NULL };

static void
watch_object_changed (PhNetworkWatch *self);

static gboolean
watch_timer_fired (gpointer user_data)
{
  PhNetworkWatch *self = user_data;

  g_clear_pointer (&self->timer, g_source_unref);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return G_SOURCE_REMOVE;
}

static void
watch_clear_timer (PhNetworkWatch *self)
{
  if (self->timer == NULL)
    return;
  g_source_destroy (self->timer);
  g_clear_pointer (&self->timer, g_source_unref);
}

/* Restarts the quiet period, but never past the ceiling counted from the burst's first change. */
static void
watch_note_change (PhNetworkWatch *self)
{
  gint64 now = g_get_monotonic_time ();
  gint64 ceiling;
  guint delay_ms;

  if (self->timer == NULL)
    self->first_change_us = now;
  ceiling = self->first_change_us + (gint64) self->debounce_ms * WATCH_CEILING_FACTOR * 1000;
  delay_ms = (guint) CLAMP ((ceiling - now) / 1000, 0, (gint64) self->debounce_ms);
  watch_clear_timer (self);
  self->timer = g_timeout_source_new (delay_ms);
  g_source_set_callback (self->timer, watch_timer_fired, self, NULL);
  g_source_set_static_name (self->timer, "[porthole] network watch debounce");
  g_source_attach (self->timer, self->context);
}

static void
watch_unhook (PhNetworkWatch *self)
{
  for (guint i = 0; i < self->watched->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->watched, i), self);
  g_ptr_array_set_size (self->watched, 0);
}

static void
watch_connect (PhNetworkWatch *self, gpointer object, const char *const *names)
{
  if (object == NULL)
    return;
  for (guint i = 0; names[i] != NULL; i++)
    g_signal_connect_swapped (object, names[i], G_CALLBACK (watch_object_changed), self);
  g_ptr_array_add (self->watched, g_object_ref (object));
}

/* Handlers on whatever is behind the primary connection now. */
static void
watch_hook (PhNetworkWatch *self)
{
  NMActiveConnection *active;

  watch_unhook (self);
  if (self->client == NULL || !nm_client_get_nm_running (self->client))
    return;
  active = ph_nm_pick_connection (self->client);
  if (active == NULL)
    return;
  watch_connect (self, active, any_notify);
  watch_connect (self, ph_nm_connection_device (active), device_signals);
  watch_connect (self, ph_nm_ip_config (active, AF_INET), any_notify);
  watch_connect (self, ph_nm_ip_config (active, AF_INET6), any_notify);
  watch_connect (self, nm_active_connection_get_dhcp4_config (active), any_notify);
  watch_connect (self, nm_active_connection_get_connection (active), connection_signals);
}

static void
watch_object_changed (PhNetworkWatch *self)
{
  watch_hook (self);
  watch_note_change (self);
}

static void
watch_client_changed (PhNetworkWatch *self)
{
  gboolean running = nm_client_get_nm_running (self->client);

  if (running != self->running)
    {
      self->running = running;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
    }
  watch_object_changed (self);
}

static void
weak_ref_free (GWeakRef *weak)
{
  g_weak_ref_clear (weak);
  g_free (weak);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GWeakRef, weak_ref_free)

/* user_data is a weak reference: a watch dropped while NetworkManager is slow to answer goes at
 * once, and its client with it. */
static void
watch_client_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GWeakRef) weak = user_data;
  g_autoptr (PhNetworkWatch) self = g_weak_ref_get (weak);
  g_autoptr (GError) error = NULL;
  NMClient *client = nm_client_new_finish (result, &error);

  if (self == NULL || g_cancellable_is_cancelled (self->cancellable))
    {
      g_clear_object (&client);
      return;
    }
  if (client == NULL)
    g_debug ("network watch: no NetworkManager client: %s", error->message);
  else
    {
      self->client = client;
      self->running = nm_client_get_nm_running (client);
      for (guint i = 0; client_signals[i] != NULL; i++)
        g_signal_connect_swapped (client, client_signals[i], G_CALLBACK (watch_client_changed),
                                  self);
      watch_hook (self);
    }
  self->ready = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READY]);
}

static void
ph_network_watch_constructed (GObject *object)
{
  PhNetworkWatch *self = PH_NETWORK_WATCH (object);
  GWeakRef *weak = g_new0 (GWeakRef, 1);

  G_OBJECT_CLASS (ph_network_watch_parent_class)->constructed (object);

  if (self->debounce_ms == 0)
    self->debounce_ms = PH_NETWORK_WATCH_DEFAULT_DEBOUNCE_MS;
  self->context = g_main_context_ref_thread_default ();
  g_weak_ref_init (weak, self);
  nm_client_new_async (self->cancellable, watch_client_ready, weak);
}

static void
ph_network_watch_dispose (GObject *object)
{
  PhNetworkWatch *self = PH_NETWORK_WATCH (object);

  g_cancellable_cancel (self->cancellable);
  watch_clear_timer (self);
  watch_unhook (self);
  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (ph_network_watch_parent_class)->dispose (object);
}

static void
ph_network_watch_finalize (GObject *object)
{
  PhNetworkWatch *self = PH_NETWORK_WATCH (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->watched, g_ptr_array_unref);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (ph_network_watch_parent_class)->finalize (object);
}

static void
ph_network_watch_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PhNetworkWatch *self = PH_NETWORK_WATCH (object);

  switch (prop_id)
    {
      case PROP_DEBOUNCE_MS:
        g_value_set_uint (value, self->debounce_ms);
        break;
      case PROP_READY:
        g_value_set_boolean (value, self->ready);
        break;
      case PROP_RUNNING:
        g_value_set_boolean (value, self->running);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ph_network_watch_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  PhNetworkWatch *self = PH_NETWORK_WATCH (object);

  switch (prop_id)
    {
      case PROP_DEBOUNCE_MS:
        self->debounce_ms = g_value_get_uint (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ph_network_watch_class_init (PhNetworkWatchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = ph_network_watch_constructed;
  object_class->dispose = ph_network_watch_dispose;
  object_class->finalize = ph_network_watch_finalize;
  object_class->get_property = ph_network_watch_get_property;
  object_class->set_property = ph_network_watch_set_property;

  properties[PROP_DEBOUNCE_MS]
      = g_param_spec_uint ("debounce-ms", NULL, NULL, 0, G_MAXUINT32 / WATCH_CEILING_FACTOR / 1000,
                           0, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_READY] = g_param_spec_boolean ("ready", NULL, NULL, FALSE,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] = g_param_spec_boolean ("running", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Re-read the facts (ph_nm_facts_read_async) when this fires. */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ph_network_watch_init (PhNetworkWatch *self)
{
  self->cancellable = g_cancellable_new ();
  self->watched = g_ptr_array_new_with_free_func (g_object_unref);
}

PhNetworkWatch *
ph_network_watch_new (guint debounce_ms)
{
  return g_object_new (PH_TYPE_NETWORK_WATCH, "debounce-ms", debounce_ms, NULL);
}

gboolean
ph_network_watch_is_ready (PhNetworkWatch *self)
{
  g_return_val_if_fail (PH_IS_NETWORK_WATCH (self), FALSE);
  return self->ready;
}

gboolean
ph_network_watch_get_running (PhNetworkWatch *self)
{
  g_return_val_if_fail (PH_IS_NETWORK_WATCH (self), FALSE);
  return self->running;
}
