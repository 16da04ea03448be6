/* test-kubo.c: the kubo node — repository files, the RPC client, the node read, config changes
 *
 * kubo cannot be installed here, so a real HTTP server on 127.0.0.1 (SoupServer, port 0) answers
 * like kubo, from the formats in kubo's source (ipfs/kubo@867cdc5d, go-ipfs-cmds):
 * - routes under /api/v0, POST only, anything else 405 "405 - Method Not Allowed" with
 *   Allow: OPTIONS, POST (go-ipfs-cmds http/handler.go ServeHTTP);
 * - an unknown route 404 "404 page not found" (go-ipfs-cmds http/parse.go ErrNotFound);
 * - errors HTTP 500 {"Message","Code","Type":"error"} (go-ipfs-cmds error.go,
 *   http/responseemitter.go sendErr);
 * - API.Authorizations: 403 "Kubo RPC Access Denied…" without a configured secret, version
 *   allowed with any valid one (kubo core/corehttp/commands.go withAuthSecrets);
 * - config/show scrubs Identity.PrivKey and API.Authorizations; config?arg=K[&arg=V][&bool|json]
 *   answers {"Key","Value"} (kubo core/commands/config.go);
 * - answers are the JSON fixtures of tests/unit/kubo/, each naming the kubo source it follows in
 *   its "_source" member, which the server strips.
 * Faults a real daemon shows — a connection closed before or in the middle of an answer — come
 * from a raw threaded socket server, and "stops answering" from a paused SoupServer message.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "net/ph-kubo.h"
#include "p2p/ph-keys.h"

#include "keys/key-vectors.h"

/* libsoup 3.2 leaks the listening socket's address in soup_server_listen_local() — the fake
 * kubo's side, not ours. The suppression needs whole stacks, hence the slow unwinder here. */
const char *
__lsan_default_suppressions (void);
const char *
__asan_default_options (void);

const char *
__lsan_default_suppressions (void)
{
  return "leak:soup_server_listen_local\n";
}

const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

#define ED25519_PEER_ID "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
#define RSA_PEER_ID "QmaeANgBs1DTSxWSrPPtobgQuxW8XTfsS4ydbK4rCHzqxG"
#define BEARER "Bearer s3cret-token"

/* ---- fixtures ---- */

static JsonNode *
fixture (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "unit", "kubo", name, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonNode *root;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  root = json_node_copy (json_parser_get_root (parser));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  /* Every fixture says where its shape comes from. */
  g_assert_true (json_object_has_member (json_node_get_object (root), "_source"));
  json_object_remove_member (json_node_get_object (root), "_source");
  return root;
}

static char *
fixture_text (const char *name)
{
  g_autoptr (JsonNode) root = fixture (name);

  return json_to_string (root, TRUE);
}

/* ---- waiting on the default main context ---- */

static void
store_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static gboolean
set_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_flag, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* ---- the kubo-like server ---- */

typedef enum
{
  FAULT_NONE,
  FAULT_HANG,         /* never answers (paused) */
  FAULT_HUGE,         /* 2 MiB of valid JSON with a Content-Length */
  FAULT_HUGE_CHUNKED, /* 2 MiB of valid JSON, chunked, no length */
  FAULT_MALFORMED,    /* truncated JSON */
  FAULT_DEEP,         /* nesting deeper than any config, well inside the size bound */
  FAULT_WRONG_SHAPE,  /* valid JSON, not what kubo sends */
  FAULT_500_JSON,     /* go-ipfs-cmds error object */
  FAULT_500_TEXT,     /* a 500 with a plain body */
  FAULT_404,
  FAULT_405,
  FAULT_REDIRECT, /* 307 to another route */
  FAULT_EMPTY,    /* 200 with no body */
} Fault;

typedef struct
{
  SoupServer *server;
  char *address; /* /ip4/127.0.0.1/tcp/<port> */
  guint16 port;
  JsonNode *version;
  JsonNode *id;
  JsonNode *config;  /* the node's config "file"; config sets change it */
  JsonNode *autonat; /* NULL: a kubo before 0.40 (answers with `swarm addrs`) */
  char *required_auth;
  char *fault_path;
  Fault fault;
  GPtrArray *requests;  /* "METHOD /path?query" */
  GPtrArray *auth_seen; /* the Authorization header of each request, "" when none */
  GPtrArray *paused;    /* SoupServerMessage */
} Kubo;

static void
reply (SoupServerMessage *msg, guint status, const char *type, const char *body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY, body, strlen (body));
}

static void
reply_json (SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autofree char *text = json_to_string (node, FALSE);
  g_autofree char *line = g_strconcat (text, "\n", NULL); /* go's json.Encoder ends with \n */

  reply (msg, status, "application/json", line);
}

static void
reply_cmds_error (SoupServerMessage *msg, const char *message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) node = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "Message");
  json_builder_add_string_value (builder, message);
  json_builder_set_member_name (builder, "Code");
  json_builder_add_int_value (builder, 0);
  json_builder_set_member_name (builder, "Type");
  json_builder_add_string_value (builder, "error");
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  reply_json (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, node);
}

/* The repeated arg= values and the options of a raw query, as go's url.Query does. */
static GPtrArray *
query_args (const char *query, GHashTable *options)
{
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) pairs = g_strsplit (query != NULL ? query : "", "&", -1);

  for (guint i = 0; pairs[i] != NULL; i++)
    {
      char *eq = strchr (pairs[i], '=');
      g_autofree char *name = NULL;
      char *value;

      if (*pairs[i] == '\0')
        continue;
      name = g_uri_unescape_segment (pairs[i], eq, NULL);
      value = eq != NULL ? g_uri_unescape_string (eq + 1, NULL) : g_strdup ("");
      g_assert_nonnull (value);
      if (g_str_equal (name, "arg"))
        g_ptr_array_add (args, value);
      else
        g_hash_table_replace (options, g_steal_pointer (&name), value);
    }
  return args;
}

static JsonObject *
config_parent (JsonNode *config, const char *key, char **last)
{
  g_auto (GStrv) steps = g_strsplit (key, ".", -1);
  guint n = g_strv_length (steps);
  JsonObject *object = json_node_get_object (config);

  for (guint i = 0; i + 1 < n; i++)
    {
      if (!json_object_has_member (object, steps[i]))
        json_object_set_object_member (object, steps[i], json_object_new ());
      object = json_object_get_object_member (object, steps[i]);
    }
  *last = g_strdup (steps[n - 1]);
  return object;
}

/* kubo core/commands/config.go ConfigCmd: get, or set with --bool / --json / a string. */
static void
kubo_config (Kubo *kubo, SoupServerMessage *msg, const char *query)
{
  g_autoptr (GHashTable) options = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GPtrArray) args = query_args (query, options);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;
  g_autofree char *last = NULL;
  const char *key;
  JsonObject *parent;
  JsonNode *value;

  if (args->len < 1)
    {
      reply_cmds_error (msg, "argument \"key\" is required");
      return;
    }
  key = g_ptr_array_index (args, 0);
  if (g_ascii_strncasecmp (key, "identity", 8) == 0)
    {
      reply_cmds_error (msg, "cannot show or change private key through API");
      return;
    }
  parent = config_parent (kubo->config, key, &last);
  if (args->len >= 2)
    {
      const char *text = g_ptr_array_index (args, 1);
      JsonNode *new_value;

      if (g_strcmp0 (g_hash_table_lookup (options, "bool"), "true") == 0)
        {
          new_value = json_node_new (JSON_NODE_VALUE);
          json_node_set_boolean (new_value, g_str_equal (text, "true"));
        }
      else if (g_strcmp0 (g_hash_table_lookup (options, "json"), "true") == 0)
        {
          g_autoptr (JsonParser) parser = json_parser_new ();

          if (!json_parser_load_from_data (parser, text, -1, NULL))
            {
              reply_cmds_error (msg, "failed to unmarshal json.");
              return;
            }
          new_value = json_node_copy (json_parser_get_root (parser));
        }
      else
        {
          new_value = json_node_new (JSON_NODE_VALUE);
          json_node_set_string (new_value, text);
        }
      json_object_set_member (parent, last, new_value);
    }
  value = json_object_get_member (parent, last);
  if (value == NULL)
    {
      reply_cmds_error (msg, "failed to get config value: \"key has no attribute\"");
      return;
    }
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "Key");
  json_builder_add_string_value (builder, key);
  json_builder_set_member_name (builder, "Value");
  json_builder_add_value (builder, json_node_copy (value));
  json_builder_end_object (builder);
  answer = json_builder_get_root (builder);
  reply_json (msg, SOUP_STATUS_OK, answer);
}

/* config.go configShowCmd: scrubValue(Identity.PrivKey), scrubValue(API.Authorizations). */
static void
kubo_config_show (Kubo *kubo, SoupServerMessage *msg)
{
  g_autoptr (JsonNode) shown = json_node_copy (kubo->config);
  JsonObject *root = json_node_get_object (shown);

  if (json_object_has_member (root, "Identity"))
    json_object_remove_member (json_object_get_object_member (root, "Identity"), "PrivKey");
  if (json_object_has_member (root, "API")
      && json_object_has_member (json_object_get_object_member (root, "API"), "Authorizations"))
    json_object_set_object_member (json_object_get_object_member (root, "API"), "Authorizations",
                                   json_object_new ());
  reply_json (msg, SOUP_STATUS_OK, shown);
}

static void
kubo_fault (Kubo *kubo, SoupServerMessage *msg)
{
  switch (kubo->fault)
    {
      case FAULT_HANG:
        soup_server_message_pause (msg);
        g_ptr_array_add (kubo->paused, g_object_ref (msg));
        return;
      case FAULT_HUGE:
      case FAULT_HUGE_CHUNKED:
        {
          GString *body = g_string_new ("[");
          SoupMessageBody *response = soup_server_message_get_response_body (msg);

          while (body->len < 2 * 1024 * 1024)
            g_string_append (body, "\"0123456789abcdef\",");
          g_string_append (body, "0]");
          soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
          if (kubo->fault == FAULT_HUGE_CHUNKED)
            soup_message_headers_set_encoding (soup_server_message_get_response_headers (msg),
                                               SOUP_ENCODING_CHUNKED);
          soup_message_headers_set_content_type (soup_server_message_get_response_headers (msg),
                                                 "application/json", NULL);
          soup_message_body_append (response, SOUP_MEMORY_TAKE, body->str, body->len);
          g_string_free (body, FALSE);
          soup_message_body_complete (response);
          return;
        }
      case FAULT_MALFORMED:
        reply (msg, SOUP_STATUS_OK, "application/json", "{\"ID\": \"12D3KooW");
        return;
      case FAULT_DEEP:
        {
          g_autofree char *open = g_strnfill (100000, '[');
          g_autofree char *close = g_strnfill (100000, ']');
          g_autofree char *body = g_strconcat (open, close, NULL);

          reply (msg, SOUP_STATUS_OK, "application/json", body);
          return;
        }
      case FAULT_WRONG_SHAPE:
        reply (msg, SOUP_STATUS_OK, "application/json", "[\"ID\", 42]\n");
        return;
      case FAULT_500_JSON:
        {
          g_autoptr (JsonNode) error = fixture ("error-offline.json");

          reply_json (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, error);
          return;
        }
      case FAULT_500_TEXT:
        reply (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "text/plain", "panic: \x01 runtime error\n");
        return;
      case FAULT_404:
        reply (msg, SOUP_STATUS_NOT_FOUND, "text/plain; charset=utf-8", "404 page not found\n");
        return;
      case FAULT_EMPTY:
        reply (msg, SOUP_STATUS_OK, "application/json", "");
        return;
      case FAULT_REDIRECT:
        soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location",
                                      "/api/v0/version");
        reply (msg, SOUP_STATUS_TEMPORARY_REDIRECT, "text/plain", "");
        return;
      case FAULT_405:
        reply (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
               "405 - Method Not Allowed\n");
        return;
      case FAULT_NONE:
      default:
        g_assert_not_reached ();
    }
}

static void
kubo_handle (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *unused,
             gpointer user_data)
{
  Kubo *kubo = user_data;
  const char *method = soup_server_message_get_method (msg);
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                   "Authorization");

  g_ptr_array_add (kubo->requests,
                   g_strdup_printf ("%s %s%s%s", method, path, query != NULL ? "?" : "",
                                    query != NULL ? query : ""));
  g_ptr_array_add (kubo->auth_seen, g_strdup (auth != NULL ? auth : ""));

  if (!g_str_equal (method, "POST"))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    "OPTIONS, POST");
      reply (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
             "405 - Method Not Allowed\n");
      return;
    }
  if (kubo->required_auth != NULL && g_strcmp0 (auth, kubo->required_auth) != 0)
    {
      reply (msg, SOUP_STATUS_FORBIDDEN, "text/plain; charset=utf-8",
             "Kubo RPC Access Denied: Please provide a valid authorization token as defined in the "
             "API.Authorizations configuration.\n");
      return;
    }
  if (kubo->fault != FAULT_NONE && g_strcmp0 (path, kubo->fault_path) == 0)
    {
      kubo_fault (kubo, msg);
      return;
    }

  if (g_str_equal (path, "/api/v0/version"))
    reply_json (msg, SOUP_STATUS_OK, kubo->version);
  else if (g_str_equal (path, "/api/v0/id"))
    reply_json (msg, SOUP_STATUS_OK, kubo->id);
  else if (g_str_equal (path, "/api/v0/config/show"))
    kubo_config_show (kubo, msg);
  else if (g_str_equal (path, "/api/v0/config"))
    kubo_config (kubo, msg, query);
  else if (g_str_equal (path, "/api/v0/swarm/addrs/autonat") && kubo->autonat != NULL)
    reply_json (msg, SOUP_STATUS_OK, kubo->autonat);
  else if (g_str_equal (path, "/api/v0/swarm/addrs/autonat"))
    {
      g_autoptr (JsonNode) addrs = fixture ("swarm-addrs.json");

      reply_json (msg, SOUP_STATUS_OK, addrs);
    }
  else
    reply (msg, SOUP_STATUS_NOT_FOUND, "text/plain; charset=utf-8", "404 page not found\n");
}

static Kubo *
kubo_new (const char *version_fixture, const char *config_fixture, const char *autonat_fixture)
{
  Kubo *kubo = g_new0 (Kubo, 1);
  g_autoptr (GError) error = NULL;
  g_autoslist (GUri) uris = NULL;

  kubo->version = fixture (version_fixture);
  kubo->id = fixture ("id.json");
  kubo->config = fixture (config_fixture);
  kubo->autonat = autonat_fixture != NULL ? fixture (autonat_fixture) : NULL;
  kubo->requests = g_ptr_array_new_with_free_func (g_free);
  kubo->auth_seen = g_ptr_array_new_with_free_func (g_free);
  kubo->paused = g_ptr_array_new_with_free_func (g_object_unref);

  kubo->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (kubo->server, "/", kubo_handle, kubo, NULL);
  soup_server_listen_local (kubo->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (kubo->server);
  g_assert_nonnull (uris);
  kubo->port = (guint16) g_uri_get_port (uris->data);
  kubo->address = g_strdup_printf ("/ip4/127.0.0.1/tcp/%u", kubo->port);
  return kubo;
}

static void
kubo_free (Kubo *kubo)
{
  for (guint i = 0; i < kubo->paused->len; i++)
    {
      SoupServerMessage *msg = g_ptr_array_index (kubo->paused, i);

      reply (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "text/plain", "gone");
      soup_server_message_unpause (msg);
    }
  soup_server_disconnect (kubo->server);
  g_object_unref (kubo->server);
  g_ptr_array_unref (kubo->paused);
  g_ptr_array_unref (kubo->requests);
  g_ptr_array_unref (kubo->auth_seen);
  json_node_unref (kubo->version);
  json_node_unref (kubo->id);
  json_node_unref (kubo->config);
  g_clear_pointer (&kubo->autonat, json_node_unref);
  g_free (kubo->required_auth);
  g_free (kubo->fault_path);
  g_free (kubo->address);
  g_free (kubo);
  /* Let the server's and the clients' connections wind down. */
  spin (10);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Kubo, kubo_free)

static void
kubo_set_fault (Kubo *kubo, const char *path, Fault fault)
{
  g_free (kubo->fault_path);
  kubo->fault_path = g_strdup (path);
  kubo->fault = fault;
}

static gboolean
kubo_saw (Kubo *kubo, const char *request)
{
  for (guint i = 0; i < kubo->requests->len; i++)
    if (g_str_equal (g_ptr_array_index (kubo->requests, i), request))
      return TRUE;
  return FALSE;
}

static gboolean
kubo_saw_path (Kubo *kubo, const char *path)
{
  for (guint i = 0; i < kubo->requests->len; i++)
    {
      const char *request = g_ptr_array_index (kubo->requests, i);
      const char *space = strchr (request, ' ');

      if (g_str_has_prefix (space + 1, path)
          && (space[1 + strlen (path)] == '\0' || space[1 + strlen (path)] == '?'))
        return TRUE;
    }
  return FALSE;
}

/* ---- a raw server for broken connections ---- */

typedef enum
{
  RAW_CLOSE_AT_ONCE,  /* read the request, close without a word */
  RAW_CLOSE_MID_BODY, /* promise 1000 bytes, send 20, close */
} RawMode;

typedef struct
{
  GSocketService *service;
  char *address;
  RawMode mode;
} Raw;

static gboolean
raw_incoming (GThreadedSocketService *service, GSocketConnection *connection,
              GObject *source_object, gpointer user_data)
{
  Raw *raw = user_data;
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  GString *request = g_string_new (NULL);
  char buffer[1024];

  /* The whole request head, so closing does not reset it unread. */
  while (strstr (request->str, "\r\n\r\n") == NULL)
    {
      gssize n = g_input_stream_read (in, buffer, sizeof buffer, NULL, NULL);

      if (n <= 0)
        break;
      g_string_append_len (request, buffer, n);
    }
  g_string_free (request, TRUE);
  if (raw->mode == RAW_CLOSE_MID_BODY)
    {
      const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Content-Length: 1000\r\n\r\n{\"ID\": \"12D3KooWBt";

      g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL);
    }
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return TRUE;
}

static Raw *
raw_new (RawMode mode)
{
  Raw *raw = g_new0 (Raw, 1);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;

  raw->mode = mode;
  raw->service = g_threaded_socket_service_new (2);
  g_socket_listener_add_address (G_SOCKET_LISTENER (raw->service), any, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error (error);
  raw->address = g_strdup_printf ("/ip4/127.0.0.1/tcp/%u",
                                  g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_signal_connect (raw->service, "run", G_CALLBACK (raw_incoming), raw);
  g_socket_service_start (raw->service);
  return raw;
}

static void
raw_free (Raw *raw)
{
  g_socket_service_stop (raw->service);
  g_socket_listener_close (G_SOCKET_LISTENER (raw->service));
  g_object_unref (raw->service);
  g_free (raw->address);
  g_free (raw);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Raw, raw_free)

/* A loopback port nothing listens on: bound once, then closed. */
static char *
closed_port_address (void)
{
  g_autoptr (GSocket) socket
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;

  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_strdup_printf ("/ip4/127.0.0.1/tcp/%u",
                          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
}

/* ---- calling the client synchronously ---- */

static PhKuboClient *
client_for (const char *address, const char *authorization)
{
  g_autoptr (GError) error = NULL;
  PhKuboClient *client = ph_kubo_client_new (address, authorization, &error);

  g_assert_no_error (error);
  return client;
}

static JsonNode *
call (PhKuboClient *client, const char *path, const char *const *query, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  ph_kubo_client_call_async (client, path, query, NULL, store_result, &result);
  return ph_kubo_client_call_finish (client, wait_result (&result), error);
}

static PhKuboVersion *
call_version (PhKuboClient *client, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  ph_kubo_client_version_async (client, NULL, store_result, &result);
  return ph_kubo_client_version_finish (client, wait_result (&result), error);
}

static PhKuboId *
call_id (PhKuboClient *client, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  ph_kubo_client_id_async (client, NULL, store_result, &result);
  return ph_kubo_client_id_finish (client, wait_result (&result), error);
}

static PhKuboAutonat *
call_autonat (PhKuboClient *client, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  ph_kubo_client_autonat_async (client, NULL, store_result, &result);
  return ph_kubo_client_autonat_finish (client, wait_result (&result), error);
}

static JsonNode *
call_config_show (PhKuboClient *client, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  ph_kubo_client_config_show_async (client, NULL, store_result, &result);
  return ph_kubo_client_config_show_finish (client, wait_result (&result), error);
}

static JsonNode *
call_config_get (PhKuboClient *client, const char *key, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  ph_kubo_client_config_get_async (client, key, NULL, store_result, &result);
  return ph_kubo_client_config_get_finish (client, wait_result (&result), error);
}

static gboolean
apply_change (PhKuboChange *change, PhKuboClient *client, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  ph_kubo_change_apply_async (change, client, NULL, store_result, &result);
  return ph_kubo_change_apply_finish (wait_result (&result), error);
}

static gboolean
revert_change (PhKuboChange *change, PhKuboClient *client, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  ph_kubo_change_revert_async (change, client, NULL, store_result, &result);
  return ph_kubo_change_revert_finish (wait_result (&result), error);
}

/* ---- a repository in a temporary directory ---- */

static void
write_file (const char *dir, const char *name, const char *contents, int mode)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, mode, &error);
  g_assert_no_error (error);
}

/* A repository with the fixture as its config (0600, as kubo writes it) and, when `api` is not
 * NULL, an api file holding it. */
static char *
make_repo (const char *config_fixture, const char *api)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("porthole-kubo-XXXXXX", &error);
  g_autofree char *config = NULL;

  g_assert_no_error (error);
  if (config_fixture != NULL)
    {
      config = fixture_text (config_fixture);
      write_file (dir, "config", config, 0600);
    }
  if (api != NULL)
    write_file (dir, "api", api, 0644);
  return dir;
}

static void
remove_repo (char *dir)
{
  const char *names[] = { "config", "api", "sock" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
  g_free (dir);
}

typedef char RepoDir;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RepoDir, remove_repo)

static PhKuboNode *
read_node (const char *repo, const char *api_address, guint timeout_ms)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  PhKuboReadOptions options = { repo, api_address, timeout_ms };
  PhKuboNode *node;

  ph_kubo_node_read_async (&options, NULL, store_result, &result);
  node = ph_kubo_node_read_finish (wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

static JsonObject *
json_object_of (JsonNode *node)
{
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_node_get_object (node);
}

/* ---- multiaddr text ---- */

static void
test_addr_parse (void)
{
  static const struct
  {
    const char *text;
    PhKuboHostKind kind;
    const char *host;
    PhIpScope scope;
    gboolean tcp;
    gboolean udp;
    guint16 port;
    gboolean plain_tcp;
    gboolean quic;
    gboolean local_only;
  } cases[] = {
    /* kubo:config/init.go addressesConfig and docs/config.md §Addresses.Swarm */
    { "/ip4/0.0.0.0/tcp/4001", PH_KUBO_HOST_IP4, "0.0.0.0", PH_IP_SCOPE_UNSPECIFIED, TRUE, FALSE,
      4001, TRUE, FALSE, FALSE },
    { "/ip6/::/tcp/4001", PH_KUBO_HOST_IP6, "::", PH_IP_SCOPE_UNSPECIFIED, TRUE, FALSE, 4001, TRUE,
      FALSE, FALSE },
    { "/ip4/0.0.0.0/udp/4001/quic-v1", PH_KUBO_HOST_IP4, "0.0.0.0", PH_IP_SCOPE_UNSPECIFIED, FALSE,
      TRUE, 4001, FALSE, TRUE, FALSE },
    { "/ip6/::/udp/4001/quic-v1/webtransport", PH_KUBO_HOST_IP6, "::", PH_IP_SCOPE_UNSPECIFIED,
      FALSE, TRUE, 4001, FALSE, TRUE, FALSE },
    { "/ip4/0.0.0.0/udp/4001/webrtc-direct", PH_KUBO_HOST_IP4, "0.0.0.0", PH_IP_SCOPE_UNSPECIFIED,
      FALSE, TRUE, 4001, FALSE, FALSE, FALSE },
    { "/ip4/0.0.0.0/tcp/4002/ws", PH_KUBO_HOST_IP4, "0.0.0.0", PH_IP_SCOPE_UNSPECIFIED, TRUE, FALSE,
      4002, FALSE, FALSE, FALSE },
    /* the api file and Addresses.API (docs/config.md §Addresses.API) */
    { "/ip4/127.0.0.1/tcp/5001", PH_KUBO_HOST_IP4, "127.0.0.1", PH_IP_SCOPE_LOOPBACK, TRUE, FALSE,
      5001, TRUE, FALSE, TRUE },
    { "/ip6/::1/tcp/5001/", PH_KUBO_HOST_IP6, "::1", PH_IP_SCOPE_LOOPBACK, TRUE, FALSE, 5001, TRUE,
      FALSE, TRUE },
    { "/unix/run/ipfs/api.sock", PH_KUBO_HOST_UNIX, "/run/ipfs/api.sock", PH_IP_SCOPE_LOOPBACK,
      FALSE, FALSE, 0, FALSE, FALSE, TRUE },
    { "/unix/%2Frun%2Fipfs.sock", PH_KUBO_HOST_UNIX, "/run/ipfs.sock", PH_IP_SCOPE_LOOPBACK, FALSE,
      FALSE, 0, FALSE, FALSE, TRUE },
    { "/dns4/localhost/tcp/5001", PH_KUBO_HOST_DNS, "localhost", PH_IP_SCOPE_LOOPBACK, TRUE, FALSE,
      5001, TRUE, FALSE, TRUE },
    { "/dns/node.example.org/tcp/5001/https", PH_KUBO_HOST_DNS, "node.example.org",
      PH_IP_SCOPE_PUBLIC, TRUE, FALSE, 5001, FALSE, FALSE, FALSE },
    { "/ip4/192.168.1.5/tcp/5001", PH_KUBO_HOST_IP4, "192.168.1.5", PH_IP_SCOPE_PRIVATE, TRUE,
      FALSE, 5001, TRUE, FALSE, FALSE },
    /* id's addresses carry the peer */
    { "/ip4/203.0.113.42/tcp/4001/p2p/" ED25519_PEER_ID, PH_KUBO_HOST_IP4, "203.0.113.42",
      PH_IP_SCOPE_DOCUMENTATION, TRUE, FALSE, 4001, TRUE, FALSE, FALSE },
    { "/ip6zone/eth0/ip6/fe80::1/tcp/4001", PH_KUBO_HOST_IP6, "fe80::1", PH_IP_SCOPE_LINK_LOCAL,
      TRUE, FALSE, 4001, TRUE, FALSE, FALSE },
    { "/ip4/0.0.0.0/tcp/0", PH_KUBO_HOST_IP4, "0.0.0.0", PH_IP_SCOPE_UNSPECIFIED, TRUE, FALSE, 0,
      TRUE, FALSE, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (PhKuboAddr) addr = { 0 };
      g_autoptr (GError) error = NULL;

      g_test_message ("%s", cases[i].text);
      g_assert_true (ph_kubo_addr_parse (cases[i].text, &addr, &error));
      g_assert_no_error (error);
      g_assert_cmpint (addr.kind, ==, cases[i].kind);
      g_assert_cmpstr (addr.host, ==, cases[i].host);
      g_assert_cmpint (addr.scope, ==, cases[i].scope);
      g_assert_cmpint (addr.tcp, ==, cases[i].tcp);
      g_assert_cmpint (addr.udp, ==, cases[i].udp);
      g_assert_cmpuint (addr.port, ==, cases[i].port);
      g_assert_cmpint (addr.plain_tcp, ==, cases[i].plain_tcp);
      g_assert_cmpint (addr.quic, ==, cases[i].quic);
      g_assert_cmpint (ph_kubo_addr_is_local_only (&addr), ==, cases[i].local_only);
    }
}

static void
test_addr_malformed (void)
{
  const char *bad[] = {
    "",
    "ip4/127.0.0.1/tcp/5001",
    "/",
    "/ip4",
    "/ip4/",
    "/ip4/300.0.0.1/tcp/5001",
    "/ip4/::1/tcp/5001",
    "/ip6/127.0.0.1/tcp/5001",
    "/ip4/127.0.0.1/tcp/65536",
    "/ip4/127.0.0.1/tcp/-1",
    "/ip4/127.0.0.1/tcp/5001x",
    "/ip4/127.0.0.1/tcp/",
    "/ip4/127.0.0.1//tcp/5001",
    "/p2p-circuit/ip4/1.2.3.4",
    "/ip6zone/eth0/ip4/1.2.3.4",
    "/ip6zone/eth0",
    "/unix",
    "/unix/%ZZ",
    "/dns4//tcp/1",
    "/dns4/user@host/tcp/5001",
    "/dns/a b/tcp/1",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto (PhKuboAddr) addr = { 0 };
      g_autoptr (GError) error = NULL;

      g_test_message ("\"%s\"", bad[i]);
      g_assert_false (ph_kubo_addr_parse (bad[i], &addr, &error));
      g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
      g_assert_null (addr.host);
    }
  {
    g_autofree char *long_text = g_strnfill (2000, 'a');
    g_autofree char *text = g_strconcat ("/dns/", long_text, "/tcp/1", NULL);
    g_auto (PhKuboAddr) addr = { 0 };
    g_autoptr (GError) error = NULL;

    g_assert_false (ph_kubo_addr_parse (text, &addr, &error));
    g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
  }
}

static void
test_version_parse (void)
{
  guint major = 99, minor = 99, patch = 99;

  g_assert_true (ph_kubo_version_parse ("0.40.1", &major, &minor, &patch));
  g_assert_cmpuint (major, ==, 0);
  g_assert_cmpuint (minor, ==, 40);
  g_assert_cmpuint (patch, ==, 1);
  g_assert_true (ph_kubo_version_parse ("0.44.0-dev", &major, &minor, &patch));
  g_assert_cmpuint (minor, ==, 44);
  g_assert_true (ph_kubo_version_parse ("v0.11.0-rc1", &major, &minor, &patch));
  g_assert_cmpuint (minor, ==, 11);
  g_assert_true (ph_kubo_version_parse ("1.2", &major, &minor, &patch));
  g_assert_cmpuint (major, ==, 1);
  g_assert_cmpuint (patch, ==, 0);
  g_assert_false (ph_kubo_version_parse ("", NULL, NULL, NULL));
  g_assert_false (ph_kubo_version_parse ("kubo", NULL, NULL, NULL));
  g_assert_false (ph_kubo_version_parse ("7", NULL, NULL, NULL));
  g_assert_false (ph_kubo_version_parse ("0.x", NULL, NULL, NULL));
  g_assert_false (ph_kubo_version_parse ("0.99999999999999999999999", NULL, NULL, NULL));
}

/* ---- settings ---- */

static PhKuboSettings *
settings_from (const char *name)
{
  g_autoptr (JsonNode) config = fixture (name);
  g_autoptr (GError) error = NULL;
  PhKuboSettings *settings = ph_kubo_settings_new_from_json (config, &error);

  g_assert_no_error (error);
  return settings;
}

static void
test_settings_default (void)
{
  g_autoptr (PhKuboSettings) settings = settings_from ("config-ed25519.json");
  g_autoptr (PhKuboSettings) copy = NULL;
  PhKuboSwarmPorts ports;

  g_assert_cmpuint (g_strv_length (settings->swarm), ==, 8);
  /* Addresses.API and .Gateway are kubo `Strings`: one string in a fresh config. */
  g_assert_cmpuint (g_strv_length (settings->api), ==, 1);
  g_assert_cmpstr (settings->api[0], ==, "/ip4/127.0.0.1/tcp/5001");
  g_assert_cmpstr (settings->gateway[0], ==, "/ip4/127.0.0.1/tcp/8080");
  g_assert_cmpuint (g_strv_length (settings->announce), ==, 0);
  g_assert_cmpuint (g_strv_length (settings->append_announce), ==, 0);
  g_assert_false (settings->disable_nat_port_map);
  g_assert_cmpint (settings->relay_client, ==, PH_KUBO_FLAG_DEFAULT);
  g_assert_cmpint (settings->relay_service, ==, PH_KUBO_FLAG_DEFAULT);
  g_assert_cmpint (settings->hole_punching, ==, PH_KUBO_FLAG_DEFAULT);
  g_assert_true (ph_kubo_flag_get (settings->relay_client, TRUE));
  g_assert_null (settings->autonat_service_mode);
  g_assert_null (settings->routing_type);
  g_assert_cmpuint (settings->n_authorizations, ==, 0);

  ph_kubo_settings_get_swarm_ports (settings, &ports);
  g_assert_cmpuint (ports.tcp4, ==, 4001);
  g_assert_cmpuint (ports.tcp6, ==, 4001);
  g_assert_cmpuint (ports.udp4, ==, 4001);
  g_assert_cmpuint (ports.udp6, ==, 4001);
  g_assert_false (ports.tcp_random);
  g_assert_cmpuint (ph_kubo_swarm_ports_primary (&ports), ==, 4001);

  copy = ph_kubo_settings_copy (settings);
  g_assert_true (copy->swarm != settings->swarm);
  g_assert_true (
      g_strv_equal ((const char *const *) copy->swarm, (const char *const *) settings->swarm));
}

static void
test_settings_exposed (void)
{
  g_autoptr (PhKuboSettings) settings = settings_from ("config-exposed-rsa.json");
  PhKuboSwarmPorts ports;

  g_assert_cmpstr (settings->api[0], ==, "/ip4/0.0.0.0/tcp/5001");
  g_assert_cmpstr (settings->gateway[0], ==, "/ip4/0.0.0.0/tcp/8080");
  g_assert_true (settings->disable_nat_port_map);
  g_assert_cmpint (settings->relay_client, ==, PH_KUBO_FLAG_FALSE);
  g_assert_cmpint (settings->relay_service, ==, PH_KUBO_FLAG_FALSE);
  g_assert_cmpstr (settings->autonat_service_mode, ==, "disabled");
  g_assert_cmpstr (settings->routing_type, ==, "dhtclient");
  g_assert_cmpuint (settings->n_authorizations, ==, 2);

  ph_kubo_settings_get_swarm_ports (settings, &ports);
  g_assert_cmpuint (ports.tcp4, ==, 4002);
  g_assert_cmpuint (ports.tcp6, ==, 4003);
  g_assert_cmpuint (ports.udp4, ==, 4002);
  g_assert_cmpuint (ports.udp6, ==, 0);
  g_assert_cmpuint (ph_kubo_swarm_ports_primary (&ports), ==, 4002);
}

static PhKuboSettings *
settings_from_text (const char *text, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) parse_error = NULL;

  json_parser_load_from_data (parser, text, -1, &parse_error);
  g_assert_no_error (parse_error);
  return ph_kubo_settings_new_from_json (json_parser_get_root (parser), error);
}

static void
test_settings_types (void)
{
  const char *bad[] = {
    "[]",
    "{\"Addresses\": {\"Swarm\": \"/ip4/0.0.0.0/tcp/4001\", \"API\": 5001}}",
    "{\"Addresses\": {\"Swarm\": [\"/ip4/0.0.0.0/tcp/4001\", 4001]}}",
    "{\"Addresses\": {\"AppendAnnounce\": {}}}",
    "{\"Swarm\": {\"DisableNatPortMap\": \"yes\"}}",
    "{\"Swarm\": {\"RelayClient\": {\"Enabled\": 1}}}",
    "{\"Routing\": {\"Type\": true}}",
  };
  g_autoptr (PhKuboSettings) sparse = NULL;
  g_autoptr (PhKuboSettings) random = NULL;
  g_autoptr (GError) error = NULL;
  PhKuboSwarmPorts ports;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) bad_error = NULL;

      g_test_message ("%s", bad[i]);
      g_assert_null (settings_from_text (bad[i], &bad_error));
      g_assert_error (bad_error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
    }

  /* Absent keys take kubo's defaults; Go matches member names ignoring case; nulls are unset. */
  sparse = settings_from_text ("{\"addresses\": {\"swarm\": null}, \"Swarm\": {\"RelayClient\": "
                               "{\"Enabled\": null}, \"EnableHolePunching\": false}, \"Routing\": "
                               "{\"Type\": \"\"}}",
                               &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (sparse->swarm), ==, 0);
  g_assert_cmpuint (g_strv_length (sparse->api), ==, 0);
  g_assert_cmpint (sparse->relay_client, ==, PH_KUBO_FLAG_DEFAULT);
  g_assert_cmpint (sparse->hole_punching, ==, PH_KUBO_FLAG_FALSE);
  g_assert_null (sparse->routing_type);
  ph_kubo_settings_get_swarm_ports (sparse, &ports);
  g_assert_cmpuint (ph_kubo_swarm_ports_primary (&ports), ==, 0);

  random = settings_from_text ("{\"Addresses\": {\"Swarm\": [\"/ip4/0.0.0.0/tcp/0\", "
                               "\"garbage\", \"/ip6/::/udp/0/quic-v1\"]}}",
                               &error);
  g_assert_no_error (error);
  ph_kubo_settings_get_swarm_ports (random, &ports);
  g_assert_true (ports.tcp_random);
  g_assert_cmpuint (ports.tcp4, ==, 0);
  g_assert_cmpuint (ports.udp6, ==, 0);
}

static void
test_auth_header (void)
{
  static const struct
  {
    const char *secret;
    const char *header;
  } cases[] = {
    /* kubo:config/api.go ConvertAuthSecret and docs/config.md §API.Authorizations: AuthSecret */
    { "bearer:secret-token123", "Bearer secret-token123" },
    { "secret-token123", "Bearer secret-token123" },
    { "basic:alice:password123", "Basic YWxpY2U6cGFzc3dvcmQxMjM=" },
    { "basic:YWxpY2U6cGFzc3dvcmQxMjM=", "Basic YWxpY2U6cGFzc3dvcmQxMjM=" },
    { "digest:whatever", NULL },
    { "bearer:a\r\nX-Injected: 1", NULL },
    { "", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *header = ph_kubo_auth_secret_to_header (cases[i].secret);

      g_assert_cmpstr (header, ==, cases[i].header);
    }
}

/* ---- the repository ---- */

static void
test_repo_default_path (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("IPFS_PATH"));
  g_autofree char *home_ipfs = g_build_filename (g_get_home_dir (), ".ipfs", NULL);
  g_autofree char *home_sub = g_build_filename (g_get_home_dir (), "nodes", "a", NULL);
  char *path;

  g_unsetenv ("IPFS_PATH");
  path = ph_kubo_repo_default_path ();
  g_assert_cmpstr (path, ==, home_ipfs);
  g_free (path);

  g_setenv ("IPFS_PATH", "/srv/ipfs", TRUE);
  path = ph_kubo_repo_default_path ();
  g_assert_cmpstr (path, ==, "/srv/ipfs");
  g_free (path);

  g_setenv ("IPFS_PATH", "~/nodes/a", TRUE);
  path = ph_kubo_repo_default_path ();
  g_assert_cmpstr (path, ==, home_sub);
  g_free (path);

  g_setenv ("IPFS_PATH", "", TRUE);
  path = ph_kubo_repo_default_path ();
  g_assert_cmpstr (path, ==, home_ipfs);
  g_free (path);

  if (saved != NULL)
    g_setenv ("IPFS_PATH", saved, TRUE);
  else
    g_unsetenv ("IPFS_PATH");
}

static void
test_repo_open (void)
{
  g_autoptr (RepoDir) dir = make_repo ("config-exposed-rsa.json", "/ip4/127.0.0.1/tcp/5001\n");
  g_autofree char *saved = g_strdup (g_getenv ("IPFS_PATH"));
  g_autoptr (PhKuboRepo) repo = NULL;
  g_autoptr (PhKuboRepo) by_env = NULL;
  g_autoptr (GError) error = NULL;

  repo = ph_kubo_repo_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (repo->path, ==, dir);
  g_assert_cmpstr (repo->peer_id, ==, RSA_PEER_ID);
  /* kubo:repo/fsrepo/fsrepo.go APIAddr trims whitespace */
  g_assert_cmpstr (repo->api_address, ==, "/ip4/127.0.0.1/tcp/5001");
  g_assert_false (repo->config_shared);
  g_assert_true (repo->settings->disable_nat_port_map);
  /* Of the two users, the one whose AllowedPaths cover our calls ("/api/v0"). */
  g_assert_cmpstr (repo->authorization, ==, BEARER);

  /* The default path is $IPFS_PATH. */
  g_setenv ("IPFS_PATH", dir, TRUE);
  by_env = ph_kubo_repo_open (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (by_env->path, ==, dir);
  if (saved != NULL)
    g_setenv ("IPFS_PATH", saved, TRUE);
  else
    g_unsetenv ("IPFS_PATH");

  /* Without an api file the daemon is not running; with a group-readable config, say so. */
  {
    g_autofree char *api = g_build_filename (dir, "api", NULL);
    g_autofree char *config = g_build_filename (dir, "config", NULL);
    g_autoptr (PhKuboRepo) stopped = NULL;

    g_assert_cmpint (g_unlink (api), ==, 0);
    g_assert_cmpint (g_chmod (config, 0644), ==, 0);
    stopped = ph_kubo_repo_open (dir, &error);
    g_assert_no_error (error);
    g_assert_null (stopped->api_address);
    g_assert_true (stopped->config_shared);
  }
}

static void
test_repo_async (void)
{
  g_autoptr (RepoDir) dir = make_repo ("config-ed25519.json", NULL);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (PhKuboRepo) repo = NULL;
  g_autoptr (GError) error = NULL;

  ph_kubo_repo_open_async (dir, NULL, store_result, &result);
  repo = ph_kubo_repo_open_finish (wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (repo->peer_id, ==, ED25519_PEER_ID);
  g_assert_null (repo->authorization);
}

static void
test_repo_missing (void)
{
  g_autoptr (RepoDir) empty = make_repo (NULL, NULL);
  g_autofree char *nowhere = g_build_filename (empty, "no-such-repo", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (PhKuboRepo) repo = NULL;

  repo = ph_kubo_repo_open (nowhere, &error);
  g_assert_null (repo);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_NO_NODE);
  g_clear_error (&error);

  /* A directory without a config is no repository either. */
  repo = ph_kubo_repo_open (empty, &error);
  g_assert_null (repo);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_NO_NODE);
}

static void
test_repo_bounds (void)
{
  g_autoptr (RepoDir) dir = make_repo (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (PhKuboRepo) repo = NULL;
  g_autofree char *config_path = g_build_filename (dir, "config", NULL);
  g_autofree char *api_path = g_build_filename (dir, "api", NULL);
  GString *big = g_string_new ("{\"Pad\": \"");

  /* A config over 4 MiB is refused before it is parsed. */
  while (big->len <= PH_KUBO_MAX_CONFIG_SIZE)
    g_string_append (big, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  g_string_append (big, "\"}");
  write_file (dir, "config", big->str, 0600);
  g_string_free (big, TRUE);
  repo = ph_kubo_repo_open (dir, &error);
  g_assert_null (repo);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_null (ph_kubo_repo_load_identity (dir, &error));
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* Deep nesting stops before json-glib's recursion does. */
  {
    g_autofree char *open = g_strnfill (200000, '[');
    g_autofree char *close = g_strnfill (200000, ']');
    g_autofree char *deep = g_strconcat ("{\"A\": ", open, close, "}", NULL);

    write_file (dir, "config", deep, 0600);
    repo = ph_kubo_repo_open (dir, &error);
    g_assert_null (repo);
    g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
    g_clear_error (&error);
  }

  /* Not JSON. */
  write_file (dir, "config", "{\"Identity\": {\"PeerID\": ", 0600);
  repo = ph_kubo_repo_open (dir, &error);
  g_assert_null (repo);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
  g_clear_error (&error);

  /* kubo refuses an api file of 2048 bytes or more (fsrepo.go APIAddr); so do we. */
  {
    g_autofree char *long_api = g_strnfill (PH_KUBO_MAX_API_FILE_SIZE, ' ');

    write_file (dir, "config", "{}", 0600);
    write_file (dir, "api", long_api, 0644);
    repo = ph_kubo_repo_open (dir, &error);
    g_assert_null (repo);
    g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_TOO_LARGE);
    g_clear_error (&error);
    long_api[PH_KUBO_MAX_API_FILE_SIZE - 1] = '\0';
    memcpy (long_api, "/ip4/127.0.0.1/tcp/5001", strlen ("/ip4/127.0.0.1/tcp/5001"));
    write_file (dir, "api", long_api, 0644);
    repo = ph_kubo_repo_open (dir, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (repo->api_address, ==, "/ip4/127.0.0.1/tcp/5001");
    g_clear_pointer (&repo, ph_kubo_repo_free);
  }

  /* A FIFO planted as the config is refused at once, not read forever. */
  g_unlink (api_path);
  g_unlink (config_path);
  g_assert_cmpint (mkfifo (config_path, 0600), ==, 0);
  repo = ph_kubo_repo_open (dir, &error);
  g_assert_null (repo);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_IO);
}

/* ---- the identity key ---- */

static void
check_identity (const char *config_fixture, const char *vector, const char *peer_id, PhKeyType type)
{
  g_autoptr (RepoDir) dir = make_repo (config_fixture, NULL);
  g_autoptr (GKeyFile) vectors = vector_file ("peer-ids-spec.ini");
  g_autofree char *private_hex = g_key_file_get_string (vectors, vector, "private", NULL);
  g_autoptr (GBytes) expected = vector_hex (private_hex);
  g_autoptr (PhKuboIdentity) identity = NULL;
  g_autoptr (PhPrivateKey) key = NULL;
  g_autoptr (GError) error = NULL;
  const guint8 *data;
  gsize len;

  identity = ph_kubo_repo_load_identity (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (identity->peer_id, ==, peer_id);
  g_assert_cmpint (identity->key_type, ==, type);
  g_assert_true (g_bytes_equal (identity->private_key, expected));

  /* The bytes are what the probe needs: a PrivateKey protobuf our keys module reads. */
  data = g_bytes_get_data (identity->private_key, &len);
  key = ph_private_key_unmarshal (data, len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ph_private_key_get_key_type (key), ==, type);
}

static void
test_identity_ed25519 (void)
{
  check_identity ("config-ed25519.json", "ed25519", ED25519_PEER_ID, PH_KEY_TYPE_ED25519);
}

static void
test_identity_rsa (void)
{
  check_identity ("config-exposed-rsa.json", "rsa", RSA_PEER_ID, PH_KEY_TYPE_RSA);
}

static void
write_config_with_identity (const char *dir, const char *peer_id, const char *priv_key)
{
  g_autoptr (JsonNode) config = fixture ("config-ed25519.json");
  JsonObject *identity = json_object_get_object_member (json_node_get_object (config), "Identity");
  g_autofree char *text = NULL;

  if (peer_id != NULL)
    json_object_set_string_member (identity, "PeerID", peer_id);
  else
    json_object_remove_member (identity, "PeerID");
  if (priv_key != NULL)
    json_object_set_string_member (identity, "PrivKey", priv_key);
  else
    json_object_remove_member (identity, "PrivKey");
  text = json_to_string (config, TRUE);
  write_file (dir, "config", text, 0600);
}

static void
test_identity_errors (void)
{
  g_autoptr (RepoDir) dir = make_repo (NULL, NULL);
  g_autoptr (JsonNode) ed = fixture ("config-ed25519.json");
  const char *ed_key = json_object_get_string_member (
      json_object_get_object_member (json_node_get_object (ed), "Identity"), "PrivKey");
  g_autoptr (GError) error = NULL;
  g_autoptr (PhKuboIdentity) identity = NULL;

  /* The key is not the key of the PeerID written beside it. */
  write_config_with_identity (dir, RSA_PEER_ID, ed_key);
  g_assert_null (ph_kubo_repo_load_identity (dir, &error));
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_IDENTITY_MISMATCH);
  g_clear_error (&error);

  /* No PeerID: the key alone says who the node is. */
  write_config_with_identity (dir, NULL, ed_key);
  identity = ph_kubo_repo_load_identity (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (identity->peer_id, ==, ED25519_PEER_ID);

  write_config_with_identity (dir, ED25519_PEER_ID, NULL);
  g_assert_null (ph_kubo_repo_load_identity (dir, &error));
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_NO_IDENTITY);
  g_clear_error (&error);

  /* Not base64 (Go's StdEncoding: padded, standard alphabet). */
  write_config_with_identity (dir, ED25519_PEER_ID, "CAESQH4IMGF8Sn3o*SXfsmlF");
  g_assert_null (ph_kubo_repo_load_identity (dir, &error));
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
  g_clear_error (&error);
  write_config_with_identity (dir, ED25519_PEER_ID, "CAESQH4IMGF8Sn3oOSXfsmlFVrE");
  g_assert_null (ph_kubo_repo_load_identity (dir, &error));
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
  g_clear_error (&error);

  /* base64 of something that is not a PrivateKey protobuf. */
  write_config_with_identity (dir, ED25519_PEER_ID, "AAAAAAAA");
  g_assert_null (ph_kubo_repo_load_identity (dir, &error));
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
  g_clear_error (&error);

  /* A PeerID that is no peer ID. */
  write_config_with_identity (dir, "not-a-peer-id", ed_key);
  g_assert_null (ph_kubo_repo_load_identity (dir, &error));
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
  g_clear_error (&error);

  /* No repository. */
  {
    g_autofree char *nowhere = g_build_filename (dir, "nothing", NULL);

    g_assert_null (ph_kubo_repo_load_identity (nowhere, &error));
    g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_NO_NODE);
  }
}

/* ---- the client ---- */

static void
test_client_loopback_only (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhKuboClient) client = NULL;
  g_autoptr (RepoDir) dir = make_repo ("config-ed25519.json", "/ip4/192.0.2.7/tcp/5001");
  g_autoptr (PhKuboRepo) repo = NULL;

  client = ph_kubo_client_new ("/ip4/192.168.1.5/tcp/5001", NULL, &error);
  g_assert_null (client);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_NOT_LOOPBACK);
  g_clear_error (&error);
  client = ph_kubo_client_new ("/dns4/node.example.org/tcp/5001", NULL, &error);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_NOT_LOOPBACK);
  g_clear_error (&error);
  client = ph_kubo_client_new ("/ip4/127.0.0.1/udp/5001", NULL, &error);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
  g_clear_error (&error);

  client = ph_kubo_client_new ("/ip4/0.0.0.0/tcp/5001", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ph_kubo_client_get_endpoint (client), ==, "http://127.0.0.1:5001");
  g_clear_object (&client);
  client = ph_kubo_client_new ("/ip6/::/tcp/5001", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ph_kubo_client_get_endpoint (client), ==, "http://[::1]:5001");
  g_clear_object (&client);
  client = ph_kubo_client_new ("/dns4/localhost/tcp/5001/https", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ph_kubo_client_get_endpoint (client), ==, "https://localhost:5001");
  g_clear_object (&client);
  client = ph_kubo_client_new ("/unix/run/ipfs.sock", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ph_kubo_client_get_endpoint (client), ==, "unix:/run/ipfs.sock");
  g_clear_object (&client);

  /* An api file pointing away from this machine, which the user's config does not list. */
  repo = ph_kubo_repo_open (dir, &error);
  g_assert_no_error (error);
  client = ph_kubo_client_new_for_repo (repo, &error);
  g_assert_null (client);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_NOT_LOOPBACK);
  g_clear_error (&error);

  /* The user set Addresses.API to it: then it is theirs to use. */
  g_strfreev (repo->settings->api);
  repo->settings->api = g_strsplit ("/ip4/192.0.2.7/tcp/5001", ",", -1);
  client = ph_kubo_client_new_for_repo (repo, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ph_kubo_client_get_endpoint (client), ==, "http://192.0.2.7:5001");
  g_clear_object (&client);

  /* No api file: where the config says the API listens; no repository: the default. */
  g_clear_pointer (&repo->api_address, g_free);
  g_strfreev (repo->settings->api);
  repo->settings->api = g_strsplit ("/ip4/127.0.0.1/tcp/5002", ",", -1);
  client = ph_kubo_client_new_for_repo (repo, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ph_kubo_client_get_endpoint (client), ==, "http://127.0.0.1:5002");
  g_clear_object (&client);
  client = ph_kubo_client_new_for_repo (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ph_kubo_client_get_endpoint (client), ==, "http://127.0.0.1:5001");
}

static void
test_rpc_version (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-ed25519.json", NULL);
  g_autoptr (PhKuboClient) client = client_for (kubo->address, NULL);
  g_autoptr (PhKuboVersion) version = NULL;
  g_autoptr (GError) error = NULL;

  version = call_version (client, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (version->version, ==, "0.43.0");
  g_assert_cmpstr (version->repo, ==, "18");
  g_assert_cmpstr (version->system, ==, "amd64/linux");
  g_assert_cmpuint (version->minor, ==, 43);
  g_assert_cmpint (ph_kubo_version_compare (version, 0, 40), >, 0);
  g_assert_cmpint (ph_kubo_version_compare (version, 0, 43), ==, 0);
  g_assert_cmpint (ph_kubo_version_compare (version, 1, 0), <, 0);
  g_assert_true (kubo_saw (kubo, "POST /api/v0/version"));
  /* Our User-Agent must not look like kubo's own CLI, or kubo compares versions. */
}

static void
test_rpc_id (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-ed25519.json", NULL);
  g_autoptr (PhKuboClient) client = client_for (kubo->address, NULL);
  g_autoptr (PhKuboId) id = NULL;
  g_autoptr (GError) error = NULL;

  id = call_id (client, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id->id, ==, ED25519_PEER_ID);
  g_assert_cmpstr (id->agent_version, ==, "kubo/0.43.0/");
  g_assert_cmpuint (g_strv_length (id->addresses), ==, 4);
  g_assert_true (
      g_strv_contains ((const char *const *) id->protocols, "/libp2p/autonat/2/dial-request"));
  g_assert_true (g_str_has_suffix (id->addresses[0], "/p2p/" ED25519_PEER_ID));

  /* Valid JSON of another shape is refused, not half-read. */
  kubo_set_fault (kubo, "/api/v0/id", FAULT_WRONG_SHAPE);
  g_clear_pointer (&id, ph_kubo_id_free);
  id = call_id (client, &error);
  g_assert_null (id);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
}

static void
test_rpc_autonat (void)
{
  g_autoptr (Kubo) kubo
      = kubo_new ("version-0.43.0.json", "config-ed25519.json", "autonat-0.43-public.json");
  g_autoptr (PhKuboClient) client = client_for (kubo->address, NULL);
  g_autoptr (PhKuboAutonat) autonat = NULL;
  g_autoptr (GError) error = NULL;

  autonat = call_autonat (client, &error);
  g_assert_no_error (error);
  g_assert_cmpint (autonat->reachability, ==, PH_KUBO_REACHABILITY_PUBLIC);
  g_assert_null (autonat->nat);
  g_assert_cmpuint (g_strv_length (autonat->reachable), ==, 2);
  g_assert_cmpuint (g_strv_length (autonat->unreachable), ==, 1);
  g_assert_cmpuint (g_strv_length (autonat->unknown), ==, 1);
  g_assert_cmpint (ph_kubo_autonat_get_tcp_reachability (autonat, G_SOCKET_FAMILY_IPV4), ==,
                   PH_KUBO_REACHABILITY_PUBLIC);
  g_assert_cmpint (ph_kubo_autonat_get_tcp_reachability (autonat, G_SOCKET_FAMILY_IPV6), ==,
                   PH_KUBO_REACHABILITY_PRIVATE);
  g_assert_true (kubo_saw (kubo, "POST /api/v0/swarm/addrs/autonat"));

  /* 0.43's nat field; omitted lists are empty lists. */
  json_node_unref (kubo->autonat);
  kubo->autonat = fixture ("autonat-0.43-cgnat.json");
  g_clear_pointer (&autonat, ph_kubo_autonat_free);
  autonat = call_autonat (client, &error);
  g_assert_no_error (error);
  g_assert_cmpint (autonat->reachability, ==, PH_KUBO_REACHABILITY_PRIVATE);
  g_assert_cmpstr (autonat->nat, ==, "cgnat");
  g_assert_cmpuint (g_strv_length (autonat->reachable), ==, 0);
  g_assert_cmpint (ph_kubo_autonat_get_tcp_reachability (autonat, G_SOCKET_FAMILY_IPV4), ==,
                   PH_KUBO_REACHABILITY_PRIVATE);

  json_node_unref (kubo->autonat);
  kubo->autonat = fixture ("autonat-0.40-unknown.json");
  g_clear_pointer (&autonat, ph_kubo_autonat_free);
  autonat = call_autonat (client, &error);
  g_assert_no_error (error);
  g_assert_cmpint (autonat->reachability, ==, PH_KUBO_REACHABILITY_UNKNOWN);
  g_assert_cmpint (ph_kubo_autonat_get_tcp_reachability (autonat, G_SOCKET_FAMILY_IPV4), ==,
                   PH_KUBO_REACHABILITY_UNKNOWN);
}

static void
test_rpc_autonat_old_kubo (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.39.0.json", "config-ed25519.json", NULL);
  g_autoptr (PhKuboClient) client = client_for (kubo->address, NULL);
  g_autoptr (PhKuboAutonat) autonat = NULL;
  g_autoptr (GError) error = NULL;

  /* What kubo < 0.40 really answers: its plain `swarm addrs`. */
  autonat = call_autonat (client, &error);
  g_assert_null (autonat);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* And a build that answers 404 for it. */
  kubo_set_fault (kubo, "/api/v0/swarm/addrs/autonat", FAULT_404);
  autonat = call_autonat (client, &error);
  g_assert_null (autonat);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* An offline daemon: kubo's ErrNotOnline as a command error. */
  kubo_set_fault (kubo, "/api/v0/swarm/addrs/autonat", FAULT_500_JSON);
  autonat = call_autonat (client, &error);
  g_assert_null (autonat);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_COMMAND);
  g_assert_nonnull (strstr (error->message, "must be run in online mode"));
}

static void
test_rpc_config (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-exposed-rsa.json", NULL);
  g_autoptr (PhKuboClient) client = client_for (kubo->address, BEARER);
  g_autoptr (JsonNode) shown = NULL;
  g_autoptr (JsonNode) value = NULL;
  g_autoptr (PhKuboSettings) settings = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *shown_text = NULL;

  kubo->required_auth = g_strdup (BEARER);
  shown = call_config_show (client, &error);
  g_assert_no_error (error);
  settings = ph_kubo_settings_new_from_json (shown, &error);
  g_assert_no_error (error);
  g_assert_true (settings->disable_nat_port_map);
  g_assert_cmpstr (settings->routing_type, ==, "dhtclient");
  /* kubo scrubbed the secrets: the settings say none, the text holds none. */
  g_assert_cmpuint (settings->n_authorizations, ==, 0);
  shown_text = json_to_string (shown, FALSE);
  g_assert_null (strstr (shown_text, "PrivKey"));
  g_assert_null (strstr (shown_text, "s3cret"));

  value = call_config_get (client, "Swarm.DisableNatPortMap", &error);
  g_assert_no_error (error);
  g_assert_true (json_node_get_boolean (value));
  g_assert_true (kubo_saw (kubo, "POST /api/v0/config?arg=Swarm.DisableNatPortMap"));
  g_clear_pointer (&value, json_node_unref);

  value = call_config_get (client, "Addresses.Swarm", &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (value));
  g_clear_pointer (&value, json_node_unref);

  /* A key that is not in the file: kubo's 500 with its message. */
  value = call_config_get (client, "Swarm.NoSuchThing", &error);
  g_assert_null (value);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_COMMAND);
  g_assert_nonnull (strstr (error->message, "failed to get config value"));
  g_clear_error (&error);

  /* kubo never shows the key. */
  value = call_config_get (client, "Identity.PrivKey", &error);
  g_assert_null (value);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_COMMAND);
}

static void
test_rpc_post_only (void)
{
  g_autoptr (Kubo) kubo
      = kubo_new ("version-0.43.0.json", "config-ed25519.json", "autonat-0.43-public.json");
  g_autoptr (PhKuboClient) client = client_for (kubo->address, NULL);
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) get = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/api/v0/id", kubo->port);
  g_autoptr (PhKuboVersion) version = NULL;
  g_autoptr (PhKuboId) id = NULL;
  g_autoptr (PhKuboAutonat) autonat = NULL;
  g_autoptr (JsonNode) config = NULL;

  /* The server is as strict as kubo: GET is refused with 405. */
  get = soup_message_new ("GET", url);
  {
    g_autoptr (GAsyncResult) result = NULL;

    /* Asynchronous: the server answers on this thread's main context. */
    soup_session_send_and_read_async (session, get, G_PRIORITY_DEFAULT, NULL, store_result,
                                      &result);
    body = soup_session_send_and_read_finish (session, wait_result (&result), &error);
  }
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (get), ==, SOUP_STATUS_METHOD_NOT_ALLOWED);
  g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (get), "Allow"),
                   ==, "OPTIONS, POST");
  g_ptr_array_set_size (kubo->requests, 0);

  version = call_version (client, &error);
  g_assert_no_error (error);
  id = call_id (client, &error);
  g_assert_no_error (error);
  autonat = call_autonat (client, &error);
  g_assert_no_error (error);
  config = call_config_show (client, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kubo->requests->len, ==, 4);
  for (guint i = 0; i < kubo->requests->len; i++)
    g_assert_true (g_str_has_prefix (g_ptr_array_index (kubo->requests, i), "POST /api/v0/"));
  g_clear_pointer (&config, json_node_unref);

  /* Something that answers 405 anyway (a proxy in front) is an HTTP error naming the status. */
  kubo_set_fault (kubo, "/api/v0/id", FAULT_405);
  g_clear_pointer (&id, ph_kubo_id_free);
  id = call_id (client, &error);
  g_assert_null (id);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_HTTP);
  g_assert_nonnull (strstr (error->message, "405"));
  g_clear_error (&error);

  /* Redirects are not followed (they could carry an Authorization secret elsewhere). */
  kubo_set_fault (kubo, "/api/v0/id", FAULT_REDIRECT);
  g_ptr_array_set_size (kubo->requests, 0);
  id = call_id (client, &error);
  g_assert_null (id);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_HTTP);
  g_assert_nonnull (strstr (error->message, "307"));
  g_assert_cmpuint (kubo->requests->len, ==, 1);
  g_clear_error (&error);

  /* An unknown route is kubo's 404. */
  config = call (client, "no/such/command", NULL, &error);
  g_assert_null (config);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_UNSUPPORTED);
}

static void
test_rpc_refused (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-exposed-rsa.json", NULL);
  g_autoptr (PhKuboClient) anonymous = client_for (kubo->address, NULL);
  g_autoptr (PhKuboClient) wrong = client_for (kubo->address, "Bearer nope");
  g_autoptr (PhKuboClient) right = client_for (kubo->address, BEARER);
  g_autoptr (PhKuboVersion) version = NULL;
  g_autoptr (PhKuboId) id = NULL;
  g_autoptr (GError) error = NULL;

  kubo->required_auth = g_strdup (BEARER);
  version = call_version (anonymous, &error);
  g_assert_null (version);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "403"));
  g_assert_nonnull (strstr (error->message, "Access Denied"));
  g_clear_error (&error);

  id = call_id (wrong, &error);
  g_assert_null (id);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_REFUSED);
  g_clear_error (&error);

  id = call_id (right, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_ptr_array_index (kubo->auth_seen, kubo->auth_seen->len - 1), ==, BEARER);
  /* The secret is a header, never in the URL. */
  for (guint i = 0; i < kubo->requests->len; i++)
    g_assert_null (strstr (g_ptr_array_index (kubo->requests, i), "s3cret"));
}

static void
test_rpc_server_errors (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-ed25519.json", NULL);
  g_autoptr (PhKuboClient) client = client_for (kubo->address, NULL);
  g_autoptr (PhKuboId) id = NULL;
  g_autoptr (GError) error = NULL;

  kubo_set_fault (kubo, "/api/v0/id", FAULT_500_JSON);
  id = call_id (client, &error);
  g_assert_null (id);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_COMMAND);
  g_clear_error (&error);

  /* A 500 that is not a kubo error object; control bytes do not reach the message. */
  kubo_set_fault (kubo, "/api/v0/id", FAULT_500_TEXT);
  id = call_id (client, &error);
  g_assert_null (id);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_HTTP);
  g_assert_nonnull (strstr (error->message, "500"));
  g_assert_null (strchr (error->message, '\x01'));
  g_clear_error (&error);

  kubo_set_fault (kubo, "/api/v0/id", FAULT_MALFORMED);
  id = call_id (client, &error);
  g_assert_null (id);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
  g_clear_error (&error);

  kubo_set_fault (kubo, "/api/v0/id", FAULT_EMPTY);
  id = call_id (client, &error);
  g_assert_null (id);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
  g_clear_error (&error);

  kubo_set_fault (kubo, "/api/v0/id", FAULT_DEEP);
  id = call_id (client, &error);
  g_assert_null (id);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
  g_clear_error (&error);

  /* The same connection still serves a good answer after all that. */
  kubo_set_fault (kubo, NULL, FAULT_NONE);
  id = call_id (client, &error);
  g_assert_no_error (error);
}

static void
test_rpc_huge (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-ed25519.json", NULL);
  g_autoptr (PhKuboClient) client = client_for (kubo->address, NULL);
  g_autoptr (JsonNode) answer = NULL;
  g_autoptr (GError) error = NULL;

  /* Announced by Content-Length: refused before reading. */
  kubo_set_fault (kubo, "/api/v0/config/show", FAULT_HUGE);
  answer = call_config_show (client, &error);
  g_assert_null (answer);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* Chunked, with no length: reading stops at the bound. */
  kubo_set_fault (kubo, "/api/v0/config/show", FAULT_HUGE_CHUNKED);
  answer = call_config_show (client, &error);
  g_assert_null (answer);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_TOO_LARGE);
}

static void
test_rpc_not_running (void)
{
  g_autofree char *address = closed_port_address ();
  g_autoptr (PhKuboClient) client = client_for (address, NULL);
  g_autoptr (PhKuboVersion) version = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  version = call_version (client, &error);
  g_assert_null (version);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_NOT_RUNNING);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
}

static void
test_rpc_hang (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-ed25519.json", NULL);
  g_autoptr (PhKuboClient) client = client_for (kubo->address, NULL);
  g_autoptr (PhKuboId) id = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start;
  gint64 elapsed;

  /* The daemon accepts the request and then stops answering. */
  kubo_set_fault (kubo, "/api/v0/id", FAULT_HANG);
  ph_kubo_client_set_timeout (client, 300);
  start = g_get_monotonic_time ();
  id = call_id (client, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_null (id);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_TIMED_OUT);
  g_assert_cmpint (elapsed, >=, 250 * 1000);
  g_assert_cmpint (elapsed, <, 2 * G_USEC_PER_SEC);
  g_assert_cmpuint (kubo->paused->len, ==, 1);
}

static void
test_rpc_cancel (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-ed25519.json", NULL);
  g_autoptr (PhKuboClient) client = client_for (kubo->address, NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (PhKuboId) id = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  kubo_set_fault (kubo, "/api/v0/id", FAULT_HANG);
  ph_kubo_client_id_async (client, cancellable, store_result, &result);
  spin (50);
  g_cancellable_cancel (cancellable);
  id = ph_kubo_client_id_finish (client, wait_result (&result), &error);
  g_assert_null (id);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
}

static void
test_rpc_daemon_stops (void)
{
  g_autoptr (Raw) before = raw_new (RAW_CLOSE_AT_ONCE);
  g_autoptr (Raw) midway = raw_new (RAW_CLOSE_MID_BODY);
  g_autoptr (PhKuboClient) client_before = client_for (before->address, NULL);
  g_autoptr (PhKuboClient) client_midway = client_for (midway->address, NULL);
  g_autoptr (PhKuboId) id = NULL;
  g_autoptr (GError) error = NULL;

  /* The connection closes before any answer. */
  id = call_id (client_before, &error);
  g_assert_null (id);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_CLOSED);
  g_clear_error (&error);

  /* The daemon dies halfway through its answer. */
  id = call_id (client_midway, &error);
  g_assert_null (id);
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_CLOSED);
}

static void
test_rpc_unix_socket (void)
{
  g_autoptr (RepoDir) dir = make_repo (NULL, NULL);
  g_autofree char *path = g_build_filename (dir, "sock", NULL);
  g_autofree char *address = g_strconcat ("/unix", path, NULL);
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-ed25519.json", NULL);
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketAddress) socket_address = g_unix_socket_address_new (path);
  g_autoptr (PhKuboClient) client = NULL;
  g_autoptr (PhKuboVersion) version = NULL;
  g_autoptr (GError) error = NULL;

  /* kubo serves the API on a unix socket when Addresses.API says /unix/… (docs/config.md). */
  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                         &error);
  g_assert_no_error (error);
  g_socket_bind (socket, socket_address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (socket, &error);
  g_assert_no_error (error);
  soup_server_listen_socket (kubo->server, socket, 0, &error);
  g_assert_no_error (error);

  client = client_for (address, NULL);
  version = call_version (client, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (version->version, ==, "0.43.0");
}

/* ---- the node ---- */

static void
test_node_running (void)
{
  g_autoptr (Kubo) kubo
      = kubo_new ("version-0.43.0.json", "config-ed25519.json", "autonat-0.43-public.json");
  g_autoptr (RepoDir) dir = make_repo ("config-ed25519.json", kubo->address);
  g_autoptr (PhKuboNode) node = read_node (dir, NULL, 0);
  g_autoptr (JsonNode) json = NULL;
  g_autofree char *text = NULL;
  g_autofree char *endpoint = g_strdup_printf ("http://127.0.0.1:%u", kubo->port);
  JsonObject *object;
  JsonObject *reachability;
  JsonObject *settings;

  g_assert_cmpint (node->state, ==, PH_KUBO_STATE_RUNNING);
  g_assert_null (node->error);
  g_assert_true (ph_kubo_node_is_found (node));
  g_assert_true (ph_kubo_node_is_running (node));
  g_assert_cmpstr (ph_kubo_node_get_peer_id (node), ==, ED25519_PEER_ID);
  g_assert_false (ph_kubo_node_is_other_node (node));
  g_assert_cmpint (node->settings_source, ==, PH_KUBO_SETTINGS_RPC);
  g_assert_cmpuint (node->swarm_port, ==, 4001);
  g_assert_nonnull (node->autonat);
  g_assert_cmpint (ph_kubo_node_own_reachability (node), ==, PH_KUBO_FACT_YES);
  g_assert_cmpuint (node->warnings->len, ==, 0);
  g_assert_cmpuint (node->suggestions->len, ==, 0); /* kubo's defaults already serve */
  g_assert_true (kubo_saw (kubo, "POST /api/v0/version"));
  g_assert_true (kubo_saw (kubo, "POST /api/v0/id"));
  g_assert_true (kubo_saw (kubo, "POST /api/v0/config/show"));
  g_assert_true (kubo_saw (kubo, "POST /api/v0/swarm/addrs/autonat"));

  /* The `node` object of porthole --check --json. */
  json = ph_kubo_node_to_json (node);
  object = json_object_of (json);
  g_assert_true (json_object_get_boolean_member (object, "found"));
  g_assert_true (json_object_get_boolean_member (object, "running"));
  g_assert_cmpstr (json_object_get_string_member (object, "state"), ==, "running");
  g_assert_true (json_object_get_null_member (object, "error"));
  g_assert_cmpstr (json_object_get_string_member (object, "repo"), ==, dir);
  g_assert_cmpstr (json_object_get_string_member (object, "api"), ==, endpoint);
  g_assert_cmpstr (json_object_get_string_member (object, "version"), ==, "0.43.0");
  g_assert_cmpstr (json_object_get_string_member (object, "agent_version"), ==, "kubo/0.43.0/");
  g_assert_cmpstr (json_object_get_string_member (object, "peer_id"), ==, ED25519_PEER_ID);
  g_assert_cmpint (json_object_get_int_member (object, "swarm_port"), ==, 4001);
  g_assert_cmpint (
      json_object_get_int_member (json_object_get_object_member (object, "swarm_ports"), "udp6"),
      ==, 4001);
  g_assert_cmpstr (json_object_get_string_member (object, "settings_source"), ==, "rpc");
  settings = json_object_get_object_member (object, "settings");
  g_assert_true (json_object_get_boolean_member (settings, "nat_port_map"));
  g_assert_true (json_object_get_boolean_member (settings, "relay_client"));
  g_assert_cmpstr (json_object_get_string_member (settings, "routing_type"), ==, "auto");
  g_assert_cmpstr (json_object_get_string_member (settings, "autonat_service"), ==, "enabled");
  reachability = json_object_get_object_member (object, "reachability");
  g_assert_cmpstr (json_object_get_string_member (reachability, "source"), ==, "kubo");
  g_assert_cmpstr (json_object_get_string_member (reachability, "overall"), ==, "public");
  g_assert_cmpstr (json_object_get_string_member (reachability, "ipv4_tcp"), ==, "public");
  g_assert_cmpstr (json_object_get_string_member (reachability, "ipv6_tcp"), ==, "private");
  g_assert_true (json_object_get_null_member (reachability, "nat"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "warnings")), ==,
                    0);

  /* No secret of the repository reaches the report. */
  text = json_to_string (json, FALSE);
  g_assert_null (strstr (text, "PrivKey"));
  g_assert_null (strstr (text, "CAESQH4IMGF8"));
}

static void
test_node_no_node (void)
{
  g_autoptr (RepoDir) empty = make_repo (NULL, NULL);
  g_autofree char *nowhere = g_build_filename (empty, "ipfs", NULL);
  g_autofree char *closed = closed_port_address ();
  g_autoptr (PhKuboNode) node = read_node (nowhere, closed, 0);
  g_autoptr (JsonNode) json = ph_kubo_node_to_json (node);
  JsonObject *object = json_object_of (json);

  g_assert_cmpint (node->state, ==, PH_KUBO_STATE_NO_NODE);
  g_assert_false (ph_kubo_node_is_found (node));
  g_assert_false (ph_kubo_node_is_running (node));
  g_assert_null (node->settings);
  g_assert_false (json_object_get_boolean_member (object, "found"));
  g_assert_false (json_object_get_boolean_member (object, "running"));
  g_assert_cmpstr (json_object_get_string_member (object, "state"), ==, "no-node");
  g_assert_true (json_object_get_null_member (object, "repo"));
  g_assert_true (json_object_get_null_member (object, "peer_id"));
  g_assert_true (json_object_get_null_member (object, "swarm_port"));
  g_assert_true (json_object_get_null_member (object, "settings"));
  g_assert_true (json_object_get_null_member (object, "reachability"));
}

static void
test_node_not_running (void)
{
  g_autofree char *closed = closed_port_address ();
  /* A stale api file: the daemon died without removing it. */
  g_autoptr (RepoDir) dir = make_repo ("config-exposed-rsa.json", closed);
  g_autoptr (PhKuboNode) node = read_node (dir, NULL, 0);
  g_autoptr (JsonNode) json = ph_kubo_node_to_json (node);
  JsonObject *object = json_object_of (json);

  g_assert_cmpint (node->state, ==, PH_KUBO_STATE_NOT_RUNNING);
  g_assert_nonnull (node->error);
  g_assert_true (ph_kubo_node_is_found (node));
  g_assert_false (ph_kubo_node_is_running (node));
  /* The file tells what the node will do when it runs. */
  g_assert_cmpint (node->settings_source, ==, PH_KUBO_SETTINGS_FILE);
  g_assert_cmpstr (ph_kubo_node_get_peer_id (node), ==, RSA_PEER_ID);
  g_assert_cmpuint (node->swarm_port, ==, 4002);
  g_assert_nonnull (ph_kubo_node_find_advice (node, "api-exposed"));
  g_assert_cmpstr (json_object_get_string_member (object, "state"), ==, "not-running");
  g_assert_cmpstr (json_object_get_string_member (object, "settings_source"), ==, "file");
  g_assert_cmpint (json_object_get_int_member (object, "swarm_port"), ==, 4002);
}

static void
test_node_too_old (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.10.0.json", "config-ed25519.json", NULL);
  g_autoptr (RepoDir) dir = make_repo ("config-ed25519.json", kubo->address);
  g_autoptr (PhKuboNode) node = read_node (dir, NULL, 0);

  g_assert_cmpint (node->state, ==, PH_KUBO_STATE_TOO_OLD);
  g_assert_true (ph_kubo_node_is_running (node));
  g_assert_nonnull (strstr (node->error, "0.10.0"));
  g_assert_cmpstr (node->version->version, ==, "0.10.0");
  g_assert_false (kubo_saw_path (kubo, "/api/v0/id"));
  g_assert_cmpint (node->settings_source, ==, PH_KUBO_SETTINGS_FILE);
}

static void
test_node_old_kubo (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.39.0.json", "config-ed25519.json", NULL);
  g_autoptr (RepoDir) dir = make_repo ("config-ed25519.json", kubo->address);
  g_autoptr (PhKuboNode) node = read_node (dir, NULL, 0);
  g_autoptr (JsonNode) json = ph_kubo_node_to_json (node);
  JsonObject *object = json_object_of (json);

  g_assert_cmpint (node->state, ==, PH_KUBO_STATE_RUNNING);
  g_assert_null (node->autonat);
  g_assert_nonnull (strstr (node->autonat_error, "0.40"));
  /* Not even asked: on 0.39 the path would run `swarm addrs`. */
  g_assert_false (kubo_saw_path (kubo, "/api/v0/swarm/addrs/autonat"));
  g_assert_true (json_object_get_null_member (object, "reachability"));
  g_assert_nonnull (json_object_get_string_member (object, "reachability_error"));
}

static void
test_node_exposed (void)
{
  g_autoptr (Kubo) kubo
      = kubo_new ("version-0.43.0.json", "config-exposed-rsa.json", "autonat-0.43-public.json");
  g_autoptr (RepoDir) dir = make_repo ("config-exposed-rsa.json", kubo->address);
  g_autoptr (PhKuboNode) node = NULL;
  g_autoptr (JsonNode) json = NULL;
  const PhKuboAdvice *advice;
  g_autofree char *text = NULL;

  /* The config's API.Authorizations is obeyed: the secret goes in the header. */
  kubo->required_auth = g_strdup (BEARER);
  /* id's addresses are those of another node in this fixture: make them the RSA node's. */
  json_object_set_string_member (json_node_get_object (kubo->id), "ID", RSA_PEER_ID);
  node = read_node (dir, NULL, 0);

  g_assert_cmpint (node->state, ==, PH_KUBO_STATE_RUNNING);
  g_assert_cmpint (node->settings_source, ==, PH_KUBO_SETTINGS_RPC);
  /* config/show hides API.Authorizations; the file still tells us one exists. */
  g_assert_cmpuint (node->settings->n_authorizations, ==, 2);
  g_assert_cmpuint (node->swarm_port, ==, 4002);
  for (guint i = 0; i < kubo->auth_seen->len; i++)
    g_assert_cmpstr (g_ptr_array_index (kubo->auth_seen, i), ==, BEARER);

  advice = ph_kubo_node_find_advice (node, "api-exposed");
  g_assert_nonnull (advice);
  g_assert_cmpstr (advice->key, ==, "Addresses.API");
  g_assert_nonnull (strstr (advice->message, "0.0.0.0"));
  g_assert_nonnull (strstr (advice->message, "controls the node"));
  advice = ph_kubo_node_find_advice (node, "gateway-exposed");
  g_assert_nonnull (advice);
  g_assert_nonnull (strstr (advice->message, "fetch and serve any content"));
  g_assert_nonnull (ph_kubo_node_find_advice (node, "nat-port-map-disabled"));
  g_assert_nonnull (ph_kubo_node_find_advice (node, "hole-punching-without-relay-client"));
  /* Reachable (kubo's own view): the public-node settings it opted out of. */
  g_assert_nonnull (ph_kubo_node_find_advice (node, "relay-service"));
  g_assert_nonnull (ph_kubo_node_find_advice (node, "dht-server"));
  g_assert_nonnull (ph_kubo_node_find_advice (node, "autonat-service"));
  g_assert_null (ph_kubo_node_find_advice (node, "config-readable-by-others"));

  json = ph_kubo_node_to_json (node);
  text = json_to_string (json, FALSE);
  g_assert_null (strstr (text, "s3cret"));
  g_assert_null (strstr (text, "Bearer"));
  g_assert_nonnull (strstr (text, "\"api-exposed\""));
}

static void
test_node_diagnose (void)
{
  g_autoptr (Kubo) kubo
      = kubo_new ("version-0.43.0.json", "config-exposed-rsa.json", "autonat-0.43-cgnat.json");
  g_autoptr (RepoDir) dir = make_repo ("config-exposed-rsa.json", kubo->address);
  g_autoptr (PhKuboNode) node = NULL;
  const PhKuboAdvice *advice;

  kubo->required_auth = g_strdup (BEARER);
  json_object_set_string_member (json_node_get_object (kubo->id), "ID", RSA_PEER_ID);
  node = read_node (dir, NULL, 0);
  g_assert_cmpint (ph_kubo_node_own_reachability (node), ==, PH_KUBO_FACT_NO);
  g_assert_cmpuint (node->suggestions->len, ==, 0);

  /* The router offers UPnP (our IGD facts): say that the node would not use it. */
  ph_kubo_node_diagnose (node, PH_KUBO_FACT_YES, PH_KUBO_FACT_NO);
  advice = ph_kubo_node_find_advice (node, "nat-port-map-disabled");
  g_assert_nonnull (advice);
  g_assert_nonnull (strstr (advice->message, "Your router offers"));
  g_assert_cmpuint (node->suggestions->len, ==, 0);

  /* Porthole found it reachable after all (fresh beats kubo's hours-old view). */
  ph_kubo_node_diagnose (node, PH_KUBO_FACT_NO, PH_KUBO_FACT_YES);
  advice = ph_kubo_node_find_advice (node, "nat-port-map-disabled");
  g_assert_nonnull (strstr (advice->message, "would not help"));
  g_assert_nonnull (ph_kubo_node_find_advice (node, "dht-server"));

  /* A config readable by others holds the key: say so. */
  node->config_shared = TRUE;
  ph_kubo_node_diagnose (node, PH_KUBO_FACT_UNKNOWN, PH_KUBO_FACT_UNKNOWN);
  advice = ph_kubo_node_find_advice (node, "config-readable-by-others");
  g_assert_nonnull (advice);
  g_assert_nonnull (strstr (advice->message, "chmod 600"));
  g_assert_null (ph_kubo_node_find_advice (node, "dht-server"));
}

static void
test_node_refused (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-ed25519.json", NULL);
  /* The daemon wants a secret the user's repository does not have. */
  g_autoptr (RepoDir) dir = make_repo ("config-ed25519.json", kubo->address);
  g_autoptr (PhKuboNode) node = NULL;
  g_autoptr (JsonNode) json = NULL;

  kubo->required_auth = g_strdup (BEARER);
  node = read_node (dir, NULL, 0);
  g_assert_cmpint (node->state, ==, PH_KUBO_STATE_REFUSED);
  g_assert_true (ph_kubo_node_is_running (node));
  g_assert_nonnull (strstr (node->error, "API.Authorizations"));
  g_assert_cmpint (node->settings_source, ==, PH_KUBO_SETTINGS_FILE);
  json = ph_kubo_node_to_json (node);
  g_assert_cmpstr (json_object_get_string_member (json_object_of (json), "state"), ==, "refused");
}

static void
test_node_offline (void)
{
  g_autoptr (Kubo) kubo
      = kubo_new ("version-0.43.0.json", "config-ed25519.json", "autonat-0.43-public.json");
  g_autoptr (RepoDir) dir = make_repo ("config-ed25519.json", kubo->address);
  g_autoptr (PhKuboNode) node = NULL;

  /* `ipfs daemon --offline`: id has no addresses, autonat is ErrNotOnline. */
  json_object_set_null_member (json_node_get_object (kubo->id), "Addresses");
  kubo_set_fault (kubo, "/api/v0/swarm/addrs/autonat", FAULT_500_JSON);
  node = read_node (dir, NULL, 0);
  g_assert_cmpint (node->state, ==, PH_KUBO_STATE_RUNNING);
  g_assert_null (node->autonat);
  g_assert_nonnull (strstr (node->autonat_error, "online mode"));
  g_assert_nonnull (ph_kubo_node_find_advice (node, "offline"));
}

static void
test_node_other_node (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-ed25519.json", NULL);
  /* The repository is the RSA node's; the daemon answering is the Ed25519 one. */
  g_autoptr (RepoDir) dir = make_repo ("config-exposed-rsa.json", NULL);
  g_autoptr (PhKuboNode) node = read_node (dir, kubo->address, 0);
  g_autoptr (JsonNode) json = ph_kubo_node_to_json (node);

  g_assert_cmpint (node->state, ==, PH_KUBO_STATE_RUNNING);
  g_assert_true (ph_kubo_node_is_other_node (node));
  g_assert_cmpstr (ph_kubo_node_get_peer_id (node), ==, ED25519_PEER_ID);
  g_assert_nonnull (ph_kubo_node_find_advice (node, "other-node"));
  g_assert_true (json_object_get_boolean_member (json_object_of (json), "other_node"));
}

static void
test_node_not_loopback (void)
{
  g_autoptr (RepoDir) dir = make_repo ("config-ed25519.json", "/ip4/192.0.2.7/tcp/5001");
  g_autoptr (PhKuboNode) node = read_node (dir, NULL, 0);

  /* Refused before any connection: the address is neither local nor the user's. */
  g_assert_cmpint (node->state, ==, PH_KUBO_STATE_FAILED);
  g_assert_null (node->endpoint);
  g_assert_nonnull (strstr (node->error, "loopback"));
  g_assert_cmpint (node->settings_source, ==, PH_KUBO_SETTINGS_FILE);
}

static void
test_node_stops_mid_read (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-ed25519.json", NULL);
  g_autoptr (RepoDir) dir = make_repo ("config-ed25519.json", kubo->address);
  g_autoptr (PhKuboNode) node = NULL;
  gint64 start;

  /* version answers, then id never does. */
  kubo_set_fault (kubo, "/api/v0/id", FAULT_HANG);
  start = g_get_monotonic_time ();
  node = read_node (dir, NULL, 300);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  g_assert_cmpint (node->state, ==, PH_KUBO_STATE_FAILED);
  g_assert_true (ph_kubo_node_is_running (node));
  g_assert_nonnull (strstr (node->error, "did not answer"));
  g_assert_cmpint (node->settings_source, ==, PH_KUBO_SETTINGS_FILE);
}

static void
test_node_cancel (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-ed25519.json", NULL);
  g_autoptr (RepoDir) dir = make_repo ("config-ed25519.json", kubo->address);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (PhKuboNode) node = NULL;
  g_autoptr (GError) error = NULL;
  PhKuboReadOptions options = { dir, NULL, 0 };

  kubo_set_fault (kubo, "/api/v0/id", FAULT_HANG);
  ph_kubo_node_read_async (&options, cancellable, store_result, &result);
  while (kubo->paused->len == 0)
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (cancellable);
  node = ph_kubo_node_read_finish (wait_result (&result), &error);
  g_assert_null (node);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* ---- changes ---- */

static JsonNode *
kubo_config_value (Kubo *kubo, const char *key)
{
  g_auto (GStrv) steps = g_strsplit (key, ".", -1);
  JsonNode *node = kubo->config;

  for (guint i = 0; steps[i] != NULL && node != NULL; i++)
    node = json_object_get_member (json_node_get_object (node), steps[i]);
  return node;
}

static void
test_change_nat_port_map (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-exposed-rsa.json", NULL);
  g_autoptr (PhKuboClient) client = client_for (kubo->address, BEARER);
  g_autoptr (PhKuboChange) change = ph_kubo_change_new_enable_nat_port_map ();
  g_autoptr (GError) error = NULL;
  g_autofree char *describe = ph_kubo_change_describe (change);
  g_autofree char *command = ph_kubo_change_to_command_line (change);
  g_autofree char *undo = NULL;

  kubo->required_auth = g_strdup (BEARER);
  /* Shown before it is done. */
  g_assert_nonnull (strstr (describe, "Swarm.DisableNatPortMap"));
  g_assert_cmpstr (command, ==, "ipfs config --bool Swarm.DisableNatPortMap false");
  g_assert_null (ph_kubo_change_to_undo_command_line (change));

  g_assert_true (apply_change (change, client, &error));
  g_assert_no_error (error);
  g_assert_true (change->applied);
  g_assert_true (change->changed);
  g_assert_true (json_node_get_boolean (change->old_value));
  /* Really sent, as `ipfs config --bool` sends it, and really changed. */
  g_assert_true (
      kubo_saw (kubo, "POST /api/v0/config?arg=Swarm.DisableNatPortMap&arg=false&bool=true"));
  g_assert_false (json_node_get_boolean (kubo_config_value (kubo, "Swarm.DisableNatPortMap")));
  undo = ph_kubo_change_to_undo_command_line (change);
  g_assert_cmpstr (undo, ==, "ipfs config --bool Swarm.DisableNatPortMap true");
  g_assert_nonnull (strstr (ph_kubo_restart_hint (), "restart"));

  /* Undo writes the old value back. */
  g_assert_true (revert_change (change, client, &error));
  g_assert_no_error (error);
  g_assert_true (
      kubo_saw (kubo, "POST /api/v0/config?arg=Swarm.DisableNatPortMap&arg=true&bool=true"));
  g_assert_true (json_node_get_boolean (kubo_config_value (kubo, "Swarm.DisableNatPortMap")));
  g_assert_false (change->applied);

  /* Applied again, then changed by someone else: undo leaves their value alone. */
  g_assert_true (apply_change (change, client, &error));
  json_node_set_boolean (kubo_config_value (kubo, "Swarm.DisableNatPortMap"), TRUE);
  g_assert_false (revert_change (change, client, &error));
  g_assert_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_CHANGED);
  g_clear_error (&error);

  /* Already as wanted: nothing is written, and undo has nothing to undo. */
  json_node_set_boolean (kubo_config_value (kubo, "Swarm.DisableNatPortMap"), FALSE);
  g_ptr_array_set_size (kubo->requests, 0);
  g_assert_true (apply_change (change, client, &error));
  g_assert_true (change->applied);
  g_assert_false (change->changed);
  g_assert_cmpuint (kubo->requests->len, ==, 1); /* config/show only */
  g_assert_true (revert_change (change, client, &error));
  g_assert_cmpuint (kubo->requests->len, ==, 1);
  g_assert_false (json_node_get_boolean (kubo_config_value (kubo, "Swarm.DisableNatPortMap")));
}

static void
test_change_append_announce (void)
{
  g_autoptr (Kubo) kubo = kubo_new ("version-0.43.0.json", "config-ed25519.json", NULL);
  g_autoptr (PhKuboClient) client = client_for (kubo->address, NULL);
  g_autoptr (PhKuboChange) change = NULL;
  g_autoptr (PhKuboChange) again = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *command = NULL;
  g_autofree char *undo = NULL;
  JsonArray *list;

  change = ph_kubo_change_new_append_announce ("/ip4/1.2.3.4/tcp/4001", &error);
  g_assert_no_error (error);
  command = ph_kubo_change_to_command_line (change);
  g_assert_cmpstr (command, ==,
                   "ipfs config --json Addresses.AppendAnnounce '[\"/ip4/1.2.3.4/tcp/4001\"]'");

  /* The user already announces something: ours is added beside it. */
  json_array_add_string_element (
      json_node_get_array (kubo_config_value (kubo, "Addresses.AppendAnnounce")),
      "/dns4/mine.example.net/tcp/4001");
  g_assert_true (apply_change (change, client, &error));
  g_assert_no_error (error);
  g_assert_true (change->changed);
  g_assert_true (kubo_saw (kubo,
                           "POST /api/v0/config?arg=Addresses.AppendAnnounce&arg=%5B%22%2Fdns4%"
                           "2Fmine.example.net%2Ftcp%2F4001%22%2C%22%2Fip4%2F1.2.3.4%2Ftcp%"
                           "2F4001%22%5D&json=true"));
  list = json_node_get_array (kubo_config_value (kubo, "Addresses.AppendAnnounce"));
  g_assert_cmpuint (json_array_get_length (list), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (list, 1), ==, "/ip4/1.2.3.4/tcp/4001");
  undo = ph_kubo_change_to_undo_command_line (change);
  g_assert_cmpstr (
      undo, ==,
      "ipfs config --json Addresses.AppendAnnounce '[\"/dns4/mine.example.net/tcp/4001\"]'");

  /* Appending the same address again changes nothing. */
  again = ph_kubo_change_new_append_announce ("/ip4/1.2.3.4/tcp/4001", &error);
  g_assert_true (apply_change (again, client, &error));
  g_assert_no_error (error);
  g_assert_false (again->changed);

  /* Undo removes only ours. */
  g_assert_true (revert_change (change, client, &error));
  g_assert_no_error (error);
  list = json_node_get_array (kubo_config_value (kubo, "Addresses.AppendAnnounce"));
  g_assert_cmpuint (json_array_get_length (list), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (list, 0), ==, "/dns4/mine.example.net/tcp/4001");

  /* A key the file lacks (kubo < 0.11 repo) starts a new list. */
  json_object_remove_member (
      json_object_get_object_member (json_node_get_object (kubo->config), "Addresses"),
      "AppendAnnounce");
  g_assert_true (apply_change (change, client, &error));
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_NULL (change->old_value));
  list = json_node_get_array (kubo_config_value (kubo, "Addresses.AppendAnnounce"));
  g_assert_cmpuint (json_array_get_length (list), ==, 1);
}

static void
test_change_refused_addresses (void)
{
  const char *bad[] = {
    "/ip4/192.168.1.20/tcp/4001", "/ip4/127.0.0.1/tcp/4001",
    "/ip4/100.64.1.1/tcp/4001",   "/ip6/fe80::1/tcp/4001",
    "/ip4/198.51.100.7",          "/unix/tmp/x",
    "/ip4/1.2.3.4/tcp/0",         "not an address",
    "/ip4/198.51.100.7/tcp/4001", /* documentation range: never a real address */
  };
  g_autoptr (PhKuboChange) ok = NULL;
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) bad_error = NULL;

      g_test_message ("%s", bad[i]);
      g_assert_null (ph_kubo_change_new_append_announce (bad[i], &bad_error));
      g_assert_error (bad_error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
    }
  ok = ph_kubo_change_new_append_announce ("/dns4/node.example.net/udp/4001/quic-v1", &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok);
}

static void
test_change_json (void)
{
  g_autoptr (PhKuboChange) change = ph_kubo_change_new_enable_nat_port_map ();
  g_autoptr (PhKuboChange) back = NULL;
  g_autoptr (JsonNode) json = NULL;
  g_autoptr (JsonNode) again = NULL;
  g_autoptr (GError) error = NULL;
  const char *bad[] = {
    "[]",
    "{}",
    "{\"kind\": \"drop\", \"key\": \"A\", \"value\": 1}",
    "{\"kind\": \"append\", \"key\": \"A\", \"value\": 1}",
    "{\"kind\": \"set\", \"key\": \"\", \"value\": 1}",
  };

  change->old_value = json_node_new (JSON_NODE_VALUE);
  json_node_set_boolean (change->old_value, TRUE);
  change->applied = TRUE;
  change->changed = TRUE;
  json = ph_kubo_change_to_json (change);
  back = ph_kubo_change_new_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->kind, ==, PH_KUBO_CHANGE_SET);
  g_assert_cmpstr (back->key, ==, "Swarm.DisableNatPortMap");
  g_assert_true (back->applied && back->changed);
  g_assert_true (json_node_get_boolean (back->old_value));
  again = ph_kubo_change_to_json (back);
  g_assert_true (json_node_equal (json, again));

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_autoptr (GError) bad_error = NULL;

      g_assert_true (json_parser_load_from_data (parser, bad[i], -1, NULL));
      g_assert_null (ph_kubo_change_new_from_json (json_parser_get_root (parser), &bad_error));
      g_assert_error (bad_error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kubo/addr/parse", test_addr_parse);
  g_test_add_func ("/kubo/addr/malformed", test_addr_malformed);
  g_test_add_func ("/kubo/version/parse", test_version_parse);
  g_test_add_func ("/kubo/settings/default", test_settings_default);
  g_test_add_func ("/kubo/settings/exposed", test_settings_exposed);
  g_test_add_func ("/kubo/settings/types", test_settings_types);
  g_test_add_func ("/kubo/auth/header", test_auth_header);
  g_test_add_func ("/kubo/repo/default-path", test_repo_default_path);
  g_test_add_func ("/kubo/repo/open", test_repo_open);
  g_test_add_func ("/kubo/repo/async", test_repo_async);
  g_test_add_func ("/kubo/repo/missing", test_repo_missing);
  g_test_add_func ("/kubo/repo/bounds", test_repo_bounds);
  g_test_add_func ("/kubo/identity/ed25519", test_identity_ed25519);
  g_test_add_func ("/kubo/identity/rsa", test_identity_rsa);
  g_test_add_func ("/kubo/identity/errors", test_identity_errors);
  g_test_add_func ("/kubo/client/loopback-only", test_client_loopback_only);
  g_test_add_func ("/kubo/rpc/version", test_rpc_version);
  g_test_add_func ("/kubo/rpc/id", test_rpc_id);
  g_test_add_func ("/kubo/rpc/autonat", test_rpc_autonat);
  g_test_add_func ("/kubo/rpc/autonat-old-kubo", test_rpc_autonat_old_kubo);
  g_test_add_func ("/kubo/rpc/config", test_rpc_config);
  g_test_add_func ("/kubo/rpc/post-only", test_rpc_post_only);
  g_test_add_func ("/kubo/rpc/refused", test_rpc_refused);
  g_test_add_func ("/kubo/rpc/server-errors", test_rpc_server_errors);
  g_test_add_func ("/kubo/rpc/huge", test_rpc_huge);
  g_test_add_func ("/kubo/rpc/not-running", test_rpc_not_running);
  g_test_add_func ("/kubo/rpc/hang", test_rpc_hang);
  g_test_add_func ("/kubo/rpc/cancel", test_rpc_cancel);
  g_test_add_func ("/kubo/rpc/daemon-stops", test_rpc_daemon_stops);
  g_test_add_func ("/kubo/rpc/unix-socket", test_rpc_unix_socket);
  g_test_add_func ("/kubo/node/running", test_node_running);
  g_test_add_func ("/kubo/node/no-node", test_node_no_node);
  g_test_add_func ("/kubo/node/not-running", test_node_not_running);
  g_test_add_func ("/kubo/node/too-old", test_node_too_old);
  g_test_add_func ("/kubo/node/old-kubo", test_node_old_kubo);
  g_test_add_func ("/kubo/node/exposed", test_node_exposed);
  g_test_add_func ("/kubo/node/diagnose", test_node_diagnose);
  g_test_add_func ("/kubo/node/refused", test_node_refused);
  g_test_add_func ("/kubo/node/offline", test_node_offline);
  g_test_add_func ("/kubo/node/other-node", test_node_other_node);
  g_test_add_func ("/kubo/node/not-loopback", test_node_not_loopback);
  g_test_add_func ("/kubo/node/stops-mid-read", test_node_stops_mid_read);
  g_test_add_func ("/kubo/node/cancel", test_node_cancel);
  g_test_add_func ("/kubo/change/nat-port-map", test_change_nat_port_map);
  g_test_add_func ("/kubo/change/append-announce", test_change_append_announce);
  g_test_add_func ("/kubo/change/refused-addresses", test_change_refused_addresses);
  g_test_add_func ("/kubo/change/json", test_change_json);

  return g_test_run ();
}
