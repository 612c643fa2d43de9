/* clock.c - the monotonic clock of m365ctl's deadlines (ctl.h). */
#include <time.h>

#include "ctl.h"

long long
ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
