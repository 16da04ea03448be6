/* test-replay.c: recorded checks — loading them (ph_diagnosis_new_from_json), replaying them
 * (PORTHOLE_TEST_REPLAY) with their progress events, the recommendations drawn from each road's
 * facts, and the progress of a real check on loopback.
 *
 * The recorded facts in tests/ui/recorded/<road>/check-N.json are canonical: loading one and
 * writing it out again gives the same JSON. After changing ph_diagnosis_to_json, run this test
 * with PORTHOLE_TEST_REWRITE_RECORDED=1 to write them out again (then read the diff).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/ph-actions.h"
#include "core/ph-check.h"
#include "core/ph-diagnosis.h"
#include "core/ph-verdict.h"
#include "fake-igd.h"

#define RECORDED TEST_SRCDIR "/ui/recorded"

static const char *const roads[] = { "upnp", "manual", "ipv6", "cgnat", "reachable", "kubo", NULL };

/* ---- helpers ---- */

static char *
recorded_path (const char *road, guint n)
{
  g_autofree char *name = g_strdup_printf ("check-%u.json", n);

  return g_build_filename (RECORDED, road, name, NULL);
}

static PhDiagnosis *
load_recorded (const char *road, guint n)
{
  g_autofree char *path = recorded_path (road, n);
  g_autoptr (GError) error = NULL;
  PhDiagnosis *diagnosis = ph_check_load_recorded (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (diagnosis);
  return diagnosis;
}

static JsonNode *
parse (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static char *
to_text (JsonNode *node, gboolean pretty)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  json_generator_set_pretty (generator, pretty);
  json_generator_set_indent (generator, 2);
  return json_generator_to_data (generator, NULL);
}

static char *
dump (PhDiagnosis *diagnosis)
{
  g_autoptr (JsonNode) node = ph_diagnosis_to_json (diagnosis);

  return to_text (node, FALSE);
}

static PhDiagnosis *
reload (JsonNode *node)
{
  g_autoptr (GError) error = NULL;
  PhDiagnosis *diagnosis = ph_diagnosis_new_from_json (node, &error);

  g_assert_no_error (error);
  g_assert_nonnull (diagnosis);
  return diagnosis;
}

/* ---- round trips ---- */

static PhLanAddress *
lan_address (const char *ifname, guint ifindex, int family, const char *address, guint prefix,
             PhIpScope scope, gboolean temporary)
{
  PhLanAddress *a = g_new0 (PhLanAddress, 1);

  a->ifname = g_strdup (ifname);
  a->ifindex = ifindex;
  a->family = family;
  a->address = g_strdup (address);
  a->prefix = prefix;
  a->scope = scope;
  a->temporary = temporary;
  a->dynamic = TRUE;
  return a;
}

static PhDiagnosis *
built_diagnosis (void)
{
  PhDiagnosis *diagnosis = ph_diagnosis_new ();
  PhLanFacts *lan = ph_lan_facts_new ();
  PhLanInterface *iface = g_new0 (PhLanInterface, 1);
  PhLanRoute *route = g_new0 (PhLanRoute, 1);
  PhNmFacts *nm = ph_nm_facts_new ();
  PhUpnpFacts *upnp = ph_upnp_facts_new ();
  PhUpnpMapping *mapping = g_new0 (PhUpnpMapping, 1);
  g_autoptr (GPtrArray) causes = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) addresses = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) path = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *probes = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_probe_evidence_free);
  PhProbeEvidence *e;

  iface->name = g_strdup ("eth0");
  iface->index = 2;
  iface->mac = g_strdup ("52:54:00:12:34:56");
  iface->up = TRUE;
  g_ptr_array_add (lan->interfaces, iface);
  g_ptr_array_add (lan->addresses,
                   lan_address ("eth0", 2, AF_INET, "10.0.0.5", 24, PH_IP_SCOPE_PRIVATE, FALSE));
  g_ptr_array_add (lan->addresses, lan_address ("eth0", 2, AF_INET6, "2a01:4f8:c17:1::5", 64,
                                                PH_IP_SCOPE_PUBLIC, TRUE));
  route->ifname = g_strdup ("eth0");
  route->ifindex = 2;
  route->family = AF_INET;
  route->gateway = g_strdup ("10.0.0.1");
  route->metric = 100;
  g_ptr_array_add (lan->gateways, route);
  ph_diagnosis_take_lan (diagnosis, lan);

  nm->running = TRUE;
  nm->version = g_strdup ("1.42.4");
  nm->device = g_strdup ("eth0");
  nm->connection_id = g_strdup ("Wired connection 1");
  nm->connection_uuid = g_strdup ("d1b3c1a4-0000-4000-8000-000000000001");
  nm->connection_type = g_strdup ("802-3-ethernet");
  nm->ipv4_method = g_strdup ("auto");
  nm->ipv6_method = g_strdup ("auto");
  nm->default_ipv4 = TRUE;
  nm->ipv4_address = g_strdup ("10.0.0.5");
  nm->ipv4_prefix = 24;
  nm->ipv4_gateway = g_strdup ("10.0.0.1");
  nm->ipv4_dhcp = TRUE;
  nm->dhcp_lease_s = 3600;
  nm->dhcp_expiry = 1800000000;
  nm->dhcp_server = g_strdup ("10.0.0.1");
  ph_nm_facts_add_ipv6_address (nm, "2a01:4f8:c17:1::5", 64);
  ph_nm_facts_add_ipv6_address (nm, "fe80::1", 64);
  ((PhNmAddress *) g_ptr_array_index (nm->ipv6_addresses, 0))->kind = PH_NM_IPV6_KIND_TEMPORARY;
  nm->ipv6_gateway = g_strdup ("fe80::ff");
  nm->ipv6_default_route = TRUE;
  ph_diagnosis_take_nm (diagnosis, nm);

  upnp->found = TRUE;
  upnp->router = g_new0 (PhUpnpDeviceInfo, 1);
  upnp->router->friendly_name = g_strdup ("Speedport");
  upnp->router->model_name = g_strdup ("Smart 4");
  upnp->router->admin_url = g_strdup ("http://10.0.0.1/");
  upnp->desc_url = g_strdup ("http://10.0.0.1:49000/igddesc.xml");
  upnp->gateway = g_strdup ("10.0.0.1");
  upnp->on_gateway = FALSE;
  upnp->connected = FALSE;
  upnp->lan_address = g_strdup ("10.0.0.5");
  upnp->external_address = g_strdup ("192.168.178.20");
  upnp->external_scope = PH_UPNP_EXTERNAL_PRIVATE;
  upnp->swarm_port = 4001;
  mapping->external_port = 5001;
  mapping->protocol = g_strdup ("TCP");
  mapping->internal_client = g_strdup ("10.0.0.5");
  mapping->internal_port = 5001;
  mapping->description = g_strdup ("oops");
  mapping->enabled = TRUE;
  mapping->remote_host = g_strdup ("");
  g_ptr_array_add (upnp->mappings, mapping);
  ph_upnp_facts_analyse (upnp); /* double-nat, not-connected, not-on-gateway, api-port-mapped */
  g_assert_cmpuint (upnp->warnings->len, ==, 4);
  ph_diagnosis_take_upnp (diagnosis, upnp);

  g_ptr_array_add (causes, g_strdup ("double-nat"));
  g_ptr_array_add (causes, g_strdup ("behind-nat"));
  g_ptr_array_add (path, g_strdup ("10.0.0.1"));
  g_ptr_array_add (path, NULL);
  g_ptr_array_add (path, g_strdup ("81.2.69.129"));
  ph_diagnosis_set_family (diagnosis, PH_FAMILY_IPV4, PH_VERDICT_UNREACHABLE, NULL);
  ph_diagnosis_set_family_causes (diagnosis, PH_FAMILY_IPV4, causes, NULL, TRUE);
  ph_diagnosis_set_path (diagnosis, path);
  g_ptr_array_add (addresses, g_strdup ("/ip6/2a01:4f8:c17:1::5/tcp/4001"));
  ph_diagnosis_set_family (diagnosis, PH_FAMILY_IPV6, PH_VERDICT_REACHABLE, NULL);
  ph_diagnosis_set_family_causes (diagnosis, PH_FAMILY_IPV6, NULL, addresses, FALSE);

  e = ph_probe_evidence_new ();
  e->server = g_strdup (
      "/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ");
  e->group = ph_verdict_group_for_address ("104.131.131.82");
  e->protocol = PH_PROBE_PROTOCOL_AUTONAT_V1;
  e->address = g_strdup ("/ip4/81.2.69.160/tcp/4001");
  e->observed = g_strdup ("/ip4/81.2.69.160/tcp/31000");
  e->result = PH_PROBE_RESULT_UNREACHABLE;
  e->detail = g_strdup ("E_DIAL_ERROR: dial failed");
  e->ms = 812;
  g_ptr_array_add (probes, e);
  e = ph_probe_evidence_new ();
  e->server = g_strdup (
      "/ip6/2604:1380:4602:5c00::3/tcp/4001/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN");
  e->group = ph_verdict_group_for_address ("2604:1380:4602:5c00::3");
  e->family = PH_FAMILY_IPV6;
  e->result = PH_PROBE_RESULT_REACHABLE;
  e->address = g_strdup ("/ip6/2a01:4f8:c17:1::5/tcp/4001");
  e->ms = 95;
  g_ptr_array_add (probes, e);
  ph_diagnosis_take_probes (diagnosis, probes,
                            "12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK");
  ph_diagnosis_set_port (diagnosis, 4001);
  ph_diagnosis_set_port_owner (diagnosis, "ipfs (process 2412)");
  ph_diagnosis_set_elapsed_ms (diagnosis, 4321);
  return diagnosis;
}

static void
test_round_trip_built (void)
{
  g_autoptr (PhDiagnosis) diagnosis = built_diagnosis ();
  g_autoptr (JsonNode) node = ph_diagnosis_to_json (diagnosis);
  g_autoptr (PhDiagnosis) again = reload (node);
  g_autofree char *before = dump (diagnosis);
  g_autofree char *after = dump (again);
  PhProbeEvidence *e;

  g_assert_cmpstr (after, ==, before);
  /* what the JSON does not carry is worked out again */
  e = g_ptr_array_index (ph_diagnosis_get_probes (again), 0);
  g_assert_cmpstr (e->group, ==, "104.131.0.0/16");
  e = g_ptr_array_index (ph_diagnosis_get_probes (again), 1);
  g_assert_cmpstr (e->group, ==, "2604:1380::/32");
  g_assert_cmpuint (
      ((PhLanAddress *) g_ptr_array_index (ph_diagnosis_get_lan (again)->addresses, 0))->ifindex,
      ==, 2);
  g_assert_cmpstr (ph_diagnosis_get_upnp (again)->desc_url, ==,
                   "http://10.0.0.1:49000/igddesc.xml");
  g_assert_null (g_ptr_array_index (ph_diagnosis_get_path (again), 1));
  g_assert_cmpuint (ph_diagnosis_get_elapsed_ms (again), ==, 4321);
  g_assert_cmpstr (ph_diagnosis_get_port_owner (again), ==, "ipfs (process 2412)");
  /* the text report, which reads every fact, is the same too */
  {
    g_autofree char *text_before = ph_diagnosis_to_text (diagnosis);
    g_autofree char *text_after = ph_diagnosis_to_text (again);

    g_assert_cmpstr (text_after, ==, text_before);
  }
}

/* Every recorded file loads, and is canonical: writing it out again gives the same JSON. */
static void
test_round_trip_recorded (void)
{
  for (guint r = 0; roads[r]; r++)
    for (guint n = 1;; n++)
      {
        g_autofree char *path = recorded_path (roads[r], n);
        g_autofree char *contents = NULL;
        g_autoptr (JsonNode) file = NULL;
        g_autoptr (JsonNode) written = NULL;
        g_autoptr (PhDiagnosis) diagnosis = NULL;
        g_autoptr (PhDiagnosis) again = NULL;
        g_autoptr (GError) error = NULL;

        if (!g_file_test (path, G_FILE_TEST_EXISTS))
          {
            g_assert_cmpuint (n, >, 1); /* every road has at least one */
            break;
          }
        g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
        file = parse (contents);
        diagnosis = reload (file);
        written = ph_diagnosis_to_json (diagnosis);
        /* the version that wrote it is not a fact */
        json_object_set_string_member (
            json_node_get_object (written), "porthole",
            json_object_get_string_member (json_node_get_object (file), "porthole"));
        {
          g_autofree char *canonical = to_text (written, TRUE);
          g_autofree char *as_is = to_text (file, TRUE);

          if (g_strcmp0 (canonical, as_is) != 0)
            {
              if (g_strcmp0 (g_getenv ("PORTHOLE_TEST_REWRITE_RECORDED"), "1") == 0)
                {
                  g_autofree char *with_newline = g_strconcat (canonical, "\n", NULL);

                  g_assert_true (g_file_set_contents (path, with_newline, -1, &error));
                  g_test_message ("rewrote %s", path);
                }
              else
                {
                  g_test_message ("%s is not canonical; it would be:\n%s", path, canonical);
                  g_test_fail ();
                }
            }
        }
        /* loading what was written gives the same again */
        again = reload (written);
        {
          g_autofree char *a = dump (diagnosis);
          g_autofree char *b = dump (again);

          g_assert_cmpstr (a, ==, b);
        }
      }
}

/* ---- malformed input ---- */

typedef struct
{
  const char *pointer; /* where: "a.b.0.c" into the manual road's check-1 */
  const char *value;   /* JSON to put there; NULL: remove the member */
  const char *message; /* a piece of the error message */
} Mutation;

static JsonNode *
mutate (JsonNode *root, const char *pointer, const char *value)
{
  g_auto (GStrv) parts = g_strsplit (pointer, ".", -1);
  guint n = g_strv_length (parts);
  JsonNode *node = root;

  for (guint i = 0; i + 1 < n; i++)
    {
      if (JSON_NODE_HOLDS_ARRAY (node))
        node = json_array_get_element (json_node_get_array (node),
                                       (guint) g_ascii_strtoull (parts[i], NULL, 10));
      else
        node = json_object_get_member (json_node_get_object (node), parts[i]);
      g_assert_nonnull (node);
    }
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      guint index = (guint) g_ascii_strtoull (parts[n - 1], NULL, 10);

      g_assert_nonnull (value);
      /* replace the element: rebuild the array */
      {
        JsonArray *copy = json_array_new ();

        for (guint i = 0; i < json_array_get_length (array); i++)
          json_array_add_element (copy, i == index
                                            ? parse (value)
                                            : json_node_copy (json_array_get_element (array, i)));
        json_node_take_array (node, copy);
      }
    }
  else if (value)
    json_object_set_member (json_node_get_object (node), parts[n - 1], parse (value));
  else
    json_object_remove_member (json_node_get_object (node), parts[n - 1]);
  return root;
}

static void
test_malformed (void)
{
  g_autofree char *long_string = g_strnfill (PH_DIAGNOSIS_JSON_MAX_STRING + 1, 'a');
  g_autofree char *long_json = g_strdup_printf ("\"%s\"", long_string);
  g_autoptr (GString) many = g_string_new ("[");
  g_autofree char *path = recorded_path ("kubo", 1);
  g_autofree char *contents = NULL;
  const Mutation mutations[] = {
    { "ipv4", NULL, "ipv4: missing" },
    { "ipv4.verdict", NULL, "“verdict” is missing" },
    { "ipv4.verdict", "\"maybe\"", "“maybe” is not a known verdict" },
    { "ipv4.verdict", "3", "ipv4.verdict: not a string" },
    { "ipv6.causes", "\"cgnat\"", "“causes” is not an array" },
    { "ipv6.causes", "[1]", "ipv6.causes[0]: not a string" },
    { "ipv4.path", "[\"10.0.0.1\", 7]", "ipv4.path[1]: not a string" },
    { "port", "70000", "“port” is out of range" },
    { "port", "-1", "“port” is out of range" },
    { "port", "\"4001\"", "“port” is not a whole number" },
    { "elapsed_ms", "1.5", "“elapsed_ms” is not a whole number" },
    { "probes", "{}", "“probes” is not an array" },
    { "probes.0", "\"x\"", "probes[0] is not an object" },
    { "probes.0.server", NULL, "“server” is missing" },
    { "probes.0.result", "\"great\"", "“great” is not a known result" },
    { "probes.0.family", "\"ipv5\"", "“ipv5” is not a known family" },
    { "probes.0.ms", "true", "“ms” is not a whole number" },
    { "probes.0.detail", long_json, "longer than" },
    { "lan", "[]", "“lan” is not an object" },
    { "lan.addresses.1.prefix", "33", "“prefix” is out of range" },
    { "lan.addresses.1.scope", "\"galactic\"", "“galactic” is not a known scope" },
    { "lan.interfaces.0.up", "\"yes\"", "“up” is not true or false" },
    { "lan.interfaces.0.name", NULL, "“name” is missing" },
    { "lan.network_manager.ipv6.addresses.0.address", "\"10.0.0.1\"", "is not an IPv6 address" },
    { "lan.network_manager.connection", "7", "“connection” is not an object" },
    { "upnp.router.desc_url", "false", "upnp.router.desc_url: not a string" },
    { "upnp.mappings.0.external_port", "65536", "“external_port” is out of range" },
    { "upnp.external_scope", "\"moon\"", "“moon” is not a known external_scope" },
    { "upnp.warnings.0", "{\"message\": \"m\"}", "“code” is missing" },
    { "node.state", "\"dancing\"", "“dancing” is not a known state" },
    { "node.swarm_ports.tcp4", "-5", "“tcp4” is out of range" },
    { "node.settings.swarm", "[null]", "node.settings.swarm[0]: not a string" },
    { "node.reachability.overall", "\"sometimes\"", "“sometimes” is not a known overall" },
    { "node.warnings.0.id", NULL, "“id” is missing" },
  };

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (mutations); i++)
    {
      g_autoptr (JsonNode) root = parse (contents);
      g_autoptr (GError) error = NULL;
      g_autoptr (PhDiagnosis) diagnosis = NULL;

      /* the kubo road has one of everything; the upnp warnings come from the cgnat road */
      if (g_str_has_prefix (mutations[i].pointer, "upnp.warnings"))
        {
          JsonObject *upnp
              = json_node_get_object (json_object_get_member (json_node_get_object (root), "upnp"));
          json_object_set_member (upnp, "warnings",
                                  parse ("[{\"code\": \"cgnat\", \"message\": \"x\"}]"));
        }
      mutate (root, mutations[i].pointer, mutations[i].value);
      diagnosis = ph_diagnosis_new_from_json (root, &error);
      g_test_message ("%s: %s", mutations[i].pointer, error ? error->message : "(no error)");
      g_assert_null (diagnosis);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, mutations[i].message));
    }

  /* not an object at all; an array over the bound */
  {
    g_autoptr (JsonNode) root = parse ("[1, 2]");
    g_autoptr (GError) error = NULL;

    g_assert_null (ph_diagnosis_new_from_json (root, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  }
  for (guint i = 0; i <= PH_DIAGNOSIS_JSON_MAX_ITEMS; i++)
    g_string_append (many, i ? ", \"cgnat\"" : "\"cgnat\"");
  g_string_append (many, "]");
  {
    g_autoptr (JsonNode) root = mutate (parse (contents), "ipv4.causes", many->str);
    g_autoptr (GError) error = NULL;

    g_assert_null (ph_diagnosis_new_from_json (root, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_assert_nonnull (strstr (error->message, "more than"));
  }
  /* absent optional parts are fine: the least a check can say */
  {
    g_autoptr (JsonNode) root
        = parse ("{\"ipv4\": {\"verdict\": \"unknown\"}, \"ipv6\": {\"verdict\": \"unknown\"}}");
    g_autoptr (GError) error = NULL;
    g_autoptr (PhDiagnosis) diagnosis = ph_diagnosis_new_from_json (root, &error);

    g_assert_no_error (error);
    g_assert_cmpint (ph_diagnosis_get_verdict (diagnosis), ==, PH_VERDICT_UNKNOWN);
    g_assert_null (ph_diagnosis_get_lan (diagnosis));
    g_assert_null (ph_diagnosis_get_upnp (diagnosis));
  }
}

static void
test_load_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("porthole-replay-XXXXXX", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.json", NULL);
  g_autofree char *big = g_build_filename (dir, "big.json", NULL);
  g_autofree char *huge = g_strnfill (PH_CHECK_REPLAY_MAX_FILE_SIZE + 1, ' ');

  g_assert_null (ph_check_load_recorded ("/nonexistent/check-1.json", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (bad, "{\"ipv4\": ", -1, NULL));
  g_assert_null (ph_check_load_recorded (bad, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, bad));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (big, huge, -1, NULL));
  g_assert_null (ph_check_load_recorded (big, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);

  g_unlink (bad);
  g_unlink (big);
  g_rmdir (dir);
}

/* A recorded check nested a million deep overflowed json-glib's recursive parser: refused first,
 * while brackets inside strings (and escaped quotes) do not count. */
static void
test_load_deep (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("porthole-replay-XXXXXX", NULL);
  g_autofree char *deep = g_build_filename (dir, "deep.json", NULL);
  g_autofree char *text = g_strnfill (PH_CHECK_REPLAY_MAX_FILE_SIZE, '[');
  g_autoptr (PhDiagnosis) good = load_recorded ("upnp", 1);
  g_autoptr (JsonNode) node = ph_diagnosis_to_json (good);
  g_autofree char *json = json_to_string (node, FALSE);
  g_autoptr (GString) quoted = g_string_new (json);
  g_autoptr (PhDiagnosis) again = NULL;
  g_autoptr (PhDiagnosis) none = NULL;

  g_assert_true (g_file_set_contents (deep, text, -1, NULL));
  g_assert_null (ph_check_load_recorded (deep, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);

  none = ph_diagnosis_new_from_json_data (text, strlen (text), &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_false (ph_json_depth_ok ("[[[", 3, 2));
  g_assert_true (ph_json_depth_ok ("[[]][[]]", 8, 2));
  g_assert_true (ph_json_depth_ok ("[\"[[[\\\"[[\"]", 11, 1));

  /* a port owner full of brackets and an escaped quote is still a good check */
  g_assert_nonnull (strstr (json, "\"port\":4001,"));
  g_string_replace (quoted, "\"port\":4001,",
                    "\"port\":4001,\"port_owner\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{{{\",",
                    1);
  again = ph_diagnosis_new_from_json_data (quoted->str, quoted->len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (again);
  g_assert_true (g_str_has_suffix (ph_diagnosis_get_port_owner (again), "[\"{{{{"));

  g_unlink (deep);
  g_rmdir (dir);
}

static void
test_igd_url (void)
{
  g_autoptr (PhDiagnosis) plain = NULL;
  g_autoptr (PhDiagnosis) substituted = NULL;

  g_unsetenv (PH_CHECK_REPLAY_IGD_URL_ENV);
  plain = load_recorded ("upnp", 1);
  g_assert_cmpstr (ph_diagnosis_get_upnp (plain)->desc_url, ==, PH_CHECK_REPLAY_IGD_URL);
  g_setenv (PH_CHECK_REPLAY_IGD_URL_ENV, "http://127.0.0.1:5431/rootDesc.xml", TRUE);
  substituted = load_recorded ("upnp", 1);
  g_assert_cmpstr (ph_diagnosis_get_upnp (substituted)->desc_url, ==,
                   "http://127.0.0.1:5431/rootDesc.xml");
  g_unsetenv (PH_CHECK_REPLAY_IGD_URL_ENV);
}

/* ---- replay ---- */

typedef struct
{
  GMainLoop *loop;
  GPtrArray *events; /* "<kind> <step|server>" */
  GArray *times;     /* gint64, monotonic µs */
  gboolean finished;
  gboolean off_thread;
  GThread *main_thread;
  PhDiagnosis *diagnosis;
  GError *error;
  GCancellable *cancel_after_first;
} Run;

static const char *
step_name (PhCheckStep step)
{
  switch (step)
    {
      case PH_CHECK_STEP_NETWORK:
        return "network";
      case PH_CHECK_STEP_ROUTER:
        return "router";
      case PH_CHECK_STEP_NODE:
        return "node";
      case PH_CHECK_STEP_PROBES:
      default:
        return "probes";
    }
}

static void
on_progress (const PhCheckEvent *event, gpointer user_data)
{
  Run *run = user_data;
  gint64 now = g_get_monotonic_time ();

  g_assert_false (run->finished); /* never after the callback */
  if (g_thread_self () != run->main_thread)
    run->off_thread = TRUE;
  switch (event->kind)
    {
      case PH_CHECK_EVENT_STEP_STARTED:
        g_ptr_array_add (run->events, g_strdup_printf ("started %s", step_name (event->step)));
        break;
      case PH_CHECK_EVENT_STEP_DONE:
        g_ptr_array_add (run->events, g_strdup_printf ("done %s", step_name (event->step)));
        if (event->step != PH_CHECK_STEP_PROBES)
          g_assert_nonnull (event->summary);
        break;
      case PH_CHECK_EVENT_PROBE_STARTED:
        g_assert_cmpint (event->step, ==, PH_CHECK_STEP_PROBES);
        g_assert_null (event->evidence);
        g_ptr_array_add (run->events, g_strdup_printf ("probe %s %s", event->server,
                                                       ph_family_to_string (event->family)));
        break;
      case PH_CHECK_EVENT_PROBE_DONE:
      default:
        g_assert_cmpint (event->step, ==, PH_CHECK_STEP_PROBES);
        g_assert_nonnull (event->evidence);
        g_assert_cmpstr (event->evidence->server, ==, event->server);
        g_ptr_array_add (run->events,
                         g_strdup_printf ("answer %s %s %s", event->server,
                                          ph_family_to_string (event->family),
                                          ph_probe_result_to_string (event->evidence->result)));
        break;
    }
  g_array_append_val (run->times, now);
  if (run->cancel_after_first)
    g_cancellable_cancel (run->cancel_after_first);
}

static void
on_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;

  run->diagnosis = ph_check_run_finish (result, &run->error);
  run->finished = TRUE;
  g_main_loop_quit (run->loop);
}

static gboolean
quit_cb (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
run_check (Run *run, const PhCheckOptions *options, GCancellable *cancellable)
{
  memset (run, 0, sizeof *run);
  run->loop = g_main_loop_new (NULL, FALSE);
  run->events = g_ptr_array_new_with_free_func (g_free);
  run->times = g_array_new (FALSE, FALSE, sizeof (gint64));
  run->main_thread = g_thread_self ();
  run->cancel_after_first = cancellable; /* the tests that pass one cancel at the first event */
  ph_check_run_async (options, cancellable, on_checked, run);
  g_assert_cmpuint (run->events->len, ==, 0); /* nothing from inside the call */
  g_main_loop_run (run->loop);
  /* and nothing after the callback */
  g_timeout_add (150, quit_cb, run->loop);
  g_main_loop_run (run->loop);
  g_assert_false (run->off_thread);
}

static void
run_clear (Run *run)
{
  g_clear_pointer (&run->loop, g_main_loop_unref);
  g_clear_pointer (&run->events, g_ptr_array_unref);
  g_clear_pointer (&run->times, g_array_unref);
  g_clear_object (&run->diagnosis);
  g_clear_error (&run->error);
}

static guint
index_of (GPtrArray *events, const char *event)
{
  guint index = 0;

  if (!g_ptr_array_find_with_equal_func (events, event, g_str_equal, &index))
    {
      g_test_message ("no event “%s”", event);
      g_assert_not_reached ();
    }
  return index;
}

static void
test_replay (void)
{
  g_autofree char *dir = g_build_filename (RECORDED, "upnp", NULL);
  PhCheckOptions options = { 0 };
  Run run;

  g_setenv (PH_CHECK_REPLAY_ENV, dir, TRUE);
  ph_check_reset_replay_for_tests ();
  options.progress = on_progress;

  /* the first call: check-1, with the events of a real check, in order, ~30 ms apart */
  options.progress_data = &run;
  run_check (&run, &options, NULL);
  g_assert_no_error (run.error);
  g_assert_nonnull (run.diagnosis);
  g_assert_cmpint (ph_diagnosis_get_family_verdict (run.diagnosis, PH_FAMILY_IPV4), ==,
                   PH_VERDICT_UNREACHABLE);
  g_assert_cmpstr (g_ptr_array_index (run.events, 0), ==, "started network");
  g_assert_cmpstr (g_ptr_array_index (run.events, 1), ==, "started router");
  g_assert_cmpstr (g_ptr_array_index (run.events, 2), ==, "started node");
  g_assert_cmpstr (g_ptr_array_index (run.events, run.events->len - 1), ==, "done probes");
  g_assert_cmpuint (index_of (run.events, "done network"), <,
                    index_of (run.events, "started probes"));
  g_assert_cmpuint (index_of (run.events, "done node"), <, index_of (run.events, "started probes"));
  g_assert_cmpuint (index_of (run.events, "started router"), <,
                    index_of (run.events, "done router"));
  for (guint i = 0; i < ph_diagnosis_get_probes (run.diagnosis)->len; i++)
    {
      const PhProbeEvidence *e = g_ptr_array_index (ph_diagnosis_get_probes (run.diagnosis), i);
      g_autofree char *started
          = g_strdup_printf ("probe %s %s", e->server, ph_family_to_string (e->family));
      g_autofree char *answered
          = g_strdup_printf ("answer %s %s %s", e->server, ph_family_to_string (e->family),
                             ph_probe_result_to_string (e->result));

      g_assert_cmpuint (index_of (run.events, "started probes"), <, index_of (run.events, started));
      g_assert_cmpuint (index_of (run.events, started), <, index_of (run.events, answered));
      g_assert_cmpuint (index_of (run.events, answered), <, index_of (run.events, "done probes"));
    }
  /* 3 + 2 + 1 + 6 + 1 + 6 + 1 */
  g_assert_cmpuint (run.events->len, ==, 20);
  for (guint i = 1; i < run.times->len; i++)
    g_assert_cmpint (g_array_index (run.times, gint64, i)
                         - g_array_index (run.times, gint64, i - 1),
                     >=, (PH_CHECK_REPLAY_INTERVAL_MS - 5) * 1000);
  run_clear (&run);

  /* the second: check-2 */
  run_check (&run, &options, NULL);
  g_assert_no_error (run.error);
  g_assert_cmpint (ph_diagnosis_get_family_verdict (run.diagnosis, PH_FAMILY_IPV4), ==,
                   PH_VERDICT_REACHABLE);
  run_clear (&run);

  /* past the end: the last one again; without progress, and with no_upnp, no router step */
  options.no_upnp = TRUE;
  run_check (&run, &options, NULL);
  g_assert_no_error (run.error);
  g_assert_cmpint (ph_diagnosis_get_family_verdict (run.diagnosis, PH_FAMILY_IPV4), ==,
                   PH_VERDICT_REACHABLE);
  g_assert_false (
      g_ptr_array_find_with_equal_func (run.events, "started router", g_str_equal, NULL));
  run_clear (&run);
  options.progress = NULL;
  run_check (&run, &options, NULL);
  g_assert_no_error (run.error);
  g_assert_cmpint (ph_diagnosis_get_family_verdict (run.diagnosis, PH_FAMILY_IPV4), ==,
                   PH_VERDICT_REACHABLE);
  g_assert_cmpuint (run.events->len, ==, 0);
  run_clear (&run);

  /* another directory starts again at 1 */
  {
    g_autofree char *manual = g_build_filename (RECORDED, "manual", NULL);

    g_setenv (PH_CHECK_REPLAY_ENV, manual, TRUE);
    run_check (&run, &options, NULL);
    g_assert_no_error (run.error);
    g_assert_cmpint (ph_diagnosis_get_family_verdict (run.diagnosis, PH_FAMILY_IPV4), ==,
                     PH_VERDICT_UNREACHABLE);
    g_assert_null (ph_diagnosis_get_upnp (run.diagnosis)->router);
    run_clear (&run);
  }
  g_unsetenv (PH_CHECK_REPLAY_ENV);
}

static void
test_replay_cancel (void)
{
  g_autofree char *dir = g_build_filename (RECORDED, "kubo", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  PhCheckOptions options = { 0 };
  Run run;

  g_setenv (PH_CHECK_REPLAY_ENV, dir, TRUE);
  ph_check_reset_replay_for_tests ();
  options.progress = on_progress;
  options.progress_data = &run;
  run_check (&run, &options, cancellable);
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (run.diagnosis);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  run_clear (&run);

  /* the cancelled one counted: the next is check-2 */
  {
    Run again;

    memset (&again, 0, sizeof again);
    options.progress = NULL;
    run_check (&again, &options, NULL);
    g_assert_no_error (again.error);
    g_assert_cmpint (ph_diagnosis_get_family_verdict (again.diagnosis, PH_FAMILY_IPV4), ==,
                     PH_VERDICT_REACHABLE);
    run_clear (&again);
  }
  g_unsetenv (PH_CHECK_REPLAY_ENV);
}

/* One check at a time: a second waits for the first (they would hold the same port), and a
 * check cancelled while it waits answers at once without ever starting. */
typedef struct
{
  PhDiagnosis *diagnosis;
  GError *error;
  gint64 done_us;
  gint64 first_event_us;
} Concurrent;

static void
concurrent_progress (const PhCheckEvent *event, gpointer user_data)
{
  Concurrent *c = user_data;

  if (c->first_event_us == 0)
    c->first_event_us = g_get_monotonic_time ();
}

static void
concurrent_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Concurrent *c = user_data;

  c->diagnosis = ph_check_run_finish (result, &c->error);
  c->done_us = g_get_monotonic_time ();
}

static void
test_one_at_a_time (void)
{
  g_autofree char *dir = g_build_filename (RECORDED, "kubo", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  PhCheckOptions options = { 0 };
  Concurrent a = { 0 }, b = { 0 }, c = { 0 };
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  g_setenv (PH_CHECK_REPLAY_ENV, dir, TRUE);
  ph_check_reset_replay_for_tests ();
  options.progress = concurrent_progress;
  options.progress_data = &a;
  ph_check_run_async (&options, NULL, concurrent_done, &a);
  options.progress_data = &c;
  ph_check_run_async (&options, cancellable, concurrent_done, &c);
  options.progress_data = &b;
  ph_check_run_async (&options, NULL, concurrent_done, &b);
  g_cancellable_cancel (cancellable);

  while ((!a.done_us || !b.done_us || !c.done_us) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (a.done_us && b.done_us && c.done_us);

  /* the waiting one was cancelled before the first ended, and never started */
  g_assert_error (c.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (c.first_event_us, ==, 0);
  g_assert_cmpint (c.done_us, <, a.done_us);
  /* the first ran alone: the second's first event came after the first's answer */
  g_assert_no_error (a.error);
  g_assert_no_error (b.error);
  g_assert_cmpint (b.first_event_us, >=, a.done_us);
  /* in order: check-1 (IPv4 not reachable), then check-2 (reachable) */
  g_assert_cmpint (ph_diagnosis_get_family_verdict (a.diagnosis, PH_FAMILY_IPV4), ==,
                   PH_VERDICT_UNREACHABLE);
  g_assert_cmpint (ph_diagnosis_get_family_verdict (b.diagnosis, PH_FAMILY_IPV4), ==,
                   PH_VERDICT_REACHABLE);
  g_clear_object (&a.diagnosis);
  g_clear_object (&b.diagnosis);
  g_clear_error (&c.error);
  g_unsetenv (PH_CHECK_REPLAY_ENV);
}

/* A replay directory with a file that does not load: the check fails, cleanly. */
static void
test_replay_bad_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("porthole-replay-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "check-1.json", NULL);
  PhCheckOptions options = { 0 };
  Run run;

  g_assert_true (g_file_set_contents (path, "{\"ipv4\": {}}", -1, NULL));
  g_setenv (PH_CHECK_REPLAY_ENV, dir, TRUE);
  ph_check_reset_replay_for_tests ();
  options.progress = on_progress;
  options.progress_data = &run;
  run_check (&run, &options, NULL);
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpuint (run.events->len, ==, 0);
  run_clear (&run);
  g_unsetenv (PH_CHECK_REPLAY_ENV);
  g_unlink (path);
  g_rmdir (dir);
}

/* ---- recommendations ---- */

typedef struct
{
  const char *road;
  guint n;
  const char *fixes; /* ph_fix_to_string, joined with spaces */
  gboolean forwarding_can_help;
  const char *headline;
} Expected;

static void
test_fixes (void)
{
  const Expected expected[] = {
    { "upnp", 1, "upnp forward", TRUE,
      "Peers on the internet cannot reach your node over IPv4, and this computer has no IPv6." },
    { "upnp", 2, "", TRUE, "Peers on the internet can reach your node over IPv4." },
    { "manual", 1, "forward", TRUE,
      "Peers on the internet cannot reach your node over IPv4, and this computer has no IPv6." },
    { "manual", 2, "", TRUE, "Peers on the internet can reach your node over IPv4." },
    { "ipv6", 1, "ipv6 forward", TRUE,
      "Peers on the internet cannot reach your node over IPv4, and this computer has no IPv6." },
    { "ipv6", 2, "forward", TRUE,
      "Peers on the internet can reach your node over IPv6, not over IPv4." },
    { "cgnat", 1, "provider", FALSE,
      "Peers on the internet cannot reach your node over IPv4, and this computer has no IPv6." },
    { "reachable", 1, "", TRUE, "Peers on the internet can reach your node over IPv4 and IPv6." },
    { "kubo", 1, "upnp forward", TRUE,
      "Peers on the internet cannot reach your node over IPv4, and this computer has no IPv6." },
    { "kubo", 2, "", TRUE, "Peers on the internet can reach your node over IPv4." },
  };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr (PhDiagnosis) diagnosis = load_recorded (expected[i].road, expected[i].n);
      g_autoptr (GString) fixes = g_string_new (NULL);
      g_autofree char *headline = ph_diagnosis_dup_headline (diagnosis);
      PhFix out[4];
      guint n = ph_diagnosis_list_fixes (diagnosis, out);

      for (guint j = 0; j < n; j++)
        g_string_append_printf (fixes, "%s%s", j ? " " : "", ph_fix_to_string (out[j]));
      g_test_message ("%s/check-%u: [%s] %s", expected[i].road, expected[i].n, fixes->str,
                      headline);
      g_assert_cmpstr (fixes->str, ==, expected[i].fixes);
      g_assert_cmpint (ph_diagnosis_forwarding_can_help (diagnosis), ==,
                       expected[i].forwarding_can_help);
      g_assert_cmpstr (headline, ==, expected[i].headline);
    }
}

/* Under CGNAT with IPv6 turned off here: the provider road, then IPv6. With a public IPv6 that
 * peers cannot reach but IPv4 fine: only IPv6. */
static void
test_fixes_variants (void)
{
  g_autofree char *cgnat = recorded_path ("cgnat", 1);
  g_autofree char *reachable = recorded_path ("reachable", 1);
  g_autofree char *contents = NULL;
  PhFix out[4];

  g_assert_true (g_file_get_contents (cgnat, &contents, NULL, NULL));
  {
    g_autoptr (JsonNode) root
        = mutate (parse (contents), "lan.network_manager.ipv6_method", "\"disabled\"");
    g_autoptr (PhDiagnosis) diagnosis = reload (root);

    g_assert_cmpuint (ph_diagnosis_list_fixes (diagnosis, out), ==, 2);
    g_assert_cmpint (out[0], ==, PH_FIX_PROVIDER);
    g_assert_cmpint (out[1], ==, PH_FIX_IPV6);
  }
  /* double NAT, told only by the router */
  {
    g_autoptr (JsonNode) root = parse (contents);
    g_autoptr (PhDiagnosis) diagnosis = NULL;

    mutate (root, "ipv4.causes", "[\"behind-nat\"]");
    mutate (root, "upnp.external_scope", "\"private\"");
    diagnosis = reload (root);
    g_assert_false (ph_diagnosis_forwarding_can_help (diagnosis));
    g_assert_cmpuint (ph_diagnosis_list_fixes (diagnosis, out), ==, 1);
    g_assert_cmpint (out[0], ==, PH_FIX_PROVIDER);
  }
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (reachable, &contents, NULL, NULL));
  {
    g_autoptr (JsonNode) root = parse (contents);
    g_autoptr (PhDiagnosis) diagnosis = NULL;
    g_autofree char *headline = NULL;

    mutate (root, "ipv6.verdict", "\"unreachable\"");
    mutate (root, "ipv6.addresses", "[]");
    diagnosis = reload (root);
    g_assert_cmpuint (ph_diagnosis_list_fixes (diagnosis, out), ==, 1);
    g_assert_cmpint (out[0], ==, PH_FIX_IPV6);
    headline = ph_diagnosis_dup_headline (diagnosis);
    g_assert_cmpstr (headline, ==,
                     "Peers on the internet can reach your node over IPv4, not over IPv6.");
  }
  /* nothing known */
  {
    g_autoptr (PhDiagnosis) diagnosis = ph_diagnosis_new ();
    g_autofree char *headline = ph_diagnosis_dup_headline (diagnosis);

    g_assert_cmpstr (headline, ==,
                     "Porthole could not tell whether peers on the internet can reach your node.");
    g_assert_cmpuint (ph_diagnosis_list_fixes (diagnosis, out), ==, 1);
    g_assert_cmpint (out[0], ==, PH_FIX_FORWARD);
  }
  g_assert_cmpstr (ph_fix_to_string (PH_FIX_IPV6), ==, "ipv6");
  g_assert_cmpstr (ph_fix_to_string (PH_FIX_UPNP), ==, "upnp");
  g_assert_cmpstr (ph_fix_to_string (PH_FIX_FORWARD), ==, "forward");
  g_assert_cmpstr (ph_fix_to_string (PH_FIX_PROVIDER), ==, "provider");
}

static void
test_forwarding (void)
{
  g_autoptr (PhDiagnosis) manual = load_recorded ("manual", 1);
  g_autoptr (PhDiagnosis) upnp = load_recorded ("upnp", 1);
  g_autoptr (PhDiagnosis) empty = ph_diagnosis_new ();
  g_autoptr (PhForwardingFacts) facts = NULL;
  g_autoptr (GError) error = NULL;

  facts = ph_diagnosis_dup_forwarding (manual, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (facts->lan_address, ==, "192.168.1.23");
  g_assert_cmpstr (facts->gateway, ==, "192.168.1.1");
  g_assert_cmpuint (facts->port, ==, 4001);
  g_assert_cmpint (facts->dhcp, ==, PH_FORWARDING_DHCP_YES);
  g_assert_false (facts->admin_url_from_upnp);
  g_clear_pointer (&facts, ph_forwarding_facts_free);

  facts = ph_diagnosis_dup_forwarding (upnp, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (facts->admin_url, ==, "http://192.168.1.1/");
  g_assert_true (facts->admin_url_from_upnp);
  g_clear_pointer (&facts, ph_forwarding_facts_free);

  g_assert_null (ph_diagnosis_dup_forwarding (empty, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == PH_FORWARDING_ERROR);
}

/* ---- mapping for a diagnosis: the error paths (the router itself: tests/ui with a fake IGD) ----
 */

typedef struct
{
  GMainLoop *loop;
  PhUpnpMapResult *result;
  GError *error;
} Mapped;

static void
on_mapped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Mapped *mapped = user_data;

  mapped->result
      = ph_actions_map_for_diagnosis_finish (PH_ACTIONS (source), result, &mapped->error);
  g_main_loop_quit (mapped->loop);
}

static void
map_expecting_error (PhActions *actions, PhDiagnosis *diagnosis, GQuark domain, int code)
{
  Mapped mapped = { 0 };

  mapped.loop = g_main_loop_new (NULL, FALSE);
  ph_actions_map_for_diagnosis_async (actions, diagnosis, NULL, on_mapped, &mapped);
  g_main_loop_run (mapped.loop);
  g_test_message ("%s", mapped.error ? mapped.error->message : "(no error)");
  g_assert_null (mapped.result);
  g_assert_error (mapped.error, domain, code);
  g_clear_error (&mapped.error);
  g_main_loop_unref (mapped.loop);
}

static void
test_map_for_diagnosis_errors (void)
{
  g_autoptr (PhActions) actions = ph_actions_new (NULL);
  g_autoptr (PhDiagnosis) none = ph_diagnosis_new ();
  g_autoptr (PhDiagnosis) manual = load_recorded ("manual", 1);
  g_autoptr (PhDiagnosis) upnp = load_recorded ("upnp", 1);

  /* no UPnP facts; a router that did not answer */
  map_expecting_error (actions, none, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  map_expecting_error (actions, manual, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  /* one that answered without a description URL */
  g_clear_pointer (&ph_diagnosis_get_upnp (upnp)->desc_url, g_free);
  map_expecting_error (actions, upnp, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  /* and one whose description cannot be fetched: nothing listens on loopback port 1 */
  ph_diagnosis_get_upnp (upnp)->desc_url = g_strdup ("http://127.0.0.1:1/rootDesc.xml");
  map_expecting_error (actions, upnp, PH_UPNP_ERROR, PH_UPNP_ERROR_NO_ANSWER);
}

typedef struct
{
  GMainLoop *loop;
  gboolean ok;
  GError *error;
} Unmapped;

static void
on_unmapped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Unmapped *unmapped = user_data;

  unmapped->ok = ph_actions_unmap_port_finish (PH_ACTIONS (source), result, &unmapped->error);
  g_main_loop_quit (unmapped->loop);
}

/* The UPnP road end to end against a fake router: the recorded facts name it (@IGD_URL@). */
static void
test_map_for_diagnosis (void)
{
  g_autoptr (FakeIgd) fake = fake_igd_start (NULL, NULL, NULL);
  g_autofree char *url = fake_igd_dup_desc_url (fake);
  g_autoptr (PhActions) actions = ph_actions_new (NULL);
  g_autoptr (PhDiagnosis) diagnosis = NULL;
  g_autoptr (PhUpnpMapResult) result = NULL;
  Mapped mapped = { 0 };
  Unmapped unmapped = { 0 };

  g_setenv (PH_CHECK_REPLAY_IGD_URL_ENV, url, TRUE);
  diagnosis = load_recorded ("upnp", 1);
  g_unsetenv (PH_CHECK_REPLAY_IGD_URL_ENV);

  mapped.loop = g_main_loop_new (NULL, FALSE);
  ph_actions_map_for_diagnosis_async (actions, diagnosis, NULL, on_mapped, &mapped);
  g_main_loop_run (mapped.loop);
  g_assert_no_error (mapped.error);
  g_assert_nonnull (mapped.result);
  g_assert_cmpuint (mapped.result->port, ==, 4001);
  g_assert_cmpuint (fake_igd_count (fake), ==, 2); /* TCP and UDP */
  g_assert_true (ph_actions_is_renewing (actions, 4001));
  result = mapped.result;

  /* undo, as the contract says: on the router the mapping was made on */
  unmapped.loop = mapped.loop;
  ph_actions_unmap_port_async (actions, NULL, 4001, NULL, on_unmapped, &unmapped);
  g_main_loop_run (unmapped.loop);
  g_assert_no_error (unmapped.error);
  g_assert_true (unmapped.ok);
  g_assert_cmpuint (fake_igd_count (fake), ==, 0);
  g_main_loop_unref (mapped.loop);
}

/* ---- a real check's progress, on loopback ---- */

static guint
free_port (void)
{
  g_autoptr (GSocket) socket
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (any, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, address, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
test_live_progress (void)
{
  const char *server
      = "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
  char *peers[] = { (char *) server, NULL };
  g_autofree char *repo = g_dir_make_tmp ("porthole-no-node-XXXXXX", NULL);
  g_autofree char *probe = g_strdup_printf ("probe %s ipv4", server);
  g_autofree char *answer = g_strdup_printf ("answer %s ipv4 error", server);
  PhCheckOptions options = { 0 };
  Run run;

  g_unsetenv (PH_CHECK_REPLAY_ENV);
  g_setenv ("IPFS_PATH", repo, TRUE);
  options.port = free_port ();
  options.peers = peers;
  options.timeout_s = 5;
  options.no_upnp = TRUE;
  options.progress = on_progress;
  options.progress_data = &run;
  run_check (&run, &options, NULL);
  g_assert_no_error (run.error);
  for (guint i = 0; i < run.events->len; i++)
    g_test_message ("event: %s", (const char *) g_ptr_array_index (run.events, i));
  g_assert_cmpuint (ph_diagnosis_get_probes (run.diagnosis)->len, ==, 1);
  g_assert_false (
      g_ptr_array_find_with_equal_func (run.events, "started router", g_str_equal, NULL));
  g_assert_cmpuint (index_of (run.events, "started network"), <,
                    index_of (run.events, "done network"));
  g_assert_cmpuint (index_of (run.events, "started node"), <, index_of (run.events, "done node"));
  g_assert_cmpuint (index_of (run.events, "done network"), <,
                    index_of (run.events, "started probes"));
  g_assert_cmpuint (index_of (run.events, "done node"), <, index_of (run.events, "started probes"));
  g_assert_cmpuint (index_of (run.events, "started probes"), <, index_of (run.events, probe));
  g_assert_cmpuint (index_of (run.events, probe), <, index_of (run.events, answer));
  g_assert_cmpstr (g_ptr_array_index (run.events, run.events->len - 1), ==, "done probes");
  g_assert_cmpuint (run.events->len, ==, 8);
  run_clear (&run);
  g_unsetenv ("IPFS_PATH");
  g_rmdir (repo);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_unsetenv (PH_CHECK_REPLAY_ENV);
  g_test_add_func ("/replay/round-trip/built", test_round_trip_built);
  g_test_add_func ("/replay/round-trip/recorded", test_round_trip_recorded);
  g_test_add_func ("/replay/malformed", test_malformed);
  g_test_add_func ("/replay/load-errors", test_load_errors);
  g_test_add_func ("/replay/load-deep", test_load_deep);
  g_test_add_func ("/replay/igd-url", test_igd_url);
  g_test_add_func ("/replay/replay", test_replay);
  g_test_add_func ("/replay/cancel", test_replay_cancel);
  g_test_add_func ("/check/one-at-a-time", test_one_at_a_time);
  g_test_add_func ("/replay/bad-file", test_replay_bad_file);
  g_test_add_func ("/replay/fixes", test_fixes);
  g_test_add_func ("/replay/fixes-variants", test_fixes_variants);
  g_test_add_func ("/replay/forwarding", test_forwarding);
  g_test_add_func ("/replay/map-for-diagnosis-errors", test_map_for_diagnosis_errors);
  g_test_add_func ("/replay/map-for-diagnosis", test_map_for_diagnosis);
  g_test_add_func ("/check/live-progress", test_live_progress);

  return g_test_run ();
}
