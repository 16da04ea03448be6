/* ph-notifier.h: a desktop notification when the node's reachability changes
 *
 * Follows a PhMonitor's "reachability-changed" and sends one GNotification (id "reachability",
 * so a newer one replaces an older one) whose default action is app.show-fix.
 *
 * What is worth telling:
 * - only the settled states a person acts on: REACHABLE, IPV6_ONLY, UNREACHABLE. OFFLINE and
 *   UNKNOWN (no network, or the check could not tell) say nothing and leave the last told state as
 *   it was, so a laptop that goes offline and comes back as reachable as before stays quiet;
 * - the first result of a session (nothing told yet) only when it is UNREACHABLE: a node that is
 *   fine at login needs no pop-up, one that is not should be fixed;
 * - afterwards, every change between those three states;
 * - nothing while the quiet function says so (the window is in front and shows it anyway); the
 *   state still counts as told.
 *
 * No GTK: the application passes itself as a GApplication.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "core/ph-monitor.h"

G_BEGIN_DECLS

#define PH_NOTIFIER_ID "reachability"

/* The decision alone: last is the state last told (UNKNOWN: none yet), updated in place. */
gboolean
ph_notifier_should_notify (PhReachability *last, PhReachability state);
/* The notification for state; diagnosis (nullable) adds its main cause to the body. */
GNotification *
ph_notifier_build (PhReachability state, PhDiagnosis *diagnosis);

#define PH_TYPE_NOTIFIER (ph_notifier_get_type ())
G_DECLARE_FINAL_TYPE (PhNotifier, ph_notifier, PH, NOTIFIER, GObject)

typedef gboolean (*PhNotifierQuietFunc) (gpointer user_data);

/* Holds no reference on application (it owns the notifier); holds one on monitor. */
PhNotifier *
ph_notifier_new (GApplication *application, PhMonitor *monitor);
void
ph_notifier_set_quiet_func (PhNotifier *self, PhNotifierQuietFunc quiet, gpointer user_data);
/* How many notifications were sent (tests, the soak). */
guint
ph_notifier_get_sent (PhNotifier *self);

G_END_DECLS
