/* export_text.c - m365ctl export text: plain one-per-line lists of names
 * and ranges, for firewalls' "external dynamic lists" (see export.h). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "m365_text.h"

/* A range as CIDR text ("52.112.0.0/14", "2603:1063::/38"). */
void
xm_cidr_text(const struct m365_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(c->family, c->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, (unsigned)c->plen);
}

/* Lines collected, to be printed sorted and each once. */
struct lines {
	char **v;
	size_t n, cap;
	int oom;
};

static void
add(struct lines *ls, const char *s)
{
	char *d;

	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 256;
		char **v = realloc(ls->v, cap * sizeof(*v));
		if (v == NULL) {
			ls->oom = 1;
			return;
		}
		ls->v = v;
		ls->cap = cap;
	}
	if ((d = strdup(s)) == NULL)
		ls->oom = 1;
	else
		ls->v[ls->n++] = d;
}

/* Prints the lines sorted, each once, and frees them; -1 when out of
 * memory. */
static int
flush_lines(FILE *f, struct lines *ls)
{
	size_t i;
	int oom = ls->oom;

	if (!oom && ls->n > 0)
		qsort(ls->v, ls->n, sizeof(*ls->v), m365_strptr_cmp);
	for (i = 0; !oom && i < ls->n; i++)
		if (i == 0 || strcmp(ls->v[i], ls->v[i - 1]) != 0)
			fprintf(f, "%s\n", ls->v[i]);
	for (i = 0; i < ls->n; i++)
		free(ls->v[i]);
	free(ls->v);
	memset(ls, 0, sizeof(*ls));
	if (oom)
		fprintf(stderr, "m365ctl export: out of memory\n");
	return oom ? -1 : 0;
}

/* The names: every url of the selected sets and the local bypass globs. */
static int
names(FILE *f, const struct xm *m)
{
	struct lines ls = {0};
	size_t i, j;

	for (i = 0; i < m->n_set; i++)
		for (j = 0; j < m->set[i].n_urls; j++)
			add(&ls, m->set[i].urls[j]);
	for (i = 0; m->local && i < m->local->n_rules; i++) {
		const struct m365_rule *r = &m->local->rules[i];
		if (r->verb == M365_VERB_BYPASS && r->kind == M365_RULE_GLOB)
			add(&ls, r->glob);
	}
	return flush_lines(f, &ls);
}

/* Adds range c if it is of family (0: any); IPv4 in IPv6 as IPv4. */
static void
add_range(struct lines *ls, struct m365_cidr c, int family)
{
	struct m365_cidr v4;
	char buf[64];

	if (m365_cidr_v4_part(&c, &v4) == M365_CIDR_V4_ONLY)
		c = v4;
	if (family != 0 && c.family != family)
		return;
	xm_cidr_text(&c, buf, sizeof(buf));
	add(ls, buf);
}

/* The ranges of one family (0: both): the selected sets' and the local
 * bypass ranges. */
static int
ranges(FILE *f, const struct xm *m, int family)
{
	struct lines ls = {0};
	struct m365_cidr c;
	size_t i, j;

	for (i = 0; i < m->n_set; i++)
		for (j = 0; j < m->set[i].s->n_ips; j++)
			add_range(&ls, m->set[i].s->ips[j], family);
	for (i = 0; m->local && i < m->local->n_rules; i++) {
		const struct m365_rule *r = &m->local->rules[i];
		if (r->verb != M365_VERB_BYPASS || r->kind != M365_RULE_CIDR)
			continue;
		m365_rule_cidr(r, &c);
		add_range(&ls, c, family);
	}
	return flush_lines(f, &ls);
}

/* A comment on what the lists leave out: the rules no plain list can
 * express. */
static void
left_out(FILE *f, const struct xm *m)
{
	size_t i, never = 0, re = 0;

	for (i = 0; m->local && i < m->local->n_rules; i++) {
		never += m->local->rules[i].verb == M365_VERB_NEVER;
		re += m->local->rules[i].verb == M365_VERB_BYPASS &&
		      m->local->rules[i].kind == M365_RULE_REGEX;
	}
	if (never > 0)
		fprintf(f,
		        "# not applied: %zu local never rule(s) (a plain list "
		        "cannot take entries away)\n",
		        never);
	if (re > 0)
		fprintf(f, "# not listed: %zu local bypass regex(es)\n", re);
	fprintf(f, "# not applied: the sets' TCP ports (any port here)\n");
}

int
export_text(FILE *f, const struct xm *m, const struct export_opts *o)
{
	fprintf(f, "# %s\n# list: %s\n# policy: %s\n", o->command, m->origin,
	        m->policy);
	left_out(f, m);
	if ((strcmp(o->kind, "all") == 0 || strcmp(o->kind, "names") == 0) &&
	    names(f, m) < 0)
		return -1;
	if (strcmp(o->kind, "names") == 0)
		return 0;
	return ranges(f, m,
	              strcmp(o->kind, "ipv4") == 0   ? AF_INET
	              : strcmp(o->kind, "ipv6") == 0 ? AF_INET6
	                                             : 0);
}
