/* ph-nm.h: what NetworkManager says about the connection that carries the default route
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct
{
  gboolean running;      /* FALSE: NetworkManager absent or not running; the rest is NULL */
  char *version;
  char *device;          /* interface of the primary connection */
  char *connection_id;   /* the profile's name, e.g. "Wired connection 1" */
  char *connection_uuid;
  char *connection_type; /* "802-3-ethernet", "802-11-wireless", … */
  char *ipv4_method;     /* "auto", "manual", "disabled", … */
  char *ipv6_method;     /* "auto", "dhcp", "manual", "ignore", "disabled", "link-local", … */
} PhNmFacts;

/* How long we wait for NetworkManager (libnm's own D-Bus timeout is 25 s). */
#define PH_NM_DEFAULT_TIMEOUT_MS 5000

/* Never fails for an absent NetworkManager (or an absent system bus): that is
 * facts->running == FALSE. Fails with G_IO_ERROR_TIMED_OUT when NetworkManager owns its bus name
 * but does not answer in time, and G_IO_ERROR_CANCELLED. Asynchronous on the thread-default main
 * context; libnm needs that context iterated a little after the callback to release its client. */
void ph_nm_facts_read_async (GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data);
/* The same with a deadline of our choosing (tests use a short one). */
void ph_nm_facts_read_with_timeout_async (guint timeout_ms, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
PhNmFacts *ph_nm_facts_read_finish (GAsyncResult *result, GError **error);
void ph_nm_facts_free (PhNmFacts *facts);
JsonNode *ph_nm_facts_to_json (const PhNmFacts *facts);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhNmFacts, ph_nm_facts_free)

G_END_DECLS
