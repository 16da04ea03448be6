/* fake-igd.c: a UPnP IGD on loopback for tests. One thread accepts one connection at a time,
 * reads a whole HTTP request, and answers: GET with the device description (an IGD:1 with one
 * WANIPConnection:1, shaped like miniupnpd's), POST with the test's answer to the SOAP action, as
 * a response envelope or a UPnP fault (UPnP Device Architecture 1.1, 3.2.2 and 3.2.3).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "fake-igd.h"

#include <stdlib.h>
#include <string.h>

static const char fake_desc[]
    = "<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\">"
      "<specVersion><major>1</major><minor>0</minor></specVersion>%s<device>"
      "<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>"
      "<friendlyName>Fake IGD</friendlyName><manufacturer>Tests</manufacturer>"
      "<modelName>Fake</modelName><deviceList><device>"
      "<deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><serviceList><service>"
      "<serviceType>urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1</serviceType>"
      "<serviceId>urn:upnp-org:serviceId:WANCommonIFC1</serviceId>"
      "<controlURL>/ctl/CommonIfCfg</controlURL><eventSubURL>/evt/CommonIfCfg</eventSubURL>"
      "<SCPDURL>/WANCfg.xml</SCPDURL></service></serviceList><deviceList><device>"
      "<deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>"
      "<serviceList><service>"
      "<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>"
      "<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId><controlURL>/ctl/IPConn</controlURL>"
      "<eventSubURL>/evt/IPConn</eventSubURL><SCPDURL>/WANIPCn.xml</SCPDURL></service>"
      "</serviceList></device></deviceList></device></deviceList>"
      "<presentationURL>/</presentationURL></device></root>";

static void
fake_mapping_free (FakeIgdMapping *m)
{
  g_free (m->protocol);
  g_free (m->client);
  g_free (m->description);
  g_free (m);
}

void
fake_igd_lock (FakeIgd *fake)
{
  g_mutex_lock (&fake->lock);
}

void
fake_igd_unlock (FakeIgd *fake)
{
  g_mutex_unlock (&fake->lock);
}

guint
fake_igd_count (FakeIgd *fake)
{
  guint n;

  fake_igd_lock (fake);
  n = fake->mappings->len;
  fake_igd_unlock (fake);
  return n;
}

char *
fake_igd_dup_calls (FakeIgd *fake)
{
  char *calls;

  fake_igd_lock (fake);
  calls = g_strdup (fake->calls->str);
  fake_igd_unlock (fake);
  return calls;
}

char *
fake_igd_dup_desc_url (FakeIgd *fake)
{
  return g_strdup_printf ("http://127.0.0.1:%u/rootDesc.xml", fake->port);
}

char *
fake_igd_soap_arg (const char *body, const char *name)
{
  g_autofree char *open = g_strdup_printf ("<%s>", name);
  const char *start = strstr (body, open);
  const char *end;

  if (start == NULL)
    return g_strdup ("");
  start += strlen (open);
  end = strchr (start, '<');
  return end ? g_strndup (start, end - start) : g_strdup ("");
}

FakeIgdMapping *
fake_igd_find (FakeIgd *fake, guint port, const char *protocol)
{
  for (guint i = 0; i < fake->mappings->len; i++)
    {
      FakeIgdMapping *m = g_ptr_array_index (fake->mappings, i);
      if (m->port == port && g_str_equal (m->protocol, protocol))
        return m;
    }
  return NULL;
}

void
fake_igd_put (FakeIgd *fake, guint port, const char *protocol, const char *client, guint internal,
              const char *description, guint lease)
{
  FakeIgdMapping *m = fake_igd_find (fake, port, protocol);

  if (m == NULL)
    {
      m = g_new0 (FakeIgdMapping, 1);
      g_ptr_array_add (fake->mappings, m);
    }
  g_free (m->protocol);
  g_free (m->client);
  g_free (m->description);
  m->port = port;
  m->protocol = g_strdup (protocol);
  m->client = g_strdup (client);
  m->internal_port = internal;
  m->description = g_strdup (description);
  m->lease = lease;
}

char *
fake_igd_format_entry (const FakeIgdMapping *m)
{
  return g_strdup_printf ("<NewRemoteHost></NewRemoteHost><NewExternalPort>%u</NewExternalPort>"
                          "<NewProtocol>%s</NewProtocol><NewInternalPort>%u</NewInternalPort>"
                          "<NewInternalClient>%s</NewInternalClient><NewEnabled>1</NewEnabled>"
                          "<NewPortMappingDescription>%s</NewPortMappingDescription>"
                          "<NewLeaseDuration>%u</NewLeaseDuration>",
                          m->port, m->protocol, m->internal_port, m->client, m->description,
                          m->lease);
}

int
fake_igd_add (FakeIgd *fake, const char *body, int code, guint lease)
{
  g_autofree char *port = fake_igd_soap_arg (body, "NewExternalPort");
  g_autofree char *protocol = fake_igd_soap_arg (body, "NewProtocol");
  g_autofree char *internal = fake_igd_soap_arg (body, "NewInternalPort");
  g_autofree char *client = fake_igd_soap_arg (body, "NewInternalClient");
  g_autofree char *description = fake_igd_soap_arg (body, "NewPortMappingDescription");
  g_autofree char *lease_text = fake_igd_soap_arg (body, "NewLeaseDuration");

  g_string_append_printf (fake->calls, "ADD %s %s=%d;", protocol, lease_text, code);
  if (code == 0)
    fake_igd_put (fake, (guint) atoi (port), protocol, client, (guint) atoi (internal), description,
                  lease == FAKE_IGD_LEASE_ASKED ? (guint) atoi (lease_text) : lease);
  return code;
}

char *
fake_igd_default_action (FakeIgd *fake, const char *action, const char *body, int *code)
{
  g_autofree char *port = fake_igd_soap_arg (body, "NewExternalPort");
  g_autofree char *protocol = fake_igd_soap_arg (body, "NewProtocol");
  FakeIgdMapping *m;

  *code = 0;
  if (g_str_equal (action, "GetStatusInfo"))
    return g_strdup ("<NewConnectionStatus>Connected</NewConnectionStatus>"
                     "<NewLastConnectionError>ERROR_NONE</NewLastConnectionError>"
                     "<NewUptime>10</NewUptime>");
  if (g_str_equal (action, "GetExternalIPAddress"))
    return g_strdup_printf ("<NewExternalIPAddress>%s</NewExternalIPAddress>", fake->external);
  if (g_str_equal (action, "GetSpecificPortMappingEntry"))
    {
      if ((m = fake_igd_find (fake, (guint) atoi (port), protocol)) == NULL)
        {
          *code = 714;
          return NULL;
        }
      return g_strdup_printf ("<NewInternalPort>%u</NewInternalPort>"
                              "<NewInternalClient>%s</NewInternalClient><NewEnabled>1</NewEnabled>"
                              "<NewPortMappingDescription>%s</NewPortMappingDescription>"
                              "<NewLeaseDuration>%u</NewLeaseDuration>",
                              m->internal_port, m->client, m->description, m->lease);
    }
  if (g_str_equal (action, "GetGenericPortMappingEntry"))
    {
      g_autofree char *index_text = fake_igd_soap_arg (body, "NewPortMappingIndex");
      guint index = (guint) atoi (index_text);
      if (index < fake->mappings->len)
        return fake_igd_format_entry (g_ptr_array_index (fake->mappings, index));
      *code = 713;
      return NULL;
    }
  if (g_str_equal (action, "AddPortMapping"))
    {
      *code = fake_igd_add (fake, body, 0, FAKE_IGD_LEASE_ASKED);
      return g_strdup ("");
    }
  if (g_str_equal (action, "DeletePortMapping"))
    {
      g_string_append_printf (fake->calls, "DELETE %s;", protocol);
      if ((m = fake_igd_find (fake, (guint) atoi (port), protocol)) == NULL)
        *code = 714;
      else
        g_ptr_array_remove (fake->mappings, m);
      return *code == 0 ? g_strdup ("") : NULL;
    }
  *code = 401;
  return NULL;
}

static char *
locked_default_action (FakeIgd *fake, const char *action, const char *body, int *code,
                       gpointer user_data)
{
  char *args;

  fake_igd_lock (fake);
  args = fake_igd_default_action (fake, action, body, code);
  fake_igd_unlock (fake);
  return args;
}

static char *
http_response (const char *status, const char *content)
{
  return g_strdup_printf ("HTTP/1.1 %s\r\nContent-Type: text/xml\r\nContent-Length: %zu\r\n"
                          "Connection: close\r\n\r\n%s",
                          status, strlen (content), content);
}

static char *
fake_respond (FakeIgd *fake, const char *request)
{
  const char *body = strstr (request, "\r\n\r\n");
  const char *hash = strchr (request, '#');
  g_autofree char *action = NULL;
  g_autofree char *args = NULL;
  g_autofree char *content = NULL;
  int code = 0;

  if (g_str_has_prefix (request, "GET "))
    {
      g_autofree char *base = fake->url_base
                                  ? g_strdup_printf ("<URLBase>%s</URLBase>", fake->url_base)
                                  : g_strdup ("");
      g_autofree char *desc = g_strdup_printf (fake_desc, base);
      return http_response ("200 OK", desc);
    }
  action = hash ? g_strndup (hash + 1, strcspn (hash + 1, "\"\r\n")) : g_strdup ("");
  args = fake->action (fake, action, body ? body : "", &code, fake->user_data);
  if (args != NULL)
    content = g_strdup_printf (
        "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
        "<s:Body><u:%sResponse xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">%s"
        "</u:%sResponse></s:Body></s:Envelope>",
        action, args, action);
  else
    content = g_strdup_printf (
        "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
        "<s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>"
        "<detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>%d</errorCode>"
        "<errorDescription>Error</errorDescription></UPnPError></detail></s:Fault></s:Body>"
        "</s:Envelope>",
        code);
  return http_response (args ? "200 OK" : "500 Internal Server Error", content);
}

/* The headers, and as much body as Content-Length says (miniupnpc sends one or the other case). */
static gboolean
request_complete (GString *request)
{
  const char *end = strstr (request->str, "\r\n\r\n");
  const char *length;

  if (end == NULL)
    return FALSE;
  length = strstr (request->str, "Content-Length:");
  if (length == NULL)
    length = strstr (request->str, "CONTENT-LENGTH:");
  if (length == NULL || length > end)
    return TRUE;
  return request->len >= (gsize) (end + 4 - request->str) + (gsize) atoi (length + 15);
}

static gpointer
fake_serve (gpointer data)
{
  FakeIgd *fake = data;

  while (!g_atomic_int_get (&fake->stop))
    {
      g_autoptr (GSocket) client = g_socket_accept (fake->listener, NULL, NULL);
      g_autoptr (GString) request = g_string_new (NULL);
      g_autofree char *response = NULL;
      char buf[4096];
      gssize n;

      if (client == NULL || g_atomic_int_get (&fake->stop))
        continue; /* the timeout, or the wake-up: look at stop again */
      g_socket_set_timeout (client, 2);
      while (!request_complete (request)
             && (n = g_socket_receive (client, buf, sizeof buf, NULL, NULL)) > 0)
        g_string_append_len (request, buf, n);
      response = fake_respond (fake, request->str);
      g_socket_send (client, response, strlen (response), NULL, NULL);
      g_socket_close (client, NULL);
    }
  return NULL;
}

FakeIgd *
fake_igd_start (FakeIgdActionFunc action, gpointer user_data, GDestroyNotify user_data_free)
{
  FakeIgd *fake = g_new0 (FakeIgd, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  fake->listener
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (fake->listener, any, TRUE, &error));
  g_assert_true (g_socket_listen (fake->listener, &error));
  bound = g_socket_get_local_address (fake->listener, &error);
  g_assert_no_error (error);
  fake->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  fake->external = "7.0.0.2";
  fake->mappings = g_ptr_array_new_with_free_func ((GDestroyNotify) fake_mapping_free);
  fake->calls = g_string_new (NULL);
  fake->action = action ? action : locked_default_action;
  fake->user_data = user_data;
  fake->user_data_free = user_data_free;
  g_mutex_init (&fake->lock);
  /* accept () wakes up every second to look at stop */
  g_socket_set_timeout (fake->listener, 1);
  fake->thread = g_thread_new ("fake-igd", fake_serve, fake);
  return fake;
}

void
fake_igd_stop (FakeIgd *fake)
{
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, fake->port);
  g_autoptr (GSocket) wake
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);

  g_atomic_int_set (&fake->stop, 1);
  /* one last connection gets the thread out of accept () */
  g_socket_connect (wake, address, NULL, NULL);
  g_thread_join (fake->thread);
  g_object_unref (fake->listener);
  g_ptr_array_unref (fake->mappings);
  g_string_free (fake->calls, TRUE);
  g_mutex_clear (&fake->lock);
  if (fake->user_data_free != NULL)
    fake->user_data_free (fake->user_data);
  g_free (fake);
}

PhUpnpRouter *
fake_igd_new_router (FakeIgd *fake, guint swarm_port)
{
  g_autofree char *url = fake_igd_dup_desc_url (fake);
  PhUpnpOptions options = { .gateway = "127.0.0.1", .swarm_port = swarm_port, .timeout_ms = 5000 };
  g_autoptr (GError) error = NULL;
  PhUpnpRouter *router = ph_upnp_router_new_for_url (url, &options, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (router);
  return router;
}

guint
fake_igd_log_entries (PhChangeLog *log)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) changes = ph_change_log_list (log, &error);

  g_assert_no_error (error);
  return changes->len;
}
