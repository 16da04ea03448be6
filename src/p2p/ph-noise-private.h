/* ph-noise-private.h: inlined muxer negotiation, for ph-connection.c and the Noise tests
 *
 * libp2p/specs connections/inlined-muxer-negotiation.md: the responder lists the stream muxers it
 * speaks in the extensions of message 2, the initiator in message 3, and the connection uses the
 * first of the initiator's list that the responder listed too, with no multistream round for the
 * muxer. go-libp2p (noise/transport.go matchMuxers) and js-libp2p (@chainsafe/libp2p-noise
 * getStreamMuxer) do it whenever the peer lists muxers; when either side lists none, the muxer is
 * negotiated with multistream after the handshake, as before.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "ph-noise.h"

G_BEGIN_DECLS

/* Before the first message: list `muxers` (NULL-terminated, preferred first; NULL or empty: no
 * extensions, the default) in our payload. */
void
ph_noise_handshake_set_muxers (PhNoiseHandshake *self, const char *const *muxers);

/* Once complete: the muxer both sides now use without multistream, or NULL (negotiate it). A peer
 * list of more than 100 entries counts as none, as in go-libp2p. Transfer none. */
const char *
ph_noise_handshake_get_muxer (PhNoiseHandshake *self);

/* ph_noise_secure() with ph_noise_handshake_set_muxers (`muxers`); `*muxer_out` (optional) gets a
 * copy of ph_noise_handshake_get_muxer(), NULL included. */
PhDuplex *
ph_noise_secure_with_muxers (PhDuplex *insecure, gboolean initiator, PhPrivateKey *identity,
                             const PhPeerId *expected_remote, const char *const *muxers,
                             PhPeerId **remote_out, char **muxer_out, gint64 deadline,
                             GCancellable *cancellable, GError **error);

G_END_DECLS
