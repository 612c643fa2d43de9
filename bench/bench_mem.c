/*
 * bench_mem.c - what a random load costs on this machine, spread over a
 * small and a large region: the context for a large local list's figures.
 *
 *     bench_mem [-l LINES] [-n LOADS]
 *
 * A lookup in a list of a million rules reaches a table of tens of
 * megabytes at random.  How much that costs depends on the machine more
 * than on the code: on the cache, and on how many pages the TLB maps (a
 * virtual machine whose host maps the guest's memory in 4 KiB pages gets
 * little from the guest's huge pages).  This measures it directly: LINES
 * (default 12,000, about what the local-list rows of make bench touch)
 * cache lines, one per equal stride of the region at a random offset in
 * it, chained in random order, are read one after the other (each load's
 * address comes from the one before, so none overlaps another) for LOADS
 * (default 20 million) loads, first over 4 MiB, then over 64 MiB, then
 * over 4 MiB again with a system call every CALL_EVERY loads, about as
 * often as the streaming helper reads and writes.  The regions are
 * aligned to 2 MiB and offered to transparent huge pages.  Prints
 *
 *     mem: L lines over 4 MiB: X ns/load
 *     mem: L lines over 64 MiB: Y ns/load (huge pages: H MiB of 64)
 *     mem: L lines over 4 MiB, a system call every 1000 loads: Z ns/load
 *
 * X is cache; Y - X is what spreading the same lines over 16 times the
 * memory adds (page walks, and misses of caches the lines still fit in);
 * Z - X is what the system calls make the loads after them cost (the
 * calls' own time left out): a kernel that isolates its page tables
 * (PTI) without PCID empties the TLB on every call, and every table of
 * a large list then costs a page walk again after each read or write.
 * CPU time of the thread (CLOCK_THREAD_CPUTIME_ID).  Exit 0, 1 when out
 * of memory, 2 on a usage error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_clock.h"
#include "bench_mix.h"
#include "bench_proc.h"

#define MIB ((size_t)1 << 20)
#define LINE 64
/* Loads between two system calls in the third measurement. */
#define CALL_EVERY 1000

/* ns that one system call takes, alone. */
static double
call_ns(void)
{
	long k, n = 200000;
	double t0 = bench_cpu_now();

	for (k = 0; k < n; k++)
		(void)syscall(SYS_getppid);
	return (bench_cpu_now() - t0) / (double)n * 1e9;
}

/*
 * Chains lines lines of buf (bytes long) in random order, one per stride,
 * and follows the chain for loads loads, with a system call every every
 * loads (0: none; the calls' own time left out).  Returns ns per load.
 */
static double
chase(char *buf, size_t bytes, size_t lines, long loads, long every)
{
	size_t stride = bytes / lines, i, *at = malloc(lines * sizeof(*at));
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	size_t p;
	double t0, calls = 0;
	long k, m, run = every > 0 ? every : loads;

	if (at == NULL)
		return -1;
	for (i = 0; i < lines; i++)
		at[i] = i * stride + mix_rand(&seed) % (stride / LINE) * LINE;
	for (i = lines - 1; i > 0; i--) {
		size_t j = mix_rand(&seed) % (i + 1), t = at[i];
		at[i] = at[j];
		at[j] = t;
	}
	for (i = 0; i < lines; i++)
		memcpy(buf + at[i], &at[(i + 1) % lines], sizeof(size_t));
	p = at[0];
	for (k = 0; k < (long)lines * 4; k++) /* warm up */
		memcpy(&p, buf + p, sizeof(p));
	loads = loads / run * run;
	if (every > 0)
		calls = call_ns() * (double)(loads / every);
	t0 = bench_cpu_now();
	for (k = 0; k + run <= loads; k += run) {
		for (m = 0; m < run; m++)
			memcpy(&p, buf + p, sizeof(p));
		if (every > 0)
			(void)syscall(SYS_getppid);
	}
	t0 = bench_cpu_now() - t0 - calls * 1e-9;
	free(at);
	/* p depends on every load: the loop cannot be dropped */
	return p == (size_t)-1 ? -1 : t0 / (double)loads * 1e9;
}

int
main(int argc, char **argv)
{
	size_t lines = 12000, sizes[3] = {4 * MIB, 64 * MIB, 4 * MIB}, i;
	long loads = 20000000;
	int c;

	while ((c = getopt(argc, argv, "l:n:")) != -1) {
		if (c == 'l')
			lines = strtoul(optarg, NULL, 10);
		else if (c == 'n')
			loads = strtol(optarg, NULL, 10);
		else
			return 2;
	}
	if (lines < 2 || lines > sizes[0] / LINE || loads < 1) {
		fprintf(stderr, "bench_mem: LINES from 2 to %zu, LOADS >= 1\n",
		        sizes[0] / LINE);
		return 2;
	}
	for (i = 0; i < 3; i++) {
		void *buf;
		long every = i == 2 ? CALL_EVERY : 0;
		double ns;
		if (posix_memalign(&buf, 2 * MIB, sizes[i]) != 0) {
			fprintf(stderr, "bench_mem: out of memory\n");
			return 1;
		}
#ifdef MADV_HUGEPAGE
		(void)madvise(buf, sizes[i], MADV_HUGEPAGE);
#endif
		memset(buf, 1, sizes[i]);
		ns = chase(buf, sizes[i], lines, loads, every);
		if (ns < 0) {
			fprintf(stderr, "bench_mem: out of memory\n");
			return 1;
		}
		printf("mem: %zu lines over %zu MiB", lines, sizes[i] / MIB);
		if (every > 0)
			printf(", a system call every %ld loads", every);
		printf(": %.1f ns/load", ns);
		if (i == 1)
			printf(" (huge pages: %ld MiB of %zu)",
			       proc_field("/proc/self/smaps_rollup",
			                  "AnonHugePages") /
			           1024,
			       sizes[i] / MIB);
		printf("\n");
		free(buf);
	}
	return 0;
}
