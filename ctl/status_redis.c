/* status_redis.c - m365ctl status: what Redis holds (see status.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "m365_text.h"
#include "publish.h"
#include "status.h"

/* A "checked" time this far ahead of our clock is still believed. */
#define CLOCK_SKEW_S 300

/* "valid", "none" or "bad" with a key; without, whether there is one. */
static const char *
signature(const struct m365_key *key, const struct m365_snapshot *s)
{
	if (s->sig[0] == '\0')
		return "none";
	if (key == NULL)
		return "present";
	if (m365_verify_version(key, s->version, s->sha256, s->published_at,
	                        s->sig, NULL) == 0)
		return "valid";
	return "bad";
}

/* The current version, validated; 0, or -1 with err set. */
static int
current(redisContext *c, struct redis_part *rp, const struct m365_key *key,
        struct m365_err *err)
{
	struct m365_store_limits lim = {.max = 0, .verify = NULL};
	char v[M365_VERSION_MAX + 1];
	struct m365_endpoints *ep;
	int rc;

	if ((rc = m365_store_current(c, rp->prefix, v, err)) <= 0)
		return rc;
	ep = m365_store_load(c, rp->prefix, v, &lim, &rp->cur, err);
	if (ep == NULL)
		return -1;
	free(rp->cur.json);
	rp->cur.json = NULL;
	rp->has_current = true;
	rp->sets = ep->n_sets;
	rp->urls = ep->n_urls;
	rp->ips = ep->n_ips;
	rp->signature = signature(key, &rp->cur);
	rp->keyed = key != NULL;
	m365_endpoints_free(ep);
	return publish_params(c, rp->prefix, rp->cur.version, rp->cur.params,
	                      err);
}

/* PREFIX "checked": 0 none, -1 not a time (or in the future), else the
 * time; -2 with err set when Redis fails. */
static long long
checked(redisContext *c, const char *prefix, struct m365_err *err)
{
	long long now = (long long)time(NULL), v = -1;
	redisReply *r;
	char key[600];
	long n;

	snprintf(key, sizeof(key), "%.500schecked", prefix);
	if ((r = redisCommand(c, "GET %s", key)) == NULL) {
		m365_err_set(err, M365_E_REDIS, "GET %s: %s", key, c->errstr);
		return -2;
	}
	if (r->type == REDIS_REPLY_NIL)
		v = 0;
	else if (r->type == REDIS_REPLY_STRING && strlen(r->str) == r->len &&
	         m365_parse_long(r->str, 1, now + CLOCK_SKEW_S, &n) == 0)
		v = n;
	freeReplyObject(r);
	return v;
}

void
status_redis(struct redis_part *rp, const struct m365_redis_url *ru,
             const char *prefix, const struct m365_key *key)
{
	struct m365_err err;
	redisContext *c;

	rp->asked = true;
	rp->prefix = prefix;
	m365_redis_url_describe(ru, rp->where, sizeof(rp->where));
	if ((c = m365_redis_connect(ru, CTL_REDIS_TIMEOUT_MS, &err)) == NULL)
		goto fail;
	if (current(c, rp, key, &err) < 0 ||
	    (rp->kept = m365_store_versions(c, prefix, &err)) == NULL ||
	    m365_store_pinned(c, prefix, rp->pinned, &err) < 0 ||
	    (rp->checked = checked(c, prefix, &err)) == -2)
		goto fail;
	status_farm(c, prefix, &rp->farm);
	redisFree(c);
	return;
fail:
	snprintf(rp->why, sizeof(rp->why), "%s", err.msg);
	if (c)
		redisFree(c);
}

void
status_redis_free(struct redis_part *rp)
{
	if (rp->has_current)
		m365_snapshot_free(&rp->cur);
	m365_strv_free(rp->kept);
	rp->kept = NULL;
	status_farm_free(&rp->farm);
}
