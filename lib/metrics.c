/*
 * metrics.c - a process's slot in the host's counters file
 * (m365_metrics.h): taking it, counting into it, giving it back.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "m365_endpoints.h"
#include "metrics_impl.h"

/* How long taking or giving back a slot waits for readers, at most (a
 * reader that never lets go must not stop a helper from starting or
 * exiting): tries 10 ms apart. */
#define LOCK_TRIES 50

struct m365_metrics {
	int fd;
	struct metrics_file *file;
	struct metrics_slot *slot;
	pthread_mutex_t lock; /* the gauges' writers within this process */
	int single;           /* one thread counts requests */
};

const uint64_t m365_metrics_bucket_ns[M365_METRICS_BUCKETS] = {
    1000,   2500,   5000,    10000,   25000,   50000,   100000,
    250000, 500000, 1000000, 2500000, 5000000, 10000000};

#define IDX(field) (offsetof(struct m365_metrics_counts, field) / 8)

static void
warn(m365_log_fn log, void *ctx, const char *path, const char *why)
{
	char msg[1200];

	if (log == NULL)
		return;
	snprintf(msg, sizeof(msg),
	         "metrics: %.900s: %.200s; running without counting", path,
	         why);
	log(ctx, M365_LOG_WARNING, msg);
}

/* Moves a slot's counts into its front end's retired totals; frees it. */
static void
fold(struct metrics_file *f, struct metrics_slot *s)
{
	int32_t fe = s->frontend;
	size_t i;

	if (fe < 0 || fe >= M365_FE_N)
		fe = M365_FE_SQUID;
	for (i = 0; i < METRICS_NC; i++) {
		uint64_t v = atomic_exchange(&s->counts.c[i], 0);
		atomic_fetch_add(&f->hdr.retired[fe].c[i], v);
	}
	atomic_store(&s->pid, 0);
}

/* A slot whose owner is gone: folded, so it can be taken. */
static int
is_dead(const struct metrics_slot *s, int32_t pid)
{
	return pid != 0 && metrics_proc_start(pid) != s->starttime;
}

/* Under the lock: folds dead slots and takes a free one, or NULL. */
static struct metrics_slot *
take_slot(struct metrics_file *f, enum m365_frontend fe)
{
	struct metrics_slot *mine = NULL;
	int32_t me = (int32_t)getpid();
	size_t i;

	for (i = 0; i < M365_METRICS_SLOTS; i++) {
		struct metrics_slot *s = &f->slots[i];
		int32_t pid = atomic_load(&s->pid);
		if (is_dead(s, pid)) {
			fold(f, s);
			pid = 0;
		}
		if (pid == 0 && mine == NULL)
			mine = s;
	}
	if (mine == NULL)
		return NULL;
	memset((char *)mine + offsetof(struct metrics_slot, seq), 0,
	       offsetof(struct metrics_slot, counts) -
	           offsetof(struct metrics_slot, seq));
	mine->frontend = fe;
	mine->starttime = metrics_proc_start(me);
	mine->started_at = (int64_t)time(NULL);
	atomic_store(&mine->pid, me);
	return mine;
}

/* Gives the file its header when it is new (empty); -1 when it is not a
 * counters file of this version. */
static int
prepare_file(int fd, const char *path, m365_log_fn log, void *ctx)
{
	struct metrics_header h;
	struct stat st;
	char why[300];

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		warn(log, ctx, path, "not a regular file");
		return -1;
	}
	if (st.st_size == 0) {
		memset(&h, 0, sizeof(h));
		snprintf(h.magic, sizeof(h.magic), "%s", METRICS_MAGIC);
		h.slot_size = sizeof(struct metrics_slot);
		h.n_slots = M365_METRICS_SLOTS;
		h.total_size = sizeof(struct metrics_file);
		/* every front end's user writes it (the tmpfiles.d entry
		 * makes it so too); the umask would not.  Only the owner
		 * may say so: in a file made by tmpfiles.d, it is said. */
		if (st.st_uid == geteuid())
			(void)fchmod(fd, 0664);
		if (ftruncate(fd, (off_t)sizeof(struct metrics_file)) < 0 ||
		    pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
			warn(log, ctx, path, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    !metrics_header_ok(&h, (uint64_t)st.st_size)) {
		snprintf(why, sizeof(why),
		         "not a counters file of this version (remove it: "
		         "it is rebuilt)");
		warn(log, ctx, path, why);
		return -1;
	}
	return 0;
}

/* Opens and maps the file, with the lock held; NULL after a warning. */
static struct metrics_file *
map_file(int fd, const char *path, m365_log_fn log, void *ctx)
{
	void *p;

	if (metrics_lock(fd, LOCK_EX, LOCK_TRIES) < 0) {
		warn(log, ctx, path, "locked by another process");
		return NULL;
	}
	if (prepare_file(fd, path, log, ctx) < 0)
		return NULL;
	p = mmap(NULL, sizeof(struct metrics_file), PROT_READ | PROT_WRITE,
	         MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		warn(log, ctx, path, strerror(errno));
		return NULL;
	}
	return p;
}

struct m365_metrics *
m365_metrics_open(const char *dir, enum m365_frontend fe, m365_log_fn log,
                  void *ctx)
{
	struct m365_metrics *m;
	char path[4096];

	if (dir != NULL && strcmp(dir, M365_METRICS_OFF) == 0)
		return NULL;
	if (dir != NULL && dir[0] == '\0') {
		warn(log, ctx, "\"\"", "no directory named");
		return NULL;
	}
	metrics_path(dir, path, sizeof(path));
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		warn(log, ctx, path, "out of memory");
		return NULL;
	}
	m->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0664);
	if (m->fd < 0) {
		warn(log, ctx, path, strerror(errno));
		free(m);
		return NULL;
	}
	if ((m->file = map_file(m->fd, path, log, ctx)) != NULL &&
	    (m->slot = take_slot(m->file, fe)) == NULL)
		warn(log, ctx, path, "every slot is in use");
	flock(m->fd, LOCK_UN);
	if (m->slot == NULL) {
		if (m->file != NULL)
			munmap(m->file, sizeof(struct metrics_file));
		close(m->fd);
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void
m365_metrics_close(struct m365_metrics *m)
{
	if (m == NULL)
		return;
	/* without the lock, the slot stays: the next process folds it */
	if (metrics_lock(m->fd, LOCK_EX, LOCK_TRIES) == 0) {
		fold(m->file, m->slot);
		flock(m->fd, LOCK_UN);
	}
	munmap(m->file, sizeof(struct metrics_file));
	close(m->fd);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* Adds to a counter that any thread may count. */
static inline void
add(struct m365_metrics *m, size_t idx, uint64_t n)
{
	atomic_fetch_add_explicit(&m->slot->counts.c[idx], n,
	                          memory_order_relaxed);
}

/* Adds to a request counter: without a locked instruction when a single
 * thread counts requests (readers still see whole values). */
static inline void
add_req(struct m365_metrics *m, size_t idx, uint64_t n)
{
	_Atomic uint64_t *c = &m->slot->counts.c[idx];

	if (m->single)
		atomic_store_explicit(
		    c, atomic_load_explicit(c, memory_order_relaxed) + n,
		    memory_order_relaxed);
	else
		atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

void
m365_metrics_single_writer(struct m365_metrics *m)
{
	if (m != NULL)
		m->single = 1;
}

static enum m365_mcat
mcat_of(const struct m365_verdict *v)
{
	if (v->rule != NULL || v->why == M365_WHY_LOCAL)
		return M365_MCAT_LOCAL;
	if (v->set == NULL)
		return M365_MCAT_NONE;
	switch (v->set->category) {
	case M365_CAT_OPTIMIZE: return M365_MCAT_OPTIMIZE;
	case M365_CAT_ALLOW: return M365_MCAT_ALLOW;
	case M365_CAT_DEFAULT: return M365_MCAT_DEFAULT;
	default: return M365_MCAT_OTHER;
	}
}

static enum m365_msvc
msvc_of(const struct m365_verdict *v)
{
	const char *a;

	if (v->rule != NULL || v->why == M365_WHY_LOCAL)
		return M365_MSVC_LOCAL;
	if (v->set == NULL || (a = v->set->service_area) == NULL)
		return M365_MSVC_NONE;
	/* one comparison per lookup: the first bytes pick the candidate */
	switch (a[0]) {
	case 'E':
		return strcmp(a, "Exchange") == 0 ? M365_MSVC_EXCHANGE
		                                  : M365_MSVC_OTHER;
	case 'C':
		return strcmp(a, "Common") == 0 ? M365_MSVC_COMMON
		                                : M365_MSVC_OTHER;
	case 'S':
		if (a[1] == 'k')
			return strcmp(a, "Skype") == 0 ? M365_MSVC_SKYPE
			                               : M365_MSVC_OTHER;
		return strcmp(a, "SharePoint") == 0 ? M365_MSVC_SHAREPOINT
		                                    : M365_MSVC_OTHER;
	default: return M365_MSVC_OTHER;
	}
}

static size_t
bucket_of(uint64_t ns)
{
	size_t i;

	for (i = 0; i < M365_METRICS_BUCKETS; i++)
		if (ns <= m365_metrics_bucket_ns[i])
			return i;
	return M365_METRICS_BUCKETS;
}

void
m365_metrics_lookup(struct m365_metrics *m, const struct m365_verdict *v,
                    uint64_t ns)
{
	int ok;

	if (m == NULL)
		return;
	ok = v->result == M365_OK;
	add_req(m,
	        IDX(lookups) +
	            ((size_t)ok * M365_MCAT_N + mcat_of(v)) * M365_MSVC_N +
	            msvc_of(v),
	        1);
	switch (v->why) {
	case M365_WHY_NO_DST:
	case M365_WHY_BAD_DST:
		add_req(m, IDX(invalid) + M365_INV_DESTINATION, 1);
		break;
	case M365_WHY_BAD_PORT:
		add_req(m, IDX(invalid) + M365_INV_PORT, 1);
		break;
	case M365_WHY_BAD_SNI:
		add_req(m, IDX(invalid) + M365_INV_SNI, 1);
		break;
	case M365_WHY_NO_LIST: add_req(m, IDX(no_list), 1); break;
	default: break;
	}
	if (ns != UINT64_MAX)
		m365_metrics_latency(m, 1, ns);
}

void
m365_metrics_latency(struct m365_metrics *m, uint64_t n, uint64_t ns)
{
	if (m == NULL || n == 0)
		return;
	add_req(m, IDX(latency) + bucket_of(ns), n);
	add_req(m, IDX(latency_sum_ns), n * ns);
}

void
m365_metrics_invalid(struct m365_metrics *m, enum m365_invalid reason)
{
	if (m == NULL || (unsigned)reason >= M365_INV_N)
		return;
	add_req(m,
	        IDX(lookups) + (size_t)M365_MCAT_NONE * M365_MSVC_N +
	            M365_MSVC_NONE,
	        1);
	add_req(m, IDX(invalid) + reason, 1);
}

/* Starts and ends a change of the slot's gauges. */
static void
gauges_begin(struct m365_metrics *m)
{
	pthread_mutex_lock(&m->lock);
	atomic_fetch_add_explicit(&m->slot->seq, 1, memory_order_acq_rel);
}

static void
gauges_end(struct m365_metrics *m)
{
	atomic_fetch_add_explicit(&m->slot->seq, 1, memory_order_release);
	pthread_mutex_unlock(&m->lock);
}

void
m365_metrics_set_list(struct m365_metrics *m, const struct m365_metrics_list *l,
                      int switched)
{
	struct metrics_slot *s;

	if (m == NULL)
		return;
	s = m->slot;
	gauges_begin(m);
	s->list_loaded = l != NULL;
	s->published_at = l ? l->published_at : 0;
	s->loaded_at = (int64_t)time(NULL);
	s->sets = l ? l->sets : 0;
	s->names = l ? l->names : 0;
	s->ranges = l ? l->ranges : 0;
	snprintf(s->version, sizeof(s->version), "%s",
	         l && l->version ? l->version : "");
	snprintf(s->source, sizeof(s->source), "%s",
	         l && l->source ? l->source : "");
	snprintf(s->policy, sizeof(s->policy), "%s",
	         l && l->policy ? l->policy : "");
	gauges_end(m);
	if (switched)
		add(m, IDX(switches), 1);
}

void
m365_metrics_refused(struct m365_metrics *m)
{
	if (m != NULL)
		add(m, IDX(refused), 1);
}

void
m365_metrics_set_redis(struct m365_metrics *m, enum m365_redis_state st)
{
	if (m == NULL)
		return;
	gauges_begin(m);
	m->slot->redis = (int32_t)st;
	gauges_end(m);
}

uint64_t
m365_metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
