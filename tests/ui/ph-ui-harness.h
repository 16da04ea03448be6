/* ph-ui-harness.h: drive the Porthole window in-process, the way a person would — find widgets by
 * name (the contract in notes/s2-contracts.md, "Widget names"), click them, wait for pages with a
 * deadline, read what they say, keep a PNG of every page, and time the main loop's dispatches.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Longest a single main-loop dispatch may take while a check runs (issue #5, Tests). */
#define PH_UI_MAX_DISPATCH_US (50 * 1000)
/* Deadline for a page to appear: a replayed check takes well under a second (see
 * ph_ui_harness_page_timeout for live ones). */
#define PH_UI_PAGE_TIMEOUT_MS 20000

typedef struct _PhUiHarness PhUiHarness;

/* The road's name names the screenshots ("<road>-<page>.png"). recorded_dir: NULL for a live
 * check (netns), else the directory of check-N.json files replayed (PORTHOLE_TEST_REPLAY). peers:
 * the servers to ask (never the default ones); NULL: one on loopback that nobody answers.
 * Starts the application in this process, presents its window and waits for its first frame
 * (dispatch times until then are printed, not asserted: the window's first layout is start-up,
 * the same with or without a check). */
PhUiHarness *
ph_ui_harness_new (const char *road, const char *recorded_dir, const char *const *peers);
void
ph_ui_harness_free (PhUiHarness *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhUiHarness, ph_ui_harness_free)

/* The system bus of this test: a dbus-daemon of its own, which DBUS_SYSTEM_BUS_ADDRESS names from
 * here on (libnm, and what it asks, read it), so no road reaches the machine's NetworkManager.
 * Call from main () before anything connects to the system bus; it lives until
 * ph_ui_harness_system_bus_down (), or the process's end (the daemon dies with it). Without
 * dbus-daemon, DBUS_SYSTEM_BUS_ADDRESS names a socket that is not there (nothing connects at all)
 * and the address is NULL. */
void
ph_ui_harness_system_bus_up (void);
void
ph_ui_harness_system_bus_down (void);
/* The private system bus's address; NULL when there is none. */
const char *
ph_ui_harness_get_system_bus_address (void);

/* tests/ui/recorded/<road>, from PORTHOLE_UI_RECORDED (set by meson); NULL when it is not there
 * (the caller skips). */
char *
ph_ui_harness_dup_recorded_dir (const char *road);

GtkWindow *
ph_ui_harness_get_window (PhUiHarness *self);
/* The window's current page (ph_window_get_page). */
const char *
ph_ui_harness_get_page (PhUiHarness *self);

/* PH_UI_PAGE_TIMEOUT_MS when replaying, longer for a live check. */
guint
ph_ui_harness_page_timeout (void);
/* Runs the main loop until page is shown (or fails the test at the deadline), lets it settle,
 * and saves its screenshot. The dispatch timer runs throughout. */
void
ph_ui_harness_wait_page (PhUiHarness *self, const char *page, guint timeout_ms);
/* Runs the main loop until the page's transition is over and the window is drawn after it. */
void
ph_ui_harness_settle (PhUiHarness *self);
/* Runs the main loop until func returns TRUE; FALSE at the deadline. */
gboolean
ph_ui_harness_wait_until (PhUiHarness *self, gboolean (*func) (gpointer data), gpointer data,
                          guint timeout_ms);
/* Runs the main loop for ms. */
void
ph_ui_harness_spin (PhUiHarness *self, guint ms);

/* The widget called name (gtk_widget_set_name): a mapped one first; NULL when there is none. */
GtkWidget *
ph_ui_harness_find (PhUiHarness *self, const char *name);
/* Waits until a widget called name is mapped (fails the test at the deadline). */
GtkWidget *
ph_ui_harness_require (PhUiHarness *self, const char *name, guint timeout_ms);
/* Waits for it to be mapped and sensitive, then activates it as a click or Enter would. */
void
ph_ui_harness_click (PhUiHarness *self, const char *name);

/* The first mapped label whose text contains needle; NULL when there is none. */
GtkWidget *
ph_ui_harness_find_label (PhUiHarness *self, const char *needle);
/* Scrolls the scrolled window widget is in so that widget's top is near the view's top (all of
 * it shows when it fits), as a person would before reading it. */
void
ph_ui_harness_scroll_into_view (PhUiHarness *self, GtkWidget *widget);

/* What a widget says: a label's text, a status page's or row's title, a button's label, an
 * editable's text; NULL when it has no text of its own. */
char *
ph_ui_harness_dup_text (GtkWidget *widget);
/* All of a widget's text with its descendants' (visible ones), joined with newlines. */
char *
ph_ui_harness_dup_all_text (GtkWidget *widget);
/* The texts a person sees in the window now: every mapped label, status page title/description,
 * row title/subtitle, button label; each once. */
GPtrArray *
ph_ui_harness_collect_visible_texts (PhUiHarness *self);

/* ph_ui_harness_collect_visible_texts, joined with newlines. */
char *
ph_ui_harness_dup_visible_text (PhUiHarness *self);

/* Asserts the named widget's text (ph_ui_harness_dup_all_text) contains needle. */
void
ph_ui_harness_assert_text_contains (PhUiHarness *self, const char *name, const char *needle);

/* Saves the window as <artifacts>/<road>-<what>.png; returns the path. */
char *
ph_ui_harness_screenshot (PhUiHarness *self, const char *what);

/* Dispatch timing: the longest dispatch between polls since measuring began, in µs. A check's
 * window starts with ph_ui_harness_begin_check and ends with ph_ui_harness_end_check, which
 * asserts its longest dispatch is within PH_UI_MAX_DISPATCH_US. */
void
ph_ui_harness_begin_check (PhUiHarness *self);
gint64
ph_ui_harness_end_check (PhUiHarness *self);
gint64
ph_ui_harness_get_max_check_dispatch (PhUiHarness *self);

/* The clipboard's text (waits for it). */
char *
ph_ui_harness_dup_clipboard (PhUiHarness *self);

G_END_DECLS
