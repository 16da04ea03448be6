/* ph-kubo-repo.h: a kubo repository on disk — where it is, what its config says, its API address
 * and its identity key
 *
 * Everything here is local file reading, bounded in size, with no network I/O. The formats are
 * kubo's: the repo directory and its `config` (kubo:config/config.go PathRoot, Filename), the `api`
 * file a running daemon writes (kubo:repo/fsrepo/fsrepo.go APIAddr), and the config keys of
 * kubo:docs/config.md.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ph-json.h"

#include "p2p/ph-ip-scope.h"
#include "p2p/ph-keys.h"

G_BEGIN_DECLS

#define PH_KUBO_ERROR (ph_kubo_error_quark ())

/* What went wrong finding, reading or talking to the kubo node. Cancellation stays
 * G_IO_ERROR_CANCELLED, as everywhere in GIO. */
typedef enum
{
  PH_KUBO_ERROR_NO_NODE,      /* no repository: no $IPFS_PATH/config, and no RPC answers */
  PH_KUBO_ERROR_NOT_RUNNING,  /* nothing listens at the API address (or no api file) */
  PH_KUBO_ERROR_REFUSED,      /* the RPC answered 401/403: API.Authorizations wants a secret */
  PH_KUBO_ERROR_TOO_OLD,      /* a kubo older than PH_KUBO_MIN_VERSION */
  PH_KUBO_ERROR_UNSUPPORTED,  /* this kubo lacks the command (e.g. swarm/addrs/autonat < 0.40) */
  PH_KUBO_ERROR_NOT_LOOPBACK, /* an API address neither loopback nor in the user's Addresses.API */
  PH_KUBO_ERROR_COMMAND,      /* kubo ran the command and reported an error (its Message) */
  PH_KUBO_ERROR_HTTP,         /* any other HTTP status (405, 502, …) */
  PH_KUBO_ERROR_TOO_LARGE,    /* an answer or a file over its bound */
  PH_KUBO_ERROR_MALFORMED,    /* not JSON, JSON of the wrong shape, a bad multiaddr or key */
  PH_KUBO_ERROR_TIMED_OUT,    /* no complete answer before the deadline */
  PH_KUBO_ERROR_CLOSED,       /* the connection closed before a complete answer */
  PH_KUBO_ERROR_NO_IDENTITY,  /* the config has no Identity.PrivKey */
  PH_KUBO_ERROR_IDENTITY_MISMATCH, /* Identity.PrivKey is not the key of Identity.PeerID */
  PH_KUBO_ERROR_IO,                /* a repository file exists but cannot be read */
  PH_KUBO_ERROR_CHANGED, /* undo refused: the setting changed again since Porthole set it */
} PhKuboError;

GQuark
ph_kubo_error_quark (void);

/* Bounds on what we read. The api file bound is kubo's own (fsrepo.go APIAddr: < 2048 bytes). */
#define PH_KUBO_MAX_CONFIG_SIZE (4 * 1024 * 1024)
#define PH_KUBO_MAX_API_FILE_SIZE 2048
#define PH_KUBO_MAX_JSON_DEPTH PH_JSON_MAX_DEPTH

/* kubo:docs/config.md §Addresses.API default; the address we try when there is no api file. */
#define PH_KUBO_DEFAULT_API_ADDRESS "/ip4/127.0.0.1/tcp/5001"

/* ---- multiaddrs as text, the way kubo's config and RPC write them ---- */

/* Only what Porthole needs from an address: where it listens and on which port. ph_multiaddr is
 * strict and knows only the protocols our stack speaks; kubo's addresses also carry quic-v1,
 * webtransport, webrtc-direct, ws, unix, ip6zone…, which are accepted here and summarised. */
typedef enum
{
  PH_KUBO_HOST_IP4,
  PH_KUBO_HOST_IP6,
  PH_KUBO_HOST_DNS, /* dns, dns4, dns6 or dnsaddr */
  PH_KUBO_HOST_UNIX,
} PhKuboHostKind;

typedef struct
{
  PhKuboHostKind kind;
  char *host;         /* the IP as text, the DNS name, or the socket path */
  PhIpScope scope;    /* of the IP; LOOPBACK for "localhost" and unix sockets; else PUBLIC */
  gboolean tcp;       /* the first transport is tcp (port is its port) */
  gboolean udp;       /* the first transport is udp */
  guint16 port;       /* 0 when none, or when kubo is told to pick one */
  gboolean plain_tcp; /* /ipN/…/tcp/port and nothing after it but /p2p: what our probe dials */
  gboolean quic;      /* /udp/port/quic-v1 (with or without webtransport) */
} PhKuboAddr;

gboolean
ph_kubo_addr_parse (const char *text, PhKuboAddr *addr, GError **error);
void
ph_kubo_addr_clear (PhKuboAddr *addr);
/* Reachable from this machine only: a loopback IP, "localhost", or a unix socket. An unspecified
 * address (0.0.0.0, ::) listens on every interface, so it is not. */
gboolean
ph_kubo_addr_is_local_only (const PhKuboAddr *addr);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PhKuboAddr, ph_kubo_addr_clear)

/* ---- the settings that matter for reachability (kubo:docs/config.md) ---- */

/* kubo's `Flag` type: null or absent means the default (kubo:config/types.go Flag). */
typedef enum
{
  PH_KUBO_FLAG_DEFAULT,
  PH_KUBO_FLAG_TRUE,
  PH_KUBO_FLAG_FALSE,
} PhKuboFlag;

typedef struct
{
  char **swarm;           /* Addresses.Swarm; every vector is non-NULL, maybe empty */
  char **api;             /* Addresses.API (a string or an array in the file) */
  char **gateway;         /* Addresses.Gateway (likewise) */
  char **announce;        /* Addresses.Announce: replaces the inferred addresses when non-empty */
  char **append_announce; /* Addresses.AppendAnnounce: added to them */
  char **no_announce;     /* Addresses.NoAnnounce */
  gboolean disable_nat_port_map; /* Swarm.DisableNatPortMap, default false */
  PhKuboFlag relay_client;       /* Swarm.RelayClient.Enabled, default true */
  PhKuboFlag relay_service;      /* Swarm.RelayService.Enabled, default true */
  PhKuboFlag hole_punching;      /* Swarm.EnableHolePunching, default true */
  char *autonat_service_mode;    /* AutoNAT.ServiceMode; NULL when unset (= "enabled") */
  char *routing_type;            /* Routing.Type; NULL when unset (= "auto") */
  guint n_authorizations;        /* API.Authorizations entries (config/show hides them: 0 there) */
} PhKuboSettings;

/* From the config object, as in the file or as /api/v0/config/show returns it. Absent keys take
 * kubo's defaults; a present key of the wrong type fails with PH_KUBO_ERROR_MALFORMED. */
PhKuboSettings *
ph_kubo_settings_new_from_json (JsonNode *config, GError **error);
PhKuboSettings *
ph_kubo_settings_copy (const PhKuboSettings *settings);
void
ph_kubo_settings_free (PhKuboSettings *settings);
gboolean
ph_kubo_flag_get (PhKuboFlag flag, gboolean default_value);
const char *
ph_kubo_flag_to_string (PhKuboFlag flag); /* "default", "true", "false" */

/* The ports of Addresses.Swarm: the first plain-TCP and the first QUIC listener of each family.
 * 0 means none. `tcp_random` is set when a TCP listener asks for port 0 (a new port at every
 * start, which no forwarding rule can follow). */
typedef struct
{
  guint16 tcp4;
  guint16 tcp6;
  guint16 udp4;
  guint16 udp6;
  gboolean tcp_random;
} PhKuboSwarmPorts;

void
ph_kubo_settings_get_swarm_ports (const PhKuboSettings *settings, PhKuboSwarmPorts *ports);
/* The port Porthole checks and maps: the IPv4 TCP port, else the IPv6 one, else 0. */
guint16
ph_kubo_swarm_ports_primary (const PhKuboSwarmPorts *ports);

/* ---- the repository ---- */

typedef struct
{
  char *path;               /* the repo directory */
  char *config_path;        /* path/config */
  PhKuboSettings *settings; /* from the config file */
  char *peer_id;            /* Identity.PeerID as written; NULL when absent */
  char *api_address;        /* path/api, trimmed: the running daemon's API; NULL when absent */
  gboolean
      config_shared;   /* the config file (which holds the private key) is group/other-readable */
  char *authorization; /* the Authorization header for the RPC from API.Authorizations, or NULL.
                        * A secret: never log it; wiped when the repo is freed. */
} PhKuboRepo;

/* $IPFS_PATH (with a leading ~ expanded), else ~/.ipfs (kubo:repo/fsrepo/misc.go BestKnownPath). */
char *
ph_kubo_repo_default_path (void);

/* Reads path/config (at most PH_KUBO_MAX_CONFIG_SIZE) and path/api. `path` NULL means the default.
 * Fails with NO_NODE when there is no directory or no config in it, IO when it cannot be read,
 * TOO_LARGE or MALFORMED for a config we will not use. Blocking but local: see _async. */
PhKuboRepo *
ph_kubo_repo_open (const char *path, GError **error);
/* The same in a worker thread. */
void
ph_kubo_repo_open_async (const char *path, GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data);
PhKuboRepo *
ph_kubo_repo_open_finish (GAsyncResult *result, GError **error);
void
ph_kubo_repo_free (PhKuboRepo *repo);

/* The header value kubo expects for an AuthSecret (kubo:config/api.go ConvertAuthSecret):
 * "bearer:t" or "t" → "Bearer t"; "basic:u:p" → "Basic base64(u:p)"; "basic:b64" → "Basic b64";
 * NULL for another "type:", or for control characters (which would split the header). */
char *
ph_kubo_auth_secret_to_header (const char *secret);

/* ---- the node's identity key, for probing as the node ---- */

typedef struct
{
  GBytes *private_key; /* the PrivateKey protobuf (libp2p peer-ids.md §Keys); wiped when freed */
  char *peer_id;       /* base58btc, derived from the key (and equal to Identity.PeerID) */
  PhKeyType key_type;
} PhKuboIdentity;

/* Identity.PrivKey from path/config (`path` NULL: the default). The RPC never reveals it
 * (kubo:core/commands/config.go "cannot show or change private key through API"), so the file is
 * the only source. The key is checked: it must parse, and its peer ID must be Identity.PeerID
 * (kubo refuses to start when they differ). The base64 text and every intermediate copy we make
 * are wiped; json-glib's own scratch copies while parsing are freed unwiped. Blocking, local. */
PhKuboIdentity *
ph_kubo_repo_load_identity (const char *path, GError **error);
void
ph_kubo_identity_free (PhKuboIdentity *identity);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhKuboSettings, ph_kubo_settings_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhKuboRepo, ph_kubo_repo_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhKuboIdentity, ph_kubo_identity_free)

G_END_DECLS
