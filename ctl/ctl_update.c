/*
 * ctl_update.c - m365ctl update: follow Microsoft's web service.
 *
 * Asks /version/<Instance> first and downloads /endpoints/<Instance> only
 * for a newer version; validates it completely, refuses what would hurt
 * (HTTP errors, 429, invalid or truncated documents, a list that loses more
 * than half of the current one) and publishes to Redis and the state
 * directory.  A lock in Redis keeps two updaters from racing.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "fetch.h"
#include "fileio.h"
#include "m365_redis.h"
#include "m365_text.h"
#include "publish.h"

#define BASE_URL_DEFAULT "https://endpoints.office.com"
#define BODY_MAX (64u << 20)
#define LOCK_TTL_MS 300000

struct update {
	const char *instance, *areas, *tenant, *base, *redis, *prefix, *dir;
	bool no_ipv6, force;
	long timeout;
	char guid[37];
};

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: m365ctl update [--instance "
	    "Worldwide|USGovDoD|USGovGCCHigh|China]\n"
	    "         [--service-areas LIST] [--tenant NAME] [--no-ipv6]\n"
	    "         [--base-url URL] [--redis URL] [--redis-prefix P]\n"
	    "         [--state-dir DIR] [--timeout SECONDS] [--force]\n"
	    "\n"
	    "Publishes Microsoft's newest endpoint list to Redis and DIR.\n"
	    "Exit status: 0 published or already current, 1 refused, 2 usage,\n"
	    "3 another update holds the lock, 4 network or Redis error.\n");
}

/* Only names the service accepts go into the query string. */
static int
query_safe(const char *s)
{
	return m365_token(s, strlen(s), 1024, ",._-");
}

/* The ClientRequestId: a random UUID made once and kept in the state dir. */
static int
client_id(struct update *u, struct m365_err *err)
{
	char path[4096], buf[64];
	unsigned char r[16];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/client-id", u->dir);
	if ((f = fopen(path, "r")) != NULL) {
		size_t n = fread(buf, 1, 36, f);
		fclose(f);
		buf[n] = '\0';
		if (n == 36 && strspn(buf, "0123456789abcdef-") == 36) {
			memcpy(u->guid, buf, 37);
			return 0;
		}
	}
	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return m365_err_set(err, M365_E_IO, "getrandom: %s",
		                    strerror(errno));
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	for (i = 0; i < 16; i++)
		snprintf(buf + 2 * i, 3, "%02x", r[i]);
	snprintf(u->guid, sizeof(u->guid), "%.8s-%.4s-%.4s-%.4s-%.12s", buf,
	         buf + 8, buf + 12, buf + 16, buf + 20);
	if (m365_write_file_atomic(path, u->guid, 36, err) < 0)
		return -1;
	return 0;
}

/* Refuses to call Microsoft again before a Retry-After it gave expires. */
static int
check_retry_after(const struct update *u, struct m365_err *err)
{
	char path[4096];
	long long until = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/retry-after", u->dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%lld", &until) != 1)
		until = 0;
	fclose(f);
	if (until > (long long)time(NULL))
		return m365_err_set(
		    err, M365_E_REFUSED,
		    "refused: Microsoft asked us to wait (HTTP 429) "
		    "for %lld more seconds",
		    until - (long long)time(NULL));
	return 0;
}

/* GETs url and refuses any answer but 200 (recording Retry-After). */
static int
get_ok(const struct update *u, const char *url, struct fetch_result *r,
       struct m365_err *err)
{
	char path[4096], until[32];

	if (fetch_get(url, u->timeout, BODY_MAX, r, err) < 0)
		return -1;
	if (r->status == 200)
		return 0;
	if (r->status == 429) {
		long wait = r->retry_after >= 0 ? r->retry_after : 3600;
		snprintf(path, sizeof(path), "%s/retry-after", u->dir);
		snprintf(until, sizeof(until), "%lld",
		         (long long)time(NULL) + wait);
		(void)m365_write_file_atomic(path, until, strlen(until), NULL);
		m365_err_set(err, M365_E_REFUSED,
		             "refused: %s answered 429 Too Many Requests; "
		             "retry after %ld seconds",
		             url, wait);
	} else {
		m365_err_set(err, M365_E_REFUSED,
		             "refused: %s answered HTTP %ld", url, r->status);
	}
	fetch_free(r);
	return -1;
}

/* Reads {"instance": .., "latest": "YYYYMMDDNN"}. */
static int
parse_version(const struct update *u, const struct fetch_result *r,
              char *latest, struct m365_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(r->body, r->len, 0, &je), *v;
	int rc = -1;

	if (root == NULL) {
		m365_err_set(err, M365_E_REFUSED,
		             "refused: version answer: line %d: %s", je.line,
		             je.text);
		return -1;
	}
	v = json_object_get(root, "latest");
	if (!json_is_string(v) || strlen(json_string_value(v)) != 10 ||
	    strspn(json_string_value(v), "0123456789") != 10)
		m365_err_set(
		    err, M365_E_REFUSED,
		    "refused: version answer has no 10-digit \"latest\"");
	else if (json_is_string(json_object_get(root, "instance")) &&
	         strcasecmp(
	             json_string_value(json_object_get(root, "instance")),
	             u->instance) != 0)
		m365_err_set(
		    err, M365_E_REFUSED,
		    "refused: version answer is for instance %s",
		    json_string_value(json_object_get(root, "instance")));
	else {
		memcpy(latest, json_string_value(v), 11);
		rc = 0;
	}
	json_decref(root);
	return rc;
}

/* Microsoft's versions (10 digits) compare as numbers; anything else
 * (an imported version) counts as older than any of Microsoft's. */
static int
is_newer(const char *latest, const char *current)
{
	if (current[0] == '\0')
		return 1;
	if (strlen(current) != 10 || strspn(current, "0123456789") != 10)
		return strcmp(latest, current) != 0;
	return strcmp(latest, current) > 0;
}

static int
run(struct update *u, struct target *t, struct m365_err *err)
{
	char url[2048], latest[11], cur[M365_VERSION_MAX + 1], sum[300];
	struct m365_endpoints *old = NULL, *neu = NULL;
	struct fetch_result r;
	struct m365_snapshot s;
	int rc = 4;

	snprintf(url, sizeof(url), "%s/version/%s?ClientRequestId=%s", u->base,
	         u->instance, u->guid);
	if (get_ok(u, url, &r, err) < 0)
		return ctl_exit_status(err);
	rc = parse_version(u, &r, latest, err);
	fetch_free(&r);
	if (rc < 0)
		return 1;
	if (publish_current(t, cur, sizeof(cur), &old, err) < 0)
		return 4;
	if (!u->force && !is_newer(latest, cur)) {
		printf("already current: version %s\n", cur);
		m365_endpoints_free(old);
		return 0;
	}
	snprintf(url, sizeof(url),
	         "%s/endpoints/%s?ClientRequestId=%s%s%s%s%s%s", u->base,
	         u->instance, u->guid, u->areas ? "&ServiceAreas=" : "",
	         u->areas ? u->areas : "", u->tenant ? "&TenantName=" : "",
	         u->tenant ? u->tenant : "", u->no_ipv6 ? "&NoIPv6=true" : "");
	rc = 4;
	if (get_ok(u, url, &r, err) < 0) {
		rc = ctl_exit_status(err);
		goto out;
	}
	rc = 1;
	if ((neu = m365_endpoints_parse(r.body, r.len, url, err)) == NULL) {
		m365_err_prefix(err, "refused"); /* an input error: exit 1 */
		goto out_body;
	}
	if (publish_check_shrink(old, neu, u->force, err) < 0)
		goto out_body;
	memset(&s, 0, sizeof(s));
	snprintf(s.version, sizeof(s.version), "%s", latest);
	s.json = r.body;
	s.len = r.len;
	s.published_at = (long long)time(NULL);
	publisher_name(s.published_by, sizeof(s.published_by));
	snprintf(s.source, sizeof(s.source), "%s/endpoints/%s", u->base,
	         u->instance);
	rc = 4;
	if (publish_write(t, &s, err) < 0)
		goto out_body;
	printf("published %s (was %s): %s\n", latest, cur[0] ? cur : "none",
	       publish_summary(old, neu, sum, sizeof(sum)));
	rc = 0;
out_body:
	fetch_free(&r);
out:
	m365_endpoints_free(old);
	m365_endpoints_free(neu);
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

int
ctl_update(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"instance", required_argument, NULL, 'i'},
	    {"service-areas", required_argument, NULL, 's'},
	    {"tenant", required_argument, NULL, 't'},
	    {"no-ipv6", no_argument, NULL, '6'},
	    {"base-url", required_argument, NULL, 'b'},
	    {"redis", required_argument, NULL, 'r'},
	    {"redis-prefix", required_argument, NULL, 'p'},
	    {"state-dir", required_argument, NULL, 'd'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	struct update u = {.instance = "Worldwide",
	                   .base = BASE_URL_DEFAULT,
	                   .prefix = M365_STORE_PREFIX,
	                   .dir = STATE_DIR_DEFAULT,
	                   .timeout = 30};
	struct target t = {.keep = M365_STORE_KEEP};
	struct m365_err err;
	char owner[200];
	int c, rc, locked = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': u.instance = optarg; break;
		case 's': u.areas = optarg; break;
		case 't': u.tenant = optarg; break;
		case '6': u.no_ipv6 = true; break;
		case 'b': u.base = optarg; break;
		case 'r': u.redis = optarg; break;
		case 'p': u.prefix = optarg; break;
		case 'd': u.dir = optarg; break;
		case 'T': u.timeout = strtol(optarg, NULL, 10); break;
		case 'f': u.force = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !valid_instance(u.instance) ||
	    (u.areas && !query_safe(u.areas)) ||
	    (u.tenant && !query_safe(u.tenant)) || u.timeout < 1 ||
	    u.timeout > 600) {
		fprintf(stderr,
		        "m365ctl update: bad arguments (instance must be "
		        "Worldwide, USGovDoD, USGovGCCHigh or China; names "
		        "[A-Za-z0-9,._-])\n");
		usage(stderr);
		return 2;
	}
	t.prefix = u.prefix;
	t.state_dir = u.dir;
	t.force = u.force;
	if (mkdir(u.dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "m365ctl update: %s: %s\n", u.dir,
		        strerror(errno));
		return 4;
	}
	if (client_id(&u, &err) < 0 || check_retry_after(&u, &err) < 0) {
		fprintf(stderr, "m365ctl update: %s\n", err.msg);
		return ctl_exit_status(&err);
	}
	if (u.redis) {
		if ((rc = ctl_redis_open("update", u.redis, &t.redis)) != 0)
			return rc;
		publisher_name(owner, sizeof(owner));
		if ((locked = m365_store_lock(t.redis, t.prefix, owner,
		                              LOCK_TTL_MS, &err)) <= 0) {
			fprintf(
			    stderr, "m365ctl update: %s\n",
			    locked < 0
			        ? err.msg
			        : "another update holds the lock; not running");
			redisFree(t.redis);
			return locked < 0 ? 4 : 3;
		}
	}
	rc = run(&u, &t, &err);
	if (rc != 0)
		fprintf(stderr, "m365ctl update: %s\n", err.msg);
	if (t.redis) {
		m365_store_unlock(t.redis, t.prefix, owner);
		redisFree(t.redis);
	}
	return rc;
}
