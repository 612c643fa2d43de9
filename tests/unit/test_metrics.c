/*
 * tests/unit/test_metrics.c - the host's counters file (m365_metrics.h) in
 * a temporary directory: what a slot counts, read back by front end,
 * verdict, category, service, invalid reason and latency bucket; a closed
 * or killed process's counts folded into the retired totals, never lost
 * and never counted twice; the gauges; and counters files that are not
 * what they should be (wrong size, magic or layout, a symlink, a
 * directory, a FIFO, unterminated strings, impossible slot fields).
 * Verdicts come from classifying real names with the worldwide fixture.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

#include "m365_metrics.h"
#include "metrics_impl.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

#define WW FIXTURE("worldwide-2025-12-01.json")
#define SQ M365_FE_SQUID
#define IC M365_FE_ICAP
#define OK_ 1
#define ERR_ 0
#define LK(c, r, cat, svc) ((c)->lookups[r][M365_MCAT_##cat][M365_MSVC_##svc])
#define SLOT_OFF(i, field)                                                     \
	(offsetof(struct metrics_file, slots) +                                \
	 (size_t)(i) * sizeof(struct metrics_slot) +                           \
	 offsetof(struct metrics_slot, field))

static struct m365_list *ww; /* worldwide 2025-12-01, default policy */
static char dir[64];         /* this test's metrics directory */
static char file[128];       /* dir/counters */

/* What the library logged through capture(). */
static struct {
	int n, warnings;
	char last[1400];
} cap;

static void
capture(void *ctx, enum m365_log_level level, const char *msg)
{
	(void)ctx;
	cap.n++;
	if (level == M365_LOG_WARNING)
		cap.warnings++;
	snprintf(cap.last, sizeof(cap.last), "%s", msg);
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static int
setup_group(void **state)
{
	struct m365_options opt = {.list = WW};
	struct m365_err err;

	(void)state;
	if ((ww = m365_list_load(&opt, &err)) == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

static int
teardown_group(void **state)
{
	(void)state;
	m365_list_unref(ww);
	return 0;
}

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/m365-metrics-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(file, sizeof(file), "%s/%s", dir, M365_METRICS_FILE);
	memset(&cap, 0, sizeof(cap));
	return 0;
}

static int
teardown_dir(void **state)
{
	(void)state;
	chmod(dir, 0700);
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A slot of front end fe in dir; fails the test on a warning. */
static struct m365_metrics *
open_fe(enum m365_frontend fe)
{
	struct m365_metrics *m;

	memset(&cap, 0, sizeof(cap));
	if ((m = m365_metrics_open(dir, fe, capture, NULL)) == NULL)
		fail_msg("m365_metrics_open(%s): %s", dir, cap.last);
	assert_int_equal(cap.n, 0);
	return m;
}

/* The file as readers see it; fails the test when it cannot be read. */
static void
view(struct m365_metrics_view *v)
{
	struct m365_err err;

	if (m365_metrics_read(dir, v, &err) != 0)
		fail_msg("m365_metrics_read: %s", err.msg);
}

/* Classifies DST PORT SNI with the fixture (or no list) and counts the
 * verdict `times` times with latency ns. */
static void
count(struct m365_metrics *m, const struct m365_list *l, const char *dst,
      const char *port, const char *sni, int times, uint64_t ns)
{
	struct m365_verdict v;
	int i;

	m365_classify(l, dst, port, sni, &v);
	for (i = 0; i < times; i++)
		m365_metrics_lookup(m, &v, ns);
}

/* The sum of every lookups cell. */
static uint64_t
total(const struct m365_metrics_counts *c)
{
	uint64_t n = 0;
	int r, k, s;

	for (r = 0; r < 2; r++)
		for (k = 0; k < M365_MCAT_N; k++)
			for (s = 0; s < M365_MSVC_N; s++)
				n += c->lookups[r][k][s];
	return n;
}

/* Fails with the first counter that differs, named by its labels. */
static void
assert_counts(const struct m365_metrics_counts *want,
              const struct m365_metrics_counts *got, const char *what)
{
	int r, k, s, i;

	for (r = 0; r < 2; r++)
		for (k = 0; k < M365_MCAT_N; k++)
			for (s = 0; s < M365_MSVC_N; s++)
				if (want->lookups[r][k][s] !=
				    got->lookups[r][k][s])
					fail_msg(
					    "%s: lookups{%s,%s,%s}: want %llu, "
					    "got %llu",
					    what, r ? "ok" : "err",
					    m365_mcat_name(k),
					    m365_msvc_name(s),
					    (unsigned long long)
					        want->lookups[r][k][s],
					    (unsigned long long)
					        got->lookups[r][k][s]);
	for (i = 0; i < M365_INV_N; i++)
		if (want->invalid[i] != got->invalid[i])
			fail_msg("%s: invalid{%s}: want %llu, got %llu", what,
			         m365_invalid_name(i),
			         (unsigned long long)want->invalid[i],
			         (unsigned long long)got->invalid[i]);
	if (memcmp(want, got, sizeof(*want)) != 0)
		fail_msg("%s: no_list %llu/%llu, sum %llu/%llu, switches "
		         "%llu/%llu, refused %llu/%llu or a latency bucket "
		         "differs (want/got)",
		         what, (unsigned long long)want->no_list,
		         (unsigned long long)got->no_list,
		         (unsigned long long)want->latency_sum_ns,
		         (unsigned long long)got->latency_sum_ns,
		         (unsigned long long)want->switches,
		         (unsigned long long)got->switches,
		         (unsigned long long)want->refused,
		         (unsigned long long)got->refused);
}

/* The retired totals of front end fe, as the file holds them. */
static void
retired(enum m365_frontend fe, struct m365_metrics_counts *out)
{
	struct metrics_header h;
	int fd = open(file, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &h, sizeof(h), 0), sizeof(h));
	close(fd);
	memset(out, 0, sizeof(*out));
	memcpy(out, (const void *)&h.retired[fe], sizeof(*out));
}

/* The index of the slot whose pid is pid, or -1. */
static int
slot_of(int pid)
{
	int fd = open(file, O_RDONLY), i, p;

	assert_true(fd >= 0);
	for (i = 0; i < M365_METRICS_SLOTS; i++) {
		assert_int_equal(pread(fd, &p, sizeof(p), SLOT_OFF(i, pid)),
		                 sizeof(p));
		if (p == pid)
			break;
	}
	close(fd);
	return i < M365_METRICS_SLOTS ? i : -1;
}

static void
poke(off_t off, const void *data, size_t len)
{
	int fd = open(file, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, len, off), (ssize_t)len);
	close(fd);
}

/* m365_metrics_read fails with code. */
static void
assert_read_fails(enum m365_err_code code)
{
	struct m365_metrics_view v;
	struct m365_err err = {.code = M365_E_NONE};

	assert_int_equal(m365_metrics_read(dir, &v, &err), -1);
	assert_int_equal(err.code, code);
	assert_non_null(strstr(err.msg, dir));
	assert_null(v.procs);
	assert_int_equal(v.n_procs, 0);
}

/* m365_metrics_open refuses with exactly one warning that names the file
 * and says why (why: a substring). */
static void
assert_open_refused(const char *why)
{
	memset(&cap, 0, sizeof(cap));
	assert_null(m365_metrics_open(dir, SQ, capture, NULL));
	assert_int_equal(cap.n, 1);
	assert_int_equal(cap.warnings, 1);
	if (strstr(cap.last, dir) == NULL || strstr(cap.last, why) == NULL)
		fail_msg("warning [%s] lacks [%s] or [%s]", cap.last, dir, why);
	assert_non_null(strstr(cap.last, "without counting"));
}

/* --- counting ------------------------------------------------------------- */

TEST(test_lookups_counted_by_frontend_verdict_category_and_service)
{
	struct m365_metrics *sq = open_fe(SQ), *ic = open_fe(IC);
	struct m365_metrics_counts want[M365_FE_N];
	struct m365_metrics_view v;
	struct m365_set other = {.category = M365_CAT_OTHER,
	                         .service_area = "Intune"};
	struct m365_set noarea = {.category = M365_CAT_DEFAULT};
	struct m365_verdict local = {.result = M365_OK, .why = M365_WHY_LOCAL},
	                    odd = {.result = M365_ERR,
	                           .why = M365_WHY_UNSELECTED,
	                           .set = &other},
	                    bare = {.result = M365_ERR,
	                            .why = M365_WHY_UNSELECTED,
	                            .set = &noarea};

	count(sq, ww, "outlook.office365.com", "443", NULL, 3, 500);
	count(sq, ww, "teams.microsoft.com", "443", "-", 2, 500);
	count(sq, ww, "contoso.sharepoint.com", "443", NULL, 1, 500);
	count(sq, ww, "login.microsoftonline.com", "443", NULL, 1, 500);
	count(sq, ww, "www.office.com", "443", NULL, 2, 500); /* Default */
	count(sq, ww, "example.com", "443", NULL, 4, 500);
	count(sq, ww, "bad..host", "443", NULL, 1, 500);
	count(sq, ww, NULL, NULL, NULL, 1, 500);
	count(sq, ww, "outlook.office365.com", "0", NULL, 1, 500);
	count(sq, ww, "outlook.office365.com", "443", "a b", 1, 500);
	count(sq, NULL, "outlook.office365.com", "443", NULL, 2, 500);
	m365_metrics_lookup(sq, &local, 500);
	m365_metrics_lookup(sq, &odd, 500);
	m365_metrics_lookup(sq, &bare, 500);
	m365_metrics_invalid(sq, M365_INV_SYNTAX);
	m365_metrics_invalid(sq, M365_INV_SYNTAX);
	m365_metrics_invalid(sq, M365_INV_LINE_TOO_LONG);
	m365_metrics_invalid(sq, M365_INV_N); /* not a reason: ignored */
	m365_metrics_invalid(sq, (enum m365_invalid) - 1); /* nor this */
	count(ic, ww, "outlook.office365.com", "443", NULL, 1, 500);
	count(ic, ww, "example.com", NULL, NULL, 2, 500);

	memset(want, 0, sizeof(want));
	LK(&want[SQ], OK_, OPTIMIZE, EXCHANGE) = 3;
	LK(&want[SQ], OK_, ALLOW, SKYPE) = 2;
	LK(&want[SQ], OK_, OPTIMIZE, SHAREPOINT) = 1;
	LK(&want[SQ], OK_, ALLOW, COMMON) = 1;
	LK(&want[SQ], ERR_, DEFAULT, COMMON) = 2;
	/* example 4, bad..host, no dst, port 0, bad SNI, no list 2, and
	 * the 3 syntax/too-long ERRs */
	LK(&want[SQ], ERR_, NONE, NONE) = 4 + 1 + 1 + 1 + 1 + 2 + 3;
	LK(&want[SQ], OK_, LOCAL, LOCAL) = 1;
	LK(&want[SQ], ERR_, OTHER, OTHER) = 1;
	LK(&want[SQ], ERR_, DEFAULT, NONE) = 1;
	want[SQ].invalid[M365_INV_DESTINATION] = 2;
	want[SQ].invalid[M365_INV_PORT] = 1;
	want[SQ].invalid[M365_INV_SNI] = 1;
	want[SQ].invalid[M365_INV_SYNTAX] = 2;
	want[SQ].invalid[M365_INV_LINE_TOO_LONG] = 1;
	want[SQ].no_list = 2;
	want[SQ].latency[0] = 22; /* every lookup but the 3 invalid() */
	want[SQ].latency_sum_ns = 22 * 500;
	LK(&want[IC], OK_, OPTIMIZE, EXCHANGE) = 1;
	LK(&want[IC], ERR_, NONE, NONE) = 2;
	want[IC].latency[0] = 3;
	want[IC].latency_sum_ns = 3 * 500;

	view(&v);
	assert_counts(&want[SQ], &v.fe[SQ], "squid");
	assert_counts(&want[IC], &v.fe[IC], "icap");
	assert_int_equal(total(&v.fe[SQ]), 25);
	assert_int_equal(v.n_procs, 2);
	assert_int_equal(v.procs[0].pid, getpid());
	assert_int_equal(v.procs[1].pid, getpid());
	assert_int_equal(v.procs[0].frontend + v.procs[1].frontend, SQ + IC);
	m365_metrics_view_free(&v);
	m365_metrics_close(sq);
	m365_metrics_close(ic);
}

TEST(test_latency_bucket_placement_and_sum)
{
	struct m365_metrics *m = open_fe(SQ);
	struct m365_metrics_view v;
	struct m365_verdict ok;
	uint64_t want_sum = 0;
	int i;

	m365_classify(ww, "teams.microsoft.com", "443", NULL, &ok);
	/* each bound lands in its own bucket, one more in the next */
	for (i = 0; i < M365_METRICS_BUCKETS; i++) {
		m365_metrics_lookup(m, &ok, m365_metrics_bucket_ns[i]);
		want_sum += m365_metrics_bucket_ns[i];
	}
	m365_metrics_lookup(m, &ok, 1000);       /* first bucket (le 1 us) */
	m365_metrics_lookup(m, &ok, 1001);       /* second (le 2.5 us) */
	m365_metrics_lookup(m, &ok, 0);          /* first */
	m365_metrics_lookup(m, &ok, 20000000);   /* +Inf (over 10 ms) */
	m365_metrics_lookup(m, &ok, UINT64_MAX); /* no latency at all */
	want_sum += 1000 + 1001 + 0 + 20000000;

	view(&v);
	assert_int_equal(v.fe[SQ].latency[0], 3);
	assert_int_equal(v.fe[SQ].latency[1], 2);
	for (i = 2; i < M365_METRICS_BUCKETS; i++)
		assert_int_equal(v.fe[SQ].latency[i], 1);
	assert_int_equal(v.fe[SQ].latency[M365_METRICS_BUCKETS], 1);
	assert_int_equal(v.fe[SQ].latency_sum_ns, want_sum);
	assert_int_equal(LK(&v.fe[SQ], OK_, ALLOW, SKYPE),
	                 M365_METRICS_BUCKETS + 5);
	assert_int_equal(m365_metrics_bucket_ns[0], 1000);
	assert_int_equal(m365_metrics_bucket_ns[M365_METRICS_BUCKETS - 1],
	                 10000000);
	for (i = 1; i < M365_METRICS_BUCKETS; i++)
		assert_true(m365_metrics_bucket_ns[i] >
		            m365_metrics_bucket_ns[i - 1]);
	m365_metrics_view_free(&v);
	m365_metrics_close(m);
}

/* Threads of one process count into one slot without losing a count. */
static void *
count_thread(void *arg)
{
	int i;

	for (i = 0; i < 25000; i++) {
		count(arg, ww, "outlook.office365.com", "443", NULL, 1, 1500);
		m365_metrics_invalid(arg, M365_INV_PORT);
	}
	return NULL;
}

TEST(test_threads_counting_at_once_lose_nothing)
{
	struct m365_metrics *m = open_fe(IC);
	struct m365_metrics_view v;
	pthread_t t[4];
	int i;

	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, count_thread, m),
		                 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	view(&v);
	assert_int_equal(LK(&v.fe[IC], OK_, OPTIMIZE, EXCHANGE), 100000);
	assert_int_equal(LK(&v.fe[IC], ERR_, NONE, NONE), 100000);
	assert_int_equal(v.fe[IC].invalid[M365_INV_PORT], 100000);
	assert_int_equal(v.fe[IC].latency[1], 100000);
	assert_int_equal(v.fe[IC].latency_sum_ns, 100000ull * 1500);
	assert_int_equal(total(&v.fe[SQ]), 0);
	m365_metrics_view_free(&v);
	m365_metrics_close(m);
}

/* --- slots given back, by close or by death ------------------------------- */

TEST(test_close_folds_into_retired_totals_unchanged)
{
	struct m365_metrics *m = open_fe(SQ), *m2;
	struct m365_metrics_counts before, after, ret;
	struct m365_metrics_view v;

	count(m, ww, "outlook.office365.com", "443", NULL, 5, 3000);
	count(m, ww, "example.com", "80", NULL, 2, 30000000);
	m365_metrics_invalid(m, M365_INV_SYNTAX);
	view(&v);
	before = v.fe[SQ];
	assert_int_equal(v.n_procs, 1);
	m365_metrics_view_free(&v);
	retired(SQ, &ret);
	assert_int_equal(total(&ret), 0);

	m365_metrics_close(m);
	view(&v);
	after = v.fe[SQ];
	assert_int_equal(v.n_procs, 0);
	m365_metrics_view_free(&v);
	assert_counts(&before, &after, "after close");
	retired(SQ, &ret);
	assert_counts(&before, &ret, "retired after close");
	assert_int_equal(slot_of(getpid()), -1);

	/* a new slot adds to the retired totals */
	m2 = open_fe(SQ);
	count(m2, ww, "outlook.office365.com", "443", NULL, 1, 3000);
	view(&v);
	assert_int_equal(LK(&v.fe[SQ], OK_, OPTIMIZE, EXCHANGE), 6);
	assert_int_equal(v.n_procs, 1);
	m365_metrics_view_free(&v);
	m365_metrics_close(m2);
}

/* A child that opens a slot, counts, and ends without giving it back. */
static pid_t
child_counts(enum m365_frontend fe, int n, int stay, int do_close)
{
	int p[2];
	char c;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		struct m365_metrics *m = m365_metrics_open(dir, fe, NULL, NULL);
		close(p[0]);
		if (m == NULL)
			_exit(3);
		count(m, ww, "teams.microsoft.com", "443", NULL, n, 2000);
		count(m, ww, "example.com", "443", NULL, n, 2000);
		m365_metrics_invalid(m, M365_INV_DESTINATION);
		if (do_close)
			m365_metrics_close(m);
		if (write(p[1], "r", 1) != 1)
			_exit(4);
		if (stay)
			pause();
		_exit(0);
	}
	assert_true(pid > 0);
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static void
reap(pid_t pid, int want_status)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (want_status >= 0) {
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), want_status);
	}
}

TEST(test_exited_child_counts_stay_visible_and_next_open_folds_them)
{
	struct m365_metrics_counts before, ret;
	struct m365_metrics_view v;
	struct m365_metrics *m;
	pid_t pid = child_counts(IC, 7, 0, 0);
	int slot;

	reap(pid, 0);
	slot = slot_of(pid);
	assert_true(slot >= 0); /* left behind, not folded yet */
	view(&v);
	assert_int_equal(LK(&v.fe[IC], OK_, ALLOW, SKYPE), 7);
	assert_int_equal(LK(&v.fe[IC], ERR_, NONE, NONE), 8);
	assert_int_equal(v.fe[IC].invalid[M365_INV_DESTINATION], 1);
	assert_int_equal(v.fe[IC].latency[1], 14);
	assert_int_equal(v.n_procs, 0); /* dead: not a process */
	before = v.fe[IC];
	m365_metrics_view_free(&v);
	retired(IC, &ret);
	assert_int_equal(total(&ret), 0);

	/* the next process to take a slot folds it, whatever its front end */
	m = open_fe(SQ);
	assert_int_equal(slot_of(pid), -1);
	retired(IC, &ret);
	assert_counts(&before, &ret, "retired after the fold");
	view(&v);
	assert_counts(&before, &v.fe[IC], "totals after the fold");
	assert_int_equal(total(&v.fe[SQ]), 0);
	assert_int_equal(v.n_procs, 1);
	m365_metrics_view_free(&v);
	m365_metrics_close(m);
	view(&v);
	assert_counts(&before, &v.fe[IC], "totals after close");
	m365_metrics_view_free(&v);
}

TEST(test_killed_child_leaves_the_process_list_but_not_the_totals)
{
	struct m365_metrics_counts before;
	struct m365_metrics_view v;
	struct m365_metrics *m;
	pid_t pid = child_counts(SQ, 3, 1, 0);

	view(&v);
	assert_int_equal(v.n_procs, 1);
	assert_int_equal(v.procs[0].pid, pid);
	assert_int_equal(v.procs[0].frontend, SQ);
	assert_true(v.procs[0].started_at > 0);
	assert_int_equal(LK(&v.fe[SQ], OK_, ALLOW, SKYPE), 3);
	before = v.fe[SQ];
	m365_metrics_view_free(&v);

	kill(pid, SIGKILL);
	reap(pid, -1);
	view(&v);
	assert_int_equal(v.n_procs, 0);
	assert_counts(&before, &v.fe[SQ], "after SIGKILL");
	m365_metrics_view_free(&v);
	m = open_fe(SQ);
	view(&v);
	assert_int_equal(v.n_procs, 1);
	assert_counts(&before, &v.fe[SQ], "after the fold");
	m365_metrics_view_free(&v);
	m365_metrics_close(m);
}

/* Processes come and go (closing, exiting, killed) while a reader reads:
 * no total ever goes backwards, and the end is exact. */
TEST(test_totals_never_go_backwards_while_processes_come_and_go)
{
	struct m365_metrics_view v;
	uint64_t last = 0, now;
	pid_t kids[12];
	int i, reads = 0, done;

	for (i = 0; i < 12; i++) {
		if ((kids[i] = fork()) == 0) {
			struct m365_metrics *m;
			int j;
			for (j = 0; j < 20; j++) {
				m = m365_metrics_open(dir, i % 2 ? IC : SQ,
				                      NULL, NULL);
				if (m == NULL)
					_exit(3);
				count(m, ww, "outlook.office365.com", "443",
				      NULL, 100, 1000);
				m365_metrics_close(m);
			}
			m = m365_metrics_open(dir, SQ, NULL, NULL);
			if (m == NULL)
				_exit(3);
			count(m, ww, "outlook.office365.com", "443", NULL, 100,
			      1000);
			_exit(0); /* without close */
		}
		assert_true(kids[i] > 0);
	}
	do {
		int st;
		view(&v);
		now = LK(&v.fe[SQ], OK_, OPTIMIZE, EXCHANGE) +
		      LK(&v.fe[IC], OK_, OPTIMIZE, EXCHANGE);
		m365_metrics_view_free(&v);
		if (now < last)
			fail_msg("total went from %llu down to %llu",
			         (unsigned long long)last,
			         (unsigned long long)now);
		last = now;
		reads++;
		usleep(
		    1000); /* a busy scraper, not a lock that never lets go */
		done = 1;
		for (i = 0; i < 12; i++) {
			if (kids[i] == 0)
				continue;
			if (waitpid(kids[i], &st, WNOHANG) == kids[i]) {
				assert_true(WIFEXITED(st));
				assert_int_equal(WEXITSTATUS(st), 0);
				kids[i] = 0;
			} else {
				done = 0;
			}
		}
	} while (!done);
	view(&v);
	assert_int_equal(LK(&v.fe[SQ], OK_, OPTIMIZE, EXCHANGE) +
	                     LK(&v.fe[IC], OK_, OPTIMIZE, EXCHANGE),
	                 12 * 21 * 100);
	assert_int_equal(LK(&v.fe[IC], OK_, OPTIMIZE, EXCHANGE), 6 * 20 * 100);
	assert_int_equal(v.fe[SQ].latency[0] + v.fe[IC].latency[0],
	                 12 * 21 * 100);
	assert_int_equal(v.n_procs, 0);
	m365_metrics_view_free(&v);
	assert_true(reads > 0);
}

/* --- gauges -----------------------------------------------------------------
 */

TEST(test_gauges_read_back)
{
	struct m365_metrics *m = open_fe(IC);
	struct m365_metrics_list l = {.version = "2025120100",
	                              .source = "redis",
	                              .policy = "categories=Optimize,Allow",
	                              .published_at = 1764547200,
	                              .sets = 64,
	                              .names = 204,
	                              .ranges = 129};
	struct m365_metrics_view v;

	view(&v);
	assert_int_equal(v.n_procs, 1);
	assert_int_equal(v.procs[0].list_loaded, 0);
	assert_int_equal(v.procs[0].redis, M365_REDIS_UNUSED);
	assert_string_equal(v.procs[0].version, "");
	m365_metrics_view_free(&v);

	m365_metrics_set_list(m, &l, 1);
	m365_metrics_set_redis(m, M365_REDIS_UP);
	m365_metrics_refused(m);
	m365_metrics_refused(m);
	view(&v);
	assert_int_equal(v.n_procs, 1);
	assert_int_equal(v.procs[0].pid, getpid());
	assert_int_equal(v.procs[0].frontend, IC);
	assert_int_equal(v.procs[0].list_loaded, 1);
	assert_int_equal(v.procs[0].redis, M365_REDIS_UP);
	assert_string_equal(v.procs[0].version, "2025120100");
	assert_string_equal(v.procs[0].source, "redis");
	assert_string_equal(v.procs[0].policy, "categories=Optimize,Allow");
	assert_int_equal(v.procs[0].published_at, 1764547200);
	assert_true(v.procs[0].loaded_at >= v.procs[0].started_at);
	assert_int_equal(v.procs[0].sets, 64);
	assert_int_equal(v.procs[0].names, 204);
	assert_int_equal(v.procs[0].ranges, 129);
	assert_int_equal(v.fe[IC].switches, 1);
	assert_int_equal(v.fe[IC].refused, 2);
	assert_int_equal(total(&v.fe[IC]), 0);
	m365_metrics_view_free(&v);

	/* the list dropped, Redis lost, a switch not counted */
	m365_metrics_set_list(m, NULL, 0);
	m365_metrics_set_redis(m, M365_REDIS_DOWN);
	view(&v);
	assert_int_equal(v.procs[0].list_loaded, 0);
	assert_int_equal(v.procs[0].redis, M365_REDIS_DOWN);
	assert_string_equal(v.procs[0].version, "");
	assert_string_equal(v.procs[0].source, "");
	assert_int_equal(v.procs[0].sets, 0);
	assert_int_equal(v.fe[IC].switches, 1);
	m365_metrics_view_free(&v);

	/* over-long strings are cut, not overrun */
	{
		char big[400];
		memset(big, 'v', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		l.version = l.source = l.policy = big;
		m365_metrics_set_list(m, &l, 0);
		view(&v);
		assert_int_equal(strlen(v.procs[0].version),
		                 M365_METRICS_TEXT - 1);
		assert_int_equal(strlen(v.procs[0].policy),
		                 M365_METRICS_TEXT - 1);
		m365_metrics_view_free(&v);
	}
	m365_metrics_close(m);
}

TEST(test_null_slot_is_a_no_op_everywhere)
{
	struct m365_verdict v;
	struct m365_metrics_list l = {.version = "x"};

	m365_classify(ww, "teams.microsoft.com", "443", NULL, &v);
	m365_metrics_lookup(NULL, &v, 10);
	m365_metrics_invalid(NULL, M365_INV_SYNTAX);
	m365_metrics_set_list(NULL, &l, 1);
	m365_metrics_set_redis(NULL, M365_REDIS_UP);
	m365_metrics_refused(NULL);
	m365_metrics_close(NULL);
	assert_true(m365_metrics_now_ns() > 0);
}

TEST(test_label_names)
{
	assert_string_equal(m365_frontend_name(SQ), "squid");
	assert_string_equal(m365_frontend_name(IC), "icap");
	assert_string_equal(m365_mcat_name(M365_MCAT_OPTIMIZE), "Optimize");
	assert_string_equal(m365_mcat_name(M365_MCAT_LOCAL), "Local");
	assert_string_equal(m365_mcat_name(M365_MCAT_NONE), "none");
	assert_string_equal(m365_mcat_name((enum m365_mcat)99), "none");
	assert_string_equal(m365_msvc_name(M365_MSVC_SHAREPOINT), "SharePoint");
	assert_string_equal(m365_msvc_name(M365_MSVC_OTHER), "other");
	assert_string_equal(m365_msvc_name((enum m365_msvc) - 1), "none");
	assert_string_equal(m365_invalid_name(M365_INV_LINE_TOO_LONG),
	                    "line_too_long");
	assert_string_equal(m365_invalid_name((enum m365_invalid)77), "syntax");
}

/* --- where counting is off ------------------------------------------------ */

TEST(test_off_returns_null_quietly)
{
	assert_null(m365_metrics_open(M365_METRICS_OFF, SQ, capture, NULL));
	assert_int_equal(cap.n, 0);
	assert_int_equal(access(file, F_OK), -1); /* nothing made */
}

TEST(test_missing_directory_warns_naming_the_path)
{
	char missing[128];

	snprintf(missing, sizeof(missing), "%s/not-there", dir);
	assert_null(m365_metrics_open(missing, SQ, capture, NULL));
	assert_int_equal(cap.n, 1);
	assert_int_equal(cap.warnings, 1);
	assert_non_null(strstr(cap.last, missing));
	assert_non_null(strstr(cap.last, "No such file"));
	/* no log function: quiet, still NULL */
	assert_null(m365_metrics_open(missing, SQ, NULL, NULL));
	assert_read_fails(M365_E_IO); /* dir/counters does not exist */
}

TEST(test_file_is_made_group_writable_whatever_the_umask)
{
	mode_t old = umask(077);
	struct m365_metrics *m = open_fe(SQ);
	struct stat st;

	umask(old);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0664);
	assert_int_equal(st.st_size, sizeof(struct metrics_file));
	m365_metrics_close(m);
}

TEST(test_empty_file_is_made_a_counters_file)
{
	struct m365_metrics_view v;
	struct m365_metrics *m;
	int fd = open(file, O_CREAT | O_WRONLY, 0600);

	assert_true(fd >= 0);
	close(fd);
	assert_read_fails(M365_E_INPUT); /* not yet one */
	m = open_fe(SQ);
	count(m, ww, "outlook.office365.com", "443", NULL, 1, 1);
	view(&v);
	assert_int_equal(LK(&v.fe[SQ], OK_, OPTIMIZE, EXCHANGE), 1);
	m365_metrics_view_free(&v);
	m365_metrics_close(m);
}

/* --- hostile files
 * ------------------------------------------------------------ */

TEST(test_file_of_the_wrong_size_is_refused)
{
	char junk[4096];
	int fd = open(file, O_CREAT | O_WRONLY, 0664);

	memset(junk, 'x', sizeof(junk));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	close(fd);
	assert_open_refused("not a counters file");
	assert_read_fails(M365_E_INPUT);

	/* a real one, one byte longer */
	assert_int_equal(unlink(file), 0);
	m365_metrics_close(open_fe(SQ));
	assert_int_equal(truncate(file, sizeof(struct metrics_file) + 1), 0);
	assert_open_refused("not a counters file");
	assert_read_fails(M365_E_INPUT);
	/* and shorter: a header alone */
	assert_int_equal(truncate(file, sizeof(struct metrics_header)), 0);
	assert_open_refused("not a counters file");
	assert_read_fails(M365_E_INPUT);
}

TEST(test_file_with_the_wrong_magic_or_layout_is_refused)
{
	uint32_t n = M365_METRICS_SLOTS / 2;

	m365_metrics_close(open_fe(SQ));
	poke(0, "m365-bypass counters 2", 22);
	assert_open_refused("not a counters file");
	assert_read_fails(M365_E_INPUT);

	poke(0, METRICS_MAGIC, sizeof(METRICS_MAGIC));
	m365_metrics_close(open_fe(SQ)); /* good again */
	poke(offsetof(struct metrics_header, n_slots), &n, sizeof(n));
	assert_open_refused("not a counters file");
	assert_read_fails(M365_E_INPUT);
}

TEST(test_symlink_is_refused)
{
	char real[128];

	snprintf(real, sizeof(real), "%s/real", dir);
	assert_int_equal(mkdir(real, 0755), 0);
	strcat(real, "/" M365_METRICS_FILE);
	{
		/* a valid counters file behind the link */
		char saved[sizeof(dir)];
		memcpy(saved, dir, sizeof(dir));
		strcat(dir, "/real"); /* dir has room: mkdtemp's 24 bytes */
		m365_metrics_close(open_fe(SQ));
		memcpy(dir, saved, sizeof(dir));
	}
	assert_int_equal(symlink(real, file), 0);
	assert_open_refused("many levels of symbolic links");
	assert_read_fails(M365_E_IO);

	/* a dangling link is not followed to create its target either */
	assert_int_equal(unlink(file), 0);
	assert_int_equal(symlink("/tmp/m365-metrics-nowhere", file), 0);
	assert_open_refused(dir);
	assert_int_equal(access("/tmp/m365-metrics-nowhere", F_OK), -1);
	assert_read_fails(M365_E_IO);
}

TEST(test_directory_in_its_place_is_refused)
{
	assert_int_equal(mkdir(file, 0755), 0);
	assert_open_refused("Is a directory");
	assert_read_fails(M365_E_IO);
}

TEST(test_fifo_in_its_place_is_refused_without_blocking)
{
	assert_int_equal(mkfifo(file, 0664), 0);
	assert_open_refused("not a regular file");
	assert_read_fails(M365_E_IO);
}

TEST(test_every_slot_taken_is_refused)
{
	int32_t me = (int32_t)getpid();
	uint64_t start = metrics_proc_start(me);
	int i;

	assert_true(start > 0);
	m365_metrics_close(open_fe(SQ));
	for (i = 0; i < M365_METRICS_SLOTS; i++) {
		poke(SLOT_OFF(i, starttime), &start, sizeof(start));
		poke(SLOT_OFF(i, pid), &me, sizeof(me));
	}
	assert_open_refused("every slot is in use");
}

/* A slot's strings without their NUL come back cut at the bound. */
TEST(test_unterminated_strings_are_read_bounded)
{
	struct m365_metrics *m = open_fe(SQ);
	struct m365_metrics_list l = {
	    .version = "v1", .source = "s", .policy = "p"};
	struct m365_metrics_view v;
	char junk[3 * M365_METRICS_TEXT];
	int slot = slot_of(getpid());

	assert_true(slot >= 0);
	m365_metrics_set_list(m, &l, 0);
	memset(junk, 'A', sizeof(junk));
	poke(SLOT_OFF(slot, version), junk, sizeof(junk));
	view(&v);
	assert_int_equal(v.n_procs, 1);
	assert_int_equal(strlen(v.procs[0].version), M365_METRICS_TEXT - 1);
	assert_int_equal(strlen(v.procs[0].source), M365_METRICS_TEXT - 1);
	assert_int_equal(strlen(v.procs[0].policy), M365_METRICS_TEXT - 1);
	assert_int_equal(strspn(v.procs[0].version, "A"),
	                 M365_METRICS_TEXT - 1);
	m365_metrics_view_free(&v);
	m365_metrics_close(m);
}

/* A dead slot whose fields are impossible is still read and folded safely. */
TEST(test_slot_with_impossible_fields_is_read_and_folded_safely)
{
	struct m365_metrics_counts ret;
	struct m365_metrics_view v;
	struct m365_metrics *m;
	int32_t fe = 99, pid = -5, redis = 42;
	uint64_t one = 1, start = 12345;
	pid_t kid = child_counts(SQ, 2, 0, 0);
	int slot;

	reap(kid, 0);
	slot = slot_of(kid);
	assert_true(slot >= 0);
	/* another slot claims a pid that cannot be, with counts of its own */
	poke(SLOT_OFF(slot + 1, pid), &pid, sizeof(pid));
	poke(SLOT_OFF(slot + 1, frontend), &fe, sizeof(fe));
	poke(SLOT_OFF(slot + 1, starttime), &start, sizeof(start));
	poke(SLOT_OFF(slot + 1, redis), &redis, sizeof(redis));
	poke(SLOT_OFF(slot + 1, counts) +
	         offsetof(struct m365_metrics_counts, no_list),
	     &one, sizeof(one));
	poke(SLOT_OFF(slot, frontend), &fe, sizeof(fe));
	view(&v);
	assert_int_equal(v.n_procs, 0);
	/* an unknown front end counts as squid's */
	assert_int_equal(LK(&v.fe[SQ], OK_, ALLOW, SKYPE), 2);
	assert_int_equal(v.fe[SQ].no_list, 1);
	assert_int_equal(total(&v.fe[IC]), 0);
	m365_metrics_view_free(&v);
	m = open_fe(IC);
	retired(SQ, &ret);
	assert_int_equal(LK(&ret, OK_, ALLOW, SKYPE), 2);
	assert_int_equal(ret.no_list, 1);
	view(&v);
	assert_int_equal(LK(&v.fe[SQ], OK_, ALLOW, SKYPE), 2);
	assert_int_equal(v.fe[SQ].no_list, 1);
	assert_int_equal(v.n_procs, 1);
	assert_int_equal(v.procs[0].frontend, IC);
	m365_metrics_view_free(&v);
	m365_metrics_close(m);
}

/* A live slot whose gauges never settle (sequence stuck odd) is left out
 * of the process list; its counts still count. */
TEST(test_slot_whose_gauges_never_settle_is_skipped)
{
	struct m365_metrics *m = open_fe(SQ);
	struct m365_metrics_view v;
	uint32_t odd = 7;
	int slot = slot_of(getpid());

	count(m, ww, "teams.microsoft.com", "443", NULL, 4, 1);
	poke(SLOT_OFF(slot, seq), &odd, sizeof(odd));
	view(&v);
	assert_int_equal(v.n_procs, 0);
	assert_int_equal(LK(&v.fe[SQ], OK_, ALLOW, SKYPE), 4);
	m365_metrics_view_free(&v);
	m365_metrics_close(m);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup_dir, teardown_dir)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_lookups_counted_by_frontend_verdict_category_and_service),
	    T(test_latency_bucket_placement_and_sum),
	    T(test_threads_counting_at_once_lose_nothing),
	    T(test_close_folds_into_retired_totals_unchanged),
	    T(test_exited_child_counts_stay_visible_and_next_open_folds_them),
	    T(test_killed_child_leaves_the_process_list_but_not_the_totals),
	    T(test_totals_never_go_backwards_while_processes_come_and_go),
	    T(test_gauges_read_back),
	    T(test_null_slot_is_a_no_op_everywhere),
	    T(test_label_names),
	    T(test_off_returns_null_quietly),
	    T(test_missing_directory_warns_naming_the_path),
	    T(test_file_is_made_group_writable_whatever_the_umask),
	    T(test_empty_file_is_made_a_counters_file),
	    T(test_file_of_the_wrong_size_is_refused),
	    T(test_file_with_the_wrong_magic_or_layout_is_refused),
	    T(test_symlink_is_refused),
	    T(test_directory_in_its_place_is_refused),
	    T(test_fifo_in_its_place_is_refused_without_blocking),
	    T(test_every_slot_taken_is_refused),
	    T(test_unterminated_strings_are_read_bounded),
	    T(test_slot_with_impossible_fields_is_read_and_folded_safely),
	    T(test_slot_whose_gauges_never_settle_is_skipped),
	};

	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
