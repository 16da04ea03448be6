/* ph-actions.h: apply and roll back a fix, and keep a UPnP mapping alive while Porthole runs
 *
 * The one place the faces (wizard, tray, --check) send the user's choices to: forward the swarm
 * port through the router's UPnP IGD, turn IPv6 on through NetworkManager, and undo any change
 * recorded in the change log. A port mapped here with a finite lease is renewed before the lease
 * ends (at ph_upnp_map_result_renew_in ()) for as long as this object lives; a renewal that fails
 * is retried with a growing delay, and the faces hear about both through signals:
 *
 *   "mapping-renewed" (guint port)                  the router extended the lease
 *   "mapping-lost"    (guint port, GError *error)   a renewal failed; retried after a backoff
 *
 * Everything runs on the thread-default main context of the thread that created the object (the
 * blocking router calls run in worker threads inside ph-upnp). Every operation takes a
 * GCancellable; disposing the object stops the renewal timers and cancels whatever is in flight.
 * Disposing does not remove mappings from the router: their lease ends on its own, and the change
 * log still says how to undo them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "net/ph-change-log.h"
#include "net/ph-ipv6-fix.h"
#include "net/ph-upnp.h"
#include "ph-diagnosis.h"

G_BEGIN_DECLS

#define PH_TYPE_ACTIONS (ph_actions_get_type ())
G_DECLARE_FINAL_TYPE (PhActions, ph_actions, PH, ACTIONS, GObject)

/* After a failed renewal: wait PH_ACTIONS_RETRY_FIRST_S, then twice as long each time, at most
 * PH_ACTIONS_RETRY_MAX_S. */
#define PH_ACTIONS_RETRY_FIRST_S 30
#define PH_ACTIONS_RETRY_MAX_S 600

/* log: where every change is recorded (may be NULL: then nothing is recorded, and undo needs the
 * PhChange from elsewhere). */
PhActions *
ph_actions_new (PhChangeLog *log);
PhChangeLog *
ph_actions_get_log (PhActions *self);

/* The lease asked for when mapping and renewing; 0 (the default): PH_UPNP_DEFAULT_LEASE_S. */
void
ph_actions_set_lease (PhActions *self, guint lease_s);
guint
ph_actions_get_lease (PhActions *self);

/* Maps port (the router's swarm port) TCP and UDP to this host and records it, then renews it
 * while this object lives when the lease is finite. Mappings that were there already (not ours)
 * and permanent ones are not renewed. Mapping a port again replaces its renewal. Fails as
 * ph_upnp_add_mapping () does. */
void
ph_actions_map_port_async (PhActions *self, PhUpnpRouter *router, guint port,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);
PhUpnpMapResult *
ph_actions_map_port_finish (PhActions *self, GAsyncResult *result, GError **error);

/* Maps the diagnosis's swarm port (PH_DEFAULT_PORT when it has none) TCP and UDP on the router
 * its UPnP facts name (desc_url, opened without a search, under the UPnP deadline), as
 * ph_actions_map_port_async () does. Fails with G_IO_ERROR_NOT_FOUND when the diagnosis has no
 * router that answered over UPnP or no description URL for it, else as
 * ph_upnp_router_new_for_url_async () and ph_upnp_add_mapping () do. Undo:
 * ph_actions_unmap_port_async (self, NULL, port, …) or ph_actions_unmap_for_diagnosis_async (). */
void
ph_actions_map_for_diagnosis_async (PhActions *self, PhDiagnosis *diagnosis,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);
PhUpnpMapResult *
ph_actions_map_for_diagnosis_finish (PhActions *self, GAsyncResult *result, GError **error);

/* Removes our mapping of the diagnosis's swarm port (PH_DEFAULT_PORT when it has none), as
 * ph_actions_unmap_port_async () does: on the router this object mapped it on when it did (its
 * renewal stops first), else on the router the diagnosis's UPnP facts name (desc_url, opened
 * without a search, under the UPnP deadline) — for a mapping made before this object, by an earlier
 * run or recorded in the change log. Fails with G_IO_ERROR_NOT_FOUND when neither names a router,
 * else as ph_upnp_router_new_for_url_async () and ph_upnp_remove_mapping () do. */
void
ph_actions_unmap_for_diagnosis_async (PhActions *self, PhDiagnosis *diagnosis,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data);
gboolean
ph_actions_unmap_for_diagnosis_finish (PhActions *self, GAsyncResult *result, GError **error);

/* Whether port's mapping is being renewed (a timer is set or a renewal is on its way). */
gboolean
ph_actions_is_renewing (PhActions *self, guint port);

/* Stops renewing port (waiting for a renewal already on its way, so that nothing reaches the
 * router after the removal), then removes our mapping of it and its change-log entry. router:
 * NULL for the router the mapping was made on here; fails with G_IO_ERROR_NOT_FOUND when there is
 * none. Renewal stays stopped even if the removal fails: the lease then ends on its own. */
void
ph_actions_unmap_port_async (PhActions *self, PhUpnpRouter *router, guint port,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data);
gboolean
ph_actions_unmap_port_finish (PhActions *self, GAsyncResult *result, GError **error);

/* Turns IPv6 on for the connection carrying the default route (ph_ipv6_fix_enable_async ()),
 * recorded in the log. */
void
ph_actions_enable_ipv6_async (PhActions *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
PhIpv6FixResult *
ph_actions_enable_ipv6_finish (PhActions *self, GAsyncResult *result, GError **error);

/* Undoes a recorded change, by its kind: PH_UPNP_CHANGE_KIND (stopping that port's renewal first)
 * or PH_IPV6_FIX_CHANGE_KIND; removes its entry from the log. Another kind fails with
 * G_IO_ERROR_NOT_SUPPORTED, its message saying how to undo it by hand. message (may be NULL):
 * on success, a sentence saying what happened. */
void
ph_actions_undo_async (PhActions *self, const PhChange *change, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data);
gboolean
ph_actions_undo_finish (PhActions *self, GAsyncResult *result, char **message, GError **error);

/* Tests only: the backoff after a failed renewal, in seconds (0: the defaults above). */
void
ph_actions_set_retry_for_tests (PhActions *self, guint retry_first_s, guint retry_max_s);

G_END_DECLS
