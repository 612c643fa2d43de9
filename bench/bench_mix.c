/*
 * bench_mix.c - the request mix of the helper benchmarks (bench_mix.h).
 * Measures nothing and prints nothing: bench_driver and bench_reload_load
 * send what it builds.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_mix.h"

static const char *const exact_names[] = {
    "teams.microsoft.com",
    "outlook.office365.com",
    "outlook.office.com",
    "smtp.office365.com",
    "teams.cloud.microsoft",
    "outlook.cloud.microsoft",
    "account.activedirectory.windowsazure.com",
    "compliance.microsoft.com",
    "defender.microsoft.com",
    "office.live.com",
    "aka.ms",
    "crl.microsoft.com",
    "go.microsoft.com",
    "admin.microsoft.com",
    "www.onedrive.com",
    "storage.live.com",
    "login.live.com",
    "sway.com",
};

static const char *const suffixes[] = {
    "teams.microsoft.com",
    "lync.com",
    "sharepoint.com",
    "protection.outlook.com",
    "officeapps.live.com",
    "online.office.com",
    "auth.microsoft.com",
    "microsoftonline.com",
    "office.net",
    "office.com",
    "skype.com",
    "mail.protection.outlook.com",
    "teams.cloud.microsoft",
    "cloud.microsoft",
    "onmicrosoft.com",
    "yammer.com",
};

static const char *const lookalikes[] = {
    "teams.microsoft.com.evil.example",
    "teams-microsoft.com",
    "outlook.office365.com.attacker.net",
    "sharepoint.com.evil.org",
    "microsoft.com-login.example",
    "evilsharepoint.com",
    "teamsmicrosoft.com",
    "office365.co",
    "lync.com.example",
    "m1crosoft.com",
};

static const char *const unrelated[] = {
    "www.example.com",      "cdn.example.net",  "api.github.com",
    "www.google.com",       "debian.org",       "deb.debian.org",
    "news.ycombinator.com", "s3.amazonaws.com", "www.wikipedia.org",
    "static.zoom.us",
};

uint64_t
mix_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

#define PICK(arr, r) ((arr)[(r) % (sizeof(arr) / sizeof((arr)[0]))])

/* A name under a Microsoft suffix wildcard, e.g. "x3f9a.sharepoint.com". */
static void
gen_suffix(char *h, size_t len, uint64_t r)
{
	snprintf(h, len, "%s%" PRIx64 ".%s", (r & 1) ? "tenant-" : "x",
	         (r >> 8) & 0xffffff, PICK(suffixes, r >> 40));
}

/* An IPv4 address inside (in=true) or outside Microsoft's ranges. */
static void
gen_ipv4(char *h, size_t len, uint64_t r, bool in)
{
	static const unsigned teams_b[] = {112, 113, 114, 115, 122, 123};
	unsigned a = (unsigned)(r >> 16) & 0xff, b = (unsigned)(r >> 24) & 0xff;

	if (!in) /* documentation ranges */
		snprintf(h, len, "%s.%u", (r & 1) ? "198.51.100" : "203.0.113",
		         a);
	else if ((r >> 32) % 4 == 0) /* 52.112.0.0/14, 52.122.0.0/15 */
		snprintf(h, len, "52.%u.%u.%u", PICK(teams_b, r >> 40), a, b);
	else if ((r >> 32) % 4 == 1) /* 40.92.0.0/15 */
		snprintf(h, len, "40.%u.%u.%u", 92 + (a & 1), a, b);
	else if ((r >> 32) % 4 == 2) /* 13.107.6.152/31 */
		snprintf(h, len, "13.107.6.%u", 152 + (a & 1));
	else /* 20.190.128.0/18 */
		snprintf(h, len, "20.190.%u.%u", 128 + (a & 63), b);
}

/* An IPv6 address inside or outside Microsoft's ranges, sometimes in []. */
static void
gen_ipv6(char *h, size_t len, uint64_t r, bool in)
{
	unsigned a = (unsigned)(r >> 16) & 0xffff,
	         b = (unsigned)(r >> 32) & 0xffff;
	const char *o = (r & 1) ? "[" : "", *c = (r & 1) ? "]" : "";

	if (in)
		snprintf(h, len, "%s2603:1063:%x:%x::%x%s", o, a & 0x3ff, b,
		         a ^ b, c);
	else
		snprintf(h, len, "%s2001:db8:%x:%x::%x%s", o, a, b, a ^ b, c);
}

/* Writes the destination of request r into h. */
static void
gen_dst(char *h, size_t len, uint64_t r)
{
	unsigned k = (unsigned)(r % 100);

	if (k < 25)
		snprintf(h, len, "%s", PICK(exact_names, r >> 8));
	else if (k < 50)
		gen_suffix(h, len, r >> 7);
	else if (k < 60)
		snprintf(h, len, "%s", PICK(lookalikes, r >> 8));
	else if (k < 70)
		gen_ipv4(h, len, r >> 7, true);
	else if (k < 75)
		gen_ipv4(h, len, r >> 7, false);
	else if (k < 80)
		gen_ipv6(h, len, r >> 7, true);
	else if (k < 85)
		gen_ipv6(h, len, r >> 7, false);
	else
		snprintf(h, len, "%s", PICK(unrelated, r >> 8));
}

/* Port: 443 50%, 80 20%, 8080 15%, unknown 15%. */
static const char *
gen_port(uint64_t r)
{
	unsigned k = (unsigned)(r % 20);
	return k < 10 ? "443" : k < 14 ? "80" : k < 17 ? "8080" : "-";
}

/* Zeroed memory a child forked later does not inherit; NULL on failure. */
static void *
alloc_unshared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, len, MADV_DONTFORK);
	return p;
}

size_t
mix_line(char *line, size_t i, uint64_t r, const struct host_file *hf,
         unsigned pct, uint64_t pick)
{
	char dst[256];
	unsigned k = (unsigned)((r >> 50) % 10);
	const char *sni = k < 6 ? "-" : k < 9 ? dst : "teams.microsoft.com";
	int n;

	if (hf != NULL && hf->n > 0 && pick % 100 < pct)
		snprintf(dst, sizeof(dst), "%s", hf->host[(pick >> 8) % hf->n]);
	else
		gen_dst(dst, sizeof(dst), r);
	if (dst[0] == '[' && sni == dst)
		sni = "-"; /* an SNI is never an IP literal in brackets */
	n = snprintf(line, MIX_LINE_MAX, "%zu %s %s %s -\n", i, dst,
	             gen_port(r >> 20), sni);
	return n < 0 || n >= MIX_LINE_MAX ? 0 : (size_t)n;
}

int
mix_requests(struct requests *rq, size_t n, uint64_t seed,
             const struct host_file *hf, unsigned pct)
{
	uint64_t pick_seed = (seed ^ 0x5851f42d4c957f2dULL) | 1;
	size_t off = 0;

	rq->n = n;
	rq->buf = alloc_unshared(n * MIX_LINE_MAX);
	rq->end = alloc_unshared(n * sizeof(*rq->end));
	if (rq->buf == NULL || rq->end == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t r = mix_rand(&seed);
		uint64_t pick = hf != NULL ? mix_rand(&pick_seed) : 0;
		off += mix_line(rq->buf + off, i, r, hf, pct, pick);
		rq->end[i] = off;
	}
	return 0;
}

int
mix_hosts_load(const char *path, struct host_file *hf)
{
	FILE *f = fopen(path, "rb");
	long len;
	size_t cap = 0;
	char *p, *nl;

	memset(hf, 0, sizeof(*hf));
	if (f == NULL || fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0 ||
	    (hf->text = malloc((size_t)len + 1)) == NULL ||
	    fread(hf->text, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "bench: cannot read %s\n", path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	hf->text[len] = '\0';
	for (p = hf->text; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1; /* a last line without '\n' */
		else
			*nl = '\0';
		if (*p == '\0')
			continue;
		if (strlen(p) > 250) {
			fprintf(stderr, "bench: %s: a line over 250 bytes\n",
			        path);
			return -1;
		}
		if (hf->n == cap) {
			char **h = realloc(hf->host,
			                   (cap = cap * 2 + 64) * sizeof(*h));
			if (h == NULL)
				return -1;
			hf->host = h;
		}
		hf->host[hf->n++] = p;
	}
	return 0;
}
