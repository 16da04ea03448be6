/* ph-command-line.h: what `porthole` was asked to do
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gboolean version;
  gboolean check;
  gboolean json;
  gboolean gapplication_service;
  gboolean background; /* watch from the panel: no window (the autostart entry runs this) */
  gboolean no_upnp;
  int port;
  int timeout_s;
  gboolean port_given; /* on the command line, rather than the default */
  gboolean timeout_given;
  char **peers;
} PhCommandLine;

/* Parses and validates; on error the message is one line fit to print after "porthole: ". */
gboolean
ph_command_line_parse (PhCommandLine *self, int *argc, char ***argv, GError **error);
void
ph_command_line_clear (PhCommandLine *self);

/* `porthole --check [--json]`: runs one check without a window and prints the report. Returns the
 * process exit status: 0 reachable, 1 unreachable, 3 unknown. */
int
ph_command_line_run_check (const PhCommandLine *self);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PhCommandLine, ph_command_line_clear)

G_END_DECLS
