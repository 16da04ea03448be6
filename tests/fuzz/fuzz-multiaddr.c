/* fuzz-multiaddr.c: the input is a binary multiaddr; when it parses, its string form must parse
 * back to the same bytes. The same input is also tried as multiaddr text and as base58btc and
 * base32 text, each of which must survive a round trip when it is accepted. Any mismatch, and any
 * GLib critical or warning, aborts.
 *
 * Build by hand (not wired into meson):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Isrc -Isrc/p2p \
 *     $(pkg-config --cflags gio-2.0) tests/fuzz/fuzz-multiaddr.c src/p2p/ph-multiaddr.c \
 *     src/p2p/ph-multibase.c src/p2p/ph-ip-scope.c src/p2p/ph-varint.c src/p2p/ph-p2p-error.c \
 *     $(pkg-config --libs gio-2.0) -o fuzz-multiaddr
 *   ./fuzz-multiaddr -max_len=1100 tests/fuzz/corpus/multiaddr
 * (-I. must find a config.h; an empty one will do.)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "p2p/ph-multiaddr.h"
#include "p2p/ph-multibase.h"
#include "p2p/ph-p2p-error.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv);
int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
check (gboolean condition, const char *what)
{
  if (!condition)
    {
      g_printerr ("fuzz-multiaddr: %s\n", what);
      abort ();
    }
}

static void
check_error (GError *error)
{
  check (error != NULL && error->domain == PH_P2P_ERROR && error->message != NULL,
         "failure without a PH_P2P_ERROR");
}

/* Every accessor must work on anything that parsed. */
static void
exercise (PhMultiaddr *ma)
{
  g_autoptr (GInetAddress) ip = NULL;
  g_autoptr (GSocketAddress) socket_address = NULL;
  g_autoptr (PhMultiaddr) without = NULL;
  g_autofree char *dns_name = NULL;
  g_autoptr (GError) error = NULL;
  PhMultiaddrComponent component;
  const guint8 *peer_id;
  gsize peer_id_len;
  guint16 port;

  for (gsize i = 0; ph_multiaddr_get_component (ma, i, &component); i++)
    check (component.name != NULL && (component.value != NULL) == (component.value_len > 0),
           "component without a name or with a bad value");
  (void) ph_multiaddr_get_ip (ma, &ip);
  (void) ph_multiaddr_get_family (ma);
  (void) ph_multiaddr_get_tcp_port (ma, &port);
  (void) ph_multiaddr_get_udp_port (ma, &port);
  (void) ph_multiaddr_classify (ma);
  (void) ph_multiaddr_is_dns (ma);
  dns_name = ph_multiaddr_get_dns_name (ma, NULL);

  socket_address = ph_multiaddr_to_socket_address (ma, &error);
  if (socket_address == NULL)
    check_error (error);
  g_clear_error (&error);

  peer_id = ph_multiaddr_get_peer_id_bytes (ma, &peer_id_len);
  without = ph_multiaddr_without_peer_id (ma);
  /* Only when the address had a single trailing /p2p does adding it back restore it. */
  if (peer_id != NULL && without != NULL && ph_multiaddr_get_peer_id_bytes (without, NULL) == NULL)
    {
      g_autoptr (PhMultiaddr) with = NULL;

      with = ph_multiaddr_with_peer_id (without, peer_id, peer_id_len, &error);
      check (with != NULL && ph_multiaddr_equal (with, ma), "without + with peer ID differs");
    }
}

static void
fuzz_binary (const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhMultiaddr) ma = NULL;
  g_autoptr (PhMultiaddr) again = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text_again = NULL;
  const guint8 *bytes;
  gsize len;

  ma = ph_multiaddr_new_from_bytes (data, size, &error);
  if (ma == NULL)
    {
      check_error (error);
      return;
    }

  bytes = ph_multiaddr_peek_bytes (ma, &len);
  check (len == size && memcmp (bytes, data, size) == 0, "stored bytes differ from input");

  text = ph_multiaddr_to_string (ma);
  again = ph_multiaddr_new_from_string (text, &error);
  if (again == NULL)
    {
      g_printerr ("fuzz-multiaddr: %s does not parse back: %s\n", text, error->message);
      abort ();
    }
  check (ph_multiaddr_equal (ma, again), "string round trip changed the bytes");
  text_again = ph_multiaddr_to_string (again);
  check (strcmp (text, text_again) == 0, "string form is not stable");

  exercise (ma);
}

static void
fuzz_text (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhMultiaddr) ma = NULL;
  g_autoptr (GBytes) b58 = NULL;
  g_autoptr (GBytes) b32 = NULL;

  ma = ph_multiaddr_new_from_string (text, &error);
  if (ma != NULL)
    {
      g_autofree char *canonical = ph_multiaddr_to_string (ma);
      g_autoptr (PhMultiaddr) again = ph_multiaddr_new_from_string (canonical, NULL);

      check (again != NULL && ph_multiaddr_equal (ma, again), "text round trip changed the bytes");
      exercise (ma);
    }
  else
    check_error (error);
  g_clear_error (&error);

  /* Both decoders are strict, so accepted text is exactly what the encoder prints. */
  b58 = ph_base58btc_decode (text, &error);
  if (b58 != NULL)
    {
      g_autofree char *encoded
          = ph_base58btc_encode (g_bytes_get_data (b58, NULL), g_bytes_get_size (b58));
      check (strcmp (encoded, text) == 0, "base58btc round trip differs");
    }
  else
    check_error (error);
  g_clear_error (&error);

  b32 = ph_base32_decode (text, &error);
  if (b32 != NULL)
    {
      g_autofree char *encoded
          = ph_base32_encode (g_bytes_get_data (b32, NULL), g_bytes_get_size (b32));
      check (g_ascii_strcasecmp (encoded, text) == 0, "base32 round trip differs");
    }
  else
    check_error (error);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* A g_return_if_fail reached from parsed input is a bug too. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *text = NULL;

  fuzz_binary (data, size);

  /* As text, up to the first NUL. */
  text = g_strndup ((const char *) data, size);
  fuzz_text (text);
  return 0;
}
