/* nameidx.c - names by their label suffixes: hashing, the two-pass
 * builder's front and the filter (see nameidx.h); the table of entries is
 * in nameidx_big.c. */
#include <stdlib.h>

#include "bigmem.h"
#include "nameidx_impl.h"

/* Bits of filter per entry: about 1% false positives. */
#define BLOOM_BITS 16

uint64_t name_bloom_mask[NAME_MASKS];

/* Fills name_bloom_mask: three distinct bits each, from a fixed
 * sequence. */
__attribute__((constructor)) static void
bloom_masks(void)
{
	uint64_t x = NAME_K1;
	size_t i;

	for (i = 0; i < NAME_MASKS; i++) {
		uint64_t m = 0;
		while (__builtin_popcountll(m) < 3) {
			x = (x ^ x >> 29) * NAME_K2 + NAME_K1;
			m |= 1ull << (x >> 58);
		}
		name_bloom_mask[i] = m;
	}
}

void
name_suffix_hashes(const char *s, size_t len, const struct host_labels *lb,
                   uint64_t *hash)
{
	uint64_t rest = NAME_NONE;
	size_t end = len;
	unsigned i = lb->n;

	while (i-- > 0) {
		size_t at = lb->start[i];
		rest = name_combine(name_label_hash(s + at, end - at), rest);
		hash[i] = rest;
		end = at - 1;
	}
}

/* The suffix hashes of key (valid, at most 253 bytes) into hash[]. */
static void
key_hashes(const char *key, size_t len, struct host_labels *lb, uint64_t *hash)
{
	char buf[M365_HOST_MAX + 8];

	memset(buf + len, 0, 8);
	memcpy(buf, key, len);
	host_find_labels(buf, len, lb);
	name_suffix_hashes(buf, len, lb, hash);
}

uint64_t
name_key_hash(const char *key, size_t len)
{
	uint64_t hash[HOST_LABELS_MAX];
	struct host_labels lb;

	key_hashes(key, len, &lb, hash);
	return name_mix(hash[0]);
}

struct nameidx_builder *
nameidx_builder_new(size_t hint)
{
	struct nameidx_builder *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	/* the entries in one table, not too full at the hint (in huge
	 * pages when large: every lookup reaches it) */
	b->n_ent = nameidx_slots_for(hint);
	if ((b->ent = big_calloc(b->n_ent, sizeof(*b->ent))) == NULL) {
		free(b);
		return NULL;
	}
	return b;
}

/* An empty filter for n entries; 0 or -1. */
static int
bloom_new(struct name_bloom *bl, size_t n)
{
	bl->n = (n * BLOOM_BITS + 63) / 64 + 1;
	bl->w = big_calloc(bl->n, sizeof(*bl->w));
	return bl->w == NULL ? -1 : 0;
}

/* Hints that the filter's word for f will be written soon. */
static void
bloom_prefetch(const struct name_bloom *bl, uint64_t f)
{
	__builtin_prefetch(&bl->w[(size_t)name_range(f, bl->n)], 1);
}

/* Sets f's lead (key 0) or key (key 1) bits. */
static void
bloom_add(struct name_bloom *bl, uint64_t f, int key)
{
	bl->w[(size_t)name_range(f, bl->n)] |= name_bloom_bits(f, key);
}

/*
 * The lead items of a key of n labels: its proper suffixes at least as
 * long as the shortest key, f[1..leads] (a walk tests no shorter suffix,
 * and never whether the whole name leads further).
 */
static unsigned
leads(const struct nameidx_builder *b, unsigned n)
{
	return n > b->min_labels ? n - b->min_labels : 0;
}

/* Pass 1 of a call whose memory has had time to arrive; 0 or -1. */
static int
count_now(struct nameidx_builder *b, const struct pending *c)
{
	if (b->n_calls == b->cap_calls) {
		size_t cap = b->cap_calls ? b->cap_calls * 2 : 64;
		uint32_t *o = realloc(b->order, cap * sizeof(*o));
		if (o == NULL)
			return -1;
		b->order = o;
		b->cap_calls = cap;
	}
	if (big_count(b, c) < 0)
		return -1;
	b->n_by_labels[c->n]++;
	if (b->min_labels == 0 || c->n < b->min_labels)
		b->min_labels = c->n;
	return 0;
}

/* The oldest waiting calls go on until at most keep wait (pass 1: they
 * are counted; pass 2: a large index's filters get their bits). */
static int
drain(struct nameidx_builder *b, size_t keep, int place)
{
	while (b->n_ring > keep) {
		struct pending *c = &b->ring[b->head];
		unsigned i;
		if (place) {
			for (i = 1; i <= leads(b, c->n); i++)
				bloom_add(&b->all, c->f[i], 0);
			bloom_add(&b->all, c->f[0], 1);
		} else if (!place && count_now(b, c) < 0) {
			return -1;
		}
		b->head = (b->head + 1) % AHEAD;
		b->n_ring--;
	}
	return 0;
}

/* Hashes a call into the ring and fetches what it will touch. */
static void
enqueue(struct nameidx_builder *b, const char *key, enum name_kind k, int place)
{
	uint64_t hash[HOST_LABELS_MAX];
	struct host_labels lb;
	struct pending *c = &b->ring[(b->head + b->n_ring++) % AHEAD];
	unsigned i;

	c->key = key;
	c->len = (uint32_t)strlen(key);
	c->kind = k;
	key_hashes(key, c->len, &lb, hash);
	c->n = lb.n;
	for (i = 0; i < lb.n; i++) {
		c->f[i] = name_mix(hash[i]);
		c->start[i] = lb.start[i];
	}
	if (!place)
		__builtin_prefetch(&b->ent[name_range(c->f[0], b->n_ent)]);
	else {
		for (i = 0; i <= leads(b, c->n); i++) /* key and leads */
			bloom_prefetch(&b->all, c->f[i]);
	}
}

int
nameidx_count(struct nameidx_builder *b, const char *key, enum name_kind k)
{
	if (b->n_calls + b->n_ring >= UINT32_MAX - 1 ||
	    drain(b, AHEAD - 1, 0) < 0)
		return -1;
	enqueue(b, key, k, 0);
	return 0;
}

/* The lead items pass 2 will add. */
static size_t
lead_items(const struct nameidx_builder *b)
{
	size_t n = 0;
	unsigned k;

	for (k = 1; k <= HOST_LABELS_MAX; k++)
		n += b->n_by_labels[k] * leads(b, k);
	return n;
}

int
nameidx_layout(struct nameidx_builder *b)
{
	if (drain(b, 0, 0) < 0)
		return -1;
	if (bloom_new(&b->all, lead_items(b) + b->n_used) < 0)
		return -1;
	return big_layout(b);
}

void
nameidx_place(struct nameidx_builder *b, const char *key, enum name_kind k,
              struct idx_item item)
{
	if (b->placed >= b->n_calls)
		return;
	big_place(b, k, item);
	drain(b, AHEAD - 1, 1);
	enqueue(b, key, k, 1);
}

struct nameidx *
nameidx_finish(struct nameidx_builder *b)
{
	struct nameidx *ix = calloc(1, sizeof(*ix));

	if (ix == NULL) {
		nameidx_builder_free(b);
		return NULL;
	}
	drain(b, 0, 1);
	free(b->order);
	b->order = NULL;
	ix->min_labels = b->min_labels ? b->min_labels : 1;
	return big_finish(b, ix);
}

void
nameidx_builder_free(struct nameidx_builder *b)
{
	if (b == NULL)
		return;
	free(b->ent);
	free(b->order);
	free(b->items);
	free(b->cur);
	free(b->all.w);
	free(b);
}

void
nameidx_free(struct nameidx *ix)
{
	if (ix == NULL)
		return;
	free(ix->ent);
	free(ix->items);
	free(ix->all.w);
	free(ix);
}

size_t
nameidx_bytes(const struct nameidx *ix)
{
	if (ix == NULL)
		return 0;
	return sizeof(*ix) + ix->n_slots * sizeof(*ix->ent) +
	       ix->n_items * sizeof(*ix->items) + ix->all.n * sizeof(uint64_t);
}
