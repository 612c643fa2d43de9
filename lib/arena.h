/*
 * arena.h - strings kept until the end of their owner's life (internal).
 *
 * A list of a million rules keeps a million short strings: one malloc
 * each would cost as much again in headers.  An arena hands them out of
 * large blocks and frees them all at once.
 */
#ifndef M365_ARENA_H
#define M365_ARENA_H

#include <stddef.h>

struct arena;

/* A new empty arena; NULL when out of memory. */
struct arena *arena_new(void);

/* A NUL-terminated copy of s[0..len) in the arena, or NULL (out of memory). */
char *arena_strndup(struct arena *a, const char *s, size_t len);

/* Bytes the arena holds (its blocks). */
size_t arena_bytes(const struct arena *a);

/* Frees the arena and every string in it; NULL is a no-op. */
void arena_free(struct arena *a);

#endif
