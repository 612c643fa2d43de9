/* export_nft.c - m365ctl export nft: an nftables script of four interval
 * sets (the selected ranges, and those of the sets with UDP ports: Teams
 * media), each collapsed into the fewest elements, for `nft -f` (see
 * export.h). */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "export.h"
#include "m365_local.h"
#include "m365_ports.h"

typedef xm_u128 u128;

/* Elements per `add element` statement, and the width of their lines. */
#define PER_STATEMENT 512
#define LINE_WIDTH 72

/* A closed interval of addresses. */
struct iv {
	u128 lo, hi;
};

/* A growing array of intervals; oom once an append failed. */
struct ivs {
	struct iv *v;
	size_t n, cap;
	bool oom;
};

/* The width of family's addresses in bits. */
static unsigned
bits_of(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* Integer x back into address a (network order, of family). */
static void
value_addr(u128 x, int family, uint8_t *a)
{
	unsigned n = bits_of(family) / 8;

	memset(a, 0, 16);
	while (n-- > 0) {
		a[n] = (uint8_t)x;
		x >>= 8;
	}
}

/* Appends [lo, hi] to v (sets v->oom when out of memory). */
static void
push(struct ivs *v, u128 lo, u128 hi)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 256;
		struct iv *nv = realloc(v->v, cap * sizeof(*nv));
		if (nv == NULL) {
			v->oom = true;
			return;
		}
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n].lo = lo;
	v->v[v->n++].hi = hi;
}

/* Adds the ranges c stands for (xm_cidr_ranges()) of family to v. */
static void
push_cidr(struct ivs *v, const struct m365_cidr *c, int family)
{
	struct m365_cidr r[2];
	size_t i, n = xm_cidr_ranges(c, r);
	u128 lo, hi;

	for (i = 0; i < n; i++) {
		if (r[i].family != family)
			continue;
		xm_cidr_bounds(&r[i], &lo, &hi);
		push(v, lo, hi);
	}
}

/* True when set x lists UDP ports: Teams media (and QUIC). */
static bool
is_media(const struct xm_set *x)
{
	return x->s->has_udp && x->s->udp.n > 0;
}

/* The ranges of family in the selected sets (with media, only in those
 * with UDP ports), and without media the local list's bypass ranges. */
static void
collect_bypass(struct ivs *v, const struct xm *m, int family, bool media)
{
	struct m365_cidr c;
	size_t i, j;

	for (i = 0; i < m->n_set; i++)
		for (j = 0;
		     (!media || is_media(&m->set[i])) && j < m->set[i].s->n_ips;
		     j++)
			push_cidr(v, &m->set[i].s->ips[j], family);
	for (i = 0; !media && m->local && i < m->local->n_rules; i++) {
		const struct m365_rule *r = &m->local->rules[i];
		if (r->verb != M365_VERB_BYPASS || r->kind != M365_RULE_CIDR)
			continue;
		m365_rule_cidr(r, &c);
		push_cidr(v, &c, family);
	}
}

/* The local list's never ranges of family. */
static void
collect_never(struct ivs *v, const struct xm *m, int family)
{
	struct m365_cidr c;
	size_t i;

	for (i = 0; m->local && i < m->local->n_rules; i++) {
		const struct m365_rule *r = &m->local->rules[i];
		if (r->verb != M365_VERB_NEVER || r->kind != M365_RULE_CIDR)
			continue;
		m365_rule_cidr(r, &c);
		push_cidr(v, &c, family);
	}
}

static int
cmp_iv(const void *a, const void *b)
{
	const struct iv *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Sorts v and merges its overlapping and adjacent intervals, in place. */
static void
normalise(struct ivs *v)
{
	size_t i, n = 0;

	if (v->n == 0)
		return;
	qsort(v->v, v->n, sizeof(*v->v), cmp_iv);
	for (i = 1; i < v->n; i++) {
		struct iv *cur = &v->v[n], *next = &v->v[i];
		/* next->lo == 0 only when cur->lo == 0: no wrap below */
		if (next->lo <= cur->hi || next->lo - 1 == cur->hi) {
			if (next->hi > cur->hi)
				cur->hi = next->hi;
		} else {
			v->v[++n] = *next;
		}
	}
	v->n = n + 1;
}

/* Appends to out interval x minus the normalised intervals b from *j on
 * (*j moves past those wholly before x, for the next x). */
static void
cut(struct ivs *out, struct iv x, const struct ivs *b, size_t *j)
{
	size_t k;

	while (*j < b->n && b->v[*j].hi < x.lo)
		(*j)++;
	for (k = *j; k < b->n && b->v[k].lo <= x.hi; k++) {
		if (b->v[k].lo > x.lo)
			push(out, x.lo, b->v[k].lo - 1);
		if (b->v[k].hi >= x.hi)
			return;
		x.lo = b->v[k].hi + 1;
	}
	push(out, x.lo, x.hi);
}

/* out = a minus b, both normalised (out is then normalised too). */
static void
subtract(struct ivs *out, const struct ivs *a, const struct ivs *b)
{
	size_t i, j = 0;

	for (i = 0; i < a->n; i++)
		cut(out, a->v[i], b, &j);
	if (a->oom || b->oom)
		out->oom = true;
}

/* The elements of one set: its ranges of family, merged, without the
 * normalised never ranges. */
static void
build_set(struct ivs *out, const struct xm *m, int family, bool media,
          const struct ivs *never)
{
	struct ivs all = {0};

	collect_bypass(&all, m, family, media);
	normalise(&all);
	subtract(out, &all, never);
	free(all.v);
}

/* Interval x as an element: "52.112.0.0/14" where it is a prefix, a bare
 * address when it is one, else "a-b". */
static void
element_text(const struct iv *x, int family, char *buf, size_t len)
{
	struct m365_cidr c = {.family = family};
	u128 span = x->hi - x->lo;
	char hi[INET6_ADDRSTRLEN];
	unsigned host;

	value_addr(x->lo, family, c.addr);
	if (span == 0) {
		inet_ntop(family, c.addr, buf, (socklen_t)len);
	} else if ((span & (span + 1)) == 0 && (x->lo & span) == 0) {
		host = (unsigned)__builtin_popcountll((uint64_t)span) +
		       (unsigned)__builtin_popcountll((uint64_t)(span >> 64));
		c.plen = (uint8_t)(bits_of(family) - host);
		xm_cidr_text(&c, buf, len);
	} else {
		inet_ntop(family, c.addr, buf, (socklen_t)len);
		value_addr(x->hi, family, c.addr);
		inet_ntop(family, c.addr, hi, sizeof(hi));
		snprintf(buf + strlen(buf), len - strlen(buf), "-%s", hi);
	}
}

/* The `add element` statements of set name, PER_STATEMENT elements each,
 * several a line; none when v is empty (nft refuses empty braces). */
static void
write_elements(FILE *f, const char *name, const struct ivs *v, int family)
{
	char buf[2 * INET6_ADDRSTRLEN + 8];
	size_t i, col = 0;

	for (i = 0; i < v->n; i++) {
		bool first = i % PER_STATEMENT == 0;
		bool last = i + 1 == v->n || (i + 1) % PER_STATEMENT == 0;
		element_text(&v->v[i], family, buf, sizeof(buf));
		if (first) {
			fprintf(f, "add element inet m365 %s {\n", name);
			col = 0;
		}
		if (col > 0 && col + strlen(buf) + 2 > LINE_WIDTH) {
			fputs("\n", f);
			col = 0;
		}
		fputc(col == 0 ? '\t' : ' ', f);
		col += col == 0 ? 8 : 1;
		col += (size_t)fprintf(f, "%s%s", buf, last ? "" : ",");
		if (last)
			fputs("\n}\n", f);
	}
}

/* The four sets, in the order they are written. */
struct nft_set {
	const char *name;
	int family;
	bool media;
	const char *what;
	struct ivs v;
};

/* Counts the local rules of verb and kind that are CIDRs when cidr, else
 * those that are not. */
static size_t
count_rules(const struct xm *m, int verb, bool cidr)
{
	size_t i, n = 0;

	for (i = 0; m->local && i < m->local->n_rules; i++)
		n += m->local->rules[i].verb == verb &&
		     (m->local->rules[i].kind == M365_RULE_CIDR) == cidr;
	return n;
}

/* The header: the command, the list, the policy, what is left out, and
 * how to load the script. */
static void
write_header(FILE *f, const struct xm *m, const struct export_opts *o,
             const struct nft_set *sets, size_t n_sets)
{
	size_t i;

	/* each of them free of control characters (xm_clean()) */
	fprintf(f, "# %s\n# list: %s\n# policy: %s", o->command, m->origin,
	        m->policy);
	if (m->local) {
		fprintf(f, "\n# local list: %s", m->local_name);
		fprintf(f,
		        ": %zu bypass range(s) added, %zu never range(s) "
		        "taken out\n"
		        "# not here: %zu local bypass and %zu never name "
		        "rule(s) (sets hold addresses)",
		        count_rules(m, M365_VERB_BYPASS, true),
		        count_rules(m, M365_VERB_NEVER, true),
		        count_rules(m, M365_VERB_BYPASS, false),
		        count_rules(m, M365_VERB_NEVER, false));
	}
	fprintf(f, "\n# not here: the sets' TCP and UDP ports (any port "
	           "here)\n#\n");
	for (i = 0; i < n_sets; i++)
		fprintf(f, "# %-14s %7zu element(s): %s\n", sets[i].name,
		        sets[i].v.n, sets[i].what);
	fprintf(
	    f,
	    "#\n"
	    "# Load it with `nft -f FILE` (as root).  It creates table inet\n"
	    "# m365 and its sets when they are missing; loading it again (a\n"
	    "# newer list) replaces the sets' elements in one transaction,\n"
	    "# all or nothing, and leaves the rest of the table (your chains)\n"
	    "# alone.  The example at the end is commented out: copy it and\n"
	    "# adapt it.\n\n");
}

/* The table and its sets, declared (creates them, or does nothing when
 * they exist), then flushed and filled. */
static void
write_sets(FILE *f, const struct nft_set *sets, size_t n_sets)
{
	size_t i;

	fprintf(f, "table inet m365 {\n");
	for (i = 0; i < n_sets; i++)
		fprintf(f, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t}\n",
		        sets[i].name,
		        sets[i].family == AF_INET ? "ipv4_addr" : "ipv6_addr");
	fprintf(f, "}\n\n");
	for (i = 0; i < n_sets; i++)
		fprintf(f, "flush set inet m365 %s\n", sets[i].name);
	for (i = 0; i < n_sets; i++)
		write_elements(f, sets[i].name, &sets[i].v, sets[i].family);
}

/* The example chains, commented out. */
static void
write_example(FILE *f)
{
	fprintf(
	    f,
	    "\n"
	    "# Example (not applied): Microsoft 365 around an intercepting\n"
	    "# Squid on port 3129, and Teams media (UDP 3478-3481) straight\n"
	    "# out.  Sets are seen only from their own table: put the chains\n"
	    "# in table inet m365.\n"
	    "#\n"
	    "# table inet m365 {\n"
	    "# \tchain prerouting {\n"
	    "# \t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	    "# \t\tip daddr @m365_v4 return\n"
	    "# \t\tip6 daddr @m365_v6 return\n"
	    "# \t\ttcp dport { 80, 443 } redirect to :3129\n"
	    "# \t}\n"
	    "# \tchain forward {\n"
	    "# \t\ttype filter hook forward priority filter; policy accept;\n"
	    "# \t\tct state established,related accept\n"
	    "# \t\tudp dport 3478-3481 ip daddr @m365_media_v4 accept\n"
	    "# \t\tudp dport 3478-3481 ip6 daddr @m365_media_v6 accept\n"
	    "# \t\ttcp dport { 80, 443 } ip daddr @m365_v4 accept\n"
	    "# \t\ttcp dport { 80, 443 } ip6 daddr @m365_v6 accept\n"
	    "# \t\t# ... your own rules, then a final drop\n"
	    "# \t}\n"
	    "# }\n");
}

int
export_nft(FILE *f, const struct xm *m, const struct export_opts *o)
{
	struct nft_set sets[] = {
	    {.name = "m365_v4",
	     .family = AF_INET,
	     .what = "the selected ranges and local bypass ranges"},
	    {.name = "m365_v6",
	     .family = AF_INET6,
	     .what = "the selected ranges and local bypass ranges"},
	    {.name = "m365_media_v4",
	     .family = AF_INET,
	     .media = true,
	     .what = "the ranges of the selected sets with UDP ports"},
	    {.name = "m365_media_v6",
	     .family = AF_INET6,
	     .media = true,
	     .what = "the ranges of the selected sets with UDP ports"},
	};
	const size_t n_sets = sizeof(sets) / sizeof(sets[0]);
	struct ivs never[2] = {{0}, {0}};
	bool oom = false;
	size_t i;

	for (i = 0; i < 2; i++) {
		collect_never(&never[i], m, i == 0 ? AF_INET : AF_INET6);
		normalise(&never[i]);
	}
	for (i = 0; i < n_sets; i++) {
		build_set(&sets[i].v, m, sets[i].family, sets[i].media,
		          &never[sets[i].family == AF_INET ? 0 : 1]);
		oom = oom || sets[i].v.oom;
	}
	if (oom) {
		fprintf(stderr, "m365ctl export: out of memory\n");
	} else {
		write_header(f, m, o, sets, n_sets);
		write_sets(f, sets, n_sets);
		write_example(f);
	}
	for (i = 0; i < n_sets; i++)
		free(sets[i].v.v);
	free(never[0].v);
	free(never[1].v);
	return oom ? -1 : 0;
}
