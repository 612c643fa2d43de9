/*
 * ctl_status.c - m365ctl status: a one-screen health check of this host's
 * processes, Redis, the farm, the state directory and the last update
 * (status.h gathers and judges, status_text.c and status_json.c print).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "m365_text.h"
#include "publish.h"
#include "status.h"

struct status {
	struct ctl_redis ro;
	const char *prefix, *dir, *verify_key, *metrics;
	long max_age;
	bool json;
	struct m365_key *key;
};

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: m365ctl status [--redis URL] [--redis-prefix P]\n"
	        "         [--redis-auth-file FILE] [--verify-key FILE]\n"
	        "         [--state-dir DIR] [--metrics DIR] [--max-age DAYS]\n"
	        "         [--json]\n"
	        "\n"
	        "A health check: the lists this host's processes use, the\n"
	        "version in Redis (its signature checked with --verify-key)\n"
	        "and the versions kept, the state directory's copy, the last\n"
	        "update, the farm's hosts, and what needs attention.\n"
	        "Exit status: 0 healthy, 1 something needs attention, 2 usage\n"
	        "or a bad --verify-key.\n");
}

/* The command line; 0, or the exit status (-1: 0 after --help). */
static int
options(int argc, char **argv, struct status *st)
{
	static const struct option longopts[] = {
	    {"redis", required_argument, NULL, 'r'},
	    {"redis-prefix", required_argument, NULL, 'p'},
	    {"redis-auth-file", required_argument, NULL, 'A'},
	    {"verify-key", required_argument, NULL, 'K'},
	    {"state-dir", required_argument, NULL, 'd'},
	    {"metrics", required_argument, NULL, 'm'},
	    {"max-age", required_argument, NULL, 'a'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': st->ro.url = optarg; break;
		case 'p': st->prefix = optarg; break;
		case 'A': st->ro.auth_file = optarg; break;
		case 'K': st->verify_key = optarg; break;
		case 'd': st->dir = optarg; break;
		case 'm': st->metrics = optarg; break;
		case 'a':
			if (m365_parse_long(optarg, 1, STATUS_MAX_AGE_MAX,
			                    &st->max_age) == 0)
				break;
			fprintf(stderr,
			        "m365ctl status: --max-age: expected whole "
			        "days from 1 to %d\n",
			        STATUS_MAX_AGE_MAX);
			return 2;
		case 'j': st->json = true; break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (st->verify_key && st->ro.url == NULL) {
		fprintf(stderr, "m365ctl status: --verify-key needs --redis\n");
		return 2;
	}
	return ctl_redis_check("status", &st->ro);
}

static int
load_key(struct status *st)
{
	struct m365_err err;

	if (st->verify_key == NULL ||
	    (st->key = m365_key_load_public(st->verify_key, &err)) != NULL)
		return 0;
	fprintf(stderr, "m365ctl status: %s\n", err.msg);
	return 2;
}

/* The state directory's copy and its run record. */
static void
dir_part(struct dir_part *d, const char *dir)
{
	struct target t = {.state_dir = dir};
	struct current cur;
	struct m365_err err;

	d->path = dir;
	publish_current(&t, &cur, NULL);
	snprintf(d->why, sizeof(d->why), "%s", cur.why);
	if (cur.ep) {
		snprintf(d->version, sizeof(d->version), "%s", cur.version);
		snprintf(d->params, sizeof(d->params), "%s", cur.params);
		d->sets = cur.ep->n_sets;
	}
	current_free(&cur);
	if ((d->run = runlog_read(dir, &d->rec, &err)) < 0)
		snprintf(d->run_why, sizeof(d->run_why), "%s", err.msg);
}

/* Gathers, judges and prints; the exit status. */
static int
report(const struct status *st, const struct m365_redis_url *ru)
{
	struct report *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL) {
		fprintf(stderr, "m365ctl status: out of memory\n");
		return 1;
	}
	r->now = (long long)time(NULL);
	r->max_age_days = st->max_age;
	status_host(&r->host, st->metrics);
	if (ru)
		status_redis(&r->redis, ru, st->prefix, st->key);
	dir_part(&r->dir, st->dir ? st->dir : STATE_DIR_DEFAULT);
	status_judge(r);
	if (r->redis.why[0])
		fprintf(stderr, "m365ctl status: %s\n", r->redis.why);
	rc = r->n_attention > 0;
	if (!st->json)
		status_print_text(r);
	else if (status_print_json(r) < 0) {
		fprintf(stderr, "m365ctl status: out of memory\n");
		rc = 1;
	}
	status_redis_free(&r->redis);
	status_host_free(&r->host);
	free(r);
	return rc;
}

int
ctl_status(int argc, char **argv)
{
	struct status st = {.prefix = M365_STORE_PREFIX,
	                    .max_age = STATUS_MAX_AGE_DEFAULT};
	struct m365_redis_url ru;
	int rc;

	if ((rc = options(argc, argv, &st)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = load_key(&st)) != 0)
		return rc;
	if (st.ro.url == NULL ||
	    (rc = ctl_redis_url("status", &st.ro, &ru)) == 0)
		rc = report(&st, st.ro.url ? &ru : NULL);
	m365_key_free(st.key);
	return rc;
}
