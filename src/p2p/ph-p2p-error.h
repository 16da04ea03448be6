/* ph-p2p-error.h: the error domain of the libp2p stack
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PH_P2P_ERROR (ph_p2p_error_quark ())

/* What went wrong on the wire, independent of which protocol noticed it. */
typedef enum
{
  PH_P2P_ERROR_TRUNCATED,     /* input ended before a complete message */
  PH_P2P_ERROR_TOO_LARGE,     /* a length over the protocol's bound */
  PH_P2P_ERROR_MALFORMED,     /* bytes that do not parse */
  PH_P2P_ERROR_UNSUPPORTED,   /* valid, but not something we speak (unknown code, key type) */
  PH_P2P_ERROR_BAD_SIGNATURE, /* a signature that does not verify */
  PH_P2P_ERROR_PEER_MISMATCH, /* the remote is not the peer we dialed */
  PH_P2P_ERROR_NEGOTIATION,   /* multistream found no common protocol */
  PH_P2P_ERROR_PROTOCOL,      /* the peer broke a protocol rule */
  PH_P2P_ERROR_LIMIT,         /* a resource cap was reached (streams, buffered bytes) */
  PH_P2P_ERROR_CLOSED,        /* the connection or stream is closed or reset */
  PH_P2P_ERROR_TIMED_OUT,     /* the deadline passed */
  PH_P2P_ERROR_CRYPTO,        /* libcrypto failed */
} PhP2pError;

GQuark
ph_p2p_error_quark (void);

G_END_DECLS
