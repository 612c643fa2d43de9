/* hashtab.c - immutable hash of keys to item lists (see hashtab.h). */
#include <stdlib.h>
#include <string.h>

#include "hashtab.h"

struct entry { /* one (key, item) pair while building */
	char *key;
	uint32_t len;
	struct idx_item item;
};

struct key {
	const char *key; /* points into entries[] */
	uint32_t len;
	uint32_t start, count; /* into items[] */
	uint64_t hash;
};

struct hashtab {
	struct entry *entries;
	size_t n_entries, cap_entries;
	struct key *keys;
	size_t n_keys;
	struct idx_item *items;
	uint32_t *slots; /* key index + 1; 0 is empty */
	uint64_t mask;
};

static uint64_t
hash_key(const char *key, size_t len)
{
	uint64_t h = HASHTAB_SEED;

	while (len-- > 0)
		h = hashtab_hash_step(h, (unsigned char)key[len]);
	return h;
}

struct hashtab *
hashtab_new(void)
{
	return calloc(1, sizeof(struct hashtab));
}

int
hashtab_add(struct hashtab *t, const char *key, size_t len, uint32_t value,
            const char *pattern)
{
	struct entry *e;

	if (t->n_entries == t->cap_entries) {
		size_t cap = t->cap_entries ? t->cap_entries * 2 : 64;
		if ((e = realloc(t->entries, cap * sizeof(*e))) == NULL)
			return -1;
		t->entries = e;
		t->cap_entries = cap;
	}
	e = &t->entries[t->n_entries];
	if ((e->key = strndup(key, len)) == NULL)
		return -1;
	e->len = (uint32_t)len;
	e->item.value = value;
	e->item.pattern = pattern;
	t->n_entries++;
	return 0;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return (x->item.value > y->item.value) -
	       (x->item.value < y->item.value);
}

int
hashtab_finish(struct hashtab *t)
{
	size_t i, size = 16;

	if (t->n_entries == 0)
		return 0;
	qsort(t->entries, t->n_entries, sizeof(*t->entries), cmp_entry);
	t->keys = calloc(t->n_entries, sizeof(*t->keys));
	t->items = calloc(t->n_entries, sizeof(*t->items));
	while (size < t->n_entries * 2)
		size *= 2;
	t->slots = calloc(size, sizeof(*t->slots));
	if (t->keys == NULL || t->items == NULL || t->slots == NULL)
		return -1;
	t->mask = size - 1;
	for (i = 0; i < t->n_entries; i++) {
		struct entry *e = &t->entries[i];
		struct key *k = t->n_keys ? &t->keys[t->n_keys - 1] : NULL;
		t->items[i] = e->item;
		if (k != NULL && k->len == e->len &&
		    memcmp(k->key, e->key, e->len) == 0) {
			k->count++;
			continue;
		}
		k = &t->keys[t->n_keys++];
		k->key = e->key;
		k->len = e->len;
		k->start = (uint32_t)i;
		k->count = 1;
		k->hash = hash_key(e->key, e->len);
	}
	for (i = 0; i < t->n_keys; i++) {
		uint64_t s = t->keys[i].hash & t->mask;
		while (t->slots[s] != 0)
			s = (s + 1) & t->mask;
		t->slots[s] = (uint32_t)i + 1;
	}
	return 0;
}

const struct idx_item *
hashtab_get(const struct hashtab *t, uint64_t h, const char *key, size_t len,
            size_t *n)
{
	uint64_t s;

	if (t->slots == NULL)
		return NULL;
	for (s = h & t->mask; t->slots[s] != 0; s = (s + 1) & t->mask) {
		const struct key *k = &t->keys[t->slots[s] - 1];
		if (k->hash == h && k->len == len &&
		    memcmp(k->key, key, len) == 0) {
			*n = k->count;
			return &t->items[k->start];
		}
	}
	return NULL;
}

size_t
hashtab_size(const struct hashtab *t)
{
	return t->n_keys;
}

void
hashtab_free(struct hashtab *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n_entries; i++)
		free(t->entries[i].key);
	free(t->entries);
	free(t->keys);
	free(t->items);
	free(t->slots);
	free(t);
}
