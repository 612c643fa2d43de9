/* live.c - a list that follows Redis (see m365_live.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "m365_live.h"
#include "m365_redis.h"
#include "m365_store.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
#define CACHE_MAX (64u << 20)

enum state { ST_START, ST_UP, ST_DOWN, ST_EMPTY, ST_BAD };

struct m365_live {
	struct m365_live_config cfg;
	struct m365_redis_url url;
	char prefix[128];
	pthread_mutex_t lock; /* guards list and version */
	struct m365_list *list;
	char version[M365_VERSION_MAX + 1];
	char rejected[M365_VERSION_MAX + 1]; /* last version that failed */
	pthread_t thread;
	int running;
	int wake[2]; /* stop pipe */
	enum state state;
	redisContext *cmd, *sub;
};

static void logf_(struct m365_live *lv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
logf_(struct m365_live *lv, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", lv->cfg.name ? lv->cfg.name : "m365", line);
}

/* Logs msg only when the state changes to st. */
static void
set_state(struct m365_live *lv, enum state st, const char *msg)
{
	if (lv->state != st && msg != NULL)
		logf_(lv, "%s", msg);
	lv->state = st;
}

/* Installs l as the current list (taking over its reference). */
static void
swap(struct m365_live *lv, struct m365_list *l, const char *version)
{
	struct m365_list *old;

	pthread_mutex_lock(&lv->lock);
	old = lv->list;
	lv->list = l;
	snprintf(lv->version, sizeof(lv->version), "%s", version);
	pthread_mutex_unlock(&lv->lock);
	m365_list_unref(old);
}

static void
write_cache(struct m365_live *lv, const struct m365_snapshot *s)
{
	char vpath[4096];

	if (lv->cfg.cache == NULL)
		return;
	snprintf(vpath, sizeof(vpath), "%s.version", lv->cfg.cache);
	if (m365_write_file_atomic(lv->cfg.cache, s->json, s->len) < 0 ||
	    m365_write_file_atomic(vpath, s->version, strlen(s->version)) < 0)
		logf_(lv, "WARNING: cannot write cache %s: %s", lv->cfg.cache,
		      strerror(errno));
}

/* The starting list: the cache when valid, else --list or bundled. */
static void
load_initial(struct m365_live *lv)
{
	struct m365_endpoints *ep = NULL;
	struct m365_list *l;
	struct m365_err err;
	char vpath[4096], *ver = NULL;
	size_t len;

	if (lv->cfg.cache && access(lv->cfg.cache, F_OK) == 0) {
		snprintf(vpath, sizeof(vpath), "%s.version", lv->cfg.cache);
		ver = m365_read_file(vpath, M365_VERSION_MAX, &len, NULL);
		if (ver == NULL || !m365_version_valid(ver)) {
			logf_(lv,
			      "WARNING: cache %s has no valid version file; "
			      "ignoring it",
			      lv->cfg.cache);
		} else if ((ep = m365_endpoints_load_file(lv->cfg.cache,
		                                          &err)) == NULL) {
			logf_(lv, "WARNING: ignoring cache: %s", err.msg);
		} else if ((l = m365_list_build_opt(ep, &lv->cfg.opt, &err)) ==
		           NULL) {
			logf_(lv, "WARNING: ignoring cache: %s", err.msg);
		} else {
			logf_(lv, "loaded version %s from cache %s", ver,
			      lv->cfg.cache);
			swap(lv, l, ver);
			free(ver);
			return;
		}
		free(ver);
	}
	if ((l = m365_list_load(&lv->cfg.opt, &err)) == NULL) {
		logf_(lv, "ERROR: %s; answering ERR until a list loads",
		      err.msg);
		return;
	}
	swap(lv, l, "");
}

/* Fetches, verifies and installs version v. */
static void
install(struct m365_live *lv, const char *v)
{
	struct m365_snapshot s;
	struct m365_endpoints *ep;
	struct m365_list *l;
	struct m365_err err;

	if ((ep = m365_store_load(lv->cmd, lv->prefix, v, &s, &err)) == NULL)
		goto bad;
	if ((l = m365_list_build_opt(ep, &lv->cfg.opt, &err)) == NULL) {
		m365_snapshot_free(&s);
		goto bad;
	}
	swap(lv, l, v);
	lv->rejected[0] = '\0';
	logf_(lv, "switched to version %s (%zu sets, %zu selected)", v,
	      m365_list_endpoints(l)->n_sets, m365_list_selected(l));
	write_cache(lv, &s);
	m365_snapshot_free(&s);
	set_state(lv, ST_UP, NULL);
	return;
bad:
	if (lv->cmd->err)
		return; /* the link failed, not the version: check() retries */
	snprintf(lv->rejected, sizeof(lv->rejected), "%s", v);
	logf_(lv, "ERROR: version %s rejected: %s; keeping the list in use", v,
	      err.msg);
	set_state(lv, ST_BAD, NULL);
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
		set_state(lv, ST_BAD,
		          "ERROR: Redis holds a bad version pointer; keeping "
		          "the list in use");
		return 0;
	}
	if (rc == 0) {
		set_state(lv, ST_EMPTY,
		          "WARNING: Redis has no version yet; keeping the list "
		          "in use");
		return 0;
	}
	m365_live_version(lv, mine, sizeof(mine));
	if (strcmp(v, mine) == 0) {
		set_state(lv, ST_UP, NULL);
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
		m365_err_set(err, "redis: SUBSCRIBE failed: %s",
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
	struct pollfd p[2] = {{lv->sub->fd, POLLIN, 0},
	                      {lv->wake[0], POLLIN, 0}};
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
	if (redisBufferRead(lv->sub) != REDIS_OK)
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
	struct pollfd p = {lv->wake[0], POLLIN, 0};

	return poll(&p, 1, ms) > 0 ? -2 : 0;
}

static void *
follow(void *arg)
{
	struct m365_live *lv = arg;
	int backoff = BACKOFF_MIN_MS, rc;
	char where[300], msg[600];
	struct m365_err err;

	m365_redis_url_describe(&lv->url, where, sizeof(where));
	for (;;) {
		if (lv->cmd == NULL && connect_both(lv, &err) < 0) {
			disconnect(lv);
			snprintf(
			    msg, sizeof(msg),
			    "WARNING: %s; keeping the list in use, retrying",
			    err.msg);
			set_state(lv, ST_DOWN, msg);
			if (nap(lv, backoff) == -2)
				break;
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
			                                       : backoff * 2;
			continue;
		}
		if (lv->state == ST_DOWN || lv->state == ST_START) {
			logf_(lv, "following %s (prefix %s)", where,
			      lv->prefix);
			lv->state = ST_UP;
		}
		backoff = BACKOFF_MIN_MS;
		if (check(lv) < 0) {
			snprintf(msg, sizeof(msg),
			         "WARNING: lost Redis at %s: %s; keeping the "
			         "list in use",
			         where, lv->cmd->errstr);
			disconnect(lv);
			set_state(lv, ST_DOWN, msg);
			continue;
		}
		rc = wait_message(lv, lv->cfg.poll_ms);
		if (rc == -2)
			break;
		if (rc == 1)
			lv->rejected[0] = '\0'; /* a publish: try it again */
		if (rc == -1) {
			snprintf(msg, sizeof(msg),
			         "WARNING: lost Redis at %s: %s; keeping the "
			         "list in use",
			         where,
			         lv->sub->errstr[0] ? lv->sub->errstr
			                            : "connection closed");
			disconnect(lv);
			set_state(lv, ST_DOWN, msg);
		}
	}
	disconnect(lv);
	return NULL;
}

struct m365_live *
m365_live_start(const struct m365_live_config *cfg, struct m365_err *err)
{
	struct m365_live *lv = calloc(1, sizeof(*lv));

	if (lv == NULL) {
		m365_err_set(err, "out of memory");
		return NULL;
	}
	lv->cfg = *cfg;
	lv->wake[0] = lv->wake[1] = -1;
	if (lv->cfg.poll_ms <= 0)
		lv->cfg.poll_ms = 10000;
	if (lv->cfg.poll_ms > 30000)
		lv->cfg.poll_ms = 30000;
	if (lv->cfg.timeout_ms <= 0)
		lv->cfg.timeout_ms = 2000;
	snprintf(lv->prefix, sizeof(lv->prefix), "%s",
	         cfg->prefix ? cfg->prefix : M365_STORE_PREFIX);
	pthread_mutex_init(&lv->lock, NULL);
	if (cfg->redis && m365_redis_url_parse(cfg->redis, &lv->url, err) < 0)
		goto fail;
	load_initial(lv);
	if (cfg->redis == NULL)
		return lv;
	if (pipe2(lv->wake, O_CLOEXEC) < 0 ||
	    pthread_create(&lv->thread, NULL, follow, lv) != 0) {
		m365_err_set(err, "cannot start the Redis thread: %s",
		             strerror(errno));
		goto fail;
	}
	lv->running = 1;
	return lv;
fail:
	m365_live_stop(lv);
	return NULL;
}

struct m365_list *
m365_live_acquire(struct m365_live *lv)
{
	struct m365_list *l;

	pthread_mutex_lock(&lv->lock);
	l = lv->list ? m365_list_ref(lv->list) : NULL;
	pthread_mutex_unlock(&lv->lock);
	return l;
}

char *
m365_live_version(struct m365_live *lv, char *buf, size_t len)
{
	pthread_mutex_lock(&lv->lock);
	snprintf(buf, len, "%s", lv->version);
	pthread_mutex_unlock(&lv->lock);
	return buf;
}

void
m365_live_stop(struct m365_live *lv)
{
	if (lv == NULL)
		return;
	if (lv->running) {
		ssize_t n = write(lv->wake[1], "x", 1);
		(void)n;
		pthread_join(lv->thread, NULL);
	}
	if (lv->wake[0] >= 0)
		close(lv->wake[0]);
	if (lv->wake[1] >= 0)
		close(lv->wake[1]);
	m365_list_unref(lv->list);
	pthread_mutex_destroy(&lv->lock);
	free(lv);
}
