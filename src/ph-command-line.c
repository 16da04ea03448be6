/* ph-command-line.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "core/ph-check.h"
#include "p2p/ph-multiaddr.h"
#include "ph-command-line.h"

#define MAX_TIMEOUT_S 600

void
ph_command_line_clear (PhCommandLine *self)
{
  g_clear_pointer (&self->peers, g_strfreev);
}

static gboolean
validate (PhCommandLine *self, int argc, char **argv, GError **error)
{
  if (argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _ ("unexpected argument “%s”"),
                   argv[1]);
      return FALSE;
    }
  if (self->port < 1 || self->port > 65535)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _ ("--port must be between 1 and 65535, not %d"), self->port);
      return FALSE;
    }
  if (self->timeout_s < 1 || self->timeout_s > MAX_TIMEOUT_S)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _ ("--timeout must be between 1 and %d seconds, not %d"), MAX_TIMEOUT_S,
                   self->timeout_s);
      return FALSE;
    }
  if (self->background && self->check)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _ ("--background and --check cannot go together"));
      return FALSE;
    }
  if (!self->check && self->json)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _ ("--json goes with --check"));
      return FALSE;
    }
  for (guint i = 0; self->peers && self->peers[i]; i++)
    {
      g_autoptr (GError) local_error = NULL;
      g_autoptr (PhMultiaddr) ma = ph_multiaddr_new_from_string (self->peers[i], &local_error);

      if (!ma)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _ ("--peer “%s” is not a multiaddr: %s"), self->peers[i],
                       local_error->message);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
ph_command_line_parse (PhCommandLine *self, int *argc, char ***argv, GError **error)
{
  const GOptionEntry entries[]
      = { { "version", 0, 0, G_OPTION_ARG_NONE, &self->version, N_ ("Show the version and exit"),
            NULL },
          { "check", 0, 0, G_OPTION_ARG_NONE, &self->check,
            N_ ("Check reachability without a window and print a report"), NULL },
          { "json", 0, 0, G_OPTION_ARG_NONE, &self->json,
            N_ ("With --check: print the report as JSON"), NULL },
          { "background", 0, 0, G_OPTION_ARG_NONE, &self->background,
            N_ ("Watch reachability from the panel without a window"), NULL },
          { "port", 0, 0, G_OPTION_ARG_INT, &self->port,
            N_ ("The node’s swarm port to check (default 4001)"), N_ ("PORT") },
          { "peer", 0, 0, G_OPTION_ARG_STRING_ARRAY, &self->peers,
            N_ ("Ask this peer instead of the default servers (repeatable)"), N_ ("MULTIADDR") },
          { "no-upnp", 0, 0, G_OPTION_ARG_NONE, &self->no_upnp,
            N_ ("Do not ask the router over UPnP"), NULL },
          { "timeout", 0, 0, G_OPTION_ARG_INT, &self->timeout_s,
            N_ ("Give the whole check at most this many seconds (default 30)"), N_ ("SECONDS") },
          { "gapplication-service", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE,
            &self->gapplication_service, NULL, NULL },
          { NULL } };
  g_autoptr (GOptionContext) context = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  /* sentinels, to tell "given" from "default" */
  self->port = G_MININT;
  self->timeout_s = G_MININT;

  context = g_option_context_new (NULL);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
                                _ ("Find out whether peers on the internet can reach your IPFS "
                                   "node, and fix it."));
  g_option_context_set_description (
      context, _ ("Exit status with --check: 0 reachable, 1 unreachable, 3 unknown; 2 means the "
                  "command line was wrong."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  self->port_given = self->port != G_MININT;
  self->timeout_given = self->timeout_s != G_MININT;
  if (!self->port_given)
    self->port = PH_DEFAULT_PORT;
  if (!self->timeout_given)
    self->timeout_s = PH_DEFAULT_TIMEOUT_S;
  return validate (self, *argc, *argv, error);
}

typedef struct
{
  GMainLoop *loop;
  PhDiagnosis *diagnosis;
  GError *error;
} CheckWait;

static void
check_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CheckWait *wait = user_data;

  wait->diagnosis = ph_check_run_finish (result, &wait->error);
  g_main_loop_quit (wait->loop);
}

/* libnm and GTask release their last references from idle callbacks: let those run (and only
 * those: stop as soon as nothing is pending, and never wait long). */
static void
drain_context (GMainContext *context)
{
  gint64 until = g_get_monotonic_time () + 200 * G_TIME_SPAN_MILLISECOND;

  while (g_main_context_pending (context) && g_get_monotonic_time () < until)
    g_main_context_iteration (context, FALSE);
}

static void
print_json (PhDiagnosis *diagnosis)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = ph_diagnosis_to_json (diagnosis);
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

int
ph_command_line_run_check (const PhCommandLine *self)
{
  g_auto (PhCheckOptions) options = { 0 };
  g_autoptr (GMainContext) context = g_main_context_new ();
  CheckWait wait = { 0 };

  /* 0: the kubo node's swarm port, else the default */
  options.port = self->port_given ? (guint) self->port : 0;
  options.timeout_s = (guint) self->timeout_s;
  options.peers = g_strdupv (self->peers);
  options.no_upnp = self->no_upnp;
  if (ph_check_allow_private ())
    g_printerr ("porthole: %s\n",
                _ ("TEST MODE: private and loopback addresses may be sent to servers "
                   "(PORTHOLE_TEST_ALLOW_PRIVATE_ADDRESSES=1)"));

  g_main_context_push_thread_default (context);
  wait.loop = g_main_loop_new (context, FALSE);
  ph_check_run_async (&options, NULL, check_done_cb, &wait);
  g_main_loop_run (wait.loop);
  g_main_loop_unref (wait.loop);
  drain_context (context);
  g_main_context_pop_thread_default (context);

  if (!wait.diagnosis)
    {
      g_printerr ("porthole: %s\n", wait.error->message);
      g_error_free (wait.error);
      return 3;
    }

  if (self->json)
    print_json (wait.diagnosis);
  else
    {
      g_autofree char *text = ph_diagnosis_to_text (wait.diagnosis);
      g_print ("%s", text);
    }

  int status = ph_diagnosis_exit_status (wait.diagnosis);
  g_object_unref (wait.diagnosis);
  return status;
}
