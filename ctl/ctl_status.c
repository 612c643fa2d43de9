/* ctl_status.c - m365ctl status: what Redis and the state dir hold. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "m365_redis.h"
#include "publish.h"

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: m365ctl status [--redis URL] [--redis-prefix P] "
	    "[--state-dir DIR]\n"
	    "\n"
	    "Prints the version in Redis, when and by whom it was published,\n"
	    "the versions kept for rollback, and the state directory's copy.\n"
	    "Exit status: 0, or 4 when Redis cannot be read or is corrupt.\n");
}

static void
print_time(long long t)
{
	char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s", buf);
}

static int
redis_status(redisContext *c, const char *prefix, struct m365_err *err)
{
	char v[M365_VERSION_MAX + 1];
	struct m365_snapshot s;
	struct m365_endpoints *ep;
	char **kept;
	int rc;
	size_t i;

	if ((rc = m365_store_current(c, prefix, v, err)) < 0)
		return -1;
	if (rc == 0) {
		printf("%-14s none (nothing published yet)\n", "current:");
		return 0;
	}
	if ((ep = m365_store_load(c, prefix, v, &s, err)) == NULL)
		return -1;
	printf("%-14s %s\n", "current:", v);
	printf("%-14s ", "published:");
	print_time(s.published_at);
	printf(" by %s\n%-14s %s\n", s.published_by, "source:", s.source);
	printf("%-14s %s\n", "sha256:", s.sha256);
	printf("%-14s %zu sets, %zu urls, %zu ips\n", "list:", ep->n_sets,
	       ep->n_urls, ep->n_ips);
	m365_endpoints_free(ep);
	m365_snapshot_free(&s);
	if ((kept = m365_store_versions(c, prefix, err)) == NULL)
		return -1;
	printf("%-14s", "kept:");
	for (i = 0; kept[i]; i++)
		printf(" %s", kept[i]);
	printf("\n");
	m365_strv_free(kept);
	return 0;
}

static void
dir_status(const char *dir)
{
	struct target t = {.state_dir = dir};
	struct m365_endpoints *ep;
	struct m365_err err;
	char v[M365_VERSION_MAX + 2];

	if (publish_current(&t, v, sizeof(v), &ep, &err) < 0)
		printf("%-14s %s: %s\n", "state dir:", dir, err.msg);
	else if (ep == NULL)
		printf("%-14s %s: no snapshot\n", "state dir:", dir);
	else
		printf("%-14s %s: version %s, %zu sets\n", "state dir:", dir, v,
		       ep->n_sets);
	m365_endpoints_free(ep);
}

int
ctl_status(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"redis", required_argument, NULL, 'r'},
	    {"redis-prefix", required_argument, NULL, 'p'},
	    {"state-dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *redis = NULL, *prefix = M365_STORE_PREFIX, *dir = NULL;
	struct m365_redis_url ru;
	struct m365_err err;
	redisContext *c;
	char where[300];
	int ch, rc = 0;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': redis = optarg; break;
		case 'p': prefix = optarg; break;
		case 'd': dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (redis == NULL && dir == NULL)) {
		fprintf(stderr,
		        "m365ctl status: --redis or --state-dir needed\n");
		return 2;
	}
	if (redis) {
		if (m365_redis_url_parse(redis, &ru, ctl_option_names.redis,
		                         &err) < 0) {
			fprintf(stderr, "m365ctl status: %s\n", err.msg);
			return 2;
		}
		printf("%-14s %s (prefix %s)\n", "redis:",
		       m365_redis_url_describe(&ru, where, sizeof(where)),
		       prefix);
		if ((c = m365_redis_connect(&ru, 5000, &err)) == NULL ||
		    redis_status(c, prefix, &err) < 0) {
			fprintf(stderr, "m365ctl status: %s\n", err.msg);
			rc = 4;
		}
		if (c)
			redisFree(c);
	}
	if (dir)
		dir_status(dir);
	return rc;
}
