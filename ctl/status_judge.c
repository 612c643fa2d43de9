/*
 * status_judge.c - m365ctl status: what needs attention (see status.h and
 * the STATUS section of m365ctl(8), which lists every reason).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "status.h"

/* Adds one reason (printf-style); past ATTENTION_MAX, dropped. */
static void attention(struct report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
attention(struct report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->n_attention >= ATTENTION_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(r->attention[r->n_attention++], ATTENTION_LEN, fmt, ap);
	va_end(ap);
}

static long long
max2(long long a, long long b)
{
	return a > b ? a : b;
}

/* The last time version was confirmed Microsoft's newest: PREFIX
 * "checked" for Redis's current, the run record's last success for the
 * version it left current; 0 when neither. */
static long long
confirmed(const struct report *r, const char *version)
{
	long long t = 0;

	if (version[0] == '\0')
		return 0;
	if (r->redis.has_current && r->redis.checked > 0 &&
	    strcmp(version, r->redis.cur.version) == 0)
		t = r->redis.checked;
	if (r->dir.run > 0 && strcmp(version, r->dir.rec.version) == 0)
		t = max2(t, r->dir.rec.success_at);
	return t;
}

/* "squid 2, icap 1" for the non-zero counts of n. */
static char *
by_frontend(const int n[M365_FE_N], char *buf, size_t len)
{
	size_t at = 0;
	int fe;

	buf[0] = '\0';
	for (fe = 0; fe < M365_FE_N && at < len; fe++)
		if (n[fe] > 0)
			at += (size_t)snprintf(buf + at, len - at, "%s%s %d",
			                       at ? ", " : "",
			                       m365_frontend_name(fe), n[fe]);
	return buf;
}

static int
sum(const int n[M365_FE_N])
{
	int fe, s = 0;

	for (fe = 0; fe < M365_FE_N; fe++)
		s += n[fe];
	return s;
}

static void
judge_host(struct report *r)
{
	struct host_part *h = &r->host;
	long long max = r->max_age_days * 86400LL;
	char a[64], b[128];
	size_t i;

	if (h->read < 0)
		attention(r, "the counters cannot be read: %s", h->why);
	for (i = 0; i < h->n_lists; i++) {
		const struct m365_metrics_proc *p = h->lists[i].p;
		if (p->published_at <= 0)
			continue; /* a list of no known age */
		h->lists[i].age =
		    r->now - max2(p->published_at, confirmed(r, p->version));
		if (h->lists[i].age > max)
			attention(r,
			          "list %s in use here (%s) is %s old (more "
			          "than %ld days)",
			          p->version[0] ? p->version : "-",
			          by_frontend(h->lists[i].n, b, sizeof(b)),
			          status_age(h->lists[i].age, a, sizeof(a)),
			          r->max_age_days);
	}
	if (sum(h->no_list) > 0)
		attention(r, "%d processes here have no list (%s)",
		          sum(h->no_list),
		          by_frontend(h->no_list, b, sizeof(b)));
	if (sum(h->redis[M365_REDIS_DOWN]) > 0)
		attention(r, "%d processes here see Redis down (%s)",
		          sum(h->redis[M365_REDIS_DOWN]),
		          by_frontend(h->redis[M365_REDIS_DOWN], b, sizeof(b)));
}

static void
judge_redis(struct report *r)
{
	struct redis_part *rp = &r->redis;
	long long base;
	char a[64];

	if (!rp->asked)
		return;
	if (rp->why[0]) {
		attention(r, "Redis cannot be read: %s", rp->why);
		return;
	}
	if (!rp->has_current) {
		attention(r, "Redis %s holds no version under %s", rp->where,
		          rp->prefix);
		return;
	}
	/* with --verify-key: what the helpers that verify would refuse */
	if (rp->signature != NULL && strcmp(rp->signature, "bad") == 0)
		attention(r,
		          "Redis's current version %s has a signature the "
		          "verify key does not accept: helpers that verify "
		          "refuse it",
		          rp->cur.version);
	else if (rp->keyed && rp->signature != NULL &&
	         strcmp(rp->signature, "none") == 0)
		attention(r,
		          "Redis's current version %s is not signed: helpers "
		          "that verify refuse it",
		          rp->cur.version);
	base = max2(rp->cur.published_at, confirmed(r, rp->cur.version));
	rp->age = r->now - base;
	if (rp->age > r->max_age_days * 86400LL)
		attention(r,
		          "Redis's current version %s is %s old (more than "
		          "%ld days)",
		          rp->cur.version, status_age(rp->age, a, sizeof(a)),
		          r->max_age_days);
}

/* The versions of a host's processes other than current, into buf. */
static char *
other_versions(const struct farm *f, const struct farm_host *h,
               const char *current, char *buf, size_t len)
{
	size_t i, j, at = 0;

	buf[0] = '\0';
	for (i = h->first; i < h->first + h->count && at < len; i++) {
		if (strcmp(f->e[i].version, current) == 0)
			continue;
		for (j = h->first; j < i; j++)
			if (strcmp(f->e[j].version, f->e[i].version) == 0)
				break;
		if (j < i)
			continue; /* named already */
		at += (size_t)snprintf(
		    buf + at, len - at, "%s%s", at ? ", " : "",
		    f->e[i].version[0] ? f->e[i].version : "-");
	}
	return buf;
}

static void
judge_farm(struct report *r)
{
	struct redis_part *rp = &r->redis;
	char t[32], v[300];
	size_t i;

	if (!rp->has_current || !rp->farm.read)
		return;
	status_farm_lag(&rp->farm, rp->cur.version, rp->cur.published_at,
	                r->now);
	for (i = 0; i < rp->farm.n_hosts; i++)
		if (rp->farm.hosts[i].lagging)
			attention(
			    r,
			    "host %s is LAGGING: runs %s, not %s (published "
			    "%s)",
			    rp->farm.e[rp->farm.hosts[i].first].host,
			    other_versions(&rp->farm, &rp->farm.hosts[i],
			                   rp->cur.version, v, sizeof(v)),
			    rp->cur.version,
			    status_time(rp->cur.published_at, t, sizeof(t)));
}

static void
judge_dir(struct report *r)
{
	const struct run_record *rec = &r->dir.rec;
	char t[32];

	if (r->dir.why[0])
		attention(r, "state dir %s: %s", r->dir.path, r->dir.why);
	if (r->dir.run < 0)
		attention(r, "run record: %s", r->dir.run_why);
	if (r->dir.run <= 0)
		return;
	status_time(rec->attempt_at, t, sizeof(t));
	if (rec->result == RUN_REFUSED)
		attention(r, "the last update (%s) was refused (%s): %s", t,
		          rec->refused_reason[0] ? rec->refused_reason
		                                 : "other",
		          rec->message);
	else if (rec->result == RUN_ERROR)
		attention(r, "the last update (%s) failed: %s", t,
		          rec->message);
}

void
status_judge(struct report *r)
{
	judge_host(r);
	judge_redis(r);
	judge_farm(r);
	judge_dir(r);
}
