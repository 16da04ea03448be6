/* test-verdict.c: the rules that turn probe answers into a verdict
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "core/ph-verdict.h"

static void
add (GPtrArray *evidence, const char *server_ip, PhFamily family, PhProbeResult result,
     const char *observed, guint local_port)
{
  PhProbeEvidence *e = ph_probe_evidence_new ();

  e->server = g_strdup_printf ("/%s/%s/tcp/4001/p2p/12D3KooWtest",
                               family == PH_FAMILY_IPV6 ? "ip6" : "ip4", server_ip);
  e->group = ph_verdict_group_for_address (server_ip);
  e->family = family;
  e->protocol = PH_PROBE_PROTOCOL_AUTONAT_V2;
  e->address
      = g_strdup (family == PH_FAMILY_IPV6 ? "/ip6/2a00:2::10/tcp/4001" : "/ip4/7.0.0.2/tcp/4001");
  e->observed = g_strdup (observed);
  e->local_port = local_port;
  e->result = result;
  g_ptr_array_add (evidence, e);
}

static GPtrArray *
new_evidence (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) ph_probe_evidence_free);
}

static void
home_facts (PhVerdictFacts *facts)
{
  memset (facts, 0, sizeof *facts);
  facts->local_ipv4 = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (facts->local_ipv4, g_strdup ("192.168.1.10"));
  facts->has_global_ipv6 = TRUE;
  facts->has_ipv6_route = TRUE;
}

static gboolean
has_cause (const PhFamilyVerdict *v, const char *cause)
{
  for (guint i = 0; i < v->causes->len; i++)
    if (g_strcmp0 (g_ptr_array_index (v->causes, i), cause) == 0)
      return TRUE;
  return FALSE;
}

static void
test_groups (void)
{
  g_autofree char *a = ph_verdict_group_for_address ("7.1.2.3");
  g_autofree char *b = ph_verdict_group_for_address ("2a00:1:2::5");

  g_assert_cmpstr (a, ==, "7.1.0.0/16");
  g_assert_cmpstr (b, ==, "2a00:1::/32");
}

static void
test_behind_nat (void)
{
  g_auto (PhVerdictFacts) facts = { 0 };
  g_autoptr (GPtrArray) ev = new_evidence ();
  PhFamilyVerdict v;

  home_facts (&facts);
  add (ev, "7.1.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_UNREACHABLE, "/ip4/7.0.0.2/tcp/4001", 4001);
  add (ev, "7.2.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_UNREACHABLE, "/ip4/7.0.0.2/tcp/4001", 4001);
  add (ev, "7.3.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_UNREACHABLE, "/ip4/7.0.0.2/tcp/4001", 4001);
  ph_verdict_decide (&facts, ev, PH_FAMILY_IPV4, &v);
  g_assert_cmpint (v.verdict, ==, PH_VERDICT_UNREACHABLE);
  g_assert_true (v.confident);
  g_assert_true (has_cause (&v, "behind-nat"));
  g_assert_false (has_cause (&v, "symmetric-nat"));
  g_assert_false (has_cause (&v, "double-nat"));
  ph_family_verdict_clear (&v);
}

static void
test_one_group_is_one_voice (void)
{
  g_auto (PhVerdictFacts) facts = { 0 };
  g_autoptr (GPtrArray) ev = new_evidence ();
  PhFamilyVerdict v;

  home_facts (&facts);
  add (ev, "7.1.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_UNREACHABLE, NULL, 0);
  add (ev, "7.1.0.11", PH_FAMILY_IPV4, PH_PROBE_RESULT_UNREACHABLE, NULL, 0);
  add (ev, "7.1.9.12", PH_FAMILY_IPV4, PH_PROBE_RESULT_UNREACHABLE, NULL, 0);
  ph_verdict_decide (&facts, ev, PH_FAMILY_IPV4, &v);
  g_assert_cmpint (v.verdict, ==, PH_VERDICT_UNREACHABLE);
  g_assert_false (v.confident);
  ph_family_verdict_clear (&v);
}

static void
test_proof_wins (void)
{
  g_auto (PhVerdictFacts) facts = { 0 };
  g_autoptr (GPtrArray) ev = new_evidence ();
  PhFamilyVerdict v;

  home_facts (&facts);
  add (ev, "7.1.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_UNREACHABLE, NULL, 0);
  add (ev, "7.2.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_REACHABLE, NULL, 0);
  ph_verdict_decide (&facts, ev, PH_FAMILY_IPV4, &v);
  g_assert_cmpint (v.verdict, ==, PH_VERDICT_REACHABLE);
  g_assert_false (v.confident);
  g_assert_cmpuint (v.addresses->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (v.addresses, 0), ==, "/ip4/7.0.0.2/tcp/4001");
  ph_family_verdict_clear (&v);
}

static void
test_claims_are_not_proof (void)
{
  g_auto (PhVerdictFacts) facts = { 0 };
  g_autoptr (GPtrArray) ev = new_evidence ();
  PhFamilyVerdict v;

  home_facts (&facts);
  add (ev, "7.1.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_UNPROVEN, NULL, 0);
  add (ev, "7.2.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_DIAL_BACK_FAILED, NULL, 0);
  add (ev, "7.3.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_NO_ANSWER, NULL, 0);
  ph_verdict_decide (&facts, ev, PH_FAMILY_IPV4, &v);
  g_assert_cmpint (v.verdict, ==, PH_VERDICT_UNKNOWN);
  g_assert_cmpstr (v.reason, ==, "inconclusive");
  ph_family_verdict_clear (&v);
}

static void
test_no_servers (void)
{
  g_auto (PhVerdictFacts) facts = { 0 };
  g_autoptr (GPtrArray) ev = new_evidence ();
  PhFamilyVerdict v;

  home_facts (&facts);
  add (ev, "7.1.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_ERROR, NULL, 0);
  add (ev, "7.2.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_ERROR, NULL, 0);
  ph_verdict_decide (&facts, ev, PH_FAMILY_IPV4, &v);
  g_assert_cmpint (v.verdict, ==, PH_VERDICT_UNKNOWN);
  g_assert_true (has_cause (&v, "no-servers"));
  ph_family_verdict_clear (&v);

  ph_verdict_decide (&facts, NULL, PH_FAMILY_IPV4, &v);
  g_assert_true (has_cause (&v, "no-servers"));
  ph_family_verdict_clear (&v);
}

static void
test_ipv6 (void)
{
  g_auto (PhVerdictFacts) facts = { 0 };
  g_autoptr (GPtrArray) ev = new_evidence ();
  PhFamilyVerdict v;

  home_facts (&facts);
  add (ev, "2a00:1::10", PH_FAMILY_IPV6, PH_PROBE_RESULT_UNREACHABLE, NULL, 0);
  /* IPv4 evidence says nothing about IPv6 */
  add (ev, "7.2.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_REACHABLE, NULL, 0);
  ph_verdict_decide (&facts, ev, PH_FAMILY_IPV6, &v);
  g_assert_cmpint (v.verdict, ==, PH_VERDICT_UNREACHABLE);
  g_assert_true (has_cause (&v, "ipv6-firewalled"));
  ph_family_verdict_clear (&v);

  facts.has_global_ipv6 = FALSE;
  ph_verdict_decide (&facts, ev, PH_FAMILY_IPV6, &v);
  g_assert_cmpint (v.verdict, ==, PH_VERDICT_UNKNOWN);
  g_assert_true (has_cause (&v, "ipv6-unavailable"));
  ph_family_verdict_clear (&v);
}

static void
test_nat_kinds (void)
{
  struct
  {
    const char *igd; /* NULL: no router answered; "": it would not say */
    const char *hop; /* the router past ours; NULL: silent */
    const char *cause;
    const char *not_cause;
  } cases[] = {
    { "100.64.3.2", NULL, "cgnat", "double-nat" },
    { "10.0.0.2", NULL, "double-nat", "cgnat" },
    { "7.9.9.9", NULL, "double-nat", "cgnat" }, /* public, but not what the servers see */
    { "7.0.0.2", NULL, "behind-nat", "double-nat" },
    { "", "100.64.0.1", "cgnat", "double-nat" }, /* miniupnpd hides a 100.64 WAN address */
    { "", "10.0.0.1", "double-nat", "cgnat" },
    { "", NULL, "double-nat", "cgnat" },
    { NULL, "100.64.0.1", "cgnat", "double-nat" },
    /* an ISP's privately numbered router while ours says all is well: not double NAT */
    { "7.0.0.2", "10.20.30.1", "behind-nat", "double-nat" },
    { NULL, "10.20.30.1", "behind-nat", "double-nat" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (PhVerdictFacts) facts = { 0 };
      g_autoptr (GPtrArray) ev = new_evidence ();
      PhFamilyVerdict v;

      home_facts (&facts);
      facts.igd_found = cases[i].igd != NULL;
      facts.igd_external_ipv4 = g_strdup (cases[i].igd);
      facts.path_ipv4 = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (facts.path_ipv4, g_strdup ("192.168.1.1"));
      g_ptr_array_add (facts.path_ipv4, g_strdup (cases[i].hop));
      g_ptr_array_add (facts.path_ipv4, g_strdup ("7.0.0.1"));
      add (ev, "7.1.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_UNREACHABLE, "/ip4/7.0.0.2/tcp/4001",
           4001);
      ph_verdict_decide (&facts, ev, PH_FAMILY_IPV4, &v);
      g_test_message ("IGD %s, hop %s", cases[i].igd, cases[i].hop);
      g_assert_cmpint (v.verdict, ==, PH_VERDICT_UNREACHABLE);
      g_assert_true (has_cause (&v, cases[i].cause));
      g_assert_false (has_cause (&v, cases[i].not_cause));
      ph_family_verdict_clear (&v);
    }
}

static void
test_symmetric_nat (void)
{
  g_auto (PhVerdictFacts) facts = { 0 };
  g_autoptr (GPtrArray) ev = new_evidence ();
  PhFamilyVerdict v;

  home_facts (&facts);
  add (ev, "7.1.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_UNREACHABLE, "/ip4/7.0.0.2/tcp/4001", 4001);
  add (ev, "7.2.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_UNREACHABLE, "/ip4/7.0.0.2/tcp/35122", 4001);
  ph_verdict_decide (&facts, ev, PH_FAMILY_IPV4, &v);
  g_assert_true (has_cause (&v, "symmetric-nat"));
  ph_family_verdict_clear (&v);
}

static void
test_port_in_use (void)
{
  g_auto (PhVerdictFacts) facts = { 0 };
  g_autoptr (GPtrArray) ev = new_evidence ();
  PhFamilyVerdict v;

  home_facts (&facts);
  facts.port_in_use = TRUE;
  /* a dial-back to someone else's node proves nothing about ours */
  add (ev, "7.1.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_UNREACHABLE, NULL, 0);
  ph_verdict_decide (&facts, ev, PH_FAMILY_IPV4, &v);
  g_assert_cmpint (v.verdict, ==, PH_VERDICT_UNKNOWN);
  g_assert_true (has_cause (&v, "port-in-use"));
  g_assert_cmpstr (v.reason, ==, "port-in-use");
  ph_family_verdict_clear (&v);
}

static void
test_evidence_json (void)
{
  g_autoptr (GPtrArray) ev = new_evidence ();
  g_autoptr (JsonNode) node = NULL;
  JsonObject *o;

  add (ev, "7.1.0.10", PH_FAMILY_IPV4, PH_PROBE_RESULT_DIAL_BACK_FAILED, NULL, 0);
  node = ph_probe_evidence_to_json (g_ptr_array_index (ev, 0));
  o = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (o, "result"), ==, "dial-back-failed");
  g_assert_cmpstr (json_object_get_string_member (o, "protocol"), ==, "autonat-v2");
  g_assert_cmpstr (json_object_get_string_member (o, "address"), ==, "/ip4/7.0.0.2/tcp/4001");
  g_assert_true (json_object_has_member (o, "ms"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/verdict/groups", test_groups);
  g_test_add_func ("/verdict/behind-nat", test_behind_nat);
  g_test_add_func ("/verdict/one-group-one-voice", test_one_group_is_one_voice);
  g_test_add_func ("/verdict/proof-wins", test_proof_wins);
  g_test_add_func ("/verdict/claims-are-not-proof", test_claims_are_not_proof);
  g_test_add_func ("/verdict/no-servers", test_no_servers);
  g_test_add_func ("/verdict/ipv6", test_ipv6);
  g_test_add_func ("/verdict/nat-kinds", test_nat_kinds);
  g_test_add_func ("/verdict/symmetric-nat", test_symmetric_nat);
  g_test_add_func ("/verdict/port-in-use", test_port_in_use);
  g_test_add_func ("/verdict/evidence-json", test_evidence_json);

  return g_test_run ();
}
