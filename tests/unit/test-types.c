/* test-types.c: the types our threads share are ready before any thread starts
 *
 * `porthole --check` once hung for good: its main thread ran libsoup's session class_init, which
 * needed GInetSocketAddress just as libnm's D-Bus thread was registering it (GLib 2.74 deadlocks
 * there, ph-types.h). The race itself is rare (2 in 1500 checks); what can be asserted every time
 * is its precondition gone: after ph_types_ensure(), in a process that had not used them, the
 * classes on both sides of that deadlock are initialised.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <NetworkManager.h>
#include <gio/gio.h>
#include <libsoup/soup.h>

#include "net/ph-types.h"

static void
test_ensure (void)
{
  if (g_test_subprocess ())
    {
      /* peek, not ref: looking must not initialise anything */
      GType types[] = { G_TYPE_INET_SOCKET_ADDRESS, G_TYPE_PROXY_ADDRESS, G_TYPE_DBUS_CONNECTION,
                        G_TYPE_SOCKET_CLIENT,       SOUP_TYPE_SESSION,    NM_TYPE_CLIENT };

      /* a fresh process: none is initialised yet, so the assertions below can fail */
      for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
        g_assert_null (g_type_class_peek (types[i]));
      ph_types_ensure ();
      for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
        g_assert_nonnull (g_type_class_peek (types[i]));
      /* once only, and cheap after */
      ph_types_ensure ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/types/ensure", test_ensure);
  return g_test_run ();
}
