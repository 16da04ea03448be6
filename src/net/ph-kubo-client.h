/* ph-kubo-client.h: kubo's RPC API over HTTP (libsoup 3, json-glib)
 *
 * Routes live under /api/v0 and take only POST (kubo:core/corehttp/commands.go commandsOption:
 * SetAllowedMethods(POST); go-ipfs-cmds http/handler.go answers anything else with 405).
 * Arguments go in the query string as repeated `arg=`; answers are JSON; errors are HTTP 500 (400
 * for client errors) with {"Message","Code","Type":"error"} (go-ipfs-cmds error.go, http/
 * responseemitter.go sendErr); an unknown route is 404 "404 page not found" (http/parse.go).
 *
 * Every call runs on the caller's thread-default main context, has a deadline, takes a
 * GCancellable, and reads at most PH_KUBO_MAX_RESPONSE_SIZE bytes before parsing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ph-kubo-repo.h"

G_BEGIN_DECLS

#define PH_KUBO_MAX_RESPONSE_SIZE (1024 * 1024)
#define PH_KUBO_DEFAULT_TIMEOUT_MS 5000

/* The oldest kubo we talk to: 0.11 (go-ipfs, 2021) brought Addresses.AppendAnnounce and
 * Swarm.RelayClient (kubo:docs/changelogs/v0.11.md), which our fixes write and read. */
#define PH_KUBO_MIN_VERSION_MAJOR 0
#define PH_KUBO_MIN_VERSION_MINOR 11
/* `swarm addrs autonat` arrived in 0.40 (kubo:docs/changelogs/v0.40.md), its `nat` field in 0.43.
 */
#define PH_KUBO_AUTONAT_VERSION_MAJOR 0
#define PH_KUBO_AUTONAT_VERSION_MINOR 40

/* A client belongs to the thread that made it: its calls complete on that thread's
 * thread-default main context at the time of each call. */
#define PH_TYPE_KUBO_CLIENT (ph_kubo_client_get_type ())
G_DECLARE_FINAL_TYPE (PhKuboClient, ph_kubo_client, PH, KUBO_CLIENT, GObject)

/* `address` is a multiaddr: /ip4|ip6/…/tcp/port, /dns4/localhost/tcp/port or /unix/path.
 * Only addresses on this machine are accepted (PH_KUBO_ERROR_NOT_LOOPBACK otherwise); an
 * unspecified IP (0.0.0.0, ::) is rewritten to loopback, as kubo does for its api file
 * (kubo:cmd/ipfs/kubo/daemon.go rewriteMaddrToUseLocalhostIfItsAny). `authorization` is the
 * Authorization header value to send (see ph_kubo_auth_secret_to_header), or NULL. */
PhKuboClient *
ph_kubo_client_new (const char *address, const char *authorization, GError **error);

/* The node of a repository: its api file, else its first Addresses.API, else
 * PH_KUBO_DEFAULT_API_ADDRESS; with the repository's Authorization. A non-loopback address is
 * accepted only when the user's Addresses.API lists it. `repo` NULL: the default address. */
PhKuboClient *
ph_kubo_client_new_for_repo (const PhKuboRepo *repo, GError **error);

/* The deadline of each call (default PH_KUBO_DEFAULT_TIMEOUT_MS). */
void
ph_kubo_client_set_timeout (PhKuboClient *self, guint timeout_ms);
/* Where calls go, for people: "http://127.0.0.1:5001" or "unix:/run/ipfs.sock". */
const char *
ph_kubo_client_get_endpoint (PhKuboClient *self);

/* Any command: POST /api/v0/<path>?<query>, `query` a NULL-terminated list of name, value pairs
 * (names may repeat: "arg", "Swarm.DisableNatPortMap", "arg", "false", "bool", "true", NULL).
 * Finishes with the answer's JSON. */
void
ph_kubo_client_call_async (PhKuboClient *self, const char *path, const char *const *query,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);
JsonNode *
ph_kubo_client_call_finish (PhKuboClient *self, GAsyncResult *result, GError **error);

/* ---- /api/v0/version (kubo:version.go VersionInfo) ---- */

typedef struct
{
  char *version; /* "0.40.1", "0.44.0-dev" */
  char *commit;
  char *repo;
  char *system;
  char *golang;
  guint major;
  guint minor;
  guint patch;
} PhKuboVersion;

/* "0.40.1", "v0.11.0-rc1", "0.44.0-dev": FALSE for anything without major.minor. */
gboolean
ph_kubo_version_parse (const char *text, guint *major, guint *minor, guint *patch);
/* <0, 0, >0 as `version` is older than, equal to, newer than major.minor. */
int
ph_kubo_version_compare (const PhKuboVersion *version, guint major, guint minor);
void
ph_kubo_version_free (PhKuboVersion *version);

void
ph_kubo_client_version_async (PhKuboClient *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
PhKuboVersion *
ph_kubo_client_version_finish (PhKuboClient *self, GAsyncResult *result, GError **error);

/* ---- /api/v0/id (kubo:core/commands/id.go IdOutput) ---- */

typedef struct
{
  char *id;            /* the peer ID, base58btc */
  char *public_key;    /* base64 PublicKey protobuf */
  char **addresses;    /* with /p2p/<id>; empty when offline */
  char *agent_version; /* "kubo/0.40.1/…" */
  char **protocols;
} PhKuboId;

void
ph_kubo_id_free (PhKuboId *id);

void
ph_kubo_client_id_async (PhKuboClient *self, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data);
PhKuboId *
ph_kubo_client_id_finish (PhKuboClient *self, GAsyncResult *result, GError **error);

/* ---- /api/v0/swarm/addrs/autonat (kubo ≥ 0.40: core/commands/swarm_addrs_autonat.go) ---- */

/* go-libp2p core/network Reachability.String(): "Unknown", "Public", "Private". */
typedef enum
{
  PH_KUBO_REACHABILITY_UNKNOWN,
  PH_KUBO_REACHABILITY_PUBLIC,
  PH_KUBO_REACHABILITY_PRIVATE,
} PhKuboReachability;

typedef struct
{
  PhKuboReachability reachability; /* the node's overall view */
  char *nat;                       /* "cgnat", "double-nat" (≥ 0.43), NULL when not determined */
  char **reachable;                /* AutoNAT v2 per-address results; never NULL */
  char **unreachable;
  char **unknown;
} PhKuboAutonat;

const char *
ph_kubo_reachability_to_string (
    PhKuboReachability reachability); /* "public", "private", "unknown" */
/* The node's view of its plain TCP addresses of one family: PUBLIC when one is reachable,
 * PRIVATE when some were tested and none is, UNKNOWN otherwise. */
PhKuboReachability
ph_kubo_autonat_get_tcp_reachability (const PhKuboAutonat *autonat, GSocketFamily family);
void
ph_kubo_autonat_free (PhKuboAutonat *autonat);

/* Fails with PH_KUBO_ERROR_UNSUPPORTED on a kubo without the command: a 404, or — what a kubo
 * before 0.40 really does, because go-ipfs-cmds passes the unknown last path element to
 * `swarm addrs` as an argument — the plain `swarm addrs` answer {"Addrs":{…}}. */
void
ph_kubo_client_autonat_async (PhKuboClient *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
PhKuboAutonat *
ph_kubo_client_autonat_finish (PhKuboClient *self, GAsyncResult *result, GError **error);

/* ---- /api/v0/config (kubo:core/commands/config.go) ---- */

/* The whole config, as config/show returns it (Identity.PrivKey and API.Authorizations scrubbed
 * by kubo). Feed it to ph_kubo_settings_new_from_json(). */
void
ph_kubo_client_config_show_async (PhKuboClient *self, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
JsonNode *
ph_kubo_client_config_show_finish (PhKuboClient *self, GAsyncResult *result, GError **error);

/* One key: config?arg=KEY → {"Key","Value"}; finishes with the Value. kubo fails (500) for a key
 * that is not in the file. */
void
ph_kubo_client_config_get_async (PhKuboClient *self, const char *key, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
JsonNode *
ph_kubo_client_config_get_finish (PhKuboClient *self, GAsyncResult *result, GError **error);

/* Sets one key: config?arg=KEY&arg=VALUE&bool=true for a boolean, &json=true for anything else
 * (`ipfs config --bool` / `--json`). Finishes with the Value kubo read back after writing. The
 * config file changes at once; the daemon uses it from its next start. */
void
ph_kubo_client_config_set_async (PhKuboClient *self, const char *key, JsonNode *value,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data);
JsonNode *
ph_kubo_client_config_set_finish (PhKuboClient *self, GAsyncResult *result, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhKuboVersion, ph_kubo_version_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhKuboId, ph_kubo_id_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhKuboAutonat, ph_kubo_autonat_free)

G_END_DECLS
