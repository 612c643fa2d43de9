/*
 * status_json.c - m365ctl status --json: the report as one JSON object.
 * Its keys are part of the interface (m365ctl(8), STATUS): add keys, never
 * rename or remove one.  Times are Unix times, ages seconds; null stands
 * for what is unknown or was not asked.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

/* A string from outside (a file, Redis): bytes that are not printable
 * ASCII become '?', so that the document is always valid UTF-8.  NULL and
 * "" are null. */
static json_t *
text(const char *s)
{
	char buf[M365_ERR_MAX + 128];
	size_t i;

	if (s == NULL || s[0] == '\0')
		return json_null();
	for (i = 0; s[i] && i + 1 < sizeof(buf); i++)
		buf[i] =
		    (unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e
		        ? '?'
		        : s[i];
	buf[i] = '\0';
	return json_string(buf);
}

/* {"squid": N, "icap": N} */
static json_t *
by_fe(const int n[M365_FE_N])
{
	json_t *o = json_object();
	int fe;

	for (fe = 0; o && fe < M365_FE_N; fe++)
		json_object_set_new(o, m365_frontend_name(fe),
		                    json_integer(n[fe]));
	return o;
}

static json_t *
or_null(long long v)
{
	return v > 0 ? json_integer(v) : json_null();
}

static json_t *
used_list(const struct used_list *u)
{
	const struct m365_metrics_proc *p = u->p;

	return json_pack("{s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:o, s:o}",
	                 "version", text(p->version), "source", text(p->source),
	                 "published_at", or_null(p->published_at), "age",
	                 u->age >= 0 ? json_integer(u->age) : json_null(),
	                 "sets", (json_int_t)p->sets, "names",
	                 (json_int_t)p->names, "ranges", (json_int_t)p->ranges,
	                 "policy", text(p->policy), "processes", by_fe(u->n));
}

static json_t *
host(const struct host_part *h)
{
	json_t *o, *lists = json_array();
	size_t i;

	o = json_pack("{s:o, s:o, s:s, s:o}", "name", text(h->name),
	              "metrics_dir", text(h->dir), "counters",
	              h->read > 0    ? "ok"
	              : h->read == 0 ? "none"
	                             : "bad",
	              "error", text(h->why));
	if (o == NULL || h->read <= 0) {
		json_decref(lists);
		return o;
	}
	for (i = 0; lists && i < h->n_lists; i++)
		json_array_append_new(lists, used_list(&h->lists[i]));
	json_object_set_new(o, "processes", by_fe(h->procs));
	json_object_set_new(o, "lists", lists);
	json_object_set_new(o, "no_list", by_fe(h->no_list));
	json_object_set_new(
	    o, "redis_seen",
	    json_pack("{s:o, s:o, s:o}", "up", by_fe(h->redis[M365_REDIS_UP]),
	              "down", by_fe(h->redis[M365_REDIS_DOWN]), "unused",
	              by_fe(h->redis[M365_REDIS_UNUSED])));
	json_object_set_new(o, "totals",
	                    json_pack("{s:I, s:I, s:I, s:I}", "lookups_ok",
	                              (json_int_t)h->ok, "lookups_err",
	                              (json_int_t)h->err, "invalid",
	                              (json_int_t)h->invalid, "without_list",
	                              (json_int_t)h->without_list));
	return o;
}

static json_t *
farm_host(const struct farm *f, const struct farm_host *h)
{
	json_t *v = json_array();
	size_t j, k;

	for (j = h->first; v && j < h->first + h->count; j++) {
		for (k = h->first; k < j; k++)
			if (strcmp(f->e[k].version, f->e[j].version) == 0)
				break;
		if (k == j)
			json_array_append_new(v, text(f->e[j].version));
	}
	return json_pack("{s:o, s:i, s:i, s:o, s:b}", "host",
	                 text(f->e[h->first].host), "squid", h->squid, "icap",
	                 h->icap, "versions", v, "lagging", h->lagging);
}

static json_t *
farm(const struct farm *f)
{
	json_t *hosts = json_array();
	size_t i;

	if (!f->read) {
		json_decref(hosts);
		return json_pack("{s:o}", "error", text(f->why));
	}
	for (i = 0; hosts && i < f->n_hosts; i++)
		json_array_append_new(hosts, farm_host(f, &f->hosts[i]));
	return json_pack(
	    "{s:I, s:I, s:I, s:b, s:o}", "processes", (json_int_t)f->n,
	    "by_connection_only", (json_int_t)f->connected, "bad_records",
	    (json_int_t)f->bad, "truncated", f->truncated, "hosts", hosts);
}

static json_t *
current(const struct redis_part *rp)
{
	if (!rp->has_current)
		return json_null();
	return json_pack(
	    "{s:o, s:I, s:o, s:o, s:o, s:o, s:s, s:I, s:I, s:I, s:I}",
	    "version", text(rp->cur.version), "published_at",
	    (json_int_t)rp->cur.published_at, "published_by",
	    text(rp->cur.published_by), "source", text(rp->cur.source),
	    "params", text(rp->cur.params), "sha256", text(rp->cur.sha256),
	    "signature", rp->signature, "sets", (json_int_t)rp->sets, "urls",
	    (json_int_t)rp->urls, "ips", (json_int_t)rp->ips, "age",
	    (json_int_t)rp->age);
}

static json_t *
redis(const struct redis_part *rp)
{
	json_t *o, *kept = rp->kept ? json_array() : json_null();
	size_t i;

	if (!rp->asked) {
		json_decref(kept);
		return json_null();
	}
	for (i = 0; kept && rp->kept && rp->kept[i]; i++)
		json_array_append_new(kept, text(rp->kept[i]));
	o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "url",
	              text(rp->where), "prefix", text(rp->prefix), "error",
	              text(rp->why), "current", current(rp), "kept", kept,
	              "pinned", rp->pinned[0] ? text(rp->pinned) : json_null(),
	              "checked_at", or_null(rp->checked), "farm",
	              rp->why[0] ? json_null() : farm(&rp->farm));
	return o;
}

static json_t *
last_update(const struct dir_part *d)
{
	const struct run_record *r = &d->rec;

	return json_pack(
	    "{s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "error",
	    text(d->run_why), "attempt_at", or_null(r->attempt_at), "result",
	    run_result_name(r->result), "message", text(r->message),
	    "success_at", or_null(r->success_at), "version", text(r->version),
	    "refused_at", or_null(r->refused_at), "refused_reason",
	    text(r->refused_reason), "retry_until", or_null(r->retry_until));
}

static json_t *
state_dir(const struct dir_part *d)
{
	return json_pack("{s:o, s:o, s:o, s:I, s:o}", "path", text(d->path),
	                 "version", text(d->version), "params", text(d->params),
	                 "sets", (json_int_t)d->sets, "error", text(d->why));
}

int
status_print_json(const struct report *r)
{
	json_t *att = json_array(), *o;
	size_t i;
	char *doc;

	for (i = 0; att && i < r->n_attention; i++)
		json_array_append_new(att, text(r->attention[i]));
	o = json_pack("{s:I, s:i, s:b, s:o, s:o, s:o, s:o, s:o}", "now",
	              (json_int_t)r->now, "max_age_days", (int)r->max_age_days,
	              "healthy", r->n_attention == 0, "host", host(&r->host),
	              "redis", redis(&r->redis), "state_dir",
	              state_dir(&r->dir), "last_update", last_update(&r->dir),
	              "attention", att);
	if (o == NULL)
		return -1;
	doc = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (doc == NULL)
		return -1;
	printf("%s\n", doc);
	free(doc);
	return 0;
}
