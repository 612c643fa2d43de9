/*
 * cidrtrie.h - a binary prefix trie of IPv4 or IPv6 CIDRs mapping to item
 * lists (internal).  A lookup walks the address bits once and reports every
 * prefix that contains it, shortest first.
 */
#ifndef M365_CIDRTRIE_H
#define M365_CIDRTRIE_H

#include <stdbool.h>
#include <stdint.h>

#include "hashtab.h"

struct cidrtrie;

/* A new empty trie for addresses of `bits` bits (32 or 128); NULL on OOM. */
struct cidrtrie *cidrtrie_new(unsigned bits);

/* Adds addr/plen -> (value, pattern).  0, or -1 out of memory. */
int cidrtrie_add(struct cidrtrie *t, const uint8_t *addr, unsigned plen,
                 uint32_t value, const char *pattern);

/* Freezes the trie for lookups.  0, or -1 out of memory. */
int cidrtrie_finish(struct cidrtrie *t);

/*
 * Calls fn(ctx, items, n) for the item list (sorted by value) of every
 * prefix that contains addr, shortest prefix first.
 */
void cidrtrie_match(const struct cidrtrie *t, const uint8_t *addr,
                    void (*fn)(void *ctx, const struct idx_item *items,
                               size_t n),
                    void *ctx);

/* Number of prefixes added. */
size_t cidrtrie_size(const struct cidrtrie *t);

/* Frees the trie; NULL is a no-op. */
void cidrtrie_free(struct cidrtrie *t);

#endif
