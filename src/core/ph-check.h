/* ph-check.h: one whole check — gather the facts, (later) probe, decide
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "ph-diagnosis.h"
#include "ph-verdict.h"

G_BEGIN_DECLS

#define PH_DEFAULT_PORT 4001
#define PH_DEFAULT_TIMEOUT_S 30

/* Live progress of a check, for a face that shows it while it runs. */
typedef enum
{
  PH_CHECK_STEP_NETWORK, /* LAN facts and NetworkManager */
  PH_CHECK_STEP_ROUTER,  /* UPnP IGD */
  PH_CHECK_STEP_NODE,    /* kubo */
  PH_CHECK_STEP_PROBES,  /* the AutoNAT servers, as a whole */
} PhCheckStep;

typedef enum
{
  PH_CHECK_EVENT_STEP_STARTED,
  PH_CHECK_EVENT_STEP_DONE,
  PH_CHECK_EVENT_PROBE_STARTED, /* one server, one family */
  PH_CHECK_EVENT_PROBE_DONE,
} PhCheckEventKind;

typedef struct
{
  PhCheckEventKind kind;
  PhCheckStep step;                /* STEP_*; PH_CHECK_STEP_PROBES for PROBE_* */
  const char *summary;             /* STEP_DONE: one translated sentence ("Router: FRITZ!Box 7590"),
                                    * may be NULL */
  const char *server;              /* PROBE_*: the server's multiaddr (with /p2p) */
  PhFamily family;                 /* PROBE_* */
  const PhProbeEvidence *evidence; /* PROBE_DONE: what it answered (ph-verdict.h) */
} PhCheckEvent;

typedef void (*PhCheckProgressFunc) (const PhCheckEvent *event, gpointer user_data);

typedef struct
{
  guint port;      /* the node's swarm port; 0: the kubo node's, else PH_DEFAULT_PORT */
  char **peers;    /* AutoNAT servers; NULL means the default bootstrap list */
  guint timeout_s; /* the whole check's deadline */
  /* do not ask the router over UPnP (tests on a real LAN; users who prefer not) */
  gboolean no_upnp;
  PhCheckProgressFunc progress; /* may be NULL; called on the caller's main context (the thread-
                                 * default one at ph_check_run_async), in order, never after the
                                 * async callback; pointers valid only during the call */
  gpointer progress_data;       /* must live until the async callback */
} PhCheckOptions;

void
ph_check_options_clear (PhCheckOptions *options);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PhCheckOptions, ph_check_options_clear)

/* The servers asked when the user names none (the IPFS bootstrap peers). */
const char *const *
ph_check_default_servers (void);
/* PORTHOLE_TEST_ALLOW_PRIVATE_ADDRESSES=1: tests only. */
gboolean
ph_check_allow_private (void);

/* Tests and screenshots: PORTHOLE_TEST_REPLAY=<dir> makes ph_check_run_async do no I/O at all.
 * The n-th call of the process (counted per directory: naming another one starts again at 1)
 * loads <dir>/check-<n>.json (ph_diagnosis_new_from_json), or the last one there is once past
 * the end, plays the progress events a real check would send (steps, then each probe started and
 * done from its evidence, PH_CHECK_REPLAY_INTERVAL_MS apart, on timeouts), and returns it. The
 * literal @IGD_URL@ in upnp.router.desc_url becomes $PORTHOLE_TEST_IGD_URL. */
#define PH_CHECK_REPLAY_ENV "PORTHOLE_TEST_REPLAY"
#define PH_CHECK_REPLAY_IGD_URL_ENV "PORTHOLE_TEST_IGD_URL"
#define PH_CHECK_REPLAY_IGD_URL "@IGD_URL@"
#define PH_CHECK_REPLAY_INTERVAL_MS 30
#define PH_CHECK_REPLAY_MAX_FILE_SIZE (1024 * 1024)

/* The replay directory, or NULL when checks are real. */
const char *
ph_check_replay_dir (void);
/* Loads one recorded check as replay does (with the @IGD_URL@ substitution). */
PhDiagnosis *
ph_check_load_recorded (const char *path, GError **error);
/* Tests only: the next replayed check is check-1.json again. */
void
ph_check_reset_replay_for_tests (void);

/* Runs on the caller's main context; blocking work goes to worker threads. */
void
ph_check_run_async (const PhCheckOptions *options, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data);
PhDiagnosis *
ph_check_run_finish (GAsyncResult *result, GError **error);

G_END_DECLS
