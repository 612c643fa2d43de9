/*
 * ctl_changes.c - m365ctl changes [VERSION]: the change report recorded
 * when a version was published (see changes.h), from Redis or the state
 * directory, as text or JSON.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "connect.h"
#include "ctl.h"
#include "publish.h"

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: m365ctl changes [VERSION] [--json]\n"
	        "         [--redis URL] [--redis-prefix P] "
	        "[--redis-auth-file FILE]\n"
	        "         [--redis-sentinel HOST:PORT ... --redis-master "
	        "NAME]\n"
	        "         [--state-dir DIR]\n"
	        "\n"
	        "Prints what the publish of VERSION (default: the current "
	        "one)\n"
	        "added and removed, per endpoint set: names, address ranges "
	        "and\n"
	        "ports, and whether Microsoft's /changes agreed.  From Redis "
	        "with\n"
	        "--redis, else from DIR (default " STATE_DIR_DEFAULT ").\n"
	        "Exit status: 0 printed, 1 no report for that version, 2 "
	        "usage,\n"
	        "4 Redis or file system error.\n");
}

struct opts {
	struct ctl_redis ro;
	const char *prefix, *dir, *version;
	int json;
};

static int
options(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    CTL_REDIS_LONGOPTS,
	    {"state-dir", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if ((rc = ctl_redis_option("changes", &o->ro, &o->prefix, c,
		                           optarg)) == 2)
			return 2;
		if (rc == 1)
			continue;
		if (c == 'd')
			o->dir = optarg;
		else if (c == 'j')
			o->json = 1;
		else if (c == 'h') {
			usage(stdout);
			return -1;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		o->version = argv[optind++];
	if (optind != argc || (o->version && !m365_version_valid(o->version))) {
		fprintf(stderr, "m365ctl changes: bad arguments (one VERSION "
		                "at most, of [A-Za-z0-9._-])\n");
		usage(stderr);
		return 2;
	}
	return ctl_redis_check("changes", &o->ro);
}

/* The version in use, into v; 0, or the exit status. */
static int
current_version(redisContext *c, const struct opts *o, char *v)
{
	struct target t = {.cmd = "changes",
	                   .redis = c,
	                   .prefix = o->prefix,
	                   .state_dir = o->dir};
	struct current cur;
	struct m365_err err;

	if (publish_current(&t, &cur, &err) < 0) {
		fprintf(stderr, "m365ctl changes: %s\n", err.msg);
		return 4;
	}
	current_free(&cur);
	if (cur.version[0] == '\0') {
		fprintf(stderr,
		        "m365ctl changes: no version is published%s%s\n",
		        cur.why[0] ? ": " : "", cur.why);
		return 1;
	}
	snprintf(v, M365_VERSION_MAX + 1, "%s", cur.version);
	return 0;
}

/* Prints the report of version v; the exit status. */
static int
show(redisContext *c, const struct opts *o, const char *v)
{
	struct m365_err err;
	json_error_t je;
	char *text = changes_load(c, o->prefix, o->dir, v, &err);
	json_t *r;

	if (text == NULL) {
		fprintf(stderr, "m365ctl changes: version %s: %s\n", v,
		        err.msg);
		return ctl_exit_status(&err);
	}
	r = json_loads(text, 0, &je);
	if (!json_is_object(r)) {
		fprintf(stderr,
		        "m365ctl changes: version %s: the report is not a "
		        "JSON object (line %d: %s)\n",
		        v, je.line, r ? "not an object" : je.text);
		json_decref(r);
		free(text);
		return 1;
	}
	if (o->json)
		json_dumpf(r, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	else {
		changes_clean(r);
		changes_print(stdout, r, false);
	}
	if (o->json)
		putchar('\n');
	json_decref(r);
	free(text);
	return 0;
}

int
ctl_changes(int argc, char **argv)
{
	struct opts o = {.prefix = M365_STORE_PREFIX, .dir = STATE_DIR_DEFAULT};
	char v[M365_VERSION_MAX + 1];
	redisContext *c = NULL;
	int rc;

	if ((rc = options(argc, argv, &o)) != 0)
		return rc < 0 ? 0 : rc;
	if (ctl_redis_wanted(&o.ro) &&
	    (rc = ctl_redis_open("changes", &o.ro, &c)) != 0)
		return rc;
	if (o.version == NULL)
		rc = current_version(c, &o, v);
	else
		snprintf(v, sizeof(v), "%s", o.version);
	if (rc == 0)
		rc = show(c, &o, v);
	if (c)
		redisFree(c);
	return rc;
}
