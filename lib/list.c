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

/* Puts every Microsoft pattern into l->ms under its set's rank. */
static int
index_sets(struct m365_list *l, struct m365_err *err)
{
	size_t r, j;

	for (r = 0; r < l->ep->n_sets; r++) {
		const struct m365_set *s = l->rank[r];
		for (j = 0; j < s->n_urls; j++)
			if (index_add_glob(l->ms, s->urls[j], (uint32_t)r,
			                   s->urls[j], err) < 0)
				return m365_err_prefix(err, "%s: set %lld",
				                       l->ep->source,
				                       (long long)s->id);
		for (j = 0; j < s->n_ips; j++)
			if (index_add_cidr(l->ms, &s->ips[j], (uint32_t)r,
			                   s->ips[j].text) < 0)
				return m365_err_set(err, M365_E_NOMEM,
				                    "%s: out of memory",
				                    l->ep->source);
	}
	if (index_finish(l->ms, err) < 0)
		return m365_err_prefix(err, "%s", l->ep->source);
	return 0;
}

/* Puts every local rule into l->bypass or l->never; returns the number of
 * bypass rules, or -1. */
static long
index_local(struct m365_list *l, struct m365_err *err)
{
	size_t i;
	long n_bypass = 0;

	for (i = 0; l->local && i < l->local->n_rules; i++) {
		struct m365_rule *r = &l->local->rules[i];
		struct index *ix =
		    r->verb == M365_VERB_BYPASS ? l->bypass : l->never;
		int rc;
		n_bypass += r->verb == M365_VERB_BYPASS;
		if (r->kind == M365_RULE_GLOB)
			rc = index_add_glob(ix, r->glob, (uint32_t)i, r->text,
			                    err);
		else if (r->kind == M365_RULE_CIDR)
			rc = index_add_cidr(ix, &r->cidr, (uint32_t)i, r->text);
		else
			rc = index_add_regex(
			    ix, r->re, (uint32_t)i, r->text,
			    r->verb == M365_VERB_BYPASS ? r->domain : NULL);
		if (rc < 0)
			return m365_err_set(err, M365_E_NOMEM,
			                    "%s:%u: cannot index rule: out of "
			                    "memory",
			                    l->local->source, r->line);
	}
	if (index_finish(l->bypass, err) < 0 || index_finish(l->never, err) < 0)
		return m365_err_prefix(err, "%s", l->local->source);
	return n_bypass;
}

struct m365_list *
m365_list_build(struct m365_endpoints *ep, struct m365_local *local,
                const struct m365_policy *policy, struct m365_err *err)
{
	struct m365_list *l = calloc(1, sizeof(*l));
	char desc[256];
	size_t i;
	long n_bypass;

	if (l == NULL) {
		m365_endpoints_free(ep);
		m365_local_free(local);
		m365_err_set(err, M365_E_NOMEM, "out of memory");
		return NULL;
	}
	atomic_init(&l->refs, 1);
	l->ep = ep;
	l->local = local;
	if (m365_policy_check_areas(policy, ep, err) < 0 ||
	    m365_breadth_check(ep, policy, err) < 0)
		goto fail;
	if (copy_policy(&l->policy, policy) < 0 ||
	    (l->rank = calloc(ep->n_sets + 1, sizeof(*l->rank))) == NULL ||
	    (l->ms = index_new()) == NULL ||
	    (l->bypass = index_new()) == NULL ||
	    (l->never = index_new()) == NULL) {
		m365_err_set(err, M365_E_NOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < ep->n_sets; i++) {
		l->rank[i] = &ep->sets[i];
		l->n_selected += m365_policy_selects(policy, &ep->sets[i]);
	}
	qsort_r(l->rank, ep->n_sets, sizeof(*l->rank), cmp_rank, &l->policy);
	if (index_sets(l, err) < 0 || (n_bypass = index_local(l, err)) < 0)
		goto fail;
	if (l->n_selected == 0 && n_bypass == 0) {
		m365_err_set(
		    err, M365_E_INPUT,
		    "%s, %s: the policy (%s) selects no endpoint set of "
		    "%s",
		    policy->categories_opt, policy->areas_opt,
		    m365_policy_describe(policy, desc, sizeof(desc)),
		    ep->source);
		goto fail;
	}
	return l;
fail:
	atomic_store(&l->refs, 1);
	m365_list_unref(l);
	return NULL;
}

struct m365_list *
m365_list_build_opt(struct m365_endpoints *ep, const struct m365_options *opt,
                    struct m365_err *err)
{
	struct m365_local *local = NULL;
	struct m365_policy policy;
	struct m365_list *l;

	if (m365_policy_init(&policy, opt->categories, opt->service_areas,
	                     opt->names, err) < 0) {
		m365_endpoints_free(ep);
		return NULL;
	}
	if (opt->local &&
	    (local = m365_local_load_file(opt->local, err)) == NULL) {
		if (opt->names && opt->names->local)
			m365_err_prefix(err, "%s", opt->names->local);
		m365_endpoints_free(ep);
		m365_policy_free(&policy);
		return NULL;
	}
	l = m365_list_build(ep, local, &policy, err);
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
	index_free(l->ms);
	index_free(l->bypass);
	index_free(l->never);
	free(l->rank);
	m365_policy_free(&l->policy);
	m365_local_free(l->local);
	m365_endpoints_free(l->ep);
	free(l);
}

const struct m365_endpoints *
m365_list_endpoints(const struct m365_list *l)
{
	return l->ep;
}

const struct m365_local *
m365_list_local(const struct m365_list *l)
{
	return l->local;
}

const struct m365_policy *
m365_list_policy(const struct m365_list *l)
{
	return &l->policy;
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
	         l->ep->source, l->ep->n_sets, l->n_selected, l->ep->n_urls,
	         l->ep->n_ips,
	         m365_policy_describe(&l->policy, pol, sizeof(pol)),
	         l->local ? l->local->n_rules : 0);
	return buf;
}
