/* export_model.c - what m365ctl export writes (see export.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "export.h"
#include "m365_policy.h"

const char *
xm_tenant_url(const char *url, const char *tenant, char *buf, size_t len)
{
	const char *star = strchr(url, '*');
	size_t at;
	int n;

	if (tenant == NULL || star == NULL || strchr(star + 1, '*') != NULL)
		return url;
	at = (size_t)(star - url);
	/* "*-files.sharepoint.com": the start of the first label */
	if (at == 0 && star[1] == '-')
		n = snprintf(buf, len, "%s%s", tenant, star + 1);
	/* "autodiscover.*.onmicrosoft.com": a whole label, not the first */
	else if (at > 0 && url[at - 1] == '.' && star[1] == '.')
		n = snprintf(buf, len, "%.*s%s%s", (int)at, url, tenant,
		             star + 1);
	else
		return url;
	return n > 0 && (size_t)n < len ? buf : url;
}

size_t
xm_cidr_ranges(const struct m365_cidr *c, struct m365_cidr out[2])
{
	enum m365_cidr_v4 side = m365_cidr_v4_part(c, &out[0]);

	if (side == M365_CIDR_V4_ONLY)
		return 1;
	if (side == M365_CIDR_V4_NONE) {
		out[0] = *c;
		return 1;
	}
	out[1] = *c;
	return 2;
}

void
xm_cidr_bounds(const struct m365_cidr *c, xm_u128 *lo, xm_u128 *hi)
{
	unsigned bits = c->family == AF_INET ? 32 : 128, i;
	xm_u128 a = 0, host;

	for (i = 0; i < bits / 8; i++)
		a = a << 8 | c->addr[i];
	/* the host bits (all 128 of ::/0: no shift by the width) */
	host = c->plen >= bits         ? 0
	       : bits - c->plen >= 128 ? ~(xm_u128)0
	                               : ((xm_u128)1 << (bits - c->plen)) - 1;
	*lo = a & ~host;
	*hi = a | host;
}

char *
xm_clean(char *s)
{
	char *p;

	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

/* Best first: Optimize, Allow, Default, then the lowest id. */
static int
cmp_set(const void *a, const void *b)
{
	const struct xm_set *x = a, *y = b;

	if (x->s->category != y->s->category)
		return (int)x->s->category - (int)y->s->category;
	return (x->s->id > y->s->id) - (x->s->id < y->s->id);
}

int
xm_build(struct xm *m, const struct m365_list *l, const char *origin,
         const char *tenant)
{
	const struct m365_endpoints *ep = m365_list_endpoints(l);
	const struct m365_policy *p = m365_list_policy(l);
	size_t i, j, bytes = 0, at = 0;

	memset(m, 0, sizeof(*m));
	m->l = l;
	m->local = m365_list_local(l);
	m->tenant = tenant;
	snprintf(m->origin, sizeof(m->origin), "%s", origin);
	m365_policy_describe(p, m->policy, sizeof(m->policy));
	snprintf(m->local_name, sizeof(m->local_name), "%s",
	         m->local ? m->local->source : "none");
	xm_clean(m->origin);
	xm_clean(m->policy);
	xm_clean(m->local_name);
	if ((m->set = calloc(ep->n_sets + 1, sizeof(*m->set))) == NULL)
		return -1;
	for (i = 0; i < ep->n_sets; i++) {
		const struct m365_set *s = &ep->sets[i];
		if (!m365_policy_selects(p, s))
			continue;
		m->set[m->n_set++].s = s;
		for (j = 0; j < s->n_urls; j++)
			bytes += strlen(s->urls[j]) +
			         (tenant ? strlen(tenant) : 0) + 1;
	}
	qsort(m->set, m->n_set, sizeof(*m->set), cmp_set);
	if ((m->arena = malloc(bytes + 1)) == NULL)
		return -1;
	for (i = 0; i < m->n_set; i++) {
		struct xm_set *x = &m->set[i];
		x->n_urls = x->s->n_urls;
		if ((x->urls = calloc(x->n_urls + 1, sizeof(*x->urls))) == NULL)
			return -1;
		for (j = 0; j < x->n_urls; j++) {
			const char *u =
			    xm_tenant_url(x->s->urls[j], tenant, m->arena + at,
			                  bytes + 1 - at);
			if (u == m->arena + at)
				at += strlen(u) + 1;
			x->urls[j] = u;
		}
	}
	return 0;
}

void
xm_free(struct xm *m)
{
	size_t i;

	for (i = 0; m->set && i < m->n_set; i++)
		free(m->set[i].urls);
	free(m->set);
	free(m->arena);
	memset(m, 0, sizeof(*m));
}
