/* ph-dbusmenu.c
 *
 * com.canonical.dbusmenu as described by libdbusmenu's com.canonical.dbusmenu.xml (protocol
 * version 3), for a menu one level deep.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "ph-dbusmenu.h"

#define PH_DBUS_MENU_VERSION 3

static const char introspection_xml[]
    = "<node>"
      "  <interface name='com.canonical.dbusmenu'>"
      "    <property name='Version' type='u' access='read'/>"
      "    <property name='TextDirection' type='s' access='read'/>"
      "    <property name='Status' type='s' access='read'/>"
      "    <property name='IconThemePath' type='as' access='read'/>"
      "    <method name='GetLayout'>"
      "      <arg type='i' name='parentId' direction='in'/>"
      "      <arg type='i' name='recursionDepth' direction='in'/>"
      "      <arg type='as' name='propertyNames' direction='in'/>"
      "      <arg type='u' name='revision' direction='out'/>"
      "      <arg type='(ia{sv}av)' name='layout' direction='out'/>"
      "    </method>"
      "    <method name='GetGroupProperties'>"
      "      <arg type='ai' name='ids' direction='in'/>"
      "      <arg type='as' name='propertyNames' direction='in'/>"
      "      <arg type='a(ia{sv})' name='properties' direction='out'/>"
      "    </method>"
      "    <method name='GetProperty'>"
      "      <arg type='i' name='id' direction='in'/>"
      "      <arg type='s' name='name' direction='in'/>"
      "      <arg type='v' name='value' direction='out'/>"
      "    </method>"
      "    <method name='Event'>"
      "      <arg type='i' name='id' direction='in'/>"
      "      <arg type='s' name='eventId' direction='in'/>"
      "      <arg type='v' name='data' direction='in'/>"
      "      <arg type='u' name='timestamp' direction='in'/>"
      "    </method>"
      "    <method name='EventGroup'>"
      "      <arg type='a(isvu)' name='events' direction='in'/>"
      "      <arg type='ai' name='idErrors' direction='out'/>"
      "    </method>"
      "    <method name='AboutToShow'>"
      "      <arg type='i' name='id' direction='in'/>"
      "      <arg type='b' name='needUpdate' direction='out'/>"
      "    </method>"
      "    <method name='AboutToShowGroup'>"
      "      <arg type='ai' name='ids' direction='in'/>"
      "      <arg type='ai' name='updatesNeeded' direction='out'/>"
      "      <arg type='ai' name='idErrors' direction='out'/>"
      "    </method>"
      "    <signal name='ItemsPropertiesUpdated'>"
      "      <arg type='a(ia{sv})' name='updatedProps'/>"
      "      <arg type='a(ias)' name='removedProps'/>"
      "    </signal>"
      "    <signal name='LayoutUpdated'>"
      "      <arg type='u' name='revision'/>"
      "      <arg type='i' name='parent'/>"
      "    </signal>"
      "    <signal name='ItemActivationRequested'>"
      "      <arg type='i' name='id'/>"
      "      <arg type='u' name='timestamp'/>"
      "    </signal>"
      "  </interface>"
      "</node>";

#define PH_DBUS_MENU_INTERFACE "com.canonical.dbusmenu"

typedef struct
{
  PhDbusMenuItemType type;
  char *label;
  gboolean enabled;
} PhDbusMenuItem;

struct _PhDbusMenu
{
  GObject parent_instance;

  GPtrArray *items; /* PhDbusMenuItem*; item id n is items[n - 1]; id 0 is the root */
  guint revision;
  char *icon_theme_path;

  GDBusConnection *connection;
  char *object_path;
  guint registration_id;
};

G_DEFINE_FINAL_TYPE (PhDbusMenu, ph_dbus_menu, G_TYPE_OBJECT)

enum
{
  SIGNAL_CLICKED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
ph_dbus_menu_item_free (gpointer data)
{
  PhDbusMenuItem *item = data;

  g_free (item->label);
  g_free (item);
}

static GDBusInterfaceInfo *
ph_dbus_menu_interface_info (void)
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

/* NULL for the root (id 0) and for ids that do not exist */
static PhDbusMenuItem *
lookup_item (PhDbusMenu *self, gint id)
{
  if (id <= 0 || (guint) id > self->items->len)
    return NULL;
  return g_ptr_array_index (self->items, id - 1);
}

static gboolean
id_exists (PhDbusMenu *self, gint id)
{
  return id == 0 || lookup_item (self, id) != NULL;
}

static gboolean
wanted (const char *const *names, const char *name)
{
  /* an empty list asks for every property */
  return names == NULL || names[0] == NULL || g_strv_contains (names, name);
}

static GVariant *
item_properties (PhDbusMenu *self, gint id, const char *const *names)
{
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  PhDbusMenuItem *item = lookup_item (self, id);

  if (id == 0)
    {
      if (wanted (names, "children-display"))
        g_variant_builder_add (&builder, "{sv}", "children-display",
                               g_variant_new_string ("submenu"));
    }
  else if (item != NULL && item->type == PH_DBUS_MENU_ITEM_SEPARATOR)
    {
      if (wanted (names, "type"))
        g_variant_builder_add (&builder, "{sv}", "type", g_variant_new_string ("separator"));
    }
  else if (item != NULL)
    {
      if (wanted (names, "label"))
        g_variant_builder_add (&builder, "{sv}", "label",
                               g_variant_new_string (item->label ? item->label : ""));
      if (wanted (names, "enabled"))
        g_variant_builder_add (&builder, "{sv}", "enabled", g_variant_new_boolean (item->enabled));
    }
  if (id != 0 && item != NULL && wanted (names, "visible"))
    g_variant_builder_add (&builder, "{sv}", "visible", g_variant_new_boolean (TRUE));
  return g_variant_builder_end (&builder);
}

static GVariant *
item_layout (PhDbusMenu *self, gint id, gint depth, const char *const *names)
{
  g_auto (GVariantBuilder) children = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));

  /* depth -1: everything below; 0: the item alone; n: n levels of children */
  if (id == 0 && depth != 0)
    for (guint i = 0; i < self->items->len; i++)
      g_variant_builder_add (&children, "v", item_layout (self, (gint) i + 1, depth - 1, names));
  return g_variant_new ("(i@a{sv}av)", id, item_properties (self, id, names), &children);
}

static gboolean
return_unknown_id (GDBusMethodInvocation *invocation, gint id)
{
  g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                         "No menu item with id %d", id);
  return FALSE;
}

static void
handle_get_layout (PhDbusMenu *self, GVariant *parameters, GDBusMethodInvocation *invocation)
{
  gint32 parent, depth;
  g_autofree const char **names = NULL;

  g_variant_get (parameters, "(ii^a&s)", &parent, &depth, &names);
  if (!id_exists (self, parent))
    {
      return_unknown_id (invocation, parent);
      return;
    }
  if (depth < -1)
    depth = -1;
  g_dbus_method_invocation_return_value (
      invocation, g_variant_new ("(u@(ia{sv}av))", self->revision,
                                 item_layout (self, parent, depth, (const char *const *) names)));
}

static void
handle_get_group_properties (PhDbusMenu *self, GVariant *parameters,
                             GDBusMethodInvocation *invocation)
{
  g_autoptr (GVariant) ids = NULL;
  g_autofree const char **names = NULL;
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ia{sv})"));
  g_autofree gboolean *seen = NULL;
  const gint32 *id_list;
  gsize n_ids = 0;
  guint found = 0;

  g_variant_get (parameters, "(@ai^a&s)", &ids, &names);
  id_list = g_variant_get_fixed_array (ids, &n_ids, sizeof (gint32));
  if (n_ids == 0)
    {
      /* libdbusmenu answers an empty list with every item */
      for (guint i = 0; i <= self->items->len; i++)
        g_variant_builder_add (&builder, "(i@a{sv})", (gint) i,
                               item_properties (self, (gint) i, (const char *const *) names));
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a(ia{sv}))", &builder));
      return;
    }
  /* each item once, however often it is asked for: a message of a million copies of one id
   * would otherwise be answered with a million property sets, hundreds of times its size */
  seen = g_new0 (gboolean, self->items->len + 1);
  for (gsize i = 0; i < n_ids; i++)
    {
      /* unknown ids are left out of the answer, as libdbusmenu does */
      if (!id_exists (self, id_list[i]) || seen[id_list[i]])
        continue;
      seen[id_list[i]] = TRUE;
      g_variant_builder_add (&builder, "(i@a{sv})", id_list[i],
                             item_properties (self, id_list[i], (const char *const *) names));
      found++;
    }
  if (found == 0)
    {
      return_unknown_id (invocation, id_list[0]);
      return;
    }
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a(ia{sv}))", &builder));
}

static void
handle_get_property (PhDbusMenu *self, GVariant *parameters, GDBusMethodInvocation *invocation)
{
  gint32 id;
  const char *name;
  const char *names[2] = { NULL, NULL };
  g_autoptr (GVariant) props = NULL;
  g_autoptr (GVariant) value = NULL;

  g_variant_get (parameters, "(i&s)", &id, &name);
  if (!id_exists (self, id))
    {
      return_unknown_id (invocation, id);
      return;
    }
  names[0] = name;
  props = g_variant_ref_sink (item_properties (self, id, names));
  value = g_variant_lookup_value (props, name, NULL);
  if (value == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                             "Menu item %d has no property “%s”", id, name);
      return;
    }
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(v)", value));
}

/* FALSE when the id is unknown; a click on a disabled item or a separator does nothing */
static gboolean
dispatch_event (PhDbusMenu *self, gint id, const char *event_id)
{
  PhDbusMenuItem *item;

  if (!id_exists (self, id))
    return FALSE;
  item = lookup_item (self, id);
  /* "hovered", "opened", "closed" and vendor events need no answer here */
  if (item == NULL || g_strcmp0 (event_id, "clicked") != 0)
    return TRUE;
  if (item->type != PH_DBUS_MENU_ITEM_STANDARD || !item->enabled)
    return TRUE;
  g_signal_emit (self, signals[SIGNAL_CLICKED], 0, id);
  return TRUE;
}

/* The reply goes out before the signals: a "quit" handler may drop the menu. */
static void
handle_event (PhDbusMenu *self, GVariant *parameters, GDBusMethodInvocation *invocation)
{
  gint32 id;
  const char *event_id;
  g_autoptr (GVariant) data = NULL;
  guint32 timestamp;

  g_variant_get (parameters, "(i&svu)", &id, &event_id, &data, &timestamp);
  if (!id_exists (self, id))
    {
      return_unknown_id (invocation, id);
      return;
    }
  g_dbus_method_invocation_return_value (invocation, NULL);
  g_object_ref (self);
  dispatch_event (self, id, event_id);
  g_object_unref (self);
}

static void
handle_event_group (PhDbusMenu *self, GVariant *parameters, GDBusMethodInvocation *invocation)
{
  g_autoptr (GVariant) events = NULL;
  g_autoptr (GArray) errors = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr (GArray) good = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GHashTable) clicked = NULL;
  gsize n;

  g_variant_get (parameters, "(@a(isvu))", &events);
  n = g_variant_n_children (events);
  for (gsize i = 0; i < n; i++)
    {
      gint32 id;
      guint idx = (guint) i;

      g_variant_get_child (events, i, "(i&svu)", &id, NULL, NULL, NULL);
      if (id_exists (self, id))
        g_array_append_val (good, idx);
      else
        g_array_append_val (errors, id);
    }
  /* the spec: an error only when none of the ids exists */
  if (n > 0 && good->len == 0)
    {
      return_unknown_id (invocation, g_array_index (errors, gint32, 0));
      return;
    }
  g_dbus_method_invocation_return_value (
      invocation,
      g_variant_new ("(@ai)", g_variant_new_fixed_array (G_VARIANT_TYPE_INT32, errors->data,
                                                         errors->len, sizeof (gint32))));
  /* One click per item and group: a peer that sends a million clicks on "Open Porthole" in one
   * message would otherwise hold the main loop for as long as a million "activate"s take. */
  clicked = g_hash_table_new (NULL, NULL);
  g_object_ref (self);
  for (guint i = 0; i < good->len; i++)
    {
      gint32 id;
      const char *event_id;

      g_variant_get_child (events, g_array_index (good, guint, i), "(i&svu)", &id, &event_id, NULL,
                           NULL);
      if (g_strcmp0 (event_id, "clicked") == 0)
        {
          if (!g_hash_table_add (clicked, GINT_TO_POINTER (id)))
            continue;
        }
      dispatch_event (self, id, event_id);
    }
  g_object_unref (self);
}

static void
handle_about_to_show (PhDbusMenu *self, GVariant *parameters, GDBusMethodInvocation *invocation)
{
  gint32 id;

  g_variant_get (parameters, "(i)", &id);
  if (!id_exists (self, id))
    {
      return_unknown_id (invocation, id);
      return;
    }
  /* the menu is always up to date: the tray pushes every change as it happens */
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(b)", FALSE));
}

static void
handle_about_to_show_group (PhDbusMenu *self, GVariant *parameters,
                            GDBusMethodInvocation *invocation)
{
  g_autoptr (GVariant) ids = NULL;
  g_autoptr (GArray) errors = g_array_new (FALSE, FALSE, sizeof (gint32));
  const gint32 *id_list;
  gsize n_ids = 0;

  g_variant_get (parameters, "(@ai)", &ids);
  id_list = g_variant_get_fixed_array (ids, &n_ids, sizeof (gint32));
  for (gsize i = 0; i < n_ids; i++)
    if (!id_exists (self, id_list[i]))
      g_array_append_val (errors, id_list[i]);
  if (n_ids > 0 && errors->len == n_ids)
    {
      return_unknown_id (invocation, id_list[0]);
      return;
    }
  g_dbus_method_invocation_return_value (
      invocation,
      g_variant_new ("(@ai@ai)",
                     g_variant_new_fixed_array (G_VARIANT_TYPE_INT32, NULL, 0, sizeof (gint32)),
                     g_variant_new_fixed_array (G_VARIANT_TYPE_INT32, errors->data, errors->len,
                                                sizeof (gint32))));
}

static void
method_call (GDBusConnection *connection, const char *sender, const char *object_path,
             const char *interface_name, const char *method_name, GVariant *parameters,
             GDBusMethodInvocation *invocation, gpointer user_data)
{
  PhDbusMenu *self = user_data;

  /* GDBus has checked the argument types against the introspection data already */
  if (g_str_equal (method_name, "GetLayout"))
    handle_get_layout (self, parameters, invocation);
  else if (g_str_equal (method_name, "GetGroupProperties"))
    handle_get_group_properties (self, parameters, invocation);
  else if (g_str_equal (method_name, "GetProperty"))
    handle_get_property (self, parameters, invocation);
  else if (g_str_equal (method_name, "Event"))
    handle_event (self, parameters, invocation);
  else if (g_str_equal (method_name, "EventGroup"))
    handle_event_group (self, parameters, invocation);
  else if (g_str_equal (method_name, "AboutToShow"))
    handle_about_to_show (self, parameters, invocation);
  else if (g_str_equal (method_name, "AboutToShowGroup"))
    handle_about_to_show_group (self, parameters, invocation);
  else
    g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                           "No method %s", method_name);
}

static const char *
text_direction (void)
{
  /* Translators: the direction your language is written in; "rtl" for right-to-left languages
   * such as Arabic or Hebrew, otherwise "ltr". Any other value is read as "ltr". */
  const char *direction = C_ ("text direction", "ltr");

  return g_str_equal (direction, "rtl") ? "rtl" : "ltr";
}

static GVariant *
get_property (GDBusConnection *connection, const char *sender, const char *object_path,
              const char *interface_name, const char *property_name, GError **error,
              gpointer user_data)
{
  PhDbusMenu *self = user_data;

  if (g_str_equal (property_name, "Version"))
    return g_variant_new_uint32 (PH_DBUS_MENU_VERSION);
  if (g_str_equal (property_name, "TextDirection"))
    return g_variant_new_string (text_direction ());
  if (g_str_equal (property_name, "Status"))
    return g_variant_new_string ("normal");
  if (g_str_equal (property_name, "IconThemePath"))
    {
      const char *paths[2] = { self->icon_theme_path, NULL };

      return g_variant_new_strv (paths, self->icon_theme_path ? 1 : 0);
    }
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "No property %s", property_name);
  return NULL;
}

static const GDBusInterfaceVTable vtable = {
  .method_call = method_call,
  .get_property = get_property,
};

static void
emit_layout_updated (PhDbusMenu *self)
{
  g_autoptr (GError) error = NULL;

  if (self->registration_id == 0)
    return;
  if (!g_dbus_connection_emit_signal (self->connection, NULL, self->object_path,
                                      PH_DBUS_MENU_INTERFACE, "LayoutUpdated",
                                      g_variant_new ("(ui)", self->revision, 0), &error))
    g_debug ("dbusmenu: LayoutUpdated: %s", error->message);
}

static void
emit_item_updated (PhDbusMenu *self, gint id)
{
  g_auto (GVariantBuilder) updated = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ia{sv})"));
  g_autoptr (GError) error = NULL;
  GVariant *removed;

  self->revision++;
  if (self->registration_id == 0)
    return;
  g_variant_builder_add (&updated, "(i@a{sv})", id, item_properties (self, id, NULL));
  removed = g_variant_new_array (G_VARIANT_TYPE ("(ias)"), NULL, 0);
  if (!g_dbus_connection_emit_signal (self->connection, NULL, self->object_path,
                                      PH_DBUS_MENU_INTERFACE, "ItemsPropertiesUpdated",
                                      g_variant_new ("(a(ia{sv})@a(ias))", &updated, removed),
                                      &error))
    {
      g_debug ("dbusmenu: ItemsPropertiesUpdated: %s", error->message);
      return;
    }
  /* hosts that cache the layout (and ignore ItemsPropertiesUpdated) refetch on this */
  emit_layout_updated (self);
}

PhDbusMenu *
ph_dbus_menu_new (void)
{
  return g_object_new (PH_TYPE_DBUS_MENU, NULL);
}

gint
ph_dbus_menu_append (PhDbusMenu *self, PhDbusMenuItemType type, const char *label, gboolean enabled)
{
  PhDbusMenuItem *item;

  g_return_val_if_fail (PH_IS_DBUS_MENU (self), 0);
  g_return_val_if_fail (self->items->len < G_MAXINT32 - 1, 0);

  item = g_new0 (PhDbusMenuItem, 1);
  item->type = type;
  item->label = g_strdup (label);
  item->enabled = enabled;
  g_ptr_array_add (self->items, item);
  self->revision++;
  emit_layout_updated (self);
  return (gint) self->items->len;
}

void
ph_dbus_menu_set_label (PhDbusMenu *self, gint id, const char *label)
{
  PhDbusMenuItem *item;

  g_return_if_fail (PH_IS_DBUS_MENU (self));
  item = lookup_item (self, id);
  g_return_if_fail (item != NULL);

  if (g_strcmp0 (item->label, label) == 0)
    return;
  g_free (item->label);
  item->label = g_strdup (label);
  emit_item_updated (self, id);
}

void
ph_dbus_menu_set_enabled (PhDbusMenu *self, gint id, gboolean enabled)
{
  PhDbusMenuItem *item;

  g_return_if_fail (PH_IS_DBUS_MENU (self));
  item = lookup_item (self, id);
  g_return_if_fail (item != NULL);

  enabled = !!enabled;
  if (item->enabled == enabled)
    return;
  item->enabled = enabled;
  emit_item_updated (self, id);
}

const char *
ph_dbus_menu_get_label (PhDbusMenu *self, gint id)
{
  PhDbusMenuItem *item;

  g_return_val_if_fail (PH_IS_DBUS_MENU (self), NULL);
  item = lookup_item (self, id);
  return item ? item->label : NULL;
}

guint
ph_dbus_menu_get_revision (PhDbusMenu *self)
{
  g_return_val_if_fail (PH_IS_DBUS_MENU (self), 0);
  return self->revision;
}

void
ph_dbus_menu_set_icon_theme_path (PhDbusMenu *self, const char *path)
{
  g_return_if_fail (PH_IS_DBUS_MENU (self));
  g_free (self->icon_theme_path);
  self->icon_theme_path = g_strdup (path);
}

char *
ph_dbus_menu_escape_label (const char *text)
{
  GString *escaped;

  if (text == NULL)
    return g_strdup ("");
  escaped = g_string_new (text);
  g_string_replace (escaped, "_", "__", 0);
  return g_string_free (escaped, FALSE);
}

gboolean
ph_dbus_menu_export (PhDbusMenu *self, GDBusConnection *connection, const char *object_path,
                     GError **error)
{
  g_return_val_if_fail (PH_IS_DBUS_MENU (self), FALSE);
  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), FALSE);
  g_return_val_if_fail (g_variant_is_object_path (object_path), FALSE);
  g_return_val_if_fail (self->registration_id == 0, FALSE);

  self->registration_id = g_dbus_connection_register_object (
      connection, object_path, ph_dbus_menu_interface_info (), &vtable, self, NULL, error);
  if (self->registration_id == 0)
    return FALSE;
  self->connection = g_object_ref (connection);
  self->object_path = g_strdup (object_path);
  return TRUE;
}

void
ph_dbus_menu_unexport (PhDbusMenu *self)
{
  g_return_if_fail (PH_IS_DBUS_MENU (self));

  if (self->registration_id != 0)
    g_dbus_connection_unregister_object (self->connection, self->registration_id);
  self->registration_id = 0;
  g_clear_object (&self->connection);
  g_clear_pointer (&self->object_path, g_free);
}

static void
ph_dbus_menu_dispose (GObject *object)
{
  ph_dbus_menu_unexport (PH_DBUS_MENU (object));
  G_OBJECT_CLASS (ph_dbus_menu_parent_class)->dispose (object);
}

static void
ph_dbus_menu_finalize (GObject *object)
{
  PhDbusMenu *self = PH_DBUS_MENU (object);

  g_ptr_array_unref (self->items);
  g_free (self->icon_theme_path);
  G_OBJECT_CLASS (ph_dbus_menu_parent_class)->finalize (object);
}

static void
ph_dbus_menu_class_init (PhDbusMenuClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ph_dbus_menu_dispose;
  object_class->finalize = ph_dbus_menu_finalize;

  signals[SIGNAL_CLICKED] = g_signal_new ("clicked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void
ph_dbus_menu_init (PhDbusMenu *self)
{
  self->items = g_ptr_array_new_with_free_func (ph_dbus_menu_item_free);
  self->revision = 1;
}
