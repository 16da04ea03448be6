/* ph-autostart.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "ph-autostart.h"

#define PORTAL_BUS_NAME "org.freedesktop.portal.Desktop"
#define PORTAL_OBJECT_PATH "/org/freedesktop/portal/desktop"
#define PORTAL_BACKGROUND_IFACE "org.freedesktop.portal.Background"
#define PORTAL_REQUEST_IFACE "org.freedesktop.portal.Request"

gboolean
ph_autostart_in_flatpak (void)
{
  return g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS);
}

char *
ph_autostart_dup_desktop_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "autostart", APP_ID ".desktop", NULL);
}

gboolean
ph_autostart_write_desktop_file (gboolean enabled, GError **error)
{
  g_autofree char *path = ph_autostart_dup_desktop_path ();
  g_autofree char *dir = NULL;
  g_autofree char *data = NULL;
  g_autoptr (GKeyFile) key_file = NULL;

  if (!enabled)
    {
      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _ ("Could not remove “%s”: %s"), path, g_strerror (saved_errno));
          return FALSE;
        }
      return TRUE;
    }

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _ ("Could not create “%s”: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }

  /* Desktop Entry Specification 1.5 keys; the session starts it like any application, and
   * X-GNOME-Autostart-enabled is what GNOME's own "Startup Applications" toggles. */
  key_file = g_key_file_new ();
  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_TYPE,
                         G_KEY_FILE_DESKTOP_TYPE_APPLICATION);
  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_NAME,
                         "Porthole");
  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_COMMENT,
                         _ ("Tell when your IPFS node stops being reachable"));
  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_ICON, APP_ID);
  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_EXEC,
                         PH_AUTOSTART_EXEC);
  g_key_file_set_boolean (key_file, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_TERMINAL,
                          FALSE);
  /* an autostart entry, not a second launcher in the application grid */
  g_key_file_set_boolean (key_file, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_NO_DISPLAY,
                          TRUE);
  g_key_file_set_boolean (key_file, G_KEY_FILE_DESKTOP_GROUP, "X-GNOME-Autostart-enabled", TRUE);
  data = g_key_file_to_data (key_file, NULL, NULL);
  return g_file_set_contents (path, data, -1, error);
}

/* The Background portal:
 * https://flatpak.github.io/xdg-desktop-portal/docs/doc-org.freedesktop.portal.Background.html and
 * the Request pattern: subscribe to Response on the handle we will get *before* calling, so the
 * answer cannot be missed (doc-org.freedesktop.portal.Request.html). */
typedef struct
{
  GDBusConnection *bus;
  char *handle;
  guint response_id;
  gboolean autostart;
} PortalRequest;

static void
portal_request_free (PortalRequest *request)
{
  if (request->response_id)
    g_dbus_connection_signal_unsubscribe (request->bus, request->response_id);
  g_clear_object (&request->bus);
  g_free (request->handle);
  g_free (request);
}

static void
response_cb (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
             const char *signal, GVariant *parameters, gpointer user_data)
{
  GTask *task = user_data;
  PortalRequest *request = g_task_get_task_data (task);
  g_autoptr (GVariant) results = NULL;
  guint32 response = 2;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ua{sv})")))
    return;
  g_variant_get (parameters, "(u@a{sv})", &response, &results);
  g_dbus_connection_signal_unsubscribe (request->bus, request->response_id);
  request->response_id = 0;

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  switch (response)
    {
      case 0:
        if (!g_variant_lookup (results, "autostart", "b", &request->autostart))
          request->autostart = FALSE;
        g_task_return_boolean (task, TRUE);
        break;
      case 1:
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "%s",
                                 _ ("Running in the background was not allowed"));
        break;
      default:
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                                 _ ("The background request was cancelled"));
        break;
    }
  g_object_unref (task);
}

static void
subscribe_response (GTask *task, const char *handle)
{
  PortalRequest *request = g_task_get_task_data (task);

  if (request->response_id)
    g_dbus_connection_signal_unsubscribe (request->bus, request->response_id);
  g_free (request->handle);
  request->handle = g_strdup (handle);
  /* the extra task reference belongs to the subscription and is dropped by response_cb */
  request->response_id = g_dbus_connection_signal_subscribe (
      request->bus, PORTAL_BUS_NAME, PORTAL_REQUEST_IFACE, "Response", handle, NULL,
      G_DBUS_SIGNAL_FLAGS_NO_MATCH_RULE, response_cb, task, NULL);
}

static void
request_background_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  PortalRequest *request = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  const char *handle = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (!reply)
    {
      g_dbus_error_strip_remote_error (error);
      if (request->response_id)
        {
          g_dbus_connection_signal_unsubscribe (request->bus, request->response_id);
          request->response_id = 0;
          g_object_unref (task); /* the subscription's */
        }
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_variant_get (reply, "(&o)", &handle);
  /* portals before 0.9 do not use the predicted handle */
  if (request->response_id && g_strcmp0 (handle, request->handle) != 0)
    subscribe_response (task, handle); /* the old subscription's reference moves over */
}

void
ph_autostart_request_background_async (GDBusConnection *bus, gboolean enabled, const char *reason,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr (GError) error = NULL;
  g_autofree char *sender = NULL;
  g_autofree char *token = NULL;
  g_autofree char *handle = NULL;
  const char *commandline[] = { "porthole", "--background", NULL };
  PortalRequest *request;
  GVariantBuilder options;

  g_return_if_fail (bus == NULL || G_IS_DBUS_CONNECTION (bus));

  g_task_set_source_tag (task, ph_autostart_request_background_async);
  request = g_new0 (PortalRequest, 1);
  g_task_set_task_data (task, request, (GDestroyNotify) portal_request_free);
  request->bus = bus ? g_object_ref (bus) : g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (!request->bus)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* the handle is /org/freedesktop/portal/desktop/request/SENDER/TOKEN, SENDER being our unique
   * name without the ':' and with '.' as '_' */
  sender = g_strdup (g_dbus_connection_get_unique_name (request->bus) + 1);
  g_strdelimit (sender, ".", '_');
  token = g_strdup_printf ("porthole%u", g_random_int ());
  handle = g_strdup_printf (PORTAL_OBJECT_PATH "/request/%s/%s", sender, token);
  subscribe_response (task, handle);
  g_object_ref (task); /* the subscription's */

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "handle_token", g_variant_new_string (token));
  if (reason)
    g_variant_builder_add (&options, "{sv}", "reason", g_variant_new_string (reason));
  g_variant_builder_add (&options, "{sv}", "autostart", g_variant_new_boolean (enabled));
  g_variant_builder_add (&options, "{sv}", "commandline", g_variant_new_strv (commandline, -1));
  /* the autostart entry runs the command line, not D-Bus activation: --background must reach us */
  g_variant_builder_add (&options, "{sv}", "dbus-activatable", g_variant_new_boolean (FALSE));

  g_dbus_connection_call (
      request->bus, PORTAL_BUS_NAME, PORTAL_OBJECT_PATH, PORTAL_BACKGROUND_IFACE,
      "RequestBackground", g_variant_new ("(sa{sv})", "", &options), G_VARIANT_TYPE ("(o)"),
      G_DBUS_CALL_FLAGS_NONE, -1, cancellable, request_background_cb, g_object_ref (task));
}

gboolean
ph_autostart_request_background_finish (GAsyncResult *result, gboolean *out_autostart,
                                        GError **error)
{
  PortalRequest *request;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  request = g_task_get_task_data (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (out_autostart)
    *out_autostart = request->autostart;
  return TRUE;
}

static void
set_portal_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  gboolean granted = FALSE;
  gboolean wanted = GPOINTER_TO_INT (g_task_get_task_data (task));

  if (!ph_autostart_request_background_finish (result, &granted, &error))
    g_task_return_error (task, error);
  else if (wanted && !granted)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "%s",
                             _ ("Starting at login was not allowed"));
  else
    g_task_return_boolean (task, TRUE);
}

void
ph_autostart_set_async (gboolean enabled, GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  GError *error = NULL;

  g_task_set_source_tag (task, ph_autostart_set_async);
  g_task_set_task_data (task, GINT_TO_POINTER (enabled), NULL);
  if (ph_autostart_in_flatpak ())
    {
      ph_autostart_request_background_async (
          NULL, enabled, _ ("Porthole watches whether your IPFS node is reachable"), cancellable,
          set_portal_cb, g_steal_pointer (&task));
      return;
    }
  if (!ph_autostart_write_desktop_file (enabled, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

gboolean
ph_autostart_set_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
