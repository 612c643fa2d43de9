/*
 * nameidx.h - names by their label suffixes, in one hash table (internal).
 *
 * Every key is a domain ("teams.microsoft.com") carrying items of three
 * kinds: EXACT items match that name itself, SUFFIX items match the names
 * that end in "." key (a "*.key" pattern), BUCKET items are patterns that
 * can only match names at or under key (irregular globs and regexes bound
 * to a domain), to be tried by the caller.  A lookup walks a name from its
 * last label towards its first, starting at the shortest key's length.
 *
 * Each key's entry is in the table itself, with the key's bytes (up to 24
 * of them, else a pointer to them) and its item when it has only one (most
 * have); a Bloom filter of the keys and of their proper label suffixes
 * (both in one word for a suffix; only suffixes as long as the shortest
 * key, the only ones a walk tests) says where a probe is worth its cache
 * miss and where the walk stops: a name that is no key's neighbour costs a
 * filter word or two, however long the list, and a key found costs its
 * entry, whose place the hash alone gives, so that it is fetched while the
 * filter words are (no pointer to follow to the key's text).
 *
 * Hashes are built a label at a time, a word at a time, from the end: the
 * hash of a suffix is its first label's hash combined with the hash of the
 * rest.  A finished index is immutable and safe to query from many threads.
 */
#ifndef M365_NAMEIDX_H
#define M365_NAMEIDX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bytes.h"
#include "host_impl.h"

/* What an item is about: a set's rank or a local rule, and more. */
struct idx_item {
	uint32_t value; /* a set rank or a rule index */
	uint32_t aux;   /* the caller's: group and pattern number */
};

enum name_kind { NK_EXACT, NK_SUFFIX, NK_BUCKET, NK_N };

/* A key's bytes kept in its entry: all of them when it has at most
 * KEY_INLINE, else a pointer to the key (borrowed from the caller). */
#define KEY_INLINE 24

/*
 * A key's entry, in the table itself, with the key's bytes: a probe reads
 * the entry, compares and finds the items in the same place, and that
 * place is known from the hash alone, so it is fetched in parallel with
 * the filter words.  36 bytes.
 */
struct name_entry {
	/* the key's length (bits 0-7; 0: an empty slot), ENTRY_ONE (its
	 * one item is here), that item's kind (bits 9-10), and a tag of the
	 * hash (12-31) */
	uint32_t meta;
	union {
		struct idx_item one;
		/* more than one item: items[first] holds the numbers of
		 * exact and suffix items, the items follow */
		struct {
			uint32_t first;
			uint32_t n_bucket;
		} many;
		struct { /* while building: counts */
			uint16_t exact, suffix;
			uint32_t bucket;
		} c;
	} u;
	char key[KEY_INLINE]; /* zero-padded */
};

_Static_assert(sizeof(struct name_entry) == 36,
               "a name entry is 36 bytes (the memory per rule in make bench)");

#define ENTRY_LEN(meta) ((meta)&0xffu)
#define ENTRY_ONE 0x100u
#define ENTRY_KIND(meta) ((enum name_kind)((meta) >> 9 & 3))
#define ENTRY_TAG(f) ((uint32_t)(f) >> 12)
#define ENTRY_TAG_OF(meta) ((meta) >> 12)
/* The most exact or suffix items a key may carry. */
#define ENTRY_MAX 65535u

/* The whole text of e's key (ENTRY_LEN bytes, not terminated). */
static inline const char *
entry_key(const struct name_entry *e)
{
	const char *all;

	if (ENTRY_LEN(e->meta) <= KEY_INLINE)
		return e->key;
	memcpy(&all, e->key, sizeof(all));
	return all;
}

/* A blocked Bloom filter: three bits of one word per entry. */
struct name_bloom {
	uint64_t *w;
	uint64_t n; /* words */
};

struct nameidx {
	struct name_entry *ent;
	uint64_t n_slots;
	uint32_t n_keys;
	unsigned min_labels; /* of the shortest key: shorter suffixes need
	                        no probe */
	struct idx_item *items;
	uint32_t n_items;
	/* a filter of every proper label suffix of every key, of at least
	 * min_labels labels (its "lead" bits), and of every key (its "key"
	 * bits, in the same word) */
	struct name_bloom all;
};

/* What a lookup found: the key's items of each kind. */
struct name_hit {
	const struct idx_item *it[NK_N];
	uint32_t n[NK_N];
};

/* --- hashing ------------------------------------------------------------ */

#define NAME_K1 0x9e3779b97f4a7c15ull
#define NAME_K2 0xc2b2ae3d27d4eb4full

/* The word of the first n (1..7) bytes at p, the others zero. */
static inline uint64_t
name_part(const char *p, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return bytes_word(p) & ~(~0ull >> (8 * n));
#else
	return bytes_word(p) & ((1ull << (8 * n)) - 1);
#endif
}

/*
 * The hash of one label p[0..n); p must be readable for 7 bytes past it
 * (a padded name).
 */
static inline uint64_t
name_label_hash(const char *p, size_t n)
{
	uint64_t h = (uint64_t)n * NAME_K2;

	for (; n >= 8; p += 8, n -= 8) {
		h = (h ^ bytes_word(p)) * NAME_K1;
		h ^= h >> 29;
	}
	if (n > 0) {
		h = (h ^ name_part(p, n)) * NAME_K1;
		h ^= h >> 29;
	}
	return h;
}

/* The hash of a suffix: its first label's hash, then the rest's. */
static inline uint64_t
name_combine(uint64_t label, uint64_t rest)
{
	return ((rest << 23 | rest >> 41) ^ label) * NAME_K2;
}

/* The hash of the suffix of a name after its last label: nothing. */
#define NAME_NONE 0x5851f42d4c957f2dull

/* The hash a table and the filters use for suffix hash h. */
static inline uint64_t
name_mix(uint64_t h)
{
	h ^= h >> 31;
	h *= NAME_K1;
	return h ^ (h >> 32);
}

/* The slot of mixed hash f in a table of n slots. */
static inline uint64_t
name_range(uint64_t f, uint64_t n)
{
	return ((f >> 32) * n) >> 32;
}

/* --- lookups ------------------------------------------------------------ */

/* Masks of three bits, the filter's patterns: a table look-up costs less
 * than setting three bits by shifts on every test (nameidx.c fills it,
 * the same in every process, before main()). */
#define NAME_MASKS 1024
extern uint64_t name_bloom_mask[NAME_MASKS];

/* The three bits mixed hash f sets in its filter word: its "lead" bits
 * (key 0) or its "key" bits (key 1). */
static inline uint64_t
name_bloom_bits(uint64_t f, int key)
{
	return name_bloom_mask[(f >> (key ? 18 : 0)) & (NAME_MASKS - 1)];
}

/* The filter word of the suffix of mixed hash f: its lead and its key
 * bits, read once for both tests. */
static inline uint64_t
nameidx_word(const struct nameidx *ix, uint64_t f)
{
	return ix->all.w[(size_t)name_range(f, ix->all.n)];
}

/* True when a key longer than the suffix of mixed hash f (of at least
 * min_labels labels) may end with it; w: its word (nameidx_word()). */
static inline int
nameidx_may_lead(uint64_t w, uint64_t f)
{
	uint64_t m = name_bloom_bits(f, 0);

	return (w & m) == m;
}

/* True when the suffix of mixed hash f may be a key; w: its word. */
static inline int
nameidx_may_be_key(uint64_t w, uint64_t f)
{
	uint64_t m = name_bloom_bits(f, 1);

	return (w & m) == m;
}

/* Fills h with the items of ix's entry e. */
static inline void
entry_hit(const struct nameidx *ix, const struct name_entry *e,
          struct name_hit *h)
{
	const struct idx_item *it;

	if (e->meta & ENTRY_ONE) {
		enum name_kind k = ENTRY_KIND(e->meta);
		memset(h, 0, sizeof(*h));
		h->it[k] = &e->u.one;
		h->n[k] = 1;
		return;
	}
	it = &ix->items[e->u.many.first];
	h->n[NK_EXACT] = it->value;
	h->n[NK_SUFFIX] = it->aux;
	h->n[NK_BUCKET] = e->u.many.n_bucket;
	h->it[NK_EXACT] = it + 1;
	h->it[NK_SUFFIX] = it + 1 + it->value;
	h->it[NK_BUCKET] = it + 1 + it->value + it->aux;
}

/*
 * True when e's key is key[0..len) (len: the key's length); key must be
 * readable for 7 bytes past len (a padded name).
 */
static inline int
entry_is(const struct name_entry *e, const char *key, size_t len)
{
	uint64_t diff = 0;
	size_t i;

	if (len > KEY_INLINE)
		return memcmp(entry_key(e), key, len) == 0;
	for (i = 0; i + 8 <= len; i += 8)
		diff |= bytes_word(e->key + i) ^ bytes_word(key + i);
	if (i < len)
		diff |= bytes_word(e->key + i) ^ name_part(key + i, len - i);
	return diff == 0;
}

/*
 * Looks key[0..len) (mixed hash f) up in the table, without the filter;
 * key must be readable for 7 bytes past len.  Returns 1 and fills h when
 * it is a key, else 0.
 */
static inline int
nameidx_probe(const struct nameidx *ix, uint64_t f, const char *key, size_t len,
              struct name_hit *h)
{
	uint64_t s;

	for (s = name_range(f, ix->n_slots); ix->ent[s].meta != 0;
	     s = s + 1 == ix->n_slots ? 0 : s + 1) {
		const struct name_entry *e = &ix->ent[s];
		if (ENTRY_TAG_OF(e->meta) == ENTRY_TAG(f) &&
		    ENTRY_LEN(e->meta) == len && entry_is(e, key, len)) {
			entry_hit(ix, e, h);
			return 1;
		}
	}
	return 0;
}

/* True when the index holds no key. */
static inline int
nameidx_empty(const struct nameidx *ix)
{
	return ix == NULL || ix->n_keys == 0;
}

/* --- building ----------------------------------------------------------- */

struct nameidx_builder;

/* A new builder for about hint items; NULL when out of memory. */
struct nameidx_builder *nameidx_builder_new(size_t hint);

/*
 * Pass 1: counts one item of kind k on key (a valid lowercase hostname,
 * kept by the caller for the index's life).  0, or -1 out of memory.
 */
int nameidx_count(struct nameidx_builder *b, const char *key, enum name_kind k);

/*
 * Between the passes: lays the items out.  0, -1 out of memory, or -2
 * when a key carries more than ENTRY_MAX exact or suffix items.
 */
int nameidx_layout(struct nameidx_builder *b);

/*
 * Pass 2: places the item counted for (key, k) by the same call of pass 1
 * (pass 2 makes the same calls in the same order); items of a key keep
 * the order they are placed in.
 */
void nameidx_place(struct nameidx_builder *b, const char *key, enum name_kind k,
                   struct idx_item item);

/*
 * Freezes the builder into an index (the builder is freed either way).
 * NULL when out of memory.
 */
struct nameidx *nameidx_finish(struct nameidx_builder *b);

/* Frees a builder that was not finished; NULL is a no-op. */
void nameidx_builder_free(struct nameidx_builder *b);

/* Frees the index; NULL is a no-op. */
void nameidx_free(struct nameidx *ix);

/* Bytes the index holds, for the benchmarks. */
size_t nameidx_bytes(const struct nameidx *ix);

/*
 * Computes the suffix hashes of a valid name s[0..len) whose labels lb
 * gives, into hash[0..lb->n): hash[i] is that of s[lb->start[i]..len).
 * s must be readable for 7 bytes past len.
 */
void name_suffix_hashes(const char *s, size_t len, const struct host_labels *lb,
                        uint64_t *hash);

#endif
