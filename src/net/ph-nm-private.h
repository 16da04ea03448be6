/* ph-nm-private.h: the libnm side of ph-nm.c, shared with the IPv6 fix and the network watch
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <NetworkManager.h>

#include "net/ph-nm.h"

G_BEGIN_DECLS

/* The primary connection, or else the one NetworkManager put the default route on. */
NMActiveConnection *
ph_nm_pick_connection (NMClient *client);
/* The first device of the active connection, or NULL. */
NMDevice *
ph_nm_connection_device (NMActiveConnection *active);
/* The IP interface (ppp0 over ttyUSB0), else the device's interface. */
const char *
ph_nm_device_name (NMDevice *device);
/* The active connection's IP configuration of family (AF_INET, AF_INET6), else its device's. */
NMIPConfig *
ph_nm_ip_config (NMActiveConnection *active, int family);

/* Everything the client's cache knows about the primary connection; the methods come from the
 * settings connection when libnm holds it (not when it is another user's). */
void
ph_nm_facts_fill (PhNmFacts *facts, NMClient *client);
/* The same for a given active connection (may be NULL: then only running and version). */
void
ph_nm_facts_fill_active (PhNmFacts *facts, NMClient *client, NMActiveConnection *active);
/* Derived facts (DHCP) once the methods are known. */
void
ph_nm_facts_settle (PhNmFacts *facts);

/* The error says NetworkManager went away (no reply, no owner, bus closed). */
gboolean
ph_nm_error_is_gone (const GError *error);

G_END_DECLS
