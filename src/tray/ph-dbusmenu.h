/* ph-dbusmenu.h: a flat menu exported as com.canonical.dbusmenu (version 3)
 *
 * The protocol is the one libdbusmenu speaks (its com.canonical.dbusmenu.xml is the reference):
 * a tree of items, id 0 the root, each with a property dictionary ("label", "enabled", "type",
 * …); the host fetches it with GetLayout and reports clicks with Event. Porthole's tray menu has
 * one level, so this keeps a list of children of the root and nothing deeper.
 *
 * Every id a peer sends is checked: an unknown one gets an InvalidArgs error, never a crash.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define PH_TYPE_DBUS_MENU (ph_dbus_menu_get_type ())
G_DECLARE_FINAL_TYPE (PhDbusMenu, ph_dbus_menu, PH, DBUS_MENU, GObject)

typedef enum
{
  PH_DBUS_MENU_ITEM_STANDARD,
  PH_DBUS_MENU_ITEM_SEPARATOR,
} PhDbusMenuItemType;

PhDbusMenu *
ph_dbus_menu_new (void);
/* Appends a child of the root; returns its id (> 0). label uses "_" for the access key, like
 * GTK; a literal underscore must be doubled (ph_dbus_menu_escape_label). */
gint
ph_dbus_menu_append (PhDbusMenu *self, PhDbusMenuItemType type, const char *label,
                     gboolean enabled);
/* Both emit ItemsPropertiesUpdated and LayoutUpdated when exported, and only on a change. */
void
ph_dbus_menu_set_label (PhDbusMenu *self, gint id, const char *label);
void
ph_dbus_menu_set_enabled (PhDbusMenu *self, gint id, gboolean enabled);
const char *
ph_dbus_menu_get_label (PhDbusMenu *self, gint id);
guint
ph_dbus_menu_get_revision (PhDbusMenu *self);
void
ph_dbus_menu_set_icon_theme_path (PhDbusMenu *self, const char *path);
/* "Check_Now" → "Check__Now": text shown as is, no access key. */
char *
ph_dbus_menu_escape_label (const char *text);

gboolean
ph_dbus_menu_export (PhDbusMenu *self, GDBusConnection *connection, const char *object_path,
                     GError **error);
void
ph_dbus_menu_unexport (PhDbusMenu *self);

/* signal "clicked" (gint id): an enabled standard item was clicked (Event "clicked"). */

G_END_DECLS
