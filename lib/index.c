/* index.c - the compiled matcher over one group of patterns (index.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidrtrie.h"
#include "index.h"
#include "matchdata.h"
#include "pattern.h"

struct regex { /* an irregular glob or a regex rule */
	pcre2_code *code;
	int owned;          /* compiled here (globs) */
	const char *prefix; /* literal head of a glob, or "" */
	size_t prelen;
	const char *suffix; /* literal tail of a glob, or "" */
	size_t suflen;
	char *glob; /* owned copy backing prefix/suffix */
	int domain; /* suffix is a domain: the name is it or ends in ".it" */
	struct idx_item item;
};

struct index {
	struct hashtab *exact, *suffix;
	struct cidrtrie *v4, *v6;
	struct regex *re;
	size_t n_re, cap_re, n_patterns;
};

struct index *
index_new(void)
{
	struct index *ix = calloc(1, sizeof(*ix));

	if (ix == NULL)
		return NULL;
	ix->exact = hashtab_new();
	ix->suffix = hashtab_new();
	ix->v4 = cidrtrie_new(32);
	ix->v6 = cidrtrie_new(128);
	if (!ix->exact || !ix->suffix || !ix->v4 || !ix->v6) {
		index_free(ix);
		return NULL;
	}
	return ix;
}

static struct regex *
new_regex(struct index *ix)
{
	if (ix->n_re == ix->cap_re) {
		size_t cap = ix->cap_re ? ix->cap_re * 2 : 8;
		struct regex *r = realloc(ix->re, cap * sizeof(*r));
		if (r == NULL)
			return NULL;
		ix->re = r;
		ix->cap_re = cap;
	}
	memset(&ix->re[ix->n_re], 0, sizeof(ix->re[0]));
	return &ix->re[ix->n_re++];
}

static int
add_irregular(struct index *ix, const char *glob, uint32_t value,
              const char *pattern, struct m365_err *err)
{
	char src[2 * M365_HOST_MAX + 8];
	struct regex *r;
	const char *first, *last;
	PCRE2_SIZE off;
	int code;

	if (glob_to_regex(glob, src, sizeof(src)) < 0 ||
	    (r = new_regex(ix)) == NULL || (r->glob = strdup(glob)) == NULL)
		return m365_err_set(err, M365_E_NOMEM, "out of memory");
	r->item.value = value;
	r->item.pattern = pattern;
	first = strchr(r->glob, '*');
	last = strrchr(r->glob, '*');
	r->prefix = r->glob;
	r->prelen = (size_t)(first - r->glob);
	r->suffix = last + 1;
	r->suflen = strlen(last + 1);
	r->owned = 1;
	r->code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
	                        PCRE2_DOTALL, &code, &off, NULL);
	if (r->code == NULL)
		return m365_err_set(err, M365_E_INPUT,
		                    "cannot compile pattern \"%s\"", glob);
	return 0;
}

int
index_add_glob(struct index *ix, const char *glob, uint32_t value,
               const char *pattern, struct m365_err *err)
{
	char buf[M365_HOST_MAX + 1];
	int kind = glob_check(glob, buf, sizeof(buf), err);

	if (kind < 0)
		return -1;
	ix->n_patterns++;
	if (kind == GLOB_EXACT &&
	    hashtab_add(ix->exact, buf, strlen(buf), value, pattern) == 0)
		return 0;
	if (kind == GLOB_SUFFIX &&
	    hashtab_add(ix->suffix, buf + 2, strlen(buf) - 2, value, pattern) ==
	        0)
		return 0;
	if (kind == GLOB_IRREGULAR)
		return add_irregular(ix, buf, value, pattern, err);
	return m365_err_set(err, M365_E_NOMEM, "out of memory");
}

int
index_add_cidr(struct index *ix, const struct m365_cidr *c, uint32_t value,
               const char *pattern)
{
	ix->n_patterns++;
	return cidrtrie_add(c->family == AF_INET ? ix->v4 : ix->v6, c->addr,
	                    c->plen, value, pattern);
}

int
index_add_regex(struct index *ix, pcre2_code *re, uint32_t value,
                const char *pattern, const char *domain)
{
	struct regex *r = new_regex(ix);

	if (r == NULL)
		return -1;
	ix->n_patterns++;
	r->code = re;
	r->prefix = r->suffix = "";
	if (domain != NULL) {
		r->suffix = domain;
		r->suflen = strlen(domain);
		r->domain = 1;
	}
	r->item.value = value;
	r->item.pattern = pattern;
	return 0;
}

int
index_finish(struct index *ix, struct m365_err *err)
{
	size_t i;

	if (hashtab_finish(ix->exact) < 0 || hashtab_finish(ix->suffix) < 0 ||
	    cidrtrie_finish(ix->v4) < 0 || cidrtrie_finish(ix->v6) < 0)
		return m365_err_set(err, M365_E_NOMEM, "out of memory");
	/* JIT is an optimisation: where it is unavailable, the interpreter
	 * gives the same answers. */
	for (i = 0; i < ix->n_re; i++)
		(void)pcre2_jit_compile(ix->re[i].code, PCRE2_JIT_COMPLETE);
	return 0;
}

void
index_query_init(struct index_query *q, const struct m365_host *h)
{
	uint64_t hash = HASHTAB_SEED;
	size_t i = h->len;

	q->host = h;
	q->n = 0;
	if (h->kind != M365_HOST_NAME)
		return;
	while (i-- > 0) {
		hash = hashtab_hash_step(hash, (unsigned char)h->name[i]);
		if (i > 0 && h->name[i - 1] == '.') {
			q->pos[q->n] = (uint16_t)i;
			q->hash[q->n++] = hash;
		}
	}
	q->whole = hash;
}

static void
match_names(const struct index *ix, const struct index_query *q,
            index_hit_fn fn, void *ctx)
{
	const struct m365_host *h = q->host;
	const struct idx_item *items;
	size_t i, n;

	for (i = 0; i < q->n && hashtab_size(ix->suffix) > 0; i++)
		if ((items = hashtab_get(ix->suffix, q->hash[i],
		                         h->name + q->pos[i],
		                         h->len - q->pos[i], &n)) != NULL)
			fn(ctx, items, n);
	if ((items = hashtab_get(ix->exact, q->whole, h->name, h->len, &n)) !=
	    NULL)
		fn(ctx, items, n);
}

/* Runs the regexes (and, for names, the irregular globs) against h. */
static int
match_regexes(const struct index *ix, const struct m365_host *h,
              index_hit_fn fn, void *ctx)
{
	pcre2_match_context *mc;
	pcre2_match_data *md;
	size_t i;
	int rc, status = 0;

	if (ix->n_re == 0)
		return 0;
	if ((md = matchdata_get()) == NULL || (mc = matchctx_get()) == NULL)
		return -1;
	for (i = 0; i < ix->n_re; i++) {
		const struct regex *r = &ix->re[i];
		if ((r->owned || r->domain) && h->kind != M365_HOST_NAME)
			continue; /* globs and domains never hold IP literals */
		if (h->len < r->prelen + r->suflen ||
		    memcmp(h->name, r->prefix, r->prelen) != 0 ||
		    memcmp(h->name + h->len - r->suflen, r->suffix,
		           r->suflen) != 0 ||
		    (r->domain && h->len > r->suflen &&
		     h->name[h->len - r->suflen - 1] != '.'))
			continue;
		rc = pcre2_match(r->code, (PCRE2_SPTR)h->name, h->len, 0, 0, md,
		                 mc);
		if (rc >= 0)
			fn(ctx, &r->item, 1);
		else if (rc != PCRE2_ERROR_NOMATCH)
			status = -1;
	}
	return status;
}

int
index_match(const struct index *ix, const struct index_query *q,
            index_hit_fn fn, void *ctx)
{
	const struct m365_host *host = q->host;

	if (ix->n_patterns == 0)
		return 0;
	switch (host->kind) {
	case M365_HOST_NAME:
		match_names(ix, q, fn, ctx);
		return match_regexes(ix, host, fn, ctx);
	case M365_HOST_IPV4:
		cidrtrie_match(ix->v4, host->addr, fn, ctx);
		return match_regexes(ix, host, fn, ctx);
	case M365_HOST_IPV6:
		cidrtrie_match(ix->v6, host->addr, fn, ctx);
		return match_regexes(ix, host, fn, ctx);
	default: return 0;
	}
}

size_t
index_size(const struct index *ix)
{
	return ix->n_patterns;
}

void
index_free(struct index *ix)
{
	size_t i;

	if (ix == NULL)
		return;
	hashtab_free(ix->exact);
	hashtab_free(ix->suffix);
	cidrtrie_free(ix->v4);
	cidrtrie_free(ix->v6);
	for (i = 0; i < ix->n_re; i++) {
		if (ix->re[i].owned)
			pcre2_code_free(ix->re[i].code);
		free(ix->re[i].glob);
	}
	free(ix->re);
	free(ix);
}
