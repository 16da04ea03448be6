/* ph-check.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ph-check.h"

typedef struct
{
  PhDiagnosis *diagnosis;
  gint64 started_us;
  guint pending;
} CheckData;

static void
check_data_free (CheckData *data)
{
  g_clear_object (&data->diagnosis);
  g_free (data);
}

void
ph_check_options_clear (PhCheckOptions *options)
{
  g_clear_pointer (&options->peers, g_strfreev);
}

static void
check_step_done (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  if (--data->pending > 0)
    return;

  /* The probe is not built yet: say so rather than guess. */
  ph_diagnosis_set_family (data->diagnosis, PH_FAMILY_IPV4, PH_VERDICT_UNKNOWN, "not probed");
  ph_diagnosis_set_family (data->diagnosis, PH_FAMILY_IPV6, PH_VERDICT_UNKNOWN, "not probed");
  ph_diagnosis_set_elapsed_ms (data->diagnosis,
                               (g_get_monotonic_time () - data->started_us) / 1000);

  if (g_task_return_error_if_cancelled (task))
    return;
  g_task_return_pointer (task, g_object_ref (data->diagnosis), g_object_unref);
}

static void
read_lan_in_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  PhLanFacts *facts = ph_lan_facts_read (&error);

  if (facts)
    g_task_return_pointer (task, facts, (GDestroyNotify) ph_lan_facts_free);
  else
    g_task_return_error (task, error);
}

static void
lan_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  PhLanFacts *facts = g_task_propagate_pointer (G_TASK (result), &error);

  if (facts)
    ph_diagnosis_take_lan (data->diagnosis, facts);
  else
    ph_diagnosis_set_lan_error (data->diagnosis, error);
  check_step_done (task);
}

static void
nm_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  PhNmFacts *facts = ph_nm_facts_read_finish (result, &error);

  if (facts)
    ph_diagnosis_take_nm (data->diagnosis, facts);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("NetworkManager facts: %s", error->message);
  check_step_done (task);
}

void
ph_check_run_async (const PhCheckOptions *options, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GTask) lan_task = NULL;
  CheckData *data;

  g_return_if_fail (options != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ph_check_run_async);
  data = g_new0 (CheckData, 1);
  data->diagnosis = ph_diagnosis_new ();
  data->started_us = g_get_monotonic_time ();
  data->pending = 2;
  g_task_set_task_data (task, data, (GDestroyNotify) check_data_free);

  lan_task = g_task_new (NULL, cancellable, lan_read_cb, g_object_ref (task));
  g_task_run_in_thread (lan_task, read_lan_in_thread);

  ph_nm_facts_read_async (cancellable, nm_read_cb, g_object_ref (task));
}

PhDiagnosis *
ph_check_run_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
