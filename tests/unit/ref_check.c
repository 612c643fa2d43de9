/* ref_check.c - the library against the reference, one query at a time
 * (see ref_check.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ref_check.h"

#define S(x) ((x) ? (x) : "(null)")

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
same_verdict(const struct m365_verdict *a, const struct m365_verdict *b)
{
	return a->result == b->result && a->why == b->why && a->set == b->set &&
	       a->rule == b->rule && same_str(a->category, b->category) &&
	       same_str(a->service, b->service) &&
	       same_str(a->message, b->message);
}

static bool
same_host(const struct m365_host *a, const struct m365_host *b)
{
	return a->kind == b->kind && strcmp(a->name, b->name) == 0;
}

static int
cmp_ptr(const void *a, const void *b)
{
	return ((uintptr_t)a > (uintptr_t)b) - ((uintptr_t)a < (uintptr_t)b);
}

static int
cmp_hit(const void *pa, const void *pb)
{
	const struct m365_hit *a = pa, *b = pb;
	int c;

	if (a->on != b->on)
		return (int)a->on - (int)b->on;
	if ((c = cmp_ptr(a->set, b->set)) != 0 ||
	    (c = cmp_ptr(a->rule, b->rule)) != 0)
		return c;
	if ((c = strcmp(S(a->pattern), S(b->pattern))) != 0)
		return c;
	if (a->port_ok != b->port_ok)
		return (int)a->port_ok - (int)b->port_ok;
	return (int)a->selected - (int)b->selected;
}

/* Sorts both (their order is not part of the contract) and compares. */
static bool
same_hits(struct m365_explanation *a, struct m365_explanation *b)
{
	size_t i;

	if (a->n_hits != b->n_hits)
		return false;
	if (a->n_hits == 0)
		return true;
	qsort(a->hits, a->n_hits, sizeof(*a->hits), cmp_hit);
	qsort(b->hits, b->n_hits, sizeof(*b->hits), cmp_hit);
	for (i = 0; i < a->n_hits; i++)
		if (cmp_hit(&a->hits[i], &b->hits[i]) != 0)
			return false;
	return true;
}

/* True when the pattern of a hit is a glob that is neither a name nor a
 * leading "*." suffix. */
static bool
irregular_glob(const struct m365_hit *h)
{
	const char *p = h->pattern, *star = p ? strchr(p, '*') : NULL;

	if (h->rule != NULL && h->rule->kind != M365_RULE_GLOB)
		return false;
	if (star == NULL)
		return false;
	return !(star == p && p[1] == '.' && strchr(p + 1, '*') == NULL);
}

/* True when lib's hits are ref's but for some of ref's irregular glob
 * hits. */
static bool
misses_only_globs(struct m365_explanation *lib, struct m365_explanation *ref)
{
	size_t i = 0, j = 0;

	if (lib->n_hits > 0)
		qsort(lib->hits, lib->n_hits, sizeof(*lib->hits), cmp_hit);
	if (ref->n_hits > 0)
		qsort(ref->hits, ref->n_hits, sizeof(*ref->hits), cmp_hit);
	while (j < ref->n_hits) {
		if (i < lib->n_hits &&
		    cmp_hit(&lib->hits[i], &ref->hits[j]) == 0)
			i++;
		else if (!irregular_glob(&ref->hits[j]))
			return false;
		j++;
	}
	return i == lib->n_hits;
}

static bool
eval_failed(const struct m365_verdict *v)
{
	return v->result == M365_ERR && v->why == M365_WHY_NO_MATCH &&
	       same_str(v->message, "pattern evaluation failed");
}

bool
ref_known_glob_limit(const struct m365_list *l, const struct ref_query *q,
                     const struct m365_verdict *v, struct m365_explanation *lib,
                     struct m365_explanation *ref)
{
	struct m365_verdict sv;

	if (!misses_only_globs(lib, ref) || !same_verdict(v, &lib->verdict))
		return false;
	if (same_verdict(v, &ref->verdict) || eval_failed(v))
		return true;
	if (v->why != M365_WHY_SNI || ref->verdict.result != M365_OK)
		return false;
	m365_classify(l, q->sni, q->has_port ? q->port : NULL, NULL, &sv);
	return eval_failed(&sv);
}

void
ref_print_verdict(FILE *f, const char *who, const struct m365_verdict *v)
{
	fprintf(f,
	        "  %-8s result=%s why=%d set=%s rule=%s category=%s "
	        "service=%s message=%s\n",
	        who, v->result == M365_OK ? "OK" : "ERR", (int)v->why,
	        v->set ? v->set->id_text : "-", v->rule ? v->rule->text : "-",
	        S(v->category), S(v->service), S(v->message));
}

static void
print_hits(FILE *f, const char *who, const struct m365_explanation *e)
{
	size_t i;

	fprintf(f, "  %s: port %d, dst %s \"%s\", sni %s \"%s\", %zu hits\n",
	        who, e->port, m365_host_kind_name(e->dst.kind), e->dst.name,
	        m365_host_kind_name(e->sni.kind), e->sni.name, e->n_hits);
	for (i = 0; i < e->n_hits; i++) {
		const struct m365_hit *h = &e->hits[i];
		fprintf(f, "    %s %s%s%s \"%s\" port_ok=%d selected=%d\n",
		        h->on == M365_ON_DST ? "DST" : "SNI",
		        h->set ? "set " : "rule ",
		        h->set ? h->set->id_text : "",
		        h->rule ? (h->rule->verb == M365_VERB_NEVER ? "never"
		                                                    : "bypass")
		                : "",
		        S(h->pattern), h->port_ok, h->selected);
	}
}

static void
report(struct ref_diff *d, const struct ref_query *q,
       const struct m365_verdict *v, const struct m365_explanation *lib,
       const struct m365_explanation *ref)
{
	FILE *f = d->out;

	fprintf(f, "=== differential: the library and the reference differ\n");
	if (d->c != NULL) {
		fprintf(f, "--- endpoint list (JSON):\n%s\n", d->c->json);
		fprintf(f, "--- local list:\n%s\n",
		        d->c->local ? d->c->local : "(none)");
		fprintf(f, "--- policy: categories=%s service-areas=%s\n",
		        d->c->categories ? d->c->categories : "(default)",
		        d->c->areas ? d->c->areas : "(all)");
	}
	fprintf(f, "--- query: dst=%s%s%s port=%s%s%s sni=%s%s%s\n",
	        q->has_dst ? "\"" : "", q->has_dst ? q->dst : "NULL",
	        q->has_dst ? "\"" : "", q->has_port ? "\"" : "",
	        q->has_port ? q->port : "NULL", q->has_port ? "\"" : "",
	        q->has_sni ? "\"" : "", q->has_sni ? q->sni : "NULL",
	        q->has_sni ? "\"" : "");
	ref_print_verdict(f, "classify", v);
	ref_print_verdict(f, "explain", &lib->verdict);
	ref_print_verdict(f, "ref", &ref->verdict);
	print_hits(f, "library hits", lib);
	print_hits(f, "reference hits", ref);
	fflush(f);
}

bool
ref_check_query(const struct m365_list *l, const struct ref_scan *rs,
                const struct ref_query *q, struct ref_diff *d)
{
	const char *dst = q->has_dst ? q->dst : NULL;
	const char *port = q->has_port ? q->port : NULL;
	const char *sni = q->has_sni ? q->sni : NULL;
	struct m365_explanation lib, ref;
	struct m365_verdict v;
	bool same;

	d->queries++;
	m365_classify(l, dst, port, sni, &v);
	if (m365_explain(l, dst, port, sni, &lib) < 0 ||
	    ref_explain(rs, dst, port, sni, &ref) < 0)
		abort(); /* out of memory */
	d->why[ref.verdict.why]++;
	d->hits += ref.n_hits;
	same = same_verdict(&v, &ref.verdict) &&
	       same_verdict(&lib.verdict, &ref.verdict) &&
	       lib.port == ref.port && same_host(&lib.dst, &ref.dst) &&
	       same_host(&lib.sni, &ref.sni) && same_hits(&lib, &ref);
	if (!same && d->known_glob_limit &&
	    ref_known_glob_limit(l, q, &v, &lib, &ref)) {
		d->known++;
		same = true;
	}
	if (!same && d->mismatches++ < d->max_reports && d->out != NULL)
		report(d, q, &v, &lib, &ref);
	m365_explanation_free(&lib);
	ref_explanation_free(&ref);
	return same;
}
