/* test-actions.c: PhActions against a fake UPnP IGD on loopback — mapping, lease renewal on the
 * main loop, a failing renewal and its backoff, unmapping (also while a renewal is on its way),
 * undo through the change log, and disposing while work is in flight.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ph-actions.h"
#include "fake-igd.h"

/* miniupnpc 2.2.4 calls atoi () on an unterminated header buffer (see test-upnp.c): only errors
 * caught in interceptors called from libminiupnpc are silenced. */
const char *
__asan_default_suppressions (void);

const char *
__asan_default_suppressions (void)
{
  return "interceptor_via_lib:libminiupnpc.so\n";
}

#define PORT 4001
#define LEASE 2 /* renew_in: max (2 * 2 / 3, 1) = 1 s; a test program must finish in 30 s */

/* ---- a fake IGD on loopback (tests/common), with a router's moods ---- */

/* What this router does besides what it is asked; guarded by the fake's lock. */
typedef struct
{
  guint adds;         /* AddPortMapping requests answered */
  gboolean in_add;    /* an AddPortMapping is being answered (after the delay) */
  gboolean fail_adds; /* answer AddPortMapping with 501 */
  gboolean permanent; /* make every mapping permanent, whatever the lease asked */
  guint add_delay_ms; /* wait before answering AddPortMapping */
} FakeMoods;

static char *
fake_action (FakeIgd *fake, const char *action, const char *body, int *code, gpointer user_data)
{
  FakeMoods *moods = user_data;
  gboolean add = g_str_equal (action, "AddPortMapping");
  guint delay_ms;
  char *args;

  fake_igd_lock (fake);
  delay_ms = add ? moods->add_delay_ms : 0;
  moods->in_add = delay_ms > 0;
  fake_igd_unlock (fake);
  if (delay_ms > 0)
    g_usleep (delay_ms * 1000);
  fake_igd_lock (fake);
  if (add)
    {
      moods->adds++;
      *code = fake_igd_add (fake, body, moods->fail_adds ? 501 : 0,
                            moods->permanent ? 0 : FAKE_IGD_LEASE_ASKED);
      args = *code == 0 ? g_strdup ("") : NULL;
    }
  else
    args = fake_igd_default_action (fake, action, body, code);
  moods->in_add = FALSE;
  fake_igd_unlock (fake);
  return args;
}

static FakeMoods *
fake_moods (FakeIgd *fake)
{
  return fake->user_data;
}

static guint
fake_adds (FakeIgd *fake)
{
  guint n;

  fake_igd_lock (fake);
  n = fake_moods (fake)->adds;
  fake_igd_unlock (fake);
  return n;
}

static gboolean
fake_in_add (FakeIgd *fake)
{
  gboolean in_add;

  fake_igd_lock (fake);
  in_add = fake_moods (fake)->in_add;
  fake_igd_unlock (fake);
  return in_add;
}

static void
fake_set (FakeIgd *fake, gboolean fail_adds, guint add_delay_ms)
{
  fake_igd_lock (fake);
  fake_moods (fake)->fail_adds = fail_adds;
  fake_moods (fake)->add_delay_ms = add_delay_ms;
  fake_igd_unlock (fake);
}

/* ---- the state directory ---- */

typedef struct
{
  char *dir;
  char *path;
  FakeIgd *fake;
  PhUpnpRouter *router;
  PhChangeLog *log;
  PhActions *actions;
  /* what the signals and callbacks said */
  guint renewed;
  guint lost;
  GError *lost_error;
  GAsyncResult *result;
} Fixture;

static void
on_renewed (PhActions *actions, guint port, Fixture *fixture)
{
  g_assert_cmpuint (port, ==, PORT);
  fixture->renewed++;
}

static void
on_lost (PhActions *actions, guint port, const GError *error, Fixture *fixture)
{
  g_assert_cmpuint (port, ==, PORT);
  g_assert_nonnull (error);
  fixture->lost++;
  g_clear_error (&fixture->lost_error);
  fixture->lost_error = g_error_copy (error);
}

static void
fixture_setup (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("test-actions-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "changes.json", NULL);
  fixture->fake = fake_igd_start (fake_action, g_new0 (FakeMoods, 1), g_free);
  fixture->router = fake_igd_new_router (fixture->fake, PORT);
  fixture->log = ph_change_log_new (fixture->path);
  fixture->actions = ph_actions_new (fixture->log);
  ph_actions_set_lease (fixture->actions, LEASE);
  ph_actions_set_retry_for_tests (fixture->actions, 1, 2);
  g_signal_connect (fixture->actions, "mapping-renewed", G_CALLBACK (on_renewed), fixture);
  g_signal_connect (fixture->actions, "mapping-lost", G_CALLBACK (on_lost), fixture);
}

static void
fixture_teardown (Fixture *fixture, gconstpointer data)
{
  g_clear_object (&fixture->actions);
  /* let callbacks of cancelled work come back and free what they hold */
  for (guint i = 0; i < 20; i++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (10000);
    }
  g_clear_object (&fixture->result);
  g_clear_error (&fixture->lost_error);
  ph_change_log_unref (fixture->log);
  ph_upnp_router_unref (fixture->router);
  fake_igd_stop (fixture->fake);
  g_unlink (fixture->path);
  g_rmdir (fixture->dir);
  g_free (fixture->path);
  g_free (fixture->dir);
}

static void
store_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *fixture = user_data;

  g_assert_null (fixture->result);
  fixture->result = g_object_ref (result);
}

static GAsyncResult *
wait_result (Fixture *fixture)
{
  gint64 end = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;

  while (fixture->result == NULL && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (fixture->result);
  return fixture->result;
}

/* Runs the main loop until *counter reaches at least target, or the time is up. */
static void
spin_until (const guint *counter, guint target, guint seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (*counter < target && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
}

static void
spin_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
}

static PhUpnpMapResult *
map_port (Fixture *fixture, GError **error)
{
  PhUpnpMapResult *result;

  ph_actions_map_port_async (fixture->actions, fixture->router, PORT, NULL, store_result, fixture);
  result = ph_actions_map_port_finish (fixture->actions, wait_result (fixture), error);
  g_clear_object (&fixture->result);
  return result;
}

static gboolean
unmap_port (Fixture *fixture, PhUpnpRouter *router, GError **error)
{
  gboolean ok;

  ph_actions_unmap_port_async (fixture->actions, router, PORT, NULL, store_result, fixture);
  ok = ph_actions_unmap_port_finish (fixture->actions, wait_result (fixture), error);
  g_clear_object (&fixture->result);
  return ok;
}

/* ---- tests ---- */

static void
test_renew (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) result = NULL;
  g_autofree char *calls = NULL;
  gint64 mapped_at;

  result = map_port (fixture, &error);
  g_assert_no_error (error);
  mapped_at = g_get_monotonic_time ();
  g_assert_cmpuint (result->lease_s, ==, LEASE);
  g_assert_cmpuint (ph_upnp_map_result_renew_in (result), ==, 1);
  g_assert_nonnull (result->change_id);
  g_assert_cmpuint (fake_igd_log_entries (fixture->log), ==, 1);
  g_assert_cmpuint (fake_adds (fixture->fake), ==, 2);
  g_assert_true (ph_actions_is_renewing (fixture->actions, PORT));

  /* nothing before the renewal is due */
  spin_for (400);
  g_assert_cmpuint (fake_adds (fixture->fake), ==, 2);
  g_assert_cmpuint (fixture->renewed, ==, 0);

  spin_until (&fixture->renewed, 1, 5);
  g_assert_cmpuint (fixture->renewed, ==, 1);
  g_assert_cmpint (g_get_monotonic_time () - mapped_at, >=, 7 * G_USEC_PER_SEC / 10);
  /* the renewal really reached the router: both protocols again, with the lease */
  calls = fake_igd_dup_calls (fixture->fake);
  g_assert_cmpstr (calls, ==, "ADD TCP 2=0;ADD UDP 2=0;ADD TCP 2=0;ADD UDP 2=0;");
  g_assert_cmpuint (fixture->lost, ==, 0);
  g_assert_true (ph_actions_is_renewing (fixture->actions, PORT));
  /* one entry still: a renewal updates it */
  g_assert_cmpuint (fake_igd_log_entries (fixture->log), ==, 1);

  /* and again, from the lease the renewal was granted */
  spin_until (&fixture->renewed, 2, 5);
  g_assert_cmpuint (fixture->renewed, ==, 2);
  g_assert_cmpuint (fake_adds (fixture->fake), ==, 6);
}

static void
test_renew_fails (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) result = NULL;
  guint adds;

  result = map_port (fixture, &error);
  g_assert_no_error (error);

  fake_set (fixture->fake, TRUE, 0);
  spin_until (&fixture->lost, 1, 6);
  g_assert_cmpuint (fixture->lost, ==, 1);
  g_assert_cmpuint (fixture->renewed, ==, 0);
  /* a sentence naming the port, with the router's code */
  g_assert_error (fixture->lost_error, PH_UPNP_ERROR, PH_UPNP_ERROR_ACTION_FAILED);
  g_test_message ("%s", fixture->lost_error->message);
  g_assert_true (g_ascii_isupper (fixture->lost_error->message[0]));
  g_assert_nonnull (strstr (fixture->lost_error->message, "4001"));
  g_assert_nonnull (strstr (fixture->lost_error->message, "UPnP error 501"));
  /* tried again after the backoff (1 s, then 2 s) */
  g_assert_true (ph_actions_is_renewing (fixture->actions, PORT));
  adds = fake_adds (fixture->fake);
  spin_until (&fixture->lost, 2, 4);
  g_assert_cmpuint (fixture->lost, ==, 2);
  g_assert_cmpuint (fake_adds (fixture->fake), >, adds);

  /* the router takes it again: renewed, and the backoff is over */
  fake_set (fixture->fake, FALSE, 0);
  spin_until (&fixture->renewed, 1, 5);
  g_assert_cmpuint (fixture->renewed, ==, 1);
  g_assert_cmpuint (fixture->lost, ==, 2);
  g_assert_cmpuint (fake_igd_count (fixture->fake), ==, 2);
}

static void
test_unmap_stops (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) result = NULL;
  g_autofree char *calls = NULL;
  g_autofree char *later = NULL;

  result = map_port (fixture, &error);
  g_assert_no_error (error);
  g_assert_true (ph_actions_is_renewing (fixture->actions, PORT));

  /* NULL: the router it was mapped on */
  g_assert_true (unmap_port (fixture, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (ph_actions_is_renewing (fixture->actions, PORT));
  g_assert_cmpuint (fake_igd_count (fixture->fake), ==, 0);
  g_assert_cmpuint (fake_igd_log_entries (fixture->log), ==, 0);
  calls = fake_igd_dup_calls (fixture->fake);
  g_assert_true (g_str_has_suffix (calls, "DELETE TCP;DELETE UDP;"));

  /* past the next renewal times: nothing more reaches the router */
  spin_for (1800);
  later = fake_igd_dup_calls (fixture->fake);
  g_assert_cmpstr (later, ==, calls);
  g_assert_cmpuint (fixture->renewed, ==, 0);
  g_assert_cmpuint (fixture->lost, ==, 0);

  /* nothing known about the port any more: where to remove it is unknown */
  g_assert_false (unmap_port (fixture, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_unmap_during_renewal (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) result = NULL;
  g_autofree char *calls = NULL;
  g_autofree char *later = NULL;
  gint64 end;

  result = map_port (fixture, &error);
  g_assert_no_error (error);

  /* the renewal's AddPortMapping sits in the router for a while */
  fake_set (fixture->fake, FALSE, 700);
  end = g_get_monotonic_time () + 6 * G_USEC_PER_SEC;
  while (!fake_in_add (fixture->fake) && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  g_assert_true (fake_in_add (fixture->fake));
  g_assert_true (ph_actions_is_renewing (fixture->actions, PORT));

  g_assert_true (unmap_port (fixture, fixture->router, &error));
  g_assert_no_error (error);
  /* the removal waited for the renewal: it came last, and nothing is left */
  calls = fake_igd_dup_calls (fixture->fake);
  g_test_message ("%s", calls);
  g_assert_true (g_str_has_suffix (calls, "DELETE TCP;DELETE UDP;"));
  g_assert_cmpuint (fake_igd_count (fixture->fake), ==, 0);
  g_assert_cmpuint (fake_igd_log_entries (fixture->log), ==, 0);
  /* an unmapped port's renewal is nobody's news */
  g_assert_cmpuint (fixture->renewed, ==, 0);
  g_assert_cmpuint (fixture->lost, ==, 0);

  fake_set (fixture->fake, FALSE, 0);
  spin_for (1600);
  later = fake_igd_dup_calls (fixture->fake);
  g_assert_cmpstr (later, ==, calls);
}

static void
test_permanent_not_renewed (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) result = NULL;

  fake_moods (fixture->fake)->permanent = TRUE; /* before any request: no lock needed */
  result = map_port (fixture, &error);
  g_assert_no_error (error);
  g_assert_true (result->permanent);
  g_assert_false (ph_actions_is_renewing (fixture->actions, PORT));
  spin_for (1600);
  g_assert_cmpuint (fake_adds (fixture->fake), ==, 2);
  /* still known here: it can be removed without naming the router */
  g_assert_true (unmap_port (fixture, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fake_igd_count (fixture->fake), ==, 0);
}

static void
test_undo_upnp (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) result = NULL;
  g_autoptr (GPtrArray) changes = NULL;
  g_autofree char *message = NULL;
  guint adds;

  result = map_port (fixture, &error);
  g_assert_no_error (error);
  changes = ph_change_log_list (fixture->log, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (changes->len, ==, 1);

  ph_actions_undo_async (fixture->actions, g_ptr_array_index (changes, 0), NULL, store_result,
                         fixture);
  g_assert_true (
      ph_actions_undo_finish (fixture->actions, wait_result (fixture), &message, &error));
  g_assert_no_error (error);
  g_clear_object (&fixture->result);
  g_assert_nonnull (strstr (message, "4001"));
  g_assert_cmpuint (fake_igd_count (fixture->fake), ==, 0);
  g_assert_cmpuint (fake_igd_log_entries (fixture->log), ==, 0);
  /* the undo stopped the renewal too */
  g_assert_false (ph_actions_is_renewing (fixture->actions, PORT));
  adds = fake_adds (fixture->fake);
  spin_for (1600);
  g_assert_cmpuint (fake_adds (fixture->fake), ==, adds);
  g_assert_cmpuint (fixture->renewed, ==, 0);
}

/* A check that found the fake IGD over UPnP, for the swarm port. */
static PhDiagnosis *
diagnosis_for (Fixture *fixture, gboolean with_router)
{
  PhDiagnosis *diagnosis = ph_diagnosis_new ();
  PhUpnpFacts *upnp = ph_upnp_facts_new ();

  if (with_router)
    {
      upnp->found = TRUE;
      upnp->desc_url = fake_igd_dup_desc_url (fixture->fake);
      upnp->gateway = g_strdup ("127.0.0.1");
      upnp->swarm_port = PORT;
    }
  ph_diagnosis_take_upnp (diagnosis, upnp);
  ph_diagnosis_set_port (diagnosis, PORT);
  return diagnosis;
}

static gboolean
unmap_for_diagnosis (Fixture *fixture, PhDiagnosis *diagnosis, GError **error)
{
  gboolean ok;

  ph_actions_unmap_for_diagnosis_async (fixture->actions, diagnosis, NULL, store_result, fixture);
  ok = ph_actions_unmap_for_diagnosis_finish (fixture->actions, wait_result (fixture), error);
  g_clear_object (&fixture->result);
  return ok;
}

/* A mapping made by another PhActions (an earlier run: only the change log remembers it) is
 * removed on the router the check found; without the check, no router is known. */
static void
test_unmap_for_diagnosis_earlier_run (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) result = NULL;
  g_autoptr (PhDiagnosis) diagnosis = diagnosis_for (fixture, TRUE);
  g_autoptr (PhDiagnosis) no_router = diagnosis_for (fixture, FALSE);
  g_autofree char *calls = NULL;
  g_autofree char *later = NULL;

  ph_actions_map_for_diagnosis_async (fixture->actions, diagnosis, NULL, store_result, fixture);
  result = ph_actions_map_for_diagnosis_finish (fixture->actions, wait_result (fixture), &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  g_clear_object (&fixture->result);
  g_assert_cmpuint (result->port, ==, PORT);
  g_assert_cmpuint (fake_igd_count (fixture->fake), ==, 2);
  g_assert_cmpuint (fake_igd_log_entries (fixture->log), ==, 1);

  /* the earlier run ends; this one shares only the change log */
  g_clear_object (&fixture->actions);
  spin_for (100);
  fixture->actions = ph_actions_new (fixture->log);
  g_assert_false (ph_actions_is_renewing (fixture->actions, PORT));

  /* the port alone names no router here */
  g_assert_false (unmap_port (fixture, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (unmap_for_diagnosis (fixture, no_router, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpuint (fake_igd_count (fixture->fake), ==, 2);

  g_assert_true (unmap_for_diagnosis (fixture, diagnosis, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fake_igd_count (fixture->fake), ==, 0);
  g_assert_cmpuint (fake_igd_log_entries (fixture->log), ==, 0);
  calls = fake_igd_dup_calls (fixture->fake);
  g_assert_nonnull (strstr (calls, "DELETE TCP"));
  g_assert_nonnull (strstr (calls, "DELETE UDP"));
  /* nothing renews what was removed */
  spin_for (1600);
  later = fake_igd_dup_calls (fixture->fake);
  g_assert_cmpstr (later, ==, calls);
}

/* A mapping this object made and renews: removed on its own router, and its renewal stops. */
static void
test_unmap_for_diagnosis_live (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) result = NULL;
  g_autoptr (PhDiagnosis) diagnosis = diagnosis_for (fixture, TRUE);
  guint adds;

  result = map_port (fixture, &error);
  g_assert_no_error (error);
  g_assert_true (ph_actions_is_renewing (fixture->actions, PORT));

  g_assert_true (unmap_for_diagnosis (fixture, diagnosis, &error));
  g_assert_no_error (error);
  g_assert_false (ph_actions_is_renewing (fixture->actions, PORT));
  g_assert_cmpuint (fake_igd_count (fixture->fake), ==, 0);
  g_assert_cmpuint (fake_igd_log_entries (fixture->log), ==, 0);
  adds = fake_adds (fixture->fake);
  spin_for (1600);
  g_assert_cmpuint (fake_adds (fixture->fake), ==, adds);
}

static void
test_undo_unknown (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhChange) change
      = ph_change_new ("firewall-rule", "k", "Opened port 4001 in the firewall.",
                       "Remove the rule with your firewall’s settings.", NULL);

  ph_actions_undo_async (fixture->actions, change, NULL, store_result, fixture);
  g_assert_false (ph_actions_undo_finish (fixture->actions, wait_result (fixture), NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "Opened port 4001"));
  g_assert_nonnull (strstr (error->message, "Remove the rule"));
}

/* An IPv6 change goes to ph-ipv6-fix: an incomplete one is refused before NetworkManager is
 * asked anything. */
static void
test_undo_ipv6_dispatch (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhChange) change
      = ph_change_new (PH_IPV6_FIX_CHANGE_KIND, "k", "Turned IPv6 on.", "By hand.", NULL);

  ph_actions_undo_async (fixture->actions, change, NULL, store_result, fixture);
  g_assert_false (ph_actions_undo_finish (fixture->actions, wait_result (fixture), NULL, &error));
  g_assert_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_BAD_CHANGE);
  g_assert_cmpuint (fake_adds (fixture->fake), ==, 0);
}

/* The last reference goes while a renewal is at the router: no signal, no timer, nothing more
 * asked of the router; the renewal's callback frees what it holds (AddressSanitizer). */
static void
test_dispose_mid_renewal (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) result = NULL;
  g_autofree char *calls = NULL;
  g_autofree char *later = NULL;
  PhActions *weak;
  gint64 end;

  result = map_port (fixture, &error);
  g_assert_no_error (error);
  fake_set (fixture->fake, FALSE, 700);
  end = g_get_monotonic_time () + 6 * G_USEC_PER_SEC;
  while (!fake_in_add (fixture->fake) && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  g_assert_true (fake_in_add (fixture->fake));

  weak = fixture->actions;
  g_object_add_weak_pointer (G_OBJECT (weak), (gpointer *) &weak);
  g_clear_object (&fixture->actions);
  /* a renewal does not keep the object alive */
  g_assert_null (weak);

  fake_set (fixture->fake, FALSE, 0);
  spin_for (800);
  calls = fake_igd_dup_calls (fixture->fake);
  spin_for (1600);
  later = fake_igd_dup_calls (fixture->fake);
  g_assert_cmpstr (later, ==, calls);
  g_assert_cmpuint (fixture->renewed, ==, 0);
  g_assert_cmpuint (fixture->lost, ==, 0);
}

/* Cancelling a mapping on its way, and disposing while one is on its way: the caller hears
 * G_IO_ERROR_CANCELLED within a second, and no renewal is left behind. */
static void
test_cancel_and_dispose_mid_map (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) result = NULL;
  gint64 start;

  fake_set (fixture->fake, FALSE, 1000);
  start = g_get_monotonic_time ();
  ph_actions_map_port_async (fixture->actions, fixture->router, PORT, cancellable, store_result,
                             fixture);
  spin_for (200);
  g_cancellable_cancel (cancellable);
  result = ph_actions_map_port_finish (fixture->actions, wait_result (fixture), &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_assert_false (ph_actions_is_renewing (fixture->actions, PORT));
  g_clear_object (&fixture->result);
  g_clear_error (&error);
  /* let the worker finish with the router before the next request */
  spin_for (1200);

  start = g_get_monotonic_time ();
  ph_actions_map_port_async (fixture->actions, fixture->router, PORT, NULL, store_result, fixture);
  spin_for (200);
  g_object_run_dispose (G_OBJECT (fixture->actions));
  result = ph_actions_map_port_finish (fixture->actions, wait_result (fixture), &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_assert_false (ph_actions_is_renewing (fixture->actions, PORT));
  g_clear_object (&fixture->result);
  spin_for (1200);
}

int
main (int argc, char **argv)
{
  /* read once by GLib; nothing is written there */
  g_setenv ("XDG_STATE_HOME", "/nonexistent/porthole-test-state", TRUE);
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/actions/renew", test_renew);
  ADD ("/actions/renew-fails", test_renew_fails);
  ADD ("/actions/unmap-stops-renewal", test_unmap_stops);
  ADD ("/actions/unmap-during-renewal", test_unmap_during_renewal);
  ADD ("/actions/permanent-not-renewed", test_permanent_not_renewed);
  ADD ("/actions/undo-upnp", test_undo_upnp);
  ADD ("/actions/unmap-for-diagnosis/earlier-run", test_unmap_for_diagnosis_earlier_run);
  ADD ("/actions/unmap-for-diagnosis/live", test_unmap_for_diagnosis_live);
  ADD ("/actions/undo-unknown", test_undo_unknown);
  ADD ("/actions/undo-ipv6-dispatch", test_undo_ipv6_dispatch);
  ADD ("/actions/dispose-mid-renewal", test_dispose_mid_renewal);
  ADD ("/actions/cancel-and-dispose-mid-map", test_cancel_and_dispose_mid_map);
#undef ADD

  return g_test_run ();
}
