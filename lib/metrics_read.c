/*
 * metrics_read.c - reading the host's counters file (m365_metrics.h):
 * the totals, the live processes, and the label names.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "metrics_impl.h"

/* How often a reader retries a slot whose gauges are being written. */
#define SEQ_TRIES 1000
#define LOCK_TRIES 200
#define LOCK_NAP_NS 10000000L

char *
metrics_path(const char *dir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir ? dir : M365_METRICS_DIR_DEFAULT,
	         M365_METRICS_FILE);
	return buf;
}

uint64_t
metrics_proc_start(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "PID (COMM) S ..." where COMM may hold anything: after the last
	 * ')' come fields 3, 4, ...; the start time is field 22 */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 0;
	/* a zombie still has its start: only a running owner counts */
	if (p[2] == 'Z' || p[2] == 'X')
		return 0;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &start) != 1)
		return 0;
	return (uint64_t)start;
}

int
metrics_header_ok(const struct metrics_header *h, uint64_t size)
{
	return memcmp(h->magic, METRICS_MAGIC, sizeof(METRICS_MAGIC)) == 0 &&
	       h->slot_size == sizeof(struct metrics_slot) &&
	       h->n_slots == M365_METRICS_SLOTS &&
	       h->total_size == sizeof(struct metrics_file) &&
	       size == sizeof(struct metrics_file);
}

void
metrics_add_counts(struct m365_metrics_counts *out,
                   const struct metrics_counters *c)
{
	uint64_t *o = (uint64_t *)out;
	size_t i;

	for (i = 0; i < METRICS_NC; i++)
		o[i] += atomic_load_explicit(&c->c[i], memory_order_relaxed);
}

/* Copies a string from the file, however it ends, into out. */
static void
copy_text(char *out, const char *in)
{
	size_t i;

	for (i = 0; i + 1 < M365_METRICS_TEXT && in[i] != '\0'; i++)
		out[i] = in[i];
	out[i] = '\0';
}

/* A consistent copy of a live slot's gauges; -1 when it never settles. */
static int
read_gauges(const struct metrics_slot *s, int32_t pid,
            struct m365_metrics_proc *p)
{
	struct metrics_slot copy;
	uint32_t a, b;
	int i;

	for (i = 0; i < SEQ_TRIES; i++) {
		a = atomic_load_explicit(&s->seq, memory_order_acquire);
		if (a & 1)
			continue;
		memcpy(&copy, s, offsetof(struct metrics_slot, counts));
		atomic_thread_fence(memory_order_acquire);
		b = atomic_load_explicit(&s->seq, memory_order_relaxed);
		if (a == b)
			break;
	}
	if (i == SEQ_TRIES)
		return -1;
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->frontend =
	    copy.frontend == M365_FE_ICAP ? M365_FE_ICAP : M365_FE_SQUID;
	p->started_at = copy.started_at;
	p->list_loaded = copy.list_loaded != 0;
	p->redis = copy.redis == M365_REDIS_UP     ? M365_REDIS_UP
	           : copy.redis == M365_REDIS_DOWN ? M365_REDIS_DOWN
	                                           : M365_REDIS_UNUSED;
	p->published_at = copy.published_at;
	p->loaded_at = copy.loaded_at;
	p->sets = copy.sets;
	p->names = copy.names;
	p->ranges = copy.ranges;
	copy_text(p->version, copy.version);
	copy_text(p->source, copy.source);
	copy_text(p->policy, copy.policy);
	return 0;
}

/* Adds up the file (under a shared lock) into out. */
static int
gather(const struct metrics_file *f, struct m365_metrics_view *out,
       struct m365_err *err)
{
	size_t i;
	int fe;

	for (fe = 0; fe < M365_FE_N; fe++)
		metrics_add_counts(&out->fe[fe], &f->hdr.retired[fe]);
	out->procs = calloc(M365_METRICS_SLOTS, sizeof(*out->procs));
	if (out->procs == NULL)
		return m365_err_set(err, M365_E_NOMEM, "out of memory");
	for (i = 0; i < M365_METRICS_SLOTS; i++) {
		const struct metrics_slot *s = &f->slots[i];
		int32_t pid = atomic_load(&s->pid);
		fe = s->frontend == M365_FE_ICAP ? M365_FE_ICAP : M365_FE_SQUID;
		/* a dead process's counts still count until folded */
		metrics_add_counts(&out->fe[fe], &s->counts);
		if (pid > 0 && metrics_proc_start(pid) == s->starttime &&
		    read_gauges(s, pid, &out->procs[out->n_procs]) == 0)
			out->n_procs++;
	}
	return 0;
}

int
metrics_lock(int fd, int op, int tries)
{
	struct timespec nap = {0, LOCK_NAP_NS};
	int i;

	for (i = 0; i < tries; i++) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		nanosleep(&nap, NULL);
	}
	errno = EWOULDBLOCK;
	return -1;
}

int
m365_metrics_read(const char *dir, struct m365_metrics_view *out,
                  struct m365_err *err)
{
	struct metrics_file *f;
	struct stat st;
	char path[4096];
	int fd, rc;

	memset(out, 0, sizeof(*out));
	metrics_path(dir, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) <
	    0)
		return m365_err_set(err, M365_E_IO, "%s: %s", path,
		                    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    metrics_lock(fd, LOCK_SH, LOCK_TRIES) < 0) {
		int e = errno, reg = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
		rc = m365_err_set(err, M365_E_IO, "%s: %s", path,
		                  reg ? strerror(e) : "not a regular file");
		close(fd);
		return rc;
	}
	if (st.st_size != (off_t)sizeof(struct metrics_file) ||
	    (f = mmap(NULL, sizeof(*f), PROT_READ, MAP_SHARED, fd, 0)) ==
	        MAP_FAILED) {
		close(fd);
		return m365_err_set(err, M365_E_INPUT,
		                    "%s: not a counters file of this version",
		                    path);
	}
	if (!metrics_header_ok(&f->hdr, (uint64_t)st.st_size))
		rc = m365_err_set(err, M365_E_INPUT,
		                  "%s: not a counters file of this version",
		                  path);
	else
		rc = gather(f, out, err);
	munmap(f, sizeof(*f));
	close(fd);
	if (rc < 0)
		m365_metrics_view_free(out);
	return rc;
}

void
m365_metrics_view_free(struct m365_metrics_view *v)
{
	free(v->procs);
	v->procs = NULL;
	v->n_procs = 0;
}

const char *
m365_frontend_name(enum m365_frontend fe)
{
	return fe == M365_FE_ICAP ? "icap" : "squid";
}

const char *
m365_mcat_name(enum m365_mcat c)
{
	static const char *const names[M365_MCAT_N] = {
	    "Optimize", "Allow", "Default", "Local", "other", "none"};
	return (unsigned)c < M365_MCAT_N ? names[c] : "none";
}

const char *
m365_msvc_name(enum m365_msvc s)
{
	static const char *const names[M365_MSVC_N] = {
	    "Exchange", "SharePoint", "Skype", "Common",
	    "Local",    "other",      "none"};
	return (unsigned)s < M365_MSVC_N ? names[s] : "none";
}

const char *
m365_invalid_name(enum m365_invalid r)
{
	static const char *const names[M365_INV_N] = {
	    "destination", "port", "sni", "line_too_long", "syntax"};
	return (unsigned)r < M365_INV_N ? names[r] : "syntax";
}
