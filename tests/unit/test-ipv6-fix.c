/* test-ipv6-fix.c: turning IPv6 on (and back off) through dbusmock's NetworkManager and polkitd
 *
 * The mock NetworkManager answers GetPermissions, Update2 and Reapply by asking the polkitd mock,
 * as NetworkManager does; Reapply may also make a global address and a default route appear a
 * moment later, as a router's announcement would. See nm-mock.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>

#include "net/ph-ipv6-fix.h"

#include "nm-mock.h"

#define WIRED_UUID "8e3c1a46-0f3c-4f0e-9a57-2f6c2b7f0b11"
#define GLOBAL6 "2a01:4f8:c0c:1234::17"
#define LINK_LOCAL6 "fe80::1e2d:3c4b:5a69:7887"
#define SETTLE_MS 1500

typedef struct
{
  Mock mock;
  char *device;
  char *connection;
  char *active;
  char *ip6;
  char *state_dir;
  PhChangeLog *log;
} Fixture;

static const char *const everything[]
    = { PERMISSION_NETWORK_CONTROL, PERMISSION_MODIFY_SYSTEM, PERMISSION_MODIFY_OWN, NULL };
static const char *const nothing[] = { NULL };

/* A wired desktop with IPv6 set to ipv6_method and only a link-local address; polkit allows
 * `allowed`, and asks a password for `challenge`. reapply_py: the mock's Reapply, NULL for a
 * NetworkManager without it. */
static void
fixture_up (Fixture *f, const char *ipv6_method, const char *const *allowed,
            const char *const *challenge, const char *reapply_py)
{
  const char *ipv4[] = { "192.168.1.23/24", NULL };
  const char *ipv6[] = { LINK_LOCAL6 "/64", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *ip4 = NULL;
  g_autofree char *log_path = NULL;

  mock_start_polkit (&f->mock);
  mock_polkit_allow (&f->mock, allowed);
  mock_start (&f->mock, "1.42.4");
  f->device = mock_add_ethernet (&f->mock, "mock_Ethernet1", "enp3s0");
  f->connection = mock_add_connection (&f->mock, "Wired connection 1", WIRED_UUID, "802-3-ethernet",
                                       "auto", ipv6_method);
  f->active = mock_activate (&f->mock, f->device, f->connection, "wired");
  mock_set_primary (&f->mock, f->active);
  ip4 = mock_add_ip_config (&f->mock, 4, f->device, f->active, ipv4, "192.168.1.1");
  f->ip6 = mock_add_ip_config (&f->mock, 6, f->device, f->active, ipv6, NULL);
  mock_use_polkit (&f->mock, challenge);
  mock_add_update2 (&f->mock, f->connection);
  if (reapply_py != NULL)
    mock_add_reapply (&f->mock, f->device, reapply_py);

  f->state_dir = g_dir_make_tmp ("porthole-ipv6-fix-XXXXXX", &error);
  g_assert_no_error (error);
  log_path = g_build_filename (f->state_dir, "changes.json", NULL);
  f->log = ph_change_log_new (log_path);
}

static void
fixture_down (Fixture *f)
{
  g_autofree char *log_path = g_build_filename (f->state_dir, "changes.json", NULL);

  mock_stop (&f->mock);
  g_clear_pointer (&f->log, ph_change_log_unref);
  g_unlink (log_path);
  g_rmdir (f->state_dir);
  g_clear_pointer (&f->state_dir, g_free);
  g_clear_pointer (&f->device, g_free);
  g_clear_pointer (&f->connection, g_free);
  g_clear_pointer (&f->active, g_free);
  g_clear_pointer (&f->ip6, g_free);
}

static char *
announce_py (Fixture *f)
{
  return mock_announce_py (f->ip6, GLOBAL6, LINK_LOCAL6);
}

/* ---- running the operations to completion ---- */

static PhIpv6Check *
run_check (GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  PhIpv6Check *check;

  ph_ipv6_fix_check_async (PH_NM_DEFAULT_TIMEOUT_MS, NULL, store_result, &result);
  wait_for_result (&result);
  check = ph_ipv6_fix_check_finish (result, error);
  spin_main_context (100);
  return check;
}

static PhIpv6FixResult *
run_enable (PhChangeLog *log, GCancellable *cancellable, gint64 *elapsed_us, GError **error)
{
  PhIpv6FixOptions options = { .settle_ms = SETTLE_MS, .log = log };
  g_autoptr (GAsyncResult) result = NULL;
  gint64 start = g_get_monotonic_time ();
  PhIpv6FixResult *fixed;

  ph_ipv6_fix_enable_async (&options, cancellable, store_result, &result);
  wait_for_result (&result);
  if (elapsed_us != NULL)
    *elapsed_us = g_get_monotonic_time () - start;
  fixed = ph_ipv6_fix_enable_finish (result, error);
  spin_main_context (100);
  return fixed;
}

static PhIpv6FixResult *
run_undo (const PhChange *change, PhChangeLog *log, GError **error)
{
  PhIpv6FixOptions options = { .log = log };
  g_autoptr (GAsyncResult) result = NULL;
  PhIpv6FixResult *undone;

  ph_ipv6_fix_undo_async (change, &options, NULL, store_result, &result);
  wait_for_result (&result);
  undone = ph_ipv6_fix_undo_finish (result, error);
  spin_main_context (100);
  return undone;
}

static char *
to_json (JsonNode *node)
{
  g_autoptr (JsonNode) owned = node;

  return json_to_string (owned, FALSE);
}

static guint
log_length (PhChangeLog *log)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) changes = ph_change_log_list (log, &error);

  g_assert_no_error (error);
  return changes->len;
}

/* ---- without NetworkManager, or without a connection ---- */

static void
test_absent (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6Check) check = NULL;
  g_autoptr (PhIpv6FixResult) fixed = NULL;
  g_autofree char *json = NULL;

  if (skip_without_bus ())
    return;

  check = run_check (&error);
  g_assert_no_error (error);
  g_assert_false (check->network_manager);
  g_assert_false (check->possible);
  g_assert_cmpint (check->permission, ==, PH_IPV6_PERMISSION_NO);
  g_assert_nonnull (strstr (check->message, "NetworkManager is not running"));
  g_assert_nonnull (strstr (check->message, "“Automatic”"));
  g_assert_false (check->facts->running);
  json = to_json (ph_ipv6_check_to_json (check));
  g_assert_true (g_str_has_prefix (json, "{\"network_manager\":false,\"possible\":false,"
                                         "\"needed\":false,\"permission\":\"no\",\"message\":"));
  g_assert_true (g_str_has_suffix (json, ",\"facts\":{\"running\":false}}"));

  fixed = run_enable (NULL, NULL, NULL, &error);
  g_assert_null (fixed);
  g_assert_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_NO_NETWORK_MANAGER);
  g_assert_nonnull (strstr (error->message, "Turn it on in the tool that manages your network"));
}

/* NetworkManager owns its name but never answers: our deadline, not libnm's 25 s. */
static void
test_hung (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (PhIpv6Check) check = NULL;
  GDBusConnection *silent;
  gint64 start;

  if (skip_without_bus ())
    return;

  silent = own_nm_name_silently ();
  start = g_get_monotonic_time ();
  ph_ipv6_fix_check_async (1000, NULL, store_result, &result);
  wait_for_result (&result);
  check = ph_ipv6_fix_check_finish (result, &error);
  g_assert_null (check);
  g_assert_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "did not answer within 1.0 seconds"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  spin_main_context (100);
  release_connection (silent);
}

static void
test_no_connection (void)
{
  Mock mock = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6Check) check = NULL;
  g_autoptr (PhIpv6FixResult) fixed = NULL;

  if (skip_without_dbusmock ())
    return;

  mock_start (&mock, "1.42.4");
  check = run_check (&error);
  g_assert_no_error (error);
  g_assert_true (check->network_manager);
  g_assert_false (check->possible);
  g_assert_nonnull (strstr (check->message, "no active connection"));

  fixed = run_enable (NULL, NULL, NULL, &error);
  g_assert_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_NO_CONNECTION);
  mock_stop (&mock);
}

/* ---- asking first ---- */

static void
test_check_yes (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6Check) check = NULL;
  g_autofree char *json = NULL;

  if (skip_without_dbusmock ())
    return;

  fixture_up (&f, "disabled", everything, NULL, "");
  check = run_check (&error);
  g_assert_no_error (error);
  g_assert_true (check->network_manager);
  g_assert_true (check->needed);
  g_assert_true (check->possible);
  g_assert_cmpint (check->permission, ==, PH_IPV6_PERMISSION_YES);
  g_assert_cmpstr (check->message, ==,
                   "Porthole can turn on IPv6 for “Wired connection 1”: it sets IPv6 to "
                   "“Automatic” and applies it without disconnecting.");
  g_assert_cmpstr (check->facts->ipv6_method, ==, "disabled");
  json = to_json (ph_ipv6_check_to_json (check));
  g_test_message ("%s", json);
  g_assert_true (g_str_has_prefix (json, "{\"network_manager\":true,\"possible\":true,"
                                         "\"needed\":true,\"permission\":\"yes\",\"message\":"));
  /* nothing was touched by asking */
  g_assert_cmpuint (mock_count_calls (&f.mock, f.connection, "Update2"), ==, 0);
  fixture_down (&f);
}

static void
test_check_auth (void)
{
  Fixture f = { 0 };
  const char *const challenge[] = { PERMISSION_MODIFY_SYSTEM, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6Check) check = NULL;

  if (skip_without_dbusmock ())
    return;

  fixture_up (&f, "ignore", everything, challenge, "");
  check = run_check (&error);
  g_assert_no_error (error);
  g_assert_true (check->needed);
  g_assert_true (check->possible);
  g_assert_cmpint (check->permission, ==, PH_IPV6_PERMISSION_AUTH);
  g_assert_nonnull (strstr (check->message, "A password prompt will appear"));
  fixture_down (&f);
}

/* ---- the change ---- */

/* disabled → auto: the profile really changes on NetworkManager's side, the device reapplies it,
 * the announcement brings a global address and a route; the change is recorded and undone. */
static void
test_enable_and_undo (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6FixResult) fixed = NULL;
  g_autoptr (PhIpv6FixResult) undone = NULL;
  g_autoptr (PhChange) logged = NULL;
  g_autofree char *reapply = NULL;
  g_autofree char *method = NULL;
  g_autofree char *json = NULL;
  gint64 elapsed;

  if (skip_without_dbusmock ())
    return;

  fixture_up (&f, "disabled", everything, NULL, NULL);
  reapply = announce_py (&f);
  mock_add_reapply (&f.mock, f.device, reapply);

  fixed = run_enable (f.log, NULL, &elapsed, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fixed->outcome, ==, PH_IPV6_OUTCOME_CONNECTED);
  g_assert_cmpstr (fixed->message, ==,
                   "IPv6 is on for “Wired connection 1”: this computer now has the global "
                   "address " GLOBAL6 " and a route to the IPv6 internet.");
  g_assert_nonnull (fixed->next_step);
  g_assert_true (fixed->changed);
  g_assert_true (fixed->reapplied);
  g_assert_cmpstr (fixed->old_method, ==, "disabled");
  g_assert_cmpstr (fixed->new_method, ==, "auto");
  g_assert_cmpstr (fixed->connection_uuid, ==, WIRED_UUID);
  g_assert_cmpstr (fixed->device, ==, "enp3s0");
  g_assert_null (fixed->warning);
  g_assert_true (ph_nm_facts_has_global_ipv6 (fixed->facts));
  g_assert_true (fixed->facts->ipv6_default_route);
  /* the address came with the announcement, not before: we waited for it, not for settle_ms */
  g_assert_cmpint (elapsed, >=, 250 * 1000);
  g_assert_cmpint (elapsed, <, SETTLE_MS * 1000);

  method = mock_get_setting (&f.mock, f.connection, "ipv6", "method");
  g_assert_cmpstr (method, ==, "auto");
  g_assert_cmpuint (mock_count_calls (&f.mock, f.connection, "Update2"), ==, 1);
  g_assert_cmpuint (mock_count_calls (&f.mock, f.device, "Reapply"), ==, 1);
  /* the rest of the profile is as it was */
  g_clear_pointer (&method, g_free);
  method = mock_get_setting (&f.mock, f.connection, "ipv4", "method");
  g_assert_cmpstr (method, ==, "auto");

  /* recorded: in the log and in the result, the same */
  g_assert_nonnull (fixed->change_id);
  g_assert_nonnull (fixed->change);
  g_assert_cmpstr (fixed->change->id, ==, fixed->change_id);
  logged = ph_change_log_find (f.log, PH_IPV6_FIX_CHANGE_KIND, WIRED_UUID, &error);
  g_assert_no_error (error);
  g_assert_nonnull (logged);
  g_assert_cmpstr (logged->id, ==, fixed->change_id);
  g_assert_cmpstr (json_object_get_string_member (logged->undo, "old_method"), ==, "disabled");
  g_assert_nonnull (strstr (logged->undo_hint, "ipv6.method disabled"));

  json = to_json (ph_ipv6_fix_result_to_json (fixed));
  g_test_message ("%s", json);
  g_assert_true (g_str_has_prefix (json, "{\"outcome\":\"connected\",\"message\":"));
  g_assert_nonnull (strstr (json,
                            ",\"connection\":{\"id\":\"Wired connection 1\",\"uuid\":\"" WIRED_UUID
                            "\"},\"device\":\"enp3s0\",\"old_method\":\"disabled\","
                            "\"new_method\":\"auto\",\"changed\":true,\"reapplied\":true,"
                            "\"change_id\":\""));
  g_assert_nonnull (strstr (json, "\"change\":{"));
  g_assert_nonnull (strstr (json, "\"facts\":{\"running\":true,"));

  /* and undone from the log's entry */
  undone = run_undo (logged, f.log, &error);
  g_assert_no_error (error);
  g_assert_cmpint (undone->outcome, ==, PH_IPV6_OUTCOME_RESTORED);
  g_assert_cmpstr (undone->message, ==,
                   "IPv6 for “Wired connection 1” is back to “disabled”, as it was before "
                   "Porthole changed it.");
  g_assert_true (undone->changed);
  g_assert_true (undone->reapplied);
  g_clear_pointer (&method, g_free);
  method = mock_get_setting (&f.mock, f.connection, "ipv6", "method");
  g_assert_cmpstr (method, ==, "disabled");
  g_assert_cmpuint (mock_count_calls (&f.mock, f.connection, "Update2"), ==, 2);
  g_assert_cmpuint (mock_count_calls (&f.mock, f.device, "Reapply"), ==, 2);
  g_assert_cmpuint (log_length (f.log), ==, 0);
  fixture_down (&f);
}

/* The network has no IPv6 to give: say so, and point at the router and the provider. */
static void
test_none_offered (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6FixResult) fixed = NULL;
  gint64 elapsed;

  if (skip_without_dbusmock ())
    return;

  fixture_up (&f, "disabled", everything, NULL, "");
  fixed = run_enable (NULL, NULL, &elapsed, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fixed->outcome, ==, PH_IPV6_OUTCOME_NONE_OFFERED);
  g_assert_true (fixed->changed);
  g_assert_true (fixed->reapplied);
  g_assert_nonnull (strstr (fixed->message, "did not offer this computer a global IPv6 address"));
  g_assert_nonnull (strstr (fixed->next_step, "router"));
  g_assert_nonnull (strstr (fixed->next_step, "provider"));
  g_assert_cmpint (elapsed, >=, (SETTLE_MS - 100) * 1000);
  /* without a log the result carries what undoes it */
  g_assert_null (fixed->change_id);
  g_assert_nonnull (fixed->change);
  g_assert_cmpstr (fixed->change->kind, ==, PH_IPV6_FIX_CHANGE_KIND);
  fixture_down (&f);
}

/* NetworkManager without Reapply (or refusing it): saved, not applied, and the user is told how
 * to apply it. */
static void
test_not_applied (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6FixResult) fixed = NULL;
  g_autofree char *method = NULL;

  if (skip_without_dbusmock ())
    return;

  fixture_up (&f, "link-local", everything, NULL, NULL);
  fixed = run_enable (f.log, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fixed->outcome, ==, PH_IPV6_OUTCOME_NOT_APPLIED);
  g_assert_true (fixed->changed);
  g_assert_false (fixed->reapplied);
  g_assert_nonnull (strstr (fixed->next_step, "Disconnect and reconnect"));
  g_assert_nonnull (strstr (fixed->message, "cannot apply changes to a running connection"));
  method = mock_get_setting (&f.mock, f.connection, "ipv6", "method");
  g_assert_cmpstr (method, ==, "auto");
  g_assert_cmpuint (log_length (f.log), ==, 1);
  fixture_down (&f);
}

static void
test_already_on (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6FixResult) fixed = NULL;

  if (skip_without_dbusmock ())
    return;

  fixture_up (&f, "auto", everything, NULL, "");
  fixed = run_enable (f.log, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fixed->outcome, ==, PH_IPV6_OUTCOME_ALREADY_ON);
  g_assert_false (fixed->changed);
  g_assert_null (fixed->change);
  g_assert_cmpuint (mock_count_calls (&f.mock, f.connection, "Update2"), ==, 0);
  g_assert_cmpuint (log_length (f.log), ==, 0);
  fixture_down (&f);
}

/* ---- refusals ---- */

/* polkit says no to everything: the check says why, and the enable touches nothing. */
static void
test_permission_denied (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6Check) check = NULL;
  g_autoptr (PhIpv6FixResult) fixed = NULL;
  g_autofree char *method = NULL;

  if (skip_without_dbusmock ())
    return;

  fixture_up (&f, "disabled", nothing, NULL, "");
  check = run_check (&error);
  g_assert_no_error (error);
  g_assert_cmpint (check->permission, ==, PH_IPV6_PERMISSION_NO);
  g_assert_false (check->possible);
  g_assert_true (check->needed);
  g_assert_nonnull (strstr (check->message, "may not change the network settings"));

  fixed = run_enable (f.log, NULL, NULL, &error);
  g_assert_null (fixed);
  g_assert_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_NOT_AUTHORIZED);
  g_assert_nonnull (strstr (error->message, "Ask an administrator"));
  method = mock_get_setting (&f.mock, f.connection, "ipv6", "method");
  g_assert_cmpstr (method, ==, "disabled");
  g_assert_cmpuint (mock_count_calls (&f.mock, f.connection, "Update2"), ==, 0);
  g_assert_cmpuint (mock_count_calls (&f.mock, f.device, "Reapply"), ==, 0);
  g_assert_cmpuint (log_length (f.log), ==, 0);
  fixture_down (&f);
}

/* "auth": a prompt, which the user dismisses (polkit then refuses the commit). */
static void
test_prompt_dismissed (void)
{
  Fixture f = { 0 };
  const char *const challenge[] = { PERMISSION_MODIFY_SYSTEM, PERMISSION_NETWORK_CONTROL, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6FixResult) fixed = NULL;
  g_autoptr (PhIpv6Check) check = NULL;
  g_autofree char *method = NULL;

  if (skip_without_dbusmock ())
    return;

  fixture_up (&f, "disabled", nothing, challenge, "");
  fixed = run_enable (f.log, NULL, NULL, &error);
  g_assert_null (fixed);
  g_assert_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_NOT_CONFIRMED);
  g_assert_nonnull (strstr (error->message, "password prompt was dismissed"));
  g_assert_nonnull (strstr (error->message, "Nothing was changed"));
  g_assert_cmpuint (mock_count_calls (&f.mock, f.connection, "Update2"), ==, 1);
  g_assert_cmpuint (mock_count_calls (&f.mock, f.device, "Reapply"), ==, 0);
  method = mock_get_setting (&f.mock, f.connection, "ipv6", "method");
  g_assert_cmpstr (method, ==, "disabled");
  g_assert_cmpuint (log_length (f.log), ==, 0);

  /* and libnm's copy of the profile was not left changed either */
  g_clear_error (&error);
  check = run_check (&error);
  g_assert_no_error (error);
  g_assert_cmpstr (check->facts->ipv6_method, ==, "disabled");
  fixture_down (&f);
}

/* ---- NetworkManager going away ---- */

typedef struct
{
  Mock *mock;
  gboolean stopped;
} Stopper;

static void
stop_on_reapply (GDBusConnection *connection, const char *sender, const char *path,
                 const char *iface, const char *signal, GVariant *parameters, gpointer user_data)
{
  Stopper *stopper = user_data;
  const char *method;

  g_variant_get (parameters, "(&s@av)", &method, NULL);
  if (!g_str_equal (method, "Reapply") || stopper->stopped)
    return;
  stopper->stopped = TRUE;
  mock_stop_nm (stopper->mock);
}

/* NetworkManager stops while the device reapplies (the mock's Reapply hangs until we stop it):
 * a clean error that says the setting was saved, and the log keeps the change. */
static void
test_gone_mid_operation (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6FixResult) fixed = NULL;
  Stopper stopper = { 0 };
  guint subscription;
  gint64 elapsed;

  if (skip_without_dbusmock ())
    return;

  fixture_up (&f, "disabled", everything, NULL, "import time\ntime.sleep(20)\n");
  stopper.mock = &f.mock;
  subscription = g_dbus_connection_signal_subscribe (f.mock.bus, NULL, MOCK_IFACE, "MethodCalled",
                                                     f.device, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                     stop_on_reapply, &stopper, NULL);

  fixed = run_enable (f.log, NULL, &elapsed, &error);
  g_assert_null (fixed);
  g_assert_true (stopper.stopped);
  g_assert_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_NETWORK_MANAGER_GONE);
  g_assert_nonnull (strstr (error->message, "NetworkManager stopped after saving"));
  g_assert_nonnull (strstr (error->message, "can be undone"));
  g_assert_cmpint (elapsed, <, 10 * G_USEC_PER_SEC);
  g_assert_cmpuint (log_length (f.log), ==, 1);
  g_dbus_connection_signal_unsubscribe (f.mock.bus, subscription);
  fixture_down (&f);
}

/* NetworkManager stopped before the operation: a clean error, nothing recorded. */
static void
test_gone_before (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6FixResult) fixed = NULL;

  if (skip_without_dbusmock ())
    return;

  fixture_up (&f, "disabled", everything, NULL, "");
  mock_stop_nm (&f.mock);
  fixed = run_enable (f.log, NULL, NULL, &error);
  g_assert_null (fixed);
  g_assert_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_NO_NETWORK_MANAGER);
  g_assert_cmpuint (log_length (f.log), ==, 0);
  fixture_down (&f);
}

/* ---- cancelling, and undo's refusals ---- */

static void
test_cancelled_before_change (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6FixResult) fixed = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *method = NULL;

  if (skip_without_dbusmock ())
    return;

  fixture_up (&f, "disabled", everything, NULL, "");
  g_cancellable_cancel (cancellable);
  fixed = run_enable (f.log, cancellable, NULL, &error);
  g_assert_null (fixed);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  method = mock_get_setting (&f.mock, f.connection, "ipv6", "method");
  g_assert_cmpstr (method, ==, "disabled");
  g_assert_cmpuint (mock_count_calls (&f.mock, f.connection, "Update2"), ==, 0);
  fixture_down (&f);
}

/* Someone set IPv6 by hand after Porthole turned it on: undo leaves their choice alone. */
static void
test_undo_changed_since (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6FixResult) fixed = NULL;
  g_autoptr (PhIpv6FixResult) undone = NULL;
  g_autofree char *method = NULL;

  if (skip_without_dbusmock ())
    return;

  fixture_up (&f, "disabled", everything, NULL, "");
  fixed = run_enable (f.log, NULL, NULL, &error);
  g_assert_no_error (error);
  mock_call_void (&f.mock, f.connection, NM_CONNECTION_IFACE, "Update",
                  g_variant_new_parsed ("({'connection': {'id': <'Wired connection 1'>},"
                                        " 'ipv6': {'method': <'manual'>}},)"));
  spin_main_context (200);

  undone = run_undo (fixed->change, f.log, &error);
  g_assert_null (undone);
  g_assert_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_CHANGED_SINCE);
  g_assert_nonnull (strstr (error->message, "it is now “manual”"));
  method = mock_get_setting (&f.mock, f.connection, "ipv6", "method");
  g_assert_cmpstr (method, ==, "manual");
  g_assert_cmpuint (log_length (f.log), ==, 1);
  fixture_down (&f);
}

/* A change of another kind, or one whose "old method" would turn IPv6 into something else. */
static void
test_undo_bad_change (void)
{
  g_autoptr (JsonObject) undo = json_object_new ();
  g_autoptr (PhChange) other = NULL;
  g_autoptr (PhChange) tampered = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PhIpv6FixResult) undone = NULL;

  if (skip_without_bus ())
    return;

  other = ph_change_new ("upnp-port-mapping", "x", "Forwarded a port.", NULL, NULL);
  undone = run_undo (other, NULL, &error);
  g_assert_null (undone);
  g_assert_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_BAD_CHANGE);
  g_clear_error (&error);

  json_object_set_string_member (undo, "connection_uuid", WIRED_UUID);
  json_object_set_string_member (undo, "old_method", "manual");
  json_object_set_string_member (undo, "new_method", "auto");
  tampered = ph_change_new (PH_IPV6_FIX_CHANGE_KIND, WIRED_UUID, "Turned on IPv6.",
                            "Set it back by hand.", undo);
  undone = run_undo (tampered, NULL, &error);
  g_assert_null (undone);
  g_assert_error (error, PH_IPV6_FIX_ERROR, PH_IPV6_FIX_ERROR_BAD_CHANGE);
  g_assert_nonnull (strstr (error->message, "Set it back by hand."));
}

int
main (int argc, char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  test_bus_up ();

  g_test_add_func ("/ipv6-fix/absent", test_absent);
  g_test_add_func ("/ipv6-fix/hung", test_hung);
  g_test_add_func ("/ipv6-fix/no-connection", test_no_connection);
  g_test_add_func ("/ipv6-fix/check-yes", test_check_yes);
  g_test_add_func ("/ipv6-fix/check-auth", test_check_auth);
  g_test_add_func ("/ipv6-fix/enable-and-undo", test_enable_and_undo);
  g_test_add_func ("/ipv6-fix/none-offered", test_none_offered);
  g_test_add_func ("/ipv6-fix/not-applied", test_not_applied);
  g_test_add_func ("/ipv6-fix/already-on", test_already_on);
  g_test_add_func ("/ipv6-fix/permission-denied", test_permission_denied);
  g_test_add_func ("/ipv6-fix/prompt-dismissed", test_prompt_dismissed);
  g_test_add_func ("/ipv6-fix/gone-mid-operation", test_gone_mid_operation);
  g_test_add_func ("/ipv6-fix/gone-before", test_gone_before);
  g_test_add_func ("/ipv6-fix/cancelled-before-change", test_cancelled_before_change);
  g_test_add_func ("/ipv6-fix/undo-changed-since", test_undo_changed_since);
  g_test_add_func ("/ipv6-fix/undo-bad-change", test_undo_bad_change);

  ret = g_test_run ();
  test_bus_down ();
  return ret;
}
