/* ph-kubo-client.c: kubo's RPC API over HTTP
 *
 * One SoupSession per client, with no proxy (a loopback RPC and its Authorization secret must
 * never go through one) and a User-Agent that does not contain "/kubo/" (kubo compares a kubo
 * client's version with its own and refuses a mismatch: core/corehttp/commands.go
 * CheckVersionOption). Bodies are read in chunks and dropped past PH_KUBO_MAX_RESPONSE_SIZE, so
 * a broken or hostile answer cannot make us allocate more.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gi18n.h>
#include <libsoup/soup.h>

#include "ph-kubo-client.h"
#include "ph-kubo-private.h"

#define READ_CHUNK (64 * 1024)
#define EXCERPT_LEN 200

struct _PhKuboClient
{
  GObject parent_instance;

  SoupSession *session;
  char *base_url;      /* scheme://host:port, no trailing slash */
  char *endpoint;      /* for people */
  char *authorization; /* secret */
  guint timeout_ms;
};

G_DEFINE_FINAL_TYPE (PhKuboClient, ph_kubo_client, G_TYPE_OBJECT)

static void
ph_kubo_client_finalize (GObject *object)
{
  PhKuboClient *self = PH_KUBO_CLIENT (object);

  g_clear_object (&self->session);
  g_free (self->base_url);
  g_free (self->endpoint);
  ph_kubo_secret_free (self->authorization);

  G_OBJECT_CLASS (ph_kubo_client_parent_class)->finalize (object);
}

static void
ph_kubo_client_class_init (PhKuboClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ph_kubo_client_finalize;
}

static void
ph_kubo_client_init (PhKuboClient *self)
{
  self->timeout_ms = PH_KUBO_DEFAULT_TIMEOUT_MS;
}

/* ---- making a client ---- */

static SoupSession *
client_session_new (GSocketConnectable *remote)
{
  SoupSession *session;

  /* proxy-resolver NULL: no proxy, whatever the environment says. remote-connectable sends every
   * request to one place (a unix socket) whatever the URI's host. */
  if (remote != NULL)
    session = soup_session_new_with_options ("proxy-resolver", NULL, "remote-connectable", remote,
                                             "user-agent", "Porthole/" PACKAGE_VERSION, NULL);
  else
    session = soup_session_new_with_options ("proxy-resolver", NULL, "user-agent",
                                             "Porthole/" PACKAGE_VERSION, NULL);
  return session;
}

static gboolean
address_listed (const char *address, const char *const *listed)
{
  for (guint i = 0; listed != NULL && listed[i] != NULL; i++)
    {
      g_autofree char *entry = g_strstrip (g_strdup (listed[i]));

      if (g_str_equal (entry, address))
        return TRUE;
    }
  return FALSE;
}

static PhKuboClient *
client_new (const char *address, const char *authorization, const char *const *user_api,
            GError **error)
{
  g_autoptr (PhKuboClient) self = NULL;
  g_auto (PhKuboAddr) addr = { 0 };
  const char *host;
  const char *scheme;

  if (!ph_kubo_addr_parse (address, &addr, error))
    return NULL;

  self = g_object_new (PH_TYPE_KUBO_CLIENT, NULL);
  self->authorization = g_strdup (authorization);

  if (addr.kind == PH_KUBO_HOST_UNIX)
    {
      g_autoptr (GSocketAddress) socket = g_unix_socket_address_new (addr.host);

      self->session = client_session_new (G_SOCKET_CONNECTABLE (socket));
      self->base_url = g_strdup ("http://localhost");
      self->endpoint = g_strconcat ("unix:", addr.host, NULL);
      return g_steal_pointer (&self);
    }

  if (!addr.tcp || addr.port == 0)
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED,
                   _ ("the API address %s has no TCP port"), address);
      return NULL;
    }
  host = addr.host;
  /* kubo's api file never holds these (daemon.go rewriteMaddrToUseLocalhostIfItsAny); its
   * Addresses.API may, and then the daemon answers on loopback too. */
  if (g_str_equal (host, "0.0.0.0"))
    host = "127.0.0.1";
  else if (g_str_equal (host, "::"))
    host = "::1";
  else if (!ph_kubo_addr_is_local_only (&addr) && !address_listed (address, user_api))
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_NOT_LOOPBACK,
                   _ ("the API address %s is not on this machine, and the node's Addresses.API "
                      "does not list it: Porthole only talks to a node's RPC on loopback"),
                   address);
      return NULL;
    }

  /* As kubo's own client does (cmd/ipfs/kubo/start.go): /https or /tls/http means TLS. */
  scheme = strstr (address, "/https") != NULL || strstr (address, "/tls/http") != NULL ? "https"
                                                                                       : "http";
  self->session = client_session_new (NULL);
  if (addr.kind == PH_KUBO_HOST_IP6)
    self->base_url = g_strdup_printf ("%s://[%s]:%u", scheme, host, addr.port);
  else
    self->base_url = g_strdup_printf ("%s://%s:%u", scheme, host, addr.port);
  self->endpoint = g_strdup (self->base_url);
  return g_steal_pointer (&self);
}

PhKuboClient *
ph_kubo_client_new (const char *address, const char *authorization, GError **error)
{
  g_return_val_if_fail (address != NULL, NULL);

  return client_new (address, authorization, NULL, error);
}

PhKuboClient *
ph_kubo_client_new_for_repo (const PhKuboRepo *repo, GError **error)
{
  const char *address = PH_KUBO_DEFAULT_API_ADDRESS;
  const char *const *user_api = NULL;

  if (repo == NULL)
    return client_new (address, NULL, NULL, error);

  user_api = (const char *const *) repo->settings->api;
  if (repo->api_address != NULL)
    address = repo->api_address;
  else
    {
      /* Not running, or running from elsewhere: where this repo's daemon would listen. */
      for (guint i = 0; user_api[i] != NULL; i++)
        {
          g_auto (PhKuboAddr) addr = { 0 };

          if (ph_kubo_addr_parse (user_api[i], &addr, NULL)
              && (addr.kind == PH_KUBO_HOST_UNIX || (addr.tcp && addr.port != 0)))
            {
              address = user_api[i];
              break;
            }
        }
    }
  return client_new (address, repo->authorization, user_api, error);
}

void
ph_kubo_client_set_timeout (PhKuboClient *self, guint timeout_ms)
{
  g_return_if_fail (PH_IS_KUBO_CLIENT (self));
  g_return_if_fail (timeout_ms > 0);

  self->timeout_ms = timeout_ms;
}

const char *
ph_kubo_client_get_endpoint (PhKuboClient *self)
{
  g_return_val_if_fail (PH_IS_KUBO_CLIENT (self), NULL);

  return self->endpoint;
}

/* ---- one call ---- */

typedef struct
{
  PhKuboClient *client;
  SoupMessage *message;
  char *path;
  GCancellable *cancellable; /* ours: cancelled when the call returns */
  GSource *caller_cancelled;
  GSource *deadline;
  GInputStream *stream;
  GByteArray *body;
  gboolean returned;
} Call;

static void
call_free (Call *call)
{
  g_clear_object (&call->client);
  g_clear_object (&call->message);
  g_free (call->path);
  g_clear_object (&call->cancellable);
  if (call->caller_cancelled != NULL)
    g_source_destroy (call->caller_cancelled);
  g_clear_pointer (&call->caller_cancelled, g_source_unref);
  if (call->deadline != NULL)
    g_source_destroy (call->deadline);
  g_clear_pointer (&call->deadline, g_source_unref);
  g_clear_object (&call->stream);
  if (call->body != NULL)
    g_byte_array_unref (call->body);
  g_free (call);
}

/* Completes the task once: the deadline, the caller's cancellation and libsoup's late callbacks
 * all end up here. */
static void
call_return (GTask *task, GError *error, JsonNode *node)
{
  Call *call = g_task_get_task_data (task);

  if (call->returned)
    {
      g_clear_error (&error);
      g_clear_pointer (&node, json_node_unref);
      return;
    }
  call->returned = TRUE;
  if (call->deadline != NULL)
    g_source_destroy (call->deadline);
  if (call->caller_cancelled != NULL)
    g_source_destroy (call->caller_cancelled);
  /* Whatever libsoup still has in flight for this call is of no use now. */
  g_cancellable_cancel (call->cancellable);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
}

/* Up to EXCERPT_LEN bytes of a body, as one line of valid UTF-8, for an error message. */
static char *
text_excerpt (const char *data, gsize len)
{
  g_autofree char *valid = NULL;

  if (data == NULL || len == 0)
    return g_strdup ("");
  valid = g_utf8_make_valid (data, (gssize) MIN (len, EXCERPT_LEN));

  for (char *p = valid; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      *p = ' ';
  return g_strdup (g_strstrip (valid));
}

static GError *
call_transport_error (Call *call, const GError *error)
{
  const char *endpoint = call->client->endpoint;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    return g_error_new (PH_KUBO_ERROR, PH_KUBO_ERROR_NOT_RUNNING,
                        /* TRANSLATORS: the first %s is the node's address, the second the
                         * system's own error message. */
                        _ ("nothing answers at %s: the IPFS daemon is not running (%s)"), endpoint,
                        error->message);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new (PH_KUBO_ERROR, PH_KUBO_ERROR_TIMED_OUT,
                        /* TRANSLATORS: %s is the node's address, then an RPC path such as
                         * /api/v0/id. */
                        _ ("the node at %s did not answer %s in time"), endpoint, call->path);
  return g_error_new (PH_KUBO_ERROR, PH_KUBO_ERROR_CLOSED,
                      _ ("the connection to the node at %s ended before it answered %s (the "
                         "daemon may be stopping): %s"),
                      endpoint, call->path, error->message);
}

/* go-ipfs-cmds errors: {"Message": "...", "Code": 0, "Type": "error"}. */
static char *
cmds_error_message (const char *data, gsize len)
{
  g_autoptr (JsonNode) root = ph_kubo_json_parse (data, len, "an error", NULL);
  JsonNode *message;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  message = json_object_get_member (json_node_get_object (root), "Message");
  if (message == NULL || json_node_get_value_type (message) != G_TYPE_STRING)
    return NULL;
  return text_excerpt (json_node_get_string (message), strlen (json_node_get_string (message)));
}

static void
call_done (GTask *task)
{
  Call *call = g_task_get_task_data (task);
  guint status = soup_message_get_status (call->message);
  const char *data = (const char *) call->body->data;
  gsize len = call->body->len;
  g_autofree char *what = g_strdup_printf ("kubo's answer to %s", call->path);
  g_autofree char *excerpt = NULL;
  g_autofree char *message = NULL;
  GError *error = NULL;
  JsonNode *node;

  switch (status)
    {
      case SOUP_STATUS_OK:
        node = ph_kubo_json_parse (data, len, what, &error);
        call_return (task, error, node);
        return;
      case SOUP_STATUS_UNAUTHORIZED:
      case SOUP_STATUS_FORBIDDEN:
        /* kubo:core/corehttp/commands.go withAuthSecrets: 403 without a valid secret, or for a
         * path outside the secret's AllowedPaths. */
        excerpt = text_excerpt (data, len);
        call_return (task,
                     g_error_new (PH_KUBO_ERROR, PH_KUBO_ERROR_REFUSED,
                                  /* TRANSLATORS: %s is an RPC path, %u an HTTP status, the
                                   * last %s the node's own words. */
                                  _ ("the node's RPC refused %s (HTTP %u): it needs an "
                                     "API.Authorizations secret that allows this path (%s)"),
                                  call->path, status, excerpt),
                     NULL);
        return;
      case SOUP_STATUS_NOT_FOUND:
        call_return (task,
                     g_error_new (PH_KUBO_ERROR, PH_KUBO_ERROR_UNSUPPORTED,
                                  _ ("this kubo has no %s command"), call->path),
                     NULL);
        return;
      default:
        break;
    }

  if ((status == SOUP_STATUS_INTERNAL_SERVER_ERROR || status == SOUP_STATUS_BAD_REQUEST)
      && (message = cmds_error_message (data, len)) != NULL)
    {
      call_return (task,
                   g_error_new (PH_KUBO_ERROR, PH_KUBO_ERROR_COMMAND,
                                /* TRANSLATORS: %s is an RPC path, then the node's own message. */
                                _ ("kubo could not run %s: %s"), call->path, message),
                   NULL);
      return;
    }
  excerpt = text_excerpt (data, len);
  /* Two whole formats rather than a ": " spliced in, so each translates. */
  if (*excerpt != '\0')
    error = g_error_new (PH_KUBO_ERROR, PH_KUBO_ERROR_HTTP,
                         /* TRANSLATORS: %s is an RPC path, %u and the next %s an HTTP status
                          * and its English reason phrase, the last %s the node's own words. */
                         _ ("kubo answered %s with HTTP %u %s: %s"), call->path, status,
                         soup_status_get_phrase (status), excerpt);
  else
    error = g_error_new (PH_KUBO_ERROR, PH_KUBO_ERROR_HTTP,
                         /* TRANSLATORS: %s is an RPC path, %u and the next %s an HTTP status
                          * and its English reason phrase. */
                         _ ("kubo answered %s with HTTP %u %s"), call->path, status,
                         soup_status_get_phrase (status));
  call_return (task, error, NULL);
}

static GError *
call_too_large (Call *call)
{
  return g_error_new (PH_KUBO_ERROR, PH_KUBO_ERROR_TOO_LARGE,
                      _ ("kubo's answer to %s is larger than %u bytes"), call->path,
                      PH_KUBO_MAX_RESPONSE_SIZE);
}

static void
call_read_more (GTask *task);

static void
call_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Call *call = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes
      = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);

  if (call->returned)
    return;
  if (bytes == NULL)
    {
      call_return (task, call_transport_error (call, error), NULL);
      return;
    }
  if (g_bytes_get_size (bytes) == 0)
    {
      call_done (task);
      return;
    }
  if (call->body->len + g_bytes_get_size (bytes) > PH_KUBO_MAX_RESPONSE_SIZE)
    {
      call_return (task, call_too_large (call), NULL);
      return;
    }
  g_byte_array_append (call->body, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  call_read_more (task);
}

static void
call_read_more (GTask *task)
{
  Call *call = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (call->stream, READ_CHUNK, G_PRIORITY_DEFAULT, call->cancellable,
                                   call_read, g_object_ref (task));
}

static void
call_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Call *call = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  GInputStream *stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  SoupMessageHeaders *headers;

  if (call->returned)
    {
      g_clear_object (&stream);
      return;
    }
  if (stream == NULL)
    {
      call_return (task, call_transport_error (call, error), NULL);
      return;
    }
  call->stream = stream;
  headers = soup_message_get_response_headers (call->message);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
      && soup_message_headers_get_content_length (headers) > PH_KUBO_MAX_RESPONSE_SIZE)
    {
      call_return (task, call_too_large (call), NULL);
      return;
    }
  call_read_more (task);
}

static gboolean
call_deadline_passed (gpointer user_data)
{
  GTask *task = user_data;
  Call *call = g_task_get_task_data (task);

  call_return (task,
               g_error_new (PH_KUBO_ERROR, PH_KUBO_ERROR_TIMED_OUT,
                            "the node at %s did not answer %s within %u ms", call->client->endpoint,
                            call->path, call->client->timeout_ms),
               NULL);
  return G_SOURCE_REMOVE;
}

/* A GCancellableSource callback: runs on the task's context whichever thread cancelled. */
static gboolean
call_caller_cancelled (GCancellable *caller, gpointer user_data)
{
  call_return (G_TASK (user_data),
               g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled"),
               NULL);
  return G_SOURCE_REMOVE;
}

static char *
call_build_uri (PhKuboClient *self, const char *path, const char *const *query)
{
  GString *uri = g_string_new (self->base_url);

  g_string_append (uri, "/api/v0/");
  g_string_append (uri, path);
  for (guint i = 0; query != NULL && query[i] != NULL && query[i + 1] != NULL; i += 2)
    {
      g_string_append_c (uri, i == 0 ? '?' : '&');
      g_string_append_uri_escaped (uri, query[i], NULL, FALSE);
      g_string_append_c (uri, '=');
      g_string_append_uri_escaped (uri, query[i + 1], NULL, FALSE);
    }
  return g_string_free (uri, FALSE);
}

void
ph_kubo_client_call_async (PhKuboClient *self, const char *path, const char *const *query,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *uri = NULL;
  Call *call;

  g_return_if_fail (PH_IS_KUBO_CLIENT (self));
  g_return_if_fail (path != NULL && *path != '\0' && *path != '/');
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ph_kubo_client_call_async);
  g_task_set_name (task, "[porthole] kubo RPC");

  call = g_new0 (Call, 1);
  call->client = g_object_ref (self);
  call->path = g_strdup (path);
  call->cancellable = g_cancellable_new ();
  call->body = g_byte_array_new ();
  g_task_set_task_data (task, call, (GDestroyNotify) call_free);

  uri = call_build_uri (self, path, query);
  /* POST only: kubo answers 405 to anything else (go-ipfs-cmds http/handler.go ServeHTTP). */
  call->message = soup_message_new ("POST", uri);
  if (call->message == NULL)
    {
      call_return (task,
                   g_error_new (PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED,
                                "cannot make a request for %s", path),
                   NULL);
      return;
    }
  /* kubo never redirects; following one could carry the Authorization secret elsewhere. */
  soup_message_set_flags (call->message, SOUP_MESSAGE_NO_REDIRECT);
  if (self->authorization != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (call->message), "Authorization",
                                  self->authorization);

  if (cancellable != NULL)
    {
      call->caller_cancelled = g_cancellable_source_new (cancellable);
      g_task_attach_source (task, call->caller_cancelled, G_SOURCE_FUNC (call_caller_cancelled));
    }
  call->deadline = g_timeout_source_new (self->timeout_ms);
  g_task_attach_source (task, call->deadline, call_deadline_passed);

  soup_session_send_async (self->session, call->message, G_PRIORITY_DEFAULT, call->cancellable,
                           call_sent, g_object_ref (task));
}

JsonNode *
ph_kubo_client_call_finish (PhKuboClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ph_kubo_client_call_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- typed endpoints ---- */

typedef gpointer (*ParseFunc) (JsonNode *root, GError **error);

typedef struct
{
  ParseFunc parse;
  GDestroyNotify free_func;
} Endpoint;

static void
endpoint_called (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Endpoint *endpoint = g_task_get_task_data (task);
  g_autoptr (JsonNode) root = NULL;
  GError *error = NULL;
  gpointer value;

  root = ph_kubo_client_call_finish (PH_KUBO_CLIENT (source), result, &error);
  if (root == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  value = endpoint->parse (root, &error);
  if (value == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, value, endpoint->free_func);
}

static void
endpoint_call (PhKuboClient *self, gpointer source_tag, const char *path, const char *const *query,
               ParseFunc parse, GDestroyNotify free_func, GCancellable *cancellable,
               GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Endpoint *endpoint = g_new0 (Endpoint, 1);

  endpoint->parse = parse;
  endpoint->free_func = free_func;
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, endpoint, g_free);
  ph_kubo_client_call_async (self, path, query, cancellable, endpoint_called, task);
}

static gpointer
endpoint_finish (PhKuboClient *self, GAsyncResult *result, gconstpointer source_tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gpointer
parse_fail (GError **error, const char *what)
{
  g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED,
               "kubo's answer to %s does not have the shape kubo documents", what);
  return NULL;
}

/* An optional string member: absent or null → NULL; another type → fails. */
static gboolean
member_string (JsonObject *object, const char *name, char **out)
{
  JsonNode *node = json_object_get_member (object, name);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

/* ---- version ---- */

gboolean
ph_kubo_version_parse (const char *text, guint *major, guint *minor, guint *patch)
{
  guint64 parts[3] = { 0, 0, 0 };
  const char *p;

  g_return_val_if_fail (text != NULL, FALSE);

  p = text[0] == 'v' ? text + 1 : text;
  for (guint i = 0; i < 3; i++)
    {
      char *end = NULL;

      if (!g_ascii_isdigit (*p))
        {
          if (i < 2)
            return FALSE;
          break;
        }
      parts[i] = g_ascii_strtoull (p, &end, 10);
      if (parts[i] > G_MAXUINT16)
        return FALSE;
      p = end;
      if (i < 2)
        {
          if (*p != '.')
            {
              if (i == 0)
                return FALSE;
              break;
            }
          p++;
        }
    }
  if (major != NULL)
    *major = (guint) parts[0];
  if (minor != NULL)
    *minor = (guint) parts[1];
  if (patch != NULL)
    *patch = (guint) parts[2];
  return TRUE;
}

int
ph_kubo_version_compare (const PhKuboVersion *version, guint major, guint minor)
{
  g_return_val_if_fail (version != NULL, 0);

  if (version->major != major)
    return version->major < major ? -1 : 1;
  if (version->minor != minor)
    return version->minor < minor ? -1 : 1;
  return 0;
}

void
ph_kubo_version_free (PhKuboVersion *version)
{
  if (version == NULL)
    return;
  g_free (version->version);
  g_free (version->commit);
  g_free (version->repo);
  g_free (version->system);
  g_free (version->golang);
  g_free (version);
}

static gpointer
parse_version (JsonNode *root, GError **error)
{
  g_autoptr (PhKuboVersion) version = g_new0 (PhKuboVersion, 1);
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    return parse_fail (error, "version");
  object = json_node_get_object (root);
  if (!member_string (object, "Version", &version->version) || version->version == NULL
      || !member_string (object, "Commit", &version->commit)
      || !member_string (object, "Repo", &version->repo)
      || !member_string (object, "System", &version->system)
      || !member_string (object, "Golang", &version->golang))
    return parse_fail (error, "version");
  if (!ph_kubo_version_parse (version->version, &version->major, &version->minor, &version->patch))
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED,
                   "kubo reported a version Porthole cannot read: %s", version->version);
      return NULL;
    }
  return g_steal_pointer (&version);
}

void
ph_kubo_client_version_async (PhKuboClient *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (PH_IS_KUBO_CLIENT (self));

  endpoint_call (self, ph_kubo_client_version_async, "version", NULL, parse_version,
                 (GDestroyNotify) ph_kubo_version_free, cancellable, callback, user_data);
}

PhKuboVersion *
ph_kubo_client_version_finish (PhKuboClient *self, GAsyncResult *result, GError **error)
{
  return endpoint_finish (self, result, ph_kubo_client_version_async, error);
}

/* ---- id ---- */

void
ph_kubo_id_free (PhKuboId *id)
{
  if (id == NULL)
    return;
  g_free (id->id);
  g_free (id->public_key);
  g_strfreev (id->addresses);
  g_free (id->agent_version);
  g_strfreev (id->protocols);
  g_free (id);
}

static gpointer
parse_id (JsonNode *root, GError **error)
{
  g_autoptr (PhKuboId) id = g_new0 (PhKuboId, 1);
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    return parse_fail (error, "id");
  object = json_node_get_object (root);
  if (!member_string (object, "ID", &id->id) || id->id == NULL
      || !member_string (object, "PublicKey", &id->public_key)
      || !member_string (object, "AgentVersion", &id->agent_version)
      || !ph_kubo_json_get_strv (json_object_get_member (object, "Addresses"), "Addresses",
                                 &id->addresses, NULL)
      || !ph_kubo_json_get_strv (json_object_get_member (object, "Protocols"), "Protocols",
                                 &id->protocols, NULL))
    return parse_fail (error, "id");
  return g_steal_pointer (&id);
}

void
ph_kubo_client_id_async (PhKuboClient *self, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (PH_IS_KUBO_CLIENT (self));

  endpoint_call (self, ph_kubo_client_id_async, "id", NULL, parse_id,
                 (GDestroyNotify) ph_kubo_id_free, cancellable, callback, user_data);
}

PhKuboId *
ph_kubo_client_id_finish (PhKuboClient *self, GAsyncResult *result, GError **error)
{
  return endpoint_finish (self, result, ph_kubo_client_id_async, error);
}

/* ---- swarm/addrs/autonat ---- */

const char *
ph_kubo_reachability_to_string (PhKuboReachability reachability)
{
  switch (reachability)
    {
      case PH_KUBO_REACHABILITY_PUBLIC:
        return "public";
      case PH_KUBO_REACHABILITY_PRIVATE:
        return "private";
      case PH_KUBO_REACHABILITY_UNKNOWN:
      default:
        return "unknown";
    }
}

static gboolean
list_has_tcp_of_family (char **addresses, GSocketFamily family)
{
  PhKuboHostKind want = family == G_SOCKET_FAMILY_IPV6 ? PH_KUBO_HOST_IP6 : PH_KUBO_HOST_IP4;

  for (guint i = 0; addresses[i] != NULL; i++)
    {
      g_auto (PhKuboAddr) addr = { 0 };

      if (ph_kubo_addr_parse (addresses[i], &addr, NULL) && addr.kind == want && addr.plain_tcp)
        return TRUE;
    }
  return FALSE;
}

PhKuboReachability
ph_kubo_autonat_get_tcp_reachability (const PhKuboAutonat *autonat, GSocketFamily family)
{
  g_return_val_if_fail (autonat != NULL, PH_KUBO_REACHABILITY_UNKNOWN);

  if (list_has_tcp_of_family (autonat->reachable, family))
    return PH_KUBO_REACHABILITY_PUBLIC;
  if (list_has_tcp_of_family (autonat->unreachable, family))
    return PH_KUBO_REACHABILITY_PRIVATE;
  return PH_KUBO_REACHABILITY_UNKNOWN;
}

void
ph_kubo_autonat_free (PhKuboAutonat *autonat)
{
  if (autonat == NULL)
    return;
  g_free (autonat->nat);
  g_strfreev (autonat->reachable);
  g_strfreev (autonat->unreachable);
  g_strfreev (autonat->unknown);
  g_free (autonat);
}

static gpointer
parse_autonat (JsonNode *root, GError **error)
{
  g_autoptr (PhKuboAutonat) autonat = g_new0 (PhKuboAutonat, 1);
  g_autofree char *reachability = NULL;
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    return parse_fail (error, "swarm/addrs/autonat");
  object = json_node_get_object (root);
  if (!json_object_has_member (object, "reachability") && json_object_has_member (object, "Addrs"))
    {
      g_set_error_literal (error, PH_KUBO_ERROR, PH_KUBO_ERROR_UNSUPPORTED,
                           "this kubo answered swarm/addrs/autonat with its plain swarm addrs: "
                           "it is older than 0.40 and cannot tell its own reachability");
      return NULL;
    }
  if (!member_string (object, "reachability", &reachability) || reachability == NULL
      || !member_string (object, "nat", &autonat->nat)
      || !ph_kubo_json_get_strv (json_object_get_member (object, "reachable"), "reachable",
                                 &autonat->reachable, NULL)
      || !ph_kubo_json_get_strv (json_object_get_member (object, "unreachable"), "unreachable",
                                 &autonat->unreachable, NULL)
      || !ph_kubo_json_get_strv (json_object_get_member (object, "unknown"), "unknown",
                                 &autonat->unknown, NULL))
    return parse_fail (error, "swarm/addrs/autonat");

  if (g_ascii_strcasecmp (reachability, "public") == 0)
    autonat->reachability = PH_KUBO_REACHABILITY_PUBLIC;
  else if (g_ascii_strcasecmp (reachability, "private") == 0)
    autonat->reachability = PH_KUBO_REACHABILITY_PRIVATE;
  else
    autonat->reachability = PH_KUBO_REACHABILITY_UNKNOWN;
  if (autonat->nat != NULL && *autonat->nat == '\0')
    g_clear_pointer (&autonat->nat, g_free);
  return g_steal_pointer (&autonat);
}

void
ph_kubo_client_autonat_async (PhKuboClient *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (PH_IS_KUBO_CLIENT (self));

  endpoint_call (self, ph_kubo_client_autonat_async, "swarm/addrs/autonat", NULL, parse_autonat,
                 (GDestroyNotify) ph_kubo_autonat_free, cancellable, callback, user_data);
}

PhKuboAutonat *
ph_kubo_client_autonat_finish (PhKuboClient *self, GAsyncResult *result, GError **error)
{
  return endpoint_finish (self, result, ph_kubo_client_autonat_async, error);
}

/* ---- config ---- */

static gpointer
parse_config_show (JsonNode *root, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return parse_fail (error, "config/show");
  return json_node_ref (root);
}

void
ph_kubo_client_config_show_async (PhKuboClient *self, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (PH_IS_KUBO_CLIENT (self));

  endpoint_call (self, ph_kubo_client_config_show_async, "config/show", NULL, parse_config_show,
                 (GDestroyNotify) json_node_unref, cancellable, callback, user_data);
}

JsonNode *
ph_kubo_client_config_show_finish (PhKuboClient *self, GAsyncResult *result, GError **error)
{
  return endpoint_finish (self, result, ph_kubo_client_config_show_async, error);
}

/* kubo:core/commands/config.go ConfigField {"Key", "Value"}. */
static gpointer
parse_config_field (JsonNode *root, GError **error)
{
  JsonNode *value;

  if (!JSON_NODE_HOLDS_OBJECT (root) || !json_object_has_member (json_node_get_object (root), "Key")
      || (value = json_object_get_member (json_node_get_object (root), "Value")) == NULL)
    return parse_fail (error, "config");
  return json_node_copy (value);
}

void
ph_kubo_client_config_get_async (PhKuboClient *self, const char *key, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  const char *query[] = { "arg", key, NULL };

  g_return_if_fail (PH_IS_KUBO_CLIENT (self));
  g_return_if_fail (key != NULL && *key != '\0');

  endpoint_call (self, ph_kubo_client_config_get_async, "config", query, parse_config_field,
                 (GDestroyNotify) json_node_unref, cancellable, callback, user_data);
}

JsonNode *
ph_kubo_client_config_get_finish (PhKuboClient *self, GAsyncResult *result, GError **error)
{
  return endpoint_finish (self, result, ph_kubo_client_config_get_async, error);
}

void
ph_kubo_client_config_set_async (PhKuboClient *self, const char *key, JsonNode *value,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autofree char *text = NULL;
  gboolean boolean;

  g_return_if_fail (PH_IS_KUBO_CLIENT (self));
  g_return_if_fail (key != NULL && *key != '\0');
  g_return_if_fail (value != NULL);

  boolean = json_node_get_value_type (value) == G_TYPE_BOOLEAN;
  text = boolean ? g_strdup (json_node_get_boolean (value) ? "true" : "false")
                 : json_to_string (value, FALSE);
  {
    const char *query[] = { "arg", key, "arg", text, boolean ? "bool" : "json", "true", NULL };

    endpoint_call (self, ph_kubo_client_config_set_async, "config", query, parse_config_field,
                   (GDestroyNotify) json_node_unref, cancellable, callback, user_data);
  }
}

JsonNode *
ph_kubo_client_config_set_finish (PhKuboClient *self, GAsyncResult *result, GError **error)
{
  return endpoint_finish (self, result, ph_kubo_client_config_set_async, error);
}
