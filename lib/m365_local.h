/*
 * m365_local.h - the admins' local list (contract.md, "Local lists").
 *
 *     bypass  *.zoom.us               # extra names, same glob rules
 *     bypass  203.0.113.0/24          # extra ranges
 *     bypass  re:^meet[0-9]+\.example\.net$
 *     never   teams.microsoft.com     # never a bypass
 *
 * One rule a line; '#' starts a comment; blank lines are ignored.  Any bad
 * line refuses the whole file, so the list in use stays in use.  A bypass
 * rule broader than m365_breadth.h allows ("*.com", "0.0.0.0/0", "re:.*")
 * is a bad line; a bypass regex must end with a literal domain that is not
 * a public suffix ("\.example\.net$"), and only ever matches names in it.
 */
#ifndef M365_LOCAL_H
#define M365_LOCAL_H

#include <stdbool.h>
#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "m365_endpoints.h"
#include "m365_err.h"

enum m365_verb { M365_VERB_BYPASS, M365_VERB_NEVER };
enum m365_rule_kind { M365_RULE_GLOB, M365_RULE_CIDR, M365_RULE_REGEX };

struct m365_rule {
	enum m365_verb verb;
	enum m365_rule_kind kind;
	unsigned line;         /* 1-based line in the file */
	char *text;            /* the pattern as written (with "re:") */
	char *glob;            /* GLOB: lowercase pattern */
	struct m365_cidr cidr; /* CIDR */
	pcre2_code *re;        /* REGEX: compiled (not yet JIT-compiled) */
	char *domain;          /* REGEX: the literal domain its text ends with
	                          ("example.net" for re:^a\.example\.net$), or
	                          NULL; a bypass regex matches only in it */
	bool backtracks;       /* REGEX: hits the backtracking limits on some
	                          names (which then never match); worth a
	                          warning at load */
};

struct m365_local {
	char *source; /* file name */
	struct m365_rule *rules;
	size_t n_rules;
};

/*
 * Parses a local list held in buf[0..len) and checks its breadth
 * (m365_breadth_check_local()).  Returns a new list owned by the caller,
 * or NULL with err set to "SOURCE:LINE: reason".  An empty file (or
 * one of comments only) is a valid list with no rules.
 */
struct m365_local *m365_local_parse(const char *buf, size_t len,
                                    const char *source, struct m365_err *err);

/* Reads and parses the file at path (at most 16 MiB); see _parse(). */
struct m365_local *m365_local_load_file(const char *path, struct m365_err *err);

/*
 * What to tell the admin about a rule, or NULL when nothing: for a regex
 * that backtracks badly, "the regular expression backtracks badly (it hits
 * the match limit on some names, which then never match: no bypass); ...".
 * Static text; the caller adds the file and line.
 */
const char *m365_rule_warning(const struct m365_rule *r);

/* Frees the list; NULL is a no-op. */
void m365_local_free(struct m365_local *l);

#endif
