/* ph-ipv6-fix.c: turn on IPv6 for the connection that carries the default route, and undo it
 *
 * One NMClient per operation, like ph-nm.c. The steps follow GNOME Settings' connection editor
 * (panels/network/connection-editor/net-connection-editor.c): the permission result decides
 * what to offer (yes, or auth: a polkit prompt), the profile is changed in place and committed
 * to disk, and the device reapplies it, so the link stays up. NetworkManager itself asks polkit
 * again on the commit and the reapply; a prompt the user dismisses comes back as
 * PermissionDenied.
 *
 * Deadlines: NetworkManager gets timeout_ms to answer before anything is changed (client and
 * permissions). The commit and the reapply are bounded by libnm's own D-Bus timeout (25 s),
 * which also bounds a password prompt left open. The wait for the network is settle_ms.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include <glib/gi18n.h>

#include "ph-ipv6-fix.h"
#include "ph-nm-private.h"

G_DEFINE_QUARK (ph - ipv6 - fix - error - quark, ph_ipv6_fix_error)

/* ---- names ---- */

const char *
ph_ipv6_permission_to_string (PhIpv6Permission permission)
{
  switch (permission)
    {
      case PH_IPV6_PERMISSION_YES:
        return "yes";
      case PH_IPV6_PERMISSION_AUTH:
        return "auth";
      case PH_IPV6_PERMISSION_NO:
        return "no";
      case PH_IPV6_PERMISSION_UNKNOWN:
      default:
        return "unknown";
    }
}

const char *
ph_ipv6_outcome_to_string (PhIpv6Outcome outcome)
{
  switch (outcome)
    {
      case PH_IPV6_OUTCOME_CONNECTED:
        return "connected";
      case PH_IPV6_OUTCOME_ADDRESS_ONLY:
        return "address-only";
      case PH_IPV6_OUTCOME_NONE_OFFERED:
        return "none-offered";
      case PH_IPV6_OUTCOME_NOT_APPLIED:
        return "not-applied";
      case PH_IPV6_OUTCOME_PENDING:
        return "pending";
      case PH_IPV6_OUTCOME_ALREADY_ON:
        return "already-on";
      case PH_IPV6_OUTCOME_RESTORED:
      default:
        return "restored";
    }
}

gboolean
ph_ipv6_method_is_off (const char *method)
{
  return method == NULL || g_str_equal (method, NM_SETTING_IP6_CONFIG_METHOD_DISABLED)
         || g_str_equal (method, NM_SETTING_IP6_CONFIG_METHOD_IGNORE)
         || g_str_equal (method, NM_SETTING_IP6_CONFIG_METHOD_LINK_LOCAL);
}

/* ---- results ---- */

void
ph_ipv6_check_free (PhIpv6Check *check)
{
  if (check == NULL)
    return;
  g_free (check->message);
  ph_nm_facts_free (check->facts);
  g_free (check);
}

void
ph_ipv6_fix_result_free (PhIpv6FixResult *result)
{
  if (result == NULL)
    return;
  g_free (result->message);
  g_free (result->next_step);
  g_free (result->connection_id);
  g_free (result->connection_uuid);
  g_free (result->device);
  g_free (result->old_method);
  g_free (result->new_method);
  ph_change_free (result->change);
  g_free (result->change_id);
  g_free (result->warning);
  ph_nm_facts_free (result->facts);
  g_free (result);
}

static void
add_string (JsonBuilder *builder, const char *name, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

static void
add_bool (JsonBuilder *builder, const char *name, gboolean value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

static void
add_node (JsonBuilder *builder, const char *name, JsonNode *node)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_value (builder, node);
}

JsonNode *
ph_ipv6_check_to_json (const PhIpv6Check *check)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (check != NULL, NULL);

  json_builder_begin_object (builder);
  add_bool (builder, "network_manager", check->network_manager);
  add_bool (builder, "possible", check->possible);
  add_bool (builder, "needed", check->needed);
  add_string (builder, "permission", ph_ipv6_permission_to_string (check->permission));
  add_string (builder, "message", check->message);
  if (check->facts != NULL)
    add_node (builder, "facts", ph_nm_facts_to_json (check->facts));
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

JsonNode *
ph_ipv6_fix_result_to_json (const PhIpv6FixResult *result)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (result != NULL, NULL);

  json_builder_begin_object (builder);
  add_string (builder, "outcome", ph_ipv6_outcome_to_string (result->outcome));
  add_string (builder, "message", result->message);
  add_string (builder, "next_step", result->next_step);
  json_builder_set_member_name (builder, "connection");
  json_builder_begin_object (builder);
  add_string (builder, "id", result->connection_id);
  add_string (builder, "uuid", result->connection_uuid);
  json_builder_end_object (builder);
  add_string (builder, "device", result->device);
  add_string (builder, "old_method", result->old_method);
  add_string (builder, "new_method", result->new_method);
  add_bool (builder, "changed", result->changed);
  add_bool (builder, "reapplied", result->reapplied);
  add_string (builder, "change_id", result->change_id);
  if (result->change != NULL)
    add_node (builder, "change", ph_change_to_json (result->change));
  add_string (builder, "warning", result->warning);
  if (result->facts != NULL)
    add_node (builder, "facts", ph_nm_facts_to_json (result->facts));
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* ---- sentences ---- */

static char *
manual_step_message (void)
{
  return g_strdup (_ ("NetworkManager is not running on this computer, so Porthole cannot turn on "
                      "IPv6 for you. Turn it on in the tool that manages your network: set IPv6 "
                      "to “Automatic” for the connection to your router (in systemd-networkd, "
                      "IPv6AcceptRA=yes; in /etc/network/interfaces, “iface … inet6 auto”), then "
                      "check again."));
}

static char *
no_connection_message (void)
{
  return g_strdup (_ ("NetworkManager has no active connection to the internet, so there is no "
                      "connection to turn IPv6 on for. Connect to your network first, then check "
                      "again."));
}

static char *
permission_message (PhIpv6Permission permission, const char *id)
{
  switch (permission)
    {
      case PH_IPV6_PERMISSION_YES:
        return g_strdup_printf (_ ("Porthole can turn on IPv6 for “%s”: it sets IPv6 to "
                                   "“Automatic” and applies it without disconnecting."),
                                id);
      case PH_IPV6_PERMISSION_AUTH:
        return g_strdup_printf (_ ("Porthole can turn on IPv6 for “%s”. A password prompt will "
                                   "appear: changing the network settings needs an administrator’s "
                                   "approval."),
                                id);
      case PH_IPV6_PERMISSION_UNKNOWN:
      default:
        return g_strdup_printf (
            _ ("Porthole can try to turn on IPv6 for “%s”. NetworkManager did "
               "not say whether this needs a password, so a prompt may appear."),
            id);
    }
}

static char *
already_on_message (const char *id, const char *method)
{
  return g_strdup_printf (_ ("IPv6 is already on for “%s” (method “%s”): there is nothing to "
                             "change on this computer."),
                          id, method);
}

/* ---- the operation ---- */

typedef enum
{
  OP_CHECK,
  OP_ENABLE,
  OP_UNDO,
} OpKind;

typedef enum
{
  STAGE_CLIENT,      /* waiting for libnm's client */
  STAGE_PERMISSIONS, /* waiting for GetPermissions */
  STAGE_COMMIT,      /* saving the profile: a cancel waits for the answer */
  STAGE_RECORD,      /* writing the change log: likewise */
  STAGE_REAPPLY,
  STAGE_SETTLE,
} Stage;

typedef struct
{
  OpKind kind;
  Stage stage;
  guint timeout_ms;
  guint settle_ms;
  PhChangeLog *log;
  PhChange *undo; /* OP_UNDO: the change to undo */
  char *undo_uuid;
  char *undo_old_method;
  char *undo_new_method;

  GCancellable *cancellable; /* ours: libnm's work, cancelled when we return */
  GSource *caller_cancelled;
  GSource *deadline;
  GSource *settle;
  gboolean cancel_pending;
  gboolean returned;

  NMClient *client;
  NMActiveConnection *active;
  NMRemoteConnection *remote;
  NMDevice *device;
  NMConnection *backup;
  GPtrArray *watched; /* GObject: our handlers during the settle wait */
  PhIpv6Permission permission;
  PhIpv6FixResult *result;
} Op;

static void
source_clear (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
op_unwatch (Op *op, gpointer data)
{
  for (guint i = 0; i < op->watched->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (op->watched, i), data);
  g_ptr_array_set_size (op->watched, 0);
}

static void
op_free (Op *op)
{
  source_clear (&op->caller_cancelled);
  source_clear (&op->deadline);
  source_clear (&op->settle);
  g_clear_object (&op->cancellable);
  g_clear_pointer (&op->log, ph_change_log_unref);
  g_clear_pointer (&op->undo, ph_change_free);
  g_free (op->undo_uuid);
  g_free (op->undo_old_method);
  g_free (op->undo_new_method);
  g_clear_object (&op->active);
  g_clear_object (&op->remote);
  g_clear_object (&op->device);
  g_clear_object (&op->backup);
  g_clear_pointer (&op->watched, g_ptr_array_unref);
  g_clear_object (&op->client);
  g_clear_pointer (&op->result, ph_ipv6_fix_result_free);
  g_free (op);
}

/* Ends the operation once: handlers off, timers off, libnm's leftovers cancelled. */
static gboolean
op_end (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  if (op->returned)
    return FALSE;
  op->returned = TRUE;
  source_clear (&op->caller_cancelled);
  source_clear (&op->deadline);
  source_clear (&op->settle);
  op_unwatch (op, task);
  if (op->client != NULL)
    g_signal_handlers_disconnect_by_data (op->client, task);
  g_cancellable_cancel (op->cancellable);
  return TRUE;
}

/* Ending destroys the sources that may hold the last references to the task: callers from
 * signal handlers hold none, so every way out holds one of its own. */
static void
op_fail (GTask *task, GError *error)
{
  g_autoptr (GTask) hold G_GNUC_UNUSED = g_object_ref (task);

  if (!op_end (task))
    {
      g_error_free (error);
      return;
    }
  g_task_return_error (task, error);
}

static void
op_fail_literal (GTask *task, PhIpv6FixError code, char *message)
{
  op_fail (task, g_error_new_literal (PH_IPV6_FIX_ERROR, code, message));
  g_free (message);
}

static PhNmFacts *
op_facts (Op *op)
{
  PhNmFacts *facts = ph_nm_facts_new ();

  if (op->client != NULL)
    ph_nm_facts_fill (facts, op->client);
  ph_nm_facts_settle (facts);
  return facts;
}

static void
op_return_result (GTask *task, PhIpv6Outcome outcome, char *message, char *next_step)
{
  g_autoptr (GTask) hold G_GNUC_UNUSED = g_object_ref (task);
  Op *op = g_task_get_task_data (task);
  PhIpv6FixResult *result;

  if (op->returned)
    {
      g_free (message);
      g_free (next_step);
      return;
    }
  result = g_steal_pointer (&op->result);
  result->outcome = outcome;
  result->message = message;
  result->next_step = next_step;
  ph_nm_facts_free (result->facts);
  result->facts = op_facts (op);
  op_end (task);
  g_task_return_pointer (task, result, (GDestroyNotify) ph_ipv6_fix_result_free);
}

static void
op_return_check (GTask *task, PhIpv6Check *check)
{
  g_autoptr (GTask) hold G_GNUC_UNUSED = g_object_ref (task);

  if (!op_end (task))
    {
      ph_ipv6_check_free (check);
      return;
    }
  g_task_return_pointer (task, check, (GDestroyNotify) ph_ipv6_check_free);
}

static const char *
op_connection_name (Op *op)
{
  if (op->result != NULL && op->result->connection_id != NULL)
    return op->result->connection_id;
  return _ ("the connection");
}

/* NetworkManager went away: what that means depends on how far we got. */
static char *
op_gone_message (Op *op)
{
  if (op->stage < STAGE_COMMIT)
    return g_strdup (_ ("NetworkManager stopped before Porthole changed anything. Wait for it to "
                        "start again, then try again."));
  if (op->stage == STAGE_COMMIT)
    return g_strdup_printf (_ ("NetworkManager stopped while saving the IPv6 setting of “%s”, so "
                               "Porthole cannot tell whether it was saved. Once NetworkManager is "
                               "back, check again."),
                            op_connection_name (op));
  return g_strdup_printf (_ ("NetworkManager stopped after saving the IPv6 setting of “%s” and "
                             "before applying it. It takes effect when NetworkManager is back and "
                             "the connection comes up again.%s"),
                          op_connection_name (op),
                          op->log != NULL && op->kind == OP_ENABLE
                              ? _ (" Porthole noted the change, so it can be undone.")
                              : "");
}

static void
op_gone (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  op_fail_literal (task, PH_IPV6_FIX_ERROR_NETWORK_MANAGER_GONE, op_gone_message (op));
}

static void
op_nm_running_changed (NMClient *client, GParamSpec *pspec, GTask *task)
{
  if (!nm_client_get_nm_running (client))
    op_gone (task);
}

static void
op_no_network_manager (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  if (op->kind == OP_CHECK)
    {
      PhIpv6Check *check = g_new0 (PhIpv6Check, 1);

      check->permission = PH_IPV6_PERMISSION_NO;
      check->message = manual_step_message ();
      check->facts = op_facts (op);
      op_return_check (task, check);
      return;
    }
  op_fail_literal (task, PH_IPV6_FIX_ERROR_NO_NETWORK_MANAGER, manual_step_message ());
}

/* ---- permissions ---- */

static PhIpv6Permission
permission_from_nm (NMClient *client, NMClientPermission permission)
{
  switch (nm_client_get_permission_result (client, permission))
    {
      case NM_CLIENT_PERMISSION_RESULT_YES:
        return PH_IPV6_PERMISSION_YES;
      case NM_CLIENT_PERMISSION_RESULT_AUTH:
        return PH_IPV6_PERMISSION_AUTH;
      case NM_CLIENT_PERMISSION_RESULT_NO:
        return PH_IPV6_PERMISSION_NO;
      default:
        return PH_IPV6_PERMISSION_UNKNOWN;
    }
}

/* The worse of two answers: no, then a prompt, then not knowing, then yes. */
static PhIpv6Permission
permission_worse (PhIpv6Permission a, PhIpv6Permission b)
{
  static const int rank[] = {
    [PH_IPV6_PERMISSION_YES] = 0,
    [PH_IPV6_PERMISSION_UNKNOWN] = 1,
    [PH_IPV6_PERMISSION_AUTH] = 2,
    [PH_IPV6_PERMISSION_NO] = 3,
  };

  return rank[a] >= rank[b] ? a : b;
}

/* May the profile be changed and reapplied? NO comes with the reason in error. The commit needs
 * settings.modify.own for a profile private to its users, settings.modify.system otherwise; the
 * reapply needs network-control. */
static PhIpv6Permission
op_assess (Op *op, const char *id, GError **error)
{
  NMSettingConnection *s_con;
  PhIpv6Permission settings, control;

  if (op->remote == NULL)
    {
      g_set_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_NOT_EDITABLE,
                   _ ("The connection “%s” belongs to another user, so Porthole cannot change it. "
                      "Ask that user or an administrator to set its IPv6 method to "
                      "“Automatic”."),
                   id);
      return PH_IPV6_PERMISSION_NO;
    }
  s_con = nm_connection_get_setting_connection (NM_CONNECTION (op->remote));
  if ((nm_remote_connection_get_flags (op->remote) & NM_SETTINGS_CONNECTION_FLAG_EXTERNAL)
      || (s_con != NULL && nm_setting_connection_get_read_only (s_con)))
    {
      g_set_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_NOT_EDITABLE,
                   _ ("The connection “%s” is not managed by NetworkManager (it was set up outside "
                      "it), so Porthole cannot change it. Turn on IPv6 where that connection is "
                      "configured."),
                   id);
      return PH_IPV6_PERMISSION_NO;
    }

  settings = permission_from_nm (
      op->client, s_con != NULL && nm_setting_connection_get_num_permissions (s_con) > 0
                      ? NM_CLIENT_PERMISSION_SETTINGS_MODIFY_OWN
                      : NM_CLIENT_PERMISSION_SETTINGS_MODIFY_SYSTEM);
  control = permission_from_nm (op->client, NM_CLIENT_PERMISSION_NETWORK_CONTROL);
  if (permission_worse (settings, control) == PH_IPV6_PERMISSION_NO)
    {
      g_set_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_NOT_AUTHORIZED,
                   _ ("Your account may not change the network settings of this computer "
                      "(NetworkManager’s policy says no), so Porthole cannot change “%s”. Ask an "
                      "administrator to set its IPv6 method to “Automatic”."),
                   id);
      return PH_IPV6_PERMISSION_NO;
    }
  return permission_worse (settings, control);
}

/* ---- undo, commit, record, reapply, settle ---- */

static void
op_reapply (GTask *task);

typedef struct
{
  PhChangeLog *log;
  PhChange *change;
  gboolean remove;
} LogJob;

static void
log_job_free (LogJob *job)
{
  ph_change_log_unref (job->log);
  ph_change_free (job->change);
  g_free (job);
}

/* In a worker thread: the log is a file written with fsync. Returns the entry's id (recording)
 * or "" (removing). */
static void
log_job_run (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  LogJob *job = data;
  g_autoptr (GError) error = NULL;
  char *id;

  if (job->remove)
    {
      if (!ph_change_log_remove (job->log, job->change->id, &error)
          && !g_error_matches (error, PH_CHANGE_LOG_ERROR, PH_CHANGE_LOG_ERROR_NOT_FOUND))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      g_task_return_pointer (task, g_strdup (""), g_free);
      return;
    }
  id = ph_change_log_record (job->log, job->change, &error);
  /* a damaged log was set aside (and reported by the log): record in the fresh one */
  if (id == NULL && g_error_matches (error, PH_CHANGE_LOG_ERROR, PH_CHANGE_LOG_ERROR_CORRUPT))
    {
      g_clear_error (&error);
      id = ph_change_log_record (job->log, job->change, &error);
    }
  if (id == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, id, g_free);
}

static void
op_logged (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = g_task_propagate_pointer (G_TASK (res), &error);
  PhIpv6FixResult *result = op->result;

  if (op->returned)
    return;
  if (id == NULL && op->kind == OP_ENABLE)
    result->warning = g_strdup_printf (_ ("Porthole could not note this change in its change log "
                                          "(%s). To undo it later: %s"),
                                       error->message, result->change->undo_hint);
  else if (id == NULL)
    result->warning = g_strdup_printf (_ ("Porthole could not remove its note of this change from "
                                          "its change log (%s)."),
                                       error->message);
  else if (op->kind == OP_ENABLE)
    {
      result->change_id = g_strdup (id);
      g_free (result->change->id);
      result->change->id = g_steal_pointer (&id);
    }
  op_reapply (task);
}

static PhChange *
enable_change_new (Op *op)
{
  PhIpv6FixResult *result = op->result;
  g_autoptr (JsonObject) undo = json_object_new ();
  g_autofree char *summary = NULL;
  g_autofree char *hint = NULL;

  json_object_set_string_member (undo, "connection_uuid", result->connection_uuid);
  json_object_set_string_member (undo, "connection_id", result->connection_id);
  json_object_set_string_member (undo, "old_method", result->old_method);
  json_object_set_string_member (undo, "new_method", result->new_method);
  summary = g_strdup_printf (_ ("Turned on IPv6 for the connection “%s” (IPv6 method “%s” → "
                                "“%s”)."),
                             result->connection_id, result->old_method, result->new_method);
  hint = g_strdup_printf (_ ("In your network settings, open the connection “%s” and set IPv6 "
                             "back to “%s” (or run: nmcli connection modify %s ipv6.method %s)."),
                          result->connection_id, result->old_method, result->connection_uuid,
                          result->old_method);
  return ph_change_new (PH_IPV6_FIX_CHANGE_KIND, result->connection_uuid, summary, hint, undo);
}

static void
op_record (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  g_autoptr (GTask) job_task = NULL;
  LogJob *job;

  op->stage = STAGE_RECORD;
  if (op->kind == OP_ENABLE)
    op->result->change = enable_change_new (op);
  if (op->log == NULL || (op->kind == OP_UNDO && op->undo->id == NULL))
    {
      op_reapply (task);
      return;
    }
  job = g_new0 (LogJob, 1);
  job->log = ph_change_log_ref (op->log);
  job->change = ph_change_copy (op->kind == OP_ENABLE ? op->result->change : op->undo);
  job->remove = op->kind == OP_UNDO;
  job_task = g_task_new (NULL, NULL, op_logged, g_object_ref (task));
  g_task_set_task_data (job_task, job, (GDestroyNotify) log_job_free);
  g_task_run_in_thread (job_task, log_job_run);
}

static gboolean
error_is_permission_denied (const GError *error)
{
  return g_error_matches (error, NM_SETTINGS_ERROR, NM_SETTINGS_ERROR_PERMISSION_DENIED)
         || g_error_matches (error, NM_MANAGER_ERROR, NM_MANAGER_ERROR_PERMISSION_DENIED)
         || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED)
         || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_AUTH_FAILED);
}

static void
op_committed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  gboolean saved;

  saved = nm_remote_connection_commit_changes_finish (NM_REMOTE_CONNECTION (source), res, &error);
  if (!saved)
    /* libnm's copy of the profile goes back to what NetworkManager still has */
    nm_connection_replace_settings_from_connection (NM_CONNECTION (op->remote), op->backup);
  if (op->returned)
    return;
  if (saved)
    {
      op->result->changed = TRUE;
      op_record (task);
      return;
    }
  if (ph_nm_error_is_gone (error))
    op_gone (task);
  else if (error_is_permission_denied (error) && op->permission == PH_IPV6_PERMISSION_YES)
    op_fail_literal (task, PH_IPV6_FIX_ERROR_NOT_AUTHORIZED,
                     g_strdup_printf (_ ("NetworkManager did not allow the change to “%s”: your "
                                         "account may not change network settings. Nothing was "
                                         "changed."),
                                      op_connection_name (op)));
  else if (error_is_permission_denied (error))
    /* "auth" (or not known in time): polkit asked, and the answer was no */
    op_fail_literal (task, PH_IPV6_FIX_ERROR_NOT_CONFIRMED,
                     g_strdup_printf (_ ("NetworkManager did not allow the change to “%s”: the "
                                         "password prompt was dismissed or the password was not "
                                         "accepted. Nothing was changed."),
                                      op_connection_name (op)));
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    op_fail_literal (task, PH_IPV6_FIX_ERROR_TIMED_OUT,
                     g_strdup_printf (_ ("NetworkManager did not answer in time while saving the "
                                         "IPv6 setting of “%s” (a password prompt left open too "
                                         "long?). Check again: it may or may not have been "
                                         "saved."),
                                      op_connection_name (op)));
  else
    op_fail_literal (task, PH_IPV6_FIX_ERROR_FAILED,
                     g_strdup_printf (_ ("NetworkManager refused to change the IPv6 setting of "
                                         "“%s”. Nothing was changed. (%s)"),
                                      op_connection_name (op), error->message));
}

/* The profile is changed in place, as GNOME Settings does, with a copy to go back to if the
 * commit fails. Not cancelled midway: NetworkManager may have saved it whatever we do. */
static void
op_commit (GTask *task, const char *method)
{
  Op *op = g_task_get_task_data (task);
  NMConnection *connection = NM_CONNECTION (op->remote);
  NMSettingIPConfig *s_ip6;

  op->stage = STAGE_COMMIT;
  op->backup = nm_simple_connection_new_clone (connection);
  s_ip6 = nm_connection_get_setting_ip6_config (connection);
  if (s_ip6 == NULL)
    {
      s_ip6 = NM_SETTING_IP_CONFIG (nm_setting_ip6_config_new ());
      nm_connection_add_setting (connection, NM_SETTING (s_ip6));
    }
  g_object_set (s_ip6, NM_SETTING_IP_CONFIG_METHOD, method, NULL);
  nm_remote_connection_commit_changes_async (op->remote, TRUE, NULL, op_committed,
                                             g_object_ref (task));
}

/* Whether the connection has a global address and a default route; the first global address in
 * *address (NULL when none). */
static gboolean
op_ipv6_ready (Op *op, char **address)
{
  g_autoptr (PhNmFacts) facts = ph_nm_facts_new ();

  *address = NULL;
  ph_nm_facts_fill_active (facts, op->client, op->active);
  for (guint i = 0; *address == NULL && i < facts->ipv6_addresses->len; i++)
    {
      PhNmAddress *entry = g_ptr_array_index (facts->ipv6_addresses, i);

      if (entry->kind == PH_NM_IPV6_KIND_GLOBAL || entry->kind == PH_NM_IPV6_KIND_TEMPORARY)
        *address = g_strdup (entry->address);
    }
  return *address != NULL && facts->ipv6_default_route;
}

static void
op_return_enabled (GTask *task, gboolean waited_out)
{
  Op *op = g_task_get_task_data (task);
  const char *id = op_connection_name (op);
  g_autofree char *address = NULL;

  if (op_ipv6_ready (op, &address))
    {
      op_return_result (
          task, PH_IPV6_OUTCOME_CONNECTED,
          g_strdup_printf (_ ("IPv6 is on for “%s”: this computer now has the global address %s "
                              "and a route to the IPv6 internet."),
                           id, address),
          g_strdup (_ ("Check again to see whether your node is reachable over IPv6.")));
    }
  else if (!waited_out)
    op_return_result (task, PH_IPV6_OUTCOME_PENDING,
                      g_strdup_printf (_ ("IPv6 is set to “Automatic” for “%s”. Porthole stopped "
                                          "waiting before the network answered."),
                                       id),
                      g_strdup (_ ("Check again in a moment.")));
  else if (address != NULL)
    {
      op_return_result (
          task, PH_IPV6_OUTCOME_ADDRESS_ONLY,
          g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                        "IPv6 is on for “%s” and this computer got the global "
                                        "address %s, but no route to the IPv6 internet appeared "
                                        "within %u second.",
                                        "IPv6 is on for “%s” and this computer got the global "
                                        "address %s, but no route to the IPv6 internet appeared "
                                        "within %u seconds.",
                                        op->settle_ms / 1000),
                           id, address, op->settle_ms / 1000),
          g_strdup (_ ("If none comes within a minute, the router does not announce a route: "
                       "look for an IPv6 setting in its admin page, or ask your internet "
                       "provider.")));
    }
  else
    op_return_result (
        task, PH_IPV6_OUTCOME_NONE_OFFERED,
        g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                      "IPv6 is on for “%s”, but the network did not offer this "
                                      "computer a global IPv6 address within %u second.",
                                      "IPv6 is on for “%s”, but the network did not offer this "
                                      "computer a global IPv6 address within %u seconds.",
                                      op->settle_ms / 1000),
                         id, op->settle_ms / 1000),
        g_strdup (_ ("Your router or your internet provider is the next step: turn on IPv6 in "
                     "the router’s admin page (often under “IPv6” or “WAN”), or ask your "
                     "provider whether your line has IPv6.")));
}

static void
op_settle_check (GTask *task);

static void
op_settle_hook (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  NMIPConfig *config = ph_nm_ip_config (op->active, AF_INET6);
  gpointer objects[] = { op->active, op->device, config };

  op_unwatch (op, task);
  for (guint i = 0; i < G_N_ELEMENTS (objects); i++)
    {
      if (objects[i] == NULL)
        continue;
      g_signal_connect_swapped (objects[i], "notify", G_CALLBACK (op_settle_check), task);
      g_ptr_array_add (op->watched, g_object_ref (objects[i]));
    }
}

static void
op_settle_check (GTask *task)
{
  g_autoptr (GTask) hold G_GNUC_UNUSED = g_object_ref (task);
  Op *op = g_task_get_task_data (task);
  g_autofree char *address = NULL;

  if (op->returned)
    return;
  if (op_ipv6_ready (op, &address))
    {
      op_return_enabled (task, TRUE);
      return;
    }
  /* a reapply may bring a new IP6Config object: follow it */
  op_settle_hook (task);
}

static gboolean
op_settle_passed (gpointer user_data)
{
  op_return_enabled (G_TASK (user_data), TRUE);
  return G_SOURCE_REMOVE;
}

static void
op_settle (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  op->stage = STAGE_SETTLE;
  op->settle = g_timeout_source_new (op->settle_ms);
  g_task_attach_source (task, op->settle, op_settle_passed);
  op_settle_check (task);
}

static void
op_return_restored (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  const char *id = op_connection_name (op);

  op_return_result (
      task, PH_IPV6_OUTCOME_RESTORED,
      g_strdup_printf (_ ("IPv6 for “%s” is back to “%s”, as it was before Porthole "
                          "changed it."),
                       id, op->result->new_method),
      op->result->reapplied || op->device == NULL
          ? NULL
          : g_strdup_printf (_ ("It takes full effect the next time “%s” connects."), id));
}

static void
op_return_not_applied (GTask *task, const char *detail)
{
  Op *op = g_task_get_task_data (task);
  const char *id = op_connection_name (op);

  if (op->kind == OP_UNDO)
    {
      op_return_restored (task);
      return;
    }
  op_return_result (
      task, PH_IPV6_OUTCOME_NOT_APPLIED,
      detail != NULL
          ? g_strdup_printf (_ ("IPv6 is set to “Automatic” for “%s”, but NetworkManager could not "
                                "apply it without reconnecting. (%s)"),
                             id, detail)
          : g_strdup_printf (_ ("IPv6 is set to “Automatic” for “%s”; it applies the next time "
                                "the connection comes up."),
                             id),
      g_strdup_printf (_ ("Disconnect and reconnect “%s” (or restart the computer), then check "
                          "again."),
                       id));
}

/* The technical detail for the sentence: NetworkManager's own first line, or what an unknown
 * method means. */
static char *
reapply_error_detail (const GError *error)
{
  const char *end;

  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
    return g_strdup (_ ("this NetworkManager cannot apply changes to a running connection"));
  end = strchr (error->message, '\n');
  return g_utf8_make_valid (
      error->message,
      MIN (end != NULL ? end - error->message : (gssize) strlen (error->message), 200));
}

static void
op_reapplied (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  gboolean applied = nm_device_reapply_finish (NM_DEVICE (source), res, &error);

  if (op->returned)
    return;
  if (!applied && ph_nm_error_is_gone (error))
    {
      op_gone (task);
      return;
    }
  if (!applied)
    {
      g_autofree char *detail = reapply_error_detail (error);

      g_debug ("NetworkManager: reapply failed (%s %d): %s", g_quark_to_string (error->domain),
               error->code, detail);
      op_return_not_applied (task, detail);
      return;
    }
  op->result->reapplied = TRUE;
  if (op->kind == OP_UNDO)
    op_return_restored (task);
  else
    op_settle (task);
}

static void
op_reapply (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  if (op->cancel_pending)
    {
      if (op->kind == OP_UNDO)
        op_return_restored (task);
      else
        op_return_enabled (task, FALSE);
      return;
    }
  op->stage = STAGE_REAPPLY;
  /* an inactive profile (undo) applies at its next activation */
  if (op->device == NULL || op->active == NULL)
    {
      op_return_not_applied (task, NULL);
      return;
    }
  nm_device_reapply_async (op->device, NM_CONNECTION (op->remote), 0, 0, op->cancellable,
                           op_reapplied, g_object_ref (task));
}

/* ---- what each kind does once NetworkManager's permissions are known ---- */

static void
op_set_target (Op *op, NMActiveConnection *active, NMRemoteConnection *remote)
{
  NMDevice *device = active != NULL ? ph_nm_connection_device (active) : NULL;

  g_set_object (&op->active, active);
  g_set_object (&op->remote, remote);
  g_set_object (&op->device, device);
  if (op->result == NULL)
    return;
  g_free (op->result->connection_id);
  g_free (op->result->connection_uuid);
  g_free (op->result->device);
  op->result->connection_id
      = g_strdup (active != NULL ? nm_active_connection_get_id (active)
                                 : nm_connection_get_id (NM_CONNECTION (remote)));
  op->result->connection_uuid
      = g_strdup (active != NULL ? nm_active_connection_get_uuid (active)
                                 : nm_connection_get_uuid (NM_CONNECTION (remote)));
  op->result->device = device != NULL ? g_strdup (ph_nm_device_name (device)) : NULL;
}

static const char *
remote_ipv6_method (NMRemoteConnection *remote)
{
  NMSettingIPConfig *s_ip6;

  if (remote == NULL)
    return NULL;
  s_ip6 = nm_connection_get_setting_ip6_config (NM_CONNECTION (remote));
  return s_ip6 != NULL ? nm_setting_ip_config_get_method (s_ip6) : NULL;
}

static void
op_do_check (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  g_autoptr (PhIpv6Check) check = g_new0 (PhIpv6Check, 1);
  g_autoptr (GError) error = NULL;
  NMActiveConnection *active = ph_nm_pick_connection (op->client);
  const char *id;

  check->network_manager = TRUE;
  check->facts = op_facts (op);
  if (active == NULL)
    {
      check->permission = PH_IPV6_PERMISSION_NO;
      check->message = no_connection_message ();
      op_return_check (task, g_steal_pointer (&check));
      return;
    }
  op_set_target (op, active, nm_active_connection_get_connection (active));
  id = nm_active_connection_get_id (active);
  check->needed = ph_ipv6_method_is_off (check->facts->ipv6_method);
  check->permission = op_assess (op, id, &error);
  check->possible = check->permission != PH_IPV6_PERMISSION_NO && check->needed;
  if (error != NULL)
    check->message = g_strdup (error->message);
  else if (!check->needed)
    check->message = already_on_message (id, check->facts->ipv6_method);
  else
    check->message = permission_message (check->permission, id);
  op_return_check (task, g_steal_pointer (&check));
}

static void
op_do_enable (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  NMActiveConnection *active = ph_nm_pick_connection (op->client);
  GError *error = NULL;
  const char *method;

  if (active == NULL)
    {
      op_fail_literal (task, PH_IPV6_FIX_ERROR_NO_CONNECTION, no_connection_message ());
      return;
    }
  op_set_target (op, active, nm_active_connection_get_connection (active));
  op->permission = op_assess (op, op->result->connection_id, &error);
  if (error != NULL)
    {
      op_fail (task, error);
      return;
    }
  method = remote_ipv6_method (op->remote);
  op->result->old_method = g_strdup (method != NULL ? method : "");
  if (!ph_ipv6_method_is_off (method))
    {
      op->result->new_method = g_strdup (method);
      op_return_result (task, PH_IPV6_OUTCOME_ALREADY_ON,
                        already_on_message (op->result->connection_id, method), NULL);
      return;
    }
  op->result->new_method = g_strdup (NM_SETTING_IP6_CONFIG_METHOD_AUTO);
  op_commit (task, NM_SETTING_IP6_CONFIG_METHOD_AUTO);
}

static NMActiveConnection *
active_with_uuid (NMClient *client, const char *uuid)
{
  const GPtrArray *actives = nm_client_get_active_connections (client);

  for (guint i = 0; actives != NULL && i < actives->len; i++)
    if (g_strcmp0 (nm_active_connection_get_uuid (g_ptr_array_index (actives, i)), uuid) == 0)
      return g_ptr_array_index (actives, i);
  return NULL;
}

static void
op_do_undo (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  NMRemoteConnection *remote = nm_client_get_connection_by_uuid (op->client, op->undo_uuid);
  GError *error = NULL;
  const char *method;

  if (remote == NULL)
    {
      op_fail_literal (
          task, PH_IPV6_FIX_ERROR_BAD_CHANGE,
          g_strdup_printf (_ ("The connection Porthole changed (%s) no longer exists, so there is "
                              "nothing to undo. %s"),
                           op->undo_uuid, op->undo->undo_hint ? op->undo->undo_hint : ""));
      return;
    }
  op_set_target (op, active_with_uuid (op->client, op->undo_uuid), remote);
  method = remote_ipv6_method (remote);
  if (g_strcmp0 (method, op->undo_new_method) != 0)
    {
      op_fail_literal (task, PH_IPV6_FIX_ERROR_CHANGED_SINCE,
                       g_strdup_printf (_ ("The IPv6 setting of “%s” was changed after Porthole "
                                           "turned it on (it is now “%s”), so Porthole leaves it "
                                           "as it is."),
                                        op->result->connection_id, method ? method : "?"));
      return;
    }
  op->permission = op_assess (op, op->result->connection_id, &error);
  if (error != NULL)
    {
      op_fail (task, error);
      return;
    }
  op->result->old_method = g_strdup (method);
  op->result->new_method = g_strdup (op->undo_old_method);
  op_commit (task, op->undo_old_method);
}

static void
op_permissions_changed (GTask *task);

static void
op_permissions_known (GTask *task)
{
  g_autoptr (GTask) hold G_GNUC_UNUSED = g_object_ref (task);
  Op *op = g_task_get_task_data (task);

  source_clear (&op->deadline);
  g_signal_handlers_disconnect_by_func (op->client, op_permissions_changed, task);
  switch (op->kind)
    {
      case OP_CHECK:
        op_do_check (task);
        break;
      case OP_ENABLE:
        op_do_enable (task);
        break;
      case OP_UNDO:
      default:
        op_do_undo (task);
        break;
    }
}

static void
op_permissions_changed (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  if (!op->returned && op->stage == STAGE_PERMISSIONS
      && nm_client_get_permissions_state (op->client) != NM_TERNARY_DEFAULT)
    op_permissions_known (task);
}

static void
op_client_ready (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  NMClient *client = nm_client_new_finish (res, &error);

  if (op->returned)
    {
      g_clear_object (&client);
      return;
    }
  if (client == NULL)
    {
      /* No system bus (a container, a minimal session): no NetworkManager either. */
      g_debug ("NetworkManager: no client: %s", error->message);
      op_no_network_manager (task);
      return;
    }
  op->client = client;
  if (!nm_client_get_nm_running (client))
    {
      op_no_network_manager (task);
      return;
    }
  g_signal_connect (client, "notify::" NM_CLIENT_NM_RUNNING, G_CALLBACK (op_nm_running_changed),
                    task);
  op->stage = STAGE_PERMISSIONS;
  if (nm_client_get_permissions_state (client) != NM_TERNARY_DEFAULT)
    {
      op_permissions_known (task);
      return;
    }
  g_signal_connect_swapped (client, "notify::" NM_CLIENT_PERMISSIONS_STATE,
                            G_CALLBACK (op_permissions_changed), task);
}

static gboolean
op_deadline_passed (gpointer user_data)
{
  GTask *task = user_data;
  Op *op = g_task_get_task_data (task);

  g_clear_pointer (&op->deadline, g_source_unref);
  /* Without permissions we can still go on: NetworkManager asks polkit itself. */
  if (op->stage == STAGE_PERMISSIONS)
    op_permissions_known (task);
  else
    op_fail_literal (task, PH_IPV6_FIX_ERROR_TIMED_OUT,
                     g_strdup_printf (_ ("NetworkManager did not answer within %.1f seconds: it "
                                         "may be busy or stuck. Try again in a moment."),
                                      op->timeout_ms / 1000.0));
  return G_SOURCE_REMOVE;
}

/* A GCancellableSource callback: runs on the task's context whichever thread cancelled. */
static gboolean
op_caller_cancelled (GCancellable *caller, gpointer user_data)
{
  GTask *task = user_data;
  Op *op = g_task_get_task_data (task);

  g_clear_pointer (&op->caller_cancelled, g_source_unref);
  switch (op->stage)
    {
      case STAGE_CLIENT:
      case STAGE_PERMISSIONS:
        op_fail (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                            _ ("Cancelled before anything was changed.")));
        break;
      case STAGE_COMMIT:
      case STAGE_RECORD:
        op->cancel_pending = TRUE;
        break;
      case STAGE_REAPPLY:
      case STAGE_SETTLE:
      default:
        op->cancel_pending = TRUE;
        op_reapply (task);
        break;
    }
  return G_SOURCE_REMOVE;
}

static GTask *
op_start (OpKind kind, const PhIpv6FixOptions *options, guint timeout_ms, GCancellable *cancellable,
          GAsyncReadyCallback callback, gpointer user_data, gpointer source_tag)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Op *op = g_new0 (Op, 1);

  g_task_set_source_tag (task, source_tag);
  g_task_set_name (task, "[porthole] IPv6 through NetworkManager");
  /* our answers say what happened: GTask must not turn a late result into CANCELLED */
  g_task_set_check_cancellable (task, FALSE);
  op->kind = kind;
  op->timeout_ms = timeout_ms ? timeout_ms : PH_NM_DEFAULT_TIMEOUT_MS;
  op->settle_ms
      = options && options->settle_ms ? options->settle_ms : PH_IPV6_FIX_DEFAULT_SETTLE_MS;
  op->log = options && options->log ? ph_change_log_ref (options->log) : NULL;
  op->cancellable = g_cancellable_new ();
  op->watched = g_ptr_array_new_with_free_func (g_object_unref);
  op->permission = PH_IPV6_PERMISSION_UNKNOWN;
  if (kind != OP_CHECK)
    op->result = g_new0 (PhIpv6FixResult, 1);
  g_task_set_task_data (task, op, (GDestroyNotify) op_free);
  return task;
}

static void
op_run (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  GCancellable *caller = g_task_get_cancellable (task);

  if (caller != NULL)
    {
      op->caller_cancelled = g_cancellable_source_new (caller);
      g_task_attach_source (task, op->caller_cancelled, G_SOURCE_FUNC (op_caller_cancelled));
    }
  op->deadline = g_timeout_source_new (op->timeout_ms);
  g_task_attach_source (task, op->deadline, op_deadline_passed);
  nm_client_new_async (op->cancellable, op_client_ready, g_object_ref (task));
}

/* ---- public ---- */

void
ph_ipv6_fix_check_async (guint timeout_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = op_start (OP_CHECK, NULL, timeout_ms, cancellable, callback, user_data,
                   ph_ipv6_fix_check_async);
  op_run (task);
}

PhIpv6Check *
ph_ipv6_fix_check_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ph_ipv6_fix_check_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
ph_ipv6_fix_enable_async (const PhIpv6FixOptions *options, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = op_start (OP_ENABLE, options, options ? options->timeout_ms : 0, cancellable, callback,
                   user_data, ph_ipv6_fix_enable_async);
  op_run (task);
}

PhIpv6FixResult *
ph_ipv6_fix_enable_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ph_ipv6_fix_enable_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The change as ph_ipv6_fix_enable_async () records it; NULL (with the reason) otherwise. */
static gboolean
undo_parse (Op *op, const PhChange *change, GError **error)
{
  JsonObject *undo = change->undo;
  const char *uuid, *old_method, *new_method;

  if (g_strcmp0 (change->kind, PH_IPV6_FIX_CHANGE_KIND) != 0 || undo == NULL)
    goto bad;
  uuid = json_object_get_string_member_with_default (undo, "connection_uuid", NULL);
  old_method = json_object_get_string_member_with_default (undo, "old_method", NULL);
  new_method = json_object_get_string_member_with_default (undo, "new_method", NULL);
  if (uuid == NULL || !g_uuid_string_is_valid (uuid) || old_method == NULL || new_method == NULL
      || !ph_ipv6_method_is_off (old_method) || *old_method == '\0')
    goto bad;
  op->undo_uuid = g_strdup (uuid);
  op->undo_old_method = g_strdup (old_method);
  op->undo_new_method = g_strdup (new_method);
  op->result->connection_id
      = g_strdup (json_object_get_string_member_with_default (undo, "connection_id", uuid));
  return TRUE;

bad:
  g_set_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_BAD_CHANGE,
               _ ("Porthole’s note of this change is not one of its IPv6 changes, or is "
                  "incomplete, so it cannot undo it. %s"),
               change->undo_hint ? change->undo_hint : "");
  return FALSE;
}

void
ph_ipv6_fix_undo_async (const PhChange *change, const PhIpv6FixOptions *options,
                        GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GError *error = NULL;
  Op *op;

  g_return_if_fail (change != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = op_start (OP_UNDO, options, options ? options->timeout_ms : 0, cancellable, callback,
                   user_data, ph_ipv6_fix_undo_async);
  op = g_task_get_task_data (task);
  op->undo = ph_change_copy (change);
  if (!undo_parse (op, change, &error))
    {
      op_fail (task, error);
      return;
    }
  op_run (task);
}

PhIpv6FixResult *
ph_ipv6_fix_undo_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ph_ipv6_fix_undo_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
