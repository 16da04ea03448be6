/* test-upnp-netns.c: ph-upnp against Debian's real miniupnpd (nftables build, secure_mode on)
 *
 * Run by run-upnp-netns.sh inside the "home1" namespace of its topology:
 *
 *   inet 7.0.0.1 ── wan0 7.0.0.2 [router: miniupnpd, nftables] br0 192.168.77.1 ─┬─ home1 .10
 *                                                                                 └─ home2 .11
 *
 *   test-upnp-netns --phase=daemon --tap      miniupnpd runs
 *   test-upnp-netns --phase=two-igds --tap    a second IGD answers too (in home2)
 *   test-upnp-netns --phase=no-daemon --tap   none runs (UPnP off)
 *   test-upnp-netns --role=hold|release PORT  in home2: take or give back PORT with ph-upnp
 *   test-upnp-netns --role=dial-tcp|dial-udp ADDRESS PORT   in inet: reach the forwarded port
 *
 * The namespaces' names come in the environment (PH_UPNP_NS_INET, PH_UPNP_NS_HOME2) and a work
 * folder shared by both phases in PH_UPNP_WORK.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>

#include "net/ph-change-log.h"
#include "net/ph-upnp.h"

#define GATEWAY "192.168.77.1"
#define HOME1 "192.168.77.10"
#define HOME2 "192.168.77.11"
#define WAN "7.0.0.2"
#define INET "7.0.0.1"
#define SWARM 4001
#define ROUTER_NAME "Porthole Test Router"

static char *self_exe;

/* Under AddressSanitizer: miniupnpc 2.2.4 (Debian 12) calls atoi () on its HTTP header buffer,
 * which has no terminating NUL (miniwget.c getHTTPResponse; fixed upstream in 2026, miniupnp issue
 * #879). atoi stops at the '\r' ending the header line, inside the buffer, but strict_string_checks
 * measures the whole string and reports an overflow on every answer. Only errors caught in
 * interceptors called from libminiupnpc are silenced; its own reads stay checked. */
const char *
__asan_default_suppressions (void);

const char *
__asan_default_suppressions (void)
{
  return "interceptor_via_lib:libminiupnpc.so\n";
}

/* ---- helpers ---- */

static PhUpnpOptions
options (void)
{
  PhUpnpOptions opts = {
    .gateway = GATEWAY,
    .swarm_port = SWARM,
    .discover_ms = 1000, /* the shortest: every discovery waits this long */
    .timeout_ms = 8000,
  };
  return opts;
}

static PhUpnpRouter *
discover (void)
{
  PhUpnpOptions opts = options ();
  g_autoptr (GError) error = NULL;
  PhUpnpRouter *router = NULL;

  /* miniupnpd may still be joining the multicast group right after start: a retry or two */
  for (guint attempt = 0; attempt < 3 && router == NULL; attempt++)
    {
      g_clear_error (&error);
      router = ph_upnp_discover (&opts, NULL, &error);
    }
  g_assert_no_error (error);
  g_assert_nonnull (router);
  return router;
}

static char *
work_path (const char *name)
{
  const char *work = g_getenv ("PH_UPNP_WORK");
  g_assert_nonnull (work);
  return g_build_filename (work, name, NULL);
}

/* Runs this program with args in another namespace; TRUE when it exits 0. */
static gboolean
run_in (const char *ns_env, const char *const *args)
{
  const char *ns = g_getenv (ns_env);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_assert_nonnull (ns);
  g_ptr_array_add (argv, "ip");
  g_ptr_array_add (argv, "netns");
  g_ptr_array_add (argv, "exec");
  g_ptr_array_add (argv, (gpointer) ns);
  g_ptr_array_add (argv, self_exe);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  g_test_message ("%s %s → %d\n%s%s", ns, args[0], status, out, err);
  return g_spawn_check_wait_status (status, NULL);
}

static void
hold_from_home2 (void)
{
  const char *const args[] = { "--role=hold", "4001", NULL };
  g_assert_true (run_in ("PH_UPNP_NS_HOME2", args));
}

static void
release_from_home2 (void)
{
  const char *const args[] = { "--role=release", "4001", NULL };
  g_assert_true (run_in ("PH_UPNP_NS_HOME2", args));
}

static GPtrArray *
list (PhUpnpRouter *router)
{
  g_autoptr (GError) error = NULL;
  gboolean truncated = TRUE;
  GPtrArray *mappings = ph_upnp_list_mappings (router, &truncated, NULL, &error);

  g_assert_no_error (error);
  g_assert_false (truncated);
  return mappings;
}

/* The mapping of port/protocol, which must be there. */
static const PhUpnpMapping *
find (GPtrArray *mappings, guint port, const char *protocol)
{
  for (guint i = 0; i < mappings->len; i++)
    {
      const PhUpnpMapping *m = g_ptr_array_index (mappings, i);
      if (m->external_port == port && g_str_equal (m->protocol, protocol))
        return m;
    }
  g_error ("no mapping of %u/%s among %u", port, protocol, mappings->len);
}

static int
raw_add (PhUpnpRouter *router, guint ext, const char *client, guint internal, const char *proto,
         const char *lease)
{
  g_autofree char *e = g_strdup_printf ("%u", ext);
  g_autofree char *i = g_strdup_printf ("%u", internal);

  return UPNP_AddPortMapping (ph_upnp_router_get_control_url (router),
                              ph_upnp_router_get_service_type (router), e, i, client, "raw test",
                              proto, NULL, lease);
}

static int
raw_delete (PhUpnpRouter *router, guint ext, const char *proto)
{
  g_autofree char *e = g_strdup_printf ("%u", ext);

  return UPNP_DeletePortMapping (ph_upnp_router_get_control_url (router),
                                 ph_upnp_router_get_service_type (router), e, proto, NULL);
}

/* From the inet namespace to the router's WAN address: does it reach this host? */
static gboolean
reachable (const char *proto)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GInetAddress) any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) bind_to = g_inet_socket_address_new (any, SWARM);
  gboolean tcp = g_str_equal (proto, "TCP");
  const char *const args[] = { tcp ? "--role=dial-tcp" : "--role=dial-udp", WAN, "4001", NULL };
  g_autoptr (GSocketAddress) from = NULL;
  g_autoptr (GSocket) accepted = NULL;
  g_autofree char *from_text = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, tcp ? G_SOCKET_TYPE_STREAM : G_SOCKET_TYPE_DATAGRAM,
                         tcp ? G_SOCKET_PROTOCOL_TCP : G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, bind_to, TRUE, &error));
  if (tcp)
    g_assert_true (g_socket_listen (socket, &error));
  g_assert_no_error (error);
  g_socket_set_blocking (socket, FALSE);

  if (!run_in ("PH_UPNP_NS_INET", args))
    return FALSE;
  if (!g_socket_condition_timed_wait (socket, G_IO_IN, 2 * G_USEC_PER_SEC, NULL, NULL))
    return FALSE;
  if (tcp)
    {
      accepted = g_socket_accept (socket, NULL, &error);
      g_assert_no_error (error);
      from = g_socket_get_remote_address (accepted, &error);
    }
  else
    {
      char buf[64];

      g_socket_receive_from (socket, &from, buf, sizeof buf, NULL, &error);
    }
  g_assert_no_error (error);
  /* forwarded, not proxied: the internet host's own address arrives */
  from_text
      = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from)));
  g_assert_cmpstr (from_text, ==, INET);
  return TRUE;
}

static guint
log_length (PhChangeLog *log)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) changes = ph_change_log_list (log, &error);

  g_assert_no_error (error);
  return changes->len;
}

/* ---- phase: miniupnpd running ---- */

static void
test_discover (void)
{
  g_autoptr (PhUpnpRouter) router = discover ();
  const PhUpnpDeviceInfo *info = ph_upnp_router_get_info (router);
  PhUpnpOptions opts = options ();
  g_autoptr (PhUpnpRouter) via_kernel = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (info->friendly_name, ==, ROUTER_NAME);
  g_assert_cmpstr (info->manufacturer, ==, "Porthole Tests");
  g_assert_cmpstr (info->model_name, ==, "PH-1000");
  g_assert_cmpstr (info->model_number, ==, "7");
  g_assert_cmpstr (info->admin_url, ==, "http://" GATEWAY "/admin");
  g_assert_true (
      g_str_has_prefix (info->device_type, "urn:schemas-upnp-org:device:InternetGatewayDevice:"));
  g_assert_true (g_str_has_prefix (ph_upnp_router_get_desc_url (router), "http://" GATEWAY ":"));
  g_assert_cmpstr (ph_upnp_router_get_lan_address (router), ==, HOME1);
  g_assert_true (ph_upnp_router_is_on_gateway (router));
  g_assert_true (ph_upnp_router_is_connected (router));
  g_test_message ("service %s at %s", ph_upnp_router_get_service_type (router),
                  ph_upnp_router_get_control_url (router));

  /* without a gateway given, the kernel's default route names it */
  opts.gateway = NULL;
  via_kernel = ph_upnp_discover (&opts, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ph_upnp_router_is_on_gateway (via_kernel));
}

static void
test_facts (void)
{
  g_autoptr (PhUpnpRouter) router = discover ();
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpFacts) facts = NULL;
  g_autoptr (JsonNode) json = NULL;
  g_autofree char *text = NULL;
  g_autofree char *address = NULL;
  PhUpnpExternalScope scope = PH_UPNP_EXTERNAL_NONE;

  address = ph_upnp_get_external_address (router, &scope, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (address, ==, WAN);
  g_assert_cmpint (scope, ==, PH_UPNP_EXTERNAL_PUBLIC);

  facts = ph_upnp_read_facts (router, NULL, &error);
  g_assert_no_error (error);
  json = ph_upnp_facts_to_json (facts);
  text = json_to_string (json, TRUE);
  g_test_message ("%s", text);
  g_assert_true (facts->found);
  g_assert_null (facts->error);
  g_assert_cmpstr (facts->external_address, ==, WAN);
  g_assert_cmpint (facts->external_scope, ==, PH_UPNP_EXTERNAL_PUBLIC);
  g_assert_cmpstr (facts->lan_address, ==, HOME1);
  g_assert_cmpuint (facts->mappings->len, ==, 0);
  g_assert_null (facts->our_tcp);
  g_assert_null (facts->holder);
  g_assert_cmpuint (facts->warnings->len, ==, 0);
}

static void
test_add_list_renew_remove (void)
{
  g_autoptr (PhUpnpRouter) router = discover ();
  g_autofree char *log_path = work_path ("add.json");
  g_autoptr (PhChangeLog) log = ph_change_log_new (log_path);
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) added = NULL;
  g_autoptr (PhUpnpMapResult) renewed = NULL;
  g_autoptr (GPtrArray) after_add = NULL;
  g_autoptr (GPtrArray) after_renew = NULL;
  g_autoptr (GPtrArray) after_remove = NULL;
  g_autoptr (PhUpnpFacts) facts = NULL;
  g_autoptr (GPtrArray) changes = NULL;
  const PhUpnpMapping *tcp, *udp;
  PhChange *change;

  added = ph_upnp_add_mapping (router, SWARM, 3600, log, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (added->port, ==, SWARM);
  g_assert_cmpstr (added->internal_client, ==, HOME1);
  g_assert_false (added->permanent);
  g_assert_false (added->already_there);
  g_assert_cmpuint (added->lease_s, >, 3500);
  g_assert_cmpuint (added->lease_s, <=, 3600);
  g_assert_cmpuint (ph_upnp_map_result_renew_in (added), >, 2000);
  g_assert_nonnull (added->change_id);

  after_add = list (router);
  g_assert_cmpuint (after_add->len, ==, 2);
  tcp = find (after_add, SWARM, "TCP");
  udp = find (after_add, SWARM, "UDP");
  g_assert_cmpstr (tcp->internal_client, ==, HOME1);
  g_assert_cmpuint (tcp->internal_port, ==, SWARM);
  g_assert_cmpstr (tcp->description, ==, PH_UPNP_DESCRIPTION);
  g_assert_true (tcp->enabled);
  g_assert_cmpuint (udp->lease_s, >, 3500);

  facts = ph_upnp_read_facts (router, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (facts->our_tcp);
  g_assert_nonnull (facts->our_udp);

  /* recorded: what, when, how to undo */
  changes = ph_change_log_list (log, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (changes->len, ==, 1);
  change = g_ptr_array_index (changes, 0);
  g_assert_cmpstr (change->id, ==, added->change_id);
  g_assert_cmpstr (change->kind, ==, PH_UPNP_CHANGE_KIND);
  g_assert_nonnull (strstr (change->summary, ROUTER_NAME));
  g_assert_nonnull (strstr (change->summary, HOME1));
  g_assert_nonnull (strstr (change->undo_hint, "http://" GATEWAY "/admin"));
  g_assert_cmpint (json_object_get_int_member (change->undo, "port"), ==, SWARM);
  g_assert_cmpstr (json_object_get_string_member (change->undo, "control_url"), ==,
                   ph_upnp_router_get_control_url (router));

  /* the forwarding really works, for both protocols */
  g_assert_true (reachable ("TCP"));
  g_assert_true (reachable ("UDP"));

  /* renewal: a new lease, the same entry in the log */
  renewed = ph_upnp_renew_mapping (router, SWARM, 1800, log, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (renewed->lease_s, <=, 1800);
  g_assert_cmpuint (renewed->lease_s, >, 1700);
  g_assert_cmpstr (renewed->change_id, ==, added->change_id);
  after_renew = list (router);
  g_assert_cmpuint (after_renew->len, ==, 2);
  g_assert_cmpuint (find (after_renew, SWARM, "UDP")->lease_s, <=, 1800);
  g_assert_cmpuint (log_length (log), ==, 1);

  g_assert_true (ph_upnp_remove_mapping (router, SWARM, log, NULL, &error));
  g_assert_no_error (error);
  after_remove = list (router);
  g_assert_cmpuint (after_remove->len, ==, 0);
  g_assert_cmpuint (log_length (log), ==, 0);
  g_assert_false (reachable ("TCP"));

  /* removing again is fine: nothing of ours is there */
  g_assert_true (ph_upnp_remove_mapping (router, SWARM, log, NULL, &error));
  g_assert_no_error (error);
}

static void
test_renew_after_router_lost_it (void)
{
  g_autoptr (PhUpnpRouter) router = discover ();
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) added = NULL;
  g_autoptr (PhUpnpMapResult) renewed = NULL;
  g_autoptr (GPtrArray) mappings = NULL;

  added = ph_upnp_add_mapping (router, SWARM, 600, NULL, NULL, &error);
  g_assert_no_error (error);
  /* as after a router restart */
  g_assert_cmpint (raw_delete (router, SWARM, "TCP"), ==, 0);
  g_assert_cmpint (raw_delete (router, SWARM, "UDP"), ==, 0);
  renewed = ph_upnp_renew_mapping (router, SWARM, 600, NULL, NULL, &error);
  g_assert_no_error (error);
  mappings = list (router);
  g_assert_cmpuint (mappings->len, ==, 2);
  g_assert_true (ph_upnp_remove_mapping (router, SWARM, NULL, NULL, &error));
  g_assert_no_error (error);
}

static void
test_refused_ports (void)
{
  g_autoptr (PhUpnpRouter) router = discover ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) mappings = NULL;
  static const guint ports[] = { 5001, 8080, 4002, 80 };

  for (guint i = 0; i < G_N_ELEMENTS (ports); i++)
    {
      g_autoptr (PhUpnpMapResult) result
          = ph_upnp_add_mapping (router, ports[i], 0, NULL, NULL, &error);
      g_assert_null (result);
      g_assert_error (error, PH_UPNP_ERROR, PH_UPNP_ERROR_REFUSED_PORT);
      g_clear_error (&error);
      g_assert_false (ph_upnp_remove_mapping (router, ports[i], NULL, NULL, &error));
      g_assert_error (error, PH_UPNP_ERROR, PH_UPNP_ERROR_REFUSED_PORT);
      g_clear_error (&error);
    }
  mappings = list (router);
  g_assert_cmpuint (mappings->len, ==, 0);
}

static void
test_conflict (void)
{
  g_autoptr (PhUpnpRouter) router = discover ();
  g_autofree char *log_path = work_path ("conflict.json");
  g_autoptr (PhChangeLog) log = ph_change_log_new (log_path);
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) result = NULL;
  g_autoptr (PhUpnpFacts) facts = NULL;
  g_autoptr (GPtrArray) mappings = NULL;

  hold_from_home2 ();

  result = ph_upnp_add_mapping (router, SWARM, 0, log, NULL, &error);
  g_assert_null (result);
  g_test_message ("%s", error->message);
  g_assert_error (error, PH_UPNP_ERROR, PH_UPNP_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, HOME2));
  g_assert_nonnull (strstr (error->message, PH_UPNP_DESCRIPTION));
  g_clear_error (&error);
  g_assert_cmpuint (log_length (log), ==, 0);

  facts = ph_upnp_read_facts (router, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (facts->holder);
  g_assert_cmpstr (facts->holder->internal_client, ==, HOME2);
  g_assert_null (facts->our_tcp);
  g_assert_null (facts->our_udp);

  /* home2's mapping is not ours to remove */
  g_assert_false (ph_upnp_remove_mapping (router, SWARM, log, NULL, &error));
  g_assert_error (error, PH_UPNP_ERROR, PH_UPNP_ERROR_NOT_OURS);
  g_clear_error (&error);
  mappings = list (router);
  g_assert_cmpuint (mappings->len, ==, 2);
  g_assert_cmpstr (find (mappings, SWARM, "TCP")->internal_client, ==, HOME2);

  release_from_home2 ();
}

/* secure_mode=yes: what miniupnpd 2.3.1 answers when this host asks for another's address */
static void
test_secure_mode (void)
{
  g_autoptr (PhUpnpRouter) router = discover ();
  g_autoptr (GPtrArray) mappings = NULL;
  g_autoptr (GError) mapped = NULL;
  int add_code, delete_code;

  add_code = raw_add (router, 4555, HOME2, 4555, "TCP", "600");
  g_test_message ("AddPortMapping for another address → %d", add_code);
  /* upnpsoap.c AddPortMapping: SoapError (h, 718, "ConflictInMappingEntry"), not 606 */
  g_assert_cmpint (add_code, ==, 718);
  mapped = ph_upnp_error_new (PH_UPNP_ACTION_ADD_MAPPING, add_code, 4555, "TCP");
  g_assert_error (mapped, PH_UPNP_ERROR, PH_UPNP_ERROR_CONFLICT);

  hold_from_home2 ();
  delete_code = raw_delete (router, SWARM, "TCP");
  g_test_message ("DeletePortMapping of another host's mapping → %d", delete_code);
  /* upnpsoap.c DeletePortMapping: 606 "Action not authorized" in secure mode */
  g_assert_cmpint (delete_code, ==, 606);
  mappings = list (router);
  g_assert_cmpuint (mappings->len, ==, 2);
  release_from_home2 ();
}

static void
test_dangerous_ports_warned (void)
{
  g_autoptr (PhUpnpRouter) router = discover ();
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpFacts) facts = NULL;
  gboolean api = FALSE, gateway = FALSE;

  /* another program on this host did it; Porthole only warns */
  g_assert_cmpint (raw_add (router, 5001, HOME1, 5001, "TCP", "600"), ==, 0);
  g_assert_cmpint (raw_add (router, 18080, HOME1, 8080, "TCP", "600"), ==, 0);
  facts = ph_upnp_read_facts (router, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < facts->warnings->len; i++)
    {
      const PhUpnpWarning *warning = g_ptr_array_index (facts->warnings, i);
      g_test_message ("%s: %s", warning->code, warning->message);
      api |= g_str_equal (warning->code, "api-port-mapped");
      gateway |= g_str_equal (warning->code, "gateway-port-mapped");
    }
  g_assert_true (api);
  g_assert_true (gateway);
  g_assert_cmpint (raw_delete (router, 5001, "TCP"), ==, 0);
  g_assert_cmpint (raw_delete (router, 18080, "TCP"), ==, 0);
}

/* IGD:2 §2.3.16: a lease of 0 is turned into the maximum; miniupnpd 2.3 reports IGDv2 */
static void
test_lease_zero (void)
{
  g_autoptr (PhUpnpRouter) router = discover ();
  g_autoptr (GPtrArray) mappings = NULL;
  const PhUpnpMapping *m;

  g_assert_cmpint (raw_add (router, 4556, HOME1, 4556, "UDP", "0"), ==, 0);
  mappings = list (router);
  m = find (mappings, 4556, "UDP");
  g_test_message ("lease 0 → %u s", m->lease_s);
  g_assert_cmpuint (m->lease_s, >, 604000);
  g_assert_cmpint (raw_delete (router, 4556, "UDP"), ==, 0);
}

typedef struct
{
  GAsyncResult *result;
} Wait;

static void
done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;
  wait->result = g_object_ref (result);
}

static GAsyncResult *
wait_for (Wait *wait)
{
  while (wait->result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return wait->result;
}

static void
test_async_and_undo (void)
{
  PhUpnpOptions opts = options ();
  g_autofree char *log_path = work_path ("undo.json");
  g_autoptr (PhChangeLog) log = ph_change_log_new (log_path);
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpRouter) router = NULL;
  g_autoptr (PhUpnpFacts) facts = NULL;
  g_autoptr (PhUpnpMapResult) added = NULL;
  g_autoptr (GPtrArray) changes = NULL;
  g_autoptr (GPtrArray) mappings = NULL;
  Wait w1 = { 0 }, w2 = { 0 }, w3 = { 0 }, w4 = { 0 };

  ph_upnp_discover_async (&opts, NULL, done, &w1);
  router = ph_upnp_discover_finish (wait_for (&w1), &error);
  g_assert_no_error (error);

  ph_upnp_add_mapping_async (router, SWARM, 900, log, NULL, done, &w2);
  added = ph_upnp_add_mapping_finish (wait_for (&w2), &error);
  g_assert_no_error (error);

  ph_upnp_read_facts_async (router, NULL, done, &w3);
  facts = ph_upnp_read_facts_finish (wait_for (&w3), &error);
  g_assert_no_error (error);
  g_assert_nonnull (facts->our_tcp);

  /* undo from the record alone, as after a restart */
  changes = ph_change_log_list (log, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (changes->len, ==, 1);
  ph_upnp_undo_change_async (g_ptr_array_index (changes, 0), log, 5000, NULL, done, &w4);
  g_assert_true (ph_upnp_undo_change_finish (wait_for (&w4), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (log_length (log), ==, 0);
  mappings = list (router);
  g_assert_cmpuint (mappings->len, ==, 0);

  g_object_unref (w1.result);
  g_object_unref (w2.result);
  g_object_unref (w3.result);
  g_object_unref (w4.result);
}

static gboolean
cancel_soon (gpointer cancellable)
{
  g_cancellable_cancel (cancellable);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (void)
{
  PhUpnpOptions opts = options ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpRouter) router = NULL;
  Wait wait = { 0 };
  gint64 start = g_get_monotonic_time ();

  ph_upnp_discover_async (&opts, cancellable, done, &wait);
  g_timeout_add (100, cancel_soon, cancellable);
  router = ph_upnp_discover_finish (wait_for (&wait), &error);
  g_assert_null (router);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_object_unref (wait.result);
  /* let the worker's SSDP wait end before the next test */
  g_usleep (1200 * 1000);
}

/* Leaves a mapping and its record for the no-daemon phase to try to undo. */
static void
test_leave_for_later (void)
{
  g_autoptr (PhUpnpRouter) router = discover ();
  g_autofree char *log_path = work_path ("later.json");
  g_autoptr (PhChangeLog) log = ph_change_log_new (log_path);
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpMapResult) added = NULL;

  added = ph_upnp_add_mapping (router, SWARM, 600, log, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (log_length (log), ==, 1);
}

/* ---- phase: a second IGD on the LAN (home2) ---- */

static PhUpnpRouter *
discover_with_gateway (const char *gateway)
{
  PhUpnpOptions opts = options ();
  g_autoptr (GError) error = NULL;
  PhUpnpRouter *router;

  opts.gateway = gateway;
  router = ph_upnp_discover (&opts, NULL, &error);
  g_assert_no_error (error);
  return router;
}

static void
test_prefers_gateway (void)
{
  /* a few rounds: the answers come in either order */
  for (guint round = 0; round < 4; round++)
    {
      g_autoptr (PhUpnpRouter) main_router = discover_with_gateway (GATEWAY);
      g_autoptr (PhUpnpRouter) second = discover_with_gateway (HOME2);

      g_assert_cmpstr (ph_upnp_router_get_info (main_router)->friendly_name, ==, ROUTER_NAME);
      g_assert_true (ph_upnp_router_is_on_gateway (main_router));
      g_assert_true (
          g_str_has_prefix (ph_upnp_router_get_desc_url (main_router), "http://" GATEWAY ":"));
      /* told that home2 is the gateway, the search takes home2's IGD */
      g_assert_cmpstr (ph_upnp_router_get_info (second)->friendly_name, ==, "Second Router");
      g_assert_true (ph_upnp_router_is_on_gateway (second));
    }
}

static void
test_no_igd_on_gateway (void)
{
  g_autoptr (PhUpnpRouter) router = discover_with_gateway ("192.168.77.99");
  g_autoptr (PhUpnpFacts) facts = NULL;
  g_autoptr (GError) error = NULL;
  gboolean warned = FALSE;

  g_assert_false (ph_upnp_router_is_on_gateway (router));
  facts = ph_upnp_read_facts (router, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < facts->warnings->len; i++)
    {
      const PhUpnpWarning *warning = g_ptr_array_index (facts->warnings, i);
      g_test_message ("%s: %s", warning->code, warning->message);
      warned |= g_str_equal (warning->code, "not-on-gateway");
    }
  g_assert_true (warned);
}

/* ---- phase: no miniupnpd ---- */

static void
test_no_router (void)
{
  PhUpnpOptions opts = options ();
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpRouter) router = NULL;
  g_autoptr (PhUpnpFacts) facts = NULL;
  g_autoptr (JsonNode) json = NULL;
  g_autofree char *text = NULL;
  gint64 start = g_get_monotonic_time ();

  opts.discover_ms = 2000; /* what the app uses */
  router = ph_upnp_discover (&opts, NULL, &error);
  g_assert_null (router);
  g_test_message ("%s", error->message);
  g_assert_error (error, PH_UPNP_ERROR, PH_UPNP_ERROR_NO_ROUTER);
  g_assert_nonnull (strstr (error->message, "within 2 seconds"));
  g_assert_nonnull (strstr (error->message, "http://" GATEWAY "/"));
  /* one SSDP wait for all search types, not one per type */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  g_clear_error (&error);

  facts = ph_upnp_gather (&opts, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (facts->found);
  g_assert_cmpstr (facts->error_code, ==, "no-router");
  json = ph_upnp_facts_to_json (facts);
  text = json_to_string (json, TRUE);
  g_test_message ("%s", text);
}

static void
test_no_router_async (void)
{
  PhUpnpOptions opts = options ();
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpFacts) facts = NULL;
  Wait wait = { 0 };
  gint64 start = g_get_monotonic_time ();

  ph_upnp_gather_async (&opts, NULL, done, &wait);
  facts = ph_upnp_gather_finish (wait_for (&wait), &error);
  g_assert_no_error (error);
  g_assert_false (facts->found);
  g_assert_nonnull (strstr (facts->error, "UPnP"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  g_object_unref (wait.result);
}

static void
test_undo_without_router (void)
{
  g_autofree char *log_path = work_path ("later.json");
  g_autoptr (PhChangeLog) log = ph_change_log_new (log_path);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) changes = NULL;
  PhChange *change;

  changes = ph_change_log_list (log, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (changes->len, ==, 1);
  change = g_ptr_array_index (changes, 0);
  g_assert_false (ph_upnp_undo_change (change, log, 3000, NULL, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, PH_UPNP_ERROR, PH_UPNP_ERROR_NO_ANSWER);
  g_assert_nonnull (strstr (error->message, change->undo_hint));
  /* kept, to try again or do by hand */
  g_assert_cmpuint (log_length (log), ==, 1);
}

/* ---- helper roles ---- */

static int
role_hold (guint port, gboolean hold)
{
  PhUpnpOptions opts = options ();
  g_autoptr (GError) error = NULL;
  g_autoptr (PhUpnpRouter) router = NULL;

  opts.swarm_port = port;
  router = ph_upnp_discover (&opts, NULL, &error);
  if (router == NULL)
    {
      g_printerr ("discover: %s\n", error->message);
      return 1;
    }
  if (hold)
    {
      g_autoptr (PhUpnpMapResult) result
          = ph_upnp_add_mapping (router, port, 600, NULL, NULL, &error);
      if (result == NULL)
        {
          g_printerr ("add: %s\n", error->message);
          return 1;
        }
      g_print ("holding %u for %s\n", port, result->internal_client);
      return 0;
    }
  if (!ph_upnp_remove_mapping (router, port, NULL, NULL, &error))
    {
      g_printerr ("remove: %s\n", error->message);
      return 1;
    }
  g_print ("released %u\n", port);
  return 0;
}

static int
role_dial (gboolean tcp, const char *address, const char *port_text)
{
  g_autoptr (GError) error = NULL;
  guint64 port = 0;

  if (!g_ascii_string_to_unsigned (port_text, 10, 1, 65535, &port, NULL))
    return 2;
  if (tcp)
    {
      g_autoptr (GSocketClient) client = g_socket_client_new ();
      g_autoptr (GSocketConnection) connection = NULL;

      g_socket_client_set_timeout (client, 2);
      connection = g_socket_client_connect_to_host (client, address, port, NULL, &error);
      if (connection == NULL)
        {
          g_printerr ("connect: %s\n", error->message);
          return 1;
        }
      return 0;
    }
  else
    {
      g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                                 G_SOCKET_PROTOCOL_UDP, &error);
      g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (address);
      g_autoptr (GSocketAddress) to = g_inet_socket_address_new (inet, port);

      if (socket == NULL || g_socket_send_to (socket, to, "hello", 5, NULL, &error) != 5)
        return 1;
      return 0;
    }
}

int
main (int argc, char **argv)
{
  const char *phase = NULL;

  self_exe = g_file_read_link ("/proc/self/exe", NULL);
  if (argc >= 3 && g_str_equal (argv[1], "--role=hold"))
    return role_hold ((guint) atoi (argv[2]), TRUE);
  if (argc >= 3 && g_str_equal (argv[1], "--role=release"))
    return role_hold ((guint) atoi (argv[2]), FALSE);
  if (argc >= 4 && g_str_equal (argv[1], "--role=dial-tcp"))
    return role_dial (TRUE, argv[2], argv[3]);
  if (argc >= 4 && g_str_equal (argv[1], "--role=dial-udp"))
    return role_dial (FALSE, argv[2], argv[3]);

  for (int i = 1; i < argc; i++)
    if (g_str_has_prefix (argv[i], "--phase="))
      phase = argv[i] + strlen ("--phase=");
  g_test_init (&argc, &argv, NULL);

  if (g_strcmp0 (phase, "daemon") == 0)
    {
      g_test_add_func ("/upnp-netns/daemon/01-discover", test_discover);
      g_test_add_func ("/upnp-netns/daemon/02-facts", test_facts);
      g_test_add_func ("/upnp-netns/daemon/03-add-list-renew-remove", test_add_list_renew_remove);
      g_test_add_func ("/upnp-netns/daemon/04-renew-after-router-lost-it",
                       test_renew_after_router_lost_it);
      g_test_add_func ("/upnp-netns/daemon/05-refused-ports", test_refused_ports);
      g_test_add_func ("/upnp-netns/daemon/06-conflict", test_conflict);
      g_test_add_func ("/upnp-netns/daemon/07-secure-mode", test_secure_mode);
      g_test_add_func ("/upnp-netns/daemon/08-dangerous-ports-warned", test_dangerous_ports_warned);
      g_test_add_func ("/upnp-netns/daemon/09-lease-zero", test_lease_zero);
      g_test_add_func ("/upnp-netns/daemon/10-async-and-undo", test_async_and_undo);
      g_test_add_func ("/upnp-netns/daemon/11-cancel", test_cancel);
      g_test_add_func ("/upnp-netns/daemon/12-leave-for-later", test_leave_for_later);
    }
  else if (g_strcmp0 (phase, "two-igds") == 0)
    {
      g_test_add_func ("/upnp-netns/two-igds/01-prefers-gateway", test_prefers_gateway);
      g_test_add_func ("/upnp-netns/two-igds/02-no-igd-on-gateway", test_no_igd_on_gateway);
    }
  else if (g_strcmp0 (phase, "no-daemon") == 0)
    {
      g_test_add_func ("/upnp-netns/no-daemon/01-no-router", test_no_router);
      g_test_add_func ("/upnp-netns/no-daemon/02-no-router-async", test_no_router_async);
      g_test_add_func ("/upnp-netns/no-daemon/03-undo-without-router", test_undo_without_router);
    }
  else
    {
      g_printerr ("usage: %s --phase=daemon|two-igds|no-daemon [--tap]\n", argv[0]);
      return 2;
    }
  return g_test_run ();
}
