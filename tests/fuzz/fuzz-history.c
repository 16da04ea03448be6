/* fuzz-history.c: the history file's parser (ph_history_entries_parse), and that what it accepts
 * writes back to the same entries
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "core/ph-history-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
assert_same_entries (GPtrArray *a, GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      const PhHistoryEntry *x = g_ptr_array_index (a, i);
      const PhHistoryEntry *y = g_ptr_array_index (b, i);

      g_assert_cmpint (x->time, ==, y->time);
      g_assert_cmpint (x->ipv4, ==, y->ipv4);
      g_assert_cmpint (x->ipv6, ==, y->ipv6);
      g_assert_cmpstr (x->cause, ==, y->cause);
      g_assert_cmpstr (x->how, ==, y->how);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *const hows[] = { "direct", "upnp", "forward", "ipv6", NULL };
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GPtrArray) again = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text_again = NULL;
  gsize len = 0, len_again = 0;

  /* the file as ph_history_load reads it: at most PH_HISTORY_MAX_BYTES + 1 bytes */
  if (size > PH_HISTORY_MAX_BYTES + 1)
    return 0;
  entries = ph_history_entries_parse ((const char *) data, size);
  if (entries == NULL)
    return 0;

  /* what the window and the tray then show */
  g_assert_cmpuint (entries->len, <=, PH_HISTORY_MAX_ENTRIES);
  for (guint i = 0; i < entries->len; i++)
    {
      const PhHistoryEntry *entry = g_ptr_array_index (entries, i);

      g_assert_nonnull (ph_verdict_to_string (entry->ipv4));
      g_assert_nonnull (ph_verdict_to_string (entry->ipv6));
      g_assert_true (entry->how == NULL || g_strv_contains (hows, entry->how));
      g_assert_true (entry->cause == NULL || g_utf8_validate (entry->cause, -1, NULL));
    }

  /* what ph_history_save writes reads back the same, and writes the same again */
  text = ph_history_entries_to_data (entries, &len);
  again = ph_history_entries_parse (text, len);
  if (again == NULL)
    g_error ("the history written does not read back: %s", text);
  assert_same_entries (entries, again);
  text_again = ph_history_entries_to_data (again, &len_again);
  g_assert_cmpmem (text, len, text_again, len_again);
  return 0;
}
