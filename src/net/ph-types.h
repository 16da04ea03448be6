/* ph-types.h: the GObject types our threads share, made ready before any thread starts
 *
 * GLib 2.74's type system can deadlock when two threads use types for the first time at once: one
 * runs a class_init (holding the type system's class-init lock) that needs a type the other is
 * registering just then, and that registration waits for the same lock to add an interface.
 * Seen here: `porthole --check` hung for good, its main thread in libsoup's session class_init
 * waiting for GInetSocketAddress, which libnm's D-Bus thread was registering and could not finish.
 *
 * ph_types_ensure() registers, on the calling thread, every GIO type our worker threads (the
 * probe's sockets, libnm's and GApplication's D-Bus connections, GTask threads) may be the first
 * to use, and initialises the classes the main thread first meets while those threads run
 * (libsoup's session, libnm's client). Call it from main() before anything starts a thread; it
 * runs once, and later calls cost an atomic read.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void
ph_types_ensure (void);

G_END_DECLS
