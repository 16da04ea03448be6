/* ph-check-page.c
 *
 * The check as it runs. Every event adds or changes one row and returns: nothing here waits, so
 * the window stays responsive while the probes run (the ui tests measure each dispatch).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "ph-check-page.h"
#include "ph-ui-util.h"

#define N_STEPS 4

typedef struct
{
  GtkWidget *row;
  GtkWidget *state; /* GtkStack: "waiting", "running", "done" */
  GtkWidget *spinner;
} StepRow;

typedef struct
{
  GtkWidget *row;
  GtkWidget *state; /* GtkStack: "running", "done" */
  GtkWidget *spinner;
  GtkWidget *result;
} ServerRow;

struct _PhCheckPage
{
  AdwBin parent_instance;

  GtkStack *stack;
  AdwStatusPage *running_status;
  GtkWidget *error_label;
  GtkWidget *cancel_button;
  AdwPreferencesGroup *steps_group;
  AdwPreferencesGroup *servers_group;

  StepRow steps[N_STEPS];
  GHashTable *servers; /* "family server" → ServerRow */
  gboolean running;
  guint reveal_tick;
  gint64 reveal_frame; /* the frame the reveal was first ticked in, -1 before */
};

G_DEFINE_FINAL_TYPE (PhCheckPage, ph_check_page, ADW_TYPE_BIN)

typedef struct
{
  const char *title;
  const char *subtitle;
} StepText;

/* In PhCheckStep order. */
static const StepText step_texts[N_STEPS] = {
  { N_ ("Your network"), N_ ("Addresses, routes and NetworkManager") },
  { N_ ("Your router"), N_ ("Whether it can forward a port for you (UPnP)") },
  { N_ ("Your IPFS node"), N_ ("Whether kubo runs here, and what it thinks") },
  { N_ ("Peers on the internet"), N_ ("Asking them to dial your node back") },
};

const char *
ph_check_page_describe_result (PhProbeResult result)
{
  switch (result)
    {
      case PH_PROBE_RESULT_REACHABLE:
        return _ ("Reached it");
      case PH_PROBE_RESULT_UNREACHABLE:
        return _ ("Could not reach it");
      case PH_PROBE_RESULT_DIAL_BACK_FAILED:
        return _ ("Dial-back failed");
      case PH_PROBE_RESULT_UNPROVEN:
        return _ ("Claimed, not proven");
      case PH_PROBE_RESULT_REFUSED:
        return _ ("Would not try");
      case PH_PROBE_RESULT_NO_ANSWER:
        return _ ("Gave no answer");
      case PH_PROBE_RESULT_UNSUPPORTED:
        return _ ("Test not offered");
      case PH_PROBE_RESULT_NO_CANDIDATE:
        return _ ("No public address seen");
      case PH_PROBE_RESULT_ERROR:
      default:
        return _ ("Could not be asked");
    }
}

const char *
ph_check_page_result_style (PhProbeResult result)
{
  switch (result)
    {
      case PH_PROBE_RESULT_REACHABLE:
        return "success";
      case PH_PROBE_RESULT_UNREACHABLE:
      case PH_PROBE_RESULT_DIAL_BACK_FAILED:
      case PH_PROBE_RESULT_NO_CANDIDATE:
        return "error";
      case PH_PROBE_RESULT_UNPROVEN:
      case PH_PROBE_RESULT_REFUSED:
      case PH_PROBE_RESULT_NO_ANSWER:
      case PH_PROBE_RESULT_UNSUPPORTED:
      case PH_PROBE_RESULT_ERROR:
      default:
        return "dim-label";
    }
}

char *
ph_check_page_server_host (const char *multiaddr)
{
  g_auto (GStrv) parts = NULL;

  if (!multiaddr)
    return g_strdup (_ ("Unknown peer"));
  /* "/ip4/1.2.3.4/tcp/4001/p2p/…" splits into "", "ip4", "1.2.3.4", … */
  parts = g_strsplit (multiaddr, "/", 4);
  if (g_strv_length (parts) >= 3 && parts[2][0])
    return g_strdup (parts[2]);
  return g_strdup (multiaddr);
}

static const char *
family_label (PhFamily family)
{
  return family == PH_FAMILY_IPV6 ? "IPv6" : "IPv4";
}

static GtkWidget *
state_stack_new (GtkWidget **spinner_out)
{
  GtkWidget *stack = gtk_stack_new ();
  GtkWidget *spinner = gtk_spinner_new ();
  GtkWidget *done = gtk_image_new_from_icon_name ("object-select-symbolic");

  gtk_widget_set_valign (stack, GTK_ALIGN_CENTER);
  gtk_stack_set_transition_type (GTK_STACK (stack), GTK_STACK_TRANSITION_TYPE_CROSSFADE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (spinner), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("In progress"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (done), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Done"),
                                  -1);
  gtk_widget_add_css_class (done, "success");
  gtk_stack_add_named (GTK_STACK (stack), gtk_label_new (NULL), "waiting");
  gtk_stack_add_named (GTK_STACK (stack), spinner, "running");
  gtk_stack_add_named (GTK_STACK (stack), done, "done");
  *spinner_out = spinner;
  return stack;
}

static void
set_state (GtkWidget *stack, GtkWidget *spinner, const char *state)
{
  gtk_spinner_set_spinning (GTK_SPINNER (spinner), g_str_equal (state, "running"));
  gtk_stack_set_visible_child_name (GTK_STACK (stack), state);
}

static void
server_row_free (gpointer data)
{
  ServerRow *row = data;

  g_clear_object (&row->row);
  g_free (row);
}

static void
clear_servers (PhCheckPage *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->servers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      ServerRow *row = value;

      adw_preferences_group_remove (self->servers_group, row->row);
    }
  g_hash_table_remove_all (self->servers);
  gtk_widget_set_visible (GTK_WIDGET (self->servers_group), FALSE);
}

void
ph_check_page_reset (PhCheckPage *self)
{
  g_return_if_fail (PH_IS_CHECK_PAGE (self));

  for (guint i = 0; i < N_STEPS; i++)
    {
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->steps[i].row), _ (step_texts[i].subtitle));
      set_state (self->steps[i].state, self->steps[i].spinner, "waiting");
    }
  clear_servers (self);
}

static ServerRow *
ensure_server (PhCheckPage *self, const PhCheckEvent *event)
{
  g_autofree char *key = g_strdup_printf ("%d %s", event->family, event->server);
  g_autofree char *host = NULL;
  g_autofree char *subtitle = NULL;
  ServerRow *row = g_hash_table_lookup (self->servers, key);

  if (row)
    return row;

  row = g_new0 (ServerRow, 1);
  host = ph_check_page_server_host (event->server);
  /* TRANSLATORS: the address family of one probe, e.g. "over IPv4" */
  subtitle = g_strdup_printf (_ ("over %s"), family_label (event->family));
  row->row = g_object_ref_sink (adw_action_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row->row), host);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row->row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row->row), subtitle);
  gtk_widget_set_tooltip_text (row->row, event->server);

  row->result = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (row->result), 1.0);
  row->state = state_stack_new (&row->spinner);
  gtk_stack_add_named (GTK_STACK (row->state), row->result, "result");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row->row), row->state);
  set_state (row->state, row->spinner, "running");

  adw_preferences_group_add (self->servers_group, row->row);
  gtk_widget_set_visible (GTK_WIDGET (self->servers_group), TRUE);
  g_hash_table_insert (self->servers, g_steal_pointer (&key), row);
  return row;
}

static void
server_done (ServerRow *row, const PhProbeEvidence *evidence)
{
  const char *text;

  if (!evidence)
    {
      set_state (row->state, row->spinner, "done");
      return;
    }
  text = ph_check_page_describe_result (evidence->result);
  gtk_label_set_text (GTK_LABEL (row->result), text);
  gtk_widget_add_css_class (row->result, ph_check_page_result_style (evidence->result));
  gtk_spinner_set_spinning (GTK_SPINNER (row->spinner), FALSE);
  gtk_stack_set_visible_child_name (GTK_STACK (row->state), "result");
  gtk_accessible_update_property (GTK_ACCESSIBLE (row->row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  text, -1);
}

void
ph_check_page_handle_event (PhCheckPage *self, const PhCheckEvent *event)
{
  StepRow *step;

  g_return_if_fail (PH_IS_CHECK_PAGE (self));
  g_return_if_fail (event != NULL);

  if ((guint) event->step >= N_STEPS)
    return;
  step = &self->steps[event->step];
  switch (event->kind)
    {
      case PH_CHECK_EVENT_STEP_STARTED:
        set_state (step->state, step->spinner, "running");
        break;
      case PH_CHECK_EVENT_STEP_DONE:
        if (event->summary)
          adw_action_row_set_subtitle (ADW_ACTION_ROW (step->row), event->summary);
        set_state (step->state, step->spinner, "done");
        break;
      case PH_CHECK_EVENT_PROBE_STARTED:
        set_state (step->state, step->spinner, "running");
        ensure_server (self, event);
        break;
      case PH_CHECK_EVENT_PROBE_DONE:
        server_done (ensure_server (self, event), event->evidence);
        break;
      default:
        break;
    }
}

static gboolean
reveal_steps_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  PhCheckPage *self = PH_CHECK_PAGE (widget);

  /* ticks run before the frame's layout: skip the frame that first shows the page */
  if (gdk_frame_clock_get_frame_counter (clock) == self->reveal_frame)
    return G_SOURCE_CONTINUE;
  if (self->reveal_frame < 0)
    {
      self->reveal_frame = gdk_frame_clock_get_frame_counter (clock);
      return G_SOURCE_CONTINUE;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->steps_group), TRUE);
  self->reveal_tick = 0;
  return G_SOURCE_REMOVE;
}

void
ph_check_page_set_running (PhCheckPage *self, gboolean running)
{
  g_return_if_fail (PH_IS_CHECK_PAGE (self));

  self->running = running;
  if (running)
    {
      ph_check_page_set_error (self, NULL);
      gtk_stack_set_visible_child_name (self->stack, "running");
      /* the steps follow a frame later: the window's first frame has enough to lay out */
      gtk_widget_set_visible (GTK_WIDGET (self->steps_group), FALSE);
      self->reveal_frame = -1;
      if (!self->reveal_tick)
        self->reveal_tick
            = gtk_widget_add_tick_callback (GTK_WIDGET (self), reveal_steps_cb, NULL, NULL);
      return;
    }
  /* A finished check keeps its rows in view while the window moves on; no spinner keeps turning
   * on a page nobody sees. */
  for (guint i = 0; i < N_STEPS; i++)
    gtk_spinner_set_spinning (GTK_SPINNER (self->steps[i].spinner), FALSE);
}

void
ph_check_page_show_idle (PhCheckPage *self)
{
  g_return_if_fail (PH_IS_CHECK_PAGE (self));

  ph_check_page_set_running (self, FALSE);
  gtk_stack_set_visible_child_name (self->stack, "idle");
}

gboolean
ph_check_page_get_running (PhCheckPage *self)
{
  g_return_val_if_fail (PH_IS_CHECK_PAGE (self), FALSE);
  return self->running;
}

void
ph_check_page_set_heading (PhCheckPage *self, const char *title, const char *description)
{
  g_return_if_fail (PH_IS_CHECK_PAGE (self));

  adw_status_page_set_title (self->running_status, title);
  adw_status_page_set_description (self->running_status, description);
}

void
ph_check_page_set_cancel_name (PhCheckPage *self, const char *name)
{
  g_return_if_fail (PH_IS_CHECK_PAGE (self));
  gtk_widget_set_name (self->cancel_button, name);
}

void
ph_check_page_set_error (PhCheckPage *self, const char *message)
{
  g_return_if_fail (PH_IS_CHECK_PAGE (self));

  gtk_label_set_text (GTK_LABEL (self->error_label), message ? message : "");
  gtk_widget_set_visible (self->error_label, message != NULL);
}

static void
ph_check_page_dispose (GObject *object)
{
  PhCheckPage *self = PH_CHECK_PAGE (object);

  g_clear_pointer (&self->servers, g_hash_table_unref);
  G_OBJECT_CLASS (ph_check_page_parent_class)->dispose (object);
}

static void
ph_check_page_class_init (PhCheckPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ph_check_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/porthole/Porthole/ph-check-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PhCheckPage, stack);
  gtk_widget_class_bind_template_child (widget_class, PhCheckPage, running_status);
  gtk_widget_class_bind_template_child (widget_class, PhCheckPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, PhCheckPage, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, PhCheckPage, steps_group);
  gtk_widget_class_bind_template_child (widget_class, PhCheckPage, servers_group);
}

static void
ph_check_page_init (PhCheckPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  ph_status_page_fill (self->running_status);

  self->servers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, server_row_free);
  for (guint i = 0; i < N_STEPS; i++)
    {
      StepRow *step = &self->steps[i];

      step->row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (step->row), _ (step_texts[i].title));
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (step->row), FALSE);
      step->state = state_stack_new (&step->spinner);
      adw_action_row_add_suffix (ADW_ACTION_ROW (step->row), step->state);
      adw_preferences_group_add (self->steps_group, step->row);
    }
  ph_check_page_reset (self);
}

GtkWidget *
ph_check_page_new (void)
{
  return g_object_new (PH_TYPE_CHECK_PAGE, NULL);
}
