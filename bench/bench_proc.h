/*
 * bench_proc.h - what /proc says about a benchmarked child.
 *
 * The CPU time comes from /proc/PID/task/TID/schedstat (the first field,
 * the time on CPU in ns), summed over the child's live threads: exact to
 * the nanosecond and readable at any moment, so a benchmark can take the
 * answering phase alone (a thread that ends in between takes its time with
 * it: the helpers' answering thread never ends).
 */
#ifndef BENCH_PROC_H
#define BENCH_PROC_H

#include <stdint.h>
#include <sys/types.h>

/* CPU time of every live thread of pid, in ns; 0 when unreadable. */
uint64_t proc_cpu_ns(pid_t pid);

/*
 * The resident set of pid now (VmRSS) and its peak (VmHWM), in KiB, into
 * *rss and *hwm; -1 each when unreadable.
 */
void proc_rss_kib(pid_t pid, long *rss, long *hwm);

/*
 * The number after "name:" on the first line of the /proc file path that
 * starts with it (in /proc's unit for it, such as kB); -1 when there is
 * none or the file is unreadable.
 */
long proc_field(const char *path, const char *name);

/*
 * The times pid's main thread (the one that answers, in the helpers) has
 * gone to sleep of its own accord (voluntary_ctxt_switches): once for each
 * read that found no input yet; -1 when unreadable.
 */
long proc_sleeps(pid_t pid);

/*
 * Of the CPUs this process may run on, the one that was idle the longest
 * (idle + iowait in /proc/stat) over the next ms milliseconds; -1 when
 * /proc/stat is unreadable.
 */
int proc_idlest_cpu(int ms);

#endif
