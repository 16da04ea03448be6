/* ph-window.c
 *
 * The wizard: check → result → fixes → a road (ipv6, upnp, forward, provider) → confirm. Checks
 * run through core (ph_check_run_async) with live progress; every finished one goes to the
 * application (ph_application_record_diagnosis), which the tray, the history and the
 * notifications follow. Each page gets the latest diagnosis as soon as it exists.
 *
 * Back follows the wizard's shape, not the pages visited: a road's parent is the list of roads,
 * the list's parent the result. The result has no parent: "Check Again" is how to go round again.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "core/ph-check.h"
#include "ph-check-page.h"
#include "ph-confirm-page.h"
#include "ph-evidence-dialog.h"
#include "ph-fixes-page.h"
#include "ph-result-page.h"
#include "ph-window.h"

/* H6's road pages, each as soon as it is in src/ui/meson.build (TODO: drop these when all are). */
#define HAVE_IPV6_PAGE 1
#define HAVE_UPNP_PAGE 1
#define HAVE_FORWARD_PAGE 1
#define HAVE_PROVIDER_PAGE 1
#if HAVE_IPV6_PAGE
#include "ph-ipv6-page.h"
#endif
#if HAVE_UPNP_PAGE
#include "ph-upnp-page.h"
#endif
#if HAVE_FORWARD_PAGE
#include "ph-forward-page.h"
#endif
#if HAVE_PROVIDER_PAGE
#include "ph-provider-page.h"
#endif

typedef enum
{
  CHECK_NONE,
  CHECK_MAIN,    /* on the check page, ends on the result page */
  CHECK_CONFIRM, /* after a fix, on the confirm page */
} CheckMode;

/* One running check. progress_data must live until the async callback, which may come after the
 * window is gone (cancelled in dispose): so the run is its own allocation, and the window is
 * touched only while the run's cancellable is not cancelled. */
typedef struct
{
  PhWindow *window; /* unowned; valid while !g_cancellable_is_cancelled (cancellable) */
  GCancellable *cancellable;
  CheckMode mode;
} CheckRun;

struct _PhWindow
{
  AdwApplicationWindow parent_instance;

  AdwToastOverlay *toast_overlay;
  GtkStack *stack;
  AdwWindowTitle *window_title;
  GtkWidget *back_button;

  PhCheckPage *check_page;
  PhResultPage *result_page;
  PhFixesPage *fixes_page;
  PhConfirmPage *confirm_page;
  GtkWidget *road_pages[4]; /* in PhFix order */

  GSettings *settings;
  PhDiagnosis *diagnosis; /* the latest finished check, NULL before the first */
  CheckRun *run;          /* the running check, NULL when none */
  struct _Record *record; /* a finished check not yet recorded by the application */
  char *previous_page;    /* where a cancelled check goes back to */
  char *road;             /* the road page last shown: the confirmation's parent and "how" */
  GtkWindow *evidence;    /* weak */
  guint stale;            /* StalePage bits: pages not yet given the latest diagnosis */
};

typedef enum
{
  STALE_RESULT = 1 << 0,
  STALE_FIXES = 1 << 1,
  STALE_ROAD = 1 << 2, /* << the road's PhFix */
  STALE_ALL = (1 << 6) - 1,
} StalePage;

G_DEFINE_FINAL_TYPE (PhWindow, ph_window, ADW_TYPE_APPLICATION_WINDOW)

static const char *const road_names[4] = { "ipv6", "upnp", "forward", "provider" };

static void
update_chrome (PhWindow *self);
static gboolean
ensure_diagnosis (PhWindow *self);
static void
refresh_page (PhWindow *self, const char *name);

/* g_set_str () is GLib 2.76; Debian 12 has 2.74. */
static void
set_str (char **place, const char *value)
{
  if (*place == value)
    return;
  g_free (*place);
  *place = g_strdup (value);
}

static PhApplication *
get_app (PhWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  return PH_IS_APPLICATION (app) ? PH_APPLICATION (app) : NULL;
}

static int
road_index (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (road_names); i++)
    if (g_strcmp0 (name, road_names[i]) == 0)
      return (int) i;
  return -1;
}

/* ---- H6's pages, by their own API ---- */

static void
road_page_set_diagnosis (GtkWidget *page, PhDiagnosis *diagnosis)
{
#if HAVE_IPV6_PAGE
  if (PH_IS_IPV6_PAGE (page))
    ph_ipv6_page_set_diagnosis (PH_IPV6_PAGE (page), diagnosis);
#endif
#if HAVE_UPNP_PAGE
  if (PH_IS_UPNP_PAGE (page))
    ph_upnp_page_set_diagnosis (PH_UPNP_PAGE (page), diagnosis);
#endif
#if HAVE_FORWARD_PAGE
  if (PH_IS_FORWARD_PAGE (page))
    ph_forward_page_set_diagnosis (PH_FORWARD_PAGE (page), diagnosis);
#endif
#if HAVE_PROVIDER_PAGE
  if (PH_IS_PROVIDER_PAGE (page))
    ph_provider_page_set_diagnosis (PH_PROVIDER_PAGE (page), diagnosis);
#endif
}

static const char *
road_page_get_title (GtkWidget *page, int index)
{
  const char *title = NULL;

#if HAVE_IPV6_PAGE
  if (PH_IS_IPV6_PAGE (page))
    title = ph_ipv6_page_get_title (PH_IPV6_PAGE (page));
#endif
#if HAVE_UPNP_PAGE
  if (PH_IS_UPNP_PAGE (page))
    title = ph_upnp_page_get_title (PH_UPNP_PAGE (page));
#endif
#if HAVE_FORWARD_PAGE
  if (PH_IS_FORWARD_PAGE (page))
    title = ph_forward_page_get_title (PH_FORWARD_PAGE (page));
#endif
#if HAVE_PROVIDER_PAGE
  if (PH_IS_PROVIDER_PAGE (page))
    title = ph_provider_page_get_title (PH_PROVIDER_PAGE (page));
#endif
  return title ? title : ph_fixes_page_road_title ((PhFix) index);
}

/* Until a road's page is built: say so, and keep the way to the confirmation open. */
static GtkWidget *
placeholder_new (int index)
{
  GtkWidget *status = adw_status_page_new ();
  GtkWidget *button = gtk_button_new_with_mnemonic (_ ("_Check Again"));

  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "applications-engineering-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status), ph_fixes_page_road_title ((PhFix) index));
  adw_status_page_set_description (ADW_STATUS_PAGE (status),
                                   _ ("This step is not ready yet in this version of Porthole."));
  gtk_widget_set_halign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "pill");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.confirm");
  adw_status_page_set_child (ADW_STATUS_PAGE (status), button);
  return status;
}

static GtkWidget *
road_page_new (int index)
{
  switch (index)
    {
#if HAVE_IPV6_PAGE
      case PH_FIX_IPV6:
        return ph_ipv6_page_new ();
#endif
#if HAVE_UPNP_PAGE
      case PH_FIX_UPNP:
        return ph_upnp_page_new ();
#endif
#if HAVE_FORWARD_PAGE
      case PH_FIX_FORWARD:
        return ph_forward_page_new ();
#endif
#if HAVE_PROVIDER_PAGE
      case PH_FIX_PROVIDER:
        return ph_provider_page_new ();
#endif
      default:
        return placeholder_new (index);
    }
}

/* ---- pages and navigation ---- */

static const char *
page_title (PhWindow *self, const char *name)
{
  int road = road_index (name);

  if (road >= 0)
    return road_page_get_title (self->road_pages[road], road);
  if (g_strcmp0 (name, "check") == 0)
    return ph_check_page_get_running (self->check_page) ? _ ("Checking") : _ ("Porthole");
  if (g_strcmp0 (name, "result") == 0)
    return _ ("Result");
  if (g_strcmp0 (name, "fixes") == 0)
    return _ ("Fix It");
  if (g_strcmp0 (name, "confirm") == 0)
    return _ ("Did It Work?");
  return _ ("Porthole");
}

/* Where Back goes from a page; NULL when nowhere. */
static const char *
parent_page (PhWindow *self, const char *name)
{
  /* a check running on this page is left with Cancel */
  if (self->run && g_strcmp0 (name, self->run->mode == CHECK_CONFIRM ? "confirm" : "check") == 0)
    return NULL;
  if (g_strcmp0 (name, "fixes") == 0)
    return self->diagnosis ? "result" : NULL;
  if (road_index (name) >= 0)
    return self->diagnosis ? "fixes" : NULL;
  if (g_strcmp0 (name, "confirm") == 0)
    return self->road ? self->road : self->diagnosis ? "fixes" : NULL;
  return NULL;
}

static void
update_chrome (PhWindow *self)
{
  const char *page = ph_window_get_page (self);
  const char *parent = parent_page (self, page);

  adw_window_title_set_title (self->window_title, page_title (self, page));
  gtk_widget_set_visible (self->back_button, parent != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.back", parent != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel", self->run != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.check", self->run == NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.confirm", self->run == NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.evidence", self->diagnosis != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.show-fixes", self->diagnosis != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.show-result", self->diagnosis != NULL);
}

const char *
ph_window_get_page (PhWindow *self)
{
  g_return_val_if_fail (PH_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}

void
ph_window_show_page (PhWindow *self, const char *name)
{
  GtkWidget *child;

  g_return_if_fail (PH_IS_WINDOW (self));
  g_return_if_fail (name != NULL);

  child = gtk_stack_get_child_by_name (self->stack, name);
  if (!child)
    {
      g_warning ("No page named “%s”", name);
      return;
    }
  if (road_index (name) >= 0)
    set_str (&self->road, name);
  if (g_strcmp0 (name, "check") != 0)
    ensure_diagnosis (self); /* e.g. app.show-fix before this window's first check is done */
  refresh_page (self, name);
  gtk_stack_set_visible_child (self->stack, child);
  update_chrome (self);
  /* keyboard users land on the new page, not on a button of the old one */
  gtk_widget_child_focus (child, GTK_DIR_TAB_FORWARD);
}

/* Pages learn of a new diagnosis when they are shown, not all at once when a check ends: building
 * eight pages in one go would hold the main loop for longer than a frame. */
static void
refresh_page (PhWindow *self, const char *name)
{
  int road = road_index (name);
  guint bit;

  if (g_strcmp0 (name, "result") == 0)
    bit = STALE_RESULT;
  else if (g_strcmp0 (name, "fixes") == 0)
    bit = STALE_FIXES;
  else if (road >= 0)
    bit = STALE_ROAD << road;
  else
    return;
  if (!(self->stale & bit) || !self->diagnosis)
    return;
  self->stale &= ~bit;
  if (bit == STALE_RESULT)
    ph_result_page_set_diagnosis (self->result_page, self->diagnosis);
  else if (bit == STALE_FIXES)
    ph_fixes_page_set_diagnosis (self->fixes_page, self->diagnosis);
  else
    road_page_set_diagnosis (self->road_pages[road], self->diagnosis);
}

static void
set_diagnosis (PhWindow *self, PhDiagnosis *diagnosis)
{
  g_set_object (&self->diagnosis, diagnosis);
  self->stale = STALE_ALL;
  /* the page in view follows at once */
  refresh_page (self, ph_window_get_page (self));
}

/* A window opened after a background check (app.show-fix from a notification) starts with what
 * the monitor knows, rather than with nothing while its own check runs. */
static gboolean
ensure_diagnosis (PhWindow *self)
{
  PhApplication *app;
  PhMonitor *monitor;

  if (self->diagnosis)
    return TRUE;
  app = get_app (self);
  monitor = app ? ph_application_get_monitor (app) : NULL;
  if (monitor && ph_monitor_get_diagnosis (monitor))
    {
      set_diagnosis (self, ph_monitor_get_diagnosis (monitor));
      return TRUE;
    }
  return FALSE;
}

/* ---- checks ---- */

static void
check_run_free (CheckRun *run)
{
  g_clear_object (&run->cancellable);
  g_free (run);
}

static void
check_progress (const PhCheckEvent *event, gpointer user_data)
{
  CheckRun *run = user_data;

  if (g_cancellable_is_cancelled (run->cancellable))
    return;
  if (run->mode == CHECK_CONFIRM)
    ph_check_page_handle_event (ph_confirm_page_get_check_page (run->window->confirm_page), event);
  else
    ph_check_page_handle_event (run->window->check_page, event);
}

/* A finished check on its way to the application. The window owns the idle: a check that ends
 * just before the window goes (app.quit) is still recorded, and no source outlives the window
 * holding the application. */
typedef struct _Record
{
  PhWindow *window; /* unowned: the window ends the record before it goes */
  guint source_id;
  PhApplication *app;
  PhDiagnosis *diagnosis;
} Record;

static void
record_free (gpointer data)
{
  Record *record = data;

  g_assert (record->window->record == record);
  record->window->record = NULL;
  g_object_unref (record->app);
  g_object_unref (record->diagnosis);
  g_free (record);
}

static gboolean
record_idle (gpointer data)
{
  Record *record = data;

  ph_application_record_diagnosis (record->app, record->diagnosis);
  return G_SOURCE_REMOVE;
}

/* What is still waiting to be recorded, now. */
static void
record_flush (PhWindow *self)
{
  Record *record = self->record;

  if (!record)
    return;
  ph_application_record_diagnosis (record->app, record->diagnosis);
  g_source_remove (record->source_id); /* frees the record */
}

/* The history, the tray and the notifications follow in a dispatch of their own, after the page
 * has changed: one dispatch doing both would hold the window longer than a frame. */
static void
record_later (PhWindow *self, PhApplication *app, PhDiagnosis *diagnosis)
{
  Record *record;

  record_flush (self); /* in order */
  record = g_new0 (Record, 1);
  record->window = self;
  record->app = g_object_ref (app);
  record->diagnosis = g_object_ref (diagnosis);
  self->record = record;
  record->source_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, record_idle, record, record_free);
  g_source_set_static_name (g_main_context_find_source_by_id (NULL, record->source_id),
                            "[porthole] record a check");
}

static void
check_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CheckRun *run = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PhDiagnosis) diagnosis = ph_check_run_finish (result, &error);
  PhWindow *self;
  PhApplication *app;

  if (g_cancellable_is_cancelled (run->cancellable)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      check_run_free (run);
      return;
    }
  self = run->window;
  g_assert (self->run == run);
  self->run = NULL;

  if (!diagnosis)
    {
      if (run->mode == CHECK_CONFIRM)
        ph_confirm_page_set_error (self->confirm_page, error->message);
      else
        {
          ph_check_page_show_idle (self->check_page);
          ph_check_page_set_error (self->check_page, error->message);
          if (self->diagnosis && self->previous_page
              && g_strcmp0 (ph_window_get_page (self), "check") == 0)
            {
              adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (error->message));
              ph_window_show_page (self, self->previous_page);
            }
        }
      check_run_free (run);
      update_chrome (self);
      return;
    }

  app = get_app (self);
  if (app)
    record_later (self, app, diagnosis);
  set_diagnosis (self, diagnosis);

  if (run->mode == CHECK_CONFIRM)
    ph_confirm_page_set_result (self->confirm_page, diagnosis, self->road);
  else
    {
      ph_check_page_set_running (self->check_page, FALSE);
      /* only a person waiting on the check page is taken to the result */
      if (g_strcmp0 (ph_window_get_page (self), "check") == 0)
        ph_window_show_page (self, "result");
    }
  check_run_free (run);
  update_chrome (self);
}

static void
start_check (PhWindow *self, CheckMode mode)
{
  g_auto (PhCheckOptions) options = { 0 };
  PhApplication *app = get_app (self);
  CheckRun *run;

  if (self->run || !app)
    return;

  ph_application_get_check_options (app, &options);
  run = g_new0 (CheckRun, 1);
  run->window = self;
  run->cancellable = g_cancellable_new ();
  run->mode = mode;
  options.progress = check_progress;
  options.progress_data = run;
  self->run = run;

  if (mode == CHECK_CONFIRM)
    {
      ph_confirm_page_start (self->confirm_page);
      ph_window_show_page (self, "confirm");
    }
  else
    {
      const char *current = ph_window_get_page (self);

      if (current && g_strcmp0 (current, "check") != 0)
        set_str (&self->previous_page, current);
      ph_check_page_reset (self->check_page);
      ph_check_page_set_running (self->check_page, TRUE);
      ph_window_show_page (self, "check");
    }
  ph_check_run_async (&options, run->cancellable, check_done_cb, run);
}

static void
check_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  start_check (PH_WINDOW (widget), CHECK_MAIN);
}

static void
confirm_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  start_check (PH_WINDOW (widget), CHECK_CONFIRM);
}

static void
cancel_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PhWindow *self = PH_WINDOW (widget);
  CheckRun *run = self->run;

  if (!run)
    return;
  /* the run frees itself in its callback, which returns at once now */
  g_cancellable_cancel (run->cancellable);
  self->run = NULL;

  if (run->mode == CHECK_CONFIRM)
    {
      ph_check_page_set_running (ph_confirm_page_get_check_page (self->confirm_page), FALSE);
      ph_window_show_page (self, self->road ? self->road : self->diagnosis ? "fixes" : "check");
    }
  else
    {
      ph_check_page_show_idle (self->check_page);
      if (self->diagnosis && self->previous_page)
        ph_window_show_page (self, self->previous_page);
      else
        update_chrome (self); /* the check page, idle */
    }
  update_chrome (self);
}

static void
back_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PhWindow *self = PH_WINDOW (widget);
  const char *parent = parent_page (self, ph_window_get_page (self));

  if (parent)
    ph_window_show_page (self, parent);
}

static void
show_fix_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PhWindow *self = PH_WINDOW (widget);
  const char *road = g_variant_get_string (parameter, NULL);

  if (road_index (road) < 0)
    {
      g_warning ("No road named “%s”", road);
      return;
    }
  if (!ensure_diagnosis (self))
    return; /* nothing to fix before a check: the check page is showing */
  ph_window_show_page (self, road);
}

static void
show_fixes_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PhWindow *self = PH_WINDOW (widget);

  if (ensure_diagnosis (self))
    ph_window_show_page (self, "fixes");
}

static void
show_result_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PhWindow *self = PH_WINDOW (widget);

  if (ensure_diagnosis (self))
    ph_window_show_page (self, "result");
}

static void
evidence_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PhWindow *self = PH_WINDOW (widget);

  if (!self->diagnosis)
    return;
  if (self->evidence)
    gtk_window_destroy (self->evidence);
  self->evidence = GTK_WINDOW (ph_evidence_dialog_new (GTK_WINDOW (self), self->diagnosis));
  g_object_add_weak_pointer (G_OBJECT (self->evidence), (gpointer *) &self->evidence);
  gtk_window_present (self->evidence);
}

static void
road_check_again_cb (const GtkWidget *page, PhWindow *self)
{
  int i;

  for (i = 0; i < (int) G_N_ELEMENTS (self->road_pages); i++)
    if (self->road_pages[i] == page)
      set_str (&self->road, road_names[i]);
  start_check (self, CHECK_CONFIRM);
}

/* ---- the object ---- */

/* The roads need the application's one PhActions; "application" is set after construction. */
static void
application_changed_cb (PhWindow *self, GParamSpec *pspec, gpointer user_data)
{
  PhApplication *app = get_app (self);

  if (!app)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (self->road_pages); i++)
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (self->road_pages[i]), "actions"))
      g_object_set (self->road_pages[i], "actions", ph_application_get_actions (app), NULL);
}

static void
ph_window_dispose (GObject *object)
{
  PhWindow *self = PH_WINDOW (object);

  if (self->run)
    {
      g_cancellable_cancel (self->run->cancellable);
      self->run = NULL;
    }
  record_flush (self);
  if (self->evidence)
    {
      g_object_remove_weak_pointer (G_OBJECT (self->evidence), (gpointer *) &self->evidence);
      self->evidence = NULL;
    }
  g_clear_object (&self->diagnosis);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->previous_page, g_free);
  g_clear_pointer (&self->road, g_free);

  G_OBJECT_CLASS (ph_window_parent_class)->dispose (object);
}

static void
ph_window_class_init (PhWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ph_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/porthole/Porthole/ph-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PhWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PhWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, PhWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, PhWindow, back_button);

  gtk_widget_class_install_action (widget_class, "win.check", NULL, check_activated);
  gtk_widget_class_install_action (widget_class, "win.confirm", NULL, confirm_activated);
  gtk_widget_class_install_action (widget_class, "win.cancel", NULL, cancel_activated);
  gtk_widget_class_install_action (widget_class, "win.back", NULL, back_activated);
  gtk_widget_class_install_action (widget_class, "win.show-fix", "s", show_fix_activated);
  gtk_widget_class_install_action (widget_class, "win.show-fixes", NULL, show_fixes_activated);
  gtk_widget_class_install_action (widget_class, "win.show-result", NULL, show_result_activated);
  gtk_widget_class_install_action (widget_class, "win.evidence", NULL, evidence_activated);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_ALT_MASK, "win.back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Back, 0, "win.back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.cancel", NULL);
}

static void
ph_window_init (PhWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->check_page = PH_CHECK_PAGE (ph_check_page_new ());
  self->result_page = PH_RESULT_PAGE (ph_result_page_new ());
  self->fixes_page = PH_FIXES_PAGE (ph_fixes_page_new ());
  self->confirm_page = PH_CONFIRM_PAGE (ph_confirm_page_new ());

  gtk_stack_add_named (self->stack, GTK_WIDGET (self->check_page), "check");
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->result_page), "result");
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->fixes_page), "fixes");
  for (guint i = 0; i < G_N_ELEMENTS (self->road_pages); i++)
    {
      GtkWidget *page = road_page_new ((int) i);

      self->road_pages[i] = page;
      gtk_stack_add_named (self->stack, page, road_names[i]);
      if (g_signal_lookup ("check-again", G_OBJECT_TYPE (page)))
        g_signal_connect_object (page, "check-again", G_CALLBACK (road_check_again_cb), self, 0);
    }
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->confirm_page), "confirm");
  gtk_stack_set_visible_child_name (self->stack, "check");
  g_signal_connect (self, "notify::application", G_CALLBACK (application_changed_cb), NULL);

  self->settings = g_settings_new (APP_ID);
  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);

  update_chrome (self);
}

PhWindow *
ph_window_new (PhApplication *application)
{
  PhWindow *self = g_object_new (PH_TYPE_WINDOW, "application", application, NULL);

  /* People open Porthole to get the answer: start checking at once. */
  gtk_widget_activate_action (GTK_WIDGET (self), "win.check", NULL);
  return self;
}
