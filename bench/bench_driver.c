/*
 * bench_driver.c - drives an external ACL helper the way Squid does and
 * measures it.
 *
 *     bench_driver [-n REQUESTS] [-w WINDOW] [-s SEED] [-f HOSTS [-m PCT]]
 *                  [-t SECONDS] [-p] NAME CMD [ARG...]
 *
 * Forks CMD with pipes on its stdin and stdout and sends REQUESTS (default
 * 1,000,000) request lines of bench_mix.h's mix, `ID DST PORT SNI -`.  With
 * -f, PCT percent (default 50) of the destinations come from the file HOSTS
 * (one a line: bench/gen_local.py's LIST.hosts), the rest of the mix
 * unchanged.  With -p the driver first puts itself, and so CMD, on the CPU
 * that was idle the longest over 100 ms (bench_proc.h): the two then take
 * turns on it, and what a request costs no longer depends on whether the
 * scheduler runs them on one CPU (the request's bytes still in its cache)
 * or on two (the I/O floor then costs 3 times as much).  A child that
 * makes no progress for SECONDS (default 30; more for one that loads under
 * valgrind) fails the run.
 *
 * The first request goes alone: its answer marks the end of the loading
 * (the helper reads nothing before its list is loaded).  Then never more
 * than WINDOW (default 50, Squid's concurrency=50 on one child) lines go
 * ahead of the answers; a WINDOW of REQUESTS or more streams.  Each answer
 * must be one line starting with the ID of a request sent and not yet
 * answered, then OK or ERR.  The child's stdin is closed only once every
 * answer is in, so its exit and cleanup are outside the answering phase.
 * At the end it prints
 *
 *     NAME: pinned to CPU P                          (with -p, at the start)
 *     NAME: N requests in S s = X req/s, peak RSS R KiB
 *     NAME: answers OK=a ERR=b
 *     NAME: child CPU C s = P ns/request
 *     NAME: load L ms wall, K ms CPU
 *     NAME: answering CPU A s over M requests = Q ns/request
 *     NAME: RSS V KiB after answering, peak H KiB
 *     NAME: answering sleeps Z = Y requests/sleep
 *
 * R is the child's ru_maxrss and C its user + system time over its whole
 * life (wait4()), loading and exit included.  L is the wall time from the
 * fork to the first answer, K the child's CPU time until then (exec and
 * loading the lists; what the scheduler does to L does not count).  A is
 * its CPU time (bench_proc.h: schedstat, every thread) from the first
 * answer to the last, over the M = N - 1 requests of that phase; V and H
 * its VmRSS and VmHWM at the last answer; Z the times its main thread went
 * to sleep in that phase, waiting for input: Y, the requests it answered
 * per wake-up, shows how the stream was batched, which the CPU per request
 * depends on.
 *
 * Exit 0 when every request got exactly one valid answer and the child
 * exited 0; 1 otherwise; 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_clock.h"
#include "bench_mix.h"
#include "bench_proc.h"

#define READ_SIZE (1024 * 1024)
struct run {
	const struct requests *rq;
	size_t window;
	int stall_ms; /* the longest wait for the child's progress */
	int to_child, from_child;
	pid_t pid;
	size_t wr_off;  /* bytes of rq->buf written */
	size_t started; /* lines with at least one byte written */
	size_t answered;
	unsigned char *seen;
	char *rd; /* answer bytes not yet parsed */
	size_t rd_len;
	size_t ok, err, bad;
	char first_bad[160];
	/* the answering phase: from the first answer to the last */
	double t_fork, t_first, t_last;
	uint64_t cpu_first, cpu_last;
	long rss_last, hwm_last, sleeps_first, sleeps_last;
};

/* --- the child --------------------------------------------------------------
 */

/* Forks argv with pipes; fills r->pid, r->to_child, r->from_child. */
static int
start_child(struct run *r, char **argv)
{
	int in[2], out[2];

	if (pipe(in) < 0 || pipe(out) < 0)
		return -1;
	r->pid = fork();
	if (r->pid < 0)
		return -1;
	if (r->pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	close(in[0]), close(out[1]);
	r->to_child = in[1];
	r->from_child = out[0];
	fcntl(r->to_child, F_SETFL, O_NONBLOCK);
	fcntl(r->from_child, F_SETFL, O_NONBLOCK);
	return 0;
}

/* --- writing requests --------------------------------------------------------
 */

/* Offset up to which requests may be written: WINDOW lines past answered. */
static size_t
write_limit(const struct run *r)
{
	/* the first request alone: its answer ends the loading */
	size_t last = r->answered + (r->answered == 0 ? 1 : r->window);
	if (last > r->rq->n)
		last = r->rq->n;
	return last == 0 ? 0 : r->rq->end[last - 1];
}

/* Writes what the window allows. */
static int
send_requests(struct run *r)
{
	size_t limit = write_limit(r);

	if (r->wr_off < limit) {
		ssize_t n = write(r->to_child, r->rq->buf + r->wr_off,
		                  limit - r->wr_off);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			perror("bench_driver: write");
			return -1;
		}
		if (n > 0)
			r->wr_off += (size_t)n;
	}
	while (r->started < r->rq->n &&
	       (r->started == 0 ? 0 : r->rq->end[r->started - 1]) < r->wr_off)
		r->started++;
	return 0;
}

/* --- reading answers -------------------------------------------------------
 */

/* Records a bad answer (the first one is kept for the report). */
static void
bad_answer(struct run *r, const char *line, size_t len, const char *why)
{
	if (r->bad++ == 0)
		snprintf(r->first_bad, sizeof(r->first_bad), "%s: [%.*s]", why,
		         (int)(len > 100 ? 100 : len), line);
}

/* Checks one answer line (without its newline). */
static void
check_answer(struct run *r, const char *line, size_t len)
{
	char *endp;
	unsigned long long id = strtoull(line, &endp, 10);
	const char *v = endp + 1;
	size_t rest = len - (size_t)(v - line);

	if (endp == line || *endp != ' ' || (size_t)(endp - line) >= len)
		return bad_answer(r, line, len, "no channel ID");
	if (id >= r->started || r->seen[id])
		return bad_answer(r, line, len, "unexpected channel ID");
	r->seen[id] = 1;
	r->answered++;
	if (rest >= 2 && memcmp(v, "OK", 2) == 0 && (rest == 2 || v[2] == ' '))
		r->ok++;
	else if (rest >= 3 && memcmp(v, "ERR", 3) == 0 &&
	         (rest == 3 || v[3] == ' '))
		r->err++;
	else
		bad_answer(r, line, len, "neither OK nor ERR");
}

/* Parses the complete answer lines in r->rd; keeps a partial one. */
static void
parse_answers(struct run *r)
{
	char *p = r->rd, *end = r->rd + r->rd_len, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		check_answer(r, p, (size_t)(nl - p));
		p = nl + 1;
	}
	r->rd_len = (size_t)(end - p);
	memmove(r->rd, p, r->rd_len);
	if (r->rd_len == READ_SIZE) { /* an absurd answer line */
		bad_answer(r, r->rd, r->rd_len, "answer too long");
		r->rd_len = 0;
	}
}

/*
 * Samples the child at the first answer and at the last; after the last,
 * closes its stdin (it exits, cleans up, and its stdout ends).
 */
static void
sample_child(struct run *r)
{
	if (r->t_first == 0 && r->answered > 0) {
		r->t_first = bench_now();
		r->cpu_first = proc_cpu_ns(r->pid);
		r->sleeps_first = proc_sleeps(r->pid);
	}
	if (r->t_last == 0 && r->answered == r->rq->n) {
		r->t_last = bench_now();
		r->cpu_last = proc_cpu_ns(r->pid);
		r->sleeps_last = proc_sleeps(r->pid);
		proc_rss_kib(r->pid, &r->rss_last, &r->hwm_last);
		close(r->to_child);
		r->to_child = -1;
	}
}

/* Reads answers; returns 1 at EOF, 0 otherwise, -1 on error. */
static int
read_answers(struct run *r)
{
	ssize_t n =
	    read(r->from_child, r->rd + r->rd_len, READ_SIZE - r->rd_len);

	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	if (n == 0) {
		if (r->rd_len > 0)
			bad_answer(r, r->rd, r->rd_len, "no final newline");
		return 1;
	}
	r->rd_len += (size_t)n;
	parse_answers(r);
	sample_child(r);
	return 0;
}

/* --- the loop --------------------------------------------------------------
 */

/* Polls until the child's stdout ends; returns 0 or -1. */
static int
pump(struct run *r)
{
	for (;;) {
		struct pollfd p[2] = {{r->from_child, POLLIN, 0},
		                      {r->to_child, POLLOUT, 0}};
		bool want_write =
		    r->to_child >= 0 && r->wr_off < write_limit(r);
		int n = poll(p, want_write ? 2 : 1, r->stall_ms);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				fprintf(stderr,
				        "bench_driver: no progress for %d s\n",
				        r->stall_ms / 1000);
			else
				fprintf(stderr, "bench_driver: poll failed\n");
			return -1;
		}
		if (want_write && (p[1].revents & (POLLOUT | POLLERR)) &&
		    send_requests(r) < 0)
			return -1;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			int rc = read_answers(r);
			if (rc != 0)
				return rc < 0 ? -1 : 0;
			if (r->to_child >= 0 && send_requests(r) < 0)
				return -1;
		}
	}
}

/* Waits for the child; returns its peak RSS in KiB, or -1 if it failed;
 * its CPU time (user + system, seconds) goes to *cpu. */
static long
reap(pid_t pid, double *cpu)
{
	struct rusage ru;
	int status;

	*cpu = 0;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("bench_driver: wait4");
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_driver: child %s %d\n",
		        WIFEXITED(status) ? "exited" : "killed by signal",
		        WIFEXITED(status) ? WEXITSTATUS(status)
		                          : WTERMSIG(status));
		return -1;
	}
	*cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	return ru.ru_maxrss;
}

/* Prints the result lines; returns the exit status. */
static int
report(const char *name, const struct run *r, double secs, long rss, double cpu)
{
	int fail = rss < 0 || r->bad > 0 || r->answered != r->rq->n;

	printf("%s: %zu requests in %.3f s = %.0f req/s, peak RSS %ld KiB\n",
	       name, r->answered, secs, (double)r->answered / secs, rss);
	printf("%s: answers OK=%zu ERR=%zu\n", name, r->ok, r->err);
	printf("%s: child CPU %.3f s = %.0f ns/request\n", name, cpu,
	       r->answered ? cpu * 1e9 / (double)r->answered : 0.0);
	if (r->bad > 0)
		fprintf(stderr, "%s: %zu bad answers, first %s\n", name, r->bad,
		        r->first_bad);
	if (r->answered != r->rq->n)
		fprintf(stderr, "%s: %zu of %zu requests answered\n", name,
		        r->answered, r->rq->n);
	if (r->t_first > 0)
		printf("%s: load %.3f ms wall, %.3f ms CPU\n", name,
		       (r->t_first - r->t_fork) * 1e3,
		       (double)r->cpu_first / 1e6);
	if (r->t_last > 0 && r->cpu_last > 0 && r->answered > 1) {
		double a = (double)(r->cpu_last - r->cpu_first) / 1e9;
		printf("%s: answering CPU %.3f s over %zu requests = %.0f "
		       "ns/request\n",
		       name, a, r->answered - 1,
		       a * 1e9 / (double)(r->answered - 1));
		printf("%s: RSS %ld KiB after answering, peak %ld KiB\n", name,
		       r->rss_last, r->hwm_last);
		if (r->sleeps_first >= 0 && r->sleeps_last > r->sleeps_first)
			printf(
			    "%s: answering sleeps %ld = %.1f requests/sleep\n",
			    name, r->sleeps_last - r->sleeps_first,
			    (double)(r->answered - 1) /
			        (double)(r->sleeps_last - r->sleeps_first));
	}
	return fail ? 1 : 0;
}

/* Puts this process (and the children it forks) on the idlest CPU. */
static int
pin_cpu(const char *name)
{
	int cpu = proc_idlest_cpu(100);
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu >= 0)
		CPU_SET(cpu, &set);
	if (cpu < 0 || sched_setaffinity(0, sizeof(set), &set) < 0) {
		fprintf(stderr, "bench_driver: cannot pin to a CPU\n");
		return -1;
	}
	printf("%s: pinned to CPU %d\n", name, cpu);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_driver [-n REQUESTS] [-w WINDOW] "
	                "[-s SEED] [-f HOSTS [-m PCT]] [-t SECONDS] [-p] "
	                "NAME CMD "
	                "[ARG...]\n");
	exit(2);
}

/* -t's SECONDS (1 to 3600) in ms; 0 when it is not one. */
static int
stall_ms(const char *s)
{
	char *end;
	unsigned long t = strtoul(s, &end, 10);

	return *s != '\0' && *end == '\0' && t >= 1 && t <= 3600 ? (int)t * 1000
	                                                         : 0;
}

int
main(int argc, char **argv)
{
	struct requests rq;
	struct host_file hf;
	struct run r = {.window = 50, .stall_ms = 30000};
	size_t n = 1000000;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	const char *hosts = NULL;
	unsigned pct = 50;
	int c, pin = 0;

	while ((c = getopt(argc, argv, "+n:w:s:f:m:t:p")) != -1) {
		if (c == 'n')
			n = strtoull(optarg, NULL, 10);
		else if (c == 'w')
			r.window = strtoull(optarg, NULL, 10);
		else if (c == 's')
			seed = strtoull(optarg, NULL, 0) | 1;
		else if (c == 'f')
			hosts = optarg;
		else if (c == 'm')
			pct = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 't')
			r.stall_ms = stall_ms(optarg);
		else if (c == 'p')
			pin = 1;
		else
			usage();
	}
	if (argc - optind < 2 || n == 0 || r.window == 0 || pct > 100 ||
	    r.stall_ms == 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (hosts != NULL && mix_hosts_load(hosts, &hf) < 0)
		return 1;
	/* The requests are built before the fork (so the load time starts at
	 * the fork) in memory a child does not inherit (so its ru_maxrss,
	 * which survives exec, is not the driver's). */
	if (mix_requests(&rq, n, seed, hosts ? &hf : NULL, pct) < 0) {
		fprintf(stderr, "bench_driver: out of memory\n");
		return 1;
	}
	if (pin && pin_cpu(argv[optind]) < 0)
		return 1;
	fflush(stdout);
	r.t_fork = bench_now();
	if (start_child(&r, argv + optind + 1) < 0) {
		perror("bench_driver: start");
		return 1;
	}
	r.rq = &rq;
	r.seen = calloc(n, 1);
	r.rd = malloc(READ_SIZE);
	if (r.seen == NULL || r.rd == NULL) {
		fprintf(stderr, "bench_driver: out of memory\n");
		return 1;
	}
	double t0 = bench_now();
	int rc = send_requests(&r) < 0 || pump(&r) < 0;
	double secs = bench_now() - t0;
	if (r.to_child >= 0)
		close(r.to_child);
	close(r.from_child);
	if (rc != 0)
		kill(r.pid, SIGKILL); /* a stalled child may never see EOF */
	double cpu;
	long rss = reap(r.pid, &cpu);
	return report(argv[optind], &r, secs, rss, cpu) | rc;
}
