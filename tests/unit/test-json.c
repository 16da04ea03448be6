/* test-json.c: the nesting guard in front of json-glib, and the files it protects
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>

#include "net/ph-change-log.h"
#include "net/ph-json.h"

static void
test_depth (void)
{
  g_assert_true (ph_json_depth_ok ("", 0, 1));
  g_assert_true (ph_json_depth_ok ("{}", 2, 1));
  g_assert_false (ph_json_depth_ok ("[[", 2, 1));
  g_assert_false (ph_json_depth_ok ("[[[", 3, 2));
  g_assert_true (ph_json_depth_ok ("[[]][[]]", 8, 2));
  /* brackets in strings do not count, escaped quotes do not end them */
  g_assert_true (ph_json_depth_ok ("[\"[[[\\\"[[\"]", 11, 1));
  g_assert_false (ph_json_depth_ok ("[\"\\\\\"[]]", 8, 1));
  /* a lone backslash at the end is not read past */
  g_assert_true (ph_json_depth_ok ("\"\\", 2, 1));
}

/* A change log of a megabyte of '[' overflowed json-glib's recursion; now it is corrupt like
 * any other bad file: set aside, reported, never a crash. */
static void
test_change_log_deep (void)
{
  g_autofree char *dir = g_dir_make_tmp ("porthole-json-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "changes.json", NULL);
  gsize len = 1024 * 1024;
  g_autofree char *deep = g_malloc (len);
  g_autoptr (PhChangeLog) log = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GDir) d = NULL;
  const char *name;
  gboolean aside = FALSE;

  memset (deep, '[', len);
  g_assert_true (g_file_set_contents (path, deep, (gssize) len, NULL));
  log = ph_change_log_new (path);
  list = ph_change_log_list (log, &error);
  /* either an empty list with the file set aside, or an error naming it: never a crash */
  d = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (d)))
    if (g_str_has_prefix (name, "changes.json.corrupt-"))
      {
        g_autofree char *p = g_build_filename (dir, name, NULL);

        aside = TRUE;
        g_unlink (p);
      }
  g_assert_true (aside);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json/depth", test_depth);
  g_test_add_func ("/json/change-log-deep", test_change_log_deep);
  return g_test_run ();
}
