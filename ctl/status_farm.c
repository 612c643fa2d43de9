/*
 * status_farm.c - m365ctl status: the farm view (see status.h).  Every
 * key and value comes from Redis and is parsed by m365_farm_parse() as
 * untrusted input.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "status.h"

/* GETs sent in one pipeline. */
#define GET_BATCH 500
/* SCAN steps (of COUNT 1000) before giving up on a huge keyspace. */
#define SCAN_STEPS_MAX 10000

/* prefix "proxy:*" with the prefix's glob characters escaped, into buf. */
static int
match_pattern(const char *prefix, char *buf, size_t len)
{
	size_t i, k = 0;

	for (i = 0; prefix[i]; i++) {
		if (k + 2 >= len)
			return -1;
		if (strchr("*?[]\\", prefix[i]))
			buf[k++] = '\\';
		buf[k++] = prefix[i];
	}
	if (k + sizeof("proxy:*") > len)
		return -1;
	memcpy(buf + k, "proxy:*", sizeof("proxy:*"));
	return 0;
}

/* A reply error into f->why; -1. */
static int
fail(struct farm *f, redisContext *c, const redisReply *r, const char *what)
{
	snprintf(f->why, sizeof(f->why), "%s: %s", what,
	         r && r->type == REDIS_REPLY_ERROR ? r->str
	         : r                               ? "unexpected reply"
	                                           : c->errstr);
	return -1;
}

/* GETs keys[0..n) (pipelined) and parses each record into f. */
static int
get_batch(redisContext *c, size_t plen, char **keys, size_t n, struct farm *f)
{
	redisReply *r;
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++)
		if (redisAppendCommand(c, "GET %s", keys[i]) != REDIS_OK)
			return fail(f, c, NULL, "GET");
	for (i = 0; i < n; i++) {
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			return fail(f, c, NULL, "GET");
		if (r->type == REDIS_REPLY_STRING && strlen(r->str) == r->len &&
		    m365_farm_parse(keys[i], plen, r->str, &f->e[f->n]) == 0)
			f->n++;
		else if (r->type == REDIS_REPLY_ERROR && rc == 0)
			rc = fail(f, c, r, "GET");
		else if (r->type != REDIS_REPLY_NIL) /* NIL: expired */
			f->bad++;
		freeReplyObject(r);
	}
	return rc;
}

/* One SCAN step's keys: kept (as C strings) in keys[*nk..), or counted
 * bad when they hold a NUL. */
static void
take_keys(const redisReply *arr, char **keys, size_t *nk, struct farm *f)
{
	size_t i;

	for (i = 0; i < arr->elements && *nk < FARM_SCAN_MAX; i++) {
		const redisReply *k = arr->element[i];
		if (k->type != REDIS_REPLY_STRING || strlen(k->str) != k->len ||
		    (keys[*nk] = strdup(k->str)) == NULL)
			f->bad++;
		else
			(*nk)++;
	}
	if (i < arr->elements)
		f->truncated = true;
}

/* SCANs the farm's keys into keys[*nk..FARM_SCAN_MAX); 0, or -1 with
 * f->why set. */
static int
scan(redisContext *c, const char *pattern, char **keys, size_t *nk,
     struct farm *f)
{
	char cursor[32] = "0";
	redisReply *r;
	int steps = 0;

	do {
		r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor,
		                 pattern);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY ||
		    r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[0]->len >= sizeof(cursor) ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			fail(f, c, r, "SCAN");
			freeReplyObject(r);
			return -1;
		}
		memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
		take_keys(r->element[1], keys, nk, f);
		freeReplyObject(r);
		if ((*nk >= FARM_SCAN_MAX || ++steps >= SCAN_STEPS_MAX) &&
		    strcmp(cursor, "0") != 0)
			f->truncated = true;
	} while (strcmp(cursor, "0") != 0 && !f->truncated);
	return 0;
}

/* True when f's records already hold e's process. */
static bool
known(const struct farm *f, size_t n, const struct m365_farm_entry *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (f->e[i].pid == e->pid && !strcmp(f->e[i].host, e->host) &&
		    !strcmp(f->e[i].frontend, e->frontend))
			return true;
	return false;
}

/*
 * Adds the followers connected to this Redis that left no record (a
 * replica refuses them): their connection names (CLIENT LIST), seen now.
 * A Redis that does not let us list its clients is no error: the records
 * are the farm view then.
 */
static void
clients(redisContext *c, const char *prefix, long long now, struct farm *f)
{
	size_t records = f->n, len;
	const char *p, *end, *line_end, *name;
	redisReply *r;

	r = redisCommand(c, "CLIENT LIST TYPE normal");
	if (r == NULL || r->type != REDIS_REPLY_STRING) {
		freeReplyObject(r);
		return;
	}
	f->listed = true;
	for (p = r->str, end = r->str + r->len; p < end; p = line_end + 1) {
		if ((line_end = memchr(p, '\n', (size_t)(end - p))) == NULL)
			line_end = end;
		/* "id=1 addr=... name=NAME age=..." */
		name = memmem(p, (size_t)(line_end - p), " name=", 6);
		if (name == NULL || f->n >= FARM_SCAN_MAX)
			continue;
		name += 6;
		len = strcspn(name, " \r\n");
		if (name + len > line_end ||
		    m365_farm_parse_client_name(name, len, prefix,
		                                &f->e[f->n]) < 0 ||
		    known(f, records, &f->e[f->n]))
			continue;
		f->e[f->n].seen_at = now;
		f->n++;
		f->connected++;
	}
	freeReplyObject(r);
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct m365_farm_entry *x = a, *y = b;
	int c;

	if ((c = strcmp(x->host, y->host)) != 0)
		return c;
	if ((c = strcmp(x->frontend, y->frontend)) != 0)
		return c;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Sorts the records, drops duplicates (SCAN may repeat a key) and groups
 * them by host. */
static int
group(struct farm *f)
{
	size_t i, k = 0;
	struct farm_host *h = NULL;

	qsort(f->e, f->n, sizeof(*f->e), cmp_entry);
	for (i = 0; i < f->n; i++)
		if (k == 0 || cmp_entry(&f->e[k - 1], &f->e[i]) != 0)
			f->e[k++] = f->e[i];
	f->n = k;
	if ((f->hosts = calloc(f->n + 1, sizeof(*f->hosts))) == NULL)
		return -1;
	for (i = 0; i < f->n; i++) {
		if (h == NULL || strcmp(f->e[h->first].host, f->e[i].host)) {
			h = &f->hosts[f->n_hosts++];
			h->first = i;
		}
		h->count++;
		h->squid += strcmp(f->e[i].frontend, "squid") == 0;
		h->icap += strcmp(f->e[i].frontend, "icap") == 0;
	}
	return 0;
}

int
status_farm(redisContext *c, const char *prefix, struct farm *f)
{
	size_t nk = 0, i, plen = strlen(prefix);
	char pattern[1100], **keys;
	int rc = -1;

	memset(f, 0, sizeof(*f));
	if (match_pattern(prefix, pattern, sizeof(pattern)) < 0) {
		snprintf(f->why, sizeof(f->why), "prefix too long");
		return -1;
	}
	keys = calloc(FARM_SCAN_MAX, sizeof(*keys));
	f->e = calloc(FARM_SCAN_MAX, sizeof(*f->e));
	if (keys == NULL || f->e == NULL) {
		snprintf(f->why, sizeof(f->why), "out of memory");
		goto out;
	}
	if (scan(c, pattern, keys, &nk, f) < 0)
		goto out;
	for (i = 0; i < nk; i += GET_BATCH)
		if (get_batch(c, plen, keys + i,
		              nk - i < GET_BATCH ? nk - i : GET_BATCH, f) < 0)
			goto out;
	clients(c, prefix, (long long)time(NULL), f);
	if (group(f) < 0) {
		snprintf(f->why, sizeof(f->why), "out of memory");
		goto out;
	}
	f->read = true;
	rc = 0;
out:
	for (i = 0; i < nk; i++)
		free(keys[i]);
	free(keys);
	return rc;
}

void
status_farm_lag(struct farm *f, const char *current, long long published_at,
                long long now)
{
	size_t i, j;

	if (current == NULL || now - published_at <= M365_FARM_LAG_S)
		return;
	for (i = 0; i < f->n_hosts; i++)
		for (j = 0; j < f->hosts[i].count; j++)
			if (strcmp(f->e[f->hosts[i].first + j].version,
			           current) != 0)
				f->hosts[i].lagging = true;
}

void
status_farm_free(struct farm *f)
{
	free(f->e);
	free(f->hosts);
	f->e = NULL;
	f->hosts = NULL;
	f->n = f->n_hosts = 0;
}
