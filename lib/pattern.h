/*
 * pattern.h - validating the patterns of Microsoft's list and local lists
 * (internal to the library).
 */
#ifndef M365_PATTERN_H
#define M365_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#include "m365_endpoints.h"

enum glob_kind {
	GLOB_EXACT,    /* "teams.microsoft.com" */
	GLOB_SUFFIX,   /* "*.teams.microsoft.com": one leading "*." only */
	GLOB_IRREGULAR /* any other use of '*' */
};

/*
 * Checks a url glob and returns its kind, or -1 with err set (M365_E_INPUT).
 * Allowed: [A-Za-z0-9._*-], at most 253 characters, no empty label between
 * literal dots.  Writes the lowercase pattern into out (cap >= strlen + 1).
 */
int glob_check(const char *pat, char *out, size_t cap, struct m365_err *err);

/*
 * True when a glob would match every name under a top-level domain or
 * everything ("*", "*.com", "*com", "a*"): its literal tail after the last
 * '*' does not pin at least two labels.
 */
bool glob_is_broad(const char *lower);

/*
 * Parses "a.b.c.d/len", "v6/len", or a bare address (a host route) into
 * out, clearing host bits; out->text is left NULL.  Returns 0, or -1 with
 * err set (M365_E_INPUT).
 */
int cidr_parse(const char *text, struct m365_cidr *out, struct m365_err *err);

/*
 * The domain an irregular glob's names must be under (the matcher files
 * the glob under it, and the exports as well): its literal tail after
 * the last '*' from its first whole label ("*-files.sharepoint.com" and
 * "a.*.sharepoint.com": "sharepoint.com"), or NULL when the tail fixes
 * no whole label ("foo*", "*com") or no valid name ("*.a..b": no host is
 * under it).  glob holds a '*'.
 */
const char *glob_domain(const char *glob);

#endif
