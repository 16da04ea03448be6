/* ph-ipv6-fix.h: turn on IPv6 for the connection that carries the default route, and undo it
 *
 * The first road of the IPFS NAT guide: a node with a global IPv6 address needs no port
 * forwarding. Through NetworkManager, as GNOME Settings does it: ask the permissions first,
 * set ipv6.method=auto on the profile and commit it, then reapply it on the device (no
 * disconnect), then watch for a global address and a default route. Every change is recorded
 * in the change log (kind PH_IPV6_FIX_CHANGE_KIND) and can be undone.
 *
 * All operations are asynchronous on the thread-default main context, like ph-nm.h; libnm needs
 * that context iterated a little after the callback to release its client.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "net/ph-change-log.h"
#include "net/ph-nm.h"

G_BEGIN_DECLS

#define PH_IPV6_FIX_ERROR (ph_ipv6_fix_error_quark ())

typedef enum
{
  PH_IPV6_FIX_ERROR_NO_NETWORK_MANAGER,   /* not running: the message explains the manual step */
  PH_IPV6_FIX_ERROR_NO_CONNECTION,        /* no active connection carries the default route */
  PH_IPV6_FIX_ERROR_NOT_EDITABLE,         /* another user's, read-only or external profile */
  PH_IPV6_FIX_ERROR_NOT_AUTHORIZED,       /* polkit's policy says no: no prompt could help */
  PH_IPV6_FIX_ERROR_NETWORK_MANAGER_GONE, /* NetworkManager stopped during the operation */
  PH_IPV6_FIX_ERROR_TIMED_OUT,            /* NetworkManager did not answer in time */
  PH_IPV6_FIX_ERROR_CHANGED_SINCE,        /* undo: someone changed the setting after us */
  PH_IPV6_FIX_ERROR_BAD_CHANGE,           /* undo: not a change of ours, or an incomplete one */
  PH_IPV6_FIX_ERROR_FAILED,               /* NetworkManager refused for another reason */
  PH_IPV6_FIX_ERROR_NOT_CONFIRMED, /* a password prompt was dismissed or its password refused */
} PhIpv6FixError;

GQuark
ph_ipv6_fix_error_quark (void);

#define PH_IPV6_FIX_CHANGE_KIND "nm-ipv6-method"
#define PH_IPV6_FIX_DEFAULT_SETTLE_MS 15000

/* What NetworkManager's permissions (polkit behind them) say about changing the profile and
 * applying it to the device. */
typedef enum
{
  PH_IPV6_PERMISSION_YES,     /* allowed, no prompt */
  PH_IPV6_PERMISSION_AUTH,    /* allowed after a password prompt */
  PH_IPV6_PERMISSION_NO,      /* not allowed */
  PH_IPV6_PERMISSION_UNKNOWN, /* NetworkManager did not say in time: a prompt may appear */
} PhIpv6Permission;

/* "yes", "auth", "no", "unknown" */
const char *
ph_ipv6_permission_to_string (PhIpv6Permission permission);

/* Whether IPv6 needs turning on: the method is "disabled", "ignore" or "link-local" (or no
 * profile says). "auto", "dhcp", "manual" and "shared" are on already. */
gboolean
ph_ipv6_method_is_off (const char *method);

typedef struct
{
  gboolean network_manager; /* FALSE: facts are read-only; message explains the manual step */
  gboolean possible;        /* an enable would be tried (permission yes, auth or unknown) */
  gboolean needed;          /* the connection's IPv6 method is off */
  PhIpv6Permission permission;
  char *message;    /* a sentence: what will happen, or why it cannot */
  PhNmFacts *facts; /* what NetworkManager says now */
} PhIpv6Check;

void
ph_ipv6_check_free (PhIpv6Check *check);
JsonNode *
ph_ipv6_check_to_json (const PhIpv6Check *check);

typedef struct
{
  guint
      timeout_ms;  /* for NetworkManager's answers before any prompt; 0: PH_NM_DEFAULT_TIMEOUT_MS */
  guint settle_ms; /* how long to wait for a global address and route; 0: the default (15 s) */
  PhChangeLog *log; /* where the change is recorded; may be NULL (then keep result->change) */
} PhIpv6FixOptions;

typedef enum
{
  PH_IPV6_OUTCOME_CONNECTED,    /* a global address and a default route appeared */
  PH_IPV6_OUTCOME_ADDRESS_ONLY, /* a global address, but no default route within settle_ms */
  PH_IPV6_OUTCOME_NONE_OFFERED, /* no global address within settle_ms: the router or ISP is next */
  PH_IPV6_OUTCOME_NOT_APPLIED,  /* saved, but NetworkManager could not apply it without reconnecting
                                 */
  PH_IPV6_OUTCOME_PENDING,    /* saved; the caller cancelled the wait before the network answered */
  PH_IPV6_OUTCOME_ALREADY_ON, /* nothing to change */
  PH_IPV6_OUTCOME_RESTORED,   /* undo: the old method is back */
} PhIpv6Outcome;

/* "connected", "address-only", "none-offered", "not-applied", "pending", "already-on", "restored"
 */
const char *
ph_ipv6_outcome_to_string (PhIpv6Outcome outcome);

typedef struct
{
  PhIpv6Outcome outcome;
  char *message;   /* what happened, a sentence */
  char *next_step; /* what to do next, a sentence; NULL when nothing */
  char *connection_id;
  char *connection_uuid;
  char *device;       /* NULL when the connection is not active (undo) */
  char *old_method;   /* the IPv6 method before */
  char *new_method;   /* and after */
  gboolean changed;   /* the profile was changed */
  gboolean reapplied; /* and applied to the device without reconnecting */
  PhChange *change;   /* how to undo it (NULL when nothing changed, and after an undo) */
  char *change_id;    /* its entry in options->log; NULL without a log */
  char *warning;      /* e.g. the change log could not be written; usually NULL */
  PhNmFacts *facts;   /* what NetworkManager says at the end */
} PhIpv6FixResult;

void
ph_ipv6_fix_result_free (PhIpv6FixResult *result);
JsonNode *
ph_ipv6_fix_result_to_json (const PhIpv6FixResult *result);

/* What an enable would do and whether it may; never fails for an absent NetworkManager (then
 * check->network_manager is FALSE). Fails with TIMED_OUT and G_IO_ERROR_CANCELLED. */
void
ph_ipv6_fix_check_async (guint timeout_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data);
PhIpv6Check *
ph_ipv6_fix_check_finish (GAsyncResult *result, GError **error);

/* Turns IPv6 on (ipv6.method=auto) for the connection carrying the default route: commit, record,
 * reapply, then wait up to settle_ms for a global address and a default route. Fails with a
 * PH_IPV6_FIX_ERROR whose message is a sentence for people, or G_IO_ERROR_CANCELLED before the
 * change was sent. Once the change is being saved, cancelling no longer undoes the work: it stops
 * the wait and returns the result as it stands (PENDING). */
void
ph_ipv6_fix_enable_async (const PhIpv6FixOptions *options, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data);
PhIpv6FixResult *
ph_ipv6_fix_enable_finish (GAsyncResult *result, GError **error);

/* Puts back the method a recorded change replaced (a PhChange from the log or result->change),
 * applies it if the connection is active, and removes the entry from options->log. Refuses
 * (CHANGED_SINCE) when the method is no longer the one Porthole set. */
void
ph_ipv6_fix_undo_async (const PhChange *change, const PhIpv6FixOptions *options,
                        GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data);
PhIpv6FixResult *
ph_ipv6_fix_undo_finish (GAsyncResult *result, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhIpv6Check, ph_ipv6_check_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhIpv6FixResult, ph_ipv6_fix_result_free)

G_END_DECLS
