/* arena.c - strings freed all at once (see arena.h). */
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define BLOCK (64u << 10)

struct block {
	struct block *next;
	size_t size, used;
	char data[];
};

struct arena {
	struct block *head;
	size_t bytes;
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
		size_t size = len + 1 > BLOCK ? len + 1 : BLOCK;
		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return NULL;
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
		a->bytes += sizeof(*b) + size;
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
