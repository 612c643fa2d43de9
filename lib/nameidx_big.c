/*
 * nameidx_big.c - a large name index: its keys' entries in the table
 * itself, one item in the entry, filters for the rest (nameidx.h).
 */
#include <stdlib.h>

#include "bigmem.h"
#include "nameidx_impl.h"

/* Puts a copy of e in table t of n entries under mixed hash f (absent);
 * returns where. */
static uint64_t
insert_entry(struct name_entry *t, uint64_t n, uint64_t f,
             const struct name_entry *e)
{
	uint64_t s = name_range(f, n);

	while (t[s].key != NULL)
		s = s + 1 == n ? 0 : s + 1;
	t[s] = *e;
	return s;
}

/* Doubles the table, moving each call's entry number along; 0 or -1. */
static int
grow(struct nameidx_builder *b)
{
	uint64_t n = b->n_ent * 2, s;
	struct name_entry *t = big_calloc(n, sizeof(*t));
	uint32_t *moved = malloc(b->n_ent * sizeof(*moved));
	size_t i;

	if (t == NULL || moved == NULL) {
		free(t);
		free(moved);
		return -1;
	}
	for (s = 0; s < b->n_ent; s++)
		if (b->ent[s].key != NULL)
			moved[s] = (uint32_t)insert_entry(
			    t, n,
			    name_key_hash(b->ent[s].key, b->ent[s].meta & 0xff),
			    &b->ent[s]);
	for (i = 0; i < b->n_calls; i++)
		b->order[i] = moved[b->order[i]];
	free(moved);
	free(b->ent);
	b->ent = t;
	b->n_ent = n;
	return 0;
}

/* The entry of key (mixed hash f), added when absent; -1 out of memory. */
static long
entry_of(struct nameidx_builder *b, uint64_t f, const char *key, size_t len)
{
	struct name_entry *e;
	uint64_t s;

	for (s = name_range(f, b->n_ent); (e = &b->ent[s])->key != NULL;
	     s = s + 1 == b->n_ent ? 0 : s + 1)
		if ((e->meta >> 11) == ENTRY_TAG(f) &&
		    (e->meta & 0xff) == len && memcmp(e->key, key, len) == 0)
			return (long)s;
	if ((b->n_used + 1) * 5 > b->n_ent * 4) {
		if (grow(b) < 0)
			return -1;
		return entry_of(b, f, key, len); /* absent: inserts */
	}
	memset(e, 0, sizeof(*e));
	e->key = key;
	e->meta = ENTRY_TAG(f) << 11 | (uint32_t)len;
	b->n_used++;
	return (long)s;
}

int
big_count(struct nameidx_builder *b, const struct pending *c)
{
	long s = entry_of(b, c->f[0], c->key, c->len);

	if (s < 0)
		return -1;
	b->ent[s].u.c[c->kind]++;
	b->order[b->n_calls++] = (uint32_t)s;
	return 0;
}

int
big_layout(struct nameidx_builder *b)
{
	uint32_t at = 0;
	uint64_t s;

	for (s = 0; s < b->n_ent; s++) {
		struct name_entry *e = &b->ent[s];
		uint32_t x, y, z;
		if (e->key == NULL)
			continue;
		x = e->u.c[NK_EXACT];
		y = e->u.c[NK_SUFFIX];
		z = e->u.c[NK_BUCKET];
		if (x + y + z == 1) { /* its item goes in the entry */
			e->meta |= ENTRY_ONE | (uint32_t)(x   ? NK_EXACT
			                                  : y ? NK_SUFFIX
			                                      : NK_BUCKET)
			                           << 9;
			continue;
		}
		if (x > ENTRY_MAX || y > ENTRY_MAX)
			return -2;
		e->u.c[NK_EXACT] = at;
		e->u.c[NK_SUFFIX] = at + x;
		e->u.c[NK_BUCKET] = at + x + y;
		at += x + y + z;
	}
	if ((b->items = big_calloc((size_t)at + 1, sizeof(*b->items))) == NULL)
		return -1;
	b->n_items = at;
	return 0;
}

void
big_place(struct nameidx_builder *b, enum name_kind k, struct idx_item it)
{
	struct name_entry *e = &b->ent[b->order[b->placed++]];

	if (e->meta & ENTRY_ONE)
		e->u.one = it;
	else
		b->items[e->u.c[k]++] = it;
}

struct nameidx *
big_finish(struct nameidx_builder *b, struct nameidx *ix)
{
	uint32_t prev = 0;
	uint64_t s;

	/* a key's items begin where the previous one's end (its bucket
	 * cursor); its exact items end where its suffix items begin */
	for (s = 0; s < b->n_ent; s++) {
		struct name_entry *e = &b->ent[s];
		uint32_t x, y, z;
		if (e->key == NULL || (e->meta & ENTRY_ONE))
			continue;
		x = e->u.c[NK_EXACT];
		y = e->u.c[NK_SUFFIX];
		z = e->u.c[NK_BUCKET];
		e->u.many.first = prev;
		e->u.many.n_exact = (uint16_t)(x - prev);
		e->u.many.n_suffix = (uint16_t)(y - x);
		e->u.many.n_bucket = z - y;
		prev = z;
	}
	ix->ent = b->ent;
	ix->n_slots = b->n_ent;
	ix->n_keys = (uint32_t)b->n_used;
	ix->items = b->items;
	ix->n_items = (uint32_t)b->n_items;
	ix->all = b->all;
	b->ent = NULL;
	b->items = NULL;
	b->all.w = NULL;
	nameidx_builder_free(b);
	return ix;
}
