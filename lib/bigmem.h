/*
 * bigmem.h - large tables in huge pages where the system has them
 * (internal).
 *
 * A list of a million rules makes tables of tens of megabytes that every
 * lookup reaches at random: in 4 KiB pages each such access costs a TLB
 * miss as well as a cache miss, and building them costs a page fault per
 * 4 KiB.  Tables of 2 MiB or more are aligned to 2 MiB and offered to
 * transparent huge pages (madvise: a hint; nothing changes where the
 * system has none).
 */
#ifndef M365_BIGMEM_H
#define M365_BIGMEM_H

#include <stddef.h>

/* A cache line's bytes. */
#define CACHE_LINE 64

/* calloc(n, size), aligned to a cache line at least, in huge pages when it
 * is large; free() frees it. */
void *big_calloc(size_t n, size_t size);

#endif
