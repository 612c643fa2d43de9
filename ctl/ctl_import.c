/*
 * ctl_import.c - m365ctl import FILE: publish a local snapshot (air-gapped
 * sites, rollbacks, tests) through the same validation as update.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "fileio.h"
#include "m365_redis.h"
#include "publish.h"

#define IMPORT_MAX (64u << 20)

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: m365ctl import FILE [--redis URL] [--redis-prefix P]\n"
	    "         [--state-dir DIR] [--version V] [--force]\n"
	    "\n"
	    "Validates FILE (Microsoft endpoint JSON) and publishes it as\n"
	    "version V (default: local-<first 12 hex digits of its SHA-256>).\n"
	    "Exit status: 0 published, 1 refused, 2 usage, 4 Redis error.\n");
}

static int
import(const char *file, const char *version, struct target *t,
       struct m365_err *err)
{
	struct m365_endpoints *old = NULL, *neu;
	struct m365_snapshot s;
	char cur[M365_VERSION_MAX + 1], sum[300], *buf;
	size_t len;
	int rc = 1;

	memset(&s, 0, sizeof(s));
	/* one read: the bytes validated are the bytes published */
	if ((buf = m365_read_file(file, IMPORT_MAX, &len, err)) == NULL)
		return 1;
	if ((neu = m365_endpoints_parse(buf, len, file, err)) == NULL) {
		free(buf);
		return 1;
	}
	s.json = buf;
	s.len = len;
	m365_sha256_hex(buf, s.len, s.sha256);
	if (version)
		snprintf(s.version, sizeof(s.version), "%s", version);
	else
		snprintf(s.version, sizeof(s.version), "local-%.12s", s.sha256);
	if (!m365_version_valid(s.version)) {
		m365_err_set(
		    err, M365_E_INPUT,
		    "--version: expected 1-64 characters of [A-Za-z0-9._-]");
		rc = 2;
		goto out;
	}
	if (publish_current(t, cur, sizeof(cur), &old, err) < 0) {
		rc = 4;
		goto out;
	}
	if (publish_check_shrink(old, neu, t->force, err) < 0)
		goto out;
	s.published_at = (long long)time(NULL);
	publisher_name(s.published_by, sizeof(s.published_by));
	snprintf(s.source, sizeof(s.source), "import %s", file);
	if (publish_write(t, &s, err) < 0) {
		rc = 4;
		goto out;
	}
	printf("published %s (was %s): %s\n", s.version, cur[0] ? cur : "none",
	       publish_summary(old, neu, sum, sizeof(sum)));
	rc = 0;
out:
	free(buf);
	m365_endpoints_free(old);
	m365_endpoints_free(neu);
	return rc;
}

int
ctl_import(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"redis", required_argument, NULL, 'r'},
	    {"redis-prefix", required_argument, NULL, 'p'},
	    {"state-dir", required_argument, NULL, 'd'},
	    {"version", required_argument, NULL, 'V'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	struct target t = {.prefix = M365_STORE_PREFIX,
	                   .keep = M365_STORE_KEEP};
	const char *redis = NULL, *version = NULL;
	struct m365_err err;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': redis = optarg; break;
		case 'p': t.prefix = optarg; break;
		case 'd': t.state_dir = optarg; break;
		case 'V': version = optarg; break;
		case 'f': t.force = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 1 || (redis == NULL && t.state_dir == NULL)) {
		fprintf(stderr, "m365ctl import: one FILE and --redis or "
		                "--state-dir needed\n");
		usage(stderr);
		return 2;
	}
	if (redis) {
		if ((rc = ctl_redis_open("import", redis, &t.redis)) != 0)
			return rc;
	}
	rc = import(argv[optind], version, &t, &err);
	if (rc != 0)
		fprintf(stderr, "m365ctl import: %s\n", err.msg);
	if (t.redis)
		redisFree(t.redis);
	return rc;
}
