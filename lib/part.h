/*
 * part.h - one compiled group of patterns (internal): the Microsoft sets
 * of one version under one policy, or one local list.
 *
 * Names go into one nameidx (exact names, "*." suffixes, and the irregular
 * globs and domain-bound regexes in buckets under the domain they need);
 * address ranges into one rangeidx per family; the few patterns that need
 * no domain (a never rule's regex, a glob whose tail fixes no whole label)
 * are "loose" and tried on every name.  Every item carries its group
 * (which list it is from) in its aux field.  A finished part is immutable
 * and safe to query from many threads.
 */
#ifndef M365_PART_H
#define M365_PART_H

#include <stdbool.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "m365_err.h"
#include "nameidx.h"
#include "rangeidx.h"
#include "redfa.h"

/* Which list an item is from. */
enum part_group {
	G_MS = 0,     /* value: a set's rank; index: its url or ip */
	G_NEVER = 1,  /* value: a local rule */
	G_BYPASS = 2, /* value: a local rule */
};

#define AUX(group, index) ((uint32_t)(group) << 30 | (uint32_t)(index))
#define AUX_GROUP(aux) ((enum part_group)((aux) >> 30))
#define AUX_INDEX(aux) ((aux)&0x3fffffffu)
#define AUX_INDEX_MAX 0x3fffffffu

/* An irregular glob or a regex: tried by the caller (part_try()). */
struct pattern {
	pcre2_code *code;   /* a regex's; NULL for a glob */
	const char *source; /* a regex's expression (text without "re:"),
	                       or a glob's lowercase text */
	const char *text;   /* the pattern as listed, for explanations */
	bool names_only;    /* never an IP literal */
	bool jit;           /* code was JIT-compiled */
};

/* How part_try() runs a pattern. */
enum pat_how {
	PAT_GLOB, /* its text follows its head */
	PAT_DFA,  /* an automaton (redfa_copy()) follows at PAT_DFA_AT */
	PAT_PCRE  /* the pattern record's code */
};

/*
 * A pattern's hot bytes: all that part_try() reads of a glob or an
 * automaton, in one block of the part's arena, at the offset its items
 * carry (AUX_INDEX, in PAT_UNIT units).  Trying a pattern found in the
 * name index then costs one fetch after the index's: no record, text or
 * automaton elsewhere to follow a pointer to.
 */
struct pat_head {
	uint32_t pat;       /* its number in the part's pat[] */
	uint16_t prelen;    /* a glob's literal head (before its first '*') */
	uint16_t suflen;    /* its literal tail (after its last '*') */
	uint16_t len;       /* its whole length (0: not a glob) */
	uint8_t how;        /* enum pat_how */
	uint8_t names_only; /* never an IP literal */
	char text[];        /* a glob's lowercase text */
};

/* Blocks start on multiples of PAT_UNIT bytes (an automaton's on a cache
 * line); an automaton is PAT_DFA_AT bytes into its block, after the head. */
#define PAT_UNIT 16
#define PAT_DFA_AT 16

_Static_assert(sizeof(struct pat_head) <= PAT_DFA_AT,
               "an automaton follows its block's head");

struct part {
	struct nameidx *names;
	struct rangeidx *v4, *v6;
	struct pattern *pat;
	size_t n_pat;
	unsigned char *hot; /* the patterns' blocks (struct pat_head) */
	size_t hot_bytes;
	uint32_t dfa_end; /* the automatons' blocks start before it (in
	                     PAT_UNIT), the others' after */
	/* pattern items tried on every name, and on every IP literal */
	struct idx_item *loose, *loose_ip;
	size_t n_loose, n_loose_ip;
};

/* The block at at (an item's AUX_INDEX) of p's arena. */
static inline const struct pat_head *
part_block(const struct part *p, uint32_t at)
{
	return (const struct pat_head *)(p->hot + (size_t)at * PAT_UNIT);
}

/* --- building: the caller's feed adds every pattern, and runs twice --- */

struct part_builder;

/* Adds every pattern through part_add_*(); 0, or -1 with err set. */
typedef int (*part_feed_fn)(struct part_builder *b, void *ctx,
                            struct m365_err *err);

/*
 * Builds a part of about hint patterns by calling feed twice (the name
 * index counts, then places; feed must add the same patterns in the same
 * order both times).  Returns the part, or NULL with err set.
 */
struct part *part_build(part_feed_fn feed, void *ctx, size_t hint,
                        struct m365_err *err);

/*
 * Adds a lowercase glob as glob_check() accepts it; glob and text must
 * outlive the part.  0, or -1 with err set.
 */
int part_add_glob(struct part_builder *b, const char *glob,
                  enum part_group group, uint32_t value, uint32_t index,
                  const char *text, struct m365_err *err);

/* Adds a CIDR (addr in network order).  0, or -1 with err set. */
int part_add_cidr(struct part_builder *b, int family, const uint8_t *addr,
                  unsigned plen, enum part_group group, uint32_t value,
                  uint32_t index, struct m365_err *err);

/*
 * Adds a regex (kept by the caller; source is its text, kept too).  It is
 * run as an automaton when redfa covers it, else JIT-compiled.  With a domain
 * (lowercase, kept by the caller) it matches only names that are that
 * domain or end in "." domain, never IP literals.  0, or -1 with err set.
 */
int part_add_regex(struct part_builder *b, pcre2_code *re, const char *source,
                   const char *domain, enum part_group group, uint32_t value,
                   const char *text, struct m365_err *err);

/*
 * Between part_build()'s passes: compiles the regexes of pat[0..n) (an
 * automaton where redfa covers one, else JIT) and writes every pattern's
 * block into p->hot; *at gets each pattern's block as an AUX_INDEX (n of
 * them, malloc'ed).  0, or -1 with err set.
 */
int part_lay_out(struct part *p, struct pattern *pat, size_t n, uint32_t **at,
                 struct m365_err *err);

/* Frees the part; NULL is a no-op. */
void part_free(struct part *p);

/* Bytes the part's indexes hold, for the benchmarks. */
size_t part_bytes(const struct part *p);

/* --- matching ----------------------------------------------------------- */

/* A host prepared for walking (hashes computed as the walk needs them). */
struct part_query {
	const struct m365_host *host;
	const struct host_labels *lb; /* its labels, for a NAME */
};

/* Receives direct hits: items of one exact name, suffix or range. */
typedef void (*part_hit_fn)(void *ctx, const struct idx_item *items, size_t n);

/* Receives a run of pattern items (of part p) worth trying. */
typedef void (*part_try_fn)(void *ctx, const struct part *p,
                            const struct idx_item *items, size_t n);

/*
 * Walks q's host (a NAME, IPV4 or IPV6) through parts[0..n) (NULL parts
 * are skipped): calls hit for each direct hit (the items of one exact
 * name, suffix or range) and try for each run of pattern items worth
 * trying (those under a suffix of the name, and the loose ones).
 */
void part_walk(const struct part *const *parts, size_t n,
               const struct part_query *q, part_hit_fn hit, part_try_fn try,
               void *ctx);

/*
 * Tries pattern item it of part p on h: 1 match, 0 no match, -1 when it
 * could not be evaluated (a match limit, no memory): never a match.
 */
int part_try(const struct part *p, const struct idx_item *it,
             const struct m365_host *h);

/* The pattern text of a pattern item. */
const char *part_pattern_text(const struct part *p, const struct idx_item *it);

#endif
