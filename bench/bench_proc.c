/*
 * bench_proc.c - reads a process's CPU time, RSS and other fields from
 * /proc (bench_proc.h).  Measures nothing by itself and prints nothing.
 */
#include <dirent.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench_proc.h"

uint64_t
proc_cpu_ns(pid_t pid)
{
	char path[64];
	uint64_t sum = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char file[340];
		uint64_t ns;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s/schedstat", path,
		         e->d_name);
		if ((f = fopen(file, "r")) == NULL)
			continue; /* the thread has just ended */
		if (fscanf(f, "%" SCNu64, &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(d);
	return sum;
}

void
proc_rss_kib(pid_t pid, long *rss, long *hwm)
{
	char path[64], line[256];
	FILE *f;

	*rss = *hwm = -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			sscanf(line + 6, "%ld", rss);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			sscanf(line + 6, "%ld", hwm);
	}
	fclose(f);
}

long
proc_field(const char *path, const char *name)
{
	char line[256];
	size_t n = strlen(name);
	long v = -1;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, n) == 0 && line[n] == ':') {
			sscanf(line + n + 1, "%ld", &v);
			break;
		}
	fclose(f);
	return v;
}

long
proc_sleeps(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	return proc_field(path, "voluntary_ctxt_switches");
}

#define CPUS_MAX 1024

/* Reads the idle + iowait ticks of each CPU into idle[]; 0 or -1. */
static int
idle_ticks(unsigned long long idle[CPUS_MAX])
{
	char line[512];
	FILE *f = fopen("/proc/stat", "r");

	if (f == NULL)
		return -1;
	memset(idle, 0, CPUS_MAX * sizeof(idle[0]));
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long v[5];
		int cpu;
		if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu", &cpu, &v[0],
		           &v[1], &v[2], &v[3], &v[4]) == 6 &&
		    cpu >= 0 && cpu < CPUS_MAX)
			idle[cpu] = v[3] + v[4];
	}
	fclose(f);
	return 0;
}

int
proc_idlest_cpu(int ms)
{
	static unsigned long long a[CPUS_MAX], b[CPUS_MAX];
	cpu_set_t allowed;
	int best = -1;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0 ||
	    idle_ticks(a) < 0)
		return -1;
	usleep((useconds_t)ms * 1000);
	if (idle_ticks(b) < 0)
		return -1;
	for (int i = 0; i < CPUS_MAX && i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &allowed) &&
		    (best < 0 || b[i] - a[i] > b[best] - a[best]))
			best = i;
	return best;
}
