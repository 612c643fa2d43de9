/*
 * nameidx_small.c - a small name index: every label suffix of every key a
 * node, keys copied and padded, a power-of-two table (nameidx.h).
 */
#include <stdlib.h>

#include "nameidx_impl.h"

/* Puts node i in a table of n slots under mixed hash f (absent). */
static void
insert_slot(uint64_t *slots, uint64_t n, uint64_t f, size_t i)
{
	uint64_t s = name_range(f, n);

	while (slots[s] != 0)
		s = s + 1 == n ? 0 : s + 1;
	slots[s] = (uint64_t)(uint32_t)f << 32 | (uint64_t)(i + 1);
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
		insert_slot(slots, n,
		            name_key_hash(b->nodes[i].key, b->nodes[i].len), i);
	free(b->slots);
	b->slots = slots;
	b->n_slots = n;
	return 0;
}

/* The node of key (mixed hash f), added when absent; -1 out of memory. */
static long
node_of(struct nameidx_builder *b, uint64_t f, const char *key, size_t len)
{
	struct bnode *nd;
	uint64_t s;

	for (s = name_range(f, b->n_slots); b->slots[s] != 0;
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
		size_t cap = b->cap_nodes * 2;
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

int
small_count(struct nameidx_builder *b, const struct pending *c)
{
	unsigned i;
	long nd;

	if ((nd = node_of(b, c->f[0], c->key, c->len)) < 0)
		return -1;
	for (i = 1; i < c->n; i++) /* the key's suffixes */
		if (node_of(b, c->f[i], c->key + c->start[i],
		            c->len - c->start[i]) < 0)
			return -1;
	b->nodes[nd].c[c->kind]++;
	b->order[b->n_calls++] = (uint32_t)nd;
	return 0;
}

int
small_layout(struct nameidx_builder *b)
{
	uint32_t at = 0;
	size_t i;

	if ((b->items = calloc(b->n_calls + 1, sizeof(*b->items))) == NULL)
		return -1;
	b->n_items = b->n_calls;
	for (i = 0; i < b->n_nodes; i++) {
		struct bnode *nd = &b->nodes[i];
		uint32_t e = nd->c[NK_EXACT], s = nd->c[NK_SUFFIX];
		uint32_t k = nd->c[NK_BUCKET];
		nd->c[NK_EXACT] = at;
		nd->c[NK_SUFFIX] = at + e;
		nd->c[NK_BUCKET] = at + e + s;
		at += e + s + k;
	}
	/* the build table has served: small_finish() makes the final one */
	free(b->slots);
	b->slots = NULL;
	return 0;
}

/* The keys, copied each with 8 zero bytes after it; 0 or -1. */
static int
own_keys(struct nameidx *ix)
{
	size_t total = 0, at = 0;
	uint32_t i;

	for (i = 0; i < ix->n_keys; i++)
		total += ix->nodes[i].len + 8;
	if ((ix->own = calloc(total + 1, 1)) == NULL)
		return -1;
	for (i = 0; i < ix->n_keys; i++) {
		memcpy(ix->own + at, ix->nodes[i].key, ix->nodes[i].len);
		ix->nodes[i].key = ix->own + at;
		at += ix->nodes[i].len + 8;
	}
	return 0;
}

/* The final table: a power of two, at most half full; 0 or -1. */
static int
final_slots(struct nameidx *ix)
{
	uint32_t i;

	for (ix->n_slots = 16; ix->n_slots < 2 * (uint64_t)ix->n_keys;)
		ix->n_slots *= 2;
	ix->mask = ix->n_slots - 1;
	if ((ix->slots = calloc(ix->n_slots, sizeof(*ix->slots))) == NULL)
		return -1;
	for (i = 0; i < ix->n_keys; i++) {
		uint64_t f = name_key_hash(ix->nodes[i].key, ix->nodes[i].len);
		uint64_t s = (f >> 32) & ix->mask;
		while (ix->slots[s] != 0)
			s = (s + 1) & ix->mask;
		ix->slots[s] = (uint64_t)(uint32_t)f << 32 | (uint64_t)(i + 1);
	}
	return 0;
}

struct nameidx *
small_finish(struct nameidx_builder *b, struct nameidx *ix)
{
	struct name_node out;
	struct bnode nd;
	uint32_t prev_end = 0;
	char *base;
	size_t i;

	if (b->cap_nodes < b->n_nodes + 1) { /* room for the sentinel */
		void *p = realloc(b->nodes, (b->n_nodes + 1) * sizeof(nd));
		if (p == NULL) {
			nameidx_builder_free(b);
			free(ix);
			return NULL;
		}
		b->nodes = p;
	}
	/* the build nodes become index nodes in place (the same size): a
	 * node's items begin where the previous one's end (its bucket
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
	ix->nodes = (struct name_node *)(void *)base;
	ix->n_keys = (uint32_t)b->n_nodes;
	ix->items = b->items;
	ix->n_items = (uint32_t)b->n_items;
	b->nodes = NULL;
	b->items = NULL;
	nameidx_builder_free(b);
	if (own_keys(ix) < 0 || final_slots(ix) < 0) {
		nameidx_free(ix);
		return NULL;
	}
	return ix;
}
