/*
 * bench_classify.c - in-process benchmark of m365_classify().
 *
 * Loads the bundled list with the default options (m365_list_load), builds
 * a mixed array of requests from the list itself (Microsoft exact names,
 * suffix-wildcard names with random prefixes, look-alikes, IPv4/IPv6 inside
 * and outside Microsoft's ranges, unrelated names; ports 443/80/8080/-;
 * mostly no SNI, sometimes the destination again) and classifies them in a
 * loop on one thread until 3 seconds or 20 million lookups have passed.
 * Prints
 *
 *     classify: N lookups in S s = X lookups/s
 *     classify: OK=a ERR=b
 *
 * (the counts keep the compiler from dropping the work), then the rate of
 * each kind of destination alone, to show where the time goes.  The target is
 * at least 5 million lookups/s; bench/run.sh judges it.  Exit 0, or 1 when the
 * list does not load.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "bench_clock.h"
#include "m365_classify.h"
#include "m365_list.h"

#define N_REQ 8192 /* distinct requests, cycled */
#define HOST_LEN 128
#define MIN_SECONDS 3.0
#define MAX_LOOKUPS 20000000ULL

enum kind { K_MICROSOFT, K_LOOKALIKE, K_IP_IN, K_IP_OUT, K_UNRELATED, K_N };

static const char *const kind_names[K_N] = {
    "microsoft-name", "look-alike", "ip-inside", "ip-outside", "unrelated"};

struct request {
	char dst[HOST_LEN];
	const char *port;
	const char *sni;
	enum kind kind;
};

static struct request reqs[N_REQ];

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

/* Fills one request: 40% Microsoft names, 10% look-alikes, 15% inside
 * IPs, 10% outside IPs, 25% unrelated names. */
static void
gen_request(struct request *q, const struct m365_endpoints *ep, uint64_t r)
{
	static const char *const ports[] = {"443", "443", "80", "8080", "-"};
	unsigned k = (unsigned)(r % 100);

	q->kind = k < 40   ? K_MICROSOFT
	          : k < 50 ? K_LOOKALIKE
	          : k < 65 ? K_IP_IN
	          : k < 75 ? K_IP_OUT
	                   : K_UNRELATED;
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

/* Classifies every request once; adds to the OK/ERR counts. */
static void
one_pass(const struct m365_list *list, uint64_t count[2])
{
	struct m365_verdict v;

	for (size_t i = 0; i < N_REQ; i++) {
		m365_classify(list, reqs[i].dst, reqs[i].port, reqs[i].sni, &v);
		count[v.result == M365_OK]++;
	}
}

/* Times the requests of one kind alone for about 0.2 s; prints the rate. */
static void
time_kind(const struct m365_list *list, enum kind kind)
{
	struct m365_verdict v;
	uint64_t n = 0, ok = 0;
	double t0 = bench_now(), secs = 0;

	while (secs < 0.2) {
		for (size_t i = 0; i < N_REQ; i++) {
			if (reqs[i].kind != kind)
				continue;
			m365_classify(list, reqs[i].dst, reqs[i].port,
			              reqs[i].sni, &v);
			ok += v.result == M365_OK;
			n++;
		}
		secs = bench_now() - t0;
	}
	printf("classify:   %-15s %10.0f lookups/s (%.0f%% OK)\n",
	       kind_names[kind], (double)n / secs,
	       100.0 * (double)ok / (double)n);
}

int
main(void)
{
	struct m365_options opt = {0};
	struct m365_err err;
	struct m365_list *list = m365_list_load(&opt, &err);
	uint64_t seed = 0x9e3779b97f4a7c15ULL, count[2] = {0, 0}, n = 0;

	if (list == NULL) {
		fprintf(stderr, "bench_classify: %s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < N_REQ; i++)
		gen_request(&reqs[i], m365_list_endpoints(list),
		            next_rand(&seed));
	one_pass(list, count); /* warm up the caches */
	count[0] = count[1] = 0;
	double t0 = bench_now(), secs = 0;
	while (secs < MIN_SECONDS && n < MAX_LOOKUPS) {
		one_pass(list, count);
		n += N_REQ;
		secs = bench_now() - t0;
	}
	printf("classify: %llu lookups in %.3f s = %.0f lookups/s\n",
	       (unsigned long long)n, secs, (double)n / secs);
	printf("classify: OK=%llu ERR=%llu\n", (unsigned long long)count[1],
	       (unsigned long long)count[0]);
	printf("classify: by kind of destination:\n");
	for (int k = 0; k < K_N; k++)
		time_kind(list, (enum kind)k);
	m365_list_unref(list);
	return 0;
}
