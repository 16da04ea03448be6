/* test-dnsaddr.c: /dnsaddr resolution against a resolver we control (never the real DNS)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "p2p/ph-dnsaddr.h"
#include "p2p/ph-duplex.h"

#define ID_A "QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN"
#define ID_B "QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa"

#define FAKE_TYPE_RESOLVER (fake_resolver_get_type ())
G_DECLARE_FINAL_TYPE (FakeResolver, fake_resolver, FAKE, RESOLVER, GResolver)

struct _FakeResolver
{
  GResolver parent_instance;
  GHashTable *zones; /* name → GStrv of TXT strings; "stall" entries never answer */
  guint lookups;
};

G_DEFINE_FINAL_TYPE (FakeResolver, fake_resolver, G_TYPE_RESOLVER)

static void
stall_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;

  g_task_return_error_if_cancelled (task);
  g_object_unref (task);
}

static void
fake_lookup_records_async (GResolver *resolver, const char *rrname, GResolverRecordType type,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  FakeResolver *self = FAKE_RESOLVER (resolver);
  GTask *task = g_task_new (resolver, cancellable, callback, user_data);
  const char *const *txt = g_hash_table_lookup (self->zones, rrname);
  GList *records = NULL;

  self->lookups++;
  g_assert_cmpint (type, ==, G_RESOLVER_RECORD_TXT);
  if (txt && g_strcmp0 (txt[0], "stall") == 0)
    {
      g_assert_nonnull (cancellable);
      g_cancellable_connect (cancellable, G_CALLBACK (stall_cancelled_cb), task, NULL);
      return;
    }
  if (!txt)
    {
      g_task_return_new_error (task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                               "no TXT records for %s", rrname);
      g_object_unref (task);
      return;
    }
  for (guint i = 0; txt[i]; i++)
    {
      const char *one[] = { txt[i], NULL };
      records = g_list_append (records, g_variant_ref_sink (g_variant_new ("(^as)", one)));
    }
  g_task_return_pointer (task, records, NULL);
  g_object_unref (task);
}

static GList *
fake_lookup_records_finish (GResolver *resolver, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
fake_resolver_finalize (GObject *object)
{
  g_hash_table_unref (FAKE_RESOLVER (object)->zones);
  G_OBJECT_CLASS (fake_resolver_parent_class)->finalize (object);
}

static void
fake_resolver_class_init (FakeResolverClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fake_resolver_finalize;
  G_RESOLVER_CLASS (klass)->lookup_records_async = fake_lookup_records_async;
  G_RESOLVER_CLASS (klass)->lookup_records_finish = fake_lookup_records_finish;
}

static void
fake_resolver_init (FakeResolver *self)
{
  self->zones
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_strfreev);
}

static void
zone (FakeResolver *r, const char *name, const char *const *txt)
{
  g_hash_table_insert (r->zones, g_strdup (name), g_strdupv ((char **) txt));
}

static GPtrArray *
resolve (FakeResolver *r, const char *text, guint timeout_ms, GError **error)
{
  g_autoptr (PhMultiaddr) addr = ph_multiaddr_new_from_string (text, NULL);

  g_assert_nonnull (addr);
  return ph_dnsaddr_resolve (G_RESOLVER (r), addr, ph_deadline_in (timeout_ms), NULL, error);
}

static void
assert_results (GPtrArray *results, const char *const *expected)
{
  g_assert_nonnull (results);
  g_assert_cmpuint (results->len, ==, g_strv_length ((char **) expected));
  for (guint i = 0; i < results->len; i++)
    {
      g_autofree char *text = ph_multiaddr_to_string (g_ptr_array_index (results, i));
      g_assert_cmpstr (text, ==, expected[i]);
    }
}

/* The bootstrap shape of DNSADDR.md: two levels, suffix matching by /p2p. */
static void
test_bootstrap_shape (void)
{
  g_autoptr (FakeResolver) r = g_object_new (FAKE_TYPE_RESOLVER, NULL);
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;

  zone (r, "_dnsaddr.bootstrap.example.net",
        (const char *[]){ "dnsaddr=/dnsaddr/sv15.bootstrap.example.net/p2p/" ID_A,
                          "dnsaddr=/dnsaddr/am6.bootstrap.example.net/p2p/" ID_B, NULL });
  zone (r, "_dnsaddr.sv15.bootstrap.example.net",
        (const char *[]){ "dnsaddr=/ip4/7.1.0.10/tcp/4001/p2p/" ID_A,
                          "dnsaddr=/ip6/2a00:1::10/tcp/4001/p2p/" ID_A,
                          "dnsaddr=/ip4/7.1.0.11/tcp/4001/p2p/" ID_B, /* wrong peer: dropped */
                          "v=spf1 -all",                              /* not ours: ignored */
                          "dnsaddr=/ip4/not-an-address",              /* malformed: ignored */
                          NULL });
  zone (r, "_dnsaddr.am6.bootstrap.example.net",
        (const char *[]){ "dnsaddr=/ip4/7.2.0.10/tcp/4001/p2p/" ID_B, NULL });

  results = resolve (r, "/dnsaddr/bootstrap.example.net/p2p/" ID_A, 2000, &error);
  g_assert_no_error (error);
  assert_results (results, (const char *[]){ "/ip4/7.1.0.10/tcp/4001/p2p/" ID_A,
                                             "/ip6/2a00:1::10/tcp/4001/p2p/" ID_A, NULL });
  g_clear_pointer (&results, g_ptr_array_unref);

  /* no /p2p: everything the records lead to, each branch still filtered by its own /p2p */
  results = resolve (r, "/dnsaddr/bootstrap.example.net", 2000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 3);
}

static void
test_passthrough (void)
{
  g_autoptr (FakeResolver) r = g_object_new (FAKE_TYPE_RESOLVER, NULL);
  g_autoptr (GPtrArray) results = NULL;

  results = resolve (r, "/ip4/7.1.0.10/tcp/4001/p2p/" ID_A, 1000, NULL);
  assert_results (results, (const char *[]){ "/ip4/7.1.0.10/tcp/4001/p2p/" ID_A, NULL });
  g_assert_cmpuint (r->lookups, ==, 0);
}

static void
test_loops_are_bounded (void)
{
  g_autoptr (FakeResolver) r = g_object_new (FAKE_TYPE_RESOLVER, NULL);
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;

  zone (r, "_dnsaddr.loop.example.net",
        (const char *[]){ "dnsaddr=/dnsaddr/loop.example.net", NULL });
  results = resolve (r, "/dnsaddr/loop.example.net", 2000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 0);
  g_assert_cmpuint (r->lookups, ==, PH_DNSADDR_MAX_DEPTH);
}

static void
test_results_are_bounded (void)
{
  g_autoptr (FakeResolver) r = g_object_new (FAKE_TYPE_RESOLVER, NULL);
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) many = NULL;

  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *line = g_strdup_printf ("dnsaddr=/ip4/7.%u.%u.1/tcp/4001", i / 250, i % 250);
      g_strv_builder_add (builder, line);
    }
  many = g_strv_builder_end (builder);
  zone (r, "_dnsaddr.many.example.net", (const char *const *) many);
  results = resolve (r, "/dnsaddr/many.example.net", 2000, NULL);
  g_assert_cmpuint (results->len, ==, PH_DNSADDR_MAX_RESULTS);
}

static void
test_failures (void)
{
  g_autoptr (FakeResolver) r = g_object_new (FAKE_TYPE_RESOLVER, NULL);
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start;

  results = resolve (r, "/dnsaddr/nowhere.example.net", 1000, &error);
  g_assert_null (results);
  g_assert_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  zone (r, "_dnsaddr.slow.example.net", (const char *[]){ "stall", NULL });
  start = g_get_monotonic_time ();
  results = resolve (r, "/dnsaddr/slow.example.net", 300, &error);
  g_assert_null (results);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  /* the deadline holds (generously: this asserts it returns, not how precisely) */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/dnsaddr/bootstrap-shape", test_bootstrap_shape);
  g_test_add_func ("/dnsaddr/passthrough", test_passthrough);
  g_test_add_func ("/dnsaddr/loops-are-bounded", test_loops_are_bounded);
  g_test_add_func ("/dnsaddr/results-are-bounded", test_results_are_bounded);
  g_test_add_func ("/dnsaddr/failures", test_failures);

  return g_test_run ();
}
