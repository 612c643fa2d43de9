/* ref_scan.c - the reference matcher: the contract one pattern at a time
 * (see ref_scan.h). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "redfa.h"
#include "ref_scan.h"

/* The library's PCRE2 bounds on every regex match (docs/security.md). */
#define REF_MATCH_LIMIT 50000
#define REF_DEPTH_LIMIT 500
/* pcre2_dfa_match()'s workspace, in ints */
#define REF_DFA_WS 4096

struct ref_scan {
	const struct m365_endpoints *ep;
	const struct m365_local *local;
	const struct m365_policy *policy;
	pcre2_code **re; /* one per local rule; NULL unless a regex */
	bool *dfa;       /* per local rule: the library's automaton covers it */
	int *ws;         /* pcre2_dfa_match()'s workspace */
	pcre2_match_data *md;
	pcre2_match_context *mc;
};

/* What one normalised host matches at one port. */
struct scan {
	const struct m365_set *best;    /* best matching set that takes the
	                                   port, selected or not */
	const struct m365_rule *never;  /* first never rule that matched */
	const struct m365_rule *bypass; /* first bypass rule that matched */
	bool never_failed;  /* a never regex could not be evaluated */
	bool bypass_failed; /* a bypass regex could not be evaluated */
};

/* The hits being collected, or none. */
struct hits {
	struct m365_explanation *out; /* NULL: do not collect */
	size_t cap;
	bool oom;
};

struct ref_scan *
ref_scan_new(const struct m365_endpoints *ep, const struct m365_local *local,
             const struct m365_policy *policy)
{
	struct ref_scan *rs = calloc(1, sizeof(*rs));
	size_t i, n = local ? local->n_rules : 0;

	if (rs == NULL)
		return NULL;
	rs->ep = ep;
	rs->local = local;
	rs->policy = policy;
	rs->re = calloc(n + 1, sizeof(*rs->re));
	rs->dfa = calloc(n + 1, sizeof(*rs->dfa));
	rs->ws = calloc(REF_DFA_WS, sizeof(*rs->ws));
	rs->md = pcre2_match_data_create(1, NULL);
	rs->mc = pcre2_match_context_create(NULL);
	if (rs->re == NULL || rs->dfa == NULL || rs->ws == NULL ||
	    rs->md == NULL || rs->mc == NULL)
		goto fail;
	pcre2_set_match_limit(rs->mc, REF_MATCH_LIMIT);
	pcre2_set_depth_limit(rs->mc, REF_DEPTH_LIMIT);
	for (i = 0; i < n; i++) {
		const struct m365_rule *r = &local->rules[i];
		struct redfa *dfa;
		PCRE2_SIZE off;
		int code;
		if (r->kind != M365_RULE_REGEX)
			continue;
		rs->re[i] =
		    pcre2_compile((PCRE2_SPTR)(r->text + 3),
		                  PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
		if (rs->re[i] == NULL)
			goto fail;
		/* The library runs its regexes JIT-compiled, and PCRE2
		 * counts the match limit differently under JIT: so do the
		 * same, or patterns near the limit would fail on one side
		 * only.  Without JIT the interpreter is used on both. */
		(void)pcre2_jit_compile(rs->re[i], PCRE2_JIT_COMPLETE);
		/* only whether the library covers it, not its answers */
		dfa = redfa_compile(r->text + 3, strlen(r->text + 3), NULL);
		rs->dfa[i] = dfa != NULL;
		redfa_free(dfa);
	}
	return rs;
fail:
	ref_scan_free(rs);
	return NULL;
}

void
ref_scan_free(struct ref_scan *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; rs->re && rs->local && i < rs->local->n_rules; i++)
		pcre2_code_free(rs->re[i]);
	free(rs->re);
	free(rs->dfa);
	free(rs->ws);
	pcre2_match_data_free(rs->md);
	pcre2_match_context_free(rs->mc);
	free(rs);
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
ref_port_parse(const char *s)
{
	long v = 0;
	size_t digits = 0;

	if (s == NULL || strcmp(s, "-") == 0)
		return -1;
	while (*s) {
		int c = (unsigned char)*s;
		if (c == '%' && hex_digit(s[1]) >= 0 && hex_digit(s[2]) >= 0) {
			c = hex_digit(s[1]) * 16 + hex_digit(s[2]);
			s += 3;
		} else {
			s++;
		}
		if (c < '0' || c > '9' || ++digits > 5)
			return 0;
		v = v * 10 + (c - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : 0;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool
ref_glob_match(const char *g, const char *s)
{
	const char *star = NULL, *resume = NULL;

	/* Greedy with one backtrack point: on a mismatch, let the last '*'
	 * seen swallow one more character and try again from there. */
	while (*s != '\0') {
		if (*g == '*') {
			star = g++;
			resume = s;
		} else if (*g != '\0' && lower(*g) == lower(*s)) {
			g++;
			s++;
		} else if (star != NULL) {
			g = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*g == '*')
		g++;
	return *g == '\0';
}

bool
ref_cidr_contains(const struct m365_cidr *c, const struct m365_host *h)
{
	uint8_t a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned i;

	/* an IPv4 address is also its IPv4-mapped IPv6 address, which an
	 * IPv6 range may hold (contract.md) */
	if (c->family == AF_INET6 && h->kind == M365_HOST_IPV4)
		memcpy(a + 12, h->addr, 4);
	else if ((c->family == AF_INET && h->kind == M365_HOST_IPV4) ||
	         (c->family == AF_INET6 && h->kind == M365_HOST_IPV6))
		memcpy(a, h->addr, c->family == AF_INET ? 4 : 16);
	else
		return false;
	for (i = 0; i < c->plen; i++) {
		unsigned bit = 7 - i % 8;
		if (((c->addr[i / 8] >> bit) & 1) != ((a[i / 8] >> bit) & 1))
			return false;
	}
	return true;
}

bool
ref_selects(const struct m365_policy *p, const struct m365_set *s)
{
	size_t i;

	if (s->category == M365_CAT_OTHER ||
	    (p->categories & (1u << s->category)) == 0)
		return false;
	if (p->areas == NULL)
		return true;
	for (i = 0; i < p->n_areas; i++)
		if (strcmp(p->areas[i], s->service_area) == 0)
			return true;
	return false;
}

static bool
takes_port(const struct m365_set *s, int port)
{
	uint32_t i;

	if (port < 0)
		return true;
	for (i = 0; i < s->tcp.n; i++)
		if (port >= s->tcp.r[i].lo && port <= s->tcp.r[i].hi)
			return true;
	return false;
}

/* True when set a ranks before set b: selected, category, lowest id. */
static bool
ranks_before(const struct m365_policy *p, const struct m365_set *a,
             const struct m365_set *b)
{
	bool sa = ref_selects(p, a), sb = ref_selects(p, b);

	if (sa != sb)
		return sa;
	if (a->category != b->category)
		return a->category < b->category;
	return a->id < b->id;
}

static void
add_hit(struct hits *hs, enum m365_on on, const struct m365_set *s,
        const struct m365_rule *r, const char *pattern, bool port_ok,
        bool selected)
{
	struct m365_explanation *e = hs->out;
	struct m365_hit *h;

	if (e == NULL || hs->oom)
		return;
	if (e->n_hits == hs->cap) {
		size_t cap = hs->cap ? hs->cap * 2 : 16;
		if ((h = realloc(e->hits, cap * sizeof(*h))) == NULL) {
			hs->oom = true;
			return;
		}
		e->hits = h;
		hs->cap = cap;
	}
	h = &e->hits[e->n_hits++];
	memset(h, 0, sizeof(*h));
	h->on = on;
	h->set = s;
	h->rule = r;
	h->pattern = pattern;
	h->port_ok = port_ok;
	h->selected = selected;
}

/* 1 when a local rule matches h, 0 when not, -1 when its regex cannot be
 * evaluated. */
static int
rule_matches(const struct ref_scan *rs, size_t i, const struct m365_host *h)
{
	const struct m365_rule *r = &rs->local->rules[i];
	struct m365_cidr c;
	size_t dl;
	int rc;

	switch (r->kind) {
	case M365_RULE_GLOB:
		return h->kind == M365_HOST_NAME &&
		       ref_glob_match(r->glob, h->name);
	case M365_RULE_CIDR:
		m365_rule_cidr(r, &c);
		return ref_cidr_contains(&c, h);
	case M365_RULE_REGEX: break;
	}
	/* A bypass regex is bound to its literal domain: the name must be
	 * it or end in "." it, and an IP literal never is.  A never regex
	 * is tried on every host's text, IP literals included. */
	if (r->verb == M365_VERB_BYPASS && r->domain != NULL) {
		dl = strlen(r->domain);
		if (h->kind != M365_HOST_NAME || h->len < dl ||
		    strcmp(h->name + h->len - dl, r->domain) != 0 ||
		    (h->len > dl && h->name[h->len - dl - 1] != '.'))
			return 0;
	}
	rc = pcre2_match(rs->re[i], (PCRE2_SPTR)h->name, h->len, 0, 0, rs->md,
	                 rs->mc);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc >= 0)
		return 1;
	/* The library runs the expressions its automaton covers (redfa.h)
	 * without backtracking, so they never fail to evaluate: for those,
	 * the answer of PCRE2's own non-backtracking matcher. */
	if (!rs->dfa[i])
		return -1;
	rc = pcre2_dfa_match(rs->re[i], (PCRE2_SPTR)h->name, h->len, 0, 0,
	                     rs->md, NULL, rs->ws, REF_DFA_WS);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return rc >= 0 ? 1 : -1;
}

/* Tries every pattern of the lists on h (a NAME, IPV4 or IPV6). */
static void
scan_host(const struct ref_scan *rs, const struct m365_host *h, int port,
          enum m365_on on, struct hits *hs, struct scan *sc)
{
	size_t i, j;

	memset(sc, 0, sizeof(*sc));
	for (i = 0; i < rs->ep->n_sets; i++) {
		const struct m365_set *s = &rs->ep->sets[i];
		bool port_ok = takes_port(s, port),
		     sel = ref_selects(rs->policy, s);
		size_t n = 0;
		for (j = 0; j < s->n_urls; j++)
			if (h->kind == M365_HOST_NAME &&
			    ref_glob_match(s->urls[j], h->name)) {
				add_hit(hs, on, s, NULL, s->urls[j], port_ok,
				        sel);
				n++;
			}
		for (j = 0; j < s->n_ips; j++)
			if (ref_cidr_contains(&s->ips[j], h)) {
				add_hit(hs, on, s, NULL, s->ips[j].text,
				        port_ok, sel);
				n++;
			}
		if (n > 0 && port_ok &&
		    (sc->best == NULL || ranks_before(rs->policy, s, sc->best)))
			sc->best = s;
	}
	for (i = 0; rs->local != NULL && i < rs->local->n_rules; i++) {
		const struct m365_rule *r = &rs->local->rules[i];
		int m = rule_matches(rs, i, h);
		bool never = r->verb == M365_VERB_NEVER;
		if (m < 0) {
			*(never ? &sc->never_failed : &sc->bypass_failed) =
			    true;
			continue;
		}
		if (m == 0)
			continue;
		add_hit(hs, on, NULL, r, r->text, true, true);
		if (never && sc->never == NULL)
			sc->never = r;
		if (!never && sc->bypass == NULL)
			sc->bypass = r;
	}
}

static void
answer(struct m365_verdict *v, enum m365_result r, enum m365_why why,
       const char *message)
{
	memset(v, 0, sizeof(*v));
	v->result = r;
	v->why = why;
	v->message = message;
}

static void
with_set(struct m365_verdict *v, const struct m365_set *s)
{
	v->set = s;
	v->category = s->category_name;
	v->service = s->service_area;
}

/*
 * The answer for one host from its scan: a failed evaluation of a never
 * rule fails the answer; a never rule wins over everything; then the best
 * selected set; the local bypass rules only when no selected set matched
 * (their failed evaluation then fails the answer); then the best
 * unselected set, carried by the ERR.
 */
static void
judge(const struct ref_scan *rs, const struct scan *sc, struct m365_verdict *v)
{
	if (sc->never_failed)
		return answer(v, M365_ERR, M365_WHY_NO_MATCH,
		              "pattern evaluation failed");
	if (sc->never != NULL) {
		answer(v, M365_ERR, M365_WHY_NEVER, "local never rule");
		v->rule = sc->never;
		return;
	}
	if (sc->best != NULL && ref_selects(rs->policy, sc->best)) {
		answer(v, M365_OK, M365_WHY_SET, NULL);
		return with_set(v, sc->best);
	}
	if (sc->bypass_failed)
		return answer(v, M365_ERR, M365_WHY_NO_MATCH,
		              "pattern evaluation failed");
	if (sc->bypass != NULL) {
		answer(v, M365_OK, M365_WHY_LOCAL, NULL);
		v->rule = sc->bypass;
		v->category = v->service = "Local";
		return;
	}
	if (sc->best != NULL) {
		answer(v, M365_ERR, M365_WHY_UNSELECTED, NULL);
		return with_set(v, sc->best);
	}
	answer(v, M365_ERR, M365_WHY_NO_MATCH, NULL);
}

static bool
is_ip_or_name(const struct m365_host *h)
{
	return h->kind == M365_HOST_NAME || h->kind == M365_HOST_IPV4 ||
	       h->kind == M365_HOST_IPV6;
}

static void
normalise(const char *s, struct m365_host *h)
{
	m365_host_normalize(s, s ? strlen(s) : 0, h);
}

int
ref_explain(const struct ref_scan *rs, const char *dst, const char *port,
            const char *sni, struct m365_explanation *out)
{
	struct hits hs = {.out = out};
	struct scan d, s;
	struct m365_verdict *v = &out->verdict;

	memset(out, 0, sizeof(*out));
	normalise(dst, &out->dst);
	normalise(sni, &out->sni);
	out->port = ref_port_parse(port);
	/* every match is listed whenever the port is valid */
	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	if (out->port != 0 && is_ip_or_name(&out->dst))
		scan_host(rs, &out->dst, out->port, M365_ON_DST, &hs, &d);
	if (out->port != 0 && is_ip_or_name(&out->sni))
		scan_host(rs, &out->sni, out->port, M365_ON_SNI, &hs, &s);
	if (hs.oom) {
		ref_explanation_free(out);
		return -1;
	}
	if (out->dst.kind == M365_HOST_NONE)
		answer(v, M365_ERR, M365_WHY_NO_DST, "missing destination");
	else if (out->dst.kind == M365_HOST_INVALID)
		answer(v, M365_ERR, M365_WHY_BAD_DST, "invalid destination");
	else if (out->port == 0)
		answer(v, M365_ERR, M365_WHY_BAD_PORT, "invalid port");
	else if (out->sni.kind == M365_HOST_INVALID)
		answer(v, M365_ERR, M365_WHY_BAD_SNI, "invalid SNI");
	else
		judge(rs, &d, v);
	/* the SNI only ever narrows: when given and not the destination
	 * itself, it must be a bypass on its own too */
	if (v->result == M365_OK && out->sni.kind != M365_HOST_NONE &&
	    !(out->sni.kind == out->dst.kind &&
	      strcmp(out->sni.name, out->dst.name) == 0)) {
		struct m365_verdict sv;
		judge(rs, &s, &sv);
		if (sv.result != M365_OK)
			answer(v, M365_ERR, M365_WHY_SNI,
			       "SNI is not a bypass");
	}
	return 0;
}

void
ref_explanation_free(struct m365_explanation *e)
{
	if (e == NULL)
		return;
	free(e->hits);
	e->hits = NULL;
	e->n_hits = 0;
}
