/*
 * bench_classify.c - in-process benchmark of m365_classify().
 *
 *     bench_classify [-t SECONDS]
 *
 * Loads the bundled list with the default options (m365_list_load), builds
 * a mixed array of requests from the list itself (Microsoft exact names,
 * suffix-wildcard names with random prefixes, look-alikes, IPv4/IPv6 inside
 * and outside Microsoft's ranges, unrelated names; ports 443/80/8080/-;
 * mostly no SNI, sometimes the destination again) and classifies them in a
 * loop on one thread for SECONDS (default 1) of that thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID: time the scheduler gives to other jobs does not
 * count).  Then, for each kind of destination, a separate array of requests
 * of that kind only, built the same way, classified alone for 0.4 x SECONDS:
 * the kinds are partitioned, so no lookup of the timed loop is of another
 * kind or skipped.  Uses the public API only (m365_list.h,
 * m365_classify.h), so bench/base.sh can build it against an older
 * libm365.a.  Prints
 *
 *     classify: N lookups in S s CPU = X lookups/s, Y ns/lookup
 *     classify: OK=a ERR=b
 *     classify: by kind of destination, each kind alone:
 *     classify:   KIND (P% of the mix) X lookups/s, Y ns/lookup, Z% OK
 *     ...
 *
 * (the OK counts keep the compiler from dropping the work).  bench/run.sh
 * judges the mix's rate.  Exit 0, or 1 when the list does not load.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "m365_classify.h"
#include "m365_list.h"

#define N_REQ 8192 /* distinct requests, cycled */
#define HOST_LEN 128

enum kind { K_MICROSOFT, K_LOOKALIKE, K_IP_IN, K_IP_OUT, K_UNRELATED, K_N };

static const char *const kind_names[K_N] = {
    "microsoft-name", "look-alike", "ip-inside", "ip-outside", "unrelated"};
/* the share of each kind in the mix, in percent */
static const unsigned kind_share[K_N] = {40, 10, 15, 10, 25};

struct request {
	char dst[HOST_LEN];
	const char *port;
	const char *sni;
	enum kind kind;
};

static struct request mix[N_REQ];
static struct request by_kind[K_N][N_REQ];

/* CPU seconds this thread has run. */
static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: a fixed sequence, so every run classifies the same mix. */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* A random set of the list that has urls (want_ips false) or ips. */
static const struct m365_set *
pick_set(const struct m365_endpoints *ep, uint64_t r, int want_ips)
{
	for (size_t i = 0; i < ep->n_sets; i++) {
		const struct m365_set *s = &ep->sets[(r + i) % ep->n_sets];
		if (want_ips ? s->n_ips > 0 : s->n_urls > 0)
			return s;
	}
	return NULL;
}

/* Writes a name matching pattern: each '*' becomes a random label run. */
static void
expand_glob(char *h, const char *pattern, uint64_t r)
{
	size_t n = 0;

	for (const char *p = pattern; *p && n + 16 < HOST_LEN; p++) {
		if (*p == '*')
			n += (size_t)snprintf(h + n, HOST_LEN - n, "%s%x",
			                      (r & 1) ? "a1." : "t",
			                      (unsigned)(r >> 8) & 0xfffff);
		else
			h[n++] = *p;
	}
	h[n] = '\0';
}

/* A Microsoft name: an exact url as is, a wildcard with a random part. */
static void
gen_microsoft(char *h, const struct m365_endpoints *ep, uint64_t r)
{
	const struct m365_set *s = pick_set(ep, r, 0);
	const char *u = s->urls[(r >> 16) % s->n_urls];

	if (strchr(u, '*') != NULL)
		expand_glob(h, u, r >> 24);
	else
		snprintf(h, HOST_LEN, "%s", u);
}

/* A look-alike of a Microsoft name, never a Microsoft name itself. */
static void
gen_lookalike(char *h, const struct m365_endpoints *ep, uint64_t r)
{
	char name[HOST_LEN];

	gen_microsoft(name, ep, r);
	if (r & (1ULL << 60))
		snprintf(h, HOST_LEN, "%.100s.evil.example", name);
	else
		snprintf(h, HOST_LEN, "x%.100s-evil.example", name);
}

/* An address inside a random CIDR of the list, IPv6 sometimes in []. */
static void
gen_ip_inside(char *h, const struct m365_endpoints *ep, uint64_t r)
{
	const struct m365_set *s = pick_set(ep, r, 1);
	const struct m365_cidr *c = &s->ips[(r >> 16) % s->n_ips];
	uint8_t a[16];
	size_t bytes = c->family == AF_INET ? 4 : 16;
	uint64_t bits = r ^ (r << 29);
	char text[INET6_ADDRSTRLEN];

	memcpy(a, c->addr, sizeof(a));
	for (size_t i = 0; i < bytes; i++) {
		size_t first = i * 8; /* bits of byte i above plen are random */
		size_t plen = c->plen;
		uint8_t keep = plen >= first + 8 ? 0xff
		               : plen <= first
		                   ? 0
		                   : (uint8_t)(0xff << (8 - (plen - first)));
		a[i] =
		    (uint8_t)((a[i] & keep) | ((bits >> (i % 8 * 8)) & ~keep));
	}
	inet_ntop(c->family, a, text, sizeof(text));
	snprintf(h, HOST_LEN, (bytes == 16 && (r & 2)) ? "[%s]" : "%s", text);
}

/* An address outside Microsoft's ranges (documentation ranges). */
static void
gen_ip_outside(char *h, uint64_t r)
{
	if (r & 1)
		snprintf(h, HOST_LEN, "198.51.100.%u",
		         (unsigned)(r >> 8) & 0xff);
	else
		snprintf(h, HOST_LEN, "2001:db8:%x::%x",
		         (unsigned)(r >> 8) & 0xffff,
		         (unsigned)(r >> 24) & 0xffff);
}

/* Fills one request of the given kind. */
static void
gen_request(struct request *q, const struct m365_endpoints *ep, uint64_t r,
            enum kind kind)
{
	static const char *const ports[] = {"443", "443", "80", "8080", "-"};

	q->kind = kind;
	if (q->kind == K_MICROSOFT)
		gen_microsoft(q->dst, ep, r >> 7);
	else if (q->kind == K_LOOKALIKE)
		gen_lookalike(q->dst, ep, r >> 7);
	else if (q->kind == K_IP_IN)
		gen_ip_inside(q->dst, ep, r >> 7);
	else if (q->kind == K_IP_OUT)
		gen_ip_outside(q->dst, r >> 7);
	else
		snprintf(q->dst, HOST_LEN, "host%u.example%u.com",
		         (unsigned)(r >> 8) & 0xffff, (unsigned)(r >> 30) & 7);
	q->port = ports[(r >> 40) % 5];
	q->sni = ((r >> 50) % 8 == 0 && q->dst[0] != '[') ? q->dst : "-";
}

/* The kind of a mixed request: kind_share[k] percent of kind k. */
static enum kind
mix_kind(uint64_t r)
{
	unsigned k = (unsigned)(r % 100), sum = 0;
	int i;

	for (i = 0; i < K_N - 1; i++)
		if (k < (sum += kind_share[i]))
			break;
	return (enum kind)i;
}

/* Classifies every request of q[0..N_REQ) once; adds to the counts. */
static void
one_pass(const struct m365_list *list, const struct request *q,
         uint64_t count[2])
{
	struct m365_verdict v;

	for (size_t i = 0; i < N_REQ; i++) {
		m365_classify(list, q[i].dst, q[i].port, q[i].sni, &v);
		count[v.result == M365_OK]++;
	}
}

/*
 * Classifies q[] over and over for at least secs of CPU time, after one
 * pass to warm the caches; returns the lookups, their CPU time in *secs
 * and the counts in count.
 */
static uint64_t
timed(const struct m365_list *list, const struct request *q, double *secs,
      uint64_t count[2])
{
	uint64_t n = 0;
	double want = *secs, t0;

	one_pass(list, q, count);
	count[0] = count[1] = 0;
	t0 = cpu_now();
	do {
		one_pass(list, q, count);
		n += N_REQ;
		*secs = cpu_now() - t0;
	} while (*secs < want);
	return n;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_classify [-t SECONDS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct m365_options opt = {0};
	struct m365_err err;
	struct m365_list *list;
	uint64_t seed = 0x9e3779b97f4a7c15ULL, count[2] = {0, 0}, n;
	double t_mix = 1.0, secs;
	int c;

	while ((c = getopt(argc, argv, "t:")) != -1) {
		if (c == 't' && (t_mix = atof(optarg)) > 0)
			continue;
		usage();
	}
	if ((list = m365_list_load(&opt, &err)) == NULL) {
		fprintf(stderr, "bench_classify: %s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < N_REQ; i++) {
		uint64_t r = next_rand(&seed);
		gen_request(&mix[i], m365_list_endpoints(list), r, mix_kind(r));
	}
	for (int k = 0; k < K_N; k++)
		for (size_t i = 0; i < N_REQ; i++)
			gen_request(&by_kind[k][i], m365_list_endpoints(list),
			            next_rand(&seed), (enum kind)k);
	secs = t_mix;
	n = timed(list, mix, &secs, count);
	printf("classify: %llu lookups in %.3f s CPU = %.0f lookups/s, %.1f "
	       "ns/lookup\n",
	       (unsigned long long)n, secs, (double)n / secs,
	       secs * 1e9 / (double)n);
	printf("classify: OK=%llu ERR=%llu\n", (unsigned long long)count[1],
	       (unsigned long long)count[0]);
	printf("classify: by kind of destination, each kind alone:\n");
	for (int k = 0; k < K_N; k++) {
		secs = 0.4 * t_mix;
		n = timed(list, by_kind[k], &secs, count);
		printf("classify:   %-15s (%2u%% of the mix) %10.0f lookups/s, "
		       "%6.1f ns/lookup, %3.0f%% OK\n",
		       kind_names[k], kind_share[k], (double)n / secs,
		       secs * 1e9 / (double)n,
		       100.0 * (double)count[1] /
		           (double)(count[0] + count[1]));
	}
	m365_list_unref(list);
	return 0;
}
