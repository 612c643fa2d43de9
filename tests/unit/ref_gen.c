/* ref_gen.c - generated endpoint lists, local lists and policies for the
 * differential test (see ref_gen.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_gen.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(r, a) ((a)[ref_rng_below((r), N(a))])

static const char *const domains[] = {"microsoft.com",  "teams.microsoft.com",
                                      "office.com",     "office365.com",
                                      "sharepoint.com", "onmicrosoft.com",
                                      "onenote.net",    "lync.com",
                                      "example.net",    "contoso.org",
                                      "fabrikam.co.uk", "cloud.microsoft",
                                      "b-c.example.com"};
static const char *const labels[] = {
    "teams",        "outlook", "a",     "x1",  "meet-1", "_sip",
    "autodiscover", "cdn",     "files", "www", "b",      "0",
    "tenant",       "login",   "aa",    "a-b", "zz-0a",  "x"};
static const char *const areas[] = {"Exchange", "Skype", "SharePoint", "Common",
                                    "Custom_1"};
static const char *const ports[] = {
    "443",       "80,443",         "80, 443",    "443,3478-3481",
    "1024-2047", "8080-8090, 443", "25,587",     "",
    "443, 80",   "1-443",          "65000-65535"};

/* Ranges to draw addresses from: broad enough to nest, narrow enough for
 * the breadth limits. */
static const char *const v4_parents[] = {
    "52.112.0.0/14",  "13.107.0.0/16",   "40.96.0.0/13", "198.18.0.0/15",
    "203.0.113.0/24", "20.190.128.0/18", "192.0.2.0/24", "10.20.0.0/16"};
static const char *const v6_parents[] = {
    "2603:1063::/38", "2620:1ec:4::/48", "2a01:111:f400::/48",
    "2001:db8::/32",  "2603:1000::/29",  "fe80::/64"};

/* A random domain; usually from the list, sometimes a fresh one. */
static void
gen_domain(struct ref_rng *r, char *out, size_t cap)
{
	if (ref_rng_pct(r, 85))
		snprintf(out, cap, "%s", PICK(r, domains));
	else
		snprintf(out, cap, "r%u.net", ref_rng_below(r, 50));
}

/* True when g is a glob the endpoint parser takes (no empty label). */
static bool
glob_ok(const char *g)
{
	size_t n = strlen(g);

	return n > 0 && n <= 253 && g[0] != '.' && g[n - 1] != '.' &&
	       strstr(g, "..") == NULL;
}

/* A url pattern: exact, "*." suffix, or irregular with up to max_stars
 * stars, always pinned to a domain that is not a public suffix. */
static void
gen_glob(struct ref_rng *r, const struct ref_gen_opts *o, char *out, size_t cap)
{
	static const char *const pieces[] = {"",   "a",   "-",      "x.",
	                                     "b.", "cdn", "-files", "0"};
	char d[96], body[200];
	const char *tail, *sep;
	unsigned kind = ref_rng_below(r, 10), k, stars;
	size_t n = 0;
	bool dot_end;

	gen_domain(r, d, sizeof(d));
	/* (one draw a statement: the order in which a compiler evaluates
	 * arguments must not change what is drawn) */
	if (kind < 3) {
		const char *l1 = PICK(r, labels);
		sep = ref_rng_pct(r, 30) ? "." : "";
		tail = ref_rng_pct(r, 30) ? PICK(r, labels) : "";
		snprintf(out, cap, "%s%s%s.%s", l1, sep, tail, d);
	} else if (kind < 5) {
		sep = ref_rng_pct(r, 30) ? "x." : "";
		tail = ref_rng_pct(r, 20) ? "a." : "";
		snprintf(out, cap, "*.%s%s%s", sep, tail, d);
	} else if (kind == 5) {
		snprintf(out, cap, "autodiscover.*.%s", d);
	} else if (kind == 6) {
		snprintf(out, cap, "*%s.%s", PICK(r, labels), d);
	} else if (kind == 7) {
		snprintf(out, cap, "*-%s.%s", PICK(r, labels), d);
	} else {
		stars = 2 + ref_rng_below(r, o->max_stars > 1 ? o->max_stars - 1
		                                              : 1);
		if (stars > o->max_stars)
			stars = o->max_stars;
		body[0] = '\0';
		if (ref_rng_pct(r, 50))
			n += (size_t)snprintf(body, sizeof(body), "%s",
			                      PICK(r, labels));
		for (k = 0; k < stars && n + 12 < sizeof(body); k++)
			n += (size_t)snprintf(body + n, sizeof(body) - n, "*%s",
			                      PICK(r, pieces));
		/* after the last star: ".domain" or "label.domain" */
		dot_end = n > 0 && body[n - 1] == '.';
		tail = dot_end || ref_rng_pct(r, 50) ? PICK(r, labels) : "";
		sep = !dot_end && tail[0] && ref_rng_pct(r, 50) ? "." : "";
		snprintf(out, cap, "%s%s%s.%s", body, sep, tail, d);
	}
	if (!glob_ok(out))
		snprintf(out, cap, "%s.%s", PICK(r, labels), d);
}

/* Parses "addr/plen" (a table entry) into addr[16] and *plen. */
static int
parse_cidr(const char *text, uint8_t *addr, unsigned *plen)
{
	char a[64];
	const char *slash = strchr(text, '/');

	snprintf(a, sizeof(a), "%.*s", (int)(slash - text), text);
	*plen = (unsigned)atoi(slash + 1);
	memset(addr, 0, 16);
	return inet_pton(strchr(a, ':') ? AF_INET6 : AF_INET, a, addr) == 1
	           ? (strchr(a, ':') ? AF_INET6 : AF_INET)
	           : -1;
}

/* A range inside a parent range: the parent itself, a random subrange,
 * a host route; sometimes written with host bits set. */
static void
gen_cidr(struct ref_rng *r, char *out, size_t cap)
{
	uint8_t addr[16];
	char text[64];
	unsigned plen, bits, child, i;
	bool keep = ref_rng_pct(r, 10);
	int fam;

	if (ref_rng_pct(r, 5)) {
		snprintf(out, cap, "::ffff:198.18.%u.0/120",
		         ref_rng_below(r, 4));
		return;
	}
	fam = parse_cidr(ref_rng_pct(r, 60) ? PICK(r, v4_parents)
	                                    : PICK(r, v6_parents),
	                 addr, &plen);
	bits = fam == AF_INET ? 32 : 128;
	switch (ref_rng_below(r, 4)) {
	case 0: child = plen; break;
	case 1: child = bits; break;
	default: child = plen + ref_rng_below(r, bits - plen + 1); break;
	}
	for (i = plen; i < bits; i++) /* random bits below the parent */
		if (ref_rng_pct(r, 50))
			addr[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	/* host bits cleared, as Microsoft writes ranges, or sometimes not */
	for (i = child; i < bits && !keep; i++)
		addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
	inet_ntop(fam, addr, text, sizeof(text));
	snprintf(out, cap, "%s/%u", text, child);
}

/* Copies the text with some letters in upper case. */
static void
shout(struct ref_rng *r, const char *in, char *out, size_t cap)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < cap; i++)
		out[i] = in[i] >= 'a' && in[i] <= 'z' && ref_rng_pct(r, 30)
		             ? (char)(in[i] - 'a' + 'A')
		             : in[i];
	out[i] = '\0';
}

/* A fresh set id: unique within the case. */
static json_int_t
gen_id(struct ref_rng *r, json_int_t *used, size_t *n_used)
{
	json_int_t id;
	size_t i;

	id = ref_rng_pct(r, 80) ? 1 + (json_int_t)ref_rng_below(r, 300)
	                        : 1 + (json_int_t)ref_rng_below(r, 0x7ffffffe);
	for (i = 0; i < *n_used; i++)
		if (used[i] == id) { /* taken: try the next one */
			id++;
			i = (size_t)-1;
		}
	if (*n_used < REF_GEN_MAX_SETS)
		used[(*n_used)++] = id;
	return id;
}

/* The patterns of the case so far, to reuse across sets and rules. */
struct pool {
	char globs[64][256];
	size_t n_globs;
	char cidrs[64][64];
	size_t n_cidrs;
};

static void
pool_add(char (*a)[256], size_t *n, const char *s)
{
	if (*n < 64)
		snprintf(a[(*n)++], 256, "%s", s);
}

static void
gen_synthetic(struct ref_rng *r, const struct ref_gen_opts *o, json_t *set,
              struct pool *p)
{
	static const char *const cats[] = {"Optimize",     "Allow", "Default",
	                                   "Optimize",     "Allow", "Default",
	                                   "Experimental", "allow"};
	json_t *urls = json_array(), *ips = json_array();
	char g[256], cidr[64];
	unsigned i, nu = ref_rng_below(r, 7), ni = ref_rng_below(r, 5);

	json_object_set_new(set, "serviceArea", json_string(PICK(r, areas)));
	json_object_set_new(set, "category", json_string(PICK(r, cats)));
	json_object_set_new(set, "required", json_boolean(ref_rng_pct(r, 50)));
	if (!ref_rng_pct(r, 15))
		json_object_set_new(set, "tcpPorts",
		                    json_string(PICK(r, ports)));
	if (ref_rng_pct(r, 20))
		json_object_set_new(set, "udpPorts", json_string("3478-3481"));
	for (i = 0; i < nu; i++) {
		if (p->n_globs > 0 && ref_rng_pct(r, 20))
			snprintf(
			    g, sizeof(g), "%s",
			    p->globs[ref_rng_below(r, (unsigned)p->n_globs)]);
		else
			gen_glob(r, o, g, sizeof(g));
		pool_add(p->globs, &p->n_globs, g);
		json_array_append_new(urls, json_string(g));
	}
	for (i = 0; i < ni; i++) {
		if (p->n_cidrs > 0 && ref_rng_pct(r, 20))
			memcpy(cidr,
			       p->cidrs[ref_rng_below(r, (unsigned)p->n_cidrs)],
			       sizeof(cidr));
		else
			gen_cidr(r, cidr, sizeof(cidr));
		if (p->n_cidrs < 64)
			memcpy(p->cidrs[p->n_cidrs++], cidr, sizeof(cidr));
		json_array_append_new(ips, json_string(cidr));
	}
	if (json_array_size(urls) == 0 && json_array_size(ips) == 0)
		json_array_append_new(urls, json_string("teams.microsoft.com"));
	json_object_set_new(set, "urls", urls);
	json_object_set_new(set, "ips", ips);
}

/* Adds an escaped domain ("example\.net") to s. */
static void
add_escaped(struct ref_str *s, const char *d)
{
	for (; *d; d++)
		ref_str_add(s, *d == '.' ? "\\." : "%c", *d);
}

static void
add_hint(struct ref_case *c, const char *fmt, const char *a, const char *b)
{
	char buf[512];

	snprintf(buf, sizeof(buf), fmt, a, b);
	c->hints = realloc(c->hints, (c->n_hints + 1) * sizeof(*c->hints));
	if (c->hints == NULL || (c->hints[c->n_hints++] = strdup(buf)) == NULL)
		abort();
}

/* A bypass regex bound to a domain, or a never regex, with names it was
 * written for. */
static void
gen_regex(struct ref_rng *r, bool bypass, struct ref_str *s, struct ref_case *c)
{
	static const char *const never_re[] = {"^10\\.",
	                                       "(?i)ads",
	                                       "^52\\.112\\.",
	                                       "^2603:1063:",
	                                       "teams",
	                                       "^[0-9.]+$",
	                                       "::",
	                                       "^(a|aa)+$",
	                                       "(?i)^WWW\\.",
	                                       "^meet[0-9]+\\.",
	                                       "^evil\\.|b\\.example\\.net$"};
	static const char *const never_hints[] = {
	    "10.20.0.1",           "roads.contoso.org",
	    "52.112.0.1",          "[2603:1063::1]",
	    "teams.microsoft.com", "203.0.113.9",
	    "2001:db8::1",         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
	    "WWW.office.com",      "meet12.example.net",
	    "evil.contoso.org"};
	/* bypass expressions, with names they were written for or against */
	static const struct {
		const char *re, *hint1, *hint2, *other;
	} bypass_re[] = {
	    {"^meet[0-9]+\\.", "meet7.", "meet.x.", NULL},
	    {"^[a-z]+-[0-9]+\\.", "abc-12.", "abc12.", NULL},
	    {"^(a+)+\\.", "aaaa.", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab.", NULL},
	    {"^Meet[0-9]+\\.", "meet1.", "Meet1.", NULL},
	    {"(?i)^MEET[0-9]+\\.", "meet123.", "x.meet1.", NULL},
	    {"^zz\\.org$|^[a-z]\\.", "x.", "zz.org.", "zz.org"},
	    /* "^xx" alone would match outside the domain, and at its edge */
	    {"^xx|^[a-z]\\.", "xx", "xx.y.", "xx.evil.org"},
	    {"^2603:|^[a-z]\\.", "b.", "", "[2603:1063::1]"},
	    {"^[a-z0-9-]+\\.teams\\.", "q.teams.", "teams.", NULL},
	    {".*\\.", "a.b.", "", NULL},
	    {"^", "", "x.", NULL}};
	char d[96];
	unsigned k;

	gen_domain(r, d, sizeof(d));
	if (!bypass) {
		k = ref_rng_below(r, N(never_re));
		ref_str_add(s, "re:%s", never_re[k]);
		add_hint(c, "%s%s", never_hints[k], "");
		if (ref_rng_pct(r, 30)) {
			ref_str_add(s, "|\\.");
			add_escaped(s, d);
			ref_str_add(s, "$");
			add_hint(c, "x.%s%s", d, "");
		}
		return;
	}
	k = ref_rng_below(r, N(bypass_re));
	ref_str_add(s, "re:%s", bypass_re[k].re);
	add_escaped(s, d);
	ref_str_add(s, "$");
	add_hint(c, "%s%s", bypass_re[k].hint1, d);
	add_hint(c, "%s%s", bypass_re[k].hint2, d);
	if (bypass_re[k].other != NULL)
		add_hint(c, "%s%s", bypass_re[k].other, "");
}

static void
gen_local(struct ref_rng *r, const struct ref_gen_opts *o, struct pool *p,
          struct ref_case *c)
{
	static const char *const broad[] = {
	    "*",   "*.com", "10.0.0.0/8", "0.0.0.0/0",  "::/0",
	    "*a*", "*.net", "2000::/3",   "*microsoft*"};
	struct ref_str s = {0};
	char pat[256], up[256];
	unsigned i, n = 1 + ref_rng_below(r, o->max_rules);

	for (i = 0; i < n; i++) {
		bool bypass = ref_rng_pct(r, 55);
		unsigned kind = ref_rng_below(r, 20);
		const char *indent, *space, *comment;
		if (ref_rng_pct(r, 10))
			ref_str_add(&s, ref_rng_pct(r, 50) ? "\n" : "# note\n");
		indent = ref_rng_pct(r, 10) ? "  " : "";
		space = ref_rng_pct(r, 20) ? "\t" : "  ";
		ref_str_add(&s, "%s%s%s", indent, bypass ? "bypass" : "never",
		            space);
		if (kind < 7) {
			if (p->n_globs > 0 && ref_rng_pct(r, 50))
				snprintf(pat, sizeof(pat), "%s",
				         p->globs[ref_rng_below(
				             r, (unsigned)p->n_globs)]);
			else
				gen_glob(r, o, pat, sizeof(pat));
			pool_add(p->globs, &p->n_globs, pat);
		} else if (kind < 11) {
			if (p->n_cidrs > 0 && ref_rng_pct(r, 50))
				snprintf(pat, sizeof(pat), "%s",
				         p->cidrs[ref_rng_below(
				             r, (unsigned)p->n_cidrs)]);
			else
				gen_cidr(r, pat, sizeof(pat));
		} else if (kind == 11 && ref_rng_pct(r, bypass ? 25 : 40)) {
			/* as broad as a never rule may be; a bypass rule that
			 * broad refuses the whole list */
			snprintf(pat, sizeof(pat), "%s", PICK(r, broad));
		} else {
			gen_regex(r, bypass, &s, c);
			pat[0] = '\0';
		}
		shout(r, pat, up, sizeof(up));
		indent = ref_rng_pct(r, 15) ? up : pat;
		comment = ref_rng_pct(r, 10) ? "  # why" : "";
		ref_str_add(&s, "%s%s\n", indent, comment);
		if (ref_rng_pct(r, 8)) /* the same rule again */
			ref_str_add(&s, "%s %s\n",
			            kind == 11 || ref_rng_pct(r, 50) ? "never"
			                                             : "bypass",
			            pat[0] ? pat : "teams.microsoft.com");
	}
	c->local = ref_str_take(&s);
}

/* Picks the policy from the areas the sets have. */
static void
gen_policy(struct ref_rng *r, json_t *sets, struct ref_case *c)
{
	static const char *const cats[] = {NULL,
	                                   NULL,
	                                   "Optimize",
	                                   "Optimize,Allow,Default",
	                                   "Allow,Default",
	                                   "Default",
	                                   "Allow"};
	const char *a = json_string_value(json_object_get(
	    json_array_get(sets,
	                   ref_rng_below(r, (unsigned)json_array_size(sets))),
	    "serviceArea"));
	const char *b = json_string_value(json_object_get(
	    json_array_get(sets,
	                   ref_rng_below(r, (unsigned)json_array_size(sets))),
	    "serviceArea"));
	const char *cat = PICK(r, cats);
	char buf[160];

	c->categories = cat ? strdup(cat) : NULL;
	if (a == NULL || b == NULL || ref_rng_pct(r, 60))
		return;
	if (strcmp(a, b) != 0 && ref_rng_pct(r, 50))
		snprintf(buf, sizeof(buf), "%s,%s", a, b);
	else
		snprintf(buf, sizeof(buf), "%s", a);
	c->areas = strdup(buf);
}

void
ref_gen_case(struct ref_rng *r, const struct ref_gen_opts *o,
             const json_t *pool, struct ref_case *c)
{
	json_t *sets = json_array(), *set;
	json_int_t used[REF_GEN_MAX_SETS];
	size_t n_used = 0;
	unsigned i, n_fix = 0, n_syn = 1 + ref_rng_below(r, o->max_sets);
	struct pool p;

	if (n_syn > REF_GEN_MAX_SETS - 4)
		n_syn = REF_GEN_MAX_SETS - 4;
	memset(c, 0, sizeof(*c));
	p.n_globs = p.n_cidrs = 0;
	if (pool != NULL && json_array_size(pool) > 0 && ref_rng_pct(r, 70))
		n_fix = 1 + ref_rng_below(r, 4);
	for (i = 0; i < n_fix; i++) {
		set = json_deep_copy(json_array_get(
		    pool, ref_rng_below(r, (unsigned)json_array_size(pool))));
		json_object_set_new(set, "id",
		                    json_integer(gen_id(r, used, &n_used)));
		json_array_append_new(sets, set);
	}
	for (i = 0; i < n_syn; i++) {
		set = json_object();
		json_object_set_new(set, "id",
		                    json_integer(gen_id(r, used, &n_used)));
		gen_synthetic(r, o, set, &p);
		/* somewhere in the list, not always last */
		json_array_insert_new(
		    sets, ref_rng_below(r, (unsigned)json_array_size(sets) + 1),
		    set);
	}
	if ((c->json = json_dumps(sets, JSON_COMPACT)) == NULL)
		abort();
	if (ref_rng_pct(r, 75))
		gen_local(r, o, &p, c);
	gen_policy(r, sets, c);
	json_decref(sets);
}
