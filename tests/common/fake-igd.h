/* fake-igd.h: a UPnP Internet Gateway Device on loopback for tests — the HTTP and SOAP plumbing
 * (accept loop, request framing, the device description, response envelopes and UPnP faults) and
 * a port mapping table, with each test answering the actions it cares about.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "net/ph-change-log.h"
#include "net/ph-upnp.h"

G_BEGIN_DECLS

typedef struct
{
  guint port;
  char *protocol;
  char *client;
  guint internal_port;
  char *description;
  guint lease;
} FakeIgdMapping;

typedef struct _FakeIgd FakeIgd;

/* Answers one SOAP action (the name after '#' in SOAPAction; body is the request body): returns
 * the response's arguments as XML ("" for none), or NULL with *code set to a UPnP error code,
 * which is sent as a SOAP fault. Runs on the server thread, without the lock: take it
 * (fake_igd_lock) around anything that touches the table or calls. */
typedef char *(*FakeIgdActionFunc) (FakeIgd *fake, const char *action, const char *body, int *code,
                                    gpointer user_data);

struct _FakeIgd
{
  guint16 port;         /* where it listens on 127.0.0.1 */
  const char *external; /* GetExternalIPAddress; "7.0.0.2" unless set before a request */
  const char *url_base; /* a <URLBase> in the description; NULL: none */

  /* guarded by the lock (fake_igd_lock) while the server runs */
  GPtrArray *mappings; /* FakeIgdMapping */
  GString *calls;      /* "ADD TCP 3600=725;DELETE UDP;" …: appended by fake_igd_default_action */

  gpointer user_data; /* the test's own state, as given to fake_igd_start */

  /*< private >*/
  GSocket *listener;
  GThread *thread;
  GMutex lock;
  gint stop;
  FakeIgdActionFunc action;
  GDestroyNotify user_data_free;
};

/* action NULL: fake_igd_default_action for everything. user_data_free is called at stop. */
FakeIgd *
fake_igd_start (FakeIgdActionFunc action, gpointer user_data, GDestroyNotify user_data_free);
void
fake_igd_stop (FakeIgd *fake);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeIgd, fake_igd_stop)

/* "http://127.0.0.1:<port>/rootDesc.xml" */
char *
fake_igd_dup_desc_url (FakeIgd *fake);

void
fake_igd_lock (FakeIgd *fake);
void
fake_igd_unlock (FakeIgd *fake);

/* Each takes the lock itself. */
guint
fake_igd_count (FakeIgd *fake);
char *
fake_igd_dup_calls (FakeIgd *fake);

/* The text of <name>…< in a SOAP body; "" when absent. */
char *
fake_igd_soap_arg (const char *body, const char *name);

/* Lock held: */
FakeIgdMapping *
fake_igd_find (FakeIgd *fake, guint port, const char *protocol);
void
fake_igd_put (FakeIgd *fake, guint port, const char *protocol, const char *client, guint internal,
              const char *description, guint lease);
/* The arguments of a GetGenericPortMappingEntry answer. */
char *
fake_igd_format_entry (const FakeIgdMapping *m);

#define FAKE_IGD_LEASE_ASKED G_MAXUINT
/* Answers the AddPortMapping in body with code: records "ADD <proto> <lease asked>=<code>;" and,
 * when code is 0, stores the mapping with lease (FAKE_IGD_LEASE_ASKED: the one asked). Returns
 * code. */
int
fake_igd_add (FakeIgd *fake, const char *body, int code, guint lease);

/* A router that does what it is asked, lock held: GetStatusInfo (Connected), GetExternalIPAddress
 * (fake->external), GetSpecificPortMappingEntry (714 when absent), GetGenericPortMappingEntry (713
 * past the end), AddPortMapping (recorded as "ADD <proto> <lease>=0;", stored with the lease
 * asked), DeletePortMapping ("DELETE <proto>;", 714 when absent); anything else 401. */
char *
fake_igd_default_action (FakeIgd *fake, const char *action, const char *body, int *code);

/* For tests of the UPnP code: the fake as a PhUpnpRouter (gateway 127.0.0.1, 5 s deadline),
 * asserting it is found; and how many changes a log holds, asserting it reads. */
PhUpnpRouter *
fake_igd_new_router (FakeIgd *fake, guint swarm_port);
guint
fake_igd_log_entries (PhChangeLog *log);

G_END_DECLS
