/* test-history.c: PhHistory — survives a restart, stays bounded, sets a corrupt file aside and
 * says where (garbage, truncated JSON, wrong types, a huge file, a folder in its place), and
 * tells how a node is reachable from a diagnosis.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include <glib/gstdio.h>
#include <string.h>

#include "core/ph-history.h"

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("ph-history-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "sub", "history.json", NULL);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      g_remove (path);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      remove_tree (child);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->path);
}

/* ---- diagnoses ---- */

static void
set_family (PhDiagnosis *diagnosis, PhFamily family, PhVerdict verdict, const char *cause)
{
  g_autoptr (GPtrArray) causes = g_ptr_array_new ();

  if (cause != NULL)
    g_ptr_array_add (causes, (gpointer) cause);
  ph_diagnosis_set_family (diagnosis, family, verdict,
                           verdict == PH_VERDICT_UNKNOWN ? "inconclusive" : NULL);
  ph_diagnosis_set_family_causes (diagnosis, family, causes, NULL, FALSE);
}

static PhDiagnosis *
make_diagnosis (PhVerdict v4, const char *cause4, PhVerdict v6, const char *cause6)
{
  PhDiagnosis *diagnosis = ph_diagnosis_new ();

  set_family (diagnosis, PH_FAMILY_IPV4, v4, cause4);
  set_family (diagnosis, PH_FAMILY_IPV6, v6, cause6);
  return diagnosis;
}

static void
add_lan_ipv4 (PhDiagnosis *diagnosis, const char *address, PhIpScope scope)
{
  PhLanFacts *lan = ph_lan_facts_new ();
  PhLanAddress *a = g_new0 (PhLanAddress, 1);

  a->ifname = g_strdup ("eth0");
  a->ifindex = 2;
  a->family = AF_INET;
  a->address = g_strdup (address);
  a->prefix = 24;
  a->scope = scope;
  g_ptr_array_add (lan->addresses, a);
  ph_diagnosis_take_lan (diagnosis, lan);
}

static void
add_our_mapping (PhDiagnosis *diagnosis)
{
  PhUpnpFacts *upnp = ph_upnp_facts_new ();
  PhUpnpMapping *mapping = g_new0 (PhUpnpMapping, 1);

  mapping->external_port = 4001;
  mapping->internal_port = 4001;
  mapping->protocol = g_strdup ("TCP");
  mapping->internal_client = g_strdup ("192.168.1.20");
  mapping->description = g_strdup ("Porthole");
  mapping->remote_host = g_strdup ("");
  mapping->ours = TRUE;
  upnp->found = TRUE;
  upnp->our_tcp = mapping;
  ph_diagnosis_take_upnp (diagnosis, upnp);
}

static GDateTime *
at (gint64 unix_s)
{
  return g_date_time_new_from_unix_utc (unix_s);
}

static PhHistoryEntry *
entry (PhHistory *history, guint i)
{
  GPtrArray *entries = ph_history_get_entries (history);

  g_assert_cmpuint (i, <, entries->len);
  return g_ptr_array_index (entries, i);
}

static void
count_changed (PhHistory *history, guint *count)
{
  (*count)++;
}

/* ---- how ---- */

static void
test_how (void)
{
  g_autoptr (PhDiagnosis) v6_only = NULL;
  g_autoptr (PhDiagnosis) upnp = NULL;
  g_autoptr (PhDiagnosis) direct = NULL;
  g_autoptr (PhDiagnosis) forward = NULL;
  g_autoptr (PhDiagnosis) none = NULL;
  g_autoptr (PhDiagnosis) unknown = NULL;
  g_autoptr (PhDiagnosis) both = NULL;

  v6_only = make_diagnosis (PH_VERDICT_UNREACHABLE, "behind-nat", PH_VERDICT_REACHABLE, NULL);
  g_assert_cmpstr (ph_history_how_for_diagnosis (v6_only), ==, "ipv6");
  g_assert_cmpstr (ph_history_cause_for_diagnosis (v6_only), ==, "behind-nat");

  /* our mapping wins even on a host with a public address: the mapping is what we did */
  upnp = make_diagnosis (PH_VERDICT_REACHABLE, NULL, PH_VERDICT_REACHABLE, NULL);
  add_our_mapping (upnp);
  add_lan_ipv4 (upnp, "192.168.1.20", PH_IP_SCOPE_PRIVATE);
  g_assert_cmpstr (ph_history_how_for_diagnosis (upnp), ==, "upnp");
  g_assert_null (ph_history_cause_for_diagnosis (upnp));

  direct = make_diagnosis (PH_VERDICT_REACHABLE, NULL, PH_VERDICT_UNREACHABLE, "firewalled");
  add_lan_ipv4 (direct, "203.0.113.7", PH_IP_SCOPE_PUBLIC);
  g_assert_cmpstr (ph_history_how_for_diagnosis (direct), ==, "direct");
  g_assert_cmpstr (ph_history_cause_for_diagnosis (direct), ==, "firewalled");

  forward = make_diagnosis (PH_VERDICT_REACHABLE, NULL, PH_VERDICT_UNKNOWN, NULL);
  add_lan_ipv4 (forward, "192.168.1.20", PH_IP_SCOPE_PRIVATE);
  g_assert_cmpstr (ph_history_how_for_diagnosis (forward), ==, "forward");
  g_assert_null (ph_history_cause_for_diagnosis (forward));

  none = make_diagnosis (PH_VERDICT_UNREACHABLE, "cgnat", PH_VERDICT_UNREACHABLE, "firewalled");
  add_our_mapping (none);
  g_assert_null (ph_history_how_for_diagnosis (none));
  g_assert_cmpstr (ph_history_cause_for_diagnosis (none), ==, "cgnat");

  /* no cause: the family's reason */
  unknown = make_diagnosis (PH_VERDICT_UNKNOWN, NULL, PH_VERDICT_UNKNOWN, NULL);
  g_assert_null (ph_history_how_for_diagnosis (unknown));
  g_assert_cmpstr (ph_history_cause_for_diagnosis (unknown), ==, "inconclusive");

  both = make_diagnosis (PH_VERDICT_REACHABLE, NULL, PH_VERDICT_REACHABLE, NULL);
  g_assert_cmpstr (ph_history_how_for_diagnosis (both), ==, "forward");
}

/* ---- the file ---- */

static void
test_missing (Fixture *fixture, gconstpointer data)
{
  g_autoptr (PhHistory) history = ph_history_new (fixture->path);
  g_autoptr (GError) error = NULL;
  guint changed = 0;

  g_signal_connect (history, "changed", G_CALLBACK (count_changed), &changed);
  g_assert_true (ph_history_load (history, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ph_history_get_entries (history)->len, ==, 0);
  g_assert_cmpuint (changed, ==, 1);
  /* loading writes nothing */
  g_assert_false (g_file_test (fixture->path, G_FILE_TEST_EXISTS));
}

static void
test_restart (Fixture *fixture, gconstpointer data)
{
  g_autoptr (PhHistory) history = ph_history_new (fixture->path);
  g_autoptr (PhHistory) again = NULL;
  g_autoptr (PhDiagnosis) first = NULL;
  g_autoptr (PhDiagnosis) second = NULL;
  g_autoptr (PhDiagnosis) third = NULL;
  g_autoptr (GDateTime) t1 = at (1700000000);
  g_autoptr (GDateTime) t2 = at (1700001800);
  g_autoptr (GDateTime) t3 = at (1700003600);
  g_autoptr (GError) error = NULL;
  GStatBuf st;
  guint changed = 0;

  g_signal_connect (history, "changed", G_CALLBACK (count_changed), &changed);
  g_assert_true (ph_history_load (history, &error));
  first = make_diagnosis (PH_VERDICT_UNREACHABLE, "behind-nat", PH_VERDICT_UNREACHABLE,
                          "ipv6-unavailable");
  second = make_diagnosis (PH_VERDICT_REACHABLE, NULL, PH_VERDICT_UNKNOWN, NULL);
  add_our_mapping (second);
  third = make_diagnosis (PH_VERDICT_UNREACHABLE, "cgnat", PH_VERDICT_REACHABLE, NULL);
  ph_history_add (history, first, t1);
  ph_history_add (history, second, t2);
  ph_history_add (history, third, t3);
  g_assert_cmpuint (changed, ==, 4);
  g_assert_cmpuint (ph_history_get_entries (history)->len, ==, 3);

  /* private to the user */
  g_assert_cmpint (g_stat (fixture->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* a new process: the same entries, newest first */
  again = ph_history_new (fixture->path);
  g_assert_true (ph_history_load (again, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ph_history_get_entries (again)->len, ==, 3);
  g_assert_cmpint (entry (again, 0)->time, ==, 1700003600);
  g_assert_cmpint (entry (again, 0)->ipv4, ==, PH_VERDICT_UNREACHABLE);
  g_assert_cmpint (entry (again, 0)->ipv6, ==, PH_VERDICT_REACHABLE);
  g_assert_cmpstr (entry (again, 0)->cause, ==, "cgnat");
  g_assert_cmpstr (entry (again, 0)->how, ==, "ipv6");
  g_assert_cmpint (entry (again, 1)->time, ==, 1700001800);
  g_assert_cmpint (entry (again, 1)->ipv4, ==, PH_VERDICT_REACHABLE);
  g_assert_cmpint (entry (again, 1)->ipv6, ==, PH_VERDICT_UNKNOWN);
  g_assert_null (entry (again, 1)->cause);
  g_assert_cmpstr (entry (again, 1)->how, ==, "upnp");
  g_assert_cmpint (entry (again, 2)->time, ==, 1700000000);
  g_assert_cmpstr (entry (again, 2)->cause, ==, "behind-nat");
  g_assert_null (entry (again, 2)->how);

  /* and it goes on from there */
  ph_history_add (again, second, NULL);
  g_assert_cmpuint (ph_history_get_entries (again)->len, ==, 4);
  g_assert_cmpint (entry (again, 0)->time, >, 1700003600);
}

/* Adding before loading loads first: nothing already there is lost. */
static void
test_add_before_load (Fixture *fixture, gconstpointer data)
{
  g_autoptr (PhHistory) history = ph_history_new (fixture->path);
  g_autoptr (PhHistory) again = ph_history_new (fixture->path);
  g_autoptr (PhHistory) third = ph_history_new (fixture->path);
  g_autoptr (PhDiagnosis) diagnosis
      = make_diagnosis (PH_VERDICT_REACHABLE, NULL, PH_VERDICT_REACHABLE, NULL);
  g_autoptr (GError) error = NULL;

  ph_history_add (history, diagnosis, NULL);
  ph_history_add (again, diagnosis, NULL);
  g_assert_true (ph_history_load (third, &error));
  g_assert_cmpuint (ph_history_get_entries (third)->len, ==, 2);
}

static void
test_bounded (Fixture *fixture, gconstpointer data)
{
  g_autoptr (PhHistory) history = ph_history_new (fixture->path);
  g_autoptr (PhHistory) again = ph_history_new (fixture->path);
  g_autoptr (PhDiagnosis) diagnosis = make_diagnosis (PH_VERDICT_UNREACHABLE, "symmetric-nat",
                                                      PH_VERDICT_UNREACHABLE, "ipv6-unavailable");
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  gsize len;

  g_assert_true (ph_history_load (history, &error));
  for (guint i = 0; i < PH_HISTORY_MAX_ENTRIES + 50; i++)
    {
      g_autoptr (GDateTime) when = at (1700000000 + i * 60);
      ph_history_add (history, diagnosis, when);
      g_assert_cmpuint (ph_history_get_entries (history)->len, <=, PH_HISTORY_MAX_ENTRIES);
    }
  g_assert_cmpuint (ph_history_get_entries (history)->len, ==, PH_HISTORY_MAX_ENTRIES);
  /* the oldest went */
  g_assert_cmpint (entry (history, 0)->time, ==, 1700000000 + (PH_HISTORY_MAX_ENTRIES + 49) * 60);
  g_assert_cmpint (entry (history, PH_HISTORY_MAX_ENTRIES - 1)->time, ==, 1700000000 + 50 * 60);

  g_assert_true (g_file_get_contents (fixture->path, &text, &len, NULL));
  g_assert_cmpuint (len, <, 32 * 1024);
  g_assert_true (ph_history_load (again, &error));
  g_assert_cmpuint (ph_history_get_entries (again)->len, ==, PH_HISTORY_MAX_ENTRIES);
}

/* A longer list (another version, an edit by hand) is cut to the newest, not refused. */
static void
test_long_file_cut (Fixture *fixture, gconstpointer data)
{
  g_autoptr (PhHistory) history = ph_history_new (fixture->path);
  g_autoptr (GString) text = g_string_new ("{\"version\": 1, \"entries\": [");
  g_autofree char *dir = g_path_get_dirname (fixture->path);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < 250; i++)
    g_string_append_printf (text,
                            "%s{\"time\": %u, \"ipv4\": \"reachable\", \"ipv6\": \"unknown\"}",
                            i ? ", " : "", 2000000000 - i);
  g_string_append (text, "]}");
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (fixture->path, text->str, (gssize) text->len, NULL));

  g_assert_true (ph_history_load (history, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ph_history_get_entries (history)->len, ==, PH_HISTORY_MAX_ENTRIES);
  g_assert_cmpint (entry (history, 0)->time, ==, 2000000000);
  g_assert_null (entry (history, 0)->cause);
  g_assert_null (entry (history, 0)->how);
}

/* ---- corrupt files ---- */

static char *
aside_named_in (const GError *error, const char *path)
{
  g_autofree char *prefix = g_strconcat (path, ".corrupt-", NULL);
  const char *start = strstr (error->message, prefix);
  const char *end;

  g_assert_nonnull (start);
  end = start + strlen (prefix);
  while (*end != '\0' && *end != ' ')
    end++;
  return g_strndup (start, (gsize) (end - start));
}

/* The file is set aside untouched, the error names it, the history starts empty and the next
 * add writes a good file again. */
static void
assert_set_aside (Fixture *fixture, const char *content, gsize len)
{
  g_autoptr (PhHistory) history = ph_history_new (fixture->path);
  g_autoptr (PhHistory) again = ph_history_new (fixture->path);
  g_autoptr (PhDiagnosis) diagnosis
      = make_diagnosis (PH_VERDICT_REACHABLE, NULL, PH_VERDICT_REACHABLE, NULL);
  g_autofree char *dir = g_path_get_dirname (fixture->path);
  g_autofree char *aside = NULL;
  g_autofree char *kept = NULL;
  g_autoptr (GError) error = NULL;
  gsize kept_len = 0;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (fixture->path, content, (gssize) len, NULL));

  g_assert_false (ph_history_load (history, &error));
  g_assert_error (error, PH_HISTORY_ERROR, PH_HISTORY_ERROR_CORRUPT);
  g_assert_cmpuint (ph_history_get_entries (history)->len, ==, 0);
  aside = aside_named_in (error, fixture->path);
  g_assert_false (g_file_test (fixture->path, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_get_contents (aside, &kept, &kept_len, NULL));
  g_assert_cmpmem (kept, kept_len, content, len);
  g_remove (aside);

  ph_history_add (history, diagnosis, NULL);
  g_clear_error (&error);
  g_assert_true (ph_history_load (again, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ph_history_get_entries (again)->len, ==, 1);
  g_remove (fixture->path);
}

static void
assert_set_aside_text (Fixture *fixture, const char *text)
{
  assert_set_aside (fixture, text, strlen (text));
}

static void
test_corrupt_garbage (Fixture *fixture, gconstpointer data)
{
  static const guint8 garbage[] = { 0x00, 0xff, 0xfe, 0x7b, 0x22, 0x80, 0x81, 0x00, 0x0a };

  assert_set_aside (fixture, (const char *) garbage, sizeof garbage);
  assert_set_aside_text (fixture, "");
  assert_set_aside_text (fixture, "not json at all");
  assert_set_aside_text (fixture, "[1, 2, 3]");
  assert_set_aside_text (fixture, "null");
}

static void
test_corrupt_truncated (Fixture *fixture, gconstpointer data)
{
  g_autoptr (PhHistory) history = ph_history_new (fixture->path);
  g_autoptr (PhDiagnosis) diagnosis
      = make_diagnosis (PH_VERDICT_UNREACHABLE, "behind-nat", PH_VERDICT_REACHABLE, NULL);
  g_autofree char *text = NULL;
  gsize len;

  ph_history_add (history, diagnosis, NULL);
  ph_history_add (history, diagnosis, NULL);
  g_assert_true (g_file_get_contents (fixture->path, &text, &len, NULL));
  g_remove (fixture->path);
  /* every cut of a good file that leaves it unbalanced */
  for (gsize cut = 1; cut < len - 1; cut += 7)
    assert_set_aside (fixture, text, cut);
}

static void
test_corrupt_types (Fixture *fixture, gconstpointer data)
{
  static const char *const cases[] = {
    "{\"entries\": []}",                     /* no version */
    "{\"version\": \"1\", \"entries\": []}", /* version a string */
    "{\"version\": 0, \"entries\": []}",     /* no such version */
    "{\"version\": 1}",                      /* no entries */
    "{\"version\": 1, \"entries\": {}}",     /* entries an object */
    "{\"version\": 1, \"entries\": [42]}",   /* an entry a number */
    "{\"version\": 1, \"entries\": [{\"ipv4\": \"reachable\", \"ipv6\": \"unknown\"}]}",
    "{\"version\": 1, \"entries\": [{\"time\": \"noon\", \"ipv4\": \"reachable\", "
    "\"ipv6\": \"unknown\"}]}",
    "{\"version\": 1, \"entries\": [{\"time\": 1.5, \"ipv4\": \"reachable\", "
    "\"ipv6\": \"unknown\"}]}",
    "{\"version\": 1, \"entries\": [{\"time\": -5, \"ipv4\": \"reachable\", "
    "\"ipv6\": \"unknown\"}]}",
    "{\"version\": 1, \"entries\": [{\"time\": 1, \"ipv4\": 1, \"ipv6\": \"unknown\"}]}",
    "{\"version\": 1, \"entries\": [{\"time\": 1, \"ipv4\": \"maybe\", \"ipv6\": \"unknown\"}]}",
    "{\"version\": 1, \"entries\": [{\"time\": 1, \"ipv4\": \"reachable\"}]}",
    "{\"version\": 1, \"entries\": [{\"time\": 1, \"ipv4\": \"reachable\", "
    "\"ipv6\": \"unknown\", \"cause\": [\"behind-nat\"]}]}",
    "{\"version\": 1, \"entries\": [{\"time\": 1, \"ipv4\": \"reachable\", "
    "\"ipv6\": \"unknown\", \"cause\": \"<b>bold</b>\"}]}",
    "{\"version\": 1, \"entries\": [{\"time\": 1, \"ipv4\": \"reachable\", "
    "\"ipv6\": \"unknown\", \"cause\": \"\"}]}",
    "{\"version\": 1, \"entries\": [{\"time\": 1, \"ipv4\": \"reachable\", "
    "\"ipv6\": \"unknown\", \"how\": \"teleport\"}]}",
    "{\"version\": 1, \"entries\": [{\"time\": 1, \"ipv4\": \"reachable\", "
    "\"ipv6\": \"unknown\", \"how\": true}]}",
    /* one good entry does not save a bad one */
    "{\"version\": 1, \"entries\": [{\"time\": 1, \"ipv4\": \"reachable\", "
    "\"ipv6\": \"unknown\"}, {\"time\": {}, \"ipv4\": \"reachable\", \"ipv6\": \"unknown\"}]}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %u: %s", i, cases[i]);
      assert_set_aside_text (fixture, cases[i]);
    }
}

static void
test_corrupt_huge (Fixture *fixture, gconstpointer data)
{
  /* valid JSON, but more than any history we write: not read past the bound */
  gsize len = PH_HISTORY_MAX_BYTES + 1;
  g_autofree char *text = g_malloc (len);
  static const char head[] = "{\"version\": 1, \"entries\": []}";

  memset (text, ' ', len);
  memcpy (text, head, sizeof head - 1);
  assert_set_aside (fixture, text, len);

  /* just under the bound is still read */
  {
    g_autoptr (PhHistory) history = ph_history_new (fixture->path);
    g_autoptr (GError) error = NULL;

    g_assert_true (g_file_set_contents (fixture->path, text, PH_HISTORY_MAX_BYTES, NULL));
    g_assert_true (ph_history_load (history, &error));
    g_assert_no_error (error);
  }
}

/* Within the size bound but nested a million deep: json-glib's parser recursed once per level
 * until the stack overflowed, at every start, before the file could be set aside. */
static void
test_corrupt_deep (Fixture *fixture, gconstpointer data)
{
  static const char head[] = "{\"version\": 1, \"entries\": ";
  gsize len = PH_HISTORY_MAX_BYTES;
  g_autofree char *text = g_malloc (len);

  memcpy (text, head, sizeof head - 1);
  memset (text + sizeof head - 1, '[', len - (sizeof head - 1));
  assert_set_aside (fixture, text, len);
  memset (text + sizeof head - 1, '{', len - (sizeof head - 1));
  assert_set_aside (fixture, text, len);
}

/* Something that cannot be read as a file (a folder) is moved out of the way too. */
static void
test_corrupt_unreadable (Fixture *fixture, gconstpointer data)
{
  g_autoptr (PhHistory) history = ph_history_new (fixture->path);
  g_autoptr (PhDiagnosis) diagnosis
      = make_diagnosis (PH_VERDICT_REACHABLE, NULL, PH_VERDICT_REACHABLE, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *aside = NULL;

  g_assert_cmpint (g_mkdir_with_parents (fixture->path, 0700), ==, 0);
  g_assert_false (ph_history_load (history, &error));
  g_assert_error (error, PH_HISTORY_ERROR, PH_HISTORY_ERROR_CORRUPT);
  aside = aside_named_in (error, fixture->path);
  g_assert_true (g_file_test (aside, G_FILE_TEST_IS_DIR));
  ph_history_add (history, diagnosis, NULL);
  g_assert_true (g_file_test (fixture->path, G_FILE_TEST_IS_REGULAR));
}

/* Two corrupt files in the same second: the second does not overwrite the first. */
static void
test_corrupt_twice (Fixture *fixture, gconstpointer data)
{
  g_autofree char *dir = g_path_get_dirname (fixture->path);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (PhHistory) history = ph_history_new (fixture->path);
      g_autoptr (GError) error = NULL;

      g_assert_true (g_file_set_contents (fixture->path, i ? "second" : "first", -1, NULL));
      g_assert_false (ph_history_load (history, &error));
      g_assert_error (error, PH_HISTORY_ERROR, PH_HISTORY_ERROR_CORRUPT);
      if (i == 0)
        first = aside_named_in (error, fixture->path);
      else
        second = aside_named_in (error, fixture->path);
    }
  g_assert_cmpstr (first, !=, second);
  g_assert_true (g_file_test (first, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (second, G_FILE_TEST_EXISTS));
}

/* NULL: $XDG_STATE_HOME/porthole/history.json (set in main before GLib reads it). */
static void
test_default_path (void)
{
  g_autoptr (PhHistory) history = ph_history_new (NULL);
  g_autofree char *expected
      = g_build_filename (g_getenv ("XDG_STATE_HOME"), "porthole", "history.json", NULL);
  g_autoptr (PhDiagnosis) diagnosis
      = make_diagnosis (PH_VERDICT_REACHABLE, NULL, PH_VERDICT_REACHABLE, NULL);

  g_assert_cmpstr (ph_history_get_path (history), ==, expected);
  ph_history_add (history, diagnosis, NULL);
  g_assert_true (g_file_test (expected, G_FILE_TEST_IS_REGULAR));
}

#define ADD_FILE_TEST(path, func)                                                                  \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int argc, char *argv[])
{
  g_autoptr (GError) error = NULL;
  g_autofree char *state = g_dir_make_tmp ("ph-history-state-XXXXXX", &error);
  int ret;

  g_assert_no_error (error);
  g_setenv ("XDG_STATE_HOME", state, TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/history/how", test_how);
  g_test_add_func ("/history/default-path", test_default_path);
  ADD_FILE_TEST ("/history/missing", test_missing);
  ADD_FILE_TEST ("/history/restart", test_restart);
  ADD_FILE_TEST ("/history/add-before-load", test_add_before_load);
  ADD_FILE_TEST ("/history/bounded", test_bounded);
  ADD_FILE_TEST ("/history/long-file-cut", test_long_file_cut);
  ADD_FILE_TEST ("/history/corrupt/garbage", test_corrupt_garbage);
  ADD_FILE_TEST ("/history/corrupt/truncated", test_corrupt_truncated);
  ADD_FILE_TEST ("/history/corrupt/types", test_corrupt_types);
  ADD_FILE_TEST ("/history/corrupt/huge", test_corrupt_huge);
  ADD_FILE_TEST ("/history/corrupt/deep", test_corrupt_deep);
  ADD_FILE_TEST ("/history/corrupt/unreadable", test_corrupt_unreadable);
  ADD_FILE_TEST ("/history/corrupt/twice", test_corrupt_twice);

  ret = g_test_run ();
  remove_tree (state);
  return ret;
}
