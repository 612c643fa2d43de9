/*
 * checks.c - the safety checks of a new list against the current one, and
 * the change summary (see publish.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "m365_breadth.h"
#include "m365_text.h"
#include "publish.h"

/* The measures the growth gate compares, in the order it reports them. */
enum { M_NAMES, M_ADDRS, M_V4, M_V6, M_PORTS, M_COUNT };

static const char *const measure_name[M_COUNT] = {
    "names", "address entries", "IPv4 addresses covered",
    "IPv6 addresses covered", "TCP ports"};

/* The distinct names (ips == 0) or addresses (ips == 1) of a list, sorted
 * and unique; their count goes to *n. */
static const char **
distinct(const struct m365_endpoints *ep, int ips, size_t *n)
{
	const char **v =
	    calloc((ips ? ep->n_ips : ep->n_urls) + 1, sizeof(char *));
	size_t i, j, k = 0;

	*n = 0;
	if (v == NULL)
		return NULL;
	for (i = 0; i < ep->n_sets; i++) {
		const struct m365_set *s = &ep->sets[i];
		for (j = 0; j < (ips ? s->n_ips : s->n_urls); j++)
			v[k++] = ips ? s->ips[j].text : s->urls[j];
	}
	qsort(v, k, sizeof(*v), m365_strptr_cmp);
	for (i = 0; i < k; i++)
		if (*n == 0 || strcmp(v[*n - 1], v[i]) != 0)
			v[(*n)++] = v[i];
	return v;
}

/* The number of distinct names plus distinct addresses of a list. */
static size_t
count_distinct(const struct m365_endpoints *ep)
{
	size_t names, addrs;

	free(distinct(ep, 0, &names));
	free(distinct(ep, 1, &addrs));
	return names + addrs;
}

/* Counts what b adds to a and what it removes, by sorted merge. */
static void
diff(const char **a, size_t na, const char **b, size_t nb, size_t *add,
     size_t *del)
{
	size_t i = 0, j = 0;

	*add = *del = 0;
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i], b[j]);
		if (c == 0)
			i++, j++;
		else if (c < 0)
			(*del)++, i++;
		else
			(*add)++, j++;
	}
}

static int
has_id(const struct m365_endpoints *ep, long long id)
{
	size_t i;

	for (i = 0; i < ep->n_sets; i++)
		if (ep->sets[i].id == id)
			return 1;
	return 0;
}

char *
publish_summary(const struct m365_endpoints *old,
                const struct m365_endpoints *neu, char *buf, size_t len)
{
	size_t sa = 0, sd = 0, n[4], add[2] = {0, 0}, del[2] = {0, 0}, i;
	const char **v[4] = {NULL, NULL, NULL, NULL};
	int k;

	for (k = 0; k < 2; k++) {
		v[2 * k] = old ? distinct(old, k, &n[2 * k]) : NULL;
		v[2 * k + 1] = distinct(neu, k, &n[2 * k + 1]);
		if (!old)
			n[2 * k] = 0;
		diff(v[2 * k], n[2 * k], v[2 * k + 1], n[2 * k + 1], &add[k],
		     &del[k]);
	}
	for (i = 0; i < neu->n_sets; i++)
		sa += !old || !has_id(old, neu->sets[i].id);
	for (i = 0; old && i < old->n_sets; i++)
		sd += !has_id(neu, old->sets[i].id);
	snprintf(buf, len,
	         "sets %zu (+%zu -%zu), names %zu (+%zu -%zu), addresses %zu "
	         "(+%zu -%zu)",
	         neu->n_sets, sa, sd, n[1], add[0], del[0], n[3], add[1],
	         del[1]);
	for (k = 0; k < 4; k++)
		free(v[k]);
	return buf;
}

static int
check_shrink(const struct m365_endpoints *old, const struct m365_endpoints *neu,
             struct m365_err *err)
{
	size_t on, nn;

	if (neu->n_sets * 2 < old->n_sets)
		return m365_err_set(
		    err, M365_E_REFUSED,
		    "refused: %zu sets where the current list has %zu "
		    "(more than half lost; --force to publish anyway)",
		    neu->n_sets, old->n_sets);
	on = count_distinct(old);
	nn = count_distinct(neu);
	if (nn * 2 < on)
		return m365_err_set(
		    err, M365_E_REFUSED,
		    "refused: %zu names and addresses where the current "
		    "list has %zu (more than half lost; --force to "
		    "publish anyway)",
		    nn, on);
	return 0;
}

static int
cmp_cidr(const void *a, const void *b)
{
	const struct m365_cidr *x = *(const struct m365_cidr *const *)a;
	const struct m365_cidr *y = *(const struct m365_cidr *const *)b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

/* 2 to the power k (0 <= k <= 128), exactly. */
static double
pow2(int k)
{
	double v = 1;

	while (k-- > 0)
		v *= 2;
	return v;
}

/* The address measures over the distinct ranges of a list. */
static void
measure_addrs(const struct m365_endpoints *ep, double m[M_COUNT])
{
	const struct m365_cidr **v = calloc(ep->n_ips + 1, sizeof(*v));
	size_t i, j, k = 0;

	if (v == NULL)
		return; /* no measure: nothing refused for lack of memory */
	for (i = 0; i < ep->n_sets; i++)
		for (j = 0; j < ep->sets[i].n_ips; j++)
			v[k++] = &ep->sets[i].ips[j];
	qsort(v, k, sizeof(*v), cmp_cidr);
	for (i = 0; i < k; i++) {
		if (i > 0 && cmp_cidr(&v[i - 1], &v[i]) == 0)
			continue;
		m[M_ADDRS]++;
		if (v[i]->family == AF_INET6)
			m[M_V6] += pow2(128 - v[i]->plen);
		else
			m[M_V4] += pow2(32 - v[i]->plen);
	}
	free(v);
}

/* The number of TCP ports of a set. */
static double
tcp_ports(const struct m365_set *s)
{
	double n = 0;
	uint32_t i;

	for (i = 0; s->has_tcp && i < s->tcp.n; i++)
		n += s->tcp.r[i].hi - s->tcp.r[i].lo + 1;
	return n;
}

static void
measure(const struct m365_endpoints *ep, double m[M_COUNT])
{
	size_t n, i;

	memset(m, 0, M_COUNT * sizeof(*m));
	free(distinct(ep, 0, &n));
	m[M_NAMES] = (double)n;
	measure_addrs(ep, m);
	for (i = 0; i < ep->n_sets; i++)
		m[M_PORTS] += tcp_ports(&ep->sets[i]);
}

/* A measure as a whole number, or in scientific notation when huge. */
static char *
figure(double v, char *buf, size_t len)
{
	snprintf(buf, len, v < 1e15 ? "%.0f" : "%.4g", v);
	return buf;
}

static int
check_growth(const struct m365_endpoints *old, const struct m365_endpoints *neu,
             double factor, struct m365_err *err)
{
	double o[M_COUNT], n[M_COUNT];
	char a[32], b[32];
	int i;

	measure(old, o);
	measure(neu, n);
	for (i = 0; i < M_COUNT; i++)
		if (n[i] > (o[i] < 1 ? 1 : o[i]) * factor)
			return m365_err_set(
			    err, M365_E_REFUSED,
			    "refused: %s grow from %s to %s (more than %gx; "
			    "--max-growth or --force to publish anyway)",
			    measure_name[i], figure(o[i], a, sizeof(a)),
			    figure(n[i], b, sizeof(b)), factor);
	return 0;
}

int
publish_check(struct target *t, const struct m365_endpoints *old,
              const struct m365_endpoints *neu, struct m365_err *err)
{
	t->refusal = "breadth";
	if (m365_breadth_check(neu, NULL, err) < 0)
		return m365_err_prefix(err, "refused");
	t->refusal = NULL;
	if (old == NULL || t->force)
		return 0;
	t->refusal = "shrink";
	if (check_shrink(old, neu, err) < 0)
		return -1;
	t->refusal = "growth";
	if (check_growth(old, neu, t->max_growth, err) < 0)
		return -1;
	t->refusal = NULL;
	return 0;
}
