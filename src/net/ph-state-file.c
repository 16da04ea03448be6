/* ph-state-file.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ph-state-file.h"

char *
ph_state_file_aside_path (const char *path)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  char *candidate;

  g_return_val_if_fail (path != NULL, NULL);

  candidate = g_strdup_printf ("%s.corrupt-%s", path, stamp);
  for (guint i = 1; i < 100 && g_file_test (candidate, G_FILE_TEST_EXISTS); i++)
    {
      g_free (candidate);
      candidate = g_strdup_printf ("%s.corrupt-%s-%u", path, stamp, i);
    }
  if (g_file_test (candidate, G_FILE_TEST_EXISTS))
    {
      /* a rename must never overwrite an earlier one */
      g_autofree char *uuid = g_uuid_string_random ();

      g_free (candidate);
      candidate = g_strdup_printf ("%s.corrupt-%s-%s", path, stamp, uuid);
    }
  return candidate;
}
