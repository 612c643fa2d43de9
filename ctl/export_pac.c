/*
 * export_pac.c - m365ctl export pac: a PAC file that sends DIRECT exactly
 * what the helper answers OK for (see export.h, export_pac_js.c).
 *
 * It writes the tables the code walks: names by exact name, "*." suffix
 * and the domain an irregular pattern needs (so a browser looks a name up
 * by its suffixes, not through hundreds of shExpMatch() calls), and the
 * ranges as nested prefixes sorted by start.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "export.h"
#include "export_pac.h"
#include "host_impl.h"
#include "pattern.h"
#include "redfa.h"

#define NEVER (-1)
#define BYPASS (-2)

/* One value under a key of a name table: an item ("4") or a pattern and
 * its item ("[/^a.*b$/,4]"). */
struct pair {
	char *key, *val;
};

struct table {
	struct pair *p;
	size_t n, cap;
};

/* One range: its bounds as 128-bit numbers (IPv4 in the low half). */
struct range {
	xm_u128 lo, hi;
	unsigned plen;
	int item;
	int parent, items; /* once laid out: the enclosing range, the
	                      items' list in RI */
};

struct ranges {
	struct range *r;
	size_t n, cap;
};

struct pac {
	struct table exact, suffix, bucket, loose, loose_ip;
	struct ranges v4, v6;
	int oom;
};

/* Adds (key, val) to t, both copied. */
static void
add_pair(struct pac *p, struct table *t, const char *key, const char *val)
{
	struct pair *n;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		if ((n = realloc(t->p, cap * sizeof(*n))) == NULL) {
			p->oom = 1;
			return;
		}
		t->p = n;
		t->cap = cap;
	}
	n = &t->p[t->n];
	n->key = strdup(key);
	n->val = strdup(val);
	if (n->key == NULL || n->val == NULL) {
		free(n->key);
		free(n->val);
		p->oom = 1;
		return;
	}
	t->n++;
}

/* True when s is a valid hostname (what the matcher files names by). */
static int
valid_name(const char *s)
{
	return host_valid_name(s, strlen(s));
}

/* A glob as a JavaScript regex literal: the whole name, '*' any run. */
static void
glob_regex(const char *g, char *buf, size_t len)
{
	size_t at = 0;

	buf[at++] = '/';
	buf[at++] = '^';
	for (; *g && at + 8 < len; g++) {
		if (*g == '*') {
			buf[at++] = '.';
			buf[at++] = '*';
		} else if (*g == '.') {
			buf[at++] = '\\';
			buf[at++] = '.';
		} else {
			buf[at++] = *g;
		}
	}
	buf[at++] = '$';
	buf[at++] = '/';
	buf[at] = '\0';
}

/* A glob of item into the tables, as the matcher files it. */
static void
add_glob(struct pac *p, const char *g, int item)
{
	char val[1100], re[1024], it[16];
	const char *star = strchr(g, '*'), *dom;

	snprintf(it, sizeof(it), "%d", item);
	if (star == NULL) {
		if (valid_name(g))
			add_pair(p, &p->exact, g, it);
		return;
	}
	if (star == g && g[1] == '.' && strchr(g + 1, '*') == NULL) {
		if (valid_name(g + 2))
			add_pair(p, &p->suffix, g + 2, it);
		return;
	}
	glob_regex(g, re, sizeof(re));
	snprintf(val, sizeof(val), "[%s,%d]", re, item);
	if ((dom = glob_domain(g)) != NULL)
		add_pair(p, &p->bucket, dom, val);
	else
		add_pair(p, &p->loose, "", val);
}

/* The ranges c stands for (xm_cidr_ranges()), of item, into their
 * family's list. */
static void
add_cidr(struct pac *p, const struct m365_cidr *c, int item)
{
	struct m365_cidr r[2];
	size_t i, n = xm_cidr_ranges(c, r);

	for (i = 0; i < n; i++) {
		struct ranges *rs = r[i].family == AF_INET ? &p->v4 : &p->v6;
		if (rs->n == rs->cap) {
			size_t cap = rs->cap ? rs->cap * 2 : 64;
			struct range *nr = realloc(rs->r, cap * sizeof(*nr));
			if (nr == NULL) {
				p->oom = 1;
				return;
			}
			rs->r = nr;
			rs->cap = cap;
		}
		xm_cidr_bounds(&r[i], &rs->r[rs->n].lo, &rs->r[rs->n].hi);
		rs->r[rs->n].plen = r[i].plen;
		rs->r[rs->n].item = item;
		rs->n++;
	}
}

/* The local list's rules into the tables; -1 after a message for a
 * regex no JavaScript regex can say the same as. */
static int
add_local(struct pac *p, const struct m365_local *loc)
{
	char js[4096], val[4200];
	struct m365_cidr c;
	size_t i;

	for (i = 0; loc && i < loc->n_rules; i++) {
		const struct m365_rule *r = &loc->rules[i];
		int item = r->verb == M365_VERB_NEVER ? NEVER : BYPASS;
		if (r->kind == M365_RULE_GLOB) {
			add_glob(p, r->glob, item);
			continue;
		}
		if (r->kind == M365_RULE_CIDR) {
			m365_rule_cidr(r, &c);
			add_cidr(p, &c, item);
			continue;
		}
		if (redfa_to_js(r->text + 3, strlen(r->text + 3), js,
		                sizeof(js)) < 0) {
			fprintf(stderr,
			        "m365ctl export: %s:%u: %s: a PAC file cannot "
			        "say the same (only literals, classes, groups, "
			        "alternatives, quantifiers and ^ $ at the ends "
			        "can be)\n",
			        loc->source, r->line, r->text);
			return -1;
		}
		snprintf(val, sizeof(val), "[/%s/,%d]", js, item);
		if (item == NEVER) { /* tried on every host's text */
			add_pair(p, &p->loose, "", val);
			add_pair(p, &p->loose_ip, "", val);
		} else if (r->domain != NULL && valid_name(r->domain)) {
			add_pair(p, &p->bucket, r->domain, val);
		} /* else bound to a domain no host has: matches nothing */
	}
	return 0;
}

static int
cmp_pair(const void *a, const void *b)
{
	return strcmp(((const struct pair *)a)->key,
	              ((const struct pair *)b)->key);
}

/* "var NAME = {".k":[v,v],...};" with the values of equal keys together. */
static void
put_table(FILE *f, const char *name, struct table *t)
{
	size_t i;

	qsort(t->p, t->n, sizeof(*t->p), cmp_pair);
	fprintf(f, "var %s = {", name);
	for (i = 0; i < t->n; i++) {
		int first = i == 0 || strcmp(t->p[i].key, t->p[i - 1].key) != 0;
		int last =
		    i + 1 == t->n || strcmp(t->p[i].key, t->p[i + 1].key) != 0;
		fprintf(f, "%s%s%s%s%s", first && i > 0 ? ",\n" : "",
		        first ? "\"." : ",", first ? t->p[i].key : "",
		        first ? "\":[" : "", t->p[i].val);
		if (last)
			fputc(']', f);
	}
	fprintf(f, "};\n");
}

/* "var NAME = [v,...];" */
static void
put_list(FILE *f, const char *name, const struct table *t)
{
	size_t i;

	fprintf(f, "var %s = [", name);
	for (i = 0; i < t->n; i++)
		fprintf(f, "%s%s", i ? ",\n" : "", t->p[i].val);
	fprintf(f, "];\n");
}

static int
cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return x->item - y->item;
}

/* Sorts the ranges, merges the same prefix of several items, and finds
 * each one's enclosing range; the merged ranges' items get a list in
 * RI, numbered from *n_lists. */
static void
lay_out(struct ranges *rs)
{
	int *stack, top = 0;
	size_t i, n = 0;

	if (rs->n == 0)
		return;
	qsort(rs->r, rs->n, sizeof(*rs->r), cmp_range);
	if ((stack = malloc(rs->n * sizeof(*stack))) == NULL)
		return;
	for (i = 0; i < rs->n; i++) {
		struct range *r = &rs->r[i];
		if (n > 0 && rs->r[n - 1].lo == r->lo &&
		    rs->r[n - 1].plen == r->plen) {
			r->parent = -2; /* an item of the range before */
			continue;
		}
		while (top > 0 && rs->r[stack[top - 1]].hi < r->lo)
			top--;
		r->parent = top > 0 ? stack[top - 1] : -1;
		stack[top++] = (int)i;
		n = i + 1;
	}
	free(stack);
}

/* A range bound as JavaScript: a number (IPv4) or 32 hex digits. */
static void
put_bound(FILE *f, xm_u128 v, int v6)
{
	if (!v6)
		fprintf(f, "%lu", (unsigned long)v);
	else
		fprintf(f, "\"%016llx%016llx\"", (unsigned long long)(v >> 64),
		        (unsigned long long)v);
}

/* The ranges as "var NAME = [lo, hi, parent, list, ...];", with their
 * items' lists appended to RI (numbered from *lists). */
static void
put_ranges(FILE *f, const char *name, const struct ranges *rs, int v6, FILE *ri,
           size_t *lists)
{
	size_t i, k, *index;
	long out = 0;

	fprintf(f, "var %s = [", name);
	if ((index = malloc((rs->n + 1) * sizeof(*index))) == NULL) {
		fprintf(f, "];\n");
		return;
	}
	for (i = 0; i < rs->n; i++) {
		const struct range *r = &rs->r[i];
		if (r->parent == -2)
			continue;
		index[i] = (size_t)out++;
		fprintf(f, "%s", out > 1 ? ",\n" : "");
		put_bound(f, r->lo, v6);
		fputc(',', f);
		put_bound(f, r->hi, v6);
		fprintf(f, ",%ld,%zu",
		        r->parent < 0 ? -1L : (long)index[r->parent], *lists);
		fprintf(ri, "%s[%d", *lists ? ",\n" : "", r->item);
		for (k = i + 1; k < rs->n && rs->r[k].parent == -2; k++)
			fprintf(ri, ",%d", rs->r[k].item);
		fputc(']', ri);
		(*lists)++;
	}
	free(index);
	fprintf(f, "];\n");
}

/* A JavaScript string literal of s (a proxy string from the command
 * line). */
static void
put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The selected sets: [category, TCP port ranges or null], best first. */
static void
put_sets(FILE *f, const struct xm *m)
{
	size_t i, k;

	fprintf(f, "var S = [");
	for (i = 0; i < m->n_set; i++) {
		const struct m365_set *s = m->set[i].s;
		fprintf(f, "%s[%d,", i ? ",\n" : "", (int)s->category);
		if (!s->has_tcp || s->tcp.n == 0) {
			fprintf(f, "null]");
			continue;
		}
		fputc('[', f);
		for (k = 0; k < s->tcp.n; k++)
			fprintf(f, "%s%u,%u", k ? "," : "",
			        (unsigned)s->tcp.r[k].lo,
			        (unsigned)s->tcp.r[k].hi);
		fprintf(f, "]] /* set %lld %s %s */", (long long)s->id,
		        s->category_name, s->service_area);
	}
	fprintf(f, "];\n");
}

static void
free_table(struct table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->p[i].key);
		free(t->p[i].val);
	}
	free(t->p);
}

static void
free_pac(struct pac *p)
{
	free_table(&p->exact);
	free_table(&p->suffix);
	free_table(&p->bucket);
	free_table(&p->loose);
	free_table(&p->loose_ip);
	free(p->v4.r);
	free(p->v6.r);
}

/* Every table of the model into p; 0, or -1 after a message. */
static int
fill(struct pac *p, const struct xm *m)
{
	size_t i, k;

	for (i = 0; i < m->n_set; i++) {
		const struct xm_set *x = &m->set[i];
		for (k = 0; k < x->n_urls; k++)
			add_glob(p, x->urls[k], (int)i);
		for (k = 0; k < x->s->n_ips; k++)
			add_cidr(p, &x->s->ips[k], (int)i);
	}
	if (add_local(p, m->local) < 0)
		return -1;
	lay_out(&p->v4);
	lay_out(&p->v6);
	if (p->oom)
		fprintf(stderr, "m365ctl export: out of memory\n");
	return p->oom ? -1 : 0;
}

int
export_pac(FILE *f, const struct xm *m, const struct export_opts *o)
{
	struct pac p;
	char *ri = NULL;
	size_t ri_len = 0, lists = 0;
	FILE *rf;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	if (fill(&p, m) < 0 || (rf = open_memstream(&ri, &ri_len)) == NULL) {
		free_pac(&p);
		return -1;
	}
	fprintf(f,
	        "// Proxy auto-config written by %s\n"
	        "// list: %s\n// policy: %s\n// local list: %s\n"
	        "// tenant: %s\n"
	        "// DIRECT exactly where ext_m365_acl answers OK (no SNI), "
	        "without DNS lookups.\n\n",
	        o->command, m->origin, m->policy, m->local_name,
	        m->tenant ? m->tenant : "none (tenant patterns as wildcards)");
	fprintf(f, "var DIRECT = ");
	put_string(f, o->direct);
	fprintf(f, ", PROXY = ");
	put_string(f, o->proxy);
	fprintf(f, ", ALLOWED = ");
	put_string(f, o->allow_proxy ? o->allow_proxy : o->direct);
	fprintf(f, ";\nvar ALLOW = %d, NEVER = %d, BYPASS = %d;\n",
	        (int)M365_CAT_ALLOW, NEVER, BYPASS);
	put_sets(f, m);
	put_table(f, "E", &p.exact);
	put_table(f, "W", &p.suffix);
	put_table(f, "G", &p.bucket);
	put_list(f, "GL", &p.loose);
	put_list(f, "GI", &p.loose_ip);
	put_ranges(f, "V4", &p.v4, 0, rf, &lists);
	put_ranges(f, "V6", &p.v6, 1, rf, &lists);
	if (fclose(rf) == 0) {
		fprintf(f, "var RI = [%s];\n\n%s", ri ? ri : "",
		        export_pac_code);
		rc = 0;
	} else {
		fprintf(stderr, "m365ctl export: out of memory\n");
	}
	free(ri);
	free_pac(&p);
	return rc;
}
