/*
 * index.h - the compiled matcher over one group of patterns (internal).
 *
 * Exact names and "*." suffixes are hashed by label; irregular globs and
 * "re:" rules run through PCRE2 with JIT (irregular globs behind a literal
 * prefix/suffix filter); CIDRs sit in one prefix trie per family.  A finished
 * index is immutable and safe to query from many threads.
 */
#ifndef M365_INDEX_H
#define M365_INDEX_H

#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "hashtab.h"
#include "m365_endpoints.h"
#include "m365_err.h"
#include "m365_host.h"

struct index;

/* Receives the items of one matching pattern, sorted by value. */
typedef void (*index_hit_fn)(void *ctx, const struct idx_item *items, size_t n);

/* A new empty index; NULL on OOM. */
struct index *index_new(void);

/*
 * Adds a lowercase glob (as checked by glob_check()).  pattern is the text
 * reported in hits and must outlive the index.  0, or -1 with err set.
 */
int index_add_glob(struct index *ix, const char *glob, uint32_t value,
                   const char *pattern, struct m365_err *err);

/* Adds a CIDR.  0, or -1 (out of memory). */
int index_add_cidr(struct index *ix, const struct m365_cidr *c, uint32_t value,
                   const char *pattern);

/*
 * Adds a regex rule; re stays the caller's and is JIT-compiled here.  With
 * a domain (lowercase, kept by the caller) the rule matches only names that
 * are that domain or end in "." domain, whatever the regex says, and never
 * an IP literal.  0 or -1.
 */
int index_add_regex(struct index *ix, pcre2_code *re, uint32_t value,
                    const char *pattern, const char *domain);

/* Freezes the index.  0, or -1 with err set (out of memory). */
int index_finish(struct index *ix, struct m365_err *err);

/*
 * A host prepared for lookups: the hash of the whole name and of every
 * suffix that follows a dot, computed once and used by every index.
 */
struct index_query {
	const struct m365_host *host;
	size_t n; /* suffixes after a dot */
	uint16_t pos[M365_HOST_MAX / 2 + 1];
	uint64_t hash[M365_HOST_MAX / 2 + 1];
	uint64_t whole; /* hash of the whole name */
};

/* Prepares q for host (which must outlive q). */
void index_query_init(struct index_query *q, const struct m365_host *host);

/*
 * Calls fn for every pattern that matches the query's host (a NAME, IPV4 or
 * IPV6).  Returns 0, or -1 when a regex could not be evaluated (then the
 * caller must not treat the answer as complete).
 */
int index_match(const struct index *ix, const struct index_query *q,
                index_hit_fn fn, void *ctx);

/* Number of patterns added. */
size_t index_size(const struct index *ix);

/* Frees the index; NULL is a no-op. */
void index_free(struct index *ix);

#endif
