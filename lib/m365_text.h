/*
 * m365_text.h - the small text checks every loader and front end shares:
 * names made of token characters, and comma-separated lists.
 */
#ifndef M365_TEXT_H
#define M365_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "m365_err.h"

/* The longest item of a comma list (m365_split_commas). */
#define M365_ITEM_MAX 64

/*
 * True when s[0..n) is 1 to max bytes, each an ASCII letter or digit or one
 * of the characters of extra ("._-" for Microsoft's names and versions).
 */
bool m365_token(const char *s, size_t n, size_t max, const char *extra);

/*
 * Splits a comma-separated list into items with spaces and tabs trimmed,
 * and calls fn on each in order, NUL-terminated.  An empty item, an item
 * longer than M365_ITEM_MAX or more than max_items items is an error
 * "NAME: reason" (M365_E_INPUT), name being how the caller's option is
 * called.  Returns 0, or -1 with err set here or by fn.
 */
int m365_split_commas(const char *list, const char *name, size_t max_items,
                      int (*fn)(void *arg, const char *item,
                                struct m365_err *err),
                      void *arg, struct m365_err *err);

/*
 * Parses s as a whole number between lo and hi (0 <= lo): decimal digits
 * only, no sign, no spaces, nothing after them.  Returns 0 and sets *out,
 * or -1 ("", "5abc", "-1", "0x10" and numbers out of range).
 */
int m365_parse_long(const char *s, long lo, long hi, long *out);

/* qsort()'s comparison of two pointers to NUL-terminated strings, in
 * strcmp() order. */
int m365_strptr_cmp(const void *a, const void *b);

#endif
