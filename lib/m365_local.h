/*
 * m365_local.h - the admins' local list (contract.md, "Local lists").
 *
 *     bypass  *.zoom.us               # extra names, same glob rules
 *     bypass  203.0.113.0/24          # extra ranges
 *     bypass  re:^meet[0-9]+\.example\.net$
 *     never   teams.microsoft.com     # never a bypass
 *
 * One rule a line; '#' starts a comment; blank lines are ignored.  Any bad
 * line refuses the whole file, so the list in use stays in use.
 */
#ifndef M365_LOCAL_H
#define M365_LOCAL_H

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
};

struct m365_local {
	char *source; /* file name */
	struct m365_rule *rules;
	size_t n_rules;
};

/*
 * Parses a local list held in buf[0..len).  Returns a new list owned by the
 * caller, or NULL with err set to "SOURCE:LINE: reason".  An empty file (or
 * one of comments only) is a valid list with no rules.
 */
struct m365_local *m365_local_parse(const char *buf, size_t len,
                                    const char *source, struct m365_err *err);

/* Reads and parses the file at path (at most 16 MiB); see _parse(). */
struct m365_local *m365_local_load_file(const char *path, struct m365_err *err);

/* Frees the list; NULL is a no-op. */
void m365_local_free(struct m365_local *l);

#endif
