/* ph-notifier.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "ph-notifier.h"

struct _PhNotifier
{
  GObject parent_instance;

  GApplication *application; /* not owned: it owns us */
  PhMonitor *monitor;
  gulong changed_id;
  PhReachability last; /* the state last told; UNKNOWN: nothing told yet */
  PhNotifierQuietFunc quiet;
  gpointer quiet_data;
  guint sent;
};

G_DEFINE_FINAL_TYPE (PhNotifier, ph_notifier, G_TYPE_OBJECT)

static gboolean
worth_telling (PhReachability state)
{
  return state == PH_REACHABILITY_REACHABLE || state == PH_REACHABILITY_IPV6_ONLY
         || state == PH_REACHABILITY_UNREACHABLE;
}

gboolean
ph_notifier_should_notify (PhReachability *last, PhReachability state)
{
  PhReachability before;

  g_return_val_if_fail (last != NULL, FALSE);

  if (!worth_telling (state) || state == *last)
    return FALSE;
  before = *last;
  *last = state;
  /* the first result of the session: only bad news is news */
  if (before == PH_REACHABILITY_UNKNOWN)
    return state == PH_REACHABILITY_UNREACHABLE;
  return TRUE;
}

GNotification *
ph_notifier_build (PhReachability state, PhDiagnosis *diagnosis)
{
  g_autoptr (GNotification) notification = NULL;
  g_autoptr (GIcon) icon = NULL;
  const char *cause = NULL;
  const char *body;

  g_return_val_if_fail (diagnosis == NULL || PH_IS_DIAGNOSIS (diagnosis), NULL);

  if (diagnosis && state != PH_REACHABILITY_REACHABLE)
    cause = ph_history_cause_for_diagnosis (diagnosis);

  switch (state)
    {
      case PH_REACHABILITY_REACHABLE:
        notification = g_notification_new (_ ("Your IPFS node is reachable"));
        body = _ ("Peers on the internet can connect to it again.");
        break;
      case PH_REACHABILITY_IPV6_ONLY:
        notification = g_notification_new (_ ("Your IPFS node is reachable over IPv6 only"));
        body = _ ("Peers that have only IPv4 cannot connect to it.");
        break;
      case PH_REACHABILITY_UNREACHABLE:
        notification = g_notification_new (_ ("Your IPFS node is not reachable"));
        body = _ ("Peers on the internet cannot connect to it.");
        break;
      case PH_REACHABILITY_UNKNOWN:
      case PH_REACHABILITY_OFFLINE:
      case PH_REACHABILITY_CHECKING:
      default:
        notification = g_notification_new (ph_reachability_describe (state));
        body = NULL;
        break;
    }
  if (cause)
    {
      g_autofree char *text = g_strdup_printf ("%s %s", body, ph_diagnosis_explain_cause (cause));

      g_notification_set_body (notification, text);
    }
  else
    g_notification_set_body (notification, body);

  icon = g_themed_icon_new (ph_reachability_icon_name (state));
  g_notification_set_icon (notification, icon);
  /* clicking it opens the window at the fix for what was found */
  g_notification_set_default_action (notification, "app.show-fix");
  if (state == PH_REACHABILITY_UNREACHABLE || state == PH_REACHABILITY_IPV6_ONLY)
    g_notification_add_button (notification, _ ("Fix It"), "app.show-fix");
  g_notification_set_priority (notification, state == PH_REACHABILITY_UNREACHABLE
                                                 ? G_NOTIFICATION_PRIORITY_HIGH
                                                 : G_NOTIFICATION_PRIORITY_NORMAL);
  return g_steal_pointer (&notification);
}

static void
reachability_changed_cb (PhMonitor *monitor, PhReachability old_state, PhReachability new_state,
                         gpointer user_data)
{
  PhNotifier *self = PH_NOTIFIER (user_data);
  g_autoptr (GNotification) notification = NULL;

  if (!ph_notifier_should_notify (&self->last, new_state))
    return;
  if (self->quiet && self->quiet (self->quiet_data))
    return;
  /* GNotification needs a registered primary instance: not the case in --check or a remote */
  if (!g_application_get_is_registered (self->application)
      || g_application_get_is_remote (self->application))
    return;
  notification = ph_notifier_build (new_state, ph_monitor_get_diagnosis (monitor));
  g_application_send_notification (self->application, PH_NOTIFIER_ID, notification);
  self->sent++;
}

PhNotifier *
ph_notifier_new (GApplication *application, PhMonitor *monitor)
{
  PhNotifier *self;

  g_return_val_if_fail (G_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (PH_IS_MONITOR (monitor), NULL);

  self = g_object_new (PH_TYPE_NOTIFIER, NULL);
  self->application = application;
  self->monitor = g_object_ref (monitor);
  self->changed_id = g_signal_connect (monitor, "reachability-changed",
                                       G_CALLBACK (reachability_changed_cb), self);
  return self;
}

void
ph_notifier_set_quiet_func (PhNotifier *self, PhNotifierQuietFunc quiet, gpointer user_data)
{
  g_return_if_fail (PH_IS_NOTIFIER (self));

  self->quiet = quiet;
  self->quiet_data = user_data;
}

guint
ph_notifier_get_sent (PhNotifier *self)
{
  g_return_val_if_fail (PH_IS_NOTIFIER (self), 0);

  return self->sent;
}

static void
ph_notifier_dispose (GObject *object)
{
  PhNotifier *self = PH_NOTIFIER (object);

  g_clear_signal_handler (&self->changed_id, self->monitor);
  g_clear_object (&self->monitor);
  G_OBJECT_CLASS (ph_notifier_parent_class)->dispose (object);
}

static void
ph_notifier_class_init (PhNotifierClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ph_notifier_dispose;
}

static void
ph_notifier_init (PhNotifier *self)
{
  self->last = PH_REACHABILITY_UNKNOWN;
}
