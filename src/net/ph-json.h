/* ph-json.h: guards for JSON we read from files and peers, before json-glib sees it
 *
 * json-glib's parser recurses once per nesting level with no limit of its own: a small file of
 * '[' exhausts the stack. Every JSON text Porthole reads (kubo's config and RPC answers, the
 * change log, the history, recorded checks) is measured with this first.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Deep enough for every document of ours and kubo's; far from what overflows a thread's stack. */
#define PH_JSON_MAX_DEPTH 64

/* FALSE when arrays and objects nest deeper than max_depth (brackets inside strings, escaped or
 * not, do not count). Says nothing about validity otherwise: the parser still decides that. */
gboolean
ph_json_depth_ok (const char *data, gsize len, guint max_depth);

G_END_DECLS
