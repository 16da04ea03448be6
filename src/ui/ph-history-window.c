/* ph-history-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "ph-history-window.h"

struct _PhHistoryWindow
{
  AdwWindow parent_instance;

  GtkStack *stack;
  AdwPreferencesGroup *corrupt_group;
  AdwActionRow *corrupt_row;
  AdwPreferencesGroup *list_group;

  PhHistory *history;
  GPtrArray *rows; /* in list_group, for the next rebuild */
  gboolean corrupt;
};

G_DEFINE_FINAL_TYPE (PhHistoryWindow, ph_history_window, ADW_TYPE_WINDOW)

static const char *
verdict_label (PhVerdict verdict)
{
  switch (verdict)
    {
      case PH_VERDICT_REACHABLE:
        return _ ("reachable");
      case PH_VERDICT_UNREACHABLE:
        return _ ("not reachable");
      case PH_VERDICT_UNKNOWN:
      default:
        return _ ("unknown");
    }
}

static const char *
how_label (const char *how)
{
  if (g_strcmp0 (how, "direct") == 0)
    return _ ("Direct");
  if (g_strcmp0 (how, "upnp") == 0)
    return _ ("UPnP");
  if (g_strcmp0 (how, "forward") == 0)
    return _ ("Port forward");
  if (g_strcmp0 (how, "ipv6") == 0)
    return _ ("IPv6");
  return _ ("Not reachable");
}

static GtkWidget *
entry_row_new (const PhHistoryEntry *entry, guint n)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *how = gtk_label_new (how_label (entry->how));
  g_autoptr (GDateTime) when = g_date_time_new_from_unix_local (entry->time);
  g_autofree char *title = NULL;
  g_autofree char *verdicts = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *name = g_strdup_printf ("history-row-%u", n);

  /* TRANSLATORS: when a check ran, in g_date_time_format () notation */
  title = when ? g_date_time_format (when, _ ("%Y-%m-%d %H:%M")) : g_strdup ("?");
  /* TRANSLATORS: "IPv4 reachable · IPv6 not reachable" */
  verdicts = g_strdup_printf (_ ("IPv4 %s · IPv6 %s"), verdict_label (entry->ipv4),
                              verdict_label (entry->ipv6));
  if (entry->cause)
    subtitle = g_strdup_printf ("%s\n%s", verdicts, ph_diagnosis_explain_cause (entry->cause));
  else
    subtitle = g_steal_pointer (&verdicts);

  gtk_widget_set_name (row, name);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  gtk_label_set_wrap (GTK_LABEL (how), TRUE);
  gtk_label_set_xalign (GTK_LABEL (how), 1.0);
  gtk_widget_add_css_class (how, entry->how ? "success" : "dim-label");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), how);
  return row;
}

static void
rebuild (PhHistoryWindow *self)
{
  GPtrArray *entries = ph_history_get_entries (self->history);

  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (self->list_group, g_ptr_array_index (self->rows, i));
  g_ptr_array_set_size (self->rows, 0);

  for (guint i = 0; entries && i < entries->len; i++)
    {
      GtkWidget *row = entry_row_new (g_ptr_array_index (entries, i), i);

      adw_preferences_group_add (self->list_group, row);
      g_ptr_array_add (self->rows, row);
    }
  gtk_stack_set_visible_child_name (self->stack,
                                    self->rows->len || self->corrupt ? "list" : "empty");
}

static void
history_changed_cb (PhHistory *history, gpointer user_data)
{
  rebuild (PH_HISTORY_WINDOW (user_data));
}

guint
ph_history_window_get_n_rows (PhHistoryWindow *self)
{
  g_return_val_if_fail (PH_IS_HISTORY_WINDOW (self), 0);

  return self->rows->len;
}

static void
ph_history_window_dispose (GObject *object)
{
  PhHistoryWindow *self = PH_HISTORY_WINDOW (object);

  if (self->history)
    g_signal_handlers_disconnect_by_data (self->history, self);
  g_clear_object (&self->history);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), PH_TYPE_HISTORY_WINDOW);
  G_OBJECT_CLASS (ph_history_window_parent_class)->dispose (object);
}

static void
ph_history_window_class_init (PhHistoryWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ph_history_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/porthole/Porthole/ph-history-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PhHistoryWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, PhHistoryWindow, corrupt_group);
  gtk_widget_class_bind_template_child (widget_class, PhHistoryWindow, corrupt_row);
  gtk_widget_class_bind_template_child (widget_class, PhHistoryWindow, list_group);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ph_history_window_init (PhHistoryWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->rows = g_ptr_array_new ();
}

GtkWidget *
ph_history_window_new (PhHistory *history, const GError *load_error)
{
  PhHistoryWindow *self;

  g_return_val_if_fail (PH_IS_HISTORY (history), NULL);

  self = g_object_new (PH_TYPE_HISTORY_WINDOW, NULL);
  self->history = g_object_ref (history);
  if (load_error)
    {
      /* never a crash, never silence: the file was set aside, the message says where */
      self->corrupt = TRUE;
      adw_action_row_set_subtitle (self->corrupt_row, load_error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->corrupt_group), TRUE);
    }
  g_signal_connect (history, "changed", G_CALLBACK (history_changed_cb), self);
  rebuild (self);
  return GTK_WIDGET (self);
}
