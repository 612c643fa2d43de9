/*
 * m365_metrics.h - counters shared by every process of a host.
 *
 * Each helper process and each c-icap child owns one slot of a
 * memory-mapped file, DIR/counters (DIR is --metrics, default
 * /run/m365-bypass).  The request path only adds to its own slot's
 * counters with relaxed atomic additions: no lock, no system call, no
 * disk.  Slots are taken and given back under an flock() on the file: a
 * process that exits folds its counts into the retired totals of its
 * front end, and a slot left by a killed process is folded the same way
 * by the next process that takes a slot, so no total ever goes backwards.
 * Readers (m365ctl metrics and status) add the retired totals and every
 * slot, live or dead, under a shared lock.
 *
 * Besides counters, a slot holds what its process is using: the list's
 * version, publication time, source and size, the policy, Redis's state.
 *
 * The file is input like any other: a reader checks its header and sizes
 * and reads its strings with bounds; a process refuses a file it does not
 * recognise and runs without counting.
 */
#ifndef M365_METRICS_H
#define M365_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "m365_classify.h"
#include "m365_err.h"
#include "m365_log.h"

#define M365_METRICS_DIR_DEFAULT "/run/m365-bypass"
#define M365_METRICS_FILE "counters"
/* The value of --metrics / m365_bypass.MetricsDir that turns counting off */
#define M365_METRICS_OFF "off"
#define M365_METRICS_SLOTS 512

/* Which front end a process is; the frontend label. */
enum m365_frontend { M365_FE_SQUID, M365_FE_ICAP, M365_FE_N };

/* The category label of a lookup. */
enum m365_mcat {
	M365_MCAT_OPTIMIZE,
	M365_MCAT_ALLOW,
	M365_MCAT_DEFAULT,
	M365_MCAT_LOCAL,
	M365_MCAT_OTHER, /* a category Microsoft may add */
	M365_MCAT_NONE,  /* nothing matched */
	M365_MCAT_N
};

/* The service label of a lookup. */
enum m365_msvc {
	M365_MSVC_EXCHANGE,
	M365_MSVC_SHAREPOINT,
	M365_MSVC_SKYPE,
	M365_MSVC_COMMON,
	M365_MSVC_LOCAL,
	M365_MSVC_OTHER,
	M365_MSVC_NONE,
	M365_MSVC_N
};

/* Why a request was invalid: the reason label. */
enum m365_invalid {
	M365_INV_DESTINATION,   /* no destination, or not a host */
	M365_INV_PORT,          /* not 1-65535 or "-" */
	M365_INV_SNI,           /* the SNI is not a host */
	M365_INV_LINE_TOO_LONG, /* a helper line over the limit */
	M365_INV_SYNTAX,        /* a helper line that does not parse */
	M365_INV_N
};

/* Upper bounds of the latency histogram, in nanoseconds (1 us .. 10 ms);
 * one more bucket counts the rest (+Inf). */
#define M365_METRICS_BUCKETS 13
extern const uint64_t m365_metrics_bucket_ns[M365_METRICS_BUCKETS];

/* The counters of one front end (a slot's, the retired or a sum). */
struct m365_metrics_counts {
	uint64_t lookups[2][M365_MCAT_N][M365_MSVC_N]; /* [result] */
	uint64_t invalid[M365_INV_N];
	uint64_t no_list;                           /* answered without list */
	uint64_t latency[M365_METRICS_BUCKETS + 1]; /* not cumulative */
	uint64_t latency_sum_ns;
	uint64_t switches, refused; /* list versions switched to, refused */
};

/* Redis as a process sees it. */
enum m365_redis_state {
	M365_REDIS_UNUSED = 0, /* no Redis configured */
	M365_REDIS_DOWN = 1,
	M365_REDIS_UP = 2
};

#define M365_METRICS_TEXT 128

/* What one process uses (a reader's copy of a slot's gauges). */
struct m365_metrics_proc {
	int pid;
	enum m365_frontend frontend;
	long long started_at; /* Unix time */
	int list_loaded;      /* 0 or 1 */
	enum m365_redis_state redis;
	long long published_at;          /* the list's publication, 0 unknown */
	long long loaded_at;             /* when it came into use */
	char version[M365_METRICS_TEXT]; /* "" when unknown */
	char source[M365_METRICS_TEXT];  /* "redis", "cache", a file, ... */
	char policy[M365_METRICS_TEXT];  /* categories and service areas */
	uint64_t sets, names, ranges;    /* the list's size */
};

/* What a list in use is, for m365_metrics_set_list(). */
struct m365_metrics_list {
	const char *version; /* "" or NULL when unknown */
	const char *source;
	const char *policy;
	long long published_at; /* 0 when unknown */
	uint64_t sets, names, ranges;
};

/* A host's metrics as read (m365_metrics_read()). */
struct m365_metrics_view {
	struct m365_metrics_counts fe[M365_FE_N]; /* retired + all slots */
	struct m365_metrics_proc *procs;          /* live processes */
	size_t n_procs;
};

/* A process's slot; NULL everywhere means counting is off. */
struct m365_metrics;

/*
 * Takes a slot in DIR/counters (created when missing) for this process,
 * folding the slots of dead processes into the retired totals first.
 * dir NULL means M365_METRICS_DIR_DEFAULT; M365_METRICS_OFF returns NULL
 * quietly.  When the directory is missing or not writable, the file is
 * not a counters file or no slot is free, logs one warning through log
 * (may be NULL) and returns NULL: the caller runs without counting.
 * After a fork() the child must not use the parent's slot: it opens its
 * own.
 */
struct m365_metrics *m365_metrics_open(const char *dir, enum m365_frontend fe,
                                       m365_log_fn log, void *ctx);

/* Folds the slot's counts into the retired totals, frees the slot and
 * unmaps; NULL is a no-op.  Other threads must have stopped counting. */
void m365_metrics_close(struct m365_metrics *m);

/*
 * Counts one answer: its verdict, category and service, the invalid
 * reason or missing list its why implies, and its latency (ns, or
 * UINT64_MAX for none).  Lock-free; m may be NULL.
 */
void m365_metrics_lookup(struct m365_metrics *m, const struct m365_verdict *v,
                         uint64_t ns);

/*
 * Adds n answers that each took ns to the latency histogram (a front end
 * that answers in batches times the batch: from reading it to writing
 * its answers is every answer's latency).  m may be NULL.
 */
void m365_metrics_latency(struct m365_metrics *m, uint64_t n, uint64_t ns);

/*
 * Declares that one thread alone counts requests into m (the helper):
 * counting then uses plain atomic loads and stores, without the locked
 * read-modify-write that concurrent threads (c-icap's) need.  Other
 * counters (switches, refusals) stay safe from any thread.
 */
void m365_metrics_single_writer(struct m365_metrics *m);

/* Counts one ERR answer to a request the front end could not read. */
void m365_metrics_invalid(struct m365_metrics *m, enum m365_invalid reason);

/* Records the list now in use (NULL: none) and, when switched, a switch. */
void m365_metrics_set_list(struct m365_metrics *m,
                           const struct m365_metrics_list *l, int switched);

/* Counts a refused version. */
void m365_metrics_refused(struct m365_metrics *m);

/* Records Redis's state as this process sees it. */
void m365_metrics_set_redis(struct m365_metrics *m, enum m365_redis_state st);

/* A monotonic clock in nanoseconds, for latencies. */
uint64_t m365_metrics_now_ns(void);

/*
 * Reads DIR/counters (dir NULL: the default) into out, to free with
 * m365_metrics_view_free().  Returns 0, or -1 with err set: M365_E_IO
 * when it is missing or unreadable, M365_E_INPUT when it is not a
 * counters file.
 */
int m365_metrics_read(const char *dir, struct m365_metrics_view *out,
                      struct m365_err *err);

/* Frees what m365_metrics_read() put in v (not v itself). */
void m365_metrics_view_free(struct m365_metrics_view *v);

/* The frontend label: "squid" or "icap". */
const char *m365_frontend_name(enum m365_frontend fe);

/* The category label: "Optimize", "Allow", "Default", "Local", "other",
 * "none". */
const char *m365_mcat_name(enum m365_mcat c);

/* The service label: "Exchange", "SharePoint", "Skype", "Common",
 * "Local", "other", "none". */
const char *m365_msvc_name(enum m365_msvc s);

/* The reason label: "destination", "port", "sni", "line_too_long",
 * "syntax". */
const char *m365_invalid_name(enum m365_invalid r);

#endif
