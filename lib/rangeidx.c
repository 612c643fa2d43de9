/* rangeidx.c - address ranges as sorted intervals (see rangeidx.h). */
#include <stdlib.h>
#include <string.h>

#include "rangeidx.h"

__extension__ typedef unsigned __int128 u128;

/* A prefix while building. */
struct entry {
	u128 lo; /* first address (host bits cleared) */
	struct idx_item item;
	uint32_t plen;
};

struct range_builder {
	unsigned bits;
	struct entry *e;
	size_t n, cap;
};

struct rangeidx {
	unsigned bits;
	size_t n_added;
	/* interval i starts at start6[i] and lies in the chain of prefix
	 * deep[i] (RANGE_NONE: in none); for IPv4, iv4[i] holds both (start
	 * << 32 | deep), so that the search's last read finds the prefix */
	uint64_t *iv4;
	u128 *start6;
	uint32_t *deep;
	size_t n;
	/* jump[t]: the first interval whose start >> jump_shift is at least
	 * jump_base + t, for t up to 2^jump_bits; jump[2^jump_bits + 1] = n.
	 * The bits that tell the lowest and highest starts apart (past
	 * those all share) pick a slot, so ranges gathered in one corner of
	 * the space (IPv6's 2000::/3) spread over the table too */
	uint32_t *jump;
	unsigned jump_bits, jump_shift;
	u128 jump_base;
	struct range_prefix *pre;
	size_t n_pre;
	struct idx_item *items;
	size_t n_items;
};

/* Bytes in network order as a number. */
static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* The address as a number (the first bits/8 bytes, big-endian). */
static inline u128
to_num(const uint8_t *addr, unsigned bits)
{
	if (bits == 32)
		return be32(addr);
	return (u128)be64(addr) << 64 | be64(addr + 8);
}

/* All ones in the low `bits - plen` bits. */
static u128
host_mask(unsigned bits, unsigned plen)
{
	unsigned h = bits - plen;

	return h >= 128 ? ~(u128)0 : ((u128)1 << h) - 1;
}

struct range_builder *
range_builder_new(unsigned bits)
{
	struct range_builder *b = calloc(1, sizeof(*b));

	if (b != NULL)
		b->bits = bits;
	return b;
}

int
range_add(struct range_builder *b, const uint8_t *addr, unsigned plen,
          struct idx_item item)
{
	struct entry *e;

	if (plen > b->bits)
		return -1;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		if ((e = realloc(b->e, cap * sizeof(*e))) == NULL)
			return -1;
		b->e = e;
		b->cap = cap;
	}
	e = &b->e[b->n++];
	e->lo = to_num(addr, b->bits) & ~host_mask(b->bits, plen);
	e->plen = plen;
	e->item = item;
	return 0;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return (x->item.value > y->item.value) -
	       (x->item.value < y->item.value);
}

/* Appends interval (at, deep), or replaces the last one starting at at. */
static void
emit(struct rangeidx *ix, u128 at, uint32_t deep)
{
	size_t i = ix->n;

	if (ix->bits == 32) {
		uint64_t v = (uint64_t)at << 32 | deep;
		if (i > 0 && ix->iv4[i - 1] >> 32 == (uint64_t)at)
			ix->iv4[i - 1] = v;
		else
			ix->iv4[ix->n++] = v;
		return;
	}
	if (i > 0 && ix->start6[i - 1] == at) {
		ix->deep[i - 1] = deep;
		return;
	}
	ix->start6[i] = at;
	ix->deep[i] = deep;
	ix->n++;
}

/*
 * The prefixes, deduplicated, with their items: in the prefix when it has
 * one, else in items[].  at[k]: the first of prefix k's entries in e (for
 * build_intervals()).  0 or -1.
 */
static int
build_prefixes(struct rangeidx *ix, const struct entry *e, size_t n,
               uint32_t *at)
{
	size_t i, k, several = 0;

	if ((ix->pre = calloc(n + 1, sizeof(*ix->pre))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (i == 0 || e[i].lo != e[i - 1].lo ||
		    e[i].plen != e[i - 1].plen) {
			at[ix->n_pre] = (uint32_t)i;
			ix->pre[ix->n_pre].parent = RANGE_NONE;
			ix->pre[ix->n_pre].u.one = e[i].item;
			ix->n_pre++;
		}
		ix->pre[ix->n_pre - 1].count++;
	}
	for (k = 0; k < ix->n_pre; k++)
		if (ix->pre[k].count > 1)
			several += ix->pre[k].count;
	if ((ix->items = calloc(several + 1, sizeof(*ix->items))) == NULL)
		return -1;
	for (k = 0; k < ix->n_pre; k++) {
		struct range_prefix *p = &ix->pre[k];
		if (p->count == 1)
			continue;
		p->u.first = (uint32_t)ix->n_items;
		for (i = at[k]; i < at[k] + p->count; i++)
			ix->items[ix->n_items++] = e[i].item;
	}
	return 0;
}

/*
 * Cuts the space into intervals: the prefixes are sorted by first address
 * then length, so each one either nests in the open prefixes on the stack
 * or starts after some of them end.
 */
static int
build_intervals(struct rangeidx *ix, const struct entry *e, const uint32_t *at)
{
	uint32_t stack[129];
	u128 end[129];
	size_t depth = 0, i, k = 0, cap = 2 * ix->n_pre + 1;
	u128 top = host_mask(ix->bits, 0);

	if (ix->bits == 32) {
		if ((ix->iv4 = malloc(cap * sizeof(*ix->iv4))) == NULL)
			return -1;
	} else if ((ix->deep = malloc(cap * sizeof(*ix->deep))) == NULL ||
	           (ix->start6 = malloc(cap * sizeof(*ix->start6))) == NULL) {
		return -1;
	}
	emit(ix, 0, RANGE_NONE);
	for (i = 0; i < ix->n_pre; i++) {
		const struct entry *p = &e[at[i]];
		u128 last = p->lo | host_mask(ix->bits, p->plen);
		while (depth > 0 && end[depth - 1] < p->lo) {
			depth--;
			if (end[depth] != top)
				emit(ix, end[depth] + 1,
				     depth ? stack[depth - 1] : RANGE_NONE);
		}
		ix->pre[i].parent = depth ? stack[depth - 1] : RANGE_NONE;
		stack[depth] = (uint32_t)i;
		end[depth++] = last;
		emit(ix, p->lo, (uint32_t)i);
		k++;
	}
	while (depth > 0) {
		depth--;
		if (end[depth] != top)
			emit(ix, end[depth] + 1,
			     depth ? stack[depth - 1] : RANGE_NONE);
	}
	(void)k;
	return 0;
}

/* Where interval i starts. */
static u128
start_of(const struct rangeidx *ix, size_t i)
{
	return ix->bits == 32 ? (u128)(ix->iv4[i] >> 32) : ix->start6[i];
}

/* The jump table, when there are enough intervals to need one. */
static int
build_jump(struct rangeidx *ix)
{
	size_t t, i = 0, n;
	u128 low, high;

	if (ix->n < 64)
		return 0;
	while (ix->jump_bits < 16 && ((size_t)2 << ix->jump_bits) <= ix->n)
		ix->jump_bits++;
	n = (size_t)1 << ix->jump_bits;
	/* interval 0 starts at 0: the others say where the ranges are */
	low = start_of(ix, 1);
	high = start_of(ix, ix->n - 1);
	while ((high >> ix->jump_shift) - (low >> ix->jump_shift) >= n)
		ix->jump_shift++;
	ix->jump_base = low >> ix->jump_shift;
	if ((ix->jump = malloc((n + 2) * sizeof(*ix->jump))) == NULL)
		return -1;
	for (t = 0; t <= n; t++) {
		while (i < ix->n &&
		       start_of(ix, i) >> ix->jump_shift < ix->jump_base + t)
			i++;
		ix->jump[t] = (uint32_t)i;
	}
	ix->jump[n + 1] = (uint32_t)ix->n;
	return 0;
}

struct rangeidx *
range_finish(struct range_builder *b)
{
	struct rangeidx *ix = calloc(1, sizeof(*ix));
	uint32_t *at = malloc((b->n + 1) * sizeof(*at));

	if (ix == NULL || at == NULL)
		goto fail;
	ix->bits = b->bits;
	ix->n_added = b->n;
	if (b->n > 0)
		qsort(b->e, b->n, sizeof(*b->e), cmp_entry);
	if (build_prefixes(ix, b->e, b->n, at) < 0 ||
	    build_intervals(ix, b->e, at) < 0 || build_jump(ix) < 0)
		goto fail;
	free(at);
	range_builder_free(b);
	return ix;
fail:
	free(at);
	range_builder_free(b);
	range_free(ix);
	return NULL;
}

void
range_builder_free(struct range_builder *b)
{
	if (b == NULL)
		return;
	free(b->e);
	free(b);
}

/* The intervals [*lo, *hi) of the jump table's slot for a. */
static void
jump_window(const struct rangeidx *ix, u128 a, size_t *lo, size_t *hi)
{
	u128 k = a >> ix->jump_shift;
	size_t n = (size_t)1 << ix->jump_bits, t;

	if (k < ix->jump_base) { /* below the lowest start but 0's */
		*lo = 0;
		*hi = ix->jump[0];
		return;
	}
	t = k - ix->jump_base >= n ? n : (size_t)(k - ix->jump_base);
	*lo = ix->jump[t];
	*hi = ix->jump[t + 1];
}

/* The last of start[lo..hi) at or below a (start[lo - 1] when none). */
#define LAST_AT_OR_BELOW(start, lo, hi, a)                                     \
	do {                                                                   \
		while ((hi) - (lo) > 1) {                                      \
			size_t mid_ = (lo) + ((hi) - (lo)) / 2;                \
			if ((start)[mid_] <= (a))                              \
				(lo) = mid_;                                   \
			else                                                   \
				(hi) = mid_;                                   \
		}                                                              \
		if ((start)[lo] > (a))                                         \
			(lo)--;                                                \
	} while (0)

uint32_t
range_find(const struct rangeidx *ix, const uint8_t *addr)
{
	size_t lo = 0, hi = ix->n;

	if (ix->n_pre == 0)
		return RANGE_NONE;
	if (ix->bits == 32) {
		uint32_t a = be32(addr);
		if (ix->jump != NULL) {
			jump_window(ix, a, &lo, &hi);
			if (lo == hi) /* no interval starts here */
				return (uint32_t)ix->iv4[lo - 1];
		}
		/* iv4[0] starts at 0: there is one at or below a */
		LAST_AT_OR_BELOW(ix->iv4, lo, hi,
		                 (uint64_t)a << 32 | UINT32_MAX);
		return (uint32_t)ix->iv4[lo];
	} else {
		u128 a = to_num(addr, 128);
		if (ix->jump != NULL) {
			jump_window(ix, a, &lo, &hi);
			if (lo == hi)
				return ix->deep[lo - 1];
		}
		LAST_AT_OR_BELOW(ix->start6, lo, hi, a);
	}
	return ix->deep[lo];
}

const struct range_prefix *
range_prefix(const struct rangeidx *ix, uint32_t p)
{
	return &ix->pre[p];
}

const struct idx_item *
range_items(const struct rangeidx *ix, const struct range_prefix *p, size_t *n)
{
	*n = p->count;
	return p->count == 1 ? &p->u.one : &ix->items[p->u.first];
}

size_t
range_size(const struct rangeidx *ix)
{
	return ix ? ix->n_added : 0;
}

size_t
range_bytes(const struct rangeidx *ix)
{
	if (ix == NULL)
		return 0;
	return sizeof(*ix) +
	       ix->n * (ix->bits == 32 ? sizeof(*ix->iv4)
	                               : sizeof(*ix->deep) + sizeof(u128)) +
	       (ix->jump ? (((size_t)1 << ix->jump_bits) + 2) * 4 : 0) +
	       ix->n_pre * sizeof(*ix->pre) + ix->n_items * sizeof(*ix->items);
}

void
range_free(struct rangeidx *ix)
{
	if (ix == NULL)
		return;
	free(ix->iv4);
	free(ix->start6);
	free(ix->deep);
	free(ix->jump);
	free(ix->pre);
	free(ix->items);
	free(ix);
}
