/*
 * ctl_update.c - m365ctl update: follow Microsoft's web service.
 *
 * Asks /version/<Instance> first and downloads /endpoints/<Instance> only
 * for a newer version; validates it completely, refuses what would hurt
 * (HTTP errors, 429, redirects elsewhere, invalid or truncated documents,
 * a list too broad, or that loses more than half of the current one or
 * grows too much) and publishes to Redis and the state directory.  A lock
 * in Redis keeps two updaters from racing.  Every run is recorded in the
 * state directory (runlog.h) and a successful one in PREFIX "checked".
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "changes.h"
#include "connect.h"
#include "ctl.h"
#include "fetch.h"
#include "fileio.h"
#include "m365_text.h"
#include "notify.h"
#include "publish.h"
#include "runlog.h"
#include "update.h"

#define BASE_URL_DEFAULT "https://endpoints.office.com"
/* The lock outlives the longest run: two downloads and Redis's share. */
#define LOCK_TTL_MIN_S 300
#define LOCK_MARGIN_S 60

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: m365ctl update [--instance "
	    "Worldwide|USGovDoD|USGovGCCHigh|China]\n"
	    "         [--service-areas LIST] [--tenant NAME] [--no-ipv6]\n"
	    "         [--base-url URL] [--redis URL] [--redis-prefix P]\n"
	    "         [--redis-auth-file FILE]\n"
	    "         [--redis-sentinel HOST:PORT ... --redis-master NAME]\n"
	    "         [--state-dir DIR] [--timeout SECONDS] [--sign-key FILE]\n"
	    "         [--max-growth FACTOR] [--notify CMD] [--force]\n"
	    "\n"
	    "Publishes Microsoft's newest endpoint list to Redis and DIR, "
	    "with\n"
	    "its change report (m365ctl changes).  The parameters (instance,\n"
	    "service areas, tenant, --no-ipv6) are part of a version: other\n"
	    "ones download it again; another instance than the one published\n"
	    "is refused without --force.\n"
	    "Exit status: 0 published or already current, 1 refused, 2 usage,\n"
	    "3 another update holds the lock, 4 network, Redis or file system\n"
	    "error.\n");
}

/* Only names the service accepts go into the query string. */
static int
query_safe(const char *s)
{
	return m365_token(s, strlen(s), 1024, ",._-");
}

/* The downloaded list as the snapshot to publish. */
static void
snapshot(const struct update *u, const char *name, const struct fetch_result *r,
         struct m365_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->version, sizeof(s->version), "%s", name);
	snprintf(s->params, sizeof(s->params), "%s", u->params);
	s->json = r->body;
	s->len = r->len;
	s->published_at = (long long)time(NULL);
	publisher_name(s->published_by, sizeof(s->published_by));
	snprintf(s->source, sizeof(s->source), "%s/endpoints/%s", u->base,
	         u->instance);
}

/* How a run ended, for its record: published or current, and the version
 * it left current. */
struct outcome {
	enum run_result result;
	char version[M365_VERSION_MAX + 1];
	char previous[M365_VERSION_MAX + 1]; /* the version it replaced */
	char target[M365_VERSION_MAX + 1];   /* published or refused */
	json_t *report; /* the change report (published or refused) */
};

/* Downloads, checks and publishes version latest; the exit status. */
static int
publish_latest(struct update *u, struct target *t, const char *latest,
               const struct current *cur, struct outcome *out,
               struct m365_err *err)
{
	char url[2048], sum[300], was[1200];
	struct m365_endpoints *neu;
	struct fetch_result r;
	struct m365_snapshot s;
	int rc = 1;

	endpoints_url(u, url, sizeof(url));
	if (get_ok(u, url, &r, err) < 0)
		return ctl_exit_status(err);
	if ((neu = m365_endpoints_parse(r.body, r.len, url, err)) == NULL) {
		u->refusal = "invalid";
		m365_err_prefix(err, "refused"); /* an input error: exit 1 */
		goto out;
	}
	update_name(cur->version, latest, out->target, sizeof(out->target));
	snapshot(u, out->target, &r, &s);
	/* "not asked" until update_crosscheck() says what Microsoft said */
	if ((out->report = publish_report(cur, neu, &s, "refused before it")) ==
	    NULL) {
		rc = 4;
		m365_err_set(err, M365_E_NOMEM, "out of memory");
		goto out;
	}
	if (publish_check(t, cur->ep, neu, err) < 0) {
		rc = ctl_exit_status(err);
		goto out;
	}
	update_crosscheck(u, cur, neu, latest, out->report);
	rc = 4;
	if (publish_write(t, &s, out->report, err) < 0)
		goto out;
	printf("published %s (%s): %s\n", out->target,
	       publish_was(cur, was, sizeof(was)),
	       publish_summary(cur->ep, neu, sum, sizeof(sum)));
	changes_print(stdout, out->report, true);
	rc = 0;
out:
	fetch_free(&r);
	m365_endpoints_free(neu);
	return rc;
}

static int
run(struct update *u, struct target *t, struct outcome *out,
    struct m365_err *err)
{
	struct current cur;
	char latest[11];
	int rc;

	if ((rc = latest_version(u, latest, err)) != 0)
		return rc;
	if (publish_current(t, &cur, err) < 0)
		return 4;
	if (pinned(t, err) < 0) {
		current_free(&cur);
		return 4;
	}
	snprintf(out->previous, sizeof(out->previous), "%s", cur.version);
	if (t->pinned[0] != '\0') {
		/* the admin's choice, whatever Microsoft has (not --force) */
		printf("pinned at %s: version %s is not published (m365ctl "
		       "unpin lets it through)\n",
		       t->pinned, latest);
		out->result = RUN_CURRENT;
		snprintf(out->version, sizeof(out->version), "%s", cur.version);
	} else if (publish_recover(t, &cur, u->force, err) < 0 ||
	           update_instance_clash(u, t, &cur, err) < 0)
		rc = 1;
	else if (update_is_current(u, &cur, latest)) {
		printf("already current: version %s\n", cur.version);
		out->result = RUN_CURRENT;
		snprintf(out->version, sizeof(out->version), "%s", cur.version);
	} else if ((rc = publish_latest(u, t, latest, &cur, out, err)) == 0) {
		out->result = RUN_PUBLISHED;
		snprintf(out->version, sizeof(out->version), "%s", out->target);
	}
	if (rc == 0 && out->result == RUN_CURRENT &&
	    publish_sync_dir(t, &cur, err) < 0)
		rc = 4;
	current_free(&cur);
	return rc;
}

static int
valid_instance(const char *s)
{
	static const char *const names[] = {"Worldwide", "USGovDoD",
	                                    "USGovGCCHigh", "China"};
	size_t i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return 1;
	return 0;
}

static int
bad_number(const char *opt, const char *expected)
{
	fprintf(stderr, "m365ctl update: %s: expected %s\n", opt, expected);
	return 2;
}

/* One option of the command line; 0, or the exit status to return. */
static int
option(int c, struct update *u, struct target *t)
{
	switch (c) {
	case 'i': u->instance = optarg; break;
	case 's': u->areas = optarg; break;
	case 't': u->tenant = optarg; break;
	case '6': u->no_ipv6 = true; break;
	case 'b': u->base = optarg; break;
	case 'd': u->dir = optarg; break;
	case 'k': u->sign_key = optarg; break;
	case 'n': u->notify = optarg; break;
	case 'T':
		if (m365_parse_long(optarg, 1, 600, &u->timeout) < 0)
			return bad_number("--timeout",
			                  "whole seconds from 1 to 600");
		break;
	case 'g':
		if (ctl_parse_factor(optarg, &t->max_growth) < 0)
			return bad_number("--max-growth", "a number of at "
			                                  "least 1, such as "
			                                  "2 or 1.5");
		break;
	case 'f': u->force = t->force = true; break;
	case 'h': usage(stdout); return -1;
	default: usage(stderr); return 2;
	}
	return 0;
}

/* The command line; 0, or the exit status (-1: 0 after --help). */
static int
options(int argc, char **argv, struct update *u, struct target *t)
{
	static const struct option longopts[] = {
	    {"instance", required_argument, NULL, 'i'},
	    {"service-areas", required_argument, NULL, 's'},
	    {"tenant", required_argument, NULL, 't'},
	    {"no-ipv6", no_argument, NULL, '6'},
	    {"base-url", required_argument, NULL, 'b'},
	    CTL_REDIS_LONGOPTS,
	    {"state-dir", required_argument, NULL, 'd'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"sign-key", required_argument, NULL, 'k'},
	    {"max-growth", required_argument, NULL, 'g'},
	    {"notify", required_argument, NULL, 'n'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if ((rc = ctl_redis_option("update", &u->ro, &t->prefix, c,
		                           optarg)) == 2)
			return 2;
		if (rc == 0 && (rc = option(c, u, t)) != 0)
			return rc;
	}
	if (optind != argc || !valid_instance(u->instance) ||
	    (u->areas && !query_safe(u->areas)) ||
	    (u->tenant && !query_safe(u->tenant))) {
		fprintf(stderr,
		        "m365ctl update: bad arguments (instance must be "
		        "Worldwide, USGovDoD, USGovGCCHigh or China; names "
		        "[A-Za-z0-9,._-])\n");
		usage(stderr);
		return 2;
	}
	update_params(u, u->params, sizeof(u->params));
	return ctl_redis_check("update", &u->ro);
}

/* The lock covers the worst run: both downloads time out, and a margin. */
static int
lock_ttl_ms(long timeout_s)
{
	long s = 2 * timeout_s + LOCK_MARGIN_S;

	return (int)((s > LOCK_TTL_MIN_S ? s : LOCK_TTL_MIN_S) * 1000);
}

/* Connects and takes the lock; 0, or the exit status with err set (a
 * failed connection has printed its reason already). */
static int
lock(const struct update *u, struct target *t, const char *owner,
     struct m365_err *err)
{
	int rc, locked;

	if ((rc = ctl_redis_open("update", &u->ro, &t->redis)) != 0) {
		m365_err_set(err, M365_E_REDIS, "cannot open Redis (exit %d)",
		             rc);
		return rc;
	}
	locked = m365_store_lock(t->redis, t->prefix, owner,
	                         lock_ttl_ms(u->timeout), err);
	if (locked > 0)
		return 0;
	if (locked == 0)
		m365_err_set(err, M365_E_REDIS,
		             "another update holds the lock; not running");
	fprintf(stderr, "m365ctl update: %s\n", err->msg);
	redisFree(t->redis);
	t->redis = NULL;
	return locked < 0 ? 4 : 3;
}

/* SET PREFIX "checked" to now: Microsoft's newest is current.  A failure
 * is only a warning: the list is published. */
static void
mark_checked(const struct target *t)
{
	redisReply *r;
	char key[600];

	snprintf(key, sizeof(key), "%.500schecked", t->prefix);
	r = redisCommand(t->redis, "SET %s %lld", key, (long long)time(NULL));
	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		fprintf(stderr, "m365ctl update: warning: SET %s: %s\n", key,
		        r ? r->str : t->redis->errstr);
	freeReplyObject(r);
}

/* Records the run that started at started and ended with exit status rc
 * (err set unless 0) in the state directory. */
static void
record(const struct update *u, const struct target *t, long long started,
       int rc, const struct outcome *out, const struct m365_err *err)
{
	enum run_result res = rc == 0   ? out->result
	                      : rc == 1 ? RUN_REFUSED
	                      : rc == 3 ? RUN_LOCKED
	                                : RUN_ERROR;
	struct m365_err e;

	if (runlog_write(u->dir, started, res, rc ? err->msg : NULL,
	                 u->refusal ? u->refusal : t->refusal, out->version,
	                 &e) < 0 &&
	    rc != 4)
		fprintf(stderr,
		        "m365ctl update: warning: run not recorded: %s\n",
		        e.msg);
}

/* What comes before the run: the client id, Retry-After (nothing is
 * written yet). */
static int
prepare(struct update *u, struct m365_err *err)
{
	if (client_id(u, err) < 0 || check_retry_after(u, err) < 0)
		return -1;
	return 0;
}

/* --notify: a publish or a refusal. */
static void
tell(const struct update *u, int rc, struct outcome *out,
     const struct m365_err *err)
{
	struct notice n = {.version = out->target,
	                   .previous = out->previous,
	                   .reason = "",
	                   .report = out->report};

	if (rc == 0 && out->result == RUN_PUBLISHED)
		n.event = "published";
	else if (rc == 1) {
		n.event = "refused";
		n.reason = err->msg;
	}
	if (n.event != NULL)
		notify_run(u->notify, &n);
	json_decref(out->report);
	out->report = NULL;
}

/* Takes the lock (with Redis), runs, releases; records the run. */
static int
locked_run(struct update *u, struct target *t)
{
	struct outcome out = {.result = RUN_NONE};
	long long started = (long long)time(NULL);
	struct m365_err err;
	char owner[200];
	int rc;

	if (prepare(u, &err) < 0) {
		fprintf(stderr, "m365ctl update: %s\n", err.msg);
		rc = ctl_exit_status(&err);
		record(u, t, started, rc, &out, &err);
		return rc;
	}
	publisher_name(owner, sizeof(owner));
	if (ctl_redis_wanted(&u->ro) && (rc = lock(u, t, owner, &err)) != 0) {
		record(u, t, started, rc, &out, &err);
		return rc;
	}
	rc = run(u, t, &out, &err);
	if (rc != 0)
		fprintf(stderr, "m365ctl update: %s\n", err.msg);
	tell(u, rc, &out, &err);
	if (t->redis) {
		if (rc == 0)
			mark_checked(t);
		m365_store_unlock(t->redis, t->prefix, owner);
		redisFree(t->redis);
	}
	record(u, t, started, rc, &out, &err);
	return rc;
}

int
ctl_update(int argc, char **argv)
{
	struct update u = {.instance = "Worldwide",
	                   .base = BASE_URL_DEFAULT,
	                   .dir = STATE_DIR_DEFAULT,
	                   .timeout = 30};
	struct target t = {.cmd = "update",
	                   .prefix = M365_STORE_PREFIX,
	                   .max_growth = MAX_GROWTH_DEFAULT,
	                   .keep = M365_STORE_KEEP};
	struct m365_key *key = NULL;
	int rc;

	if ((rc = options(argc, argv, &u, &t)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = ctl_sign_key("update", u.sign_key, &key)) != 0)
		return rc;
	t.state_dir = u.dir;
	t.key = key;
	rc = locked_run(&u, &t);
	m365_key_free(key);
	return rc;
}
