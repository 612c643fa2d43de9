/*
 * status_text.c - m365ctl status as text: one "label: value" line each
 * (labels padded to 14 columns), documented line by line in m365ctl(8).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "status.h"

#define LINE(label) printf("%-14s ", label ":")

char *
status_time(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", t);
	return buf;
}

char *
status_age(long long s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, len, "%lldd %lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%lldm", s / 60);
	else
		snprintf(buf, len, "%llds", s);
	return buf;
}

/* "squid 3, icap 1" (the non-zero counts), or "none". */
static void
print_fe(const int n[M365_FE_N])
{
	const char *sep = "";
	int fe;

	for (fe = 0; fe < M365_FE_N; fe++)
		if (n[fe] > 0) {
			printf("%s%s %d", sep, m365_frontend_name(fe), n[fe]);
			sep = ", ";
		}
	if (*sep == '\0')
		printf("none");
}

static void
print_list(const struct report *r, const struct used_list *u)
{
	const struct m365_metrics_proc *p = u->p;
	char t[32], a[32];

	LINE("in use");
	printf("%s (%s), ", p->version[0] ? p->version : "-", p->source);
	if (p->published_at > 0)
		printf("published %s (%s ago)",
		       status_time(p->published_at, t, sizeof(t)),
		       status_age(r->now - p->published_at, a, sizeof(a)));
	else
		printf("published unknown");
	printf(": %" PRIu64 " sets, %" PRIu64 " names, %" PRIu64
	       " ranges; policy %s; ",
	       p->sets, p->names, p->ranges, p->policy[0] ? p->policy : "-");
	print_fe(u->n);
	printf("\n");
}

static void
print_host(const struct report *r)
{
	const struct host_part *h = &r->host;
	size_t i;
	int fe, n = 0;

	LINE("host");
	if (h->read == 0 && strcmp(h->dir, M365_METRICS_OFF) == 0) {
		printf("%s: counters off\n", h->name);
		return;
	}
	if (h->read == 0) {
		printf("%s: no counters in %s\n", h->name, h->dir);
		return;
	}
	if (h->read < 0) {
		printf("%s: bad counters in %s (%s)\n", h->name, h->dir,
		       h->why);
		return;
	}
	for (fe = 0; fe < M365_FE_N; fe++)
		n += h->procs[fe];
	printf("%s: %d processes (", h->name, n);
	print_fe(h->procs);
	printf("), counters in %s\n", h->dir);
	for (i = 0; i < h->n_lists; i++)
		print_list(r, &h->lists[i]);
	LINE("no list");
	print_fe(h->no_list);
	printf("\n");
	LINE("redis seen");
	printf("up ");
	print_fe(h->redis[M365_REDIS_UP]);
	printf("; down ");
	print_fe(h->redis[M365_REDIS_DOWN]);
	printf("; not used ");
	print_fe(h->redis[M365_REDIS_UNUSED]);
	printf("\n");
	LINE("counters");
	printf("lookups ok %" PRIu64 ", err %" PRIu64 "; invalid %" PRIu64
	       "; without list %" PRIu64 "\n",
	       h->ok, h->err, h->invalid, h->without_list);
}

static void
print_current(const struct report *r)
{
	const struct redis_part *rp = &r->redis;
	char t[32], a[32];
	size_t i;

	LINE("current");
	printf("%s\n", rp->cur.version);
	LINE("published");
	printf("%s by %s\n", status_time(rp->cur.published_at, t, sizeof(t)),
	       rp->cur.published_by);
	LINE("source");
	printf("%s\n", rp->cur.source);
	LINE("parameters");
	printf("%s\n", rp->cur.params[0] ? rp->cur.params
	                                 : "not recorded (an imported list)");
	LINE("sha256");
	printf("%s\n", rp->cur.sha256);
	LINE("signature");
	printf("%s\n", strcmp(rp->signature, "present") == 0
	                   ? "present (not checked: no --verify-key)"
	                   : rp->signature);
	LINE("list");
	printf("%zu sets, %zu urls, %zu ips\n", rp->sets, rp->urls, rp->ips);
	printf("%-14s", "kept:");
	for (i = 0; rp->kept && rp->kept[i]; i++)
		printf(" %s", rp->kept[i]);
	printf("\n");
	if (rp->pinned[0] != '\0') {
		LINE("pinned");
		printf("%s (update keeps it until m365ctl unpin)\n",
		       rp->pinned);
	}
	LINE("checked");
	if (rp->checked > 0)
		printf("%s (%s ago)\n", status_time(rp->checked, t, sizeof(t)),
		       status_age(r->now - rp->checked, a, sizeof(a)));
	else
		printf("%s\n", rp->checked == 0 ? "never" : "invalid");
	LINE("age");
	printf("%s (at most %ld days)\n", status_age(rp->age, a, sizeof(a)),
	       r->max_age_days);
}

static void
print_farm(const struct farm *f)
{
	const struct farm_host *h;
	size_t i, j, k;

	LINE("farm");
	if (!f->read) {
		printf("unreadable: %s\n", f->why);
		return;
	}
	printf("%zu hosts, %zu processes", f->n_hosts, f->n);
	if (f->connected)
		printf(" (%zu by connection only)", f->connected);
	if (f->bad)
		printf("; %zu bad records skipped", f->bad);
	if (f->truncated)
		printf("; incomplete (at most %d records read)", FARM_SCAN_MAX);
	printf("\n");
	for (i = 0; i < f->n_hosts; i++) {
		h = &f->hosts[i];
		printf("  %-24s squid %d, icap %d;", f->e[h->first].host,
		       h->squid, h->icap);
		for (j = h->first; j < h->first + h->count; j++) {
			for (k = h->first; k < j; k++)
				if (!strcmp(f->e[k].version, f->e[j].version))
					break;
			if (k == j)
				printf(" %s", f->e[j].version[0]
				                  ? f->e[j].version
				                  : "-");
		}
		printf("%s\n", h->lagging ? "  LAGGING" : "");
	}
}

static void
print_redis(const struct report *r)
{
	const struct redis_part *rp = &r->redis;

	LINE("redis");
	printf("%s (prefix %s)\n", rp->where, rp->prefix);
	if (rp->why[0]) {
		LINE("redis error");
		printf("%s\n", rp->why);
		return;
	}
	if (!rp->has_current) {
		LINE("current");
		printf("none (nothing published yet)\n");
	} else
		print_current(r);
	print_farm(&rp->farm);
}

static void
print_dir(const struct report *r)
{
	const struct dir_part *d = &r->dir;
	const struct run_record *rec = &d->rec;
	char t[32], a[32];

	LINE("state dir");
	if (d->why[0])
		printf("%s: %s\n", d->path, d->why);
	else if (d->version[0] == '\0')
		printf("%s: no snapshot\n", d->path);
	else
		printf("%s: version %s, %zu sets%s%s\n", d->path, d->version,
		       d->sets, d->params[0] ? ", " : "", d->params);
	LINE("last update");
	if (d->run < 0) {
		printf("unreadable: %s\n", d->run_why);
		return;
	}
	if (d->run == 0)
		printf("none recorded\n");
	else {
		printf("%s %s", status_time(rec->attempt_at, t, sizeof(t)),
		       run_result_name(rec->result));
		if (rec->result == RUN_REFUSED)
			printf(" (%s)", rec->refused_reason);
		printf("%s%s\n", rec->message[0] ? ": " : "", rec->message);
		LINE("last success");
		if (rec->success_at > 0)
			printf("%s, version %s\n",
			       status_time(rec->success_at, t, sizeof(t)),
			       rec->version[0] ? rec->version : "-");
		else
			printf("never\n");
	}
	if (rec->retry_until > 0) {
		LINE("retry after");
		printf("%s (in %s; Microsoft answered 429)\n",
		       status_time(rec->retry_until, t, sizeof(t)),
		       status_age(rec->retry_until - r->now, a, sizeof(a)));
	}
}

void
status_print_text(const struct report *r)
{
	size_t i;

	print_host(r);
	if (r->redis.asked)
		print_redis(r);
	print_dir(r);
	if (r->n_attention == 0) {
		LINE("attention");
		printf("none\n");
		return;
	}
	printf("attention:\n");
	for (i = 0; i < r->n_attention; i++)
		printf("  - %s\n", r->attention[i]);
}
