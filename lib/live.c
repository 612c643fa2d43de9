/* live.c - loading and sharing a list that follows Redis (m365_live.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "list_impl.h"
#include "live_impl.h"

#define STOP_WAIT_MS 100
/* how often a process with no list says so */
#define NAG_INTERVAL_S 60

void
live_log(struct m365_live *lv, enum m365_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (lv->cfg.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	lv->cfg.log(lv->cfg.ctx, level, line);
}

void
live_event(struct m365_live *lv, enum m365_live_event ev, const char *version)
{
	if (ev == M365_LIVE_REFUSED)
		m365_metrics_refused(lv->cfg.metrics);
	else if (ev == M365_LIVE_REDIS_UP || ev == M365_LIVE_REDIS_DOWN)
		m365_metrics_set_redis(lv->cfg.metrics, ev == M365_LIVE_REDIS_UP
		                                            ? M365_REDIS_UP
		                                            : M365_REDIS_DOWN);
	if (lv->cfg.event != NULL)
		lv->cfg.event(lv->cfg.ctx, ev, version ? version : "");
}

void
live_swap(struct m365_live *lv, struct m365_list *l, const char *version)
{
	struct m365_list *old;

	pthread_mutex_lock(&lv->lock);
	old = lv->list;
	lv->list = l;
	if (version != lv->version)
		snprintf(lv->version, sizeof(lv->version), "%s", version);
	pthread_mutex_unlock(&lv->lock);
	live_retire(lv, old); /* freed by the follower, not by a reader */
}

void
live_gauges(struct m365_live *lv, int switched)
{
	struct m365_metrics_list info;
	const struct m365_endpoints *ep;
	char version[M365_VERSION_MAX + 1], pol[M365_METRICS_TEXT];
	struct m365_list *l;
	int bundled = strcmp(lv->source, "bundled") == 0;

	if (lv->cfg.metrics == NULL)
		return;
	if ((l = m365_live_acquire(lv)) == NULL) {
		m365_metrics_set_list(lv->cfg.metrics, NULL, 0);
		return;
	}
	m365_live_version(lv, version, sizeof(version));
	ep = m365_list_endpoints(l);
	info.version = version[0] ? version
	               : bundled  ? M365_BUNDLED_VERSION
	                          : "";
	info.source = lv->source;
	info.policy =
	    m365_policy_describe(m365_list_policy(l), pol, sizeof(pol));
	info.published_at = lv->in_use_at ? lv->in_use_at
	                    : bundled     ? M365_BUNDLED_PUBLISHED
	                                  : 0;
	info.sets = ep->n_sets;
	info.names = ep->n_urls;
	info.ranges = ep->n_ips;
	m365_metrics_set_list(lv->cfg.metrics, &info, switched);
	m365_list_unref(l);
}

void
live_nag(struct m365_live *lv)
{
	long long now = (long long)time(NULL);
	struct m365_list *l;

	if (now - lv->last_nag < NAG_INTERVAL_S)
		return;
	if ((l = m365_live_acquire(lv)) != NULL) {
		m365_list_unref(l);
		return;
	}
	lv->last_nag = now;
	live_log(lv, M365_LOG_WARNING,
	         "no list loaded: answering ERR to everything (Microsoft 365 "
	         "is inspected and must authenticate) until one loads");
}

char *
live_sig_path(const struct m365_live *lv, char *buf, size_t len)
{
	snprintf(buf, len, "%s.sig", lv->cfg.cache);
	return buf;
}

/* Reads the cache's signature file, "SIG PUBLISHED_AT" ("-" for no
 * signature), into sig (M365_SIG_HEX + 1 bytes) and *at. */
static void
read_sig(struct m365_live *lv, char *sig, long long *at)
{
	char path[4096], *text, *end;
	size_t n;

	sig[0] = '\0';
	*at = 0;
	text = m365_read_file(live_sig_path(lv, path, sizeof(path)),
	                      M365_SIG_HEX + 32, &n, NULL);
	if (text == NULL)
		return;
	n = strcspn(text, " \r\n");
	if (n <= M365_SIG_HEX && !(n == 1 && text[0] == '-')) {
		memcpy(sig, text, n);
		sig[n] = '\0';
	}
	if (text[n] == ' ')
		*at = strtoll(text + n + 1, &end, 10);
	free(text);
}

/* Reads the cache (bounded as a version from Redis) and, with a verify
 * key, checks its signature.  Returns the endpoints or NULL with err; the
 * publication time goes to *at. */
static struct m365_endpoints *
read_cache(struct m365_live *lv, const char *version, long long *at,
           struct m365_err *err)
{
	char sum[65], sig[M365_SIG_HEX + 1], *json;
	struct m365_endpoints *ep = NULL;
	size_t len;

	json = m365_read_file(lv->cfg.cache, lv->limits.max, &len, err);
	if (json == NULL)
		return NULL;
	read_sig(lv, sig, at);
	if (lv->verify != NULL) {
		m365_sha256_hex(json, len, sum);
		if (m365_verify_version(lv->verify, version, sum, *at, sig,
		                        err) < 0) {
			m365_err_prefix(err, "%s", lv->cfg.cache);
			goto out;
		}
	}
	ep = m365_endpoints_parse(json, len, lv->cfg.cache, err);
out:
	free(json);
	return ep;
}

/*
 * Puts the cache file's version in use, unless it is the one in use
 * already.  Returns 1 when the cache's version is in use, 0 when the cache
 * does not load (logged).
 */
static int
use_cache(struct m365_live *lv)
{
	char vpath[4096], mine[M365_VERSION_MAX + 1], *v;
	struct m365_endpoints *ep;
	struct m365_list *l;
	struct m365_err err;
	long long at = 0;
	size_t n;
	int rc = 0;

	snprintf(vpath, sizeof(vpath), "%s.version", lv->cfg.cache);
	v = m365_read_file(vpath, M365_VERSION_MAX, &n, &err);
	if (v == NULL || !m365_version_valid(v)) {
		live_log(lv, M365_LOG_WARNING,
		         "cache %s has no valid version file (%s); ignoring it",
		         lv->cfg.cache, v ? "not a version name" : err.msg);
	} else if (strcmp(v, m365_live_version(lv, mine, sizeof(mine))) == 0) {
		rc = 1;
	} else if ((ep = read_cache(lv, v, &at, &err)) == NULL ||
	           (l = live_build(lv, ep, &err)) == NULL) {
		live_log(lv, M365_LOG_WARNING, "ignoring cache: %s", err.msg);
	} else {
		live_log(lv, M365_LOG_INFO, "loaded version %s from cache %s",
		         v, lv->cfg.cache);
		live_swap(lv, l, v);
		lv->in_use_at = at;
		snprintf(lv->source, sizeof(lv->source), "cache");
		live_gauges(lv, 0);
		rc = 1;
	}
	free(v);
	return rc;
}

/* True when the cache's version file changed since the cache was last
 * looked at (by this process or before the fork); remembers it. */
static int
cache_changed(struct m365_live *lv)
{
	char vpath[4096];
	struct stat st;

	snprintf(vpath, sizeof(vpath), "%s.version", lv->cfg.cache);
	if (stat(vpath, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (lv->cache_seen && st.st_mtim.tv_sec == lv->cache_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == lv->cache_mtime.tv_nsec &&
	    st.st_ino == lv->cache_ino)
		return 0;
	lv->cache_seen = 1;
	lv->cache_mtime = st.st_mtim;
	lv->cache_ino = st.st_ino;
	return 1;
}

/* True when a cache file is configured and there. */
static int
has_cache(const struct m365_live *lv)
{
	return lv->cfg.cache != NULL && access(lv->cfg.cache, F_OK) == 0;
}

/* Says when the bundled list is old: Microsoft changes its list monthly. */
static void
warn_bundled_age(struct m365_live *lv)
{
	long long age = (long long)time(NULL) - M365_BUNDLED_PUBLISHED;

	if (age > M365_BUNDLED_OLD_S)
		live_log(lv, M365_LOG_WARNING,
		         "the bundled list (version %s) is %lld days old: "
		         "Microsoft has changed its list since; follow it "
		         "with m365ctl update and Redis, or give a newer list "
		         "file",
		         M365_BUNDLED_VERSION, age / 86400);
}

void
live_reload_initial(struct m365_live *lv, int cache_again)
{
	const struct m365_options *opt = &lv->cfg.opt;
	struct m365_endpoints *ep;
	struct m365_list *l = NULL;
	struct m365_err err;

	if (has_cache(lv) && (cache_changed(lv) || cache_again) &&
	    use_cache(lv))
		return;
	ep = opt->list ? m365_endpoints_load_file(opt->list, &err)
	               : m365_endpoints_load_bundled(&err);
	if (ep == NULL && opt->list && opt->names && opt->names->list)
		m365_err_prefix(&err, "%s", opt->names->list);
	if (ep == NULL || (l = live_build(lv, ep, &err)) == NULL) {
		live_log(lv, M365_LOG_ERROR,
		         "%s; answering ERR until a list loads", err.msg);
		lv->last_nag = (long long)time(NULL);
		return;
	}
	snprintf(lv->source, sizeof(lv->source), "%s",
	         opt->list ? opt->list : "bundled");
	live_swap(lv, l, "");
	live_gauges(lv, 0);
	if (opt->list == NULL)
		warn_bundled_age(lv);
}

/* The starting list: the policy and the local list first (either one
 * broken leaves the process with no list: fail closed), then the cache
 * when valid, else the list file or the bundled list. */
static void
load_initial(struct m365_live *lv)
{
	if (!lv->policy_ok) {
		live_log(lv, M365_LOG_ERROR,
		         "%s; answering ERR until a list loads",
		         lv->policy_err);
		lv->last_nag = (long long)time(NULL);
		return;
	}
	if (live_local_load(lv) < 0) {
		lv->last_nag = (long long)time(NULL);
		return;
	}
	live_reload_initial(lv, 0);
}

/* Puts the option's name in front of err's message; returns 1. */
static int
named(struct m365_err *err, const char *option)
{
	if (option != NULL)
		m365_err_prefix(err, "%s", option);
	return 1;
}

struct m365_live *
m365_live_new(const struct m365_live_config *cfg, struct m365_err *err)
{
	struct m365_live *lv = calloc(1, sizeof(*lv));
	struct m365_err perr;

	if (lv == NULL) {
		m365_err_set(err, M365_E_NOMEM, "out of memory");
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
	lv->limits.max = cfg->max_bytes ? cfg->max_bytes : M365_STORE_DOC_MAX;
	if ((cfg->redis &&
	     m365_redis_url_parse(cfg->redis, &lv->url,
	                          M365_OPTION_NAME(cfg->opt.names, redis, NULL),
	                          err) < 0) ||
	    (cfg->auth_file &&
	     m365_redis_auth_file(cfg->auth_file, &lv->url, err) < 0 &&
	     named(err, M365_OPTION_NAME(cfg->opt.names, auth_file, NULL))) ||
	    (cfg->verify_key &&
	     (lv->verify = m365_key_load_public(cfg->verify_key, err)) ==
	         NULL &&
	     named(err, M365_OPTION_NAME(cfg->opt.names, verify_key, NULL)))) {
		live_free(lv);
		return NULL;
	}
	lv->limits.verify = lv->verify;
	lv->policy_ok = m365_policy_init(&lv->policy, cfg->opt.categories,
	                                 cfg->opt.service_areas, cfg->opt.names,
	                                 &perr) == 0;
	if (!lv->policy_ok)
		snprintf(lv->policy_err, sizeof(lv->policy_err), "%s",
		         perr.msg);
	m365_farm_host(lv->host, sizeof(lv->host));
	load_initial(lv);
	/* after the starting list: a process seen following Redis has the
	 * list it starts with (or has said why not) */
	m365_metrics_set_redis(cfg->metrics, cfg->redis ? M365_REDIS_DOWN
	                                                : M365_REDIS_UNUSED);
	return lv;
}

void
m365_live_set_metrics(struct m365_live *lv, struct m365_metrics *m)
{
	lv->cfg.metrics = m;
	m365_metrics_set_redis(m, lv->cfg.redis ? M365_REDIS_DOWN
	                                        : M365_REDIS_UNUSED);
	live_gauges(lv, 0);
}

int
m365_live_follow(struct m365_live *lv, struct m365_err *err)
{
	struct m365_list *l;

	if (lv->running)
		return 0;
	if (lv->cfg.redis == NULL) {
		/* nothing to follow: a thread only to watch the local list,
		 * or to say there is no list */
		if (lv->cfg.opt.local == NULL &&
		    (l = m365_live_acquire(lv)) != NULL) {
			m365_list_unref(l);
			return 0;
		}
	} else if (has_cache(lv) && cache_changed(lv)) {
		/* a process forked long after the list was loaded (a c-icap
		 * child that replaces one) starts from what its siblings
		 * switched to */
		(void)use_cache(lv);
	}
	if (pipe2(lv->wake, O_CLOEXEC) < 0)
		return m365_err_set(err, M365_E_IO, "cannot make a pipe: %s",
		                    strerror(errno));
	if (pthread_create(&lv->thread, NULL, live_follow_thread, lv) != 0)
		return m365_err_set(err, M365_E_IO,
		                    "cannot start the Redis thread: %s",
		                    strerror(errno));
	lv->running = 1;
	return 0;
}

struct m365_live *
m365_live_start(const struct m365_live_config *cfg, struct m365_err *err)
{
	struct m365_live *lv = m365_live_new(cfg, err);

	if (lv != NULL && m365_live_follow(lv, err) < 0) {
		m365_live_stop(lv);
		return NULL;
	}
	return lv;
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
live_free(struct m365_live *lv)
{
	if (lv->wake[0] >= 0)
		close(lv->wake[0]);
	if (lv->wake[1] >= 0)
		close(lv->wake[1]);
	m365_list_unref(lv->list);
	while (lv->n_retired > 0)
		m365_list_unref(lv->retired[--lv->n_retired]);
	m365_local_index_unref(lv->loc);
	m365_policy_free(&lv->policy);
	m365_key_free(lv->verify);
	pthread_mutex_destroy(&lv->lock);
	free(lv);
}

/* Waits for the thread up to STOP_WAIT_MS; 1 when it has ended. */
static int
join_briefly(struct m365_live *lv)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += STOP_WAIT_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	return pthread_timedjoin_np(lv->thread, NULL, &until) == 0;
}

void
m365_live_reload(struct m365_live *lv)
{
	if (lv != NULL && lv->running) {
		ssize_t n = write(lv->wake[1], "r", 1);
		(void)n;
	}
}

int
m365_live_stop(struct m365_live *lv)
{
	if (lv == NULL)
		return 0;
	if (lv->running) {
		ssize_t n = write(lv->wake[1], "x", 1);
		(void)n;
		if (!join_briefly(lv)) {
			/* stuck in a Redis call: it frees lv when it ends */
			pthread_mutex_lock(&lv->lock);
			lv->orphan = !lv->done;
			pthread_mutex_unlock(&lv->lock);
			if (lv->orphan) {
				pthread_detach(lv->thread);
				return 1;
			}
			pthread_join(lv->thread, NULL);
		}
	}
	live_free(lv);
	return 0;
}
