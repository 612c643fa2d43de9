/* part_match.c - walking a host through compiled parts (see part.h). */
#include <string.h>

#include "bytes.h"
#include "matchdata.h"
#include "part.h"

/* The chain of prefixes of ix holding addr, deepest first. */
static void
walk_range(const struct rangeidx *ix, const uint8_t *addr, part_hit_fn fn,
           void *ctx)
{
	uint32_t at = range_find(ix, addr);

	while (at != RANGE_NONE) {
		const struct range_prefix *pre = range_prefix(ix, at);
		size_t n;
		const struct idx_item *it = range_items(ix, pre, &n);
		fn(ctx, it, n);
		at = pre->parent;
	}
}

/* The mixed hashes of a name's suffixes, computed from its end as far as
 * a walk needs them. */
struct suffixes {
	const struct m365_host *h;
	const struct host_labels *lb;
	uint64_t f[HOST_LABELS_MAX];
	uint64_t rest; /* hash of the suffix after label `low` */
	unsigned low;  /* f[i] is known for i >= low */
};

/* The mixed hash of the suffix that starts at label i. */
static inline uint64_t
suffix_at(struct suffixes *sx, unsigned i)
{
	while (sx->low > i) {
		unsigned k = --sx->low;
		size_t at = sx->lb->start[k];
		size_t end = k + 1 < sx->lb->n
		                 ? (size_t)sx->lb->start[k + 1] - 1
		                 : sx->h->len;
		sx->rest = name_combine(
		    name_label_hash(sx->h->name + at, end - at), sx->rest);
		sx->f[k] = name_mix(sx->rest);
	}
	return sx->f[i];
}

/* Reports the items met at label i (0: the whole name). */
static inline void
hits(const struct part *pt, const struct name_hit *h, unsigned i,
     part_hit_fn fn, part_try_fn try, void *ctx)
{
	enum name_kind k = i == 0 ? NK_EXACT : NK_SUFFIX;

	if (h->n[k] > 0)
		fn(ctx, h->it[k], h->n[k]);
	if (h->n[NK_BUCKET] > 0)
		try(ctx, pt, h->it[NK_BUCKET], h->n[NK_BUCKET]);
}

/*
 * The name through one part, from its last label to its first, as long
 * as the filter says a longer key may end with the suffix: suffix items
 * at a proper suffix, exact items at the whole name, bucket runs at
 * both.
 */
static void
walk_name(const struct part *pt, struct suffixes *sx, part_hit_fn fn,
          part_try_fn try, void *ctx)
{
	const struct nameidx *ix = pt->names;
	const struct m365_host *h = sx->h;
	struct name_hit hit;
	unsigned i = sx->lb->n;

	/* a suffix shorter than every key holds none and leads to all:
	 * the walk starts at the shortest key's length */
	if (nameidx_empty(ix) || i < ix->min_labels)
		return;
	i -= ix->min_labels - 1;
	while (i-- > 0) {
		uint64_t f = suffix_at(sx, i), w = nameidx_word(ix, f);
		size_t at = sx->lb->start[i];
		if (nameidx_may_be_key(w, f) &&
		    nameidx_probe(ix, f, h->name + at, h->len - at, &hit))
			hits(pt, &hit, i, fn, try, ctx);
		/* no longer key ends with this suffix: no key further on */
		if (!nameidx_may_lead(w, f))
			return;
	}
}

void
part_walk(const struct part *const *parts, size_t np,
          const struct part_query *q, part_hit_fn fn, part_try_fn try,
          void *ctx)
{
	const struct m365_host *h = q->host;
	struct suffixes sx;
	size_t p;

	if (h->kind == M365_HOST_NAME) {
		sx.h = h;
		sx.lb = q->lb;
		sx.low = q->lb->n;
		sx.rest = NAME_NONE;
		for (p = 0; p < np; p++)
			if (parts[p] != NULL)
				walk_name(parts[p], &sx, fn, try, ctx);
	}
	for (p = 0; p < np; p++) {
		const struct part *pt = parts[p];
		if (pt == NULL)
			continue;
		if (h->kind == M365_HOST_NAME) {
			if (pt->n_loose > 0)
				try(ctx, pt, pt->loose, pt->n_loose);
			continue;
		}
		if (h->kind == M365_HOST_IPV4)
			walk_range(pt->v4, h->addr, fn, ctx);
		else if (h->kind == M365_HOST_IPV6)
			walk_range(pt->v6, h->addr, fn, ctx);
		else
			continue;
		if (pt->n_loose_ip > 0)
			try(ctx, pt, pt->loose_ip, pt->n_loose_ip);
	}
}

/*
 * shExpMatch on lowercase text: '*' stands for any run of characters,
 * every other character for itself.  Greedy with one point to come back
 * to (the last '*'), so at most len(g) * len(s) steps, and never a failure
 * to answer, however many stars.
 */
static int
glob_match(const char *g, size_t gl, const char *s, size_t sl)
{
	size_t i = 0, j = 0, star = (size_t)-1, mark = 0;

	while (i < sl) {
		if (j < gl && g[j] == '*') {
			star = j++;
			mark = i;
		} else if (j < gl && g[j] == s[i]) {
			i++;
			j++;
		} else if (star != (size_t)-1) {
			j = star + 1;
			i = ++mark;
		} else {
			return 0;
		}
	}
	while (j < gl && g[j] == '*')
		j++;
	return j == gl;
}

int
part_try(const struct part *p, const struct idx_item *it,
         const struct m365_host *h)
{
	const struct pat_head *r = part_block(p, AUX_INDEX(it->aux));
	pcre2_match_context *mc;
	pcre2_match_data *md;
	const pcre2_code *code;
	int rc;

	/* an automaton's rows go on into the next line: both at once */
	if (AUX_INDEX(it->aux) < p->dfa_end)
		__builtin_prefetch((const char *)r + 64);
	if (r->names_only && h->kind != M365_HOST_NAME)
		return 0;
	if (r->how == PAT_DFA)
		return redfa_match(
		    (const struct redfa *)((const char *)r + PAT_DFA_AT),
		    h->name, h->len);
	if (r->how == PAT_GLOB) {
		/* its literal head and tail, then what is left of it, which
		 * starts and ends with '*' ("*" alone takes anything) */
		size_t gl = (size_t)r->len - r->prelen - r->suflen;
		if (h->len < (size_t)r->prelen + r->suflen ||
		    !bytes_same(h->name, r->text, r->prelen) ||
		    !bytes_same(h->name + h->len - r->suflen,
		                r->text + r->len - r->suflen, r->suflen))
			return 0;
		return gl == 1 ||
		       glob_match(r->text + r->prelen, gl, h->name + r->prelen,
		                  h->len - r->prelen - r->suflen);
	}
	if ((md = matchdata_get()) == NULL || (mc = matchctx_get()) == NULL)
		return -1;
	/* the compiled code's own entry, without pcre2_match()'s checks */
	code = p->pat[r->pat].code;
	rc = p->pat[r->pat].jit
	         ? pcre2_jit_match(code, (PCRE2_SPTR)h->name, h->len, 0, 0, md,
	                           mc)
	         : pcre2_match(code, (PCRE2_SPTR)h->name, h->len, 0, 0, md, mc);
	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

const char *
part_pattern_text(const struct part *p, const struct idx_item *it)
{
	return p->pat[part_block(p, AUX_INDEX(it->aux))->pat].text;
}
