/* ph-ui-util.h: small pieces the wizard's pages share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Lets a status page's content fill its height instead of centring it: far cheaper to lay out
 * when the content holds wrapping text (see the .c file). The content then starts at the top. */
void
ph_status_page_fill (AdwStatusPage *page);

G_END_DECLS
