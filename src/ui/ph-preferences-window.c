/* ph-preferences-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "ph-preferences-window.h"

struct _PhPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  GtkWidget *autostart_switch;
  GtkWidget *interval_spin;
  GtkWidget *port_spin;
  AdwActionRow *tray_row;
  AdwPreferencesGroup *peers_group;
  AdwEntryRow *peer_entry;

  GSettings *settings;
  GPtrArray *peer_rows; /* the rows added to peers_group, for the next rebuild */
};

G_DEFINE_FINAL_TYPE (PhPreferencesWindow, ph_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* A light look at what was typed: the check itself parses it and says what is wrong. The UI may
 * not call src/p2p/, and a server without /p2p/ cannot be asked (its key authenticates it). */
static gboolean
looks_like_server (const char *text)
{
  return text[0] == '/' && strstr (text, "/p2p/") != NULL && !strchr (text, ' ');
}

static void
remove_peer_clicked_cb (GtkButton *button, gpointer user_data)
{
  PhPreferencesWindow *self = PH_PREFERENCES_WINDOW (user_data);
  const char *peer = g_object_get_data (G_OBJECT (button), "peer");
  g_auto (GStrv) peers = g_settings_get_strv (self->settings, "peers");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) kept = NULL;

  for (guint i = 0; peers[i]; i++)
    if (g_strcmp0 (peers[i], peer) != 0)
      g_strv_builder_add (builder, peers[i]);
  kept = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "peers", (const char *const *) kept);
}

static void
rebuild_peers (PhPreferencesWindow *self)
{
  g_auto (GStrv) peers = g_settings_get_strv (self->settings, "peers");

  for (guint i = 0; i < self->peer_rows->len; i++)
    adw_preferences_group_remove (self->peers_group, g_ptr_array_index (self->peer_rows, i));
  g_ptr_array_set_size (self->peer_rows, 0);

  for (guint i = 0; peers[i]; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *button = gtk_button_new_from_icon_name ("list-remove-symbolic");
      g_autofree char *row_name = g_strdup_printf ("prefs-peer-%u", i);
      g_autofree char *button_name = g_strdup_printf ("prefs-peer-remove-%u", i);

      gtk_widget_set_name (row, row_name);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), peers[i]);
      gtk_widget_add_css_class (row, "property");
      gtk_widget_set_name (button, button_name);
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_tooltip_text (button, _ ("Remove This Server"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _ ("Remove This Server"), -1);
      g_object_set_data_full (G_OBJECT (button), "peer", g_strdup (peers[i]), g_free);
      g_signal_connect_object (button, "clicked", G_CALLBACK (remove_peer_clicked_cb), self, 0);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
      adw_preferences_group_add (self->peers_group, row);
      g_ptr_array_add (self->peer_rows, row);
    }
}

static void
peers_changed_cb (GSettings *settings, const char *key, gpointer user_data)
{
  rebuild_peers (PH_PREFERENCES_WINDOW (user_data));
}

static void
peer_entry_apply_cb (PhPreferencesWindow *self)
{
  g_autofree char *text
      = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->peer_entry))));
  g_auto (GStrv) peers = NULL;
  g_autoptr (GStrvBuilder) builder = NULL;
  g_auto (GStrv) added = NULL;

  if (!looks_like_server (text))
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->peer_entry), "error");
      adw_preferences_window_add_toast (
          ADW_PREFERENCES_WINDOW (self),
          adw_toast_new (_ ("A server is a multiaddr ending in /p2p/ and its peer ID")));
      return;
    }
  gtk_widget_remove_css_class (GTK_WIDGET (self->peer_entry), "error");
  peers = g_settings_get_strv (self->settings, "peers");
  if (g_strv_contains ((const char *const *) peers, text))
    {
      gtk_editable_set_text (GTK_EDITABLE (self->peer_entry), "");
      return;
    }
  builder = g_strv_builder_new ();
  g_strv_builder_addv (builder, (const char **) peers);
  g_strv_builder_add (builder, text);
  added = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "peers", (const char *const *) added);
  gtk_editable_set_text (GTK_EDITABLE (self->peer_entry), "");
}

void
ph_preferences_window_set_tray_reason (PhPreferencesWindow *self, const char *reason)
{
  g_return_if_fail (PH_IS_PREFERENCES_WINDOW (self));

  gtk_widget_set_visible (GTK_WIDGET (self->tray_row), reason != NULL);
  adw_action_row_set_subtitle (self->tray_row, reason ? reason : "");
}

static void
ph_preferences_window_dispose (GObject *object)
{
  PhPreferencesWindow *self = PH_PREFERENCES_WINDOW (object);

  if (self->settings)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_pointer (&self->peer_rows, g_ptr_array_unref);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), PH_TYPE_PREFERENCES_WINDOW);
  G_OBJECT_CLASS (ph_preferences_window_parent_class)->dispose (object);
}

static void
ph_preferences_window_class_init (PhPreferencesWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ph_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/porthole/Porthole/ph-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PhPreferencesWindow, autostart_switch);
  gtk_widget_class_bind_template_child (widget_class, PhPreferencesWindow, interval_spin);
  gtk_widget_class_bind_template_child (widget_class, PhPreferencesWindow, port_spin);
  gtk_widget_class_bind_template_child (widget_class, PhPreferencesWindow, tray_row);
  gtk_widget_class_bind_template_child (widget_class, PhPreferencesWindow, peers_group);
  gtk_widget_class_bind_template_child (widget_class, PhPreferencesWindow, peer_entry);
  gtk_widget_class_bind_template_callback (widget_class, peer_entry_apply_cb);
}

static void
ph_preferences_window_init (PhPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->peer_rows = g_ptr_array_new ();
}

GtkWidget *
ph_preferences_window_new (GSettings *settings)
{
  PhPreferencesWindow *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (PH_TYPE_PREFERENCES_WINDOW, NULL);
  self->settings = g_object_ref (settings);
  g_settings_bind (settings, "autostart", self->autostart_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "check-interval", self->interval_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "port", self->port_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_signal_connect (settings, "changed::peers", G_CALLBACK (peers_changed_cb), self);
  rebuild_peers (self);
  return GTK_WIDGET (self);
}
