/* ph-kubo-private.h: helpers shared by ph-kubo-repo.c, ph-kubo-client.c and ph-kubo.c only
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "ph-kubo-repo.h"

G_BEGIN_DECLS

/* Parses JSON that an outside party wrote (a config file, an RPC answer): bounded nesting first,
 * because json-glib descends recursively and a megabyte of '[' would exhaust the stack. Fails with
 * PH_KUBO_ERROR_MALFORMED; `what` names the document in the message. */
JsonNode *
ph_kubo_json_parse (const char *data, gsize len, const char *what, GError **error);

/* The node at a dotted config key ("Swarm.RelayClient.Enabled"), NULL when a step is missing or
 * not an object. Members match exactly first, then ignoring ASCII case, as Go's encoding/json
 * does when kubo reads its config. */
JsonNode *
ph_kubo_json_lookup (JsonNode *root, const char *key);

/* The member of an object matching `name` as above, NULL if none. */
JsonNode *
ph_kubo_json_object_lookup (JsonObject *object, const char *name);

/* Overwrites the string held by a string-valued node (the config's Identity.PrivKey) so that the
 * parsed document keeps no copy of it. */
void
ph_kubo_json_wipe_string (JsonNode *node);

/* An array of strings, or a single string (kubo's `Strings` type, used by Addresses.API and
 * Addresses.Gateway), or null/absent (an empty vector). Anything else fails. */
gboolean
ph_kubo_json_get_strv (JsonNode *node, const char *key, char ***out, GError **error);

/* A GBytes over `data` that is wiped before it is freed: for key material and config files. */
GBytes *
ph_kubo_secret_bytes_new_take (guint8 *data, gsize len);

/* Wipes and frees a NUL-terminated secret. */
void
ph_kubo_secret_free (char *secret);

G_END_DECLS
