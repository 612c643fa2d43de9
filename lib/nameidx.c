/* nameidx.c - names by their label suffixes (see nameidx.h). */
#include <stdlib.h>

#include "bigmem.h"
#include "nameidx.h"

/* Bits of filter per entry: about 1% false positives. */
#define BLOOM_BITS 16
/* Up to this many items, every label suffix of every key is a node of the
 * table (a lookup stops where one is missing) and there are no filters:
 * a small table is in the cache anyway. */
#define CLOSED_MAX 16384

/* A node while building: its counts, then its cursors (as large as an
 * index node, which it becomes in place). */
struct bnode {
	const char *key;
	uint32_t len;
	uint32_t c[NK_N];
};

struct nameidx_builder {
	/* pass 1: the keys, in a table sized to the hint that doubles when
	 * more come */
	uint64_t *slots;
	uint64_t n_slots;
	struct bnode *nodes;
	size_t n_nodes, cap_nodes;
	/* the node of each pass 1 call, for pass 2 */
	uint32_t *order;
	size_t n_calls, cap_calls, placed;
	size_t n_suffixes;   /* label suffixes met, for the filter's size */
	unsigned min_labels; /* of the shortest key so far */
	struct idx_item *items;
	struct name_bloom all, keys;
	int closed; /* label suffixes are nodes; no filters */
	/* calls waiting AHEAD calls for the memory they touch */
	struct pending {
		const char *key;
		uint32_t len;
		enum name_kind kind;
		uint64_t f[HOST_LABELS_MAX]; /* suffixes' mixed hashes */
		uint8_t start[HOST_LABELS_MAX];
		unsigned n;
	} ring[8];
	size_t head, n_ring; /* the oldest, and how many wait */
};

/* How many calls wait for their memory at once. */
#define AHEAD 8

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

struct nameidx_builder *
nameidx_builder_new(size_t hint)
{
	struct nameidx_builder *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->closed = hint <= CLOSED_MAX;
	/* at most 80% full at the hint (a small index also holds the label
	 * suffixes: room for three nodes an item) */
	b->n_slots = (uint64_t)hint * (b->closed ? 3 : 1) * 5 / 4 + 64;
	/* the nodes in one allocation from the start (in huge pages when
	 * large): never copied, and every lookup reaches them */
	b->cap_nodes = hint * (b->closed ? 3 : 1) + 64;
	if ((b->slots = calloc(b->n_slots, sizeof(*b->slots))) == NULL ||
	    (b->nodes = big_calloc(b->cap_nodes, sizeof(*b->nodes))) == NULL) {
		free(b->slots);
		free(b);
		return NULL;
	}
	return b;
}

/* The slot of mixed hash f in a table of n slots. */
static inline uint64_t
fast_range(uint64_t f, uint64_t n)
{
	return ((f >> 32) * n) >> 32;
}

/* Puts node i in a table of n slots under mixed hash f (absent). */
static void
insert_slot(uint64_t *slots, uint64_t n, uint64_t f, size_t i)
{
	uint64_t s = fast_range(f, n);

	while (slots[s] != 0)
		s = s + 1 == n ? 0 : s + 1;
	slots[s] = (uint64_t)(uint32_t)f << 32 | (uint64_t)(i + 1);
}

/* The mixed hash of a whole key. */
static uint64_t
key_mix(const char *key, size_t len)
{
	uint64_t hash[HOST_LABELS_MAX];
	struct host_labels lb;

	key_hashes(key, len, &lb, hash);
	return name_mix(hash[0]);
}

/* Doubles the build table; 0 or -1. */
static int
grow_slots(struct nameidx_builder *b)
{
	uint64_t n = b->n_slots * 2;
	uint64_t *slots = calloc(n, sizeof(*slots));
	size_t i;

	if (slots == NULL)
		return -1;
	for (i = 0; i < b->n_nodes; i++)
		insert_slot(slots, n, key_mix(b->nodes[i].key, b->nodes[i].len),
		            i);
	free(b->slots);
	b->slots = slots;
	b->n_slots = n;
	return 0;
}

/* Hints that the slot of mixed hash f will be read soon. */
static void
prefetch_slot(const uint64_t *slots, uint64_t s)
{
	__builtin_prefetch(&slots[s]);
}

/* The node of key (mixed hash f), added when absent; -1 out of memory. */
static long
node_of(struct nameidx_builder *b, uint64_t f, const char *key, size_t len)
{
	uint64_t s;
	struct bnode *nd;

	for (s = fast_range(f, b->n_slots); b->slots[s] != 0;
	     s = s + 1 == b->n_slots ? 0 : s + 1) {
		uint64_t e = b->slots[s];
		nd = &b->nodes[(uint32_t)e - 1];
		if ((uint32_t)(e >> 32) == (uint32_t)f && nd->len == len &&
		    memcmp(nd->key, key, len) == 0)
			return (long)(uint32_t)e - 1;
	}
	if ((b->n_nodes + 1) * 5 > b->n_slots * 4) {
		if (grow_slots(b) < 0)
			return -1;
		return node_of(b, f, key, len); /* absent: inserts */
	}
	if (b->n_nodes == b->cap_nodes) {
		size_t cap = b->cap_nodes ? b->cap_nodes * 2 : 64;
		if (cap > UINT32_MAX - 1 ||
		    (nd = realloc(b->nodes, cap * sizeof(*nd))) == NULL)
			return -1;
		b->nodes = nd;
		b->cap_nodes = cap;
	}
	nd = &b->nodes[b->n_nodes];
	memset(nd, 0, sizeof(*nd));
	nd->key = key;
	nd->len = (uint32_t)len;
	insert_slot(b->slots, b->n_slots, f, b->n_nodes);
	return (long)b->n_nodes++;
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
	__builtin_prefetch(&bl->w[(size_t)(((f >> 32) * bl->n) >> 32)], 1);
}

static void
bloom_add(struct name_bloom *bl, uint64_t f)
{
	bl->w[(size_t)(((f >> 32) * bl->n) >> 32)] |=
	    1ull << (f & 63) | 1ull << (f >> 6 & 63) | 1ull << (f >> 12 & 63);
}

/* Counts one call whose slot has had time to arrive; 0 or -1. */
static int
count_now(struct nameidx_builder *b, const struct pending *c)
{
	unsigned i;
	long nd;

	if (b->n_calls == b->cap_calls) {
		size_t cap = b->cap_calls ? b->cap_calls * 2 : 64;
		uint32_t *o = realloc(b->order, cap * sizeof(*o));
		if (o == NULL)
			return -1;
		b->order = o;
		b->cap_calls = cap;
	}
	if ((nd = node_of(b, c->f[0], c->key, c->len)) < 0)
		return -1;
	for (i = 1; b->closed && i < c->n; i++) /* the key's suffixes */
		if (node_of(b, c->f[i], c->key + c->start[i],
		            c->len - c->start[i]) < 0)
			return -1;
	b->nodes[nd].c[c->kind]++;
	b->order[b->n_calls++] = (uint32_t)nd;
	b->n_suffixes += c->n;
	if (b->min_labels == 0 || c->n < b->min_labels)
		b->min_labels = c->n;
	return 0;
}

/* The oldest waiting call goes first when the ring is full (or at the
 * end, all): 0 or -1. */
static int
drain(struct nameidx_builder *b, size_t keep, int place)
{
	while (b->n_ring > keep) {
		struct pending *c = &b->ring[b->head];
		unsigned i;
		if (place && !b->closed) {
			for (i = 0; i < c->n; i++)
				bloom_add(&b->all, c->f[i]);
			bloom_add(&b->keys, name_key_mix(c->f[0]));
		} else if (!place && count_now(b, c) < 0) {
			return -1;
		}
		b->head = (b->head + 1) % AHEAD;
		b->n_ring--;
	}
	return 0;
}

/* Hashes a call into the ring and fetches what it will touch. */
static struct pending *
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
	if (!place) {
		prefetch_slot(b->slots, fast_range(c->f[0], b->n_slots));
		return c;
	}
	if (b->closed)
		return c;
	for (i = 0; i < c->n; i++)
		bloom_prefetch(&b->all, c->f[i]);
	bloom_prefetch(&b->keys, name_key_mix(c->f[0]));
	return c;
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

int
nameidx_layout(struct nameidx_builder *b)
{
	uint32_t at = 0;
	size_t i;

	if (drain(b, 0, 0) < 0 ||
	    (b->items = big_calloc(b->n_calls + 1, sizeof(*b->items))) ==
	        NULL ||
	    (!b->closed && (bloom_new(&b->all, b->n_suffixes) < 0 ||
	                    bloom_new(&b->keys, b->n_nodes) < 0)))
		return -1;
	for (i = 0; i < b->n_nodes; i++) {
		struct bnode *nd = &b->nodes[i];
		uint32_t e = nd->c[NK_EXACT], s = nd->c[NK_SUFFIX];
		uint32_t k = nd->c[NK_BUCKET];
		nd->c[NK_EXACT] = at;
		nd->c[NK_SUFFIX] = at + e;
		nd->c[NK_BUCKET] = at + e + s;
		at += e + s + k;
	}
	/* the build table has served: nameidx_finish() makes the final one */
	free(b->slots);
	b->slots = NULL;
	return 0;
}

void
nameidx_place(struct nameidx_builder *b, const char *key, enum name_kind k,
              struct idx_item item)
{
	if (b->placed >= b->n_calls)
		return;
	b->items[b->nodes[b->order[b->placed++]].c[k]++] = item;
	drain(b, AHEAD - 1, 1);
	enqueue(b, key, k, 1);
}

/* The final table's slot for mixed hash f. */
static uint64_t
slot_of(const struct nameidx *ix, uint64_t f)
{
	return ix->mask ? (f >> 32) & ix->mask
	                : ((f >> 32) * ix->n_slots) >> 32;
}

/*
 * The final table: a small index's a power of two (at most half full),
 * a large one's sized to its keys (about 60% full).  0 or -1.
 */
static int
final_slots(struct nameidx *ix, int closed)
{
	uint64_t ring[AHEAD];
	uint32_t i;

	ix->n_slots = (uint64_t)ix->n_nodes * 5 / 3 + 2;
	if (closed) {
		for (ix->n_slots = 16; ix->n_slots < 2 * (uint64_t)ix->n_nodes;)
			ix->n_slots *= 2;
		ix->mask = ix->n_slots - 1;
	}
	if ((ix->slots = big_calloc(ix->n_slots, sizeof(*ix->slots))) == NULL)
		return -1;
	for (i = 0; i < ix->n_nodes + AHEAD; i++) {
		uint64_t f, s;
		if (i >= AHEAD) { /* node i - AHEAD: its slot has arrived */
			f = ring[i % AHEAD];
			s = slot_of(ix, f);
			while (ix->slots[s] != 0)
				s = s + 1 == ix->n_slots ? 0 : s + 1;
			ix->slots[s] = (uint64_t)(uint32_t)f << 32 |
			               (uint64_t)(i - AHEAD + 1);
		}
		if (i < ix->n_nodes) {
			f = key_mix(ix->nodes[i].key, ix->nodes[i].len);
			prefetch_slot(ix->slots, slot_of(ix, f));
			ring[i % AHEAD] = f;
		}
	}
	return 0;
}

/* A small index keeps its keys, padded, for word-wise comparisons. */
static int
own_keys(struct nameidx *ix)
{
	size_t total = 0, at = 0;
	uint32_t i;

	for (i = 0; i < ix->n_nodes; i++)
		total += ix->nodes[i].len + 8;
	if ((ix->own = calloc(total + 1, 1)) == NULL)
		return -1;
	for (i = 0; i < ix->n_nodes; i++) {
		memcpy(ix->own + at, ix->nodes[i].key, ix->nodes[i].len);
		ix->nodes[i].key = ix->own + at;
		at += ix->nodes[i].len + 8;
	}
	return 0;
}

struct nameidx *
nameidx_finish(struct nameidx_builder *b)
{
	struct nameidx *ix = calloc(1, sizeof(*ix));
	int closed;
	struct name_node out;
	struct bnode nd;
	uint32_t prev_end = 0;
	char *base;
	void *p = NULL;
	size_t i;

	if (ix == NULL ||
	    (b->cap_nodes < b->n_nodes + 1 &&
	     (p = realloc(b->nodes, (b->n_nodes + 1) * sizeof(*b->nodes))) ==
	         NULL)) {
		free(ix);
		nameidx_builder_free(b);
		return NULL;
	}
	if (b->cap_nodes < b->n_nodes + 1)
		b->nodes = p;
	drain(b, 0, 1);
	free(b->order);
	b->order = NULL;
	/* the build nodes become index nodes in place (they are larger),
	 * then the sentinel that ends the last node's items */
	/* a node's items begin where the previous one's end (its bucket
	 * cursor); its exact items end where its suffix items begin */
	base = (char *)b->nodes;
	for (i = 0; i <= b->n_nodes; i++) {
		memset(&out, 0, sizeof(out));
		out.first = prev_end;
		if (i < b->n_nodes) {
			memcpy(&nd, base + i * sizeof(nd), sizeof(nd));
			out.key = nd.key;
			out.len = nd.len;
			out.n_exact = nd.c[NK_EXACT] - prev_end;
			out.n_suffix = nd.c[NK_SUFFIX] - nd.c[NK_EXACT];
			prev_end = nd.c[NK_BUCKET];
		}
		memcpy(base + i * sizeof(out), &out, sizeof(out));
	}
	/* kept where it is: the capacity never touched is no memory */
	ix->nodes = (struct name_node *)(void *)base;
	ix->n_nodes = (uint32_t)b->n_nodes;
	ix->min_labels = b->min_labels ? b->min_labels : 1;
	ix->items = b->items;
	ix->n_items = (uint32_t)b->n_calls;
	ix->all = b->all;
	ix->keys = b->keys;
	closed = b->closed;
	free(b->slots);
	free(b);
	if ((closed && own_keys(ix) < 0) || final_slots(ix, closed) < 0) {
		nameidx_free(ix);
		return NULL;
	}
	return ix;
}

void
nameidx_builder_free(struct nameidx_builder *b)
{
	if (b == NULL)
		return;
	free(b->slots);
	free(b->nodes);
	free(b->order);
	free(b->items);
	free(b->all.w);
	free(b->keys.w);
	free(b);
}

void
nameidx_free(struct nameidx *ix)
{
	if (ix == NULL)
		return;
	free(ix->slots);
	free(ix->nodes);
	free(ix->items);
	free(ix->all.w);
	free(ix->keys.w);
	free(ix->own);
	free(ix);
}

size_t
nameidx_bytes(const struct nameidx *ix)
{
	if (ix == NULL)
		return 0;
	return sizeof(*ix) + ix->n_slots * sizeof(*ix->slots) +
	       (ix->n_nodes + 1) * sizeof(*ix->nodes) +
	       (ix->n_items + 1) * sizeof(*ix->items) +
	       (ix->all.n + ix->keys.n) * sizeof(uint64_t);
}
