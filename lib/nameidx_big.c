/*
 * nameidx_big.c - a large name index: its keys' entries in the table
 * itself, with their bytes, one item in the entry, filters for the rest
 * (nameidx.h).
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

	while (t[s].meta != 0)
		s = s + 1 == n ? 0 : s + 1;
	t[s] = *e;
	return s;
}

/* Moves the entries to a table of n slots (room for them all), and each
 * call's entry number along; 0 or -1. */
static int
resize(struct nameidx_builder *b, uint64_t n)
{
	uint64_t s;
	struct name_entry *t = big_calloc(n, sizeof(*t));
	uint32_t *moved = malloc(b->n_ent * sizeof(*moved));
	size_t i;

	if (t == NULL || moved == NULL) {
		free(t);
		free(moved);
		return -1;
	}
	for (s = 0; s < b->n_ent; s++) {
		const struct name_entry *e = &b->ent[s];
		if (e->meta != 0)
			moved[s] = (uint32_t)insert_entry(
			    t, n,
			    name_key_hash(entry_key(e), ENTRY_LEN(e->meta)), e);
	}
	for (i = 0; i < b->n_calls; i++)
		b->order[i] = moved[b->order[i]];
	free(moved);
	free(b->ent);
	b->ent = t;
	b->n_ent = n;
	return 0;
}

/* True when e's key is key[0..len) (no padding needed). */
static int
same_key(const struct name_entry *e, const char *key, size_t len)
{
	return ENTRY_LEN(e->meta) == len && memcmp(entry_key(e), key, len) == 0;
}

/* The entry of key (mixed hash f), added when absent; -1 out of memory. */
static long
entry_of(struct nameidx_builder *b, uint64_t f, const char *key, size_t len)
{
	struct name_entry *e;
	uint64_t s;

	for (s = name_range(f, b->n_ent); (e = &b->ent[s])->meta != 0;
	     s = s + 1 == b->n_ent ? 0 : s + 1)
		if (ENTRY_TAG_OF(e->meta) == ENTRY_TAG(f) &&
		    same_key(e, key, len))
			return (long)s;
	if (nameidx_too_full(b->n_used + 1, b->n_ent)) {
		if (resize(b, b->n_ent * 2) < 0)
			return -1;
		return entry_of(b, f, key, len); /* absent: inserts */
	}
	memset(e, 0, sizeof(*e));
	e->meta = ENTRY_TAG(f) << 12 | (uint32_t)len;
	if (len <= KEY_INLINE) {
		memcpy(e->key, key, len);
	} else {
		memcpy(e->key, &key, sizeof(key));
	}
	b->n_used++;
	return (long)s;
}

int
big_count(struct nameidx_builder *b, const struct pending *c)
{
	long s = entry_of(b, c->f[0], c->key, c->len);
	struct name_entry *e;

	if (s < 0)
		return -1;
	e = &b->ent[s];
	if (c->kind == NK_BUCKET)
		e->u.c.bucket++;
	else if ((c->kind == NK_EXACT ? e->u.c.exact : e->u.c.suffix) ==
	         ENTRY_MAX)
		b->too_many = 1;
	else if (c->kind == NK_EXACT)
		e->u.c.exact++;
	else
		e->u.c.suffix++;
	b->order[b->n_calls++] = (uint32_t)s;
	return 0;
}

int
big_layout(struct nameidx_builder *b)
{
	size_t at = 0, n_many = 0;
	uint64_t s, want = nameidx_slots_for(b->n_used);

	if (b->too_many)
		return -2;
	/* the hint counts rules: ranges and patterns are no keys, and a key
	 * may carry many rules; a table far larger than its keys need is
	 * made smaller (its memory is held for as long as the list) */
	if (b->n_ent > 2 * want && resize(b, want) < 0)
		return -1;
	for (s = 0; s < b->n_ent; s++) {
		struct name_entry *e = &b->ent[s];
		size_t x = e->u.c.exact, y = e->u.c.suffix, z = e->u.c.bucket;
		if (e->meta == 0)
			continue;
		if (x + y + z == 1) { /* its item goes in the entry */
			e->meta |= ENTRY_ONE | (uint32_t)(x   ? NK_EXACT
			                                  : y ? NK_SUFFIX
			                                      : NK_BUCKET)
			                           << 9;
			continue;
		}
		n_many++;
		at += 1 + x + y + z;
	}
	if (at >= UINT32_MAX ||
	    (b->items = big_calloc(at + 1, sizeof(*b->items))) == NULL ||
	    (b->cur = malloc((n_many + 1) * sizeof(*b->cur))) == NULL)
		return -1;
	b->n_items = at;
	at = n_many = 0;
	/* a key's numbers of exact and suffix items, then its items: exact,
	 * suffix, bucket; while they are placed, n_bucket is the number of
	 * its cursors */
	for (s = 0; s < b->n_ent; s++) {
		struct name_entry *e = &b->ent[s];
		uint32_t x = e->u.c.exact, y = e->u.c.suffix, z = e->u.c.bucket;
		if (e->meta == 0 || (e->meta & ENTRY_ONE))
			continue;
		b->items[at].value = x;
		b->items[at].aux = y;
		b->cur[n_many][NK_EXACT] = (uint32_t)at + 1;
		b->cur[n_many][NK_SUFFIX] = (uint32_t)at + 1 + x;
		b->cur[n_many][NK_BUCKET] = (uint32_t)at + 1 + x + y;
		e->u.many.first = (uint32_t)at;
		e->u.many.n_bucket = (uint32_t)n_many++;
		at += 1 + (size_t)x + y + z;
	}
	return 0;
}

void
big_place(struct nameidx_builder *b, enum name_kind k, struct idx_item it)
{
	struct name_entry *e = &b->ent[b->order[b->placed++]];

	if (e->meta & ENTRY_ONE)
		e->u.one = it;
	else
		b->items[b->cur[e->u.many.n_bucket][k]++] = it;
}

struct nameidx *
big_finish(struct nameidx_builder *b, struct nameidx *ix)
{
	uint64_t s;

	/* the bucket items a key got: where its cursor ended */
	for (s = 0; b->cur != NULL && s < b->n_ent; s++) {
		struct name_entry *e = &b->ent[s];
		const struct idx_item *c;
		if (e->meta == 0 || (e->meta & ENTRY_ONE))
			continue;
		c = &b->items[e->u.many.first];
		e->u.many.n_bucket = b->cur[e->u.many.n_bucket][NK_BUCKET] -
		                     (e->u.many.first + 1 + c->value + c->aux);
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
