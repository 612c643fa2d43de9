/*
 * bench_driver.c - drives an external ACL helper the way Squid does and
 * measures it.
 *
 *     bench_driver [-n REQUESTS] [-w WINDOW] [-s SEED] NAME CMD [ARG...]
 *
 * Forks CMD with pipes on its stdin and stdout, sends REQUESTS (default
 * 1,000,000) request lines `ID DST PORT SNI -` (ID a growing counter as
 * Squid 5 sends with concurrency; the trailing `-` is Squid's %DATA), never
 * more than WINDOW (default 50, Squid's concurrency=50 on one child) lines
 * ahead of the answers, and reads every answer.  Each answer must be one
 * line starting with the ID of a request sent and not yet answered, then OK
 * or ERR.  At the end it prints
 *
 *     NAME: N requests in S s = X req/s, peak RSS R KiB
 *     NAME: answers OK=a ERR=b
 *     NAME: child CPU C s = P ns/request
 *
 * (R is the child's ru_maxrss and C its user + system time, from
 * wait4()).  The request mix: Microsoft
 * exact names, suffix-wildcard names with random prefixes, look-alikes,
 * IPv4/IPv6 inside and outside Microsoft ranges, unrelated names; ports
 * 443/80/8080/-; SNI none, the same name or another one.
 *
 * Exit 0 when every request got exactly one valid answer and the child
 * exited 0; 1 otherwise; 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
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

#define LINE_MAX_LEN 200
#define READ_SIZE (1024 * 1024)
#define STALL_MS 30000

struct requests {
	char *buf;   /* all request lines, back to back */
	size_t *end; /* end[i]: offset just past line i's newline */
	size_t n;
};

struct run {
	const struct requests *rq;
	size_t window;
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
};

/* --- request generation -------------------------------------------------- */

static const char *const exact_names[] = {
    "teams.microsoft.com",
    "outlook.office365.com",
    "outlook.office.com",
    "smtp.office365.com",
    "teams.cloud.microsoft",
    "outlook.cloud.microsoft",
    "account.activedirectory.windowsazure.com",
    "compliance.microsoft.com",
    "defender.microsoft.com",
    "office.live.com",
    "aka.ms",
    "crl.microsoft.com",
    "go.microsoft.com",
    "admin.microsoft.com",
    "www.onedrive.com",
    "storage.live.com",
    "login.live.com",
    "sway.com",
};

static const char *const suffixes[] = {
    "teams.microsoft.com",
    "lync.com",
    "sharepoint.com",
    "protection.outlook.com",
    "officeapps.live.com",
    "online.office.com",
    "auth.microsoft.com",
    "microsoftonline.com",
    "office.net",
    "office.com",
    "skype.com",
    "mail.protection.outlook.com",
    "teams.cloud.microsoft",
    "cloud.microsoft",
    "onmicrosoft.com",
    "yammer.com",
};

static const char *const lookalikes[] = {
    "teams.microsoft.com.evil.example",
    "teams-microsoft.com",
    "outlook.office365.com.attacker.net",
    "sharepoint.com.evil.org",
    "microsoft.com-login.example",
    "evilsharepoint.com",
    "teamsmicrosoft.com",
    "office365.co",
    "lync.com.example",
    "m1crosoft.com",
};

static const char *const unrelated[] = {
    "www.example.com",      "cdn.example.net",  "api.github.com",
    "www.google.com",       "debian.org",       "deb.debian.org",
    "news.ycombinator.com", "s3.amazonaws.com", "www.wikipedia.org",
    "static.zoom.us",
};

/* xorshift64*: a fixed, fast sequence so every run sends the same mix. */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

#define PICK(arr, r) ((arr)[(r) % (sizeof(arr) / sizeof((arr)[0]))])

/* A name under a Microsoft suffix wildcard, e.g. "x3f9a.sharepoint.com". */
static void
gen_suffix(char *h, size_t len, uint64_t r)
{
	snprintf(h, len, "%s%" PRIx64 ".%s", (r & 1) ? "tenant-" : "x",
	         (r >> 8) & 0xffffff, PICK(suffixes, r >> 40));
}

/* An IPv4 address inside (in=true) or outside Microsoft's ranges. */
static void
gen_ipv4(char *h, size_t len, uint64_t r, bool in)
{
	static const unsigned teams_b[] = {112, 113, 114, 115, 122, 123};
	unsigned a = (unsigned)(r >> 16) & 0xff, b = (unsigned)(r >> 24) & 0xff;

	if (!in) /* documentation ranges */
		snprintf(h, len, "%s.%u", (r & 1) ? "198.51.100" : "203.0.113",
		         a);
	else if ((r >> 32) % 4 == 0) /* 52.112.0.0/14, 52.122.0.0/15 */
		snprintf(h, len, "52.%u.%u.%u", PICK(teams_b, r >> 40), a, b);
	else if ((r >> 32) % 4 == 1) /* 40.92.0.0/15 */
		snprintf(h, len, "40.%u.%u.%u", 92 + (a & 1), a, b);
	else if ((r >> 32) % 4 == 2) /* 13.107.6.152/31 */
		snprintf(h, len, "13.107.6.%u", 152 + (a & 1));
	else /* 20.190.128.0/18 */
		snprintf(h, len, "20.190.%u.%u", 128 + (a & 63), b);
}

/* An IPv6 address inside or outside Microsoft's ranges, sometimes in []. */
static void
gen_ipv6(char *h, size_t len, uint64_t r, bool in)
{
	unsigned a = (unsigned)(r >> 16) & 0xffff,
	         b = (unsigned)(r >> 32) & 0xffff;
	const char *o = (r & 1) ? "[" : "", *c = (r & 1) ? "]" : "";

	if (in)
		snprintf(h, len, "%s2603:1063:%x:%x::%x%s", o, a & 0x3ff, b,
		         a ^ b, c);
	else
		snprintf(h, len, "%s2001:db8:%x:%x::%x%s", o, a, b, a ^ b, c);
}

/* Writes the destination of request r into h. */
static void
gen_dst(char *h, size_t len, uint64_t r)
{
	unsigned k = (unsigned)(r % 100);

	if (k < 25)
		snprintf(h, len, "%s", PICK(exact_names, r >> 8));
	else if (k < 50)
		gen_suffix(h, len, r >> 7);
	else if (k < 60)
		snprintf(h, len, "%s", PICK(lookalikes, r >> 8));
	else if (k < 70)
		gen_ipv4(h, len, r >> 7, true);
	else if (k < 75)
		gen_ipv4(h, len, r >> 7, false);
	else if (k < 80)
		gen_ipv6(h, len, r >> 7, true);
	else if (k < 85)
		gen_ipv6(h, len, r >> 7, false);
	else
		snprintf(h, len, "%s", PICK(unrelated, r >> 8));
}

/* Port: 443 50%, 80 20%, 8080 15%, unknown 15%. */
static const char *
gen_port(uint64_t r)
{
	unsigned k = (unsigned)(r % 20);
	return k < 10 ? "443" : k < 14 ? "80" : k < 17 ? "8080" : "-";
}

/* Appends request line i to rq->buf at *off. */
static void
gen_line(struct requests *rq, size_t i, size_t *off, uint64_t *seed)
{
	char dst[128];
	uint64_t r = next_rand(seed);
	unsigned k = (unsigned)((r >> 50) % 10);
	const char *sni = k < 6 ? "-" : k < 9 ? dst : "teams.microsoft.com";

	gen_dst(dst, sizeof(dst), r);
	if (dst[0] == '[' && sni == dst)
		sni = "-"; /* an SNI is never an IP literal in brackets */
	*off +=
	    (size_t)snprintf(rq->buf + *off, LINE_MAX_LEN, "%zu %s %s %s -\n",
	                     i, dst, gen_port(r >> 20), sni);
	rq->end[i] = *off;
}

/* Builds n request lines; returns 0, or -1 when out of memory. */
static int
gen_requests(struct requests *rq, size_t n, uint64_t seed)
{
	size_t off = 0;

	rq->n = n;
	rq->buf = malloc(n * LINE_MAX_LEN);
	rq->end = malloc(n * sizeof(*rq->end));
	if (rq->buf == NULL || rq->end == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		gen_line(rq, i, &off, &seed);
	return 0;
}

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
	size_t last = r->answered + r->window;
	if (last > r->rq->n)
		last = r->rq->n;
	return last == 0 ? 0 : r->rq->end[last - 1];
}

/* Writes what the window allows; closes the pipe after the last line. */
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
	if (r->wr_off == r->rq->end[r->rq->n - 1] && r->to_child >= 0) {
		close(r->to_child);
		r->to_child = -1;
	}
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
		int n = poll(p, want_write ? 2 : 1, STALL_MS);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "bench_driver: %s\n",
			        n == 0 ? "no progress for 30 s"
			               : "poll failed");
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
	return fail ? 1 : 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_driver [-n REQUESTS] [-w WINDOW] "
	                "[-s SEED] NAME CMD [ARG...]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct requests rq;
	struct run r = {.window = 50};
	size_t n = 1000000;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	int c;

	while ((c = getopt(argc, argv, "+n:w:s:")) != -1) {
		if (c == 'n')
			n = strtoull(optarg, NULL, 10);
		else if (c == 'w')
			r.window = strtoull(optarg, NULL, 10);
		else if (c == 's')
			seed = strtoull(optarg, NULL, 0) | 1;
		else
			usage();
	}
	if (argc - optind < 2 || n == 0 || r.window == 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	/* Fork while small: ru_maxrss survives exec, so a child forked from
	 * a driver holding the requests would report the driver's size. */
	fflush(stdout);
	if (start_child(&r, argv + optind + 1) < 0) {
		perror("bench_driver: start");
		return 1;
	}
	r.rq = &rq;
	r.seen = calloc(n, 1);
	r.rd = malloc(READ_SIZE);
	if (gen_requests(&rq, n, seed) < 0 || r.seen == NULL || r.rd == NULL) {
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
