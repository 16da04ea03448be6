/* ph-actions.c: apply and roll back a fix, and keep a UPnP mapping alive while Porthole runs
 *
 * Renewal: each mapping we made with a finite lease has a timer on our main context; when it
 * fires, ph_upnp_renew_mapping_async () asks the router again (in a worker thread) and the answer
 * sets the next timer, from the lease the router granted, or a backoff after a failure. A renewal
 * does not keep the object alive: it holds the Mapping, whose pointer back to us is cleared when
 * the object is disposed or the port unmapped.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "ph-actions.h"
#include "ph-check.h"

typedef struct
{
  PhActions *self; /* unowned; NULL once detached (disposed, unmapped, mapped again) */
  PhUpnpRouter *router;
  guint port;
  GSource *timer;    /* the next renewal, or NULL */
  gboolean renewing; /* a renewal is on its way to the router */
  guint failures;    /* renewals failed in a row */
  GTask *waiting;    /* an unmap or undo to start once the renewal has come back */
} Mapping;

struct _PhActions
{
  GObject parent_instance;

  PhChangeLog *log;
  GMainContext *context;
  GCancellable *cancellable; /* cancelled on dispose; every operation hangs on it */
  GHashTable *mappings;      /* port → Mapping (owned) */
  guint lease_s;
  guint retry_first_s;
  guint retry_max_s;
  gboolean disposed;
};

G_DEFINE_TYPE (PhActions, ph_actions, G_TYPE_OBJECT)

enum
{
  SIGNAL_MAPPING_RENEWED,
  SIGNAL_MAPPING_LOST,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* An operation of ours: its GTask's data. */
typedef void (*StartFunc) (GTask *task);

typedef struct
{
  GCancellable *inner; /* cancelled by the caller's cancellable or by dispose */
  GCancellable *outer;
  gulong outer_handler;
  GCancellable *own;
  gulong own_handler;
  PhUpnpRouter *router;
  guint port;
  PhChange *change;
  StartFunc start; /* what to run once a renewal on its way has come back */
} Op;

/* ---- mappings ---- */

static Mapping *
mapping_new (PhActions *self, PhUpnpRouter *router, guint port)
{
  Mapping *mapping = g_rc_box_new0 (Mapping);

  mapping->self = self;
  mapping->router = ph_upnp_router_ref (router);
  mapping->port = port;
  return mapping;
}

static void
mapping_clear (Mapping *mapping)
{
  g_assert (mapping->timer == NULL);
  g_assert (mapping->waiting == NULL);
  ph_upnp_router_unref (mapping->router);
}

static Mapping *
mapping_ref (Mapping *mapping)
{
  return g_rc_box_acquire (mapping);
}

static void
mapping_unref (Mapping *mapping)
{
  g_rc_box_release_full (mapping, (GDestroyNotify) mapping_clear);
}

static void
mapping_stop_timer (Mapping *mapping)
{
  if (mapping->timer != NULL)
    {
      g_source_destroy (mapping->timer);
      g_clear_pointer (&mapping->timer, g_source_unref);
    }
}

/* The table's destroy function: no more renewals for it from us. */
static void
mapping_detach (Mapping *mapping)
{
  mapping_stop_timer (mapping);
  mapping->self = NULL;
  mapping_unref (mapping);
}

static gboolean
renew_fire (gpointer data);

static void
mapping_schedule (Mapping *mapping, guint seconds)
{
  PhActions *self = mapping->self;

  mapping_stop_timer (mapping);
  /* seconds granularity is plenty for leases of minutes and lets GLib batch wake-ups */
  mapping->timer = g_timeout_source_new_seconds (MAX (seconds, 1));
  g_source_set_name (mapping->timer, "[porthole] UPnP lease renewal");
  g_source_set_callback (mapping->timer, renew_fire, mapping_ref (mapping),
                         (GDestroyNotify) mapping_unref);
  g_source_attach (mapping->timer, self->context);
}

static guint
retry_delay (PhActions *self, guint failures)
{
  guint first = self->retry_first_s ? self->retry_first_s : PH_ACTIONS_RETRY_FIRST_S;
  guint max = self->retry_max_s ? self->retry_max_s : PH_ACTIONS_RETRY_MAX_S;
  guint delay = first;

  for (guint i = 1; i < failures && delay < max; i++)
    delay *= 2;
  return MIN (delay, max);
}

static void
renew_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Mapping *mapping = user_data;
  g_autoptr (PhUpnpMapResult) renewed = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PhActions) self = NULL;
  GTask *waiting;

  renewed = ph_upnp_renew_mapping_finish (result, &error);
  mapping->renewing = FALSE;
  waiting = g_steal_pointer (&mapping->waiting);
  if (waiting != NULL)
    {
      /* an unmap or undo was waiting for this renewal, so that it reaches the router last */
      Op *op = g_task_get_task_data (waiting);
      op->start (waiting);
      mapping_unref (mapping);
      return;
    }
  if (mapping->self == NULL)
    {
      mapping_unref (mapping);
      return;
    }

  self = g_object_ref (mapping->self);
  if (renewed != NULL)
    {
      guint renew_in = ph_upnp_map_result_renew_in (renewed);

      mapping->failures = 0;
      /* 0: the router made it permanent; nothing left to renew */
      if (renew_in > 0)
        mapping_schedule (mapping, renew_in);
      g_debug ("UPnP mapping of port %u renewed; next renewal in %u s", mapping->port, renew_in);
      g_signal_emit (self, signals[SIGNAL_MAPPING_RENEWED], 0, mapping->port);
    }
  else
    {
      guint delay = retry_delay (self, ++mapping->failures);

      g_debug ("renewing the UPnP mapping of port %u failed (%s); again in %u s", mapping->port,
               error->message, delay);
      mapping_schedule (mapping, delay);
      g_signal_emit (self, signals[SIGNAL_MAPPING_LOST], 0, mapping->port, error);
    }
  mapping_unref (mapping);
}

static gboolean
renew_fire (gpointer data)
{
  Mapping *mapping = data;
  PhActions *self = mapping->self;

  /* the dispatch holds the source until we return */
  g_clear_pointer (&mapping->timer, g_source_unref);
  if (self == NULL)
    return G_SOURCE_REMOVE;
  mapping->renewing = TRUE;
  ph_upnp_renew_mapping_async (mapping->router, mapping->port, self->lease_s, self->log,
                               self->cancellable, renew_done, mapping_ref (mapping));
  return G_SOURCE_REMOVE;
}

/* ---- operations ---- */

static void
cancel_inner (GCancellable *cancellable, gpointer inner)
{
  g_cancellable_cancel (inner);
}

static void
op_free (Op *op)
{
  if (op->outer != NULL)
    {
      g_cancellable_disconnect (op->outer, op->outer_handler);
      g_object_unref (op->outer);
    }
  g_cancellable_disconnect (op->own, op->own_handler);
  g_object_unref (op->own);
  g_object_unref (op->inner);
  g_clear_pointer (&op->router, ph_upnp_router_unref);
  g_clear_pointer (&op->change, ph_change_free);
  g_free (op);
}

static GTask *
op_task_new (PhActions *self, gpointer source_tag, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Op *op = g_new0 (Op, 1);

  g_task_set_source_tag (task, source_tag);
  /* what was done on the router is the answer, even if the caller cancelled at the last moment */
  g_task_set_check_cancellable (task, FALSE);
  op->inner = g_cancellable_new ();
  op->own = g_object_ref (self->cancellable);
  op->own_handler = g_cancellable_connect (self->cancellable, G_CALLBACK (cancel_inner),
                                           g_object_ref (op->inner), g_object_unref);
  if (cancellable != NULL)
    {
      op->outer = g_object_ref (cancellable);
      op->outer_handler = g_cancellable_connect (cancellable, G_CALLBACK (cancel_inner),
                                                 g_object_ref (op->inner), g_object_unref);
    }
  g_task_set_task_data (task, op, (GDestroyNotify) op_free);
  return task;
}

/* Stops renewing port; start (task) runs now, or when a renewal on its way has come back. */
static void
stop_renewal_then (PhActions *self, guint port, GTask *task, StartFunc start)
{
  Mapping *mapping = NULL;

  if (g_hash_table_steal_extended (self->mappings, GUINT_TO_POINTER (port), NULL,
                                   (gpointer *) &mapping))
    {
      gboolean renewing = mapping->renewing;

      if (renewing)
        {
          ((Op *) g_task_get_task_data (task))->start = start;
          mapping->waiting = task; /* our reference goes with it, to start () */
        }
      mapping_detach (mapping);
      if (renewing)
        return;
    }
  start (task);
}

/* map */

static void
map_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  PhActions *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  PhUpnpMapResult *mapped = ph_upnp_add_mapping_finish (result, &error);

  if (mapped == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!self->disposed && !mapped->already_there)
    {
      Mapping *mapping = mapping_new (self, op->router, op->port);
      guint renew_in = ph_upnp_map_result_renew_in (mapped);

      /* replaces (detaches) an earlier mapping of the port */
      g_hash_table_replace (self->mappings, GUINT_TO_POINTER (op->port), mapping);
      if (renew_in > 0)
        mapping_schedule (mapping, renew_in);
    }
  g_task_return_pointer (task, mapped, (GDestroyNotify) ph_upnp_map_result_free);
}

void
ph_actions_map_port_async (PhActions *self, PhUpnpRouter *router, guint port,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  GTask *task;
  Op *op;

  g_return_if_fail (PH_IS_ACTIONS (self));
  g_return_if_fail (router != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = op_task_new (self, ph_actions_map_port_async, cancellable, callback, user_data);
  op = g_task_get_task_data (task);
  op->router = ph_upnp_router_ref (router);
  op->port = port;
  ph_upnp_add_mapping_async (router, port, self->lease_s, self->log, op->inner, map_done, task);
}

PhUpnpMapResult *
ph_actions_map_port_finish (PhActions *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ph_actions_map_port_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* map, for a diagnosis */

typedef struct
{
  char *desc_url;
  char *gateway;
  guint port;
  gboolean unmap; /* ph_actions_unmap_for_diagnosis_async (): remove, not add */
} ForDiagnosis;

static void
for_diagnosis_free (ForDiagnosis *data)
{
  g_free (data->desc_url);
  g_free (data->gateway);
  g_free (data);
}

static void
for_diagnosis_mapped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  PhUpnpMapResult *mapped = ph_actions_map_port_finish (PH_ACTIONS (source), result, &error);

  if (mapped != NULL)
    g_task_return_pointer (task, mapped, (GDestroyNotify) ph_upnp_map_result_free);
  else
    g_task_return_error (task, error);
}

static void
for_diagnosis_unmapped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (ph_actions_unmap_port_finish (PH_ACTIONS (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
for_diagnosis_opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  PhActions *self = g_task_get_source_object (task);
  ForDiagnosis *data = g_task_get_task_data (task);
  g_autoptr (PhUpnpRouter) router = NULL;
  GCancellable *cancellable;
  GError *error = NULL;

  router = ph_upnp_router_new_for_url_finish (result, &error);
  if (router == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  cancellable = g_task_get_cancellable (task);
  /* the task's reference moves to for_diagnosis_mapped or for_diagnosis_unmapped */
  if (data->unmap)
    ph_actions_unmap_port_async (self, router, data->port, cancellable, for_diagnosis_unmapped,
                                 g_steal_pointer (&task));
  else
    ph_actions_map_port_async (self, router, data->port, cancellable, for_diagnosis_mapped,
                               g_steal_pointer (&task));
}

static guint
diagnosis_port (PhDiagnosis *diagnosis)
{
  return ph_diagnosis_get_port (diagnosis) ? ph_diagnosis_get_port (diagnosis) : PH_DEFAULT_PORT;
}

/* Opens the router of the diagnosis's UPnP facts in a worker thread, then maps or unmaps (as
 * data->unmap says) for task; fails task with G_IO_ERROR_NOT_FOUND when the facts name none. */
static void
for_diagnosis_start (PhDiagnosis *diagnosis, GTask *task, ForDiagnosis *data)
{
  PhUpnpFacts *upnp = ph_diagnosis_get_upnp (diagnosis);
  PhUpnpOptions options = { 0 };

  if (upnp == NULL || !upnp->found)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                               data->unmap
                                   ? _ ("No router answered over UPnP in this check, so Porthole "
                                        "cannot ask one to remove the forward.")
                                   : _ ("No router answered over UPnP in this check, so Porthole "
                                        "cannot ask one to forward the port."));
      for_diagnosis_free (data);
      g_object_unref (task);
      return;
    }
  if (upnp->desc_url == NULL || *upnp->desc_url == '\0')
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                               data->unmap
                                   ? _ ("The router did not say where its UPnP service is, so "
                                        "Porthole cannot ask it to remove the forward.")
                                   : _ ("The router did not say where its UPnP service is, so "
                                        "Porthole cannot ask it to forward the port."));
      for_diagnosis_free (data);
      g_object_unref (task);
      return;
    }
  data->desc_url = g_strdup (upnp->desc_url);
  data->gateway = g_strdup (upnp->gateway);
  g_task_set_task_data (task, data, (GDestroyNotify) for_diagnosis_free);

  options.gateway = data->gateway;
  options.swarm_port = data->port;
  /* the task's reference moves to for_diagnosis_opened */
  ph_upnp_router_new_for_url_async (data->desc_url, &options, g_task_get_cancellable (task),
                                    for_diagnosis_opened, task);
}

/* The task of a map or unmap for a diagnosis, and its data (the port the diagnosis names). */
static GTask *
for_diagnosis_task_new (PhActions *self, PhDiagnosis *diagnosis, gboolean unmap,
                        gpointer source_tag, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data, ForDiagnosis **data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  /* what was done on the router is the answer, even if the caller cancelled at the last moment */
  g_task_set_check_cancellable (task, FALSE);
  *data = g_new0 (ForDiagnosis, 1);
  (*data)->port = diagnosis_port (diagnosis);
  (*data)->unmap = unmap;
  return task;
}

void
ph_actions_map_for_diagnosis_async (PhActions *self, PhDiagnosis *diagnosis,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  GTask *task;
  ForDiagnosis *data;

  g_return_if_fail (PH_IS_ACTIONS (self));
  g_return_if_fail (PH_IS_DIAGNOSIS (diagnosis));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = for_diagnosis_task_new (self, diagnosis, FALSE, ph_actions_map_for_diagnosis_async,
                                 cancellable, callback, user_data, &data);
  for_diagnosis_start (diagnosis, task, data);
}

PhUpnpMapResult *
ph_actions_map_for_diagnosis_finish (PhActions *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == ph_actions_map_for_diagnosis_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* unmap, for a diagnosis */

void
ph_actions_unmap_for_diagnosis_async (PhActions *self, PhDiagnosis *diagnosis,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  GTask *task;
  ForDiagnosis *data;

  g_return_if_fail (PH_IS_ACTIONS (self));
  g_return_if_fail (PH_IS_DIAGNOSIS (diagnosis));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = for_diagnosis_task_new (self, diagnosis, TRUE, ph_actions_unmap_for_diagnosis_async,
                                 cancellable, callback, user_data, &data);
  if (g_hash_table_contains (self->mappings, GUINT_TO_POINTER (data->port)))
    {
      /* made by this object: its router is known, and its renewal must stop first */
      ph_actions_unmap_port_async (self, NULL, data->port, cancellable, for_diagnosis_unmapped,
                                   task);
      for_diagnosis_free (data);
      return;
    }
  /* made before this process (the change log, an earlier run): the check's router */
  for_diagnosis_start (diagnosis, task, data);
}

gboolean
ph_actions_unmap_for_diagnosis_finish (PhActions *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == ph_actions_unmap_for_diagnosis_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
ph_actions_is_renewing (PhActions *self, guint port)
{
  Mapping *mapping;

  g_return_val_if_fail (PH_IS_ACTIONS (self), FALSE);
  mapping = g_hash_table_lookup (self->mappings, GUINT_TO_POINTER (port));
  return mapping != NULL && (mapping->timer != NULL || mapping->renewing);
}

/* unmap */

static void
unmap_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (ph_upnp_remove_mapping_finish (result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
unmap_start (GTask *task)
{
  PhActions *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);

  /* the task's reference moves to unmap_done */
  ph_upnp_remove_mapping_async (op->router, op->port, self->log, op->inner, unmap_done, task);
}

void
ph_actions_unmap_port_async (PhActions *self, PhUpnpRouter *router, guint port,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  GTask *task;
  Op *op;
  Mapping *mapping;

  g_return_if_fail (PH_IS_ACTIONS (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = op_task_new (self, ph_actions_unmap_port_async, cancellable, callback, user_data);
  op = g_task_get_task_data (task);
  op->port = port;
  mapping = g_hash_table_lookup (self->mappings, GUINT_TO_POINTER (port));
  if (router == NULL && mapping != NULL)
    router = mapping->router;
  if (router == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               _ ("Porthole has not forwarded port %u on a router while it ran, "
                                  "so it does not know where to remove the forwarding."),
                               port);
      g_object_unref (task);
      return;
    }
  op->router = ph_upnp_router_ref (router);
  stop_renewal_then (self, port, task, unmap_start);
}

gboolean
ph_actions_unmap_port_finish (PhActions *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ph_actions_unmap_port_async,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* IPv6 */

static void
ipv6_enable_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  PhIpv6FixResult *fixed = ph_ipv6_fix_enable_finish (result, &error);

  if (fixed != NULL)
    g_task_return_pointer (task, fixed, (GDestroyNotify) ph_ipv6_fix_result_free);
  else
    g_task_return_error (task, error);
}

void
ph_actions_enable_ipv6_async (PhActions *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  PhIpv6FixOptions options = { 0 };
  GTask *task;
  Op *op;

  g_return_if_fail (PH_IS_ACTIONS (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = op_task_new (self, ph_actions_enable_ipv6_async, cancellable, callback, user_data);
  op = g_task_get_task_data (task);
  options.log = self->log;
  ph_ipv6_fix_enable_async (&options, op->inner, ipv6_enable_done, task);
}

PhIpv6FixResult *
ph_actions_enable_ipv6_finish (PhActions *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ph_actions_enable_ipv6_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* undo */

static void
undo_upnp_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;

  if (ph_upnp_undo_change_finish (result, &error))
    g_task_return_pointer (
        task,
        op->port != 0 ? g_strdup_printf (_ ("The router no longer forwards port %u."), op->port)
                      : g_strdup (_ ("The router no longer forwards the port.")),
        g_free);
  else
    g_task_return_error (task, error);
}

static void
undo_upnp_start (GTask *task)
{
  PhActions *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);

  ph_upnp_undo_change_async (op->change, self->log, 0, op->inner, undo_upnp_done, task);
}

static void
undo_ipv6_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  g_autoptr (PhIpv6FixResult) fixed = ph_ipv6_fix_undo_finish (result, &error);

  if (fixed != NULL)
    g_task_return_pointer (
        task,
        g_strdup (fixed->message ? fixed->message : _ ("The IPv6 setting is back as it was.")),
        g_free);
  else
    g_task_return_error (task, error);
}

void
ph_actions_undo_async (PhActions *self, const PhChange *change, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  Op *op;

  g_return_if_fail (PH_IS_ACTIONS (self));
  g_return_if_fail (change != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = op_task_new (self, ph_actions_undo_async, cancellable, callback, user_data);
  op = g_task_get_task_data (task);
  op->change = ph_change_copy (change);
  if (g_strcmp0 (change->kind, PH_UPNP_CHANGE_KIND) == 0)
    {
      gint64 port = 0;

      if (change->undo != NULL && json_object_has_member (change->undo, "port"))
        port = json_object_get_int_member (change->undo, "port");
      if (port > 0 && port <= G_MAXUINT16)
        {
          /* no renewal may put back what the undo removes */
          op->port = (guint) port;
          stop_renewal_then (self, op->port, task, undo_upnp_start);
        }
      else
        undo_upnp_start (task); /* ph-upnp says what is missing */
    }
  else if (g_strcmp0 (change->kind, PH_IPV6_FIX_CHANGE_KIND) == 0)
    {
      PhIpv6FixOptions options = { 0 };

      options.log = self->log;
      ph_ipv6_fix_undo_async (change, &options, op->inner, undo_ipv6_done, task);
    }
  else
    {
      g_task_return_new_error (
          task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
          _ ("Porthole does not know how to undo this change itself (“%s”). %s"),
          change->summary ? change->summary : (change->kind ? change->kind : "?"),
          change->undo_hint ? change->undo_hint : "");
      g_object_unref (task);
    }
}

gboolean
ph_actions_undo_finish (PhActions *self, GAsyncResult *result, char **message, GError **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ph_actions_undo_async, FALSE);

  text = g_task_propagate_pointer (G_TASK (result), error);
  if (text == NULL)
    return FALSE;
  if (message != NULL)
    *message = g_steal_pointer (&text);
  return TRUE;
}

/* ---- the object ---- */

PhActions *
ph_actions_new (PhChangeLog *log)
{
  PhActions *self = g_object_new (PH_TYPE_ACTIONS, NULL);

  self->log = log != NULL ? ph_change_log_ref (log) : NULL;
  return self;
}

PhChangeLog *
ph_actions_get_log (PhActions *self)
{
  g_return_val_if_fail (PH_IS_ACTIONS (self), NULL);
  return self->log;
}

void
ph_actions_set_lease (PhActions *self, guint lease_s)
{
  g_return_if_fail (PH_IS_ACTIONS (self));
  self->lease_s = lease_s;
}

guint
ph_actions_get_lease (PhActions *self)
{
  g_return_val_if_fail (PH_IS_ACTIONS (self), 0);
  return self->lease_s;
}

void
ph_actions_set_retry_for_tests (PhActions *self, guint retry_first_s, guint retry_max_s)
{
  g_return_if_fail (PH_IS_ACTIONS (self));
  self->retry_first_s = retry_first_s;
  self->retry_max_s = retry_max_s;
}

static void
ph_actions_dispose (GObject *object)
{
  PhActions *self = PH_ACTIONS (object);

  self->disposed = TRUE;
  /* renewals on their way and every pending operation come back cancelled */
  g_cancellable_cancel (self->cancellable);
  g_hash_table_remove_all (self->mappings);

  G_OBJECT_CLASS (ph_actions_parent_class)->dispose (object);
}

static void
ph_actions_finalize (GObject *object)
{
  PhActions *self = PH_ACTIONS (object);

  g_hash_table_unref (self->mappings);
  g_object_unref (self->cancellable);
  g_main_context_unref (self->context);
  g_clear_pointer (&self->log, ph_change_log_unref);

  G_OBJECT_CLASS (ph_actions_parent_class)->finalize (object);
}

static void
ph_actions_class_init (PhActionsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ph_actions_dispose;
  object_class->finalize = ph_actions_finalize;

  /* The router extended the lease of port's mapping. */
  signals[SIGNAL_MAPPING_RENEWED]
      = g_signal_new ("mapping-renewed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  /* Renewing port's mapping failed (error says why, a sentence); it is tried again later. */
  signals[SIGNAL_MAPPING_LOST]
      = g_signal_new ("mapping-lost", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_ERROR);
}

static void
ph_actions_init (PhActions *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->cancellable = g_cancellable_new ();
  self->mappings = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                          (GDestroyNotify) mapping_detach);
}
