/* json-glib-stacks.c: linked into the fuzz targets that parse JSON with json-glib
 *
 * With ASan's fast unwinder, LeakSanitizer reports json-glib's parser state as lost now and then
 * (never with whole stacks, never under valgrind): these targets ask for whole stacks.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
const char *
__asan_default_options (void);

const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}
