/* ph-kubo.h: the user's kubo node — found, read, diagnosed, and the node-side half of each fix
 *
 * ph_kubo_node_read_async() finds the repository and the RPC, reads what the node says about
 * itself (version, id, config, its own AutoNAT v2 view), and turns it into facts, warnings and
 * suggestions. PhKuboChange is one config change the user can see before it is made, apply
 * through the RPC, and undo. Lower layers: ph-kubo-repo.h (files), ph-kubo-client.h (RPC).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ph-kubo-client.h"
#include "ph-kubo-repo.h"

G_BEGIN_DECLS

/* ---- the node ---- */

typedef enum
{
  PH_KUBO_STATE_NO_NODE,     /* no repository, and no RPC answers at the default address */
  PH_KUBO_STATE_NOT_RUNNING, /* a repository, but its daemon does not answer */
  PH_KUBO_STATE_REFUSED,     /* the daemon answers but refuses us (API.Authorizations) */
  PH_KUBO_STATE_TOO_OLD,     /* the daemon is older than PH_KUBO_MIN_VERSION_* */
  PH_KUBO_STATE_FAILED,      /* something else went wrong; `error` says what */
  PH_KUBO_STATE_RUNNING,     /* the daemon answered id and version */
} PhKuboState;

typedef enum
{
  PH_KUBO_SETTINGS_NONE,
  PH_KUBO_SETTINGS_RPC,  /* config/show: what the config file says now, read through the daemon */
  PH_KUBO_SETTINGS_FILE, /* $IPFS_PATH/config read directly (daemon not running, or refusing) */
} PhKuboSettingsSource;

/* A fact a person should hear about, or a change worth making. */
typedef struct
{
  char *id;      /* stable identifier, e.g. "api-exposed" (for code and translations) */
  char *message; /* one English sentence or two: what, why it matters, what to do */
  char *key;     /* the config key concerned, or NULL */
} PhKuboAdvice;

typedef struct
{
  PhKuboState state;
  char *error;              /* why, when state is not RUNNING; technical detail for "more…" */
  char *repo_path;          /* the repository looked at */
  gboolean repo_found;      /* it exists and its config could be read */
  gboolean config_shared;   /* its config (with the private key) is readable by other users */
  char *repo_peer_id;       /* the repository's Identity.PeerID */
  char *endpoint;           /* where the RPC is, or would be; NULL if there is none we may use */
  PhKuboVersion *version;   /* NULL unless the RPC answered version */
  PhKuboId *id;             /* NULL unless RUNNING */
  PhKuboSettings *settings; /* NULL when neither the RPC nor the file could be read */
  PhKuboSettingsSource settings_source;
  PhKuboSwarmPorts swarm_ports;
  guint16 swarm_port;     /* the port Porthole checks and maps (TCP); 0 when unknown */
  PhKuboAutonat *autonat; /* the node's own AutoNAT v2 view; NULL when unavailable */
  char *autonat_error;    /* why it is NULL, when it is and we asked */
  GPtrArray *warnings;    /* PhKuboAdvice */
  GPtrArray *suggestions; /* PhKuboAdvice */
} PhKuboNode;

typedef struct
{
  const char *repo_path;   /* NULL: $IPFS_PATH, else ~/.ipfs */
  const char *api_address; /* NULL: the repository's api file, its Addresses.API, else
                            * PH_KUBO_DEFAULT_API_ADDRESS; otherwise this multiaddr, which must be
                            * on this machine (ph_kubo_client_new) */
  guint timeout_ms;        /* deadline of each RPC call; 0: PH_KUBO_DEFAULT_TIMEOUT_MS */
} PhKuboReadOptions;

/* Never fails for a missing, stopped, refusing or old node — that is node->state — only with
 * G_IO_ERROR_CANCELLED. Runs on the caller's thread-default main context (the repository is
 * read in a worker thread). Calls version, id, config/show and, on kubo ≥ 0.40,
 * swarm/addrs/autonat, one after another, each with its own deadline. */
void
ph_kubo_node_read_async (const PhKuboReadOptions *options, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data);
PhKuboNode *
ph_kubo_node_read_finish (GAsyncResult *result, GError **error);
void
ph_kubo_node_free (PhKuboNode *node);

gboolean
ph_kubo_node_is_found (const PhKuboNode *node);
/* Something answered at the RPC (even a refusal or an old version). */
gboolean
ph_kubo_node_is_running (const PhKuboNode *node);
/* The running node's peer ID, else the repository's; NULL if neither is known. */
const char *
ph_kubo_node_get_peer_id (const PhKuboNode *node);
/* TRUE when a running node's peer ID is not its repository's: the key in the repository is not
 * the key of the node that answers, so probing as it would test someone else. */
gboolean
ph_kubo_node_is_other_node (const PhKuboNode *node);
const char *
ph_kubo_state_to_string (PhKuboState state); /* "no-node", "not-running", … */

/* ---- diagnosis ---- */

typedef enum
{
  PH_KUBO_FACT_UNKNOWN,
  PH_KUBO_FACT_NO,
  PH_KUBO_FACT_YES,
} PhKuboFact;

/* Recomputes node->warnings and node->suggestions from the node's facts and two from outside:
 * whether the router offers UPnP/NAT-PMP, and whether the node is reachable. The read calls it
 * with UNKNOWN and the node's own AutoNAT view; call it again with Porthole's own findings —
 * they are fresh, while kubo's view may be hours old, so ours win when they differ. */
void
ph_kubo_node_diagnose (PhKuboNode *node, PhKuboFact router_upnp, PhKuboFact reachable);
/* The node's own view as a fact: PUBLIC → YES, PRIVATE → NO, else UNKNOWN. */
PhKuboFact
ph_kubo_node_own_reachability (const PhKuboNode *node);
const PhKuboAdvice *
ph_kubo_node_find_advice (const PhKuboNode *node, const char *id);

/* The `node` object of `porthole --check --json` (see the end of ph-kubo.c for its shape). */
JsonNode *
ph_kubo_node_to_json (const PhKuboNode *node);

/* ---- changes to the node's config, each shown first and undoable ---- */

typedef enum
{
  PH_KUBO_CHANGE_SET,    /* key = value */
  PH_KUBO_CHANGE_APPEND, /* add value (a string) to the list at key, if not already there */
} PhKuboChangeKind;

typedef struct
{
  PhKuboChangeKind kind;
  char *key;
  JsonNode *value;     /* SET: the new value; APPEND: the string added */
  JsonNode *old_value; /* after apply: the value before (JSON null when the key was absent) */
  gboolean applied;    /* apply succeeded */
  gboolean changed;    /* apply wrote to the config (FALSE: it was already so) */
} PhKuboChange;

/* Swarm.DisableNatPortMap = false: the node asks the router (UPnP/NAT-PMP) to forward its port. */
PhKuboChange *
ph_kubo_change_new_enable_nat_port_map (void);
/* Addresses.AppendAnnounce += address: announce a manually forwarded public address. The address
 * must be /ip4|ip6|dns4|dns6/…/tcp|udp/port…; a private or loopback IP is refused, since peers
 * on the internet could not use it. */
PhKuboChange *
ph_kubo_change_new_append_announce (const char *address, GError **error);
PhKuboChange *
ph_kubo_change_ref (PhKuboChange *change);
void
ph_kubo_change_unref (PhKuboChange *change);

/* What the change does, before it is made: one English sentence naming the setting. */
char *
ph_kubo_change_describe (const PhKuboChange *change);
/* The same with kubo's command line, for people who prefer it or whose daemon is stopped:
 * "ipfs config --bool Swarm.DisableNatPortMap false". */
char *
ph_kubo_change_to_command_line (const PhKuboChange *change);
/* The command line that undoes an applied change; NULL if nothing was changed. */
char *
ph_kubo_change_to_undo_command_line (const PhKuboChange *change);
/* kubo reads its config only at start: what to tell the user after a change. */
const char *
ph_kubo_restart_hint (void);

/* Recording a change so that it can be undone later (after Porthole restarts too). */
JsonNode *
ph_kubo_change_to_json (const PhKuboChange *change);
PhKuboChange *
ph_kubo_change_new_from_json (JsonNode *node, GError **error);

/* Reads the key through config/show, writes it through config unless it is already as wanted,
 * and checks what kubo read back. Fills old_value, applied and changed. */
void
ph_kubo_change_apply_async (PhKuboChange *change, PhKuboClient *client, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data);
gboolean
ph_kubo_change_apply_finish (GAsyncResult *result, GError **error);

/* Undoes an applied change: SET writes old_value back, APPEND removes the address it added. If
 * the setting changed again since (SET: it is no longer `value`), fails with
 * PH_KUBO_ERROR_CHANGED and leaves it. A change that changed nothing undoes at once. */
void
ph_kubo_change_revert_async (PhKuboChange *change, PhKuboClient *client, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
gboolean
ph_kubo_change_revert_finish (GAsyncResult *result, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhKuboNode, ph_kubo_node_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhKuboChange, ph_kubo_change_unref)

G_END_DECLS
