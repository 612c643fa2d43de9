/*
 * ctl_import.c - m365ctl import FILE: publish a local snapshot (air-gapped
 * sites, rollbacks, tests) through the same validation as update.  With
 * --state-dir, each run is recorded there (runlog.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "changes.h"
#include "connect.h"
#include "ctl.h"
#include "fileio.h"
#include "publish.h"
#include "runlog.h"

#define IMPORT_MAX (64u << 20)

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: m365ctl import FILE [--redis URL] [--redis-prefix P]\n"
	    "         [--redis-auth-file FILE]\n"
	    "         [--redis-sentinel HOST:PORT ... --redis-master NAME]\n"
	    "         [--state-dir DIR] [--version V] [--sign-key FILE]\n"
	    "         [--max-growth FACTOR] [--force]\n"
	    "\n"
	    "Validates FILE (Microsoft endpoint JSON) and publishes it as\n"
	    "version V (default: local-<first 12 hex digits of its SHA-256>),\n"
	    "replacing a corrupt current version.\n"
	    "Exit status: 0 published, 1 refused, 2 usage, or FILE cannot be\n"
	    "read, 4 Redis or file system error.\n");
}

/* The snapshot of FILE: one read, so the bytes validated are the bytes
 * published.  0, or the exit status after err is set. */
static int
snapshot(const char *file, const char *version, struct m365_snapshot *s,
         struct m365_endpoints **neu, struct target *t, struct m365_err *err)
{
	char sum[65];

	memset(s, 0, sizeof(*s));
	if ((s->json = m365_read_file(file, IMPORT_MAX, &s->len, err)) == NULL)
		return err->code == M365_E_NOMEM ? 4 : 2;
	if ((*neu = m365_endpoints_parse(s->json, s->len, file, err)) == NULL) {
		t->refusal = "invalid";
		return 1;
	}
	m365_sha256_hex(s->json, s->len, sum);
	if (version)
		snprintf(s->version, sizeof(s->version), "%s", version);
	else
		snprintf(s->version, sizeof(s->version), "local-%.12s", sum);
	if (!m365_version_valid(s->version)) {
		m365_err_set(
		    err, M365_E_INPUT,
		    "--version: expected 1-64 characters of [A-Za-z0-9._-]");
		return 2;
	}
	s->published_at = (long long)time(NULL);
	publisher_name(s->published_by, sizeof(s->published_by));
	snprintf(s->source, sizeof(s->source), "import %s", file);
	return 0;
}

/* Validates and publishes FILE; the exit status, and the version
 * published into published[M365_VERSION_MAX + 1]. */
static int
import(const char *file, const char *version, struct target *t, char *published,
       struct m365_err *err)
{
	struct m365_endpoints *neu = NULL;
	struct m365_snapshot s;
	struct current cur = {.ep = NULL};
	char sum[300], was[1200];
	json_t *report = NULL;
	int rc;

	memset(&s, 0, sizeof(s));
	if ((rc = snapshot(file, version, &s, &neu, t, err)) != 0)
		goto out;
	rc = 4;
	if (publish_current(t, &cur, err) < 0 || pinned(t, err) < 0)
		goto out;
	rc = 1;
	if (t->pinned[0] != '\0' && !t->force) {
		t->refusal = "pinned";
		m365_err_set(err, M365_E_REFUSED,
		             "refused: version %s is pinned (m365ctl unpin, or "
		             "--force to publish and unpin)",
		             t->pinned);
		goto out;
	}
	if (publish_recover(t, &cur, true, err) < 0 ||
	    publish_check(t, cur.ep, neu, err) < 0) {
		rc = ctl_exit_status(err);
		goto out;
	}
	rc = 4;
	if ((report = publish_report(&cur, neu, &s, "imported from a file")) ==
	    NULL) {
		m365_err_set(err, M365_E_NOMEM, "out of memory");
		goto out;
	}
	if (publish_write(t, &s, report, err) < 0 ||
	    (t->pinned[0] != '\0' &&
	     m365_store_set_pin(t->redis, t->prefix, NULL, err) < 0))
		goto out;
	if (t->pinned[0] != '\0')
		printf("unpinned %s (--force)\n", t->pinned);
	printf("published %s (%s): %s\n", s.version,
	       publish_was(&cur, was, sizeof(was)),
	       publish_summary(cur.ep, neu, sum, sizeof(sum)));
	changes_print(stdout, report, true);
	snprintf(published, M365_VERSION_MAX + 1, "%s", s.version);
	rc = 0;
out:
	json_decref(report);
	m365_snapshot_free(&s);
	current_free(&cur);
	m365_endpoints_free(neu);
	return rc;
}

/* Records the run that started at started and ended with exit status rc
 * (err set unless 0) in the state directory, when there is one.  A usage
 * error (2: FILE or --version) is no run. */
static void
record(const struct target *t, long long started, int rc, const char *published,
       const struct m365_err *err)
{
	enum run_result res = rc == 0   ? RUN_PUBLISHED
	                      : rc == 1 ? RUN_REFUSED
	                                : RUN_ERROR;
	struct m365_err e;

	if (t->state_dir == NULL || rc == 2)
		return;
	if (mkdir(t->state_dir, 0755) < 0 && errno != EEXIST)
		return; /* publish_write() has said why */
	if (runlog_write(t->state_dir, started, res, rc ? err->msg : NULL,
	                 t->refusal, published, &e) < 0 &&
	    rc != 4)
		fprintf(stderr,
		        "m365ctl import: warning: run not recorded: %s\n",
		        e.msg);
}

/* The options; 0, or the exit status (after a message) to return. */
static int
options(int argc, char **argv, struct target *t, struct ctl_redis *ro,
        const char **version, const char **sign_key)
{
	static const struct option longopts[] = {
	    CTL_REDIS_LONGOPTS,
	    {"state-dir", required_argument, NULL, 'd'},
	    {"version", required_argument, NULL, 'V'},
	    {"sign-key", required_argument, NULL, 'k'},
	    {"max-growth", required_argument, NULL, 'g'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if ((rc = ctl_redis_option("import", ro, &t->prefix, c,
		                           optarg)) == 2)
			return 2;
		if (rc == 1)
			continue;
		switch (c) {
		case 'd': t->state_dir = optarg; break;
		case 'V': *version = optarg; break;
		case 'k': *sign_key = optarg; break;
		case 'g':
			if (ctl_parse_factor(optarg, &t->max_growth) < 0) {
				fprintf(
				    stderr,
				    "m365ctl import: --max-growth: expected "
				    "a number of at least 1, such as 2 or "
				    "1.5\n");
				return 2;
			}
			break;
		case 'f': t->force = true; break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 1 ||
	    (!ctl_redis_wanted(ro) && t->state_dir == NULL)) {
		fprintf(stderr, "m365ctl import: one FILE and --redis, "
		                "--redis-sentinel or --state-dir needed\n");
		usage(stderr);
		return 2;
	}
	return ctl_redis_check("import", ro);
}

int
ctl_import(int argc, char **argv)
{
	struct target t = {.cmd = "import",
	                   .prefix = M365_STORE_PREFIX,
	                   .max_growth = MAX_GROWTH_DEFAULT,
	                   .keep = M365_STORE_KEEP};
	struct ctl_redis ro = {.url = NULL};
	const char *version = NULL, *sign_key = NULL;
	char published[M365_VERSION_MAX + 1] = "";
	long long started = (long long)time(NULL);
	struct m365_key *key = NULL;
	struct m365_err err;
	int rc;

	if ((rc = options(argc, argv, &t, &ro, &version, &sign_key)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = ctl_sign_key("import", sign_key, &key)) != 0)
		return rc;
	t.key = key;
	if (ctl_redis_wanted(&ro) &&
	    (rc = ctl_redis_open("import", &ro, &t.redis)) != 0) {
		m365_err_set(&err, M365_E_REDIS, "cannot open Redis (exit %d)",
		             rc);
		record(&t, started, rc, published, &err);
		m365_key_free(key);
		return rc;
	}
	rc = import(argv[optind], version, &t, published, &err);
	if (rc != 0)
		fprintf(stderr, "m365ctl import: %s\n", err.msg);
	record(&t, started, rc, published, &err);
	if (t.redis)
		redisFree(t.redis);
	m365_key_free(key);
	return rc;
}
