/* ph-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "ph-application.h"
#include "ph-autostart.h"
#include "ph-notifier.h"
#include "net/ph-types.h"
#include "porthole-resources.h"
#include "tray/ph-tray.h"
#include "ui/ph-history-window.h"
#include "ui/ph-preferences-window.h"
#include "ui/ph-window.h"

/* Tests and the soak: seconds between background checks instead of the setting's minutes. */
#define TEST_INTERVAL_ENV "PORTHOLE_TEST_CHECK_INTERVAL_S"

struct _PhApplication
{
  AdwApplication parent_instance;

  PhCheckOptions overrides; /* zero: take the settings */
  GSettings *settings;
  PhActions *actions;

  gboolean start_in_background; /* the first activation opens no window */
  gboolean background;          /* held: outlives its windows */

  PhHistory *history;
  GError *history_error; /* a corrupt file set aside at startup, for the history window */
  PhMonitor *monitor;
  PhNotifier *notifier;
  PhTray *tray;
  GCancellable *autostart_cancellable;
  int autostart_reverted; /* the value a failed change was reverted to (its "changed" is ours), or
                             -1 */

  GtkWindow *preferences_window; /* weak */
  GtkWindow *history_window;     /* weak */
};

G_DEFINE_FINAL_TYPE (PhApplication, ph_application, ADW_TYPE_APPLICATION)

PhApplication *
ph_application_new (const PhCheckOptions *overrides)
{
  PhApplication *self;

  /* before the application's D-Bus connection and libnm's start their threads (ph-types.h) */
  ph_types_ensure ();
  self = g_object_new (PH_TYPE_APPLICATION, "application-id", APP_ID, "flags",
                       G_APPLICATION_DEFAULT_FLAGS, "resource-base-path",
                       "/io/github/porthole/Porthole", NULL);

  if (overrides)
    {
      self->overrides = *overrides;
      self->overrides.peers = g_strdupv (overrides->peers);
    }
  return self;
}

void
ph_application_set_start_in_background (PhApplication *self, gboolean background)
{
  g_return_if_fail (PH_IS_APPLICATION (self));

  self->start_in_background = background;
}

gboolean
ph_application_get_background (PhApplication *self)
{
  g_return_val_if_fail (PH_IS_APPLICATION (self), FALSE);

  return self->background;
}

static GSettings *
get_settings (PhApplication *self)
{
  if (!self->settings)
    self->settings = g_settings_new (APP_ID);
  return self->settings;
}

void
ph_application_get_check_options (PhApplication *self, PhCheckOptions *options)
{
  g_auto (GStrv) peers = NULL;
  g_autoptr (GVariant) user_port = NULL;
  GSettings *settings;

  g_return_if_fail (PH_IS_APPLICATION (self));

  settings = get_settings (self);
  user_port = g_settings_get_user_value (settings, "port");
  /* 0: the kubo node's swarm port, else the default; a port the user set wins */
  options->port = self->overrides.port ? self->overrides.port
                  : user_port          ? g_variant_get_uint32 (user_port)
                                       : 0;
  options->timeout_s = self->overrides.timeout_s ? self->overrides.timeout_s
                                                 : g_settings_get_uint (settings, "probe-timeout");
  /* a non-empty list replaces the default servers; so does --peer */
  peers = self->overrides.peers ? g_strdupv (self->overrides.peers)
                                : g_settings_get_strv (settings, "peers");
  options->peers = peers && peers[0] ? g_steal_pointer (&peers) : NULL;
  options->no_upnp = self->overrides.no_upnp;
}

PhActions *
ph_application_get_actions (PhApplication *self)
{
  g_return_val_if_fail (PH_IS_APPLICATION (self), NULL);

  if (!self->actions)
    {
      g_autoptr (PhChangeLog) log = ph_change_log_new (NULL);

      self->actions = ph_actions_new (log);
    }
  return self->actions;
}

void
ph_application_record_diagnosis (PhApplication *self, PhDiagnosis *diagnosis)
{
  g_return_if_fail (PH_IS_APPLICATION (self));
  g_return_if_fail (PH_IS_DIAGNOSIS (diagnosis));

  /* the monitor keeps it in the history and tells the tray and the notifier */
  if (self->monitor)
    ph_monitor_record (self->monitor, diagnosis);
}

PhMonitor *
ph_application_get_monitor (PhApplication *self)
{
  g_return_val_if_fail (PH_IS_APPLICATION (self), NULL);

  return self->monitor;
}

PhHistory *
ph_application_get_history (PhApplication *self)
{
  g_return_val_if_fail (PH_IS_APPLICATION (self), NULL);

  return self->history;
}

/* ---- the watch ---- */

static void
monitor_options (PhCheckOptions *options, gpointer user_data)
{
  ph_application_get_check_options (PH_APPLICATION (user_data), options);
}

static void
update_interval (PhApplication *self)
{
  const char *test_interval = g_getenv (TEST_INTERVAL_ENV);
  guint64 seconds = 0;

  if (test_interval && g_ascii_string_to_unsigned (test_interval, 10, 1, 24 * 3600, &seconds, NULL))
    {
      ph_monitor_set_interval (self->monitor, (guint) seconds);
      return;
    }
  ph_monitor_set_interval (self->monitor,
                           g_settings_get_uint (get_settings (self), "check-interval") * 60);
}

static void
check_interval_changed_cb (GSettings *settings, const char *key, gpointer user_data)
{
  update_interval (PH_APPLICATION (user_data));
}

static void
update_tray (PhApplication *self)
{
  if (!self->tray)
    return;
  ph_tray_set_state (self->tray, ph_monitor_get_state (self->monitor), NULL,
                     ph_monitor_get_last_check (self->monitor));
}

static void
monitor_state_cb (GObject *monitor, GParamSpec *pspec, gpointer user_data)
{
  update_tray (PH_APPLICATION (user_data));
}

/* No pop-up about what the window in front of the user shows anyway. */
static gboolean
notifier_quiet (gpointer user_data)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (user_data));

  return window && PH_IS_WINDOW (window) && gtk_widget_get_visible (GTK_WIDGET (window))
         && gtk_window_is_active (window);
}

static void
enter_background (PhApplication *self)
{
  if (self->background)
    return;
  self->background = TRUE;
  /* released by g_application_quit () only: closing the window leaves the watch running */
  g_application_hold (G_APPLICATION (self));
  ph_monitor_start (self->monitor);
}

/* ---- autostart ---- */

static void
autostart_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  PhApplication *self;

  if (ph_autostart_set_finish (result, &error))
    return;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = PH_APPLICATION (user_data);
  g_warning ("autostart: %s", error->message);
  /* the switch shows what is true: the entry was not made (or not removed). dconf tells of the
   * change later, from the main loop: remember which "changed" is this one. */
  self->autostart_reverted = !g_settings_get_boolean (get_settings (self), "autostart");
  g_settings_set_boolean (get_settings (self), "autostart", self->autostart_reverted);
}

static void
autostart_changed_cb (GSettings *settings, const char *key, gpointer user_data)
{
  PhApplication *self = PH_APPLICATION (user_data);
  gboolean enabled = g_settings_get_boolean (settings, key);

  if (self->autostart_reverted == enabled)
    {
      self->autostart_reverted = -1;
      return;
    }
  self->autostart_reverted = -1;
  g_cancellable_cancel (self->autostart_cancellable);
  g_clear_object (&self->autostart_cancellable);
  self->autostart_cancellable = g_cancellable_new ();
  /* the callback runs before finalize: shutdown cancels, and the app outlives its main loop */
  ph_autostart_set_async (enabled, self->autostart_cancellable, autostart_done_cb, self);
}

/* ---- windows ---- */

static GtkWindow *
ensure_window (PhApplication *self)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

  for (GList *l = windows; l; l = l->next)
    if (PH_IS_WINDOW (l->data))
      {
        gtk_window_present (GTK_WINDOW (l->data));
        return GTK_WINDOW (l->data);
      }
  {
    GtkWindow *window = GTK_WINDOW (ph_window_new (self));

    gtk_window_present (window);
    return window;
  }
}

static void
ph_application_activate (GApplication *app)
{
  PhApplication *self = PH_APPLICATION (app);

  if (self->start_in_background)
    {
      /* `porthole --background`: the panel icon and notifications, no window */
      self->start_in_background = FALSE;
      enter_background (self);
      return;
    }
  ensure_window (self);
}

static void
about_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));
  /* Filled at run time (an automatic array may hold a call), so the credit is translated too. */
  const char *developers[] = { _ ("The Porthole developers"), NULL };

  adw_show_about_window (parent, "application-name", _ ("Porthole"), "application-icon", APP_ID,
                         "developer-name", _ ("The Porthole developers"), "version",
                         PACKAGE_VERSION, "website", "https://github.com/porthole/porthole",
                         "issue-url", "https://github.com/porthole/porthole/issues", "license-type",
                         GTK_LICENSE_GPL_3_0, "developers", developers,
                         /* TRANSLATORS: your names, one per line */
                         "translator-credits", _ ("translator-credits"), NULL);
}

static void
quit_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static GtkWindow *
find_main_window (PhApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    if (PH_IS_WINDOW (l->data) && gtk_widget_get_visible (GTK_WIDGET (l->data)))
      return GTK_WINDOW (l->data);
  return NULL;
}

static void
update_tray_reason (PhApplication *self)
{
  if (!self->preferences_window)
    return;
  ph_preferences_window_set_tray_reason (
      PH_PREFERENCES_WINDOW (self->preferences_window),
      self->tray ? ph_tray_get_unavailable_reason (self->tray)
                 : _ ("There is no session bus to show a panel icon on."));
}

static void
tray_available_cb (GObject *tray, GParamSpec *pspec, gpointer user_data)
{
  update_tray_reason (PH_APPLICATION (user_data));
}

static void
preferences_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  PhApplication *self = PH_APPLICATION (user_data);

  if (!self->preferences_window)
    {
      self->preferences_window = GTK_WINDOW (ph_preferences_window_new (get_settings (self)));
      g_object_add_weak_pointer (G_OBJECT (self->preferences_window),
                                 (gpointer *) &self->preferences_window);
      gtk_window_set_application (self->preferences_window, GTK_APPLICATION (self));
      update_tray_reason (self);
    }
  gtk_window_set_transient_for (self->preferences_window, find_main_window (self));
  gtk_window_present (self->preferences_window);
}

static void
history_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  PhApplication *self = PH_APPLICATION (user_data);

  if (!self->history_window)
    {
      self->history_window
          = GTK_WINDOW (ph_history_window_new (self->history, self->history_error));
      g_object_add_weak_pointer (G_OBJECT (self->history_window),
                                 (gpointer *) &self->history_window);
      gtk_window_set_application (self->history_window, GTK_APPLICATION (self));
    }
  gtk_window_set_transient_for (self->history_window, find_main_window (self));
  gtk_window_present (self->history_window);
}

static void
check_now_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  PhApplication *self = PH_APPLICATION (user_data);
  GtkWindow *window = find_main_window (self);

  /* with the window open, the check runs there, where its progress shows; it records the
   * result here when done. Without one, the monitor checks quietly. */
  if (window)
    gtk_widget_activate_action (GTK_WIDGET (window), "win.check", NULL);
  else
    ph_monitor_check_now (self->monitor);
}

static void
show_fix_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  PhApplication *self = PH_APPLICATION (user_data);
  GtkWindow *window = ensure_window (self);
  PhDiagnosis *diagnosis = ph_monitor_get_diagnosis (self->monitor);
  PhFix fixes[4];
  guint n = diagnosis ? ph_diagnosis_list_fixes (diagnosis, fixes) : 0;

  /* the road most likely to work for what the last check found; the result when none is needed */
  if (n > 0) /* win.show-fix takes the road's name (ph-window.c) */
    gtk_widget_activate_action (GTK_WIDGET (window), "win.show-fix", "s",
                                ph_fix_to_string (fixes[0]));
  else
    ph_window_show_page (PH_WINDOW (window), "result");
}

static void
background_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  enter_background (PH_APPLICATION (user_data));
}

static const GActionEntry app_actions[] = {
  { "about", about_activated, NULL, NULL, NULL, { 0 } },
  { "quit", quit_activated, NULL, NULL, NULL, { 0 } },
  { "preferences", preferences_activated, NULL, NULL, NULL, { 0 } },
  { "history", history_activated, NULL, NULL, NULL, { 0 } },
  { "check-now", check_now_activated, NULL, NULL, NULL, { 0 } },
  { "show-fix", show_fix_activated, NULL, NULL, NULL, { 0 } },
  { "background", background_activated, NULL, NULL, NULL, { 0 } },
};

static void
tray_activate_cb (PhTray *tray, gpointer user_data)
{
  g_application_activate (G_APPLICATION (user_data));
}

static void
tray_check_now_cb (PhTray *tray, gpointer user_data)
{
  g_action_group_activate_action (G_ACTION_GROUP (user_data), "check-now", NULL);
}

static void
tray_quit_cb (PhTray *tray, gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
start_watch (PhApplication *self)
{
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (self));
  g_autoptr (GError) error = NULL;

  self->history = ph_history_new (NULL);
  if (!ph_history_load (self->history, &error))
    {
      /* set aside, never a crash: the history window says where it went */
      g_warning ("history: %s", error->message);
      self->history_error = g_steal_pointer (&error);
    }

  self->monitor = ph_monitor_new (monitor_options, self, self->history);
  update_interval (self);
  g_signal_connect_object (get_settings (self), "changed::check-interval",
                           G_CALLBACK (check_interval_changed_cb), self, 0);
  g_signal_connect_object (get_settings (self), "changed::autostart",
                           G_CALLBACK (autostart_changed_cb), self, 0);
  /* GSettings only emits "changed" for keys that were read */
  (void) g_settings_get_boolean (get_settings (self), "autostart");

  self->notifier = ph_notifier_new (G_APPLICATION (self), self->monitor);
  ph_notifier_set_quiet_func (self->notifier, notifier_quiet, self);

  if (bus)
    {
      self->tray = ph_tray_new (bus, NULL);
      g_signal_connect_object (self->tray, "activate", G_CALLBACK (tray_activate_cb), self, 0);
      g_signal_connect_object (self->tray, "check-now", G_CALLBACK (tray_check_now_cb), self, 0);
      g_signal_connect_object (self->tray, "quit", G_CALLBACK (tray_quit_cb), self, 0);
      g_signal_connect_object (self->tray, "notify::available", G_CALLBACK (tray_available_cb),
                               self, 0);
    }
  g_signal_connect_object (self->monitor, "notify::state", G_CALLBACK (monitor_state_cb), self, 0);
  g_signal_connect_object (self->monitor, "notify::diagnosis", G_CALLBACK (monitor_state_cb), self,
                           0);
  update_tray (self);
}

static void
ph_application_startup (GApplication *app)
{
  PhApplication *self = PH_APPLICATION (app);
  const char *quit_accels[] = { "<Control>q", NULL };
  const char *check_accels[] = { "<Control>r", "F5", NULL };
  const char *close_accels[] = { "<Control>w", NULL };
  const char *preferences_accels[] = { "<Control>comma", NULL };
  const char *history_accels[] = { "<Control>h", NULL };

  G_APPLICATION_CLASS (ph_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.check", check_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "window.close", close_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences",
                                         preferences_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.history", history_accels);

  start_watch (self);
}

static void
ph_application_shutdown (GApplication *app)
{
  PhApplication *self = PH_APPLICATION (app);
  GList *windows;

  /* app.quit (Ctrl+Q, the tray's Quit) ends the run with windows still open, and each holds a
   * reference on the application that GTK never drops by itself: the application would outlive
   * g_application_run () and stay registered on the bus. Their checks are cancelled and their
   * last results recorded (ph_window_dispose) while the monitor and the tray are still here. */
  while ((windows = gtk_application_get_windows (GTK_APPLICATION (app))) != NULL)
    gtk_window_destroy (windows->data);
  g_cancellable_cancel (self->autostart_cancellable);
  /* GLib 2.74's freedesktop notification backend recurses until the stack overflows when it is
   * disposed with a notification still listed (the list's free function unrefs the backend being
   * disposed). Withdraw ours before the application goes: the process is leaving, so the
   * notification's action could no longer reach this instance anyway. */
  if (self->notifier && ph_notifier_get_sent (self->notifier) > 0)
    g_application_withdraw_notification (app, PH_NOTIFIER_ID);
  if (self->monitor)
    ph_monitor_stop (self->monitor);
  if (self->monitor)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->notifier);
  g_clear_object (&self->tray);
  G_APPLICATION_CLASS (ph_application_parent_class)->shutdown (app);
}

static void
ph_application_finalize (GObject *object)
{
  PhApplication *self = PH_APPLICATION (object);

  ph_check_options_clear (&self->overrides);
  g_clear_object (&self->autostart_cancellable);
  g_clear_object (&self->notifier);
  g_clear_object (&self->tray);
  g_clear_object (&self->monitor);
  g_clear_object (&self->history);
  g_clear_error (&self->history_error);
  g_clear_object (&self->settings);
  g_clear_object (&self->actions);
  G_OBJECT_CLASS (ph_application_parent_class)->finalize (object);
}

static void
ph_application_class_init (PhApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  porthole_register_resource ();

  G_OBJECT_CLASS (klass)->finalize = ph_application_finalize;
  app_class->activate = ph_application_activate;
  app_class->startup = ph_application_startup;
  app_class->shutdown = ph_application_shutdown;
}

static void
ph_application_init (PhApplication *self)
{
  self->autostart_reverted = -1;
}
