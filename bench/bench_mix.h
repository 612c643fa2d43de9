/*
 * bench_mix.h - the request mix of the helper benchmarks.
 *
 * Request lines `ID DST PORT SNI -` as Squid sends them to a helper with
 * concurrency (ID a growing counter, the trailing `-` Squid's %DATA).  The
 * built-in mix: Microsoft exact names, suffix-wildcard names with random
 * prefixes, look-alikes, IPv4/IPv6 inside and outside Microsoft ranges,
 * unrelated names; ports 443/80/8080/-; SNI none, the same name or another
 * one.  A host file (one destination a line, e.g. bench/gen_local.py's
 * LIST.hosts) can replace a fraction of the destinations; the rest of each
 * line, and every line the file does not touch, stays as without it.
 */
#ifndef BENCH_MIX_H
#define BENCH_MIX_H

#include <stddef.h>
#include <stdint.h>

#define MIX_LINE_MAX 300 /* longest request line, newline included */

struct requests {
	char *buf;   /* all request lines, back to back */
	size_t *end; /* end[i]: offset just past line i's newline */
	size_t n;
};

struct host_file {
	char *text;  /* the file, each newline replaced by NUL */
	char **host; /* its non-empty lines */
	size_t n;
};

/* xorshift64*: a fixed, fast sequence (s must not be 0). */
uint64_t mix_rand(uint64_t *s);

/*
 * Reads the destinations of path (one a line; blank lines skipped, at most
 * 250 bytes each) into hf.  0, or -1 with a message on stderr.
 */
int mix_hosts_load(const char *path, struct host_file *hf);

/*
 * Writes request line i of the mix into line (MIX_LINE_MAX bytes) and
 * returns its length.  r is the line's random number; when hf is not NULL
 * and pick % 100 < pct, the destination comes from hf (chosen by pick).
 */
size_t mix_line(char *line, size_t i, uint64_t r, const struct host_file *hf,
                unsigned pct, uint64_t pick);

/*
 * Builds the n request lines of the mix for seed (hf and pct as for
 * mix_line(), hf may be NULL), in memory that a child forked later does
 * not inherit (nor count in its ru_maxrss).  0, or -1 when out of memory.
 */
int mix_requests(struct requests *rq, size_t n, uint64_t seed,
                 const struct host_file *hf, unsigned pct);

#endif
