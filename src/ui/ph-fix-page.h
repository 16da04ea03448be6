/* ph-fix-page.h: what the wizard's fix pages ("ipv6", "upnp", "forward", "provider") share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "core/ph-actions.h"
#include "core/ph-diagnosis.h"

G_BEGIN_DECLS

#define PH_TYPE_FIX_PAGE (ph_fix_page_get_type ())
G_DECLARE_DERIVABLE_TYPE (PhFixPage, ph_fix_page, PH, FIX_PAGE, AdwBin)

/* Properties:
 *   "actions"   (PhActions)   applies and undoes the fix (NULL: the buttons that need it are
 *                             insensitive).
 *   "diagnosis" (PhDiagnosis) what the page shows (NULL: nothing known yet).
 * Signals:
 *   "check-again" ()                 the user wants the confirmation probe; the window runs it
 *                                    and shows "confirm".
 *   "show-fix"    (const char *road) another road ("ipv6", "upnp", "forward", "provider").
 *                                    Without a handler, the page activates "win.show-fix" with
 *                                    the road instead. */
struct _PhFixPageClass
{
  AdwBinClass parent_class;

  /* The diagnosis was set, again or anew (replaced: it is another one than before): the page
   * shows what it says. Called on every ph_fix_page_set_diagnosis(). */
  void (*diagnosis_changed) (PhFixPage *self, gboolean replaced);
  /* The actions were replaced (optional). */
  void (*actions_changed) (PhFixPage *self);
  /* The page's title, translated, for the window's header bar. */
  const char *(*get_title) (PhFixPage *self);
};

/* Shows what this diagnosis says (NULL: nothing known yet). Keeps a reference. */
void
ph_fix_page_set_diagnosis (PhFixPage *self, PhDiagnosis *diagnosis);
PhDiagnosis *
ph_fix_page_get_diagnosis (PhFixPage *self);
void
ph_fix_page_set_actions (PhFixPage *self, PhActions *actions);
PhActions *
ph_fix_page_get_actions (PhFixPage *self);
const char *
ph_fix_page_get_title (PhFixPage *self);
/* Cancelled when the page goes away: for the page's own asynchronous work. */
GCancellable *
ph_fix_page_get_cancellable (PhFixPage *self);
/* Emits "check-again". */
void
ph_fix_page_check_again (PhFixPage *self);
/* Emits "show-fix" with road when someone handles it, else activates "win.show-fix". */
void
ph_fix_page_emit_show_fix (PhFixPage *self, const char *road);

G_END_DECLS
