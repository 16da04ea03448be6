/* ph-check-page.h: a check as it runs — the steps, then one row per server and family
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-check.h"
#include "core/ph-verdict.h"

G_BEGIN_DECLS

#define PH_TYPE_CHECK_PAGE (ph_check_page_get_type ())
G_DECLARE_FINAL_TYPE (PhCheckPage, ph_check_page, PH, CHECK_PAGE, AdwBin)

GtkWidget *
ph_check_page_new (void);
/* TRUE: the live view with its Cancel button (win.cancel); its rows stay until reset. FALSE: the
 * check is over, its rows stay in view and the spinners stop. */
void
ph_check_page_set_running (PhCheckPage *self, gboolean running);
/* An invitation to check (win.check): when a first check was cancelled or failed. */
void
ph_check_page_show_idle (PhCheckPage *self);
gboolean
ph_check_page_get_running (PhCheckPage *self);
/* Forget the rows of the previous check. */
void
ph_check_page_reset (PhCheckPage *self);
/* One event of PhCheckOptions.progress. */
void
ph_check_page_handle_event (PhCheckPage *self, const PhCheckEvent *event);
/* The heading of the running view (the confirmation uses the page with its own words). */
void
ph_check_page_set_heading (PhCheckPage *self, const char *title, const char *description);
/* The widget name of the Cancel button ("check-cancel" unless changed). */
void
ph_check_page_set_cancel_name (PhCheckPage *self, const char *name);
/* When the last check failed: the reason, shown on the idle page. NULL clears it. */
void
ph_check_page_set_error (PhCheckPage *self, const char *message);

/* Shared with the evidence dialog and the confirmation: plain words for a probe's answer. */
const char *
ph_check_page_describe_result (PhProbeResult result);
const char *
ph_check_page_result_style (PhProbeResult result);
/* "1.2.3.4" or "example.com" from a server's multiaddr; newly allocated. */
char *
ph_check_page_server_host (const char *multiaddr);

G_END_DECLS
