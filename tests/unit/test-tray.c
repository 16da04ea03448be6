/* test-tray.c: PhTray against a StatusNotifierWatcher of our own on a private session bus
 *
 * The test plays the panel: it owns org.kde.StatusNotifierWatcher on its own connection, records
 * RegisterStatusNotifierItem calls, reads the item and its menu over D-Bus like a host would and
 * listens to their signals. The tray sits on a second connection, as in the application.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <unistd.h>

#include "tray/ph-dbusmenu.h"
#include "tray/ph-tray.h"

#define WATCHER_NAME "org.kde.StatusNotifierWatcher"
#define WATCHER_PATH "/StatusNotifierWatcher"
#define SNI_INTERFACE "org.kde.StatusNotifierItem"
#define MENU_INTERFACE "com.canonical.dbusmenu"
#define DEADLINE_US (10 * G_USEC_PER_SEC)

static GTestDBus *test_bus;

static const char watcher_xml[]
    = "<node>"
      "  <interface name='org.kde.StatusNotifierWatcher'>"
      "    <method name='RegisterStatusNotifierItem'>"
      "      <arg type='s' name='service' direction='in'/>"
      "    </method>"
      "    <method name='RegisterStatusNotifierHost'>"
      "      <arg type='s' name='service' direction='in'/>"
      "    </method>"
      "    <property name='RegisteredStatusNotifierItems' type='as' access='read'/>"
      "    <property name='IsStatusNotifierHostRegistered' type='b' access='read'/>"
      "    <property name='ProtocolVersion' type='i' access='read'/>"
      "    <signal name='StatusNotifierItemRegistered'><arg type='s'/></signal>"
      "    <signal name='StatusNotifierItemUnregistered'><arg type='s'/></signal>"
      "    <signal name='StatusNotifierHostRegistered'/>"
      "    <signal name='StatusNotifierHostUnregistered'/>"
      "  </interface>"
      "</node>";

typedef struct
{
  GDBusConnection *tray_conn;
  GDBusConnection *panel_conn; /* the watcher, and the host reading the item */
  GDBusNodeInfo *watcher_info;
  guint watcher_object_id;
  guint watcher_own_id;
  gboolean watcher_owned;
  gboolean host_registered;
  gboolean hold_registrations; /* a hung panel: RegisterStatusNotifierItem is never answered */
  GPtrArray *held;             /* GDBusMethodInvocation*: the calls not answered */
  GPtrArray *registrations;    /* char*: the service each RegisterStatusNotifierItem named */
  GPtrArray *registration_senders;

  PhTray *tray;
  guint n_activate;
  guint n_check_now;
  guint n_quit;

  guint signal_sub;
  GPtrArray *signals;     /* char*: "Interface.Member" of every signal from the tray */
  GPtrArray *signal_args; /* GVariant*: their parameters */
} Fixture;

/* ---- main loop helpers ---- */

static gboolean
wake_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

#define WAIT_FOR(cond)                                                                             \
  G_STMT_START                                                                                     \
  {                                                                                                \
    gint64 deadline_ = g_get_monotonic_time () + DEADLINE_US;                                      \
    guint wake_ = g_timeout_add (20, wake_cb, NULL);                                               \
    while (!(cond) && g_get_monotonic_time () < deadline_)                                         \
      g_main_context_iteration (NULL, TRUE);                                                       \
    g_source_remove (wake_);                                                                       \
    if (!(cond))                                                                                   \
      g_error ("timed out waiting for %s", #cond);                                                 \
  }                                                                                                \
  G_STMT_END

static void
drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
call_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* A call from the panel's connection, with the main loop running so the tray can answer. */
static GVariant *
panel_call (Fixture *f, const char *dest, const char *path, const char *interface,
            const char *method, GVariant *parameters, const char *reply_type, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  g_dbus_connection_call (f->panel_conn, dest, path, interface, method, parameters,
                          reply_type ? G_VARIANT_TYPE (reply_type) : NULL, G_DBUS_CALL_FLAGS_NONE,
                          5000, NULL, call_done_cb, &result);
  WAIT_FOR (result != NULL);
  return g_dbus_connection_call_finish (f->panel_conn, result, error);
}

static GVariant *
item_call (Fixture *f, const char *path, const char *interface, const char *method,
           GVariant *parameters, const char *reply_type, GError **error)
{
  return panel_call (f, ph_tray_get_bus_name (f->tray), path, interface, method, parameters,
                     reply_type, error);
}

static GVariant *
menu_call (Fixture *f, const char *method, GVariant *parameters, const char *reply_type,
           GError **error)
{
  return item_call (f, "/MenuBar", MENU_INTERFACE, method, parameters, reply_type, error);
}

static GVariant *
item_property (Fixture *f, const char *interface, const char *path, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  GVariant *value = NULL;

  reply = item_call (f, path, "org.freedesktop.DBus.Properties", "Get",
                     g_variant_new ("(ss)", interface, name), "(v)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  return value;
}

static char *
sni_string (Fixture *f, const char *name)
{
  g_autoptr (GVariant) value = item_property (f, SNI_INTERFACE, "/StatusNotifierItem", name);

  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
                 || g_variant_is_of_type (value, G_VARIANT_TYPE_OBJECT_PATH));
  return g_variant_dup_string (value, NULL);
}

/* a round trip to the tray: every signal it sent before has arrived after this */
static void
sync_with_tray (Fixture *f)
{
  g_free (sni_string (f, "Id"));
  drain ();
}

/* ---- the test watcher ---- */

static void
watcher_method_call (GDBusConnection *connection, const char *sender, const char *object_path,
                     const char *interface_name, const char *method_name, GVariant *parameters,
                     GDBusMethodInvocation *invocation, gpointer user_data)
{
  Fixture *f = user_data;
  const char *service;

  g_variant_get (parameters, "(&s)", &service);
  if (g_str_equal (method_name, "RegisterStatusNotifierItem"))
    {
      g_ptr_array_add (f->registrations, g_strdup (service));
      g_ptr_array_add (f->registration_senders, g_strdup (sender));
      if (f->hold_registrations)
        {
          /* the handler's reference, with the duty to answer, moves to the array */
          g_ptr_array_add (f->held, invocation);
          return;
        }
    }
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static GVariant *
watcher_get_property (GDBusConnection *connection, const char *sender, const char *object_path,
                      const char *interface_name, const char *property_name, GError **error,
                      gpointer user_data)
{
  Fixture *f = user_data;

  if (g_str_equal (property_name, "IsStatusNotifierHostRegistered"))
    return g_variant_new_boolean (f->host_registered);
  if (g_str_equal (property_name, "ProtocolVersion"))
    return g_variant_new_int32 (0);
  if (g_str_equal (property_name, "RegisteredStatusNotifierItems"))
    return g_variant_new_strv ((const char *const *) f->registrations->pdata,
                               f->registrations->len);
  return NULL;
}

static const GDBusInterfaceVTable watcher_vtable = {
  .method_call = watcher_method_call,
  .get_property = watcher_get_property,
};

static void
watcher_acquired_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Fixture *f = user_data;

  f->watcher_owned = TRUE;
}

static void
watcher_lost_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Fixture *f = user_data;

  f->watcher_owned = FALSE;
}

static void
watcher_start (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  if (f->watcher_object_id == 0)
    {
      f->watcher_object_id = g_dbus_connection_register_object (f->panel_conn, WATCHER_PATH,
                                                                f->watcher_info->interfaces[0],
                                                                &watcher_vtable, f, NULL, &error);
      g_assert_no_error (error);
    }
  f->watcher_own_id
      = g_bus_own_name_on_connection (f->panel_conn, WATCHER_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                      watcher_acquired_cb, watcher_lost_cb, f, NULL);
  WAIT_FOR (f->watcher_owned);
}

static void
watcher_stop (Fixture *f)
{
  g_bus_unown_name (f->watcher_own_id);
  f->watcher_own_id = 0;
  f->watcher_owned = FALSE;
}

/* ---- fixture ---- */

static GDBusConnection *
new_connection (void)
{
  g_autoptr (GError) error = NULL;
  GDBusConnection *connection = g_dbus_connection_new_for_address_sync (
      g_test_dbus_get_bus_address (test_bus),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);

  g_assert_no_error (error);
  return connection;
}

static void
tray_signal_cb (GDBusConnection *connection, const char *sender, const char *object_path,
                const char *interface_name, const char *signal_name, GVariant *parameters,
                gpointer user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->signals, g_strdup_printf ("%s.%s", interface_name, signal_name));
  g_ptr_array_add (f->signal_args, g_variant_ref (parameters));
}

static void
count_cb (PhTray *tray, gpointer user_data)
{
  (*(guint *) user_data)++;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->tray_conn = new_connection ();
  f->panel_conn = new_connection ();
  f->watcher_info = g_dbus_node_info_new_for_xml (watcher_xml, NULL);
  g_assert_nonnull (f->watcher_info);
  f->host_registered = TRUE;
  f->registrations = g_ptr_array_new_with_free_func (g_free);
  f->held = g_ptr_array_new_with_free_func (g_object_unref);
  f->registration_senders = g_ptr_array_new_with_free_func (g_free);
  f->signals = g_ptr_array_new_with_free_func (g_free);
  f->signal_args = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
}

static void
fixture_start_tray (Fixture *f, const char *icon_theme_path)
{
  f->tray = ph_tray_new (f->tray_conn, icon_theme_path);
  g_assert_nonnull (f->tray);
  g_signal_connect (f->tray, "activate", G_CALLBACK (count_cb), &f->n_activate);
  g_signal_connect (f->tray, "check-now", G_CALLBACK (count_cb), &f->n_check_now);
  g_signal_connect (f->tray, "quit", G_CALLBACK (count_cb), &f->n_quit);
  f->signal_sub = g_dbus_connection_signal_subscribe (
      f->panel_conn, ph_tray_get_bus_name (f->tray), NULL, NULL, NULL, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, tray_signal_cb, f, NULL);
}

static gboolean
name_has_owner (Fixture *f, const char *name)
{
  g_autoptr (GVariant) reply = NULL;
  gboolean has = FALSE;

  reply = panel_call (f, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                      "NameHasOwner", g_variant_new ("(s)", name), "(b)", NULL);
  g_assert_nonnull (reply);
  g_variant_get (reply, "(b)", &has);
  return has;
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  if (f->signal_sub != 0)
    g_dbus_connection_signal_unsubscribe (f->panel_conn, f->signal_sub);
  g_clear_object (&f->tray);
  if (f->watcher_own_id != 0)
    g_bus_unown_name (f->watcher_own_id);
  if (f->watcher_object_id != 0)
    g_dbus_connection_unregister_object (f->panel_conn, f->watcher_object_id);
  drain ();
  g_dbus_connection_close_sync (f->tray_conn, NULL, NULL);
  g_dbus_connection_close_sync (f->panel_conn, NULL, NULL);
  drain ();
  g_clear_object (&f->tray_conn);
  g_clear_object (&f->panel_conn);
  g_dbus_node_info_unref (f->watcher_info);
  g_ptr_array_unref (f->held);
  g_ptr_array_unref (f->registrations);
  g_ptr_array_unref (f->registration_senders);
  g_ptr_array_unref (f->signals);
  g_ptr_array_unref (f->signal_args);
}

/* the tray registered with the watcher and thinks it is shown */
static void
start_registered (Fixture *f)
{
  watcher_start (f);
  fixture_start_tray (f, "/usr/share/porthole/icons");
  WAIT_FOR (f->registrations->len == 1);
  WAIT_FOR (ph_tray_get_available (f->tray));
}

static gboolean
got_signal (Fixture *f, const char *name)
{
  for (guint i = 0; i < f->signals->len; i++)
    if (g_str_equal (g_ptr_array_index (f->signals, i), name))
      return TRUE;
  return FALSE;
}

static GVariant *
signal_args (Fixture *f, const char *name)
{
  for (guint i = 0; i < f->signals->len; i++)
    if (g_str_equal (g_ptr_array_index (f->signals, i), name))
      return g_ptr_array_index (f->signal_args, i);
  return NULL;
}

static void
clear_signals (Fixture *f)
{
  g_ptr_array_set_size (f->signals, 0);
  g_ptr_array_set_size (f->signal_args, 0);
}

static void
assert_dbus_error (GError *error, GDBusError code)
{
  g_assert_nonnull (error);
  g_assert_true (g_dbus_error_is_remote_error (error));
  g_assert_error (error, G_DBUS_ERROR, (gint) code);
}

/* ---- tests ---- */

static void
test_no_watcher (Fixture *f, gconstpointer data)
{
  g_autofree char *icon = NULL;

  fixture_start_tray (f, NULL);
  /* the tray owns its name once the bus has answered; by then the watch has too */
  WAIT_FOR (name_has_owner (f, ph_tray_get_bus_name (f->tray)));
  sync_with_tray (f);

  g_assert_false (ph_tray_get_available (f->tray));
  g_assert_nonnull (ph_tray_get_unavailable_reason (f->tray));
  g_assert_nonnull (strstr (ph_tray_get_unavailable_reason (f->tray), "StatusNotifierWatcher"));
  g_assert_cmpuint (f->registrations->len, ==, 0);
  /* the item is still there for a watcher that comes later */
  icon = sni_string (f, "IconName");
  g_assert_cmpstr (icon, ==, ph_reachability_icon_name (PH_REACHABILITY_UNKNOWN));
}

static void
test_register (Fixture *f, gconstpointer data)
{
  g_autofree char *prefix = g_strdup_printf ("org.kde.StatusNotifierItem-%d-", (int) getpid ());
  g_autoptr (GVariant) reply = NULL;
  const char *owner;
  gboolean available = FALSE;

  start_registered (f);
  g_assert_cmpstr (g_ptr_array_index (f->registrations, 0), ==, ph_tray_get_bus_name (f->tray));
  g_assert_true (g_str_has_prefix (ph_tray_get_bus_name (f->tray), prefix));
  g_assert_cmpstr (g_ptr_array_index (f->registration_senders, 0), ==,
                   g_dbus_connection_get_unique_name (f->tray_conn));
  reply = panel_call (f, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                      "GetNameOwner", g_variant_new ("(s)", ph_tray_get_bus_name (f->tray)), "(s)",
                      NULL);
  g_assert_nonnull (reply);
  g_variant_get (reply, "(&s)", &owner);
  g_assert_cmpstr (owner, ==, g_dbus_connection_get_unique_name (f->tray_conn));

  g_assert_null (ph_tray_get_unavailable_reason (f->tray));
  g_object_get (f->tray, "available", &available, NULL);
  g_assert_true (available);
}

static void
test_properties (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) all = NULL;
  g_autoptr (GVariant) props = NULL;
  g_autoptr (GVariant) tooltip = NULL;
  g_autoptr (GVariant) pixmaps = NULL;
  g_autoptr (GDateTime) when = g_date_time_new_utc (2024, 3, 5, 14, 7, 0);
  const char *s;
  const char *icon, *title, *body;
  gboolean b;
  gint32 i;

  start_registered (f);
  all = item_call (f, "/StatusNotifierItem", "org.freedesktop.DBus.Properties", "GetAll",
                   g_variant_new ("(s)", SNI_INTERFACE), "(a{sv})", &error);
  g_assert_no_error (error);
  props = g_variant_get_child_value (all, 0);
  g_assert_true (g_variant_lookup (props, "Category", "&s", &s));
  g_assert_cmpstr (s, ==, "ApplicationStatus");
  g_assert_true (g_variant_lookup (props, "Id", "&s", &s));
  g_assert_cmpstr (s, ==, APP_ID);
  g_assert_true (g_variant_lookup (props, "Status", "&s", &s));
  g_assert_cmpstr (s, ==, "Active");
  g_assert_true (g_variant_lookup (props, "IconName", "&s", &s));
  g_assert_cmpstr (s, ==, ph_reachability_icon_name (PH_REACHABILITY_UNKNOWN));
  g_assert_true (g_variant_lookup (props, "IconThemePath", "&s", &s));
  g_assert_cmpstr (s, ==, "/usr/share/porthole/icons");
  g_assert_true (g_variant_lookup (props, "Menu", "&o", &s));
  g_assert_cmpstr (s, ==, "/MenuBar");
  g_assert_true (g_variant_lookup (props, "ItemIsMenu", "b", &b));
  g_assert_false (b);
  g_assert_true (g_variant_lookup (props, "WindowId", "i", &i));
  g_assert_cmpint (i, ==, 0);
  g_assert_true (g_variant_lookup (props, "Title", "&s", &s));
  g_assert_true (g_str_has_prefix (s, "Porthole"));

  /* the tooltip: (icon name, pixmaps, title, body) with the status line and the check time */
  ph_tray_set_state (f->tray, PH_REACHABILITY_REACHABLE, "Reachable over IPv4 & IPv6 <yes>", when);
  tooltip = item_property (f, SNI_INTERFACE, "/StatusNotifierItem", "ToolTip");
  g_assert_cmpstr (g_variant_get_type_string (tooltip), ==, "(sa(iiay)ss)");
  g_variant_get (tooltip, "(&s@a(iiay)&s&s)", &icon, &pixmaps, &title, &body);
  g_assert_cmpstr (icon, ==, ph_reachability_icon_name (PH_REACHABILITY_REACHABLE));
  g_assert_cmpstr (title, ==, "Porthole");
  /* markup in the status line is escaped: hosts render the body as rich text */
  g_assert_nonnull (strstr (body, "Reachable over IPv4 &amp; IPv6 &lt;yes&gt;"));
  g_assert_nonnull (strstr (body, "Last check: "));
  g_assert_null (strstr (body, "Not checked yet"));

  ph_tray_set_state (f->tray, PH_REACHABILITY_REACHABLE, NULL, NULL);
  g_clear_pointer (&tooltip, g_variant_unref);
  g_clear_pointer (&pixmaps, g_variant_unref);
  tooltip = item_property (f, SNI_INTERFACE, "/StatusNotifierItem", "ToolTip");
  g_variant_get (tooltip, "(&s@a(iiay)&s&s)", &icon, &pixmaps, &title, &body);
  g_assert_nonnull (strstr (body, ph_reachability_describe (PH_REACHABILITY_REACHABLE)));
  g_assert_nonnull (strstr (body, "Not checked yet"));
}

static void
test_signals (Fixture *f, gconstpointer data)
{
  g_autoptr (GDateTime) when = g_date_time_new_now_utc ();
  g_autofree char *icon = NULL;
  g_autofree char *status = NULL;
  GVariant *args;
  const char *s;

  start_registered (f);
  sync_with_tray (f);
  clear_signals (f);

  ph_tray_set_state (f->tray, PH_REACHABILITY_UNREACHABLE, "Not reachable", when);
  sync_with_tray (f);
  g_assert_true (got_signal (f, SNI_INTERFACE ".NewIcon"));
  g_assert_true (got_signal (f, SNI_INTERFACE ".NewToolTip"));
  g_assert_true (got_signal (f, SNI_INTERFACE ".NewTitle"));
  args = signal_args (f, SNI_INTERFACE ".NewStatus");
  g_assert_nonnull (args);
  g_variant_get (args, "(&s)", &s);
  g_assert_cmpstr (s, ==, "NeedsAttention");
  icon = sni_string (f, "IconName");
  g_assert_cmpstr (icon, ==, ph_reachability_icon_name (PH_REACHABILITY_UNREACHABLE));
  status = sni_string (f, "Status");
  g_assert_cmpstr (status, ==, "NeedsAttention");

  /* the same state again: nothing to tell */
  clear_signals (f);
  ph_tray_set_state (f->tray, PH_REACHABILITY_UNREACHABLE, "Not reachable", when);
  sync_with_tray (f);
  g_assert_cmpuint (f->signals->len, ==, 0);

  /* only the words changed: the tooltip (and the menu), not the icon or the status */
  ph_tray_set_state (f->tray, PH_REACHABILITY_UNREACHABLE, "Still not reachable", when);
  sync_with_tray (f);
  g_assert_true (got_signal (f, SNI_INTERFACE ".NewToolTip"));
  g_assert_false (got_signal (f, SNI_INTERFACE ".NewIcon"));
  g_assert_false (got_signal (f, SNI_INTERFACE ".NewStatus"));
  g_assert_false (got_signal (f, SNI_INTERFACE ".NewTitle"));

  /* back to reachable: Active again */
  clear_signals (f);
  ph_tray_set_state (f->tray, PH_REACHABILITY_REACHABLE, NULL, when);
  sync_with_tray (f);
  args = signal_args (f, SNI_INTERFACE ".NewStatus");
  g_assert_nonnull (args);
  g_variant_get (args, "(&s)", &s);
  g_assert_cmpstr (s, ==, "Active");
  g_assert_true (got_signal (f, SNI_INTERFACE ".NewIcon"));
}

static const char *
child_label (GVariant *layout, guint n, gint *id_out, GVariant **props_out)
{
  g_autoptr (GVariant) children = g_variant_get_child_value (layout, 2);
  g_autoptr (GVariant) boxed = g_variant_get_child_value (children, n);
  g_autoptr (GVariant) child = g_variant_get_variant (boxed);
  g_autoptr (GVariant) props = g_variant_get_child_value (child, 1);
  const char *label = NULL;

  g_variant_get_child (child, 0, "i", id_out);
  if (!g_variant_lookup (props, "label", "&s", &label))
    label = NULL;
  if (props_out != NULL)
    *props_out = g_variant_ref (props);
  /* the strings live in the layout, which the caller holds */
  return label ? g_intern_string (label) : NULL;
}

static void
test_menu_layout (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) layout = NULL;
  g_autoptr (GVariant) children = NULL;
  g_autoptr (GVariant) version = NULL;
  g_autoptr (GVariant) props = NULL;
  g_autoptr (GVariant) group = NULL;
  g_autoptr (GVariant) value = NULL;
  const char *expect[] = { "Your_node", NULL, "_Open Porthole", "_Check Now", NULL, "_Quit" };
  guint32 revision, revision2, updated_revision;
  GVariant *args;
  const char *type;
  gboolean enabled = TRUE;
  gint id, root;

  start_registered (f);
  ph_tray_set_state (f->tray, PH_REACHABILITY_REACHABLE, "Your_node", NULL);

  version = item_property (f, MENU_INTERFACE, "/MenuBar", "Version");
  g_assert_cmpuint (g_variant_get_uint32 (version), ==, 3);

  reply = menu_call (f, "GetLayout", g_variant_new ("(ii@as)", 0, -1, g_variant_new_strv (NULL, 0)),
                     "(u(ia{sv}av))", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u@(ia{sv}av))", &revision, &layout);
  g_variant_get_child (layout, 0, "i", &root);
  g_assert_cmpint (root, ==, 0);
  children = g_variant_get_child_value (layout, 2);
  g_assert_cmpuint (g_variant_n_children (children), ==, G_N_ELEMENTS (expect));
  for (guint n = 0; n < G_N_ELEMENTS (expect); n++)
    {
      g_autoptr (GVariant) item_props = NULL;
      const char *label = child_label (layout, n, &id, &item_props);

      g_assert_cmpint (id, >, 0);
      if (expect[n] == NULL)
        {
          g_assert_true (g_variant_lookup (item_props, "type", "&s", &type));
          g_assert_cmpstr (type, ==, "separator");
          continue;
        }
      /* a literal underscore is doubled so it is not read as an access key */
      if (n == 0)
        {
          g_assert_cmpstr (label, ==, "Your__node");
          g_assert_true (g_variant_lookup (item_props, "enabled", "b", &enabled));
          g_assert_false (enabled);
        }
      else
        {
          g_assert_cmpstr (label, ==, expect[n]);
          g_assert_true (g_variant_lookup (item_props, "enabled", "b", &enabled));
          g_assert_true (enabled);
        }
    }

  /* depth 0: the root alone; a property filter */
  g_clear_pointer (&reply, g_variant_unref);
  g_clear_pointer (&layout, g_variant_unref);
  g_clear_pointer (&children, g_variant_unref);
  reply = menu_call (f, "GetLayout", g_variant_new ("(ii@as)", 0, 0, g_variant_new_strv (NULL, 0)),
                     "(u(ia{sv}av))", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u@(ia{sv}av))", &revision2, &layout);
  children = g_variant_get_child_value (layout, 2);
  g_assert_cmpuint (g_variant_n_children (children), ==, 0);

  {
    const char *only_label[] = { "label", NULL };

    g_clear_pointer (&reply, g_variant_unref);
    reply = menu_call (
        f, "GetGroupProperties",
        g_variant_new ("(@ai^as)",
                       g_variant_new_fixed_array (G_VARIANT_TYPE_INT32, (gint32[]){ 3, 99, 6 }, 3,
                                                  sizeof (gint32)),
                       only_label),
        "(a(ia{sv}))", &error);
    g_assert_no_error (error);
    group = g_variant_get_child_value (reply, 0);
    /* 99 does not exist and is left out */
    g_assert_cmpuint (g_variant_n_children (group), ==, 2);
    g_variant_get_child (group, 0, "(i@a{sv})", &id, &props);
    g_assert_cmpint (id, ==, 3);
    g_assert_cmpuint (g_variant_n_children (props), ==, 1);
    g_assert_true (g_variant_lookup (props, "label", "&s", &type));
    g_assert_cmpstr (type, ==, "_Open Porthole");
  }

  g_clear_pointer (&reply, g_variant_unref);
  reply = menu_call (f, "GetProperty", g_variant_new ("(is)", 6, "label"), "(v)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, "_Quit");

  /* the status line changes: ItemsPropertiesUpdated for item 1, LayoutUpdated with a new revision
   */
  sync_with_tray (f);
  clear_signals (f);
  ph_tray_set_state (f->tray, PH_REACHABILITY_CHECKING, "Checking…", NULL);
  sync_with_tray (f);
  args = signal_args (f, MENU_INTERFACE ".ItemsPropertiesUpdated");
  g_assert_nonnull (args);
  {
    g_autoptr (GVariant) updated = g_variant_get_child_value (args, 0);
    g_autoptr (GVariant) first = g_variant_get_child_value (updated, 0);
    g_autoptr (GVariant) first_props = NULL;
    const char *label;

    g_variant_get (first, "(i@a{sv})", &id, &first_props);
    g_assert_cmpint (id, ==, 1);
    g_assert_true (g_variant_lookup (first_props, "label", "&s", &label));
    g_assert_cmpstr (label, ==, "Checking…");
  }
  args = signal_args (f, MENU_INTERFACE ".LayoutUpdated");
  g_assert_nonnull (args);
  g_variant_get (args, "(ui)", &updated_revision, &id);
  g_assert_cmpuint (updated_revision, >, revision);

  /* while a check runs, "Check Now" is greyed out, and a click on it does nothing */
  g_clear_pointer (&reply, g_variant_unref);
  g_clear_pointer (&value, g_variant_unref);
  reply = menu_call (f, "GetProperty", g_variant_new ("(is)", 4, "enabled"), "(v)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  g_assert_false (g_variant_get_boolean (value));
  g_clear_pointer (&reply, g_variant_unref);
  reply = menu_call (f, "Event", g_variant_new ("(isvu)", 4, "clicked", g_variant_new_int32 (0), 0),
                     "()", &error);
  g_assert_no_error (error);
  drain ();
  g_assert_cmpuint (f->n_check_now, ==, 0);

  /* the revision GetLayout reports follows */
  g_clear_pointer (&reply, g_variant_unref);
  reply = menu_call (f, "GetLayout", g_variant_new ("(ii@as)", 0, -1, g_variant_new_strv (NULL, 0)),
                     "(u(ia{sv}av))", &error);
  g_assert_no_error (error);
  g_variant_get_child (reply, 0, "u", &revision2);
  g_assert_cmpuint (revision2, >=, updated_revision);
}

static void
click (Fixture *f, gint id, const char *event)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;

  reply = menu_call (f, "Event", g_variant_new ("(isvu)", id, event, g_variant_new_string (""), 42),
                     "()", &error);
  g_assert_no_error (error);
  drain ();
}

static void
test_menu_events (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) errors = NULL;
  g_autoptr (GVariant) updates = NULL;
  GVariantBuilder events;
  gboolean need_update = TRUE;
  gint32 bad_id = 0;

  start_registered (f);

  click (f, 3, "clicked");
  g_assert_cmpuint (f->n_activate, ==, 1);
  g_assert_cmpuint (f->n_check_now + f->n_quit, ==, 0);
  click (f, 4, "clicked");
  g_assert_cmpuint (f->n_check_now, ==, 1);
  g_assert_cmpuint (f->n_activate + f->n_quit, ==, 1);
  click (f, 6, "clicked");
  g_assert_cmpuint (f->n_quit, ==, 1);
  g_assert_cmpuint (f->n_activate + f->n_check_now, ==, 2);

  /* the status line, a separator, the root, hovering: nothing */
  click (f, 1, "clicked");
  click (f, 2, "clicked");
  click (f, 0, "clicked");
  click (f, 3, "hovered");
  click (f, 3, "opened");
  g_assert_cmpuint (f->n_activate + f->n_check_now + f->n_quit, ==, 3);

  /* EventGroup: the known ids act, the unknown come back as errors */
  g_variant_builder_init (&events, G_VARIANT_TYPE ("a(isvu)"));
  g_variant_builder_add (&events, "(isvu)", 3, "clicked", g_variant_new_int32 (0), 1);
  g_variant_builder_add (&events, "(isvu)", 99, "clicked", g_variant_new_int32 (0), 1);
  g_variant_builder_add (&events, "(isvu)", 4, "clicked", g_variant_new_int32 (0), 1);
  reply = menu_call (f, "EventGroup", g_variant_new ("(a(isvu))", &events), "(ai)", &error);
  g_assert_no_error (error);
  drain ();
  errors = g_variant_get_child_value (reply, 0);
  g_assert_cmpuint (g_variant_n_children (errors), ==, 1);
  g_variant_get_child (errors, 0, "i", &bad_id);
  g_assert_cmpint (bad_id, ==, 99);
  g_assert_cmpuint (f->n_activate, ==, 2);
  g_assert_cmpuint (f->n_check_now, ==, 2);

  g_clear_pointer (&reply, g_variant_unref);
  reply = menu_call (f, "AboutToShow", g_variant_new ("(i)", 0), "(b)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(b)", &need_update);
  g_assert_false (need_update);

  g_clear_pointer (&reply, g_variant_unref);
  g_clear_pointer (&errors, g_variant_unref);
  reply = menu_call (f, "AboutToShowGroup",
                     g_variant_new ("(@ai)", g_variant_new_fixed_array (G_VARIANT_TYPE_INT32,
                                                                        (gint32[]){ 0, 3, 42 }, 3,
                                                                        sizeof (gint32))),
                     "(aiai)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(@ai@ai)", &updates, &errors);
  g_assert_cmpuint (g_variant_n_children (updates), ==, 0);
  g_assert_cmpuint (g_variant_n_children (errors), ==, 1);

  /* the icon itself: left click opens, middle click checks; the others are accepted */
  g_clear_pointer (&reply, g_variant_unref);
  reply = item_call (f, "/StatusNotifierItem", SNI_INTERFACE, "Activate",
                     g_variant_new ("(ii)", 5, 5), "()", &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  reply = item_call (f, "/StatusNotifierItem", SNI_INTERFACE, "SecondaryActivate",
                     g_variant_new ("(ii)", 5, 5), "()", &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  reply = item_call (f, "/StatusNotifierItem", SNI_INTERFACE, "Scroll",
                     g_variant_new ("(is)", 120, "sideways"), "()", &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  reply = item_call (f, "/StatusNotifierItem", SNI_INTERFACE, "ContextMenu",
                     g_variant_new ("(ii)", 0, 0), "()", &error);
  g_assert_no_error (error);
  drain ();
  g_assert_cmpuint (f->n_activate, ==, 3);
  g_assert_cmpuint (f->n_check_now, ==, 3);
  g_assert_cmpuint (f->n_quit, ==, 1);
}

static void
expect_menu_error (Fixture *f, const char *method, GVariant *parameters, GDBusError code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;

  reply = menu_call (f, method, parameters, NULL, &error);
  g_assert_null (reply);
  assert_dbus_error (error, code);
}

static GVariant *
int_array (const gint32 *ids, gsize n)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_INT32, ids, n, sizeof (gint32));
}

static void
test_bad_input (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  const char *no_names[] = { NULL };
  GVariantBuilder events;

  start_registered (f);

  expect_menu_error (f, "Event",
                     g_variant_new ("(isvu)", 99, "clicked", g_variant_new_int32 (0), 0),
                     G_DBUS_ERROR_INVALID_ARGS);
  expect_menu_error (f, "Event",
                     g_variant_new ("(isvu)", -1, "clicked", g_variant_new_int32 (0), 0),
                     G_DBUS_ERROR_INVALID_ARGS);
  expect_menu_error (f, "Event",
                     g_variant_new ("(isvu)", G_MININT32, "clicked", g_variant_new_int32 (0), 0),
                     G_DBUS_ERROR_INVALID_ARGS);
  expect_menu_error (f, "Event",
                     g_variant_new ("(isvu)", G_MAXINT32, "clicked", g_variant_new_int32 (0), 0),
                     G_DBUS_ERROR_INVALID_ARGS);
  expect_menu_error (f, "GetProperty", g_variant_new ("(is)", 99, "label"),
                     G_DBUS_ERROR_INVALID_ARGS);
  expect_menu_error (f, "GetProperty", g_variant_new ("(is)", 3, "no-such-property"),
                     G_DBUS_ERROR_INVALID_ARGS);
  expect_menu_error (f, "GetProperty", g_variant_new ("(is)", 2, "label"),
                     G_DBUS_ERROR_INVALID_ARGS);
  expect_menu_error (f, "GetLayout", g_variant_new ("(ii^as)", 77, -1, no_names),
                     G_DBUS_ERROR_INVALID_ARGS);
  expect_menu_error (f, "GetLayout", g_variant_new ("(ii^as)", -3, 2, no_names),
                     G_DBUS_ERROR_INVALID_ARGS);
  expect_menu_error (f, "AboutToShow", g_variant_new ("(i)", 7), G_DBUS_ERROR_INVALID_ARGS);
  expect_menu_error (f, "AboutToShowGroup",
                     g_variant_new ("(@ai)", int_array ((gint32[]){ 7, 8 }, 2)),
                     G_DBUS_ERROR_INVALID_ARGS);
  expect_menu_error (f, "GetGroupProperties",
                     g_variant_new ("(@ai^as)", int_array ((gint32[]){ 55 }, 1), no_names),
                     G_DBUS_ERROR_INVALID_ARGS);
  g_variant_builder_init (&events, G_VARIANT_TYPE ("a(isvu)"));
  g_variant_builder_add (&events, "(isvu)", 12, "clicked", g_variant_new_int32 (0), 1);
  g_variant_builder_add (&events, "(isvu)", -12, "clicked", g_variant_new_int32 (0), 1);
  expect_menu_error (f, "EventGroup", g_variant_new ("(a(isvu))", &events),
                     G_DBUS_ERROR_INVALID_ARGS);

  /* wrong argument types never reach the handlers: GDBus checks them against the interface */
  expect_menu_error (f, "Event", g_variant_new ("(s)", "clicked"), G_DBUS_ERROR_INVALID_ARGS);
  expect_menu_error (f, "GetLayout", g_variant_new ("(ii)", 0, -1), G_DBUS_ERROR_INVALID_ARGS);
  expect_menu_error (f, "NoSuchMethod", NULL, G_DBUS_ERROR_UNKNOWN_METHOD);
  reply = item_call (f, "/StatusNotifierItem", SNI_INTERFACE, "Activate",
                     g_variant_new ("(s)", "x"), NULL, &error);
  g_assert_null (reply);
  assert_dbus_error (error, G_DBUS_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  reply = item_call (f, "/StatusNotifierItem", "org.freedesktop.DBus.Properties", "Get",
                     g_variant_new ("(ss)", SNI_INTERFACE, "NoSuchProperty"), NULL, &error);
  g_assert_null (reply);
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* and after all that, it still answers, and nothing fired */
  reply = menu_call (f, "GetLayout", g_variant_new ("(ii^as)", 0, -1, no_names), "(u(ia{sv}av))",
                     &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  drain ();
  g_assert_cmpuint (f->n_activate + f->n_check_now + f->n_quit, ==, 0);
}

static void
test_reregister (Fixture *f, gconstpointer data)
{
  start_registered (f);

  /* the panel goes away: no tray, and the reason says so */
  watcher_stop (f);
  WAIT_FOR (!ph_tray_get_available (f->tray));
  g_assert_nonnull (strstr (ph_tray_get_unavailable_reason (f->tray), "StatusNotifierWatcher"));

  /* and comes back: the item registers again, by itself */
  watcher_start (f);
  WAIT_FOR (f->registrations->len == 2);
  g_assert_cmpstr (g_ptr_array_index (f->registrations, 1), ==, ph_tray_get_bus_name (f->tray));
  WAIT_FOR (ph_tray_get_available (f->tray));
  g_assert_null (ph_tray_get_unavailable_reason (f->tray));

  /* a second restart works as well as the first */
  watcher_stop (f);
  WAIT_FOR (!ph_tray_get_available (f->tray));
  watcher_start (f);
  WAIT_FOR (f->registrations->len == 3);
  WAIT_FOR (ph_tray_get_available (f->tray));
}

static void
test_no_host (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->host_registered = FALSE;
  watcher_start (f);
  fixture_start_tray (f, NULL);
  WAIT_FOR (f->registrations->len == 1);
  WAIT_FOR (ph_tray_get_unavailable_reason (f->tray) != NULL
            && strstr (ph_tray_get_unavailable_reason (f->tray), "StatusNotifierHost") != NULL);
  g_assert_false (ph_tray_get_available (f->tray));

  /* a host starts (the panel applet loads) */
  f->host_registered = TRUE;
  g_dbus_connection_emit_signal (f->panel_conn, NULL, WATCHER_PATH, WATCHER_NAME,
                                 "StatusNotifierHostRegistered", NULL, &error);
  g_assert_no_error (error);
  WAIT_FOR (ph_tray_get_available (f->tray));

  /* and stops: the tray asks the watcher again */
  f->host_registered = FALSE;
  g_dbus_connection_emit_signal (f->panel_conn, NULL, WATCHER_PATH, WATCHER_NAME,
                                 "StatusNotifierHostUnregistered", NULL, &error);
  g_assert_no_error (error);
  WAIT_FOR (!ph_tray_get_available (f->tray));
}

static void
quit_drops_tray_cb (PhTray *tray, gpointer user_data)
{
  Fixture *f = user_data;

  g_clear_object (&f->tray);
}

static void
test_quit_drops_tray (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  PhTray *weak;

  start_registered (f);
  weak = f->tray;
  g_object_add_weak_pointer (G_OBJECT (f->tray), (gpointer *) &weak);
  g_signal_connect (f->tray, "quit", G_CALLBACK (quit_drops_tray_cb), f);
  g_dbus_connection_signal_unsubscribe (f->panel_conn, f->signal_sub);
  f->signal_sub = 0;

  reply = panel_call (f, g_ptr_array_index (f->registrations, 0), "/MenuBar", MENU_INTERFACE,
                      "Event", g_variant_new ("(isvu)", 6, "clicked", g_variant_new_int32 (0), 0),
                      "()", &error);
  g_assert_no_error (error);
  WAIT_FOR (weak == NULL);
  g_assert_null (f->tray);
}

/* One EventGroup full of clicks on the same items: each acts once, not once per copy. */
static void
test_event_group_flood (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  GVariantBuilder events;

  start_registered (f);
  g_variant_builder_init (&events, G_VARIANT_TYPE ("a(isvu)"));
  for (guint i = 0; i < 5000; i++)
    {
      g_variant_builder_add (&events, "(isvu)", 3, "clicked", g_variant_new_int32 (0), i);
      g_variant_builder_add (&events, "(isvu)", 4, "clicked", g_variant_new_int32 (0), i);
      g_variant_builder_add (&events, "(isvu)", 4, "hovered", g_variant_new_int32 (0), i);
    }
  reply = menu_call (f, "EventGroup", g_variant_new ("(a(isvu))", &events), "(ai)", &error);
  g_assert_no_error (error);
  drain ();
  g_assert_cmpuint (f->n_activate, ==, 1);
  g_assert_cmpuint (f->n_check_now, ==, 1);
  g_assert_cmpuint (f->n_quit, ==, 0);
}

/* GetGroupProperties with one id a hundred thousand times: one answer, not a hundred thousand
 * (a message of ids is answered with property sets many times its size). */
static void
test_group_properties_repeated (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) items = NULL;
  g_autofree gint32 *ids = g_new (gint32, 100000);
  const char *no_names[] = { NULL };

  start_registered (f);
  for (guint i = 0; i < 100000; i++)
    ids[i] = i % 2 ? 3 : 99;
  reply = menu_call (f, "GetGroupProperties",
                     g_variant_new ("(@ai^as)", int_array (ids, 100000), no_names), "(a(ia{sv}))",
                     &error);
  g_assert_no_error (error);
  items = g_variant_get_child_value (reply, 0);
  g_assert_cmpuint (g_variant_n_children (items), ==, 1);
}

/* The panel never answers RegisterStatusNotifierItem: a tray dropped meanwhile goes at once (its
 * name with it), and the late answer finds nothing to register. The pending call used to hold the
 * tray, which stayed on the bus, and registered, for as long as the panel took. */
static void
test_drop_while_registering (Fixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  GDBusMethodInvocation *late;
  PhTray *weak;

  f->hold_registrations = TRUE;
  watcher_start (f);
  fixture_start_tray (f, NULL);
  WAIT_FOR (f->held->len == 1);
  g_assert_false (ph_tray_get_available (f->tray));
  name = g_strdup (ph_tray_get_bus_name (f->tray));
  g_assert_true (name_has_owner (f, name));

  weak = f->tray;
  g_object_add_weak_pointer (G_OBJECT (f->tray), (gpointer *) &weak);
  g_clear_object (&f->tray);
  g_assert_null (weak);
  WAIT_FOR (!name_has_owner (f, name));

  /* the answer comes after all */
  late = g_ptr_array_steal_index (f->held, 0);
  g_dbus_method_invocation_return_value (late, NULL);
  drain ();
  g_assert_false (name_has_owner (f, name));
  g_assert_cmpuint (f->registrations->len, ==, 1);
}

static void
test_escape_label (void)
{
  g_autofree char *a = ph_dbus_menu_escape_label ("a_b__c");
  g_autofree char *b = ph_dbus_menu_escape_label (NULL);

  g_assert_cmpstr (a, ==, "a__b____c");
  g_assert_cmpstr (b, ==, "");
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  test_bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (test_bus);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/tray/no-watcher", test_no_watcher);
  ADD ("/tray/register", test_register);
  ADD ("/tray/properties", test_properties);
  ADD ("/tray/signals", test_signals);
  ADD ("/tray/menu-layout", test_menu_layout);
  ADD ("/tray/menu-events", test_menu_events);
  ADD ("/tray/bad-input", test_bad_input);
  ADD ("/tray/reregister", test_reregister);
  ADD ("/tray/no-host", test_no_host);
  ADD ("/tray/quit-drops-tray", test_quit_drops_tray);
  ADD ("/tray/drop-while-registering", test_drop_while_registering);
  ADD ("/tray/event-group-flood", test_event_group_flood);
  ADD ("/tray/group-properties-repeated", test_group_properties_repeated);
#undef ADD
  g_test_add_func ("/tray/escape-label", test_escape_label);

  ret = g_test_run ();
  g_test_dbus_down (test_bus);
  g_object_unref (test_bus);
  return ret;
}
