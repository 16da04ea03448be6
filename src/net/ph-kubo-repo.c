/* ph-kubo-repo.c: a kubo repository on disk
 *
 * The config file holds the node's private key (Identity.PrivKey), so its bytes live in memory
 * that is wiped before it is freed, the parsed copy of the key is overwritten as soon as the
 * settings are taken out, and nothing here logs a value read from it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "p2p/ph-peer-id.h"

#include "ph-kubo-private.h"
#include "ph-json.h"
#include "ph-kubo-repo.h"

GQuark
ph_kubo_error_quark (void)
{
  return g_quark_from_static_string ("ph-kubo-error-quark");
}

/* ---- secrets ---- */

static void
secret_block_free (gpointer user_data)
{
  GBytes *block = user_data;
  gsize len;
  guint8 *data = (guint8 *) g_bytes_get_data (block, &len);

  if (data != NULL)
    explicit_bzero (data, len);
  g_bytes_unref (block);
}

GBytes *
ph_kubo_secret_bytes_new_take (guint8 *data, gsize len)
{
  GBytes *block = g_bytes_new_take (data, len);

  /* The outer GBytes owns the inner one and wipes it on the last unref. */
  return g_bytes_new_with_free_func (g_bytes_get_data (block, NULL), len, secret_block_free, block);
}

void
ph_kubo_secret_free (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

/* ---- JSON ---- */

JsonNode *
ph_kubo_json_parse (const char *data, gsize len, const char *what, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;

  if (data == NULL || len == 0)
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED, "%s is empty", what);
      return NULL;
    }
  if (len > G_MAXSSIZE)
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_TOO_LARGE, "%s is too large", what);
      return NULL;
    }
  if (!ph_json_depth_ok (data, len, PH_KUBO_MAX_JSON_DEPTH))
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED, "%s nests deeper than %u levels",
                   what, PH_KUBO_MAX_JSON_DEPTH);
      return NULL;
    }

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local_error))
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED, "%s is not valid JSON: %s", what,
                   local_error->message);
      return NULL;
    }
  /* Stolen, not copied: the tree (and any secret string in it) exists once. */
  root = json_parser_steal_root (parser);
  if (root == NULL)
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED, "%s is empty", what);
      return NULL;
    }
  return root;
}

JsonNode *
ph_kubo_json_object_lookup (JsonObject *object, const char *name)
{
  JsonNode *member = json_object_get_member (object, name);
  g_autoptr (GList) members = NULL;

  if (member != NULL)
    return member;
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    if (g_ascii_strcasecmp (l->data, name) == 0)
      return json_object_get_member (object, l->data);
  return NULL;
}

JsonNode *
ph_kubo_json_lookup (JsonNode *root, const char *key)
{
  g_auto (GStrv) steps = g_strsplit (key, ".", -1);
  JsonNode *node = root;

  for (guint i = 0; steps[i] != NULL; i++)
    {
      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        return NULL;
      node = ph_kubo_json_object_lookup (json_node_get_object (node), steps[i]);
    }
  return node;
}

void
ph_kubo_json_wipe_string (JsonNode *node)
{
  char *text;

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return;
  /* json-glib hands out its own copy; it is plain heap memory we may overwrite in place. */
  text = (char *) json_node_get_string (node);
  if (text != NULL)
    explicit_bzero (text, strlen (text));
}

gboolean
ph_kubo_json_get_strv (JsonNode *node, const char *key, char ***out, GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      *out = g_strv_builder_end (builder);
      return TRUE;
    }
  if (json_node_get_value_type (node) == G_TYPE_STRING)
    {
      g_strv_builder_add (builder, json_node_get_string (node));
      *out = g_strv_builder_end (builder);
      return TRUE;
    }
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (json_node_get_value_type (element) != G_TYPE_STRING)
            {
              g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED,
                           "%s must be a list of strings", key);
              return FALSE;
            }
          g_strv_builder_add (builder, json_node_get_string (element));
        }
      *out = g_strv_builder_end (builder);
      return TRUE;
    }
  g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED, "%s must be a list of strings", key);
  return FALSE;
}

/* ---- multiaddr text ---- */

static gboolean
addr_fail (GError **error, const char *text, const char *why)
{
  g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED,
               "“%s” is not an address we can use: %s", text, why);
  return FALSE;
}

static gboolean
parse_port (const char *text, guint16 *port)
{
  guint64 value;

  if (text == NULL || !g_ascii_isdigit (text[0]) || strlen (text) > 5)
    return FALSE;
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT16, &value, NULL))
    return FALSE;
  *port = (guint16) value;
  return TRUE;
}

static gboolean
dns_name_is_localhost (const char *name)
{
  return g_ascii_strcasecmp (name, "localhost") == 0 || g_ascii_strcasecmp (name, "localhost.") == 0
         || g_str_has_suffix (name, ".localhost") || g_str_has_suffix (name, ".localhost.");
}

static gboolean
addr_parse_host (char **parts, guint *i, const char *text, PhKuboAddr *addr, GError **error)
{
  const char *name = parts[*i];
  const char *value = parts[*i + 1];

  if (g_strcmp0 (name, "ip6zone") == 0)
    {
      /* /ip6zone/<zone>/ip6/<addr>: the zone only says which link; the ip6 follows. */
      if (value == NULL || *value == '\0')
        return addr_fail (error, text, "ip6zone without a zone");
      *i += 2;
      if (g_strcmp0 (parts[*i], "ip6") != 0)
        return addr_fail (error, text, "ip6zone not followed by ip6");
      name = parts[*i];
      value = parts[*i + 1];
    }

  if (value == NULL || *value == '\0')
    return addr_fail (error, text, "a component lacks its value");

  if (g_strcmp0 (name, "ip4") == 0 || g_strcmp0 (name, "ip6") == 0)
    {
      gboolean want6 = name[2] == '6';
      g_autoptr (GInetAddress) ip = g_inet_address_new_from_string (value);

      if (ip == NULL
          || g_inet_address_get_family (ip)
                 != (want6 ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4))
        return addr_fail (error, text, want6 ? "not an IPv6 address" : "not an IPv4 address");
      addr->kind = want6 ? PH_KUBO_HOST_IP6 : PH_KUBO_HOST_IP4;
      addr->host = g_inet_address_to_string (ip);
      addr->scope = ph_ip_scope_classify_inet (ip);
    }
  else if (g_strcmp0 (name, "dns") == 0 || g_strcmp0 (name, "dns4") == 0
           || g_strcmp0 (name, "dns6") == 0 || g_strcmp0 (name, "dnsaddr") == 0)
    {
      /* Host-name characters only: the name may end up in a URL. */
      for (const char *p = value; *p != '\0'; p++)
        if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.' && *p != '_')
          return addr_fail (error, text, "not a host name");
      addr->kind = PH_KUBO_HOST_DNS;
      addr->host = g_strdup (value);
      /* A name says nothing certain about where it resolves: only localhost is known local. */
      addr->scope = dns_name_is_localhost (value) ? PH_IP_SCOPE_LOOPBACK : PH_IP_SCOPE_PUBLIC;
    }
  else
    return addr_fail (error, text, "it starts with neither ip4, ip6, dns nor unix");

  *i += 2;
  return TRUE;
}

static void
addr_parse_rest (char **parts, guint i, PhKuboAddr *addr)
{
  guint n_rest = g_strv_length (parts + i);

  /* After the transport: nothing, or only /p2p/<id>, is what a plain TCP dial reaches. */
  if (addr->tcp)
    addr->plain_tcp
        = n_rest == 0
          || (n_rest == 2
              && (g_strcmp0 (parts[i], "p2p") == 0 || g_strcmp0 (parts[i], "ipfs") == 0));
  if (addr->udp && n_rest > 0 && g_strcmp0 (parts[i], "quic-v1") == 0)
    addr->quic = TRUE;
}

gboolean
ph_kubo_addr_parse (const char *text, PhKuboAddr *addr, GError **error)
{
  g_auto (GStrv) parts = NULL;
  guint n;
  guint i = 1;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (addr != NULL, FALSE);

  memset (addr, 0, sizeof *addr);
  if (text[0] != '/' || strlen (text) > 1024)
    return addr_fail (error, text, "a multiaddr starts with “/” and is short");

  parts = g_strsplit (text, "/", -1);
  n = g_strv_length (parts);
  /* go-multiaddr tolerates one trailing "/". */
  if (n > 2 && *parts[n - 1] == '\0')
    {
      g_free (parts[n - 1]);
      parts[--n] = NULL;
    }
  for (guint k = 1; k < n; k++)
    if (*parts[k] == '\0')
      return addr_fail (error, text, "empty component");

  if (g_strcmp0 (parts[1], "unix") == 0)
    {
      g_autofree char *joined = NULL;

      if (n < 3)
        return addr_fail (error, text, "unix without a path");
      joined = g_strjoinv ("/", parts + 2);
      addr->kind = PH_KUBO_HOST_UNIX;
      /* Newer go-multiaddr percent-escapes the path; older writes it raw. */
      addr->host = strchr (joined, '%') != NULL ? g_uri_unescape_string (joined, NULL)
                                                : g_strconcat ("/", joined, NULL);
      if (addr->host != NULL && addr->host[0] != '/')
        {
          char *absolute = g_strconcat ("/", addr->host, NULL);

          g_free (addr->host);
          addr->host = absolute;
        }
      if (addr->host == NULL)
        return addr_fail (error, text, "bad escape in the unix path");
      addr->scope = PH_IP_SCOPE_LOOPBACK;
      return TRUE;
    }

  if (!addr_parse_host (parts, &i, text, addr, error))
    {
      ph_kubo_addr_clear (addr);
      return FALSE;
    }

  if (parts[i] != NULL && (g_strcmp0 (parts[i], "tcp") == 0 || g_strcmp0 (parts[i], "udp") == 0))
    {
      if (!parse_port (parts[i + 1], &addr->port))
        {
          ph_kubo_addr_clear (addr);
          return addr_fail (error, text, "bad port");
        }
      addr->tcp = parts[i][0] == 't';
      addr->udp = !addr->tcp;
      i += 2;
    }
  addr_parse_rest (parts, i, addr);
  return TRUE;
}

void
ph_kubo_addr_clear (PhKuboAddr *addr)
{
  if (addr == NULL)
    return;
  g_clear_pointer (&addr->host, g_free);
}

gboolean
ph_kubo_addr_is_local_only (const PhKuboAddr *addr)
{
  g_return_val_if_fail (addr != NULL, FALSE);
  return addr->scope == PH_IP_SCOPE_LOOPBACK;
}

/* ---- settings ---- */

static gboolean
settings_get_flag (JsonNode *config, const char *key, PhKuboFlag *flag, GError **error)
{
  JsonNode *node = ph_kubo_json_lookup (config, key);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    *flag = PH_KUBO_FLAG_DEFAULT;
  else if (json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    *flag = json_node_get_boolean (node) ? PH_KUBO_FLAG_TRUE : PH_KUBO_FLAG_FALSE;
  else
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED, "%s must be true, false or null",
                   key);
      return FALSE;
    }
  return TRUE;
}

static gboolean
settings_get_string (JsonNode *config, const char *key, char **out, GError **error)
{
  JsonNode *node = ph_kubo_json_lookup (config, key);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED, "%s must be a string", key);
      return FALSE;
    }
  if (*json_node_get_string (node) != '\0')
    *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

static gboolean
settings_get_addresses (JsonNode *config, PhKuboSettings *settings, GError **error)
{
  static const struct
  {
    const char *key;
    gsize offset;
  } lists[] = {
    { "Addresses.Swarm", G_STRUCT_OFFSET (PhKuboSettings, swarm) },
    { "Addresses.API", G_STRUCT_OFFSET (PhKuboSettings, api) },
    { "Addresses.Gateway", G_STRUCT_OFFSET (PhKuboSettings, gateway) },
    { "Addresses.Announce", G_STRUCT_OFFSET (PhKuboSettings, announce) },
    { "Addresses.AppendAnnounce", G_STRUCT_OFFSET (PhKuboSettings, append_announce) },
    { "Addresses.NoAnnounce", G_STRUCT_OFFSET (PhKuboSettings, no_announce) },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (lists); i++)
    {
      char ***slot = G_STRUCT_MEMBER_P (settings, lists[i].offset);

      if (!ph_kubo_json_get_strv (ph_kubo_json_lookup (config, lists[i].key), lists[i].key, slot,
                                  error))
        return FALSE;
    }
  return TRUE;
}

PhKuboSettings *
ph_kubo_settings_new_from_json (JsonNode *config, GError **error)
{
  g_autoptr (PhKuboSettings) settings = g_new0 (PhKuboSettings, 1);
  JsonNode *node;

  g_return_val_if_fail (config != NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (config))
    {
      g_set_error_literal (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED,
                           "the config is not a JSON object");
      return NULL;
    }
  if (!settings_get_addresses (config, settings, error))
    return NULL;

  node = ph_kubo_json_lookup (config, "Swarm.DisableNatPortMap");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      if (json_node_get_value_type (node) != G_TYPE_BOOLEAN)
        {
          g_set_error_literal (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED,
                               "Swarm.DisableNatPortMap must be true or false");
          return NULL;
        }
      settings->disable_nat_port_map = json_node_get_boolean (node);
    }

  if (!settings_get_flag (config, "Swarm.RelayClient.Enabled", &settings->relay_client, error)
      || !settings_get_flag (config, "Swarm.RelayService.Enabled", &settings->relay_service, error)
      || !settings_get_flag (config, "Swarm.EnableHolePunching", &settings->hole_punching, error)
      || !settings_get_string (config, "AutoNAT.ServiceMode", &settings->autonat_service_mode,
                               error)
      || !settings_get_string (config, "Routing.Type", &settings->routing_type, error))
    return NULL;

  node = ph_kubo_json_lookup (config, "API.Authorizations");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    settings->n_authorizations = json_object_get_size (json_node_get_object (node));

  return g_steal_pointer (&settings);
}

PhKuboSettings *
ph_kubo_settings_copy (const PhKuboSettings *settings)
{
  PhKuboSettings *copy;

  g_return_val_if_fail (settings != NULL, NULL);

  copy = g_memdup2 (settings, sizeof *settings);
  copy->swarm = g_strdupv (settings->swarm);
  copy->api = g_strdupv (settings->api);
  copy->gateway = g_strdupv (settings->gateway);
  copy->announce = g_strdupv (settings->announce);
  copy->append_announce = g_strdupv (settings->append_announce);
  copy->no_announce = g_strdupv (settings->no_announce);
  copy->autonat_service_mode = g_strdup (settings->autonat_service_mode);
  copy->routing_type = g_strdup (settings->routing_type);
  return copy;
}

void
ph_kubo_settings_free (PhKuboSettings *settings)
{
  if (settings == NULL)
    return;
  g_strfreev (settings->swarm);
  g_strfreev (settings->api);
  g_strfreev (settings->gateway);
  g_strfreev (settings->announce);
  g_strfreev (settings->append_announce);
  g_strfreev (settings->no_announce);
  g_free (settings->autonat_service_mode);
  g_free (settings->routing_type);
  g_free (settings);
}

gboolean
ph_kubo_flag_get (PhKuboFlag flag, gboolean default_value)
{
  return flag == PH_KUBO_FLAG_DEFAULT ? default_value : flag == PH_KUBO_FLAG_TRUE;
}

const char *
ph_kubo_flag_to_string (PhKuboFlag flag)
{
  switch (flag)
    {
      case PH_KUBO_FLAG_TRUE:
        return "true";
      case PH_KUBO_FLAG_FALSE:
        return "false";
      case PH_KUBO_FLAG_DEFAULT:
      default:
        return "default";
    }
}

void
ph_kubo_settings_get_swarm_ports (const PhKuboSettings *settings, PhKuboSwarmPorts *ports)
{
  g_return_if_fail (settings != NULL);
  g_return_if_fail (ports != NULL);

  memset (ports, 0, sizeof *ports);
  for (guint i = 0; settings->swarm[i] != NULL; i++)
    {
      g_auto (PhKuboAddr) addr = { 0 };
      gboolean ip6;

      /* kubo would refuse to start on a bad listen address; here it just counts for nothing. */
      if (!ph_kubo_addr_parse (settings->swarm[i], &addr, NULL))
        continue;
      if (addr.kind != PH_KUBO_HOST_IP4 && addr.kind != PH_KUBO_HOST_IP6)
        continue;
      ip6 = addr.kind == PH_KUBO_HOST_IP6;
      if (addr.plain_tcp)
        {
          guint16 *slot = ip6 ? &ports->tcp6 : &ports->tcp4;

          if (addr.port == 0)
            ports->tcp_random = TRUE;
          else if (*slot == 0)
            *slot = addr.port;
        }
      else if (addr.quic && addr.port != 0)
        {
          guint16 *slot = ip6 ? &ports->udp6 : &ports->udp4;

          if (*slot == 0)
            *slot = addr.port;
        }
    }
}

guint16
ph_kubo_swarm_ports_primary (const PhKuboSwarmPorts *ports)
{
  g_return_val_if_fail (ports != NULL, 0);
  return ports->tcp4 != 0 ? ports->tcp4 : ports->tcp6;
}

/* ---- files ---- */

/* Reads a whole regular file of at most `max` bytes into memory that is wiped when freed.
 * Errors are G_IO_ERROR from errno (the caller maps them), or PH_KUBO_ERROR_TOO_LARGE. */
static GBytes *
read_bounded_file (const char *path, gsize max, gboolean *shared, GError **error)
{
  struct stat st;
  guint8 *buffer;
  gsize capacity;
  gsize total = 0;
  int fd;

  /* O_NONBLOCK: a FIFO planted as the config must not hang us; it is refused below. */
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", path,
                   g_strerror (saved));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, "%s is not a regular file",
                   path);
      return NULL;
    }
  if (st.st_size < 0 || (guint64) st.st_size > max)
    {
      close (fd);
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_TOO_LARGE,
                   "%s is larger than %" G_GSIZE_FORMAT " bytes", path, max);
      return NULL;
    }
  if (shared != NULL)
    *shared = (st.st_mode & (S_IRGRP | S_IROTH)) != 0;

  /* The size may change under us: read until end of file, growing (and wiping what we leave
   * behind) up to max + 1 bytes, and look. */
  capacity = MIN ((gsize) st.st_size, max) + 1;
  buffer = g_malloc (capacity);
  for (;;)
    {
      gssize n;

      if (total == capacity && capacity <= max)
        {
          gsize bigger = MIN (capacity * 2, max + 1);
          guint8 *grown = g_malloc (bigger);

          memcpy (grown, buffer, total);
          explicit_bzero (buffer, total);
          g_free (buffer);
          buffer = grown;
          capacity = bigger;
        }
      n = read (fd, buffer + total, capacity - total);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          close (fd);
          explicit_bzero (buffer, total);
          g_free (buffer);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", path,
                       g_strerror (saved));
          return NULL;
        }
      if (n == 0)
        break;
      total += (gsize) n;
      if (total > max)
        {
          close (fd);
          explicit_bzero (buffer, total);
          g_free (buffer);
          g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_TOO_LARGE,
                       "%s is larger than %" G_GSIZE_FORMAT " bytes", path, max);
          return NULL;
        }
    }
  close (fd);
  return ph_kubo_secret_bytes_new_take (buffer, total);
}

/* The config as JSON. ENOENT means there is no repository here. */
static JsonNode *
read_config (const char *repo_path, const char *config_path, gboolean *shared, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  const char *data;
  gsize len;

  bytes = read_bounded_file (config_path, PH_KUBO_MAX_CONFIG_SIZE, shared, &local_error);
  if (bytes == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
          || g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY))
        g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_NO_NODE, _ ("no IPFS repository at %s"),
                     repo_path);
      else if (local_error->domain == PH_KUBO_ERROR)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_IO,
                     _ ("cannot read the node's config: %s"), local_error->message);
      return NULL;
    }
  data = g_bytes_get_data (bytes, &len);
  return ph_kubo_json_parse (data, len, "the node's config file", error);
}

char *
ph_kubo_repo_default_path (void)
{
  const char *env = g_getenv ("IPFS_PATH");

  if (env != NULL && *env != '\0')
    {
      /* kubo's fsutil.ExpandHome: "~" alone or "~/…". */
      if (g_str_equal (env, "~"))
        return g_strdup (g_get_home_dir ());
      if (g_str_has_prefix (env, "~/"))
        return g_build_filename (g_get_home_dir (), env + 2, NULL);
      return g_strdup (env);
    }
  return g_build_filename (g_get_home_dir (), ".ipfs", NULL);
}

char *
ph_kubo_auth_secret_to_header (const char *secret)
{
  const char *colon;

  g_return_val_if_fail (secret != NULL, NULL);

  if (*secret == '\0')
    return NULL;
  /* It becomes a header line: no control characters (no CR/LF to split it). */
  for (const char *p = secret; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return NULL;
  colon = strchr (secret, ':');
  if (colon == NULL)
    return g_strconcat ("Bearer ", secret, NULL);
  if (g_str_has_prefix (secret, "basic:"))
    {
      const char *value = secret + strlen ("basic:");
      g_autofree char *encoded = NULL;
      char *header;

      if (strchr (value, ':') == NULL)
        return g_strconcat ("Basic ", value, NULL);
      encoded = g_base64_encode ((const guint8 *) value, strlen (value));
      header = g_strconcat ("Basic ", encoded, NULL);
      explicit_bzero (encoded, strlen (encoded));
      return header;
    }
  if (g_str_has_prefix (secret, "bearer:"))
    return g_strconcat ("Bearer ", secret + strlen ("bearer:"), NULL);
  return NULL;
}

/* The paths Porthole calls; /api/v0/version is always allowed (kubo:core/corehttp/commands.go
 * withAuthSecrets). */
static const char *const needed_paths[] = {
  "/api/v0/id",
  "/api/v0/config/show",
  "/api/v0/config",
  "/api/v0/swarm/addrs/autonat",
};

static guint
auth_scope_score (JsonObject *scope)
{
  JsonNode *allowed = ph_kubo_json_object_lookup (scope, "AllowedPaths");
  g_auto (GStrv) prefixes = NULL;
  guint score = 0;

  if (!ph_kubo_json_get_strv (allowed, "AllowedPaths", &prefixes, NULL))
    return 0;
  for (gsize i = 0; i < G_N_ELEMENTS (needed_paths); i++)
    for (guint k = 0; prefixes[k] != NULL; k++)
      if (g_str_has_prefix (needed_paths[i], prefixes[k]))
        {
          score++;
          break;
        }
  return score;
}

/* The secret whose AllowedPaths cover most of what we call; the first such in the file. */
static char *
pick_authorization (JsonNode *config)
{
  JsonNode *node = ph_kubo_json_lookup (config, "API.Authorizations");
  g_autoptr (GList) users = NULL;
  char *best = NULL;
  guint best_score = 0;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  users = json_object_get_members (json_node_get_object (node));
  for (GList *l = users; l != NULL; l = l->next)
    {
      JsonNode *scope = json_object_get_member (json_node_get_object (node), l->data);
      JsonNode *secret;
      char *header;
      guint score;

      if (!JSON_NODE_HOLDS_OBJECT (scope))
        continue;
      secret = ph_kubo_json_object_lookup (json_node_get_object (scope), "AuthSecret");
      if (secret == NULL || json_node_get_value_type (secret) != G_TYPE_STRING)
        continue;
      header = ph_kubo_auth_secret_to_header (json_node_get_string (secret));
      if (header == NULL)
        continue;
      score = auth_scope_score (json_node_get_object (scope));
      if (best == NULL || score > best_score)
        {
          ph_kubo_secret_free (best);
          best = header;
          best_score = score;
        }
      else
        ph_kubo_secret_free (header);
    }
  return best;
}

/* path/api: absent (NULL, no error) when the daemon is not running. */
static gboolean
read_api_file (const char *repo_path, char **out, GError **error)
{
  g_autofree char *path = g_build_filename (repo_path, "api", NULL);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *text = NULL;
  gsize len;
  const char *data;

  *out = NULL;
  /* kubo refuses a file of 2048 bytes or more (fsrepo.go APIAddr). */
  bytes = read_bounded_file (path, PH_KUBO_MAX_API_FILE_SIZE - 1, NULL, &local_error);
  if (bytes == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return TRUE;
      g_set_error (error, PH_KUBO_ERROR,
                   local_error->domain == PH_KUBO_ERROR ? local_error->code : PH_KUBO_ERROR_IO,
                   _ ("cannot read the node's api file: %s"), local_error->message);
      return FALSE;
    }
  data = g_bytes_get_data (bytes, &len);
  if (memchr (data, '\0', len) != NULL || !g_utf8_validate (data, (gssize) len, NULL))
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED, _ ("the api file %s is not text"),
                   path);
      return FALSE;
    }
  text = g_strstrip (g_strndup (data, len));
  if (*text != '\0')
    *out = g_steal_pointer (&text);
  return TRUE;
}

PhKuboRepo *
ph_kubo_repo_open (const char *path, GError **error)
{
  g_autoptr (PhKuboRepo) repo = g_new0 (PhKuboRepo, 1);
  g_autoptr (JsonNode) config = NULL;
  JsonNode *peer_id;

  repo->path = path != NULL ? g_strdup (path) : ph_kubo_repo_default_path ();
  repo->config_path = g_build_filename (repo->path, "config", NULL);

  if (!g_file_test (repo->path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_NO_NODE, _ ("no IPFS repository at %s"),
                   repo->path);
      return NULL;
    }
  config = read_config (repo->path, repo->config_path, &repo->config_shared, error);
  if (config == NULL)
    return NULL;
  /* The settings never need the key: drop our parsed copy of it at once. */
  ph_kubo_json_wipe_string (ph_kubo_json_lookup (config, "Identity.PrivKey"));

  repo->settings = ph_kubo_settings_new_from_json (config, error);
  if (repo->settings == NULL)
    return NULL;
  peer_id = ph_kubo_json_lookup (config, "Identity.PeerID");
  if (peer_id != NULL && json_node_get_value_type (peer_id) == G_TYPE_STRING
      && *json_node_get_string (peer_id) != '\0')
    repo->peer_id = g_strdup (json_node_get_string (peer_id));
  repo->authorization = pick_authorization (config);

  if (!read_api_file (repo->path, &repo->api_address, error))
    return NULL;
  return g_steal_pointer (&repo);
}

static void
repo_open_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  PhKuboRepo *repo = ph_kubo_repo_open (task_data, &error);

  if (repo == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, repo, (GDestroyNotify) ph_kubo_repo_free);
}

void
ph_kubo_repo_open_async (const char *path, GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, ph_kubo_repo_open_async);
  g_task_set_name (task, "[porthole] kubo repo");
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, repo_open_thread);
}

PhKuboRepo *
ph_kubo_repo_open_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ph_kubo_repo_open_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
ph_kubo_repo_free (PhKuboRepo *repo)
{
  if (repo == NULL)
    return;
  g_free (repo->path);
  g_free (repo->config_path);
  ph_kubo_settings_free (repo->settings);
  g_free (repo->peer_id);
  g_free (repo->api_address);
  ph_kubo_secret_free (repo->authorization);
  g_free (repo);
}

/* ---- identity ---- */

/* Go's base64.StdEncoding: the standard alphabet, padded to a multiple of four. */
static gboolean
is_std_base64 (const char *text, gsize len)
{
  gsize padding = 0;

  if (len == 0 || len % 4 != 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];

      if (c == '=')
        {
          if (i < len - 2)
            return FALSE;
          padding++;
        }
      else if (padding > 0 || !(g_ascii_isalnum (c) || c == '+' || c == '/'))
        return FALSE;
    }
  return TRUE;
}

static GBytes *
decode_private_key (JsonNode *config, GError **error)
{
  JsonNode *node = ph_kubo_json_lookup (config, "Identity.PrivKey");
  const char *text;
  guint8 *decoded;
  gsize len;

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING
      || *json_node_get_string (node) == '\0')
    {
      g_set_error_literal (error, PH_KUBO_ERROR, PH_KUBO_ERROR_NO_IDENTITY,
                           _ ("the node's config has no Identity.PrivKey"));
      return NULL;
    }
  text = json_node_get_string (node);
  if (!is_std_base64 (text, strlen (text)))
    {
      g_set_error_literal (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED,
                           "Identity.PrivKey is not base64");
      return NULL;
    }
  decoded = g_base64_decode (text, &len);
  return ph_kubo_secret_bytes_new_take (decoded, len);
}

static gboolean
check_peer_id (JsonNode *config, PhPeerId *derived, GError **error)
{
  JsonNode *node = ph_kubo_json_lookup (config, "Identity.PeerID");
  g_autoptr (PhPeerId) written = NULL;
  g_autoptr (GError) local_error = NULL;

  /* No PeerID written: the key alone says who the node is. */
  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return TRUE;
  written = ph_peer_id_from_string (json_node_get_string (node), &local_error);
  if (written == NULL)
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED,
                   "Identity.PeerID is not a peer ID: %s", local_error->message);
      return FALSE;
    }
  if (!ph_peer_id_equal (written, derived))
    {
      g_set_error_literal (error, PH_KUBO_ERROR, PH_KUBO_ERROR_IDENTITY_MISMATCH,
                           "Identity.PrivKey is not the key of Identity.PeerID");
      return FALSE;
    }
  return TRUE;
}

PhKuboIdentity *
ph_kubo_repo_load_identity (const char *path, GError **error)
{
  g_autofree char *repo_path = path != NULL ? g_strdup (path) : ph_kubo_repo_default_path ();
  g_autofree char *config_path = g_build_filename (repo_path, "config", NULL);
  g_autoptr (JsonNode) config = NULL;
  g_autoptr (GBytes) key_bytes = NULL;
  g_autoptr (PhPrivateKey) key = NULL;
  g_autoptr (PhPeerId) peer_id = NULL;
  g_autoptr (GError) local_error = NULL;
  PhKuboIdentity *identity;
  const guint8 *data;
  gsize len;

  config = read_config (repo_path, config_path, NULL, error);
  if (config == NULL)
    return NULL;
  key_bytes = decode_private_key (config, error);
  ph_kubo_json_wipe_string (ph_kubo_json_lookup (config, "Identity.PrivKey"));
  if (key_bytes == NULL)
    return NULL;

  data = g_bytes_get_data (key_bytes, &len);
  key = ph_private_key_unmarshal (data, len, &local_error);
  if (key == NULL)
    {
      g_set_error (error, PH_KUBO_ERROR, PH_KUBO_ERROR_MALFORMED,
                   "Identity.PrivKey is not a key we can use: %s", local_error->message);
      return NULL;
    }
  peer_id = ph_peer_id_from_public_key (ph_private_key_get_public_key (key));
  if (!check_peer_id (config, peer_id, error))
    return NULL;

  identity = g_new0 (PhKuboIdentity, 1);
  identity->private_key = g_steal_pointer (&key_bytes);
  identity->peer_id = ph_peer_id_to_string (peer_id);
  identity->key_type = ph_private_key_get_key_type (key);
  return identity;
}

void
ph_kubo_identity_free (PhKuboIdentity *identity)
{
  if (identity == NULL)
    return;
  g_clear_pointer (&identity->private_key, g_bytes_unref);
  g_free (identity->peer_id);
  g_free (identity);
}
