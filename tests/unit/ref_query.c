/* ref_query.c - queries aimed at the patterns of a built list, for the
 * differential test (see ref_gen.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_gen.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(r, a) ((a)[ref_rng_below((r), N(a))])

/* What a query is aimed at. */
struct target {
	const struct m365_set *set;   /* the set of a url or range, or NULL */
	const char *glob;             /* a url or glob rule, or */
	const struct m365_cidr *cidr; /* a range, or */
	const char *name;             /* a name to try as it is */
	struct m365_cidr own;         /* a local rule's range (cidr) */
};

/* Names and addresses no pattern was written for, and invalid input. */
static const char *const noise[] = {"8.8.8.8",
                                    "example.org",
                                    "2001:4860:4860::8888",
                                    "-",
                                    "",
                                    "a..b",
                                    "x_y.example.net",
                                    "[1.2.3.4]",
                                    "1.2.3.4.",
                                    "052.112.0.1",
                                    "%zz",
                                    "[::1]",
                                    "localhost",
                                    "teams.microsoft.com",
                                    "TEAMS.MICROSOFT.COM.",
                                    "evil.example",
                                    "a b",
                                    "[2603:1063::]",
                                    "::ffff:52.112.0.1",
                                    "0x34.0x70.0.1",
                                    "885014528",
                                    "xn--bcher-kva.example.net"};

/* A run of name characters and dots, up to max characters. */
static size_t
random_fill(struct ref_rng *r, unsigned max, char *out)
{
	static const char chars[] = "abcxyz0189-_";
	unsigned labels = 1 + ref_rng_below(r, 3), i, j, len;
	size_t n = 0;

	for (i = 0; i < labels && n < max; i++) {
		if (i > 0)
			out[n++] = '.';
		len = 1 + ref_rng_below(r, max / labels + 1);
		for (j = 0; j < len && n < max; j++)
			out[n++] = chars[ref_rng_below(r, sizeof(chars) - 1)];
	}
	return n;
}

/* What one '*' of glob stands for in a query. */
static size_t
star_fill(struct ref_rng *r, const struct ref_gen_opts *o, const char *glob,
          char *out)
{
	size_t n = 0, len = strlen(glob), from, k;
	unsigned i, rep;

	switch (ref_rng_below(r, 10)) {
	case 0:
	case 1:
	case 2: return 0; /* an empty run */
	case 3:
	case 4: /* a piece of the glob itself: ambiguous splits */
		from = ref_rng_below(r, (unsigned)len);
		k = 1 + ref_rng_below(r, (unsigned)(len - from));
		for (i = 0; i < k && n < o->max_fill; i++)
			if (glob[from + i] != '*')
				out[n++] = glob[from + i];
		return n;
	case 5: /* a long run of the glob's own characters: backtracking */
		rep = 1 + ref_rng_below(r, o->max_fill);
		for (i = 0; i < rep; i++)
			out[n++] = glob[ref_rng_below(r, (unsigned)len)];
		for (i = 0; i < n; i++)
			if (out[i] == '*' || (out[i] == '.' && i % 2 == 0))
				out[i] = 'b';
		return n;
	default: return random_fill(r, o->max_fill, out);
	}
}

/* Changes a name into one just beside it. */
static void
near_miss(struct ref_rng *r, char *s, size_t cap)
{
	size_t n = strlen(s), i = n ? ref_rng_below(r, (unsigned)n) : 0;
	const char *dot = strchr(s, '.');

	switch (ref_rng_below(r, 7)) {
	case 0:
		if (n > 0)
			s[i] = s[i] == 'a' ? 'b' : s[i] == '.' ? '-' : 'a';
		break;
	case 1: /* "xteams.microsoft.com" */
		if (n + 2 < cap) {
			memmove(s + 1, s, n + 1);
			s[0] = 'x';
		}
		break;
	case 2: /* one label less: the apex of a suffix */
		if (dot != NULL)
			memmove(s, dot + 1, strlen(dot + 1) + 1);
		break;
	case 3:
		if (n + 2 < cap)
			strcat(s, "x");
		break;
	case 4:
		if (n > 0)
			s[n - 1] = '\0';
		break;
	case 5:
		if (n > 0)
			memmove(s, s + 1, n);
		break;
	default: /* one character twice */
		if (n > 0 && n + 2 < cap)
			memmove(s + i + 1, s + i, n - i + 1);
		break;
	}
}

void
ref_gen_expand(struct ref_rng *r, const struct ref_gen_opts *o,
               const char *glob, bool miss, char *out, size_t cap)
{
	char fill[512];
	size_t n = 0, f;
	const char *p;

	for (p = glob; *p != '\0'; p++) {
		if (*p != '*') {
			if (n + 1 < cap)
				out[n++] = *p;
			continue;
		}
		f = star_fill(r, o, glob, fill);
		/* mostly valid names: no leading dot, no empty label */
		if (f == 0 && p[1] == '.' && (n == 0 || out[n - 1] == '.') &&
		    ref_rng_pct(r, 80))
			f = random_fill(r, o->max_fill, fill);
		if (n + f < cap) {
			memcpy(out + n, fill, f);
			n += f;
		}
	}
	out[n] = '\0';
	if (miss)
		near_miss(r, out, cap);
}

/* An address of c: its first or last, one beside them, or inside. */
static void
gen_address(struct ref_rng *r, const struct m365_cidr *c, char *out, size_t cap)
{
	uint8_t a[16];
	unsigned bits = c->family == AF_INET ? 32 : 128, i, how;
	int carry, step;
	char t[64];

	memcpy(a, c->addr, sizeof(a));
	how = ref_rng_below(r, 6);
	for (i = c->plen; i < bits; i++) /* host bits: all ones, or random */
		if (how == 1 || how == 3 || (how == 4 && ref_rng_pct(r, 50)))
			a[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	step = how == 2 ? -1 : how == 3 || how == 5 ? 1 : 0;
	for (i = bits / 8, carry = step; carry != 0 && i-- > 0;) {
		int v = a[i] + carry;
		a[i] = (uint8_t)v;
		carry = v < 0 ? -1 : v > 255 ? 1 : 0;
	}
	inet_ntop(c->family, a, t, sizeof(t));
	if (c->family == AF_INET) {
		switch (ref_rng_below(r, 12)) {
		case 0: snprintf(out, cap, "::ffff:%s", t); return;
		case 1: snprintf(out, cap, "[::FFFF:%s]", t); return;
		case 2: snprintf(out, cap, "%s.", t); return;
		case 3: snprintf(out, cap, "[%s]", t); return;
		case 4: snprintf(out, cap, "0%s", t); return;
		default: snprintf(out, cap, "%s", t); return;
		}
	}
	switch (ref_rng_below(r, 8)) {
	case 0:
	case 1: snprintf(out, cap, "[%s]", t); return;
	case 2:
		for (i = 0; t[i]; i++)
			t[i] = t[i] >= 'a' && t[i] <= 'f' ? (char)(t[i] - 32)
			                                  : t[i];
		snprintf(out, cap, "%s", t);
		return;
	case 3:
		snprintf(out, cap, "%x:%x:%x:%x:%x:%x:%x:%04x",
		         a[0] << 8 | a[1], a[2] << 8 | a[3], a[4] << 8 | a[5],
		         a[6] << 8 | a[7], a[8] << 8 | a[9], a[10] << 8 | a[11],
		         a[12] << 8 | a[13], a[14] << 8 | a[15]);
		return;
	default: snprintf(out, cap, "%s", t); return;
	}
}

/* Spells a name the ways the normaliser folds together. */
static void
spell(struct ref_rng *r, const char *in, char *out, size_t cap)
{
	size_t i, n = 0, len = strlen(in);
	unsigned how = ref_rng_below(r, 20);

	for (i = 0; i < len && n + 4 < cap; i++) {
		char c = in[i];
		if (how == 0 || how == 1 || (how == 2 && i % 3 == 0))
			c = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
		if ((how == 3 && c == '.') || (how == 4 && i == 0))
			n += (size_t)snprintf(out + n, cap - n, "%%%02X",
			                      (unsigned char)c);
		else
			out[n++] = c;
	}
	out[n] = '\0';
	if ((how == 5 || how == 1) && n + 2 < cap)
		strcat(out, ".");
	if (how == 6 && n + 3 < cap) {
		memmove(out + 1, out, n + 1);
		out[0] = '[';
		strcat(out, "]");
	}
}

/* A destination aimed at t, in some spelling. */
static void
gen_host(struct ref_rng *r, const struct ref_gen_opts *o,
         const struct target *t, char *out, size_t cap)
{
	char name[REF_QUERY_MAX];

	if (t->cidr != NULL) {
		gen_address(r, t->cidr, out, cap);
		return;
	}
	if (t->glob != NULL) {
		ref_gen_expand(r, o, t->glob, ref_rng_pct(r, 30), name,
		               sizeof(name));
	} else {
		snprintf(name, sizeof(name), "%s", t->name);
		if (ref_rng_pct(r, 20))
			near_miss(r, name, sizeof(name));
	}
	if (ref_rng_pct(r, 70))
		snprintf(out, cap, "%s", name);
	else
		spell(r, name, out, cap);
}

/* A port: one a set takes or one beside it, the usual ones, none, or an
 * invalid value. */
static void
gen_port(struct ref_rng *r, const struct m365_endpoints *ep,
         const struct m365_set *s, struct ref_query *q)
{
	static const char *const common[] = {"443", "80", "8080", "3478",
	                                     "587", "-",  "1",    "65535"};
	static const char *const bad[] = {
	    "",      "0",      "65536",     "+443",  "%2d",  "44x",
	    "99999", "000443", "%34%34%33", "00443", "4 43", "%"};
	const struct m365_port_range *pr;
	unsigned how = ref_rng_below(r, 20);
	long v;

	if (s == NULL || ref_rng_pct(r, 20))
		s = &ep->sets[ref_rng_below(r, (unsigned)ep->n_sets)];
	q->has_port = true;
	if (how < 8 && s->tcp.n > 0) {
		pr = &s->tcp.r[ref_rng_below(r, s->tcp.n)];
		v = how < 3    ? pr->lo
		    : how < 6  ? pr->hi
		    : how == 6 ? pr->hi + 1
		               : pr->lo - 1;
		snprintf(q->port, sizeof(q->port), "%ld", v);
	} else if (how < 15) {
		snprintf(q->port, sizeof(q->port), "%s", PICK(r, common));
	} else if (how < 19) {
		q->has_port = false;
	} else {
		snprintf(q->port, sizeof(q->port), "%s", PICK(r, bad));
	}
}

size_t
ref_gen_queries(struct ref_rng *r, const struct ref_gen_opts *o,
                const struct m365_list *l, char *const *hints, size_t n_hints,
                struct ref_query *q, size_t max)
{
	const struct m365_endpoints *ep = m365_list_endpoints(l);
	const struct m365_local *lo = m365_list_local(l);
	struct target *t;
	size_t i, j, n = 0, cap = N(noise) + n_hints;

	for (i = 0; i < ep->n_sets; i++)
		cap += ep->sets[i].n_urls + ep->sets[i].n_ips;
	cap += lo ? lo->n_rules : 0;
	if ((t = calloc(cap, sizeof(*t))) == NULL)
		abort();
	for (i = 0; i < ep->n_sets; i++) {
		for (j = 0; j < ep->sets[i].n_urls; j++) {
			t[n].set = &ep->sets[i];
			t[n++].glob = ep->sets[i].urls[j];
		}
		for (j = 0; j < ep->sets[i].n_ips; j++) {
			t[n].set = &ep->sets[i];
			t[n++].cidr = &ep->sets[i].ips[j];
		}
	}
	for (i = 0; lo != NULL && i < lo->n_rules; i++) {
		if (lo->rules[i].kind == M365_RULE_GLOB)
			t[n++].glob = lo->rules[i].glob;
		else if (lo->rules[i].kind == M365_RULE_CIDR) {
			m365_rule_cidr(&lo->rules[i], &t[n].own);
			t[n].cidr = &t[n].own;
			n++;
		}
	}
	for (i = 0; i < n_hints; i++)
		t[n++].name = hints[i];
	for (i = 0; i < N(noise); i++)
		t[n++].name = noise[i];
	for (i = 0; i < max; i++) {
		struct ref_query *qq = &q[i];
		unsigned how = ref_rng_below(r, 20);
		/* mostly the patterns, sometimes the hints and the noise */
		const struct target *d =
		    &t[ref_rng_pct(r, 85)
		           ? ref_rng_below(r, (unsigned)(n - N(noise)))
		           : ref_rng_below(r, (unsigned)n)];
		memset(qq, 0, sizeof(*qq));
		qq->has_dst = !ref_rng_pct(r, 1);
		gen_host(r, o, d, qq->dst, sizeof(qq->dst));
		gen_port(r, ep, d->set, qq);
		qq->has_sni = how >= 10;
		if (how < 12)
			snprintf(qq->sni, sizeof(qq->sni), "%s", qq->dst);
		else if (how < 14)
			spell(r, qq->dst, qq->sni, sizeof(qq->sni));
		else if (how < 18)
			gen_host(r, o, &t[ref_rng_below(r, (unsigned)n)],
			         qq->sni, sizeof(qq->sni));
		else
			snprintf(qq->sni, sizeof(qq->sni), "%s",
			         how == 18 ? "-" : "bad..sni");
	}
	free(t);
	return max;
}
