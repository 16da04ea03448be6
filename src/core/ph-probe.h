/* ph-probe.h: ask AutoNAT servers to dial this machine back
 *
 * One probe: hold the swarm port (unless its owner's identity lets us speak for it), connect to
 * each server, learn the address it sees us at, ask it to dial that address with the swarm port,
 * and keep what each server answered as evidence. The verdict is ph-verdict's business.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "p2p/ph-keys.h"
#include "p2p/ph-multiaddr.h"
#include "ph-verdict.h"

G_BEGIN_DECLS

/* Set to 1 to let non-public candidate addresses go to servers: for tests against servers of our
 * own on loopback only. Porthole says so loudly on stderr when it is on. */
#define PH_PROBE_ALLOW_PRIVATE_ENV "PORTHOLE_TEST_ALLOW_PRIVATE_ADDRESSES"

#define PH_PROBE_MAX_PARALLEL 32 /* probes wait on the network, not the CPU: one wave */
#define PH_PROBE_SERVER_TIMEOUT_MS 20000

/* One server, one family: evidence NULL when its probe starts, what it answered when done. Called
 * from the probe's worker threads, possibly several at once: it must be thread-safe and quick
 * (copy what it needs and hand it to another thread). The pointers are valid during the call. */
typedef void (*PhProbeServerFunc) (const char *server, PhFamily family,
                                   const PhProbeEvidence *evidence, gpointer user_data);

typedef struct
{
  guint port;
  GPtrArray *servers;           /* PhMultiaddr*: ip4/ip6 + tcp + /p2p, or /dnsaddr to resolve */
  PhPrivateKey *owner_identity; /* the identity of whoever owns the port (kubo), NULL if unknown */
  char *owner_repo; /* or a kubo repository to read it from, only if the port is taken */
  gboolean allow_private;
  guint timeout_ms;            /* the whole probe */
  PhProbeServerFunc on_server; /* may be NULL; see above. user data must outlive the probe */
  gpointer on_server_data;
} PhProbeOptions;

void
ph_probe_options_clear (PhProbeOptions *options);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PhProbeOptions, ph_probe_options_clear)

typedef struct
{
  GPtrArray *evidence;  /* PhProbeEvidence */
  gboolean port_in_use; /* another program holds the port and we cannot speak for it */
  char *port_owner;     /* which program, when it can be told */
  gboolean as_owner;    /* probed with the owner's identity: its node answered the dial-backs */
  char *peer_id;        /* the identity the servers were asked to dial back */
  guint n_servers;      /* servers asked, after resolving and one-per-group selection */
  GPtrArray *path_ipv4; /* char* or NULL per hop: the routers towards the first IPv4 server */
} PhProbeReport;

void
ph_probe_report_free (PhProbeReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhProbeReport, ph_probe_report_free)

/* Blocking: for worker threads. */
PhProbeReport *
ph_probe_run (const PhProbeOptions *options, GCancellable *cancellable, GError **error);

void
ph_probe_run_async (const PhProbeOptions *options, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data);
PhProbeReport *
ph_probe_run_finish (GAsyncResult *result, GError **error);

/* Is something listening on this TCP port on any local address? */
gboolean
ph_probe_port_is_free (guint port, int family);

G_END_DECLS
