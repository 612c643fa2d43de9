/*
 * hashtab.h - an immutable string-keyed hash table whose keys map to sorted
 * lists of (value, pattern) items (internal).
 *
 * Keys hash right to left, so a caller walking a hostname from its end gets
 * the hash of every suffix in one pass (see hashtab_hash_step()).
 */
#ifndef M365_HASHTAB_H
#define M365_HASHTAB_H

#include <stddef.h>
#include <stdint.h>

struct idx_item {
	uint32_t value;      /* caller's value: a set rank or a rule index */
	const char *pattern; /* borrowed text, for explanations */
};

struct hashtab;

#define HASHTAB_SEED 14695981039346656037ull

/* One step of the right-to-left hash: h for c followed by what h hashed. */
static inline uint64_t
hashtab_hash_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * 1099511628211ull;
}

/* A new, empty builder; NULL when out of memory. */
struct hashtab *hashtab_new(void);

/* Adds key -> (value, pattern); key is copied.  0, or -1 out of memory. */
int hashtab_add(struct hashtab *t, const char *key, size_t len, uint32_t value,
                const char *pattern);

/* Freezes the table for lookups (sorts items by value).  0 or -1. */
int hashtab_finish(struct hashtab *t);

/*
 * Looks up key[0..len) whose hash is h; returns its items, sorted by value,
 * and their count in *n, or NULL.
 */
const struct idx_item *hashtab_get(const struct hashtab *t, uint64_t h,
                                   const char *key, size_t len, size_t *n);

/* Number of keys. */
size_t hashtab_size(const struct hashtab *t);

/* Frees the table; NULL is a no-op. */
void hashtab_free(struct hashtab *t);

#endif
