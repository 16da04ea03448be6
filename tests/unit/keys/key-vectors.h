/* key-vectors.h: loading the key test vectors of tests/unit/keys/ (shared by test-keys.c and
 * test-peer-id.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

/* Hex of either case to bytes; the test fails on anything else. */
G_GNUC_UNUSED static GBytes *
vector_hex (const char *hex)
{
  gsize len = strlen (hex);
  guint8 *bytes;

  g_assert_cmpuint (len % 2, ==, 0);
  bytes = g_malloc (len / 2 + 1);
  for (gsize i = 0; i < len / 2; i++)
    {
      int high = g_ascii_xdigit_value (hex[2 * i]);
      int low = g_ascii_xdigit_value (hex[2 * i + 1]);

      g_assert_cmpint (high, >=, 0);
      g_assert_cmpint (low, >=, 0);
      bytes[i] = high << 4 | low;
    }
  return g_bytes_new_take (bytes, len / 2);
}

/* tests/unit/keys/<name>, found through G_TEST_SRCDIR (tests/) as meson sets it. */
G_GNUC_UNUSED static GKeyFile *
vector_file (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "unit", "keys", name, NULL);
  g_autoptr (GError) error = NULL;
  GKeyFile *file = g_key_file_new ();

  g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  return file;
}

G_GNUC_UNUSED static char *
vector_string (GKeyFile *file, const char *group, const char *key)
{
  g_autoptr (GError) error = NULL;
  char *value = g_key_file_get_string (file, group, key, &error);

  g_assert_no_error (error);
  return value;
}

G_GNUC_UNUSED static GBytes *
vector_bytes (GKeyFile *file, const char *group, const char *key)
{
  g_autofree char *hex = vector_string (file, group, key);

  return vector_hex (hex);
}
