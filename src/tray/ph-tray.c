/* ph-tray.c
 *
 * StatusNotifierItem as freedesktop.org's draft describes it (the KDE interface names, which every
 * host speaks): the item owns org.kde.StatusNotifierItem-<pid>-<n>, exports /StatusNotifierItem and
 * calls RegisterStatusNotifierItem on org.kde.StatusNotifierWatcher. Hosts read the properties and
 * follow the New* signals; the menu is com.canonical.dbusmenu at /MenuBar (ph-dbusmenu.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <unistd.h>

#include "ph-dbusmenu.h"
#include "ph-tray.h"

#define SNI_INTERFACE "org.kde.StatusNotifierItem"
#define SNI_PATH "/StatusNotifierItem"
#define MENU_PATH "/MenuBar"
#define WATCHER_NAME "org.kde.StatusNotifierWatcher"
#define WATCHER_PATH "/StatusNotifierWatcher"
#define WATCHER_INTERFACE "org.kde.StatusNotifierWatcher"

static const char introspection_xml[]
    = "<node>"
      "  <interface name='org.kde.StatusNotifierItem'>"
      "    <property name='Category' type='s' access='read'/>"
      "    <property name='Id' type='s' access='read'/>"
      "    <property name='Title' type='s' access='read'/>"
      "    <property name='Status' type='s' access='read'/>"
      "    <property name='WindowId' type='i' access='read'/>"
      "    <property name='IconThemePath' type='s' access='read'/>"
      "    <property name='IconName' type='s' access='read'/>"
      "    <property name='IconPixmap' type='a(iiay)' access='read'/>"
      "    <property name='OverlayIconName' type='s' access='read'/>"
      "    <property name='OverlayIconPixmap' type='a(iiay)' access='read'/>"
      "    <property name='AttentionIconName' type='s' access='read'/>"
      "    <property name='AttentionIconPixmap' type='a(iiay)' access='read'/>"
      "    <property name='AttentionMovieName' type='s' access='read'/>"
      "    <property name='ToolTip' type='(sa(iiay)ss)' access='read'/>"
      "    <property name='ItemIsMenu' type='b' access='read'/>"
      "    <property name='Menu' type='o' access='read'/>"
      "    <method name='ContextMenu'>"
      "      <arg type='i' name='x' direction='in'/>"
      "      <arg type='i' name='y' direction='in'/>"
      "    </method>"
      "    <method name='Activate'>"
      "      <arg type='i' name='x' direction='in'/>"
      "      <arg type='i' name='y' direction='in'/>"
      "    </method>"
      "    <method name='SecondaryActivate'>"
      "      <arg type='i' name='x' direction='in'/>"
      "      <arg type='i' name='y' direction='in'/>"
      "    </method>"
      "    <method name='Scroll'>"
      "      <arg type='i' name='delta' direction='in'/>"
      "      <arg type='s' name='orientation' direction='in'/>"
      "    </method>"
      "    <signal name='NewTitle'/>"
      "    <signal name='NewIcon'/>"
      "    <signal name='NewAttentionIcon'/>"
      "    <signal name='NewOverlayIcon'/>"
      "    <signal name='NewToolTip'/>"
      "    <signal name='NewStatus'>"
      "      <arg type='s' name='status'/>"
      "    </signal>"
      "  </interface>"
      "</node>";

struct _PhTray
{
  GObject parent_instance;

  GDBusConnection *connection;
  char *icon_theme_path;

  PhReachability state;
  char *status_line; /* as given, or the state's description */
  GDateTime *last_check;

  /* what hosts last saw: a New* signal goes out only when one of these changes */
  char *title;
  const char *icon_name;
  const char *status;
  char *tooltip;

  PhDbusMenu *menu;
  gint status_item;
  gint open_item;
  gint check_item;
  gint quit_item;

  char *bus_name;
  guint own_id;
  guint watch_id;
  guint object_id;
  guint host_registered_id;
  guint host_unregistered_id;
  GCancellable *cancellable; /* the pending registration with the current watcher */

  gboolean name_ready; /* bus_name is ours (or fell back to the unique name) */
  char *watcher_owner; /* unique name of the watcher, NULL when none */
  gboolean registering;
  gboolean registered;      /* the current watcher accepted us */
  gboolean host_registered; /* TRUE unless the watcher says no host shows items */
  char *register_error;     /* why the watcher refused us, NULL otherwise */
  char *export_error;       /* why we could not even export the item */

  gboolean available;
  char *unavailable_reason;
};

G_DEFINE_FINAL_TYPE (PhTray, ph_tray, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_AVAILABLE,
  PROP_UNAVAILABLE_REASON,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_ACTIVATE,
  SIGNAL_CHECK_NOW,
  SIGNAL_QUIT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GDBusInterfaceInfo *
sni_interface_info (void)
{
  static GDBusNodeInfo *node_info;

  if (g_once_init_enter (&node_info))
    {
      GDBusNodeInfo *info = g_dbus_node_info_new_for_xml (introspection_xml, NULL);

      g_assert (info != NULL);
      g_once_init_leave (&node_info, info);
    }
  return node_info->interfaces[0];
}

/* The pending call holds the cancellable of its round and only a weak reference to the tray: a
 * watcher that went away (or a tray that was disposed) cancels it, and the answer is then
 * ignored. A strong one would keep a dropped tray alive, exported and owning its name, for as
 * long as the watcher takes to answer (25 s, or never for one that hangs), and then register it. */
typedef struct
{
  GWeakRef self;
  GCancellable *cancellable;
} PhTrayCall;

static PhTrayCall *
ph_tray_call_new (PhTray *self)
{
  PhTrayCall *call = g_new0 (PhTrayCall, 1);

  g_weak_ref_init (&call->self, self);
  call->cancellable = g_object_ref (self->cancellable);
  return call;
}

static void
ph_tray_call_free (PhTrayCall *call)
{
  g_weak_ref_clear (&call->self);
  g_object_unref (call->cancellable);
  g_free (call);
}

/* The tray the answer is for, or NULL when the answer is to be ignored. */
static PhTray *
ph_tray_call_get_tray (PhTrayCall *call)
{
  PhTray *self;

  if (g_cancellable_is_cancelled (call->cancellable))
    return NULL;
  self = g_weak_ref_get (&call->self);
  if (self != NULL && self->cancellable != call->cancellable)
    g_clear_object (&self);
  return self;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhTrayCall, ph_tray_call_free)

/* ---- what the item shows ---- */

static const char *
sni_status (PhReachability state)
{
  /* NeedsAttention asks the host to make the icon stand out: the node cannot be reached */
  return state == PH_REACHABILITY_UNREACHABLE ? "NeedsAttention" : "Active";
}

static char *
format_last_check (GDateTime *last_check)
{
  g_autoptr (GDateTime) local = NULL;
  g_autofree char *when = NULL;

  if (last_check == NULL)
    return g_strdup (_ ("Not checked yet"));
  local = g_date_time_to_local (last_check);
  /* Translators: date and time of the last check in the tray tooltip, a g_date_time_format()
   * (strftime-like) format, e.g. "Mar 5, 14:07" */
  /* xgettext:no-c-format */
  when = g_date_time_format (local, _ ("%b %-d, %H:%M"));
  if (when == NULL)
    when = g_date_time_format (local, "%F %R");
  /* Translators: %s is a date and time, e.g. "Mar 5, 14:07" */
  return g_strdup_printf (_ ("Last check: %s"), when);
}

static char *
build_tooltip (PhTray *self)
{
  g_autofree char *line = g_markup_escape_text (self->status_line, -1);
  g_autofree char *when = format_last_check (self->last_check);
  g_autofree char *when_escaped = g_markup_escape_text (when, -1);

  /* the draft allows a little HTML markup in the body, so the text is escaped */
  return g_strdup_printf ("%s\n%s", line, when_escaped);
}

static char *
build_title (PhTray *self)
{
  /* Translators: the tray item's title; %s says whether the node is reachable */
  return g_strdup_printf (_ ("Porthole — %s"), ph_reachability_describe (self->state));
}

static GVariant *
empty_pixmaps (void)
{
  return g_variant_new_array (G_VARIANT_TYPE ("(iiay)"), NULL, 0);
}

static GVariant *
tooltip_variant (PhTray *self)
{
  return g_variant_new ("(s@a(iiay)ss)", self->icon_name, empty_pixmaps (), _ ("Porthole"),
                        self->tooltip);
}

static void
emit_sni_signal (PhTray *self, const char *name, GVariant *parameters)
{
  g_autoptr (GError) error = NULL;

  if (self->object_id == 0)
    {
      if (parameters != NULL)
        g_variant_unref (g_variant_ref_sink (parameters));
      return;
    }
  if (!g_dbus_connection_emit_signal (self->connection, NULL, SNI_PATH, SNI_INTERFACE, name,
                                      parameters, &error))
    g_debug ("tray: %s: %s", name, error->message);
}

/* ---- availability ---- */

static void
update_available (PhTray *self)
{
  const char *reason = NULL;
  gboolean available;

  if (self->export_error != NULL)
    reason = self->export_error;
  else if (self->watcher_owner == NULL)
    reason
        = _ ("Your desktop shows no status icons (no StatusNotifierWatcher on the session bus).");
  else if (self->register_error != NULL)
    reason = self->register_error;
  else if (!self->registered)
    reason = _ ("The panel has not yet accepted the status icon.");
  else if (!self->host_registered)
    reason = _ ("Your desktop shows no status icons (no StatusNotifierHost is registered).");
  available = reason == NULL;

  if (g_strcmp0 (reason, self->unavailable_reason) != 0)
    {
      g_free (self->unavailable_reason);
      self->unavailable_reason = g_strdup (reason);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNAVAILABLE_REASON]);
    }
  if (available != self->available)
    {
      self->available = available;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AVAILABLE]);
    }
}

static void
host_registered_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PhTrayCall) call = user_data;
  g_autoptr (PhTray) self = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) value = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (!(self = ph_tray_call_get_tray (call)))
    return;
  if (reply == NULL)
    {
      /* a watcher without the property: take it that its host shows us */
      g_debug ("tray: IsStatusNotifierHostRegistered: %s", error->message);
      self->host_registered = TRUE;
    }
  else
    {
      g_variant_get (reply, "(v)", &value);
      self->host_registered
          = !g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN) || g_variant_get_boolean (value);
    }
  update_available (self);
}

static void
query_host_registered (PhTray *self)
{
  if (self->watcher_owner == NULL || self->cancellable == NULL)
    return;
  g_dbus_connection_call (
      self->connection, self->watcher_owner, WATCHER_PATH, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", WATCHER_INTERFACE, "IsStatusNotifierHostRegistered"),
      G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, host_registered_cb,
      ph_tray_call_new (self));
}

static void
register_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PhTrayCall) call = user_data;
  g_autoptr (PhTray) self = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (!(self = ph_tray_call_get_tray (call)))
    return;
  self->registering = FALSE;
  g_clear_pointer (&self->register_error, g_free);
  if (reply == NULL)
    {
      g_autofree char *detail = g_dbus_error_get_remote_error (error);

      g_dbus_error_strip_remote_error (error);
      g_debug ("tray: RegisterStatusNotifierItem: %s (%s)", error->message, detail ? detail : "");
      self->registered = FALSE;
      /* Translators: %s is the technical reason the panel gave, in English */
      self->register_error
          = g_strdup_printf (_ ("The panel refused the status icon: %s"), error->message);
      update_available (self);
      return;
    }
  self->registered = TRUE;
  /* until the watcher says otherwise, a host is there: most watchers live inside their host */
  self->host_registered = TRUE;
  update_available (self);
  query_host_registered (self);
}

static void
maybe_register (PhTray *self)
{
  if (!self->name_ready || self->watcher_owner == NULL || self->object_id == 0)
    return;
  if (self->registering || self->registered)
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->registering = TRUE;
  g_dbus_connection_call (self->connection, self->watcher_owner, WATCHER_PATH, WATCHER_INTERFACE,
                          "RegisterStatusNotifierItem", g_variant_new ("(s)", self->bus_name), NULL,
                          G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, register_cb,
                          ph_tray_call_new (self));
}

static void
forget_watcher (PhTray *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->watcher_owner, g_free);
  g_clear_pointer (&self->register_error, g_free);
  self->registering = FALSE;
  self->registered = FALSE;
  self->host_registered = FALSE;
}

static void
watcher_appeared_cb (GDBusConnection *connection, const char *name, const char *owner,
                     gpointer user_data)
{
  PhTray *self = user_data;

  /* a new owner is a new watcher (the panel restarted): it knows nothing of us */
  forget_watcher (self);
  self->watcher_owner = g_strdup (owner);
  update_available (self);
  maybe_register (self);
}

static void
watcher_vanished_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  PhTray *self = user_data;

  forget_watcher (self);
  update_available (self);
}

static void
host_signal_cb (GDBusConnection *connection, const char *sender, const char *object_path,
                const char *interface_name, const char *signal_name, GVariant *parameters,
                gpointer user_data)
{
  PhTray *self = user_data;

  if (!self->registered || g_strcmp0 (sender, self->watcher_owner) != 0)
    return;
  if (g_str_equal (signal_name, "StatusNotifierHostRegistered"))
    {
      self->host_registered = TRUE;
      update_available (self);
    }
  else
    {
      /* one host left; others may remain: ask */
      query_host_registered (self);
    }
}

static void
name_acquired_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  PhTray *self = user_data;

  self->name_ready = TRUE;
  maybe_register (self);
}

static void
name_lost_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  PhTray *self = user_data;
  const char *unique = g_dbus_connection_get_unique_name (self->connection);

  if (unique == NULL || g_str_equal (self->bus_name, unique))
    return;
  /* the draft allows registering under the unique name: watchers then use /StatusNotifierItem */
  g_debug ("tray: could not own %s, registering as %s", self->bus_name, unique);
  g_free (self->bus_name);
  self->bus_name = g_strdup (unique);
  self->name_ready = TRUE;
  if (self->registering)
    {
      /* that registration named a name that is not ours: make it again */
      g_cancellable_cancel (self->cancellable);
      self->registering = FALSE;
    }
  self->registered = FALSE;
  update_available (self);
  maybe_register (self);
}

/* ---- org.kde.StatusNotifierItem ---- */

static void
sni_method_call (GDBusConnection *connection, const char *sender, const char *object_path,
                 const char *interface_name, const char *method_name, GVariant *parameters,
                 GDBusMethodInvocation *invocation, gpointer user_data)
{
  g_autoptr (PhTray) self = g_object_ref (user_data);

  /* GDBus has checked the argument types; the reply goes before the signal, whose handler may
   * drop the tray */
  g_dbus_method_invocation_return_value (invocation, NULL);
  if (g_str_equal (method_name, "Activate"))
    g_signal_emit (self, signals[SIGNAL_ACTIVATE], 0);
  else if (g_str_equal (method_name, "SecondaryActivate"))
    g_signal_emit (self, signals[SIGNAL_CHECK_NOW], 0);
  /* ContextMenu: hosts show Menu themselves; Scroll: nothing to scroll through */
}

static GVariant *
sni_get_property (GDBusConnection *connection, const char *sender, const char *object_path,
                  const char *interface_name, const char *property_name, GError **error,
                  gpointer user_data)
{
  PhTray *self = user_data;

  if (g_str_equal (property_name, "Category"))
    return g_variant_new_string ("ApplicationStatus");
  if (g_str_equal (property_name, "Id"))
    return g_variant_new_string (APP_ID);
  if (g_str_equal (property_name, "Title"))
    return g_variant_new_string (self->title);
  if (g_str_equal (property_name, "Status"))
    return g_variant_new_string (self->status);
  if (g_str_equal (property_name, "WindowId"))
    return g_variant_new_int32 (0);
  if (g_str_equal (property_name, "IconThemePath"))
    return g_variant_new_string (self->icon_theme_path ? self->icon_theme_path : "");
  if (g_str_equal (property_name, "IconName") || g_str_equal (property_name, "AttentionIconName"))
    return g_variant_new_string (self->icon_name);
  if (g_str_equal (property_name, "OverlayIconName")
      || g_str_equal (property_name, "AttentionMovieName"))
    return g_variant_new_string ("");
  if (g_str_has_suffix (property_name, "Pixmap"))
    return empty_pixmaps ();
  if (g_str_equal (property_name, "ToolTip"))
    return tooltip_variant (self);
  if (g_str_equal (property_name, "ItemIsMenu"))
    return g_variant_new_boolean (FALSE);
  if (g_str_equal (property_name, "Menu"))
    return g_variant_new_object_path (MENU_PATH);
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "No property %s", property_name);
  return NULL;
}

static const GDBusInterfaceVTable sni_vtable = {
  .method_call = sni_method_call,
  .get_property = sni_get_property,
};

/* ---- the menu ---- */

static void
menu_clicked_cb (PhDbusMenu *menu, gint id, gpointer user_data)
{
  PhTray *self = user_data;

  if (id == self->open_item)
    g_signal_emit (self, signals[SIGNAL_ACTIVATE], 0);
  else if (id == self->check_item)
    g_signal_emit (self, signals[SIGNAL_CHECK_NOW], 0);
  else if (id == self->quit_item)
    g_signal_emit (self, signals[SIGNAL_QUIT], 0);
}

static void
build_menu (PhTray *self)
{
  g_autofree char *line = ph_dbus_menu_escape_label (self->status_line);

  self->menu = ph_dbus_menu_new ();
  ph_dbus_menu_set_icon_theme_path (self->menu, self->icon_theme_path);
  self->status_item = ph_dbus_menu_append (self->menu, PH_DBUS_MENU_ITEM_STANDARD, line, FALSE);
  ph_dbus_menu_append (self->menu, PH_DBUS_MENU_ITEM_SEPARATOR, NULL, TRUE);
  self->open_item
      = ph_dbus_menu_append (self->menu, PH_DBUS_MENU_ITEM_STANDARD, _ ("_Open Porthole"), TRUE);
  self->check_item = ph_dbus_menu_append (self->menu, PH_DBUS_MENU_ITEM_STANDARD, _ ("_Check Now"),
                                          self->state != PH_REACHABILITY_CHECKING);
  ph_dbus_menu_append (self->menu, PH_DBUS_MENU_ITEM_SEPARATOR, NULL, TRUE);
  self->quit_item = ph_dbus_menu_append (self->menu, PH_DBUS_MENU_ITEM_STANDARD, _ ("_Quit"), TRUE);
  g_signal_connect (self->menu, "clicked", G_CALLBACK (menu_clicked_cb), self);
}

/* ---- public ---- */

PhTray *
ph_tray_new (GDBusConnection *session_bus, const char *icon_theme_path)
{
  static gint counter;
  PhTray *self;
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (session_bus), NULL);

  self = g_object_new (PH_TYPE_TRAY, NULL);
  self->connection = g_object_ref (session_bus);
  self->icon_theme_path = g_strdup (icon_theme_path);
  self->bus_name = g_strdup_printf ("org.kde.StatusNotifierItem-%d-%d", (int) getpid (),
                                    g_atomic_int_add (&counter, 1) + 1);
  self->title = build_title (self);
  self->tooltip = build_tooltip (self);
  build_menu (self);

  self->object_id = g_dbus_connection_register_object (
      self->connection, SNI_PATH, sni_interface_info (), &sni_vtable, self, NULL, &error);
  if (self->object_id == 0
      || !ph_dbus_menu_export (self->menu, self->connection, MENU_PATH, &error))
    {
      g_warning ("tray: cannot export the status icon: %s", error->message);
      /* Translators: %s is a technical error message */
      self->export_error = g_strdup_printf (
          _ ("The status icon could not be put on the session bus: %s"), error->message);
      update_available (self);
      return self;
    }

  self->own_id = g_bus_own_name_on_connection (self->connection, self->bus_name,
                                               G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                               name_acquired_cb, name_lost_cb, self, NULL);
  self->watch_id = g_bus_watch_name_on_connection (
      self->connection, WATCHER_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE, watcher_appeared_cb,
      watcher_vanished_cb, self, NULL);
  self->host_registered_id = g_dbus_connection_signal_subscribe (
      self->connection, WATCHER_NAME, WATCHER_INTERFACE, "StatusNotifierHostRegistered",
      WATCHER_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE, host_signal_cb, self, NULL);
  self->host_unregistered_id = g_dbus_connection_signal_subscribe (
      self->connection, WATCHER_NAME, WATCHER_INTERFACE, "StatusNotifierHostUnregistered",
      WATCHER_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE, host_signal_cb, self, NULL);
  return self;
}

void
ph_tray_set_state (PhTray *self, PhReachability state, const char *status_line,
                   GDateTime *last_check)
{
  g_autofree char *title = NULL;
  g_autofree char *tooltip = NULL;
  g_autofree char *label = NULL;
  const char *icon_name;
  const char *status;

  g_return_if_fail (PH_IS_TRAY (self));

  self->state = state;
  g_free (self->status_line);
  self->status_line = g_strdup (status_line ? status_line : ph_reachability_describe (state));
  g_clear_pointer (&self->last_check, g_date_time_unref);
  if (last_check != NULL)
    self->last_check = g_date_time_ref (last_check);

  title = build_title (self);
  tooltip = build_tooltip (self);
  icon_name = ph_reachability_icon_name (state);
  status = sni_status (state);

  if (!g_str_equal (title, self->title))
    {
      g_free (self->title);
      self->title = g_steal_pointer (&title);
      emit_sni_signal (self, "NewTitle", NULL);
    }
  if (!g_str_equal (icon_name, self->icon_name))
    {
      self->icon_name = icon_name;
      emit_sni_signal (self, "NewIcon", NULL);
      emit_sni_signal (self, "NewAttentionIcon", NULL);
      /* the tooltip carries the icon name too */
      g_clear_pointer (&self->tooltip, g_free);
    }
  if (g_strcmp0 (tooltip, self->tooltip) != 0)
    {
      g_free (self->tooltip);
      self->tooltip = g_steal_pointer (&tooltip);
      emit_sni_signal (self, "NewToolTip", NULL);
    }
  if (!g_str_equal (status, self->status))
    {
      self->status = status;
      emit_sni_signal (self, "NewStatus", g_variant_new ("(s)", status));
    }

  label = ph_dbus_menu_escape_label (self->status_line);
  ph_dbus_menu_set_label (self->menu, self->status_item, label);
  /* a check is running: another one would be ignored (ph_monitor_check_now) */
  ph_dbus_menu_set_enabled (self->menu, self->check_item, state != PH_REACHABILITY_CHECKING);
}

PhReachability
ph_tray_get_state (PhTray *self)
{
  g_return_val_if_fail (PH_IS_TRAY (self), PH_REACHABILITY_UNKNOWN);
  return self->state;
}

gboolean
ph_tray_get_available (PhTray *self)
{
  g_return_val_if_fail (PH_IS_TRAY (self), FALSE);
  return self->available;
}

const char *
ph_tray_get_unavailable_reason (PhTray *self)
{
  g_return_val_if_fail (PH_IS_TRAY (self), NULL);
  return self->available ? NULL : self->unavailable_reason;
}

const char *
ph_tray_get_bus_name (PhTray *self)
{
  g_return_val_if_fail (PH_IS_TRAY (self), NULL);
  return self->bus_name;
}

/* ---- GObject ---- */

static void
ph_tray_dispose (GObject *object)
{
  PhTray *self = PH_TRAY (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->watch_id != 0)
    g_bus_unwatch_name (self->watch_id);
  self->watch_id = 0;
  if (self->own_id != 0)
    g_bus_unown_name (self->own_id);
  self->own_id = 0;
  if (self->host_registered_id != 0)
    g_dbus_connection_signal_unsubscribe (self->connection, self->host_registered_id);
  self->host_registered_id = 0;
  if (self->host_unregistered_id != 0)
    g_dbus_connection_signal_unsubscribe (self->connection, self->host_unregistered_id);
  self->host_unregistered_id = 0;
  if (self->object_id != 0)
    g_dbus_connection_unregister_object (self->connection, self->object_id);
  self->object_id = 0;
  if (self->menu != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->menu, self);
      ph_dbus_menu_unexport (self->menu);
    }
  g_clear_object (&self->menu);
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (ph_tray_parent_class)->dispose (object);
}

static void
ph_tray_finalize (GObject *object)
{
  PhTray *self = PH_TRAY (object);

  g_free (self->icon_theme_path);
  g_free (self->status_line);
  g_clear_pointer (&self->last_check, g_date_time_unref);
  g_free (self->title);
  g_free (self->tooltip);
  g_free (self->bus_name);
  g_free (self->watcher_owner);
  g_free (self->register_error);
  g_free (self->export_error);
  g_free (self->unavailable_reason);
  G_OBJECT_CLASS (ph_tray_parent_class)->finalize (object);
}

static void
ph_tray_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PhTray *self = PH_TRAY (object);

  switch (prop_id)
    {
      case PROP_AVAILABLE:
        g_value_set_boolean (value, ph_tray_get_available (self));
        break;
      case PROP_UNAVAILABLE_REASON:
        g_value_set_string (value, ph_tray_get_unavailable_reason (self));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ph_tray_class_init (PhTrayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ph_tray_dispose;
  object_class->finalize = ph_tray_finalize;
  object_class->get_property = ph_tray_get_property;

  properties[PROP_AVAILABLE]
      = g_param_spec_boolean ("available", NULL, NULL, FALSE,
                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_UNAVAILABLE_REASON]
      = g_param_spec_string ("unavailable-reason", NULL, NULL, NULL,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_ACTIVATE] = g_signal_new ("activate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_CHECK_NOW] = g_signal_new ("check-now", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_QUIT] = g_signal_new ("quit", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ph_tray_init (PhTray *self)
{
  self->state = PH_REACHABILITY_UNKNOWN;
  self->status_line = g_strdup (ph_reachability_describe (self->state));
  self->icon_name = ph_reachability_icon_name (self->state);
  self->status = sni_status (self->state);
  self->unavailable_reason = g_strdup (
      _ ("Your desktop shows no status icons (no StatusNotifierWatcher on the session bus)."));
}
