/* test-autostart.c: the XDG autostart entry and the Background portal request
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "ph-autostart.h"

/* ---- XDG (outside Flatpak); main () points XDG_CONFIG_HOME at a temporary folder ---- */

static void
test_xdg_write_and_remove (void)
{
  g_autofree char *path = ph_autostart_dup_desktop_path ();
  g_autofree char *expected
      = g_build_filename (g_get_user_config_dir (), "autostart", APP_ID ".desktop", NULL);
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *exec = NULL;
  g_autofree char *type = NULL;

  g_assert_cmpstr (path, ==, expected);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  g_assert_true (ph_autostart_write_desktop_file (TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  type = g_key_file_get_string (key_file, G_KEY_FILE_DESKTOP_GROUP, "Type", &error);
  g_assert_cmpstr (type, ==, "Application");
  exec = g_key_file_get_string (key_file, G_KEY_FILE_DESKTOP_GROUP, "Exec", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (exec, ==, "porthole --background");
  g_assert_true (g_key_file_get_boolean (key_file, G_KEY_FILE_DESKTOP_GROUP,
                                         "X-GNOME-Autostart-enabled", &error));
  g_assert_no_error (error);
  g_assert_true (g_key_file_get_boolean (key_file, G_KEY_FILE_DESKTOP_GROUP, "NoDisplay", NULL));

  /* the desktop-file-validate verdict, when the tool is there */
  {
    g_autofree char *validate = g_find_program_in_path ("desktop-file-validate");

    if (validate)
      {
        const char *argv[] = { validate, path, NULL };
        g_autofree char *out = NULL;
        int status = -1;

        g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                     NULL, &out, NULL, &status, &error));
        g_assert_no_error (error);
        g_assert_cmpstr (out, ==, "");
        g_assert_cmpint (status, ==, 0);
      }
  }

  /* writing twice is fine; removing twice too */
  g_assert_true (ph_autostart_write_desktop_file (TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (ph_autostart_write_desktop_file (FALSE, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (ph_autostart_write_desktop_file (FALSE, &error));
  g_assert_no_error (error);
}

static void
test_xdg_unwritable (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "autostart", NULL);
  g_autoptr (GError) error = NULL;

  /* a file where the folder should be: a clean error, no crash */
  g_assert_true (ph_autostart_write_desktop_file (FALSE, &error));
  g_rmdir (dir); /* left empty by the test before */
  g_mkdir_with_parents (g_get_user_config_dir (), 0700);
  g_assert_true (g_file_set_contents (dir, "not a folder", -1, NULL));
  g_assert_false (ph_autostart_write_desktop_file (TRUE, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpint (g_unlink (dir), ==, 0);
}

typedef struct
{
  gboolean done;
  gboolean ok;
  gboolean autostart;
  GError *error;
} Wait;

static void
set_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  wait->ok = ph_autostart_set_finish (result, &wait->error);
  wait->done = TRUE;
}

static void
test_xdg_set_async (void)
{
  g_autofree char *path = ph_autostart_dup_desktop_path ();
  Wait wait = { 0 };

  if (ph_autostart_in_flatpak ())
    {
      g_test_skip ("inside Flatpak the portal is used");
      return;
    }
  ph_autostart_set_async (TRUE, NULL, set_done_cb, &wait);
  while (!wait.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (wait.error);
  g_assert_true (wait.ok);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  wait = (Wait){ 0 };
  ph_autostart_set_async (FALSE, NULL, set_done_cb, &wait);
  while (!wait.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (wait.error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

/* ---- the Background portal, faked on a private bus ---- */

static const char portal_xml[] = "<node>"
                                 "  <interface name='org.freedesktop.portal.Background'>"
                                 "    <method name='RequestBackground'>"
                                 "      <arg type='s' name='parent_window' direction='in'/>"
                                 "      <arg type='a{sv}' name='options' direction='in'/>"
                                 "      <arg type='o' name='handle' direction='out'/>"
                                 "    </method>"
                                 "  </interface>"
                                 "</node>";

typedef struct
{
  GDBusConnection *bus; /* the portal's own connection */
  guint registration;
  guint32 response;     /* what the "user" answers */
  gboolean old_handles; /* answer on a handle of its own, as portals before 0.9 did */
  GVariant *parameters; /* the last request */
  char *sender;
} FakePortal;

typedef struct
{
  FakePortal *portal;
  char *destination;
  char *handle;
  gboolean autostart;
} Emission;

static gboolean
emit_response (gpointer user_data)
{
  Emission *e = user_data;
  GVariantBuilder results;

  g_variant_builder_init (&results, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&results, "{sv}", "background", g_variant_new_boolean (TRUE));
  g_variant_builder_add (&results, "{sv}", "autostart", g_variant_new_boolean (e->autostart));
  g_dbus_connection_emit_signal (e->portal->bus, e->destination, e->handle,
                                 "org.freedesktop.portal.Request", "Response",
                                 g_variant_new ("(ua{sv})", e->portal->response, &results), NULL);
  g_free (e->destination);
  g_free (e->handle);
  g_free (e);
  return G_SOURCE_REMOVE;
}

static void
portal_method_call (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
                    const char *method, GVariant *parameters, GDBusMethodInvocation *invocation,
                    gpointer user_data)
{
  FakePortal *portal = user_data;
  g_autoptr (GVariant) options = NULL;
  g_autofree char *escaped = g_strdup (sender + 1);
  const char *token = "none";
  Emission *e = g_new0 (Emission, 1);

  g_clear_pointer (&portal->parameters, g_variant_unref);
  portal->parameters = g_variant_ref (parameters);
  g_free (portal->sender);
  portal->sender = g_strdup (sender);

  options = g_variant_get_child_value (parameters, 1);
  g_variant_lookup (options, "handle_token", "&s", &token);
  if (!g_variant_lookup (options, "autostart", "b", &e->autostart))
    e->autostart = FALSE;
  g_strdelimit (escaped, ".", '_');
  e->portal = portal;
  e->destination = g_strdup (sender);
  e->handle
      = portal->old_handles
            ? g_strdup ("/org/freedesktop/portal/desktop/request/old/1")
            : g_strdup_printf ("/org/freedesktop/portal/desktop/request/%s/%s", escaped, token);
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", e->handle));
  /* the answer comes later, as the dialog would */
  g_timeout_add (20, emit_response, e);
}

static const GDBusInterfaceVTable portal_vtable = { portal_method_call, NULL, NULL, { 0 } };

typedef struct
{
  GTestDBus *test_bus;
  FakePortal portal;
  GDBusConnection *client;
} PortalFixture;

static void
portal_setup (PortalFixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (portal_xml, &error);
  g_autoptr (GVariant) reply = NULL;
  const char *address;

  g_assert_no_error (error);
  f->test_bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (f->test_bus);
  address = g_test_dbus_get_bus_address (f->test_bus);

  f->portal.bus = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  f->portal.registration = g_dbus_connection_register_object (
      f->portal.bus, "/org/freedesktop/portal/desktop", info->interfaces[0], &portal_vtable,
      &f->portal, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (
      f->portal.bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "RequestName", g_variant_new ("(su)", "org.freedesktop.portal.Desktop", 0),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);

  f->client = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
portal_teardown (PortalFixture *f, gconstpointer data)
{
  g_dbus_connection_unregister_object (f->portal.bus, f->portal.registration);
  g_clear_pointer (&f->portal.parameters, g_variant_unref);
  g_free (f->portal.sender);
  g_dbus_connection_close_sync (f->client, NULL, NULL);
  g_dbus_connection_close_sync (f->portal.bus, NULL, NULL);
  g_clear_object (&f->client);
  g_clear_object (&f->portal.bus);
  g_test_dbus_down (f->test_bus);
  g_clear_object (&f->test_bus);
}

static void
request_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  wait->ok = ph_autostart_request_background_finish (result, &wait->autostart, &wait->error);
  wait->done = TRUE;
}

static void
run_request (PortalFixture *f, gboolean enabled, Wait *wait)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  ph_autostart_request_background_async (f->client, enabled, "Watching your node", NULL,
                                         request_done_cb, wait);
  while (!wait->done && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (wait->done);
}

static void
test_portal_request_shape (PortalFixture *f, gconstpointer data)
{
  Wait wait = { 0 };
  g_autoptr (GVariant) options = NULL;
  g_autofree const char **commandline = NULL;
  const char *parent = NULL;
  const char *token = NULL;
  const char *reason = NULL;
  gboolean autostart = FALSE;
  gboolean activatable = TRUE;

  f->portal.response = 0;
  run_request (f, TRUE, &wait);
  g_assert_no_error (wait.error);
  g_assert_true (wait.ok);
  g_assert_true (wait.autostart);

  /* RequestBackground (IN s parent_window, IN a{sv} options, OUT o handle) */
  g_assert_nonnull (f->portal.parameters);
  g_assert_cmpstr (g_variant_get_type_string (f->portal.parameters), ==, "(sa{sv})");
  g_assert_cmpstr (f->portal.sender, ==, g_dbus_connection_get_unique_name (f->client));
  g_variant_get_child (f->portal.parameters, 0, "&s", &parent);
  g_assert_cmpstr (parent, ==, "");
  options = g_variant_get_child_value (f->portal.parameters, 1);
  g_assert_true (g_variant_lookup (options, "handle_token", "&s", &token));
  g_assert_true (g_dbus_is_member_name (token) || g_str_has_prefix (token, "porthole"));
  g_assert_true (g_variant_lookup (options, "reason", "&s", &reason));
  g_assert_cmpstr (reason, ==, "Watching your node");
  g_assert_true (g_variant_lookup (options, "autostart", "b", &autostart));
  g_assert_true (autostart);
  g_assert_true (g_variant_lookup (options, "commandline", "^a&s", &commandline));
  g_assert_cmpuint (g_strv_length ((char **) commandline), ==, 2);
  g_assert_cmpstr (commandline[0], ==, "porthole");
  g_assert_cmpstr (commandline[1], ==, "--background");
  g_assert_true (g_variant_lookup (options, "dbus-activatable", "b", &activatable));
  g_assert_false (activatable);

  /* turning it off asks again with autostart false */
  wait = (Wait){ 0 };
  run_request (f, FALSE, &wait);
  g_assert_no_error (wait.error);
  g_assert_true (wait.ok);
  g_assert_false (wait.autostart);
  g_clear_pointer (&options, g_variant_unref);
  options = g_variant_get_child_value (f->portal.parameters, 1);
  g_assert_true (g_variant_lookup (options, "autostart", "b", &autostart));
  g_assert_false (autostart);
}

static void
test_portal_denied (PortalFixture *f, gconstpointer data)
{
  Wait wait = { 0 };

  f->portal.response = 1; /* the user said no */
  run_request (f, TRUE, &wait);
  g_assert_false (wait.ok);
  g_assert_error (wait.error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&wait.error);

  wait = (Wait){ 0 };
  f->portal.response = 2; /* closed some other way */
  run_request (f, TRUE, &wait);
  g_assert_false (wait.ok);
  g_assert_error (wait.error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&wait.error);
}

static void
test_portal_old_handle (PortalFixture *f, gconstpointer data)
{
  Wait wait = { 0 };

  f->portal.response = 0;
  f->portal.old_handles = TRUE;
  run_request (f, TRUE, &wait);
  g_assert_no_error (wait.error);
  g_assert_true (wait.ok);
  g_assert_true (wait.autostart);
}

static void
test_portal_missing (PortalFixture *f, gconstpointer data)
{
  Wait wait = { 0 };

  /* no portal on the bus: a clean error */
  g_dbus_connection_close_sync (f->portal.bus, NULL, NULL);
  run_request (f, TRUE, &wait);
  g_assert_false (wait.ok);
  g_assert_nonnull (wait.error);
  g_clear_error (&wait.error);
}

int
main (int argc, char *argv[])
{
  g_autofree char *config = g_dir_make_tmp ("test-autostart-XXXXXX", NULL);
  int status;

  /* before anything reads it (GLib caches the XDG folders); not G_TEST_OPTION_ISOLATE_DIRS, whose
   * g_set_user_dirs () leaks the old values under LeakSanitizer */
  g_assert_nonnull (config);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/autostart/xdg/write-and-remove", test_xdg_write_and_remove);
  g_test_add_func ("/autostart/xdg/unwritable", test_xdg_unwritable);
  g_test_add_func ("/autostart/xdg/set-async", test_xdg_set_async);
  g_test_add ("/autostart/portal/request-shape", PortalFixture, NULL, portal_setup,
              test_portal_request_shape, portal_teardown);
  g_test_add ("/autostart/portal/denied", PortalFixture, NULL, portal_setup, test_portal_denied,
              portal_teardown);
  g_test_add ("/autostart/portal/old-handle", PortalFixture, NULL, portal_setup,
              test_portal_old_handle, portal_teardown);
  g_test_add ("/autostart/portal/missing", PortalFixture, NULL, portal_setup, test_portal_missing,
              portal_teardown);
  status = g_test_run ();
  {
    g_autofree char *autostart = g_build_filename (config, "autostart", NULL);

    g_rmdir (autostart);
    g_rmdir (config);
  }
  return status;
}
