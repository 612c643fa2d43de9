/* arena.c - strings freed all at once (see arena.h). */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bigmem.h"

/* Blocks double from 64 KiB to 2 MiB (a huge page, where there are). */
#define BLOCK_MIN ((size_t)64 << 10)
#define BLOCK_MAX ((size_t)2 << 20)

struct block {
	struct block *next;
	size_t size, used;
	char data[];
};

struct arena {
	struct block *head;
	size_t bytes, next; /* the next block's size */
};

struct arena *
arena_new(void)
{
	return calloc(1, sizeof(struct arena));
}

char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
	struct block *b = a->head;
	char *p;

	if (b == NULL || b->size - b->used < len + 1) {
		size_t size = a->next ? a->next : BLOCK_MIN;
		if (size < sizeof(*b) + len + 1)
			size = sizeof(*b) + len + 1;
		/* header and strings in one block: 2 MiB is one huge page */
		if ((b = big_calloc(1, size)) == NULL)
			return NULL;
		b->size = size - sizeof(*b);
		a->next = size * 2 > BLOCK_MAX ? BLOCK_MAX : size * 2;
		b->used = 0;
		b->next = a->head;
		a->head = b;
		a->bytes += size;
	}
	p = b->data + b->used;
	memcpy(p, s, len);
	p[len] = '\0';
	b->used += len + 1;
	return p;
}

size_t
arena_bytes(const struct arena *a)
{
	return a ? a->bytes : 0;
}

void
arena_free(struct arena *a)
{
	struct block *b, *next;

	if (a == NULL)
		return;
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}
