/* ph-autostart.h: start `porthole --background` at login
 *
 * Outside Flatpak: an XDG autostart entry, $XDG_CONFIG_HOME/autostart/<app id>.desktop (Desktop
 * Application Autostart Specification 0.5), written when enabled and removed when disabled.
 * Inside Flatpak the sandbox cannot write there: org.freedesktop.portal.Background's
 * RequestBackground asks the user (once) and installs the entry for us; autostart FALSE removes it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The command line an autostart entry runs. */
#define PH_AUTOSTART_EXEC "porthole --background"

/* TRUE when running inside a Flatpak sandbox (/.flatpak-info exists). */
gboolean
ph_autostart_in_flatpak (void);

/* $XDG_CONFIG_HOME/autostart/<app id>.desktop */
char *
ph_autostart_dup_desktop_path (void);

/* Writes (enabled) or removes (not enabled; a missing file is no error) the XDG autostart entry. */
gboolean
ph_autostart_write_desktop_file (gboolean enabled, GError **error);

/* org.freedesktop.portal.Background.RequestBackground on bus (the session bus when NULL), with
 * autostart = enabled and commandline ["porthole", "--background"]; waits for the Request's
 * Response signal. */
void
ph_autostart_request_background_async (GDBusConnection *bus, gboolean enabled, const char *reason,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data);
/* TRUE when the portal answered 0 (success); *out_autostart: what it granted. FALSE with
 * G_IO_ERROR_PERMISSION_DENIED when the user said no (1), G_IO_ERROR_FAILED otherwise. */
gboolean
ph_autostart_request_background_finish (GAsyncResult *result, gboolean *out_autostart,
                                        GError **error);

/* The right one of the two for this process. */
void
ph_autostart_set_async (gboolean enabled, GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data);
gboolean
ph_autostart_set_finish (GAsyncResult *result, GError **error);

G_END_DECLS
