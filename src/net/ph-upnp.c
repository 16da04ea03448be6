/* ph-upnp.c
 *
 * References: UPnP IGD:1 / IGD:2 WANIPConnection service templates (error codes 402, 501, 606,
 * 713, 714, 718, 725, 728, 729; IGD:2 §2.3.16: a lease of 0 is replaced by the maximum, 604800 s);
 * miniupnpc 2.2.4 (Debian 12) for the calls; miniupnpd 2.3 for the behaviour the netns test checks.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/miniwget.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>

#include "ph-lan.h"
#include "ph-upnp.h"

GQuark
ph_upnp_error_quark (void)
{
  return g_quark_from_static_string ("ph-upnp-error-quark");
}

#define MAX_DESC_BYTES (256 * 1024)
#define MAX_DESC_FIELD 512
#define MAX_CANDIDATES 8
#define IGD2_MAX_LEASE_S 604800
#define TIMER_GRACE_MS 500

static const char *const search_types[] = {
  "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
  "urn:schemas-upnp-org:service:WANIPConnection:1",
  "urn:schemas-upnp-org:service:WANPPPConnection:1",
  "upnp:rootdevice",
  NULL,
};

static const char *const protocols[] = { "TCP", "UDP" };

struct _PhUpnpRouter
{
  gatomicrefcount ref_count;
  struct UPNPUrls urls; /* miniupnpc's, malloc'd */
  char *service_type;
  char *desc_url;
  char *lan_address;
  char *gateway;
  PhUpnpDeviceInfo *info;
  gboolean on_gateway;
  gboolean connected;
  guint swarm_port;
  guint timeout_ms;
};

/* ---- errors ---- */

static const char *
error_nick (PhUpnpError code)
{
  static const char *const nicks[] = {
    [PH_UPNP_ERROR_NO_ROUTER] = "no-router",
    [PH_UPNP_ERROR_NOT_IGD] = "not-igd",
    [PH_UPNP_ERROR_DISCOVERY_FAILED] = "discovery-failed",
    [PH_UPNP_ERROR_NO_ANSWER] = "no-answer",
    [PH_UPNP_ERROR_BAD_ANSWER] = "bad-answer",
    [PH_UPNP_ERROR_TIMED_OUT] = "timed-out",
    [PH_UPNP_ERROR_CONFLICT] = "conflict",
    [PH_UPNP_ERROR_NOT_AUTHORIZED] = "not-authorized",
    [PH_UPNP_ERROR_ONLY_PERMANENT] = "only-permanent",
    [PH_UPNP_ERROR_INVALID_ARGS] = "invalid-args",
    [PH_UPNP_ERROR_ACTION_FAILED] = "action-failed",
    [PH_UPNP_ERROR_NO_SUCH_MAPPING] = "no-such-mapping",
    [PH_UPNP_ERROR_NO_PORTS_AVAILABLE] = "no-ports-available",
    [PH_UPNP_ERROR_CONFLICT_OTHER] = "conflict-other",
    [PH_UPNP_ERROR_REFUSED_PORT] = "refused-port",
    [PH_UPNP_ERROR_NOT_OURS] = "not-ours",
    [PH_UPNP_ERROR_FAILED] = "failed",
  };

  if ((guint) code < G_N_ELEMENTS (nicks) && nicks[code] != NULL)
    return nicks[code];
  return "failed";
}

/* The technical detail, one bracket away from the sentence. */
static char *
error_detail (int code)
{
  const char *name = strupnperror (code);

  if (code < 0)
    return g_strdup_printf (_ ("miniupnpc error %d"), code);
  /* miniupnpc names the codes it knows and calls the rest "UnknownError" */
  if (name != NULL && g_strcmp0 (name, "UnknownError") != 0)
    return g_strdup_printf (_ ("UPnP error %d, %s"), code, name);
  return g_strdup_printf (_ ("UPnP error %d"), code);
}

static GError *
error_take (PhUpnpError code, char *sentence, int upnp_code)
{
  g_autofree char *owned = sentence;
  g_autofree char *detail = error_detail (upnp_code);

  return g_error_new (PH_UPNP_ERROR, code, "%s (%s)", owned, detail);
}

static char *
not_authorized_sentence (PhUpnpAction action, guint port, const char *protocol)
{
  switch (action)
    {
      case PH_UPNP_ACTION_ADD_MAPPING:
        return g_strdup_printf (
            _ ("The router refused to forward port %u (%s) to this computer: it does not allow "
               "this device to change port forwarding. Some routers have a setting such as “Allow "
               "UPnP clients to change port forwarding”; turn it on, or forward the port by hand "
               "in the router’s admin page."),
            port, protocol);
      case PH_UPNP_ACTION_DELETE_MAPPING:
        return g_strdup_printf (
            _ ("The router refused to remove the forwarding of port %u (%s); it may belong to "
               "another device. Remove it in the router’s admin page if it should go."),
            port, protocol);
      case PH_UPNP_ACTION_LIST_MAPPINGS:
        return g_strdup (
            _ ("The router does not let this computer see its list of port forwardings."));
      case PH_UPNP_ACTION_GET_MAPPING:
        return g_strdup_printf (
            _ ("The router does not let this computer see how port %u (%s) is forwarded."), port,
            protocol);
      case PH_UPNP_ACTION_GET_EXTERNAL_ADDRESS:
      case PH_UPNP_ACTION_GET_STATUS:
      default:
        return g_strdup (
            _ ("The router does not let this computer ask about its internet connection."));
    }
}

static char *
failed_sentence (PhUpnpAction action, guint port, const char *protocol)
{
  switch (action)
    {
      case PH_UPNP_ACTION_ADD_MAPPING:
        return g_strdup_printf (
            _ ("The router could not forward port %u (%s). Try again in a minute; if it keeps "
               "failing, forward the port by hand in the router’s admin page."),
            port, protocol);
      case PH_UPNP_ACTION_DELETE_MAPPING:
        return g_strdup_printf (
            _ ("The router could not remove the forwarding of port %u (%s). Try again, or remove "
               "it in the router’s admin page."),
            port, protocol);
      case PH_UPNP_ACTION_LIST_MAPPINGS:
        return g_strdup (_ ("The router could not list its port forwardings."));
      case PH_UPNP_ACTION_GET_MAPPING:
        return g_strdup_printf (_ ("The router could not tell how port %u (%s) is forwarded."),
                                port, protocol);
      case PH_UPNP_ACTION_GET_EXTERNAL_ADDRESS:
        return g_strdup (_ ("The router could not tell its internet address."));
      case PH_UPNP_ACTION_GET_STATUS:
      default:
        return g_strdup (_ ("The router could not tell whether its internet connection is up."));
    }
}

GError *
ph_upnp_conflict_error_new (guint port, const char *protocol, const char *holder, guint holder_port,
                            const char *holder_description)
{
  char *sentence;

  g_return_val_if_fail (protocol != NULL, NULL);

  if (holder == NULL)
    /* miniupnpd in secure mode answers 718 to a request for another address (upnpsoap.c), so
     * a conflict without a holder usually means that. */
    sentence = g_strdup_printf (
        _ ("The router refused to forward port %u (%s), saying it conflicts with another "
           "forwarding, though it lists none. Routers answer this way when they only let each "
           "device forward ports to itself and the request came from another address. Check the "
           "forwardings in the router’s admin page, or forward the port by hand."),
        port, protocol);
  else if (holder_description != NULL && *holder_description != '\0')
    sentence = g_strdup_printf (
        /* Translators: port, protocol, then the device holding it: address, its port, its label */
        _ ("Port %u (%s) on the router is already forwarded to another device, %s (port %u, “%s”). "
           "Stop that device or program from using port %u, or give the node another swarm port, "
           "then try again."),
        port, protocol, holder, holder_port, holder_description, port);
  else
    sentence = g_strdup_printf (
        _ ("Port %u (%s) on the router is already forwarded to another device, %s (port %u). Stop "
           "that device from using port %u, or give the node another swarm port, then try again."),
        port, protocol, holder, holder_port, port);
  return error_take (PH_UPNP_ERROR_CONFLICT, sentence, 718);
}

GError *
ph_upnp_no_router_error_new (guint discover_ms, const char *gateway)
{
  guint seconds = MAX (1, (discover_ms + 999) / 1000);

  if (gateway != NULL)
    return g_error_new (
        PH_UPNP_ERROR, PH_UPNP_ERROR_NO_ROUTER,
        g_dngettext (GETTEXT_PACKAGE,
                     "No router answered the search for UPnP within %u second. UPnP is probably "
                     "turned off on your router. To turn it on, open the router’s admin page "
                     "(http://%s/ in a web browser), look for a setting called “UPnP” (often under "
                     "Advanced, NAT or Network), enable it, save, and check again.",
                     "No router answered the search for UPnP within %u seconds. UPnP is probably "
                     "turned off on your router. To turn it on, open the router’s admin page "
                     "(http://%s/ in a web browser), look for a setting called “UPnP” (often under "
                     "Advanced, NAT or Network), enable it, save, and check again.",
                     seconds),
        seconds, gateway);
  return g_error_new (
      PH_UPNP_ERROR, PH_UPNP_ERROR_NO_ROUTER,
      g_dngettext (
          GETTEXT_PACKAGE,
          "No router answered the search for UPnP within %u second. UPnP is probably turned off on "
          "your router. To turn it on, open the router’s admin page (the address of your default "
          "gateway, in a web browser), look for a setting called “UPnP” (often under Advanced, NAT "
          "or Network), enable it, save, and check again.",
          "No router answered the search for UPnP within %u seconds. UPnP is probably turned off "
          "on your router. To turn it on, open the router’s admin page (the address of your "
          "default gateway, in a web browser), look for a setting called “UPnP” (often under "
          "Advanced, NAT or Network), enable it, save, and check again.",
          seconds),
      seconds);
}

static GError *
timeout_error_new (guint timeout_ms)
{
  guint seconds = MAX (1, (timeout_ms + 999) / 1000);

  return g_error_new (PH_UPNP_ERROR, PH_UPNP_ERROR_TIMED_OUT,
                      g_dngettext (GETTEXT_PACKAGE,
                                   "The router took longer than %u second to answer. Check again; "
                                   "if it keeps happening, forward the port by hand.",
                                   "The router took longer than %u seconds to answer. Check again; "
                                   "if it keeps happening, forward the port by hand.",
                                   seconds),
                      seconds);
}

GError *
ph_upnp_error_new (PhUpnpAction action, int code, guint port, const char *protocol)
{
  if (protocol == NULL)
    protocol = "TCP";

  switch (code)
    {
      case UPNPCOMMAND_HTTP_ERROR:
        return error_take (PH_UPNP_ERROR_NO_ANSWER,
                           g_strdup (_ ("The router did not answer. It may be restarting, or UPnP "
                                        "may have been turned off; check again in a minute.")),
                           code);
      case UPNPCOMMAND_INVALID_RESPONSE:
      case UPNPCOMMAND_UNKNOWN_ERROR:
        return error_take (
            PH_UPNP_ERROR_BAD_ANSWER,
            g_strdup (
                _ ("The router gave an answer Porthole could not understand. Its UPnP support may "
                   "be faulty; forwarding the port by hand in the router’s admin page is the surer "
                   "road.")),
            code);
      case 402:
        return error_take (PH_UPNP_ERROR_INVALID_ARGS,
                           g_strdup (_ ("The router rejected the request as invalid. Some routers "
                                        "only accept certain ports or lease times; forwarding the "
                                        "port by hand in the router’s admin page avoids this.")),
                           code);
      case 501:
        return error_take (PH_UPNP_ERROR_ACTION_FAILED, failed_sentence (action, port, protocol),
                           code);
      case 606:
        return error_take (PH_UPNP_ERROR_NOT_AUTHORIZED,
                           not_authorized_sentence (action, port, protocol), code);
      case 713:
      case 714:
        return error_take (
            PH_UPNP_ERROR_NO_SUCH_MAPPING,
            g_strdup_printf (_ ("The router has no forwarding of port %u (%s)."), port, protocol),
            code);
      case 718:
        return ph_upnp_conflict_error_new (port, protocol, NULL, 0, NULL);
      case 725:
        return error_take (
            PH_UPNP_ERROR_ONLY_PERMANENT,
            g_strdup_printf (_ ("The router only accepts permanent port forwardings, and then "
                                "refused to make one for port %u (%s) as well. Forward the port by "
                                "hand in the router’s admin page."),
                             port, protocol),
            code);
      case 728:
        return error_take (
            PH_UPNP_ERROR_NO_PORTS_AVAILABLE,
            g_strdup (_ ("The router has no room for another port forwarding. Remove forwardings "
                         "you no longer need in its admin page, then try again.")),
            code);
      case 729:
        return error_take (PH_UPNP_ERROR_CONFLICT_OTHER,
                           g_strdup_printf (_ ("The router refused because port %u (%s) is used by "
                                               "another of its own features, such as remote "
                                               "administration. Give the node another swarm port."),
                                            port, protocol),
                           code);
      default:
        return error_take (PH_UPNP_ERROR_FAILED, failed_sentence (action, port, protocol), code);
    }
}

gboolean
ph_upnp_check_port (guint swarm_port, guint port, GError **error)
{
  if (port == PH_UPNP_API_PORT)
    {
      g_set_error (error, PH_UPNP_ERROR, PH_UPNP_ERROR_REFUSED_PORT,
                   _ ("Port %u is the IPFS node’s API port: forwarding it would let anyone on the "
                      "internet control your node, so Porthole never does."),
                   port);
      return FALSE;
    }
  if (port == PH_UPNP_GATEWAY_PORT)
    {
      g_set_error (error, PH_UPNP_ERROR, PH_UPNP_ERROR_REFUSED_PORT,
                   _ ("Port %u is the IPFS node’s gateway port: forwarding it would open your node "
                      "to everyone on the internet, so Porthole never does."),
                   port);
      return FALSE;
    }
  if (port == 0 || port > G_MAXUINT16 || port != swarm_port)
    {
      g_set_error (error, PH_UPNP_ERROR, PH_UPNP_ERROR_REFUSED_PORT,
                   _ ("Porthole only forwards the node’s swarm port (%u), never port %u."),
                   swarm_port, port);
      return FALSE;
    }
  return TRUE;
}

/* ---- external address ---- */

PhUpnpExternalScope
ph_upnp_classify_external_address (const char *address)
{
  g_autoptr (GInetAddress) inet = NULL;

  if (address == NULL || *address == '\0')
    return PH_UPNP_EXTERNAL_NONE;
  inet = g_inet_address_new_from_string (address);
  if (inet == NULL || g_inet_address_get_family (inet) != G_SOCKET_FAMILY_IPV4)
    return PH_UPNP_EXTERNAL_NONE;

  switch (ph_ip_scope_classify_inet (inet))
    {
      case PH_IP_SCOPE_PUBLIC:
        return PH_UPNP_EXTERNAL_PUBLIC;
      case PH_IP_SCOPE_PRIVATE:
        return PH_UPNP_EXTERNAL_PRIVATE;
      case PH_IP_SCOPE_CGNAT:
        return PH_UPNP_EXTERNAL_CGNAT;
      case PH_IP_SCOPE_UNSPECIFIED:
        return PH_UPNP_EXTERNAL_NONE;
      case PH_IP_SCOPE_ULA:
      case PH_IP_SCOPE_LINK_LOCAL:
      case PH_IP_SCOPE_LOOPBACK:
      case PH_IP_SCOPE_DOCUMENTATION:
      case PH_IP_SCOPE_MULTICAST:
      case PH_IP_SCOPE_RESERVED:
      default:
        return PH_UPNP_EXTERNAL_UNROUTABLE;
    }
}

const char *
ph_upnp_external_scope_to_string (PhUpnpExternalScope scope)
{
  switch (scope)
    {
      case PH_UPNP_EXTERNAL_PUBLIC:
        return "public";
      case PH_UPNP_EXTERNAL_PRIVATE:
        return "private";
      case PH_UPNP_EXTERNAL_CGNAT:
        return "cgnat";
      case PH_UPNP_EXTERNAL_UNROUTABLE:
        return "unroutable";
      case PH_UPNP_EXTERNAL_NONE:
      default:
        return "none";
    }
}

/* ---- the device description ---- */

typedef struct
{
  PhUpnpDeviceInfo *info;
  char *url_base;
  char *presentation;
  char *path[3]; /* element names (without prefix) down to depth 3 */
  guint depth;
  char **capture; /* the field being read, NULL when none */
  guint capture_depth;
  GString *text;
} DescParser;

static const char *
local_name (const char *name)
{
  const char *colon = strrchr (name, ':');
  return colon ? colon + 1 : name;
}

static char **
desc_field (DescParser *parser, const char *name)
{
  /* root > device > field: the root device's own fields, not an embedded device's */
  if (parser->depth == 3 && g_strcmp0 (parser->path[0], "root") == 0
      && g_strcmp0 (parser->path[1], "device") == 0)
    {
      if (g_str_equal (name, "deviceType"))
        return &parser->info->device_type;
      if (g_str_equal (name, "friendlyName"))
        return &parser->info->friendly_name;
      if (g_str_equal (name, "manufacturer"))
        return &parser->info->manufacturer;
      if (g_str_equal (name, "modelName"))
        return &parser->info->model_name;
      if (g_str_equal (name, "modelNumber"))
        return &parser->info->model_number;
      if (g_str_equal (name, "presentationURL"))
        return &parser->presentation;
    }
  if (parser->depth == 2 && g_strcmp0 (parser->path[0], "root") == 0
      && g_str_equal (name, "URLBase"))
    return &parser->url_base;
  return NULL;
}

static void
desc_start (GMarkupParseContext *context, const char *element, const char **names,
            const char **values, gpointer user_data, GError **error)
{
  DescParser *parser = user_data;
  const char *name = local_name (element);

  parser->depth++;
  if (parser->depth <= G_N_ELEMENTS (parser->path))
    {
      g_free (parser->path[parser->depth - 1]);
      parser->path[parser->depth - 1] = g_strdup (name);
    }
  if (parser->capture == NULL)
    {
      char **field = desc_field (parser, name);
      if (field != NULL && *field == NULL)
        {
          parser->capture = field;
          parser->capture_depth = parser->depth;
          g_string_truncate (parser->text, 0);
        }
    }
}

static void
desc_end (GMarkupParseContext *context, const char *element, gpointer user_data, GError **error)
{
  DescParser *parser = user_data;

  if (parser->capture != NULL && parser->depth == parser->capture_depth)
    {
      g_autofree char *value = g_strstrip (g_strdup (parser->text->str));
      if (*value != '\0')
        *parser->capture = g_steal_pointer (&value);
      parser->capture = NULL;
    }
  if (parser->depth > 0)
    parser->depth--;
}

static void
desc_text (GMarkupParseContext *context, const char *text, gsize len, gpointer user_data,
           GError **error)
{
  DescParser *parser = user_data;

  if (parser->capture == NULL || parser->depth != parser->capture_depth)
    return;
  if (parser->text->len + len > MAX_DESC_FIELD)
    len = MAX_DESC_FIELD - MIN (parser->text->len, MAX_DESC_FIELD);
  /* cut on a character boundary */
  if (len > 0)
    {
      const char *end = NULL;
      g_utf8_validate (text, len, &end);
      g_string_append_len (parser->text, text, end - text);
    }
}

static char *
admin_url_resolve (const char *presentation, const char *url_base, const char *desc_url)
{
  const char *base = url_base != NULL ? url_base : desc_url;
  g_autofree char *resolved = NULL;
  const char *scheme;

  if (presentation == NULL)
    return NULL;
  if (base != NULL)
    resolved = g_uri_resolve_relative (base, presentation, G_URI_FLAGS_NONE, NULL);
  else if (g_uri_is_valid (presentation, G_URI_FLAGS_NONE, NULL))
    resolved = g_strdup (presentation);
  if (resolved == NULL)
    return NULL;
  /* the UI opens it in a browser: nothing but a web page (no javascript:, file:, …) */
  scheme = g_uri_peek_scheme (resolved);
  if (scheme == NULL || (!g_str_equal (scheme, "http") && !g_str_equal (scheme, "https")))
    return NULL;
  return g_steal_pointer (&resolved);
}

PhUpnpDeviceInfo *
ph_upnp_device_info_parse (const char *xml, gsize len, const char *desc_url)
{
  static const GMarkupParser markup = { desc_start, desc_end, desc_text, NULL, NULL };
  g_autoptr (GMarkupParseContext) context = NULL;
  DescParser parser = { 0 };

  g_return_val_if_fail (xml != NULL || len == 0, NULL);

  parser.info = g_new0 (PhUpnpDeviceInfo, 1);
  parser.text = g_string_new (NULL);
  if (len <= MAX_DESC_BYTES)
    {
      /* a UTF-8 byte order mark is allowed before the XML declaration; GMarkup does not take it */
      if (len >= 3 && memcmp (xml, "\xEF\xBB\xBF", 3) == 0)
        {
          xml += 3;
          len -= 3;
        }
      context = g_markup_parse_context_new (&markup, G_MARKUP_TREAT_CDATA_AS_TEXT, &parser, NULL);
      /* what was read before an error stays: routers' XML is not always well-formed */
      if (g_markup_parse_context_parse (context, xml, len, NULL))
        g_markup_parse_context_end_parse (context, NULL);
    }
  parser.info->admin_url = admin_url_resolve (parser.presentation, parser.url_base, desc_url);

  g_string_free (parser.text, TRUE);
  g_free (parser.url_base);
  g_free (parser.presentation);
  for (guint i = 0; i < G_N_ELEMENTS (parser.path); i++)
    g_free (parser.path[i]);
  return parser.info;
}

void
ph_upnp_device_info_free (PhUpnpDeviceInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->device_type);
  g_free (info->friendly_name);
  g_free (info->manufacturer);
  g_free (info->model_name);
  g_free (info->model_number);
  g_free (info->admin_url);
  g_free (info);
}

static PhUpnpDeviceInfo *
device_info_copy (const PhUpnpDeviceInfo *info)
{
  PhUpnpDeviceInfo *copy = g_new0 (PhUpnpDeviceInfo, 1);

  copy->device_type = g_strdup (info->device_type);
  copy->friendly_name = g_strdup (info->friendly_name);
  copy->manufacturer = g_strdup (info->manufacturer);
  copy->model_name = g_strdup (info->model_name);
  copy->model_number = g_strdup (info->model_number);
  copy->admin_url = g_strdup (info->admin_url);
  return copy;
}

/* ---- mappings, warnings, facts ---- */

PhUpnpMapping *
ph_upnp_mapping_copy (const PhUpnpMapping *mapping)
{
  PhUpnpMapping *copy;

  g_return_val_if_fail (mapping != NULL, NULL);

  copy = g_memdup2 (mapping, sizeof *mapping);
  copy->protocol = g_strdup (mapping->protocol);
  copy->internal_client = g_strdup (mapping->internal_client);
  copy->description = g_strdup (mapping->description);
  copy->remote_host = g_strdup (mapping->remote_host);
  return copy;
}

void
ph_upnp_mapping_free (PhUpnpMapping *mapping)
{
  if (mapping == NULL)
    return;
  g_free (mapping->protocol);
  g_free (mapping->internal_client);
  g_free (mapping->description);
  g_free (mapping->remote_host);
  g_free (mapping);
}

static void
warning_free (PhUpnpWarning *warning)
{
  g_free (warning->code);
  g_free (warning->message);
  g_free (warning);
}

static void
warnings_take (GPtrArray *warnings, const char *code, char *message)
{
  PhUpnpWarning *warning;

  for (guint i = 0; i < warnings->len; i++)
    {
      PhUpnpWarning *old = g_ptr_array_index (warnings, i);
      if (g_str_equal (old->code, code) && g_str_equal (old->message, message))
        {
          g_free (message);
          return;
        }
    }
  warning = g_new0 (PhUpnpWarning, 1);
  warning->code = g_strdup (code);
  warning->message = message;
  g_ptr_array_add (warnings, warning);
}

static GPtrArray *
warnings_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) warning_free);
}

PhUpnpFacts *
ph_upnp_facts_new (void)
{
  PhUpnpFacts *facts = g_new0 (PhUpnpFacts, 1);

  facts->mappings = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_upnp_mapping_free);
  facts->warnings = warnings_new ();
  return facts;
}

void
ph_upnp_facts_free (PhUpnpFacts *facts)
{
  if (facts == NULL)
    return;
  g_free (facts->error);
  g_free (facts->error_code);
  ph_upnp_device_info_free (facts->router);
  g_free (facts->desc_url);
  g_free (facts->gateway);
  g_free (facts->lan_address);
  g_free (facts->external_address);
  g_ptr_array_unref (facts->mappings);
  ph_upnp_mapping_free (facts->our_tcp);
  ph_upnp_mapping_free (facts->our_udp);
  ph_upnp_mapping_free (facts->holder);
  g_ptr_array_unref (facts->warnings);
  g_free (facts);
}

static const char *
router_name (const PhUpnpDeviceInfo *info)
{
  if (info != NULL && info->friendly_name != NULL)
    return info->friendly_name;
  if (info != NULL && info->model_name != NULL)
    return info->model_name;
  return _ ("the router");
}

static void
analyse_external (PhUpnpFacts *facts)
{
  if (facts->external_address == NULL)
    return; /* not known: the query failed, and facts->error says so */

  switch (facts->external_scope)
    {
      case PH_UPNP_EXTERNAL_PRIVATE:
      case PH_UPNP_EXTERNAL_UNROUTABLE:
        warnings_take (
            facts->warnings, "double-nat",
            g_strdup_printf (_ ("The router’s own internet address, %s, is a private one: another "
                                "router sits between it and the internet (double NAT). Forwarding "
                                "a port on this router alone cannot make the node reachable; "
                                "forward it on the other router too, or put this one in bridge "
                                "mode."),
                             facts->external_address));
        break;
      case PH_UPNP_EXTERNAL_CGNAT:
        warnings_take (facts->warnings, "cgnat",
                       g_strdup_printf (_ ("The router’s internet address, %s, is in the range "
                                           "providers use for carrier-grade NAT: your provider "
                                           "shares one public address among many customers, and no "
                                           "forwarding on your router can get past that. Use IPv6 "
                                           "if your network offers it, or ask your provider for a "
                                           "public IPv4 address."),
                                        facts->external_address));
        break;
      case PH_UPNP_EXTERNAL_NONE:
        warnings_take (facts->warnings, "no-external-address",
                       g_strdup (_ ("The router has no internet address right now (it reports "
                                    "0.0.0.0 or none). Its connection may be down, or it sits "
                                    "behind another router.")));
        break;
      case PH_UPNP_EXTERNAL_PUBLIC:
      default:
        break;
    }
}

static void
analyse_mapping (PhUpnpFacts *facts, PhUpnpMapping *mapping, gboolean *api_warned,
                 gboolean *gateway_warned)
{
  mapping->to_this_host
      = facts->lan_address != NULL && g_strcmp0 (mapping->internal_client, facts->lan_address) == 0;
  mapping->to_swarm_port = mapping->to_this_host && mapping->internal_port == facts->swarm_port;
  mapping->ours = mapping->to_swarm_port && mapping->external_port == facts->swarm_port
                  && g_strcmp0 (mapping->description, PH_UPNP_DESCRIPTION) == 0;

  if (mapping->ours)
    {
      PhUpnpMapping **slot
          = g_ascii_strcasecmp (mapping->protocol, "UDP") == 0 ? &facts->our_udp : &facts->our_tcp;
      if (*slot == NULL)
        *slot = ph_upnp_mapping_copy (mapping);
    }
  if (mapping->external_port == facts->swarm_port && !mapping->to_this_host
      && facts->holder == NULL)
    facts->holder = ph_upnp_mapping_copy (mapping);

  if (mapping->to_this_host && mapping->internal_port == PH_UPNP_API_PORT && !*api_warned)
    {
      *api_warned = TRUE;
      warnings_take (facts->warnings, "api-port-mapped",
                     g_strdup_printf (_ ("The router forwards its port %u to this computer’s port "
                                         "%u, the IPFS node’s API: anyone on the internet may be "
                                         "able to control your node. Remove that forwarding in the "
                                         "router’s admin page."),
                                      mapping->external_port, mapping->internal_port));
    }
  if (mapping->to_this_host && mapping->internal_port == PH_UPNP_GATEWAY_PORT && !*gateway_warned)
    {
      *gateway_warned = TRUE;
      warnings_take (
          facts->warnings, "gateway-port-mapped",
          g_strdup_printf (_ ("The router forwards its port %u to this computer’s port %u, the "
                              "IPFS node’s gateway: anyone on the internet can use your node to "
                              "fetch content. Remove that forwarding in the router’s admin page "
                              "unless you mean to run a public gateway."),
                           mapping->external_port, mapping->internal_port));
    }
}

void
ph_upnp_facts_analyse (PhUpnpFacts *facts)
{
  gboolean api_warned = FALSE, gateway_warned = FALSE;

  g_return_if_fail (facts != NULL);

  g_clear_pointer (&facts->our_tcp, ph_upnp_mapping_free);
  g_clear_pointer (&facts->our_udp, ph_upnp_mapping_free);
  g_clear_pointer (&facts->holder, ph_upnp_mapping_free);
  if (!facts->found)
    return;

  analyse_external (facts);
  if (!facts->connected)
    warnings_take (facts->warnings, "not-connected",
                   g_strdup (_ ("The router says its internet connection is down.")));
  if (facts->gateway != NULL && !facts->on_gateway)
    warnings_take (facts->warnings, "not-on-gateway",
                   g_strdup_printf (_ ("The device that answered, %s, is not this computer’s "
                                       "gateway (%s): a port forwarded there may never reach this "
                                       "computer."),
                                    router_name (facts->router), facts->gateway));

  for (guint i = 0; i < facts->mappings->len; i++)
    analyse_mapping (facts, g_ptr_array_index (facts->mappings, i), &api_warned, &gateway_warned);

  if (facts->holder != NULL)
    warnings_take (
        facts->warnings, "swarm-port-taken",
        g_strdup_printf (_ ("The router already forwards port %u (%s) to another device, %s "
                            "(“%s”), so it cannot be forwarded to this computer."),
                         facts->holder->external_port, facts->holder->protocol,
                         facts->holder->internal_client,
                         facts->holder->description ? facts->holder->description : ""));
  if ((facts->our_tcp != NULL && facts->our_tcp->lease_s == 0)
      || (facts->our_udp != NULL && facts->our_udp->lease_s == 0))
    warnings_take (facts->warnings, "permanent-mapping",
                   g_strdup (_ ("The forwarding Porthole made is permanent, because the router "
                                "accepts no other kind. Remove it in Porthole when you no longer "
                                "need it.")));
}

static void
json_add_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
json_add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
json_add_bool (JsonBuilder *builder, const char *name, gboolean value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

static void
json_add_mapping (JsonBuilder *builder, const PhUpnpMapping *mapping)
{
  json_builder_begin_object (builder);
  json_add_int (builder, "external_port", mapping->external_port);
  json_add_string (builder, "protocol", mapping->protocol);
  json_add_string (builder, "internal_client", mapping->internal_client);
  json_add_int (builder, "internal_port", mapping->internal_port);
  json_add_string (builder, "description", mapping->description);
  json_add_bool (builder, "enabled", mapping->enabled);
  json_add_string (builder, "remote_host", mapping->remote_host);
  json_add_int (builder, "lease_seconds", mapping->lease_s);
  json_add_bool (builder, "to_this_host", mapping->to_this_host);
  json_add_bool (builder, "to_swarm_port", mapping->to_swarm_port);
  json_add_bool (builder, "ours", mapping->ours);
  json_builder_end_object (builder);
}

static void
json_add_our_mapping (JsonBuilder *builder, const PhUpnpFacts *facts)
{
  const PhUpnpMapping *any = facts->our_tcp ? facts->our_tcp : facts->our_udp;

  json_builder_set_member_name (builder, "our_mapping");
  if (any == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  json_builder_begin_object (builder);
  json_add_int (builder, "port", any->external_port);
  json_builder_set_member_name (builder, "protocols");
  json_builder_begin_array (builder);
  if (facts->our_tcp != NULL)
    json_builder_add_string_value (builder, "TCP");
  if (facts->our_udp != NULL)
    json_builder_add_string_value (builder, "UDP");
  json_builder_end_array (builder);
  json_add_string (builder, "internal_client", any->internal_client);
  json_add_int (builder, "lease_seconds", any->lease_s);
  json_add_bool (builder, "permanent", any->lease_s == 0);
  json_builder_end_object (builder);
}

JsonNode *
ph_upnp_facts_to_json (const PhUpnpFacts *facts)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (facts != NULL, NULL);

  json_builder_begin_object (builder);
  json_add_bool (builder, "found", facts->found);
  json_add_string (builder, "error", facts->error);
  json_add_string (builder, "error_code", facts->error_code);
  json_add_string (builder, "gateway", facts->gateway);

  json_builder_set_member_name (builder, "router");
  if (facts->router != NULL)
    {
      json_builder_begin_object (builder);
      json_add_string (builder, "name", facts->router->friendly_name);
      json_add_string (builder, "manufacturer", facts->router->manufacturer);
      json_add_string (builder, "model", facts->router->model_name);
      json_add_string (builder, "model_number", facts->router->model_number);
      json_add_string (builder, "device_type", facts->router->device_type);
      json_add_string (builder, "admin_url", facts->router->admin_url);
      json_add_string (builder, "desc_url", facts->desc_url);
      json_add_bool (builder, "on_gateway", facts->on_gateway);
      json_add_bool (builder, "connected", facts->connected);
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);

  json_add_string (builder, "lan_address", facts->lan_address);
  json_add_string (builder, "external_address", facts->external_address);
  json_add_string (builder, "external_scope",
                   facts->found ? ph_upnp_external_scope_to_string (facts->external_scope) : NULL);
  json_add_int (builder, "swarm_port", facts->swarm_port);

  json_builder_set_member_name (builder, "mappings");
  json_builder_begin_array (builder);
  for (guint i = 0; i < facts->mappings->len; i++)
    json_add_mapping (builder, g_ptr_array_index (facts->mappings, i));
  json_builder_end_array (builder);
  json_add_bool (builder, "mappings_truncated", facts->mappings_truncated);

  json_add_our_mapping (builder, facts);
  json_builder_set_member_name (builder, "swarm_port_holder");
  if (facts->holder != NULL)
    json_add_mapping (builder, facts->holder);
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "warnings");
  json_builder_begin_array (builder);
  for (guint i = 0; i < facts->warnings->len; i++)
    {
      const PhUpnpWarning *warning = g_ptr_array_index (facts->warnings, i);
      json_builder_begin_object (builder);
      json_add_string (builder, "code", warning->code);
      json_add_string (builder, "message", warning->message);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* ---- the router handle ---- */

PhUpnpRouter *
ph_upnp_router_ref (PhUpnpRouter *router)
{
  g_return_val_if_fail (router != NULL, NULL);
  g_atomic_ref_count_inc (&router->ref_count);
  return router;
}

void
ph_upnp_router_unref (PhUpnpRouter *router)
{
  if (router == NULL || !g_atomic_ref_count_dec (&router->ref_count))
    return;
  FreeUPNPUrls (&router->urls);
  g_free (router->service_type);
  g_free (router->desc_url);
  g_free (router->lan_address);
  g_free (router->gateway);
  ph_upnp_device_info_free (router->info);
  g_free (router);
}

static PhUpnpRouter *
router_new (void)
{
  PhUpnpRouter *router = g_new0 (PhUpnpRouter, 1);

  g_atomic_ref_count_init (&router->ref_count);
  return router;
}

const PhUpnpDeviceInfo *
ph_upnp_router_get_info (PhUpnpRouter *router)
{
  g_return_val_if_fail (router != NULL, NULL);
  return router->info;
}

const char *
ph_upnp_router_get_desc_url (PhUpnpRouter *router)
{
  g_return_val_if_fail (router != NULL, NULL);
  return router->desc_url;
}

const char *
ph_upnp_router_get_control_url (PhUpnpRouter *router)
{
  g_return_val_if_fail (router != NULL, NULL);
  return router->urls.controlURL;
}

const char *
ph_upnp_router_get_service_type (PhUpnpRouter *router)
{
  g_return_val_if_fail (router != NULL, NULL);
  return router->service_type;
}

const char *
ph_upnp_router_get_lan_address (PhUpnpRouter *router)
{
  g_return_val_if_fail (router != NULL, NULL);
  return router->lan_address;
}

gboolean
ph_upnp_router_is_on_gateway (PhUpnpRouter *router)
{
  g_return_val_if_fail (router != NULL, FALSE);
  return router->on_gateway;
}

gboolean
ph_upnp_router_is_connected (PhUpnpRouter *router)
{
  g_return_val_if_fail (router != NULL, FALSE);
  return router->connected;
}

/* ---- deadlines ---- */

typedef struct
{
  gint64 end; /* monotonic µs */
  guint timeout_ms;
} Deadline;

static Deadline
deadline_start (guint timeout_ms)
{
  Deadline deadline = { g_get_monotonic_time () + (gint64) timeout_ms * 1000, timeout_ms };
  return deadline;
}

static gboolean
deadline_passed (const Deadline *deadline)
{
  return g_get_monotonic_time () >= deadline->end;
}

/* Between two router requests: stop when cancelled or late. */
static gboolean
may_continue (const Deadline *deadline, GCancellable *cancellable, GError **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (deadline_passed (deadline))
    {
      g_propagate_error (error, timeout_error_new (deadline->timeout_ms));
      return FALSE;
    }
  return TRUE;
}

/* miniupnpc writes with send () and no MSG_NOSIGNAL: a router closing early must not kill us. */
static void
ignore_sigpipe (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      struct sigaction action;
      if (sigaction (SIGPIPE, NULL, &action) == 0 && action.sa_handler == SIG_DFL)
        signal (SIGPIPE, SIG_IGN);
      g_once_init_leave (&done, 1);
    }
}

/* ---- discovery ---- */

typedef struct
{
  char *desc_url;
  unsigned int scope_id;
  gboolean on_gateway;
  gboolean igd_hint; /* answered to an IGD or WAN*Connection search */
} Candidate;

static void
candidate_free (Candidate *candidate)
{
  g_free (candidate->desc_url);
  g_free (candidate);
}

static gboolean
url_host_is (const char *url, const char *address)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GInetAddress) a = NULL;
  g_autoptr (GInetAddress) b = NULL;

  if (address == NULL)
    return FALSE;
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return FALSE;
  a = g_inet_address_new_from_string (g_uri_get_host (uri));
  b = g_inet_address_new_from_string (address);
  return a != NULL && b != NULL && g_inet_address_equal (a, b);
}

/* Routers live on the LAN. A description or control URL anywhere else (a host name, a public
 * address) is not followed: any device on the LAN can answer the search, and must not be able to
 * send us to an address of its choosing. */
static gboolean
url_is_local (const char *url)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GInetAddress) host = NULL;

  if (url == NULL)
    return FALSE;
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "http") != 0
      || g_uri_get_host (uri) == NULL)
    return FALSE;
  host = g_inet_address_new_from_string (g_uri_get_host (uri));
  if (host == NULL)
    return FALSE;
  switch (ph_ip_scope_classify_inet (host))
    {
      case PH_IP_SCOPE_PRIVATE:
      case PH_IP_SCOPE_CGNAT:
      case PH_IP_SCOPE_ULA:
      case PH_IP_SCOPE_LINK_LOCAL:
      case PH_IP_SCOPE_LOOPBACK:
        return TRUE;
      default:
        return FALSE;
    }
}

static gint
candidate_compare (gconstpointer pa, gconstpointer pb)
{
  const Candidate *a = *(const Candidate *const *) pa;
  const Candidate *b = *(const Candidate *const *) pb;

  if (a->on_gateway != b->on_gateway)
    return a->on_gateway ? -1 : 1;
  if (a->igd_hint != b->igd_hint)
    return a->igd_hint ? -1 : 1;
  return 0;
}

/* Unique description URLs, the default gateway's first (stable sort keeps the answer order). */
static GPtrArray *
candidates_from_devlist (struct UPNPDev *devlist, const char *gateway)
{
  GPtrArray *candidates = g_ptr_array_new_with_free_func ((GDestroyNotify) candidate_free);

  for (struct UPNPDev *dev = devlist; dev != NULL; dev = dev->pNext)
    {
      Candidate *candidate = NULL;
      gboolean hint = dev->st != NULL
                      && (strstr (dev->st, "InternetGatewayDevice") != NULL
                          || strstr (dev->st, "WANIPConnection") != NULL
                          || strstr (dev->st, "WANPPPConnection") != NULL);

      if (dev->descURL == NULL || !url_is_local (dev->descURL))
        continue;
      for (guint i = 0; i < candidates->len; i++)
        {
          Candidate *old = g_ptr_array_index (candidates, i);
          if (g_str_equal (old->desc_url, dev->descURL))
            candidate = old;
        }
      if (candidate == NULL)
        {
          candidate = g_new0 (Candidate, 1);
          candidate->desc_url = g_strdup (dev->descURL);
          candidate->scope_id = dev->scope_id;
          candidate->on_gateway = url_host_is (dev->descURL, gateway);
          g_ptr_array_add (candidates, candidate);
        }
      candidate->igd_hint |= hint;
    }
  /* miniupnpc prepends each answer: restore the order they came in */
  for (guint i = 0; i < candidates->len / 2; i++)
    {
      gpointer swap = candidates->pdata[i];
      candidates->pdata[i] = candidates->pdata[candidates->len - 1 - i];
      candidates->pdata[candidates->len - 1 - i] = swap;
    }
  g_ptr_array_sort (candidates, candidate_compare);
  return candidates;
}

static gboolean
status_connected (struct UPNPUrls *urls, struct IGDdatas *data)
{
  char status[64] = { 0 };
  char last_error[64] = { 0 };
  unsigned int uptime = 0;

  if (UPNP_GetStatusInfo (urls->controlURL, data->first.servicetype, status, &uptime, last_error)
      != UPNPCOMMAND_SUCCESS)
    return FALSE;
  return g_str_equal (status, "Connected") || g_str_equal (status, "Up");
}

/* Fills router from one description; FALSE when the device is no IGD. Like UPNP_GetValidIGD, a
 * WANPPPConnection that is up wins over a WANIPConnection that is not. */
static gboolean
router_load (PhUpnpRouter *router, const Candidate *candidate, const char *xml, int size)
{
  struct IGDdatas data;

  memset (&data, 0, sizeof data);
  parserootdesc (xml, size, &data);
  if (!g_str_has_prefix (data.CIF.servicetype,
                         "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:")
      || data.first.servicetype[0] == '\0')
    return FALSE;

  GetUPNPUrls (&router->urls, &data, candidate->desc_url, candidate->scope_id);
  if (!url_is_local (router->urls.controlURL))
    {
      FreeUPNPUrls (&router->urls);
      return FALSE;
    }
  router->connected = status_connected (&router->urls, &data);
  if (!router->connected && data.second.servicetype[0] != '\0')
    {
      struct UPNPUrls second_urls;
      struct IGDdatas_service first = data.first;

      data.first = data.second;
      data.second = first;
      memset (&second_urls, 0, sizeof second_urls);
      GetUPNPUrls (&second_urls, &data, candidate->desc_url, candidate->scope_id);
      if (status_connected (&second_urls, &data))
        {
          FreeUPNPUrls (&router->urls);
          router->urls = second_urls;
          router->connected = TRUE;
        }
      else
        {
          FreeUPNPUrls (&second_urls);
          data.second = data.first;
          data.first = first;
        }
    }
  router->service_type = g_strndup (data.first.servicetype, sizeof data.first.servicetype);
  router->desc_url = g_strdup (candidate->desc_url);
  router->on_gateway = candidate->on_gateway;
  router->info = ph_upnp_device_info_parse (xml, size, candidate->desc_url);
  return TRUE;
}

static char *
default_gateway (void)
{
  g_autoptr (PhLanFacts) lan = ph_lan_facts_read (NULL);
  const PhLanRoute *route = lan ? ph_lan_facts_default_route (lan, AF_INET) : NULL;

  return route != NULL ? g_strdup (route->gateway) : NULL;
}

static PhUpnpRouter *
choose_router (GPtrArray *candidates, const PhUpnpOptions *options, const char *gateway,
               const Deadline *deadline, GCancellable *cancellable, GError **error)
{
  g_autoptr (PhUpnpRouter) best = NULL;
  g_autofree char *other_device = NULL;

  for (guint i = 0; i < candidates->len && i < MAX_CANDIDATES; i++)
    {
      const Candidate *candidate = g_ptr_array_index (candidates, i);
      g_autoptr (PhUpnpRouter) router = NULL;
      char lan_address[64] = { 0 };
      int size = 0, status = 0;
      char *xml;

      if (!may_continue (deadline, cancellable, error))
        return NULL;
      xml = miniwget_getaddr (candidate->desc_url, &size, lan_address, sizeof lan_address - 1,
                              candidate->scope_id, &status);
      if (xml == NULL)
        continue;
      router = router_new ();
      if (!router_load (router, candidate, xml, size))
        {
          if (other_device == NULL)
            {
              g_autoptr (PhUpnpDeviceInfo) info = ph_upnp_device_info_parse (xml, size, NULL);
              other_device = g_strdup (router_name (info));
            }
          free (xml);
          continue;
        }
      free (xml);
      router->lan_address = g_strdup (lan_address);
      router->gateway = g_strdup (gateway);
      router->swarm_port = options->swarm_port;
      router->timeout_ms = options->timeout_ms ? options->timeout_ms : PH_UPNP_DEFAULT_TIMEOUT_MS;

      /* the gateway's IGD is the one our traffic passes; being up only breaks ties */
      if (best == NULL || (router->on_gateway && !best->on_gateway)
          || (router->on_gateway == best->on_gateway && router->connected && !best->connected))
        {
          g_clear_pointer (&best, ph_upnp_router_unref);
          best = g_steal_pointer (&router);
        }
      if (best->connected && (best->on_gateway || gateway == NULL))
        break;
    }

  if (best != NULL)
    return g_steal_pointer (&best);
  if (other_device != NULL)
    g_set_error (
        error, PH_UPNP_ERROR, PH_UPNP_ERROR_NOT_IGD,
        _ ("A UPnP device answered (%s), but it is not a router that can forward ports. If it is "
           "your router, turn on “UPnP IGD” (port forwarding by UPnP) in its settings."),
        other_device);
  else if (candidates->len > 0)
    g_set_error (error, PH_UPNP_ERROR, PH_UPNP_ERROR_NOT_IGD,
                 _ ("A router answered the UPnP search but then did not describe itself. Restart "
                    "the router or forward the port by hand."));
  else
    g_propagate_error (error, ph_upnp_no_router_error_new (options->discover_ms, gateway));
  return NULL;
}

PhUpnpRouter *
ph_upnp_discover (const PhUpnpOptions *options, GCancellable *cancellable, GError **error)
{
  PhUpnpOptions opts;
  g_autofree char *gateway = NULL;
  g_autoptr (GPtrArray) candidates = NULL;
  struct UPNPDev *devlist;
  Deadline deadline;
  int discover_error = 0;

  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ignore_sigpipe ();
  opts = *options;
  if (opts.discover_ms == 0)
    opts.discover_ms = PH_UPNP_DEFAULT_DISCOVER_MS;
  opts.discover_ms = CLAMP (opts.discover_ms, 1000, 2000);
  if (opts.timeout_ms == 0)
    opts.timeout_ms = PH_UPNP_DEFAULT_TIMEOUT_MS;
  deadline = deadline_start (opts.timeout_ms);

  gateway = opts.gateway != NULL ? g_strdup (opts.gateway) : default_gateway ();
  if (!may_continue (&deadline, cancellable, error))
    return NULL;

  /* searchalltypes = 1: send every search at once and wait discover_ms once, not once per type */
  devlist = upnpDiscoverDevices (search_types, (int) opts.discover_ms, opts.multicast_if, NULL,
                                 UPNP_LOCAL_PORT_ANY, 0, 2, &discover_error, 1);
  if (devlist == NULL && discover_error != UPNPDISCOVER_SUCCESS)
    {
      g_set_error (
          error, PH_UPNP_ERROR, PH_UPNP_ERROR_DISCOVERY_FAILED,
          _ ("Porthole could not search the network for a router. Check that this computer is "
             "connected to a network. (miniupnpc error %d)"),
          discover_error);
      return NULL;
    }
  candidates = candidates_from_devlist (devlist, gateway);
  freeUPNPDevlist (devlist);
  return choose_router (candidates, &opts, gateway, &deadline, cancellable, error);
}

PhUpnpRouter *
ph_upnp_router_new_for_url (const char *desc_url, const PhUpnpOptions *options,
                            GCancellable *cancellable, GError **error)
{
  g_autoptr (PhUpnpRouter) router = router_new ();
  Candidate candidate = { 0 };
  char lan_address[64] = { 0 };
  int size = 0, status = 0;
  char *xml;

  g_return_val_if_fail (desc_url != NULL, NULL);
  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ignore_sigpipe ();
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  if (!url_is_local (desc_url))
    {
      g_set_error (error, PH_UPNP_ERROR, PH_UPNP_ERROR_NOT_IGD,
                   _ ("%s is not an address on your network, so Porthole does not ask it about "
                      "port forwarding."),
                   desc_url);
      return NULL;
    }
  candidate.desc_url = (char *) desc_url;
  candidate.on_gateway = url_host_is (desc_url, options->gateway);
  xml = miniwget_getaddr (desc_url, &size, lan_address, sizeof lan_address - 1, 0, &status);
  if (xml == NULL)
    {
      g_propagate_error (
          error, ph_upnp_error_new (PH_UPNP_ACTION_GET_STATUS, UPNPCOMMAND_HTTP_ERROR, 0, NULL));
      return NULL;
    }
  if (!router_load (router, &candidate, xml, size))
    {
      free (xml);
      g_set_error_literal (error, PH_UPNP_ERROR, PH_UPNP_ERROR_NOT_IGD,
                           _ ("The device at that address is not a router that can forward "
                              "ports."));
      return NULL;
    }
  free (xml);
  router->lan_address = g_strdup (lan_address);
  router->gateway = g_strdup (options->gateway);
  router->swarm_port = options->swarm_port;
  router->timeout_ms = options->timeout_ms ? options->timeout_ms : PH_UPNP_DEFAULT_TIMEOUT_MS;
  return g_steal_pointer (&router);
}

/* ---- reading ---- */

static gboolean
router_check (PhUpnpRouter *router, GError **error)
{
  if (router->urls.controlURL == NULL || router->service_type == NULL)
    {
      g_set_error_literal (error, PH_UPNP_ERROR, PH_UPNP_ERROR_NOT_IGD,
                           _ ("The router did not say where to send port forwarding requests."));
      return FALSE;
    }
  return TRUE;
}

static char *
external_address (PhUpnpRouter *router, PhUpnpExternalScope *scope, GError **error)
{
  char address[64] = { 0 };
  int r;

  r = UPNP_GetExternalIPAddress (router->urls.controlURL, router->service_type, address);
  if (r != UPNPCOMMAND_SUCCESS)
    {
      g_propagate_error (error,
                         ph_upnp_error_new (PH_UPNP_ACTION_GET_EXTERNAL_ADDRESS, r, 0, NULL));
      return NULL;
    }
  if (scope != NULL)
    *scope = ph_upnp_classify_external_address (address);
  return g_strdup (address);
}

char *
ph_upnp_get_external_address (PhUpnpRouter *router, PhUpnpExternalScope *scope,
                              GCancellable *cancellable, GError **error)
{
  Deadline deadline;

  g_return_val_if_fail (router != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  deadline = deadline_start (router->timeout_ms);
  if (!router_check (router, error) || !may_continue (&deadline, cancellable, error))
    return NULL;
  return external_address (router, scope, error);
}

static char *
clean_text (const char *text)
{
  return g_utf8_make_valid (text, -1);
}

static guint
parse_port (const char *text)
{
  guint64 value = 0;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT16, &value, NULL))
    return 0;
  return (guint) value;
}

static guint
parse_lease (const char *text)
{
  guint64 value = 0;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, &value, NULL))
    return 0;
  return (guint) value;
}

static PhUpnpMapping *
mapping_new (guint external_port, const char *protocol, const char *client, const char *internal,
             const char *description, const char *enabled, const char *remote, const char *lease)
{
  PhUpnpMapping *mapping = g_new0 (PhUpnpMapping, 1);

  mapping->external_port = external_port;
  mapping->protocol = g_ascii_strup (protocol, -1);
  mapping->internal_client = clean_text (client);
  mapping->internal_port = parse_port (internal);
  mapping->description = clean_text (description);
  mapping->enabled = g_strcmp0 (enabled, "0") != 0;
  mapping->remote_host = clean_text (remote);
  mapping->lease_s = parse_lease (lease);
  return mapping;
}

static GPtrArray *
list_mappings (PhUpnpRouter *router, gboolean *truncated, const Deadline *deadline,
               GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) mappings
      = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_upnp_mapping_free);

  *truncated = FALSE;
  for (guint i = 0;; i++)
    {
      char index[16], ext_port[16] = { 0 }, client[64] = { 0 }, int_port[16] = { 0 };
      char protocol[16] = { 0 }, description[128] = { 0 }, enabled[16] = { 0 };
      char remote[96] = { 0 }, lease[32] = { 0 };
      int r;

      if (i >= PH_UPNP_MAX_MAPPINGS)
        {
          *truncated = TRUE;
          break;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      if (deadline_passed (deadline))
        {
          *truncated = TRUE;
          break;
        }
      g_snprintf (index, sizeof index, "%u", i);
      r = UPNP_GetGenericPortMappingEntry (router->urls.controlURL, router->service_type, index,
                                           ext_port, client, int_port, protocol, description,
                                           enabled, remote, lease);
      /* the end of the list: 713 by the book; 714 and 402 from some routers */
      if (r == 713 || r == 714 || r == 402)
        break;
      if (r != UPNPCOMMAND_SUCCESS)
        {
          if (i == 0)
            {
              g_propagate_error (error,
                                 ph_upnp_error_new (PH_UPNP_ACTION_LIST_MAPPINGS, r, 0, NULL));
              return NULL;
            }
          *truncated = TRUE;
          break;
        }
      g_ptr_array_add (mappings, mapping_new (parse_port (ext_port), protocol, client, int_port,
                                              description, enabled, remote, lease));
    }
  return g_steal_pointer (&mappings);
}

GPtrArray *
ph_upnp_list_mappings (PhUpnpRouter *router, gboolean *truncated, GCancellable *cancellable,
                       GError **error)
{
  Deadline deadline;
  gboolean ignored;

  g_return_val_if_fail (router != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  deadline = deadline_start (router->timeout_ms);
  if (!router_check (router, error) || !may_continue (&deadline, cancellable, error))
    return NULL;
  return list_mappings (router, truncated ? truncated : &ignored, &deadline, cancellable, error);
}

/* TRUE with *out NULL when the router has no such mapping (714). */
static gboolean
get_mapping (PhUpnpRouter *router, guint port, const char *protocol, PhUpnpMapping **out,
             GError **error)
{
  char ext_port[16], client[64] = { 0 }, int_port[16] = { 0 }, description[128] = { 0 };
  char enabled[16] = { 0 }, lease[32] = { 0 };
  int r;

  *out = NULL;
  g_snprintf (ext_port, sizeof ext_port, "%u", port);
  r = UPNP_GetSpecificPortMappingEntry (router->urls.controlURL, router->service_type, ext_port,
                                        protocol, NULL, client, int_port, description, enabled,
                                        lease);
  if (r == 714 || r == 713)
    return TRUE;
  if (r != UPNPCOMMAND_SUCCESS)
    {
      g_propagate_error (error, ph_upnp_error_new (PH_UPNP_ACTION_GET_MAPPING, r, port, protocol));
      return FALSE;
    }
  if (client[0] == '\0')
    return TRUE; /* miniupnpc: success without NewInternalClient; treat as none */
  *out = mapping_new (port, protocol, client, int_port, description, enabled, "", lease);
  return TRUE;
}

static gboolean
mappings_contain (GPtrArray *mappings, guint port, const char *protocol)
{
  for (guint i = 0; i < mappings->len; i++)
    {
      const PhUpnpMapping *mapping = g_ptr_array_index (mappings, i);
      if (mapping->external_port == port && g_ascii_strcasecmp (mapping->protocol, protocol) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
facts_fill_router (PhUpnpFacts *facts, PhUpnpRouter *router)
{
  facts->found = TRUE;
  facts->router = device_info_copy (router->info);
  facts->desc_url = g_strdup (router->desc_url);
  facts->gateway = g_strdup (router->gateway);
  facts->on_gateway = router->on_gateway;
  facts->connected = router->connected;
  facts->lan_address = g_strdup (router->lan_address);
  facts->swarm_port = router->swarm_port;
}

static void
facts_note_error (PhUpnpFacts *facts, GError *error)
{
  if (facts->error == NULL)
    {
      facts->error = g_strdup (error->message);
      facts->error_code = g_strdup (error_nick (error->code));
    }
}

static gboolean
facts_read_mappings (PhUpnpFacts *facts, PhUpnpRouter *router, const Deadline *deadline,
                     GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GPtrArray) mappings = NULL;

  mappings
      = list_mappings (router, &facts->mappings_truncated, deadline, cancellable, &local_error);
  if (mappings != NULL)
    g_ptr_array_extend_and_steal (facts->mappings, g_steal_pointer (&mappings));
  else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  else if (g_error_matches (local_error, PH_UPNP_ERROR, PH_UPNP_ERROR_NOT_AUTHORIZED))
    warnings_take (facts->warnings, "list-refused", g_strdup (local_error->message));
  else
    facts_note_error (facts, local_error);

  if (facts->mappings_truncated)
    warnings_take (facts->warnings, "list-truncated",
                   g_strdup (_ ("The router has more port forwardings than Porthole read; only the "
                                "first ones are shown.")));

  /* the swarm port, asked for by name: the list may be refused, cut short or stale */
  if (facts->swarm_port == 0)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (protocols); i++)
    {
      g_autoptr (GError) get_error = NULL;
      PhUpnpMapping *mapping = NULL;

      if (mappings_contain (facts->mappings, facts->swarm_port, protocols[i]))
        continue;
      if (!may_continue (deadline, cancellable, &get_error))
        {
          if (g_error_matches (get_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&get_error));
              return FALSE;
            }
          break;
        }
      if (get_mapping (router, facts->swarm_port, protocols[i], &mapping, &get_error)
          && mapping != NULL)
        g_ptr_array_add (facts->mappings, mapping);
    }
  return TRUE;
}

PhUpnpFacts *
ph_upnp_read_facts (PhUpnpRouter *router, GCancellable *cancellable, GError **error)
{
  g_autoptr (PhUpnpFacts) facts = ph_upnp_facts_new ();
  g_autoptr (GError) local_error = NULL;
  Deadline deadline;

  g_return_val_if_fail (router != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  deadline = deadline_start (router->timeout_ms);
  facts_fill_router (facts, router);
  if (!router_check (router, error) || !may_continue (&deadline, cancellable, error))
    return NULL;

  facts->external_address = external_address (router, &facts->external_scope, &local_error);
  if (local_error != NULL)
    facts_note_error (facts, local_error);
  if (!may_continue (&deadline, cancellable, error))
    return NULL;
  if (!facts_read_mappings (facts, router, &deadline, cancellable, error))
    return NULL;
  ph_upnp_facts_analyse (facts);
  return g_steal_pointer (&facts);
}

PhUpnpFacts *
ph_upnp_gather (const PhUpnpOptions *options, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (PhUpnpRouter) router = NULL;
  g_autofree char *gateway = NULL;
  PhUpnpOptions opts;
  PhUpnpFacts *facts;

  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  opts = *options;
  if (opts.gateway == NULL)
    opts.gateway = gateway = default_gateway ();
  router = ph_upnp_discover (&opts, cancellable, &local_error);
  if (router == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      facts = ph_upnp_facts_new ();
      facts->swarm_port = options->swarm_port;
      facts->gateway = g_strdup (opts.gateway);
      facts_note_error (facts, local_error);
      return facts;
    }
  facts = ph_upnp_read_facts (router, cancellable, &local_error);
  if (facts == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      facts = ph_upnp_facts_new ();
      facts_fill_router (facts, router);
      facts_note_error (facts, local_error);
      ph_upnp_facts_analyse (facts);
    }
  return facts;
}

/* ---- mapping ---- */

void
ph_upnp_map_result_free (PhUpnpMapResult *result)
{
  if (result == NULL)
    return;
  g_free (result->internal_client);
  g_free (result->change_id);
  g_clear_pointer (&result->warnings, g_ptr_array_unref);
  g_free (result);
}

guint
ph_upnp_map_result_renew_in (const PhUpnpMapResult *result)
{
  g_return_val_if_fail (result != NULL, 0);

  if (result->permanent || result->already_there || result->lease_s == 0)
    return 0;
  /* two thirds of the lease: time for a retry or two before it ends */
  return MAX (result->lease_s * 2 / 3, 1);
}

static gboolean
is_ours (const PhUpnpMapping *mapping, PhUpnpRouter *router, guint port)
{
  return g_strcmp0 (mapping->internal_client, router->lan_address) == 0
         && mapping->internal_port == port
         && g_strcmp0 (mapping->description, PH_UPNP_DESCRIPTION) == 0;
}

static int
add_one (PhUpnpRouter *router, guint port, const char *protocol, guint lease_s)
{
  char port_text[16], lease_text[16];

  g_snprintf (port_text, sizeof port_text, "%u", port);
  g_snprintf (lease_text, sizeof lease_text, "%u", lease_s);
  return UPNP_AddPortMapping (router->urls.controlURL, router->service_type, port_text, port_text,
                              router->lan_address, PH_UPNP_DESCRIPTION, protocol, NULL, lease_text);
}

static int
delete_one (PhUpnpRouter *router, guint port, const char *protocol)
{
  char port_text[16];

  g_snprintf (port_text, sizeof port_text, "%u", port);
  return UPNP_DeletePortMapping (router->urls.controlURL, router->service_type, port_text, protocol,
                                 NULL);
}

/* 725 → permanent; 402 on a permanent lease → the longest finite one IGD:2 allows. */
static int
add_with_lease_fallback (PhUpnpRouter *router, guint port, const char *protocol, guint lease_s,
                         guint *granted)
{
  int r = add_one (router, port, protocol, lease_s);

  *granted = lease_s;
  if (r == 725 && lease_s != 0)
    {
      r = add_one (router, port, protocol, 0);
      *granted = 0;
      if (r == 402)
        {
          r = add_one (router, port, protocol, IGD2_MAX_LEASE_S);
          *granted = IGD2_MAX_LEASE_S;
          if (r == 725 || r == 402)
            r = 725; /* it wants permanent leases and refuses them: say so */
        }
    }
  return r;
}

static GError *
conflict_error (PhUpnpRouter *router, guint port, const char *protocol)
{
  g_autoptr (PhUpnpMapping) holder = NULL;

  if (get_mapping (router, port, protocol, &holder, NULL) && holder != NULL
      && g_strcmp0 (holder->internal_client, router->lan_address) != 0)
    return ph_upnp_conflict_error_new (port, protocol, holder->internal_client,
                                       holder->internal_port, holder->description);
  return ph_upnp_conflict_error_new (port, protocol, NULL, 0, NULL);
}

static char *
change_key (const char *control_url, guint port)
{
  return g_strdup_printf ("%s#%u", control_url, port);
}

static JsonObject *
change_undo_new (PhUpnpRouter *router, guint port, GPtrArray *mapped, guint lease_s,
                 gboolean permanent, gint64 expires_at)
{
  JsonObject *undo = json_object_new ();
  JsonArray *list = json_array_new ();

  json_object_set_string_member (undo, "control_url", router->urls.controlURL);
  json_object_set_string_member (undo, "service_type", router->service_type);
  json_object_set_string_member (undo, "desc_url", router->desc_url);
  json_object_set_string_member (undo, "router_name", router_name (router->info));
  json_object_set_int_member (undo, "port", port);
  for (guint i = 0; i < mapped->len; i++)
    json_array_add_string_element (list, g_ptr_array_index (mapped, i));
  json_object_set_array_member (undo, "protocols", list);
  json_object_set_string_member (undo, "internal_client", router->lan_address);
  json_object_set_string_member (undo, "description", PH_UPNP_DESCRIPTION);
  json_object_set_int_member (undo, "lease_seconds", lease_s);
  json_object_set_boolean_member (undo, "permanent", permanent);
  json_object_set_int_member (undo, "expires_at", expires_at);
  return undo;
}

static char *
protocols_text (GPtrArray *mapped)
{
  if (mapped->len == 2)
    return g_strdup (_ ("TCP and UDP"));
  return g_strdup (mapped->len == 1 ? g_ptr_array_index (mapped, 0) : "");
}

static char *
record_mapping (PhUpnpRouter *router, guint port, GPtrArray *mapped, PhUpnpMapResult *result,
                PhChangeLog *log, GError **error)
{
  g_autofree char *key = change_key (router->urls.controlURL, port);
  g_autofree char *protos = protocols_text (mapped);
  g_autofree char *summary = NULL;
  g_autofree char *hint = NULL;
  g_autoptr (JsonObject) undo = NULL;
  g_autoptr (PhChange) change = NULL;
  g_autoptr (GError) local_error = NULL;
  char *id;

  summary = g_strdup_printf (_ ("Forwarded port %u (%s) on %s to this computer (%s)."), port,
                             protos, router_name (router->info), router->lan_address);
  if (router->info->admin_url != NULL)
    hint = g_strdup_printf (_ ("In the router’s admin page (%s), remove the forwarding of port %u "
                               "named “%s”."),
                            router->info->admin_url, port, PH_UPNP_DESCRIPTION);
  else
    hint = g_strdup_printf (_ ("In the router’s admin page, remove the forwarding of port %u named "
                               "“%s”."),
                            port, PH_UPNP_DESCRIPTION);
  undo = change_undo_new (router, port, mapped, result->lease_s, result->permanent,
                          result->expires_at);
  change = ph_change_new (PH_UPNP_CHANGE_KIND, key, summary, hint, undo);

  id = ph_change_log_record (log, change, &local_error);
  /* a damaged log was set aside: tell the user, and record in the fresh one */
  if (id == NULL && g_error_matches (local_error, PH_CHANGE_LOG_ERROR, PH_CHANGE_LOG_ERROR_CORRUPT))
    {
      warnings_take (result->warnings, "change-log-set-aside", g_strdup (local_error->message));
      g_clear_error (&local_error);
      id = ph_change_log_record (log, change, &local_error);
    }
  if (id == NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return id;
}

static void
rollback (PhUpnpRouter *router, guint port, GPtrArray *mapped)
{
  for (guint i = 0; i < mapped->len; i++)
    delete_one (router, port, g_ptr_array_index (mapped, i));
}

typedef enum
{
  PLAN_MAP,   /* nothing there, or ours: (re)make it */
  PLAN_LEAVE, /* this host's swarm port, mapped by something else (the node): leave it */
} Plan;

/* What to do for one protocol, or an error when another device holds the port. */
static gboolean
plan_protocol (PhUpnpRouter *router, guint port, const char *protocol, Plan *plan, GError **error)
{
  g_autoptr (PhUpnpMapping) existing = NULL;
  g_autoptr (GError) local_error = NULL;

  *plan = PLAN_MAP;
  if (!get_mapping (router, port, protocol, &existing, &local_error))
    {
      /* some routers refuse to describe mappings; AddPortMapping will still tell us */
      if (g_error_matches (local_error, PH_UPNP_ERROR, PH_UPNP_ERROR_NO_ANSWER))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      return TRUE;
    }
  if (existing == NULL || is_ours (existing, router, port))
    return TRUE;
  if (g_strcmp0 (existing->internal_client, router->lan_address) != 0)
    {
      g_propagate_error (
          error, ph_upnp_conflict_error_new (port, protocol, existing->internal_client,
                                             existing->internal_port, existing->description));
      return FALSE;
    }
  if (existing->internal_port == port)
    {
      *plan = PLAN_LEAVE;
      return TRUE;
    }
  /* this host, another port, another program: overwriting would break that program */
  g_propagate_error (error,
                     ph_upnp_conflict_error_new (port, protocol, existing->internal_client,
                                                 existing->internal_port, existing->description));
  return FALSE;
}

static void
result_learn_lease (PhUpnpRouter *router, guint port, PhUpnpMapResult *result)
{
  g_autoptr (PhUpnpMapping) made = NULL;

  /* what the router really granted: IGD:2 turns 0 into 604800, some ignore the lease */
  if (get_mapping (router, port, "TCP", &made, NULL) && made != NULL
      && is_ours (made, router, port))
    {
      result->lease_s = made->lease_s;
      if (made->lease_s == 0)
        result->permanent = TRUE;
    }
  result->expires_at
      = result->permanent ? 0 : g_get_real_time () / G_USEC_PER_SEC + result->lease_s;
}

static PhUpnpMapResult *
map_port (PhUpnpRouter *router, guint port, guint lease_s, PhChangeLog *log, gboolean renew,
          GCancellable *cancellable, GError **error)
{
  g_autoptr (PhUpnpMapResult) result = g_new0 (PhUpnpMapResult, 1);
  g_autoptr (GPtrArray) mapped = g_ptr_array_new (); /* static protocol names */
  g_autoptr (GPtrArray) created = g_ptr_array_new ();
  g_autoptr (GError) local_error = NULL;
  Plan plans[G_N_ELEMENTS (protocols)];
  Deadline deadline;
  guint left = 0;

  deadline = deadline_start (router->timeout_ms);
  if (!ph_upnp_check_port (router->swarm_port, port, error) || !router_check (router, error))
    return NULL;
  if (router->lan_address == NULL || *router->lan_address == '\0')
    {
      g_set_error_literal (error, PH_UPNP_ERROR, PH_UPNP_ERROR_FAILED,
                           _ ("Porthole could not tell this computer’s address on the router’s "
                              "network, so it cannot ask for a forwarding to it."));
      return NULL;
    }
  if (lease_s == 0)
    lease_s = PH_UPNP_DEFAULT_LEASE_S;
  result->port = port;
  result->internal_client = g_strdup (router->lan_address);
  result->warnings = warnings_new ();

  for (guint i = 0; i < G_N_ELEMENTS (protocols); i++)
    {
      if (!may_continue (&deadline, cancellable, error)
          || !plan_protocol (router, port, protocols[i], &plans[i], error))
        return NULL;
      left += plans[i] == PLAN_LEAVE;
    }
  if (left == G_N_ELEMENTS (protocols))
    {
      result->already_there = TRUE;
      return g_steal_pointer (&result);
    }

  for (guint i = 0; i < G_N_ELEMENTS (protocols); i++)
    {
      guint granted = lease_s;
      int r;

      if (plans[i] == PLAN_LEAVE)
        continue;
      if (!may_continue (&deadline, cancellable, &local_error))
        break;
      r = add_with_lease_fallback (router, port, protocols[i], lease_s, &granted);
      if (r != UPNPCOMMAND_SUCCESS)
        {
          local_error = r == 718
                            ? conflict_error (router, port, protocols[i])
                            : ph_upnp_error_new (PH_UPNP_ACTION_ADD_MAPPING, r, port, protocols[i]);
          break;
        }
      g_ptr_array_add (mapped, (gpointer) protocols[i]);
      g_ptr_array_add (created, (gpointer) protocols[i]);
      result->lease_s = granted;
      result->permanent |= granted == 0;
    }
  if (local_error != NULL)
    {
      /* both or neither: a renewal keeps what was there before */
      if (!renew)
        rollback (router, port, created);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  result_learn_lease (router, port, result);
  if (log != NULL)
    {
      result->change_id = record_mapping (router, port, mapped, result, log, &local_error);
      if (result->change_id == NULL && !renew)
        {
          /* never leave a change nobody can find again */
          rollback (router, port, created);
          g_set_error (error, PH_UPNP_ERROR, PH_UPNP_ERROR_FAILED,
                       _ ("Porthole removed the forwarding again because it could not write it "
                          "down: %s"),
                       local_error->message);
          return NULL;
        }
      if (result->change_id == NULL)
        warnings_take (result->warnings, "change-log-failed", g_strdup (local_error->message));
    }
  return g_steal_pointer (&result);
}

PhUpnpMapResult *
ph_upnp_add_mapping (PhUpnpRouter *router, guint port, guint lease_s, PhChangeLog *log,
                     GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (router != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ignore_sigpipe ();
  return map_port (router, port, lease_s, log, FALSE, cancellable, error);
}

PhUpnpMapResult *
ph_upnp_renew_mapping (PhUpnpRouter *router, guint port, guint lease_s, PhChangeLog *log,
                       GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (router != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ignore_sigpipe ();
  return map_port (router, port, lease_s, log, TRUE, cancellable, error);
}

/* Removes what is ours among protocols; mappings of others stay. */
static gboolean
unmap_port (PhUpnpRouter *router, guint port, const char *const *protos, guint n_protos,
            const Deadline *deadline, GCancellable *cancellable, GError **error)
{
  g_autoptr (PhUpnpMapping) foreign = NULL;
  guint removed = 0;

  for (guint i = 0; i < n_protos; i++)
    {
      g_autoptr (PhUpnpMapping) existing = NULL;
      g_autoptr (GError) local_error = NULL;
      int r;

      if (!may_continue (deadline, cancellable, error))
        return FALSE;
      if (!get_mapping (router, port, protos[i], &existing, &local_error))
        {
          if (!g_error_matches (local_error, PH_UPNP_ERROR, PH_UPNP_ERROR_NOT_AUTHORIZED))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          /* cannot look: delete by name; a router in secure mode refuses for others' */
        }
      else if (existing == NULL)
        continue; /* gone already (lease ended, router restarted) */
      else if (!is_ours (existing, router, port))
        {
          if (foreign == NULL)
            foreign = g_steal_pointer (&existing);
          continue;
        }

      r = delete_one (router, port, protos[i]);
      if (r != UPNPCOMMAND_SUCCESS && r != 714)
        {
          g_propagate_error (error,
                             ph_upnp_error_new (PH_UPNP_ACTION_DELETE_MAPPING, r, port, protos[i]));
          return FALSE;
        }
      removed++;
    }
  if (foreign != NULL && removed == 0)
    {
      g_set_error (
          error, PH_UPNP_ERROR, PH_UPNP_ERROR_NOT_OURS,
          _ ("The forwarding of port %u on the router was not made by Porthole (it goes to %s and "
             "is named “%s”), so Porthole leaves it alone."),
          port, foreign->internal_client, foreign->description);
      return FALSE;
    }
  return TRUE;
}

static gboolean
forget_change (PhChangeLog *log, const char *control_url, guint port, GError **error)
{
  g_autofree char *key = change_key (control_url, port);
  g_autoptr (PhChange) change = NULL;
  g_autoptr (GError) local_error = NULL;

  change = ph_change_log_find (log, PH_UPNP_CHANGE_KIND, key, &local_error);
  if (change == NULL
      && g_error_matches (local_error, PH_CHANGE_LOG_ERROR, PH_CHANGE_LOG_ERROR_CORRUPT))
    {
      /* set aside and reported in the log; nothing of ours is left to forget */
      g_message ("%s", local_error->message);
      return TRUE;
    }
  if (change == NULL && local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (change == NULL)
    return TRUE;
  return ph_change_log_remove (log, change->id, error);
}

gboolean
ph_upnp_remove_mapping (PhUpnpRouter *router, guint port, PhChangeLog *log,
                        GCancellable *cancellable, GError **error)
{
  Deadline deadline;

  g_return_val_if_fail (router != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ignore_sigpipe ();
  deadline = deadline_start (router->timeout_ms);
  if (!ph_upnp_check_port (router->swarm_port, port, error) || !router_check (router, error))
    return FALSE;
  if (!unmap_port (router, port, protocols, G_N_ELEMENTS (protocols), &deadline, cancellable,
                   error))
    return FALSE;
  return log == NULL || forget_change (log, router->urls.controlURL, port, error);
}

/* A router handle rebuilt from a change-log entry: enough to remove what it describes. */
static PhUpnpRouter *
router_from_change (const PhChange *change, guint timeout_ms, GPtrArray *protos, GError **error)
{
  g_autoptr (PhUpnpRouter) router = router_new ();
  JsonObject *undo = change->undo;
  const char *control_url, *service_type, *client;
  JsonArray *list;
  gint64 port;

  if (undo == NULL || !g_str_equal (change->kind, PH_UPNP_CHANGE_KIND))
    goto bad;
  control_url = json_object_get_string_member_with_default (undo, "control_url", NULL);
  service_type = json_object_get_string_member_with_default (undo, "service_type", NULL);
  client = json_object_get_string_member_with_default (undo, "internal_client", NULL);
  port = json_object_get_int_member_with_default (undo, "port", 0);
  list = json_object_has_member (undo, "protocols")
             ? json_object_get_array_member (undo, "protocols")
             : NULL;
  if (!url_is_local (control_url) || service_type == NULL || client == NULL
      || !g_hostname_is_ip_address (client) || port <= 0 || port > G_MAXUINT16 || list == NULL)
    goto bad;
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      const char *name = json_array_get_string_element (list, i);
      for (guint j = 0; name != NULL && j < G_N_ELEMENTS (protocols); j++)
        if (g_str_equal (name, protocols[j]))
          g_ptr_array_add (protos, (gpointer) protocols[j]);
    }

  router->urls.controlURL = strdup (control_url);
  router->service_type = g_strdup (service_type);
  router->lan_address = g_strdup (client);
  router->swarm_port = (guint) port;
  router->timeout_ms = timeout_ms ? timeout_ms : PH_UPNP_DEFAULT_TIMEOUT_MS;
  router->info = g_new0 (PhUpnpDeviceInfo, 1);
  router->info->friendly_name
      = g_strdup (json_object_get_string_member_with_default (undo, "router_name", NULL));
  return g_steal_pointer (&router);

bad:
  g_set_error (error, PH_UPNP_ERROR, PH_UPNP_ERROR_FAILED,
               _ ("Porthole’s note of this change is incomplete, so it cannot undo it. %s"),
               change->undo_hint ? change->undo_hint : "");
  return NULL;
}

gboolean
ph_upnp_undo_change (const PhChange *change, PhChangeLog *log, guint timeout_ms,
                     GCancellable *cancellable, GError **error)
{
  g_autoptr (PhUpnpRouter) router = NULL;
  g_autoptr (GPtrArray) protos = g_ptr_array_new ();
  g_autoptr (GError) local_error = NULL;
  Deadline deadline;

  g_return_val_if_fail (change != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ignore_sigpipe ();
  router = router_from_change (change, timeout_ms, protos, error);
  if (router == NULL)
    return FALSE;
  deadline = deadline_start (router->timeout_ms);
  if (!unmap_port (router, router->swarm_port, (const char *const *) protos->pdata, protos->len,
                   &deadline, cancellable, &local_error))
    {
      /* someone else's mapping now holds the port: ours is gone, and theirs stays */
      if (!g_error_matches (local_error, PH_UPNP_ERROR, PH_UPNP_ERROR_NOT_OURS))
        {
          if (local_error->domain == PH_UPNP_ERROR && change->undo_hint != NULL)
            g_set_error (error, PH_UPNP_ERROR, local_error->code, "%s %s", local_error->message,
                         change->undo_hint);
          else
            g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  if (log != NULL && change->id != NULL)
    {
      g_clear_error (&local_error);
      if (!ph_change_log_remove (log, change->id, &local_error)
          && !g_error_matches (local_error, PH_CHANGE_LOG_ERROR, PH_CHANGE_LOG_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- async: GTask threads with a deadline ---- */

typedef gpointer (*WorkFunc) (gpointer input, GCancellable *cancellable, GError **error);

/* Shared by the task and its timer, which may outlive each other. */
typedef struct
{
  GCancellable *inner;
  gint timed_out;
} Timer;

static void
timer_clear (gpointer data)
{
  Timer *timer = data;
  g_clear_object (&timer->inner);
}

static void
timer_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, timer_clear);
}

static gboolean
timer_fired (gpointer data)
{
  Timer *timer = data;

  g_atomic_int_set (&timer->timed_out, 1);
  g_cancellable_cancel (timer->inner);
  return G_SOURCE_REMOVE;
}

typedef struct
{
  WorkFunc func;
  gpointer input;
  GDestroyNotify input_free;
  GDestroyNotify result_free;
  GCancellable *outer;
  gulong outer_handler;
  Timer *timer;
  GSource *source;
  guint timeout_ms;
} AsyncOp;

static void
async_op_free (AsyncOp *op)
{
  if (op->outer != NULL)
    {
      g_cancellable_disconnect (op->outer, op->outer_handler);
      g_object_unref (op->outer);
    }
  if (op->source != NULL)
    {
      g_source_destroy (op->source);
      g_source_unref (op->source);
    }
  timer_release (op->timer);
  if (op->input_free != NULL)
    op->input_free (op->input);
  g_free (op);
}

static void
outer_cancelled (GCancellable *outer, gpointer inner)
{
  g_cancellable_cancel (G_CANCELLABLE (inner));
}

static void
async_op_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  AsyncOp *op = task_data;
  GError *error = NULL;
  gpointer result = op->func (op->input, cancellable, &error);

  if (result != NULL)
    g_task_return_pointer (task, result, op->result_free);
  else
    g_task_return_error (task, error);
}

static void
run_async (gpointer source_tag, WorkFunc func, gpointer input, GDestroyNotify input_free,
           GDestroyNotify result_free, guint timeout_ms, GCancellable *cancellable,
           GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GCancellable) inner = g_cancellable_new ();
  g_autoptr (GTask) task = g_task_new (NULL, inner, callback, user_data);
  g_autoptr (GMainContext) context = g_main_context_ref_thread_default ();
  AsyncOp *op = g_new0 (AsyncOp, 1);

  g_task_set_source_tag (task, source_tag);
  op->func = func;
  op->input = input;
  op->input_free = input_free;
  op->result_free = result_free;
  op->timeout_ms = timeout_ms;
  op->timer = g_atomic_rc_box_new0 (Timer);
  op->timer->inner = g_object_ref (inner);
  g_task_set_task_data (task, op, (GDestroyNotify) async_op_free);

  if (cancellable != NULL)
    {
      op->outer = g_object_ref (cancellable);
      op->outer_handler = g_cancellable_connect (cancellable, G_CALLBACK (outer_cancelled),
                                                 g_object_ref (inner), g_object_unref);
    }
  /* the workers check the deadline between requests; this catches a request stuck inside
   * miniupnpc, and hands the answer back while that thread finishes on its own */
  op->source = g_timeout_source_new (timeout_ms + TIMER_GRACE_MS);
  g_source_set_callback (op->source, timer_fired, g_atomic_rc_box_acquire (op->timer),
                         timer_release);
  g_source_attach (op->source, context);

  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, async_op_thread);
}

static gpointer
run_finish (GAsyncResult *result, gconstpointer source_tag, GError **error)
{
  GTask *task = G_TASK (result);
  AsyncOp *op;
  g_autoptr (GError) local_error = NULL;
  gpointer value;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (task) == source_tag, NULL);

  op = g_task_get_task_data (task);
  value = g_task_propagate_pointer (task, &local_error);
  if (value != NULL)
    return value;
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      && g_atomic_int_get (&op->timer->timed_out)
      && (op->outer == NULL || !g_cancellable_is_cancelled (op->outer)))
    {
      g_propagate_error (error, timeout_error_new (op->timeout_ms));
      return NULL;
    }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

/* inputs */

typedef struct
{
  PhUpnpRouter *router;
  guint port;
  guint lease_s;
  PhChangeLog *log;
} RouterInput;

static void
router_input_free (RouterInput *input)
{
  ph_upnp_router_unref (input->router);
  if (input->log != NULL)
    ph_change_log_unref (input->log);
  g_free (input);
}

static RouterInput *
router_input_new (PhUpnpRouter *router, guint port, guint lease_s, PhChangeLog *log)
{
  RouterInput *input = g_new0 (RouterInput, 1);

  input->router = ph_upnp_router_ref (router);
  input->port = port;
  input->lease_s = lease_s;
  input->log = log ? ph_change_log_ref (log) : NULL;
  return input;
}

typedef struct
{
  PhUpnpOptions options;
  char *gateway;
  char *multicast_if;
  char *desc_url; /* ph_upnp_router_new_for_url_async only */
} OptionsInput;

static void
options_input_free (OptionsInput *input)
{
  g_free (input->gateway);
  g_free (input->multicast_if);
  g_free (input->desc_url);
  g_free (input);
}

static OptionsInput *
options_input_new (const PhUpnpOptions *options)
{
  OptionsInput *input = g_new0 (OptionsInput, 1);

  input->options = *options;
  input->gateway = g_strdup (options->gateway);
  input->multicast_if = g_strdup (options->multicast_if);
  input->options.gateway = input->gateway;
  input->options.multicast_if = input->multicast_if;
  return input;
}

static guint
options_timeout (const PhUpnpOptions *options)
{
  return options->timeout_ms ? options->timeout_ms : PH_UPNP_DEFAULT_TIMEOUT_MS;
}

/* discover */

static gpointer
discover_work (gpointer data, GCancellable *cancellable, GError **error)
{
  OptionsInput *input = data;
  return ph_upnp_discover (&input->options, cancellable, error);
}

void
ph_upnp_discover_async (const PhUpnpOptions *options, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (options != NULL);
  run_async (ph_upnp_discover_async, discover_work, options_input_new (options),
             (GDestroyNotify) options_input_free, (GDestroyNotify) ph_upnp_router_unref,
             options_timeout (options), cancellable, callback, user_data);
}

PhUpnpRouter *
ph_upnp_discover_finish (GAsyncResult *result, GError **error)
{
  return run_finish (result, ph_upnp_discover_async, error);
}

/* a router from its description's URL */

static gpointer
router_for_url_work (gpointer data, GCancellable *cancellable, GError **error)
{
  OptionsInput *input = data;
  return ph_upnp_router_new_for_url (input->desc_url, &input->options, cancellable, error);
}

void
ph_upnp_router_new_for_url_async (const char *desc_url, const PhUpnpOptions *options,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  OptionsInput *input;

  g_return_if_fail (desc_url != NULL);
  g_return_if_fail (options != NULL);
  input = options_input_new (options);
  input->desc_url = g_strdup (desc_url);
  /* miniwget has a timeout per read, none for the whole fetch: a router that trickles its
   * description is cut off here, and its worker left to finish on its own */
  run_async (ph_upnp_router_new_for_url_async, router_for_url_work, input,
             (GDestroyNotify) options_input_free, (GDestroyNotify) ph_upnp_router_unref,
             options_timeout (options), cancellable, callback, user_data);
}

PhUpnpRouter *
ph_upnp_router_new_for_url_finish (GAsyncResult *result, GError **error)
{
  return run_finish (result, ph_upnp_router_new_for_url_async, error);
}

/* gather */

static gpointer
gather_work (gpointer data, GCancellable *cancellable, GError **error)
{
  OptionsInput *input = data;
  return ph_upnp_gather (&input->options, cancellable, error);
}

void
ph_upnp_gather_async (const PhUpnpOptions *options, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (options != NULL);
  /* discovery and reading each have the deadline */
  run_async (ph_upnp_gather_async, gather_work, options_input_new (options),
             (GDestroyNotify) options_input_free, (GDestroyNotify) ph_upnp_facts_free,
             2 * options_timeout (options), cancellable, callback, user_data);
}

PhUpnpFacts *
ph_upnp_gather_finish (GAsyncResult *result, GError **error)
{
  return run_finish (result, ph_upnp_gather_async, error);
}

/* external address */

typedef struct
{
  char *address;
  PhUpnpExternalScope scope;
} ExternalResult;

static void
external_result_free (ExternalResult *result)
{
  g_free (result->address);
  g_free (result);
}

static gpointer
external_work (gpointer data, GCancellable *cancellable, GError **error)
{
  RouterInput *input = data;
  ExternalResult *result = g_new0 (ExternalResult, 1);

  result->address
      = ph_upnp_get_external_address (input->router, &result->scope, cancellable, error);
  if (result->address == NULL)
    g_clear_pointer (&result, external_result_free);
  return result;
}

void
ph_upnp_get_external_address_async (PhUpnpRouter *router, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (router != NULL);
  run_async (ph_upnp_get_external_address_async, external_work,
             router_input_new (router, 0, 0, NULL), (GDestroyNotify) router_input_free,
             (GDestroyNotify) external_result_free, router->timeout_ms, cancellable, callback,
             user_data);
}

char *
ph_upnp_get_external_address_finish (GAsyncResult *result, PhUpnpExternalScope *scope,
                                     GError **error)
{
  ExternalResult *value = run_finish (result, ph_upnp_get_external_address_async, error);
  char *address;

  if (value == NULL)
    return NULL;
  if (scope != NULL)
    *scope = value->scope;
  address = g_steal_pointer (&value->address);
  external_result_free (value);
  return address;
}

/* list */

typedef struct
{
  GPtrArray *mappings;
  gboolean truncated;
} ListResult;

static void
list_result_free (ListResult *result)
{
  g_clear_pointer (&result->mappings, g_ptr_array_unref);
  g_free (result);
}

static gpointer
list_work (gpointer data, GCancellable *cancellable, GError **error)
{
  RouterInput *input = data;
  ListResult *result = g_new0 (ListResult, 1);

  result->mappings = ph_upnp_list_mappings (input->router, &result->truncated, cancellable, error);
  if (result->mappings == NULL)
    g_clear_pointer (&result, list_result_free);
  return result;
}

void
ph_upnp_list_mappings_async (PhUpnpRouter *router, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (router != NULL);
  run_async (ph_upnp_list_mappings_async, list_work, router_input_new (router, 0, 0, NULL),
             (GDestroyNotify) router_input_free, (GDestroyNotify) list_result_free,
             router->timeout_ms, cancellable, callback, user_data);
}

GPtrArray *
ph_upnp_list_mappings_finish (GAsyncResult *result, gboolean *truncated, GError **error)
{
  ListResult *value = run_finish (result, ph_upnp_list_mappings_async, error);
  GPtrArray *mappings;

  if (value == NULL)
    return NULL;
  if (truncated != NULL)
    *truncated = value->truncated;
  mappings = g_steal_pointer (&value->mappings);
  list_result_free (value);
  return mappings;
}

/* facts */

static gpointer
facts_work (gpointer data, GCancellable *cancellable, GError **error)
{
  RouterInput *input = data;
  return ph_upnp_read_facts (input->router, cancellable, error);
}

void
ph_upnp_read_facts_async (PhUpnpRouter *router, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (router != NULL);
  run_async (ph_upnp_read_facts_async, facts_work, router_input_new (router, 0, 0, NULL),
             (GDestroyNotify) router_input_free, (GDestroyNotify) ph_upnp_facts_free,
             router->timeout_ms, cancellable, callback, user_data);
}

PhUpnpFacts *
ph_upnp_read_facts_finish (GAsyncResult *result, GError **error)
{
  return run_finish (result, ph_upnp_read_facts_async, error);
}

/* add, renew */

static gpointer
add_work (gpointer data, GCancellable *cancellable, GError **error)
{
  RouterInput *input = data;
  return ph_upnp_add_mapping (input->router, input->port, input->lease_s, input->log, cancellable,
                              error);
}

static gpointer
renew_work (gpointer data, GCancellable *cancellable, GError **error)
{
  RouterInput *input = data;
  return ph_upnp_renew_mapping (input->router, input->port, input->lease_s, input->log, cancellable,
                                error);
}

void
ph_upnp_add_mapping_async (PhUpnpRouter *router, guint port, guint lease_s, PhChangeLog *log,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_return_if_fail (router != NULL);
  run_async (ph_upnp_add_mapping_async, add_work, router_input_new (router, port, lease_s, log),
             (GDestroyNotify) router_input_free, (GDestroyNotify) ph_upnp_map_result_free,
             router->timeout_ms, cancellable, callback, user_data);
}

PhUpnpMapResult *
ph_upnp_add_mapping_finish (GAsyncResult *result, GError **error)
{
  return run_finish (result, ph_upnp_add_mapping_async, error);
}

void
ph_upnp_renew_mapping_async (PhUpnpRouter *router, guint port, guint lease_s, PhChangeLog *log,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_return_if_fail (router != NULL);
  run_async (ph_upnp_renew_mapping_async, renew_work, router_input_new (router, port, lease_s, log),
             (GDestroyNotify) router_input_free, (GDestroyNotify) ph_upnp_map_result_free,
             router->timeout_ms, cancellable, callback, user_data);
}

PhUpnpMapResult *
ph_upnp_renew_mapping_finish (GAsyncResult *result, GError **error)
{
  return run_finish (result, ph_upnp_renew_mapping_async, error);
}

/* remove, undo: a boolean travels as a non-NULL pointer */

static gpointer
remove_work (gpointer data, GCancellable *cancellable, GError **error)
{
  RouterInput *input = data;
  gboolean ok = ph_upnp_remove_mapping (input->router, input->port, input->log, cancellable, error);
  return ok ? GINT_TO_POINTER (1) : NULL;
}

void
ph_upnp_remove_mapping_async (PhUpnpRouter *router, guint port, PhChangeLog *log,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_return_if_fail (router != NULL);
  run_async (ph_upnp_remove_mapping_async, remove_work, router_input_new (router, port, 0, log),
             (GDestroyNotify) router_input_free, NULL, router->timeout_ms, cancellable, callback,
             user_data);
}

gboolean
ph_upnp_remove_mapping_finish (GAsyncResult *result, GError **error)
{
  return run_finish (result, ph_upnp_remove_mapping_async, error) != NULL;
}

typedef struct
{
  PhChange *change;
  PhChangeLog *log;
  guint timeout_ms;
} UndoInput;

static void
undo_input_free (UndoInput *input)
{
  ph_change_free (input->change);
  if (input->log != NULL)
    ph_change_log_unref (input->log);
  g_free (input);
}

static gpointer
undo_work (gpointer data, GCancellable *cancellable, GError **error)
{
  UndoInput *input = data;
  gboolean ok
      = ph_upnp_undo_change (input->change, input->log, input->timeout_ms, cancellable, error);
  return ok ? GINT_TO_POINTER (1) : NULL;
}

void
ph_upnp_undo_change_async (const PhChange *change, PhChangeLog *log, guint timeout_ms,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  UndoInput *input;

  g_return_if_fail (change != NULL);
  input = g_new0 (UndoInput, 1);
  input->change = ph_change_copy (change);
  input->log = log ? ph_change_log_ref (log) : NULL;
  input->timeout_ms = timeout_ms ? timeout_ms : PH_UPNP_DEFAULT_TIMEOUT_MS;
  run_async (ph_upnp_undo_change_async, undo_work, input, (GDestroyNotify) undo_input_free, NULL,
             input->timeout_ms, cancellable, callback, user_data);
}

gboolean
ph_upnp_undo_change_finish (GAsyncResult *result, GError **error)
{
  return run_finish (result, ph_upnp_undo_change_async, error) != NULL;
}
