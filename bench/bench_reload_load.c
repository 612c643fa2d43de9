/*
 * bench_reload_load.c - what a live reload costs a helper under load.
 *
 *     bench_reload_load [-r ROUNDS] [-w WINDOW] [-f HOSTS [-m PCT]]
 *                       REDIS_PORT OLD.json NEW.json PROBE_HOST PROBE_PORT
 *                       -- HELPER [ARG...]
 *
 * Publishes NEW.json in the Redis on 127.0.0.1:REDIS_PORT (the store API,
 * m365_store.h), starts HELPER ARG... (which must follow that Redis, e.g.
 * `--redis URL --poll 1 --list OLD.json --local LIST`) and keeps WINDOW
 * (default 50) requests in flight all the time: bench_mix.h's mix, PCT
 * percent (default 50) of the destinations from HOSTS, and every 8th
 * request the probe `PROBE_HOST PROBE_PORT`, which must be OK in NEW and
 * not in OLD.  Once the probe says the Redis version is in use, it runs
 * ROUNDS (default 5) pairs of phases on the same stream:
 *
 *   reload: a second thread publishes OLD, and once an answer shows it,
 *           after 300 ms NEW, and again 300 ms after that one shows;
 *   quiet:  as long as the reload phase before it, nothing published.
 *
 * and prints, per phase, the longest time a request waited for its answer
 * (written to read), the longest gap between two reads of answers, the
 * 99th percentile of the waits, and for each publish the switch time: from
 * just before the publish to the first answer that shows the new version.
 *
 *     start: first probe answered after L ms, Redis version in use after V ms
 *     reload I: A answers, switches S1 S2 ms, max wait W ms, max gap G ms,
 *               p99 wait P ms
 *     quiet I: A answers, max wait W ms, max gap G ms, p99 wait P ms
 *     end: RSS R KiB, peak H KiB
 *
 * (each phase on one line; H is the helper's VmHWM: both lists live
 * during a switch).  Exit 0, 1 when the helper breaks or a switch takes
 * more than 20 s, 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_clock.h"
#include "bench_mix.h"
#include "bench_proc.h"
#include "m365_redis.h"
#include "m365_store.h"

#define RING 4096       /* send times kept, by ID; more than any window */
#define HIST_US 200000  /* waits histogram: 1 us buckets up to 200 ms */
#define SETTLE_S 0.3    /* steady stream after each switch */
#define SWITCH_MAX_S 20 /* a switch that takes longer breaks the run */

struct publisher {
	redisContext *c;
	char *json[2];
	size_t len[2];
	atomic_int request; /* 0: nothing; 1 + which: publish json[which] */
	_Atomic double t_pub;
	atomic_int stop;
	int n;
};

struct phase { /* what one phase measured */
	size_t answers;
	double max_wait, max_gap, last_read;
	unsigned *hist;
};

struct stream {
	pid_t pid;
	int to, from;
	const struct host_file *hf;
	unsigned pct;
	const char *probe;
	uint64_t seed, pick;
	size_t next_id, answered;
	double sent[RING];
	bool is_probe[RING];
	char out[64 * 1024], in[64 * 1024];
	size_t out_off, out_len, in_len;
	int probe_ok; /* the last probe answer: 1 OK, 0 ERR, -1 none */
	double probe_at;
	struct phase *ph;
};

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "bench_reload_load: cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void
publish(struct publisher *p, int which)
{
	struct m365_snapshot s;
	struct m365_err err;

	memset(&s, 0, sizeof(s));
	snprintf(s.version, sizeof(s.version), "bench-%ld-%d", (long)getpid(),
	         p->n++);
	s.json = p->json[which];
	s.len = p->len[which];
	snprintf(s.published_by, sizeof(s.published_by), "bench_reload_load");
	if (m365_store_publish(p->c, M365_STORE_PREFIX, &s, 3, &err) < 0) {
		fprintf(stderr, "bench_reload_load: %s\n", err.msg);
		exit(1);
	}
}

/* The publishing thread: publishes what the stream asks for. */
static void *
publish_loop(void *arg)
{
	struct publisher *p = arg;

	while (!atomic_load(&p->stop)) {
		int req = atomic_load(&p->request);
		if (req == 0) {
			usleep(200);
			continue;
		}
		atomic_store(&p->t_pub, bench_now());
		publish(p, req - 1);
		atomic_store(&p->request, 0);
	}
	return NULL;
}

static void
start_helper(struct stream *s, char **argv)
{
	int in[2], out[2];

	if (pipe(in) < 0 || pipe(out) < 0 || (s->pid = fork()) < 0) {
		perror("bench_reload_load: start");
		exit(1);
	}
	if (s->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	close(in[0]), close(out[1]);
	s->to = in[1];
	s->from = out[0];
	fcntl(s->to, F_SETFL, O_NONBLOCK);
	fcntl(s->from, F_SETFL, O_NONBLOCK);
}

/* Queues requests up to the window and writes what the pipe takes. */
static void
send_some(struct stream *s, size_t window)
{
	while (s->next_id - s->answered < window &&
	       s->out_len + MIX_LINE_MAX < sizeof(s->out)) {
		size_t id = s->next_id++;
		char *line = s->out + s->out_len;
		bool probe = id % 8 == 7;
		if (probe)
			s->out_len += (size_t)snprintf(
			    line, MIX_LINE_MAX, "%zu %s - -\n", id, s->probe);
		else
			s->out_len +=
			    mix_line(line, id, mix_rand(&s->seed), s->hf,
			             s->pct, mix_rand(&s->pick));
		s->is_probe[id % RING] = probe;
		s->sent[id % RING] = bench_now();
	}
	while (s->out_off < s->out_len) {
		ssize_t n =
		    write(s->to, s->out + s->out_off, s->out_len - s->out_off);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				perror("bench_reload_load: write");
				exit(1);
			}
			break;
		}
		s->out_off += (size_t)n;
	}
	if (s->out_off == s->out_len)
		s->out_off = s->out_len = 0;
}

/* Takes one answer line: its wait, and the probe's state. */
static void
take_answer(struct stream *s, const char *line, size_t len, double now)
{
	char *end;
	size_t id = strtoull(line, &end, 10);
	double wait;

	if (end == line || *end != ' ' || id >= s->next_id ||
	    id < s->answered) {
		fprintf(stderr, "bench_reload_load: bad answer [%.*s]\n",
		        (int)(len > 80 ? 80 : len), line);
		exit(1);
	}
	s->answered++;
	wait = now - s->sent[id % RING];
	if (s->ph != NULL) {
		size_t us = (size_t)(wait * 1e6);
		s->ph->answers++;
		if (wait > s->ph->max_wait)
			s->ph->max_wait = wait;
		s->ph->hist[us < HIST_US ? us : HIST_US]++;
	}
	if (s->is_probe[id % RING]) {
		s->probe_ok = len >= (size_t)(end - line) + 3 &&
		              memcmp(end, " OK", 3) == 0;
		s->probe_at = now;
	}
}

/* One round of the loop: writes, waits up to 10 ms, reads answers. */
static void
pump(struct stream *s, size_t window)
{
	struct pollfd p[2] = {{s->from, POLLIN, 0}, {s->to, POLLOUT, 0}};
	ssize_t n;
	double now;
	char *line, *nl;

	send_some(s, window);
	if (poll(p, s->out_len > 0 ? 2 : 1, 10) <= 0 ||
	    !(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = read(s->from, s->in + s->in_len, sizeof(s->in) - s->in_len);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		fprintf(stderr, "bench_reload_load: the helper died\n");
		exit(1);
	}
	now = bench_now();
	if (s->ph != NULL) {
		if (s->ph->last_read > 0 &&
		    now - s->ph->last_read > s->ph->max_gap)
			s->ph->max_gap = now - s->ph->last_read;
		s->ph->last_read = now;
	}
	s->in_len += (size_t)n;
	for (line = s->in;
	     (nl = memchr(line, '\n', s->in_len - (size_t)(line - s->in))) !=
	     NULL;
	     line = nl + 1)
		take_answer(s, line, (size_t)(nl - line), now);
	s->in_len -= (size_t)(line - s->in);
	memmove(s->in, line, s->in_len);
}

/* Streams until the probe answers ok (1), not (0) or at all (-2); returns
 * the time of that answer, or exits after `limit` seconds. */
static double
until_probe(struct stream *s, size_t window, int ok, double limit)
{
	double t0 = bench_now();

	s->probe_ok = -1;
	while (ok == -2 ? s->probe_ok < 0 : s->probe_ok != ok) {
		pump(s, window);
		if (bench_now() - t0 > limit) {
			fprintf(stderr,
			        "bench_reload_load: the probe did not turn %s "
			        "in %.0f s\n",
			        ok == 1   ? "OK"
			        : ok == 0 ? "ERR"
			                  : "up",
			        limit);
			exit(1);
		}
	}
	return s->probe_at;
}

/* Streams for secs seconds. */
static void
stream_for(struct stream *s, size_t window, double secs)
{
	double until = bench_now() + secs;

	while (bench_now() < until)
		pump(s, window);
}

/* The 99th percentile of a phase's waits, in seconds. */
static double
p99(const struct phase *ph)
{
	size_t want = ph->answers - ph->answers / 100, seen = 0;

	for (size_t us = 0; us <= HIST_US; us++)
		if ((seen += ph->hist[us]) >= want)
			return (double)us / 1e6;
	return 0;
}

static void
new_phase(struct stream *s, struct phase *ph)
{
	memset(ph->hist, 0, (HIST_US + 1) * sizeof(*ph->hist));
	ph->answers = 0;
	ph->max_wait = ph->max_gap = ph->last_read = 0;
	s->ph = ph;
}

static void
print_phase(const char *name, int i, const struct phase *ph,
            const char *switches)
{
	printf("%s %d: %zu answers,%s max wait %.3f ms, max gap %.3f ms, "
	       "p99 wait %.3f ms\n",
	       name, i, ph->answers, switches, ph->max_wait * 1e3,
	       ph->max_gap * 1e3, p99(ph) * 1e3);
}

/* One reload phase: OLD, then NEW, each once an answer shows the last. */
static double
reload_phase(struct stream *s, struct publisher *p, size_t window, int i)
{
	struct phase ph = {.hist = calloc(HIST_US + 1, sizeof(unsigned))};
	char sw[64];
	double t0 = bench_now(), ms[2];

	if (ph.hist == NULL)
		exit(1);
	new_phase(s, &ph);
	for (int k = 0; k < 2; k++) {
		int which = k == 0 ? 0 : 1; /* OLD: probe ERR; NEW: OK */
		atomic_store(&p->request, 1 + which);
		double seen = until_probe(s, window, which, SWITCH_MAX_S);
		ms[k] = (seen - atomic_load(&p->t_pub)) * 1e3;
		stream_for(s, window, SETTLE_S);
	}
	s->ph = NULL;
	snprintf(sw, sizeof(sw), " switches %.3f %.3f ms,", ms[0], ms[1]);
	print_phase("reload", i, &ph, sw);
	free(ph.hist);
	return bench_now() - t0;
}

static void
quiet_phase(struct stream *s, size_t window, int i, double secs)
{
	struct phase ph = {.hist = calloc(HIST_US + 1, sizeof(unsigned))};

	if (ph.hist == NULL)
		exit(1);
	new_phase(s, &ph);
	stream_for(s, window, secs);
	s->ph = NULL;
	print_phase("quiet", i, &ph, "");
	free(ph.hist);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_reload_load [-r ROUNDS] [-w WINDOW] "
	                "[-f HOSTS [-m PCT]] REDIS_PORT OLD.json NEW.json "
	                "PROBE_HOST PROBE_PORT -- HELPER [ARG...]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct stream s = {.seed = 0x9e3779b97f4a7c15ULL,
	                          .pick = 0x5851f42d4c957f2dULL};
	struct publisher p = {0};
	struct host_file hf;
	struct m365_redis_url u;
	struct m365_err err;
	pthread_t t;
	char url[64], probe[300];
	size_t window = 50;
	int rounds = 5, c;
	long rss, hwm;

	s.pct = 50;
	while ((c = getopt(argc, argv, "+r:w:f:m:")) != -1) {
		if (c == 'r')
			rounds = atoi(optarg);
		else if (c == 'w')
			window = strtoull(optarg, NULL, 10);
		else if (c == 'f' && mix_hosts_load(optarg, &hf) == 0)
			s.hf = &hf;
		else if (c == 'm')
			s.pct = (unsigned)atoi(optarg);
		else
			usage();
	}
	argv += optind;
	argc -= optind;
	if (argc < 7 || strcmp(argv[5], "--") != 0 || rounds < 1 ||
	    window < 1 || window > RING / 2)
		usage();
	signal(SIGPIPE, SIG_IGN);
	p.json[0] = slurp(argv[1], &p.len[0]);
	p.json[1] = slurp(argv[2], &p.len[1]);
	snprintf(probe, sizeof(probe), "%s %s", argv[3], argv[4]);
	s.probe = probe;
	snprintf(url, sizeof(url), "redis://127.0.0.1:%s", argv[0]);
	if (m365_redis_url_parse(url, &u, NULL, &err) < 0 ||
	    (p.c = m365_redis_connect(&u, 2000, &err)) == NULL) {
		fprintf(stderr, "bench_reload_load: %s\n", err.msg);
		return 1;
	}
	publish(&p, 1); /* NEW: the helper starts from its own list */
	pthread_create(&t, NULL, publish_loop, &p);
	double t0 = bench_now();
	start_helper(&s, argv + 6);
	double first = until_probe(&s, 1, -2, 60); /* its own list */
	double redis = until_probe(&s, window, 1, 60);
	printf(
	    "start: first probe answered after %.0f ms, Redis version in use "
	    "after %.0f ms\n",
	    (first - t0) * 1e3, (redis - t0) * 1e3);
	stream_for(&s, window, 1.0); /* whatever follows the first load */
	for (int i = 0; i < rounds; i++) {
		double secs = reload_phase(&s, &p, window, i);
		quiet_phase(&s, window, i, secs);
	}
	proc_rss_kib(s.pid, &rss, &hwm);
	printf("end: RSS %ld KiB, peak %ld KiB\n", rss, hwm);
	atomic_store(&p.stop, 1);
	pthread_join(t, NULL);
	while (s.answered < s.next_id) /* drain, then EOF */
		pump(&s, 0);
	close(s.to);
	close(s.from);
	waitpid(s.pid, NULL, 0);
	redisFree(p.c);
	return 0;
}
