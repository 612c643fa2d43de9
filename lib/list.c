/* list.c - building and sharing compiled lists (see m365_list.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list_impl.h"
#include "m365_breadth.h"

static int
cmp_rank(const void *a, const void *b, void *arg)
{
	const struct m365_set *x = *(const struct m365_set *const *)a;
	const struct m365_set *y = *(const struct m365_set *const *)b;
	const struct m365_policy *p = arg;
	int sx = !m365_policy_selects(p, x), sy = !m365_policy_selects(p, y);

	if (sx != sy)
		return sx - sy;
	if (x->category != y->category)
		return (int)x->category - (int)y->category;
	return (x->id > y->id) - (x->id < y->id);
}

static int
copy_policy(struct m365_policy *dst, const struct m365_policy *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->categories = src->categories;
	dst->categories_opt = src->categories_opt;
	dst->areas_opt = src->areas_opt;
	if (src->areas == NULL)
		return 0;
	if ((dst->areas = calloc(src->n_areas + 1, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < src->n_areas; i++) {
		if ((dst->areas[i] = strdup(src->areas[i])) == NULL)
			return -1;
		dst->n_areas++;
	}
	return 0;
}

/* Adds every Microsoft pattern under its set's rank. */
static int
feed_sets(struct part_builder *b, void *ctx, struct m365_err *err)
{
	const struct ms_side *ms = ctx;
	size_t r, j;

	for (r = 0; r < ms->ep->n_sets; r++) {
		const struct m365_set *s = ms->rank[r];
		for (j = 0; j < s->n_urls; j++)
			if (part_add_glob(b, s->urls[j], G_MS, (uint32_t)r,
			                  (uint32_t)j, s->urls[j], err) < 0)
				return m365_err_prefix(err, "%s: set %lld",
				                       ms->ep->source,
				                       (long long)s->id);
		for (j = 0; j < s->n_ips; j++)
			if (part_add_cidr(b, s->ips[j].family, s->ips[j].addr,
			                  s->ips[j].plen, G_MS, (uint32_t)r,
			                  (uint32_t)j, err) < 0)
				return m365_err_prefix(err, "%s",
				                       ms->ep->source);
	}
	return 0;
}

/* Adds every local rule, bypass or never, under its index. */
static int
feed_rules(struct part_builder *b, void *ctx, struct m365_err *err)
{
	const struct m365_local *loc = ctx;
	size_t i;

	for (i = 0; i < loc->n_rules; i++) {
		const struct m365_rule *r = &loc->rules[i];
		enum part_group g =
		    r->verb == M365_VERB_BYPASS ? G_BYPASS : G_NEVER;
		int rc;
		if (r->kind == M365_RULE_GLOB)
			rc = part_add_glob(b, r->glob, g, (uint32_t)i, 0,
			                   r->text, err);
		else if (r->kind == M365_RULE_CIDR)
			rc = part_add_cidr(b, m365_rule_family(r), r->addr,
			                   r->plen, g, (uint32_t)i, 0, err);
		else
			rc = part_add_regex(b, r->re, r->text + 3,
			                    g == G_BYPASS ? r->domain : NULL, g,
			                    (uint32_t)i, r->text, err);
		if (rc < 0)
			return m365_err_prefix(err, "%s:%u", loc->source,
			                       r->line);
	}
	return 0;
}

static void
ms_unref(struct ms_side *ms)
{
	if (ms == NULL ||
	    atomic_fetch_sub_explicit(&ms->refs, 1, memory_order_acq_rel) != 1)
		return;
	part_free(ms->part);
	answers_free(ms->ans);
	free(ms->rank);
	free(ms->web);
	m365_policy_free(&ms->policy);
	m365_endpoints_free(ms->ep);
	free(ms);
}

/* Microsoft's side: ep (owned) checked and compiled under the policy. */
static struct ms_side *
ms_build(struct m365_endpoints *ep, const struct m365_policy *policy,
         m365_answer_fn answer, struct m365_err *err)
{
	struct ms_side *ms = calloc(1, sizeof(*ms));
	size_t i;

	if (ms == NULL) {
		m365_endpoints_free(ep);
		m365_err_set(err, M365_E_NOMEM, "out of memory");
		return NULL;
	}
	atomic_init(&ms->refs, 1);
	ms->ep = ep;
	if (m365_policy_check_areas(policy, ep, err) < 0 ||
	    m365_breadth_check(ep, policy, err) < 0)
		goto fail;
	if (copy_policy(&ms->policy, policy) < 0 ||
	    (ms->rank = calloc(ep->n_sets + 1, sizeof(*ms->rank))) == NULL ||
	    (ms->web = calloc(ep->n_sets + 1, 1)) == NULL) {
		m365_err_set(err, M365_E_NOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < ep->n_sets; i++) {
		ms->rank[i] = &ep->sets[i];
		ms->n_selected += m365_policy_selects(policy, &ep->sets[i]);
	}
	qsort_r(ms->rank, ep->n_sets, sizeof(*ms->rank), cmp_rank, &ms->policy);
	for (i = 0; i < ep->n_sets; i++)
		ms->web[i] =
		    (uint8_t)((m365_ports_contains(&ms->rank[i]->tcp, 443)
		                   ? PORT_443
		                   : 0) |
		              (m365_ports_contains(&ms->rank[i]->tcp, 80)
		                   ? PORT_80
		                   : 0));
	if ((ms->part = part_build(feed_sets, ms, ep->n_urls, err)) == NULL)
		goto fail;
	if (answer != NULL && (ms->ans = answers_build(ms, answer)) == NULL) {
		m365_err_set(err, M365_E_NOMEM, "out of memory");
		goto fail;
	}
	return ms;
fail:
	ms_unref(ms);
	return NULL;
}

struct m365_local_index *
m365_local_index_new(struct m365_local *local, struct m365_err *err)
{
	struct m365_local_index *li = calloc(1, sizeof(*li));
	size_t i;

	if (li == NULL) {
		m365_local_free(local);
		m365_err_set(err, M365_E_NOMEM, "out of memory");
		return NULL;
	}
	atomic_init(&li->refs, 1);
	li->local = local;
	for (i = 0; i < local->n_rules; i++)
		li->n_bypass += local->rules[i].verb == M365_VERB_BYPASS;
	if ((li->part = part_build(feed_rules, local, local->n_rules, err)) ==
	    NULL) {
		m365_local_index_unref(li);
		return NULL;
	}
	return li;
}

struct m365_local_index *
m365_local_index_ref(struct m365_local_index *li)
{
	atomic_fetch_add_explicit(&li->refs, 1, memory_order_relaxed);
	return li;
}

void
m365_local_index_unref(struct m365_local_index *li)
{
	if (li == NULL ||
	    atomic_fetch_sub_explicit(&li->refs, 1, memory_order_acq_rel) != 1)
		return;
	part_free(li->part);
	m365_local_free(li->local);
	free(li);
}

const struct m365_local *
m365_local_of(const struct m365_local_index *li)
{
	return li->local;
}

/* A list over ms and li (taking over the reference on ms, adding one on
 * li); NULL with err set. */
static struct m365_list *
assemble(struct ms_side *ms, struct m365_local_index *li, struct m365_err *err)
{
	struct m365_list *l;
	char desc[256];

	if (ms->n_selected == 0 && (li == NULL || li->n_bypass == 0)) {
		m365_err_set(
		    err, M365_E_INPUT,
		    "%s, %s: the policy (%s) selects no endpoint set of "
		    "%s",
		    ms->policy.categories_opt, ms->policy.areas_opt,
		    m365_policy_describe(&ms->policy, desc, sizeof(desc)),
		    ms->ep->source);
		ms_unref(ms);
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		m365_err_set(err, M365_E_NOMEM, "out of memory");
		ms_unref(ms);
		return NULL;
	}
	atomic_init(&l->refs, 1);
	l->ms = ms;
	l->loc = li ? m365_local_index_ref(li) : NULL;
	l->rank = ms->rank;
	l->web = ms->web;
	l->n_selected = ms->n_selected;
	l->local = li ? li->local : NULL;
	l->parts[0] = ms->part;
	l->parts[1] = li ? li->part : NULL;
	l->ans = ms->ans;
	return l;
}

struct m365_list *
m365_list_build_index(struct m365_endpoints *ep, struct m365_local_index *li,
                      const struct m365_policy *policy, m365_answer_fn answer,
                      struct m365_err *err)
{
	struct ms_side *ms = ms_build(ep, policy, answer, err);

	return ms ? assemble(ms, li, err) : NULL;
}

struct m365_list *
m365_list_with_local(const struct m365_list *l, struct m365_local_index *li,
                     struct m365_err *err)
{
	atomic_fetch_add_explicit(&l->ms->refs, 1, memory_order_relaxed);
	return assemble(l->ms, li, err);
}

struct m365_local_index *
m365_list_local_index(const struct m365_list *l)
{
	return l->loc;
}

struct m365_list *
m365_list_build(struct m365_endpoints *ep, struct m365_local *local,
                const struct m365_policy *policy, struct m365_err *err)
{
	struct m365_local_index *li = NULL;
	struct m365_list *l;

	if (local != NULL && (li = m365_local_index_new(local, err)) == NULL) {
		m365_endpoints_free(ep);
		return NULL;
	}
	l = m365_list_build_index(ep, li, policy, NULL, err);
	m365_local_index_unref(li);
	return l;
}

struct m365_local_index *
m365_local_index_load(const struct m365_options *opt, struct m365_err *err)
{
	struct m365_local *local;

	local = m365_local_load_file_max(
	    opt->local, opt->local_max_bytes,
	    M365_OPTION_NAME(opt->names, local_max_bytes, NULL), err);
	if (local == NULL) {
		if (opt->names && opt->names->local)
			m365_err_prefix(err, "%s", opt->names->local);
		return NULL;
	}
	return m365_local_index_new(local, err);
}

struct m365_list *
m365_list_build_opt(struct m365_endpoints *ep, const struct m365_options *opt,
                    struct m365_err *err)
{
	struct m365_local_index *li = NULL;
	struct m365_policy policy;
	struct m365_list *l;

	if (m365_policy_init(&policy, opt->categories, opt->service_areas,
	                     opt->names, err) < 0) {
		m365_endpoints_free(ep);
		return NULL;
	}
	if (opt->local && (li = m365_local_index_load(opt, err)) == NULL) {
		m365_endpoints_free(ep);
		m365_policy_free(&policy);
		return NULL;
	}
	l = m365_list_build_index(ep, li, &policy, opt->answer, err);
	m365_local_index_unref(li);
	m365_policy_free(&policy);
	return l;
}

struct m365_list *
m365_list_load(const struct m365_options *opt, struct m365_err *err)
{
	struct m365_endpoints *ep;

	ep = opt->list ? m365_endpoints_load_file(opt->list, err)
	               : m365_endpoints_load_bundled(err);
	if (ep == NULL) {
		if (opt->list && opt->names && opt->names->list)
			m365_err_prefix(err, "%s", opt->names->list);
		return NULL;
	}
	return m365_list_build_opt(ep, opt, err);
}

struct m365_list *
m365_list_ref(struct m365_list *l)
{
	atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
	return l;
}

void
m365_list_unref(struct m365_list *l)
{
	if (l == NULL ||
	    atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) != 1)
		return;
	ms_unref(l->ms);
	m365_local_index_unref(l->loc);
	free(l);
}

const struct m365_endpoints *
m365_list_endpoints(const struct m365_list *l)
{
	return l->ms->ep;
}

const struct m365_local *
m365_list_local(const struct m365_list *l)
{
	return l->local;
}

const struct m365_policy *
m365_list_policy(const struct m365_list *l)
{
	return &l->ms->policy;
}

size_t
m365_list_selected(const struct m365_list *l)
{
	return l->n_selected;
}

char *
m365_list_describe(const struct m365_list *l, char *buf, size_t len)
{
	char pol[256];

	snprintf(buf, len,
	         "%s: %zu sets (%zu selected), %zu urls, %zu ips; %s; local "
	         "rules: %zu",
	         l->ms->ep->source, l->ms->ep->n_sets, l->n_selected,
	         l->ms->ep->n_urls, l->ms->ep->n_ips,
	         m365_policy_describe(&l->ms->policy, pol, sizeof(pol)),
	         l->local ? l->local->n_rules : 0);
	return buf;
}

size_t
m365_list_index_bytes(const struct m365_list *l, size_t *local)
{
	size_t loc = l->loc ? part_bytes(l->loc->part) : 0;

	if (local != NULL)
		*local = loc;
	return part_bytes(l->ms->part) + loc;
}
