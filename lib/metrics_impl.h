/*
 * metrics_impl.h - the layout of DIR/counters, shared by metrics.c (a
 * process's slot) and metrics_read.c (the readers).  Internal.
 *
 *     [header | retired totals per front end] [slot 0] ... [slot N-1]
 *
 * Counters are 64-bit atomics laid out as struct m365_metrics_counts (all
 * uint64_t, so an array).  A slot's gauges are written under a sequence
 * counter (odd while writing) by the one process that owns the slot.
 */
#ifndef M365_METRICS_IMPL_H
#define M365_METRICS_IMPL_H

#include <stdatomic.h>
#include <stdint.h>

#include "m365_metrics.h"

#define METRICS_MAGIC "m365-bypass counters 1"
#define METRICS_NC (sizeof(struct m365_metrics_counts) / sizeof(uint64_t))

_Static_assert(sizeof(struct m365_metrics_counts) % sizeof(uint64_t) == 0,
               "counters are an array of uint64_t");

struct metrics_counters {
	_Alignas(64) _Atomic uint64_t c[METRICS_NC];
};

struct metrics_slot {
	_Atomic int32_t pid; /* 0: free */
	int32_t frontend;
	uint64_t starttime; /* the owner's start in /proc/PID/stat */
	int64_t started_at;
	_Atomic uint32_t seq; /* gauges: odd while being written */
	int32_t list_loaded, redis;
	int64_t published_at, loaded_at;
	uint64_t sets, names, ranges;
	char version[M365_METRICS_TEXT];
	char source[M365_METRICS_TEXT];
	char policy[M365_METRICS_TEXT];
	struct metrics_counters counts;
};

struct metrics_header {
	char magic[32];
	uint32_t slot_size, n_slots;
	uint64_t total_size;
	struct metrics_counters retired[M365_FE_N];
};

struct metrics_file {
	struct metrics_header hdr;
	_Alignas(64) struct metrics_slot slots[M365_METRICS_SLOTS];
};

/* DIR/counters into buf (dir NULL: the default). */
char *metrics_path(const char *dir, char *buf, size_t len);

/* The start time of process pid (/proc/PID/stat, field 22), 0 when it is
 * gone or unreadable. */
uint64_t metrics_proc_start(int pid);

/* True when the header is this version's, for a file of size bytes. */
int metrics_header_ok(const struct metrics_header *h, uint64_t size);

/*
 * flock(fd, op) without blocking, tried up to tries times 10 ms apart:
 * 0, or -1 with errno set (EWOULDBLOCK when the lock stayed taken).
 */
int metrics_lock(int fd, int op, int tries);

/* Adds a slot's counters into out (a plain copy). */
void metrics_add_counts(struct m365_metrics_counts *out,
                        const struct metrics_counters *c);

#endif
