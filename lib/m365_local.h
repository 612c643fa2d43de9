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
#include <stdint.h>
#include <sys/socket.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "m365_endpoints.h"
#include "m365_err.h"

enum m365_verb { M365_VERB_BYPASS, M365_VERB_NEVER };
enum m365_rule_kind { M365_RULE_GLOB, M365_RULE_CIDR, M365_RULE_REGEX };

/* m365_rule.flags */
#define M365_RULE_V6 1u /* CIDR: an IPv6 range */
#define M365_RULE_BACKTRACKS                                                   \
	2u /* REGEX: hits the backtracking limits on                           \
	      some names (which then never match);                             \
	      worth a warning at load */

/* The largest local list read unless the front end says otherwise. */
#define M365_LOCAL_MAX_BYTES (256ul << 20)
/* The range a front end accepts for it (--local-max-bytes). */
#define M365_LOCAL_MAX_BYTES_MIN 4096ul
#define M365_LOCAL_MAX_BYTES_MAX (4ul << 30)

/* One rule, 32 bytes: a local list may hold millions. */
struct m365_rule {
	const char *text; /* the pattern as written (with "re:") */
	uint32_t line;    /* 1-based line in the file */
	uint8_t verb;     /* enum m365_verb */
	uint8_t kind;     /* enum m365_rule_kind */
	uint8_t plen;     /* CIDR: prefix length */
	uint8_t flags;    /* M365_RULE_* */
	union {
		const char *glob; /* GLOB: lowercase pattern */
		uint8_t addr[16]; /* CIDR: network order, host bits clear */
		struct {
			pcre2_code *re;     /* REGEX: compiled, owned */
			const char *domain; /* REGEX: the literal domain its
			                       text ends with ("example.net"
			                       for re:^a\.example\.net$), or
			                       NULL; a bypass regex matches only
			                       in it */
		};
	};
};

struct arena;

struct m365_local {
	char *source; /* file name */
	struct m365_rule *rules;
	size_t n_rules;
	struct arena *strings; /* where the rules' strings are */
};

/* A CIDR rule's address family: AF_INET or AF_INET6. */
static inline int
m365_rule_family(const struct m365_rule *r)
{
	return r->flags & M365_RULE_V6 ? AF_INET6 : AF_INET;
}

/* A CIDR rule's range as a struct m365_cidr (text NULL). */
void m365_rule_cidr(const struct m365_rule *r, struct m365_cidr *out);

/*
 * Parses a local list held in buf[0..len) and checks its breadth
 * (m365_breadth_check_local()).  Returns a new list owned by the caller,
 * or NULL with err set to "SOURCE:LINE: reason".  An empty file (or
 * one of comments only) is a valid list with no rules.
 */
struct m365_local *m365_local_parse(const char *buf, size_t len,
                                    const char *source, struct m365_err *err);

/*
 * Reads and parses the file at path, a block at a time (never the whole
 * file in memory), refusing a file larger than max bytes (0 for
 * M365_LOCAL_MAX_BYTES) with a message that names max_name (the front
 * end's option, e.g. "--local-max-bytes"; NULL for a neutral one).  See
 * _parse().
 */
struct m365_local *m365_local_load_file_max(const char *path, size_t max,
                                            const char *max_name,
                                            struct m365_err *err);

/* m365_local_load_file_max() with the default limit. */
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
