/* ph-duplex.h: a bidirectional byte stream with deadlines, the one I/O shape of the stack
 *
 * A TCP socket, a Noise secure channel and a yamux stream are all PhDuplex, so multistream-select
 * and length-prefixed messages are written once. Calls block the calling worker thread until the
 * deadline (absolute, g_get_monotonic_time() microseconds) or until the cancellable fires; they
 * then fail with G_IO_ERROR_TIMED_OUT or G_IO_ERROR_CANCELLED. One reader and one writer may use a
 * duplex from two threads at once; more than that needs the caller's own lock.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _PhDuplex PhDuplex;

typedef struct
{
  /* Reads at most len bytes; returns the count, 0 at end of stream, -1 on error. */
  gssize (*read) (PhDuplex *self, guint8 *buffer, gsize len, gint64 deadline,
                  GCancellable *cancellable, GError **error);
  gboolean (*write) (PhDuplex *self, const guint8 *data, gsize len, gint64 deadline,
                     GCancellable *cancellable, GError **error);
  /* Half-close: no more writes (TCP shutdown, yamux FIN). */
  gboolean (*close_write) (PhDuplex *self, gint64 deadline, GCancellable *cancellable,
                           GError **error);
  void (*free) (PhDuplex *self);
} PhDuplexVTable;

struct _PhDuplex
{
  const PhDuplexVTable *vtable;
};

/* A deadline `timeout_ms` from now. */
gint64
ph_deadline_in (guint timeout_ms);
gboolean
ph_deadline_passed (gint64 deadline, GError **error);

gssize
ph_duplex_read (PhDuplex *self, guint8 *buffer, gsize len, gint64 deadline,
                GCancellable *cancellable, GError **error);
gboolean
ph_duplex_read_exact (PhDuplex *self, guint8 *buffer, gsize len, gint64 deadline,
                      GCancellable *cancellable, GError **error);
gboolean
ph_duplex_write (PhDuplex *self, const guint8 *data, gsize len, gint64 deadline,
                 GCancellable *cancellable, GError **error);
gboolean
ph_duplex_close_write (PhDuplex *self, gint64 deadline, GCancellable *cancellable, GError **error);
void
ph_duplex_free (PhDuplex *self);

/* Unsigned-varint length-prefixed messages (multistream, identify, AutoNAT). A length over
 * max_len fails with PH_P2P_ERROR_TOO_LARGE before anything is allocated. */
GBytes *
ph_duplex_read_frame (PhDuplex *self, gsize max_len, gint64 deadline, GCancellable *cancellable,
                      GError **error);
gboolean
ph_duplex_write_frame (PhDuplex *self, const guint8 *data, gsize len, gint64 deadline,
                       GCancellable *cancellable, GError **error);

/* Reads until end of stream, at most max_len bytes in all (identify may come in several frames). */
GBytes *
ph_duplex_read_to_end (PhDuplex *self, gsize max_len, gint64 deadline, GCancellable *cancellable,
                       GError **error);

/* A connected TCP socket; takes a reference. Waits with g_socket_condition_timed_wait. */
PhDuplex *
ph_duplex_new_for_socket (GSocket *socket);
GSocket *
ph_duplex_get_socket (PhDuplex *self); /* NULL if not a socket duplex */

/* An in-memory pair for tests: what one end writes, the other reads. */
void
ph_duplex_new_pipe_pair (PhDuplex **a, PhDuplex **b);

/* Additions (the contracts above are unchanged):
 *
 * Errors: transport failures keep their G_IO_ERROR codes. End of stream inside a read that needs
 * more bytes is PH_P2P_ERROR_CLOSED when it comes before the first byte (a clean boundary: the
 * peer closed between messages) and PH_P2P_ERROR_TRUNCATED when it cuts a message short. Every
 * call checks the cancellable and the deadline first, so an expired deadline fails even when
 * bytes are already buffered.
 *
 * The socket duplex puts the socket in non-blocking mode, and closes it when freed. A pipe end's
 * write fails with G_IO_ERROR_BROKEN_PIPE once the other end is freed. */

/* No deadline. Allowed, but network operations should always carry a real one. */
#define PH_DEADLINE_NONE G_MAXINT64

/* Microseconds left until deadline, 0 when passed, -1 for PH_DEADLINE_NONE. */
gint64
ph_deadline_remaining (gint64 deadline);

/* Reads one unsigned varint byte by byte, never past its last byte. */
gboolean
ph_duplex_read_varint (PhDuplex *self, guint64 *value, gint64 deadline, GCancellable *cancellable,
                       GError **error);

/* Bytes one pipe end may have written that the other has not read yet; writes block beyond it. */
#define PH_DUPLEX_PIPE_CAPACITY (1024 * 1024)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhDuplex, ph_duplex_free)

G_END_DECLS
