/*
 * rangeidx.h - address ranges (CIDRs) of one family as sorted intervals
 * (internal).
 *
 * The prefixes cut the address space into intervals, each covered by the
 * same chain of nested prefixes; a lookup is a binary search among the
 * interval starts (narrowed first, when there are many, by a table indexed
 * by the address's bits that tell the lowest and highest starts apart),
 * then a walk up the chain from the deepest prefix.  Memory: per prefix, 16
 * bytes (its item included when it has one) plus at most two interval starts
 * (8 bytes each for IPv4, 20 for IPv6), plus 8 bytes per item of a prefix
 * with several.  A finished index is immutable and safe to query from many
 * threads.
 */
#ifndef M365_RANGEIDX_H
#define M365_RANGEIDX_H

#include <stddef.h>
#include <stdint.h>

#include "nameidx.h"

#define RANGE_NONE UINT32_MAX

/* One distinct prefix of a finished index, with its item when it has
 * one (most have: the lookup then reads no other record). */
struct range_prefix {
	uint32_t parent; /* the prefix that holds it, or RANGE_NONE */
	uint32_t count;  /* its items, sorted by value */
	union {
		struct idx_item one; /* count 1: the item */
		uint32_t first;      /* more: where they start in the index */
	} u;
};

struct rangeidx;
struct range_builder;

/* A new builder for addresses of `bits` bits (32 or 128); NULL on OOM. */
struct range_builder *range_builder_new(unsigned bits);

/*
 * Adds addr/plen (network byte order, host bits ignored) with its item.
 * 0, or -1 out of memory.
 */
int range_add(struct range_builder *b, const uint8_t *addr, unsigned plen,
              struct idx_item item);

/* Freezes the builder into an index (freeing the builder); NULL on OOM. */
struct rangeidx *range_finish(struct range_builder *b);

/* Frees a builder that was not finished; NULL is a no-op. */
void range_builder_free(struct range_builder *b);

/*
 * The deepest prefix that holds addr (4 or 16 bytes, network order), or
 * RANGE_NONE; walk up with range_parent().
 */
uint32_t range_find(const struct rangeidx *ix, const uint8_t *addr);

/* Prefix p of the index. */
const struct range_prefix *range_prefix(const struct rangeidx *ix, uint32_t p);

/* The items of prefix p, and their number in *n. */
const struct idx_item *range_items(const struct rangeidx *ix,
                                   const struct range_prefix *p, size_t *n);

/* Number of prefixes added (with duplicates). */
size_t range_size(const struct rangeidx *ix);

/* Bytes the index holds, for the benchmarks. */
size_t range_bytes(const struct rangeidx *ix);

/* Frees the index; NULL is a no-op. */
void range_free(struct rangeidx *ix);

#endif
