/* ph-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "ph-application.h"
#include "porthole-resources.h"
#include "ui/ph-window.h"

struct _PhApplication
{
  AdwApplication parent_instance;

  PhCheckOptions overrides; /* zero: take the settings */
  GSettings *settings;
  PhActions *actions;
};

G_DEFINE_FINAL_TYPE (PhApplication, ph_application, ADW_TYPE_APPLICATION)

PhApplication *
ph_application_new (const PhCheckOptions *overrides)
{
  PhApplication *self = g_object_new (PH_TYPE_APPLICATION, "application-id", APP_ID, "flags",
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
ph_application_get_check_options (PhApplication *self, PhCheckOptions *options)
{
  g_auto (GStrv) peers = NULL;
  g_autoptr (GVariant) user_port = NULL;

  g_return_if_fail (PH_IS_APPLICATION (self));

  if (!self->settings)
    self->settings = g_settings_new (APP_ID);
  user_port = g_settings_get_user_value (self->settings, "port");
  /* 0: the kubo node's swarm port, else the default; a port the user set wins */
  options->port = self->overrides.port ? self->overrides.port
                  : user_port          ? g_variant_get_uint32 (user_port)
                                       : 0;
  options->timeout_s = self->overrides.timeout_s
                           ? self->overrides.timeout_s
                           : g_settings_get_uint (self->settings, "probe-timeout");
  /* a non-empty list replaces the default servers; so does --peer */
  peers = self->overrides.peers ? g_strdupv (self->overrides.peers)
                                : g_settings_get_strv (self->settings, "peers");
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
  /* the monitor, tray and history take it from here (issue #6) */
}

static void
ph_application_finalize (GObject *object)
{
  PhApplication *self = PH_APPLICATION (object);

  ph_check_options_clear (&self->overrides);
  g_clear_object (&self->settings);
  g_clear_object (&self->actions);
  G_OBJECT_CLASS (ph_application_parent_class)->finalize (object);
}

static void
ph_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    window = GTK_WINDOW (ph_window_new (PH_APPLICATION (app)));
  gtk_window_present (window);
}

static void
about_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));
  const char *developers[] = { "The Porthole developers", NULL };

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

static const GActionEntry app_actions[] = {
  { "about", about_activated, NULL, NULL, NULL, { 0 } },
  { "quit", quit_activated, NULL, NULL, NULL, { 0 } },
};

static void
ph_application_startup (GApplication *app)
{
  const char *quit_accels[] = { "<Control>q", NULL };
  const char *check_accels[] = { "<Control>r", "F5", NULL };
  const char *close_accels[] = { "<Control>w", NULL };

  G_APPLICATION_CLASS (ph_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.check", check_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "window.close", close_accels);
}

static void
ph_application_class_init (PhApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  porthole_register_resource ();

  G_OBJECT_CLASS (klass)->finalize = ph_application_finalize;
  app_class->activate = ph_application_activate;
  app_class->startup = ph_application_startup;
}

static void
ph_application_init (PhApplication *self)
{
}
