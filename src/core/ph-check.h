/* ph-check.h: one whole check — gather the facts, (later) probe, decide
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "ph-diagnosis.h"

G_BEGIN_DECLS

#define PH_DEFAULT_PORT 4001
#define PH_DEFAULT_TIMEOUT_S 30

typedef struct
{
  guint port;          /* the node's swarm port; 0: the kubo node's, else PH_DEFAULT_PORT */
  char **peers;        /* AutoNAT servers; NULL means the default bootstrap list */
  guint timeout_s;     /* the whole check's deadline */
  gboolean no_upnp;    /* do not ask the router over UPnP (tests on a real LAN; users who prefer not) */
} PhCheckOptions;

void ph_check_options_clear (PhCheckOptions *options);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PhCheckOptions, ph_check_options_clear)

/* The servers asked when the user names none (the IPFS bootstrap peers). */
const char *const *ph_check_default_servers (void);
/* PORTHOLE_TEST_ALLOW_PRIVATE_ADDRESSES=1: tests only. */
gboolean ph_check_allow_private (void);

/* Runs on the caller's main context; blocking work goes to worker threads. */
void ph_check_run_async (const PhCheckOptions *options, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data);
PhDiagnosis *ph_check_run_finish (GAsyncResult *result, GError **error);

G_END_DECLS
