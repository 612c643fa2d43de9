/*
 * redfa_impl.h - the syntax tree between redfa_parse.c and redfa.c
 * (internal).
 */
#ifndef M365_REDFA_IMPL_H
#define M365_REDFA_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "redfa.h"

/* A set of bytes. */
struct byteset {
	uint64_t w[4];
};

enum re_kind {
	RE_SET,   /* one byte of set */
	RE_CAT,   /* kids in a row */
	RE_ALT,   /* one of kids */
	RE_REP,   /* kid, min to max times (max REP_INF: no bound) */
	RE_EMPTY, /* nothing */
};

#define REP_INF (-1)

struct re_node {
	enum re_kind kind;
	int set;       /* RE_SET: index into the tree's sets */
	int kid, next; /* first kid; next sibling (-1: none) */
	int min, max;  /* RE_REP */
};

/* A top-level alternative and its anchors. */
struct re_branch {
	int node;
	bool at_start, at_end; /* '^' before it, '$' after it */
};

#define RE_NODES_MAX 512
#define RE_SETS_MAX 256
#define RE_BRANCHES_MAX 32

struct re_tree {
	struct re_node node[RE_NODES_MAX];
	int n_node;
	struct byteset set[RE_SETS_MAX];
	int n_set;
	struct re_branch branch[RE_BRANCHES_MAX];
	int n_branch;
};

/*
 * Parses src[0..len) into t (see redfa_compile() for what is covered).
 * Returns 0, or -1 when the pattern uses anything else or is too large.
 */
int re_parse(const char *src, size_t len, struct re_tree *t);

/* The longest literal end re_strip_tail() takes. */
#define RE_TAIL_MAX 128

/*
 * When every top-level alternative ends with '$' after the same literal
 * bytes, cuts the longest such run (at most RE_TAIL_MAX bytes) off them
 * into tail and returns its length, else 0: a subject matches the pattern
 * when it ends with the tail and the rest matches the cut tree anchored
 * at its end.
 */
size_t re_strip_tail(struct re_tree *t, uint8_t *tail);

static inline void
byteset_add(struct byteset *s, unsigned c)
{
	s->w[c >> 6] |= 1ull << (c & 63);
}

static inline bool
byteset_has(const struct byteset *s, unsigned c)
{
	return s->w[c >> 6] >> (c & 63) & 1;
}

#endif
