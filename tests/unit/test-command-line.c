/* test-command-line.c: `porthole` as a person or a script runs it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <json-glib/json-glib.h>

typedef struct
{
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static void
run_porthole (Run *run, const char *const *args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  const char *exe = g_getenv ("PORTHOLE_EXE");
  int wait_status;

  g_assert_nonnull (exe);
  g_ptr_array_add (argv, (gpointer) exe);
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &run->out,
                &run->err, &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  run->status = WEXITSTATUS (wait_status);
}

static void
test_version (void)
{
  g_auto (Run) run = { 0 };

  run_porthole (&run, (const char *[]){ "--version", NULL });
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.out, ==, "porthole " PACKAGE_VERSION "\n");
}

static void
test_help (void)
{
  g_auto (Run) run = { 0 };

  run_porthole (&run, (const char *[]){ "--help", NULL });
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "--check"));
  g_assert_nonnull (strstr (run.out, "--json"));
  g_assert_null (strstr (run.out, "gapplication-service"));
}

static void
test_bad_input (void)
{
  const char *const *cases[] = {
    (const char *[]){ "--bogus", NULL },
    (const char *[]){ "--check", "--port", "0", NULL },
    (const char *[]){ "--check", "--port", "65536", NULL },
    (const char *[]){ "--check", "--port", "http", NULL },
    (const char *[]){ "--check", "--timeout", "0", NULL },
    (const char *[]){ "--check", "--timeout", "100000", NULL },
    (const char *[]){ "--json", NULL },
    (const char *[]){ "--check", "stray", NULL },
    (const char *[]){ "--port", NULL },
    (const char *[]){ "--check", "--peer", "/ip4/1.2.3.4/tcp/99999", NULL },
    (const char *[]){ "--check", "--peer", "bootstrap.libp2p.io", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (Run) run = { 0 };

      run_porthole (&run, cases[i]);
      g_test_message ("%s → %d: %s", cases[i][0], run.status, run.err);
      g_assert_cmpint (run.status, ==, 2);
      g_assert_cmpstr (run.out, ==, "");
      g_assert_true (g_str_has_prefix (run.err, "porthole: "));
      /* exactly one line */
      g_assert_nonnull (strchr (run.err, '\n'));
      g_assert_cmpint (strchr (run.err, '\n') - run.err, ==, strlen (run.err) - 1);
    }
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_ref (json_parser_get_root (parser));
}

static JsonNode *
run_ip (const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  int wait_status;

  g_ptr_array_add (argv, "ip");
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (wait_status, NULL));
  /* `ip -j` prints nothing at all for an empty table */
  return parse_json (*g_strstrip (out) ? out : "[]");
}

static gboolean
report_has_address (JsonArray *addresses, const char *ifname, const char *address, gint64 prefix)
{
  for (guint i = 0; i < json_array_get_length (addresses); i++)
    {
      JsonObject *a = json_array_get_object_element (addresses, i);

      if (g_strcmp0 (json_object_get_string_member (a, "interface"), ifname) == 0
          && g_strcmp0 (json_object_get_string_member (a, "address"), address) == 0
          && json_object_get_int_member (a, "prefix") == prefix)
        return TRUE;
    }
  return FALSE;
}

static void
compare_addresses (JsonObject *lan)
{
  g_autoptr (JsonNode) ip = run_ip ((const char *[]){ "-j", "addr", "show", NULL });
  JsonArray *links = json_node_get_array (ip);
  JsonArray *addresses = json_object_get_array_member (lan, "addresses");
  guint expected = 0;

  for (guint i = 0; i < json_array_get_length (links); i++)
    {
      JsonObject *link = json_array_get_object_element (links, i);
      JsonArray *infos = json_object_get_array_member (link, "addr_info");

      for (guint j = 0; infos && j < json_array_get_length (infos); j++)
        {
          JsonObject *info = json_array_get_object_element (infos, j);
          const char *local = json_object_get_string_member (info, "local");

          g_test_message ("ip: %s %s/%" G_GINT64_FORMAT,
                          json_object_get_string_member (link, "ifname"), local,
                          json_object_get_int_member (info, "prefixlen"));
          g_assert_true (report_has_address (addresses,
                                             json_object_get_string_member (link, "ifname"), local,
                                             json_object_get_int_member (info, "prefixlen")));
          expected++;
        }
    }
  g_assert_cmpuint (json_array_get_length (addresses), ==, expected);
}

static void
compare_gateways (JsonObject *lan, const char *family_flag, const char *family)
{
  g_autoptr (JsonNode) ip
      = run_ip ((const char *[]){ family_flag, "-j", "route", "show", "default", NULL });
  JsonArray *routes = json_node_get_array (ip);
  JsonArray *gateways = json_object_get_array_member (lan, "gateways");
  guint ours = 0;

  for (guint i = 0; i < json_array_get_length (gateways); i++)
    {
      JsonObject *g = json_array_get_object_element (gateways, i);
      if (g_strcmp0 (json_object_get_string_member (g, "family"), family) == 0)
        ours++;
    }
  g_assert_cmpuint (ours, ==, json_array_get_length (routes));

  for (guint i = 0; i < json_array_get_length (routes); i++)
    {
      JsonObject *route = json_array_get_object_element (routes, i);
      const char *via = json_object_get_string_member_with_default (route, "gateway", NULL);
      gboolean found = FALSE;

      for (guint j = 0; j < json_array_get_length (gateways); j++)
        {
          JsonObject *g = json_array_get_object_element (gateways, j);

          if (g_strcmp0 (json_object_get_string_member_with_default (g, "gateway", NULL), via) == 0
              && g_strcmp0 (json_object_get_string_member (g, "interface"),
                            json_object_get_string_member (route, "dev"))
                     == 0)
            found = TRUE;
        }
      g_assert_true (found);
    }
}

static void
test_check_json (void)
{
  g_auto (Run) run = { 0 };
  g_autoptr (JsonNode) root = NULL;
  JsonObject *report, *lan;

  run_porthole (&run,
                (const char *[]){ "--check", "--json", "--peer", "/ip4/127.0.0.1/tcp/9", NULL });
  g_test_message ("stderr: %s", run.err);
  /* a server without /p2p is never asked (its identity could not be checked): no servers */
  g_assert_cmpint (run.status, ==, 3);
  root = parse_json (run.out);
  report = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (report, "verdict"), ==, "unknown");
  g_assert_cmpstr (json_object_get_string_member (report, "reason"), ==, "no-servers");
  g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (report, "ipv4"), "verdict"), ==,
      "unknown");
  g_assert_true (json_object_has_member (report, "elapsed_ms"));
  g_assert_true (json_object_has_member (report, "probes"));

  lan = json_object_get_object_member (report, "lan");
  g_assert_nonnull (lan);
  g_assert_cmpstr (json_object_get_string_member (lan, "source"), ==, "netlink");
  compare_addresses (lan);
  compare_gateways (lan, "-4", "ipv4");
  compare_gateways (lan, "-6", "ipv6");
}

static void
test_check_text (void)
{
  g_auto (Run) run = { 0 };

  run_porthole (&run,
                (const char *[]){ "--check", "--no-upnp", "--peer", "/ip4/127.0.0.1/tcp/9", NULL });
  g_assert_cmpint (run.status, ==, 3);
  g_assert_nonnull (strstr (run.out, "IPv4: unknown"));
  g_assert_nonnull (strstr (run.out, "NetworkManager"));
}

int
main (int argc, char *argv[])
{
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/command-line/version", test_version);
  g_test_add_func ("/command-line/help", test_help);
  g_test_add_func ("/command-line/bad-input", test_bad_input);
  g_test_add_func ("/command-line/check-json", test_check_json);
  g_test_add_func ("/command-line/check-text", test_check_text);

  return g_test_run ();
}
