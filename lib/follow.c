/*
 * follow.c - the Redis follower thread of a live list (live_impl.h).
 *
 * It subscribes to the update channel and polls the version pointer; a
 * version that differs from the one in use is fetched, verified, built and
 * swapped in.  A version that fails is remembered and not tried again
 * until the next publish.  Redis trouble only ever costs freshness.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "live_impl.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
/* An update message is a version name: a subscriber link that buffers
 * more than this is flooded (a hostile PUBLISH) and is dropped. */
#define SUB_BUFFER_MAX (64u << 10)

/* Logs msg only when the state changes to st. */
static void
set_state(struct m365_live *lv, enum live_state st, enum m365_log_level level,
          const char *msg)
{
	if (lv->state != st && msg != NULL)
		live_log(lv, level, "%s", msg);
	if (lv->state != st && st == ST_DOWN)
		live_event(lv, M365_LIVE_REDIS_DOWN, NULL);
	lv->state = st;
}

static void
write_cache(struct m365_live *lv, const struct m365_snapshot *s)
{
	char vpath[4096], spath[4096], sig[M365_SIG_HEX + 40];
	struct m365_err err;

	if (lv->cfg.cache == NULL)
		return;
	snprintf(sig, sizeof(sig), "%s %lld\n", s->sig[0] ? s->sig : "-",
	         s->published_at);
	/* the version file last: a cache is used only when its version
	 * file names it, and (with a verify key) its signature matches */
	snprintf(vpath, sizeof(vpath), "%s.version", lv->cfg.cache);
	if (m365_write_file_atomic(lv->cfg.cache, s->json, s->len, &err) < 0 ||
	    m365_write_file_atomic(live_sig_path(lv, spath, sizeof(spath)), sig,
	                           strlen(sig), &err) < 0 ||
	    m365_write_file_atomic(vpath, s->version, strlen(s->version),
	                           &err) < 0)
		live_log(lv, M365_LOG_WARNING, "cannot write the cache: %s",
		         err.msg);
}

/* Fetches, verifies and installs version v. */
static void
install(struct m365_live *lv, const char *v)
{
	struct m365_snapshot s;
	struct m365_endpoints *ep;
	struct m365_list *l;
	struct m365_err err;

	if ((ep = m365_store_load(lv->cmd, lv->prefix, v, &lv->limits, &s,
	                          &err)) == NULL)
		goto bad;
	if (lv->verify != NULL && s.published_at < lv->in_use_at) {
		/* a signed, older version put back by someone with write
		 * access: a replay, never a rollback (which publishes anew) */
		m365_err_set(&err, M365_E_REFUSED,
		             "published at %lld, before the version in use "
		             "(%lld): a replay (roll back with m365ctl "
		             "import, which publishes anew)",
		             s.published_at, lv->in_use_at);
		m365_endpoints_free(ep);
		m365_snapshot_free(&s);
		goto bad;
	}
	if ((l = m365_list_build_opt(ep, &lv->cfg.opt, &err)) == NULL) {
		m365_snapshot_free(&s);
		goto bad;
	}
	live_swap(lv, l, v);
	lv->in_use_at = s.published_at;
	lv->rejected[0] = '\0';
	live_log(lv, M365_LOG_INFO,
	         "switched to version %s (%zu sets, %zu selected)", v,
	         m365_list_endpoints(l)->n_sets, m365_list_selected(l));
	live_event(lv, M365_LIVE_SWITCHED, v);
	write_cache(lv, &s);
	m365_snapshot_free(&s);
	set_state(lv, ST_UP, M365_LOG_INFO, NULL);
	return;
bad:
	if (lv->cmd->err)
		return; /* the link failed, not the version: check() retries */
	snprintf(lv->rejected, sizeof(lv->rejected), "%s", v);
	live_log(lv, M365_LOG_ERROR,
	         "version %s rejected: %s; keeping the list in use", v,
	         err.msg);
	live_event(lv, M365_LIVE_REFUSED, v);
	set_state(lv, ST_BAD, M365_LOG_ERROR, NULL);
}

/* Compares Redis's pointer with ours; returns -1 when the link failed. */
static int
check(struct m365_live *lv)
{
	char v[M365_VERSION_MAX + 1], mine[M365_VERSION_MAX + 1];
	struct m365_err err;
	int rc = m365_store_current(lv->cmd, lv->prefix, v, &err);

	if (rc < 0 && lv->cmd->err)
		return -1;
	if (rc < 0) {
		char msg[M365_ERR_MAX + 64];
		snprintf(msg, sizeof(msg), "%s; keeping the list in use",
		         err.msg);
		set_state(lv, ST_BAD, M365_LOG_ERROR, msg);
		return 0;
	}
	if (rc == 0) {
		set_state(lv, ST_EMPTY, M365_LOG_WARNING,
		          "Redis has no version yet; keeping the list in use");
		return 0;
	}
	m365_live_version(lv, mine, sizeof(mine));
	if (strcmp(v, mine) == 0) {
		set_state(lv, ST_UP, M365_LOG_INFO, NULL);
		return 0;
	}
	if (strcmp(v, lv->rejected) != 0)
		install(lv, v);
	return lv->cmd->err ? -1 : 0;
}

static void
disconnect(struct m365_live *lv)
{
	if (lv->cmd)
		redisFree(lv->cmd);
	if (lv->sub)
		redisFree(lv->sub);
	lv->cmd = lv->sub = NULL;
}

static int
connect_both(struct m365_live *lv, struct m365_err *err)
{
	char chan[256];
	redisReply *r;

	if ((lv->cmd = m365_redis_connect(&lv->url, lv->cfg.timeout_ms, err)) ==
	        NULL ||
	    (lv->sub = m365_redis_connect(&lv->url, lv->cfg.timeout_ms, err)) ==
	        NULL)
		return -1;
	m365_store_channel(lv->prefix, chan, sizeof(chan));
	r = redisCommand(lv->sub, "SUBSCRIBE %s", chan);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		m365_err_set(err, M365_E_REDIS, "redis: SUBSCRIBE failed: %s",
		             lv->sub->err ? lv->sub->errstr
		                          : "unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

/* Waits up to ms for a message or the stop pipe.  Returns 1 for a
 * message, 0 for a timeout, -1 for a broken link, -2 for stop. */
static int
wait_message(struct m365_live *lv, int ms)
{
	struct pollfd p[2] = {{.fd = lv->sub->fd, .events = POLLIN},
	                      {.fd = lv->wake[0], .events = POLLIN}};
	void *reply = NULL;
	int n, got = 0;

	if (redisGetReplyFromReader(lv->sub, &reply) == REDIS_OK && reply) {
		freeReplyObject(reply);
		return 1;
	}
	n = poll(p, 2, ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (p[1].revents)
		return -2;
	if (n == 0)
		return 0;
	if (redisBufferRead(lv->sub) != REDIS_OK ||
	    lv->sub->reader->len - lv->sub->reader->pos > SUB_BUFFER_MAX)
		return -1;
	while (redisGetReplyFromReader(lv->sub, &reply) == REDIS_OK && reply) {
		freeReplyObject(reply);
		reply = NULL;
		got = 1;
	}
	return lv->sub->err ? -1 : got;
}

/* Sleeps ms unless stopped; returns -2 when stopped. */
static int
nap(struct m365_live *lv, int ms)
{
	struct pollfd p = {.fd = lv->wake[0], .events = POLLIN};

	return poll(&p, 1, ms) > 0 ? -2 : 0;
}

/* Marks the link lost, with the reason, and drops both connections. */
static void
lost(struct m365_live *lv, const char *where, const char *why)
{
	char msg[600];

	snprintf(msg, sizeof(msg),
	         "lost Redis at %s: %s; keeping the list in use", where, why);
	disconnect(lv);
	set_state(lv, ST_DOWN, M365_LOG_WARNING, msg);
}

void *
live_follow_thread(void *arg)
{
	struct m365_live *lv = arg;
	int backoff = BACKOFF_MIN_MS, rc, orphan;
	char where[300], msg[600];
	struct m365_err err;

	m365_redis_url_describe(&lv->url, where, sizeof(where));
	for (;;) {
		if (lv->cmd == NULL && connect_both(lv, &err) < 0) {
			disconnect(lv);
			snprintf(msg, sizeof(msg),
			         "%s; keeping the list in use, retrying",
			         err.msg);
			set_state(lv, ST_DOWN, M365_LOG_WARNING, msg);
			if (nap(lv, backoff) == -2)
				break;
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
			                                       : backoff * 2;
			continue;
		}
		if (lv->state == ST_DOWN || lv->state == ST_START) {
			live_log(lv, M365_LOG_INFO, "following %s (prefix %s)",
			         where, lv->prefix);
			live_event(lv, M365_LIVE_REDIS_UP, NULL);
			lv->state = ST_UP;
		}
		backoff = BACKOFF_MIN_MS;
		if (check(lv) < 0) {
			lost(lv, where, lv->cmd->errstr);
			continue;
		}
		rc = wait_message(lv, lv->cfg.poll_ms);
		if (rc == -2)
			break;
		if (rc == 1)
			lv->rejected[0] = '\0'; /* a publish: try it again */
		if (rc == -1)
			lost(lv, where,
			     lv->sub->errstr[0] ? lv->sub->errstr
			                        : "connection closed");
	}
	disconnect(lv);
	pthread_mutex_lock(&lv->lock);
	lv->done = 1;
	orphan = lv->orphan;
	pthread_mutex_unlock(&lv->lock);
	if (orphan)
		live_free(lv);
	return NULL;
}
