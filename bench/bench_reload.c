/*
 * bench_reload - what a reload costs the helper's answers.
 *
 *   bench_reload HELPER REDIS_PORT OLD.json NEW.json PROBE_HOST PROBE_PORT
 *
 * Starts HELPER --redis redis://127.0.0.1:REDIS_PORT --poll 30 and talks to
 * it in lockstep (one request, one answer), as a quiet Squid does:
 * 1. quiet: latency of N requests with no reload -> p50, p99;
 * 2. reload: the same N requests while another thread publishes OLD and NEW
 *    alternately every 20 ms, each a full reload -> p50, p99;
 * 3. switch: R times, publish a version and probe PROBE_HOST until the
 *    answer shows it -> median and max time from publish to first answer.
 * PROBE_HOST must be OK in NEW and not in OLD.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_clock.h"
#include "m365_redis.h"
#include "m365_store.h"

#define N_REQ 20000
#define ROUNDS 20

static const char *const hosts[] = {"teams.microsoft.com 443",
                                    "outlook.office365.com 443",
                                    "a.b.teams.microsoft.com 443",
                                    "www.example.com 443",
                                    "52.112.0.1 443",
                                    "evilteams.microsoft.com 443",
                                    "teams.microsoft.com.evil.example 443",
                                    "login.microsoftonline.com 443"};

struct helper {
	pid_t pid;
	FILE *in, *out;
};

struct publisher {
	redisContext *c;
	char *json[2];
	size_t len[2];
	atomic_int stop;
	int n;
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
		fprintf(stderr, "bench_reload: cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void
start_helper(struct helper *h, const char *path, const char *url)
{
	int in[2], out[2];

	if (pipe(in) < 0 || pipe(out) < 0 || (h->pid = fork()) < 0)
		exit(1);
	if (h->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(path, path, "--redis", url, "--poll", "30", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	h->in = fdopen(in[1], "w");
	h->out = fdopen(out[0], "r");
}

/* One request, one answer; returns the answer's status word in buf. */
static void
ask(struct helper *h, long id, const char *req, char *buf, size_t len)
{
	fprintf(h->in, "%ld %s -\n", id, req);
	fflush(h->in);
	if (fgets(buf, (int)len, h->out) == NULL) {
		fprintf(stderr, "bench_reload: the helper died\n");
		exit(1);
	}
}

static void
publish(redisContext *c, const char *version, char *json, size_t len)
{
	struct m365_snapshot s;
	struct m365_err err;

	memset(&s, 0, sizeof(s));
	snprintf(s.version, sizeof(s.version), "%s", version);
	s.json = json;
	s.len = len;
	snprintf(s.published_by, sizeof(s.published_by), "bench_reload");
	if (m365_store_publish(c, M365_STORE_PREFIX, &s, 3, &err) < 0) {
		fprintf(stderr, "bench_reload: %s\n", err.msg);
		exit(1);
	}
}

static void *
publish_loop(void *arg)
{
	struct publisher *p = arg;
	char v[32];

	while (!atomic_load(&p->stop)) {
		snprintf(v, sizeof(v), "r%d", p->n);
		publish(p->c, v, p->json[p->n % 2], p->len[p->n % 2]);
		p->n++;
		usleep(20000);
	}
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Runs N_REQ lockstep requests; prints p50 and p99 in microseconds. */
static void
latency(struct helper *h, const char *label, double *p99)
{
	static double lat[N_REQ];
	char buf[512];
	long i;

	for (i = 0; i < N_REQ; i++) {
		double t0 = (bench_now() * 1e6);
		ask(h, i, hosts[i % 8], buf, sizeof(buf));
		lat[i] = (bench_now() * 1e6) - t0;
	}
	qsort(lat, N_REQ, sizeof(double), cmp_double);
	*p99 = lat[N_REQ * 99 / 100];
	printf(
	    "%s: %d lockstep requests: p50 %.1f us, p99 %.1f us, max %.1f us\n",
	    label, N_REQ, lat[N_REQ / 2], *p99, lat[N_REQ - 1]);
}

int
main(int argc, char **argv)
{
	struct publisher p;
	struct m365_redis_url u;
	struct m365_err err;
	struct helper h;
	pthread_t t;
	char url[128], buf[512], probe[300], v[32];
	double sw[ROUNDS], quiet99, reload99;
	int i;

	if (argc != 7) {
		fprintf(stderr,
		        "usage: bench_reload HELPER REDIS_PORT OLD.json "
		        "NEW.json PROBE_HOST PROBE_PORT\n");
		return 2;
	}
	memset(&p, 0, sizeof(p));
	p.json[0] = slurp(argv[3], &p.len[0]);
	p.json[1] = slurp(argv[4], &p.len[1]);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%s", argv[2]);
	snprintf(probe, sizeof(probe), "%s %s", argv[5], argv[6]);
	if (m365_redis_url_parse(url, &u, NULL, &err) < 0 ||
	    (p.c = m365_redis_connect(&u, 2000, &err)) == NULL) {
		fprintf(stderr, "bench_reload: %s\n", err.msg);
		return 1;
	}
	publish(p.c, "old", p.json[0], p.len[0]);
	start_helper(&h, argv[1], url);
	do { /* until the helper follows Redis */
		usleep(10000);
		ask(&h, 0, probe, buf, sizeof(buf));
	} while (strstr(buf, " OK") != NULL);
	latency(&h, "quiet ", &quiet99);
	p.n = 0;
	pthread_create(&t, NULL, publish_loop, &p);
	latency(&h, "reload", &reload99);
	atomic_store(&p.stop, 1);
	pthread_join(t, NULL);
	printf("reload: %d full reloads published during the run\n", p.n);
	printf("%s: p99 during reloads %.2fx the quiet p99 (target <= 2x)\n",
	       reload99 <= 2 * quiet99 ? "PASS" : "MISS", reload99 / quiet99);
	for (i = 0; i < ROUNDS; i++) {
		int want_ok = i % 2 == 0;
		double t0;
		long probes = 0;
		snprintf(v, sizeof(v), "s%d", i);
		t0 = (bench_now() * 1e6);
		publish(p.c, v, p.json[want_ok], p.len[want_ok]);
		do {
			ask(&h, ++probes, probe, buf, sizeof(buf));
		} while ((strstr(buf, " OK") != NULL) != want_ok &&
		         (bench_now() * 1e6) - t0 < 5e6);
		sw[i] = ((bench_now() * 1e6) - t0) / 1000;
	}
	qsort(sw, ROUNDS, sizeof(double), cmp_double);
	printf("switch: publish to first answer from the new list over %d "
	       "publishes: median %.2f ms, max %.2f ms\n",
	       ROUNDS, sw[ROUNDS / 2], sw[ROUNDS - 1]);
	printf("%s: switch in under 1 s (max %.2f ms)\n",
	       sw[ROUNDS - 1] < 1000 ? "PASS" : "MISS", sw[ROUNDS - 1]);
	fclose(h.in);
	waitpid(h.pid, NULL, 0);
	fclose(h.out);
	redisFree(p.c);
	free(p.json[0]);
	free(p.json[1]);
	return 0;
}
