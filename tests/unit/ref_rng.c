/* ref_rng.c - the random source, strings and fixtures of the
 * differential test's generators (see ref_gen.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_gen.h"

void
ref_rng_seed(struct ref_rng *r, uint64_t seed)
{
	memset(r, 0, sizeof(*r));
	r->s = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
	if (r->s == 0)
		r->s = 1;
}

void
ref_rng_data(struct ref_rng *r, const uint8_t *data, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->data = data;
	r->len = len;
}

static uint32_t
next32(struct ref_rng *r, unsigned n)
{
	uint32_t v = 0;

	if (r->data == NULL) { /* xorshift64* */
		r->s ^= r->s >> 12;
		r->s ^= r->s << 25;
		r->s ^= r->s >> 27;
		return (uint32_t)((r->s * 0x2545f4914f6cdd1dull) >> 32);
	}
	/* as few bytes as n needs, so that a fuzzer's bytes go far */
	do {
		v = v << 8 | (r->pos < r->len ? r->data[r->pos++] : 0);
		n >>= 8;
	} while (n > 0);
	return v;
}

unsigned
ref_rng_below(struct ref_rng *r, unsigned n)
{
	if (n <= 1)
		return 0;
	return next32(r, n - 1) % n;
}

bool
ref_rng_pct(struct ref_rng *r, unsigned pct)
{
	if (r->data != NULL && r->pos >= r->len)
		return false; /* out of bytes: nothing optional any more */
	return ref_rng_below(r, 100) < pct;
}

void
ref_str_add(struct ref_str *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL,
		              b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if (b->s != NULL && b->len + (size_t)n < b->cap)
			break;
		b->cap = (b->cap + (size_t)n + 1) * 2;
		if ((b->s = realloc(b->s, b->cap)) == NULL)
			abort();
		b->s[b->len] = '\0';
	}
	b->len += (size_t)n;
}

char *
ref_str_take(struct ref_str *b)
{
	char *s = b->s;

	if (s == NULL && (s = strdup("")) == NULL)
		abort();
	memset(b, 0, sizeof(*b));
	return s;
}

json_t *
ref_gen_load_fixtures(const char *const *paths, size_t n)
{
	json_t *pool = json_array(), *doc, *set;
	json_error_t e;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if ((doc = json_load_file(paths[i], 0, &e)) == NULL) {
			json_decref(pool);
			return NULL;
		}
		json_array_foreach(doc, j, set) json_array_append(pool, set);
		json_decref(doc);
	}
	return pool;
}

void
ref_case_free(struct ref_case *c)
{
	size_t i;

	free(c->json);
	free(c->local);
	free(c->categories);
	free(c->areas);
	for (i = 0; i < c->n_hints; i++)
		free(c->hints[i]);
	free(c->hints);
	memset(c, 0, sizeof(*c));
}
