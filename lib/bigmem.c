/* bigmem.c - large tables in huge pages (see bigmem.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bigmem.h"

#define HUGE_PAGE ((size_t)2 << 20)

void *
big_calloc(size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (size != 0 && n > (size_t)-1 / size)
		return NULL;
	bytes = n * size > 0 ? n * size : 1;
	if (posix_memalign(&p, bytes < HUGE_PAGE ? CACHE_LINE : HUGE_PAGE,
	                   bytes) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	if (bytes >= HUGE_PAGE)
		(void)madvise(p, bytes & ~(HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
	memset(p, 0, bytes);
	return p;
}
