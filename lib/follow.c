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
#include <time.h>
#include <unistd.h>

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

/*
 * Names the connections for CLIENT LIST (m365_farm.h): the command
 * connection with the version in use, the subscriber (which can take no
 * other command once subscribed) without.  A Redis that refuses (an ACL
 * without client|setname) costs nothing.
 */
static void
name_link(struct m365_live *lv, redisContext *c, int sub)
{
	struct m365_farm_entry e;
	char name[512];
	redisReply *r;

	memset(&e, 0, sizeof(e));
	snprintf(e.host, sizeof(e.host), "%s", lv->host);
	snprintf(e.frontend, sizeof(e.frontend), "%s",
	         m365_frontend_name(lv->cfg.frontend));
	e.pid = (int)getpid();
	if (sub)
		snprintf(name, sizeof(name), "m365-bypass-sub:%s:%s:%d",
		         e.frontend, e.host, e.pid);
	else if (m365_live_version(lv, e.version, sizeof(e.version)),
	         m365_farm_client_name(lv->prefix, &e, name, sizeof(name)) ==
	             NULL)
		return;
	r = redisCommand(c, "CLIENT SETNAME %s", name);
	freeReplyObject(r);
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
	if (lv->cfg.opt.local != NULL && lv->loc == NULL) {
		/* not the version's fault: tried again once the local list
		 * loads (live_local_check()) */
		m365_endpoints_free(ep);
		m365_snapshot_free(&s);
		return;
	}
	if ((l = live_build(lv, ep, &err)) == NULL) {
		m365_snapshot_free(&s);
		goto bad;
	}
	live_swap(lv, l, v);
	lv->in_use_at = s.published_at;
	lv->rejected[0] = '\0';
	snprintf(lv->source, sizeof(lv->source), "redis");
	live_gauges(lv, 1);
	lv->next_beat = 0; /* tell the farm view at once */
	name_link(lv, lv->cmd, 0);
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

/* Records this process in Redis for the farm view, every
 * M365_FARM_BEAT_S; a refusal (a read-only replica, an ACL) is logged
 * once. */
static void
beat(struct m365_live *lv)
{
	long long now = (long long)time(NULL);
	struct m365_farm_entry e;
	char key[512], val[256];
	redisReply *r;

	if (now < lv->next_beat)
		return;
	lv->next_beat = now + M365_FARM_BEAT_S;
	memset(&e, 0, sizeof(e));
	snprintf(e.host, sizeof(e.host), "%s", lv->host);
	snprintf(e.frontend, sizeof(e.frontend), "%s",
	         m365_frontend_name(lv->cfg.frontend));
	e.pid = (int)getpid();
	m365_live_version(lv, e.version, sizeof(e.version));
	e.published_at = lv->in_use_at;
	e.seen_at = now;
	if (m365_farm_key(lv->prefix, &e, key, sizeof(key)) == NULL)
		return;
	r = redisCommand(lv->cmd, "SET %s %s EX %d", key,
	                 m365_farm_value(&e, val, sizeof(val)),
	                 M365_FARM_TTL_S);
	if (r != NULL && r->type == REDIS_REPLY_ERROR && !lv->farm_said) {
		/* a replica is read-only by design: not a fault */
		int ro = strncmp(r->str, "READONLY", 8) == 0;
		live_log(lv, ro ? M365_LOG_INFO : M365_LOG_WARNING,
		         "not recorded for the farm view of m365ctl status: "
		         "%.200s%s",
		         r->str, ro ? " (a replica)" : "");
		lv->farm_said = 1;
	}
	freeReplyObject(r);
}

/* The monotonic clock in milliseconds. */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How often the local list's file is looked at, and how soon a retired
 * list is looked at again. */
#define LOCAL_CHECK_MS 1000
#define REAP_MS 10

/* Milliseconds until the next chore, at most ms. */
static int
until_chore(const struct m365_live *lv, int ms)
{
	long long left = (lv->next_beat - (long long)time(NULL)) * 1000;

	if (left < 1000)
		left = 1000;
	if (lv->cfg.opt.local != NULL && left > LOCAL_CHECK_MS)
		left = LOCAL_CHECK_MS;
	if (lv->n_retired > 0)
		left = REAP_MS;
	return left < ms ? (int)left : ms;
}

/*
 * Reads what the front end wrote on the wake pipe: 'x' asks to stop (-2
 * returned), 'r' to read the local list again.  0 otherwise.
 */
static int
woken(struct m365_live *lv)
{
	char buf[16];
	ssize_t n = read(lv->wake[0], buf, sizeof(buf)), i;

	for (i = 0; i < n; i++) {
		if (buf[i] == 'x')
			return -2;
		if (buf[i] == 'r')
			lv->reload_local = 1;
	}
	return 0;
}

/* The chores of every turn: the local list, the retired lists. */
static void
chores(struct m365_live *lv)
{
	live_local_check(lv, lv->reload_local);
	lv->reload_local = 0;
	live_reap(lv);
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
	name_link(lv, lv->cmd, 0);
	name_link(lv, lv->sub, 1);
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
	if (p[1].revents && woken(lv) == -2)
		return -2;
	if (!p[0].revents)
		return 0;
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

	return poll(&p, 1, ms) > 0 ? woken(lv) : 0;
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

/* Without Redis: watches the local list and says that no list is
 * loaded, every minute, until stopped. */
static void
watch(struct m365_live *lv)
{
	do {
		chores(lv);
		live_nag(lv);
	} while (nap(lv, lv->n_retired ? REAP_MS : LOCAL_CHECK_MS) != -2);
}

/* With Redis: follows it until stopped. */
static void
follow(struct m365_live *lv)
{
	int backoff = BACKOFF_MIN_MS, rc;
	char where[300], msg[600];
	struct m365_err err;
	long long next_check = 0; /* when to look at the pointer (ms) */

	m365_redis_url_describe(&lv->url, where, sizeof(where));
	for (;;) {
		chores(lv);
		live_nag(lv);
		if (lv->cmd == NULL && connect_both(lv, &err) < 0) {
			disconnect(lv);
			snprintf(msg, sizeof(msg),
			         "%s; keeping the list in use, retrying",
			         err.msg);
			set_state(lv, ST_DOWN, M365_LOG_WARNING, msg);
			if (nap(lv, backoff) == -2)
				return;
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
			                                       : backoff * 2;
			next_check = 0;
			continue;
		}
		if (lv->state == ST_DOWN || lv->state == ST_START) {
			live_log(lv, M365_LOG_INFO, "following %s (prefix %s)",
			         where, lv->prefix);
			live_event(lv, M365_LIVE_REDIS_UP, NULL);
			lv->state = ST_UP;
		}
		backoff = BACKOFF_MIN_MS;
		if (now_ms() >= next_check) {
			if (check(lv) < 0) {
				lost(lv, where, lv->cmd->errstr);
				next_check = 0;
				continue;
			}
			next_check = now_ms() + lv->cfg.poll_ms;
		}
		live_nag(lv);
		beat(lv);
		if (lv->cmd->err) {
			lost(lv, where, lv->cmd->errstr);
			continue;
		}
		rc = wait_message(
		    lv, until_chore(lv, (int)(next_check > now_ms()
		                                  ? next_check - now_ms()
		                                  : 0)));
		if (rc == -2)
			return;
		if (rc == 1) {
			lv->rejected[0] = '\0'; /* a publish: try it again */
			next_check = 0;
		}
		if (rc == -1) {
			lost(lv, where,
			     lv->sub->errstr[0] ? lv->sub->errstr
			                        : "connection closed");
			next_check = 0;
		}
	}
}

void *
live_follow_thread(void *arg)
{
	struct m365_live *lv = arg;
	int orphan;

	if (lv->cfg.redis != NULL)
		follow(lv);
	else
		watch(lv);
	disconnect(lv);
	pthread_mutex_lock(&lv->lock);
	lv->done = 1;
	orphan = lv->orphan;
	pthread_mutex_unlock(&lv->lock);
	if (orphan)
		live_free(lv);
	return NULL;
}
