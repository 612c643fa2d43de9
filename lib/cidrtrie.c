/* cidrtrie.c - binary prefix trie (see cidrtrie.h). */
#include <stdlib.h>

#include "cidrtrie.h"

struct node {
	uint32_t child[2];     /* node index, 0 for none (the root is 0) */
	uint32_t start, count; /* items of prefixes ending here */
};

struct pending { /* an item waiting for finish(), with its node */
	uint32_t node;
	struct idx_item item;
};

struct cidrtrie {
	unsigned bits;
	struct node *nodes;
	size_t n_nodes, cap_nodes;
	struct pending *pend;
	size_t n_pend, cap_pend;
	struct idx_item *items;
};

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
	void *np;
	size_t ncap;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	if ((np = realloc(*p, ncap * size)) == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static unsigned
bit_at(const uint8_t *addr, unsigned i)
{
	return (addr[i / 8] >> (7 - i % 8)) & 1;
}

struct cidrtrie *
cidrtrie_new(unsigned bits)
{
	struct cidrtrie *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->bits = bits;
	if (grow((void **)&t->nodes, &t->cap_nodes, 1, sizeof(*t->nodes)) < 0) {
		free(t);
		return NULL;
	}
	t->nodes[0] = (struct node){{0, 0}, 0, 0};
	t->n_nodes = 1;
	return t;
}

int
cidrtrie_add(struct cidrtrie *t, const uint8_t *addr, unsigned plen,
             uint32_t value, const char *pattern)
{
	uint32_t n = 0;
	unsigned i;

	if (plen > t->bits)
		return -1;
	for (i = 0; i < plen; i++) {
		unsigned b = bit_at(addr, i);
		if (t->nodes[n].child[b] == 0) {
			if (grow((void **)&t->nodes, &t->cap_nodes,
			         t->n_nodes + 1, sizeof(*t->nodes)) < 0)
				return -1;
			t->nodes[t->n_nodes] = (struct node){{0, 0}, 0, 0};
			t->nodes[n].child[b] = (uint32_t)t->n_nodes++;
		}
		n = t->nodes[n].child[b];
	}
	if (grow((void **)&t->pend, &t->cap_pend, t->n_pend + 1,
	         sizeof(*t->pend)) < 0)
		return -1;
	t->pend[t->n_pend].node = n;
	t->pend[t->n_pend].item.value = value;
	t->pend[t->n_pend].item.pattern = pattern;
	t->n_pend++;
	return 0;
}

static int
cmp_pending(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return (x->item.value > y->item.value) -
	       (x->item.value < y->item.value);
}

int
cidrtrie_finish(struct cidrtrie *t)
{
	size_t i;

	if (t->n_pend == 0)
		return 0;
	qsort(t->pend, t->n_pend, sizeof(*t->pend), cmp_pending);
	if ((t->items = calloc(t->n_pend, sizeof(*t->items))) == NULL)
		return -1;
	for (i = 0; i < t->n_pend; i++) {
		struct node *nd = &t->nodes[t->pend[i].node];
		if (nd->count == 0)
			nd->start = (uint32_t)i;
		nd->count++;
		t->items[i] = t->pend[i].item;
	}
	return 0;
}

void
cidrtrie_match(const struct cidrtrie *t, const uint8_t *addr,
               void (*fn)(void *ctx, const struct idx_item *items, size_t n),
               void *ctx)
{
	uint32_t n = 0;
	unsigned i;

	if (t->items == NULL)
		return;
	for (i = 0;; i++) {
		const struct node *nd = &t->nodes[n];
		if (nd->count != 0)
			fn(ctx, &t->items[nd->start], nd->count);
		if (i == t->bits || (n = nd->child[bit_at(addr, i)]) == 0)
			return;
	}
}

size_t
cidrtrie_size(const struct cidrtrie *t)
{
	return t->n_pend;
}

void
cidrtrie_free(struct cidrtrie *t)
{
	if (t == NULL)
		return;
	free(t->nodes);
	free(t->pend);
	free(t->items);
	free(t);
}
