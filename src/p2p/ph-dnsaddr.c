/* ph-dnsaddr.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "ph-dnsaddr.h"
#include "ph-duplex.h"
#include "ph-p2p-error.h"

#define DNSADDR_PREFIX "dnsaddr="

typedef struct
{
  GList *records;
  GError *error;
  gboolean done;
} Lookup;

static void
lookup_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Lookup *lookup = user_data;

  lookup->records = g_resolver_lookup_records_finish (G_RESOLVER (source), result, &lookup->error);
  lookup->done = TRUE;
}

static gboolean
deadline_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
forward_cancel_cb (GCancellable *outer, gpointer inner)
{
  g_cancellable_cancel (inner);
}

/* GResolver's blocking calls take no timeout: run the async one on a private context instead. */
static GList *
lookup_txt (GResolver *resolver, const char *name, gint64 deadline, GCancellable *cancellable,
            GError **error)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GCancellable) inner = g_cancellable_new ();
  g_autoptr (GSource) timeout = NULL;
  Lookup lookup = { 0 };
  gulong handler = 0;
  gint64 remaining = ph_deadline_remaining (deadline);

  if (ph_deadline_passed (deadline, error)
      || g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  if (cancellable)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (forward_cancel_cb), inner, NULL);
  g_main_context_push_thread_default (context);
  if (remaining >= 0)
    {
      timeout = g_timeout_source_new ((guint) MIN (remaining / 1000 + 1, G_MAXUINT));
      g_source_set_callback (timeout, deadline_cb, inner, NULL);
      g_source_attach (timeout, context);
    }
  g_resolver_lookup_records_async (resolver, name, G_RESOLVER_RECORD_TXT, inner, lookup_done_cb,
                                   &lookup);
  while (!lookup.done)
    g_main_context_iteration (context, TRUE);
  if (timeout)
    g_source_destroy (timeout);
  g_main_context_pop_thread_default (context);
  if (cancellable)
    g_cancellable_disconnect (cancellable, handler);

  if (lookup.error)
    {
      if (g_error_matches (lookup.error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
          && !g_cancellable_is_cancelled (cancellable))
        {
          g_clear_error (&lookup.error);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "looking up %s took too long",
                       name);
        }
      else
        g_propagate_error (error, lookup.error);
      return NULL;
    }
  return lookup.records;
}

/* DNSADDR.md: "if the dnsaddr multiaddr carries extra components, drop resolved entries whose
 * suffix does not match" — in practice the trailing /p2p. */
static gboolean
suffix_matches (PhMultiaddr *wanted, PhMultiaddr *candidate)
{
  gsize wanted_len = 0, candidate_len = 0;
  const guint8 *want = ph_multiaddr_get_peer_id_bytes (wanted, &wanted_len);
  const guint8 *have;

  if (!want)
    return TRUE;
  have = ph_multiaddr_get_peer_id_bytes (candidate, &candidate_len);
  return have && candidate_len == wanted_len && memcmp (want, have, wanted_len) == 0;
}

static gboolean
resolve_into (GResolver *resolver, PhMultiaddr *addr, guint depth, GPtrArray *out, gint64 deadline,
              GCancellable *cancellable, GError **error)
{
  PhMultiaddrCode code;
  g_autofree char *host = ph_multiaddr_get_dns_name (addr, &code);
  g_autofree char *name = NULL;
  GList *records;

  if (!host || code != PH_MULTIADDR_CODE_DNSADDR)
    {
      if (out->len < PH_DNSADDR_MAX_RESULTS)
        g_ptr_array_add (out, ph_multiaddr_ref (addr));
      return TRUE;
    }
  if (depth >= PH_DNSADDR_MAX_DEPTH)
    return TRUE; /* too deep: this branch yields nothing, as go's does */

  name = g_strconcat ("_dnsaddr.", host, NULL);
  records = lookup_txt (resolver, name, deadline, cancellable, error);
  if (!records && error && *error)
    return FALSE;

  for (GList *l = records; l && out->len < PH_DNSADDR_MAX_RESULTS; l = l->next)
    {
      g_autofree const char **strings = NULL;

      g_variant_get (l->data, "(^a&s)", &strings);
      for (guint i = 0; strings[i] && out->len < PH_DNSADDR_MAX_RESULTS; i++)
        {
          g_autoptr (PhMultiaddr) found = NULL;

          if (!g_str_has_prefix (strings[i], DNSADDR_PREFIX))
            continue;
          found = ph_multiaddr_new_from_string (strings[i] + strlen (DNSADDR_PREFIX), NULL);
          if (!found || !suffix_matches (addr, found))
            continue;
          /* a failing sub-lookup drops that branch, not the whole answer */
          if (!resolve_into (resolver, found, depth + 1, out, deadline, cancellable, NULL)
              && (g_cancellable_is_cancelled (cancellable)
                  || ph_deadline_remaining (deadline) == 0))
            break;
        }
    }
  g_list_free_full (records, (GDestroyNotify) g_variant_unref);
  return g_cancellable_set_error_if_cancelled (cancellable, error) ? FALSE : TRUE;
}

GPtrArray *
ph_dnsaddr_resolve (GResolver *resolver, PhMultiaddr *addr, gint64 deadline,
                    GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_multiaddr_unref);

  g_return_val_if_fail (G_IS_RESOLVER (resolver), NULL);
  g_return_val_if_fail (addr != NULL, NULL);

  if (!resolve_into (resolver, addr, 0, out, deadline, cancellable, error))
    return NULL;
  return g_steal_pointer (&out);
}
