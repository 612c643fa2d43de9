/* part.c - one compiled group of patterns (see part.h). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "part.h"
#include "pattern.h"

struct part_builder {
	int pass; /* 1: count, 2: place */
	struct nameidx_builder *names;
	struct range_builder *v4, *v6;
	struct pattern *pat;
	size_t n_pat, cap_pat;
	size_t pat_seen; /* pass 2: patterns met so far */
	uint32_t *at;    /* pass 2: each pattern's block (AUX_INDEX) */
	struct idx_item *loose, *loose_ip;
	size_t n_loose, cap_loose, n_loose_ip, cap_loose_ip;
};

static int
nomem(struct m365_err *err)
{
	return m365_err_set(err, M365_E_NOMEM, "out of memory");
}

/* Appends it to *arr; 0 or -1. */
static int
push_item(struct idx_item **arr, size_t *n, size_t *cap, struct idx_item it)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		struct idx_item *a = realloc(*arr, c * sizeof(*a));
		if (a == NULL)
			return -1;
		*arr = a;
		*cap = c;
	}
	(*arr)[(*n)++] = it;
	return 0;
}

/* A copy of rec as a new pattern record (pass 1); NULL when out of
 * memory. */
static struct pattern *
new_pattern(struct part_builder *b, const struct pattern *rec)
{
	if (b->n_pat == b->cap_pat) {
		size_t c = b->cap_pat ? b->cap_pat * 2 : 8;
		struct pattern *p;
		if (c > AUX_INDEX_MAX ||
		    (p = realloc(b->pat, c * sizeof(*p))) == NULL)
			return NULL;
		b->pat = p;
		b->cap_pat = c;
	}
	b->pat[b->n_pat] = *rec;
	return &b->pat[b->n_pat++];
}

/* Counts (pass 1) or places (pass 2) one name item; 0 or -1. */
static int
name_item(struct part_builder *b, const char *key, enum name_kind k,
          struct idx_item it, struct m365_err *err)
{
	if (b->pass == 2) {
		nameidx_place(b->names, key, k, it);
		return 0;
	}
	return nameidx_count(b->names, key, k) < 0 ? nomem(err) : 0;
}

/* Where a pattern bound to no name index key is tried. */
enum loose {
	LOOSE_NOWHERE, /* nowhere: it can match nothing */
	LOOSE_NAMES,   /* on every name */
	LOOSE_ALL      /* on every name and every IP literal */
};

/*
 * A pattern (rec), its item it tried from the bucket of key, or (key NULL)
 * as loose says.  Pass 1 records the pattern; pass 2 knows its block, and
 * puts its item where it is tried.
 */
static int
add_pattern(struct part_builder *b, const struct pattern *rec,
            struct idx_item it, const char *key, enum loose loose,
            struct m365_err *err)
{
	if (b->pass == 1 && new_pattern(b, rec) == NULL)
		return nomem(err);
	if (b->pass == 2)
		it.aux |= b->at[b->pat_seen++];
	if (key != NULL)
		return name_item(b, key, NK_BUCKET, it, err);
	if (b->pass == 1 || loose == LOOSE_NOWHERE)
		return 0;
	if (push_item(&b->loose, &b->n_loose, &b->cap_loose, it) < 0 ||
	    (loose == LOOSE_ALL &&
	     push_item(&b->loose_ip, &b->n_loose_ip, &b->cap_loose_ip, it) < 0))
		return nomem(err);
	return 0;
}

int
part_add_glob(struct part_builder *b, const char *glob, enum part_group group,
              uint32_t value, uint32_t index, const char *text,
              struct m365_err *err)
{
	struct idx_item it = {.value = value, .aux = AUX(group, index)};
	const char *star = strchr(glob, '*');

	if (star == NULL) /* a name that can be no host matches nothing */
		return host_valid_name(glob, strlen(glob))
		           ? name_item(b, glob, NK_EXACT, it, err)
		           : 0;
	if (star == glob && glob[1] == '.' && strchr(glob + 1, '*') == NULL)
		return host_valid_name(glob + 2, strlen(glob + 2))
		           ? name_item(b, glob + 2, NK_SUFFIX, it, err)
		           : 0;
	/* an irregular glob: under its domain's bucket, or loose */
	it.aux = AUX(group, 0);
	return add_pattern(
	    b,
	    &(struct pattern){.source = glob, .text = text, .names_only = true},
	    it, glob_domain(glob), LOOSE_NAMES, err);
}

int
part_add_cidr(struct part_builder *b, int family, const uint8_t *addr,
              unsigned plen, enum part_group group, uint32_t value,
              uint32_t index, struct m365_err *err)
{
	struct idx_item it = {.value = value, .aux = AUX(group, index)};
	struct m365_cidr c = {.family = family, .plen = (uint8_t)plen}, v4;
	enum m365_cidr_v4 side;

	if (b->pass == 2)
		return 0;
	memcpy(c.addr, addr, family == AF_INET ? 4 : 16);
	/* IPv4 in IPv6 is looked up as IPv4 (m365_cidr_v4_part()) */
	side = m365_cidr_v4_part(&c, &v4);
	if (side != M365_CIDR_V4_NONE &&
	    range_add(b->v4, v4.addr, v4.plen, it) < 0)
		return nomem(err);
	if (side != M365_CIDR_V4_ONLY &&
	    range_add(family == AF_INET ? b->v4 : b->v6, addr, plen, it) < 0)
		return nomem(err);
	return 0;
}

int
part_add_regex(struct part_builder *b, pcre2_code *re, const char *source,
               const char *domain, enum part_group group, uint32_t value,
               const char *text, struct m365_err *err)
{
	struct idx_item it = {.value = value, .aux = AUX(group, 0)};
	int keyed = domain && host_valid_name(domain, strlen(domain));

	/* bound to a domain, it is tried only from that domain's bucket, on
	 * names the walk found to be the domain or to end in "." domain (a
	 * domain no host can have: it matches nothing, tried nowhere) */
	return add_pattern(b,
	                   &(struct pattern){.code = re,
	                                     .source = source,
	                                     .text = text,
	                                     .names_only = domain != NULL},
	                   it, keyed ? domain : NULL,
	                   domain != NULL ? LOOSE_NOWHERE : LOOSE_ALL, err);
}

static void
builder_free(struct part_builder *b)
{
	nameidx_builder_free(b->names);
	range_builder_free(b->v4);
	range_builder_free(b->v6);
	free(b->pat);
	free(b->at);
	free(b->loose);
	free(b->loose_ip);
	free(b);
}

struct part *
part_build(part_feed_fn feed, void *ctx, size_t hint, struct m365_err *err)
{
	struct part_builder *b = calloc(1, sizeof(*b));
	struct part *p = calloc(1, sizeof(*p));
	int rc;

	if (b == NULL || p == NULL ||
	    (b->names = nameidx_builder_new(hint)) == NULL ||
	    (b->v4 = range_builder_new(32)) == NULL ||
	    (b->v6 = range_builder_new(128)) == NULL) {
		nomem(err);
		goto fail;
	}
	b->pass = 1;
	if (feed(b, ctx, err) < 0)
		goto fail;
	if ((rc = nameidx_layout(b->names)) < 0) {
		if (rc == -2)
			m365_err_set(err, M365_E_INPUT,
			             "a name is listed more than %u times",
			             ENTRY_MAX);
		else
			nomem(err);
		goto fail;
	}
	if (part_lay_out(p, b->pat, b->n_pat, &b->at, err) < 0)
		goto fail;
	b->pass = 2;
	if (feed(b, ctx, err) < 0)
		goto fail;
	p->names = nameidx_finish(b->names);
	p->v4 = range_finish(b->v4);
	p->v6 = range_finish(b->v6);
	b->names = NULL;
	b->v4 = b->v6 = NULL;
	if (p->names == NULL || p->v4 == NULL || p->v6 == NULL) {
		nomem(err);
		goto fail;
	}
	p->pat = b->pat;
	p->n_pat = b->n_pat;
	p->loose = b->loose;
	p->n_loose = b->n_loose;
	p->loose_ip = b->loose_ip;
	p->n_loose_ip = b->n_loose_ip;
	free(b->at);
	free(b);
	return p;
fail:
	if (b != NULL)
		builder_free(b);
	part_free(p);
	return NULL;
}

void
part_free(struct part *p)
{
	if (p == NULL)
		return;
	nameidx_free(p->names);
	range_free(p->v4);
	range_free(p->v6);
	free(p->hot);
	free(p->pat);
	free(p->loose);
	free(p->loose_ip);
	free(p);
}

size_t
part_bytes(const struct part *p)
{
	return p == NULL
	           ? 0
	           : sizeof(*p) + nameidx_bytes(p->names) + range_bytes(p->v4) +
	                 range_bytes(p->v6) + p->n_pat * sizeof(*p->pat) +
	                 p->hot_bytes +
	                 (p->n_loose + p->n_loose_ip) * sizeof(struct idx_item);
}
