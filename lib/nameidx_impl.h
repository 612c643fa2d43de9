/*
 * nameidx_impl.h - the builder of a name index, shared by nameidx.c and
 * nameidx_big.c (internal).
 */
#ifndef M365_NAMEIDX_IMPL_H
#define M365_NAMEIDX_IMPL_H

#include "nameidx.h"

/* How many calls wait for the memory they touch at once. */
#define AHEAD 8

/* A call waiting for its memory: the key and its suffixes' hashes. */
struct pending {
	const char *key;
	uint32_t len;
	enum name_kind kind;
	uint64_t f[HOST_LABELS_MAX]; /* suffixes' mixed hashes */
	uint8_t start[HOST_LABELS_MAX];
	unsigned n;
};

struct nameidx_builder {
	/* the entries, a table sized to the hint that doubles */
	struct name_entry *ent;
	uint64_t n_ent;
	size_t n_used;
	/* the entry of each pass 1 call, for pass 2 */
	uint32_t *order;
	size_t n_calls, cap_calls, placed;
	/* calls met by their key's number of labels, for the filter's size
	 * (which depends on the shortest key's) */
	size_t n_by_labels[HOST_LABELS_MAX + 1];
	unsigned min_labels; /* of the shortest key so far */
	int too_many;        /* a key with more than ENTRY_MAX exact or suffix
	                        items */
	struct idx_item *items;
	size_t n_items;
	/* pass 2: cursors of the keys with more than one item */
	uint32_t (*cur)[NK_N];
	struct name_bloom all;
	struct pending ring[AHEAD];
	size_t head, n_ring; /* the oldest, and how many wait */
};

/*
 * The most slots a table fills only half of: a probe past a key's home
 * slot costs a compare and often a mispredicted branch, and at half full
 * the keys are 0.5 slots from home on average, at 80% full 2 (with a long
 * tail).  A larger table is filled to 80%: the memory per rule counts
 * more there.
 */
#define NAMEIDX_HALF_SLOTS (((size_t)8 << 20) / sizeof(struct name_entry))

/* True when a table of slots slots is too full for used keys. */
static inline int
nameidx_too_full(uint64_t used, uint64_t slots)
{
	return slots <= NAMEIDX_HALF_SLOTS ? used * 2 > slots
	                                   : used * 5 > slots * 4;
}

/* The slots a table for used keys starts with: not too full. */
static inline uint64_t
nameidx_slots_for(uint64_t used)
{
	uint64_t n = used * 2 + 63;

	if (n > NAMEIDX_HALF_SLOTS) {
		n = used * 5 / 4 + 64;
		if (n <= NAMEIDX_HALF_SLOTS)
			n = NAMEIDX_HALF_SLOTS + 1;
	}
	return n;
}

/* The mixed hash of a whole key (valid, at most 253 bytes). */
uint64_t name_key_hash(const char *key, size_t len);

/* pass 1 of call c (its entry); 0 or -1. */
int big_count(struct nameidx_builder *b, const struct pending *c);

/* lays the items out; 0, -1 or -2 (see nameidx_layout()). */
int big_layout(struct nameidx_builder *b);

/* pass 2 of the next call, item it of kind k. */
void big_place(struct nameidx_builder *b, enum name_kind k, struct idx_item it);

/* the finished index (entries and items taken over). */
struct nameidx *big_finish(struct nameidx_builder *b, struct nameidx *ix);

#endif
